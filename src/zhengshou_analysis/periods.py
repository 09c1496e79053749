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
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .exceptions import ParameterError

__all__ = [
    "DAYS_PER_MONTH",
    "Period",
    "duration_months",
    "months_between",
    "parse_months",
]

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


# --- reporting periods ------------------------------------------------------------------------------

PeriodKind = Literal["year", "month", "date"]

_MONTH_RE = re.compile(r"(\d{4})-(\d{1,2})")


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a year (as of 31 December), a month (as of its last day), or a date.

    A period names the folder its reports go to and the label readers see, so that a month's run
    never overwrites a year's pages, and an ad-hoc reporting date gets a folder of its own.

    Build one with :meth:`year_end`, :meth:`month_end` or :meth:`of_date` (which recognises a
    year-end or a month-end date), or :meth:`from_folder`.

    Attributes
    ----------
    as_of
        The reporting date (day precision, timezone-naive).
    kind
        ``"year"``, ``"month"`` or ``"date"``.

    Examples
    --------
    >>> Period.of_date("2021-06-30").folder, Period.of_date("2021-06-30").label_zh
    ('2021-06', '2021年6月')
    >>> Period.of_date("2021-12-31").folder, Period.of_date("2021-06-15").label_zh
    ('2021', '2021年（截至6月15日）')
    """

    as_of: pd.Timestamp
    kind: PeriodKind

    @classmethod
    def year_end(cls, year: int) -> Period:
        """The year ``year``, as of its 31 December."""
        return cls(pd.Timestamp(int(year), 12, 31), "year")

    @classmethod
    def month_end(cls, year: int, month: int) -> Period:
        """The month ``year-month``, as of its last day.

        Raises
        ------
        ParameterError
            When ``month`` is not 1–12.
        """
        if not 1 <= int(month) <= 12:
            raise ParameterError(f"a month is 1–12, got {month!r} (write 2021-06)")
        start = pd.Timestamp(int(year), int(month), 1)
        return cls(start + pd.offsets.MonthEnd(0), "month")

    @classmethod
    def of_date(cls, as_of) -> Period:
        """The period a reporting date reports: a year-end, a month-end, or the date itself.

        Parameters
        ----------
        as_of
            A date (``Timestamp``, ``date`` or ``"2021-06-30"``).

        Raises
        ------
        ParameterError
            When ``as_of`` is not a date.
        """
        from .settings import resolve_as_of

        ts = resolve_as_of(as_of)
        if ts.month == 12 and ts.day == 31:
            return cls(ts, "year")
        if ts.is_month_end:
            return cls(ts, "month")
        return cls(ts, "date")

    @classmethod
    def from_folder(cls, name: str) -> Period | None:
        """The period of a reports sub-folder (``2021``, ``2021-06``, ``2021-06-15``), else ``None``."""
        try:
            if re.fullmatch(r"\d{4}", name):
                return cls.year_end(int(name))
            if re.fullmatch(r"\d{4}-\d{2}", name):
                return cls.month_end(int(name[:4]), int(name[5:]))
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", name):
                period = cls.of_date(name)
                return period if period.folder == name else None
        except (ParameterError, ValueError):
            return None
        return None

    @property
    def year(self) -> int:
        """The reporting year (the year of ``as_of``)."""
        return int(self.as_of.year)

    @property
    def month(self) -> int:
        """The month of ``as_of`` (1–12)."""
        return int(self.as_of.month)

    @property
    def folder(self) -> str:
        """The reports sub-folder: ``2021``, ``2021-06`` or ``2021-06-15``."""
        if self.kind == "year":
            return f"{self.year:04d}"
        if self.kind == "month":
            return f"{self.year:04d}-{self.month:02d}"
        return self.as_of.strftime("%Y-%m-%d")

    @property
    def label_zh(self) -> str:
        """What readers see: ``2021年``, ``2021年6月``, ``2021年（截至6月15日）``."""
        if self.kind == "year":
            return f"{self.year}年"
        if self.kind == "month":
            return f"{self.year}年{self.month}月"
        return f"{self.year}年（截至{self.month}月{self.as_of.day}日）"

    @property
    def as_of_text(self) -> str:
        """``as_of`` as ``YYYY-MM-DD`` (the notebooks' parameter)."""
        return self.as_of.strftime("%Y-%m-%d")

    @property
    def previous(self) -> Period | None:
        """The period before: the year before, the month before (December of the year before for
        January); ``None`` for a date."""
        if self.kind == "year":
            return Period.year_end(self.year - 1)
        if self.kind == "month":
            before = self.as_of.replace(day=1) - pd.Timedelta(days=1)
            return Period.month_end(before.year, before.month)
        return None

    @property
    def next(self) -> Period | None:
        """The period after (``None`` for a date)."""
        if self.kind == "year":
            return Period.year_end(self.year + 1)
        if self.kind == "month":
            after = self.as_of + pd.Timedelta(days=1)
            return Period.month_end(after.year, after.month)
        return None

    @property
    def year_start(self) -> Period:
        """The end of the year before: what "since the start of the year" compares with."""
        return Period.year_end(self.year - 1)


def parse_months(text: str) -> list[Period]:
    """Parse ``--months``: ``2021`` (all twelve), ``2021-01..2021-06``, ``2021-03,2021-05``.

    Parameters
    ----------
    text
        Comma-separated items, each a year, a month ``YYYY-MM``, or a range ``YYYY-MM..YYYY-MM``.

    Returns
    -------
    list of Period
        The months, sorted, without duplicates.

    Raises
    ------
    ParameterError
        On a malformed item or a range that runs backwards or spans more than 50 years.

    Examples
    --------
    >>> [p.folder for p in parse_months("2021-11..2022-01,2021-03")]
    ['2021-03', '2021-11', '2021-12', '2022-01']
    >>> len(parse_months("2021"))
    12
    """
    months: set[Period] = set()
    for raw in str(text).split(","):
        item = raw.strip()
        try:
            if re.fullmatch(r"\d{4}", item):
                months.update(Period.month_end(int(item), m) for m in range(1, 13))
                continue
            lo_text, sep, hi_text = item.partition("..")
            lo_m, hi_m = (
                _MONTH_RE.fullmatch(lo_text.strip()),
                _MONTH_RE.fullmatch((hi_text if sep else lo_text).strip()),
            )
            if lo_m is None or hi_m is None:
                raise ValueError(item)
            lo = Period.month_end(int(lo_m[1]), int(lo_m[2]))
            hi = Period.month_end(int(hi_m[1]), int(hi_m[2]))
            if hi.as_of < lo.as_of or hi.year - lo.year > 50:
                raise ValueError(item)
            p: Period | None = lo
            while p is not None and p.as_of <= hi.as_of:
                months.add(p)
                p = p.next
        except (ValueError, ParameterError):
            raise ParameterError(
                f"--months {text!r} is not understood at {item!r}; write 2021 (all twelve "
                "months), 2021-01..2021-06 or 2021-03,2021-05"
            ) from None
    return sorted(months)
