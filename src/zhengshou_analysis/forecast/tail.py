"""The parametric build-time model of resettlement sites: accelerated failure time (AFT) fits.

The module keeps its old name (it used to hold the parametric tail spliced to the Kaplan–Meier
curve); the parametric model is now the whole build-time distribution, so no build time between
or before the observed deliveries has probability 0. For a site with promised build time ``P``
(months from ``start_date`` to ``promised_date``) the build time ``T`` (months) follows

.. math:: \\log(T / P) = a + b\\,x + s\\,\\varepsilon, \\qquad x = \\log P - \\bar x,

with ``x̄`` the mean ``log P`` of the fitted sites, ``ε`` standard normal (``"lognormal"``),
standard minimum extreme value (``"weibull"``) or standard logistic (``"loglogistic"``, the
heaviest tail of the three). ``b = 0`` means "build time proportional to the promise".

A few sites stall (land disputes, a contractor gone, funding frozen) and run far longer than any
single AFT family fitted to the typical site allows. The build time is therefore a two-component
mixture

.. math:: S(t) = (1 - \\pi)\\,S_{\\rm AFT}(t) + \\pi\\,S_{\\rm AFT}(t / k),

the second ("stall") component the same fitted family with its time scale multiplied by
``k = STALL_FACTOR`` (3). Conditional on being undelivered at age ``c`` the stall component's
weight rises by itself, ``P(stall | T > c) = π S_AFT(c / k) / S(c)``, so long-open sites get the
heavier tail they need. ``π`` has a weak Beta prior (mode 5 %) and is estimated by maximising
the censored mixture likelihood times that prior over ``π`` alone, the AFT part held at its
lifelines fit.

:func:`fit_build_time_aft` fits one family with :mod:`lifelines` (maximum likelihood on the
right-censored build times) and returns a :class:`BuildTimeFit`: estimates, their covariance
matrix (lifelines ``variance_matrix_``) and a fixed, seeded set of parameter draws from the
estimates' normal sampling distribution, which the delivery model
(:mod:`zhengshou_analysis.forecast.delivery`) averages over. Durations are build months
(days / 30.4375).
"""

from __future__ import annotations

import functools
import logging
import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..exceptions import ParameterError
from ..periods import DAYS_PER_MONTH
from .blas import single_threaded_blas
from .common import scipy_special

__all__ = [
    "DISTRIBUTIONS",
    "MIN_EVENTS_FOR_AIC",
    "MIN_EVENTS_FOR_SLOPE",
    "MIN_MONTHS",
    "N_PARAM_DRAWS",
    "PRIOR_MEDIAN_FALLBACK_MONTHS",
    "STALL_FACTOR",
    "STALL_PRIOR",
    "BuildTimeFit",
    "Distribution",
    "check_distribution",
    "fit_build_time_aft",
    "log_density_standard",
    "log_survival_standard",
    "standard_of_log_survival",
]

log = logging.getLogger(__name__)

#: The AFT families (error distribution of log build time).
Distribution = Literal["lognormal", "weibull", "loglogistic"]
DISTRIBUTIONS: tuple[Distribution, ...] = ("lognormal", "weibull", "loglogistic")

#: Fewer deliveries than this: the family is not chosen by AIC (the prior's lognormal is used).
MIN_EVENTS_FOR_AIC = 3
#: The slope on log promised build time is fitted only with this many deliveries (else b = 0).
MIN_EVENTS_FOR_SLOPE = 8
#: ... and only when log promised build time varies this much (sd) among the fitted sites.
MIN_SD_LOG_PROMISED = 0.05
#: Weak prior: total weight (in sites) of the pseudo-deliveries, their log(T/P) centre and sd.
PRIOR_WEIGHT = 2.0
PRIOR_LOG_RATIO = 0.0
PRIOR_SD_LOG_RATIO = 0.8
_PRIOR_POINTS = 8
#: Promised build time (months) assumed when no site has a usable promised date.
PRIOR_MEDIAN_FALLBACK_MONTHS = 36.0
#: Smallest build time used (one day), so that log t is finite.
MIN_MONTHS = 1.0 / DAYS_PER_MONTH
#: Parameter draws kept for predictive quantiles, and their (fixed) seed.
N_PARAM_DRAWS = 400
PARAM_DRAW_SEED = 20_211_231
#: Stall component: its time scale is this multiple of the AFT component's.
STALL_FACTOR = 3.0
#: Beta(α, β) prior of the stall share π: mode (α − 1)/(α + β − 2) = 5 %, mean 7 %, weight of
#: about 40 sites (a district's 20–40 sites seldom show a stall, so the prior matters).
STALL_PRIOR = (3.0, 39.0)
#: π is estimated in this range.
_STALL_RANGE = (1e-4, 0.5)
#: A fit whose scale s leaves this range is degenerate (refused, prior fallback).
_SCALE_RANGE = (0.02, 10.0)
_BISECTION_STEPS = 60

