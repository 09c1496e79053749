"""forecast/blas.py: the forecast models run with one BLAS thread, and the setting comes back."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg  # noqa: F401  (loaded before the "before" count, as the models do)
from threadpoolctl import ThreadpoolController

from zhengshou_analysis.forecast import single_threaded_blas


def _blas_threads() -> list[int]:
    return [p.num_threads for p in ThreadpoolController().select(user_api="blas").lib_controllers]


def test_inside_one_blas_thread_and_the_previous_setting_afterwards():
    before = _blas_threads()
    if not before:
        pytest.skip("no BLAS library with a thread pool loaded")
    with single_threaded_blas():
        assert _blas_threads() == [1] * len(before)
        with single_threaded_blas():  # nested: the inner block restores one thread, not the old
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_as_a_decorator_and_the_result_is_the_same():
    a = np.random.default_rng(1).normal(size=(40, 40))

    @single_threaded_blas()
    def solve() -> np.ndarray:
        assert set(_blas_threads()) <= {1}
        return np.linalg.solve(a @ a.T + np.eye(40), np.ones(40))

    np.testing.assert_allclose(solve(), np.linalg.solve(a @ a.T + np.eye(40), np.ones(40)))


def test_an_exception_inside_still_restores_the_setting():
    before = _blas_threads()
    with pytest.raises(ZeroDivisionError), single_threaded_blas():
        1 / 0  # noqa: B018
    assert _blas_threads() == before
