"""A period's key figures: a year's, and a month's with its changes beside them (figures/year.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from zhengshou_analysis.figures import Analysis
from zhengshou_analysis.figures.year import (
    CHANGE_KEYS,
    compute_period_figures,
    key_figure_changes,
)
from zhengshou_analysis.periods import Period


def test_changes_are_differences_of_numbers_only():
    now = {"projects_count": 5, "unpaid_gap_yuan": 120.5, "funds_in_place_ratio": 0.75}
    before = {"projects_count": 3, "unpaid_gap_yuan": None, "funds_in_place_ratio": 0.5}
    changes = key_figure_changes(now, before)
    assert changes["projects_count"] == 2 and isinstance(changes["projects_count"], int)
    assert changes["unpaid_gap_yuan"] is None  # a missing value is no change of 120.5
    assert changes["funds_in_place_ratio"] == pytest.approx(0.25)  # a difference of ratios
    assert "unpaid_gap_by_zone" not in changes  # breakdowns are not differenced
    assert "gap_p50_yuan" not in key_figure_changes({"gap_p50_yuan": 1.0}, {"gap_p50_yuan": 0.5})
    assert all(v is None for v in key_figure_changes(now, None).values())


@pytest.mark.slow
def test_a_month_is_the_annual_definitions_at_its_end_with_its_changes(report_env):
    from zhengshou_analysis.ledger.store import load_ledgers

    # the small hand-made ledgers plus a 2020 projects ledger: the year before has rows
    tables = load_ledgers(report_env["raw"], use_cache=False).tables
    june = Period.month_end(2021, 6)
    figures = compute_period_figures(tables, period=june, horizon_months=6)
    assert figures["period"] == "2021-06" and figures["as_of"] == "2021-06-30"
    at_end = Analysis(tables, year=2021, as_of="2021-06-30").key_figures(forecasts=False)
    may = Analysis(tables, year=2021, as_of="2021-05-31").key_figures(forecasts=False)
    start = Analysis(tables, year=2020, as_of="2020-12-31").key_figures(forecasts=False)
    checked = 0
    for name in figures[CHANGE_KEYS[0]]:  # every scalar figure of the registry
        value = at_end[name]
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert figures[name] == pytest.approx(value, nan_ok=True), name
            for key, before in zip(CHANGE_KEYS, (may, start), strict=True):
                change = figures[key][name]
                if isinstance(before.get(name), int | float) and not pd.isna(value):
                    assert change == pytest.approx(value - before[name]), (key, name)
                    checked += 1
    assert checked >= 20


@pytest.mark.slow
def test_january_compares_with_the_year_end_before_and_a_year_has_no_changes(small_ledgers):
    tables = small_ledgers.tables
    jan = compute_period_figures(tables, period=Period.month_end(2021, 1), horizon_months=6)
    assert jan[CHANGE_KEYS[0]] == jan[CHANGE_KEYS[1]]
    # these ledgers have no row in 2020: nothing to compare with, said as None, not as 0
    assert all(v is None for v in jan[CHANGE_KEYS[0]].values())
    year = compute_period_figures(tables, period=Period.year_end(2021), horizon_months=6)
    assert year["period"] == "2021" and not set(CHANGE_KEYS) & set(year)


@pytest.mark.slow
def test_a_given_analysis_gives_the_same_figures_and_must_report_the_period(small_ledgers):
    tables = small_ledgers.tables
    june = Period.month_end(2021, 6)
    own = compute_period_figures(tables, period=june, horizon_months=6)
    analysis = Analysis(tables, year=2021, as_of="2021-06-30", horizon_months=6)
    given = compute_period_figures(tables, period=june, analysis=analysis)
    assert given == own
    with pytest.raises(ValueError, match="2021-05"):
        compute_period_figures(tables, period=Period.month_end(2021, 5), analysis=analysis)
