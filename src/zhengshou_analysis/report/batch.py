"""Yearly report runs: plan the runs, execute them in a process pool, write pages and state.

Layout of an output folder (``reports/`` by default)::

    index.html                      start here: every year × report, the office files, key figures
    provenance.json                 the batch's inputs for audit: data folder, fingerprints, version
    <year>/<notebook>.html          the report, code hidden, figures embedded, no network needed;
                                    prints on A4 with page numbers
    <year>/<notebook>.ipynb         the executed notebook (the run log: parameters, outputs)
    <year>/<notebook>.failed.ipynb  kept when a run fails (the good report it would replace stays)
    <year>/工作总结_<单位>_<year>.docx  the work summary in Word (linked from the index)
    <year>/报表_<单位>_<year>.xlsx      the tables in Excel (linked from the index)
    <year>/key_figures.json         the figures of docs/indicators.md, flat
    <year>/runs.json                per notebook: status, run key, duration, finish time (UTC)

Every page links to the index, to the other reports of its year and to the same report of the
previous and next year present in the folder (relative links: the folder can be copied to a shared
drive and opened offline). A run is skipped when its *run key* (data fingerprint, notebook bytes,
parameters, package source) matches the last successful run and its HTML is present; the
navigation of a skipped page is still brought up to date. Every file is written to a temporary
name and renamed, so a crash never leaves a half-written report where a good one was.

The data flow: :func:`run_batch` plans (``catalog``, ``runs.run_key``), executes each run in a
worker (``runs.execute_run`` renders the page with ``pages``), fills the navigation of the new
pages, embeds one font subset in them and writes them (``files``), updates the navigation of the
pages already there, records ``runs.json`` and refreshes the index (``index``).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .._version import __version__
from ..exceptions import ParameterError
from .catalog import NOTEBOOKS, default_notebook_dir
from .files import atomic_write_text, office_file_name, read_json_dict
from .index import OFFICE_FILES, refresh_index
from .pages import embed_shared_font, page_nav, set_nav
from .runs import RunResult, RunTask, digest, execute_run, prepare_worker, run_key

__all__ = ["BatchResult", "parse_years", "run_batch"]

if TYPE_CHECKING:
    import pandas as pd

    from ..profile import Profile

log = logging.getLogger(__name__)

#: Relative cost of the notebooks (the ones that fit forecast models run longest).
_COST = {"00_overview": 3, "30_funding": 3, "50_delivery": 2, "40_transition_fees": 2}

#: Imported once by the forkserver, so that every worker starts with them loaded.
_PRELOAD = [
    "zhengshou_analysis.report.batch",
    "zhengshou_analysis.report.runs",
    "zhengshou_analysis.report.pages",
    "papermill",
    "nbconvert",
]


def parse_years(text: str | None, available: Sequence[int]) -> list[int]:
    """Parse ``2019-2022`` or ``2019,2021`` (``None``: every available year).

    Raises
    ------
    ParameterError
        On a malformed value, with the accepted forms.
    """
    if text is None or not str(text).strip():
        return sorted(set(available))
    years: set[int] = set()
    try:
        for part in str(text).split(","):
            a, sep, b = part.strip().partition("-")
            lo, hi = int(a), int(b) if sep else int(a)
            if hi < lo or hi - lo > 100:
                raise ValueError(part)
            years.update(range(lo, hi + 1))
    except ValueError:
        raise ParameterError(
            f"--years {text!r} is not understood; write 2019-2022 or 2019,2021"
        ) from None
    return sorted(years)


@dataclass
class BatchResult:
    """Every run of a batch, and where the index is."""

    runs: list[RunResult] = field(default_factory=list)
    index: Path | None = None

    @property
    def failed(self) -> list[RunResult]:
        """The runs that failed."""
        return [r for r in self.runs if r.status == "failed"]


class _FigureJob(NamedTuple):
    """The key figures of one year to compute and write (the arguments of the worker call)."""

    data_dir: str
    year: int
    as_of: str | None
    seed: int
    horizon: int
    ydir: str
    profile_path: str = ""


@dataclass
class _Plan:
    """What a batch has to do: runs to execute, runs unchanged, key figures to (re)compute."""

    tasks: list[RunTask] = field(default_factory=list)
    skipped: list[RunResult] = field(default_factory=list)
    figure_jobs: list[_FigureJob] = field(default_factory=list)
    kf_keys: dict[int, str] = field(default_factory=dict)  # per year, kept in runs.json


@dataclass(frozen=True)
class _Inputs:
    """The checked inputs of a batch, shared by every run."""

    data_dir: Path
    data_fp: str
    demo: bool
    nb_dir: Path
    names: list[str]
    years: list[int]
    empty_periods: dict[int, str]
    as_of: str | None
    seed: int
    horizon_months: int
    profile: Profile
    profile_path: str
    extra_parameters: dict

    @property
    def inputs_fp(self) -> str:
        """The ledgers' and the profile's fingerprints together: what every run key covers."""
        return digest(self.data_fp, self.profile.fingerprint)


def run_batch(
    *,
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    years: Iterable[int] | None = None,
    as_of: str | None = None,
    notebooks: Sequence[str] | None = None,
    jobs: int | None = None,
    seed: int | None = None,
    horizon_months: int | None = None,
    extra_parameters: dict | None = None,
    profile: Profile | None = None,
    force: bool = False,
    notebook_dir: Path | None = None,
    progress: bool = True,
    on_run: Callable[[RunResult], None] | None = None,
) -> BatchResult:
    """Run the report notebooks for several years, in parallel, into ``out_dir``.

    Parameters
    ----------
    data_dir
        The raw ledgers (read-only).
    out_dir
        The reports folder; ``<year>/`` sub-folders and ``index.html`` are written there.
    years
        Reporting years (default: every year of the projects ledger).
    as_of
        A reporting date for a mid-year run (一月一调度); needs exactly one year.
    notebooks
        Notebook names (default: all of :data:`~.catalog.NOTEBOOKS`).
    jobs
        Parallel runs (default: the number of cores).
    seed, horizon_months
        Forecast seed and horizon (``None``: the profile's).
    extra_parameters
        Further notebook parameters (plain ints, floats, strings only).
    profile
        The office profile (default: :func:`~zhengshou_analysis.profile.load_profile` for
        ``data_dir``). It must come from a file (its path is a notebook parameter); its
        fingerprint joins every run key, so a changed profile re-runs what it affects.
    force
        Re-run even when nothing changed.
    notebook_dir
        Where the notebooks are (default: :func:`~.catalog.default_notebook_dir`).
    progress
        Show a progress bar of the runs.
    on_run
        Called with each executed run's result as it finishes.

    Returns
    -------
    BatchResult
        Every run's status; the caller decides the exit status from ``result.failed``.
    """
    out = Path(out_dir).resolve()
    inputs = _check_inputs(
        data_dir,
        notebook_dir,
        notebooks,
        years,
        as_of,
        seed,
        horizon_months,
        extra_parameters,
        profile,
    )
    plan = _plan(inputs, out, force=force)
    runs = plan.skipped + _execute(
        plan.tasks, plan.figure_jobs, jobs=jobs, progress=progress, on_run=on_run
    )
    runs += [
        RunResult(year, "*", "failed", "", error=message)
        for year, message in inputs.empty_periods.items()
    ]
    _write_pages([r for r in runs if r.page is not None], out)
    _write_run_states(out, inputs.years, runs, plan.kf_keys)
    names = inputs.names
    runs.sort(key=lambda r: (r.year, names.index(r.notebook) if r.notebook in names else 99))
    provenance = {
        "office": inputs.profile.office_name,
        "profile": inputs.profile_path or "（内置默认）",
        "profile_fingerprint": inputs.profile.fingerprint,
        "data_dir": str(inputs.data_dir),
        "data_fingerprint": inputs.data_fp,
        "package_version": __version__,
        "seed": inputs.seed,
        "horizon_months": inputs.horizon_months,
        "as_of": as_of,
    }
    index = refresh_index(out, demo=inputs.demo, provenance=provenance, force=force)
    return BatchResult(runs, index)


# --- plan -----------------------------------------------------------------------------------------


def _check_inputs(
    data_dir: str | os.PathLike,
    notebook_dir: Path | None,
    notebooks: Sequence[str] | None,
    years: Iterable[int] | None,
    as_of: str | None,
    seed: int | None,
    horizon_months: int | None,
    extra_parameters: dict | None,
    profile: Profile | None,
) -> _Inputs:
    """Find the notebooks, clean (or load) the ledgers and settle the years of the batch.

    Raises
    ------
    ParameterError
        On a missing notebook, or ``as_of`` with other than one year.
    CleanError
        On untrustworthy data.
    """
    from ..ledger.store import data_fingerprint, load_ledgers
    from ..profile import DEFAULT_PROFILE, load_profile

    data = Path(data_dir).resolve()
    profile = profile or load_profile(raw_dir=data)
    if profile.source is None and profile != DEFAULT_PROFILE:
        raise ParameterError("the batch's profile must come from a file (zhengshou.toml)")
    nb_dir = Path(notebook_dir or default_notebook_dir()).resolve()
    names = list(notebooks or NOTEBOOKS)
    for n in names:
        if not (nb_dir / f"{n}.ipynb").is_file():
            raise ParameterError(f"notebook {n}.ipynb not found in {nb_dir}")
    result_clean = load_ledgers(data, profile=profile)  # raises CleanError on untrustworthy data
    demo = bool(result_clean.manifest.get("synthetic"))
    data_fp = data_fingerprint(data)
    available = sorted({int(y) for y in result_clean.tables["projects"]["year"].dropna()})
    year_list = sorted({int(y) for y in years}) if years is not None else available
    if as_of is not None and len(year_list) != 1:
        raise ParameterError("--as-of makes a mid-year run of one year: give exactly one --year")
    empty = _empty_periods(result_clean.tables, year_list, as_of)
    year_list = [y for y in year_list if y not in empty]
    return _Inputs(
        data_dir=data,
        data_fp=data_fp,
        demo=demo,
        nb_dir=nb_dir,
        names=names,
        years=year_list,
        empty_periods=empty,
        as_of=as_of,
        seed=profile.seed if seed is None else int(seed),
        horizon_months=profile.horizon_months if horizon_months is None else int(horizon_months),
        profile=profile,
        profile_path="" if profile.source is None else str(Path(profile.source).resolve()),
        extra_parameters=extra_parameters or {},
    )


def _empty_periods(
    tables: Mapping[str, pd.DataFrame], years: list[int], as_of: str | None
) -> dict[int, str]:
    """The years no ledger has a row in, with the message naming each (no page is made for them)."""
    from ..exceptions import EmptyPeriodError
    from ..figures.context import check_period_has_rows
    from ..schemas import table_from
    from ..settings import resolve_as_of

    conformed = {name: table_from(tables, name) for name in tables}
    empty: dict[int, str] = {}
    for year in years:
        try:
            check_period_has_rows(conformed, year=year, as_of=resolve_as_of(as_of or None, year))
        except EmptyPeriodError as exc:
            log.info("no run for %s: %s", year, exc)
            empty[year] = str(exc)
    return empty


def _plan(inputs: _Inputs, out: Path, *, force: bool) -> _Plan:
    """Decide, year by year, which key figures and which notebook runs are due.

    A year's key figures are due when their key (data, code, parameters) changed or the file is
    missing; a run is due unless :func:`_unchanged`.
    """
    from ..ledger.store import code_fingerprint

    plan = _Plan()
    for year in inputs.years:
        ydir = out / str(year)
        ydir.mkdir(parents=True, exist_ok=True)
        state = read_json_dict(ydir / "runs.json")
        plan.kf_keys[year] = digest(
            inputs.inputs_fp,
            code_fingerprint(),
            str(inputs.as_of),
            str(year),
            str(inputs.seed),
            str(inputs.horizon_months),
        )
        if (
            force
            or state.get("_key_figures") != plan.kf_keys[year]
            or not (ydir / "key_figures.json").is_file()
            or not all(
                (ydir / n).is_file() for n in _office_file_names(inputs.profile.office, year)
            )
        ):
            plan.figure_jobs.append(
                _FigureJob(
                    str(inputs.data_dir),
                    year,
                    inputs.as_of,
                    inputs.seed,
                    inputs.horizon_months,
                    str(ydir),
                    inputs.profile_path,
                )
            )
        for name in inputs.names:
            _plan_run(plan, inputs, year, name, state.get(name, {}), ydir, force=force)
    return plan


def _plan_run(
    plan: _Plan, inputs: _Inputs, year: int, name: str, prev: dict, ydir: Path, *, force: bool
) -> None:
    """Add one notebook run of ``year`` to ``plan``: as a task, or as skipped when unchanged."""
    params = {
        "year": int(year),
        "as_of": inputs.as_of or "",
        "data_dir": str(inputs.data_dir),
        "seed": int(inputs.seed),
        "horizon_months": int(inputs.horizon_months),
        "profile_path": inputs.profile_path,
        **inputs.extra_parameters,
    }
    src = inputs.nb_dir / f"{name}.ipynb"
    key = run_key(inputs.inputs_fp, src, params)
    if _unchanged(prev, key, ydir / f"{name}.html", force=force):
        plan.skipped.append(
            RunResult(
                year,
                name,
                "skipped",
                key,
                0.0,
                None,
                f"{name}.html",
                f"{name}.ipynb",
                prev.get("finished"),
            )
        )
    else:
        plan.tasks.append(RunTask(year, name, str(src), str(ydir), params, key, inputs.demo))


def _unchanged(prev: dict, key: str, page: Path, *, force: bool) -> bool:
    """Whether the last run (``prev`` in ``runs.json``) succeeded with ``key`` and its page exists."""
    return (
        not force
        and prev.get("status") in ("ok", "skipped")
        and prev.get("run_key") == key
        and page.is_file()
    )


# --- execute ----------------------------------------------------------------------------------------


def _office_file_names(office: str, year: int) -> list[str]:
    """The office files of ``year`` (:data:`~.index.OFFICE_FILES`): ``工作总结_港北区_2021.docx`` …"""
    return [office_file_name(kind, office, str(year), suffix) for kind, suffix, _ in OFFICE_FILES]


def _write_key_figures(
    data_dir: str,
    year: int,
    as_of: str | None,
    seed: int,
    horizon: int,
    ydir: str,
    profile_path: str = "",
) -> None:
    """Compute every figure of ``year`` once and write ``key_figures.json`` and the office files.

    Runs in a pool worker. One reporting context (:func:`~.session.load_report`) serves the key
    figures, the work summary (:func:`~.officedoc.write_summary_docx`) and the workbook
    (:func:`~.spreadsheet.write_report_workbook`), so the three carry the same numbers. Office
    files of the same year under another office name (a renamed office) are removed.
    """
    from ..figures.keyfile import key_figures_json
    from .officedoc import write_summary_docx
    from .session import load_report
    from .spreadsheet import write_report_workbook

    rep = load_report(
        data_dir,
        year=year,
        as_of=as_of,
        horizon_months=horizon,
        seed=seed,
        profile_path=profile_path,
    )
    folder = Path(ydir)
    atomic_write_text(folder / "key_figures.json", key_figures_json(rep.analysis.key_figures()))
    writers = {".docx": write_summary_docx, ".xlsx": write_report_workbook}
    names = _office_file_names(rep.office, year)
    for (kind, suffix, _), name in zip(OFFICE_FILES, names, strict=True):
        writers[suffix](rep, folder / name)
        for stale in folder.glob(f"{kind}_*{suffix}"):
            if stale.name not in names:
                stale.unlink()


def _execute(
    tasks: list[RunTask],
    figure_jobs: list[_FigureJob],
    *,
    jobs: int | None,
    progress: bool,
    on_run: Callable[[RunResult], None] | None,
) -> list[RunResult]:
    """Execute the runs and the key-figure jobs, in worker processes when more than one job.

    Returns
    -------
    list of RunResult
        One per task, in the order they finished.
    """
    # longest first (the overview and funding notebooks fit models), key figures fill the gaps
    tasks.sort(key=lambda t: -_COST.get(t.notebook, 1))
    results: list[RunResult] = []
    if not tasks and not figure_jobs:
        return results
    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks) + len(figure_jobs)))
    bar = None
    if progress and tasks:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc="报告", unit="个")

    def done(r: RunResult) -> None:
        results.append(r)
        if bar:
            bar.update()
        if on_run:
            on_run(r)

    if workers == 1:
        prepare_worker()
        for t in tasks:
            done(execute_run(t))
        for job in figure_jobs:
            _write_key_figures(*job)
    else:
        _execute_in_pool(tasks, figure_jobs, workers, done)
    if bar:
        bar.close()
    return results


def _execute_in_pool(
    tasks: list[RunTask],
    figure_jobs: list[_FigureJob],
    workers: int,
    done: Callable[[RunResult], None],
) -> None:
    """Execute in a forkserver process pool, handing each run's result to ``done`` as it finishes.

    Forkserver, not fork: the caller may have threads (a notebook kernel, a web server), and a
    child forked from it can inherit a lock that no thread will release. The server starts from a
    fresh interpreter and preloads the heavy modules once. A crashed worker is a failed run; an
    error in the key figures is a bug and is raised.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    with ProcessPoolExecutor(
        max_workers=workers, initializer=prepare_worker, mp_context=ctx
    ) as pool:
        futures = {pool.submit(execute_run, t): t for t in tasks}
        figure_futures = [pool.submit(_write_key_figures, *job) for job in figure_jobs]
        for fut in as_completed(futures):
            done(_result_of(fut, futures[fut]))
        for fig_fut in figure_futures:
            fig_fut.result()  # an error in the figures is a bug: let it surface


def _result_of(fut: Future[RunResult], task: RunTask) -> RunResult:
    """The result of a finished run; a worker that crashed gives a failed run."""
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - a crashed worker is a failed run
        return RunResult(
            task.year,
            task.notebook,
            "failed",
            task.run_key,
            0.0,
            f"{type(exc).__name__}: {exc}",
        )


# --- write ------------------------------------------------------------------------------------------


def _pages_on_disk(out: Path) -> set[tuple[int, str]]:
    """Every ``(year, notebook)`` whose page is in ``out`` (any year folder, any batch)."""
    if not out.is_dir():
        return set()
    return {
        (int(ydir.name), name)
        for ydir in out.iterdir()
        if ydir.is_dir() and ydir.name.isdigit()
        for name in NOTEBOOKS
        if (ydir / f"{name}.html").is_file()
    }


def _write_pages(done: list[RunResult], out: Path) -> None:
    """Fill each new page's navigation, embed one font subset covering every new page's text,
    write each page atomically, then bring the navigation of the pages already there up to date.

    The links of a page come from the pages present in the reports folder after this batch (the
    new ones and those of earlier batches), so a page of 2021 written last year gains its link to
    2022 when 2022 is first reported.
    """
    present = _pages_on_disk(out) | {(r.year, r.notebook) for r in done}
    if done:
        pages = embed_shared_font(
            [
                set_nav(r.page, page_nav(r.year, r.notebook, present))
                for r in done
                if r.page is not None
            ]
        )
        for r, page in zip(done, pages, strict=True):
            assert r.html is not None, "a rendered page has its file name (runs.execute_run)"
            atomic_write_text(out / str(r.year) / r.html, page)
            r.page = None
    _refresh_navigation(out, present - {(r.year, r.notebook) for r in done})


def _refresh_navigation(out: Path, pages: set[tuple[int, str]]) -> None:
    """Rewrite the navigation of ``pages`` (already on disk) where the folder's pages changed.

    A page whose links are still right is not touched (its bytes stay as they are).
    """
    present = _pages_on_disk(out)
    for year, name in sorted(pages):
        path = out / str(year) / f"{name}.html"
        page = path.read_text(encoding="utf-8")
        updated = set_nav(page, page_nav(year, name, present))
        if updated != page:
            atomic_write_text(path, updated)
            log.info("navigation of %s/%s.html brought up to date", year, name)


def _write_run_states(
    out: Path, years: list[int], runs: list[RunResult], kf_keys: dict[int, str]
) -> None:
    """Record each year's runs and key-figure key in ``<year>/runs.json`` (kept entries stay)."""
    for year in years:
        ydir = out / str(year)
        state = read_json_dict(ydir / "runs.json")
        for r in runs:
            if r.year == year:
                state[r.notebook] = {k: v for k, v in asdict(r).items() if k != "page"}
        state["_key_figures"] = kf_keys[year]
        atomic_write_text(ydir / "runs.json", json.dumps(state, ensure_ascii=False, indent=2))
