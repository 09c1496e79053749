"""Funding figures (征拆资金): per-agreement balances, the unpaid gap, overdue arrears by age."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..periods import duration_months
from ..schemas import (
    KIND_COMPENSATION,
    ZONE_NAMES,
    conform_table,
)
from ..settings import (
    DEFAULT_AGE_BANDS_MONTHS,
    DEFAULT_PAYMENT_TERM_DAYS,
    resolve_as_of,
)
from .common import (
    Value,
    check_choice,
    flatten_origins,
    fmt_num,
    frame_to_nested,
    ordered_groups,
    origins_by,
    safe_ratio,
    total,
)

if TYPE_CHECKING:
    from .context import Analysis
    from .registry import Figure

log = logging.getLogger(__name__)


def check_bands(bands: Sequence[float]) -> list[float]:
    b = [float(x) for x in bands]
    if not b or b[0] != 0 or any(y <= x for x, y in itertools.pairwise(b)):
        raise ParameterError(
            f"age_bands must start at 0 and be strictly increasing, got {tuple(bands)!r}"
        )
    return b


def age_band_labels(bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS) -> list[str]:
    """Labels of the overdue-age bands: ``(0, 3, 6, 12)`` → ``["0-3", "3-6", "6-12", "12+"]``."""
    b = check_bands(bands)
    labels = [f"{fmt_num(lo)}-{fmt_num(hi)}" for lo, hi in itertools.pairwise(b)]
    return [*labels, f"{fmt_num(b[-1])}+"]


def age_band_labels_zh(bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS) -> list[str]:
    """Chinese labels of the bands: ``["不足3个月", "3至6个月", "6至12个月", "12个月以上"]``."""
    b = check_bands(bands)
    out = []
    for i, lo in enumerate(b):
        if i + 1 == len(b):
            out.append(f"{fmt_num(lo)}个月以上")
        elif i == 0:
            out.append(f"不足{fmt_num(b[1])}个月")
        else:
            out.append(f"{fmt_num(lo)}至{fmt_num(b[i + 1])}个月")
    return out


def classify_age_band(
    months: pd.Series, *, bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS
) -> pd.Series:
    """Overdue-age band of durations in months, lower bound inclusive (3.0 → ``"3-6"``).

    Parameters
    ----------
    months
        Duration months since the due date (float Series; NaN or negative gives NaN).
    bands
        Lower bounds of the bands, starting at 0 (default 0, 3, 6, 12 → 0–3, 3–6, 6–12, over 12).

    Returns
    -------
    pandas.Series
        Categorical with the labels of :func:`age_band_labels`, index of ``months``.
    """
    b = check_bands(bands)
    return pd.cut(
        pd.Series(months, dtype="float64"),
        bins=[*b, math.inf],
        right=False,
        labels=age_band_labels(b),
    )


def compute_agreement_balances(
    agreements: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS,
) -> pd.DataFrame:
    """Per agreement signed by ``as_of``: compensation, paid, unpaid gap, overdue status and age.

    Parameters
    ----------
    agreements, payments
        Canonical tables (not modified).
    as_of
        Reporting date: agreements with ``signed_date <= as_of``, payments with ``date <= as_of``.
    payment_term_days
        Days after ``signed_date`` taken as ``payment_due_date`` for an agreement whose rows have
        no ``payment_due_date`` at all (NA): the office's policy
        (:class:`~zhengshou_analysis.settings.Policy`), applied here and nowhere else (the cleaner
        keeps the ledger's NA). ``payment_due_source`` says which agreements it applied to.
    age_bands
        Lower bounds (duration months) of the overdue-age bands.

    Returns
    -------
    pandas.DataFrame
        One row per ``agreement_id``: ``project_id``, ``site_id``, ``signed_date``,
        ``payment_due_date`` (the ledger's, else filled), ``payment_due_source`` (``ledger``: the
        table's date; ``term``: ``signed_date`` + ``payment_term_days``), ``compensation_yuan``,
        ``paid_yuan`` (Σ 补偿款 tied to it), ``unpaid_yuan`` = max(compensation − paid, 0)
        (clipped per agreement, never netted),
        ``overpaid_yuan`` = max(paid − compensation, 0), ``overdue`` (``payment_due_date < as_of``),
        ``overdue_months`` (``as_of − payment_due_date`` in duration months, NaN when not overdue),
        ``age_band``, ``origins`` (agreement rows) and ``payment_origins``.

    Notes
    -----
    Duplicate ``agreement_id`` rows (the cleaner rejects them) are logged and consolidated: their
    compensations summed, the earliest dates kept (a due date written in any of them beats the
    term). Payments of kind 补偿款 tied to no agreement in the set are logged and counted nowhere
    here (they do count in ``total_paid_yuan``).
    """
    as_of = resolve_as_of(as_of)
    a = conform_table(agreements, "agreements")
    a = a.loc[a["signed_date"].le(as_of)]
    agg, from_term = _consolidated_agreements(a, payment_term_days)
    paid, pay_origins = _compensation_paid(conform_table(payments, "payments"), agg.index, as_of)
    agg_origins = origins_by(a, "agreement_id")
    ids = agg.index
    paid_yuan = pd.Series(ids.map(paid), index=ids, dtype="float64").fillna(0.0)
    due = agg["payment_due_date"]
    overdue = due.lt(as_of)
    months = duration_months(due, as_of).where(overdue)
    out = pd.DataFrame(
        {
            "agreement_id": ids.astype("str"),
            "project_id": agg["project_id"],
            "site_id": agg["site_id"],
            "signed_date": agg["signed_date"],
            "payment_due_date": due,
            "payment_due_source": pd.Series(
                np.where(from_term.to_numpy(dtype=bool), "term", "ledger"), index=ids, dtype="str"
            ),
            "compensation_yuan": agg["compensation_yuan"].astype("float64"),
            "paid_yuan": paid_yuan,
            "unpaid_yuan": (agg["compensation_yuan"] - paid_yuan).clip(lower=0.0),
            "overpaid_yuan": (paid_yuan - agg["compensation_yuan"]).clip(lower=0.0),
            "overdue": overdue.astype(bool),
            "overdue_months": months.astype("float64"),
            "age_band": classify_age_band(months, bands=age_bands),
            "origins": [agg_origins.get(k, []) for k in ids],
            "payment_origins": [pay_origins.get(k, []) for k in ids],
        }
    )
    return out.reset_index(drop=True)


def _consolidated_agreements(
    a: pd.DataFrame, payment_term_days: int
) -> tuple[pd.DataFrame, pd.Series]:
    """One row per ``agreement_id`` with its due date (the policy's term where none is given).

    Returns the consolidated frame (indexed by ``agreement_id``) and a mask of the agreements
    whose due date came from the term.
    """
    if a["agreement_id"].duplicated().any():
        log.warning(
            "duplicate agreement_id in agreements (%s): consolidated",
            ", ".join(a.loc[a["agreement_id"].duplicated(), "agreement_id"].unique()[:5]),
        )
    agg = a.groupby("agreement_id", sort=False).agg(
        project_id=("project_id", "first"),
        site_id=("site_id", "first"),
        signed_date=("signed_date", "min"),
        payment_due_date=("payment_due_date", "min"),
        compensation_yuan=("compensation_yuan", "sum"),
    )
    # the policy's term applies only where the ledger gives no due date (the one place it does)
    from_term = agg["payment_due_date"].isna()
    agg["payment_due_date"] = agg["payment_due_date"].fillna(
        agg["signed_date"] + pd.Timedelta(days=int(payment_term_days))
    )
    if from_term.any():
        log.info(
            "payment_term_days=%d applied to %d agreements without payment_due_date",
            int(payment_term_days),
            int(from_term.sum()),
        )
    return agg, from_term


def _compensation_paid(
    p: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp
) -> tuple[pd.Series, dict[str, list[str]]]:
    """补偿款 paid by ``as_of`` per agreement of ``ids``, and the payments' origins."""
    comp = p.loc[p["kind"].eq(KIND_COMPENSATION) & p["date"].le(as_of)]
    tied = comp["agreement_id"].isin(ids)
    if (~tied).any():
        log.info(
            "%d compensation payments (%.2f yuan) to %s are tied to no agreement signed by %s",
            int((~tied).sum()),
            float(comp.loc[~tied, "amount_yuan"].sum()),
            "unknown or missing agreement_id",
            as_of.date(),
        )
    comp = comp.loc[tied]
    return comp.groupby("agreement_id")["amount_yuan"].sum(), origins_by(comp, "agreement_id")


def gap_values(b: pd.DataFrame) -> dict[str, Any]:
    od = b.loc[b["overdue"]]
    return {
        "agreements_count": len(b),
        "signed_agreements_yuan": total(b["compensation_yuan"]),
        "paid_compensation_yuan": total(b["paid_yuan"]),
        "unpaid_gap_yuan": total(b["unpaid_yuan"]),
        "overdue_unpaid_yuan": total(od["unpaid_yuan"]),
        "origins": flatten_origins(b["origins"], b["payment_origins"]),
    }


def project_attributes(projects: pd.DataFrame | None) -> pd.DataFrame:
    """project_id → latest non-missing project_name, zone, category."""
    p = conform_table(projects, "projects").sort_values("year", kind="stable")
    return p.groupby("project_id").agg(
        project_name=("project_name", "last"),
        zone=("zone", "last"),
        category=("category", "last"),
    )


def aggregate_by(
    rows: pd.DataFrame,
    attrs: pd.DataFrame,
    *,
    link: str,
    key: str,
    values: Callable[[pd.DataFrame], dict[str, Any]],
    columns: Sequence[str],
) -> pd.DataFrame:
    """One row per value of ``key`` (片区 in their canonical order first, a missing value last).

    ``rows`` are labelled through ``rows[link]`` with every column of ``attrs`` (indexed by the
    ``link`` values); ``key`` is ``link`` itself (by project / site, the first row's attributes
    beside it) or one of those attributes (by 片区). ``values(group)`` gives the figures.
    """
    labelled = rows.assign(**{c: rows[link].map(attrs[c]) for c in attrs.columns})
    groups = dict(iter(labelled.groupby(key, dropna=False, sort=False)))
    front = [key, *attrs.columns] if key == link else [key]
    records = [
        {**{c: groups[k][c].iloc[0] for c in front}, **values(groups[k])}
        for k in ordered_groups(groups, ZONE_NAMES if key == "zone" else ())
    ]
    out = pd.DataFrame(records, columns=[*front, *columns])
    return out.astype(dict.fromkeys(front, "str"))


GAP_COLUMNS = [
    "agreements_count",
    "signed_agreements_yuan",
    "paid_compensation_yuan",
    "unpaid_gap_yuan",
    "overdue_unpaid_yuan",
    "origins",
]


def aggregate_gap(
    balances: pd.DataFrame, attrs: pd.DataFrame, by: Literal["project", "zone"] | None
) -> pd.DataFrame:
    if by is None:
        return pd.DataFrame([gap_values(balances)], columns=GAP_COLUMNS)
    return aggregate_by(
        balances,
        attrs[["project_name", "zone"]],
        link="project_id",
        key="project_id" if by == "project" else "zone",
        values=gap_values,
        columns=GAP_COLUMNS,
    )


def compute_unpaid_gap(
    agreements: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of,
    by: Literal["project", "zone"] | None = None,
    projects: pd.DataFrame | None = None,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
) -> pd.DataFrame:
    """The signed-but-unpaid gap (已签协议待付款缺口), overall or by project / 片区.

    Parameters
    ----------
    agreements, payments
        Canonical tables (not modified).
    as_of
        Reporting date.
    by
        ``None`` (one row), ``"project"`` (by ``project_id``, with ``project_name`` and ``zone``
        from ``projects``) or ``"zone"`` (片区 of the agreement's project, from ``projects``).
    projects
        Canonical ``projects`` table, for names and 片区 (required for ``by="zone"``).
    payment_term_days
        Default payment term (days after signing) where ``payment_due_date`` is missing.

    Returns
    -------
    pandas.DataFrame
        ``agreements_count``, ``signed_agreements_yuan``, ``paid_compensation_yuan``,
        ``unpaid_gap_yuan`` (Σ per-agreement clipped gaps), ``overdue_unpaid_yuan`` and ``origins``
        per group (missing group values are NA, last).
    """
    if by is not None:
        check_choice(by, ("project", "zone"), "by")
    if by == "zone" and projects is None:
        raise ParameterError("by='zone' needs the projects table (片区 comes from the project)")
    balances = compute_agreement_balances(
        agreements, payments, as_of=as_of, payment_term_days=payment_term_days
    )
    return aggregate_gap(balances, project_attributes(projects), by)


def aggregate_overdue_by_age(balances: pd.DataFrame, bands: Sequence[float]) -> pd.DataFrame:
    od = balances.loc[balances["overdue"]]
    records = []
    for label in age_band_labels(bands):
        g = od.loc[od["age_band"].astype("str").eq(label)]
        records.append(
            {
                "age_band": label,
                "overdue_unpaid_yuan": total(g["unpaid_yuan"]),
                "agreements_count": int(g["unpaid_yuan"].gt(0).sum()),
                "origins": flatten_origins(g["origins"], g["payment_origins"]),
            }
        )
    cols = ["age_band", "overdue_unpaid_yuan", "agreements_count", "origins"]
    return pd.DataFrame(records, columns=cols).astype({"age_band": "str"})


def compute_overdue_by_age(
    agreements: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS,
) -> pd.DataFrame:
    """``overdue_unpaid_yuan`` split by how long the due date has passed.

    Parameters
    ----------
    agreements, payments
        Canonical tables (not modified).
    as_of
        Reporting date.
    payment_term_days
        Default payment term where ``payment_due_date`` is missing.
    age_bands
        Lower bounds in duration months (days / 30.4375), lower bound inclusive: exactly 3.0 months
        falls in 3–6.

    Returns
    -------
    pandas.DataFrame
        One row per band (every band, zeros included): ``age_band``, ``overdue_unpaid_yuan``,
        ``agreements_count`` (overdue agreements with a positive gap) and ``origins``.
    """
    balances = compute_agreement_balances(
        agreements, payments, as_of=as_of, payment_term_days=payment_term_days, age_bands=age_bands
    )
    return aggregate_overdue_by_age(balances, age_bands)


# --------------------------------------------------------------------------------------------------
# builders of the figure registry (figures/registry.py)


def build_signed_agreements_yuan(a: Analysis, fig: Figure) -> Value:
    """Σ compensation of the agreements signed by ``as_of``."""
    return Value(total(a.balances["compensation_yuan"]), flatten_origins(a.balances["origins"]))


def build_paid_compensation_yuan(a: Analysis, fig: Figure) -> Value:
    """Σ 补偿款 paid to those agreements by ``as_of``."""
    b = a.balances
    return Value(total(b["paid_yuan"]), flatten_origins(b["payment_origins"]))


def build_unpaid_gap_yuan(a: Analysis, fig: Figure) -> Value:
    """Σ per agreement of max(compensation − paid, 0) (已签协议待付款缺口)."""
    b = a.balances
    return Value(total(b["unpaid_yuan"]), flatten_origins(b["origins"], b["payment_origins"]))


def build_overdue_unpaid_yuan(a: Analysis, fig: Figure) -> Value:
    """The unpaid gap of agreements whose due date is before ``as_of``."""
    od = a.balances.loc[a.balances["overdue"]]
    return Value(total(od["unpaid_yuan"]), flatten_origins(od["origins"], od["payment_origins"]))


def build_overdue_unpaid_by_age(a: Analysis, fig: Figure) -> list[Value]:
    """The overdue gap per age band of the policy."""
    by_age = aggregate_overdue_by_age(a.balances, a.policy.age_bands_months)
    return [
        Value(row["overdue_unpaid_yuan"], row["origins"], scope=row["age_band"], group="age_band")
        for _, row in by_age.iterrows()
    ]


def _funds_received(a: Analysis) -> pd.DataFrame:
    funding = a.tables["funding"]
    return funding.loc[funding["date"].le(a.as_of)]


def _paid_by_as_of(a: Analysis) -> pd.DataFrame:
    payments = a.tables["payments"]
    return payments.loc[payments["date"].le(a.as_of)]


def build_funds_received_yuan(a: Analysis, fig: Figure) -> Value:
    """Σ inflows dated by ``as_of``."""
    fund = _funds_received(a)
    return Value(total(fund["amount_yuan"]), fund["origin"])


def build_total_paid_yuan(a: Analysis, fig: Figure) -> Value:
    """Σ payments of every kind dated by ``as_of``."""
    paid = _paid_by_as_of(a)
    return Value(total(paid["amount_yuan"]), paid["origin"])


def build_cash_balance_yuan(a: Analysis, fig: Figure) -> Value:
    """Funds received − total paid."""
    fund, paid = _funds_received(a), _paid_by_as_of(a)
    balance = total(fund["amount_yuan"]) - total(paid["amount_yuan"])
    return Value(balance, [*fund["origin"], *paid["origin"]])


def _funds_required(a: Analysis) -> tuple[float, list[str]]:
    required = total(a.balances["compensation_yuan"]) + total(a.households["accrued_yuan"])
    return required, flatten_origins(a.balances["origins"], a.households["origin"])


def build_funds_required_yuan(a: Analysis, fig: Figure) -> Value:
    """Signed compensation + accrued transitional fees."""
    required, origins = _funds_required(a)
    return Value(required, origins)


def build_funds_in_place_ratio(a: Analysis, fig: Figure) -> Value:
    """Funds received ÷ (signed compensation + accrued transitional fees)."""
    fund = _funds_received(a)
    required, origins = _funds_required(a)
    return Value(safe_ratio(total(fund["amount_yuan"]), required), [*fund["origin"], *origins])


def build_unpaid_gap_by_project(a: Analysis) -> dict[str, dict[str, Any]]:
    """``unpaid_gap_by_project``: signed, paid, unpaid, overdue per project."""
    attrs = project_attributes(a.tables["projects"])
    return frame_to_nested(aggregate_gap(a.balances, attrs, "project"), "project_id")


def build_unpaid_gap_by_zone(a: Analysis) -> dict[str, dict[str, Any]]:
    """``unpaid_gap_by_zone``: the same per 片区."""
    attrs = project_attributes(a.tables["projects"])
    return frame_to_nested(aggregate_gap(a.balances, attrs, "zone"), "zone")
