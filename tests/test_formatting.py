"""Number formats as government documents write them (formatting.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

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


@pytest.mark.parametrize(
    ("yuan", "text"),
    [
        (12345678.9, "1234.57万元"),  # 1234.56789 → 1234.57
        (185000.0, "18.50万元"),  # always 2 decimals
        (1250.0, "0.13万元"),  # 0.125 → half up 0.13 (banker's rounding would give 0.12)
        (0, "0.00万元"),
        (-1.0, "0.00万元"),  # −0.0001 → never "-0.00"
        (-2500000.0, "-250.00万元"),
        (np.float64(7400.0), "0.74万元"),
        (np.int64(10000), "1.00万元"),
    ],
)
def test_fmt_wan_yuan(yuan, text):
    assert fmt_wan_yuan(yuan) == text


@pytest.mark.parametrize(
    ("mu", "text"),
    [
        (120.0, "120亩"),  # as the data allow: no trailing zeros
        (35.604, "35.6亩"),  # 35.60 → 35.6
        (7.25, "7.25亩"),
        (0.125, "0.13亩"),  # half up
        (2.675, "2.68亩"),  # the decimal value, not the binary float 2.67499…
        (0.0, "0亩"),
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
