"""Periods as runs (一月一调度): years, months and ad-hoc dates each in their own folder, run keys
that cover the data up to the period's end, the index with years and months apart, navigation
between months.

The engine tests run a set of small notebooks (each opens the report and prints a few key figures)
on a hand-made ledger, so that a batch of twelve months stays quick; one end-to-end test runs the
real 调度简报 notebook on the demo data for three months.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pandas as pd
import pytest
from ledger_builder import build_raw

from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.periods import Period, parse_months
from zhengshou_analysis.profile import load_profile
from zhengshou_analysis.report.batch import run_batch, settle_periods
from zhengshou_analysis.report.catalog import (
    MONTHLY_NOTEBOOKS,
    NOTEBOOK_DATA_SCOPE,
    NOTEBOOKS,
    OFFICE_DATA_SCOPE,
    notebooks_of,
)
from zhengshou_analysis.report.files import office_file_name
from zhengshou_analysis.report.index import periods_in_words
from zhengshou_analysis.report.pages import page_nav
from zhengshou_analysis.report.runs import tables_fingerprint

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
#: The pages a year runs in the engine tests (one of each data scope) and the month's page.
YEAR_PAGES = ["00_overview", "10_data_quality"]
ENGINE_PAGES = [*YEAR_PAGES, "60_dispatch"]
#: The payment the incremental test changes: dated in May 2021, nothing else in the ledgers then.
MAY_PAYMENT = ["PAY-6", "2021-05-20", "GC-001", "南湖路征收", "补偿款", "1000", ""]

PROBE_SOURCE = """\
from zhengshou_analysis.report.session import open_report

