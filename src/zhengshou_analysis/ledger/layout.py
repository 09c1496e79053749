"""Sheet layout: where the header is, what each column means, which rows are data.

Real ledgers carry title, unit and date rows above the header, two-row merged headers, 合计 / 小计 /
总计 and ``其中`` rows inside the table and notes below it (docs/data_contract.md §1). This module finds
each of those by content, never by position.

Header matching is by words, not exact strings: after NFKC and removal of spaces and of the unit in
brackets, ``土地`` stands for ``征地``, ``目标`` for ``任务``, ``累计完成`` for ``已完成``, and ``征收``
is a filler word; a two-row header matches by its joined words in either order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas import IGNORED_HEADERS, PII_WORDS, TABLES, ZONES, Column
from ..units import split_header_unit

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = [
    "HeaderCell",
    "SheetLayout",
    "canonical_header",
    "classify_rows",
    "find_layout",
    "header_index",
    "is_ignored_header",
    "is_pii_header",
    "units_row_below",
    "zone_values",
]

#: How far down a sheet the header is looked for.
HEADER_SEARCH_ROWS = 30

_SUBSTITUTIONS = (
    ("累计完成", "已完成"),
    ("目标任务", "任务"),
    ("目标", "任务"),
    ("土地", "征地"),
    ("征收", ""),
)
_SPACES = re.compile(r"\s+")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@cache
def canonical_header(text: str) -> str:
    """The matching key of a header: NFKC, no spaces, no unit, synonyms folded.

    >>> canonical_header("土地征收 任务（亩）")
    '征地任务'
    """
    name, _ = split_header_unit(_SPACES.sub("", _nfkc(str(text))))
    for old, new in _SUBSTITUTIONS:
        name = name.replace(old, new)
    return name.strip(":：")


#: Header index: table → canonical header key → (column, priority).
HeaderIndex = dict[str, dict[str, tuple[Column, int]]]


def zone_values(profile: Profile | None = None) -> dict[str, str]:
    """The 片区 value map: the built-in spellings (``schemas.ZONES``) plus the profile's ``[zones]``.

    Each profile 片区 maps to itself and each of its aliases to it (``城东`` → ``城东片区``).
    """
    values = dict(ZONES)
    for zone, aliases in (profile.zones if profile is not None else {}).items():
        values.setdefault(zone, zone)
        for alias in aliases:
            values[alias] = zone
    return values


def _build_index(profile: Profile | None) -> HeaderIndex:
    """The header index of the built-in words, plus the profile's words and 片区 aliases.

    A profile word ranks after the column's built-in words (priority ``len(headers) + i``); the
    ``zone`` columns carry the profile's 片区 value map, so that an alias is written as its 片区.
    """
    extra = profile.headers if profile is not None else {}
    zones = zone_values(profile) if profile is not None and profile.zones else None
    index: HeaderIndex = {}
    for t in TABLES.values():
        keys: dict[str, tuple[Column, int]] = {}
        for col in t.columns:
            words = extra.get(t.name, {}).get(col.name, ())
            if words:
                col = replace(col, headers=(*col.headers, *words))
            if zones is not None and col.name == "zone":
                col = replace(col, values=zones)
            for prio, h in enumerate(col.headers):
                keys.setdefault(canonical_header(h), (col, prio))
        index[t.name] = keys
    return index


_PROFILE_INDEXES: dict[str, HeaderIndex] = {}


def header_index(profile: Profile | None = None) -> HeaderIndex:
    """For each table: canonical header key → (column, priority); priority 0 is the first synonym.

    Parameters
    ----------
    profile
        The office profile: its ``[headers]`` words are accepted beside the built-in ones and its
        ``[zones]`` extend the 片区 value map of the ``zone`` columns. ``None`` (or a profile
        without either): the built-in index. Cached per profile fingerprint.
    """
    if profile is None or not (profile.headers or profile.zones):
        return _builtin_index()
    index = _PROFILE_INDEXES.get(profile.fingerprint)
    if index is None:
        index = _PROFILE_INDEXES[profile.fingerprint] = _build_index(profile)
    return index


@cache
def _builtin_index() -> HeaderIndex:
    return _build_index(None)


_KNOWN: dict[str, frozenset[str]] = {}


def _all_keys(profile: Profile | None = None) -> frozenset[str]:
    """Every header key of every table (built-in, plus the profile's words)."""
    fp = profile.fingerprint if profile is not None and profile.headers else ""
    known = _KNOWN.get(fp)
    if known is None:
        index = header_index(profile)
        known = _KNOWN[fp] = frozenset(k for keys in index.values() for k in keys)
    return known


@cache
def _ignored_keys() -> frozenset[str]:
    return frozenset(canonical_header(h) for h in IGNORED_HEADERS)


def is_ignored_header(text: str) -> bool:
    """Whether a header is known but deliberately not read (``序号``; ``schemas.IGNORED_HEADERS``)."""
    return canonical_header(text) in _ignored_keys()


def is_pii_header(text: str) -> bool:
    """Whether a header names a personal-data column (names, ID numbers, phones)."""
    h = _SPACES.sub("", _nfkc(str(text)))
    name, _ = split_header_unit(h)
    return any(w in name for w in PII_WORDS)


@dataclass
class HeaderCell:
    """One column of the header as written: its text (levels joined) and the unit in brackets."""

    col: int
    text: str
    unit: str | None
    keys: tuple[str, ...]


@dataclass
class SheetLayout:
    """Where things are in a sheet.

    Attributes
    ----------
    header_row
        0-based index of the (first) header row.
    header_rows
        1 or 2 rows of header text, plus 1 when a units row stands under them.
    headers
        The non-empty header cells.
    title_text
        The text of the rows above the header, joined (for the unit and year hints).
    title_unit
        The money unit stated in a title row or, with the label, in the units row (``单位：万元``
        → ``万元``), else ``None``; it applies to the money columns whose header names no unit.
    title_year
        The year stated in a title row (``XX区2021年…`` → 2021), else ``None``.
    """

    header_row: int
    header_rows: int
    headers: list[HeaderCell]
    title_text: str = ""
    title_unit: str | None = None
    title_year: int | None = None
    title_rows: int = 0
    unmatched: list[str] = field(default_factory=list)

    @property
    def first_data_row(self) -> int:
        """0-based index of the first row below the header."""
        return self.header_row + self.header_rows


def _cell_text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return _SPACES.sub("", _nfkc(str(v))) if isinstance(v, str) else str(v)


def _row_texts(rows: Sequence[Sequence[object]], r: int, width: int) -> list[str]:
    row = rows[r] if r < len(rows) else []
    return [_cell_text(row[j]) if j < len(row) else "" for j in range(width)]


def _merged_fill(
    texts: list[str], r: int, merged: Sequence[tuple[int, int, int, int]], rows
) -> list[str]:
    """Fill cells of row ``r`` covered by a merged range with the range's value."""
    out = list(texts)
    for r0, c0, r1, c1 in merged:
        if r0 <= r <= r1:
            value = _cell_text(rows[r0][c0]) if r0 < len(rows) and c0 < len(rows[r0]) else ""
            for j in range(c0, min(c1, len(out) - 1) + 1):
                if not out[j]:
                    out[j] = value
    return out


def _keys_of(parts: Sequence[str]) -> tuple[str, ...]:
    parts = [p for p in parts if p]
    if not parts:
        return ()
    keys = [canonical_header("".join(parts))]
    if len(parts) == 2:
        keys.append(canonical_header(parts[1] + parts[0]))
    return tuple(dict.fromkeys(keys))


def _unit_of(parts: Sequence[str]) -> str | None:
    unit = None
    for p in parts:
        _, u = split_header_unit(p)
        if u:
            unit = u
    return unit


def _score(headers: Sequence[HeaderCell], profile: Profile | None = None) -> int:
    known = _all_keys(profile)
    return sum(any(k in known for k in h.keys) for h in headers)


def _headers_one(texts: list[str]) -> list[HeaderCell]:
    return [HeaderCell(j, t, _unit_of([t]), _keys_of([t])) for j, t in enumerate(texts) if t]


def _headers_two(top: list[str], bottom: list[str]) -> list[HeaderCell]:
    out = []
    filled = list(top)
    # A merged top cell written once (CSV, or a reader without merge info) spans the empty cells
    # to its right that have a lower level under them.
    for j in range(1, len(filled)):
        if not filled[j] and bottom[j] and filled[j - 1] and bottom[j - 1]:
            filled[j] = filled[j - 1]
    for j, (t, b) in enumerate(zip(filled, bottom, strict=True)):
        if not t and not b:
            continue
        parts = [t, b] if t != b else [t]
        out.append(HeaderCell(j, "".join(p for p in parts if p), _unit_of(parts), _keys_of(parts)))
    return out


@cache
def _known_units() -> frozenset[str]:
    """Every unit a units row may state (money, areas, fee rates, counts, ``%``)."""
    from ..units import AREA_M2_UNITS, AREA_MU_UNITS, COUNT_UNITS, FEE_RATE_BASIS, MONEY_UNITS

    known = {*MONEY_UNITS, *AREA_M2_UNITS, *AREA_MU_UNITS, *FEE_RATE_BASIS, "%", "元/月"}
    return frozenset(known | {u for us in COUNT_UNITS.values() for u in us})


def _unit_cell(text: str) -> str | None:
    """The unit a cell of a units row states (``（万元）``, ``万元``, ``单位：亩``, ``㎡``), else ``None``.

    ``""`` for an empty cell or a bare ``单位`` label: a units row may leave cells empty.
    """
    cell = text.strip("()[]【】").removeprefix("单位").lstrip(":").strip("()[]【】")
    if cell == "":
        return ""
    return cell if cell in _known_units() else None


def _is_units_row(texts: Sequence[str]) -> bool:
    """A row holding nothing but units (``（万元）``, ``平方米``, ``元/平方米/月``), some cells empty."""
    units = [_unit_cell(t) for t in texts if t]
    return any(units) and all(u is not None for u in units)


def _with_units(headers: Sequence[HeaderCell], units_row: Sequence[str]) -> list[HeaderCell]:
    """The header cells with the units of the units row under them (``补偿总额`` → ``补偿总额(万元)``).

    A unit under an empty header cell names no column and is dropped; an empty units cell leaves
    its header as written.
    """
    out = []
    for h in headers:
        unit = _unit_cell(units_row[h.col]) if h.col < len(units_row) else ""
        if unit:
            h = HeaderCell(h.col, f"{h.text}({unit})", unit, h.keys)
        out.append(h)
    return out


def units_row_below(rows: Sequence[Sequence[object]], layout: SheetLayout) -> int | None:
    """0-based index of the units row of a two-row header (``（万元）`` under 补偿总额), else None."""
    if layout.header_rows != 2:
        return None
    r = layout.header_row + 1
    width = max((len(row) for row in rows[layout.header_row : r + 1]), default=0)
    return r if _is_units_row(_row_texts(rows, r, width)) else None


_TITLE_UNIT = re.compile(r"单位[:：]?\s*([^\s;；)）]{1,24})")
_UNIT_SPLIT = re.compile(r"[、,，/|]+")


def _title_money_unit(title_text: str) -> str | None:
    """The money unit a title states (``单位：万元``, ``单位：亩、万元`` → ``万元``), else ``None``."""
    from ..units import MONEY_UNITS

    for m in _TITLE_UNIT.finditer(title_text):
        for token in _UNIT_SPLIT.split(m.group(1)):
            if token in MONEY_UNITS:
                return token
    return None


_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def find_layout(
    rows: Sequence[Sequence[object]],
    merged: Sequence[tuple[int, int, int, int]] = (),
    *,
    profile: Profile | None = None,
) -> SheetLayout | None:
    """Find the header of a sheet by content.

    Each of the first :data:`HEADER_SEARCH_ROWS` rows is tried as a one-row header and, with the row
    below, as a two-row header (levels joined, merged cells filled); the candidate whose cells match
    the most known headers wins, a one-row header winning ties. At least two cells must match.
    The profile's header words count as known.

    Returns
    -------
    SheetLayout or None
        ``None`` when no row looks like a header of a known ledger.
    """
    if not rows:
        return None
    n = min(len(rows), HEADER_SEARCH_ROWS)
    width = max((len(r) for r in rows[: n + 2]), default=0)
    # (score, -text rows, -r, header rows with a units row, headers)
    best: tuple[int, int, int, int, list[HeaderCell]] | None = None
    texts = [_merged_fill(_row_texts(rows, r, width), r, merged, rows) for r in range(n + 2)]
    for r in range(n):
        levels = [(1, _headers_one(texts[r]))]
        below = texts[r + 1]
        # a two-row header has text in both rows; a units row under a header is no second level
        if r + 1 < len(rows) and any(texts[r]) and any(below) and not _is_units_row(below):
            levels.append((2, _headers_two(texts[r], below)))
        for nrows, headers in levels:
            # （万元） under 补偿总额, under a one- or a two-row header: part of the header
            units = r + nrows < len(rows) and _is_units_row(texts[r + nrows])
            if units:
                headers = _with_units(headers, texts[r + nrows])
            score = _score(headers, profile)
            if score < 2:
                continue
            key = (score, -nrows, -r)
            if best is None or key > best[:3]:
                best = (score, -nrows, -r, nrows + units, headers)
    if best is None:
        return None
    _, neg_levels, neg_r, header_rows, headers = best
    header_row = -neg_r
    above = [" ".join(t for t in texts[i] if t) for i in range(header_row)]
    title_text = " ".join(t for t in above if t)
    stated = title_text
    if header_rows > -neg_levels:  # a units row's 单位：万元 is the sheet's unit, as in a title
        stated += " " + " ".join(t for t in texts[header_row + header_rows - 1] if t)
    m_year = _TITLE_YEAR.search(title_text)
    known = _all_keys(profile)
    return SheetLayout(
        header_row=header_row,
        header_rows=header_rows,
        headers=headers,
        title_text=title_text,
        title_unit=_title_money_unit(stated),
        title_year=int(m_year.group(1)) if m_year else None,
        title_rows=sum(1 for t in above if t),
        unmatched=[h.text for h in headers if not any(k in known for k in h.keys)],
    )


# --- row classification ------------------------------------------------------------------------

ROW_KINDS = ("data", "blank", "total", "subtotal", "qizhong", "note")

_TOTAL = re.compile(
    r"^(?:全区|全县|全市|全部|总)?(?:合计|总计)(?:[(:（].*)?$|^[^\d]{0,12}?总计(?:[(:（].*)?$"
)
_SUBTOTAL = re.compile(r"^[^\d]{0,12}?(?:小计|合计)(?:[(:（].*)?$")  # 贵城片区合计 is a group total
_QIZHONG = re.compile(r"^其中(?![0-9])")
_NOTE = re.compile(
    r"^(?:填表人|填报人|审核人|制表人|制表|负责人|联系人|审核|备注|说明|注\d*|附注)\s*[:：.、]"
)


def classify_rows(
    block: pd.DataFrame, *, label_cols: Sequence[int] | None = None, no_missing: bool = False
) -> pd.Series:
    """Classify the rows below a header: data, blank, total, subtotal, qizhong (其中) or note.

    Parameters
    ----------
    block
        The cells below the header (object dtype), one row per sheet row.
    label_cols
        The columns that may hold a 合计/小计/其中 label: the descriptive columns (not numbers,
        dates or 备注, so that a note such as ``其中：2户未签约`` never turns a data row into a
        sub-row). Default: the first four columns. ``X合计`` and ``小计`` are group totals,
        a bare ``合计``/``总计`` the grand total.
    no_missing
        The block holds ``""`` for empty cells and no NA (as the readers give it): skips an NA scan.

    Returns
    -------
    pandas.Series
        One kind per row (same index). A 合计/总计/小计 or 其中 label is looked for in the
        ``label_cols`` columns; a note is a row whose first non-empty cell starts with 填表人：, 审核人：, 备注：,
        注：… ; the rows after a note that hold at most two cells are notes too.
    """
    if block.empty:
        return pd.Series([], dtype="str", index=block.index)
    arr = block.to_numpy(dtype=object)
    filled = (arr != "") if no_missing else (arr != "") & pd.notna(arr)
    count = filled.sum(axis=1)
    cols = (
        list(range(min(4, arr.shape[1])))
        if label_cols is None
        else [j for j in label_cols if j < arr.shape[1]]
    )
    lead = arr[:, cols]
    is_total = np.zeros(len(arr), dtype=bool)
    is_sub = np.zeros(len(arr), dtype=bool)
    is_qz = np.zeros(len(arr), dtype=bool)
    for j in range(lead.shape[1]):
        hit = _label_text(lead[:, j], _LABEL_HINT)  # the few cells that may be labels
        if hit.empty:
            continue
        pos = hit.index.to_numpy()
        total = hit.map(lambda t: _TOTAL.match(t) is not None).to_numpy(dtype=bool)
        is_total[pos] |= total
        is_sub[pos] |= (
            hit.map(lambda t: _SUBTOTAL.match(t) is not None).to_numpy(dtype=bool) & ~total
        )
        is_qz[pos] |= hit.map(lambda t: _QIZHONG.match(t) is not None).to_numpy(dtype=bool)
    first = arr[np.arange(len(arr)), filled.argmax(axis=1)]
    is_sub &= ~is_total
    is_note = np.zeros(len(arr), dtype=bool)
    notes = _label_text(first, _NOTE_HINT)
    if len(notes):
        is_note[notes.index.to_numpy()] = notes.map(lambda t: _NOTE.match(t) is not None).to_numpy(
            dtype=bool
        )
    if is_note.any():
        after = np.cumsum(is_note) > 0
        is_note = is_note | (after & (count <= 2) & (count > 0))
    kind = np.select(
        [count == 0, is_note, is_total, is_sub, is_qz],
        ["blank", "note", "total", "subtotal", "qizhong"],
        default="data",
    )
    return pd.Series(kind, index=block.index, dtype="str")


# Plain-string patterns that pandas hands to pyarrow's RE2 (no per-cell Python): no ``\s`` (pandas
# falls back to Python ``re`` for it), an explicit class of ASCII and ideographic spaces instead.
_SP = "[ \t\u3000]*"
_LABEL_HINT = f"合{_SP}计|总{_SP}计|小{_SP}计|其{_SP}中"
_NOTE_HINT = f"^{_SP}(?:填|审|制|负|联|备|说|注|附)"


def _label_text(cells: np.ndarray, hint: str) -> pd.Series:
    """Normalised text (NFKC, no whitespace) of the few cells that may be a label (合计, 注：…).

    Every cell is turned into text once and searched for ``hint`` in one vectorised pass; only the
    hits are returned, indexed by the cell's position, so 100,000 numbers or names cost
    milliseconds.
    """
    # only text cells can hold a label: a number, date or truth value never contains 合计 or 注
    if pd.api.types.infer_dtype(cells, skipna=False) == "string":  # all text (no NA): no scan
        pos = np.arange(len(cells))
    else:
        codes, uniq = pd.factorize(_TYPE_OF(cells) if len(cells) else np.empty(0, dtype=object))
        pos = np.flatnonzero(
            np.array([issubclass(t, str) for t in uniq] + [False], dtype=bool)[codes]
        )
    texts = cells[pos].tolist()
    # most columns hold no label at all: one search of their joined text (a line per cell, a ^
    # at each line's start) says so without a string per cell for pyarrow; a hit there (or a
    # line break inside a cell) only sends the column on to the exact search per cell
    if _joined_hint(hint).search("\n".join(texts)) is None:
        return pd.Series([], index=pos[:0], dtype="str")
    # the search in pyarrow (RE2, as pandas' str.contains would): only the hits become a Series
    text = pa.array(texts, type=pa.string())
    cand = pc.match_substring_regex(text, hint).to_numpy(zero_copy_only=False)
    hits = pd.Series(text.filter(pa.array(cand)), index=pos[cand], dtype="str")
    return hits.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)


_TYPE_OF = np.frompyfunc(type, 1, 1)


@cache
def _joined_hint(hint: str) -> re.Pattern[str]:
    """``hint`` for a text of one cell per line: every cell it matches, it matches there."""
    return re.compile(hint, re.MULTILINE)
