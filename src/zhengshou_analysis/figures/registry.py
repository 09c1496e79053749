"""The figure registry: one declaration per figure, from which everything that lists figures derives.

Each :class:`Figure` names a figure (its key in ``key_figures.json``), its Chinese label, its unit,
its definition (口径, written into every report's appendix and into ``docs/indicators.md``), the
ledgers it needs (without them it is null, never 0) and the function that builds it. Grepping a
figure's name lands here, and the declaration names its builder.

Derived from :data:`FIGURES`: the records of :meth:`Analysis.records
<zhengshou_analysis.figures.context.Analysis.records>` (the work summary reads them),
``key_figures.json`` (:func:`~zhengshou_analysis.figures.keyfile.compute_key_figures`), the
headline table and the 口径 appendix of the reports, the index columns of the batch, and
``docs/indicators.md`` (:func:`render_indicators_doc`; a test keeps the committed file current).

Breakdowns (:class:`Breakdown`) are the tidy tables ``key_figures.json`` nests by group (by 片区,
by project, by site); they are declared here too, with their builder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from . import fees, funding, outlook, progress, sites
from .common import fmt_num
from .funding import age_band_labels_zh

if TYPE_CHECKING:
    from ..settings import Escalation, Policy
    from .common import Value
    from .context import Analysis

__all__ = [
    "BREAKDOWNS",
    "FIGURES",
    "SECTIONS",
    "Breakdown",
    "Figure",
    "Section",
    "definitions",
    "figure",
    "render_indicators_doc",
]

Unit = Literal["yuan", "mu", "m2", "count", "ratio", "month", "date", "text"]
Ledger = Literal["projects", "agreements", "payments", "funding", "sites", "transition"]
Builder = Callable[["Analysis", "Figure"], "Value | list[Value]"]


@dataclass(frozen=True)
class Figure:
    """One figure, declared once.

    Attributes
    ----------
    name
        Key in ``key_figures.json`` and in the records (ASCII, unit in the name).
    label
        Chinese label for readers, without the unit (``资金到位率``).
    unit
        ``yuan``, ``mu``, ``m2``, ``count``, ``ratio``, ``month``, ``date`` or ``text``.
    section
        The :data:`SECTIONS` key the figure belongs to.
    definition
        The 口径 (Chinese). Fields in braces are filled from the policy by :func:`definitions`:
        ``{payment_term_days}``, ``{payment_term_note}``, ``{age_bands}``, ``{escalation}``,
        ``{agreed_months_note}``.
    build
        The builder: ``build(analysis, figure)`` returns one :class:`~.common.Value` or a list
        of them (several scopes: by category, by blocker, by age band, by site).
    needs
        The ledgers the figure needs: when one is absent or empty, the value is ``None``.
    group
        For a figure that is only given per group (``blocker``, ``age_band``, ``site``): the
        group, and ``key_figures.json`` nests it by scope. ``None`` for an overall figure.
    by_category
        The progress figures are also given per 类别 (``progress_by_category``).
    counter
        Measure word of a count (``个``, ``户``).
    headline
        Shown in the headline table of the overview (in declaration order).
    index
        Shown as a column of the batch index (in declaration order).
    ratio_of
        For a ratio that is one figure divided by another: ``(numerator, denominator)``, the
        names of those two figures. Across several offices (the city view) the ratio is
        recomputed from their sums, never averaged.
    """

    name: str
    label: str
    unit: Unit
    section: str
    definition: str
    build: Builder
    needs: tuple[Ledger, ...] = ()
    group: str | None = None
    by_category: bool = False
    counter: str = ""
    headline: bool = False
    index: bool = False
    ratio_of: tuple[str, str] | None = None

    @property
    def additive(self) -> bool:
        """Whether the figure of several offices together is the sum of theirs.

        Amounts (yuan, 亩, m², counts) of the ledgers as known at the reporting date, given
        overall (not per group), are; ratios, months (a median), dates, text and the forecasts
        (a sum of medians is not the median of the sum) are not. A ratio with :attr:`ratio_of`
        is recomputed from the sums of its two parts.
        """
        return (
            self.unit in ("yuan", "mu", "m2", "count")
            and self.group is None
            and self.section != "forecast"
        )

    @property
    def label_with_unit(self) -> str:
        """The label with the unit readers see (``累计签约补偿金额（万元）``)."""
        unit = {
            "yuan": "万元",
            "mu": "亩",
            "m2": "万平方米",
            "month": "月",
            "count": self.counter,
        }.get(self.unit, "")
        return f"{self.label}（{unit}）" if unit else self.label


@dataclass(frozen=True)
class Breakdown:
    """A tidy table nested by group in ``key_figures.json`` (``{group value: {column: value}}``).

    ``build(analysis)`` returns the nested mapping, JSON-ready.
    """

    name: str
    label: str
    section: str
    description: str
    build: Callable[[Analysis], Mapping[str, Any]]
    needs: tuple[Ledger, ...] = ()


@dataclass(frozen=True)
class Section:
    """A group of figures in the documentation and the appendix, with its general rules."""

    title: str
    intro: str = ""
    figures: list[str] = field(default_factory=list)


_NA_NOTE = "（缺失值按0计入，缺失行数另列为 {name}_na_count）"


def _progress_sum(name: str, label: str, unit: Unit, what: str, *, headline: bool) -> Figure:
    return Figure(
        name,
        label,
        unit,
        "progress",
        f"报告年度各项目{what}之和" + _NA_NOTE.format(name=name) + "。",
        build=progress.build_progress_figure,
        needs=("projects",),
        by_category=True,
        headline=headline,
    )


def _na_count(name: str, column: str, what: str) -> Figure:
    return Figure(
        name,
        f"{what}未填报的项目数",
        "count",
        "progress",
        f"报告年度 {column} 缺失（未填报）的项目行数。",
        build=progress.build_progress_figure,
        needs=("projects",),
        by_category=True,
        counter="个",
    )


#: Every figure, in the order the documentation and the appendix list them.
FIGURES: tuple[Figure, ...] = (
    # progress (完成情况) of the reporting year
    Figure(
        "projects_count",
        "推进项目",
        "count",
        "progress",
        "报告年度在征收项目台账中有该年度记录的项目个数（按项目编号计）。",
        build=progress.build_progress_figure,
        needs=("projects",),
        by_category=True,
        counter="个",
        headline=True,
        index=True,
    ),
    _progress_sum("land_target_mu", "土地征收目标任务", "mu", "征地目标任务（亩）", headline=True),
    _na_count("land_target_mu_na_count", "land_target_mu", "征地任务"),
    _progress_sum("land_done_mu", "已完成征地", "mu", "已完成征地面积（亩）", headline=True),
    _na_count("land_done_mu_na_count", "land_done_mu", "已完成征地"),
    _progress_sum(
        "house_target_m2", "房屋征收目标任务", "m2", "房屋征收目标任务（平方米）", headline=True
    ),
    _na_count("house_target_m2_na_count", "house_target_m2", "房屋征收任务"),
    _progress_sum(
        "house_done_m2", "已完成房屋征收", "m2", "已完成房屋征收面积（平方米）", headline=True
    ),
    _na_count("house_done_m2_na_count", "house_done_m2", "已完成房屋征收"),
    Figure(
        "land_completion_rate",
        "征地完成率",
        "ratio",
        "progress",
        "征地完成率 = 已完成征地面积 ÷ 征地目标任务；目标任务为0时不计算（NA），可超过100%。",
        build=progress.build_progress_figure,
        needs=("projects",),
        by_category=True,
        headline=True,
        index=True,
        ratio_of=("land_done_mu", "land_target_mu"),
    ),
    Figure(
        "house_completion_rate",
        "房屋征收完成率",
        "ratio",
        "progress",
        "房屋征收完成率 = 已完成房屋征收面积 ÷ 房屋征收目标任务；目标任务为0时不计算（NA），"
        "可超过100%。",
        build=progress.build_progress_figure,
        needs=("projects",),
        by_category=True,
        ratio_of=("house_done_m2", "house_target_m2"),
    ),
    Figure(
        "blocked_mu_by_blocker",
        "卡点面积（按卡点类型）",
        "mu",
        "progress",
        "报告年度各项目卡点面积（亩）按卡点类型（公建单位、军事用地、双高糖料蔗基地、留用地等）"
        "分别求和。",
        build=progress.build_blocked_mu_by_blocker,
        needs=("projects",),
        group="blocker",
    ),
    # funding (征拆资金), cumulative to as_of
    Figure(
        "signed_agreements_yuan",
        "累计签约补偿金额",
        "yuan",
        "funding",
        "签约日期不晚于统计日的全部征收补偿协议（各年度累计）补偿总额之和。",
        build=funding.build_signed_agreements_yuan,
        needs=("agreements",),
        headline=True,
    ),
    Figure(
        "paid_compensation_yuan",
        "已支付补偿款",
        "yuan",
        "funding",
        "统计日前（含当日）支付给上述协议的补偿款（款项类型为补偿款）之和。",
        build=funding.build_paid_compensation_yuan,
        needs=("agreements",),
    ),
    Figure(
        "unpaid_gap_yuan",
        "已签协议待付款缺口",
        "yuan",
        "funding",
        "已签协议待付款缺口：逐份协议计算 max(补偿总额 − 已付补偿款, 0) 后求和；超付的协议按0计，"
        "不与其他协议抵减。",
        build=funding.build_unpaid_gap_yuan,
        needs=("agreements",),
        headline=True,
        index=True,
    ),
    Figure(
        "overdue_unpaid_yuan",
        "其中已逾期未付",
        "yuan",
        "funding",
        "上述缺口中支付期限早于统计日的协议部分之和（支付期限以协议台账为准；支付期限缺失的协议按"
        "签约日期后{payment_term_days}天计{payment_term_note}）。",
        build=funding.build_overdue_unpaid_yuan,
        needs=("agreements",),
        headline=True,
    ),
    Figure(
        "overdue_unpaid_by_age",
        "逾期未付按账龄",
        "yuan",
        "funding",
        "逾期未付缺口按逾期时长（统计日 − 支付期限，天数÷30.4375折算月，含下限）分段：{age_bands}。",
        build=funding.build_overdue_unpaid_by_age,
        needs=("agreements",),
        group="age_band",
    ),
    Figure(
        "funds_received_yuan",
        "累计到位征拆资金",
        "yuan",
        "funding",
        "到账日期不晚于统计日的征拆资金到位金额之和。",
        build=funding.build_funds_received_yuan,
        needs=("funding",),
        headline=True,
    ),
    Figure(
        "total_paid_yuan",
        "累计支付各类资金",
        "yuan",
        "funding",
        "统计日前（含当日）各类支付（补偿款、过渡安置费、工作经费等）之和。",
        build=funding.build_total_paid_yuan,
    ),
    Figure(
        "cash_balance_yuan",
        "资金结余",
        "yuan",
        "funding",
        "资金结余 = 到位资金 − 累计支付；为负表示由其他资金垫付。",
        build=funding.build_cash_balance_yuan,
        needs=("funding",),
    ),
    Figure(
        "funds_required_yuan",
        "所需资金",
        "yuan",
        "funding",
        "所需资金 = 已签协议补偿总额 + 累计应计过渡安置费。",
        build=funding.build_funds_required_yuan,
        needs=("agreements", "transition"),
    ),
    Figure(
        "funds_in_place_ratio",
        "资金到位率",
        "ratio",
        "funding",
        "资金到位率 = 到位资金 ÷（已签协议补偿总额 + 累计应计过渡安置费）；分母为0时不计算。",
        build=funding.build_funds_in_place_ratio,
        needs=("funding", "agreements", "transition"),
        headline=True,
        index=True,
        ratio_of=("funds_received_yuan", "funds_required_yuan"),
    ),
    # transitional fees (过渡安置费)
    Figure(
        "transition_households_active",
        "在外过渡户数",
        "count",
        "fees",
        "统计日仍在过渡的户数：过渡开始日期不晚于统计日，且过渡结束日期为空或晚于统计日"
        "（按协议编号计户）。",
        build=fees.build_transition_households_active,
        needs=("transition",),
        counter="户",
        headline=True,
        index=True,
    ),
    Figure(
        "transition_fee_accrued_yuan",
        "累计应付过渡安置费",
        "yuan",
        "fees",
        "累计应计过渡安置费：逐户以过渡开始日至 min(过渡结束日期, 统计日) 已开始的自然月数为计费月数，"
        "月标准按面积、按人或按户计算；超过约定过渡期限的计费月按逾期加付倍数（{escalation}）计，"
        "逐户逐月求和；约定过渡期限以过渡安置台账为准，缺失的按过渡开始日期至其安置区约定交房日期"
        "已开始的自然月数计{agreed_months_note}。",
        build=fees.build_transition_fee_accrued_yuan,
        needs=("transition",),
    ),
    Figure(
        "transition_fee_paid_yuan",
        "已付过渡安置费",
        "yuan",
        "fees",
        "统计日前（含当日）支付的过渡安置费（款项类型为过渡安置费）之和。",
        build=fees.build_transition_fee_paid_yuan,
        needs=("transition",),
    ),
    Figure(
        "transition_fee_arrears_yuan",
        "过渡安置费拖欠",
        "yuan",
        "fees",
        "拖欠过渡安置费：逐户（按协议编号匹配支付）计算 max(应计 − 已付, 0) 后求和。",
        build=fees.build_transition_fee_arrears_yuan,
        needs=("transition",),
        headline=True,
        index=True,
    ),
    Figure(
        "transition_fee_overdue_extra_yuan",
        "逾期交房增加的过渡费",
        "yuan",
        "fees",
        "因超过约定过渡期限（安置房逾期交付）多计的过渡安置费：逐户逐月 月标准 ×（倍数 − 1）之和。",
        build=fees.build_transition_fee_overdue_extra_yuan,
        needs=("transition",),
        headline=True,
    ),
    Figure(
        "transition_fee_monthly_yuan",
        "每月过渡安置费",
        "yuan",
        "fees",
        "当前每月过渡安置费负担：仍在过渡户下一个计费月的 月标准 × 对应倍数 之和。",
        build=fees.build_transition_fee_monthly_yuan,
        needs=("transition",),
        headline=True,
    ),
    # resettlement sites (安置房交付)
    Figure(
        "sites_total",
        "已开工安置区",
        "count",
        "sites",
        "开工日期不晚于统计日的安置区个数。",
        build=sites.build_site_count,
        needs=("sites",),
        counter="个",
        headline=True,
    ),
    Figure(
        "sites_delivered",
        "已交付安置区",
        "count",
        "sites",
        "其中实际交房日期不晚于统计日的安置区个数。",
        build=sites.build_site_count,
        needs=("sites",),
        counter="个",
    ),
    Figure(
        "sites_overdue",
        "逾期未交付安置区",
        "count",
        "sites",
        "约定交房日期早于统计日且截至统计日仍未交付的安置区个数。",
        build=sites.build_site_count,
        needs=("sites",),
        counter="个",
        headline=True,
    ),
    Figure(
        "sites_over_3_years",
        "超过3年未交付",
        "count",
        "sites",
        "截至统计日仍未交付、且开工日期不晚于统计日前36个自然月的安置区个数（超过3年未交付）。",
        build=sites.build_site_count,
        needs=("sites",),
        counter="个",
        headline=True,
        index=True,
    ),
    Figure(
        "households_waiting",
        "等待回迁户数",
        "count",
        "sites",
        "统计日仍在过渡、且其安置区截至统计日尚未交付（或台账未登记安置区）的户数。",
        build=sites.build_households_waiting,
        needs=("sites", "transition"),
        counter="户",
        headline=True,
    ),
    Figure(
        "median_build_months",
        "安置区建设周期中位数",
        "month",
        "sites",
        "安置区建设周期（开工至实际交房，天数÷30.4375折算月）的 Kaplan–Meier 中位数；截至统计日"
        "未交付的安置区在统计日右删失、不剔除；生存曲线未降至0.5时为“尚未达到”（NA）。",
        build=sites.build_median_build_months,
        needs=("sites",),
        headline=True,
    ),
    Figure(
        "median_build_months_status",
        "建设周期中位数的状态",
        "text",
        "sites",
        "建设周期中位数的状态：reached（已达到）、not_reached（尚未达到）、no_sites（无安置区）。",
        build=sites.build_median_build_months_status,
    ),
    Figure(
        "delay_months",
        "交房延误",
        "month",
        "sites",
        "已交付安置区的交付延误 =（实际交房日期 − 约定交房日期）天数÷30.4375，单位：月；"
        "提前交付为负。",
        build=sites.build_delay_months,
        needs=("sites",),
        group="site",
    ),
    # forecasts over the horizon after as_of
    Figure(
        "gap_p50_yuan",
        "预测期末资金缺口（全口径，中位数）",
        "yuan",
        "forecast",
        "预测期末全口径资金缺口的中位数（基准情景）= 存量缺口 + 预测期内预计新签协议中支付期限不晚于"
        "预测期末的补偿款。新签协议：每月新签补偿额按统计日前最近36个完整月的历史（无签约的月按0）以"
        "连续3个月为一块重抽样，不加趋势；签约至支付期限的天数取同期已签协议的实际分布（台账缺支付期限的"
        "按签约后{payment_term_days}天计）；月内签约日按均匀分布。预测期内新开始过渡的户的过渡安置费"
        "不计入。负数表示有结余。",
        build=outlook.build_forecast_figure,
    ),
    Figure(
        "gap_p90_yuan",
        "预测期末资金缺口（全口径，90%分位）",
        "yuan",
        "forecast",
        "同上全口径缺口的90%分位数（较保守的估计）。",
        build=outlook.build_forecast_figure,
    ),
    Figure(
        "prob_gap_closed",
        "资金可覆盖的概率（全口径）",
        "ratio",
        "forecast",
        "模拟路径中预测期末全口径资金缺口 ≤ 0 的比例。",
        build=outlook.build_forecast_figure,
    ),
    Figure(
        "stock_gap_p50_yuan",
        "预测期末存量缺口（中位数）",
        "yuan",
        "forecast",
        "只计统计日已存在的义务（基准情景，中位数）：统计日前已签协议中支付期限（缺失的按签约后"
        "{payment_term_days}天）不晚于预测期末的未付补偿款 + 统计日过渡安置费拖欠（已计未付，逐户不为负）"
        "+ 统计日仍在过渡的户在预测期内按交付预测应计的过渡安置费（{escalation}）−（统计日资金结余 + "
        "预测期内模拟到位资金）；负数表示有结余。",
        build=outlook.build_forecast_figure,
    ),
    Figure(
        "stock_gap_p90_yuan",
        "预测期末存量缺口（90%分位）",
        "yuan",
        "forecast",
        "同上存量缺口的90%分位数（较保守的估计）。",
        build=outlook.build_forecast_figure,
    ),
    Figure(
        "prob_stock_gap_closed",
        "存量义务可覆盖的概率",
        "ratio",
        "forecast",
        "模拟路径中预测期末存量缺口 ≤ 0 的比例（不含预测期内新签协议的义务，不低于全口径的概率）。",
        build=outlook.build_forecast_figure,
    ),
    Figure(
        "transition_fee_next_12m_p50_yuan",
        "预测期内过渡安置费（中位数）",
        "yuan",
        "forecast",
        "预测期内按交付预测应付的过渡安置费的中位数（名称沿用12个月，预测期以 horizon_months 为准）。",
        build=outlook.build_forecast_figure,
    ),
    Figure(
        "transition_fee_next_12m_p90_yuan",
        "预测期内过渡安置费（90%分位）",
        "yuan",
        "forecast",
        "同上过渡安置费的90%分位数。",
        build=outlook.build_forecast_figure,
    ),
    Figure(
        "site_delivery_p50_date",
        "预计交付日期（中位数）",
        "date",
        "forecast",
        "每个截至统计日未交付的安置区，在“统计日仍未交付”条件下交付日期的中位数。",
        build=outlook.build_site_delivery_figure,
        group="site",
    ),
    Figure(
        "site_delivery_p90_date",
        "预计交付日期（90%分位）",
        "date",
        "forecast",
        "同上交付日期的90%分位数（较保守的估计）。",
        build=outlook.build_site_delivery_figure,
        group="site",
    ),
    Figure(
        "site_delivery_prob_in_horizon",
        "预测期内交付的概率",
        "ratio",
        "forecast",
        "每个截至统计日未交付的安置区，在“统计日仍未交付”条件下于预测期（horizon_months）内交付的概率"
        "（交付模型的预测分布，已计入参数不确定性）。",
        build=outlook.build_site_delivery_figure,
        group="site",
    ),
)

#: Tables nested by group in ``key_figures.json``.
BREAKDOWNS: tuple[Breakdown, ...] = (
    Breakdown(
        "progress_by_category",
        "完成情况（按类别）",
        "progress",
        "The progress figures per 类别 (市下达, 区统筹), from the figures declared with "
        "``by_category``.",
        build=progress.build_progress_by_category,
    ),
    Breakdown(
        "progress_by_zone",
        "完成情况（按片区）",
        "progress",
        "Progress of the reporting year per 片区.",
        build=progress.build_progress_by_zone,
    ),
    Breakdown(
        "unpaid_gap_by_project",
        "待付款缺口（按项目）",
        "funding",
        "Signed, paid, unpaid and overdue compensation per project.",
        build=funding.build_unpaid_gap_by_project,
    ),
    Breakdown(
        "unpaid_gap_by_zone",
        "待付款缺口（按片区）",
        "funding",
        "The same per 片区.",
        build=funding.build_unpaid_gap_by_zone,
    ),
    Breakdown(
        "transition_fee_by_site",
        "过渡安置费（按安置区）",
        "fees",
        "Households, accrued, paid, arrears, overdue extra and monthly fee per site.",
        build=fees.build_transition_fee_by_site,
    ),
    Breakdown(
        "transition_fee_by_zone",
        "过渡安置费（按片区）",
        "fees",
        "The same per 片区.",
        build=fees.build_transition_fee_by_zone,
    ),
    Breakdown(
        "site_status",
        "安置区建设与交付情况",
        "sites",
        "Per site started by as_of: dates, status, build and delay months, households waiting.",
        build=sites.build_site_status,
    ),
    Breakdown(
        "forecast_scenarios",
        "资金缺口情景",
        "forecast",
        "Per scenario of the one declared scenario set: full and stock gap P50/P90, the "
        "probability the money covers each, new obligations due P50/P90, fee arrears, fees and "
        "inflows P50/P90.",
        build=outlook.build_forecast_scenarios,
    ),
    Breakdown(
        "forecast_fee_by_site",
        "过渡安置费预测（按安置区）",
        "forecast",
        "Fees over the horizon per site (mean/P10/P50/P90), `prob_pays_whole_horizon` (share of "
        "paths on which its households pay every month of the horizon: above 0.1, P90 is the "
        "cap; above 0.5, P50 too), and the cost of one more month of delay.",
        build=outlook.build_forecast_fee_by_site,
    ),
    Breakdown(
        "forecast_fee_by_zone",
        "过渡安置费预测（按片区）",
        "forecast",
        "Fees over the horizon per 片区, with `prob_pays_whole_horizon` (share of paths on which "
        "the households of all its undelivered sites pay every month of the horizon; null "
        "without one).",
        build=outlook.build_forecast_fee_by_zone,
    ),
)

#: Sections of the documentation and the appendix, with the general rules they rest on.
SECTIONS: dict[str, Section] = {
    "progress": Section(
        "Progress (完成情况), for the reporting year",
        "Over the projects ledger's rows of the reporting `year`. Sums count NA as 0 and report "
        "the number of NA rows beside them (`*_na_count`).",
    ),
    "funding": Section(
        "Funding (征拆资金)",
        "Over agreements with `signed_date ≤ as_of` (all years, cumulative) and payments and "
        "inflows dated on or before `as_of`. A missing `payment_due_date` is filled by the "
        "policy's `payment_term_days` in one place (`compute_agreement_balances`), which "
        "reports how many agreements it touched; the cleaner keeps the ledger's NA.",
    ),
    "fees": Section(
        "Transitional resettlement fees (过渡安置费)",
        "For each household with `start_date ≤ as_of`: `end` = min(`end_date`, `as_of`); `K` = "
        "`months_between(start_date, end)` fee months so far; `base` = `fee_rate_yuan` × "
        "`area_m2` (per_m2), × `persons` (per_person) or × 1 (per_household). Fee month `k` is "
        "overdue when `k > agreed_months`, with overdue index `j = k − agreed_months`, and pays "
        "`base × multiplier(j)` by the policy's escalation tiers (an example rule by default, "
        "not a Guigang regulation). A missing `agreed_months` is taken from the site's promised "
        "date, else from the policy's `default_transition_months`, else the household is never "
        "counted overdue; `parameters` in `key_figures.json` says how often each applied.",
    ),
    "sites": Section(
        "Resettlement housing (安置房交付)",
        "Build time of a site: `start_date` → `delivered_date` in duration months (days / "
        "30.4375); a site not delivered by `as_of` is right-censored at `as_of`, never dropped.",
    ),
    "forecast": Section(
        "Forecasts (a horizon of `horizon_months` after `as_of`)",
        "Seeded simulation: the same ledgers, parameters and `seed` give the same figures. "
        "Headline forecast figures are those of the baseline scenario; the other scenarios of "
        "the one declared set are in `forecast_scenarios`. Every forecast page shows the "
        "assumptions behind these numbers (`forecast_assumptions`).",
    ),
}

_BY_NAME: dict[str, Figure] = {f.name: f for f in FIGURES}
for _f in FIGURES:
    SECTIONS[_f.section].figures.append(_f.name)


def figure(name: str) -> Figure:
    """The declaration of figure ``name``.

    Raises
    ------
    KeyError
        Naming the figure and pointing at :data:`FIGURES`, when there is no such figure.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no figure {name!r}; the figures are declared in FIGURES") from None


