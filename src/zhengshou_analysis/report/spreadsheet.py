"""The tables of a reporting period as one Excel workbook: ``报表_<office>_<period>.xlsx``.

Every table of the six pages (:data:`~.tables.PAGE_TABLES`) is a sheet, in page order, with the
numbers as numbers in the units the pages show (万元, 亩, 万平方米, counts; ratios with a % format;
dates as dates) and a number format with thousands separators; then the quality log with Chinese
columns (质量日志) and the definitions of the figures (口径说明). A contents sheet (目录) comes
first. Text is always written as text, never as a formula or a link. The same inputs give the same
bytes: the document's time is the reporting date, its author the office.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..ledger.outputs import EXCEL_MAX_ROWS, cjk_width, xlsx_workbook
from ..ledger.quality import quality_log_zh
from .catalog import NOTEBOOKS
from .files import atomic_write_bytes, office_file_name
from .tables import (
    PAGE_TABLES,
    ROW_CHANGE,
    ROW_KIND,
    TOTAL_FLAG,
    PageTable,
    column_labels,
    page_table,
)
from .views import DEMO_LABEL, FORMATS

if TYPE_CHECKING:
    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

    from .session import Report

__all__ = [
    "CELL_KINDS",
    "CellKind",
    "SheetFormats",
    "report_workbook_bytes",
    "report_workbook_name",
    "write_frame_sheet",
    "write_report_workbook",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CellKind:
    """How a column kind is written into a cell.

    Attributes
    ----------
    num_format
        The Excel number format (``#,##0.00``); ``""`` for text.
    scale
        The stored number is the base-unit value times this (1e-4: yuan → 万元).
    cell
        ``number``, ``date`` or ``text``.
    """

    num_format: str
    scale: float = 1.0
    cell: str = "number"


_MONEY = "#,##0.00"
#: Every kind of :data:`~.views.FORMATS` (and the workbook's own) as a cell: 万元, 亩 and 万平方米 with
#: two decimals, ratios as % with one, counts whole, months with one decimal — as the pages write
#: them.
CELL_KINDS: dict[str, CellKind] = {
    "wan_yuan": CellKind(_MONEY, 1e-4),
    "mu": CellKind(_MONEY),
    "wan_m2": CellKind(_MONEY, 1e-4),
    "pct": CellKind("0.0%"),
    "count": CellKind("#,##0"),
    "months": CellKind("#,##0.0"),
    "score": CellKind("#,##0.000"),
    "decimal2": CellKind("#,##0.00"),
    "date": CellKind('yyyy"年"m"月"d"日"', cell="date"),
    "month": CellKind('yyyy"年"m"月"', cell="date"),
    "text": CellKind("", cell="text"),
}
#: A change (the headline table's 变化) keeps its sign; a ratio's change is in percentage points.
_CHANGE_FORMATS = {
    "pct": CellKind('+0.0"个百分点";-0.0"个百分点";0.0"个百分点"', 100.0),
    "wan_yuan": CellKind("+#,##0.00;-#,##0.00;0.00", 1e-4),
    "mu": CellKind("+#,##0.00;-#,##0.00;0.00"),
    "wan_m2": CellKind("+#,##0.00;-#,##0.00;0.00", 1e-4),
    "count": CellKind("+#,##0;-#,##0;0"),
    "months": CellKind("+#,##0.0;-#,##0.0;0.0"),
}
#: Workbook kinds of :attr:`PageTable.sheet_kinds` written as text.
_TEXT_KINDS: dict[str, Callable[[Any], str]] = {
    "flag": lambda v: "√" if v is True else "",
    "yes_no": lambda v: "是" if v is True else ("否" if v is False else ""),
}

_TITLE_ROW, _META_ROW, _DEMO_ROW, _HEADER_ROW = 0, 1, 2, 3
_MAX_WIDTH = 40


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


class _Formats:
    """The workbook's cell formats, made once per (number format, bold)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self._cache: dict[tuple[str, bool, bool], Any] = {}
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.meta = wb.add_format({"font_color": "#555555"})
        self.demo = wb.add_format({"bold": True, "font_color": "#C00000"})
        self.note = wb.add_format({"italic": True, "font_color": "#555555"})

    def get(self, num_format: str, *, bold: bool = False, header: bool = False) -> Any:
        key = (num_format, bold, header)
        if key not in self._cache:
            props: dict[str, Any] = {"valign": "top"}
            if num_format:
                props["num_format"] = num_format
            else:  # text: long text wraps within the column instead of running over the page
                props["text_wrap"] = True
            if bold:
                props["bold"] = True
            if header:
                props |= {"bold": True, "bg_color": "#E8EEF4", "border": 1, "text_wrap": True}
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]


