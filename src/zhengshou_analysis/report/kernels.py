"""Warm kernels: one kernel per worker thread, the stack imported once, a clean namespace per run.

Starting a kernel and importing pandas, matplotlib, statsmodels and this package costs about two
core-seconds, most of a report run. A worker therefore keeps one kernel (:class:`WarmKernel`)
with the stack imported and runs its notebooks in it one after the other; papermill still
parameterises and executes each notebook (through the ``zhengshou-warm`` engine, which hands
nbclient the warm kernel and its client instead of starting a kernel).

A clean namespace for each run
    Before each run the kernel is put back to the state it had right after the warm-up imports
    (:func:`reset_kernel_state`, executed silently in the kernel, so the notebook does not record
    it): the user namespace, ``In``/``Out`` and the execution counter (the first cell is ``[1]``
    again, as in a fresh kernel), open figures and the inline backend's queue, matplotlib's
    ``rcParams``, pandas' options, numpy's print and error options, the warnings filters (and the
    "shown once" registries, so a warning is shown again as a fresh kernel shows it), logging
    (root handlers, levels), the environment variables, ``sys.path``, the working directory (the
    notebook's folder, papermill's ``cwd``), the global random states of :mod:`random` and numpy
    (seeded afresh from the system, as at a kernel's start), IPython's display formatters, and the
    per-object caches of this package (``functools`` caches, which would otherwise keep the
    previous run's analyses alive). ``tests/test_kernels.py`` runs notebook A then B in one
    kernel and compares B with B from a fresh kernel.

    The warm-up's objects are frozen out of the garbage collector (:func:`gc.freeze`): they live
    as long as the kernel, and the full collection of IPython's reset then takes milliseconds, not
    the 0.1-1 s of walking every object of pandas, matplotlib and statsmodels.

    What is not undone: modules stay imported. A module that a run imports for the first time
    (not in :data:`WARM_IMPORTS`) runs its import-time code in that run only; what that code sets
    in the state above is undone for the next run, anything else stays until the kernel is
    recycled.

Recycling
    A kernel is thrown away, and the next run gets a fresh one, after a failed run (an error in a
    cell, a timeout, a kernel that died: a failed run never poisons the next), and after
    :data:`RUNS_PER_KERNEL` runs (bounds the memory a long batch can accumulate). It is also replaced
    when the worker's environment variables changed since it started (a fresh kernel would inherit
    the new values: a caller that runs notebooks here with another ``ZHENGSHOU_CACHE_DIR``).

Lifetime
    A pool worker of a local batch starts its kernel as soon as it starts, on a background thread
    (:meth:`WarmKernel.start_soon`), while the batch still cleans and plans; the first run waits
    for that start. A kernel belongs to the thread that made its :class:`WarmKernel` (a Dask
    worker with several threads gets one kernel per thread; a pool worker process has one thread
    running runs). It ends with
    :func:`shutdown_warm_kernels` (the single-process batch calls it when done), at the exit of
    its process (``atexit`` and a :mod:`multiprocessing` finalizer, since a pool worker does not
    run ``atexit``), and, when the batch is killed, by the worker's watchdog (:mod:`.engine`),
    which kills the worker's descendants — warm kernels are children of their worker like the
    kernels of cold runs.

Escape hatch
    ``ZHENGSHOU_WARM_KERNELS=0`` runs every notebook in a fresh kernel, as before (to compare, or
    if a notebook depends on something a warm kernel does not reset).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util
import os
import shutil
import tempfile
import threading
from typing import Any

__all__ = [
    "RUNS_PER_KERNEL",
    "WARM_ENGINE",
    "WARM_IMPORTS",
    "WARM_KERNELS_ENV",
    "WarmKernel",
    "execute_in_warm_kernel",
    "reset_kernel_state",
    "shutdown_thread_kernel",
    "shutdown_warm_kernels",
    "snapshot_kernel_state",
    "thread_kernel",
    "warm_kernels_enabled",
]

log = logging.getLogger(__name__)

#: The environment variable that turns warm kernels off (``0``, ``false``, ``no``, ``off``).
WARM_KERNELS_ENV = "ZHENGSHOU_WARM_KERNELS"
#: Runs in one kernel before it is replaced by a fresh one (bounds the memory it accumulates).
RUNS_PER_KERNEL = 30
#: The papermill engine that executes a notebook in the calling thread's warm kernel.
WARM_ENGINE = "zhengshou-warm"
#: Imported by the warm-up, before the state a run starts from is recorded: what the notebooks
#: (``notebooks/*.ipynb``) import, and what that imports.
WARM_IMPORTS = (
    "numpy",
    "pandas",
    "matplotlib",
    "matplotlib.pyplot",
    "statsmodels.api",
    "zhengshou_analysis.report.session",
    "zhengshou_analysis.report.summary",
    "zhengshou_analysis.report.views",
    "zhengshou_analysis.report.tables",
    "zhengshou_analysis.report.plots",
    "zhengshou_analysis.figures.dispatch",
)

#: Seconds to wait for a kernel to start and for the warm-up imports.
_START_SECONDS = 120.0
#: nbclient's default IPython history for the kernels it starts (no history file on disk).
_HISTORY_ARGUMENT = "--HistoryManager.hist_file=:memory:"


def warm_kernels_enabled() -> bool:
    """Whether runs use warm kernels (``$ZHENGSHOU_WARM_KERNELS`` not ``0``/``false``/``no``/``off``)."""
    value = os.environ.get(WARM_KERNELS_ENV, "").strip().lower()
    return value not in ("0", "false", "no", "off")


# --- in the kernel ------------------------------------------------------------------------------

#: The state right after the warm-up, in the kernel process (set by :func:`snapshot_kernel_state`).
_SNAPSHOT: dict[str, Any] | None = None


def snapshot_kernel_state() -> None:
    """Record, in the kernel, the state every run starts from (called once after the warm-up).

    Records what :func:`reset_kernel_state` puts back: ``rcParams``, pandas' options, numpy's
    print and error options, the warnings filters, logging, the environment, ``sys.path`` and
    the display formatters.
    """
    global _SNAPSHOT
    import gc
    import sys
    import warnings

    import matplotlib as mpl
    import numpy as np

    shell = _shell()
    formatters = {
        kind: (
            dict(f.type_printers),
            dict(f.deferred_printers),
            dict(f.singleton_printers),
            f.enabled,
        )
        for kind, f in shell.display_formatter.formatters.items()
    }
    _SNAPSHOT = {
        "rc": dict(mpl.rcParams),
        "pandas": _pandas_options(),
        "printoptions": np.get_printoptions(),
        "seterr": np.geterr(),
        "warnings": list(warnings.filters),
        "showwarning": warnings.showwarning,
        "logging": _logging_state(),
        "environ": dict(os.environ),
        "path": list(sys.path),
        "formatters": formatters,
        "active_types": list(shell.display_formatter.active_types),
        "plain_precision": shell.display_formatter.formatters["text/plain"].float_precision,
    }
    # the warm-up's objects (modules, mostly) live as long as the kernel: keep them out of every
    # later collection (IPython's reset collects in full; this makes that 0.1-0.4 s cheaper)
    gc.collect()
    gc.freeze()


def reset_kernel_state(cwd: str) -> None:
    """Put the kernel back to the state recorded after the warm-up, for the next run (in the
    kernel, executed silently: the notebook does not record it).

    Parameters
    ----------
    cwd
        The working directory of the run (the notebook's folder).
    """
    import random
    import sys
    import warnings

    import matplotlib as mpl
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    snap = _SNAPSHOT
    if snap is None:
        raise RuntimeError("reset_kernel_state before snapshot_kernel_state")
    shell = _shell()
    plt.close("all")
    _reset_inline_backend()
    shell.reset(new_session=True)  # namespace, In/Out, _, execution counter back to 1
    shell.compile.reset_compiler_flags()  # __future__ imports of the previous run
    mpl.rcParams.clear()
    dict.update(mpl.rcParams, snap["rc"])  # the recorded values were valid: no re-validation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some options warn when touched
        for key, value in snap["pandas"].items():
            if not _same(pd.get_option(key), value):
                pd.set_option(key, value)
    np.set_printoptions(**snap["printoptions"])
    np.seterr(**snap["seterr"])
    warnings.filters[:] = snap["warnings"]  # type: ignore[index]  # a list at run time
    warnings.showwarning = snap["showwarning"]
    warnings._filters_mutated()  # type: ignore[attr-defined]  # "once" registries start again
    _restore_logging(snap["logging"])
    os.environ.clear()
    os.environ.update(snap["environ"])
    sys.path[:] = snap["path"]
    os.chdir(cwd)
    random.seed()
    np.random.seed()  # noqa: NPY002 - the legacy global state a notebook may use
    display = shell.display_formatter
    for kind, (types, deferred, singletons, enabled) in snap["formatters"].items():
        f = display.formatters[kind]
        f.type_printers, f.deferred_printers = dict(types), dict(deferred)
        f.singleton_printers, f.enabled = dict(singletons), enabled
    display.active_types = list(snap["active_types"])
    display.formatters["text/plain"].float_precision = snap["plain_precision"]
    _clear_package_caches()


def _same(a: Any, b: Any) -> bool:
    """Whether two option values are equal (the same object, or equal as a plain truth value)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # an array-like value: no single truth value
        return False


def _shell() -> Any:
    """The kernel's IPython shell."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("not in an IPython kernel")
    return shell


def _pandas_options() -> dict[str, Any]:
    """Every registered pandas option and its value (deprecated ones left out)."""
    import warnings

    import pandas as pd
    from pandas._config import config

    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in config._registered_options:
            if key in config._deprecated_options:
                continue
            out[key] = pd.get_option(key)
    return out


def _logging_state() -> dict[str, Any]:
    """The root logger's and every named logger's level, handlers, filters and switches."""
    loggers: dict[str, tuple[int, list, list, bool, bool]] = {}
    for name, lg in logging.root.manager.loggerDict.items():
        if isinstance(lg, logging.Logger):
            loggers[name] = (
                lg.level,
                list(lg.handlers),
                list(lg.filters),
                lg.propagate,
                lg.disabled,
            )
    root = logging.root
    return {
        "root": (root.level, list(root.handlers), list(root.filters)),
        "loggers": loggers,
        "disable": logging.root.manager.disable,
    }


def _restore_logging(state: dict[str, Any]) -> None:
    """Put logging back to ``state``; a logger made since is reset to a new logger's defaults."""
    root = logging.root
    root.level, handlers, filters = state["root"]
    root.handlers[:] = handlers
    root.filters[:] = filters
    logging.disable(state["disable"])
    for name, lg in logging.root.manager.loggerDict.items():
        if not isinstance(lg, logging.Logger):
            continue
        level, handlers, filters, propagate, disabled = state["loggers"].get(
            name, (logging.NOTSET, [], [], True, False)
        )
        lg.setLevel(level)
        lg.handlers[:] = handlers
        lg.filters[:] = filters
        lg.propagate, lg.disabled = propagate, disabled
    logging.root.manager._clear_cache()  # type: ignore[attr-defined]


def _reset_inline_backend() -> None:
    """Forget figures queued for display by the inline backend (when it is in use)."""
    import sys

    inline = sys.modules.get("matplotlib_inline.backend_inline")
    if inline is not None:
        inline.show._to_draw = []
        inline.show._draw_called = False


def _clear_package_caches() -> None:
    """Clear the ``functools`` caches of this package's functions (they hold per-run objects)."""
    import sys

    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("zhengshou_analysis"):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()


# --- in the worker ------------------------------------------------------------------------------


class WarmKernel:
    """A kernel with the stack imported, reused run after run (see the module docstring).

    Parameters
    ----------
    kernel_name
        The kernel spec (``python3``: the Python of the environment).
    max_runs
        Runs before the kernel is replaced by a fresh one.
    """

    def __init__(self, kernel_name: str = "python3", *, max_runs: int = RUNS_PER_KERNEL) -> None:
        if max_runs < 1:
            raise ValueError(f"max_runs must be at least 1, got {max_runs}")
        self.kernel_name = kernel_name
        self.max_runs = max_runs
        self.runs = 0
        self.km: Any = None
        self.kc: Any = None
        self._ipc_dir: str | None = None
        self._environ: dict[str, str] = {}
        #: How many kernels this object has started (a replaced kernel counts).
        self.started = 0
        #: The thread starting the kernel ahead of the first run (:meth:`start_soon`), if any.
        self._starting: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        """The pid of the running kernel, or ``None``."""
        if self.km is None or self.km.provisioner is None:
            return None
        process = getattr(self.km.provisioner, "process", None)
        return None if process is None else process.pid

    def alive(self) -> bool:
        """Whether the kernel runs."""
        return self.km is not None and self.km.is_alive()

    def start(self, cwd: str) -> None:
        """Start the kernel in ``cwd``, import :data:`WARM_IMPORTS` and record the clean state."""
        from jupyter_client.manager import KernelManager

        self.shutdown()
        # IPC transport: no TCP port to race for between parallel kernels, and no plain-TCP warning
        self._ipc_dir = tempfile.mkdtemp(prefix="zs-kernel-")
        self.km = KernelManager(
            kernel_name=self.kernel_name, transport="ipc", ip=f"{self._ipc_dir}/k"
        )
        self._environ = dict(os.environ)
        self.km.start_kernel(extra_arguments=[_HISTORY_ARGUMENT], cwd=cwd)
        self.started += 1
        self.runs = 0
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=_START_SECONDS)
        self.kc.allow_stdin = False
        imports = "; ".join(f"import {m}" for m in WARM_IMPORTS)
        # the first figure loads pyplot's backend, which (inline) registers the figure formatter:
        # load it before the snapshot, or the reset would drop the formatter a fresh kernel has
        self._silent(
            f"{imports}\n"
            "matplotlib.pyplot.close(matplotlib.pyplot.figure())\n"
            "__import__('zhengshou_analysis.report.kernels', fromlist=['_']).snapshot_kernel_state()"
        )

    def start_soon(self, cwd: str) -> None:
        """Start the kernel in ``cwd`` on a background thread and return at once.

        A pool worker calls it when it starts, so that the kernel starts and imports the stack
        while the batch is still cleaning and planning (:mod:`.engine`). The next
        :meth:`prepare` (or :meth:`shutdown`) waits for that start. A start that fails here is
        only logged: :meth:`prepare` then starts the kernel itself and raises what goes wrong.
        Does nothing when a kernel runs or is being started.

        Parameters
        ----------
        cwd
            The working directory of the kernel (the notebooks' folder; each run's
            :meth:`prepare` changes to its own).
        """
        if self.km is not None or self._starting is not None:
            return

        def start() -> None:
            try:
                self.start(cwd)
            except Exception as exc:  # noqa: BLE001 - prepare() starts it again and raises
                log.debug("warm kernel: the start ahead failed (%s); the first run starts one", exc)
                self.shutdown()

        self._starting = threading.Thread(target=start, name="zhengshou-kernel-start", daemon=True)
        self._starting.start()

    def _wait_started(self) -> None:
        """Wait for a start begun by :meth:`start_soon` (unless called from that very start)."""
        starting = self._starting
        if starting is None or starting is threading.current_thread():
            return
        starting.join()
        self._starting = None

    def prepare(self, cwd: str) -> None:
        """Make the kernel ready for the next run in ``cwd``: start (or replace) it when needed
        (none yet, dead, used up, or this process's environment changed since it started), then
        reset it to its clean state."""
        self._wait_started()
        if (
            self.km is None
            or self.runs >= self.max_runs
            or not self.alive()
            or dict(os.environ) != self._environ  # a fresh kernel would inherit the new values
        ):
            self.start(cwd)
        self._silent(
            "__import__('zhengshou_analysis.report.kernels', fromlist=['_'])"
            f".reset_kernel_state({cwd!r})"
        )

    def _silent(self, code: str) -> None:
        """Execute ``code`` silently (no execution count, no history) and raise on its error."""
        reply = self.kc.execute_interactive(
            code, silent=True, store_history=False, timeout=_START_SECONDS, output_hook=_ignore
        )
        content = reply["content"]
        if content.get("status") != "ok":
            raise RuntimeError(
                f"warm kernel: {content.get('ename')}: {content.get('evalue')}"
                f" while running {code[:80]!r}"
            )

    def shutdown(self) -> None:
        """Stop the kernel (if one runs, after a start under way) and free its resources."""
        self._wait_started()
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            finally:
                self.kc = None
        if self.km is not None:
            km, self.km = self.km, None
            try:
                if km.has_kernel:
                    km.shutdown_kernel(now=True)
            except Exception as exc:  # noqa: BLE001 - a dead kernel is what we wanted
                log.debug("warm kernel shutdown: %s", exc)
            finally:
                km.cleanup_resources()
        if self._ipc_dir is not None:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
            self._ipc_dir = None


