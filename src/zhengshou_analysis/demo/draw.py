"""Drawing the demo world: one seeded step per component, in a fixed order.

:func:`build_world` draws sites, projects, agreements, transition households, payments and funding
inflows, each component from its own generator (:func:`~.world.component_rng`), so a change to one
component leaves the others' draws alone. Within a component the draws happen in a fixed sequence:
moving a draw changes every later value of that component.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

import numpy as np

from ..settings import DEFAULT_PAYMENT_TERM_DAYS
from .world import (
    DEFAULT_CONFIG,
    Agreement,
    DemoConfig,
    Household,
    Inflow,
    Payment,
    Person,
    Project,
    Site,
    World,
    add_months,
    component_rng,
    months_started,
    pick,
    site_key,
    workday,
)

__all__ = ["build_world", "draw_person"]


def build_world(seed: int, config: DemoConfig = DEFAULT_CONFIG) -> World:
    """Draw the district of ``seed``.

    Parameters
    ----------
    seed
        Non-negative generator seed.
    config
        The district's plan and constants.

    Returns
    -------
    World
        Sites, projects, agreements, transition households, payments and inflows.
    """
    world = World(config, seed)
    world.sites = _draw_sites(component_rng(seed, "sites"), config)
    world.projects = _draw_projects(component_rng(seed, "projects"), config)
    _draw_agreements(component_rng(seed, "agreements"), world)
    world.households = _draw_households(component_rng(seed, "transition"), world)
    world.payments = _draw_payments(component_rng(seed, "payments"), world)
    world.inflows = _draw_funding(component_rng(seed, "funding"), world)
    return world


# =================================================================================================
# Draw: sites
# =================================================================================================
def _draw_sites(rng: np.random.Generator, cfg: DemoConfig) -> list[Site]:
    sites: list[Site] = []
    for plan in cfg.site_plan:
        start = date(*plan.start, int(rng.integers(1, 29)))
        promised = add_months(start, plan.months)
        delivered: date | None = None
        if plan.fate == "on_time":
            delivered = promised + timedelta(days=int(rng.integers(-45, 46)))
        elif plan.fate == "late" and plan.delay is not None:
            lo, hi = plan.delay
            delivered = promised + timedelta(days=int(rng.integers(lo * 30, hi * 30)))
        if delivered is not None:
            delivered = min(delivered, cfg.as_of - timedelta(days=20))
        units = int(rng.integers(40, 151)) * 10
        progress = 1.0 if delivered else round(float(rng.uniform(0.35, 0.95)), 2)
        sites.append(
            Site(
                plan.name,
                plan.zone,
                start,
                promised,
                delivered,
                units,
                progress,
                site_key(plan.name),
            )
        )
    # the newest site has no fixed number of flats yet
    sites[-1].units = None
    sites[-1].progress = 0.3
    return sites


# =================================================================================================
# Draw: projects
# =================================================================================================
def _draw_projects(rng: np.random.Generator, cfg: DemoConfig) -> list[Project]:
    used: set[str] = set()
    projects = [
        _draw_project(rng, cfg, zone, used)
        for zone in cfg.zones
        for _ in range(cfg.projects_per_zone[zone])
    ]
    projects.sort(key=lambda p: (p.start_year, cfg.zones.index(p.zone), p.name))
    per_year: Counter[int] = Counter()
    for p in projects:
        per_year[p.start_year] += 1
        p.pid = f"{cfg.project_prefix}-{p.start_year}-{per_year[p.start_year]:03d}"
    _assign_blockers(rng, cfg, projects)
    for p in projects:
        _draw_land_progress(rng, cfg, p)
    return projects


def _draw_project(rng: np.random.Generator, cfg: DemoConfig, zone: str, used: set[str]) -> Project:
    sector = cfg.sectors[int(rng.choice(len(cfg.sectors), p=cfg.sector_p))]
    while True:
        place = pick(rng, cfg.places[zone])
        suffix = pick(rng, cfg.suffixes[sector])
        name = f"{place}{suffix}项目"
        if name not in used:
            break
    used.add(name)
    years = np.arange(cfg.first_year, cfg.last_year + 1)
    start_year = int(rng.choice(years, p=cfg.start_year_p))
    dur = int(rng.integers(2, 6))
    plan_end = max(start_year + dur - 1, cfg.report_years[0])
    start = date(start_year, int(rng.integers(1, 10)), int(rng.integers(1, 29)))
    has_land = bool(rng.random() < cfg.land_p[sector])
    has_house = bool(rng.random() < cfg.house_p[sector])
    if not (has_land or has_house):
        has_house = True
    land = rng.lognormal(np.log(150), 0.8)
    land_target = round(float(np.clip(land, 15, 900)), 2) if has_land else None
    category = "市下达" if rng.random() < 0.55 else "区统筹"
    return Project(name, zone, category, sector, start, plan_end, has_land, has_house, land_target)


def _assign_blockers(rng: np.random.Generator, cfg: DemoConfig, projects: list[Project]) -> None:
    """The last mile: the planned blockers, each on a random project of its zones."""
    latest_start = cfg.last_year - 1
    for blocker, zones_ok in cfg.blocker_plan:
        cands = [
            p
            for p in projects
            if p.blocker is None
            and p.zone in zones_ok
            and p.start_year <= latest_start
            and (p.has_land or blocker == "资金")
        ]
        if not cands:  # pragma: no cover - the plan always finds one with the default sizes
            cands = [p for p in projects if p.blocker is None and p.start_year <= latest_start]
        p = cands[int(rng.integers(len(cands)))]
        p.blocker = blocker
        first = max(p.start_year + 1, cfg.report_years[0])
        p.blocked_from = int(rng.integers(first, cfg.last_year + 1))
        p.block_share = float(rng.uniform(0.05, 0.3))
        p.plan_end = max(p.plan_end, p.blocked_from)
        p.blocker_note = cfg.blocker_note[blocker].format(n=int(rng.integers(1, 5)))


def _draw_land_progress(rng: np.random.Generator, cfg: DemoConfig, p: Project) -> None:
    """Cumulative land done at each year end (stalled when blocked); the years of its rows."""
    dur = p.plan_end - p.start_year + 1
    prev = 0.0
    cap = None
    for y in range(p.start_year, cfg.last_year + 1):
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
    last_row = cfg.last_year if p.blocker else min(p.plan_end, cfg.last_year)
    p.row_years = list(range(max(p.start_year, cfg.report_years[0]), last_row + 1))


# =================================================================================================
# Draw: agreements
# =================================================================================================
def draw_person(rng: np.random.Generator, cfg: DemoConfig = DEFAULT_CONFIG) -> Person:
    """A fictitious person: name ``X某Y``, ID number ``999…``, phone number ``100…``."""
    name = pick(rng, cfg.surnames) + "某" + pick(rng, cfg.given_names)
    birth = date(1940, 1, 1) + timedelta(days=int(rng.integers(0, 22000)))
    check = "X" if rng.random() < 0.1 else str(int(rng.integers(0, 10)))
    idno = (
        f"999{int(rng.integers(0, 1000)):03d}{birth:%Y%m%d}{int(rng.integers(0, 1000)):03d}{check}"
    )
    phone = f"100{int(rng.integers(0, 10**8)):08d}"
    return Person(name, idno, phone)


def _draw_agreements(rng: np.random.Generator, world: World) -> None:
    cfg = world.config
    agreements: list[Agreement] = []
    site_load: Counter[str] = Counter()
    for p in world.projects:
        mine = _draw_project_agreements(rng, world, p, site_load) if p.has_house else []
        for y in range(p.start_year, cfg.last_year + 1):
            end = date(y, 12, 31)
            p.house_done[y] = float(round(sum(a.area for a in mine if a.signed <= end)))
        agreements += mine
    agreements.sort(
        key=lambda a: (cfg.zones.index(a.project.zone), a.signed, a.project.pid, a.area)
    )
    world.agreement_seq = _number_agreements(rng, cfg, agreements)
    world.agreements = sorted(agreements, key=lambda a: a.aid)


def _draw_project_agreements(
    rng: np.random.Generator, world: World, p: Project, site_load: Counter[str]
) -> list[Agreement]:
    """The households of a house project, signed over its life; sets its house target."""
    cfg = world.config
    c = float(rng.uniform(0.7, 0.88) if p.blocker else rng.uniform(0.9, 1.0))
    t_target = float(np.clip(rng.lognormal(np.log(10000), 0.7), 1500, 60000))
    n = max(4, round(c * t_target / 165))
    areas = np.round(np.clip(rng.lognormal(np.log(150), 0.45, size=n), 40, 600), 2)
    p.house_target = float(max(round(float(areas.sum()) / c, -2), 100.0))
    span = (date(p.plan_end, 11, 30) - p.start).days
    u = rng.beta(1.4, 1.6, size=n)
    out: list[Agreement] = []
    for area, ui in zip(areas, u, strict=True):
        signed = p.start + timedelta(days=int(ui * span))
        person = draw_person(rng, cfg)
        swap_draw = rng.random()
        site_draw = rng.random()
        price = cfg.price[p.zone] * float(rng.uniform(0.85, 1.15))
        value = float(area) * price * float(rng.uniform(1.05, 1.25))
        swap_share = float(rng.uniform(0.12, 0.3))
        if signed > cfg.as_of:
            continue
        site = None
        if swap_draw < cfg.swap_p[p.sector]:
            site = _resettlement_site(world.sites, p.zone, signed, site_draw, site_load)
        mode = "产权调换" if site else "货币补偿"
        comp = max(round(value * (swap_share if site else 1.0)), 20000)
        out.append(Agreement(p, signed, mode, float(area), int(comp), site, person))
    return out


def _resettlement_site(
    sites: list[Site], zone: str, signed: date, draw: float, load: Counter[str]
) -> Site | None:
    """A site of ``zone`` under construction and not about to be delivered, with flats left."""
    eligible = [
        s
        for s in sites
        if s.zone == zone
        and s.start <= signed + timedelta(days=180)
        and (s.delivered is None or s.delivered >= signed + timedelta(days=150))
        and (s.units is None or load[s.key] < 0.9 * s.units)
    ]
    if not eligible:
        return None
    site = eligible[min(int(draw * len(eligible)), len(eligible) - 1)]
    load[site.key] += 1
    return site


def _number_agreements(
    rng: np.random.Generator, cfg: DemoConfig, agreements: list[Agreement]
) -> Counter[tuple[str, int]]:
    """Number per zone and signing year; draw the stated payment terms; return the counters."""
    seq: Counter[tuple[str, int]] = Counter()
    for a in agreements:
        prefix = cfg.zone_prefix[a.project.zone]
        seq[(prefix, a.signed.year)] += 1
        a.aid = f"{prefix}-{a.signed.year}-{seq[(prefix, a.signed.year)]:04d}"
        if a.signed.year <= cfg.last_year_with_terms:
            a.term = int(rng.choice([30, 30, 60, 90, 180]))
            a.due = a.signed + timedelta(days=a.term)
        else:
            a.due = a.signed + timedelta(days=DEFAULT_PAYMENT_TERM_DAYS)
    return seq


# =================================================================================================
# Draw: transition households
# =================================================================================================
def _fee_basis(basis_draw: float, rate_draw: float) -> tuple[str, float]:
    """per_m2 (70 %), per_household (15 %) or per_person (15 %), and its monthly rate."""
    if basis_draw < 0.7:
        return "per_m2", (8.0, 9.0, 10.0, 12.0, 12.5, 15.0)[int(rate_draw * 6)]
    if basis_draw < 0.85:
        return "per_household", (800.0, 1000.0, 1200.0, 1500.0)[int(rate_draw * 4)]
    return "per_person", (300.0, 350.0, 400.0, 500.0)[int(rate_draw * 4)]


def _draw_households(rng: np.random.Generator, world: World) -> list[Household]:
    cfg = world.config
    households: list[Household] = []
    for a in world.agreements:
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
        if start > cfg.as_of:
            continue
        end = None
        if a.site.delivered is not None:
            end = a.site.delivered + timedelta(days=end_lag)
            if end > cfg.as_of:
                end = None
        basis, rate = _fee_basis(basis_draw, rate_draw)
        if basis == "per_m2" and t3_draw >= 0.1:
            sheet = "T1" if a.signed.year <= cfg.last_year_with_terms else "T2"
        else:
            sheet = "T3"
        households.append(
            Household(a, a.site, start, end, basis, rate, persons, a.area, agreed, period, sheet)
        )
    # two households whose ledger rows are wrong (not in the truth, no fee payments)
    t3 = [h for h in households if h.sheet == "T3" and h.basis == "per_household"]
    picks = rng.choice(len(t3), size=2, replace=False)
    t3[int(picks[0])].bad = "end_before_start"
    t3[int(picks[1])].bad = "bad_basis"
    for h in households:
        h.persons_shown = h.sheet == "T3" and (h.basis == "per_person" or rng.random() < 0.5)
        h.area_shown = h.sheet != "T3" or h.basis == "per_m2" or rng.random() < 0.5
    return households


# =================================================================================================
# Draw: payments
# =================================================================================================
_KIND_ORDER = {"补偿款": 0, "过渡安置费": 1, "工作经费": 2}


def _draw_payments(rng: np.random.Generator, world: World) -> list[Payment]:
    pays = _compensation_payments(rng, world)
    pays += _fee_payments(rng, world)
    pays += _work_fund_payments(rng, world)
    pays.sort(
        key=lambda x: (
            x.date,
            _KIND_ORDER[x.kind],
            x.ag.aid if x.ag else "",
            x.project.pid if x.project else "",
            x.amount,
        )
    )
    seq: Counter[int] = Counter()
    for x in pays:
        seq[x.date.year] += 1
        x.pid = f"ZF{x.date.year}-{seq[x.date.year]:05d}"
    return pays


def _compensation_payments(rng: np.random.Generator, world: World) -> list[Payment]:
    """1–3 tranches per agreement, late by a delay growing by year; 20 % are paid short."""
    cfg = world.config
    pays: list[Payment] = []
    for a in world.agreements:
        due = a.due or a.signed + timedelta(days=30)
        n = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
        shares = np.sort(rng.dirichlet([3.0] * n))[::-1]
        mean = cfg.comp_delay[min(due.year, cfg.last_year)]
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
            d = workday(d)
            if d > cfg.as_of:
                break
            pays.append(Payment(d, "补偿款", float(amt), a, a.project))
    return pays


def _fee_payments(rng: np.random.Generator, world: World) -> list[Payment]:
    """Transitional fees, monthly or quarterly in advance, late and sometimes missed."""
    cfg = world.config
    pays: list[Payment] = []
    for h in world.households:
        if h.bad:
            continue
        units = h.area if h.basis == "per_m2" else h.persons if h.basis == "per_person" else 1
        base = h.rate * units
        total = months_started(h.start, h.end or cfg.as_of)
        k = 1
        while k <= total:
            m = min(h.period, total - k + 1)
            due = add_months(h.start, k - 1)
            delay = int(rng.gamma(2.0, cfg.fee_delay[due.year] / 2.0))
            skip = rng.random() < cfg.fee_skip[due.year]
            paid = workday(due + timedelta(days=delay))
            if paid <= cfg.as_of and not skip:
                pays.append(Payment(paid, "过渡安置费", round(base * m, 2), h.ag, h.ag.project))
            k += m
    return pays


def _work_fund_payments(rng: np.random.Generator, world: World) -> list[Payment]:
    """工作经费 each quarter per zone; 30 % tied to an active project of the zone."""
    cfg = world.config
    pays: list[Payment] = []
    for year in range(cfg.first_year, cfg.last_year + 1):
        for q in range(4):
            for zone in cfg.zones:
                d = workday(date(year, 3 * q + 2, int(rng.integers(1, 27))))
                amount = float(round(rng.uniform(8, 40) * 100) * 100)
                tied = rng.random() < 0.3
                active = [
                    p
                    for p in world.projects
                    if p.zone == zone and p.start_year <= year <= p.plan_end
                ]
                pick_at = int(rng.integers(0, max(len(active), 1)))
                project = active[pick_at] if tied and active else None
                if d <= cfg.as_of:
                    pays.append(Payment(d, "工作经费", amount, None, project))
    return pays


# =================================================================================================
# Draw: funding
# =================================================================================================
def _draw_funding(rng: np.random.Generator, world: World) -> list[Inflow]:
    """Each year's inflow is ``inflow_ratio`` (0.96–1.04) × its payments, split over the sources with noisy shares."""
    cfg = world.config
    paid_by_year: defaultdict[int, float] = defaultdict(float)
    for x in world.payments:
        paid_by_year[x.date.year] += x.amount
    inflows: list[Inflow] = []
    for year in range(cfg.first_year, cfg.last_year + 1):
        total = paid_by_year[year] * float(rng.uniform(*cfg.inflow_ratio))
        if year == cfg.first_year:
            total += cfg.opening_balance_wan * 1e4
        shares = {k: v * float(rng.gamma(8.0, 1 / 8.0)) for k, v in cfg.source_share.items()}
        if year < cfg.report_years[0]:
            shares["专项债券"] = 0.0
        norm = sum(shares.values())
        active = [p for p in world.projects if p.start_year <= year <= p.plan_end and p.has_land]
        for source in cfg.sources:
            share = shares[source] / norm
            if share == 0:
                continue
            inflows += _source_inflows(rng, cfg, year, source, total * share, active)
    return inflows


