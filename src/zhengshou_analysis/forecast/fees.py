"""Transitional fees (过渡安置费) over the forecast horizon, simulated from delivery forecasts.

:func:`simulate_transition_fees`: simulated delivery dates (:mod:`zhengshou_analysis.forecast.delivery`)
drive each household's remaining fee months, with the policy's escalation rule (docs/indicators.md) applied month by
month (closed form, vectorised). :func:`build_fee_model` builds the per-site fee tables once;
:class:`FeeModel` looks them up per simulated path (the funding gap reuses it for every scenario).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..figures.common import NA_GROUP
from ..figures.fees import compute_transition_fees
from ..periods import duration_months
from ..results import ForecastResult
from ..schemas import ZONE_NAMES, table_from
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
from .scenarios import Scenario
from .tail import Distribution

__all__ = ["FeeModel", "build_fee_model", "simulate_transition_fees"]

log = logging.getLogger(__name__)

#: The marginal-cost table reaches at most this many months beyond the horizon.
_MAX_EXTRA_MONTHS = 600


def _weight(k: np.ndarray, agreed: np.ndarray, escalation: Escalation) -> np.ndarray:
    """C(k): Σ of the multipliers of fee months 1..k (1.0 up to ``agreed``, escalated after)."""
    over = np.where(np.isnan(agreed), 0.0, np.maximum(k - np.nan_to_num(agreed), 0.0))
    return (k - over) + escalation.cumulative(over)


@dataclass(frozen=True)
class FeeModel:
    """Per delivery group (a site, or no site) fee tables, built once by :func:`build_fee_model`.

    Every household of a site shares the site's exit month, so ``sites × (H + 1)`` tables are
    looked up per simulated path (see :func:`simulate_transition_fees`).

    Attributes
    ----------
    groups
        One row per delivery group: ``site_id``, ``site_name``, ``zone``, ``rule``
        (``forecast``/``delivered``/``no_site``), ``households``, ``fixed_months``,
        ``site_index`` (column in the delivery draws, -1 when not simulated).
    horizon_table
        ``(groups, H + 1)`` yuan: Σ base·(C(K0+e) − C(K0)) for e = 0..H fee months.
    marginal_table
        ``(groups, E + 1)`` yuan: Σ base·(C(K0+e+1) − C(K0+e)), the fee of one more month.
    households
        One row per household in transition at ``as_of`` with its exit rule.
    horizon_months
        H, months after ``as_of``.
    arrears_yuan
        Fee arrears accrued by ``as_of`` (all households), yuan.
    """

    groups: pd.DataFrame
    horizon_table: np.ndarray  # (groups, H + 1): Σ base·(C(K0+e) − C(K0)), e = 0..H
    marginal_table: np.ndarray  # (groups, E + 1): Σ base·(C(K0+e+1) − C(K0+e))
    households: pd.DataFrame
    horizon_months: int
    arrears_yuan: float

    def fee_months_left(
        self,
        months_to_delivery: np.ndarray,
        *,
        lag_months: int,
        delay_months: int = 0,
    ) -> np.ndarray:
        """Fee months each group still pays after ``as_of`` (``e``), per path and group.

        Parameters
        ----------
        months_to_delivery
            ``(n_paths, n_forecast_sites)`` months after ``as_of`` (floats), rounded up to whole
            months here.
        lag_months
            Months in transition after delivery.
        delay_months
            Extra months added to every simulated delivery.

        Returns
        -------
        numpy.ndarray
            ``(n_paths, n_groups)`` whole months (float), at least 1: months from ``as_of`` to
            the delivery (rounded up; fixed for delivered sites and households without a site)
            + ``lag_months`` (+ ``delay_months`` for simulated sites). ``e ≥ H`` means the group
            is still in transition at the horizon end and pays every month of the horizon.
        """
        g = self.groups
        n_paths = months_to_delivery.shape[0]
        fixed = g["fixed_months"].to_numpy(dtype="float64")
        m = np.broadcast_to(fixed, (n_paths, len(g))).copy()
        sim = g["site_index"].to_numpy() >= 0
        if sim.any():
            idx = g.loc[sim, "site_index"].to_numpy()
            m[:, sim] = np.ceil(months_to_delivery[:, idx]) + delay_months
        return np.maximum(m + lag_months, 1.0)

    def paths(
        self,
        months_to_delivery: np.ndarray,
        *,
        lag_months: int,
        delay_months: int = 0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fees over the horizon and the cost of one more month, per path and group.

        Parameters
        ----------
        months_to_delivery
            ``(n_paths, n_forecast_sites)`` months after ``as_of`` (floats), rounded up to whole
            months here.
        lag_months
            Months in transition after delivery.
        delay_months
            Extra months added to every simulated delivery.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            Two ``(n_paths, n_groups)`` arrays in yuan: fees over the horizon, and the fee of the
            first month after the exit. Every household pays at least one more fee month.
        """
        g = self.groups
        e = self.fee_months_left(
            months_to_delivery, lag_months=lag_months, delay_months=delay_months
        )
        h = self.horizon_months
        e_cap = self.marginal_table.shape[1] - 1
        cols = np.arange(len(g))[None, :]
        fees = self.horizon_table[cols, np.minimum(e, h).astype("int64")]
        marginal = self.marginal_table[cols, np.minimum(e, e_cap).astype("int64")]
        return fees, marginal

    def frames(
        self, fees: np.ndarray, marginal: np.ndarray, in_horizon: np.ndarray, whole: np.ndarray
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Summary, per-site and per-片区 frames of simulated fees (see :func:`simulate_transition_fees`).

        Parameters
        ----------
        fees, marginal, in_horizon, whole
            The four ``(n_paths, n_groups)`` arrays of :meth:`simulate` (yuan; ``whole``
            boolean).

        Returns
        -------
        (pandas.DataFrame, pandas.DataFrame, pandas.DataFrame)
            ``summary`` (one row: households, quantiles of the total and
            ``prob_pays_whole_horizon``), ``by_site`` (``prob_pays_whole_horizon``: share of
            paths in which the group is still in transition at the horizon end) and ``by_zone``.
            For the total and a 片区, ``prob_pays_whole_horizon`` is the share of paths in which
            the households of every undelivered (simulated) site are still in transition at the
            horizon end — the others' fees are the same on every path, so this is how often the
            fee is at its maximum — and NaN without an undelivered site.
        """
        g = self.groups
        forecast = g["rule"].eq("forecast").to_numpy(dtype=bool)
        total = fees.sum(axis=1)
        q = path_quantiles(total)
        summary = pd.DataFrame(
            {
                "households": [int(g["households"].sum())],
                **{f"fee_{k}_yuan": [float(v)] for k, v in q.items()},
                "prob_pays_whole_horizon": [_share_all(whole[:, forecast])],
            }
        )
        qs = (
            path_quantiles(fees)
            if len(g)
            else {k: np.zeros(0) for k in ("mean", "p10", "p50", "p90")}
        )
        by_site = g.drop(columns=["fixed_months", "site_index"]).assign(
            **{f"fee_{k}_yuan": v for k, v in qs.items()},
            prob_pays_whole_horizon=whole.mean(axis=0) if len(g) else np.zeros(0),
            delay_cost_month_yuan=np.where(
                forecast, marginal.mean(axis=0) if len(g) else 0, np.nan
            ),
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
            zq = path_quantiles(fees[:, cols].sum(axis=1))
            rows.append(
                {
                    "zone": z,
                    "households": int(g.loc[cols, "households"].sum()),
                    **{f"fee_{k}_yuan": float(v) for k, v in zq.items()},
                    "prob_pays_whole_horizon": _share_all(whole[:, cols & forecast]),
                }
            )
        by_zone = pd.DataFrame(
            rows,
            columns=[
                "zone",
                "households",
                *(f"fee_{k}_yuan" for k in q),
                "prob_pays_whole_horizon",
            ],
        ).astype({"zone": "str", "prob_pays_whole_horizon": "float64"})
        return summary, by_site, by_zone

    def simulate(
        self, draws: np.ndarray, *, lag_months: int, delay_months: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Fees over the horizon, the cost of one more month of delay, its part in the horizon.

        Parameters
        ----------
        draws
            ``(n_paths, n_forecast_sites)`` months from ``as_of`` to delivery (floats), e.g.
            :meth:`DeliveryModel.sample_months_after`.
        lag_months
            Months a household stays in transition after its site is delivered.
        delay_months
            Extra months added to every simulated delivery (a scenario).

        Returns
        -------
        (numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray)
            Four ``(n_paths, n_groups)`` arrays: fees over the horizon, the fee of one more fee
            month after the exit, how much one more month of delay adds within the horizon (yuan),
            and whether the group is still in transition at the horizon end (``e ≥ H``: it pays
            every month of the horizon, so its fee is at the cap ``horizon_table[:, H]``).
        """
        fees, marginal = self.paths(draws, lag_months=lag_months, delay_months=delay_months)
        later, _ = self.paths(draws, lag_months=lag_months, delay_months=delay_months + 1)
        e = self.fee_months_left(draws, lag_months=lag_months, delay_months=delay_months)
        return fees, marginal, later - fees, e >= self.horizon_months

    def assumptions(self, *, lag_months: int, escalation: Escalation) -> dict[str, Any]:
        """The exit and fee rules, escalation tiers and household counts, JSON-ready.

        Parameters
        ----------
        lag_months
            Months in transition after delivery (stated in the exit rule).
        escalation
            The escalation used (its tiers are listed).

        Returns
        -------
        dict
            ``lag_months``, ``escalation_tiers``, ``households_in_transition``,
            ``households_by_rule`` and the rules in Chinese (``exit_rule``, ``fee_rule``,
            ``delay_cost``).
        """
        counts = self.groups.groupby("rule")["households"].sum()
        return {
            "lag_months": int(lag_months),
            "escalation_tiers": [[int(s), float(m)] for s, m in escalation.tiers],
            "households_in_transition": int(self.groups["households"].sum()),
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


def _share_all(whole: np.ndarray) -> float:
    """Share of paths (rows) in which every group (column) is still in transition at the end.

    NaN without a column (no simulated site) or without a path.
    """
    if not whole.shape[0] or not whole.shape[1]:
        return float("nan")
    return float(np.mean(whole.all(axis=1)))


def _classify_households(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp,
    site_rows: pd.DataFrame,
    forecast_ids: Mapping[str, int],
    escalation: Escalation,
    transition_fees: pd.DataFrame | None,
) -> tuple[pd.DataFrame, float]:
    """Households in transition at ``as_of`` with what decides their exit; and all fee arrears.

    ``rule`` is ``forecast`` (site undelivered: simulated), ``delivered`` (site delivered by
    ``as_of``) or ``no_site``; ``fixed_months`` is the months from ``as_of`` to the delivery,
    rounded up (≤ 0 for delivered sites, 0 — "now" — without a site).
    """
    hh = transition_fees
    if hh is None:
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


def build_fee_model(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp,
    horizon_months: int,
    delivery: DeliveryModel,
    escalation: Escalation,
    transition_fees: pd.DataFrame | None = None,
) -> FeeModel:
    """Households in transition at ``as_of``, grouped by what decides their exit, with fee tables.

    Parameters
    ----------
    tables
        Canonical tables (``sites``; ``transition`` and ``payments`` unless ``transition_fees``
        is given); not modified.
    as_of
        Reporting date (resolved).
    horizon_months
        H, months after ``as_of``.
    delivery
        The delivery model whose undelivered sites are simulated.
    escalation
        Overdue escalation of the fee.
    transition_fees
        Pre-computed :func:`~zhengshou_analysis.figures.fees.compute_transition_fees` of
        the tables at ``as_of`` with ``sites`` and the same ``escalation`` (not modified);
        computed when ``None``.

    Returns
    -------
    FeeModel
        One group per site (and one for households without a known site), with the fee tables.
    """
    sites = table_from(tables, "sites")
    site_rows = sites.loc[sites["site_id"].notna()].drop_duplicates("site_id").set_index("site_id")
    forecast_ids = dict(zip(delivery.sites["site_id"], range(len(delivery.sites)), strict=True))
    hh, arrears = _classify_households(
        tables,
        as_of=as_of,
        site_rows=site_rows,
        forecast_ids=forecast_ids,
        escalation=escalation,
        transition_fees=transition_fees,
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
    return FeeModel(
        groups=groups,
        horizon_table=horizon_table,
        marginal_table=marginal_table,
        households=hh,
        horizon_months=horizon_months,
        arrears_yuan=arrears,
    )


@single_threaded_blas()
def simulate_transition_fees(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: DateLike,
    horizon_months: int = 12,
    n_paths: int = DEFAULT_N_PATHS,
    seed: int = 2021,
    lag_months: int = DEFAULT_LAG_MONTHS,
    delivery_delay_months: int = 0,
    escalation: Escalation = DEFAULT_ESCALATION,
    distribution: Distribution | None = None,
    delivery: DeliveryModel | None = None,
    transition_fees: pd.DataFrame | None = None,
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
        Overdue escalation of the fee (default: the example rule of docs/indicators.md).
    distribution
        Parametric tail of the delivery model (``"lognormal"`` or ``"weibull"``; default: the
        family of ``delivery``, else lognormal).
    delivery
        Pre-fitted :func:`~zhengshou_analysis.forecast.delivery.fit_delivery_model` at the same
        ``as_of``; fitted when ``None``.
    transition_fees
        Pre-computed :func:`~zhengshou_analysis.figures.fees.compute_transition_fees` at
        ``as_of`` (with ``sites`` and the same ``escalation``); computed when ``None``. Results
        are identical whichever is given.

    Returns
    -------
    ForecastResult
        ``summary``: one row — ``households``, ``fee_mean_yuan``, ``fee_p10_yuan``,
        ``fee_p50_yuan``, ``fee_p90_yuan`` (total over the horizon) and
        ``prob_pays_whole_horizon`` (share of paths in which the households of every undelivered
        site are still in transition at the horizon end, so the total is at its maximum; NaN
        without an undelivered site). ``frames``: ``"by_site"``
        (per site, plus one row ``未注明`` for households without a known site: ``rule``
        ``forecast``/``delivered``/``no_site``, ``households``, the same quantiles,
        ``prob_pays_whole_horizon`` — share of paths in which the site's households still pay
        for every month of the horizon — and for forecast sites ``delay_cost_month_yuan`` — the
        expected cost of one more month of delay — and ``delay_cost_month_in_horizon_yuan``),
        ``"by_zone"`` (per 片区: quantiles of the per-path sum and ``prob_pays_whole_horizon``,
        as for the total over the 片区's undelivered sites), ``"households"`` (inputs per
        household). ``samples``: ``"total"``
        ``(n_paths,)`` and ``"by_site"`` ``(n_paths, sites)`` (columns as ``by_site`` rows; they
        add up to ``total`` path by path). ``assumptions``: the exit and fee rules.

    Notes
    -----
    For a household with ``K0`` fee months charged by ``as_of``, agreed period ``a`` and base fee
    ``b`` (yuan per month), leaving after ``e`` more fee months, the fees over the horizon are

    .. math:: b\\,[C(K_0 + \\min(e, H)) - C(K_0)],\\quad C(k) = \\min(k, a) + M(k - a),

    with ``M(n)`` the escalated multiplier sum of overdue months 1..n
    (:meth:`~zhengshou_analysis.settings.Escalation.cumulative`), the same rule as the accrued fee
    of :func:`~zhengshou_analysis.figures.fees.compute_transition_fees`. ``e`` = months from
    ``as_of`` to the (simulated) delivery, rounded up, + ``lag_months``, at least 1. Every
    household of a site shares the site's ``e``, so a ``sites × (H + 1)`` table built once is
    looked up per path: the cost grows with households × horizon plus paths × sites, never their
    product. Fees are never negative (multipliers ≥ 1).

    A site whose households pay every month of the horizon (``e ≥ H``) is at its cap
    ``b [C(K_0 + H) − C(K_0)]``: P90 is the cap as soon as more than a tenth of the paths pay
    the whole horizon, and P50 too when more than half do. P50 = P90 is then the right answer,
    not a defect; ``prob_pays_whole_horizon`` says how often it is so.
    """
    as_of_ts = resolve_as_of(as_of)
    check_simulation_args(horizon_months, n_paths, lag_months, seed)
    Scenario(delivery_delay_months=delivery_delay_months)  # validates
    delivery = resolve_delivery_model(
        table_from(tables, "sites"), as_of=as_of_ts, distribution=distribution, model=delivery
    )
    model = build_fee_model(
        tables,
        as_of=as_of_ts,
        horizon_months=int(horizon_months),
        delivery=delivery,
        escalation=escalation,
        transition_fees=transition_fees,
    )
    rng, _ = random_streams(seed)
    draws = delivery.sample_months_after(int(n_paths), rng)
    fees, marginal, in_h, whole = model.simulate(
        draws, lag_months=int(lag_months), delay_months=int(delivery_delay_months)
    )
    summary, by_site, by_zone = model.frames(fees, marginal, in_h, whole)
    assumptions = {
        "as_of": as_of_ts.date().isoformat(),
        "horizon_months": int(horizon_months),
        "n_paths": int(n_paths),
        "seed": int(seed),
        "delivery_delay_months": int(delivery_delay_months),
        **model.assumptions(lag_months=int(lag_months), escalation=escalation),
    }
    hh_cols = ["agreement_id", "site_id", "group", "rule", "fee_months", "agreed_months", "base"]
    return ForecastResult(
        summary=summary,
        assumptions=assumptions,
        frames={"by_site": by_site, "by_zone": by_zone, "households": model.households[hh_cols]},
        samples={"total": fees.sum(axis=1), "by_site": fees},
    )
