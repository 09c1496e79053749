"""Indicators (指标口径): every non-forecast figure of the spec ``indicators.md``, as defined.

Three layers, all pure (the canonical frames passed in are never modified):

* **per-row frames** — one row per unit the definitions sum over, with the intermediate quantities
  and the ``origin`` of every ledger row that entered it: :func:`compute_agreement_balances` (per
  agreement), :func:`compute_transition_fees` (per household), :func:`compute_site_status` (per
  resettlement site);
* **breakdowns** — tidy frames a report needs: :func:`compute_progress` (overall, by 片区 or 类别),
  :func:`compute_blocked_mu`, :func:`compute_unpaid_gap` (by project or 片区),
  :func:`compute_overdue_by_age`, :func:`compute_transition_fees_by` (by site or 片区),
  :func:`compute_build_time_survival`, :func:`compute_median_build_months`;
* **figures** — :func:`compute_figure_records` (every scalar figure with its unit, 口径 and origins,
  used by the work summary), :func:`compute_key_figures` (the flat, JSON-ready ``key_figures.json``
  content) and :func:`key_figures_json` (deterministic bytes).

Conventions: ``as_of`` is a date (``Timestamp``, ``date`` or ISO string); an event counts when its
date is on or before ``as_of``. Money in yuan, areas in 亩 and m², durations in months. Missing
values are ``NaN`` in frames and ``None`` in the key figures.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..periods import duration_months, months_between
from ..schemas import (
    BLOCKERS,
    CATEGORIES,
    KIND_COMPENSATION,
    KIND_TRANSITION,
    ZONE_NAMES,
    conform_table,
    table_from,
)
from ..settings import (
    DEFAULT_AGE_BANDS_MONTHS,
    DEFAULT_ESCALATION,
    DEFAULT_PAYMENT_TERM_DAYS,
    Escalation,
    resolve_as_of,
)
from .keyfile import json_scalar

__all__ = [
    "NA_GROUP",
    "BuildTimeKM",
    "age_band_labels",
    "age_band_labels_zh",
    "classify_age_band",
    "compute_agreement_balances",
    "compute_blocked_mu",
    "compute_build_time_survival",
    "compute_figure_records",
    "compute_key_figures",
    "compute_median_build_months",
    "compute_overdue_by_age",
    "compute_progress",
    "compute_site_status",
    "compute_transition_fees",
    "compute_transition_fees_by",
    "compute_unpaid_gap",
    "fit_build_time_km",
    "indicator_definitions",
    "provided_ledgers",
]

log = logging.getLogger(__name__)

#: Label of a missing group value (片区, 类别, project …) in breakdowns and the key figures.
NA_GROUP = "未注明"
#: "Over 3 years": calendar months between start and as_of for ``sites_over_3_years``.
SITE_LONG_OVERDUE_MONTHS = 36

_PROGRESS_SUMS = ("land_target_mu", "land_done_mu", "house_target_m2", "house_done_m2")
_PROGRESS_COLUMNS = [
    "projects_count",
    *(c for s in _PROGRESS_SUMS for c in (s, f"{s}_na_count")),
    "land_completion_rate",
    "house_completion_rate",
    "origins",
]
_SITE_STATUS_ZH = {"delivered": "已交付", "overdue": "逾期未交付", "in_progress": "在建"}

# --------------------------------------------------------------------------------------------------
# helpers


def _check_choice(value, allowed: Sequence, name: str) -> None:
    if value not in allowed:
        raise ParameterError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _unique(values: Iterable) -> list[str]:
    """Non-missing values as strings, deduplicated, in order of first appearance."""
    out: dict[str, None] = {}
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            continue
        out[str(v)] = None
    return list(out)


def _flatten(*columns: Iterable) -> list[str]:
    """Origins from columns of scalars or of lists, deduplicated in order."""
    items: list = []
    for col in columns:
        for v in col:
            if isinstance(v, list | tuple | np.ndarray):
                items.extend(v)
            else:
                items.append(v)
    return _unique(items)


def _origins_by(df: pd.DataFrame, key: str, column: str = "origin") -> dict[str, list[str]]:
    """``key`` value → its rows' (scalar) ``column`` values, deduplicated in order."""
    q = df.loc[df[column].notna() & df[key].notna(), [key, column]].drop_duplicates()
    out: dict[str, list[str]] = {}
    for k, v in zip(q[key].tolist(), q[column].tolist(), strict=True):
        out.setdefault(k, []).append(str(v))
    return out


def _ratio(num: float, den: float) -> float:
    return num / den if den and not math.isnan(den) else math.nan


def _sum(s: pd.Series) -> float:
    return float(s.sum()) if len(s) else 0.0


def _order(values: Iterable, canonical: Sequence[str]) -> list:
    """Canonical values first (in their order), then the others sorted, missing last."""
    vals = list(dict.fromkeys(values))
    present = [v for v in canonical if v in vals]
    others = sorted(v for v in vals if v not in canonical and not pd.isna(v))
    missing = [v for v in vals if pd.isna(v)][:1]
    return present + others + missing


def _group_label(v) -> str:
    return NA_GROUP if v is None or pd.isna(v) else str(v)


def _year_rows(projects: pd.DataFrame, year: int) -> pd.DataFrame:
    p = conform_table(projects, "projects")
    return p.loc[p["year"].eq(int(year)).fillna(False).astype(bool)]


def _fmt_num(x: float) -> str:
    return f"{x:g}"


def _describe_escalation(escalation: Escalation) -> str:
    parts = []
    tiers = list(escalation.tiers)
    for i, (start, mult) in enumerate(tiers):
        if i + 1 < len(tiers):
            parts.append(f"第{start}–{tiers[i + 1][0] - 1}个逾期月×{_fmt_num(mult)}")
        else:
            parts.append(f"第{start}个逾期月起×{_fmt_num(mult)}")
    return "、".join(parts)


# --------------------------------------------------------------------------------------------------
# definitions (口径)


