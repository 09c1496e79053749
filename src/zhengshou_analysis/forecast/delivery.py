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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..figures.indicators import NA_GROUP, compute_build_time_survival, compute_site_status
from ..periods import DAYS_PER_MONTH, duration_months
from ..results import ForecastResult
from ..schemas import conform_table
from ..settings import resolve_as_of
from .blas import single_threaded_blas
from .common import scipy_special
from .tail import (
    DISTRIBUTIONS,
    MIN_MONTHS,
    PRIOR_MEDIAN_FALLBACK_MONTHS,
    Distribution,
    TailFit,
    fit_survival_tail,
)

__all__ = ["DeliveryModel", "fit_delivery_model", "forecast_site_delivery"]

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

    def log_survival(self, months) -> np.ndarray:
        """log S(t) of the spliced curve for build months ``t`` (array)."""
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
        """Simulated months from ``as_of`` to delivery, shape ``(n_paths, n_sites)``.

        Site draws are independent when ``correlation`` is 0; otherwise a Gaussian copula with
        that common correlation makes all sites late (or early) together.
        """
        n_sites = len(self.sites)
        z = rng.standard_normal((n_paths, n_sites))
        if correlation:
            common = rng.standard_normal((n_paths, 1))
            z = math.sqrt(correlation) * common + math.sqrt(1.0 - correlation) * z
        u = np.clip(scipy_special().ndtr(-z), 1e-15, 1.0 - 1e-15)
        return self.months_after_as_of(u)[0]

    def quantile_frame(self, quantiles: Sequence[float], *, horizon_months: int) -> pd.DataFrame:
        """Per site: conditional delivery quantiles (months, build months, dates, source)."""
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
    as_of,
    distribution: Distribution = "lognormal",
    min_at_risk: int = MIN_AT_RISK,
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

    Returns
    -------
    DeliveryModel
        The KM body (reused from :func:`~zhengshou_analysis.figures.indicators.compute_build_time_survival`),
        the tail fitted by :func:`fit_survival_tail` to all started sites (deliveries as events,
        undelivered as censored; MAP with a prior centred on the median promised build time when
        fewer than 3 sites are delivered), and the undelivered sites.

    Notes
    -----
    The KM body ends at ``tau``, the last delivery at which the curve is still above 0 and at
    least ``min_at_risk`` sites were at risk; beyond it the tail takes over. When the curve drops
    to 0 (the longest-running site was delivered) that last step is left to the tail, so that a
    site older than every delivered one still gets a finite, later forecast.
    """
    as_of = resolve_as_of(as_of)
    if distribution not in DISTRIBUTIONS:
        raise ParameterError(
            f"distribution must be one of {list(DISTRIBUTIONS)}, got {distribution!r}"
        )
    status = compute_site_status(sites, as_of=as_of)
    km = compute_build_time_survival(sites, as_of=as_of)
    body = km.loc[km["surv_prob"].gt(1e-12) & km["n_risk"].ge(min_at_risk)]
    # n_risk and surv_prob never increase with time: the mask is a prefix of the curve
    km_times = body["time_months"].to_numpy(dtype="float64")
    km_surv = body["surv_prob"].to_numpy(dtype="float64")
    tau = float(km_times[-1]) if km_times.size else 0.0
    s_tau = float(km_surv[-1]) if km_surv.size else 1.0
    tail = None
    if len(status):
        promised = duration_months(status["start_date"], status["promised_date"]).dropna()
        promised = promised[promised > 0]
        prior = float(promised.median()) if len(promised) else PRIOR_MEDIAN_FALLBACK_MONTHS
        tail = fit_survival_tail(
            status["build_months"].to_numpy(dtype="float64"),
            status["delivered"].to_numpy(),
            distribution=distribution,
            prior_median_months=prior,
        )
    todo = _undelivered_sites(sites, as_of)
    if len(todo) and tail is None:
        # sites exist but none has started: only the prior can speak
        promised = duration_months(todo["start_date"], todo["promised_date"]).dropna()
        promised = promised[promised > 0]
        prior = float(promised.median()) if len(promised) else PRIOR_MEDIAN_FALLBACK_MONTHS
        tail = fit_survival_tail([prior], [0], distribution=distribution, prior_median_months=prior)
    return DeliveryModel(
        as_of=as_of,
        km_times=km_times,
        km_surv=km_surv,
        tau=tau,
        s_tau=s_tau,
        tail=tail,
        sites=todo,
        n_sites=len(status),
        n_events=int(status["delivered"].sum()),
    )


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
    as_of,
    horizon_months: int = 12,
    distribution: Distribution = "lognormal",
    quantiles: Sequence[float] = (0.5, 0.9),
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
        Parametric tail where the KM curve does not reach: ``"lognormal"`` (default) or
        ``"weibull"``.
    quantiles
        Quantiles to report, in (0, 1) (default P50 and P90).

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

    Notes
    -----
    Quantiles are exact (no simulation): the ``q`` quantile of site ``i`` is the smallest ``t``
    with ``S(t) / S(c_i) ≤ 1 − q``. P50 ≤ P90 always, and both are later for a site that is
    already older. Draws beyond 100 years are capped there (reported as such).
    """
    as_of = resolve_as_of(as_of)
    if any(not 0 < q < 1 for q in quantiles):
        raise ParameterError(f"quantiles must be in (0, 1), got {list(quantiles)!r}")
    model = fit_delivery_model(sites, as_of=as_of, distribution=distribution)
    summary = model.quantile_frame(sorted(quantiles), horizon_months=int(horizon_months))
    status = compute_site_status(sites, as_of=as_of)
    fits = []
    if len(status):
        for dist in DISTRIBUTIONS:
            f = fit_survival_tail(
                status["build_months"].to_numpy(float),
                status["delivered"].to_numpy(),
                distribution=dist,
                prior_median_months=model.tail.median_months if model.tail else None,
            )
            fits.append({"chosen": dist == distribution, **f.describe()})
    tail_frame = pd.DataFrame(fits)
    assumptions = {
        "as_of": as_of.date().isoformat(),
        "method": "KM body + parametric tail, conditional on undelivered at as_of",
        "distribution": distribution,
        "tail": model.tail.describe() if model.tail else None,
        "km_reaches_months": model.tau,
        "km_survival_at_reach": model.s_tau,
        "n_sites_started": model.n_sites,
        "n_sites_delivered": model.n_events,
        "n_sites_forecast": len(model.sites),
        "dates": "as_of + months × 30.4375 days, rounded up to a whole day",
        "statement": _delivery_statement(model),
    }
    if model.tail is not None and len(fits) == 2:
        other = next(f for f in fits if not f["chosen"])
        if other["aic"] < model.tail.aic - 2:
            assumptions["tail_note"] = (
                f"{other['distribution']} fits the censored build times better "
                f"(AIC {other['aic']:.1f} vs {model.tail.aic:.1f}); pass distribution= to use it"
            )
    km_frame = pd.DataFrame({"time_months": model.km_times, "surv_prob": model.km_surv})
    return ForecastResult(
        summary=summary,
        assumptions=assumptions,
        frames={"tail": tail_frame, "km": km_frame},
    )
