"""合计/小计 rows checked against the detail rows of their sheet (docs/data_contract.md §1).

A ledger's own totals are never read as data; they are a check. A 合计/总计 row is compared with
the sum of all detail rows of the sheet, a 小计 row with the detail rows since the previous 小计.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schemas import Table
from .classify import MappedColumn
from .columns import parse_column
from .layout import SheetLayout

__all__ = ["check_totals"]

#: Units whose columns add up (a total row states their sum).
_ADDITIVE_UNITS = ("yuan", "m2", "mu", "unit", "person")


def _fmt(x: pd.Series) -> pd.Series:
    """Numbers as ``1,234.50`` for messages."""
    return x.map("{:,.2f}".format)


def _expected_totals(
    values: pd.Series, kinds: pd.Series, group: pd.Series, tot_rows: pd.Series
) -> pd.Series:
    """What each total row should state: all detail rows for 合计, its ``group`` for 小计."""
    detail = values.astype("float64").fillna(0.0).reindex(kinds.index, fill_value=0.0)
    detail = detail.where(kinds == "data", 0.0)
    by_group = detail.groupby(group).sum()
    return pd.Series(
        np.where(tot_rows == "total", detail.sum(), group[tot_rows.index].map(by_group)),
        index=tot_rows.index,
    )


def _column_findings(
    st: pd.Series,
    ex: pd.Series,
    kd: pd.Series,
    raw: pd.Series,
    m: MappedColumn,
    *,
    tol: pd.Series,
    table: str,
    name: str,
    prefix: str,
) -> pd.DataFrame:
    """Findings for one column's total rows: ``total_mismatch`` warnings, ``total_checked`` infos.

    ``st`` are the stated totals, ``ex`` the detail sums, ``kd`` the row kinds (``total`` or
    ``subtotal``), ``raw`` the cells as written, ``tol`` the tolerance per row.
    """
    bad = (st - ex).abs() > tol
    label = np.where(kd == "total", "合计", "小计")
    msg_bad = (
        f"{m.where}: "
        + label
        + "行 "
        + _fmt(st)
        + " 与明细之和 "
        + _fmt(ex)
        + " 不符 (difference "
        + _fmt(st - ex)
        + "; stated total vs sum of detail rows)"
    )
    msg_ok = f"{m.where}: " + label + "行与明细之和一致 (" + _fmt(ex) + ")"
    return pd.DataFrame(
        {
            "origin": prefix + (st.index + 1).astype("str"),
            "table": table,
            "column": name,
            "raw_value": raw,
            "action": np.where(bad, "total_mismatch", "total_checked"),
            "severity": np.where(bad, "warning", "info"),
            "message": msg_bad.where(bad, msg_ok),
        },
        index=st.index,
    )


def check_totals(
    block: pd.DataFrame,
    kinds: pd.Series,
    mapped: dict[str, MappedColumn],
    values: dict[str, pd.Series],
    factors: dict[str, float],
    *,
    layout: SheetLayout,
    t: Table,
    prefix: str,
) -> list[pd.DataFrame]:
    """Compare a sheet's 合计/总计 and 小计 rows with its detail rows.

    Parameters
    ----------
    block
        The sheet's rows below the header (raw cells), indexed by 0-based sheet row.
    kinds
        The kind of each row of ``block`` (``data``, ``total``, ``subtotal``, ``blank`` …).
    mapped
        The sheet's mapped columns; only additive numeric ones (yuan, m², 亩, units, persons)
        are checked.
    values
        Parsed detail values per column (data rows only), in canonical units.
    factors
        Scale of bare numbers per column (the stated totals are parsed like the detail rows).
    layout, t, prefix
        The sheet's layout, its table, and ``FILE#SHEET!`` for origins.

    Returns
    -------
    list of pandas.DataFrame
        Findings, one frame per checked column. A total differing from its detail sum by more
        than 0.01 of the sheet's unit or 0.1% of the stated total (whichever is larger) is a
        ``total_mismatch`` warning naming both numbers; an agreeing total a ``total_checked``
        info. A total row whose cell is empty or unreadable is not checked. Empty when the sheet
        has no total rows or no additive column.
    """
    numeric = {
        n: m
        for n, m in mapped.items()
        if m.column.dtype in ("float", "int") and m.column.unit in _ADDITIVE_UNITS
    }
    is_tot = kinds.isin(["total", "subtotal"])
    if not numeric or not is_tot.any():
        return []
    group = (kinds == "subtotal").cumsum().shift(fill_value=0)  # rows up to and incl. a 小计
    tot_rows = kinds[is_tot]
    findings = []
    for name, m in numeric.items():
        expected = _expected_totals(values[name], kinds, group, tot_rows)
        stated, _, _ = parse_column(block.loc[tot_rows.index, m.col], m, layout)
        stated = stated.astype("float64")
        ok = stated.notna()
        if not ok.any():
            continue
        st, ex, kd = stated[ok], expected[ok], tot_rows[ok]
        tol = np.maximum(0.01 * factors.get(name, 1.0), 0.001 * st.abs())
        raw = block.loc[st.index, m.col].astype("str")
        findings.append(
            _column_findings(st, ex, kd, raw, m, tol=tol, table=t.name, name=name, prefix=prefix)
        )
    return findings
