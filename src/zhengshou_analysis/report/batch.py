"""Report runs by period: plan the runs, execute them in a process pool, write pages and state.

A run is identified by its *period* (:class:`~zhengshou_analysis.periods.Period`): a year (as of
31 December), a month (as of its last day, 一月一调度) or an ad-hoc reporting date. Each period has
its own folder, so that no run ever overwrites another period's pages.

Layout of an output folder (``reports/`` by default)::

    index.html                        start here: years, months and other dates apart, each labelled
    provenance.json                   the batch's inputs for audit: data folder, fingerprints, version
    <yyyy>/                           a year: the six reports of catalog.NOTEBOOKS
    <yyyy-mm>/                        a month: the 调度简报 of catalog.MONTHLY_NOTEBOOKS
    <yyyy-mm-dd>/                     an ad-hoc reporting date: the six reports, labelled 截至…
    <period>/<notebook>.html          the report, code hidden, figures embedded, no network needed;
                                      prints on A4 with page numbers
    <period>/<notebook>.ipynb         the executed notebook (the run log: parameters, outputs)
    <period>/<notebook>.failed.ipynb  kept when a run fails (the good report it would replace stays)
    <yyyy>/工作总结_<单位>_<yyyy>.docx   a year's (or a date's) work summary in Word
    <yyyy>/报表_<单位>_<yyyy>.xlsx       its tables in Excel
    <yyyy-mm>/调度简报_<单位>_<yyyy-mm>.docx  a month's one-page dispatch brief in Word
    <period>/key_figures.json         the figures of docs/indicators.md at the period's end (a
                                      month's with its changes since last month and since January)
    <period>/runs.json                per notebook: status, run key, duration, finish time (UTC)

Every page links to the index and to the other reports of its folder; a year's page to the same
report of the previous and next year, a month's to the previous and next month and to its year's
overview (relative links: the folder can be copied to a shared drive and opened offline). A run is
skipped when its *run key* (data fingerprint, notebook bytes, parameters, package source) matches
the last successful run and its HTML is present. The data fingerprint covers the ledgers as known
at the period's end (``catalog.NOTEBOOK_DATA_SCOPE``; the data-quality page and a year's workbook
cover every raw file), so a payment changed in May re-runs May to December and the year, not
January to April. The navigation of a skipped page is still brought up to date. Every file is
written to a temporary name and renamed, so a crash never leaves a half-written report where a
good one was.

The data flow: :func:`run_batch` settles the periods (:func:`settle_periods`), plans
(``catalog``, ``runs.run_key``), executes each run through ``engine`` (in a process pool;
``runs.execute_run`` renders the page with ``pages``) and each period's key figures and office files (``_write_key_figures``),
fills the navigation of the new pages, embeds one font subset in them and writes them
(``files``), updates the navigation of the pages already there, records ``runs.json`` and
refreshes the index (``index``). A batch after which the same batch has nothing to do records
its key and the folder's files (``batchkey``; after a batch that made pages, with the texts that
batch writes: the pages' states turned to unchanged, :func:`_next_writes`), so that the same batch
again is answered without loading the ledgers; every batch removes that record when it takes the
folder's lock.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .._version import __version__
from ..exceptions import InputChangedError, ParameterError
from ..ledger.store import check_unchanged
from ..outfolder import (
    apply_umask,
    check_output_folder,
    folder_lock,
    folder_size,
    output_error,
    remove_stale_temporaries,
    translated_os_errors,
)
from ..periods import Period, parse_months
from .batchkey import NextWrite, batch_key, forget_unchanged, parse_years, record_unchanged
from .catalog import (
    MONTHLY_NOTEBOOKS,
    NOTEBOOK_DATA_SCOPE,
    NOTEBOOKS,
    OFFICE_DATA_SCOPE,
    DataScope,
    default_notebook_dir,
    notebooks_of,
)
from .city import in_city
from .engine import LocalPool, Progress, execute_tasks, local_pool
from .files import CITY_FOLDER, CITY_MARKER, atomic_write_text, office_file_name, read_json_dict
from .index import (
    INDEX_KEY_NAME,
    INDEX_WORDS,
    index_due,
    index_files,
    index_key,
    office_files_of,
    refresh_index,
)
from .pages import FontSubset, embed_shared_font, page_nav, set_nav
from .runs import RunResult, RunTask, digest, run_key, tables_fingerprint
from .stamps import PLACEHOLDER, StampKind, open_stamp

__all__ = ["BatchResult", "parse_years", "run_batch", "settle_periods"]

if TYPE_CHECKING:
    import pandas as pd

    from ..profile import Profile

log = logging.getLogger(__name__)

#: The prefix of a batch's staging folder in the reports folder (then its PID and ``-…``).
_STAGING = ".staging-"
#: The batch's model store on a cluster, inside its staging folder (removed with it): the fitted
#: models and forecasts its runs share (:mod:`~zhengshou_analysis.figures.modelstore`). On this
#: machine the store is a temporary folder (``zs-models-…``), off the reports disk: the demo's
#: store holds a few MB per period, which a nearly full reports disk should not have to find.
_MODEL_STORE = ".models"

#: The writer of each office file (``index.OFFICE_FILES``, ``index.MONTHLY_OFFICE_FILES``): the
#: module of ``report`` and its function ``(rep, path) -> None``, imported in the worker.
_OFFICE_WRITERS: dict[str, tuple[str, str]] = {
    "工作总结": ("officedoc", "write_summary_docx"),
    "报表": ("spreadsheet", "write_report_workbook"),
    "调度简报": ("officedoc", "write_dispatch_docx"),
}


def settle_periods(
    *,
    years: Iterable[int] | None,
    months: Iterable[Period] | str | None,
    as_of: str | None,
    available: Sequence[int],
) -> list[Period]:
    """The periods of a batch, sorted: the years, the months, or the one reporting date.

    Parameters
    ----------
    years
        Reporting years (each as of its 31 December).
    months
        Months (:class:`~zhengshou_analysis.periods.Period` or the text of ``--months``:
        ``2021``, ``2021-01..2021-06``, ``2021-03,2021-05``; :func:`~.periods.parse_months`).
    as_of
        One reporting date: its period (:meth:`Period.of_date`): a 31 December is the year, a
        month's last day the month, any other date a period of its own.
    available
        The years of the projects ledger: the periods when neither years, months nor a date are
        given.

    Raises
    ------
    ParameterError
        On a malformed month or date, on a date beside months, or beside a year other than its own.
    """
    year_list = sorted({int(y) for y in years}) if years is not None else None
    if isinstance(months, str):
        month_list = parse_months(months)
    else:
        month_list = sorted(set(months)) if months is not None else []
    if as_of is not None and str(as_of).strip():
        period = Period.of_date(as_of)
        if month_list or (year_list is not None and year_list != [period.year]):
            raise ParameterError(
                f"--as-of {as_of} reports one date (its period {period.folder}): give no --months "
                "and at most its own --year; for several months use --months 2021-01..2021-06"
            )
        return [period]
    if year_list is None:
        year_list = [] if month_list else sorted({int(y) for y in available})
    return sorted({*(Period.year_end(y) for y in year_list), *month_list})


@dataclass
class BatchResult:
    """Every run of a batch, and where the index is."""

    runs: list[RunResult] = field(default_factory=list)
    index: Path | None = None
    faults: list[str] = field(default_factory=list)  # work that could not be written, in words

    @property
    def failed(self) -> list[RunResult]:
        """The runs that failed."""
        return [r for r in self.runs if r.status == "failed"]


class _FigureJob(NamedTuple):
    """The key figures and office files of one period (the arguments of the worker call)."""

    data_dir: str
    period: Period
    seed: int
    horizon: int
    folder: str
    profile_path: str = ""
    model_store: str = ""


@dataclass
class _Plan:
    """What a batch has to do: runs to execute, runs unchanged, key figures to (re)compute."""

    tasks: list[RunTask] = field(default_factory=list)
    skipped: list[RunResult] = field(default_factory=list)
    figure_jobs: list[_FigureJob] = field(default_factory=list)
    kf_keys: dict[Period, str] = field(default_factory=dict)  # per period, kept in runs.json


@dataclass(frozen=True)
class _Inputs:
    """The checked inputs of a batch, shared by every run."""

    data_dir: Path
    digests: dict[str, str]  # every raw file's digest at the start (checked again at the end)
    data_fp: str
    period_fps: dict[Period, str]
    demo: bool
    nb_dir: Path
    selected: list[str] | None
    periods: list[Period]
    empty_periods: dict[Period, str]
    seed: int
    horizon_months: int
    profile: Profile
    profile_path: str
    extra_parameters: dict

    def data_key(self, scope: DataScope, period: Period) -> str:
        """What a run key covers of the data: the raw folder or the tables as known at the end
        of ``period`` (``scope``), with the profile's fingerprint."""
        data = self.data_fp if scope == "raw" else self.period_fps[period]
        return digest(data, self.profile.fingerprint)

    def names(self, period: Period) -> list[str]:
        """The notebooks ``period`` runs (its catalogue, restricted to the selected ones)."""
        return [n for n in notebooks_of(period) if self.selected is None or n in self.selected]


