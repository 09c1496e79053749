"""Report runs end to end: files, index, statuses, a failing notebook, skips, atomic writes, HTML."""

from __future__ import annotations

import html
import json
import os
import re
import shutil

import nbformat
import pytest

from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.report.batch import parse_years, run_batch
from zhengshou_analysis.report.catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS
from zhengshou_analysis.report.pages import render_html

pytestmark = pytest.mark.slow


def test_parse_years():
    assert parse_years("2019-2022", available=[]) == [2019, 2020, 2021, 2022]
    assert parse_years("2021,2019", available=[]) == [2019, 2021]
    assert parse_years(None, available=[2022, 2021]) == [2021, 2022]
    with pytest.raises(ParameterError, match="2019-2022"):
        parse_years("last year", available=[])


def _nb_with_outputs():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1  # secret code")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="WARNING noisy log line"),
        nbformat.v4.new_output("display_data", data={"text/html": "<p>结果 &lt;ok&gt;</p>"}),
        nbformat.v4.new_output(
            "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
        ),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("## 标题"), cell]
    return nb


def test_render_html_is_self_contained_and_hides_code():
    nb = _nb_with_outputs()
    before = json.dumps(nb, sort_keys=True)
    page = render_html(nb, title="测试报告", demo=True, meta="m")
    assert json.dumps(nb, sort_keys=True) == before  # the executed notebook is not modified
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "secret code" not in page and "noisy log line" not in page
    assert page.count("示例数据（模拟）") == 1
    assert "@font-face" in page and "data:font/woff;base64," in page
    assert 'alt="测试报告 图1"' in page and "data:image/png;base64,iVBORw0KGgo=" in page
    assert "结果" in page
    assert "示例数据" not in render_html(nb, title="t", demo=False)


def test_batch_files_statuses_and_index(batch_run, report_env):
    code, err = batch_run
    out = report_env["out"]
    assert code == 1  # one planted failure
    assert "FAILED 2020 20_progress" in err and "planted failure" in err
    for year in (2020, 2021):
        d = out / str(year)
        figures = json.loads((d / "key_figures.json").read_text(encoding="utf-8"))
        assert figures["year"] == year and figures["period"] == str(year)
        runs = json.loads((d / "runs.json").read_text(encoding="utf-8"))
        for name in NOTEBOOKS:
            failed = (year, name) == (2020, "20_progress")
            assert runs[name]["status"] == ("failed" if failed else "ok"), (year, name)
            assert (d / f"{name}.html").exists() != failed
            assert (d / (f"{name}.failed.ipynb" if failed else f"{name}.ipynb")).exists()
            if not failed:
                page = (d / f"{name}.html").read_text(encoding="utf-8")
                assert "示例数据（模拟）" in page and f"{year}年" in page
                assert "<script" not in page and "https://" not in page
        assert not [p for p in d.iterdir() if p.name.startswith(".")]  # no temporary files left
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "示例数据（模拟）" in index
    assert 'href="2021/00_overview.html"' in index
    assert 'href="2020/20_progress.failed.ipynb"' in index and "失败" in index
    assert "planted failure" in index
    failed_nb = nbformat.read(out / "2020" / "20_progress.failed.ipynb", as_version=4)
    assert "planted failure" in json.dumps(failed_nb)  # the error stays in the executed notebook


def test_overview_prints_the_key_figures_of_its_data(batch_run, report_env):
    from zhengshou_analysis.figures import compute_key_figures
    from zhengshou_analysis.ledger.clean import clean_ledgers

    nb = nbformat.read(report_env["out"] / "2021" / "00_overview.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters["year"] == 2021
    text = json.dumps(nb, ensure_ascii=False)
    figures = compute_key_figures(clean_ledgers(report_env["raw"]).tables, year=2021)
    # the work summary in the executed notebook carries the figures of this data
    gap_wan = f"{figures['unpaid_gap_yuan'] / 1e4:.2f}万元"
    assert gap_wan in text
    assert f"推进重点及统筹项目{figures['projects_count']}个" in text


def test_unchanged_rerun_is_skipped_and_a_failure_keeps_the_good_report(
    batch_run, report_env, monkeypatch
):
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(report_env["cache"]))
    out, nb_dir = report_env["out"], report_env["notebooks"]
    good = (out / "2021" / "00_overview.html").read_bytes()
    again = run_batch(
        data_dir=report_env["raw"], out_dir=out, years=[2021], notebook_dir=nb_dir, progress=False
    )
    assert {r.status for r in again.runs} == {"skipped"}
    assert (out / "2021" / "00_overview.html").read_bytes() == good

    # the notebook now fails for 2021: the good report stays, the failure is kept beside it
    src = nb_dir / "00_overview.ipynb"
    original = src.read_text(encoding="utf-8")
    nb = json.loads(original)
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "boom",
            "metadata": {},
            "outputs": [],
            "source": "raise RuntimeError('kaputt')",
        }
    )
    src.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    try:
        res = run_batch(
            data_dir=report_env["raw"],
            out_dir=out,
            years=[2021],
            notebooks=["00_overview"],
            notebook_dir=nb_dir,
            progress=False,
        )
    finally:
        src.write_text(original, encoding="utf-8")
    assert [r.status for r in res.runs] == ["failed"]
    assert "kaputt" in res.runs[0].error
    assert (out / "2021" / "00_overview.html").read_bytes() == good
    assert (out / "2021" / "00_overview.failed.ipynb").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.search(r"2021/00_overview\.failed\.ipynb", index)


