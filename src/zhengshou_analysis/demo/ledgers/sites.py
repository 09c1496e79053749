"""The site ledger (安置区建设情况表): one sheet, zones merged, dates in eight written forms."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from ..workbook import Book, XNum
from ..world import Site, nfkc, pick
from .common import (
    SYNTHETIC_LABEL,
    Column,
    Ledgers,
    Page,
    close_sheet,
    merge_group,
    open_sheet,
    total_row,
)

__all__ = ["FILE", "render_sites"]

FILE = "安置区建设情况表.xlsx"

_COLUMNS: list[Column] = [
    ("seq", "序号", None),
    ("zone", "片区", None),
    ("name", "安置区名称", None),
    ("start", "开工时间", None),
    ("promised", "计划交房日期", None),
    ("delivered", "实际交房日期", None),
    ("units", "总套数", None),
    ("progress", "形象进度", None),
    ("note", "备注", None),
]
_DATE_STYLES = ("excel", "serial", "cn", "month_cn", "dot", "excel_slash", "month_dot", "dash")


def render_sites(out: Ledgers) -> None:
    """Render the site ledger into ``out``; its truth rows are the dates as read.

    Parameters
    ----------
    out
        The collector of the world being rendered.
    """
    cfg = out.world.config
    book = Book(FILE)
    rng = out.rng("render-sites")
    page, col = open_sheet(
        out,
        FILE,
        "安置区",
        _COLUMNS,
        title=f"{cfg.district}安置房建设情况表（{SYNTHETIC_LABEL}）",
        lines=(f"截至{cfg.as_of.year}年{cfg.as_of.month}月{cfg.as_of.day}日",),
        rules=("title_rows",),
    )
    ordered = sorted(out.world.sites, key=lambda s: (cfg.zones.index(s.zone), s.start))
    i = 0
    total_units = 0
    for zone in cfg.zones:
        group = [s for s in ordered if s.zone == zone]
        r0 = page.sh.row
        for s in group:
            i += 1
            total_units += _site_row(page, col, s, i, rng)
        merge_group(page, r0, col["zone"], zone)
        if len(group) > 1:
            page.cov("merged_category")
    r = total_row(page, col["name"], "总计")
    page.sh.put(r, col["units"], total_units)
    page.cov("total_rows")
    note = "备注：实际交房日期为空、未交付或在建的，为截至统计日尚未交付。"
    close_sheet(page, book, year=cfg.last_year, extra=(note,))
    out.books.append(book)


def _site_row(page: Page, col: dict[str, int], s: Site, i: int, rng: np.random.Generator) -> int:
    """Write site ``s`` as data row ``i``; record its truth; return its units (0 when unknown)."""
    sh, r = page.sh, page.sh.row
    sh.put(r, col["seq"], i)
    sh.put(r, col["name"], s.name)
    read: dict[str, date | None] = {}
    for key, d in (("start", s.start), ("promised", s.promised), ("delivered", s.delivered)):
        if d is None:
            sh.put(r, col[key], ("未交付", "在建")[i % 2])
            page.cov("undelivered_words")
            read[key] = None
        else:
            read[key] = page.put_date(r, col[key], d, pick(rng, _DATE_STYLES))
    if s.units is None:
        page.put_placeholder(r, col["units"], "sites.units", ("待定",))
    else:
        sh.put(r, col["units"], s.units)
    sh.put(r, col["progress"], XNum(s.progress, "0%") if i % 2 else f"{round(s.progress * 100)}%")
    page.cov("percent")
    as_of = page.out.world.config.as_of
    if s.delivered is None and s.promised < as_of:
        sh.put(r, col["note"], "逾期未交付")
    elif s.delivered is not None and s.delivered > s.promised + timedelta(days=180):
        sh.put(r, col["note"], "逾期交付")
    sh.row += 1
    page.out.truth["sites"].append(
        {
            "site_id": s.key,
            "site_name": nfkc(s.name),
            "zone": s.zone,
            "start_date": read["start"],
            "promised_date": read["promised"],
            "delivered_date": read["delivered"],
            "units": s.units,
        }
    )
    return s.units or 0
