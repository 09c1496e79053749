"""An output folder: all-or-nothing sets, one writer at a time, faults in words (outfolder.py)."""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from zhengshou_analysis.exceptions import BusyError, OutputError
from zhengshou_analysis.outfolder import (
    LOCK_NAME,
    apply_umask,
    check_output_folder,
    folder_lock,
    output_error,
    remove_stale_temporaries,
    staged_folder,
)

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions and signals")


def _write_set(folder: Path, text: str) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(text, encoding="utf-8")


def test_staged_folder_replaces_the_whole_set(tmp_path):
    target = tmp_path / "out"
    with staged_folder(target) as stage:
        _write_set(stage, "one")
    with staged_folder(target) as stage:
        (stage / "a.txt").write_text("two", encoding="utf-8")
    # the new set is exactly what was written: b and c of the old set are gone
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old folder left


def test_a_failure_midway_leaves_the_previous_set(tmp_path):
    target = tmp_path / "out"
    with staged_folder(target) as stage:
        _write_set(stage, "old")

    def disk_fills_up() -> None:
        with staged_folder(target) as stage:
            (stage / "a.txt").write_text("new", encoding="utf-8")
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputError, match="磁盘空间不足") as info:
        disk_fills_up()
    assert {p.name: p.read_text(encoding="utf-8") for p in target.iterdir()} == {
        "a.txt": "old",
        "b.txt": "old",
        "c.txt": "old",
    }
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert str(target) in str(info.value)
    assert info.value.errno == errno.ENOSPC


def test_an_error_that_is_not_a_write_fault_passes_through_and_cleans_up(tmp_path):
    target = tmp_path / "out"

    def bug() -> None:
        with staged_folder(target) as stage:
            (stage / "a.txt").write_text("x", encoding="utf-8")
            raise KeyError("bug")

    with pytest.raises(KeyError):
        bug()
    assert list(tmp_path.iterdir()) == []


def test_a_folder_with_other_files_is_never_swapped_away(tmp_path):
    target = tmp_path / "home"
    target.mkdir()
    (target / "论文.docx").write_bytes(b"precious")
    (target / "a.txt").write_text("ours", encoding="utf-8")
    with (
        pytest.raises(OutputError, match=r"论文\.docx"),
        staged_folder(target, ours=lambda p: p.name.endswith(".txt")),
    ):
        pass
    assert (target / "论文.docx").read_bytes() == b"precious"


def test_a_file_where_the_folder_should_be(tmp_path):
    target = tmp_path / "out"
    target.write_text("not a folder", encoding="utf-8")
    with pytest.raises(OutputError, match="是一个文件"):
        check_output_folder(target)
    with pytest.raises(OutputError, match="是一个文件"), staged_folder(target):
        pass
    with pytest.raises(OutputError, match="是一个文件"):
        check_output_folder(target / "below")  # a parent is a file: ENOTDIR
    assert target.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "磁盘空间不足"),
        (errno.EROFS, "只读"),
        (errno.EACCES, "没有写入权限"),
        (errno.ENOENT, "不存在或已不可用"),
        (errno.ENOTDIR, "是一个文件"),
        (errno.EIO, "无法写入"),
    ],
)
def test_every_fault_is_said_in_words_with_the_path_and_what_to_do(tmp_path, code, words):
    error = output_error(OSError(code, os.strerror(code)), tmp_path / "reports")
    assert words in str(error)
    assert str(tmp_path / "reports") in str(error)
    assert "--out" in str(error)  # what to do
    assert "Traceback" not in str(error) and "Errno" not in str(error)


def test_a_full_disk_names_the_megabytes_to_free(tmp_path):
    error = output_error(OSError(errno.ENOSPC, "full"), tmp_path, needed_bytes=50 * 1024 * 1024)
    assert "约需 50 MB" in str(error)
    assert "再释放至少" in str(error)


