"""The cleaner on hand-made messy ledgers, one per table, with the expected rows written by hand."""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_builder import HOSTILE_NOTE, PERSONAL_DATA, build_raw, write_csv, write_xlsx

from zhengshou_analysis.cli import main
from zhengshou_analysis.exceptions import CleanError, OutputError
from zhengshou_analysis.ledger.clean import clean_ledgers
from zhengshou_analysis.ledger.outputs import (
    CLEAN_WORKBOOK,
    clean_workbook_bytes,
    neutralize_formulas,
    write_clean_outputs,
)
from zhengshou_analysis.ledger.rejections import WITHHELD

PII = PERSONAL_DATA


def _sha1_id(prefix: str, name: str) -> str:
    return prefix + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


@pytest.fixture(scope="module")
def raw_dir(small_raw) -> Path:
    return small_raw


@pytest.fixture(scope="module")
def result(small_ledgers):
    return small_ledgers


LANTIAN = _sha1_id("S-", "蓝田安置区")
DILU = _sha1_id("S-", "堤路园(二)A安置区")


def test_projects_rows(result):
    p = result.tables["projects"].set_index("project_id")
    assert list(p.index) == ["GG-001", "GG-002", "GG-003", "GG-004"]
    assert p["year"].tolist() == [2021] * 4  # from the title row
    assert p["zone"].tolist() == [
        "贵城片区",
        "贵城片区",
        "贵城片区",
        "港城片区",
    ]  # merged cells filled
    assert p["category"].tolist() == ["市下达", "区统筹", "区统筹", "市下达"]
    assert p["land_target_mu"].tolist() == [120.0, 150.0, 80.0, 60.0]  # full-width １５０
    assert p["land_done_mu"].isna().tolist() == [False, True, False, False]  # X is missing
    assert p.loc["GG-001", "house_target_m2"] == 35000.0  # 万平方米 from the two-row header
    assert p.loc["GG-002", "house_done_m2"] == 10000.0
    assert pd.isna(p.loc["GG-003", "house_target_m2"])
    assert p.loc["GG-004", "house_done_m2"] == 0.0  # 0 stays 0
    assert p["blocker"].tolist()[1:] == ["军事用地", "双高糖料蔗基地", "公建单位"]
    assert pd.isna(p.loc["GG-001", "blocker"])  # 无 = none
    assert p["blocked_mu"].tolist() == [0.0, 49.5, 20.0, 30.0]
    assert p.loc["GG-003", "note"] == "待复核"
    assert p.loc["GG-004", "note"] == HOSTILE_NOTE  # kept as written: escaped when shown
    assert p.loc["GG-001", "origin"] == "项目台账.xlsx#2021年!6"
    assert p.loc["GG-004", "origin"] == "项目台账.xlsx#2021年!10"


def test_agreements_rows(result):
    a = result.tables["agreements"].set_index("agreement_id")
    assert list(a.index) == ["GC-001", "GC-002", "GC-003"]
    assert a["project_id"].tolist() == ["GG-001", "GG-001", _sha1_id("P-", "不存在项目")]
    assert a["signed_date"].tolist() == [
        pd.Timestamp(x) for x in ("2021-01-30", "2021-03-15", "2021-01-30")
    ]
    assert a["mode"].tolist() == ["货币补偿", "产权调换", "产权调换"]
    assert a.loc["GC-001", "house_area_m2"] == 120.5
    assert pd.isna(a.loc["GC-003", "house_area_m2"])
    # 单位：万元 in the title applies to the unit-less 补偿总额 header
    assert a["compensation_yuan"].tolist() == [12_345_000.0, 888_000.0, 500_000.0]
    # no 支付期限 column: the ledger states no due date, the cleaned table keeps NA (the policy's
    # term applies in the figures, docs/indicators.md)
    assert a["payment_due_date"].isna().all()
    assert pd.isna(a.loc["GC-001", "site_id"])
    assert a.loc["GC-002", "site_id"] == LANTIAN
    assert a.loc["GC-003", "site_id"] == DILU  # full-width brackets link after NFKC


