"""The city view (report/city.py): totals from the parts, ratios from their sums, missing is not 0."""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest

from zhengshou_analysis.figures.registry import FIGURES, figure
from zhengshou_analysis.periods import Period
from zhengshou_analysis.report.city import (
    CITY_FIGURES,
    CityDistrict,
    city_page_html,
    city_totals,
    city_workbook_bytes,
    city_workbook_name,
    in_city,
    rank_districts,
    write_city,
)
from zhengshou_analysis.report.index import write_index
from zhengshou_analysis.report.pages import page_nav, visible_text

Y2021 = Period.year_end(2021)
Y2020 = Period.year_end(2020)

#: Two districts whose ratios average to something else than the ratio of the sums.
BIG = {
    "land_done_mu": 900.0,
    "land_target_mu": 1000.0,
    "land_completion_rate": 0.9,
    "funds_received_yuan": 8e8,
    "funds_required_yuan": 1e9,
    "funds_in_place_ratio": 0.8,
    "overdue_unpaid_yuan": 5e7,
    "sites_over_3_years": 1,
    "projects_count": 40,
}
SMALL = {
    "land_done_mu": 10.0,
    "land_target_mu": 100.0,
    "land_completion_rate": 0.1,
    "funds_received_yuan": 2e7,
    "funds_required_yuan": 1e8,
    "funds_in_place_ratio": 0.2,
    "overdue_unpaid_yuan": 3e7,
    "sites_over_3_years": 3,
    "projects_count": 5,
}


def test_ratios_are_recomputed_from_the_sums_not_averaged():
    totals = city_totals({"big": BIG, "small": SMALL})
    assert totals["land_completion_rate"] == pytest.approx(910 / 1100)
    assert totals["funds_in_place_ratio"] == pytest.approx(8.2e8 / 1.1e9)
    average = (BIG["land_completion_rate"] + SMALL["land_completion_rate"]) / 2
    assert not math.isclose(totals["land_completion_rate"], average)


def test_additive_figures_are_the_sum_of_the_parts():
    totals = city_totals({"big": BIG, "small": SMALL})
    assert totals["overdue_unpaid_yuan"] == pytest.approx(8e7)
    assert totals["projects_count"] == 45 and isinstance(totals["projects_count"], int)
    assert totals["sites_over_3_years"] == 4
    assert totals["districts_reported"] == totals["districts_total"] == 2


def test_a_missing_district_is_left_out_not_counted_as_zero():
    totals = city_totals({"big": BIG, "small": SMALL, "failed": None})
    assert totals["districts_reported"] == 2 and totals["districts_total"] == 3
    assert totals["funds_in_place_ratio"] == pytest.approx(8.2e8 / 1.1e9)
    only_missing = city_totals({"failed": None})
    assert only_missing["overdue_unpaid_yuan"] is None
    assert only_missing["funds_in_place_ratio"] is None


def test_a_ratio_whose_denominator_sums_to_zero_has_no_city_value():
    a = {"land_done_mu": 0.0, "land_target_mu": 0.0}
    assert city_totals({"a": a, "b": dict(a)})["land_completion_rate"] is None


def test_every_ratio_of_the_ledgers_names_its_additive_parts():
    """A ratio outside the forecasts and groups must say what it divides, or the city could
    only average it."""
    for f in FIGURES:
        if f.unit == "ratio" and f.section != "forecast" and f.group is None:
            assert f.ratio_of is not None, f.name
            assert all(figure(p).additive for p in f.ratio_of), f.name
    assert not figure("median_build_months").additive
    assert not figure("gap_p50_yuan").additive  # a sum of medians is not a median


def test_ranking_worst_first_with_shared_ranks():
    values = {"a": 3.0, "b": 5.0, "c": 3.0, "d": None, "e": float("nan")}
    assert rank_districts(values, worst_first="high") == [
        (1, "b", 5.0),
        (2, "a", 3.0),
        (2, "c", 3.0),
    ]
    assert [r[1] for r in rank_districts(values, worst_first="low")] == ["a", "c", "b"]
    with pytest.raises(ValueError, match="worst_first"):
        rank_districts(values, worst_first="middle")


