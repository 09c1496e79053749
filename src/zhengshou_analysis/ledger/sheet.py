"""One classified sheet → its parsed rows, its findings and its rejected rows.

The steps, in order: pad the sheet to a grid; classify the rows below the header (data, blank,
合计/小计, 其中, notes); spread vertically merged category cells (and, in a CSV, blank group cells)
over their rows; parse every mapped column (:mod:`.columns`); derive what the sheet implies (the
year from the title, the fee basis from the fee rate's unit) and keep names written in reference
columns for linking (:mod:`.assemble`); reject the rows that cannot enter the table
(:mod:`.rejections`); check the sheet's own totals (:mod:`.totals`); count every row of the sheet
for the manifest. Nothing of a personal-data column is read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from ..schemas import Table
from ..units import FEE_RATE_BASIS, split_header_unit
from .classify import MappedColumn, excel_column, map_headers, name_hint
from .columns import column_unit, header_unit_fits, normalize_values, parse_column
from .findings import finding
from .ingest import RawSheet
from .layout import (
    SheetLayout,
    classify_rows,
    header_index,
    is_ignored_header,
    is_pii_header,
    units_row_below,
)
from .rejections import RowCells, reject_reasons, rejected_rows, row_cells
from .totals import check_totals

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = ["CleanedSheet", "clean_sheet", "column_map", "header_findings"]

#: The statuses of a header in a sheet's column map (the manifest's ``columns``).
HEADER_STATUSES = ("mapped", "duplicate", "unmapped", "ignored", "personal_data")


@dataclass
class CleanedSheet:
    """What one sheet gives.

    Attributes
    ----------
    table
        The canonical table it feeds.
    frame
        Its kept rows: canonical columns, ``origin`` and helper columns starting with ``_``
        (names to link, vocabulary masks), indexed by 0-based sheet row.
    rejected
        Its rejected rows (``origin, table, reason, raw_cells``).
    counts
        Its manifest entry: file, sheet, table, header position and a count of every kind of row.
    findings
        Its quality-log frames, in order.
    cells
        Its data rows as written, to quote a row rejected later (a duplicate key).
    """

    table: str
    frame: pd.DataFrame
    rejected: pd.DataFrame
    counts: dict
    findings: list[pd.DataFrame] = field(default_factory=list)
    cells: RowCells | None = None


def _grid(sheet: RawSheet) -> pd.DataFrame:
    """The sheet's cells as an ``object`` frame, short rows padded with ``""``."""
    lens = list(map(len, sheet.rows))
    width = max(lens, default=0)
    rows = sheet.rows
    if lens.count(width) != len(lens):
        rows = [
            r if k == width else [*r, *([""] * (width - k))]
            for r, k in zip(rows, lens, strict=True)
        ]
    # one 2-D array filled cell by cell (no shape discovery: a cell that is itself a sequence stays
    # one cell) and wrapped without a copy; readers give "" for empty cells
    cells = np.fromiter(chain.from_iterable(rows), dtype=object, count=len(rows) * width)
    return pd.DataFrame(cells.reshape(len(rows), width), dtype=object, copy=False)


def _label_columns(mapped: dict[str, MappedColumn]) -> list[int]:
    """Columns where a 合计/其中 label may stand.

    A descriptive column (text, e.g. 项目名称 even right of a 年度 column), the leading unmapped
    ones (序号) or the first mapped column (even a date column), but never 备注 or trailing
    free-text columns (其中：2户未签约).
    """
    first_mapped = min(m.col for m in mapped.values())
    label_cols = [
        m.col for m in mapped.values() if m.column.dtype == "str" and m.column.name != "note"
    ]
    label_cols += list(range(first_mapped + 1))
    return sorted(set(label_cols))  # each column once (a text column may lead the table)