def test_payments_funding_sites_transition_rows(result):
    pay = result.tables["payments"].set_index("payment_id")
    assert list(pay.index) == ["PAY-1", "PAY-2", "PAY-3"]
    assert pay["kind"].tolist() == ["补偿款", "过渡安置费", "工作经费"]
    assert pay["amount_yuan"].tolist() == [5_000_000.0, 3_600.0, 20_000.0]
    assert pay["project_id"].tolist() == ["GG-001", "GG-001", "GG-004"]
    assert pay["agreement_id"].isna().tolist() == [False, False, True]
    assert pay["date"].tolist() == [
        pd.Timestamp(x) for x in ("2021-02-01", "2021-03-01", "2021-04-01")
    ]

    f = result.tables["funding"]
    assert f["amount_yuan"].tolist() == [5_000_000.0, 320_000_000.0, 12_345_000.0]
    assert f["funding_source"].tolist() == ["市财政", "专项债券", "区财政"]
    assert f["project_id"].isna().tolist() == [True, False, True]
    assert f["origin"].tolist() == [f"资金到位情况.csv#资金到位情况!{i}" for i in (4, 5, 6)]

    s = result.tables["sites"].set_index("site_name")
    assert list(s.index) == ["蓝田安置区", "堤路园(二)A安置区"]
    assert s["site_id"].tolist() == [LANTIAN, DILU]
    assert s["zone"].tolist() == ["贵城片区", "港城片区"]
    assert s["start_date"].tolist() == [pd.Timestamp("2017-03-01"), pd.Timestamp("2018-05-01")]
    assert s["promised_date"].tolist() == [pd.Timestamp("2022-12-31"), pd.Timestamp("2021-12-01")]
    assert pd.isna(s.loc["蓝田安置区", "delivered_date"])  # 未交付
    assert s.loc["堤路园(二)A安置区", "delivered_date"] == pd.Timestamp("2021-06-30")
    assert s["units"].tolist() == [800, 600]

    t = result.tables["transition"].set_index("agreement_id")
    assert list(t.index) == ["GC-002", "GC-003"]
    assert t["site_id"].tolist() == [LANTIAN, DILU]
    assert t["fee_basis"].tolist() == ["per_m2", "per_m2"]  # from the header's 元/平方米/月
    assert t["fee_rate_yuan"].tolist() == [10.0, 12.0]
    assert t["area_m2"].tolist() == [95.0, 80.0]
    # no 约定过渡期限 column: NA in the table, logged; the figures take the site's promise
    assert t["agreed_months"].isna().all()
    assert pd.isna(t.loc["GC-002", "end_date"])


def test_rejections_have_reasons(result):
    rej = result.rejected.set_index("origin")
    expected = {
        "协议台账.xlsx#贵城片区!7": "duplicate key",
        "协议台账.xlsx#贵城片区!8": "signed_date",
        "协议台账.xlsx#贵城片区!9": "compensation_yuan",
        "支付台账2021.csv#支付台账2021!5": "amount_yuan",
        "支付台账2021.csv#支付台账2021!6": "amount_yuan",
        "安置区台账.xlsx#安置区!4": "promised_date < start_date",
        "过渡安置台账.xlsx#过渡!5": "end_date < start_date",
        "过渡安置台账.xlsx#过渡!6": "area_m2",
    }
    assert sorted(rej.index) == sorted(expected)
    for origin, fragment in expected.items():
        assert fragment in rej.loc[origin, "reason"], (origin, rej.loc[origin, "reason"])
    cells = json.loads(rej.loc["协议台账.xlsx#贵城片区!9", "raw_cells"])
    assert cells["补偿总额"] == "-3"


def test_totals_checked_and_mismatch_reported(result):
    q = result.quality_log
    mism = q[q["action"] == "total_mismatch"]
    assert mism["origin"].tolist() == ["项目台账.xlsx#2021年!12"]
    assert mism["column"].tolist() == ["house_done_m2"]
    msg = mism["message"].iloc[0]
    assert "35,000.00" in msg and "30,000.00" in msg  # both numbers, in m²
    checked = q[q["action"] == "total_checked"]
    assert "资金到位情况.csv#资金到位情况!7" in set(
        checked["origin"]
    )  # 合计 of 万元 amounts agrees
    assert "协议台账.xlsx#贵城片区!10" in set(checked["origin"])
    assert "项目台账.xlsx#2021年!9" in set(checked["origin"])  # the 小计 row


def test_quality_log_records_normalisations(result):
    q = result.quality_log
    actions = set(q["action"])
    assert {
        "placeholder",
        "approx",
        "remark",
        "excel_serial",
        "month_precision",
        "ffill",
        "not_stated",
        "unmatched_name",
        "hidden_sheet",
        "sheet_skipped",
        "rejected",
    } <= actions
    skipped = q[q["action"] == "sheet_skipped"]
    assert skipped["origin"].tolist() == ["项目台账.xlsx#说明"]
    assert skipped["severity"].tolist() == ["info"]
    approx = q[q["action"] == "approx"]
    assert set(approx["origin"]) == {"项目台账.xlsx#2021年!8", "协议台账.xlsx#贵城片区!5"}
    assert (q.loc[q["action"] == "rejected", "severity"] == "warning").all()
    assert list(q.columns) == [
        "origin",
        "file",
        "sheet",
        "row",
        "table",
        "column",
        "raw_value",
        "action",
        "severity",
        "message",
    ]


