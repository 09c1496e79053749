"""``rejected.csv`` quotes every rejected row as the office wrote it (docs/data_contract.md §2).

For every rejection reason (a required value missing or unreadable, a negative amount, a payment
or inflow not above 0, a value outside its list, a date before the date it must follow, a fee basis
without its area, a duplicate key found after assembly): ``raw_cells`` holds every cell of the row,
header → the text a person sees, personal-data cells blanked (key kept, value ``""``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_builder import PERSONAL_DATA, write_csv, write_xlsx

from zhengshou_analysis.demo import demo_expected_rejections
from zhengshou_analysis.ledger.clean import clean_ledgers
from zhengshou_analysis.ledger.ingest import decode_csv
from zhengshou_analysis.ledger.outputs import write_clean_outputs
from zhengshou_analysis.ledger.rejections import WITHHELD, RowCells, as_written
from zhengshou_analysis.schemas import PII_WORDS

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
D = dt.date


# --- reading a ledger row without the cleaner ----------------------------------------------------


def _sheet_rows(path: Path, sheet: str) -> list[list[object]]:
    """Every row of a sheet, read straight from the file (calamine, or the csv module)."""
    if path.suffix == ".csv":
        text, _ = decode_csv(path.read_bytes())
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    try:
        return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    finally:
        wb.close()


def _text(v: object) -> str:
    """A cell as Excel shows it (General format), independently of the package."""
    if v is None or v == "":
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(round(v, 9))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _personal(header: str) -> bool:
    h = unicodedata.normalize("NFKC", header).replace(" ", "")
    return any(w in h for w in PII_WORDS)


def _expected_cells(raw: Path, origin: str, manifest: dict) -> tuple[list[str], set[int]]:
    """The row's non-empty cells in column order (personal data removed), and its PII columns."""
    where, _, row = origin.rpartition("!")
    file, _, sheet = where.partition("#")
    entry = next(s for s in manifest["sheets"] if s["file"] == file and s["sheet"] == sheet)
    rows = _sheet_rows(raw / file, sheet)
    top = entry["header_row"] - 1
    header = [
        "".join(_text(rows[r][j]) for r in range(top, top + entry["header_rows"]))
        for j in range(max(len(r) for r in rows))
    ]
    pii = {j for j, h in enumerate(header) if _personal(h)}
    cells = rows[int(row) - 1]
    return [_text(c) for j, c in enumerate(cells) if j not in pii and _text(c)], pii


def _assert_quoted_as_written(raw: Path, result) -> None:
    for rec in result.rejected.itertuples():
        quoted = json.loads(rec.raw_cells)
        want, pii = _expected_cells(raw, rec.origin, result.manifest)
        got = [v for v in quoted.values() if v]
        assert len(got) == len(want), (rec.origin, quoted, want)
        # every cell as written, but an unmapped column's (it may hold personal data)
        assert all(g in (w, WITHHELD) for g, w in zip(got, want, strict=True)), (quoted, want)
        assert sum(g == w for g, w in zip(got, want, strict=True)) > len(want) // 2, quoted
        assert sum(1 for k in quoted if _personal(k)) == len(pii), quoted  # keys kept
        assert all(v == "" for k, v in quoted.items() if _personal(k))


# --- the demo ----------------------------------------------------------------------------------


def _demo_personal_values() -> set[str]:
    """Every name, ID number and phone number the demo ledgers hold (under personal headers)."""
    values = set()
    for path in sorted(DEMO.iterdir()):
        if path.suffix not in (".csv", ".xlsx"):
            continue
        sheets = [path.stem]
        if path.suffix == ".xlsx":
            import python_calamine as pc

            wb = pc.CalamineWorkbook.from_path(str(path))
            sheets = wb.sheet_names
            wb.close()
        for sheet in sheets:
            rows = _sheet_rows(path, sheet)
            for i, row in enumerate(rows[:-1]):
                pii = [j for j, c in enumerate(row) if isinstance(c, str) and _personal(c)]
                for j in pii:
                    values |= {_text(r[j]) for r in rows[i + 1 :] if j < len(r)}
    values.discard("")
    return {v for v in values if len(v) >= 3}


def test_demo_rejections_quote_the_ledger_cells(demo_ledgers):
    want = demo_expected_rejections()
    origins = (want["file"] + "#" + want["sheet"] + "!" + want["row"].astype("str")).tolist()
    assert sorted(demo_ledgers.rejected["origin"]) == sorted(origins)
    _assert_quoted_as_written(DEMO, demo_ledgers)
    dup = demo_ledgers.rejected.set_index("origin").loc[
        "征收补偿协议台账_2021-2022.xlsx#2022年!331"
    ]
    assert "duplicate key" in dup["reason"]
    cells = json.loads(dup["raw_cells"])
    assert cells["协议号"] == "GC-2022-0049"  # the header as key, not agreement_id
    assert cells["协议金额"] == "57.0051"  # 万元 as written, not 570051.0 yuan
    assert cells["户主"] == cells["证件号码"] == cells["手机"] == ""


