"""The report notebooks: which there are, their titles, and where they live."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MONTHLY_NOTEBOOKS", "NOTEBOOKS", "SHORT_TITLES", "default_notebook_dir"]

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


def default_notebook_dir() -> Path:
    """``notebooks/`` of the project (override with ``$ZHENGSHOU_NOTEBOOK_DIR``)."""
    env = os.environ.get("ZHENGSHOU_NOTEBOOK_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "notebooks"
