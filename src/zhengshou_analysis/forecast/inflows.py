"""Monthly inflows (到位资金): history, model back-test and selection, simulated paths.

* :func:`compute_monthly_inflows` — the monthly series up to ``as_of``;
* :func:`backtest_inflow_models` — naive, seasonal naive, ETS and SARIMAX scored on a holdout;
* :func:`forecast_inflows` — simulated monthly inflows over the horizon from the back-test
  winner, or from a block bootstrap when the history is too short or too sparse.

Inflows use the second child of ``SeedSequence(seed)`` (see
:func:`~zhengshou_analysis.forecast.common.random_streams`). Inputs are never modified.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InsufficientDataError, ParameterError
from ..results import ForecastResult
from ..schemas import conform_table
from ..settings import resolve_as_of
from .blas import single_threaded_blas
from .common import DEFAULT_N_PATHS, DateLike, check_simulation_args, path_quantiles, random_streams

__all__ = [
    "MODEL_LABELS",
    "InflowModel",
    "backtest_inflow_models",
    "compute_monthly_inflows",
    "fit_inflow_model",
    "forecast_inflows",
]

log = logging.getLogger(__name__)

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
#: The candidate models of the back-test, simplest first (ties go to the simpler).
CANDIDATES = ("naive", "seasonal_naive", "ets", "sarimax")


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


@single_threaded_blas()
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
    y = np.asarray(monthly, dtype="float64")
    h = int(holdout_months)
    if h < 1:
        raise ParameterError(f"holdout_months must be >= 1, got {holdout_months!r}")
    if y.size < h + SEASON:
        raise InsufficientDataError(
            f"back-test needs at least {h + SEASON} months of inflows, got {y.size}"
        )
    train, test = y[:-h], y[-h:]
    scale = _mase_scale(train)
    table = pd.DataFrame([_score_candidate(name, train, test, scale) for name in CANDIDATES])
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


def _score_candidate(
    name: str, train: np.ndarray, test: np.ndarray, scale: float
) -> dict[str, Any]:
    """Fit candidate ``name`` to ``train``, forecast ``test`` and score it (MASE, MAE in yuan)."""
    unit = _scale(train)
    z = train / unit
    try:
        res, spec = _fit(name, z)
        fc = np.maximum(_point_forecast(name, res, z, test.size) * unit, 0.0)
        if not np.all(np.isfinite(fc)):
            raise ValueError("non-finite forecast")
    except (ValueError, np.linalg.LinAlgError, IndexError) as exc:
        return {
            "model": name,
            "spec": name,
            "spec_params": None,
            "mase": math.nan,
            "mae_yuan": math.nan,
            "status": f"failed: {exc}",
        }
    mae = float(np.mean(np.abs(test - fc)))
    return {
        "model": name,
        "spec": _spec_text(name, spec),
        "spec_params": spec,
        "mase": mae / scale,
        "mae_yuan": mae,
        "status": "ok",
    }


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
        :func:`backtest_inflow_models` summary (empty when the back-test did not run).
    backtest_mase
        MASE per candidate (``None`` where it failed; empty when the back-test did not run).
    results
        The fitted statsmodels results (ETS, SARIMAX) on the scaled history, else ``None``.
    unit
        Yuan per model unit (the mean month of the history, or 1).
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
        skip = 0 if self.as_of.is_month_end else 1
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
        The winner of :func:`backtest_inflow_models` fitted to the whole history, or the
        fallback with its reason (also when the history is shorter than the 12-month holdout
        plus a season, no candidate could be fitted, or the winner fails on the full history).
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
        backtest=pd.DataFrame(columns=["model", "spec", "mase", "mae_yuan", "status", "chosen"]),
        backtest_mase={},
    )
    if model.fallback_reason is None and y.size < BACKTEST_HOLDOUT_MONTHS + SEASON:
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
    bt = backtest_inflow_models(model.monthly)
    model = replace(model, backtest=bt.summary, backtest_mase=bt.assumptions["mase"])
    winner = bt.assumptions["winner"]
    if winner is None:
        return _fallback_model(model, "no candidate model could be fitted in the back-test")
    specs = bt.frames["specs"].set_index("model")["spec_params"]
    y = model.monthly.to_numpy(dtype="float64")
    unit = _scale(y)
    try:
        res, spec = _fit(winner, y / unit, specs[winner] or None)
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
        ``frames``: ``"history"`` (the monthly series), ``"backtest"`` (every candidate's MASE;
        empty when not run). ``samples``: ``"inflows"`` ``(n_paths, horizon_months)`` yuan.
        ``assumptions``: ``method`` (naive, seasonal_naive, ets, sarimax, block_bootstrap or
        zero), ``why``, ``backtest_mase``, ``fallback_reason``, history length, ``n_paths``,
        ``seed``. Reusable: :func:`~zhengshou_analysis.forecast.gap.forecast_funding_gap` takes
        it as ``inflows=``.

    Raises
    ------
    ParameterError
        When ``horizon_months``, ``n_paths`` or ``seed`` is out of range, or ``model`` was fitted
        at another ``as_of``.

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
    paths, used = model.simulate(h, n, rng)
    y = model.monthly.to_numpy(dtype="float64")
    cap = INFLOW_CAP_MULTIPLE * float(y.max()) if y.size else 0.0
    paths = np.clip(paths, 0.0, cap)
    return ForecastResult(
        summary=_inflow_summary(paths, as_of_ts, h),
        assumptions=_inflow_assumptions(used, n_paths=n, seed=int(seed)),
        frames={"history": model.monthly.to_frame(), "backtest": used.backtest},
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


def _why(model: InflowModel) -> str | None:
    """Why this method, in Chinese: the back-test scores, or the fallback reason."""
    method, mase = model.method, model.backtest_mase
    if method not in CANDIDATES:
        return model.fallback_reason
    return (
        f"资金到位预测选用“{MODEL_LABELS.get(method, method)}”：用最后{BACKTEST_HOLDOUT_MONTHS}"
        f"个月回测，其平均绝对标度误差（MASE）{mase[method]:.3f}最小（"
        + "，".join(
            f"{MODEL_LABELS.get(k, k)} {'无法计算' if v is None else f'{v:.3f}'}"
            for k, v in mase.items()
        )
        + "）"
    )


def _inflow_assumptions(model: InflowModel, *, n_paths: int, seed: int) -> dict[str, Any]:
    """The assumptions dict of :func:`forecast_inflows` (``model``: the one that drew the paths)."""
    monthly = model.monthly
    y = monthly.to_numpy(dtype="float64")
    mase = model.backtest_mase
    return {
        "method": model.method,
        "spec": model.spec,
        "why": _why(model),
        "fallback_reason": model.fallback_reason,
        "backtest_mase": mase,
        "backtest_holdout_months": BACKTEST_HOLDOUT_MONTHS if mase else None,
        "history_months": int(y.size),
        "history_nonzero_months": int((y > 0).sum()),
        "history_start": None if not y.size else str(monthly.index[0]),
        "history_end": None if not y.size else str(monthly.index[-1]),
        "non_negative": "yuan scale, simulated months clipped at 0 and capped at "
        f"{INFLOW_CAP_MULTIPLE:g} × the largest month on record",
        "n_paths": n_paths,
        "seed": seed,
    }