def run_batch(
    *,
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    years: Iterable[int] | None = None,
    months: Iterable[Period] | str | None = None,
    as_of: str | None = None,
    notebooks: Sequence[str] | None = None,
    jobs: int | None = None,
    seed: int | None = None,
    horizon_months: int | None = None,
    extra_parameters: dict | None = None,
    profile: Profile | None = None,
    force: bool = False,
    notebook_dir: Path | None = None,
    progress: Progress = True,
    on_run: Callable[[RunResult], None] | None = None,
    wait: bool = True,
    on_wait: Callable[[dict], None] | None = None,
    scheduler: str | None = None,
) -> BatchResult:
    """Run the report notebooks for several periods, in parallel, into ``out_dir``.

    Parameters
    ----------
    data_dir
        The raw ledgers (read-only).
    out_dir
        The reports folder; a sub-folder per period (``2021``, ``2021-06``, ``2021-06-15``) and
        ``index.html`` are written there.
    years
        Reporting years: the six reports each, in ``<yyyy>/`` (default, when no months and no
        date are given: every year of the projects ledger).
    months
        Months (periods or the text of ``--months``): the 调度简报 each, in ``<yyyy-mm>/``; may be
        combined with ``years``.
    as_of
        One reporting date (``YYYY-MM-DD``): a 31 December is its year, a month's last day its
        month, any other date a period of its own (``<yyyy-mm-dd>/``, the six reports labelled
        ``2021年（截至6月15日）``). With ``years``, only its own year.
    notebooks
        Notebook names to run (default: every notebook of each period's catalogue,
        :func:`~.catalog.notebooks_of`); a period runs those of its catalogue.
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
        ``"bar"`` (or ``True``), ``"lines"`` (one line per finished report on stderr) or
        ``"none"`` (or ``False``): :func:`~.engine.execute_tasks`.
    on_run
        Called with each executed run's result as it finishes.
    wait
        When another run writes into ``out_dir`` (its lock, :func:`~..outfolder.folder_lock`):
        wait for it (``True``), or raise :class:`~..exceptions.BusyError` at once.
    on_wait
        Called once with the other run's record (PID, start time, host) when waiting for it.
    scheduler
        Execute the runs on a Dask cluster (``tcp://HOST:8786``, a scheduler file, or ``local:N``)
        instead of this machine's process pool (:mod:`.cluster`: the workers need the package and
        the data and reports folders at the same path). Everything else is the same: run keys,
        skipping, staging, the index.

    Returns
    -------
    BatchResult
        Every run's status (a period without ledger rows is one failed run named ``"*"``; a
        page that could not be written is a failed run whose error says why) and the faults
        that stopped part of the work (``faults``: office files that could not be written);
        the caller decides the exit status from ``result.failed`` and ``result.faults``.

    Raises
    ------
    OutputError
        When ``out_dir`` cannot be written at all (a file, read-only, missing, full): the pages
        there stay as they were.
    BusyError
        With ``wait=False``, when another run writes into ``out_dir``.
    InputChangedError
        When a ledger changed while the batch read it, and again in its one repeat: nothing of
        the batch is kept.
    ParameterError, CleanError
        On bad parameters or untrustworthy ledgers (nothing is run).

    Notes
    -----
    One writer per folder: the batch holds ``out_dir``'s lock from planning to the index, so a
    second batch into the same folder waits and then finds its work done (each notebook runs
    once). Workers write into a staging folder ``out_dir/.staging-<pid>-…``; the batch moves
    their files into place only after checking that no ledger changed since it started
    (:func:`~..ledger.store.check_unchanged`; else it discards them and runs once more). A run
    that was killed leaves at most its staging folder and temporary files, which the next batch
    removes.
    """
    out = check_output_folder(Path(out_dir).resolve())
    with folder_lock(out, wait=wait, on_wait=on_wait, what="zhengshou batch"):
        forget_unchanged(out)  # this batch may change the folder: the next one looks again
        _remove_leftovers(out)
        for attempt in (1, 2):
            try:
                return _run_locked(
                    out,
                    {
                        "data_dir": data_dir,
                        "notebook_dir": notebook_dir,
                        "notebooks": notebooks,
                        "years": years,
                        "months": months,
                        "as_of": as_of,
                        "seed": seed,
                        "horizon_months": horizon_months,
                        "extra_parameters": extra_parameters,
                        "profile": profile,
                    },
                    jobs=jobs,
                    force=force,
                    progress=progress,
                    on_run=on_run,
                    scheduler=scheduler,
                )
            except InputChangedError as exc:
                if attempt == 2:
                    raise
                log.warning("%s Running the batch once more.", exc)
    raise AssertionError("unreachable")  # pragma: no cover


