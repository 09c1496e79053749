"""Synthetic demo district (示例数据（模拟）): a seeded generator of messy raw ledgers.

What it models
--------------
A district land and house expropriation office (区土地房屋征收办) of Guigang, Guangxi, in the situation
its 2021 work summary describes. No figure here is a real statistic; only the names of the three 片区,
five resettlement sites and the kinds of "last mile" blockers come from the source document.

* Expropriation **funds arrive late and short**, so signed agreements wait for payment: an unpaid gap
  exists at every year end.
* Households who chose 产权调换 (a flat instead of cash) **wait for their resettlement flat**, so the
  transitional fee (过渡安置费) piles up and its payments fall into arrears.
* Several resettlement sites are **more than 3 years late** (蓝田安置区, 文华雅苑, 白凹窝安置区 are still not
  delivered at 2022-12-31; 堤路园(二)A安置区 and 三合安置区 were delivered years late).
* "Last mile" projects are **blocked** by 公建单位, 军事用地, 双高糖料蔗基地, 留用地 or 资金.

Task years 2019–2022 (the reporting years); agreements, payments and funding from 2016 on; site history
from 2015; everything as of 2022-12-31 (nothing after that date exists in the ledgers).

Random structure
----------------
One :func:`numpy.random.default_rng` per component, seeded with ``[seed, crc32(component name)]``, so
a change to one component leaves the others' draws alone. Lists are iterated in a sorted,
deterministic order, and nothing else is random. The same seed gives byte-identical files.

* **Sites** (12; ``_SITE_PLAN``): zone, start month, promised duration (24/30/36 months) and fate
  (on time / late by a range of months / open, i.e. not delivered) are fixed by design; start day,
  delays and 套数 are drawn.
* **Projects** (60: 22 贵城片区, 20 港城片区, 18 城区外围片区): sector (交通, 文旅, 产业园区, 民生, 商住),
  category (市下达 55 %, 区统筹), start year 2016–2022, planned duration 2–5 years; land target
  lognormal (median 150 亩), house target from its households (median about 8 000 m²). 14 projects
  are blocked from a year between 2019 and 2022 (4 公建单位, 2 军事用地, 3 双高糖料蔗基地, 3 留用地,
  2 资金); their land progress stalls at 70–95 % and ``blocked_mu`` is the remaining land.
  ``land_done_mu`` and ``house_done_m2`` are cumulative at each year end; ``house_done_m2`` is the
  area of the project's agreements signed by then.
* **Agreements** (about 2 700): per house project, households with lognormal areas (median 150 m²),
  signed over the project's life (beta-distributed). Mode 产权调换 with probability 0.3–0.45 by
  sector when a site of the zone is under construction and not about to be delivered, else 货币补偿.
  Compensation = area × zone price (2 800 / 4 200 / 4 800 元/m² ± 15 %) × 1.05–1.25, whole yuan;
  a swap household gets 12–30 % of that in cash. Payment term 30/60/90/180 days where the ledger
  states one, else 30 days.
* **Payments**: compensation in 1–3 tranches; the first one lags the due date by a gamma delay whose
  mean grows from 20 days (2016) to 200 days (2022); 20 % of agreements are paid short. Transitional
  fees are paid monthly (20 %) or quarterly, in advance, with a delay growing from 10 to 110 days
  and a chance of a missed payment growing from 2 % to 20 % (arrears). 工作经费 (work funds) each
  quarter per zone, 70 % not tied to a project. Nothing dated after 2022-12-31 is kept.
* **Funding**: each year's inflow is 0.96–1.04 × that year's payments (plus a 500 万 opening
  balance in 2016), split with noisy yearly shares over 市财政 (monthly, year-end heavy), 区财政 (quarterly), 专项债券 (1–2 lumps
  from 2019), 上级补助资金 (2 a year) and 土地出让收入 (June, November, December). Cumulative inflow
  stays well below cumulative signed compensation: a real funding gap.
* **Transition**: every 产权调换 household that has moved out (腾房 10–90 days after signing); end = the
  site's delivery + 30–90 days, or open. Fee basis per_m2 (70 %, 8–15 元/m²/月), per_household
  (15 %, 800–1 500 元/户/月) or per_person (15 %, 300–500 元/人/月, 1–6 persons). Agreed period
  24/30/36 months where the ledger states it.

Truth and rendering
-------------------
The generator first draws the district, then writes it cell by cell; every cell writer returns the
value the data contract reads from that cell, and that value is what :func:`demo_truth` holds. So a
perfect cleaner recovers :func:`demo_truth` exactly (up to float rounding and row order), and rejects
exactly the rows of :func:`demo_expected_rejections`. Conventions of the truth:

* money in yuan rounded to 0.01 (compensation is whole yuan), areas in m² and 亩, dates at day
  precision; month-only dates (``2021年1月``, ``2021.01``) are the 1st of the month; the float
  ``2021.1`` in a date column (Excel's rendering of ``2021.10``) is **January 1st** as the contract
  reads it (the latent date was in October);
* ``payment_due_date`` of agreements from the 2021–2022 workbook (no 支付期限 column) is
  ``signed_date + 30 days``, and so is that of a 支付期限 cell holding a placeholder (``待定``,
  ``--``): the ledger gives no due date for that agreement;
* ``agreed_months`` of the transition sheet without a 过渡期限 column is
  ``months_between(start_date, promised_date of its site)``;
* ``site_id`` columns (sites, agreements, transition) hold the site **name**, NFKC-normalised with
  spaces removed; the cleaner derives its own id (``S-`` + hash) and tests map names to ids;
* ``project_id`` is the 项目编号 of the project ledger; a sheet that names projects by 项目名称 maps to
  the id of that name; ``payment_id`` is the 凭证号, present in every payment file.

Messy rules (data contract §1) and where they appear
----------------------------------------------------
(``data/demo/README.md``, written by :func:`write_demo_ledgers`, lists the exact sheets.)

* title, unit and date rows above the header, every title saying ``示例数据（模拟）`` (every sheet,
  and the first line of every CSV); ``单位：万元`` in the funding workbook and the 2021–2022 agreements
  workbook, applying to 到位金额 / 协议金额 whose headers name no unit;
* two-row merged headers in the projects workbook: ``征地（亩）`` and ``房屋征收（万平方米）`` over
  ``任务``/``已完成`` (2019, 2020) or ``目标任务``/``累计完成`` (2021), and the other orientation,
  ``任务`` and ``已完成`` over ``征地（亩）``/``房屋（平方米）`` (2022);
* vertically merged 片区 and 类别 cells (projects), 资金来源 (funding), 片区 (sites);
* ``小计`` per zone and ``合计`` with ``其中：市下达``/``其中：区统筹`` (projects), ``合计`` (agreements
  2016–2020), ``小计`` per source and ``合计`` (funding), ``总计`` (sites); one deliberate mismatch:
  the 2021 projects ``合计`` of 累计完成征地 is 100 亩 too high;
* trailing notes (``填表人：``, ``审核人：``, ``备注：``, ``注：``) below the projects, agreements,
  funding, sites and transition tables and at the end of the 2019 payments CSV;
* full-width digits (``１２３．５``) in projects 2020, agreements, funding, payments 2021; full-width
  brackets in headers everywhere and in 安置区 names;
* numbers as text: thousands separators (agreements, funding, payments), unit suffixes (``万元``,
  ``亿``, ``亩``, ``万平方米``, ``㎡``), leading ``约`` (agreements, projects 2021, funding), a trailing
  remark ``（含工作经费）`` (funding), percentages in 完成率 / 形象进度 (map to nothing);
* placeholders ``X x XX — -- - / 无 暂无 待定`` and empty cells in optional columns; ``0`` as a real 0
  (land of house-only projects);
* dates in every written form: ``2021年1月30日``, ``2021.1.30``, ``2021/01/30``, ``2021-1-30``,
  ``20210130`` as text and as a number, Excel serial numbers, real Excel dates, month-only
  ``2021年1月`` / ``2021.01``, and the ambiguous float ``2021.1``;
* CSV in UTF-8, UTF-8 with BOM, GB18030 and GBK (payments, one file per year);
* several sheets per table (projects per year, agreements per zone and per year, funding per year,
  transition per fee basis) and several files per table (agreements, payments);
* headers with inner spaces (``协 议 编 号``, ``项 目 名 称``), synonyms from ``schemas.py``, site names
  with half- and full-width brackets (``堤路园(二)A安置区`` / ``堤路园（二）A安置区``) and a trailing space;
* the transition basis from the header (``过渡费标准（元/平方米/月）``) or from a 计费方式 column;
  ``未交付`` / ``在建`` for undelivered sites; a 说明 sheet and a 信访登记 sheet that match no table;
* six deliberately bad rows (:func:`demo_expected_rejections`): a duplicate 协议编号, an impossible
  签约日期, an impossible 支付日期, a negative payment (冲红), a 回迁日期 before its 腾房日期 and an
  unknown 计费方式.
"""

from __future__ import annotations

import csv
import io
import logging
import unicodedata
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import ParameterError
from .periods import months_between
from .schemas import TABLES, pandas_dtype
from .settings import DEFAULT_PAYMENT_TERM_DAYS

__all__ = [
    "AS_OF",
    "DATE_RULES",
    "MESSY_RULES",
    "PLACEHOLDERS",
    "REPORT_YEARS",
    "SYNTHETIC_LABEL",
    "clear_demo_cache",
    "demo_expected_rejections",
    "demo_total_mismatch",
    "demo_truth",
    "write_demo_ledgers",
]

log = logging.getLogger(__name__)

#: The label every demo sheet carries in its title.
SYNTHETIC_LABEL = "示例数据（模拟）"

AS_OF = date(2022, 12, 31)
REPORT_YEARS = (2019, 2020, 2021, 2022)
FIRST_YEAR = 2016
ZONES = ("贵城片区", "港城片区", "城区外围片区")
_ZONE_SHORT = {"贵城片区": "贵城", "港城片区": "港城", "城区外围片区": "外围"}
_ZONE_PREFIX = {"贵城片区": "GC", "港城片区": "GK", "城区外围片区": "WW"}
_EXCEL_EPOCH = date(1899, 12, 30)
_CREATED = datetime(2023, 1, 1, tzinfo=UTC)
_MISMATCH_MU = 100.0

# --- file names ----------------------------------------------------------------------------------
F_PROJECTS = "征收项目任务完成情况表_2019-2022.xlsx"
F_AGREE_A = "征收补偿协议台账_2016-2020.xlsx"
F_AGREE_B = "征收补偿协议台账_2021-2022.xlsx"
F_FUNDING = "征拆资金到位情况表_2016-2022.xlsx"
F_SITES = "安置区建设情况表.xlsx"
F_TRANSITION = "过渡安置台账.xlsx"
F_README = "README.md"
_PAYMENT_FILES = (
    # file name, years covered, encoding, column variant
    ("征收款项支付台账_2016-2018.csv", (2016, 2018), "utf-8", "A"),
    ("征收款项支付台账_2019.csv", (2019, 2019), "utf-8", "A"),
    ("征收款项支付台账_2020.csv", (2020, 2020), "utf-8-sig", "B"),
    ("征收款项支付台账_2021.csv", (2021, 2021), "gb18030", "C"),
    ("征收款项支付台账_2022.csv", (2022, 2022), "gbk", "C"),
)

# --- design tables -------------------------------------------------------------------------------
_SITE_PLAN = (
    # name as in the site ledger, zone, start (year, month), promised after (months),
    # fate, delay after the promised date in months (late sites)
    ("南江安置区", "港城片区", (2015, 8), 24, "on_time", None),
    ("金港安置区", "港城片区", (2016, 1), 30, "on_time", None),
    ("蓝田安置区", "贵城片区", (2016, 3), 30, "open", None),
    ("堤路园(二)A安置区", "港城片区", (2016, 9), 36, "late", (30, 36)),
    ("文华雅苑", "贵城片区", (2017, 5), 24, "open", None),
    ("三合安置区", "城区外围片区", (2017, 11), 36, "late", (10, 15)),
    ("白凹窝安置区", "城区外围片区", (2018, 4), 30, "open", None),
    ("荷塘雅苑", "贵城片区", (2018, 10), 24, "late", (8, 12)),
    ("石羊塘安置区", "城区外围片区", (2019, 2), 30, "late", (10, 14)),
    ("东湖安置区", "贵城片区", (2019, 6), 24, "on_time", None),
    ("西江新村安置区", "港城片区", (2020, 3), 30, "open", None),
    ("城北安置区", "城区外围片区", (2021, 4), 36, "open", None),
)

