"""Workbooks of plain tables, written fast and in bounded memory (``.xlsx``, Office Open XML).

:func:`write_table_workbook` writes one sheet per table: a bold header row, frozen; then one row
per record, text as inline strings (never formulas: ``=1+1`` stays text), numbers as numbers,
dates as date serials with a ``yyyy-mm-dd`` format, NA as an empty cell; each column as wide as
its widest cell (CJK counting 2, :func:`cjk_width`); the document's title, author and creation
time. Each sheet's XML is built column by column with pyarrow, a bounded chunk of rows at a time,
and streamed into its zip entry, so a sheet of a million rows never holds its cells as Python
objects; the same tables give the same bytes (fixed zip timestamps).

The cells are those xlsxwriter writes for ``write_string``/``write_number``/``write_datetime``:
numbers as ``{:.16g}``, date serials from 1899-12-31 with Excel's 1900 leap day, text longer
than Excel's 32,767 UTF-16 units cut there (:data:`EXCEL_MAX_CHARS`), control characters that
XML 1.0 forbids written as ``_xHHHH_`` (a literal ``_xHHHH_`` as ``_x005F_xHHHH_``), as Excel
itself does; ``&``, ``<``, ``>`` escaped; rows past :data:`EXCEL_MAX_ROWS` left out (logged).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Literal
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "EXCEL_MAX_CHARS",
    "EXCEL_MAX_ROWS",
    "CellKind",
    "TableSheet",
    "cjk_width",
    "column_width",
    "escape_text",
    "excel_serials",
    "write_table_workbook",
]

log = logging.getLogger(__name__)

#: Excel's last row (1-based count); a sheet holds at most this many rows, the header included.
EXCEL_MAX_ROWS = 1_048_576
#: Excel's longest cell text, in UTF-16 code units (a character above U+FFFF counts 2).
EXCEL_MAX_CHARS = 32_767

#: How a column's cells are written: text, a number, or a date (serial with ``yyyy-mm-dd``).
CellKind = Literal["text", "number", "date"]

#: Full-width characters (CJK, Hangul, full-width forms): two columns wide in a spreadsheet.
_WIDE_RANGES = (
    (0x1100, 0x115F),
    (0x2E80, 0xA4CF),
    (0xAC00, 0xD7A3),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFF60),
    (0xFFE0, 0xFFE6),
)
_WIDE = re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in _WIDE_RANGES) + "]")


def cjk_width(text: str) -> int:
    """The width of ``text`` in a spreadsheet column, a CJK or full-width character counting 2."""
    s = str(text)
    return len(s) + len(_WIDE.findall(s))


def column_width(chars: float) -> float:
    """The ``<col width>`` Excel stores for a column ``chars`` characters wide (Calibri 11).

    Excel rounds to whole pixels (7 per character, 5 of padding) and stores 1/256 characters:
    10 → 10.7109375, as Excel and xlsxwriter write it.
    """
    if chars <= 0:
        return 0.0
    pixels = int(chars * 12 + 0.5) if chars < 1 else int(chars * 7 + 0.5) + 5
    return (pixels * 256 // 7) / 256.0


@dataclass(frozen=True)
class TableSheet:
    """One table as a sheet.

    Attributes
    ----------
    name
        The sheet's name (at most 31 characters, none of ``[]:*?/\\``).
    frame
        The rows; its columns in order are the sheet's (not modified).
    headers
        One header per column of ``frame``.
    kinds
        One :data:`CellKind` per column of ``frame``.
    labels
        Per column name, text written instead of a value (``per_m2`` → ``按面积``); other values
        as they are.
    """

    name: str
    frame: pd.DataFrame
    headers: Sequence[str]
    kinds: Sequence[CellKind]
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.frame.columns)
        if len(self.headers) != n or len(self.kinds) != n:
            raise ValueError(
                f"sheet {self.name!r}: {n} columns but {len(self.headers)} headers "
                f"and {len(self.kinds)} kinds"
            )
        if not self.name or len(self.name) > 31 or re.search(r"[\[\]:*?/\\]", self.name):
            raise ValueError(f"sheet name {self.name!r} is not one Excel accepts")


# --------------------------------------------------------------------------------------------------
# cells: one pyarrow array of XML fragments per column


_STR = pa.large_string()
#: Excel's escape of characters XML 1.0 forbids (and of a literal ``_xHHHH_``, first).
_LITERAL_ESCAPE = "_x[0-9a-fA-F]{4}_"
#: Each ``_`` that starts one, overlapping ones included (xlsxwriter misses the second of
#: ``_x0041_x0042_``, which Excel then reads as ``B``).
_LITERAL_PY = re.compile("_(?=x[0-9a-fA-F]{4}_)")
_FORBIDDEN_CHARS = [*range(0x09), *range(0x0B, 0x20), 0xFFFE, 0xFFFF]
#: 1899-12-31 (Excel's day 0, 1900 system) to 1970-01-01, in microseconds.
_EPOCH_US = 25_568 * 86_400 * 1_000_000
_DAY_US = 86_400 * 1_000_000


def _column_letter(j: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``."""
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _replaced_where(where: pa.Array, text: pa.Array, change: Callable[[str], str]) -> pa.Array:
    """``text`` with ``change`` applied (in Python) to the strings where ``where`` is true."""
    at = np.flatnonzero(pc.fill_null(where, False).to_numpy(zero_copy_only=False))
    changed = pa.array([change(s) for s in pc.take(text, pa.array(at)).to_pylist()], _STR)
    positions = np.full(len(text), -1, dtype=np.int64)
    positions[at] = np.arange(len(at))
    return pc.if_else(where, pc.take(changed, pa.array(positions, mask=positions < 0)), text)