def test_a_reporting_date_is_one_period(report_env):
    with pytest.raises(ParameterError, match="--as-of"):
        run_batch(
            data_dir=report_env["raw"],
            out_dir=report_env["out"],
            years=[2020, 2021],
            as_of="2021-06-30",
            notebook_dir=report_env["notebooks"],
            progress=False,
        )


def test_notebooks_have_one_tagged_parameters_cell_and_no_definitions():
    from committed import committed_notebooks  # not a notebook JupyterLab saved in notebooks/

    assert sorted(p.stem for p in committed_notebooks()) == sorted(
        {**NOTEBOOKS, **MONTHLY_NOTEBOOKS}
    )
    for p in committed_notebooks():
        nb = nbformat.read(p, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, p.name
        for name in ("year", "as_of", "data_dir", "seed", "horizon_months"):
            assert re.search(rf"^{name}: \w+ = .+  # ", tagged[0].source, re.MULTILINE), (
                p.name,
                name,
            )
        for c in nb.cells:
            if c.cell_type == "code":
                assert not re.search(r"^\s*(def|class|lambda)\b", c.source, re.MULTILINE), p.name
        assert nb.metadata.kernelspec.name == "zhengshou"  # make setup installs it
    assert os.environ.get("ZHENGSHOU_NOTEBOOK_DIR") is None


def test_mid_year_run_goes_to_its_own_folder_never_over_the_year(
    batch_run, report_env, tmp_path, monkeypatch
):
    """``report --year 2021 --as-of 2021-06-15`` (issue 15): the date's own folder and label; the
    year's pages and key figures stay as they were."""
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(report_env["cache"]))
    out = tmp_path / "reports"
    shutil.copytree(report_env["out"], out)  # the years of the batch, as it left them

    def years():
        return {p.relative_to(out): p.read_bytes() for p in out.glob("20??/*")}

    year_before = years()
    assert year_before
    res = run_batch(
        data_dir=report_env["raw"],
        out_dir=out,
        years=[2021],
        as_of="2021-06-15",
        notebooks=["00_overview"],
        notebook_dir=report_env["notebooks"],
        progress=False,
    )
    assert [(r.folder, r.status) for r in res.runs] == [("2021-06-15", "ok")]
    figures = json.loads((out / "2021-06-15" / "key_figures.json").read_text(encoding="utf-8"))
    assert figures["as_of"] == "2021-06-15" and figures["period"] == "2021-06-15"
    page = (out / "2021-06-15" / "00_overview.html").read_text(encoding="utf-8")
    assert "统计截止日：2021年6月15日" in page and "2021年（截至6月15日）" in page
    nb = nbformat.read(out / "2021-06-15" / "00_overview.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters["as_of"] == "2021-06-15"
    assert nb.metadata.papermill.parameters["year"] == 2021
    assert years() == year_before


def test_a_year_without_rows_fails_by_name_and_the_others_go_on(report_env, tmp_path, monkeypatch):
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(report_env["cache"]))
    result = run_batch(
        data_dir=report_env["raw"],
        out_dir=tmp_path / "reports",
        years=[1990, 2021],
        notebooks=["10_data_quality"],
        notebook_dir=report_env["notebooks"],
        progress=False,
    )
    assert [(r.folder, r.status) for r in result.failed] == [("1990", "failed")]
    assert result.failed[0].year == 1990
    assert "1990年" in result.failed[0].error and "没有任何记录" in result.failed[0].error
    assert not (tmp_path / "reports" / "1990").exists()  # no page of zeros
    assert (tmp_path / "reports" / "2021" / "10_data_quality.html").is_file()
    assert {(r.year, r.status) for r in result.runs} >= {(2021, "ok")}


