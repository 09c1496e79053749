"""Raw ledgers in, canonical tables out, nothing lost (docs/data_contract.md §1–3).

:func:`clean_ledgers` is the orchestrator of the data flow:

1. read every file of the raw folder (:mod:`.ingest`) and find each sheet's layout
   (:mod:`.layout`);
2. pick the table each sheet feeds (:mod:`.classify`) and clean it (:mod:`.sheet`: parse
   with :mod:`.columns`, reject with :mod:`.rejections`, check totals with :mod:`.totals`);
3. assemble the tables, linking names and deriving ids (:mod:`.assemble`);
4. account for every row (:mod:`.manifest`).

:func:`write_clean_outputs` (:mod:`.outputs`) writes the six Parquet tables, ``quality_log.csv``,
``rejected.csv`` and ``manifest.json``.

Personal-data columns (names, ID numbers, phones) are recognised by their header and never read
into any output: not the tables, not the log, not the rejected rows.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..exceptions import CleanError, InputError, SchemaError
from ..schemas import TABLES, Table
from .assemble import assemble_tables
from .classify import classify_sheet
from .findings import concat_findings, finding, rejected_frame
from .ingest import RawSheet, list_raw_files, read_raw_file
from .layout import SheetLayout, find_layout
from .manifest import build_manifest, run_started
from .outputs import write_clean_outputs
from .sheet import CleanedSheet, clean_sheet, column_map, header_findings

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = ["CleanError", "CleanResult", "clean_ledgers", "write_clean_outputs"]

log = logging.getLogger(__name__)


@dataclass
class CleanResult:
    """The outcome of :func:`clean_ledgers`.

    Attributes
    ----------
    tables
        The six canonical tables (docs/data_contract.md §3), each with ``origin``.
    quality_log
        One row per finding: ``origin, file, sheet, row, table, column, raw_value, action,
        severity, message``.
    rejected
        Every raw data row that could not enter its table: ``origin, file, sheet, row, table,
        reason, raw_cells``
        (the row's cells as JSON, header → value, personal-data columns blanked).
    manifest
        Inputs with SHA-256 and size, per-sheet and per-table row counts, version, run time.
    errors
        The errors found, first one first (a :class:`CleanError` names the first).
    """

    tables: dict[str, pd.DataFrame]
    quality_log: pd.DataFrame
    rejected: pd.DataFrame
    manifest: dict
    errors: list[InputError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the run produced no ``error``."""
        return not (self.quality_log["severity"] == "error").any()


class _Routed(NamedTuple):
    """One sheet after routing: its manifest entry, findings, error and cleaned rows (or none)."""

    entry: dict
    findings: list[pd.DataFrame]
    error: InputError | None = None
    cleaned: CleanedSheet | None = None


@dataclass
class _FolderRead:
    """What reading and cleaning every sheet of the raw folder gave, in ledger order."""

    inputs: list[dict] = field(default_factory=list)
    sheets: list[dict] = field(default_factory=list)
    cleaned: list[CleanedSheet] = field(default_factory=list)
    findings: list[pd.DataFrame] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)


def _missing_columns_error(
    sheet: RawSheet, layout: SheetLayout, t: Table, missing: list[str]
) -> SchemaError:
    """The error for a sheet recognised as ``t`` that lacks required columns."""
    cols = ", ".join(f"{t.column(c).label} ({c})" for c in missing)
    return SchemaError(
        f"被识别为{t.label} ({t.name}) 但缺少必填列: {cols}; "
        f"accepted headers: " + "; ".join(f"{c}: {'/'.join(t.column(c).headers)}" for c in missing),
        file=sheet.file,
        sheet=sheet.sheet,
        row=layout.header_row + 1,
        column=", ".join(missing),
    )


