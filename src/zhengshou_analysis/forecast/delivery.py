"""Delivery-date forecasts of resettlement sites: a parametric AFT model with parameter uncertainty.

* :func:`fit_delivery_model` / :class:`DeliveryModel` — the build-time model of
  :mod:`zhengshou_analysis.forecast.tail` (accelerated failure time, promised build time as
  covariate, fitted with lifelines; the family chosen by AIC among lognormal, Weibull and
  log-logistic) and the sites still to be delivered. Each undelivered site is forecast from its
  conditional distribution given that it is undelivered at ``as_of`` (``P(T > t | T > c)``, ``c``
  its age), averaged over the estimates' sampling distribution: the predictive distribution, so a
  model resting on few deliveries gives wide intervals. The build-time distribution is a mixture
  of the AFT family and a "stall" component (the same family, time scale × 3, share ``π`` about
  5 %), whose weight in a site's forecast grows the longer the site has been open
  (:meth:`DeliveryModel.stall_weights`, stated in the assumptions).
* :func:`forecast_site_delivery` — P50 and P90 delivery dates of every undelivered site, the
  chance of delivery within the horizon, and the same for every family side by side.

Simulated paths (:meth:`DeliveryModel.sample_months_after`) draw one parameter set per path,
shared by all sites on it: a district-wide shock (everything late together), not independent
sites. Build time is in duration months (days / 30.4375); a site not delivered by ``as_of`` is
right-censored there, never dropped. Inputs are never modified.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

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
    MIN_EVENTS_FOR_AIC,
    MIN_MONTHS,
    N_PARAM_DRAWS,
    PRIOR_MEDIAN_FALLBACK_MONTHS,
    STALL_PRIOR,
    BuildTimeFit,
    Distribution,
    check_distribution,
    fit_build_time_aft,
    standard_of_log_survival,
)

__all__ = [
    "DeliveryModel",
    "fit_delivery_model",
    "forecast_site_delivery",
    "resolve_delivery_model",
]

log = logging.getLogger(__name__)

#: Delivery draws are capped this many months after ``as_of`` (100 years: "not in any horizon").
MAX_MONTHS_AFTER_AS_OF = 1200.0
#: Bisection steps of the predictive quantiles (on log build months: far below a day's precision).
_BISECTION_STEPS = 60
DISTRIBUTION_ZH = {"lognormal": "对数正态", "weibull": "威布尔", "loglogistic": "对数逻辑"}


@dataclass(frozen=True)
class DeliveryModel:
    """Build-time model (AFT fits of every family) and the sites still to be delivered.

    Built by :func:`fit_delivery_model`. A site of age ``c`` at ``as_of`` (build months so far, 0
    when not yet started) and promised build months ``P`` is delivered at build time ``T`` with
    ``P(T > t | T > c, θ) = S(t; P, θ) / S(c; P, θ)``; forecasts average this over draws of the
    parameters ``θ`` (:attr:`BuildTimeFit.draws`).

    Attributes
    ----------
    as_of
        Reporting date.
    fits
        Every family fitted to the started sites, by name (:data:`~.tail.DISTRIBUTIONS` order).
    distribution
        The family used: chosen by AIC, or as given to :func:`fit_delivery_model`.
    chosen_by
        ``"aic"``, ``"given"`` or ``"prior"`` (fewer than 3 deliveries: lognormal, the prior's
        family, since AIC on pseudo-deliveries compares nothing).
    sites
        One row per site to forecast: ``site_id``, ``site_name``, ``zone``, ``start_date``,
        ``promised_date``, ``started``, ``age_months`` (``as_of − start_date``, negative when not
        started), ``condition_months`` (max(age, 0)), ``overdue_months`` (``as_of −
        promised_date`` when positive, else 0), ``promised_months`` (the covariate) and
        ``promised_assumed`` (promised date missing or not after the start: the median promised
        build time of the other sites was used).
    skipped
        Undelivered sites without ``start_date`` (``site_id``, ``site_name``): not forecast, said
        so in the assumptions.
    n_sites, n_events
        Sites started by ``as_of`` and deliveries among them (what the fits rest on).
    reach_months
        Longest observed build time to a delivery (0 without one): beyond it the forecasts rest on
        the parametric form alone.
    km_times, km_surv
        The descriptive Kaplan–Meier curve (event times, survival just after); not used by the
        forecasts.
    promised_fallback_months
        The promised build months assumed where a site has none.
    """

    as_of: pd.Timestamp
    fits: Mapping[str, BuildTimeFit]
    distribution: str
    chosen_by: str
    sites: pd.DataFrame
    skipped: pd.DataFrame
    n_sites: int
    n_events: int
    reach_months: float
    km_times: np.ndarray
    km_surv: np.ndarray
    promised_fallback_months: float = PRIOR_MEDIAN_FALLBACK_MONTHS

    @property
    def tail(self) -> BuildTimeFit:
        """The fit that is used (``fits[distribution]``); the name is kept from the tail model."""
        return self.fits[self.distribution]

    @property
    def tau(self) -> float:
        """:attr:`reach_months` (the name is kept from the spliced model)."""
        return self.reach_months

    def with_distribution(self, distribution: str) -> DeliveryModel:
        """The same model using another family's fit (for the family sensitivity run).

        Parameters
        ----------
        distribution
            One of :data:`~.tail.DISTRIBUTIONS`.

        Returns
        -------
        DeliveryModel
            A copy with ``distribution`` and ``chosen_by="given"``.
        """
        check_distribution(distribution)
        return replace(self, distribution=distribution, chosen_by="given")

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = self.sites
        return (
            s["condition_months"].to_numpy(dtype="float64"),
            s["age_months"].to_numpy(dtype="float64"),
            s["promised_months"].to_numpy(dtype="float64"),
        )

    def conditional_survival(self, months_after: np.ndarray) -> np.ndarray:
        """Predictive P(not delivered by ``as_of`` + m | undelivered at ``as_of``) of each site.

        Parameters
        ----------
        months_after
            Months after ``as_of``: an array whose last axis runs over :attr:`sites` (or
            broadcasts to it).

        Returns
        -------
        numpy.ndarray
            Probabilities in [0, 1], same shape: the mean over the parameter draws of
            ``S(age + m) / S(c)``; 1 where ``age + m ≤ c`` (not started by then, or before
            ``as_of``).
        """
        c, age, p = self._arrays()
        fit = self.tail
        t = np.maximum(np.asarray(months_after, dtype="float64") + age, c)
        ls_t = fit.log_survival(t, p, fit.draws)
        ls_c = fit.log_survival(c, p, fit.draws)
        return np.exp(ls_t - ls_c).mean(axis=0)

    def stall_weights(self) -> np.ndarray:
        """Predictive weight of the stall component in each site's forecast.

        Returns
        -------
        numpy.ndarray
            One value in [0, 1] per site of :attr:`sites`: the mean over the parameter draws of
            ``P(stall | T > c) = π S_AFT(c / k) / S(c)`` (``π`` for a site not yet started).
        """
        c, _, p = self._arrays()
        fit = self.tail
        if not c.size:
            return np.zeros(0)
        return np.asarray(fit.stall_weight(c, p, fit.draws).mean(axis=0))

    def quantile_months_after(self, q: float) -> np.ndarray:
        """Predictive ``q`` quantile of the months from ``as_of`` to delivery of each site.

        Parameters
        ----------
        q
            Quantile in (0, 1).

        Returns
        -------
        numpy.ndarray
            Months after ``as_of`` (at least one day, at most 1200), one per site: the smallest
            ``m`` with predictive conditional survival ≤ ``1 − q`` (bisection on log build months,
            to far below a day).
        """
        c, age, p = self._arrays()
        if not c.size:
            return np.zeros(0)
        fit = self.tail
        ls_c = fit.log_survival(c, p, fit.draws)
        lo = np.log(np.maximum(c, MIN_MONTHS))
        hi = np.log(np.maximum(c, 0.0) + MAX_MONTHS_AFTER_AS_OF + np.maximum(-age, 0.0))
        hi_value = np.exp(fit.log_survival(np.exp(hi), p, fit.draws) - ls_c).mean(axis=0)
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            surv = np.exp(fit.log_survival(np.exp(mid), p, fit.draws) - ls_c).mean(axis=0)
            above = surv > 1.0 - q
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        t = np.where(hi_value > 1.0 - q, np.inf, np.exp(hi))
        return np.clip(t - age, 1.0 / DAYS_PER_MONTH, MAX_MONTHS_AFTER_AS_OF)

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
            draws): one parameter draw per path (shared by all sites: a district-wide shock),
            then per site and path one uniform for the mixture component and one for the
            build time.
        correlation
            Extra common correlation in [0, 1) of a Gaussian copula on the sites' uniforms; 0
            (default) leaves the shared parameter draw as the only common shock.

        Returns
        -------
        numpy.ndarray
            ``(n_paths, n_sites)`` months after ``as_of`` (columns as :attr:`sites`), each in
            (0, 1200]; ``(n_paths, 0)`` when every site is delivered.

        Notes
        -----
        The mixture component (AFT or stall, :mod:`~zhengshou_analysis.forecast.tail`) is drawn
        per site and path, with the site's conditional stall weight ``π S_AFT(c/k; θ) / S(c; θ)``
        under the path's parameters ``θ``: a stall is a site's own trouble (a dispute, a failed
        contractor), not a district-wide event — that is what the shared ``θ`` carries. The
        build time is then drawn from the chosen component conditional on ``T > c``, so each
        site's draws follow its predictive distribution (:meth:`quantile_months_after`).
        """
        c, age, p = self._arrays()
        fit = self.tail
        params = fit.sample_params(int(n_paths), rng)
        ls_main = fit.component_log_survival(c, p, params)
        ls_stall = fit.component_log_survival(c, p, params, stall=True)
        u_stall = rng.random((int(n_paths), c.size))
        if fit.stall_prob > 0.0:  # P(stall | T > c) = π S_stall(c) / S(c), per path and site
            log_pi, log_rest = math.log(fit.stall_prob), math.log1p(-fit.stall_prob)
            ls_c = np.logaddexp(log_rest + ls_main, log_pi + ls_stall)
            stall = u_stall < np.exp(log_pi + ls_stall - ls_c)
        else:
            stall = np.zeros(u_stall.shape, dtype=bool)
        z = rng.standard_normal((int(n_paths), c.size))
        if correlation:
            common = rng.standard_normal((int(n_paths), 1))
            z = math.sqrt(correlation) * common + math.sqrt(1.0 - correlation) * z
        log_u = scipy_special().log_ndtr(-z)
        zt = standard_of_log_survival(fit.distribution, log_u + np.where(stall, ls_stall, ls_main))
        with np.errstate(over="ignore"):
            t = np.exp(fit.log_months(zt, p, params, stall))
        t = np.maximum(t, c)
        return np.clip(t - age, 1.0 / DAYS_PER_MONTH, MAX_MONTHS_AFTER_AS_OF)

    def quantile_frame(self, quantiles: Sequence[float], *, horizon_months: int) -> pd.DataFrame:
        """Per undelivered site: predictive delivery quantiles and the chance within the horizon.

        Parameters
        ----------
        quantiles
            Quantiles in (0, 1), e.g. ``(0.5, 0.9)``.
        horizon_months
            Horizon of ``prob_delivered_in_horizon`` (months after ``as_of``).

        Returns
        -------
        pandas.DataFrame
            :attr:`sites` plus per quantile ``pNN_months_after``, ``pNN_build_months``,
            ``pNN_date`` (rounded up to a day) and ``pNN_source`` (``"model"``), and
            ``prob_delivered_in_horizon``; see :func:`forecast_site_delivery`.
        """
        s = self.sites
        out: dict[str, Any] = {c: s[c] for c in s.columns}
        age = s["age_months"].to_numpy(dtype="float64")
        for q in quantiles:
            name = f"p{round(q * 100):d}"
            after = self.quantile_months_after(q)
            out[f"{name}_months_after"] = after
            out[f"{name}_build_months"] = after + age
            days = np.ceil(after * DAYS_PER_MONTH).astype("int64")
            out[f"{name}_date"] = self.as_of + pd.to_timedelta(days, unit="D")
            out[f"{name}_source"] = np.full(len(s), "model")
        if len(s):
            prob = 1.0 - self.conditional_survival(np.full(len(s), float(horizon_months)))
        else:
            prob = np.zeros(0)
        out["prob_delivered_in_horizon"] = np.clip(prob, 0.0, 1.0)
        return pd.DataFrame(out).reset_index(drop=True)


