"""The bad-input corpus: every case has its documented outcome, row conservation always holds, the
raw folder is byte-identical afterwards, and no case ends in a traceback.

Each case builds a raw folder by code (a good ledger plus the bad thing) and states what must happen:
``error`` (the run fails with a message naming file, sheet, row and column), ``rejected`` (the row is
rejected with that reason) or ``warning`` (the value is kept and flagged). The outcomes are listed in
docs/bad_inputs.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_builder import write_csv, write_xlsx

from zhengshou_analysis.cli import main
from zhengshou_analysis.exceptions import CleanError, InputError
from zhengshou_analysis.ledger.clean import clean_ledgers

AGREEMENT_HEAD = ["协议编号", "签约日期", "补偿总额", "房屋面积"]


def good(raw: Path) -> None:
    write_xlsx(
        raw / "协议台账.xlsx",
        {
            "协议": {
                "rows": [
                    AGREEMENT_HEAD,
                    ["A-1", "2021-01-05", 100, 80],
                    ["A-2", "2021-02-05", 200, 90],
                ]
            }
        },
    )


@dataclass
class Case:
    name: str
    build: Callable[[Path], None]
    outcome: str  # error | rejected | warning | skipped
    detail: str  # a fragment of the message / reason / action that must appear
    where: tuple[str, ...] = ()  # fragments the error message must name (file, sheet, row, column)


def _corrupt(raw):
    good(raw)
    (raw / "坏表.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 50)


def _truncated(raw):
    good(raw)
    data = (raw / "协议台账.xlsx").read_bytes()
    (raw / "截断.xlsx").write_bytes(data[: len(data) // 2])


def _zero_bytes(raw):
    good(raw)
    (raw / "空文件.xlsx").write_bytes(b"")


def _unknown_encoding(raw):
    good(raw)
    (raw / "乱码.csv").write_bytes("协议编号,签约日期\n".encode() + b"A-9,\xff\xfe\x80\n")


def _nul_bytes(raw):
    good(raw)
    (raw / "空字符.csv").write_bytes("协议编号,签约日期\nA-9\x00,2021-01-01\n".encode())


def _bad_csv_syntax(raw):
    good(raw)  # a quote never closed: the rest of the file is one field, beyond the csv limit
    (raw / "引号.csv").write_bytes(('协议编号,签约日期\nA-9,"' + "x" * 200_000 + "\n").encode())


def _empty_sheet(raw):
    good(raw)
    write_xlsx(raw / "空表.xlsx", {"Sheet1": {"rows": []}})


def _header_only(raw):
    good(raw)
    write_xlsx(raw / "支付台账.xlsx", {"支付": {"rows": [["支付日期", "款项类型", "支付金额"]]}})


def _missing_required(raw):
    good(raw)
    write_xlsx(
        raw / "支付台账.xlsx",
        {"支付": {"rows": [["支付日期", "协议编号", "支付金额"], ["2021-03-01", "A-1", 10]]}},
    )


def _text_in_numbers(raw):
    write_xlsx(
        raw / "协议台账.xlsx",
        {
            "协议": {
                "rows": [
                    AGREEMENT_HEAD,
                    ["A-1", "2021-01-05", "一百万", 80],
                    ["A-2", "2021-02-05", 200, "很大"],
                ]
            }
        },
    )


def _negative(raw):
    write_xlsx(
        raw / "协议台账.xlsx", {"协议": {"rows": [AGREEMENT_HEAD, ["A-1", "2021-01-05", -5, 80]]}}
    )


def _end_before_start(raw):
    write_xlsx(
        raw / "过渡台账.xlsx",
        {
            "过渡": {
                "rows": [
                    ["协议编号", "腾房日期", "回迁日期", "计费方式", "过渡费标准", "约定过渡期限"],
                    ["A-1", "2021-05-01", "2021-04-01", "按户", 800, 24],
                ]
            }
        },
    )


def _duplicate_keys(raw):
    write_xlsx(
        raw / "协议台账.xlsx",
        {
            "协议": {
                "rows": [
                    AGREEMENT_HEAD,
                    ["A-1", "2021-01-05", 100, 80],
                    ["A-1", "2021-01-06", 100, 80],
                ]
            }
        },
    )


def _unknown_references(raw):
    write_xlsx(raw / "项目台账.xlsx", {"项目": {"rows": [["项目名称", "年度"], ["甲项目", 2021]]}})
    write_xlsx(
        raw / "协议台账.xlsx",
        {
            "协议": {
                "rows": [
                    ["协议编号", "项目名称", "签约日期", "补偿总额", "安置区"],
                    ["A-1", "不存在的项目", "2021-01-05", 100, "不存在的安置区"],
                ]
            }
        },
    )


def _csv_gb18030(raw):
    write_csv(
        raw / "资金到位.csv",
        [["到账日期", "资金来源", "到位金额"], ["2021-01-01", "专项债券㐀", 1]],
        encoding="gb18030",
    )


def _absurd(raw):
    write_xlsx(
        raw / "协议台账.xlsx",
        {
            "协议": {
                "rows": [
                    AGREEMENT_HEAD,
                    ["A-1", "1900-01-05", 100, 80],
                    ["A-2", "2100-02-05", 1e15, 90],
                ]
            }
        },
    )


def _formulas(raw):
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(raw / "协议台账.xlsx"))
    ws = wb.add_worksheet("协议")
    ws.write_row(0, 0, AGREEMENT_HEAD)
    ws.write_row(1, 0, ["A-1", "2021-01-05"])
    ws.write_formula(1, 2, "=60+40", None, 100)  # the cached value is what is read
    ws.write(1, 3, 80)
    wb.close()


def _hidden(raw):
    write_xlsx(
        raw / "协议台账.xlsx",
        {
            "协议": {"rows": [AGREEMENT_HEAD, ["A-1", "2021-01-05", 100, 80]]},
            "旧版": {"rows": [AGREEMENT_HEAD, ["A-9", "2020-01-05", 999, 80]], "hidden": True},
        },
    )


def _odd_merges(raw):
    write_xlsx(
        raw / "协议台账.xlsx",
        {
            "协议": {
                "rows": [AGREEMENT_HEAD, ["A-1", "2021-01-05", 100, 80], ["A-2", "", "", 90]],
                "merges": [
                    (1, 1, 2, 2, "2021-01-05")
                ],  # a merge across a date and an amount column
            }
        },
    )


CASES = [
    Case("corrupt workbook among good ones", _corrupt, "error", "无法读取", ("坏表.xlsx",)),
    Case("truncated workbook", _truncated, "error", "无法读取", ("截断.xlsx",)),
    Case("0-byte workbook", _zero_bytes, "error", "0 bytes", ("空文件.xlsx",)),
    Case("unknown CSV encoding", _unknown_encoding, "error", "编码无法识别", ("乱码.csv",)),
    Case("NUL bytes", _nul_bytes, "error", "NUL", ("空字符.csv",)),
    Case("bad CSV syntax", _bad_csv_syntax, "error", "CSV 格式错误", ("引号.csv",)),
    Case("empty folder", lambda raw: None, "error", "为空", ()),
    Case("empty sheet", _empty_sheet, "skipped", "sheet_skipped"),
    Case("header-only sheet", _header_only, "ok", ""),
    Case(
        "recognised sheet missing a required column",
        _missing_required,
        "error",
        "kind",
        ("支付台账.xlsx", "支付", "第 1 行", "kind"),
    ),
    Case("text in number columns", _text_in_numbers, "rejected", "compensation_yuan"),
    Case("negative amount", _negative, "rejected", "不能为负数"),
    Case("end date before start", _end_before_start, "rejected", "end_date < start_date"),
    Case("duplicate keys", _duplicate_keys, "rejected", "duplicate key"),
    Case("unknown projects and sites", _unknown_references, "warning", "unmatched_name"),
    Case("CSV in GB18030", _csv_gb18030, "ok", ""),
    Case("absurd values", _absurd, "warning", "implausible"),
    Case("formulas (cached values)", _formulas, "ok", ""),
    Case("hidden sheet", _hidden, "warning", "hidden_sheet"),
    Case("merged cells in odd places", _odd_merges, "rejected", "signed_date"),
]


def _snapshot(raw: Path) -> dict[str, str]:
    return {
        p.relative_to(raw).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(raw.rglob("*"))
        if p.is_file()
    }


def _conserved(result) -> None:
    for s in result.manifest["sheets"]:
        if s["status"] == "used":
            assert s["raw_data_rows"] == s["kept"] + s["rejected"], s


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_has_its_documented_outcome(case, tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    case.build(raw)
    before = _snapshot(raw)
    code = main(["clean", str(raw), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert _snapshot(raw) == before  # the raw folder is read-only input
    assert "Traceback" not in err
    if case.outcome == "error":
        assert code == 2
        assert case.detail in err
        for fragment in case.where:
            assert fragment in err, (fragment, err)
        with pytest.raises(InputError):
            clean_ledgers(raw)
        return
    assert code == 0, err
    result = clean_ledgers(raw)
    _conserved(result)
    q = result.quality_log
    if case.outcome == "rejected":
        assert result.rejected["reason"].str.contains(case.detail, regex=False).any()
    elif case.outcome in ("warning", "skipped"):
        assert case.detail in set(q["action"])
    if case.name == "formulas (cached values)":
        assert result.tables["agreements"]["compensation_yuan"].tolist() == [100.0]
    if case.name == "hidden sheet":
        assert result.tables["agreements"]["agreement_id"].tolist() == ["A-1"]
    if case.name == "CSV in GB18030":
        assert result.tables["funding"]["funding_source"].tolist() == ["专项债券㐀"]


def test_bad_input_document_lists_every_case():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "bad_inputs.md").read_text(
        encoding="utf-8"
    )
    for case in CASES:
        assert f"| {case.name} |" in doc, case.name


# --- every fatal case beside the demo ledgers that depend on it -----------------------------------

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
#: The demo's files per table (the first is the one made bad).
DEMO_FILES = {
    "projects": ["征收项目任务完成情况表_2019-2022.xlsx"],
    "agreements": ["征收补偿协议台账_2016-2020.xlsx", "征收补偿协议台账_2021-2022.xlsx"],
    "payments": [
        f"征收款项支付台账_{y}.csv" for y in ("2016-2018", "2019", "2020", "2021", "2022")
    ],
    "funding": ["征拆资金到位情况表_2016-2022.xlsx"],
    "sites": ["安置区建设情况表.xlsx"],
    "transition": ["过渡安置台账.xlsx"],
}
#: The tables each table's rows are linked to (names → ids) and the tables linked to it.
LINKED = {
    "projects": ("agreements", "payments", "funding"),
    "agreements": ("projects", "sites"),
    "payments": ("projects",),
    "funding": ("projects",),
    "sites": ("agreements", "transition"),
    "transition": ("sites",),
}
#: The required column each table's bad sheet lacks.
DROPPED = {
    "projects": "project_name",
    "agreements": "signed_date",
    "payments": "kind",
    "funding": "amount_yuan",
    "sites": "start_date",
    "transition": "start_date",
}


def _without_column(src: Path, dst: Path, table: str) -> None:
    """``src`` rewritten without the column of ``DROPPED[table]`` in every sheet feeding ``table``."""
    from zhengshou_analysis.ledger.classify import classify_sheet
    from zhengshou_analysis.ledger.ingest import read_raw_file
    from zhengshou_analysis.ledger.layout import find_layout

    sheets = {}
    for sh in read_raw_file(src, src.parent).sheets:
        rows = [list(r) for r in sh.rows]
        merges = [(*m, rows[m[0]][m[1]]) for m in sh.merged]
        layout = find_layout(sh.rows, sh.merged)
        t, mapped, _, _ = classify_sheet(sh, layout) if layout else (None, {}, [], "")
        if t is not None and t.name == table:
            col = mapped[DROPPED[table]].col
            rows = [r[:col] + r[col + 1 :] for r in rows]
            merges = [
                (r0, c0 - (c0 > col), r1, c1 - (c1 >= col), v)
                for r0, c0, r1, c1, v in merges
                if not c0 == c1 == col
            ]
        sheets[sh.sheet] = {"rows": rows, "merges": merges, "hidden": sh.hidden}
    if dst.suffix == ".csv":
        (rows,) = (spec["rows"] for spec in sheets.values())
        write_csv(dst, rows)
    else:
        write_xlsx(dst, sheets)


def _bad_file(case: str, table: str, raw: Path) -> tuple[str, str]:
    """Put the bad file of ``case`` in place of the table's first demo file: (file, message)."""
    src = DEMO / DEMO_FILES[table][0]
    (raw / src.name).unlink()
    xlsx, csv_name = src.stem + ".xlsx", src.stem + ".csv"
    if case == "corrupt workbook":
        (raw / xlsx).write_bytes(b"PK\x03\x04" + b"\x00" * 50)
        return xlsx, "无法读取"
    if case == "truncated workbook":
        data = (DEMO / DEMO_FILES["sites"][0]).read_bytes()
        (raw / xlsx).write_bytes(data[: len(data) // 2])
        return xlsx, "无法读取"
    if case == "0-byte workbook":
        (raw / xlsx).write_bytes(b"")
        return xlsx, "0 bytes"
    if case == "unknown CSV encoding":
        (raw / csv_name).write_bytes("协议编号,签约日期\n".encode() + b"A-9,\xff\xfe\x80\n")
        return csv_name, "编码无法识别"
    if case == "NUL bytes":
        (raw / csv_name).write_bytes("协议编号,签约日期\nA-9\x00,2021-01-01\n".encode())
        return csv_name, "NUL"
    if case == "bad CSV syntax":
        (raw / csv_name).write_bytes(('协议编号,签约日期\nA-9,"' + "x" * 200_000 + "\n").encode())
        return csv_name, "CSV 格式错误"
    assert case == "missing required column"
    _without_column(src, raw / src.name, table)
    return src.name, DROPPED[table]


FATAL = [
    "corrupt workbook",
    "truncated workbook",
    "0-byte workbook",
    "unknown CSV encoding",
    "NUL bytes",
    "bad CSV syntax",
    "missing required column",
]


@pytest.mark.parametrize("table", list(DEMO_FILES))
@pytest.mark.parametrize("case", FATAL)
def test_fatal_file_beside_the_ledgers_that_depend_on_it(case, table, tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in (table, *LINKED[table]):
        for f in DEMO_FILES[name]:
            (raw / f).write_bytes((DEMO / f).read_bytes())
    bad, detail = _bad_file(case, table, raw)
    out = tmp_path / "out"
    code = main(["clean", str(raw), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    first = err.strip().splitlines()
    assert len(first) == 1 and bad in first[0] and detail in first[0], err
    if case == "missing required column":
        assert "工作表" in first[0]  # the sheet is named too
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "quality_log.csv",
        "rejected.csv",
    ]  # no table of a failed run
    with pytest.raises(CleanError) as info:
        clean_ledgers(raw)
    assert info.value.file == bad
    if case == "missing required column":
        assert DROPPED[table] in info.value.column
    result = info.value.result
    _conserved(result)
    q = result.quality_log
    errors = q[q["severity"] == "error"]
    assert errors["origin"].str.startswith(bad).all() and len(errors)
    # names are not reported missing from a ledger that could not be read in full
    if table in ("projects", "sites"):
        ref = "project_id" if table == "projects" else "site_id"
        assert not ((q["action"] == "unmatched_name") & (q["column"] == ref)).any()


def test_assembly_copes_with_missing_dependencies(tmp_path):
    """Agreements and transition without the sites and projects they name: linked to derived ids."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for f in DEMO_FILES["transition"] + DEMO_FILES["agreements"][1:]:
        (raw / f).write_bytes((DEMO / f).read_bytes())
    result = clean_ledgers(raw)
    _conserved(result)
    assert result.tables["sites"].empty and result.tables["projects"].empty
    t = result.tables["transition"]
    assert len(t) and t["site_id"].str.startswith("S-").all()
    assert (result.quality_log["action"] == "unmatched_name").any()


# --- fuzzing: random cells and layouts ------------------------------------------------------------

WORDS = [
    "协议编号",
    "签约日期",
    "补偿总额",
    "项目名称",
    "年度",
    "支付日期",
    "款项类型",
    "支付金额",
    "合计",
    "小计",
    "其中：",
    "填表人：",
    "单位：万元",
    "X",
    "—",
    "2021年1月5日",
    "约12",
    "1,234.5万元",
    "",
]
cells = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=6),
    st.integers(-(10**6), 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(cells, min_size=0, max_size=6), min_size=0, max_size=12))
def test_any_layout_gives_our_error_or_conserved_rows(tmp_path_factory, rows):
    raw = tmp_path_factory.mktemp("fuzz")
    text_rows = [["" if v is None else str(v) for v in r] for r in rows]
    write_csv(raw / "台账.csv", text_rows)
    try:
        result = clean_ledgers(raw)
    except CleanError as exc:  # our own error, with the reason in the log
        failed = exc.result
    else:
        failed = None
    if failed is not None:
        assert failed.quality_log["severity"].eq("error").any()
        return
    _conserved(result)
    total = sum(
        s.get("raw_data_rows", 0) for s in result.manifest["sheets"] if s["status"] == "used"
    )
    assert total == sum(len(t) for t in result.tables.values()) + len(result.rejected)