def _route_sheet(sheet: RawSheet, profile: Profile | None = None) -> _Routed:
    """Skip a sheet (hidden, or feeding no table) with a finding, fail it, or clean it.

    A skipped or failed sheet whose header was found keeps its ``header_row`` and ``columns``
    in its manifest entry, so that what was not read can be shown.
    """
    origin = f"{sheet.file}#{sheet.sheet}"
    entry = {"file": sheet.file, "sheet": sheet.sheet, "rows_in_sheet": len(sheet.rows)}
    if sheet.hidden:
        hidden = finding(
            origin,
            "",
            "",
            "",
            "hidden_sheet",
            "warning",
            "隐藏的工作表未读取 (hidden sheet skipped; unhide it to include its rows)",
        )
        return _Routed({**entry, "table": None, "status": "hidden"}, [hidden])
    layout = find_layout(sheet.rows, sheet.merged, profile=profile)
    t, mapped, missing, note = (
        (None, {}, [], "no header found")
        if layout is None
        else classify_sheet(sheet, layout, profile)
    )
    columns: list[dict] = []
    if layout is not None and (t is None or missing):
        columns = column_map(sheet.rows, layout, t, mapped, profile)
        entry["header_row"] = layout.header_row + 1
        entry["columns"] = columns
    if t is None or layout is None:
        sev = "warning" if note.startswith("header looks") else "info"
        skipped = finding(
            origin, "", "", "", "sheet_skipped", sev, f"工作表不对应任何台账，已跳过 ({note})"
        )
        log.info("%s skipped: %s", origin, note)
        return _Routed({**entry, "table": None, "status": "skipped", "note": note}, [skipped])
    if missing:
        exc = _missing_columns_error(sheet, layout, t, missing)
        failed = finding(
            f"{origin}!{layout.header_row + 1}",
            t.name,
            ",".join(missing),
            "",
            "missing_column",
            "error",
            exc.reason,
        )
        # the headers it did not map say what to add to the profile
        unmapped = header_findings(columns, sheet, layout, t)
        return _Routed(
            {**entry, "table": t.name, "status": "error"}, [failed, *unmapped], error=exc
        )
    out = clean_sheet(sheet, layout, t, mapped, profile=profile)
    return _Routed(out.counts, out.findings, cleaned=out)


def _unreadable_input(path: Path, raw_dir: Path, exc: InputError) -> dict:
    """The manifest's input entry for a file that could not be read."""
    return {
        "file": path.relative_to(raw_dir).as_posix(),
        "size_bytes": path.stat().st_size,
        "sha256": None,
        "error": exc.reason,
    }


def _read_folder(raw_dir: Path, profile: Profile | None = None) -> _FolderRead:
    """Read every raw file and route every sheet; an unreadable file is an error, not a crash."""
    read = _FolderRead()
    for path in list_raw_files(raw_dir):
        try:
            rf = read_raw_file(path, raw_dir)
        except InputError as exc:
            read.errors.append(exc)
            read.findings.append(
                finding(exc.file or str(path), "", "", "", "unreadable", "error", exc.reason)
            )
            read.inputs.append(_unreadable_input(path, raw_dir, exc))
            continue
        read.inputs.append(
            {
                "file": rf.file,
                "size_bytes": rf.size_bytes,
                "sha256": rf.sha256,
                "encoding": rf.encoding,
                "sheets": [s.sheet for s in rf.sheets],
            }
        )
        for routed in (_route_sheet(s, profile) for s in rf.sheets):
            read.sheets.append(routed.entry)
            read.findings += routed.findings
            if routed.error is not None:
                read.errors.append(routed.error)
            if routed.cleaned is not None:
                read.cleaned.append(routed.cleaned)
    return read


def _incomplete_tables(read: _FolderRead) -> frozenset[str]:
    """Tables a fatal finding may have left short: a failed sheet's, or every one (unreadable file)."""
    if any("error" in i for i in read.inputs):
        return frozenset(TABLES)
    return frozenset(s["table"] for s in read.sheets if s.get("status") == "error")


def _sort_by_origin(df: pd.DataFrame) -> pd.DataFrame:
    """Order rows as a person reads the ledgers: by file, sheet, then row number.

    Parameters
    ----------
    df
        Rows with an ``origin`` column (``FILE#SHEET!ROW``) and a unique index; not modified.

    Returns
    -------
    pandas.DataFrame
        The rows sorted by the text before the last ``!`` of their origin (code-point order,
        ``""`` without a ``!``), then by the number after it (not a number: last), ties kept in
        their order; a fresh ``RangeIndex``.
    """
    if df.empty:
        return df.reset_index(drop=True)
    keys = _origin_keys(df["origin"])
    if keys is None:  # an origin without a row number: the reference, per element
        parts = df["origin"].str.rpartition("!")
        order = pd.DataFrame({"sheet": parts[0], "row": pd.to_numeric(parts[2], errors="coerce")})
        return df.loc[order.sort_values(["sheet", "row"], kind="stable").index].reset_index(
            drop=True
        )
    return df.take(np.lexsort(keys[::-1])).reset_index(drop=True)


