"""Where the runs of a batch execute: in this process, or in a local process pool.

The batch (:mod:`.batch`) plans *what* to run; this module decides *where*: one job runs in the
calling process, several in a :class:`~concurrent.futures.ProcessPoolExecutor`. Each finished
run's :class:`~.runs.RunResult` is handed to a callback as it finishes; a crashed worker is a
failed run, never a lost one.

Start method
    ``forkserver`` where the platform has it (Linux, macOS), else ``spawn`` (Windows); never
    ``fork`` (the caller may have threads, and a forked child can inherit a lock no thread will
    release). ``$ZHENGSHOU_START_METHOD`` (``forkserver`` or ``spawn``) or the ``start_method``
    keyword of :func:`execute_tasks` chooses it; :func:`start_method` is the one place that reads
    the variable. The tests run a whole batch under ``spawn``, the route Windows takes.

No orphans
    Every process a run starts ends when the run ends, however it ends. What stayed alive before
    (measured after ``kill -9`` of ``zhengshou batch --jobs 2``): both pool workers, the
    forkserver and the resource tracker, indefinitely (the kernel of a notebook under way until
    its notebook finished, and the next queued one was started). Why: a worker waits for its
    next call on a pipe whose write end it holds itself (CPython pickles both ends of the call
    queue into every worker), so the death of the batch never gives it an end of file; the
    forkserver exits only when every holder of its "alive" pipe has gone, and each worker holds
    one; the resource tracker likewise. So it is enough that the *workers* end:

    * each worker starts a **watchdog thread** (the pool initializer, :func:`_init_worker`) that
      polls every :data:`_WATCH_SECONDS` whether the batch process still exists, known by its pid
      *and* creation time (:mod:`psutil`; a pid the system gave to another process does not count
      as alive, a zombie counts as dead; never ``os.kill(pid, 0)``, which on Windows terminates
      the process). When it is gone, the watchdog kills the worker's descendants (its kernels and
      their children) and ends the worker; the forkserver and the resource tracker then see their
      pipes close and exit. Polling works alike on Linux and Windows.
    * ``prctl(PR_SET_PDEATHSIG)`` is not used: under forkserver a worker's parent is the
      forkserver, which outlives the batch as long as the worker holds its pipe, so the signal
      would not come; under spawn it would, but a SIGKILL gives the worker no chance to end its
      kernels, which jupyter_client starts in a session of their own (so neither the batch's
      process group nor a signal to the worker reaches them). Linux-only, too.
    * a kernel whose worker dies by itself (out of memory) ends on its own: ipykernel polls its
      parent and exits when it has gone.
    * in the batch process, an exception or Ctrl-C (``KeyboardInterrupt``) while runs are under
      way cancels what has not started, kills the workers and their descendants and shuts the
      pool down before the exception goes on; workers ignore SIGINT (a Ctrl-C at a terminal
      reaches the whole process group: the batch alone decides). After a normal end, what a
      worker left behind (a warm kernel) is ended with it.

Progress
    ``"bar"`` (a tqdm bar naming the report that finished last: a terminal, a notebook), ``"lines"``
    (one line per finished report on stderr, ``2021/30_funding ok 12.3 s [3/24]``: a log, a pipe,
    a service) or ``"none"``; ``True`` is the bar and ``False`` none, as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Literal

import psutil

from ..exceptions import ParameterError
from .kernels import shutdown_thread_kernel, thread_kernel, warm_kernels_enabled
from .runs import KERNEL_NAME, RunResult, RunTask, execute_run, prepare_worker

__all__ = [
    "START_METHOD_ENV",
    "FigureJob",
    "LocalPool",
    "Progress",
    "execute_tasks",
    "local_pool",
    "start_method",
    "submission_order",
]

log = logging.getLogger(__name__)

#: Relative cost of the notebooks (the ones that fit forecast models run longest).
_COST = {"00_overview": 3, "30_funding": 3, "50_delivery": 2, "40_transition_fees": 2}
#: The pool takes the other jobs (a period's key figures and office files) after the runs of at
#: least this cost: those fit the period's models into the batch's model store, after which the
#: key figures and office files (5–10 s: the work summary, the workbook) take longer than a light
#: page, so they go before the light pages (longest first) and the batch does not end on them.
_JOBS_AFTER_COST = 3

#: Imported once by the forkserver, so that every worker starts with them loaded (the local pool's
#: and a ``local:N`` cluster's, :mod:`.cluster`).
WORKER_PRELOAD = [
    "zhengshou_analysis.report.batch",
    "zhengshou_analysis.report.runs",
    "zhengshou_analysis.report.kernels",
    "zhengshou_analysis.report.pages",
    "papermill",
    "nbconvert",
]

#: The environment variable that chooses the pool's start method (read by :func:`start_method`).
START_METHOD_ENV = "ZHENGSHOU_START_METHOD"
#: The start methods the pool may use (``fork`` is not one: see the module docstring).
_START_METHODS = ("forkserver", "spawn")

#: Seconds between two looks of a worker's watchdog at the batch process (and of the batch at its
#: futures, so that Ctrl-C is seen on Windows too, where a blocking wait is not interrupted).
_WATCH_SECONDS = 0.5
#: Seconds to wait for killed processes to be gone.
_KILL_WAIT_SECONDS = 5.0

#: A job besides the notebook runs: a module-level function and its (picklable) arguments.
FigureJob = tuple[Callable[..., None], Sequence[Any]]

#: How progress is shown: a bar, one line per finished report on stderr, or nothing.
Progress = bool | Literal["bar", "lines", "none"]


def start_method(requested: str | None = None) -> str:
    """The start method of the worker pool.

    Parameters
    ----------
    requested
        ``"forkserver"`` or ``"spawn"``; ``None``: ``$ZHENGSHOU_START_METHOD`` when set (and not
        empty), else ``forkserver`` where the platform has it, else ``spawn`` (Windows).

    Returns
    -------
    str
        ``"forkserver"`` or ``"spawn"``.

    Raises
    ------
    ParameterError
        On another name, or ``forkserver`` on a platform without it (Windows), naming the
        variable or keyword that asked for it.
    """
    source = "start_method"
    if requested is None:
        requested = os.environ.get(START_METHOD_ENV, "").strip() or None
        source = f"${START_METHOD_ENV}"
    available = multiprocessing.get_all_start_methods()
    if requested is None:
        return "forkserver" if "forkserver" in available else "spawn"
    if requested not in _START_METHODS:
        raise ParameterError(
            f"{source}={requested!r} is not a start method of the report pool: "
            f"use {' or '.join(_START_METHODS)} (or leave it unset)"
        )
    if requested not in available:
        raise ParameterError(
            f"{source}={requested!r}: this platform ({sys.platform}) has no {requested}; "
            "use spawn (or leave it unset)"
        )
    return requested


def execute_tasks(
    tasks: list[RunTask],
    figure_jobs: list[FigureJob],
    *,
    jobs: int | None,
    progress: Progress,
    on_run: Callable[[RunResult], None] | None,
    start_method: str | None = None,
    scheduler: str | None = None,
    pool: LocalPool | None = None,
) -> list[RunResult]:
    """Execute the runs and the other jobs, in worker processes when more than one job, or on a
    Dask cluster.

    Parameters
    ----------
    tasks
        The notebook runs (sorted here, longest first).
    figure_jobs
        Further jobs ``(function, args)`` (a period's key figures and office files); the first
        error of one is raised once every run and job has finished (the runs' results have been
        handed to ``on_run`` by then).
    jobs
        Parallel processes (default: the number of cores; at most one per job). One job runs
        everything in this process.
    progress
        ``"bar"`` (or ``True``): a progress bar naming the report that finished last;
        ``"lines"``: one line per finished report on stderr (``2021/30_funding ok 12.3 s
        [3/24]``), for output that is not a terminal; ``"none"`` (or ``False``): nothing.
    on_run
        Called with each run's result as it finishes.
    start_method
        ``"forkserver"`` or ``"spawn"`` for the pool (default: :func:`start_method`, which reads
        ``$ZHENGSHOU_START_METHOD``).
    scheduler
        Run on a Dask cluster instead of the local pool: ``tcp://HOST:8786`` (a running
        ``dask scheduler``), a scheduler file, or ``local:N`` (a local cluster of N processes
        started for this call); see :mod:`.cluster` for what workers need. ``jobs`` and
        ``start_method`` do not apply then.
    pool
        A local pool started ahead (:func:`local_pool`), whose workers may have their kernels
        ready; it is used (and shut down when done) instead of a new one. ``jobs`` and
        ``start_method`` do not apply then.

    Returns
    -------
    list of RunResult
        One per task, in the order they finished. A run whose worker process died (killed, out
        of memory) is ``failed`` with a message saying so, as is every run that had not finished
        when the pool broke.

    Raises
    ------
    ParameterError
        On an unknown start method or progress mode (before anything runs).
    KeyboardInterrupt
        On Ctrl-C, after the workers and every process they started have been ended.
    """
    mode = _progress_mode(progress)
    method = _resolve_start_method(start_method)
    # longest first (the overview and funding notebooks fit models), key figures fill the gaps;
    # a notebook's runs for every period before the next notebook, so that the workers start on
    # different periods: each fits its period's models once into the batch's model store
    # (figures.modelstore) instead of one waiting for the other's, and later runs read them
    tasks = sorted(tasks, key=lambda t: (-_COST.get(t.notebook, 1), t.notebook))
    results: list[RunResult] = []
    if not tasks and not figure_jobs:
        return results
    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks) + len(figure_jobs)))
    reporter = _Reporter(mode, len(tasks))

    def done(r: RunResult) -> None:
        results.append(r)
        log.info("%s %s: %s (%.0f s)", r.folder, r.notebook, r.status, r.seconds)
        reporter.update(r)
        if on_run:
            on_run(r)

    job_errors: list[BaseException] = []
    try:
        if scheduler is not None:
            from .cluster import execute_on_cluster

            execute_on_cluster(tasks, figure_jobs, scheduler=scheduler, done=done)
        elif pool is not None:
            _execute_in_pool(tasks, figure_jobs, pool, done, job_errors)
        elif workers == 1:
            prepare_worker()
            try:
                for t in tasks:
                    done(execute_run(t))
            finally:  # the warm kernel of these runs ends with them (this process goes on)
                shutdown_thread_kernel()
            for function, args in figure_jobs:
                try:
                    function(*args)
                except Exception as exc:  # noqa: BLE001 - raised below, after the other jobs
                    job_errors.append(exc)
        else:
            with local_pool(jobs=workers, start_method=method) as fresh:
                if fresh is None:  # pragma: no cover - more than one worker is a pool
                    raise AssertionError("no pool for more than one worker")
                _execute_in_pool(tasks, figure_jobs, fresh, done, job_errors)
    finally:
        reporter.close()
    if job_errors:  # every run has finished and been handed on: now the job's error surfaces
        raise job_errors[0]
    return results


# module-level name of the function, for the keyword of execute_tasks that shadows it
_resolve_start_method = start_method


def _progress_mode(progress: Progress) -> Literal["bar", "lines", "none"]:
    """The progress mode of ``progress`` (``True``: the bar, ``False``: none)."""
    if progress is True:
        return "bar"
    if progress is False:
        return "none"
    if progress in ("bar", "lines", "none"):
        return progress
    raise ParameterError(f"progress={progress!r}: use 'bar', 'lines' or 'none' (or True, False)")


class _Reporter:
    """Shows the runs' progress: a bar, one line per finished report on stderr, or nothing."""

    def __init__(self, mode: Literal["bar", "lines", "none"], total: int) -> None:
        self.mode = mode if total else "none"
        self.total = total
        self.count = 0
        self.bar: Any = None
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="报告", unit="个")

    def update(self, r: RunResult) -> None:
        """Count the finished run ``r`` and show it."""
        self.count += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"{r.folder} {r.notebook}", refresh=False)
            self.bar.update()
        elif self.mode == "lines":
            sys.stderr.write(f"{_progress_line(r)} [{self.count}/{self.total}]\n")
            sys.stderr.flush()

    def close(self) -> None:
        """Close the bar (nothing for lines)."""
        if self.bar is not None:
            self.bar.close()


