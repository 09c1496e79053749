"""A demo city (示例数据（模拟）): several synthetic districts, each a raw folder with its profile.

``zhengshou demo-data --districts 3 OUT`` writes ``OUT/<folder>/`` for the first three districts of
:data:`DEMO_DISTRICTS`, each with its ledgers, its README and its ``zhengshou.toml`` naming the
office, and ``OUT/README.md`` listing them. ``OUT`` is then a *data root*
(:mod:`zhengshou_analysis.report.districts`): ``zhengshou batch --data OUT`` reports every district
and the city view.

The districts differ by design, not only by seed: names, 片区 (with their own short names, so each
profile's ``[zones]`` aliases are exercised), the number of projects, their resettlement sites and
how late those are, compensation prices, how late payments are and how short the funds fall
(``DemoConfig.inflow_ratio``: the share of each year's payments that arrives as funds). District
``k`` (1-based) draws with ``seed + k``. Every name is invented; every file is labelled
示例数据（模拟）; the same command writes the same bytes.

The one-district demo (``data/demo``, :data:`~.world.DEFAULT_CONFIG`) is not among them: its
bytes stay as they are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..exceptions import ParameterError
from .api import write_demo_ledgers
from .ledgers.common import SYNTHETIC_LABEL
from .world import DemoConfig, SitePlan

__all__ = ["DEMO_DISTRICTS", "DemoDistrict", "write_demo_districts"]

log = logging.getLogger("zhengshou_analysis.demo")


@dataclass(frozen=True)
class DemoDistrict:
    """One district of the demo city: its folder name (ASCII, from code) and its plan."""

    folder: str
    config: DemoConfig


def _ro(mapping: dict) -> Any:
    return MappingProxyType(mapping)


def _zoned(zones: tuple[str, ...], *values: object) -> Any:
    return _ro(dict(zip(zones, values, strict=True)))


def _yearly(*values: float) -> Any:
    return _ro(dict(zip(range(2016, 2023), values, strict=True)))


def _district(
    *,
    name: str,
    prefix: str,
    zones: tuple[str, ...],
    short: tuple[str, ...],
    codes: tuple[str, ...],
    projects: tuple[int, ...],
    places: tuple[str, ...],
    sites: tuple[SitePlan, ...],
    blockers: tuple[tuple[str, tuple[int, ...]], ...],
    price: tuple[float, ...],
    **rest: Any,
) -> DemoConfig:
    """A district's plan, one value per zone (in the order of ``zones``) where it is a tuple.

    Parameters
    ----------
    name
        The district (``青溪区``).
    prefix
        Of its project ids (``QX-2019-001``).
    zones, short, codes
        Its 片区, their short names (the profile's ``[zones]`` aliases) and the codes of their
        agreement ids.
    projects
        Projects per zone.
    places
        Per zone, the place names of its projects, space-separated.
    sites
        The resettlement sites.
    blockers
        Each blocker of the "last mile" with the indices (into ``zones``) of its zones.
    price
        Compensation price per zone (元/m²).
    **rest
        Any other field of :class:`~.world.DemoConfig` (``inflow_ratio``, payment delays, …).
    """
    return DemoConfig(
        district=name,
        zones=zones,
        zone_short=_zoned(zones, *short),
        zone_prefix=_zoned(zones, *codes),
        projects_per_zone=_zoned(zones, *projects),
        places=_zoned(zones, *(tuple(p.split()) for p in places)),
        site_plan=sites,
        blocker_plan=tuple((b, tuple(zones[i] for i in ix)) for b, ix in blockers),
        price=_zoned(zones, *price),
        project_prefix=prefix,
        names_note=(
            f"Names are invented: a fictitious district {name} of the demo city (its 片区 "
            f"{'、'.join(zones)} and its resettlement sites); "
        ),
        **rest,
    )


_QX = ("老城片区", "青溪新区片区", "北部片区")
_YL = ("云岭镇片区", "东坡片区", "工业园片区")
_GW = ("桂湾片区", "滨海片区", "临港片区")
_SM = ("石门片区", "河东片区", "南山片区")
_NP = ("南屏片区", "西岸片区", "高铁新城片区")

#: The districts of the demo city, in the order ``--districts N`` takes them.
DEMO_DISTRICTS: tuple[DemoDistrict, ...] = (
    DemoDistrict(
        "qingxi",
        _district(
            name="青溪区",
            prefix="QX",
            zones=_QX,
            short=("老城", "新区", "北部"),
            codes=("LC", "XQ", "BB"),
            projects=(12, 10, 8),
            places=(
                "鼓楼 文昌 钟山 东门 西门 青石 书院 府前",
                "青溪 湖滨 云谷 新华 望江 金湾 翠园 会展",
                "北山 大岭 黄竹 横塘 石桥 马岭 双龙 长岗",
            ),
            sites=(
                SitePlan("鼓楼安置区", _QX[0], (2016, 2), 24, "on_time"),
                SitePlan("文昌苑(一期)", _QX[0], (2016, 10), 30, "open"),
                SitePlan("湖滨安置区", _QX[1], (2017, 4), 30, "late", (12, 18)),
                SitePlan("会展新村", _QX[1], (2018, 6), 24, "on_time"),
                SitePlan("北山安置区", _QX[2], (2018, 9), 36, "open"),
                SitePlan("横塘安置区", _QX[2], (2019, 8), 30, "late", (6, 10)),
                SitePlan("翠园安置区", _QX[1], (2021, 3), 30, "open"),
            ),
            blockers=(
                ("公建单位", (0, 1)),
                ("公建单位", (0,)),
                ("军事用地", (2,)),
                ("留用地", (1, 2)),
                ("资金", (0, 1, 2)),
            ),
            price=(5200.0, 4500.0, 3000.0),
            inflow_ratio=(0.94, 1.02),
        ),
    ),
    DemoDistrict(
        "yunling",
        _district(
            name="云岭区",
            prefix="YL",
            zones=_YL,
            short=("云岭", "东坡", "园区"),
            codes=("YL", "DP", "GY"),
            projects=(8, 7, 7),
            places=(
                "云岭 官塘 茶山 松林 白石 岭头 上坪 下坪",
                "东坡 杨柳 桃源 大塘 凤岭 龙潭 新圩 三江",
                "工业园 创业 科技 兴业 物流 园区 振兴 开发区",
            ),
            sites=(
                SitePlan("云岭安置区", _YL[0], (2016, 5), 30, "open"),
                SitePlan("东坡新村", _YL[1], (2017, 3), 24, "late", (20, 26)),
                SitePlan("杨柳安置区", _YL[1], (2017, 12), 36, "open"),
                SitePlan("园区安置小区", _YL[2], (2019, 5), 30, "on_time"),
                SitePlan("桃源安置区", _YL[1], (2020, 9), 30, "open"),
            ),
            blockers=(
                ("双高糖料蔗基地", (0, 1)),
                ("双高糖料蔗基地", (1,)),
                ("留用地", (2,)),
                ("资金", (0, 1, 2)),
                ("资金", (0, 1, 2)),
            ),
            price=(2600.0, 2400.0, 2200.0),
            inflow_ratio=(0.80, 0.92),
            comp_delay=_yearly(40, 60, 90, 130, 180, 240, 280),
            fee_delay=_yearly(20, 25, 40, 60, 90, 120, 150),
            fee_skip=_yearly(0.03, 0.04, 0.06, 0.10, 0.15, 0.22, 0.28),
            opening_balance_wan=200.0,
        ),
    ),
    DemoDistrict(
        "guiwan",
        _district(
            name="桂湾区",
            prefix="GW",
            zones=_GW,
            short=("桂湾", "滨海", "临港"),
            codes=("GW", "BH", "LG"),
            projects=(16, 14, 12),
            places=(
                "桂湾 渔港 灯塔 海晏 望海 沙角 蚝田 银滩",
                "滨海 金沙 白鹭 海棠 观澜 碧波 海湾 椰林",
                "临港 码头 保税 集装箱 港前 疏港 航运 海关",
            ),
            sites=(
                SitePlan("渔港安置区", _GW[0], (2015, 6), 24, "on_time"),
                SitePlan("灯塔新村", _GW[0], (2016, 4), 30, "on_time"),
                SitePlan("金沙安置区", _GW[1], (2016, 11), 30, "late", (4, 8)),
                SitePlan("白鹭苑(二期)", _GW[1], (2017, 7), 36, "on_time"),
                SitePlan("临港安置区", _GW[2], (2017, 10), 30, "open"),
                SitePlan("海棠安置区", _GW[1], (2018, 8), 24, "late", (6, 9)),
                SitePlan("码头新村", _GW[2], (2019, 4), 30, "on_time"),
                SitePlan("望海安置区", _GW[0], (2020, 6), 30, "open"),
                SitePlan("港前安置区", _GW[2], (2021, 2), 36, "open"),
            ),
            blockers=(
                ("公建单位", (0, 1)),
                ("公建单位", (1,)),
                ("公建单位", (0,)),
                ("军事用地", (2,)),
                ("留用地", (1, 2)),
            ),
            price=(5600.0, 4800.0, 3600.0),
            inflow_ratio=(1.00, 1.08),
            comp_delay=_yearly(15, 20, 25, 40, 60, 80, 90),
            fee_delay=_yearly(8, 10, 12, 20, 30, 40, 45),
            fee_skip=_yearly(0.01, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06),
            opening_balance_wan=1500.0,
        ),
    ),
    DemoDistrict(
        "shimen",
        _district(
            name="石门区",
            prefix="SM",
            zones=_SM,
            short=("石门", "河东", "南山"),
            codes=("SM", "HD", "NS"),
            projects=(10, 9, 9),
            places=(
                "石门 关帝 古井 城隍 牌坊 钟楼 米市 盐仓",
                "河东 渡口 柳堤 东岸 芦洲 沙洲 新渡 月湖",
                "南山 松岗 梅岭 竹园 茶亭 坡头 坳口 石岭",
            ),
            sites=(
                SitePlan("古井安置区", _SM[0], (2016, 3), 30, "late", (28, 34)),
                SitePlan("渡口新村", _SM[1], (2016, 8), 24, "on_time"),
                SitePlan("柳堤安置区", _SM[1], (2017, 6), 30, "open"),
                SitePlan("南山安置区", _SM[2], (2018, 2), 36, "open"),
                SitePlan("梅岭安置区", _SM[2], (2019, 10), 30, "late", (5, 9)),
                SitePlan("月湖安置区", _SM[1], (2020, 11), 30, "open"),
            ),
            blockers=(
                ("公建单位", (0,)),
                ("军事用地", (2,)),
                ("双高糖料蔗基地", (2,)),
                ("留用地", (1,)),
                ("资金", (0, 1, 2)),
            ),
            price=(4300.0, 3500.0, 2500.0),
            inflow_ratio=(0.88, 0.98),
        ),
    ),
    DemoDistrict(
        "nanping",
        _district(
            name="南屏区",
            prefix="NP",
            zones=_NP,
            short=("南屏", "西岸", "高铁"),
            codes=("NP", "XA", "GT"),
            projects=(9, 8, 11),
            places=(
                "南屏 屏山 锦绣 花园 荔枝 龙眼 凤凰 玉带",
                "西岸 江滩 浮桥 沙坪 西关 水口 船厂 望江楼",
                "高铁 站前 枢纽 新城 城际 站南 站北 综合",
            ),
            sites=(
                SitePlan("屏山安置区", _NP[0], (2016, 1), 24, "on_time"),
                SitePlan("西岸安置区", _NP[1], (2016, 12), 30, "late", (14, 20)),
                SitePlan("站前新村", _NP[2], (2018, 3), 30, "open"),
                SitePlan("锦绣安置区", _NP[0], (2018, 11), 24, "on_time"),
                SitePlan("站南安置区", _NP[2], (2019, 9), 36, "open"),
                SitePlan("江滩安置区", _NP[1], (2021, 1), 30, "open"),
            ),
            blockers=(
                ("公建单位", (2,)),
                ("公建单位", (0, 2)),
                ("留用地", (1,)),
                ("留用地", (1, 2)),
                ("资金", (0, 1, 2)),
            ),
            price=(4600.0, 3900.0, 5000.0),
            inflow_ratio=(0.92, 1.00),
        ),
    ),
)

#: The README of a demo city's data root (``{count}``, ``{seed}``, ``{rows}`` filled in).
_ROOT_README = """\
# 示例城市的征收台账（{label}）

A synthetic demo city: {count} fictitious districts, one folder each with its raw ledgers, its
README and its office profile `zhengshou.toml`. Written by
`zhengshou demo-data OUT --districts {count} --seed {seed}`
(`zhengshou_analysis.demo.write_demo_districts`); do not edit by hand, regenerate.
Every name, figure, person, ID-card number and phone number is invented.

| folder | 区 | 片区 | projects | sites | funds arriving (share of payments) |
| --- | --- | --- | --- | --- | --- |
{rows}

Report every district and the city view (市级汇总) with
`zhengshou batch --data OUT --years 2021` (docs/districts.md).
"""


def write_demo_districts(
    out_dir: str | Path, *, count: int = 3, seed: int = 2021
) -> dict[str, list[Path]]:
    """Write a demo city: ``count`` districts, one raw folder each, and the root's README.

    Byte-reproducible: the same ``count`` and ``seed`` write the same bytes (each district's
    files as :func:`~.api.write_demo_ledgers` writes them).

    Parameters
    ----------
    out_dir
        The data root to write into (created when missing); district ``k`` (1-based) goes to
        ``out_dir/<DEMO_DISTRICTS[k-1].folder>/``, drawn with ``seed + k``. Files of the same
        names are overwritten, others left alone.
    count
        How many districts: 1 to ``len(DEMO_DISTRICTS)`` (5).
    seed
        Base generator seed (non-negative).

    Returns
    -------
    dict of str to list of pathlib.Path
        Per district folder name, the files written there (sorted); the root's README under
        ``""``.

    Raises
    ------
    ParameterError
        When ``count`` is not between 1 and the number of designed districts, or ``seed`` is
        not a non-negative integer.
    """
    if (
        isinstance(count, bool)
        or not isinstance(count, int)
        or not 1 <= count <= len(DEMO_DISTRICTS)
    ):
        raise ParameterError(
            f"--districts must be a whole number from 1 to {len(DEMO_DISTRICTS)} "
            f"(the demo city has {len(DEMO_DISTRICTS)} designed districts), got {count!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    rows = []
    command = f"zhengshou demo-data OUT --districts {count} --seed {seed}"
    for k, d in enumerate(DEMO_DISTRICTS[:count], start=1):
        config = replace(d.config, command=command)
        written[d.folder] = write_demo_ledgers(out / d.folder, seed=seed + k, config=config)
        lo, hi = config.inflow_ratio
        rows.append(
            f"| `{d.folder}` | {config.district} | {'、'.join(config.zones)} | "
            f"{sum(config.projects_per_zone.values())} | {len(config.site_plan)} | "
            f"{lo:.2f}–{hi:.2f} |"
        )
    readme = out / "README.md"
    text = _ROOT_README.format(label=SYNTHETIC_LABEL, count=count, seed=seed, rows="\n".join(rows))
    readme.write_text(text, encoding="utf-8", newline="\n")
    written[""] = [readme]
    log.info("wrote %d demo districts (%s) to %s", count, SYNTHETIC_LABEL, out)
    return written
