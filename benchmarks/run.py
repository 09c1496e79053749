"""``make bench``: our times beside a baseline's, as ratios, in one run on this machine.

Each case times ours and its baseline alternately (ours, baseline, ours, baseline, …) and keeps the
median of each; ``ratio = baseline_s / ours_s`` (above 1: we are faster). Results go to
``benchmarks/results/latest.json`` (git-ignored) and a table on standard output.

Cases (targets on the 2-core machine, issue "Benchmarks"):

* ``batch``: the whole demo batch (every year, every notebook) from a cold cache, against the loop a
  user would write: ``papermill`` then ``jupyter nbconvert --to html --no-input``, one after the
  other. Target ratio ≥ 8 (issue 17; it was 4).
* ``batch_cached``: the same batch again with nothing changed. Target ``ours_s`` ≤ 1 (issue 17; it was 3).
* ``ingest``: ``zhengshou clean`` of a 100,000-row messy agreements ledger against a bare
  ``pandas.read_excel(engine="calamine")`` of it. Target ratio ≥ 0.67 (cleaning ≤ 1.5× the
  bare read).
* ``simulation``: the fee and delivery simulation, 10,000 paths × 5,000 households × 36 months.
  Target ``ours_s`` ≤ 2.

* ``scaling`` (``--only scaling``): how cost grows. ``zhengshou clean`` of messy ledgers of 10,000,
  100,000 and 1,000,000 rows (wall time and peak resident memory of the subprocess), and
  ``zhengshou batch --months`` of 1, 2, 4 and 8 monthly periods on the demo data into a fresh folder
  and cache (time per period). Target: time and memory grow no faster than linearly (a log-log
  slope ≤ 1.1 between neighbouring sizes) and 1,000,000 rows clean within 4 GB.

* ``cluster`` (``--only cluster``): the three-district demo city's batch
  (``zhengshou demo-data --districts 3``, one year) on a local Dask cluster
  (``--scheduler local:2``, its start-up included) against the local process pool
  (``--jobs 2``), each from a cold cache into a fresh folder. Target: the cluster's overhead
  ``cluster_s / pool_s - 1`` ≤ 15 %. The runs' own seconds (``runs.json``) give the measured cost
  per notebook, from which :func:`night_projection` computes the workers a night of 100 districts
  needs.

``--quick`` shrinks every case (a smoke test of this script, not a measurement).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from messy_ledger import write_messy_agreements  # noqa: E402


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def alternate(
    ours: Callable, baseline: Callable | None, runs: int
) -> tuple[list[float], list[float]]:
    """Time ``ours`` and ``baseline`` alternately ``runs`` times each."""
    a, b = [], []
    for _ in range(runs):
        a.append(_timed(ours))
        if baseline is not None:
            b.append(_timed(baseline))
    return a, b


def _result(name, ours, base, baseline_label, target, **extra) -> dict:
    ours_s = statistics.median(ours)
    base_s = statistics.median(base) if base else None
    ratio = base_s / ours_s if base_s else None
    met = target(ours_s, ratio)
    return {
        "name": name,
        "ours_s": round(ours_s, 3),
        "baseline": baseline_label,
        "baseline_s": None if base_s is None else round(base_s, 3),
        "ratio": None if ratio is None else round(ratio, 2),
        "runs": len(ours),
        "ours_all_s": [round(x, 3) for x in ours],
        "baseline_all_s": [round(x, 3) for x in base],
        "target_met": met,
        **extra,
    }


def _run(cmd: list[str], env: dict | None = None) -> None:
    subprocess.run(
        cmd,
        check=True,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def bench_ingest(work: Path, rows: int, runs: int) -> dict:
    import pandas as pd

    raw = work / "ingest_raw"
    raw.mkdir()
    path = write_messy_agreements(raw / "协议台账.xlsx", rows)
    out = work / "ingest_out"

    def ours():
        _run([str(BIN / "zhengshou"), "clean", str(raw), "--out", str(out)])

    def base():
        pd.read_excel(path, engine="calamine")

    a, b = alternate(ours, base, runs)
    return _result(
        "ingest",
        a,
        b,
        'pandas.read_excel(engine="calamine")',
        lambda o, r: r is not None and r >= 0.67,
        rows=rows,
    )


def bench_batch(work: Path, years: list[int], runs: int) -> list[dict]:
    from zhengshou_analysis.report.catalog import NOTEBOOKS

    data = ROOT / "data" / "demo"
    nb_dir = ROOT / "notebooks"
    out = work / "batch_reports"
    cache = work / "cache"
    env = {"ZHENGSHOU_CACHE_DIR": str(cache)}
    yr = f"{min(years)}-{max(years)}"

    batch_cmd = [
        str(BIN / "zhengshou"),
        "batch",
        "--years",
        yr,
        "--data",
        str(data),
        "--out",
        str(out),
    ]

    def ours():
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        _run(batch_cmd, env)

    def base():
        shutil.rmtree(cache, ignore_errors=True)
        base_out = work / "baseline_reports"
        shutil.rmtree(base_out, ignore_errors=True)
        base_out.mkdir()
        for year in years:
            for name in NOTEBOOKS:
                executed = base_out / f"{name}_{year}.ipynb"
                _run(
                    [
                        str(BIN / "papermill"),
                        str(nb_dir / f"{name}.ipynb"),
                        str(executed),
                        "-k",
                        "python3",
                        "-p",
                        "year",
                        str(year),
                        "-p",
                        "data_dir",
                        str(data),
                        "--cwd",
                        str(nb_dir),
                    ],
                    env,
                )
                _run(
                    [
                        str(BIN / "jupyter"),
                        "nbconvert",
                        "--to",
                        "html",
                        "--no-input",
                        str(executed),
                    ],
                    env,
                )

    a, b = alternate(ours, base, runs)
    batch = _result(
        "batch",
        a,
        b,
        "papermill + jupyter nbconvert --no-input, sequential",
        lambda o, r: r is not None and r >= 8,
        notebooks=len(NOTEBOOKS) * len(years),
    )
    ours()  # a fresh full batch, then the same again with nothing changed

    def cached():
        _run(batch_cmd, env)

    c, _ = alternate(cached, None, runs)
    return [batch, _result("batch_cached", c, [], None, lambda o, r: o <= 1)]


def bench_simulation(paths: int, households: int, months: int, runs: int) -> dict:
    from synthetic import synthetic_tables

    from zhengshou_analysis.forecast.fees import simulate_transition_fees

    tables = synthetic_tables(households)

    def ours():
        simulate_transition_fees(
            tables, as_of="2022-12-31", horizon_months=months, n_paths=paths, seed=1
        )

    ours()  # imports and the one-off model fit are not the simulation
    a, _ = alternate(ours, None, runs)
    return _result(
        "simulation",
        a,
        [],
        None,
        lambda o, r: o <= 2,
        paths=paths,
        households=households,
        months=months,
    )


#: Peak memory allowed to clean the largest ledger (issue 17: 1M rows within 4 GB).
SCALE_MEMORY_LIMIT_MB = 4096
#: Growth counts as linear while cost(n2)/cost(n1) ≤ (n2/n1) ** SCALE_MAX_SLOPE.
SCALE_MAX_SLOPE = 1.1


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[float, float | None]:
    """Run ``cmd`` to completion; its wall time (s) and peak resident memory (MB).

    On POSIX the peak is the kernel's own count for the child, from ``os.wait4``: the
    largest resident set of the child or of any process it waited for (a pool worker, a
    kernel), not their sum. Elsewhere (Windows) the child's peak working set is polled with
    psutil every 20 ms, the child alone. ``None`` when neither is available.
    """
    full_env = {**os.environ, **(env or {})}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_mb: float | None = None
    if hasattr(os, "wait4"):
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        # ru_maxrss: kibibytes on Linux, bytes on macOS
        peak_mb = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
    else:  # Windows: the peak working set, polled until the child ends
        try:
            import psutil

            ps = psutil.Process(proc.pid)
            peak = 0
            while proc.poll() is None:
                try:
                    info = ps.memory_info()
                except psutil.Error:
                    break
                peak = max(peak, getattr(info, "peak_wset", info.rss))
                time.sleep(0.02)
            peak_mb = peak / 2**20 if peak else None
        except ImportError:
            pass
        proc.wait()
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return elapsed, peak_mb


def growth(sizes: list[int], values: list[float | None]) -> list[dict]:
    """How ``values`` grow between neighbouring ``sizes``: the ratio and the log-log slope.

    A slope of 1 is linear growth, below 1 slower (fixed costs such as Python's start-up
    weigh less at larger sizes), above 1 faster than linear. Pairs with a missing value give
    ``None``.
    """
    out = []
    for (n1, v1), (n2, v2) in itertools.pairwise(zip(sizes, values, strict=True)):
        ratio = v2 / v1 if v1 and v2 else None
        slope = math.log(ratio) / math.log(n2 / n1) if ratio else None
        out.append(
            {
                "from": n1,
                "to": n2,
                "ratio": None if ratio is None else round(ratio, 2),
                "slope": None if slope is None else round(slope, 2),
            }
        )
    return out


def _linear(steps: list[dict]) -> bool:
    return all(s["slope"] is not None and s["slope"] <= SCALE_MAX_SLOPE for s in steps)


def _scale_point(name: str, seconds: list[float], peaks: list[float | None], **extra) -> dict:
    ours_s = statistics.median(seconds)
    known = [p for p in peaks if p is not None]
    return {
        "name": name,
        "ours_s": round(ours_s, 3),
        "baseline": None,
        "baseline_s": None,
        "ratio": None,
        "runs": len(seconds),
        "ours_all_s": [round(x, 3) for x in seconds],
        "baseline_all_s": [],
        "peak_rss_mb": round(max(known), 1) if known else None,
        "target_met": None,
        **extra,
    }


def bench_scale_clean(work: Path, sizes: list[int], runs: int) -> list[dict]:
    """``zhengshou clean`` of messy ledgers of each size: time and peak memory, then growth."""
    points = []
    for n in sizes:
        raw = work / f"scale_raw_{n}"
        raw.mkdir()
        write_messy_agreements(raw / "协议台账.xlsx", n)
        out = work / f"scale_out_{n}"
        seconds, peaks = [], []
        for _ in range(runs):
            shutil.rmtree(out, ignore_errors=True)
            s, peak = run_measured([str(BIN / "zhengshou"), "clean", str(raw), "--out", str(out)])
            seconds.append(s)
            peaks.append(peak)
        shutil.rmtree(raw)  # the 1M-row workbook is ~50 MB, its outputs more
        shutil.rmtree(out, ignore_errors=True)
        points.append(_scale_point(f"scale_clean_{n}", seconds, peaks, rows=n))
    times = growth(sizes, [p["ours_s"] for p in points])
    memory = growth(sizes, [p["peak_rss_mb"] for p in points])
    largest = points[-1]["peak_rss_mb"]
    within = largest is not None and largest <= SCALE_MEMORY_LIMIT_MB
    summary = {
        "name": "scale_clean",
        "ours_s": points[-1]["ours_s"],
        "baseline": None,
        "baseline_s": None,
        "ratio": None,
        "runs": runs,
        "sizes": sizes,
        "seconds": [p["ours_s"] for p in points],
        "peak_rss_mb": [p["peak_rss_mb"] for p in points],
        "time_growth": times,
        "memory_growth": memory,
        "memory_limit_mb": SCALE_MEMORY_LIMIT_MB,
        "target_met": _linear(times) and _linear(memory) and within,
    }
    return [*points, summary]


def bench_scale_batch(work: Path, periods: list[int], runs: int) -> list[dict]:
    """``zhengshou batch --months 2021-01..2021-NN`` on the demo data into a fresh folder and
    cache for each count of periods: time per period, then growth."""
    data = ROOT / "data" / "demo"
    points = []
    for k in periods:
        months = "2021-01" if k == 1 else f"2021-01..2021-{k:02d}"
        out = work / f"scale_batch_{k}"
        cache = work / f"scale_cache_{k}"
        seconds, peaks = [], []
        for _ in range(runs):
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
            cmd = [str(BIN / "zhengshou"), "batch", "--months", months]
            cmd += ["--data", str(data), "--out", str(out)]
            s, peak = run_measured(cmd, {"ZHENGSHOU_CACHE_DIR": str(cache)})
            seconds.append(s)
            peaks.append(peak)
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        point = _scale_point(f"scale_batch_{k}", seconds, peaks, periods=k)
        point["seconds_per_period"] = round(point["ours_s"] / k, 3)
        points.append(point)
    times = growth(periods, [p["ours_s"] for p in points])
    summary = {
        "name": "scale_batch",
        "ours_s": points[-1]["ours_s"],
        "baseline": None,
        "baseline_s": None,
        "ratio": None,
        "runs": runs,
        "periods": periods,
        "seconds": [p["ours_s"] for p in points],
        "seconds_per_period": [p["seconds_per_period"] for p in points],
        "time_growth": times,
        "target_met": _linear(times),
    }
    return [*points, summary]


#: The cluster's overhead against the local pool allowed (issue 16: within 15 %).
CLUSTER_MAX_OVERHEAD = 0.15
#: The night the projection plans for: hours, and districts × months of the history re-run.
NIGHT_HOURS = 8.0
NIGHT_DISTRICTS = 100
NIGHT_MONTHS = 12


def night_projection(
    seconds_per_run: float,
    *,
    districts: int = NIGHT_DISTRICTS,
    months: int = NIGHT_MONTHS,
    night_hours: float = NIGHT_HOURS,
) -> list[dict]:
    """Worker processes (one core each) that run a night's notebooks within ``night_hours``.

    Parameters
    ----------
    seconds_per_run
        Measured core-seconds per notebook run (s), overheads included.
    districts, months
        The districts, and the months of history each one re-runs.
    night_hours
        The night (h).

    Returns
    -------
    list of dict
        One scenario per row, the pages of a period counted from the catalog: ``full`` — every
        month's dispatch (``MONTHLY_NOTEBOOKS``) and the year's reports (``NOTEBOOKS``);
        ``full_as_of`` — the year's reports at each month's end (``--as-of``, the literal
        "districts × months × pages"); ``increment`` — a month's run when only the new month
        changed (unchanged runs are skipped: the new month's dispatch and the year's reports);
        ``increment_as_of`` — the new month-end's reports. Each with ``runs``, ``core_hours``
        and ``workers`` (rounded up).
    """
    from zhengshou_analysis.report.catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS

    year_pages, month_pages = len(NOTEBOOKS), len(MONTHLY_NOTEBOOKS)
    per_district = {
        "full": months * month_pages + year_pages,
        "full_as_of": months * year_pages,
        "increment": month_pages + year_pages,
        "increment_as_of": year_pages,
    }
    rows = []
    for scenario, pages in per_district.items():
        runs = districts * pages
        core_s = runs * seconds_per_run
        rows.append(
            {
                "scenario": scenario,
                "districts": districts,
                "pages_per_district": pages,
                "runs": runs,
                "seconds_per_run": round(seconds_per_run, 2),
                "core_hours": round(core_s / 3600, 1),
                "night_hours": night_hours,
                "workers": math.ceil(core_s / (night_hours * 3600)),
            }
        )
    return rows


def _run_seconds(out: Path) -> list[float]:
    """The seconds of every notebook run a city batch recorded (each district's ``runs.json``)."""
    seconds = []
    for state in sorted(out.glob("*/*/runs.json")):
        if state.parent.parent.name == "city":
            continue
        for name, run in json.loads(state.read_text(encoding="utf-8")).items():
            if not name.startswith("_") and run.get("status") == "ok":
                seconds.append(float(run["seconds"]))
    return seconds


def bench_cluster(
    work: Path, districts: int, periods: list[str], pages: int, runs: int, workers: int
) -> dict:
    """The demo city's batch on ``local:workers`` against ``--jobs workers``, cold each time.

    ``periods`` are the batch's period flags (``["--years", "2021"]``), ``pages`` the notebook
    runs they make per district.
    """
    load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    root = work / "city_data"
    _run([str(BIN / "zhengshou"), "demo-data", "--districts", str(districts), str(root)])
    out, cache = work / "city_reports", work / "city_cache"
    env = {"ZHENGSHOU_CACHE_DIR": str(cache)}
    notebooks = districts * pages
    run_seconds: dict[str, list[float]] = {"cluster": [], "pool": []}

    def side(name: str, *flags: str) -> Callable[[], None]:
        def go() -> None:
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            cmd = [str(BIN / "zhengshou"), "batch", "--data", str(root), *periods]
            _run([*cmd, "--out", str(out), *flags], env)
            seconds = _run_seconds(out)
            if len(seconds) != notebooks:
                raise RuntimeError(f"{name}: {len(seconds)} of {notebooks} runs ok in {out}")
            run_seconds[name] += seconds

        return go

    ours = side("cluster", "--scheduler", f"local:{workers}")
    base = side("pool", "--jobs", str(workers))
    a, b = alternate(ours, base, runs)
    cluster_s, pool_s = statistics.median(a), statistics.median(b)
    overhead = cluster_s / pool_s - 1
    # all-in cost of a notebook on the cluster: its wall time on every worker, per notebook run
    # (cleaning, key figures, office files, the city view and the cluster's start-up included)
    all_in = cluster_s * workers / notebooks
    own = statistics.median(run_seconds["cluster"]) if run_seconds["cluster"] else all_in
    return _result(
        "cluster",
        a,
        b,
        f"the same batch on the local process pool (--jobs {workers})",
        lambda o, r: overhead <= CLUSTER_MAX_OVERHEAD,
        districts=districts,
        notebooks=notebooks,
        workers=workers,
        overhead=round(overhead, 3),
        max_overhead=CLUSTER_MAX_OVERHEAD,
        run_s_median={k: round(statistics.median(v), 2) for k, v in run_seconds.items() if v},
        run_s_mean={k: round(statistics.fmean(v), 2) for k, v in run_seconds.items() if v},
        seconds_per_notebook_all_in=round(all_in, 2),
        load_average_before=load_before,
        load_average_after=list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        projection=night_projection(all_in),
        projection_runs_only=night_projection(own),
    )


def machine() -> dict:
    import numpy as np
    import pandas as pd

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test of the harness")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each side (default 3)")
    ap.add_argument(
        "--only",
        nargs="*",
        default=None,
        choices=[
            "batch",
            "ingest",
            "simulation",
            "scaling",
            "scale_clean",
            "scale_batch",
            "cluster",
        ],
        help="run only these cases (default: all but scaling, which takes ~15 minutes, and "
        "cluster, ~10 minutes; scale_clean and scale_batch are its two halves)",
    )
    ap.add_argument(
        "--scale-rows",
        type=int,
        nargs="+",
        default=None,
        help="ledger sizes of the scaling case (default 10000 100000 1000000)",
    )
    ap.add_argument(
        "--scale-periods",
        type=int,
        nargs="+",
        default=None,
        help="monthly periods of the scaling case's batches (default 1 2 4 8; at most 12)",
    )
    ap.add_argument(
        "--scale-runs", type=int, default=1, help="timed runs of each scaling point (default 1)"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json")
    args = ap.parse_args(argv)
    runs = 1 if args.quick else max(3, args.runs)
    only = set(args.only or ["batch", "ingest", "simulation"])
    results = []
    with tempfile.TemporaryDirectory(prefix="zs-bench-") as tmp:
        work = Path(tmp)
        if "ingest" in only:
            results.append(bench_ingest(work, 2_000 if args.quick else 100_000, runs))
        if "simulation" in only:
            sizes = (200, 300, 36) if args.quick else (10_000, 5_000, 36)
            results.append(bench_simulation(*sizes, runs))
        if "batch" in only:
            results += bench_batch(work, [2021] if args.quick else [2019, 2020, 2021, 2022], runs)
        if only & {"scaling", "scale_clean", "scale_batch"}:
            rows = args.scale_rows or ([200, 2_000] if args.quick else [10_000, 100_000, 1_000_000])
            periods = args.scale_periods or ([1, 2] if args.quick else [1, 2, 4, 8])
            if any(not 1 <= k <= 12 for k in periods):
                ap.error("--scale-periods: between 1 and 12 (months of 2021)")
            scale_runs = max(1, args.scale_runs)
            if only & {"scaling", "scale_clean"}:
                results += bench_scale_clean(work, sorted(rows), scale_runs)
            if only & {"scaling", "scale_batch"}:
                results += bench_scale_batch(work, sorted(periods), scale_runs)
        if "cluster" in only:
            from zhengshou_analysis.report.catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS

            # quick: one district's month (one notebook), once each: the harness, not a measurement
            if args.quick:
                case = (1, ["--months", "2021-12"], len(MONTHLY_NOTEBOOKS))
            else:
                case = (3, ["--years", "2021"], len(NOTEBOOKS))
            results.append(bench_cluster(work, *case, runs=runs, workers=2))
    report = {"machine": machine(), "quick": args.quick, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    width = max(len(r["name"]) for r in results)
    print(
        f"{'name':<{width}}  {'ours_s':>8}  {'baseline_s':>10}  {'ratio':>6}  {'peak_MB':>8}"
        "  target met"
    )
    for r in results:
        base = "" if r["baseline_s"] is None else f"{r['baseline_s']:.2f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        peak = r.get("peak_rss_mb")
        peak = f"{peak:.0f}" if isinstance(peak, int | float) else ""
        met = "" if r["target_met"] is None else r["target_met"]
        print(
            f"{r['name']:<{width}}  {r['ours_s']:>8.2f}  {base:>10}  {ratio:>6}  {peak:>8}  {met}"
        )
        if "overhead" in r:
            print(
                f"{'':<{width}}  overhead {r['overhead']:+.1%} (at most "
                f"{r['max_overhead']:.0%}); {r['seconds_per_notebook_all_in']} s per notebook "
                f"all in, runs' own seconds (median) {r['run_s_median']}"
            )
            for row in r["projection"]:
                print(
                    f"{'':<{width}}  {row['scenario']}: {row['runs']} runs, "
                    f"{row['core_hours']} core-hours → {row['workers']} workers "
                    f"for a {row['night_hours']:g}-hour night"
                )
        for key in ("time_growth", "memory_growth"):
            for step in r.get(key, []):
                print(
                    f"{'':<{width}}  {key.split('_')[0]} {step['from']} → {step['to']}: "
                    f"×{step['ratio']} (log-log slope {step['slope']})"
                )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