def _run_locked(
    out: Path,
    check: dict,
    *,
    jobs: int | None,
    force: bool,
    progress: Progress,
    on_run: Callable[[RunResult], None] | None,
    scheduler: str | None = None,
) -> BatchResult:
    """One batch while holding ``out``'s lock: plan, execute into a staging folder, check that
    the ledgers did not change, move the files into place, write pages, states and the index."""
    # the workers of a cluster share the reports folder, those of this machine a temporary one
    store = None if scheduler else Path(tempfile.mkdtemp(prefix="zs-models-"))
    try:
        # this machine's workers start (and start their kernels) while the ledgers are cleaned
        with local_pool(
            jobs=1 if scheduler else jobs,  # one job or a cluster: no pool here
            kernel_cwd=str(check["notebook_dir"] or default_notebook_dir()),
            model_store=None if store is None else str(store),
        ) as pool:
            return _run_with_pool(out, check, store, pool, jobs, force, progress, on_run, scheduler)
    finally:
        if store is not None:
            shutil.rmtree(store, ignore_errors=True)


def _run_with_pool(
    out: Path,
    check: dict,
    local_store: Path | None,
    pool: LocalPool | None,
    jobs: int | None,
    force: bool,
    progress: Progress,
    on_run: Callable[[RunResult], None] | None,
    scheduler: str | None,
) -> BatchResult:
    """:func:`_run_locked` once its pool is starting (``None``: one job, or a cluster)."""
    inputs = _check_inputs(**check)
    key = _batch_key(inputs, check)  # before the notebooks are read for the run keys
    stage = Path(tempfile.mkdtemp(dir=out, prefix=f"{_STAGING}{os.getpid()}-"))
    store = stage / _MODEL_STORE if local_store is None else local_store
    try:
        plan = _plan(inputs, out, stage, store, force=force)
        if pool is not None and not plan.tasks and not plan.figure_jobs:
            pool.abort()  # nothing to run: the workers started ahead and their kernels end now
        executed: list[RunResult] = []

        def collect(r: RunResult) -> None:
            executed.append(r)
            if on_run:
                on_run(r)

        faults: list[str] = []
        try:
            execute_tasks(
                plan.tasks,
                [(_write_key_figures_staged, (job,)) for job in plan.figure_jobs],
                jobs=jobs,
                progress=progress,
                on_run=collect,
                scheduler=scheduler,
                pool=pool,
            )
        except _StagedWriteFailed as exc:  # a full disk while writing office files
            faults.append(str(exc.args[0]))
        except BrokenProcessPool:  # a worker died while computing key figures
            faults.append(
                "关键数字和办公文件未能全部生成：批处理的一个工作进程意外结束（被终止或内存不足）。"
                "已完成的部分已保存；请重新运行批处理（内存不足时减少 --jobs）。"
            )
        # the ledgers read at the start must be those on disk now: else discard everything
        check_unchanged(inputs.data_dir, inputs.digests)
        for r in executed:
            _explain_write_failure(r, out)
        done_kf = _commit_staged(stage, out, inputs, plan, executed)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    runs = plan.skipped + executed
    runs += [
        RunResult(period, "*", "failed", "", error=message)
        for period, message in inputs.empty_periods.items()
    ]
    needed = sum(folder_size(out / p.folder) for p in inputs.periods)
    font = _write_pages([r for r in runs if r.page is not None], out, needed_bytes=needed)
    with translated_os_errors(out, needed_bytes=needed):
        _write_run_states(out, inputs.periods, runs, plan.kf_keys, done_kf)
    order = [*NOTEBOOKS, *MONTHLY_NOTEBOOKS]
    runs.sort(key=lambda r: (r.period, order.index(r.notebook) if r.notebook in order else 99))
    provenance = {
        "office": inputs.profile.office_name,
        "profile": inputs.profile_path or "（内置默认）",
        "profile_fingerprint": inputs.profile.fingerprint,
        "data_dir": str(inputs.data_dir),
        "data_fingerprint": inputs.data_fp,
        "package_version": __version__,
        "seed": inputs.seed,
        "horizon_months": inputs.horizon_months,
        "periods": [p.folder for p in sorted({*inputs.periods, *inputs.empty_periods})],
    }
    with translated_os_errors(out, needed_bytes=needed):
        index = refresh_index(
            out, demo=inputs.demo, provenance=provenance, force=force, shared_font=font
        )
    nothing_done = not (force or plan.tasks or plan.figure_jobs or inputs.empty_periods or faults)
    settled = not (force or inputs.empty_periods or faults) and done_kf >= {
        job.period for job in plan.figure_jobs
    }
    if nothing_done and all(r.status == "skipped" for r in runs):
        _record_unchanged(out, inputs, check, key, len(runs))
    elif settled and all(r.status in ("ok", "skipped") for r in runs):
        # the next batch has nothing to do either, but turns each 已生成 into 未变化，沿用:
        # settle now what it writes, so that it too is answered at once
        _record_unchanged(
            out,
            inputs,
            check,
            key,
            len(runs),
            lambda: _next_writes(out, inputs, runs, plan.kf_keys, provenance),
        )
    return BatchResult(runs, index, faults)


