"""A batch re-run with nothing changed (report/batchkey.py): answered at once, without pandas, with
the batch's own words; any change to what the batch reads or writes takes the full way.

One reports folder is made by the real ``zhengshou batch --years 2021`` with small notebooks (each
prints its parameters) on the hand-made ledgers: the first batch writes the six pages and records
what the next one writes (the pages' states turned to 未变化，沿用), the second answers at once and
writes those, the third answers at once and writes nothing. A copy of the folder after the first
batch is re-run the full way, the clock stopped, and must come out the same to the byte. Each
further test changes one thing, sees that the quick answer is refused, and puts it back (or lets
the full way settle the folder again).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

import zhengshou_analysis
from zhengshou_analysis.exceptions import BusyError, ParameterError
from zhengshou_analysis.ledger import store
from zhengshou_analysis.outfolder import folder_lock
from zhengshou_analysis.profile import load_profile
from zhengshou_analysis.report import batch as batch_module
from zhengshou_analysis.report import batchkey
from zhengshou_analysis.report import index as index_module
from zhengshou_analysis.report.batchkey import (
    RECORD_NAME,
    Unchanged,
    parse_years,
    unchanged_batch,
)
from zhengshou_analysis.report.catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS
from zhengshou_analysis.report.files import CITY_FOLDER, CITY_MARKER

ROOT = Path(__file__).resolve().parents[1]
#: The source tree this test session imports: the subprocess runs the same code.
SRC = Path(zhengshou_analysis.__file__).resolve().parents[1]
PROFILE = '[office]\nname = "测试区"\n'
#: The small notebooks' one cell besides the parameters.
CELL = "print('报告期', year, as_of or '年末')"
#: The clock while the module's folder is made: the first batch's time, then the re-runs' time
#: (stopped, so that the quick and the full way write the same); the time of the font subset
#: embedded in the index (fontTools reads ``SOURCE_DATE_EPOCH``; the quick way embeds the subset
#: made by the batch before it, whose time is that batch's).
FIRST, STOPPED = "2026-06-30T04:05:06+00:00", "2026-07-01T05:06:07+00:00"
FONT_EPOCH = "1782792306"


def _small_notebooks(folder: Path) -> Path:
    """Notebooks named as the catalogue's, each the real parameters cell and one print."""
    real = nbformat.read(ROOT / "notebooks" / "00_overview.ipynb", as_version=4)
    (params,) = [c for c in real.cells if "parameters" in c.metadata.get("tags", [])]
    folder.mkdir(parents=True)
    for name in [*NOTEBOOKS, *MONTHLY_NOTEBOOKS]:
        nb = nbformat.v4.new_notebook()
        nb.metadata = real.metadata
        nb.cells = [params, nbformat.v4.new_code_cell(CELL)]
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def _cli(*args: str) -> SimpleNamespace:
    """``zhengshou ARGS`` in this process: exit status, standard output and error."""
    from zhengshou_analysis.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return SimpleNamespace(code=code, out=out.getvalue(), err=err.getvalue())


