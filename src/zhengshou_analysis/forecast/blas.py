"""One BLAS thread for the forecast models (:func:`single_threaded_blas`).

The forecast models work on tiny matrices, where OpenBLAS threads only cost: 3–10× slower on the
two-core office machine, far worse while other jobs run. Every public forecast function runs under
:func:`single_threaded_blas` (it is a context manager and, called, a decorator).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from typing import Any

__all__ = ["single_threaded_blas"]

log = logging.getLogger(__name__)

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
def single_threaded_blas() -> Iterator[None]:
    """Run the block with one BLAS thread, restoring the previous setting afterwards.

    Yields
    ------
    None
        Inside the block BLAS uses one thread.

    Notes
    -----
    The models here work on tiny matrices: OpenBLAS threads only cost (3–10× slower on the
    two-core office machine, far worse while other jobs run). Uses :mod:`threadpoolctl` when it
    is installed, else the OpenBLAS libraries loaded in the process (Linux); otherwise a no-op.
    Nesting is safe (each level restores what it found). Also a decorator::

        @single_threaded_blas()
        def fit(...): ...
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
