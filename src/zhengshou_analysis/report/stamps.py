"""The time stamps of a reports folder, and texts written now with their time stamp filled later.

A stamp is the moment a file is written, as UTC text (``2026-12-01T09:05:00+00:00``, in
``provenance.json``) and in Beijing time as a Chinese report writes it (``2026年12月1日 17:05（北京时间）``,
in the footer of ``index.html``). :func:`open_stamp` cuts a text made with :data:`PLACEHOLDER`
at its stamps, and :func:`fill_stamp` fills them with another moment: so a batch can settle now
what the next batch writes, to the byte, and that batch only adds its own time
(:mod:`~.batchkey`). Standard library only: the answer of an unchanged batch imports this.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

__all__ = [
    "BEIJING",
    "PLACEHOLDER",
    "StampKind",
    "beijing_time",
    "fill_stamp",
    "generated_now",
    "open_stamp",
    "stamp_text",
]

#: Beijing time: UTC+8 all year (China has no daylight saving time), as a fixed offset so that no
#: time-zone database is needed (``zoneinfo`` has none on Windows without ``tzdata``).
BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")

#: A moment no batch is run at: a text made with it has its stamps where this moment shows.
PLACEHOLDER = "1900-01-01T00:00:00+00:00"

#: How a text writes its stamp: ``"utc"`` as :func:`generated_now`, ``"beijing"`` as
#: :func:`beijing_time`, ``""`` none (a text without a stamp).
StampKind = Literal["", "utc", "beijing"]


def beijing_time(moment: dt.datetime) -> str:
    """``moment`` in Beijing time, as a Chinese report writes it: ``2026年12月1日 11:05（北京时间）``.

    Parameters
    ----------
    moment
        An aware time (a naive one is taken as UTC).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    t = moment.astimezone(BEIJING)
    return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}（北京时间）"


def generated_now() -> str:
    """The moment now as a reports folder records it: UTC, to the second (``…T09:05:00+00:00``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def stamp_text(generated: str, kind: StampKind) -> str:
    """The stamp of ``kind`` for the moment ``generated`` (:func:`generated_now`'s form).

    Raises
    ------
    ValueError
        When ``generated`` is not such a moment or ``kind`` is unknown.
    """
    if kind == "utc":
        return generated
    if kind == "beijing":
        return beijing_time(dt.datetime.fromisoformat(generated))
    if kind == "":
        return ""
    raise ValueError(f"unknown time stamp kind {kind!r}")


def open_stamp(text: str, kind: StampKind) -> list[str] | None:
    """``text``, made with :data:`PLACEHOLDER` as its moment, cut where its stamp of ``kind`` is.

    Returns
    -------
    list of str or None
        The text before and after its one stamp (``[text]`` for ``kind=""``); ``None`` when the
        stamp is not there exactly once (the text cannot be filled safely).
    """
    if kind == "":
        return [text]
    parts = text.split(stamp_text(PLACEHOLDER, kind))
    return parts if len(parts) == 2 else None


def fill_stamp(parts: Sequence[str], kind: StampKind, generated: str) -> str:
    """The text :func:`open_stamp` cut, with the stamp of the moment ``generated`` in its place.

    Raises
    ------
    ValueError
        When ``parts`` are not what :func:`open_stamp` returns for ``kind``.
    """
    if (
        isinstance(parts, str)
        or len(parts) != (1 if kind == "" else 2)
        or not all(isinstance(p, str) for p in parts)
    ):
        raise ValueError(f"not a text cut at a {kind or 'no'} time stamp")
    return stamp_text(generated, kind).join(parts)