#: The cell formats of a workbook, for :func:`write_frame_sheet` in other workbooks (the city's).
SheetFormats = _Formats


def _cell_kind(kind: Any, sheet_kind: str | None, row_kind: str | None) -> tuple[CellKind, Any]:
    """The cell kind of a value and, for text written by a formatter, the formatter."""
    if kind == ROW_KIND and row_kind:
        return CELL_KINDS[row_kind], None
    if kind == ROW_CHANGE and row_kind:
        return _CHANGE_FORMATS.get(row_kind, CELL_KINDS[row_kind]), None
    if sheet_kind in CELL_KINDS:
        return CELL_KINDS[sheet_kind], None
    if sheet_kind in _TEXT_KINDS:
        return CELL_KINDS["text"], _TEXT_KINDS[sheet_kind]
    if isinstance(kind, str) and kind in CELL_KINDS:
        return CELL_KINDS[kind], None
    formatter = kind if callable(kind) else FORMATS.get(str(kind), str)
    return CELL_KINDS["text"], formatter


def _display_width(value: Any, kind: CellKind) -> int:
    """About how wide a cell shows (digits with separators, or text; CJK counting 2)."""
    if kind.cell == "number":
        return len(f"{abs(float(value) * kind.scale):,.2f}") + 2
    if kind.cell == "date":
        return 16
    return cjk_width(str(value))


