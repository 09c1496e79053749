"""A units row under the header (``（亩）（万平方米）（万元）`` in the cells under the header).

Ledgers in layouts the demo never uses: blank, title and date rows above the header, a two-row
header, units with and without brackets, some units cells empty, workbooks and CSV files. A units
row is never data and its units apply to their columns (docs/data_contract.md §1).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_builder import write_csv, write_xlsx

from zhengshou_analysis.ledger.clean import clean_ledgers
from zhengshou_analysis.ledger.layout import find_layout
from zhengshou_analysis.schemas import MU_M2

AGREEMENT_HEAD = ["协议编号", "签约日期", "补偿总额", "房屋面积"]


def _write(raw: Path, name: str, rows: list[list[object]], merges=()) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    if name.endswith(".csv"):
        write_csv(raw / name, rows)
    else:
        write_xlsx(raw / name, {"台账": {"rows": rows, "merges": list(merges)}})


def _assert_clean(r, *, header_rows: int) -> None:
    """Nothing rejected, no warning, every stated total checked, rows accounted for."""
    assert r.rejected.empty, r.rejected.to_dict("records")
    q = r.quality_log
    assert not (q["severity"] != "info").any(), q[q["severity"] != "info"].to_dict("records")
    assert "unparseable" not in set(q["action"])
    assert (q["action"] == "total_checked").any()
    (used,) = [s for s in r.manifest["sheets"] if s["status"] == "used"]
    assert used["header_rows"] == header_rows
    assert used["raw_data_rows"] == used["kept"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("blanks", [1, 2])
def test_blank_rows_above_the_header_and_a_units_row(tmp_path, suffix, blanks):
    rows = [
        *([[]] * blanks),
        AGREEMENT_HEAD,
        ["", "", "（万元）", "（万平方米）"],
        ["A-1", "2021-01-05", 1234.5, 1.2],
        ["A-2", "2021-02-05", "2,000", 0.5],
        ["合计", "", 3234.5, 1.7],
    ]
    _write(tmp_path / "raw", "协议台账" + suffix, rows)
    r = clean_ledgers(tmp_path / "raw")
    a = r.tables["agreements"]
    assert a["compensation_yuan"].tolist() == [12_345_000.0, 20_000_000.0]
    assert a["house_area_m2"].tolist() == [12_000.0, 5_000.0]
    assert a["origin"].str.endswith(f"!{blanks + 3}").iloc[0]
    _assert_clean(r, header_rows=2)
    (used,) = r.manifest["sheets"]
    assert (used["header_row"], used["rows_above_header"], used["title_rows"]) == (
        blanks + 1,
        blanks,
        0,
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_title_date_and_blank_rows_then_a_units_row_without_brackets(tmp_path, suffix):
    rows = [
        ["港北区2022年征收项目任务完成情况表"],
        ["", "", "", "", "截至2022年6月30日"],
        [],
        ["序号", "项目名称", "征地任务", "房屋征收任务", "已完成房屋征收", "卡点面积", "备注"],
        ["", "", "亩", "万平方米", "㎡", "", ""],  # 卡点面积 left empty: its header's unit (none)
        [1, "南湖片区", 120, 1.2, "8000", 3.5, ""],
        [2, "港北大道", "60", 0.3, 1000, 0, "待复核"],
        ["", "合计", 180, 1.5, 9000, 3.5, ""],
    ]
    _write(tmp_path / "raw", "项目台账" + suffix, rows)
    r = clean_ledgers(tmp_path / "raw")
    p = r.tables["projects"]
    assert p["year"].tolist() == [2022, 2022]  # from the title, above the blank row
    assert p["land_target_mu"].tolist() == [120.0, 60.0]
    assert p["house_target_m2"].tolist() == [12_000.0, 3_000.0]
    assert p["house_done_m2"].tolist() == [8_000.0, 1_000.0]
    assert p["blocked_mu"].tolist() == [3.5, 0.0]
    _assert_clean(r, header_rows=2)
    (used,) = r.manifest["sheets"]
    assert (used["rows_above_header"], used["title_rows"], used["blank_rows"]) == (3, 2, 0)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_two_row_header_and_a_units_row(tmp_path, suffix):
    rows = [
        ["XX区2021年征收项目任务表"],
        [],
        ["项目名称", "年度", "征地", "", "房屋征收", ""],
        ["", "", "任务", "已完成", "任务", "已完成"],
        ["", "", "（亩）", "（公顷）", "（万平方米）", ""],  # 房屋已完成: no unit written
        ["甲", 2021, 100, 2, 1.2, 9000],
        ["乙", 2021, 50, 1, 0.3, 1000],
        ["小计", "", 150, 3, 1.5, 10000],
    ]
    merges = [(2, 2, 2, 3, "征地"), (2, 4, 2, 5, "房屋征收"), (2, 0, 3, 0, "项目名称")]
    merges += [(2, 1, 3, 1, "年度")]
    _write(tmp_path / "raw", "项目台账" + suffix, rows, merges if suffix == ".xlsx" else ())
    r = clean_ledgers(tmp_path / "raw")
    p = r.tables["projects"]
    assert p["land_target_mu"].tolist() == [100.0, 50.0]
    assert p["land_done_mu"].tolist() == [30.0, 15.0]  # 1 公顷 = 15 亩
    assert p["house_target_m2"].tolist() == [12_000.0, 3_000.0]
    assert p["house_done_m2"].tolist() == [9_000.0, 1_000.0]
    _assert_clean(r, header_rows=3)
    (used,) = r.manifest["sheets"]
    assert used["header_row"] == 3 and used["rows_above_header"] == 2


def test_fee_rate_and_months_in_a_units_row_derive_the_fee_basis(tmp_path):
    rows = [
        [],
        ["协议编号", "腾房日期", "过渡费标准", "计费面积", "约定过渡期限"],
        ["", "", "元/平方米/月", "平方米", "月"],
        ["A-1", "2021-02-01", 10, 95, 24],
        ["A-2", "2021-03-01", 12, "80", 36],
    ]
    _write(tmp_path / "raw", "过渡安置台账.csv", rows)
    r = clean_ledgers(tmp_path / "raw")
    t = r.tables["transition"]
    assert t["fee_basis"].tolist() == ["per_m2", "per_m2"]
    assert t["fee_rate_yuan"].tolist() == [10.0, 12.0]
    assert t["area_m2"].tolist() == [95.0, 80.0]
    assert t["agreed_months"].tolist() == [24, 36]
    assert r.rejected.empty
    assert not (r.quality_log["severity"] != "info").any()


@pytest.mark.parametrize(
    "units",
    [
        ["", "", "（万元）", "（平方米）"],
        ["", "", "万元", "平方米"],
        ["单位", "", "万元", "㎡"],
        ["", "", "(万元)", ""],
        ["", "", "单位：万元", "m²"],
    ],
)
def test_units_row_is_found_whatever_its_spelling(units):
    rows = [[], ["截至2021年12月31日"], [], AGREEMENT_HEAD, units, ["A-1", "2021-01-05", 1, 80]]
    lay = find_layout(rows)
    assert (lay.header_row, lay.header_rows) == (3, 2)
    money = next(h for h in lay.headers if h.col == 2)
    assert money.unit == "万元"


@pytest.mark.parametrize("label", ["单位：万元", "（单位：万元）", "单位:万元"])
def test_a_units_row_stating_the_sheet_unit_under_another_column(tmp_path, label):
    rows = [
        AGREEMENT_HEAD,
        [label, "", "", ""],
        ["A-1", "2021-01-05", 1.5, 80],
        ["合计", "", 1.5, 80],
    ]
    _write(tmp_path / "raw", "协议台账.xlsx", rows)
    r = clean_ledgers(tmp_path / "raw")
    assert r.tables["agreements"]["compensation_yuan"].tolist() == [15_000.0]
    assert r.tables["agreements"]["house_area_m2"].tolist() == [80.0]  # an area is no money
    _assert_clean(r, header_rows=2)


def test_a_row_with_a_unit_and_other_text_is_data():
    rows = [[], AGREEMENT_HEAD, ["A-1", "", "万元", "平方米"], ["A-2", "2021-01-05", 1, 80]]
    lay = find_layout(rows)
    assert (lay.header_row, lay.header_rows) == (1, 1)


# --- any layout: blank/title rows above the header, a units row or none, any units ---------------

MONEY = {"元": 1.0, "千元": 1e3, "万元": 1e4, "亿元": 1e8}
AREA = {"平方米": 1.0, "㎡": 1.0, "m²": 1.0, "万平方米": 1e4, "亩": MU_M2}
TITLES = ["港北区征收补偿协议台账", "截至2021年12月31日", "填报单位：港北区征收办", "(示例)"]
SPELLINGS = ["（{}）", "({})", "{}", "单位：{}"]

layouts = st.fixed_dictionaries(
    {
        "above": st.lists(st.sampled_from(["", *TITLES]), max_size=5),
        "units_row": st.booleans(),
        "money": st.sampled_from([None, *MONEY]),
        "area": st.sampled_from([None, *AREA]),
        "spelling": st.sampled_from(SPELLINGS),
        "suffix": st.sampled_from([".xlsx", ".csv"]),
        "values": st.lists(
            st.tuples(
                st.integers(1, 10**5).map(lambda v: v / 100), st.integers(1, 10**4).map(float)
            ),
            min_size=1,
            max_size=4,
        ),
    }
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(layouts)
def test_any_layout_with_or_without_a_units_row_scales_the_values(tmp_path_factory, layout):
    raw = tmp_path_factory.mktemp("units")
    money, area = layout["money"], layout["area"]
    units_row = layout["units_row"] and bool(money or area)  # an empty row is a blank row
    spell = layout["spelling"].format
    rows: list[list[object]] = [[t] if t else [] for t in layout["above"]]
    rows.append(AGREEMENT_HEAD)
    if units_row:
        rows.append(["", "", spell(money) if money else "", spell(area) if area else ""])
    for i, (amount, m2) in enumerate(layout["values"]):
        rows.append([f"A-{i}", dt.date(2021, 1, 1 + i).isoformat(), amount, m2])
    _write(raw, "协议台账" + layout["suffix"], rows)
    r = clean_ledgers(raw)
    money_factor = MONEY[money] if units_row and money else 1.0
    area_factor = AREA[area] if units_row and area else 1.0
    a = r.tables["agreements"]
    assert r.rejected.empty
    assert not (r.quality_log["severity"] != "info").any()
    expected_money = [round(v * money_factor, 2) for v, _ in layout["values"]]
    expected_area = [m2 * area_factor for _, m2 in layout["values"]]
    assert a["compensation_yuan"].tolist() == pytest.approx(expected_money, rel=1e-12)
    assert a["house_area_m2"].tolist() == pytest.approx(expected_area, rel=1e-9)
    (used,) = r.manifest["sheets"]
    assert used["header_rows"] == 1 + units_row
    assert used["rows_above_header"] == len(layout["above"])
    assert used["title_rows"] == sum(1 for t in layout["above"] if t)
