"""Files of a reports folder: written atomically, read forgivingly.

Every file is written to a temporary name in its folder and renamed, so a crash never leaves a
half-written report where a good one was.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "read_json_dict"]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Parameters
    ----------
    path
        The file to (re)place; its folder is created when missing.
    data
        The complete new content.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def read_json_dict(path: Path) -> dict:
    """The JSON object in ``path``; ``{}`` when the file is missing or unreadable.

    Used for the state files of a reports folder (``runs.json``, ``key_figures.json``): a lost
    state only means the work is done again.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