def _print_setup(ws: Worksheet, width: int) -> None:
    """A4, one page wide (landscape for a table wider than ~90 characters), the header repeated,
    page numbers."""
    ws.set_paper(9)
    if width > 90:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(_HEADER_ROW)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _wrap_rows(ws: Worksheet, text_cells: list[tuple[int, int, int]], widths: list[int]) -> None:
    """Rows whose text wraps made tall enough for every line (spreadsheets do not always)."""
    lines: dict[int, int] = {}
    for r, j, w in text_cells:
        n = -(-w // max(widths[j] - 2, 1))
        if n > 1:
            lines[r] = max(lines.get(r, 1), n)
    for r, n in lines.items():
        ws.set_row(r, 15 * n)


def write_frame_sheet(
    wb: xlsxwriter.Workbook,
    formats: Any,
    name: str,
    df: pd.DataFrame,
    columns: Mapping[str, tuple[str, Any]],
    *,
    title: str,
    meta: str,
    demo: bool,
    note: str | None = None,
    sheet_kinds: Mapping[str, str] | None = None,
    row_kind: str | None = None,
) -> Worksheet:
    """Write ``df`` as a sheet: title, demo label, header row (frozen), cells, notes.

    Parameters
    ----------
    wb, formats
        The workbook and its formats (``_Formats``).
    name
        Sheet name (≤ 31 characters).
    df
        The rows, numbers in base units; a :data:`~.tables.TOTAL_FLAG` column marks the 合计
        row (bold).
    columns
        ``{column: (header, kind)}``: a kind of :data:`CELL_KINDS`, ``row``/``row_change``
        (per-row kinds from ``row_kind``) or a formatter (written as text).
    title, meta
        The title row and the line under it.
    demo
        Write :data:`~.views.DEMO_LABEL` on the sheet.
    note
        Lines written under the table.
    sheet_kinds
        Workbook kinds overriding ``columns`` kinds, by column.
    row_kind
        The column holding each row's kind (for ``row`` columns).

    Returns
    -------
    xlsxwriter.worksheet.Worksheet
        The sheet; text cells are written with ``write_string`` (never a formula).
    """
    ws = wb.add_worksheet(name)
    ws.write_string(_TITLE_ROW, 0, title, formats.title)
    ws.write_string(_META_ROW, 0, meta, formats.meta)
    if demo:
        ws.write_string(
            _DEMO_ROW, 0, f"{DEMO_LABEL} · 本表数字均为模拟生成，非真实统计", formats.demo
        )
    shown = [c for c in columns if c in df]
    widths = []
    for j, col in enumerate(shown):
        header = columns[col][0]
        ws.write_string(_HEADER_ROW, j, header, formats.get("", header=True))
        widths.append(min(cjk_width(header), 24))
    ws.set_row(_HEADER_ROW, 32)
    rows = min(len(df), EXCEL_MAX_ROWS - _HEADER_ROW - 4)
    totals = df[TOTAL_FLAG].fillna(False).astype(bool).tolist() if TOTAL_FLAG in df else None
    row_kinds = df[row_kind].tolist() if row_kind and row_kind in df else None
    sheet_kinds = sheet_kinds or {}
    text_cells: list[tuple[int, int, int]] = []  # (row, column, width) of each text cell
    bolds = [bool(totals and totals[i]) for i in range(rows)]
    for j, col in enumerate(shown):
        kind = columns[col][1]
        sheet_kind = sheet_kinds.get(col)
        values = df[col].tolist()
        # one cell kind per column unless the rows carry their own kinds
        fixed = None if row_kinds else _cell_kind(kind, sheet_kind, None)
        for i in range(rows):
            v = values[i]
            ck, fmt_text = fixed or _cell_kind(kind, sheet_kind, row_kinds[i])  # type: ignore[index]
            r = _HEADER_ROW + 1 + i
            cell_format = formats.get(ck.num_format, bold=bolds[i])
            if fmt_text is not None:
                missing = _is_missing(v)
                text = "" if missing and not callable(kind) else fmt_text(v)
                text = "" if text == "—" and ck.cell == "text" and missing else text
                if text:
                    ws.write_string(r, j, text, cell_format)
                else:
                    ws.write_blank(r, j, None, cell_format)
                width = cjk_width(text)
                widths[j] = max(widths[j], width)
                text_cells.append((r, j, width))
            elif _is_missing(v):
                ws.write_blank(r, j, None, cell_format)
            elif ck.cell == "number":
                ws.write_number(r, j, float(v) * ck.scale, cell_format)
                widths[j] = max(widths[j], _display_width(v, ck))
            elif ck.cell == "date":
                ws.write_datetime(r, j, pd.Timestamp(v).to_pydatetime(), cell_format)
                widths[j] = max(widths[j], _display_width(v, ck))
            else:
                text = str(v)
                ws.write_string(r, j, text, cell_format)
                width = cjk_width(text)
                widths[j] = max(widths[j], width)
                text_cells.append((r, j, width))
    widths = [min(max(w, 6), _MAX_WIDTH) + 2 for w in widths]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    _wrap_rows(ws, text_cells, widths)
    next_row = _HEADER_ROW + 2 + rows
    if rows < len(df):
        ws.write_string(
            next_row,
            0,
            f"本表共 {len(df)} 行，超出 Excel 行数上限，只列出前 {rows} 行。",
            formats.note,
        )
        next_row += 1
    for line in (note or "").splitlines():
        if line.strip():
            ws.write_string(next_row, 0, line.strip(), formats.note)
            next_row += 1
    ws.freeze_panes(_HEADER_ROW + 1, 0)
    _print_setup(ws, sum(widths))
    return ws


_QUALITY_COLUMNS: dict[str, tuple[str, Any]] = {
    "origin": ("位置（文件#工作表!行）", "text"),
    "file": ("文件", "text"),
    "sheet": ("工作表", "text"),
    "row": ("行", "count"),
    "table": ("台账", "text"),
    "column": ("字段", "text"),
    "raw_value": ("原值", "text"),
    "action": ("处理", "text"),
    "severity": ("级别", "text"),
    "message": ("说明", "text"),
}


def _quality_sheet(rep: Report) -> pd.DataFrame:
    """The quality log in Chinese, the row number as a number."""
    q = quality_log_zh(rep.ledgers)
    return q.assign(row=pd.to_numeric(q["row"], errors="coerce"))


def _definitions(rep: Report) -> pd.DataFrame:
    """The 口径 of every figure as the reader's appendix says it (:func:`~.session.definitions`)."""
    from .session import definitions

    pairs = definitions(rep)
    return pd.DataFrame({"label": [p[0] for p in pairs], "definition": [p[1] for p in pairs]})


def report_workbook_name(rep: Report) -> str:
    """``报表_<office>_<period>.xlsx`` (:func:`~.files.office_file_name`)."""
    return office_file_name("报表", rep.office, str(rep.year), ".xlsx")


def _meta(rep: Report) -> str:
    from ..formatting import fmt_date_zh

    return f"报告年度：{rep.year}年 · 统计截止日：{fmt_date_zh(rep.as_of)}"


def _page_sheet(
    wb: xlsxwriter.Workbook, formats: _Formats, rep: Report, table: PageTable
) -> tuple[str, str]:
    df = page_table(rep, table.key)
    labels = column_labels(table, rep)
    columns = {c: (labels[c], kind) for c, (_, kind) in table.columns.items()}
    notes = [table.note or ""]
    if table.prose is not None:
        notes += [p for p in table.prose(rep) if p]
    if not len(df):
        notes.insert(0, "（本期无数据）")
    write_frame_sheet(
        wb,
        formats,
        table.sheet,
        df,
        columns,
        title=f"{rep.office}{rep.year}年 · {table.caption}",
        meta=f"{_meta(rep)} · 页面：{NOTEBOOKS[table.page]}",
        demo=rep.demo,
        note="\n".join(notes),
        sheet_kinds=table.sheet_kinds,
        row_kind=table.row_kind,
    )
    return table.sheet, table.caption


def report_workbook_bytes(rep: Report) -> bytes:
    """The period's workbook: every page table a sheet, the quality log, the definitions.

    Parameters
    ----------
    rep
        The reporting context (:func:`~.session.load_report`); not modified.

    Returns
    -------
    bytes
        The ``.xlsx``. Sheets: 目录 (contents), one per :data:`~.tables.PAGE_TABLES` entry in
        page order (its :attr:`~.tables.PageTable.sheet` name), 质量日志, 口径说明. Each has a
        title row (office, period, caption), the demo label on demo data, Chinese headers with
        units, numbers in the units of the pages with thousands separators, a frozen header
        row, the 合计 row in bold. The same inputs give the same bytes (document time: the
        reporting date; author: the office).
    """
    buf = io.BytesIO()
    as_of = pd.Timestamp(rep.as_of)
    created = dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC)
    wb = xlsx_workbook(
        buf, title=f"{rep.office}{rep.year}年报表", author=rep.office, created=created
    )
    formats = _Formats(wb)
    contents = wb.add_worksheet("目录")
    # the tables of a year's six pages (a month's dispatch page is not among them)
    listed = [_page_sheet(wb, formats, rep, t) for t in PAGE_TABLES.values() if t.page in NOTEBOOKS]
    write_frame_sheet(
        wb,
        formats,
        "质量日志",
        _quality_sheet(rep),
        _QUALITY_COLUMNS,
        title=f"{rep.office}{rep.year}年 · 质量日志（清洗台账时的每一条记录）",
        meta=_meta(rep),
        demo=rep.demo,
    )
    listed.append(("质量日志", "质量日志（清洗台账时的每一条记录）"))
    write_frame_sheet(
        wb,
        formats,
        "口径说明",
        _definitions(rep),
        {"label": ("指标", "text"), "definition": ("口径", "text")},
        title=f"{rep.office}{rep.year}年 · 指标口径",
        meta=_meta(rep),
        demo=rep.demo,
    )
    listed.append(("口径说明", "指标口径"))
    _write_contents(contents, formats, rep, listed)
    wb.close()
    return buf.getvalue()