def _excel_cut(text: str) -> str:
    """``text`` cut to :data:`EXCEL_MAX_CHARS` UTF-16 units, a surrogate pair never split."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > EXCEL_MAX_CHARS:
            log.warning("a text of %d characters cut to Excel's %d", len(text), EXCEL_MAX_CHARS)
            return text[:i]
    return text


def _truncated(text: pa.Array) -> pa.Array:
    """Texts longer than :data:`EXCEL_MAX_CHARS` UTF-16 units cut there (as xlsxwriter does)."""
    long = pc.greater(pc.binary_length(text), EXCEL_MAX_CHARS)  # UTF-8 bytes ≥ UTF-16 units
    return _replaced_where(long, text, _excel_cut) if pc.any(long).as_py() else text


def escape_text(text: pa.Array) -> pa.Array:
    """Cell texts as the content of ``<t>``: Excel's ``_xHHHH_`` escapes, then ``& < >``.

    Parameters
    ----------
    text
        pyarrow strings (nulls stay null).

    Returns
    -------
    pyarrow.Array
        Large strings: a literal ``_xHHHH_`` as ``_x005F_xHHHH_``, a character XML 1.0 forbids
        (U+0000–U+0008, U+000B–U+001F, U+FFFE, U+FFFF) as ``_xHHHH_``, ``&``, ``<``, ``>`` as
        entities; tab and line feed as they are. Excel (and calamine) read back the text.
    """
    text = text.cast(_STR)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    data = _value_bytes(text)  # the checks below look at bytes (numpy), the rare fixes at strings
    if pc.any(pc.match_substring(text, "_x")).as_py():
        literal = pc.match_substring_regex(text, _LITERAL_ESCAPE)
        if pc.any(literal).as_py():  # in Python, for the overlapping ``_x0041_x0042_``
            text = _replaced_where(literal, text, lambda s: _LITERAL_PY.sub("_x005F_", s))
    control = (data < 0x20) & (data != 0x09) & (data != 0x0A)
    nonchar = (data[:-2] == 0xEF) & (data[1:-1] == 0xBF) & (data[2:] >= 0xBE)  # U+FFFE, U+FFFF
    if control.any() or nonchar.any():
        for code in _FORBIDDEN_CHARS:
            ch = chr(code)
            if pc.any(pc.match_substring(text, ch)).as_py():
                text = pc.replace_substring(text, ch, f"_x{code:04X}_")
    for ch, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        if (data == ord(ch)).any():
            text = pc.replace_substring(text, ch, entity)
    return text


def _value_bytes(text: pa.Array) -> np.ndarray:
    """The UTF-8 bytes of the strings of ``text`` (large strings), one after another."""
    if len(text) == 0 or text.buffers()[2] is None:
        return np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)
    start, end = offsets[text.offset], offsets[text.offset + len(text)]
    return np.frombuffer(text.buffers()[2], dtype=np.uint8)[start:end]


def _max_width(text: pa.Array) -> int:
    """The largest :func:`cjk_width` of ``text`` (large strings), from the UTF-8 bytes.

    Every full-width character lies in U+1100–U+FFE6, written in three bytes: each such
    character found (lead byte ``1110xxxx``) adds one to its string's length in characters.
    """
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    chars = pc.fill_null(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False)
    if len(chars) == 0:
        return 0
    data = _value_bytes(text)
    lead = np.flatnonzero((data[:-2] & 0xF0) == 0xE0)
    code = (
        (data[lead].astype(np.int64) & 0x0F) << 12
        | (data[lead + 1].astype(np.int64) & 0x3F) << 6
        | (data[lead + 2].astype(np.int64) & 0x3F)
    )
    wide = np.zeros(len(code), dtype=bool)
    for a, b in _WIDE_RANGES:
        wide |= (code >= a) & (code <= b)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[
        text.offset : text.offset + len(text) + 1
    ]
    owner = np.searchsorted(offsets - offsets[0], lead[wide], side="right") - 1
    valid = pc.is_valid(text).to_numpy(zero_copy_only=False)
    counts = np.bincount(owner, minlength=len(chars))[: len(chars)] * valid
    return int((chars + counts).max())


def _to_arrow(values: pd.Series) -> pa.Array:
    arr = pa.array(values, from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


@dataclass
class _Column:
    """A column ready to write: the text of each cell's value (null: empty) and its style."""

    values: pa.Array  # large strings: escaped text, or a number as written
    kind: CellKind
    width: int  # the widest cell, in characters (CJK 2)


