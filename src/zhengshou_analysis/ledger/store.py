"""A cache of cleaned ledgers, keyed by content, so that notebooks and batches clean only once.

:func:`load_ledgers` returns the same :class:`~zhengshou_analysis.ledger.clean.CleanResult` as
:func:`~zhengshou_analysis.ledger.clean.clean_ledgers`. The key is the SHA-256 of every raw file's bytes,
of the package's own source and of the office profile's fingerprint, so a changed ledger, cleaner
or profile is never served stale.
The cache lives outside the raw folder (which is never written): ``$ZHENGSHOU_CACHE_DIR`` or
``~/.cache/zhengshou-analysis``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .._version import __version__
from ..schemas import TABLES, pandas_dtype
from .clean import CleanResult, clean_ledgers
from .ingest import list_raw_files

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = ["cache_dir", "data_fingerprint", "load_ledgers"]

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


def data_fingerprint(raw_dir: str | os.PathLike) -> str:
    """SHA-256 over the raw folder: every ledger file's relative path and bytes."""
    raw = Path(raw_dir)
    h = hashlib.sha256()
    for p in list_raw_files(raw):
        h.update(p.relative_to(raw).as_posix().encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _restore(df: pd.DataFrame, name: str) -> pd.DataFrame:
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
    profile_fp = "" if profile is None else profile.fingerprint
    key = hashlib.sha256(
        (data_fingerprint(raw_dir) + code_fingerprint() + profile_fp).encode()
    ).hexdigest()[:24]
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
    result = clean_ledgers(raw_dir, profile=profile)
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
    except OSError as exc:  # a read-only home is no reason to fail the analysis
        log.warning("could not write the cache at %s: %s", root, exc)
    return result