def test_the_profile_joins_the_run_keys_and_the_titles(report_env, tmp_path, monkeypatch):
    import json
    import shutil

    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(report_env["cache"]))
    raw = tmp_path / "ledgers"
    shutil.copytree(report_env["raw"], raw)
    out = tmp_path / "reports"

    def batch():
        return run_batch(
            data_dir=raw,
            out_dir=out,
            years=[2021],
            notebooks=["10_data_quality"],
            notebook_dir=report_env["notebooks"],
            progress=False,
        )

    (raw / "zhengshou.toml").write_text('[office]\nname = "港北区"\n', encoding="utf-8")
    assert [r.status for r in batch().runs] == ["ok"]
    assert [r.status for r in batch().runs] == ["skipped"]  # nothing changed
    page = (out / "2021" / "10_data_quality.html").read_text(encoding="utf-8")
    assert "港北区2021年" in page
    assert "港北区土地房屋征收工作分析报告" in (out / "index.html").read_text(encoding="utf-8")
    (raw / "zhengshou.toml").write_text(
        '[office]\nname = "港北区"\n[policy]\npayment_term_days = 90\n', encoding="utf-8"
    )
    assert [r.status for r in batch().runs] == ["ok"]  # a changed profile re-runs the page
    figures = json.loads((out / "2021" / "key_figures.json").read_text(encoding="utf-8"))
    assert figures["parameters"]["payment_term_days"] == 90


#: Method names a reader-facing page keeps for its technical note (issue 13: words for leaders).
METHOD_WORDS = (
    "MASE",
    "SARIMAX",
    "ETS",
    "Kaplan",
    "χ²",
    "Brier",
    "CRPS",
    "PIT",
    "P50",
    "P90",
    "AIC",
)


def _reader_text(page: str) -> str:
    """The visible text of a page above its technical note (styles, scripts, data URIs removed)."""
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.DOTALL)
    page = re.sub(r"data:[^\"')\s]+", " ", page)
    page = page.split("<h2>技术说明", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_pages_speak_plain_words_and_keep_method_names_for_the_technical_note(
    batch_run, report_env
):
    for name in NOTEBOOKS:
        page = (report_env["out"] / "2021" / f"{name}.html").read_text(encoding="utf-8")
        text = _reader_text(page)
        used = [w for w in METHOD_WORDS if w in text]
        assert not used, f"{name}: {used} above the technical note"
        if name in ("30_funding", "50_delivery"):
            assert "预测回顾" in text and "技术说明" in page


def test_office_files_beside_the_pages_carry_the_numbers_of_key_figures_json(batch_run, report_env):
    """Every year of the batch gets its .docx and .xlsx, and their headline numbers are the ones
    of that year's ``key_figures.json`` on disk (not of a recomputation)."""
    import docx
    import openpyxl

    from zhengshou_analysis.profile import load_profile
    from zhengshou_analysis.report.files import office_file_name
    from zhengshou_analysis.report.session import headline_figures
    from zhengshou_analysis.report.views import DEMO_LABEL, FORMATS

    kinds = {"yuan": "wan_yuan", "mu": "mu", "m2": "wan_m2", "count": "count", "ratio": "pct"}
    scale = {"yuan": 1e-4, "m2": 1e-4}
    office = load_profile(None, raw_dir=report_env["raw"]).office
    index = (report_env["out"] / "index.html").read_text(encoding="utf-8")
    for year in (2020, 2021):
        d = report_env["out"] / str(year)
        kf = json.loads((d / "key_figures.json").read_text(encoding="utf-8"))
        word = d / office_file_name("工作总结", office, str(year), ".docx")
        excel = d / office_file_name("报表", office, str(year), ".xlsx")
        assert word.is_file() and excel.is_file(), sorted(p.name for p in d.iterdir())
        assert (
            f'href="{year}/' in index and "工作总结（Word）" in index and "报表（Excel）" in index
        )

        document = docx.Document(str(word))
        assert DEMO_LABEL in document.paragraphs[0].text
        rows = {r.cells[0].text: r.cells[1].text for r in document.tables[0].rows[1:]}
        sheet = openpyxl.load_workbook(excel)["主要指标"]
        assert any(DEMO_LABEL in str(c.value) for row in sheet.iter_rows(max_row=4) for c in row)
        cells = {
            row[0]: row[1]
            for row in sheet.iter_rows(min_row=5, values_only=True)
            if row[0] is not None
        }
        for fig in headline_figures():
            value = kf[fig.name]
            shown = FORMATS[kinds.get(fig.unit, "months")](value)
            assert rows[fig.label_with_unit] == shown, (year, fig.name)
            if value is None:
                assert cells[fig.label_with_unit] is None, (year, fig.name)
            else:
                expected = value * scale.get(fig.unit, 1.0)
                assert cells[fig.label_with_unit] == pytest.approx(expected), (year, fig.name)
