"""Faults as an office's server meets them (issue 18): a full disk, a read-only or wrong output
location, two runs into one folder, a ledger saved mid-run. Clear words, nothing half-done.

The full-disk and read-only cases run on a real small file system (a tmpfs mounted for the test)
where the machine allows it (root with the mount capability, as in CI); elsewhere they are
skipped and the write-hook tests below, which raise ENOSPC inside the writers, still run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from zhengshou_analysis.exceptions import InputChangedError, OutputError
from zhengshou_analysis.ledger import outputs as clean_outputs
from zhengshou_analysis.ledger import store
from zhengshou_analysis.ledger.clean import clean_ledgers, write_clean_outputs
from zhengshou_analysis.report.batchkey import RECORD_NAME

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "zhengshou_analysis.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        timeout=1200,
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def _no_temporaries(folder: Path) -> list[str]:
    """Temporary files or folders a failed run would leave (staging, ``.x.tmp``, ``.x.ipynb``)."""
    left = []
    for p in folder.rglob(".*"):
        if p.name in (".zhengshou.lock", ".index_key", RECORD_NAME):  # state, not leftovers
            continue
        left.append(str(p))
    return left


def _assert_words(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr


@pytest.fixture
def small_disk(tmp_path):
    """Mount a tmpfs of a chosen size; skipped where the machine does not allow it."""
    mounts: list[Path] = []

    def mount(size_kb: int, *, read_only: bool = False) -> Path:
        if os.name == "nt" or os.geteuid() != 0:
            pytest.skip("mounting a small file system needs root; the write-hook tests cover it")
        where = tmp_path / f"disk{len(mounts)}"
        where.mkdir()
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)],
            check=False,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            pytest.skip(f"this machine does not allow a tmpfs mount: {proc.stderr.strip()}")
        mounts.append(where)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        return where

    yield mount
    for m in mounts:
        subprocess.run(["umount", "-l", str(m)], check=False)


def _fill(disk: Path, leave_bytes: int) -> None:
    """Fill ``disk`` until only ``leave_bytes`` are free."""
    free = shutil.disk_usage(disk).free
    with open(disk / "ballast.bin", "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))


# --- clean ------------------------------------------------------------------------------------


def test_a_full_disk_during_clean_leaves_the_previous_set(small_disk, tmp_path):
    disk = small_disk(4096)
    out = disk / "processed"
    first = _cli("clean", str(DEMO), "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = _digests(out)
    assert len(before) == 10  # six tables, the workbook, the log, the rejected rows, the manifest
    # a second set must fit beside the first until it replaces it: this disk has no room
    again = _cli("clean", str(DEMO), "--out", str(out))
    assert again.returncode == 2
    _assert_words(again, "磁盘空间不足", str(out), "MB", "--out")
    assert _digests(out) == before  # the previous set, whole
    assert sorted(p.name for p in disk.iterdir()) == ["processed"]  # no staging folder left


def test_a_read_only_location_is_said_before_any_work(small_disk):
    disk = small_disk(1024, read_only=True)
    proc = _cli("clean", str(DEMO), "--out", str(disk / "processed"))
    assert proc.returncode == 2
    _assert_words(proc, "只读", str(disk / "processed"))
    proc = _cli("batch", "--data", str(DEMO), "--out", str(disk / "reports"), "--years", "2021")
    assert proc.returncode == 1
    _assert_words(proc, "只读", str(disk / "reports"))


def test_an_output_path_that_is_a_file(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("mine", encoding="utf-8")
    for args, status in (
        (("clean", str(DEMO), "--out", str(target)), 2),
        (("batch", "--data", str(DEMO), "--out", str(target), "--years", "2021"), 1),
        (("clean", str(DEMO), "--out", str(target / "below")), 2),
    ):
        proc = _cli(*args)
        assert proc.returncode == status, proc.stderr
        _assert_words(proc, "是一个文件", "--out")
    assert target.read_text(encoding="utf-8") == "mine"


def test_clean_refuses_a_folder_holding_other_peoples_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.docx").write_bytes(b"keep me")
    proc = _cli("clean", str(DEMO), "--out", str(out))
    assert proc.returncode == 2
    _assert_words(proc, "notes.docx", "空文件夹")
    assert sorted(p.name for p in out.iterdir()) == ["notes.docx"]


def test_write_hook_a_full_disk_at_a_chosen_byte_keeps_the_previous_set(tmp_path, monkeypatch):
    """Where no small file system can be mounted: ENOSPC raised inside the CSV writer after
    half of the quality log is written, as a full disk would."""
    result = clean_ledgers(DEMO)
    out = tmp_path / "processed"
    write_clean_outputs(result, out)
    before = _digests(out)
    real = clean_outputs._write_csv

    def full_disk_midway(df, path):
        real(df, path)
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.truncate(size // 2)  # the bytes that fitted
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(clean_outputs, "_write_csv", full_disk_midway)
    with pytest.raises(OutputError, match="磁盘空间不足") as info:
        write_clean_outputs(result, out)
    assert info.value.errno == errno.ENOSPC
    assert _digests(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed"]


# --- batch ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_full_disk_during_the_batch(small_disk):
    disk = small_disk(4096)
    out = disk / "reports"
    first = _cli("batch", "--data", str(DEMO), "--out", str(out), "--years", "2021", "--jobs", "2")
    assert first.returncode == 0, first.stderr
    before = _digests(out)
    # the first batch's record (it holds the next batch's index) is removed by the forced batch
    # before it writes: its room is not the batch's
    (out / RECORD_NAME).unlink(missing_ok=True)
    _fill(disk, 150_000)  # less than one page
    again = _cli(
        "batch", "--data", str(DEMO), "--out", str(out), "--years", "2021", "--jobs", "2", "--force"
    )
    assert again.returncode == 1
    _assert_words(again, "磁盘空间不足", str(out), "MB")
    after = _digests(out)
    pages = [
        k
        for k in before
        if k.endswith((".html", ".docx", ".xlsx", "key_figures.json")) and k != "index.html"
    ]
    assert {k: after.get(k) for k in pages} == {k: before[k] for k in pages}
    # the index says which pages failed when it fits in what room the failed pages left (two
    # workers write at once, so that room varies from run to run); else it is the earlier one
    if after["index.html"] != before["index.html"]:
        assert "失败" in (out / "index.html").read_text(encoding="utf-8")
    # what did not complete is recorded as failed (when even that fits), so that the next batch
    # redoes it; else the record stays the earlier one (whose run keys no longer match)
    if after["2021/runs.json"] != before["2021/runs.json"]:
        state = json.loads((out / "2021" / "runs.json").read_text(encoding="utf-8"))
        assert {state[n]["status"] for n in state if not n.startswith("_")} == {"failed"}
    assert _no_temporaries(out) == []


@pytest.mark.slow
def test_write_hook_a_page_that_cannot_be_written_is_a_failed_run(tmp_path, monkeypatch):
    """A full disk while one page is written: that run fails in words, the others are written,
    the index marks it, and the next batch redoes it."""
    from zhengshou_analysis.report import batch

    out = tmp_path / "reports"
    two = ["10_data_quality", "20_progress"]
    batch.run_batch(data_dir=DEMO, out_dir=out, years=[2021], notebooks=two, jobs=1, progress=False)
    before = _digests(out)
    real = batch.atomic_write_text

    def no_room_for_progress(path: Path, text: str) -> None:
        if path.name == "20_progress.html":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, text)

    monkeypatch.setattr(batch, "atomic_write_text", no_room_for_progress)
    result = batch.run_batch(
        data_dir=DEMO,
        out_dir=out,
        years=[2021],
        notebooks=two,
        jobs=1,
        force=True,
        progress=False,
    )
    status = {r.notebook: r.status for r in result.runs}
    assert status == {"10_data_quality": "ok", "20_progress": "failed"}
    failed = result.failed[0]
    assert "磁盘空间不足" in (failed.error or "") and str(out / "2021") in (failed.error or "")
    after = _digests(out)
    assert after["2021/20_progress.html"] == before["2021/20_progress.html"]  # the old page stays
    state = json.loads((out / "2021" / "runs.json").read_text(encoding="utf-8"))
    assert state["20_progress"]["status"] == "failed"
    assert "失败" in (out / "index.html").read_text(encoding="utf-8")
    assert _no_temporaries(out) == []
    monkeypatch.setattr(batch, "atomic_write_text", real)
    redo = batch.run_batch(
        data_dir=DEMO, out_dir=out, years=[2021], notebooks=["20_progress"], jobs=1, progress=False
    )
    assert [(r.notebook, r.status) for r in redo.runs] == [("20_progress", "ok")]


# --- two runs, one folder -----------------------------------------------------------------


@pytest.mark.slow
def test_two_batches_into_one_folder_run_each_notebook_once(tmp_path):
    out = tmp_path / "reports"
    args = ["--data", str(DEMO), "--out", str(out), "--years", "2021", "--jobs", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "zhengshou_analysis.cli", "batch", *args]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=1200) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    summaries = sorted(o[0].splitlines()[0] for o in outputs)
    assert summaries == [
        "0 reports written, 6 unchanged (skipped), 0 failed",
        "6 reports written, 0 unchanged (skipped), 0 failed",
    ]
    waited = [o[1] for o in outputs if "另一个运行正在写入" in o[1]]
    assert len(waited) == 1
    other = procs[0].pid if "6 reports written" in outputs[0][0] else procs[1].pid
    assert f"PID {other}" in waited[0]
    assert _no_temporaries(out) == []


def test_no_wait_exits_at_once_naming_the_holder(tmp_path):
    from zhengshou_analysis.outfolder import folder_lock

    out = tmp_path / "reports"
    with folder_lock(out):
        proc = _cli("batch", "--data", str(DEMO), "--out", str(out), "--no-wait")
    assert proc.returncode == 1
    _assert_words(proc, f"PID {os.getpid()}", "开始于")
    assert sorted(p.name for p in out.iterdir()) == [".zhengshou.lock"]  # nothing was run


# --- a ledger saved mid-run -----------------------------------------------------------------


def _touch_ledger(path: Path, mark: str) -> None:
    """Change the file's bytes as a save in Excel does, without changing its cells."""
    with zipfile.ZipFile(path, "a") as z:
        z.comment = mark.encode()