rep = open_report(data_dir, year=year, as_of=as_of, title="测试页", horizon_months=horizon_months, seed=seed, profile_path=profile_path)
print("报告期", rep.period.folder, rep.period.label_zh)
print("已支付", rep.figures["total_paid_yuan"])
"""


def _hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page)]


# --- unit -------------------------------------------------------------------------------------------


def test_settle_periods_years_months_and_dates():
    years = [Period.year_end(2020), Period.year_end(2021)]
    assert settle_periods(years=None, months=None, as_of=None, available=[2021, 2020]) == years
    both = settle_periods(years=[2021], months="2021-11..2022-01", as_of=None, available=[])
    assert [p.folder for p in both] == ["2021-11", "2021-12", "2021", "2022-01"]
    assert settle_periods(years=None, months="2021", as_of=None, available=[2020]) == (
        parse_months("2021")
    )  # months alone: no year
    assert settle_periods(years=[2021], months=None, as_of="2021-06-30", available=[]) == [
        Period.month_end(2021, 6)
    ]
    (date,) = settle_periods(years=None, months=None, as_of="2021-06-15", available=[])
    assert (date.folder, date.label_zh) == ("2021-06-15", "2021年（截至6月15日）")
    assert settle_periods(years=None, months=None, as_of="2021-12-31", available=[]) == [
        Period.year_end(2021)
    ]
    with pytest.raises(ParameterError, match="--as-of"):
        settle_periods(years=[2020, 2021], months=None, as_of="2021-06-30", available=[])
    with pytest.raises(ParameterError, match="--as-of"):
        settle_periods(years=None, months="2021-06", as_of="2021-06-30", available=[])
    with pytest.raises(ParameterError, match="--months"):
        settle_periods(years=None, months="June", as_of=None, available=[])


def test_every_notebook_declares_its_data_scope():
    assert set(NOTEBOOK_DATA_SCOPE) == set(NOTEBOOKS) | set(MONTHLY_NOTEBOOKS)
    assert NOTEBOOK_DATA_SCOPE["10_data_quality"] == "raw"  # it shows every raw file's cleaning
    assert NOTEBOOK_DATA_SCOPE["60_dispatch"] == "period"
    assert set(OFFICE_DATA_SCOPE) == {"year", "month", "date"}
    assert notebooks_of(Period.month_end(2021, 6)) == MONTHLY_NOTEBOOKS
    assert notebooks_of(Period.of_date("2021-06-15")) == NOTEBOOKS


def test_tables_fingerprint_follows_values_not_row_labels():
    a = {"payments": pd.DataFrame({"amount_yuan": [1.0, 2.0], "origin": ["a!2", "a!3"]})}
    same = {"payments": a["payments"].set_axis([7, 9])}
    changed = {"payments": a["payments"].assign(amount_yuan=[1.0, 2.5])}
    assert tables_fingerprint(a) == tables_fingerprint(same) == tables_fingerprint(dict(a))
    assert tables_fingerprint(a) != tables_fingerprint(changed)
    assert tables_fingerprint(a) != tables_fingerprint({"funding": a["payments"]})
    assert len(a["payments"]) == 2 and a["payments"].index.tolist() == [0, 1]  # not modified


def test_month_navigation_links_neighbouring_months_and_the_years_overview():
    may, jun, aug = (Period.month_end(2021, m) for m in (5, 6, 8))
    year = Period.year_end(2021)
    present = {(may, "60_dispatch"), (jun, "60_dispatch"), (aug, "60_dispatch")}
    present |= {(year, "00_overview"), (year, "20_progress")}
    nav = page_nav(jun, "60_dispatch", present)
    hrefs = _hrefs(nav)
    assert hrefs[0] == "../index.html"
    assert "../2021-05/60_dispatch.html" in hrefs and "‹ 2021年5月" in nav
    assert "../2021-08/60_dispatch.html" in hrefs and "2021年8月 ›" in nav  # July absent
    assert "../2021/00_overview.html" in hrefs and "2021年总览" in nav
    assert "2021年6月：" in nav
    # without the year's overview, no link to it
    assert "../2021/" not in page_nav(may, "60_dispatch", present - {(year, "00_overview")})
    # a year's page never links to months, whatever months are present
    year_nav = page_nav(year, "00_overview", present)
    assert page_nav(year, "00_overview", {(year, "00_overview"), (year, "20_progress")}) == (
        year_nav
    )
    assert "2021-0" not in year_nav and page_nav(2021, "00_overview", present) == year_nav
    date = Period.of_date("2021-06-15")
    date_nav = page_nav(date, "00_overview", present | {(date, "00_overview")})
    assert "2021年（截至6月15日）各报告" in date_nav and "‹" not in date_nav


def test_periods_in_words():
    folders = ["2021-03", "2021-01", "2021-02", "2019", "2020", "2021-06-15", "2021-12", "2022-01"]
    assert periods_in_words(folders) == (
        "2019年至2020年、2021年1月至3月、2021年12月至2022年1月、2021年（截至6月15日）"
    )


# --- the engine on a hand-made ledger ---------------------------------------------------------------


def _probe_notebooks(folder: Path) -> Path:
    """Small notebooks named as the catalogue's: each opens the report and prints key figures."""
    real = nbformat.read(ROOT / "notebooks" / "00_overview.ipynb", as_version=4)
    (params,) = [c for c in real.cells if "parameters" in c.metadata.get("tags", [])]
    folder.mkdir(parents=True)
    for name in [*NOTEBOOKS, *MONTHLY_NOTEBOOKS]:
        nb = nbformat.v4.new_notebook()
        nb.metadata = real.metadata
        nb.cells = [params, nbformat.v4.new_code_cell(PROBE_SOURCE)]
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def _raw_with_may_payment(raw: Path) -> Path:
    """``build_raw`` with a projects ledger of 2020 and a valid payment dated in May 2021."""
    build_raw(raw)
    (raw / "征收项目台账_2020.csv").write_text(
        "项目编号,项目名称,片区,年度,征地任务(亩),已完成征地(亩)\n"
        "GC-101,南湖路延长线征收,贵城片区,2020,12.5,10\n",
        encoding="utf-8",
    )
    payments = raw / "支付台账2021.csv"
    text = payments.read_text(encoding="gbk")
    payments.write_text(text.rstrip("\r\n") + "\r\n" + ",".join(MAY_PAYMENT) + "\r\n", "gbk")
    return raw


def _statuses(result) -> dict[tuple[str, str], str]:
    return {(r.folder, r.notebook): r.status for r in result.runs}


def _snapshot(out: Path, folder: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / folder).iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """One reports folder through its life: the years 2020–2021, then the twelve months of 2021,
    the months again unchanged, then the May payment changed and years and months run again, then
    a month without data beside one with.

    Returns a dict of the folder, the snapshots of the year folders and each batch's result.
    """
    base = tmp_path_factory.mktemp("monthly")
    raw = _raw_with_may_payment(base / "ledgers")
    nb_dir = _probe_notebooks(base / "notebooks")
    out = base / "reports"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHENGSHOU_CACHE_DIR", str(base / "cache"))
        jobs = 2

        def batch(**kw):
            return run_batch(
                data_dir=raw,
                out_dir=out,
                notebooks=ENGINE_PAGES,
                notebook_dir=nb_dir,
                jobs=jobs,
                progress=False,
                **kw,
            )

        h: dict = {"out": out, "raw": raw}
        h["years"] = batch(years=[2020, 2021])
        h["years_before"] = {y: _snapshot(out, y) for y in ("2020", "2021")}
        h["months"] = batch(months="2021")
        h["years_after"] = {y: _snapshot(out, y) for y in ("2020", "2021")}
        h["index_after_months"] = (out / "index.html").read_text(encoding="utf-8")
        h["again"] = batch(months="2021")
        h["kf_before_change"] = {
            p.name: (p / "key_figures.json").read_bytes() for p in out.iterdir() if p.is_dir()
        }
        payments = raw / "支付台账2021.csv"
        text = payments.read_text(encoding="gbk")
        changed = ",".join(MAY_PAYMENT).replace(",1000,", ",2000,")
        assert changed != ",".join(MAY_PAYMENT) and ",".join(MAY_PAYMENT) in text
        payments.write_text(text.replace(",".join(MAY_PAYMENT), changed), encoding="gbk")
        h["changed"] = batch(years=[2020, 2021], months="2021")
        h["no_data"] = batch(months="2021-12,2022-01")
    return h


