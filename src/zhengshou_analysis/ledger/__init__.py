"""Reading and cleaning the raw ledgers (台账) into canonical tables.

The data flow, one module per step (docs/data_contract.md §1–3):

========================  ==========================================================
:mod:`.ingest`            the raw folder → files → sheets of cells
:mod:`.layout`            a sheet's header rows, units, 合计/小计/其中/note rows
:mod:`.classify`          which table a sheet feeds, which column feeds which field
:mod:`.columns`           one mapped column → typed values (with :mod:`.parse`)
:mod:`.sheet`             one sheet → kept rows, findings, rejected rows, row counts
:mod:`.rejections`        the row-level rules and the rejected-row records
:mod:`.totals`            合计/小计 rows checked against the detail rows
:mod:`.assemble`          sheets → the six tables (with :mod:`.names`,
                          :mod:`.plausibility`)
:mod:`.manifest`          row accounting and the manifest
:mod:`.clean`             the orchestrator: :func:`clean_ledgers`
:mod:`.outputs`           the nine output files
:mod:`.store`             a content-keyed cache of cleaned ledgers
:mod:`.quality`           summaries of the quality log for people
========================  ==========================================================

The names below are the subpackage's public API, each imported from its module on first use
(PEP 562): importing a light module of the subpackage (:mod:`.ingest`, :mod:`.store`) does not
import pandas and every cleaning step with it (``zhengshou clean`` starts reading the workbooks
with :func:`~.ingest.prefetch_raw_files` while pandas imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clean import CleanError, CleanResult, clean_ledgers
    from .findings import QUALITY_COLUMNS, REJECTED_COLUMNS
    from .ingest import RawFile, RawSheet, list_raw_files, read_raw_file
    from .names import normalize_name
    from .outputs import neutralize_formulas, write_clean_outputs
    from .store import load_ledgers

__all__ = [
    "QUALITY_COLUMNS",
    "REJECTED_COLUMNS",
    "CleanError",
    "CleanResult",
    "RawFile",
    "RawSheet",
    "clean_ledgers",
    "list_raw_files",
    "load_ledgers",
    "neutralize_formulas",
    "normalize_name",
    "read_raw_file",
    "write_clean_outputs",
]

#: Where each public name lives, imported on first use.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("CleanError", "CleanResult", "clean_ledgers"), ".clean"),
    **dict.fromkeys(("QUALITY_COLUMNS", "REJECTED_COLUMNS"), ".findings"),
    **dict.fromkeys(("RawFile", "RawSheet", "list_raw_files", "read_raw_file"), ".ingest"),
    "normalize_name": ".names",
    **dict.fromkeys(("neutralize_formulas", "write_clean_outputs"), ".outputs"),
    "load_ledgers": ".store",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (then cached in this package)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
