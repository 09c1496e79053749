"""Time stamps of a reports folder (report/stamps.py): a text made now, its stamp filled later."""

from __future__ import annotations

import datetime as dt

import pytest

from zhengshou_analysis.report.stamps import (
    PLACEHOLDER,
    beijing_time,
    fill_stamp,
    open_stamp,
    stamp_text,
)


def test_a_stamp_in_utc_and_in_beijing_time():
    moment = "2026-12-01T17:05:09+00:00"
    assert stamp_text(moment, "utc") == moment
    assert stamp_text(moment, "beijing") == "2026年12月2日 01:05（北京时间）"  # UTC+8, next day
    assert stamp_text(moment, "") == ""
    with pytest.raises(ValueError, match="kind"):
        stamp_text(moment, "local")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["utc", "beijing"])
def test_a_text_made_with_the_placeholder_is_filled_with_another_moment(kind):
    later = "2027-01-31T23:59:00+00:00"

    def made_at(moment: str) -> str:
        return f"<footer>目录生成于 {stamp_text(moment, kind)}</footer>\n"

    parts = open_stamp(made_at(PLACEHOLDER), kind)
    assert parts == ["<footer>目录生成于 ", "</footer>\n"]
    assert fill_stamp(parts, kind, later) == made_at(later)


def test_a_text_without_a_stamp_is_written_as_it_is():
    assert open_stamp('{"a": 1}', "") == ['{"a": 1}']
    assert fill_stamp(['{"a": 1}'], "", "2027-01-31T23:59:00+00:00") == '{"a": 1}'


def test_a_stamp_not_there_exactly_once_cannot_be_filled():
    stamp = beijing_time(dt.datetime.fromisoformat(PLACEHOLDER))
    assert open_stamp("no time here", "beijing") is None
    assert open_stamp(f"{stamp} and again {stamp}", "beijing") is None
    with pytest.raises(ValueError, match="time stamp"):
        fill_stamp(["only one part"], "utc", PLACEHOLDER)
    with pytest.raises(ValueError, match="time stamp"):
        fill_stamp("a string, not parts", "", PLACEHOLDER)  # type: ignore[arg-type]