_PLACES = {
    "贵城片区": (
        "蓝田",
        "荷城",
        "贵城东路",
        "中山路",
        "江北",
        "城东",
        "南山",
        "东湖",
        "大新路",
        "登龙桥",
    ),
    "港城片区": (
        "港北",
        "罗泊湾",
        "南江",
        "西江",
        "堤路园",
        "金港",
        "沿江",
        "北环",
        "港城",
        "猫儿山",
    ),
    "城区外围片区": (
        "三合",
        "白凹窝",
        "石卡",
        "大圩",
        "根竹",
        "奇石",
        "庆丰",
        "中里",
        "石羊塘",
        "东津",
    ),
}
_SECTORS = ("交通", "文旅", "产业园区", "民生", "商住")
_SECTOR_P = (0.25, 0.12, 0.20, 0.23, 0.20)
_SUFFIXES = {
    "交通": ("大道（东段）道路工程", "快速路", "大桥接线工程", "互通立交工程", "道路改扩建工程"),
    "文旅": ("历史文化街区", "滨江公园", "文旅小镇", "湿地公园"),
    "产业园区": ("产业园（一期）", "产业园（二期）", "物流园", "工业集中区"),
    "民生": ("中学", "小学", "医院（新院区）", "污水处理厂", "农贸市场"),
    "商住": ("片区改造", "地块", "城中村改造", "旧城改造"),
}
_LAND_P = {"交通": 0.9, "文旅": 0.7, "产业园区": 0.95, "民生": 0.5, "商住": 0.4}
_HOUSE_P = {"交通": 0.75, "文旅": 0.7, "产业园区": 0.45, "民生": 0.95, "商住": 1.0}
_SWAP_P = {"交通": 0.3, "文旅": 0.3, "产业园区": 0.3, "民生": 0.4, "商住": 0.45}
_PRICE = {"贵城片区": 4800.0, "港城片区": 4200.0, "城区外围片区": 2800.0}

_BLOCKER_PLAN = (
    ("公建单位", ("贵城片区", "港城片区")),
    ("公建单位", ("贵城片区", "港城片区")),
    ("公建单位", ("贵城片区", "港城片区")),
    ("公建单位", ("贵城片区", "港城片区")),
    ("军事用地", ZONES),
    ("军事用地", ZONES),
    ("双高糖料蔗基地", ("城区外围片区",)),
    ("双高糖料蔗基地", ("城区外围片区",)),
    ("双高糖料蔗基地", ("城区外围片区",)),
    ("留用地", ("港城片区", "城区外围片区")),
    ("留用地", ("港城片区", "城区外围片区")),
    ("留用地", ("港城片区", "城区外围片区")),
    ("资金", ZONES),
    ("资金", ZONES),
)
_BLOCKER_NOTE = {
    "公建单位": "涉及公建单位（学校、电力设施）{n}家，产权单位未同意搬迁",
    "军事用地": "涉及军事用地，需报上级军事机关审批",
    "双高糖料蔗基地": "涉及双高糖料蔗基地调整，调整手续未批复",
    "留用地": "村集体留用地未落实，群众阻工",
    "资金": "征拆资金未足额到位，已签协议待支付",
}
# written spellings of the blocker per projects sheet style (truth is the key)
_BLOCKER_WRITTEN = {
    "P1": {b: b for b in _BLOCKER_NOTE},
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

_SOURCES = ("市财政", "区财政", "专项债券", "上级补助资金", "土地出让收入")
_SOURCE_SHARE = {
    "市财政": 0.30,
    "区财政": 0.20,
    "专项债券": 0.25,
    "上级补助资金": 0.10,
    "土地出让收入": 0.15,
}
_SEASONAL = (0.6, 0.6, 0.8, 0.8, 0.9, 1.0, 0.9, 0.9, 1.0, 1.1, 1.3, 2.5)

_COMP_DELAY = {2016: 20, 2017: 25, 2018: 40, 2019: 75, 2020: 120, 2021: 180, 2022: 200}
_FEE_DELAY = {2016: 10, 2017: 12, 2018: 20, 2019: 35, 2020: 60, 2021: 90, 2022: 110}
_FEE_SKIP = {2016: 0.02, 2017: 0.02, 2018: 0.03, 2019: 0.05, 2020: 0.10, 2021: 0.15, 2022: 0.20}

_SURNAMES = "张王李刘陈杨黄赵周吴徐孙梁覃韦莫蒙潘卢邓甘农陆罗"
_GIVEN = "华明丽军芳强敏静杰娟勇艳涛霞平刚桂秀兰英"

#: Every placeholder of data contract §1 (``""`` is an empty cell).
PLACEHOLDERS = ("X", "x", "XX", "—", "--", "-", "/", "无", "暂无", "待定", "")

_FULLWIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")

MESSY_RULES = {
    "title_rows": "title / unit / date rows above the header, title says 示例数据（模拟）",
    "title_unit": "unit in a title row (单位：万元) for money columns whose header names no unit",
    "header_2row": "two-row merged header: 征地（亩）/房屋征收（万平方米） over 任务/已完成",
    "header_2row_swapped": "two-row merged header, other orientation: 任务/已完成 over 征地（亩）/房屋（平方米）",
    "merged_category": "vertically merged category cells (片区, 类别, 资金来源)",
    "total_rows": "合计 / 小计 / 总计 rows (correct totals of the detail rows)",
    "sub_rows": "其中： sub-rows after a total (never added)",
    "total_mismatch": "the one deliberate total mismatch",
    "trailing_notes": "trailing notes below the table (填表人：, 审核人：, 备注：, 注：)",
    "fullwidth_digits": "full-width digits in cells (１２３．５)",
    "fullwidth_brackets": "full-width brackets in headers (（万元）) and values",
    "thousands": "numbers as text with thousands separators (1,234.50)",
    "suffix_wanyuan": "unit suffix 万元 in a cell (1,234.5万元)",
    "suffix_yi": "unit suffix 亿 in a cell (3.2亿)",
    "suffix_mu": "unit suffix 亩 in a cell (120亩)",
    "suffix_wan_m2": "unit suffix 万平方米 in a cell (3.5万平方米)",
    "suffix_m2": "unit suffix ㎡ in a cell (2000㎡)",
    "approx": "leading 约 (approximate value)",
    "remark": "trailing remark (300（含工作经费）)",
    "percent": "harmless percentage column (完成率 / 形象进度)",
    "zero": "0 as a real 0",
    "header_spaces": "headers with spaces inside (协 议 编 号)",
    "synonyms": "synonym headers and values from schemas.py",
    "nfkc_names": "site names with half- vs full-width brackets / trailing space, linked after NFKC",
    "basis_header": "transition fee basis from the header 过渡费标准（元/平方米/月）",
    "basis_column": "transition fee basis from a 计费方式 column",
    "undelivered_words": "未交付 / 在建 for undelivered sites",
    "no_table_sheet": "a sheet that matches no table (skipped)",
    "year_from_title": "projects without a 年度 column: year from the title row",
    "due_absent": "no 支付期限 column: payment_due_date = signed_date + 30 days",
    "agreed_absent": "no 过渡期限 column: agreed_months = months_between(start, site promised)",
    "project_by_name": "projects referenced by 项目名称 instead of 项目编号",
    "pii": "personal-data columns (fictitious)",
    "multi_sheet": "several sheets feeding one table",
    "multi_file": "several files feeding one table",
    "csv_utf8": "CSV in UTF-8",
    "csv_utf8_bom": "CSV in UTF-8 with BOM",
    "csv_gb18030": "CSV in GB18030",
    "csv_gbk": "CSV in GBK",
    "bad_rows": "deliberately bad rows (demo_expected_rejections)",
}
DATE_RULES = {
    "cn": "date 2021年1月30日",
    "dot": "date 2021.1.30",
    "slash": "date 2021/01/30",
    "dash": "date 2021-1-30",
    "iso": "date 2021-01-30",
    "ymd_text": "date 20210130 as text",
    "ymd_int": "date 20210130 as a number",
    "serial": "date as an Excel serial number (no date format)",
    "excel": "real Excel date (date number format)",
    "month_cn": "month-only date 2021年1月 (→ the 1st)",
    "month_dot": "month-only date 2021.01 (→ the 1st)",
    "ambiguous": "ambiguous float 2021.1 in a date column (→ January 1st, warning)",
}


# =================================================================================================
# Cells, sheets, files
# =================================================================================================
@dataclass(frozen=True)
class _XDate:
    """A real Excel date (a date serial with a date number format)."""

    value: date
    fmt: str = "yyyy-mm-dd"


@dataclass(frozen=True)
class _XNum:
    """A number with a number format (a percentage)."""

    value: float
    fmt: str


@dataclass
class _Sheet:
    name: str
    cells: dict[tuple[int, int], object] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int, str, str]] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    styles: dict[tuple[int, int], str] = field(default_factory=dict)
    row: int = 0

    def put(self, r: int, c: int, value: object) -> None:
        if value is None or value == "":
            return
        self.cells[(r, c)] = value

    def merge(self, r1: int, c1: int, r2: int, c2: int, value: str, style: str = "cell") -> None:
        if (r1, c1) == (r2, c2):
            self.put(r1, c1, value)
            if style != "cell":
                self.styles[(r1, c1)] = style
            return
        self.merges.append((r1, c1, r2, c2, value, style))

    def title(self, text: str, ncols: int) -> None:
        self.merge(self.row, 0, self.row, ncols - 1, text, "title")
        self.row += 1

    def line(self, text: str, ncols: int) -> None:
        self.merge(self.row, 0, self.row, ncols - 1, text, "line")
        self.row += 1


@dataclass
class _Book:
    name: str
    sheets: list[_Sheet] = field(default_factory=list)


@dataclass
class _Csv:
    name: str
    encoding: str
    rows: list[list[str]] = field(default_factory=list)


def _rng(seed: int, part: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(part.encode("utf-8"))])


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _site_key(name: str) -> str:
    """The truth's site_id: the site name, NFKC-normalised, spaces removed."""
    return unicodedata.normalize("NFKC", name).replace(" ", "").strip()


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


def _months_started(a: date, b: date) -> int:
    """Scalar of :func:`periods.months_between` (started calendar months from a to b)."""
    return max(12 * (b.year - a.year) + (b.month - a.month) + (1 if b.day >= a.day else 0), 0)


def _workday(d: date) -> date:
    """The next working day on or after ``d`` (weekends and 1 January are skipped)."""
    while d.weekday() >= 5 or (d.month, d.day) == (1, 1):
        d += timedelta(days=1)
    return d


def _date_cell(d: date, style: str) -> tuple[object, date]:
    """Render date ``d`` in ``style``; return (cell, the date the contract reads from it)."""
    if style == "excel":
        return _XDate(d), d
    if style == "excel_slash":
        return _XDate(d, "yyyy/m/d"), d
    if style == "serial":
        return (d - _EXCEL_EPOCH).days, d
    if style == "cn":
        return f"{d.year}年{d.month}月{d.day}日", d
    if style == "dot":
        return f"{d.year}.{d.month}.{d.day}", d
    if style == "slash":
        return f"{d.year}/{d.month:02d}/{d.day:02d}", d
    if style == "dash":
        return f"{d.year}-{d.month}-{d.day}", d
    if style == "iso":
        return d.isoformat(), d
    if style == "ymd_text":
        return f"{d:%Y%m%d}", d
    if style == "ymd_int":
        return int(f"{d:%Y%m%d}"), d
    if style == "month_cn":
        return f"{d.year}年{d.month}月", d.replace(day=1)
    if style == "month_dot":
        return f"{d.year}.{d.month:02d}", d.replace(day=1)
    if style == "ambiguous":
        if d.month != 10:
            raise ValueError("the ambiguous float form is Excel's rendering of an October month")
        return float(f"{d.year}.1"), date(d.year, 1, 1)
    raise ValueError(f"unknown date style {style!r}")


def _date_rule(style: str) -> str:
    return "date:" + ("excel" if style.startswith("excel") else style)


def _fmt(v: float, decimals: int) -> str:
    return f"{v:.{decimals}f}"


def _num(v: float, decimals: int) -> float | int:
    return round(v) if decimals == 0 else round(float(v), decimals)


# =================================================================================================
# The district (latent entities)
# =================================================================================================
@dataclass
class _Site:
    name: str
    zone: str
    start: date
    promised: date
    delivered: date | None
    units: int | None
    progress: float
    key: str = ""
    # truth after rendering
    t_start: date | None = None
    t_promised: date | None = None
    t_delivered: date | None = None
    households: int = 0


@dataclass
class _Project:
    name: str
    zone: str
    category: str
    sector: str
    start: date
    plan_end: int
    has_land: bool
    has_house: bool
    land_target: float | None
    pid: str = ""
    house_target: float | None = None
    blocker: str | None = None
    blocked_from: int | None = None
    block_share: float = 0.0
    note_n: int = 1
    land_done: dict[int, float] = field(default_factory=dict)
    house_done: dict[int, float] = field(default_factory=dict)
    row_years: list[int] = field(default_factory=list)

    @property
    def start_year(self) -> int:
        return self.start.year

    def blocked(self, year: int) -> bool:
        return self.blocker is not None and year >= (self.blocked_from or 9999)

    def blocked_mu(self, year: int) -> float | None:
        if not self.blocked(year) or not self.has_land or self.land_target is None:
            return None
        return round(self.land_target - self.land_done[year], 2)

    def note(self, year: int) -> str | None:
        if self.blocked(year):
            return _BLOCKER_NOTE[self.blocker].format(n=self.note_n)
        done_land = not self.has_land or self.land_done[year] >= (self.land_target or 0)
        done_house = not self.has_house or self.house_done[year] >= (self.house_target or 0)
        if done_land and done_house:
            return "已完成征收任务"
        return None


