"""``make bench``: our times beside a baseline's, as ratios, in one run on this machine.

Each case times ours and its baseline alternately (ours, baseline, ours, baseline, …) and keeps the
median of each; ``ratio = baseline_s / ours_s`` (above 1: we are faster). Results go to
``benchmarks/results/latest.json`` (git-ignored) and a table on standard output.

Cases (targets on the 2-core machine, issue "Benchmarks"):

* ``batch``: the whole demo batch (every year, every notebook) from a cold cache, against the loop a
  user would write: ``papermill`` then ``jupyter nbconvert --to html --no-input``, one after the
  other. Target ratio ≥ 4.
* ``batch_cached``: the same batch again with nothing changed. Target ``ours_s`` ≤ 3.
* ``ingest``: ``zhengshou clean`` of a 100,000-row messy agreements ledger against a bare
  ``pandas.read_excel(engine="calamine")`` of it. Target ratio ≥ 0.5.
* ``simulation``: the fee and delivery simulation, 10,000 paths × 5,000 households × 36 months.
  Target ``ours_s`` ≤ 2.

``--quick`` shrinks every case (a smoke test of this script, not a measurement).
"""

from __future__ import annotations

import argparse
import json
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
        lambda o, r: r is not None and r >= 0.5,
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
        lambda o, r: r is not None and r >= 4,
        notebooks=len(NOTEBOOKS) * len(years),
    )
    ours()  # a fresh full batch, then the same again with nothing changed

    def cached():
        _run(batch_cmd, env)

    c, _ = alternate(cached, None, runs)
    return [batch, _result("batch_cached", c, [], None, lambda o, r: o <= 3)]


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
        choices=["batch", "ingest", "simulation"],
        help="run only these cases",
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
    report = {"machine": machine(), "quick": args.quick, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    width = max(len(r["name"]) for r in results)
    print(f"{'name':<{width}}  {'ours_s':>8}  {'baseline_s':>10}  {'ratio':>6}  target met")
    for r in results:
        base = "" if r["baseline_s"] is None else f"{r['baseline_s']:.2f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(
            f"{r['name']:<{width}}  {r['ours_s']:>8.2f}  {base:>10}  {ratio:>6}  {r['target_met']}"
        )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