def _next_writes(
    out: Path,
    inputs: _Inputs,
    runs: list[RunResult],
    kf_keys: dict[Period, str],
    provenance: dict,
) -> list[NextWrite] | None:
    """What the same batch run again with nothing changed writes, in its order, to the byte.

    Called at the end of a batch whose runs all succeeded (or were unchanged) and whose key
    figures and office files are all in place, holding the folder's lock: the next batch plans
    every run as unchanged (:func:`_skipped_run` of the state this batch wrote) and no key
    figures, records those runs in each period's ``runs.json`` (:func:`_run_state`) and rewrites
    the index when that changes its key (:func:`~.index.index_due`), with its own time (the
    texts here are cut at their time stamp, :func:`~.stamps.open_stamp`).

    Returns
    -------
    list of NextWrite or None
        Each file's path in ``out`` (``/``-separated), its text cut at its time stamp and the
        stamp's kind; ``None`` when a text cannot be cut safely (then nothing is recorded).
    """
    states: dict[str, dict] = {}
    texts: dict[str, str] = {}
    writes: list[NextWrite] = []
    for period in inputs.periods:
        now = read_json_dict(out / period.folder / "runs.json")
        again = [
            _skipped_run(period, r.notebook, r.run_key, now.get(r.notebook, {}))
            for r in runs
            if r.period == period
        ]
        states[period.folder] = _run_state(now, period, again, kf_keys, set())
        texts[period.folder] = _state_text(states[period.folder])
        writes.append((f"{period.folder}/runs.json", [texts[period.folder]], ""))
    key = index_key(out, provenance, texts)
    if index_due(out, key):
        files = index_files(
            out, demo=inputs.demo, provenance=provenance, generated=PLACEHOLDER, states=states
        )
        stamped: list[tuple[str, StampKind]] = [
            ("index.html", "beijing"),
            ("provenance.json", "utc"),
        ]
        for name, kind in stamped:
            parts = open_stamp(files[name], kind)
            if parts is None:
                log.info("the time stamp of %s is not where it is expected: no record", name)
                return None
            writes.append((name, parts, kind))
        writes.append((INDEX_KEY_NAME, [key], ""))
    return writes


