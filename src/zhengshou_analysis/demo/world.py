"""The world model of the demo district: its plan (:class:`DemoConfig`) and its entities.

The entities (sites, projects, agreements, transition households, payments, inflows) are drawn by
:func:`.draw.build_world`; nothing here knows how the ledgers are written, the renderers in
:mod:`.ledgers` read the world.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "DEFAULT_CONFIG",
    "Agreement",
    "DemoConfig",
    "Household",
    "Inflow",
    "Payment",
    "Person",
    "Project",
    "Site",
    "SitePlan",
    "World",
]

T = TypeVar("T")


def _view(mapping: dict) -> Any:
    """A dataclass field defaulting to a read-only view of ``mapping``."""
    return field(default_factory=lambda: MappingProxyType(mapping))


# =================================================================================================
# The plan
# =================================================================================================
@dataclass(frozen=True)
class SitePlan:
    """One resettlement site by design: its fate is fixed, its exact dates are drawn."""

    name: str  #: as written in the site ledger
    zone: str
    start: tuple[int, int]  #: (year, month) construction starts
    months: int  #: promised duration
    fate: str  #: ``on_time``, ``late`` or ``open`` (not delivered)
    delay: tuple[int, int] | None = None  #: months late after the promised date (late sites)


_ZONES = ("贵城片区", "港城片区", "城区外围片区")

_SITE_PLAN = (
    SitePlan("南江安置区", "港城片区", (2015, 8), 24, "on_time"),
    SitePlan("金港安置区", "港城片区", (2016, 1), 30, "on_time"),
    SitePlan("蓝田安置区", "贵城片区", (2016, 3), 30, "open"),
    SitePlan("堤路园(二)A安置区", "港城片区", (2016, 9), 36, "late", (30, 36)),
    SitePlan("文华雅苑", "贵城片区", (2017, 5), 24, "open"),
    SitePlan("三合安置区", "城区外围片区", (2017, 11), 36, "late", (10, 15)),
    SitePlan("白凹窝安置区", "城区外围片区", (2018, 4), 30, "open"),
    SitePlan("荷塘雅苑", "贵城片区", (2018, 10), 24, "late", (8, 12)),
    SitePlan("石羊塘安置区", "城区外围片区", (2019, 2), 30, "late", (10, 14)),
    SitePlan("东湖安置区", "贵城片区", (2019, 6), 24, "on_time"),
    SitePlan("西江新村安置区", "港城片区", (2020, 3), 30, "open"),
    SitePlan("城北安置区", "城区外围片区", (2021, 4), 36, "open"),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_PLACES = {
    "贵城片区": _words("蓝田 荷城 贵城东路 中山路 江北 城东 南山 东湖 大新路 登龙桥"),
    "港城片区": _words("港北 罗泊湾 南江 西江 堤路园 金港 沿江 北环 港城 猫儿山"),
    "城区外围片区": _words("三合 白凹窝 石卡 大圩 根竹 奇石 庆丰 中里 石羊塘 东津"),
}
_SUFFIXES = {
    "交通": ("大道（东段）道路工程", "快速路", "大桥接线工程", "互通立交工程", "道路改扩建工程"),
    "文旅": ("历史文化街区", "滨江公园", "文旅小镇", "湿地公园"),
    "产业园区": ("产业园（一期）", "产业园（二期）", "物流园", "工业集中区"),
    "民生": ("中学", "小学", "医院（新院区）", "污水处理厂", "农贸市场"),
    "商住": ("片区改造", "地块", "城中村改造", "旧城改造"),
}
_CITY_AND_DISTRICT = ("贵城片区", "港城片区")
_PORT_AND_OUTER = ("港城片区", "城区外围片区")
_BLOCKER_PLAN = (
    *[("公建单位", _CITY_AND_DISTRICT)] * 4,
    *[("军事用地", _ZONES)] * 2,
    *[("双高糖料蔗基地", ("城区外围片区",))] * 3,
    *[("留用地", _PORT_AND_OUTER)] * 3,
    *[("资金", _ZONES)] * 2,
)
_BLOCKER_NOTE = {
    "公建单位": "涉及公建单位（学校、电力设施）{n}家，产权单位未同意搬迁",
    "军事用地": "涉及军事用地，需报上级军事机关审批",
    "双高糖料蔗基地": "涉及双高糖料蔗基地调整，调整手续未批复",
    "留用地": "村集体留用地未落实，群众阻工",
    "资金": "征拆资金未足额到位，已签协议待支付",
}


_BY_SECTOR = ("交通", "文旅", "产业园区", "民生", "商住")


def _by_sector(*values: float) -> dict[str, float]:
    return dict(zip(_BY_SECTOR, values, strict=True))


def _by_zone(*values: object) -> dict[str, object]:
    return dict(zip(_ZONES, values, strict=True))


def _by_year(*values: float) -> dict[int, float]:
    return dict(zip(range(2016, 2023), values, strict=True))


@dataclass(frozen=True)
class DemoConfig:
    """The district-level constants of the demo: names, plan, years, seasons and prices.

    The defaults are the one demo district (a Guigang district as of 2022-12-31). Mappings are
    read-only views, so an instance cannot be changed after it is made.
    """

    district: str = "XX区"  #: how the ledger titles name the district
    zones: tuple[str, ...] = _ZONES  #: the 片区, in ledger order
    zone_short: Mapping[str, str] = _view(_by_zone("贵城", "港城", "外围"))
    zone_prefix: Mapping[str, str] = _view(_by_zone("GC", "GK", "WW"))  #: of agreement ids
    projects_per_zone: Mapping[str, int] = _view(_by_zone(22, 20, 18))
    places: Mapping[str, tuple[str, ...]] = _view(_PLACES)  #: of project names
    site_plan: tuple[SitePlan, ...] = _SITE_PLAN
    # years
    first_year: int = 2016  #: first year of agreements, payments and funding
    report_years: tuple[int, ...] = (2019, 2020, 2021, 2022)  #: years of the project sheets
    as_of: date = date(2022, 12, 31)  #: nothing after this date exists in the ledgers
    start_year_p: tuple[float, ...] = (0.08, 0.1, 0.14, 0.2, 0.18, 0.17, 0.13)  #: project starts
    last_year_with_terms: int = 2020  #: agreements signed later state no payment term
    # projects
    sectors: tuple[str, ...] = _BY_SECTOR
    sector_p: tuple[float, ...] = (0.25, 0.12, 0.20, 0.23, 0.20)
    suffixes: Mapping[str, tuple[str, ...]] = _view(_SUFFIXES)  #: of project names
    land_p: Mapping[str, float] = _view(_by_sector(0.9, 0.7, 0.95, 0.5, 0.4))  #: has land
    house_p: Mapping[str, float] = _view(_by_sector(0.75, 0.7, 0.45, 0.95, 1.0))  #: has houses
    blocker_plan: tuple[tuple[str, tuple[str, ...]], ...] = _BLOCKER_PLAN  #: (blocker, zones)
    blocker_note: Mapping[str, str] = _view(_BLOCKER_NOTE)
    # agreements
    swap_p: Mapping[str, float] = _view(_by_sector(0.3, 0.3, 0.3, 0.4, 0.45))  #: 产权调换
    price: Mapping[str, float] = _view(_by_zone(4800.0, 4200.0, 2800.0))  #: 元/m²
    surnames: str = "张王李刘陈杨黄赵周吴徐孙梁覃韦莫蒙潘卢邓甘农陆罗"
    given_names: str = "华明丽军芳强敏静杰娟勇艳涛霞平刚桂秀兰英"
    # payments: mean delays in days and the chance of a missed fee payment, by due year
    comp_delay: Mapping[int, float] = _view(_by_year(20, 25, 40, 75, 120, 180, 200))
    fee_delay: Mapping[int, float] = _view(_by_year(10, 12, 20, 35, 60, 90, 110))
    fee_skip: Mapping[int, float] = _view(_by_year(0.02, 0.02, 0.03, 0.05, 0.10, 0.15, 0.20))
    # funding
    sources: tuple[str, ...] = ("市财政", "区财政", "专项债券", "上级补助资金", "土地出让收入")
    source_share: Mapping[str, float] = _view(
        {
            "市财政": 0.30,
            "区财政": 0.20,
            "专项债券": 0.25,
            "上级补助资金": 0.10,
            "土地出让收入": 0.15,
        }
    )
    seasonal: tuple[float, ...] = (0.6, 0.6, 0.8, 0.8, 0.9, 1.0, 0.9, 0.9, 1.0, 1.1, 1.3, 2.5)
    opening_balance_wan: float = 500.0  #: extra inflow of the first year (万元)
    #: each year's inflow as a share of that year's payments (drawn uniformly in the range): below
    #: 1 the funds fall short year after year
    inflow_ratio: tuple[float, float] = (0.96, 1.04)
    # identity
    project_prefix: str = "GG"  #: of project ids (``GG-2019-001``)
    #: the command that writes the ledgers, as the README quotes it (``{seed}``: the seed)
    command: str = "zhengshou demo-data data/demo --seed {seed}"
    #: where the names come from, as the README says it
    names_note: str = (
        "Names follow the 2021 work summary of a Guigang district (the three 片区, resettlement sites "
        "蓝田安置区, 文华雅苑, 堤路园(二)A安置区, 白凹窝安置区, 三合安置区, the blockers of the last mile); "
    )

    @property
    def last_year(self) -> int:
        """The year of :attr:`as_of`."""
        return self.as_of.year


DEFAULT_CONFIG = DemoConfig()


# =================================================================================================
# Small helpers
# =================================================================================================
def component_rng(seed: int, part: str) -> np.random.Generator:
    """The generator of one component: seeded with ``[seed, crc32(part)]``."""
    return np.random.default_rng([seed, zlib.crc32(part.encode("utf-8"))])


def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One of ``options``, uniformly (one draw of ``rng.integers``)."""
    return options[int(rng.integers(len(options)))]


