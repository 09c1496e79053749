"""The cleaned outputs on disk (docs/data_contract.md §2).

:func:`write_clean_outputs` writes the six Parquet tables, the same tables as one workbook
(``清洗后台账.xlsx``, for people without Parquet), ``quality_log.csv``, ``rejected.csv`` and
``manifest.json`` as one set: into a temporary folder renamed into place when all are written. CSV cells that a
spreadsheet would run as a formula are neutralised (:func:`neutralize_formulas`); workbook cells
are written as text, never as formulas (:func:`xlsx_workbook`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..exceptions import InputError
from ..outfolder import apply_umask, staged_folder
from ..schemas import TABLES, Column

if TYPE_CHECKING:
    import xlsxwriter

    from .clean import CleanResult

__all__ = [
    "CLEAN_WORKBOOK",
    "EXCEL_MAX_ROWS",
    "UNIT_LABELS",
    "cjk_width",
    "clean_output_names",
    "clean_workbook_bytes",
    "neutralize_formulas",
    "write_clean_outputs",
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
#: Excel's last row (1-based count); a sheet holds at most this many rows.
EXCEL_MAX_ROWS = 1_048_576

#: Cells a spreadsheet would run as a formula start with one of these (pyarrow runs the pattern).
_FORMULA_RE = "^[=+@\t\r-]"


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with ``'``.

    Parameters
    ----------
    df
        Any frame; only its ``str``/``object`` columns are looked at.

    Returns
    -------
    pandas.DataFrame
        A copy (``df`` is not modified) in which every text cell starting with ``=``, ``+``,
        ``-``, ``@``, a tab or a carriage return starts with ``'`` instead (``=1+1`` →
        ``'=1+1``, ``-5`` → ``'-5``); object columns with a risky cell become ``str``. NA stays
        NA.
    """
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == "str" or out[c].dtype == object:
            s = out[c].astype("str")
            risky = s.str.contains(_FORMULA_RE, regex=True).fillna(False).astype(bool)
            if risky.any():
                out[c] = s.where(~risky, "'" + s)
    return out


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


_WIDE = re.compile(
    r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)


def cjk_width(text: str) -> int:
    """The width of ``text`` in a spreadsheet column, a CJK or full-width character counting 2."""
    s = str(text)
    return len(s) + len(_WIDE.findall(s))


def _header(column: Column) -> str:
    """A canonical column's Chinese header with its unit (``套数（套）``, ``补偿总额（元）``)."""
    unit = UNIT_LABELS.get(column.unit or "", "")
    return f"{column.label}（{unit}）" if unit and "（" not in column.label else column.label


def _value_labels(column: Column) -> dict[str, str]:
    """Canonical values written in ASCII (``per_m2``) → the first Chinese spelling (``按面积``)."""
    out: dict[str, str] = {}
    for spelling, canonical in (column.values or {}).items():
        if re.search(r"[A-Za-z]", canonical) and _WIDE.search(spelling) and "/" not in spelling:
            out.setdefault(canonical, spelling)
    return out


def _write_table_sheet(wb: xlsxwriter.Workbook, name: str, df: pd.DataFrame) -> None:
    """One canonical table as a plain sheet: Chinese headers, values as stored, origin kept."""
    t = TABLES[name]
    ws = wb.add_worksheet(t.label)
    bold = wb.add_format({"bold": True})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    columns = [*t.columns, None]  # None: the origin
    headers = [_header(c) if c else "来源（文件#工作表!行）" for c in columns]
    widths = [cjk_width(h) for h in headers]
    for j, h in enumerate(headers):
        ws.write_string(0, j, h, bold)
    rows = min(len(df), EXCEL_MAX_ROWS - 1)
    for j, c in enumerate(columns):
        values = df["origin" if c is None else c.name].iloc[:rows].tolist()
        labels = _value_labels(c) if c is not None else {}
        for i, v in enumerate(values, start=1):
            if v is None or v is pd.NaT or (not isinstance(v, str) and pd.isna(v)):
                continue
            if c is not None and c.dtype == "date":
                ws.write_datetime(i, j, pd.Timestamp(v).to_pydatetime(), date)
                widths[j] = max(widths[j], 10)
            elif c is not None and c.dtype in ("float", "int"):
                ws.write_number(i, j, float(v))
                widths[j] = max(widths[j], len(f"{float(v):g}"))
            else:
                text = labels.get(str(v), str(v))
                ws.write_string(i, j, text)
                widths[j] = max(widths[j], cjk_width(text))
    for j, w in enumerate(widths):
        ws.set_column(j, j, min(max(w, 6), 60) + 2)
    ws.freeze_panes(1, 0)


def clean_workbook_bytes(result: CleanResult) -> bytes:
    """The six cleaned tables as one workbook (:data:`CLEAN_WORKBOOK`), one sheet per table.

    Parameters
    ----------
    result
        A cleaning run (not modified).

    Returns
    -------
    bytes
        The ``.xlsx``: per table a sheet named by its Chinese label, Chinese headers with units
        (from :mod:`~zhengshou_analysis.schemas`), the values in the canonical units (元, 平方米,
        亩) as plain cells, dates as dates, the ``origin`` column kept; text written as text. Only
        the columns of the schemas are written (no personal data: such columns are never read).
        The same run gives the same bytes (created: the run's start time).
    """
    started = str(result.manifest.get("run_started") or "1980-01-01T00:00:00+0000")
    try:
        created = dt.datetime.strptime(started, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        created = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)
    buf = io.BytesIO()
    wb = xlsx_workbook(buf, title="清洗后台账", author="zhengshou-analysis", created=created)
    for name in TABLES:
        df = result.tables.get(name)
        _write_table_sheet(
            wb, name, df if df is not None else pd.DataFrame(columns=TABLES[name].column_names)
        )
    wb.close()
    return buf.getvalue()


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


def clean_output_names() -> frozenset[str]:
    """The names of every file a clean output set can hold (the Parquet tables, the workbook,
    the quality log, the rejected rows and the manifest)."""
    return frozenset(
        {*(f"{name}.parquet" for name in TABLES), CLEAN_WORKBOOK, *_LOG_FILES, "manifest.json"}
    )


def write_clean_outputs(
    result: CleanResult, out_dir: str | os.PathLike, *, tables: bool = True
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

    Returns
    -------
    list of pathlib.Path
        The files written: the Parquet tables, ``清洗后台账.xlsx``
        (:func:`clean_workbook_bytes`), ``quality_log.csv``, ``rejected.csv``, ``manifest.json``
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
    with staged_folder(out, ours=lambda p: p.name in names) as stage:
        for name, df in result.tables.items() if tables else ():
            df.to_parquet(stage / f"{name}.parquet", index=False)
            written.append(f"{name}.parquet")
        if tables:
            (stage / CLEAN_WORKBOOK).write_bytes(clean_workbook_bytes(result))
            written.append(CLEAN_WORKBOOK)
        for fname, df in zip(_LOG_FILES, (result.quality_log, result.rejected), strict=True):
            _write_csv(neutralize_formulas(df), stage / fname)
            written.append(fname)
        manifest = {**result.manifest, "ok": result.ok and not result.errors}
        (stage / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        written.append("manifest.json")
        for fname in written:
            apply_umask(stage / fname)
    return [out / fname for fname in written]
