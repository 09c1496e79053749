"""Summaries of a cleaning run for the data-quality report: what was read, flagged and rejected.

Everything here is for readers, in Chinese. The quality log keeps the cleaner's machine message
(Chinese first, English in brackets, ``quality_log.csv`` unchanged); :func:`message_zh` renders a
finding for a reader from its structured fields (action, table, column, raw value) and the Chinese
part of the message, keyed by the finding's action (:data:`MESSAGE_RENDERERS`); :func:`reason_zh`
does the same for a rejected row's reasons.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pandas as pd

from ..schemas import TABLES
from ..units import unit_label_zh
from .clean import CleanResult

__all__ = [
    "ACTION_LABELS",
    "MESSAGE_RENDERERS",
    "SEVERITY_LABELS",
    "column_label",
    "message_zh",
    "quality_log_zh",
    "reason_zh",
    "rejected_cells_zh",
    "summarize_findings",
    "summarize_mapping",
    "summarize_rejected",
    "summarize_sheets",
    "summarize_totals",
    "table_label",
]

#: Chinese names of the quality-log actions.
ACTION_LABELS: dict[str, str] = {
    "placeholder": "占位符（叉号、横线、“待定”等）按缺失处理",
    "approx": "“约”数按原值保留",
    "remark": "数字后的备注已记录",
    "month_precision": "只有年月的日期按当月1日计",
    "excel_serial": "表格中的日期序号已换算为日期",
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
#: Chinese names of the severities of the quality log.
SEVERITY_LABELS: dict[str, str] = {"error": "错误", "warning": "警告", "info": "提示"}
_SEVERITY = SEVERITY_LABELS


def table_label(table: object) -> str:
    """The Chinese name of a canonical table (``协议台账``); ``""`` for none, else as given."""
    if table is None or (not isinstance(table, str) and pd.isna(table)) or str(table) == "":
        return ""
    return TABLES[str(table)].label if str(table) in TABLES else str(table)


def column_label(table: object, column: object) -> str:
    """The Chinese name of a canonical column (``支付金额``), or of several (``A、B``).

    ``""`` when there is no column; a name the table does not know is returned as written.
    """
    if column is None or (not isinstance(column, str) and pd.isna(column)) or not str(column):
        return ""
    names = [c.strip() for c in str(column).split(",") if c.strip()]
    return "、".join(_column_label(str(table), c) or c for c in names)


#: A bracketed part of a message in which English prose stands (two or more Latin letters).
_ENGLISH_BRACKET = re.compile(r"\s*\((?=[^()]*[A-Za-z]{2,})[^()]*\)")


def _chinese_part(message: str) -> str:
    """The Chinese part of a cleaner's message: English brackets dropped, colons Chinese.

    ``列 B「付款日期」: 占位符「—」视为缺失 (NaT)`` → ``列 B「付款日期」：占位符「—」视为缺失``.
    Text quoted from a ledger (in 「」) is kept as written.
    """
    quoted: list[str] = []

    def keep(m: re.Match) -> str:
        quoted.append(m.group(0))
        return f"\x00{len(quoted) - 1}\x00"

    text = re.sub(r"「[^」]*」", keep, str(message))
    text = _ENGLISH_BRACKET.sub("", text).strip()
    text = re.sub(r"(?<=\S): ", "：", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: quoted[int(m.group(1))], text)


def _identifiers_to_labels(text: str, table: str) -> str:
    """Canonical column names left in ``text`` (``agreement_id``) replaced by their labels."""
    if table not in TABLES:
        return text
    names = sorted(TABLES[table].column_names[:-1], key=len, reverse=True)
    pattern = re.compile(
        r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z0-9_])"
    )
    return pattern.sub(lambda m: _column_label(table, m.group(1)) or m.group(1), text)


#: A finding as its renderer sees it: action, table, column, raw value, machine message.
Finding = dict[str, str]
Renderer = Callable[[Finding], str]


def _generic(f: Finding) -> str:
    return _identifiers_to_labels(_chinese_part(f["message"]), f["table"])


def _total_mismatch(f: Finding) -> str:
    m = re.search(
        r"^(?P<where>.*?): (?P<kind>合计|小计)行 (?P<stated>\S+) 与明细之和 (?P<sum>\S+) 不符 "
        r"\(difference (?P<diff>\S+?);",
        f["message"],
    )
    if m is None:
        return _generic(f)
    return f"{m['where']}：{m['kind']}行 {m['stated']} 与明细之和 {m['sum']} 不符，相差 {m['diff']}"


def _total_checked(f: Finding) -> str:
    m = re.search(r"^(?P<head>.*一致) \((?P<sum>[-0-9,.]+)\)$", f["message"])
    if m is None:
        return _generic(f)
    return _chinese_part(m["head"]) + f"（明细之和 {m['sum']}）"


def _excel_words(f: Finding) -> str:
    """Dates Excel stored as numbers: said without the product's name."""
    text = _generic(f)
    return text.replace("Excel 日期序列号", "表格中的日期序号").replace(
        "Excel 把年月存成了小数", "年月被表格存成了小数"
    )