def nfkc(text: str) -> str:
    """``text`` NFKC-normalised and stripped."""
    return unicodedata.normalize("NFKC", text).strip()


def site_key(name: str) -> str:
    """The truth's site_id: the site name, NFKC-normalised, spaces removed."""
    return unicodedata.normalize("NFKC", name).replace(" ", "").strip()


def add_months(d: date, n: int) -> date:
    """``d`` plus ``n`` calendar months (the day clipped to the month's last day)."""
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


def months_started(a: date, b: date) -> int:
    """Scalar of :func:`periods.months_between` (started calendar months from a to b)."""
    return max(12 * (b.year - a.year) + (b.month - a.month) + (1 if b.day >= a.day else 0), 0)


def workday(d: date) -> date:
    """The next working day on or after ``d`` (weekends and 1 January are skipped)."""
    while d.weekday() >= 5 or (d.month, d.day) == (1, 1):
        d += timedelta(days=1)
    return d


# =================================================================================================
# Entities
# =================================================================================================
@dataclass
class Site:
    """A resettlement site (安置区); ``delivered`` is None while not delivered."""

    name: str
    zone: str
    start: date
    promised: date
    delivered: date | None
    units: int | None
    progress: float
    key: str = ""


@dataclass
class Project:
    """An expropriation project with cumulative land and house progress at each year end."""

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
    blocker_note: str = ""
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
            return self.blocker_note
        done_land = not self.has_land or self.land_done[year] >= (self.land_target or 0)
        done_house = not self.has_house or self.house_done[year] >= (self.house_target or 0)
        if done_land and done_house:
            return "已完成征收任务"
        return None


@dataclass
class Person:
    """A fictitious person: ID numbers start with 999, phone numbers with 100."""

    name: str
    idno: str
    phone: str


@dataclass
class Agreement:
    """A compensation agreement (征收补偿协议) of one household."""

    project: Project
    signed: date
    mode: str
    area: float
    comp: int
    site: Site | None
    person: Person
    aid: str = ""
    due: date | None = None
    term: int = 30


@dataclass
class Household:
    """A 产权调换 household in transition, and how its ledger row shows it."""

    ag: Agreement
    site: Site
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
class Payment:
    """One payment out of the office (补偿款, 过渡安置费 or 工作经费)."""

    date: date
    kind: str
    amount: float
    ag: Agreement | None
    project: Project | None
    pid: str = ""


@dataclass
class Inflow:
    """One inflow of funds (万元)."""

    date: date
    source: str
    amount_wan: float
    project: Project | None


@dataclass
class World:
    """The drawn district: every entity, in the order the renderers read them."""

    config: DemoConfig
    seed: int
    sites: list[Site] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    inflows: list[Inflow] = field(default_factory=list)
    #: the last agreement number per (zone prefix, signing year)
    agreement_seq: Counter[tuple[str, int]] = field(default_factory=Counter)
