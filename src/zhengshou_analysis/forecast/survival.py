"""Delivery delays of resettlement sites (安置房交付): survival analysis and delivery-date forecasts.

The unit is a resettlement site, the origin its ``start_date`` (开工) and the event its delivery
(实际交房). Build time is in duration months (days / 30.4375). A site not delivered by ``as_of`` is
**right-censored** at ``as_of``, never dropped (indicators.md, "Resettlement housing").

* :func:`compute_delivery_survival` — the Kaplan–Meier curve with pointwise and simultaneous
  confidence bands, the median (or "not reached"), the log-rank test by 片区 and a Cox model only
  where the number of deliveries supports it; each refusal comes with a plain statement.
* :func:`fit_survival_tail` — a lognormal or Weibull build-time distribution fitted by maximum
  likelihood to censored data (the parametric tail).
* :func:`fit_delivery_model` / :class:`DeliveryModel` — the KM curve where it reaches, spliced to
  the parametric tail where it does not; conditional quantiles and seeded samples of the delivery
  of each undelivered site given that it is still undelivered at ``as_of``.
* :func:`forecast_site_delivery` — P50 and P90 delivery dates of every undelivered site.

Every public function returns a :class:`ForecastResult`: tidy ``summary`` frame, further
``frames``, optional simulation ``samples`` and an ``assumptions`` dict the reports print next to
the numbers. Inputs are never modified.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..figures import (
    NA_GROUP,
    compute_build_time_survival,
    compute_median_build_months,
    compute_site_status,
)
from ..periods import DAYS_PER_MONTH, duration_months
from ..results import ForecastResult
from ..schemas import conform_table
from ..settings import resolve_as_of

__all__ = [
    "DeliveryModel",
    "ForecastResult",
    "TailFit",
    "compute_delivery_survival",
    "fit_delivery_model",
    "fit_survival_tail",
    "forecast_site_delivery",
]

log = logging.getLogger(__name__)

Distribution = Literal["lognormal", "weibull"]
_DISTRIBUTIONS = ("lognormal", "weibull")

#: Fewer deliveries than this: the tail is fitted with a weak prior (MAP), not by ML alone.
MIN_EVENTS_FOR_ML = 3
#: Prior of the MAP fallback: sd of log(median build time) and of log(spread of log T).
PRIOR_SD_LOG_MEDIAN = 0.5
PRIOR_SPREAD = 0.5
PRIOR_SD_LOG_SPREAD = 0.5
#: The KM body is used only where at least this many sites are at risk.
MIN_AT_RISK = 3
#: Prior median build time (months) when no site has a promised date either.
PRIOR_MEDIAN_FALLBACK_MONTHS = 36.0
#: Delivery draws are capped this many months after ``as_of`` (100 years: "not in any horizon").
MAX_MONTHS_AFTER_AS_OF = 1200.0
#: Smallest build time used in likelihoods (one day), so that log t is finite.
_MIN_MONTHS = 1.0 / DAYS_PER_MONTH
#: SD of log T of a Weibull is π / (k √6) = this / k.
_WEIBULL_LOG_SD = math.pi / math.sqrt(6.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _special():
    """``scipy.special``, imported on first use (keeps ``import zhengshou_analysis`` fast)."""
    from scipy import special

    return special


_OPENBLAS_SYMBOLS = (  # (get, set) pairs of the OpenBLAS builds numpy and scipy wheels ship
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


@functools.cache
def _openblas_controls() -> list[tuple[Any, Any]]:
    """(get, set) thread-count functions of every OpenBLAS loaded in this process (Linux)."""
    import ctypes
    from pathlib import Path

    import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS, used by statsmodels)

    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    paths = sorted(
        {
            line.split()[-1]
            for line in maps.read_text().splitlines()
            if "openblas" in line.lower() and ".so" in line
        }
    )
    controls = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get, set_ in _OPENBLAS_SYMBOLS:
            if hasattr(lib, get) and hasattr(lib, set_):
                controls.append((getattr(lib, get), getattr(lib, set_)))
                break
    return controls


@contextlib.contextmanager
def _blas_single_thread():
    """Run the block with one BLAS thread, restoring the previous setting afterwards.

    The models here work on tiny matrices: OpenBLAS threads only cost (3–10× slower on the
    two-core office machine, far worse while other jobs run). Uses :mod:`threadpoolctl` when it
    is installed, else the OpenBLAS libraries loaded in the process (Linux); otherwise a no-op.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
        return
    try:
        controls = _openblas_controls()
        before = [int(get()) for get, _ in controls]
        for _, set_ in controls:
            set_(1)
    except (OSError, AttributeError, ValueError) as exc:  # pragma: no cover - exotic builds
        log.debug("BLAS threads left as they are (%s)", exc)
        controls, before = [], []
    try:
        yield
    finally:
        for (_, set_), n in zip(controls, before, strict=True):
            set_(n)


