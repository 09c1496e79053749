"""Raw ledgers in, canonical tables out, nothing lost (data contract §1–3).

:func:`clean_ledgers` reads every ledger of a raw folder, classifies each sheet by its header,
parses every mapped column (vectorised, :mod:`.parse`), rejects the rows that cannot enter their
table with a reason, checks 合计/小计 rows against the detail rows, links projects and resettlement
sites across ledgers, and proves row conservation for every sheet. :func:`write_clean_outputs`
writes the six Parquet tables, ``quality_log.csv``, ``rejected.csv`` and ``manifest.json``.

Personal-data columns (names, ID numbers, phones) are recognised by their header and never read
into any output: not the tables, not the log, not the rejected rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..exceptions import InputError, SchemaError
from ..periods import months_between
from ..schemas import TABLES, TRANSITION, Column, Table, empty_table, pandas_dtype
from ..settings import DEFAULT_PAYMENT_TERM_DAYS
from ..units import FEE_RATE_BASIS, MONEY_UNITS, unit_factor
from .ingest import RawSheet, list_raw_files, read_raw_file
from .layout import SheetLayout, classify_rows, find_layout, header_index, is_pii_header
from .parse import parse_dates, parse_numbers, parse_text

__all__ = [
    "QUALITY_COLUMNS",
    "CleanError",
    "CleanResult",
    "clean_ledgers",
    "normalize_name",
    "write_clean_outputs",
]

log = logging.getLogger(__name__)

QUALITY_COLUMNS = ["origin", "table", "column", "raw_value", "action", "severity", "message"]
REJECTED_COLUMNS = ["origin", "table", "reason", "raw_cells"]

#: Words that mean "not delivered" in a delivery-date column (NA, not an error).
NOT_DELIVERED = ("未交付", "在建", "未完成", "未交房")
#: Dates outside this range are kept but flagged as implausible.
PLAUSIBLE_YEARS = (1990, 2060)


class CleanError(InputError):
    """The raw folder cannot give trustworthy tables; ``result`` holds what was found."""

    def __init__(self, message: str, *, result: CleanResult, **where) -> None:
        super().__init__(message, **where)
        self.result = result


@dataclass
class CleanResult:
    """The outcome of :func:`clean_ledgers`.

    Attributes
    ----------
    tables
        The six canonical tables (data contract §3), each with ``origin``.
    quality_log
        One row per finding: ``origin, table, column, raw_value, action, severity, message``.
    rejected
        Every raw data row that could not enter its table: ``origin, table, reason, raw_cells``
        (the row's cells as JSON, header → value, personal-data columns blanked).
    manifest
        Inputs with SHA-256 and size, per-sheet and per-table row counts, version, run time.
    """

    tables: dict[str, pd.DataFrame]
    quality_log: pd.DataFrame
    rejected: pd.DataFrame
    manifest: dict
    errors: list[InputError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the run produced no ``error``."""
        return not (self.quality_log["severity"] == "error").any()


# --- helpers -------------------------------------------------------------------------------------


def normalize_name(values: pd.Series) -> pd.Series:
    """Normalise project/site names for linking: NFKC, no whitespace (NA stays NA).

    Names repeat (thousands of agreements, dozens of projects): each distinct name is normalised
    once and mapped back.
    """
    uniq = pd.Series(values.dropna().unique(), dtype="str")
    norm = uniq.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)
    return values.map(dict(zip(uniq, norm, strict=True))).astype("str").where(values.notna())


def _derive_ids(names: pd.Series, prefix: str) -> pd.Series:
    """Stable ids from normalised names: ``prefix`` + 8 hex digits of SHA-1."""
    uniq = names.dropna().unique()
    ids = {n: f"{prefix}{hashlib.sha1(n.encode('utf-8')).hexdigest()[:8]}" for n in uniq}
    return names.map(ids)