def _ignore(msg: dict) -> None:
    """Output hook that drops what a silent execution prints."""


_local = threading.local()
_all_lock = threading.Lock()
_all: list[WarmKernel] = []


def thread_kernel(kernel_name: str = "python3") -> WarmKernel:
    """The calling thread's warm kernel (created on first use; started by its first run).

    Parameters
    ----------
    kernel_name
        The kernel spec; a kernel of another spec is stopped and replaced.

    Returns
    -------
    WarmKernel
        The same object for every run of this thread.
    """
    kernel: WarmKernel | None = getattr(_local, "kernel", None)
    if kernel is None or kernel.kernel_name != kernel_name:
        if kernel is not None:
            kernel.shutdown()
        kernel = WarmKernel(kernel_name)
        _local.kernel = kernel
        with _all_lock:
            if not _all:
                atexit.register(shutdown_warm_kernels)
                # a pool worker ends through os._exit: atexit does not run there, finalizers do
                multiprocessing.util.Finalize(None, shutdown_warm_kernels, exitpriority=10)
            _all.append(kernel)
    return kernel


def shutdown_thread_kernel() -> None:
    """Stop the calling thread's warm kernel, if it has one (a batch run in this process, done)."""
    kernel: WarmKernel | None = getattr(_local, "kernel", None)
    if kernel is not None:
        kernel.shutdown()


