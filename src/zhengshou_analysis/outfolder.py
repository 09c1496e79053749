"""An output folder: written whole or not at all, by one run at a time, its faults in plain words.

Three guarantees for every folder the package writes (``zhengshou clean``'s tables, a reports
folder), each with one owner here:

* **All or nothing** (:func:`staged_folder`): an output *set* is written into a temporary folder
  beside its target (``.<name>.tmp-<pid>-…``) and renamed into place only when every file is
  written. The previous set is renamed aside first and removed after, so a failure at any point
  leaves the previous set or (between the two renames, for an instant) nothing, never a mixture.
  Temporary folders of a run that was killed are removed by the next run.
* **One writer** (:func:`folder_lock`): a run that writes into a folder holds an operating-system
  lock on ``<folder>/.zhengshou.lock`` (``fcntl.flock`` on Linux, ``msvcrt.locking`` on Windows).
  The system releases it when the process ends *however* it ends (SIGKILL, power-off of a session),
  so a stale lock never blocks anyone; the file also records the holder (PID, start time in Beijing
  time, host), which the next run names when it waits, and notes when it takes over from a run
  that ended without releasing. A lock on a network share is only as good as the share's locking
  (SMB honours it; some NFS set-ups do not): give each office its own output folder there.
* **Clear words** (:func:`output_error`, :func:`translated_os_errors`): a full disk, a read-only or
  missing location, a file where a folder should be, a permission error or a file held open by
  another program becomes an :class:`~zhengshou_analysis.exceptions.OutputError` whose message
  names the path and what to do (free N MB, choose another folder, close the file), never a
  traceback.

Files are written with the permissions the user's umask allows (:func:`apply_umask`), so that
colleagues can read a reports folder on a shared drive when the umask lets them (``umask 002``).
"""

from __future__ import annotations

import datetime as dt
import errno as errno_codes
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

from .exceptions import BusyError, OutputError

__all__ = [
    "LOCK_NAME",
    "apply_umask",
    "check_output_folder",
    "describe_holder",
    "folder_lock",
    "folder_size",
    "output_error",
    "remove_stale_temporaries",
    "staged_folder",
    "translated_os_errors",
]

log = logging.getLogger(__name__)

#: The lock file of an output folder (hidden; kept, emptied when released).
LOCK_NAME = ".zhengshou.lock"
#: Where the Windows lock sits: one byte far past the holder's record, which stays readable.
_WIN_LOCK_OFFSET = 1 << 20
_MB = 1024 * 1024
_BEIJING = dt.timezone(dt.timedelta(hours=8))


# --- clear words ------------------------------------------------------------------------------


