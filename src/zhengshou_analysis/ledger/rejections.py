"""Which parsed rows of a sheet cannot enter their table, and the record kept for each.

A row is rejected, never silently dropped (docs/data_contract.md §2): it goes to ``rejected.csv``
with every reason that applies and the cells of its mapped columns. The rules, in the order their
reasons are listed: a required column missing or unparseable; a negative area/amount (or a payment
or inflow that is not positive); a value outside a closed vocabulary; a site promised or delivered
before it was started; a transition ending before it began; a fee per m² without the area, per
person without the number of persons.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pandas as pd

from ..schemas import TRANSITION, Table
from .classify import MappedColumn
from .ingest import RawSheet

__all__ = ["reject_reasons", "rejected_rows"]

#: A rule's verdict: which rows it rejects (may hold NA = not rejected) and why.
_Flag = tuple[pd.Series, str]


def _required_flags(
    frame: pd.DataFrame, t: Table, mapped: dict[str, MappedColumn]
) -> Iterator[_Flag]:
    """Required columns that are missing or could not be parsed."""
    for c in t.required:
        if c not in frame:
            continue
        m = mapped.get(c)
        where = m.where if m else c
        yield frame[c].isna(), f"必填列缺失或无法解析 ({where}, required {c})"


def _sign_flags(frame: pd.DataFrame, t: Table) -> Iterator[_Flag]:
    """Negative money/areas; payments and inflows must be positive."""
    for c in t.columns:
        if c.dtype in ("float", "int") and c.name in frame and c.unit in ("yuan", "m2", "mu"):
            must_be_positive = t.name in ("payments", "funding") and c.name == "amount_yuan"
            bad = frame[c.name] <= 0 if must_be_positive else frame[c.name] < 0
            yield bad, f"{c.label} {'必须大于0' if must_be_positive else '不能为负数'} ({c.name})"


def _vocabulary_flags(frame: pd.DataFrame, t: Table) -> Iterator[_Flag]:
    """Values outside a closed vocabulary (the ``_unknown_<column>`` helper masks)."""
    for c, bad in ((k, frame[k]) for k in frame if k.startswith("_unknown_")):
        name = c.removeprefix("_unknown_")
        yield bad, f"{t.column(name).label} 的值不在允许范围内 ({name})"


def _date_order_flags(frame: pd.DataFrame, t: Table) -> Iterator[_Flag]:
    """Sites promised/delivered before their start; transitions ending before they began."""
    if t.name == "sites":
        for c in ("promised_date", "delivered_date"):
            if c in frame and "start_date" in frame:
                yield (
                    frame[c] < frame["start_date"],
                    f"{t.column(c).label}早于开工日期 ({c} < start_date)",
                )
    if t.name == "transition" and "end_date" in frame:
        yield (
            frame["end_date"] < frame["start_date"],
            "过渡结束日期早于开始日期 (end_date < start_date)",
        )


def _fee_basis_flags(frame: pd.DataFrame, t: Table) -> Iterator[_Flag]:
    """Transition fees per m² need the area, fees per person the number of persons."""
    basis = frame.get("fee_basis")
    if t.name != "transition" or basis is None:
        return
    for kind, col, label in (
        ("per_m2", "area_m2", "按面积计费"),
        ("per_person", "persons", "按人计费"),
    ):
        needed = basis.eq(kind)
        if col in frame:
            yield needed & frame[col].isna(), f"{label}但缺少{TRANSITION.column(col).label} ({col})"
        else:
            yield needed, f"{label}但台账没有{TRANSITION.column(col).label}列 ({col})"


def reject_reasons(frame: pd.DataFrame, t: Table, mapped: dict[str, MappedColumn]) -> pd.Series:
    """The reasons for rejecting rows of one sheet's parsed frame.

    Parameters
    ----------
    frame
        The sheet's parsed rows (canonical columns plus ``_unknown_<column>`` masks).
    t
        The table the sheet feeds.
    mapped
        Its mapped columns (to name a required column as the sheet does).

    Returns
    -------
    pandas.Series
        ``str``, indexed like ``frame`` but holding only the rejected rows: every applying reason,
        in rule order, joined by ``"; "``. Empty when no row is rejected.
    """
    flags: list[tuple[np.ndarray, str]] = []
    for rules in (
        _required_flags(frame, t, mapped),
        _sign_flags(frame, t),
        _vocabulary_flags(frame, t),
        _date_order_flags(frame, t),
        _fee_basis_flags(frame, t),
    ):
        for mask, reason in rules:
            m = mask.fillna(False).to_numpy(dtype=bool)
            if m.any():
                flags.append((m, reason))
    if not flags:
        return pd.Series([], dtype="str", index=frame.index[:0])
    hit = np.logical_or.reduce([m for m, _ in flags])
    parts = np.full(int(hit.sum()), "", dtype=object)
    for m, reason in flags:
        parts = np.where(m[hit], parts + reason + "; ", parts)
    return pd.Series(parts, index=frame.index[hit], dtype="str").str.removesuffix("; ")


def rejected_rows(
    reasons: pd.Series,
    data: pd.DataFrame,
    sheet: RawSheet,
    mapped: dict[str, MappedColumn],
    t: Table,
) -> pd.DataFrame:
    """The rejected-row records of one sheet.

    Parameters
    ----------
    reasons
        From :func:`reject_reasons`, indexed by 0-based sheet row.
    data
        The sheet's raw data rows (cells by 0-based column position).
    sheet
        The raw sheet (for the origin ``FILE#SHEET!ROW``).
    mapped
        Its mapped columns: only their cells are kept. An unmapped column may hold personal data
        under a header no word list foresees (产权人, 代理人 …), so it is never copied.
    t
        The table the sheet feeds.

    Returns
    -------
    pandas.DataFrame
        ``origin, table, reason, raw_cells`` (the mapped cells as JSON, header → value, empty
        cells left out), indexed like ``reasons``; empty (``int64`` index) when no row is rejected.
    """
    if reasons.empty:
        return pd.DataFrame(
            {
                "origin": pd.Series(dtype="str"),
                "table": pd.Series(dtype="str"),
                "reason": pd.Series(dtype="str"),
                "raw_cells": pd.Series(dtype="str"),
            }
        ).set_index(pd.Index([], dtype="int64"))
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