def _promised_months(start: pd.Series, promised: pd.Series) -> pd.Series:
    """Promised build months (start → promised date); NaN where missing or not positive."""
    m = duration_months(start, promised).astype("float64")
    return m.where(m > 0)


def _undelivered_sites(
    s: pd.DataFrame, as_of: pd.Timestamp, fallback: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sites to forecast, undelivered sites without start_date) of a conformed table."""
    s = s.loc[~s["delivered_date"].le(as_of)].drop_duplicates("site_id")
    no_start = s["start_date"].isna()
    if no_start.any():
        log.warning(
            "%d undelivered sites have no start_date: no delivery forecast for them (stated)",
            int(no_start.sum()),
        )
    skipped = s.loc[no_start, ["site_id", "site_name"]].astype("str").reset_index(drop=True)
    s = s.loc[~no_start]
    age = duration_months(s["start_date"], as_of).astype("float64")
    late = duration_months(s["promised_date"], as_of).astype("float64")
    promised = _promised_months(s["start_date"], s["promised_date"])
    todo = pd.DataFrame(
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
            "promised_months": promised.fillna(fallback),
            "promised_assumed": promised.isna().astype(bool),
        }
    )
    return todo.reset_index(drop=True), skipped


@single_threaded_blas()
def fit_delivery_model(
    sites: pd.DataFrame,
    *,
    as_of: DateLike,
    distribution: Distribution | None = None,
    status: pd.DataFrame | None = None,
    km: BuildTimeKM | None = None,
) -> DeliveryModel:
    """Fit the build-time model of resettlement sites and list the undelivered ones.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified).
    as_of
        Reporting date: sites started by then enter the fits (undelivered ones right-censored at
        ``as_of``); every site not delivered by then (started or not) is to be forecast.
    distribution
        AFT family to use: ``"lognormal"``, ``"weibull"`` or ``"loglogistic"``; ``None``
        (default) chooses by AIC (lognormal with fewer than 3 deliveries). All three are fitted
        either way, for the sensitivity table.
    status
        Pre-computed :func:`~zhengshou_analysis.figures.sites.compute_site_status` of
        ``sites`` at ``as_of``; computed when ``None``.
    km
        Pre-fitted :func:`~zhengshou_analysis.figures.sites.fit_build_time_km` of that
        status (kept as the descriptive curve); fitted (once) when ``None``.

    Returns
    -------
    DeliveryModel
        The three fits of :func:`~zhengshou_analysis.forecast.tail.fit_build_time_aft` (build
        months of the started sites, deliveries as events, promised build months as covariate),
        the family used and the sites to forecast.

    Raises
    ------
    ParameterError
        When ``distribution`` is unknown or ``km`` does not belong to ``status``.

    Notes
    -----
    The promised build months of a site are ``promised_date − start_date``; where that is missing
    or not positive, the median of the other sites' (started or not) is assumed, else 36 months
    (``promised_assumed`` marks such sites). A site not yet started (``start_date`` after
    ``as_of``) is forecast as its planned start plus a build time from the model, so it is never
    delivered before it starts. Undelivered sites without ``start_date`` are not forecast
    (:attr:`DeliveryModel.skipped`, stated in the assumptions).
    """
    as_of_ts = resolve_as_of(as_of)
    if distribution is not None:
        check_distribution(distribution)
    status, km = site_status_and_km(sites, as_of=as_of_ts, status=status, km=km)
    table = conform_table(sites, "sites")
    known = _promised_months(table["start_date"], table["promised_date"]).dropna()
    fallback = float(known.median()) if len(known) else PRIOR_MEDIAN_FALLBACK_MONTHS
    todo, skipped = _undelivered_sites(table, as_of_ts, fallback)
    promised = _promised_months(status["start_date"], status["promised_date"]).fillna(fallback)
    delivered = status["delivered"].to_numpy(dtype=bool)
    build = status["build_months"].to_numpy(dtype="float64")
    fits: dict[str, BuildTimeFit] = {
        dist: fit_build_time_aft(build, delivered, promised.to_numpy(), distribution=dist)
        for dist in DISTRIBUTIONS
    }
    chosen, chosen_by = _choose(fits, distribution, int(delivered.sum()))
    km_table = km.table()
    model = DeliveryModel(
        as_of=as_of_ts,
        fits=fits,
        distribution=chosen,
        chosen_by=chosen_by,
        sites=todo,
        skipped=skipped,
        n_sites=len(status),
        n_events=int(delivered.sum()),
        reach_months=float(build[delivered].max()) if delivered.any() else 0.0,
        km_times=km_table["time_months"].to_numpy(dtype="float64"),
        km_surv=km_table["surv_prob"].to_numpy(dtype="float64"),
        promised_fallback_months=fallback,
    )
    log.debug(
        "delivery model at %s: %d sites started, %d delivered, %d to forecast, %s AFT (%s, %s)",
        as_of_ts.date(),
        model.n_sites,
        model.n_events,
        len(todo),
        chosen,
        chosen_by,
        model.tail.method,
    )
    return model


def _choose(
    fits: Mapping[str, BuildTimeFit], distribution: str | None, n_events: int
) -> tuple[str, str]:
    """(family, how chosen): the given one, lognormal under the prior, else the lowest AIC."""
    if distribution is not None:
        return distribution, "given"
    if n_events < MIN_EVENTS_FOR_AIC or any(f.method != "map" for f in fits.values()):
        return "lognormal", "prior"
    return min(DISTRIBUTIONS, key=lambda d: fits[d].aic), "aic"


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
        AFT family; ``None`` means the model's, or chosen by AIC when fitting.
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
        When ``model`` was fitted at another ``as_of`` or uses another ``distribution``.
    """
    if model is None:
        return fit_delivery_model(
            sites, as_of=as_of, distribution=distribution, status=status, km=km
        )
    if model.as_of != as_of:
        raise ParameterError(
            f"the delivery model was fitted at {model.as_of.date()}, not at as_of={as_of.date()}"
        )
    if distribution is not None and distribution != model.distribution:
        raise ParameterError(
            f"the delivery model uses the {model.distribution} family, not {distribution!r}"
        )
    return model


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
        AFT family (default: the family of ``model``, else chosen by AIC).
    quantiles
        Quantiles to report, in (0, 1) (default P50 and P90).
    model
        Pre-fitted :func:`fit_delivery_model` at the same ``as_of`` (nothing is refitted);
        fitted when ``None``.
    status, km
        Pre-computed site status and its KM curve, used only when ``model`` is ``None`` (see
        :func:`fit_delivery_model`). Results are identical whichever is given.

    Returns
    -------
    ForecastResult
        ``summary``: one row per site to forecast — :attr:`DeliveryModel.sites`, and for each
        quantile ``pNN_months_after`` (months from ``as_of``), ``pNN_build_months``, ``pNN_date``
        (``as_of`` + months, rounded up to a day: never on or before ``as_of``) and
        ``pNN_source`` (``"model"``), plus ``prob_delivered_in_horizon``. ``frames``: ``"tail"``
        (the three fits: ``chosen`` marks the one used, estimates, AIC), ``"families"`` (the
        sensitivity run: per family AIC, ΔAIC, mean and median P50/P90 months after ``as_of``
        and the expected number of sites delivered within the horizon), ``"km"`` (the descriptive
        KM curve beside the model's predictive survival averaged over the started sites).
        ``assumptions``: method, fit, counts, the stated fallbacks and a plain statement.

    Raises
    ------
    ParameterError
        When a quantile is outside (0, 1), ``distribution`` is unknown, or ``model`` was fitted at
        another ``as_of`` or uses another ``distribution``.

    Notes
    -----
    The ``q`` quantile of site ``i`` is the smallest ``t`` with
    ``mean_k S(t; θ_k) / S(c_i; θ_k) ≤ 1 − q`` over the 400 seeded parameter draws ``θ_k``
    (exact up to those draws; no path simulation). P50 ≤ P90 always. Quantiles beyond 100
    years after ``as_of`` are capped there.
    """
    as_of = resolve_as_of(as_of)
    if any(not 0 < q < 1 for q in quantiles):
        raise ParameterError(f"quantiles must be in (0, 1), got {list(quantiles)!r}")
    model = resolve_delivery_model(
        sites, as_of=as_of, distribution=distribution, model=model, status=status, km=km
    )
    h = int(horizon_months)
    summary = model.quantile_frame(sorted(quantiles), horizon_months=h)
    families = _families_frame(model, h)
    return ForecastResult(
        summary=summary,
        assumptions=_delivery_assumptions(model, families, h),
        frames={"tail": _tail_frame(model), "families": families, "km": _km_frame(model)},
    )


def _tail_frame(model: DeliveryModel) -> pd.DataFrame:
    """The fits side by side (``chosen`` = the one used), in DISTRIBUTIONS order."""
    return pd.DataFrame(
        [
            {"chosen": dist == model.distribution, **fit.describe()}
            for dist, fit in model.fits.items()
        ]
    )


def _families_frame(model: DeliveryModel, horizon_months: int) -> pd.DataFrame:
    """Sensitivity run: the forecasts of every family (means over the sites to forecast)."""
    best = min((f.aic for f in model.fits.values()), default=math.nan)
    rows = []
    for dist, fit in model.fits.items():
        q = model.with_distribution(dist).quantile_frame((0.5, 0.9), horizon_months=horizon_months)
        rows.append(
            {
                "distribution": dist,
                "chosen": dist == model.distribution,
                "method": fit.method,
                "aic": fit.aic,
                "delta_aic": fit.aic - best,
                "mean_p50_months_after": float(q["p50_months_after"].mean())
                if len(q)
                else math.nan,
                "median_p50_months_after": float(q["p50_months_after"].median())
                if len(q)
                else math.nan,
                "mean_p90_months_after": float(q["p90_months_after"].mean())
                if len(q)
                else math.nan,
                "median_p90_months_after": float(q["p90_months_after"].median())
                if len(q)
                else math.nan,
                "expected_delivered_in_horizon": float(q["prob_delivered_in_horizon"].sum()),
            }
        )
    return pd.DataFrame(rows)


def _km_frame(model: DeliveryModel) -> pd.DataFrame:
    """The descriptive KM curve beside the model's (predictive) survival at a typical promise.

    The model curve is for the geometric mean promised build time of the fitted sites.
    """
    frame = pd.DataFrame({"time_months": model.km_times, "surv_prob": model.km_surv})
    fit = model.tail
    p = math.exp(fit.x_centre) if fit.n else model.promised_fallback_months
    surv = np.exp(fit.log_survival(model.km_times, np.full(model.km_times.size, p), fit.draws))
    return frame.assign(model_surv_prob=surv.mean(axis=0) if model.km_times.size else np.zeros(0))


def _delivery_statement(model: DeliveryModel) -> str:
    n_todo = len(model.sites)
    if n_todo == 0:
        return "统计日没有未交付的安置区（或缺少开工日期），无需预测交付日期。"
    fit = model.tail
    dist = DISTRIBUTION_ZH[model.distribution]
    how = {
        "aic": "在对数正态、威布尔、对数逻辑三种分布中按AIC选取",
        "given": "按指定",
        "prior": "已交付安置区不足3个，无法比较分布，用对数正态",
    }[model.chosen_by]
    fitting = (
        "加入以约定周期为中心的弱先验（相当于2个大致按期交付的虚拟安置区）后用lifelines拟合"
        if fit.method == "map"
        else "拟合失败，仅用以约定周期为中心的弱先验（约定周期上下浮动约50%）"
    )
    slope = "，并估计约定周期长短对超期比例的影响" if fit.slope_fitted else ""
    weights = model.stall_weights()
    top = int(np.argmax(weights))
    stall_how = (
        "按数据与先验（众数5%）估计"
        if fit.stall_method == "map"
        else "取先验众数（数据不足以估计）"
    )
    stall = (
        f"为反映个别安置区长期停滞（征拆纠纷、施工方退出、资金冻结等），模型另设“停滞”成分："
        f"约{fit.stall_prob:.1%}的安置区（{stall_how}）建设周期为常规分布的"
        f"{fit.stall_factor:g}倍。已建设时间相对约定周期越长，其预测中停滞成分的权重越高：本次各"
        f"未交付安置区的停滞成分权重为{weights.min():.0%}至{weights.max():.0%}，"
        f"最高为{model.sites['site_name'].iloc[top]}（已建设{model.sites['condition_months'].iloc[top]:.0f}个月）。"
    )
    return (
        f"交付日期预测采用加速失效时间模型：实际建设周期与约定建设周期（开工至约定交房日）之比"
        f"服从{dist}分布（{how}）{slope}，依据{model.n_sites}个已开工安置区（其中{model.n_events}个"
        f"已交付，未交付的在统计日右删失）{fitting}。每个未交付安置区按“截至统计日仍未交付”的条件"
        f"分布计算，并对参数估计的不确定性取平均（{N_PARAM_DRAWS}组参数抽样），已交付安置区越少，"
        "区间越宽；模拟中同一路径上各安置区共用一组参数（全区共同延期的冲击），是否停滞则按各"
        f"安置区分别抽取。{stall}"
    )


def _stall_assumptions(model: DeliveryModel) -> dict[str, Any]:
    """The stall component: share, factor, how estimated, and its weight in each site's forecast."""
    fit = model.tail
    return {
        "model": "S(t) = (1 - stall_prob) S_aft(t) + stall_prob S_aft(t / stall_factor)",
        "stall_prob": float(fit.stall_prob),
        "stall_factor": float(fit.stall_factor),
        "method": fit.stall_method,
        "prior": f"Beta{STALL_PRIOR} on stall_prob (mode 5 %)",
        "estimated": (
            "maximum of the censored mixture likelihood x prior over stall_prob only, the AFT "
            "part held at its lifelines fit; stall_prob and stall_factor are not drawn"
        ),
        "sampling": "component drawn per site and path (a stall is a site's own trouble)",
        "site_weights": dict(
            zip(model.sites["site_id"], np.round(model.stall_weights(), 4).tolist(), strict=True)
        ),
    }


def _delivery_assumptions(
    model: DeliveryModel, families: pd.DataFrame, horizon_months: int
) -> dict[str, Any]:
    """The assumptions dict of :func:`forecast_site_delivery`."""
    todo = model.sites
    assumptions: dict[str, Any] = {
        "as_of": model.as_of.date().isoformat(),
        "method": (
            "parametric AFT model of build time / promised build time (lifelines), conditional on "
            "undelivered at as_of, averaged over the parameters' sampling distribution"
        ),
        "distribution": model.distribution,
        "chosen_by": model.chosen_by,
        "tail": model.tail.describe() if model.fits else None,
        "families": families.drop(columns=["method"]).to_dict(orient="records"),
        "km_reaches_months": model.reach_months,
        "n_param_draws": N_PARAM_DRAWS,
        "shared_shock": "one parameter draw per simulated path, shared by all sites",
        "stall_component": _stall_assumptions(model),
        "n_sites_started": model.n_sites,
        "n_sites_delivered": model.n_events,
        "n_sites_forecast": len(todo),
        "n_sites_not_started": int((~todo["started"]).sum()),
        "horizon_months": horizon_months,
        "dates": "as_of + months × 30.4375 days, rounded up to a whole day",
        "statement": _delivery_statement(model),
    }
    notes = []
    n_assumed = int(todo["promised_assumed"].sum())
    if n_assumed:
        notes.append(
            f"{n_assumed}个安置区缺少约定交房日期（或早于开工），约定建设周期按其他安置区的中位数"
            f"{model.promised_fallback_months:.1f}个月计。"
        )
    if assumptions["n_sites_not_started"]:
        notes.append(
            f"{assumptions['n_sites_not_started']}个安置区统计日尚未开工：按计划开工日期加模型的"
            "建设周期预测，不早于开工。"
        )
    if len(model.skipped):
        notes.append(
            f"{len(model.skipped)}个未交付安置区缺少开工日期，无法预测交付日期，未列入预测："
            + "、".join(model.skipped["site_name"])
            + "。"
        )
    assumptions["notes"] = notes
    assumptions["sites_without_start"] = model.skipped["site_id"].tolist()
    return assumptions
