"""Where the runs execute (``report/engine.py``): the pool's start method, progress, failures.

The unit tests run small notebooks (a cell each) through :func:`execute_tasks`; the slow ones run
the demo year as a user does: the whole batch under ``spawn`` (the route of Windows, which has no
forkserver) against the same batch under the default, and the CLI with its stderr piped.
"""

from __future__ import annotations

import json
import operator
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import psutil
import pytest

import zhengshou_analysis
from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.periods import Period
from zhengshou_analysis.report import engine
from zhengshou_analysis.report.batch import run_batch
from zhengshou_analysis.report.catalog import NOTEBOOKS
from zhengshou_analysis.report.engine import (
    START_METHOD_ENV,
    execute_tasks,
    start_method,
    submission_order,
)
from zhengshou_analysis.report.runs import RunTask

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
#: The source tree this test session imports: a subprocess runs the same code.
SRC = Path(zhengshou_analysis.__file__).resolve().parents[1]
PERIOD = Period.year_end(2021)
#: A progress line: ``2021/30_funding ok 12.3 s [3/24]``.
LINE = re.compile(r"^(?P<name>\S+/\S+) (?P<status>ok|failed) \d+\.\d s \[(?P<n>\d+)/(?P<of>\d+)\]$")

CELLS = {
    "ok_a": "x = 1\nprint(x)",
    "ok_b": "print('b')",
    "bad": "raise ValueError('planted failure')",
    # the kernel kills its parent, the worker process: as the out-of-memory killer would
    "crash": "import os, psutil\npsutil.Process(os.getppid()).kill()\nimport time; time.sleep(60)",
}


def _tasks(tmp_path: Path, names: list[str]) -> list[RunTask]:
    """One task per name, each a notebook of one cell (:data:`CELLS`)."""
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir(exist_ok=True)
    tasks = []
    for name in names:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nb.cells = [nbformat.v4.new_code_cell(CELLS[name])]
        source = nb_dir / f"{name}.ipynb"
        nbformat.write(nb, source)
        out = str(tmp_path / "reports" / PERIOD.folder)
        tasks.append(RunTask(PERIOD, name, str(source), out, {}, f"key-{name}", False))
    return tasks


# --- start method -----------------------------------------------------------------------------------


def test_start_method_is_forkserver_where_the_platform_has_it_else_spawn(monkeypatch):
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    expected = "forkserver" if sys.platform != "win32" else "spawn"
    assert start_method() == expected
    monkeypatch.setenv(START_METHOD_ENV, "")
    assert start_method() == expected
    monkeypatch.setenv(START_METHOD_ENV, "spawn")
    assert start_method() == "spawn"
    assert start_method("spawn") == "spawn"


@pytest.mark.parametrize("value", ["fork", "threads", "Spawn"])
def test_an_unknown_start_method_is_refused_with_the_names_to_use(monkeypatch, value):
    monkeypatch.setenv(START_METHOD_ENV, value)
    with pytest.raises(ParameterError, match=rf"\$ZHENGSHOU_START_METHOD={value!r}.*spawn"):
        start_method()
    # refused before anything runs
    with pytest.raises(ParameterError, match="forkserver or spawn"):
        execute_tasks([], [], jobs=2, progress=False, on_run=None)


@pytest.mark.skipif(sys.platform != "win32", reason="only Windows lacks forkserver")
def test_forkserver_on_windows_is_refused():
    with pytest.raises(ParameterError, match="has no forkserver"):
        start_method("forkserver")


def test_an_unknown_progress_mode_is_refused():
    with pytest.raises(ParameterError, match="'bar', 'lines' or 'none'"):
        execute_tasks([], [], jobs=1, progress="verbose", on_run=None)  # type: ignore[arg-type]


# --- progress and failures --------------------------------------------------------------------------


@pytest.mark.slow
def test_lines_name_each_finished_report_with_its_status_and_seconds(tmp_path, capsys):
    finished = []
    results = execute_tasks(
        _tasks(tmp_path, ["ok_a", "bad", "ok_b"]),
        [],
        jobs=2,
        progress="lines",
        on_run=finished.append,
    )
    lines = capsys.readouterr().err.splitlines()
    matches = [m for m in map(LINE.match, lines) if m]
    assert len(matches) == 3, lines
    assert [(m["n"], m["of"]) for m in matches] == [("1", "3"), ("2", "3"), ("3", "3")]
    shown = {m["name"]: m["status"] for m in matches}
    assert shown == {"2021/ok_a": "ok", "2021/ok_b": "ok", "2021/bad": "failed"}
    # in the order they finished, as on_run saw them
    assert [m["name"] for m in matches] == [f"{r.folder}/{r.notebook}" for r in finished]
    assert {r.notebook: r.status for r in results} == {"ok_a": "ok", "ok_b": "ok", "bad": "failed"}


