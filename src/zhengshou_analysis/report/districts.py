"""Many districts, one batch: a data root with one raw folder per district, and the city view.

A *data root* is a folder that holds no ledger and no profile itself and whose sub-folders hold
each a district's ledgers and its profile (``zhengshou.toml``)::

    data/districts/                      the data root (no ledger, no zhengshou.toml here)
        qingxi/  *.xlsx *.csv zhengshou.toml    one district: its raw folder and its profile
        yunling/ ...
        _archive/ .hidden/                names starting with ``_`` or ``.`` are not districts

A sub-folder with ledgers but no profile is a district that fails (its office name and its 片区
would be guesses); a folder with ledgers or a profile of its own is one district's raw folder, as
before (its sub-folders are its own, e.g. one per year). So an office that keeps its ledgers in
year folders is never mistaken for a city (:func:`find_districts`).

The reports go to ``<out>/<district>/`` (a normal reports folder: its periods, its index, its
lock) and the city view to ``<out>/city/<period>/`` with ``<out>/index.html`` on top
(:mod:`.city`). A district's folder name is its raw folder's name made safe
(:func:`~.files.safe_file_part`); never ``city`` and never a period's name.

The unit of work is one district (:class:`DistrictJob`: its raw folder, its profile, its reports
folder and the periods asked for), executed by a *runner* (:func:`run_district` by default:
:func:`~.batch.run_batch`, which plans the district's runs per period and hands them to the
engine). ``districts_at_once`` districts are in flight together (threads: each district's batch
waits on its own workers, so threads are enough); with a local process pool one at a time is
right (each district's batch already uses every core), with an engine that many machines serve
several let their runs reach it together. One district's failure — untrustworthy ledgers, a bad
profile, a period without rows, a busy folder — never stops the others; every failure is in the
result (:attr:`DistrictsResult.failures`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import ParameterError, ZhengshouError
from ..outfolder import check_output_folder, folder_lock
from ..profile import PROFILE_NAME
from .files import CITY_FOLDER, safe_file_part

if TYPE_CHECKING:
    from .batch import BatchResult
    from .engine import Progress

__all__ = [
    "CITY_FOLDER",
    "District",
    "DistrictJob",
    "DistrictOutcome",
    "DistrictRunner",
    "DistrictsResult",
    "find_districts",
    "is_data_root",
    "run_district",
    "run_districts",
]

log = logging.getLogger(__name__)

_LEDGER_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv")


@dataclass(frozen=True)
class District:
    """One district of a data root.

    Attributes
    ----------
    name
        Its folder name in the reports folder (the raw folder's name made safe).
    data_dir
        Its raw folder (read-only).
    profile_path
        Its ``zhengshou.toml``; ``None`` when the folder has none (the district then fails).
    problem
        Why the district cannot be run, in words (no profile, a folder name taken); ``""``
        when it can.
    """

    name: str
    data_dir: Path
    profile_path: Path | None
    problem: str = ""


@dataclass(frozen=True)
class DistrictJob:
    """One unit of work of the driver: one district, the periods asked for, where its reports go.

    Attributes
    ----------
    district
        The district.
    out_dir
        Its reports folder (``<out>/<district.name>``).
    options
        The keyword arguments of :func:`~.batch.run_batch` besides ``data_dir``, ``out_dir``
        and ``profile``: ``years``, ``months``, ``as_of``, ``jobs``, ``force``, ``progress``,
        ``wait`` (plain values: the job can be pickled).
    """

    district: District
    out_dir: Path
    options: dict[str, Any] = field(default_factory=dict)


#: What executes a district's job: :func:`run_district`, or an engine's own.
DistrictRunner = Callable[[DistrictJob], "BatchResult"]


@dataclass
class DistrictOutcome:
    """What became of one district: its batch's result, or why it did not run."""

    district: District
    result: BatchResult | None = None
    error: str = ""  # the district as a whole failed, in words

    @property
    def failures(self) -> list[str]:
        """The district's failures in words (empty when all went well)."""
        name = self.district.name
        if self.error:
            return [f"{name}: {self.error}"]
        if self.result is None:
            return []
        out = [f"{name}: {fault}" for fault in self.result.faults]
        for r in self.result.failed:
            what = r.folder if r.notebook == "*" else f"{r.folder} {r.notebook}"
            out.append(f"{name} {what}: {r.error}")
        return out


@dataclass
class DistrictsResult:
    """Every district's outcome, and the pages of the city view."""

    outcomes: list[DistrictOutcome] = field(default_factory=list)
    index: Path | None = None  # <out>/index.html
    city_pages: list[Path] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """Every failure of every district, in words."""
        return [text for o in self.outcomes for text in o.failures]


def _has_ledgers(folder: Path, *, recursive: bool) -> bool:
    """Whether ``folder`` holds a ledger file (directly, or anywhere below it)."""
    files = folder.rglob("*") if recursive else folder.iterdir()
    return any(
        p.is_file() and p.suffix.lower() in _LEDGER_SUFFIXES and not p.name.startswith(("~$", "."))
        for p in files
    )


def _candidates(root: Path) -> list[Path]:
    """The sub-folders of ``root`` that may be districts (not hidden, not ``_…``), sorted."""
    return sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_", "~"))
    )


