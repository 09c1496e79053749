"""The cleaned outputs on disk (docs/data_contract.md §2).

:func:`write_clean_outputs` writes the six Parquet tables, the same tables as one workbook
(``清洗后台账.xlsx``, for people without Parquet), ``quality_log.csv``, ``rejected.csv`` and
``manifest.json`` as one set: into a temporary folder renamed into place when all are written. CSV cells that a
spreadsheet would run as a formula are neutralised (:func:`neutralize_formulas`); workbook cells
are written as text, never as formulas (:func:`write_clean_workbook`, streamed by
:mod:`~zhengshou_analysis.xlsxstream`; :func:`xlsx_workbook` for the report workbooks).
:class:`WorkbookAhead` starts the workbook as soon as the cleaner's tables are final.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Self

import pandas as pd

from ..exceptions import InputError
from ..outfolder import apply_umask, staged_folder
from ..schemas import TABLES, Column
from ..xlsxstream import EXCEL_MAX_ROWS, CellKind, TableSheet, cjk_width, write_table_workbook
from .findings import QUALITY_LEDGER_TEXT

if TYPE_CHECKING:
    import xlsxwriter

    from .clean import CleanResult

__all__ = [
    "CLEAN_WORKBOOK",
    "EXCEL_MAX_ROWS",
    "UNIT_LABELS",
    "WorkbookAhead",
    "cjk_width",
    "clean_output_names",
    "clean_workbook_bytes",
    "neutralize_formulas",
    "write_clean_outputs",
    "write_clean_workbook",
    "xlsx_workbook",
]

#: The file name of the cleaned tables as a workbook.
CLEAN_WORKBOOK = "清洗后台账.xlsx"
#: Chinese names of the canonical units (:data:`~zhengshou_analysis.schemas.Unit`).
UNIT_LABELS: dict[str, str] = {
    "yuan": "元",
    "m2": "平方米",
    "mu": "亩",
    "month": "月",
    "person": "人",
    "unit": "套",
    "yuan_per_month": "元/月/计费单位",
}

#: Cells a spreadsheet would run as a formula start with one of these.
_FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


def neutralize_formulas(df: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with ``'``.

    Parameters
    ----------
    df
        Any frame (not modified).
    columns
        The columns that can hold such text (the office's own: cells, file and sheet names,
        messages quoting them); default: every ``str``/``object`` column. Columns of numbers or
        dates are never touched.

    Returns
    -------
    pandas.DataFrame
        A frame in which every text cell of ``columns`` starting with ``=``, ``+``, ``-``, ``@``,
        a tab or a carriage return starts with ``'`` instead (``=1+1`` → ``'=1+1``, ``-5`` →
        ``'-5``); object columns with a risky cell become ``str``. NA stays NA.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    out = df.copy(deep=False)  # copy-on-write: replacing a column leaves df as it was
    for c in df.columns if columns is None else columns:
        if not (df[c].dtype == "str" or df[c].dtype == object):
            continue
        s = df[c].astype("str")
        arr = pa.array(s.array)
        first = pc.utf8_slice_codeunits(arr, 0, 1)  # cheaper than a regex per cell
        risky = pc.is_in(first, value_set=pa.array(_FORMULA_STARTS, arr.type))
        if pc.any(risky).as_py():
            quote, empty = pa.scalar("'", arr.type), pa.scalar("", arr.type)
            fixed = pc.if_else(risky, pc.binary_join_element_wise(quote, arr, empty), arr)
            out[c] = pd.Series(pd.array(fixed, dtype=s.dtype), index=df.index, name=c)
    return out


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    """A canonical table as Parquet, without the index."""
    df.to_parquet(path, index=False)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV with a BOM (Excel opens it correctly), written by pyarrow (fast for big logs)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(df.astype("str"), preserve_index=False)
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf")
        pacsv.write_csv(table, f, pacsv.WriteOptions(quoting_style="needed"))


def xlsx_workbook(
    target: io.BytesIO, *, title: str, author: str, created: dt.datetime
) -> xlsxwriter.Workbook:
    """A workbook that writes the same bytes for the same content, and no formula from text.

    Parameters
    ----------
    target
        The buffer the workbook is written into on ``close()``.
    title, author
        Document properties (the author: the office, never a person).
    created
        The creation time recorded in the file (a fixed date of the content, such as the
        reporting date, never the current time: the file is byte-reproducible).

    Returns
    -------
    xlsxwriter.Workbook
        In memory (fixed zip timestamps), with ``strings_to_formulas``, ``strings_to_urls`` and
        ``strings_to_numbers`` off, so a ledger text like ``=HYPERLINK(…)`` or ``+86…`` written
        with ``write_string`` stays text.
    """
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        target,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": False,
        },
    )
    when = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
    wb.set_properties({"title": title, "author": author, "company": author, "created": when})
    return wb


def _header(column: Column) -> str:
    """A canonical column's Chinese header with its unit (``套数（套）``, ``补偿总额（元）``)."""
    unit = UNIT_LABELS.get(column.unit or "", "")
    return f"{column.label}（{unit}）" if unit and "（" not in column.label else column.label


