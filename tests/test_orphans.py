"""No orphans: every process a batch starts ends when the batch ends, however it ends.

A real ``zhengshou batch --jobs 2`` on the demo runs as a subprocess; once its two workers each run
a kernel, every descendant (resource tracker, forkserver, workers, kernels) is recorded, the batch
is killed (SIGKILL, as an out-of-memory killer or a closed session would) or interrupted (Ctrl-C),
and none of the recorded processes may be left. The deadlines are liveness bounds, not timings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from procs import kernel_processes

import zhengshou_analysis
from zhengshou_analysis.report.catalog import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
#: The source tree this test session imports: the subprocess runs the same code.
SRC = Path(zhengshou_analysis.__file__).resolve().parents[1]
#: Liveness bounds (seconds): for the batch to start two kernels, and for its processes to end.
START_BOUND = 300
END_BOUND = 15
#: The notebook runs of a demo year.
RUNS_2021 = len(NOTEBOOKS)


def _start_batch(
    tmp_path: Path, where: tuple[str, ...] = ("--jobs", "2"), **popen
) -> tuple[subprocess.Popen, Path]:
    """``zhengshou batch --years 2021 --jobs 2`` (or ``where``) on the demo, its output in files
    (no pipe to fill)."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        ZHENGSHOU_CACHE_DIR=str(tmp_path / "cache"),
    )
    env.pop("ZHENGSHOU_START_METHOD", None)  # the platform's default
    log = tmp_path / "batch.log"
    cmd = [sys.executable, "-m", "zhengshou_analysis.cli", "batch", "--data", str(DEMO)]
    cmd += ["--out", str(tmp_path / "reports"), "--years", "2021", *where]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=out, **popen)
    return proc, log


def _descendants_once_two_workers_run_kernels(
    proc: subprocess.Popen, log: Path
) -> list[psutil.Process]:
    """Every descendant of the batch, taken once two workers each have a kernel running."""
    batch = psutil.Process(proc.pid)
    deadline = time.monotonic() + START_BOUND
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the batch ended early:\n{log.read_text(errors='replace')}"
        try:
            descendants = batch.children(recursive=True)
            workers = {k.ppid() for k in kernel_processes(descendants)}
        except psutil.NoSuchProcess:
            continue
        if len(workers) >= 2:
            return batch.children(recursive=True)
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"no two workers with kernels within {START_BOUND} s:\n{log.read_text()}")


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _left_after(recorded: list[psutil.Process]) -> list[str]:
    """The recorded processes still alive once the bound has passed (polled; [] as soon as none)."""
    deadline = time.monotonic() + END_BOUND
    while True:
        alive = [p for p in recorded if _alive(p)]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    left = []
    for p in alive:
        try:
            left.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return left


def _end(proc: subprocess.Popen, recorded: list[psutil.Process]) -> None:
    """Clean up after a failed assertion: nothing of this test may outlive it."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for p in recorded:
        if _alive(p):
            p.kill()


@pytest.mark.slow
def test_a_killed_batch_leaves_no_process(tmp_path):
    proc, log = _start_batch(tmp_path)
    recorded = _descendants_once_two_workers_run_kernels(proc, log)
    try:
        assert len(kernel_processes(recorded)) >= 2
        proc.kill()  # SIGKILL (TerminateProcess on Windows): no handler of the batch runs
        proc.wait()
        left = _left_after(recorded)
        assert not left, f"alive {END_BOUND} s after the batch was killed: {left}"
    finally:
        _end(proc, recorded)


@pytest.mark.slow
def test_a_killed_batch_on_a_local_dask_cluster_leaves_no_process(tmp_path):
    # --scheduler local:2: a dask scheduler in the batch, two nannies and their workers, kernels
    pytest.importorskip("distributed")
    proc, log = _start_batch(tmp_path, ("--scheduler", "local:2"))
    recorded = _descendants_once_two_workers_run_kernels(proc, log)
    try:
        assert len(kernel_processes(recorded)) >= 2
        proc.kill()
        proc.wait()
        left = _left_after(recorded)
        assert not left, f"alive {END_BOUND} s after the batch was killed: {left}"
    finally:
        _end(proc, recorded)


@pytest.mark.slow
@pytest.mark.skipif(
    sys.platform == "win32", reason="POSIX signals: Windows has no SIGINT to send to a process"
)
@pytest.mark.parametrize("to_group", [False, True], ids=["batch", "terminal-group"])
def test_ctrl_c_ends_the_batch_with_130_and_leaves_no_process(tmp_path, to_group):
    # the group: as a Ctrl-C at a terminal, which reaches every process of the foreground group
    proc, log = _start_batch(tmp_path, start_new_session=True)
    recorded = _descendants_once_two_workers_run_kernels(proc, log)
    try:
        if to_group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        code = proc.wait(timeout=120)
        text = log.read_text(encoding="utf-8", errors="replace")
        assert code == 130, text
        assert "zhengshou: interrupted" in text
        assert "Traceback" not in text, text
        # the runs not yet started were cancelled, not run to the end before exiting
        executed = sorted(p.name for p in (tmp_path / "reports").rglob("[!.]*.ipynb"))
        assert len(executed) < RUNS_2021, f"Ctrl-C did not stop the batch: {executed}"
        left = _left_after(recorded)
        assert not left, f"alive {END_BOUND} s after the batch was interrupted: {left}"
    finally:
        _end(proc, recorded)
