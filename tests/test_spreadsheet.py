"""The period's workbook (报表_<office>_<period>.xlsx) and the cleaned tables as a workbook, read back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from zhengshou_analysis.figures import FIGURES, Analysis
from zhengshou_analysis.ledger.outputs import (
    CLEAN_WORKBOOK,
    WorkbookAhead,
    clean_workbook_bytes,
    write_clean_outputs,
    xlsx_workbook,
)
from zhengshou_analysis.report.catalog import NOTEBOOKS
from zhengshou_analysis.report.session import Report, headline_figures
from zhengshou_analysis.report.spreadsheet import (
    report_workbook_bytes,
    report_workbook_name,
    write_frame_sheet,
    write_report_workbook,
)
from zhengshou_analysis.report.tables import PAGE_TABLES
from zhengshou_analysis.report.views import DEMO_LABEL
from zhengshou_analysis.schemas import TABLES
from zhengshou_analysis.settings import resolve_as_of

#: The tables of a year's six pages: the sheets of the year's workbook.
YEAR_TABLES = [t for t in PAGE_TABLES.values() if t.page in NOTEBOOKS]
HEADER_ROW = 4  # 1-based: title, meta, demo label, header
#: Base unit → the factor to the unit the workbook shows.
SCALE = {"yuan": 1e-4, "m2": 1e-4}


@pytest.fixture(scope="module")
def rep(demo_ledgers) -> Report:
    return Report(2021, resolve_as_of(None, year=2021), demo_ledgers, None, True)


@pytest.fixture(scope="module")
def data(rep) -> bytes:
    return report_workbook_bytes(rep)


@pytest.fixture(scope="module")
def wb(data) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _rows(ws) -> list[list]:
    """The data rows under the header (until the first empty row)."""
    out = []
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if all(v is None for v in row):
            break
        out.append(list(row))
    return out


def test_a_sheet_per_page_table_and_the_extra_sheets(wb):
    names = wb.sheetnames
    assert names[0] == "目录"
    assert names[1 : 1 + len(YEAR_TABLES)] == [t.sheet for t in YEAR_TABLES]
    assert names[-2:] == ["质量日志", "口径说明"]
    assert "主要指标" in names and "剔除行" in names
    for t in YEAR_TABLES:
        assert t.caption in wb[t.sheet]["A1"].value


def test_headline_numbers_equal_the_key_figures(rep, wb):
    kf = rep.analysis.key_figures(forecasts=True)
    prev = Analysis(rep.tables, year=2020, policy=rep.policy).key_figures(forecasts=False)
    ws = wb["主要指标"]
    header = [c.value for c in ws[HEADER_ROW]]
    assert header == ["指标", "2021年", "2020年", "变化"]
    rows = _rows(ws)
    figs = headline_figures()
    assert [r[0] for r in rows] == [f.label_with_unit for f in figs]
    for f, (_, now, before, change) in zip(figs, rows, strict=True):
        scale = SCALE.get(f.unit, 1.0)
        assert now == pytest.approx(kf[f.name] * scale, rel=1e-12), f.name
        if prev.get(f.name) is None:
            assert before is None and change is None
        else:
            assert before == pytest.approx(prev[f.name] * scale, rel=1e-12), f.name
            factor = 100.0 if f.unit == "ratio" else scale  # a ratio's change: points
            assert change == pytest.approx((kf[f.name] - prev[f.name]) * factor), f.name
    cells = {r[0]: i for i, r in enumerate(rows, start=HEADER_ROW + 1)}
    money = ws.cell(cells[figs[6].label_with_unit], 2)  # 累计签约补偿金额（万元）
    assert money.number_format == "#,##0.00" and money.alignment.horizontal is None
    rate = ws.cell(cells["征地完成率"], 2)
    assert rate.number_format == "0.0%"
    assert "个百分点" in ws.cell(cells["征地完成率"], 4).number_format


def test_total_rows_are_bold_sums_of_the_column(wb):
    checked = 0
    for t in YEAR_TABLES:
        if not t.total:
            continue
        ws = wb[t.sheet]
        rows = _rows(ws)
        total_cells = list(ws[HEADER_ROW + len(rows)])
        assert "合计" in [c.value for c in total_cells], t.key
        assert all(c.font.b for c in total_cells if c.value is not None), t.key
        assert not any(c.font.b for c in ws[HEADER_ROW + 1] if c.value is not None), t.key
        headers = [c.value for c in ws[HEADER_ROW]]
        for label, kind in t.columns.values():
            if kind not in ("wan_yuan", "mu", "wan_m2", "count") or label not in headers:
                continue
            j = headers.index(label)
            want = sum(r[j] for r in rows[:-1] if isinstance(r[j], (int, float)))
            assert rows[-1][j] == pytest.approx(want), (t.key, label)
            checked += 1
    assert checked > 20


def test_ratio_total_is_recomputed_in_the_sheet(wb):
    ws = wb["完成-片区"]
    headers = [c.value for c in ws[HEADER_ROW]]
    total = _rows(ws)[-1]
    done, target = headers.index("已完成征地（亩）"), headers.index("征地任务（亩）")
    rate = headers.index("征地完成率")
    assert total[rate] == pytest.approx(total[done] / total[target])


def test_number_formats_frozen_panes_and_demo_label_on_every_sheet(wb):
    numeric = 0
    for ws in wb.worksheets:
        assert ws.freeze_panes == f"A{HEADER_ROW + 1}", ws.title
        top = " ".join(str(c.value) for row in ws.iter_rows(max_row=3) for c in row if c.value)
        assert DEMO_LABEL in top, ws.title
        for row in ws.iter_rows(min_row=HEADER_ROW + 1):
            for c in row:
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    numeric += 1
                    fmt = c.number_format
                    assert fmt != "General", (ws.title, c.coordinate)
                    assert "#,##0" in fmt or "%" in fmt or "个百分点" in fmt, (ws.title, fmt)
                elif isinstance(c.value, dt.datetime):
                    assert "yyyy" in c.number_format
    assert numeric > 300


def test_text_stays_text_and_no_identifier_headers(wb):
    for ws in wb.worksheets:
        headers = [c.value for c in ws[HEADER_ROW] if c.value]
        assert not [h for h in headers if "_" in str(h)], ws.title
    log = wb["质量日志"]
    assert [c.value for c in log[HEADER_ROW]][:3] == ["位置（文件#工作表!行）", "文件", "工作表"]
    messages = [r[9] for r in _rows(log)]
    assert not [m for m in messages if m and "difference" in m]


def test_two_writes_are_byte_identical_and_the_file_is_named_for_the_office(rep, data, tmp_path):
    assert report_workbook_bytes(rep) == data
    path = tmp_path / report_workbook_name(rep)
    write_report_workbook(rep, path)
    assert path.name == "报表_区_2021.xlsx" and path.read_bytes() == data
    props = openpyxl.load_workbook(path).properties
    assert props.creator == rep.office
    assert props.created == dt.datetime(2021, 12, 31)
    assert not list(tmp_path.glob(".*.tmp"))


def test_formula_like_text_is_written_as_a_string():
    risky = ['=HYPERLINK("http://x.example","点")', "+8613800000000", "-5", "@SUM(A1)", "=1+1"]
    buf = io.BytesIO()
    wb = xlsx_workbook(buf, title="t", author="区", created=dt.datetime(2021, 1, 1, tzinfo=dt.UTC))

    class Fmt:
        def get(self, *_a, **_k):
            return None

        title = meta = demo = note = None

    write_frame_sheet(
        wb,
        Fmt(),
        "s",
        pd.DataFrame({"t": risky}),
        {"t": ("文本", "text")},
        title="t",
        meta="m",
        demo=False,
    )
    wb.close()
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))["s"]
    cells = [ws.cell(HEADER_ROW + 1 + i, 1) for i in range(len(risky))]
    assert [c.value for c in cells] == risky
    assert all(c.data_type == "s" for c in cells)


# --- the cleaned tables as a workbook --------------------------------------------------------------


def test_clean_writes_the_tables_as_a_workbook(demo_ledgers, tmp_path):
    written = write_clean_outputs(demo_ledgers, tmp_path)
    path = tmp_path / CLEAN_WORKBOOK
    assert path in written
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [t.label for t in TABLES.values()]
    for name, t in TABLES.items():
        ws = wb[t.label]
        headers = [c.value for c in ws[1]]
        assert len(headers) == len(t.column_names)
        assert headers[-1] == "来源（文件#工作表!行）"
        assert ws.max_row == len(demo_ledgers.tables[name]) + 1, name
        assert ws.freeze_panes == "A2"
    assert "补偿总额（元）" in [c.value for c in wb["征收补偿协议台账"][1]]
    assert "套数（套）" in [c.value for c in wb["安置区台账"][1]]
    fee_basis = {c.value for c in wb["过渡安置台账"]["E"][1:]}
    assert fee_basis <= {"按面积", "按户", "按人", None}
    amount = wb["资金支付台账"]["F2"]
    assert isinstance(amount.value, (int, float))
    assert amount.value == demo_ledgers.tables["payments"]["amount_yuan"].iloc[0]
    assert clean_workbook_bytes(demo_ledgers) == path.read_bytes()  # reproducible
    write_clean_outputs(demo_ledgers, tmp_path, tables=False)
    assert not path.exists()  # a failed run leaves no table workbook


def test_a_workbook_started_ahead_is_used_only_for_the_result_of_its_tables(demo_ledgers, tmp_path):
    other = dataclasses.replace(demo_ledgers, tables=dict(demo_ledgers.tables))  # an equal copy
    with WorkbookAhead() as ahead:
        assert not ahead.made_for(demo_ledgers)
        ahead.start(demo_ledgers.tables, demo_ledgers.manifest["run_started"])
        assert ahead.made_for(demo_ledgers) and not ahead.made_for(other)
        with pytest.raises(ValueError, match="not started from this result"):
            ahead.take(other)
        write_clean_outputs(demo_ledgers, tmp_path / "ahead", workbook=ahead)
        write_clean_outputs(other, tmp_path / "here", workbook=ahead)  # written in the call
    expected = clean_workbook_bytes(demo_ledgers)
    assert (tmp_path / "ahead" / CLEAN_WORKBOOK).read_bytes() == expected
    assert (tmp_path / "here" / CLEAN_WORKBOOK).read_bytes() == expected


def test_ledger_text_like_a_formula_stays_text_in_the_cleaned_workbook(demo_ledgers):
    projects = demo_ledgers.tables["projects"].copy()
    projects.loc[projects.index[0], "project_name"] = '=HYPERLINK("http://x.example")'
    projects.loc[projects.index[1], "note"] = "+86 138"
    changed = dataclasses.replace(
        demo_ledgers, tables={**demo_ledgers.tables, "projects": projects}
    )
    ws = openpyxl.load_workbook(io.BytesIO(clean_workbook_bytes(changed)))["征收项目台账"]
    assert ws["B2"].value == '=HYPERLINK("http://x.example")' and ws["B2"].data_type == "s"
    notes = [c.value for c in ws["M"]]
    assert "+86 138" in notes


def _xlsxwriter_clean_workbook(result) -> bytes:
    """The cleaned-tables workbook as xlsxwriter wrote it before xlsxstream (a Python call per
    cell): the oracle the streamed workbook must match, cell for cell."""
    from zhengshou_analysis.ledger.outputs import _header, _value_labels, cjk_width

    buf = io.BytesIO()
    wb = xlsx_workbook(buf, title="清洗后台账", author="zhengshou-analysis", created=CREATED_ORACLE)
    bold = wb.add_format({"bold": True})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, t in TABLES.items():
        df = result.tables[name]
        ws = wb.add_worksheet(t.label)
        columns = [*t.columns, None]
        headers = [_header(c) if c else "来源（文件#工作表!行）" for c in columns]
        widths = [cjk_width(h) for h in headers]
        for j, h in enumerate(headers):
            ws.write_string(0, j, h, bold)
        for j, c in enumerate(columns):
            labels = _value_labels(c) if c is not None else {}
            for i, v in enumerate(df["origin" if c is None else c.name].tolist(), start=1):
                if v is None or v is pd.NaT or (not isinstance(v, str) and pd.isna(v)):
                    continue
                if c is not None and c.dtype == "date":
                    ws.write_datetime(i, j, pd.Timestamp(v).to_pydatetime(), date)
                    widths[j] = max(widths[j], 10)
                elif c is not None and c.dtype in ("float", "int"):
                    ws.write_number(i, j, float(v))
                    widths[j] = max(widths[j], len(f"{float(v):g}"))
                else:
                    text = labels.get(str(v), str(v))
                    ws.write_string(i, j, text)
                    widths[j] = max(widths[j], cjk_width(text))
        for j, w in enumerate(widths):
            ws.set_column(j, j, min(max(w, 6), 60) + 2)
        ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()


CREATED_ORACLE = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


def _widths(ws) -> dict[int, float]:
    out = {}
    for dim in ws.column_dimensions.values():
        for i in range(dim.min, dim.max + 1):
            out[i] = dim.width
    return out


def test_cleaned_workbook_holds_what_xlsxwriter_wrote(demo_ledgers):
    import python_calamine

    ours, oracle = clean_workbook_bytes(demo_ledgers), _xlsxwriter_clean_workbook(demo_ledgers)
    cal = [python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(b)) for b in (ours, oracle)]
    assert cal[0].sheet_names == cal[1].sheet_names == [t.label for t in TABLES.values()]
    books = [openpyxl.load_workbook(io.BytesIO(b)) for b in (ours, oracle)]
    for label in cal[0].sheet_names:
        a, b = (c.get_sheet_by_name(label).to_python() for c in cal)
        assert a == b, label
        x, y = (book[label] for book in books)
        assert list(x.iter_rows(values_only=True)) == list(y.iter_rows(values_only=True)), label
        assert [c.number_format for c in x[2]] == [c.number_format for c in y[2]], label
        assert [c.font.b for c in x[1]] == [c.font.b for c in y[1]], label
        assert _widths(x) == _widths(y), label
        assert x.freeze_panes == y.freeze_panes == "A2"
    assert books[0].properties.title == books[1].properties.title == "清洗后台账"
    assert books[0].properties.creator == books[1].properties.creator == "zhengshou-analysis"


def test_definitions_sheet_lists_every_figure(rep, wb):
    rows = _rows(wb["口径说明"])
    assert [r[0] for r in rows] == [f.label_with_unit for f in FIGURES]
    assert all(r[1] for r in rows)


def test_no_personal_data_of_the_demo_in_the_workbooks(demo_ledgers, data, tmp_path):
    from test_rejected_cells import _demo_personal_values

    secrets = _demo_personal_values()
    assert len(secrets) > 100
    texts = []
    for blob in (data, clean_workbook_bytes(demo_ledgers)):
        book = openpyxl.load_workbook(io.BytesIO(blob))
        for ws in book.worksheets:
            texts += [str(v) for row in ws.iter_rows(values_only=True) for v in row if v]
    joined = "\n".join(texts)
    assert not [s for s in secrets if s in joined]
