"""Workbooks of plain tables streamed as XML (xlsxstream): what Excel readers see."""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
import zipfile
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
import python_calamine
from hypothesis import given, settings
from hypothesis import strategies as st

from zhengshou_analysis import xlsxstream
from zhengshou_analysis.xlsxstream import (
    EXCEL_MAX_CHARS,
    TableSheet,
    cjk_width,
    column_width,
    escape_text,
    excel_serials,
    write_table_workbook,
)

CREATED = dt.datetime(2022, 12, 31, 8, 30, tzinfo=dt.UTC)
LONG = "长" * 40_000  # past Excel's 32,767 characters
LONG_EMOJI = "a" + "😀" * 20_000  # 40,001 UTF-16 units: cut between two emoji, never inside one
TEXTS = [
    '=HYPERLINK("http://x.example","点")',
    "+86 138",
    "-5",
    "@SUM(A1)",
    "&<>\"'",
    "贵城片区 第1期",
    "😀 emoji",
    "a\x01b\x1fc",
    "_x0041_ literal",
    "tab\tand\nnewline\r",
    "  spaces  ",
    None,
    "",
    LONG,
    LONG_EMOJI,
]
NUMBERS = [
    0,
    120,
    0.1 + 0.2,
    1e-7,
    1e16,
    -3.5,
    123456.78,
    np.nan,
    None,
    2**40,
    -0.25,
    1 / 3,
    7,
    8,
    9,
]
DATES = [
    "2021-01-31",
    "1900-03-01",
    "2022-02-28 12:00",
    None,
    "1999-12-31",
    "2100-01-01",
    *["2021-06-15"] * 9,
]


def _frame() -> pd.DataFrame:
    n = len(TEXTS)
    return pd.DataFrame(
        {
            "text": pd.Series(TEXTS, dtype="str"),
            "number": pd.Series(NUMBERS, dtype="float64"),
            "count": pd.Series([*range(n - 2), None, 5], dtype="Int64"),
            "date": pd.to_datetime(pd.Series(DATES), format="ISO8601").astype("datetime64[s]"),
            "kind": pd.Series(["per_m2", "per_household", None, *["other"] * (n - 3)], dtype="str"),
        }
    )


def _sheet(frame: pd.DataFrame | None = None, name: str = "表一") -> TableSheet:
    frame = _frame() if frame is None else frame
    return TableSheet(
        name=name,
        frame=frame,
        headers=["文本", "金额（元）", "户数（户）", "签约日期", "计费方式"],
        kinds=["text", "number", "number", "date", "text"],
        labels={"kind": {"per_m2": "按面积", "per_household": "按户"}},
    )


def _book(sheets: list[TableSheet], **kw) -> bytes:
    buf = io.BytesIO()
    write_table_workbook(buf, sheets, title="清洗后台账", author="区征收办", created=CREATED, **kw)
    return buf.getvalue()


def _excel_cut(text: str) -> str:
    """``text`` as Excel keeps it: at most 32,767 UTF-16 units, a surrogate pair never split."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > EXCEL_MAX_CHARS:
            return text[:i]
    return text


def _unescape(text: str) -> str:
    """ST_Xstring's ``_xHHHH_`` decoded, as Excel and calamine read it (openpyxl does not)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def _expected_text(value: object, labels: dict[str, str] | None = None) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = (labels or {}).get(str(value), str(value))
    return _excel_cut(text)


def _calamine(blob: bytes, name: str) -> list[list]:
    return (
        python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(blob))
        .get_sheet_by_name(name)
        .to_python()
    )


def test_cells_read_back_by_calamine_equal_the_frame():
    frame = _frame()
    rows = _calamine(_book([_sheet(frame)]), "表一")
    assert rows[0] == ["文本", "金额（元）", "户数（户）", "签约日期", "计费方式"]
    labels = {"per_m2": "按面积", "per_household": "按户"}
    for i, row in enumerate(rows[1:]):
        text, number, count, date, kind = (row + [""] * 5)[:5]
        assert text == (_expected_text(frame["text"][i]) or "")
        expected = frame["number"][i]
        if pd.isna(expected):
            assert number == ""
        else:  # written as xlsxwriter writes a number: 16 significant digits
            assert number == float(f"{expected:.16g}")
        assert count == ("" if pd.isna(frame["count"][i]) else float(frame["count"][i]))
        d = frame["date"][i]
        assert date == ("" if pd.isna(d) else d.to_pydatetime() if d.hour else d.date())
        assert kind == (_expected_text(frame["kind"][i], labels) or "")
    assert len(rows) == len(frame) + 1
    assert rows[1 + TEXTS.index(LONG)][0] == "长" * EXCEL_MAX_CHARS
    assert rows[1 + TEXTS.index(LONG_EMOJI)][0] == "a" + "😀" * 16_383  # 32,767 units


