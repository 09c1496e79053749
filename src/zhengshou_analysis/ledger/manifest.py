"""The run's manifest, and the proof that no row was lost (docs/data_contract.md §2).

For every used sheet, each of its rows is accounted for (above the header, header, blank, 合计,
小计, 其中, note or data) and each data row is either kept in a table or rejected. A broken count is
a bug of the cleaner, never a user error: it raises :class:`RuntimeError`.
"""

from __future__ import annotations

import os
import time

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._version import __version__

__all__ = ["build_manifest", "run_started"]

#: The kinds of row of a used sheet's manifest entry; together they are every row of the sheet.
_ROW_KINDS = (
    "rows_above_header",
    "header_rows",
    "blank_rows",
    "total_rows",
    "subtotal_rows",
    "qizhong_rows",
    "note_rows",
    "raw_data_rows",
)


def _sheet_counts(origins: pd.Series) -> dict[str, int]:
    """Rows per ``FILE#SHEET`` of a column of origins.

    Parameters
    ----------
    origins
        ``FILE#SHEET!ROW`` (a missing origin is not counted).

    Returns
    -------
    dict
        Each origin's text without its final ``!`` and ASCII digits (as it is when it does not end
        so) → how many origins have it.
    """
    if origins.empty:
        return {}
    text = pa.array(origins.astype("str").array)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    text = text.drop_null()
    if pc.any(pc.ends_with(text, "\n")).as_py():  # Python's "$" matches before it: per element
        sheets = origins.astype("str").str.replace(r"![0-9]+$", "", regex=True)
        return {k: int(v) for k, v in sheets.value_counts().items()}
    # the digits at the end trimmed (pyarrow); an origin that lost some and then ends in "!" is
    # counted under the trimmed text without that "!", any other (nearly never) as it is
    trimmed = pc.utf8_rtrim(text, "0123456789")
    numbered = pc.and_(
        pc.less(pc.binary_length(trimmed), pc.binary_length(text)), pc.ends_with(trimmed, "!")
    )
    every = pc.all(numbered).as_py() is not False  # True, or null: no origin
    groups = (
        [(trimmed, 1)]
        if every
        else [(trimmed.filter(numbered), 1), (text.filter(pc.invert(numbered)), 0)]
    )
    counts: dict[str, int] = {}
    for keys, cut in groups:
        found = pc.value_counts(keys)
        for key, n in zip(
            found.field("values").to_pylist(), found.field("counts").to_pylist(), strict=True
        ):
            key = key[: len(key) - cut]
            counts[key] = counts.get(key, 0) + n
    return counts


def _account_sheet(entry: dict, kept: dict[str, int], rejected: dict[str, int]) -> dict:
    """A used sheet's entry with ``kept`` and ``rejected`` added, after checking conservation."""
    key = f"{entry['file']}#{entry['sheet']}"
    s = {**entry, "kept": kept.get(key, 0), "rejected": int(rejected.get(key, 0))}
    if s["raw_data_rows"] != s["kept"] + s["rejected"]:
        raise RuntimeError(  # a bug, never a user error: conservation is our promise
            f"row conservation broken for {key}: {s['raw_data_rows']} data rows, "
            f"{s['kept']} kept + {s['rejected']} rejected"
        )
    accounted = sum(s[k] for k in _ROW_KINDS)
    if accounted != s["rows_in_sheet"]:
        raise RuntimeError(f"row accounting broken for {key}: {accounted} of {s['rows_in_sheet']}")
    return s


def _table_counts(
    tables: dict[str, pd.DataFrame], sheets: list[dict], rejected: pd.DataFrame
) -> dict[str, dict[str, int]]:
    """Per table: data rows read, kept, rejected, and 合计/小计 rows seen."""
    per_table = {}
    for name, df in tables.items():
        used = [s for s in sheets if s.get("table") == name and s.get("status") == "used"]
        per_table[name] = {
            "raw_data_rows": sum(s.get("raw_data_rows", 0) for s in used),
            "kept": len(df),
            "rejected": int((rejected["table"] == name).sum()) if len(rejected) else 0,
            "total_rows": sum(s.get("total_rows", 0) + s.get("subtotal_rows", 0) for s in used),
        }
    return per_table


def run_started(started: float) -> str:
    """The manifest's ``run_started``: ``started`` (seconds since the epoch) as local ISO time
    to the second with its UTC offset (``2026-12-01T17:25:30+0000``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started))


def build_manifest(
    raw_dir: str | os.PathLike,
    inputs: list[dict],
    sheets: list[dict],
    tables: dict[str, pd.DataFrame],
    rejected: pd.DataFrame,
    started: float,
) -> dict:
    """The manifest of a clean.

    Parameters
    ----------
    raw_dir
        The raw folder.
    inputs
        One entry per raw file (file, size in bytes, SHA-256, encoding, sheets; or its error).
    sheets
        One entry per sheet (its status; for a used sheet, its row counts); not modified.
    tables
        The canonical tables.
    rejected
        The rejected rows.
    started
        When the run started (seconds since the epoch, :func:`time.time`).

    Returns
    -------
    dict
        ``package``, ``synthetic`` (a title says 示例数据), ``version``, ``raw_dir``,
        ``run_started`` (local ISO time), ``run_seconds``, ``inputs``, ``sheets`` (used ones with
        ``kept`` and ``rejected``) and ``tables`` (rows per table).

    Raises
    ------
    RuntimeError
        When a used sheet's rows do not add up (a bug of the cleaner).
    """
    kept: dict[str, int] = {}
    for df in tables.values():
        for key, n in _sheet_counts(df["origin"]).items():
            kept[key] = kept.get(key, 0) + n
    rej = _sheet_counts(rejected["origin"])
    sheets = [_account_sheet(s, kept, rej) if s.get("status") == "used" else s for s in sheets]
    return {
        "package": "zhengshou-analysis",
        # demo ledgers say 示例数据 in their titles: every page made from them is labelled
        "synthetic": any(s.get("synthetic_label") for s in sheets),
        "version": __version__,
        "raw_dir": str(raw_dir),
        "run_started": run_started(started),
        "run_seconds": round(time.time() - started, 3),
        "inputs": inputs,
        "sheets": sheets,
        "tables": _table_counts(tables, sheets, rejected),
    }
