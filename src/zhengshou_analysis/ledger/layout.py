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
from itertools import compress, repeat
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

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
        a bare ``合计``/``总计`` the grand total. Columns beyond the block are skipped.
    no_missing
        The block holds ``""`` for empty cells and no NA (as the readers give it): skips an NA scan.

    Returns
    -------
    pandas.Series
        One kind per row (same index, ``str`` dtype). A row without a non-empty cell is blank. A
        合计/总计/小计 or 其中 label is looked for in the ``label_cols`` columns (text cells only,
        NFKC, whitespace removed); a note is a row whose first non-empty cell starts with 填表人：,
        审核人：, 备注：, 注：… ; the rows after a note that hold at most two cells are notes too.
        Precedence: blank, note, total, subtotal, qizhong, data.
    """
    if block.empty:
        return pd.Series([], dtype="str", index=block.index)
    arr = block.to_numpy(dtype=object)
    n = len(arr)
    first_col = _first_filled(arr, no_missing)
    cols = (
        list(range(min(4, arr.shape[1])))
        if label_cols is None
        else [j for j in label_cols if j < arr.shape[1]]
    )
    is_total = np.zeros(n, dtype=bool)
    is_sub = np.zeros(n, dtype=bool)
    is_qz = np.zeros(n, dtype=bool)
    columns: dict[int, _Texts] = {}  # the text cells of a label column, for the note search too
    for j in cols:
        if j in columns:
            continue
        columns[j] = _Texts.of(arr[:, j])
        pos, texts = columns[j].labels(_LABEL_HINT)  # the few cells that may be labels
        if not texts:
            continue
        total = _matches(_TOTAL, texts)
        is_total[pos] |= total
        is_sub[pos] |= _matches(_SUBTOTAL, texts) & ~total
        is_qz[pos] |= _matches(_QIZHONG, texts)
    is_sub &= ~is_total
    is_note = _notes(arr, first_col, columns)
    if is_note.any():
        # the rows from the first note on: at most two cells make a note too (blank stays blank)
        start = int(is_note.argmax())
        count = _filled(arr[start:], no_missing).sum(axis=1)
        is_note[start:] |= (count <= 2) & (count > 0)
    # the first kind that applies wins: later assignments override earlier ones
    code = np.zeros(n, dtype=np.intp)  # data
    for k, mask in ((4, is_qz), (3, is_sub), (2, is_total), (1, is_note), (5, first_col < 0)):
        code[mask] = k
    kinds = pd.array(["data", "note", "total", "subtotal", "qizhong", "blank"], dtype="str")
    return pd.Series(kinds.take(code), index=block.index)


def _filled(cells: np.ndarray, no_missing: bool) -> np.ndarray:
    """Which cells hold something: not ``""`` and (unless ``no_missing``) not NA."""
    filled = cells != ""
    return filled if no_missing else filled & pd.notna(cells)


def _first_filled(arr: np.ndarray, no_missing: bool) -> np.ndarray:
    """The column of each row's first non-empty cell, ``-1`` for a blank row.

    Column by column over the rows not yet settled: a table whose first column is filled reads
    one column of the sheet, not every cell (blank rows and rows with empty leading cells read on).
    """
    n, width = arr.shape
    first = np.full(n, -1, dtype=np.intp)
    left = np.arange(n)
    for j in range(width):
        if not len(left):
            break
        hit = _filled(arr[:, j] if len(left) == n else arr[left, j], no_missing)
        first[left[hit]] = j
        left = left[~hit]
    return first


def _notes(arr: np.ndarray, first_col: np.ndarray, columns: dict[int, _Texts]) -> np.ndarray:
    """Rows whose first non-empty cell starts a note (``注：``, ``填表人：``…), bool per row.

    The first cells standing in a label column are looked for in that column's text cells, read
    once for the labels; the others are taken from the sheet.
    """
    is_note = np.zeros(len(arr), dtype=bool)
    for j in np.flatnonzero(np.bincount(first_col + 1)[1:]).tolist():  # the columns of first cells
        if j in columns:
            pos, texts = columns[j].labels(_NOTE_HINT)
            if not texts:
                continue
            own = first_col[pos] == j  # a row whose first cell is in column j
            pos, texts = pos[own], [t for t, o in zip(texts, own.tolist(), strict=True) if o]
        else:
            rows = np.flatnonzero(first_col == j)
            pos, texts = _Texts.of(arr[rows, j]).labels(_NOTE_HINT)
            pos = rows[pos]
        if texts:
            is_note[pos] = _matches(_NOTE, texts)
    return is_note


def _matches(pattern: re.Pattern[str], texts: Sequence[str]) -> np.ndarray:
    """Whether ``pattern`` matches at the start of each text (bool array, one per text)."""
    return np.array([pattern.match(t) is not None for t in texts], dtype=bool)


# The hints, searched in each text cell as written: literal characters, an explicit class of ASCII
# and ideographic spaces (no \s) and a leading ^ (the cell's start), so that Python's re means
# what pyarrow's RE2 did. A match never spans a separator and holds one character of its gate.
_SP = "[ \t\u3000]*"
_LABEL_HINT = f"合{_SP}计|总{_SP}计|小{_SP}计|其{_SP}中"
_NOTE_HINT = f"^{_SP}(?:填|审|制|负|联|备|说|注|附)"
_GATES = {_LABEL_HINT: "计中", _NOTE_HINT: "填审制负联备说注附"}
#: Joins the text cells of a column (the unit separator: no spreadsheet text holds it).
_SEP = "\x1f"


@dataclass(frozen=True)
class _Texts:
    """The text cells of a column, joined for one search of them all.

    Attributes
    ----------
    pos
        The positions of the text (``str``) cells in the column, ascending.
    texts
        Their texts as written.
    joined
        The texts joined by :data:`_SEP` (a part per cell).
    """

    pos: np.ndarray
    texts: list[str]
    joined: str

    @classmethod
    def of(cls, cells: np.ndarray) -> _Texts:
        """The text cells of ``cells`` (a 1-D object array; numbers, dates and NA are skipped)."""
        texts = cells.tolist()
        try:  # all text (the usual label column): no type scan
            return cls(np.arange(len(texts)), texts, _SEP.join(texts))
        except TypeError:
            is_text = np.fromiter(map(isinstance, texts, repeat(str)), dtype=bool, count=len(texts))
            texts = list(compress(texts, is_text))
            return cls(np.flatnonzero(is_text), texts, _SEP.join(texts))

    def labels(self, hint: str) -> tuple[np.ndarray, list[str]]:
        """The text cells ``hint`` is found in: their positions and texts, normalised.

        ``hint`` is searched in each text cell as written (anywhere; ``^`` is the cell's start);
        a found text is returned after NFKC with all whitespace removed. Both empty when no cell
        matches.

        The joined text is searched once (``^`` at each part's start), so 100,000 numbers or
        names cost milliseconds; a match's part is its cell. A cell holding the separator itself
        would shift the parts: then each text cell is searched by itself.
        """
        joined = self.joined
        search = _joined_hint(hint)
        m = None
        if any(ch in joined for ch in _GATES[hint]):
            m = search.search(joined)
        # no match: no cell holds the hint (a part of the joined text is a cell or a piece of one)
        if m is None:
            return self.pos[:0], []
        if joined.count(_SEP) == len(self.texts) - 1:  # a part per cell: a match's part is its cell
            parts = []
            part = end = 0
            while m is not None:
                part += joined.count(_SEP, end, m.start())
                parts.append(part)
                end = joined.find(_SEP, m.end())  # on at the next part (a match holds no separator)
                m = None if end < 0 else search.search(joined, end)
            hit = np.array(parts, dtype=np.intp)
        else:  # a cell holding the separator: each text cell by itself
            one = _cell_hint(hint)
            hit = np.flatnonzero([one.search(t) is not None for t in self.texts])
        found = [_SPACES.sub("", _nfkc(self.texts[i])) for i in hit.tolist()]
        return self.pos[hit], found


@cache
def _joined_hint(hint: str) -> re.Pattern[str]:
    """``hint`` for the text cells joined by :data:`_SEP`: every cell it matches, it matches there.

    The leading ``^`` becomes "at the start or after a separator" (a cell's start).
    """
    return re.compile(hint.replace("^", f"(?<![^{_SEP}])"))


@cache
def _cell_hint(hint: str) -> re.Pattern[str]:
    """``hint`` for the text of one cell (``^`` only at its start)."""
    return re.compile(hint)
