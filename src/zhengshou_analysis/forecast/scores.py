"""Scores of forecasts against what happened: simulated totals (PIT, CRPS) and binary events.

* :func:`score_sample_forecast` — one simulated total (a year's inflows, a funding gap) against the realised
  total: PIT, CRPS, P10/P50/P90 and whether the realised value is inside P10–P90;
* :func:`crps_sample` — the sample CRPS alone;
* :func:`brier_score`, :func:`log_score` — a forecast probability of an event against whether it
  happened.

All functions are pure: inputs are never modified. Lower is better for CRPS, Brier and log
score; a PIT near 0 means the outcome was lower than almost every path, near 1 higher.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..exceptions import ParameterError

__all__ = ["brier_score", "crps_sample", "log_score", "pit_value", "score_sample_forecast"]


def _samples(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype="float64").ravel()
    if x.size == 0:
        raise ParameterError("samples must not be empty")
    if not np.all(np.isfinite(x)):
        raise ParameterError("samples must be finite")
    return x


def _value(realised: float, name: str) -> float:
    y = float(realised)
    if not math.isfinite(y):
        raise ParameterError(f"{name} must be finite, got {realised!r}")
    return y


def pit_value(samples: np.ndarray, realised: float) -> float:
    """Probability integral transform of ``realised`` under the sample, ties at mid-rank.

    Parameters
    ----------
    samples
        Simulated values (any shape, flattened; finite, not empty; not modified).
    realised
        The value that happened, in the units of ``samples``.

    Returns
    -------
    float
        ``(#{x < y} + ½ #{x = y}) / n`` in [0, 1]. Mid-rank ties keep the PIT of a point mass
        at 0.5 (a forecast of exactly 0 and an outcome of 0 is neither too high nor too low).

    Raises
    ------
    ParameterError
        When ``samples`` is empty or not finite, or ``realised`` is not finite.
    """
    x = np.sort(_samples(samples))
    y = _value(realised, "realised")
    below = int(np.searchsorted(x, y, side="left"))
    at_or_below = int(np.searchsorted(x, y, side="right"))
    return (below + 0.5 * (at_or_below - below)) / x.size


def crps_sample(samples: np.ndarray, realised: float) -> float:
    """Continuous ranked probability score of a sample: ``E|X − y| − ½ E|X − X'|``.

    Parameters
    ----------
    samples
        Simulated values (any shape, flattened; finite, not empty; not modified).
    realised
        The value that happened, in the units of ``samples``.

    Returns
    -------
    float
        CRPS in the units of ``samples`` (≥ 0; 0 only when every sample equals ``realised``).
        For a single sample it is the absolute error.

    Raises
    ------
    ParameterError
        When ``samples`` is empty or not finite, or ``realised`` is not finite.

    Notes
    -----
    The plain sample estimator (``E|X − X'|`` over all ordered pairs, including a path with
    itself, divided by ``n²``), computed in O(n log n) from the sorted sample:
    ``Σ_{i,j}|x_i − x_j| = 2 Σ_i (2i − n − 1) x_(i)`` with ``x_(1) ≤ … ≤ x_(n)``.
    """
    x = np.sort(_samples(samples))
    y = _value(realised, "realised")
    n = x.size
    e_xy = float(np.mean(np.abs(x - y)))
    i = np.arange(1, n + 1, dtype="float64")
    e_xx = 2.0 * float(np.sum((2.0 * i - n - 1.0) * x)) / (n * n)
    return max(e_xy - 0.5 * e_xx, 0.0)


def score_sample_forecast(samples_total: np.ndarray, realised_total: float) -> dict[str, Any]:
    """Score a simulated total (e.g. a year's inflows, yuan) against the realised total.

    Parameters
    ----------
    samples_total
        One simulated total per path, e.g. ``forecast_inflows(...).samples["inflows"].sum(1)``
        (finite, not empty; not modified).
    realised_total
        The total that happened, same units.

    Returns
    -------
    dict
        ``pit`` (share of paths ≤ the realised total, ties at mid-rank: see :func:`pit_value`),
        ``crps`` (:func:`crps_sample`, units of the samples), ``p10``, ``p50``, ``p90`` (sample
        quantiles, numpy's linear interpolation), ``inside_p10_p90`` (``p10 ≤ realised ≤ p90``),
        ``realised`` and ``n_paths``. Plain Python floats, bool and int (JSON-ready).

    Raises
    ------
    ParameterError
        When ``samples_total`` is empty or not finite, or ``realised_total`` is not finite.

    Notes
    -----
    Across many forecasts a calibrated forecaster gives PITs spread evenly over [0, 1] and the
    realised value inside P10–P90 about 80 % of the time; one forecast alone says little.
    """
    x = _samples(samples_total)
    y = _value(realised_total, "realised_total")
    p10, p50, p90 = (float(v) for v in np.quantile(x, [0.1, 0.5, 0.9]))
    return {
        "pit": pit_value(x, y),
        "crps": crps_sample(x, y),
        "p10": p10,
        "p50": p50,
        "p90": p90,
        "inside_p10_p90": bool(p10 <= y <= p90),
        "realised": y,
        "n_paths": int(x.size),
    }


def _binary(prob: float | np.ndarray, outcome: bool | int | np.ndarray) -> tuple[np.ndarray, ...]:
    p = np.asarray(prob, dtype="float64")
    o = np.asarray(outcome)
    if p.shape != o.shape:
        raise ParameterError(f"prob {p.shape} and outcome {o.shape} must have the same shape")
    if not np.all((p >= 0) & (p <= 1)):
        raise ParameterError("prob must be in [0, 1]")
    if not np.all((o == 0) | (o == 1)):
        raise ParameterError("outcome must be 0/1 or False/True")
    return p, o.astype("float64")


def brier_score(prob: float | np.ndarray, outcome: bool | int | np.ndarray) -> float:
    """Brier score of forecast probabilities of an event: mean of ``(p − o)²``.

    Parameters
    ----------
    prob
        Forecast probability (or array of them) that the event happens, in [0, 1].
    outcome
        Whether it happened: bool or 0/1, same shape as ``prob``.

    Returns
    -------
    float
        In [0, 1]; 0 is a certain and right forecast, 0.25 what always saying 50 % scores.

    Raises
    ------
    ParameterError
        When a probability is outside [0, 1], an outcome is not 0/1, or the shapes differ.
    """
    p, o = _binary(prob, outcome)
    return float(np.mean((p - o) ** 2))


def log_score(
    prob: float | np.ndarray, outcome: bool | int | np.ndarray, eps: float = 1e-6
) -> float:
    """Logarithmic score (negative log likelihood, natural log) of forecast event probabilities.

    Parameters
    ----------
    prob
        Forecast probability (or array of them) that the event happens, in [0, 1].
    outcome
        Whether it happened: bool or 0/1, same shape as ``prob``.
    eps
        Probabilities are clipped to ``[eps, 1 − eps]`` first (default 1e-6), so a forecast of
        0 % for an event that happened costs ``−ln eps`` (13.8), not infinity. Must be in
        (0, 0.5).

    Returns
    -------
    float
        Mean of ``−ln p`` where the event happened and ``−ln(1 − p)`` where it did not (nats, ≥ 0;
        ln 2 = 0.693 for always saying 50 %).

    Raises
    ------
    ParameterError
        When a probability is outside [0, 1], an outcome is not 0/1, the shapes differ, or
        ``eps`` is outside (0, 0.5).
    """
    if not 0.0 < eps < 0.5:
        raise ParameterError(f"eps must be in (0, 0.5), got {eps!r}")
    p, o = _binary(prob, outcome)
    q = np.clip(p, eps, 1.0 - eps)
    return float(np.mean(-(o * np.log(q) + (1.0 - o) * np.log1p(-q))))
