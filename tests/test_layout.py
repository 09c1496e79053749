"""Header finding, header words and row classification."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from zhengshou_analysis.ledger.layout import (
    _NOTE,
    _QIZHONG,
    _SUBTOTAL,
    _TOTAL,
    canonical_header,
    classify_rows,
    find_layout,
    is_pii_header,
)
from zhengshou_analysis.schemas import TABLES


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("土地征收任务（亩）", "征地任务"),
        ("征地 目标任务", "征地任务"),
        ("累计完成征地(公顷)", "已完成征地"),
        ("房屋征收任务（万平方米）", "房屋任务"),
        ("征收房屋任务", "房屋任务"),
        ("补偿总额（万元）", "补偿总额"),
        ("协 议 编 号", "协议编号"),
    ],
)
def test_canonical_header_folds_words_units_and_spaces(header, key):
    assert canonical_header(header) == key


def test_no_canonical_header_is_taken_for_personal_data():
    for t in TABLES.values():
        for c in t.columns:
            for h in c.headers:
                assert not is_pii_header(h), (t.name, h)
    for h in ("被征收人", "户主姓名", "身份证号码", "联系电话", "手机号", "收款人"):
        assert is_pii_header(h)


def test_two_row_header_in_either_order_with_merged_top():
    rows = [
        ["XX区2021年征收任务表"],
        ["单位：万元"],
        ["项目名称", "征地（亩）", "", "已完成", ""],
        ["", "任务", "已完成", "房屋（平方米）", "征地（公顷）"],
        ["甲", 1, 2, 3, 4],
    ]
    merged = [(2, 1, 2, 2), (2, 3, 2, 4), (2, 0, 3, 0)]
    lay = find_layout(rows, merged)
    assert (lay.header_row, lay.header_rows) == (2, 2)
    keys = {h.col: h.keys[0] for h in lay.headers}
    assert keys[1] == "征地任务"
    assert "已完成征地" in find_layout(rows, merged).headers[2].keys
    assert "已完成房屋" in lay.headers[3].keys
    assert lay.headers[4].unit == "公顷"
    assert lay.title_unit == "万元"
    assert lay.title_year == 2021


def test_one_row_header_found_below_titles_and_preferred_on_ties():
    rows = [["标题"], [], ["协议编号", "签约日期", "补偿总额"], ["A", "2021-01-01", 1]]
    lay = find_layout(rows)
    assert (lay.header_row, lay.header_rows) == (2, 1)
    assert lay.title_unit is None


def test_no_header_means_none():
    assert find_layout([["说明"], ["这是一张说明表"]]) is None
    assert find_layout([]) is None


def test_classify_rows():
    block = pd.DataFrame(
        [
            [1, "甲", 10],
            ["", "小计", 10],
            ["", "其中：市下达", 5],
            ["合 计", "", 10],
            ["", "", ""],
            ["贵城片区小计", "", 3],
            ["填表人：某", "", ""],
            ["1. 续注", "", ""],
            [2, "乙", 1],
        ],
        dtype=object,
    )
    kinds = classify_rows(block).tolist()
    assert kinds == [
        "data",
        "subtotal",
        "qizhong",
        "total",
        "blank",
        "subtotal",
        "note",
        "note",
        "data",
    ]


def test_labels_and_notes_are_found_beside_cells_with_line_breaks_and_numbers():
    # the search first reads a column's cells as one text, a line per cell: a cell with a line
    # break, or a label word split over two cells, must neither hide a label nor make one
    block = pd.DataFrame(
        [
            [1, "甲\n乙", 10],
            [2, "合", 10],
            [3, "计", 10],
            ["", "安置\n小计", 20],
            [4, "丙", 1.5],
            ["注：\n金额为万元", "", ""],
        ],
        dtype=object,
    )
    kinds = classify_rows(block, label_cols=[0, 1]).tolist()
    assert kinds == ["data", "data", "data", "subtotal", "data", "note"]


def test_labels_are_looked_for_in_the_descriptive_columns_only():
    block = pd.DataFrame(
        [
            [1, "片区", "GG-1", "甲项目", 10, "其中2户未签约"],
            ["", "", "", "小计", 10, ""],
        ],
        dtype=object,
    )
    assert classify_rows(block, label_cols=[0, 1, 2, 3]).tolist() == ["data", "subtotal"]
    assert classify_rows(block, label_cols=[0, 1, 2]).tolist() == ["data", "data"]


#: The kinds in their precedence: a blank row is blank whatever else, a note row a note…
_PRECEDENCE = ("blank", "note", "total", "subtotal", "qizhong", "data")


def _re2_search(pattern: str, text: str) -> bool:
    """Whether RE2 (pyarrow, as pandas' ``str.contains`` would) finds ``pattern`` in ``text``."""
    return bool(pc.match_substring_regex(pa.array([text], pa.string()), pattern)[0].as_py())


def _reference_kinds(
    rows: list[list[object]], label_cols: list[int] | None, no_missing: bool
) -> list[str]:
    """classify_rows written cell by cell: each text cell searched by itself with RE2."""
    sp = "[ \t\u3000]*"
    label_hint = f"合{sp}计|总{sp}计|小{sp}计|其{sp}中"
    note_hint = f"^{sp}(?:填|审|制|负|联|备|说|注|附)"

    def filled(v: object) -> bool:
        return not (isinstance(v, str) and v == "") and (no_missing or not pd.isna(v))

    def label(v: object, hint: str) -> str | None:  # the normalised text of a hinted text cell
        if not isinstance(v, str) or not _re2_search(hint, v):
            return None
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", v))

    width = len(rows[0])
    cols = range(min(4, width)) if label_cols is None else [j for j in label_cols if j < width]
    kinds = []
    after_note = False
    for row in rows:
        count = sum(filled(v) for v in row)
        texts = [t for t in (label(row[j], label_hint) for j in cols) if t is not None]
        total = any(_TOTAL.match(t) for t in texts)
        sub = not total and any(_SUBTOTAL.match(t) for t in texts)
        qz = any(_QIZHONG.match(t) for t in texts)
        first = next((v for v in row if filled(v)), None)
        note_text = label(first, note_hint)
        note = note_text is not None and _NOTE.match(note_text) is not None
        after_note = after_note or note
        note = note or (after_note and 0 < count <= 2)
        flags = [count == 0, note, total, sub, qz, True]
        kinds.append(next(k for k, f in zip(_PRECEDENCE, flags, strict=True) if f))
    return kinds


_PIECES = [
    "合计", "小计", "其中", "总计", "总 计", "总\u3000计", "合\u3000 计", "小\t计", "合", "计",
    "全区", "贵城片区", "（港城）", "(二)", "：", ":", "其中2户", "其中：市下达",
    "注：", "注1：", "填表人：", "审核人:", "备注、", "说明.", "附注：", " 注：", "\u3000注：",
    "\n", "\n注：", "\n合计", "\r\n", "\x0b", "\u2028", "\x1f", "\x1f注：",
    "甲", "乙项目", "1", "2.5", "ＡＢ", "１２", " ", "\u3000", "\t",
]  # fmt: skip
_TEXT = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4).map("".join)
_CELL = st.one_of(
    _TEXT,
    _TEXT,
    st.just(""),
    st.none(),
    st.just(float("nan")),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2023, 12, 31)),
)


