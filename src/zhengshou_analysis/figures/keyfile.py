"""The key figures file (``key_figures.json``): JSON-ready scalars and deterministic bytes."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["json_scalar", "jsonable", "key_figures_json"]

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


def key_figures_json(figures: Mapping[str, Any]) -> str:
    """The key figures as JSON text: sorted keys, non-ASCII kept, 2-space indent, final newline.

    Deterministic: the same figures always give the same bytes (``NaN`` → ``null``, numpy scalars →
    Python numbers, ``-0.0`` → ``0.0``, dates → ISO strings).
    """
    return (
        json.dumps(jsonable(figures), sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False)
        + "\n"
    )