def indicator_definitions(
    *,
    escalation: Escalation = DEFAULT_ESCALATION,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS,
    payment_term_applied_to: int | None = None,
    agreed_months_from_site: int | None = None,
) -> dict[str, str]:
    """The definition (口径, Chinese) of every figure, as reports show it in their appendix.

    Parameters
    ----------
    escalation, payment_term_days, age_bands
        The settings the figures were computed with; they are written into the definitions.
    payment_term_applied_to, agreed_months_from_site
        When given (by :func:`compute_figure_records`): how many agreements took their due date
        from ``payment_term_days``, and how many households took ``agreed_months`` from their
        site's promised date, in this computation; the definitions then say so.

    Returns
    -------
    dict
        Figure name → one-sentence definition (the spec's wording, in Chinese).
    """
    bands = "、".join(age_band_labels_zh(age_bands))
    term_note = (
        "" if payment_term_applied_to is None else f"，本次适用于{payment_term_applied_to}份协议"
    )
    site_note = (
        "" if agreed_months_from_site is None else f"，本次适用于{agreed_months_from_site}户"
    )
    na = "（缺失值按0计入，缺失行数另列为 {n}_na_count）"
    d = {
        "projects_count": "报告年度在征收项目台账中有该年度记录的项目个数（按项目编号计）。",
        "land_target_mu": "报告年度各项目征地目标任务（亩）之和"
        + na.format(n="land_target_mu")
        + "。",
        "land_done_mu": "报告年度各项目已完成征地面积（亩）之和"
        + na.format(n="land_done_mu")
        + "。",
        "house_target_m2": "报告年度各项目房屋征收目标任务（平方米）之和"
        + na.format(n="house_target_m2")
        + "。",
        "house_done_m2": "报告年度各项目已完成房屋征收面积（平方米）之和"
        + na.format(n="house_done_m2")
        + "。",
        "land_completion_rate": "征地完成率 = 已完成征地面积 ÷ 征地目标任务；目标任务为0时不计算"
        "（NA），可超过100%。",
        "house_completion_rate": "房屋征收完成率 = 已完成房屋征收面积 ÷ 房屋征收目标任务；目标任务"
        "为0时不计算（NA），可超过100%。",
        "blocked_mu_by_blocker": "报告年度各项目卡点面积（亩）按卡点类型（公建单位、军事用地、"
        "双高糖料蔗基地、留用地等）分别求和。",
        "signed_agreements_yuan": "签约日期不晚于统计日的全部征收补偿协议（各年度累计）"
        "补偿总额之和。",
        "paid_compensation_yuan": "统计日前（含当日）支付给上述协议的补偿款"
        "（款项类型为补偿款）之和。",
        "unpaid_gap_yuan": "已签协议待付款缺口：逐份协议计算 max(补偿总额 − 已付补偿款, 0) 后求和；"
        "超付的协议按0计，不与其他协议抵减。",
        "overdue_unpaid_yuan": "上述缺口中支付期限早于统计日的协议部分之和（支付期限以协议台账"
        f"为准；支付期限缺失的协议按签约日期后{payment_term_days}天计{term_note}）。",
        "overdue_unpaid_by_age": "逾期未付缺口按逾期时长（统计日 − 支付期限，天数÷30.4375折算月，"
        f"含下限）分段：{bands}。",
        "funds_received_yuan": "到账日期不晚于统计日的征拆资金到位金额之和。",
        "total_paid_yuan": "统计日前（含当日）各类支付（补偿款、过渡安置费、工作经费等）之和。",
        "cash_balance_yuan": "资金结余 = 到位资金 − 累计支付；为负表示由其他资金垫付。",
        "funds_required_yuan": "所需资金 = 已签协议补偿总额 + 累计应计过渡安置费。",
        "funds_in_place_ratio": "资金到位率 = 到位资金 ÷（已签协议补偿总额 + 累计应计过渡安置费）；"
        "分母为0时不计算。",
        "transition_households_active": "统计日仍在过渡的户数：过渡开始日期不晚于统计日，且过渡结束"
        "日期为空或晚于统计日（按协议编号计户）。",
        "transition_fee_accrued_yuan": "累计应计过渡安置费：逐户以过渡开始日至 min(过渡结束日期, "
        "统计日) 已开始的自然月数为计费月数，月标准按面积、按人或按户计算；超过约定过渡期限的计费月"
        f"按逾期加付倍数（{_describe_escalation(escalation)}，为示例规则、非贵港规定）计，"
        "逐户逐月求和；约定过渡期限以过渡安置台账为准，缺失的按过渡开始日期至其安置区约定交房"
        f"日期已开始的自然月数计{site_note}，仍无法确定的户不计逾期。",
        "transition_fee_paid_yuan": "统计日前（含当日）支付的过渡安置费"
        "（款项类型为过渡安置费）之和。",
        "transition_fee_arrears_yuan": "拖欠过渡安置费：逐户（按协议编号匹配支付）计算 "
        "max(应计 − 已付, 0) 后求和。",
        "transition_fee_overdue_extra_yuan": "因超过约定过渡期限（安置房逾期交付）"
        "多计的过渡安置费：逐户逐月 月标准 ×（倍数 − 1）之和。",
        "transition_fee_monthly_yuan": "当前每月过渡安置费负担：仍在过渡户下一个计费月的 "
        "月标准 × 对应倍数 之和。",
        "sites_total": "开工日期不晚于统计日的安置区个数。",
        "sites_delivered": "其中实际交房日期不晚于统计日的安置区个数。",
        "sites_overdue": "约定交房日期早于统计日且截至统计日仍未交付的安置区个数。",
        "sites_over_3_years": "截至统计日仍未交付、且开工日期不晚于统计日前36个自然月的安置区个数"
        "（超过3年未交付）。",
        "households_waiting": "统计日仍在过渡、且其安置区截至统计日尚未交付（或台账未登记安置区）"
        "的户数。",
        "median_build_months": "安置区建设周期（开工至实际交房，天数÷30.4375折算月）的 "
        "Kaplan–Meier 中位数；截至统计日未交付的安置区在统计日右删失、不剔除；生存曲线未降至0.5时"
        "为“尚未达到”（NA）。",
        "median_build_months_status": "建设周期中位数的状态：reached（已达到）、not_reached"
        "（尚未达到）、no_sites（无安置区）。",
        "delay_months": "已交付安置区的交付延误 =（实际交房日期 − 约定交房日期）天数÷30.4375，"
        "单位：月；提前交付为负。",
    }
    for s in _PROGRESS_SUMS:
        d[f"{s}_na_count"] = f"报告年度 {s} 缺失（未填报）的项目行数。"
    return d


# --------------------------------------------------------------------------------------------------
# progress


def _progress_values(rows: pd.DataFrame) -> dict[str, Any]:
    key = rows["project_id"].fillna(rows["project_name"])
    out: dict[str, Any] = {"projects_count": int(key.nunique())}
    for s in _PROGRESS_SUMS:
        out[s] = _sum(rows[s])
        out[f"{s}_na_count"] = int(rows[s].isna().sum())
    out["land_completion_rate"] = _ratio(out["land_done_mu"], out["land_target_mu"])
    out["house_completion_rate"] = _ratio(out["house_done_m2"], out["house_target_m2"])
    out["origins"] = _unique(rows["origin"])
    return out