def _progress_line(r: RunResult) -> str:
    """A finished run in one line: ``2021/30_funding ok 12.3 s`` (folder/notebook, status, seconds)."""
    return f"{r.folder}/{r.notebook} {r.status} {r.seconds:.1f} s"


class LocalPool:
    """A pool of worker processes on this machine, started before the batch knows its work.

    Creating it returns at once; a background thread then starts the workers (the forkserver's
    imports of :data:`WORKER_PRELOAD` first, on a fresh machine the longest part), and each
    worker starts its warm kernel (:meth:`.kernels.WarmKernel.start_soon`) while the batch is
    still cleaning the ledgers and planning its runs, on the other cores. Use it through
    :func:`local_pool`, which ends it however the batch ends.

    Parameters
    ----------
    workers
        Worker processes (at least 2: one worker runs everything in the batch process).
    method
        ``"forkserver"`` or ``"spawn"`` (:func:`start_method`).
    kernel_cwd
        The notebooks' folder: a worker starts its warm kernel there at once (``None``: at its
        first run, as a pool that is handed its work at once does).
    model_store
        The batch's model store (:mod:`~..figures.modelstore`), set in each worker's environment
        before its kernel starts, so that the kernel inherits it as the runs' kernels must.
    """

    def __init__(
        self,
        workers: int,
        method: str,
        *,
        kernel_cwd: str | None = None,
        model_store: str | None = None,
    ) -> None:
        ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(WORKER_PRELOAD)
        me = psutil.Process()
        self.workers = workers
        self.executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(me.pid, me.create_time(), kernel_cwd or "", model_store or ""),
        )
        self.closed = False
        self._starter = threading.Thread(
            target=self._start_workers, name="zhengshou-pool-start", daemon=True
        )
        self._starter.start()

    def _start_workers(self) -> None:
        """Start every worker (a process per submitted job, up to ``workers``) with an empty job."""
        try:
            for _ in range(self.workers):
                self.executor.submit(_worker_ready)
        except Exception as exc:  # noqa: BLE001 - the runs' own submissions report a broken pool
            log.debug("starting the pool's workers ahead failed: %s", exc)

    def wait_started(self) -> None:
        """Wait until the workers have been started (their kernels may still be starting)."""
        self._starter.join()

    def shut_down(self) -> None:
        """End the pool after its work: the workers exit, what they left (a warm kernel) is
        killed. Idempotent."""
        if self.closed:
            return
        self.wait_started()
        leftovers = _pool_processes(self.executor, workers=False)
        self.executor.shutdown(wait=True)
        _kill([p for p in leftovers if _is_alive(p)])
        self.closed = True

    def abort(self) -> None:
        """End the pool at once (:func:`_abort`): an error, Ctrl-C, or nothing to do. Idempotent."""
        if self.closed:
            return
        self.wait_started()
        _abort(self.executor)
        self.closed = True


