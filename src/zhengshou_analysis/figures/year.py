"""The key figures file: every figure of indicators.md for one year, indicators and forecasts.

``zhengshou figures`` prints it and every yearly report run writes it to ``key_figures.json``, from
this one function, so the two can never differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["compute_year_figures"]


def compute_year_figures(
    tables: Mapping[str, pd.DataFrame],
    *,
    year: int,
    as_of=None,
    seed: int = 2021,
    horizon_months: int = 12,
) -> dict[str, Any]:
    """Key figures (:func:`~zhengshou_analysis.figures.indicators.compute_key_figures`) and forecast figures
    (:func:`~zhengshou_analysis.forecast.forecasts.compute_forecast_figures`) of ``year`` in one flat dict.

    Seeded: the same tables, year, ``as_of`` and ``seed`` give the same figures (and, through
    :func:`~zhengshou_analysis.figures.indicators.key_figures_json`, the same bytes).

    Raises
    ------
    RuntimeError
        If a forecast figure had the name of a key figure (a programming error).
    """
    from ..forecast.keyfigures import compute_forecast_figures
    from .indicators import compute_key_figures

    figures = compute_key_figures(tables, year=year, as_of=as_of)
    forecast = compute_forecast_figures(
        tables, year=year, as_of=as_of, seed=seed, horizon_months=horizon_months
    )
    clash = sorted(set(figures) & set(forecast))
    if clash:
        raise RuntimeError(f"forecast figures would overwrite key figures: {clash}")
    return figures | forecast
