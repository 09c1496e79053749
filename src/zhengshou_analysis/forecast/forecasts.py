"""Forecasts (indicators.md, "Forecasts"): transitional-fee burden, inflows and the funding gap.

Three forward questions, answered with their uncertainty and the assumptions behind them:

* **when will each late site be delivered** — :mod:`zhengshou_analysis.forecast.survival`
  (:func:`~zhengshou_analysis.forecast.survival.forecast_site_delivery`);
* **what will the transitional fees cost meanwhile** — :func:`simulate_transition_fees`:
  simulated delivery dates drive each household's remaining fee months, with the escalation
  rule of the spec applied month by month (closed form, vectorised);
* **will the money be there** — :func:`compute_monthly_inflows`, :func:`backtest_inflow_models`,
  :func:`forecast_inflows` and :func:`forecast_funding_gap` (scenarios side by side);

and :func:`compute_forecast_figures`, the spec's forecast figures, JSON-ready, for
``key_figures.json`` and ``zhengshou figures``.

Reproducible: one integer ``seed`` feeds a :class:`numpy.random.SeedSequence` whose first child
draws the deliveries and whose second draws the inflows, so every scenario sees the same random
numbers (scenario differences are the scenario, not noise) and the same inputs and seed give the
same figures. Every function returns a :class:`~zhengshou_analysis.forecast.survival.ForecastResult`
(``summary`` frame, further ``frames``, ``samples`` and the ``assumptions`` to print beside the
numbers). Inputs are never modified.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..figures import (
    NA_GROUP,
    compute_agreement_balances,
    compute_transition_fees,
)
from ..figures.keyfile import json_scalar, jsonable
from ..periods import duration_months
from ..results import ForecastResult
from ..schemas import ZONE_NAMES, conform_table, table_from
from ..settings import DEFAULT_ESCALATION, Escalation, resolve_as_of
from .survival import (
    DeliveryModel,
    Distribution,
    _blas_single_thread,
    compute_delivery_survival,
    fit_delivery_model,
    forecast_site_delivery,
)

__all__ = [
    "DEFAULT_SCENARIOS",
    "Scenario",
    "backtest_inflow_models",
    "compute_forecast_figures",
    "compute_monthly_inflows",
    "forecast_funding_gap",
    "forecast_inflows",
    "simulate_transition_fees",
]

log = logging.getLogger(__name__)

#: Default number of simulated paths.
DEFAULT_N_PATHS = 10_000
#: Default months a household stays in transition after its site is delivered.
DEFAULT_LAG_MONTHS = 2
#: Months held out in the inflow back-test.
BACKTEST_HOLDOUT_MONTHS = 12
#: Season length of monthly inflows.
SEASON = 12
#: Fewer months of inflow history than this: block bootstrap instead of a model.
MIN_HISTORY_MONTHS = 24
#: More than this share of months without inflow: block bootstrap instead of a model.
MAX_ZERO_SHARE = 0.5
#: The block bootstrap resamples blocks of this many months from the last BOOTSTRAP_WINDOW months.
BOOTSTRAP_BLOCK_MONTHS = 3
BOOTSTRAP_WINDOW_MONTHS = 36
#: A simulated month never exceeds this multiple of the largest month on record.
INFLOW_CAP_MULTIPLE = 10.0
#: Fewer deliveries than this, or fewer months of inflows than INFLOW_WARN_MONTHS: warn.
DELIVERY_WARN_EVENTS = 10
INFLOW_WARN_MONTHS = 36
_MAX_EXTRA_MONTHS = 600
_CANDIDATES = ("naive", "seasonal_naive", "ets", "sarimax")


# --------------------------------------------------------------------------------------------------
# scenarios


@dataclass(frozen=True)
class Scenario:
    """A what-if for the funding gap; every field is a parameter.

    Attributes
    ----------
    name
        Label in tables and the key figures (ASCII, e.g. ``"special_bond"``).
    inflow_factor
        Simulated inflows are multiplied by this (``0.8`` = 20 % less money; ≥ 0).
    lump_yuan
        A one-off inflow (e.g. a special bond 专项债) added in month ``lump_month``.
    lump_month
        Month of the lump after ``as_of`` (1 = the first month of the horizon); a month beyond the
        horizon has no effect on the gap at the horizon.
    delivery_delay_months
        Every undelivered site is delivered this many months later than simulated (≥ 0).
    """

    name: str = "baseline"
    inflow_factor: float = 1.0
    lump_yuan: float = 0.0
    lump_month: int = 1
    delivery_delay_months: int = 0

    def __post_init__(self) -> None:
        if not self.name:
            raise ParameterError("a scenario needs a name")
        if not (self.inflow_factor >= 0 and math.isfinite(self.inflow_factor)):
            raise ParameterError(f"inflow_factor must be >= 0, got {self.inflow_factor!r}")
        if not math.isfinite(self.lump_yuan):
            raise ParameterError(f"lump_yuan must be a number, got {self.lump_yuan!r}")
        if int(self.lump_month) != self.lump_month or self.lump_month < 1:
            raise ParameterError(f"lump_month must be an integer >= 1, got {self.lump_month!r}")
        if int(self.delivery_delay_months) != self.delivery_delay_months or (
            self.delivery_delay_months < 0
        ):
            raise ParameterError(
                f"delivery_delay_months must be an integer >= 0, got {self.delivery_delay_months!r}"
            )

    def describe(self) -> str:
        """A one-line Chinese description (for reports)."""
        parts = []
        if self.inflow_factor != 1.0:
            parts.append(f"资金到位按模拟值的{self.inflow_factor:.0%}")
        if self.lump_yuan:
            parts.append(f"第{self.lump_month}个月一次性到位{self.lump_yuan / 1e4:.2f}万元")
        if self.delivery_delay_months:
            parts.append(f"所有未交付安置区再推迟{self.delivery_delay_months}个月交付")
        return "；".join(parts) if parts else "基准情景：按模拟的交付与资金到位"


#: Scenarios reported side by side by default: the baseline, 20 % less money, six months' delay.
DEFAULT_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("baseline"),
    Scenario("inflows_80pct", inflow_factor=0.8),
    Scenario("delivery_delay_6m", delivery_delay_months=6),
)


def _check_common(horizon_months, n_paths, lag_months, seed) -> None:
    if int(horizon_months) != horizon_months or not 1 <= horizon_months <= 120:
        raise ParameterError(f"horizon_months must be an integer in 1..120, got {horizon_months!r}")
    if int(n_paths) != n_paths or n_paths < 1:
        raise ParameterError(f"n_paths must be a positive integer, got {n_paths!r}")
    if int(lag_months) != lag_months or lag_months < 0:
        raise ParameterError(f"lag_months must be an integer >= 0, got {lag_months!r}")
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(deliveries, inflows) generators: the two children of ``SeedSequence(seed)``."""
    a, b = np.random.SeedSequence(int(seed)).spawn(2)
    return np.random.default_rng(a), np.random.default_rng(b)


