"""The project ledger (征收项目任务完成情况表): one sheet per report year in three layouts.

P1 (2019, 2020) and P2 (2021) have two-row headers with 征地/房屋征收 over 任务/已完成 and houses in
万平方米; P3 (2022) turns the header around and counts houses in m². Zones and categories are
merged, each zone has a ``小计``, each sheet a ``合计`` with ``其中：`` rows; the 2021 ``合计`` of
land done is deliberately 100 亩 too high.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..workbook import Book, XNum
from ..world import Project, nfkc
from .common import (
    FULLWIDTH,
    SYNTHETIC_LABEL,
    Column,
    Ledgers,
    Page,
    close_sheet,
    fmt,
    merge_group,
    num,
    open_sheet,
    total_row,
)

__all__ = ["FILE", "MISMATCH_MU", "render_projects"]

FILE = "征收项目任务完成情况表_2019-2022.xlsx"

#: How much the one wrong total (2021, 累计完成征地) overstates its detail rows.
MISMATCH_MU = 100.0
_MISMATCH_YEAR = 2021

_LAYOUTS: dict[str, list[Column]] = {
    "P1": [
        ("seq", "序号", None),
        ("zone", "片区", None),
        ("cat", "类别", None),
        ("pid", "项目编号", None),
        ("name", "项目名称", None),
        ("sector", "项目类型", None),
        ("lt", "征地（亩）", "任务"),
        ("ld", "征地（亩）", "已完成"),
        ("ht", "房屋征收（万平方米）", "任务"),
        ("hd", "房屋征收（万平方米）", "已完成"),
        ("rate", "完成率", None),
        ("blk", "卡点类型", None),
        ("bmu", "卡点面积(亩)", None),
        ("note", "备注", None),
    ],
    "P2": [
        ("seq", "序号", None),
        ("zone", "所属片区", None),
        ("cat", "任务来源", None),
        ("pid", "项目代码", None),
        ("name", "项 目 名 称", None),
        ("sector", "领域", None),
        ("year", "年度", None),
        ("lt", "征地（亩）", "目标任务"),
        ("ld", "征地（亩）", "累计完成"),
        ("ht", "房屋征收（万平方米）", "目标任务"),
        ("hd", "房屋征收（万平方米）", "累计完成"),
        ("rate", "完成率", None),
        ("blk", "主要问题", None),
        ("bmu", "剩余面积（亩）", None),
        ("note", "备注", None),
    ],
    "P3": [
        ("seq", "序号", None),
        ("zone", "指挥部", None),
        ("cat", "项目类别", None),
        ("pid", "项目编号", None),
        ("name", "项目名称", None),
        ("sector", "项目类型", None),
        ("year", "任务年度", None),
        ("lt", "任务", "征地（亩）"),
        ("ht", "任务", "房屋（平方米）"),
        ("ld", "已完成", "征地（亩）"),
        ("hd", "已完成", "房屋（平方米）"),
        ("rate", "完成率", None),
        ("blk", "卡点类型", None),
        ("bmu", "卡点面积（亩）", None),
        ("note", "备注", None),
    ],
}
_STYLE_OF_YEAR = {2019: "P1", 2020: "P1", 2021: "P2", 2022: "P3"}
_CATEGORIES = ("市下达", "区统筹")

# written spellings of the blocker and the category per layout (the truth is the key)
_BLOCKER_WRITTEN = {
    "P1": {b: b for b in ("公建单位", "军事用地", "双高糖料蔗基地", "留用地", "资金")},
    "P2": {
        "公建单位": "公建",
        "军事用地": "军事",
        "双高糖料蔗基地": "双高基地",
        "留用地": "留用地",
        "资金": "资金",
    },
    "P3": {
        "公建单位": "公建单位",
        "军事用地": "军队",
        "双高糖料蔗基地": "糖料蔗",
        "留用地": "留用地",
        "资金": "资金",
    },
}
_CATEGORY_WRITTEN = {
    "P1": {"市下达": "市下达", "区统筹": "区统筹"},
    "P2": {"市下达": "市级下达", "区统筹": "统筹推进"},
    "P3": {"市下达": "市本级", "区统筹": "统筹"},
}
_NOTE = "备注：卡点面积指因卡点因素暂无法完成征收的土地面积；已完成数为截至年末累计数。"

Sums = defaultdict[str, float]


def render_projects(out: Ledgers) -> None:
    """Render the project ledger into ``out`` (one sheet per report year).

    Parameters
    ----------
    out
        The collector of the world being rendered.
    """
    book = Book(FILE)
    rng = out.rng("render-projects")
    for year in out.world.config.report_years:
        _project_sheet(out, book, year, rng)
    out.books.append(book)


def _project_sheet(out: Ledgers, book: Book, year: int, rng: np.random.Generator) -> None:
    cfg = out.world.config
    style = _STYLE_OF_YEAR[year]
    rules = ["title_rows", "fullwidth_brackets"]
    rules.append("header_2row_swapped" if style == "P3" else "header_2row")
    rules += {"P1": ["year_from_title"], "P2": ["header_spaces", "synonyms"], "P3": ["synonyms"]}[
        style
    ]
    page, col = open_sheet(
        out,
        FILE,
        f"{year}年",
        _LAYOUTS[style],
        title=f"{cfg.district}{year}年征收项目任务完成情况表（{SYNTHETIC_LABEL}）",
        lines=(f"截至{year}年12月31日",),
        rules=tuple(rules),
    )
    out.cov("multi_sheet", FILE)
    sums_all: Sums = defaultdict(float)
    sums_cat: dict[str, Sums] = {cat: defaultdict(float) for cat in _CATEGORIES}
    seq = 0
    for zone in cfg.zones:
        seq = _zone_block(page, col, zone, year, style, seq, rng, (sums_all, sums_cat))
    _sheet_totals(page, col, year, style, sums_all, sums_cat)
    close_sheet(page, book, year=year, extra=(_NOTE,))


def _zone_block(
    page: Page,
    col: dict[str, int],
    zone: str,
    year: int,
    style: str,
    seq: int,
    rng: np.random.Generator,
    sums: tuple[Sums, dict[str, Sums]],
) -> int:
    """The rows of one zone, category by category (merged), and its 小计; return the last 序号."""
    sums_all, sums_cat = sums
    projects = page.out.world.projects
    zone_rows = [p for p in projects if p.zone == zone and year in p.row_years]
    zone_rows.sort(key=lambda p: (p.category != "市下达", p.pid))
    if not zone_rows:
        return seq
    sums_zone: Sums = defaultdict(float)
    zr0 = page.sh.row
    for cat in _CATEGORIES:
        cat_rows = [p for p in zone_rows if p.category == cat]
        if not cat_rows:
            continue
        cr0 = page.sh.row
        for p in cat_rows:
            seq += 1
            vals = _project_row(page, col, p, year, style, seq, rng)
            for k, v in vals.items():
                for target in (sums_zone, sums_all, sums_cat[cat]):
                    target[k] += v
            page.sh.row += 1
        merge_group(page, cr0, col["cat"], _CATEGORY_WRITTEN[style][cat])
    cfg = page.out.world.config
    merge_group(page, zr0, col["zone"], cfg.zone_short[zone] if style == "P3" else zone)
    page.cov("merged_category")
    r = page.sh.row
    page.sh.put(r, col["name"], "小计")
    _total_cells(page, col, r, sums_zone, style)
    page.sh.row += 1
    return seq


def _sheet_totals(
    page: Page, col: dict[str, int], year: int, style: str, sums_all: Sums, sums_cat: dict
) -> None:
    """``合计`` (wrong on purpose in 2021) and its ``其中：`` rows."""
    r = total_row(page, col["sector"], "合计")
    stated = dict(sums_all)
    if year == _MISMATCH_YEAR:
        true_ld = round(sums_all["ld"], 2)
        stated["ld"] = true_ld + MISMATCH_MU
        page.out.mismatch = {
            "file": page.file,
            "sheet": page.sh.name,
            "row": r + 1,
            "column": "累计完成（征地）",
            "canonical": "land_done_mu",
            "stated": round(stated["ld"], 2),
            "detail_sum": true_ld,
        }
        page.cov("total_mismatch")
    _total_cells(page, col, r, stated, style)
    page.cov("total_rows")
    for cat in _CATEGORIES:
        r = total_row(page, col["sector"], f"其中：{cat}")
        _total_cells(page, col, r, sums_cat[cat], style)
    page.cov("sub_rows")


def _total_cells(page: Page, col: dict[str, int], r: int, sums: dict, style: str) -> None:
    in_wan = style != "P3"
    scale, hdec = (1e4, 4) if in_wan else (1.0, 0)
    for k in ("lt", "ld", "bmu"):
        page.sh.put(r, col[k], round(sums.get(k, 0.0), 2))
    for k in ("ht", "hd"):
        page.sh.put(r, col[k], num(sums.get(k, 0.0) / scale, hdec))


def _project_row(
    page: Page,
    col: dict[str, int],
    p: Project,
    year: int,
    style: str,
    seq: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Write one project row; record its truth; return the values that enter the totals."""
    sh, r = page.sh, page.sh.row
    sh.put(r, col["seq"], seq)
    sh.put(r, col["pid"], p.pid)
    sh.put(r, col["name"], p.name)
    sh.put(r, col["sector"], p.sector)
    if "year" in col:
        sh.put(r, col["year"], year)
    draw = rng.random()  # one draw per row decides its messy forms
    totals = _land_cells(page, col, p, year, style, draw)
    totals |= _house_cells(page, col, p, year, style, draw)
    _rate_cell(page, col, p, year, style)
    blocked = p.blocked(year)
    if blocked:
        sh.put(r, col["blk"], _BLOCKER_WRITTEN[style][p.blocker or ""])
    else:
        page.put_placeholder(r, col["blk"], "projects.blk", ("无", "", "/", "—", ""))
    bmu = _blocked_cell(page, col, p.blocked_mu(year), style, draw)
    if bmu is not None:
        totals["bmu"] = bmu
    note = p.note(year)
    if note is None:
        page.put_placeholder(r, col["note"], "projects.note", ("", "/", "暂无", "", "无"))
    else:
        sh.put(r, col["note"], note)
    page.out.truth["projects"].append(
        {
            "project_id": p.pid,
            "project_name": nfkc(p.name),
            "zone": p.zone,
            "category": p.category,
            "sector": p.sector,
            "year": year,
            "land_target_mu": p.land_target if p.has_land else 0.0,
            "land_done_mu": p.land_done[year],
            "house_target_m2": p.house_target if p.has_house else None,
            "house_done_m2": p.house_done[year] if p.has_house else None,
            "blocker": p.blocker if blocked else None,
            "blocked_mu": bmu,
            "note": nfkc(note) if note else None,
        }
    )
    return totals


