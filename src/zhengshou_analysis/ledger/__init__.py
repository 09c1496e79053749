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

The names below are the subpackage's public API. Importing it costs nothing extra: the package
``zhengshou_analysis`` already imports :mod:`.clean` (and with it every step) eagerly.
"""

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