def _batch_key(inputs: _Inputs, check: dict) -> str:
    """The batch's key (:func:`~.batchkey.batch_key`) from its checked inputs and its arguments."""
    return batch_key(
        data_dir=inputs.data_dir,
        digests=inputs.digests,
        profile=inputs.profile,
        notebook_dir=inputs.nb_dir,
        years=check["years"],
        months=check["months"],
        as_of=check["as_of"],
        notebooks=check["notebooks"],
        seed=check["seed"],
        horizon_months=check["horizon_months"],
        extra_parameters=check["extra_parameters"],
    )


def _record_unchanged(
    out: Path,
    inputs: _Inputs,
    check: dict,
    key: str,
    skipped: int,
    then: Callable[[], list[NextWrite] | None] | None = None,
) -> None:
    """Record a batch after which the same batch has nothing to do
    (:func:`~.batchkey.record_unchanged`), so that it answers at once; only when the key is
    still the one taken before planning (no notebook changed meanwhile; the ledgers were checked
    by :func:`~..ledger.store.check_unchanged`). ``then`` tells what that batch writes first
    (:func:`_next_writes`; ``None`` from it: no record). A record that cannot be made or written
    only means the next batch looks again."""
    if _batch_key(inputs, check) != key:
        return
    try:
        writes = then() if then is not None else []
        if writes is None:
            return
        record_unchanged(
            out, key, skipped, watched=[out.parent / CITY_FOLDER / CITY_MARKER], then=writes
        )
    except OSError as exc:
        log.warning("could not record the unchanged batch in %s: %s", out, exc)


# --- plan -----------------------------------------------------------------------------------------


def _check_inputs(
    data_dir: str | os.PathLike,
    notebook_dir: Path | None,
    notebooks: Sequence[str] | None,
    years: Iterable[int] | None,
    months: Iterable[Period] | str | None,
    as_of: str | None,
    seed: int | None,
    horizon_months: int | None,
    extra_parameters: dict | None,
    profile: Profile | None,
) -> _Inputs:
    """Find the notebooks, clean (or load) the ledgers and settle the periods of the batch.

    Raises
    ------
    ParameterError
        On a missing or unknown notebook, or periods that cannot be settled
        (:func:`settle_periods`).
    CleanError
        On untrustworthy data.
    """
    from ..ledger.store import data_fingerprint, load_ledgers, raw_file_digests
    from ..profile import DEFAULT_PROFILE, load_profile

    data = Path(data_dir).resolve()
    profile = profile or load_profile(raw_dir=data)
    if profile.source is None and profile != DEFAULT_PROFILE:
        raise ParameterError("the batch's profile must come from a file (zhengshou.toml)")
    nb_dir = Path(notebook_dir or default_notebook_dir()).resolve()
    selected = list(notebooks) if notebooks is not None else None
    for n in selected or []:
        if n not in NOTEBOOKS and n not in MONTHLY_NOTEBOOKS:
            raise ParameterError(f"{n} is not a report notebook (report/catalog.py)")
    digests = raw_file_digests(data)  # before reading: what the batch's outputs will be made of
    result_clean = load_ledgers(data, profile=profile)  # raises CleanError on untrustworthy data
    demo = bool(result_clean.manifest.get("synthetic"))
    available = sorted({int(y) for y in result_clean.tables["projects"]["year"].dropna()})
    periods = settle_periods(years=years, months=months, as_of=as_of, available=available)
    empty = _empty_periods(result_clean.tables, periods)
    periods = [p for p in periods if p not in empty]
    needed = {n for p in periods for n in notebooks_of(p) if selected is None or n in selected}
    for n in sorted(needed):
        if not (nb_dir / f"{n}.ipynb").is_file():
            raise ParameterError(f"notebook {n}.ipynb not found in {nb_dir}")
    return _Inputs(
        data_dir=data,
        digests=digests,
        data_fp=data_fingerprint(data, digests),
        period_fps=_period_fingerprints(result_clean.tables, periods, demo=demo),
        demo=demo,
        nb_dir=nb_dir,
        selected=selected,
        periods=periods,
        empty_periods=empty,
        seed=profile.seed if seed is None else int(seed),
        horizon_months=profile.horizon_months if horizon_months is None else int(horizon_months),
        profile=profile,
        profile_path="" if profile.source is None else str(Path(profile.source).resolve()),
        extra_parameters=extra_parameters or {},
    )


