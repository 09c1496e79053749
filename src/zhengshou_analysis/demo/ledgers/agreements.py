"""The agreement ledgers (征收补偿协议台账): two workbooks feeding one table.

* 2016–2020: one sheet per zone, amounts in 元, a 支付期限 column, a ``合计`` row, a 说明 sheet;
* 2021–2022: one sheet per year, amounts in 万元 (title row), projects named by 项目名称, no
  支付期限 column, and two planted bad rows (an impossible 签约日期, a duplicate 协议编号).
"""

from __future__ import annotations

from datetime import date

import numpy as np

from ..draw import draw_person
from ..workbook import Book, Sheet
from ..world import Agreement, pick
from .common import (
    FULLWIDTH,
    SYNTHETIC_LABEL,
    Column,
    Ledgers,
    Page,
    close_sheet,
    fmt,
    open_sheet,
    total_row,
)

__all__ = ["FILE_A", "FILE_B", "render_agreements"]

FILE_A = "征收补偿协议台账_2016-2020.xlsx"
FILE_B = "征收补偿协议台账_2021-2022.xlsx"

_COLUMNS_A: list[Column] = [
    ("seq", "序号", None),
    ("aid", "协 议 编 号", None),
    ("pid", "项目编号", None),
    ("pname", "被征收人", None),
    ("pidno", "身份证号", None),
    ("pphone", "联系电话", None),
    ("signed", "签约日期", None),
    ("mode", "补偿方式", None),
    ("area", "被征收房屋面积（㎡）", None),
    ("comp", "补偿总额（元）", None),
    ("due", "支付期限", None),
    ("site", "安置区", None),
    ("note", "备注", None),
]
_MODE_WORDS_A = {
    "货币补偿": ("货币补偿", "货币补偿", "货币", "现金"),
    "产权调换": ("产权调换", "产权调换", "房屋安置", "实物安置"),
}
# (签约日期 styles, 支付期限 styles) per zone sheet, by the zone's place in ``DemoConfig.zones``
# (a fourth zone takes the first's styles again)
_DATE_STYLES_A = (
    (("excel",), ("excel",)),
    (("serial", "serial", "excel_slash"), ("excel_slash",)),
    (("dot", "cn"), ("dash", "slash")),
)
_EXPLANATION = (
    "1. 本工作簿为演示用的模拟数据，人名、身份证号、电话均为虚构。",
    "2. 各片区分表登记，协议编号按片区、签约年度顺序编号。",
    "3. 产权调换户的过渡安置情况见《过渡安置台账》。",
)

_COLUMNS_B: list[Column] = [
    ("seq", "序号", None),
    ("aid", "协议号", None),
    ("project", "项目名称", None),
    ("pname", "户主", None),
    ("pidno", "证件号码", None),
    ("pphone", "手机", None),
    ("signed", "协议签订日期", None),
    ("mode", "安置方式", None),
    ("area", "建筑面积（平方米）", None),
    ("comp", "协议金额", None),
    ("site", "安置小区", None),
    ("note", "备注", None),
]
_MODE_WORDS_B = {"货币补偿": ("货币补偿", "货币"), "产权调换": ("产权调换", "房屋安置")}
_DATE_STYLES_B = {
    2021: ("cn", "dot", "slash", "dash", "ymd_text"),
    2022: ("ymd_int", "serial", "excel"),
}
_NO_SITE = ("/", "—", "", "无")


def render_agreements(out: Ledgers) -> None:
    """Render both agreement workbooks into ``out``.

    Parameters
    ----------
    out
        The collector of the world being rendered.
    """
    _render_a(out)
    _render_b(out)
    out.cov("multi_file", FILE_A)
    out.cov("multi_file", FILE_B)


def _agreement_truth(
    out: Ledgers, a: Agreement, due: date | None, site_key: str | None, *, area_na: bool = False
) -> None:
    out.truth["agreements"].append(
        {
            "agreement_id": a.aid,
            "project_id": a.project.pid,
            "signed_date": a.signed,
            "mode": a.mode,
            "house_area_m2": None if area_na else a.area,
            "compensation_yuan": float(a.comp),
            "payment_due_date": due,
            "site_id": site_key,
        }
    )


def _site_cell(
    page: Page, r: int, col: dict[str, int], a: Agreement, rng: np.random.Generator
) -> str | None:
    """The 安置区 of a swap (as written), a placeholder for cash; return the truth's site_id."""
    if a.site is None:
        page.put_placeholder(r, col["site"], "agreements.site", _NO_SITE)
        return None
    page.sh.put(r, col["site"], page.site_written(a.site, rng))
    return a.site.key


