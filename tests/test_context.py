"""The analysis context (figures/context.py): each table conformed once, each model fitted once."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import zhengshou_analysis.figures.sites as sites_module
from zhengshou_analysis import schemas
from zhengshou_analysis.figures import Analysis, age_band_labels, compute_year_figures
from zhengshou_analysis.figures.keyfile import key_figures_json
from zhengshou_analysis.settings import Escalation, Policy


@pytest.fixture
def conform_calls(monkeypatch) -> Counter:
    """Counts the full schema checks (not the cheap "already conformed" look-ups) per table."""
    calls: Counter = Counter()
    real = schemas._conform_frame

    def counting(df, name):
        calls[name] += 1
        return real(df, name)

    monkeypatch.setattr(schemas, "_conform_frame", counting)
    return calls


@pytest.fixture
def km_fits(monkeypatch) -> list[int]:
    fits: list[int] = []
    real = sites_module.fit_build_time_km

    def counting(status):
        fits.append(len(status))
        return real(status)

    for module in ("zhengshou_analysis.figures.sites", "zhengshou_analysis.figures.context"):
        monkeypatch.setattr(f"{module}.fit_build_time_km", counting)
    return fits


def test_one_year_of_indicator_figures_conforms_each_table_once(demo_ledgers, conform_calls):
    a = Analysis(demo_ledgers.tables, year=2021)
    a.key_figures(forecasts=False)
    a.records  # noqa: B018 - read again: cached
    assert conform_calls == Counter(dict.fromkeys(schemas.TABLES, 1))


def test_one_year_with_forecasts_conforms_each_table_once_and_fits_each_model_once(
    demo_ledgers, conform_calls, km_fits, monkeypatch
):
    from zhengshou_analysis.forecast import inflows, tail

    fits: Counter = Counter()
    for name, real in (
        ("fit_build_time_aft", tail.fit_build_time_aft),
        ("fit_inflow_model", inflows.fit_inflow_model),
    ):

        def counting(*args, _real=real, _name=name, **kwargs):
            fits[_name] += 1
            return _real(*args, **kwargs)

        for module in list(sys.modules.values()):  # every module that holds the function
            ours = getattr(module, "__name__", "").startswith("zhengshou_analysis")
            if ours and getattr(module, name, None) is real:
                monkeypatch.setattr(module, name, counting)
    compute_year_figures(demo_ledgers.tables, year=2021)
    assert conform_calls == Counter(dict.fromkeys(schemas.TABLES, 1))
    # one context per date: the year's own, and one per reviewed origin (2019 and 2020 year-ends;
    # the previous run, 2020, is one of them and not made again)
    dates = 3
    assert len(km_fits) == dates
    # per date: the inflow model once; the delivery model once per AFT family (used + two beside)
    assert fits == Counter({"fit_inflow_model": dates, "fit_build_time_aft": 3 * dates})


def test_a_page_and_the_key_figures_share_one_context(demo_ledgers, km_fits):
    a = Analysis(demo_ledgers.tables, year=2021)
    a.key_figures()
    after_key_figures = len(km_fits)  # the year's own curve and one per reviewed origin
    a.delivery_forecast, a.survival, a.gap, a.fee_forecast, a.inflows, a.review  # noqa: B018
    a.previous_forecast  # noqa: B018 - the review made it
    assert len(km_fits) == after_key_figures == 1 + len(a.review.origins)


def test_the_context_never_modifies_its_input(demo_ledgers):
    before = {name: df.copy() for name, df in demo_ledgers.tables.items()}
    attrs = {name: dict(df.attrs) for name, df in demo_ledgers.tables.items()}
    Analysis(demo_ledgers.tables, year=2021).key_figures(forecasts=False)
    for name, df in demo_ledgers.tables.items():
        pd.testing.assert_frame_equal(df, before[name])
        assert df.attrs == attrs[name]


def test_a_conformed_frame_changed_afterwards_is_checked_again(demo_ledgers, conform_calls):
    a = Analysis(demo_ledgers.tables, year=2021)
    payments = a.tables["payments"].assign(
        amount_yuan=a.tables["payments"]["amount_yuan"].astype(str)
    )
    assert payments.attrs.get(schemas.CONFORMED_ATTR) == "payments"  # the mark survived
    again = schemas.conform_table(payments, "payments")
    assert conform_calls["payments"] == 2  # the dtype guard sent it through the full check
    assert pd.api.types.is_numeric_dtype(again["amount_yuan"])


def test_the_same_inputs_give_the_same_bytes(demo_ledgers):
    a = key_figures_json(Analysis(demo_ledgers.tables, year=2020).key_figures())
    b = key_figures_json(compute_year_figures(demo_ledgers.tables, year=2020))
    assert a == b


def test_the_policy_reaches_every_figure_that_uses_it(demo_ledgers):
    policy = Policy(age_bands_months=(0, 1, 24), escalation=Escalation(((1, 3.0),)))
    base = Analysis(demo_ledgers.tables, year=2021).key_figures(forecasts=False)
    strict = Analysis(demo_ledgers.tables, year=2021, policy=policy).key_figures(forecasts=False)
    assert list(strict["overdue_unpaid_by_age"]) == age_band_labels((0, 1, 24))
    assert sum(strict["overdue_unpaid_by_age"].values()) == pytest.approx(
        strict["overdue_unpaid_yuan"]
    )
    assert strict["parameters"]["age_bands_months"] == [0.0, 1.0, 24.0]
    assert strict["parameters"]["escalation_tiers"] == [[1, 3.0]]
    # a steeper escalation raises the fees of late sites, and only those
    assert strict["transition_fee_overdue_extra_yuan"] > base["transition_fee_overdue_extra_yuan"]
    assert strict["transition_fee_accrued_yuan"] > base["transition_fee_accrued_yuan"]
    assert strict["unpaid_gap_yuan"] == base["unpaid_gap_yuan"]


def test_the_payment_term_decides_where_the_ledger_states_no_due_date(demo_ledgers):
    """The 2021–2022 agreements workbook of the demo has no 支付期限 column: the policy decides."""
    a = demo_ledgers.tables["agreements"]
    assert a["payment_due_date"].isna().any()  # the cleaner keeps the ledger's NA
    k30 = Analysis(demo_ledgers.tables, year=2022).key_figures(forecasts=False)
    k180 = Analysis(
        demo_ledgers.tables, year=2022, policy=Policy(payment_term_days=180)
    ).key_figures(forecasts=False)
    assert k30["parameters"]["payment_term_days_applied_to"] > 0
    assert k180["overdue_unpaid_yuan"] < k30["overdue_unpaid_yuan"]
    assert k180["unpaid_gap_yuan"] == k30["unpaid_gap_yuan"]


def test_an_office_profile_changes_the_figures_it_governs(demo_ledgers, tmp_path):
    """A profile of 60 days' payment term and steeper escalation tiers, as an office writes it."""
    from zhengshou_analysis.figures import compute_year_figures
    from zhengshou_analysis.profile import load_profile

    path = tmp_path / "zhengshou.toml"
    path.write_text(
        '[office]\nname = "港北区"\n[policy]\npayment_term_days = 60\n'
        "escalation = [[1, 2.0], [7, 3.0]]\n[forecast]\nhorizon_months = 6\nseed = 7\n",
        encoding="utf-8",
    )
    profile = load_profile(path)
    base = compute_year_figures(demo_ledgers.tables, year=2022)
    office = compute_year_figures(demo_ledgers.tables, year=2022, profile=profile)
    assert office["parameters"]["payment_term_days"] == 60
    assert office["overdue_unpaid_yuan"] < base["overdue_unpaid_yuan"]  # later due dates
    assert office["transition_fee_overdue_extra_yuan"] > base["transition_fee_overdue_extra_yuan"]
    assert office["horizon_months"] == 6
    assert office["forecast_assumptions"]["seed"] == 7
    assert office["unpaid_gap_yuan"] == base["unpaid_gap_yuan"]  # not governed by the policy