_LIFELINES = {
    "lognormal": ("LogNormalAFTFitter", "mu_", "sigma_", 1.0),
    "weibull": ("WeibullAFTFitter", "lambda_", "rho_", -1.0),
    "loglogistic": ("LogLogisticAFTFitter", "alpha_", "beta_", -1.0),
}


def check_distribution(distribution: str) -> None:
    """Check the name of an AFT family.

    Parameters
    ----------
    distribution
        ``"lognormal"``, ``"weibull"`` or ``"loglogistic"`` (:data:`DISTRIBUTIONS`).

    Raises
    ------
    ParameterError
        For any other value.
    """
    if distribution not in DISTRIBUTIONS:
        raise ParameterError(
            f"distribution must be one of {list(DISTRIBUTIONS)}, got {distribution!r}"
        )


def log_survival_standard(distribution: str, z: np.ndarray) -> np.ndarray:
    """log P(ε > z) of the standardised error of a family.

    Parameters
    ----------
    distribution
        Family name (:data:`DISTRIBUTIONS`).
    z
        Standardised log build times ``(log T − log P − a − b·x) / s``; ``-inf`` gives 0.

    Returns
    -------
    numpy.ndarray
        log survival, ≤ 0, same shape as ``z``.
    """
    z = np.asarray(z, dtype="float64")
    if distribution == "lognormal":
        return np.asarray(scipy_special().log_ndtr(-z))
    if distribution == "weibull":
        with np.errstate(over="ignore"):
            return -np.exp(z)
    return -np.logaddexp(0.0, z)


def log_density_standard(distribution: str, z: np.ndarray) -> np.ndarray:
    """log density of the standardised error of a family at ``z``.

    Parameters
    ----------
    distribution
        Family name (:data:`DISTRIBUTIONS`).
    z
        Standardised log build times (finite).

    Returns
    -------
    numpy.ndarray
        log density, same shape as ``z``.
    """
    z = np.asarray(z, dtype="float64")
    with np.errstate(over="ignore"):
        if distribution == "lognormal":
            return np.asarray(-0.5 * z * z - 0.5 * math.log(2.0 * math.pi))
        if distribution == "weibull":
            return np.asarray(z - np.exp(z))
        return np.asarray(z - 2.0 * np.logaddexp(0.0, z))