# =================================================================================================
# 2016–2020: per zone
# =================================================================================================
def _render_a(out: Ledgers) -> None:
    cfg = out.world.config
    book = Book(FILE_A)
    rng = out.rng("render-agreements-a")
    for z, zone in enumerate(cfg.zones):
        page, col = open_sheet(
            out,
            FILE_A,
            zone,
            _COLUMNS_A,
            title=f"{cfg.district}征收补偿协议台账（{zone}，2016—2020年签约）（{SYNTHETIC_LABEL}）",
            lines=("单位：元", "截至2020年12月31日"),
            rules=("title_rows", "header_spaces", "fullwidth_brackets", "pii"),
        )
        out.cov("multi_sheet", FILE_A)
        rows = [
            a
            for a in out.world.agreements
            if a.project.zone == zone and a.signed.year <= cfg.last_year_with_terms
        ]
        area_sum = 0.0
        comp_sum = 0
        for i, a in enumerate(rows, start=1):
            area = _row_a(page, col, a, i, _DATE_STYLES_A[z % len(_DATE_STYLES_A)], rng)
            area_sum += area or 0.0
            comp_sum += a.comp
        r = total_row(page, col["pphone"], "合计")
        page.sh.put(r, col["area"], round(area_sum, 2))
        page.sh.put(r, col["comp"], comp_sum)
        page.cov("total_rows")
        close_sheet(page, book, year=2020, extra=("备注：支付期限为协议约定的补偿款支付期限。",))
    book.sheets.append(_explanation_sheet(out))
    out.books.append(book)


def _explanation_sheet(out: Ledgers) -> Sheet:
    """A 说明 sheet that matches no table."""
    sh = Sheet("说明")
    sh.put(0, 0, f"说明（{SYNTHETIC_LABEL}）")
    for i, text in enumerate(_EXPLANATION, start=2):
        sh.put(i, 0, text)
    sh.widths[0] = 60.0
    out.cov("no_table_sheet", FILE_A, sh.name)
    return sh


def _row_a(
    page: Page,
    col: dict[str, int],
    a: Agreement,
    i: int,
    styles: tuple[tuple[str, ...], tuple[str, ...]],
    rng: np.random.Generator,
) -> float | None:
    """Write agreement ``a`` as data row ``i``; record its truth; return its area as read."""
    sh, r = page.sh, page.sh.row
    signed_styles, due_styles = styles
    sh.put(r, col["seq"], i)
    sh.put(r, col["aid"], a.aid)
    sh.put(r, col["pid"], a.project.pid)
    page.put_person(r, col, a.person)
    page.pick_date(r, col["signed"], a.signed, signed_styles, rng)
    sh.put(r, col["mode"], pick(rng, _MODE_WORDS_A[a.mode]))
    area = _area_cell(page, r, col["area"], a.area, rng.random())
    _comp_cell_a(page, r, col["comp"], a.comp, rng.random())
    due: date | None = a.due
    if rng.random() < 0.01:  # no due date for this agreement: the ledger states none (NA)
        due = None
        page.put_placeholder(r, col["due"], "agreements.due", ("待定", "--"))
    elif a.due is not None:
        page.pick_date(r, col["due"], a.due, due_styles, rng)
    site_key = _site_cell(page, r, col, a, rng)
    if rng.random() < 0.03:
        sh.put(r, col["note"], "已腾空交房" if a.site else "已领取补偿款")
    _agreement_truth(page.out, a, due, site_key, area_na=area is None)
    sh.row += 1
    return area


def _area_cell(page: Page, r: int, c: int, area: float, draw: float) -> float | None:
    """The house area: mostly a number, sometimes a placeholder, ㎡, 约 or full-width digits."""
    if draw < 0.01:
        page.put_placeholder(r, c, "agreements.area", ("待定", "X", "x"))
        return None
    text = fmt(area, 2)
    forms = (
        (0.03, f"{text}㎡", "suffix_m2"),
        (0.04, "约" + text, "approx"),
        (0.05, text.translate(FULLWIDTH), "fullwidth_digits"),
    )
    page.put_drawn(r, c, draw, forms, area)
    return area


def _comp_cell_a(page: Page, r: int, c: int, comp: int, draw: float) -> None:
    """The compensation in 元: thousands separators, 万元 suffix, full-width digits or a number."""
    forms = (
        (0.03, f"{comp:,.2f}", "thousands"),
        (0.04, f"{comp / 1e4:.4f}万元", "suffix_wanyuan"),
        (0.05, str(comp).translate(FULLWIDTH), "fullwidth_digits"),
    )
    page.put_drawn(r, c, draw, forms, comp)


