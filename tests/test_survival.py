"""Survival analysis of site delivery (forecast/survival, tail, delivery): hand-computed values and invariants.

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
from zhengshou_analysis.forecast.tail import fit_build_time_aft
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


def test_logrank_that_cannot_be_computed_is_stated_not_raised():
    # 丙片区's sites are all censored before any delivery: never at risk at a delivery time, so
    # the log-rank covariance is singular (statsmodels raised LinAlgError and killed the run)
    rows = (
        [delivered(d, zone="甲片区") for d in (300, 400, 500)]
        + [delivered(d, zone="乙片区") for d in (350, 450, 550)]
        + [censored(d, zone="丙片区") for d in (30, 60, 90)]
    )
    sites = sites_frame(rows)
    r = compute_delivery_survival(sites, as_of=AS_OF)
    logrank = r.assumptions["logrank"]
    assert logrank["p_value"] is None and "not_computable" in logrank
    assert logrank["statement"].startswith("对数秩检验无法计算")
    assert not r.summary.empty  # the KM curve is still there
    assert len(forecast_site_delivery(sites, as_of=AS_OF).summary) == 3  # forecasts unaffected


# --------------------------------------------------------------------------------------------------
# AFT build-time model


def test_lognormal_aft_recovers_parameters_and_the_promise_slope():
    rng = np.random.default_rng(42)
    promised = rng.uniform(18, 48, 600)
    x = np.log(promised) - np.log(promised).mean()
    t = promised * np.exp(0.3 + 0.5 * x + 0.4 * rng.standard_normal(600))
    c = rng.uniform(12, 90, 600)  # ~ 45 % censored
    fit = fit_build_time_aft(np.minimum(t, c), t <= c, promised)
    assert 0.3 < 1 - (t <= c).mean() < 0.6
    assert fit.method == "map" and fit.converged and fit.slope_fitted
    a, b, log_s = fit.coef
    assert a == pytest.approx(0.3, abs=0.06)
    assert b == pytest.approx(0.5, abs=0.15)
    assert math.exp(log_s) == pytest.approx(0.4, abs=0.05)
    assert (np.diag(fit.cov) > 0).all() and fit.draws.shape == (400, 3)


@pytest.mark.parametrize("family", ["weibull", "loglogistic"])
def test_other_families_fit_and_invert(family):
    rng = np.random.default_rng(7)
    promised = np.full(400, 30.0)
    t = (
        40.0 * rng.weibull(2.5, 400)
        if family == "weibull"
        else 40.0 * np.exp(rng.logistic(0, 0.2, 400))
    )
    c = rng.uniform(10, 80, 400)
    fit = fit_build_time_aft(np.minimum(t, c), t <= c, promised, distribution=family)
    assert not fit.slope_fitted  # one promised build time: nothing to estimate a slope from
    median = 30.0 * fit.describe()["median_ratio_to_promised"]
    assert median == pytest.approx(np.median(t), rel=0.06)
    assert fit.log_survival(median, 30.0) == pytest.approx(math.log(0.5), abs=1e-9)


def test_stall_share_is_estimated_and_its_weight_rises_with_age():
    rng = np.random.default_rng(11)
    promised = rng.uniform(18, 48, 800)
    t = promised * np.exp(0.2 + 0.3 * rng.standard_normal(800))
    stalled = rng.random(800) < 0.15
    c = rng.uniform(24, 200, 800)
    clean = fit_build_time_aft(np.minimum(t, c), t <= c, promised)
    t_stall = np.where(stalled, 3.0 * t, t)
    mixed = fit_build_time_aft(np.minimum(t_stall, c), t_stall <= c, promised)
    assert clean.stall_method == mixed.stall_method == "map"
    # 800 clean sites pull π far below the prior mode (5 %); with 15 % stalled it rises, but is
    # underestimated (about 5 %): the AFT part, fitted to all sites and then held fixed, widens
    # to absorb part of the stalls (stated in fit_build_time_aft)
    assert clean.stall_prob < 0.01 and 0.04 < mixed.stall_prob < 0.15
    # P(stall | undelivered at c) = π at the start, rising with the build months so far
    w = mixed.stall_weight(np.array([0.0, 30.0, 60.0, 120.0]), np.full(4, 30.0))
    assert w[0] == pytest.approx(mixed.stall_prob) and (np.diff(w) > 0).all() and w[-1] > 0.5
    # the mixture's survival is the weighted sum of its components'
    main = np.exp(mixed.component_log_survival(80.0, 30.0))
    slow = np.exp(mixed.component_log_survival(80.0, 30.0, stall=True))
    assert np.exp(mixed.log_survival(80.0, 30.0)) == pytest.approx(
        (1 - mixed.stall_prob) * main + mixed.stall_prob * slow, rel=1e-12
    )
    assert slow > main
    assert fit_build_time_aft([], [], []).stall_method == "prior"


def test_few_deliveries_lean_on_the_stated_prior():
    fit = fit_build_time_aft([20.0, 30.0, 40.0], [0, 0, 0], [30.0, 30.0, 30.0])
    assert fit.method == "map" and fit.converged
    # censored at 0.7–1.3 × the promise pushes the median beyond the prior's (the promise)
    assert fit.describe()["median_ratio_to_promised"] > 1.0
    assert fit.describe()["se"]["intercept"] > 0.3  # wide: two pseudo-sites of information
    empty = fit_build_time_aft([], [], [])
    assert empty.n == 0 and np.isfinite(empty.coef).all()
    with pytest.raises(ParameterError):
        fit_build_time_aft([1.0], [1], [30.0], distribution="gamma")
    with pytest.raises(ParameterError):
        fit_build_time_aft([1.0], [1], [np.nan])


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
    assert (s["p50_source"] == "model").all()
    # the long-overdue site is forecast later in build time
    assert s.loc["S9", "p50_build_months"] > s.loc["S8", "p50_build_months"]
    assert s.loc["S9", "p90_build_months"] > s.loc["S8", "p90_build_months"]
    assert s.loc["S9", "p50_build_months"] > 2100 / D
    # not started: delivered after its start, and P(within 12 months) small but positive
    months_to_start = (pd.Timestamp("2022-03-01") - AS_OF).days / D
    assert s.loc["S10", "p50_months_after"] > months_to_start
    assert not s.loc["S10", "started"]
    # no started site has probability exactly 0 (or 1) of delivery within the horizon
    started = s.loc[s["started"], "prob_delivered_in_horizon"]
    assert ((started > 0) & (started < 1)).all()
    assert r.assumptions["n_sites_forecast"] == 4
    assert "加速失效时间" in r.assumptions["statement"]
    assert any("尚未开工" in note for note in r.assumptions["notes"])


def test_no_probability_gap_before_the_first_delivery():
    # the KM body gave a 10-month-old site P = 0 of delivery within 12 months when the first
    # delivery came at 23 months (no mass before it); the model gives every time some mass
    done = [
        delivered(round(m * D), start="2015-01-01", promised_days=730) for m in (23, 25, 27, 31)
    ]
    sites = sites_frame([*done, censored(round(10 * D), promised_days=730)])
    s = forecast_site_delivery(sites, as_of=AS_OF).summary
    assert 0.01 < s["prob_delivered_in_horizon"].iloc[0] < 0.9
    assert s["p50_build_months"].iloc[0] > 10


def test_the_promise_moves_the_forecast():
    # same age, promised 18 vs 48 months: the one promised later is forecast later
    done = [
        delivered(round(p * 1.3 * D), start="2012-01-01", promised_days=round(p * D))
        for p in (18, 20, 24, 30, 36, 40, 44, 48, 22, 46)
    ]
    todo = [
        censored(round(12 * D), promised_days=round(18 * D)),
        censored(round(12 * D), promised_days=round(48 * D)),
    ]
    s = forecast_site_delivery(sites_frame(done + todo), as_of=AS_OF).summary
    assert s["p50_months_after"].iloc[1] > s["p50_months_after"].iloc[0] + 12
    assert s["prob_delivered_in_horizon"].iloc[0] > s["prob_delivered_in_horizon"].iloc[1]


def test_fewer_deliveries_give_wider_intervals():
    rng = np.random.default_rng(5)

    def spread(n_done: int) -> float:
        days = np.round(730 * np.exp(0.3 + 0.3 * rng.standard_normal(n_done))).astype(int)
        done = [delivered(int(d), start="2010-01-01") for d in days]
        s = forecast_site_delivery(sites_frame([*done, censored(400)]), as_of=AS_OF).summary
        return float(s["p90_months_after"].iloc[0] / s["p50_months_after"].iloc[0])

    assert spread(3) > spread(60)


def test_samples_agree_with_the_predictive_quantiles_and_share_a_shock(district):
    model = fit_delivery_model(district, as_of=AS_OF)
    draws = model.sample_months_after(20_000, np.random.default_rng(3))
    assert draws.shape == (20_000, 4) and (draws > 0).all()
    q = model.quantile_frame([0.5, 0.9], horizon_months=12)
    emp50 = np.quantile(draws, 0.5, axis=0)
    emp90 = np.quantile(draws, 0.9, axis=0)
    assert emp50 == pytest.approx(q["p50_months_after"].to_numpy(), rel=0.05, abs=0.5)
    assert emp90 == pytest.approx(q["p90_months_after"].to_numpy(), rel=0.06, abs=0.5)
    within = (draws <= 12).mean(axis=0)
    assert within == pytest.approx(q["prob_delivered_in_horizon"].to_numpy(), abs=0.02)
    # one parameter draw per path, shared by the sites: their delays are positively correlated
    # (independent paths: rank correlations about 0 ± 0.007). Shown on the sites whose forecast
    # rests mostly on the AFT component; the long-overdue S9 has a large stall weight, and its
    # stall component is drawn per site (a site's own trouble), which dilutes its correlation.
    weight = model.tail.stall_weight(
        model.sites["condition_months"].to_numpy(), model.sites["promised_months"].to_numpy()
    )
    assert weight[1] > 0.2 and (np.delete(weight, 1) < 0.1).all()
    ranks = np.argsort(np.argsort(draws[:, [0, 2, 3]], axis=0), axis=0)
    corr = np.corrcoef(ranks.T)[np.triu_indices(3, 1)]
    assert (corr > 0.02).all() and corr.mean() > 0.04


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
    assert r.summary.empty and r.assumptions["n_sites_started"] == 0


def test_missing_start_and_promised_dates_are_stated():
    done = [delivered(d, start="2015-01-01") for d in (700, 800, 900)]
    no_promise = {**censored(300), "promised_date": pd.NaT}
    no_start = {"zone": "港城片区", "promised_date": pd.Timestamp("2023-01-01")}
    r = forecast_site_delivery(sites_frame([*done, no_promise, no_start]), as_of=AS_OF)
    s = r.summary
    assert s["site_id"].tolist() == ["S3"] and s["promised_assumed"].iloc[0]
    assert s["promised_months"].iloc[0] == pytest.approx(720 / D)  # the others' median
    assert r.assumptions["sites_without_start"] == ["S4"]
    assert any("缺少开工日期" in note for note in r.assumptions["notes"])
    assert any("缺少约定交房日期" in note for note in r.assumptions["notes"])


def test_tail_table_shows_the_fit_the_forecast_uses_and_prefitted_inputs_change_nothing():
    sites = sites_frame(
        [delivered(d, start="2015-01-01") for d in (700, 760, 900, 1000, 1300)]
        + [censored(1200), censored(800)]
    )
    r = forecast_site_delivery(sites, as_of=AS_OF)
    tail = r.frames["tail"]
    chosen = tail.loc[tail["chosen"]].iloc[0]
    assert tail["chosen"].sum() == 1
    assert chosen["distribution"] == r.assumptions["distribution"]
    assert chosen["params"] == r.assumptions["tail"]["params"]
    assert chosen["aic"] == tail["aic"].min()  # chosen by AIC
    assert list(tail["distribution"]) == ["lognormal", "weibull", "loglogistic"]
    families = r.frames["families"]
    assert list(families["distribution"]) == list(tail["distribution"])
    assert families.loc[families["chosen"], "mean_p50_months_after"].iloc[0] == pytest.approx(
        r.summary["p50_months_after"].mean()
    )
    given = forecast_site_delivery(sites, as_of=AS_OF, distribution="weibull")
    assert given.frames["tail"].loc[given.frames["tail"]["chosen"], "distribution"].iloc[0] == (
        "weibull"
    )
    assert given.assumptions["chosen_by"] == "given"

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
    other = next(d for d in ("lognormal", "weibull", "loglogistic") if d != model.distribution)
    with pytest.raises(ParameterError):
        forecast_site_delivery(sites, as_of=AS_OF, model=model, distribution=other)
    with pytest.raises(ParameterError):
        forecast_site_delivery(sites, as_of="2021-06-30", model=model)
    with pytest.raises(ParameterError):  # a curve of other sites
        compute_delivery_survival(
            sites, as_of=AS_OF, status=status, km=fit_build_time_km(status[:2])
        )