def _land_cells(
    page: Page, col: dict[str, int], p: Project, year: int, style: str, draw: float
) -> dict[str, float]:
    """Land target and done (亩); a house-only project has a real 0."""
    sh, r = page.sh, page.sh.row
    out: dict[str, float] = {}
    for key, v in (("lt", p.land_target if p.has_land else 0.0), ("ld", p.land_done[year])):
        v = v or 0.0
        if not p.has_land:
            sh.put(r, col[key], 0)
            page.cov("zero")
        elif style == "P1" and year == 2020 and draw < 0.15:
            sh.put(r, col[key], fmt(v, 2).translate(FULLWIDTH))
            page.cov("fullwidth_digits")
        elif style == "P2" and key == "ld" and draw < 0.06:
            sh.put(r, col[key], "约" + fmt(v, 2))
            page.cov("approx")
        else:
            sh.put(r, col[key], num(v, 2))
        out[key] = v
    return out


def _house_cells(
    page: Page, col: dict[str, int], p: Project, year: int, style: str, draw: float
) -> dict[str, float]:
    """House target and done: 万平方米 (P1, P2) or m² with unit suffixes (P3); or placeholders."""
    sh, r = page.sh, page.sh.row
    out: dict[str, float] = {}
    for key, v in (("ht", p.house_target), ("hd", p.house_done[year])):
        if not p.has_house or v is None:
            page.put_placeholder(r, col[key], f"projects.{key}", ("—", "/", "--", "-", "X"))
            continue
        if style != "P3":
            sh.put(r, col[key], num(v / 1e4, 4))
        else:
            forms = (
                (0.08, f"{int(v)}㎡", "suffix_m2"),
                (0.14, f"{fmt(v / 1e4, 4)}万平方米", "suffix_wan_m2"),
            )
            page.put_drawn(r, col[key], draw, forms, int(v))
        out[key] = v
    return out


