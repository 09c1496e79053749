"""Survival analysis of site delivery (forecast/survival, tail, delivery), checked against hand-computed values.

Build times are days / 30.4375. The reporting date is 2021-12-31 unless a test says otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.forecast.delivery import fit_delivery_model, forecast_site_delivery
from zhengshou_analysis.forecast.survival import compute_delivery_survival
from zhengshou_analysis.forecast.tail import fit_survival_tail
from zhengshou_analysis.schemas import empty_table

AS_OF = pd.Timestamp("2021-12-31")
D = 30.4375  # days per duration month


def sites_frame(rows: list[dict]) -> pd.DataFrame:
    """A canonical ``sites`` table from hand-written rows (missing columns NA)."""
    schema = empty_table("sites")
    rows = [
        {"site_id": f"S{i}", "site_name": f"site {i}", "origin": f"sites.xlsx#S!{i + 2}", **r}
        for i, r in enumerate(rows)
    ]
    df = pd.DataFrame(rows, columns=list(schema.columns))
    return pd.DataFrame(
        {
            c: (pd.to_datetime(df[c]) if str(t).startswith("datetime64") else df[c]).astype(t)
            for c, t in schema.dtypes.items()
        }
    )


def delivered(days: int, start="2018-01-01", zone="贵城片区", promised_days=720, **kw) -> dict:
    s = pd.Timestamp(start)
    return {
        "zone": zone,
        "start_date": s,
        "promised_date": s + pd.Timedelta(days=promised_days),
        "delivered_date": s + pd.Timedelta(days=days),
        **kw,
    }


def censored(days: int, zone="贵城片区", promised_days=720, **kw) -> dict:
    """A site started ``days`` before AS_OF and not delivered (censored at ``days``)."""
    s = AS_OF - pd.Timedelta(days=days)
    return {
        "zone": zone,
        "start_date": s,
        "promised_date": s + pd.Timedelta(days=promised_days),
        **kw,
    }


# --------------------------------------------------------------------------------------------------
# Kaplan–Meier by hand


@pytest.fixture
def tiny():
    # times (days): 182 event, 182 event, 182 censored (tie: at risk at 182), 334 event,
    # 400 censored, 500 event, 600 censored
    return sites_frame(
        [
            delivered(182, start="2020-01-01"),
            delivered(182, start="2019-03-01"),
            censored(182),
            delivered(334, start="2019-01-01"),
            censored(400),
            delivered(500, start="2017-06-01"),
            censored(600),
        ]
    )


def test_km_matches_the_product_limit_table_by_hand(tiny):
    before = tiny.copy(deep=True)
    r = compute_delivery_survival(tiny, as_of=AS_OF)
    km = r.summary
    # t=182: 7 at risk, 2 events → 5/7; t=334: 4 at risk (334, 400c, 500, 600c), 1 event → ×3/4;
    # t=500: 2 at risk, 1 event → ×1/2
    assert km["time_months"].tolist() == pytest.approx([182 / D, 334 / D, 500 / D])
    assert km["n_risk"].tolist() == [7, 4, 2]
    assert km["n_events"].tolist() == [2, 1, 1]
    assert km["surv_prob"].tolist() == pytest.approx([5 / 7, 15 / 28, 15 / 56])
    # Greenwood: se = S·sqrt(Σ d / (n (n − d)))
    g = np.cumsum([2 / (7 * 5), 1 / (4 * 3), 1 / (2 * 1)])
    assert km["surv_prob_se"].to_numpy() == pytest.approx(km["surv_prob"] * np.sqrt(g))
    assert (km["ci_lower"] <= km["surv_prob"]).all() and (km["surv_prob"] <= km["ci_upper"]).all()
    assert km["ci_lower"].between(0, 1).all() and km["ci_upper"].between(0, 1).all()
    # median: first t with S(t) <= 0.5 → 500 days (S(334) = 0.536 > 0.5)
    m = r.frames["median"].iloc[0]
    assert m["median_build_months"] == pytest.approx(500 / D)
    assert m["median_status"] == "reached"
    assert (m["n_sites"], m["n_events"], m["n_censored"]) == (7, 4, 3)
    assert r.assumptions["median_build_months"] == pytest.approx(500 / D)
    assert "16.4个月" in r.assumptions["median_statement"]
    pd.testing.assert_frame_equal(tiny, before)  # not modified


def test_median_not_reached_is_a_statement_not_an_error():
    # 1 event at 300 days among 6 sites, the others censored later: S = 5/6 > 0.5 forever
    s = sites_frame([delivered(300)] + [censored(d) for d in (400, 500, 600, 700, 800)])
    r = compute_delivery_survival(s, as_of=AS_OF)
    assert r.summary["surv_prob"].tolist() == pytest.approx([5 / 6])
    m = r.frames["median"].iloc[0]
    assert math.isnan(m["median_build_months"]) and m["median_status"] == "not_reached"
    assert r.assumptions["median_build_months"] is None
    assert "尚未达到" in r.assumptions["median_statement"]
    assert f"{800 / D:.1f}" in r.assumptions["median_statement"]  # "> longest observed"


def test_no_sites_and_all_censored_do_not_crash():
    r = compute_delivery_survival(sites_frame([]), as_of=AS_OF)
    assert r.summary.empty and r.frames["median"].iloc[0]["median_status"] == "no_sites"
    r = compute_delivery_survival(sites_frame([censored(400), censored(900)]), as_of=AS_OF)
    assert r.summary.empty and r.frames["median"].iloc[0]["median_status"] == "not_reached"


def test_logrank_runs_with_enough_sites_and_says_why_not_otherwise(tiny):
    r = compute_delivery_survival(tiny, as_of=AS_OF)  # one 片区 only
    assert r.assumptions["logrank"]["p_value"] is None
    assert "未做" in r.assumptions["logrank"]["statement"]
    rows = [delivered(d, zone="贵城片区") for d in (300, 400, 500)] + [
        delivered(d, zone="港城片区") for d in (700, 800, 900)
    ]
    rows += [censored(1000, zone="港城片区"), delivered(600, zone="城区外围片区")]
    r = compute_delivery_survival(sites_frame(rows), as_of=AS_OF)
    lr = r.assumptions["logrank"]
    assert lr["groups_tested"] == ["港城片区", "贵城片区"]  # 城区外围 has 1 site < 3
    assert 0 < lr["p_value"] < 1 and lr["df"] == 1
    groups = r.frames["logrank"].set_index("zone")
    assert not groups.loc["城区外围片区", "included"]


def test_cox_only_when_events_support_it():
    rng = np.random.default_rng(5)
    few = sites_frame([delivered(int(d), units=500) for d in rng.integers(300, 1500, 8)])
    r = compute_delivery_survival(few, as_of=AS_OF)
    assert r.frames["cox"].empty and not r.assumptions["cox"]["fitted"]
    assert "8个" in r.assumptions["cox"]["statement"] and "10" in r.assumptions["cox"]["statement"]
    units = rng.integers(200, 2000, 60)
    days = (rng.lognormal(math.log(900), 0.3, 60) * (units / 1000) ** 0.5).astype(int)
    many = sites_frame(
        [
            delivered(int(d), start="2012-01-01", units=int(u))
            for d, u in zip(days, units, strict=True)
        ]
    )
    r = compute_delivery_survival(many, as_of=AS_OF)
    assert r.assumptions["cox"]["fitted"]
    cox = r.frames["cox"]
    assert cox["covariate"].tolist() == ["log_units"]
    assert cox["hazard_ratio"].iloc[0] < 1  # bigger sites take longer: lower delivery hazard


# --------------------------------------------------------------------------------------------------
# parametric tail


def test_lognormal_tail_recovers_parameters_from_censored_data():
    rng = np.random.default_rng(42)
    mu, sigma = math.log(36.0), 0.4
    t = rng.lognormal(mu, sigma, 600)
    c = rng.uniform(12, 60, 600)  # ~ 45 % censored
    fit = fit_survival_tail(np.minimum(t, c), t <= c)
    assert 0.3 < 1 - (t <= c).mean() < 0.6
    assert fit.method == "ml" and fit.converged
    assert fit.params["mu"] == pytest.approx(mu, abs=0.06)
    assert fit.params["sigma"] == pytest.approx(sigma, abs=0.06)
    # ignoring censoring (dropping the censored) would bias the median down
    naive = math.exp(np.mean(np.log(t[t <= c])))
    assert naive < fit.median_months - 3


def test_weibull_tail_recovers_parameters():
    rng = np.random.default_rng(7)
    t = 40.0 * rng.weibull(2.5, 600)
    c = rng.uniform(10, 70, 600)
    fit = fit_survival_tail(np.minimum(t, c), t <= c, distribution="weibull")
    assert fit.params["shape"] == pytest.approx(2.5, rel=0.15)
    assert fit.params["scale"] == pytest.approx(40.0, rel=0.06)
    p = np.array([0.9, 0.5, 0.1])
    assert fit.survival(fit.inverse_survival(p)) == pytest.approx(p)


def test_tail_with_too_few_deliveries_uses_the_stated_prior():
    fit = fit_survival_tail([20.0, 30.0, 40.0], [0, 0, 0], prior_median_months=30.0)
    assert fit.method == "map" and math.isfinite(fit.params["mu"])
    assert fit.median_months > 30.0  # censored at 40 months pushes the median up
    with pytest.raises(ParameterError):
        fit_survival_tail([1.0], [1], distribution="gamma")


# --------------------------------------------------------------------------------------------------
# conditional delivery distribution


@pytest.fixture
def district():
    done = [delivered(d, start="2015-01-01") for d in (700, 760, 820, 900, 1000, 1100, 1300, 1400)]
    late = [
        censored(800, promised_days=720),  # 26.3 months, just overdue
        censored(2100, promised_days=720),  # 69 months, long overdue
        {  # not started yet
            "zone": "港城片区",
            "start_date": pd.Timestamp("2022-03-01"),
            "promised_date": pd.Timestamp("2024-03-01"),
        },
        delivered(500, start="2021-10-01"),  # delivered in 2023: undelivered at AS_OF
    ]
    return sites_frame(done + late)


def test_conditional_quantiles_are_sane(district):
    r = forecast_site_delivery(district, as_of=AS_OF)
    s = r.summary.set_index("site_id")
    assert list(s.index) == ["S8", "S9", "S10", "S11"]
    assert (s["p50_date"] > AS_OF).all() and (s["p90_date"] > AS_OF).all()
    assert (s["p50_date"] <= s["p90_date"]).all()
    assert (s["p50_months_after"] > 0).all()
    # the long-overdue site is forecast later in build time (its remaining time need not be longer:
    # that depends on the tail's hazard)
    assert s.loc["S9", "p50_build_months"] > s.loc["S8", "p50_build_months"]
    assert s.loc["S9", "p90_build_months"] > s.loc["S8", "p90_build_months"]
    assert s.loc["S9", "p50_build_months"] > 2100 / D
    assert s.loc["S9", "p50_source"] == "tail"  # older than every delivered site
    # S8 (800 days): S = 0.8; P50 target 0.4 is first reached at 1100 days on the KM curve
    # (n at risk 10, 9 events ... S(1100) = 0.8·6/7·5/6·4/5·3/4 = 0.343), which is body
    assert s.loc["S8", "p50_source"] == "km"
    assert s.loc["S8", "p50_build_months"] == pytest.approx(1100 / D)
    assert s.loc["S8", "p90_source"] == "tail"
    # not started: delivered after its start
    assert s.loc["S10", "p50_date"] > pd.Timestamp("2022-03-01")
    assert not s.loc["S10", "started"]
    assert s["prob_delivered_in_horizon"].between(0, 1).all()
    assert r.assumptions["n_sites_forecast"] == 4
    assert "Kaplan–Meier" in r.assumptions["statement"]


def test_samples_agree_with_the_exact_quantiles(district):
    model = fit_delivery_model(district, as_of=AS_OF)
    draws = model.sample_months_after(20_000, np.random.default_rng(3))
    assert draws.shape == (20_000, 4) and (draws > 0).all()
    # a KM atom: exact quantile sits on it, so compare where the empirical one is not on a step
    q = model.quantile_frame([0.5, 0.9], horizon_months=12)
    emp50 = np.quantile(draws, 0.5, axis=0)
    emp90 = np.quantile(draws, 0.9, axis=0)
    assert emp50 == pytest.approx(q["p50_months_after"].to_numpy(), rel=0.05, abs=0.5)
    assert emp90 == pytest.approx(q["p90_months_after"].to_numpy(), rel=0.05, abs=0.5)


def test_sampling_is_seeded(district):
    model = fit_delivery_model(district, as_of=AS_OF)
    a = model.sample_months_after(100, np.random.default_rng(1))
    b = model.sample_months_after(100, np.random.default_rng(1))
    c = model.sample_months_after(100, np.random.default_rng(2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_no_undelivered_sites_and_no_sites():
    r = forecast_site_delivery(sites_frame([delivered(700), delivered(800)]), as_of=AS_OF)
    assert r.summary.empty
    r = forecast_site_delivery(sites_frame([]), as_of=AS_OF)
    assert r.summary.empty and r.assumptions["tail"] is None


def test_tail_table_shows_the_tail_the_forecast_uses_and_prefitted_inputs_change_nothing():
    # two deliveries: the MAP fallback, where the prior matters (the "chosen" row used to be a
    # refit with another prior, not the tail the forecast used)
    sites = sites_frame([delivered(900), delivered(1000), censored(1200), censored(800)])
    r = forecast_site_delivery(sites, as_of=AS_OF)
    chosen = r.frames["tail"].loc[r.frames["tail"]["chosen"]].iloc[0]
    assert chosen["method"] == "map"
    assert chosen["params"] == r.assumptions["tail"]["params"]
    assert list(r.frames["tail"]["distribution"]) == ["lognormal", "weibull"]

    from zhengshou_analysis.figures import compute_site_status, fit_build_time_km

    status = compute_site_status(sites, as_of=AS_OF)
    km = fit_build_time_km(status)
    model = fit_delivery_model(sites, as_of=AS_OF, status=status, km=km)
    again = forecast_site_delivery(sites, as_of=AS_OF, model=model)
    pd.testing.assert_frame_equal(again.summary, r.summary)
    pd.testing.assert_frame_equal(again.frames["tail"], r.frames["tail"])
    assert again.assumptions == r.assumptions
    s1 = compute_delivery_survival(sites, as_of=AS_OF)
    s2 = compute_delivery_survival(sites, as_of=AS_OF, status=status, km=km)
    pd.testing.assert_frame_equal(s1.summary, s2.summary)
    pd.testing.assert_frame_equal(s1.frames["median"], s2.frames["median"])
    assert s1.assumptions == s2.assumptions
    with pytest.raises(ParameterError):
        forecast_site_delivery(sites, as_of=AS_OF, model=model, distribution="weibull")
    with pytest.raises(ParameterError):
        forecast_site_delivery(sites, as_of="2021-06-30", model=model)
    with pytest.raises(ParameterError):  # a curve of other sites
        compute_delivery_survival(
            sites, as_of=AS_OF, status=status, km=fit_build_time_km(status[:2])
        )
