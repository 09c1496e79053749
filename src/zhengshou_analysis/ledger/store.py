"""A cache of cleaned ledgers, keyed by content, so that notebooks and batches clean only once.

:func:`load_ledgers` returns the same :class:`~zhengshou_analysis.ledger.clean.CleanResult` as
:func:`~zhengshou_analysis.ledger.clean.clean_ledgers`. The key is the SHA-256 of every raw file's bytes,
of the package's own source and of the office profile's fingerprint, so a changed ledger, cleaner
or profile is never served stale.
The cache lives outside the raw folder (which is never written): ``$ZHENGSHOU_CACHE_DIR`` or
``~/.cache/zhengshou-analysis``.

The fingerprints (:func:`raw_file_digests`, :func:`data_fingerprint`, :func:`code_fingerprint`)
need the standard library only: this module imports pandas and the cleaner when it cleans or
loads, so that a re-run with nothing changed (``report.batchkey``) never pays for them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from .._version import __version__
from ..exceptions import InputChangedError
from .ingest import list_raw_files

if TYPE_CHECKING:
    import pandas as pd

    from ..profile import Profile
    from .clean import CleanResult

__all__ = [
    "cache_dir",
    "changed_files",
    "check_unchanged",
    "clean_unchanged",
    "data_fingerprint",
    "load_ledgers",
    "raw_file_digests",
]

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where cleaned ledgers are cached (``$ZHENGSHOU_CACHE_DIR`` or ``~/.cache/zhengshou-analysis``)."""
    env = os.environ.get("ZHENGSHOU_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "zhengshou-analysis"


@cache
def code_fingerprint() -> str:
    """SHA-256 of the package's source files and version (a changed cleaner invalidates caches)."""
    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parents[1]
    for p in sorted(package.rglob("*.py")):
        h.update(p.relative_to(package).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def raw_file_digests(raw_dir: str | os.PathLike) -> dict[str, str]:
    """Every ledger file of the raw folder: its relative path (``/``-separated) → SHA-256 of its bytes.

    Raises
    ------
    InputError
        When the folder does not exist or holds no ledger file (:func:`~.ingest.list_raw_files`).
    """
    raw = Path(raw_dir)
    return {
        p.relative_to(raw).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in list_raw_files(raw)
    }


def data_fingerprint(raw_dir: str | os.PathLike, digests: dict[str, str] | None = None) -> str:
    """SHA-256 over the raw folder: every ledger file's relative path and bytes.

    ``digests`` (from :func:`raw_file_digests`) saves reading the files again.
    """
    h = hashlib.sha256()
    for rel, file_digest in sorted((digests or raw_file_digests(raw_dir)).items()):
        h.update(rel.encode())
        h.update(bytes.fromhex(file_digest))
    return h.hexdigest()


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The files added, removed or changed between two :func:`raw_file_digests`, sorted."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def check_unchanged(raw_dir: str | os.PathLike, before: dict[str, str]) -> dict[str, str]:
    """Check that the raw folder still holds what ``before`` recorded; return its digests.

    Raises
    ------
    InputChangedError
        Naming every file added, removed or changed since ``before`` (a clerk saved a workbook
        while a run read it): what the run made from it mixes two versions and is discarded.
    """
    after = raw_file_digests(raw_dir)
    changed = changed_files(before, after)
    if changed:
        raise InputChangedError(
            f"原始台账在运行期间被修改：{'、'.join(changed)}（运行时有人保存了工作簿？）。"
            "本次结果已丢弃，之前的输出保持原样；请在无人编辑这些文件时重新运行。",
            files=changed,
        )
    return after


def clean_ledgers(
    raw_dir: str | os.PathLike,
    *,
    strict: bool = False,
    profile: Profile | None = None,
    on_tables: Callable[[dict[str, pd.DataFrame], str], object] | None = None,
) -> CleanResult:
    """:func:`~zhengshou_analysis.ledger.clean.clean_ledgers`, the cleaner imported on first call
    (so that the fingerprints of this module stay free of pandas)."""
    from .clean import clean_ledgers as clean

    return clean(raw_dir, strict=strict, profile=profile, on_tables=on_tables)


def clean_unchanged(
    raw_dir: str | os.PathLike,
    *,
    profile: Profile | None = None,
    strict: bool = False,
    before: dict[str, str] | None = None,
    on_tables: Callable[[dict[str, pd.DataFrame], str], object] | None = None,
) -> tuple[CleanResult, dict[str, str]]:
    """Clean ``raw_dir`` and make sure no ledger changed while it was read (else clean once more).

    Parameters
    ----------
    raw_dir
        The raw folder (read-only).
    profile, strict
        As :func:`~zhengshou_analysis.ledger.clean.clean_ledgers`.
    before
        The folder's :func:`raw_file_digests` taken earlier (default: taken now, before reading).
    on_tables
        As :func:`~zhengshou_analysis.ledger.clean.clean_ledgers` (called again when the folder
        is cleaned again).

    Returns
    -------
    result : CleanResult
        The tables of one consistent version of every file.
    digests : dict
        That version's :func:`raw_file_digests`.

    Raises
    ------
    InputChangedError
        When a file changed during the clean and again during the one repeat.
    CleanError
        As :func:`~zhengshou_analysis.ledger.clean.clean_ledgers`.
    """
    digests = before if before is not None else raw_file_digests(raw_dir)
    for attempt in (1, 2):
        result = clean_ledgers(raw_dir, strict=strict, profile=profile, on_tables=on_tables)
        try:
            return result, check_unchanged(raw_dir, digests)
        except InputChangedError as exc:
            if attempt == 2:
                raise
            log.warning("%s; cleaning once more", exc)
            digests = raw_file_digests(raw_dir)
    raise AssertionError("unreachable")  # pragma: no cover


def _restore(df: pd.DataFrame, name: str) -> pd.DataFrame:
    from ..schemas import TABLES, pandas_dtype

    t = TABLES[name]
    return df.astype({c.name: pandas_dtype(c) for c in t.columns} | {"origin": "str"})


def load_ledgers(
    raw_dir: str | os.PathLike,
    *,
    profile: Profile | None = None,
    use_cache: bool = True,
    cache_root: Path | None = None,
) -> CleanResult:
    """Clean ``raw_dir``, or load the result of an identical earlier clean from the cache.

    Parameters
    ----------
    raw_dir
        The raw folder (read-only).
    profile
        The office profile the cleaner applies (``None``: the built-in lists); its fingerprint is
        part of the cache key, so a changed profile cleans again.
    use_cache
        ``False`` always cleans afresh (and refreshes the cache).
    cache_root
        Overrides :func:`cache_dir`.

    Raises
    ------
    CleanError
        As :func:`~zhengshou_analysis.ledger.clean.clean_ledgers` (a failed clean is never cached).
    """
    import pandas as pd

    from ..schemas import TABLES
    from .clean import CleanResult

    profile_fp = "" if profile is None else profile.fingerprint

    def key_of(digests: dict[str, str]) -> str:
        fp = data_fingerprint(raw_dir, digests) + code_fingerprint() + profile_fp
        return hashlib.sha256(fp.encode()).hexdigest()[:24]

    digests = raw_file_digests(raw_dir)
    key = key_of(digests)
    root = (cache_root or cache_dir()) / key
    if use_cache and (root / "manifest.json").is_file():
        try:
            tables = {n: _restore(pd.read_parquet(root / f"{n}.parquet"), n) for n in TABLES}
            manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
            return CleanResult(
                tables=tables,
                quality_log=pd.read_parquet(root / "quality_log.parquet"),
                rejected=pd.read_parquet(root / "rejected.parquet"),
                manifest=manifest,
            )
        except (OSError, ValueError) as exc:  # a damaged cache entry: clean again
            log.warning("cache entry %s unreadable (%s); cleaning again", root, exc)
    # the key must name the bytes that were cleaned: a file saved mid-read is cleaned again
    result, cleaned = clean_unchanged(raw_dir, profile=profile, before=digests)
    key = key_of(cleaned)
    root = (cache_root or cache_dir()) / key
    tmp: Path | None = None
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{key}."))
        for n, df in result.tables.items():
            df.to_parquet(tmp / f"{n}.parquet", index=False)
        result.quality_log.to_parquet(tmp / "quality_log.parquet", index=False)
        result.rejected.to_parquet(tmp / "rejected.parquet", index=False)
        (tmp / "manifest.json").write_text(
            json.dumps(result.manifest, ensure_ascii=False, default=str), encoding="utf-8"
        )
        if root.exists():
            shutil.rmtree(root, ignore_errors=True)
        os.replace(tmp, root)
    except OSError as exc:  # a read-only home or a full disk is no reason to fail the analysis
        log.warning("could not write the cache at %s: %s", root, exc)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return result