# --- pages and workbook from hand-made reports folders -------------------------------------------


def _figures(scale: float) -> dict:
    """Key figures of a district: every figure of the city view, sized by ``scale``."""
    out: dict = {}
    for f in CITY_FIGURES:
        if f.unit == "count":
            out[f.name] = round(7 * scale)
        elif f.unit == "ratio":
            continue
        elif f.unit == "month":
            out[f.name] = 20.0 + scale
        else:
            out[f.name] = 1234567.89 * scale
    for f in CITY_FIGURES:
        if f.ratio_of:
            num, den = f.ratio_of
            out[f.name] = 0.3 + 0.1 * scale  # a different rate per district
            out[num] = out[f.name] * out[den]
    return out


def _district(root: Path, name: str, office: str, periods: dict[Period, float]) -> CityDistrict:
    folder = root / name
    for period, scale in periods.items():
        (folder / period.folder).mkdir(parents=True)
        (folder / period.folder / "key_figures.json").write_text(
            json.dumps(_figures(scale), ensure_ascii=False), encoding="utf-8"
        )
        (folder / period.folder / "00_overview.html").write_text("<html></html>", encoding="utf-8")
    (folder / "index.html").write_text("<html></html>", encoding="utf-8")
    (folder / "provenance.json").write_text(json.dumps({"office": office}), encoding="utf-8")
    return CityDistrict.of(name, folder, demo=True)


@pytest.fixture
def city(tmp_path) -> tuple[Path, list[CityDistrict]]:
    districts = [
        _district(tmp_path, "east", "东区", {Y2020: 1.0, Y2021: 1.5}),
        _district(tmp_path, "west", "西区<b>", {Y2020: 2.0, Y2021: 3.0}),
        _district(tmp_path, "north", "北区", {Y2020: 0.5}),  # no figures for 2021
        CityDistrict.of("south", tmp_path / "south", "ledgers could not be cleaned: bad file"),
    ]
    return tmp_path, districts


def test_write_city_pages_workbooks_and_index(city):
    root, districts = city
    result = write_city(root, districts)
    assert result.index == root / "index.html"
    assert [p.relative_to(root).as_posix() for p in result.pages] == [
        "city/2020/index.html",
        "city/2021/index.html",
    ]
    assert [p.name for p in result.workbooks] == ["市级汇总_2020.xlsx", "市级汇总_2021.xlsx"]
    for page in [result.index, *result.pages]:
        text = page.read_text(encoding="utf-8")
        for href in re.findall(r'href="([^"]+)"', text):
            assert not href.startswith(("/", "http", "file:")), href  # relative, offline
            target = (page.parent / unquote(href.split("#")[0])).resolve()
            assert target.exists(), f"{page.name}: {href}"


def _hrefs(page: Path) -> list[str]:
    return re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8"))


def _resolves(page: Path, href: str) -> bool:
    return (page.parent / unquote(href.split("#")[0])).resolve().exists()


def test_a_district_of_a_city_links_back_to_the_city_index(city):
    root, districts = city
    assert not in_city(root / "east")  # not yet a city: a reports folder of one office
    index = write_index(root / "east", demo=True, provenance={"office": "东区"})
    assert "返回市级目录" not in index.read_text(encoding="utf-8")
    write_city(root, districts)
    assert in_city(root / "east") and not in_city(root)
    index = write_index(root / "east", demo=True, provenance={"office": "东区"})
    back = [h for h in _hrefs(index) if h == "../index.html"]
    assert (
        back and _resolves(index, back[0]) and "返回市级目录" in index.read_text(encoding="utf-8")
    )
    page = root / "east" / "2021" / "00_overview.html"
    page.write_text(page_nav(Y2021, "00_overview", {(Y2021, "00_overview")}, city=True))
    assert "返回市级目录" in page.read_text(encoding="utf-8")
    assert [h for h in _hrefs(page) if not _resolves(page, h)] == []
    assert (page.parent / "../../index.html").resolve() == (root / "index.html").resolve()
    # and the city's pages lead into the district's pages and index
    city_page = root / "city" / "2021" / "index.html"
    assert "../../east/2021/00_overview.html" in _hrefs(city_page)
    assert "east/index.html" in _hrefs(root / "index.html")


