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
