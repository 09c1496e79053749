"""The parametric tail of build time: a lognormal or Weibull fitted to right-censored durations.

:func:`fit_survival_tail` fits the distribution by maximum likelihood (or, with too few
deliveries, as the posterior mode under a weak prior) and returns a :class:`TailFit`, which the
delivery model (:mod:`zhengshou_analysis.forecast.delivery`) splices to the Kaplan–Meier curve
where that curve does not reach. Durations are build months (days / 30.4375).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from ..exceptions import ParameterError
from ..periods import DAYS_PER_MONTH
from .blas import single_threaded_blas
from .common import scipy_special

__all__ = [
    "DISTRIBUTIONS",
    "MIN_MONTHS",
    "PRIOR_MEDIAN_FALLBACK_MONTHS",
    "Distribution",
    "TailFit",
    "check_distribution",
    "fit_survival_tail",
]

log = logging.getLogger(__name__)

#: The parametric families of the tail.
Distribution = Literal["lognormal", "weibull"]
DISTRIBUTIONS: tuple[Distribution, ...] = ("lognormal", "weibull")

#: Fewer deliveries than this: the tail is fitted with a weak prior (MAP), not by ML alone.
MIN_EVENTS_FOR_ML = 3
#: Prior of the MAP fallback: sd of log(median build time) and of log(spread of log T).
PRIOR_SD_LOG_MEDIAN = 0.5
PRIOR_SPREAD = 0.5
PRIOR_SD_LOG_SPREAD = 0.5
#: Prior median build time (months) when no site has a promised date either.
PRIOR_MEDIAN_FALLBACK_MONTHS = 36.0
#: Smallest build time used in likelihoods (one day), so that log t is finite.
MIN_MONTHS = 1.0 / DAYS_PER_MONTH
#: SD of log T of a Weibull is π / (k √6) = this / k.
_WEIBULL_LOG_SD = math.pi / math.sqrt(6.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True)
class TailFit:
    """A parametric build-time distribution fitted to right-censored durations.

    Attributes
    ----------
    distribution
        ``"lognormal"`` (``log T ~ N(mu, sigma²)``) or ``"weibull"`` (``S(t) = exp(-(t/scale)^shape)``).
    params
        ``{"mu", "sigma"}`` (log-months) or ``{"shape", "scale"}`` (scale in months).
    method
        ``"ml"`` (maximum likelihood) or ``"map"`` (likelihood plus the weak prior of
        :func:`fit_survival_tail`, used when there are too few deliveries).
    loglik
        Log-likelihood of the data at the estimate (without the prior).
    n, n_events
        Durations used and how many of them are deliveries (events).
    converged
        Whether the optimiser reported success.
    """

    distribution: str
    params: dict[str, float]
    method: str
    loglik: float
    n: int
    n_events: int
    converged: bool

    @property
    def aic(self) -> float:
        """Akaike information criterion, 2·2 − 2·loglik (two parameters)."""
        return 4.0 - 2.0 * self.loglik

    @property
    def median_months(self) -> float:
        """Median build time of the fitted distribution, in months."""
        return float(self.inverse_survival(0.5))

    def log_survival(self, months: ArrayLike) -> np.ndarray:
        """log S(t) for build months ``t``.

        Parameters
        ----------
        months
            Build months (array-like); below one day counts as one day.

        Returns
        -------
        numpy.ndarray
            log P(T > t), ≤ 0, same shape as ``months``.
        """
        t = np.maximum(np.asarray(months, dtype="float64"), MIN_MONTHS)
        if self.distribution == "lognormal":
            z = (np.log(t) - self.params["mu"]) / self.params["sigma"]
            return scipy_special().log_ndtr(-z)
        return -((t / self.params["scale"]) ** self.params["shape"])

    def survival(self, months: ArrayLike) -> np.ndarray:
        """S(t) = P(T > t) for build months ``t`` (array-like); values in (0, 1]."""
        return np.exp(self.log_survival(months))

    def inverse_survival(self, prob: ArrayLike) -> np.ndarray:
        """The build time ``t`` (months) with ``S(t) = prob``; ``prob`` in (0, 1], clipped there."""
        p = np.clip(np.asarray(prob, dtype="float64"), 1e-300, 1.0)
        return self.inverse_log_survival(np.log(p))

    def inverse_log_survival(self, log_prob: ArrayLike) -> np.ndarray:
        """The build time ``t`` (months) with ``log S(t) = log_prob``.

        Parameters
        ----------
        log_prob
            log survival levels (array-like, values above 0 count as 0); far tails below
            ``log S = -700`` use the lognormal's asymptotic inverse instead of underflowing.

        Returns
        -------
        numpy.ndarray
            Build months, same shape as ``log_prob``.
        """
        lp = np.minimum(np.asarray(log_prob, dtype="float64"), 0.0)
        if self.distribution == "lognormal":
            # S(t) = Φ(-z): z = -Φ⁻¹(S), computed from log S for far tails
            z = -scipy_special().ndtri(np.exp(lp))
            far = lp < -700.0
            if far.any():  # asymptotic: log Φ(-z) ≈ -z²/2 - log(z √(2π))
                z = np.where(far, np.sqrt(-2.0 * lp), z)
            return np.exp(self.params["mu"] + self.params["sigma"] * z)
        return self.params["scale"] * (-lp) ** (1.0 / self.params["shape"])

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (distribution, parameters, method, fit statistics)."""
        return {
            "distribution": self.distribution,
            "params": {k: float(v) for k, v in self.params.items()},
            "median_months": self.median_months,
            "method": self.method,
            "loglik": float(self.loglik),
            "aic": float(self.aic),
            "n_sites": int(self.n),
            "n_events": int(self.n_events),
            "converged": bool(self.converged),
        }