@contextmanager
def local_pool(
    *,
    jobs: int | None,
    start_method: str | None = None,
    kernel_cwd: str | None = None,
    model_store: str | None = None,
) -> Iterator[LocalPool | None]:
    """A :class:`LocalPool` started now, ended when the block ends; ``None`` for one job.

    Parameters
    ----------
    jobs
        Worker processes (default: the number of cores). One means no pool: the batch runs
        everything in its own process.
    start_method
        As for :func:`execute_tasks`.
    kernel_cwd, model_store
        As for :class:`LocalPool`.

    Yields
    ------
    LocalPool or None
        The pool, for :func:`execute_tasks`; it shuts it down after the work. A pool still open
        when the block ends (the batch had nothing to do, or stopped on an error) is ended at
        once, its workers and their kernels killed.

    Raises
    ------
    ParameterError
        On an unknown start method.
    """
    method = _resolve_start_method(start_method)
    workers = jobs or os.cpu_count() or 1
    if workers < 2:
        yield None
        return
    pool = LocalPool(workers, method, kernel_cwd=kernel_cwd, model_store=model_store)
    try:
        yield pool
    finally:
        pool.abort()


def _worker_ready() -> None:
    """The empty job that starts a worker of a :class:`LocalPool` ahead of its work."""


def _execute_in_pool(
    tasks: list[RunTask],
    figure_jobs: list[FigureJob],
    pool: LocalPool,
    done: Callable[[RunResult], None],
    job_errors: list[BaseException],
) -> None:
    """Execute in a process pool, handing each run's result to ``done`` as it finishes and each
    job's error to ``job_errors``.

    Forkserver (or spawn), not fork: the caller may have threads (a notebook kernel, a web
    server), and a child forked from it can inherit a lock that no thread will release. The
    forkserver starts from a fresh interpreter and preloads the heavy modules once. A crashed
    worker is a failed run; an error in a job (the key figures) is collected for the caller.
    However this ends (normally, an exception, Ctrl-C), no process of the pool is left behind.
    """
    pool.wait_started()
    executor = pool.executor
    try:
        runs: dict[Future[Any], RunTask] = {}
        pending: set[Future[Any]] = set()
        for item in submission_order(tasks, figure_jobs):  # the pool starts them in this order
            fut: Future[Any]
            if isinstance(item, RunTask):
                fut = executor.submit(execute_run, item)
                runs[fut] = item
            else:
                function, args = item
                fut = executor.submit(function, *args)
            pending.add(fut)
        while pending:
            # a timeout, so that Ctrl-C is seen on Windows too (a plain wait is not interrupted)
            finished, pending = wait(pending, timeout=_WATCH_SECONDS, return_when=FIRST_COMPLETED)
            for fut in finished:
                if fut in runs:
                    done(_result_of(fut, runs[fut]))
                elif (error := fut.exception()) is not None:  # raised once all have ended
                    job_errors.append(error)
    except BaseException:
        log.warning("the batch stops: ending its worker processes and what they started")
        pool.abort()
        raise
    # a worker's leftovers (a warm kernel) are orphaned once the worker exits: end them too
    pool.shut_down()


