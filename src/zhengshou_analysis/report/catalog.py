"""The report notebooks: which there are, their titles, and where they live."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..periods import Period, PeriodKind

__all__ = [
    "MONTHLY_NOTEBOOKS",
    "NOTEBOOKS",
    "NOTEBOOK_DATA_SCOPE",
    "OFFICE_DATA_SCOPE",
    "SHORT_TITLES",
    "DataScope",
    "default_notebook_dir",
    "notebook_title",
    "notebooks_of",
]

#: The report notebooks, in reading order, with their Chinese titles.
NOTEBOOKS: dict[str, str] = {
    "00_overview": "总览：年度工作完成情况与三个前瞻问题",
    "10_data_quality": "数据质量：清洗、标记、剔除与合计核对",
    "20_progress": "征收任务完成情况与“最后一公里”卡点",
    "30_funding": "征拆资金缺口与资金预测",
    "40_transition_fees": "过渡安置费负担、拖欠与预测",
    "50_delivery": "安置房交付与延期分析",
}

#: The notebooks of a month's run (一月一调度), with their Chinese titles. A year (and an ad-hoc
#: reporting date) runs :data:`NOTEBOOKS`; a month runs these.
MONTHLY_NOTEBOOKS: dict[str, str] = {
    "60_dispatch": "月度调度简报：本月进展、待办清单与预测变化",
}

#: Short names for the index table.
SHORT_TITLES: dict[str, str] = {
    "00_overview": "总览",
    "10_data_quality": "数据质量",
    "20_progress": "完成情况",
    "30_funding": "资金缺口",
    "40_transition_fees": "过渡安置费",
    "50_delivery": "安置房交付",
    "60_dispatch": "调度简报",
}


#: What of the ledgers a run key covers. ``"period"``: the canonical tables as known at the
#: period's end (:func:`~zhengshou_analysis.figures.vintage.cut_tables_at`), so that a change dated
#: later (a payment of May) does not re-run an earlier period (April); ``"raw"``: every raw file.
DataScope = Literal["period", "raw"]

#: The data scope of each page. The data-quality page shows the cleaning of every raw file (the
#: sheets, headers, findings and rejected rows of each), so any change to any file re-runs it.
NOTEBOOK_DATA_SCOPE: dict[str, DataScope] = {
    "00_overview": "period",
    "10_data_quality": "raw",
    "20_progress": "period",
    "30_funding": "period",
    "40_transition_fees": "period",
    "50_delivery": "period",
    "60_dispatch": "period",
}

#: The data scope of a period's key figures and office files, by period kind. A year's (and a
#: date's) workbook ``报表_…xlsx`` holds the 数据质量 sheets (every raw file); a month's 调度简报
#: holds the month's figures and lists only.
OFFICE_DATA_SCOPE: dict[PeriodKind, DataScope] = {"year": "raw", "date": "raw", "month": "period"}


def notebooks_of(period: Period) -> dict[str, str]:
    """The notebooks a period runs, with their titles: a month :data:`MONTHLY_NOTEBOOKS`, a year
    or an ad-hoc reporting date :data:`NOTEBOOKS`."""
    return MONTHLY_NOTEBOOKS if period.kind == "month" else NOTEBOOKS


def notebook_title(name: str) -> str:
    """The Chinese title of a notebook of either catalogue (its name when unknown)."""
    return {**NOTEBOOKS, **MONTHLY_NOTEBOOKS}.get(name, name)


def default_notebook_dir() -> Path:
    """``notebooks/`` of the project (override with ``$ZHENGSHOU_NOTEBOOK_DIR``)."""
    env = os.environ.get("ZHENGSHOU_NOTEBOOK_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "notebooks"