def _period_fingerprints(
    tables: Mapping[str, pd.DataFrame], periods: list[Period], *, demo: bool
) -> dict[Period, str]:
    """Per period, the fingerprint of the tables as known at its end (and the demo flag)."""
    from ..figures.vintage import cut_tables_at

    return {
        p: digest(tables_fingerprint(cut_tables_at(tables, p.as_of)), "demo" if demo else "")
        for p in periods
    }


def _empty_periods(tables: Mapping[str, pd.DataFrame], periods: list[Period]) -> dict[Period, str]:
    """The periods no ledger has a row in, with the message naming each (no page is made)."""
    from ..exceptions import EmptyPeriodError
    from ..figures.context import check_period_has_rows
    from ..schemas import table_from

    conformed = {name: table_from(tables, name) for name in tables}
    empty: dict[Period, str] = {}
    for period in periods:
        try:
            check_period_has_rows(conformed, year=period.year, as_of=period.as_of)
        except EmptyPeriodError as exc:
            log.info("no run for %s: %s", period.folder, exc)
            # the message names the year and the date; a month or a date is named first
            empty[period] = str(exc) if period.kind == "year" else f"{period.label_zh}：{exc}"
    return empty


def _plan(inputs: _Inputs, out: Path, stage: Path, store: Path, *, force: bool) -> _Plan:
    """Decide, period by period, which key figures and which notebook runs are due.

    A period's key figures (and office files) are due when their key (data, code, parameters)
    changed or a file is missing; a run is due unless :func:`_unchanged`. Due work writes into
    ``stage/<period>/`` (moved into ``out`` by :func:`_commit_staged`).
    """
    from ..ledger.store import code_fingerprint

    plan = _Plan()
    for period in inputs.periods:
        pdir = out / period.folder
        pdir.mkdir(parents=True, exist_ok=True)
        state = read_json_dict(pdir / "runs.json")
        plan.kf_keys[period] = digest(
            inputs.data_key(OFFICE_DATA_SCOPE[period.kind], period),
            code_fingerprint(),
            period.folder,
            period.kind,
            str(inputs.seed),
            str(inputs.horizon_months),
        )
        if (
            force
            or state.get("_key_figures") != plan.kf_keys[period]
            or not (pdir / "key_figures.json").is_file()
            or not all(
                (pdir / n).is_file() for n in _office_file_names(inputs.profile.office, period)
            )
        ):
            plan.figure_jobs.append(
                _FigureJob(
                    str(inputs.data_dir),
                    period,
                    inputs.seed,
                    inputs.horizon_months,
                    str(stage / period.folder),
                    inputs.profile_path,
                    str(store),
                )
            )
        for name in inputs.names(period):
            _plan_run(
                plan, inputs, period, name, state.get(name, {}), pdir, stage, store, force=force
            )
    return plan


def _plan_run(
    plan: _Plan,
    inputs: _Inputs,
    period: Period,
    name: str,
    prev: dict,
    pdir: Path,
    stage: Path,
    store: Path,
    *,
    force: bool,
) -> None:
    """Add one notebook run of ``period`` to ``plan``: as a task, or as skipped when unchanged.

    The notebook parameters stay ``year`` and ``as_of``: ``as_of`` is ``""`` for a year (its
    31 December, so that a year's pages are those of a yearly run) and the period's last day
    (or date) otherwise.
    """
    params = {
        "year": int(period.year),
        "as_of": "" if period.kind == "year" else period.as_of_text,
        "data_dir": str(inputs.data_dir),
        "seed": int(inputs.seed),
        "horizon_months": int(inputs.horizon_months),
        "profile_path": inputs.profile_path,
        **inputs.extra_parameters,
    }
    src = inputs.nb_dir / f"{name}.ipynb"
    key = run_key(inputs.data_key(NOTEBOOK_DATA_SCOPE.get(name, "raw"), period), src, params)
    if _unchanged(prev, key, pdir / f"{name}.html", force=force):
        plan.skipped.append(_skipped_run(period, name, key, prev))
    else:
        out_dir = str(stage / period.folder)
        plan.tasks.append(
            RunTask(period, name, str(src), out_dir, params, key, inputs.demo, str(store))
        )


def _skipped_run(period: Period, name: str, key: str, prev: dict) -> RunResult:
    """The result of a run of ``name`` for ``period`` skipped as unchanged (its key ``key``, its
    last run ``prev`` in ``runs.json``, whose finish time it keeps)."""
    return RunResult(
        period,
        name,
        "skipped",
        key,
        0.0,
        None,
        f"{name}.html",
        f"{name}.ipynb",
        prev.get("finished"),
    )


def _unchanged(prev: dict, key: str, page: Path, *, force: bool) -> bool:
    """Whether the last run (``prev`` in ``runs.json``) succeeded with ``key`` and its page exists."""
    return (
        not force
        and prev.get("status") in ("ok", "skipped")
        and prev.get("run_key") == key
        and page.is_file()
    )


# --- execute ----------------------------------------------------------------------------------------


