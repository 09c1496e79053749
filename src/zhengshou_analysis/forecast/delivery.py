"""Delivery-date forecasts of resettlement sites: Kaplan–Meier body spliced to a parametric tail.

* :func:`fit_delivery_model` / :class:`DeliveryModel` — the KM curve where it reaches, spliced to
  the parametric tail (:mod:`zhengshou_analysis.forecast.tail`) where it does not; conditional
  quantiles and seeded samples of the delivery of each undelivered site given that it is still
  undelivered at ``as_of``.
* :func:`forecast_site_delivery` — P50 and P90 delivery dates of every undelivered site.

Build time is in duration months (days / 30.4375); a site not delivered by ``as_of`` is
right-censored there, never dropped. Inputs are never modified.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..exceptions import ParameterError
from ..figures.common import NA_GROUP
from ..figures.sites import BuildTimeKM
from ..periods import DAYS_PER_MONTH, duration_months
from ..results import ForecastResult
from ..schemas import conform_table
from ..settings import resolve_as_of
from .blas import single_threaded_blas
from .common import DateLike, scipy_special, site_status_and_km
from .tail import (
    DISTRIBUTIONS,
    MIN_MONTHS,
    PRIOR_MEDIAN_FALLBACK_MONTHS,
    Distribution,
    TailFit,
    check_distribution,
    fit_survival_tail,
)

__all__ = [
    "DeliveryModel",
    "fit_delivery_model",
    "forecast_site_delivery",
    "resolve_delivery_model",
]

log = logging.getLogger(__name__)

#: The KM body is used only where at least this many sites are at risk.
MIN_AT_RISK = 3
#: Delivery draws are capped this many months after ``as_of`` (100 years: "not in any horizon").
MAX_MONTHS_AFTER_AS_OF = 1200.0


@dataclass(frozen=True)
class DeliveryModel:
    """Build-time distribution (KM body + parametric tail) and the sites still to be delivered.

    Built by :func:`fit_delivery_model`. ``S(t)`` is the Kaplan–Meier curve for ``t ≤ tau``, the
    last delivery time at which the curve is still above 0, and
    ``S(tau) · S_tail(t) / S_tail(tau)`` beyond it: the parametric tail takes over where the KM
    curve does not reach. A site of age ``c`` at ``as_of`` (build months so far, 0 when not yet
    started) is delivered at build time ``T`` with ``P(T > t | T > c) = S(t) / S(c)``.

    Attributes
    ----------
    as_of
        Reporting date.
    km_times, km_surv
        Delivery times (months) of the KM body and the curve just after each.
    tau, s_tau
        End of the KM body and ``S(tau)`` (0 and 1 when there is no body).
    tail
        The fitted parametric tail (``None`` only when there are no sites at all).
    sites
        One row per site not delivered by ``as_of``: ``site_id``, ``site_name``, ``zone``,
        ``start_date``, ``promised_date``, ``started``, ``age_months`` (``as_of − start_date``,
        negative when not started), ``condition_months`` (max(age, 0)), ``overdue_months``
        (``as_of − promised_date`` when positive, else 0).
    n_sites, n_events
        Sites started by ``as_of`` and deliveries among them (what the model rests on).
    distribution
        Family of :attr:`tail`: ``"lognormal"`` or ``"weibull"``.
    tail_comparison
        Both families fitted once to the started sites, by name (empty when none has started):
        the chosen one is :attr:`tail` itself; the other is fitted with its prior centred on the
        chosen tail's median (it matters only for the MAP fallback). Shown side by side by
        :func:`forecast_site_delivery`.
    """

    as_of: pd.Timestamp
    km_times: np.ndarray
    km_surv: np.ndarray
    tau: float
    s_tau: float
    tail: TailFit | None
    sites: pd.DataFrame
    n_sites: int
    n_events: int
    distribution: str = "lognormal"
    tail_comparison: Mapping[str, TailFit] = field(default_factory=dict)

    def log_survival(self, months: ArrayLike) -> np.ndarray:
        """log S(t) of the spliced curve (KM body, then the tail).

        Parameters
        ----------
        months
            Build months (array-like).

        Returns
        -------
        numpy.ndarray
            log P(T > t), same shape as ``months``; ``-inf`` where the KM body reaches 0 and
            there is no tail.
        """
        t = np.asarray(months, dtype="float64")
        idx = np.searchsorted(self.km_times, t, side="right") - 1
        body = np.where(
            idx >= 0, self.km_surv[np.maximum(idx, 0)] if self.km_surv.size else 1.0, 1.0
        )
        with np.errstate(divide="ignore"):
            out = np.log(body)
        if self.tail is not None:
            beyond = t > self.tau
            if beyond.any():
                tail_part = (
                    math.log(self.s_tau)
                    + self.tail.log_survival(t)
                    - float(self.tail.log_survival(max(self.tau, MIN_MONTHS)))
                )
                out = np.where(beyond, tail_part, out)
        return out

    def _build_months(self, log_target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smallest t with log S(t) ≤ log_target, and whether it came from the KM body."""
        in_body = (log_target >= math.log(self.s_tau)) & (self.km_times.size > 0)
        t_body = np.zeros_like(log_target)
        if self.km_times.size:
            target = np.exp(log_target)
            i = np.searchsorted(-self.km_surv, -target, side="left")
            t_body = self.km_times[np.minimum(i, self.km_times.size - 1)]
        t_tail = t_body
        if self.tail is not None:
            lp = (
                log_target
                - math.log(self.s_tau)
                + float(self.tail.log_survival(max(self.tau, MIN_MONTHS)))
            )
            t_tail = self.tail.inverse_log_survival(lp)
        return np.where(in_body, t_body, t_tail), in_body

    def months_after_as_of(self, u) -> tuple[np.ndarray, np.ndarray]:
        """Months from ``as_of`` to delivery for conditional survival levels ``u`` in (0, 1).

        Parameters
        ----------
        u
            Array whose last axis runs over :attr:`sites`: the delivery of site ``i`` is the ``t``
            with ``S(t) / S(c_i) = u``. ``u = 1 − q`` gives the ``q`` quantile.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            Months after ``as_of`` (> 0, at most 1200) and whether each value came from the KM
            body (else the parametric tail).
        """
        u = np.clip(np.asarray(u, dtype="float64"), 1e-300, 1.0)
        c = self.sites["condition_months"].to_numpy(dtype="float64")
        age = self.sites["age_months"].to_numpy(dtype="float64")
        log_target = np.log(u) + self.log_survival(c)
        t, body = self._build_months(log_target)
        t = np.maximum(t, c)
        after = np.clip(t - age, 1.0 / DAYS_PER_MONTH, MAX_MONTHS_AFTER_AS_OF)
        return after, np.broadcast_to(body, after.shape)

    def sample_months_after(
        self, n_paths: int, rng: np.random.Generator, *, correlation: float = 0.0
    ) -> np.ndarray:
        """Simulated months from ``as_of`` to delivery of every undelivered site.

        Parameters
        ----------
        n_paths
            Number of paths.
        rng
            Generator the draws come from (consumed: the same generator state gives the same
            draws).
        correlation
            Common correlation in [0, 1) of a Gaussian copula that makes all sites late (or early)
            together; 0 (default) draws the sites independently.

        Returns
        -------
        numpy.ndarray
            ``(n_paths, n_sites)`` months after ``as_of`` (columns as :attr:`sites`), each in
            (0, 1200]; ``(n_paths, 0)`` when every site is delivered.
        """
        n_sites = len(self.sites)
        z = rng.standard_normal((n_paths, n_sites))
        if correlation:
            common = rng.standard_normal((n_paths, 1))
            z = math.sqrt(correlation) * common + math.sqrt(1.0 - correlation) * z
        u = np.clip(scipy_special().ndtr(-z), 1e-15, 1.0 - 1e-15)
        return self.months_after_as_of(u)[0]

    def quantile_frame(self, quantiles: Sequence[float], *, horizon_months: int) -> pd.DataFrame:
        """Per undelivered site: conditional delivery quantiles and the chance within the horizon.

        Parameters
        ----------
        quantiles
            Quantiles in (0, 1), e.g. ``(0.5, 0.9)``.
        horizon_months
            Horizon of ``prob_delivered_in_horizon`` (months after ``as_of``).

        Returns
        -------
        pandas.DataFrame
            :attr:`sites` plus ``survival_at_age`` and per quantile ``pNN_months_after``,
            ``pNN_build_months``, ``pNN_date`` (rounded up to a day) and ``pNN_source``
            (``km``/``tail``), and ``prob_delivered_in_horizon``; see
            :func:`forecast_site_delivery`.
        """
        s = self.sites
        out = {c: s[c] for c in s.columns}
        c = s["condition_months"].to_numpy(dtype="float64")
        age = s["age_months"].to_numpy(dtype="float64")
        out["survival_at_age"] = np.exp(self.log_survival(c))
        for q in quantiles:
            name = f"p{round(q * 100):d}"
            after, body = self.months_after_as_of(np.full(len(s), 1.0 - q))
            out[f"{name}_months_after"] = after
            out[f"{name}_build_months"] = after + age
            days = np.ceil(after * DAYS_PER_MONTH).astype("int64")
            out[f"{name}_date"] = self.as_of + pd.to_timedelta(days, unit="D")
            out[f"{name}_source"] = np.where(body, "km", "tail")
        within = np.minimum(age + horizon_months, MAX_MONTHS_AFTER_AS_OF)
        prob = 1.0 - np.exp(self.log_survival(within) - self.log_survival(c))
        out["prob_delivered_in_horizon"] = np.clip(prob, 0.0, 1.0)
        return pd.DataFrame(out).reset_index(drop=True)


