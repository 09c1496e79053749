"""Where the runs of a batch execute: in this process, or in a local process pool.

The batch (:mod:`.batch`) plans *what* to run; this module decides *where*: one job runs in the
calling process, several in a :class:`~concurrent.futures.ProcessPoolExecutor`. Each finished
run's :class:`~.runs.RunResult` is handed to a callback as it finishes; a crashed worker is a
failed run, never a lost one.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

from .runs import RunResult, RunTask, execute_run, prepare_worker

__all__ = ["FigureJob", "execute_tasks"]

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

#: A job besides the notebook runs: a module-level function and its (picklable) arguments.
FigureJob = tuple[Callable[..., None], Sequence[Any]]


def execute_tasks(
    tasks: list[RunTask],
    figure_jobs: list[FigureJob],
    *,
    jobs: int | None,
    progress: bool,
    on_run: Callable[[RunResult], None] | None,
) -> list[RunResult]:
    """Execute the runs and the other jobs, in worker processes when more than one job.

    Parameters
    ----------
    tasks
        The notebook runs (sorted here, longest first).
    figure_jobs
        Further jobs ``(function, args)`` (a period's key figures and office files); an error
        in one is a bug and is raised.
    jobs
        Parallel processes (default: the number of cores; at most one per job).
    progress
        Show a progress bar of the runs.
    on_run
        Called with each run's result as it finishes.

    Returns
    -------
    list of RunResult
        One per task, in the order they finished.
    """
    # longest first (the overview and funding notebooks fit models), key figures fill the gaps
    tasks = sorted(tasks, key=lambda t: -_COST.get(t.notebook, 1))
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
        log.info("%s %s: %s (%.0f s)", r.folder, r.notebook, r.status, r.seconds)
        if bar:
            bar.set_postfix_str(f"{r.folder} {r.notebook}", refresh=False)
            bar.update()
        if on_run:
            on_run(r)

    if workers == 1:
        prepare_worker()
        for t in tasks:
            done(execute_run(t))
        for function, args in figure_jobs:
            function(*args)
    else:
        _execute_in_pool(tasks, figure_jobs, workers, done)
    if bar:
        bar.close()
    return results


def _execute_in_pool(
    tasks: list[RunTask],
    figure_jobs: list[FigureJob],
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
        figure_futures = [pool.submit(function, *args) for function, args in figure_jobs]
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
            task.period,
            task.notebook,
            "failed",
            task.run_key,
            0.0,
            f"{type(exc).__name__}: {exc}",
        )
