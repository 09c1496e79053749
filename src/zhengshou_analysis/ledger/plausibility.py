"""Values that parse but are hard to believe: kept, and flagged for a person to check.

Run on the assembled tables. A date outside :data:`PLAUSIBLE_YEARS` or a money value above
:data:`PLAUSIBLE_MAX_YUAN` in one row is usually a typing or unit slip (``2201`` for ``2021``,
元 typed in a 万元 column); it is never changed or dropped, only logged as ``implausible``.
"""

from __future__ import annotations

import pandas as pd

from ..schemas import TABLES

__all__ = ["PLAUSIBLE_MAX_YUAN", "PLAUSIBLE_YEARS", "implausible_amounts", "implausible_dates"]

#: Dates outside this range of years (inclusive) are kept but flagged as implausible.
PLAUSIBLE_YEARS = (1990, 2060)
#: Money above this (1000亿元) in one row is kept but flagged as implausible.
PLAUSIBLE_MAX_YUAN = 1e11


def implausible_amounts(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """Warnings for money values whose absolute value exceeds :data:`PLAUSIBLE_MAX_YUAN` yuan.

    Parameters
    ----------
    tables
        The canonical tables (every table of :data:`~zhengshou_analysis.schemas.TABLES`).

    Returns
    -------
    list of pandas.DataFrame
        One findings frame per table and yuan column with such values (``raw_value`` the amount
        in yuan with 2 decimals); empty when there are none.
    """
    findings = []
    for name, t in TABLES.items():
        df = tables[name]
        for c in t.columns:
            if c.unit != "yuan" or df.empty:
                continue
            bad = df[c.name].abs() > PLAUSIBLE_MAX_YUAN
            if bad.any():
                findings.append(
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
    return findings


def implausible_dates(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """Warnings for dates whose year lies outside :data:`PLAUSIBLE_YEARS`.

    Parameters
    ----------
    tables
        The canonical tables (every table of :data:`~zhengshou_analysis.schemas.TABLES`).

    Returns
    -------
    list of pandas.DataFrame
        One findings frame per table and date column with such dates (``raw_value`` as
        ``YYYY-MM-DD``); NaT is never flagged; empty when there are none.
    """
    lo, hi = PLAUSIBLE_YEARS
    findings = []
    for name, t in TABLES.items():
        df = tables[name]
        for c in t.columns:
            if c.dtype != "date" or df.empty:
                continue
            years = df[c.name].dt.year
            bad = years.notna() & ((years < lo) | (years > hi))
            if bad.any():
                findings.append(
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
    return findings
