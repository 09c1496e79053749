"""The batch on a real Dask cluster (report/cluster.py): a ``dask scheduler`` and two
``dask worker`` processes started on this machine, as an office's server would run them.

The workers get the package through ``PYTHONPATH`` (as an installed package would give it) and
see the data and reports folders at the same paths (this machine's disk stands for the shared
drive).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytest.importorskip("distributed")

from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.report.cluster import parse_scheduler

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
DASK = Path(sys.executable).parent / "dask"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        p.wait(30)


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and two single-threaded workers; yields (address, worker processes)."""
    if not DASK.exists():
        pytest.skip("the dask command is not installed beside this Python")
    info = tmp_path / "scheduler.json"
    procs = [
        subprocess.Popen(
            [
                *(str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0"),
                *("--scheduler-file", str(info), "--no-dashboard"),
            ],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text(encoding="utf-8"))["address"]
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        *(str(DASK), "worker", "--scheduler-file", str(info), "--nthreads", "1"),
                        *("--no-dashboard", "--name", f"w{i}", "--no-nanny"),
                    ],
                    env=_env(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address, procs[1:]
    finally:
        _stop(procs)


def _batch(
    out: Path, *extra: str, wait: bool = True
) -> subprocess.CompletedProcess | subprocess.Popen:
    cmd = [sys.executable, "-m", "zhengshou_analysis.cli", "batch", "--data", str(DEMO)]
    cmd += ["--out", str(out), "--years", "2021", *extra]
    if wait:
        return subprocess.run(
            cmd, env=_env(), capture_output=True, text=True, timeout=1800, check=False
        )
    return subprocess.Popen(
        cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _pages(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "2021").iterdir())


def test_parse_scheduler():
    assert parse_scheduler("local:4") == ("local", 4)
    assert parse_scheduler("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    for bad in ("local:0", "local:x", "10.0.0.5:8786", ""):
        with pytest.raises(ParameterError, match="tcp://HOST:8786"):
            parse_scheduler(bad)


def test_an_unreachable_scheduler_is_said_in_words(tmp_path):
    proc = _batch(tmp_path / "r", "--scheduler", "tcp://127.0.0.1:9")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "cannot be reached" in proc.stderr


@pytest.fixture(scope="module")
def demo_city(tmp_path_factory) -> Path:
    """The three-district demo city (``zhengshou demo-data --districts 3``)."""
    root = tmp_path_factory.mktemp("city") / "districts"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "zhengshou_analysis.cli",
            "demo-data",
            "--districts",
            "3",
            str(root),
        ],
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return root


def _city_batch(data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "zhengshou_analysis.cli", "batch", "--data", str(data)]
    cmd += ["--out", str(out), "--years", "2021", *extra]
    return subprocess.run(
        cmd, env=_env(), capture_output=True, text=True, timeout=3600, check=False
    )


@pytest.mark.slow
def test_the_city_on_a_cluster_gives_the_local_figures_and_pages(dask_cluster, demo_city, tmp_path):
    address, _workers = dask_cluster
    local = _city_batch(demo_city, tmp_path / "local", "--jobs", "2")
    assert local.returncode == 0, local.stderr
    on_cluster = _city_batch(demo_city, tmp_path / "cluster", "--scheduler", address)
    assert on_cluster.returncode == 0, on_cluster.stderr
    assert "Traceback" not in on_cluster.stderr
    districts = sorted(p.name for p in demo_city.iterdir() if p.is_dir())
    assert len(districts) == 3
    for d in districts:
        here, there = tmp_path / "local" / d / "2021", tmp_path / "cluster" / d / "2021"
        assert sorted(p.name for p in there.iterdir()) == sorted(p.name for p in here.iterdir())
        assert len(list(there.glob("*.html"))) == 6
        # the same figures, byte for byte
        assert (there / "key_figures.json").read_bytes() == (here / "key_figures.json").read_bytes()
    # the city view, gathered from the cluster's districts as from the local ones
    city = sorted(p.name for p in (tmp_path / "cluster" / "city" / "2021").iterdir())
    assert city == sorted(p.name for p in (tmp_path / "local" / "city" / "2021").iterdir())
    # the same run keys: the local batch into the cluster's folder has nothing to do
    again = _city_batch(demo_city, tmp_path / "cluster", "--jobs", "2")
    assert again.returncode == 0, again.stderr
    summary = [line for line in again.stdout.splitlines() if " written, " in line]
    assert len(summary) == 3
    assert all("0 written, 6 unchanged, 0 failed" in line for line in summary), summary


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_no_report(dask_cluster, tmp_path):
    address, workers = dask_cluster
    out = tmp_path / "reports"
    batch = _batch(out, "--scheduler", address, wait=False)
    assert isinstance(batch, subprocess.Popen)
    victim = None
    deadline = time.monotonic() + 600
    while victim is None and time.monotonic() < deadline and batch.poll() is None:
        for w in workers:
            kids = psutil.Process(w.pid).children(recursive=True)
            if any("ipykernel" in " ".join(k.cmdline()) for k in kids if k.is_running()):
                victim = w
                break
        time.sleep(0.2)
    assert victim is not None, "no worker started a notebook"
    victim.kill()  # mid-run: its notebook is started again on the other worker
    _stdout, stderr = batch.communicate(timeout=1800)
    assert "Traceback" not in stderr
    state = json.loads((out / "2021" / "runs.json").read_text(encoding="utf-8"))
    runs = {k: v for k, v in state.items() if not k.startswith("_")}
    assert len(runs) == 6
    for name, run in runs.items():
        if run["status"] == "ok":  # a report on disk is a whole one
            page = (out / "2021" / f"{name}.html").read_text(encoding="utf-8")
            assert page.rstrip().endswith("</html>")
        else:  # or the run is reported failed, with the reason
            assert run["status"] == "failed" and run["error"], run
            assert f"FAILED 2021 {name}" in stderr
    assert batch.returncode == (0 if all(r["status"] == "ok" for r in runs.values()) else 1)
    assert not [p for p in out.rglob(".staging-*")]
    shutil.rmtree(out, ignore_errors=True)