@pytest.fixture(scope="module")
def folder(tmp_path_factory, small_raw):
    """A reports folder of 2021 after a batch that wrote it, the quick re-run that turned its
    states to unchanged, and a quick re-run that had nothing to write; beside it (``normal``) a
    copy after the first batch, without the record, re-run the full way. The clock is stopped
    (:data:`FIRST`, then :data:`STOPPED`), so that the re-runs' indexes carry the same time."""
    base = tmp_path_factory.mktemp("batchkey")
    raw = base / "ledgers"
    shutil.copytree(small_raw, raw)
    (raw / "zhengshou.toml").write_text(PROFILE, encoding="utf-8")
    f = SimpleNamespace(
        raw=raw,
        notebooks=_small_notebooks(base / "notebooks"),
        out=base / "reports",
        normal=base / "normal",
        env={
            "ZHENGSHOU_NOTEBOOK_DIR": str(base / "notebooks"),
            "ZHENGSHOU_CACHE_DIR": str(base / "cache"),
        },
    )
    f.args = ["batch", "--years", "2021", "--data", str(raw), "--out", str(f.out)]
    full_ways = []
    real_run_batch = batch_module.run_batch

    def counted(**kwargs):
        full_ways.append(Path(kwargs["out_dir"]).name)
        return real_run_batch(**kwargs)

    with pytest.MonkeyPatch.context() as mp:
        for k, v in f.env.items():
            mp.setenv(k, v)
        mp.setenv("SOURCE_DATE_EPOCH", FONT_EPOCH)
        clock = [FIRST]
        mp.setattr(index_module, "generated_now", lambda: clock[0])
        mp.setattr(batchkey, "generated_now", lambda: clock[0])
        mp.setattr(batch_module, "run_batch", counted)
        f.first = _cli(*f.args, "--jobs", "2")
        f.record_after_first = _record(f.out)
        f.after_first = _files(f.out)
        clock[0] = STOPPED
        shutil.copytree(f.out, f.normal)
        (f.normal / RECORD_NAME).unlink()
        f.second = _cli(*f.args)
        f.record_after_second = _record(f.out)
        f.after_second = _states(f.out)
        f.third = _cli(*f.args)
        f.after_third = _states(f.out)
        f.normal_second = _cli(*f.args[:-1], str(f.normal))
        f.full_ways = list(full_ways)
    return f


def _record(out: Path) -> dict | None:
    """The folder's record, ``None`` when there is none."""
    path = out / RECORD_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


#: Modules a batch answered from its record must not import (they cost the time it saves).
_HEAVY = ("pandas", "numpy", "matplotlib", "fontTools", "zhengshou_analysis.report.batch")


def _main_in_a_fresh_process(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``zhengshou`` with ``args`` in a new interpreter, which then prints on standard error
    ``HEAVY [...]``: the modules of :data:`_HEAVY` it imported."""
    script = (
        "import sys\n"
        "from zhengshou_analysis.cli import main\n"
        f"code = main({args!r})\n"
        f"heavy = sorted(m for m in {_HEAVY!r} if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    return _fresh_python(script)


def _fresh_python(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` run by a new interpreter with this checkout's package first on its path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _states(out: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file's bytes, modification time (ns) and file id (the lock and the record aside)."""
    found = {}
    for name, data in _files(out).items():
        st = (out / name).stat()
        found[name] = (data, st.st_mtime_ns, st.st_ino)
    return found


@pytest.fixture
def env(folder, monkeypatch):
    """The folder's notebooks and cache for this test."""
    for k, v in folder.env.items():
        monkeypatch.setenv(k, v)
    return folder


def _quick(f: SimpleNamespace, **changed) -> Unchanged | None:
    """:func:`unchanged_batch` for the folder's batch, with ``changed`` arguments."""
    kwargs = {
        "data_dir": f.raw,
        "out_dir": f.out,
        "profile": load_profile(raw_dir=f.raw),
        "years": [2021],
        "months": None,
        "as_of": None,
        "notebooks": None,
    }
    return unchanged_batch(**{**kwargs, **changed})


def _files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in (".zhengshou.lock", RECORD_NAME)
    }


def _settle(f: SimpleNamespace) -> SimpleNamespace:
    """The batch once more (the full way, or the quick answer after a batch that did work):
    nothing left to do; the quick answer is back."""
    result = _cli(*f.args)
    assert result.code == 0 and result.out.startswith("0 reports written, 6 unchanged"), result
    assert _quick(f) is not None
    return result


def _after_work(f: SimpleNamespace) -> dict:
    """One page made again by the full way (a batch that did work); its record."""
    (f.out / "2021" / "30_funding.html").unlink()
    result = _cli(*f.args)
    assert result.out.startswith("1 reports written, 5 unchanged (skipped), 0 failed\n"), result
    record = _record(f.out)
    assert record is not None and "then" in record
    return record


def test_parse_years():
    assert parse_years("2019-2021,2023", []) == [2019, 2020, 2021, 2023]
    assert parse_years(None, [2022, 2021, 2022]) == [2021, 2022]
    assert batch_module.parse_years is parse_years  # still importable from the batch
    with pytest.raises(ParameterError, match="2019-2022"):
        parse_years("2021-2019", [])