# --------------------------------------------------------------------------------------------------
# parametric tail


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

    def log_survival(self, months) -> np.ndarray:
        """log S(t) for build months ``t`` (array; ``t`` below one day counts as one day)."""
        t = np.maximum(np.asarray(months, dtype="float64"), _MIN_MONTHS)
        if self.distribution == "lognormal":
            z = (np.log(t) - self.params["mu"]) / self.params["sigma"]
            return _special().log_ndtr(-z)
        return -((t / self.params["scale"]) ** self.params["shape"])

    def survival(self, months) -> np.ndarray:
        """S(t) = P(T > t) for build months ``t``."""
        return np.exp(self.log_survival(months))

    def inverse_survival(self, prob) -> np.ndarray:
        """The build time ``t`` with ``S(t) = prob`` (``prob`` in (0, 1]; array)."""
        p = np.clip(np.asarray(prob, dtype="float64"), 1e-300, 1.0)
        return self._inverse_log_survival(np.log(p))

    def _inverse_log_survival(self, log_prob) -> np.ndarray:
        lp = np.minimum(np.asarray(log_prob, dtype="float64"), 0.0)
        if self.distribution == "lognormal":
            # S(t) = Φ(-z): z = -Φ⁻¹(S), computed from log S for far tails
            z = -_special().ndtri(np.exp(lp))
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
        log_s = _special().log_ndtr(-z)
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


