"""Month arithmetic of the indicator definitions (docs/indicators.md, "Months").

Both functions broadcast like pandas arithmetic and keep the caller's index:

* Series with Series: aligned on the index (as ``a - b`` would be); the result has the union index;
* Series with a scalar (or a one-element array-like): the scalar is broadcast, the Series' index
  kept;
* array-like (list, ``numpy`` array, ``DatetimeIndex``) with array-like of the same length: a Series
  with a ``RangeIndex``;
* scalar with scalar: a scalar (``int`` / ``float``, or ``pandas.NA`` / ``nan`` when a date is
  missing).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .exceptions import ParameterError

__all__ = ["DAYS_PER_MONTH", "duration_months", "months_between"]

#: Average month length for durations (survival and delay analysis).
DAYS_PER_MONTH = 30.4375


def _is_scalar(x) -> bool:
    return x is None or isinstance(x, str | dt.date | np.datetime64) or np.ndim(x) == 0


def _as_dates(x, index=None) -> pd.Series:
    """``x`` as a datetime Series (index kept for a Series, else ``index`` or a RangeIndex)."""
    if isinstance(x, pd.Series):
        if pd.api.types.is_datetime64_any_dtype(x.dtype):
            return x
        return pd.Series(pd.to_datetime(x), index=x.index)
    return pd.Series(pd.to_datetime(np.asarray(x, dtype=object).ravel()), index=index)


def _broadcast(start, end) -> tuple[pd.Series, pd.Series, bool]:
    """Broadcast two date arguments to aligned Series; the flag says both were scalars."""
    s_scalar, e_scalar = _is_scalar(start), _is_scalar(end)
    if s_scalar and e_scalar:
        return _as_dates([start]), _as_dates([end]), True
    if s_scalar or e_scalar:
        other, scalar = (end, start) if s_scalar else (start, end)
        other_s = _as_dates(other)
        value = pd.to_datetime(scalar)
        filled = pd.Series(value, index=other_s.index, dtype="datetime64[ns]")
        return (filled, other_s, False) if s_scalar else (other_s, filled, False)
    s_is_series, e_is_series = isinstance(start, pd.Series), isinstance(end, pd.Series)
    if s_is_series and e_is_series:
        s, e = _as_dates(start).align(_as_dates(end))
        return s, e, False
    s_len, e_len = len(start), len(end)
    if s_len == 1 and e_len != 1:
        return _broadcast(_first(start), end)
    if e_len == 1 and s_len != 1:
        return _broadcast(start, _first(end))
    if s_len != e_len:
        raise ParameterError(f"cannot broadcast dates of lengths {s_len} and {e_len}")
    index = start.index if s_is_series else end.index if e_is_series else None
    return _as_dates(start, index), _as_dates(end, index), False


def _first(x):
    return x.iloc[0] if isinstance(x, pd.Series) else np.asarray(x, dtype=object).ravel()[0]


def months_between(start, end):
    """Started calendar months from ``start`` to ``end`` (the fee-month count).

    ``12·(end.year − start.year) + (end.month − start.month)``, plus 1 when ``end.day ≥ start.day``;
    never below 0. From 2021-03-15: to 2021-03-15 → 1, to 2021-04-14 → 1, to 2021-04-15 → 2.

    Parameters
    ----------
    start, end
        Dates: Series, array-likes or scalars (``Timestamp``, ``date``, ISO string), broadcast
        against each other (see the module docstring). NaT / ``None`` gives NA.

    Returns
    -------
    pandas.Series or int or pandas.NA
        Nullable ``Int64`` month counts with the index of the Series argument(s); an ``int`` (or
        ``pandas.NA``) when both arguments are scalars. The inputs are not modified.

    Examples
    --------
    >>> months_between("2021-03-15", "2021-04-15")
    2
    """
    s, e, scalar = _broadcast(start, end)
    months = (
        12 * (e.dt.year.astype("Int64") - s.dt.year.astype("Int64"))
        + (e.dt.month.astype("Int64") - s.dt.month.astype("Int64"))
        + (e.dt.day >= s.dt.day).astype("Int64")
    )
    months = months.where(s.notna() & e.notna()).clip(lower=0).astype("Int64")
    if scalar:
        value = months.iloc[0]
        return pd.NA if pd.isna(value) else int(value)
    return months


def duration_months(start, end):
    """Duration in average months: days / 30.4375 (float; NaN where either date is missing).

    Parameters
    ----------
    start, end
        Dates, broadcast as for :func:`months_between` (index kept).

    Returns
    -------
    pandas.Series or float
        ``float64`` durations in months (negative when ``end`` is before ``start``); a ``float``
        when both arguments are scalars. The inputs are not modified.

    Examples
    --------
    >>> duration_months("2021-01-01", "2021-01-31") * 30.4375
    30.0
    """
    s, e, scalar = _broadcast(start, end)
    days = (e - s).dt.total_seconds() / 86400.0
    months = (days / DAYS_PER_MONTH).astype("float64")
    if scalar:
        return float(months.iloc[0])
    return months
