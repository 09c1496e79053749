"""Header finding, header words and row classification."""

from __future__ import annotations

import pandas as pd
import pytest

from zhengshou_analysis.ledger.layout import (
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
