"""A batch re-run with nothing changed, answered without loading a ledger.

A batch after which the same batch has nothing to do (every run succeeded or was unchanged,
every period's key figures and office files are in place, no failure, no fault, no period
without rows, no ``--force``) writes ``.batch_key.json`` into the reports folder at its end
(:func:`record_unchanged`): the batch's key (:func:`batch_key`: every raw file's digest, the
package source, the office profile, the report notebooks' bytes, the batch's arguments) and the
size, modification time and file id of every file of the folder and of its period folders. The
next ``zhengshou batch`` (or ``report``) asks :func:`unchanged_batch` first: holding the folder's
lock, it computes the key again with the standard library only (no pandas, no cleaning, no
notebook) and, when the key and every file are as recorded, returns what the batch would report:
its runs, all unchanged.

A batch that ran notebooks leaves its pages marked 已生成 (``ok``) in each period's ``runs.json``
and in the index; the same batch run again has nothing to do but marks them 未变化，沿用
(``skipped``), and so rewrites each ``runs.json`` and, as that changes the index's key,
``index.html``, ``provenance.json`` and ``.index_key``, with the time of that run. So the record
of a batch that did work also holds those files' texts, in the order that batch writes them
(``then``, :data:`NextWrite`; made by the batch's own functions, ``batch._next_writes``), cut at
their time stamp (:mod:`.stamps`). The first unchanged re-run writes them with its own time
(each atomically, still holding the lock): the folder is then byte for byte what the full way
would have left, bar the record itself. It then records the folder as it is now, without
``then``, and the runs after it answer at once without writing anything. A record whose texts
cannot all be written is removed: the full way then settles the folder.

Anything else takes the full way (:func:`~.batch.run_batch`): a ledger byte, the profile, a
notebook or a package file changed, other periods or pages asked for, a page or a figure file
missing or rewritten, a file added (a leftover of a killed batch: the full way removes it), the
folder moved into or out of a city (``city.in_city``), ``--force``. Every batch that takes the full
way removes the record when it starts (:func:`forget_unchanged`), so a record never outlives the
state it describes.

:func:`parse_years` lives here too: the years are part of the key, and the command settles them
before it knows whether the batch has anything to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..exceptions import ParameterError, ZhengshouError
from ..outfolder import LOCK_NAME, folder_lock
from .catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS, default_notebook_dir
from .files import atomic_write_text, read_json_dict
from .stamps import StampKind, fill_stamp, generated_now

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = [
    "RECORD_NAME",
    "NextWrite",
    "Unchanged",
    "batch_key",
    "forget_unchanged",
    "parse_years",
    "record_unchanged",
    "unchanged_batch",
]

log = logging.getLogger(__name__)

#: The record of the last batch that had nothing to do, in the reports folder.
RECORD_NAME = ".batch_key.json"

#: A sub-folder whose files the record lists one by one: a period's (``2021``, ``2021-06``,
#: ``2021-06-15``; a name that only looks like one is listed too, which costs a full run at most).
_PERIOD_LIKE = frozenset("0123456789-")

#: What a file's state is in the record: size (bytes), modification time (ns), file id.
FileState = list[int]

#: A file the next unchanged batch writes: its path in the reports folder (``/``-separated), its
#: text cut at its time stamp (:func:`~.stamps.open_stamp`) and the stamp's kind.
NextWrite = tuple[str, Sequence[str], StampKind]


@dataclass(frozen=True)
class Unchanged:
    """What a batch with nothing to do reports: every run unchanged, and where the index is.

    Attributes
    ----------
    skipped
        Its runs (every one unchanged).
    index
        The reports folder's ``index.html``.
    """

    skipped: int
    index: Path


def parse_years(text: str | None, available: Sequence[int]) -> list[int]:
    """Parse ``2019-2022`` or ``2019,2021`` (``None``: every available year).

    Raises
    ------
    ParameterError
        On a malformed value, with the accepted forms.
    """
    if text is None or not str(text).strip():
        return sorted(set(available))
    years: set[int] = set()
    try:
        for part in str(text).split(","):
            a, sep, b = part.strip().partition("-")
            lo, hi = int(a), int(b) if sep else int(a)
            if hi < lo or hi - lo > 100:
                raise ValueError(part)
            years.update(range(lo, hi + 1))
    except ValueError:
        raise ParameterError(
            f"--years {text!r} is not understood; write 2019-2022 or 2019,2021"
        ) from None
    return sorted(years)


def _notebook_digests(nb_dir: Path) -> dict[str, str]:
    """SHA-256 of every report notebook in ``nb_dir`` (``""`` for one that is missing)."""
    out = {}
    for name in [*NOTEBOOKS, *MONTHLY_NOTEBOOKS]:
        try:
            out[name] = hashlib.sha256((nb_dir / f"{name}.ipynb").read_bytes()).hexdigest()
        except OSError:
            out[name] = ""
    return out


def batch_key(
    *,
    data_dir: Path,
    digests: Mapping[str, str],
    profile: Profile,
    notebook_dir: Path | None,
    years: Iterable[int] | None,
    months: Iterable[Any] | str | None,
    as_of: str | None,
    notebooks: Sequence[str] | None,
    seed: int | None,
    horizon_months: int | None,
    extra_parameters: Mapping[str, Any] | None,
) -> str:
    """The key of a batch: equal keys mean the batch reads the same and is asked the same.

    Parameters
    ----------
    data_dir
        The raw folder, resolved.
    digests
        Its files' digests (:func:`~..ledger.store.raw_file_digests`).
    profile
        The office profile: its fingerprint (content) and its file (a notebook parameter).
    notebook_dir
        Where the notebooks are (``None``: :func:`~.catalog.default_notebook_dir`); every report
        notebook's bytes count, used by the batch or not.
    years, months, as_of, notebooks, seed, horizon_months, extra_parameters
        As given to :func:`~.batch.run_batch` (months as text or periods; the order of years,
        months and notebooks does not count). The worker count, the scheduler and the progress
        display change no output and are not part of the key.

    Returns
    -------
    str
        64 hex digits.
    """
    from ..ledger.store import code_fingerprint, data_fingerprint

    nb_dir = Path(notebook_dir or default_notebook_dir()).resolve()
    if months is None or isinstance(months, str):
        month_part: str | list[str] | None = months
    else:  # periods: their folder names
        month_part = sorted(str(getattr(m, "folder", m)) for m in months)
    parts = {
        "version": __version__,
        "code": code_fingerprint(),
        "data_dir": str(data_dir),
        "data": data_fingerprint(data_dir, dict(digests)),
        "profile": profile.fingerprint,
        "profile_path": "" if profile.source is None else str(Path(profile.source).resolve()),
        "notebook_dir": str(nb_dir),
        "notebooks_bytes": _notebook_digests(nb_dir),
        "years": None if years is None else sorted({int(y) for y in years}),
        "months": month_part,
        "as_of": None if as_of is None else str(as_of),
        "notebooks": None if notebooks is None else sorted(notebooks),
        "seed": None if seed is None else int(seed),
        "horizon_months": None if horizon_months is None else int(horizon_months),
        "extra_parameters": dict(extra_parameters or {}),
    }
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _state(path: Path) -> FileState | None:
    """A file's size, modification time (ns) and file id; ``None`` when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _listing(out: Path) -> dict[str, FileState | None]:
    """The state of every entry of the reports folder: files of the folder and of its period
    folders by :func:`_state`, any other folder by its name (``None``). The lock and the record
    are left out (each batch rewrites them)."""
    found: dict[str, FileState | None] = {}
    for entry in sorted(out.iterdir()):
        if entry.name in (LOCK_NAME, RECORD_NAME):
            continue
        if not entry.is_dir():
            found[entry.name] = _state(entry)
        elif set(entry.name) <= _PERIOD_LIKE:
            found[f"{entry.name}/"] = None
            for f in sorted(entry.iterdir()):
                found[f"{entry.name}/{f.name}"] = None if f.is_dir() else _state(f)
        else:
            found[f"{entry.name}/"] = None
    return found


