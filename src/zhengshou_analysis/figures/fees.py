"""Transitional-fee figures (过渡安置费): per-household accrued, paid, arrears, escalation."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..periods import months_between
from ..schemas import (
    KIND_TRANSITION,
    conform_table,
)
from ..settings import (
    DEFAULT_ESCALATION,
    Escalation,
    resolve_as_of,
)
from .common import Value, check_choice, flatten_origins, frame_to_nested, origins_by, total
from .funding import aggregate_by

if TYPE_CHECKING:
    from .context import Analysis
    from .registry import Figure

log = logging.getLogger(__name__)


def site_lookup(sites: pd.DataFrame | None) -> pd.DataFrame:
    s = conform_table(sites, "sites")
    return s.drop_duplicates("site_id").set_index("site_id")


def compute_transition_fees(
    transition: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of,
    sites: pd.DataFrame | None = None,
    escalation: Escalation = DEFAULT_ESCALATION,
    default_transition_months: int | None = None,
) -> pd.DataFrame:
    """Transitional fees (过渡安置费) per household in transition by ``as_of``.

    Parameters
    ----------
    transition, payments
        Canonical tables (not modified).
    as_of
        Reporting date: households with ``start_date <= as_of``; payments with ``date <= as_of``.
    sites
        Canonical ``sites`` table: fills a missing ``agreed_months`` with
        ``months_between(start_date, promised_date of its site)`` (docs/indicators.md, fees).
    escalation
        Overdue multiplier schedule (default: 1.5 for overdue months 1–12, 2.0 from 13; an example
        rule, not a Guigang regulation).
    default_transition_months
        The policy's agreed period (months) for a household with neither a ledger value nor a
        site promise (:class:`~zhengshou_analysis.settings.Policy`); ``None``: such a household
        is never counted overdue.

    Returns
    -------
    pandas.DataFrame
        One row per household: ``agreement_id``, ``site_id``, ``start_date``, ``end_date``,
        ``fee_end_date`` = min(end_date, as_of), ``active`` (end NA or after ``as_of``),
        ``fee_basis``, ``base_monthly_yuan`` (rate × area_m2 / persons / 1), ``fee_months`` K =
        ``months_between(start_date, fee_end_date)``, ``agreed_months`` (filled),
        ``agreed_months_source`` (``ledger``/``site``/``policy``/``missing``), ``overdue_fee_months``
        = max(K − agreed, 0), ``accrued_yuan`` = Σₖ base × multiplier(k), ``overdue_extra_yuan`` =
        Σₖ base × (multiplier(k) − 1), ``paid_yuan`` (过渡安置费 matched by ``agreement_id``),
        ``arrears_yuan`` = max(accrued − paid, 0), ``next_multiplier`` = multiplier(K + 1),
        ``monthly_yuan`` = base × next_multiplier for active households (0 otherwise), ``origin``
        and ``payment_origins``.

    Notes
    -----
    Vectorised in closed form: of the K fee months, min(K, agreed) pay 1.0 and the
    ``overdue_fee_months`` are split over the escalation tiers (:meth:`Escalation.cumulative`), so
    the cost does not grow with the number of months. A household without ``agreed_months``
    (none in the ledger, no site promise) is never counted overdue (logged). A ``base`` that
    cannot be computed (``per_m2`` without area, unknown basis) stays NaN and is left out of sums
    (logged). Duplicate ``agreement_id`` rows are one household: paid and arrears are reported on
    its first row.
    """
    as_of = resolve_as_of(as_of)
    t = conform_table(transition, "transition")
    t = t.loc[t["start_date"].le(as_of)]
    end = t["end_date"].where(t["end_date"].le(as_of), as_of)
    active = t["end_date"].isna() | t["end_date"].gt(as_of)
    k = months_between(t["start_date"], end).to_numpy(dtype="float64", na_value=np.nan)
    agreed, source = _agreed_months(t, sites, default_transition_months)
    base = _base_monthly_yuan(t)
    charged = _charge_months(k, agreed, base, active.to_numpy(dtype=bool), escalation)
    out = pd.DataFrame(
        {
            "agreement_id": t["agreement_id"].astype("str"),
            "site_id": t["site_id"],
            "start_date": t["start_date"],
            "end_date": t["end_date"],
            "fee_end_date": end,
            "active": active.astype(bool),
            "fee_basis": t["fee_basis"],
            "base_monthly_yuan": base,
            "fee_months": k,
            "agreed_months": agreed,
            "agreed_months_source": source,
            **charged,
            "origin": t["origin"],
        }
    ).reset_index(drop=True)
    return _with_payments(out, payments, as_of)[HOUSEHOLD_COLUMNS]


def _agreed_months(
    t: pd.DataFrame, sites: pd.DataFrame | None, default_months: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each household's agreed transition months and where they came from.

    The ledger's value; else ``months_between(start_date, promised_date of its site)``; else the
    policy's ``default_months``; else NA (``missing``: never counted overdue, logged).
    """
    agreed = pd.Series(t["agreed_months"].to_numpy(dtype="float64", na_value=np.nan), index=t.index)
    source = np.where(agreed.notna(), "ledger", "missing")
    if agreed.isna().any() and sites is not None:
        # reindex, not map: Series.map with an empty datetime mapper raises (no sites ledger)
        lookup = site_lookup(sites)["promised_date"]
        promised = pd.Series(lookup.reindex(t["site_id"]).to_numpy(), index=t.index)
        filled = months_between(t["start_date"], promised).to_numpy(
            dtype="float64", na_value=np.nan
        )
        use = agreed.isna().to_numpy() & ~np.isnan(filled)
        source = np.where(use, "site", source)
        agreed = agreed.where(~use, filled)
    if default_months is not None and (source == "missing").any():
        use = source == "missing"
        source = np.where(use, "policy", source)
        agreed = agreed.where(~use, float(default_months))
    if (source == "missing").any():
        log.warning(
            "%d households have no agreed_months (ledger, site promise or policy): never counted "
            "overdue",
            int((source == "missing").sum()),
        )
    return agreed.to_numpy(), source