def _office_file_names(office: str, period: Period) -> list[str]:
    """The office files of ``period`` (:func:`~.index.office_files_of`): ``工作总结_港北区_2021.docx``,
    ``报表_港北区_2021.xlsx`` for a year or a date, ``调度简报_港北区_2021-06.docx`` for a month."""
    return [
        office_file_name(kind, office, period.folder, suffix)
        for kind, suffix, _ in office_files_of(period.kind)
    ]


def _write_key_figures(
    data_dir: str,
    period: Period,
    seed: int,
    horizon: int,
    folder: str,
    profile_path: str = "",
    model_store: str = "",
) -> None:
    """Compute the figures of ``period`` and write ``key_figures.json`` and its office files.

    Runs in a pool worker. The key figures are those of
    :func:`~zhengshou_analysis.figures.year.compute_period_figures` (the registry at the period's
    end, and ``period``; a month's with its changes since last month and since January), taken
    from the one reporting context (:func:`~.session.load_report`) that also serves the office
    files, so they carry the same numbers and the forecasts are fitted once: a year's work
    summary and workbook, a month's one-page 调度简报 (``officedoc.write_dispatch_docx``), into
    ``folder`` (the batch's staging folder of the period; :func:`_commit_staged` moves them).
    The models come from the batch's ``model_store`` when a notebook run of the period has
    fitted them already (and are put there for the runs still to come).
    """
    from ..figures.keyfile import key_figures_json
    from ..figures.modelstore import using_store
    from ..figures.year import compute_period_figures
    from .session import load_report

    with using_store(model_store):
        rep = load_report(
            data_dir,
            period=period,
            horizon_months=horizon,
            seed=seed,
            profile_path=profile_path,
        )
        figures = compute_period_figures(  # from the context the office files use: one fit
            rep.tables, period=period, profile=rep.profile, analysis=rep.analysis
        )
        out = Path(folder)
        atomic_write_text(out / "key_figures.json", key_figures_json(figures))
        names = _office_file_names(rep.office, period)
        for (kind, _suffix, _), name in zip(office_files_of(period.kind), names, strict=True):
            module, function = _OFFICE_WRITERS[kind]
            writer = getattr(importlib.import_module(f".{module}", __package__), function)
            writer(rep, out / name)


class _StagedWriteFailed(Exception):
    """A period's key figures or office files could not be written (``args[0]``: in words).

    Plain ``args`` only, so that it crosses the process boundary of the pool intact.
    """


def _write_key_figures_staged(job: _FigureJob) -> None:
    """:func:`_write_key_figures` for one job, a write fault turned into words naming the
    period's folder in the reports folder (not the staging folder the worker writes into)."""
    try:
        _write_key_figures(*job)
    except OSError as exc:
        staged = Path(job.folder)
        final = staged.parent.parent / staged.name
        plain = OSError(exc.errno, exc.strerror or str(exc))
        error = output_error(plain, final, needed_bytes=max(folder_size(final), _MB))
        raise _StagedWriteFailed(
            f"{job.period.label_zh}的关键数字和办公文件未能写入：{error}"
        ) from exc


#: Error numbers of a write that failed because of the location (a notebook run's error text).
_WRITE_FAULT = re.compile(r"\[Errno (28|30|13|1|122)\]")
_MB = 1024 * 1024


def _explain_write_failure(r: RunResult, out: Path) -> None:
    """Put a run that failed because its files could not be written (a full disk, a read-only
    folder: the worker's error text names the errno) in words naming the period's folder."""
    match = _WRITE_FAULT.search(r.error or "") if r.status == "failed" else None
    if match is None:
        return
    code = int(match.group(1))
    folder = out / r.period.folder
    error = output_error(OSError(code, os.strerror(code)), folder, needed_bytes=folder_size(out))
    r.error = str(error)


def _commit_staged(
    stage: Path, out: Path, inputs: _Inputs, plan: _Plan, executed: list[RunResult]
) -> set[Period]:
    """Move what the workers wrote into ``stage`` into the reports folder.

    A period's key figures and office files move together, only when all were written (else
    none, and the period's key-figure key stays old so that the next batch does them again);
    office files of the period under another office name (a renamed office) are removed. Each
    executed run's notebook moves (``<notebook>.ipynb``, or ``<notebook>.failed.ipynb`` beside
    the good report it does not replace). Files get the umask's permissions.

    Returns
    -------
    set of Period
        The periods whose key figures and office files are now in place.
    """
    done: set[Period] = set()

    def move(src: Path, dst: Path) -> None:
        apply_umask(src)
        os.replace(src, dst)

    with translated_os_errors(out):
        for job in plan.figure_jobs:
            period, staged = job.period, stage / job.period.folder
            names = ["key_figures.json", *_office_file_names(inputs.profile.office, period)]
            if not all((staged / n).is_file() for n in names):
                continue
            final = out / period.folder
            for n in names:
                move(staged / n, final / n)
            for kind, suffix, _ in office_files_of(period.kind):
                for stale in final.glob(f"{kind}_*{suffix}"):
                    if stale.name not in names:
                        stale.unlink()
            done.add(period)
        for r in executed:
            if r.ipynb is None:
                continue
            staged_nb = stage / r.period.folder / r.ipynb
            final = out / r.period.folder
            if staged_nb.is_file():
                move(staged_nb, final / r.ipynb)
            if r.status == "ok":
                (final / f"{r.notebook}.failed.ipynb").unlink(missing_ok=True)
    return done