def _excel_col(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _findings_frame(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows
    for c in QUALITY_COLUMNS:
        if c not in df:
            df[c] = pd.Series(dtype="str")
    return df[QUALITY_COLUMNS].astype("str")


class _Log:
    """Accumulates quality-log frames."""

    def __init__(self) -> None:
        self.frames: list[pd.DataFrame] = []

    def add(self, origin, table, column, raw_value, action, severity, message) -> None:
        self.frames.append(
            _findings_frame(
                [
                    {
                        "origin": origin,
                        "table": table,
                        "column": column,
                        "raw_value": raw_value,
                        "action": action,
                        "severity": severity,
                        "message": message,
                    }
                ]
            )
        )

    def add_frame(self, df: pd.DataFrame) -> None:
        if len(df):
            self.frames.append(_findings_frame(df))

    def frame(self) -> pd.DataFrame:
        if not self.frames:
            return _findings_frame([])
        return pd.concat(self.frames, ignore_index=True)


@dataclass
class _Mapped:
    column: Column
    col: int
    header: str
    unit: str | None
    priority: int

    @property
    def where(self) -> str:
        return f"列 {_excel_col(self.col)}「{self.header}」"


@dataclass
class _SheetOut:
    table: str
    frame: pd.DataFrame  # canonical columns + origin + helper columns starting with "_"
    rejected: pd.DataFrame
    counts: dict


# --- classification ------------------------------------------------------------------------------


def _map_headers(layout: SheetLayout, t: Table) -> tuple[dict[str, _Mapped], list[str]]:
    index = header_index()[t.name]
    mapped: dict[str, _Mapped] = {}
    ignored = []
    for h in layout.headers:
        if is_pii_header(h.text):
            continue
        hit = next((index[k] for k in h.keys if k in index), None)
        if hit is None:
            continue
        col, prio = hit
        cand = _Mapped(col, h.col, h.text, h.unit, prio)
        prev = mapped.get(col.name)
        if prev is None or cand.priority < prev.priority:
            if prev is not None:
                ignored.append(prev.header)
            mapped[col.name] = cand
        else:
            ignored.append(h.text)
    return mapped, ignored


def _derivable(t: Table, name: str, layout: SheetLayout, mapped: dict[str, _Mapped]) -> bool:
    if t.name == "projects" and name == "year":
        return layout.title_year is not None
    if t.name == "transition" and name == "fee_basis":
        rate = mapped.get("fee_rate_yuan")
        return rate is not None and rate.unit in FEE_RATE_BASIS
    return False


def _classify(
    sheet: RawSheet, layout: SheetLayout
) -> tuple[Table | None, dict[str, _Mapped], list[str], str]:
    """Pick the table a sheet feeds. Returns (table, mapping, missing required, note)."""
    hint_text = f"{sheet.file} {sheet.sheet}"
    scored = []
    for t in TABLES.values():
        mapped, _ = _map_headers(layout, t)
        hint = any(h in hint_text for h in t.name_hints)
        req = sum(c in mapped for c in t.required)
        scored.append((len(mapped), hint, req, t, mapped))
    scored.sort(key=lambda s: (s[0], s[1], s[2]), reverse=True)
    n, hint, _, t, mapped = scored[0]
    if n < 2:
        return None, {}, [], "no table matches its header"
    missing = [c for c in t.required if c not in mapped and not _derivable(t, c, layout, mapped)]
    if not missing or hint or n >= 4:
        return t, mapped, missing, ""
    return (
        None,
        {},
        [],
        (
            f"header looks partly like {t.name} ({', '.join(mapped)}) but lacks "
            f"{', '.join(missing)} and neither the file nor the sheet name says {t.label}"
        ),
    )


# --- per-sheet cleaning --------------------------------------------------------------------------


def _header_unit_fits(m: _Mapped) -> bool:
    """Whether the unit in the header's brackets is a unit of this column (not ``（含奖励）``)."""
    return m.unit is not None and unit_factor(m.unit, m.column.unit) is not None


def _column_factor(m: _Mapped, layout: SheetLayout) -> float:
    """Scale of bare numbers in a column: the header's unit, else the title's 单位 for money."""
    if _header_unit_fits(m):
        return float(unit_factor(m.unit, m.column.unit))
    if m.column.unit == "yuan" and layout.title_unit in MONEY_UNITS:
        return MONEY_UNITS[layout.title_unit]
    return 1.0


def _parse_column(
    raw: pd.Series, m: _Mapped, layout: SheetLayout
) -> tuple[pd.Series, pd.DataFrame, float]:
    """Parse one mapped column. Returns (values, findings, unit factor of bare numbers)."""
    col = m.column
    factor = 1.0
    if col.dtype == "date":
        missing = NOT_DELIVERED if col.name == "delivered_date" else ()
        p = parse_dates(raw, missing=missing)
        return p.values, p.findings, factor
    if col.dtype == "str":
        p = parse_text(raw)
        return p.values, p.findings, factor
    # numbers
    factor = _column_factor(m, layout)
    if col.name == "year":
        is_str = raw.map(lambda v: isinstance(v, str))
        raw = raw.where(~is_str, raw.astype("str").str.replace(r"\s*年度?$", "", regex=True))
    p = parse_numbers(raw, unit=col.unit, scale=factor, decimals=2 if col.unit == "yuan" else None)
    values = p.values
    findings = p.findings
    if col.dtype == "int":
        frac = values.notna() & (values.round() != values)
        if frac.any():
            extra = pd.DataFrame(
                {
                    "row": values.index[frac],
                    "raw_value": raw[frac].astype("str"),
                    "action": "unparseable",
                    "severity": "warning",
                    "message": "不是整数 (a whole number is expected)",
                }
            )
            findings = pd.concat([findings, extra], ignore_index=True)
            values = values.where(~frac)
        values = values.round().astype("Int64")
    return values, findings, factor


def _normalize_values(values: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """Map enumerated spellings to canonical values. Returns (values, known mask)."""
    if not col.values:
        return values, pd.Series(True, index=values.index)
    out = values.map(col.values)
    for syn in sorted(col.values, key=len, reverse=True):
        todo = out.isna() & values.notna()
        if not todo.any():
            break
        hit = todo & values.str.contains(syn, regex=False).fillna(False).astype(bool)
        out = out.where(~hit, col.values[syn])
    known = out.notna() | values.isna()
    return out.where(out.notna(), values), known


def _clean_sheet(
    sheet: RawSheet, layout: SheetLayout, t: Table, mapped: dict[str, _Mapped], qlog: _Log
) -> _SheetOut:
    prefix = f"{sheet.file}#{sheet.sheet}!"
    width = max((len(r) for r in sheet.rows), default=0)
    rows = [r if len(r) == width else [*r, *([""] * (width - len(r)))] for r in sheet.rows]
    grid = pd.DataFrame(rows, dtype=object)  # readers give "" for empty cells: no NA to fill
    block = grid.iloc[layout.first_data_row :]
    # A 合计/其中 label stands in a descriptive column (text, e.g. 项目名称 even right of a 年度
    # column), in the leading unmapped ones (序号) or in the first mapped column (even a date
    # column), but never in 备注 or trailing free-text columns (其中：2户未签约).
    first_mapped = min(m.col for m in mapped.values())
    label_cols = [
        m.col for m in mapped.values() if m.column.dtype == "str" and m.column.name != "note"
    ]
    label_cols += list(range(first_mapped + 1))
    kinds = classify_rows(block, label_cols=sorted(label_cols), no_missing=True)
    data = block[kinds == "data"]
    origins = prefix + pd.Series(data.index + 1, index=data.index).astype("str")
    is_csv = sheet.file.lower().endswith(".csv")

    # Vertically merged category cells: spread the merged value over its range first.
    cat_cols = {m.col for m in mapped.values() if m.column.category}
    for r0, c0, r1, c1 in sheet.merged:
        if c0 == c1 and c0 in cat_cols and r1 > r0 >= layout.first_data_row:
            idx = [i for i in range(r0 + 1, r1 + 1) if i in data.index]
            if idx:
                data.loc[idx, c0] = grid.iat[r0, c0]
                name = next(n for n, m in mapped.items() if m.col == c0)
                qlog.add(
                    prefix + str(r0 + 1),
                    t.name,
                    name,
                    str(grid.iat[r0, c0]),
                    "ffill",
                    "info",
                    f"{mapped[name].where}: 合并单元格的值填入第 {r0 + 2}–{r1 + 1} 行 "
                    "(vertically merged category cell spread over its rows)",
                )

    _, ignored = _map_headers(layout, t)
    for header in ignored:
        qlog.add(
            prefix + str(layout.header_row + 1),
            t.name,
            "",
            header,
            "duplicate_header",
            "warning",
            f"表头「{header}」与另一列对应同一字段，已忽略该列 (a second column for "
            "the same field; only the first is read)",
        )
    for name, m in mapped.items():
        if m.unit is not None and m.column.dtype in ("float", "int") and not _header_unit_fits(m):
            qlog.add(
                prefix + str(layout.header_row + 1),
                t.name,
                name,
                m.header,
                "header_unit",
                "warning",
                f"{m.where}: 括号内「{m.unit}」不是该列的单位，已忽略 (bracket text "
                "is not a unit of this column; the sheet's unit applies)",
            )

    values: dict[str, pd.Series] = {}
    factors: dict[str, float] = {}
    raws: dict[str, pd.Series] = {}
    for name, m in mapped.items():
        raw = data[m.col] if len(data) else pd.Series([], dtype=object)
        if m.column.category and is_csv:
            # a CSV has no merge information: a blank group cell repeats the one above
            blank = raw.eq("")
            filled = raw.where(~blank).ffill()
            hit = blank & filled.notna()
            if hit.any():
                qlog.add_frame(
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

    # Columns parse independently; most of the work is pyarrow compute, which releases the GIL,
    # so two threads use both cores. Results are taken in column order: the log stays ordered.
    # The threads end with the block: none outlives the call (a fork later must find no thread).
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="zs-parse") as pool:
        results = list(pool.map(lambda n: _parse_column(raws[n], mapped[n], layout), raws))
    parsed = dict(zip(raws, results, strict=True))
    for name, m in mapped.items():
        vals, finds, factor = parsed[name]
        factors[name] = factor
        if m.column.dtype == "str":
            vals, known = _normalize_values(vals, m.column)
            if m.column.closed and not known.all():
                values[f"_unknown_{name}"] = ~known
        values[name] = vals
        if len(finds):
            finds = finds.assign(
                origin=prefix + (finds["row"].astype("int64") + 1).astype("str"),
                table=t.name,
                column=name,
                message=m.where + ": " + finds["message"].astype("str"),
            )
            qlog.add_frame(finds)

    frame = pd.DataFrame(values, index=data.index)
    frame["origin"] = origins

    # derived columns of this sheet
    if t.name == "projects" and "year" not in mapped and layout.title_year is not None:
        frame["year"] = pd.array([layout.title_year] * len(frame), dtype="Int64")
        qlog.add(
            prefix + str(layout.header_row + 1),
            t.name,
            "year",
            str(layout.title_year),
            "derived",
            "info",
            f"年度取自标题行 (year {layout.title_year} from the title)",
        )
    if t.name == "transition" and "fee_basis" not in mapped and "fee_rate_yuan" in mapped:
        basis = FEE_RATE_BASIS.get(mapped["fee_rate_yuan"].unit or "")
        if basis:
            frame["fee_basis"] = basis
    # References written as names (项目名称, 安置区) are linked to ids after all sheets are read.
    # (priority >= 1: the column matched 项目名称, not 项目编号)
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

    rejected = _reject_rows(frame, t, mapped, data, layout, sheet)
    _check_totals(block, kinds, mapped, layout, t, prefix, factors, values, qlog)

    counts = {
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
        "raw_data_rows": len(data),
        "synthetic_label": "示例数据" in layout.title_text,
        "unmapped_headers": [h for h in layout.unmatched if not is_pii_header(h)],
        "personal_data_columns_ignored": [h.text for h in layout.headers if is_pii_header(h.text)],
    }
    kept = frame.drop(index=rejected.index)
    return _SheetOut(t.name, kept, _rejected_frame(rejected, data, sheet, mapped, t), counts)


def _reject_rows(frame, t, mapped, data, layout, sheet) -> pd.Series:
    """Reasons for rejecting rows (Series indexed like ``frame``, only rejected rows)."""
    flags: list[tuple[np.ndarray, str]] = []

    def flag(mask: pd.Series, reason: str) -> None:
        m = mask.fillna(False).to_numpy(dtype=bool)
        if m.any():
            flags.append((m, reason))

    for c in t.required:
        if c not in frame:
            continue
        m = mapped.get(c)
        where = m.where if m else c
        flag(frame[c].isna(), f"必填列缺失或无法解析 ({where}, required {c})")
    for c in t.columns:
        if c.dtype in ("float", "int") and c.name in frame and c.unit in ("yuan", "m2", "mu"):
            must_be_positive = t.name in ("payments", "funding") and c.name == "amount_yuan"
            bad = frame[c.name] <= 0 if must_be_positive else frame[c.name] < 0
            flag(bad, f"{c.label} {'必须大于0' if must_be_positive else '不能为负数'} ({c.name})")
    for c, bad in ((k, frame[k]) for k in frame if k.startswith("_unknown_")):
        name = c.removeprefix("_unknown_")
        flag(bad, f"{t.column(name).label} 的值不在允许范围内 ({name})")
    if t.name == "sites":
        for c in ("promised_date", "delivered_date"):
            if c in frame and "start_date" in frame:
                flag(
                    frame[c] < frame["start_date"],
                    f"{t.column(c).label}早于开工日期 ({c} < start_date)",
                )
    if t.name == "transition":
        if "end_date" in frame:
            flag(
                frame["end_date"] < frame["start_date"],
                "过渡结束日期早于开始日期 (end_date < start_date)",
            )
        basis = frame.get("fee_basis")
        # a fee per m² needs the area, a fee per person the number of persons
        for kind, col, label in (
            ("per_m2", "area_m2", "按面积计费"),
            ("per_person", "persons", "按人计费"),
        ):
            if basis is None:
                break
            needed = basis.eq(kind)
            if col in frame:
                flag(
                    needed & frame[col].isna(),
                    f"{label}但缺少{TRANSITION.column(col).label} ({col})",
                )
            else:
                flag(needed, f"{label}但台账没有{TRANSITION.column(col).label}列 ({col})")
    if not flags:
        return pd.Series([], dtype="str", index=frame.index[:0])
    hit = np.logical_or.reduce([m for m, _ in flags])
    parts = np.full(int(hit.sum()), "", dtype=object)
    for m, reason in flags:
        parts = np.where(m[hit], parts + reason + "; ", parts)
    return pd.Series(parts, index=frame.index[hit], dtype="str").str.removesuffix("; ")


def _rejected_frame(reasons: pd.Series, data: pd.DataFrame, sheet, mapped, t) -> pd.DataFrame:
    if reasons.empty:
        return pd.DataFrame(
            {
                "origin": pd.Series(dtype="str"),
                "table": pd.Series(dtype="str"),
                "reason": pd.Series(dtype="str"),
                "raw_cells": pd.Series(dtype="str"),
            }
        ).set_index(pd.Index([], dtype="int64"))
    # Only the cells of mapped columns: an unmapped column may hold personal data under a header
    # no word list foresees (产权人, 代理人 …), so it is never copied.
    cols = sorted((m.col, m.header) for m in mapped.values())
    rows = data.loc[reasons.index, [c for c, _ in cols]]
    names = [h for _, h in cols]
    cells = [
        json.dumps(
            {k: v for k, v in zip(names, rec, strict=True) if v != "" and v is not None},
            ensure_ascii=False,
            default=str,
        )
        for rec in rows.itertuples(index=False, name=None)
    ]
    prefix = f"{sheet.file}#{sheet.sheet}!"
    return pd.DataFrame(
        {
            "origin": prefix + pd.Series(reasons.index + 1, index=reasons.index).astype("str"),
            "table": t.name,
            "reason": reasons,
            "raw_cells": cells,
        },
        index=reasons.index,
    )


def _check_totals(block, kinds, mapped, layout, t, prefix, factors, values, qlog) -> None:
    """Compare 合计/总计 rows with all detail rows, 小计 rows with the rows since the last 小计.

    The tolerance is 0.01 of the sheet's unit or 0.1% of the stated total, whichever is larger.
    A mismatch is a ``warning`` naming both numbers; an agreeing total an ``info``.
    """
    numeric = {
        n: m
        for n, m in mapped.items()
        if m.column.dtype in ("float", "int")
        and m.column.unit in ("yuan", "m2", "mu", "unit", "person")
    }
    is_tot = kinds.isin(["total", "subtotal"])
    if not numeric or not is_tot.any():
        return
    group = (kinds == "subtotal").cumsum().shift(fill_value=0)  # rows up to and incl. a 小计
    tot_rows = kinds[is_tot]
    for name, m in numeric.items():
        detail = values[name].astype("float64").fillna(0.0).reindex(kinds.index, fill_value=0.0)
        detail = detail.where(kinds == "data", 0.0)
        by_group = detail.groupby(group).sum()
        expected = pd.Series(
            np.where(tot_rows == "total", detail.sum(), group[tot_rows.index].map(by_group)),
            index=tot_rows.index,
        )
        stated, _, _ = _parse_column(block.loc[tot_rows.index, m.col], m, layout)
        stated = stated.astype("float64")
        ok = stated.notna()
        if not ok.any():
            continue
        st, ex, kd = stated[ok], expected[ok], tot_rows[ok]
        tol = np.maximum(0.01 * factors.get(name, 1.0), 0.001 * st.abs())
        bad = (st - ex).abs() > tol
        label = np.where(kd == "total", "合计", "小计")
        fmt = lambda x: x.map("{:,.2f}".format)  # noqa: E731
        raw = block.loc[st.index, m.col].astype("str")
        msg_bad = (
            f"{m.where}: "
            + label
            + "行 "
            + fmt(st)
            + " 与明细之和 "
            + fmt(ex)
            + " 不符 (difference "
            + fmt(st - ex)
            + "; stated total vs sum of detail rows)"
        )
        msg_ok = f"{m.where}: " + label + "行与明细之和一致 (" + fmt(ex) + ")"
        qlog.add_frame(
            pd.DataFrame(
                {
                    "origin": prefix + (st.index + 1).astype("str"),
                    "table": t.name,
                    "column": name,
                    "raw_value": raw,
                    "action": np.where(bad, "total_mismatch", "total_checked"),
                    "severity": np.where(bad, "warning", "info"),
                    "message": msg_bad.where(bad, msg_ok),
                },
                index=st.index,
            )
        )


# --- the whole folder ----------------------------------------------------------------------------


def _sort_by_origin(df: pd.DataFrame) -> pd.DataFrame:
    """Order rows as a person reads the ledgers: by file, sheet, then row number."""
    if df.empty:
        return df.reset_index(drop=True)
    parts = df["origin"].str.rpartition("!")
    order = pd.DataFrame({"sheet": parts[0], "row": pd.to_numeric(parts[2], errors="coerce")})
    return df.loc[order.sort_values(["sheet", "row"], kind="stable").index].reset_index(drop=True)


def _concat(outs: Iterable[_SheetOut], t: Table) -> pd.DataFrame:
    frames = [o.frame for o in outs if o.table == t.name]
    base = empty_table(t.name)
    if not frames:
        return base
    df = pd.concat(frames, ignore_index=True)
    for c in t.columns:
        if c.name not in df:
            df[c.name] = pd.Series(
                np.nan if c.dtype == "float" else pd.NA, index=df.index, dtype=pandas_dtype(c)
            )
    return df


def _link_names(
    df: pd.DataFrame, ref: str, helper: str, lookup: pd.Series, prefix: str, t: str, qlog: _Log
) -> pd.DataFrame:
    if helper not in df:
        return df
    # resolve each distinct name once (thousands of rows, dozens of names), then take per row
    codes, uniq = pd.factorize(df[helper])
    norm = normalize_name(pd.Series(uniq, dtype="str"))
    uid = norm.map(lookup)
    missing_u = (uid.isna() & norm.notna()).to_numpy(dtype=bool)
    if missing_u.any():
        uid = uid.mask(pd.Series(missing_u, index=uid.index), _derive_ids(norm, prefix))
    table_ids = np.append(uid.to_numpy(dtype=object), None)  # code -1 (no name) → None
    ids = pd.Series(table_ids[codes], index=df.index, dtype="str")
    unmatched = pd.Series(np.append(missing_u, False)[codes], index=df.index)
    if unmatched.any():
        qlog.add_frame(
            pd.DataFrame(
                {
                    "origin": df.loc[unmatched, "origin"],
                    "table": t,
                    "column": ref,
                    "raw_value": df.loc[unmatched, helper].astype("str"),
                    "action": "unmatched_name",
                    "severity": "warning",
                    "message": "名称在"
                    + ("项目" if ref == "project_id" else "安置区")
                    + "台账中找不到，保留派生编号 (no such name in the "
                    + ("projects" if ref == "project_id" else "sites")
                    + " ledger; kept with a derived id)",
                }
            )
        )
    df = df.assign(**{ref: df[ref].where(df[ref].notna(), ids)})
    return df.drop(columns=[helper])


def _dedupe(df: pd.DataFrame, t: Table, rejected: list[pd.DataFrame]) -> pd.DataFrame:
    if not t.key or df.empty:
        return df
    key = list(t.key)
    repeated = df.duplicated(key, keep="first")
    dup = repeated & df[key].notna().all(axis=1)
    if not dup.any():
        return df
    first = df[~repeated].set_index(key)["origin"]
    firsts = (
        df.loc[dup, key]
        .apply(tuple, axis=1)
        .map(lambda k: first.get(k if len(k) > 1 else k[0], ""))
    )
    rejected.append(
        pd.DataFrame(
            {
                "origin": df.loc[dup, "origin"],
                "table": t.name,
                "reason": "重复的主键 "
                + ", ".join(key)
                + " (duplicate key; first seen at "
                + firsts.astype("str")
                + ")",
                "raw_cells": df.loc[dup]
                .drop(columns=["origin"])
                .apply(
                    lambda r: json.dumps(
                        {
                            k: (None if pd.isna(v) else str(v))
                            for k, v in r.items()
                            if not k.startswith("_")
                        },
                        ensure_ascii=False,
                    ),
                    axis=1,
                ),
            }
        )
    )
    return df[~dup]


def clean_ledgers(
    raw_dir: str | os.PathLike,
    *,
    strict: bool = False,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
) -> CleanResult:
    """Clean a folder of raw ledgers into the canonical tables.

    Parameters
    ----------
    raw_dir
        The raw folder (read-only; nothing is ever written there).
    strict
        Any rejected row is an ``error`` (the run fails) instead of a ``warning``.
    payment_term_days
        ``payment_due_date`` = ``signed_date`` + this many days where the ledger gives none.

    Returns
    -------
    CleanResult
        Tables, quality log, rejected rows and manifest.

    Raises
    ------
    CleanError
        When any ``error`` was found (an unreadable file, an empty folder, a recognised sheet that
        lacks a required column, or a rejected row under ``strict``). The message names the file,
        sheet, row and column of the first error; ``exc.result`` holds the full quality log.
    """
    started = time.time()
    raw_dir = Path(raw_dir)
    qlog = _Log()
    errors: list[InputError] = []
    inputs, sheets_manifest, outs = [], [], []
    for path in list_raw_files(raw_dir):
        try:
            rf = read_raw_file(path, raw_dir)
        except InputError as exc:
            errors.append(exc)
            qlog.add(exc.file or str(path), "", "", "", "unreadable", "error", exc.reason)
            inputs.append(
                {
                    "file": path.relative_to(raw_dir).as_posix(),
                    "size_bytes": path.stat().st_size,
                    "sha256": None,
                    "error": exc.reason,
                }
            )
            continue
        inputs.append(
            {
                "file": rf.file,
                "size_bytes": rf.size_bytes,
                "sha256": rf.sha256,
                "encoding": rf.encoding,
                "sheets": [s.sheet for s in rf.sheets],
            }
        )
        for sheet in rf.sheets:
            origin = f"{sheet.file}#{sheet.sheet}"
            entry = {"file": sheet.file, "sheet": sheet.sheet, "rows_in_sheet": len(sheet.rows)}
            if sheet.hidden:
                qlog.add(
                    origin,
                    "",
                    "",
                    "",
                    "hidden_sheet",
                    "warning",
                    "隐藏的工作表未读取 (hidden sheet skipped; unhide it to include its rows)",
                )
                sheets_manifest.append({**entry, "table": None, "status": "hidden"})
                continue
            layout = find_layout(sheet.rows, sheet.merged)
            t, mapped, missing, note = (
                (None, {}, [], "no header found") if layout is None else _classify(sheet, layout)
            )
            if t is None:
                sev = "warning" if note.startswith("header looks") else "info"
                qlog.add(
                    origin,
                    "",
                    "",
                    "",
                    "sheet_skipped",
                    sev,
                    f"工作表不对应任何台账，已跳过 ({note})",
                )
                log.info("%s skipped: %s", origin, note)
                sheets_manifest.append({**entry, "table": None, "status": "skipped", "note": note})
                continue
            if missing:
                cols = ", ".join(f"{t.column(c).label} ({c})" for c in missing)
                exc = SchemaError(
                    f"被识别为{t.label} ({t.name}) 但缺少必填列: {cols}; "
                    f"accepted headers: "
                    + "; ".join(f"{c}: {'/'.join(t.column(c).headers)}" for c in missing),
                    file=sheet.file,
                    sheet=sheet.sheet,
                    row=layout.header_row + 1,
                    column=", ".join(missing),
                )
                errors.append(exc)
                qlog.add(
                    f"{origin}!{layout.header_row + 1}",
                    t.name,
                    ",".join(missing),
                    "",
                    "missing_column",
                    "error",
                    exc.reason,
                )
                sheets_manifest.append({**entry, "table": t.name, "status": "error"})
                continue
            out = _clean_sheet(sheet, layout, t, mapped, qlog)
            outs.append(out)
            sheets_manifest.append(out.counts)

    rejected_parts = [o.rejected for o in outs if len(o.rejected)]
    tables = _assemble(outs, qlog, rejected_parts, payment_term_days)
    rejected = (
        pd.concat(rejected_parts, ignore_index=True)
        if rejected_parts
        else pd.DataFrame({c: pd.Series(dtype="str") for c in REJECTED_COLUMNS})
    )[REJECTED_COLUMNS]
    rejected = _sort_by_origin(rejected)
    if len(rejected):
        rej_log = pd.DataFrame(
            {
                "origin": rejected["origin"],
                "table": rejected["table"],
                "column": "",
                "raw_value": "",
                "action": "rejected",
                "severity": "error" if strict else "warning",
                "message": "行被拒绝: " + rejected["reason"],
            }
        )
        qlog.add_frame(rej_log)
        if strict:
            first = rejected.iloc[0]
            file, _, rest = first["origin"].partition("#")
            sheet, _, row = rest.rpartition("!")
            errors.append(
                InputError(
                    f"--strict: 行被拒绝: {first['reason']}", file=file, sheet=sheet, row=int(row)
                )
            )

    manifest = _manifest(raw_dir, inputs, sheets_manifest, tables, rejected, started)
    quality_log = qlog.frame()
    result = CleanResult(tables, quality_log, rejected, manifest, errors)
    if not errors and not inputs:
        errors.append(InputError("原始台账文件夹为空", file=str(raw_dir)))
    if errors:
        first = errors[0]
        more = (
            f" (and {len(errors) - 1} more errors; see quality_log.csv)" if len(errors) > 1 else ""
        )
        raise CleanError(
            first.reason + more,
            result=result,
            file=first.file,
            sheet=first.sheet,
            row=first.row,
            column=first.column,
        )
    return result


def _assemble(outs, qlog, rejected_parts, payment_term_days) -> dict[str, pd.DataFrame]:
    tables = {name: _concat(outs, t) for name, t in TABLES.items()}

    # projects: ids from names where the ledger has no 项目编号
    p = tables["projects"]
    if len(p):
        names = normalize_name(p["project_name"])
        p = p.assign(
            project_id=p["project_id"].where(p["project_id"].notna(), _derive_ids(names, "P-"))
        )
        tables["projects"] = _dedupe(p, TABLES["projects"], rejected_parts)
    p = tables["projects"]
    project_lookup = (
        pd.Series(p["project_id"].to_numpy(), index=normalize_name(p["project_name"]).to_numpy())
        .groupby(level=0)
        .last()
        if len(p)
        else pd.Series(dtype="str")
    )

    s = tables["sites"]
    if len(s):
        names = normalize_name(s["site_name"])
        s = s.assign(site_id=s["site_id"].where(s["site_id"].notna(), _derive_ids(names, "S-")))
        s = _dedupe(s, TABLES["sites"], rejected_parts)
        tables["sites"] = s
    site_lookup = (
        pd.Series(s["site_id"].to_numpy(), index=normalize_name(s["site_name"]).to_numpy())
        .groupby(level=0)
        .last()
        if len(s)
        else pd.Series(dtype="str")
    )

    for name in ("agreements", "payments", "funding", "transition"):
        df = tables[name]
        df = _link_names(df, "project_id", "_project_name", project_lookup, "P-", name, qlog)
        df = _link_names(df, "site_id", "_site_name", site_lookup, "S-", name, qlog)
        tables[name] = df

    a = tables["agreements"]
    if len(a):
        due_missing = a["payment_due_date"].isna() & a["signed_date"].notna()
        if due_missing.any():
            a = a.assign(
                payment_due_date=a["payment_due_date"].where(
                    ~due_missing, a["signed_date"] + pd.Timedelta(days=payment_term_days)
                )
            )
            qlog.add_frame(
                pd.DataFrame(
                    {
                        "origin": a.loc[due_missing, "origin"],
                        "table": "agreements",
                        "column": "payment_due_date",
                        "raw_value": "",
                        "action": "derived",
                        "severity": "info",
                        "message": f"支付期限缺失，按签约日期后{payment_term_days}天计 (signed_date + "
                        f"{payment_term_days} days)",
                    }
                )
            )
        tables["agreements"] = _dedupe(a, TABLES["agreements"], rejected_parts)

    pay = tables["payments"]
    if len(pay):
        missing_id = pay["payment_id"].isna()
        if missing_id.any():
            derived = pay["origin"].map(
                lambda o: "PAY-" + hashlib.sha1(o.encode()).hexdigest()[:10]
            )
            pay = pay.assign(payment_id=pay["payment_id"].where(~missing_id, derived))
        tables["payments"] = _dedupe(pay, TABLES["payments"], rejected_parts)

    tr = tables["transition"]
    if len(tr):
        need = tr["agreed_months"].isna()
        if need.any():
            promised = tr["site_id"].map(
                pd.Series(s["promised_date"].to_numpy(), index=s["site_id"].to_numpy())
            )
            derived = months_between(tr["start_date"], promised)
            derived.index = tr.index
            tr = tr.assign(agreed_months=tr["agreed_months"].where(~need, derived))
            still = tr["agreed_months"].isna()
            qlog.add_frame(
                pd.DataFrame(
                    {
                        "origin": tr.loc[need & ~still, "origin"],
                        "table": "transition",
                        "column": "agreed_months",
                        "raw_value": "",
                        "action": "derived",
                        "severity": "info",
                        "message": "约定过渡期限缺失，按过渡开始日期至安置区约定交房日期计 "
                        "(months_between(start_date, promised_date of its site))",
                    }
                )
            )
            if still.any():
                qlog.add_frame(
                    pd.DataFrame(
                        {
                            "origin": tr.loc[still, "origin"],
                            "table": "transition",
                            "column": "agreed_months",
                            "raw_value": "",
                            "action": "underivable",
                            "severity": "warning",
                            "message": "约定过渡期限缺失且安置区未知，无法推算 (no agreed period and no "
                            "site with a promised date)",
                        }
                    )
                )
        tables["transition"] = _dedupe(tr, TABLES["transition"], rejected_parts)

    for name, t in TABLES.items():
        df = tables[name]
        df = df[[c for c in t.column_names]]
        tables[name] = df.astype({c.name: pandas_dtype(c) for c in t.columns} | {"origin": "str"})
        tables[name] = tables[name].reset_index(drop=True)
    _flag_implausible_dates(tables, qlog)
    _flag_implausible_amounts(tables, qlog)
    return tables


#: Money above this (1000亿元) in one row is kept but flagged as implausible.
PLAUSIBLE_MAX_YUAN = 1e11


def _flag_implausible_amounts(tables, qlog) -> None:
    for name, t in TABLES.items():
        df = tables[name]
        for c in t.columns:
            if c.unit != "yuan" or df.empty:
                continue
            bad = df[c.name].abs() > PLAUSIBLE_MAX_YUAN
            if bad.any():
                qlog.add_frame(
                    pd.DataFrame(
                        {
                            "origin": df.loc[bad, "origin"],
                            "table": name,
                            "column": c.name,
                            "raw_value": df.loc[bad, c.name].map("{:.2f}".format),
                            "action": "implausible",
                            "severity": "warning",
                            "message": f"{c.label} 超过1000亿元，请核对单位 (kept, but implausible)",
                        }
                    )
                )


def _flag_implausible_dates(tables, qlog) -> None:
    lo, hi = PLAUSIBLE_YEARS
    for name, t in TABLES.items():
        df = tables[name]
        for c in t.columns:
            if c.dtype != "date" or df.empty:
                continue
            years = df[c.name].dt.year
            bad = years.notna() & ((years < lo) | (years > hi))
            if bad.any():
                qlog.add_frame(
                    pd.DataFrame(
                        {
                            "origin": df.loc[bad, "origin"],
                            "table": name,
                            "column": c.name,
                            "raw_value": df.loc[bad, c.name].dt.strftime("%Y-%m-%d"),
                            "action": "implausible",
                            "severity": "warning",
                            "message": f"{c.label} 不在 {lo}–{hi} 年之间，请核对 (date kept, but implausible)",
                        }
                    )
                )


def _sheet_counts(origins: pd.Series) -> dict[str, int]:
    """Rows per ``FILE#SHEET`` of a column of origins."""
    if origins.empty:
        return {}
    sheets = origins.astype("str").str.replace(r"![0-9]+$", "", regex=True)  # vectorised (arrow)
    return {k: int(v) for k, v in sheets.value_counts().items()}


def _manifest(raw_dir, inputs, sheets, tables, rejected, started) -> dict:
    kept: dict[str, int] = {}
    for df in tables.values():
        for key, n in _sheet_counts(df["origin"]).items():
            kept[key] = kept.get(key, 0) + n
    rej = _sheet_counts(rejected["origin"])
    for s in sheets:
        if s.get("status") != "used":
            continue
        key = f"{s['file']}#{s['sheet']}"
        s["kept"] = kept.get(key, 0)
        s["rejected"] = int(rej.get(key, 0))
        if s["raw_data_rows"] != s["kept"] + s["rejected"]:
            raise RuntimeError(  # a bug, never a user error: conservation is our promise
                f"row conservation broken for {key}: {s['raw_data_rows']} data rows, "
                f"{s['kept']} kept + {s['rejected']} rejected"
            )
        accounted = sum(
            s[k]
            for k in (
                "rows_above_header",
                "header_rows",
                "blank_rows",
                "total_rows",
                "subtotal_rows",
                "qizhong_rows",
                "note_rows",
                "raw_data_rows",
            )
        )
        if accounted != s["rows_in_sheet"]:
            raise RuntimeError(
                f"row accounting broken for {key}: {accounted} of {s['rows_in_sheet']}"
            )
    per_table = {}
    for name, df in tables.items():
        per_table[name] = {
            "raw_data_rows": sum(
                s.get("raw_data_rows", 0)
                for s in sheets
                if s.get("table") == name and s.get("status") == "used"
            ),
            "kept": len(df),
            "rejected": int((rejected["table"] == name).sum()) if len(rejected) else 0,
            "total_rows": sum(
                s.get("total_rows", 0) + s.get("subtotal_rows", 0)
                for s in sheets
                if s.get("table") == name and s.get("status") == "used"
            ),
        }
    return {
        "package": "zhengshou-analysis",
        # demo ledgers say 示例数据 in their titles: every page made from them is labelled
        "synthetic": any(s.get("synthetic_label") for s in sheets),
        "version": __version__,
        "raw_dir": str(raw_dir),
        "run_started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "run_seconds": round(time.time() - started, 3),
        "inputs": inputs,
        "sheets": sheets,
        "tables": per_table,
    }


# --- writing -------------------------------------------------------------------------------------

#: Cells a spreadsheet would run as a formula start with one of these (pyarrow runs the pattern).
_FORMULA_RE = "^[=+@\t\r-]"


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) with ``'``.

    Does not modify ``df``.
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


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_clean_outputs(
    result: CleanResult, out_dir: str | os.PathLike, *, tables: bool = True
) -> list[Path]:
    """Write the tables (Parquet), ``quality_log.csv``, ``rejected.csv`` and ``manifest.json``.

    With ``tables=False`` (a run that ended in an error) only the log, the rejected rows and the
    manifest are written, so that no untrustworthy table is left for anyone to use.

    Every file is written to a temporary name and renamed, so a crash never leaves a half-written
    file where a good one was. CSVs are UTF-8 with BOM (Excel opens them correctly) and have
    formula-like cells neutralised.
    """
    out = Path(out_dir)
    raw = result.manifest.get("raw_dir")
    if raw and out.resolve().is_relative_to(Path(raw).resolve()):
        raise InputError(
            f"输出文件夹 {out} 在原始台账文件夹内; the raw folder is read-only input, "
            "choose --out outside it",
            file=str(out),
        )
    written = []
    if not tables:  # a failed run: no table from an earlier run may be mistaken for this one
        for name in result.tables:
            (out / f"{name}.parquet").unlink(missing_ok=True)
    for name, df in result.tables.items() if tables else ():
        p = out / f"{name}.parquet"
        _atomic_write(p, lambda tmp, df=df: df.to_parquet(tmp, index=False))
        written.append(p)
    for fname, df in (("quality_log.csv", result.quality_log), ("rejected.csv", result.rejected)):
        p = out / fname
        _atomic_write(p, lambda tmp, df=df: _write_csv(neutralize_formulas(df), tmp))
        written.append(p)
    p = out / "manifest.json"
    manifest = {**result.manifest, "ok": result.ok and not result.errors}
    _atomic_write(
        p,
        lambda tmp: tmp.write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        ),
    )
    written.append(p)
    return written