def test_temporaries_of_dead_runs_are_removed_those_of_live_runs_kept(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(dead.stdout)
    (tmp_path / f".out.tmp-{dead_pid}-abc").mkdir()
    (tmp_path / f".out.tmp-{os.getppid()}-def").mkdir()  # the test runner's parent: alive
    (tmp_path / "out").mkdir()
    removed = remove_stale_temporaries(tmp_path, ".out.tmp-")
    assert [p.name for p in removed] == [f".out.tmp-{dead_pid}-abc"]
    assert (tmp_path / f".out.tmp-{os.getppid()}-def").is_dir()
    assert (tmp_path / "out").is_dir()


@posix_only
def test_files_get_the_permissions_the_umask_allows(tmp_path):
    old = os.umask(0o002)
    try:
        from zhengshou_analysis import outfolder

        outfolder._umask.cache_clear()
        target = tmp_path / "shared"
        with staged_folder(target) as stage:
            (stage / "a.txt").write_text("x", encoding="utf-8")
            apply_umask(stage / "a.txt")
        assert (target.stat().st_mode & 0o777) == 0o775  # colleagues in the group can enter
        assert ((target / "a.txt").stat().st_mode & 0o777) == 0o664
    finally:
        os.umask(old)
        outfolder._umask.cache_clear()


# --- one writer -------------------------------------------------------------------------------


def test_no_wait_names_the_holder(tmp_path):
    with folder_lock(tmp_path, what="zhengshou batch") as mine:
        holder = json.loads((tmp_path / LOCK_NAME).read_text(encoding="utf-8"))
        assert holder["pid"] == os.getpid() == mine["pid"]
        with (
            pytest.raises(BusyError, match=f"PID {os.getpid()}") as info,
            folder_lock(tmp_path, wait=False),
        ):
            pass
        assert info.value.holder["pid"] == os.getpid()
        assert "开始于" in str(info.value) and "--no-wait" in str(info.value)
    # released: the next run takes it at once, and the record is cleared
    assert (tmp_path / LOCK_NAME).read_text(encoding="utf-8") == ""
    with folder_lock(tmp_path, wait=False) as rec:
        assert "took_over" not in rec


def test_a_second_writer_waits_and_is_told_who_holds_the_lock(tmp_path):
    order: list[str] = []
    told: list[dict] = []
    first_holds = threading.Event()
    release = threading.Event()

    def first() -> None:
        with folder_lock(tmp_path):
            order.append("first in")
            first_holds.set()
            release.wait(10)
            order.append("first out")

    t = threading.Thread(target=first)
    t.start()
    first_holds.wait(10)

    def second() -> None:
        with folder_lock(tmp_path, on_wait=told.append, poll_seconds=0.05):
            order.append("second in")

    t2 = threading.Thread(target=second)
    t2.start()
    while not told:  # the second one has found the lock held and said so
        time.sleep(0.01)
    release.set()
    t.join(10)
    t2.join(10)
    assert order == ["first in", "first out", "second in"]
    assert told[0]["pid"] == os.getpid()


@posix_only
def test_the_lock_of_a_killed_run_is_taken_over_with_a_note(tmp_path, caplog):
    src = Path(__file__).resolve().parents[1] / "src"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                sys.path.insert(0, {str(src)!r})
                from zhengshou_analysis.outfolder import folder_lock
                with folder_lock({str(tmp_path)!r}):
                    print("held", flush=True)
                    time.sleep(600)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(BusyError, match=f"PID {holder.pid}"), folder_lock(tmp_path, wait=False):
        pass
    holder.kill()  # SIGKILL: no finally runs, the record stays in the file
    holder.wait(10)
    with caplog.at_level(logging.WARNING), folder_lock(tmp_path, wait=False) as rec:
        assert rec["took_over"]["pid"] == holder.pid
    assert f"PID {holder.pid}" in caplog.text and "without releasing" in caplog.text