def _derived(f: Finding) -> str:
    column = column_label(f["table"], f["column"]) or "该值"
    return f"{column}取自标题行（{f['raw_value']}）" if f["raw_value"] else _generic(f)


def _rejected(f: Finding) -> str:
    reason = str(f["message"]).removeprefix("行被拒绝: ")
    return "行被剔除：" + reason_zh(f["table"], reason)


#: Why the cleaner skipped a sheet (the ``note`` of :func:`~.classify.classify_sheet`).
def _sheet_skipped(f: Finding) -> str:
    if "header looks partly like" in f["message"]:
        return (
            "工作表表头只与某一台账部分相符，缺少必需的列，且文件名和工作表名都未指明台账，已跳过"
        )
    if "no header found" in f["message"]:
        return "工作表中找不到表头，不对应任何台账，已跳过"
    return _generic(f)


#: The Chinese rendering of a finding, per action (every action of :data:`ACTION_LABELS`).
MESSAGE_RENDERERS: dict[str, Renderer] = {
    **{action: _generic for action in ACTION_LABELS},
    "total_mismatch": _total_mismatch,
    "total_checked": _total_checked,
    "derived": _derived,
    "excel_serial": _excel_words,
    "ambiguous_date": _excel_words,
    "rejected": _rejected,
    "sheet_skipped": _sheet_skipped,
}


def message_zh(
    action: str, message: str, *, table: str = "", column: str = "", raw_value: str = ""
) -> str:
    """A finding of the quality log as a reader sees it, in Chinese.

    Parameters
    ----------
    action
        The finding's action code (a key of :data:`ACTION_LABELS`).
    message
        The cleaner's message (Chinese first, English in brackets).
    table, column, raw_value
        The finding's structured fields.

    Returns
    -------
    str
        The renderer of :data:`MESSAGE_RENDERERS` for ``action``; for an action it does not know:
        the label of the action (or ``清洗记录``) with the Chinese part of the message.
    """
    f = {
        "action": str(action),
        "message": "" if pd.isna(message) else str(message),
        "table": "" if pd.isna(table) else str(table),
        "column": "" if pd.isna(column) else str(column),
        "raw_value": "" if pd.isna(raw_value) else str(raw_value),
    }
    render = MESSAGE_RENDERERS.get(f["action"])
    if render is not None:
        return render(f)
    text = _generic(f)
    return f"{ACTION_LABELS.get(f['action'], '清洗记录')}：{text}" if text else "清洗记录"