def _inflow_months(rng: np.random.Generator, source: str) -> list[int]:
    """The months a source pays in: monthly, quarterly, in lumps or on fixed months."""
    if source == "市财政":
        size = int(rng.integers(8, 13))
        return sorted(int(m) for m in rng.choice(np.arange(1, 13), size=size, replace=False))
    if source == "区财政":
        return [1, 4, 7, 10]
    if source == "专项债券":
        size = int(rng.integers(1, 3))
        return sorted(int(m) for m in rng.choice(np.arange(3, 12), size=size, replace=False))
    if source == "上级补助资金":
        return sorted(int(m) for m in rng.choice(np.arange(2, 12), size=2, replace=False))
    return [6, 11, 12]


def _source_inflows(
    rng: np.random.Generator,
    cfg: DemoConfig,
    year: int,
    source: str,
    amount: float,
    active: list[Project],
) -> list[Inflow]:
    """The inflows of one source in one year, weighted by season; bonds name a project."""
    months = _inflow_months(rng, source)
    seasonal = np.array([cfg.seasonal[m - 1] for m in months])
    weights = seasonal * rng.gamma(4.0, 0.25, size=len(months))
    if source == "土地出让收入":
        weights = weights * np.array([0.4, 0.8, 1.6])
    weights = weights / weights.sum()
    out: list[Inflow] = []
    for m, w in zip(months, weights, strict=True):
        day = int(rng.integers(1, 27))
        tie = rng.random()
        pick_at = int(rng.integers(0, max(len(active), 1)))
        amount_wan = max(round(amount * float(w) / 1e4, 2), 1.0)
        project = None
        if (source == "专项债券" or (source == "上级补助资金" and tie < 0.5)) and active:
            project = active[pick_at]
        out.append(Inflow(workday(date(year, m, day)), source, amount_wan, project))
    return out
