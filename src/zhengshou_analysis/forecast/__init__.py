"""Forecasts (docs/indicators.md, "Forecasts"): delivery survival, transitional fees, inflows, the gap.

Three forward questions, answered with their uncertainty and the assumptions behind them:

* **when will each late site be delivered** — :func:`compute_delivery_survival` (Kaplan–Meier,
  log-rank, Cox), :func:`fit_build_time_aft` (AFT build-time model), :func:`fit_delivery_model` and
  :func:`forecast_site_delivery`;
* **what will the transitional fees cost meanwhile** — :func:`simulate_transition_fees`;
* **will the money be there** — :func:`compute_monthly_inflows`,
  :func:`rolling_backtest_inflow_models`, :func:`forecast_inflows` and
  :func:`forecast_funding_gap` (the stock and the full gap, :class:`Scenario` objects side by
  side), and after the fact :func:`compute_realised_gap`;

and :func:`compute_forecast_figures`, the forecast figures of the registry, JSON-ready.

Modules by concern: :mod:`.survival` (KM analysis for the page), :mod:`.tail`, :mod:`.delivery`,
:mod:`.fees`, :mod:`.inflows`, :mod:`.gap`, :mod:`.scenarios`, :mod:`.keyfigures`, and the shared
:mod:`.common` (defaults, seeds, path quantiles) and :mod:`.blas` (:func:`single_threaded_blas`).
Every function returns a :class:`~zhengshou_analysis.results.ForecastResult` (or a fitted model
object) and never modifies its inputs.
"""

from ..results import ForecastResult
from .blas import single_threaded_blas
from .common import DEFAULT_LAG_MONTHS, DEFAULT_N_PATHS
from .delivery import DeliveryModel, fit_delivery_model, forecast_site_delivery
from .fees import simulate_transition_fees
from .gap import compute_realised_gap, forecast_funding_gap
from .inflows import (
    MODEL_LABELS,
    InflowModel,
    compute_monthly_inflows,
    fit_inflow_model,
    forecast_inflows,
    rolling_backtest_inflow_models,
)
from .keyfigures import compute_forecast_figures, flatten_forecast_figures
from .scenarios import DEFAULT_SCENARIOS, Scenario
from .survival import compute_delivery_survival
from .tail import BuildTimeFit, fit_build_time_aft

__all__ = [
    "DEFAULT_LAG_MONTHS",
    "DEFAULT_N_PATHS",
    "DEFAULT_SCENARIOS",
    "MODEL_LABELS",
    "BuildTimeFit",
    "DeliveryModel",
    "ForecastResult",
    "InflowModel",
    "Scenario",
    "compute_delivery_survival",
    "compute_forecast_figures",
    "compute_monthly_inflows",
    "compute_realised_gap",
    "fit_build_time_aft",
    "fit_delivery_model",
    "fit_inflow_model",
    "flatten_forecast_figures",
    "forecast_funding_gap",
    "forecast_inflows",
    "forecast_site_delivery",
    "rolling_backtest_inflow_models",
    "simulate_transition_fees",
    "single_threaded_blas",
]