def _rate_cell(page: Page, col: dict[str, int], p: Project, year: int, style: str) -> None:
    """Completion rate (maps to nothing): a real percentage (P1) or text."""
    if p.has_land and p.land_target:
        rate: float | None = p.land_done[year] / p.land_target
    elif p.has_house and p.house_target:
        rate = p.house_done[year] / p.house_target
    else:
        rate = None
    r = page.sh.row
    if rate is None:
        page.sh.put(r, col["rate"], "/")
    elif style == "P1":
        page.sh.put(r, col["rate"], XNum(round(rate, 4), "0.0%"))
    else:
        page.sh.put(r, col["rate"], f"{rate * 100:.1f}%")
    page.cov("percent")


def _blocked_cell(
    page: Page, col: dict[str, int], bmu: float | None, style: str, draw: float
) -> float | None:
    """The blocked land (亩), written with a 亩 suffix half the time in P3; or a placeholder."""
    r = page.sh.row
    if bmu is None:
        page.put_placeholder(r, col["bmu"], "projects.bmu", ("—", "-", "", "/"))
    elif style == "P3" and draw < 0.5:
        page.sh.put(r, col["bmu"], f"{fmt(bmu, 2)}亩")
        page.cov("suffix_mu")
    else:
        page.sh.put(r, col["bmu"], num(bmu, 2))
    return bmu
