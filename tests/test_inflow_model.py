"""forecast/inflows: paths without drift the model lacks, the rolling back-test, honest selection.

Synthetic series are seeded; each property would fail on the earlier simulation (which cumulated
resampled past changes, drift included) or the earlier single-holdout back-test.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from ledger_builder import frame

from zhengshou_analysis.forecast import fit_inflow_model, forecast_inflows
from zhengshou_analysis.forecast import inflows as inflows_module
from zhengshou_analysis.forecast.inflows import (
    CANDIDATES,
    MASE_SCALE_TEXT,
    PAYMENTS_LINK,
    backtest_origins,
    rolling_backtest_inflow_models,
)

AS_OF = pd.Timestamp("2021-12-31")
N_PATHS = 4000


def monthly_funding(values, start="2016-01") -> pd.DataFrame:
    months = pd.period_range(start, periods=len(values), freq="M")
    rows = [
        {"date": m.to_timestamp() + pd.Timedelta(days=14), "amount_yuan": float(v)}
        for m, v in zip(months, values, strict=True)
        if v > 0
    ]
    return frame("funding", rows)


def trending(n=72, seed=1) -> np.ndarray:
    """+0.5 M a month ± 0.3 M: a drift a naive random walk must not carry (+5.7 % of its total)."""
    rng = np.random.default_rng(seed)
    return 2e7 + np.cumsum(rng.normal(5e5, 3e5, n))


def seasonal(n=72, seed=0) -> np.ndarray:
    """A season around 10 M a month that grows 25 % a year: year-on-year changes average > 0."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 1e7 * (1 + 0.25 * t / 12) * (1 + 0.5 * np.sin(2 * np.pi * t / 12)) + rng.normal(
        0, 4e5, n
    )


def lumpy(n=72, seed=3) -> np.ndarray:
    """Large tranches in some months, small ones or none in others (a third of months empty)."""
    rng = np.random.default_rng(seed)
    big = rng.random(n) < 0.3
    y = np.where(big, rng.gamma(2.0, 1.5e7, n), rng.gamma(2.0, 1e6, n))
    y[rng.random(n) < 0.33] = 0.0
    return y * (1 + 0.02 * np.arange(n) / 12)


def as_method(model, name: str):
    """``model`` with candidate ``name`` fitted to its history instead of the back-test winner."""
    y = model.monthly.to_numpy(dtype="float64")
    unit = inflows_module._scale(y)
    res, spec = inflows_module._fit(name, y / unit)
    return replace(
        model, method=name, spec=inflows_module._spec_text(name, spec), results=res, unit=unit
    )


SERIES = {"trending": trending, "seasonal": seasonal, "lumpy": lumpy}


@pytest.fixture(scope="module")
def fitted():
    """One fitted model per synthetic series (back-test run once each)."""
    return {k: fit_inflow_model(monthly_funding(make()), as_of=AS_OF) for k, make in SERIES.items()}


#: Median tolerance: resampled changes of a lumpy series are skewed (a few large tranches), so
#: the median of their sum sits below its mean, the point forecast, by a few per cent.
MEDIAN_REL = {"trending": 0.03, "seasonal": 0.03, "lumpy": 0.08}


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("method", CANDIDATES)
def test_paths_are_centred_on_the_models_own_point_forecast(fitted, series, method):
    model = as_method(fitted[series], method)
    r = forecast_inflows(None, as_of=AS_OF, n_paths=N_PATHS, seed=11, model=model)
    a = r.assumptions
    point = a["point_forecast_total_yuan"]
    raw = a["simulated_total_unclipped_yuan"]
    assert point == pytest.approx(model.point_forecast(12).sum())
    # before clipping: mean (and median) of the annual totals within 3 % of the point forecast,
    # or 4 standard errors of the simulation where the spread is huge (naive on a lumpy series).
    # The earlier paths carried the past's drift: +5.7 % on the trending series for the naive
    # model, +10.7 % on the seasonal series for the seasonal naive one.
    totals, _ = model.simulate(12, N_PATHS, np.random.default_rng(11))
    se = totals.sum(axis=1).std() / math.sqrt(N_PATHS)
    assert abs(raw["mean"] - point) <= max(0.03 * abs(point), 4 * se), (series, method)
    assert abs(raw["p50"] - point) <= max(MEDIAN_REL[series] * abs(point), 5 * se), (series, method)
    # clipping at 0 only raises the totals, and says how often it bites
    assert a["simulated_total_yuan"]["mean"] >= raw["mean"]
    assert 0.0 <= a["clipped_month_share"] <= 1.0
    assert (r.samples["inflows"] >= 0).all()


def test_naive_median_path_is_the_last_month():
    model = as_method(fit_inflow_model(monthly_funding(trending()), as_of=AS_OF), "naive")
    raw, _ = model.simulate(12, N_PATHS, np.random.default_rng(0))
    last = float(model.monthly.iloc[-1])
    assert np.median(raw, axis=0) == pytest.approx(np.full(12, last), rel=0.01)
    assert raw.mean(axis=0) == pytest.approx(np.full(12, last), rel=0.01)


