"""What every report notebook does first: open the ledgers for one reporting year.

``rep = open_report(data_dir, year=year, as_of=as_of)`` sets the plot style, loads the cleaned
ledgers (from the cache when nothing changed), shows the 示例数据（模拟） banner on demo data and the
page title, and computes the key figures of the year and of the year before.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

from ..formatting import fmt_date_zh
from ..ledger.clean import CleanResult
from .views import banner_html, show_html

__all__ = ["HEADLINE_COLUMNS", "Report", "definitions", "headline_table", "open_report"]


@dataclass
class Report:
    """The reporting context of one notebook run.

    ``figures`` (the key figures of the year) and ``figures_prev`` (of the year before, ``None``
    when the ledgers have no such year) are computed on first use: most pages never need them.
    """

    year: int
    as_of: pd.Timestamp
    ledgers: CleanResult
    as_of_given: str | None
    demo: bool

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The six canonical tables."""
        return self.ledgers.tables

    @cached_property
    def figures(self) -> dict[str, Any]:
        """Key figures of the reporting year (indicators.md)."""
        from ..figures.indicators import compute_key_figures

        return compute_key_figures(self.tables, year=self.year, as_of=self.as_of_given)

    @cached_property
    def figures_prev(self) -> dict[str, Any] | None:
        """Key figures of the year before (at its 31 December), or ``None`` without that year."""
        from ..figures.indicators import compute_key_figures

        years = set(self.tables["projects"]["year"].dropna().astype(int))
        if self.year - 1 not in years:
            return None
        return compute_key_figures(self.tables, year=self.year - 1)


def open_report(
    data_dir: str | os.PathLike, *, year: int, as_of: str | None = None, title: str | None = None
) -> Report:
    """Load the ledgers for ``year`` and show the page header (banner, title, reporting date).

    Parameters
    ----------
    data_dir
        The raw ledgers (read-only); cleaned once and cached.
    year
        The reporting year.
    as_of
        Reporting date ``YYYY-MM-DD`` (default 31 December of ``year``).
    title
        Page title shown under the banner (``None``: no title).
    """
    from ..ledger.store import load_ledgers
    from ..settings import resolve_as_of
    from .plots import use_report_style

    use_report_style()
    as_of = as_of or None  # "" (the notebooks' default) means 31 December
    ledgers = load_ledgers(data_dir)
    as_of_ts = resolve_as_of(as_of, year=year)
    demo = bool(ledgers.manifest.get("synthetic"))
    header = banner_html() if demo else ""
    if title:
        header += f"<h1>{html.escape(f'{year}年 · {title}')}</h1>"
    header += f'<p class="zs-meta">报告年度：{int(year)}年 · 统计截止日：{html.escape(fmt_date_zh(as_of_ts))}</p>'
    show_html(header)
    return Report(int(year), as_of_ts, ledgers, as_of, demo)


#: The headline figures: key → (label, display kind).
HEADLINE_COLUMNS: dict[str, tuple[str, str]] = {
    "projects_count": ("推进项目（个）", "count"),
    "land_target_mu": ("土地征收目标任务（亩）", "mu"),
    "land_done_mu": ("已完成征地（亩）", "mu"),
    "land_completion_rate": ("征地完成率", "pct"),
    "house_target_m2": ("房屋征收目标任务（万平方米）", "wan_m2"),
    "house_done_m2": ("已完成房屋征收（万平方米）", "wan_m2"),
    "signed_agreements_yuan": ("累计签约补偿金额（万元）", "wan_yuan"),
    "unpaid_gap_yuan": ("已签协议待付款缺口（万元）", "wan_yuan"),
    "overdue_unpaid_yuan": ("其中已逾期未付（万元）", "wan_yuan"),
    "funds_received_yuan": ("累计到位征拆资金（万元）", "wan_yuan"),
    "funds_in_place_ratio": ("资金到位率", "pct"),
    "transition_households_active": ("在外过渡户数（户）", "count"),
    "transition_fee_monthly_yuan": ("每月过渡安置费（万元）", "wan_yuan"),
    "transition_fee_arrears_yuan": ("过渡安置费拖欠（万元）", "wan_yuan"),
    "transition_fee_overdue_extra_yuan": ("逾期交房增加的过渡费（万元）", "wan_yuan"),
    "sites_total": ("已开工安置区（个）", "count"),
    "sites_overdue": ("逾期未交付安置区（个）", "count"),
    "sites_over_3_years": ("超过3年未交付（个）", "count"),
    "households_waiting": ("等待回迁户数（户）", "count"),
    "median_build_months": ("安置区建设周期中位数（月）", "months"),
}


def headline_table(rep: Report) -> pd.DataFrame:
    """The headline figures of the year beside the year before, formatted for reviewers."""
    from .views import FORMATS

    rows = []
    for key, (label, kind) in HEADLINE_COLUMNS.items():
        fmt = FORMATS[kind]
        now = rep.figures.get(key)
        before = rep.figures_prev.get(key) if rep.figures_prev else None
        if now is not None and before is not None and kind == "pct":
            change = f"{(now - before) * 100:+.1f}个百分点"
        elif now is not None and before is not None:
            change = fmt(now - before)
            change = change if change.startswith("-") or change == "—" else "+" + change
        else:
            change = "—"
        rows.append(
            {
                "指标": label,
                f"{rep.year}年": fmt(now),
                f"{rep.year - 1}年": fmt(before),
                "变化": change,
            }
        )
    return pd.DataFrame(rows)


#: Chinese names of the figures that are not headline figures (for the 口径 appendix).
OTHER_LABELS: dict[str, str] = {
    "house_completion_rate": "房屋征收完成率",
    "blocked_mu_by_blocker": "卡点面积（亩，按卡点类型）",
    "paid_compensation_yuan": "已支付补偿款（万元）",
    "overdue_unpaid_by_age": "逾期未付按账龄（万元）",
    "total_paid_yuan": "累计支付各类资金（万元）",
    "cash_balance_yuan": "资金结余（万元）",
    "funds_required_yuan": "所需资金（万元）",
    "transition_fee_accrued_yuan": "累计应付过渡安置费（万元）",
    "transition_fee_paid_yuan": "已付过渡安置费（万元）",
    "sites_delivered": "已交付安置区（个）",
    "delay_months": "交房延误（月）",
    "median_build_months_status": "建设周期中位数的状态",
    "land_target_mu_na_count": "征地任务未填报的项目数",
    "land_done_mu_na_count": "已完成征地未填报的项目数",
    "house_target_m2_na_count": "房屋征收任务未填报的项目数",
    "house_done_m2_na_count": "已完成房屋征收未填报的项目数",
}


def definitions(**settings) -> list[tuple[str, str]]:
    """The 口径 appendix: (Chinese label · key, definition) for every figure of indicators.md.

    ``settings`` (escalation, payment_term_days, age_bands) are passed to
    :func:`~zhengshou_analysis.figures.indicators.indicator_definitions`.
    """
    from ..figures.indicators import indicator_definitions

    out = []
    for key, text in indicator_definitions(**settings).items():
        label = HEADLINE_COLUMNS.get(key, (OTHER_LABELS.get(key),))[0]
        out.append((f"{label} · {key}" if label else key, text))
    return out
