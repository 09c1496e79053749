"""Shared pieces of the simulations: defaults, argument checks, random streams, path quantiles.

Reproducibility rests on :func:`random_streams` and :func:`new_agreement_stream`: one integer
``seed`` feeds a :class:`numpy.random.SeedSequence` whose first child draws the deliveries, whose
second draws the inflows and whose third draws the new agreements of the funding gap, so every
scenario sees the same random numbers (scenario differences are the
scenario, not noise) and the same inputs and seed give the same figures.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType
from typing import TypeAlias

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..figures.sites import BuildTimeKM, compute_site_status, fit_build_time_km

__all__ = [
    "DEFAULT_LAG_MONTHS",
    "DEFAULT_N_PATHS",
    "DateLike",
    "check_simulation_args",
    "new_agreement_stream",
    "path_quantiles",
    "random_streams",
    "scipy_special",
    "site_status_and_km",
]

#: What a reporting date may be given as (see :func:`~zhengshou_analysis.settings.resolve_as_of`):
#: a ``Timestamp``, ``date``/``datetime``, ``datetime64`` or ISO string such as ``"2021-12-31"``.
DateLike: TypeAlias = str | dt.date | np.datetime64

#: Default number of simulated paths.
DEFAULT_N_PATHS = 10_000
#: Default months a household stays in transition after its site is delivered.
DEFAULT_LAG_MONTHS = 2


def scipy_special() -> ModuleType:
    """``scipy.special``, imported on first use (keeps ``import zhengshou_analysis`` fast).

    Returns
    -------
    types.ModuleType
        The :mod:`scipy.special` module.
    """
    from scipy import special

    return special


def check_simulation_args(horizon_months: int, n_paths: int, lag_months: int, seed: int) -> None:
    """Validate the common simulation arguments.

    Parameters
    ----------
    horizon_months
        Integer months in 1..120.
    n_paths
        Positive integer.
    lag_months
        Integer months ≥ 0.
    seed
        Non-negative integer (``int`` or a numpy integer).

    Raises
    ------
    ParameterError
        When an argument is out of range or of the wrong kind.
    """
    if int(horizon_months) != horizon_months or not 1 <= horizon_months <= 120:
        raise ParameterError(f"horizon_months must be an integer in 1..120, got {horizon_months!r}")
    if int(n_paths) != n_paths or n_paths < 1:
        raise ParameterError(f"n_paths must be a positive integer, got {n_paths!r}")
    if int(lag_months) != lag_months or lag_months < 0:
        raise ParameterError(f"lag_months must be an integer >= 0, got {lag_months!r}")
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")


def random_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The (deliveries, inflows) generators: the two children of ``SeedSequence(seed)``.

    Parameters
    ----------
    seed
        Non-negative integer.

    Returns
    -------
    (numpy.random.Generator, numpy.random.Generator)
        Independent streams; the same seed always gives the same pair.
    """
    a, b = np.random.SeedSequence(int(seed)).spawn(2)
    return np.random.default_rng(a), np.random.default_rng(b)


def new_agreement_stream(seed: int) -> np.random.Generator:
    """The generator of the new-agreement draws: the third child of ``SeedSequence(seed)``.

    A child of a :class:`numpy.random.SeedSequence` depends only on the seed and its index, so
    adding this stream leaves the draws of :func:`random_streams` (children 0 and 1) unchanged.

    Parameters
    ----------
    seed
        Non-negative integer.

    Returns
    -------
    numpy.random.Generator
        Independent of both streams of :func:`random_streams`; the same seed gives the same
        stream.
    """
    return np.random.default_rng(np.random.SeedSequence(int(seed)).spawn(3)[2])


def path_quantiles(x: np.ndarray, axis: int = 0) -> dict[str, np.ndarray]:
    """Mean, P10, P50 and P90 of simulated values along ``axis`` (the paths).

    Parameters
    ----------
    x
        Simulated values (yuan, months, …), paths along ``axis``; must not be empty along it.
    axis
        Axis of the paths (default 0).

    Returns
    -------
    dict
        ``{"mean", "p10", "p50", "p90"}`` → arrays with ``axis`` removed (scalars for 1-d ``x``),
        in the units of ``x``.
    """
    return {
        "mean": x.mean(axis=axis),
        "p10": np.quantile(x, 0.1, axis=axis),
        "p50": np.quantile(x, 0.5, axis=axis),
        "p90": np.quantile(x, 0.9, axis=axis),
    }


def site_status_and_km(
    sites: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp,
    status: pd.DataFrame | None = None,
    km: BuildTimeKM | None = None,
) -> tuple[pd.DataFrame, BuildTimeKM]:
    """The site status frame and its Kaplan–Meier curve: the ones given, else computed once.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified); read only for what is not given.
    as_of
        Reporting date (a resolved :class:`pandas.Timestamp`).
    status
        :func:`~zhengshou_analysis.figures.sites.compute_site_status` of ``sites`` at
        ``as_of`` (with or without ``transition``), or ``None`` to compute it.
    km
        :func:`~zhengshou_analysis.figures.sites.fit_build_time_km` of that status, or
        ``None`` to fit it (once).

    Returns
    -------
    (pandas.DataFrame, BuildTimeKM)
        The status frame and the curve fitted to it.

    Raises
    ------
    ParameterError
        When ``km`` was not fitted to a status of the same sites (different number of sites).
    """
    if status is None:
        status = compute_site_status(sites, as_of=as_of)
    if km is None:
        km = fit_build_time_km(status)
    elif km.n_sites != len(status):
        raise ParameterError(
            f"km was fitted to {km.n_sites} sites, the site status has {len(status)}: "
            "pass the curve fitted to this status (fit_build_time_km(status))"
        )
    return status, km
