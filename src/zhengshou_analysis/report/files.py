"""Files of a reports folder: written atomically, read forgivingly.

Every file is written to a temporary name in its folder and renamed, so a crash never leaves a
half-written report where a good one was; it gets the permissions the user's umask allows.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from ..outfolder import apply_umask

__all__ = [
    "CITY_FOLDER",
    "CITY_MARKER",
    "atomic_write_bytes",
    "atomic_write_text",
    "office_file_name",
    "read_json_dict",
    "safe_file_part",
]


#: The folder of the city view inside the city's reports folder.
CITY_FOLDER = "city"
#: The file in ``<out>/city/`` that marks ``<out>`` as a city's reports folder: its districts'
#: index and pages then link back to the city's index (:func:`~.city.in_city`).
CITY_MARKER = ".zhengshou-city"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Parameters
    ----------
    path
        The file to (re)place; its folder is created when missing.
    data
        The complete new content.

    Raises
    ------
    OSError
        As the system raises it (a full disk, a read-only folder); the temporary file is removed
        and ``path`` is left as it was. Callers name the fault in words
        (:func:`~zhengshou_analysis.outfolder.translated_os_errors`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        apply_umask(tmp)  # mkstemp makes it private; the file gets what the umask allows
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


#: Characters that a file name on Windows or Linux cannot hold (and the path separators).
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_file_part(text: str, *, fallback: str = "区") -> str:
    """``text`` made safe as one part of a file name (office names come from a profile).

    Path separators, characters Windows forbids and control characters become ``_``; leading
    dots and spaces are dropped (no hidden file, no ``..``); at most 40 characters.

    Examples
    --------
    >>> safe_file_part("港北区/../x")
    '港北区_.._x'
    >>> safe_file_part("..")
    '区'
    """
    cleaned = _UNSAFE.sub("_", str(text)).strip().lstrip(". ")[:40].rstrip(". ")
    return cleaned or fallback


def office_file_name(kind: str, office: str, period: str, suffix: str) -> str:
    """The name of an office file: ``工作总结_港北区_2021.docx``, ``报表_港北区_2021.xlsx``.

    Parameters
    ----------
    kind
        ``工作总结`` or ``报表`` (or another Chinese word naming the document).
    office
        The office's name from its profile (made safe with :func:`safe_file_part`).
    period
        The period as written in folder names: ``2021`` (a year), later ``2021-06`` (a month).
    suffix
        ``.docx`` or ``.xlsx``.
    """
    return f"{kind}_{safe_file_part(office)}_{safe_file_part(period)}{suffix}"
