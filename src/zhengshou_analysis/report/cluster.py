"""The runs of a batch on a Dask cluster (``dask.distributed``): ``--scheduler tcp://HOST:8786``.

The batch's unit of work is unchanged: one notebook for one period (``runs.execute_run``, which
renders its page) and one period's key figures and office files. Here they are submitted to a
running ``dask.distributed`` scheduler (``tcp://…``) or to a :class:`~distributed.LocalCluster`
started for the batch (``local:N``: N worker processes on this machine, for trying it out). The
batch itself is unchanged: the same run keys and skipping, the same staging folder and atomic
moves, failures isolated and reported, results gathered into the same index.

What workers need, and why
--------------------------
* **The package installed, the same version** (``pip install zhengshou-analysis`` or the
  wheelhouse, docs/offline_install in the README): a run key includes the package's source
  fingerprint, so a worker with other code would make pages under a key that does not describe
  them. The batch asks every worker first and stops with a message naming the worker that
  differs.
* **The data folder and the reports folder at the same absolute path** (a shared drive, mounted
  alike on every machine). Workers read the raw ledgers (read-only, a few MB) and write each run's
  notebook and office files into the batch's staging folder inside the reports folder; the batch
  process checks and moves them into place. Shipping the inputs by content hash was the other
  choice; it was not taken because every office already keeps its ledgers and reports on a file
  server, the reports folder must be shared for people to read anyway, and one shared path keeps
  a single copy to audit. The batch checks first that every worker sees the same raw files
  (their fingerprint) and can write the staging folder, and names the worker that cannot.
* **One thread per worker process** (``dask worker --nthreads 1 --nworkers N``): a run keeps a
  core busy. Each thread of a worker keeps its own warm kernel (:mod:`.kernels`), so threads never
  share one, but two threads of one process share its memory and the Python's import lock.

A worker that dies mid-run (killed, out of memory, a machine switched off) loses no report: its
run is started again on another worker by the scheduler (up to ``distributed.scheduler.
allowed-failures`` times), and a run that cannot be completed is a failed run with the reason.
A half-written file never reaches the reports folder: workers write into the staging folder and
the batch moves complete files only.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..exceptions import ParameterError
from .engine import WORKER_PRELOAD
from .runs import RunResult, RunTask, execute_run, prepare_worker

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "cluster_client",
    "execute_on_cluster",
    "parse_scheduler",
    "shared_scheduler",
    "worker_identity",
]

log = logging.getLogger(__name__)


def parse_scheduler(text: str) -> tuple[str, int | str]:
    """Parse ``--scheduler``: ``("local", N)`` for ``local:N``, ``("address", "tcp://…")``.

    Raises
    ------
    ParameterError
        On any other form, with the accepted ones.
    """
    value = str(text).strip()
    if value.startswith("local:"):
        n = value.removeprefix("local:")
        if n.isdigit() and 1 <= int(n) <= 256:
            return "local", int(n)
    elif value.startswith(("tcp://", "tls://", "inproc://")) or value.endswith(".json"):
        return "address", value
    raise ParameterError(
        f"--scheduler {text!r} is not understood: give tcp://HOST:8786 (a running dask "
        "scheduler), local:N (N worker processes on this machine) or a scheduler file (.json)"
    )


@contextmanager
def cluster_client(scheduler: str) -> Iterator[Client]:
    """A :class:`distributed.Client` for ``scheduler``; a ``local:N`` cluster ends with it.

    Raises
    ------
    ParameterError
        When ``dask.distributed`` is not installed, or the scheduler cannot be reached.
    """
    kind, value = parse_scheduler(scheduler)
    # dask logs every worker it adds and removes at INFO on its own handlers: quiet unless -v
    quiet = logging.getLogger("zhengshou_analysis").getEffectiveLevel() > logging.INFO
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    if quiet:
        dask_log.setLevel(logging.ERROR)
    try:
        yield from _client(kind, value)
    finally:
        dask_log.setLevel(level)


@contextmanager
def shared_scheduler(scheduler: str | None) -> Iterator[str | None]:
    """The address several batches share: ``local:N`` starts one local cluster for all of them
    (and ends it after); an address or a scheduler file is passed on as it is; ``None`` stays
    ``None`` (the local process pool)."""
    if scheduler is None:
        yield None
        return
    kind, value = parse_scheduler(scheduler)
    if kind != "local":
        yield str(value)
        return
    with cluster_client(scheduler) as client:
        yield str(client.scheduler_info()["address"])


def _distributed() -> ModuleType:
    """The ``distributed`` module, or a :class:`ParameterError` saying how to install it (it is
    the ``cluster`` extra, not a runtime dependency)."""
    try:
        import distributed
    except ImportError:
        raise ParameterError(
            "--scheduler needs dask.distributed: pip install 'zhengshou-analysis[cluster]'"
        ) from None
    return distributed


def _dask_config() -> ModuleType:
    """``dask.config`` (dask comes with distributed; both are the ``cluster`` extra)."""
    try:
        import dask.config
    except ImportError:
        raise ParameterError(
            "--scheduler needs dask.distributed: pip install 'zhengshou-analysis[cluster]'"
        ) from None
    return dask.config


def _client(kind: str, value: int | str) -> Iterator[Client]:
    """The client of :func:`cluster_client` (a generator: the local cluster ends with it)."""
    distributed = _distributed()
    if kind == "local":
        with (
            _workers_from_forkserver(distributed),
            distributed.LocalCluster(
                n_workers=int(value),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
        return
    try:
        if str(value).endswith(".json"):
            client = distributed.Client(scheduler_file=str(value), timeout="20s")
        else:
            client = distributed.Client(str(value), timeout="20s")
    except OSError as exc:
        raise ParameterError(
            f"the dask scheduler {value} cannot be reached ({exc}): start it with `dask "
            "scheduler`, or run without --scheduler (this machine's processes)"
        ) from None
    with client:
        yield client


@contextmanager
def _workers_from_forkserver(distributed: ModuleType) -> Iterator[None]:
    """Start a ``local:N`` cluster's worker processes as the local pool starts its workers.

    dask spawns each worker by default: a fresh interpreter that imports the package, papermill
    and nbconvert on its first run (seconds of CPU per worker). Where the platform has a
    forkserver (Linux, macOS) the workers are forked from one that has imported them once
    (:data:`~.engine.WORKER_PRELOAD`), as the local pool's are; on Windows dask spawns them.
    A forkserver already started in this process (by an earlier pool) keeps its own imports.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    # the dask configuration that distributed.utils.get_mp_context reads
    with _dask_config().set({"distributed.worker.multiprocessing-method": "forkserver"}):
        ctx = distributed.utils.get_mp_context()  # dask's own preload list, then ours beside it
        ctx.set_forkserver_preload(["distributed", *WORKER_PRELOAD])
        yield


