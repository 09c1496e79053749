"""The transition ledger (过渡安置台账): one sheet per fee basis, and a 信访登记 sheet.

T1 and T2 (per m²) take the basis from the header 过渡费标准（元/平方米/月）; T2 has no 过渡期限
column (the truth derives the agreed months from the site's promised date). T3 (per household or
person) has a 计费方式 column and the two planted bad rows (回迁 before 腾房, an unknown basis).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from ..draw import draw_person
from ..workbook import Book, XDate
from ..world import Household, pick
from .common import SYNTHETIC_LABEL, Column, Ledgers, Page, close_sheet, open_sheet

__all__ = ["FILE", "render_transition"]

FILE = "过渡安置台账.xlsx"

# sheet key: (sheet name, columns, date styles)
_LAYOUTS: dict[str, tuple[str, list[Column], tuple[str, ...]]] = {
    "T1": (
        "按面积计费（2016-2020年签约）",
        [
            ("seq", "序号", None),
            ("aid", "协议编号", None),
            ("pname", "户主姓名", None),
            ("pidno", "身份证号", None),
            ("pphone", "联系电话", None),
            ("site", "安置区", None),
            ("start", "腾房日期", None),
            ("end", "回迁日期", None),
            ("area", "计费面积（平方米）", None),
            ("rate", "过渡费标准（元/平方米/月）", None),
            ("agreed", "约定过渡期限（月）", None),
        ],
        ("excel",),
    ),
    "T2": (
        "按面积计费（2021-2022年签约）",
        [
            ("seq", "序号", None),
            ("aid", "协议编号", None),
            ("pname", "户主", None),
            ("pphone", "联系电话", None),
            ("site", "安置区", None),
            ("start", "交房腾空日期", None),
            ("end", "过渡结束日期", None),
            ("area", "过渡面积（㎡）", None),
            ("rate", "过渡费标准（元/平方米/月）", None),
        ],
        ("cn", "dot", "slash", "dash", "ymd_text"),
    ),
    "T3": (
        "按户按人计费",
        [
            ("seq", "序号", None),
            ("aid", "协议编号", None),
            ("pname", "姓名", None),
            ("pidno", "身份证号码", None),
            ("pphone", "联系电话", None),
            ("site", "安置区", None),
            ("start", "过渡开始日期", None),
            ("end", "回迁日期", None),
            ("basis", "计费方式", None),
            ("rate", "过渡安置费标准", None),
            ("area", "计费面积", None),
            ("persons", "过渡人数", None),
            ("agreed", "过渡期限（月）", None),
        ],
        ("excel_slash", "serial", "ymd_int"),
    ),
}
_BASIS_WORDS = {
    "per_m2": ("按面积", "元/平方米/月"),
    "per_household": ("按户", "元/户/月"),
    "per_person": ("按人", "元/人/月"),
}
_PETITION_COLUMNS: list[Column] = [
    ("seq", "序号", None),
    ("when", "来访时间", None),
    ("who", "来访人", None),
    ("tel", "联系电话", None),
    ("what", "诉求内容", None),
    ("result", "办理结果", None),
]
_PETITION_ISSUES = (
    "反映过渡安置费未按时发放",
    "询问安置房交房时间",
    "反映补偿款未足额支付",
    "要求提高过渡安置费标准",
    "反映安置区工程停工",
)


def render_transition(out: Ledgers) -> None:
    """Render the transition workbook into ``out``.

    Parameters
    ----------
    out
        The collector of the world being rendered (sites rendered already).
    """
    book = Book(FILE)
    rng = out.rng("render-transition")
    for key in _LAYOUTS:
        _transition_sheet(out, book, key, rng)
    _petition_sheet(out, book, rng)
    out.books.append(book)


def _transition_sheet(out: Ledgers, book: Book, key: str, rng: np.random.Generator) -> None:
    name, cols, styles = _LAYOUTS[key]
    rules = ["title_rows", "pii", "synonyms", "basis_column" if key == "T3" else "basis_header"]
    if key == "T2":
        rules.append("agreed_absent")
    page, col = open_sheet(
        out,
        FILE,
        name,
        cols,
        title=f"{out.world.config.district}征收过渡安置台账（{name}）（{SYNTHETIC_LABEL}）",
        lines=("截至2022年12月31日",),
        rules=tuple(rules),
    )
    out.cov("multi_sheet", FILE)
    rows = sorted((h for h in out.world.households if h.sheet == key), key=lambda h: h.ag.aid)
    for i, h in enumerate(rows, start=1):
        _household_row(page, col, h, i, styles, rng, fullwidth=key == "T2")
    note = "备注：回迁日期为空的，为截至统计日仍在过渡期。"
    close_sheet(page, book, year=2022, extra=(note,))


def _household_row(
    page: Page,
    col: dict[str, int],
    h: Household,
    i: int,
    styles: tuple[str, ...],
    rng: np.random.Generator,
    *,
    fullwidth: bool,
) -> None:
    """Write household ``h`` as data row ``i``; record its truth unless the row is planted bad."""
    sh, r, a = page.sh, page.sh.row, h.ag
    sh.put(r, col["seq"], i)
    sh.put(r, col["aid"], a.aid)
    page.put_person(r, col, a.person)
    sh.put(r, col["site"], page.site_written(h.site, rng, fullwidth=fullwidth))
    style = pick(rng, styles)
    start = page.put_date(r, col["start"], h.start, style)
    end = _end_cell(page, col, h, style, styles, rng)
    if "basis" in col:
        _basis_cell(page, col, h, rng)
    sh.put(r, col["rate"], h.rate)
    area = h.area if h.area_shown else None
    if area is None:
        page.put_placeholder(r, col["area"], "transition.area", ("XX", "—", "/"))
    else:
        sh.put(r, col["area"], area)
    persons = _persons_cell(page, col, h)
    agreed = h.agreed if "agreed" in col else None
    if agreed is not None:
        sh.put(r, col["agreed"], agreed)
    sh.row += 1
    if h.bad:
        return
    page.out.truth["transition"].append(
        {
            "agreement_id": a.aid,
            "site_id": h.site.key,
            "start_date": start,
            "end_date": end,
            "fee_basis": h.basis,
            "fee_rate_yuan": h.rate,
            "area_m2": area,
            "persons": persons,
            "agreed_months": agreed,  # None where the sheet has no 过渡期限 column: NA
        }
    )


def _end_cell(
    page: Page,
    col: dict[str, int],
    h: Household,
    start_style: str,
    styles: tuple[str, ...],
    rng: np.random.Generator,
) -> date | None:
    """The end of the transition: a date, a placeholder while open, or a planted wrong date."""
    r = page.sh.row
    if h.bad == "end_before_start":
        wrong = h.start - timedelta(days=400)
        page.put_date(r, col["end"], wrong, start_style, cover=False)
        reason = (
            f"end_date {wrong.isoformat()} before start_date {h.start.isoformat()} ({h.ag.aid})"
        )
        page.reject(r, "transition", reason)
        return None
    if h.end is None:
        page.put_placeholder(r, col["end"], "transition.end", ("", "—", "-", "暂无", ""))
        return None
    return page.put_date(r, col["end"], h.end, pick(rng, styles), cover=False)


def _basis_cell(page: Page, col: dict[str, int], h: Household, rng: np.random.Generator) -> None:
    """The 计费方式 word (two spellings per basis), or the planted unknown basis ``按间``."""
    r = page.sh.row
    if h.bad == "bad_basis":
        page.sh.put(r, col["basis"], "按间")
        page.reject(r, "transition", f"fee_basis '按间' is not a known basis ({h.ag.aid})")
    else:
        page.sh.put(r, col["basis"], pick(rng, _BASIS_WORDS[h.basis]))


def _persons_cell(page: Page, col: dict[str, int], h: Household) -> int | None:
    """过渡人数 where the layout has it: the number or a placeholder; return it as read."""
    if "persons" not in col:
        return None
    r = page.sh.row
    if h.persons_shown:
        page.sh.put(r, col["persons"], h.persons)
        return h.persons
    page.put_placeholder(r, col["persons"], "transition.persons", ("X", "x", "XX", "/"))
    return None


def _petition_sheet(out: Ledgers, book: Book, rng: np.random.Generator) -> None:
    """A 信访登记 sheet that matches no table."""
    title = f"{out.world.config.district}征收信访登记表（{SYNTHETIC_LABEL}）"
    page, col = open_sheet(out, FILE, "信访登记", _PETITION_COLUMNS, title=title)
    sh = page.sh
    for i in range(1, 9):
        r = sh.row
        sh.put(r, col["seq"], i)
        sh.put(r, col["when"], XDate(date(2022, i, int(rng.integers(1, 29)))))
        person = draw_person(rng, out.world.config)
        sh.put(r, col["who"], person.name)
        sh.put(r, col["tel"], person.phone)
        sh.put(r, col["what"], pick(rng, _PETITION_ISSUES))
        sh.put(r, col["result"], pick(rng, ("已答复", "已转办", "办理中")))
        sh.row += 1
    page.cov("no_table_sheet")
    book.sheets.append(sh)
