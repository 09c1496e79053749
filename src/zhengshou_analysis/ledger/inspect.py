"""Explain what the cleaner makes of a raw folder, without writing anything (``zhengshou inspect``).

For every file and sheet: the table it feeds and why (the header words that decided, a name hint)
or why it was skipped, the header row(s), each raw header and the canonical column it feeds (or
that it is not read, and why), the unit of each mapped number column and where it is stated, the
row counts, the unmapped headers and the 片区 values the profile does not know.

Nothing here classifies, maps or parses on its own: :func:`inspect_ledgers` runs
:func:`~.clean.clean_ledgers` and reads what it recorded (the manifest's per-sheet ``columns``,
``decided_by``, counts and ``unknown_zones``; the quality log), so the explanation is exactly what
the cleaner did. A failed run (an error) is explained too: its errors are listed.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import CleanError
from ..schemas import TABLES
from .clean import CleanResult, clean_ledgers

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = ["LedgerInspection", "SheetInspection", "display_width", "inspect_ledgers"]

#: Why a sheet feeds no table, in Chinese (the cleaner's ``note``, or its status).
_SKIP_REASONS = {
    "no header found": "未找到表头（封面、说明页或非台账表格）",
    "no table matches its header": "表头不对应任何台账",
}
_STATUS = {
    "mapped": "",
    "duplicate": "重复列，已忽略",
    "unmapped": "未对应（未读取）",
    "ignored": "不需读取",
    "personal_data": "个人信息，不读取",
}
_UNIT_SOURCE = {
    "header": "表头括号",
    "units row": "单位行",
    "title": "标题行",
    "default": "默认",
}


@dataclass
class SheetInspection:
    """What the cleaner did with one sheet.

    Attributes
    ----------
    file, sheet
        Where the sheet is (a CSV's sheet: the file name without ``.csv``).
    status
        ``used``, ``skipped``, ``hidden`` or ``error`` (as in the manifest).
    table
        The canonical table it feeds, ``None`` when skipped or hidden.
    reason
        Why: the header words that decided and the name hint, or why it was skipped, or its error.
    header_rows
        The header row(s), Excel row numbers (empty when no header was found).
    columns
        One entry per header cell: ``col``, ``header``, ``status``, ``column``, ``unit``,
        ``unit_source`` (the manifest's ``columns``).
    counts
        ``rows_in_sheet``; for a used sheet also ``data`` (raw data rows), ``total``,
        ``subtotal``, ``qizhong``, ``notes``, ``blank``, ``kept``, ``rejected``.
    unmapped
        The headers that map to no column and are not read (each also a quality-log warning).
    unknown_zones
        The 片区 values neither built in nor in the profile: ``value``, ``rows``, ``first``.
    """

    file: str
    sheet: str
    status: str
    table: str | None
    reason: str
    header_rows: list[int] = field(default_factory=list)
    columns: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    unknown_zones: list[dict] = field(default_factory=list)


@dataclass
class LedgerInspection:
    """The explanation of a raw folder (:func:`inspect_ledgers`).

    Attributes
    ----------
    raw_dir
        The raw folder as given.
    profile
        The profile's file (``None``: built in) and fingerprint.
    files
        One entry per file: ``file`` and ``sheets`` (names), or ``error`` for an unreadable file.
    sheets
        One :class:`SheetInspection` per sheet, in ledger order.
    errors
        The run's errors (``error`` rows of the quality log), as ``origin: message``.
    """

    raw_dir: str
    profile: dict[str, str | None]
    files: list[dict]
    sheets: list[SheetInspection]
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The inspection as plain JSON-able data."""
        return {
            "raw_dir": self.raw_dir,
            "profile": self.profile,
            "files": self.files,
            "sheets": [asdict(s) for s in self.sheets],
            "errors": self.errors,
        }

    def to_text(self) -> str:
        """The inspection as a Chinese text for a terminal, columns aligned for CJK widths."""
        lines = [f"台账文件夹 (raw folder): {self.raw_dir}"]
        src = self.profile.get("source")
        fp = (self.profile.get("fingerprint") or "")[:12]
        lines.append(f"配置文件 (profile): {src or '内置默认 (built-in)'} · {fp}")
        for f in self.files:
            if f.get("error"):
                lines += ["", f"文件 {f['file']}: 无法读取 — {f['error']}"]
        for s in self.sheets:
            lines += ["", *_sheet_lines(s)]
        unmapped = [(s, h) for s in self.sheets for h in s.unmapped]
        zones = [(s, z) for s in self.sheets for z in s.unknown_zones]
        lines += ["", "未对应的表头 (unmapped headers):"]
        lines += [f"  {s.file}#{s.sheet}: {h}（[headers.{s.table}]）" for s, h in unmapped] or [
            "  无"
        ]
        lines += ["配置文件未收录的片区 (片区 values the profile does not know):"]
        lines += [
            f"  {s.file}#{s.sheet}: {z['value']}（{z['rows']} 行，首见 {z['first']}）"
            for s, z in zones
        ] or ["  无"]
        if self.errors:
            lines += ["错误 (errors):", *(f"  {e}" for e in self.errors)]
        return "\n".join(lines) + "\n"


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: 2 for wide and full-width (CJK) characters, else 1."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def _table(rows: list[list[str]], indent: str = "    ") -> list[str]:
    widths = [max(display_width(r[j]) for r in rows) for j in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [_pad(c, w) for c, w in zip(r, widths, strict=True)]
        out.append((indent + "  ".join(cells)).rstrip())
    return out


def _sheet_lines(s: SheetInspection) -> list[str]:
    head = f"文件 {s.file} · 工作表 {s.sheet}"
    if s.table is not None:
        label = TABLES[s.table].label
        arrow = f"  → {label} ({s.table})" + ("：有错误" if s.status == "error" else "")
    else:
        arrow = "  → 跳过 (skipped)" if s.status != "hidden" else "  → 隐藏，未读取 (hidden)"
    lines = [head, arrow, f"  原因: {s.reason}"]
    if s.header_rows:
        lines.append("  表头: 第 " + "、".join(str(r) for r in s.header_rows) + " 行")
    if s.columns:
        rows = [["列", "表头", "字段", "单位", "单位来源"]]
        for c in s.columns:
            column = c.get("column") or _STATUS.get(c["status"], c["status"])
            if s.table is None and c["status"] == "unmapped":
                column = "—"
            rows.append(
                [
                    c["col"],
                    c["header"],
                    column,
                    c.get("unit") or "",
                    _UNIT_SOURCE.get(c.get("unit_source") or "", ""),
                ]
            )
        lines += _table(rows)
    n = s.counts
    if s.status == "used":
        lines.append(
            f"  行数: 共 {n['rows_in_sheet']} 行；数据 {n['data']}（保留 {n['kept']}，"
            f"剔除 {n['rejected']}）；合计 {n['total']}、小计 {n['subtotal']}、其中 {n['qizhong']}；"
            f"注释 {n['notes']}；空行 {n['blank']}"
        )
    else:
        lines.append(f"  行数: 共 {n['rows_in_sheet']} 行")
    if s.unmapped:
        lines.append("  未对应表头: " + "、".join(s.unmapped))
    if s.unknown_zones:
        lines.append(
            "  未知片区: " + "、".join(f"{z['value']}（{z['rows']} 行）" for z in s.unknown_zones)
        )
    return lines


def _reason(entry: dict, errors: dict[str, str]) -> str:
    status = entry.get("status")
    if status == "hidden":
        return "隐藏的工作表不读取 (hidden sheet)"
    if status == "skipped":
        note = entry.get("note") or ""
        return _SKIP_REASONS.get(note, f"表头只部分像某台账 ({note})")
    if status == "error":
        return errors.get(f"{entry['file']}#{entry['sheet']}", "错误 (error)")
    decided = entry.get("decided_by") or {}
    words = decided.get("headers") or []
    text = f"{len(words)} 个表头对应该表的字段：" + "、".join(words)
    if decided.get("name_hint"):
        text += f"；文件或工作表名含「{decided['name_hint']}」"
    return text


def _counts(entry: dict) -> dict[str, int]:
    counts = {"rows_in_sheet": int(entry.get("rows_in_sheet", 0))}
    if entry.get("status") == "used":
        for key, name in (
            ("raw_data_rows", "data"),
            ("total_rows", "total"),
            ("subtotal_rows", "subtotal"),
            ("qizhong_rows", "qizhong"),
            ("note_rows", "notes"),
            ("blank_rows", "blank"),
            ("kept", "kept"),
            ("rejected", "rejected"),
        ):
            counts[name] = int(entry.get(key, 0))
    return counts


def _inspection(
    result: CleanResult, raw_dir: str | os.PathLike, profile: Profile | None
) -> LedgerInspection:
    q = result.quality_log
    err = q[q["severity"] == "error"]
    errors = [f"{o}: {m}" for o, m in zip(err["origin"], err["message"], strict=True)]
    per_sheet: dict[str, str] = {}
    for f, s, m in zip(err["file"], err["sheet"], err["message"], strict=True):
        per_sheet.setdefault(f"{f}#{s}", m)
    sheets = []
    for e in result.manifest.get("sheets", []):
        header_rows = []
        if e.get("header_row"):
            header_rows = list(range(e["header_row"], e["header_row"] + e.get("header_rows", 1)))
        sheets.append(
            SheetInspection(
                file=e["file"],
                sheet=e["sheet"],
                status=e.get("status", ""),
                table=e.get("table"),
                reason=_reason(e, per_sheet),
                header_rows=header_rows,
                columns=list(e.get("columns") or []),
                counts=_counts(e),
                unmapped=list(e.get("unmapped_headers") or []),
                unknown_zones=list(e.get("unknown_zones") or []),
            )
        )
    src = None if profile is None or profile.source is None else str(profile.source)
    return LedgerInspection(
        raw_dir=str(raw_dir),
        profile={"source": src, "fingerprint": None if profile is None else profile.fingerprint},
        files=[
            {k: f[k] for k in ("file", "sheets", "error") if k in f}
            for f in result.manifest.get("inputs", [])
        ],
        sheets=sheets,
        errors=errors,
    )


def inspect_ledgers(
    raw_dir: str | os.PathLike, *, profile: Profile | None = None
) -> LedgerInspection:
    """Explain, without writing anything, what the cleaner makes of every file and sheet.

    Parameters
    ----------
    raw_dir
        The raw folder (read-only).
    profile
        The office profile (``None``: the built-in lists).

    Returns
    -------
    LedgerInspection
        Per file and sheet: table and reason, header rows, the mapping of every header with its
        unit and unit source, row counts, unmapped headers and unknown 片区; the run's errors.
        ``.to_dict()`` for JSON, ``.to_text()`` for a terminal.

    Raises
    ------
    InputError
        When the folder is missing or holds no ledger file (nothing to explain).
    """
    try:
        result = clean_ledgers(Path(raw_dir), profile=profile)
    except CleanError as exc:
        if exc.result is None or not exc.result.manifest.get("inputs"):
            raise
        result = exc.result
    return _inspection(result, raw_dir, profile)
