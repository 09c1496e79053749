"""Forecasts (forecast/fees, inflows, gap, keyfigures): fee simulation, inflow back-test and fallback, gap, figures.

Expected numbers are written by hand with their arithmetic in a comment. The reporting date is
2021-12-31 unless a test says otherwise. Simulations use few paths to keep the file fast.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ledger_builder import frame

from zhengshou_analysis.cli import main
from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.figures import compute_transition_fees
from zhengshou_analysis.figures.keyfile import key_figures_json
from zhengshou_analysis.forecast import (
    Scenario,
    compute_forecast_figures,
    compute_monthly_inflows,
    forecast_funding_gap,
    forecast_inflows,
    rolling_backtest_inflow_models,
    simulate_transition_fees,
)

AS_OF = pd.Timestamp("2021-12-31")
DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def household(agreement_id, *, start, agreed, site=None, rate=100.0) -> dict:
    return {
        "agreement_id": agreement_id,
        "site_id": site,
        "start_date": start,
        "fee_basis": "per_household",
        "fee_rate_yuan": rate,
        "agreed_months": agreed,
    }


@pytest.fixture(scope="module")
def demo():
    from zhengshou_analysis.ledger.clean import clean_ledgers

    return clean_ledgers(DEMO).tables


# --------------------------------------------------------------------------------------------------
# transitional fees


@pytest.fixture
def no_site_households():
    # start 2019-01-10 → K0 = months_between(2019-01-10, 2021-12-31) = 12·2 + 11 + 1 = 36
    return {
        "transition": frame(
            "transition",
            [
                household("A", start="2019-01-10", agreed=33),  # months 37-39: j = 4, 5, 6
                household("B", start="2019-01-10", agreed=25),  # j = 12, 13, 14
                household("C", start="2019-01-10", agreed=37),  # k = 37 not overdue; j = 1, 2
            ],
        )
    }


def test_escalation_applied_month_by_month(no_site_households):
    # no site: each household leaves lag = 12 months after as_of, so it pays all 3 horizon months
    r = simulate_transition_fees(
        no_site_households, as_of=AS_OF, horizon_months=3, n_paths=50, lag_months=12
    )
    # A: 100·(1.5 + 1.5 + 1.5) = 450; B: 100·(1.5 + 2 + 2) = 550; C: 100·(1 + 1.5 + 1.5) = 400
    assert r.summary["fee_p50_yuan"].iloc[0] == pytest.approx(1400.0)
    assert r.summary["fee_p90_yuan"].iloc[0] == pytest.approx(1400.0)
    assert np.allclose(r.samples["total"], 1400.0)
    by = r.frames["by_site"]
    assert by["rule"].tolist() == ["no_site"] and by["households"].tolist() == [3]
    # the same as the accrued fee of the indicators three months later, minus today's
    later = compute_transition_fees(
        no_site_households["transition"], None, as_of="2022-03-31"
    ).set_index("agreement_id")["accrued_yuan"]
    now = compute_transition_fees(no_site_households["transition"], None, as_of=AS_OF).set_index(
        "agreement_id"
    )["accrued_yuan"]
    assert (later - now).to_dict() == pytest.approx({"A": 450.0, "B": 550.0, "C": 400.0})


def test_lag_decides_the_remaining_months(no_site_households):
    # lag 1: one more fee month each → 150 + 150 + 100
    r = simulate_transition_fees(
        no_site_households, as_of=AS_OF, horizon_months=3, n_paths=10, lag_months=1
    )
    assert r.summary["fee_mean_yuan"].iloc[0] == pytest.approx(400.0)
    # lag 0: still at least the next fee month (every household in transition pays one more)
    r = simulate_transition_fees(
        no_site_households, as_of=AS_OF, horizon_months=3, n_paths=10, lag_months=0
    )
    assert r.summary["fee_mean_yuan"].iloc[0] == pytest.approx(400.0)


def test_already_delivered_site_leaves_lag_after_delivery():
    tables = {
        "sites": frame(
            "sites",
            [
                {
                    "site_id": "S1",
                    "site_name": "一号",
                    "zone": "贵城片区",
                    "start_date": "2018-01-01",
                    "promised_date": "2020-01-01",
                    "delivered_date": "2021-11-15",
                }
            ],
        ),
        "transition": frame(
            "transition", [household("A", start="2021-01-10", agreed=60, site="S1")]
        ),
    }
    # delivered 1.5 months before as_of: ceil(-1.52) = -1 month; lag 4 → 3 more months
    r = simulate_transition_fees(tables, as_of=AS_OF, horizon_months=12, n_paths=5, lag_months=4)
    assert r.summary["fee_mean_yuan"].iloc[0] == pytest.approx(300.0)
    assert r.frames["by_site"]["rule"].tolist() == ["delivered"]
    # lag 2: the exit has passed but the data say still in transition → one more month
    r = simulate_transition_fees(tables, as_of=AS_OF, horizon_months=12, n_paths=5, lag_months=2)
    assert r.summary["fee_mean_yuan"].iloc[0] == pytest.approx(100.0)


@pytest.fixture
def late_sites():
    sites = [
        ("S1", "贵城片区", "2016-01-01"),
        ("S2", "贵城片区", "2018-06-01"),
        ("S3", "港城片区", "2020-01-01"),
    ]
    done = [
        ("D1", "港城片区", "2015-01-01", "2017-06-01"),
        ("D2", "港城片区", "2015-06-01", "2018-09-01"),
        ("D3", "城区外围片区", "2016-01-01", "2019-03-01"),
        ("D4", "城区外围片区", "2017-01-01", "2020-05-01"),
    ]
    rows = [
        {
            "site_id": i,
            "site_name": i,
            "zone": z,
            "start_date": s,
            "promised_date": str(int(s[:4]) + 2) + s[4:],
        }
        for i, z, s in sites
    ] + [
        {
            "site_id": i,
            "site_name": i,
            "zone": z,
            "start_date": s,
            "promised_date": str(int(s[:4]) + 2) + s[4:],
            "delivered_date": d,
        }
        for i, z, s, d in done
    ]
    hh = [
        household(
            f"H{k}", start="2018-03-05", agreed=24 + k % 7, site=f"S{1 + k % 3}", rate=50.0 + k
        )
        for k in range(30)
    ]
    hh.append(household("X", start="2017-02-01", agreed=12, site="S1"))  # far in the 2.0 tier
    return {"sites": frame("sites", rows), "transition": frame("transition", hh)}


def test_simulation_invariants(late_sites):
    r = simulate_transition_fees(late_sites, as_of=AS_OF, horizon_months=12, n_paths=400, seed=3)
    total, by_site = r.samples["total"], r.samples["by_site"]
    assert (by_site >= 0).all() and (total >= 0).all()
    assert np.allclose(by_site.sum(axis=1), total)  # sites add up path by path
    bs, bz = r.frames["by_site"], r.frames["by_zone"]
    assert bs["fee_mean_yuan"].sum() == pytest.approx(r.summary["fee_mean_yuan"].iloc[0])
    assert bz["fee_mean_yuan"].sum() == pytest.approx(r.summary["fee_mean_yuan"].iloc[0])
    assert set(bz["zone"]) == {"贵城片区", "港城片区"}
    assert (bs["fee_p50_yuan"] <= bs["fee_p90_yuan"]).all()
    # the horizon caps the fee: at most 12 months × 2.0 × base per household
    cap = 12 * 2.0 * (sum(50.0 + k for k in range(30)) + 100.0)
    assert total.max() <= cap
    assert (bs["delay_cost_month_yuan"] >= 0).all()
    assert (bs["delay_cost_month_in_horizon_yuan"] >= 0).all()
    assert r.assumptions["households_by_rule"] == {"forecast": 31, "delivered": 0, "no_site": 0}


def test_one_more_month_costs_the_escalated_fee_of_that_month():
    tables = {
        "sites": frame(
            "sites",
            [
                {
                    "site_id": "S1",
                    "site_name": "一号",
                    "zone": "贵城片区",
                    "start_date": "2015-01-01",
                    "promised_date": "2017-01-01",
                },
                {
                    "site_id": "D1",
                    "site_name": "二号",
                    "zone": "贵城片区",
                    "start_date": "2015-01-01",
                    "promised_date": "2017-01-01",
                    "delivered_date": "2018-01-01",
                },
            ],
        ),
        # K0 = 48 months, agreed 12: overdue index 37 and beyond → multiplier 2.0 for good
        "transition": frame(
            "transition", [household("X", start="2018-01-10", agreed=12, site="S1")]
        ),
    }
    r = simulate_transition_fees(tables, as_of=AS_OF, n_paths=200, seed=1)
    s1 = r.frames["by_site"].set_index("site_id").loc["S1"]
    assert s1["delay_cost_month_yuan"] == pytest.approx(200.0)  # 100 × 2.0
    assert 0 <= s1["delay_cost_month_in_horizon_yuan"] <= 200.0


def test_delay_raises_fees_path_by_path(late_sites):
    base = simulate_transition_fees(late_sites, as_of=AS_OF, n_paths=300, seed=11)
    late = simulate_transition_fees(
        late_sites, as_of=AS_OF, n_paths=300, seed=11, delivery_delay_months=6
    )
    assert (late.samples["total"] >= base.samples["total"] - 1e-9).all()
    assert late.summary["fee_mean_yuan"].iloc[0] > base.summary["fee_mean_yuan"].iloc[0]


def test_fee_simulation_is_seeded(late_sites):
    a = simulate_transition_fees(late_sites, as_of=AS_OF, n_paths=200, seed=5)
    b = simulate_transition_fees(late_sites, as_of=AS_OF, n_paths=200, seed=5)
    c = simulate_transition_fees(late_sites, as_of=AS_OF, n_paths=200, seed=6)
    assert np.array_equal(a.samples["by_site"], b.samples["by_site"])
    assert not np.array_equal(a.samples["by_site"], c.samples["by_site"])


def test_bad_parameters_are_refused(late_sites):
    with pytest.raises(ParameterError):
        simulate_transition_fees(late_sites, as_of=AS_OF, lag_months=-1)
    with pytest.raises(ParameterError):
        simulate_transition_fees(late_sites, as_of=AS_OF, horizon_months=0)
    with pytest.raises(ParameterError):
        Scenario("x", inflow_factor=-0.1)
    with pytest.raises(ParameterError):
        forecast_funding_gap(late_sites, as_of=AS_OF, scenarios=[Scenario("a"), Scenario("a")])


# --------------------------------------------------------------------------------------------------
# inflows


def monthly_funding(values, start="2016-01") -> pd.DataFrame:
    months = pd.period_range(start, periods=len(values), freq="M")
    rows = [
        {"date": m.to_timestamp() + pd.Timedelta(days=14), "amount_yuan": float(v)}
        for m, v in zip(months, values, strict=True)
        if v > 0
    ]
    return frame("funding", rows)


def test_monthly_inflows_are_month_sums_with_zero_months():
    f = frame(
        "funding",
        [
            {"date": "2021-01-05", "amount_yuan": 100.0},
            {"date": "2021-01-20", "amount_yuan": 50.0},
            {"date": "2021-03-02", "amount_yuan": 70.0},
            {"date": "2021-04-10", "amount_yuan": 30.0},  # after a mid-month as_of: excluded
        ],
    )
    m = compute_monthly_inflows(f, as_of="2021-04-15")
    assert m.index.astype(str).tolist() == ["2021-01", "2021-02", "2021-03"]
    assert m.tolist() == [150.0, 0.0, 70.0]
    assert compute_monthly_inflows(f, as_of="2021-03-31").tolist() == [150.0, 0.0, 70.0]
    assert compute_monthly_inflows(None, as_of=AS_OF).empty


def test_backtest_prefers_a_seasonal_model_on_a_seasonal_series():
    rng = np.random.default_rng(0)
    t = np.arange(72)
    y = 1e6 * (100 + 60 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 5, 72))
    bt = rolling_backtest_inflow_models(pd.Series(y))
    mase = bt.assumptions["mase"]
    assert mase["seasonal_naive"] < mase["naive"] / 3
    assert bt.assumptions["winner"] in ("seasonal_naive", "ets", "sarimax")
    assert bt.assumptions["winner"] != "naive"
    assert bt.summary["chosen"].sum() == 1
    assert bt.summary.loc[bt.summary["chosen"], "mase"].iloc[0] == min(mase.values())


def test_backtest_prefers_a_trend_model_on_a_trending_series():
    # steps of 0.5 ± 0.3 million a month: last year's month is ~6 million behind, last month
    # 0.5 million, and a model with a trend follows the drift
    rng = np.random.default_rng(1)
    y = 1e7 + np.cumsum(rng.normal(5e5, 3e5, 60))
    bt = rolling_backtest_inflow_models(pd.Series(y))
    mase = bt.assumptions["mase"]
    assert mase["naive"] < mase["seasonal_naive"]
    assert bt.assumptions["winner"] in ("ets", "sarimax")
    assert min(mase["ets"], mase["sarimax"]) < mase["naive"] / 2


@pytest.mark.parametrize("n_months", [0, 1, 3, 10])
def test_short_history_falls_back_with_a_reason(n_months, caplog):
    f = monthly_funding([2e6 + 1e5 * k for k in range(n_months)], start="2021-01")
    with caplog.at_level(logging.WARNING, logger="zhengshou_analysis.forecast.inflows"):
        r = forecast_inflows(f, as_of=AS_OF, n_paths=100, seed=1)
    a = r.assumptions
    assert a["fallback_reason"] and a["why"] == a["fallback_reason"]
    assert a["fallback_reason"] in caplog.text
    x = r.samples["inflows"]
    assert x.shape == (100, 12) and (x >= 0).all()
    if n_months == 0:
        assert a["method"] == "zero" and not x.any()
    else:
        assert a["method"] == "block_bootstrap"
        assert f"{a['history_months']}个月" in a["fallback_reason"]
        assert a["history_months"] == 12  # Jan..Dec 2021: zeros after the last inflow count
        assert x.max() <= 10 * (2e6 + 1e5 * (n_months - 1))


def test_sparse_history_falls_back():
    values = [0.0] * 40
    for k in (3, 15, 27, 30, 39):
        values[k] = 5e6
    r = forecast_inflows(monthly_funding(values, start="2018-09"), as_of=AS_OF, n_paths=50)
    assert r.assumptions["method"] == "block_bootstrap"
    assert "过于稀疏" in r.assumptions["fallback_reason"]


def test_modelled_inflows_are_non_negative_and_report_every_score():
    rng = np.random.default_rng(2)
    y = np.maximum(1e6 * (20 + np.cumsum(rng.normal(0, 6, 60))), 0) + 1e5
    r = forecast_inflows(monthly_funding(y, start="2017-01"), as_of=AS_OF, n_paths=300, seed=4)
    a = r.assumptions
    assert a["fallback_reason"] is None and a["method"] in a["backtest_mase"]
    assert set(a["backtest_mase"]) == {"naive", "seasonal_naive", "ets", "sarimax"}
    assert "MASE" in a["why"]
    assert (r.samples["inflows"] >= 0).all()
    assert r.summary["month"].astype(str).tolist()[0] == "2022-01"


# --------------------------------------------------------------------------------------------------
# funding gap


@pytest.fixture
def small_district(late_sites):
    agreements = frame(
        "agreements",
        [
            {
                "agreement_id": "A1",
                "signed_date": "2021-06-01",
                "compensation_yuan": 1000.0,
                "payment_due_date": "2022-03-01",
            },
            {  # due after the 12-month horizon: not in the gap
                "agreement_id": "A2",
                "signed_date": "2021-06-01",
                "compensation_yuan": 5000.0,
                "payment_due_date": "2023-06-01",
            },
            {  # signed after as_of: unknown at as_of
                "agreement_id": "A3",
                "signed_date": "2022-02-01",
                "compensation_yuan": 9000.0,
                "payment_due_date": "2022-03-01",
            },
        ],
    )
    payments = frame(
        "payments",
        [
            {
                "payment_id": "P1",
                "date": "2021-07-01",
                "agreement_id": "A1",
                "kind": "补偿款",
                "amount_yuan": 300.0,
            }
        ],
    )
    funding = monthly_funding([400.0] * 6 + [0.0, 500.0], start="2021-05")
    return late_sites | {"agreements": agreements, "payments": payments, "funding": funding}


def test_gap_is_obligations_minus_money_path_by_path(small_district):
    r = forecast_funding_gap(small_district, as_of=AS_OF, n_paths=200, seed=9)
    a = r.assumptions["gap_components"]
    # unpaid due by 2022-12-31: A1 1000 − 300 = 700; cash: 6·400 + 500 − 300 = 2600
    assert a["unpaid_compensation_due_yuan"] == pytest.approx(700.0)
    assert a["cash_balance_yuan"] == pytest.approx(2600.0)
    s = r.samples
    arrears = a["transition_fee_arrears_yuan"]  # in the stock gap (no fee was ever paid)
    assert arrears > 0
    stock = 700.0 + arrears + s["fees:baseline"] - (2600.0 + s["inflows"].sum(axis=1))
    assert np.allclose(s["stock_gap:baseline"], stock)
    expected = stock + s["new_due"]  # the full gap: + new agreements due within the horizon
    assert np.allclose(s["gap:baseline"], expected)
    row = r.summary.set_index("scenario").loc["baseline"]
    assert row["prob_stock_gap_closed"] == pytest.approx(np.mean(stock <= 0))
    assert row["prob_gap_closed"] == pytest.approx(np.mean(expected <= 0))
    assert row["gap_p50_yuan"] == pytest.approx(np.quantile(expected, 0.5))
    assert row["gap_p90_yuan"] >= row["gap_p50_yuan"]
    assert r.assumptions["inflows"]["method"] == "block_bootstrap"  # 8 months only


def test_scenarios_move_the_gap_the_right_way(demo):
    scenarios = [
        Scenario("baseline"),
        Scenario("more", inflow_factor=1.5),
        Scenario("less", inflow_factor=0.5),
        Scenario("bond", lump_yuan=2e8, lump_month=3),
        Scenario("bond_too_late", lump_yuan=2e8, lump_month=13),
        Scenario("delay", delivery_delay_months=6),
    ]
    r = forecast_funding_gap(demo, as_of="2020-12-31", n_paths=400, seed=2, scenarios=scenarios)
    s = r.summary.set_index("scenario")
    g = r.samples
    assert s.loc["more", "gap_p50_yuan"] < s.loc["baseline", "gap_p50_yuan"]
    assert s.loc["less", "gap_p50_yuan"] > s.loc["baseline", "gap_p50_yuan"]
    assert 0 < s.loc["baseline", "prob_gap_closed"] < 1  # room to move either way
    assert s.loc["bond", "prob_gap_closed"] > s.loc["baseline", "prob_gap_closed"]
    assert np.allclose(g["gap:bond"], g["gap:baseline"] - 2e8)  # same draws in every scenario
    assert np.array_equal(g["gap:bond_too_late"], g["gap:baseline"])
    assert (g["fees:delay"] >= g["fees:baseline"]).all()
    assert s.loc["delay", "fee_p50_yuan"] > s.loc["baseline", "fee_p50_yuan"]
    assert s.loc["delay", "gap_p50_yuan"] > s.loc["baseline", "gap_p50_yuan"]


# --------------------------------------------------------------------------------------------------
# figures


FIGURES = {
    "horizon_months",
    "gap_p50_yuan",
    "gap_p90_yuan",
    "prob_gap_closed",
    "stock_gap_p50_yuan",
    "stock_gap_p90_yuan",
    "prob_stock_gap_closed",
    "transition_fee_next_12m_p50_yuan",
    "transition_fee_next_12m_p90_yuan",
    "site_delivery_p50_date",
    "site_delivery_p90_date",
    "site_delivery_prob_in_horizon",
    "forecast_scenarios",
    "forecast_fee_by_site",
    "forecast_fee_by_zone",
    "forecast_assumptions",
}


def test_figures_are_reproducible_and_json_ready(demo):
    a = compute_forecast_figures(demo, year=2021, n_paths=300)
    b = compute_forecast_figures(demo, year=2021, n_paths=300)
    c = compute_forecast_figures(demo, year=2021, n_paths=300, seed=7)
    assert key_figures_json(a) == key_figures_json(b)  # byte-identical
    assert a["gap_p50_yuan"] != c["gap_p50_yuan"]
    assert set(a) == FIGURES
    assert json.loads(key_figures_json(a)) == a  # already JSON types
    assert a["gap_p50_yuan"] == round(a["gap_p50_yuan"], 2)
    # every site undelivered at 2021-12-31, dates ISO and after as_of, P50 <= P90
    undelivered = demo["sites"].loc[~demo["sites"]["delivered_date"].le(AS_OF), "site_id"]
    assert set(a["site_delivery_p50_date"]) == set(undelivered)
    for site, d50 in a["site_delivery_p50_date"].items():
        assert "2021-12-31" < d50 <= a["site_delivery_p90_date"][site]
    fa = a["forecast_assumptions"]
    assert fa["seed"] == 2021 and fa["n_paths"] == 300 and fa["lag_months"] == 2
    assert fa["inflow_model"]["method"] in fa["inflow_model"]["backtest_mase"]
    assert fa["data"]["funding_history_months"] == 72
    assert fa["warning"] and "很少" in fa["warning"]  # 5 deliveries: say so
    assert fa["escalation_tiers"] == [[1, 1.5], [13, 2.0]]
    assert set(a["forecast_scenarios"]) == {"baseline", "inflows_80pct", "delivery_delay_6m"}


def test_figures_keep_their_names_for_another_horizon_and_little_data():
    f = compute_forecast_figures({}, year=2021, horizon_months=24, n_paths=50)
    assert set(f) == FIGURES and f["horizon_months"] == 24
    assert f["transition_fee_next_12m_p50_yuan"] == 0.0
    assert f["site_delivery_p50_date"] == {}
    assert f["prob_gap_closed"] == 1.0  # nothing owed, nothing to close
    assert "资金到位只有0个月" in f["forecast_assumptions"]["warning"]


def test_figures_do_not_modify_the_tables(small_district):
    before = {k: v.copy(deep=True) for k, v in small_district.items()}
    compute_forecast_figures(small_district, year=2021, n_paths=50)
    for k, v in before.items():
        pd.testing.assert_frame_equal(small_district[k], v)


def test_figures_command_prints_key_and_forecast_figures(capsys):
    assert main(["figures", str(DEMO), "--year", "2021"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= FIGURES
    assert "unpaid_gap_yuan" in out and out["forecast_assumptions"]["n_paths"] == 10_000
    assert math.isfinite(out["gap_p50_yuan"])


# --------------------------------------------------------------------------------------------------
# fit once: pre-fitted inputs


def count_calls(monkeypatch, name: str, obj) -> list:
    """Count calls of ``obj`` under ``name`` in every loaded module that binds it."""
    import sys

    calls: list = []

    def wrapper(*args, **kwargs):
        calls.append(name)
        return obj(*args, **kwargs)

    for module in list(sys.modules.values()):
        ours = getattr(module, "__name__", "").startswith("zhengshou_analysis")
        if ours and getattr(module, name, None) is obj:
            monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.fixture
def fit_counts(monkeypatch):
    from zhengshou_analysis.figures import sites
    from zhengshou_analysis.forecast import inflows, tail

    return {
        "km": count_calls(monkeypatch, "fit_build_time_km", sites.fit_build_time_km),
        "tail": count_calls(monkeypatch, "fit_build_time_aft", tail.fit_build_time_aft),
        "inflow_model": count_calls(monkeypatch, "fit_inflow_model", inflows.fit_inflow_model),
        "backtest": count_calls(
            monkeypatch, "rolling_backtest_inflow_models", inflows.rolling_backtest_inflow_models
        ),
    }


def prefitted(tables, as_of, *, n_paths=300, seed=2021) -> dict:
    """Every pre-fitted input of compute_forecast_figures, each fitted once, as a caller would."""
    from zhengshou_analysis.figures import (
        compute_agreement_balances,
        compute_site_status,
        fit_build_time_km,
    )
    from zhengshou_analysis.forecast import (
        compute_delivery_survival,
        fit_delivery_model,
        fit_inflow_model,
        forecast_site_delivery,
    )

    status = compute_site_status(tables["sites"], as_of=as_of)
    km = fit_build_time_km(status)
    delivery = fit_delivery_model(tables["sites"], as_of=as_of, status=status, km=km)
    inflow_model = fit_inflow_model(tables["funding"], as_of=as_of)
    return {
        "status": status,
        "km": km,
        "delivery": delivery,
        "delivery_forecast": forecast_site_delivery(tables["sites"], as_of=as_of, model=delivery),
        "survival": compute_delivery_survival(tables["sites"], as_of=as_of, status=status, km=km),
        "inflows": forecast_inflows(
            tables["funding"], as_of=as_of, n_paths=n_paths, seed=seed, model=inflow_model
        ),
        "balances": compute_agreement_balances(
            tables["agreements"], tables["payments"], as_of=as_of
        ),
        "transition_fees": compute_transition_fees(
            tables["transition"], tables["payments"], as_of=as_of, sites=tables["sites"]
        ),
    }


def test_figures_fit_each_model_once(demo, fit_counts):
    # before the split one call built the KM curve 6 times (2 delivery models, 4 on the survival
    # page); now 1 KM curve, 1 delivery model (3 AFT fits: the family used by AIC and the two
    # beside it), 1 inflow model (1 back-test)
    compute_forecast_figures(demo, year=2021, n_paths=300)
    assert {k: len(v) for k, v in fit_counts.items()} == {
        "km": 1,
        "tail": 3,
        "inflow_model": 1,
        "backtest": 1,
    }


def test_prefitted_inputs_are_not_fitted_again_and_give_identical_figures(demo, fit_counts):
    alone = compute_forecast_figures(demo, year=2021, n_paths=300)
    given = prefitted(demo, AS_OF)
    for calls in fit_counts.values():
        calls.clear()
    shared = compute_forecast_figures(demo, year=2021, n_paths=300, **given)
    assert {k: len(v) for k, v in fit_counts.items()} == dict.fromkeys(fit_counts, 0)
    assert key_figures_json(shared) == key_figures_json(alone)  # byte-identical

    # the gap itself, and the three results the figures are flattened from
    gap = forecast_funding_gap(
        demo,
        as_of=AS_OF,
        n_paths=300,
        **{k: given[k] for k in ("delivery", "inflows", "balances", "transition_fees")},
    )
    only_results = compute_forecast_figures(
        demo,
        year=2021,
        n_paths=300,
        gap=gap,
        delivery_forecast=given["delivery_forecast"],
        survival=given["survival"],
    )
    assert {k: len(v) for k, v in fit_counts.items()} == dict.fromkeys(fit_counts, 0)
    assert key_figures_json(only_results) == key_figures_json(alone)


def test_prefitted_inputs_from_other_settings_are_refused(demo):
    given = prefitted(demo, AS_OF, n_paths=100)
    with pytest.raises(ParameterError, match="inflows"):  # 100 paths, not 300
        forecast_funding_gap(demo, as_of=AS_OF, n_paths=300, inflows=given["inflows"])
    with pytest.raises(ParameterError, match="delivery model"):
        forecast_funding_gap(demo, as_of="2020-12-31", n_paths=100, delivery=given["delivery"])
    gap = forecast_funding_gap(demo, as_of=AS_OF, n_paths=100, inflows=given["inflows"])
    with pytest.raises(ParameterError, match="gap"):
        compute_forecast_figures(demo, year=2021, n_paths=300, gap=gap)
    with pytest.raises(ParameterError, match="survival"):
        compute_forecast_figures(demo, year=2020, n_paths=100, survival=given["survival"])


def test_inflow_model_fitted_once_simulates_like_a_fresh_fit():
    from zhengshou_analysis.forecast import fit_inflow_model

    rng = np.random.default_rng(2)
    y = np.maximum(1e6 * (20 + np.cumsum(rng.normal(0, 6, 60))), 0) + 1e5
    f = monthly_funding(y, start="2017-01")
    for as_of in (AS_OF, pd.Timestamp("2021-11-15")):  # mid-month: the first month is skipped
        model = fit_inflow_model(f, as_of=as_of)
        a = forecast_inflows(f, as_of=as_of, n_paths=200, seed=4)
        b = forecast_inflows(None, as_of=as_of, n_paths=200, seed=4, model=model)
        assert np.array_equal(a.samples["inflows"], b.samples["inflows"])
        assert a.assumptions == b.assumptions
        pd.testing.assert_frame_equal(a.summary, b.summary)