def _split_reasons(reason: str) -> list[str]:
    """``a (x; y); b`` → ``["a (x; y)", "b"]`` (``; `` inside brackets does not split)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(reason):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == ";" and depth == 0:
            parts.append(reason[start:i].strip())
            start = i + 1
    parts.append(reason[start:].strip())
    return [p for p in parts if p]


def _one_reason(table: str, reason: str) -> str:
    m = re.match(r"^必填列缺失或无法解析 \((?P<where>.*), required (?P<col>\w+)\)$", reason)
    if m:
        label = column_label(table, m["col"]) or m["col"]
        where = m["where"]
        return f"必填字段“{label}”缺失或无法解析" + (f"（{where}）" if where != m["col"] else "")
    m = re.match(
        r"^重复的主键 (?P<key>[\w, ]+) \(duplicate key; first seen at (?P<first>.*)\)$", reason
    )
    if m:
        label = column_label(table, m["key"])
        first = f"，首次出现在 {m['first']}" if m["first"] else ""
        return f"{label}重复（与前面的行相同{first}）"
    return _identifiers_to_labels(_chinese_part(reason), table)


def reason_zh(table: str, reason: str) -> str:
    """The reasons a row was rejected (``; ``-joined, from the cleaner), in Chinese, ``；``-joined.

    ``重复的主键 agreement_id (duplicate key; first seen at a.xlsx#2022年!150)`` →
    ``协议编号重复（与前面的行相同，首次出现在 a.xlsx#2022年!150）``; a column the cleaner names by
    its identifier is named by its Chinese label.
    """
    table = "" if pd.isna(table) else str(table)
    return "；".join(_one_reason(table, r) for r in _split_reasons(str(reason)))


def rejected_cells_zh(raw_cells: str) -> str:
    """A rejected row's cells as written (``raw_cells`` JSON) as ``表头：值；…`` (empty cells left out).

    Personal-data cells are blank in ``raw_cells`` already (docs/data_contract.md §6), so they are
    left out here too.
    """
    try:
        cells = json.loads(raw_cells) if raw_cells else {}
    except (TypeError, ValueError):
        return str(raw_cells)
    if not isinstance(cells, dict):
        return str(raw_cells)
    return "；".join(f"{k}：{v}" for k, v in cells.items() if str(v).strip())


def quality_log_zh(result: CleanResult) -> pd.DataFrame:
    """The quality log for readers: the same rows, every value a reader sees in Chinese.

    Returns
    -------
    pandas.DataFrame
        ``origin, file, sheet, row, table, column, raw_value, action, severity, message``:
        table and column by their Chinese labels, action and severity by :data:`ACTION_LABELS`
        and :data:`SEVERITY_LABELS`, the message by :func:`message_zh` (rendered once per
        distinct finding). ``result`` is not modified.
    """
    q = result.quality_log
    keys = ["action", "message", "table", "column", "raw_value"]
    distinct = q[keys].drop_duplicates()
    rendered = {
        tuple(row): message_zh(row[0], row[1], table=row[2], column=row[3], raw_value=row[4])
        for row in distinct.itertuples(index=False, name=None)
    }
    messages = [rendered[tuple(r)] for r in q[keys].itertuples(index=False, name=None)]
    pairs = q[["table", "column"]].drop_duplicates()
    columns = {(t, c): column_label(t, c) for t, c in pairs.itertuples(index=False, name=None)}
    return q.assign(
        table=q["table"].map(table_label),
        column=[columns[(t, c)] for t, c in zip(q["table"], q["column"], strict=True)],
        action=q["action"].map(ACTION_LABELS).fillna(q["action"]),
        severity=q["severity"].map(SEVERITY_LABELS).fillna(q["severity"]),
        message=messages,
    )


def summarize_rejected(result: CleanResult) -> pd.DataFrame:
    """The rejected rows for readers: where, which 台账, why, and the row as written.

    Returns
    -------
    pandas.DataFrame
        ``origin, file, sheet, row, table`` (Chinese label), ``reason`` (:func:`reason_zh`) and
        ``cells`` (:func:`rejected_cells_zh`), in ledger order. ``result`` is not modified.
    """
    r = result.rejected
    return pd.DataFrame(
        {
            "origin": r["origin"],
            "file": r["file"],
            "sheet": r["sheet"],
            "row": r["row"],
            "table": r["table"].map(table_label),
            "reason": [reason_zh(t, x) for t, x in zip(r["table"], r["reason"], strict=True)],
            "cells": r["raw_cells"].map(rejected_cells_zh),
        },
        index=r.index,
    ).reset_index(drop=True)


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
    """Every 合计/小计 row checked against its detail rows, mismatches first.

    ``origin``, ``column`` (the Chinese label of the field), ``ok`` (一致/不符) and ``message``
    (Chinese, :func:`message_zh`).
    """
    q = result.quality_log
    t = q[q["action"].isin(["total_mismatch", "total_checked"])]
    out = t.assign(
        ok=t["action"].eq("total_checked").map({True: "一致", False: "不符"}),
        column=[column_label(a, b) for a, b in zip(t["table"], t["column"], strict=True)],
        message=[
            message_zh(a, m, table=tb, column=c, raw_value=r)
            for a, m, tb, c, r in zip(
                t["action"], t["message"], t["table"], t["column"], t["raw_value"], strict=True
            )
        ],
    )
    return out.sort_values(["ok", "origin"], ascending=[False, True])[
        ["origin", "column", "ok", "message"]
    ].reset_index(drop=True)


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
                    "unit": unit_label_zh(c.get("unit")),
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
