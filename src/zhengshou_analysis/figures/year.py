"""The figures of one reporting period, indicators and forecasts, for ``key_figures.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..settings import DEFAULT_POLICY, Policy
from .context import Analysis

__all__ = ["compute_year_figures"]


def compute_year_figures(
    tables: Mapping[str, pd.DataFrame],
    *,
    year: int,
    as_of=None,
    seed: int = 2021,
    horizon_months: int = 12,
    policy: Policy = DEFAULT_POLICY,
) -> dict[str, Any]:
    """Every figure of the registry for ``year``, forecasts included, in one flat dict.

    The content of ``key_figures.json`` and of ``zhengshou figures``:
    :meth:`Analysis.key_figures <zhengshou_analysis.figures.context.Analysis.key_figures>` with
    forecasts. Seeded: the same tables, year, ``as_of``, policy and ``seed`` give the same figures
    (and, through :func:`~zhengshou_analysis.figures.keyfile.key_figures_json`, the same bytes).
    """
    analysis = Analysis(
        tables, year=year, as_of=as_of, policy=policy, seed=seed, horizon_months=horizon_months
    )
    return analysis.key_figures(forecasts=True)
