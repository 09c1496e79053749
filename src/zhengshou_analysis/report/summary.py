"""The work summary (工作总结) 完成情况 section, filled in from the canonical tables.

:func:`write_work_summary` writes the section in the source document's own wording and order — the
overall progress sentence, the 市下达 and 区统筹 sentences, then the funding gap, transitional fees,
undelivered resettlement sites and the blockers of the "last mile" — and returns, beside the text,
one row per figure it used with its value, the text it was written as, its definition (口径) and the
``origin`` of every ledger row that entered it. A figure the data cannot give is never invented: the
sentence says so (``（台账未提供征地任务数据，无法计算）``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..exceptions import ParameterError
from ..figures import Analysis, age_band_labels, age_band_labels_zh
from ..formatting import (
    fmt_count,
    fmt_date_zh,
    fmt_months,
    fmt_mu,
    fmt_pct,
    fmt_wan_m2,
    fmt_wan_yuan,
)
from ..schemas import BLOCKERS, CATEGORIES
from ..settings import DEFAULT_POLICY, Policy, default_as_of

__all__ = ["WorkSummary", "write_work_summary"]

log = logging.getLogger(__name__)

_INDENT = "\u3000\u3000"
_FIGURE_COLUMNS = ["name", "scope", "value", "text", "unit", "definition", "origins"]


@dataclass(frozen=True)
class WorkSummary:
    """The filled-in 完成情况 section and the figures behind it.

    Attributes
    ----------
    text
        The section: a heading line, then one paragraph per topic (full-width indent).
    figures
        One row per figure used: ``name`` (as in docs/indicators.md), ``scope`` (``None``, a category,
        a blocker or an age band), ``value``, ``text`` (as written in the section), ``unit``,
        ``definition`` (口径, Chinese) and ``origins`` (list of ``FILE#SHEET!ROW``).
    year, as_of
        The reporting year and date.
    """

    text: str
    figures: pd.DataFrame
    year: int
    as_of: pd.Timestamp


def _na(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA


class _Figures:
    """Look-up of figure records; remembers which ones the text used and how they were written."""

    def __init__(self, records: pd.DataFrame) -> None:
        self._rows: dict[tuple[str, str | None], dict[str, Any]] = {}
        for r in records.to_dict("records"):
            scope = None if _na(r["scope"]) else str(r["scope"])
            self._rows[(r["name"], scope)] = r
        self.used: dict[tuple[str, str | None], dict[str, Any]] = {}

    def scopes(self, name: str) -> list[str]:
        """The scopes (group values) recorded for ``name``, in record order."""
        return [scope for (n, scope) in self._rows if n == name and scope is not None]

    def value(self, name: str, scope: str | None = None):
        v = self._rows[(name, scope)]["value"]
        return None if _na(v) else v

    def text(
        self,
        name: str,
        fmt: Callable[[Any], str],
        scope: str | None = None,
        *,
        written: str | None = None,
    ) -> str:
        """``fmt(value)``, recorded as used (``written`` overrides the recorded text)."""
        r = self._rows[(name, scope)]
        value = None if _na(r["value"]) else r["value"]
        text = fmt(value)
        self.used.setdefault(
            (name, scope),
            {
                "name": name,
                "scope": scope,
                "value": value,
                "text": written if written is not None else text,
                "unit": r["unit"],
                "definition": r["definition"],
                "origins": list(r["origins"]),
            },
        )
        return text

    def frame(self) -> pd.DataFrame:
        rows = list(self.used.values())
        return pd.DataFrame(
            {c: pd.Series([r[c] for r in rows], dtype=object) for c in _FIGURE_COLUMNS}
        ).astype({"name": "str", "text": "str"})


def _count(unit: str) -> Callable[[Any], str]:
    return lambda v: fmt_count(v, unit=unit)


#: How the text names a ledger that was not provided.
_LEDGER_ZH = {
    "agreements": "征收补偿协议",
    "funding": "资金到位",
    "sites": "安置区",
    "transition": "过渡安置",
}


def _not_provided(provided: Mapping[str, bool], *names: str) -> str:
    """``（台账未提供X、Y数据，无法计算）`` for the ledgers among ``names`` that are missing."""
    missing = "、".join(_LEDGER_ZH[n] for n in names if not provided[n])
    return f"（台账未提供{missing}数据，无法计算）"


def _task_clause(
    f: _Figures,
    scope: str | None,
    *,
    kind: str,
) -> str:
    """``土地征收目标任务X亩，已完成X亩，完成率X%`` (or the 房屋 clause).

    Says so instead of a number where the data cannot give it.
    """
    fmt: Callable[[Any], str]
    if kind == "land":
        label, target, done, rate, fmt = (
            "土地征收",
            "land_target_mu",
            "land_done_mu",
            "land",
            fmt_mu,
        )
        missing_target, missing_done = "征地任务", "征地完成"
    else:
        label, target, done, rate, fmt = (
            "房屋征收",
            "house_target_m2",
            "house_done_m2",
            "house",
            fmt_wan_m2,
        )
        missing_target, missing_done = "房屋征收任务", "房屋征收完成"
    n = f.value("projects_count", scope) or 0
    parts = []
    target_na = f.value(f"{target}_na_count", scope) or 0
    target_missing = target_na >= n
    if target_missing:
        parts.append(f"{label}目标任务（台账未提供{missing_target}数据，无法计算）")
    else:
        note = f"（{target_na}个项目未填报，按0计）" if target_na else ""
        parts.append(f"{label}目标任务{f.text(target, fmt, scope)}{note}")
    done_na = f.value(f"{done}_na_count", scope) or 0
    if done_na >= n:
        parts.append(f"已完成（台账未提供{missing_done}数据，无法计算）")
    else:
        note = f"（{done_na}个项目未填报，按0计）" if done_na else ""
        parts.append(f"已完成{f.text(done, fmt, scope)}{note}")
    rate_name = f"{rate}_completion_rate"
    if f.value(rate_name, scope) is None:
        if not target_missing:
            f.text(rate_name, fmt_pct, scope, written="无法计算（目标任务为0）")
            parts.append("完成率无法计算（目标任务为0）")
    else:
        parts.append(f"完成率{f.text(rate_name, fmt_pct, scope)}")
    return "，".join(parts)


def _progress_paragraph(f: _Figures, year: int) -> list[str]:
    n = f.value("projects_count") or 0
    if n == 0:
        missing = f"（台账未提供{year}年征收项目数据，无法计算）"
        return [
            f"{year}年推进重点及统筹项目{missing}。",
            f"其中市下达项目、区统筹项目{missing}。",
        ]
    overall = (
        f"{year}年推进重点及统筹项目{f.text('projects_count', _count('个'))}，"
        f"{_task_clause(f, None, kind='land')}；{_task_clause(f, None, kind='house')}。"
    )
    by_cat = []
    categorised = 0
    for i, cat in enumerate(CATEGORIES):
        k = f.value("projects_count", cat) or 0
        categorised += k
        lead = (
            "其中" if i == 0 else ""
        ) + f"{cat}项目{f.text('projects_count', _count('个'), cat)}"
        if k == 0:
            by_cat.append(lead + "。")
        else:
            land = _task_clause(f, cat, kind="land")
            house = _task_clause(f, cat, kind="house")
            by_cat.append(f"{lead}，{land}；{house}。")
    if n > categorised:
        by_cat.append(f"另有{n - categorised}个项目未注明或不属于市下达、区统筹类别。")
    return [overall, "".join(by_cat)]


def _when(year: int, as_of: pd.Timestamp) -> str:
    return "截至年末" if as_of == default_as_of(year) else f"截至{fmt_date_zh(as_of)}"


def _funding_paragraph(
    f: _Figures,
    provided: Mapping[str, bool],
    when: str,
    age_bands: Sequence[float],
) -> str:
    parts = []
    if not provided["agreements"]:
        parts.append(f"{when}，已签协议待付款缺口资金{_not_provided(provided, 'agreements')}。")
    else:
        s = (
            f"{when}，累计签订征收补偿协议金额{f.text('signed_agreements_yuan', fmt_wan_yuan)}，"
            f"已支付补偿款{f.text('paid_compensation_yuan', fmt_wan_yuan)}，"
            f"已签协议待付款缺口资金{f.text('unpaid_gap_yuan', fmt_wan_yuan)}"
        )
        overdue = f.value("overdue_unpaid_yuan") or 0.0
        if overdue > 0:
            s += f"，其中已超过支付期限仍未支付{f.text('overdue_unpaid_yuan', fmt_wan_yuan)}"
            bands = []
            for label, zh in zip(
                age_band_labels(age_bands), age_band_labels_zh(age_bands), strict=True
            ):
                if (f.value("overdue_unpaid_by_age", label) or 0.0) > 0:
                    amount = f.text("overdue_unpaid_by_age", fmt_wan_yuan, label)
                    bands.append(f"逾期{zh}的{amount}")
            s += f"（{'、'.join(bands)}）"
        elif (f.value("unpaid_gap_yuan") or 0.0) > 0:
            f.text("overdue_unpaid_yuan", fmt_wan_yuan)
            s += "，均未超过支付期限"
        parts.append(s + "。")
    if not provided["funding"]:
        parts.append(f"征拆资金到位情况{_not_provided(provided, 'funding')}。")
    else:
        s = (
            f"累计到位征拆资金{f.text('funds_received_yuan', fmt_wan_yuan)}，"
            f"累计支付各类资金{f.text('total_paid_yuan', fmt_wan_yuan)}，"
        )
        if (f.value("cash_balance_yuan") or 0.0) >= 0:
            s += f"资金结余{f.text('cash_balance_yuan', fmt_wan_yuan)}；"
        else:
            text = f.text("cash_balance_yuan", lambda v: fmt_wan_yuan(-v))
            s += f"支出超过到位资金{text}（由其他资金垫付）；"
        if f.value("funds_required_yuan") is None:  # no agreements or no transition ledger
            s += (
                "已签协议补偿款与应计过渡安置费合计所需资金"
                f"{_not_provided(provided, 'agreements', 'transition')}，资金到位率无法计算。"
            )
        else:
            s += (
                "已签协议补偿款与应计过渡安置费合计需资金"
                f"{f.text('funds_required_yuan', fmt_wan_yuan)}，"
            )
            if f.value("funds_in_place_ratio") is not None:
                s += f"资金到位率{f.text('funds_in_place_ratio', fmt_pct)}。"
            else:
                f.text("funds_in_place_ratio", fmt_pct, written="无法计算（所需资金为0）")
                s += "资金到位率无法计算（所需资金为0）。"
        parts.append(s)
    return "".join(parts)


def _transition_paragraph(f: _Figures, provided: Mapping[str, bool], when: str) -> str:
    if not provided["transition"]:
        return f"过渡安置情况{_not_provided(provided, 'transition')}。"
    households = f.text("transition_households_active", _count("户"))
    monthly = f.text("transition_fee_monthly_yuan", fmt_wan_yuan)
    return (
        f"{when}，仍有{households}群众在外过渡安置，"
        f"每月需支付过渡安置费{monthly}/月；"
        f"累计应付过渡安置费{f.text('transition_fee_accrued_yuan', fmt_wan_yuan)}，"
        f"已支付{f.text('transition_fee_paid_yuan', fmt_wan_yuan)}，"
        f"拖欠{f.text('transition_fee_arrears_yuan', fmt_wan_yuan)}；"
        "因安置房未能在约定过渡期限内交付，累计增加过渡安置费"
        f"{f.text('transition_fee_overdue_extra_yuan', fmt_wan_yuan)}。"
    )


def _sites_paragraph(f: _Figures, provided: Mapping[str, bool], status: pd.DataFrame) -> str:
    if not provided["sites"]:
        return f"安置房建设交付情况{_not_provided(provided, 'sites')}。"
    s = (
        f"已开工安置区{f.text('sites_total', _count('个'))}，"
        f"已交付{f.text('sites_delivered', _count('个'))}，"
        f"逾期未交付{f.text('sites_overdue', _count('个'))}"
    )
    late = status.loc[status["over_3_years"]].sort_values("start_date", kind="stable")
    names = "、".join(late["site_name"].astype("str"))
    if len(late):
        f.text("sites_over_3_years", _count("个"), written=f"{len(late)}个（{names}）")
        s += f"，其中{names}超过3年未交付"
    else:
        f.text("sites_over_3_years", _count("个"))
        s += "，无超过3年未交付的安置区"
    if provided["transition"]:
        s += f"，{f.text('households_waiting', _count('户'))}群众仍在等待回迁安置"
    else:
        s += f"，等待回迁安置户数{_not_provided(provided, 'transition')}"
    state = f.value("median_build_months_status")
    if state == "reached":
        median = f.text("median_build_months", fmt_months)
        s += f"；安置区建设周期中位数为{median}（含在建安置区，按生存分析测算）"
    elif state == "not_reached":
        f.text("median_build_months", lambda _: "尚未达到")
        s += "；交付的安置区尚不足半数，建设周期中位数尚未达到"
    return s + "。"


def _blockers_paragraph(f: _Figures, year: int) -> str:
    if not (f.value("projects_count") or 0):
        return f"征地“最后一公里”卡点面积（台账未提供{year}年征收项目数据，无法计算）。"
    present = [
        b
        for b in f.scopes("blocked_mu_by_blocker")
        if (f.value("blocked_mu_by_blocker", b) or 0) > 0
    ]
    if not present:
        return "台账未登记征地“最后一公里”卡点面积。"
    ordered = [b for b in BLOCKERS if b in present] + [b for b in present if b not in BLOCKERS]
    items = [f"{b}{f.text('blocked_mu_by_blocker', fmt_mu, b)}" for b in ordered]
    return f"剩余未完成征地中，涉及{'、'.join(items)}，“最后一公里”问题亟待破解。"


def write_work_summary(
    tables: Mapping[str, pd.DataFrame] | None = None,
    *,
    year: int,
    as_of=None,
    policy: Policy = DEFAULT_POLICY,
    analysis: Analysis | None = None,
) -> WorkSummary:
    """Write the 完成情况 section of the year's work summary from the canonical tables.

    Parameters
    ----------
    tables
        Canonical tables by name (``projects``, ``agreements``, ``payments``, ``funding``,
        ``sites``, ``transition``); a missing or empty one makes its sentences say the figure
        cannot be computed. Not modified.
    year
        Reporting year.
    as_of
        Reporting date (default 31 December of ``year``; the text then says 截至年末).
    policy
        The office's policy the figures apply (:class:`~zhengshou_analysis.settings.Policy`).
    analysis
        An analysis context of the same period to read the figures from (computed once and
        shared with the rest of the page); when given, ``tables``, ``as_of`` and ``policy`` are
        taken from it.

    Returns
    -------
    WorkSummary
        ``.text`` and ``.figures`` (see :class:`WorkSummary`).

    Notes
    -----
    Formats: 万元, 万平方米 to 2 decimals; 亩 to at most 2 decimals; percentages to 1 decimal;
    counts as integers (:mod:`zhengshou_analysis.formatting`).

    A sentence says "无法计算" exactly where the key figures
    (:func:`~zhengshou_analysis.figures.compute_key_figures`) are null because a ledger is
    missing (an absent or empty table); the figures, the site status and the ledger check come
    from one computation.
    """
    if analysis is None:
        if tables is None:
            raise ParameterError("write_work_summary needs the tables or an analysis context")
        analysis = Analysis(tables, year=year, as_of=as_of, policy=policy)
    as_of = analysis.as_of
    age_bands = analysis.policy.age_bands_months
    f = _Figures(analysis.records)
    provided = analysis.provided
    when = _when(year, as_of)
    paragraphs = [
        *_progress_paragraph(f, year),
        _funding_paragraph(f, provided, when, age_bands),
        _transition_paragraph(f, provided, when),
        _sites_paragraph(f, provided, analysis.site_status),
        _blockers_paragraph(f, year),
    ]
    text = "\n".join([f"一、{year}年工作完成情况", *(_INDENT + p for p in paragraphs)]) + "\n"
    log.info("work summary %s: %d figures used", year, len(f.used))
    return WorkSummary(text=text, figures=f.frame(), year=int(year), as_of=as_of)


def write_forward_answers(
    gap, delivery, *, horizon_months: int | None = None, previous: pd.DataFrame | None = None
) -> str:
    """The three forward questions of the overview, answered from forecast results, in Chinese.

    Plain words for leaders: dates to the month, counts as whole numbers, "一半把握" (the median)
    and "九成把握" (the 90th percentile) instead of P50/P90, no method names.

    Parameters
    ----------
    gap
        ``forecasts.forecast_funding_gap(...)`` result (its first scenario is the baseline).
    delivery
        ``survival.forecast_site_delivery(...)`` result.
    horizon_months
        The forecast horizon (default: from ``gap.assumptions``).
    previous
        :attr:`ForecastReview.previous <zhengshou_analysis.figures.review.ForecastReview.previous>`
        (the previous run's forecast): its gap median is set beside this one's.

    Returns
    -------
    str
        Three paragraphs: when sites will be delivered, what transitional fees will cost, whether
        the money will be there (the stock gap and the full gap); each says how uncertain it is.
    """
    from ..formatting import fmt_count, fmt_month_zh, fmt_pct, fmt_wan_yuan

    h = int(horizon_months or gap.assumptions.get("horizon_months", 12))
    sites = delivery.summary
    if sites.empty:
        q1 = "一、安置区何时交付：目前没有未交付的安置区。"
    else:
        expected = float(sites["prob_delivered_in_horizon"].sum())
        first = sites.sort_values("p50_date").iloc[0]
        q1 = (
            f"一、安置区何时交付：{len(sites)}个未交付安置区，有一半把握最早交付的是"
            f"{first['site_name']}（{fmt_month_zh(first['p50_date'])}前），最晚的一半把握在"
            f"{fmt_month_zh(sites['p50_date'].max())}前；要有九成把握，最晚的可能拖到"
            f"{fmt_month_zh(sites['p90_date'].max())}。未来{h}个月内预计交付约"
            f"{fmt_count(expected)}个。"
        )
    base = gap.summary.iloc[0]
    by_site = gap.frames.get("fees_by_site")
    delay = (
        float(by_site["delay_cost_month_yuan"].sum())
        if by_site is not None and len(by_site)
        else 0.0
    )
    q2 = (
        f"二、过渡安置费要花多少：未来{h}个月预计需支付过渡安置费{fmt_wan_yuan(base['fee_p50_yuan'])}"
        f"左右（多则{fmt_wan_yuan(base['fee_p90_yuan'])}）；未交付安置区每再推迟交付1个月，"
        f"约增加{fmt_wan_yuan(delay)}。"
    )

    def gap_text(x: float) -> str:
        return f"缺口{fmt_wan_yuan(x)}" if x > 0 else f"结余{fmt_wan_yuan(-x)}"

    def chance(p: float) -> str:
        """A probability as leaders read it: whole percent, never a bare 0% or 100%."""
        if p < 0.01:
            return "不到1%"
        if p > 0.99:
            return "超过99%"
        return fmt_pct(p, decimals=0)

    q3 = (
        f"三、资金够不够：到预测期末（{h}个月后），只算统计日已有的应付款（到期的补偿款、拖欠和预测期内"
        f"应付的过渡费）减去资金结余和预计新增到位资金，中间估计为"
        f"{gap_text(float(base['stock_gap_p50_yuan']))}；再算上预测期内预计新签协议中到期要付的补偿款"
        f"（全口径），中间估计为{gap_text(float(base['gap_p50_yuan']))}，九成把握不超过"
        f"{gap_text(float(base['gap_p90_yuan']))}，资金够用的可能性"
        f"{chance(float(base['prob_gap_closed']))}。"
    )
    others = gap.summary.iloc[1:]
    if len(others):
        q3 += (
            "其他情景："
            + "；".join(
                f"{r['description']}时可能性{chance(float(r['prob_gap_closed']))}"
                for _, r in others.iterrows()
            )
            + "。"
        )
    if previous is not None and len(previous) and "gap_p50_yuan" in previous:
        p = previous.iloc[0]
        then = pd.Timestamp(p["origin"])
        when = f"{then.year}年末" if then.month == 12 else f"{then.year}年{then.month}月末"
        q3 += (
            f"上期（{when}）预测的全口径中间估计为{gap_text(float(p['gap_p50_yuan']))}，"
            f"够用的可能性{chance(float(p['prob_gap_closed']))}。"
        )
    return f"{q1}\n{q2}\n{q3}"
