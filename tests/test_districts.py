"""Many districts (report/districts.py, demo/districts.py): the demo city, the data root, the driver."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from scan import all_text

from zhengshou_analysis.cli import main
from zhengshou_analysis.demo import DEMO_DISTRICTS, SYNTHETIC_LABEL, write_demo_districts
from zhengshou_analysis.exceptions import InputError, ParameterError
from zhengshou_analysis.figures.registry import figure
from zhengshou_analysis.periods import Period
from zhengshou_analysis.report.batch import BatchResult
from zhengshou_analysis.report.city import CITY_FIGURES, city_workbook_name
from zhengshou_analysis.report.districts import (
    DistrictJob,
    find_districts,
    is_data_root,
    run_districts,
)


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo_city(tmp_path_factory) -> Path:
    """``demo-data --districts 3`` written once (read only)."""
    out = tmp_path_factory.mktemp("city") / "districts"
    assert main(["demo-data", "--districts", "3", str(out)]) == 0
    return out


# --- the demo city ------------------------------------------------------------------------------


def test_demo_city_is_byte_reproducible(demo_city, tmp_path):
    again = write_demo_districts(tmp_path / "again", count=3)
    assert sorted(again) == ["", "guiwan", "qingxi", "yunling"]
    assert _digests(tmp_path / "again") == _digests(demo_city)


def test_demo_districts_differ_by_design(demo_city):
    from zhengshou_analysis.profile import load_profile

    offices, zones = set(), set()
    for d in DEMO_DISTRICTS[:3]:
        profile = load_profile(demo_city / d.folder / "zhengshou.toml")
        offices.add(profile.office_name)
        zones |= set(profile.zones)
        assert profile.office_name == d.config.district
        assert set(profile.zones) == set(d.config.zones)
        text = (demo_city / d.folder / "README.md").read_text(encoding="utf-8")
        assert SYNTHETIC_LABEL in text and d.config.district in text
        assert "Guigang" not in text  # the one-district demo's story is not theirs
    assert len(offices) == 3 and len(zones) == 9
    configs = [d.config for d in DEMO_DISTRICTS[:3]]
    assert len({sum(c.projects_per_zone.values()) for c in configs}) == 3  # sizes
    assert len({len(c.site_plan) for c in configs}) == 3
    assert len({c.inflow_ratio for c in configs}) == 3  # funding patterns
    assert len({d.folder for d in DEMO_DISTRICTS}) == len(DEMO_DISTRICTS)
    assert all(re.fullmatch(r"[a-z]+", d.folder) for d in DEMO_DISTRICTS)


def test_demo_city_ledgers_are_labelled_and_clean(demo_city):
    from zhengshou_analysis.ledger.store import load_ledgers
    from zhengshou_analysis.profile import load_profile

    d = DEMO_DISTRICTS[1]  # the smallest, with the funds falling short
    folder = demo_city / d.folder
    result = load_ledgers(folder, profile=load_profile(folder / "zhengshou.toml"))
    assert result.manifest["synthetic"] is True
    assert set(result.tables["projects"]["zone"].dropna()) == set(d.config.zones)
    assert result.tables["projects"]["project_id"].str.startswith("YL-").all()


@pytest.mark.parametrize("count", [0, 6, True, 2.5])
def test_demo_city_size_is_checked(tmp_path, count):
    with pytest.raises(ParameterError, match="districts"):
        write_demo_districts(tmp_path, count=count)


def test_demo_data_cli_refuses_too_many_districts(tmp_path, capsys):
    assert main(["demo-data", "--districts", "9", str(tmp_path)]) == 2
    assert "1 to 5" in capsys.readouterr().err


# --- finding the districts ------------------------------------------------------------------------


def _raw(folder: Path, *, profile: bool = True, office: str = "某区") -> Path:
    folder.mkdir(parents=True)
    (folder / "台账.csv").write_text("x\n", encoding="utf-8")
    if profile:
        (folder / "zhengshou.toml").write_text(f'[office]\nname = "{office}"\n', encoding="utf-8")
    return folder


def test_a_data_root_is_found_by_its_profiles(demo_city, tmp_path):
    assert is_data_root(demo_city)
    assert [d.name for d in find_districts(demo_city)] == ["guiwan", "qingxi", "yunling"]
    assert not is_data_root(demo_city / "qingxi")  # one raw folder
    assert find_districts(demo_city / "qingxi") is None
    # an office that keeps its ledgers in year folders is one office, not a city
    office = tmp_path / "office"
    _raw(office / "2021", profile=False)
    _raw(office / "2022", profile=False)
    assert not is_data_root(office)
    (office / "zhengshou.toml").write_text('[office]\nname = "某区"\n', encoding="utf-8")
    assert not is_data_root(office)


def test_district_problems_are_named(tmp_path):
    root = tmp_path / "root"
    _raw(root / "east")
    _raw(root / "noprofile", profile=False)
    _raw(root / "city")
    _raw(root / "2021")
    _raw(root / "East")  # the same folder as east on Windows
    _raw(root / "_archive")
    (root / ".hidden").mkdir()
    (root / "empty").mkdir()
    found = {d.data_dir.name: d for d in find_districts(root)}
    assert sorted(found) == ["2021", "East", "city", "east", "noprofile"]
    assert found["east"].problem == "" or found["East"].problem == ""
    assert "taken" in (found["east"].problem or found["East"].problem)
    assert "zhengshou init" in found["noprofile"].problem
    assert "city view" in found["city"].problem
    assert "period" in found["2021"].problem


# --- the driver, with a stand-in runner (no notebook) -------------------------------------------


def _fake_runner(failing: dict[str, Exception]):
    """A runner that writes a district's key figures and provenance like a batch would."""

    def run(job: DistrictJob) -> BatchResult:
        if job.district.name in failing:
            raise failing[job.district.name]
        assert job.options["years"] == [2021] and job.options["jobs"] == 2
        scale = {"a": 1.0, "b": 4.0, "c": 2.0}[job.district.name]
        figs = {f.name: (3 * scale if f.unit != "ratio" else None) for f in CITY_FIGURES}
        for f in CITY_FIGURES:
            if f.ratio_of:
                num, den = f.ratio_of
                figs[den] = 10.0 * scale
                figs[num] = scale * scale  # a rate that differs by district
                figs[f.name] = figs[num] / figs[den]
        folder = job.out_dir / "2021"
        folder.mkdir(parents=True)
        (folder / "key_figures.json").write_text(json.dumps(figs), encoding="utf-8")
        (job.out_dir / "provenance.json").write_text(
            json.dumps({"office": f"{job.district.name.upper()}区"}), encoding="utf-8"
        )
        return BatchResult()

    return run


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for name in ("a", "b", "c"):
        _raw(root / name)
    return root


