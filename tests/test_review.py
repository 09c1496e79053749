"""The forecast review: past forecasts re-made from what was known then, scored against outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zhengshou_analysis.figures import Analysis
from zhengshou_analysis.figures import review as review_mod
from zhengshou_analysis.figures.review import review_forecasts, review_origins

AS_OF = pd.Timestamp("2022-12-31")


@pytest.fixture(scope="module")
def demo_tables(demo_ledgers):
    return demo_ledgers.tables


ORIGIN = pd.Timestamp("2020-12-31")


@pytest.fixture(scope="module")
def demo_review(demo_tables):
    a = Analysis(demo_tables, year=2022)
    return a, a.review


def test_every_origin_whose_horizon_is_over_is_reviewed(demo_review):
    _a, r = demo_review
    assert [o.year for o in r.origins] == [2019, 2020, 2021]
    assert not r.skipped
    # one row per origin and a pooled row
    assert len(r.delivery) == 4 and r.delivery["origin"].iloc[-1] is pd.NaT
    assert set(r.money["quantity"]) == {"inflows", "stock_gap", "gap"}
    assert len(r.money) == 3 * 3
    # the scores of the model and of both baselines are there, as numbers
    pooled = r.delivery.iloc[-1]
    for col in ("brier_model", "brier_promise", "brier_base_rate", "log_model", "coverage_p90"):
        assert np.isfinite(pooled[col]), col
    assert 0 <= pooled["coverage_p50"] <= pooled["coverage_p90"] <= 1
    assert r.money["pit"].between(0, 1).all()
    assert (r.money["crps_yuan"] >= 0).all()


def test_origins_need_an_observed_horizon_and_history(demo_tables):
    origins = review_origins(demo_tables, as_of=pd.Timestamp("2021-12-31"), horizon_months=12)
    assert [o.year for o in origins] == [2019, 2020]  # 2021's horizon is not over
    months = review_origins(
        demo_tables, as_of=pd.Timestamp("2021-06-30"), horizon_months=12, frequency="month"
    )
    assert months[-1] == pd.Timestamp("2020-06-30") and len(months) == review_mod.MAX_ORIGINS


def test_no_later_row_leaks_into_a_past_forecast(demo_tables):
    """Change everything after the origin: the forecast made then must not move."""
    t = dict(demo_tables)
    later = t["funding"]["date"].gt(ORIGIN)
    t["funding"] = t["funding"].assign(
        amount_yuan=t["funding"]["amount_yuan"].where(~later, t["funding"]["amount_yuan"] * 10)
    )
    s = t["sites"]
    moved = s["delivered_date"].gt(ORIGIN)
    t["sites"] = s.assign(
        delivered_date=s["delivered_date"].where(
            ~moved, s["delivered_date"] + pd.Timedelta(days=400)
        )
    )
    t["agreements"] = t["agreements"].assign(
        compensation_yuan=t["agreements"]["compensation_yuan"].where(
            ~t["agreements"]["signed_date"].gt(ORIGIN), 1.0
        )
    )
    kw = {"as_of": AS_OF, "horizon_months": 12, "n_paths": 500, "origins": [ORIGIN]}
    a = review_forecasts(demo_tables, **kw)
    b = review_forecasts(t, **kw)
    forecast_cols = ["site_id", "p50_date", "p90_date", "prob_in_horizon", "prob_promise"]
    pd.testing.assert_frame_equal(a.sites[forecast_cols], b.sites[forecast_cols])
    fc = ["quantity", "p10_yuan", "p50_yuan", "p90_yuan"]
    pd.testing.assert_frame_equal(a.money[fc], b.money[fc])
    # ... while what happened afterwards did change
    inflows = a.money.set_index("quantity")["realised_yuan"]["inflows"]
    assert b.money.set_index("quantity")["realised_yuan"]["inflows"] == pytest.approx(10 * inflows)


def test_a_site_still_undelivered_counts_only_once_its_date_has_passed(demo_review):
    _, r = demo_review
    s = r.sites
    open_ = s["delivered_date"].isna()
    assert s.loc[open_ & s["p90_date"].ge(AS_OF), "by_p90"].isna().all()
    assert not s.loc[open_ & s["p90_date"].lt(AS_OF), "by_p90"].fillna(True).any()
    done = s["delivered_date"].notna()
    expected = s.loc[done, "delivered_date"].le(s.loc[done, "p90_date"])
    assert (s.loc[done, "by_p90"].astype(bool) == expected).all()


def test_an_origin_that_cannot_be_forecast_is_stated_and_the_rest_go_on(demo_tables, monkeypatch):
    real = review_mod._analysis_at

    def failing(tables, origin, settings):
        if origin.year == 2019:
            raise np.linalg.LinAlgError("Singular matrix")
        return real(tables, origin, settings)

    monkeypatch.setattr(review_mod, "_analysis_at", failing)
    r = review_forecasts(demo_tables, as_of=AS_OF, horizon_months=12, n_paths=300)
    assert [o.year for o in r.origins] == [2020, 2021]
    assert "Singular matrix" in r.skipped["2019-12-31"]
    assert any("2019-12-31" in t for t in r.statements["delivery"])


def test_the_review_speaks_plain_chinese_first(demo_review):
    _, r = demo_review
    text = "".join(r.statements["delivery"]) + "".join(r.statements["money"])
    assert "九成把握" in text and "实际" in text
    for word in ("MASE", "SARIMAX", "Kaplan", "Brier", "CRPS", "PIT", "P90"):
        assert word not in text, word


def test_key_figures_carry_the_calibration(demo_review):
    a, _r = demo_review
    kf = a.key_figures()
    cal = kf["calibration"]
    assert cal["origins"] == ["2019-12-31", "2020-12-31", "2021-12-31"]
    assert len(cal["delivery"]) == 4 and len(cal["money"]) == 9
    assert cal["sites"] and all("prob_in_horizon" in s for s in cal["sites"])


def test_the_previous_run_is_set_beside_this_one(demo_tables, demo_review):
    _, r = demo_review
    alone = Analysis(demo_tables, year=2022).previous_forecast  # without the whole review
    pd.testing.assert_frame_equal(alone, r.previous)
    assert set(alone["origin"]) == {pd.Timestamp("2021-12-31")}
    # the 2021 year-end forecast is also the last reviewed origin: the same numbers
    last = r.sites.loc[r.sites["origin"].eq(pd.Timestamp("2021-12-31"))]
    assert list(last["p50_date"]) == list(alone["p50_date"])
    # a monthly run's previous run is the month before
    monthly = Analysis(demo_tables, year=2022, as_of="2022-06-30").previous_forecast
    assert set(monthly["origin"]) == {pd.Timestamp("2022-05-31")}
