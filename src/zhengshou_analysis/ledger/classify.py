"""Which canonical table a sheet feeds, and which sheet column feeds which field.

A sheet is classified by its header alone (docs/data_contract.md §1): every table's accepted
header words (:func:`~zhengshou_analysis.ledger.layout.header_index`) are matched against the
sheet's header cells, and the table with the most matched columns wins (ties broken by a name hint
in the file or sheet name, then by the number of required columns found). Personal-data headers
are never mapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from ..schemas import TABLES, Column, Table
from ..units import FEE_RATE_BASIS
from .ingest import RawSheet
from .layout import SheetLayout, header_index, is_pii_header

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = [
    "Classification",
    "MappedColumn",
    "classify_sheet",
    "excel_column",
    "map_headers",
    "name_hint",
]


def excel_column(j: int) -> str:
    """The spreadsheet letter of the 0-based column index ``j`` (0 → ``A``, 26 → ``AA``)."""
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


@dataclass
class MappedColumn:
    """A sheet column mapped to a canonical column.

    Attributes
    ----------
    column
        The canonical column it feeds.
    col
        Its 0-based position in the sheet.
    header
        The header text as written (after layout normalisation).
    unit
        The text in the header's brackets (``万元``, ``㎡``, ``含奖励`` …) or ``None``.
    priority
        Rank of the matched header word among the column's accepted headers (0 = preferred,
        e.g. 项目编号 before 项目名称 for ``project_id``).
    """

    column: Column
    col: int
    header: str
    unit: str | None
    priority: int

    @property
    def where(self) -> str:
        """The column as a person finds it in the sheet: ``列 C「协议编号」``."""
        return f"列 {excel_column(self.col)}「{self.header}」"


class Classification(NamedTuple):
    """The outcome of :func:`classify_sheet`.

    ``table`` is ``None`` for a skipped sheet (``note`` says why); ``missing`` lists the required
    columns of ``table`` that the sheet neither has nor can derive (an error).
    """

    table: Table | None
    mapped: dict[str, MappedColumn]
    missing: list[str]
    note: str


def map_headers(
    layout: SheetLayout, t: Table, profile: Profile | None = None
) -> tuple[dict[str, MappedColumn], list[str]]:
    """Map a sheet's header cells to the columns of table ``t``.

    Parameters
    ----------
    layout
        The sheet's layout (its header cells with their match keys).
    t
        The candidate table.
    profile
        The office profile: its header words map too, and its 片区 aliases ride on the ``zone``
        column (:func:`~zhengshou_analysis.ledger.layout.header_index`).

    Returns
    -------
    mapped : dict[str, MappedColumn]
        Canonical column name → the sheet column feeding it. When two header cells match the
        same column, the one with the better (lower) priority wins; on a tie, the leftmost.
    ignored : list[str]
        Header texts of the losing duplicates, in the order they lost.
    """
    index = header_index(profile)[t.name]
    mapped: dict[str, MappedColumn] = {}
    ignored = []
    for h in layout.headers:
        if is_pii_header(h.text):
            continue
        hit = next((index[k] for k in h.keys if k in index), None)
        if hit is None:
            continue
        col, prio = hit
        cand = MappedColumn(col, h.col, h.text, h.unit, prio)
        prev = mapped.get(col.name)
        if prev is None or cand.priority < prev.priority:
            if prev is not None:
                ignored.append(prev.header)
            mapped[col.name] = cand
        else:
            ignored.append(h.text)
    return mapped, ignored


def _derivable(t: Table, name: str, layout: SheetLayout, mapped: dict[str, MappedColumn]) -> bool:
    """Whether a required column the sheet lacks can be derived (year from the title, fee basis
    from the fee rate's unit)."""
    if t.name == "projects" and name == "year":
        return layout.title_year is not None
    if t.name == "transition" and name == "fee_basis":
        rate = mapped.get("fee_rate_yuan")
        return rate is not None and rate.unit in FEE_RATE_BASIS
    return False


def name_hint(sheet: RawSheet, t: Table) -> str | None:
    """The word of the file or sheet name that hints at table ``t`` (``协议``), else ``None``."""
    hint_text = f"{sheet.file} {sheet.sheet}"
    return next((h for h in t.name_hints if h in hint_text), None)


def classify_sheet(
    sheet: RawSheet, layout: SheetLayout, profile: Profile | None = None
) -> Classification:
    """Pick the table a sheet feeds.

    Parameters
    ----------
    sheet
        The raw sheet (its file and sheet names are the hint).
    layout
        Its layout, from :func:`~zhengshou_analysis.ledger.layout.find_layout`.
    profile
        The office profile (extra header words).

    Returns
    -------
    Classification
        The best-matching table with its mapping and missing required columns; or no table when
        fewer than two columns match, or when the best match lacks required columns and has
        neither a name hint nor at least four matched columns (then ``note`` explains).
    """
    scored = []
    for t in TABLES.values():
        mapped, _ = map_headers(layout, t, profile)
        hint = name_hint(sheet, t) is not None
        req = sum(c in mapped for c in t.required)
        scored.append((len(mapped), hint, req, t, mapped))
    scored.sort(key=lambda s: (s[0], s[1], s[2]), reverse=True)
    n, hint, _, t, mapped = scored[0]
    if n < 2:
        return Classification(None, {}, [], "no table matches its header")
    missing = [c for c in t.required if c not in mapped and not _derivable(t, c, layout, mapped)]
    if not missing or hint or n >= 4:
        return Classification(t, mapped, missing, "")
    return Classification(
        None,
        {},
        [],
        (
            f"header looks partly like {t.name} ({', '.join(mapped)}) but lacks "
            f"{', '.join(missing)} and neither the file nor the sheet name says {t.label}"
        ),
    )