def _value_labels(column: Column) -> dict[str, str]:
    """Canonical values written in ASCII (``per_m2``) → the first Chinese spelling (``按面积``)."""
    out: dict[str, str] = {}
    for spelling, canonical in (column.values or {}).items():
        wide = cjk_width(spelling) > len(spelling)
        if re.search(r"[A-Za-z]", canonical) and wide and "/" not in spelling:
            out.setdefault(canonical, spelling)
    return out


#: How each schema type is written in the workbook.
_KINDS: dict[str, CellKind] = {"date": "date", "float": "number", "int": "number", "str": "text"}


def _table_sheet(name: str, df: pd.DataFrame | None) -> TableSheet:
    """One canonical table as a plain sheet: Chinese headers, values as stored, origin kept."""
    t = TABLES[name]
    if df is None:
        df = pd.DataFrame(columns=t.column_names)
    return TableSheet(
        name=t.label,
        frame=df[t.column_names],
        headers=[*(_header(c) for c in t.columns), "来源（文件#工作表!行）"],
        kinds=[*(_KINDS[c.dtype] for c in t.columns), "text"],
        labels={c.name: labels for c in t.columns if (labels := _value_labels(c))},
    )


def _created(run_started: object) -> dt.datetime:
    """The workbook's creation time: the run's start, the manifest's ``run_started`` (so the
    same run gives the same bytes); 1980-01-01 UTC when there is none."""
    started = str(run_started or "1980-01-01T00:00:00+0000")
    try:
        return dt.datetime.strptime(started, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return dt.datetime(1980, 1, 1, tzinfo=dt.UTC)


def _write_tables_workbook(
    tables: dict[str, pd.DataFrame], run_started: object, target: BinaryIO
) -> None:
    """The six tables as :data:`CLEAN_WORKBOOK` into ``target`` (:func:`write_clean_workbook`)."""
    write_table_workbook(
        target,
        [_table_sheet(name, tables.get(name)) for name in TABLES],
        title="清洗后台账",
        author="zhengshou-analysis",
        created=_created(run_started),
    )


def write_clean_workbook(result: CleanResult, target: BinaryIO) -> None:
    """Write the six cleaned tables as one workbook (:data:`CLEAN_WORKBOOK`) into ``target``.

    Parameters
    ----------
    result
        A cleaning run (not modified).
    target
        A binary file open for writing.

    Notes
    -----
    Per table a sheet named by its Chinese label, Chinese headers with units (from
    :mod:`~zhengshou_analysis.schemas`), the values in the canonical units (元, 平方米, 亩) as
    plain cells, dates as dates, the ``origin`` column kept; text written as text, never as a
    formula (:func:`~zhengshou_analysis.xlsxstream.write_table_workbook`, streamed: a million
    rows never held as Python objects). Only the columns of the schemas are written (no personal
    data: such columns are never read). The same run gives the same bytes (created: the run's
    start time).
    """
    _write_tables_workbook(result.tables, result.manifest.get("run_started"), target)


def _write_workbook_file(result: CleanResult, path: Path) -> None:
    """:func:`write_clean_workbook` into the file ``path``."""
    with open(path, "wb") as f:
        write_clean_workbook(result, f)


def clean_workbook_bytes(result: CleanResult) -> bytes:
    """The six cleaned tables as one workbook (:func:`write_clean_workbook`), in memory.

    Parameters
    ----------
    result
        A cleaning run (not modified).

    Returns
    -------
    bytes
        The ``.xlsx``; the same run gives the same bytes.
    """
    buf = io.BytesIO()
    write_clean_workbook(result, buf)
    return buf.getvalue()


def _tables_workbook_bytes(tables: dict[str, pd.DataFrame], run_started: str) -> bytes:
    buf = io.BytesIO()
    _write_tables_workbook(tables, run_started, buf)
    return buf.getvalue()


class WorkbookAhead:
    """:data:`CLEAN_WORKBOOK` written in memory by a thread as soon as the tables are final.

    ``zhengshou clean`` passes :meth:`start` as the cleaner's ``on_tables``
    (:func:`~zhengshou_analysis.ledger.clean.clean_ledgers`) and this object to
    :func:`write_clean_outputs`: the workbook (pyarrow and zlib, mostly without the GIL) is then
    written while the cleaner still assembles the rejected rows, the quality log and the manifest
    on the main thread, instead of after them. The bytes are the same as
    :func:`clean_workbook_bytes` of the result (the workbook is held in memory: about 5 MB for
    100,000 rows).

    Use it as a context manager: its thread ends with the block (none outlives it).
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zs-workbook")
        self._made: tuple[dict[str, pd.DataFrame], str, Future[bytes]] | None = None

    def start(self, tables: dict[str, pd.DataFrame], run_started: str) -> None:
        """Start writing the workbook of ``tables`` (final: not changed afterwards).

        Parameters
        ----------
        tables
            The six canonical tables, the very dict the result will hold.
        run_started
            The run's start as the manifest writes it (``run_started``): the workbook's
            creation time. A later call replaces the earlier workbook (a ledger cleaned again).
        """
        self._made = (
            tables,
            run_started,
            self._pool.submit(_tables_workbook_bytes, tables, run_started),
        )

    def made_for(self, result: CleanResult) -> bool:
        """Whether the workbook under way is ``result``'s: started from exactly its tables
        (the same dict) and its run start (without waiting for the thread)."""
        if self._made is None:
            return False
        tables, run_started, _ = self._made
        return tables is result.tables and run_started == result.manifest.get("run_started")

    def take(self, result: CleanResult) -> bytes:
        """The workbook of ``result`` (:meth:`made_for`), waiting for the thread.

        Raises
        ------
        ValueError
            When the workbook under way is not ``result``'s.
        Exception
            Whatever writing the workbook raised.
        """
        if self._made is None or not self.made_for(result):
            raise ValueError("the workbook under way was not started from this result's tables")
        return self._made[2].result()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pool.shutdown(wait=True)


def _check_out_dir(out: Path, raw_dir: str | None) -> None:
    """Refuse an output folder inside the raw folder (which is read-only input)."""
    if raw_dir and out.resolve().is_relative_to(Path(raw_dir).resolve()):
        raise InputError(
            f"输出文件夹 {out} 在原始台账文件夹内; the raw folder is read-only input, "
            "choose --out outside it",
            file=str(out),
        )


#: The files of a clean output set besides the Parquet tables (the manifest last).
_LOG_FILES = ("quality_log.csv", "rejected.csv")
#: Their columns that can hold the office's own text (None: every text column of the few
#: rejected rows); the log's other columns hold the cleaner's codes and canonical names.
_LEDGER_TEXT = (QUALITY_LEDGER_TEXT, None)


def clean_output_names() -> frozenset[str]:
    """The names of every file a clean output set can hold (the Parquet tables, the workbook,
    the quality log, the rejected rows and the manifest)."""
    return frozenset(
        {*(f"{name}.parquet" for name in TABLES), CLEAN_WORKBOOK, *_LOG_FILES, "manifest.json"}
    )


def write_clean_outputs(
    result: CleanResult,
    out_dir: str | os.PathLike,
    *,
    tables: bool = True,
    workbook: WorkbookAhead | None = None,
) -> list[Path]:
    """Write the tables (Parquet and ``清洗后台账.xlsx``), the quality log, rejected rows, manifest.

    All or nothing: the set is written into a temporary folder beside ``out_dir`` and renamed
    into place when every file is written (:func:`~zhengshou_analysis.outfolder.staged_folder`),
    so a full disk, a killed run or a crash leaves the previous set, never a mixture of two runs.

    Parameters
    ----------
    result
        From :func:`~zhengshou_analysis.ledger.clean.clean_ledgers` (or ``CleanError.result``).
    out_dir
        The output folder (created if needed); must not lie inside the raw folder, and may hold
        only the files of an earlier clean (:func:`clean_output_names`).
    tables
        ``False`` for a run that ended in an error: only the log, the rejected rows and the
        manifest are written; the new set replaces the old one, so no table of an earlier run
        is left for anyone to mistake for this one's.
    workbook
        The workbook started while the tables were cleaned (:class:`WorkbookAhead`); used when it
        was made from this result's tables, else the workbook is written here.

    Returns
    -------
    list of pathlib.Path
        The files written: the Parquet tables, ``清洗后台账.xlsx``
        (:func:`write_clean_workbook`), ``quality_log.csv``, ``rejected.csv``, ``manifest.json``
        last.

    Raises
    ------
    InputError
        When ``out_dir`` is inside the raw folder (nothing is written).
    OutputError
        When the set cannot be written (full disk, read-only or missing location, a file where
        the folder should be, a folder holding other files, no permission): the message names
        the path and what to do; the previous set stays as it was.

    Notes
    -----
    CSVs are UTF-8 with BOM (Excel opens them correctly) and have formula-like cells
    neutralised. The manifest gains ``ok``: no error in the log and no error raised.
    """
    out = Path(out_dir)
    _check_out_dir(out, result.manifest.get("raw_dir"))
    names = clean_output_names()
    written: list[str] = []
    with (
        staged_folder(out, ours=lambda p: p.name in names) as stage,
        # the workbook and the Parquet tables (pyarrow and zlib, mostly without the GIL) are
        # written beside the logs; the thread ends with the block, before the set is renamed
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="zs-workbook") as pool,
    ):
        # the workbook started while the tables were cleaned, or one written beside the rest
        ahead = tables and workbook is not None and workbook.made_for(result)
        book = (
            pool.submit(_write_workbook_file, result, stage / CLEAN_WORKBOOK)
            if tables and not ahead
            else None
        )
        # the Parquet tables (pyarrow, mostly without the GIL) beside the logs
        parquet = [
            pool.submit(_write_parquet, df, stage / f"{name}.parquet")
            for name, df in (result.tables.items() if tables else ())
        ]
        logs = (result.quality_log, result.rejected)
        for fname, df, text in zip(_LOG_FILES, logs, _LEDGER_TEXT, strict=True):
            _write_csv(neutralize_formulas(df, text), stage / fname)
        for name, done in zip(result.tables if tables else (), parquet, strict=True):
            done.result()  # its error, if any, is this call's
            written.append(f"{name}.parquet")
        if ahead and workbook is not None:
            (stage / CLEAN_WORKBOOK).write_bytes(workbook.take(result))  # its error is ours
            written.append(CLEAN_WORKBOOK)
        if book is not None:
            book.result()  # its error, if any, is this call's
            written.append(CLEAN_WORKBOOK)
        written += _LOG_FILES
        manifest = {**result.manifest, "ok": result.ok and not result.errors}
        (stage / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        written.append("manifest.json")
        for fname in written:
            apply_umask(stage / fname)
    return [out / fname for fname in written]
