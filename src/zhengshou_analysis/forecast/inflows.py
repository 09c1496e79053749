"""Monthly inflows (到位资金): history, rolling-origin back-test and selection, simulated paths.

* :func:`compute_monthly_inflows` — the monthly series up to ``as_of``;
* :func:`rolling_backtest_inflow_models` — naive, seasonal naive, ETS and SARIMAX refitted at
  several past origins, each forecasting the next 12 months; scored by MASE, the error of the
  12-month total and the PIT of its simulated distribution; the choice by mean MASE, and the error
  of that *choice procedure* on origins it was not made on;
* :func:`fit_inflow_model` — the back-test winner fitted to the whole history (or a fallback);
* :func:`forecast_inflows` — simulated monthly inflows over the horizon from that model, or from
  a block bootstrap when the history is too short or too sparse.

The simulations draw from the model that was evaluated, with no drift it does not have: the
naive model is a random walk without drift (resampled *demeaned* month-to-month changes), the
seasonal naive model last year's month plus one resampled *demeaned* year-on-year change (for
horizons up to 12 months; a second change in the second year, as the model implies), ETS paths
come from the fitted statsmodels model, SARIMAX paths from its ψ weights with parameters drawn
from the estimated covariance. The median of the simulated totals is therefore the model's own
point forecast (within simulation noise), before the clipping at 0.

Inflows are modelled on their own history, independently of obligations and payments (see
:data:`PAYMENTS_LINK`): the funding ledger records money that arrived (appropriations), not the
requests for it, and tying the two would need a request ledger the data contract does not have.

Inflows use the second child of ``SeedSequence(seed)`` (see
:func:`~zhengshou_analysis.forecast.common.random_streams`); the back-test's own simulations use
``default_rng([BACKTEST_SEED, origin, candidate])``. Inputs are never modified.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InsufficientDataError, ParameterError
from ..results import ForecastResult
from ..schemas import conform_table
from ..settings import resolve_as_of
from .blas import single_threaded_blas
from .common import DEFAULT_N_PATHS, DateLike, check_simulation_args, path_quantiles, random_streams
from .scores import score_sample_forecast

__all__ = [
    "METHOD_NAMES",
    "MODEL_LABELS",
    "PAYMENTS_LINK",
    "InflowModel",
    "backtest_origins",
    "compute_monthly_inflows",
    "fit_inflow_model",
    "forecast_inflows",
    "rolling_backtest_inflow_models",
]

log = logging.getLogger(__name__)

#: Months forecast from each back-test origin (a year: the total is the annual inflow).
BACKTEST_HORIZON_MONTHS = 12
#: Months between back-test origins, counted back from the last (12: same calendar month).
BACKTEST_STEP_MONTHS = 12
#: Fewest training months at a back-test origin (a shorter history gets one origin, see
#: :func:`backtest_origins`).
BACKTEST_MIN_TRAIN_MONTHS = 24
#: Paths per candidate and origin for the PIT and coverage of the back-test's 12-month totals.
BACKTEST_N_PATHS = 500
#: Seed of the back-test's simulations (fixed: the back-test is part of the fit, which has no seed).
BACKTEST_SEED = 20211231
#: SARIMAX: parameter draws per simulation (paths in blocks, one draw per block).
SARIMAX_PARAM_DRAWS = 20
BACKTEST_SARIMAX_PARAM_DRAWS = 5
#: One-sided 95 % normal quantile: how far inside its region an estimate must be for draws.
Z95 = 1.645
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
#: The candidate models of the back-test, simplest first (ties go to the simpler).
CANDIDATES = ("naive", "seasonal_naive", "ets", "sarimax")
#: Relative difference of mean MASE below which two candidates tie (the simpler wins).
TIE_TOLERANCE = 1e-9

#: MASE's scale in plain Chinese (the denominator of every MASE reported here).
MASE_SCALE_TEXT = (
    "MASE以训练期内“逐月变化的平均绝对值”为1，即用上月值预测本月时在训练期内的平均误差；"
    "MASE为2表示预测误差是这一误差的2倍。它不是朴素预测在回测期的误差。"
)
#: Whether inflows are tied to payments (``assumptions["payments_link"]``).
PAYMENTS_LINK = (
    "到位资金只按自身的月度历史建模，没有与应付款、支付挂钩：资金台账记录的是实际拨付到位的款项，"
    "不是用款申请；要把到位与应付挂钩，需要用款申请（请款）台账，数据约定中没有这张表，"
    "本模型也不预测逐月支付。因此到位与支付的共同变化不在区间内，由“资金到位八折”等情景反映。"
)


def compute_monthly_inflows(funding: pd.DataFrame | None, *, as_of: DateLike) -> pd.Series:
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
    as_of_ts = resolve_as_of(as_of)
    f = conform_table(funding, "funding")
    last = as_of_ts.to_period("M") if as_of_ts.is_month_end else as_of_ts.to_period("M") - 1
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


def _sarimax_uncertainty_problem(res) -> str | None:
    """Why the SARIMAX parameter covariance is not used for draws (``None``: it is used).

    Used when finite and positive definite, every AR/MA coefficient at least 1.645 standard errors
    inside (−1, 1) (95 % of its approximate normal on the nearer side of the boundary) and the
    innovation variance 1.645 standard errors above 0. Nearer the boundary the Hessian-based
    covariance is unreliable (the likelihood is flat there) and many draws would fall outside.
    """
    params = np.asarray(res.params, dtype="float64")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        cov = np.asarray(res.cov_params(), dtype="float64")
    if not np.all(np.isfinite(cov)):
        return "covariance of the estimates not finite"
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return "covariance of the estimates not positive definite"
    se = np.sqrt(np.diag(cov))
    for name, p, s in zip(res.model.param_names, params, se, strict=True):
        if name.startswith(("ar.", "ma.")) and abs(p) + Z95 * s >= 1:
            return f"{name} = {p:.3f} (s.e. {s:.3f}) within 1.645 s.e. of the boundary ±1"
        if name == "sigma2" and p - Z95 * s <= 0:
            return f"sigma2 within 1.645 s.e. of 0 ({p:.3g}, s.e. {s:.3g})"
    return None


def _sarimax_param_draws(res, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_draws, k)`` parameters from N(estimate, cov_params()), inside the valid region.

    Draws with an AR/MA coefficient outside (−1, 1) or a variance ≤ 0 are redrawn; the
    estimate alone (one row) when :func:`_sarimax_uncertainty_problem` finds the covariance
    unusable.
    """
    params = np.asarray(res.params, dtype="float64")
    if _sarimax_uncertainty_problem(res) is not None:
        return params[None, :]
    chol = np.linalg.cholesky(np.asarray(res.cov_params(), dtype="float64"))
    names = res.model.param_names
    coef = np.array([n.startswith(("ar.", "ma.")) for n in names])
    var = np.array([n == "sigma2" for n in names])
    kept: list[np.ndarray] = []
    for _ in range(100):
        cand = params + rng.standard_normal((n_draws, params.size)) @ chol.T
        ok = np.all(np.abs(cand[:, coef]) < 1, axis=1) & np.all(cand[:, var] > 0, axis=1)
        kept.extend(cand[ok])
        if len(kept) >= n_draws:
            break
    kept.extend([params] * max(n_draws - len(kept), 0))  # practically never: ≥ 95 % accepted
    return np.asarray(kept[:n_draws])


