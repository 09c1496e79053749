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