def compute_progress(
    projects: pd.DataFrame,
    *,
    year: int,
    by: Literal["zone", "category", "sector"] | None = None,
) -> pd.DataFrame:
    """Progress (完成情况) of the reporting year, overall or by 片区 / 类别 / 项目类型.

    Parameters
    ----------
    projects
        The canonical ``projects`` table (not modified).
    year
        Reporting year: only rows with ``year == year`` enter.
    by
        ``None`` for one overall row, else ``"zone"``, ``"category"`` or ``"sector"`` for one row
        per group value (canonical values first; a missing value is its own group, NA in the
        column).
        ``by="category"`` always has a row for 市下达 and for 区统筹 (zeros when absent).

    Returns
    -------
    pandas.DataFrame
        ``[by,] projects_count`` (distinct ``project_id``), ``land_target_mu``, ``land_done_mu``
        (亩), ``house_target_m2``, ``house_done_m2`` (m²) — sums with NA counted as 0 — each
        followed by ``<name>_na_count`` (rows where it was NA), ``land_completion_rate`` and
        ``house_completion_rate`` (done ÷ target as a fraction, NaN when the target is 0; may
        exceed 1) and ``origins`` (list of the rows' ``origin``). An empty year gives one row of
        zeros (rates NaN) when ``by`` is ``None``.
    """
    rows = _year_rows(projects, year)
    if by is None:
        return pd.DataFrame([_progress_values(rows)], columns=_PROGRESS_COLUMNS)
    _check_choice(by, ("zone", "category", "sector"), "by")
    canonical = {"zone": ZONE_NAMES, "category": CATEGORIES, "sector": ()}[by]
    groups = dict(iter(rows.groupby(by, dropna=False, sort=False)))
    keys = _order(groups, canonical)
    if by == "category":
        keys = list(CATEGORIES) + [k for k in keys if k not in CATEGORIES]
    records = []
    for k in keys:
        g = groups.get(k, rows.iloc[0:0])
        records.append({by: k, **_progress_values(g)})
    out = pd.DataFrame(records, columns=[by, *_PROGRESS_COLUMNS])
    return out.astype({by: "str"})


