"""The in-memory sheets, workbooks and CSV files of the demo, and their byte-reproducible writers.

A renderer fills :class:`Sheet` objects cell by cell (values, merged ranges, column widths, styles);
:func:`write_book` and :func:`write_csv` turn them into files. Cell values are ``str``, ``int``,
``float``, :class:`XDate` (a real Excel date) or :class:`XNum` (a number with a number format).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

__all__ = ["Book", "Csv", "Sheet", "XDate", "XNum", "write_book", "write_csv"]

#: The fixed creation time in every workbook's properties (byte-reproducible files).
CREATED = datetime(2023, 1, 1, tzinfo=UTC)

_XLSX_OPTIONS = {
    "in_memory": True,
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}
_STYLES = {
    "title": {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"},
    "line": {"align": "left"},
    "header": {
        "bold": True,
        "border": 1,
        "align": "center",
        "valign": "vcenter",
        "text_wrap": True,
        "bg_color": "#DDEBF7",
    },
    "cell": {"align": "center", "valign": "vcenter"},
}


@dataclass(frozen=True)
class XDate:
    """A real Excel date (a date serial with a date number format)."""

    value: date
    fmt: str = "yyyy-mm-dd"


@dataclass(frozen=True)
class XNum:
    """A number with a number format (a percentage)."""

    value: float
    fmt: str


@dataclass
class Sheet:
    """One worksheet being filled row by row; ``row`` is the next free row (0-based)."""

    name: str
    cells: dict[tuple[int, int], object] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int, str, str]] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    styles: dict[tuple[int, int], str] = field(default_factory=dict)
    row: int = 0

    def put(self, r: int, c: int, value: object) -> None:
        """Set cell ``(r, c)``; ``None`` and ``""`` leave the cell empty."""
        if value is None or value == "":
            return
        self.cells[(r, c)] = value

    def merge(self, r1: int, c1: int, r2: int, c2: int, value: str, style: str = "cell") -> None:
        """Merge a range holding ``value`` (a one-cell range is a plain, styled cell)."""
        if (r1, c1) == (r2, c2):
            self.put(r1, c1, value)
            if style != "cell":
                self.styles[(r1, c1)] = style
            return
        self.merges.append((r1, c1, r2, c2, value, style))

    def title(self, text: str, ncols: int) -> None:
        """A bold title row across ``ncols`` columns."""
        self.merge(self.row, 0, self.row, ncols - 1, text, "title")
        self.row += 1

    def line(self, text: str, ncols: int) -> None:
        """A left-aligned text row across ``ncols`` columns (unit, date, notes)."""
        self.merge(self.row, 0, self.row, ncols - 1, text, "line")
        self.row += 1


@dataclass
class Book:
    """An xlsx workbook: a file name and its sheets in order."""

    name: str
    sheets: list[Sheet] = field(default_factory=list)


@dataclass
class Csv:
    """A CSV file: its name, its encoding and its rows of text."""

    name: str
    encoding: str
    rows: list[list[str]] = field(default_factory=list)


def write_book(book: Book, path: Path, *, label: str) -> None:
    """Write ``book`` as an xlsx file with fixed properties (titles carry ``label``).

    Parameters
    ----------
    book
        The workbook to write.
    path
        The target file (overwritten).
    label
        The synthetic-data label written into the workbook properties.
    """
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), _XLSX_OPTIONS)
    wb.set_properties(
        {
            "title": f"{Path(book.name).stem}（{label}）",
            "subject": "示例数据，非真实统计",
            "author": "zhengshou-analysis demo generator",
            "company": label,
            "comments": "Synthetic demo ledger written by zhengshou_analysis.demo; not real statistics.",
            "created": CREATED,
        }
    )
    formats = _Formats(wb)
    for sh in book.sheets:
        _write_sheet(wb.add_worksheet(sh.name), sh, formats)
    wb.close()


class _Formats:
    """The workbook's cell formats, created once each and in first-use order."""

    def __init__(self, wb: Any) -> None:
        self._wb = wb
        self.styles = {name: wb.add_format(props) for name, props in _STYLES.items()}
        self._number: dict[str, object] = {}

    def number(self, fmt: str) -> object:
        if fmt not in self._number:
            self._number[fmt] = self._wb.add_format({"num_format": fmt})
        return self._number[fmt]


def _write_sheet(ws: Any, sh: Sheet, formats: _Formats) -> None:
    for c, w in sorted(sh.widths.items()):
        ws.set_column(c, c, w)
    for r1, c1, r2, c2, value, style in sh.merges:
        ws.merge_range(r1, c1, r2, c2, value, formats.styles[style])
    for (r, c), v in sorted(sh.cells.items()):
        if isinstance(v, XDate):
            ws.write_datetime(r, c, v.value, formats.number(v.fmt))
        elif isinstance(v, XNum):
            ws.write_number(r, c, v.value, formats.number(v.fmt))
        elif isinstance(v, str):
            ws.write_string(r, c, v, formats.styles.get(sh.styles.get((r, c), "")))
        elif isinstance(v, (int, float)):
            ws.write_number(r, c, v)
        else:  # pragma: no cover - the renderers only produce the types above
            raise TypeError(f"cannot write {v!r}")


def write_csv(out: Csv, path: Path) -> None:
    """Write ``out`` with CRLF line ends in its encoding.

    Parameters
    ----------
    out
        The CSV file to write.
    path
        The target file (overwritten).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(out.rows)
    path.write_bytes(buf.getvalue().encode(out.encoding))
