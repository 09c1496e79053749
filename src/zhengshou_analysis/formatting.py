"""Number and date formats as Chinese government documents write them (公文数字格式).

Shared by the work summary, the reports, the index and the plots, so that a number reads the same
everywhere. One style:

=============  =====================  ======================
quantity       decimals (fixed)       example
=============  =====================  ======================
万元 (yuan)     2                      ``129,975.20万元``
亩              2                      ``2,932.00亩``
万平方米 (m²)    2                      ``12.35万平方米``
percentage     1                      ``85.3%``
months         1                      ``31.3个月``
count          0                      ``1,234``
=============  =====================  ======================

Every formatter:

* writes thousands separators (``,`` every three digits of the integer part);
* writes a fixed number of decimals per unit (table above; ``decimals=`` overrides it), so that a
  column of a table lines up and 2932, 639.5 and 2480.86 are never mixed;
* rounds half up (``0.125`` → ``0.13``), on the decimal value of the number, not its binary float;
* never writes ``-0`` (``-0.001`` → ``0.00``);
* returns ``na_rep`` (default ``"—"``) for a missing value (``None``, NaN, ``pandas.NA``, NaT);
* appends the unit unless ``unit=False``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

__all__ = [
    "NA_REP",
    "fmt_count",
    "fmt_date_zh",
    "fmt_half_year_range_zh",
    "fmt_month_zh",
    "fmt_months",
    "fmt_mu",
    "fmt_pct",
    "fmt_wan_m2",
    "fmt_wan_yuan",
    "fmt_yuan_prose",
    "round_half_up",
]

#: What a missing value is shown as.
NA_REP = "—"


def _is_na(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _decimal(x) -> Decimal:
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError(f"cannot format {x!r}")
    return Decimal(repr(float(x))) if not isinstance(x, int | Decimal) else Decimal(x)


def round_half_up(x, decimals: int = 2) -> Decimal:
    """``x`` rounded half up to ``decimals`` places, as a :class:`~decimal.Decimal` (never -0).

    The rounding is done on the shortest decimal representation of ``x`` (``repr``), so
    ``round_half_up(0.125, 2)`` is ``0.13`` and ``round_half_up(2.675, 2)`` is ``2.68``.
    """
    q = Decimal(1).scaleb(-decimals)
    d = _decimal(x).quantize(q, rounding=ROUND_HALF_UP)
    return d + 0 if d != 0 else abs(d)


def _fixed(d: Decimal, decimals: int) -> str:
    """``d`` (already rounded) with thousands separators and exactly ``decimals`` decimals."""
    return f"{d:,.{decimals}f}"


def fmt_wan_yuan(yuan, *, decimals: int = 2, unit: bool = True, na_rep: str = NA_REP) -> str:
    """Yuan as 万元 to 2 decimals: ``12345678.9`` → ``"1,234.57万元"``.

    Parameters
    ----------
    yuan
        Amount in yuan.
    decimals
        Decimal places of the 万元 figure (default 2).
    unit
        Append ``万元``.
    na_rep
        Text for a missing value.
    """
    if _is_na(yuan):
        return na_rep
    d = round_half_up(_decimal(yuan) / Decimal(10000), decimals)
    return _fixed(d, decimals) + ("万元" if unit else "")


def fmt_mu(mu, *, decimals: int = 2, unit: bool = True, na_rep: str = NA_REP) -> str:
    """Area in 亩 to 2 decimals: ``2932`` → ``"2,932.00亩"``, ``0.125`` → ``"0.13亩"``.

    Parameters
    ----------
    mu
        Area in 亩.
    decimals
        Decimal places (default 2: ledgers record 亩 to at most 2 decimals, and a fixed number of
        decimals keeps a column of a table aligned).
    unit
        Append ``亩``.
    na_rep
        Text for a missing value.
    """
    if _is_na(mu):
        return na_rep
    d = round_half_up(mu, decimals)
    return _fixed(d, decimals) + ("亩" if unit else "")


def fmt_wan_m2(m2, *, decimals: int = 2, unit: bool = True, na_rep: str = NA_REP) -> str:
    """Area in m² as 万平方米 to 2 decimals: ``123456`` → ``"12.35万平方米"``.

    Parameters
    ----------
    m2
        Area in square metres.
    decimals
        Decimal places of the 万平方米 figure (default 2).
    unit
        Append ``万平方米``.
    na_rep
        Text for a missing value.
    """
    if _is_na(m2):
        return na_rep
    d = round_half_up(_decimal(m2) / Decimal(10000), decimals)
    return _fixed(d, decimals) + ("万平方米" if unit else "")


def fmt_pct(ratio, *, decimals: int = 1, unit: bool = True, na_rep: str = NA_REP) -> str:
    """A ratio as a percentage to 1 decimal: ``0.8532`` → ``"85.3%"`` (``1.2`` → ``"120.0%"``).

    Parameters
    ----------
    ratio
        A share (1 is 100%).
    decimals
        Decimal places of the percentage (default 1; prose may ask for 0).
    unit
        Append ``%``.
    na_rep
        Text for a missing value.
    """
    if _is_na(ratio):
        return na_rep
    d = round_half_up(_decimal(ratio) * 100, decimals)
    return _fixed(d, decimals) + ("%" if unit else "")


def fmt_count(n, *, unit: str = "", na_rep: str = NA_REP) -> str:
    """A count as an integer with thousands separators: ``1234`` → ``"1,234"``; ``unit="个"`` →
    ``"12个"``.

    A non-integral value is rounded half up (counts should not be fractional).
    """
    if _is_na(n):
        return na_rep
    return _fixed(round_half_up(n, 0), 0) + unit


def fmt_months(months, *, decimals: int = 1, unit: bool = True, na_rep: str = NA_REP) -> str:
    """A duration in months to 1 decimal: ``31.25`` → ``"31.3个月"``.

    Parameters
    ----------
    months
        Duration in months.
    decimals
        Decimal places (default 1).
    unit
        Append ``个月``.
    na_rep
        Text for a missing value.
    """
    if _is_na(months):
        return na_rep
    d = round_half_up(months, decimals)
    return _fixed(d, decimals) + ("个月" if unit else "")


def fmt_date_zh(date, *, na_rep: str = NA_REP) -> str:
    """A date as ``2021年12月31日`` (no leading zeros), from a Timestamp, date or ISO string."""
    if _is_na(date):
        return na_rep
    ts = pd.Timestamp(date)
    return f"{ts.year}年{ts.month}月{ts.day}日"


def fmt_month_zh(date, *, na_rep: str = NA_REP) -> str:
    """A date to the month, as a forecast date is written for readers: ``2023年7月``."""
    if _is_na(date):
        return na_rep
    ts = pd.Timestamp(date)
    return f"{ts.year}年{ts.month}月"


def _half_year(ts: pd.Timestamp) -> str:
    return f"{ts.year}年{'上' if ts.month <= 6 else '下'}半年"


def fmt_half_year_range_zh(start, end, *, na_rep: str = NA_REP) -> str:
    """Two forecast dates as a range of half-years: ``2023年下半年—2025年上半年``.

    Parameters
    ----------
    start, end
        The earlier and the later date (e.g. a P50 and a P90 date); a missing ``end`` gives
        ``2023年下半年以后``.
    na_rep
        Shown when ``start`` is missing.

    Returns
    -------
    str
        One half-year when both fall in the same one (``2024年上半年``).
    """
    if _is_na(start):
        return na_rep
    a = _half_year(pd.Timestamp(start))
    if _is_na(end):
        return f"{a}以后"
    b = _half_year(pd.Timestamp(end))
    return a if a == b else f"{a}—{b}"


def fmt_yuan_prose(yuan, *, na_rep: str = NA_REP) -> str:
    """A sum of money as report prose writes it: 亿元 from one 亿 up, else 万元, with separators.

    Unlike the table formats above, prose groups thousands (``1,234.56万元``) and switches to 亿元
    for large sums (``12.99亿元``), both to 2 decimals, rounded half up. The switch is decided on
    the rounded 万元 figure, so a sum that rounds to 10,000.00万元 is written ``1.00亿元``.

    Parameters
    ----------
    yuan
        Amount in yuan (negative for a deficit).
    na_rep
        Text for a missing value.

    Returns
    -------
    str
        ``"12.99亿元"``, ``"1,234.56万元"``, ``"-350.00万元"``, or ``na_rep``.

    Examples
    --------
    >>> fmt_yuan_prose(1_299_752_037.0)
    '13.00亿元'
    >>> fmt_yuan_prose(12_345_678.9)
    '1,234.57万元'
    >>> fmt_yuan_prose(99_999_999.0)
    '1.00亿元'
    >>> fmt_yuan_prose(-3_500_000)
    '-350.00万元'
    >>> fmt_yuan_prose(float("nan"))
    '—'
    """
    if _is_na(yuan):
        return na_rep
    d = _decimal(yuan)
    wan = round_half_up(d / Decimal(10000), 2)
    if abs(wan) < Decimal(10000):
        return f"{wan:,.2f}万元"
    yi = round_half_up(d / Decimal(100_000_000), 2)
    return f"{yi:,.2f}亿元"
