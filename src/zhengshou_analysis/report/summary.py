"""The work summary (工作总结): 完成情况, 存在问题 and the forward answers, filled in from the figures.

:func:`write_work_summary` writes the 完成情况 section in the source document's own wording and
order — the overall progress sentence, the 市下达 and 区统筹 sentences, then the funding gap,
transitional fees, undelivered resettlement sites and the blockers of the "last mile" — and returns,
beside the text, one row per figure it used with its value, the text it was written as, its
definition (口径) and the ``origin`` of every ledger row that entered it. A figure the data cannot
give is never invented: the sentence says so (``（台账未提供征地任务数据，无法计算）``).

:func:`write_problems` drafts the 存在问题 section from the same figures: one paragraph per problem
the figures show (funding gap and overdue arrears by age, transitional-fee arrears, sites more than
three years late, the blockers), none for a problem they do not show.

:func:`forward_answers` (and :func:`write_forward_answers`, the same as one text) answers the three
forward questions in plain words.

Money in the prose is written as reports write it (:func:`~zhengshou_analysis.formatting.fmt_yuan_prose`:
``13.00亿元``, ``1,234.57万元``); areas get thousands separators (``7,760.31亩``).
"""

from __future__ import annotations

import logging
import math
import re
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
    fmt_yuan_prose,
)
from ..schemas import BLOCKERS, CATEGORIES
from ..settings import DEFAULT_POLICY, Policy, default_as_of

__all__ = [
    "Problem",
    "WorkSummary",
    "forward_answers",
    "write_forward_answers",
    "write_problems",
    "write_work_summary",
]

log = logging.getLogger(__name__)

_INDENT = "\u3000\u3000"
_FIGURE_COLUMNS = ["name", "scope", "value", "text", "unit", "definition", "origins"]


@dataclass(frozen=True)
class WorkSummary:
    """The filled-in 完成情况 section and the figures behind it.

    Attributes
    ----------
    text
        The section's paragraphs, one per line, each with a full-width indent (no heading line:
        the page or document gives the heading, see ``heading``).
    figures
        One row per figure used: ``name`` (as in docs/indicators.md), ``scope`` (``None``, a category,
        a blocker or an age band), ``value``, ``text`` (as written in the section), ``unit``,
        ``definition`` (口径, Chinese) and ``origins`` (list of ``FILE#SHEET!ROW``).
    year, as_of
        The reporting year and date.
    paragraphs
        The paragraphs of ``text`` without their indent (for a document that indents by style).
    heading
        The section's heading without a number: ``2021年工作完成情况``.
    """

    text: str
    figures: pd.DataFrame
    year: int
    as_of: pd.Timestamp
    paragraphs: tuple[str, ...] = ()
    heading: str = ""


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


_DIGIT_RUN = re.compile(r"(?<![\d.,])\d{4,}")


def _grouped(text: str) -> str:
    """Thousands separators in the integer parts of a formatted number (``7760.31亩`` → ``7,760.31亩``).

    Idempotent: a number already grouped is left as it is.
    """
    return _DIGIT_RUN.sub(lambda m: f"{int(m.group()):,}", text)


def _mu(v) -> str:
    return _grouped(fmt_mu(v))


def _wan_m2(v) -> str:
    return _grouped(fmt_wan_m2(v))


