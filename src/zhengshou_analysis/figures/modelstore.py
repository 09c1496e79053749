"""The fitted models and forecasts of a batch, shared by its runs: each computed once.

A year's reports ask the same questions of the same ledgers: the overview, the funding page, the
delivery page and the period's key figures (run in separate processes and kernels) each need the
period's delivery and inflow models and the forecast review (预测回顾), which re-makes the forecasts
of earlier year- or month-ends; the reviews of neighbouring periods re-make the same origins. A
:class:`ModelStore` is a folder where the first run to need one of these writes it and the others
read it.

What makes this safe:

* **Content keys.** A value is stored under the SHA-256 of everything it is computed from: the
  content key of the tables (for a report, the SHA-256 of every raw file as the cleaner recorded
  it in the manifest, with the package source and the office profile; else a hash of every value
  of the tables), the reporting date, the policy, the forecast settings and the attribute's name.
  An analysis at an earlier date (:meth:`Analysis.at`, the review's origins) derives its key from
  its parent's and the date: the tables it sees are a function of those two. A changed ledger,
  profile, setting or source file gives another key, never a stale value.
* **One writer per value.** The first process to need a value takes its lock file
  (``O_CREAT | O_EXCL``, on Linux and Windows) and computes; the others wait for the value and read
  it. A lock whose process has died, or that is older than :data:`WAIT_SECONDS`, is ignored and
  the value computed again; a value that cannot be read (a damaged file) is computed again.
* **Scoped to a batch.** The batch creates the store (a temporary folder; on a cluster, in its
  staging folder in the shared reports folder) and removes it when it ends; it passes the store's
  path to its runs, which set :data:`MODEL_STORE_ENV` for their kernels. Without the
  variable (a notebook opened by an analyst, the plain papermill loop) nothing is stored and every
  value is computed in place, as before. Values are pickled: the store is only ever read by the
  batch that wrote it, never from a folder anyone else can write.

Reading a value instead of computing it gives the same object (pickle round-trips frames, arrays
and models exactly): a page is the same with or without the store (``tests/test_modelstore.py``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MODEL_STORE_ENV",
    "WAIT_SECONDS",
    "ModelStore",
    "active_store",
    "derive_key",
    "known_at_key",
    "stored_property",
    "tables_content_key",
    "using_store",
]

log = logging.getLogger(__name__)

#: The environment variable naming the batch's store folder (unset: no store).
MODEL_STORE_ENV = "ZHENGSHOU_MODEL_STORE"
#: Seconds a process waits for another one computing the same value before computing it itself.
WAIT_SECONDS = 600.0
_POLL_SECONDS = 0.05
#: Seconds after which a lock file that names no process is taken for a crash's leftover.
_UNNAMED_LOCK_SECONDS = 5.0

T = TypeVar("T")


def derive_key(*parts: object) -> str:
    """A content key: the SHA-256 (hex) of ``parts`` in order, each by its ``str``.

    Parameters
    ----------
    parts
        Strings, numbers, dates and reprs of frozen settings; ``None`` is written as ``"None"``.

    Returns
    -------
    str
        64 hex digits.
    """
    h = hashlib.sha256()
    for p in parts:
        h.update(str(p).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def known_at_key(tables_key: str, as_of: pd.Timestamp) -> str:
    """The key of the tables as known at ``as_of`` (:func:`~.vintage.cut_tables_at`), cut from
    the tables of ``tables_key``.

    Cutting is composable: the tables known at ``o`` cut from those known at ``a`` are the tables
    known at ``min(a, o)`` (rows and events dated after a date are dropped; ``tests/test_vintage.py``
    holds this). So the key is the key of the uncut tables and one date, ``ROOT@YYYY-MM-DD``, and
    the tables of 2020-12-31 have one key whether they were cut from the 2021 or the 2022 report's:
    the reviews of neighbouring periods share the forecasts of their common origins.

    Parameters
    ----------
    tables_key
        The key of the uncut tables, or of tables already cut (``ROOT@YYYY-MM-DD``).
    as_of
        The date of the cut (day precision).

    Returns
    -------
    str
        ``ROOT@YYYY-MM-DD`` with the earlier of the two dates.
    """
    root, _, cut = tables_key.partition("@")
    date = as_of.date().isoformat()
    if cut and cut < date:  # ISO dates order as text
        date = cut
    return f"{root}@{date}"


def tables_content_key(tables: Mapping[str, pd.DataFrame], *, index: bool = True) -> str:
    """The content key of canonical tables from every value, column, dtype and row label.

    The fallback when the caller knows no cheaper key (:class:`Analysis` built by hand): it hashes
    every cell (:func:`pandas.util.hash_pandas_object`, about 0.1 s for the demo's 17,000 rows).

    Parameters
    ----------
    tables
        Tables by name; not modified.
    index
        Whether the row labels count (``False``: a run key's
        :func:`~zhengshou_analysis.report.runs.tables_fingerprint`, where a row added to one
        table changes that table's part only).

    Returns
    -------
    str
        64 hex digits.
    """
    import pandas as pd

    h = hashlib.sha256()
    for name in sorted(tables):
        df = tables[name]
        h.update(f"{name}\0{list(df.columns)}\0{[str(t) for t in df.dtypes]}\0{len(df)}".encode())
        h.update(pd.util.hash_pandas_object(df, index=index).to_numpy().tobytes())
    return h.hexdigest()


class ModelStore:
    """A folder of values computed once and read by every other process that needs them.

    Parameters
    ----------
    root
        The folder (created on first write). It must be private to one batch: values are pickled.
    wait_seconds
        How long to wait for another process computing the same value (then compute it here).
    """

    def __init__(self, root: str | os.PathLike[str], *, wait_seconds: float = WAIT_SECONDS) -> None:
        self.root = Path(root)
        self.wait_seconds = float(wait_seconds)

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        """The value stored under ``key``, or ``compute()`` stored there by this process.

        Parameters
        ----------
        key
            The value's content key (:func:`derive_key`): hex digits only.
        compute
            Computes the value; called at most once here. An exception it raises is raised here
            and nothing is stored (another process will compute the value again).

        Returns
        -------
        object
            The value (the same for every process asking for ``key``).

        Notes
        -----
        A store that cannot be written (a full disk, a read-only folder) never fails the analysis:
        the value is computed here and the fault logged.
        """
        if not key.isalnum():
            raise ValueError(f"a store key is hex digits, not {key!r}")
        value_path = self.root / f"{key}.pkl"
        lock_path = self.root / f"{key}.lock"
        deadline = time.monotonic() + self.wait_seconds
        while True:
            found, value = self._read(value_path)
            if found:
                log.debug("model store: read %s", key[:12])
                return value
            owned = self._take(lock_path)
            if owned is None:  # the store cannot be written: compute here, store nothing
                return compute()
            if owned:
                break
            if time.monotonic() > deadline or self._stale(lock_path):
                log.warning("model store: no value for %s from another run; computing it", key[:12])
                break
            time.sleep(_POLL_SECONDS)
        try:
            started = time.perf_counter()
            value = compute()
            log.debug("model store: computed %s in %.2f s", key[:12], time.perf_counter() - started)
            self._write(value_path, value)
        finally:
            if owned:
                lock_path.unlink(missing_ok=True)
        return value

    @staticmethod
    def _read(path: Path) -> tuple[bool, Any]:
        try:
            with path.open("rb") as f:
                return True, pickle.load(f)
        except FileNotFoundError:
            return False, None
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError) as exc:
            log.warning("model store: %s unreadable (%s); computing it again", path.name, exc)
            return False, None

    def _take(self, lock: Path) -> bool | None:
        """Take ``lock``: ``True`` taken, ``False`` held by another process, ``None`` unwritable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # FileExistsError too: a file where the folder should be
            log.warning("model store %s cannot be written (%s): computing in place", self.root, exc)
            return None
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        except OSError as exc:
            log.warning("model store %s cannot be written (%s): computing in place", self.root, exc)
            return None
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(str(os.getpid()))
        except OSError as exc:  # a full disk: no lock left for others to wait on
            lock.unlink(missing_ok=True)
            log.warning("model store %s cannot be written (%s): computing in place", self.root, exc)
            return None
        return True

    def _stale(self, lock: Path) -> bool:
        """Whether ``lock``'s process has ended (or the lock is gone, or unreadable)."""
        import psutil

        try:
            pid = int(lock.read_text(encoding="ascii") or "0")
        except FileNotFoundError:
            return False  # released: the value is there now, or the owner failed (taken again)
        except (OSError, ValueError):
            pid = 0
        if pid <= 0:  # no process named: being written this instant, or left so by a crash
            try:
                return time.time() - lock.stat().st_mtime > _UNNAMED_LOCK_SECONDS
            except OSError:
                return False
        return not psutil.pid_exists(pid)

    def _write(self, path: Path, value: object) -> None:
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{path.stem[:12]}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
            tmp = None
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
            log.warning("model store: could not write %s (%s)", path.name, exc)
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)


def active_store() -> ModelStore | None:
    """The store named by :data:`MODEL_STORE_ENV`, or ``None`` (compute everything in place)."""
    root = os.environ.get(MODEL_STORE_ENV, "").strip()
    return ModelStore(root) if root else None


@contextmanager
def using_store(root: str | os.PathLike[str] | None) -> Iterator[None]:
    """Make ``root`` the active store inside the block (``None`` or ``""``: no store), for this
    process and the kernels it starts; the variable is as before afterwards.

    Parameters
    ----------
    root
        The batch's store folder.
    """
    before = os.environ.get(MODEL_STORE_ENV)
    if root:
        os.environ[MODEL_STORE_ENV] = str(root)
    else:
        os.environ.pop(MODEL_STORE_ENV, None)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MODEL_STORE_ENV, None)
        else:
            os.environ[MODEL_STORE_ENV] = before


class stored_property(cached_property[T]):
    """``functools.cached_property`` whose value is also shared through the :func:`active_store`.

    The owner class provides ``store_key`` (a property: its content key, or ``None`` when it has
    none). The value is cached on the instance as by ``cached_property``; with a store active it is
    read from the store when another process computed it, else computed and stored.
    """

    def __init__(self, func: Callable[[Any], T]) -> None:
        super().__init__(func)

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> stored_property[T]: ...

    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type[Any] | None = None) -> Any:
        if instance is None:
            return self
        name = self.attrname
        if name is None:  # pragma: no cover - set by __set_name__ for every class attribute
            raise TypeError("stored_property needs __set_name__")
        cache = instance.__dict__
        if name in cache:
            return cache[name]
        store = active_store()
        key = getattr(instance, "store_key", None) if store is not None else None
        if store is None or key is None:
            value = self.func(instance)
        else:
            log.debug("model store: %s of %r", name, instance)
            value = store.get_or_compute(derive_key(key, name), lambda: self.func(instance))
        cache[name] = value
        return value