def standard_of_log_survival(distribution: str, log_surv: np.ndarray) -> np.ndarray:
    """Inverse of :func:`log_survival_standard`: the ``z`` with log P(ε > z) = ``log_surv``.

    Parameters
    ----------
    distribution
        Family name.
    log_surv
        log survival levels (values above 0 count as 0, giving ``-inf``); far tails are computed
        without underflow (lognormal below log S = −700 by its asymptotic inverse).

    Returns
    -------
    numpy.ndarray
        Standardised values, same shape as ``log_surv``.
    """
    lp = np.minimum(np.asarray(log_surv, dtype="float64"), 0.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if distribution == "lognormal":
            z = -scipy_special().ndtri(np.exp(lp))
            far = lp < -700.0
            if far.any():  # log Φ(-z) ≈ -z²/2 - log(z √(2π))
                z = np.where(far, np.sqrt(-2.0 * lp), z)
            return np.asarray(z)
        if distribution == "weibull":
            return np.log(-lp)
        y = -lp  # 1/(1+e^z) = e^-y  →  z = log(e^y − 1)
        return np.where(y > 30.0, y, np.log(np.expm1(np.minimum(y, 30.0))))


@dataclass(frozen=True)
class BuildTimeFit:
    """One AFT family fitted to right-censored build times (see the module docstring).

    Attributes
    ----------
    distribution
        Family: ``"lognormal"``, ``"weibull"`` or ``"loglogistic"``.
    coef
        Estimates ``(a, b, log s)``: intercept of log(T/P), slope on centred log promised months,
        log of the scale ``s``.
    cov
        3×3 covariance matrix of ``coef`` (lifelines ``variance_matrix_``; zero row and column for
        ``b`` when the slope is not fitted).
    x_centre
        ``x̄``, mean log promised months of the fitted sites.
    method
        ``"map"`` (likelihood of the data plus the weak prior's pseudo-deliveries, maximised) or
        ``"prior"`` (the lifelines fit failed: the prior alone, ``converged`` is False).
    slope_fitted
        Whether ``b`` was estimated (else fixed at 0).
    loglik, aic
        Log-likelihood and AIC of the lifelines fit, pseudo-deliveries included (the same for
        every family, so the AICs of the families compare); NaN for ``"prior"``.
    n, n_events
        Sites fitted and their deliveries (pseudo-deliveries not counted).
    converged
        Whether the lifelines fit succeeded (``False``: the prior-only fallback was used).
    draws
        ``(N_PARAM_DRAWS, 3)`` seeded draws of ``coef`` from N(coef, cov), for predictive
        quantiles.
    stall_prob
        ``π``, share of the stall component (0: the AFT family alone).
    stall_factor
        ``k``, time-scale multiple of the stall component (:data:`STALL_FACTOR`).
    stall_method
        ``"map"`` (``π`` maximises the censored mixture likelihood × its Beta prior, the AFT part
        held fixed), ``"prior"`` (no sites or the AFT fit failed: the prior's mode) or
        ``"none"`` (``π = 0``).
    """

    distribution: str
    coef: np.ndarray
    cov: np.ndarray
    x_centre: float
    method: str
    slope_fitted: bool
    loglik: float
    aic: float
    n: int
    n_events: int
    converged: bool
    draws: np.ndarray
    stall_prob: float = 0.0
    stall_factor: float = STALL_FACTOR
    stall_method: str = "none"

    @property
    def scale(self) -> float:
        """The scale ``s`` of log build time (its spread; larger is a wider distribution)."""
        return float(math.exp(self.coef[2]))

    def sample_params(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(n, 3)`` draws of ``(a, b, log s)`` from their normal sampling distribution.

        Parameters
        ----------
        n
            Number of draws.
        rng
            Generator consumed for the draws (``n × 3`` standard normals).

        Returns
        -------
        numpy.ndarray
            Parameter draws, one per row.
        """
        return self.coef + rng.standard_normal((n, 3)) @ _cov_root(self.cov).T

    def component_log_survival(
        self,
        months: ArrayLike,
        promised_months: ArrayLike,
        params: np.ndarray | None = None,
        *,
        stall: bool = False,
    ) -> np.ndarray:
        """log survival of one mixture component: the AFT family, or the stall component.

        Parameters
        ----------
        months, promised_months, params
            As for :meth:`log_survival`.
        stall
            ``False``: the AFT component ``S_AFT(t)``; ``True``: the stall component
            ``S_AFT(t / k)``.

        Returns
        -------
        numpy.ndarray
            log survival, ≤ 0 (leading axis over ``params`` rows when given).
        """
        p = self.coef[None, :] if params is None else np.atleast_2d(params)
        shape = (-1,) + (1,) * np.broadcast(np.asarray(months), np.asarray(promised_months)).ndim
        a, b, g = (p[:, i].reshape(shape) for i in range(3))
        t = np.asarray(months, dtype="float64")
        log_p = np.log(np.asarray(promised_months, dtype="float64"))
        with np.errstate(divide="ignore"):
            log_t = np.where(t > 0, np.log(np.maximum(t, MIN_MONTHS)), -np.inf)
        if stall:
            log_t = log_t - math.log(self.stall_factor)
        z = (log_t - log_p - a - b * (log_p - self.x_centre)) / np.exp(g)
        out = log_survival_standard(self.distribution, z)
        return out[0] if params is None else out

    def log_survival(
        self, months: ArrayLike, promised_months: ArrayLike, params: np.ndarray | None = None
    ) -> np.ndarray:
        """log P(T > t) of the mixture for build months ``t``, promised build months ``P``.

        Parameters
        ----------
        months
            Build months ``t`` (array-like; 0 or less gives log S = 0).
        promised_months
            Promised build months ``P`` of the same sites (> 0), broadcast against ``months``.
        params
            ``(a, b, log s)`` rows; ``None`` uses the estimates. With ``k`` rows the result gets a
            leading axis of length ``k``.

        Returns
        -------
        numpy.ndarray
            log of ``(1 − π) S_AFT(t) + π S_AFT(t / k)``, ≤ 0.
        """
        main = self.component_log_survival(months, promised_months, params)
        if self.stall_prob <= 0.0:
            return main
        slow = self.component_log_survival(months, promised_months, params, stall=True)
        return np.asarray(
            np.logaddexp(math.log1p(-self.stall_prob) + main, math.log(self.stall_prob) + slow)
        )

    def stall_weight(
        self, months: ArrayLike, promised_months: ArrayLike, params: np.ndarray | None = None
    ) -> np.ndarray:
        """P(stall component | T > c): the stall share of sites undelivered at build months ``c``.

        Parameters
        ----------
        months
            Build months ``c`` so far.
        promised_months, params
            As for :meth:`log_survival`.

        Returns
        -------
        numpy.ndarray
            ``π S_AFT(c / k) / S(c)`` in [0, 1] (``π`` at ``c = 0``; 0 when ``π = 0``).
        """
        main = self.log_survival(months, promised_months, params)
        if self.stall_prob <= 0.0:
            return np.zeros_like(main)
        slow = self.component_log_survival(months, promised_months, params, stall=True)
        return np.asarray(np.clip(np.exp(math.log(self.stall_prob) + slow - main), 0.0, 1.0))

    def log_months(
        self,
        z: np.ndarray,
        promised_months: ArrayLike,
        params: np.ndarray,
        stall: np.ndarray | None = None,
    ) -> np.ndarray:
        """log build months ``log P + a + b·x + s·z`` for standardised ``z`` (rows of ``params``).

        Parameters
        ----------
        z
            Standardised values, shape ``(k, n)``.
        promised_months
            Promised build months of the ``n`` sites.
        params
            ``(k, 3)`` parameter rows.
        stall
            Boolean ``(k, n)`` (or broadcastable): where True, the stall component's build months
            (``log k`` added); ``None``: the AFT component everywhere.

        Returns
        -------
        numpy.ndarray
            ``(k, n)`` log build months.
        """
        log_p = np.log(np.asarray(promised_months, dtype="float64"))[None, :]
        a, b, g = (params[:, i : i + 1] for i in range(3))
        out = log_p + a + b * (log_p - self.x_centre) + np.exp(g) * z
        if stall is not None:
            out = out + np.where(stall, math.log(self.stall_factor), 0.0)
        return np.asarray(out)

    def describe(self) -> dict[str, Any]:
        """JSON-ready description: family, estimates with standard errors, method, fit statistics."""
        se = np.sqrt(np.clip(np.diag(self.cov), 0.0, None))
        return {
            "distribution": self.distribution,
            "params": {
                "intercept": float(self.coef[0]),
                "slope_log_promised": float(self.coef[1]),
                "scale": self.scale,
            },
            "se": {
                "intercept": float(se[0]),
                "slope_log_promised": float(se[1]),
                "log_scale": float(se[2]),
            },
            "median_ratio_to_promised": self._median_ratio(),
            "stall_prob": float(self.stall_prob),
            "stall_factor": float(self.stall_factor),
            "stall_method": self.stall_method,
            "method": self.method,
            "slope_fitted": bool(self.slope_fitted),
            "loglik": float(self.loglik),
            "aic": float(self.aic),
            "n_sites": int(self.n),
            "n_events": int(self.n_events),
            "converged": bool(self.converged),
        }

    def _median_ratio(self) -> float:
        """Median of T / P at ``x = 0`` under the mixture (bisection on log ratio)."""
        median_z = float(standard_of_log_survival(self.distribution, np.array(math.log(0.5))))
        log_aft = self.coef[0] + self.scale * median_z
        if self.stall_prob <= 0.0:
            return float(math.exp(log_aft))
        p = math.exp(self.x_centre)  # x = 0
        lo, hi = log_aft, log_aft + math.log(self.stall_factor)  # the mixture median is between
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            above = float(self.log_survival(p * math.exp(mid), p)) > math.log(0.5)
            lo, hi = (mid, hi) if above else (lo, mid)
        return float(math.exp(0.5 * (lo + hi)))


def _cov_root(cov: np.ndarray) -> np.ndarray:
    """A matrix root ``L`` with ``L Lᵀ = cov`` (negative eigenvalues from rounding set to 0)."""
    w, v = np.linalg.eigh(0.5 * (cov + cov.T))
    return v * np.sqrt(np.clip(w, 0.0, None))


@single_threaded_blas()
def fit_build_time_aft(
    build_months: ArrayLike,
    delivered: ArrayLike,
    promised_months: ArrayLike,
    *,
    distribution: Distribution = "lognormal",
) -> BuildTimeFit:
    """Fit one AFT family to right-censored build times with lifelines.

    Parameters
    ----------
    build_months
        Build months of the started sites (delivered: start → delivery; undelivered: start →
        ``as_of``, right-censored). May be empty.
    delivered
        1/True where the site was delivered (an event), 0/False where censored.
    promised_months
        Promised build months ``P`` (> 0, finite) of the same sites: the covariate.
    distribution
        ``"lognormal"`` (default), ``"weibull"`` or ``"loglogistic"``.

    Returns
    -------
    BuildTimeFit
        Estimates, covariance, method and seeded parameter draws.

    Raises
    ------
    ParameterError
        When ``distribution`` is unknown, the inputs differ in length, or a promised build time
        is not positive and finite.

    Notes
    -----
    The response is the ratio ``T / P`` (durations below one day count as one day); the slope
    ``b`` on ``log P − x̄`` is estimated only with at least :data:`MIN_EVENTS_FOR_SLOPE`
    deliveries and an sd of ``log P`` of at least 0.05 (else ``b = 0``: build time proportional to
    the promise). A weak prior is always added as pseudo-deliveries: 8 sites of total weight 2
    with ``log(T/P)`` at the normal quantiles of N(0, 0.8²) — "delivered around the promise,
    80 % of sites between 0.36 and 2.8 times it" — and ``x = 0``. With many deliveries it is
    negligible; with few it keeps the estimate finite and the spread wide: a district's few
    deliveries rarely show how late the worst sites run (in tests/test_delivery_calibration.py
    P90 dates covered 79 % of later deliveries without the prior, 84 % with sd 0.5 and 87 % with
    sd 0.8, chosen after those runs). The estimate is the maximum of likelihood × prior (MAP), the
    covariance that of the weighted lifelines fit. When even that fit fails (or is degenerate:
    scale outside 0.02–10, non-finite covariance), the prior alone is used (``method="prior"``).

    The stall share ``π`` is then estimated with the AFT estimates held fixed: the maximum over
    ``π`` in [0.0001, 0.5] of the censored mixture log-likelihood of the real sites (deliveries:
    mixture density; undelivered: mixture survival) plus the log of its Beta(3, 39) prior
    (:data:`STALL_PRIOR`, mode 5 %), a bounded one-dimensional search
    (:func:`scipy.optimize.minimize_scalar`). A district's few deliveries rarely show a stall,
    so ``π`` mostly stays near the prior; without sites, or when the AFT fit failed, ``π`` is the
    prior's mode (``stall_method="prior"``). The AFT part is not refitted, so the stalled sites
    among the data widen it and ``π`` is underestimated when stalls are common (800 simulated
    sites, 15 % of them stalled 3-fold: ``π`` ≈ 5–7 %; without stalls ≈ 0.4 %): the mixture is not
    fitted jointly, and the widened AFT part carries the rest of the stall risk. ``π`` and ``k``
    are not drawn with the parameters (the draws are of ``a, b, log s`` only).
    """
    check_distribution(distribution)
    t, d, p = _inputs(build_months, delivered, promised_months)
    x_centre = float(np.mean(np.log(p))) if p.size else 0.0
    x = np.log(p) - x_centre
    n_events = int(d.sum())
    slope = (
        n_events >= MIN_EVENTS_FOR_SLOPE and p.size > 1 and float(np.std(x)) >= MIN_SD_LOG_PROMISED
    )
    ratio, events, weights = _with_prior(t / p, d)
    x_all = np.concatenate([x, np.zeros(_PRIOR_POINTS)])
    result = _lifelines_fit(distribution, ratio, events, x_all if slope else None, weights=weights)
    if result is None and slope:
        log.info("%s AFT fit with a slope failed: refitted without", distribution)
        slope = False
        result = _lifelines_fit(distribution, ratio, events, None, weights=weights)
    method = "map" if result is not None else "prior"
    if result is None:
        log.warning("%s AFT fit failed: the weak prior alone is used", distribution)
        slope = False
        coef = np.array([PRIOR_LOG_RATIO, 0.0, math.log(PRIOR_SD_LOG_RATIO)])
        cov = np.diag([PRIOR_SD_LOG_RATIO**2, 0.0, PRIOR_SD_LOG_RATIO**2])
        loglik = aic = math.nan
    else:
        coef, cov, loglik, aic = result
    stall_prob, stall_method = (
        _stall_share(distribution, coef, t, d, p, x_centre)
        if result is not None
        else (_stall_prior_mode(), "prior")
    )
    draws = (
        coef
        + np.random.default_rng(PARAM_DRAW_SEED).standard_normal((N_PARAM_DRAWS, 3))
        @ _cov_root(cov).T
    )
    return BuildTimeFit(
        distribution=distribution,
        coef=coef,
        cov=cov,
        x_centre=x_centre,
        method=method,
        slope_fitted=bool(slope),
        loglik=float(loglik),
        aic=float(aic),
        n=int(t.size),
        n_events=n_events,
        converged=result is not None,
        draws=draws,
        stall_prob=stall_prob,
        stall_factor=STALL_FACTOR,
        stall_method=stall_method,
    )


def _stall_share(
    distribution: str,
    coef: np.ndarray,
    t: np.ndarray,
    d: np.ndarray,
    p: np.ndarray,
    x_centre: float,
) -> tuple[float, str]:
    """(π, method): the stall share maximising censored mixture likelihood × Beta prior."""
    alpha, beta = STALL_PRIOR
    mode = _stall_prior_mode()
    if not t.size:
        return mode, "prior"
    from scipy.optimize import minimize_scalar

    a, b, log_s = coef
    log_p = np.log(p)
    z = (np.log(t) - log_p - a - b * (log_p - x_centre)) / math.exp(log_s)
    z_stall = z - math.log(STALL_FACTOR) / math.exp(log_s)
    # per site and component: log density (deliveries) or log survival (censored); the common
    # factor 1 / (s t) of the densities does not depend on π and is left out
    main = np.where(
        d, log_density_standard(distribution, z), log_survival_standard(distribution, z)
    )
    stall = np.where(
        d,
        log_density_standard(distribution, z_stall),
        log_survival_standard(distribution, z_stall),
    )

    def objective(pi: float) -> float:
        loglik = np.logaddexp(math.log1p(-pi) + main, math.log(pi) + stall).sum()
        return -float(loglik + (alpha - 1.0) * math.log(pi) + (beta - 1.0) * math.log1p(-pi))

    with np.errstate(all="ignore"):
        res = minimize_scalar(objective, bounds=_STALL_RANGE, method="bounded")
    if not (res.success and np.isfinite(res.x)):
        return mode, "prior"
    return float(res.x), "map"


def _stall_prior_mode() -> float:
    """Mode of the Beta prior of the stall share (5 %)."""
    alpha, beta = STALL_PRIOR
    return (alpha - 1.0) / (alpha + beta - 2.0)


def _inputs(
    build_months: ArrayLike, delivered: ArrayLike, promised_months: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(build_months, dtype="float64")
    d = np.asarray(delivered).astype(bool)
    p = np.asarray(promised_months, dtype="float64")
    if not (t.shape == d.shape == p.shape) or t.ndim != 1:
        raise ParameterError("build_months, delivered and promised_months must be 1-d, same length")
    if not (np.isfinite(p) & (p > 0)).all():
        raise ParameterError(
            "promised_months must be positive and finite (fill missing ones first)"
        )
    keep = np.isfinite(t)
    return np.maximum(t[keep], MIN_MONTHS), d[keep], p[keep]


def _with_prior(ratio: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data (weight 1) plus the weak prior's pseudo-deliveries (total weight PRIOR_WEIGHT)."""
    q = (np.arange(_PRIOR_POINTS) + 0.5) / _PRIOR_POINTS
    pseudo = np.exp(PRIOR_LOG_RATIO + PRIOR_SD_LOG_RATIO * scipy_special().ndtri(q))
    return (
        np.concatenate([ratio, pseudo]),
        np.concatenate([d, np.ones(_PRIOR_POINTS, dtype=bool)]),
        np.concatenate([np.ones(ratio.size), np.full(_PRIOR_POINTS, PRIOR_WEIGHT / _PRIOR_POINTS)]),
    )


@functools.cache
def _fitter_class(distribution: str) -> Any:
    """The lifelines AFT fitter of a family, starting from the initial point it is given.

    lifelines builds its own starting point by first fitting a univariate model (half the time of
    a fit) even when ``initial_point`` is passed, which it then uses; only the shape of that
    default point matters then, so the subclass returns zeros of that shape.
    """
    import lifelines

    base = getattr(lifelines, _LIFELINES[distribution][0])

    def _create_initial_point(self, Ts, E, entries, weights, Xs):
        return {name: np.zeros(len(Xs[name].columns)) for name in self._fitted_parameter_names}

    return type(f"Given{base.__name__}", (base,), {"_create_initial_point": _create_initial_point})


def _lifelines_fit(
    distribution: str,
    ratio: np.ndarray,
    d: np.ndarray,
    x: np.ndarray | None,
    *,
    weights: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, float, float] | None:
    """lifelines AFT fit of log(ratio) on ``x`` → ((a, b, log s), cov, loglik, AIC), or None."""
    from lifelines.exceptions import ConvergenceError

    _, loc, anc, sign = _LIFELINES[distribution]
    frame = pd.DataFrame({"ratio": ratio, "event": d.astype("int64")})
    if x is not None:
        frame = frame.assign(x=x)
    if weights is not None:
        frame = frame.assign(w=weights)
    log_r = np.log(ratio)
    centre = float(np.mean(log_r[d])) if d.any() else float(np.mean(log_r)) + 0.5
    spread = min(max(float(np.std(log_r)) if ratio.size > 1 else 0.5, 0.2), 2.0)
    start = [centre, sign * math.log(spread)]
    fitter = _fitter_class(distribution)()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fitter.fit(
                frame,
                "ratio",
                "event",
                weights_col="w" if weights is not None else None,
                initial_point=np.array(([0.0] if x is not None else []) + start),
            )
    except (ConvergenceError, ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        log.info("lifelines %s AFT fit failed: %s", distribution, exc)
        return None
    params, var = fitter.params_, fitter.variance_matrix_
    keys = [(loc, "Intercept"), (loc, "x"), (anc, "Intercept")]
    coef = np.array([float(params.get(k, 0.0)) for k in keys])
    coef[2] *= sign
    cov = np.zeros((3, 3))
    present = [i for i, k in enumerate(keys) if k in params.index]
    sub = var.loc[[keys[i] for i in present], [keys[i] for i in present]].to_numpy(dtype="float64")
    cov[np.ix_(present, present)] = sub
    flip = np.array([1.0, 1.0, sign])
    cov = cov * np.outer(flip, flip)
    s = math.exp(coef[2])
    if (
        not (np.isfinite(coef).all() and np.isfinite(cov).all())
        or not _SCALE_RANGE[0] < s < _SCALE_RANGE[1]
    ):
        return None
    return coef, cov, float(fitter.log_likelihood_), float(fitter.AIC_)
