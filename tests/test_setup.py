"""The set-up a new user and an analyst meet (issue 17, parts 4 and 5).

``make report`` installs what running needs and ``make test`` the dev extra (checked with
``make -n`` on a copy of the Makefile, stamps as a fresh clone and as a clone after ``make report``
leave them); ``make wheelhouse`` fills a folder from which pip resolves the whole runtime without
the index, for Linux and for Windows; JupyterLab opens at the root with ``work/``, which pytest
never collects, nor a notebook JupyterLab saved in ``notebooks/``; a notebook's ``data_dir`` is
found from the repository root as from ``notebooks/``; ``zhengshou report --page`` runs one page.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from zhengshou_analysis.exceptions import InputError
from zhengshou_analysis.report.catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS
from zhengshou_analysis.report.session import resolve_path

ROOT = Path(__file__).resolve().parents[1]


def _load_tool(name: str) -> ModuleType:
    """A script of ``tools/`` as a module (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location(f"tools_{name}", ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


wh = _load_tool("wheelhouse")  # make wheelhouse

TEST_TOOLS = ("pytest", "nbval", "hypothesis", "ruff", "mypy", "playwright", "openpyxl")
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def _code_env() -> dict[str, str]:
    """The environment of a subprocess that must run this checkout's code."""
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


# --- make: what each target installs ----------------------------------------------------------


def _make_copy(tmp_path: Path) -> Path:
    """The Makefile and pyproject.toml in a folder of their own (the stamps depend on them)."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def _dry(folder: Path, target: str) -> str:
    """The commands ``make <target>`` would run (``make -n``), as text."""
    proc = subprocess.run(
        ["make", "-n", target], cwd=folder, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _installs(commands: str) -> list[str]:
    """The lines that install the package (not the upgrade of pip in a new venv)."""
    return [line for line in commands.splitlines() if re.search(r"-m pip install -e ", line)]


def _venv(folder: Path, *stamps: str) -> None:
    """A .venv as an earlier make left it: its python and the given stamps, newer than the rest."""
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").touch()
    old = (folder / "pyproject.toml").stat().st_mtime
    for stamp in stamps:
        (folder / ".venv" / stamp).touch()
        os.utime(folder / ".venv" / stamp, (old + 10, old + 10))


@needs_make
def test_make_report_on_a_fresh_clone_installs_no_test_tool(tmp_path):
    commands = _dry(_make_copy(tmp_path), "report")
    installs = _installs(commands)
    assert len(installs) == 1, commands
    assert re.search(r"pip install -e \.(\s|$)", installs[0]), installs
    assert "[dev]" not in commands
    assert "--quiet" not in installs[0]  # pip's own lines show what it is doing
    assert re.search(r"echo .*installing .*minutes the first time", commands)
    assert "ipykernel install --sys-prefix --name zhengshou" in commands
    assert "zhengshou batch" in commands


@needs_make
def test_make_test_on_a_fresh_clone_installs_once_with_the_dev_extra(tmp_path):
    commands = _dry(_make_copy(tmp_path), "test")
    installs = _installs(commands)
    assert len(installs) == 1, commands  # one pip run: the dev extra includes the runtime
    assert "-e '.[dev]'" in installs[0]
    assert "ipykernel install --sys-prefix --name zhengshou" in commands
    assert "-m pytest" in commands


@needs_make
def test_make_test_after_make_report_adds_the_dev_extra(tmp_path):
    folder = _make_copy(tmp_path)
    _venv(folder, ".installed")  # make report ran
    installs = _installs(_dry(folder, "test"))
    assert len(installs) == 1 and "-e '.[dev]'" in installs[0], installs
    assert _installs(_dry(folder, "report")) == []


@needs_make
def test_nothing_is_installed_again_until_pyproject_changes(tmp_path):
    folder = _make_copy(tmp_path)
    _venv(folder, ".installed", ".installed-dev")  # make test ran
    assert _installs(_dry(folder, "test")) == []
    assert _installs(_dry(folder, "report")) == []
    os.utime(folder / "pyproject.toml")  # a dependency was added
    assert "[dev]" not in _installs(_dry(folder, "report"))[0]
    assert "[dev]" in _installs(_dry(folder, "test"))[0]


@needs_make
def test_lint_typecheck_and_bench_install_the_dev_extra(tmp_path):
    folder = _make_copy(tmp_path)
    _venv(folder, ".installed")
    for target in ("lint", "typecheck", "bench"):
        assert "[dev]" in _installs(_dry(folder, target))[0], target


def test_the_runtime_dependencies_hold_no_test_tool():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {re.split(r"[<>=!~; \[]", d)[0].lower() for d in project["dependencies"]}
    dev = {re.split(r"[<>=!~; \[]", d)[0].lower() for d in project["optional-dependencies"]["dev"]}
    assert runtime.isdisjoint(TEST_TOOLS)
    assert set(TEST_TOOLS) <= dev


@needs_make
def test_make_lab_opens_at_the_root_with_work(tmp_path):
    commands = _dry(_make_copy(tmp_path), "lab")
    assert f'jupyter lab --ServerApp.root_dir="{tmp_path}"' in commands
    assert "mkdir -p work" in commands
    assert "cp notebooks/20_progress.ipynb work/example_progress.ipynb" in commands
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/work/" in ignored and "/wheelhouse/" in ignored


@needs_make
def test_make_wheelhouse_downloads_for_both_platforms(tmp_path):
    commands = _dry(_make_copy(tmp_path), "wheelhouse")
    assert "tools/wheelhouse.py download wheelhouse" in commands
    assert _installs(commands) == []  # pip only: no runtime needed to download
    linux, windows = wh.TARGETS["linux"].pip_options(), wh.TARGETS["windows"].pip_options()
    for options in (linux, windows):
        assert options[:3] == ["--only-binary=:all:", "--python-version", "3.11"]
    assert "manylinux2014_x86_64" in linux and "win_amd64" in windows


# --- the kernel the notebooks declare ---------------------------------------------------------


def test_the_notebooks_declare_the_kernel_make_setup_installs():
    kernel = re.search(
        r"^KERNEL := (\S+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE
    )
    assert kernel, "KERNEL in the Makefile"
    for name in [*NOTEBOOKS, *MONTHLY_NOTEBOOKS]:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        assert nb.metadata.kernelspec.name == kernel.group(1), name


# --- pytest collects the tests and the report pages only --------------------------------------


def _notebook(path: Path, source: str = "1 + 1") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, path)


def test_stray_and_own_notebooks_are_never_collected(tmp_path):
    """``work/``, an ``Untitled.ipynb`` JupyterLab saved in ``notebooks/``, its checkpoints and
    the executed notebooks of ``reports/`` are not collected; the report pages are."""
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_one.py").write_text("def test_one():\n    pass\n")
    stray = [
        tmp_path / "work" / "mine.ipynb",
        tmp_path / "notebooks" / "Untitled.ipynb",
        tmp_path / "notebooks" / ".ipynb_checkpoints" / "20_progress-checkpoint.ipynb",
        tmp_path / "reports" / "2021" / "20_progress.ipynb",
        tmp_path / "data" / "x.ipynb",
    ]
    for p in stray:
        _notebook(p, "raise SystemExit('collected')")
    for args in ([], ["."]):  # testpaths, and the whole folder as a user might ask
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                *args,
            ],
            cwd=tmp_path,
            env=_code_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        files = {line.split("::")[0] for line in proc.stdout.splitlines() if "::" in line}
        expected = {f"notebooks/{n}.ipynb" for n in [*NOTEBOOKS, *MONTHLY_NOTEBOOKS]}
        assert files == expected | {"tests/test_one.py"}, (args, files)


def test_committed_notebooks_leave_out_what_jupyterlab_saves(tmp_path):
    from committed import committed_notebooks

    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    _notebook(tmp_path / "notebooks" / "00_page.ipynb")
    for args in (["init", "-q"], ["add", "notebooks/00_page.ipynb"]):
        subprocess.run([git, *args], cwd=tmp_path, check=True, capture_output=True)
    _notebook(tmp_path / "notebooks" / "Untitled.ipynb")
    _notebook(tmp_path / "notebooks" / ".ipynb_checkpoints" / "00_page-checkpoint.ipynb")
    assert committed_notebooks(tmp_path) == [tmp_path / "notebooks" / "00_page.ipynb"]


# --- paths of the notebooks resolve from the root as from notebooks/ --------------------------


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository layout: notebooks/, data/demo/ with a profile, and the notebooks folder
    named as the package finds it."""
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "data" / "demo").mkdir(parents=True)
    (root / "data" / "demo" / "zhengshou.toml").write_text("")
    monkeypatch.setenv("ZHENGSHOU_NOTEBOOK_DIR", str(root / "notebooks"))
    return root


def test_a_relative_data_dir_is_found_from_the_root_and_from_notebooks(repo, monkeypatch):
    demo = (repo / "data" / "demo").resolve()
    for cwd in (repo, repo / "notebooks"):
        monkeypatch.chdir(cwd)
        assert resolve_path("../data/demo") == demo, cwd  # the notebooks' default
        assert resolve_path("data/demo") == demo, cwd
        profile = resolve_path("data/demo/zhengshou.toml", what="profile_path")
        assert profile == demo / "zhengshou.toml"


def test_the_current_folder_wins(repo, monkeypatch):
    own = repo / "work" / "data" / "demo"
    own.mkdir(parents=True)
    monkeypatch.chdir(repo / "work")
    assert resolve_path("data/demo") == own.resolve()
    assert resolve_path("../data/demo") == (repo / "data" / "demo").resolve()


def test_an_absolute_path_is_taken_as_given(repo, tmp_path):
    missing = tmp_path / "nowhere"
    assert resolve_path(missing) == missing
    assert resolve_path("~") == Path.home()


def test_a_path_found_nowhere_names_every_place_looked_at(repo, monkeypatch):
    monkeypatch.chdir(repo / "notebooks")
    with pytest.raises(InputError, match="data_dir") as info:
        resolve_path("ledgers/2022")
    for place in (repo / "notebooks", repo):
        assert str((place / "ledgers" / "2022").resolve()) in str(info.value)


def test_load_report_finds_the_ledgers_from_the_repository_root(monkeypatch, small_raw, tmp_path):
    """``load_report("../data/…")`` run from the root (as papermill from there runs a page)."""
    from zhengshou_analysis.report.session import load_report

    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    shutil.copytree(small_raw, root / "data" / "ledgers")
    monkeypatch.setenv("ZHENGSHOU_NOTEBOOK_DIR", str(root / "notebooks"))
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(root)
    rep = load_report("../data/ledgers", year=2021)
    assert rep.year == 2021 and len(rep.tables["projects"])


@pytest.mark.slow
def test_papermill_runs_a_page_from_the_repository_root(tmp_path):
    """``papermill notebooks/20_progress.ipynb out.ipynb`` in the root, default parameters
    (``data_dir = "../data/demo"``) and the kernel the notebook declares."""
    out = tmp_path / "out.ipynb"
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", "notebooks/20_progress.ipynb", str(out)],
        cwd=ROOT,
        env=_code_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if "No such kernel" in proc.stderr:
        pytest.fail("the kernel 'zhengshou' is not installed: run `make setup`\n" + proc.stderr)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = json.loads(out.read_text(encoding="utf-8"))
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    html = "".join(
        "".join(o.get("data", {}).get("text/html", ""))
        for c in nb["cells"]
        for o in c.get("outputs", [])
    )
    assert "示例数据（模拟）" in html  # the demo, read from data/demo


# --- zhengshou report --page ------------------------------------------------------------------


def test_page_takes_a_name_a_file_name_or_a_path():
    from zhengshou_analysis.cli import build_parser

    for text in ("30_funding", "30_funding.ipynb", "notebooks/30_funding.ipynb"):
        args = build_parser().parse_args(["report", "--year", "2021", "--page", text])
        assert args.pages == ["30_funding"]
    args = build_parser().parse_args(["report", "--year", "2021"])
    assert args.pages is None


def test_an_unknown_page_is_refused_with_the_list(capsys):
    from zhengshou_analysis.cli import main

    with pytest.raises(SystemExit) as info:
        main(["report", "--year", "2021", "--page", "30_fundin"])
    assert info.value.code == 2
    assert "30_funding" in capsys.readouterr().err


def test_a_page_outside_the_period_catalogue_is_refused(capsys, tmp_path):
    from zhengshou_analysis.cli import main

    out = tmp_path / "reports"
    argv = ["report", "--year", "2021", "--data", str(ROOT / "data" / "demo"), "--out", str(out)]
    code = main([*argv, "--as-of", "2021-06-30", "--page", "30_funding"])
    assert code == 2
    err = capsys.readouterr().err
    assert "60_dispatch" in err and "month" in err
    assert not out.exists()


@pytest.mark.slow
def test_report_page_runs_one_page(small_raw, tmp_path, monkeypatch, capsys):
    from zhengshou_analysis.cli import main

    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ZHENGSHOU_NOTEBOOK_DIR", raising=False)
    out = tmp_path / "reports"
    argv = ["report", "--year", "2021", "--data", str(small_raw), "--out", str(out)]
    assert main([*argv, "--page", "30_funding"]) == 0
    assert sorted(p.name for p in (out / "2021").glob("*.html")) == ["30_funding.html"]
    runs = json.loads((out / "2021" / "runs.json").read_text(encoding="utf-8"))
    assert [k for k in runs if not k.startswith("_")] == ["30_funding"]
    assert runs["30_funding"]["status"] == "ok"
    assert "1 reports written" in capsys.readouterr().out


# --- the wheelhouse ---------------------------------------------------------------------------


def _report(*dists: tuple[str, str, list[str], list[str]]) -> dict:
    """A pip installation report: (name, version, requires_dist, requested_extras) per item."""
    return {
        "install": [
            {
                "metadata": {"name": n, "version": v, "requires_dist": r},
                "requested_extras": e,
            }
            for n, v, r, e in dists
        ]
    }


def test_unmet_requirements_follow_the_target_markers():
    report = _report(
        ("tqdm", "4.70.1", ['colorama; platform_system == "Windows"'], []),
        ("ipython", "9.1", ['pexpect>4.3; sys_platform != "win32"'], []),
        ("pexpect", "4.9.0", [], []),
    )
    linux, windows = wh.TARGETS["linux"].markers, wh.TARGETS["windows"].markers
    assert wh.unmet_requirements(report, linux) == []
    assert [str(r) for r in wh.unmet_requirements(report, windows)] == [
        'colorama; platform_system == "Windows"'
    ]


def test_unmet_requirements_follow_extras_asked_by_other_distributions():
    report = _report(
        ("nbconvert", "7.17", ["bleach[css]!=5.0.0"], []),
        ("bleach", "6.4.0", ['tinycss2<1.5,>=1.1.0; extra == "css"', "webencodings"], []),
        ("webencodings", "0.5", [], []),
        ("tinycss2", "1.5.1", [], []),
    )
    unmet = wh.unmet_requirements(report, wh.TARGETS["linux"].markers)
    assert [r.name for r in unmet] == ["tinycss2"]  # present, but outside <1.5


def _wheel(
    folder: Path, name: str, requires: tuple[str, ...] = (), tag: str = "py3-none-any"
) -> None:
    """A minimal wheel (metadata only) named ``name-1.0-<tag>.whl``."""
    dist = f"{name.replace('-', '_')}-1.0"
    meta = "Metadata-Version: 2.1\nName: {}\nVersion: 1.0\n{}".format(
        name, "".join(f"Requires-Dist: {r}\n" for r in requires)
    )
    wheel = f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"
    files = {f"{dist}.dist-info/METADATA": meta, f"{dist}.dist-info/WHEEL": wheel}
    files[f"{dist}.dist-info/RECORD"] = "".join(f"{f},,\n" for f in files) + (
        f"{dist}.dist-info/RECORD,,\n"
    )
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / f"{dist}-{tag}.whl", "w") as z:
        for path, text in files.items():
            z.writestr(path, text)


