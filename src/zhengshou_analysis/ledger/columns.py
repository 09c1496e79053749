"""One mapped sheet column → typed values in its canonical unit, with findings.

The parsers of :mod:`.parse` do the cell work; this module chooses the parser and the scale of bare
numbers for a :class:`~.classify.MappedColumn` (the header's unit bracket, else the title's
``单位：万元`` for money; docs/data_contract.md §1) and maps enumerated spellings to canonical
values.
"""

from __future__ import annotations

import pandas as pd

from ..schemas import Column
from ..units import MONEY_UNITS, unit_factor
from .classify import MappedColumn
from .layout import SheetLayout
from .parse import parse_dates, parse_numbers, parse_text

__all__ = [
    "NOT_DELIVERED",
    "UNIT_SOURCES",
    "column_factor",
    "column_unit",
    "header_unit_fits",
    "normalize_values",
    "parse_column",
]

#: Words that mean "not delivered" in a delivery-date column (NA, not an error).
NOT_DELIVERED = ("未交付", "在建", "未完成", "未交房")


def header_unit_fits(m: MappedColumn) -> bool:
    """Whether the unit in the header's brackets is a unit of this column (not ``（含奖励）``)."""
    return m.unit is not None and unit_factor(m.unit, m.column.unit) is not None


#: Where the scale of a column's bare numbers is stated: the header's brackets, a units row under
#: the header, the title rows (``单位：万元``, money only), or nowhere (the canonical unit). A unit
#: written in a cell (``3.2亿``) overrides any of them for that cell.
UNIT_SOURCES = ("header", "units row", "title", "default")

#: The canonical units as a ledger writes them (the unit of a column whose numbers state none).
_UNIT_TEXT = {
    "yuan": "元",
    "m2": "平方米",
    "mu": "亩",
    "month": "月",
    "person": "人",
    "unit": "套",
    "yuan_per_month": "元/月",
}


def column_unit(
    m: MappedColumn, layout: SheetLayout, *, units_row: bool = False
) -> tuple[str | None, str]:
    """The unit the bare numbers of a column are read in, and where it is stated.

    Parameters
    ----------
    m
        The mapped column.
    layout
        The sheet's layout (for the title's ``单位`` row).
    units_row
        The header's second row is a units row (:func:`~.layout.units_row_below`) with a unit in
        this column: a fitting bracket came from there.

    Returns
    -------
    unit : str or None
        The unit as written (``万元``), the canonical unit's name for ``default``; ``None`` for
        text, dates and plain numbers (``year``).
    source : str
        One of :data:`UNIT_SOURCES`, ``""`` when the column has no unit.
    """
    if header_unit_fits(m):
        return m.unit, "units row" if units_row else "header"
    if m.column.unit == "yuan" and layout.title_unit in MONEY_UNITS:
        return layout.title_unit, "title"
    if m.column.unit is None:
        return None, ""
    return _UNIT_TEXT.get(m.column.unit, m.column.unit), "default"


def column_factor(m: MappedColumn, layout: SheetLayout) -> float:
    """Scale of bare numbers in a column.

    Parameters
    ----------
    m
        The mapped column.
    layout
        The sheet's layout (for the title's ``单位`` row).

    Returns
    -------
    float
        Canonical units per written unit: the header bracket's factor when it is a unit of the
        column (``万元`` → 1e4 for yuan), else the title's money unit for a yuan column, else 1
        (:func:`column_unit` decides).
    """
    unit, source = column_unit(m, layout)
    if unit is not None and source == "header":
        factor = unit_factor(unit, m.column.unit)
        if factor is not None:
            return float(factor)
    if unit is not None and source == "title":
        return MONEY_UNITS[unit]
    return 1.0


def _whole_numbers(
    values: pd.Series, raw: pd.Series, findings: pd.DataFrame
) -> tuple[pd.Series, pd.DataFrame]:
    """Values of an integer column as ``Int64``; a fraction is NA with an ``unparseable`` warning."""
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
    return values.round().astype("Int64"), findings


def parse_column(
    raw: pd.Series, m: MappedColumn, layout: SheetLayout
) -> tuple[pd.Series, pd.DataFrame, float]:
    """Parse one mapped column.

    Parameters
    ----------
    raw
        The column's raw cells (data rows only), indexed by 0-based sheet row.
    m
        The mapped column: its canonical dtype and unit choose the parser.
    layout
        The sheet's layout (for the scale of bare numbers).

    Returns
    -------
    values : pandas.Series
        ``datetime64[s]`` for dates (``未交付``/``在建`` … are NA in ``delivered_date``), ``str``
        for text, float64 in the canonical unit for numbers (yuan rounded to 2 decimals),
        ``Int64`` for whole numbers; same index as ``raw``.
    findings : pandas.DataFrame
        The parser's findings (``row`` = the index label, ``raw_value``, ``action``, ``severity``,
        ``message``).
    factor : float
        The scale applied to bare numbers (1.0 for dates and text).
    """
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
    factor = column_factor(m, layout)
    if col.name == "year":
        is_str = raw.map(lambda v: isinstance(v, str))
        raw = raw.where(~is_str, raw.astype("str").str.replace(r"\s*年度?$", "", regex=True))
    p = parse_numbers(raw, unit=col.unit, scale=factor, decimals=2 if col.unit == "yuan" else None)
    values = p.values
    findings = p.findings
    if col.dtype == "int":
        values, findings = _whole_numbers(values, raw, findings)
    return values, findings, factor


def normalize_values(values: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """Map enumerated spellings to canonical values.

    Parameters
    ----------
    values
        Parsed text of a ``str`` column.
    col
        The canonical column; its ``values`` maps spellings to canonical values.

    Returns
    -------
    values : pandas.Series
        Exact spellings mapped; otherwise the canonical value of the longest spelling the text
        contains; otherwise the text unchanged. NA stays NA.
    known : pandas.Series
        Boolean mask: the value is canonical (or NA). All true for a column without a vocabulary.
    """
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