def _existing_ancestor(path: Path) -> Path:
    """``path`` or its nearest existing parent (where the free space is measured)."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _free_mb(path: Path) -> float | None:
    try:
        return shutil.disk_usage(_existing_ancestor(path)).free / _MB
    except OSError:
        return None


def folder_size(path: str | os.PathLike) -> int:
    """Bytes of the files under ``path`` (0 when it does not exist); unreadable entries count 0."""
    total = 0
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    for root, _dirs, files in os.walk(p):
        for name in files:
            with suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_size
    return total


def output_error(
    exc: OSError, path: str | os.PathLike, *, needed_bytes: int | None = None
) -> OutputError:
    """The :class:`OutputError` a user reads for an :class:`OSError` met while writing ``path``.

    Parameters
    ----------
    exc
        The error (its ``errno`` decides the words; its own ``filename``, when set, is the file
        named).
    path
        The output location being written (a file or a folder).
    needed_bytes
        An estimate of the space the output set needs (for a full disk: "free at least N MB").

    Returns
    -------
    OutputError
        With ``path`` and ``errno`` set; raise it ``from exc``.
    """
    where = Path(exc.filename) if getattr(exc, "filename", None) else Path(path)
    code = exc.errno
    if code in (errno_codes.ENOSPC, getattr(errno_codes, "EDQUOT", -1)):
        free = _free_mb(where)
        need = max(1, -(-(needed_bytes or 0) // _MB))
        short = max(1, need - int(free or 0))
        free_text = f"，该磁盘现有 {free:,.0f} MB 可用" if free is not None else ""
        message = (
            f"磁盘空间不足：写入 {where} 时磁盘已满。这组输出约需 {need:,} MB{free_text}："
            f"请在该磁盘上再释放至少 {short:,} MB，或用 --out 选择空间足够的另一个文件夹后重试。"
            "之前的输出保持原样，本次未写完的临时文件已删除。"
        )
    elif code == errno_codes.EROFS:
        message = (
            f"输出位置是只读的：{where} 所在的磁盘或共享文件夹不允许写入。"
            "请用 --out 选择一个可写的文件夹（或请管理员开放写权限）后重试。"
        )
    elif code in (errno_codes.EACCES, errno_codes.EPERM):
        message = (
            f"没有写入权限：{where}。请用 --out 选择您有写权限的文件夹，"
            "或请管理员开放权限；若文件正被其他程序打开（例如在 Excel 或 Word 中），请关闭后重试。"
        )
    elif code in (errno_codes.ENOTDIR, errno_codes.EEXIST) or isinstance(exc, FileExistsError):
        message = (
            f"输出位置 {Path(path)} 或其上级是一个文件，不是文件夹。"
            "请用 --out 指定一个文件夹（不存在时会自动创建）。"
        )
    elif code == errno_codes.ENOENT:
        message = (
            f"输出位置不存在或已不可用：{where}（共享盘断开或文件夹被删除？）。"
            "请确认该位置可以访问，或用 --out 选择另一个文件夹后重试。"
        )
    else:
        message = (
            f"无法写入 {where}：{exc.strerror or exc}。"
            "请确认该位置可以访问且有写权限，或用 --out 选择另一个文件夹后重试。"
        )
    return OutputError(message, path=str(where), errno=code)


@contextmanager
def translated_os_errors(
    path: str | os.PathLike, *, needed_bytes: Callable[[], int] | int | None = None
) -> Iterator[None]:
    """Turn an :class:`OSError` raised inside the block into an :class:`OutputError`.

    Parameters
    ----------
    path
        The output location the block writes (named in the message when the error names no file).
    needed_bytes
        The space the output needs, or a function computing it after the failure (for example
        the size of the previous set), for the "free N MB" advice.
    """
    try:
        yield
    except OSError as exc:
        need = needed_bytes() if callable(needed_bytes) else needed_bytes
        raise output_error(exc, path, needed_bytes=need) from exc


def check_output_folder(path: str | os.PathLike, *, create: bool = True) -> Path:
    """Check, before any work, that the output folder can be written (and create it).

    Parameters
    ----------
    path
        The output folder.
    create
        Create it (and its parents) and prove it writable with a probe file (``True``), or only
        look, creating nothing (``False``: for a folder that may turn out to be refused, such as
        one inside the read-only raw folder): the nearest existing folder must be writable.

    Returns
    -------
    pathlib.Path
        The folder, absolute.

    Raises
    ------
    OutputError
        When ``path`` (or a parent) is a file, or the location is read-only, missing or not
        writable; the message says what to do.
    """
    out = Path(path).absolute()
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"输出位置 {out} 是一个文件，不是文件夹。请用 --out 指定一个文件夹"
            "（不存在时会自动创建），或移走这个文件。",
            path=str(out),
            errno=errno_codes.EEXIST,
        )
    if not create:
        nearest = _existing_ancestor(out)
        if not nearest.is_dir():
            raise output_error(OSError(errno_codes.ENOTDIR, "Not a directory"), out)
        if hasattr(os, "statvfs") and os.statvfs(nearest).f_flag & os.ST_RDONLY:
            raise output_error(OSError(errno_codes.EROFS, "Read-only file system"), out)
        if not os.access(nearest, os.W_OK):
            raise output_error(OSError(errno_codes.EACCES, "Permission denied"), out)
        return out
    with translated_os_errors(out):
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    return out


# --- permissions ------------------------------------------------------------------------------


@cache
def _umask() -> int:
    """The process's umask (read once: setting it is process-wide, reading it needs a set)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_umask(path: str | os.PathLike, *, folder: bool = False) -> None:
    """Give ``path`` the permissions a normally created file (or folder) would have.

    :func:`tempfile.mkstemp` and :func:`tempfile.mkdtemp` create private (0600/0700) entries; a
    file renamed into place from them would stay unreadable for colleagues on a shared drive even
    with ``umask 002``. On Windows only the read-only flag exists and nothing changes.
    """
    if os.name == "nt":
        return
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