def _spread_merged_categories(
    data: pd.DataFrame,
    grid: pd.DataFrame,
    sheet: RawSheet,
    layout: SheetLayout,
    t: Table,
    mapped: dict[str, MappedColumn],
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Spread each vertically merged category cell's value over the data rows it covers.

    Returns the data rows (a copy when anything was filled) and one ``ffill`` info per range.
    """
    prefix = f"{sheet.file}#{sheet.sheet}!"
    cat_cols = {m.col for m in mapped.values() if m.column.category}
    findings = []
    copied = False
    for r0, c0, r1, c1 in sheet.merged:
        if c0 == c1 and c0 in cat_cols and r1 > r0 >= layout.first_data_row:
            idx = [i for i in range(r0 + 1, r1 + 1) if i in data.index]
            if idx:
                if not copied:
                    data, copied = data.copy(), True
                data.loc[idx, c0] = grid.iat[r0, c0]
                name = next(n for n, m in mapped.items() if m.col == c0)
                findings.append(
                    finding(
                        prefix + str(r0 + 1),
                        t.name,
                        name,
                        str(grid.iat[r0, c0]),
                        "ffill",
                        "info",
                        f"{mapped[name].where}: 合并单元格的值填入第 {r0 + 2}–{r1 + 1} 行 "
                        "(vertically merged category cell spread over its rows)",
                    )
                )
    return data, findings


def _header_findings(
    layout: SheetLayout,
    t: Table,
    mapped: dict[str, MappedColumn],
    prefix: str,
    profile: Profile | None = None,
) -> list[pd.DataFrame]:
    """Warnings about the header: a second column for one field, a bracket that is no unit."""
    findings = []
    _, ignored = map_headers(layout, t, profile)
    for header in ignored:
        findings.append(
            finding(
                prefix + str(layout.header_row + 1),
                t.name,
                "",
                header,
                "duplicate_header",
                "warning",
                f"表头「{header}」与另一列对应同一字段，已忽略该列 (a second column for "
                "the same field; only the first is read)",
            )
        )
    for name, m in mapped.items():
        if m.unit is not None and m.column.dtype in ("float", "int") and not header_unit_fits(m):
            findings.append(
                finding(
                    prefix + str(layout.header_row + 1),
                    t.name,
                    name,
                    m.header,
                    "header_unit",
                    "warning",
                    f"{m.where}: 括号内「{m.unit}」不是该列的单位，已忽略 (bracket text "
                    "is not a unit of this column; the sheet's unit applies)",
                )
            )
    return findings


def column_map(
    rows: Sequence[Sequence[object]],
    layout: SheetLayout,
    t: Table | None,
    mapped: dict[str, MappedColumn],
    profile: Profile | None = None,
) -> list[dict]:
    """What the cleaner does with each header cell of a sheet (the manifest's ``columns``).

    Parameters
    ----------
    rows
        The sheet's cells (for a units row under the header).
    layout
        Its layout.
    t
        The table it feeds (``None``: a skipped sheet; no header is mapped).
    mapped
        Its mapped columns.
    profile
        The office profile the mapping used.

    Returns
    -------
    list of dict
        One entry per non-empty header cell, left to right: ``col`` (the column letter),
        ``header`` (as written, levels joined), ``status`` (:data:`HEADER_STATUSES`: ``mapped``;
        ``duplicate``, a second column for a mapped field; ``unmapped``; ``ignored``, a header of
        ``schemas.IGNORED_HEADERS``; ``personal_data``, never read), ``column`` (the canonical
        column, mapped only), ``unit`` and ``unit_source`` (:func:`~.columns.column_unit`; mapped
        numbers only, else ``None`` and ``""``).
    """
    by_col = {m.col: name for name, m in mapped.items()}
    units_at = units_row_below(rows, layout)
    index = {} if t is None else header_index(profile)[t.name]
    out = []
    for h in layout.headers:
        entry: dict = {"col": excel_column(h.col), "header": h.text, "column": None}
        entry |= {"unit": None, "unit_source": ""}
        if is_pii_header(h.text):
            entry["status"] = "personal_data"
        elif h.col in by_col:
            name = by_col[h.col]
            in_units_row = (
                units_at is not None
                and h.col < len(rows[units_at])
                and str(rows[units_at][h.col]).strip() != ""
            )
            unit, source = column_unit(mapped[name], layout, units_row=in_units_row)
            entry |= {"status": "mapped", "column": name, "unit": unit, "unit_source": source}
        elif any(k in index for k in h.keys):
            entry["status"] = "duplicate"
        elif is_ignored_header(h.text):
            entry["status"] = "ignored"
        else:
            entry["status"] = "unmapped"
        out.append(entry)
    return out


def _profile_word(header: str) -> str:
    """The header as a profile word: without its unit bracket (``补助（元）`` → ``补助``)."""
    name, _ = split_header_unit(header)
    return name or header


def header_findings(
    columns: list[dict], sheet: RawSheet, layout: SheetLayout, t: Table
) -> list[pd.DataFrame]:
    """No silent loss: a warning per unmapped header, an info per personal-data header.

    ``unmapped_header`` (warning) names file, sheet, column letter and header, and the profile
    line that would map it; ``pii_ignored`` (info) gives the header text only, never a cell.
    """
    origin = f"{sheet.file}#{sheet.sheet}!{layout.header_row + 1}"
    where = f"文件「{sheet.file}」工作表「{sheet.sheet}」"
    findings = []
    for c in columns:
        if c["status"] == "unmapped":
            word = json.dumps(_profile_word(c["header"]), ensure_ascii=False)
            findings.append(
                finding(
                    origin,
                    t.name,
                    "",
                    c["header"],
                    "unmapped_header",
                    "warning",
                    f"{where}列 {c['col']} 表头「{c['header']}」不对应{t.label}的任何字段，"
                    f"该列未读取；如需读取，在 zhengshou.toml 的 [headers.{t.name}] 中把 {word} "
                    f"加到对应字段 (unmapped header, column not read; add it to "
                    f"[headers.{t.name}] under its column)",
                )
            )
        elif c["status"] == "personal_data":
            findings.append(
                finding(
                    origin,
                    t.name,
                    "",
                    c["header"],
                    "pii_ignored",
                    "info",
                    f"{where}列 {c['col']} 表头「{c['header']}」为个人信息，该列不读取 "
                    "(personal data: the column is never read)",
                )
            )
    return findings


def _unknown_zone_findings(
    values: dict[str, pd.Series],
    unknown: dict[str, pd.Series],
    mapped: dict[str, MappedColumn],
    origins: pd.Series,
    t: Table,
) -> tuple[list[pd.DataFrame], list[dict]]:
    """One ``unknown_zone`` warning per distinct 片区 value that is no 片区 or alias, per sheet.

    The warning counts the rows with that value and names the first (its origin). Also returns
    the same as records (``value``, ``rows``, ``first``) for the sheet's manifest entry.
    """
    mask = unknown.get("zone")
    if mask is None or not mask.any():
        return [], []
    m = mapped["zone"]
    written = values["zone"][mask].astype("str")
    findings = []
    records = []
    for value, rows in written.groupby(written, sort=False):
        first = origins[rows.index[0]]
        records.append({"value": value, "rows": len(rows), "first": first})
        word = json.dumps(value, ensure_ascii=False)
        findings.append(
            finding(
                first,
                t.name,
                "zone",
                value,
                "unknown_zone",
                "warning",
                f"{m.where}: 片区「{value}」不是已知片区（{len(rows)} 行，首见 {first}），按原文保留；"
                f'如为某片区的别名，在 zhengshou.toml 的 [zones] 中加入，如 "某某片区" = [{word}] '
                f"(unknown 片区 kept as written; add it to [zones] as an alias or a 片区)",
            )
        )
    return findings, records


def _raw_columns(
    data: pd.DataFrame,
    mapped: dict[str, MappedColumn],
    origins: pd.Series,
    t: Table,
    *,
    is_csv: bool,
) -> tuple[dict[str, pd.Series], list[pd.DataFrame]]:
    """The raw cells of every mapped column; in a CSV, blank category cells take the row above.

    A CSV has no merge information, so a blank group cell repeats the one above (an ``ffill``
    info per filled cell).
    """
    raws: dict[str, pd.Series] = {}
    findings = []
    for name, m in mapped.items():
        raw = data[m.col] if len(data) else pd.Series([], dtype=object)
        if m.column.category and is_csv:
            blank = raw.eq("")
            filled = raw.where(~blank).ffill()
            hit = blank & filled.notna()
            if hit.any():
                findings.append(
                    pd.DataFrame(
                        {
                            "origin": origins[hit],
                            "table": t.name,
                            "column": name,
                            "raw_value": "",
                            "action": "ffill",
                            "severity": "info",
                            "message": f"{m.where}: 空白分类单元格取上一行的值 "
                            + filled[hit].astype("str")
                            + " (blank group cell of a CSV filled from the row above)",
                        }
                    )
                )
            raw = filled.fillna("")
        raws[name] = raw
    return raws, findings


class _TypedColumn(NamedTuple):
    """One mapped column parsed: canonical values, the scale applied, the vocabulary mask and the
    parser's findings with their origins (``None``: none)."""

    values: pd.Series
    factor: float
    #: True where the text is outside the column's vocabulary (``None``: all known, or no vocabulary)
    outside: pd.Series | None
    findings: pd.DataFrame | None


def _typed_column(
    raw: pd.Series, m: MappedColumn, layout: SheetLayout, t: Table, prefix: str
) -> _TypedColumn:
    """Parse one mapped column into canonical values (text mapped to its vocabulary) and its
    findings, each with its origin (``prefix`` + the 1-based row) and the column's place."""
    vals, finds, factor = parse_column(raw, m, layout)
    outside = None
    if m.column.dtype == "str":
        vals, known = normalize_values(vals, m.column)
        if m.column.values and not known.all():
            outside = ~known
    if not len(finds):
        return _TypedColumn(vals, factor, outside, None)
    finds = finds.assign(
        origin=prefix + (finds["row"].astype("int64") + 1).astype("str"),
        table=t.name,
        column=m.column.name,
        message=m.where + ": " + finds["message"].astype("str"),
    )
    return _TypedColumn(vals, factor, outside, finds)


def _typed_columns(
    raws: dict[str, pd.Series],
    mapped: dict[str, MappedColumn],
    layout: SheetLayout,
    t: Table,
    prefix: str,
    unknown: dict[str, pd.Series] | None = None,
) -> tuple[dict[str, pd.Series], dict[str, float], list[pd.DataFrame]]:
    """Canonical values per column, the scale of each, and the parsers' findings with origins.

    Columns are parsed two at a time (:func:`_typed_column`): most of the work is pyarrow
    compute, which releases the GIL, so two threads use both cores. Results are taken in column
    order: the log stays ordered. The threads end with the block: none outlives the call (a fork
    later must find no thread).

    Text of a vocabulary column is mapped to canonical values; for a closed vocabulary, an
    ``_unknown_<column>`` mask (before the column) marks the values outside it; for an open one,
    the mask of the values kept as written goes into ``unknown`` (when given).
    """
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="zs-parse") as pool:
        typed = list(pool.map(lambda n: _typed_column(raws[n], mapped[n], layout, t, prefix), raws))
    values: dict[str, pd.Series] = {}
    factors: dict[str, float] = {}
    findings = []
    for name, col in zip(raws, typed, strict=True):
        factors[name] = col.factor
        if col.outside is not None:
            if mapped[name].column.closed:
                values[f"_unknown_{name}"] = col.outside
            elif unknown is not None:
                unknown[name] = col.outside
        values[name] = col.values
        if col.findings is not None:
            findings.append(col.findings)
    return values, factors, findings


def _derive_sheet_columns(
    frame: pd.DataFrame,
    layout: SheetLayout,
    t: Table,
    mapped: dict[str, MappedColumn],
    prefix: str,
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Columns the sheet implies, and names to link later.

    The projects' year from the title (a ``derived`` info); the transition fee basis from the fee
    rate's unit (元/㎡/月 → ``per_m2``). References written as names (项目名称, 安置区; a
    ``project_id`` column matched with priority ≥ 1 is a 项目名称) move to ``_project_name`` /
    ``_site_name`` and are linked to ids after all sheets are read.
    """
    frame = frame.copy(deep=False)
    findings = []
    if t.name == "projects" and "year" not in mapped and layout.title_year is not None:
        frame["year"] = pd.array([layout.title_year] * len(frame), dtype="Int64")
        findings.append(
            finding(
                prefix + str(layout.header_row + 1),
                t.name,
                "year",
                str(layout.title_year),
                "derived",
                "info",
                f"年度取自标题行 (year {layout.title_year} from the title)",
            )
        )
    if t.name == "transition" and "fee_basis" not in mapped and "fee_rate_yuan" in mapped:
        basis = FEE_RATE_BASIS.get(mapped["fee_rate_yuan"].unit or "")
        if basis:
            frame["fee_basis"] = basis
    if (
        t.name in ("agreements", "payments", "funding")
        and "project_id" in mapped
        and mapped["project_id"].priority >= 1
    ):
        frame["_project_name"] = frame["project_id"]
        frame["project_id"] = pd.NA
    if t.name in ("agreements", "transition") and "site_id" in mapped:
        frame["_site_name"] = frame["site_id"]
        frame["site_id"] = pd.NA
    return frame, findings


def _row_counts(
    sheet: RawSheet,
    layout: SheetLayout,
    t: Table,
    kinds: pd.Series,
    n_data: int,
    columns: list[dict],
) -> dict:
    """The sheet's manifest entry: where its header is, how many rows of each kind it has, why
    it feeds its table and what became of each header (``columns``, :func:`column_map`)."""
    return {
        "file": sheet.file,
        "sheet": sheet.sheet,
        "table": t.name,
        "status": "used",
        "header_row": layout.header_row + 1,
        "header_rows": layout.header_rows,
        "rows_in_sheet": len(sheet.rows),
        "rows_above_header": layout.header_row,
        "title_rows": layout.title_rows,
        "blank_rows": int((kinds == "blank").sum()),
        "total_rows": int((kinds == "total").sum()),
        "subtotal_rows": int((kinds == "subtotal").sum()),
        "qizhong_rows": int((kinds == "qizhong").sum()),
        "note_rows": int((kinds == "note").sum()),
        "raw_data_rows": n_data,
        "synthetic_label": "示例数据" in layout.title_text,
        "unmapped_headers": [c["header"] for c in columns if c["status"] == "unmapped"],
        "ignored_headers": [c["header"] for c in columns if c["status"] == "ignored"],
        "personal_data_columns_ignored": [
            c["header"] for c in columns if c["status"] == "personal_data"
        ],
        "decided_by": {
            "headers": [c["header"] for c in columns if c["status"] == "mapped"],
            "name_hint": name_hint(sheet, t),
        },
        "columns": columns,
    }


def clean_sheet(
    sheet: RawSheet,
    layout: SheetLayout,
    t: Table,
    mapped: dict[str, MappedColumn],
    *,
    profile: Profile | None = None,
) -> CleanedSheet:
    """Clean one sheet that feeds table ``t``.

    Parameters
    ----------
    sheet
        The raw sheet.
    layout
        Its layout (header position, title unit and year).
    t
        The table it feeds (from :func:`~.classify.classify_sheet`).
    mapped
        Its mapped columns; at least one.
    profile
        The office profile the mapping used (its 片区 aliases ride on the mapped ``zone``).

    Returns
    -------
    CleanedSheet
        Kept rows, rejected rows, findings (in the order of the steps) and row counts. Every data
        row is either kept or rejected; 合计/小计, 其中, blank and note rows are counted, not kept.
    """
    prefix = f"{sheet.file}#{sheet.sheet}!"
    grid = _grid(sheet)
    block = grid.iloc[layout.first_data_row :]
    kinds = classify_rows(block, label_cols=_label_columns(mapped), no_missing=True)
    data = block[kinds == "data"]
    origins = prefix + pd.Series(data.index + 1, index=data.index).astype("str")
    is_csv = sheet.file.lower().endswith(".csv")
    # as written, before merged cells are spread; unmapped columns withheld (docs/data_contract.md §6)
    cells = row_cells(data, layout, (m.col for m in mapped.values()))

    columns = column_map(sheet.rows, layout, t, mapped, profile)
    data, findings = _spread_merged_categories(data, grid, sheet, layout, t, mapped)
    findings += _header_findings(layout, t, mapped, prefix, profile)
    findings += header_findings(columns, sheet, layout, t)
    raws, ffilled = _raw_columns(data, mapped, origins, t, is_csv=is_csv)
    findings += ffilled
    unknown: dict[str, pd.Series] = {}
    values, factors, parse_findings = _typed_columns(raws, mapped, layout, t, prefix, unknown)
    findings += parse_findings
    zone_findings, unknown_zones = _unknown_zone_findings(values, unknown, mapped, origins, t)
    findings += zone_findings

    frame = pd.DataFrame(values, index=data.index)
    frame["origin"] = origins
    frame, derived = _derive_sheet_columns(frame, layout, t, mapped, prefix)
    findings += derived

    reasons = reject_reasons(frame, t, mapped)
    findings += check_totals(
        block, kinds, mapped, values, factors, layout=layout, t=t, prefix=prefix
    )
    counts = _row_counts(sheet, layout, t, kinds, len(data), columns)
    counts["unknown_zones"] = unknown_zones
    kept = frame.drop(index=reasons.index)
    rejected = rejected_rows(reasons, cells, sheet, t)
    return CleanedSheet(t.name, kept, rejected, counts, findings, cells)
