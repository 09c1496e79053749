"""forecast/scores: PIT, CRPS, the inflow-total score, Brier and log score (hand-computed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.forecast.scores import (
    brier_score,
    crps_sample,
    log_score,
    pit_value,
    score_sample_forecast,
)


def test_pit_counts_ties_at_mid_rank():
    assert pit_value(np.array([1.0, 2.0, 3.0, 4.0]), 2.5) == 0.5
    assert pit_value(np.array([1.0, 2.0, 2.0, 3.0]), 2.0) == 0.5  # (1 + ½·2) / 4
    assert pit_value(np.array([0.0, 0.0, 0.0]), 0.0) == 0.5  # a point mass on the outcome
    assert pit_value(np.array([1.0, 2.0]), 0.0) == 0.0
    assert pit_value(np.array([1.0, 2.0]), 5.0) == 1.0
    assert pit_value(np.array([[3.0, 1.0], [2.0, 4.0]]), 3.0) == 0.625  # (2 + ½) / 4, any shape


def test_crps_by_hand():
    # E|X−y| = (1.5+.5+.5+1.5)/4 = 1; Σ_{i,j}|x_i−x_j| = 2·(1+2+3+1+2+1) = 20 → E|X−X'| = 20/16
    assert crps_sample(np.array([4.0, 1.0, 3.0, 2.0]), 2.5) == pytest.approx(1.0 - 0.5 * 1.25)
    assert crps_sample(np.array([7.0]), 3.0) == 4.0  # one path: the absolute error
    assert crps_sample(np.full(5, 2.0), 2.0) == 0.0


def test_crps_matches_the_quadratic_estimator_and_the_normal_formula():
    rng = np.random.default_rng(5)
    x = rng.gamma(2.0, 3.0, size=301)
    brute = np.mean(np.abs(x - 4.0)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
    assert crps_sample(x, 4.0) == pytest.approx(brute, rel=1e-12)
    # N(0, 1) at y = 0: CRPS = σ (2φ(0) − 1/√π) = 0.2337
    z = rng.standard_normal(200_000)
    exact = 2 / math.sqrt(2 * math.pi) - 1 / math.sqrt(math.pi)
    assert crps_sample(z, 0.0) == pytest.approx(exact, abs=3e-3)


def test_score_sample_forecast_by_hand():
    s = score_sample_forecast(np.arange(1.0, 11.0), 9.5)  # 1..10
    assert s["pit"] == 0.9
    assert (s["p10"], s["p50"], s["p90"]) == pytest.approx((1.9, 5.5, 9.1))
    assert s["inside_p10_p90"] is False and s["n_paths"] == 10 and s["realised"] == 9.5
    # E|X − 9.5| = (8.5+…+0.5+0.5)/10 = 41/10; E|X−X'| = 2·165/100
    assert s["crps"] == pytest.approx(4.1 - 0.5 * 3.3)
    inside = score_sample_forecast(np.arange(1.0, 11.0), 5.0)
    assert inside["inside_p10_p90"] is True and inside["pit"] == 0.45


def test_brier_and_log_score_by_hand():
    assert brier_score(np.array([0.8, 0.3]), np.array([1, 0])) == pytest.approx(0.065)
    assert brier_score(0.5, True) == 0.25
    assert log_score(np.array([0.8, 0.3]), np.array([True, False])) == pytest.approx(
        (-math.log(0.8) - math.log(0.7)) / 2
    )
    assert log_score(0.5, 0) == pytest.approx(math.log(2))
    assert log_score(0.0, 1, eps=1e-6) == pytest.approx(-math.log(1e-6))  # clipped, not inf
    assert log_score(1.0, 1) == pytest.approx(-math.log1p(-1e-6))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: score_sample_forecast(np.array([]), 1.0), "empty"),
        (lambda: score_sample_forecast(np.array([1.0, np.nan]), 1.0), "finite"),
        (lambda: score_sample_forecast(np.array([1.0]), float("nan")), "finite"),
        (lambda: brier_score(1.2, 1), r"\[0, 1\]"),
        (lambda: brier_score(np.array([0.2, 0.3]), np.array([1])), "shape"),
        (lambda: log_score(0.2, 2), "0/1"),
        (lambda: log_score(0.2, 1, eps=0.0), "eps"),
    ],
)
def test_bad_inputs_are_refused(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_inputs_are_not_modified():
    x = np.array([3.0, 1.0, 2.0])
    score_sample_forecast(x, 2.0)
    assert x.tolist() == [3.0, 1.0, 2.0]