# --- all or nothing ---------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    import psutil

    return bool(psutil.pid_exists(pid))


def remove_stale_temporaries(parent: str | os.PathLike, prefix: str) -> list[Path]:
    """Remove ``<parent>/<prefix><pid>-…`` entries left by runs that no longer exist.

    Parameters
    ----------
    parent
        The folder holding the temporaries.
    prefix
        Their name up to the PID (``.data.tmp-``); the PID follows, then ``-`` and a random part.

    Returns
    -------
    list of pathlib.Path
        What was removed (an entry of a live process is kept: it is still being written).
    """
    removed: list[Path] = []
    p = Path(parent)
    if not p.is_dir():
        return removed
    for entry in p.iterdir():
        if not entry.name.startswith(prefix):
            continue
        pid_text = entry.name[len(prefix) :].split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and _pid_alive(int(pid_text)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
        log.info("removed %s, left by a run that ended without finishing", entry)
    return removed


@contextmanager
def staged_folder(
    target: str | os.PathLike, *, ours: Callable[[Path], bool] | None = None
) -> Iterator[Path]:
    """Write an output set into a temporary folder and rename it to ``target`` when all is written.

    Parameters
    ----------
    target
        The output folder (its parent is created when missing).
    ours
        Which entries of an existing ``target`` this output set replaces (``None``: every entry).
        An existing ``target`` holding anything else is refused, so that a mistyped ``--out``
        (a home folder, a project folder) is never swapped away with other people's files.

    Yields
    ------
    pathlib.Path
        The temporary folder to write into (beside ``target``, on the same disk).

    Raises
    ------
    OutputError
        When ``target`` is a file, holds files not ``ours``, or cannot be written (full disk,
        read-only, no permission, a file held open on Windows); the previous set stays and the
        temporary folder is removed.

    Notes
    -----
    The previous set is renamed aside, the new one renamed into place, then the previous one
    removed: two renames of one folder each, atomic on one file system. A crash between the two
    leaves no set at ``target`` and the complete previous one at ``.<name>.old-<pid>-…``
    (removed by the next run), never a mixture.
    """
    out = Path(target).absolute()
    if out.exists() and not out.is_dir():
        check_output_folder(out)  # raises: a file where the folder should be
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if ours is not None and not ours(p))
        if foreign:
            shown = "、".join(foreign[:5]) + ("等" if len(foreign) > 5 else "")
            raise OutputError(
                f"输出文件夹 {out} 里有不是本命令写的文件（{shown}）：为不覆盖别人的文件，"
                "请用 --out 指定一个空文件夹或本命令以前的输出文件夹。",
                path=str(out),
            )
    previous = folder_size(out)
    staging: Path | None = None
    with translated_os_errors(out, needed_bytes=lambda: max(previous, folder_size(staging or out))):
        out.parent.mkdir(parents=True, exist_ok=True)
        for kind in ("tmp", "old"):
            remove_stale_temporaries(out.parent, f".{out.name}.{kind}-")
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-{os.getpid()}-"))
        try:
            yield staging
            apply_umask(staging, folder=True)
            _swap_in(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _swap_in(staging: Path, out: Path) -> None:
    """Rename ``staging`` to ``out``, the previous ``out`` aside first and removed after."""
    if not out.exists():
        os.rename(staging, out)
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-{os.getpid()}-"))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(old, out)  # put the previous set back
        raise
    shutil.rmtree(old, ignore_errors=True)


# --- one writer -------------------------------------------------------------------------------


def _try_lock(fd: int) -> bool:
    """Take the lock on ``fd`` without waiting; ``False`` when another process holds it."""
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def _read_holder(fd: int) -> dict[str, Any]:
    """The holder record at the start of the lock file (``{}`` when empty or unreadable)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 4096)
        value = json.loads(data.decode("utf-8")) if data.strip() else {}
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_holder(fd: int, record: dict[str, Any] | None) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    if record:
        os.write(fd, json.dumps(record, ensure_ascii=False).encode("utf-8"))


def describe_holder(holder: dict[str, Any]) -> str:
    """The holder of a lock in words: ``PID 4242，开始于 2026-12-01 14:30:05（北京时间），主机 srv1``."""
    if not holder:
        return "另一个运行（未留下记录）"
    parts = [f"PID {holder.get('pid', '?')}"]
    if holder.get("started"):
        parts.append(f"开始于 {holder['started']}（北京时间）")
    if holder.get("host"):
        parts.append(f"主机 {holder['host']}")
    return "，".join(parts)


@contextmanager
def folder_lock(
    folder: str | os.PathLike,
    *,
    wait: bool = True,
    on_wait: Callable[[dict[str, Any]], None] | None = None,
    poll_seconds: float = 0.5,
    what: str = "",
) -> Iterator[dict[str, Any]]:
    """Hold the one-writer lock of ``folder`` for the block.

    Parameters
    ----------
    folder
        The output folder (created when missing).
    wait
        Wait for another run holding the lock (``True``), or raise :class:`BusyError` at once.
    on_wait
        Called once, with the holder's record, when the lock is held by another run (the CLI
        prints who holds it). The wait is also logged.
    poll_seconds
        How often a waiting run tries again.
    what
        The command, recorded for the next run's message (``zhengshou batch``).

    Yields
    ------
    dict
        This run's record (``pid``, ``started``, ``host``, ``command``); ``"took_over"`` holds the
        record of a run that ended without releasing the lock, when there was one.

    Raises
    ------
    BusyError
        With ``wait=False`` when another run holds the lock.
    OutputError
        When the lock file cannot be created (see :func:`check_output_folder`).
    """
    out = check_output_folder(folder)
    path = out / LOCK_NAME
    with translated_os_errors(path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        told = False
        while not _try_lock(fd):
            holder = _read_holder(fd)
            if not wait:
                raise BusyError(
                    f"另一个运行正在写入 {out}（{describe_holder(holder)}）。"
                    "请等它结束后再运行，或去掉 --no-wait 让本次运行排队等待。",
                    holder=holder,
                )
            if not told:
                log.warning("waiting for the run writing into %s: %s", out, describe_holder(holder))
                if on_wait:
                    on_wait(holder)
                told = True
            time.sleep(poll_seconds)
        previous = _read_holder(fd)
        record: dict[str, Any] = {
            "pid": os.getpid(),
            "started": dt.datetime.now(_BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "host": socket.gethostname(),
            "command": what or " ".join(os.path.basename(a) for a in sys.argv[:2]),
        }
        with translated_os_errors(path):
            _write_holder(fd, record)
        if previous:
            log.warning(
                "took over the lock of %s from a run that ended without releasing it (%s)",
                out,
                describe_holder(previous),
            )
            record = {**record, "took_over": previous}
        try:
            yield record
        finally:
            with suppress(OSError):  # a full disk cannot even truncate: the OS lock still ends
                _write_holder(fd, None)
            _unlock(fd)
    finally:
        os.close(fd)