def _base_monthly_yuan(t: pd.DataFrame) -> np.ndarray:
    """Monthly fee before escalation: rate × area (per_m2), × persons (per_person) or × 1."""
    basis = t["fee_basis"]
    units = np.select(
        [
            basis.eq("per_m2").to_numpy(dtype=bool),
            basis.eq("per_person").to_numpy(dtype=bool),
            basis.eq("per_household").to_numpy(dtype=bool),
        ],
        [
            t["area_m2"].to_numpy(dtype="float64", na_value=np.nan),
            t["persons"].to_numpy(dtype="float64", na_value=np.nan),
            np.ones(len(t)),
        ],
        default=np.nan,
    )
    base = t["fee_rate_yuan"].to_numpy(dtype="float64", na_value=np.nan) * units
    if np.isnan(base).any():
        log.warning(
            "%d households have no computable monthly fee (basis/area/persons missing)",
            int(np.isnan(base).sum()),
        )
    return base


def _charge_months(
    k: np.ndarray, agreed: np.ndarray, base: np.ndarray, active: np.ndarray, escalation: Escalation
) -> dict[str, np.ndarray]:
    """Accrued fee, overdue extra and next month's fee of K fee months, in closed form."""
    overdue_n = np.where(np.isnan(agreed), 0.0, np.clip(k - agreed, 0.0, None))
    escalated = escalation.cumulative(overdue_n)
    next_mult = np.where(
        np.isnan(agreed), 1.0, escalation.multiplier(k + 1 - np.nan_to_num(agreed))
    )
    return {
        "overdue_fee_months": overdue_n,
        "accrued_yuan": base * ((k - overdue_n) + escalated),
        "overdue_extra_yuan": base * (escalated - overdue_n),
        "next_multiplier": next_mult,
        "monthly_yuan": np.where(active, base * next_mult, 0.0),
    }


def _with_payments(out: pd.DataFrame, payments: pd.DataFrame | None, as_of) -> pd.DataFrame:
    """Paid (过渡安置费 by ``agreement_id``) and arrears per household, on its first row."""
    p = conform_table(payments, "payments")
    fee = p.loc[p["kind"].eq(KIND_TRANSITION) & p["date"].le(as_of)]
    fee = fee.loc[fee["agreement_id"].isin(out["agreement_id"])]
    paid_by_id = fee.groupby("agreement_id")["amount_yuan"].sum()
    pay_origins = origins_by(fee, "agreement_id")
    first = ~out["agreement_id"].duplicated()
    if not first.all():
        log.warning("duplicate agreement_id in transition: one household, arrears on its first row")
    household_accrued = out.groupby("agreement_id")["accrued_yuan"].transform("sum")
    paid = out["agreement_id"].map(paid_by_id).astype("float64").fillna(0.0)
    return out.assign(
        paid_yuan=paid.where(first, 0.0),
        arrears_yuan=(household_accrued - paid).clip(lower=0.0).where(first, 0.0),
        payment_origins=[
            pay_origins.get(i, []) if f else []
            for i, f in zip(out["agreement_id"], first, strict=True)
        ],
    )


HOUSEHOLD_COLUMNS = [
    "agreement_id",
    "site_id",
    "start_date",
    "end_date",
    "fee_end_date",
    "active",
    "fee_basis",
    "base_monthly_yuan",
    "fee_months",
    "agreed_months",
    "agreed_months_source",
    "overdue_fee_months",
    "accrued_yuan",
    "overdue_extra_yuan",
    "paid_yuan",
    "arrears_yuan",
    "next_multiplier",
    "monthly_yuan",
    "origin",
    "payment_origins",
]


