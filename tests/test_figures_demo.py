"""`zhengshou figures` on the demo agrees with an independent computation, for every demo year.

The oracle below is written from the text of indicators.md alone, deliberately naive: plain Python
loops over rows and over fee months, no pandas group-bys and no closed forms, so that it shares no
code path with :mod:`zhengshou_analysis.figures.year.indicators`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from zhengshou_analysis.cli import main

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
YEARS = [2019, 2020, 2021, 2022]


#: The built-in policy's payment term (days), written here again on purpose (an oracle).
PAYMENT_TERM_DAYS = 30


def _d(x) -> dt.date | None:
    return None if pd.isna(x) else pd.Timestamp(x).date()


def months_between(a: dt.date, b: dt.date) -> int:
    n = 12 * (b.year - a.year) + (b.month - a.month) + (1 if b.day >= a.day else 0)
    return max(n, 0)


def multiplier(j: int) -> float:
    return 1.0 if j <= 0 else (1.5 if j <= 12 else 2.0)


def oracle(t: dict[str, pd.DataFrame], year: int) -> dict:
    as_of = dt.date(year, 12, 31)
    out: dict = {}

    # progress
    rows = [r for r in t["projects"].itertuples() if r.year == year]
    out["projects_count"] = len({r.project_id for r in rows})
    for c in ("land_target_mu", "land_done_mu", "house_target_m2", "house_done_m2"):
        out[c] = sum(0.0 if pd.isna(getattr(r, c)) else getattr(r, c) for r in rows)
    out["land_completion_rate"] = (
        out["land_done_mu"] / out["land_target_mu"] if out["land_target_mu"] else None
    )
    blocked: dict[str, float] = {}
    for r in rows:
        if not pd.isna(r.blocker) and not pd.isna(r.blocked_mu):
            blocked[r.blocker] = blocked.get(r.blocker, 0.0) + r.blocked_mu
    out["blocked_mu_by_blocker"] = blocked

    # funding
    signed = {r.agreement_id: r for r in t["agreements"].itertuples() if _d(r.signed_date) <= as_of}
    paid: dict[str, float] = {}
    total_paid = 0.0
    fee_paid_by_household: dict[str, float] = {}
    fee_paid = 0.0
    for p in t["payments"].itertuples():
        if _d(p.date) > as_of:
            continue
        total_paid += p.amount_yuan
        if p.kind == "补偿款" and p.agreement_id in signed:
            paid[p.agreement_id] = paid.get(p.agreement_id, 0.0) + p.amount_yuan
        if p.kind == "过渡安置费":
            fee_paid += p.amount_yuan
            if not pd.isna(p.agreement_id):
                fee_paid_by_household[p.agreement_id] = (
                    fee_paid_by_household.get(p.agreement_id, 0.0) + p.amount_yuan
                )
    out["signed_agreements_yuan"] = sum(a.compensation_yuan for a in signed.values())
    out["paid_compensation_yuan"] = sum(paid.values())
    gap = overdue = 0.0
    bands = {"0-3": 0.0, "3-6": 0.0, "6-12": 0.0, "12+": 0.0}
    for aid, a in signed.items():
        unpaid = max(a.compensation_yuan - paid.get(aid, 0.0), 0.0)
        gap += unpaid
        # the office's policy (default: 30 days) where the ledger states no due date
        due = _d(a.payment_due_date) or _d(a.signed_date) + dt.timedelta(days=PAYMENT_TERM_DAYS)
        if due < as_of:
            overdue += unpaid
            age = (as_of - due).days / 30.4375
            key = "0-3" if age < 3 else "3-6" if age < 6 else "6-12" if age < 12 else "12+"
            bands[key] += unpaid
    out["unpaid_gap_yuan"] = gap
    out["overdue_unpaid_yuan"] = overdue
    out["overdue_unpaid_by_age"] = bands
    out["funds_received_yuan"] = sum(
        f.amount_yuan for f in t["funding"].itertuples() if _d(f.date) <= as_of
    )
    out["total_paid_yuan"] = total_paid
    out["cash_balance_yuan"] = out["funds_received_yuan"] - total_paid

    # transitional fees, month by month
    sites = {s.site_id: s for s in t["sites"].itertuples()}
    accrued_total = extra_total = arrears = monthly = 0.0
    active = waiting = 0
    for h in t["transition"].itertuples():
        start = _d(h.start_date)
        if start > as_of:
            continue
        end_date = _d(h.end_date)
        end = as_of if end_date is None or end_date > as_of else end_date
        k_max = months_between(start, end)
        base = (
            h.fee_rate_yuan
            * {"per_m2": h.area_m2, "per_person": h.persons, "per_household": 1}[h.fee_basis]
        )
        agreed = h.agreed_months
        if pd.isna(agreed):  # not stated: from the site's promised date (docs/indicators.md)
            agreed = months_between(start, _d(sites[h.site_id].promised_date))
        accrued = extra = 0.0
        for k in range(1, k_max + 1):
            m = multiplier(k - agreed)
            accrued += base * m
            extra += base * (m - 1)
        accrued_total += accrued
        extra_total += extra
        arrears += max(accrued - fee_paid_by_household.get(h.agreement_id, 0.0), 0.0)
        if end_date is None or end_date > as_of:
            active += 1
            monthly += base * multiplier(k_max + 1 - agreed)
            site = sites.get(h.site_id)
            delivered = None if site is None else _d(site.delivered_date)
            if delivered is None or delivered > as_of:
                waiting += 1
    out["transition_households_active"] = active
    out["transition_fee_accrued_yuan"] = accrued_total
    out["transition_fee_paid_yuan"] = fee_paid
    out["transition_fee_arrears_yuan"] = arrears
    out["transition_fee_overdue_extra_yuan"] = extra_total
    out["transition_fee_monthly_yuan"] = monthly
    out["funds_in_place_ratio"] = out["funds_received_yuan"] / (
        out["signed_agreements_yuan"] + accrued_total
    )

    # resettlement sites
    three_years_ago = (pd.Timestamp(as_of) - pd.DateOffset(months=36)).date()
    started = [s for s in t["sites"].itertuples() if _d(s.start_date) <= as_of]
    delivered_by = [s for s in started if _d(s.delivered_date) and _d(s.delivered_date) <= as_of]
    out["sites_total"] = len(started)
    out["sites_delivered"] = len(delivered_by)
    out["sites_overdue"] = sum(
        1 for s in started if _d(s.promised_date) < as_of and s not in delivered_by
    )
    out["sites_over_3_years"] = sum(
        1 for s in started if s not in delivered_by and _d(s.start_date) <= three_years_ago
    )
    out["households_waiting"] = waiting
    # Kaplan–Meier by hand: durations in average months, undelivered sites censored at as_of
    obs = []
    for s in started:
        event = s in delivered_by
        stop = _d(s.delivered_date) if event else as_of
        obs.append(((stop - _d(s.start_date)).days / 30.4375, event))
    surv, median = 1.0, None
    for time in sorted({o[0] for o in obs if o[1]}):
        at_risk = sum(1 for o in obs if o[0] >= time)
        events = sum(1 for o in obs if o[0] == time and o[1])
        surv *= 1 - events / at_risk
        if surv <= 0.5:
            median = time
            break
    out["median_build_months"] = median
    return out


@pytest.fixture(scope="module")
def tables(demo_ledgers):
    return demo_ledgers.tables


def _close(a, b, path=""):
    if isinstance(b, dict):
        assert set(a) >= {k for k, v in b.items() if v}, path
        for k, v in b.items():
            _close(a.get(k, 0.0), v, f"{path}.{k}")
    elif b is None:
        assert a is None, path
    else:
        assert a is not None, path
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=0.02), (path, a, b)


@pytest.mark.parametrize("year", YEARS)
def test_figures_command_agrees_with_the_oracle(year, tables, capsys):
    assert main(["figures", str(DEMO), "--year", str(year)]) == 0
    got = json.loads(capsys.readouterr().out)
    want = oracle(tables, year)
    assert got["year"] == year and got["as_of"] == f"{year}-12-31"
    for name, value in want.items():
        _close(got[name], value, name)
    # the demo is built so that the office's problems really show
    assert got["unpaid_gap_yuan"] > 0 and got["transition_fee_arrears_yuan"] > 0
    assert got["sites_over_3_years"] >= 1 or year < 2020


def test_oracle_months_between_matches_the_spec_examples():
    a = dt.date(2021, 3, 15)
    assert [months_between(a, b) for b in (a, dt.date(2021, 4, 14), dt.date(2021, 4, 15))] == [
        1,
        1,
        2,
    ]