@pytest.mark.parametrize("at_once", [1, 3])
def test_one_district_failing_never_stops_the_others(tmp_path, at_once):
    root, out = _root(tmp_path), tmp_path / "reports"
    seen = []
    result = run_districts(
        data_root=root,
        out_dir=out,
        years=[2021],
        jobs=2,
        progress=False,
        runner=_fake_runner({"b": InputError("台账无法使用", file="bad.xlsx")}),
        on_district=lambda o: seen.append(o.district.name),
        districts_at_once=at_once,
    )
    assert sorted(seen) == ["a", "b", "c"]
    assert [o.district.name for o in result.outcomes] == ["a", "b", "c"]
    assert [f.split(":")[0] for f in result.failures] == ["b"]
    page = (out / "city" / "2021" / "index.html").read_text(encoding="utf-8")
    assert "缺报" in page and "3个区中已报2个区" in page
    assert result.index == (out / "index.html").resolve()


def test_a_bug_in_one_district_is_a_failure_of_that_district(tmp_path):
    root, out = _root(tmp_path), tmp_path / "reports"
    result = run_districts(
        data_root=root,
        out_dir=out,
        years=[2021],
        jobs=2,
        progress=False,
        runner=_fake_runner({"c": RuntimeError("boom")}),
    )
    assert len(result.failures) == 1 and "boom" in result.failures[0]
    assert (out / "a" / "2021" / "key_figures.json").is_file()