def _text_column(values: pd.Series, labels: Mapping[str, str]) -> _Column:
    if values.dtype != "str":
        values = values.astype("str")  # str(v), NA kept
    arr = _to_arrow(values).cast(_STR)
    if labels:
        keys = pa.array(list(labels), _STR)
        at = pc.index_in(arr, value_set=keys)
        arr = pc.if_else(pc.is_valid(at), pc.take(pa.array(list(labels.values()), _STR), at), arr)
    return _Column(escape_text(_truncated(arr)), "text", _max_width(arr))


def _numbers_written(numbers: np.ndarray) -> tuple[pa.Array, int]:
    """Each finite number as written (``{:.16g}``, once per distinct value; null: NaN) and the
    widest as ``{:g}``."""
    finite = np.isfinite(numbers)
    if (~finite & ~np.isnan(numbers)).any():
        log.warning(
            "%d infinite number(s) left empty (a workbook cell cannot hold one)",
            int((~finite & ~np.isnan(numbers)).sum()),
        )
    distinct, inverse = np.unique(numbers[finite], return_inverse=True)
    written = pa.array([f"{v:.16g}" for v in distinct.tolist()], _STR)
    width = max((len(f"{v:g}") for v in distinct.tolist()), default=0)
    at = np.full(len(numbers), -1, dtype=np.int64)
    at[finite] = inverse
    return pc.take(written, pa.array(at, mask=at < 0)), width


def _number_column(values: pd.Series) -> _Column:
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        values = pd.to_numeric(values)
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    written, width = _numbers_written(numbers)
    return _Column(written, "number", width)


def excel_serials(values: pd.Series) -> np.ndarray:
    """Dates and times as Excel serials (1900 system; NaN for NaT), as xlsxwriter computes them.

    Days since 1899-12-31 plus the fraction of the day; 1900-01-01 is day 0 (Excel's quirk for a
    time on that day) and every day after 1900-02-28 one more, for Excel's 1900 leap day. A
    timezone, if any, is dropped (the wall time is written).
    """
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = pd.to_datetime(values)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    stamps = values.to_numpy(dtype="datetime64[us]")
    missing = np.isnat(stamps)
    us = stamps.astype(np.int64) + _EPOCH_US
    days = us // _DAY_US
    rest = us - days * _DAY_US
    seconds, micros = rest // 1_000_000, rest % 1_000_000
    serial = days + (seconds.astype(np.float64) + micros / 1e6) / 86_400
    serial = np.where(days == 1, serial - 1, serial)  # 1900-01-01
    serial = np.where(serial > 59, serial + 1, serial)
    return np.where(missing, np.nan, serial)


def _date_column(values: pd.Series) -> _Column:
    written, _ = _numbers_written(excel_serials(values))
    return _Column(written, "date", 10 if pc.any(pc.is_valid(written)).as_py() else 0)


def _prepared(sheet: TableSheet, rows: int) -> list[_Column]:
    out = []
    for name, kind in zip(sheet.frame.columns, sheet.kinds, strict=True):
        values = sheet.frame[name].iloc[:rows]
        if kind == "date":
            out.append(_date_column(values))
        elif kind == "number":
            out.append(_number_column(values))
        else:
            out.append(_text_column(values, sheet.labels.get(str(name), {})))
    return out