def shutdown_warm_kernels() -> None:
    """Stop every warm kernel of this process (idempotent; at exit, and after a batch run here)."""
    with _all_lock:
        kernels = list(_all)
    for kernel in kernels:
        try:
            kernel.shutdown()
        except Exception as exc:  # noqa: BLE001 - at exit: stop the others anyway
            log.debug("warm kernel shutdown: %s", exc)


def execute_in_warm_kernel(
    source: str,
    output: str,
    *,
    parameters: dict,
    cwd: str,
    kernel_name: str = "python3",
    execution_timeout: float = 900,
) -> None:
    """Parameterise and execute a notebook with papermill in the calling thread's warm kernel.

    Parameters
    ----------
    source, output
        The notebook and where the executed notebook goes.
    parameters
        The papermill parameters.
    cwd
        The working directory of the run (the notebook's folder).
    kernel_name
        The kernel spec.
    execution_timeout
        Seconds a cell may run.

    Raises
    ------
    papermill.PapermillExecutionError
        On an error in a cell; the kernel is replaced for the next run, as after any other error
        (a timeout, a kernel that died).
    """
    import papermill as pm

    _register_engine()
    kernel = thread_kernel(kernel_name)
    try:
        kernel.prepare(cwd)
        kernel.runs += 1
        pm.execute_notebook(
            source,
            output,
            parameters=parameters,
            kernel_name=kernel_name,
            engine_name=WARM_ENGINE,
            progress_bar=False,
            log_output=False,
            cwd=cwd,
            execution_timeout=execution_timeout,
            warm_kernel=kernel,
        )
    except BaseException:
        kernel.shutdown()  # a failed run never poisons the next: it gets a fresh kernel
        raise


_registered = False


def _register_engine() -> None:
    """Register the ``zhengshou-warm`` papermill engine (once per process)."""
    global _registered
    if _registered:
        return
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class _WarmEngine(NBClientEngine):
        """papermill's nbclient engine, on a warm kernel and its client instead of a new kernel."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            *,
            warm_kernel: WarmKernel,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: float = 60,
            execution_timeout: float | None = None,
            **kwargs: Any,
        ) -> Any:
            kwargs.pop("input_path", None)
            client = PapermillNotebookClient(
                nb_man,
                km=warm_kernel.km,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            # nbclient does not own the kernel manager it is given: it neither starts nor stops
            # the kernel, and with a client already set it does not start a second one
            client.kc = warm_kernel.kc
            return client.execute()

    papermill_engines.register(WARM_ENGINE, _WarmEngine)
    _registered = True