def test_city_totals_of_the_driver_are_the_sums_of_the_parts(tmp_path):
    root, out = _root(tmp_path), tmp_path / "reports"
    run_districts(
        data_root=root, out_dir=out, years=[2021], jobs=2, progress=False, runner=_fake_runner({})
    )
    _assert_city_equals_parts(out, Period.year_end(2021), ["a", "b", "c"])


def test_the_reports_folder_of_one_office_is_refused(tmp_path):
    root, out = _root(tmp_path), tmp_path / "reports"
    (out / "2021").mkdir(parents=True)
    with pytest.raises(ParameterError, match="one office"):
        run_districts(data_root=root, out_dir=out, runner=_fake_runner({}))
    with pytest.raises(ParameterError, match="not a data root"):
        run_districts(data_root=root / "a", out_dir=tmp_path / "x", runner=_fake_runner({}))


def test_batch_refuses_one_profile_for_several_districts(tmp_path, capsys):
    root = _root(tmp_path)
    code = main(
        [
            "batch",
            "--data",
            str(root),
            "--out",
            str(tmp_path / "r"),
            "--profile",
            str(root / "a" / "zhengshou.toml"),
        ]
    )
    assert code == 2
    assert "own zhengshou.toml" in capsys.readouterr().err


def _assert_city_equals_parts(out: Path, period: Period, names: list[str]) -> None:
    """The city workbook's 全市合计 row equals the sums (and ratios of sums) of the districts'
    key_figures.json, read back from the files."""
    parts = [
        json.loads((out / n / period.folder / "key_figures.json").read_text(encoding="utf-8"))
        for n in names
    ]
    book = openpyxl.load_workbook(out / "city" / period.folder / city_workbook_name(period))
    ws = book["各区对比"]
    header = [c.value for c in ws[4]]
    total = next(
        r for r in ws.iter_rows(min_row=5, values_only=True) if str(r[0]).startswith("全市合计")
    )
    checked = 0
    for f in CITY_FIGURES:
        col = header.index(f.label_with_unit)
        scale = 1e-4 if f.unit in ("yuan", "m2") else 1.0
        if f.additive:
            expected = sum(p[f.name] for p in parts if p.get(f.name) is not None) * scale
        elif f.ratio_of:
            num, den = f.ratio_of
            expected = sum(p[num] for p in parts) / sum(p[den] for p in parts)
        else:
            continue
        assert total[col] == pytest.approx(expected, rel=1e-9), f.name
        checked += 1
    assert checked >= 15
    assert figure("funds_in_place_ratio") in CITY_FIGURES


# --- end to end: the demo city through one batch command -----------------------------------------

#: Fictitious personal data of the demo: ID numbers start with 999, phones with 100, names X某Y.
PERSONAL = re.compile(r"999\d{14}[\dX]|(?<!\d)100\d{8}(?!\d)|[\u4e00-\u9fff]某[\u4e00-\u9fff]")


@pytest.mark.slow
def test_demo_city_end_to_end(demo_city, tmp_path, capsys):
    out = tmp_path / "reports"
    code = main(
        ["batch", "--data", str(demo_city), "--out", str(out), "--years", "2021", "--jobs", "2"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    names = ["guiwan", "qingxi", "yunling"]
    for n in names:
        assert (out / n / "index.html").is_file()
        assert (out / n / "2021" / "00_overview.html").is_file()
        assert (out / n / "2021" / "key_figures.json").is_file()
    page = (out / "city" / "2021" / "index.html").read_text(encoding="utf-8")
    assert SYNTHETIC_LABEL in page
    for d in DEMO_DISTRICTS[:3]:
        assert f"../../{d.folder}/2021/00_overview.html" in page
        assert d.config.district in page
    assert "市级汇总" in (out / "index.html").read_text(encoding="utf-8")
    # every page of the city's folder links by relative paths to files that are there; the
    # districts' index and pages lead back to the city's index
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for href in re.findall(r'href="([^"#]+)', text):
            assert not href.startswith(("/", "http", "file:")), (page, href)
            assert (page.parent / unquote(href)).resolve().is_file(), (page, href)
        if page.parent.name in names or page.parent.parent.name in names:
            assert "返回市级目录" in text, page
    _assert_city_equals_parts(out, Period.year_end(2021), names)
    city_text = all_text([out / "city", out / "index.html"])
    assert PERSONAL.findall(city_text) == []
