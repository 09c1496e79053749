"""The ledgers as they were known at a date: every row or date after it removed.

A forecast made at a past date (an *origin*) must see only what was known then, and a report
must never show a date after its reporting date as a fact. :func:`cut_tables_at` is the one
place that decides what "known at a date" means for each canonical table (:data:`KNOWN_AT`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ..schemas import TABLES, table_from
from ..settings import resolve_as_of

__all__ = ["KNOWN_AT", "KnownAt", "cut_tables_at", "latest_date"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnownAt:
    """How one table is cut at a date.

    Attributes
    ----------
    row_date
        The column whose date makes the row itself exist (a signing, a payment, an inflow, a
        household moving out): rows dated after the cut are dropped. ``None``: every row is kept.
    event_dates
        Columns recording a later event of a row that exists (a delivery, a move back): a date
        after the cut is set to missing (the event had not happened then).
    year_column
        A reporting-year column: rows of a later year are dropped.
    """

    row_date: str | None = None
    event_dates: tuple[str, ...] = ()
    year_column: str | None = None


#: What each table knows at a date. Sites stay listed whatever their start date (a site with a
#: later start is a planned site, not started), but a delivery after the date is not known.
KNOWN_AT: Mapping[str, KnownAt] = {
    "projects": KnownAt(year_column="year"),
    "agreements": KnownAt(row_date="signed_date"),
    "payments": KnownAt(row_date="date"),
    "funding": KnownAt(row_date="date"),
    "sites": KnownAt(event_dates=("delivered_date",)),
    "transition": KnownAt(row_date="start_date", event_dates=("end_date",)),
}


def cut_tables_at(tables: Mapping[str, pd.DataFrame], as_of) -> dict[str, pd.DataFrame]:
    """The canonical tables as known at ``as_of`` (inputs not modified).

    Parameters
    ----------
    tables
        Canonical tables by name (a missing one is empty); each is conformed.
    as_of
        The date of knowledge (day precision; rows dated that day are kept).

    Returns
    -------
    dict
        Every canonical table: rows whose own date (:attr:`KnownAt.row_date`) is after ``as_of``
        dropped, rows of a later reporting year dropped, and event dates after ``as_of`` set to
        missing (NaT). A row whose own date is missing is kept (it cannot be placed; the
        indicators treat it as their definitions say). Row order and the ``origin`` column are
        kept, so every figure still traces to its source rows.

    Examples
    --------
    >>> cut = cut_tables_at(tables, "2019-12-31")  # doctest: +SKIP
    >>> cut["sites"]["delivered_date"].max() <= pd.Timestamp("2019-12-31")  # doctest: +SKIP
    True
    """
    date = resolve_as_of(as_of)
    out: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        df = table_from(tables, name)
        rule = KNOWN_AT[name]
        keep = pd.Series(True, index=df.index)
        if rule.row_date is not None:
            keep &= ~df[rule.row_date].gt(date).fillna(False)
        if rule.year_column is not None:
            keep &= ~df[rule.year_column].gt(date.year).fillna(False)
        cut = df.loc[keep]
        later = {c: cut[c].where(~cut[c].gt(date).fillna(False)) for c in rule.event_dates}
        if later:
            cut = cut.assign(**later)
        dropped = int((~keep).sum())
        if dropped:
            log.debug("%s as known at %s: %d later rows left out", name, date.date(), dropped)
        out[name] = cut
    return out


def latest_date(tables: Mapping[str, pd.DataFrame]) -> pd.Timestamp | None:
    """The latest date of any row or event in the tables (``None`` when there is none).

    Parameters
    ----------
    tables
        Canonical tables by name.

    Returns
    -------
    pandas.Timestamp or None
        The maximum over every :data:`KNOWN_AT` date column: the date up to which the ledgers
        can tell what happened.
    """
    dates = []
    for name, rule in KNOWN_AT.items():
        df = table_from(tables, name)
        for col in (rule.row_date, *rule.event_dates):
            if col is not None and df[col].notna().any():
                dates.append(df[col].max())
    return max(dates) if dates else None