def test_cells_read_back_by_openpyxl_equal_the_frame():
    frame = _frame()
    ws = openpyxl.load_workbook(io.BytesIO(_book([_sheet(frame)])))["表一"]
    got = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(got) == len(frame)
    for i, (text, number, count, date, kind) in enumerate(got):
        assert (None if text is None else _unescape(text)) == _expected_text(frame["text"][i])
        expected = frame["number"][i]
        assert number == (None if pd.isna(expected) else float(f"{expected:.16g}"))
        assert count == (None if pd.isna(frame["count"][i]) else int(frame["count"][i]))
        d = frame["date"][i]
        assert date == (None if pd.isna(d) else d.to_pydatetime())
        assert kind == _expected_text(
            frame["kind"][i], {"per_m2": "按面积", "per_household": "按户"}
        )
    formula = ws.cell(2, 1)
    assert (
        formula.value.startswith("=HYPERLINK") and formula.data_type == "s"
    )  # text, not a formula
    assert ws.cell(2, 4).number_format == "yyyy-mm-dd"
    assert ws.cell(2, 2).number_format == "General"


def test_layout_widths_frozen_header_and_properties():
    frame = pd.DataFrame(
        {
            "a": pd.Series(["x", "很长的中文文本内容"], dtype="str"),  # 9 CJK: 18 wide
            "b": pd.Series([1234567.5, 1.0]),  # 1.23457e+06 as {:g}: 11 wide
            "c": pd.to_datetime(pd.Series(["2021-01-01", None])),  # dates: 10
            "d": pd.Series(["y" * 100, None], dtype="str"),  # capped at 60
        }
    )
    sheet = TableSheet(
        "表", frame, ["短", "金额（元）", "日期", "备注"], ["text", "number", "date", "text"]
    )
    book = openpyxl.load_workbook(io.BytesIO(_book([sheet, _sheet(name="表二")])))
    ws = book["表"]
    widths = [ws.column_dimensions[c].width for c in "ABCD"]
    assert widths == [column_width(w + 2) for w in (18, 11, 10, 60)]
    assert column_width(10) == 10.7109375  # as Excel stores it
    assert ws.freeze_panes == "A2" and book["表二"].freeze_panes == "A2"
    assert [c.value for c in ws[1]] == ["短", "金额（元）", "日期", "备注"]
    assert all(c.font.b for c in ws[1]) and not ws["A2"].font.b
    assert book.sheetnames == ["表", "表二"]
    assert book.properties.title == "清洗后台账"
    assert book.properties.creator == "区征收办"
    assert book.properties.created == dt.datetime(2022, 12, 31, 8, 30)


def test_an_empty_table_is_its_header_row():
    frame = _frame().iloc[:0]
    blob = _book([_sheet(frame)])
    assert _calamine(blob, "表一") == [["文本", "金额（元）", "户数（户）", "签约日期", "计费方式"]]
    ws = openpyxl.load_workbook(io.BytesIO(blob))["表一"]
    assert ws.max_row == 1 and ws.freeze_panes == "A2"


def test_same_tables_same_bytes_and_fixed_zip_times():
    a, b = _book([_sheet()]), _book([_sheet()])
    assert a == b
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        assert zf.namelist()[0] == "[Content_Types].xml"
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert zf.testzip() is None


def test_rows_past_the_limit_are_left_out_and_logged(caplog):
    frame = _frame().iloc[:6]
    with caplog.at_level(logging.WARNING, logger="zhengshou_analysis.xlsxstream"):
        rows = _calamine(_book([_sheet(frame)], max_rows=4), "表一")
    assert len(rows) == 4 and rows[3][0] == "-5"  # the header and the first three rows
    assert "3 rows" in caplog.text