def test_seasonal_naive_first_year_is_last_year_plus_one_change():
    model = as_method(fit_inflow_model(monthly_funding(seasonal()), as_of=AS_OF), "seasonal_naive")
    y = model.monthly.to_numpy()
    raw, _ = model.simulate(24, N_PATHS, np.random.default_rng(0))
    changes = y[12:] - y[:-12]
    changes = changes - changes.mean()
    first = raw[:, :12] - y[-12:]  # one demeaned year-on-year change per month, nothing cumulated
    assert np.isin(np.round(first, 3), np.round(changes, 3)).all()
    second = raw[:, 12:] - raw[:, :12]  # the second year adds one more change (the model's)
    assert np.isin(np.round(second, 3), np.round(changes, 3)).all()
    assert raw[:, :12].std(axis=0).mean() < raw[:, 12:].std(axis=0).mean()


def airline(n=144, seed=0) -> np.ndarray:
    """An airline process (1−B)(1−B¹²)y = (1−0.4B)(1−0.4B¹²)e around 100 M: interior estimates."""
    rng = np.random.default_rng(seed)
    e = rng.normal(0, 1, n + 13)
    w = e[13:] - 0.4 * e[12:-1] - 0.4 * e[1:-12] + 0.16 * e[:-13]
    y = np.zeros(n + 13)
    for t in range(13, n + 13):
        y[t] = y[t - 1] + y[t - 12] - y[t - 13] + w[t - 13]
    return 1e8 + 1e6 * y[13:]


def test_sarimax_draws_parameters_when_the_estimates_are_inside_the_region():
    f = monthly_funding(airline(), start="2010-01")
    model = as_method(fit_inflow_model(f, as_of=AS_OF), "sarimax")
    assert model.spec == "SARIMAX(0, 1, 1)x(0, 1, 1, 12)"
    assert model.parameter_uncertainty.startswith("SARIMAX parameters drawn")
    draws = inflows_module._sarimax_param_draws(model.results, 20, np.random.default_rng(0))
    assert draws.shape == (20, 3) and np.unique(draws[:, 0]).size == 20
    assert (np.abs(draws[:, :2]) < 1).all() and (draws[:, 2] > 0).all()


def test_sarimax_at_the_boundary_uses_the_estimates_and_says_why():
    # a trend without a season: the airline model's seasonal MA goes to the boundary −1
    model = as_method(fit_inflow_model(monthly_funding(trending()), as_of=AS_OF), "sarimax")
    text = model.parameter_uncertainty
    assert text.startswith("not simulated:") and "boundary" in text
    assert (
        inflows_module._sarimax_param_draws(model.results, 20, np.random.default_rng(0)).shape[0]
        == 1
    )


def test_parameter_uncertainty_is_stated_for_every_method(fitted):
    for method in CANDIDATES:
        text = as_method(fitted["seasonal"], method).parameter_uncertainty
        assert text and (method != "ets" or "no parameter draws" in text)


# --------------------------------------------------------------------------------------------------
# rolling back-test


@pytest.mark.parametrize(
    ("n", "kwargs", "expected"),
    [
        (72, {}, [24, 36, 48, 60]),
        (71, {}, [35, 47, 59]),
        (72, {"step_months": 6}, [24, 30, 36, 42, 48, 54, 60]),
        (36, {}, [24]),
        (30, {}, [18]),  # shorter than 24 + 12: the one origin the old holdout had
        (24, {}, [12]),
        (23, {}, []),
    ],
)
def test_backtest_origins(n, kwargs, expected):
    assert backtest_origins(n, **kwargs) == expected


def test_rolling_backtest_frames_and_choice_on_a_seasonal_series():
    y = pd.Series(seasonal(), index=pd.period_range("2016-01", periods=72, freq="M", name="month"))
    bt = rolling_backtest_inflow_models(y)
    a = bt.assumptions
    table, origins, sel = (
        bt.frames[k] for k in ("backtest", "backtest_origins", "backtest_selection")
    )
    assert a["n_origins"] == 4 and a["origins"] == ["2017-12", "2018-12", "2019-12", "2020-12"]
    assert a["train_months"] == [24, 36, 48, 60]
    assert table["model"].tolist() == list(CANDIDATES) and table["chosen"].sum() == 1
    assert (table["n_origins"] == 4).all()
    assert len(origins) == 16 and origins.groupby("origin").size().eq(4).all()
    assert len(sel) == 3 and sel["origin"].tolist() == a["origins"][1:]
    # mean MASE per model is the mean of its origins; the winner has the lowest
    for r in table.itertuples():
        assert r.mase == pytest.approx(origins.loc[origins["model"].eq(r.model), "mase"].mean())
    assert a["winner"] == table.loc[table["mase"].idxmin(), "model"] != "naive"
    assert a["chosen_mase_in_sample"] == pytest.approx(table["mase"].min())
    assert a["mase"]["seasonal_naive"] < a["mase"]["naive"] / 2
    # every origin's actual total is the sum of its 12 months
    first = origins.loc[origins["origin"].eq("2017-12")].iloc[0]
    assert first["actual_total_yuan"] == pytest.approx(y.iloc[24:36].sum())
    assert origins["pit"].between(0, 1).all()
    assert a["mase_scale"] == MASE_SCALE_TEXT and "逐月变化的平均绝对值" in MASE_SCALE_TEXT


