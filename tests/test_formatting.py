"""Number formats as government documents write them (formatting.py): one style, tested by example
and by property (a formatted number parses back to its value within half a unit of its last decimal)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhengshou_analysis.formatting import (
    NA_REP,
    fmt_count,
    fmt_date_zh,
    fmt_months,
    fmt_mu,
    fmt_pct,
    fmt_wan_m2,
    fmt_wan_yuan,
    round_half_up,
)
from zhengshou_analysis.formatting import _decimal as exact_decimal


@pytest.mark.parametrize(
    ("yuan", "text"),
    [
        (12345678.9, "1,234.57万元"),  # 1234.56789 → 1234.57, thousands separated
        (185000.0, "18.50万元"),  # always 2 decimals
        (1250.0, "0.13万元"),  # 0.125 → half up 0.13 (banker's rounding would give 0.12)
        (0, "0.00万元"),
        (-1.0, "0.00万元"),  # −0.0001 → never "-0.00"
        (-2500000.0, "-250.00万元"),
        (1_299_752_000.0, "129,975.20万元"),
        (-12_345_678_900.0, "-1,234,567.89万元"),
        (np.float64(7400.0), "0.74万元"),
        (np.int64(10000), "1.00万元"),
    ],
)
def test_fmt_wan_yuan(yuan, text):
    assert fmt_wan_yuan(yuan) == text


@pytest.mark.parametrize(
    ("mu", "text"),
    [
        (120.0, "120.00亩"),  # always 2 decimals: a column of 亩 lines up
        (2932, "2,932.00亩"),  # thousands separated
        (639.5, "639.50亩"),
        (35.604, "35.60亩"),
        (7.25, "7.25亩"),
        (0.125, "0.13亩"),  # half up
        (2.675, "2.68亩"),  # the decimal value, not the binary float 2.67499…
        (0.0, "0.00亩"),
        (-0.001, "0.00亩"),  # never "-0.00"
    ],
)
def test_fmt_mu(mu, text):
    assert fmt_mu(mu) == text


def test_fmt_wan_m2_pct_count_months_date():
    assert fmt_wan_m2(123456) == "12.35万平方米"
    assert fmt_wan_m2(30000.0) == "3.00万平方米"
    assert fmt_pct(0.71875) == "71.9%"  # 71.875 → 71.9
    assert fmt_pct(1.2) == "120.0%"
    assert fmt_pct(0.0) == "0.0%"
    assert fmt_count(12, unit="个") == "12个"
    assert fmt_count(np.int64(3)) == "3"
    assert fmt_count(1234) == "1,234"
    assert fmt_count(1_234_567.4, unit="户") == "1,234,567户"
    assert fmt_wan_m2(123_456_789) == "12,345.68万平方米"
    assert fmt_pct(12.3456) == "1,234.6%"
    assert fmt_months(1234.56) == "1,234.6个月"
    assert fmt_months(31.25) == "31.3个月"
    assert fmt_date_zh("2021-01-05") == "2021年1月5日"
    assert fmt_date_zh(pd.Timestamp("2021-12-31")) == "2021年12月31日"
    assert fmt_date_zh(dt.date(2020, 2, 29)) == "2020年2月29日"


def test_units_can_be_left_out():
    assert fmt_wan_yuan(185000.0, unit=False) == "18.50"
    assert fmt_mu(7.25, unit=False) == "7.25"
    assert fmt_wan_m2(30000.0, unit=False) == "3.00"
    assert fmt_pct(0.5, unit=False) == "50.0"
    assert fmt_wan_yuan(12345.0, decimals=4) == "1.2345万元"


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT])
def test_missing_values(missing):
    for fmt in (fmt_wan_yuan, fmt_mu, fmt_wan_m2, fmt_pct, fmt_count, fmt_months, fmt_date_zh):
        assert fmt(missing) == NA_REP
    assert fmt_wan_yuan(missing, na_rep="无") == "无"


def test_round_half_up():
    assert str(round_half_up(0.125, 2)) == "0.13"
    assert str(round_half_up(-0.004, 2)) == "0.00"
    assert str(round_half_up(2.5, 0)) == "3"


def test_forecast_dates_are_written_to_the_month_or_as_half_year_ranges():
    from zhengshou_analysis.formatting import fmt_half_year_range_zh, fmt_month_zh

    assert fmt_month_zh("2023-07-31") == "2023年7月"
    assert fmt_month_zh(None) == "—"
    assert fmt_half_year_range_zh("2023-07-01", "2025-06-30") == "2023年下半年—2025年上半年"
    assert fmt_half_year_range_zh("2024-01-15", "2024-06-30") == "2024年上半年"
    assert fmt_half_year_range_zh("2024-06-30", "2024-07-01") == "2024年上半年—2024年下半年"
    assert fmt_half_year_range_zh("2024-03-01", None) == "2024年上半年以后"
    assert fmt_half_year_range_zh(pd.NaT, "2024-03-01") == "—"


# --- properties: every formatter writes a number that parses back to its value ---------------------

#: Magnitudes a ledger holds (up to 1e12 yuan, 1e8 亩); floats of any sign.
_REALS = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)

#: formatter, unit suffix, scale (the shown number is value / scale), fixed decimals.
_STYLE = [
    (fmt_wan_yuan, "万元", Decimal(10000), 2),
    (fmt_mu, "亩", Decimal(1), 2),
    (fmt_wan_m2, "万平方米", Decimal(10000), 2),
    (fmt_pct, "%", Decimal("0.01"), 1),
    (fmt_months, "个月", Decimal(1), 1),
]


def _parse(text: str, unit: str) -> Decimal:
    """The number a reader reads from ``text``: separators checked and removed, unit stripped."""
    assert text.endswith(unit), text
    body = text[: len(text) - len(unit)]
    sign, digits = ("-", body[1:]) if body.startswith("-") else ("", body)
    whole, _, _ = digits.partition(".")
    groups = whole.split(",")
    # thousands separators exactly every three digits
    assert 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]), text
    assert groups[0] == "0" or not groups[0].startswith("0"), text
    return Decimal(sign + digits.replace(",", ""))


@pytest.mark.parametrize(("fmt", "unit", "scale", "decimals"), _STYLE)
@given(x=_REALS)
def test_formatted_numbers_parse_back_within_half_a_unit_of_the_last_decimal(
    fmt, unit, scale, decimals, x
):
    text = fmt(x)
    shown = _parse(text, unit)
    assert shown.as_tuple().exponent == -decimals, text  # fixed decimals per unit
    exact = exact_decimal(x) / scale
    assert abs(shown - exact) <= Decimal(5).scaleb(-decimals - 1), (x, text)
    assert not text.startswith("-0") or shown != 0, text  # never "-0.00"
    assert fmt(x, unit=False) == text[: len(text) - len(unit)]


@given(n=st.integers(min_value=-(10**12), max_value=10**12))
def test_counts_parse_back_exactly(n):
    text = fmt_count(n, unit="个")
    assert _parse(text, "个") == n


@given(x=_REALS, decimals=st.integers(min_value=0, max_value=4))
def test_the_decimals_argument_is_kept(x, decimals):
    text = fmt_wan_yuan(x, decimals=decimals, unit=False)
    shown = _parse(text, "")
    assert shown.as_tuple().exponent == -decimals
    assert abs(shown - exact_decimal(x) / 10000) <= Decimal(5).scaleb(-decimals - 1)