def test_no_personal_data_of_the_demo_in_any_output(demo_ledgers, tmp_path):
    secrets = _demo_personal_values()
    assert len(secrets) > 100  # names, ID numbers and phones are there to be found
    write_clean_outputs(demo_ledgers, tmp_path)
    blob = "".join(
        (tmp_path / f).read_text(encoding="utf-8-sig")
        for f in ("rejected.csv", "quality_log.csv", "manifest.json")
    )
    blob += demo_ledgers.rejected.to_csv()
    assert not [s for s in secrets if s in blob]


# --- a hand-made ledger with every reason --------------------------------------------------------

AGREEMENT_HEAD = [
    "序号",
    "协 议 编 号",
    "被征收人",
    "身份证号",
    "联系电话",
    "项目名称",
    "签约日期",
    "房屋面积（㎡）",
    "补偿总额（元）",
    "形象进度",
    "备注",
]


def _build(raw: Path) -> Path:
    raw.mkdir()
    name, idno, phone, name2, phone2 = PERSONAL_DATA
    write_xlsx(
        raw / "协议台账.xlsx",
        {
            "2021年": {
                "rows": [
                    ["XX区征收补偿协议台账"],
                    AGREEMENT_HEAD,
                    [1, "A-1", name, idno, phone, "南湖路", D(2021, 1, 30), 120.5, 753700, "", ""],
                    [2, "A-2", name2, "", phone2, "南湖路", "X", 0.1 + 0.2, 5000, True, "待补"],
                    [3, "A-3", "某甲", "", "", "港北", D(2021, 3, 1), 80, -3, "50%", ""],
                    [4, "A-1", "某乙", "", "", "南湖路", D(2020, 12, 13), 95.25, 753700.0, "", "x"],
                ]
            },
        },
    )
    write_csv(  # the same key again, in a later file
        raw / "协议台账2022.csv",
        [
            [*AGREEMENT_HEAD, ""],
            [
                "1",
                "A-1",
                name,
                idno,
                phone,
                "南湖路",
                "2022/04/01",
                "1,000",
                "7,537万元",
                "",
                "重复",
                "?",
            ],
        ],
    )
    write_csv(
        raw / "支付台账.csv",
        [
            ["支付编号", "支付日期", "协议编号", "款项类型", "支付金额（元）", "收款人"],
            ["P-1", "2021-02-01", "A-1", "补偿款", "5,000", name],
            ["P-2", "2021.3.1", "A-1", "补偿款", "0", name],
            ["P-3", "2021年4月1日", "A-1", "", "100", name2],
        ],
        encoding="gbk",
    )
    write_xlsx(
        raw / "安置区台账.xlsx",
        {
            "安置区": {
                "rows": [
                    ["片区", "安置区名称", "开工日期", "计划交房日期", "套数"],
                    ["贵城", "蓝田安置区", D(2017, 3, 1), D(2022, 12, 31), 800],
                    ["", "文华雅苑", "2019-01-01", D(2018, 12, 31), 300],
                ],
                "merges": [(1, 0, 2, 0, "贵城")],
            }
        },
    )
    write_xlsx(
        raw / "过渡安置台账.xlsx",
        {
            "过渡": {
                "rows": [
                    [
                        "协议编号",
                        "户主姓名",
                        "腾房日期",
                        "回迁日期",
                        "计费方式",
                        "过渡费标准",
                        "计费面积",
                    ],
                    ["A-1", name, D(2021, 5, 1), D(2021, 4, 1), "按户", 800, ""],
                    ["A-2", name2, D(2021, 5, 1), "", "按间", 10, 50],
                    ["A-3", "某丙", D(2021, 5, 1), "", "按面积", 10, "X"],
                ]
            }
        },
    )
    return raw


