"""The funding gap at the horizon (docs/indicators.md, "Forecasts"), simulated, scenarios side by side.

:func:`forecast_funding_gap` combines the unpaid compensation falling due, the simulated
transitional fees (:mod:`zhengshou_analysis.forecast.fees`), the cash balance and the simulated
inflows (:mod:`zhengshou_analysis.forecast.inflows`) path by path. One ``seed`` feeds both the
delivery and the inflow draws, and every scenario sees the same draws.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..figures.funding import compute_agreement_balances
from ..results import ForecastResult
from ..schemas import table_from
from ..settings import DEFAULT_ESCALATION, Escalation, resolve_as_of
from .blas import single_threaded_blas
from .common import (
    DEFAULT_LAG_MONTHS,
    DEFAULT_N_PATHS,
    DateLike,
    check_simulation_args,
    path_quantiles,
    random_streams,
)
from .delivery import DeliveryModel, resolve_delivery_model
from .fees import FeeModel, build_fee_model
from .inflows import InflowModel, forecast_inflows
from .scenarios import Scenario, resolve_scenarios
from .tail import Distribution

__all__ = ["GAP_DEFINITION", "INDEPENDENCE_STATEMENT", "forecast_funding_gap"]

log = logging.getLogger(__name__)

#: The definition of the gap, as the reports print it.
GAP_DEFINITION = (
    "资金缺口 = 统计日前已签协议中支付期限不晚于预测期末的未付补偿款 + 预测期内按交付预测应计的"
    "过渡安置费 −（统计日资金结余 + 预测期内模拟到位资金）；缺口≤0即资金可覆盖。"
)
#: What the intervals leave out, as the reports print it.
INDEPENDENCE_STATEMENT = (
    "各安置区交付相互独立抽样，资金到位与交付独立；共同冲击（如资金断供"
    "导致全部延期）不在区间内，见延期与减少到位情景。"
)
#: Fewer deliveries than this, or fewer months of inflows than INFLOW_WARN_MONTHS: warn.
DELIVERY_WARN_EVENTS = 10
INFLOW_WARN_MONTHS = 36


def _data_warning(
    *, n_sites: int, n_events: int, n_forecast: int, inflows: Mapping[str, Any], households: int
) -> str | None:
    parts = []
    if n_forecast and n_events < DELIVERY_WARN_EVENTS:
        parts.append(
            f"交付预测只依据{n_sites}个已开工安置区、其中{n_events}个已交付，超出已交付周期的部分"
            "靠拟合的分布外推"
        )
    months = inflows["history_months"]
    if inflows["fallback_reason"] is not None or months < INFLOW_WARN_MONTHS:
        parts.append(
            f"资金到位只有{months}个月的记录"
            + ("，未能建模，改用历史月份重抽样" if inflows["method"] == "block_bootstrap" else "")
            + ("，且没有到位记录，预测期到位按0计" if inflows["method"] == "zero" else "")
        )
    if households == 0:
        parts.append("统计日没有仍在过渡的户，过渡费预测为0")
    if not parts:
        return None
    return "预测依据的数据很少：" + "；".join(parts) + "。区间很宽，只宜作为量级参考。"


@single_threaded_blas()
def forecast_funding_gap(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: DateLike,
    horizon_months: int = 12,
    n_paths: int = DEFAULT_N_PATHS,
    seed: int = 2021,
    lag_months: int = DEFAULT_LAG_MONTHS,
    scenarios: Sequence[Scenario] | None = None,
    escalation: Escalation = DEFAULT_ESCALATION,
    distribution: Distribution | None = None,
    delivery: DeliveryModel | None = None,
    inflows: ForecastResult | InflowModel | None = None,
    balances: pd.DataFrame | None = None,
    transition_fees: pd.DataFrame | None = None,
) -> ForecastResult:
    """The funding gap at the horizon (docs/indicators.md), simulated, with scenarios side by side.

    Parameters
    ----------
    tables
        Canonical tables by name (a missing one is empty); not modified.
    as_of
        Reporting date.
    horizon_months
        Horizon after ``as_of`` in months (1..120, default 12).
    n_paths
        Simulated paths (default 10,000).
    seed
        One seed for deliveries and inflows (see the module docstring).
    lag_months
        Months a household stays in transition after its site is delivered (default 2).
    scenarios
        :class:`Scenario` objects (default :data:`DEFAULT_SCENARIOS`); a ``baseline`` scenario is
        always included and gives the headline figures.
    escalation
        Overdue escalation of the transitional fee.
    distribution
        Parametric tail of the delivery model (default: the family of ``delivery``, else
        lognormal).
    delivery
        Pre-fitted :func:`~zhengshou_analysis.forecast.delivery.fit_delivery_model` at ``as_of``;
        fitted when ``None``.
    inflows
        :func:`~zhengshou_analysis.forecast.inflows.forecast_inflows` result for the same
        ``as_of``, ``horizon_months``, ``n_paths`` and ``seed`` (its paths are used as they are),
        or a pre-fitted :func:`~zhengshou_analysis.forecast.inflows.fit_inflow_model` to simulate
        from; fitted and simulated when ``None``.
    balances
        Pre-computed :func:`~zhengshou_analysis.figures.funding.compute_agreement_balances`
        of ``agreements`` and ``payments`` at ``as_of``; computed when ``None``.
    transition_fees
        Pre-computed :func:`~zhengshou_analysis.figures.fees.compute_transition_fees` at
        ``as_of`` (with ``sites`` and the same ``escalation``); computed when ``None``. Results
        are identical whichever of these are given.

    Returns
    -------
    ForecastResult
        ``summary``: one row per scenario — its parameters, ``unpaid_compensation_due_yuan``,
        ``cash_balance_yuan``, ``fee_{mean,p10,p50,p90}_yuan``, ``inflow_{...}_yuan``,
        ``gap_{mean,p10,p50,p90}_yuan`` and ``prob_gap_closed``. ``frames``: ``"fees_by_site"``,
        ``"fees_by_zone"`` (baseline, see :func:`simulate_transition_fees`), ``"inflows"`` (per
        month, baseline), ``"backtest"``. ``samples``: ``"gap:<scenario>"`` and
        ``"fees:<scenario>"`` ``(n_paths,)``, ``"inflows"`` ``(n_paths, horizon_months)``.
        ``assumptions``: definitions, components, models, scenarios, the data the forecast rests
        on and a plain warning when that is little.

    Raises
    ------
    ParameterError
        When an argument is out of range, or a pre-fitted input belongs to another ``as_of``,
        ``distribution``, horizon, ``n_paths`` or ``seed``.

    Notes
    -----
    Per path,

    .. math:: \\mathrm{gap} = U + F - (B + I),

    ``U`` the unpaid compensation of agreements signed by ``as_of`` whose payment is due by the
    horizon end (``payment_due_date`` filled as in the indicators), ``F`` the transitional fees
    falling due over the horizon under the simulated deliveries, ``B`` the cash balance at
    ``as_of`` (funds received − all payments) and ``I`` the simulated inflows over the horizon
    (× ``inflow_factor``, + the lump when it falls within the horizon). ``prob_gap_closed`` is
    the share of paths with gap ≤ 0. Fee arrears already accrued by ``as_of`` are not in the
    definition; they are reported beside it. Deliveries of different sites are drawn
    independently and inflows independently of deliveries, so a common shock is not in the
    intervals: the delay and inflow scenarios show its size. All scenarios use the same draws.
    """
    as_of_ts = resolve_as_of(as_of)
    check_simulation_args(horizon_months, n_paths, lag_months, seed)
    items = resolve_scenarios(scenarios)
    h, n = int(horizon_months), int(n_paths)
    delivery = resolve_delivery_model(
        table_from(tables, "sites"), as_of=as_of_ts, distribution=distribution, model=delivery
    )
    fee_model = build_fee_model(
        tables,
        as_of=as_of_ts,
        horizon_months=h,
        delivery=delivery,
        escalation=escalation,
        transition_fees=transition_fees,
    )
    rng_delivery, _ = random_streams(seed)
    draws = delivery.sample_months_after(n, rng_delivery)
    inflows = _inflow_forecast(
        tables, inflows, as_of=as_of_ts, horizon_months=h, n_paths=n, seed=seed
    )
    components = _gap_components(tables, as_of=as_of_ts, horizon_months=h, balances=balances)
    summary, samples, frames = _run_scenarios(
        items, fee_model, draws, inflows, components, lag_months=int(lag_months)
    )
    assumptions = _gap_assumptions(
        as_of=as_of_ts,
        horizon_months=h,
        n_paths=n,
        seed=int(seed),
        lag_months=int(lag_months),
        escalation=escalation,
        scenarios=items,
        components=components,
        fee_model=fee_model,
        delivery=delivery,
        inflows=inflows,
    )
    if assumptions["warning"]:
        log.info("forecast at %s: %s", as_of_ts.date(), assumptions["warning"])
    return ForecastResult(summary=summary, assumptions=assumptions, frames=frames, samples=samples)


@dataclass(frozen=True)
class _Components:
    """The deterministic parts of the gap: unpaid compensation due, cash balance (yuan)."""

    unpaid_due_yuan: float
    cash_balance_yuan: float
    agreements_signed: int
    horizon_end: pd.Timestamp


def _gap_components(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp,
    horizon_months: int,
    balances: pd.DataFrame | None,
) -> _Components:
    """Unpaid compensation due by the horizon end and the cash balance at ``as_of``."""
    horizon_end = as_of + pd.DateOffset(months=horizon_months)
    payments = table_from(tables, "payments")
    if balances is None:
        balances = compute_agreement_balances(
            table_from(tables, "agreements"), payments, as_of=as_of
        )
    unpaid_due = float(
        balances.loc[balances["payment_due_date"].le(horizon_end), "unpaid_yuan"].sum()
    )
    funding = table_from(tables, "funding")
    cash = float(funding.loc[funding["date"].le(as_of), "amount_yuan"].sum()) - float(
        payments.loc[payments["date"].le(as_of), "amount_yuan"].sum()
    )
    return _Components(unpaid_due, cash, len(balances), horizon_end)


def _inflow_forecast(
    tables: Mapping[str, pd.DataFrame],
    inflows: ForecastResult | InflowModel | None,
    *,
    as_of: pd.Timestamp,
    horizon_months: int,
    n_paths: int,
    seed: int,
) -> ForecastResult:
    """The inflow forecast given (checked), simulated from the model given, or fitted here."""
    if inflows is None or isinstance(inflows, InflowModel):
        return forecast_inflows(
            table_from(tables, "funding"),
            as_of=as_of,
            horizon_months=horizon_months,
            n_paths=n_paths,
            seed=seed,
            model=inflows,
        )
    first = as_of.to_period("M") + 1
    months = inflows.summary["month"]
    if (
        inflows.samples["inflows"].shape != (n_paths, horizon_months)
        or inflows.assumptions.get("seed") != int(seed)
        or (len(months) and months.iloc[0] != first)
    ):
        raise ParameterError(
            "inflows must be forecast_inflows(...) at the same as_of, horizon_months, n_paths "
            f"and seed ({as_of.date()}, {horizon_months}, {n_paths}, {seed})"
        )
    return inflows


def _run_scenarios(
    items: Sequence[Scenario],
    fee_model: FeeModel,
    draws: np.ndarray,
    inflows: ForecastResult,
    components: _Components,
    *,
    lag_months: int,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, pd.DataFrame]]:
    """Per scenario, the gap on every path: summary rows, samples and the baseline's fee frames."""
    inflow_paths = inflows.samples["inflows"]
    h = inflow_paths.shape[1]
    rows, samples, frames = [], {"inflows": inflow_paths}, {}
    for sc in items:
        fees, marginal, in_h = fee_model.simulate(
            draws, lag_months=lag_months, delay_months=sc.delivery_delay_months
        )
        fee_total = fees.sum(axis=1)
        inflow_total = inflow_paths.sum(axis=1) * sc.inflow_factor
        if sc.lump_month <= h:
            inflow_total = inflow_total + sc.lump_yuan
        unpaid, cash = components.unpaid_due_yuan, components.cash_balance_yuan
        gap = unpaid + fee_total - (cash + inflow_total)
        samples[f"gap:{sc.name}"] = gap
        samples[f"fees:{sc.name}"] = fee_total
        rows.append(
            {
                **_scenario_parameters(sc),
                "unpaid_compensation_due_yuan": unpaid,
                "cash_balance_yuan": cash,
                **{f"fee_{k}_yuan": float(v) for k, v in path_quantiles(fee_total).items()},
                **{f"inflow_{k}_yuan": float(v) for k, v in path_quantiles(inflow_total).items()},
                **{f"gap_{k}_yuan": float(v) for k, v in path_quantiles(gap).items()},
                "prob_gap_closed": float(np.mean(gap <= 0)),
            }
        )
        if sc.name == "baseline":
            _, by_site, by_zone = fee_model.frames(fees, marginal, in_h)
            frames = {"fees_by_site": by_site, "fees_by_zone": by_zone}
    frames |= {"inflows": inflows.summary, "backtest": inflows.frames["backtest"]}
    summary = pd.DataFrame(rows).astype({"scenario": "str", "description": "str"})
    return summary, samples, frames


