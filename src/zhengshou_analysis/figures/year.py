"""The figures of one reporting period, indicators and forecasts, for ``key_figures.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from .context import Analysis

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = ["compute_year_figures"]


def compute_year_figures(
    tables: Mapping[str, pd.DataFrame],
    *,
    year: int,
    as_of=None,
    profile: Profile | None = None,
    seed: int | None = None,
    horizon_months: int | None = None,
) -> dict[str, Any]:
    """Every figure of the registry for ``year``, forecasts included, in one flat dict.

    The content of ``key_figures.json`` and of ``zhengshou figures``:
    :meth:`Analysis.key_figures <zhengshou_analysis.figures.context.Analysis.key_figures>` with
    forecasts. Seeded: the same tables, year, ``as_of``, profile and ``seed`` give the same figures
    (and, through :func:`~zhengshou_analysis.figures.keyfile.key_figures_json`, the same bytes).

    Parameters
    ----------
    tables, year, as_of
        As for :class:`~zhengshou_analysis.figures.context.Analysis`.
    profile
        The office profile: policy, horizon, seed and scenario set (default: the built-in one).
    seed, horizon_months
        Override the profile's forecast seed and horizon (``None``: the profile's).
    """
    from ..profile import DEFAULT_PROFILE

    analysis = Analysis.from_profile(
        tables,
        year=year,
        as_of=as_of,
        profile=profile or DEFAULT_PROFILE,
        seed=seed,
        horizon_months=horizon_months,
    )
    return analysis.key_figures(forecasts=True)