EXPECTED = {
    "协议台账.xlsx#2021年!4": (
        "signed_date",
        {
            "序号": "2",
            "协议编号": "A-2",
            "被征收人": "",
            "身份证号": "",
            "联系电话": "",
            "项目名称": "南湖路",
            "签约日期": "X",
            "房屋面积(m2)": "0.3",
            "补偿总额(元)": "5000",
            "形象进度": "TRUE",
            "备注": "待补",
        },
    ),
    "协议台账.xlsx#2021年!5": (
        "不能为负数",
        {
            "序号": "3",
            "协议编号": "A-3",
            "被征收人": "",
            "身份证号": "",
            "联系电话": "",
            "项目名称": "港北",
            "签约日期": "2021-03-01",
            "房屋面积(m2)": "80",
            "补偿总额(元)": "-3",
            "形象进度": "50%",
            "备注": "",
        },
    ),
    "协议台账.xlsx#2021年!6": (
        "duplicate key",
        {
            "序号": "4",
            "协议编号": "A-1",
            "被征收人": "",
            "身份证号": "",
            "联系电话": "",
            "项目名称": "南湖路",
            "签约日期": "2020-12-13",
            "房屋面积(m2)": "95.25",
            "补偿总额(元)": "753700",
            "形象进度": "",
            "备注": "x",
        },
    ),
    "协议台账2022.csv#协议台账2022!2": (
        "duplicate key",
        {
            "序号": "1",
            "协议编号": "A-1",
            "被征收人": "",
            "身份证号": "",
            "联系电话": "",
            "项目名称": "南湖路",
            "签约日期": "2022/04/01",
            "房屋面积(m2)": "1,000",
            "补偿总额(元)": "7,537万元",
            "形象进度": "",
            "备注": "重复",
            "列L": "?",
        },
    ),
    "支付台账.csv#支付台账!3": (
        "必须大于0",
        {
            "支付编号": "P-2",
            "支付日期": "2021.3.1",
            "协议编号": "A-1",
            "款项类型": "补偿款",
            "支付金额(元)": "0",
            "收款人": "",
        },
    ),
    "支付台账.csv#支付台账!4": (
        "required kind",
        {
            "支付编号": "P-3",
            "支付日期": "2021年4月1日",
            "协议编号": "A-1",
            "款项类型": "",
            "支付金额(元)": "100",
            "收款人": "",
        },
    ),
    "安置区台账.xlsx#安置区!3": (
        "promised_date < start_date",
        {
            "片区": "",  # a merged cell's value stands in its first row
            "安置区名称": "文华雅苑",
            "开工日期": "2019-01-01",
            "计划交房日期": "2018-12-31",
            "套数": "300",
        },
    ),
    "过渡安置台账.xlsx#过渡!2": (
        "end_date < start_date",
        {
            "协议编号": "A-1",
            "户主姓名": "",
            "腾房日期": "2021-05-01",
            "回迁日期": "2021-04-01",
            "计费方式": "按户",
            "过渡费标准": "800",
            "计费面积": "",
        },
    ),
    "过渡安置台账.xlsx#过渡!3": (
        "fee_basis",
        {
            "协议编号": "A-2",
            "户主姓名": "",
            "腾房日期": "2021-05-01",
            "回迁日期": "",
            "计费方式": "按间",
            "过渡费标准": "10",
            "计费面积": "50",
        },
    ),
    "过渡安置台账.xlsx#过渡!4": (
        "area_m2",
        {
            "协议编号": "A-3",
            "户主姓名": "",
            "腾房日期": "2021-05-01",
            "回迁日期": "",
            "计费方式": "按面积",
            "过渡费标准": "10",
            "计费面积": "X",
        },
    ),
}


@pytest.fixture(scope="module")
def handmade(tmp_path_factory):
    raw = _build(tmp_path_factory.mktemp("rejected") / "raw")
    return raw, clean_ledgers(raw)


#: Columns of the hand-made ledgers that feed no canonical column: withheld when filled.
UNMAPPED = {"形象进度", "备注", "列L"}


def _withheld(cells: dict[str, str]) -> dict[str, str]:
    return {k: WITHHELD if k in UNMAPPED and v else v for k, v in cells.items()}


def test_every_reason_quotes_the_row_as_written(handmade):
    raw, r = handmade
    rej = r.rejected.set_index("origin")
    assert sorted(rej.index) == sorted(EXPECTED)
    for origin, (reason, written) in EXPECTED.items():
        cells = _withheld(written)
        assert reason in rej.loc[origin, "reason"], (origin, rej.loc[origin, "reason"])
        assert json.loads(rej.loc[origin, "raw_cells"]) == cells, origin
        assert list(json.loads(rej.loc[origin, "raw_cells"])) == list(cells)  # sheet order
    _assert_quoted_as_written(raw, r)


def test_rejected_csv_holds_no_personal_data_and_no_live_formula(handmade, tmp_path):
    _, r = handmade
    write_clean_outputs(r, tmp_path)
    text = (tmp_path / "rejected.csv").read_text(encoding="utf-8-sig")
    for secret in PERSONAL_DATA:
        assert secret not in text, secret
    back = pd.read_csv(tmp_path / "rejected.csv", encoding="utf-8-sig", dtype=str)
    assert len(back) == len(EXPECTED)
    assert not back["raw_cells"].str.match(r"^[=+\-@]").any()