@st.composite
def _blocks(draw: st.DrawFn) -> tuple[list[list[object]], list[int] | None, bool]:
    width = draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(_CELL, min_size=width, max_size=width), min_size=1, max_size=8))
    no_missing = draw(st.booleans())
    if no_missing:  # as the readers give a sheet: "" for every empty cell
        rows = [
            ["" if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in r]
            for r in rows
        ]
    label_cols = draw(st.none() | st.lists(st.integers(0, width + 1), max_size=width + 1))
    return rows, label_cols, no_missing


@settings(max_examples=300, deadline=None)
@given(_blocks())
@example(([["甲\n注：说明", 1], ["合计\n", ""], ["", ""]], [0], True))  # ^ after a line break
@example(([["注\x1f注：", ""], ["甲", "小\x1f计"], [1.0, "其中：乙"]], [0, 1], True))
def test_classify_rows_is_the_per_cell_search(case):
    # the cells of a column are searched at once; every row must be classified as if each of its
    # text cells were searched by itself (RE2, a ^ at the cell's start, no match across cells)
    rows, label_cols, no_missing = case
    block = pd.DataFrame(rows, dtype=object, index=range(7, 7 + len(rows)))
    kinds = classify_rows(block, label_cols=label_cols, no_missing=no_missing)
    assert kinds.tolist() == _reference_kinds(rows, label_cols, no_missing)
    assert kinds.index.equals(block.index)
    assert kinds.dtype == "str"


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("合计", "total"),
        ("合 计", "total"),
        ("总计", "total"),
        ("全区合计", "total"),
        ("贵城片区合计", "subtotal"),
        ("贵城片区小计", "subtotal"),
        ("小计（港城）", "subtotal"),
        ("其中：市下达", "qizhong"),
        ("其中市下达", "qizhong"),
        ("其中2户未签约", "data"),
    ],
)
def test_total_labels(label, kind):
    block = pd.DataFrame([[label, 1]], dtype=object)
    assert classify_rows(block, label_cols=[0]).tolist() == [kind]