def test_chunks_of_a_few_rows_write_the_same_cells(monkeypatch):
    frame = pd.concat([_frame()] * 3, ignore_index=True)
    whole = _book([_sheet(frame)])
    monkeypatch.setattr(xlsxstream, "_CHUNK_BYTES", 300)
    assert xlsxstream._chunks(xlsxstream._prepared(_sheet(frame), len(frame)), len(frame))[2:]
    assert _calamine(_book([_sheet(frame)]), "表一") == _calamine(whole, "表一")


def test_date_serials_are_those_of_xlsxwriter():
    from xlsxwriter.utility import _datetime_to_excel_datetime

    stamps = pd.Series(
        pd.to_datetime(
            [
                "1900-01-01",
                "1900-02-28",
                "1900-03-01",
                "1999-12-31 06:00",
                "2021-06-15",
                "2262-01-01",
            ],
            format="ISO8601",
        )
    )
    expected = [_datetime_to_excel_datetime(t.to_pydatetime(), False, False) for t in stamps]
    assert excel_serials(stamps).tolist() == expected
    assert np.isnan(excel_serials(pd.Series([pd.NaT], dtype="datetime64[s]"))).all()


def test_escape_text_writes_excels_escapes():
    texts = ["a\x00b", "_x0041_", "_x0041_x0042_", "&<>", "\ufffe", "\t\n", None]
    got = escape_text(pa.array(texts)).to_pylist()
    assert got == [
        "a_x0000_b",
        "_x005F_x0041_",
        "_x005F_x0041_x005F_x0042_",  # both (xlsxwriter escapes the first only)
        "&amp;&lt;&gt;",
        "_xFFFE_",
        "\t\n",
        None,
    ]


def test_bad_sheets_are_refused():
    with pytest.raises(ValueError, match="Excel"):
        _sheet(name="a/b")
    with pytest.raises(ValueError, match="headers"):
        TableSheet("s", pd.DataFrame({"a": [1]}), ["a", "b"], ["number"])
    with pytest.raises(ValueError, match="differ"):
        _book([_sheet(name="表"), _sheet(name="表")])


def test_cjk_width_counts_full_width_characters_twice():
    assert cjk_width("ab") == 2 and cjk_width("补偿") == 4 and cjk_width("１２") == 4


# XML 1.0 cannot hold a lone surrogate; every other character must come back as it was
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_escaped_text_is_valid_xml_that_decodes_to_the_text(text):
    escaped = escape_text(pa.array([text])).to_pylist()[0]
    parsed = ElementTree.fromstring(f"<t>{escaped}</t>".encode()).text or ""
    assert _unescape(parsed) == text


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        _TEXT.filter(lambda s: "\ufffe" not in s and "\uffff" not in s), min_size=1, max_size=20
    )
)
def test_any_text_reads_back_from_the_workbook(texts):
    sheet = TableSheet("s", pd.DataFrame({"t": pd.Series(texts, dtype="str")}), ["t"], ["text"])
    rows = _calamine(_book([sheet]), "s")[1:]
    assert [r[0] for r in rows] == texts[: len(rows)]
    assert all(t == "" for t in texts[len(rows) :])  # calamine drops trailing empty rows


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | _TEXT, min_size=1, max_size=8))
def test_column_width_is_the_widest_cjk_width(texts):
    arr = pa.array(texts, pa.large_string())
    expected = max((cjk_width(t) for t in texts if t is not None), default=0)
    assert xlsxstream._max_width(arr) == expected
    assert xlsxstream._max_width(arr.slice(1)) == max(
        (cjk_width(t) for t in texts[1:] if t is not None), default=0
    )


def test_an_infinite_number_is_left_empty_and_logged(caplog):
    frame = pd.DataFrame({"n": [1.5, math.inf, -math.inf, 2.0]})
    sheet = TableSheet("s", frame, ["数"], ["number"])
    with caplog.at_level(logging.WARNING, logger="zhengshou_analysis.xlsxstream"):
        rows = _calamine(_book([sheet]), "s")
    assert [r[0] for r in rows] == ["数", 1.5, "", "", 2.0]
    assert "2 infinite" in caplog.text