@_blas_single_thread()
def fit_survival_tail(
    durations,
    events,
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
    if distribution not in _DISTRIBUTIONS:
        raise ParameterError(
            f"distribution must be one of {list(_DISTRIBUTIONS)}, got {distribution!r}"
        )
    t = np.asarray(durations, dtype="float64")
    d = np.asarray(events).astype(bool)
    if t.shape != d.shape or t.ndim != 1:
        raise ParameterError("durations and events must be 1-d and of the same length")
    keep = np.isfinite(t)
    t, d = np.maximum(t[keep], _MIN_MONTHS), d[keep]
    if t.size == 0:
        raise ParameterError("fit_survival_tail needs at least one duration")
    prior_median = float(prior_median_months or PRIOR_MEDIAN_FALLBACK_MONTHS)
    n_events = int(d.sum())

    log_t = np.log(t)
    spread0 = float(np.std(log_t)) if t.size > 1 else 0.0
    spread0 = min(max(spread0, 0.3), 2.0)
    centre = (
        float(np.mean(log_t[d])) if n_events else max(float(np.mean(log_t)), math.log(prior_median))
    )
    if distribution == "lognormal":
        theta0 = np.array([centre, math.log(spread0)])
        bounds = [(-5.0, 15.0), (math.log(0.02), math.log(5.0))]
    else:
        k0 = _WEIBULL_LOG_SD / spread0
        theta0 = np.array([centre + 0.3 / k0, math.log(k0)])
        bounds = [(-5.0, 15.0), (math.log(0.2), math.log(50.0))]

    def run(with_prior: bool):
        def objective(theta):
            value = _loglik(theta, t, d, distribution)
            if with_prior:
                value += _log_prior(theta, distribution, prior_median)
            return -value if np.isfinite(value) else 1e300

        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            from scipy import optimize

            return optimize.minimize(objective, theta0, method="L-BFGS-B", bounds=bounds)

    method = "ml"
    res = None
    if n_events >= min_events_for_ml:
        res = run(with_prior=False)
        at_bound = any(abs(res.x[i] - b) < 1e-6 for i, pair in enumerate(bounds) for b in pair)
        if not res.success or at_bound:
            log.info("ML fit of the %s tail failed or hit a bound: MAP fallback", distribution)
            res = None
    if res is None:
        method = "map"
        res = run(with_prior=True)
    return TailFit(
        distribution=distribution,
        params=_unpack(res.x, distribution),
        method=method,
        loglik=_loglik(res.x, t, d, distribution),
        n=int(t.size),
        n_events=n_events,
        converged=bool(res.success),
    )


# --------------------------------------------------------------------------------------------------
# Kaplan–Meier, log-rank, Cox


def _survfunc(times: np.ndarray, events: np.ndarray):
    from statsmodels.duration.survfunc import SurvfuncRight

    return SurvfuncRight(times, events.astype("int64"))


def _loglog_ci(surv: np.ndarray, se: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log(-log) confidence interval of S from its Greenwood standard error."""
    z = -float(_special().ndtri(alpha / 2.0))
    s = np.asarray(surv, dtype="float64")
    inner = (s > 0) & (s < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_ll = np.where(inner, np.asarray(se) / (s * np.abs(np.log(s))), 0.0)
        lower = np.where(inner, s ** np.exp(z * se_ll), s)
        upper = np.where(inner, s ** np.exp(-z * se_ll), s)
    return lower, upper


def _km_table(sites: pd.DataFrame, status: pd.DataFrame, as_of, alpha: float) -> pd.DataFrame:
    km = compute_build_time_survival(sites, as_of=as_of)
    cols = [*km.columns, "ci_lower", "ci_upper", "band_lower", "band_upper"]
    if km.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    lower, upper = _loglog_ci(km["surv_prob"].to_numpy(), km["surv_prob_se"].to_numpy(), alpha)
    band_lower = band_upper = np.full(len(km), np.nan)
    sf = _survfunc(status["build_months"].to_numpy(dtype="float64"), status["delivered"].to_numpy())
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            lcb, ucb = sf.simultaneous_cb(alpha=alpha)
        if len(lcb) == len(km):
            band_lower, band_upper = np.asarray(lcb, float), np.asarray(ucb, float)
    except (ValueError, ZeroDivisionError, FloatingPointError, IndexError) as exc:
        log.info("no simultaneous KM band (%s)", exc)
    return km.assign(ci_lower=lower, ci_upper=upper, band_lower=band_lower, band_upper=band_upper)[
        cols
    ]


def _median_frame(status: pd.DataFrame, sites: pd.DataFrame, as_of, alpha: float) -> pd.DataFrame:
    median = compute_median_build_months(sites, as_of=as_of)
    n, n_events = len(status), int(status["delivered"].sum())
    last = float(status["build_months"].max()) if n else math.nan
    lo = hi = math.nan
    if n_events:
        sf = _survfunc(status["build_months"].to_numpy(float), status["delivered"].to_numpy())
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                lo, hi = (float(x) for x in sf.quantile_ci(0.5, alpha=alpha))
            except (ValueError, ZeroDivisionError, IndexError):
                lo = hi = math.nan
    status_text = "no_sites" if n == 0 else ("reached" if median is not None else "not_reached")
    return pd.DataFrame(
        {
            "median_build_months": [math.nan if median is None else float(median)],
            "median_status": [status_text],
            "ci_lower": [lo if math.isfinite(lo) else math.nan],
            "ci_upper": [hi if math.isfinite(hi) else math.nan],
            "ci_upper_unbounded": [bool(n_events) and not math.isfinite(hi)],
            "n_sites": [n],
            "n_events": [n_events],
            "n_censored": [n - n_events],
            "last_observed_months": [last],
        }
    )


def _median_statement(row: pd.Series) -> str:
    if row["median_status"] == "no_sites":
        return "统计日前没有已开工的安置区，无法计算建设周期。"
    if row["median_status"] == "not_reached":
        return (
            f"建设周期中位数尚未达到：{row['n_sites']}个安置区中仅{row['n_events']}个已交付，"
            f"生存曲线未降至0.5，中位数大于已观察到的最长周期{row['last_observed_months']:.1f}个月。"
        )
    ci = (
        f"{row['ci_lower']:.1f}个月至"
        + ("无上限" if row["ci_upper_unbounded"] else f"{row['ci_upper']:.1f}个月")
        if math.isfinite(row["ci_lower"])
        else "无法计算"
    )
    return (
        f"建设周期中位数{row['median_build_months']:.1f}个月（置信区间{ci}），"
        f"依据{row['n_sites']}个安置区，其中{row['n_events']}个已交付、{row['n_censored']}个未交付（删失）。"
    )


def _logrank(status: pd.DataFrame, *, min_group_sites: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    from statsmodels.duration.survfunc import survdiff

    zone = status["zone"].map(lambda v: NA_GROUP if pd.isna(v) else str(v))
    g = status.assign(group=zone).groupby("group", sort=True)
    groups = pd.DataFrame(
        {
            "zone": g.size().index.astype("str"),
            "n_sites": g.size().to_numpy(),
            "n_events": g["delivered"].sum().astype("int64").to_numpy(),
        }
    )
    groups = groups.assign(included=groups["n_sites"].ge(min_group_sites))
    eligible = groups.loc[groups["included"], "zone"].tolist()
    mask = zone.isin(eligible).to_numpy()
    n_events = int(status.loc[mask, "delivered"].sum())
    result: dict[str, Any] = {
        "test": "log-rank (survdiff) by 片区",
        "statistic": None,
        "df": None,
        "p_value": None,
        "groups_tested": eligible,
    }
    if len(eligible) < 2 or n_events < 2:
        result["statement"] = (
            f"片区间交付周期的对数秩检验未做：每个片区至少需要{min_group_sites}个安置区、且至少两个片区"
            f"符合条件并合计至少2个已交付，实际符合条件的片区{len(eligible)}个、已交付{n_events}个，"
            "数据太少，无法比较片区差异。"
        )
        return groups, result
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        chi2, p = survdiff(
            status.loc[mask, "build_months"].to_numpy(float),
            status.loc[mask, "delivered"].to_numpy("int64"),
            zone[mask].to_numpy(dtype=object),
        )
    result |= {"statistic": float(chi2), "df": len(eligible) - 1, "p_value": float(p)}
    verdict = "有统计学差异" if p < 0.05 else "未见统计学差异"
    result["statement"] = (
        f"对数秩检验（{len(eligible)}个片区、{int(mask.sum())}个安置区、{n_events}个已交付）："
        f"χ²={chi2:.2f}，自由度{len(eligible) - 1}，p={p:.3f}，{verdict}。"
        "安置区很少，检验效能低：不显著不等于片区之间没有差别。"
    )
    return groups, result


def _cox(
    status: pd.DataFrame,
    *,
    covariates: Sequence[str],
    events_per_covariate: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    cols = ["covariate", "coef", "hazard_ratio", "ci_lower", "ci_upper", "p_value"]
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols}).astype({"covariate": "str"})
    data = status
    parts: dict[str, np.ndarray] = {}
    if "log_units" in covariates:
        units = pd.to_numeric(data["units"], errors="coerce").astype("float64")
        data = data.loc[units.gt(0).to_numpy()]
        parts["log_units"] = np.log(units[units.gt(0)].to_numpy())
    if "zone" in covariates:
        zone = data["zone"].map(lambda v: NA_GROUP if pd.isna(v) else str(v))
        levels = sorted(zone.unique())
        for lev in levels[1:]:
            parts[f"zone[{lev}]"] = zone.eq(lev).to_numpy(dtype="float64")
    n_params = len(parts)
    n_events = int(data["delivered"].sum())
    needed = events_per_covariate * max(n_params, 1)
    info: dict[str, Any] = {
        "model": "Cox PHReg (Efron ties)",
        "covariates": list(parts),
        "n_events": n_events,
        "events_needed": needed,
        "fitted": False,
    }
    if n_params == 0:
        info["statement"] = "Cox模型未拟合：没有可用的协变量。"
        return empty, info
    if n_events < needed:
        info["statement"] = (
            f"Cox比例风险模型未拟合：已交付的安置区（事件）只有{n_events}个，按每个协变量至少"
            f"{events_per_covariate}个事件的经验规则，{n_params}个协变量（{'、'.join(parts)}）"
            f"至少需要{needed}个事件。"
        )
        return empty, info
    from statsmodels.duration.hazard_regression import PHReg

    exog = np.column_stack(list(parts.values()))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = PHReg(
            data["build_months"].to_numpy(float),
            exog,
            status=data["delivered"].to_numpy("int64"),
            ties="efron",
        ).fit()
    ci = np.asarray(res.conf_int())
    out = pd.DataFrame(
        {
            "covariate": list(parts),
            "coef": np.asarray(res.params, float),
            "hazard_ratio": np.exp(np.asarray(res.params, float)),
            "ci_lower": np.exp(ci[:, 0]),
            "ci_upper": np.exp(ci[:, 1]),
            "p_value": np.asarray(res.pvalues, float),
        }
    ).astype({"covariate": "str"})
    info["fitted"] = True
    info["statement"] = (
        f"Cox比例风险模型（{n_events}个事件、{n_params}个协变量）：风险比大于1表示交付更快。"
    )
    return out, info


@_blas_single_thread()
def compute_delivery_survival(
    sites: pd.DataFrame,
    *,
    as_of,
    alpha: float = 0.05,
    min_group_sites: int = 3,
    cox_covariates: Sequence[Literal["log_units", "zone"]] = ("log_units",),
    events_per_covariate: int = 10,
) -> ForecastResult:
    """Kaplan–Meier analysis of build time (start → delivery) with undelivered sites censored.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified).
    as_of
        Reporting date: sites started by then; a site not delivered by then is right-censored at
        ``as_of`` (its build time is ``as_of − start_date``), never dropped.
    alpha
        1 − confidence level of the intervals and bands (default 0.05: 95 %).
    min_group_sites
        A 片区 enters the log-rank test only with at least this many sites (default 3); the test
        needs two such 片区 and two deliveries among them, else a statement says why it was not run.
    cox_covariates
        Covariates of the Cox model: ``"log_units"`` (log of the number of flats) and/or
        ``"zone"`` (片区 indicators).
    events_per_covariate
        The Cox model is fitted only with at least this many deliveries per covariate parameter
        (default 10, the usual rule of thumb); otherwise a statement says why not.

    Returns
    -------
    ForecastResult
        ``summary``: the KM table — ``time_months`` (event times, duration months),
        ``surv_prob``, ``surv_prob_se`` (Greenwood), ``n_risk``, ``n_events``, pointwise
        log(−log) limits ``ci_lower``/``ci_upper`` and the Hall–Wellner simultaneous band
        ``band_lower``/``band_upper`` (NaN when it cannot be computed); empty when no site has been
        delivered. ``frames``: ``"median"`` (one row: ``median_build_months`` or NaN "not
        reached", ``median_status``, its confidence limits, counts), ``"logrank"`` (sites and
        deliveries per 片区, ``included``), ``"cox"`` (hazard ratios; empty when not fitted),
        ``"sites"`` (:func:`~zhengshou_analysis.figures.compute_site_status`).
        ``assumptions``: statements on the median, the log-rank test and the Cox model.

    Notes
    -----
    The median is the first event time with S(t) ≤ 0.5 (indicators.md); "not reached" when the
    curve stays above 0.5. Build times are days / 30.4375.
    """
    as_of = resolve_as_of(as_of)
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be in (0, 1), got {alpha!r}")
    for c in cox_covariates:
        if c not in ("log_units", "zone"):
            raise ParameterError(f"cox_covariates must be among ['log_units', 'zone'], got {c!r}")
    status = compute_site_status(sites, as_of=as_of)
    km = _km_table(sites, status, as_of, alpha)
    median = _median_frame(status, sites, as_of, alpha)
    groups, logrank = _logrank(status, min_group_sites=min_group_sites)
    cox, cox_info = _cox(
        status, covariates=cox_covariates, events_per_covariate=events_per_covariate
    )
    row = median.iloc[0]
    assumptions = {
        "as_of": as_of.date().isoformat(),
        "method": "Kaplan–Meier (statsmodels SurvfuncRight); build months = days / 30.4375",
        "censoring": "统计日前未交付的安置区在统计日右删失（计入风险集，不剔除）。",
        "confidence_level": 1 - alpha,
        "n_sites": int(row["n_sites"]),
        "n_events": int(row["n_events"]),
        "n_censored": int(row["n_censored"]),
        "median_build_months": None
        if math.isnan(row["median_build_months"])
        else float(row["median_build_months"]),
        "median_status": row["median_status"],
        "median_statement": _median_statement(row),
        "logrank": logrank,
        "cox": cox_info,
    }
    return ForecastResult(
        summary=km,
        assumptions=assumptions,
        frames={"median": median, "logrank": groups, "cox": cox, "sites": status},
    )


# --------------------------------------------------------------------------------------------------
# delivery model: KM body + parametric tail, conditional on survival to as_of


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
                    - float(self.tail.log_survival(max(self.tau, _MIN_MONTHS)))
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
                + float(self.tail.log_survival(max(self.tau, _MIN_MONTHS)))
            )
            t_tail = self.tail._inverse_log_survival(lp)
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
        u = np.clip(_special().ndtr(-z), 1e-15, 1.0 - 1e-15)
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


@_blas_single_thread()
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
        The KM body (reused from :func:`~zhengshou_analysis.figures.compute_build_time_survival`),
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
    if distribution not in _DISTRIBUTIONS:
        raise ParameterError(
            f"distribution must be one of {list(_DISTRIBUTIONS)}, got {distribution!r}"
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


@_blas_single_thread()
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
        for dist in _DISTRIBUTIONS:
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
