"""Result types shared across the package (neutral: no computation, no imports of siblings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ForecastResult"]


@dataclass(frozen=True)
class ForecastResult:
    """What every forecast function returns: tidy frames plus the assumptions behind them.

    Attributes
    ----------
    summary
        The main tidy frame (one row per unit the function forecasts).
    assumptions
        JSON-ready description of the method: model chosen and why, parameters, data it rests on,
        plain-language statements and warnings (reports print it next to the numbers).
    frames
        Further tidy frames by name (e.g. ``"logrank"``, ``"by_site"``, ``"backtest"``).
    samples
        Simulation output by name (``numpy`` arrays, one row per path), for callers that combine
        forecasts path by path.
    """

    summary: pd.DataFrame
    assumptions: dict[str, Any]
    frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    samples: Mapping[str, np.ndarray] = field(default_factory=dict)