def _write_contents(
    ws: Worksheet, formats: _Formats, rep: Report, listed: list[tuple[str, str]]
) -> None:
    """The contents sheet: every sheet with its caption, each name a link to the sheet."""
    ws.write_string(_TITLE_ROW, 0, f"{rep.office}{rep.year}年报表 · 目录", formats.title)
    ws.write_string(_META_ROW, 0, _meta(rep), formats.meta)
    if rep.demo:
        ws.write_string(
            _DEMO_ROW, 0, f"{DEMO_LABEL} · 本表数字均为模拟生成，非真实统计", formats.demo
        )
    header = formats.get("", header=True)
    ws.write_string(_HEADER_ROW, 0, "工作表", header)
    ws.write_string(_HEADER_ROW, 1, "内容", header)
    for i, (sheet, caption) in enumerate(listed, start=_HEADER_ROW + 1):
        ws.write_url(i, 0, f"internal:'{sheet}'!A1", string=sheet)
        ws.write_string(i, 1, caption)
    ws.set_column(0, 0, max(cjk_width(s) for s, _ in listed) + 2)
    ws.set_column(1, 1, min(max(cjk_width(c) for _, c in listed), _MAX_WIDTH) + 2)
    ws.freeze_panes(_HEADER_ROW + 1, 0)
    _print_setup(ws, 60)


def write_report_workbook(rep: Report, path: str | os.PathLike) -> None:
    """Write :func:`report_workbook_bytes` to ``path`` atomically (temporary file and rename).

    Parameters
    ----------
    rep
        The reporting context.
    path
        The file, normally ``<reports folder>/<period>/`` + :func:`report_workbook_name`.
    """
    data = report_workbook_bytes(rep)
    atomic_write_bytes(Path(path), data)
    log.info("wrote %s (%d bytes)", path, len(data))