def _remove_leftovers(out: Path) -> None:
    """Remove what a killed batch left in ``out``: its staging folder and temporary files.

    Called while holding the folder's lock, so no other batch is writing them.
    """
    remove_stale_temporaries(out, _STAGING)
    folders = [out, *(p for p in out.iterdir() if p.is_dir() and Period.from_folder(p.name))]
    for folder in folders:
        for p in folder.iterdir():
            if p.is_file() and p.name.startswith(".") and p.suffix in (".tmp", ".ipynb"):
                p.unlink(missing_ok=True)
                log.info("removed %s, left by a run that ended without finishing", p)


# --- write ------------------------------------------------------------------------------------------


def _pages_on_disk(out: Path) -> set[tuple[Period, str]]:
    """Every ``(period, notebook)`` whose page is in ``out`` (any period folder, any batch)."""
    if not out.is_dir():
        return set()
    found = set()
    for pdir in out.iterdir():
        period = Period.from_folder(pdir.name) if pdir.is_dir() else None
        if period is not None:
            found |= {(period, n) for n in notebooks_of(period) if (pdir / f"{n}.html").is_file()}
    return found


def _write_pages(done: list[RunResult], out: Path, *, needed_bytes: int = 0) -> FontSubset | None:
    """Fill each new page's navigation, embed one font subset covering every new page's text,
    write each page atomically, then bring the navigation of the pages already there up to date.

    The links of a page come from the pages present in the reports folder after this batch (the
    new ones and those of earlier batches), so a page of 2021 written last year gains its link to
    2022 when 2022 is first reported, and May's 调度简报 its link to June's. A page that cannot
    be written (a full disk) becomes a failed run whose error says so; the others are written.
    Returns the font subset embedded (``None``: no new page).
    """
    present = _pages_on_disk(out) | {(r.period, r.notebook) for r in done}
    city = in_city(out)
    font = None
    if done:
        pages, font = embed_shared_font(
            [
                set_nav(r.page, page_nav(r.period, r.notebook, present, city=city))
                for r in done
                if r.page is not None
            ],
            also=INDEX_WORDS,  # the index, written next, then embeds the same subset
        )
        for r, page in zip(done, pages, strict=True):
            assert r.html is not None, "a rendered page has its file name (runs.execute_run)"
            r.page = None
            try:
                atomic_write_text(out / r.period.folder / r.html, page)
            except OSError as exc:  # this page failed; the good one before it stays
                error = output_error(exc, out / r.period.folder, needed_bytes=needed_bytes)
                r.status, r.error, r.html = "failed", str(error), None
                present.discard((r.period, r.notebook))
                log.error("%s %s: %s", r.folder, r.notebook, error)
    with translated_os_errors(out, needed_bytes=needed_bytes):
        _refresh_navigation(out, present - {(r.period, r.notebook) for r in done})
    return font


def _refresh_navigation(out: Path, pages: set[tuple[Period, str]]) -> None:
    """Rewrite the navigation of ``pages`` (already on disk) where the folder's pages changed.

    A page whose links are still right is not touched (its bytes stay as they are).
    """
    present = _pages_on_disk(out)
    city = in_city(out)
    for period, name in sorted(pages):
        path = out / period.folder / f"{name}.html"
        page = path.read_text(encoding="utf-8")
        updated = set_nav(page, page_nav(period, name, present, city=city))
        if updated != page:
            atomic_write_text(path, updated)
            log.info("navigation of %s/%s.html brought up to date", period.folder, name)


def _write_run_states(
    out: Path,
    periods: list[Period],
    runs: list[RunResult],
    kf_keys: dict[Period, str],
    kf_written: set[Period] | None = None,
) -> None:
    """Record each period's runs and key-figure key in ``<period>/runs.json`` (kept entries stay;
    :func:`_run_state`)."""
    for period in periods:
        pdir = out / period.folder
        state = _run_state(read_json_dict(pdir / "runs.json"), period, runs, kf_keys, kf_written)
        atomic_write_text(pdir / "runs.json", _state_text(state))


def _run_state(
    state: dict,
    period: Period,
    runs: list[RunResult],
    kf_keys: dict[Period, str],
    kf_written: set[Period] | None = None,
) -> dict:
    """``period``'s runs state ``state`` (its ``runs.json``) with the runs of ``runs`` of the
    period and its key-figure key; a new dict, ``state`` is not changed.

    A period whose key figures were due but not written (``kf_written`` lacks it) keeps its old
    key, so that the next batch writes them.
    """
    new = dict(state)
    for r in runs:
        if r.period == period:
            new[r.notebook] = r.state()
    if kf_written is None or period in kf_written or new.get("_key_figures") == kf_keys[period]:
        new["_key_figures"] = kf_keys[period]
    return new


def _state_text(state: dict) -> str:
    """A period's runs state as ``runs.json`` holds it."""
    return json.dumps(state, ensure_ascii=False, indent=2)
