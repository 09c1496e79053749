"""Reading the raw folder: encodings, workbooks, errors that name the file."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ledger_builder import write_csv, write_xlsx

from zhengshou_analysis.exceptions import InputError
from zhengshou_analysis.ledger import ingest
from zhengshou_analysis.ledger.ingest import (
    decode_csv,
    list_raw_files,
    prefetch_raw_files,
    read_raw_file,
)

ROWS = [["项目名称", "金额（万元）"], ["南湖路征收", "１,２３４.５"], ["堤路园（二）A安置区", "—"]]


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_csv_encodings_are_detected(tmp_path, encoding, detected):
    p = write_csv(tmp_path / "资金.csv", ROWS, encoding=encoding)
    rf = read_raw_file(p, tmp_path)
    assert rf.encoding == detected
    assert rf.sheets[0].rows == ROWS
    assert rf.sheets[0].sheet == "资金"
    assert len(rf.sha256) == 64 and rf.size_bytes == p.stat().st_size


LEDGER_WORDS = [
    "项目名称",
    "协议编号",
    "补偿总额",
    "万元",
    "蓝田安置区",
    "堤路园(二)A安置区",
    "贵城片区",
    "过渡安置费",
    "合计",
    "其中：",
    "（含工作经费）",
    "约",
    "㎡",
    "m2",
    "—",
    "１２３．５",
    "，",
]


@given(
    st.lists(
        st.sampled_from(LEDGER_WORDS) | st.from_regex(r"[0-9.,/-]{1,8}", fullmatch=True),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
)
def test_ledger_text_round_trips_in_every_encoding(words, encoding):
    text = ",".join(words)
    decoded, _ = decode_csv(text.encode(encoding))
    assert decoded == text


def test_short_gbk_that_is_also_valid_utf8_is_read_as_gbk():
    assert decode_csv("膜".encode("gbk")) == ("膜", "gb18030")
    assert decode_csv("中文".encode()) == ("中文", "utf-8")


def test_workbook_sheets_merges_and_hidden(tmp_path):
    p = write_xlsx(
        tmp_path / "a.xlsx",
        {
            "表1": {
                "rows": [["标题"], ["项目名称", "年度"], ["甲", 2021]],
                "merges": [(0, 0, 0, 1, "标题")],
            },
            "隐藏": {"rows": [["x"]], "hidden": True},
        },
    )
    rf = read_raw_file(p, tmp_path)
    assert [s.sheet for s in rf.sheets] == ["表1", "隐藏"]
    assert rf.sheets[0].rows[2] == ["甲", 2021.0]
    assert rf.sheets[0].merged == [(0, 0, 0, 1)]
    assert [s.hidden for s in rf.sheets] == [False, True]


def _workbook(path, rows):
    return write_xlsx(path, {"表1": {"rows": rows, "merges": [(3, 0, 4, 0, "贵城片区")]}})


def test_a_read_ahead_workbook_is_the_same_as_one_read_now(tmp_path):
    rows = [
        ["标题"],
        ["片区", "项目名称", "年度"],
        ["", "甲", 2021],
        ["", "乙", 2022],
        ["", "丙", ""],
    ]
    p = _workbook(tmp_path / "a.xlsx", rows)
    write_csv(tmp_path / "b.csv", ROWS)
    now = read_raw_file(p, tmp_path)
    prefetch_raw_files(tmp_path)
    ahead = read_raw_file(p, tmp_path)
    assert ahead == now
    assert not ingest._AHEAD  # taken: the read-ahead is over, nothing is held
    assert read_raw_file(tmp_path / "b.csv", tmp_path).sheets[0].rows == ROWS  # never read ahead


def test_a_workbook_saved_after_the_read_ahead_is_read_again(tmp_path):
    p = _workbook(tmp_path / "a.xlsx", [["项目名称"], ["甲"]])
    prefetch_raw_files(tmp_path)
    ingest._AHEAD[0].thread.join()  # read ahead: then a clerk saves the workbook
    _workbook(p, [["项目名称"], ["乙"]])
    rf = read_raw_file(p, tmp_path)
    assert rf.sheets[0].rows[1] == ["乙"]
    assert rf == read_raw_file(p, tmp_path)  # its bytes, its digest, its cells


def test_read_ahead_of_a_bad_folder_or_file_is_left_to_the_read(tmp_path):
    prefetch_raw_files(tmp_path / "nope")  # no folder: nothing started, no error here
    assert not ingest._AHEAD
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"PK\x03\x04garbage")
    prefetch_raw_files(tmp_path)
    with pytest.raises(InputError, match=r"坏\.xlsx"):
        read_raw_file(bad, tmp_path)
    assert not ingest._AHEAD


def test_corrupt_workbook_names_the_file(tmp_path):
    p = tmp_path / "坏.xlsx"
    p.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(InputError, match=r"坏\.xlsx"):
        read_raw_file(p, tmp_path)


def test_list_raw_files(tmp_path):
    with pytest.raises(InputError, match="为空"):
        list_raw_files(tmp_path)
    with pytest.raises(InputError, match="不存在"):
        list_raw_files(tmp_path / "nope")
    (tmp_path / "~$lock.xlsx").write_bytes(b"")
    (tmp_path / "readme.txt").write_text("x")
    sub = tmp_path / "2021"
    sub.mkdir()
    write_csv(sub / "b.csv", ROWS)
    assert [p.name for p in list_raw_files(tmp_path)] == ["b.csv"]


def test_csv_rows_keep_their_physical_line_numbers(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text('协议编号,备注\nA-1,"第一行\n第二行"\nA-2,x\n', encoding="utf-8")
    rows = read_raw_file(p, tmp_path).sheets[0].rows
    assert rows[0] == ["协议编号", "备注"]
    assert rows[1] == ["A-1", "第一行\n第二行"]
    assert rows[2] == []  # the continuation line
    assert rows[3] == ["A-2", "x"]  # line 4, as a text editor shows it