def _sarimax_paths(res, h: int, n_paths: int, rng: np.random.Generator, n_draws: int) -> np.ndarray:
    """SARIMAX paths: per parameter draw, its forecast plus Gaussian shocks through its ψ weights."""
    draws = _sarimax_param_draws(res, max(1, min(n_draws, n_paths)), rng)
    bounds = np.linspace(0, n_paths, draws.shape[0] + 1).round().astype(int)
    out = np.empty((n_paths, h))
    sigma2_at = list(res.model.param_names).index("sigma2")
    for p, lo, hi in zip(draws, bounds[:-1], bounds[1:], strict=True):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            r = res.model.filter(p) if draws.shape[0] > 1 else res
            mean = np.asarray(r.forecast(h), dtype="float64")
        psi = _arima_psi(r, h)
        lower = np.zeros((h, h))
        for j in range(h):
            lower += np.diag(np.full(h - j, psi[j]), -j)
        eps = rng.standard_normal((hi - lo, h)) * math.sqrt(float(p[sigma2_at]))
        out[lo:hi] = mean[None, :] + eps @ lower.T
    return out


def _simulate(
    name: str,
    res,
    z: np.ndarray,
    h: int,
    n_paths: int,
    rng: np.random.Generator,
    *,
    param_draws: int = SARIMAX_PARAM_DRAWS,
) -> np.ndarray:
    """Simulated scaled inflows ``(n_paths, h)`` from model ``name`` (before clipping).

    Each simulation is centred on the model's own point forecast (:func:`_point_forecast`):

    * naive — random walk without drift: ``z_T`` plus cumulated resampled month-to-month
      changes of the history, demeaned (their mean, the drift, is not in the model);
    * seasonal naive — seasonal random walk: month ``T+k`` is month ``T+k−12`` (observed for
      k ≤ 12, simulated after) plus one resampled year-on-year change, demeaned;
    * ETS — :meth:`ETSResults.simulate` (Gaussian errors with the fitted variance; no parameter
      uncertainty: statsmodels offers none for ETS);
    * SARIMAX — point forecast plus Gaussian shocks through the ψ weights (the predictive
      distribution of ``simulate``, much faster), with the parameters drawn from
      ``cov_params()`` once per block of paths (:func:`_sarimax_param_draws`).

    Raises
    ------
    ValueError
        When the history has no change to resample (naive: < 2 months; seasonal naive: ≤ 12).
    """
    if name == "ets":
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            sim = res.simulate(h, anchor="end", repetitions=n_paths, rng=rng)
        return np.asarray(sim, dtype="float64").reshape(h, n_paths).T
    if name == "sarimax":
        return _sarimax_paths(res, h, n_paths, rng, param_draws)
    if name == "naive":
        steps = np.diff(z)
        if steps.size == 0:
            raise ValueError("no month-to-month change to resample")
        steps = steps - steps.mean()
        draws = steps[rng.integers(0, steps.size, size=(n_paths, h))]
        return z[-1] + np.cumsum(draws, axis=1)
    changes = z[SEASON:] - z[:-SEASON]
    if changes.size == 0:
        raise ValueError("no year-on-year change to resample (12 months or fewer)")
    changes = changes - changes.mean()
    draws = changes[rng.integers(0, changes.size, size=(n_paths, h))]
    out = np.empty((n_paths, h))
    for k in range(h):
        base = z[z.size - SEASON + k] if k < SEASON else out[:, k - SEASON]
        out[:, k] = base + draws[:, k]
    return out


def _parameter_uncertainty(name: str, res) -> str:
    """How the simulation of model ``name`` treats the uncertainty of its parameters (words)."""
    if name == "sarimax":
        problem = _sarimax_uncertainty_problem(res)
        if problem is None:
            return (
                f"SARIMAX parameters drawn from N(estimate, cov_params()) {SARIMAX_PARAM_DRAWS} "
                "times (paths in blocks), draws outside the invertible region redrawn"
            )
        return f"not simulated: {problem}; paths use the estimates"
    if name == "ets":
        return (
            "not simulated: statsmodels' ETS simulation conditions on the estimates and offers "
            "no parameter draws (a bootstrap of refits would cost a fit per draw)"
        )
    if name in ("naive", "seasonal_naive"):
        return "no parameters: the spread is the resampled (demeaned) past changes"
    return "not applicable"