def submission_order(
    tasks: list[RunTask], figure_jobs: list[FigureJob]
) -> list[RunTask | FigureJob]:
    """The order in which a pool is handed the runs and the other jobs.

    Parameters
    ----------
    tasks
        The runs, longest first (as :func:`execute_tasks` sorts them).
    figure_jobs
        The other jobs (a period's key figures and office files).

    Returns
    -------
    list
        The runs of cost at least :data:`_JOBS_AFTER_COST` (the pages that fit the models), then
        the other jobs, then the lighter runs.
    """
    first = [t for t in tasks if _COST.get(t.notebook, 1) >= _JOBS_AFTER_COST]
    rest = [t for t in tasks if _COST.get(t.notebook, 1) < _JOBS_AFTER_COST]
    return [*first, *figure_jobs, *rest]


def _result_of(fut: Future[RunResult], task: RunTask) -> RunResult:
    """The result of a finished run; a worker that crashed gives a failed run."""
    try:
        return fut.result()
    except BrokenProcessPool:
        error = (
            "a worker process of the batch ended abruptly (killed, or out of memory) before this "
            "run finished; run the batch again (with fewer --jobs if memory is short)"
        )
    except Exception as exc:  # noqa: BLE001 - a crashed worker is a failed run
        error = f"{type(exc).__name__}: {exc}"
    log.error("%s %s failed: %s", task.period.folder, task.notebook, error)
    return RunResult(task.period, task.notebook, "failed", task.run_key, 0.0, error)