@pytest.mark.slow
def test_a_monthly_batch_leaves_the_year_pages_byte_identical(history):
    assert not history["years"].failed and not history["months"].failed
    assert history["years_after"] == history["years_before"]
    out = history["out"]
    for m in range(1, 13):
        folder = out / f"2021-{m:02d}"
        assert (folder / "60_dispatch.html").is_file(), folder
        assert not (folder / "00_overview.html").exists()  # a month runs the monthly notebooks
        figures = json.loads((folder / "key_figures.json").read_text(encoding="utf-8"))
        assert figures["period"] == f"2021-{m:02d}" and figures["as_of"].startswith("2021-")
        assert "change_since_last_month" in figures and "change_since_year_start" in figures
        runs = json.loads((folder / "runs.json").read_text(encoding="utf-8"))
        assert runs["60_dispatch"]["period"] == f"2021-{m:02d}"
        assert _statuses(history["months"])[(f"2021-{m:02d}", "60_dispatch")] == "ok"
        word = folder / office_file_name("调度简报", "区", f"2021-{m:02d}", ".docx")
        assert word.is_file(), sorted(p.name for p in folder.iterdir())
    june = (out / "2021-06" / "60_dispatch.html").read_text(encoding="utf-8")
    assert "2021年6月 · " in june and "报告期：2021年6月" in june
    assert "2021-06 2021年6月" in june  # the notebook saw the month as its period
    assert "统计截止日：2021年6月30日" in june
    year = json.loads((out / "2021" / "key_figures.json").read_text(encoding="utf-8"))
    assert year["period"] == "2021" and year["as_of"] == "2021-12-31"
    assert "change_since_last_month" not in year


@pytest.mark.slow
def test_an_unchanged_rerun_skips_every_month(history):
    statuses = _statuses(history["again"])
    assert statuses == {(f"2021-{m:02d}", "60_dispatch"): "skipped" for m in range(1, 13)}


@pytest.mark.slow
def test_a_payment_changed_in_may_reruns_may_to_december_and_the_year_only(history):
    statuses = _statuses(history["changed"])
    for m in range(1, 13):
        expected = "ok" if m >= 5 else "skipped"
        assert statuses[(f"2021-{m:02d}", "60_dispatch")] == expected, m
    assert statuses[("2021", "00_overview")] == "ok"
    assert statuses[("2020", "00_overview")] == "skipped"  # its data end before May 2021
    # the data-quality page shows every raw file's cleaning: any change re-runs it
    assert statuses[("2020", "10_data_quality")] == "ok"
    kf = {
        p.name: (p / "key_figures.json").read_bytes()
        for p in history["out"].iterdir()
        if p.is_dir()
    }
    before = history["kf_before_change"]
    for m in range(1, 5):
        assert kf[f"2021-{m:02d}"] == before[f"2021-{m:02d}"]
    may = json.loads(kf["2021-05"])
    assert may["total_paid_yuan"] == json.loads(before["2021-05"])["total_paid_yuan"] + 1000
    assert may["change_since_last_month"]["total_paid_yuan"] == pytest.approx(
        may["total_paid_yuan"] - json.loads(kf["2021-04"])["total_paid_yuan"]
    )


@pytest.mark.slow
def test_a_month_without_data_fails_by_name_and_the_others_go_on(history):
    result = history["no_data"]
    assert [(r.folder, r.notebook) for r in result.failed] == [("2022-01", "*")]
    assert "2022年1月" in result.failed[0].error and "没有任何记录" in result.failed[0].error
    assert _statuses(result)[("2021-12", "60_dispatch")] == "skipped"
    assert not (history["out"] / "2022-01").exists()