def _quantiles(x: np.ndarray, axis: int = 0) -> dict[str, np.ndarray]:
    return {
        "mean": x.mean(axis=axis),
        "p10": np.quantile(x, 0.1, axis=axis),
        "p50": np.quantile(x, 0.5, axis=axis),
        "p90": np.quantile(x, 0.9, axis=axis),
    }


# --------------------------------------------------------------------------------------------------
# transitional fees


def _weight(k: np.ndarray, agreed: np.ndarray, escalation: Escalation) -> np.ndarray:
    """C(k): Σ of the multipliers of fee months 1..k (1.0 up to ``agreed``, escalated after)."""
    over = np.where(np.isnan(agreed), 0.0, np.maximum(k - np.nan_to_num(agreed), 0.0))
    return (k - over) + escalation.cumulative(over)


@dataclass(frozen=True)
class _FeeModel:
    """Per delivery group (site, or no site) fee tables; see :func:`simulate_transition_fees`."""

    groups: pd.DataFrame
    horizon_table: np.ndarray  # (groups, H + 1): Σ base·(C(K0+e) − C(K0)), e = 0..H
    marginal_table: np.ndarray  # (groups, E + 1): Σ base·(C(K0+e+1) − C(K0+e))
    households: pd.DataFrame
    horizon_months: int
    arrears_yuan: float

    def paths(
        self,
        months_to_delivery: np.ndarray,
        *,
        lag_months: int,
        delay_months: int = 0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fees over the horizon and the cost of one more month, per path and group.

        ``months_to_delivery`` is ``(n_paths, n_forecast_sites)``, months after ``as_of``
        (floats). Returns two ``(n_paths, n_groups)`` arrays.
        """
        g = self.groups
        n_paths = months_to_delivery.shape[0]
        fixed = g["fixed_months"].to_numpy(dtype="float64")
        m = np.broadcast_to(fixed, (n_paths, len(g))).copy()
        sim = g["site_index"].to_numpy() >= 0
        if sim.any():
            idx = g.loc[sim, "site_index"].to_numpy()
            m[:, sim] = np.ceil(months_to_delivery[:, idx]) + delay_months
        e = np.maximum(m + lag_months, 1.0)
        h = self.horizon_months
        e_cap = self.marginal_table.shape[1] - 1
        cols = np.arange(len(g))[None, :]
        fees = self.horizon_table[cols, np.minimum(e, h).astype("int64")]
        marginal = self.marginal_table[cols, np.minimum(e, e_cap).astype("int64")]
        return fees, marginal


def _classify_households(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp,
    site_rows: pd.DataFrame,
    forecast_ids: Mapping[str, int],
    escalation: Escalation,
) -> tuple[pd.DataFrame, float]:
    """Households in transition at ``as_of`` with what decides their exit; and all fee arrears.

    ``rule`` is ``forecast`` (site undelivered: simulated), ``delivered`` (site delivered by
    ``as_of``) or ``no_site``; ``fixed_months`` is the months from ``as_of`` to the delivery,
    rounded up (≤ 0 for delivered sites, 0 — "now" — without a site).
    """
    hh = compute_transition_fees(
        table_from(tables, "transition"),
        table_from(tables, "payments"),
        as_of=as_of,
        sites=table_from(tables, "sites"),
        escalation=escalation,
    )
    arrears = float(hh["arrears_yuan"].sum())
    hh = hh.loc[hh["active"]].reset_index(drop=True)
    base = hh["base_monthly_yuan"].to_numpy(dtype="float64")
    if np.isnan(base).any():
        log.warning(
            "%d households without a monthly fee: 0 in the forecast", int(np.isnan(base).sum())
        )
    delivered_on = pd.Series(
        site_rows["delivered_date"].reindex(hh["site_id"]).to_numpy(), index=hh.index
    )
    known = hh["site_id"].isin(site_rows.index) & hh["site_id"].notna()
    if (~known & hh["site_id"].notna()).any():
        log.warning(
            "%d households name a site missing from the sites table: treated as without a site",
            int((~known & hh["site_id"].notna()).sum()),
        )
    delivered = known & delivered_on.le(as_of)
    simulated = known & ~delivered & hh["site_id"].isin(forecast_ids)
    rule = np.select(
        [delivered.to_numpy(bool), simulated.to_numpy(bool)], ["delivered", "forecast"], "no_site"
    )
    since = np.ceil(duration_months(as_of, delivered_on).to_numpy(dtype="float64", na_value=np.nan))
    hh = hh.assign(
        group=np.where(rule == "no_site", NA_GROUP, hh["site_id"].astype("str").to_numpy()),
        rule=rule,
        fixed_months=np.where(rule == "delivered", since, 0.0),
        base=np.nan_to_num(base),
    )
    return hh, arrears


def _group_frame(
    hh: pd.DataFrame, site_rows: pd.DataFrame, forecast_ids: Mapping[str, int]
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per delivery group (a site, or 未注明) and each household's group number."""
    keys = pd.Index(pd.unique(hh["group"]))
    gi = keys.get_indexer(hh["group"])
    first = hh.groupby("group", sort=False).first().reindex(keys)
    rule = first["rule"].to_numpy(dtype="str") if len(keys) else np.array([], dtype="str")
    zone = pd.Series(site_rows["zone"].reindex(keys).to_numpy(), dtype="str").fillna(NA_GROUP)
    names = pd.Series(site_rows["site_name"].reindex(keys).to_numpy(), dtype="str")
    groups = pd.DataFrame(
        {
            "site_id": keys.astype("str"),
            "site_name": names.where(rule != "no_site", "（未注明安置区）"),
            "zone": zone.to_numpy(),
            "rule": rule,
            "households": np.bincount(gi, minlength=len(keys)),
            "fixed_months": first["fixed_months"].to_numpy(dtype="float64") if len(keys) else [],
            "site_index": [
                forecast_ids[k] if r == "forecast" else -1 for k, r in zip(keys, rule, strict=True)
            ],
        }
    )
    return groups, gi


def _fee_model(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp,
    horizon_months: int,
    delivery: DeliveryModel,
    escalation: Escalation,
) -> _FeeModel:
    """Households in transition at ``as_of``, grouped by what decides their exit, with tables."""
    sites = table_from(tables, "sites")
    site_rows = sites.loc[sites["site_id"].notna()].drop_duplicates("site_id").set_index("site_id")
    forecast_ids = dict(zip(delivery.sites["site_id"], range(len(delivery.sites)), strict=True))
    hh, arrears = _classify_households(
        tables, as_of=as_of, site_rows=site_rows, forecast_ids=forecast_ids, escalation=escalation
    )
    groups, gi = _group_frame(hh, site_rows, forecast_ids)

    k0 = hh["fee_months"].to_numpy(dtype="float64")
    agreed = hh["agreed_months"].to_numpy(dtype="float64")
    base = hh["base"].to_numpy(dtype="float64")
    # beyond e_cap every household is in the last tier (or never overdue): the marginal cost stays
    reach = np.nan_to_num(agreed - k0, nan=0.0)
    e_cap = int(
        min(
            max(horizon_months, (reach.max() if len(hh) else 0) + escalation.tiers[-1][0], 1),
            horizon_months + _MAX_EXTRA_MONTHS,
        )
    )
    c0 = _weight(k0, agreed, escalation)
    e_h = np.arange(horizon_months + 1, dtype="float64")
    f_h = base[:, None] * (_weight(k0[:, None] + e_h, agreed[:, None], escalation) - c0[:, None])
    e_m = np.arange(e_cap + 2, dtype="float64")
    f_m = base[:, None] * np.diff(_weight(k0[:, None] + e_m, agreed[:, None], escalation), axis=1)
    horizon_table = np.zeros((len(groups), horizon_months + 1))
    marginal_table = np.zeros((len(groups), e_cap + 1))
    np.add.at(horizon_table, gi, f_h)
    np.add.at(marginal_table, gi, f_m)
    return _FeeModel(
        groups=groups,
        horizon_table=horizon_table,
        marginal_table=marginal_table,
        households=hh,
        horizon_months=horizon_months,
        arrears_yuan=arrears,
    )


def _fee_frames(
    model: _FeeModel, fees: np.ndarray, marginal: np.ndarray, in_horizon: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    g = model.groups
    total = fees.sum(axis=1)
    q = _quantiles(total)
    summary = pd.DataFrame(
        {
            "households": [int(g["households"].sum())],
            **{f"fee_{k}_yuan": [float(v)] for k, v in q.items()},
        }
    )
    qs = _quantiles(fees) if len(g) else {k: np.zeros(0) for k in ("mean", "p10", "p50", "p90")}
    forecast = g["rule"].eq("forecast").to_numpy()
    by_site = g.drop(columns=["fixed_months", "site_index"]).assign(
        **{f"fee_{k}_yuan": v for k, v in qs.items()},
        delay_cost_month_yuan=np.where(forecast, marginal.mean(axis=0) if len(g) else 0, np.nan),
        delay_cost_month_in_horizon_yuan=np.where(
            forecast, in_horizon.mean(axis=0) if len(g) else 0, np.nan
        ),
    )
    zones = [z for z in ZONE_NAMES if z in set(g["zone"])] + sorted(
        z for z in set(g["zone"]) if z not in ZONE_NAMES
    )
    rows = []
    for z in zones:
        cols = g["zone"].eq(z).to_numpy()
        zq = _quantiles(fees[:, cols].sum(axis=1))
        rows.append(
            {
                "zone": z,
                "households": int(g.loc[cols, "households"].sum()),
                **{f"fee_{k}_yuan": float(v) for k, v in zq.items()},
            }
        )
    by_zone = pd.DataFrame(
        rows, columns=["zone", "households", *(f"fee_{k}_yuan" for k in q)]
    ).astype({"zone": "str"})
    return summary, by_site, by_zone


def _run_fees(
    model: _FeeModel, draws: np.ndarray, *, lag_months: int, delay_months: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fees, marginal = model.paths(draws, lag_months=lag_months, delay_months=delay_months)
    later, _ = model.paths(draws, lag_months=lag_months, delay_months=delay_months + 1)
    return fees, marginal, later - fees


def _fee_assumptions(model: _FeeModel, *, lag_months: int, escalation: Escalation) -> dict:
    counts = model.groups.groupby("rule")["households"].sum()
    return {
        "lag_months": int(lag_months),
        "escalation_tiers": [[int(s), float(m)] for s, m in escalation.tiers],
        "households_in_transition": int(model.groups["households"].sum()),
        "households_by_rule": {
            k: int(counts.get(k, 0)) for k in ("forecast", "delivered", "no_site")
        },
        "exit_rule": (
            f"每户在其安置区交付后{lag_months}个月结束过渡；交付日期按月取整（向上）。安置区统计日前"
            f"已交付的，按实际交付日期加{lag_months}个月；未登记安置区（或安置区不在台账中）的，按统计日"
            f"加{lag_months}个月；统计日仍在过渡的每户至少再计1个月。统计日后才开始过渡的户、"
            "台账中统计日后的过渡结束日期均不使用（不用统计日后的信息）。"
        ),
        "fee_rule": "逐户逐月：第k个计费月超过约定过渡期限时按逾期加付倍数计（与已计费用同一口径）；"
        "预测期内费用 = 月标准 ×（C(K0+e) − C(K0)），C为累计倍数之和，K0为统计日已计费月数，e为预测期内新增计费月数。",
        "delay_cost": "再推迟1个月交付的代价：该安置区各户交付后多计的1个计费月（含逾期加付），"
        "取各模拟路径的平均值；delay_cost_month_in_horizon_yuan 为其中落在预测期内的部分。",
    }


@_blas_single_thread()
def simulate_transition_fees(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of,
    horizon_months: int = 12,
    n_paths: int = DEFAULT_N_PATHS,
    seed: int = 2021,
    lag_months: int = DEFAULT_LAG_MONTHS,
    delivery_delay_months: int = 0,
    escalation: Escalation = DEFAULT_ESCALATION,
    distribution: Distribution = "lognormal",
) -> ForecastResult:
    """Transitional fees falling due over the horizon, simulated from delivery forecasts.

    Parameters
    ----------
    tables
        Canonical tables (``transition``, ``sites``, ``payments``; a missing one is empty); not
        modified.
    as_of
        Reporting date: households in transition at ``as_of`` (started, no end by then).
    horizon_months
        Months after ``as_of`` (1..120, default 12).
    n_paths
        Simulated paths (default 10,000).
    seed
        Seed of the delivery draws (first child of ``SeedSequence(seed)``).
    lag_months
        Months a household stays in transition after its site is delivered (default 2).
    delivery_delay_months
        Extra months added to every simulated delivery (the "all deliveries delayed" scenario).
    escalation
        Overdue escalation of the fee (default: the spec's example rule).
    distribution
        Parametric tail of the delivery model (``"lognormal"`` or ``"weibull"``).

    Returns
    -------
    ForecastResult
        ``summary``: one row — ``households``, ``fee_mean_yuan``, ``fee_p10_yuan``,
        ``fee_p50_yuan``, ``fee_p90_yuan`` (total over the horizon). ``frames``: ``"by_site"``
        (per site, plus one row ``未注明`` for households without a known site: ``rule``
        ``forecast``/``delivered``/``no_site``, ``households``, the same quantiles, and for
        forecast sites ``delay_cost_month_yuan`` — the expected cost of one more month of delay —
        and ``delay_cost_month_in_horizon_yuan``), ``"by_zone"`` (per 片区: quantiles of the
        per-path sum), ``"households"`` (inputs per household). ``samples``: ``"total"``
        ``(n_paths,)`` and ``"by_site"`` ``(n_paths, sites)`` (columns as ``by_site`` rows; they
        add up to ``total`` path by path). ``assumptions``: the exit and fee rules.

    Notes
    -----
    For a household with ``K0`` fee months charged by ``as_of``, agreed period ``a`` and base fee
    ``b`` (yuan per month), leaving after ``e`` more fee months, the fees over the horizon are

    .. math:: b\\,[C(K_0 + \\min(e, H)) - C(K_0)],\\quad C(k) = \\min(k, a) + M(k - a),

    with ``M(n)`` the escalated multiplier sum of overdue months 1..n
    (:meth:`~zhengshou_analysis.settings.Escalation.cumulative`), the same rule as the accrued fee
    of :func:`~zhengshou_analysis.figures.compute_transition_fees`. ``e`` = months from
    ``as_of`` to the (simulated) delivery, rounded up, + ``lag_months``, at least 1. Every
    household of a site shares the site's ``e``, so a ``sites × (H + 1)`` table built once is
    looked up per path: the cost grows with households × horizon plus paths × sites, never their
    product. Fees are never negative (multipliers ≥ 1).
    """
    as_of = resolve_as_of(as_of)
    _check_common(horizon_months, n_paths, lag_months, seed)
    Scenario(delivery_delay_months=delivery_delay_months)  # validates
    delivery = fit_delivery_model(
        table_from(tables, "sites"), as_of=as_of, distribution=distribution
    )
    model = _fee_model(
        tables,
        as_of=as_of,
        horizon_months=int(horizon_months),
        delivery=delivery,
        escalation=escalation,
    )
    rng, _ = _streams(seed)
    draws = delivery.sample_months_after(int(n_paths), rng)
    fees, marginal, in_h = _run_fees(
        model, draws, lag_months=int(lag_months), delay_months=int(delivery_delay_months)
    )
    summary, by_site, by_zone = _fee_frames(model, fees, marginal, in_h)
    assumptions = {
        "as_of": as_of.date().isoformat(),
        "horizon_months": int(horizon_months),
        "n_paths": int(n_paths),
        "seed": int(seed),
        "delivery_delay_months": int(delivery_delay_months),
        **_fee_assumptions(model, lag_months=int(lag_months), escalation=escalation),
    }
    hh_cols = ["agreement_id", "site_id", "group", "rule", "fee_months", "agreed_months", "base"]
    return ForecastResult(
        summary=summary,
        assumptions=assumptions,
        frames={"by_site": by_site, "by_zone": by_zone, "households": model.households[hh_cols]},
        samples={"total": fees.sum(axis=1), "by_site": fees},
    )


# --------------------------------------------------------------------------------------------------
# inflows


def compute_monthly_inflows(funding: pd.DataFrame | None, *, as_of) -> pd.Series:
    """Monthly funds received (到位资金) up to ``as_of``: month sums, zeros for empty months.

    Parameters
    ----------
    funding
        Canonical ``funding`` table (not modified; ``None`` is empty).
    as_of
        Reporting date. Only complete months enter: the month of ``as_of`` when ``as_of`` is its
        last day, else up to the month before (the partial month is in the cash balance, not in
        the series).

    Returns
    -------
    pandas.Series
        ``float64`` yuan named ``inflow_yuan`` on a monthly ``PeriodIndex`` from the first month
        with an inflow to the last complete month (every month present, 0.0 when nothing came);
        empty when there is no inflow by then.
    """
    as_of = resolve_as_of(as_of)
    f = conform_table(funding, "funding")
    last = as_of.to_period("M") if as_of.is_month_end else as_of.to_period("M") - 1
    f = f.loc[f["date"].notna() & f["date"].dt.to_period("M").le(last)]
    if f.empty:
        return pd.Series(
            [],
            index=pd.PeriodIndex([], freq="M", name="month"),
            dtype="float64",
            name="inflow_yuan",
        )
    sums = f.groupby(f["date"].dt.to_period("M"))["amount_yuan"].sum()
    index = pd.period_range(sums.index.min(), last, freq="M", name="month")
    return sums.reindex(index, fill_value=0.0).astype("float64").rename("inflow_yuan")


def _mase_scale(train: np.ndarray) -> float:
    """Mean absolute one-step naive error of the training months (the MASE denominator)."""
    if train.size >= 2:
        scale = float(np.mean(np.abs(np.diff(train))))
        if scale > 0:
            return scale
    scale = float(np.mean(np.abs(train))) if train.size else 0.0
    return scale if scale > 0 else 1.0


def _ets_specs(n: int) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = [{"trend": None}, {"trend": "add", "damped_trend": True}]
    if n >= 2 * SEASON + 4:
        specs += [
            {"trend": None, "seasonal": "add", "seasonal_periods": SEASON},
            {"trend": "add", "damped_trend": True, "seasonal": "add", "seasonal_periods": SEASON},
        ]
    return specs


def _spec_text(name: str, spec: Mapping[str, Any]) -> str:
    if name == "ets":
        t = "Ad" if spec.get("damped_trend") else ("A" if spec.get("trend") else "N")
        s = "A" if spec.get("seasonal") else "N"
        return f"ETS(A,{t},{s})"
    if name == "sarimax":
        return f"SARIMAX{spec['order']}x{spec['seasonal_order']}"
    return {
        "naive": "naive: last month repeated",
        "seasonal_naive": "seasonal naive: same month last year",
    }[name]


def _scale(y: np.ndarray) -> float:
    """Yuan per model unit: models see inflows divided by the mean month (numerical stability)."""
    m = float(np.mean(np.abs(y))) if y.size else 0.0
    return m if m > 0 else 1.0


def _fit(name: str, z: np.ndarray, spec: Mapping[str, Any] | None = None):
    """Fit candidate ``name`` to scaled inflows ``z``; returns (results or None, spec)."""
    if name in ("naive", "seasonal_naive"):
        return None, {}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if name == "ets":
            from statsmodels.tsa.exponential_smoothing.ets import ETSModel

            best = None
            for s in [spec] if spec else _ets_specs(z.size):
                try:
                    res = ETSModel(z, error="add", **s).fit(disp=False)
                except (ValueError, np.linalg.LinAlgError) as exc:
                    log.debug("ETS %s failed: %s", s, exc)
                    continue
                if np.isfinite(res.aicc) and (best is None or res.aicc < best[0].aicc):
                    best = (res, s)
            if best is None:
                raise ValueError("no ETS specification could be fitted")
            return best
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        if spec is None:
            seasonal = z.size >= 3 * SEASON
            spec = {
                "order": (0, 1, 1),
                "seasonal_order": (0, 1, 1, SEASON) if seasonal else (0, 0, 0, 0),
            }
        res = SARIMAX(z, **spec).fit(disp=False)
        return res, spec


def _point_forecast(name: str, res, z: np.ndarray, h: int) -> np.ndarray:
    """Point forecast of the next ``h`` months (scaled units)."""
    if name == "naive":
        return np.full(h, z[-1])
    if name == "seasonal_naive":
        return np.resize(z[-SEASON:], h) if z.size >= SEASON else np.full(h, z[-1])
    return np.asarray(res.forecast(h), dtype="float64")


@_blas_single_thread()
def backtest_inflow_models(
    monthly: pd.Series,
    *,
    holdout_months: int = BACKTEST_HOLDOUT_MONTHS,
) -> ForecastResult:
    """Hold out the last months and score naive, seasonal naive, ETS and SARIMAX with MASE.

    Parameters
    ----------
    monthly
        Monthly inflows (yuan), e.g. from :func:`compute_monthly_inflows` (not modified).
    holdout_months
        Months held out at the end (default 12); the rest is the training part.

    Returns
    -------
    ForecastResult
        ``summary``: one row per candidate — ``model``, ``spec``, ``mase``, ``mae_yuan``,
        ``status`` (``ok`` or why it could not run), ``chosen`` (lowest MASE; ties go to the
        simpler model in the order naive, seasonal naive, ETS, SARIMAX). ``assumptions``:
        winner, its MASE, training/holdout months and the MASE scale.

    Raises
    ------
    InsufficientDataError
        When there are fewer than ``holdout_months + 12`` months.

    Notes
    -----
    Models are fitted to the inflows divided by their mean month (numerical stability) and
    their point forecasts, clipped at 0, are compared in yuan. ETS is chosen by AICc among (A,N,N), (A,Ad,N) and,
    with at least 28 training months, (A,N,A) and (A,Ad,A); SARIMAX is the airline model
    (0,1,1)(0,1,1)₁₂ with at least 36 training months, else (0,1,1).

    .. math:: \\mathrm{MASE} = \\frac{\\mathrm{mean}_{holdout}|y_t - \\hat y_t|}
              {\\mathrm{mean}_{train}|y_t - y_{t-1}|}

    (denominator the mean absolute month-to-month change of the training months; the mean
    absolute level, or 1, when that is 0). The scale is common to all candidates, so the ranking
    is that of the holdout MAE.
    """
    from ..exceptions import InsufficientDataError

    y = np.asarray(monthly, dtype="float64")
    h = int(holdout_months)
    if h < 1:
        raise ParameterError(f"holdout_months must be >= 1, got {holdout_months!r}")
    if y.size < h + SEASON:
        raise InsufficientDataError(
            f"back-test needs at least {h + SEASON} months of inflows, got {y.size}"
        )
    train, test = y[:-h], y[-h:]
    unit = _scale(train)
    z = train / unit
    scale = _mase_scale(train)
    rows = []
    for name in _CANDIDATES:
        try:
            res, spec = _fit(name, z)
            fc = np.maximum(_point_forecast(name, res, z, h) * unit, 0.0)
            if not np.all(np.isfinite(fc)):
                raise ValueError("non-finite forecast")
            mae = float(np.mean(np.abs(test - fc)))
            rows.append(
                {
                    "model": name,
                    "spec": _spec_text(name, spec),
                    "spec_params": spec,
                    "mase": mae / scale,
                    "mae_yuan": mae,
                    "status": "ok",
                }
            )
        except (ValueError, np.linalg.LinAlgError, IndexError) as exc:
            rows.append(
                {
                    "model": name,
                    "spec": name,
                    "spec_params": None,
                    "mase": math.nan,
                    "mae_yuan": math.nan,
                    "status": f"failed: {exc}",
                }
            )
    table = pd.DataFrame(rows)
    ok = table["status"].eq("ok")
    winner = table.loc[ok, "mase"].idxmin() if ok.any() else None
    table = table.assign(chosen=table.index == winner)
    chosen = table.loc[winner] if winner is not None else None
    assumptions = {
        "holdout_months": h,
        "train_months": int(train.size),
        "mase_scale_yuan": scale,
        "mase": {
            r.model: (None if math.isnan(r.mase) else float(r.mase)) for r in table.itertuples()
        },
        "winner": None if chosen is None else chosen["model"],
        "winner_spec": None if chosen is None else chosen["spec"],
    }
    return ForecastResult(
        summary=table.drop(columns=["spec_params"]).astype({"model": "str", "spec": "str"}),
        assumptions=assumptions,
        frames={"specs": table[["model", "spec_params"]]},
    )


def _arima_psi(res, h: int) -> np.ndarray:
    """ψ weights (h) of the fitted SARIMAX including its differencing."""
    from statsmodels.tsa.arima_process import arma2ma

    model = res.model
    ar = np.convolve(res.polynomial_ar, res.polynomial_seasonal_ar)
    for _ in range(model.k_diff):
        ar = np.convolve(ar, [1.0, -1.0])
    for _ in range(model.k_seasonal_diff):
        ar = np.convolve(ar, np.r_[1.0, np.zeros(model.seasonal_periods - 1), -1.0])
    ma = np.convolve(res.polynomial_ma, res.polynomial_seasonal_ma)
    return arma2ma(ar, ma, lags=h)


def _simulate(
    name: str, res, z: np.ndarray, h: int, n_paths: int, rng: np.random.Generator
) -> np.ndarray:
    """Simulated scaled inflows ``(n_paths, h)`` from the chosen model (before clipping)."""
    if name == "ets":
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            sim = res.simulate(h, anchor="end", repetitions=n_paths, rng=rng)
        return np.asarray(sim, dtype="float64").reshape(h, n_paths).T
    if name == "sarimax":
        psi = _arima_psi(res, h)
        lower = np.zeros((h, h))
        for j in range(h):
            lower += np.diag(np.full(h - j, psi[j]), -j)
        sigma = math.sqrt(float(res.params[-1]))  # sigma2 is SARIMAX's last parameter
        eps = rng.standard_normal((n_paths, h)) * sigma
        return np.asarray(res.forecast(h), dtype="float64")[None, :] + eps @ lower.T
    if name == "naive":
        steps = np.diff(z)
        draws = steps[rng.integers(0, steps.size, size=(n_paths, h))]
        return z[-1] + np.cumsum(draws, axis=1)
    # seasonal naive: last year's month plus a resampled year-on-year change
    changes = z[SEASON:] - z[:-SEASON]
    draws = changes[rng.integers(0, changes.size, size=(n_paths, h))]
    out = np.empty((n_paths, h))
    for k in range(h):
        base = z[z.size - SEASON + k] if k < SEASON else out[:, k - SEASON]
        out[:, k] = base + draws[:, k]
    return out


def _block_bootstrap(y: np.ndarray, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
    window = y[-BOOTSTRAP_WINDOW_MONTHS:]
    b = min(BOOTSTRAP_BLOCK_MONTHS, window.size)
    n_blocks = -(-h // b)
    starts = rng.integers(0, window.size - b + 1, size=(n_paths, n_blocks))
    idx = (starts[:, :, None] + np.arange(b)).reshape(n_paths, n_blocks * b)[:, :h]
    return window[idx]


#: Chinese names of the inflow models, for reports.
MODEL_LABELS: dict[str, str] = {
    "naive": "朴素预测（重复上月）",
    "seasonal_naive": "季节朴素预测（重复去年同月）",
    "ets": "指数平滑（ETS）",
    "sarimax": "季节ARIMA（SARIMAX）",
    "block_bootstrap": "历史月度到位额分块自助抽样",
    "zero": "无到位记录，按0计",
}


def _fallback_reason(y: np.ndarray, min_history: int, max_zero_share: float) -> str | None:
    if y.size == 0:
        return "统计日前没有资金到位记录：预测期内新增到位资金按0计"
    if y.size < min_history:
        return (
            f"只有{y.size}个月的资金到位记录（少于{min_history}个月），不足以拟合模型："
            "改用对历史月度到位额的分块自助抽样"
        )
    zero_share = float(np.mean(y <= 0))
    if zero_share > max_zero_share:
        return (
            f"{y.size}个月中{zero_share:.0%}的月份没有资金到位（超过{max_zero_share:.0%}），"
            "序列过于稀疏，不宜拟合模型：改用对历史月度到位额的分块自助抽样"
        )
    return None


def _inflow_paths(
    monthly: pd.Series,
    *,
    h: int,
    n: int,
    rng: np.random.Generator,
    skip: int,
    min_history: int,
    max_zero_share: float,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Inflow paths ``(n, h)`` (unclipped) from the back-test winner, or from the fallback."""
    y = monthly.to_numpy(dtype="float64")
    info: dict[str, Any] = {
        "backtest": pd.DataFrame(columns=["model", "spec", "mase", "mae_yuan", "status", "chosen"]),
        "mase": {},
        "reason": _fallback_reason(y, min_history, max_zero_share),
    }
    if info["reason"] is None and y.size < BACKTEST_HOLDOUT_MONTHS + SEASON:
        info["reason"] = f"only {y.size} months: too short for a 12-month back-test"
    if info["reason"] is None:
        bt = backtest_inflow_models(monthly)
        info |= {"backtest": bt.summary, "mase": bt.assumptions["mase"]}
        winner = bt.assumptions["winner"]
        if winner is None:
            info["reason"] = "no candidate model could be fitted in the back-test"
        else:
            specs = bt.frames["specs"].set_index("model")["spec_params"]
            unit = _scale(y)
            try:
                res, spec = _fit(winner, y / unit, specs[winner] or None)
                sim = _simulate(winner, res, y / unit, h + skip, n, rng)[:, skip:] * unit
                if not np.all(np.isfinite(sim)):
                    raise ValueError("non-finite simulated inflows")
                return sim, info | {"method": winner, "spec": _spec_text(winner, spec)}
            except (ValueError, np.linalg.LinAlgError) as exc:
                info["reason"] = f"the chosen model ({winner}) failed on the full history: {exc}"
    log.warning("inflow forecast falls back to a simpler method: %s", info["reason"])
    if not y.size:
        return np.zeros((n, h)), info | {"method": "zero", "spec": "no inflow: 0 every month"}
    spec = (
        f"block bootstrap: blocks of {min(BOOTSTRAP_BLOCK_MONTHS, y.size)} consecutive months "
        f"from the last {min(BOOTSTRAP_WINDOW_MONTHS, y.size)} months"
    )
    return _block_bootstrap(y, h, n, rng), info | {"method": "block_bootstrap", "spec": spec}


@_blas_single_thread()
def forecast_inflows(
    funding: pd.DataFrame | None,
    *,
    as_of,
    horizon_months: int = 12,
    n_paths: int = DEFAULT_N_PATHS,
    seed: int = 2021,
    min_history_months: int = MIN_HISTORY_MONTHS,
    max_zero_share: float = MAX_ZERO_SHARE,
) -> ForecastResult:
    """Simulated monthly inflows over the horizon from the model that wins the back-test.

    Parameters
    ----------
    funding
        Canonical ``funding`` table (not modified).
    as_of
        Reporting date (history: complete months up to it, see :func:`compute_monthly_inflows`).
    horizon_months
        Months simulated after the month of ``as_of`` (default 12).
    n_paths
        Simulated paths (default 10,000).
    seed
        Seed (the inflows use the second child of ``SeedSequence(seed)``).
    min_history_months, max_zero_share
        A history shorter than ``min_history_months`` (default 24) or with more than
        ``max_zero_share`` (default 0.5) of months without inflow is not modelled: the
        fallback is a block bootstrap, with the reason returned and logged.

    Returns
    -------
    ForecastResult
        ``summary``: one row per horizon month — ``month`` (period), ``horizon_month`` (1..H),
        ``inflow_mean_yuan``, ``inflow_p10_yuan``, ``inflow_p50_yuan``, ``inflow_p90_yuan``.
        ``frames``: ``"history"`` (the monthly series), ``"backtest"`` (every candidate's MASE;
        empty when not run). ``samples``: ``"inflows"`` ``(n_paths, horizon_months)`` yuan.
        ``assumptions``: ``method`` (naive, seasonal_naive, ets, sarimax, block_bootstrap or
        zero), ``why``, ``backtest_mase``, ``fallback_reason``, history length.

    Notes
    -----
    Models run on the yuan scale (divided by the mean month for numerical stability) with
    additive errors; simulated months are clipped at 0, so no month is negative, and capped at
    10 × the largest month on record (a guard, rarely binding). A log1p scale was tried and
    rejected: the zero months of lumpy series give the log scale so large a variance that
    simulated yearly sums run to absurd multiples of any year on record. ETS paths come from
    :meth:`ETSResults.simulate <statsmodels.tsa.exponential_smoothing.ets.ETSResults.simulate>`;
    SARIMAX paths are its point forecast plus Gaussian innovations through the model's ψ weights
    (the same predictive distribution as ``simulate``, much faster); naive and seasonal-naive
    paths add resampled past month-to-month (year-on-year) changes. The block bootstrap draws
    blocks of 3 consecutive months from the last 36 months. Parameter uncertainty of the models
    is not simulated.
    """
    as_of = resolve_as_of(as_of)
    _check_common(horizon_months, n_paths, 0, seed)
    h, n = int(horizon_months), int(n_paths)
    monthly = compute_monthly_inflows(funding, as_of=as_of)
    y = monthly.to_numpy(dtype="float64")
    _, rng = _streams(seed)
    # mid-month as_of: the series ends a month early, so the model's first month is skipped
    skip = 0 if as_of.is_month_end else 1
    paths, info = _inflow_paths(
        monthly,
        h=h,
        n=n,
        rng=rng,
        skip=skip,
        min_history=int(min_history_months),
        max_zero_share=float(max_zero_share),
    )
    method, reason, mase = info["method"], info["reason"], info["mase"]
    cap = INFLOW_CAP_MULTIPLE * float(y.max()) if y.size else 0.0
    paths = np.clip(paths, 0.0, cap)
    months = pd.period_range(
        as_of.to_period("M") + 1,
        periods=h,
        freq="M",
        name="month",
    )
    q = _quantiles(paths)
    summary = pd.DataFrame(
        {
            "month": months,
            "horizon_month": np.arange(1, h + 1),
            **{f"inflow_{k}_yuan": v for k, v in q.items()},
        }
    )
    if method in _CANDIDATES:
        why = (
            f"资金到位预测选用“{MODEL_LABELS.get(method, method)}”：用最后{BACKTEST_HOLDOUT_MONTHS}"
            f"个月回测，其平均绝对标度误差（MASE）{mase[method]:.3f}最小（"
            + "，".join(
                f"{MODEL_LABELS.get(k, k)} {'无法计算' if v is None else f'{v:.3f}'}"
                for k, v in mase.items()
            )
            + "）"
        )
    else:
        why = reason
    assumptions = {
        "method": method,
        "spec": info["spec"],
        "why": why,
        "fallback_reason": reason,
        "backtest_mase": mase,
        "backtest_holdout_months": BACKTEST_HOLDOUT_MONTHS if mase else None,
        "history_months": int(y.size),
        "history_nonzero_months": int((y > 0).sum()),
        "history_start": None if not y.size else str(monthly.index[0]),
        "history_end": None if not y.size else str(monthly.index[-1]),
        "non_negative": "yuan scale, simulated months clipped at 0 and capped at "
        f"{INFLOW_CAP_MULTIPLE:g} × the largest month on record",
        "n_paths": n,
        "seed": int(seed),
    }
    return ForecastResult(
        summary=summary,
        assumptions=assumptions,
        frames={"history": monthly.to_frame(), "backtest": info["backtest"]},
        samples={"inflows": paths},
    )


# --------------------------------------------------------------------------------------------------
# funding gap


def _scenario_list(scenarios: Sequence[Scenario] | None) -> list[Scenario]:
    items = list(DEFAULT_SCENARIOS if scenarios is None else scenarios)
    for sc in items:
        if not isinstance(sc, Scenario):
            raise ParameterError(f"scenarios must be Scenario objects, got {sc!r}")
    if not any(sc.name == "baseline" for sc in items):
        items.insert(0, Scenario("baseline"))
    names = [sc.name for sc in items]
    if len(set(names)) != len(names):
        raise ParameterError(f"scenario names must be unique, got {names}")
    base = next(sc for sc in items if sc.name == "baseline")
    if base != Scenario("baseline"):
        raise ParameterError("the scenario named 'baseline' must change nothing")
    return items


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


@_blas_single_thread()
def forecast_funding_gap(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of,
    horizon_months: int = 12,
    n_paths: int = DEFAULT_N_PATHS,
    seed: int = 2021,
    lag_months: int = DEFAULT_LAG_MONTHS,
    scenarios: Sequence[Scenario] | None = None,
    escalation: Escalation = DEFAULT_ESCALATION,
    distribution: Distribution = "lognormal",
) -> ForecastResult:
    """The funding gap at the horizon (indicators.md), simulated, with scenarios side by side.

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
        Parametric tail of the delivery model.

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
    as_of = resolve_as_of(as_of)
    _check_common(horizon_months, n_paths, lag_months, seed)
    items = _scenario_list(scenarios)
    h, n, lag = int(horizon_months), int(n_paths), int(lag_months)
    horizon_end = as_of + pd.DateOffset(months=h)
    sites = table_from(tables, "sites")
    delivery = fit_delivery_model(sites, as_of=as_of, distribution=distribution)
    fee_model = _fee_model(
        tables, as_of=as_of, horizon_months=h, delivery=delivery, escalation=escalation
    )
    rng_delivery, _ = _streams(seed)
    draws = delivery.sample_months_after(n, rng_delivery)
    inflows = forecast_inflows(
        table_from(tables, "funding"), as_of=as_of, horizon_months=h, n_paths=n, seed=seed
    )
    inflow_paths = inflows.samples["inflows"]

    payments = table_from(tables, "payments")
    balances = compute_agreement_balances(table_from(tables, "agreements"), payments, as_of=as_of)
    unpaid_due = float(
        balances.loc[balances["payment_due_date"].le(horizon_end), "unpaid_yuan"].sum()
    )
    funding = table_from(tables, "funding")
    cash = float(funding.loc[funding["date"].le(as_of), "amount_yuan"].sum()) - float(
        payments.loc[payments["date"].le(as_of), "amount_yuan"].sum()
    )

    rows, samples, frames = [], {"inflows": inflow_paths}, {}
    for sc in items:
        fees, marginal, in_h = _run_fees(
            fee_model, draws, lag_months=lag, delay_months=sc.delivery_delay_months
        )
        fee_total = fees.sum(axis=1)
        inflow_total = inflow_paths.sum(axis=1) * sc.inflow_factor
        if sc.lump_month <= h:
            inflow_total = inflow_total + sc.lump_yuan
        gap = unpaid_due + fee_total - (cash + inflow_total)
        samples[f"gap:{sc.name}"] = gap
        samples[f"fees:{sc.name}"] = fee_total
        rows.append(
            {
                "scenario": sc.name,
                "description": sc.describe(),
                "inflow_factor": sc.inflow_factor,
                "lump_yuan": sc.lump_yuan,
                "lump_month": sc.lump_month,
                "delivery_delay_months": sc.delivery_delay_months,
                "unpaid_compensation_due_yuan": unpaid_due,
                "cash_balance_yuan": cash,
                **{f"fee_{k}_yuan": float(v) for k, v in _quantiles(fee_total).items()},
                **{f"inflow_{k}_yuan": float(v) for k, v in _quantiles(inflow_total).items()},
                **{f"gap_{k}_yuan": float(v) for k, v in _quantiles(gap).items()},
                "prob_gap_closed": float(np.mean(gap <= 0)),
            }
        )
        if sc.name == "baseline":
            _, by_site, by_zone = _fee_frames(fee_model, fees, marginal, in_h)
            frames = {"fees_by_site": by_site, "fees_by_zone": by_zone}
    frames |= {"inflows": inflows.summary, "backtest": inflows.frames["backtest"]}
    summary = pd.DataFrame(rows).astype({"scenario": "str", "description": "str"})

    fee_info = _fee_assumptions(fee_model, lag_months=lag, escalation=escalation)
    assumptions = {
        "as_of": as_of.date().isoformat(),
        "horizon_months": h,
        "horizon_end": horizon_end.date().isoformat(),
        "n_paths": n,
        "seed": int(seed),
        "lag_months": lag,
        "escalation_tiers": fee_info["escalation_tiers"],
        "gap_definition": (
            "资金缺口 = 统计日前已签协议中支付期限不晚于预测期末的未付补偿款 + 预测期内按交付预测应计的"
            "过渡安置费 −（统计日资金结余 + 预测期内模拟到位资金）；缺口≤0即资金可覆盖。"
        ),
        "gap_components": {
            "unpaid_compensation_due_yuan": unpaid_due,
            "cash_balance_yuan": cash,
            "transition_fee_arrears_yuan_not_included": fee_model.arrears_yuan,
        },
        "scenario": "baseline",
        "scenarios": {
            sc.name: {
                "description": sc.describe(),
                "inflow_factor": sc.inflow_factor,
                "lump_yuan": sc.lump_yuan,
                "lump_month": sc.lump_month,
                "delivery_delay_months": sc.delivery_delay_months,
            }
            for sc in items
        },
        "inflows": inflows.assumptions,
        "fees": fee_info,
        "delivery": {
            "tail": delivery.tail.describe() if delivery.tail else None,
            "km_reaches_months": delivery.tau,
            "sites_started": delivery.n_sites,
            "sites_delivered": delivery.n_events,
            "sites_forecast": len(delivery.sites),
            "independence": "各安置区交付相互独立抽样，资金到位与交付独立；共同冲击（如资金断供"
            "导致全部延期）不在区间内，见延期与减少到位情景。",
        },
        "data": {
            "sites_started": delivery.n_sites,
            "sites_delivered": delivery.n_events,
            "sites_forecast": len(delivery.sites),
            "households_in_transition": fee_info["households_in_transition"],
            "funding_history_months": inflows.assumptions["history_months"],
            "funding_nonzero_months": inflows.assumptions["history_nonzero_months"],
            "agreements_signed": len(balances),
        },
        "warning": _data_warning(
            n_sites=delivery.n_sites,
            n_events=delivery.n_events,
            n_forecast=len(delivery.sites),
            inflows=inflows.assumptions,
            households=fee_info["households_in_transition"],
        ),
    }
    if assumptions["warning"]:
        log.info("forecast at %s: %s", as_of.date(), assumptions["warning"])
    return ForecastResult(summary=summary, assumptions=assumptions, frames=frames, samples=samples)


# --------------------------------------------------------------------------------------------------
# key figures


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


@_blas_single_thread()
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
