"""The ledgers as known at a date: nothing after it survives, nothing before it is lost."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhengshou_analysis.figures import Analysis
from zhengshou_analysis.figures.vintage import KNOWN_AT, cut_tables_at, latest_date
from zhengshou_analysis.schemas import TABLES, conform_table

CUT = pd.Timestamp("2020-06-30")


def _t(name: str, rows: list[dict]) -> pd.DataFrame:
    return conform_table(pd.DataFrame(rows), name)


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return _tables()


def _tables() -> dict[str, pd.DataFrame]:
    return {
        "agreements": _t(
            "agreements",
            [
                {"agreement_id": "A1", "signed_date": "2020-06-30", "compensation_yuan": 100.0},
                {"agreement_id": "A2", "signed_date": "2020-07-01", "compensation_yuan": 200.0},
                {"agreement_id": "A3", "signed_date": None, "compensation_yuan": 300.0},
            ],
        ),
        "funding": _t(
            "funding",
            [
                {"date": "2019-01-05", "amount_yuan": 10.0},
                {"date": "2021-01-05", "amount_yuan": 20.0},
            ],
        ),
        "sites": _t(
            "sites",
            [
                {
                    "site_name": "甲",
                    "start_date": "2018-01-01",
                    "promised_date": "2020-01-01",
                    "delivered_date": "2020-09-01",
                },
                {
                    "site_name": "乙",
                    "start_date": "2021-01-01",
                    "promised_date": "2023-01-01",
                    "delivered_date": None,
                },
                {
                    "site_name": "丙",
                    "start_date": "2017-01-01",
                    "promised_date": "2019-01-01",
                    "delivered_date": "2020-06-30",
                },
            ],
        ),
        "transition": _t(
            "transition",
            [
                {
                    "agreement_id": "A1",
                    "start_date": "2020-01-01",
                    "end_date": "2020-12-01",
                    "fee_basis": "按户",
                    "fee_rate_yuan": 1000.0,
                },
                {
                    "agreement_id": "A2",
                    "start_date": "2020-08-01",
                    "end_date": None,
                    "fee_basis": "按户",
                    "fee_rate_yuan": 1000.0,
                },
            ],
        ),
    }


def test_rows_after_the_date_are_dropped_and_events_after_it_unknown(tables):
    cut = cut_tables_at(tables, CUT)
    assert list(cut["agreements"]["agreement_id"]) == ["A1", "A3"]  # undated row kept
    assert list(cut["funding"]["amount_yuan"]) == [10.0]
    # every site stays listed (乙 is planned, not started); the 2020-09 delivery is not known yet
    assert list(cut["sites"]["site_name"]) == ["甲", "乙", "丙"]
    assert cut["sites"]["delivered_date"].isna().tolist() == [True, True, False]
    assert cut["sites"]["delivered_date"].iloc[2] == CUT  # the day itself is known
    assert list(cut["transition"]["agreement_id"]) == ["A1"]
    assert cut["transition"]["end_date"].isna().all()
    assert set(cut) == set(TABLES)


def test_no_date_after_the_cut_survives_in_any_row_or_event(tables):
    cut = cut_tables_at(tables, CUT)
    for name, rule in KNOWN_AT.items():
        for col in (rule.row_date, *rule.event_dates):
            if col is not None:
                assert not cut[name][col].gt(CUT).any(), (name, col)
    assert latest_date(cut) <= CUT
    assert latest_date(tables) == pd.Timestamp("2021-01-05")


def test_inputs_are_not_modified(tables):
    before = {k: v.copy() for k, v in tables.items()}
    cut_tables_at(tables, CUT)
    for k, v in tables.items():
        pd.testing.assert_frame_equal(v, before[k])


def test_cutting_twice_is_cutting_once(tables):
    once = cut_tables_at(tables, CUT)
    twice = cut_tables_at(once, CUT)
    for k in once:
        pd.testing.assert_frame_equal(once[k], twice[k])


@settings(max_examples=25, deadline=None)
@given(
    a=st.dates(min_value=dt.date(2019, 6, 1), max_value=dt.date(2021, 6, 30)),
    b=st.dates(min_value=dt.date(2019, 6, 1), max_value=dt.date(2021, 6, 30)),
)
def test_cutting_at_two_dates_is_cutting_at_the_earlier(a, b):
    # what the model store's keys rely on (modelstore.known_at_key): the tables known at 2020-12-31
    # are the same whether cut from the 2021 report's tables or from the 2022 report's
    tables = _tables()
    twice = cut_tables_at(cut_tables_at(tables, a), b)
    once = cut_tables_at(tables, min(a, b))
    for k in once:
        pd.testing.assert_frame_equal(twice[k], once[k])


def test_a_report_never_shows_a_later_delivery_as_a_fact(tables):
    a = Analysis(tables, year=2020, as_of=CUT)
    status = a.site_status.set_index("site_name")
    assert pd.isna(status.loc["甲", "delivered_date"])  # delivered 2020-09: after as_of
    assert status.loc["甲", "status"] == "overdue"
    assert status.loc["丙", "delivered_date"] == CUT


@pytest.mark.parametrize("year", [2019, 2021])
def test_the_demo_reports_no_later_delivery_or_move_back(demo_ledgers, year):
    """The 2019 report used to print five deliveries of 2021–2022 as facts, 2021 two."""
    a = Analysis(demo_ledgers.tables, year=year)
    as_of = pd.Timestamp(f"{year}-12-31")
    for name, rule in KNOWN_AT.items():
        for col in (rule.row_date, *rule.event_dates):
            if col is not None:
                assert not a.tables[name][col].gt(as_of).any(), (name, col)
    assert not a.site_status["delivered_date"].gt(as_of).any()
    # the undelivered sites are still undelivered on the page, and counted as such
    later = demo_ledgers.tables["sites"]["delivered_date"].gt(as_of)
    assert int(later.sum()) > 0  # the demo has later deliveries: the test would catch a leak
