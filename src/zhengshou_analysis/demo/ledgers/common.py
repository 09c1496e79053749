"""What every ledger renderer shares: the output collector, messy cell forms and sheet scaffolding.

Every cell writer returns the value docs/data_contract.md reads from the cell; the renderers record
that value as the truth (:attr:`Ledgers.truth`), so a perfect cleaner recovers the truth exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from ..workbook import Book, Csv, Sheet, XDate
from ..world import Person, Site, World, component_rng, pick

__all__ = [
    "FULLWIDTH",
    "PLACEHOLDERS",
    "SYNTHETIC_LABEL",
    "Column",
    "Ledgers",
    "Page",
    "close_sheet",
    "date_cell",
    "date_rule",
    "fmt",
    "header",
    "merge_group",
    "num",
    "open_sheet",
    "total_row",
]

#: The label every demo sheet carries in its title.
SYNTHETIC_LABEL = "示例数据（模拟）"

#: Every placeholder of docs/data_contract.md §1 (``""`` is an empty cell).
PLACEHOLDERS = ("X", "x", "XX", "—", "--", "-", "/", "无", "暂无", "待定", "")

#: Half-width digits and separators to their full-width forms.
FULLWIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")

_EXCEL_EPOCH = date(1899, 12, 30)

#: A column of a sheet layout: (key, header, sub-header of a two-row header or None).
Column = tuple[str, str, str | None]


# =================================================================================================
# Cell forms
# =================================================================================================
def date_cell(d: date, style: str) -> tuple[object, date]:
    """Render date ``d`` in ``style``; return (cell, the date the contract reads from it)."""
    if style == "excel":
        return XDate(d), d
    if style == "excel_slash":
        return XDate(d, "yyyy/m/d"), d
    if style == "serial":
        return (d - _EXCEL_EPOCH).days, d
    if style in _DATE_TEXT:
        return _DATE_TEXT[style](d), d
    if style == "ymd_int":
        return int(f"{d:%Y%m%d}"), d
    if style == "month_cn":
        return f"{d.year}年{d.month}月", d.replace(day=1)
    if style == "month_dot":
        return f"{d.year}.{d.month:02d}", d.replace(day=1)
    if style == "ambiguous":
        if d.month != 10:
            raise ValueError("the ambiguous float form is Excel's rendering of an October month")
        return float(f"{d.year}.1"), date(d.year, 1, 1)
    raise ValueError(f"unknown date style {style!r}")


_DATE_TEXT = {
    "cn": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "dot": lambda d: f"{d.year}.{d.month}.{d.day}",
    "slash": lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    "dash": lambda d: f"{d.year}-{d.month}-{d.day}",
    "iso": lambda d: d.isoformat(),
    "ymd_text": lambda d: f"{d:%Y%m%d}",
}


def date_rule(style: str) -> str:
    """The coverage rule of a date style (both real-Excel-date styles are ``date:excel``)."""
    return "date:" + ("excel" if style.startswith("excel") else style)


def fmt(v: float, decimals: int) -> str:
    """``v`` as text with ``decimals`` decimals."""
    return f"{v:.{decimals}f}"


def num(v: float, decimals: int) -> float | int:
    """``v`` rounded to ``decimals`` (an int for 0 decimals)."""
    return round(v) if decimals == 0 else round(float(v), decimals)


# =================================================================================================
# The output collector
# =================================================================================================
@dataclass
class Ledgers:
    """What the renderers produce from one world.

    ``truth`` holds, per canonical table, the rows a perfect cleaner reads; ``rejections`` the
    planted bad rows; ``coverage`` the ``file / sheet`` places of every messy rule (for the
    README); ``mismatch`` the one wrong total; ``special`` cell texts the README quotes.
    """

    world: World
    books: list[Book] = field(default_factory=list)
    csvs: list[Csv] = field(default_factory=list)
    truth: defaultdict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    rejections: list[dict] = field(default_factory=list)
    coverage: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    mismatch: dict = field(default_factory=dict)
    special: dict[str, str] = field(default_factory=dict)
    _placeholder_state: defaultdict[str, int] = field(
        default_factory=lambda: defaultdict(int), init=False, repr=False
    )

    def rng(self, part: str) -> np.random.Generator:
        """The generator of one renderer (its own stream, like the world's components)."""
        return component_rng(self.world.seed, part)

    def cov(self, rule: str, file: str, sheet: str = "") -> None:
        """Record that ``rule`` appears in ``file`` (and ``sheet``)."""
        self.coverage[rule].add(f"{file} / {sheet}" if sheet else file)

    def placeholder(self, column: str, options: tuple[str, ...], file: str, sheet: str) -> str:
        """Next placeholder for ``column`` (cycling through ``options`` deterministically)."""
        i = self._placeholder_state[column]
        self._placeholder_state[column] += 1
        token = options[i % len(options)]
        self.cov("placeholder:" + (token or "(empty)"), file, sheet)
        return token

    def reject(self, file: str, sheet: str, row: int, table: str, reason: str) -> None:
        """Record a planted bad row (``row`` as a person sees it) and its coverage.

        Coverage of a CSV file is per file (its one "sheet" is named like the file).
        """
        self.rejections.append(
            {"file": file, "sheet": sheet, "row": row, "table": table, "reason": reason}
        )
        self.cov("bad_rows", file, "" if file.endswith(".csv") else sheet)


@dataclass
class Page:
    """One sheet being rendered into a file: shortcuts that know the file and the sheet."""

    out: Ledgers
    file: str
    sh: Sheet
    ncols: int = 1  #: columns a title or note row spans

    def cov(self, *rules: str) -> None:
        """Record ``rules`` for this sheet."""
        for rule in rules:
            self.out.cov(rule, self.file, self.sh.name)

    def placeholder(self, column: str, options: tuple[str, ...]) -> str:
        """Next placeholder of ``column`` (see :meth:`Ledgers.placeholder`)."""
        return self.out.placeholder(column, options, self.file, self.sh.name)

    def put_placeholder(self, r: int, c: int, column: str, options: tuple[str, ...]) -> None:
        """Write the next placeholder of ``column`` into cell ``(r, c)``."""
        self.sh.put(r, c, self.placeholder(column, options))

    def put_date(self, r: int, c: int, d: date, style: str, *, cover: bool = True) -> date:
        """Write ``d`` in ``style``; return the date the contract reads."""
        cell, read = date_cell(d, style)
        self.sh.put(r, c, cell)
        if cover:
            self.cov(date_rule(style))
        return read

    def put_drawn(
        self,
        r: int,
        c: int,
        draw: float,
        forms: tuple[tuple[float, object, str], ...],
        plain: object,
    ) -> None:
        """Write the first of ``forms`` (threshold, cell, rule) with ``draw < threshold``.

        The rule of the chosen form is covered; without a match the cell is ``plain``.
        """
        for threshold, cell, rule in forms:
            if draw < threshold:
                self.sh.put(r, c, cell)
                if rule:
                    self.cov(rule)
                return
        self.sh.put(r, c, plain)

    def reject(self, r: int, table: str, reason: str) -> None:
        """Record the bad row at 0-based row ``r`` of this sheet."""
        self.out.reject(self.file, self.sh.name, r + 1, table, reason)

    def put_person(self, r: int, col: dict[str, int], person: Person) -> None:
        """The personal-data cells present in the layout (name, ID number, phone)."""
        for key, value in (
            ("pname", person.name),
            ("pidno", person.idno),
            ("pphone", person.phone),
        ):
            if key in col:
                self.sh.put(r, col[key], value)

    def site_written(self, site: Site, rng: np.random.Generator, *, fullwidth: bool = False) -> str:
        """A site name as a clerk writes it: brackets full-width, or a trailing space."""
        name = site.name
        if "(" in name and (fullwidth or rng.random() < 0.5):
            name = name.replace("(", "（").replace(")", "）")
            self.cov("nfkc_names")
        elif rng.random() < 0.02:
            name += " "
            self.cov("nfkc_names")
        return name

    def pick_date(
        self, r: int, c: int, d: date, styles: tuple[str, ...], rng: np.random.Generator
    ) -> date:
        """Write ``d`` in a style drawn from ``styles``; return the date the contract reads."""
        return self.put_date(r, c, d, pick(rng, styles))


# =================================================================================================
# Sheet scaffolding
# =================================================================================================
def open_sheet(
    out: Ledgers,
    file: str,
    name: str,
    cols: list[Column],
    *,
    title: str,
    lines: tuple[str, ...] = (),
    rules: tuple[str, ...] = (),
) -> tuple[Page, dict[str, int]]:
    """A new sheet with its title and text rows and its header; return it and key → column."""
    sh = Sheet(name)
    n = len(cols)
    sh.title(title, n)
    for text in lines:
        sh.line(text, n)
    page = Page(out, file, sh, n)
    page.cov(*rules)
    return page, header(sh, cols)


def header(sh: Sheet, cols: list[Column]) -> dict[str, int]:
    """Write a one- or two-row header; return key → column index."""
    two = any(sub is not None for _, _, sub in cols)
    r = sh.row
    c = 0
    while c < len(cols):
        _, top, sub = cols[c]
        if sub is None:
            sh.merge(r, c, r + (1 if two else 0), c, top, "header")
            c += 1
            continue
        span = c
        while span + 1 < len(cols) and cols[span + 1][1] == top and cols[span + 1][2] is not None:
            span += 1
        sh.merge(r, c, r, span, top, "header")
        for j in range(c, span + 1):
            sh.merge(r + 1, j, r + 1, j, cols[j][2] or "", "header")
        c = span + 1
    sh.row += 2 if two else 1
    for i, (_, top, sub) in enumerate(cols):
        text = top + (sub or "")
        sh.widths[i] = max(6.0, min(2.2 * len(text) + 2, 28.0))
    return {key: i for i, (key, _, _) in enumerate(cols)}


def close_sheet(page: Page, book: Book, *, year: int, extra: tuple[str, ...] = ()) -> None:
    """Trailing notes below the table (填表人, 审核人, ``extra``, 注); the sheet joins ``book``."""
    sh = page.sh
    n = page.ncols
    sh.row += 1
    sh.line(f"填表人：李某某        审核人：王某某        填报日期：{year + 1}年1月10日", n)
    for text in extra:
        sh.line(text, n)
    sh.line(f"注：本表为{SYNTHETIC_LABEL}，非真实统计，仅用于演示。", n)
    page.cov("trailing_notes")
    book.sheets.append(sh)


def total_row(page: Page, label_end: int, label: str) -> int:
    """A total row whose label is merged over columns ``0..label_end``; return its row."""
    r = page.sh.row
    page.sh.merge(r, 0, r, label_end, label)
    page.sh.row += 1
    return r


def merge_group(page: Page, r0: int, c: int, value: str) -> None:
    """Merge column ``c`` from row ``r0`` down to the last written row (a category's rows)."""
    page.sh.merge(r0, c, page.sh.row - 1, c, value)
