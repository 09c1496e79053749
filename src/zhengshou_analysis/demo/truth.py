"""The canonical truth of the demo district and its expected rejections, as data frames.

The renderers record, row by row, what docs/data_contract.md reads from each cell; this module turns
those rows into frames with the canonical columns and dtypes of :mod:`zhengshou_analysis.schemas`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..schemas import TABLES, pandas_dtype

__all__ = ["REJECTION_COLUMNS", "rejection_frame", "truth_frames"]

REJECTION_COLUMNS = ["file", "sheet", "row", "table", "reason"]


def truth_frames(rows: Mapping[str, list[dict]]) -> dict[str, pd.DataFrame]:
    """The canonical tables from the truth rows of the renderers.

    Parameters
    ----------
    rows
        Per table, one dict per data row (canonical column → value as read; ``None`` where the
        ledger states nothing — the policy's fills belong to the figures, not to the truth).

    Returns
    -------
    dict of str to pandas.DataFrame
        Every table of :data:`~zhengshou_analysis.schemas.TABLES`, in order, with exactly its
        columns and dtypes, sorted by its key.
    """
    frames: dict[str, pd.DataFrame] = {}
    for name, t in TABLES.items():
        table_rows = rows.get(name, [])
        data = {c.name: [row.get(c.name) for row in table_rows] for c in t.columns}
        df = pd.DataFrame({c.name: _series(data[c.name], pandas_dtype(c)) for c in t.columns})
        key = list(t.key) or [c.name for c in t.columns]
        frames[name] = df.sort_values(key, kind="stable").reset_index(drop=True)
    return frames


def _series(values: list, dtype: str) -> pd.Series:
    if dtype.startswith("datetime64"):
        return pd.to_datetime(pd.Series(values, dtype=object)).astype(dtype)
    if dtype == "Int64":
        return pd.Series(pd.array(values, dtype="Int64"))
    if dtype == "float64":
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.Series(values, dtype=dtype)


def rejection_frame(rows: list[dict]) -> pd.DataFrame:
    """The planted bad rows as a frame sorted by table, file, sheet and row.

    Parameters
    ----------
    rows
        One dict per bad row with the keys of :data:`REJECTION_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        Columns ``file, sheet, row, table, reason``.
    """
    df = pd.DataFrame(rows, columns=REJECTION_COLUMNS)
    df = df.astype({"file": "str", "sheet": "str", "row": "int64", "table": "str", "reason": "str"})
    return df.sort_values(["table", "file", "sheet", "row"], kind="stable").reset_index(drop=True)
