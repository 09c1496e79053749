"""The shape of the quality log and of the rejected rows (docs/data_contract.md §2).

Every cleaning step reports what it did as *findings*: frames with (a subset of) the columns of
:data:`QUALITY_COLUMNS`, one row per normalisation or problem. Steps return their findings instead
of writing to a shared log; :func:`~zhengshou_analysis.ledger.clean.clean_ledgers` concatenates
them, in data-flow order, into the quality log with :func:`concat_findings`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ORIGIN_PARTS",
    "QUALITY_COLUMNS",
    "QUALITY_LEDGER_TEXT",
    "REJECTED_COLUMNS",
    "concat_findings",
    "finding",
    "findings_frame",
    "origin_parts",
    "rejected_frame",
]

#: The parts of an ``origin`` (``FILE#SHEET!ROW``), each also a column of the log and the
#: rejected rows: the file (relative to the raw folder), the sheet (a CSV's: the file name without
#: ``.csv``) and the 1-based row; empty when the origin does not name it (``FILE#SHEET``, ``FILE``).
ORIGIN_PARTS = ["file", "sheet", "row"]
#: Columns of the quality log (``quality_log.csv``), in order.
QUALITY_COLUMNS = [
    "origin",
    *ORIGIN_PARTS,
    "table",
    "column",
    "raw_value",
    "action",
    "severity",
    "message",
]
#: Columns of the quality log that can hold the office's own text: the origin, file and sheet
#: (names the office chose), the raw value and the message quoting it. The others hold the
#: cleaner's codes and canonical names (``table``, ``column``, ``action``, ``severity``) and row
#: numbers: a spreadsheet can never read them as a formula.
QUALITY_LEDGER_TEXT = ["origin", "file", "sheet", "raw_value", "message"]
#: Columns of the rejected rows (``rejected.csv``), in order.
REJECTED_COLUMNS = ["origin", *ORIGIN_PARTS, "table", "reason", "raw_cells"]

_ORIGIN = r"^(?P<file>[^#]*)(?:#(?P<sheet>.*?)(?:!(?P<row>[0-9]+))?)?$"


def origin_parts(origin: pd.Series) -> pd.DataFrame:
    """Split origins into :data:`ORIGIN_PARTS` (all ``str``, ``""`` for a part not named).

    ``a.xlsx#协议!12`` → ``a.xlsx``, ``协议``, ``12``; ``a.xlsx#协议`` → ``a.xlsx``, ``协议``, ``""``;
    ``a.xlsx`` → ``a.xlsx``, ``""``, ``""``. The file ends at the first ``#``; the row is the
    number after the last ``!`` (a ``!`` in a sheet name stays in the sheet).
    """
    if origin.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in ORIGIN_PARTS}, index=origin.index)
    # A log has hundreds of thousands of findings, nearly all of them ``FILE#SHEET!`` + a row
    # number of a few sheets: the origins of one sheet are found with a prefix test (pyarrow,
    # no regex), the sheet's file and sheet parsed once; the rest (a few, or none) by the regex,
    # once per distinct origin (pandas' extract with named groups loops in Python).
    # pandas' "str" is pyarrow's large_string: kept as it is, no copy of the 100,000s of texts
    arr = pa.array(origin.astype("str").fillna("").array).cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    kind = arr.type
    n = len(arr)
    which = np.full(n, -1, dtype=np.int64)  # index into the sheets found, -1: by the regex
    row = pa.nulls(n, kind)
    sheets: list[tuple[str, str]] = []
    todo = np.ones(n, dtype=bool)  # not yet placed
    by_regex = np.zeros(n, dtype=bool)
    for _ in range(_MAX_PREFIXES):
        first = int(np.argmax(todo & ~by_regex))
        if not todo[first] or by_regex[first]:
            break
        text = arr[first].as_py()
        file, sheet, number = _parse_origins(pa.array([text], kind))
        if not number[0].as_py():  # no row (FILE#SHEET, FILE): these origins go to the regex
            by_regex |= pc.equal(arr, text).to_numpy(zero_copy_only=False)
            continue
        prefix = text[: -len(number[0].as_py())]
        rest = pc.utf8_slice_codeunits(arr, len(prefix))
        hit = pc.and_(pc.starts_with(arr, prefix), pc.ascii_is_decimal(rest))
        hit_np = hit.to_numpy(zero_copy_only=False) & todo
        which[hit_np] = len(sheets)
        sheets.append((file[0].as_py(), sheet[0].as_py()))
        row = pc.if_else(pa.array(hit_np), rest, row)
        todo &= ~hit_np
    take = pa.array(which, type=pa.int64(), mask=which < 0)
    file = pc.take(pa.array([f for f, _ in sheets], kind), take)
    sheet = pc.take(pa.array([s for _, s in sheets], kind), take)
    if todo.any():
        rest_at = np.flatnonzero(todo)
        rf, rs, rr = _parse_origins(pc.take(arr, pa.array(rest_at)))
        pos = np.full(n, -1, dtype=np.int64)
        pos[rest_at] = np.arange(len(rest_at))
        at = pa.array(pos, type=pa.int64(), mask=pos < 0)
        mask = pa.array(todo)
        file = pc.if_else(mask, pc.take(rf, at), file)
        sheet = pc.if_else(mask, pc.take(rs, at), sheet)
        row = pc.if_else(mask, pc.take(rr, at), row)
    dtype = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' "str"
    return pd.DataFrame(
        {
            c: pd.Series(pd.array(pc.fill_null(a, ""), dtype=dtype), index=origin.index)
            for c, a in zip(ORIGIN_PARTS, (file, sheet, row), strict=True)
        },
        index=origin.index,
    )


#: Sheets :func:`origin_parts` finds by their prefix before leaving the rest to the regex.
_MAX_PREFIXES = 16


def _parse_origins(origins: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The file, sheet and row of each origin by the :data:`_ORIGIN` regex (null: not named),
    once per distinct origin."""
    encoded = pc.dictionary_encode(origins)
    parts = pc.extract_regex(encoded.dictionary, _ORIGIN)
    return tuple(pc.fill_null(pc.take(parts.field(c), encoded.indices), "") for c in ORIGIN_PARTS)


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
        :data:`QUALITY_COLUMNS` but the origin's parts (:func:`concat_findings` derives them), in
        order, all of dtype ``str``; a column the input lacks is empty (NA). An empty input gives
        an empty frame with these columns.
    """
    df = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows
    for c in QUALITY_COLUMNS:
        if c not in df and c not in ORIGIN_PARTS:
            df[c] = pd.Series(dtype="str")
    return df[[c for c in QUALITY_COLUMNS if c not in ORIGIN_PARTS]].astype("str")


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
        :data:`QUALITY_COLUMNS`, all ``str``, a fresh ``RangeIndex``; ``file``, ``sheet`` and
        ``row`` derived from ``origin`` (:func:`origin_parts`) here, the one place the log is
        assembled. Empty (with these columns) when no frame has a row.
    """
    parts = [findings_frame(f) for f in frames if len(f)]
    log = pd.concat(parts, ignore_index=True) if parts else findings_frame([])
    return _with_origin_parts(log, QUALITY_COLUMNS)


def _with_origin_parts(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return pd.concat([df, origin_parts(df["origin"])], axis=1)[columns]


def rejected_frame(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate rejected-row frames (``origin, table, reason, raw_cells``) into
    :data:`REJECTED_COLUMNS`, the origin's parts derived (:func:`origin_parts`)."""
    base = [c for c in REJECTED_COLUMNS if c not in ORIGIN_PARTS]
    frames = [p[base] for p in parts if len(p)]
    df = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: pd.Series(dtype="str") for c in base})
    )
    return _with_origin_parts(df, REJECTED_COLUMNS)
