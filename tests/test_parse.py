"""Tests of :mod:`zhengshou_analysis.ledger.parse`: the ledger forms of docs/data_contract.md §1; properties."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.ledger.parse import (
    ACTIONS,
    PLACEHOLDERS,
    Parsed,
    normalize_text,
    parse_dates,
    parse_numbers,
    parse_text,
)
from zhengshou_analysis.schemas import MU_M2

NAN = float("nan")
FINDING_COLUMNS = ["row", "raw_value", "action", "severity", "message"]
DELIVERY_MISSING = ("未交付", "在建", "未完成")


def _naive(*args: int) -> dt.datetime:
    """A naive datetime, as spreadsheet readers return them."""
    return dt.datetime(*args)


def _one(parser, cell, **kwargs) -> tuple[object, list[str]]:
    """Parse a single cell: its value and its finding actions."""
    result = parser(pd.Series([cell], dtype=object), **kwargs)
    return result.values.iloc[0], result.findings["action"].tolist()


def _same(value, expected) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return pd.isna(value)
    return value == pytest.approx(expected, rel=1e-12, abs=1e-9)


# --------------------------------------------------------------------------------------------
# parse_numbers: the table of forms
# --------------------------------------------------------------------------------------------

YUAN = {"unit": "yuan", "decimals": 2}
WAN = {"unit": "yuan", "scale": 1e4, "decimals": 2}

NUMBER_CASES = [
    # plain, separators, full-width, signs, exponents
    ("1234.5", YUAN, 1234.5, []),
    ("1,234.5", YUAN, 1234.5, []),
    ("1，234．5", YUAN, 1234.5, []),
    ("１２３．５", {}, 123.5, []),
    ("１，２３４", {}, 1234.0, []),
    (" 1 234 567 ", {}, 1234567.0, []),
    ("300 50", {}, NAN, ["unparseable"]),
    ("-5", {}, -5.0, []),
    ("+5", {}, 5.0, []),
    ("－５", {}, -5.0, []),
    ("1.2e3", {}, 1200.0, []),
    (".5", {}, 0.5, []),
    # zero is a value, never a placeholder
    ("0", YUAN, 0.0, []),
    (0, YUAN, 0.0, []),
    (0.0, WAN, 0.0, []),
    ("0.00", YUAN, 0.0, []),
    ("-0", YUAN, 0.0, []),
    # money units in the cell override the header scale
    ("1,234.5万元", YUAN, 12_345_000.0, []),
    ("1,234.5万元", WAN, 12_345_000.0, []),
    ("1,234.5", WAN, 12_345_000.0, []),
    ("1234.5（万元）", YUAN, 12_345_000.0, []),
    ("300元", WAN, 300.0, []),
    ("300 元", WAN, 300.0, []),
    ("3.2亿", YUAN, 320_000_000.0, []),
    ("3.2亿元", WAN, 320_000_000.0, []),
    ("5千元", YUAN, 5000.0, []),
    ("¥300", YUAN, 300.0, []),
    ("￥1,000", WAN, 1000.0, []),
    # areas
    ("120亩", {"unit": "m2"}, 120 * MU_M2, []),
    ("120亩", {"unit": "mu"}, 120.0, []),
    ("80000平方米", {"unit": "mu"}, 120.0, []),
    ("2000㎡", {"unit": "m2"}, 2000.0, []),
    ("2000m²", {"unit": "m2"}, 2000.0, []),
    ("2000M2", {"unit": "m2"}, 2000.0, []),
    ("2000平米", {"unit": "m2"}, 2000.0, []),
    ("3.5万平方米", {"unit": "m2"}, 35000.0, []),
    ("3.5万㎡", {"unit": "m2"}, 35000.0, []),
    ("2公顷", {"unit": "mu"}, 30.0, []),
    ("1公顷", {"unit": "m2"}, 10000.0, []),
    ("3.5", {"unit": "m2", "scale": 1e4}, 35000.0, []),
    # counts and rates
    ("12个月", {"unit": "month"}, 12.0, []),
    ("36月", {"unit": "month"}, 36.0, []),
    ("4人", {"unit": "person"}, 4.0, []),
    ("120套", {"unit": "unit"}, 120.0, []),
    ("15元/平方米/月", {"unit": "yuan_per_month"}, 15.0, []),
    ("800元/户/月", {"unit": "yuan_per_month"}, 800.0, []),
    # unit mismatch
    ("120亩", YUAN, NAN, ["unit_mismatch"]),
    ("1,234.5万元", {"unit": "m2"}, NAN, ["unit_mismatch"]),
    ("3.2亿", {}, NAN, ["unit_mismatch"]),
    ("5人", {"unit": "month"}, NAN, ["unit_mismatch"]),
    ("300元", {"unit": "yuan_per_month"}, 300.0, []),
    # percent: only in a plain-number column
    ("85%", {}, 0.85, []),
    ("８５％", {}, 0.85, []),
    ("85 %", {"scale": 1e4}, 0.85, []),
    ("85%", YUAN, NAN, ["unit_mismatch"]),
    # approximate and remarks
    ("约300", YUAN, 300.0, ["approx"]),
    ("约 300万元", YUAN, 3_000_000.0, ["approx"]),
    ("大约300", YUAN, 300.0, ["approx"]),
    ("300左右", YUAN, 300.0, ["approx"]),
    ("300（含工作经费）", YUAN, 300.0, ["remark"]),
    ("300(含工作经费)", WAN, 3_000_000.0, ["remark"]),
    ("300 含税", YUAN, 300.0, ["remark"]),
    ("300含税", YUAN, 300.0, ["remark"]),
    ("300万元（其中工作经费20万元）", YUAN, 3_000_000.0, ["remark"]),
    ("300万元整", YUAN, 3_000_000.0, ["remark"]),
    ("约300万元（含税）", YUAN, 3_000_000.0, ["approx", "remark"]),
    # placeholders and empties
    *[(p, YUAN, NAN, ["placeholder"]) for p in sorted(PLACEHOLDERS)],
    ("Ｘ", YUAN, NAN, ["placeholder"]),
    (" — ", YUAN, NAN, ["placeholder"]),
    ("－", YUAN, NAN, ["placeholder"]),
    ("／", YUAN, NAN, ["placeholder"]),
    ("", YUAN, NAN, []),
    ("   ", YUAN, NAN, []),
    ("\u3000", YUAN, NAN, []),
    (None, YUAN, NAN, []),
    (NAN, YUAN, NAN, []),
    (pd.NaT, YUAN, NAN, []),
    # python numbers
    (12, WAN, 120_000.0, []),
    (3.5, WAN, 35_000.0, []),
    (np.int64(7), YUAN, 7.0, []),
    (np.float64(7.25), YUAN, 7.25, []),
    (Decimal("2.5"), YUAN, 2.5, []),
    (10**400, YUAN, NAN, ["unparseable"]),
    (float("inf"), YUAN, NAN, ["unparseable"]),
    # unreadable
    ("abc", YUAN, NAN, ["unparseable"]),
    ("5平方公里", {"unit": "m2"}, NAN, ["unparseable"]),
    ("1.2.3", YUAN, NAN, ["unparseable"]),
    ("2021-01-30", YUAN, NAN, ["unparseable"]),
    ("300-400", YUAN, NAN, ["unparseable"]),
    ("XX万元", YUAN, NAN, ["unparseable"]),
    (True, YUAN, NAN, ["unparseable"]),
    (False, YUAN, NAN, ["unparseable"]),
    (np.True_, YUAN, NAN, ["unparseable"]),
    (dt.date(2021, 1, 30), YUAN, NAN, ["unparseable"]),
    (_naive(2021, 1, 30, 8), YUAN, NAN, ["unparseable"]),
    ([1, 2], YUAN, NAN, ["unparseable"]),
]


@pytest.mark.parametrize(("raw", "kwargs", "expected", "actions"), NUMBER_CASES)
def test_parse_numbers_forms(raw, kwargs, expected, actions):
    value, found = _one(parse_numbers, raw, **kwargs)
    assert _same(value, expected), (raw, value, expected)
    assert found == actions


def test_parse_numbers_rounds_money_without_float_artefacts():
    raw = pd.Series(["3.2亿", "1,234.56万元", "0.1", 0.1 + 0.2], dtype=object)
    values = parse_numbers(raw, unit="yuan", decimals=2).values
    assert values.tolist() == [320_000_000.0, 12_345_600.0, 0.1, 0.3]
    assert not np.signbit(parse_numbers(pd.Series(["-0.001"]), decimals=2).values.iloc[0])


def test_parse_numbers_findings_name_what_was_done():
    raw = pd.Series(["300（含工作经费）", "120亩", "abc", "X", "约5"], index=list("abcde"))
    findings = parse_numbers(raw, unit="yuan").findings
    assert list(findings.columns) == FINDING_COLUMNS
    assert findings["row"].tolist() == list("abcde")
    assert findings["raw_value"].tolist() == raw.tolist()
    assert findings["action"].tolist() == [
        "remark",
        "unit_mismatch",
        "unparseable",
        "placeholder",
        "approx",
    ]
    assert findings["severity"].tolist() == ["info", "warning", "warning", "info", "info"]
    msgs = findings["message"].tolist()
    assert "(含工作经费)" in msgs[0]
    assert "亩" in msgs[1]
    assert "abc" in msgs[2]


#: Thousands separators: ``,`` (also ``，``) or one space, each followed by exactly three digits.
GROUPING_CASES = [
    ("1,234", 1234.0),
    ("1,234,567.5", 1_234_567.5),
    ("1 234 567", 1_234_567.0),
    ("-1,234.5", -1234.5),
    ("1,234 含税", 1234.0),  # a remark after a well-formed number
    ("１，２３４，５６７", 1_234_567.0),
    # well-formed groupings, however they were meant: one number, never two joined silently
    ("300,500", 300_500.0),
    ("300，500", 300_500.0),
    ("300 500", 300_500.0),
    # malformed: NA with a warning quoting the cell
    ("1,2", NAN),
    ("0,5", NAN),
    ("0,500", NAN),
    ("12,3456", NAN),
    ("1,23,456", NAN),
    ("1234,567", NAN),
    ("300 50", NAN),
    ("300 5000", NAN),
    ("1,234 567", NAN),
    ("1 234,567", NAN),
    ("300, 500", NAN),
    ("1, 234", NAN),
    ("1.5,000", NAN),
    ("1.234 567", NAN),
    ("1,2万元", NAN),
    ("约1,2", NAN),
]


@pytest.mark.parametrize(("raw", "expected"), GROUPING_CASES)
def test_parse_numbers_thousands_groups_of_three(raw, expected):
    result = parse_numbers(pd.Series([raw], dtype=object), unit="yuan", decimals=2)
    value = result.values.iloc[0]
    findings = result.findings
    if math.isnan(expected):
        assert math.isnan(value), (raw, value)
        assert findings["action"].tolist() == ["unparseable"], raw
        assert findings["severity"].tolist() == ["warning"]
        assert "「" + raw + "」" in findings["message"].iloc[0]
        assert "三位数字" in findings["message"].iloc[0]
    else:
        assert value == expected, raw
        assert "unparseable" not in findings["action"].tolist(), raw


@settings(deadline=None, max_examples=200)
@given(
    st.lists(st.integers(0, 10**5), min_size=1, max_size=4),
    st.sampled_from([",", " ", "，", ", "]),
    st.sampled_from(["", ".5", "万元"]),
)
def test_digit_groups_join_only_in_threes(groups, sep, tail):
    """Digit groups joined by a separator: one number exactly when it is a thousands grouping."""
    parts = [str(g) for g in groups]
    cell = sep.join(parts) + tail
    well_formed = len(parts) == 1 or (
        sep in {",", " ", "，"}
        and 1 <= len(parts[0]) <= 3
        and not parts[0].startswith("0")
        and all(len(p) == 3 for p in parts[1:])
    )
    result = parse_numbers(pd.Series([cell], dtype=object), unit="yuan", decimals=2)
    value = result.values.iloc[0]
    if well_formed:
        factor = 1e4 if tail == "万元" else 1.0
        expected = float("".join(parts) + (".5" if tail == ".5" else "")) * factor
        assert value == pytest.approx(expected, rel=1e-12), cell
        assert result.findings.empty, cell
    else:
        assert math.isnan(value), cell
        assert result.findings["action"].tolist() == ["unparseable"], cell
        assert cell.strip() in result.findings["message"].iloc[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"unit": "yuan_10k"},
        {"unit": "元"},
        {"scale": 0},
        {"scale": -1e4},
        {"scale": float("nan")},
        {"scale": "1e4"},
        {"decimals": -1},
        {"decimals": 1.5},
    ],
)
def test_parse_numbers_rejects_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        parse_numbers(pd.Series(["1"]), **kwargs)


@pytest.mark.parametrize("parser", [parse_numbers, parse_dates, parse_text, normalize_text])
def test_parsers_require_a_series(parser):
    with pytest.raises(ParameterError):
        parser(["1", "2"])


# --------------------------------------------------------------------------------------------
# parse_dates: the table of forms
# --------------------------------------------------------------------------------------------

D = pd.Timestamp("2021-01-30")
JAN = pd.Timestamp("2021-01-01")

DATE_CASES = [
    # real dates
    (dt.date(2021, 1, 30), D, []),
    (_naive(2021, 1, 30, 15, 45, 10), D, []),
    (pd.Timestamp("2021-01-30 23:59"), D, []),
    (pd.Timestamp("2021-01-30 10:00", tz="Asia/Shanghai"), D, []),
    (np.datetime64("2021-01-30T12:00"), D, []),
    # text
    ("2021年1月30日", D, []),
    ("2021年01月30日", D, []),
    ("2021年1月30号", D, []),
    ("2021 年 1 月 30 日", D, []),
    ("２０２１年１月３０日", D, []),
    ("2021.1.30", D, []),
    ("2021/01/30", D, []),
    ("2021/1/30", D, []),
    ("2021-1-30", D, []),
    ("2021-01-30", D, []),
    ("2021-01-30 00:00:00", D, []),
    ("2021-01-30 13:45", D, []),
    ("2021-01-30T13:45:00", D, []),
    (" 20210130 ", D, []),
    ("44226", D, ["excel_serial"]),
    ("44226.5", D, ["excel_serial"]),
    # month precision
    ("2021年1月", JAN, ["month_precision"]),
    ("2021年10月", pd.Timestamp("2021-10-01"), ["month_precision"]),
    ("2021.01", JAN, ["month_precision"]),
    ("2021.1", JAN, ["month_precision"]),
    ("2021.10", pd.Timestamp("2021-10-01"), ["month_precision"]),
    ("2021-01", JAN, ["month_precision"]),
    ("2021/1", JAN, ["month_precision"]),
    # numbers
    (44226, D, ["excel_serial"]),
    (44226.0, D, ["excel_serial"]),
    (44226.75, D, ["excel_serial"]),
    (np.int64(44226), D, ["excel_serial"]),
    (20210130, D, []),
    (20210130.0, D, []),
    (2021.12, pd.Timestamp("2021-12-01"), ["month_precision"]),
    (2021.05, pd.Timestamp("2021-05-01"), ["month_precision"]),
    (2021.2, pd.Timestamp("2021-02-01"), ["month_precision"]),
    (2021.9, pd.Timestamp("2021-09-01"), ["month_precision"]),
    (2021.1, JAN, ["ambiguous_date"]),
    (2021.10, JAN, ["ambiguous_date"]),
    # missing
    ("X", None, ["placeholder"]),
    ("—", None, ["placeholder"]),
    ("待定", None, ["placeholder"]),
    ("未交付", None, ["placeholder"]),
    ("在建", None, ["placeholder"]),
    ("", None, []),
    ("  ", None, []),
    (None, None, []),
    (NAN, None, []),
    (pd.NaT, None, []),
    # impossible or unreadable
    ("2021-02-30", None, ["unparseable"]),
    ("2021年13月1日", None, ["unparseable"]),
    ("2021.13", None, ["unparseable"]),
    ("20210230", None, ["unparseable"]),
    (20210230, None, ["unparseable"]),
    (20211301, None, ["unparseable"]),
    (2021.13, None, ["unparseable"]),
    (2021.0, None, ["unparseable"]),
    (2021, None, ["unparseable"]),
    (12345, None, ["unparseable"]),
    ("12345", None, ["unparseable"]),
    (95000, None, ["unparseable"]),
    (-1.5, None, ["unparseable"]),
    (float("inf"), None, ["unparseable"]),
    ("0021-01-30", None, ["unparseable"]),
    ("2021年", None, ["unparseable"]),
    ("21.1.30", None, ["unparseable"]),
    ("2021.1.30（预计）", None, ["unparseable"]),
    ("abc", None, ["unparseable"]),
    (True, None, ["unparseable"]),
    ([2021], None, ["unparseable"]),
]


@pytest.mark.parametrize(("raw", "expected", "actions"), DATE_CASES)
def test_parse_dates_forms(raw, expected, actions):
    value, found = _one(parse_dates, raw, missing=DELIVERY_MISSING)
    if expected is None:
        assert pd.isna(value), (raw, value)
    else:
        assert value == expected, (raw, value)
    assert found == actions


def test_parse_dates_result_dtype_and_index():
    raw = pd.Series(["2021.1.30", None, 44226], index=[10, 5, 10], dtype=object)
    values = parse_dates(raw).values
    assert values.dtype == "datetime64[s]"
    assert values.index.equals(raw.index)
    assert (values.dropna() == values.dropna().dt.normalize()).all()


def test_parse_dates_warns_that_2021_1_may_be_october():
    findings = parse_dates(pd.Series([2021.1], dtype=object)).findings
    assert findings["severity"].tolist() == ["warning"]
    assert "10 月" in findings["message"].iloc[0]


def test_parse_dates_missing_words_are_column_specific():
    raw = pd.Series(["在建"], dtype=object)
    assert _one(parse_dates, "在建")[1] == ["unparseable"]
    assert parse_dates(raw, missing="在建").findings["action"].tolist() == ["placeholder"]


# --------------------------------------------------------------------------------------------
# parse_text and normalize_text
# --------------------------------------------------------------------------------------------

TEXT_CASES = [
    ("  贵城片区 ", "贵城片区", []),
    ("贵城　 片区", "贵城 片区", []),
    ("贵城\n\t片区", "贵城 片区", []),
    ("ＡＢＣ－１２３", "ABC-123", []),
    ("堤路园（二）A安置区", "堤路园(二)A安置区", []),
    ("0", "0", []),
    (12345, "12345", []),
    (12345.0, "12345", []),
    (1.5, "1.5", []),
    (_naive(2021, 1, 30), "2021-01-30", []),
    (dt.date(2021, 1, 30), "2021-01-30", []),
    ("X", None, ["placeholder"]),
    (" 暂无 ", None, ["placeholder"]),
    ("未知", None, ["placeholder"]),
    ("", None, []),
    ("  ", None, []),
    (None, None, []),
    (NAN, None, []),
]


@pytest.mark.parametrize(("raw", "expected", "actions"), TEXT_CASES)
def test_parse_text_forms(raw, expected, actions):
    result = parse_text(pd.Series([raw], dtype=object), missing=["未知"])
    assert result.values.dtype == "str"
    value = result.values.iloc[0]
    if expected is None:
        assert pd.isna(value)
    else:
        assert value == expected
    assert result.findings["action"].tolist() == actions


def test_normalize_text_touches_only_strings():
    raw = pd.Series(["　１２３．５ ", " a  b ", 7, None, NAN, dt.date(2021, 1, 1)], dtype=object)
    out = normalize_text(raw)
    assert out.dtype == object
    assert out.index.equals(raw.index)
    assert out.iloc[:3].tolist() == ["123.5", "a  b", 7]
    assert out.iloc[3] is None
    assert math.isnan(out.iloc[4])
    assert out.iloc[5] == dt.date(2021, 1, 1)


# --------------------------------------------------------------------------------------------
# Shared behaviour: index, dtypes, CSV input, empty input, no mutation
# --------------------------------------------------------------------------------------------

MESSY = [
    "1,234.5万元",
    "X",
    None,
    "",
    "约300",
    3.5,
    True,
    dt.date(2021, 1, 30),
    "2021.1",
    2021.1,
    44226,
    "未交付",
    NAN,
    "  ",
    "abc",
]


@pytest.mark.parametrize(
    "parse",
    [
        lambda s: parse_numbers(s, unit="yuan", scale=1e4, decimals=2),
        lambda s: parse_dates(s, missing=DELIVERY_MISSING),
        lambda s: parse_text(s, missing=DELIVERY_MISSING),
    ],
    ids=["numbers", "dates", "text"],
)
def test_parsers_keep_index_and_never_mutate_input(parse):
    raw = pd.Series(MESSY, index=[f"r{i}" for i in range(len(MESSY))], dtype=object, name="col")
    before = raw.copy(deep=True)
    result = parse(raw)
    assert isinstance(result, Parsed)
    pd.testing.assert_series_equal(raw, before)
    assert result.values.index is raw.index
    assert result.values.name == "col"
    assert list(result.findings.columns) == FINDING_COLUMNS
    assert set(result.findings["row"]) <= set(raw.index)
    assert (result.findings["severity"] == result.findings["action"].map(ACTIONS)).all()


def test_csv_columns_arrive_as_str_dtype():
    raw = pd.Series(["1,234.5", "X", None, "2021.1.30"], dtype="str")
    assert parse_numbers(raw).values.iloc[0] == 1234.5
    assert parse_dates(raw).values.iloc[3] == D
    assert parse_text(raw).values.iloc[0] == "1,234.5"


@pytest.mark.parametrize("parser", [parse_numbers, parse_dates, parse_text])
def test_parsers_accept_empty_series(parser):
    result = parser(pd.Series([], dtype=object))
    assert len(result.values) == 0
    assert list(result.findings.columns) == FINDING_COLUMNS
    assert len(result.findings) == 0


def test_parse_numbers_repeated_texts_get_one_finding_per_cell():
    raw = pd.Series(["1,234.5万元", "X", "约3"] * 1000 + [5.0], dtype=object)
    result = parse_numbers(raw, unit="yuan", decimals=2)
    expected = pd.Series([12_345_000.0, NAN, 3.0] * 1000 + [5.0])
    pd.testing.assert_series_equal(result.values, expected)
    assert (result.findings["action"] == "placeholder").sum() == 1000
    assert (result.findings["action"] == "approx").sum() == 1000


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_FULL_WIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


def _plain(d: Decimal) -> str:
    return format(d, "f")


#: (name, formatter from a Decimal value in yuan to text, parse kwargs, expected actions)
MONEY_FORMATS = [
    ("plain", _plain, {}, []),
    ("thousands", lambda d: format(d, ",f"), {}, []),
    ("full-width", lambda d: format(d, ",f").translate(_FULL_WIDTH), {}, []),
    ("wan", lambda d: _plain(d / 10**4) + "万元", {}, []),
    ("wan-in-wan-column", lambda d: _plain(d / 10**4), {"scale": 1e4}, []),
    ("yi", lambda d: _plain(d / 10**8) + "亿", {"scale": 1e4}, []),
    ("yuan-in-wan-column", lambda d: format(d, ",f") + "元", {"scale": 1e4}, []),
    ("approx", lambda d: "约" + format(d, ",f"), {}, ["approx"]),
    ("remark", lambda d: _plain(d / 10**4) + "万元（含工作经费）", {}, ["remark"]),
    ("spaced remark", lambda d: format(d, ",f") + " 含税", {}, ["remark"]),
    ("space-grouped", lambda d: format(d, ",f").replace(",", " "), {}, []),
]


@settings(deadline=None, max_examples=60)
@given(st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=5))
def test_money_in_every_format_parses_back(cents):
    values = [Decimal(c) / 100 for c in cents]
    for name, fmt, kwargs, actions in MONEY_FORMATS:
        raw = pd.Series([fmt(v) for v in values], dtype=object)
        result = parse_numbers(raw, unit="yuan", decimals=2, **kwargs)
        got = result.values.to_numpy()
        assert np.allclose(got, [float(v) for v in values], rtol=0, atol=0.0051), (name, raw)
        assert result.findings["action"].tolist() == actions * len(values), name


AREA_FORMATS = [
    ("m2", lambda d: _plain(d) + "平方米", "m2", 1.0),
    ("sqm-sign", lambda d: _plain(d) + "㎡", "m2", 1.0),
    ("wan-m2", lambda d: _plain(d) + "万平方米", "m2", 1e4),
    ("mu-in-m2", lambda d: _plain(d) + "亩", "m2", MU_M2),
    ("mu", lambda d: _plain(d) + "亩", "mu", 1.0),
    ("hectare", lambda d: _plain(d) + "公顷", "mu", 15.0),
    ("m2-in-mu", lambda d: _plain(d) + "m2", "mu", 1 / MU_M2),
]


@settings(deadline=None, max_examples=40)
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=5))
def test_areas_with_unit_suffix_convert(hundredths):
    values = [Decimal(h) / 100 for h in hundredths]
    for name, fmt, unit, factor in AREA_FORMATS:
        raw = pd.Series([fmt(v) for v in values], dtype=object)
        result = parse_numbers(raw, unit=unit, scale=123.0)  # the cell unit wins over the scale
        expected = [float(v) * factor for v in values]
        assert np.allclose(result.values.to_numpy(), expected, rtol=1e-12, atol=1e-9), name
        assert result.findings.empty, name


_EPOCH = dt.date(1899, 12, 30)

#: (name, formatter from a date to a cell, expected: the day or the 1st of its month, actions)
DATE_FORMATS = [
    ("cn", lambda d: f"{d.year}年{d.month}月{d.day}日", "day", []),
    ("cn-hao", lambda d: f"{d.year}年{d.month:02d}月{d.day}号", "day", []),
    ("dots", lambda d: f"{d.year}.{d.month}.{d.day}", "day", []),
    ("slashes", lambda d: f"{d:%Y/%m/%d}", "day", []),
    ("dashes", lambda d: f"{d.year}-{d.month}-{d.day}", "day", []),
    ("iso-time", lambda d: f"{d:%Y-%m-%d} 00:00:00", "day", []),
    ("full-width", lambda d: f"{d.year}年{d.month}月{d.day}日".translate(_FULL_WIDTH), "day", []),
    ("yyyymmdd-str", lambda d: f"{d:%Y%m%d}", "day", []),
    ("yyyymmdd-int", lambda d: int(f"{d:%Y%m%d}"), "day", []),
    ("yyyymmdd-float", lambda d: float(f"{d:%Y%m%d}"), "day", []),
    ("serial-int", lambda d: (d - _EPOCH).days, "day", ["excel_serial"]),
    ("serial-float", lambda d: (d - _EPOCH).days + 0.375, "day", ["excel_serial"]),
    ("serial-str", lambda d: str((d - _EPOCH).days), "day", ["excel_serial"]),
    ("date", lambda d: d, "day", []),
    ("datetime", lambda d: _naive(d.year, d.month, d.day, 17, 30), "day", []),
    ("timestamp", lambda d: pd.Timestamp(d), "day", []),
    ("cn-month", lambda d: f"{d.year}年{d.month}月", "month", ["month_precision"]),
    ("dot-month", lambda d: f"{d.year}.{d.month:02d}", "month", ["month_precision"]),
    ("dash-month", lambda d: f"{d.year}-{d.month:02d}", "month", ["month_precision"]),
    ("slash-month", lambda d: f"{d.year}/{d.month}", "month", ["month_precision"]),
]


@settings(deadline=None, max_examples=60)
@given(st.lists(st.dates(dt.date(1955, 1, 1), dt.date(2100, 12, 31)), min_size=1, max_size=5))
def test_dates_in_every_format_parse_back(dates):
    for name, fmt, precision, actions in DATE_FORMATS:
        raw = pd.Series([fmt(d) for d in dates], dtype=object)
        result = parse_dates(raw)
        expected = [pd.Timestamp(d if precision == "day" else d.replace(day=1)) for d in dates]
        assert result.values.tolist() == expected, (name, raw.tolist())
        assert result.findings["action"].tolist() == actions * len(dates), name


@settings(deadline=None, max_examples=60)
@given(st.integers(1901, 2199), st.integers(1, 12), st.booleans())
def test_year_month_floats_from_excel(year, month, padded):
    typed = f"{year}.{month:02d}" if padded else f"{year}.{month}"
    cell = float(typed)  # what Excel keeps of a typed 2021.1 / 2021.01 / 2021.10 / 2021.12
    value, actions = _one(parse_dates, cell)
    if repr(cell).endswith(".1"):  # typed 2021.1 or 2021.10: January or October
        assert value == pd.Timestamp(year, 1, 1)
        assert actions == ["ambiguous_date"]
    else:
        assert value == pd.Timestamp(year, month, 1)
        assert actions == ["month_precision"]


def _normalised(cell: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", cell).split())


def _is_empty(cell: object) -> bool:
    if isinstance(cell, str):
        return _normalised(cell) == ""
    return cell is None or (isinstance(cell, float) and math.isnan(cell))


def _is_placeholder(cell: object, words: frozenset[str] = frozenset()) -> bool:
    return isinstance(cell, str) and _normalised(cell) in PLACEHOLDERS | words


ANY_CELL = st.one_of(
    st.text(),
    st.text(
        alphabet="0123456789,.，．%约万元亿亩平方米公顷㎡ -+eE年月日号/（）()Xx—无", max_size=12
    ),
    st.sampled_from([*sorted(PLACEHOLDERS), "", " ", "0", "在建", "２０２１．１"]),
    st.floats(),
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(),
    st.decimals(allow_nan=False),
)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(ANY_CELL, max_size=20),
    st.sampled_from(["yuan", "m2", "mu", "month", None]),
    st.sampled_from([1.0, 1e4]),
)
def test_parsers_never_raise_and_lose_nothing_silently(cells, unit, scale):
    raw = pd.Series(cells, dtype=object, index=[f"k{len(cells) - i}" for i in range(len(cells))])
    before = raw.copy(deep=True)
    words = frozenset(DELIVERY_MISSING)
    results = {
        "numbers": parse_numbers(raw, unit=unit, scale=scale, decimals=2),
        "dates": parse_dates(raw, missing=DELIVERY_MISSING),
        "text": parse_text(raw),
    }
    pd.testing.assert_series_equal(raw, before)
    for name, result in results.items():
        assert result.values.index is raw.index, name
        assert list(result.findings.columns) == FINDING_COLUMNS
        assert set(result.findings["row"]) <= set(raw.index)
        warned = set(
            result.findings.loc[
                result.findings["action"].isin(["unparseable", "unit_mismatch"]), "row"
            ]
        )
        placeholders = set(result.findings.loc[result.findings["action"] == "placeholder", "row"])
        for key, cell in raw.items():
            missing = pd.isna(result.values[key])
            extra = words if name == "dates" else frozenset()
            if _is_empty(cell) or _is_placeholder(cell, extra):
                assert missing, (name, cell)
                assert (key in placeholders) == _is_placeholder(cell, extra), (name, cell)
            elif missing:
                assert key in warned, (name, cell)
            else:
                assert key not in warned, (name, cell)
    assert results["text"].values.dtype == "str"
    assert results["dates"].values.dtype == "datetime64[s]"
    assert results["numbers"].values.dtype == "float64"


@settings(deadline=None, max_examples=100)
@given(st.lists(st.one_of(st.floats(), st.integers(-(10**30), 10**30), st.text()), max_size=10))
def test_parse_numbers_numeric_cells_times_scale(cells):
    raw = pd.Series(cells, dtype=object)
    values = parse_numbers(raw, scale=1e4).values
    for cell, value in zip(cells, values, strict=True):
        if isinstance(cell, int | float) and math.isfinite(cell * 1e4):
            assert value == cell * 1e4 or (value == 0 and cell == 0)


def test_nfkc_fallback_without_exact_arrow_normalisation(monkeypatch):
    import zhengshou_analysis.ledger.parse as parse_module

    monkeypatch.setattr(parse_module, "_ARROW_NFKC", False)
    raw = pd.Series(["１，２３４．５万元", "ｘ", "e\u0301", "（备注）"], dtype=object)
    assert parse_numbers(raw.iloc[:2], unit="yuan").values.iloc[0] == 12_345_000.0
    text = parse_text(raw).values
    assert text.iloc[0] == "1,234.5万元"
    assert pd.isna(text.iloc[1])
    assert text.iloc[2:].tolist() == ["\u00e9", "(备注)"]


def test_findings_rows_follow_a_duplicated_index():
    raw = pd.Series(["X", "1", "abc"], index=[7, 7, 3], dtype=object)
    findings = parse_numbers(raw).findings
    assert findings["row"].tolist() == [7, 3]
    assert findings["action"].tolist() == ["placeholder", "unparseable"]
