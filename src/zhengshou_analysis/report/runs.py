"""One report run: its run key, and executing one notebook for one period (in a worker process).

A run is skipped when its *run key* (data fingerprint, notebook bytes, parameters, package source)
matches the last successful run. The data fingerprint of most pages covers the ledgers as known at
the period's end only (:func:`tables_fingerprint` of the cut tables; ``catalog.NOTEBOOK_DATA_SCOPE``),
so that a change dated later never re-runs an earlier period. :func:`execute_run` never raises for a
bad run: a failed notebook is kept as ``<notebook>.failed.ipynb`` and reported in the
:class:`RunResult`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..periods import Period
from .catalog import notebook_title
from .pages import FONT_SLOT, footer_html, parameters_in_words, render_html

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "KERNEL_NAME",
    "RunResult",
    "RunTask",
    "digest",
    "execute_run",
    "prepare_worker",
    "run_key",
    "run_parameters_in_words",
    "tables_fingerprint",
]

log = logging.getLogger(__name__)

#: Kernel used for every run: the Python of the environment running the batch.
KERNEL_NAME = "python3"


@dataclass
class RunResult:
    """The outcome of one notebook run for one period.

    ``notebook`` is ``"*"`` for a period that was not run at all (no ledger row in it).
    """

    period: Period
    notebook: str
    status: str  # ok, skipped (unchanged), failed
    run_key: str
    seconds: float = 0.0
    error: str | None = None
    html: str | None = None
    ipynb: str | None = None
    finished: str | None = None
    page: str | None = field(default=None, repr=False)  # the rendered page, until written

    @property
    def year(self) -> int:
        """The period's reporting year (kept for callers that knew yearly runs only)."""
        return self.period.year

    @property
    def folder(self) -> str:
        """The period's folder in the reports folder: ``2021``, ``2021-06``, ``2021-06-15``."""
        return self.period.folder

    def state(self) -> dict[str, Any]:
        """The run as ``runs.json`` records it (plain JSON: the period as its folder name)."""
        out = {k: v for k, v in asdict(self).items() if k not in ("page", "period")}
        return {"period": self.period.folder, "year": self.period.year, **out}


@dataclass
class RunTask:
    """One notebook to execute for one period: everything a worker process needs."""

    period: Period
    notebook: str
    source: str
    out_dir: str
    parameters: dict
    run_key: str
    demo: bool
    #: The batch's model store (:mod:`~zhengshou_analysis.figures.modelstore`; ``""``: none): the
    #: run's kernel reads the period's fitted models there. Not a notebook parameter, not in the
    #: run key: it changes how fast a page is made, never what it shows.
    model_store: str = ""


#: Notebook parameters that every run has (the others are a batch's extra parameters).
_STANDARD_PARAMETERS = frozenset(
    {"year", "as_of", "data_dir", "seed", "horizon_months", "profile_path"}
)


def run_parameters_in_words(parameters: dict) -> str:
    """A run's notebook parameters in words for its page footer (no path, no JSON).

    Parameters
    ----------
    parameters
        The papermill parameters of the run (``seed``, ``horizon_months``, ``as_of``,
        ``profile_path``, …; the year is in the page title, the ledger folder is not shown).

    Returns
    -------
    str
        Escaped HTML text (:func:`~.pages.parameters_in_words`).
    """
    return parameters_in_words(
        seed=parameters.get("seed"),
        horizon_months=parameters.get("horizon_months"),
        as_of=parameters.get("as_of") or None,
        profile=parameters.get("profile_path") or None,
        extra=len(set(parameters) - _STANDARD_PARAMETERS),
    )


