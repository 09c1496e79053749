"""``zhengshou inspect`` (:mod:`zhengshou_analysis.ledger.inspect`): what the cleaner makes of a
raw folder, per file, sheet and header, explained without writing anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ledger_builder import write_xlsx

from zhengshou_analysis.cli import main
from zhengshou_analysis.ledger.inspect import display_width, inspect_ledgers
from zhengshou_analysis.ledger.quality import summarize_mapping
from zhengshou_analysis.profile import load_profile, parse_profile

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


def _tree(path: Path) -> dict[str, int]:
    return {p.relative_to(path).as_posix(): p.stat().st_mtime_ns for p in path.rglob("*")}


@pytest.fixture(scope="module")
def demo_inspection():
    return inspect_ledgers(DEMO, profile=load_profile(None, raw_dir=DEMO))


def test_inspect_explains_every_sheet_of_the_demo(demo_inspection, demo_ledgers):
    sheets = {(s.file, s.sheet): s for s in demo_inspection.sheets}
    manifest = {(s["file"], s["sheet"]) for s in demo_ledgers.manifest["sheets"]}
    assert set(sheets) == manifest
    for s in sheets.values():
        assert s.reason, (s.file, s.sheet)
        if s.status == "used":
            assert s.table and s.header_rows and s.columns
            assert s.counts["data"] == s.counts["kept"] + s.counts["rejected"]
            assert "个表头对应该表的字段" in s.reason
        else:
            assert s.table is None and s.status == "skipped"
    skipped = sheets[("过渡安置台账.xlsx", "信访登记")]
    assert "未找到表头" in skipped.reason
    # the demo's two-row project header and its units
    p2019 = sheets[("征收项目任务完成情况表_2019-2022.xlsx", "2019年")]
    assert p2019.header_rows == [3, 4]
    by_column = {c["column"]: c for c in p2019.columns if c["column"]}
    assert by_column["house_target_m2"]["unit"] == "万平方米"
    assert by_column["house_target_m2"]["unit_source"] == "header"
    funding = sheets[("征拆资金到位情况表_2016-2022.xlsx", "2021年")]
    amount = next(c for c in funding.columns if c["column"] == "amount_yuan")
    assert (amount["unit"], amount["unit_source"]) == ("万元", "title")
    statuses = {c["status"] for s in sheets.values() for c in s.columns}
    assert statuses == {"mapped", "ignored", "personal_data"}  # nothing unmapped in the demo
    assert all(not s.unmapped and not s.unknown_zones for s in sheets.values())
    assert not demo_inspection.errors


def test_inspect_text_is_chinese_and_aligned(demo_inspection):
    text = demo_inspection.to_text()
    for s in demo_inspection.sheets:
        assert f"文件 {s.file} · 工作表 {s.sheet}" in text
    assert "未对应的表头 (unmapped headers):\n  无" in text
    # every row of a sheet's column table starts its field at the same display column
    sheet = next(s for s in demo_inspection.sheets if s.sheet == "按户按人计费")
    block = text.split(f"文件 {sheet.file} · 工作表 {sheet.sheet}")[1].split("  行数")[0]
    lines = [line for line in block.splitlines() if line.startswith("    ")][1:]
    assert len(lines) == len(sheet.columns)
    starts = set()
    for line, c in zip(lines, sheet.columns, strict=True):
        head, rest = line.split(f" {c['header']} ", 1)
        gap = len(rest) - len(rest.lstrip(" "))
        starts.add(display_width(f"{head} {c['header']} ") + gap)
    assert len(starts) == 1, starts
    assert display_width("安置区") == 6 and display_width("m2") == 2


def test_inspect_writes_nothing_and_json_holds_the_mapping(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    before = _tree(DEMO)
    assert main(["inspect", str(DEMO), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert _tree(DEMO) == before
    assert list(tmp_path.iterdir()) == []  # no cache, no output
    assert data["profile"]["source"].endswith("zhengshou.toml")
    sheet = next(s for s in data["sheets"] if s["sheet"] == "贵城片区")
    mapping = {c["header"]: (c["status"], c["column"]) for c in sheet["columns"]}
    assert mapping["协议编号"] == ("mapped", "agreement_id")
    assert mapping["序号"] == ("ignored", None)
    assert mapping["被征收人"] == ("personal_data", None)
    assert main(["inspect", str(DEMO)]) == 0
    assert "征收补偿协议台账 (agreements)" in capsys.readouterr().out


STREET_SITES = {
    "2021": {
        "rows": [
            ["XX区安置房建设情况表（单位：万元）"],
            ["安置点", "所在街道", "开工日期", "约定交房日期", "投资额", "总套数"],
            ["", "", "", "", "", "（套）"],
            ["城东花园", "城东", "2019-01-01", "2021-06-30", 1.5, 300],
            ["港城新居", "港城", "2019-03-01", "2021-12-31", 2, 200],
        ]
    }
}


def test_inspect_a_new_layout_with_and_without_its_profile(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_xlsx(raw / "安置房建设.xlsx", STREET_SITES)
    before = _tree(raw)

    plain = inspect_ledgers(raw)  # 安置点 unknown: the sites sheet lacks its name (an error)
    (s,) = plain.sheets
    assert s.status == "error" and s.table == "sites" and "site_name" in s.reason
    assert {c["header"]: c["status"] for c in s.columns}["所在街道"] == "unmapped"
    assert plain.errors

    profile = parse_profile('[headers.sites]\nsite_name = ["安置点"]\nzone = ["所在街道"]\n')
    (s,) = inspect_ledgers(raw, profile=profile).sheets
    assert s.status == "used" and s.header_rows == [2, 3]
    assert s.unmapped == ["投资额"]  # a number column no table has: a true finding
    assert s.unknown_zones == [{"value": "城东", "rows": 1, "first": "安置房建设.xlsx#2021!4"}]
    cols = {c["header"]: c for c in s.columns}
    assert cols["安置点"]["column"] == "site_name"
    assert cols["所在街道"]["column"] == "zone"
    assert (cols["总套数(套)"]["unit"], cols["总套数(套)"]["unit_source"]) == ("套", "units row")
    assert s.counts["data"] == 2 and s.counts["kept"] == 2
    assert _tree(raw) == before

    raw_profile = raw / "zhengshou.toml"
    raw_profile.write_text(
        '[headers.sites]\nsite_name = ["安置点"]\nzone = ["所在街道"]\n'
        '[zones]\n"城东片区" = ["城东"]\n',
        encoding="utf-8",
    )
    assert main(["inspect", str(raw)]) == 0
    out = capsys.readouterr().out
    assert "安置点" in out and "site_name" in out and "单位行" in out
    assert "配置文件未收录的片区 (片区 values the profile does not know):\n  无" in out
    assert "安置房建设.xlsx#2021: 投资额" in out


def test_summarize_mapping_is_what_the_cleaner_recorded(demo_ledgers):
    m = summarize_mapping(demo_ledgers)
    assert list(m.columns) == [
        "file",
        "sheet",
        "table",
        "col",
        "raw_header",
        "column",
        "column_label",
        "status",
        "unit",
        "unit_source",
    ]
    assert set(m.loc[m["column"].eq("compensation_yuan"), "column_label"]) == {"补偿总额（元）"}
    used = [s for s in demo_ledgers.manifest["sheets"] if s["status"] == "used"]
    assert len(m) == sum(len(s["columns"]) for s in used)
    row = m[(m["sheet"] == "2021年") & (m["column"] == "amount_yuan")].iloc[0]
    assert (row["unit"], row["unit_source"]) == ("万元", "标题行（单位：…）")
    assert set(m.loc[m["raw_header"] == "序号", "status"]) == {"不需读取"}