def test_header_index_adds_profile_words_and_is_cached_per_fingerprint():
    from zhengshou_analysis.ledger.layout import header_index, zone_values
    from zhengshou_analysis.profile import DEFAULT_PROFILE, parse_profile

    builtin = header_index()
    assert header_index(DEFAULT_PROFILE) is builtin  # no words, no zones: the built-in index
    assert "安置点" not in builtin["sites"]
    text = '[headers.sites]\nsite_name = ["安置点"]\nzone = ["所在街道"]\n[zones]\n"城东片区" = ["城东"]\n'
    profile = parse_profile(text)
    index = header_index(profile)
    assert index is header_index(parse_profile(text))  # same content: the same cached index
    col, prio = index["sites"]["安置点"]
    assert col.name == "site_name" and prio == len(TABLES["sites"].column("site_name").headers)
    assert index["sites"]["所在街道"][0].name == "zone"
    # the profile's 片区 ride on every zone column; the built-in index is untouched
    assert index["projects"]["片区"][0].values["城东"] == "城东片区"
    assert "城东" not in builtin["projects"]["片区"][0].values
    assert zone_values(profile)["城东片区"] == "城东片区"
    # the built-in index is what the schemas declare, nothing more
    for t in TABLES.values():
        declared = {canonical_header(h) for c in t.columns for h in c.headers}
        assert set(builtin[t.name]) == declared


def test_profile_words_count_when_finding_the_header():
    from zhengshou_analysis.profile import parse_profile

    rows = [
        ["安置点", "所在街道", "总套数"],
        ["城东花园", "城东", 300],
    ]
    assert find_layout(rows) is None  # one known header only
    profile = parse_profile('[headers.sites]\nsite_name = ["安置点"]\nzone = ["所在街道"]\n')
    layout = find_layout(rows, profile=profile)
    assert layout is not None and layout.header_row == 0


def test_ignored_headers_are_known_and_unread():
    from zhengshou_analysis.ledger.layout import is_ignored_header
    from zhengshou_analysis.schemas import IGNORED_HEADERS

    assert all(is_ignored_header(h) for h in IGNORED_HEADERS)
    assert is_ignored_header("序 号") and is_ignored_header("完成率（%）")
    assert not is_ignored_header("所在街道")