def describe_escalation(escalation: Escalation) -> str:
    """The escalation tiers in words (``第1–12个逾期月×1.5、第13个逾期月起×2``)."""
    parts = []
    tiers = list(escalation.tiers)
    for i, (start, mult) in enumerate(tiers):
        if i + 1 < len(tiers):
            parts.append(f"第{start}–{tiers[i + 1][0] - 1}个逾期月×{fmt_num(mult)}")
        else:
            parts.append(f"第{start}个逾期月起×{fmt_num(mult)}")
    return "、".join(parts)


def definitions(
    policy: Policy | None = None, *, applied: Mapping[str, int] | None = None
) -> dict[str, str]:
    """The definition (口径, Chinese) of every figure, filled in with the policy in force.

    Parameters
    ----------
    policy
        The office's policy (default: the built-in one).
    applied
        How often the policy's fills applied in one computation
        (``payment_term_days_applied_to``, ``agreed_months_from_site_applied_to``,
        ``default_transition_months_applied_to``); the definitions then say so.

    Returns
    -------
    dict
        Figure name → definition, in :data:`FIGURES` order.
    """
    from ..settings import DEFAULT_POLICY

    policy = policy or DEFAULT_POLICY
    applied = applied or {}
    term = applied.get("payment_term_days_applied_to")
    from_site = applied.get("agreed_months_from_site_applied_to")
    from_policy = applied.get("default_transition_months_applied_to")
    months_note = ""
    if from_site is not None:
        months_note += f"，本次适用于{from_site}户"
    if policy.default_transition_months is not None:
        months_note += f"；仍缺失的按{policy.default_transition_months}个月计"
        if from_policy is not None:
            months_note += f"，本次适用于{from_policy}户"
    else:
        months_note += "，仍无法确定的户不计逾期"
    fields = {
        "payment_term_days": policy.payment_term_days,
        "payment_term_note": "" if term is None else f"，本次适用于{term}份协议",
        "age_bands": "、".join(age_band_labels_zh(policy.age_bands_months)),
        "escalation": describe_escalation(policy.escalation) + "，为示例规则、非贵港规定",
        "agreed_months_note": months_note,
    }
    return {f.name: f.definition.format(**fields) for f in FIGURES}


