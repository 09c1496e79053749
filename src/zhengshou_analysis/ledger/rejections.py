"""Which parsed rows of a sheet cannot enter their table, and the record kept for each.

A row is rejected, never silently dropped (docs/data_contract.md §2): it goes to ``rejected.csv``
with every reason that applies and every cell of the row as the office wrote it (:class:`RowCells`;
personal-data columns blanked), also when it is rejected later, as a duplicate key. The rules, in the order their
reasons are listed: a required column missing or unparseable; a negative area/amount (or a payment
or inflow that is not positive); a value outside a closed vocabulary; a site promised or delivered
before it was started; a transition ending before it began; a fee per m² without the area, per
person without the number of persons.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas import NON_PERSONAL_HEADERS, TRANSITION, Table
from .classify import MappedColumn, excel_column
from .ingest import RawSheet
from .layout import SheetLayout, is_pii_header

__all__ = [
    "RowCells",
    "as_written",
    "quote_origins",
    "reject_reasons",
    "rejected_rows",
    "row_cells",
]

#: A rule's verdict: which rows it rejects (may hold NA = not rejected) and why.
_Flag = tuple[pd.Series, str]


def _required_flags(
    frame: pd.DataFrame, t: Table, mapped: dict[str, MappedColumn]
) -> Iterator[_Flag]:
    """Required columns that are missing or could not be parsed."""
    for c in t.required:
        if c not in frame:
            continue
        m = mapped.get(c)
        where = m.where if m else c
        yield frame[c].isna(), f"必填列缺失或无法解析 ({where}, required {c})"


def _sign_flags(frame: pd.DataFrame, t: Table) -> Iterator[_Flag]:
    """Negative money/areas; payments and inflows must be positive."""
    for c in t.columns:
        if c.dtype in ("float", "int") and c.name in frame and c.unit in ("yuan", "m2", "mu"):
            must_be_positive = t.name in ("payments", "funding") and c.name == "amount_yuan"
            bad = frame[c.name] <= 0 if must_be_positive else frame[c.name] < 0
            yield bad, f"{c.label} {'必须大于0' if must_be_positive else '不能为负数'} ({c.name})"


def _vocabulary_flags(frame: pd.DataFrame, t: Table) -> Iterator[_Flag]:
    """Values outside a closed vocabulary (the ``_unknown_<column>`` helper masks)."""
    for c, bad in ((k, frame[k]) for k in frame if k.startswith("_unknown_")):
        name = c.removeprefix("_unknown_")
        yield bad, f"{t.column(name).label} 的值不在允许范围内 ({name})"


def _date_order_flags(frame: pd.DataFrame, t: Table) -> Iterator[_Flag]:
    """Sites promised/delivered before their start; transitions ending before they began."""
    if t.name == "sites":
        for c in ("promised_date", "delivered_date"):
            if c in frame and "start_date" in frame:
                yield (
                    frame[c] < frame["start_date"],
                    f"{t.column(c).label}早于开工日期 ({c} < start_date)",
                )
    if t.name == "transition" and "end_date" in frame:
        yield (
            frame["end_date"] < frame["start_date"],
            "过渡结束日期早于开始日期 (end_date < start_date)",
        )


def _fee_basis_flags(frame: pd.DataFrame, t: Table) -> Iterator[_Flag]:
    """Transition fees per m² need the area, fees per person the number of persons."""
    basis = frame.get("fee_basis")
    if t.name != "transition" or basis is None:
        return
    for kind, col, label in (
        ("per_m2", "area_m2", "按面积计费"),
        ("per_person", "persons", "按人计费"),
    ):
        needed = basis.eq(kind)
        if col in frame:
            yield needed & frame[col].isna(), f"{label}但缺少{TRANSITION.column(col).label} ({col})"
        else:
            yield needed, f"{label}但台账没有{TRANSITION.column(col).label}列 ({col})"


def reject_reasons(frame: pd.DataFrame, t: Table, mapped: dict[str, MappedColumn]) -> pd.Series:
    """The reasons for rejecting rows of one sheet's parsed frame.

    Parameters
    ----------
    frame
        The sheet's parsed rows (canonical columns plus ``_unknown_<column>`` masks).
    t
        The table the sheet feeds.
    mapped
        Its mapped columns (to name a required column as the sheet does).

    Returns
    -------
    pandas.Series
        ``str``, indexed like ``frame`` but holding only the rejected rows: every applying reason,
        in rule order, joined by ``"; "``. Empty when no row is rejected.
    """
    flags: list[tuple[np.ndarray, str]] = []
    for rules in (
        _required_flags(frame, t, mapped),
        _sign_flags(frame, t),
        _vocabulary_flags(frame, t),
        _date_order_flags(frame, t),
        _fee_basis_flags(frame, t),
    ):
        for mask, reason in rules:
            m = mask.fillna(False).to_numpy(dtype=bool)
            if m.any():
                flags.append((m, reason))
    if not flags:
        return pd.Series([], dtype="str", index=frame.index[:0])
    hit = np.logical_or.reduce([m for m, _ in flags])
    parts = np.full(int(hit.sum()), "", dtype=object)
    for m, reason in flags:
        parts = np.where(m[hit], parts + reason + "; ", parts)
    return pd.Series(parts, index=frame.index[hit], dtype="str").str.removesuffix("; ")


def as_written(value: object) -> str:
    """A cell as a person reads it in the ledger: the reader's value as text, without float noise.

    Text stays as it is; a number is written with at most 15 significant digits, as Excel shows
    it (``753700.0`` → ``753700``, ``0.1 + 0.2`` → ``0.3``, never an exponent); a date at
    midnight as ``2021-03-15``; a truth value as ``TRUE``/``FALSE``; an empty cell as ``""``.
    """
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return str(v)
        text = f"{v:.15g}"
        return np.format_float_positional(float(text), trim="-") if "e" in text else text
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


#: What ``rejected.csv`` writes for a filled cell of a column no canonical column maps.
WITHHELD = "〔未抄录：未识别的列〕"


@dataclass(frozen=True)
class RowCells:
    """The data rows of one sheet as the office wrote them, to quote a rejected row.

    Attributes
    ----------
    rows
        The data rows, cells as the reader returned them (merged cells not spread), indexed by
        0-based sheet row, columns by 0-based position.
    keys
        One key per column: the header text (levels joined, as the quality log names it), or
        ``""`` for a column without a header.
    personal
        Positions of the personal-data columns (docs/data_contract.md §6): their key is kept,
        their value never copied.
    withheld
        Positions of the columns no canonical column maps (an unforeseen header may hold personal
        data no word list foresees: 被拆迁人, 产权人 …): their key is kept, their value replaced by
        :data:`WITHHELD`.
    """

    rows: pd.DataFrame
    keys: Sequence[str]
    personal: frozenset[int]
    withheld: frozenset[int] = frozenset()

    def quote(self, index: Iterable[int]) -> list[str]:
        """The rows at ``index`` (0-based sheet rows) as JSON objects, header → cell as written.

        Every column with a header is there, in sheet order (an empty cell as ``""``, a
        personal-data cell as ``""``); a filled cell under no header is keyed by its column
        letter (``列H``). An empty ``index`` gives ``[]``; a row that is not a data row of the
        sheet raises :class:`KeyError`.

        Column by column (:meth:`quote_array`); the same text as ``json.dumps`` of the row's dict
        (:meth:`quote_row`), which is used instead when two keys of the row could coincide (a
        header literally named ``列H``).
        """
        return self.quote_array(index).to_pylist()

    def quote_array(self, index: Iterable[int]) -> pa.Array:
        """:meth:`quote` as a pyarrow ``string`` array (no Python ``str`` per row).

        Only the rows at ``index`` are read. Each column is written at once
        (:func:`_written_column`), escaped for JSON (:func:`_json_escaped`) and every row's
        object is built by one join of pyarrow, so that quoting 100,000 rejected rows costs a
        fraction of a second.
        """
        wanted = pd.Index(
            index if isinstance(index, pd.Index | np.ndarray) else list(index), dtype="int64"
        )
        pos = self.rows.index.get_indexer(wanted)
        if (pos < 0).any():
            missing = wanted[pos < 0].tolist()
            raise KeyError(f"rows {missing[:5]} are not data rows of the sheet")
        n = len(pos)
        if n == 0:
            return pa.array([], type=pa.string())
        taken = self.rows.take(pos).to_numpy(dtype=object)
        letters = [f"列{excel_column(j)}" for j in range(len(self.keys))]
        names = [key or letter for key, letter in zip(self.keys, letters, strict=True)]
        if len(set(names)) < len(names):  # a dict would merge two of them: quote as a dict does
            return pa.array([self.quote_row(r) for r in taken.tolist()], type=pa.string())
        # one join without separator: literal text between the columns' arrays; a column without
        # a header is null (left out) where empty, so every member but the first starts with
        # ", " and, when the first column may be left out, the first ", " is cut afterwards
        cut = not self.keys[0] if self.keys else False
        args: list[pa.Array | pa.Scalar] = []
        literal = ""
        for j, key in enumerate(self.keys):
            lead = ", " if j or cut else ""
            name = lead + _json_string(names[j]) + ": "
            if j in self.personal:  # never read; without a header, never quoted
                literal += name + '""' if key else ""
                continue
            text = _written_column(taken[:, j])
            if j in self.withheld or not key:
                filled = pc.not_equal(text, "")
                empty = pa.scalar(name + '""' if key else None, pa.string())
                args += [
                    pa.scalar(literal),
                    pc.if_else(filled, name + _json_string(WITHHELD), empty),
                ]
                literal = ""
            else:
                args += [pa.scalar(literal + name + '"'), _json_escaped(text)]
                literal = '"'
        args.append(pa.scalar(literal))
        body = pc.binary_join_element_wise(*args, "", null_handling="skip")
        if isinstance(body, pa.Scalar):  # no column read (every one personal data)
            body = pa.array([body.as_py()] * n, type=pa.string())
        if cut:
            body = pc.utf8_slice_codeunits(body, 2)  # ", " never begins any other row
        return pc.binary_join_element_wise("{", body, "}", "")

    def quote_row(self, row: Sequence[object]) -> str:
        """One row's cells (as the reader returned them, in column order) as a JSON object.

        The reference for :meth:`quote`: header → cell as written (:func:`as_written`),
        personal-data cells ``""``, withheld cells :data:`WITHHELD`, a filled cell under no
        header keyed by its column letter.
        """
        cells: dict[str, str] = {}
        for j, (key, value) in enumerate(zip(self.keys, row, strict=True)):
            text = "" if j in self.personal else as_written(value)
            if text and (j in self.withheld or not key):
                text = WITHHELD
            if key:
                cells[key] = text
            elif text:
                cells[f"列{excel_column(j)}"] = text
        return json.dumps(cells, ensure_ascii=False)


#: ``json.dumps(text, ensure_ascii=False)`` of one string, without the encoder's set-up per call.
_json_string = json.encoder.encode_basestring


#: ``type`` of every element of an ``object`` array, in one loop of numpy's.
_TYPE_OF = np.frompyfunc(type, 1, 1)


def _json_escaped(text: pa.Array) -> pa.Array:
    """Each text as ``json.dumps`` (``ensure_ascii=False``) writes it, without its quotes.

    The UTF-8 bytes are searched once for what JSON escapes (a quote, a backslash, a control
    character; no byte of a multi-byte character is one of them); only the texts holding one
    (nearly never) are escaped, by :func:`json.encoder.encode_basestring`.
    """
    text = text.cast(pa.string())
    _, offsets_buf, data_buf = text.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    if data_buf is None or offsets[-1] == offsets[0]:
        return text
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
    at = np.flatnonzero((data < 0x20) | (data == ord('"')) | (data == ord("\\")))
    if not len(at):
        return text
    rows = np.unique(np.searchsorted(offsets, at + offsets[0], side="right") - 1)
    odd = text.take(pa.array(rows)).to_pylist()
    mask = np.zeros(len(text), dtype=bool)
    mask[rows] = True
    escaped = pa.array([_json_string(t)[1:-1] for t in odd], type=pa.string())
    return pc.replace_with_mask(text, pa.array(mask), escaped)


def _placed(n: int, parts: list[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """One ``string`` array of length ``n`` from arrays of texts for given positions.

    ``parts`` holds (positions, texts) pairs whose positions together are each of ``0..n-1``
    once.
    """
    if len(parts) == 1:
        return parts[0][1]
    order = np.concatenate([at for at, _ in parts])
    where = np.empty(n, dtype=np.int64)
    where[order] = np.arange(n)
    return pa.concat_arrays([texts for _, texts in parts]).take(pa.array(where))


def _written_column(values: np.ndarray) -> pa.Array:
    """:func:`as_written` of every cell of a column, as a pyarrow ``string`` array.

    Parameters
    ----------
    values
        The column's cells (``object``), as the reader returned them.

    Returns
    -------
    pyarrow.Array
        ``string``, as long as ``values``, no nulls: text cells as they are, the others written
        type by type (:func:`_written_kind`), so ``1.0`` and ``TRUE`` never share a text.
    """
    if pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty"):
        return pa.array(values, type=pa.string())
    codes, kinds = pd.factorize(_TYPE_OF(values))
    if len(kinds) == 1 and kinds[0] in (float, np.float64):
        return _written_floats(values.astype(np.float64))
    out = values.copy()
    for k, kind in enumerate(kinds):
        if kind is not str:
            at = np.flatnonzero(codes == k)
            out[at] = _written_kind(values[at], kind)
    return pa.array(out, type=pa.string())


def _written_kind(values: np.ndarray, kind: type) -> np.ndarray:
    """:func:`as_written` of cells all of type ``kind`` (``object`` array of ``str``).

    ``float``: :func:`_written_floats`; ``datetime.date`` (not ``datetime``): ISO dates by
    pyarrow (years 1–9999, four digits as :meth:`~datetime.date.isoformat` writes them); any
    other type: once per distinct value.
    """
    if kind in (float, np.float64):
        return _written_floats(values.astype(np.float64)).to_numpy(zero_copy_only=False)
    if kind is dt.date:
        dates = pa.array(values, type=pa.date32())
        return pc.cast(dates, pa.string()).to_numpy(zero_copy_only=False)
    seen: dict[object, str] = {}
    return np.array(
        [seen[v] if v in seen else seen.setdefault(v, as_written(v)) for v in values.tolist()],
        dtype=object,
    )


def _written_floats(x: np.ndarray) -> pa.Array:
    """:func:`as_written` of ``float64`` numbers, as a pyarrow ``string`` array.

    A whole number below 10¹⁵ in magnitude is its integer's digits (what ``.15g`` writes; not
    ``-0.0``, written ``-0``); NaN is ``""``; every other number is written by
    :func:`as_written` once per distinct bit pattern (``0.0`` and ``-0.0`` apart).
    """
    with np.errstate(invalid="ignore"):
        whole = (np.abs(x) < 1e15) & (x == np.trunc(x)) & ~((x == 0) & np.signbit(x))
    rest = ~whole
    at = np.flatnonzero(whole)
    parts = [(at, pc.cast(pa.array(x[at].astype(np.int64)), pa.string()))]
    if rest.any():
        at = np.flatnonzero(rest)
        codes, bits = pd.factorize(x[at].view(np.int64))
        texts = [as_written(v) for v in bits.view(np.float64).tolist()]
        parts.append((at, pa.array(texts, type=pa.string()).take(pa.array(codes))))
    return _placed(len(x), parts)


def row_cells(
    rows: pd.DataFrame, layout: SheetLayout, mapped_cols: Iterable[int] | None = None
) -> RowCells:
    """The :class:`RowCells` of a sheet's data rows, keyed by the sheet's header.

    Two columns with the same header text are told apart by their column letter
    (``备注``, ``备注 (列F)``). With ``mapped_cols`` (the positions of the mapped columns), the
    cells of every other column are withheld (:data:`WITHHELD`).
    """
    by_col = {h.col: h.text for h in layout.headers}
    keys: list[str] = []
    for j in range(rows.shape[1]):
        key = by_col.get(j, "")
        if key and key in keys:
            key = f"{key} (列{excel_column(j)})"
        keys.append(key)
    personal = frozenset(h.col for h in layout.headers if is_pii_header(h.text))
    harmless = frozenset(h.col for h in layout.headers if h.text in NON_PERSONAL_HEADERS)
    withheld = (
        frozenset()
        if mapped_cols is None
        else frozenset(range(rows.shape[1])) - frozenset(mapped_cols) - personal - harmless
    )
    return RowCells(rows, keys, personal, withheld)


def quote_origins(origins: Iterable[str], cells: Mapping[str, RowCells]) -> list[str]:
    """The rows named by ``origins`` (``FILE#SHEET!ROW``) as written, from their sheets' cells.

    ``cells`` maps ``FILE#SHEET`` to the sheet's :class:`RowCells`; a row of an unknown sheet
    gives ``{}``.
    """
    out = []
    wanted: dict[str, list[tuple[int, int]]] = {}  # sheet → (position in out, 0-based row)
    for i, origin in enumerate(origins):
        where, _, row = str(origin).rpartition("!")
        out.append("{}")
        if where in cells:
            wanted.setdefault(where, []).append((i, int(row) - 1))
    for where, at in wanted.items():  # one quote per sheet
        for (i, _), text in zip(at, cells[where].quote(r for _, r in at), strict=True):
            out[i] = text
    return out


def rejected_rows(
    reasons: pd.Series,
    cells: RowCells,
    sheet: RawSheet,
    t: Table,
) -> pd.DataFrame:
    """The rejected-row records of one sheet.

    Parameters
    ----------
    reasons
        From :func:`reject_reasons`, indexed by 0-based sheet row.
    cells
        The sheet's data rows as written (:func:`row_cells`).
    sheet
        The raw sheet (for the origin ``FILE#SHEET!ROW``).
    t
        The table the sheet feeds.

    Returns
    -------
    pandas.DataFrame
        ``origin, table, reason, raw_cells`` (every cell of the row as JSON, header → cell as
        written, personal-data cells blanked), indexed like ``reasons``; empty (``int64`` index)
        when no row is rejected.
    """
    if reasons.empty:
        return pd.DataFrame(
            {
                "origin": pd.Series(dtype="str"),
                "table": pd.Series(dtype="str"),
                "reason": pd.Series(dtype="str"),
                "raw_cells": pd.Series(dtype="str"),
            }
        ).set_index(pd.Index([], dtype="int64"))
    prefix = f"{sheet.file}#{sheet.sheet}!"
    return pd.DataFrame(
        {
            "origin": prefix + pd.Series(reasons.index + 1, index=reasons.index).astype("str"),
            "table": t.name,
            "reason": reasons,
            "raw_cells": pd.Series(
                pd.array(cells.quote_array(reasons.index), dtype="str"), index=reasons.index
            ),
        },
        index=reasons.index,
    )
