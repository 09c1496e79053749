"""Navigation between the pages of a reports folder, the index's links to the office files, and the
plain footer (version, parameters in words, Beijing time; no path, no JSON)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from zhengshou_analysis.report.catalog import NOTEBOOKS, SHORT_TITLES
from zhengshou_analysis.report.files import office_file_name
from zhengshou_analysis.report.index import write_index
from zhengshou_analysis.report.pages import (
    FontSubset,
    beijing_time,
    font_subset,
    footer_html,
    html_page,
    page_nav,
    parameters_in_words,
    set_nav,
)

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
#: Two quick notebooks (no forecast model to fit) for the batch of two demo years.
QUICK = ["10_data_quality", "20_progress"]


def _hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page)]


def _nav(page: str) -> str:
    m = re.search(r'<nav class="zs-nav"[^>]*>(.*?)</nav>', page, re.DOTALL)
    assert m, "the page has no navigation bar"
    return m.group(1)


def _footer(page: str) -> str:
    m = re.search(r'<footer class="zs-footer">(.*?)</footer>', page, re.DOTALL)
    assert m, "the page has no footer"
    return html.unescape(re.sub(r"<[^>]+>", "", m.group(1)))


# --- navigation, unit -----------------------------------------------------------------------------


def test_page_nav_links_the_index_the_years_pages_and_the_neighbouring_years():
    present = {(2019, "00_overview"), (2021, "00_overview"), (2021, "20_progress")}
    present |= {(2022, "20_progress"), (2023, "00_overview")}
    nav = page_nav(2021, "00_overview", present)
    hrefs = _hrefs(nav)
    assert hrefs[0] == "../index.html"
    assert "20_progress.html" in hrefs  # the same year's other page
    assert "10_data_quality.html" not in hrefs  # absent: no link to a missing file
    assert "00_overview.html" not in hrefs  # the page itself is not a link
    assert '<strong aria-current="page">总览</strong>' in nav
    assert SHORT_TITLES["20_progress"] in nav
    # the nearest year on each side that has this page (2022 has no overview)
    assert "../2019/00_overview.html" in hrefs and "../2023/00_overview.html" in hrefs
    assert "../2022/00_overview.html" not in hrefs
    assert all(not h.startswith(("/", "file:", "http")) for h in hrefs)  # relative only
    first = page_nav(2019, "00_overview", present)
    assert "‹" not in first and "../2021/00_overview.html" in _hrefs(first)


def test_set_nav_replaces_only_the_navigation():
    page = html_page("标题", "<p>正文</p>", demo=True, meta="页脚", font_css="")
    assert _nav(page) == ""
    filled = set_nav(page, page_nav(2021, "00_overview", {(2021, "00_overview")}))
    assert "../index.html" in _nav(filled)
    assert filled.replace(_nav(filled), "") == page  # nothing else changed
    assert set_nav(filled, _nav(filled)) == filled
    assert set_nav("<html><body>旧页面</body></html>", "x") == "<html><body>旧页面</body></html>"


# --- footer, unit ---------------------------------------------------------------------------------


def test_beijing_time_is_utc_plus_eight_all_year():
    assert beijing_time(dt.datetime(2021, 12, 31, 20, 5, tzinfo=dt.UTC)) == (
        "2022年1月1日 04:05（北京时间）"
    )
    assert beijing_time(dt.datetime(2021, 7, 1, 0, 0, tzinfo=dt.UTC)) == (
        "2021年7月1日 08:00（北京时间）"
    )
    assert beijing_time(dt.datetime(2021, 7, 1, 0, 0)) == "2021年7月1日 08:00（北京时间）"


def test_footer_says_the_parameters_in_words_without_path_or_json():
    words = parameters_in_words(
        seed=2021,
        horizon_months=12,
        as_of="2021-06-30",
        profile="/home/clerk/台账/zhengshou.toml",
        extra=1,
    )
    foot = footer_html("1.2.3", words, dt.datetime(2026, 1, 1, 3, 0, tzinfo=dt.UTC))
    assert "随机种子 2021" in foot and "预测期 12 个月" in foot
    assert "统计截止 2021年6月30日" in foot and "单位配置：zhengshou.toml" in foot
    assert "另有自定义参数 1 项" in foot and "1.2.3" in foot
    assert "2026年1月1日 11:00（北京时间）" in foot
    assert "/home" not in foot and "{" not in foot and '"' not in foot
    default = parameters_in_words(seed=1, horizon_months=6, as_of=None, profile=None)
    assert "统计截止 年末" in default and "单位配置：内置默认" in default
    # a profile name is text from a file system: escaped
    assert "&lt;b&gt;" in parameters_in_words(
        seed=1, horizon_months=6, as_of="", profile="<b>.toml"
    )


# --- the index and the office files, unit ---------------------------------------------------------


def _fake_year(out: Path, year: int) -> None:
    ydir = out / str(year)
    ydir.mkdir(parents=True)
    state = {
        name: {"status": "ok", "html": f"{name}.html", "run_key": "k", "finished": None}
        for name in NOTEBOOKS
    }
    (ydir / "runs.json").write_text(json.dumps(state), encoding="utf-8")
    for name in NOTEBOOKS:
        (ydir / f"{name}.html").write_text("<html></html>", encoding="utf-8")


@pytest.mark.parametrize("office", ["港北区", "港北/区:..", None])
def test_index_links_the_office_files_that_are_there(tmp_path, office):
    out = tmp_path / "reports"
    for year in (2020, 2021):
        _fake_year(out, year)
    # the lead's Word and Excel files: placeholders here, present for 2021 only
    docx = out / "2021" / office_file_name("工作总结", office or "区", "2021", ".docx")
    xlsx = out / "2021" / office_file_name("报表", office or "区", "2021", ".xlsx")
    docx.write_bytes(b"placeholder")
    xlsx.write_bytes(b"placeholder")
    provenance = {
        "office": office,
        "profile": "/home/clerk/台账/zhengshou.toml",
        "data_dir": "/home/clerk/台账",
        "data_fingerprint": "ab" * 32,
        "package_version": "1.2.3",
        "seed": 2021,
        "horizon_months": 12,
        "as_of": None,
        "generated": "2026-12-01T03:00:00+00:00",
    }
    page = write_index(out, demo=True, provenance=provenance).read_text(encoding="utf-8")
    assert ">工作总结（Word）</a>" in page and ">报表（Excel）</a>" in page
    office_links = [h for h in _hrefs(page) if h.endswith((".docx", ".xlsx"))]
    assert sorted(out / unquote(h) for h in office_links) == sorted([docx, xlsx])
    row_2020 = re.search(r"<tr><th>2020年</th>.*?</tr>", page, re.DOTALL)
    assert row_2020 and ".docx" not in row_2020.group() and ".xlsx" not in row_2020.group()
    for h in _hrefs(page):  # every link of the index resolves to a file of the folder
        assert (out / unquote(urlsplit(h).path)).is_file(), h
    # no machine path or fingerprint on the page, Beijing time in the footer
    assert "/home" not in page and "ab" * 32 not in page
    assert "2026年12月1日 11:00（北京时间）" in _footer(page)


_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")


def test_a_font_subset_covers_its_characters_and_ascii_only():
    font = font_subset("征收补偿")
    assert "@font-face{" in font.css
    assert FontSubset.of_page(f"<style>{font.css}body{{}}</style>") == font  # it names its chars
    assert FontSubset.of_page("<style>@font-face{src:url(x)}</style>") is None  # an older page
    assert font.covers("征收补偿 2021 ok") and font.covers("征收")
    assert not font.covers("征收办")  # one character more: not covered
    assert not FontSubset(frozenset(), "").covers("abc")  # no font at all covers nothing


def test_a_page_embeds_a_shared_subset_only_when_it_covers_the_page():
    shared = font_subset("征收补偿协议总览")
    covered = html_page("总览", "<p>征收补偿协议</p>", demo=False, shared_font=shared)
    assert _FONT_FACE.search(covered)[0] in shared.css
    beyond = html_page("总览", "<p>甘蔗基地</p>", demo=False, shared_font=shared)
    own = _FONT_FACE.search(beyond)[0]
    assert own not in shared.css and own.startswith("@font-face")  # a subset of its own


# --- a real batch of two demo years -----------------------------------------------------------------


@pytest.fixture(scope="module")
def two_years(tmp_path_factory):
    """2021 reported first, then 2020 (2021's pages are not re-rendered by the second batch).

    Returns the reports folder and the 2021 overview page as the first batch left it.
    """
    from zhengshou_analysis.report.batch import run_batch

    base = tmp_path_factory.mktemp("nav")
    out = base / "reports"
    pages_after_first: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHENGSHOU_CACHE_DIR", str(base / "cache"))
        for year in (2021, 2020):
            result = run_batch(
                data_dir=DEMO, out_dir=out, years=[year], notebooks=QUICK, progress=False
            )
            assert not result.failed, result.failed
            assert {r.folder for r in result.runs} == {str(year)}
            if year == 2021:
                pages_after_first = {
                    n: (out / "2021" / f"{n}.html").read_text(encoding="utf-8") for n in QUICK
                }
    return out, pages_after_first


@pytest.mark.slow
def test_every_link_of_a_two_year_batch_resolves(two_years):
    out, _ = two_years
    pages = [*sorted(out.glob("*/*.html")), out / "index.html"]
    assert len(pages) == 2 * len(QUICK) + 1
    for path in pages:
        for href in _hrefs(path.read_text(encoding="utf-8")):
            assert not href.startswith(("/", "file:", "http:", "https:")), (path, href)
            target = (path.parent / unquote(urlsplit(href).path)).resolve()
            assert target.is_file(), f"{path.relative_to(out)} links {href}: no such file"


@pytest.mark.slow
def test_a_page_not_rerendered_gains_the_link_to_a_new_year(two_years):
    out, first = two_years
    for name in QUICK:
        before = first[name]
        assert f"../2020/{name}.html" not in _hrefs(_nav(before))
        after = (out / "2021" / f"{name}.html").read_text(encoding="utf-8")
        assert f"../2020/{name}.html" in _hrefs(_nav(after))
        # only the navigation changed: the report itself is the one the first batch wrote
        assert set_nav(after, _nav(before)) == before
        back = (out / "2020" / f"{name}.html").read_text(encoding="utf-8")
        assert f"../2021/{name}.html" in _hrefs(_nav(back))
        other = next(n for n in QUICK if n != name)
        assert f"{other}.html" in _hrefs(_nav(after)) and "../index.html" in _hrefs(_nav(after))


@pytest.mark.slow
def test_footers_are_plain_chinese_in_beijing_time(two_years):
    out, _ = two_years
    for year in (2020, 2021):
        runs = json.loads((out / str(year) / "runs.json").read_text(encoding="utf-8"))
        for name in QUICK:
            foot = _footer((out / str(year) / f"{name}.html").read_text(encoding="utf-8"))
            finished = dt.datetime.fromisoformat(runs[name]["finished"])
            assert beijing_time(finished) in foot  # the run's time, in Beijing time
            assert "随机种子" in foot and "预测期" in foot and "单位配置" in foot
            for leak in (str(out), str(DEMO), "/", "\\", "{", "}", "UTC", "data_dir", "seed"):
                assert leak not in foot, (year, name, leak)
            # no English beyond the profile's file name
            assert not re.findall(r"[A-Za-z]{2,}", foot.replace("zhengshou.toml", "")), foot
    index_foot = _footer((out / "index.html").read_text(encoding="utf-8"))
    assert "北京时间" in index_foot and "/" not in index_foot and "{" not in index_foot


@pytest.mark.slow
def test_the_index_embeds_the_font_subset_of_the_batch_s_pages(two_years):
    out, _ = two_years
    index = (out / "index.html").read_text(encoding="utf-8")
    page = (out / "2020" / f"{QUICK[0]}.html").read_text(encoding="utf-8")  # the last batch's
    assert _FONT_FACE.search(index)[0] == _FONT_FACE.search(page)[0]  # one subset, not two
