"""Synthetic districts for the calibration test of the delivery model (a process it does not fit).

Each district has 20–40 resettlement sites started over eight years (2011–2018), promised build
times of 18–48 months, and true build time

    T = P · overrun · shock + stall,

with ``overrun`` from a heavy-tailed mixture (not lognormal): 15 % a little early (uniform
0.85–1.0), 55 % moderately late (1 + exponential, mean 0.2), 30 % badly late (1 + 0.25 · Pareto
with tail index 1.5, whose variance is infinite); ``shock`` a district-wide multiplier
(gamma, mean 1, sd 0.2) shared by all its sites; and ``stall`` an extra 36–120 months for 4 % of
the sites. The reporting date ``as_of`` lies in the middle (2017-01-01 to 2018-12-31), so a
district has delivered, open and not yet started sites. Dates are whole days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zhengshou_analysis.schemas import empty_table

D = 30.4375  # days per duration month


@dataclass(frozen=True)
class District:
    """One synthetic district: the sites table as known at ``as_of`` and the true deliveries."""

    sites: pd.DataFrame  # canonical table; delivered_date only where delivered by as_of
    as_of: pd.Timestamp
    true_delivery: pd.Series  # site_id -> true delivery date (also for the undelivered)


def _overrun(rng: np.random.Generator, n: int) -> np.ndarray:
    kind = rng.choice(3, size=n, p=[0.15, 0.55, 0.30])
    early = rng.uniform(0.85, 1.0, n)
    moderate = 1.0 + rng.exponential(0.2, n)
    bad = 1.0 + 0.25 * (rng.pareto(1.5, n) + 1.0)
    return np.choose(kind, [early, moderate, bad])


def make_district(rng: np.random.Generator, index: int) -> District:
    """Draw one district (see the module docstring)."""
    n = int(rng.integers(20, 41))
    start = pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 8 * 365, n), unit="D")
    promised = rng.uniform(18.0, 48.0, n)
    shock = rng.gamma(25.0, 1.0 / 25.0)  # mean 1, sd 0.2
    stall = np.where(rng.random(n) < 0.04, rng.uniform(36.0, 120.0, n), 0.0)
    build = promised * _overrun(rng, n) * shock + stall
    as_of = pd.Timestamp("2017-01-01") + pd.Timedelta(days=int(rng.integers(0, 2 * 365)))
    promised_date = start + pd.to_timedelta(np.round(promised * D), unit="D")
    true = start + pd.to_timedelta(np.round(build * D), unit="D")
    ids = [f"D{index}-S{i}" for i in range(n)]
    rows = pd.DataFrame(
        {
            "site_id": ids,
            "site_name": [f"安置区{i}" for i in range(n)],
            "zone": rng.choice(["甲片区", "乙片区", "丙片区"], n),
            "start_date": start,
            "promised_date": promised_date,
            "delivered_date": true.where(true <= as_of),
            "units": rng.integers(200, 1500, n),
            "origin": [f"synthetic#{index}!{i}" for i in range(n)],
        }
    )
    return District(sites=_canonical(rows), as_of=as_of, true_delivery=pd.Series(true, index=ids))


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    schema = empty_table("sites")
    df = df.reindex(columns=list(schema.columns))
    return pd.DataFrame(
        {
            c: (pd.to_datetime(df[c]) if str(t).startswith("datetime64") else df[c]).astype(t)
            for c, t in schema.dtypes.items()
        }
    )


def make_districts(n: int, seed: int) -> list[District]:
    """``n`` districts from one seeded generator."""
    rng = np.random.default_rng(seed)
    return [make_district(rng, i) for i in range(n)]