@dataclass
class _Person:
    name: str
    idno: str
    phone: str


@dataclass
class _Agreement:
    project: _Project
    signed: date
    mode: str
    area: float
    comp: int
    site: _Site | None
    person: _Person
    aid: str = ""
    due: date | None = None
    term: int = 30
    area_na: bool = False


@dataclass
class _Household:
    ag: _Agreement
    site: _Site
    start: date
    end: date | None
    basis: str
    rate: float
    persons: int
    area: float
    agreed: int
    period: int
    sheet: str = ""
    bad: str | None = None
    persons_shown: bool = False
    area_shown: bool = True


@dataclass
class _Payment:
    date: date
    kind: str
    amount: float
    ag: _Agreement | None
    project: _Project | None
    pid: str = ""


@dataclass
class _Inflow:
    date: date
    source: str
    amount_wan: float
    project: _Project | None
    note: str | None = None


# =================================================================================================
# The generator
# =================================================================================================
class _Demo:
    """Draw the district, render the ledgers, collect the truth."""

    def __init__(self, seed: int) -> None:
        self.seed = _check_seed(seed)
        self.books: list[_Book] = []
        self.csvs: list[_Csv] = []
        self.truth: dict[str, list[dict]] = defaultdict(list)
        self.rejections: list[dict] = []
        self.coverage: dict[str, set[str]] = defaultdict(set)
        self.placeholders_used: Counter[str] = Counter()
        self.mismatch: dict = {}
        self.special: dict[str, str] = {}
        self._ph_state: dict[str, int] = defaultdict(int)
        # draw
        self._draw_sites()
        self._draw_projects()
        self._draw_agreements()
        self._draw_transition()
        self._draw_payments()
        self._draw_funding()
        # render (sites first: the transition truth needs the sites' promised dates as read)
        self._render_sites()
        self._render_projects()
        self._render_agreements()
        self._render_transition()
        self._render_payments()
        self._render_funding()
        self.readme = self._render_readme()

    # ------------------------------------------------------------------ helpers
    def cov(self, rule: str, file: str, sheet: str = "") -> None:
        self.coverage[rule].add(f"{file} / {sheet}" if sheet else file)

    def placeholder(self, column: str, options: tuple[str, ...], file: str, sheet: str) -> str:
        """Next placeholder for ``column`` (cycling through ``options`` deterministically)."""
        i = self._ph_state[column]
        self._ph_state[column] += 1
        token = options[i % len(options)]
        self.placeholders_used[token] += 1
        self.cov("placeholder:" + (token or "(empty)"), file, sheet)
        return token

    # ------------------------------------------------------------------ draw: sites
    def _draw_sites(self) -> None:
        rng = _rng(self.seed, "sites")
        self.sites: list[_Site] = []
        for name, zone, (y, m), months, fate, delay in _SITE_PLAN:
            start = date(y, m, int(rng.integers(1, 29)))
            promised = _add_months(start, months)
            if fate == "on_time":
                delivered = promised + timedelta(days=int(rng.integers(-45, 46)))
            elif fate == "late":
                delivered = promised + timedelta(
                    days=int(rng.integers(delay[0] * 30, delay[1] * 30))
                )
            else:
                delivered = None
            if delivered is not None:
                delivered = min(delivered, AS_OF - timedelta(days=20))
            units = int(rng.integers(40, 151)) * 10
            progress = 1.0 if delivered else round(float(rng.uniform(0.35, 0.95)), 2)
            self.sites.append(
                _Site(name, zone, start, promised, delivered, units, progress, key=_site_key(name))
            )
        # the newest site has no fixed number of flats yet
        self.sites[-1].units = None
        self.sites[-1].progress = 0.3

    # ------------------------------------------------------------------ draw: projects
    def _draw_projects(self) -> None:
        rng = _rng(self.seed, "projects")
        zones = [z for z, n in zip(ZONES, (22, 20, 18), strict=True) for _ in range(n)]
        used: set[str] = set()
        projects: list[_Project] = []
        for zone in zones:
            sector = _SECTORS[int(rng.choice(len(_SECTORS), p=_SECTOR_P))]
            while True:
                place = _PLACES[zone][int(rng.integers(len(_PLACES[zone])))]
                suffix = _SUFFIXES[sector][int(rng.integers(len(_SUFFIXES[sector])))]
                name = f"{place}{suffix}项目"
                if name not in used:
                    break
            used.add(name)
            start_year = int(
                rng.choice(np.arange(2016, 2023), p=[0.08, 0.1, 0.14, 0.2, 0.18, 0.17, 0.13])
            )
            dur = int(rng.integers(2, 6))
            plan_end = max(start_year + dur - 1, 2019)
            start = date(start_year, int(rng.integers(1, 10)), int(rng.integers(1, 29)))
            has_land = bool(rng.random() < _LAND_P[sector])
            has_house = bool(rng.random() < _HOUSE_P[sector])
            if not (has_land or has_house):
                has_house = True
            land = rng.lognormal(np.log(150), 0.8)
            land_target = round(float(np.clip(land, 15, 900)), 2) if has_land else None
            category = "市下达" if rng.random() < 0.55 else "区统筹"
            projects.append(
                _Project(
                    name, zone, category, sector, start, plan_end, has_land, has_house, land_target
                )
            )
        projects.sort(key=lambda p: (p.start_year, ZONES.index(p.zone), p.name))
        per_year: Counter[int] = Counter()
        for p in projects:
            per_year[p.start_year] += 1
            p.pid = f"GG-{p.start_year}-{per_year[p.start_year]:03d}"
        # the last mile: blockers
        for blocker, zones_ok in _BLOCKER_PLAN:
            cands = [
                p
                for p in projects
                if p.blocker is None
                and p.zone in zones_ok
                and p.start_year <= 2021
                and (p.has_land or blocker == "资金")
            ]
            if not cands:  # pragma: no cover - the plan always finds one with the default sizes
                cands = [p for p in projects if p.blocker is None and p.start_year <= 2021]
            p = cands[int(rng.integers(len(cands)))]
            p.blocker = blocker
            p.blocked_from = int(rng.integers(max(p.start_year + 1, 2019), 2023))
            p.block_share = float(rng.uniform(0.05, 0.3))
            p.plan_end = max(p.plan_end, p.blocked_from)
            p.note_n = int(rng.integers(1, 5))
        # land progress (cumulative at each year end)
        for p in projects:
            dur = p.plan_end - p.start_year + 1
            prev = 0.0
            cap = None
            for y in range(p.start_year, 2023):
                f = min(1.0, (y - p.start_year + 1) / dur + float(rng.normal(0, 0.05)))
                if y >= p.plan_end:
                    f = 1.0
                f = max(f, prev, 0.0)
                if p.blocked(y):
                    if cap is None:
                        cap = max(min(f, 1 - p.block_share), prev)
                        if cap >= 1.0:
                            cap = 0.97
                    f = cap
                prev = f
                p.land_done[y] = round((p.land_target or 0.0) * f, 2) if p.has_land else 0.0
            last_row = 2022 if p.blocker else min(p.plan_end, 2022)
            p.row_years = list(range(max(p.start_year, 2019), last_row + 1))
        self.projects = projects
        self.by_name = {p.name: p for p in projects}

    # ------------------------------------------------------------------ draw: agreements
    def _person(self, rng: np.random.Generator) -> _Person:
        name = (
            _SURNAMES[int(rng.integers(len(_SURNAMES)))]
            + "某"
            + _GIVEN[int(rng.integers(len(_GIVEN)))]
        )
        birth = date(1940, 1, 1) + timedelta(days=int(rng.integers(0, 22000)))
        check = "X" if rng.random() < 0.1 else str(int(rng.integers(0, 10)))
        idno = f"999{int(rng.integers(0, 1000)):03d}{birth:%Y%m%d}{int(rng.integers(0, 1000)):03d}{check}"
        phone = f"100{int(rng.integers(0, 10**8)):08d}"
        return _Person(name, idno, phone)

    def _draw_agreements(self) -> None:
        rng = _rng(self.seed, "agreements")
        agreements: list[_Agreement] = []
        site_load: Counter[str] = Counter()
        for p in self.projects:
            if not p.has_house:
                for y in range(p.start_year, 2023):
                    p.house_done[y] = 0.0
                continue
            c = float(rng.uniform(0.7, 0.88) if p.blocker else rng.uniform(0.9, 1.0))
            t_target = float(np.clip(rng.lognormal(np.log(10000), 0.7), 1500, 60000))
            n = max(4, round(c * t_target / 165))
            areas = np.round(np.clip(rng.lognormal(np.log(150), 0.45, size=n), 40, 600), 2)
            p.house_target = float(max(round(float(areas.sum()) / c, -2), 100.0))
            window_end = date(p.plan_end, 11, 30)
            span = (window_end - p.start).days
            u = rng.beta(1.4, 1.6, size=n)
            for area, ui in zip(areas, u, strict=True):
                signed = p.start + timedelta(days=int(ui * span))
                person = self._person(rng)
                swap_draw = rng.random()
                site_draw = rng.random()
                price = _PRICE[p.zone] * float(rng.uniform(0.85, 1.15))
                value = float(area) * price * float(rng.uniform(1.05, 1.25))
                swap_share = float(rng.uniform(0.12, 0.3))
                if signed > AS_OF:
                    continue
                site = None
                if swap_draw < _SWAP_P[p.sector]:
                    eligible = [
                        s
                        for s in self.sites
                        if s.zone == p.zone
                        and s.start <= signed + timedelta(days=180)
                        and (s.delivered is None or s.delivered >= signed + timedelta(days=150))
                        and (s.units is None or site_load[s.key] < 0.9 * s.units)
                    ]
                    if eligible:
                        site = eligible[min(int(site_draw * len(eligible)), len(eligible) - 1)]
                        site_load[site.key] += 1
                mode = "产权调换" if site else "货币补偿"
                comp = max(round(value * (swap_share if site else 1.0)), 20000)
                agreements.append(_Agreement(p, signed, mode, float(area), int(comp), site, person))
            mine = [a for a in agreements if a.project is p]
            for y in range(p.start_year, 2023):
                end = date(y, 12, 31)
                p.house_done[y] = float(round(sum(a.area for a in mine if a.signed <= end)))
        # numbering per zone and signing year
        agreements.sort(
            key=lambda a: (ZONES.index(a.project.zone), a.signed, a.project.pid, a.area)
        )
        seq: Counter[tuple[str, int]] = Counter()
        for a in agreements:
            prefix = _ZONE_PREFIX[a.project.zone]
            seq[(prefix, a.signed.year)] += 1
            a.aid = f"{prefix}-{a.signed.year}-{seq[(prefix, a.signed.year)]:04d}"
            if a.signed.year <= 2020:
                a.term = int(rng.choice([30, 30, 60, 90, 180]))
                a.due = a.signed + timedelta(days=a.term)
            else:
                a.due = a.signed + timedelta(days=DEFAULT_PAYMENT_TERM_DAYS)
        self.agreements = sorted(agreements, key=lambda a: a.aid)
        self.next_seq = seq

    # ------------------------------------------------------------------ draw: transition
    def _draw_transition(self) -> None:
        rng = _rng(self.seed, "transition")
        households: list[_Household] = []
        for a in self.agreements:
            if a.site is None:
                continue
            start = a.signed + timedelta(days=int(rng.integers(10, 91)))
            end_lag = int(rng.integers(30, 91))
            basis_draw = rng.random()
            rate_draw = rng.random()
            persons = int(rng.choice([1, 2, 3, 4, 5, 6], p=[0.1, 0.2, 0.25, 0.25, 0.12, 0.08]))
            agreed = int(rng.choice([24, 30, 36]))
            period = 1 if rng.random() < 0.2 else 3
            t3_draw = rng.random()
            if start > AS_OF:
                continue
            site = a.site
            end = None
            if site.delivered is not None:
                end = site.delivered + timedelta(days=end_lag)
                if end > AS_OF:
                    end = None
            if basis_draw < 0.7:
                basis = "per_m2"
                rate = (8.0, 9.0, 10.0, 12.0, 12.5, 15.0)[int(rate_draw * 6)]
            elif basis_draw < 0.85:
                basis = "per_household"
                rate = (800.0, 1000.0, 1200.0, 1500.0)[int(rate_draw * 4)]
            else:
                basis = "per_person"
                rate = (300.0, 350.0, 400.0, 500.0)[int(rate_draw * 4)]
            if basis == "per_m2" and t3_draw >= 0.1:
                sheet = "T1" if a.signed.year <= 2020 else "T2"
            else:
                sheet = "T3"
            households.append(
                _Household(a, site, start, end, basis, rate, persons, a.area, agreed, period, sheet)
            )
        # two households whose ledger rows are wrong (not in the truth, no fee payments)
        t3 = [h for h in households if h.sheet == "T3" and h.basis == "per_household"]
        picks = rng.choice(len(t3), size=2, replace=False)
        t3[int(picks[0])].bad = "end_before_start"
        t3[int(picks[1])].bad = "bad_basis"
        for h in households:
            h.persons_shown = h.sheet == "T3" and (h.basis == "per_person" or rng.random() < 0.5)
            h.area_shown = h.sheet != "T3" or h.basis == "per_m2" or rng.random() < 0.5
        self.households = households

    # ------------------------------------------------------------------ draw: payments
    def _draw_payments(self) -> None:
        rng = _rng(self.seed, "payments")
        pays: list[_Payment] = []
        for a in self.agreements:
            due = a.due or a.signed + timedelta(days=30)
            n = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
            shares = np.sort(rng.dirichlet([3.0] * n))[::-1]
            mean = _COMP_DELAY[min(due.year, 2022)]
            first = int(rng.gamma(2.0, mean / 2.0)) - 20
            gaps = [int(rng.gamma(2.0, (60 + mean) / 2.0)) for _ in range(n)]
            short = rng.random() < 0.2
            short_f = float(rng.uniform(0.5, 0.9))
            amounts = [round(a.comp * float(s)) for s in shares[:-1]]
            amounts.append(a.comp - sum(amounts))
            if short:  # the last tranche never comes (or a single one is paid in part)
                amounts = amounts[:-1] if n > 1 else [round(amounts[0] * short_f)]
            d = max(due + timedelta(days=first), a.signed + timedelta(days=3))
            for i, amt in enumerate(amounts):
                if i > 0:
                    d = d + timedelta(days=max(gaps[i], 15))
                d = _workday(d)
                if d > AS_OF:
                    break
                pays.append(_Payment(d, "补偿款", float(amt), a, a.project))
        for h in self.households:
            if h.bad:
                continue
            base = h.rate * (
                h.area if h.basis == "per_m2" else h.persons if h.basis == "per_person" else 1
            )
            end = h.end or AS_OF
            total = _months_started(h.start, end)
            k = 1
            while k <= total:
                m = min(h.period, total - k + 1)
                due = _add_months(h.start, k - 1)
                delay = int(rng.gamma(2.0, _FEE_DELAY[due.year] / 2.0))
                skip = rng.random() < _FEE_SKIP[due.year]
                paid = _workday(due + timedelta(days=delay))
                if paid <= AS_OF and not skip:
                    pays.append(
                        _Payment(paid, "过渡安置费", round(base * m, 2), h.ag, h.ag.project)
                    )
                k += m
        for year in range(FIRST_YEAR, 2023):
            for q in range(4):
                for zone in ZONES:
                    d = _workday(date(year, 3 * q + 2, int(rng.integers(1, 27))))
                    amount = float(round(rng.uniform(8, 40) * 100) * 100)
                    tied = rng.random() < 0.3
                    active = [
                        p
                        for p in self.projects
                        if p.zone == zone and p.start_year <= year <= p.plan_end
                    ]
                    pick = int(rng.integers(0, max(len(active), 1)))
                    project = active[pick] if tied and active else None
                    if d <= AS_OF:
                        pays.append(_Payment(d, "工作经费", amount, None, project))
        kind_order = {"补偿款": 0, "过渡安置费": 1, "工作经费": 2}
        pays.sort(
            key=lambda x: (
                x.date,
                kind_order[x.kind],
                x.ag.aid if x.ag else "",
                x.project.pid if x.project else "",
                x.amount,
            )
        )
        seq: Counter[int] = Counter()
        for x in pays:
            seq[x.date.year] += 1
            x.pid = f"ZF{x.date.year}-{seq[x.date.year]:05d}"
        self.payments = pays

    # ------------------------------------------------------------------ draw: funding
    def _draw_funding(self) -> None:
        rng = _rng(self.seed, "funding")
        paid_by_year: Counter[int] = Counter()
        for x in self.payments:
            paid_by_year[x.date.year] += x.amount
        inflows: list[_Inflow] = []
        for year in range(FIRST_YEAR, 2023):
            total = paid_by_year[year] * float(rng.uniform(0.96, 1.04))
            if year == FIRST_YEAR:
                total += 500 * 1e4
            shares = {k: v * float(rng.gamma(8.0, 1 / 8.0)) for k, v in _SOURCE_SHARE.items()}
            if year < 2019:
                shares["专项债券"] = 0.0
            norm = sum(shares.values())
            active = [p for p in self.projects if p.start_year <= year <= p.plan_end and p.has_land]
            for source in _SOURCES:
                share = shares[source] / norm
                if share == 0:
                    continue
                if source == "市财政":
                    months = sorted(
                        int(m)
                        for m in rng.choice(
                            np.arange(1, 13), size=int(rng.integers(8, 13)), replace=False
                        )
                    )
                elif source == "区财政":
                    months = [1, 4, 7, 10]
                elif source == "专项债券":
                    months = sorted(
                        int(m)
                        for m in rng.choice(
                            np.arange(3, 12), size=int(rng.integers(1, 3)), replace=False
                        )
                    )
                elif source == "上级补助资金":
                    months = sorted(
                        int(m) for m in rng.choice(np.arange(2, 12), size=2, replace=False)
                    )
                else:
                    months = [6, 11, 12]
                weights = np.array([_SEASONAL[m - 1] for m in months]) * rng.gamma(
                    4.0, 0.25, size=len(months)
                )
                if source == "土地出让收入":
                    weights = weights * np.array([0.4, 0.8, 1.6])
                weights = weights / weights.sum()
                for m, w in zip(months, weights, strict=True):
                    day = int(rng.integers(1, 27))
                    tie = rng.random()
                    pick = int(rng.integers(0, max(len(active), 1)))
                    amount_wan = max(round(total * share * float(w) / 1e4, 2), 1.0)
                    project = None
                    if (
                        source == "专项债券" or (source == "上级补助资金" and tie < 0.5)
                    ) and active:
                        project = active[pick]
                    inflows.append(
                        _Inflow(_workday(date(year, m, day)), source, amount_wan, project)
                    )
        self.inflows = inflows

    # =============================================================================================
    # Rendering
    # =============================================================================================
    def _notes(self, sh: _Sheet, ncols: int, *, year: int, extra: tuple[str, ...] = ()) -> None:
        sh.row += 1
        sh.line(f"填表人：李某某        审核人：王某某        填报日期：{year + 1}年1月10日", ncols)
        for text in extra:
            sh.line(text, ncols)
        sh.line(f"注：本表为{SYNTHETIC_LABEL}，非真实统计，仅用于演示。", ncols)

    def _header(self, sh: _Sheet, cols: list[tuple[str, str, str | None]]) -> dict[str, int]:
        """Write a one- or two-row header; return key → column index."""
        two = any(sub is not None for _, _, sub in cols)
        r = sh.row
        c = 0
        while c < len(cols):
            _, top, sub = cols[c]
            if sub is None:
                sh.merge(r, c, r + (1 if two else 0), c, top, "header")
                c += 1
                continue
            span = c
            while (
                span + 1 < len(cols) and cols[span + 1][1] == top and cols[span + 1][2] is not None
            ):
                span += 1
            sh.merge(r, c, r, span, top, "header")
            for j in range(c, span + 1):
                sh.merge(r + 1, j, r + 1, j, cols[j][2] or "", "header")
            c = span + 1
        sh.row += 2 if two else 1
        for i, (_, top, sub) in enumerate(cols):
            text = top + (sub or "")
            sh.widths[i] = max(6.0, min(2.2 * len(text) + 2, 28.0))
        return {key: i for i, (key, _, _) in enumerate(cols)}

    # ------------------------------------------------------------------ sites
    def _render_sites(self) -> None:
        file = F_SITES
        book = _Book(file)
        sh = _Sheet("安置区")
        rng = _rng(self.seed, "render-sites")
        cols = [
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
        n = len(cols)
        sh.title(f"XX区安置房建设情况表（{SYNTHETIC_LABEL}）", n)
        sh.line("截至2022年12月31日", n)
        self.cov("title_rows", file, sh.name)
        col = self._header(sh, cols)
        styles = ("excel", "serial", "cn", "month_cn", "dot", "excel_slash", "month_dot", "dash")
        ordered = sorted(self.sites, key=lambda s: (ZONES.index(s.zone), s.start))
        i = 0
        total_units = 0
        for zone in ZONES:
            group = [s for s in ordered if s.zone == zone]
            r0 = sh.row
            for s in group:
                r = sh.row
                i += 1
                sh.put(r, col["seq"], i)
                sh.put(r, col["name"], s.name)
                for key, d in (
                    ("start", s.start),
                    ("promised", s.promised),
                    ("delivered", s.delivered),
                ):
                    if d is None:
                        word = ("未交付", "在建")[i % 2]
                        sh.put(r, col[key], word)
                        self.cov("undelivered_words", file, sh.name)
                        continue
                    style = styles[int(rng.integers(len(styles)))]
                    cell, read = _date_cell(d, style)
                    sh.put(r, col[key], cell)
                    self.cov(_date_rule(style), file, sh.name)
                    setattr(s, "t_" + key, read)
                if s.units is None:
                    sh.put(
                        r, col["units"], self.placeholder("sites.units", ("待定",), file, sh.name)
                    )
                else:
                    sh.put(r, col["units"], s.units)
                    total_units += s.units
                if i % 2:
                    sh.put(r, col["progress"], _XNum(s.progress, "0%"))
                else:
                    sh.put(r, col["progress"], f"{round(s.progress * 100)}%")
                self.cov("percent", file, sh.name)
                if s.delivered is None and s.promised < AS_OF:
                    sh.put(r, col["note"], "逾期未交付")
                elif s.delivered is not None and s.delivered > s.promised + timedelta(days=180):
                    sh.put(r, col["note"], "逾期交付")
                sh.row += 1
                self.truth["sites"].append(
                    {
                        "site_id": s.key,
                        "site_name": _nfkc(s.name),
                        "zone": s.zone,
                        "start_date": s.t_start,
                        "promised_date": s.t_promised,
                        "delivered_date": s.t_delivered,
                        "units": s.units,
                    }
                )
            sh.merge(r0, col["zone"], sh.row - 1, col["zone"], zone)
            if len(group) > 1:
                self.cov("merged_category", file, sh.name)
        r = sh.row
        sh.merge(r, 0, r, col["name"], "总计")
        sh.put(r, col["units"], total_units)
        self.cov("total_rows", file, sh.name)
        sh.row += 1
        self._notes(
            sh,
            n,
            year=2022,
            extra=("备注：实际交房日期为空、未交付或在建的，为截至统计日尚未交付。",),
        )
        self.cov("trailing_notes", file, sh.name)
        book.sheets.append(sh)
        self.books.append(book)
        self.site_by_key = {s.key: s for s in self.sites}

    # ------------------------------------------------------------------ projects
    def _render_projects(self) -> None:
        file = F_PROJECTS
        book = _Book(file)
        rng = _rng(self.seed, "render-projects")
        layouts = {
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
        for year in REPORT_YEARS:
            style = {2019: "P1", 2020: "P1", 2021: "P2", 2022: "P3"}[year]
            sh = _Sheet(f"{year}年")
            cols = layouts[style]
            n = len(cols)
            sh.title(f"XX区{year}年征收项目任务完成情况表（{SYNTHETIC_LABEL}）", n)
            sh.line(f"截至{year}年12月31日", n)
            self.cov("title_rows", file, sh.name)
            self.cov("multi_sheet", file)
            col = self._header(sh, cols)
            self.cov("header_2row_swapped" if style == "P3" else "header_2row", file, sh.name)
            self.cov("fullwidth_brackets", file, sh.name)
            if style == "P2":
                self.cov("header_spaces", file, sh.name)
            if style in ("P2", "P3"):
                self.cov("synonyms", file, sh.name)
            else:
                self.cov("year_from_title", file, sh.name)
            in_wan = style != "P3"
            hdec = 4 if in_wan else 0
            sums_all = defaultdict(float)
            sums_cat: dict[str, defaultdict] = {
                "市下达": defaultdict(float),
                "区统筹": defaultdict(float),
            }
            seq = 0
            for zone in ZONES:
                zone_rows = [p for p in self.projects if p.zone == zone and year in p.row_years]
                zone_rows.sort(key=lambda p: (p.category != "市下达", p.pid))
                if not zone_rows:
                    continue
                sums_zone = defaultdict(float)
                zr0 = sh.row
                for cat in ("市下达", "区统筹"):
                    cat_rows = [p for p in zone_rows if p.category == cat]
                    if not cat_rows:
                        continue
                    cr0 = sh.row
                    for p in cat_rows:
                        seq += 1
                        vals = self._project_row(sh, col, p, year, style, seq, rng, file)
                        for k, v in vals.items():
                            sums_zone[k] += v
                            sums_all[k] += v
                            sums_cat[cat][k] += v
                        sh.row += 1
                    written = _CATEGORY_WRITTEN[style][cat]
                    sh.merge(cr0, col["cat"], sh.row - 1, col["cat"], written)
                zone_written = _ZONE_SHORT[zone] if style == "P3" else zone
                sh.merge(zr0, col["zone"], sh.row - 1, col["zone"], zone_written)
                self.cov("merged_category", file, sh.name)
                r = sh.row
                sh.put(r, col["name"], "小计")
                self._total_cells(sh, col, r, sums_zone, hdec, in_wan)
                sh.row += 1
            r = sh.row
            sh.merge(r, 0, r, col["sector"], "合计")
            stated = dict(sums_all)
            if year == 2021:
                true_ld = round(sums_all["ld"], 2)
                stated["ld"] = true_ld + _MISMATCH_MU
                self.mismatch = {
                    "file": file,
                    "sheet": sh.name,
                    "row": r + 1,
                    "column": "累计完成（征地）",
                    "canonical": "land_done_mu",
                    "stated": round(stated["ld"], 2),
                    "detail_sum": true_ld,
                }
                self.cov("total_mismatch", file, sh.name)
            self._total_cells(sh, col, r, stated, hdec, in_wan)
            self.cov("total_rows", file, sh.name)
            sh.row += 1
            for cat in ("市下达", "区统筹"):
                r = sh.row
                sh.merge(r, 0, r, col["sector"], f"其中：{cat}")
                self._total_cells(sh, col, r, sums_cat[cat], hdec, in_wan)
                sh.row += 1
            self.cov("sub_rows", file, sh.name)
            self._notes(
                sh,
                n,
                year=year,
                extra=(
                    "备注：卡点面积指因卡点因素暂无法完成征收的土地面积；已完成数为截至年末累计数。",
                ),
            )
            self.cov("trailing_notes", file, sh.name)
            book.sheets.append(sh)
        self.books.append(book)

    def _total_cells(
        self, sh: _Sheet, col: dict[str, int], r: int, sums: dict, hdec: int, in_wan: bool
    ) -> None:
        scale = 1e4 if in_wan else 1.0
        for k in ("lt", "ld", "bmu"):
            sh.put(r, col[k], round(sums.get(k, 0.0), 2))
        for k in ("ht", "hd"):
            sh.put(r, col[k], _num(sums.get(k, 0.0) / scale, hdec))

    def _project_row(
        self,
        sh: _Sheet,
        col: dict[str, int],
        p: _Project,
        year: int,
        style: str,
        seq: int,
        rng: np.random.Generator,
        file: str,
    ) -> dict[str, float]:
        """Write one project row; record its truth; return the values that enter the totals."""
        r = sh.row
        in_wan = style != "P3"
        sh.put(r, col["seq"], seq)
        sh.put(r, col["pid"], p.pid)
        sh.put(r, col["name"], p.name)
        sh.put(r, col["sector"], p.sector)
        if "year" in col:
            sh.put(r, col["year"], year)
        out: dict[str, float] = {}
        draw = rng.random()
        # land: a house-only project has a real 0
        for key, v in (("lt", p.land_target if p.has_land else 0.0), ("ld", p.land_done[year])):
            if not p.has_land:
                sh.put(r, col[key], 0)
                self.cov("zero", file, sh.name)
            elif style == "P1" and year == 2020 and draw < 0.15:
                sh.put(r, col[key], _fmt(v, 2).translate(_FULLWIDTH))
                self.cov("fullwidth_digits", file, sh.name)
            elif style == "P2" and key == "ld" and draw < 0.06:
                sh.put(r, col[key], "约" + _fmt(v, 2))
                self.cov("approx", file, sh.name)
            else:
                sh.put(r, col[key], _num(v, 2))
            out[key] = v
        # houses
        for key, v in (("ht", p.house_target), ("hd", p.house_done[year])):
            if not p.has_house:
                sh.put(
                    r,
                    col[key],
                    self.placeholder(f"projects.{key}", ("—", "/", "--", "-", "X"), file, sh.name),
                )
                continue
            if in_wan:
                sh.put(r, col[key], _num(v / 1e4, 4))
            elif draw < 0.08:
                sh.put(r, col[key], f"{int(v)}㎡")
                self.cov("suffix_m2", file, sh.name)
            elif draw < 0.14:
                sh.put(r, col[key], f"{_fmt(v / 1e4, 4)}万平方米")
                self.cov("suffix_wan_m2", file, sh.name)
            else:
                sh.put(r, col[key], int(v))
            out[key] = v
        # completion rate (maps to nothing)
        if p.has_land and p.land_target:
            rate = p.land_done[year] / p.land_target
        elif p.has_house and p.house_target:
            rate = p.house_done[year] / p.house_target
        else:
            rate = None
        if rate is None:
            sh.put(r, col["rate"], "/")
        elif style == "P1":
            sh.put(r, col["rate"], _XNum(round(rate, 4), "0.0%"))
        else:
            sh.put(r, col["rate"], f"{rate * 100:.1f}%")
        self.cov("percent", file, sh.name)
        # blocker
        blocked = p.blocked(year)
        if blocked:
            sh.put(r, col["blk"], _BLOCKER_WRITTEN[style][p.blocker])
        else:
            sh.put(
                r,
                col["blk"],
                self.placeholder("projects.blk", ("无", "", "/", "—", ""), file, sh.name),
            )
        bmu = p.blocked_mu(year)
        if bmu is None:
            sh.put(
                r, col["bmu"], self.placeholder("projects.bmu", ("—", "-", "", "/"), file, sh.name)
            )
        elif style == "P3" and draw < 0.5:
            sh.put(r, col["bmu"], f"{_fmt(bmu, 2)}亩")
            self.cov("suffix_mu", file, sh.name)
            out["bmu"] = bmu
        else:
            sh.put(r, col["bmu"], _num(bmu, 2))
            out["bmu"] = bmu
        note = p.note(year)
        if note is None:
            sh.put(
                r,
                col["note"],
                self.placeholder("projects.note", ("", "/", "暂无", "", "无"), file, sh.name),
            )
        else:
            sh.put(r, col["note"], note)
        self.truth["projects"].append(
            {
                "project_id": p.pid,
                "project_name": _nfkc(p.name),
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
                "note": _nfkc(note) if note else None,
            }
        )
        return out

    # ------------------------------------------------------------------ agreements
    def _site_written(
        self,
        site: _Site,
        rng: np.random.Generator,
        file: str,
        sheet: str,
        *,
        fullwidth: bool = False,
    ) -> str:
        name = site.name
        if "(" in name and (fullwidth or rng.random() < 0.5):
            name = name.replace("(", "（").replace(")", "）")
            self.cov("nfkc_names", file, sheet)
        elif rng.random() < 0.02:
            name += " "
            self.cov("nfkc_names", file, sheet)
        return name

    def _render_agreements(self) -> None:
        self._render_agreements_a()
        self._render_agreements_b()
        self.cov("multi_file", F_AGREE_A)
        self.cov("multi_file", F_AGREE_B)

    def _agreement_truth(self, a: _Agreement, due: date | None, site_key: str | None) -> None:
        self.truth["agreements"].append(
            {
                "agreement_id": a.aid,
                "project_id": a.project.pid,
                "signed_date": a.signed,
                "mode": a.mode,
                "house_area_m2": None if a.area_na else a.area,
                "compensation_yuan": float(a.comp),
                "payment_due_date": due,
                "site_id": site_key,
            }
        )

    def _render_agreements_a(self) -> None:
        file = F_AGREE_A
        book = _Book(file)
        rng = _rng(self.seed, "render-agreements-a")
        cols = [
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
        n = len(cols)
        mode_words = {
            "货币补偿": ("货币补偿", "货币补偿", "货币", "现金"),
            "产权调换": ("产权调换", "产权调换", "房屋安置", "实物安置"),
        }
        date_styles = {
            "贵城片区": (("excel",), ("excel",)),
            "港城片区": (("serial", "serial", "excel_slash"), ("excel_slash",)),
            "城区外围片区": (("dot", "cn"), ("dash", "slash")),
        }
        for zone in ZONES:
            sh = _Sheet(zone)
            sh.title(f"XX区征收补偿协议台账（{zone}，2016—2020年签约）（{SYNTHETIC_LABEL}）", n)
            sh.line("单位：元", n)
            sh.line("截至2020年12月31日", n)
            self.cov("title_rows", file, sh.name)
            self.cov("multi_sheet", file)
            col = self._header(sh, cols)
            self.cov("header_spaces", file, sh.name)
            self.cov("fullwidth_brackets", file, sh.name)
            self.cov("pii", file, sh.name)
            signed_styles, due_styles = date_styles[zone]
            rows = [a for a in self.agreements if a.project.zone == zone and a.signed.year <= 2020]
            area_sum = 0.0
            comp_sum = 0
            for i, a in enumerate(rows, start=1):
                r = sh.row
                sh.put(r, col["seq"], i)
                sh.put(r, col["aid"], a.aid)
                sh.put(r, col["pid"], a.project.pid)
                sh.put(r, col["pname"], a.person.name)
                sh.put(r, col["pidno"], a.person.idno)
                sh.put(r, col["pphone"], a.person.phone)
                style = signed_styles[int(rng.integers(len(signed_styles)))]
                cell, _ = _date_cell(a.signed, style)
                sh.put(r, col["signed"], cell)
                self.cov(_date_rule(style), file, sh.name)
                words = mode_words[a.mode]
                sh.put(r, col["mode"], words[int(rng.integers(len(words)))])
                draw = rng.random()
                if draw < 0.01:
                    a.area_na = True
                    sh.put(
                        r,
                        col["area"],
                        self.placeholder("agreements.area", ("待定", "X", "x"), file, sh.name),
                    )
                elif draw < 0.03:
                    sh.put(r, col["area"], f"{_fmt(a.area, 2)}㎡")
                    self.cov("suffix_m2", file, sh.name)
                elif draw < 0.04:
                    sh.put(r, col["area"], "约" + _fmt(a.area, 2))
                    self.cov("approx", file, sh.name)
                elif draw < 0.05:
                    sh.put(r, col["area"], _fmt(a.area, 2).translate(_FULLWIDTH))
                    self.cov("fullwidth_digits", file, sh.name)
                else:
                    sh.put(r, col["area"], a.area)
                if not a.area_na:
                    area_sum += a.area
                draw = rng.random()
                if draw < 0.03:
                    sh.put(r, col["comp"], f"{a.comp:,.2f}")
                    self.cov("thousands", file, sh.name)
                elif draw < 0.04:
                    sh.put(r, col["comp"], f"{a.comp / 1e4:.4f}万元")
                    self.cov("suffix_wanyuan", file, sh.name)
                elif draw < 0.05:
                    sh.put(r, col["comp"], str(a.comp).translate(_FULLWIDTH))
                    self.cov("fullwidth_digits", file, sh.name)
                else:
                    sh.put(r, col["comp"], a.comp)
                comp_sum += a.comp
                due: date | None = a.due
                if rng.random() < 0.01:  # no due date for this agreement: the default term
                    due = a.signed + timedelta(days=DEFAULT_PAYMENT_TERM_DAYS)
                    sh.put(
                        r,
                        col["due"],
                        self.placeholder("agreements.due", ("待定", "--"), file, sh.name),
                    )
                else:
                    style = due_styles[int(rng.integers(len(due_styles)))]
                    cell, _ = _date_cell(a.due, style)
                    sh.put(r, col["due"], cell)
                    self.cov(_date_rule(style), file, sh.name)
                site_key = None
                if a.site is not None:
                    sh.put(r, col["site"], self._site_written(a.site, rng, file, sh.name))
                    site_key = a.site.key
                else:
                    sh.put(
                        r,
                        col["site"],
                        self.placeholder("agreements.site", ("/", "—", "", "无"), file, sh.name),
                    )
                if rng.random() < 0.03:
                    sh.put(r, col["note"], "已腾空交房" if a.site else "已领取补偿款")
                self._agreement_truth(a, due, site_key)
                sh.row += 1
            r = sh.row
            sh.merge(r, 0, r, col["pphone"], "合计")
            sh.put(r, col["area"], round(area_sum, 2))
            sh.put(r, col["comp"], comp_sum)
            self.cov("total_rows", file, sh.name)
            sh.row += 1
            self._notes(sh, n, year=2020, extra=("备注：支付期限为协议约定的补偿款支付期限。",))
            self.cov("trailing_notes", file, sh.name)
            book.sheets.append(sh)
        # a sheet that matches no table
        sh = _Sheet("说明")
        sh.put(0, 0, f"说明（{SYNTHETIC_LABEL}）")
        for i, text in enumerate(
            (
                "1. 本工作簿为演示用的模拟数据，人名、身份证号、电话均为虚构。",
                "2. 各片区分表登记，协议编号按片区、签约年度顺序编号。",
                "3. 产权调换户的过渡安置情况见《过渡安置台账》。",
            ),
            start=2,
        ):
            sh.put(i, 0, text)
        sh.widths[0] = 60.0
        self.cov("no_table_sheet", file, sh.name)
        book.sheets.append(sh)
        self.books.append(book)

    def _render_agreements_b(self) -> None:
        file = F_AGREE_B
        book = _Book(file)
        rng = _rng(self.seed, "render-agreements-b")
        cols = [
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
        n = len(cols)
        mode_words = {"货币补偿": ("货币补偿", "货币"), "产权调换": ("产权调换", "房屋安置")}
        date_styles = {
            2021: ("cn", "dot", "slash", "dash", "ymd_text"),
            2022: ("ymd_int", "serial", "excel"),
        }
        for year in (2021, 2022):
            sh = _Sheet(f"{year}年")
            sh.title(f"XX区{year}年征收补偿协议签订情况表（{SYNTHETIC_LABEL}）", n)
            sh.line("单位：万元", n)
            sh.line(f"截至{year}年12月31日", n)
            self.cov("title_rows", file, sh.name)
            self.cov("title_unit", file, sh.name)
            self.cov("synonyms", file, sh.name)
            self.cov("project_by_name", file, sh.name)
            self.cov("due_absent", file, sh.name)
            self.cov("pii", file, sh.name)
            self.cov("multi_sheet", file)
            col = self._header(sh, cols)
            rows = [a for a in self.agreements if a.signed.year == year]
            rows.sort(key=lambda a: (a.signed, a.aid))
            bad_at = len(rows) * 2 // 5
            dup_src = len(rows) // 3
            dup_at = len(rows) * 3 // 4
            entries: list[tuple[str, _Agreement | None]] = [("ok", a) for a in rows]
            if year == 2021:
                entries.insert(bad_at, ("bad_date", None))
            else:
                entries.insert(dup_at, ("dup", rows[dup_src]))
            row_of: dict[str, int] = {}
            for i, (kind, a) in enumerate(entries, start=1):
                r = sh.row
                sh.put(r, col["seq"], i)
                if kind == "bad_date":
                    prefix = "GC"
                    self.next_seq[(prefix, 2021)] += 1
                    aid = f"{prefix}-2021-{self.next_seq[(prefix, 2021)]:04d}"
                    p = next(
                        q
                        for q in self.projects
                        if q.zone == "贵城片区" and q.has_house and 2021 in q.row_years
                    )
                    sh.put(r, col["aid"], aid)
                    sh.put(r, col["project"], p.name)
                    person = self._person(rng)
                    sh.put(r, col["pname"], person.name)
                    sh.put(r, col["pidno"], person.idno)
                    sh.put(r, col["pphone"], person.phone)
                    sh.put(r, col["signed"], "2021年2月30日")
                    sh.put(r, col["mode"], "货币补偿")
                    sh.put(r, col["area"], 96.5)
                    sh.put(r, col["comp"], 41.2385)
                    sh.put(r, col["site"], "/")
                    self.rejections.append(
                        {
                            "file": file,
                            "sheet": sh.name,
                            "row": r + 1,
                            "table": "agreements",
                            "reason": f"unparseable required signed_date '2021年2月30日' ({aid})",
                        }
                    )
                    self.cov("bad_rows", file, sh.name)
                    sh.row += 1
                    continue
                if a is None:  # pragma: no cover - only the planted row has no agreement
                    continue
                row_of.setdefault(a.aid, r + 1)
                sh.put(r, col["aid"], a.aid)
                sh.put(r, col["project"], a.project.name)
                sh.put(r, col["pname"], a.person.name)
                sh.put(r, col["pidno"], a.person.idno)
                sh.put(r, col["pphone"], a.person.phone)
                styles = date_styles[year]
                style = styles[int(rng.integers(len(styles)))]
                cell, _ = _date_cell(a.signed, style)
                sh.put(r, col["signed"], cell)
                self.cov(_date_rule(style), file, sh.name)
                words = mode_words[a.mode]
                sh.put(r, col["mode"], words[int(rng.integers(len(words)))])
                sh.put(r, col["area"], a.area)
                if kind == "dup":
                    sh.put(r, col["comp"], round(a.comp * 1.1 / 1e4, 4))
                    sh.put(r, col["note"], "重复录入")
                    sh.put(r, col["site"], a.site.name if a.site else "/")
                    self.rejections.append(
                        {
                            "file": file,
                            "sheet": sh.name,
                            "row": r + 1,
                            "table": "agreements",
                            "reason": f"duplicate agreement_id {a.aid} (first at row {row_of[a.aid]})",
                        }
                    )
                    self.cov("bad_rows", file, sh.name)
                    sh.row += 1
                    continue
                draw = rng.random()
                if draw < 0.03:
                    sh.put(r, col["comp"], _fmt(a.comp / 1e4, 4).translate(_FULLWIDTH))
                    self.cov("fullwidth_digits", file, sh.name)
                elif draw < 0.08:
                    sh.put(r, col["comp"], _fmt(a.comp / 1e4, 4))
                else:
                    sh.put(r, col["comp"], round(a.comp / 1e4, 4))
                site_key = None
                if a.site is not None:
                    sh.put(r, col["site"], self._site_written(a.site, rng, file, sh.name))
                    site_key = a.site.key
                else:
                    sh.put(
                        r,
                        col["site"],
                        self.placeholder("agreements.site", ("/", "—", "", "无"), file, sh.name),
                    )
                self._agreement_truth(a, a.due, site_key)
                sh.row += 1
            self._notes(sh, n, year=year)
            self.cov("trailing_notes", file, sh.name)
            book.sheets.append(sh)
        self.books.append(book)

    # ------------------------------------------------------------------ transition
    def _render_transition(self) -> None:
        file = F_TRANSITION
        book = _Book(file)
        rng = _rng(self.seed, "render-transition")
        layouts = {
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
        basis_words = {
            "per_m2": ("按面积", "元/平方米/月"),
            "per_household": ("按户", "元/户/月"),
            "per_person": ("按人", "元/人/月"),
        }
        for key, (name, cols, styles) in layouts.items():
            sh = _Sheet(name)
            n = len(cols)
            sh.title(f"XX区征收过渡安置台账（{name}）（{SYNTHETIC_LABEL}）", n)
            sh.line("截至2022年12月31日", n)
            self.cov("title_rows", file, sh.name)
            self.cov("multi_sheet", file)
            self.cov("pii", file, sh.name)
            self.cov("synonyms", file, sh.name)
            self.cov("basis_column" if key == "T3" else "basis_header", file, sh.name)
            if key == "T2":
                self.cov("agreed_absent", file, sh.name)
            col = self._header(sh, cols)
            rows = sorted((h for h in self.households if h.sheet == key), key=lambda h: h.ag.aid)
            for i, h in enumerate(rows, start=1):
                r = sh.row
                a = h.ag
                sh.put(r, col["seq"], i)
                sh.put(r, col["aid"], a.aid)
                sh.put(r, col["pname"], a.person.name)
                if "pidno" in col:
                    sh.put(r, col["pidno"], a.person.idno)
                sh.put(r, col["pphone"], a.person.phone)
                sh.put(
                    r,
                    col["site"],
                    self._site_written(h.site, rng, file, sh.name, fullwidth=key == "T2"),
                )
                style = styles[int(rng.integers(len(styles)))]
                cell, start = _date_cell(h.start, style)
                sh.put(r, col["start"], cell)
                self.cov(_date_rule(style), file, sh.name)
                end_read: date | None = None
                if h.bad == "end_before_start":
                    wrong = h.start - timedelta(days=400)
                    cell, _ = _date_cell(wrong, style)
                    sh.put(r, col["end"], cell)
                    self.rejections.append(
                        {
                            "file": file,
                            "sheet": sh.name,
                            "row": r + 1,
                            "table": "transition",
                            "reason": f"end_date {wrong.isoformat()} before start_date "
                            f"{h.start.isoformat()} ({a.aid})",
                        }
                    )
                    self.cov("bad_rows", file, sh.name)
                elif h.end is None:
                    sh.put(
                        r,
                        col["end"],
                        self.placeholder(
                            "transition.end", ("", "—", "-", "暂无", ""), file, sh.name
                        ),
                    )
                else:
                    style = styles[int(rng.integers(len(styles)))]
                    cell, end_read = _date_cell(h.end, style)
                    sh.put(r, col["end"], cell)
                if "basis" in col:
                    if h.bad == "bad_basis":
                        sh.put(r, col["basis"], "按间")
                        self.rejections.append(
                            {
                                "file": file,
                                "sheet": sh.name,
                                "row": r + 1,
                                "table": "transition",
                                "reason": f"fee_basis '按间' is not a known basis ({a.aid})",
                            }
                        )
                        self.cov("bad_rows", file, sh.name)
                    else:
                        words = basis_words[h.basis]
                        sh.put(r, col["basis"], words[int(rng.integers(len(words)))])
                sh.put(r, col["rate"], h.rate)
                area = h.area if h.area_shown else None
                if area is None:
                    sh.put(
                        r,
                        col["area"],
                        self.placeholder("transition.area", ("XX", "—", "/"), file, sh.name),
                    )
                else:
                    sh.put(r, col["area"], area)
                persons = None
                if "persons" in col:
                    if h.persons_shown:
                        persons = h.persons
                        sh.put(r, col["persons"], persons)
                    else:
                        sh.put(
                            r,
                            col["persons"],
                            self.placeholder(
                                "transition.persons", ("X", "x", "XX", "/"), file, sh.name
                            ),
                        )
                agreed: int | None = None
                if "agreed" in col:
                    agreed = h.agreed
                    sh.put(r, col["agreed"], agreed)
                sh.row += 1
                if h.bad:
                    continue
                self.truth["transition"].append(
                    {
                        "agreement_id": a.aid,
                        "site_id": h.site.key,
                        "start_date": start,
                        "end_date": end_read,
                        "fee_basis": h.basis,
                        "fee_rate_yuan": h.rate,
                        "area_m2": area,
                        "persons": persons,
                        "agreed_months": agreed,
                        "_derive_agreed": agreed is None,
                    }
                )
            self._notes(sh, n, year=2022, extra=("备注：回迁日期为空的，为截至统计日仍在过渡期。",))
            self.cov("trailing_notes", file, sh.name)
            book.sheets.append(sh)
        # a sheet that matches no table: petitions (信访)
        sh = _Sheet("信访登记")
        cols = [
            ("seq", "序号", None),
            ("when", "来访时间", None),
            ("who", "来访人", None),
            ("tel", "联系电话", None),
            ("what", "诉求内容", None),
            ("result", "办理结果", None),
        ]
        sh.title(f"XX区征收信访登记表（{SYNTHETIC_LABEL}）", len(cols))
        col = self._header(sh, cols)
        issues = (
            "反映过渡安置费未按时发放",
            "询问安置房交房时间",
            "反映补偿款未足额支付",
            "要求提高过渡安置费标准",
            "反映安置区工程停工",
        )
        for i in range(1, 9):
            r = sh.row
            sh.put(r, col["seq"], i)
            sh.put(r, col["when"], _XDate(date(2022, i, int(rng.integers(1, 29)))))
            person = self._person(rng)
            sh.put(r, col["who"], person.name)
            sh.put(r, col["tel"], person.phone)
            sh.put(r, col["what"], issues[int(rng.integers(len(issues)))])
            sh.put(r, col["result"], ("已答复", "已转办", "办理中")[int(rng.integers(3))])
            sh.row += 1
        self.cov("no_table_sheet", file, sh.name)
        book.sheets.append(sh)
        self.books.append(book)

    # ------------------------------------------------------------------ payments
    def _render_payments(self) -> None:
        rng = _rng(self.seed, "render-payments")
        kinds = {
            "A": {"补偿款": "补偿款", "过渡安置费": "过渡费", "工作经费": "工作经费"},
            "B": {"补偿款": "补偿", "过渡安置费": "临时安置费", "工作经费": "工作经费"},
            "C": {"补偿款": "征收补偿款", "过渡安置费": "过渡安置费", "工作经费": "工作经费"},
        }
        headers = {
            "A": [
                "凭证号",
                "支付日期",
                "协议编号",
                "被征收人",
                "项目编号",
                "款项类型",
                "支付金额（元）",
            ],
            "B": [
                "凭证号",
                "付款日期",
                "协议编号",
                "被征收人",
                "联系电话",
                "项目编号",
                "支付类型",
                "金额",
            ],
            "C": [
                "凭证号",
                "拨付日期",
                "协议编号",
                "姓名",
                "身份证号",
                "项目名称",
                "用途",
                "拨付金额（元）",
            ],
        }
        date_styles = {
            "征收款项支付台账_2016-2018.csv": ("iso", "slash"),
            "征收款项支付台账_2019.csv": ("iso", "slash", "ymd_text"),
            "征收款项支付台账_2020.csv": ("cn", "dash"),
            "征收款项支付台账_2021.csv": ("dot", "ymd_text"),
            "征收款项支付台账_2022.csv": ("slash", "cn"),
        }
        rule_enc = {
            "utf-8": "csv_utf8",
            "utf-8-sig": "csv_utf8_bom",
            "gb18030": "csv_gb18030",
            "gbk": "csv_gbk",
        }
        for fname, (y0, y1), enc, variant in _PAYMENT_FILES:
            out = _Csv(fname, enc)
            years = f"{y0}年" if y0 == y1 else f"{y0}—{y1}年"
            out.rows.append([f"XX区{years}征收款项支付台账（{SYNTHETIC_LABEL}）"])
            out.rows.append(list(headers[variant]))
            self.cov("title_rows", fname)
            self.cov(rule_enc[enc], fname)
            self.cov("multi_file", fname)
            self.cov("pii", fname)
            self.cov("synonyms", fname)
            if variant == "C":
                self.cov("project_by_name", fname)
            styles = date_styles[fname]
            rows = [x for x in self.payments if y0 <= x.date.year <= y1]
            extra: dict[int, str] = {}
            if y0 == 2020:
                extra[len(rows) // 2] = "bad_date"
            if y0 == 2021:
                extra[len(rows) // 3] = "negative"
            for i, x in enumerate(rows):
                self._payment_line(out, x, variant, kinds[variant], styles, rng, fname)
                if i in extra:
                    self._planted_payment(out, x, variant, kinds[variant], extra[i], fname)
            if y0 == 2019:
                out.rows.append(["填表人：张某某"])
                out.rows.append(["审核人：黄某某"])
                self.cov("trailing_notes", fname)
            self.csvs.append(out)

    def _payment_line(
        self,
        out: _Csv,
        x: _Payment,
        variant: str,
        kinds: dict[str, str],
        styles: tuple[str, ...],
        rng: np.random.Generator,
        fname: str,
    ) -> None:
        style = styles[int(rng.integers(len(styles)))]
        cell, read = _date_cell(x.date, style)
        self.cov(_date_rule(style), fname)
        draw = rng.random()
        if x.amount >= 1000 and draw < 0.3:
            amount = f"{x.amount:,.2f}"
            self.cov("thousands", fname)
        elif variant == "C" and draw < 0.33:
            amount = _fmt(x.amount, 2).translate(_FULLWIDTH)
            self.cov("fullwidth_digits", fname)
        else:
            amount = _fmt(x.amount, 2)
        ag = (
            x.ag.aid
            if x.ag
            else self.placeholder(
                "payments.agreement", ("/", "") if variant == "A" else ("",), fname, ""
            )
        )
        person = x.ag.person if x.ag else None
        if x.project is None:
            project = self.placeholder("payments.project", ("", "/", "—"), fname, "")
        else:
            project = x.project.name if variant == "C" else x.project.pid
        name = person.name if person else ""
        if variant == "A":
            row = [x.pid, str(cell), ag, name, project, kinds[x.kind], amount]
        elif variant == "B":
            row = [
                x.pid,
                str(cell),
                ag,
                name,
                person.phone if person else "",
                project,
                kinds[x.kind],
                amount,
            ]
        else:
            row = [
                x.pid,
                str(cell),
                ag,
                name,
                person.idno if person else "",
                project,
                kinds[x.kind],
                amount,
            ]
        out.rows.append(row)
        self.truth["payments"].append(
            {
                "payment_id": x.pid,
                "date": read,
                "agreement_id": x.ag.aid if x.ag else None,
                "project_id": x.project.pid if x.project else None,
                "kind": x.kind,
                "amount_yuan": round(x.amount, 2),
            }
        )

    def _planted_payment(
        self, out: _Csv, x: _Payment, variant: str, kinds: dict[str, str], what: str, fname: str
    ) -> None:
        """A bad payment line right after the line of payment ``x``."""
        person = x.ag.person if x.ag else None
        ag = x.ag.aid if x.ag else ""
        if what == "negative":
            pid = f"ZF{x.date.year}-90001"
            cell = _date_cell(x.date, "dot")[0]
            amount = f"-{x.amount:,.2f}"
            reason = f"negative amount_yuan {amount} (冲红 of {x.pid})"
        else:
            pid = f"ZF{x.date.year}-90002"
            cell = "2020-11-31"
            amount = _fmt(x.amount, 2)
            reason = "unparseable required date '2020-11-31'"
        project = (x.project.name if variant == "C" else x.project.pid) if x.project else ""
        name = person.name if person else ""
        if variant == "B":
            row = [
                pid,
                cell,
                ag,
                name,
                person.phone if person else "",
                project,
                kinds[x.kind],
                amount,
            ]
        elif variant == "C":
            row = [
                pid,
                cell,
                ag,
                name,
                person.idno if person else "",
                project,
                kinds[x.kind],
                amount,
            ]
        else:  # pragma: no cover - planted rows are in the B and C files
            row = [pid, cell, ag, name, project, kinds[x.kind], amount]
        out.rows.append(row)
        self.rejections.append(
            {
                "file": fname,
                "sheet": Path(fname).stem,  # a CSV's one "sheet", named like the file
                "row": len(out.rows),
                "table": "payments",
                "reason": reason,
            }
        )
        self.cov("bad_rows", fname)

    # ------------------------------------------------------------------ funding
    def _render_funding(self) -> None:
        file = F_FUNDING
        book = _Book(file)
        rng = _rng(self.seed, "render-funding")
        cols = [
            ("seq", "序号", None),
            ("source", "资金来源", None),
            ("date", "到账日期", None),
            ("amount", "到位金额", None),
            ("project", "项目名称", None),
            ("note", "备注", None),
        ]
        n = len(cols)
        groups = (
            ((2016, 2018), "2016-2018年"),
            ((2019, 2019), "2019年"),
            ((2020, 2020), "2020年"),
            ((2021, 2021), "2021年"),
            ((2022, 2022), "2022年"),
        )
        for (y0, y1), sheet_name in groups:
            sh = _Sheet(sheet_name)
            label = f"{y0}年" if y0 == y1 else f"{y0}—{y1}年"
            sh.title(f"XX区{label}征拆资金到位情况表（{SYNTHETIC_LABEL}）", n)
            sh.line("单位：万元", n)
            sh.line(f"截至{y1}年12月31日", n)
            self.cov("title_rows", file, sh.name)
            self.cov("title_unit", file, sh.name)
            self.cov("multi_sheet", file)
            col = self._header(sh, cols)
            seq = 0
            total = 0.0
            special_done: set[str] = set()
            for source in _SOURCES:
                rows = sorted(
                    (f for f in self.inflows if f.source == source and y0 <= f.date.year <= y1),
                    key=lambda f: (f.date, f.amount_wan),
                )
                if not rows:
                    continue
                r0 = sh.row
                sub = 0.0
                for f in rows:
                    r = sh.row
                    seq += 1
                    sh.put(r, col["seq"], seq)
                    amount_wan, cell, note = self._funding_amount(
                        f, y0, special_done, file, sh.name
                    )
                    sh.put(r, col["amount"], cell)
                    if note:
                        sh.put(r, col["note"], note)
                    style = self._funding_date_style(f, y0, rng, special_done)
                    dcell, read = _date_cell(f.date, style)
                    sh.put(r, col["date"], dcell)
                    self.cov(_date_rule(style), file, sh.name)
                    if f.project is not None:
                        sh.put(r, col["project"], f.project.name)
                    else:
                        sh.put(
                            r,
                            col["project"],
                            self.placeholder(
                                "funding.project", ("/", "—", "-", "", "XX"), file, sh.name
                            ),
                        )
                    sub += amount_wan
                    sh.row += 1
                    self.truth["funding"].append(
                        {
                            "date": read,
                            "funding_source": source,
                            "amount_yuan": round(amount_wan * 1e4, 2),
                            "project_id": f.project.pid if f.project else None,
                        }
                    )
                sh.merge(r0, col["source"], sh.row - 1, col["source"], source)
                if len(rows) > 1:
                    self.cov("merged_category", file, sh.name)
                r = sh.row
                sh.put(r, col["source"], "小计")
                sh.put(r, col["amount"], round(sub, 2))
                sh.row += 1
                total += sub
            r = sh.row
            sh.merge(r, 0, r, col["source"], "合计")
            sh.put(r, col["amount"], round(total, 2))
            self.cov("total_rows", file, sh.name)
            sh.row += 1
            self._notes(sh, n, year=y1, extra=("注：专项债券、上级补助资金按实际到账时间填列。",))
            self.cov("trailing_notes", file, sh.name)
            book.sheets.append(sh)
        self.books.append(book)

    def _funding_amount(
        self, f: _Inflow, y0: int, done: set[str], file: str, sheet: str
    ) -> tuple[float, object, str | None]:
        """The cell of an inflow amount (万元 by the title row); return (万元 read, cell, note)."""
        a = f.amount_wan
        if y0 == 2021 and f.source == "专项债券" and "yi" not in done:
            done.add("yi")
            a = max(round(a / 1000) * 1000, 1000.0)
            f.amount_wan = a
            self.cov("suffix_yi", file, sheet)
            self.special["yi"] = f"{a / 1e4:g}亿"
            return a, self.special["yi"], "专项债券资金"
        if y0 == 2020 and f.source == "区财政" and "remark" not in done:
            done.add("remark")
            self.cov("remark", file, sheet)
            return a, f"{_fmt(a, 2)}（含工作经费）", None
        if y0 == 2022 and f.source == "土地出让收入" and "approx" not in done:
            done.add("approx")
            self.cov("approx", file, sheet)
            return a, "约" + _fmt(a, 2), "按月底快报数"
        if y0 == 2019 and f.source == "市财政" and len(done) < 3:
            done.add(f"wan{len(done)}")
            self.cov("suffix_wanyuan", file, sheet)
            if a >= 1000:
                self.cov("thousands", file, sheet)
            return a, f"{a:,.2f}万元", None
        if y0 == 2022 and f.source == "市财政" and "fw" not in done:
            done.add("fw")
            self.cov("fullwidth_digits", file, sheet)
            return a, _fmt(a, 2).translate(_FULLWIDTH), None
        if a >= 1000 and y0 == 2016:
            self.cov("thousands", file, sheet)
            return a, f"{a:,.2f}", None
        return a, a, None

    def _funding_date_style(
        self, f: _Inflow, y0: int, rng: np.random.Generator, done: set[str]
    ) -> str:
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

    # ------------------------------------------------------------------ truth & README
    def truth_frames(self) -> dict[str, pd.DataFrame]:
        frames: dict[str, pd.DataFrame] = {}
        for name, t in TABLES.items():
            rows = self.truth.get(name, [])
            data = {c.name: [row.get(c.name) for row in rows] for c in t.columns}
            if name == "transition":
                promised = {s.key: s.t_promised for s in self.sites}
                derive = [row["_derive_agreed"] for row in rows]
                starts = pd.Series(pd.to_datetime(pd.Series(data["start_date"], dtype=object)))
                prom = pd.Series(
                    pd.to_datetime(pd.Series([promised[k] for k in data["site_id"]], dtype=object))
                )
                derived = months_between(starts, prom)
                data["agreed_months"] = [
                    int(derived.iloc[i]) if derive[i] else v
                    for i, v in enumerate(data["agreed_months"])
                ]
            df = pd.DataFrame({c.name: _series(data[c.name], pandas_dtype(c)) for c in t.columns})
            key = list(t.key) or [c.name for c in t.columns]
            df = df.sort_values(key, kind="stable").reset_index(drop=True)
            frames[name] = df
        return frames

    def _render_readme(self) -> str:
        return _readme(self)


def _series(values: list, dtype: str) -> pd.Series:
    if dtype.startswith("datetime64"):
        return pd.to_datetime(pd.Series(values, dtype=object)).astype(dtype)
    if dtype == "Int64":
        return pd.Series(pd.array(values, dtype="Int64"))
    if dtype == "float64":
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.Series(values, dtype=dtype)


# =================================================================================================
# README
# =================================================================================================
def _readme(demo: _Demo) -> str:
    truth = demo.truth_frames()
    lines = [
        f"# Demo raw ledgers — {SYNTHETIC_LABEL}",
        "",
        (
            "**示例数据，非真实统计.** A synthetic district written by "
            f"`zhengshou demo-data data/demo --seed {demo.seed}` "
            "(`zhengshou_analysis.demo.write_demo_ledgers`); do not edit by hand, regenerate. "
            "Names follow the 2021 work summary of a Guigang district (the three 片区, resettlement sites "
            "蓝田安置区, 文华雅苑, 堤路园(二)A安置区, 白凹窝安置区, 三合安置区, the blockers of the last mile); "
            "every figure, person, ID-card number and phone number is invented (ID numbers start with "
            "`999`, phone numbers with `100`)."
        ),
        "",
        (
            "What the ledgers model (see the module docstring of `zhengshou_analysis.demo` for the random "
            "structure): funds arrive late and short so signed agreements wait for payment; households "
            "wait for resettlement flats so transitional fees pile up and fall into arrears; several "
            "sites are more than 3 years late; blocked projects (公建单位, 军事用地, 双高糖料蔗基地, 留用地, "
            "资金). Everything is as of 2022-12-31."
        ),
        "",
        "## Files",
        "",
        "| file | feeds | sheets (data rows) | encoding |",
        "| --- | --- | --- | --- |",
    ]
    feeds = {
        F_PROJECTS: "projects",
        F_AGREE_A: "agreements",
        F_AGREE_B: "agreements",
        F_FUNDING: "funding",
        F_SITES: "sites",
        F_TRANSITION: "transition",
    }
    counts = _data_row_counts(demo)
    for book in demo.books:
        parts = []
        for sh in book.sheets:
            k = counts.get((book.name, sh.name))
            parts.append(f"{sh.name} ({k})" if k is not None else f"{sh.name} (no table)")
        lines.append(f"| `{book.name}` | {feeds[book.name]} | {'; '.join(parts)} | xlsx |")
    for out in demo.csvs:
        k = counts.get((out.name, ""))
        lines.append(f"| `{out.name}` | payments | ({k}) | {out.encoding} |")
    lines += [
        "",
        "Data rows include the planted bad rows. Canonical truth: "
        + ", ".join(f"{name} {len(df)} rows" for name, df in truth.items())
        + ".",
        "",
        "## Messy formatting rules (data contract §1) and where they appear",
        "",
        "| rule | where (file / sheet) |",
        "| --- | --- |",
    ]
    for rule, text in MESSY_RULES.items():
        where = sorted(demo.coverage.get(rule, ()))
        lines.append(f"| {text} | {_where(where)} |")
    for style, text in DATE_RULES.items():
        where = sorted(demo.coverage.get("date:" + style, ()))
        lines.append(f"| {text} | {_where(where)} |")
    for token in PLACEHOLDERS:
        label = token or "(empty cell)"
        where = sorted(demo.coverage.get("placeholder:" + (token or "(empty)"), ()))
        lines.append(f"| placeholder `{label}` | {_where(where)} |")
    m = demo.mismatch
    lines += [
        "",
        "## The deliberate total mismatch",
        "",
        (
            f"`{m['file']}` sheet `{m['sheet']}`, row {m['row']} (`合计`), column {m['column']} "
            f"(`{m['canonical']}`): stated **{m['stated']:.2f}** 亩, the detail rows sum to "
            f"**{m['detail_sum']:.2f}** 亩. The cleaner must log a `warning` with both numbers. Every "
            "other 合计/小计/总计 equals its detail rows; `其中：` rows are never added."
        ),
        "",
        "## Planted bad rows (`demo_expected_rejections`)",
        "",
        (
            "Not in the truth; a correct cleaner rejects each with a `warning` and keeps going. Rows are "
            "the row a person sees: the Excel row, or the physical line of the CSV file (its title line "
            "is line 1, its header line 2); a CSV's sheet is its file name without `.csv`, so "
            "`FILE#SHEET!ROW` is the row's `origin`."
        ),
        "",
        "| file | sheet | row | table | reason |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rej in demo.rejections:
        lines.append(
            f"| `{rej['file']}` | {rej['sheet'] or '—'} | {rej['row']} | {rej['table']} | "
            f"{rej['reason']} |"
        )
    lines += [
        "",
        "## What the cleaner must know",
        "",
        (
            "- **Site ids.** The site ledger has no 安置区编号; the cleaner derives `site_id` from the "
            "normalised name. `demo_truth()` holds the site *name* (NFKC, spaces removed, e.g. "
            "`堤路园(二)A安置区`) in every `site_id` column; tests map names to the derived ids. Site names "
            "are written with full-width brackets (`堤路园（二）A安置区`) in the 2021–2022 transition sheet "
            "and in some agreement rows, and with a trailing space in a few rows."
        ),
        (
            "- **Project ids** are the 项目编号 of the project ledger (`GG-2019-001`); the 2021–2022 "
            "agreements workbook, the 2021 and 2022 payment files and the funding workbook name projects "
            "by 项目名称 (with full-width brackets, equal after NFKC)."
        ),
        (
            "- **Units.** `单位：万元` in the title rows of the funding and 2021–2022 agreements workbooks "
            "applies to 到位金额 / 协议金额 (headers without unit). A unit written in a cell (`123.4567万元` "
            f"in a 补偿总额（元） column, `{demo.special['yi']}` in a 万元 sheet, `3.4567万平方米` in a "
            "房屋（平方米） column) "
            "overrides the column's unit. Percentages (完成率, 形象进度) map to no canonical column."
        ),
        (
            "- **Dates.** Month-only dates are the 1st; the float `2021.1` (funding 2021, 区财政, an October "
            "inflow) is read as 2021-01-01 with a warning, and the truth holds 2021-01-01. Numbers in "
            "date columns are Excel serials (about 42 000–45 000) or `yyyymmdd` (8 digits)."
        ),
        (
            "- **Derived values.** No 支付期限 column in the 2021–2022 agreements workbook: "
            "`payment_due_date = signed_date + 30 days`, and so for a 支付期限 cell holding `待定`/`--` "
            "(the ledger gives no due date for that agreement). No "
            "过渡期限 column in the transition sheet `按面积计费（2021-2022年签约）`: `agreed_months = "
            "months_between(start_date, promised_date of its site)`. The 2019 and 2020 project sheets "
            "have no 年度 column: the year is the title's."
        ),
        (
            "- **Total rows.** In the projects sheets the `小计` label sits in the 项目名称 column (the "
            "5th), `合计` and `其中：…` in the first (merged across the label columns); in the funding "
            "sheets `小计` sits in the 资金来源 column, below the merged cells of its source; `合计` "
            "(agreements 2016–2020) and `总计` (sites) in the first. Category cells are merged over detail rows only, never over a total."
        ),
        (
            "- **Placeholders.** `X x XX — -- - / 无 暂无 待定` and empty cells in optional columns are NA; "
            "`0` (land of house-only projects) stays 0. 实际交房日期 `未交付` / `在建` means not delivered."
        ),
        (
            "- **Sheets matching no table:** `说明` (agreements 2016–2020 workbook) and `信访登记` "
            "(transition workbook); skip them with an `info`."
        ),
        (
            "- **Personal data:** 被征收人/户主/姓名, 身份证号/证件号码/身份证号码, 联系电话/手机 columns "
            "(fictitious) appear in agreements, transition and payments; none may reach any output."
        ),
        (
            "- **Comparing with the truth:** money within 0.01 yuan, areas within 1e-6 relative; row order "
            "is not part of the contract (sort by the key)."
        ),
        "",
    ]
    return "\n".join(lines)


def _where(where: list[str]) -> str:
    """``file / sheet`` entries grouped by file: `file` (sheet, sheet); `file`."""
    if not where:
        return "—"
    by_file: dict[str, list[str]] = defaultdict(list)
    for w in where:
        file, _, sheet = w.partition(" / ")
        if sheet:
            by_file[file].append(sheet)
        else:
            by_file.setdefault(file, [])
    parts = []
    for file in sorted(by_file):
        sheets = by_file[file]
        parts.append(f"`{file}`" + (f" ({', '.join(sheets)})" if sheets else ""))
    return "; ".join(parts)


def _data_row_counts(demo: _Demo) -> dict[tuple[str, str], int]:
    """Data rows per (file, sheet), counted from the truth rows plus the planted bad rows."""
    counts: Counter[tuple[str, str]] = Counter()
    for book in demo.books:
        for sh in book.sheets:
            if sh.name in ("说明", "信访登记"):
                continue
            counts[(book.name, sh.name)] = 0
    for out in demo.csvs:
        counts[(out.name, "")] = 0
    # count by scanning the rendered cells: rows with a non-empty 序号 number are data rows
    for book in demo.books:
        for sh in book.sheets:
            if (book.name, sh.name) not in counts:
                continue
            counts[(book.name, sh.name)] = sum(
                1 for (r, c), v in sh.cells.items() if c == 0 and isinstance(v, int) and r > 1
            )
    for out in demo.csvs:
        counts[(out.name, "")] = sum(1 for row in out.rows[2:] if len(row) > 1)
    return dict(counts)


# =================================================================================================
# Writers
# =================================================================================================
def _write_book(book: _Book, path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties(
        {
            "title": f"{Path(book.name).stem}（{SYNTHETIC_LABEL}）",
            "subject": "示例数据，非真实统计",
            "author": "zhengshou-analysis demo generator",
            "company": SYNTHETIC_LABEL,
            "comments": "Synthetic demo ledger written by zhengshou_analysis.demo; not real statistics.",
            "created": _CREATED,
        }
    )
    styles = {
        "title": wb.add_format(
            {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
        ),
        "line": wb.add_format({"align": "left"}),
        "header": wb.add_format(
            {
                "bold": True,
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
                "bg_color": "#DDEBF7",
            }
        ),
        "cell": wb.add_format({"align": "center", "valign": "vcenter"}),
    }
    date_formats: dict[str, object] = {}
    num_formats: dict[str, object] = {}
    for sh in book.sheets:
        ws = wb.add_worksheet(sh.name)
        for c, w in sorted(sh.widths.items()):
            ws.set_column(c, c, w)
        for r1, c1, r2, c2, value, style in sh.merges:
            ws.merge_range(r1, c1, r2, c2, value, styles[style])
        for (r, c), v in sorted(sh.cells.items()):
            if isinstance(v, _XDate):
                fmt = date_formats.setdefault(v.fmt, wb.add_format({"num_format": v.fmt}))
                ws.write_datetime(r, c, v.value, fmt)
            elif isinstance(v, _XNum):
                fmt = num_formats.setdefault(v.fmt, wb.add_format({"num_format": v.fmt}))
                ws.write_number(r, c, v.value, fmt)
            elif isinstance(v, str):
                ws.write_string(r, c, v, styles.get(sh.styles.get((r, c), "")))
            elif isinstance(v, (int, float)):
                ws.write_number(r, c, v)
            else:  # pragma: no cover - the renderers only produce the types above
                raise TypeError(f"cannot write {v!r}")
    wb.close()


def _write_csv(out: _Csv, path: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(out.rows)
    path.write_bytes(buf.getvalue().encode(out.encoding))


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _generate(seed: int) -> _Demo:
    return _generate_cached(_check_seed(seed))


@lru_cache(maxsize=4)
def _generate_cached(seed: int) -> _Demo:
    return _Demo(seed)


# =================================================================================================
# Public API
# =================================================================================================
def demo_truth(seed: int = 2021) -> dict[str, pd.DataFrame]:
    """The clean canonical tables a perfect cleaner recovers from the demo ledgers.

    Parameters
    ----------
    seed
        Generator seed (non-negative); the same seed gives the same district.

    Returns
    -------
    dict of str to pandas.DataFrame
        Six tables keyed ``projects, agreements, payments, funding, sites, transition``, with
        exactly the canonical columns of :mod:`zhengshou_analysis.schemas` (without ``origin``) and
        their dtypes, sorted by the table's key. Money in yuan (rounded to 0.01), areas in m² and
        亩, dates at day precision. ``site_id`` columns hold the normalised site *name* (the cleaner
        derives its own id from it). The planted bad rows of :func:`demo_expected_rejections` are
        not included.

    Raises
    ------
    ParameterError
        When ``seed`` is not a non-negative integer.
    """
    frames = _generate(seed).truth_frames()
    return {name: df.copy() for name, df in frames.items()}


def demo_expected_rejections(seed: int = 2021) -> pd.DataFrame:
    """The rows deliberately planted as bad in the demo ledgers.

    Parameters
    ----------
    seed
        Generator seed, as for :func:`demo_truth`.

    Returns
    -------
    pandas.DataFrame
        Columns ``file, sheet, row, table, reason``: the file name, the sheet name (for a CSV its
        file name without ``.csv``), the row a person sees (Excel row, or physical CSV line with the
        title line as 1), the canonical table the row was meant for and why a cleaner must reject
        it. ``f"{file}#{sheet}!{row}"`` is the row's ``origin`` (data contract §2).
    """
    rows = _generate(seed).rejections
    df = pd.DataFrame(rows, columns=["file", "sheet", "row", "table", "reason"])
    df = df.astype({"file": "str", "sheet": "str", "row": "int64", "table": "str", "reason": "str"})
    return df.sort_values(["table", "file", "sheet", "row"], kind="stable").reset_index(drop=True)


def write_demo_ledgers(out_dir: str | Path, *, seed: int = 2021) -> list[Path]:
    """Write the demo district as messy raw ledgers (xlsx and csv) and its README.

    The output is byte-for-byte reproducible: fixed workbook properties and zip timestamps,
    deterministic iteration, seeded generators only.

    Parameters
    ----------
    out_dir
        Folder to write into; created when missing. Files of the same names are overwritten, other
        files are left alone.
    seed
        Generator seed (non-negative).

    Returns
    -------
    list of pathlib.Path
        The files written, sorted by name.

    Raises
    ------
    ParameterError
        When ``seed`` is not a non-negative integer.
    """
    demo = _generate(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for book in demo.books:
        path = out / book.name
        _write_book(book, path)
        written.append(path)
    for sheet in demo.csvs:
        path = out / sheet.name
        _write_csv(sheet, path)
        written.append(path)
    readme = out / F_README
    readme.write_text(demo.readme, encoding="utf-8", newline="\n")
    written.append(readme)
    log.info("wrote %d demo files (%s) to %s", len(written), SYNTHETIC_LABEL, out)
    return sorted(written)


def demo_total_mismatch(seed: int = 2021) -> dict[str, object]:
    """Where the demo ledgers state the one deliberately wrong total.

    Parameters
    ----------
    seed
        Generator seed, as for :func:`demo_truth`.

    Returns
    -------
    dict
        ``file, sheet, row`` (the Excel row of the ``合计``), ``column`` (its header),
        ``canonical`` (the canonical column it totals), ``stated`` (the 亩 written in the cell) and
        ``detail_sum`` (what the detail rows add up to).

    Raises
    ------
    ParameterError
        When ``seed`` is not a non-negative integer.
    """
    return dict(_generate(seed).mismatch)


def clear_demo_cache() -> None:
    """Forget the districts drawn so far, so that the next call draws its district again."""
    _generate_cached.cache_clear()