def test_small_ledgers_duplicate_keeps_the_cells_as_written(small_ledgers, small_raw):
    rej = small_ledgers.rejected.set_index("origin")
    dup = json.loads(rej.loc["协议台账.xlsx#贵城片区!7", "raw_cells"])
    assert dup == {
        "序号": "4",
        "协议编号": "GC-002",
        "被征收人": "",
        "身份证号": "",
        "联系电话": "",
        "项目名称": "南湖路征收",
        "签约日期": "2021/04/01",
        "补偿方式": "货币",
        "房屋面积(m2)": "10",
        "补偿总额": "5",
        "安置区": "",
    }
    _assert_quoted_as_written(small_raw, small_ledgers)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (753700.0, "753700"),
        (0.1 + 0.2, "0.3"),
        (41.2385, "41.2385"),
        (1e15, "1000000000000000"),
        (1e-7, "0.0000001"),
        (-3.0, "-3"),
        (dt.datetime(2020, 12, 13), "2020-12-13"),
        (dt.datetime(2020, 12, 13, 8, 30), "2020-12-13 08:30:00"),
        (dt.date(2021, 1, 30), "2021-01-30"),
        (True, "TRUE"),
        (None, ""),
        (float("nan"), ""),
        (" 约300 ", " 约300 "),
    ],
)
def test_as_written(value, text):
    assert as_written(value) == text


def test_an_unforeseen_column_is_withheld_from_rejected_csv(tmp_path):
    """A header no word list knows (补偿对象) may hold names: its cells are never quoted."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "支付台账.csv").write_text(
        "序号,支付日期,协议编号,款项类型,支付金额(元),补偿对象\n"
        "1,2021-03-01,A-1,补偿款,1000,黄小明\n"
        "2,2021-03-02,A-2,补偿款,-5,覃大力\n",
        encoding="utf-8",
    )
    result = clean_ledgers(raw)
    (rec,) = result.rejected.itertuples()
    quoted = json.loads(rec.raw_cells)
    assert quoted["支付金额(元)"] == "-5" and quoted["序号"] == "2"
    assert quoted["补偿对象"] == WITHHELD
    assert "覃大力" not in result.rejected.to_csv() and "黄小明" not in result.rejected.to_csv()


_CELLS = st.one_of(
    st.none(),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=6),  # any text, no lone surrogate
    st.sampled_from(["=1+1", '=HYPERLINK("x")', "约300", "", " ", 'a"b\\c\n', "\x1f", "\x7f"]),
    st.floats(),
    st.floats(-1e16, 1e16).map(round).map(float),  # whole numbers, both sides of 10¹⁵
    st.sampled_from([0.0, -0.0, 1e15, -1e15, 2e15, 0.1 + 0.2, 1e-7, 753700.0, float("inf")]),
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
#: Headers: mostly distinct texts; "" (a column without a header) and 列B (the key of column B's
#: letter) now and then.
_KEYS = st.lists(
    st.sampled_from(["编号", "金额", "备注", 'a"b', "日期", "面积", "", "列B"]), max_size=6
)


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    keys=_KEYS,
    rows=st.lists(st.lists(_CELLS, max_size=7), min_size=1, max_size=8),
    first=st.integers(0, 10_000),
    data=st.data(),
)
def test_quoting_column_by_column_matches_a_dict_per_row_for_any_cells(keys, rows, first, data):
    """Any cells (text, formulas, numbers, dates, None; rows of different lengths): the
    vectorised quote is the reference ``json.dumps`` of each row's dict, and a personal-data
    column's values are never in it."""
    width = len(keys)
    cols = range(width)
    some = st.sets(st.sampled_from(cols), max_size=2) if width else st.just(set())
    personal, withheld = frozenset(data.draw(some)), frozenset(data.draw(some))
    grid = [(r + [None] * width)[:width] for r in rows]  # the reader pads a short row
    for r in grid:
        for j in personal:
            r[j] = PERSONAL_DATA[j % len(PERSONAL_DATA)]
    frame = pd.DataFrame(grid, index=range(first, first + len(grid)), columns=cols, dtype=object)
    cells = RowCells(frame, keys=keys, personal=personal, withheld=withheld)
    wanted = data.draw(st.lists(st.sampled_from(list(frame.index)), max_size=10))
    want = [cells.quote_row(frame.loc[i].tolist()) for i in wanted]
    got = cells.quote(wanted)
    assert got == want
    assert cells.quote_array(pd.Index(wanted)).to_pylist() == want
    names = [k or f"列{chr(ord('A') + j)}" for j, k in enumerate(keys)]
    for text in got:
        assert not any(p in text for p in PERSONAL_DATA)
        quoted = json.loads(text)
        if len(set(names)) == len(names):
            assert all(quoted[keys[j]] in ("", WITHHELD) for j in withheld - personal if keys[j])


def test_quoting_a_row_that_is_no_data_row_names_it():
    cells = RowCells(
        pd.DataFrame([["a"]], index=[4], dtype=object), keys=["备注"], personal=frozenset()
    )
    with pytest.raises(KeyError, match="7"):
        cells.quote([4, 7])