def hand_origins() -> pd.DataFrame:
    # origin A: naive best; B: seasonal naive best; C: ETS best; SARIMAX failed at A
    mase = {
        "naive": [1.0, 3.0, 3.0],  # mean 2.333
        "seasonal_naive": [2.0, 1.0, 2.0],  # mean 1.667
        "ets": [1.5, 2.0, 1.0],  # mean 1.5: the in-sample winner
        "sarimax": [math.nan, 0.5, 0.5],  # not scored at every origin: never chosen
    }
    rows = [
        {"origin": o, "train_months": 24 + 12 * k, "model": m, "mase": v[k]}
        for m, v in mase.items()
        for k, o in enumerate("ABC")
    ]
    return pd.DataFrame(rows)


def test_selection_out_of_sample_uses_only_earlier_origins():
    origins = hand_origins()
    assert inflows_module._choose(origins, ["A", "B", "C"]) == "ets"
    sel = inflows_module._selection_out_of_sample(origins, ["A", "B", "C"])
    # at B the choice from A alone is naive (1.0), scored 3.0 at B; at C the choice from A and B
    # is seasonal naive (means: naive 2.0, seasonal 1.5, ETS 1.75), scored 2.0 at C
    assert sel["chosen_from_earlier"].tolist() == ["naive", "seasonal_naive"]
    assert sel["mase"].tolist() == [3.0, 2.0]  # mean 2.5, against the winner's 1.5 in sample


def test_ties_go_to_the_simpler_model():
    origins = hand_origins()
    origins.loc[origins["model"].eq("seasonal_naive"), "mase"] = [1.5, 2.0, 1.0]  # = ETS
    assert inflows_module._choose(origins, ["A", "B", "C"]) == "seasonal_naive"


def test_forecast_reports_the_out_of_sample_selection_error(fitted):
    r = forecast_inflows(None, as_of=AS_OF, n_paths=200, seed=1, model=fitted["seasonal"])
    a = r.assumptions
    sel = r.frames["backtest_selection"]
    assert a["n_origins"] == 4 and a["selection_n_origins"] == 3
    assert a["selection_mase_out_of_sample"] == pytest.approx(sel["mase"].mean())
    assert a["chosen_mase_in_sample"] == pytest.approx(a["backtest_mase"][a["method"]])
    assert a["backtest_holdout_months"] == 12 and a["backtest_step_months"] == 12
    assert a["backtest_origins"] == ["2017-12", "2018-12", "2019-12", "2020-12"]
    why = a["why"]
    assert why.startswith("资金到位预测选用") and "偏乐观" in why and "逐月变化的平均绝对值" in why
    assert f"{a['selection_mase_out_of_sample']:.2f}" in why
    assert "以朴素预测的误差为1" not in why
    assert a["payments_link"] == PAYMENTS_LINK and "用款申请" in PAYMENTS_LINK
    assert len(r.frames["backtest_origins"]) == 16


def test_one_origin_says_the_selection_cannot_be_checked():
    f = monthly_funding(seasonal(n=30), start="2019-07")  # 30 months: one origin, 18 training
    r = forecast_inflows(f, as_of=AS_OF, n_paths=100, seed=1)
    a = r.assumptions
    assert a["fallback_reason"] is None and a["n_origins"] == 1
    assert a["selection_mase_out_of_sample"] is None and "只有一个回测时点" in a["why"]
    assert r.frames["backtest_selection"].empty


def test_short_and_sparse_histories_still_fall_back():
    r = forecast_inflows(monthly_funding(seasonal(n=20), start="2020-05"), as_of=AS_OF, n_paths=50)
    assert r.assumptions["method"] == "block_bootstrap" and r.assumptions["n_origins"] == 0
    assert r.frames["backtest"].empty and r.assumptions["point_forecast_total_yuan"] is None


def test_seeded_and_reproducible(fitted):
    f = monthly_funding(lumpy())
    a = forecast_inflows(f, as_of=AS_OF, n_paths=300, seed=5)
    b = forecast_inflows(f, as_of=AS_OF, n_paths=300, seed=5)
    c = forecast_inflows(f, as_of=AS_OF, n_paths=300, seed=6)
    assert np.array_equal(a.samples["inflows"], b.samples["inflows"])
    assert a.assumptions == b.assumptions
    pd.testing.assert_frame_equal(a.frames["backtest_origins"], b.frames["backtest_origins"])
    assert not np.array_equal(a.samples["inflows"], c.samples["inflows"])
    # the back-test has its own fixed seed: the same whatever the forecast's seed
    pd.testing.assert_frame_equal(a.frames["backtest_origins"], c.frames["backtest_origins"])


def test_inputs_are_not_modified():
    y = pd.Series(trending(), index=pd.period_range("2016-01", periods=72, freq="M"))
    before = y.copy()
    rolling_backtest_inflow_models(y, n_paths=50)
    pd.testing.assert_series_equal(y, before)
