"""Read the raw folder: every ledger file into sheets of cells, exactly as Excel shows them.

This is the only module that opens files in the raw folder, and it only ever reads them (each file
is read once into memory, hashed, and parsed from those bytes). Nothing is written, renamed or
"fixed" there.

Readers:

* ``.xlsx``, ``.xlsm``, ``.xls``, ``.xlsb``, ``.ods`` through python-calamine (fast, Rust): cached values of
  formulas, real dates as ``datetime.date``/``datetime``, numbers as ``float``, merged-cell ranges
  and sheet visibility;
* ``.csv`` in UTF-8 (with or without BOM) or GB18030/GBK, detected without asking the user.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import InputError

__all__ = [
    "EXCEL_SUFFIXES",
    "RawFile",
    "RawSheet",
    "decode_csv",
    "list_raw_files",
    "prefetch_raw_files",
    "read_raw_file",
]

log = logging.getLogger(__name__)

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
CSV_SUFFIXES = (".csv",)


@dataclass
class RawSheet:
    """One sheet of a raw ledger, cells as the reader returned them.

    Attributes
    ----------
    file
        The file's path relative to the raw folder (POSIX separators), as used in ``origin``.
    sheet
        The sheet name (for a CSV file: the file name without its suffix).
    rows
        Cells row by row; ``rows[i][j]`` is Excel row ``i + 1``, column ``j + 1``. Empty cells are
        ``""``. Rows may have different lengths.
    merged
        Merged ranges as ``(first_row, first_col, last_row, last_col)``, 0-based and inclusive.
    hidden
        The sheet is hidden (or very hidden) in the workbook.
    """

    file: str
    sheet: str
    rows: Sequence[Sequence[object]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden: bool = False


@dataclass
class RawFile:
    """One input file: its identity for the manifest and its sheets."""

    file: str
    size_bytes: int
    sha256: str
    sheets: list[RawSheet]
    encoding: str | None = None


def list_raw_files(raw_dir: Path) -> list[Path]:
    """The ledger files of ``raw_dir`` (recursively), sorted; temporary ``~$`` files are ignored.

    Raises
    ------
    InputError
        When the folder does not exist or holds no ledger file.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise InputError(f"原始台账文件夹不存在: {raw_dir} (give the folder holding the ledgers)")
    suffixes = EXCEL_SUFFIXES + CSV_SUFFIXES
    files = sorted(
        p
        for p in raw_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(("~$", "."))
    )
    if not files:
        raise InputError(
            f"原始台账文件夹为空: {raw_dir} holds no .xlsx/.xlsm/.xls/.csv ledger",
            file=str(raw_dir),
        )
    return files


_EXPECTED_CHARS = re.compile(
    "[\t\n\r\x20-\x7e\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f\u2100-\u218f\u2460-\u24ff"
    "\u2e80-\u2fdf\u3000-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f"
    "\uff00-\uffef]"
)


def _plausibility(text: str) -> float:
    """Share of characters a Chinese office ledger plausibly holds (ASCII, CJK, CJK punctuation)."""
    return len(_EXPECTED_CHARS.findall(text)) / len(text) if text else 1.0


def decode_csv(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 with BOM, UTF-8, or GB18030 (a superset of GBK and GB2312).

    A BOM decides at once. Otherwise bytes that are not valid UTF-8 are GB18030. Bytes valid in
    both (possible for short GBK texts: ``膜`` in GBK is ``Ĥ`` in UTF-8) go to the decoding whose
    characters are the more plausible for a Chinese ledger; ties go to UTF-8.

    Returns
    -------
    (text, encoding)
        The decoded text and the name of the encoding that decoded it.

    Raises
    ------
    UnicodeDecodeError
        When no candidate decodes the bytes.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        utf8 = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"
    if utf8.isascii():
        return utf8, "utf-8"
    try:
        gb = data.decode("gb18030")
    except UnicodeDecodeError:
        return utf8, "utf-8"
    if _plausibility(gb) > _plausibility(utf8):
        return gb, "gb18030"
    return utf8, "utf-8"


def _read_csv(name: str, data: bytes) -> tuple[list[RawSheet], str]:
    try:
        text, encoding = decode_csv(data)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"CSV 编码无法识别 (not UTF-8 nor GB18030/GBK at byte {exc.start}); "
            "save it again as UTF-8 or GBK",
            file=name,
        ) from None
    if "\x00" in text:
        raise InputError("文件损坏或不是 CSV 文本 (contains NUL bytes)", file=name)
    try:
        rows: list[list[object]] = []
        reader = csv.reader(io.StringIO(text, newline=""))
        lines_read = 0
        for record in reader:
            # A quoted cell spanning several lines: pad with empty rows so that every record
            # keeps the line number a person sees (its first line) in ``origin``.
            rows.extend([] for _ in range(lines_read - len(rows)))
            rows.append(list(record))
            lines_read = reader.line_num
    except csv.Error as exc:
        raise InputError(f"CSV 格式错误: {exc}", file=name) from None
    return [RawSheet(file=name, sheet=Path(name).stem, rows=rows)], encoding