def test_check_finds_what_a_small_wheelhouse_lacks_per_platform(tmp_path):
    """pip resolves offline from the folder with each target's tags; the Windows-only
    requirement that pip (evaluating markers on this machine) skips is found missing."""
    house = tmp_path / "wheelhouse"
    _wheel(house, "zs-app", ("zs-lib>=1", 'zs-win; sys_platform == "win32"', "zs-ext"))
    _wheel(house, "zs-lib")
    _wheel(house, "zs-ext", tag="cp311-cp311-manylinux_2_17_x86_64")
    linux, windows = wh.TARGETS["linux"], wh.TARGETS["windows"]
    assert wh.check(house, linux, ["zs-app"]) == []
    problems = wh.check(house, windows, ["zs-app"])
    assert problems and "zs-ext" in problems[0]  # no Windows wheel for zs-ext
    _wheel(house, "zs-ext", tag="cp311-cp311-win_amd64")
    problems = wh.check(house, windows, ["zs-app"])
    assert problems and "zs-win" in "\n".join(problems)
    _wheel(house, "zs-win", tag="cp311-cp311-win_amd64")
    assert wh.check(house, windows, ["zs-app"]) == []
    assert wh.check(house, linux, ["zs-app"]) == []


@pytest.mark.slow
@pytest.mark.network
def test_make_wheelhouse_resolves_the_whole_runtime_for_linux_and_windows(tmp_path):
    """The real ``make wheelhouse`` download (about 420 MB; 2 minutes here, 4 on a busy machine),
    then the offline resolution of ``zhengshou-analysis`` (and of ``-e .``) for both platforms."""
    house = tmp_path / "wheelhouse"
    wh.download(house)  # what make wheelhouse runs (then the check below)
    for target in wh.TARGETS.values():
        assert wh.check(house, target) == [], target.name
    names = [p.name for p in house.glob("*.whl")]
    assert any(n.startswith("zhengshou_analysis-") for n in names)
    for package in ("pandas", "numpy", "pyarrow"):
        assert any(n.startswith(f"{package}-") and "win_amd64" in n for n in names), package
        assert any(n.startswith(f"{package}-") and "manylinux" in n for n in names), package
    # the README's install from the copied repository (builds offline from the folder's setuptools)
    report, error = wh.resolve_offline(house, wh.TARGETS["linux"], ["-e", str(ROOT)])
    assert report is not None, error