def forget_unchanged(out: Path) -> None:
    """Remove the record of ``out`` (a batch that takes the full way, before it writes)."""
    (out / RECORD_NAME).unlink(missing_ok=True)


def record_unchanged(
    out: Path,
    key: str,
    skipped: int,
    watched: Iterable[Path] = (),
    then: Sequence[NextWrite] = (),
) -> None:
    """Record that a batch with ``key`` into ``out`` has nothing to do (its ``skipped`` runs).

    Called at the end of a batch after which that is so, still holding the folder's lock; the
    record lists the folder's files as they are now. ``watched`` are files outside the folder
    whose presence and state the batch's output depends on (the city marker); the record keeps
    their state too. ``then`` are the files the next such batch writes before it answers, in
    order (empty: none).
    """
    record: dict[str, Any] = {
        "key": key,
        "skipped": int(skipped),
        "files": _listing(out),
        "watched": {str(p): _state(p) for p in watched},
    }
    if then:
        record["then"] = [[path, list(parts), kind] for path, parts, kind in then]
    atomic_write_text(out / RECORD_NAME, json.dumps(record, ensure_ascii=False, indent=1))


def _write_then(out: Path, then: object) -> None:
    """Write the files a record's ``then`` lists into ``out``, in order, each atomically, with
    the time of now (one moment for all, as the full way's index and provenance share one).

    Raises
    ------
    TypeError, ValueError
        When ``then`` is not a list of :data:`NextWrite` naming files inside ``out`` (nothing
        is written then).
    OSError
        When a file cannot be written.
    """
    generated = generated_now()
    texts = []
    for entry in then if isinstance(then, list) else [then]:
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)):
            raise TypeError(f"the record's file to write {entry!r:.60} is not understood")
        path, parts, kind = entry
        rel = Path(path)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"the record names {path!r}, not a file of the reports folder")
        texts.append((out / rel, fill_stamp(parts, kind, generated)))
    for target, text in texts:
        atomic_write_text(target, text)


