"""zhengshou_analysis: 区土地房屋征收 ledgers → trustworthy figures, forecasts and reports.

The public API is listed in ``__all__``; everything else is internal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .exceptions import (
    CleanError,
    InputError,
    InsufficientDataError,
    ParameterError,
    SchemaError,
    ZhengshouError,
)

if TYPE_CHECKING:
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

#: Where each public name lives, imported on first use (PEP 562): ``zhengshou clean`` does not
#: pay for the figures and forecasts it never uses.
_LAZY: dict[str, str] = {
    "compute_key_figures": ".figures",
    "key_figures_json": ".figures.keyfile",
    **dict.fromkeys(
        (
            "DEFAULT_SCENARIOS",
            "Scenario",
            "compute_delivery_survival",
            "compute_forecast_figures",
            "compute_monthly_inflows",
            "fit_build_time_aft",
            "forecast_funding_gap",
            "forecast_inflows",
            "forecast_site_delivery",
            "rolling_backtest_inflow_models",
            "simulate_transition_fees",
        ),
        ".forecast",
    ),
    **dict.fromkeys(("CleanResult", "clean_ledgers", "write_clean_outputs"), ".ledger.clean"),
    **dict.fromkeys(("duration_months", "months_between"), ".periods"),
    "ForecastResult": ".results",
    **dict.fromkeys(("TABLES", "empty_table", "table"), ".schemas"),
    **dict.fromkeys(("DEFAULT_ESCALATION", "Escalation", "default_as_of"), ".settings"),
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (then cached in this module)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy public ones included."""
    return sorted({*globals(), *__all__})


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
