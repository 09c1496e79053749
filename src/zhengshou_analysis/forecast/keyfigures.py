"""The forecast figures of docs/indicators.md, flat and JSON-ready (:func:`compute_forecast_figures`).

They go into ``key_figures.json`` and ``zhengshou figures`` (through
:func:`~zhengshou_analysis.figures.year.compute_year_figures`): the funding gap and fees of the
baseline, each scenario, the P50/P90 delivery date of every undelivered site and the assumptions
behind them. Seeded: the same tables, ``as_of`` and ``seed`` give the same figures.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..exceptions import ParameterError
from ..figures.common import json_scalar, jsonable
from ..figures.sites import BuildTimeKM
from ..results import ForecastResult
from ..schemas import table_from
from ..settings import DEFAULT_ESCALATION, DEFAULT_PAYMENT_TERM_DAYS, Escalation, resolve_as_of
from .blas import single_threaded_blas
from .common import DEFAULT_LAG_MONTHS, DEFAULT_N_PATHS, DateLike, site_status_and_km
from .delivery import DeliveryModel, fit_delivery_model, forecast_site_delivery
from .gap import forecast_funding_gap
from .inflows import InflowModel
from .scenarios import Scenario
from .survival import compute_delivery_survival

__all__ = ["compute_forecast_figures", "flatten_forecast_figures"]

log = logging.getLogger(__name__)


def _yuan(v) -> float | None:
    return json_scalar(v, "yuan")


def _scenario_figures(row: pd.Series) -> dict[str, Any]:
    return {
        "description": row["description"],
        "gap_p50_yuan": _yuan(row["gap_p50_yuan"]),
        "gap_p90_yuan": _yuan(row["gap_p90_yuan"]),
        "prob_gap_closed": json_scalar(row["prob_gap_closed"], "ratio"),
        "stock_gap_p50_yuan": _yuan(row["stock_gap_p50_yuan"]),
        "stock_gap_p90_yuan": _yuan(row["stock_gap_p90_yuan"]),
        "prob_stock_gap_closed": json_scalar(row["prob_stock_gap_closed"], "ratio"),
        "new_obligations_due_p50_yuan": _yuan(row["new_obligations_due_p50_yuan"]),
        "new_obligations_due_p90_yuan": _yuan(row["new_obligations_due_p90_yuan"]),
        "fee_arrears_yuan": _yuan(row["fee_arrears_yuan"]),
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
    as_of: DateLike | None = None,
    horizon_months: int = 12,
    seed: int = 2021,
    n_paths: int = DEFAULT_N_PATHS,
    lag_months: int = DEFAULT_LAG_MONTHS,
    scenarios: Sequence[Scenario] | None = None,
    escalation: Escalation = DEFAULT_ESCALATION,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
    status: pd.DataFrame | None = None,
    km: BuildTimeKM | None = None,
    delivery: DeliveryModel | None = None,
    delivery_forecast: ForecastResult | None = None,
    survival: ForecastResult | None = None,
    inflows: ForecastResult | InflowModel | None = None,
    balances: pd.DataFrame | None = None,
    transition_fees: pd.DataFrame | None = None,
    gap: ForecastResult | None = None,
) -> dict[str, Any]:
    """The forecast figures of docs/indicators.md, flat and JSON-ready, for ``key_figures.json``.

    Parameters
    ----------
    tables
        Canonical tables by name (a missing one is empty); not modified.
    year
        Reporting year (for the default ``as_of``).
    as_of
        Reporting date (default: 31 December of ``year``).
    horizon_months
        Horizon in months (default 12). The fee figures keep their registry names
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
    payment_term_days
        The policy's payment term (days after signing where the ledger has no due date), for
        the agreement balances when ``balances`` is not given.
    status, km
        Pre-computed :func:`~zhengshou_analysis.figures.sites.compute_site_status` of the
        ``sites`` table at ``as_of`` and its
        :func:`~zhengshou_analysis.figures.sites.fit_build_time_km`.
    delivery
        Pre-fitted :func:`~zhengshou_analysis.forecast.delivery.fit_delivery_model` at ``as_of``.
    delivery_forecast
        Pre-computed :func:`~zhengshou_analysis.forecast.delivery.forecast_site_delivery` at
        ``as_of``.
    survival
        Pre-computed :func:`~zhengshou_analysis.forecast.survival.compute_delivery_survival` at
        ``as_of``.
    inflows
        :func:`~zhengshou_analysis.forecast.inflows.forecast_inflows` result (same ``as_of``,
        horizon, ``n_paths``, ``seed``) or a pre-fitted
        :func:`~zhengshou_analysis.forecast.inflows.fit_inflow_model`.
    balances, transition_fees
        Pre-computed :func:`~zhengshou_analysis.figures.funding.compute_agreement_balances`
        and :func:`~zhengshou_analysis.figures.fees.compute_transition_fees` (with ``sites``
        and the same ``escalation``) at ``as_of``.
    gap
        Pre-computed :func:`~zhengshou_analysis.forecast.gap.forecast_funding_gap` with the same
        ``as_of``, horizon, ``n_paths``, ``seed``, ``lag_months``, scenarios and escalation.

        Every pre-fitted input is optional: what is not given is computed here, each model fitted
        once and shared (the site status and KM curve feed both the delivery model and the
        survival analysis; the delivery model feeds both the gap and the delivery forecast). What
        is given is used as is, and the figures are identical to computing it here.

    Returns
    -------
    dict
        ``horizon_months``; ``gap_p50_yuan``, ``gap_p90_yuan`` (yuan, 0.01), ``prob_gap_closed``
        (the full gap); ``stock_gap_p50_yuan``, ``stock_gap_p90_yuan``, ``prob_stock_gap_closed``
        (the stock gap, only the obligations existing at ``as_of``);
        ``transition_fee_next_12m_p50_yuan``, ``transition_fee_next_12m_p90_yuan``;
        ``site_delivery_p50_date`` and ``site_delivery_p90_date`` (``{site_id: ISO date}`` for
        every site not delivered by ``as_of``); ``forecast_scenarios`` (``{name: figures}``);
        ``forecast_fee_by_site`` and ``forecast_fee_by_zone`` (mean/P10/P50/P90 of the fees over
        the horizon, ``prob_pays_whole_horizon``, and per undelivered site the expected cost of
        one more month of delay);
        ``forecast_assumptions`` (models and why, back-test MASE, n_paths, seed, horizon, lag,
        escalation, scenarios, the data the forecast rests on, statements, and ``warning``: a
        plain-language warning when that is little, else ``None``). NA is ``None``.

    Raises
    ------
    ParameterError
        When an argument is out of range, or a pre-computed result belongs to another ``as_of``,
        horizon, ``n_paths``, ``seed`` or ``lag_months``.
    """
    as_of_ts = resolve_as_of(as_of, year)
    settings = _Settings(
        as_of=as_of_ts,
        horizon_months=int(horizon_months),
        seed=seed,
        n_paths=n_paths,
        lag_months=lag_months,
        scenarios=scenarios,
        escalation=escalation,
        payment_term_days=payment_term_days,
    )
    _check_given(settings, gap=gap, delivery_forecast=delivery_forecast, survival=survival)
    given = {
        "status": status,
        "km": km,
        "delivery": delivery,
        "delivery_forecast": delivery_forecast,
        "survival": survival,
        "inflows": inflows,
        "balances": balances,
        "transition_fees": transition_fees,
        "gap": gap,
    }
    log.debug(
        "forecast figures at %s: given %s, the rest fitted here",
        as_of_ts.date(),
        sorted(k for k, v in given.items() if v is not None) or "nothing",
    )
    sites = table_from(tables, "sites")
    if delivery is None and (gap is None or delivery_forecast is None):
        status, km = site_status_and_km(sites, as_of=as_of_ts, status=status, km=km)
        delivery = fit_delivery_model(sites, as_of=as_of_ts, status=status, km=km)
    if gap is None:
        gap = _funding_gap(tables, settings, delivery, inflows, balances, transition_fees)
    if delivery_forecast is None:
        delivery_forecast = forecast_site_delivery(
            sites, as_of=as_of_ts, horizon_months=settings.horizon_months, model=delivery
        )
    if survival is None:
        survival = compute_delivery_survival(sites, as_of=as_of_ts, status=status, km=km)
    return flatten_forecast_figures(
        gap, delivery_forecast, survival, horizon_months=settings.horizon_months
    )


@dataclass(frozen=True)
class _Settings:
    """The simulation settings of one call of :func:`compute_forecast_figures`."""

    as_of: pd.Timestamp
    horizon_months: int
    seed: int
    n_paths: int
    lag_months: int
    scenarios: Sequence[Scenario] | None
    escalation: Escalation
    payment_term_days: int


def _check_given(
    settings: _Settings,
    *,
    gap: ForecastResult | None,
    delivery_forecast: ForecastResult | None,
    survival: ForecastResult | None,
) -> None:
    """Raise when a pre-computed result was computed at other settings than these."""
    day = settings.as_of.date().isoformat()
    for name, result in (("gap", gap), ("delivery_forecast", delivery_forecast)):
        if result is not None and result.assumptions.get("as_of") != day:
            raise ParameterError(f"{name} was computed at another as_of than {day}")
    if survival is not None and survival.assumptions.get("as_of") != day:
        raise ParameterError(f"survival was computed at another as_of than {day}")
    if gap is None:
        return
    a = gap.assumptions
    expected = {
        "horizon_months": settings.horizon_months,
        "n_paths": int(settings.n_paths),
        "seed": int(settings.seed),
        "lag_months": int(settings.lag_months),
    }
    differ = {k: (a.get(k), v) for k, v in expected.items() if a.get(k) != v}
    if differ:
        raise ParameterError(f"gap was computed with other settings (given, expected): {differ}")


def _funding_gap(
    tables: Mapping[str, pd.DataFrame],
    settings: _Settings,
    delivery: DeliveryModel | None,
    inflows: ForecastResult | InflowModel | None,
    balances: pd.DataFrame | None,
    transition_fees: pd.DataFrame | None,
) -> ForecastResult:
    return forecast_funding_gap(
        tables,
        as_of=settings.as_of,
        horizon_months=settings.horizon_months,
        n_paths=settings.n_paths,
        seed=settings.seed,
        lag_months=settings.lag_months,
        scenarios=settings.scenarios,
        escalation=settings.escalation,
        payment_term_days=settings.payment_term_days,
        delivery=delivery,
        inflows=inflows,
        balances=balances,
        transition_fees=transition_fees,
    )


def flatten_forecast_figures(
    gap: ForecastResult,
    delivery_forecast: ForecastResult,
    survival: ForecastResult,
    *,
    horizon_months: int,
) -> dict[str, Any]:
    """The forecast figures from the three results they come from (see :func:`compute_forecast_figures`).

    Parameters
    ----------
    gap
        :func:`~zhengshou_analysis.forecast.gap.forecast_funding_gap` (with a ``baseline``).
    delivery_forecast
        :func:`~zhengshou_analysis.forecast.delivery.forecast_site_delivery`.
    survival
        :func:`~zhengshou_analysis.forecast.survival.compute_delivery_survival`.
    horizon_months
        The horizon of ``gap`` (months).

    Returns
    -------
    dict
        The flat, JSON-ready figures: yuan rounded to 0.01, ratios as the key file writes them,
        dates as ISO strings, NA as ``None``.
    """
    s = gap.summary.set_index("scenario")
    base = s.loc["baseline"]
    d = delivery_forecast.summary
    return {
        "horizon_months": int(horizon_months),
        "gap_p50_yuan": _yuan(base["gap_p50_yuan"]),
        "gap_p90_yuan": _yuan(base["gap_p90_yuan"]),
        "prob_gap_closed": json_scalar(base["prob_gap_closed"], "ratio"),
        "stock_gap_p50_yuan": _yuan(base["stock_gap_p50_yuan"]),
        "stock_gap_p90_yuan": _yuan(base["stock_gap_p90_yuan"]),
        "prob_stock_gap_closed": json_scalar(base["prob_stock_gap_closed"], "ratio"),
        "transition_fee_next_12m_p50_yuan": _yuan(base["fee_p50_yuan"]),
        "transition_fee_next_12m_p90_yuan": _yuan(base["fee_p90_yuan"]),
        "site_delivery_p50_date": _site_dates(d, "p50_date"),
        "site_delivery_p90_date": _site_dates(d, "p90_date"),
        "site_delivery_prob_in_horizon": dict(
            zip(
                d["site_id"],
                (json_scalar(v, "ratio") for v in d["prob_delivered_in_horizon"]),
                strict=True,
            )
        ),
        "forecast_scenarios": {name: _scenario_figures(row) for name, row in s.iterrows()},
        "forecast_fee_by_site": _fee_by_site(gap.frames["fees_by_site"]),
        "forecast_fee_by_zone": _fee_by_zone(gap.frames["fees_by_zone"]),
        "forecast_assumptions": jsonable(
            _assumption_figures(
                gap.assumptions, delivery_forecast.assumptions, survival.assumptions
            )
        ),
    }


def _site_dates(d: pd.DataFrame, column: str) -> dict[str, Any]:
    return dict(zip(d["site_id"], map(json_scalar, d[column]), strict=True))


def _fee_by_site(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {
        row["site_id"]: {
            "site_name": row["site_name"],
            "zone": row["zone"],
            "rule": row["rule"],
            "households": int(row["households"]),
            "fee_mean_yuan": _yuan(row["fee_mean_yuan"]),
            "fee_p10_yuan": _yuan(row["fee_p10_yuan"]),
            "fee_p50_yuan": _yuan(row["fee_p50_yuan"]),
            "fee_p90_yuan": _yuan(row["fee_p90_yuan"]),
            "prob_pays_whole_horizon": json_scalar(row["prob_pays_whole_horizon"], "ratio"),
            "delay_cost_month_yuan": _yuan(row["delay_cost_month_yuan"]),
        }
        for _, row in frame.iterrows()
    }


def _fee_by_zone(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {
        row["zone"]: {
            "households": int(row["households"]),
            "fee_mean_yuan": _yuan(row["fee_mean_yuan"]),
            "fee_p10_yuan": _yuan(row["fee_p10_yuan"]),
            "fee_p50_yuan": _yuan(row["fee_p50_yuan"]),
            "fee_p90_yuan": _yuan(row["fee_p90_yuan"]),
            "prob_pays_whole_horizon": json_scalar(row["prob_pays_whole_horizon"], "ratio"),
        }
        for _, row in frame.iterrows()
    }


def _assumption_figures(
    a: Mapping[str, Any], delivery: Mapping[str, Any], survival: Mapping[str, Any]
) -> dict[str, Any]:
    """``forecast_assumptions``: the gap's assumptions, trimmed, with the delivery statements."""
    return {
        **{k: a[k] for k in ("as_of", "horizon_months", "horizon_end", "n_paths", "seed")},
        **{k: a[k] for k in ("lag_months", "escalation_tiers", "scenario", "scenarios")},
        "stock_gap_definition": a["stock_gap_definition"],
        "gap_definition": a["gap_definition"],
        "gap_components": {k: _yuan(v) for k, v in a["gap_components"].items()},
        "new_agreements": a["new_agreements"],
        "inflow_model": {
            k: a["inflows"][k]
            for k in (
                "method",
                "spec",
                "why",
                "fallback_reason",
                "backtest_mase",
                "backtest_holdout_months",
                "n_origins",
                "selection_mase_out_of_sample",
            )
        },
        "delivery_model": {
            "statement": delivery["statement"],
            "tail": delivery["tail"],
            "km_reaches_months": delivery["km_reaches_months"],
            "median_statement": survival["median_statement"],
            "logrank_statement": survival["logrank"]["statement"],
            "cox_statement": survival["cox"]["statement"],
            "independence": a["delivery"]["independence"],
        },
        "fee_rules": {k: a["fees"][k] for k in ("exit_rule", "fee_rule", "delay_cost")},
        "households_by_rule": a["fees"]["households_by_rule"],
        "data": a["data"],
        "warning": a["warning"],
    }