def _pool_processes(pool: ProcessPoolExecutor, *, workers: bool = True) -> list[psutil.Process]:
    """The pool's worker processes (with ``workers``) and all their descendants (kernels, …)."""
    found: list[psutil.Process] = []
    for pid in list(pool._processes or {}):  # the pool keeps no public list of its workers
        try:
            worker = psutil.Process(pid)
            found.extend(worker.children(recursive=True))
        except psutil.NoSuchProcess:
            continue
        if workers:
            found.append(worker)
    return found


def _abort(pool: ProcessPoolExecutor) -> None:
    """End the pool at once: cancel what has not started, kill the workers and their descendants."""
    doomed = _pool_processes(pool)
    pool.shutdown(wait=False, cancel_futures=True)
    _kill(doomed)
    pool.shutdown(wait=True)


def _kill(processes: Iterable[psutil.Process]) -> None:
    """Kill ``processes`` (gone ones are skipped) and wait until they are gone."""
    processes = list(processes)
    for p in processes:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
        except psutil.AccessDenied:  # not ours (a pid reused meanwhile): leave it
            log.debug("cannot end process %s", p.pid)
    _, alive = psutil.wait_procs(processes, timeout=_KILL_WAIT_SECONDS)
    for p in alive:
        log.warning(
            "process %s did not end within %.0f s of being killed", p.pid, _KILL_WAIT_SECONDS
        )


