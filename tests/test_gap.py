"""The funding gap (forecast/gap): stock gap, full gap, new agreements, realised gap; fee certainty.

A district small enough to compute by hand, reporting date 2021-12-31, horizon 3 months (to
2022-03-31):

- 12 agreements of 3000 yuan, one signed on the 15th of every month of 2021, due 30 days later
  (half of them through the policy's 30-day term: the ledger leaves the date empty). Jan–Oct
  paid in full; Nov paid 400; Dec unpaid. U = (3000 − 400) + 3000 = 5600.
- Funding 2500 on the 5th of every month of 2021: cash B = 12·2500 − (10·3000 + 400 + 100) =
  −500; 12 months (< 24) of a constant series → block bootstrap of constants: I = 3·2500 = 7500
  on every path.
- One household without a site, from 2021-10-10, 100 yuan a month, agreed 24 months, paid 100:
  K0 = 3 fee months, accrued 300, arrears A = 200. No site → it leaves ``lag_months`` = 2 after
  ``as_of``: F = 2·100 = 200 on every path (prob_pays_whole_horizon 0 for H = 3).
- New agreements: every month of history is 3000 → A_m = 3000 on every path; every lag is 30
  days → due shares Jan 1, Feb 1 (Feb 28 + 30 days = Mar 30 ≤ Mar 31), Mar 1/31 (only a
  signing on Mar 1 falls due by Mar 31): N = 3000·(2 + 1/31).

Stock gap = 5600 + 200 + 200 − (−500 + 7500) = −1000 (closed on every path); full gap =
−1000 + 3000·(2 + 1/31) = 5096.77… (open on every path).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ledger_builder import frame

from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.figures.funding import compute_agreement_balances
from zhengshou_analysis.forecast import fit_delivery_model
from zhengshou_analysis.forecast.common import new_agreement_stream, random_streams
from zhengshou_analysis.forecast.fees import build_fee_model
from zhengshou_analysis.forecast.gap import (
    GAP_DEFINITION,
    REALISED_GAP_KEYS,
    STOCK_GAP_DEFINITION,
    compute_realised_gap,
    fit_new_agreement_model,
    forecast_funding_gap,
)
from zhengshou_analysis.settings import DEFAULT_ESCALATION, Policy

AS_OF = pd.Timestamp("2021-12-31")
H = 3
N_DUE = 3000.0 * (2 + 1 / 31)


def _agreement(month: int) -> dict:
    signed = pd.Timestamp(2021, month, 15)
    return {
        "agreement_id": f"A{month:02d}",
        "signed_date": signed,
        "compensation_yuan": 3000.0,
        # even months: the ledger's date; odd months: empty, the 30-day term fills it
        "payment_due_date": signed + pd.Timedelta(days=30) if month % 2 == 0 else None,
    }


def _payment(pid: str, date: str, agreement: str, kind: str, amount: float) -> dict:
    return {
        "payment_id": pid,
        "date": date,
        "agreement_id": agreement,
        "kind": kind,
        "amount_yuan": amount,
    }


def _household(agreement_id: str, start: str, end: str | None = None) -> dict:
    return {
        "agreement_id": agreement_id,
        "start_date": start,
        "end_date": end,
        "fee_basis": "per_household",
        "fee_rate_yuan": 100.0,
        "agreed_months": 24,
    }


@pytest.fixture
def district() -> dict[str, pd.DataFrame]:
    """The district as known at 2021-12-31 (see the module docstring)."""
    payments = [
        _payment(f"P{m:02d}", f"2021-{m:02d}-25", f"A{m:02d}", "补偿款", 3000.0)
        for m in range(1, 11)
    ]
    payments += [
        _payment("P11", "2021-11-25", "A11", "补偿款", 400.0),
        _payment("F1", "2021-11-01", "H1", "过渡安置费", 100.0),
    ]
    return {
        "agreements": frame("agreements", [_agreement(m) for m in range(1, 13)]),
        "payments": frame("payments", payments),
        "funding": frame(
            "funding",
            [{"date": f"2021-{m:02d}-05", "amount_yuan": 2500.0} for m in range(1, 13)],
        ),
        "transition": frame("transition", [_household("H1", "2021-10-10")]),
    }


@pytest.fixture
def later(district) -> dict[str, pd.DataFrame]:
    """The same district known at 2022-04-30: what happened in the horizon, and a little after.

    - Payments: A11 the remaining 2600 (Jan 10), A12 1000 of 3000 (Feb 1; 500 more on Apr 10,
      after the end), fee 150 (Jan 15), N1 2000 (Feb 25).
    - Funding: 3000 (Jan 5) + 1000 (Mar 20) = I 4000; 9999 on Apr 2 is after the end.
    - H1 moves back on 2022-02-20: K = months_between(2021-10-10, 2022-02-20) = 5, accrued 500,
      F = 500 − 300 = 200. H2 starts 2022-03-05: 1 fee month by Mar 31, 100 (not in the gap).
    - New agreements: N1 5000 (Jan 20, due Feb 19: in), N3 1000 (Mar 1, no date: term → Mar 31,
      in), N2 7000 (Mar 15, no date: term → Apr 14, out). N = 6000, signed 13000.
    """
    extra_payments = [
        _payment("P11b", "2022-01-10", "A11", "补偿款", 2600.0),
        _payment("P12", "2022-02-01", "A12", "补偿款", 1000.0),
        _payment("P12b", "2022-04-10", "A12", "补偿款", 500.0),
        _payment("F2", "2022-01-15", "H1", "过渡安置费", 150.0),
        _payment("PN1", "2022-02-25", "N1", "补偿款", 2000.0),
    ]
    new = [
        {"agreement_id": "N1", "signed_date": "2022-01-20", "compensation_yuan": 5000.0,
         "payment_due_date": "2022-02-19"},
        {"agreement_id": "N2", "signed_date": "2022-03-15", "compensation_yuan": 7000.0},
        {"agreement_id": "N3", "signed_date": "2022-03-01", "compensation_yuan": 1000.0},
    ]  # fmt: skip
    agreements = pd.concat([district["agreements"], frame("agreements", new)], ignore_index=True)
    funding = pd.concat(
        [
            district["funding"],
            frame(
                "funding",
                [
                    {"date": "2022-01-05", "amount_yuan": 3000.0},
                    {"date": "2022-03-20", "amount_yuan": 1000.0},
                    {"date": "2022-04-02", "amount_yuan": 9999.0},
                ],
            ),
        ],
        ignore_index=True,
    )
    return {
        "agreements": agreements,
        "payments": pd.concat(
            [district["payments"], frame("payments", extra_payments)], ignore_index=True
        ),
        "funding": funding,
        "transition": frame(
            "transition",
            [_household("H1", "2021-10-10", "2022-02-20"), _household("H2", "2022-03-05")],
        ),
    }


# --------------------------------------------------------------------------------------------------
# stock and full gap


def test_stock_and_full_gap_by_hand(district):
    r = forecast_funding_gap(district, as_of=AS_OF, horizon_months=H, n_paths=64, seed=3)
    c = r.assumptions["gap_components"]
    assert c["unpaid_compensation_due_yuan"] == pytest.approx(5600.0)
    assert c["transition_fee_arrears_yuan"] == pytest.approx(200.0)
    assert c["cash_balance_yuan"] == pytest.approx(-500.0)
    s = r.samples
    assert np.allclose(s["inflows"].sum(axis=1), 7500.0)
    assert np.allclose(s["fees:baseline"], 200.0)
    assert np.allclose(s["new_due"], N_DUE)
    assert np.allclose(s["stock_gap:baseline"], -1000.0)
    assert np.allclose(s["gap:baseline"], -1000.0 + N_DUE)
    row = r.summary.set_index("scenario").loc["baseline"]
    assert row["fee_arrears_yuan"] == pytest.approx(200.0)
    assert row["stock_gap_p50_yuan"] == pytest.approx(-1000.0)
    assert row["prob_stock_gap_closed"] == 1.0
    assert row["new_obligations_due_p10_yuan"] == pytest.approx(N_DUE)
    assert row["gap_p90_yuan"] == pytest.approx(-1000.0 + N_DUE)
    assert row["prob_gap_closed"] == 0.0
    shares = r.frames["new_agreements"].set_index("month")["due_share"]
    assert shares.tolist() == pytest.approx([1.0, 1.0, 1 / 31])
    assert r.assumptions["new_agreements"]["due_lag_days_p90"] == 30.0
    assert r.assumptions["gap_definition"] == GAP_DEFINITION
    assert r.assumptions["stock_gap_definition"] == STOCK_GAP_DEFINITION


def test_full_gap_is_never_below_the_stock_gap_on_the_demo_like_varying_history():
    # signings that vary month to month (and zero months), lags of 10..200 days
    rng = np.random.default_rng(7)
    rows = []
    for k, day in enumerate(pd.date_range("2019-01-03", "2021-12-20", freq="11D")):
        if rng.random() < 0.2:
            continue
        rows.append(
            {
                "agreement_id": f"A{k}",
                "signed_date": day,
                "compensation_yuan": float(rng.integers(1, 50) * 1000),
                "payment_due_date": day + pd.Timedelta(days=int(rng.integers(10, 200))),
            }
        )
    tables = {"agreements": frame("agreements", rows)}
    r = forecast_funding_gap(tables, as_of=AS_OF, n_paths=500, seed=1)
    s = r.samples
    new_due = s["new_due"]
    assert (new_due >= 0).all() and new_due.std() > 0  # uncertain, never negative
    assert np.allclose(s["gap:baseline"] - s["stock_gap:baseline"], new_due)
    assert (s["gap:baseline"] >= s["stock_gap:baseline"]).all()
    row = r.summary.iloc[0]
    assert row["prob_gap_closed"] <= row["prob_stock_gap_closed"]
    assert row["new_obligations_due_p10_yuan"] < row["new_obligations_due_p90_yuan"]


def test_mid_month_reporting_date_counts_the_rest_of_its_month():
    # history: 3000 on the 15th of every month of 2021; as_of 2021-12-10, lag 0 days, H = 1 →
    # end 2022-01-10. December 11–31 (21 of 31 days) and January 1–10 (10 of 31 days) are in
    # the horizon: N = 3000·21/31 + 3000·10/31 = 3000 (with a lag of 0 everything is due).
    rows = [
        {
            "agreement_id": f"A{m}",
            "signed_date": pd.Timestamp(2021, m, 15),
            "compensation_yuan": 3000.0,
            "payment_due_date": pd.Timestamp(2021, m, 15),
        }
        for m in range(1, 12)
    ]
    b = compute_agreement_balances(frame("agreements", rows), None, as_of="2021-12-10")
    model = fit_new_agreement_model(b, as_of="2021-12-10", horizon_months=1)
    assert [str(m) for m in model.months] == ["2021-12", "2022-01"]
    assert model.due_share.tolist() == pytest.approx([21 / 31, 10 / 31])
    assert len(model.history) == 11  # complete months only: Jan..Nov
    _, due = model.simulate(5, np.random.default_rng(0))
    assert due == pytest.approx(np.full(5, 3000.0))


def test_no_agreements_means_no_new_obligations_and_a_warning():
    r = forecast_funding_gap({}, as_of=AS_OF, n_paths=20, seed=1)
    assert not r.samples["new_due"].any()
    assert r.assumptions["new_agreements"]["method"] == "zero"
    assert "新签协议只有0个月" in r.assumptions["warning"]
    with pytest.raises(ParameterError):
        fit_new_agreement_model(
            compute_agreement_balances(None, None, as_of=AS_OF), as_of=AS_OF, horizon_months=0
        )


def test_gap_is_seeded_and_the_new_stream_leaves_the_others_alone(district):
    a = forecast_funding_gap(district, as_of=AS_OF, n_paths=50, seed=5)
    b = forecast_funding_gap(district, as_of=AS_OF, n_paths=50, seed=5)
    for k, v in a.samples.items():
        assert np.array_equal(v, b.samples[k]), k
    pd.testing.assert_frame_equal(a.summary, b.summary)
    # the third child is not either of the first two, and the first two are as before
    d, i = random_streams(5)
    first, second = (np.random.default_rng(c) for c in np.random.SeedSequence(5).spawn(2))
    assert d.random() == first.random() and i.random() == second.random()
    assert new_agreement_stream(5).random() not in (
        np.random.default_rng(c).random() for c in np.random.SeedSequence(5).spawn(2)
    )


def test_gap_and_realised_gap_do_not_modify_their_inputs(district, later):
    for tables in (district, later):
        before = {k: v.copy(deep=True) for k, v in tables.items()}
        forecast_funding_gap(tables, as_of=AS_OF, horizon_months=H, n_paths=20)
        compute_realised_gap(tables, origin=AS_OF, horizon_months=H)
        for k, v in before.items():
            pd.testing.assert_frame_equal(tables[k], v)


# --------------------------------------------------------------------------------------------------
# realised


def test_realised_gap_by_hand(later):
    r = compute_realised_gap(later, origin=AS_OF, horizon_months=H, policy=Policy())
    assert tuple(r) == REALISED_GAP_KEYS
    assert r["horizon_end"] == "2022-03-31"
    expected = {
        "unpaid_compensation_due_yuan": 5600.0,
        "fee_arrears_yuan": 200.0,
        "fees_in_horizon_yuan": 200.0,  # 500 accrued by the move back − 300
        "cash_balance_yuan": -500.0,
        "inflows_yuan": 4000.0,
        "stock_gap_yuan": 5600.0 + 200.0 + 200.0 - (-500.0 + 4000.0),  # 2500
        "new_obligations_due_yuan": 6000.0,  # N1 5000 + N3 1000 (N2 due after the end)
        "gap_yuan": 2500.0 + 6000.0,
        "new_agreements_signed_yuan": 13000.0,
        "paid_to_new_agreements_yuan": 2000.0,
        "fees_new_households_yuan": 100.0,  # H2, one fee month
        "origin_obligations_yuan": 5800.0,
        "unpaid_compensation_still_unpaid_yuan": 2000.0,  # A11 settled; A12 3000 − 1000
        "fee_arrears_still_unpaid_yuan": 50.0,  # 200 − 150
        "origin_obligations_unpaid_after_horizon_yuan": 2050.0,
        "share_unpaid_after_horizon": 2050.0 / 5800.0,
    }
    for k, v in expected.items():
        assert r[k] == pytest.approx(v), k
    assert r["stock_gap_closed"] is False and r["gap_closed"] is False


def test_realised_gap_uses_the_policy_term(later):
    # a 60-day term: N3 (Mar 1) falls due Apr 30, after the end; N = N1 only
    r = compute_realised_gap(
        later, origin=AS_OF, horizon_months=H, policy=Policy(payment_term_days=60)
    )
    assert r["new_obligations_due_yuan"] == pytest.approx(5000.0)
    # odd months of 2021 have no ledger date: Nov due Jan 14 by the 60-day term: still in U
    assert r["unpaid_compensation_due_yuan"] == pytest.approx(5600.0)


def test_realised_share_is_nan_without_obligations():
    r = compute_realised_gap({}, origin=AS_OF, horizon_months=12)
    assert r["origin_obligations_yuan"] == 0.0
    assert np.isnan(r["share_unpaid_after_horizon"])
    assert r["stock_gap_closed"] is True
    with pytest.raises(ParameterError):
        compute_realised_gap({}, origin=AS_OF, horizon_months=0)


# --------------------------------------------------------------------------------------------------
# fees: how often a site pays every month of the horizon


@pytest.fixture
def sites_and_households() -> dict[str, pd.DataFrame]:
    sites = [
        {"site_id": "U1", "site_name": "U1", "zone": "贵城片区", "start_date": "2020-01-01",
         "promised_date": "2022-01-01"},
        {"site_id": "D1", "site_name": "D1", "zone": "港城片区", "start_date": "2018-01-01",
         "promised_date": "2020-01-01", "delivered_date": "2021-11-20"},
        {"site_id": "D2", "site_name": "D2", "zone": "港城片区", "start_date": "2017-01-01",
         "promised_date": "2019-01-01", "delivered_date": "2019-06-01"},
    ]  # fmt: skip
    hh = [
        {**_household(f"H{k}", "2021-06-10"), "site_id": s}
        for k, s in enumerate(["U1", "U1", "D1"])
    ]
    return {"sites": frame("sites", sites), "transition": frame("transition", hh)}


@pytest.mark.parametrize(
    ("months_to_delivery", "whole"),
    [(100.0, 1.0), (0.2, 0.0)],  # certainly beyond the horizon / certainly within it
)
def test_prob_pays_whole_horizon_when_delivery_is_certain(
    sites_and_households, months_to_delivery, whole
):
    delivery = fit_delivery_model(sites_and_households["sites"], as_of=AS_OF)
    model = build_fee_model(
        sites_and_households,
        as_of=AS_OF,
        horizon_months=6,
        delivery=delivery,
        escalation=DEFAULT_ESCALATION,
    )
    draws = np.full((40, len(delivery.sites)), months_to_delivery)
    fees, marginal, in_h, paying = model.simulate(draws, lag_months=2, delay_months=0)
    summary, by_site, by_zone = model.frames(fees, marginal, in_h, paying)
    s = by_site.set_index("site_id")
    # U1: 2 households × 100 × 6 months = 1200 when it pays the whole horizon; delivered in the
    # first month (rounded up to 1) + 2 months of lag = 3 fee months = 600 otherwise
    assert s.loc["U1", "prob_pays_whole_horizon"] == whole
    assert s.loc["U1", "fee_p50_yuan"] == pytest.approx(1200.0 if whole else 600.0)
    # D1 delivered 2021-11-20: ceil of −1.36 months = −1, + 2 → 1 more fee month: never whole
    assert s.loc["D1", "prob_pays_whole_horizon"] == 0.0
    assert s.loc["D1", "fee_p90_yuan"] == pytest.approx(100.0)
    # a 片区 and the total: every undelivered site still paying (the delivered D1 pays 100 on
    # every path, so it does not move the quantiles); NaN without an undelivered site
    z = by_zone.set_index("zone")["prob_pays_whole_horizon"]
    assert z["贵城片区"] == whole and np.isnan(z["港城片区"])
    assert summary["prob_pays_whole_horizon"].iloc[0] == whole


def test_prob_pays_whole_horizon_in_between_explains_p50_equal_p90(sites_and_households):
    delivery = fit_delivery_model(sites_and_households["sites"], as_of=AS_OF)
    model = build_fee_model(
        sites_and_households,
        as_of=AS_OF,
        horizon_months=6,
        delivery=delivery,
        escalation=DEFAULT_ESCALATION,
    )
    # 7 of 10 paths deliver after the horizon: P50 = P90 = the cap, the share says 0.7
    draws = np.array([[100.0]] * 7 + [[1.0]] * 3)
    fees, marginal, in_h, paying = model.simulate(draws, lag_months=2, delay_months=0)
    _, by_site, _ = model.frames(fees, marginal, in_h, paying)
    u1 = by_site.set_index("site_id").loc["U1"]
    assert u1["prob_pays_whole_horizon"] == pytest.approx(0.7)
    assert u1["fee_p50_yuan"] == u1["fee_p90_yuan"] == pytest.approx(1200.0)
    assert u1["fee_p10_yuan"] == pytest.approx(600.0)


def test_registry_definitions_name_the_model_the_code_uses():
    from zhengshou_analysis.figures.registry import definitions
    from zhengshou_analysis.forecast.gap import (
        NEW_AGREEMENT_BLOCK_MONTHS,
        NEW_AGREEMENT_WINDOW_MONTHS,
    )

    d = definitions(Policy(payment_term_days=45))
    assert f"最近{NEW_AGREEMENT_WINDOW_MONTHS}个完整月" in d["gap_p50_yuan"]
    assert f"连续{NEW_AGREEMENT_BLOCK_MONTHS}个月" in d["gap_p50_yuan"]
    assert "签约后45天" in d["gap_p50_yuan"] and "签约后45天" in d["stock_gap_p50_yuan"]
    assert "过渡安置费拖欠" in d["stock_gap_p50_yuan"]
