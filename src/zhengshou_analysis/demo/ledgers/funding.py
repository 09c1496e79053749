"""The funding ledger (征拆资金到位情况表): one sheet per year (2016–2018 together), in 万元.

Sources are merged with a ``小计`` each and a ``合计``; a handful of cells carry the rarer messy
forms (亿, a remark, 约, 万元, full-width digits, month-only and the ambiguous float date).
"""

from __future__ import annotations

import numpy as np

from ..workbook import Book
from ..world import Inflow
from .common import (
    FULLWIDTH,
    SYNTHETIC_LABEL,
    Column,
    Ledgers,
    Page,
    close_sheet,
    fmt,
    merge_group,
    open_sheet,
    total_row,
)

__all__ = ["FILE", "render_funding"]

FILE = "征拆资金到位情况表_2016-2022.xlsx"

_COLUMNS: list[Column] = [
    ("seq", "序号", None),
    ("source", "资金来源", None),
    ("date", "到账日期", None),
    ("amount", "到位金额", None),
    ("project", "项目名称", None),
    ("note", "备注", None),
]
_SHEETS = (
    ((2016, 2018), "2016-2018年"),
    ((2019, 2019), "2019年"),
    ((2020, 2020), "2020年"),
    ((2021, 2021), "2021年"),
    ((2022, 2022), "2022年"),
)
_NOTE = "注：专项债券、上级补助资金按实际到账时间填列。"


def render_funding(out: Ledgers) -> None:
    """Render the funding workbook into ``out``.

    Parameters
    ----------
    out
        The collector of the world being rendered.
    """
    book = Book(FILE)
    rng = out.rng("render-funding")
    for years, sheet_name in _SHEETS:
        _funding_sheet(out, book, years, sheet_name, rng)
    out.books.append(book)


def _funding_sheet(
    out: Ledgers, book: Book, years: tuple[int, int], name: str, rng: np.random.Generator
) -> None:
    y0, y1 = years
    label = f"{y0}年" if y0 == y1 else f"{y0}—{y1}年"
    page, col = open_sheet(
        out,
        FILE,
        name,
        _COLUMNS,
        title=f"{out.world.config.district}{label}征拆资金到位情况表（{SYNTHETIC_LABEL}）",
        lines=("单位：万元", f"截至{y1}年12月31日"),
        rules=("title_rows", "title_unit"),
    )
    out.cov("multi_sheet", FILE)
    state = _SheetState(y0)
    total = 0.0
    for source in out.world.config.sources:
        rows = sorted(
            (f for f in out.world.inflows if f.source == source and y0 <= f.date.year <= y1),
            key=lambda f: (f.date, f.amount_wan),
        )
        if rows:
            total += _source_block(page, col, source, rows, state, rng)
    r = total_row(page, col["source"], "合计")
    page.sh.put(r, col["amount"], round(total, 2))
    page.cov("total_rows")
    close_sheet(page, book, year=y1, extra=(_NOTE,))


class _SheetState:
    """The running 序号 of a sheet and which one-off messy forms it has used."""

    def __init__(self, y0: int) -> None:
        self.y0 = y0
        self.seq = 0
        self.done: set[str] = set()


def _source_block(
    page: Page,
    col: dict[str, int],
    source: str,
    rows: list[Inflow],
    state: _SheetState,
    rng: np.random.Generator,
) -> float:
    """The inflows of one source (merged) and its 小计; return the 小计 (万元)."""
    sh = page.sh
    r0 = sh.row
    sub = 0.0
    for f in rows:
        sub += _inflow_row(page, col, f, state, rng)
    merge_group(page, r0, col["source"], source)
    if len(rows) > 1:
        page.cov("merged_category")
    sh.put(sh.row, col["source"], "小计")
    sh.put(sh.row, col["amount"], round(sub, 2))
    sh.row += 1
    return sub


def _inflow_row(
    page: Page, col: dict[str, int], f: Inflow, state: _SheetState, rng: np.random.Generator
) -> float:
    """Write inflow ``f``; record its truth; return its amount as read (万元)."""
    sh, r = page.sh, page.sh.row
    state.seq += 1
    sh.put(r, col["seq"], state.seq)
    amount_wan, cell, note = _amount_cell(page, f, state)
    sh.put(r, col["amount"], cell)
    if note:
        sh.put(r, col["note"], note)
    read = page.put_date(r, col["date"], f.date, _date_style(f, state.y0, rng))
    if f.project is not None:
        sh.put(r, col["project"], f.project.name)
    else:
        page.put_placeholder(r, col["project"], "funding.project", ("/", "—", "-", "", "XX"))
    sh.row += 1
    page.out.truth["funding"].append(
        {
            "date": read,
            "funding_source": f.source,
            "amount_yuan": round(amount_wan * 1e4, 2),
            "project_id": f.project.pid if f.project else None,
        }
    )
    return amount_wan


def _amount_cell(page: Page, f: Inflow, state: _SheetState) -> tuple[float, object, str | None]:
    """The cell of an inflow amount (万元 by the title row); return (万元 read, cell, note)."""
    a, y0, done = f.amount_wan, state.y0, state.done
    if y0 == 2021 and f.source == "专项债券" and "yi" not in done:
        done.add("yi")
        a = max(round(a / 1000) * 1000, 1000.0)  # a round sum, so that 亿 is exact
        page.cov("suffix_yi")
        page.out.special["yi"] = f"{a / 1e4:g}亿"
        return a, page.out.special["yi"], "专项债券资金"
    if y0 == 2020 and f.source == "区财政" and "remark" not in done:
        done.add("remark")
        page.cov("remark")
        return a, f"{fmt(a, 2)}（含工作经费）", None
    if y0 == 2022 and f.source == "土地出让收入" and "approx" not in done:
        done.add("approx")
        page.cov("approx")
        return a, "约" + fmt(a, 2), "按月底快报数"
    if y0 == 2019 and f.source == "市财政" and len(done) < 3:
        done.add(f"wan{len(done)}")
        page.cov("suffix_wanyuan")
        if a >= 1000:
            page.cov("thousands")
        return a, f"{a:,.2f}万元", None
    if y0 == 2022 and f.source == "市财政" and "fw" not in done:
        done.add("fw")
        page.cov("fullwidth_digits")
        return a, fmt(a, 2).translate(FULLWIDTH), None
    if a >= 1000 and y0 == 2016:
        page.cov("thousands")
        return a, f"{a:,.2f}", None
    return a, a, None


def _date_style(f: Inflow, y0: int, rng: np.random.Generator) -> str:
    """The written form of an inflow's date (one draw per row, used only in 2021)."""
    draw = rng.random()
    if f.source == "上级补助资金" and y0 == 2019:
        return "month_cn"
    if f.source == "上级补助资金" and y0 == 2020:
        return "month_dot"
    if f.source == "区财政" and f.date.month == 10 and y0 == 2021:
        return "ambiguous"
    if f.source == "区财政" and f.date.month == 10 and y0 == 2022:
        return "month_dot"
    if y0 == 2022 and f.source == "市财政":
        return "serial"
    if y0 == 2021 and draw < 0.3:
        return "cn"
    return "excel"
