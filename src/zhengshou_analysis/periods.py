"""Month arithmetic of the indicator definitions (indicators.md, "Months")."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DAYS_PER_MONTH", "duration_months", "months_between"]

#: Average month length for durations (survival and delay analysis).
DAYS_PER_MONTH = 30.4375


def months_between(start, end) -> pd.Series:
    """Started calendar months from ``start`` to ``end`` (the fee-month count).

    ``12·(end.year − start.year) + (end.month − start.month)``, plus 1 when ``end.day ≥ start.day``;
    never below 0. From 2021-03-15: to 2021-03-15 → 1, to 2021-04-14 → 1, to 2021-04-15 → 2.

    Parameters
    ----------
    start, end
        Dates (Series, arrays or scalars, broadcast against each other); NaT gives NA.

    Returns
    -------
    pandas.Series
        Nullable ``Int64`` month counts.
    """
    s = pd.Series(pd.to_datetime(start)) if not isinstance(start, pd.Series) else start
    e = pd.Series(pd.to_datetime(end)) if not isinstance(end, pd.Series) else end
    if len(s) == 1 and len(e) != 1:
        s = pd.Series(np.repeat(s.to_numpy(), len(e)), index=e.index)
    if len(e) == 1 and len(s) != 1:
        e = pd.Series(np.repeat(e.to_numpy(), len(s)), index=s.index)
    s = pd.to_datetime(s.reset_index(drop=True))
    e = pd.to_datetime(e.reset_index(drop=True))
    months = (
        12 * (e.dt.year - s.dt.year)
        + (e.dt.month - s.dt.month)
        + (e.dt.day >= s.dt.day).astype("Int64")
    )
    return months.clip(lower=0).astype("Int64")


def duration_months(start, end) -> pd.Series:
    """Duration in average months: days / 30.4375 (float; NaN where either date is missing)."""
    s = pd.to_datetime(pd.Series(start)).reset_index(drop=True)
    e = pd.to_datetime(pd.Series(end)).reset_index(drop=True)
    return (e - s).dt.days / DAYS_PER_MONTH