def _origin_keys(origin: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """The sort keys of origins that all end in ``!`` and a row number, by pyarrow.

    Returns
    -------
    tuple of numpy.ndarray or None
        The rank of the text before the last ``!`` among the distinct ones (in code-point order,
        which is UTF-8 byte order) and the row number after it (``int64``); ``None`` when an origin
        is missing, has no ``!`` or no row number of 1–18 ASCII digits after its last ``!``.
    """
    text = pa.array(origin.astype("str").array)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if text.null_count or not pc.all(pc.match_substring(text, "!")).as_py():
        return None
    parts = pc.split_pattern(text, "!", max_splits=1, reverse=True)
    row = pc.list_element(parts, 1)
    if not pc.all(pc.ascii_is_decimal(row)).as_py() or pc.max(pc.utf8_length(row)).as_py() > 18:
        return None
    sheets = pc.dictionary_encode(pc.list_element(parts, 0))
    rank = np.empty(len(sheets.dictionary), dtype=np.int64)
    rank[np.argsort(np.array(sheets.dictionary.to_pylist(), dtype=object))] = np.arange(len(rank))
    return rank[sheets.indices.to_numpy()], pc.cast(row, pa.int64()).to_numpy()


def _all_rejected(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The rejected rows of every sheet and table, in ledger order (file, sheet, row)."""
    return _sort_by_origin(rejected_frame(parts))


def _rejection_findings(rejected: pd.DataFrame, *, strict: bool) -> pd.DataFrame:
    """One ``rejected`` finding per rejected row (an ``error`` under ``strict``)."""
    return pd.DataFrame(
        {
            "origin": rejected["origin"],
            "table": rejected["table"],
            "column": "",
            "raw_value": "",
            "action": "rejected",
            "severity": "error" if strict else "warning",
            "message": "行被拒绝: " + rejected["reason"],
        }
    )


def _strict_error(rejected: pd.DataFrame) -> InputError:
    """The error of ``--strict`` for the first rejected row."""
    first = rejected.iloc[0]
    file, _, rest = first["origin"].partition("#")
    sheet, _, row = rest.rpartition("!")
    return InputError(
        f"--strict: 行被拒绝: {first['reason']}", file=file, sheet=sheet, row=int(row)
    )


def _first_error(errors: list[InputError], result: CleanResult) -> CleanError:
    """A :class:`CleanError` naming the first error and how many more there are."""
    first = errors[0]
    more = f" (and {len(errors) - 1} more errors; see quality_log.csv)" if len(errors) > 1 else ""
    return CleanError(
        first.reason + more,
        result=result,
        file=first.file,
        sheet=first.sheet,
        row=first.row,
        column=first.column,
    )


def clean_ledgers(
    raw_dir: str | os.PathLike,
    *,
    strict: bool = False,
    profile: Profile | None = None,
    on_tables: Callable[[dict[str, pd.DataFrame], str], object] | None = None,
) -> CleanResult:
    """Clean a folder of raw ledgers into the canonical tables.

    Parameters
    ----------
    raw_dir
        The raw folder (read-only; nothing is ever written there).
    strict
        Any rejected row is an ``error`` (the run fails) instead of a ``warning``.
    profile
        The office profile (:func:`~zhengshou_analysis.profile.load_profile`): its header words
        are accepted beside the built-in ones, its 片区 aliases are written as their 片区.
        ``None``: the built-in lists only.
    on_tables
        Called with the six tables as soon as they are final (the dict the result will hold,
        not to be changed) and the manifest's ``run_started``, before the rejected rows, the
        quality log and the manifest are assembled: ``zhengshou clean`` starts writing the
        workbook of the tables there (:class:`~.outputs.WorkbookAhead`). Not called when a
        sheet or file failed (the tables are not written then).

    Returns
    -------
    CleanResult
        Tables, quality log, rejected rows and manifest.

    Raises
    ------
    CleanError
        When any ``error`` was found (an unreadable file, an empty folder, a recognised sheet that
        lacks a required column, or a rejected row under ``strict``). The message names the file,
        sheet, row and column of the first error; ``exc.result`` holds the full quality log.
    """
    started = time.time()
    raw_dir = Path(raw_dir)
    read = _read_folder(raw_dir, profile)
    errors = read.errors
    # a fatal sheet never reaches assembly (it is not cleaned); the tables it may have fed are
    # assembled from the rest, for the manifest and the log, and are never written
    assembled = assemble_tables(read.cleaned, _incomplete_tables(read))
    if on_tables is not None and not errors:
        on_tables(assembled.tables, run_started(started))
    rejected = _all_rejected(
        [o.rejected for o in read.cleaned if len(o.rejected)] + assembled.duplicates
    )
    findings = [*read.findings, *assembled.findings]
    if len(rejected):
        findings.append(_rejection_findings(rejected, strict=strict))
        if strict:
            errors.append(_strict_error(rejected))

    manifest = build_manifest(
        raw_dir, read.inputs, read.sheets, assembled.tables, rejected, started
    )
    result = CleanResult(assembled.tables, concat_findings(findings), rejected, manifest, errors)
    if not errors and not read.inputs:
        # the result shares this list: an empty folder's error is in result.errors too
        errors.append(InputError("原始台账文件夹为空", file=str(raw_dir)))
    if errors:
        raise _first_error(errors, result)
    return result
