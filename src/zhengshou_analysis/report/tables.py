"""Every table of the six report pages, declared once.

A :class:`PageTable` names a table (its key), the page it stands on, its caption, its columns (the
``{column: (Chinese label, kind)}`` specs of :mod:`.views`) and the function that builds it from the
reporting context, as numbers in base units (yuan, m², 亩, counts, ratios, dates). The pages show
it with :func:`show_page_table` (the notebooks' one call per table); the workbook
(:mod:`.spreadsheet`) writes each as a sheet; a 合计 row, where declared, is added here, once: the
sum of the additive columns and every ratio recomputed from those sums, never averaged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ..figures import age_band_labels_zh, compute_progress
from ..figures.dispatch import (
    blocked_projects,
    delivery_drift,
    describe_months,
    drift_statement,
    gap_drift,
    last_month_analysis,
    month_key_figures,
    month_movements,
    new_fee_arrears,
    overdue_agreements,
    overdue_by_age_band,
    overdue_sites,
    year_start_analysis,
)
from ..formatting import fmt_count, fmt_yuan_prose
from ..ledger.quality import (
    summarize_findings,
    summarize_mapping,
    summarize_rejected,
    summarize_sheets,
    summarize_totals,
)
from .catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS
from .session import format_change, headline_values
from .views import (
    AGE_COLUMNS,
    BACKTEST_COLUMNS,
    BLOCKED_COLUMNS,
    BLOCKED_PROJECT_COLUMNS,
    FAMILY_COLUMNS,
    FEE_COLUMNS,
    FEE_FORECAST_COLUMNS,
    FORECAST_SITE_COLUMNS,
    FORMATS,
    GAP_COLUMNS,
    PROGRESS_COLUMNS,
    REVIEW_DELIVERY_COLUMNS,
    REVIEW_MONEY_COLUMNS,
    SCENARIO_COLUMNS,
    SITE_COLUMNS,
    Formatter,
    delivery_outlook,
    show_html,
    table_html,
)

if TYPE_CHECKING:
    from .session import Report

__all__ = [
    "ADDITIVE_KINDS",
    "DISPATCH_TOP",
    "PAGES",
    "PAGE_TABLES",
    "ROW_CHANGE",
    "ROW_KIND",
    "TOP_GAP_PROJECTS",
    "TOTAL_FLAG",
    "TOTAL_LABEL",
    "PageTable",
    "add_total_row",
    "column_labels",
    "display_table",
    "page_table",
    "page_tables",
    "show_page_table",
]

#: Column kinds whose values add up (a 合计 row sums them).
ADDITIVE_KINDS = frozenset({"wan_yuan", "mu", "wan_m2", "count"})
#: The kind of a column whose kind differs per row (the headline table): each row's kind stands in
#: the table's :attr:`PageTable.row_kind` column; ``ROW_KIND + "_change"`` writes a change.
ROW_KIND = "row"
ROW_CHANGE = "row_change"
#: The boolean column :func:`page_table` adds to a table with a 合计 row (``True`` on that row).
TOTAL_FLAG = "is_total"
#: The label of the 合计 row (in the table's first text column).
TOTAL_LABEL = "合计"

Columns = Mapping[str, tuple[str, str | Formatter]]

#: Every page a table can stand on: the six of a year, then the month's (一月一调度).
PAGES: dict[str, str] = {**NOTEBOOKS, **MONTHLY_NOTEBOOKS}


@dataclass(frozen=True)
class PageTable:
    """One table of a report page.

    Attributes
    ----------
    key
        Identifier (``progress_zone``): the notebooks' ``show_page_table(rep, key)``.
    page
        The notebook it stands on (a key of :data:`~.catalog.NOTEBOOKS` or of
        :data:`~.catalog.MONTHLY_NOTEBOOKS`).
    caption
        The Chinese caption (``表1 各片区征收任务完成情况``).
    sheet
        The sheet name in the workbook: short, Chinese, unique, at most 31 characters, none of
        ``[]:*?/\\``.
    columns
        ``{column: (Chinese label, kind)}`` (:mod:`.views`); a label may hold ``{year}`` and
        ``{prev_year}``. Kind ``row`` / ``row_change`` take each row's kind from ``row_kind``.
    build
        ``build(rep)`` → the table as numbers in base units (yuan, m², 亩, counts, ratios,
        dates), the rows in page order, without a 合计 row.
    note
        A note under the table (Chinese), or ``None``.
    total
        Add a 合计 row: the sum of the additive columns (:data:`ADDITIVE_KINDS`), each ratio of
        ``ratios`` recomputed from the sums.
    ratios
        ``{ratio column: (numerator column, denominator column)}`` for the 合计 row.
    sheet_kinds
        Kinds for the workbook where the page's kind is a formatter (``score``: 3 decimals,
        ``decimal2``: 2 decimals, ``flag``: √ or empty, ``yes_no``: 是/否), by column.
    row_kind
        The column that holds each row's kind, for ``row`` columns.
    prose
        ``prose(rep)`` → paragraphs shown above the table (e.g. the forecast review's
        sentences), or ``None``.
    hide_empty
        Show nothing but the prose when the table has no row.
    """

    key: str
    page: str
    caption: str
    sheet: str
    columns: Columns
    build: Callable[[Report], pd.DataFrame]
    note: str | None = None
    total: bool = False
    ratios: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    sheet_kinds: Mapping[str, str] = field(default_factory=dict)
    row_kind: str | None = None
    prose: Callable[[Report], Sequence[str]] | None = None
    hide_empty: bool = False

    def __post_init__(self) -> None:
        if self.page not in PAGES:
            raise ValueError(f"page must be one of {list(PAGES)}, got {self.page!r}")
        bad = set(self.sheet) & set("[]:*?/\\")
        if not self.sheet or len(self.sheet) > 31 or bad:
            raise ValueError(f"sheet name {self.sheet!r}: 1–31 characters, none of []:*?/\\")
        for ratio, parts in self.ratios.items():
            if ratio not in self.columns or not set(parts) <= set(self.columns):
                raise ValueError(f"{self.key}: ratio {ratio!r} and its parts must be columns")


# --- builders ---------------------------------------------------------------------------------


def _progress_by_zone(rep: Report) -> pd.DataFrame:
    return compute_progress(rep.analysis.tables["projects"], year=rep.year, by="zone")


def _blocked_projects(rep: Report) -> pd.DataFrame:
    projects = rep.analysis.tables["projects"]
    chosen = projects[(projects["year"] == rep.year) & projects["blocker"].notna()]
    return chosen.sort_values("blocked_mu", ascending=False, kind="stable").reset_index(drop=True)


def _overdue_by_age(rep: Report) -> pd.DataFrame:
    a = rep.analysis
    return a.overdue_by_age().assign(age_band_zh=age_band_labels_zh(a.policy.age_bands_months))


#: How many projects the table of the largest gaps lists.
TOP_GAP_PROJECTS = 10


def _gap_projects(rep: Report) -> pd.DataFrame:
    gap = rep.analysis.unpaid_gap(by="project")
    top = gap.sort_values("unpaid_gap_yuan", ascending=False, kind="stable")
    return top.head(TOP_GAP_PROJECTS).reset_index(drop=True)


def _fees_by_site(rep: Report) -> pd.DataFrame:
    fees = rep.analysis.transition_fees_by("site")
    return fees.sort_values("arrears_yuan", ascending=False, kind="stable").reset_index(drop=True)


def _fee_forecast(rep: Report) -> pd.DataFrame:
    by_site = rep.analysis.fee_forecast.frames["by_site"]
    return by_site.sort_values("fee_p50_yuan", ascending=False, kind="stable").reset_index(
        drop=True
    )


def _delivery_outlook(rep: Report) -> pd.DataFrame:
    a = rep.analysis
    return delivery_outlook(a.delivery_forecast.summary, a.review.previous)


def _review_prose(part: str) -> Callable[[Report], Sequence[str]]:
    def prose(rep: Report) -> Sequence[str]:
        return tuple(rep.analysis.review.statements.get(part, ()))

    return prose


_SCORE_KINDS = {
    "brier_model": "score",
    "brier_promise": "score",
    "brier_base_rate": "score",
}

_PROGRESS_RATIOS = {
    "land_completion_rate": ("land_done_mu", "land_target_mu"),
    "house_completion_rate": ("house_done_m2", "house_target_m2"),
}

_HEADLINE_COLUMNS: Columns = {
    "label": ("指标", "text"),
    "now": ("{year}年", ROW_KIND),
    "before": ("{prev_year}年", ROW_KIND),
    "change": ("变化", ROW_CHANGE),
}

_SHEETS_COLUMNS: Columns = {
    "file": ("文件", "text"),
    "sheet": ("工作表", "text"),
    "table": ("台账", "text"),
    "status": ("处理", "text"),
    "raw_data_rows": ("数据行", "count"),
    "kept": ("保留", "count"),
    "rejected": ("剔除", "count"),
    "total_rows": ("合计/小计行", "count"),
}
_MAPPING_COLUMNS: Columns = {
    "file": ("文件", "text"),
    "sheet": ("工作表", "text"),
    "table": ("台账", "text"),
    "col": ("列", "text"),
    "raw_header": ("表头", "text"),
    "column_label": ("读作字段", "text"),
    "status": ("处理", "text"),
    "unit": ("单位", "text"),
    "unit_source": ("单位来源", "text"),
}
_FINDINGS_COLUMNS: Columns = {
    "severity": ("级别", "text"),
    "action": ("处理", "text"),
    "count": ("条数", "count"),
}
_TOTALS_COLUMNS: Columns = {
    "origin": ("位置（文件#工作表!行）", "text"),
    "column": ("字段", "text"),
    "ok": ("结果", "text"),
    "message": ("说明", "text"),
}
_REJECTED_COLUMNS: Columns = {
    "origin": ("位置（文件#工作表!行）", "text"),
    "table": ("台账", "text"),
    "reason": ("原因", "text"),
    "cells": ("该行原文（个人信息不抄录）", "text"),
}

#: The backtest table without the models' technical specifications (English formula names).
_BACKTEST_COLUMNS: Columns = {
    k: v for k, v in cast(Columns, BACKTEST_COLUMNS).items() if k != "spec"
}

_DQ = "10_data_quality"


# --- the month's dispatch page (60_dispatch) ----------------------------------------------------

#: How many items the dispatch page lists of a long list (the largest first; the prose gives the
#: totals and how many more there are).
DISPATCH_TOP = 15

#: Display kind of each registry unit (the key-figures table of the dispatch page).
_UNIT_KINDS = {
    "yuan": "wan_yuan",
    "mu": "mu",
    "m2": "wan_m2",
    "count": "count",
    "ratio": "pct",
    "month": "months",
}


def _month_key_figures(rep: Report) -> pd.DataFrame:
    a = rep.analysis
    kf = month_key_figures(a, last_month_analysis(a), year_start_analysis(a))
    return kf.assign(kind=kf["unit"].map(_UNIT_KINDS).fillna("months"))


def _top(df: pd.DataFrame) -> pd.DataFrame:
    return df.head(DISPATCH_TOP).reset_index(drop=True)


def _more(shown: int, total: int) -> str:
    return f"下表列出前{shown}项，另有{total - shown}项未列出。" if total > shown else ""


def _overdue_prose(rep: Report) -> Sequence[str]:
    items = overdue_agreements(rep.analysis)
    new = items.loc[items["new_this_month"]]
    if not len(items):
        return ("截至月末，没有逾期未付补偿款的协议。",)
    return (
        f"截至月末，逾期未付补偿款的协议共{fmt_count(len(items))}份、"
        f"{fmt_yuan_prose(items['unpaid_yuan'].sum())}，其中本月新增逾期"
        f"{fmt_count(len(new))}份、{fmt_yuan_prose(new['unpaid_yuan'].sum())}。"
        "按未付金额从大到小排列。" + _more(min(len(items), DISPATCH_TOP), len(items)),
    )


def _new_overdue_prose(rep: Report) -> Sequence[str]:
    items = overdue_agreements(rep.analysis)
    new = items.loc[items["new_this_month"]]
    if not len(new):
        return ("本月没有新增逾期未付的协议。",)
    return (
        f"本月新增逾期（上月末尚未到期或尚未签订）的协议{fmt_count(len(new))}份。"
        + _more(min(len(new), DISPATCH_TOP), len(new)),
    )


def _arrears_prose(rep: Report) -> Sequence[str]:
    items = new_fee_arrears(rep.analysis)
    if not len(items):
        return ("本月没有新出现过渡安置费拖欠的户。",)
    return (
        f"本月新出现过渡安置费拖欠（上月末没有拖欠、本月末有拖欠）的过渡户"
        f"{fmt_count(len(items))}户，月末拖欠合计{fmt_yuan_prose(items['arrears_yuan'].sum())}。"
        "各户以协议编号标识，不列姓名。" + _more(min(len(items), DISPATCH_TOP), len(items)),
    )


def _drift_prose(rep: Report) -> Sequence[str]:
    a = rep.analysis
    last = last_month_analysis(a)
    if last is None:
        return ("上月末台账没有记录，无上月预测可比。",)
    return (drift_statement(delivery_drift(a, last), gap_drift(a, last)),)


def _yes(v: Any) -> str:
    return "是" if v is True or v is np.True_ else ""


_KEY_FIGURE_COLUMNS: Columns = {
    "label": ("指标", "text"),
    "now": ("本月末", ROW_KIND),
    "change_since_last_month": ("比上月末", ROW_CHANGE),
    "change_since_year_start": ("比上年末", ROW_CHANGE),
}
_MOVEMENT_COLUMNS: Columns = {
    "label": ("事项", "text"),
    "count": ("数量", "count"),
    "count_unit": ("单位", "text"),
    "amount_yuan": ("金额（万元）", "wan_yuan"),
    "detail": ("说明", "text"),
}
_ORIGIN = ("来源（文件#工作表!行）", "text")
_DISPATCH_AGE_COLUMNS: Columns = {
    "age_band_zh": ("逾期时长", "text"),
    "agreements_count": ("协议（份）", "count"),
    "overdue_unpaid_yuan": ("逾期未付（万元）", "wan_yuan"),
    "new_count": ("其中本月新增（份）", "count"),
    "new_unpaid_yuan": ("其中本月新增（万元）", "wan_yuan"),
}
_OVERDUE_AGREEMENT_COLUMNS: Columns = {
    "agreement_id": ("协议编号", "text"),
    "project_name": ("项目", "text"),
    "zone": ("片区", "text"),
    "payment_due_date": ("应付日期", "date"),
    "overdue_months": ("已逾期（月）", "months"),
    "age_band_zh": ("逾期时长", "text"),
    "unpaid_yuan": ("未付（万元）", "wan_yuan"),
    "new_this_month": ("本月新增", _yes),
    "origin": _ORIGIN,
}
_OVERDUE_SITE_COLUMNS: Columns = {
    "site_name": ("安置区", "text"),
    "zone": ("片区", "text"),
    "promised_date": ("约定交房日期", "date"),
    "late_months": ("已逾期（月）", "months"),
    "households_waiting": ("等待回迁（户）", "count"),
    "new_this_month": ("本月新增", _yes),
    "origin": _ORIGIN,
}
_DISPATCH_BLOCKED_COLUMNS: Columns = {
    "project_name": ("项目", "text"),
    "zone": ("片区", "text"),
    "blocker": ("卡点类型", "text"),
    "blocked_mu": ("卡点面积（亩）", "mu"),
    "land_target_mu": ("征地任务（亩）", "mu"),
    "land_done_mu": ("已完成（亩）", "mu"),
    "origin": _ORIGIN,
}
_FEE_ARREARS_COLUMNS: Columns = {
    "agreement_id": ("协议编号（过渡户）", "text"),
    "site_name": ("安置区", "text"),
    "zone": ("片区", "text"),
    "project_name": ("项目", "text"),
    "start_date": ("过渡开始", "date"),
    "overdue_fee_months": ("超期过渡（月）", "months"),
    "arrears_yuan": ("月末拖欠（万元）", "wan_yuan"),
    "origin": _ORIGIN,
}
_DELIVERY_DRIFT_COLUMNS: Columns = {
    "site_name": ("安置区", "text"),
    "zone": ("片区", "text"),
    "p50_date_before": ("上月预测·一半把握", "month"),
    "p50_date": ("本月预测·一半把握", "month"),
    "p90_date_before": ("上月预测·九成把握", "month"),
    "p90_date": ("本月预测·九成把握", "month"),
    "p50_change_months": ("一半把握变化", describe_months),
    "reason": ("变化原因", "text"),
}
_GAP_DRIFT_COLUMNS: Columns = {
    "description": ("情景", "text"),
    "gap_p50_before_yuan": ("上月预测·一半把握（万元）", "wan_yuan"),
    "gap_p50_yuan": ("本月预测·一半把握（万元）", "wan_yuan"),
    "gap_p90_before_yuan": ("上月预测·九成把握（万元）", "wan_yuan"),
    "gap_p90_yuan": ("本月预测·九成把握（万元）", "wan_yuan"),
    "p50_change_yuan": ("一半把握变化（万元）", "wan_yuan"),
    "reason": ("变化原因", "text"),
}
_DISPATCH = "60_dispatch"
_FLAG_KINDS = {"new_this_month": "yes_no"}

#: Every table of the pages (the six of a year, then the month's), in page order (the order of :data:`~.catalog.NOTEBOOKS`).
PAGE_TABLES: dict[str, PageTable] = {
    t.key: t
    for t in (
        PageTable(
            "headline",
            "00_overview",
            "表1 主要指标",
            "主要指标",
            _HEADLINE_COLUMNS,
            headline_values,
            row_kind="kind",
        ),
        PageTable(
            "quality_sheets",
            _DQ,
            "表1 工作表与行数核对",
            "质量-工作表与行数",
            _SHEETS_COLUMNS,
            lambda rep: summarize_sheets(rep.ledgers),
            total=True,
        ),
        PageTable(
            "quality_mapping",
            _DQ,
            "表2 表头与字段对照",
            "质量-表头对照",
            _MAPPING_COLUMNS,
            lambda rep: summarize_mapping(rep.ledgers),
        ),
        PageTable(
            "quality_findings",
            _DQ,
            "表3 质量日志汇总",
            "质量-清洗记录汇总",
            _FINDINGS_COLUMNS,
            lambda rep: summarize_findings(rep.ledgers),
            note="逐条记录见本期电子表格报表的“质量日志”工作表。",
            total=True,
        ),
        PageTable(
            "quality_totals",
            _DQ,
            "表4 合计/小计行与明细之和",
            "质量-合计核对",
            _TOTALS_COLUMNS,
            lambda rep: summarize_totals(rep.ledgers),
        ),
        PageTable(
            "quality_rejected",
            _DQ,
            "表5 剔除的行及原因",
            "剔除行",
            _REJECTED_COLUMNS,
            lambda rep: summarize_rejected(rep.ledgers),
            note="剔除的行不进入任何统计；请在台账中更正后重新运行。",
        ),
        PageTable(
            "progress_zone",
            "20_progress",
            "表1 各片区征收任务完成情况",
            "完成-片区",
            PROGRESS_COLUMNS,
            _progress_by_zone,
            total=True,
            ratios=_PROGRESS_RATIOS,
        ),
        PageTable(
            "progress_category",
            "20_progress",
            "表2 市下达与区统筹项目完成情况",
            "完成-类别",
            PROGRESS_COLUMNS,
            lambda rep: rep.analysis.progress_by_category,
            total=True,
            ratios=_PROGRESS_RATIOS,
        ),
        PageTable(
            "blocked",
            "20_progress",
            "表3 卡点面积按类型",
            "完成-卡点类型",
            BLOCKED_COLUMNS,
            lambda rep: rep.analysis.blocked,
            total=True,
        ),
        PageTable(
            "blocked_projects",
            "20_progress",
            "表4 存在卡点的项目",
            "完成-卡点项目",
            BLOCKED_PROJECT_COLUMNS,
            _blocked_projects,
        ),
        PageTable(
            "gap_zone",
            "30_funding",
            "表1 各片区已签协议待付款缺口（截至统计截止日，累计）",
            "资金-片区缺口",
            GAP_COLUMNS,
            lambda rep: rep.analysis.unpaid_gap(by="zone"),
            total=True,
        ),
        PageTable(
            "overdue_age",
            "30_funding",
            "表2 逾期未付补偿款按逾期时长",
            "资金-逾期账龄",
            AGE_COLUMNS,
            _overdue_by_age,
            total=True,
        ),
        PageTable(
            "gap_projects",
            "30_funding",
            f"表3 待付款缺口前{TOP_GAP_PROJECTS}位的项目",
            f"资金-缺口前{TOP_GAP_PROJECTS}项目",
            GAP_COLUMNS,
            _gap_projects,
        ),
        PageTable(
            "gap_scenarios",
            "30_funding",
            "表4 预测期末资金缺口（各情景并列）",
            "资金-缺口预测",
            SCENARIO_COLUMNS,
            lambda rep: rep.analysis.gap.summary,
        ),
        PageTable(
            "money_review",
            "30_funding",
            "预测回顾：当时对资金的预测与实际",
            "资金-预测回顾",
            REVIEW_MONEY_COLUMNS,
            lambda rep: rep.analysis.review.money,
            sheet_kinds={"pit": "decimal2", "inside_p10_p90": "yes_no"},
            prose=_review_prose("money"),
            hide_empty=True,
        ),
        PageTable(
            "inflow_backtest",
            "30_funding",
            "附表 资金到位预测各方法的回测误差",
            "资金-回测误差",
            _BACKTEST_COLUMNS,
            lambda rep: rep.analysis.inflows.frames["backtest"],
            sheet_kinds={"mase": "score", "chosen": "flag"},
        ),
        PageTable(
            "fees_site",
            "40_transition_fees",
            "表1 各安置区过渡安置费（累计至统计截止日）",
            "过渡费-安置区",
            FEE_COLUMNS,
            _fees_by_site,
            total=True,
        ),
        PageTable(
            "fees_zone",
            "40_transition_fees",
            "表2 各片区过渡安置费",
            "过渡费-片区",
            FEE_COLUMNS,
            lambda rep: rep.analysis.transition_fees_by("zone"),
            total=True,
        ),
        PageTable(
            "fee_forecast",
            "40_transition_fees",
            "表3 预测期内各安置区过渡安置费",
            "过渡费-预测",
            FEE_FORECAST_COLUMNS,
            _fee_forecast,
            note="各安置区的中位数、少则、多则不能相加，故不列合计。",
        ),
        PageTable(
            "sites",
            "50_delivery",
            "表1 安置区建设与交付情况",
            "交付-安置区",
            SITE_COLUMNS,
            lambda rep: rep.analysis.site_status,
            total=True,
        ),
        PageTable(
            "delivery_forecast",
            "50_delivery",
            "表2 未交付安置区的预计交付时间",
            "交付-预计交付",
            FORECAST_SITE_COLUMNS,
            _delivery_outlook,
        ),
        PageTable(
            "delivery_review",
            "50_delivery",
            "预测回顾：当时对交付的预测与实际",
            "交付-预测回顾",
            REVIEW_DELIVERY_COLUMNS,
            lambda rep: rep.analysis.review.delivery,
            sheet_kinds=_SCORE_KINDS,
            prose=_review_prose("delivery"),
            hide_empty=True,
        ),
        PageTable(
            "delivery_families",
            "50_delivery",
            "附表 交付预测对分布族的敏感性（同一数据分别按三种分布拟合）",
            "交付-分布敏感性",
            FAMILY_COLUMNS,
            lambda rep: rep.analysis.delivery_forecast.frames["families"],
            sheet_kinds={
                "chosen": "flag",
                "aic": "score",
                "delta_aic": "score",
            },
        ),
        PageTable(
            "dispatch_key_figures",
            _DISPATCH,
            "表1 本月末主要指标及变化",
            "调度-主要指标",
            _KEY_FIGURE_COLUMNS,
            _month_key_figures,
            note="比上月末、比上年末均为本月末数减去当时数；比率的变化以百分点计。",
            row_kind="kind",
        ),
        PageTable(
            "dispatch_movements",
            _DISPATCH,
            "表2 本月进展（日期在本月内的台账行）",
            "调度-本月进展",
            _MOVEMENT_COLUMNS,
            lambda rep: month_movements(rep.analysis),
        ),
        PageTable(
            "dispatch_overdue_age",
            _DISPATCH,
            "表3 逾期未付补偿款按逾期时长",
            "调度-逾期账龄",
            _DISPATCH_AGE_COLUMNS,
            lambda rep: overdue_by_age_band(rep.analysis),
            total=True,
        ),
        PageTable(
            "dispatch_overdue_agreements",
            _DISPATCH,
            f"表4 逾期未付金额最大的协议（前{DISPATCH_TOP}份）",
            "调度-逾期协议",
            _OVERDUE_AGREEMENT_COLUMNS,
            lambda rep: _top(overdue_agreements(rep.analysis)),
            sheet_kinds=_FLAG_KINDS,
            prose=_overdue_prose,
        ),
        PageTable(
            "dispatch_new_overdue",
            _DISPATCH,
            "表5 本月新增逾期的协议",
            "调度-本月新增逾期",
            _OVERDUE_AGREEMENT_COLUMNS,
            lambda rep: _top(overdue_agreements(rep.analysis).loc[lambda d: d["new_this_month"]]),
            sheet_kinds=_FLAG_KINDS,
            prose=_new_overdue_prose,
            hide_empty=True,
        ),
        PageTable(
            "dispatch_overdue_sites",
            _DISPATCH,
            "表6 逾期未交付的安置区",
            "调度-逾期安置区",
            _OVERDUE_SITE_COLUMNS,
            lambda rep: overdue_sites(rep.analysis),
            sheet_kinds=_FLAG_KINDS,
        ),
        PageTable(
            "dispatch_blocked",
            _DISPATCH,
            "表7 存在卡点的项目",
            "调度-卡点项目",
            _DISPATCH_BLOCKED_COLUMNS,
            lambda rep: blocked_projects(rep.analysis),
        ),
        PageTable(
            "dispatch_fee_arrears",
            _DISPATCH,
            "表8 本月新出现过渡安置费拖欠的过渡户",
            "调度-新增拖欠户",
            _FEE_ARREARS_COLUMNS,
            lambda rep: _top(new_fee_arrears(rep.analysis)),
            prose=_arrears_prose,
            hide_empty=True,
        ),
        PageTable(
            "dispatch_delivery_drift",
            _DISPATCH,
            "表9 安置区预计交付时间：本月预测与上月预测",
            "调度-交付预测变化",
            _DELIVERY_DRIFT_COLUMNS,
            lambda rep: delivery_drift(rep.analysis, last_month_analysis(rep.analysis)),
            prose=_drift_prose,
        ),
        PageTable(
            "dispatch_gap_drift",
            _DISPATCH,
            "表10 预测期末资金缺口：本月预测与上月预测",
            "调度-缺口预测变化",
            _GAP_DRIFT_COLUMNS,
            lambda rep: gap_drift(rep.analysis, last_month_analysis(rep.analysis)),
            note="两次预测的预测期均为各自统计截止日起的同样月数，故期末相差一个月。",
        ),
    )
}


# --- the tables -------------------------------------------------------------------------------


def add_total_row(df: pd.DataFrame, table: PageTable) -> pd.DataFrame:
    """``df`` with a 合计 row appended and the :data:`TOTAL_FLAG` column (``True`` on it).

    Parameters
    ----------
    df
        The table's rows (not modified).
    table
        Its declaration: the additive columns of ``table.columns`` are summed (NaN when every
        value is missing); each ratio of ``table.ratios`` is the sum of its numerator over the sum
        of its denominator (NaN when that is 0 or missing); the first text column holds
        :data:`TOTAL_LABEL`; every other column is empty.

    Returns
    -------
    pandas.DataFrame
        A new frame, one row longer.
    """
    total: dict[str, Any] = {}
    for col, (_, kind) in table.columns.items():
        if col in df and kind in ADDITIVE_KINDS:
            total[col] = pd.to_numeric(df[col], errors="coerce").sum(min_count=1)
    for ratio, (num, den) in table.ratios.items():
        n, d = total.get(num, np.nan), total.get(den, np.nan)
        total[ratio] = n / d if pd.notna(n) and pd.notna(d) and d != 0 else np.nan
    label = next((c for c, (_, k) in table.columns.items() if k == "text" and c in df), None)
    if label is not None:
        total[label] = TOTAL_LABEL
    body = df.assign(**{TOTAL_FLAG: False})
    row = pd.DataFrame([{**total, TOTAL_FLAG: True}])
    out = pd.concat([body, row.astype({c: "object" for c in row.columns if c not in df})])
    return out.reset_index(drop=True)


def page_table(rep: Report, key: str, *, total: bool = True) -> pd.DataFrame:
    """The table ``key`` of a page, as numbers in base units.

    Parameters
    ----------
    rep
        The reporting context.
    key
        A key of :data:`PAGE_TABLES`.
    total
        Append the 合计 row where the table declares one (``False``: the rows only, e.g. for a
        chart).

    Returns
    -------
    pandas.DataFrame
        Fresh rows (the analysis' frames are not modified); with the 合计 row, also the
        :data:`TOTAL_FLAG` column.

    Raises
    ------
    KeyError
        For a key that is not declared.
    """
    if key not in PAGE_TABLES:
        raise KeyError(f"no page table {key!r}; declared: {', '.join(PAGE_TABLES)}")
    table = PAGE_TABLES[key]
    df = table.build(rep).reset_index(drop=True)
    return add_total_row(df, table) if total and table.total else df.copy()


def page_tables(rep: Report, page: str | None = None) -> dict[str, pd.DataFrame]:
    """Every table of ``page`` (a notebook name; ``None``: of all six pages of a year), in page
    order."""
    if page is not None and page not in PAGES:
        raise ValueError(f"page must be one of {list(PAGES)}, got {page!r}")
    return {
        key: page_table(rep, key)
        for key, t in PAGE_TABLES.items()
        if (t.page in NOTEBOOKS if page is None else t.page == page)
    }


def column_labels(table: PageTable, rep: Report) -> dict[str, str]:
    """The Chinese header of each column, with ``{year}`` and ``{prev_year}`` filled in."""
    return {
        col: label.format(year=rep.year, prev_year=rep.year - 1)
        for col, (label, _) in table.columns.items()
    }


def _row_formatted(df: pd.DataFrame, table: PageTable) -> pd.DataFrame:
    """Columns of per-row kinds as text (each row formatted by its own kind)."""
    kinds = df[table.row_kind] if table.row_kind else None
    out = {}
    for col, (_, kind) in table.columns.items():
        if kind in (ROW_KIND, ROW_CHANGE) and col in df and kinds is not None:
            if kind == ROW_KIND:
                out[col] = [FORMATS[k](v) for k, v in zip(kinds, df[col], strict=True)]
            else:
                out[col] = [format_change(v, k) for k, v in zip(kinds, df[col], strict=True)]
    return df.assign(**out)


def _as_text(v: Any) -> str:
    return str(v)


def display_table(rep: Report, key: str) -> tuple[pd.DataFrame, dict[str, tuple[str, Any]]]:
    """The table ``key`` and the column spec :func:`~.views.table_html` shows it with.

    Columns of per-row kinds are formatted here (and shown right-aligned as numbers); labels
    have the year filled in.
    """
    table = PAGE_TABLES[key]
    df = _row_formatted(page_table(rep, key), table)
    labels = column_labels(table, rep)
    columns: dict[str, tuple[str, Any]] = {
        col: (labels[col], _as_text if kind in (ROW_KIND, ROW_CHANGE) else kind)
        for col, (_, kind) in table.columns.items()
    }
    return df, columns


def show_page_table(rep: Report, key: str) -> None:
    """Show the table ``key`` on its page: prose (if declared), caption, table, note.

    The 合计 row, where there is one, is set in bold.
    """
    from .views import show_text

    table = PAGE_TABLES[key]
    if table.prose is not None:
        paragraphs = [p for p in table.prose(rep) if p]
        if paragraphs:
            show_text("\n".join(paragraphs))
    df, columns = display_table(rep, key)
    if table.hide_empty and not len(df):
        return
    markup = table_html(df, columns, caption=table.caption, note=table.note)
    if TOTAL_FLAG in df and bool(df[TOTAL_FLAG].iloc[-1]):
        head, sep, tail = markup.rpartition("<tr>")
        markup = head + '<tr class="zs-total" style="font-weight:bold">' + tail if sep else markup
    show_html(markup)