def test_page_shows_a_missing_district_as_missing_and_escapes_office_names(city):
    _, districts = city
    page = city_page_html(districts, Y2021, [Y2020, Y2021])
    assert "西区&lt;b&gt;" in page and "西区<b>" not in page
    rows = re.findall(r"<tr><th>(.*?)</th>(.*?)</tr>", page)
    north = [cells for head, cells in rows if "北区" in head and "<td" in cells]
    assert len(north) == 4  # one row per section table
    tds = [td for cells in north for td in re.findall(r"<td[^>]*>(.*?)</td>", cells)]
    assert tds and set(tds) == {"缺报"}  # missing, never a 0
    assert "4个区中已报2个区" in page
    assert "示例数据（模拟）" in page  # a demo district makes the page a demo page


def test_city_row_of_the_page_is_the_sum_of_the_districts(city):
    _, districts = city
    book = openpyxl.load_workbook(io.BytesIO(city_workbook_bytes(districts, Y2021, [Y2020, Y2021])))
    ws = book["各区对比"]
    header = [c.value for c in ws[4]]
    rows = {r[0]: r for r in ws.iter_rows(min_row=5, values_only=True) if r[0]}
    total = next(r for k, r in rows.items() if str(k).startswith("全市合计"))
    east, west = _figures(1.5), _figures(3.0)
    for f in CITY_FIGURES:
        col = header.index(f.label_with_unit)
        scale = 1e-4 if f.unit in ("yuan", "m2") else 1.0
        if f.additive:
            assert total[col] == pytest.approx((east[f.name] + west[f.name]) * scale), f.name
        elif f.ratio_of:
            num, den = f.ratio_of
            expected = (east[num] + west[num]) / (east[den] + west[den])
            assert total[col] == pytest.approx(expected), f.name
            assert total[col] != pytest.approx((east[f.name] + west[f.name]) / 2), f.name
        else:
            assert total[col] is None, f.name  # no city value (a median)
    assert rows["北区"][1] == "缺报"
    assert all(v is None for v in rows["北区"][2:])  # blank, not 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            assert all(c.data_type != "f" for c in row)  # never a formula


def test_workbook_is_byte_reproducible(city):
    _, districts = city
    assert city_workbook_bytes(districts, Y2021) == city_workbook_bytes(districts, Y2021)
    assert city_workbook_name(Period.from_folder("2021-06")) == "市级汇总_2021-06.xlsx"


#: A Latin word (as tests/test_reader_language.py reads one).
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _reader_text(page: str) -> str:
    """The visible text outside the technical note."""
    page = re.sub(r'<section class="zs-tech">.*?</section>', "", page, flags=re.DOTALL)
    page = re.sub(r"<(style|title)>.*?</\1>", "", page, flags=re.DOTALL)
    return visible_text(page)


def test_no_latin_word_for_the_reader(city):
    root, districts = city
    result = write_city(root, districts)
    for page in [result.index, *result.pages]:
        text = _reader_text(page.read_text(encoding="utf-8"))
        for office in (d.office for d in districts):  # the offices' own words (a folder name)
            text = text.replace(office, "")
        text = re.sub(r"(?<![A-Za-z])Excel(?![A-Za-z])", "", text)  # the office program's name
        words = WORD.findall(text)
        assert words == [], f"{page}: {words}"
    failed = result.pages[-1].read_text(encoding="utf-8")
    assert "ledgers could not be cleaned" in failed  # the failure in the technical note