@pytest.mark.slow
def test_the_bar_or_nothing(tmp_path, capsys):
    (task,) = _tasks(tmp_path, ["ok_a"])
    execute_tasks([task], [], jobs=1, progress=True, on_run=None)
    bar = capsys.readouterr().err
    assert "报告" in bar and "1/1" in bar and not LINE.search(bar)
    execute_tasks([task], [], jobs=1, progress="none", on_run=None)
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_a_crashed_worker_is_a_failed_run_with_a_clear_message(tmp_path):
    results = execute_tasks(
        _tasks(tmp_path, ["crash", "ok_a"]), [], jobs=2, progress=False, on_run=None
    )
    by_name = {r.notebook: r for r in results}
    assert set(by_name) == {"crash", "ok_a"}  # none lost
    crash = by_name["crash"]
    assert crash.status == "failed"
    assert "worker process of the batch ended abruptly" in (crash.error or "")
    assert "run the batch again" in (crash.error or "")


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_an_error_in_a_figure_job_surfaces_after_every_run_was_handed_on(tmp_path, jobs):
    seen = []
    with pytest.raises(ZeroDivisionError):
        execute_tasks(
            _tasks(tmp_path, ["ok_a", "ok_b"]),
            [(operator.truediv, (1, 0))],
            jobs=jobs,
            progress=False,
            on_run=seen.append,
        )
    assert sorted((r.notebook, r.status) for r in seen) == [("ok_a", "ok"), ("ok_b", "ok")]


# --- the demo batch -----------------------------------------------------------------------------------


def _pool_kinds() -> set[str]:
    """How this process's pool processes were started, seen from their command lines."""
    kinds = set()
    for child in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        kinds |= {k for k in ("forkserver", "spawn") if f"multiprocessing.{k}" in cmd}
    return kinds


def _key_figures(out: Path) -> bytes:
    return (out / "2021" / "key_figures.json").read_bytes()


@pytest.mark.slow
def test_the_whole_batch_runs_under_spawn_and_gives_what_forkserver_gives(tmp_path, monkeypatch):
    if "forkserver" not in engine.multiprocessing.get_all_start_methods():
        pytest.skip("no forkserver on this platform to compare with (spawn is the default)")
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(tmp_path / "cache"))
    outcome = {}
    for method in ("forkserver", "spawn"):
        monkeypatch.setenv(START_METHOD_ENV, method)
        seen: set[str] = set()
        out = tmp_path / method
        result = run_batch(
            data_dir=DEMO,
            out_dir=out,
            years=[2021],
            jobs=2,
            progress=False,
            on_run=lambda r, seen=seen: seen.update(_pool_kinds()),
        )
        assert not result.failed, [(r.notebook, r.error) for r in result.failed]
        assert method in seen, f"the pool ran under {seen}, not {method}"
        pages = sorted(p.name for p in (out / "2021").glob("*.html"))
        assert pages == sorted(f"{name}.html" for name in NOTEBOOKS)
        outcome[method] = _key_figures(out)
    assert outcome["spawn"] == outcome["forkserver"]
    assert json.loads(outcome["spawn"])["period"] == "2021"


@pytest.mark.slow
def test_the_cli_batch_piped_prints_one_line_per_finished_report(tmp_path):
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        ZHENGSHOU_CACHE_DIR=str(tmp_path / "cache"),
    )
    cmd = [sys.executable, "-m", "zhengshou_analysis.cli", "batch", "--data", str(DEMO)]
    cmd += ["--out", str(tmp_path / "reports"), "--years", "2021", "--jobs", "2"]
    done = subprocess.run(
        cmd, check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr
    matches = [m for m in map(LINE.match, done.stderr.splitlines()) if m]
    names = sorted(m["name"] for m in matches)
    assert names == sorted(f"2021/{name}" for name in NOTEBOOKS), done.stderr
    assert {m["status"] for m in matches} == {"ok"}
    assert sorted(int(m["n"]) for m in matches) == list(range(1, len(NOTEBOOKS) + 1))
    assert "\r" not in done.stderr  # no bar redrawn into a log


def test_the_pool_takes_key_figures_after_the_model_fitting_pages_and_before_the_light_ones():
    def task(name: str, year: int) -> RunTask:
        return RunTask(Period.year_end(year), name, f"{name}.ipynb", "out", {}, "k", False)

    tasks = [task("00_overview", 2021), task("30_funding", 2021), task("20_progress", 2021)]
    job = (print, ("key figures of 2021",))
    order = submission_order(tasks, [job])
    assert order == [tasks[0], tasks[1], job, tasks[2]]
    assert submission_order([], [job]) == [job]
    assert submission_order(tasks[2:], []) == tasks[2:]