def test_what_the_quick_answer_imports_is_free_of_pandas():
    modules = [
        "zhengshou_analysis.cli",
        "zhengshou_analysis.profile",
        "zhengshou_analysis.ledger.store",
        "zhengshou_analysis.report.batchkey",
        "zhengshou_analysis.report.districts",
    ]
    script = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "from zhengshou_analysis.profile import load_profile\n"
        f"load_profile(raw_dir={str(ROOT / 'data' / 'demo')!r})\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))\n"
    )
    proc = _fresh_python(script)
    assert (proc.returncode, proc.stdout) == (0, "[]\n"), proc.stderr


@pytest.mark.slow
def test_a_batch_that_did_work_records_what_the_next_one_writes(folder):
    assert folder.first.code == 0, folder.first
    assert folder.first.out.startswith("6 reports written, 0 unchanged (skipped), 0 failed\n")
    record = folder.record_after_first
    assert record is not None and record["skipped"] == 6
    # its runs say "ok" (已生成): the next batch turns them to "skipped" and so rewrites the index
    assert [path for path, _, _ in record["then"]] == [
        "2021/runs.json",
        "index.html",
        "provenance.json",
        ".index_key",
    ]
    states = json.loads(folder.after_first["2021/runs.json"])
    assert {states[n]["status"] for n in NOTEBOOKS} == {"ok"}


@pytest.mark.slow
def test_the_first_re_run_after_work_leaves_what_the_full_way_leaves(folder):
    # the full way ran for the first batch and for the copy only; the re-runs answered at once
    assert folder.full_ways == ["reports", "normal"]
    assert folder.second.code == 0 and folder.second.err == ""
    assert folder.second.out.startswith("0 reports written, 6 unchanged (skipped), 0 failed\n")
    normal_words = folder.normal_second.out.replace(str(folder.normal), str(folder.out))
    assert (folder.normal_second.code, normal_words) == (0, folder.second.out)
    quick = {name: data for name, (data, _, _) in folder.after_second.items()}
    assert quick == _files(folder.normal)  # every file, to the byte (the clock stopped)
    assert STOPPED in quick["provenance.json"].decode("utf-8")  # the re-run's time, not the first
    states = json.loads(quick["2021/runs.json"])
    assert {states[n]["status"] for n in NOTEBOOKS} == {"skipped"}
    assert "未变化，沿用" in quick["index.html"].decode("utf-8")
    assert "已生成" not in quick["index.html"].decode("utf-8")
    # the record now lists the folder as it is, with nothing more to write
    assert folder.record_after_second is not None and "then" not in folder.record_after_second
    normal_record = _record(folder.normal)  # the full way records the folder it leaves
    assert normal_record is not None and "then" not in normal_record
    assert folder.record_after_second["files"].keys() == normal_record["files"].keys()


@pytest.mark.slow
def test_the_second_re_run_writes_nothing(folder):
    assert folder.third.out == folder.second.out
    assert folder.after_third == folder.after_second  # bytes, times and file ids


