"""The cleaned sheets → the six canonical tables (docs/data_contract.md §3).

The steps, in order: concatenate each table's sheets; give projects and sites without an id one
derived from their name, and drop repeated keys (to the rejected rows); link project and site
names written in the other ledgers to ids (:mod:`.names`); fill what the contract lets the
cleaner derive (an agreement's payment due date, a payment's voucher number, a household's agreed
transition period) and drop repeated keys there too; conform every table to its schema; flag
implausible values (:mod:`.plausibility`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..schemas import TABLES, Table, empty_table, pandas_dtype
from .names import derive_ids, link_names, name_lookup, normalize_name
from .plausibility import implausible_amounts, implausible_dates
from .rejections import RowCells, quote_origins
from .sheet import CleanedSheet

__all__ = ["Assembled", "assemble_tables", "concat_sheets", "dedupe"]


class Assembled(NamedTuple):
    """The outcome of :func:`assemble_tables`.

    ``tables`` are the six canonical tables; ``findings`` the quality-log frames of assembly, in
    order; ``duplicates`` the rejected-row frames of repeated keys, in table order.
    """

    tables: dict[str, pd.DataFrame]
    findings: list[pd.DataFrame]
    duplicates: list[pd.DataFrame]


def concat_sheets(sheets: Iterable[CleanedSheet], t: Table) -> pd.DataFrame:
    """The kept rows of every sheet feeding ``t``, in sheet order.

    Canonical columns no sheet had are added empty (NaN for floats, NA otherwise, of the column's
    dtype); helper columns (``_…``) are kept. With no such sheet: the empty table.
    """
    frames = [o.frame for o in sheets if o.table == t.name]
    base = empty_table(t.name)
    if not frames:
        return base
    df = pd.concat(frames, ignore_index=True)
    for c in t.columns:
        if c.name not in df:
            df[c.name] = pd.Series(
                np.nan if c.dtype == "float" else pd.NA, index=df.index, dtype=pandas_dtype(c)
            )
    return df


def _duplicate_records(
    df: pd.DataFrame,
    repeated: pd.Series,
    dup: pd.Series,
    key: list[str],
    t: Table,
    cells: Mapping[str, RowCells],
) -> pd.DataFrame:
    """Rejected-row records for the rows ``dup`` that repeat a key seen in an earlier row.

    ``repeated`` marks every row whose key was seen before (``DataFrame.duplicated``); ``dup``
    those of them without an NA in the key. Each row is quoted as written, from its sheet's
    ``cells`` (by origin), never from the parsed values.
    """
    first = df.loc[~repeated, [*key, "origin"]].set_index(key)["origin"]
    firsts = (
        df.loc[dup, key]
        .apply(tuple, axis=1)
        .map(lambda k: first.get(k if len(k) > 1 else k[0], ""))
    )
    return pd.DataFrame(
        {
            "origin": df.loc[dup, "origin"],
            "table": t.name,
            "reason": "重复的主键 "
            + ", ".join(key)
            + " (duplicate key; first seen at "
            + firsts.astype("str")
            + ")",
            "raw_cells": quote_origins(df.loc[dup, "origin"], cells),
        }
    )


def dedupe(
    df: pd.DataFrame, t: Table, cells: Mapping[str, RowCells] | None = None
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Keep the first row of each key of ``t``; reject the later ones.

    Parameters
    ----------
    df
        Rows of table ``t`` in ledger order.
    t
        The table; a table without a key is returned unchanged.
    cells
        ``FILE#SHEET`` → the sheet's data rows as written, to quote a rejected row
        (:func:`~.rejections.quote_origins`); without it, ``raw_cells`` is ``{}``.

    Returns
    -------
    df : pandas.DataFrame
        Without the repeated rows (the index is not reset).
    rejected : list of pandas.DataFrame
        One frame of rejected-row records (``origin, table, reason, raw_cells``) naming where the
        key was first seen, or empty. A row with an NA in its key is never a duplicate.
    """
    if not t.key or df.empty:
        return df, []
    key = list(t.key)
    repeated = df.duplicated(key, keep="first")
    dup = repeated & df[key].notna().all(axis=1)
    if not dup.any():
        return df, []
    return df[~dup], [_duplicate_records(df, repeated, dup, key, t, cells or {})]


def _with_name_ids(df: pd.DataFrame, id_col: str, name_col: str, prefix: str) -> pd.DataFrame:
    """Fill missing ids from the normalised names (:func:`~.names.derive_ids`)."""
    names = normalize_name(df[name_col])
    return df.assign(**{id_col: df[id_col].where(df[id_col].notna(), derive_ids(names, prefix))})


