"""Smoke test of `make bench`: the harness runs and writes its JSON (tiny sizes; timings not checked)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    yield mod
    sys.path.remove(str(ROOT / "benchmarks"))


def test_quick_benchmark_writes_results(bench, tmp_path, capsys):
    out = tmp_path / "latest.json"
    assert bench.main(["--quick", "--only", "ingest", "simulation", "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["quick"] is True and report["machine"]["cpus"] >= 1
    by_name = {r["name"]: r for r in report["results"]}
    assert set(by_name) == {"ingest", "simulation"}
    ingest = by_name["ingest"]
    assert ingest["baseline"].startswith("pandas.read_excel")
    assert ingest["ratio"] == pytest.approx(ingest["baseline_s"] / ingest["ours_s"], abs=0.011)
    assert isinstance(ingest["target_met"], bool)
    assert by_name["simulation"]["baseline_s"] is None
    assert "ingest" in capsys.readouterr().out


def test_messy_ledger_cleans_with_every_kind_of_row(bench, tmp_path):
    from messy_ledger import write_messy_agreements

    from zhengshou_analysis.ledger.clean import clean_ledgers

    write_messy_agreements(tmp_path / "协议.xlsx", 1_200)
    result = clean_ledgers(tmp_path)
    sheet = result.manifest["sheets"][0]
    assert sheet["raw_data_rows"] == 1_200 == sheet["kept"] + sheet["rejected"]
    assert sheet["subtotal_rows"] == 2 and sheet["qizhong_rows"] == 2 and sheet["total_rows"] == 1
    assert sheet["note_rows"] == 2
    actions = set(result.quality_log["action"])
    # (agreements have no category column: the merged 片区 cells are read as an unmapped column)
    expected = {"approx", "remark", "placeholder", "month_precision", "excel_serial"}
    expected |= {"ambiguous_date", "rejected", "unmatched_name", "total_mismatch", "not_stated"}
    assert expected <= actions


def test_growth_is_the_log_log_slope_between_neighbouring_sizes(bench):
    steps = bench.growth([10, 100, 1_000], [1.0, 10.0, 200.0])
    assert [s["ratio"] for s in steps] == [10.0, 20.0]
    assert [s["slope"] for s in steps] == [1.0, pytest.approx(1.3, abs=0.01)]
    assert bench._linear(steps[:1]) and not bench._linear(steps)
    assert bench.growth([1, 2], [None, 3.0]) == [{"from": 1, "to": 2, "ratio": None, "slope": None}]
    assert not bench._linear(bench.growth([1, 2], [None, 3.0]))


def test_a_child_s_peak_memory_is_measured(bench):
    seconds, peak = bench.run_measured([sys.executable, "-c", "b = b'x' * (120 * 2**20)"])
    assert seconds > 0
    if peak is not None:  # POSIX (os.wait4) or Windows with psutil
        assert peak >= 120


def test_quick_scaling_case_writes_time_memory_and_growth(bench, tmp_path):
    out = tmp_path / "scaling.json"
    # one period keeps the smoke test short (a batch starts a notebook kernel)
    assert (
        bench.main(["--quick", "--only", "scaling", "--scale-periods", "1", "--out", str(out)]) == 0
    )
    by_name = {r["name"]: r for r in json.loads(out.read_text(encoding="utf-8"))["results"]}
    clean = by_name["scale_clean"]
    assert clean["sizes"] == [200, 2_000] and len(clean["time_growth"]) == 1
    assert len(clean["memory_growth"]) == 1 and isinstance(clean["target_met"], bool)
    for n in clean["sizes"]:
        point = by_name[f"scale_clean_{n}"]
        assert point["rows"] == n and point["ours_s"] > 0
        assert point["peak_rss_mb"] is None or point["peak_rss_mb"] > 10
    batch = by_name["scale_batch"]
    assert batch["periods"] == [1] and batch["time_growth"] == []
    assert by_name["scale_batch_1"]["seconds_per_period"] == by_name["scale_batch_1"]["ours_s"]


def test_night_projection_counts_the_pages_of_the_catalog(bench):
    # 36 s a notebook: a month has 1 page (调度简报), a year 6 (the catalog)
    rows = {r["scenario"]: r for r in bench.night_projection(36.0, districts=100, months=12)}
    assert rows["full"]["pages_per_district"] == 12 * 1 + 6
    assert rows["full"]["runs"] == 1_800 and rows["full"]["core_hours"] == 18.0
    assert rows["full"]["workers"] == 3  # 64,800 core-seconds / 28,800 s a night, rounded up
    assert rows["full_as_of"]["runs"] == 7_200 and rows["full_as_of"]["workers"] == 9
    assert rows["increment"]["runs"] == 700 and rows["increment"]["workers"] == 1
    assert rows["increment_as_of"]["runs"] == 600 and rows["increment_as_of"]["core_hours"] == 6.0
    assert (
        bench.night_projection(36.0, districts=100, months=12, night_hours=4.0)[0]["workers"] == 5
    )


def test_quick_cluster_case_writes_overhead_and_projection(bench, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "cluster.json"
    assert bench.main(["--quick", "--only", "cluster", "--out", str(out)]) == 0
    (case,) = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert case["name"] == "cluster" and case["notebooks"] == 1 and case["workers"] == 2
    assert case["ratio"] == pytest.approx(case["baseline_s"] / case["ours_s"], abs=0.011)
    assert case["overhead"] == pytest.approx(case["ours_s"] / case["baseline_s"] - 1, abs=0.002)
    assert isinstance(case["target_met"], bool)
    assert set(case["run_s_median"]) == {"cluster", "pool"}  # the runs' seconds were read
    assert [r["scenario"] for r in case["projection"]] == [
        "full",
        "full_as_of",
        "increment",
        "increment_as_of",
    ]
    assert all(r["workers"] >= 1 for r in case["projection"])