@pytest.mark.slow
def test_an_unchanged_batch_answers_at_once_with_the_same_words_and_without_pandas(env):
    before = _files(env.out)
    proc = _main_in_a_fresh_process(env.args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "HEAVY []\n"  # nothing else on standard error, as the full way
    assert env.second.err == ""
    assert proc.stdout == env.second.out  # "0 reports written, 6 unchanged … index: …"
    assert _files(env.out) == before


@pytest.mark.slow
def test_the_quick_answer_says_what_the_full_way_says(env):
    quick = _cli(*env.args)
    full = env.normal_second.out.replace(str(env.normal), str(env.out))
    assert (quick.code, quick.out, quick.err) == (0, full, "")
    assert _quick(env) == Unchanged(6, env.out.resolve() / "index.html")


def _append_space(path: Path) -> bytes:
    old = path.read_bytes()
    path.write_bytes(old + b" ")
    return old


@pytest.mark.slow
@pytest.mark.parametrize(
    "what", ["ledger byte", "ledger added", "profile", "notebook", "city", "code"]
)
def test_a_changed_input_takes_the_full_way(env, what):
    assert _quick(env) is not None
    ledger = min(env.raw.glob("*.csv"))
    notebook = env.notebooks / "30_funding.ipynb"
    marker = env.out.parent / CITY_FOLDER / CITY_MARKER
    undo: list = []
    if what == "ledger byte":
        old = _append_space(ledger)
        undo.append(lambda: ledger.write_bytes(old))
    elif what == "ledger added":
        extra = env.raw / "补充台账.csv"
        extra.write_bytes(ledger.read_bytes())
        undo.append(extra.unlink)
    elif what == "profile":
        (env.raw / "zhengshou.toml").write_text(PROFILE.replace("测试区", "另一区"), "utf-8")
        undo.append(lambda: (env.raw / "zhengshou.toml").write_text(PROFILE, "utf-8"))
    elif what == "notebook":
        old_nb = _append_space(notebook)
        undo.append(lambda: notebook.write_bytes(old_nb))
    elif what == "city":  # the folder became a district of a city: its pages link up
        marker.parent.mkdir()
        marker.write_text("", encoding="utf-8")
        undo.append(lambda: shutil.rmtree(marker.parent))
    else:
        patch = pytest.MonkeyPatch()
        patch.setattr(store, "code_fingerprint", lambda: "another package source")
        undo.append(patch.undo)
    try:
        assert _quick(env) is None
    finally:
        for step in undo:
            step()
    assert _quick(env) is not None  # put back: the record holds again


@pytest.mark.slow
@pytest.mark.parametrize(
    "changed",
    [
        {"years": [2020, 2021]},
        {"years": None},
        {"months": "2021-06"},
        {"as_of": "2021-06-15"},
        {"notebooks": ["00_overview"]},
        {"seed": 7},
        {"horizon_months": 6},
        {"extra_parameters": {"title": "x"}},
        {"notebook_dir": ROOT / "notebooks"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_other_arguments_take_the_full_way(env, changed):
    assert _quick(env, **changed) is None


@pytest.mark.slow
def test_force_takes_the_full_way(env, monkeypatch):
    calls = []

    def not_asked(**kw):
        raise AssertionError("--force must not ask for the quick answer")

    def full_way(**kw):
        calls.append(kw["force"])
        return batch_module.BatchResult([], env.out / "index.html")

    monkeypatch.setattr(batchkey, "unchanged_batch", not_asked)
    monkeypatch.setattr(batch_module, "run_batch", full_way)
    assert _cli(*env.args, "--force").code == 0
    assert calls == [True]


@pytest.mark.slow
def test_a_missing_page_is_made_again_by_the_full_way(env):
    page = env.out / "2021" / "30_funding.html"
    page.unlink()
    assert _quick(env) is None
    result = _cli(*env.args)
    assert result.code == 0
    assert result.out.startswith("1 reports written, 5 unchanged (skipped), 0 failed\n")
    assert "报告期 2021" in page.read_text(encoding="utf-8")
    runs = json.loads((env.out / "2021" / "runs.json").read_text(encoding="utf-8"))
    assert runs["30_funding"]["status"] == "ok"
    # it did work: its run says "ok", and the record says what the next batch writes
    assert "then" in (_record(env.out) or {})
    _settle(env)
    runs = json.loads((env.out / "2021" / "runs.json").read_text(encoding="utf-8"))
    assert runs["30_funding"]["status"] == "skipped"


@pytest.mark.slow
def test_a_rewritten_page_or_figure_file_takes_the_full_way(env):
    page = env.out / "2021" / "00_overview.html"
    st = page.stat()
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert _quick(env) is None
    figures = env.out / "2021" / "key_figures.json"
    figures.write_bytes(figures.read_bytes())  # the same bytes, another file
    assert _quick(env) is None
    _settle(env)


@pytest.mark.slow
def test_leftovers_of_a_killed_batch_are_removed_by_the_full_way(env):
    staging = env.out / ".staging-999999999-abc"
    staging.mkdir()
    temporary = env.out / "2021" / ".00_overview.html.x1.tmp"
    temporary.write_text("half", encoding="utf-8")
    assert _quick(env) is None
    _settle(env)
    assert not staging.exists() and not temporary.exists()


@pytest.mark.slow
def test_a_notebook_saved_during_the_batch_leaves_no_record(env):
    notebook = env.notebooks / "20_progress.ipynb"
    real = batch_module.execute_tasks
    old: list[bytes] = []

    def saved_meanwhile(*args, **kwargs):
        old.append(_append_space(notebook))
        return real(*args, **kwargs)

    (env.out / RECORD_NAME).unlink()  # the full way, which records at its end
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batch_module, "execute_tasks", saved_meanwhile)
        try:
            result = _cli(*env.args)
        finally:
            notebook.write_bytes(old[0])
    # planned with the old bytes, all unchanged; but what it saw is not what is there now
    assert result.out.startswith("0 reports written, 6 unchanged")
    assert not (env.out / RECORD_NAME).exists()
    _settle(env)


@pytest.mark.slow
def test_the_quick_answer_waits_for_the_folder_s_lock(env):
    with folder_lock(env.out, what="another batch"):
        with pytest.raises(BusyError):
            _quick(env, wait=False)
        result = _cli(*env.args, "--no-wait")
    assert result.code == 1 and "--no-wait" in result.err
    assert _quick(env) is not None


@pytest.mark.slow
def test_the_first_re_run_after_work_writes_the_states_without_pandas(env):
    _after_work(env)
    before = _states(env.out)
    proc = _main_in_a_fresh_process(env.args)
    assert (proc.returncode, proc.stderr) == (0, "HEAVY []\n"), proc.stderr
    assert proc.stdout.startswith("0 reports written, 6 unchanged (skipped), 0 failed\n")
    after = _states(env.out)
    written = sorted(name for name in after if after[name] != before[name])
    assert written == [".index_key", "2021/runs.json", "index.html", "provenance.json"]
    runs = json.loads((env.out / "2021" / "runs.json").read_text(encoding="utf-8"))
    assert runs["30_funding"]["status"] == "skipped"
    assert "then" not in (_record(env.out) or {"then": "no record"})
    assert _quick(env) is not None


@pytest.mark.slow
@pytest.mark.parametrize("changed", [{"seed": 7}, {"years": [2020, 2021]}], ids=str)
def test_after_work_another_batch_writes_nothing_quick(env, changed):
    _after_work(env)
    before = _states(env.out)
    assert _quick(env, **changed) is None
    assert _states(env.out) == before  # the states stay "ok" until a batch settles them
    assert "then" in (_record(env.out) or {})
    _settle(env)


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["disk", "record"])
def test_a_first_re_run_that_cannot_write_leaves_it_to_the_full_way(env, monkeypatch, fault):
    record = _after_work(env)
    if fault == "disk":  # the second file cannot be written (a full disk)
        real = batchkey.atomic_write_text
        count = []

        def full_disk(path: Path, text: str) -> None:
            count.append(path)
            if len(count) == 2:
                raise OSError(28, "No space left on device", str(path))
            real(path, text)

        monkeypatch.setattr(batchkey, "atomic_write_text", full_disk)
    else:  # a record naming a file outside the folder: nothing is written
        record["then"].insert(0, ["../outside.txt", ["x"], ""])
        (env.out / RECORD_NAME).write_text(json.dumps(record), encoding="utf-8")
    assert _quick(env) is None
    assert not (env.out / RECORD_NAME).exists()  # the record does not outlive the folder's state
    assert not (env.out.parent / "outside.txt").exists()
    monkeypatch.undo()
    for k, v in env.env.items():
        monkeypatch.setenv(k, v)
    result = _settle(env)  # the full way: nothing to run, the states turned to unchanged
    assert result.out.startswith("0 reports written, 6 unchanged (skipped), 0 failed\n")
    runs = json.loads((env.out / "2021" / "runs.json").read_text(encoding="utf-8"))
    assert {runs[n]["status"] for n in NOTEBOOKS} == {"skipped"}
    assert "已生成" not in (env.out / "index.html").read_text(encoding="utf-8")