def check_distribution(distribution: str) -> None:
    """Check the name of a tail family.

    Parameters
    ----------
    distribution
        ``"lognormal"`` or ``"weibull"`` (:data:`DISTRIBUTIONS`).

    Raises
    ------
    ParameterError
        For any other value.
    """
    if distribution not in DISTRIBUTIONS:
        raise ParameterError(
            f"distribution must be one of {list(DISTRIBUTIONS)}, got {distribution!r}"
        )


def _unpack(theta: np.ndarray, distribution: str) -> dict[str, float]:
    a, log_b = float(theta[0]), float(theta[1])
    if distribution == "lognormal":
        return {"mu": a, "sigma": math.exp(log_b)}
    return {"shape": math.exp(log_b), "scale": math.exp(a)}


def _loglik(theta: np.ndarray, t: np.ndarray, d: np.ndarray, distribution: str) -> float:
    """Censored log-likelihood: Σ_events log f(t) + Σ_censored log S(t)."""
    p = _unpack(theta, distribution)
    log_t = np.log(t)
    if distribution == "lognormal":
        z = (log_t - p["mu"]) / p["sigma"]
        log_f = -0.5 * z * z - _LOG_SQRT_2PI - math.log(p["sigma"]) - log_t
        log_s = scipy_special().log_ndtr(-z)
    else:
        k, lam = p["shape"], p["scale"]
        u = (t / lam) ** k
        log_f = math.log(k) - math.log(lam) + (k - 1.0) * (log_t - math.log(lam)) - u
        log_s = -u
    return float(np.sum(np.where(d, log_f, log_s)))


def _log_prior(theta: np.ndarray, distribution: str, prior_median: float) -> float:
    """Weak prior on log(median) and log(spread of log T) (the MAP fallback)."""
    p = _unpack(theta, distribution)
    if distribution == "lognormal":
        log_median, spread = p["mu"], p["sigma"]
    else:
        log_median = math.log(p["scale"]) + math.log(math.log(2.0)) / p["shape"]
        spread = _WEIBULL_LOG_SD / p["shape"]
    return -0.5 * (
        ((log_median - math.log(prior_median)) / PRIOR_SD_LOG_MEDIAN) ** 2
        + ((math.log(spread) - math.log(PRIOR_SPREAD)) / PRIOR_SD_LOG_SPREAD) ** 2
    )