def _is_alive(p: psutil.Process) -> bool:
    """Whether ``p`` (the very process, not one that got its pid later) still runs."""
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# --- in the worker process --------------------------------------------------------------------------


def _init_worker(
    batch_pid: int, batch_created: float, kernel_cwd: str = "", model_store: str = ""
) -> None:
    """Set up a pool worker: ignore Ctrl-C, watch the batch process, :func:`prepare_worker`,
    then start the warm kernel.

    Parameters
    ----------
    batch_pid, batch_created
        The batch process: its pid and creation time (seconds since the epoch, as
        :meth:`psutil.Process.create_time` gives it).
    kernel_cwd
        Start the worker's warm kernel there now, on a background thread (``""``: at the first
        run). The first run waits for it.
    model_store
        The batch's model store, put into the environment first (``""``: none): the kernel
        inherits it, and a run setting the same store leaves the environment as the kernel has it.
    """
    # a Ctrl-C at a terminal reaches every process of the group: the batch decides, and ends us
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_watch_batch,
        args=(batch_pid, batch_created),
        name="zhengshou-batch-watchdog",
        daemon=True,
    ).start()
    prepare_worker()
    if model_store:
        from ..figures.modelstore import MODEL_STORE_ENV

        os.environ[MODEL_STORE_ENV] = model_store
    if kernel_cwd and warm_kernels_enabled():
        thread_kernel(KERNEL_NAME).start_soon(kernel_cwd)


def _batch_alive(pid: int, created: float) -> bool:
    """Whether the process ``pid`` created at ``created`` still runs (a zombie does not)."""
    try:
        p = psutil.Process(pid)
        return abs(p.create_time() - created) < 1.0 and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # ZombieProcess too
        return False
    except psutil.AccessDenied:  # it exists; only its details are hidden
        return True


def _watch_batch(pid: int, created: float) -> None:
    """The worker's watchdog: when the batch process is gone, end the worker's descendants and
    the worker itself (nothing else would: see the module docstring)."""
    while _batch_alive(pid, created):
        time.sleep(_WATCH_SECONDS)
    log.warning("the batch process %s has gone: ending this worker and its kernels", pid)
    try:
        _kill(psutil.Process().children(recursive=True))
    finally:
        os._exit(1)