@pytest.mark.slow
def test_the_index_lists_years_and_months_apart_and_its_links_resolve(history):
    out = history["out"]
    page = (out / "index.html").read_text(encoding="utf-8")
    years_part, _, rest = page.partition("<h2>月度调度")
    months_part = rest.partition("<h2>运行设置")[0]
    assert "<th>2020年</th>" in years_part and "<th>2021年</th>" in years_part
    assert "2021年6月" not in years_part  # no month in the years' tables or trend
    for m in range(1, 13):
        assert f"<th>2021年{m}月</th>" in months_part
        assert f'href="2021-{m:02d}/60_dispatch.html"' in months_part
    assert "较上月" in months_part and "调度简报（Word）" in months_part
    assert "<th>2021年</th>" not in months_part
    trend = re.search(r"<h2>主要指标走势</h2>(.*?)</table>", years_part, re.DOTALL)
    assert trend and re.findall(r"<tr><th>(\d{4}[^<]*)</th>", trend.group(1)) == [
        "2020年",
        "2021年",
    ]
    for path in [out / "index.html", *out.glob("*/*.html")]:
        for href in _hrefs(path.read_text(encoding="utf-8")):
            assert not href.startswith(("/", "file:", "http:", "https:")), (path, href)
            target = (path.parent / unquote(urlsplit(href).path)).resolve()
            assert target.is_file(), f"{path.relative_to(out)} links {href}: no such file"
    june = (out / "2021-06" / "60_dispatch.html").read_text(encoding="utf-8")
    assert "../2021-05/60_dispatch.html" in june and "../2021-07/60_dispatch.html" in june
    assert "../2021/00_overview.html" in june


@pytest.mark.slow
def test_an_ad_hoc_date_gets_its_own_folder_and_label(tmp_path, monkeypatch):
    raw = _raw_with_may_payment(tmp_path / "ledgers")
    nb_dir = _probe_notebooks(tmp_path / "notebooks")
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "reports"
    result = run_batch(
        data_dir=raw,
        out_dir=out,
        as_of="2021-06-15",
        notebooks=["00_overview"],
        notebook_dir=nb_dir,
        jobs=1,
        progress=False,
    )
    assert _statuses(result) == {("2021-06-15", "00_overview"): "ok"}
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["2021-06-15"]
    page = (out / "2021-06-15" / "00_overview.html").read_text(encoding="utf-8")
    assert "2021年（截至6月15日） · " in page and "统计截止日：2021年6月15日" in page
    figures = json.loads((out / "2021-06-15" / "key_figures.json").read_text(encoding="utf-8"))
    assert (figures["period"], figures["as_of"]) == ("2021-06-15", "2021-06-15")
    for kind, suffix in (("工作总结", ".docx"), ("报表", ".xlsx")):
        assert (out / "2021-06-15" / office_file_name(kind, "区", "2021-06-15", suffix)).is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "其他截止日报告" in index and "<th>2021年（截至6月15日）</th>" in index
    assert "<h2>报告目录</h2>" not in index  # no year in this folder


@pytest.mark.slow
def test_a_years_key_figures_are_those_of_compute_period_figures(tmp_path, monkeypatch):
    """The batch takes a year's figures from the context of its office files; they are the
    ones of ``compute_period_figures``."""
    from zhengshou_analysis.figures.year import compute_period_figures
    from zhengshou_analysis.report.session import load_report

    raw = _raw_with_may_payment(tmp_path / "ledgers")
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(tmp_path / "cache"))
    period = Period.year_end(2021)
    rep = load_report(raw, period=period)
    assert rep.period == period and rep.as_of_given is None
    expected = compute_period_figures(
        rep.tables, period=period, profile=rep.profile, seed=rep.seed, horizon_months=12
    )
    assert {**rep.analysis.key_figures(), "period": "2021"} == expected
    month = load_report(raw, year=2021, as_of="2021-06-30")
    assert month.period == Period.month_end(2021, 6)


# --- the real dispatch notebook on the demo data ------------------------------------------------------


@pytest.mark.slow
def test_three_months_of_the_real_dispatch_page_on_the_demo(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "reports"
    result = run_batch(
        data_dir=DEMO, out_dir=out, months="2021-04..2021-06", jobs=3, progress=False
    )
    assert not result.failed, [(r.folder, r.error) for r in result.failed]
    office = load_profile(None, raw_dir=DEMO).office
    for m in (4, 5, 6):
        folder = out / f"2021-{m:02d}"
        page = (folder / "60_dispatch.html").read_text(encoding="utf-8")
        assert "示例数据（模拟）" in page and f"2021年{m}月" in page
        assert (folder / office_file_name("调度简报", office, folder.name, ".docx")).is_file()
    assert "../2021-04/60_dispatch.html" in (out / "2021-05" / "60_dispatch.html").read_text(
        encoding="utf-8"
    )
    shutil.rmtree(out)
