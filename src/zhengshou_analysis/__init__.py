"""zhengshou_analysis: 区土地房屋征收 ledgers → trustworthy figures, forecasts and reports.

The public API is listed in ``__all__``; everything else is internal.
"""

from ._version import __version__
from .clean import CleanError, CleanResult, clean_ledgers, write_clean_outputs
from .exceptions import (
    InputError,
    InsufficientDataError,
    ParameterError,
    SchemaError,
    ZhengshouError,
)
from .indicators import compute_key_figures, key_figures_json
from .periods import duration_months, months_between
from .schemas import TABLES, empty_table, table
from .settings import DEFAULT_ESCALATION, Escalation, default_as_of

__all__ = [
    "DEFAULT_ESCALATION",
    "TABLES",
    "CleanError",
    "CleanResult",
    "Escalation",
    "InputError",
    "InsufficientDataError",
    "ParameterError",
    "SchemaError",
    "ZhengshouError",
    "__version__",
    "clean_ledgers",
    "compute_key_figures",
    "default_as_of",
    "duration_months",
    "empty_table",
    "key_figures_json",
    "months_between",
    "table",
    "write_clean_outputs",
]