# --------------------------------------------------------------------------------------------------
# the sheet's XML, a chunk of rows at a time

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
#: Styles: 0 plain, 1 bold (the header), 2 a date (``yyyy-mm-dd``).
_HEADER_STYLE, _DATE_STYLE = 1, 2
#: Rows of a chunk are cut so that its text stays near this many bytes.
_CHUNK_BYTES = 16 * 2**20
#: Bytes of XML around one cell, at most (tags, reference, style).
_CELL_OVERHEAD = 80


def _cells(column: _Column, letter: str, rownum: pa.Array) -> pa.Array:
    """The ``<c>`` of each cell of a chunk; ``""`` where the value is null."""
    if column.kind == "text":
        head, middle, tail = (
            f'<c r="{letter}',
            '" t="inlineStr"><is><t xml:space="preserve">',
            "</t></is></c>",
        )
    elif column.kind == "date":
        head, middle, tail = f'<c r="{letter}', f'" s="{_DATE_STYLE}"><v>', "</v></c>"
    else:
        head, middle, tail = f'<c r="{letter}', '"><v>', "</v></c>"
    joined = pc.binary_join_element_wise(
        pa.scalar(head, _STR),
        rownum,
        pa.scalar(middle, _STR),
        column.values,
        pa.scalar(tail, _STR),
        pa.scalar("", _STR),
    )
    return pc.fill_null(joined, "")


def _bytes_of(strings: pa.Array) -> memoryview:
    """The concatenation of ``strings`` (large strings, no nulls), without a copy."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int64)
    start, end = offsets[strings.offset], offsets[strings.offset + len(strings)]
    return memoryview(strings.buffers()[2])[start:end]


def _chunks(columns: list[_Column], rows: int) -> list[tuple[int, int]]:
    """Row ranges of about :data:`_CHUNK_BYTES` of XML each (a longer row alone)."""
    if rows == 0:
        return []
    size = np.full(rows, _CELL_OVERHEAD * len(columns) + 32, dtype=np.int64)
    for c in columns:
        size += pc.fill_null(pc.binary_length(c.values), 0).to_numpy(zero_copy_only=False)
    total = np.cumsum(size)
    ends = np.searchsorted(total, np.arange(_CHUNK_BYTES, total[-1], _CHUNK_BYTES), side="right")
    cuts = sorted({0, *(int(e) for e in ends), rows})
    return list(itertools.pairwise(cuts))


def _sheet_head(sheet: TableSheet, columns: list[_Column], rows: int, first: bool) -> str:
    last = _column_letter(max(len(columns) - 1, 0))
    cols = "".join(
        f'<col min="{j + 1}" max="{j + 1}" '
        f'width="{column_width(min(max(max(cjk_width(h), c.width), 6), 60) + 2):.16g}" customWidth="1"/>'
        for j, (h, c) in enumerate(zip(sheet.headers, columns, strict=True))
    )
    header = "".join(
        f'<c r="{_column_letter(j)}1" s="{_HEADER_STYLE}" t="inlineStr"><is>'
        f'<t xml:space="preserve">{escape(h)}</t></is></c>'
        for j, h in enumerate(sheet.headers)
    )
    selected = ' tabSelected="1"' if first else ""
    return (
        f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f'<dimension ref="A1:{last}{rows + 1}"/>'
        f'<sheetViews><sheetView{selected} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + f'<sheetData><row r="1">{header}</row>'
    )


_SHEET_TAIL = (
    '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
    'header="0.3" footer="0.3"/></worksheet>'
)


def _write_sheet(
    out: IO[bytes], sheet: TableSheet, columns: list[_Column], rows: int, first: bool
) -> None:
    out.write(_sheet_head(sheet, columns, rows, first).encode("utf-8"))
    letters = [_column_letter(j) for j in range(len(columns))]
    for start, end in _chunks(columns, rows):
        rownum = pa.array(np.arange(start + 2, end + 2, dtype=np.int64)).cast(_STR)
        parts = [pa.scalar('<row r="', _STR), rownum, pa.scalar('">', _STR)]
        parts += [
            _cells(_Column(c.values.slice(start, end - start), c.kind, c.width), letter, rownum)
            for c, letter in zip(columns, letters, strict=True)
        ]
        parts += [pa.scalar("</row>", _STR), pa.scalar("", _STR)]
        out.write(_bytes_of(pc.binary_join_element_wise(*parts)))
    out.write(_SHEET_TAIL.encode("utf-8"))


def _bound(columns: list[_Column], rows: int) -> int:
    """More bytes than the sheet's XML can take (decides whether its zip entry needs ZIP64)."""
    text = sum(int(pc.sum(pc.binary_length(c.values)).as_py() or 0) for c in columns)
    return 2 * text + (rows + 1) * (len(columns) * _CELL_OVERHEAD + 64) + 2**20