# =================================================================================================
# 2021–2022: per year
# =================================================================================================
def _render_b(out: Ledgers) -> None:
    cfg = out.world.config
    book = Book(FILE_B)
    rng = out.rng("render-agreements-b")
    for year in (2021, 2022):
        page, col = open_sheet(
            out,
            FILE_B,
            f"{year}年",
            _COLUMNS_B,
            title=f"{cfg.district}{year}年征收补偿协议签订情况表（{SYNTHETIC_LABEL}）",
            lines=("单位：万元", f"截至{year}年12月31日"),
            rules=("title_rows", "title_unit", "synonyms", "project_by_name", "due_absent", "pii"),
        )
        out.cov("multi_sheet", FILE_B)
        rows = [a for a in out.world.agreements if a.signed.year == year]
        rows.sort(key=lambda a: (a.signed, a.aid))
        row_of: dict[str, int] = {}
        for i, (kind, a) in enumerate(_entries_b(year, rows), start=1):
            page.sh.put(page.sh.row, col["seq"], i)
            if a is None:  # ("bad_date", None)
                _bad_date_row(page, col, rng)
            elif kind == "dup":
                _duplicate_row(page, col, a, year, row_of, rng)
            else:
                row_of.setdefault(a.aid, page.sh.row + 1)
                _row_b(page, col, a, year, rng)
            page.sh.row += 1
        close_sheet(page, book, year=year)
    out.books.append(book)


def _entries_b(year: int, rows: list[Agreement]) -> list[tuple[str, Agreement | None]]:
    """The rows of a year sheet with its planted bad row: an impossible date or a duplicate."""
    entries: list[tuple[str, Agreement | None]] = [("ok", a) for a in rows]
    if year == 2021:
        entries.insert(len(rows) * 2 // 5, ("bad_date", None))
    else:
        entries.insert(len(rows) * 3 // 4, ("dup", rows[len(rows) // 3]))
    return entries


def _agreement_cells_b(
    page: Page, col: dict[str, int], a: Agreement, year: int, rng: np.random.Generator
) -> None:
    """The cells a good row and its duplicate share: ids, person, date, mode, area."""
    sh, r = page.sh, page.sh.row
    sh.put(r, col["aid"], a.aid)
    sh.put(r, col["project"], a.project.name)
    page.put_person(r, col, a.person)
    page.pick_date(r, col["signed"], a.signed, _DATE_STYLES_B[year], rng)
    sh.put(r, col["mode"], pick(rng, _MODE_WORDS_B[a.mode]))
    sh.put(r, col["area"], a.area)


def _row_b(
    page: Page, col: dict[str, int], a: Agreement, year: int, rng: np.random.Generator
) -> None:
    """A good row: the amount in 万元 (a number, text or full-width text) and its truth."""
    r = page.sh.row
    _agreement_cells_b(page, col, a, year, rng)
    wan = fmt(a.comp / 1e4, 4)
    forms = ((0.03, wan.translate(FULLWIDTH), "fullwidth_digits"), (0.08, wan, ""))
    page.put_drawn(r, col["comp"], rng.random(), forms, round(a.comp / 1e4, 4))
    site_key = _site_cell(page, r, col, a, rng)
    _agreement_truth(page.out, a, None, site_key)  # no 支付期限 column: the ledger states none


def _duplicate_row(
    page: Page,
    col: dict[str, int],
    a: Agreement | None,
    year: int,
    row_of: dict[str, int],
    rng: np.random.Generator,
) -> None:
    """A second row of an earlier agreement with another amount (重复录入)."""
    if a is None:  # pragma: no cover - a duplicate always repeats an agreement
        return
    sh, r = page.sh, page.sh.row
    _agreement_cells_b(page, col, a, year, rng)
    sh.put(r, col["comp"], round(a.comp * 1.1 / 1e4, 4))
    sh.put(r, col["note"], "重复录入")
    sh.put(r, col["site"], a.site.name if a.site else "/")
    reason = f"duplicate agreement_id {a.aid} (first at row {row_of[a.aid]})"
    page.reject(r, "agreements", reason)


def _bad_date_row(page: Page, col: dict[str, int], rng: np.random.Generator) -> None:
    """An agreement of the first 片区 (贵城片区) signed on 2021年2月30日 (a date that does not exist)."""
    world = page.out.world
    first = world.config.zones[0]
    prefix = world.config.zone_prefix[first]
    aid = f"{prefix}-2021-{world.agreement_seq[(prefix, 2021)] + 1:04d}"
    p = next(q for q in world.projects if q.zone == first and q.has_house and 2021 in q.row_years)
    sh, r = page.sh, page.sh.row
    sh.put(r, col["aid"], aid)
    sh.put(r, col["project"], p.name)
    page.put_person(r, col, draw_person(rng, world.config))
    sh.put(r, col["signed"], "2021年2月30日")
    sh.put(r, col["mode"], "货币补偿")
    sh.put(r, col["area"], 96.5)
    sh.put(r, col["comp"], 41.2385)
    sh.put(r, col["site"], "/")
    page.reject(r, "agreements", f"unparseable required signed_date '2021年2月30日' ({aid})")