def test_row_conservation_in_manifest(result):
    sheets = {(s["file"], s["sheet"]): s for s in result.manifest["sheets"]}
    proj = sheets[("项目台账.xlsx", "2021年")]
    assert (proj["raw_data_rows"], proj["kept"], proj["rejected"]) == (4, 4, 0)
    assert (proj["subtotal_rows"], proj["total_rows"], proj["qizhong_rows"], proj["note_rows"]) == (
        1,
        1,
        1,
        2,
    )
    assert proj["header_rows"] == 2 and proj["header_row"] == 4
    agr = sheets[("协议台账.xlsx", "贵城片区")]
    assert (agr["raw_data_rows"], agr["kept"], agr["rejected"]) == (6, 3, 3)
    assert sheets[("项目台账.xlsx", "旧版")]["status"] == "hidden"
    assert sheets[("项目台账.xlsx", "说明")]["status"] == "skipped"
    for s in sheets.values():
        if s["status"] == "used":
            assert s["raw_data_rows"] == s["kept"] + s["rejected"]
    assert result.manifest["tables"]["agreements"] == {
        "raw_data_rows": 6,
        "kept": 3,
        "rejected": 3,
        "total_rows": 1,
    }
    inputs = {i["file"]: i for i in result.manifest["inputs"]}
    assert inputs["支付台账2021.csv"]["encoding"] == "gb18030"
    assert inputs["资金到位情况.csv"]["encoding"] == "utf-8-sig"
    assert len(inputs["协议台账.xlsx"]["sha256"]) == 64


def test_outputs_written_without_personal_data(raw_dir, tmp_path):
    before = {p: p.read_bytes() for p in raw_dir.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    assert main(["clean", str(raw_dir), "--out", str(out)]) == 0
    after = {p: p.read_bytes() for p in raw_dir.rglob("*") if p.is_file()}
    assert before == after  # the raw folder is read-only input
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            *(
                f"{t}.parquet"
                for t in ("projects", "agreements", "payments", "funding", "sites", "transition")
            ),
            "清洗后台账.xlsx",
            "quality_log.csv",
            "rejected.csv",
            "manifest.json",
        ]
    )
    blob = ""
    for p in out.iterdir():
        if p.suffix == ".xlsx":
            for frame in pd.read_excel(
                p, sheet_name=None, header=None, dtype=str, engine="openpyxl"
            ).values():
                blob += frame.to_csv()
            continue
        blob += pd.read_parquet(p).to_csv() if p.suffix == ".parquet" else p.read_text("utf-8-sig")
    for secret in PII:
        assert secret not in blob, secret
    assert "被征收人" in blob  # the header is named (as blanked) ...
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    assert len(rejected) == 8
    agreements = pd.read_parquet(out / "agreements.parquet")
    assert str(agreements["signed_date"].dtype).startswith("datetime64")


def test_clean_command_writes_the_workbook_of_its_tables_and_keeps_the_callers_collector(
    raw_dir, tmp_path
):
    enabled = gc.isenabled()
    out = tmp_path / "out"
    assert main(["clean", str(raw_dir), "--out", str(out)]) == 0
    assert gc.isenabled() == enabled  # paused only while the command ran
    # the workbook started while the log was assembled is the one written after the run
    started = json.loads((out / "manifest.json").read_text("utf-8"))["run_started"]
    result = clean_ledgers(raw_dir)
    same_run = dataclasses.replace(result, manifest={**result.manifest, "run_started": started})
    assert (out / CLEAN_WORKBOOK).read_bytes() == clean_workbook_bytes(same_run)


def test_on_tables_gets_the_results_tables_once_and_nothing_for_a_failed_run(raw_dir, tmp_path):
    calls = []
    result = clean_ledgers(raw_dir, on_tables=lambda *args: calls.append(args))
    assert len(calls) == 1
    tables, started = calls[0]
    assert tables is result.tables and started == result.manifest["run_started"]
    raw = tmp_path / "raw"
    raw.mkdir()
    write_xlsx(raw / "协议台账.xlsx", {"签约": {"rows": [["协议编号", "补偿总额"], ["A-1", 1]]}})
    with pytest.raises(CleanError):
        clean_ledgers(raw, on_tables=lambda *args: calls.append(args))
    assert len(calls) == 1


def test_strict_turns_rejections_into_errors(raw_dir, capsys):
    code = main(["clean", str(raw_dir), "--out", str(raw_dir.parent / "strict"), "--strict"])
    assert code == 2
    err = capsys.readouterr().err
    assert "协议台账.xlsx" in err and "贵城片区" in err and "第 7 行" in err
    assert "Traceback" not in err
    with pytest.raises(CleanError) as info:
        clean_ledgers(raw_dir, strict=True)
    assert (info.value.result.quality_log["severity"] == "error").sum() == 8