FEE_SUMS = ("accrued_yuan", "paid_yuan", "arrears_yuan", "overdue_extra_yuan", "monthly_yuan")


def fee_values(h: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {
        "households": int(h["agreement_id"].nunique()),
        "households_active": int(h.loc[h["active"], "agreement_id"].nunique()),
    }
    for c in FEE_SUMS:
        out[c] = total(h[c])
    out["origins"] = flatten_origins(h["origin"], h["payment_origins"])
    return out


def aggregate_fees(
    households: pd.DataFrame, site_attrs: pd.DataFrame, by: Literal["site", "zone"]
) -> pd.DataFrame:
    return aggregate_by(
        households,
        site_attrs[["site_name", "zone"]],
        link="site_id",
        key="site_id" if by == "site" else "zone",
        values=fee_values,
        columns=["households", "households_active", *FEE_SUMS, "origins"],
    )


def compute_transition_fees_by(
    transition: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of,
    by: Literal["site", "zone"],
    sites: pd.DataFrame | None = None,
    escalation: Escalation = DEFAULT_ESCALATION,
) -> pd.DataFrame:
    """Transitional fees summed by resettlement site or by 片区 (of the site).

    Parameters
    ----------
    transition, payments
        Canonical tables (not modified).
    as_of
        Reporting date.
    by
        ``"site"`` (by ``site_id``, with ``site_name`` and ``zone``) or ``"zone"``.
    sites
        Canonical ``sites`` table (names, 片区, and ``agreed_months`` fill-in); required for
        ``by="zone"``.
    escalation
        Overdue multiplier schedule.

    Returns
    -------
    pandas.DataFrame
        Per group: ``households``, ``households_active``, ``accrued_yuan``, ``paid_yuan`` (matched
        to the group's households), ``arrears_yuan``, ``overdue_extra_yuan``, ``monthly_yuan`` and
        ``origins``. Missing group values are NA, last.
    """
    check_choice(by, ("site", "zone"), "by")
    if by == "zone" and sites is None:
        raise ParameterError("by='zone' needs the sites table (片区 comes from the site)")
    households = compute_transition_fees(
        transition, payments, as_of=as_of, sites=sites, escalation=escalation
    )
    return aggregate_fees(households, site_lookup(sites), by)


def active_households(transition: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    t = conform_table(transition, "transition")
    started = t["start_date"].le(as_of)
    active = t["end_date"].isna() | t["end_date"].gt(as_of)
    return t.loc[started & active]


# --------------------------------------------------------------------------------------------------
# builders of the figure registry (figures/registry.py)


def build_transition_households_active(a: Analysis, fig: Figure) -> Value:
    """Households still in transition at ``as_of``."""
    act = a.households.loc[a.households["active"]]
    return Value(int(act["agreement_id"].nunique()), act["origin"])


def build_transition_fee_accrued_yuan(a: Analysis, fig: Figure) -> Value:
    """Σ accrued transitional fees to ``as_of``, with escalation."""
    return Value(total(a.households["accrued_yuan"]), a.households["origin"])


def build_transition_fee_paid_yuan(a: Analysis, fig: Figure) -> Value:
    """Σ 过渡安置费 payments dated by ``as_of``."""
    p = a.tables["payments"]
    fee_pay = p.loc[p["kind"].eq(KIND_TRANSITION) & p["date"].le(a.as_of)]
    return Value(total(fee_pay["amount_yuan"]), fee_pay["origin"])


def build_transition_fee_arrears_yuan(a: Analysis, fig: Figure) -> Value:
    """Σ per household of max(accrued − paid, 0)."""
    hh = a.households
    return Value(total(hh["arrears_yuan"]), flatten_origins(hh["origin"], hh["payment_origins"]))


def build_transition_fee_overdue_extra_yuan(a: Analysis, fig: Figure) -> Value:
    """Σ of the escalation extra (the cost of late delivery so far)."""
    return Value(total(a.households["overdue_extra_yuan"]), a.households["origin"])


def build_transition_fee_monthly_yuan(a: Analysis, fig: Figure) -> Value:
    """Σ over active households of the next fee month's fee."""
    act = a.households.loc[a.households["active"]]
    return Value(total(act["monthly_yuan"]), act["origin"])


def build_transition_fee_by_site(a: Analysis) -> dict[str, dict[str, Any]]:
    """``transition_fee_by_site``: the fee figures per site."""
    return frame_to_nested(
        aggregate_fees(a.households, site_lookup(a.tables["sites"]), "site"), "site_id"
    )


def build_transition_fee_by_zone(a: Analysis) -> dict[str, dict[str, Any]]:
    """``transition_fee_by_zone``: the fee figures per 片区."""
    return frame_to_nested(
        aggregate_fees(a.households, site_lookup(a.tables["sites"]), "zone"), "zone"
    )