@single_threaded_blas()
def fit_survival_tail(
    durations: ArrayLike,
    events: ArrayLike,
    *,
    distribution: Distribution = "lognormal",
    prior_median_months: float | None = None,
    min_events_for_ml: int = MIN_EVENTS_FOR_ML,
) -> TailFit:
    """Fit a lognormal or Weibull build-time distribution to right-censored durations.

    Parameters
    ----------
    durations
        Build times in months (array-like; censored ones are the time observed so far).
    events
        1/True where the duration ended in delivery, 0/False where it is censored.
    distribution
        ``"lognormal"`` (default) or ``"weibull"``.
    prior_median_months
        Centre of the weak prior on the median used when the data cannot identify the
        distribution (default: 36 months).
    min_events_for_ml
        With fewer deliveries than this (default 3), the fit is the posterior mode (MAP) under the
        weak prior; otherwise it is maximum likelihood, falling back to MAP only when the optimiser
        fails or runs to a boundary.

    Returns
    -------
    TailFit
        Parameters, method (``"ml"`` or ``"map"``), log-likelihood and counts.

    Raises
    ------
    ParameterError
        When ``distribution`` is unknown, the inputs differ in length or there are no durations.

    Notes
    -----
    The likelihood of right-censored data is

    .. math:: \\ell = \\sum_{i:\\,d_i=1} \\log f(t_i) + \\sum_{i:\\,d_i=0} \\log S(t_i),

    maximised over ``(mu, log sigma)`` or ``(log scale, log shape)`` with L-BFGS-B, ``log sigma``
    and ``log shape`` bounded to keep the optimiser away from degenerate fits. The weak prior
    (MAP fallback) is normal on log(median), sd 0.5, centred at ``prior_median_months``, and on
    log of the spread of log T (σ, or π/(k√6) for a Weibull), sd 0.5, centred at log 0.5. Durations
    below one day count as one day.
    """
    check_distribution(distribution)
    t, d = _censored_durations(durations, events)
    prior_median = float(prior_median_months or PRIOR_MEDIAN_FALLBACK_MONTHS)
    n_events = int(d.sum())
    theta0, bounds = _start_and_bounds(t, d, distribution, prior_median)
    method, res = "ml", None
    if n_events >= min_events_for_ml:
        res = _maximise(t, d, distribution, theta0, bounds, prior_median=None)
        at_bound = any(abs(res.x[i] - b) < 1e-6 for i, pair in enumerate(bounds) for b in pair)
        if not res.success or at_bound:
            log.info("ML fit of the %s tail failed or hit a bound: MAP fallback", distribution)
            res = None
    if res is None:
        method = "map"
        res = _maximise(t, d, distribution, theta0, bounds, prior_median=prior_median)
    return TailFit(
        distribution=distribution,
        params=_unpack(res.x, distribution),
        method=method,
        loglik=_loglik(res.x, t, d, distribution),
        n=int(t.size),
        n_events=n_events,
        converged=bool(res.success),
    )


def _censored_durations(durations: ArrayLike, events: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Finite durations (at least one day) and their event flags; refuses what cannot be fitted."""
    t = np.asarray(durations, dtype="float64")
    d = np.asarray(events).astype(bool)
    if t.shape != d.shape or t.ndim != 1:
        raise ParameterError("durations and events must be 1-d and of the same length")
    keep = np.isfinite(t)
    t, d = np.maximum(t[keep], MIN_MONTHS), d[keep]
    if t.size == 0:
        raise ParameterError("fit_survival_tail needs at least one duration")
    return t, d


def _start_and_bounds(
    t: np.ndarray, d: np.ndarray, distribution: str, prior_median: float
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Starting point and box bounds of the optimiser, in ``(a, log b)`` of :func:`_unpack`."""
    log_t = np.log(t)
    spread0 = float(np.std(log_t)) if t.size > 1 else 0.0
    spread0 = min(max(spread0, 0.3), 2.0)
    centre = (
        float(np.mean(log_t[d])) if d.any() else max(float(np.mean(log_t)), math.log(prior_median))
    )
    if distribution == "lognormal":
        theta0 = np.array([centre, math.log(spread0)])
        return theta0, [(-5.0, 15.0), (math.log(0.02), math.log(5.0))]
    k0 = _WEIBULL_LOG_SD / spread0
    theta0 = np.array([centre + 0.3 / k0, math.log(k0)])
    return theta0, [(-5.0, 15.0), (math.log(0.2), math.log(50.0))]


def _maximise(
    t: np.ndarray,
    d: np.ndarray,
    distribution: str,
    theta0: np.ndarray,
    bounds: list[tuple[float, float]],
    *,
    prior_median: float | None,
):
    """L-BFGS-B on the log-likelihood, plus the weak prior when ``prior_median`` is given."""
    from scipy import optimize

    def objective(theta):
        value = _loglik(theta, t, d, distribution)
        if prior_median is not None:
            value += _log_prior(theta, distribution, prior_median)
        return -value if np.isfinite(value) else 1e300

    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        return optimize.minimize(objective, theta0, method="L-BFGS-B", bounds=bounds)
