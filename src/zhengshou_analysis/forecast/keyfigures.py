"""The forecast figures of indicators.md, flat and JSON-ready (:func:`compute_forecast_figures`).

They go into ``key_figures.json`` and ``zhengshou figures`` (through
:func:`~zhengshou_analysis.figures.year.compute_year_figures`): the funding gap and fees of the
baseline, each scenario, the P50/P90 delivery date of every undelivered site and the assumptions
behind them. Seeded: the same tables, ``as_of`` and ``seed`` give the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..figures.keyfile import json_scalar, jsonable
from ..schemas import table_from
from ..settings import DEFAULT_ESCALATION, Escalation, resolve_as_of
from .blas import single_threaded_blas
from .common import DEFAULT_LAG_MONTHS, DEFAULT_N_PATHS
from .delivery import forecast_site_delivery
from .gap import forecast_funding_gap
from .scenarios import Scenario
from .survival import compute_delivery_survival

__all__ = ["compute_forecast_figures"]


def _yuan(v) -> float | None:
    return json_scalar(v, "yuan")


def _scenario_figures(row: pd.Series) -> dict[str, Any]:
    return {
        "description": row["description"],
        "gap_p50_yuan": _yuan(row["gap_p50_yuan"]),
        "gap_p90_yuan": _yuan(row["gap_p90_yuan"]),
        "prob_gap_closed": json_scalar(row["prob_gap_closed"], "ratio"),
        "transition_fee_next_12m_p50_yuan": _yuan(row["fee_p50_yuan"]),
        "transition_fee_next_12m_p90_yuan": _yuan(row["fee_p90_yuan"]),
        "inflow_p50_yuan": _yuan(row["inflow_p50_yuan"]),
        "inflow_p90_yuan": _yuan(row["inflow_p90_yuan"]),
    }


@single_threaded_blas()
def compute_forecast_figures(
    tables: Mapping[str, pd.DataFrame],
    *,
    year: int,
    as_of=None,
    horizon_months: int = 12,
    seed: int = 2021,
    n_paths: int = DEFAULT_N_PATHS,
    lag_months: int = DEFAULT_LAG_MONTHS,
    scenarios: Sequence[Scenario] | None = None,
    escalation: Escalation = DEFAULT_ESCALATION,
) -> dict[str, Any]:
    """The forecast figures of indicators.md, flat and JSON-ready, for ``key_figures.json``.

    Parameters
    ----------
    tables
        Canonical tables by name (a missing one is empty); not modified.
    year
        Reporting year (for the default ``as_of``).
    as_of
        Reporting date (default: 31 December of ``year``).
    horizon_months
        Horizon in months (default 12). The fee figures keep their spec names
        (``transition_fee_next_12m_*``) whatever the horizon; ``horizon_months`` says which.
    seed
        Seed: the same inputs and seed give identical figures.
    n_paths
        Simulated paths (default 10,000).
    lag_months
        Months a household stays in transition after its site is delivered (default 2).
    scenarios
        Scenarios side by side (default :data:`DEFAULT_SCENARIOS`); the headline is the baseline.
    escalation
        Overdue escalation of the transitional fee.

    Returns
    -------
    dict
        ``horizon_months``; ``gap_p50_yuan``, ``gap_p90_yuan`` (yuan, 0.01), ``prob_gap_closed``;
        ``transition_fee_next_12m_p50_yuan``, ``transition_fee_next_12m_p90_yuan``;
        ``site_delivery_p50_date`` and ``site_delivery_p90_date`` (``{site_id: ISO date}`` for
        every site not delivered by ``as_of``); ``forecast_scenarios`` (``{name: figures}``);
        ``forecast_fee_by_site`` and ``forecast_fee_by_zone`` (P50/P90/mean of the fees over the
        horizon, and per undelivered site the expected cost of one more month of delay);
        ``forecast_assumptions`` (models and why, back-test MASE, n_paths, seed, horizon, lag,
        escalation, scenarios, the data the forecast rests on, statements, and ``warning``: a
        plain-language warning when that is little, else ``None``). NA is ``None``.
    """
    as_of = resolve_as_of(as_of, year)
    gap = forecast_funding_gap(
        tables,
        as_of=as_of,
        horizon_months=horizon_months,
        n_paths=n_paths,
        seed=seed,
        lag_months=lag_months,
        scenarios=scenarios,
        escalation=escalation,
    )
    sites = table_from(tables, "sites")
    delivery = forecast_site_delivery(sites, as_of=as_of, horizon_months=int(horizon_months))
    survival = compute_delivery_survival(sites, as_of=as_of)
    s = gap.summary.set_index("scenario")
    base = s.loc["baseline"]
    d = delivery.summary
    by_site = {
        row["site_id"]: {
            "site_name": row["site_name"],
            "zone": row["zone"],
            "rule": row["rule"],
            "households": int(row["households"]),
            "fee_mean_yuan": _yuan(row["fee_mean_yuan"]),
            "fee_p50_yuan": _yuan(row["fee_p50_yuan"]),
            "fee_p90_yuan": _yuan(row["fee_p90_yuan"]),
            "delay_cost_month_yuan": _yuan(row["delay_cost_month_yuan"]),
        }
        for _, row in gap.frames["fees_by_site"].iterrows()
    }
    by_zone = {
        row["zone"]: {
            "households": int(row["households"]),
            "fee_mean_yuan": _yuan(row["fee_mean_yuan"]),
            "fee_p50_yuan": _yuan(row["fee_p50_yuan"]),
            "fee_p90_yuan": _yuan(row["fee_p90_yuan"]),
        }
        for _, row in gap.frames["fees_by_zone"].iterrows()
    }
    a = gap.assumptions
    assumptions = {
        **{k: a[k] for k in ("as_of", "horizon_months", "horizon_end", "n_paths", "seed")},
        **{k: a[k] for k in ("lag_months", "escalation_tiers", "scenario", "scenarios")},
        "gap_definition": a["gap_definition"],
        "gap_components": {k: _yuan(v) for k, v in a["gap_components"].items()},
        "inflow_model": {
            k: a["inflows"][k]
            for k in ("method", "spec", "why", "fallback_reason", "backtest_mase")
        }
        | {"backtest_holdout_months": a["inflows"]["backtest_holdout_months"]},
        "delivery_model": {
            "statement": delivery.assumptions["statement"],
            "tail": delivery.assumptions["tail"],
            "km_reaches_months": delivery.assumptions["km_reaches_months"],
            "median_statement": survival.assumptions["median_statement"],
            "logrank_statement": survival.assumptions["logrank"]["statement"],
            "cox_statement": survival.assumptions["cox"]["statement"],
            "independence": a["delivery"]["independence"],
        },
        "fee_rules": {k: a["fees"][k] for k in ("exit_rule", "fee_rule", "delay_cost")},
        "households_by_rule": a["fees"]["households_by_rule"],
        "data": a["data"],
        "warning": a["warning"],
    }
    return {
        "horizon_months": int(horizon_months),
        "gap_p50_yuan": _yuan(base["gap_p50_yuan"]),
        "gap_p90_yuan": _yuan(base["gap_p90_yuan"]),
        "prob_gap_closed": json_scalar(base["prob_gap_closed"], "ratio"),
        "transition_fee_next_12m_p50_yuan": _yuan(base["fee_p50_yuan"]),
        "transition_fee_next_12m_p90_yuan": _yuan(base["fee_p90_yuan"]),
        "site_delivery_p50_date": dict(
            zip(d["site_id"], map(json_scalar, d["p50_date"]), strict=True)
        ),
        "site_delivery_p90_date": dict(
            zip(d["site_id"], map(json_scalar, d["p90_date"]), strict=True)
        ),
        "forecast_scenarios": {name: _scenario_figures(row) for name, row in s.iterrows()},
        "forecast_fee_by_site": by_site,
        "forecast_fee_by_zone": by_zone,
        "forecast_assumptions": jsonable(assumptions),
    }