def _read_excel(name: str, data: bytes) -> list[RawSheet]:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - calamine raises many error types for corrupt files
        raise InputError(
            f"文件无法读取，可能已损坏或不是 Excel 文件 ({type(exc).__name__}: {exc}); "
            "open it in Excel and save it again",
            file=name,
        ) from None
    sheets = []
    try:
        for meta in wb.sheets_metadata:
            if str(meta.typ).split(".")[-1] != "WorkSheet":
                log.info(
                    "%s: sheet %s is a %s, not a worksheet; skipped", name, meta.name, meta.typ
                )
                continue
            sh = wb.get_sheet_by_name(meta.name)
            rows = sh.to_python(skip_empty_area=False)
            merged = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sh.merged_cell_ranges or [])]
            hidden = str(meta.visible).split(".")[-1] != "Visible"
            sheets.append(RawSheet(name, meta.name, rows, merged, hidden))
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file, never a traceback
        raise InputError(
            f"工作表无法读取 ({type(exc).__name__}: {exc}); the file may be truncated",
            file=name,
        ) from None
    finally:
        wb.close()
    return sheets


class _Prefetch:
    """Workbooks read ahead by one background thread: path → (bytes, sheets)."""

    def __init__(self, paths: list[tuple[Path, str]]) -> None:
        self.paths = {path: name for path, name in paths}
        self.done: dict[Path, tuple[bytes, list[RawSheet]]] = {}
        # not a daemon: a run that ends early (a bad profile, an interrupt) waits for the read to
        # finish instead of stopping the thread inside the Rust reader at interpreter exit
        self.thread = threading.Thread(target=self._run, name="zs-prefetch", daemon=False)

    def _run(self) -> None:
        for path, name in self.paths.items():
            try:
                data = path.read_bytes()
                self.done[path] = (data, _read_excel(name, data))
            except Exception:  # noqa: BLE001, S112 - the real read meets and reports the fault
                continue

    def take(self, path: Path, name: str) -> tuple[bytes, list[RawSheet]] | None:
        """The read-ahead bytes and sheets of ``path`` (once), waiting for the thread."""
        if self.paths.get(path) != name:
            return None
        self.thread.join()
        del self.paths[path]
        return self.done.pop(path, None)


#: The read-ahead under way (at most one: a later call replaces it), with its lock.
_AHEAD: list[_Prefetch] = []
_AHEAD_LOCK = threading.Lock()


def prefetch_raw_files(raw_dir: str | Path) -> None:
    """Start reading the workbooks of ``raw_dir`` in a background thread (a head start).

    ``zhengshou clean`` calls it before importing pandas: python-calamine parses a workbook
    without holding the GIL, so the read and the imports share the two cores. The next
    :func:`read_raw_file` of each workbook takes what was read, and only when the file's bytes
    are still exactly those parsed (a workbook saved in between is read again); anything that
    went wrong here (a missing folder, a corrupt file) is met and reported by that read. CSV files
    are not read ahead. The thread ends when the files are read; it holds no lock on any file.

    Parameters
    ----------
    raw_dir
        The raw folder (read-only).
    """
    raw_dir = Path(raw_dir)
    try:
        files = list_raw_files(raw_dir)
    except (InputError, OSError):
        return
    paths = [
        (p, p.relative_to(raw_dir).as_posix())
        for p in files
        if p.suffix.lower() not in CSV_SUFFIXES
    ]
    if not paths:
        return
    ahead = _Prefetch(paths)
    with _AHEAD_LOCK:
        _AHEAD[:] = [ahead]
    ahead.thread.start()


def _take_prefetched(path: Path, name: str, data: bytes) -> list[RawSheet] | None:
    """The read-ahead sheets of ``path`` if they were parsed from exactly ``data``."""
    with _AHEAD_LOCK:
        ahead = _AHEAD[0] if _AHEAD else None
    if ahead is None:
        return None
    got = ahead.take(path, name)
    if not ahead.paths:  # every file taken: the read-ahead is over
        with _AHEAD_LOCK:
            if _AHEAD and _AHEAD[0] is ahead:
                _AHEAD.clear()
    if got is None or got[0] != data:
        return None
    return got[1]


def read_raw_file(path: Path, raw_dir: Path) -> RawFile:
    """Read one ledger file (read-only) into its sheets.

    Parameters
    ----------
    path
        The file.
    raw_dir
        The raw folder; ``file`` names are relative to it.

    Raises
    ------
    InputError
        When the file cannot be read (corrupt, truncated, unknown encoding), naming the file.
    """
    path = Path(path)
    name = path.relative_to(raw_dir).as_posix()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"文件无法打开: {exc.strerror}", file=name) from None
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in CSV_SUFFIXES:
        sheets, encoding = _read_csv(name, data)
    else:
        if not data:
            raise InputError("文件为空 (0 bytes); the workbook is corrupt", file=name)
        ahead = _take_prefetched(path, name, data)
        sheets, encoding = (_read_excel(name, data) if ahead is None else ahead), None
    return RawFile(name, len(data), digest, sheets, encoding)
