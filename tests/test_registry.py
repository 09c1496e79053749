"""The figure registry (figures/registry.py): one declaration per figure, everything derived from it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from zhengshou_analysis.figures import (
    BREAKDOWNS,
    FIGURES,
    compute_key_figures,
    compute_year_figures,
    definitions,
    figure,
)
from zhengshou_analysis.figures import registry as registry_module
from zhengshou_analysis.figures.registry import render_indicators_doc
from zhengshou_analysis.report.session import definitions as appendix
from zhengshou_analysis.report.session import headline_figures
from zhengshou_analysis.schemas import empty_table
from zhengshou_analysis.settings import Escalation, Policy

ROOT = Path(__file__).resolve().parents[1]
REGISTRY_SOURCE = Path(inspect.getsourcefile(registry_module)).read_text(encoding="utf-8")
#: Keys of key_figures.json that are not figures or breakdowns: the run's metadata.
METADATA = {
    "year",
    "as_of",
    "missing_ledgers",
    "parameters",
    "horizon_months",
    "forecast_assumptions",
    "calibration",
}


def test_indicators_doc_is_generated_from_the_registry():
    committed = (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    assert committed == render_indicators_doc(), (
        "run: zhengshou indicators-doc --out docs/indicators.md"
    )


def test_names_are_unique_and_carry_their_unit():
    names = [f.name for f in FIGURES] + [b.name for b in BREAKDOWNS]
    assert len(names) == len(set(names))
    suffix = {"yuan": "_yuan", "mu": "_mu", "m2": "_m2", "month": "_months"}
    for f in FIGURES:
        if f.unit in suffix and f.group is None:
            assert suffix[f.unit] in f.name, f.name


@pytest.mark.parametrize("fig", FIGURES, ids=lambda f: f.name)
def test_one_grep_of_a_name_lands_on_its_declaration(fig):
    """The name is written literally, once, in the registry, and its builder is a named function."""
    declared = rf'(?:Figure|_progress_sum|_na_count)\(\s*"{fig.name}"'
    assert len(re.findall(declared, REGISTRY_SOURCE)) == 1
    module = inspect.getmodule(fig.build)
    assert module.__name__.startswith("zhengshou_analysis.figures.")
    assert getattr(module, fig.build.__name__) is fig.build
    assert fig.build.__doc__, f"the builder of {fig.name} says what it builds"


def test_key_figures_hold_exactly_the_registry(demo_ledgers):
    kf = compute_year_figures(demo_ledgers.tables, year=2021)
    declared = {f.name for f in FIGURES} | {b.name for b in BREAKDOWNS}
    assert set(kf) == declared | METADATA
    for f in FIGURES:
        if f.group is not None:
            assert isinstance(kf[f.name], dict), f.name


def test_indicator_figures_alone_leave_the_forecasts_out(demo_ledgers):
    kf = compute_key_figures(demo_ledgers.tables, year=2021)
    forecast = {f.name for f in FIGURES if f.section == "forecast"}
    forecast |= {b.name for b in BREAKDOWNS if b.section == "forecast"}
    assert not forecast & set(kf)
    assert {f.name for f in FIGURES if f.section != "forecast"} <= set(kf)


@pytest.mark.parametrize("ledger", ["projects", "agreements", "funding", "sites", "transition"])
def test_a_missing_ledger_nulls_exactly_the_figures_that_need_it(demo_ledgers, ledger):
    tables = dict(demo_ledgers.tables, **{ledger: empty_table(ledger)})
    kf = compute_key_figures(tables, year=2021)
    for f in FIGURES:
        if f.section == "forecast":
            continue
        values = list(kf[f.name].values()) if f.group else [kf[f.name]]
        if ledger in f.needs:
            assert all(v is None for v in values), f.name
    assert kf["missing_ledgers"] == [ledger]
    assert kf["total_paid_yuan"] is not None  # needs no ledger but payments


def test_definitions_carry_the_policy():
    policy = Policy(
        payment_term_days=45,
        escalation=Escalation(((1, 1.2), (7, 3.0))),
        default_transition_months=18,
        age_bands_months=(0, 6, 24),
    )
    d = definitions(policy)
    assert set(d) == {f.name for f in FIGURES}
    assert "按签约日期后45天计" in d["overdue_unpaid_yuan"]
    assert "第1–6个逾期月×1.2、第7个逾期月起×3" in d["transition_fee_accrued_yuan"]
    assert "仍缺失的按18个月计" in d["transition_fee_accrued_yuan"]
    assert "不足6个月、6至24个月、24个月以上" in d["overdue_unpaid_by_age"]
    assert not any("{" in text for text in d.values())  # every field filled


def test_headline_and_appendix_come_from_the_registry():
    heads = headline_figures()
    assert [f.name for f in heads] == [f.name for f in FIGURES if f.headline]
    assert figure("funds_in_place_ratio").label_with_unit == "资金到位率"
    assert figure("signed_agreements_yuan").label_with_unit == "累计签约补偿金额（万元）"
    assert figure("transition_households_active").label_with_unit == "在外过渡户数（户）"
    items = appendix()
    assert len(items) == len(FIGURES)
    assert items[0][0] == "推进项目（个）"  # the reader sees no key (issue 14)


def test_unknown_figure_names_the_registry():
    with pytest.raises(KeyError, match="FIGURES"):
        figure("no_such_figure")
