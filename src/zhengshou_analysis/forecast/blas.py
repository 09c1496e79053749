"""One BLAS thread for the forecast models (:func:`single_threaded_blas`).

The forecast models work on tiny matrices, where OpenBLAS threads only cost: 3–10× slower on the
two-core office machine, far worse while other jobs run. Every public forecast function runs under
:func:`single_threaded_blas` (it is a context manager and, called, a decorator).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from threadpoolctl import ThreadpoolController

__all__ = ["single_threaded_blas"]


@functools.cache
def _controller() -> ThreadpoolController:
    """The thread pools of the BLAS libraries numpy and scipy load (found once per process)."""
    import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS, used by statsmodels)

    return ThreadpoolController()


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with one BLAS thread, restoring the previous setting afterwards.

    Yields
    ------
    None
        Inside the block BLAS uses one thread.

    Notes
    -----
    The models here work on tiny matrices: OpenBLAS threads only cost (3–10× slower on the
    two-core office machine, far worse while other jobs run). :mod:`threadpoolctl` finds the
    BLAS libraries on Linux, Windows and macOS alike (OpenBLAS, MKL, BLIS). Nesting is safe
    (each level restores what it found). Also a decorator::

        @single_threaded_blas()
        def fit(...): ...
    """
    with _controller().limit(limits=1, user_api="blas"):
        yield