def _block_bootstrap(y: np.ndarray, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
    window = y[-BOOTSTRAP_WINDOW_MONTHS:]
    b = min(BOOTSTRAP_BLOCK_MONTHS, window.size)
    n_blocks = -(-h // b)
    starts = rng.integers(0, window.size - b + 1, size=(n_paths, n_blocks))
    idx = (starts[:, :, None] + np.arange(b)).reshape(n_paths, n_blocks * b)[:, :h]
    return window[idx]


def backtest_origins(
    n_months: int,
    *,
    horizon_months: int = BACKTEST_HORIZON_MONTHS,
    step_months: int = BACKTEST_STEP_MONTHS,
    min_train_months: int = BACKTEST_MIN_TRAIN_MONTHS,
) -> list[int]:
    """Training lengths (months) of the rolling back-test origins, oldest first.

    Parameters
    ----------
    n_months
        Months of history.
    horizon_months, step_months, min_train_months
        Months forecast from each origin, months between origins, fewest training months.

    Returns
    -------
    list of int
        ``n − h, n − h − step, …`` down to ``min_train_months``, oldest first, so the last
        origin's horizon ends with the history. When not even one origin has
        ``min_train_months`` but ``n − h ≥ 12`` (a season): the single origin ``n − h``. Empty
        when ``n − h < 12``.
    """
    last = int(n_months) - int(horizon_months)
    if last < SEASON:
        return []
    origins = list(range(last, int(min_train_months) - 1, -int(step_months)))[::-1]
    return origins or [last]


def _failed_row(name: str, exc: Exception) -> dict[str, Any]:
    return {
        "model": name,
        "spec": name,
        "mase": math.nan,
        "mae_yuan": math.nan,
        "forecast_total_yuan": math.nan,
        "status": f"failed: {exc}",
    }


def _score_candidate(
    name: str,
    train: np.ndarray,
    test: np.ndarray,
    scale: float,
    *,
    n_paths: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Fit ``name`` to ``train``, forecast ``test``; MASE, MAE, 12-month total and its PIT.

    The point forecast is clipped at 0 (as the paths are); the simulated totals are those of
    :func:`forecast_inflows` (clipped at 0, capped at 10 × the largest training month).
    """
    unit = _scale(train)
    z = train / unit
    try:
        res, spec = _fit(name, z)
        fc = np.maximum(_point_forecast(name, res, z, test.size) * unit, 0.0)
        if not np.all(np.isfinite(fc)):
            raise ValueError("non-finite forecast")
    except (ValueError, np.linalg.LinAlgError, IndexError) as exc:
        return _failed_row(name, exc)
    mae = float(np.mean(np.abs(test - fc)))
    row: dict[str, Any] = {
        "model": name,
        "spec": _spec_text(name, spec),
        "mase": mae / scale,
        "mae_yuan": mae,
        "forecast_total_yuan": float(fc.sum()),
        "status": "ok",
    }
    try:
        sim = _simulate(
            name, res, z, test.size, n_paths, rng, param_draws=BACKTEST_SARIMAX_PARAM_DRAWS
        )
        totals = np.clip(sim * unit, 0.0, INFLOW_CAP_MULTIPLE * float(train.max())).sum(axis=1)
        score = score_sample_forecast(totals, float(test.sum()))
    except (ValueError, np.linalg.LinAlgError, IndexError) as exc:
        log.debug("back-test simulation of %s failed: %s", name, exc)
        return row
    return row | {
        "sim_p10_yuan": score["p10"],
        "sim_p50_yuan": score["p50"],
        "sim_p90_yuan": score["p90"],
        "pit": score["pit"],
        "inside_p10_p90": score["inside_p10_p90"],
        "crps_yuan": score["crps"],
    }


ORIGIN_COLUMNS = [
    "origin",
    "train_months",
    "model",
    "spec",
    "mase",
    "mae_yuan",
    "forecast_total_yuan",
    "actual_total_yuan",
    "total_error_pct",
    "sim_p10_yuan",
    "sim_p50_yuan",
    "sim_p90_yuan",
    "pit",
    "inside_p10_p90",
    "crps_yuan",
    "status",
]


def _choose(origins: pd.DataFrame, at: Sequence[str]) -> str | None:
    """Lowest mean MASE over origins ``at`` among candidates scored at all of them; ties simpler."""
    sub = origins.loc[origins["origin"].isin(at)]
    best: str | None = None
    best_mase = math.inf
    for name in CANDIDATES:
        m = sub.loc[sub["model"].eq(name), "mase"]
        if m.empty or m.isna().any():
            continue
        mean = float(m.mean())
        if mean < best_mase * (1 - TIE_TOLERANCE):
            best, best_mase = name, mean
    return best


def _selection_out_of_sample(origins: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """At each origin after the first: the choice from the origins before it, and its MASE there."""
    rows = []
    for k in range(1, len(labels)):
        pick = _choose(origins, labels[:k])
        at = origins.loc[origins["origin"].eq(labels[k]) & origins["model"].eq(pick)]
        rows.append(
            {
                "origin": labels[k],
                "train_months": int(
                    origins.loc[origins["origin"].eq(labels[k]), "train_months"].iloc[0]
                ),
                "chosen_from_earlier": pick,
                "mase": float(at["mase"].iloc[0]) if len(at) else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["origin", "train_months", "chosen_from_earlier", "mase"])


def _model_table(origins: pd.DataFrame, labels: Sequence[str], winner: str | None) -> pd.DataFrame:
    """One row per candidate: mean scores over the origins, status, chosen."""
    rows = []
    last = origins.loc[origins["origin"].eq(labels[-1])].set_index("model")
    for name in CANDIDATES:
        m = origins.loc[origins["model"].eq(name)]
        ok = m["status"].eq("ok")
        failed = m.loc[~ok, "status"]
        rows.append(
            {
                "model": name,
                "spec": str(last.loc[name, "spec"]),
                "mase": float(m["mase"].mean()) if ok.all() else math.nan,
                "mase_max": float(m["mase"].max()) if ok.all() else math.nan,
                "mae_yuan": float(m["mae_yuan"].mean()) if ok.all() else math.nan,
                "n_origins": int(ok.sum()),
                "total_abs_error_pct": float(m["total_error_pct"].abs().mean()),
                "mean_pit": float(m["pit"].mean()),
                "coverage_p10_p90": float(m["inside_p10_p90"].dropna().astype(float).mean())
                if m["inside_p10_p90"].notna().any()
                else math.nan,
                "status": "ok"
                if failed.empty
                else f"failed at {len(failed)} of {len(m)} origins: {failed.iloc[0]}",
                "chosen": name == winner,
            }
        )
    return pd.DataFrame(rows).astype({"model": "str", "spec": "str", "status": "str"})


@single_threaded_blas()
def rolling_backtest_inflow_models(
    monthly: pd.Series,
    *,
    horizon_months: int = BACKTEST_HORIZON_MONTHS,
    step_months: int = BACKTEST_STEP_MONTHS,
    min_train_months: int = BACKTEST_MIN_TRAIN_MONTHS,
    n_paths: int = BACKTEST_N_PATHS,
    seed: int = BACKTEST_SEED,
) -> ForecastResult:
    """Rolling-origin back-test of naive, seasonal naive, ETS and SARIMAX, and the choice.

    At each origin (:func:`backtest_origins`) every candidate is fitted to the months before it
    and forecasts the next ``horizon_months``; it is scored by MASE, the error of the forecast
    total, and the PIT and P10–P90 coverage of its simulated total (:func:`_simulate`, clipped
    at 0 as in :func:`forecast_inflows`). The chosen model has the lowest mean MASE over the
    origins (ties to the simpler, in the order naive, seasonal naive, ETS, SARIMAX; only
    candidates scored at every origin). That minimum is optimistic — it is selected on the
    same origins it is reported on — so the *procedure* is scored out of sample too: at each
    origin after the first, the model it would have chosen from the earlier origins alone,
    scored at that origin.

    Parameters
    ----------
    monthly
        Monthly inflows (yuan), e.g. from :func:`compute_monthly_inflows` (not modified); with a
        monthly ``PeriodIndex`` the origins are named by their last training month.
    horizon_months
        Months forecast from each origin (default 12, so the total is a year's inflow).
    step_months
        Months between origins (default 12), counted back from the last origin.
    min_train_months
        Fewest training months at an origin (default 24; see :func:`backtest_origins` for a
        shorter history).
    n_paths, seed
        Simulated paths per candidate and origin for the PIT and coverage (default 500), and
        their seed (origin ``k`` and candidate ``j`` draw from ``default_rng([seed, k, j])``).

    Returns
    -------
    ForecastResult
        ``summary`` (also ``frames["backtest"]``): one row per candidate — ``model``, ``spec``
        (at the last origin), ``mase`` (mean over the origins; NaN unless scored at all),
        ``mase_max``, ``mae_yuan`` (mean), ``n_origins`` (origins scored), ``total_abs_error_pct``
        (mean |forecast − actual| of the 12-month total, % of actual), ``mean_pit``,
        ``coverage_p10_p90`` (share of origins with the actual total inside the simulated
        P10–P90), ``status``, ``chosen``. ``frames["backtest_origins"]``: one row per origin ×
        candidate with :data:`ORIGIN_COLUMNS`. ``frames["backtest_selection"]``: one row per
        origin after the first — ``origin``, ``train_months``, ``chosen_from_earlier``, ``mase``.
        ``assumptions``: ``mase`` (mean per candidate, ``None`` where not scored at every
        origin), ``winner``, ``winner_spec``, ``chosen_mase_in_sample``,
        ``selection_mase_out_of_sample`` (``None`` with one origin), ``selection_n_origins``,
        ``chosen_mase_same_origins`` (the winner's mean MASE over those same later origins),
        ``n_origins``, ``origins``, ``train_months``, ``horizon_months``, ``step_months``,
        ``min_train_months``, ``mase_scale`` (Chinese), ``n_paths``, ``seed``.

    Raises
    ------
    ParameterError
        When ``horizon_months``, ``step_months`` or ``n_paths`` is below 1, or
        ``min_train_months`` below 12.
    InsufficientDataError
        When there are fewer than ``horizon_months + 12`` months.

    Notes
    -----
    Models are fitted to the inflows divided by their mean month (numerical stability) and
    their point forecasts, clipped at 0, are compared in yuan. ETS is chosen by AICc among
    (A,N,N), (A,Ad,N) and, with at least 28 training months, (A,N,A) and (A,Ad,A); SARIMAX is
    the airline model (0,1,1)(0,1,1)₁₂ with at least 36 training months, else (0,1,1).

    .. math:: \\mathrm{MASE} = \\frac{\\mathrm{mean}_{horizon}|y_t - \\hat y_t|}
              {\\mathrm{mean}_{train}|y_t - y_{t-1}|}

    The denominator is each origin's in-sample mean absolute month-to-month change (the mean
    absolute level, or 1, when that is 0) — the in-sample one-step error of "last month
    again", not the naive model's error over the horizon (which is 12 steps ahead and can be
    several times larger). The scale is common to all candidates at an origin, so the ranking
    there is that of the MAE; averaging MASE, not MAE, keeps a large year from dominating.
    With a few origins (4 on six years of history) the out-of-sample figure is itself rough.
    """
    y = np.asarray(monthly, dtype="float64")
    h, step, min_train = int(horizon_months), int(step_months), int(min_train_months)
    if h < 1 or step < 1 or int(n_paths) < 1:
        raise ParameterError(
            "horizon_months, step_months and n_paths must be >= 1, got "
            f"{horizon_months!r}, {step_months!r}, {n_paths!r}"
        )
    if min_train < SEASON:
        raise ParameterError(f"min_train_months must be >= {SEASON}, got {min_train_months!r}")
    ends = backtest_origins(y.size, horizon_months=h, step_months=step, min_train_months=min_train)
    if not ends:
        raise InsufficientDataError(
            f"back-test needs at least {h + SEASON} months of inflows, got {y.size}"
        )
    index = monthly.index
    labels = [str(index[t - 1]) if isinstance(index, pd.PeriodIndex) else str(t) for t in ends]
    rows = []
    for k, (t, label) in enumerate(zip(ends, labels, strict=True)):
        train, test = y[:t], y[t : t + h]
        scale, actual = _mase_scale(train), float(test.sum())
        for j, name in enumerate(CANDIDATES):
            rng = np.random.default_rng([int(seed), k, j])
            row = _score_candidate(name, train, test, scale, n_paths=int(n_paths), rng=rng)
            err = row["forecast_total_yuan"] - actual
            rows.append(
                row
                | {
                    "origin": label,
                    "train_months": t,
                    "actual_total_yuan": actual,
                    "total_error_pct": 100 * err / actual if actual > 0 else math.nan,
                }
            )
    origins = pd.DataFrame(rows).reindex(columns=ORIGIN_COLUMNS)
    winner = _choose(origins, labels)
    table = _model_table(origins, labels, winner)
    selection = _selection_out_of_sample(origins, labels)
    later = origins.loc[origins["origin"].isin(labels[1:]) & origins["model"].eq(winner), "mase"]
    sel = selection["mase"].dropna()
    mase = {r.model: (None if math.isnan(r.mase) else float(r.mase)) for r in table.itertuples()}
    assumptions = {
        "horizon_months": h,
        "step_months": step,
        "min_train_months": min_train,
        "n_origins": len(ends),
        "origins": labels,
        "train_months": ends,
        "mase": mase,
        "mase_scale": MASE_SCALE_TEXT,
        "winner": winner,
        "winner_spec": None
        if winner is None
        else str(table.set_index("model").loc[winner, "spec"]),
        "chosen_mase_in_sample": None if winner is None else mase[winner],
        "selection_mase_out_of_sample": float(sel.mean()) if len(sel) else None,
        "selection_n_origins": len(sel),
        "chosen_mase_same_origins": float(later.mean()) if len(later) and len(sel) else None,
        "n_paths": int(n_paths),
        "seed": int(seed),
    }
    return ForecastResult(
        summary=table,
        assumptions=assumptions,
        frames={"backtest": table, "backtest_origins": origins, "backtest_selection": selection},
    )


#: Chinese names of the inflow models, as a reader's page shows them (no method abbreviations).
MODEL_LABELS: dict[str, str] = {
    "naive": "朴素预测（重复上月）",
    "seasonal_naive": "季节朴素预测（重复去年同月）",
    "ets": "指数平滑",
    "sarimax": "季节性自回归移动平均",
    "block_bootstrap": "历史月度到位额分块自助抽样",
    "zero": "无到位记录，按0计",
}
#: The methods' technical names, added to :data:`MODEL_LABELS` in the technical note only.
METHOD_NAMES: dict[str, str] = {"ets": "ETS", "sarimax": "SARIMAX"}


def _tech_label(method: str) -> str:
    """A method as the technical note names it: ``指数平滑（ETS）``."""
    label = MODEL_LABELS.get(method, method)
    return f"{label}（{METHOD_NAMES[method]}）" if method in METHOD_NAMES else label


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


@dataclass(frozen=True, eq=False)
class InflowModel:
    """The inflow model of a monthly history: the back-test winner fitted to all of it, or a fallback.

    Built by :func:`fit_inflow_model`; :meth:`simulate` draws paths from it as often as needed
    (:func:`forecast_inflows` does, with its seed), so the back-test and the fit run once.

    Attributes
    ----------
    as_of
        Reporting date.
    monthly
        The history, :func:`compute_monthly_inflows` (yuan per month).
    method
        ``naive``, ``seasonal_naive``, ``ets`` or ``sarimax`` (the back-test winner), or the
        fallback ``block_bootstrap`` or ``zero``.
    spec
        The specification in words (e.g. ``ETS(A,Ad,N)``, the bootstrap's block length).
    fallback_reason
        Why there is no model (``None`` when the winner was fitted).
    backtest
        :func:`rolling_backtest_inflow_models` per-candidate table (``frames["backtest"]``;
        empty when the back-test did not run).
    backtest_mase
        Mean MASE over the back-test origins per candidate (``None`` where it failed at an
        origin; empty when the back-test did not run).
    results
        The fitted statsmodels results (ETS, SARIMAX) on the scaled history, else ``None``.
    unit
        Yuan per model unit (the mean month of the history, or 1).
    backtest_origins, backtest_selection
        ``frames["backtest_origins"]`` and ``frames["backtest_selection"]`` of the back-test
        (empty when it did not run).
    backtest_info
        The back-test's ``assumptions`` (empty when it did not run).
    """

    as_of: pd.Timestamp
    monthly: pd.Series
    method: str
    spec: str
    fallback_reason: str | None
    backtest: pd.DataFrame
    backtest_mase: Mapping[str, float | None]
    results: Any = None
    unit: float = 1.0
    backtest_origins: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest_selection: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest_info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def skip(self) -> int:
        """Model months before the first forecast month: 1 for a mid-month ``as_of``, else 0."""
        return 0 if self.as_of.is_month_end else 1

    def point_forecast(self, horizon_months: int) -> np.ndarray | None:
        """The fitted model's own point forecast after the month of ``as_of`` (yuan, unclipped).

        Parameters
        ----------
        horizon_months
            Months forecast.

        Returns
        -------
        numpy.ndarray or None
            ``(horizon_months,)`` yuan: the naive last month, the seasonal naive same month
            last year, the ETS or SARIMAX forecast; ``None`` for the fallbacks (the block
            bootstrap has no point forecast, zeros are zeros).
        """
        if self.method not in CANDIDATES:
            return None
        z = self.monthly.to_numpy(dtype="float64") / self.unit
        h = int(horizon_months) + self.skip
        return _point_forecast(self.method, self.results, z, h)[self.skip :] * self.unit

    @property
    def parameter_uncertainty(self) -> str:
        """How the simulation treats the uncertainty of the model's parameters (words)."""
        return _parameter_uncertainty(self.method, self.results)

    def simulate(
        self, horizon_months: int, n_paths: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, InflowModel]:
        """Simulated monthly inflows after the month of ``as_of``, before clipping.

        Parameters
        ----------
        horizon_months, n_paths
            Months and paths to simulate.
        rng
            Generator the draws come from (consumed).

        Returns
        -------
        (numpy.ndarray, InflowModel)
            ``(n_paths, horizon_months)`` yuan (unclipped: may be negative) and the model that
            drew them: ``self``, or the block-bootstrap fallback (reason logged) when simulating
            the fitted model fails or gives non-finite values.
        """
        y = self.monthly.to_numpy(dtype="float64")
        h, n = int(horizon_months), int(n_paths)
        if self.method == "zero":
            return np.zeros((n, h)), self
        if self.method == "block_bootstrap":
            return _block_bootstrap(y, h, n, rng), self
        # mid-month as_of: the series ends a month early, so the model's first month is skipped
        skip = self.skip
        try:
            z = y / self.unit
            sim = _simulate(self.method, self.results, z, h + skip, n, rng)[:, skip:] * self.unit
            if not np.all(np.isfinite(sim)):
                raise ValueError("non-finite simulated inflows")
        except (ValueError, np.linalg.LinAlgError) as exc:
            reason = f"the chosen model ({self.method}) failed on the full history: {exc}"
            fallback = _fallback_model(self, reason)
            return fallback.simulate(h, n, rng)
        return sim, self


def _fallback_model(model: InflowModel, reason: str) -> InflowModel:
    """``model`` turned into the block bootstrap (or zeros without history), reason logged."""
    log.warning("inflow forecast falls back to a simpler method: %s", reason)
    n = len(model.monthly)
    if not n:
        method, spec = "zero", "no inflow: 0 every month"
    else:
        method = "block_bootstrap"
        spec = (
            f"block bootstrap: blocks of {min(BOOTSTRAP_BLOCK_MONTHS, n)} consecutive months "
            f"from the last {min(BOOTSTRAP_WINDOW_MONTHS, n)} months"
        )
    return replace(model, method=method, spec=spec, fallback_reason=reason, results=None, unit=1.0)


@single_threaded_blas()
def fit_inflow_model(
    funding: pd.DataFrame | None,
    *,
    as_of: DateLike,
    min_history_months: int = MIN_HISTORY_MONTHS,
    max_zero_share: float = MAX_ZERO_SHARE,
) -> InflowModel:
    """Back-test the candidate models on the monthly inflows and fit the winner to all of them.

    Parameters
    ----------
    funding
        Canonical ``funding`` table (not modified; ``None`` is empty).
    as_of
        Reporting date (history: complete months up to it, see :func:`compute_monthly_inflows`).
    min_history_months, max_zero_share
        A history shorter than ``min_history_months`` (default 24) or with more than
        ``max_zero_share`` (default 0.5) of months without inflow is not modelled: the
        fallback is a block bootstrap (zeros without any inflow), with the reason logged.

    Returns
    -------
    InflowModel
        The winner of :func:`rolling_backtest_inflow_models` refitted to the whole history (ETS
        re-chooses its specification by AICc and SARIMAX takes the airline form from 36 months,
        as at every origin), or the fallback with its reason (also when the history is shorter
        than the 12-month horizon plus a season, no candidate was scored at every origin, or
        the winner fails on the full history).
    """
    as_of_ts = resolve_as_of(as_of)
    monthly = compute_monthly_inflows(funding, as_of=as_of_ts)
    y = monthly.to_numpy(dtype="float64")
    model = InflowModel(
        as_of=as_of_ts,
        monthly=monthly,
        method="block_bootstrap",
        spec="",
        fallback_reason=_fallback_reason(y, int(min_history_months), float(max_zero_share)),
        backtest=pd.DataFrame(columns=["model", "spec", "mase", "n_origins", "status", "chosen"]),
        backtest_mase={},
    )
    if model.fallback_reason is None and y.size < BACKTEST_HORIZON_MONTHS + SEASON:
        model = replace(
            model, fallback_reason=f"only {y.size} months: too short for a 12-month back-test"
        )
    if model.fallback_reason is not None:
        return _fallback_model(model, model.fallback_reason)
    model = _fit_winner(model)
    log.debug("inflow model at %s: %s, %s", as_of_ts.date(), model.method, model.spec)
    return model


def _fit_winner(model: InflowModel) -> InflowModel:
    """Back-test on ``model.monthly`` and fit the winner to all of it (else the fallback)."""
    bt = rolling_backtest_inflow_models(model.monthly)
    model = replace(
        model,
        backtest=bt.frames["backtest"],
        backtest_mase=bt.assumptions["mase"],
        backtest_origins=bt.frames["backtest_origins"],
        backtest_selection=bt.frames["backtest_selection"],
        backtest_info=bt.assumptions,
    )
    winner = bt.assumptions["winner"]
    if winner is None:
        return _fallback_model(
            model, "no candidate model could be fitted at every origin of the back-test"
        )
    y = model.monthly.to_numpy(dtype="float64")
    unit = _scale(y)
    try:
        res, spec = _fit(winner, y / unit)
    except (ValueError, np.linalg.LinAlgError) as exc:
        reason = f"the chosen model ({winner}) failed on the full history: {exc}"
        return _fallback_model(model, reason)
    return replace(
        model,
        method=winner,
        spec=_spec_text(winner, spec),
        fallback_reason=None,
        results=res,
        unit=unit,
    )


@single_threaded_blas()
def forecast_inflows(
    funding: pd.DataFrame | None,
    *,
    as_of: DateLike,
    horizon_months: int = 12,
    n_paths: int = DEFAULT_N_PATHS,
    seed: int = 2021,
    min_history_months: int = MIN_HISTORY_MONTHS,
    max_zero_share: float = MAX_ZERO_SHARE,
    model: InflowModel | None = None,
) -> ForecastResult:
    """Simulated monthly inflows over the horizon from the model that wins the back-test.

    Parameters
    ----------
    funding
        Canonical ``funding`` table (not modified); not read when ``model`` is given.
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
        fallback is a block bootstrap, with the reason returned and logged. Used only when
        ``model`` is ``None``.
    model
        Pre-fitted :func:`fit_inflow_model` at the same ``as_of``; fitted (back-test and all)
        when ``None``. The result is identical either way.

    Returns
    -------
    ForecastResult
        ``summary``: one row per horizon month — ``month`` (period), ``horizon_month`` (1..H),
        ``inflow_mean_yuan``, ``inflow_p10_yuan``, ``inflow_p50_yuan``, ``inflow_p90_yuan``.
        ``frames``: ``"history"`` (the monthly series); ``"backtest"`` (one row per candidate:
        mean MASE over the back-test origins, ``n_origins``, ``chosen``, …),
        ``"backtest_origins"`` (one row per origin × candidate) and ``"backtest_selection"``
        (the out-of-sample choice per origin), see :func:`rolling_backtest_inflow_models`;
        empty when the back-test did not run. ``samples``: ``"inflows"``
        ``(n_paths, horizon_months)`` yuan, clipped. ``assumptions``: ``method`` (naive,
        seasonal_naive, ets, sarimax, block_bootstrap or zero), ``spec``, ``why`` (Chinese),
        ``fallback_reason``, ``backtest_mase`` (mean MASE per candidate over the origins),
        ``backtest_holdout_months`` (months forecast from each origin, 12; ``None`` without a
        back-test), ``backtest_step_months``, ``n_origins``, ``backtest_origins`` (last training
        month of each), ``mase_scale`` (Chinese), ``chosen_mase_in_sample``,
        ``selection_mase_out_of_sample``, ``chosen_mase_same_origins``, ``selection_n_origins``,
        ``point_forecast_total_yuan`` (the model's own forecast of the horizon total, unclipped;
        ``None`` for fallbacks), ``simulated_total_unclipped_yuan`` and
        ``simulated_total_yuan`` (mean and P50 of the path totals before and after clipping),
        ``clipped_month_share``, ``parameter_uncertainty``, ``payments_link`` (Chinese),
        history length, ``non_negative``, ``n_paths``, ``seed``. Reusable:
        :func:`~zhengshou_analysis.forecast.gap.forecast_funding_gap` takes it as ``inflows=``.

    Raises
    ------
    ParameterError
        When ``horizon_months``, ``n_paths`` or ``seed`` is out of range, or ``model`` was fitted
        at another ``as_of``.

    Notes
    -----
    Models run on the yuan scale (divided by the mean month for numerical stability) with
    additive errors. The paths are drawn from the chosen model with no drift it does not have
    (:func:`_simulate`): their median total is the model's own point forecast up to simulation
    noise. Simulated months are then clipped at 0, so no month is negative — which raises the
    totals where the model puts mass below 0 (``simulated_total_yuan`` against
    ``simulated_total_unclipped_yuan`` shows by how much) — and capped at 10 × the largest
    month on record (a guard, rarely binding). A log1p scale was tried and rejected: the zero
    months of lumpy series give the log scale so large a variance that simulated yearly sums
    run to absurd multiples of any year on record. Parameter uncertainty: SARIMAX parameters
    are drawn from their estimated covariance unless an estimate sits at the invertibility
    boundary (then the covariance is unreliable and the estimates are used, as stated in
    ``parameter_uncertainty``); ETS paths condition on the estimates (statsmodels has no
    parameter draws for ETS). The block bootstrap draws blocks of 3 consecutive months from
    the last 36 months. Inflows are independent of payments (``payments_link``).
    """
    as_of_ts = resolve_as_of(as_of)
    check_simulation_args(horizon_months, n_paths, 0, seed)
    h, n = int(horizon_months), int(n_paths)
    if model is None:
        model = fit_inflow_model(
            funding,
            as_of=as_of_ts,
            min_history_months=min_history_months,
            max_zero_share=max_zero_share,
        )
    elif model.as_of != as_of_ts:
        raise ParameterError(
            f"the inflow model was fitted at {model.as_of.date()}, not at as_of={as_of_ts.date()}"
        )
    _, rng = random_streams(seed)
    raw, used = model.simulate(h, n, rng)
    y = model.monthly.to_numpy(dtype="float64")
    cap = INFLOW_CAP_MULTIPLE * float(y.max()) if y.size else 0.0
    paths = np.clip(raw, 0.0, cap)
    assumptions = _inflow_assumptions(used, n_paths=n, seed=int(seed)) | _simulation_check(
        used, raw, paths
    )
    return ForecastResult(
        summary=_inflow_summary(paths, as_of_ts, h),
        assumptions=assumptions,
        frames={
            "history": model.monthly.to_frame(),
            "backtest": used.backtest,
            "backtest_origins": used.backtest_origins,
            "backtest_selection": used.backtest_selection,
        },
        samples={"inflows": paths},
    )


def _inflow_summary(paths: np.ndarray, as_of: pd.Timestamp, h: int) -> pd.DataFrame:
    """One row per horizon month: the month, its number and the quantiles of the paths."""
    months = pd.period_range(as_of.to_period("M") + 1, periods=h, freq="M", name="month")
    q = path_quantiles(paths)
    return pd.DataFrame(
        {
            "month": months,
            "horizon_month": np.arange(1, h + 1),
            **{f"inflow_{k}_yuan": v for k, v in q.items()},
        }
    )


def _simulation_check(model: InflowModel, raw: np.ndarray, paths: np.ndarray) -> dict[str, Any]:
    """Point forecast vs simulated totals, before and after clipping (``model`` drew ``raw``)."""
    point = model.point_forecast(raw.shape[1])
    raw_total, total = raw.sum(axis=1), paths.sum(axis=1)
    return {
        "point_forecast_total_yuan": None if point is None else float(point.sum()),
        "simulated_total_unclipped_yuan": {
            "mean": float(raw_total.mean()),
            "p50": float(np.median(raw_total)),
        },
        "simulated_total_yuan": {"mean": float(total.mean()), "p50": float(np.median(total))},
        "clipped_month_share": float(np.mean(raw < 0)),
    }


def _why(model: InflowModel) -> str | None:
    """Why this method, in Chinese: the rolling back-test and its honest error, or the fallback."""
    method, mase, info = model.method, model.backtest_mase, model.backtest_info
    if method not in CANDIDATES:
        return model.fallback_reason
    label = _tech_label(method)
    n = info["n_origins"]
    if n > 1:
        where = (
            f"把历史分别截止到过去{n}个时点（{info['origins'][0]}至{info['origins'][-1]}，"
            f"每隔{info['step_months']}个月一个），各用此前的数据预测随后"
            f"{info['horizon_months']}个月"
        )
    else:
        where = (
            f"历史较短，只能截止到一个时点（{info['origins'][0]}）预测随后"
            f"{info['horizon_months']}个月"
        )
    text = (
        f"资金到位预测选用“{label}”：{where}，它的平均误差最小"
        f"（平均MASE {mase[method]:.2f}；"
        + "，".join(
            f"{_tech_label(k)} {'无法计算' if v is None else f'{v:.2f}'}" for k, v in mase.items()
        )
        + "）。"
        + MASE_SCALE_TEXT
    )
    oos = info.get("selection_mase_out_of_sample")
    if oos is None:
        return text + "只有一个回测时点，无法检验“按回测选模型”这一做法本身在样本外的误差。"
    return text + (
        f"这个最小值是在同一批回测上挑出来的，偏乐观：若每个时点只用它之前的回测结果选模型，"
        f"选中的模型在该时点的平均MASE为{oos:.2f}（{info['selection_n_origins']}个时点；"
        f"最终选用的模型在这些时点为{info['chosen_mase_same_origins']:.2f}）。"
    )


def _inflow_assumptions(model: InflowModel, *, n_paths: int, seed: int) -> dict[str, Any]:
    """The assumptions dict of :func:`forecast_inflows` (``model``: the one that drew the paths)."""
    monthly = model.monthly
    y = monthly.to_numpy(dtype="float64")
    info = model.backtest_info
    ran = bool(info)
    return {
        "method": model.method,
        "spec": model.spec,
        "why": _why(model),
        "fallback_reason": model.fallback_reason,
        "backtest_mase": model.backtest_mase,
        "backtest_holdout_months": info["horizon_months"] if ran else None,
        "backtest_step_months": info["step_months"] if ran else None,
        "n_origins": info["n_origins"] if ran else 0,
        "backtest_origins": list(info["origins"]) if ran else [],
        "mase_scale": MASE_SCALE_TEXT,
        **{
            k: info.get(k)
            for k in (
                "chosen_mase_in_sample",
                "selection_mase_out_of_sample",
                "chosen_mase_same_origins",
                "selection_n_origins",
            )
        },
        "parameter_uncertainty": model.parameter_uncertainty,
        "payments_link": PAYMENTS_LINK,
        "history_months": int(y.size),
        "history_nonzero_months": int((y > 0).sum()),
        "history_start": None if not y.size else str(monthly.index[0]),
        "history_end": None if not y.size else str(monthly.index[-1]),
        "non_negative": "yuan scale, simulated months clipped at 0 and capped at "
        f"{INFLOW_CAP_MULTIPLE:g} × the largest month on record",
        "n_paths": n_paths,
        "seed": seed,
    }