def test_missing_required_column_is_an_error_naming_it(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_xlsx(
        raw / "协议台账.xlsx",
        {
            "签约": {
                "rows": [
                    ["协议编号", "项目名称", "补偿方式", "补偿总额"],
                    ["A-1", "x", "货币", 1],
                ]
            }
        },
    )
    code = main(["clean", str(raw), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "协议台账.xlsx" in err and "签约" in err and "signed_date" in err and "签约日期" in err


def test_corrupt_and_empty_inputs(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    assert main(["clean", str(raw), "--out", str(tmp_path / "o")]) == 2
    assert "为空" in capsys.readouterr().err
    build_raw(raw)
    (raw / "坏文件.xlsx").write_bytes(b"PK\x03\x04 truncated workbook")
    assert main(["clean", str(raw), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "坏文件.xlsx" in err and "Traceback" not in err


def test_neutralize_formulas():
    df = pd.DataFrame({"a": ["=1+2", "+x", "ok", "@cmd", "-1", None], "n": [1, 2, 3, 4, 5, 6]})
    out = neutralize_formulas(df)
    assert out["a"].tolist()[:5] == ["'=1+2", "'+x", "ok", "'@cmd", "'-1"]
    assert pd.isna(out["a"].iloc[5])
    assert df["a"].iloc[0] == "=1+2"  # input untouched


def test_neutralize_formulas_touches_only_text_and_the_columns_named():
    df = pd.DataFrame(
        {
            "raw_value": pd.Series(["=cmd", "-3", "ok"], dtype="str"),
            "action": pd.Series(["-x", "=y", "z"], dtype="str"),
            "amount_yuan": [-5.0, 1.0, None],
            "signed_date": pd.to_datetime(["2021-01-01", None, "2021-02-01"]),
        }
    )
    out = neutralize_formulas(df, ["raw_value", "amount_yuan", "signed_date"])
    assert out["raw_value"].tolist() == ["'=cmd", "'-3", "ok"]
    assert out["action"].tolist() == ["-x", "=y", "z"]  # not named: the cleaner's own codes
    pd.testing.assert_series_equal(out["amount_yuan"], df["amount_yuan"])  # numbers untouched
    pd.testing.assert_series_equal(out["signed_date"], df["signed_date"])  # dates untouched
    assert neutralize_formulas(df)["action"].tolist() == ["'-x", "'=y", "z"]  # default: all text
    assert df["raw_value"].iloc[0] == "=cmd"  # input untouched


def test_the_logs_ledger_text_columns_are_neutralised_on_disk(result, tmp_path):
    import dataclasses

    log = result.quality_log.copy()
    for c in ("origin", "file", "sheet", "raw_value", "message"):
        log.loc[log.index[0], c] = f"=HYPERLINK({c})"
    write_clean_outputs(dataclasses.replace(result, quality_log=log), tmp_path / "o")
    back = pd.read_csv(tmp_path / "o" / "quality_log.csv", encoding="utf-8-sig", dtype=str)
    for c in ("origin", "file", "sheet", "raw_value", "message"):
        assert back[c].iloc[0] == f"'=HYPERLINK({c})"


def test_write_is_atomic_on_failure(result, tmp_path, monkeypatch):
    out = tmp_path / "o"
    write_clean_outputs(result, out)
    good = (out / "projects.parquet").read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OutputError, match="disk full") as info:  # said in words, naming the folder
        write_clean_outputs(result, out)
    assert str(out) in str(info.value)
    assert isinstance(info.value.__cause__, OSError)
    assert (out / "projects.parquet").read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["o"]  # no temporary folder left beside it


def test_sheets_with_only_the_required_columns(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_xlsx(
        raw / "协议.xlsx",
        {"协议": {"rows": [["协议编号", "签约日期", "补偿总额"], ["A-1", "2021-01-01", 100]]}},
    )
    write_xlsx(
        raw / "过渡.xlsx",
        {
            "过渡": {
                "rows": [
                    ["协议编号", "腾房日期", "计费方式", "过渡费标准", "约定过渡期限"],
                    ["A-1", "2021-02-01", "按户", 800, 24],
                ]
            }
        },
    )
    write_xlsx(raw / "项目.xlsx", {"项目": {"rows": [["项目名称", "年度"], ["甲", 2021]]}})
    r = clean_ledgers(raw)
    a = r.tables["agreements"]
    assert a["compensation_yuan"].tolist() == [100.0]
    assert a["house_area_m2"].isna().all() and str(a["house_area_m2"].dtype) == "float64"
    assert r.tables["transition"]["fee_basis"].tolist() == ["per_household"]
    assert r.tables["projects"]["land_target_mu"].isna().all()
    assert r.tables["payments"].empty and list(r.tables["payments"].columns)[-1] == "origin"


def _one(tmp_path, sheets, name="协议台账.xlsx"):
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    write_xlsx(raw / name, sheets)
    return clean_ledgers(raw)


def test_title_money_unit_is_found_among_other_title_text(tmp_path):
    r = _one(
        tmp_path,
        {
            "协议": {
                "rows": [
                    ["填报单位：港北区征收办    单位：亩、万元"],
                    ["协议编号", "签约日期", "补偿总额", "补偿款（含奖励）"],
                    ["A-1", "2021-01-01", 12.5, ""],
                ]
            }
        },
    )
    assert r.tables["agreements"]["compensation_yuan"].tolist() == [125_000.0]


def test_header_bracket_that_is_no_unit_does_not_hide_the_title_unit(tmp_path):
    r = _one(
        tmp_path,
        {
            "协议": {
                "rows": [
                    ["单位：万元"],
                    ["协议编号", "签约日期", "补偿总额（含奖励）"],
                    ["A-1", "2021-01-01", 12.5],
                ]
            }
        },
    )
    assert r.tables["agreements"]["compensation_yuan"].tolist() == [125_000.0]


def test_units_row_under_the_header(tmp_path):
    r = _one(
        tmp_path,
        {
            "协议": {
                "rows": [
                    ["协议编号", "签约日期", "补偿总额", "房屋面积"],
                    ["", "", "（万元）", "（平方米）"],
                    ["A-1", "2021-01-01", 12.5, 80],
                ]
            }
        },
    )
    assert r.tables["agreements"]["compensation_yuan"].tolist() == [125_000.0]
    assert r.rejected.empty
    assert r.manifest["sheets"][0]["header_rows"] == 2


def test_total_label_right_of_a_number_column_and_group_totals(tmp_path):
    r = _one(
        tmp_path,
        {
            "2021": {
                "rows": [
                    ["序号", "年度", "项目名称", "征地任务（亩）"],
                    [1, 2021, "甲", 100],
                    [2, 2021, "乙", 100],
                    ["", 2021, "贵城片区合计", 200],
                    ["", "", "合计", 200],
                ]
            }
        },
        name="项目台账.xlsx",
    )
    assert r.tables["projects"]["project_name"].tolist() == ["甲", "乙"]
    q = r.quality_log
    assert (q["action"] == "total_mismatch").sum() == 0
    assert (q["action"] == "total_checked").sum() == 2


def test_blank_category_cells_of_a_workbook_are_not_guessed(tmp_path):
    r = _one(
        tmp_path,
        {
            "2021": {
                "rows": [
                    ["项目名称", "年度", "片区", "类别"],
                    ["甲", 2021, "港城", "市下达"],
                    ["乙", 2021, "", ""],
                ]
            }
        },
        name="项目台账.xlsx",
    )
    p = r.tables["projects"]
    assert p["zone"].tolist()[0] == "港城片区" and pd.isna(p["zone"].iloc[1])
    assert pd.isna(p["category"].iloc[1])


def test_blank_category_cells_of_a_csv_repeat_the_row_above_with_a_log_per_cell(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_csv(
        raw / "资金到位.csv",
        [
            ["到账日期", "资金来源", "到位金额"],
            ["2021-01-01", "市财政", 1],
            ["2021-02-01", "", 2],
            ["2021-03-01", "区财政", 3],
        ],
    )
    r = clean_ledgers(raw)
    assert r.tables["funding"]["funding_source"].tolist() == ["市财政", "市财政", "区财政"]
    ff = r.quality_log[r.quality_log["action"] == "ffill"]
    assert ff["origin"].tolist() == ["资金到位.csv#资金到位!3"]


def test_rejected_rows_copy_every_mapped_cell_but_no_personal_data(tmp_path):
    r = _one(
        tmp_path,
        {
            "协议": {
                "rows": [
                    ["协议编号", "户主姓名", "身份证号", "形象进度", "签约日期", "补偿总额"],
                    ["A-1", "张三丰", "450802199001011234", "50%", "X", 5],
                ]
            }
        },
    )
    raw_cells = r.rejected["raw_cells"].iloc[0]
    assert "张三丰" not in raw_cells and "450802199001011234" not in raw_cells
    assert json.loads(raw_cells) == {
        "协议编号": "A-1",
        "户主姓名": "",
        "身份证号": "",
        "形象进度": WITHHELD,  # unmapped: it could hold personal data no word list foresees
        "签约日期": "X",
        "补偿总额": "5",
    }


def test_failed_run_leaves_no_old_table_and_out_may_not_be_inside_raw(raw_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["clean", str(raw_dir), "--out", str(out)]) == 0
    assert (out / "projects.parquet").exists()
    assert main(["clean", str(raw_dir), "--out", str(out), "--strict"]) == 2
    assert not list(out.glob("*.parquet"))
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["ok"] is False
    capsys.readouterr()
    assert main(["clean", str(raw_dir), "--out", str(raw_dir / "processed")]) == 2
    assert "read-only" in capsys.readouterr().err
    assert not (raw_dir / "processed").exists()


def test_duplicate_headers_non_unit_brackets_and_absurd_amounts_are_flagged(tmp_path):
    r = _one(
        tmp_path,
        {
            "协议": {
                "rows": [
                    ["协议编号", "签约日期", "补偿总额", "协议金额", "房屋面积（约）"],
                    ["A-1", "2021-01-01", "99999999999999万元", 1, 80],
                ]
            }
        },
    )
    q = r.quality_log.set_index("action")
    assert q.loc["duplicate_header", "raw_value"] == "协议金额"
    assert "约" in q.loc["header_unit", "message"]
    assert q.loc["implausible", "column"] == "compensation_yuan"


# --- the office profile, and no silent loss -------------------------------------------------------

#: A sites ledger in a layout the demo never uses: 安置点 and 所在街道 are in no built-in list.
STREET_SITES = {
    "2021": {
        "rows": [
            ["XX区安置房建设情况表"],
            ["序号", "安置点", "所在街道", "开工日期", "约定交房日期", "实际交房日期", "总套数"],
            [1, "城东花园", "城东", "2019-01-01", "2021-06-30", "", 300],
            [2, "港城新居", "港城", "2019-03-01", "2021-12-31", "2021-12-01", 200],
            [3, "城东雅苑", "城东", "2019-05-01", "2022-06-30", "", 120],
        ]
    }
}
STREET_PROFILE = '[headers.sites]\nsite_name = ["安置点"]\nzone = ["所在街道"]\n'
ZONES_PROFILE = '[zones]\n"城东片区" = ["城东"]\n'


def _raw_with(tmp_path, files: dict[str, dict]) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, sheets in files.items():
        write_xlsx(raw / name, sheets)
    return raw


def test_sites_accept_the_zone_headers_of_projects(tmp_path):
    from zhengshou_analysis.schemas import TABLES, ZONE_HEADERS

    assert TABLES["sites"].column("zone").headers == TABLES["projects"].column("zone").headers
    assert TABLES["sites"].column("zone").headers == ZONE_HEADERS
    for header in ZONE_HEADERS:
        rows = [
            ["安置区名称", header, "开工日期", "约定交房日期"],
            ["蓝田安置区", "贵城", "2017-01-01", "2019-12-31"],
        ]
        (tmp_path / header).mkdir()
        r = _one(tmp_path / header, {"安置区": {"rows": rows}}, name="安置区台账.xlsx")
        assert r.tables["sites"]["zone"].tolist() == ["贵城片区"], header
        assert not (r.quality_log["action"] == "unmapped_header").any()


def test_unknown_headers_are_warnings_naming_what_to_add_to_the_profile(tmp_path):
    raw = _raw_with(tmp_path, {"安置房建设.xlsx": STREET_SITES})
    with pytest.raises(CleanError) as info:
        clean_ledgers(raw)  # 安置点 unknown: the sites ledger lacks its required name column
    q = info.value.result.quality_log
    assert q.loc[q["action"] == "missing_column", "column"].tolist() == ["site_name"]
    unmapped = q[q["action"] == "unmapped_header"].set_index("raw_value")
    assert sorted(unmapped.index) == ["安置点", "所在街道"]  # not 序号: deliberately ignored
    assert (unmapped["severity"] == "warning").all()
    assert (unmapped["origin"] == "安置房建设.xlsx#2021!2").all()
    msg = unmapped.at["所在街道", "message"]
    for part in ("安置房建设.xlsx", "2021", "列 C", "所在街道", "[headers.sites]"):
        assert part in msg, part
    assert 'zhengshou.toml 的 [headers.sites] 中把 "所在街道" 加到对应字段' in msg
    entry = info.value.result.manifest["sheets"][0]
    assert entry["status"] == "error" and entry["header_row"] == 2
    assert {c["header"]: c["status"] for c in entry["columns"]}["安置点"] == "unmapped"


def test_a_profile_maps_unknown_headers_and_flags_unknown_zones(tmp_path):
    from zhengshou_analysis.profile import parse_profile

    raw = _raw_with(tmp_path, {"安置房建设.xlsx": STREET_SITES})
    r = clean_ledgers(raw, profile=parse_profile(STREET_PROFILE))
    sites = r.tables["sites"]
    assert sites["site_name"].tolist() == ["城东花园", "港城新居", "城东雅苑"]
    assert sites["zone"].tolist() == ["城东", "港城片区", "城东"]  # 城东: kept as written …
    assert sites["units"].tolist() == [300, 200, 120]
    q = r.quality_log
    assert not (q["action"] == "unmapped_header").any()
    zone = q[q["action"] == "unknown_zone"]  # … and warned about once, with its count
    assert zone["raw_value"].tolist() == ["城东"]
    assert zone["severity"].tolist() == ["warning"]
    assert zone["origin"].tolist() == ["安置房建设.xlsx#2021!3"]
    assert "2 行" in zone["message"].iloc[0] and "[zones]" in zone["message"].iloc[0]
    entry = r.manifest["sheets"][0]
    assert entry["unknown_zones"] == [
        {"value": "城东", "rows": 2, "first": "安置房建设.xlsx#2021!3"}
    ]
    assert entry["ignored_headers"] == ["序号"] and entry["unmapped_headers"] == []


def test_a_profile_zone_alias_is_written_as_its_zone_in_projects_and_sites(tmp_path):
    from zhengshou_analysis.profile import parse_profile

    projects = {
        "2021年": {
            "rows": [
                ["片区", "项目名称", "年度", "征地任务（亩）"],
                ["城东", "东环路项目", 2021, 10],
                ["贵城", "中山路项目", 2021, 5],
            ]
        }
    }
    raw = _raw_with(tmp_path, {"安置房建设.xlsx": STREET_SITES, "项目台账.xlsx": projects})
    r = clean_ledgers(raw, profile=parse_profile(STREET_PROFILE + ZONES_PROFILE))
    assert r.tables["sites"]["zone"].tolist() == ["城东片区", "港城片区", "城东片区"]
    assert r.tables["projects"]["zone"].tolist() == ["城东片区", "贵城片区"]
    assert not r.quality_log["action"].isin(["unknown_zone", "unmapped_header"]).any()
    # without the profile the projects' 城东 is kept as written and warned about
    q = clean_ledgers(_raw_with(tmp_path / "p", {"项目台账.xlsx": projects})).quality_log
    assert q.loc[q["action"] == "unknown_zone", "raw_value"].tolist() == ["城东"]


def test_personal_data_headers_are_an_info_with_the_header_only(small_ledgers):
    q = small_ledgers.quality_log
    pii = q[q["action"] == "pii_ignored"]
    assert len(pii) and (pii["severity"] == "info").all()
    for value in PERSONAL_DATA:
        assert not q["raw_value"].str.contains(value, regex=False).any()
        assert not q["message"].str.contains(value, regex=False).any()


def test_file_sheet_row_columns_are_the_parts_of_origin(small_ledgers, demo_ledgers):
    for result in (small_ledgers, demo_ledgers):
        for df in (result.quality_log, result.rejected):
            assert list(df.columns[:4]) == ["origin", "file", "sheet", "row"]
            rebuilt = df["file"] + df["sheet"].map(lambda s: f"#{s}" if s else "")
            rebuilt += df["row"].map(lambda r: f"!{r}" if r else "")
            assert rebuilt.tolist() == df["origin"].tolist()
    q = small_ledgers.quality_log
    skipped = q[q["action"] == "sheet_skipped"].iloc[0]
    assert (skipped["file"], skipped["sheet"], skipped["row"]) == ("项目台账.xlsx", "说明", "")
    assert (demo_ledgers.quality_log["file"] != "").all()


def test_every_action_has_a_chinese_label(small_ledgers, demo_ledgers):
    from zhengshou_analysis.ledger.quality import ACTION_LABELS

    assert {"unmapped_header", "unknown_zone", "pii_ignored"} <= set(ACTION_LABELS)
    for result in (small_ledgers, demo_ledgers):
        assert set(result.quality_log["action"]) <= set(ACTION_LABELS)


def _origin_parts_by_regex(origin: pd.Series) -> pd.DataFrame:
    """The definition of an origin's parts, one origin at a time (the reference)."""
    import re

    from zhengshou_analysis.ledger.findings import _ORIGIN

    rows = [re.match(_ORIGIN, o or "").groupdict(default="") for o in origin.fillna("")]
    return pd.DataFrame(rows, index=origin.index, columns=["file", "sheet", "row"]).astype("str")


def test_origin_parts_of_every_shape_agree_with_the_regex():
    from zhengshou_analysis.ledger.findings import origin_parts

    shapes = [
        "a.xlsx#协议!12",
        "a.xlsx#协议",  # no row: the sheet's other origins are still found by their prefix
        "a.xlsx#协议!13",
        "a.xlsx",
        "a#b.xlsx#S!3",  # a # in the file name: the file ends at the first #
        "x!12",  # no sheet: no row either
        "F#S!12!34",  # a ! in the sheet name
        "F#S!12!x",
        "F#S!",
        "F#S!１２",  # full-width digits are no row number
        "",
        None,
        "b.csv#b!2",
    ]
    # more sheets than are found by prefix: the rest goes to the regex
    many = [f"f{i % 40}.csv#s!{i}" for i in range(200)]
    origin = pd.Series(shapes * 3 + many, dtype="str", index=range(7, 7 + 3 * len(shapes) + 200))
    got = origin_parts(origin)
    pd.testing.assert_frame_equal(got, _origin_parts_by_regex(origin))
    assert got.loc[7].tolist() == ["a.xlsx", "协议", "12"]


def test_quoting_rejected_rows_column_by_column_matches_a_dict_per_row():
    import datetime as dt

    from zhengshou_analysis.ledger.rejections import RowCells

    rows = pd.DataFrame(
        [
            ["A-1", 1.0, True, dt.datetime(2021, 3, 15), "张三", "x", ""],
            ['say "hi"\n\\', 0.1 + 0.2, False, dt.date(2021, 1, 2), "李四", "", "extra"],
            ["", float("nan"), 1.0, dt.datetime(2021, 3, 15, 8, 30), "", "y", ""],
            ["\x01控制", 753700.0, None, dt.time(8, 0), "王五", "z", "列G?"],
        ],
        index=[10, 11, 12, 13],
        dtype=object,
    )
    cells = RowCells(
        rows,
        keys=["编号", "金额", "真假", "日期", "姓名", "备注", ""],
        personal=frozenset({4}),
        withheld=frozenset({5}),
    )
    want = [cells.quote_row(r) for r in rows.to_numpy(dtype=object).tolist()]
    assert cells.quote([10, 11, 12, 13]) == want
    assert cells.quote([13, 10]) == [want[3], want[0]]
    assert cells.quote([]) == []
    quoted = json.loads(want[1])
    assert quoted["金额"] == "0.3" and quoted["真假"] == "FALSE" and quoted["姓名"] == ""
    assert quoted["备注"] == "" and quoted["列G"] == WITHHELD
    assert json.loads(want[2])["真假"] == "1" and "列G" not in json.loads(want[2])
    # a header that is also a column letter's key: quoted as a dict would merge them
    clash = RowCells(
        rows, keys=["列G", "金额", "真假", "日期", "姓名", "备注", ""], personal=frozenset()
    )
    assert clash.quote([11]) == [clash.quote_row(rows.loc[11].tolist())]


#: Origins as the cleaner writes them (``FILE#SHEET!ROW``; a CSV's sheet is its file's name),
#: with ``!``, ``#`` and spaces in sheet names, and others now and then: no row, no sheet, a row
#: that is no number, a newline at the end, None.
_FILES = st.sampled_from(["a.xlsx", "a b.xlsx", "a", "a!", "台账.xlsx", "b.csv"])
_SHEETS = st.one_of(
    st.sampled_from(["协议", "协议 2", "S!12", "S#2", "a!b#c", "", "b", " "]),
    st.text("ab!# 1", max_size=4),
)
_ORIGINS = st.builds(
    lambda f, s, r: f"{f}#{s}!{r}", _FILES, _SHEETS, st.integers(1, 10**7).map(str)
)
_ODD_ORIGINS = st.one_of(
    st.none(),
    st.builds(lambda f, s: f"{f}#{s}", _FILES, _SHEETS),
    _FILES,
    st.builds(
        lambda o, r: o.rpartition("!")[0] + "!" + r,
        _ORIGINS,
        st.sampled_from(["", "x", "１２", "007", "12\n", "9" * 19, "1.5", "-3"]),
    ),
)


@st.composite
def _origin_lists(draw):
    origins = draw(st.lists(_ORIGINS, min_size=1, max_size=30))
    return draw(st.permutations(origins + draw(st.lists(_ODD_ORIGINS, max_size=2))))


@settings(deadline=None, max_examples=300)
@given(_origin_lists())
def test_rejected_rows_are_ordered_by_sheet_then_row_number(origins):
    """The vectorised order is the reference's: text before the last ``!`` (``""`` without
    one), then the number after it (none: last), ties in their order."""
    from zhengshou_analysis.ledger.clean import _sort_by_origin

    df = pd.DataFrame({"origin": pd.Series(origins, dtype="str"), "at": range(len(origins))})
    parts = df["origin"].str.rpartition("!")
    order = pd.DataFrame({"sheet": parts[0], "row": pd.to_numeric(parts[2], errors="coerce")})
    want = df.loc[order.sort_values(["sheet", "row"], kind="stable").index]
    pd.testing.assert_frame_equal(_sort_by_origin(df), want.reset_index(drop=True))
    assert df["at"].tolist() == list(range(len(origins)))  # the input is not reordered


@settings(deadline=None, max_examples=300)
@given(_origin_lists())
def test_manifest_counts_rows_per_sheet_as_the_regex_does(origins):
    from zhengshou_analysis.ledger.manifest import _sheet_counts

    origin = pd.Series(origins, dtype="str")
    want = origin.str.replace(r"![0-9]+$", "", regex=True).value_counts()
    assert _sheet_counts(origin) == {k: int(v) for k, v in want.items()}


def test_origins_are_ordered_by_sheet_then_row_number_not_as_text():
    from zhengshou_analysis.ledger.clean import _sort_by_origin
    from zhengshou_analysis.ledger.manifest import _sheet_counts

    origins = ["b.csv#b!2", "a.xlsx#协议 2!1", "a.xlsx#协议!10", "a.xlsx#协议!9", "a.xlsx#S!1!3"]
    df = pd.DataFrame({"origin": origins}, index=[4, 3, 2, 1, 0])
    got = _sort_by_origin(df)["origin"].tolist()
    # "协议!" sorts after "协议 2!" as text, but the sheet 协议 comes first: a space sorts before "!"
    assert got == [
        "a.xlsx#S!1!3",
        "a.xlsx#协议!9",
        "a.xlsx#协议!10",
        "a.xlsx#协议 2!1",
        "b.csv#b!2",
    ]
    assert _sheet_counts(pd.Series(origins)) == {
        "b.csv#b": 1,
        "a.xlsx#协议 2": 1,
        "a.xlsx#协议": 2,
        "a.xlsx#S!1": 1,
    }
