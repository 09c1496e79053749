"""The shape of the quality log and of the rejected rows (docs/data_contract.md §2).

Every cleaning step reports what it did as *findings*: frames with (a subset of) the columns of
:data:`QUALITY_COLUMNS`, one row per normalisation or problem. Steps return their findings instead
of writing to a shared log; :func:`~zhengshou_analysis.ledger.clean.clean_ledgers` concatenates
them, in data-flow order, into the quality log with :func:`concat_findings`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["QUALITY_COLUMNS", "REJECTED_COLUMNS", "concat_findings", "finding", "findings_frame"]

#: Columns of the quality log (``quality_log.csv``), in order.
QUALITY_COLUMNS = ["origin", "table", "column", "raw_value", "action", "severity", "message"]
#: Columns of the rejected rows (``rejected.csv``), in order.
REJECTED_COLUMNS = ["origin", "table", "reason", "raw_cells"]


def findings_frame(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """Conform findings to the quality-log columns.

    Parameters
    ----------
    rows
        Records or a frame holding some of :data:`QUALITY_COLUMNS` (extra columns, such as the
        parsers' ``row``, are dropped).

    Returns
    -------
    pandas.DataFrame
        Exactly :data:`QUALITY_COLUMNS`, in order, all of dtype ``str``; a column the input lacks
        is empty (NA). An empty input gives an empty frame with these columns.
    """
    df = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows
    for c in QUALITY_COLUMNS:
        if c not in df:
            df[c] = pd.Series(dtype="str")
    return df[QUALITY_COLUMNS].astype("str")


def finding(
    origin: str,
    table: str,
    column: str,
    raw_value: str,
    action: str,
    severity: str,
    message: str,
) -> pd.DataFrame:
    """One finding as a one-row frame (conformed later by :func:`concat_findings`).

    Parameters
    ----------
    origin
        ``FILE#SHEET!ROW`` (1-based Excel row), ``FILE#SHEET`` or ``FILE``.
    table, column
        The canonical table and column concerned (``""`` when none).
    raw_value
        The raw cell text, or what the finding is about.
    action
        The action code (see :mod:`zhengshou_analysis.ledger.parse` and
        :data:`zhengshou_analysis.ledger.quality.ACTION_LABELS`).
    severity
        ``info``, ``warning`` or ``error``.
    message
        Chinese first, English in brackets.
    """
    return pd.DataFrame(
        [
            {
                "origin": origin,
                "table": table,
                "column": column,
                "raw_value": raw_value,
                "action": action,
                "severity": severity,
                "message": message,
            }
        ]
    )


def concat_findings(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate findings frames, in the given order, into one quality log.

    Parameters
    ----------
    frames
        Findings frames as the steps return them; empty ones are skipped.

    Returns
    -------
    pandas.DataFrame
        :data:`QUALITY_COLUMNS`, all ``str``, a fresh ``RangeIndex``; empty (with these columns)
        when no frame has a row.
    """
    parts = [findings_frame(f) for f in frames if len(f)]
    if not parts:
        return findings_frame([])
    return pd.concat(parts, ignore_index=True)