def compute_blocked_mu(projects: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Blocked area of the "last mile" (卡点面积) of the reporting year by blocker.

    Parameters
    ----------
    projects
        The canonical ``projects`` table (not modified).
    year
        Reporting year.

    Returns
    -------
    pandas.DataFrame
        One row per ``blocker`` value (公建单位, 军事用地, 双高糖料蔗基地, 留用地 first, then
        others): ``blocked_mu`` (Σ 亩, NA as 0), ``blocked_mu_na_count``, ``projects_count`` and
        ``origins``. Rows without a blocker are not a group (logged when they carry a positive
        ``blocked_mu``).
    """
    rows = _year_rows(projects, year)
    tagged = rows["blocker"].notna()
    untagged_mu = rows.loc[~tagged, "blocked_mu"]
    if untagged_mu.gt(0).any():
        log.warning(
            "%d project rows of %s have blocked_mu (%.2f mu) but no blocker: in no blocker group",
            int(untagged_mu.gt(0).sum()),
            year,
            float(untagged_mu.sum()),
        )
    groups = dict(iter(rows.loc[tagged].groupby("blocker", sort=False)))
    records = []
    for b in _order(groups, BLOCKERS):
        g = groups[b]
        records.append(
            {
                "blocker": b,
                "blocked_mu": _sum(g["blocked_mu"]),
                "blocked_mu_na_count": int(g["blocked_mu"].isna().sum()),
                "projects_count": int(g["project_id"].fillna(g["project_name"]).nunique()),
                "origins": _unique(g["origin"]),
            }
        )
    cols = ["blocker", "blocked_mu", "blocked_mu_na_count", "projects_count", "origins"]
    return pd.DataFrame(records, columns=cols).astype({"blocker": "str"})


# --------------------------------------------------------------------------------------------------
# funding


def _check_bands(bands: Sequence[float]) -> list[float]:
    b = [float(x) for x in bands]
    if not b or b[0] != 0 or any(y <= x for x, y in itertools.pairwise(b)):
        raise ParameterError(
            f"age_bands must start at 0 and be strictly increasing, got {tuple(bands)!r}"
        )
    return b


def age_band_labels(bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS) -> list[str]:
    """Labels of the overdue-age bands: ``(0, 3, 6, 12)`` → ``["0-3", "3-6", "6-12", "12+"]``."""
    b = _check_bands(bands)
    labels = [f"{_fmt_num(lo)}-{_fmt_num(hi)}" for lo, hi in itertools.pairwise(b)]
    return [*labels, f"{_fmt_num(b[-1])}+"]


def age_band_labels_zh(bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS) -> list[str]:
    """Chinese labels of the bands: ``["不足3个月", "3至6个月", "6至12个月", "12个月以上"]``."""
    b = _check_bands(bands)
    out = []
    for i, lo in enumerate(b):
        if i + 1 == len(b):
            out.append(f"{_fmt_num(lo)}个月以上")
        elif i == 0:
            out.append(f"不足{_fmt_num(b[1])}个月")
        else:
            out.append(f"{_fmt_num(lo)}至{_fmt_num(b[i + 1])}个月")
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
    b = _check_bands(bands)
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
        no ``payment_due_date`` at all (NA). The cleaner already fills missing due dates (data
        contract §3), so on cleaned tables this applies to no agreement; ``payment_due_source``
        says which agreements it did apply to.
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
    p = conform_table(payments, "payments")
    a = a.loc[a["signed_date"].le(as_of)]
    if a["agreement_id"].duplicated().any():
        log.warning(
            "duplicate agreement_id in agreements (%s): consolidated",
            ", ".join(a.loc[a["agreement_id"].duplicated(), "agreement_id"].unique()[:5]),
        )
    g = a.groupby("agreement_id", sort=False)
    agg = g.agg(
        project_id=("project_id", "first"),
        site_id=("site_id", "first"),
        signed_date=("signed_date", "min"),
        payment_due_date=("payment_due_date", "min"),
        compensation_yuan=("compensation_yuan", "sum"),
    )
    # the term applies only where the ledger (or the cleaner) gives no due date
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
    agg_origins = _origins_by(a, "agreement_id")

    comp = p.loc[p["kind"].eq(KIND_COMPENSATION) & p["date"].le(as_of)]
    tied = comp["agreement_id"].isin(agg.index)
    if (~tied).any():
        log.info(
            "%d compensation payments (%.2f yuan) to %s are tied to no agreement signed by %s",
            int((~tied).sum()),
            float(comp.loc[~tied, "amount_yuan"].sum()),
            "unknown or missing agreement_id",
            as_of.date(),
        )
    comp = comp.loc[tied]
    paid = comp.groupby("agreement_id")["amount_yuan"].sum()
    pay_origins = _origins_by(comp, "agreement_id")

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


def _gap_values(b: pd.DataFrame) -> dict[str, Any]:
    od = b.loc[b["overdue"]]
    return {
        "agreements_count": len(b),
        "signed_agreements_yuan": _sum(b["compensation_yuan"]),
        "paid_compensation_yuan": _sum(b["paid_yuan"]),
        "unpaid_gap_yuan": _sum(b["unpaid_yuan"]),
        "overdue_unpaid_yuan": _sum(od["unpaid_yuan"]),
        "origins": _flatten(b["origins"], b["payment_origins"]),
    }


def _project_attributes(projects: pd.DataFrame | None) -> pd.DataFrame:
    """project_id → latest non-missing project_name, zone, category."""
    p = conform_table(projects, "projects").sort_values("year", kind="stable")
    return p.groupby("project_id").agg(
        project_name=("project_name", "last"),
        zone=("zone", "last"),
        category=("category", "last"),
    )


def _aggregate_by(
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
        for k in _order(groups, ZONE_NAMES if key == "zone" else ())
    ]
    out = pd.DataFrame(records, columns=[*front, *columns])
    return out.astype(dict.fromkeys(front, "str"))


_GAP_COLUMNS = [
    "agreements_count",
    "signed_agreements_yuan",
    "paid_compensation_yuan",
    "unpaid_gap_yuan",
    "overdue_unpaid_yuan",
    "origins",
]


def _aggregate_gap(
    balances: pd.DataFrame, attrs: pd.DataFrame, by: Literal["project", "zone"] | None
) -> pd.DataFrame:
    if by is None:
        return pd.DataFrame([_gap_values(balances)], columns=_GAP_COLUMNS)
    return _aggregate_by(
        balances,
        attrs[["project_name", "zone"]],
        link="project_id",
        key="project_id" if by == "project" else "zone",
        values=_gap_values,
        columns=_GAP_COLUMNS,
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
        _check_choice(by, ("project", "zone"), "by")
    if by == "zone" and projects is None:
        raise ParameterError("by='zone' needs the projects table (片区 comes from the project)")
    balances = compute_agreement_balances(
        agreements, payments, as_of=as_of, payment_term_days=payment_term_days
    )
    return _aggregate_gap(balances, _project_attributes(projects), by)


def _aggregate_age(balances: pd.DataFrame, bands: Sequence[float]) -> pd.DataFrame:
    od = balances.loc[balances["overdue"]]
    records = []
    for label in age_band_labels(bands):
        g = od.loc[od["age_band"].astype("str").eq(label)]
        records.append(
            {
                "age_band": label,
                "overdue_unpaid_yuan": _sum(g["unpaid_yuan"]),
                "agreements_count": int(g["unpaid_yuan"].gt(0).sum()),
                "origins": _flatten(g["origins"], g["payment_origins"]),
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
    return _aggregate_age(balances, age_bands)


# --------------------------------------------------------------------------------------------------
# transitional fees


def _site_lookup(sites: pd.DataFrame | None) -> pd.DataFrame:
    s = conform_table(sites, "sites")
    return s.drop_duplicates("site_id").set_index("site_id")


def compute_transition_fees(
    transition: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of,
    sites: pd.DataFrame | None = None,
    escalation: Escalation = DEFAULT_ESCALATION,
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
        ``months_between(start_date, promised_date of its site)`` (data contract §3).
    escalation
        Overdue multiplier schedule (default: 1.5 for overdue months 1–12, 2.0 from 13; an example
        rule, not a Guigang regulation).

    Returns
    -------
    pandas.DataFrame
        One row per household: ``agreement_id``, ``site_id``, ``start_date``, ``end_date``,
        ``fee_end_date`` = min(end_date, as_of), ``active`` (end NA or after ``as_of``),
        ``fee_basis``, ``base_monthly_yuan`` (rate × area_m2 / persons / 1), ``fee_months`` K =
        ``months_between(start_date, fee_end_date)``, ``agreed_months`` (filled),
        ``agreed_months_source`` (``ledger``/``site``/``missing``), ``overdue_fee_months``
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

    agreed = pd.Series(t["agreed_months"].to_numpy(dtype="float64", na_value=np.nan), index=t.index)
    source = np.where(agreed.notna(), "ledger", "missing")
    if agreed.isna().any() and sites is not None:
        # reindex, not map: Series.map with an empty datetime mapper raises (no sites ledger)
        lookup = _site_lookup(sites)["promised_date"]
        promised = pd.Series(lookup.reindex(t["site_id"]).to_numpy(), index=t.index)
        from_site = months_between(t["start_date"], promised)
        filled = from_site.to_numpy(dtype="float64", na_value=np.nan)
        use = agreed.isna().to_numpy() & ~np.isnan(filled)
        source = np.where(use, "site", source)
        agreed = agreed.where(~use, filled)
    if (source == "missing").any():
        log.warning(
            "%d households have no agreed_months (ledger or site promise): never counted overdue",
            int((source == "missing").sum()),
        )
    a = agreed.to_numpy()

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

    overdue_n = np.where(np.isnan(a), 0.0, np.clip(k - a, 0.0, None))
    escalated = escalation.cumulative(overdue_n)
    accrued = base * ((k - overdue_n) + escalated)
    extra = base * (escalated - overdue_n)
    next_mult = np.where(np.isnan(a), 1.0, escalation.multiplier(k + 1 - np.nan_to_num(a)))
    monthly = np.where(active.to_numpy(dtype=bool), base * next_mult, 0.0)

    p = conform_table(payments, "payments")
    fee = p.loc[p["kind"].eq(KIND_TRANSITION) & p["date"].le(as_of)]
    fee = fee.loc[fee["agreement_id"].isin(t["agreement_id"])]
    paid_by_id = fee.groupby("agreement_id")["amount_yuan"].sum()
    pay_origins = _origins_by(fee, "agreement_id")

    out = pd.DataFrame(
        {
            "agreement_id": t["agreement_id"].astype("str"),
            "site_id": t["site_id"],
            "start_date": t["start_date"],
            "end_date": t["end_date"],
            "fee_end_date": end,
            "active": active.astype(bool),
            "fee_basis": basis,
            "base_monthly_yuan": base,
            "fee_months": k,
            "agreed_months": a,
            "agreed_months_source": source,
            "overdue_fee_months": overdue_n,
            "accrued_yuan": accrued,
            "overdue_extra_yuan": extra,
            "next_multiplier": next_mult,
            "monthly_yuan": monthly,
            "origin": t["origin"],
        }
    ).reset_index(drop=True)
    first = ~out["agreement_id"].duplicated()
    if not first.all():
        log.warning("duplicate agreement_id in transition: one household, arrears on its first row")
    household_accrued = out.groupby("agreement_id")["accrued_yuan"].transform("sum")
    paid = out["agreement_id"].map(paid_by_id).astype("float64").fillna(0.0)
    out = out.assign(
        paid_yuan=paid.where(first, 0.0),
        arrears_yuan=(household_accrued - paid).clip(lower=0.0).where(first, 0.0),
        payment_origins=[
            pay_origins.get(i, []) if f else []
            for i, f in zip(out["agreement_id"], first, strict=True)
        ],
    )
    return out[_HOUSEHOLD_COLUMNS]


_HOUSEHOLD_COLUMNS = [
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
_FEE_SUMS = ("accrued_yuan", "paid_yuan", "arrears_yuan", "overdue_extra_yuan", "monthly_yuan")


def _fee_values(h: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {
        "households": int(h["agreement_id"].nunique()),
        "households_active": int(h.loc[h["active"], "agreement_id"].nunique()),
    }
    for c in _FEE_SUMS:
        out[c] = _sum(h[c])
    out["origins"] = _flatten(h["origin"], h["payment_origins"])
    return out


def _aggregate_fees(
    households: pd.DataFrame, site_attrs: pd.DataFrame, by: Literal["site", "zone"]
) -> pd.DataFrame:
    return _aggregate_by(
        households,
        site_attrs[["site_name", "zone"]],
        link="site_id",
        key="site_id" if by == "site" else "zone",
        values=_fee_values,
        columns=["households", "households_active", *_FEE_SUMS, "origins"],
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
    _check_choice(by, ("site", "zone"), "by")
    if by == "zone" and sites is None:
        raise ParameterError("by='zone' needs the sites table (片区 comes from the site)")
    households = compute_transition_fees(
        transition, payments, as_of=as_of, sites=sites, escalation=escalation
    )
    return _aggregate_fees(households, _site_lookup(sites), by)


# --------------------------------------------------------------------------------------------------
# resettlement sites


def _active_households(transition: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    t = conform_table(transition, "transition")
    started = t["start_date"].le(as_of)
    active = t["end_date"].isna() | t["end_date"].gt(as_of)
    return t.loc[started & active]


def _waiting_households(
    transition: pd.DataFrame, sites: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Active households whose site is not (known to be) delivered by ``as_of``."""
    s = conform_table(sites, "sites")
    delivered_ids = set(s.loc[s["delivered_date"].le(as_of), "site_id"].dropna())
    h = _active_households(transition, as_of)
    return h.loc[~h["site_id"].isin(delivered_ids)]


def compute_site_status(
    sites: pd.DataFrame,
    *,
    as_of,
    transition: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per resettlement site started by ``as_of``: delivery status, build time, censoring, delay.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified).
    as_of
        Reporting date.
    transition
        Canonical ``transition`` table, for ``households_waiting`` per site (0 when not given).

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``site_name``, ``zone``, ``start_date``, ``promised_date``, ``delivered_date``,
        ``units``, ``delivered`` (``delivered_date <= as_of``), ``overdue`` (``promised_date <
        as_of`` and not delivered), ``over_3_years`` (not delivered, started 36 calendar months or
        more before ``as_of``), ``status`` (``delivered`` / ``overdue`` / ``in_progress``),
        ``status_zh`` (已交付 / 逾期未交付 / 在建), ``build_months`` (start → delivery, or →
        ``as_of`` when not delivered; duration months), ``censored`` (not delivered:
        right-censored at ``as_of``, never dropped), ``delay_months`` (delivered − promised, NaN
        when not delivered), ``late_months`` (``as_of`` − promised, duration months, for overdue
        sites), ``households_waiting`` and ``origin``.
    """
    as_of = resolve_as_of(as_of)
    waiting = None if transition is None else _waiting_households(transition, sites, as_of)
    return _site_status(conform_table(sites, "sites"), as_of, waiting)


def _site_status(
    sites: pd.DataFrame, as_of: pd.Timestamp, waiting: pd.DataFrame | None
) -> pd.DataFrame:
    """:func:`compute_site_status` of a conformed table, given the waiting households (or None)."""
    s = sites.loc[sites["start_date"].le(as_of)]
    delivered = s["delivered_date"].le(as_of)
    overdue = s["promised_date"].lt(as_of) & ~delivered
    cutoff = as_of - pd.DateOffset(months=SITE_LONG_OVERDUE_MONTHS)
    over3 = ~delivered & s["start_date"].le(cutoff)
    end = s["delivered_date"].where(delivered, as_of)
    status = np.select(
        [delivered.to_numpy(dtype=bool), overdue.to_numpy(dtype=bool)],
        ["delivered", "overdue"],
        default="in_progress",
    )
    if waiting is not None:
        n_waiting = s["site_id"].map(waiting["site_id"].value_counts()).fillna(0).astype("int64")
    else:
        n_waiting = pd.Series(0, index=s.index, dtype="int64")
    out = pd.DataFrame(
        {
            "site_id": s["site_id"],
            "site_name": s["site_name"],
            "zone": s["zone"],
            "start_date": s["start_date"],
            "promised_date": s["promised_date"],
            "delivered_date": s["delivered_date"],
            "units": s["units"],
            "delivered": delivered.astype(bool),
            "overdue": overdue.astype(bool),
            "over_3_years": over3.astype(bool),
            "status": pd.Series(status, index=s.index, dtype="str"),
            "status_zh": pd.Series(status, index=s.index, dtype="str").map(_SITE_STATUS_ZH),
            "build_months": duration_months(s["start_date"], end),
            "censored": (~delivered).astype(bool),
            "delay_months": duration_months(s["promised_date"], s["delivered_date"]).where(
                delivered
            ),
            "late_months": duration_months(s["promised_date"], as_of).where(overdue),
            "households_waiting": n_waiting,
            "origin": s["origin"],
        }
    )
    return out.reset_index(drop=True)


KM_COLUMNS = ("time_months", "surv_prob", "surv_prob_se", "n_risk", "n_events")


@dataclass(frozen=True)
class BuildTimeKM:
    """The Kaplan–Meier curve of build months (start → delivery), fitted once from a site status.

    Built by :func:`fit_build_time_km`; every figure, table and forecast that needs the curve asks
    this object (the median figure, the survival page, the delivery model) instead of refitting.

    Attributes
    ----------
    times, events
        Build months of the started sites (delivered: start → delivery; undelivered: right-censored
        at ``as_of``) and whether each was delivered.
    fit
        The :class:`statsmodels.duration.survfunc.SurvfuncRight` fit, or ``None`` when no site has
        been delivered (the curve is flat at 1).
    """

    times: np.ndarray
    events: np.ndarray
    fit: Any

    @property
    def n_sites(self) -> int:
        """Started sites (events and censored)."""
        return int(self.times.size)

    @property
    def n_events(self) -> int:
        """Delivered sites."""
        return int(self.events.sum())

    def table(self) -> pd.DataFrame:
        """``time_months``, ``surv_prob``, ``surv_prob_se``, ``n_risk``, ``n_events`` at each event
        time; empty (with those columns) when no site has been delivered."""
        if self.fit is None:
            return pd.DataFrame({c: pd.Series(dtype="float64") for c in KM_COLUMNS})
        sf = self.fit
        return pd.DataFrame(
            {
                "time_months": sf.surv_times,
                "surv_prob": sf.surv_prob,
                "surv_prob_se": sf.surv_prob_se,
                "n_risk": sf.n_risk,
                "n_events": sf.n_events,
            }
        )

    def median(self) -> tuple[float | None, str]:
        """KM median of build months and its status: ``reached``, ``not_reached`` or ``no_sites``.

        The median is the first event time with S(t) ≤ 0.5 (docs/indicators.md). statsmodels'
        ``quantile`` uses S(t) < 0.5 and returns NaN when the curve stops at exactly 0.5; the
        definition asks whether the curve falls *to* 0.5.
        """
        if self.n_sites == 0:
            return None, "no_sites"
        if self.fit is None:
            return None, "not_reached"
        hit = np.flatnonzero(np.asarray(self.fit.surv_prob) <= 0.5 + 1e-12)
        if hit.size == 0:
            return None, "not_reached"
        return float(np.asarray(self.fit.surv_times)[hit[0]]), "reached"


def fit_build_time_km(site_status: pd.DataFrame) -> BuildTimeKM:
    """Fit the Kaplan–Meier curve of build months to a site status frame.

    Parameters
    ----------
    site_status
        :func:`compute_site_status` output (``build_months``, ``delivered``); undelivered sites
        are right-censored at ``as_of``, never dropped. Not modified.

    Returns
    -------
    BuildTimeKM
        The fitted curve (``fit`` is ``None`` when no site has been delivered).
    """
    times = site_status["build_months"].to_numpy(dtype="float64")
    events = site_status["delivered"].to_numpy(dtype="int64")
    fit = None
    if events.any():
        from statsmodels.duration.survfunc import SurvfuncRight

        fit = SurvfuncRight(times, events)
    return BuildTimeKM(times=times, events=events, fit=fit)


def compute_median_build_months(sites: pd.DataFrame, *, as_of) -> float | None:
    """Kaplan–Meier median build time (start → delivery) of resettlement sites, in months.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified).
    as_of
        Reporting date: sites started by then; undelivered sites are right-censored at ``as_of``.

    Returns
    -------
    float or None
        The smallest build time ``t`` with ``S(t) <= 0.5`` on the Kaplan–Meier curve
        (:class:`statsmodels.duration.survfunc.SurvfuncRight`); ``None`` ("not reached") when the
        curve does not fall to 0.5, or when there are no sites.
    """
    value, _ = fit_build_time_km(compute_site_status(sites, as_of=as_of)).median()
    return value


def compute_build_time_survival(sites: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """Kaplan–Meier curve of build months (for plots and the appendix).

    Returns
    -------
    pandas.DataFrame
        ``time_months``, ``surv_prob``, ``surv_prob_se``, ``n_risk``, ``n_events`` at each event
        time (empty when no site has been delivered). Undelivered sites are censored at ``as_of``.
    """
    return fit_build_time_km(compute_site_status(sites, as_of=as_of)).table()


# --------------------------------------------------------------------------------------------------
# figures


#: The canonical tables the figures read, in the order of the data contract.
_TABLES = ("projects", "agreements", "payments", "funding", "sites", "transition")

#: Figures that a missing (empty) ledger makes unknown: figure → the ledgers it needs. An empty
#: ``payments`` ledger is not in any list: with agreements or households present, "nothing was
#: paid" is a statement the tables make (paid 0, the gap and arrears in full).
_NEEDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        [*_PROGRESS_COLUMNS[:-1], "blocked_mu_by_blocker"],
        ("projects",),
    ),
    **dict.fromkeys(
        [
            "signed_agreements_yuan",
            "paid_compensation_yuan",
            "unpaid_gap_yuan",
            "overdue_unpaid_yuan",
            "overdue_unpaid_by_age",
        ],
        ("agreements",),
    ),
    "funds_received_yuan": ("funding",),
    "cash_balance_yuan": ("funding",),
    "funds_required_yuan": ("agreements", "transition"),
    "funds_in_place_ratio": ("funding", "agreements", "transition"),
    **dict.fromkeys(
        [
            "transition_households_active",
            "transition_fee_accrued_yuan",
            "transition_fee_paid_yuan",
            "transition_fee_arrears_yuan",
            "transition_fee_overdue_extra_yuan",
            "transition_fee_monthly_yuan",
        ],
        ("transition",),
    ),
    **dict.fromkeys(
        ["sites_total", "sites_delivered", "sites_overdue", "sites_over_3_years"],
        ("sites",),
    ),
    "households_waiting": ("sites", "transition"),
    "median_build_months": ("sites",),
    "delay_months": ("sites",),
}


def provided_ledgers(tables: Mapping[str, pd.DataFrame]) -> dict[str, bool]:
    """Which ledgers the figures can use: table name → it was given with at least one row.

    An absent or empty table means "no such ledger" (the cleaner writes an empty table for a
    ledger with no source sheet), and the figures that need it are null, never 0 (see
    :func:`compute_key_figures`).
    """
    return {name: tables.get(name) is not None and len(tables[name]) > 0 for name in _TABLES}


@dataclass(frozen=True)
class _Computed:
    """Everything one computation of the figures produces, each piece computed once."""

    year: int
    as_of: pd.Timestamp
    tables: dict[str, pd.DataFrame]  # conformed
    provided: dict[str, bool]
    balances: pd.DataFrame  # compute_agreement_balances
    households: pd.DataFrame  # compute_transition_fees
    site_status: pd.DataFrame  # compute_site_status, with households_waiting
    waiting: pd.DataFrame  # active households whose site is not delivered
    records: pd.DataFrame  # compute_figure_records
    applied: dict[str, int]  # how often each default was used

    @property
    def missing(self) -> list[str]:
        """The ledgers not provided, in contract order."""
        return [name for name, ok in self.provided.items() if not ok]


def _compute_all(
    tables: Mapping[str, pd.DataFrame],
    *,
    year: int,
    as_of=None,
    escalation: Escalation = DEFAULT_ESCALATION,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS,
) -> _Computed:
    """The per-row frames (balances, households, site status) and the figure records, once.

    :func:`compute_figure_records`, :func:`compute_key_figures` and the work summary all read
    this, so that no frame is computed twice in one call.
    """
    as_of = resolve_as_of(as_of, year)
    t = {name: table_from(tables, name) for name in _TABLES}
    provided = provided_ledgers(tables)
    balances = compute_agreement_balances(
        t["agreements"],
        t["payments"],
        as_of=as_of,
        payment_term_days=payment_term_days,
        age_bands=age_bands,
    )
    households = compute_transition_fees(
        t["transition"], t["payments"], as_of=as_of, sites=t["sites"], escalation=escalation
    )
    waiting = _waiting_households(t["transition"], t["sites"], as_of)
    status = _site_status(t["sites"], as_of, waiting)
    source = households.drop_duplicates("agreement_id")["agreed_months_source"]
    applied = {
        "payment_term_days_applied_to": int(balances["payment_due_source"].eq("term").sum()),
        "agreed_months_from_site_applied_to": int(source.eq("site").sum()),
        "agreed_months_missing": int(source.eq("missing").sum()),
    }
    defs = indicator_definitions(
        escalation=escalation,
        payment_term_days=payment_term_days,
        age_bands=age_bands,
        payment_term_applied_to=applied["payment_term_days_applied_to"],
        agreed_months_from_site=applied["agreed_months_from_site_applied_to"],
    )
    records = _figure_records(
        t,
        provided,
        year=year,
        as_of=as_of,
        defs=defs,
        age_bands=age_bands,
        bal=balances,
        hh=households,
        st=status,
        waiting=waiting,
    )
    return _Computed(
        year=int(year),
        as_of=as_of,
        tables=t,
        provided=provided,
        balances=balances,
        households=households,
        site_status=status,
        waiting=waiting,
        records=records,
        applied=applied,
    )


def _figure_records(
    t: Mapping[str, pd.DataFrame],
    provided: Mapping[str, bool],
    *,
    year: int,
    as_of: pd.Timestamp,
    defs: Mapping[str, str],
    age_bands: Sequence[float],
    bal: pd.DataFrame,
    hh: pd.DataFrame,
    st: pd.DataFrame,
    waiting: pd.DataFrame,
) -> pd.DataFrame:
    """The records of :func:`compute_figure_records` from the per-row frames."""
    projects, payments, funding = t["projects"], t["payments"], t["funding"]
    recs: list[dict[str, Any]] = []

    def add(name, value, unit, origins, group=None, scope=None):
        if not all(provided[n] for n in _NEEDS.get(name, ())):
            value = None  # a missing ledger is not a zero
        recs.append(
            {
                "name": name,
                "group": group,
                "scope": scope,
                "value": value,
                "unit": unit,
                "definition": defs.get(name, ""),
                "origins": _unique(origins),
            }
        )

    def progress_unit(name: str) -> str | None:
        return "count" if name == "projects_count" else _column_unit(name)

    overall = compute_progress(projects, year=year).iloc[0]
    for name in _PROGRESS_COLUMNS[:-1]:
        add(name, overall[name], progress_unit(name), overall["origins"])
    by_cat = compute_progress(projects, year=year, by="category")
    for _, row in by_cat.iterrows():
        for name in _PROGRESS_COLUMNS[:-1]:
            add(name, row[name], progress_unit(name), row["origins"], "category", row["category"])
    for _, row in compute_blocked_mu(projects, year=year).iterrows():
        add(
            "blocked_mu_by_blocker",
            row["blocked_mu"],
            "mu",
            row["origins"],
            "blocker",
            row["blocker"],
        )

    # funding
    od = bal.loc[bal["overdue"]]
    signed = _sum(bal["compensation_yuan"])
    add("signed_agreements_yuan", signed, "yuan", _flatten(bal["origins"]))
    add("paid_compensation_yuan", _sum(bal["paid_yuan"]), "yuan", _flatten(bal["payment_origins"]))
    add(
        "unpaid_gap_yuan",
        _sum(bal["unpaid_yuan"]),
        "yuan",
        _flatten(bal["origins"], bal["payment_origins"]),
    )
    add(
        "overdue_unpaid_yuan",
        _sum(od["unpaid_yuan"]),
        "yuan",
        _flatten(od["origins"], od["payment_origins"]),
    )
    for _, row in _aggregate_age(bal, age_bands).iterrows():
        add(
            "overdue_unpaid_by_age",
            row["overdue_unpaid_yuan"],
            "yuan",
            row["origins"],
            "age_band",
            row["age_band"],
        )
    fund = funding.loc[funding["date"].le(as_of)]
    paid_all = payments.loc[payments["date"].le(as_of)]
    received = _sum(fund["amount_yuan"])
    total_paid = _sum(paid_all["amount_yuan"])
    add("funds_received_yuan", received, "yuan", _unique(fund["origin"]))
    add("total_paid_yuan", total_paid, "yuan", _unique(paid_all["origin"]))
    add(
        "cash_balance_yuan",
        received - total_paid,
        "yuan",
        _unique([*fund["origin"], *paid_all["origin"]]),
    )

    # transitional fees
    act = hh.loc[hh["active"]]
    accrued = _sum(hh["accrued_yuan"])
    required = signed + accrued
    req_origins = _flatten(bal["origins"], hh["origin"])
    add("funds_required_yuan", required, "yuan", req_origins)
    add(
        "funds_in_place_ratio",
        _ratio(received, required),
        "ratio",
        _unique([*fund["origin"], *req_origins]),
    )
    fee_pay = payments.loc[payments["kind"].eq(KIND_TRANSITION) & payments["date"].le(as_of)]
    add("transition_households_active", int(act["agreement_id"].nunique()), "count", act["origin"])
    add("transition_fee_accrued_yuan", accrued, "yuan", _unique(hh["origin"]))
    add(
        "transition_fee_paid_yuan", _sum(fee_pay["amount_yuan"]), "yuan", _unique(fee_pay["origin"])
    )
    add(
        "transition_fee_arrears_yuan",
        _sum(hh["arrears_yuan"]),
        "yuan",
        _flatten(hh["origin"], hh["payment_origins"]),
    )
    add(
        "transition_fee_overdue_extra_yuan",
        _sum(hh["overdue_extra_yuan"]),
        "yuan",
        _unique(hh["origin"]),
    )
    add("transition_fee_monthly_yuan", _sum(act["monthly_yuan"]), "yuan", _unique(act["origin"]))

    # resettlement sites
    add("sites_total", len(st), "count", _unique(st["origin"]))
    for name, col in (
        ("sites_delivered", "delivered"),
        ("sites_overdue", "overdue"),
        ("sites_over_3_years", "over_3_years"),
    ):
        sub = st.loc[st[col]]
        add(name, len(sub), "count", _unique(sub["origin"]))
    add("households_waiting", int(waiting["agreement_id"].nunique()), "count", waiting["origin"])
    median, median_status = fit_build_time_km(st).median()
    add("median_build_months", median, "month", _unique(st["origin"]))
    add("median_build_months_status", median_status, None, _unique(st["origin"]))
    for _, row in st.loc[st["delivered"]].iterrows():
        add(
            "delay_months",
            row["delay_months"],
            "month",
            _unique([row["origin"]]),
            "site",
            row["site_id"],
        )

    columns = ["name", "group", "scope", "value", "unit", "definition", "origins"]
    return pd.DataFrame(
        {
            c: pd.Series(
                [r[c] for r in recs], dtype="str" if c in ("name", "definition") else object
            )
            for c in columns
        }
    )


def compute_figure_records(
    tables: Mapping[str, pd.DataFrame],
    *,
    year: int,
    as_of=None,
    escalation: Escalation = DEFAULT_ESCALATION,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS,
) -> pd.DataFrame:
    """Every non-forecast scalar figure, with its unit, definition (口径) and source rows.

    Parameters
    ----------
    tables
        The canonical tables by name (``projects``, ``agreements``, ``payments``, ``funding``,
        ``sites``, ``transition``); a missing one is treated as empty. Not modified.
    year
        Reporting year (progress figures).
    as_of
        Reporting date (default 31 December of ``year``).
    escalation, payment_term_days, age_bands
        Settings (see :mod:`zhengshou_analysis.settings`).

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``name`` (as in indicators.md), ``group`` (``None`` for a plain figure,
        else ``category``, ``blocker``, ``age_band`` or ``site``), ``scope`` (the group value),
        ``value`` (float/int, NaN when not defined, ``None`` for a KM median not reached and for
        every figure whose ledger is missing — the rule of :func:`compute_key_figures`), ``unit``
        (``yuan``, ``mu``, ``m2``, ``count``, ``ratio``, ``month`` or ``None``), ``definition`` and
        ``origins`` (the ``origin`` of every row that entered it).
    """
    return _compute_all(
        tables,
        year=year,
        as_of=as_of,
        escalation=escalation,
        payment_term_days=payment_term_days,
        age_bands=age_bands,
    ).records


def _column_unit(col: str) -> str | None:
    for suffix, unit in (
        ("_yuan", "yuan"),
        ("_mu", "mu"),
        ("_m2", "m2"),
        ("_rate", "ratio"),
        ("_ratio", "ratio"),
        ("_months", "month"),
        ("_count", "count"),
    ):
        if col.endswith(suffix):
            return unit
    return None


def _frame_to_nested(df: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for _, row in df.iterrows():
        out[_group_label(row[key])] = {
            c: json_scalar(row[c], _column_unit(c))
            for c in df.columns
            if c not in (key, "origins", "payment_origins", "origin")
        }
    return out


def compute_key_figures(
    tables: Mapping[str, pd.DataFrame],
    *,
    year: int,
    as_of=None,
    escalation: Escalation = DEFAULT_ESCALATION,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
    age_bands: Sequence[float] = DEFAULT_AGE_BANDS_MONTHS,
) -> dict[str, Any]:
    """The key figures of a year, flat and JSON-ready (the content of ``key_figures.json``).

    Parameters
    ----------
    tables
        Canonical tables by name (a missing one is empty); not modified.
    year
        Reporting year.
    as_of
        Reporting date (default: 31 December of ``year``).
    escalation
        Overdue escalation of the transitional fee (default: the example rule of the spec).
    payment_term_days
        Days after signing taken as the payment due date of an agreement whose
        ``payment_due_date`` is NA. The cleaner already fills missing due dates (data contract §3),
        so on cleaned tables it is applied to no agreement: ``parameters`` says to how many.
    age_bands
        Lower bounds (months) of the overdue-age bands.

    Returns
    -------
    dict
        ``year``, ``as_of`` (ISO date) and every figure of indicators.md under its name; NA is
        ``None``; yuan rounded to 0.01, 亩 to 0.0001, m² to 0.01, rates/ratios to 6 decimals,
        months to 0.01. By-group figures are nested dicts: ``blocked_mu_by_blocker``,
        ``overdue_unpaid_by_age``, ``delay_months`` (by ``site_id``), plus the breakdowns
        ``progress_by_category``, ``progress_by_zone``, ``unpaid_gap_by_project``,
        ``unpaid_gap_by_zone``, ``transition_fee_by_site``, ``transition_fee_by_zone`` and
        ``site_status``. A missing group value is keyed ``未注明``. ``missing_ledgers`` lists the
        tables that were absent or empty. ``parameters`` records the settings used and how often
        each default was actually applied: ``payment_term_days`` with
        ``payment_term_days_applied_to`` (agreements signed by ``as_of`` whose
        ``payment_due_date`` was NA), and ``agreed_months_from_site_applied_to`` (households whose
        ``agreed_months`` was NA and was taken from their site's ``promised_date``) with
        ``agreed_months_missing`` (households left without one: never counted overdue).

    Notes
    -----
    **A missing ledger is not a zero.** A table that is absent or has no rows means the office
    gave no such ledger, and every figure that needs it is ``None`` (null), not 0:

    * no ``projects``: the progress figures (``projects_count``, ``land_*``, ``house_*``, rates,
      ``*_na_count``, also by category); a ledger that has rows but none for ``year`` gives 0;
    * no ``agreements``: ``signed_agreements_yuan``, ``paid_compensation_yuan``,
      ``unpaid_gap_yuan``, ``overdue_unpaid_yuan`` and every ``overdue_unpaid_by_age`` band;
    * no ``funding``: ``funds_received_yuan``, ``cash_balance_yuan`` and
      ``funds_in_place_ratio`` (not 0 and −``total_paid_yuan``);
    * no ``transition``: ``transition_households_active`` and ``transition_fee_accrued_yuan``,
      ``_paid_yuan``, ``_arrears_yuan``, ``_overdue_extra_yuan``, ``_monthly_yuan``;
    * no ``sites``: ``sites_total``, ``sites_delivered``, ``sites_overdue``,
      ``sites_over_3_years``, ``median_build_months`` (its ``median_build_months_status`` says
      ``no_sites``);
    * ``households_waiting`` needs both ``sites`` and ``transition``; ``funds_required_yuan``
      needs ``agreements`` and ``transition``, and ``funds_in_place_ratio`` those and ``funding``.

    An empty ``payments`` ledger is different: with agreements or households present it states
    that nothing was paid, so ``total_paid_yuan``, ``paid_compensation_yuan`` and
    ``transition_fee_paid_yuan`` are 0 and the gap and arrears are owed in full. Ledgers that have
    rows but none by ``as_of`` give real zeros. The work summary
    (:func:`zhengshou_analysis.report.summary.write_work_summary`) says "无法计算" exactly where these
    figures are null.
    """
    c = _compute_all(
        tables,
        year=year,
        as_of=as_of,
        escalation=escalation,
        payment_term_days=payment_term_days,
        age_bands=age_bands,
    )
    out: dict[str, Any] = {"year": int(year), "as_of": c.as_of.date().isoformat()}
    nested: dict[str, dict[str, Any]] = {}
    by_category: dict[str, dict[str, Any]] = {}
    for r in c.records.itertuples(index=False):
        value = json_scalar(r.value, r.unit)
        if r.group is None or pd.isna(r.group):
            out[r.name] = value
        elif r.group == "category":
            by_category.setdefault(_group_label(r.scope), {})[r.name] = value
        else:
            nested.setdefault(r.name, {})[_group_label(r.scope)] = value
    out["blocked_mu_by_blocker"] = nested.get("blocked_mu_by_blocker", {})
    out["overdue_unpaid_by_age"] = nested.get("overdue_unpaid_by_age", {})
    out["delay_months"] = nested.get("delay_months", {})
    out["progress_by_category"] = by_category

    t = c.tables
    out["progress_by_zone"] = _frame_to_nested(
        compute_progress(t["projects"], year=year, by="zone"), "zone"
    )
    attrs = _project_attributes(t["projects"])
    out["unpaid_gap_by_project"] = _frame_to_nested(
        _aggregate_gap(c.balances, attrs, "project"), "project_id"
    )
    out["unpaid_gap_by_zone"] = _frame_to_nested(_aggregate_gap(c.balances, attrs, "zone"), "zone")
    site_attrs = _site_lookup(t["sites"])
    out["transition_fee_by_site"] = _frame_to_nested(
        _aggregate_fees(c.households, site_attrs, "site"), "site_id"
    )
    out["transition_fee_by_zone"] = _frame_to_nested(
        _aggregate_fees(c.households, site_attrs, "zone"), "zone"
    )
    out["site_status"] = _frame_to_nested(c.site_status, "site_id")
    out["missing_ledgers"] = c.missing
    out["parameters"] = {
        "escalation_tiers": [[int(s), float(m)] for s, m in escalation.tiers],
        "payment_term_days": int(payment_term_days),
        **c.applied,
        "age_bands_months": [float(b) for b in age_bands],
    }
    return out