def _link_references(
    tables: dict[str, pd.DataFrame], incomplete: frozenset[str] = frozenset()
) -> tuple[dict[str, pd.DataFrame], list[pd.DataFrame]]:
    """Project and site names in agreements, payments, funding and transition → ids.

    Returns the four linked tables (by name) and the ``unmatched_name`` findings. A name is not
    reported as unmatched against a table in ``incomplete`` (one of its sheets or files failed:
    the name may well be there).
    """
    p, s = tables["projects"], tables["sites"]
    project_lookup = name_lookup(p["project_id"], p["project_name"])
    site_lookup = name_lookup(s["site_id"], s["site_name"])
    linked = {}
    findings = []
    for name in ("agreements", "payments", "funding", "transition"):
        df = tables[name]
        df, f1 = link_names(df, "project_id", "_project_name", project_lookup, "P-", name)
        df, f2 = link_names(df, "site_id", "_site_name", site_lookup, "S-", name)
        linked[name] = df
        findings += [] if "projects" in incomplete else f1
        findings += [] if "sites" in incomplete else f2
    return linked, findings


def _not_stated(df: pd.DataFrame, table: str, column: str, message: str) -> list[pd.DataFrame]:
    """One ``not_stated`` info per row whose ``column`` the ledger leaves empty (the value stays NA).

    The office's policy fills such values where the figures need them, in one place that reports
    how often it did (docs/indicators.md); the cleaner keeps what the ledger says.
    """
    missing = df[column].isna()
    if not missing.any():
        return []
    return [
        pd.DataFrame(
            {
                "origin": df.loc[missing, "origin"],
                "table": table,
                "column": column,
                "raw_value": "",
                "action": "not_stated",
                "severity": "info",
                "message": message,
            }
        )
    ]


def _fill_payment_ids(pay: pd.DataFrame) -> pd.DataFrame:
    """A payment without a voucher number gets ``PAY-`` + 10 hex digits of SHA-1 of its origin."""
    missing_id = pay["payment_id"].isna()
    if not missing_id.any():
        return pay
    derived = pay["origin"].map(lambda o: "PAY-" + hashlib.sha1(o.encode()).hexdigest()[:10])
    return pay.assign(payment_id=pay["payment_id"].where(~missing_id, derived))


def _conform(df: pd.DataFrame, t: Table) -> pd.DataFrame:
    """Exactly the columns of ``t`` (plus ``origin``), in order, of their dtypes, a fresh index."""
    df = df[[c for c in t.column_names]]
    df = df.astype({c.name: pandas_dtype(c) for c in t.columns} | {"origin": "str"})
    return df.reset_index(drop=True)


def assemble_tables(sheets: Iterable[CleanedSheet], incomplete: Iterable[str] = ()) -> Assembled:
    """Build the canonical tables from the cleaned sheets.

    Parameters
    ----------
    sheets
        Every cleaned sheet, in ledger order: only sheets cleaned in full (a sheet with a fatal
        finding is never passed). A table may have no sheet at all: it is empty, and the tables
        that refer to it link to derived ids.
    incomplete
        Tables that a failed sheet or an unreadable file may have fed (the run fails): their
        rows are assembled all the same, but names are not reported as unmatched against them.

    Returns
    -------
    Assembled
        The six tables (empty ones for ledgers not provided), the findings of assembly (unmatched
        names, values the ledger does not state, implausible values) and the rows rejected as repeated keys.
    """
    sheets = list(sheets)
    tables = {name: concat_sheets(sheets, t) for name, t in TABLES.items()}
    findings: list[pd.DataFrame] = []
    duplicates: list[pd.DataFrame] = []
    cells = {
        f"{o.counts['file']}#{o.counts['sheet']}": o.cells for o in sheets if o.cells is not None
    }

    def keep_first(name: str, df: pd.DataFrame) -> None:
        """Store table ``name`` without its repeated keys; collect those as rejected rows."""
        tables[name], rejected = dedupe(df, TABLES[name], cells)
        duplicates.extend(rejected)

    for name, id_col, name_col, prefix in (
        ("projects", "project_id", "project_name", "P-"),
        ("sites", "site_id", "site_name", "S-"),
    ):
        if len(tables[name]):
            keep_first(name, _with_name_ids(tables[name], id_col, name_col, prefix))

    linked, unmatched = _link_references(tables, frozenset(incomplete))
    tables.update(linked)
    findings += unmatched
    if len(tables["agreements"]):
        findings += _not_stated(
            tables["agreements"],
            "agreements",
            "payment_due_date",
            "台账未填支付期限：计算逾期时按单位政策的付款期限（签约日期后若干天）补足 "
            "(payment_due_date not stated; the policy's payment_term_days applies in the figures)",
        )
        keep_first("agreements", tables["agreements"])
    if len(tables["payments"]):
        keep_first("payments", _fill_payment_ids(tables["payments"]))
    if len(tables["transition"]):
        findings += _not_stated(
            tables["transition"],
            "transition",
            "agreed_months",
            "台账未填约定过渡期限：计算时按安置区约定交房日期推算，仍无则按单位政策 "
            "(agreed_months not stated; taken from the site's promised date in the figures)",
        )
        keep_first("transition", tables["transition"])

    tables = {name: _conform(tables[name], t) for name, t in TABLES.items()}
    findings += implausible_dates(tables)
    findings += implausible_amounts(tables)
    return Assembled(tables, findings, duplicates)
