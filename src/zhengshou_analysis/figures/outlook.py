"""Builders of the forecast figures of the registry: they ask the context's forecast, fitted once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .common import Value

if TYPE_CHECKING:
    from .context import Analysis
    from .registry import Figure

__all__ = [
    "build_forecast_fee_by_site",
    "build_forecast_fee_by_zone",
    "build_forecast_figure",
    "build_forecast_scenarios",
    "build_site_delivery_figure",
]


def build_forecast_figure(a: Analysis, fig: Figure) -> Value:
    """A scalar forecast figure of the baseline scenario (``fig.name`` is its key)."""
    return Value(a.forecast_figures[fig.name])


def build_site_delivery_figure(a: Analysis, fig: Figure) -> list[Value]:
    """P50 or P90 delivery date, or the probability within the horizon, per undelivered site."""
    dates = a.forecast_figures[fig.name]
    return [Value(date, scope=site, group="site") for site, date in dates.items()]


def build_forecast_scenarios(a: Analysis) -> dict[str, Any]:
    """``forecast_scenarios``: the figures of every scenario of the one declared set."""
    return a.forecast_figures["forecast_scenarios"]


def build_forecast_fee_by_site(a: Analysis) -> dict[str, Any]:
    """``forecast_fee_by_site``: fees over the horizon per site."""
    return a.forecast_figures["forecast_fee_by_site"]


def build_forecast_fee_by_zone(a: Analysis) -> dict[str, Any]:
    """``forecast_fee_by_zone``: fees over the horizon per 片区."""
    return a.forecast_figures["forecast_fee_by_zone"]
