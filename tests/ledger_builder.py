"""Build small messy ledgers for tests: xlsx (with real merged cells, hidden sheets) and CSV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

Cell = object


def write_xlsx(path: Path, sheets: dict[str, dict]) -> Path:
    """Write a workbook. Each sheet: {"rows": [[...]], "merges": [(r0, c0, r1, c1, value)],
    "hidden": bool}; datetimes are written as real Excel dates, other values as they are."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": dt.datetime(2022, 1, 1)})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, spec in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(spec.get("rows", [])):
            for c, v in enumerate(row):
                if v is None or v == "":
                    continue
                if isinstance(v, dt.datetime | dt.date):
                    ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), date_fmt)
                else:
                    ws.write(r, c, v)
        for r0, c0, r1, c1, v in spec.get("merges", []):
            ws.merge_range(r0, c0, r1, c1, v)
        if spec.get("hidden"):
            ws.hide()
    wb.close()
    return path


def write_csv(path: Path, rows: list[list[Cell]], encoding: str = "utf-8") -> Path:
    text = "\r\n".join(",".join(_csv_cell(v) for v in row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def _csv_cell(v: Cell) -> str:
    s = "" if v is None else str(v)
    if any(ch in s for ch in ',"\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s