def worker_identity(paths: Sequence[str]) -> dict[str, Any]:
    """What a worker sees: package version and source fingerprint, and per raw folder its
    fingerprint (run on every worker before the batch submits anything)."""
    from .._version import __version__
    from ..ledger.store import code_fingerprint, data_fingerprint

    seen: dict[str, Any] = {"version": __version__, "code": code_fingerprint()}
    for p in paths:
        try:
            seen[p] = data_fingerprint(p)
        except Exception as exc:  # noqa: BLE001 - reported to the batch in words
            seen[p] = f"unreadable: {type(exc).__name__}: {exc}"
    return seen


def _check_workers(client: Client, data_dirs: Sequence[str]) -> None:
    """Stop with a message naming every worker whose package or data differs from ours."""
    expected = worker_identity(data_dirs)
    client.wait_for_workers(1, timeout=60)
    problems = []
    for address, seen in sorted(client.run(worker_identity, list(data_dirs)).items()):
        for key, value in expected.items():
            if seen.get(key) != value:
                what = (
                    "the package (version or source) differs"
                    if key in ("version", "code")
                    else f"the data folder {key} differs or is missing ({seen.get(key)})"
                )
                problems.append(f"{address}: {what}")
    if problems:
        raise ParameterError(
            "the dask workers cannot run this batch: "
            + "; ".join(problems)
            + ". Every worker needs the same package installed and the data and reports "
            "folders at the same path (a shared drive); see report/cluster.py"
        )


def _run_on_worker(task: RunTask) -> RunResult:
    """One run on a dask worker (set up like a pool worker first; idempotent)."""
    prepare_worker()
    return execute_run(task)


def _job_on_worker(function: Callable[..., None], args: Sequence[Any]) -> None:
    prepare_worker()
    function(*args)


def execute_on_cluster(
    tasks: Sequence[RunTask],
    figure_jobs: Sequence[tuple[Callable[..., None], Sequence[Any]]],
    *,
    scheduler: str,
    done: Callable[[RunResult], None],
) -> None:
    """Execute the runs and jobs on the dask cluster ``scheduler``; each result to ``done``.

    Parameters
    ----------
    tasks
        The notebook runs (their output folders on the shared reports folder).
    figure_jobs
        Further jobs ``(function, args)``; an error in one surfaces (as from the local pool).
    scheduler
        ``tcp://HOST:8786``, a scheduler file, or ``local:N`` (:func:`parse_scheduler`).
    done
        Called with each run's result as it finishes (in the order they finish).

    Notes
    -----
    Every worker must see the raw folders the runs read (their ``data_dir`` parameter) with the
    fingerprint this process sees, and run the same package; this is checked first. A run whose
    worker died more often than the scheduler allows, or that raised on the worker, is a failed
    run with the reason; the others are unaffected.
    """
    as_completed = _distributed().as_completed

    with cluster_client(scheduler) as client:
        data_dirs = sorted(
            {str(t.parameters["data_dir"]) for t in tasks if "data_dir" in t.parameters}
        )
        _check_workers(client, data_dirs)
        futures = {
            client.submit(
                _run_on_worker,
                t,
                key=f"zs-run-{t.period.folder}-{t.notebook}-{t.run_key}",
                pure=False,
            ): t
            for t in tasks
        }
        job_futures = [
            client.submit(_job_on_worker, function, list(args), pure=False)
            for function, args in figure_jobs
        ]
        for fut in as_completed(list(futures)):
            task = futures[fut]
            try:
                done(fut.result())
            except Exception as exc:  # noqa: BLE001 - a lost worker is a failed run
                log.error("%s %s failed on the cluster: %s", task.period.folder, task.notebook, exc)
                done(
                    RunResult(
                        task.period,
                        task.notebook,
                        "failed",
                        task.run_key,
                        0.0,
                        f"集群上运行失败（{type(exc).__name__}: {exc}）；请重新运行批处理",
                    )
                )
        for job in job_futures:
            job.result()  # an error in the figures surfaces, as from the local pool