def _undelivered_sites(sites: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    s = conform_table(sites, "sites")
    s = s.loc[~s["delivered_date"].le(as_of)]
    if s["start_date"].isna().any():
        log.warning(
            "%d undelivered sites have no start_date: no delivery forecast for them",
            int(s["start_date"].isna().sum()),
        )
        s = s.loc[s["start_date"].notna()]
    s = s.drop_duplicates("site_id")
    age = duration_months(s["start_date"], as_of).astype("float64")
    late = duration_months(s["promised_date"], as_of).astype("float64")
    return pd.DataFrame(
        {
            "site_id": s["site_id"].astype("str"),
            "site_name": s["site_name"].astype("str"),
            "zone": s["zone"].map(lambda v: NA_GROUP if pd.isna(v) else str(v)).astype("str"),
            "start_date": s["start_date"],
            "promised_date": s["promised_date"],
            "started": s["start_date"].le(as_of).astype(bool),
            "age_months": age,
            "condition_months": age.clip(lower=0.0),
            "overdue_months": late.clip(lower=0.0).fillna(0.0),
        }
    ).reset_index(drop=True)


@single_threaded_blas()
def fit_delivery_model(
    sites: pd.DataFrame,
    *,
    as_of: DateLike,
    distribution: Distribution = "lognormal",
    min_at_risk: int = MIN_AT_RISK,
    status: pd.DataFrame | None = None,
    km: BuildTimeKM | None = None,
) -> DeliveryModel:
    """Fit the build-time distribution of resettlement sites and list the undelivered ones.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified).
    as_of
        Reporting date: sites started by then enter the fit (undelivered ones right-censored at
        ``as_of``); every site not delivered by then (started or not) is to be forecast.
    distribution
        Parametric tail: ``"lognormal"`` (default) or ``"weibull"``.
    min_at_risk
        The KM body is used only where at least this many sites were at risk (default 3): a
        curve resting on one or two sites is a few atoms, not a distribution.
    status
        Pre-computed :func:`~zhengshou_analysis.figures.sites.compute_site_status` of
        ``sites`` at ``as_of``; computed when ``None``.
    km
        Pre-fitted :func:`~zhengshou_analysis.figures.sites.fit_build_time_km` of that
        status; fitted (once) when ``None``. The model is identical either way.

    Returns
    -------
    DeliveryModel
        The KM body (the prefix of ``km`` described below), the tail fitted by
        :func:`~zhengshou_analysis.forecast.tail.fit_survival_tail` to all started sites
        (deliveries as events, undelivered as censored; MAP with a prior centred on the median
        promised build time when fewer than 3 sites are delivered), both families side by side in
        ``tail_comparison`` (two tail fits in all), and the undelivered sites. With sites but none
        started, the tail is the prior alone (one fit on the prior median, censored).

    Raises
    ------
    ParameterError
        When ``distribution`` is unknown or ``km`` does not belong to ``status``.

    Notes
    -----
    The KM body ends at ``tau``, the last delivery at which the curve is still above 0 and at
    least ``min_at_risk`` sites were at risk; beyond it the tail takes over. When the curve drops
    to 0 (the longest-running site was delivered) that last step is left to the tail, so that a
    site older than every delivered one still gets a finite, later forecast.
    """
    as_of_ts = resolve_as_of(as_of)
    check_distribution(distribution)
    status, km = site_status_and_km(sites, as_of=as_of_ts, status=status, km=km)
    km_times, km_surv = _km_body(km, min_at_risk)
    comparison = _fit_tails(status, distribution)
    todo = _undelivered_sites(sites, as_of_ts)
    tail = comparison.get(distribution)
    if len(todo) and tail is None:
        # sites exist but none has started: only the prior can speak
        prior = _promised_median(todo)
        tail = fit_survival_tail([prior], [0], distribution=distribution, prior_median_months=prior)
    log.debug(
        "delivery model at %s: %d sites started, %d delivered, %d to forecast, KM to %.1f months, "
        "%s tail (%s)",
        as_of_ts.date(),
        len(status),
        int(status["delivered"].sum()),
        len(todo),
        float(km_times[-1]) if km_times.size else 0.0,
        distribution,
        tail.method if tail else "none",
    )
    return DeliveryModel(
        as_of=as_of_ts,
        km_times=km_times,
        km_surv=km_surv,
        tau=float(km_times[-1]) if km_times.size else 0.0,
        s_tau=float(km_surv[-1]) if km_surv.size else 1.0,
        tail=tail,
        sites=todo,
        n_sites=len(status),
        n_events=int(status["delivered"].sum()),
        distribution=distribution,
        tail_comparison=comparison,
    )


def _km_body(km: BuildTimeKM, min_at_risk: int) -> tuple[np.ndarray, np.ndarray]:
    """Times and survival of the KM curve while above 0 with ``min_at_risk`` sites at risk."""
    table = km.table()
    body = table.loc[table["surv_prob"].gt(1e-12) & table["n_risk"].ge(min_at_risk)]
    # n_risk and surv_prob never increase with time: the mask is a prefix of the curve
    return (
        body["time_months"].to_numpy(dtype="float64"),
        body["surv_prob"].to_numpy(dtype="float64"),
    )


def _promised_median(frame: pd.DataFrame) -> float:
    """Median promised build time (start → promised date, months > 0), else the fallback prior."""
    promised = duration_months(frame["start_date"], frame["promised_date"]).dropna()
    promised = promised[promised > 0]
    return float(promised.median()) if len(promised) else PRIOR_MEDIAN_FALLBACK_MONTHS


def _fit_tails(status: pd.DataFrame, distribution: Distribution) -> dict[str, TailFit]:
    """The chosen tail (prior at the promised median) and the other family, in DISTRIBUTIONS order.

    The other family's prior is centred on the chosen tail's median. Empty without started sites.
    """
    if not len(status):
        return {}
    times = status["build_months"].to_numpy(dtype="float64")
    events = status["delivered"].to_numpy()
    chosen = fit_survival_tail(
        times, events, distribution=distribution, prior_median_months=_promised_median(status)
    )
    return {
        dist: chosen
        if dist == distribution
        else fit_survival_tail(
            times, events, distribution=dist, prior_median_months=chosen.median_months
        )
        for dist in DISTRIBUTIONS
    }


def resolve_delivery_model(
    sites: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp,
    distribution: Distribution | None = None,
    model: DeliveryModel | None = None,
    status: pd.DataFrame | None = None,
    km: BuildTimeKM | None = None,
) -> DeliveryModel:
    """The delivery model given (checked against ``as_of`` and ``distribution``), else a new fit.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified); read only when ``model`` is ``None``.
    as_of
        Reporting date (resolved).
    distribution
        Tail family; ``None`` means the model's, or ``"lognormal"`` when fitting.
    model
        A :class:`DeliveryModel` from :func:`fit_delivery_model`, or ``None`` to fit one.
    status, km
        Passed to :func:`fit_delivery_model` when fitting.

    Returns
    -------
    DeliveryModel

    Raises
    ------
    ParameterError
        When ``model`` was fitted at another ``as_of`` or with another ``distribution``.
    """
    if model is None:
        return fit_delivery_model(
            sites, as_of=as_of, distribution=distribution or "lognormal", status=status, km=km
        )
    if model.as_of != as_of:
        raise ParameterError(
            f"the delivery model was fitted at {model.as_of.date()}, not at as_of={as_of.date()}"
        )
    if distribution is not None and distribution != model.distribution:
        raise ParameterError(
            f"the delivery model has a {model.distribution} tail, not {distribution!r}"
        )
    return model


def _delivery_statement(model: DeliveryModel) -> str:
    n_todo = len(model.sites)
    if n_todo == 0:
        return "统计日没有未交付的安置区，无需预测交付日期。"
    tail = model.tail
    method = (
        "最大似然估计"
        if tail is not None and tail.method == "ml"
        else "已交付安置区太少，加入以约定建设周期为中心的弱先验（后验众数）"
    )
    dist = {"lognormal": "对数正态", "weibull": "威布尔"}[tail.distribution] if tail else "—"
    return (
        f"交付日期预测依据{model.n_sites}个已开工安置区（其中{model.n_events}个已交付）：在已交付"
        f"周期覆盖的范围内用Kaplan–Meier曲线（至{model.tau:.1f}个月），超出部分用按删失数据拟合的"
        f"{dist}分布尾部（{method}）；每个未交付安置区按“截至统计日仍未交付”的条件分布计算。"
    )


@single_threaded_blas()
def forecast_site_delivery(
    sites: pd.DataFrame,
    *,
    as_of: DateLike,
    horizon_months: int = 12,
    distribution: Distribution | None = None,
    quantiles: Sequence[float] = (0.5, 0.9),
    model: DeliveryModel | None = None,
    status: pd.DataFrame | None = None,
    km: BuildTimeKM | None = None,
) -> ForecastResult:
    """Delivery-date distribution of every undelivered site, given it is undelivered at ``as_of``.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified).
    as_of
        Reporting date.
    horizon_months
        Horizon for ``prob_delivered_in_horizon`` (default 12).
    distribution
        Parametric tail where the KM curve does not reach: ``"lognormal"`` or ``"weibull"``
        (default: the family of ``model``, else lognormal).
    quantiles
        Quantiles to report, in (0, 1) (default P50 and P90).
    model
        Pre-fitted :func:`fit_delivery_model` at the same ``as_of`` (nothing is refitted: the
        tail comparison comes from ``model.tail_comparison``); fitted when ``None``.
    status, km
        Pre-computed site status and its KM curve, used only when ``model`` is ``None`` (see
        :func:`fit_delivery_model`). Results are identical whichever is given.

    Returns
    -------
    ForecastResult
        ``summary``: one row per site not delivered by ``as_of`` — identity and dates,
        ``started``, ``age_months``, ``overdue_months``, ``survival_at_age`` (S(c)), and for each
        quantile ``pNN_months_after`` (months from ``as_of``), ``pNN_build_months``, ``pNN_date``
        (``as_of`` + months, rounded up to a day: never on or before ``as_of``) and
        ``pNN_source`` (``km`` or ``tail``), plus ``prob_delivered_in_horizon``. ``frames``:
        ``"tail"`` (lognormal and Weibull fits side by side, AIC), ``"km"`` (the KM body).
        ``assumptions``: method, tail parameters, counts and a plain statement.

    Raises
    ------
    ParameterError
        When a quantile is outside (0, 1), ``distribution`` is unknown, or ``model`` was fitted at
        another ``as_of`` or with another ``distribution``.

    Notes
    -----
    Quantiles are exact (no simulation): the ``q`` quantile of site ``i`` is the smallest ``t``
    with ``S(t) / S(c_i) ≤ 1 − q``. P50 ≤ P90 always, and both are later for a site that is
    already older. Draws beyond 100 years are capped there (reported as such).
    """
    as_of = resolve_as_of(as_of)
    if any(not 0 < q < 1 for q in quantiles):
        raise ParameterError(f"quantiles must be in (0, 1), got {list(quantiles)!r}")
    model = resolve_delivery_model(
        sites, as_of=as_of, distribution=distribution, model=model, status=status, km=km
    )
    km_frame = pd.DataFrame({"time_months": model.km_times, "surv_prob": model.km_surv})
    return ForecastResult(
        summary=model.quantile_frame(sorted(quantiles), horizon_months=int(horizon_months)),
        assumptions=_delivery_assumptions(model),
        frames={"tail": _tail_frame(model), "km": km_frame},
    )


def _tail_frame(model: DeliveryModel) -> pd.DataFrame:
    """Both tail families side by side (``chosen``, parameters, AIC); empty without started sites."""
    return pd.DataFrame(
        [
            {"chosen": dist == model.distribution, **fit.describe()}
            for dist, fit in model.tail_comparison.items()
        ]
    )


def _delivery_assumptions(model: DeliveryModel) -> dict[str, Any]:
    """The assumptions dict of :func:`forecast_site_delivery`, with a note when the other fits better."""
    tail = model.tail
    assumptions: dict[str, Any] = {
        "as_of": model.as_of.date().isoformat(),
        "method": "KM body + parametric tail, conditional on undelivered at as_of",
        "distribution": model.distribution,
        "tail": tail.describe() if tail else None,
        "km_reaches_months": model.tau,
        "km_survival_at_reach": model.s_tau,
        "n_sites_started": model.n_sites,
        "n_sites_delivered": model.n_events,
        "n_sites_forecast": len(model.sites),
        "dates": "as_of + months × 30.4375 days, rounded up to a whole day",
        "statement": _delivery_statement(model),
    }
    others = [f for d, f in model.tail_comparison.items() if d != model.distribution]
    if tail is not None and others and others[0].aic < tail.aic - 2:
        other = others[0]
        assumptions["tail_note"] = (
            f"{other.distribution} fits the censored build times better "
            f"(AIC {other.aic:.1f} vs {tail.aic:.1f}); pass distribution= to use it"
        )
    return assumptions