def unchanged_batch(
    *,
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    profile: Profile,
    years: Iterable[int] | None = None,
    months: Iterable[Any] | str | None = None,
    as_of: str | None = None,
    notebooks: Sequence[str] | None = None,
    seed: int | None = None,
    horizon_months: int | None = None,
    extra_parameters: Mapping[str, Any] | None = None,
    notebook_dir: Path | None = None,
    wait: bool = True,
    on_wait: Callable[[dict], None] | None = None,
) -> Unchanged | None:
    """What the batch would report, when it has nothing to do; ``None``: run it.

    The arguments are those of :func:`~.batch.run_batch` (without ``force``: a forced batch always
    runs). Holds ``out_dir``'s lock (:func:`~..outfolder.folder_lock`, waiting as the batch would)
    while it compares the folder's files and the key with the record the last batch left
    (:func:`record_unchanged`). When the record holds texts to write (after a batch that made
    pages: their states turned to unchanged), writes them with the time of now and records the
    folder anew, as the full way would have left it. Imports neither pandas nor the batch.

    Returns
    -------
    Unchanged or None
        The number of unchanged runs and the index; ``None`` when there is no record, the key
        differs, a file differs, or anything cannot be read or written (the batch then says
        why; a record whose texts could not be written is removed).

    Raises
    ------
    BusyError
        With ``wait=False``, when another run writes into ``out_dir``.
    OutputError
        When ``out_dir`` cannot be written (as the batch would).
    """
    from ..ledger.store import raw_file_digests

    out = Path(out_dir).resolve()
    if not (out / RECORD_NAME).is_file():
        return None
    data = Path(data_dir).resolve()
    with folder_lock(out, wait=wait, on_wait=on_wait, what="zhengshou batch"):
        try:
            record = read_json_dict(out / RECORD_NAME)
            if not isinstance(record, dict) or _listing(out) != record.get("files"):
                return None
            watched = record.get("watched") or {}
            if any(_state(Path(p)) != state for p, state in watched.items()):
                return None
            key = batch_key(
                data_dir=data,
                digests=raw_file_digests(data),
                profile=profile,
                notebook_dir=notebook_dir,
                years=years,
                months=months,
                as_of=as_of,
                notebooks=notebooks,
                seed=seed,
                horizon_months=horizon_months,
                extra_parameters=extra_parameters,
            )
        except (OSError, ZhengshouError, ValueError) as exc:  # the batch says it in words
            log.info("no quick answer for %s: %s", out, exc)
            return None
        if key != record.get("key"):
            return None
        skipped = int(record.get("skipped", 0))
        if "then" in record:  # the states of the pages turn to 未变化，沿用: as the full way does
            try:
                _write_then(out, record["then"])
                record_unchanged(out, key, skipped, watched=[Path(p) for p in watched])
            except (OSError, TypeError, ValueError) as exc:
                log.info("the full way settles %s: %s", out, exc)
                with contextlib.suppress(OSError):
                    forget_unchanged(out)
                return None
        log.info("nothing changed since the last batch into %s", out)
        return Unchanged(skipped, out / "index.html")
