"""Small helpers shared by the figure modules: origins, sums, ratios, group order and labels."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ParameterError

log = logging.getLogger(__name__)


__all__ = [
    "NA_GROUP",
    "Value",
    "check_choice",
    "column_unit",
    "flatten_origins",
    "fmt_num",
    "frame_to_nested",
    "group_label",
    "json_scalar",
    "jsonable",
    "ordered_groups",
    "origins_by",
    "safe_ratio",
    "total",
    "unique_values",
]


@dataclass(frozen=True)
class Value:
    """What a figure builder returns: a value, the ledger rows behind it, and its scope.

    Attributes
    ----------
    value
        The figure's value (float, int, str, ``None`` or NaN when not defined).
    origins
        ``origin`` (``FILE#SHEET!ROW``) of every ledger row that entered it; deduplicated in order
        by the registry.
    scope
        The group value (a 类别, a blocker, an age band, a site id) or ``None`` for the overall
        figure.
    group
        The group's name (``category``, ``blocker``, ``age_band``, ``site``) or ``None``.
    """

    value: Any
    origins: Iterable = field(default=())
    scope: str | None = None
    group: str | None = None


#: Label of a missing group value (片区, 类别, project …) in breakdowns and the key figures.
NA_GROUP = "未注明"


def check_choice(value, allowed: Sequence, name: str) -> None:
    if value not in allowed:
        raise ParameterError(f"{name} must be one of {list(allowed)}, got {value!r}")


def unique_values(values: Iterable) -> list[str]:
    """Non-missing values as strings, deduplicated, in order of first appearance."""
    out: dict[str, None] = {}
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            continue
        out[str(v)] = None
    return list(out)


def flatten_origins(*columns: Iterable) -> list[str]:
    """Origins from columns of scalars or of lists, deduplicated in order."""
    items: list = []
    for col in columns:
        for v in col:
            if isinstance(v, list | tuple | np.ndarray):
                items.extend(v)
            else:
                items.append(v)
    return unique_values(items)


def origins_by(df: pd.DataFrame, key: str, column: str = "origin") -> dict[str, list[str]]:
    """``key`` value → its rows' (scalar) ``column`` values, deduplicated in order."""
    q = df.loc[df[column].notna() & df[key].notna(), [key, column]].drop_duplicates()
    out: dict[str, list[str]] = {}
    for k, v in zip(q[key].tolist(), q[column].tolist(), strict=True):
        out.setdefault(k, []).append(str(v))
    return out


def safe_ratio(num: float, den: float) -> float:
    return num / den if den and not math.isnan(den) else math.nan


def total(s: pd.Series) -> float:
    return float(s.sum()) if len(s) else 0.0


def ordered_groups(values: Iterable, canonical: Sequence[str]) -> list:
    """Canonical values first (in their order), then the others sorted, missing last."""
    vals = list(dict.fromkeys(values))
    present = [v for v in canonical if v in vals]
    others = sorted(v for v in vals if v not in canonical and not pd.isna(v))
    missing = [v for v in vals if pd.isna(v)][:1]
    return present + others + missing


def group_label(v) -> str:
    return NA_GROUP if v is None or pd.isna(v) else str(v)


def fmt_num(x: float) -> str:
    return f"{x:g}"


def column_unit(col: str) -> str | None:
    for suffix, unit in (
        ("_yuan", "yuan"),
        ("_mu", "mu"),
        ("_m2", "m2"),
        ("_rate", "ratio"),
        ("safe_ratio", "ratio"),
        ("_months", "month"),
        ("_count", "count"),
    ):
        if col.endswith(suffix):
            return unit
    return None


#: Decimals kept in the key figures file per unit.
_DECIMALS = {"yuan": 2, "mu": 4, "m2": 2, "ratio": 6, "month": 2}


def json_scalar(value: Any, unit: str | None = None) -> Any:
    """A JSON-ready scalar: NA → None, numpy → Python, dates → ISO, floats rounded by unit."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.date().isoformat()
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return None
        if unit == "count":
            return round(v)
        return round(v, _DECIMALS.get(unit or "", 6)) + 0.0
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def jsonable(obj):
    """Mappings and sequences with every scalar made JSON-ready (:func:`json_scalar`)."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    return json_scalar(obj)


def frame_to_nested(df: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    """``{row[key]: {column: JSON scalar}}`` of a tidy frame (origin columns left out)."""
    out: dict[str, dict[str, Any]] = {}
    for _, row in df.iterrows():
        out[group_label(row[key])] = {
            c: json_scalar(row[c], column_unit(c))
            for c in df.columns
            if c not in (key, "origins", "payment_origins", "origin")
        }
    return out