_yuan = fmt_yuan_prose


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
            _mu,
        )
        missing_target, missing_done = "征地任务", "征地完成"
    else:
        label, target, done, rate, fmt = (
            "房屋征收",
            "house_target_m2",
            "house_done_m2",
            "house",
            _wan_m2,
        )
        missing_target, missing_done = "房屋征收任务", "房屋征收完成"
    n = f.value("projects_count", scope) or 0
    parts = []
    target_na = f.value(f"{target}_na_count", scope) or 0
    done_na = f.value(f"{done}_na_count", scope) or 0
    target_missing = target_na >= n
    done_missing = done_na >= n
    # the same projects missing both: one note after both numbers, not the same note twice
    shared = bool(target_na) and target_na == done_na and not target_missing and not done_missing
    if target_missing:
        parts.append(f"{label}目标任务（台账未提供{missing_target}数据，无法计算）")
    else:
        note = f"（{target_na}个项目未填报，按0计）" if target_na and not shared else ""
        parts.append(f"{label}目标任务{f.text(target, fmt, scope)}{note}")
    if done_missing:
        parts.append(f"已完成（台账未提供{missing_done}数据，无法计算）")
    else:
        if shared:
            note = f"（目标任务和完成量均有{done_na}个项目未填报，按0计）"
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
            f"{when}，累计签订征收补偿协议金额{f.text('signed_agreements_yuan', _yuan)}，"
            f"已支付补偿款{f.text('paid_compensation_yuan', _yuan)}，"
            f"已签协议待付款缺口资金{f.text('unpaid_gap_yuan', _yuan)}"
        )
        overdue = f.value("overdue_unpaid_yuan") or 0.0
        if overdue > 0:
            s += f"，其中已超过支付期限仍未支付{f.text('overdue_unpaid_yuan', _yuan)}"
            bands = []
            for label, zh in zip(
                age_band_labels(age_bands), age_band_labels_zh(age_bands), strict=True
            ):
                if (f.value("overdue_unpaid_by_age", label) or 0.0) > 0:
                    amount = f.text("overdue_unpaid_by_age", _yuan, label)
                    bands.append(f"逾期{zh}的{amount}")
            s += f"（{'、'.join(bands)}）"
        elif (f.value("unpaid_gap_yuan") or 0.0) > 0:
            f.text("overdue_unpaid_yuan", _yuan)
            s += "，均未超过支付期限"
        parts.append(s + "。")
    if not provided["funding"]:
        parts.append(f"征拆资金到位情况{_not_provided(provided, 'funding')}。")
    else:
        s = (
            f"累计到位征拆资金{f.text('funds_received_yuan', _yuan)}，"
            f"累计支付各类资金{f.text('total_paid_yuan', _yuan)}，"
        )
        if (f.value("cash_balance_yuan") or 0.0) >= 0:
            s += f"资金结余{f.text('cash_balance_yuan', _yuan)}；"
        else:
            text = f.text("cash_balance_yuan", lambda v: _yuan(-v))
            s += f"支出超过到位资金{text}（由其他资金垫付）；"
        if f.value("funds_required_yuan") is None:  # no agreements or no transition ledger
            s += (
                "已签协议补偿款与应计过渡安置费合计所需资金"
                f"{_not_provided(provided, 'agreements', 'transition')}，资金到位率无法计算。"
            )
        else:
            s += f"已签协议补偿款与应计过渡安置费合计需资金{f.text('funds_required_yuan', _yuan)}，"
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
    monthly = f.text("transition_fee_monthly_yuan", _yuan)
    return (
        f"{when}，仍有{households}群众在外过渡安置，"
        f"每月需支付过渡安置费{monthly}；"
        f"累计应付过渡安置费{f.text('transition_fee_accrued_yuan', _yuan)}，"
        f"已支付{f.text('transition_fee_paid_yuan', _yuan)}，"
        f"拖欠{f.text('transition_fee_arrears_yuan', _yuan)}；"
        "因安置房未能在约定过渡期限内交付，累计增加过渡安置费"
        f"{f.text('transition_fee_overdue_extra_yuan', _yuan)}。"
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
    items = [f"{b}{f.text('blocked_mu_by_blocker', _mu, b)}" for b in ordered]
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
    Formats: money as :func:`~zhengshou_analysis.formatting.fmt_yuan_prose` (亿元 from one 亿
    up, else 万元, 2 decimals, thousands separators); 万平方米 to 2 decimals; 亩 to at most 2
    decimals; percentages to 1 decimal; counts as integers (:mod:`zhengshou_analysis.formatting`).

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
    text = "".join(_INDENT + p + "\n" for p in paragraphs)
    log.info("work summary %s: %d figures used", year, len(f.used))
    return WorkSummary(
        text=text,
        figures=f.frame(),
        year=int(year),
        as_of=as_of,
        paragraphs=tuple(paragraphs),
        heading=f"{year}年工作完成情况",
    )


@dataclass(frozen=True)
class Problem:
    """One paragraph of the 存在问题 section, drafted from the figures.

    Attributes
    ----------
    topic
        ``funding``, ``transition``, ``sites`` or ``blockers``.
    title
        The problem in a few words, without a number (``征拆资金缺口``); a document numbers it.
    text
        The paragraph: every number in it is a figure of the period (see ``figures``).
    figures
        One row per figure used, as :attr:`WorkSummary.figures`.
    """

    topic: str
    title: str
    text: str
    figures: pd.DataFrame


def _funding_problem(f: _Figures, when: str, age_bands: Sequence[float]) -> str | None:
    """The unpaid gap with its overdue part by age, and a shortfall of the funds in place."""
    sentences = []
    if (f.value("overdue_unpaid_yuan") or 0.0) > 0:  # a gap not yet due is no problem
        bands = [
            f"{zh}的{f.text('overdue_unpaid_by_age', _yuan, label)}"
            for label, zh in zip(
                age_band_labels(age_bands), age_band_labels_zh(age_bands), strict=True
            )
            if (f.value("overdue_unpaid_by_age", label) or 0.0) > 0
        ]
        sentences.append(
            f"{when}，已签协议待付款缺口资金{f.text('unpaid_gap_yuan', _yuan)}，"
            f"其中{f.text('overdue_unpaid_yuan', _yuan)}已超过支付期限仍未支付，"
            f"按逾期时长分：{'、'.join(bands)}。"
        )
    ratio = f.value("funds_in_place_ratio")
    if ratio is not None and ratio < 1:
        sentences.append(
            f"已签协议补偿款与应计过渡安置费合计需资金{f.text('funds_required_yuan', _yuan)}，"
            f"累计到位征拆资金{f.text('funds_received_yuan', _yuan)}，"
            f"资金到位率{f.text('funds_in_place_ratio', fmt_pct)}，到位资金不足。"
        )
    balance = f.value("cash_balance_yuan")
    if balance is not None and balance < 0:
        text = f.text("cash_balance_yuan", lambda v: _yuan(-v))
        sentences.append(f"累计支出已超过到位资金{text}，由其他资金垫付。")
    return "".join(sentences) or None


def _transition_problem(f: _Figures, when: str) -> str | None:
    """Transitional-fee arrears and the extra fees caused by late delivery."""
    arrears = f.value("transition_fee_arrears_yuan") or 0.0
    extra = f.value("transition_fee_overdue_extra_yuan") or 0.0
    if arrears <= 0 and extra <= 0:
        return None
    parts = []
    if arrears > 0:
        parts.append(
            f"{when}，拖欠群众过渡安置费{f.text('transition_fee_arrears_yuan', _yuan)}"
            f"（累计应付{f.text('transition_fee_accrued_yuan', _yuan)}，"
            f"已支付{f.text('transition_fee_paid_yuan', _yuan)}）"
        )
    if extra > 0:
        lead = "" if parts else f"{when}，"
        parts.append(
            f"{lead}因安置房未能在约定过渡期限内交付，累计增加过渡安置费"
            f"{f.text('transition_fee_overdue_extra_yuan', _yuan)}"
        )
    monthly = f.value("transition_fee_monthly_yuan") or 0.0
    tail = ""
    if monthly > 0:
        households = f.text("transition_households_active", _count("户"))
        tail = f"；{households}群众仍在外过渡，每月需支付{f.text('transition_fee_monthly_yuan', _yuan)}"
    return "；".join(parts) + tail + "。"


def _sites_problem(f: _Figures, status: pd.DataFrame) -> str | None:
    """Sites more than three years late (named) and the households still waiting."""
    late = status.loc[status["over_3_years"]].sort_values("start_date", kind="stable")
    if not len(late):
        return None
    names = "、".join(late["site_name"].astype("str"))
    f.text("sites_over_3_years", _count("个"), written=f"{len(late)}个（{names}）")
    s = (
        f"已开工的{f.text('sites_total', _count('个'))}安置区中，"
        f"{f.text('sites_overdue', _count('个'))}已超过约定交付日期仍未交付；"
        f"{names}共{len(late)}个安置区开工已超过3年仍未交付"
    )
    waiting = f.value("households_waiting")
    if waiting:
        s += f"，{f.text('households_waiting', _count('户'))}群众仍在等待回迁安置"
    return s + "。"


def _blockers_problem(f: _Figures) -> str | None:
    """The blocked area by type, the largest first."""
    present = [
        b
        for b in f.scopes("blocked_mu_by_blocker")
        if (f.value("blocked_mu_by_blocker", b) or 0) > 0
    ]
    if not present:
        return None
    areas = {b: float(f.value("blocked_mu_by_blocker", b)) for b in present}
    ordered = sorted(present, key=lambda b: -areas[b])  # stable: ties keep the registry order
    items = [f"{b}{f.text('blocked_mu_by_blocker', _mu, b)}" for b in ordered]
    total = _mu(sum(areas.values()))
    return (
        f"剩余未完成征地中，因卡点无法推进的面积合计{total}，其中{'、'.join(items)}，"
        "需协调有关单位逐项破解。"
    )


def write_problems(analysis: Analysis) -> list[Problem]:
    """Draft the 存在问题 section from the period's figures: one paragraph per problem shown.

    Parameters
    ----------
    analysis
        The analysis context of the period (not modified).

    Returns
    -------
    list of Problem
        In this order, each only when its figures show the problem: ``funding`` (compensation
        overdue, with the unpaid gap of signed agreements and the overdue part by age band; funds
        in place below what is needed; spending above the funds received), ``transition`` (transitional-fee arrears, the extra
        fees of late delivery), ``sites`` (sites not delivered more than three years after the
        start, named), ``blockers`` (the blocked area by type, in 亩). Empty when the figures show
        none of them, or when the ledgers that would show them are missing.

    Notes
    -----
    Every number is a figure of the registry for the period (``Problem.figures``), formatted as in
    :func:`write_work_summary`; the blocked total is the sum of the blocker figures.
    """
    records = analysis.records
    when = _when(analysis.year, analysis.as_of)
    drafts: list[tuple[str, str, Callable[[_Figures], str | None]]] = [
        (
            "funding",
            "征拆资金缺口",
            lambda f: _funding_problem(f, when, analysis.policy.age_bands_months),
        ),
        ("transition", "过渡安置费拖欠", lambda f: _transition_problem(f, when)),
        ("sites", "安置区超过3年未交付", lambda f: _sites_problem(f, analysis.site_status)),
        ("blockers", "征地“最后一公里”卡点", _blockers_problem),
    ]
    out = []
    for topic, title, draft in drafts:
        f = _Figures(records)  # a recorder per problem: each lists its own figures
        text = draft(f)
        if text is not None:
            out.append(Problem(topic=topic, title=title, text=text, figures=f.frame()))
    log.info("problems %s: %s", analysis.year, [p.topic for p in out])
    return out


def forward_answers(
    gap, delivery, *, horizon_months: int | None = None, previous: pd.DataFrame | None = None
) -> list[tuple[str, str]]:
    """The three forward questions and their answers in plain words: ``[(question, answer), …]``.

    The same parameters and wording as :func:`write_forward_answers`, one pair per question
    (``("安置区何时交付", "7个未交付安置区，…")``), for a document that sets the questions as
    headings.
    """
    from ..formatting import fmt_count, fmt_month_zh, fmt_pct

    h = int(horizon_months or gap.assumptions.get("horizon_months", 12))
    sites = delivery.summary
    if sites.empty:
        q1 = "目前没有未交付的安置区。"
    else:
        expected = float(sites["prob_delivered_in_horizon"].sum())
        first = sites.sort_values("p50_date").iloc[0]
        q1 = (
            f"{len(sites)}个未交付安置区，有一半把握最早交付的是"
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
        f"未来{h}个月预计需支付过渡安置费{_yuan(base['fee_p50_yuan'])}"
        f"左右（多则{_yuan(base['fee_p90_yuan'])}）；未交付安置区每再推迟交付1个月，"
        f"约增加{_yuan(delay)}。"
    )

    def gap_text(x: float) -> str:
        return f"缺口{_yuan(x)}" if x > 0 else f"结余{_yuan(-x)}"

    def chance(p: float) -> str:
        """A probability as leaders read it: whole percent, never a bare 0% or 100%."""
        if p < 0.01:
            return "不到1%"
        if p > 0.99:
            return "超过99%"
        return fmt_pct(p, decimals=0)

    q3 = (
        f"到预测期末（{h}个月后），只算统计日已有的应付款（到期的补偿款、拖欠和预测期内"
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
    return [("安置区何时交付", q1), ("过渡安置费要花多少", q2), ("资金够不够", q3)]


def write_forward_answers(
    gap, delivery, *, horizon_months: int | None = None, previous: pd.DataFrame | None = None
) -> str:
    """The three forward questions of the overview, answered from forecast results, in Chinese.

    Plain words for leaders: dates to the month, counts as whole numbers, "一半把握" (the median)
    and "九成把握" (the 90th percentile) instead of P50/P90, no method names; money as
    :func:`~zhengshou_analysis.formatting.fmt_yuan_prose`.

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
        Three paragraphs (``一、安置区何时交付：…``): when sites will be delivered, what
        transitional fees will cost, whether the money will be there (the stock gap and the full
        gap); each says how uncertain it is.
    """
    pairs = forward_answers(gap, delivery, horizon_months=horizon_months, previous=previous)
    return "\n".join(f"{n}、{q}：{a}" for n, (q, a) in zip("一二三", pairs, strict=True))