def digest(*parts: str) -> str:
    """A short SHA-256 over ``parts`` (NUL-separated): a key that changes when any part does."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def tables_fingerprint(tables: Mapping[str, pd.DataFrame]) -> str:
    """A deterministic fingerprint of canonical tables: names, columns, dtypes and every value.

    Cheap (:func:`pandas.util.hash_pandas_object`, no serialisation) and independent of the row
    index, so that a row added to one table changes its fingerprint only.

    Parameters
    ----------
    tables
        Tables by name (for a run key: the tables as known at a period's end).

    Returns
    -------
    str
        64 hex digits.
    """
    from ..figures.modelstore import tables_content_key

    return tables_content_key(tables, index=False)


def run_key(data_fp: str, nb_path: Path, parameters: dict) -> str:
    """The key of a run: data fingerprint, notebook bytes, parameters and package source.

    Parameters
    ----------
    data_fp
        Fingerprint of the data the page shows (the raw folder, or the tables as known at the
        period's end, with the profile's fingerprint: ``batch`` decides by the page's data scope).
    nb_path
        The notebook to run.
    parameters
        Its papermill parameters.

    Returns
    -------
    str
        24 hex digits; equal keys mean the run would give the same report.
    """
    from ..ledger.store import code_fingerprint

    h = hashlib.sha256()
    for part in (
        data_fp,
        nb_path.read_bytes().hex(),
        json.dumps(parameters, sort_keys=True),
        code_fingerprint(),
    ):
        h.update(part.encode())
    return h.hexdigest()[:24]


#: Seconds a notebook cell may run before the run fails.
_EXECUTION_SECONDS = 900


class _QuietClientGC(logging.Filter):
    """Drop the one harmless warning of a kernel client garbage-collected after its kernel stopped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Could not destroy zmq context")


def prepare_worker() -> None:
    """Set up a process that executes runs (a pool initializer, or the batch process itself)."""
    # one BLAS thread per kernel: the pool already uses every core
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    logging.getLogger("traitlets").addFilter(_QuietClientGC())


def execute_run(task: RunTask) -> RunResult:
    """Run one notebook (in a worker process) and render its HTML; never raises for a bad run.

    Parameters
    ----------
    task
        The notebook, period, parameters and output folder.

    Returns
    -------
    RunResult
        ``ok`` with the rendered page (its font slot still open: the batch embeds one font for
        all pages and writes them), or ``failed`` with the error.
    """
    from ..figures.modelstore import using_store

    started = time.perf_counter()
    with using_store(task.model_store):  # the kernel inherits it when it starts
        tmp_nb, error = _papermill(task)
    seconds = time.perf_counter() - started
    finished = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if error is not None:
        return _keep_failed(task, tmp_nb, error, seconds, finished)
    return _render_ok(task, tmp_nb, seconds, finished)


def _papermill(task: RunTask) -> tuple[Path, str | None]:
    """Execute ``task``'s notebook into a temporary file in its output folder, in the worker's warm
    kernel (:mod:`.kernels`) or, with ``$ZHENGSHOU_WARM_KERNELS=0``, in a fresh kernel.

    Returns
    -------
    tmp_nb : Path
        The executed (or partly executed) notebook; may be empty after an early failure.
    error : str or None
        The error text of a failed run.
    """
    import papermill as pm

    from .kernels import execute_in_warm_kernel, warm_kernels_enabled

    out = Path(task.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out, prefix=f".{task.notebook}.", suffix=".ipynb")
    os.close(fd)
    tmp_nb = Path(tmp_name)
    cwd = str(Path(task.source).parent)
    try:
        if warm_kernels_enabled():
            execute_in_warm_kernel(
                task.source,
                str(tmp_nb),
                parameters=task.parameters,
                cwd=cwd,
                kernel_name=KERNEL_NAME,
                execution_timeout=_EXECUTION_SECONDS,
            )
        else:
            _papermill_fresh_kernel(task, tmp_nb, cwd)
    except pm.PapermillExecutionError as exc:
        return tmp_nb, f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - a kernel that dies must not stop the batch
        return tmp_nb, f"{type(exc).__name__}: {exc}"
    return tmp_nb, None


def _papermill_fresh_kernel(task: RunTask, tmp_nb: Path, cwd: str) -> None:
    """Execute ``task``'s notebook into ``tmp_nb`` in a kernel started for it and stopped after it
    (``$ZHENGSHOU_WARM_KERNELS=0``); raises as papermill does."""
    import papermill as pm
    from jupyter_client.manager import KernelManager

    # IPC transport: no TCP port to race for between parallel kernels, and no plain-TCP warning
    ipc_dir = tempfile.mkdtemp(prefix="zs-kernel-")
    km = KernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=f"{ipc_dir}/k")
    try:
        pm.execute_notebook(
            task.source,
            str(tmp_nb),
            parameters=task.parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            cwd=cwd,
            start_timeout=120,
            execution_timeout=_EXECUTION_SECONDS,
            km=km,
        )
    finally:
        # nbclient does not own a kernel manager it was given: stop the kernel here
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        km.cleanup_resources()
        shutil.rmtree(ipc_dir, ignore_errors=True)


def _keep_failed(
    task: RunTask, tmp_nb: Path, error: str, seconds: float, finished: str
) -> RunResult:
    """Keep a failed run's notebook as ``<notebook>.failed.ipynb`` (the good report stays)."""
    out = Path(task.out_dir)
    failed = out / f"{task.notebook}.failed.ipynb"
    if tmp_nb.exists() and tmp_nb.stat().st_size:
        os.replace(tmp_nb, failed)
    else:
        tmp_nb.unlink(missing_ok=True)
    log.error("%s %s failed: %s", task.period.folder, task.notebook, error)
    return RunResult(
        task.period,
        task.notebook,
        "failed",
        task.run_key,
        seconds,
        error,
        html=None,
        ipynb=failed.name if failed.exists() else None,
        finished=finished,
    )


def _render_ok(task: RunTask, tmp_nb: Path, seconds: float, finished: str) -> RunResult:
    """Render a good run's page, put its notebook in place and drop an older failed notebook."""
    import nbformat

    out = Path(task.out_dir)
    final_nb = out / f"{task.notebook}.ipynb"
    title = f"{task.period.label_zh} · {notebook_title(task.notebook)}"
    nb = nbformat.read(tmp_nb, as_version=4)
    meta = footer_html(
        __version__, run_parameters_in_words(task.parameters), dt.datetime.fromisoformat(finished)
    )
    # the page goes back to the batch, which embeds one font subset for all pages and writes it
    page = render_html(nb, title=title, demo=task.demo, meta=meta, font_css=FONT_SLOT)
    os.replace(tmp_nb, final_nb)
    (out / f"{task.notebook}.failed.ipynb").unlink(missing_ok=True)
    return RunResult(
        task.period,
        task.notebook,
        "ok",
        task.run_key,
        seconds,
        None,
        html=f"{task.notebook}.html",
        ipynb=final_nb.name,
        page=page,
        finished=finished,
    )
