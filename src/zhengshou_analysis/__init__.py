"""zhengshou_analysis: 区土地房屋征收 ledgers → trustworthy figures, forecasts and reports.

The public API is listed in ``__all__``; everything else is internal.
"""

from ._version import __version__
from .exceptions import (
    CleanError,
    InputError,
    InsufficientDataError,
    ParameterError,
    SchemaError,
    ZhengshouError,
)
from .figures import compute_key_figures
from .figures.keyfile import key_figures_json
from .forecast import (
    DEFAULT_SCENARIOS,
    Scenario,
    compute_delivery_survival,
    compute_forecast_figures,
    compute_monthly_inflows,
    fit_build_time_aft,
    forecast_funding_gap,
    forecast_inflows,
    forecast_site_delivery,
    rolling_backtest_inflow_models,
    simulate_transition_fees,
)
from .ledger.clean import CleanResult, clean_ledgers, write_clean_outputs
from .periods import duration_months, months_between
from .results import ForecastResult
from .schemas import TABLES, empty_table, table
from .settings import DEFAULT_ESCALATION, Escalation, default_as_of

__all__ = [
    "DEFAULT_ESCALATION",
    "DEFAULT_SCENARIOS",
    "TABLES",
    "CleanError",
    "CleanResult",
    "Escalation",
    "ForecastResult",
    "InputError",
    "InsufficientDataError",
    "ParameterError",
    "Scenario",
    "SchemaError",
    "ZhengshouError",
    "__version__",
    "clean_ledgers",
    "compute_delivery_survival",
    "compute_forecast_figures",
    "compute_key_figures",
    "compute_monthly_inflows",
    "default_as_of",
    "duration_months",
    "empty_table",
    "fit_build_time_aft",
    "forecast_funding_gap",
    "forecast_inflows",
    "forecast_site_delivery",
    "key_figures_json",
    "months_between",
    "rolling_backtest_inflow_models",
    "simulate_transition_fees",
    "table",
    "write_clean_outputs",
]