@pytest.fixture
def demo_copy(tmp_path):
    data = tmp_path / "raw"
    shutil.copytree(DEMO, data)
    return data


def test_clean_reads_again_when_a_ledger_changes_once(demo_copy, monkeypatch, caplog):
    ledger = demo_copy / "过渡安置台账.xlsx"
    calls = []
    real = store.clean_ledgers

    def saved_during_the_first_read(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            _touch_ledger(ledger, "saved by a clerk")
        return result

    monkeypatch.setattr(store, "clean_ledgers", saved_during_the_first_read)
    with caplog.at_level(logging.WARNING):
        _result, digests = store.clean_unchanged(demo_copy)
    assert len(calls) == 2
    assert digests == store.raw_file_digests(demo_copy)  # the version that was cleaned
    assert "过渡安置台账.xlsx" in caplog.text


def test_clean_gives_up_when_a_ledger_keeps_changing(demo_copy, monkeypatch, tmp_path):
    ledger = demo_copy / "过渡安置台账.xlsx"
    real = store.clean_ledgers
    n = []

    def always_saved(*args, **kwargs):
        result = real(*args, **kwargs)
        n.append(1)
        _touch_ledger(ledger, f"save {len(n)}")
        return result

    monkeypatch.setattr(store, "clean_ledgers", always_saved)
    with pytest.raises(InputChangedError, match=r"过渡安置台账\.xlsx") as info:
        store.clean_unchanged(demo_copy)
    assert info.value.files == ("过渡安置台账.xlsx",)
    assert len(n) == 2


def test_a_changed_cell_saved_mid_clean_is_read_in_a_layout_the_demo_never_has(
    tmp_path, monkeypatch
):
    """A units row under a title, a total row and GBK/UTF-8-BOM CSVs (``ledger_builder``): the
    clerk changes an amount while the first clean reads; the result holds the amount as saved,
    with that file's new digest, never a mix of the two versions."""
    from ledger_builder import build_raw, write_csv

    raw = build_raw(tmp_path / "raw")
    funding = raw / "资金到位情况.csv"
    real = store.clean_ledgers
    calls = []

    def clerk_corrects_an_amount(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(result)
        if len(calls) == 1:
            write_csv(
                funding,
                [
                    ["XX区2021年征拆资金到位情况表"],
                    ["单位：万元"],
                    ["到账日期", "资金来源", "到位金额", "项目名称"],
                    ["2021-01-15", "市财政", "500", ""],
                    ["2021-06-30", "专项债券", "3.2亿", "南湖路征收"],
                    ["2021-12-20", "区财政", "2,000", ""],  # was 1,234.5 (万元)
                    ["合计", "", "34,500", ""],
                    ["注：示例数据"],
                ],
                encoding="utf-8-sig",
            )
        return result

    monkeypatch.setattr(store, "clean_ledgers", clerk_corrects_an_amount)
    result, digests = store.clean_unchanged(raw)
    assert len(calls) == 2
    first = calls[0].tables["funding"].set_index("funding_source")["amount_yuan"]
    final = result.tables["funding"].set_index("funding_source")["amount_yuan"]
    assert first["区财政"] == 12_345_000.0  # the version read first …
    assert final["区财政"] == 20_000_000.0  # … discarded for the version saved
    assert final["专项债券"] == 320_000_000.0
    assert digests["资金到位情况.csv"] == hashlib.sha256(funding.read_bytes()).hexdigest()
    assert digests == store.raw_file_digests(raw)


@pytest.mark.slow
def test_a_batch_discards_what_it_made_from_a_ledger_saved_mid_run(demo_copy, tmp_path):
    from zhengshou_analysis.report.batch import run_batch

    ledger = demo_copy / "过渡安置台账.xlsx"
    out = tmp_path / "reports"
    saves = []

    def clerk_saves(_run):
        saves.append(1)
        _touch_ledger(ledger, f"save {len(saves)}")

    with pytest.raises(InputChangedError, match=r"过渡安置台账\.xlsx"):
        run_batch(
            data_dir=demo_copy,
            out_dir=out,
            years=[2021],
            notebooks=["10_data_quality"],
            jobs=1,
            progress=False,
            on_run=clerk_saves,
        )
    assert len(saves) == 2  # run, discarded, run once more, discarded again
    assert not (out / "2021" / "10_data_quality.html").exists()
    assert not (out / "2021" / "key_figures.json").exists()
    assert _no_temporaries(out) == []
    # saved once only: the second run keeps the result of the ledger as it now is
    saves.clear()
    once = []

    def clerk_saves_once(_run):
        if not once:
            once.append(1)
            _touch_ledger(ledger, "final save")

    result = run_batch(
        data_dir=demo_copy,
        out_dir=out,
        years=[2021],
        notebooks=["10_data_quality"],
        jobs=1,
        progress=False,
        on_run=clerk_saves_once,
    )
    assert [(r.notebook, r.status) for r in result.runs] == [("10_data_quality", "ok")]
    assert (out / "2021" / "10_data_quality.html").is_file()