def _scenario_parameters(sc: Scenario) -> dict[str, Any]:
    return {
        "scenario": sc.name,
        "description": sc.describe(),
        "inflow_factor": sc.inflow_factor,
        "lump_yuan": sc.lump_yuan,
        "lump_month": sc.lump_month,
        "delivery_delay_months": sc.delivery_delay_months,
    }


def _gap_assumptions(
    *,
    as_of: pd.Timestamp,
    horizon_months: int,
    n_paths: int,
    seed: int,
    lag_months: int,
    escalation: Escalation,
    scenarios: Sequence[Scenario],
    components: _Components,
    fee_model: FeeModel,
    delivery: DeliveryModel,
    inflows: ForecastResult,
) -> dict[str, Any]:
    """The assumptions dict of :func:`forecast_funding_gap` (JSON-ready apart from numpy scalars)."""
    fee_info = fee_model.assumptions(lag_months=lag_months, escalation=escalation)
    data = _data_basis(delivery, inflows.assumptions, fee_info, components)
    return {
        "as_of": as_of.date().isoformat(),
        "horizon_months": horizon_months,
        "horizon_end": components.horizon_end.date().isoformat(),
        "n_paths": n_paths,
        "seed": seed,
        "lag_months": lag_months,
        "escalation_tiers": fee_info["escalation_tiers"],
        "gap_definition": GAP_DEFINITION,
        "gap_components": {
            "unpaid_compensation_due_yuan": components.unpaid_due_yuan,
            "cash_balance_yuan": components.cash_balance_yuan,
            "transition_fee_arrears_yuan_not_included": fee_model.arrears_yuan,
        },
        "scenario": "baseline",
        "scenarios": {
            sc.name: {k: v for k, v in _scenario_parameters(sc).items() if k != "scenario"}
            for sc in scenarios
        },
        "inflows": inflows.assumptions,
        "fees": fee_info,
        "delivery": {
            "tail": delivery.tail.describe() if delivery.tail else None,
            "km_reaches_months": delivery.tau,
            "sites_started": delivery.n_sites,
            "sites_delivered": delivery.n_events,
            "sites_forecast": len(delivery.sites),
            "independence": INDEPENDENCE_STATEMENT,
        },
        "data": data,
        "warning": _data_warning(
            n_sites=delivery.n_sites,
            n_events=delivery.n_events,
            n_forecast=len(delivery.sites),
            inflows=inflows.assumptions,
            households=fee_info["households_in_transition"],
        ),
    }


def _data_basis(
    delivery: DeliveryModel,
    inflows: Mapping[str, Any],
    fee_info: Mapping[str, Any],
    components: _Components,
) -> dict[str, int]:
    """How much data the forecast rests on (counts)."""
    return {
        "sites_started": delivery.n_sites,
        "sites_delivered": delivery.n_events,
        "sites_forecast": len(delivery.sites),
        "households_in_transition": fee_info["households_in_transition"],
        "funding_history_months": inflows["history_months"],
        "funding_nonzero_months": inflows["history_nonzero_months"],
        "agreements_signed": components.agreements_signed,
    }
