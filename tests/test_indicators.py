"""Indicators (indicators.md), checked against small hand-computed fixtures.

Every expected number is written by hand with its arithmetic in a comment. The reporting date is
2021-12-31 unless a test says otherwise.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from ledger_builder import frame
from statsmodels.duration.survfunc import SurvfuncRight

from zhengshou_analysis.exceptions import EmptyPeriodError, ParameterError, SchemaError
from zhengshou_analysis.figures import (
    age_band_labels,
    classify_age_band,
    compute_agreement_balances,
    compute_blocked_mu,
    compute_build_time_survival,
    compute_figure_records,
    compute_key_figures,
    compute_median_build_months,
    compute_overdue_by_age,
    compute_progress,
    compute_site_status,
    compute_transition_fees,
    compute_transition_fees_by,
    compute_unpaid_gap,
)
from zhengshou_analysis.figures import definitions as indicator_definitions
from zhengshou_analysis.figures.keyfile import key_figures_json
from zhengshou_analysis.schemas import empty_table
from zhengshou_analysis.settings import DEFAULT_ESCALATION, Escalation, Policy

AS_OF = pd.Timestamp("2021-12-31")
D = 30.4375  # days per duration month


# --------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture
def projects() -> pd.DataFrame:
    na = None
    return frame(
        "projects",
        [
            # P1 市下达 贵城: 100 亩 → 80; 20000 m² → 15000; blocked 12.5 亩 公建单位
            {
                "project_id": "P1",
                "project_name": "一号路",
                "zone": "贵城片区",
                "category": "市下达",
                "year": 2021,
                "land_target_mu": 100.0,
                "land_done_mu": 80.0,
                "house_target_m2": 20000.0,
                "house_done_m2": 15000.0,
                "blocker": "公建单位",
                "blocked_mu": 12.5,
            },
            # P2 市下达 港城: 50 亩 → NA; house 0 → 0; 军事用地 7.25
            {
                "project_id": "P2",
                "project_name": "二号园",
                "zone": "港城片区",
                "category": "市下达",
                "year": 2021,
                "land_target_mu": 50.0,
                "land_done_mu": na,
                "house_target_m2": 0.0,
                "house_done_m2": 0.0,
                "blocker": "军事用地",
                "blocked_mu": 7.25,
            },
            # P3 区统筹 贵城: NA → 30 亩; 10000 → 12000 m²; 双高糖料蔗基地 20
            {
                "project_id": "P3",
                "project_name": "三号棚改",
                "zone": "贵城片区",
                "category": "区统筹",
                "year": 2021,
                "land_target_mu": na,
                "land_done_mu": 30.0,
                "house_target_m2": 10000.0,
                "house_done_m2": 12000.0,
                "blocker": "双高糖料蔗基地",
                "blocked_mu": 20.0,
            },
            # P4 区统筹 城区外围: 0 → 0 亩; house NA → NA; 留用地 4
            {
                "project_id": "P4",
                "project_name": "四号站",
                "zone": "城区外围片区",
                "category": "区统筹",
                "year": 2021,
                "land_target_mu": 0.0,
                "land_done_mu": 0.0,
                "house_target_m2": na,
                "house_done_m2": na,
                "blocker": "留用地",
                "blocked_mu": 4.0,
            },
            # P5 区统筹 贵城: 10 → 5 亩; house 0 → 0; 公建单位 2.5
            {
                "project_id": "P5",
                "project_name": "五号路",
                "zone": "贵城片区",
                "category": "区统筹",
                "year": 2021,
                "land_target_mu": 10.0,
                "land_done_mu": 5.0,
                "house_target_m2": 0.0,
                "house_done_m2": 0.0,
                "blocker": "公建单位",
                "blocked_mu": 2.5,
            },
            # P1 of 2020: another year, never counted in 2021
            {
                "project_id": "P1",
                "project_name": "一号路",
                "zone": "贵城片区",
                "category": "市下达",
                "year": 2020,
                "land_target_mu": 999.0,
                "land_done_mu": 999.0,
                "house_target_m2": 999.0,
                "house_done_m2": 999.0,
                "blocker": "军事用地",
                "blocked_mu": 999.0,
            },
        ],
    )


@pytest.fixture
def agreements() -> pd.DataFrame:
    return frame(
        "agreements",
        [
            # A1: due 2021-02-09 → 325 days overdue = 10.68 months (6–12); paid 30000 → gap 70000
            {
                "agreement_id": "A1",
                "project_id": "P1",
                "signed_date": "2021-01-10",
                "compensation_yuan": 100000.0,
                "payment_due_date": "2021-02-09",
                "site_id": "S1",
            },
            # A2: no due date → 2021-03-01 + 30 d = 2021-03-31; paid 60000 > 50000 → gap 0
            {
                "agreement_id": "A2",
                "project_id": "P1",
                "signed_date": "2021-03-01",
                "compensation_yuan": 50000.0,
            },
            # A3: due 2021-10-02 → 90 days = 2.96 months (0–3); paid 20000 (+50000 in 2022)
            {
                "agreement_id": "A3",
                "project_id": "P2",
                "signed_date": "2021-09-01",
                "compensation_yuan": 80000.0,
                "payment_due_date": "2021-10-02",
            },
            # A4: signed 2020, due 2020-09-30 → 457 days = 15.01 months (12+); nothing paid
            {
                "agreement_id": "A4",
                "project_id": "P3",
                "signed_date": "2020-06-01",
                "compensation_yuan": 40000.0,
                "payment_due_date": "2020-09-30",
            },
            # A5: due 2021-12-20 + 30 d = 2022-01-19: not overdue; gap 10000
            {
                "agreement_id": "A5",
                "project_id": "P4",
                "signed_date": "2021-12-20",
                "compensation_yuan": 10000.0,
            },
            # A6: signed after as_of: not counted anywhere
            {
                "agreement_id": "A6",
                "project_id": "P1",
                "signed_date": "2022-01-03",
                "compensation_yuan": 999999.0,
            },
            # A7: no project; due 2021-09-30 → 92 days = 3.02 months (3–6); gap 5000
            {
                "agreement_id": "A7",
                "signed_date": "2021-09-01",
                "compensation_yuan": 5000.0,
                "payment_due_date": "2021-09-30",
            },
        ],
    )


@pytest.fixture
def payments() -> pd.DataFrame:
    return frame(
        "payments",
        [
            {
                "payment_id": "Y1",
                "date": "2021-03-01",
                "agreement_id": "A1",
                "kind": "补偿款",
                "amount_yuan": 30000.0,
            },
            {
                "payment_id": "Y2",
                "date": "2021-04-01",
                "agreement_id": "A2",
                "kind": "补偿款",
                "amount_yuan": 60000.0,
            },
            {
                "payment_id": "Y3",
                "date": "2021-10-10",
                "agreement_id": "A3",
                "kind": "补偿款",
                "amount_yuan": 20000.0,
            },
            {
                "payment_id": "Y4",
                "date": "2022-01-05",
                "agreement_id": "A3",
                "kind": "补偿款",
                "amount_yuan": 50000.0,
            },
            {
                "payment_id": "Y5",
                "date": "2021-06-01",
                "agreement_id": "AX",
                "kind": "补偿款",
                "amount_yuan": 1000.0,
            },
            {"payment_id": "Y6", "date": "2021-05-01", "kind": "工作经费", "amount_yuan": 3000.0},
            {
                "payment_id": "F1",
                "date": "2021-06-01",
                "agreement_id": "H1",
                "kind": "过渡安置费",
                "amount_yuan": 50000.0,
            },
            {
                "payment_id": "F2",
                "date": "2021-03-01",
                "agreement_id": "H2",
                "kind": "过渡安置费",
                "amount_yuan": 10000.0,
            },
            {
                "payment_id": "F3",
                "date": "2022-01-15",
                "agreement_id": "H2",
                "kind": "过渡安置费",
                "amount_yuan": 5000.0,
            },
            {
                "payment_id": "F4",
                "date": "2020-11-01",
                "agreement_id": "H4",
                "kind": "过渡安置费",
                "amount_yuan": 9900.0,
            },
            {
                "payment_id": "F5",
                "date": "2021-08-01",
                "agreement_id": "H5",
                "kind": "过渡安置费",
                "amount_yuan": 2000.0,
            },
            {
                "payment_id": "F6",
                "date": "2021-12-20",
                "agreement_id": "H6",
                "kind": "过渡安置费",
                "amount_yuan": 500.0,
            },
        ],
    )


@pytest.fixture
def funding() -> pd.DataFrame:
    return frame(
        "funding",
        [
            {"date": "2021-01-05", "funding_source": "市财政", "amount_yuan": 300000.0},
            {"date": "2021-07-01", "funding_source": "专项债券", "amount_yuan": 100000.0},
            {
                "date": "2022-01-02",
                "funding_source": "区财政",
                "amount_yuan": 500000.0,
            },  # after as_of
        ],
    )


@pytest.fixture
def sites() -> pd.DataFrame:
    return frame(
        "sites",
        [
            # S1: started 2017, promised 2019, not delivered: overdue, over 3 years, censored
            {
                "site_id": "S1",
                "site_name": "蓝田安置区",
                "zone": "贵城片区",
                "start_date": "2017-06-01",
                "promised_date": "2019-06-01",
                "units": 300,
            },
            # S2: started exactly 36 calendar months before as_of (2018-12-31): over 3 years
            {
                "site_id": "S2",
                "site_name": "文华雅苑",
                "zone": "港城片区",
                "start_date": "2018-12-31",
                "promised_date": "2020-12-31",
                "units": 200,
            },
            # S3: started one day later: not over 3 years; promised 2022: in progress
            {
                "site_id": "S3",
                "site_name": "三合安置区",
                "zone": "贵城片区",
                "start_date": "2019-01-01",
                "promised_date": "2022-06-30",
                "units": 150,
            },
            # S4: delivered 2020-09-01, promised 2020-03-01: 184 days late
            {
                "site_id": "S4",
                "site_name": "白凹窝安置区",
                "zone": "城区外围片区",
                "start_date": "2018-03-01",
                "promised_date": "2020-03-01",
                "delivered_date": "2020-09-01",
                "units": 120,
            },
            # S5: starts after as_of: not counted
            {
                "site_id": "S5",
                "site_name": "堤路园(二)A安置区",
                "zone": "港城片区",
                "start_date": "2022-03-01",
                "promised_date": "2024-03-01",
                "units": 90,
            },
        ],
    )


@pytest.fixture
def transition() -> pd.DataFrame:
    return frame(
        "transition",
        [
            # H1 per_m2 10 × 100 m² = 1000/月; K = 12·2 + 11 + 1 = 36; agreed 24 → 12 overdue (j = 1..12
            # at 1.5): accrued 1000·(24 + 12·1.5) = 42000, extra 6000; next j = 13 → 2.0 → 2000/月
            {
                "agreement_id": "H1",
                "site_id": "S1",
                "start_date": "2019-01-01",
                "fee_basis": "per_m2",
                "fee_rate_yuan": 10.0,
                "area_m2": 100.0,
                "agreed_months": 24,
            },
            # H2 per_person 300 × 4 = 1200/月; K = 12·2 + 0 + 1 = 25; agreed 12 → 13 overdue:
            # 12·1.5 + 1·2.0 = 20 → accrued 1200·(12 + 20) = 38400, extra 1200·(6 + 1) = 8400;
            # next j = 14 → 2.0 → 2400/月
            {
                "agreement_id": "H2",
                "site_id": "S2",
                "start_date": "2019-12-15",
                "fee_basis": "per_person",
                "fee_rate_yuan": 300.0,
                "persons": 4,
                "agreed_months": 12,
            },
            # H3 per_household 800; K = 12 + 11 + 1 = 24 = agreed → nothing overdue: 19200;
            # next j = 1 → 1.5 → 1200/月
            {
                "agreement_id": "H3",
                "site_id": "S3",
                "start_date": "2020-01-01",
                "fee_basis": "per_household",
                "fee_rate_yuan": 800.0,
                "agreed_months": 24,
            },
            # H4 per_m2 8 × 75 = 600; ended 2020-10-09: K = 12 + 4 + 0 (9 < 10) = 16 = agreed + 1
            # → j = 1 at 1.5: accrued 600·(15 + 1.5) = 9900, extra 300; not active
            {
                "agreement_id": "H4",
                "site_id": "S4",
                "start_date": "2019-06-10",
                "end_date": "2020-10-09",
                "fee_basis": "per_m2",
                "fee_rate_yuan": 8.0,
                "area_m2": 75.0,
                "agreed_months": 15,
            },
            # H5 per_household 1000; end 2022-03-01 is after as_of → active, end = as_of:
            # K = 9 + 1 = 10; agreed from site S3: months_between(2021-03-20, 2022-06-30) =
            # 12 + 3 + 1 = 16 → not overdue: 10000; next j = 11 − 16 < 1 → 1.0 → 1000/月
            {
                "agreement_id": "H5",
                "site_id": "S3",
                "start_date": "2021-03-20",
                "end_date": "2022-03-01",
                "fee_basis": "per_household",
                "fee_rate_yuan": 1000.0,
            },
            # H6 starts after as_of: not counted (its advance payment F6 still counts as paid)
            {
                "agreement_id": "H6",
                "site_id": "S3",
                "start_date": "2022-01-10",
                "fee_basis": "per_household",
                "fee_rate_yuan": 500.0,
                "agreed_months": 12,
            },
            # H7 no site: K = 1 + 1 = 2 → 1200; next j = 3 − 6 → 1.0 → 600/月; waiting (site unknown)
            {
                "agreement_id": "H7",
                "start_date": "2021-11-01",
                "fee_basis": "per_household",
                "fee_rate_yuan": 600.0,
                "agreed_months": 6,
            },
            # H8 site S4 delivered but not moved back: K = 24, agreed 6 → 18 overdue:
            # 12·1.5 + 6·2.0 = 30 → accrued 100·(6 + 30) = 3600, extra 100·(6 + 6) = 1200;
            # next j = 19 → 2.0 → 200/月; active but not waiting (its site is delivered)
            {
                "agreement_id": "H8",
                "site_id": "S4",
                "start_date": "2020-01-01",
                "fee_basis": "per_household",
                "fee_rate_yuan": 100.0,
                "agreed_months": 6,
            },
        ],
    )


@pytest.fixture
def tables(projects, agreements, payments, funding, sites, transition) -> dict[str, pd.DataFrame]:
    return {
        "projects": projects,
        "agreements": agreements,
        "payments": payments,
        "funding": funding,
        "sites": sites,
        "transition": transition,
    }


def figures_by_name(records: pd.DataFrame) -> dict:
    plain = records.loc[records["group"].isna()]
    return dict(zip(plain["name"], plain["value"], strict=True))


# --------------------------------------------------------------------------------------------------
# progress


def test_progress_overall(projects):
    row = compute_progress(projects, year=2021).iloc[0]
    assert row["projects_count"] == 5  # P1..P5 (P1's 2020 row is another year)
    assert row["land_target_mu"] == 160.0  # 100 + 50 + NA(0) + 0 + 10
    assert row["land_target_mu_na_count"] == 1  # P3
    assert row["land_done_mu"] == 115.0  # 80 + NA(0) + 30 + 0 + 5
    assert row["land_done_mu_na_count"] == 1  # P2
    assert row["house_target_m2"] == 30000.0  # 20000 + 0 + 10000 + NA + 0
    assert row["house_target_m2_na_count"] == 1
    assert row["house_done_m2"] == 27000.0  # 15000 + 0 + 12000 + NA + 0
    assert row["house_done_m2_na_count"] == 1
    assert row["land_completion_rate"] == pytest.approx(115 / 160)  # 0.71875
    assert row["house_completion_rate"] == pytest.approx(0.9)  # 27000 / 30000
    assert row["origins"] == [f"projects.xlsx#S!{i}" for i in range(2, 7)]


def test_progress_by_category(projects):
    by = compute_progress(projects, year=2021, by="category").set_index("category")
    assert by.index.tolist() == ["市下达", "区统筹"]
    city, district = by.loc["市下达"], by.loc["区统筹"]
    assert city["projects_count"] == 2
    assert city["land_target_mu"] == 150.0  # 100 + 50
    assert city["land_done_mu"] == 80.0  # 80 + NA
    assert city["land_completion_rate"] == pytest.approx(80 / 150)
    assert city["house_completion_rate"] == pytest.approx(0.75)  # 15000 / 20000
    assert district["projects_count"] == 3
    assert district["land_target_mu"] == 10.0  # NA + 0 + 10
    assert district["land_done_mu"] == 35.0  # 30 + 0 + 5
    assert district["land_completion_rate"] == pytest.approx(3.5)  # rates may exceed 1
    assert district["house_completion_rate"] == pytest.approx(1.2)  # 12000 / (10000 + NA + 0)


def test_progress_by_zone_zero_target_gives_na(projects):
    by = compute_progress(projects, year=2021, by="zone").set_index("zone")
    assert by.index.tolist() == ["贵城片区", "港城片区", "城区外围片区"]
    assert by.loc["贵城片区", "projects_count"] == 3  # P1, P3, P5
    assert by.loc["贵城片区", "land_completion_rate"] == pytest.approx(
        115 / 110
    )  # (80+30+5)/(100+10)
    assert by.loc["港城片区", "land_completion_rate"] == 0.0  # NA done counts as 0: 0 / 50
    assert math.isnan(by.loc["港城片区", "house_completion_rate"])  # target 0
    assert math.isnan(by.loc["城区外围片区", "land_completion_rate"])  # target 0 → NA


def test_progress_zero_target_rate_is_na():
    p = frame(
        "projects",
        [{"project_name": "x", "year": 2021, "land_target_mu": 0.0, "land_done_mu": 3.0}],
    )
    row = compute_progress(p, year=2021).iloc[0]
    assert row["land_target_mu"] == 0.0
    assert math.isnan(row["land_completion_rate"])
    assert math.isnan(row["house_completion_rate"])  # house target NA → 0 → NA
    assert row["house_target_m2_na_count"] == 1


def test_progress_empty_year(projects):
    row = compute_progress(projects, year=2019).iloc[0]
    assert row["projects_count"] == 0
    assert row["land_target_mu"] == 0.0
    assert row["house_done_m2"] == 0.0
    assert math.isnan(row["land_completion_rate"])
    assert row["origins"] == []
    by = compute_progress(projects, year=2019, by="category")
    assert by["category"].tolist() == ["市下达", "区统筹"]  # always both, zeros
    assert by["projects_count"].tolist() == [0, 0]
    assert compute_progress(projects, year=2019, by="zone").empty


def test_progress_bad_by(projects):
    with pytest.raises(ParameterError, match="by must be one of"):
        compute_progress(projects, year=2021, by="片区")


def test_blocked_mu_by_blocker(projects):
    b = compute_blocked_mu(projects, year=2021).set_index("blocker")
    assert b.index.tolist() == ["公建单位", "军事用地", "双高糖料蔗基地", "留用地"]
    assert b.loc["公建单位", "blocked_mu"] == 15.0  # P1 12.5 + P5 2.5
    assert b.loc["公建单位", "projects_count"] == 2
    assert b.loc["军事用地", "blocked_mu"] == 7.25  # P2 only (P1's 2020 row is another year)
    assert b.loc["双高糖料蔗基地", "blocked_mu"] == 20.0
    assert b.loc["留用地", "blocked_mu"] == 4.0
    assert b.loc["公建单位", "origins"] == ["projects.xlsx#S!2", "projects.xlsx#S!6"]


# --------------------------------------------------------------------------------------------------
# funding


def test_agreement_balances(agreements, payments):
    b = compute_agreement_balances(agreements, payments, as_of=AS_OF).set_index("agreement_id")
    assert b.index.tolist() == ["A1", "A2", "A3", "A4", "A5", "A7"]  # A6 signed after as_of
    assert b.loc["A1", "unpaid_yuan"] == 70000.0  # 100000 − 30000
    assert b.loc["A3", "paid_yuan"] == 20000.0  # the 2022-01-05 payment is after as_of: ignored
    assert b.loc["A3", "unpaid_yuan"] == 60000.0
    assert b.loc["A2", "payment_due_date"] == pd.Timestamp("2021-03-31")  # 2021-03-01 + 30 days
    assert b.loc["A1", "overdue_months"] == pytest.approx(325 / D)  # 2021-02-09 → 2021-12-31
    assert b.loc["A3", "age_band"] == "0-3"  # 90 days = 2.957 months
    assert b.loc["A7", "age_band"] == "3-6"  # 92 days = 3.023 months
    assert b.loc["A4", "age_band"] == "12+"  # 457 days = 15.01 months
    assert not b.loc["A5", "overdue"]  # due 2022-01-19
    assert pd.isna(b.loc["A5", "age_band"])
    assert b.loc["A1", "origins"] == ["agreements.xlsx#S!2"]
    assert b.loc["A1", "payment_origins"] == ["payments.xlsx#S!2"]


def test_overpayment_is_clipped_per_agreement_not_netted(agreements, payments):
    b = compute_agreement_balances(agreements, payments, as_of=AS_OF).set_index("agreement_id")
    assert b.loc["A2", "paid_yuan"] == 60000.0
    assert b.loc["A2", "unpaid_yuan"] == 0.0  # max(50000 − 60000, 0)
    assert b.loc["A2", "overpaid_yuan"] == 10000.0
    gap = compute_unpaid_gap(agreements, payments, as_of=AS_OF).iloc[0]
    # Σ max(·, 0) = 70000 + 0 + 60000 + 40000 + 10000 + 5000 = 185000
    # (netting would give 285000 − 110000 = 175000)
    assert gap["unpaid_gap_yuan"] == 185000.0
    assert gap["signed_agreements_yuan"] == 285000.0  # 100000+50000+80000+40000+10000+5000
    assert gap["paid_compensation_yuan"] == 110000.0  # 30000 + 60000 + 20000 (Y5 → unknown AX)
    assert gap["overdue_unpaid_yuan"] == 175000.0  # all but A5 (10000)


def test_unpaid_gap_by_project_and_zone(agreements, payments, projects):
    by_p = compute_unpaid_gap(agreements, payments, as_of=AS_OF, by="project", projects=projects)
    by_p = by_p.set_index("project_id")
    assert by_p.loc["P1", "unpaid_gap_yuan"] == 70000.0  # A1 70000 + A2 0
    assert by_p.loc["P1", "project_name"] == "一号路"
    assert by_p.loc["P1", "zone"] == "贵城片区"
    assert by_p.loc["P3", "unpaid_gap_yuan"] == 40000.0
    assert pd.isna(by_p.index[-1])  # A7 has no project: its own group, last
    assert by_p["unpaid_gap_yuan"].iloc[-1] == 5000.0
    by_z = compute_unpaid_gap(agreements, payments, as_of=AS_OF, by="zone", projects=projects)
    by_z = by_z.set_index("zone")
    assert by_z.loc["贵城片区", "unpaid_gap_yuan"] == 110000.0  # P1 70000 + P3 40000
    assert by_z.loc["港城片区", "unpaid_gap_yuan"] == 60000.0  # P2 (A3)
    assert by_z.loc["城区外围片区", "unpaid_gap_yuan"] == 10000.0  # P4 (A5)
    assert by_z["unpaid_gap_yuan"].sum() == 185000.0
    with pytest.raises(ParameterError, match="needs the projects table"):
        compute_unpaid_gap(agreements, payments, as_of=AS_OF, by="zone")


def test_overdue_by_age(agreements, payments):
    age = compute_overdue_by_age(agreements, payments, as_of=AS_OF).set_index("age_band")
    assert age.index.tolist() == ["0-3", "3-6", "6-12", "12+"]
    assert age.loc["0-3", "overdue_unpaid_yuan"] == 60000.0  # A3
    assert age.loc["3-6", "overdue_unpaid_yuan"] == 5000.0  # A7
    assert age.loc["6-12", "overdue_unpaid_yuan"] == 70000.0  # A1 70000 + A2 0 (9.03 months)
    assert age.loc["6-12", "agreements_count"] == 1  # A2 has no gap
    assert age.loc["12+", "overdue_unpaid_yuan"] == 40000.0  # A4
    assert age["overdue_unpaid_yuan"].sum() == 175000.0  # = overdue_unpaid_yuan


def test_age_band_boundaries_lower_bound_inclusive():
    months = pd.Series([0.0, 2.999, 3.0, 5.99, 6.0, 11.99, 12.0, 40.0, np.nan])
    got = classify_age_band(months).astype("str").tolist()
    assert got[:8] == ["0-3", "0-3", "3-6", "3-6", "6-12", "6-12", "12+", "12+"]
    assert pd.isna(got[8])
    # exactly 3.0 duration months = 91.3125 days; with day dates 91 days → 0–3, 92 days → 3–6
    assert classify_age_band(pd.Series([91.3125 / D])).iloc[0] == "3-6"
    assert classify_age_band(pd.Series([91 / D, 92 / D])).astype("str").tolist() == ["0-3", "3-6"]
    assert age_band_labels((0, 1, 2.5)) == ["0-1", "1-2.5", "2.5+"]
    with pytest.raises(ParameterError):
        age_band_labels((1, 3))


def test_payment_term_is_a_parameter(agreements, payments):
    # A5 signed 2021-12-20 without a due date: +30 d = 2022-01-19 (not overdue); +5 d = 2021-12-25
    # (overdue 6 days → 0–3), so the 0–3 band grows from 60000 to 70000
    age = compute_overdue_by_age(agreements, payments, as_of=AS_OF, payment_term_days=5)
    assert age.set_index("age_band").loc["0-3", "overdue_unpaid_yuan"] == 70000.0


def test_payments_after_as_of_are_ignored(agreements, payments):
    later = compute_agreement_balances(agreements, payments, as_of="2022-01-31")
    later = later.set_index("agreement_id")
    assert later.loc["A3", "paid_yuan"] == 70000.0  # 20000 + 50000 (2022-01-05) by 2022-01-31
    assert later.loc["A3", "unpaid_yuan"] == 10000.0
    assert "A6" in later.index  # signed 2022-01-03


# --------------------------------------------------------------------------------------------------
# transitional fees


def test_escalation_tiers_and_boundaries():
    e = DEFAULT_ESCALATION
    assert e.multiplier(0).item() == 1.0  # not overdue
    assert e.multiplier(1).item() == 1.5
    assert e.multiplier(12).item() == 1.5  # j = 12 → 1.5
    assert e.multiplier(13).item() == 2.0  # j = 13 → 2.0
    # Σ_{j=1..n} multiplier(j) in closed form = the month-by-month sum
    for n in range(40):
        assert e.cumulative(n).item() == pytest.approx(
            sum(e.multiplier(j).item() for j in range(1, n + 1))
        )
    assert e.cumulative(14).item() == 22.0  # 12·1.5 + 2·2.0


def test_transition_fees_per_household(transition, payments, sites):
    h = compute_transition_fees(transition, payments, as_of=AS_OF, sites=sites)
    h = h.set_index("agreement_id")
    assert "H6" not in h.index  # starts after as_of
    expected = {  # (K, overdue months, base, accrued, extra, monthly) — see the fixture comments
        "H1": (36, 12, 1000.0, 42000.0, 6000.0, 2000.0),
        "H2": (25, 13, 1200.0, 38400.0, 8400.0, 2400.0),
        "H3": (24, 0, 800.0, 19200.0, 0.0, 1200.0),
        "H4": (16, 1, 600.0, 9900.0, 300.0, 0.0),
        "H5": (10, 0, 1000.0, 10000.0, 0.0, 1000.0),
        "H7": (2, 0, 600.0, 1200.0, 0.0, 600.0),
        "H8": (24, 18, 100.0, 3600.0, 1200.0, 200.0),
    }
    for hid, (k, o, base, accrued, extra, monthly) in expected.items():
        row = h.loc[hid]
        assert row["fee_months"] == k, hid
        assert row["overdue_fee_months"] == o, hid
        assert row["base_monthly_yuan"] == base, hid
        assert row["accrued_yuan"] == pytest.approx(accrued), hid
        assert row["overdue_extra_yuan"] == pytest.approx(extra), hid
        assert row["monthly_yuan"] == pytest.approx(monthly), hid
    assert h.loc["H1", "next_multiplier"] == 2.0  # after 12 overdue months the next is j = 13
    assert h.loc["H3", "next_multiplier"] == 1.5  # K = agreed: the next month is overdue j = 1
    assert not h.loc["H4", "active"]
    assert h.loc["H5", "active"]  # end_date after as_of
    assert h.loc["H5", "fee_end_date"] == AS_OF
    assert h.loc["H1", "fee_end_date"] == AS_OF  # no end date
    assert h.loc["H5", "agreed_months"] == 16  # from site S3's promised date
    assert h.loc["H5", "agreed_months_source"] == "site"
    assert h.loc["H1", "agreed_months_source"] == "ledger"


def test_transition_fees_without_a_sites_ledger(transition, payments):
    # H5 has no agreed_months; with no sites ledger it has none to take (a pandas map on an empty
    # datetime lookup used to raise TypeError here)
    h = compute_transition_fees(transition, payments, as_of=AS_OF, sites=empty_table("sites"))
    h = h.set_index("agreement_id")
    assert h.loc["H5", "agreed_months_source"] == "missing"
    assert h.loc["H5", "overdue_fee_months"] == 0  # never counted overdue
    assert h.loc["H5", "accrued_yuan"] == 10000.0


def test_transition_arrears_clipped_per_household(transition, payments, sites):
    h = compute_transition_fees(transition, payments, as_of=AS_OF, sites=sites)
    h = h.set_index("agreement_id")
    assert h.loc["H1", "paid_yuan"] == 50000.0
    assert h.loc["H1", "arrears_yuan"] == 0.0  # max(42000 − 50000, 0)
    assert h.loc["H2", "paid_yuan"] == 10000.0  # the 2022-01-15 payment is after as_of
    assert h.loc["H2", "arrears_yuan"] == 28400.0  # 38400 − 10000
    assert h.loc["H4", "arrears_yuan"] == 0.0  # 9900 − 9900
    assert h.loc["H2", "payment_origins"] == ["payments.xlsx#S!9"]
    # Σ arrears = 0 + 28400 + 19200 + 0 + 8000 + 1200 + 3600 = 60400
    assert h["arrears_yuan"].sum() == 60400.0


def test_transition_fee_without_end_date_and_end_after_as_of(sites):
    t = frame(
        "transition",
        [
            {
                "agreement_id": "N",
                "start_date": "2021-03-15",
                "fee_basis": "per_household",
                "fee_rate_yuan": 100.0,
                "agreed_months": 36,
            },
            {
                "agreement_id": "L",
                "start_date": "2021-03-15",
                "end_date": "2023-01-01",
                "fee_basis": "per_household",
                "fee_rate_yuan": 100.0,
                "agreed_months": 36,
            },
        ],
    )
    h = compute_transition_fees(t, None, as_of="2021-04-15").set_index("agreement_id")
    assert h["fee_months"].tolist() == [2, 2]  # 2021-03-15 → 2021-04-15 (spec example)
    assert h["accrued_yuan"].tolist() == [200.0, 200.0]
    assert h["active"].tolist() == [True, True]
    h = compute_transition_fees(t, None, as_of="2021-04-14").set_index("agreement_id")
    assert h["fee_months"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("basis", "extra", "base"),
    [
        ("per_m2", {"area_m2": 80.0, "persons": 3}, 12.0 * 80),
        ("per_person", {"area_m2": 80.0, "persons": 3}, 12.0 * 3),
        ("per_household", {"area_m2": 80.0, "persons": 3}, 12.0),
    ],
)
def test_fee_bases(basis, extra, base):
    t = frame(
        "transition",
        [
            dict(
                agreement_id="B",
                start_date="2021-01-01",
                fee_basis=basis,
                fee_rate_yuan=12.0,
                agreed_months=24,
                **extra,
            )
        ],
    )
    h = compute_transition_fees(t, None, as_of=AS_OF).iloc[0]
    assert h["base_monthly_yuan"] == base
    assert h["accrued_yuan"] == 12 * base  # K = 12, not overdue


def test_fee_base_missing_area_is_nan_and_left_out():
    t = frame(
        "transition",
        [
            {
                "agreement_id": "M",
                "start_date": "2021-01-01",
                "fee_basis": "per_m2",
                "fee_rate_yuan": 10.0,
                "agreed_months": 24,
            },
            {
                "agreement_id": "OK",
                "start_date": "2021-01-01",
                "fee_basis": "per_household",
                "fee_rate_yuan": 10.0,
                "agreed_months": 24,
            },
        ],
    )
    h = compute_transition_fees(t, None, as_of=AS_OF).set_index("agreement_id")
    assert math.isnan(h.loc["M", "accrued_yuan"])
    figs = figures_by_name(compute_figure_records({"transition": t}, year=2021))
    assert figs["transition_fee_accrued_yuan"] == 120.0  # only OK: 10 × 12


def test_escalation_is_a_parameter(transition, payments, sites):
    flat_double = Escalation(((1, 2.0),))
    h = compute_transition_fees(
        transition, payments, as_of=AS_OF, sites=sites, escalation=flat_double
    ).set_index("agreement_id")
    assert h.loc["H1", "accrued_yuan"] == 48000.0  # 1000 · (24 + 12·2.0)
    assert h.loc["H1", "overdue_extra_yuan"] == 12000.0  # 1000 · 12 · 1.0


def test_vectorised_fees_equal_month_by_month_loop():
    rng = np.random.default_rng(7)
    n = 300
    starts = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")
    rows = [
        {
            "agreement_id": f"R{i}",
            "start_date": starts[i],
            "fee_basis": "per_household",
            "fee_rate_yuan": float(rng.integers(100, 2000)),
            "agreed_months": int(rng.integers(0, 40)),
        }
        for i in range(n)
    ]
    t = frame("transition", rows)
    esc = Escalation(((1, 1.5), (7, 1.8), (13, 2.0), (25, 3.0)))
    h = compute_transition_fees(t, None, as_of=AS_OF, escalation=esc)
    for r in h.itertuples():
        k, a, base = int(r.fee_months), int(r.agreed_months), r.base_monthly_yuan
        loop = sum(base * esc.multiplier(m - a).item() for m in range(1, k + 1))
        extra = sum(base * (esc.multiplier(m - a).item() - 1) for m in range(1, k + 1))
        assert r.accrued_yuan == pytest.approx(loop)
        assert r.overdue_extra_yuan == pytest.approx(extra)


def test_transition_fees_by_site_and_zone(transition, payments, sites):
    by_s = compute_transition_fees_by(
        transition, payments, as_of=AS_OF, by="site", sites=sites
    ).set_index("site_id")
    s3 = by_s.loc["S3"]
    assert s3["site_name"] == "三合安置区"
    assert s3["households"] == 2  # H3, H5 (H6 not started)
    assert s3["accrued_yuan"] == 29200.0  # 19200 + 10000
    assert s3["paid_yuan"] == 2000.0  # H5's F5 (H6's F6 belongs to no household in transition)
    assert s3["arrears_yuan"] == 27200.0  # 19200 + 8000
    assert s3["monthly_yuan"] == 2200.0  # 1200 + 1000
    by_z = compute_transition_fees_by(
        transition, payments, as_of=AS_OF, by="zone", sites=sites
    ).set_index("zone")
    assert by_z.loc["贵城片区", "accrued_yuan"] == 71200.0  # H1 42000 + H3 19200 + H5 10000
    assert by_z.loc["城区外围片区", "accrued_yuan"] == 13500.0  # H4 9900 + H8 3600
    assert by_z["accrued_yuan"].iloc[-1] == 1200.0  # H7, no site → missing zone, last
    with pytest.raises(ParameterError):
        compute_transition_fees_by(transition, payments, as_of=AS_OF, by="zone")


# --------------------------------------------------------------------------------------------------
# resettlement sites


def test_site_status(sites, transition):
    s = compute_site_status(sites, as_of=AS_OF, transition=transition).set_index("site_id")
    assert s.index.tolist() == ["S1", "S2", "S3", "S4"]  # S5 starts after as_of
    assert s["delivered"].tolist() == [False, False, False, True]
    assert s["overdue"].tolist() == [True, True, False, False]  # S3 promised 2022
    assert s["over_3_years"].tolist() == [True, True, False, False]  # as_of − 36 m = 2018-12-31
    assert s["status"].tolist() == ["overdue", "overdue", "in_progress", "delivered"]
    assert s["censored"].tolist() == [True, True, True, False]
    # not delivered: censored at as_of, never dropped: 2019-01-01 → 2021-12-31 = 1095 days
    assert s.loc["S3", "build_months"] == pytest.approx(1095 / D)
    # delivered: 2018-03-01 → 2020-09-01 = 365 + 366 + 184 = 915 days
    assert s.loc["S4", "build_months"] == pytest.approx(915 / D)
    assert s.loc["S4", "delay_months"] == pytest.approx(184 / D)  # 2020-03-01 → 2020-09-01
    assert s["delay_months"].isna().tolist() == [True, True, True, False]
    assert s["households_waiting"].tolist() == [1, 1, 2, 0]  # H1; H2; H3 + H5; H8's site delivered


def test_site_delivered_after_as_of_is_not_delivered(sites):
    s = compute_site_status(sites, as_of="2020-06-30").set_index("site_id")
    assert not s.loc["S4", "delivered"]  # delivered 2020-09-01, after as_of
    assert s.loc["S4", "censored"]
    assert s.loc["S4", "overdue"]  # promised 2020-03-01 < as_of
    assert math.isnan(s.loc["S4", "delay_months"])


def test_km_median_not_reached(sites):
    # build months: S1 54.98 (censored), S2 36.01 (c), S3 35.98 (c), S4 30.06 (event):
    # S(30.06) = 3/4 = 0.75, never ≤ 0.5 → not reached
    assert compute_median_build_months(sites, as_of=AS_OF) is None
    curve = compute_build_time_survival(sites, as_of=AS_OF)
    assert curve["surv_prob"].tolist() == [0.75]


def test_km_median_when_curve_stops_at_exactly_half():
    # two sites: one delivered after 300 days, one still building at as_of (censored later):
    # S(300 d) = 1/2 exactly; statsmodels' quantile gives NaN here, the definition gives 300 d
    s = frame(
        "sites",
        [
            {
                "site_name": "甲",
                "start_date": "2020-01-01",
                "promised_date": "2020-06-01",
                "delivered_date": "2020-10-27",
            },  # 300 days
            {"site_name": "乙", "start_date": "2020-01-01", "promised_date": "2020-06-01"},
        ],
    )
    assert np.isnan(SurvfuncRight(np.array([300 / D, 730 / D]), np.array([1, 0])).quantile(0.5))
    assert compute_median_build_months(s, as_of=AS_OF) == pytest.approx(300 / D)


def test_km_median_reached_and_no_sites():
    s = frame(
        "sites",
        [
            {
                "site_name": "a",
                "start_date": "2020-01-01",
                "promised_date": "2021-01-01",
                "delivered_date": "2020-01-31",
            },  # 30 days
            {
                "site_name": "b",
                "start_date": "2020-01-01",
                "promised_date": "2021-01-01",
                "delivered_date": "2020-03-01",
            },  # 60 days
            {
                "site_name": "c",
                "start_date": "2020-01-01",
                "promised_date": "2021-01-01",
                "delivered_date": "2020-03-31",
            },  # 90 days
        ],
    )
    # S = 2/3, 1/3, 0 → first ≤ 0.5 at 60 days
    assert compute_median_build_months(s, as_of=AS_OF) == pytest.approx(60 / D)
    assert compute_median_build_months(empty_table("sites"), as_of=AS_OF) is None
    assert compute_build_time_survival(empty_table("sites"), as_of=AS_OF).empty


# --------------------------------------------------------------------------------------------------
# figures


def test_figure_records_totals(tables):
    f = figures_by_name(compute_figure_records(tables, year=2021))
    assert f["projects_count"] == 5
    assert f["signed_agreements_yuan"] == 285000.0
    assert f["paid_compensation_yuan"] == 110000.0
    assert f["unpaid_gap_yuan"] == 185000.0
    assert f["overdue_unpaid_yuan"] == 175000.0
    assert f["funds_received_yuan"] == 400000.0  # 300000 + 100000 (2022 inflow ignored)
    # every payment by as_of: 补偿款 30000 + 60000 + 20000 + 1000 (AX), 工作经费 3000,
    # 过渡安置费 50000 + 10000 + 9900 + 2000 + 500 = 72400 → 186400
    assert f["total_paid_yuan"] == 186400.0
    assert f["cash_balance_yuan"] == 213600.0  # 400000 − 186400
    # accrued = 42000 + 38400 + 19200 + 9900 + 10000 + 1200 + 3600 = 124300
    assert f["transition_fee_accrued_yuan"] == 124300.0
    assert f["funds_required_yuan"] == 409300.0  # 285000 + 124300
    assert f["funds_in_place_ratio"] == pytest.approx(400000 / 409300)
    assert f["transition_households_active"] == 6  # H1 H2 H3 H5 H7 H8
    assert f["transition_fee_paid_yuan"] == 72400.0  # incl. H6's advance payment
    assert f["transition_fee_arrears_yuan"] == 60400.0  # per household, clipped
    assert f["transition_fee_overdue_extra_yuan"] == 15900.0  # 6000+8400+300+1200
    assert f["transition_fee_monthly_yuan"] == 7400.0  # 2000+2400+1200+1000+600+200
    assert f["sites_total"] == 4
    assert f["sites_delivered"] == 1
    assert f["sites_overdue"] == 2
    assert f["sites_over_3_years"] == 2
    assert f["households_waiting"] == 5  # active minus H8 (site delivered); H7 has no site
    assert f["median_build_months"] is None
    assert f["median_build_months_status"] == "not_reached"


def test_figure_records_origins_and_definitions(tables):
    r = compute_figure_records(tables, year=2021)
    row = r.loc[(r["name"] == "sites_over_3_years")].iloc[0]
    assert row["origins"] == ["sites.xlsx#S!2", "sites.xlsx#S!3"]
    gap = r.loc[r["name"] == "unpaid_gap_yuan"].iloc[0]
    assert set(gap["origins"]) == {
        *(f"agreements.xlsx#S!{i}" for i in (2, 3, 4, 5, 6, 8)),
        *(f"payments.xlsx#S!{i}" for i in (2, 3, 4)),
    }
    fund = r.loc[r["name"] == "funds_received_yuan"].iloc[0]
    assert fund["origins"] == ["funding.xlsx#S!2", "funding.xlsx#S!3"]
    assert (r["definition"].str.len() > 0).all()
    assert "36个自然月" in indicator_definitions()["sites_over_3_years"]
    assert "第1–12个逾期月×1.5" in indicator_definitions()["transition_fee_accrued_yuan"]


def test_key_figures_names_and_values(tables):
    kf = compute_key_figures(tables, year=2021)
    spec_names = {
        "projects_count",
        "land_target_mu",
        "land_done_mu",
        "house_target_m2",
        "house_done_m2",
        "land_completion_rate",
        "house_completion_rate",
        "blocked_mu_by_blocker",
        "signed_agreements_yuan",
        "paid_compensation_yuan",
        "unpaid_gap_yuan",
        "overdue_unpaid_yuan",
        "overdue_unpaid_by_age",
        "funds_received_yuan",
        "total_paid_yuan",
        "cash_balance_yuan",
        "funds_in_place_ratio",
        "transition_households_active",
        "transition_fee_accrued_yuan",
        "transition_fee_paid_yuan",
        "transition_fee_arrears_yuan",
        "transition_fee_overdue_extra_yuan",
        "transition_fee_monthly_yuan",
        "sites_total",
        "sites_delivered",
        "sites_overdue",
        "sites_over_3_years",
        "households_waiting",
        "median_build_months",
        "delay_months",
        "year",
        "as_of",
    }
    assert spec_names <= set(kf)
    assert kf["year"] == 2021
    assert kf["as_of"] == "2021-12-31"
    assert kf["land_completion_rate"] == 0.71875
    assert kf["funds_in_place_ratio"] == 0.977278  # 400000 / 409300 to 6 decimals
    assert kf["median_build_months"] is None
    assert kf["blocked_mu_by_blocker"] == {
        "公建单位": 15.0,
        "军事用地": 7.25,
        "双高糖料蔗基地": 20.0,
        "留用地": 4.0,
    }
    assert kf["overdue_unpaid_by_age"] == {
        "0-3": 60000.0,
        "3-6": 5000.0,
        "6-12": 70000.0,
        "12+": 40000.0,
    }
    assert kf["delay_months"] == {"S4": 6.05}  # 184 / 30.4375 = 6.045 → 6.05
    assert kf["progress_by_category"]["区统筹"]["land_completion_rate"] == 3.5
    assert kf["progress_by_zone"]["港城片区"]["house_completion_rate"] is None
    assert kf["unpaid_gap_by_zone"]["未注明"]["unpaid_gap_yuan"] == 5000.0
    assert kf["unpaid_gap_by_project"]["P1"]["unpaid_gap_yuan"] == 70000.0
    assert kf["transition_fee_by_site"]["S3"]["monthly_yuan"] == 2200.0
    assert kf["site_status"]["S1"]["status"] == "overdue"
    assert kf["site_status"]["S4"]["delivered_date"] == "2020-09-01"
    assert kf["parameters"]["escalation_tiers"] == [[1, 1.5], [13, 2.0]]
    json.loads(key_figures_json(kf))  # JSON-ready


def test_key_figures_as_of_parameter(tables):
    kf = compute_key_figures(tables, year=2021, as_of="2021-06-30")
    assert kf["as_of"] == "2021-06-30"
    assert kf["funds_received_yuan"] == 300000.0
    with pytest.raises(ParameterError):
        compute_key_figures(tables, year=2021, as_of="not a date")


def test_key_figures_json_is_deterministic(tables):
    a = key_figures_json(compute_key_figures(tables, year=2021))
    b = key_figures_json(compute_key_figures(tables, year=2021))
    assert a.encode("utf-8") == b.encode("utf-8")
    shuffled = {k: v.sample(frac=1.0, random_state=3) for k, v in tables.items()}
    assert key_figures_json(compute_key_figures(shuffled, year=2021)) == a
    assert "蓝田安置区" in a  # ensure_ascii=False
    keys = list(json.loads(a))
    assert keys == sorted(keys)


def test_key_figures_json_normalises_values():
    text = key_figures_json({"b": np.float64("nan"), "a": np.int64(3), "c": -0.0, "d": (1, 2)})
    assert text == '{\n  "a": 3,\n  "b": null,\n  "c": 0.0,\n  "d": [\n    1,\n    2\n  ]\n}\n'


ALL_LEDGERS = ["projects", "agreements", "payments", "funding", "sites", "transition"]


#: The only ledger of the "everything else missing" cases: one 工作经费 payment in 2021.
ONLY_PAYMENTS = {
    "payments": frame(
        "payments", [{"date": "2021-05-10", "kind": "工作经费", "amount_yuan": 1000.0}]
    )
}


def test_no_ledgers_at_all_is_an_error_naming_the_period():
    with pytest.raises(EmptyPeriodError, match=r"2021年.*没有提供任何台账"):
        compute_key_figures({}, year=2021)


def test_a_period_the_ledgers_never_reported_is_an_error(tables):
    with pytest.raises(EmptyPeriodError, match="2030年") as info:
        compute_key_figures(tables, year=2030)
    assert info.value.period == "2030年"
    with pytest.raises(EmptyPeriodError, match="1990年"):
        compute_key_figures(tables, year=1990)


def test_no_ledgers_give_null_not_zero():
    kf = compute_key_figures(ONLY_PAYMENTS, year=2021)
    assert kf["missing_ledgers"] == [n for n in ALL_LEDGERS if n != "payments"]
    for name in (
        "projects_count",
        "land_target_mu",
        "land_target_mu_na_count",
        "land_completion_rate",
        "signed_agreements_yuan",
        "unpaid_gap_yuan",
        "funds_received_yuan",
        "cash_balance_yuan",
        "funds_required_yuan",
        "funds_in_place_ratio",
        "transition_households_active",
        "transition_fee_accrued_yuan",
        "sites_total",
        "households_waiting",
        "median_build_months",
    ):
        assert kf[name] is None, name
    assert kf["total_paid_yuan"] == 1000.0  # payments need no other ledger
    assert kf["median_build_months_status"] == "no_sites"
    assert kf["blocked_mu_by_blocker"] == {}
    assert kf["overdue_unpaid_by_age"] == {"0-3": None, "3-6": None, "6-12": None, "12+": None}
    assert kf["progress_by_category"]["市下达"]["projects_count"] is None
    empty = {n: empty_table(n) for n in ALL_LEDGERS} | ONLY_PAYMENTS
    assert compute_key_figures(empty, year=2021) == kf  # an empty table is a missing ledger


FUNDING_ONLY = ("funds_received_yuan", "cash_balance_yuan", "funds_in_place_ratio")
TRANSITION_ONLY = (
    "transition_households_active",
    "transition_fee_accrued_yuan",
    "transition_fee_paid_yuan",
    "transition_fee_arrears_yuan",
    "transition_fee_overdue_extra_yuan",
    "transition_fee_monthly_yuan",
)
SITES_ONLY = (
    "sites_total",
    "sites_delivered",
    "sites_overdue",
    "sites_over_3_years",
    "households_waiting",
    "median_build_months",
)
AGREEMENTS_ONLY = (
    "signed_agreements_yuan",
    "paid_compensation_yuan",
    "unpaid_gap_yuan",
    "overdue_unpaid_yuan",
)


@pytest.mark.parametrize("how", ["absent", "empty"])
def test_missing_funding_ledger_is_null_not_zero(tables, how):
    t = dict(tables)
    if how == "absent":
        del t["funding"]
    else:
        t["funding"] = empty_table("funding")
    kf = compute_key_figures(t, year=2021)
    for name in FUNDING_ONLY:
        assert kf[name] is None, name  # before: 0, −186400 and 0
    assert kf["missing_ledgers"] == ["funding"]
    assert kf["total_paid_yuan"] == 186400.0  # payments are still known
    assert kf["funds_required_yuan"] == 409300.0
    assert kf["unpaid_gap_yuan"] == 185000.0
    records = figures_by_name(compute_figure_records(t, year=2021))
    assert all(records[name] is None for name in FUNDING_ONLY)


def test_missing_transition_ledger_is_null_not_zero(tables):
    t = dict(tables, transition=empty_table("transition"))
    kf = compute_key_figures(t, year=2021)
    for name in (*TRANSITION_ONLY, "households_waiting", "funds_required_yuan"):
        assert kf[name] is None, name
    assert kf["funds_in_place_ratio"] is None  # its denominator needs the accrued fees
    assert kf["transition_fee_by_site"] == {} and kf["transition_fee_by_zone"] == {}
    # the sites ledger is there: its own figures stay
    assert kf["sites_total"] == 4
    assert kf["sites_overdue"] == 2
    assert kf["funds_received_yuan"] == 400000.0
    assert kf["total_paid_yuan"] == 186400.0


def test_missing_sites_ledger_is_null_not_zero(tables):
    t = {k: v for k, v in tables.items() if k != "sites"}
    kf = compute_key_figures(t, year=2021)
    for name in SITES_ONLY:
        assert kf[name] is None, name
    assert kf["median_build_months_status"] == "no_sites"
    assert kf["site_status"] == {} and kf["delay_months"] == {}
    assert kf["transition_households_active"] == 6  # the transition ledger is there
    assert kf["missing_ledgers"] == ["sites"]


def test_missing_agreements_ledger_is_null_not_zero(tables):
    t = dict(tables, agreements=empty_table("agreements"))
    kf = compute_key_figures(t, year=2021)
    for name in (*AGREEMENTS_ONLY, "funds_required_yuan", "funds_in_place_ratio"):
        assert kf[name] is None, name
    assert set(kf["overdue_unpaid_by_age"].values()) == {None}
    assert kf["funds_received_yuan"] == 400000.0


def test_empty_payments_ledger_is_a_real_zero(tables):
    t = dict(tables, payments=empty_table("payments"))
    kf = compute_key_figures(t, year=2021)
    assert kf["paid_compensation_yuan"] == 0.0  # agreements present: nothing was paid
    assert kf["total_paid_yuan"] == 0.0
    assert kf["transition_fee_paid_yuan"] == 0.0
    assert kf["unpaid_gap_yuan"] == 285000.0  # owed in full
    assert kf["transition_fee_arrears_yuan"] == 124300.0
    assert kf["cash_balance_yuan"] == 400000.0
    assert kf["missing_ledgers"] == ["payments"]


def test_null_rule_is_documented():
    doc = compute_key_figures.__doc__
    assert "A missing ledger is not a zero" in doc
    assert "payments" in doc and "nothing was paid" in doc


def test_payment_term_applies_only_where_the_due_date_is_missing(tables):
    # A2 and A5 (signed by as_of) have no due date; A6 has none either but is signed after as_of
    kf = compute_key_figures(tables, year=2021)
    assert kf["parameters"]["payment_term_days"] == 30
    assert kf["parameters"]["payment_term_days_applied_to"] == 2
    b = compute_agreement_balances(tables["agreements"], tables["payments"], as_of=AS_OF)
    src = dict(zip(b["agreement_id"], b["payment_due_source"], strict=True))
    assert src == {
        "A1": "ledger",
        "A2": "term",
        "A3": "ledger",
        "A4": "ledger",
        "A5": "term",
        "A7": "ledger",
    }
    # the policy's term decides where the ledger gives no due date: with 30 days A5 (signed
    # 2021-12-20, gap 10000) is not overdue at as_of, with 10 days it is; a year leaves A2 (gap
    # 0) not overdue, which changes no sum
    k10 = compute_key_figures(tables, year=2021, policy=Policy(payment_term_days=10))
    k365 = compute_key_figures(tables, year=2021, policy=Policy(payment_term_days=365))
    assert k365["parameters"]["payment_term_days"] == 365
    assert k365["parameters"]["payment_term_days_applied_to"] == 2
    assert kf["overdue_unpaid_yuan"] == 175000.0
    assert k10["overdue_unpaid_yuan"] == kf["overdue_unpaid_yuan"] + 10000.0
    assert k365["overdue_unpaid_yuan"] == kf["overdue_unpaid_yuan"]
    assert k10["unpaid_gap_yuan"] == k365["unpaid_gap_yuan"] == kf["unpaid_gap_yuan"]
    # a ledger that states every due date: the term changes nothing
    a = tables["agreements"]
    filled = a.assign(
        payment_due_date=a["payment_due_date"].fillna(a["signed_date"] + pd.Timedelta(days=30))
    )
    stated = dict(tables, agreements=filled)
    s30 = compute_key_figures(stated, year=2021)
    s90 = compute_key_figures(stated, year=2021, policy=Policy(payment_term_days=90))
    assert s90["parameters"]["payment_term_days_applied_to"] == 0
    s30.pop("parameters"), s90.pop("parameters")
    assert s30 == s90
    defs = figures_definitions(
        compute_figure_records(stated, year=2021, policy=Policy(payment_term_days=90))
    )
    assert "支付期限缺失的协议按签约日期后90天计，本次适用于0份协议" in defs["overdue_unpaid_yuan"]
    defs = figures_definitions(compute_figure_records(tables, year=2021))
    assert "支付期限缺失的协议按签约日期后30天计，本次适用于2份协议" in defs["overdue_unpaid_yuan"]


def test_agreed_months_fill_is_reported(tables):
    kf = compute_key_figures(tables, year=2021)
    assert kf["parameters"]["agreed_months_from_site_applied_to"] == 1  # H5
    assert kf["parameters"]["agreed_months_missing"] == 0
    t = tables["transition"]
    no_site = t.assign(site_id=t["site_id"].where(t["agreement_id"] != "H5"))
    kf = compute_key_figures(dict(tables, transition=no_site), year=2021)
    assert kf["parameters"]["agreed_months_from_site_applied_to"] == 0
    assert kf["parameters"]["agreed_months_missing"] == 1
    defs = figures_definitions(compute_figure_records(tables, year=2021))
    assert "本次适用于1户" in defs["transition_fee_accrued_yuan"]


def figures_definitions(records: pd.DataFrame) -> dict:
    return dict(zip(records["name"], records["definition"], strict=False))


def test_key_figures_compute_each_frame_once(tables, monkeypatch):
    import zhengshou_analysis.figures.context as ctx

    calls: dict[str, int] = {}

    def counting(name):
        real = getattr(ctx, name)

        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return real(*args, **kwargs)

        monkeypatch.setattr(ctx, name, wrapper)

    frames = (
        "compute_agreement_balances",
        "compute_transition_fees",
        "site_status_of",
        "waiting_households",
        "fit_build_time_km",
    )
    for name in frames:
        counting(name)
    compute_key_figures(tables, year=2021)
    assert calls == dict.fromkeys(frames, 1)


def test_empty_year_with_other_data(tables):
    kf = compute_key_figures(tables, year=2019, as_of="2021-12-31")
    assert kf["projects_count"] == 0
    assert kf["land_completion_rate"] is None
    assert kf["unpaid_gap_yuan"] == 185000.0  # funding figures are cumulative, not by year


def test_missing_required_column_is_schema_error(agreements):
    with pytest.raises(SchemaError, match="compensation_yuan"):
        compute_agreement_balances(agreements.drop(columns="compensation_yuan"), None, as_of=AS_OF)


@pytest.mark.parametrize(
    ("column", "bad", "what"),
    [
        ("signed_date", "not a date", "is not a date"),
        ("signed_date", object(), "is not a date"),
        ("signed_date", "2021-02-30", "is not a date"),
        ("compensation_yuan", "abc", "is not a number"),
        ("compensation_yuan", [1, 2], "is not a number"),
    ],
)
def test_unreadable_column_is_schema_error(agreements, column, bad, what):
    # the column as text a caller might pass (dates as ISO strings), with one bad cell in A3
    values = [
        v.date().isoformat() if isinstance(v, pd.Timestamp) else v for v in agreements[column]
    ]
    values[2] = bad
    a = agreements.assign(**{column: pd.Series(values, index=agreements.index, dtype=object)})
    with pytest.raises(SchemaError) as err:
        compute_agreement_balances(a, None, as_of=AS_OF)
    msg = str(err.value)
    assert "'agreements'" in msg and column in msg and what in msg
    assert err.value.column == column
    assert "agreements.xlsx#S!4" in msg  # the origin of the bad row (A3)
    with pytest.raises(SchemaError):
        compute_key_figures({"agreements": a}, year=2021)


def test_mixed_date_formats_are_schema_error(agreements):
    a = agreements.assign(signed_date=["2021-01-10", "2021/03/01", *["2021-05-01"] * 5])
    with pytest.raises(SchemaError, match="signed_date"):
        compute_agreement_balances(a, None, as_of=AS_OF)


def test_inputs_are_not_modified(tables):
    before = {k: v.copy(deep=True) for k, v in tables.items()}
    compute_key_figures(tables, year=2021)
    compute_figure_records(tables, year=2021)
    compute_transition_fees_by(
        tables["transition"], tables["payments"], as_of=AS_OF, by="zone", sites=tables["sites"]
    )
    compute_unpaid_gap(
        tables["agreements"],
        tables["payments"],
        as_of=AS_OF,
        by="zone",
        projects=tables["projects"],
    )
    compute_site_status(tables["sites"], as_of=AS_OF, transition=tables["transition"])
    for k, v in tables.items():
        pd.testing.assert_frame_equal(v, before[k])
