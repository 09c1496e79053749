"""The entry points of the demo: draw (cached per seed), truth, rejections, files on disk."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..profile import PROFILE_NAME, Profile, render_profile_template
from .draw import build_world
from .ledgers import Ledgers, render_ledgers
from .ledgers.common import SYNTHETIC_LABEL
from .readme import render_readme
from .truth import rejection_frame, truth_frames
from .workbook import write_book, write_csv
from .world import DEFAULT_CONFIG, DemoConfig

__all__ = [
    "README",
    "clear_demo_cache",
    "demo_expected_rejections",
    "demo_total_mismatch",
    "demo_truth",
    "render_demo_profile",
    "write_demo_ledgers",
]

log = logging.getLogger("zhengshou_analysis.demo")

#: The name of the README written next to the ledgers.
README = "README.md"


@dataclass(frozen=True)
class District:
    """One generated demo district: its ledgers, their truth and their README."""

    ledgers: Ledgers
    truth: dict[str, pd.DataFrame]
    readme: str


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _generate(seed: object) -> District:
    return _generate_cached(_check_seed(seed))


@lru_cache(maxsize=4)
def _generate_cached(seed: int) -> District:
    return _draw(seed, DEFAULT_CONFIG)


def _draw(seed: int, config: DemoConfig) -> District:
    """The district of ``config`` drawn with ``seed``: its ledgers, truth and README."""
    ledgers = render_ledgers(build_world(seed, config))
    truth = truth_frames(ledgers.truth)
    return District(ledgers, truth, render_readme(ledgers, truth))


def clear_demo_cache() -> None:
    """Forget the districts drawn so far, so that the next call draws its district again."""
    _generate_cached.cache_clear()


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
    return {name: df.copy() for name, df in _generate(seed).truth.items()}


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
        it. ``f"{file}#{sheet}!{row}"`` is the row's ``origin`` (docs/data_contract.md §5).

    Raises
    ------
    ParameterError
        When ``seed`` is not a non-negative integer.
    """
    return rejection_frame(_generate(seed).ledgers.rejections)


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
    return dict(_generate(seed).ledgers.mismatch)


def render_demo_profile(config: DemoConfig = DEFAULT_CONFIG) -> str:
    """The demo district's ``zhengshou.toml``, labelled 示例数据（模拟）.

    Office name = the district's name, ``[zones]`` = its three 片区 with their short names as
    aliases; policy and forecasts are the defaults.
    """
    profile = Profile(
        office_name=config.district,
        zones={zone: (config.zone_short[zone],) for zone in config.zones},
    )
    head = (
        f"# {SYNTHETIC_LABEL}：示例区的配置文件，区名和片区均为虚构，仅供演示。\n"
        "# (synthetic demo district: the profile of a fictitious office, for the demo only)\n#\n"
    )
    return head + render_profile_template(profile)


def write_demo_ledgers(
    out_dir: str | Path, *, seed: int = 2021, config: DemoConfig = DEFAULT_CONFIG
) -> list[Path]:
    """Write the demo district as messy raw ledgers (xlsx and csv), its README and its profile.

    The output is byte-for-byte reproducible: fixed workbook properties and zip timestamps,
    deterministic iteration, seeded generators only.

    Parameters
    ----------
    out_dir
        Folder to write into; created when missing. Files of the same names are overwritten, other
        files are left alone.
    seed
        Generator seed (non-negative).
    config
        The district's plan (default: the one demo district of ``data/demo``; the districts of a
        demo city are in :data:`~.districts.DEMO_DISTRICTS`).

    Returns
    -------
    list of pathlib.Path
        The files written, sorted by name.

    Raises
    ------
    ParameterError
        When ``seed`` is not a non-negative integer.
    """
    district = _generate(seed) if config is DEFAULT_CONFIG else _draw(_check_seed(seed), config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for book in district.ledgers.books:
        write_book(book, out / book.name, label=SYNTHETIC_LABEL)
        written.append(out / book.name)
    for csv in district.ledgers.csvs:
        write_csv(csv, out / csv.name)
        written.append(out / csv.name)
    readme = out / README
    readme.write_text(district.readme, encoding="utf-8", newline="\n")
    written.append(readme)
    profile = out / PROFILE_NAME
    profile.write_text(render_demo_profile(config), encoding="utf-8", newline="\n")
    written.append(profile)
    log.info("wrote %d demo files (%s) to %s", len(written), SYNTHETIC_LABEL, out)
    return sorted(written)
