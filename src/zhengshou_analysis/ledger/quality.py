"""Summaries of a cleaning run for the data-quality report: what was read, flagged and rejected."""

from __future__ import annotations

import pandas as pd

from ..schemas import TABLES
from .clean import CleanResult

__all__ = [
    "ACTION_LABELS",
    "summarize_findings",
    "summarize_mapping",
    "summarize_sheets",
    "summarize_totals",
]

#: Chinese names of the quality-log actions.
ACTION_LABELS: dict[str, str] = {
    "placeholder": "占位符（X、—、待定等）按缺失处理",
    "approx": "“约”数按原值保留",
    "remark": "数字后的备注已记录",
    "month_precision": "只有年月的日期按当月1日计",
    "excel_serial": "Excel 日期序号已换算",
    "ambiguous_date": "2021.1 类日期可能是10月，按1月计",
    "unit_mismatch": "单元格单位与该列不符",
    "unparseable": "无法识别的值",
    "ffill": "合并/空白分类单元格已填充",
    "not_stated": "台账未填，计算时按单位政策补足",
    "derived": "由标题行推得（如年度）",
    "unmatched_name": "名称在项目/安置区台账中找不到",
    "total_checked": "合计/小计与明细一致",
    "total_mismatch": "合计/小计与明细不符",
    "rejected": "行被剔除",
    "hidden_sheet": "隐藏工作表未读取",
    "sheet_skipped": "工作表不对应任何台账",
    "duplicate_header": "重复表头已忽略",
    "unmapped_header": "表头不对应任何字段，该列未读取",
    "pii_ignored": "个人信息列不读取",
    "unknown_zone": "片区不在已知片区及别名中",
    "header_unit": "表头括号内容不是单位",
    "implausible": "数值或日期明显异常",
    "missing_column": "缺少必填列",
    "unreadable": "文件无法读取",
}
_SEVERITY = {"error": "错误", "warning": "警告", "info": "提示"}


def summarize_sheets(result: CleanResult) -> pd.DataFrame:
    """One row per sheet: the table it fed, its row counts (data rows = kept + rejected)."""
    rows = []
    for s in result.manifest.get("sheets", []):
        table = s.get("table")
        rows.append(
            {
                "file": s.get("file"),
                "sheet": s.get("sheet"),
                "table": TABLES[table].label if table in TABLES else "（未使用）",
                "status": {
                    "used": "已读取",
                    "skipped": "跳过",
                    "hidden": "隐藏未读",
                    "error": "错误",
                }.get(s.get("status"), s.get("status")),
                "raw_data_rows": s.get("raw_data_rows"),
                "kept": s.get("kept"),
                "rejected": s.get("rejected"),
                "total_rows": (s.get("total_rows") or 0) + (s.get("subtotal_rows") or 0)
                if s.get("status") == "used"
                else None,
            }
        )
    return pd.DataFrame(rows)


def summarize_findings(result: CleanResult) -> pd.DataFrame:
    """Counts of quality-log findings by severity and action, with Chinese labels."""
    q = result.quality_log
    if q.empty:
        return pd.DataFrame(columns=["severity", "action", "count"])
    out = q.groupby(["severity", "action"], sort=False).size().rename("count").reset_index()
    order = {"error": 0, "warning": 1, "info": 2}
    out = out.sort_values(
        ["severity", "count"], key=lambda s: s.map(order) if s.name == "severity" else -s
    ).reset_index(drop=True)
    return out.assign(
        severity=out["severity"].map(_SEVERITY).fillna(out["severity"]),
        action=out["action"].map(ACTION_LABELS).fillna(out["action"]),
    )


def summarize_totals(result: CleanResult) -> pd.DataFrame:
    """Every 合计/小计 row checked against its detail rows, mismatches first."""
    q = result.quality_log
    t = q[q["action"].isin(["total_mismatch", "total_checked"])]
    return t.assign(
        ok=t["action"].eq("total_checked").map({True: "一致", False: "不符"})
    ).sort_values(["ok", "origin"], ascending=[False, True])[["origin", "column", "ok", "message"]]


#: Chinese names of a header's status in a sheet's column map (manifest ``columns``).
HEADER_STATUS_LABELS: dict[str, str] = {
    "mapped": "已读取",
    "duplicate": "重复，已忽略",
    "unmapped": "未对应（未读取）",
    "ignored": "不需读取",
    "personal_data": "个人信息，不读取",
}
#: Chinese names of where a column's unit is stated (:data:`~.columns.UNIT_SOURCES`).
UNIT_SOURCE_LABELS: dict[str, str] = {
    "header": "表头括号",
    "units row": "表头下的单位行",
    "title": "标题行（单位：…）",
    "default": "默认（标准单位）",
}


def _column_label(table: str | None, column: str | None) -> str:
    """The Chinese name of a canonical column (``补偿总额``), empty when there is none."""
    if table not in TABLES or not column:
        return ""
    try:
        return TABLES[table].column(column).label
    except KeyError:
        return ""


def summarize_mapping(result: CleanResult) -> pd.DataFrame:
    """What the cleaner did with every header of every sheet it recognised.

    One row per header cell, from the manifest's per-sheet ``columns`` (what the cleaner used):
    ``file``, ``sheet``, ``table`` (Chinese label), ``col`` (the column letter), ``raw_header``,
    ``column`` (the canonical column, empty when not read), ``column_label`` (its Chinese name),
    ``status`` (Chinese), ``unit`` and
    ``unit_source`` (Chinese; empty for text and dates).
    """
    rows = []
    for s in result.manifest.get("sheets", []):
        table = s.get("table")
        for c in s.get("columns") or []:
            rows.append(
                {
                    "file": s.get("file"),
                    "sheet": s.get("sheet"),
                    "table": TABLES[table].label if table in TABLES else "（未使用）",
                    "col": c.get("col"),
                    "raw_header": c.get("header"),
                    "column": c.get("column") or "",
                    "column_label": _column_label(table, c.get("column")),
                    "status": HEADER_STATUS_LABELS.get(c.get("status"), c.get("status")),
                    "unit": c.get("unit") or "",
                    "unit_source": UNIT_SOURCE_LABELS.get(c.get("unit_source"), ""),
                }
            )
    columns = [
        "file",
        "sheet",
        "table",
        "col",
        "raw_header",
        "column",
        "column_label",
        "status",
        "unit",
    ]
    return pd.DataFrame(rows, columns=[*columns, "unit_source"])
