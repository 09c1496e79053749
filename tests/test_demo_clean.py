"""The demo district through the cleaner: the truth recovered, the planted faults found, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scan import all_text

from zhengshou_analysis.cli import main
from zhengshou_analysis.demo import demo_expected_rejections
from zhengshou_analysis.ledger.ingest import list_raw_files, read_raw_file
from zhengshou_analysis.ledger.layout import find_layout, is_pii_header
from zhengshou_analysis.ledger.names import normalize_name
from zhengshou_analysis.schemas import TABLES

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


@pytest.fixture(scope="module")
def result(demo_ledgers):
    return demo_ledgers


@pytest.fixture(scope="module")
def truth(demo_truth_tables):
    return demo_truth_tables


def _canonical(result, truth_tables, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cleaned and the true table, site ids as names, sorted by the same key."""
    got = result.tables[name].drop(columns="origin")
    want = truth_tables[name]
    sites = result.tables["sites"]
    id_to_name = dict(zip(sites["site_id"], normalize_name(sites["site_name"]), strict=True))
    if "site_id" in got:
        got = got.assign(site_id=got["site_id"].map(id_to_name).where(got["site_id"].notna()))
    key = list(TABLES[name].key) or [c for c in want.columns if c != "funding_source"]
    got = got.sort_values(key, kind="stable").reset_index(drop=True)
    want = want.sort_values(key, kind="stable").reset_index(drop=True)
    return got, want


@pytest.mark.parametrize("name", list(TABLES))
def test_cleaner_recovers_the_truth(result, truth, name):
    got, want = _canonical(result, truth, name)
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for col in want.columns:
        g, w = got[col], want[col]
        if pd.api.types.is_float_dtype(w):
            np.testing.assert_allclose(
                g.to_numpy(float),
                w.to_numpy(float),
                rtol=1e-9,
                atol=0.005,
                equal_nan=True,
                err_msg=f"{name}.{col}",
            )
        else:
            assert g.isna().tolist() == w.isna().tolist(), f"{name}.{col}: missing values differ"
            assert g.dropna().astype(str).tolist() == w.dropna().astype(str).tolist(), (
                f"{name}.{col}"
            )


def test_rejections_are_exactly_the_planted_rows(result):
    planted = demo_expected_rejections()
    expected = set(planted["file"] + "#" + planted["sheet"] + "!" + planted["row"].astype(str))
    assert set(result.rejected["origin"]) == expected
    assert result.rejected["reason"].str.len().gt(0).all()


def test_no_error_and_every_warning_explained(result):
    q = result.quality_log
    assert result.ok and not (q["severity"] == "error").any()
    planted = demo_expected_rejections()
    planted_origins = set(
        planted["file"] + "#" + planted["sheet"] + "!" + planted["row"].astype(str)
    )
    w = q[q["severity"] == "warning"]
    explained = (
        (w["action"].isin(["rejected", "unparseable"]) & w["origin"].isin(planted_origins))
        # the one deliberate 合计 mismatch (README of the demo)
        | (
            (w["action"] == "total_mismatch")
            & (w["origin"] == "征收项目任务完成情况表_2019-2022.xlsx#2021年!52")
        )
        # Excel's 2021.1 for an October inflow: read as January, with a warning (docs/data_contract.md §1)
        | ((w["action"] == "ambiguous_date") & (w["raw_value"] == "2021.1"))
    )
    assert explained.all(), w[~explained].to_string()
    assert (w["action"] == "total_mismatch").sum() == 1
    mism = w[w["action"] == "total_mismatch"]["message"].iloc[0]
    assert "5,377.87" in mism and "5,277.87" in mism


def test_row_conservation_for_every_sheet(result):
    used = [s for s in result.manifest["sheets"] if s["status"] == "used"]
    assert len(used) >= 20
    for s in used:
        assert s["raw_data_rows"] == s["kept"] + s["rejected"], s
    skipped = {
        (s["file"], s["sheet"]) for s in result.manifest["sheets"] if s["status"] == "skipped"
    }
    assert ("过渡安置台账.xlsx", "信访登记") in skipped
    for name, counts in result.manifest["tables"].items():
        assert counts["raw_data_rows"] == counts["kept"] + counts["rejected"], name
        assert counts["kept"] == len(result.tables[name])


def _personal_values() -> set[str]:
    """Every value of every personal-data column of the raw demo ledgers."""
    values = set()
    for path in list_raw_files(DEMO):
        for sheet in read_raw_file(path, DEMO).sheets:
            layout = find_layout(sheet.rows, sheet.merged)
            if layout is None:
                continue
            cols = [h.col for h in layout.headers if is_pii_header(h.text)]
            for row in sheet.rows[layout.first_data_row :]:
                values |= {
                    str(row[c]).strip() for c in cols if c < len(row) and str(row[c]).strip()
                }
    return {v for v in values if len(v) >= 2}


def test_personal_data_never_leaves_the_raw_folder(tmp_path):
    secrets = _personal_values()
    assert len(secrets) > 1000  # names, ID numbers and phones are really there
    out = tmp_path / "clean"
    assert main(["clean", str(DEMO), "--out", str(out)]) == 0
    assert any(p.suffix == ".xlsx" for p in out.iterdir())  # the cleaned tables for Excel
    blob = all_text([out])
    leaked = [s for s in secrets if s in blob]
    assert leaked == []
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["ok"] is True
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
