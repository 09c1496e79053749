"""The month's dispatch (一月一调度): what moved this month, the lists to act on, forecast drift.

The monthly meeting asks four things of the ledgers as known at a month's last day:

* the key figures at month-end beside last month's and the year's start (:func:`month_key_figures`,
  the registry's annual definitions at each date, differenced by
  :func:`~.year.key_figure_changes`);
* what moved this month (:func:`month_movements`): rows dated within the month only;
* the lists to act on: overdue agreements (:func:`overdue_agreements`,
  :func:`overdue_by_age_band`), overdue sites (:func:`overdue_sites`), blocked land
  (:func:`blocked_projects`), households whose fees went into arrears this month
  (:func:`new_fee_arrears`) — each item with its project, 片区 and ``origin``, never personal data;
* how the forecasts moved since last month (:func:`delivery_drift`, :func:`gap_drift`), with a
  plain-words reason when one moved much (:data:`DRIFT_DELIVERY_MONTHS`, :data:`DRIFT_GAP_SHARE`,
  :data:`DRIFT_GAP_MIN_YUAN`).

Every definition is in ``docs/dispatch.md``. The frames are built from the frames an
:class:`~.context.Analysis` already computes (agreement balances, household fees, site status,
the forecasts); nothing here re-defines a figure of the registry.

>>> now = Analysis(tables, year=2021, as_of="2021-06-30")          # doctest: +SKIP
>>> month_movements(now)                                           # doctest: +SKIP
>>> delivery_drift(now, last_month_analysis(now))                  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ..formatting import fmt_count, fmt_date_zh, fmt_months, fmt_yuan_prose
from ..periods import Period, duration_months
from ..schemas import PAYMENTS
from ..settings import DEFAULT_POLICY, Policy, resolve_as_of
from .common import flatten_origins
from .context import Analysis, provided_ledgers
from .fees import compute_transition_fees
from .funding import age_band_labels, age_band_labels_zh, project_attributes
from .registry import FIGURES
from .vintage import cut_tables_at
from .year import key_figure_changes

__all__ = [
    "DRIFT_DELIVERY_MONTHS",
    "DRIFT_DELIVERY_P90_MONTHS",
    "DRIFT_GAP_MIN_YUAN",
    "DRIFT_GAP_SHARE",
    "FEE_ARREARS_MIN_YUAN",
    "MOVEMENT_COLUMNS",
    "blocked_projects",
    "delivery_drift",
    "describe_months",
    "dispatch_definitions",
    "drift_statement",
    "gap_drift",
    "last_month_analysis",
    "month_key_figures",
    "month_movements",
    "month_of",
    "movements_statement",
    "new_fee_arrears",
    "overdue_agreements",
    "overdue_by_age_band",
    "overdue_sites",
    "year_start_analysis",
]

log = logging.getLogger(__name__)

#: A site's forecast "moved much" when its P50 date moved by this many months or more …
DRIFT_DELIVERY_MONTHS = 3.0
#: … or its P90 date by this many (the far tail moves several months whenever a month passes
#: without delivery: only a larger move is news).
DRIFT_DELIVERY_P90_MONTHS = 12.0
#: The funding gap "moved much" when its P50 moved by this share of last month's P50 (absolute) …
DRIFT_GAP_SHARE = 0.10
#: … and by at least this many yuan (100万元), so that a small gap's noise is not called a move.
DRIFT_GAP_MIN_YUAN = 1_000_000.0
#: A household "is in arrears" when accrued − paid exceeds this (half a 分: float noise is not).
FEE_ARREARS_MIN_YUAN = 0.005

#: The columns of :func:`month_movements`.
MOVEMENT_COLUMNS = ["item", "label", "count", "count_unit", "amount_yuan", "detail", "origins"]


# ------------------------------------------------------------------------------------- periods
def month_of(as_of) -> Period:
    """The month a reporting date falls in, as a month :class:`~..periods.Period`.

    Parameters
    ----------
    as_of
        A date (``Timestamp``, ``date`` or ``"2021-06-30"``); December 31 is December (a month
        here, never the year).

    Returns
    -------
    Period
        ``Period.month_end(year, month)`` of ``as_of``.
    """
    ts = resolve_as_of(as_of)
    return Period.month_end(ts.year, ts.month)


def _window(as_of: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """(first day of the month, ``as_of``, last day of the month before)."""
    start = as_of.replace(day=1)
    return start, as_of, start - pd.Timedelta(days=1)


def _in_month(dates: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    start, end, _ = _window(as_of)
    return dates.between(start, end).fillna(False).astype(bool)


@lru_cache(maxsize=4)
def last_month_analysis(analysis: Analysis) -> Analysis | None:
    """The analysis at the end of the month before ``analysis.as_of``, with the same settings.

    Parameters
    ----------
    analysis
        This month's context (not modified).

    Returns
    -------
    Analysis or None
        At the last day of the month before (for January: 31 December of the year before), the
        same policy, seed, horizon, paths and scenarios, so last month's forecast is the one last
        month's run made; ``None`` when the ledgers have no row in that period. Cached per
        analysis (the page's tables and the Word brief share it).
    """
    _, _, before = _window(analysis.as_of)
    return analysis.at(before)


@lru_cache(maxsize=4)
def year_start_analysis(analysis: Analysis) -> Analysis | None:
    """The analysis at 31 December of the year before ``analysis.as_of`` (same settings).

    ``None`` when the ledgers have no row in that year. Cached per analysis.
    """
    return analysis.at(pd.Timestamp(analysis.as_of.year - 1, 12, 31))


# --------------------------------------------------------------------------------- key figures
def month_key_figures(
    now: Analysis, last_month: Analysis | None, year_start: Analysis | None
) -> pd.DataFrame:
    """The registry's headline figures at month-end, with their changes.

    Parameters
    ----------
    now, last_month, year_start
        The contexts at this month's end, last month's end and the year's start (31 December of
        the year before); ``None`` where the ledgers have no row then. Not modified.

    Returns
    -------
    pandas.DataFrame
        One row per headline figure of the registry, in its order: ``name``, ``label`` (Chinese,
        with the unit readers see), ``unit`` (the figure's unit: ``yuan``, ``mu``, ``m2``,
        ``count``, ``ratio``, ``month``), ``now`` (in that unit; NaN when not available),
        ``change_since_last_month`` and ``change_since_year_start`` (``now − before`` in the same
        unit, a ratio's change as a difference of ratios; NaN where either value is missing):
        the same numbers as the ``change_since_*`` of a month's ``key_figures.json``
        (:func:`~.year.compute_period_figures`).
    """
    figs = now.key_figures(forecasts=False)
    month = key_figure_changes(
        figs, None if last_month is None else last_month.key_figures(forecasts=False)
    )
    year = key_figure_changes(
        figs, None if year_start is None else year_start.key_figures(forecasts=False)
    )
    rows = []
    for f in FIGURES:
        if not f.headline:
            continue
        value = figs.get(f.name)
        rows.append(
            {
                "name": f.name,
                "label": f.label_with_unit,
                "unit": f.unit,
                "now": _number(value),
                "change_since_last_month": _number(month.get(f.name)),
                "change_since_year_start": _number(year.get(f.name)),
            }
        )
    cols = ["name", "label", "unit", "now", "change_since_last_month", "change_since_year_start"]
    return pd.DataFrame(rows, columns=cols)


def _number(v: Any) -> float:
    if v is None or isinstance(v, bool) or not isinstance(v, int | float):
        return float("nan")
    return float(v)


# ------------------------------------------------------------------------------- movements
def _tables_and_provided(
    source: Analysis | Mapping[str, pd.DataFrame], as_of: pd.Timestamp
) -> tuple[dict[str, pd.DataFrame], dict[str, bool]]:
    if isinstance(source, Analysis):
        return cut_tables_at(source.tables, as_of), dict(source.provided)
    return cut_tables_at(source, as_of), provided_ledgers(source)


def _payment_kinds(kinds: pd.Series) -> list[str]:
    """The payment kinds to list: the schema's canonical ones always, then others as written."""
    canonical = list(dict.fromkeys(PAYMENTS.column("kind").values.values()))
    others = sorted(set(kinds.dropna().astype(str)) - set(canonical))
    return [*canonical, *others]


def month_movements(
    source: Analysis | Mapping[str, pd.DataFrame], *, period: Period | None = None
) -> pd.DataFrame:
    """What moved in a month: rows of the ledgers dated within it, counted and summed.

    Parameters
    ----------
    source
        An :class:`~.context.Analysis` (its tables, as known at its ``as_of``) or the canonical
        tables. Not modified.
    period
        The month (default: the month of ``source.as_of``; required with tables). Rows dated
        from its first day to its ``as_of`` count; a row dated after ``as_of`` never does.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MOVEMENT_COLUMNS`, one row per item in this order:
        ``agreements_signed`` (agreements with ``signed_date`` in the month: count of agreement
        numbers, 份; ``amount_yuan`` Σ compensation, yuan); ``payments:<kind>`` for every payment
        kind (补偿款, 过渡安置费, 工作经费 always, other kinds as written when present: count of
        payments, 笔; Σ amount); ``funds_received`` (inflows, 笔; Σ amount);
        ``transition_entered`` (households whose transition started, 户); ``transition_left``
        (households whose transition ended, 户); ``sites_delivered`` (sites with
        ``delivered_date`` in the month, 个; ``detail``: their names). ``amount_yuan`` is NaN for
        the counts without money; ``count`` and ``amount_yuan`` are NaN when the ledger was not
        provided (not a zero). ``origins``: the ledger rows counted.
    """
    if period is None:
        if not isinstance(source, Analysis):
            raise TypeError("month_movements(tables) needs period=")
        period = month_of(source.as_of)
    as_of = period.as_of
    t, provided = _tables_and_provided(source, as_of)
    rows: list[dict[str, Any]] = []

    def add(item, label, ledger, df, unit, *, count=None, amount=None, detail="") -> None:
        known = provided.get(ledger, False)
        rows.append(
            {
                "item": item,
                "label": label,
                "count": float(len(df) if count is None else count) if known else np.nan,
                "count_unit": unit,
                "amount_yuan": (float(df[amount].sum()) if amount else np.nan) if known else np.nan,
                "detail": detail,
                "origins": flatten_origins(df["origin"]),
            }
        )

    agr = t["agreements"].loc[_in_month(t["agreements"]["signed_date"], as_of)]
    add(
        "agreements_signed",
        "新签补偿协议",
        "agreements",
        agr,
        "份",
        count=agr["agreement_id"].nunique(),
        amount="compensation_yuan",
    )
    pay = t["payments"].loc[_in_month(t["payments"]["date"], as_of)]
    for kind in _payment_kinds(pay["kind"]):  # the canonical kinds with their zeros
        sub = pay.loc[pay["kind"].eq(kind)]
        add(f"payments:{kind}", f"支付{kind}", "payments", sub, "笔", amount="amount_yuan")
    fund = t["funding"].loc[_in_month(t["funding"]["date"], as_of)]
    add("funds_received", "征拆资金到位", "funding", fund, "笔", amount="amount_yuan")
    tr = t["transition"]
    entered = tr.loc[_in_month(tr["start_date"], as_of)]
    left = tr.loc[_in_month(tr["end_date"], as_of)]
    add(
        "transition_entered",
        "新进入过渡安置",
        "transition",
        entered,
        "户",
        count=entered["agreement_id"].nunique(),
    )
    add(
        "transition_left",
        "结束过渡安置（回迁）",
        "transition",
        left,
        "户",
        count=left["agreement_id"].nunique(),
    )
    sites = t["sites"]
    delivered = sites.loc[_in_month(sites["delivered_date"], as_of)]
    add(
        "sites_delivered",
        "安置区交房",
        "sites",
        delivered,
        "个",
        detail="、".join(delivered["site_name"].dropna().astype(str)),
    )
    out = pd.DataFrame(rows, columns=MOVEMENT_COLUMNS)
    return out.astype({"item": "str", "label": "str", "count_unit": "str", "detail": "str"})


# ---------------------------------------------------------------------------------- the lists
def _attrs(analysis: Analysis) -> pd.DataFrame:
    return project_attributes(analysis.tables["projects"])


def overdue_agreements(analysis: Analysis) -> pd.DataFrame:
    """Agreements overdue and not fully paid at month-end, largest unpaid sum first.

    Parameters
    ----------
    analysis
        The month's context (its :attr:`~.context.Analysis.balances`: overdue means the payment
        due date, the ledger's or signing + the policy's term, is before ``as_of``). Not modified.

    Returns
    -------
    pandas.DataFrame
        One row per agreement with ``overdue`` and ``unpaid_yuan > 0``: ``agreement_id``,
        ``project_id``, ``project_name``, ``zone`` (of its project), ``signed_date``,
        ``payment_due_date``, ``compensation_yuan``, ``paid_yuan``, ``unpaid_yuan`` (yuan),
        ``overdue_months`` (duration months since the due date), ``age_band`` and
        ``age_band_zh`` (the policy's bands), ``new_this_month`` (not on this list at last
        month's end: due on or after that day, or signed after it) and ``origin`` (the
        agreement's ledger row). Sorted by ``unpaid_yuan`` descending, then agreement number.
    """
    b = analysis.balances
    od = b.loc[b["overdue"] & b["unpaid_yuan"].gt(0)]
    _, _, before = _window(analysis.as_of)
    attrs = _attrs(analysis)
    labels = dict(
        zip(
            age_band_labels(analysis.policy.age_bands_months),
            age_band_labels_zh(analysis.policy.age_bands_months),
            strict=True,
        )
    )
    out = pd.DataFrame(
        {
            "agreement_id": od["agreement_id"].astype("str"),
            "project_id": od["project_id"],
            "project_name": od["project_id"].map(attrs["project_name"]),
            "zone": od["project_id"].map(attrs["zone"]),
            "signed_date": od["signed_date"],
            "payment_due_date": od["payment_due_date"],
            "compensation_yuan": od["compensation_yuan"],
            "paid_yuan": od["paid_yuan"],
            "unpaid_yuan": od["unpaid_yuan"],
            "overdue_months": od["overdue_months"],
            "age_band": od["age_band"].astype("str"),
            "age_band_zh": od["age_band"].astype("str").map(labels),
            "new_this_month": (
                od["payment_due_date"].ge(before) | od["signed_date"].gt(before)
            ).astype(bool),
            "origin": [o[0] if len(o) else "" for o in od["origins"]],
        }
    )
    out = out.sort_values(["unpaid_yuan", "agreement_id"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def overdue_by_age_band(analysis: Analysis) -> pd.DataFrame:
    """The overdue unpaid compensation by the policy's age bands, with what is new this month.

    Parameters
    ----------
    analysis
        The month's context. Not modified.

    Returns
    -------
    pandas.DataFrame
        One row per band (every band, in the policy's order, zeros included): ``age_band``,
        ``age_band_zh``, ``agreements_count`` and ``overdue_unpaid_yuan`` (the funding page's
        figures, :meth:`~.context.Analysis.overdue_by_age`), ``new_count`` and
        ``new_unpaid_yuan`` (of them, the agreements that became overdue this month:
        :func:`overdue_agreements` ``new_this_month``) and ``origins``.
    """
    bands = analysis.policy.age_bands_months
    by_age = analysis.overdue_by_age().assign(age_band_zh=age_band_labels_zh(bands))
    items = overdue_agreements(analysis)
    new = items.loc[items["new_this_month"]].groupby("age_band")
    counts = new["agreement_id"].nunique()
    sums = new["unpaid_yuan"].sum()
    out = by_age.assign(
        new_count=by_age["age_band"].map(counts).fillna(0).astype("int64"),
        new_unpaid_yuan=by_age["age_band"].map(sums).fillna(0.0).astype("float64"),
    )
    cols = [
        "age_band",
        "age_band_zh",
        "agreements_count",
        "overdue_unpaid_yuan",
        "new_count",
        "new_unpaid_yuan",
        "origins",
    ]
    return out[cols].reset_index(drop=True)


def overdue_sites(analysis: Analysis) -> pd.DataFrame:
    """Sites past their promised date and not delivered at month-end, longest late first.

    Parameters
    ----------
    analysis
        The month's context (its :attr:`~.context.Analysis.site_status`). Not modified.

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``site_name``, ``zone``, ``start_date``, ``promised_date``, ``late_months``
        (duration months from the promised date to ``as_of``), ``households_waiting``,
        ``units``, ``new_this_month`` (promised date on or after last month's end: it became
        overdue this month) and ``origin``; sorted by ``late_months`` descending, then name.
    """
    st = analysis.site_status
    od = st.loc[st["overdue"]]
    _, _, before = _window(analysis.as_of)
    out = od.assign(new_this_month=od["promised_date"].ge(before).astype(bool))
    cols = [
        "site_id",
        "site_name",
        "zone",
        "start_date",
        "promised_date",
        "late_months",
        "households_waiting",
        "units",
        "new_this_month",
        "origin",
    ]
    out = out.sort_values(["late_months", "site_name"], ascending=[False, True], kind="stable")
    return out[cols].reset_index(drop=True)


def blocked_projects(analysis: Analysis) -> pd.DataFrame:
    """Projects of the reporting year with blocked land (卡点), largest blocked area first.

    Parameters
    ----------
    analysis
        The month's context (its projects ledger; the year's rows with a ``blocker``, as the
        registry's blocked-area figures count them). Not modified.

    Returns
    -------
    pandas.DataFrame
        ``project_id``, ``project_name``, ``zone``, ``category``, ``blocker`` (its type),
        ``blocked_mu`` (亩), ``land_target_mu``, ``land_done_mu`` and ``origin``; sorted by
        ``blocked_mu`` descending (a missing area last), then name.
    """
    p = analysis.tables["projects"]
    chosen = p.loc[p["year"].eq(analysis.year).fillna(False) & p["blocker"].notna()]
    cols = [
        "project_id",
        "project_name",
        "zone",
        "category",
        "blocker",
        "blocked_mu",
        "land_target_mu",
        "land_done_mu",
        "origin",
    ]
    out = chosen.sort_values(
        ["blocked_mu", "project_name"], ascending=[False, True], kind="stable", na_position="last"
    )
    return out[cols].reset_index(drop=True)


def new_fee_arrears(analysis: Analysis) -> pd.DataFrame:
    """Households whose transitional fees went into arrears this month.

    Parameters
    ----------
    analysis
        The month's context. Not modified. The households' fees at last month's end are
        computed with the same function and policy as :attr:`~.context.Analysis.households`.

    Returns
    -------
    pandas.DataFrame
        One row per household (known by its agreement number, as in the transition ledger;
        never a name) in arrears at month-end (accrued − paid > :data:`FEE_ARREARS_MIN_YUAN`)
        and not at last month's end (not yet in transition then, or accrued − paid within
        :data:`FEE_ARREARS_MIN_YUAN`): ``agreement_id``, ``site_id``, ``site_name``, ``zone``
        (of its site), ``project_id``, ``project_name`` (of its agreement's project, when the
        agreements ledger has it), ``start_date``, ``fee_months``, ``overdue_fee_months``,
        ``arrears_yuan`` (yuan, at month-end), ``monthly_yuan`` and ``origin``; largest arrears
        first, then agreement number.
    """
    h = analysis.households
    _, _, before = _window(analysis.as_of)
    pol = analysis.policy
    prev = compute_transition_fees(
        analysis.tables["transition"],
        analysis.tables["payments"],
        as_of=before,
        sites=analysis.tables["sites"],
        escalation=pol.escalation,
        default_transition_months=pol.default_transition_months,
    )
    prev_arrears = prev.groupby("agreement_id")["arrears_yuan"].sum()
    now_arrears = h.groupby("agreement_id", sort=False)["arrears_yuan"].sum()
    was = now_arrears.index.map(prev_arrears).to_series(index=now_arrears.index).fillna(0.0)
    new_ids = now_arrears.index[
        now_arrears.gt(FEE_ARREARS_MIN_YUAN) & ~was.astype("float64").gt(FEE_ARREARS_MIN_YUAN)
    ]
    first = h.loc[~h["agreement_id"].duplicated() & h["agreement_id"].isin(new_ids)]
    sites = analysis.tables["sites"].drop_duplicates("site_id").set_index("site_id")
    agr = analysis.tables["agreements"].drop_duplicates("agreement_id").set_index("agreement_id")
    attrs = _attrs(analysis)
    project = first["agreement_id"].map(agr["project_id"])
    out = pd.DataFrame(
        {
            "agreement_id": first["agreement_id"].astype("str"),
            "site_id": first["site_id"],
            "site_name": first["site_id"].map(sites["site_name"]),
            "zone": first["site_id"].map(sites["zone"]),
            "project_id": project,
            "project_name": project.map(attrs["project_name"]),
            "start_date": first["start_date"],
            "fee_months": first["fee_months"],
            "overdue_fee_months": first["overdue_fee_months"],
            "arrears_yuan": first["agreement_id"].map(now_arrears).astype("float64"),
            "monthly_yuan": first["monthly_yuan"],
            "origin": first["origin"],
        }
    )
    out = out.sort_values(["arrears_yuan", "agreement_id"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------ forecast drift
def _months_moved(before: pd.Series, now: pd.Series) -> pd.Series:
    """Signed duration months from ``before`` to ``now`` (positive: later)."""
    moved = duration_months(before, now)
    back = duration_months(now, before)
    return moved.where(now.ge(before), -back)


def delivery_drift(now: Analysis, last_month: Analysis | None) -> pd.DataFrame:
    """This month's P50/P90 delivery date of each site beside last month's, with the reason.

    Parameters
    ----------
    now, last_month
        The contexts at this month's and last month's end (same settings: see
        :func:`last_month_analysis`); ``last_month`` ``None`` when there was nothing then. Their
        delivery forecasts are run here when not yet run (a few seconds each). Not modified.

    Returns
    -------
    pandas.DataFrame
        One row per site forecast now or last month: ``site_id``, ``site_name``, ``zone``,
        ``p50_date``, ``p90_date`` (this month; NaT when no longer forecast),
        ``p50_date_before``, ``p90_date_before`` (last month's; NaT when not forecast then),
        ``p50_change_months``, ``p90_change_months`` (signed duration months, positive = later),
        ``moved`` (delivered or started this month, or the P50 moved by
        :data:`DRIFT_DELIVERY_MONTHS` or more, or the P90 by :data:`DRIFT_DELIVERY_P90_MONTHS`),
        ``reason`` (plain Chinese words; empty when it did not move much) and ``origin`` (the site's ledger row). Sites in this month's
        forecast order, then those no longer forecast.
    """
    cur = now.delivery_forecast.summary
    prev = last_month.delivery_forecast.summary if last_month is not None else cur.iloc[0:0]
    start, as_of, _ = _window(now.as_of)
    sites = now.tables["sites"].drop_duplicates("site_id").set_index("site_id")
    keep = ["site_id", "site_name", "zone", "p50_date", "p90_date"]
    merged = cur[keep].merge(
        prev[["site_id", "p50_date", "p90_date"]].rename(
            columns={"p50_date": "p50_date_before", "p90_date": "p90_date_before"}
        ),
        on="site_id",
        how="outer",
        sort=False,
        indicator=True,
    )
    order = {s: i for i, s in enumerate(cur["site_id"])}
    merged = merged.assign(_order=merged["site_id"].map(order).fillna(len(order)))
    merged = merged.sort_values(["_order", "site_id"], kind="stable").reset_index(drop=True)
    merged["site_name"] = merged["site_name"].fillna(merged["site_id"].map(sites["site_name"]))
    merged["zone"] = merged["zone"].fillna(merged["site_id"].map(sites["zone"]))
    delivered_at = merged["site_id"].map(sites["delivered_date"])
    started_at = merged["site_id"].map(sites["start_date"])
    d50 = _months_moved(merged["p50_date_before"], merged["p50_date"])
    d90 = _months_moved(merged["p90_date_before"], merged["p90_date"])
    delivered_now = sites.loc[_in_month(sites["delivered_date"], as_of)]
    others = "、".join(delivered_now["site_name"].dropna().astype(str))
    reasons, moved = [], []
    for i, row in merged.iterrows():
        big = bool(
            (pd.notna(d50[i]) and abs(d50[i]) >= DRIFT_DELIVERY_MONTHS)
            or (pd.notna(d90[i]) and abs(d90[i]) >= DRIFT_DELIVERY_P90_MONTHS)
        )
        if row["_merge"] == "right_only":
            when = delivered_at[i]
            if pd.notna(when) and start <= when <= as_of:
                reasons.append(f"本月已交房（{fmt_date_zh(when)}），不再预测")
            else:
                reasons.append("本月不再列入预测")
            moved.append(True)
        elif row["_merge"] == "left_only" and last_month is not None:
            s = started_at[i]
            first = "本月开工，首次预测" if pd.notna(s) and start <= s <= as_of else "首次纳入预测"
            reasons.append(first)
            moved.append(True)
        elif big:
            step = d50[i] if pd.notna(d50[i]) and abs(d50[i]) >= DRIFT_DELIVERY_MONTHS else d90[i]
            direction = "推迟" if step > 0 else "提前"
            if len(delivered_now):
                why = f"本月{others}交房，交付周期模型据此重新估计，预计交付时间{direction}"
            else:
                why = f"本月仍未交房，按已建设时长重新推算，预计交付时间{direction}"
            reasons.append(why)
            moved.append(True)
        else:
            reasons.append("")
            moved.append(False)
    out = pd.DataFrame(
        {
            "site_id": merged["site_id"].astype("str"),
            "site_name": merged["site_name"],
            "zone": merged["zone"],
            "p50_date": merged["p50_date"],
            "p90_date": merged["p90_date"],
            "p50_date_before": merged["p50_date_before"],
            "p90_date_before": merged["p90_date_before"],
            "p50_change_months": d50.astype("float64"),
            "p90_change_months": d90.astype("float64"),
            "moved": pd.Series(moved, index=merged.index, dtype=bool),
            "reason": pd.Series(reasons, index=merged.index, dtype="str"),
            "origin": merged["site_id"].map(sites["origin"]),
        }
    )
    return out.reset_index(drop=True)


def gap_drift(now: Analysis, last_month: Analysis | None) -> pd.DataFrame:
    """The funding gap at the horizon (P50/P90, every scenario) beside last month's forecast.

    Parameters
    ----------
    now, last_month
        As for :func:`delivery_drift`; their gap simulations are run here when not yet run.

    Returns
    -------
    pandas.DataFrame
        One row per scenario of this month's set: ``scenario``, ``description``,
        ``gap_p50_yuan``, ``gap_p90_yuan`` (this month, yuan), ``gap_p50_before_yuan``,
        ``gap_p90_before_yuan`` (last month's, NaN when there was none), ``p50_change_yuan``,
        ``p90_change_yuan``, ``moved`` (the P50 moved by at least :data:`DRIFT_GAP_SHARE` of
        last month's P50 and at least :data:`DRIFT_GAP_MIN_YUAN`), ``reason`` (when moved: the
        month's movements that push the gap that way — funds received and sites delivered
        lower it, agreements signed raise it, no inflow at all leaves it to rise — else empty)
        and ``origins`` (the ledger rows of the movements named). Note that the two horizons end
        a month apart.
    """
    cur = now.gap.summary
    cols = ["scenario", "description", "gap_p50_yuan", "gap_p90_yuan"]
    out = cur[cols].copy()
    if last_month is not None:
        prev = last_month.gap.summary.set_index("scenario")
        out["gap_p50_before_yuan"] = out["scenario"].map(prev["gap_p50_yuan"]).astype("float64")
        out["gap_p90_before_yuan"] = out["scenario"].map(prev["gap_p90_yuan"]).astype("float64")
    else:
        out["gap_p50_before_yuan"] = np.nan
        out["gap_p90_before_yuan"] = np.nan
    out["p50_change_yuan"] = out["gap_p50_yuan"] - out["gap_p50_before_yuan"]
    out["p90_change_yuan"] = out["gap_p90_yuan"] - out["gap_p90_before_yuan"]
    limit = np.maximum(out["gap_p50_before_yuan"].abs() * DRIFT_GAP_SHARE, DRIFT_GAP_MIN_YUAN)
    out["moved"] = (out["p50_change_yuan"].abs() >= limit).fillna(False).astype(bool)
    mv = month_movements(now).set_index("item")
    reasons: list[str] = []
    origins: list[list[str]] = []
    for change, moved in zip(out["p50_change_yuan"], out["moved"], strict=True):
        if not moved:
            reasons.append("")
            origins.append([])
            continue
        words, rows = _gap_reason(mv, float(change))
        reasons.append(words)
        origins.append(rows)
    out["reason"] = pd.Series(reasons, index=out.index, dtype="str")
    out["origins"] = origins
    return out.reset_index(drop=True)


def _gap_reason(mv: pd.DataFrame, change: float) -> tuple[str, list[str]]:
    """Plain words for a gap that moved by ``change`` yuan, from the month's movements."""
    parts: list[str] = []
    rows: list[str] = []

    def val(item: str, col: str) -> float:
        v = mv.at[item, col] if item in mv.index else np.nan
        return 0.0 if pd.isna(v) else float(v)

    funds, signed_n = val("funds_received", "amount_yuan"), val("agreements_signed", "count")
    delivered = val("sites_delivered", "count")
    if change < 0:
        if funds > 0:
            parts.append(f"本月到位资金{fmt_yuan_prose(funds)}")
            rows += list(mv.at["funds_received", "origins"])
        if delivered > 0:
            parts.append(f"{fmt_count(delivered)}个安置区交房，过渡安置费随之减少")
            rows += list(mv.at["sites_delivered", "origins"])
        head = "缺口缩小"
    else:
        if signed_n > 0:
            amount = fmt_yuan_prose(val("agreements_signed", "amount_yuan"))
            parts.append(f"本月新签协议{fmt_count(signed_n)}份、{amount}")
            rows += list(mv.at["agreements_signed", "origins"])
        if (
            "funds_received" in mv.index
            and pd.notna(mv.at["funds_received", "count"])
            and funds == 0
        ):
            parts.append("本月没有资金到位")
        head = "缺口扩大"
    if not parts:
        return f"{head}：按本月台账重新模拟资金到位与支出", rows
    return f"{head}：{'；'.join(parts)}", rows


def describe_months(months: float) -> str:
    """A signed change in months as words: ``推迟3.2个月``, ``提前1.0个月``, ``—``."""
    if months is None or pd.isna(months):
        return "—"
    return ("推迟" if months > 0 else "提前") + fmt_months(abs(months))


# ----------------------------------------------------------------------------------- sentences
def movements_statement(movements: pd.DataFrame, period: Period) -> str:
    """What moved this month in one paragraph of plain Chinese.

    Parameters
    ----------
    movements
        :func:`month_movements` of the month (not modified).
    period
        The month (its label opens the sentence).

    Returns
    -------
    str
        ``2021年6月，新签补偿协议61份、3,391.11万元；支付补偿款86笔、2,582.82万元；…``: every item
        in :data:`MOVEMENT_COLUMNS` order (a payment kind without payments this month left out),
        money in 万元/亿元 (:func:`~..formatting.fmt_yuan_prose`), a ledger not provided said as
        such, the delivered sites named.
    """
    parts = []
    for row in movements.itertuples(index=False):
        if pd.isna(row.count):
            parts.append(f"{row.label}：台账未提供")
            continue
        if row.item.startswith("payments:") and row.count == 0:
            continue  # a kind of payment not made this month: nothing to say
        text = f"{row.label}{fmt_count(row.count)}{row.count_unit}"
        if pd.notna(row.amount_yuan) and row.count > 0:
            text += f"、{fmt_yuan_prose(row.amount_yuan)}"
        if row.detail:
            text += f"（{row.detail}）"
        parts.append(text)
    return f"{period.label_zh}，" + "；".join(parts) + "。"


def drift_statement(
    delivery: pd.DataFrame, gap: pd.DataFrame, *, max_sites: int | None = None
) -> str:
    """How the forecasts moved since last month, in one or two plain sentences.

    Parameters
    ----------
    delivery, gap
        :func:`delivery_drift` and :func:`gap_drift` of the month (not modified).
    max_sites
        The short form: name at most this many sites (``等`` when there are more) and say each
        distinct reason once; ``None``: every site with its dates and reason.

    Returns
    -------
    str
        The baseline funding gap's P50 now and last month with its reason when it moved much, and
        the sites whose delivery forecast moved much (delivered, first forecast, or a date moved
        beyond the thresholds) with their reasons; or that no forecast moved much. Empty when
        there is no forecast of last month to compare with.
    """
    out = []
    base = gap.loc[gap["scenario"].eq("baseline")]
    if len(base) and pd.notna(base["gap_p50_before_yuan"].iloc[0]):
        r = base.iloc[0]
        text = (
            f"预测期末资金缺口（基准情景，一半把握）为{fmt_yuan_prose(r['gap_p50_yuan'])}，"
            f"上月预测为{fmt_yuan_prose(r['gap_p50_before_yuan'])}"
        )
        text += f"，{r['reason']}。" if r["moved"] and r["reason"] else "，变化不大。"
        out.append(text)
    had_before = delivery["p50_date_before"].notna().any()
    moved = delivery.loc[delivery["moved"]]
    if had_before and len(moved):
        n = fmt_count(len(moved))
        if max_sites is None:
            items = []
            for r in moved.itertuples(index=False):
                when = ""
                if pd.notna(r.p50_date) and pd.notna(r.p50_date_before):
                    when = f"一半把握交付时间由{_ym(r.p50_date_before)}变为{_ym(r.p50_date)}，"
                items.append(f"{r.site_name}{when}{r.reason}")
            out.append(f"交付预测明显变化的安置区{n}个：" + "；".join(items) + "。")
        else:  # short: a few names, each distinct reason once
            names = "、".join(moved["site_name"].head(max_sites).astype(str))
            names += "等" if len(moved) > max_sites else ""
            reasons = "；".join(dict.fromkeys(moved["reason"].astype(str)))
            out.append(f"交付预测明显变化的安置区{n}个（{names}）：{reasons}。")
    elif had_before:
        out.append("各安置区的预计交付时间与上月预测相比变化不大。")
    return "".join(out)


def _ym(ts) -> str:
    t = pd.Timestamp(ts)
    return f"{t.year}年{t.month}月"


def dispatch_definitions(policy: Policy = DEFAULT_POLICY) -> list[tuple[str, str]]:
    """What each part of the dispatch page means, in Chinese words (the page's 口径 appendix).

    Parameters
    ----------
    policy
        The office's policy: its payment term and age bands are written into the definitions.

    Returns
    -------
    list of (str, str)
        (term, definition) pairs, in page order; the same definitions as ``docs/dispatch.md``.
    """
    bands = "、".join(age_band_labels_zh(policy.age_bands_months))
    return [
        ("本月", "统计截止日所在月份的1日至统计截止日（月末）。"),
        (
            "本月进展",
            (
                "日期在本月内的台账行：协议按签约日期，支付按支付日期（按款项类型分列），资金按到账日期，"
                "过渡安置按过渡开始日期（新进入）和过渡结束日期（回迁），安置区按实际交房日期；"
                "日期在统计截止日之后的行一律不计。"
            ),
        ),
        (
            "逾期未付协议",
            (
                "支付期限早于统计截止日、补偿款尚未付清的协议（台账未写支付期限的，按签约日期加"
                f"{policy.payment_term_days}天）；未付金额为补偿总额减已付补偿款，为负时按0计。"
            ),
        ),
        ("逾期时长", f"从支付期限到统计截止日的月数（每月按30.4375天计），分为{bands}。"),
        (
            "本月新增逾期",
            "本月末在逾期清单上、上月末不在清单上的协议：支付期限在上月末当日或之后，或在上月末之后签订。",
        ),
        (
            "逾期未交付安置区",
            (
                "约定交房日期早于统计截止日、尚未交房的安置区；已逾期月数从约定交房日期算起；"
                "约定交房日期在上月末当日或之后的为本月新增。"
            ),
        ),
        ("卡点项目", "本年度项目台账中写明卡点类型的项目，按卡点面积从大到小排列。"),
        (
            "本月新出现过渡安置费拖欠",
            (
                "本月末拖欠（累计应付过渡安置费减已付，为负时按0计）超过半分钱、而上月末没有拖欠"
                "（或上月末尚未开始过渡）的过渡户，以协议编号标识，不列姓名。"
            ),
        ),
        (
            "预测变化",
            (
                "本月预测与上月末按当时已知台账、同样的种子与设置所作的预测并列。交付预测明显变化："
                f"一半把握的交付时间变化{fmt_months(DRIFT_DELIVERY_MONTHS)}及以上，或九成把握变化"
                f"{fmt_months(DRIFT_DELIVERY_P90_MONTHS)}及以上；安置区本月交房或本月开工也列出。"
                f"资金缺口明显变化：一半把握的缺口变化达上月预测的{DRIFT_GAP_SHARE:.0%}且不少于"
                f"{fmt_yuan_prose(DRIFT_GAP_MIN_YUAN)}。原因按本月进展说明：资金到位和安置区交房使缺口缩小，"
                "新签协议和没有资金到位使缺口扩大。"
            ),
        ),
    ]