_DOC_HEAD = """\
# Indicator definitions (指标口径)

Generated from `src/zhengshou_analysis/figures/registry.py` by `zhengshou indicators-doc`; do not
edit by hand (a test keeps it current). A change of definition is a change of the registry, and with
it of this page, of `key_figures.json` and of every report's appendix.

`as_of` is the reporting date (default: 31 December of the reporting `year`). An event counts when its
date is on or before `as_of`. Money in yuan, areas in 亩 and m², durations in months.

## Months

- `months_between(a, b)` for fees: the number of **started** calendar months from `a` to `b`:
  `12·(b.year−a.year) + (b.month−a.month)`, plus 1 when `b.day ≥ a.day`; never below 0 (from
  2021-03-15: to 2021-03-15 → 1, to 2021-04-14 → 1, to 2021-04-15 → 2).
- Durations for survival and delay analysis: days / 30.4375 (average month), float.

## A missing ledger is not a zero

A figure whose ledgers (column *needs*) are absent or empty is `null`, never 0. An empty payments
ledger is different: with agreements or households present it states that nothing was paid.

Definitions below are shown with the built-in policy (payment term {term} days, escalation
{escalation}); reports print them with the policy in force.
"""

_DOC_TAIL = """\
## Key figures file

Each run writes every figure above under its name, flat, to `key_figures.json` beside its reports
(dates as ISO strings, NA as null, by-group figures as objects keyed by the group value, `未注明` for
a missing one), plus `year`, `as_of`, `missing_ledgers`, `parameters` (the policy and how often each
fill applied), `horizon_months` and `forecast_assumptions`. `zhengshou figures RAW_DIR --year Y
[--as-of DATE]` prints the same JSON without running any notebook.
"""