def is_data_root(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a data root of several districts (see the module docstring).

    A folder is one when it holds no ledger file and no profile of its own and at least one of
    its sub-folders holds a ``zhengshou.toml``.
    """
    root = Path(path)
    if not root.is_dir() or (root / PROFILE_NAME).is_file() or _has_ledgers(root, recursive=False):
        return False
    return any((p / PROFILE_NAME).is_file() for p in _candidates(root))


def find_districts(path: str | os.PathLike) -> list[District] | None:
    """The districts of a data root, sorted by folder; ``None`` when ``path`` is one raw folder.

    Every sub-folder (not hidden, not starting with ``_``) with a profile or a ledger is a
    district. One without a profile, or whose safe name is taken (by the city view, a period's
    folder name, or an earlier district — compared without case, as on Windows), carries its
    :attr:`District.problem` and fails when run; the others run.

    Raises
    ------
    ParameterError
        When ``path`` is not a folder.
    """
    from ..periods import Period

    root = Path(path)
    if not root.is_dir():
        raise ParameterError(
            f"--data {root} is not a folder: give the ledger folder or the data root"
        )
    if not is_data_root(root):
        return None
    districts: list[District] = []
    taken: dict[str, str] = {CITY_FOLDER: "the city view"}
    for folder in _candidates(root):
        profile = folder / PROFILE_NAME
        if not profile.is_file() and not _has_ledgers(folder, recursive=True):
            continue
        name = safe_file_part(folder.name, fallback="district")
        problem = ""
        if not profile.is_file():
            problem = (
                f"{folder} 中没有单位配置 {PROFILE_NAME}（no {PROFILE_NAME} in {folder}: write one "
                f"with `zhengshou init {folder}`, naming the office and its 片区）"
            )
        elif Period.from_folder(name) is not None or name.casefold() in taken:
            other = taken.get(name.casefold(), "a reporting period's folder")
            problem = (
                f"文件夹名 {name} 已被占用（the folder name {name!r} is taken by {other}: rename "
                f"the district's folder {folder.name!r} in {root}）"
            )
        else:
            taken[name.casefold()] = f"the district folder {folder.name!r}"
        districts.append(District(name, folder, profile if profile.is_file() else None, problem))
    return districts


def run_district(job: DistrictJob) -> BatchResult:
    """Run one district's batch (the default runner): its profile, then :func:`~.batch.run_batch`.

    Raises
    ------
    ZhengshouError
        As :func:`~.batch.run_batch` (and :func:`~zhengshou_analysis.profile.load_profile`)
        raise it; the driver records it as the district's failure.
    """
    from ..profile import load_profile
    from .batch import run_batch

    d = job.district
    if d.problem:
        raise ParameterError(d.problem)
    profile = load_profile(d.profile_path, raw_dir=d.data_dir)
    return run_batch(data_dir=d.data_dir, out_dir=job.out_dir, profile=profile, **job.options)


def _check_reports_root(out: Path) -> None:
    """Refuse a reports folder that holds one district's reports (its periods at the top)."""
    from ..periods import Period

    if not out.is_dir():
        return
    periods = sorted(p.name for p in out.iterdir() if p.is_dir() and Period.from_folder(p.name))
    if periods:
        raise ParameterError(
            f"--out {out} holds the reports of one office ({', '.join(periods[:3])} …): give the "
            "several districts a reports folder of their own (e.g. --out reports/city)"
        )


def run_districts(
    *,
    data_root: str | os.PathLike,
    out_dir: str | os.PathLike,
    years: Iterable[int] | None = None,
    months: str | None = None,
    as_of: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: Progress = True,
    wait: bool = True,
    on_wait: Callable[[dict], None] | None = None,
    on_district: Callable[[DistrictOutcome], None] | None = None,
    runner: DistrictRunner | None = None,
    districts_at_once: int | None = None,
    scheduler: str | None = None,
) -> DistrictsResult:
    """Run every district of a data root into ``out_dir/<district>/``, then the city view.

    Parameters
    ----------
    data_root
        The data root (:func:`is_data_root`).
    out_dir
        The reports folder of the city: a folder per district, ``city/`` and ``index.html``.
    years, months, as_of, jobs, force, progress
        As for :func:`~.batch.run_batch`, for every district (``years=None`` and no months:
        every year of each district's projects ledger).
    wait, on_wait
        When another run writes into ``out_dir`` (or a district's folder): wait (``True``) or
        fail at once; ``on_wait`` is told once with the other run's record.
    on_district
        Called with each district's outcome as it finishes.
    runner
        Executes one :class:`DistrictJob` (default :func:`run_district`); an engine that runs
        the notebooks elsewhere passes its own.
    districts_at_once
        Districts in flight together (threads). Default: 1 with the local process pool (each
        district's batch uses every core), every district at once on a cluster (so that all
        their runs reach the workers together).
    scheduler
        Run on a Dask cluster (``tcp://HOST:8786`` or ``local:N``; :mod:`.cluster`): one
        cluster serves every district (``local:N`` is started once for the whole city).

    Returns
    -------
    DistrictsResult
        Every district's outcome (a district that failed as a whole carries its error; its
        failed runs are in its batch result) and the city view's pages.

    Raises
    ------
    ParameterError
        When ``data_root`` is not a data root, ``districts_at_once`` is below 1, or
        ``out_dir`` holds one office's reports.
    OutputError, BusyError
        When ``out_dir`` cannot be written, or (``wait=False``) another run writes into it.
    """
    districts = find_districts(data_root)
    if districts is None:
        raise ParameterError(
            f"{data_root} is not a data root: no sub-folder holds a {PROFILE_NAME} "
            "(docs/districts.md), or the folder holds ledgers itself"
        )
    if districts_at_once is None:
        districts_at_once = 1 if scheduler is None else max(1, len(districts))
    if districts_at_once < 1:
        raise ParameterError(f"districts_at_once must be at least 1, got {districts_at_once}")
    out = check_output_folder(Path(out_dir).resolve())
    _check_reports_root(out)
    options: dict[str, Any] = {
        "years": None if years is None else sorted({int(y) for y in years}),
        "months": months,
        "as_of": as_of,
        "jobs": jobs,
        "force": force,
        "progress": progress,
        "wait": wait,
    }
    from .cluster import shared_scheduler

    with shared_scheduler(scheduler) as address:
        if address is not None:
            options["scheduler"] = address
        return _run_all(
            districts, out, options, runner, districts_at_once, on_district, wait, on_wait
        )


def _run_all(
    districts: list[District],
    out: Path,
    options: dict[str, Any],
    runner: DistrictRunner | None,
    districts_at_once: int,
    on_district: Callable[[DistrictOutcome], None] | None,
    wait: bool,
    on_wait: Callable[[dict], None] | None,
) -> DistrictsResult:
    """Every district through ``runner`` (holding ``out``'s lock), then the city view."""
    from .city import CityDistrict, mark_city, write_city

    run = runner or run_district
    result = DistrictsResult()
    with folder_lock(out, wait=wait, on_wait=on_wait, what="zhengshou batch (districts)"):
        mark_city(out)  # the districts' pages link back to the city's index from the start
        jobs_list = [DistrictJob(d, out / d.name, options) for d in districts]
        lock = threading.Lock()

        def one(job: DistrictJob) -> DistrictOutcome:
            outcome = _run_one(run, job)
            with lock:
                if on_district:
                    on_district(outcome)
            return outcome

        if districts_at_once == 1 or len(jobs_list) <= 1:
            result.outcomes = [one(job) for job in jobs_list]
        else:
            with ThreadPoolExecutor(max_workers=districts_at_once) as pool:
                result.outcomes = list(pool.map(one, jobs_list))
        city = write_city(
            out,
            [
                CityDistrict.of(o.district.name, out / o.district.name, o.error, demo=_is_demo(o))
                for o in result.outcomes
            ],
        )
        result.index, result.city_pages = city.index, city.pages
    return result


def _is_demo(outcome: DistrictOutcome) -> bool:
    """Whether a district's ledgers are the synthetic demo (their titles say 示例数据): read from
    the ledger cache its batch filled; ``False`` when they cannot be read."""
    from ..ledger.store import load_ledgers
    from ..profile import load_profile

    d = outcome.district
    if d.profile_path is None or d.problem:
        return False
    try:
        profile = load_profile(d.profile_path, raw_dir=d.data_dir)
        return bool(load_ledgers(d.data_dir, profile=profile).manifest.get("synthetic"))
    except ZhengshouError:
        return False


def _run_one(run: DistrictRunner, job: DistrictJob) -> DistrictOutcome:
    """One district through ``run``: its result, or its failure in words (never raised)."""
    name = job.district.name
    try:
        outcome = DistrictOutcome(job.district, result=run(job))
    except ZhengshouError as exc:  # the district's own situation: said in words, the rest go on
        log.warning("district %s failed: %s", name, exc)
        outcome = DistrictOutcome(job.district, error=str(exc) or type(exc).__name__)
    except Exception as exc:  # a fault in one district (a bug) never stops the others
        log.exception("district %s failed", name)
        outcome = DistrictOutcome(
            job.district,
            error=f"程序错误（internal error, please report it）：{type(exc).__name__}: {exc}",
        )
    log.info("district %s: %s", name, "failed" if outcome.failures else "ok")
    return outcome