# --------------------------------------------------------------------------------------------------
# the package around the sheets

_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _content_types(n: int) -> str:
    ct = "application/vnd.openxmlformats-officedocument"
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ct}.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    return (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{ct}.extended-properties+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ct}.spreadsheetml.styles+xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.spreadsheetml.sheet.main+xml"/>'
        f"{sheets}</Types>"
    )


def _root_rels() -> str:
    od = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    return (
        f'{_XML}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{od}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
        'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{od}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )


def _workbook(names: Sequence[str]) -> str:
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    return (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" '
        'windowHeight="9660"/></bookViews>'
        f"<sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(n: int) -> str:
    od = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{od}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    rels += f'<Relationship Id="rId{n + 1}" Type="{od}/styles" Target="styles.xml"/>'
    return f'{_XML}<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>'


def _core(title: str, author: str, created: dt.datetime) -> str:
    when = (created.astimezone(dt.UTC) if created.tzinfo else created).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    return (
        f"{_XML}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>{escape(author)}</dc:creator>"
        f"<cp:lastModifiedBy>{escape(author)}</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _app(names: Sequence[str], company: str) -> str:
    parts = "".join(f"<vt:lpstr>{escape(n)}</vt:lpstr>" for n in names)
    return (
        f"{_XML}<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity>"
        "<ScaleCrop>false</ScaleCrop><HeadingPairs>"
        '<vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr>'
        f"</vt:variant><vt:variant><vt:i4>{len(names)}</vt:i4></vt:variant></vt:vector>"
        f'</HeadingPairs><TitlesOfParts><vt:vector size="{len(names)}" baseType="lpstr">{parts}'
        f"</vt:vector></TitlesOfParts><Company>{escape(company)}</Company>"
        "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
        "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>"
    )


def _entry(name: str, size: int = 0) -> zipfile.ZipInfo:
    """A zip entry with a fixed time (1980-01-01: the same bytes for the same content),
    deflated at level 1 (fast; a workbook of text compresses well at any level)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    # the level lives in a private field before Python 3.13 (compress_level from 3.13)
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", 1)
    info.external_attr = 0o600 << 16
    info.file_size = size  # only an estimate here: whether the entry needs ZIP64
    return info


def write_table_workbook(
    target: IO[bytes],
    sheets: Sequence[TableSheet],
    *,
    title: str,
    author: str,
    created: dt.datetime,
    max_rows: int = EXCEL_MAX_ROWS,
) -> None:
    """Write ``sheets`` as one ``.xlsx`` workbook into ``target``.

    Parameters
    ----------
    target
        A binary file open for writing (seekable or not).
    sheets
        The sheets in order; the first is the one shown on opening.
    title, author
        Document properties (``author`` also as the company).
    created
        The creation (and modification) time recorded, in UTC when it has a timezone: a time of
        the content, never the current time, so the same tables give the same bytes.
    max_rows
        Rows per sheet, the header included (Excel's :data:`EXCEL_MAX_ROWS`); later rows are left
        out and a warning logged.

    Raises
    ------
    ValueError
        When two sheets share a name.
    """
    names = [s.name for s in sheets]
    if len({n.casefold() for n in names}) != len(names):
        raise ValueError(f"sheet names must differ: {names}")
    with zipfile.ZipFile(target, "w", allowZip64=True) as zf:
        for part, text in (
            ("[Content_Types].xml", _content_types(len(sheets))),
            ("_rels/.rels", _root_rels()),
            ("docProps/app.xml", _app(names, author)),
            ("docProps/core.xml", _core(title, author, created)),
            ("xl/workbook.xml", _workbook(names)),
            ("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets))),
            ("xl/styles.xml", _STYLES),
        ):
            zf.writestr(_entry(part), text.encode("utf-8"))
        for i, sheet in enumerate(sheets, start=1):
            rows = min(len(sheet.frame), max_rows - 1)
            if rows < len(sheet.frame):
                log.warning(
                    "sheet %s: %d rows past Excel's %d left out of the workbook",
                    sheet.name,
                    len(sheet.frame) - rows,
                    max_rows,
                )
            columns = _prepared(sheet, rows)
            entry = _entry(f"xl/worksheets/sheet{i}.xml", _bound(columns, rows))
            with zf.open(entry, "w") as out:
                _write_sheet(out, sheet, columns, rows, first=i == 1)