def test_at_gives_the_same_settings_earlier_and_none_without_rows(small_ledgers):
    import pytest

    from zhengshou_analysis.figures import Analysis

    a = Analysis(small_ledgers.tables, year=2021, as_of="2021-06-30", horizon_months=6, seed=7)
    may = a.at("2021-05-31")
    assert (may.year, may.as_of, may.seed, may.horizon_months) == (
        2021,
        pd.Timestamp("2021-05-31"),
        7,
        6,
    )
    assert may.key_figures(forecasts=False) == Analysis(
        small_ledgers.tables, year=2021, as_of="2021-05-31"
    ).key_figures(forecasts=False)
    assert a.at("2019-12-31") is None  # these ledgers have no row in 2019
    with pytest.raises(ValueError, match="after"):
        a.at("2021-07-31")


def test_the_forecasts_come_among_the_indicator_figures_and_each_call_gets_its_own_copy(
    small_ledgers,
):
    from zhengshou_analysis.figures.registry import BREAKDOWNS, FIGURES

    a = Analysis(small_ledgers.tables, year=2021, n_paths=200)
    indicators = a.key_figures(forecasts=False)
    full = a.key_figures(forecasts=True)
    forecast = {f.name for f in [*FIGURES, *BREAKDOWNS] if f.section == "forecast"}
    forecast |= {"horizon_months", "forecast_assumptions", "calibration"}
    assert forecast <= set(full)
    assert list(indicators) == [k for k in full if k not in forecast]  # same order
    assert indicators == {k: v for k, v in full.items() if k not in forecast}
    grouped = next(f.name for f in FIGURES if f.group is not None and f.section != "forecast")
    indicators[grouped]["changed"] = 1
    full["parameters"].clear()
    again = a.key_figures(forecasts=False)
    assert "changed" not in again[grouped]
    assert again["parameters"]


_DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def test_the_year_before_is_read_from_the_store_its_own_report_filled(tmp_path):
    from zhengshou_analysis.figures import keyfile
    from zhengshou_analysis.figures.modelstore import using_store
    from zhengshou_analysis.report.session import load_report

    with using_store(tmp_path):
        before = load_report(_DEMO, year=2020).figures
        rep = load_report(_DEMO, year=2021)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(keyfile, "indicator_key_figures", lambda a: pytest.fail("assembled again"))
            assert rep.figures_prev == before
    assert load_report(_DEMO, year=2021).figures_prev == before  # the same without a store
