"""A synthetic district in canonical tables, sized for the simulation benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zhengshou_analysis.schemas import TABLES, empty_table


def synthetic_tables(households: int = 5_000, sites: int = 50, *, seed: int = 3) -> dict:
    """Sites (a third undelivered) and households in transition, every fee basis, canonical dtypes."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, sites), unit="D")
    promised = start + pd.to_timedelta(rng.integers(24 * 30, 36 * 30, sites), unit="D")
    delivered = (promised + pd.to_timedelta(rng.integers(-60, 500, sites), unit="D")).to_series()
    delivered[rng.random(sites) < 0.35] = pd.NaT  # undelivered: censored
    delivered[delivered > pd.Timestamp("2022-12-31")] = pd.NaT
    site_ids = [f"S-{i:04d}" for i in range(sites)]
    site_df = pd.DataFrame(
        {
            "site_id": site_ids,
            "site_name": [f"安置区{i}" for i in range(sites)],
            "zone": [("贵城片区", "港城片区", "城区外围片区")[i % 3] for i in range(sites)],
            "start_date": start,
            "promised_date": promised,
            "delivered_date": delivered.to_numpy(),
            "units": rng.integers(200, 1500, sites),
            "origin": [f"synthetic#sites!{i + 2}" for i in range(sites)],
        }
    )
    which = rng.integers(0, sites, households)
    t_start = start[which] + pd.to_timedelta(rng.integers(0, 400, households), unit="D")
    basis = np.array(["per_m2", "per_household", "per_person"])[rng.integers(0, 3, households)]
    trans = pd.DataFrame(
        {
            "agreement_id": [f"GC-{i:06d}" for i in range(households)],
            "site_id": np.array(site_ids)[which],
            "start_date": t_start,
            "end_date": pd.NaT,
            "fee_basis": basis,
            "fee_rate_yuan": np.where(basis == "per_m2", 12.0, 900.0),
            "area_m2": rng.uniform(40, 160, households).round(2),
            "persons": rng.integers(1, 7, households),
            "agreed_months": rng.choice([24, 30, 36], households),
            "origin": [f"synthetic#transition!{i + 2}" for i in range(households)],
        }
    )

    def conform(name, df):
        t = TABLES[name]
        return df.astype({c.name: str(empty_table(name)[c.name].dtype) for c in t.columns})

    tables = {name: empty_table(name) for name in TABLES}
    tables["sites"] = conform("sites", site_df)
    tables["transition"] = conform("transition", trans)
    return tables