def _doc_section(key: str, section: Section, defs: Mapping[str, str]) -> list[str]:
    lines = [f"## {section.title}", "", section.intro, ""]
    lines += [
        "| figure | 中文 | unit | needs | by | built by | 口径 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in section.figures:
        f = _BY_NAME[name]
        by = f.group or ("category" if f.by_category else "")
        builder = f"`{f.build.__module__.rsplit('.', 1)[-1]}.{f.build.__name__}`"
        needs = ", ".join(f.needs) or "—"
        lines.append(
            f"| `{f.name}` | {f.label} | {f.unit} | {needs} | {by} | {builder} | {defs[name]} |"
        )
    tables = [b for b in BREAKDOWNS if b.section == key]
    if tables:
        lines += ["", "Nested tables in `key_figures.json`:", ""]
        lines += [f"- `{b.name}` ({b.label}): {b.description}" for b in tables]
    return [*lines, ""]


def render_indicators_doc() -> str:
    """``docs/indicators.md``, rendered from the declarations (a test keeps the file current)."""
    from ..settings import DEFAULT_POLICY

    defs = definitions(DEFAULT_POLICY)
    head = _DOC_HEAD.format(
        term=DEFAULT_POLICY.payment_term_days,
        escalation=describe_escalation(DEFAULT_POLICY.escalation),
    )
    body = [line for key, s in SECTIONS.items() for line in _doc_section(key, s, defs)]
    return "\n".join([head, *body, _DOC_TAIL])
