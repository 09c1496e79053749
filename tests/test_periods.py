"""Month arithmetic (indicators.md, "Months"): started calendar months and duration months."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.periods import DAYS_PER_MONTH, duration_months, months_between

T = pd.Timestamp


# --- the three examples of the spec -------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        ("2021-03-15", 1),  # 12·0 + 0, +1 because 15 ≥ 15
        ("2021-04-14", 1),  # 12·0 + 1, +0 because 14 < 15
        ("2021-04-15", 2),  # 12·0 + 1, +1 because 15 ≥ 15
    ],
)
def test_months_between_spec_examples(end, expected):
    assert months_between("2021-03-15", end) == expected
    assert months_between(T("2021-03-15"), T(end)) == expected
    assert months_between(dt.date(2021, 3, 15), dt.date.fromisoformat(end)) == expected


def test_months_between_spec_examples_as_series():
    end = pd.Series(pd.to_datetime(["2021-03-15", "2021-04-14", "2021-04-15"]))
    got = months_between(T("2021-03-15"), end)
    pd.testing.assert_series_equal(got, pd.Series([1, 1, 2], dtype="Int64"))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2020-12-31", "2021-01-01", 1),  # 12·1 + (1 − 12) = 1, +0 (1 < 31)
        ("2020-01-31", "2020-02-29", 1),  # 0 + 1, +0 (29 < 31): Feb never reaches day 31
        ("2020-01-31", "2020-03-31", 3),  # 0 + 2, +1
        ("2019-01-01", "2021-12-31", 36),  # 12·2 + 11, +1
        ("2021-05-01", "2021-01-01", 0),  # negative → clipped to 0
        ("2021-05-01", "2021-04-30", 0),  # 0 − 1 + 0 = −1 → 0
    ],
)
def test_months_between_more_cases(start, end, expected):
    assert months_between(start, end) == expected


def test_months_between_missing_dates_give_na():
    assert months_between(pd.NaT, "2021-01-01") is pd.NA
    assert months_between("2021-01-01", None) is pd.NA
    s = pd.Series(pd.to_datetime(["2021-01-01", None]))
    got = months_between(s, T("2021-02-01"))
    assert got.iloc[0] == 2
    assert got.isna().tolist() == [False, True]
    assert str(got.dtype) == "Int64"


# --- broadcasting and index preservation --------------------------------------------------------


def test_months_between_keeps_series_index_with_scalar():
    s = pd.Series(pd.to_datetime(["2021-03-15", "2021-01-31"]), index=[10, 30], name="start")
    got = months_between(s, "2021-04-15")
    assert got.index.tolist() == [10, 30]
    assert got.tolist() == [2, 3]  # 1 + 1;  3 + 0 (15 < 31)
    got_rev = months_between("2020-12-01", s)
    assert got_rev.index.tolist() == [10, 30]
    assert got_rev.tolist() == [4, 2]  # 12 + (3 − 12) = 3, +1 (15 ≥ 1);  12 + (1 − 12) = 1, +1


def test_months_between_two_series_same_index():
    idx = pd.Index(["a", "b"])
    s = pd.Series(pd.to_datetime(["2021-03-15", "2020-01-01"]), index=idx)
    e = pd.Series(pd.to_datetime(["2021-04-15", "2020-12-31"]), index=idx)
    got = months_between(s, e)
    assert got.index.equals(idx)
    assert got.tolist() == [2, 12]


def test_months_between_two_series_align_on_index():
    s = pd.Series(pd.to_datetime(["2021-03-15", "2020-01-01"]), index=[1, 2])
    e = pd.Series(pd.to_datetime(["2020-12-31", "2021-04-15"]), index=[2, 1])
    got = months_between(s, e)
    assert got.loc[1] == 2
    assert got.loc[2] == 12


def test_months_between_arrays_and_lists_give_range_index():
    got = months_between(["2021-03-15", "2021-01-01"], np.array(["2021-04-15", "2021-01-01"]))
    assert got.index.equals(pd.RangeIndex(2))
    assert got.tolist() == [2, 1]
    # a one-element array-like broadcasts like a scalar
    one = months_between(["2021-01-01"], pd.Series(pd.to_datetime(["2021-01-01", "2021-02-01"])))
    assert one.tolist() == [1, 2]


def test_months_between_length_mismatch_raises():
    with pytest.raises(ParameterError, match="lengths 2 and 3"):
        months_between(["2021-01-01"] * 2, ["2021-01-01"] * 3)


def test_months_between_second_resolution_and_empty():
    s = pd.Series(pd.to_datetime(["2021-03-15"]).astype("datetime64[s]"), index=[7])
    assert months_between(s, "2022-03-15").tolist() == [13]  # 12 + 0, +1
    empty = months_between(pd.Series([], dtype="datetime64[s]"), T("2021-01-01"))
    assert len(empty) == 0
    assert str(empty.dtype) == "Int64"


def test_months_between_does_not_modify_inputs():
    s = pd.Series(pd.to_datetime(["2021-03-15", None]), index=[5, 6])
    e = pd.Series(pd.to_datetime(["2021-04-15", "2021-04-15"]), index=[5, 6])
    s0, e0 = s.copy(), e.copy()
    months_between(s, e)
    duration_months(s, e)
    pd.testing.assert_series_equal(s, s0)
    pd.testing.assert_series_equal(e, e0)


@settings(deadline=None, max_examples=80)
@given(
    start=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 28)),
    n=st.integers(min_value=0, max_value=120),
)
def test_months_between_same_day_n_months_later_is_n_plus_one(start, n):
    # day ≤ 28 exists in every month: start + n calendar months on the same day starts month n + 1
    start = start.replace(day=min(start.day, 28))
    end = (T(start) + pd.DateOffset(months=n)).date()
    assert months_between(start, end) == n + 1
    # one day earlier month n + 1 has not started yet (0 when n = 0: the day before the start)
    assert months_between(start, end - dt.timedelta(days=1)) == n


# --- durations ----------------------------------------------------------------------------------


def test_duration_months_average_month():
    assert DAYS_PER_MONTH == 30.4375
    # 30.4375 · 12 = 365.25 days; 2021-01-01 → 2022-01-01 is 365 days
    assert duration_months("2021-01-01", "2022-01-01") == pytest.approx(365 / 30.4375)
    assert duration_months("2021-01-31", "2021-01-01") == pytest.approx(-30 / 30.4375)
    assert np.isnan(duration_months(pd.NaT, "2021-01-01"))


def test_duration_months_keeps_index_and_broadcasts():
    s = pd.Series(pd.to_datetime(["2021-01-01", None, "2021-12-01"]), index=[3, 4, 5])
    got = duration_months(s, T("2021-12-31"))
    assert got.index.tolist() == [3, 4, 5]
    assert got.iloc[0] == pytest.approx(364 / 30.4375)
    assert np.isnan(got.iloc[1])
    assert got.iloc[2] == pytest.approx(30 / 30.4375)
    assert got.dtype == np.float64


# --- reporting periods ---------------------------------------------------------------------------


def test_periods_name_their_folder_and_label():
    from zhengshou_analysis.periods import Period

    assert (Period.of_date("2021-12-31").folder, Period.of_date("2021-12-31").label_zh) == (
        "2021",
        "2021年",
    )
    june = Period.of_date("2021-06-30")
    assert (june.kind, june.folder, june.label_zh) == ("month", "2021-06", "2021年6月")
    feb = Period.of_date("2024-02-29")  # a leap year's month end
    assert (feb.kind, feb.folder) == ("month", "2024-02")
    odd = Period.of_date("2021-06-15")
    assert (odd.kind, odd.folder, odd.label_zh) == ("date", "2021-06-15", "2021年（截至6月15日）")
    assert odd.previous is None and odd.next is None
    for p in (Period.of_date("2021-12-31"), june, feb, odd):
        assert Period.from_folder(p.folder) == p
    assert Period.from_folder("2021-13") is None and Period.from_folder("2021-06-30") is None
    assert Period.from_folder("index.html") is None


def test_previous_and_next_cross_the_year():
    from zhengshou_analysis.periods import Period

    jan = Period.month_end(2021, 1)
    assert jan.previous == Period.month_end(2020, 12)
    assert jan.previous.next == jan
    assert jan.year_start == Period.year_end(2020) == Period.year_end(2021).previous
    assert Period.month_end(2021, 12).as_of == Period.year_end(2021).as_of  # same day, two kinds
    assert Period.month_end(2021, 12) != Period.year_end(2021)


def test_parse_months():
    from zhengshou_analysis.exceptions import ParameterError
    from zhengshou_analysis.periods import parse_months

    assert [p.folder for p in parse_months("2021")] == [f"2021-{m:02d}" for m in range(1, 13)]
    assert [p.folder for p in parse_months("2021-11..2022-02, 2021-11")] == [
        "2021-11",
        "2021-12",
        "2022-01",
        "2022-02",
    ]
    for bad in ("2021-13", "2021-06..2021-01", "June", "2021-1-1", ""):
        with pytest.raises(ParameterError, match="--months"):
            parse_months(bad)
