"""Vectorised parsers for raw ledger cells (docs/data_contract.md §1).

A raw column arrives as a :class:`pandas.Series` of dtype ``object`` holding the Python values a
spreadsheet reader returns: ``str`` (possibly full-width, padded with spaces), ``int``, ``float``
(``NaN`` for an empty cell), ``bool``, :class:`datetime.datetime`, :class:`datetime.date`,
``None`` and ``""``. CSV columns arrive all-``str`` (``object`` or ``str`` dtype).

Each parser returns a :class:`Parsed`: the typed values on the input's index, and a findings frame
with one row per normalisation or problem, which the cleaner turns into quality-log entries.
Nothing here raises on cell content: a cell that cannot be read becomes NA with an
``unparseable`` (or ``unit_mismatch``) warning, so no value is lost silently. Only a programming
error (a wrong ``unit``, ``scale`` or ``decimals`` argument) raises
:class:`~zhengshou_analysis.exceptions.ParameterError`.

Action codes
------------
``placeholder`` (info)
    A placeholder (``X``, ``—``, ``/``, ``无``, ``待定`` …) or a caller's ``missing`` word: NA.
``approx`` (info)
    ``约300`` / ``300左右``: the number is kept and flagged approximate.
``remark`` (info)
    ``300（含工作经费）`` / ``300 含税``: the number is kept, the remark quoted in the message.
``unit_mismatch`` (warning)
    A unit written in the cell that does not fit the column (``120亩`` in a money column,
    ``85%`` in a column with a unit): NA.
``unparseable`` (warning)
    Anything else that cannot be read (text, a ``bool``, a date in a number column, an
    impossible date such as ``2021-02-30``): NA.
``month_precision`` (info)
    A month-only date (``2021年1月``, ``2021.01``): the 1st of that month.
``excel_serial`` (info)
    An Excel serial day number (``44226``): converted from the 1899-12-30 epoch.
``ambiguous_date`` (warning)
    A float ``2021.1`` in a date column: read as January, but it may be October typed as
    ``2021.10`` and shortened by Excel.

Implementation: cells are split by Python type once; string cells are de-duplicated
(:func:`pandas.factorize`), NFKC-normalised (``pyarrow.compute.utf8_normalize`` when it agrees with
:mod:`unicodedata`, else :meth:`pandas.Series.str.normalize`), then parsed with one RE2 regular
expression per parser through :func:`pyarrow.compute.extract_regex`; all arithmetic is numpy.
Findings frames are built from boolean masks, never cell by cell. About 0.1 s per 100,000 cells.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import numbers
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..exceptions import ParameterError
from ..units import AREA_M2_UNITS, AREA_MU_UNITS, COUNT_UNITS, FEE_RATE_BASIS, MONEY_UNITS
from ..units import unit_factor as _unit_factor

__all__ = [
    "ACTIONS",
    "PLACEHOLDERS",
    "Parsed",
    "normalize_text",
    "parse_dates",
    "parse_numbers",
    "parse_text",
]

logger = logging.getLogger(__name__)

#: Cell texts (after NFKC and stripping) that stand for "no value". ``0`` is never one.
PLACEHOLDERS: frozenset[str] = frozenset(
    {"X", "x", "XX", "xx", "XXX", "xxx", "—", "——", "―", "――", "–", "--", "---", "-", "/",
     "无", "暂无", "待定"}
)  # fmt: skip

#: Action codes of a findings frame, with their severity.
ACTIONS: dict[str, str] = {
    "placeholder": "info",
    "approx": "info",
    "remark": "info",
    "month_precision": "info",
    "excel_serial": "info",
    "unit_mismatch": "warning",
    "unparseable": "warning",
    "ambiguous_date": "warning",
}

#: Canonical column units accepted by :func:`parse_numbers` (``None``: a plain number).
TARGET_UNITS: frozenset[str] = frozenset(
    {"yuan", "m2", "mu", "month", "person", "unit", "yuan_per_month"}
)

FINDING_COLUMNS = ("row", "raw_value", "action", "severity", "message")


@dataclass(frozen=True)
class Parsed:
    """The result of a cell parser.

    Attributes
    ----------
    values
        Parsed values on the input's index: ``float64`` for numbers, ``datetime64[s]`` for dates
        (NaT when missing), pandas ``str`` for text (NA when missing).
    findings
        One row per finding, columns ``row`` (the input index label), ``raw_value`` (the cell as
        text), ``action`` (see the module's action codes), ``severity`` (``info`` or
        ``warning``) and ``message`` (Chinese, names the cell and what was done). Rows are in
        input order; a cell may have several findings (``约300（含税）``: approx and remark).
    """

    values: pd.Series
    findings: pd.DataFrame


# --------------------------------------------------------------------------------------------
# Cell kinds and shared helpers
# --------------------------------------------------------------------------------------------

_EMPTY, _STR, _NUM, _BOOL, _DATE, _OTHER = range(6)
_type_of = np.frompyfunc(type, 1, 1)

#: Whitespace runs to collapse (after NFKC most exotic spaces are already U+0020). Literal
#: characters, not escapes, so that pyarrow's RE2 engine handles the pattern.
_WS = "[\t\n\v\f\r \x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"


def _kind_of_type(t: type) -> int:
    if issubclass(t, (bool, np.bool_)):
        return _BOOL
    if issubclass(t, str):
        return _STR
    if issubclass(t, (dt.date, np.datetime64)):  # datetime and pd.Timestamp are dates
        return _DATE
    if issubclass(t, (numbers.Real, decimal.Decimal)):
        return _NUM
    return _OTHER


def _check_series(raw: object) -> pd.Series:
    if not isinstance(raw, pd.Series):
        raise ParameterError(f"expected a pandas Series of raw cells, got {type(raw).__name__}")
    return raw


def _split(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The cells as an object array (read-only use) and their kind codes (one pass over types)."""
    cells = raw.to_numpy(dtype=object)
    if len(cells) and pd.api.types.infer_dtype(cells, skipna=False) == "string":
        return cells, np.full(len(cells), _STR, dtype=np.int8)  # all text (one C pass): no NA
    types = _type_of(cells) if len(cells) else np.empty(0, dtype=object)
    codes, uniq = pd.factorize(types)
    kinds = np.array([_kind_of_type(t) for t in uniq] + [_OTHER], dtype=np.int8)[codes]
    other = np.flatnonzero(kinds != _STR)  # a str is never NA: only the other cells are looked at
    kinds[other[pd.isna(cells[other])]] = _EMPTY  # None, NaN, NaT, pd.NA
    return cells, kinds


def _words(missing: Iterable[str]) -> list[str]:
    if isinstance(missing, str):
        missing = (missing,)
    try:
        words = [str(w) for w in missing]
    except TypeError:
        msg = "missing must be an iterable of words such as ('未交付', '在建')"
        raise ParameterError(msg) from None
    return _clean_strings(np.array(words, dtype=object)).to_pylist() if words else []


def _arrow_nfkc_is_exact() -> bool:
    """Whether this pyarrow's ``utf8_normalize`` agrees with :mod:`unicodedata` on NFKC.

    Some pyarrow versions only decompose (pandas GH#64359); then we use pandas' own
    ``str.normalize``, which is exact but about three times slower.
    """
    probe = ["e\u0301", "\u1100\u1161", "１２３．５", "㎡", "（万元）", "ﬁ"]
    try:
        got = pc.utf8_normalize(pa.array(probe), "NFKC").to_pylist()
    except pa.ArrowException:
        return False
    return got == [unicodedata.normalize("NFKC", p) for p in probe]


_ARROW_NFKC = _arrow_nfkc_is_exact()


def _clean_strings(texts: np.ndarray) -> pa.Array:
    """NFKC-normalise, collapse whitespace runs to one space and strip (pyarrow string array)."""
    try:
        arr = pa.array(texts, type=pa.string(), from_pandas=True)
    except (UnicodeError, pa.ArrowException):  # lone surrogates
        arr = pa.array(_safe_str(texts), type=pa.string(), from_pandas=True)
    if _ARROW_NFKC:
        arr = pc.utf8_normalize(arr, "NFKC")
    else:
        arr = pa.array(pd.Series(arr, dtype="str").str.normalize("NFKC"), type=pa.string())
    arr = pc.replace_substring_regex(arr, _WS, " ")
    return pc.utf8_trim(arr, " ")


_safe_str = np.frompyfunc(
    lambda x: (
        None if x is None else str(x).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    ),
    1,
    1,
)


def _as_str(values: np.ndarray) -> pd.Series:
    """Objects as a pandas ``str`` Series via ``str()`` (None stays NA), for concatenation."""
    s = pd.Series(values, dtype=object)
    try:
        return s.astype("str")
    except (UnicodeError, pa.ArrowException):  # lone surrogates
        return pd.Series(_safe_str(s.to_numpy()), dtype="str")


def _np_bool(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(a.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _np_obj(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(a.to_numpy(zero_copy_only=False), dtype=object)


#: ``None`` as an array for :func:`numpy.where` (what a bare ``None`` becomes; numpy's types refuse it).
_NONE = np.array(None, dtype=object)


def _fmt_number(values: np.ndarray) -> pd.Series:
    """Numbers as short text for messages (integral values without ``.0``)."""
    v = np.asarray(values, dtype=np.float64)
    integral = np.isfinite(v) & (np.abs(v) < 2**53) & (v == np.round(v))
    text = pd.Series(v).astype("str")
    as_int = pd.Series(np.where(integral, v, 0).astype(np.int64)).astype("str")
    return as_int.where(integral, text)


class _Findings:
    """Collects findings as (positions, action, message) blocks; builds one frame at the end."""

    def __init__(self, index: pd.Index, cells: np.ndarray) -> None:
        self._index = index
        self._cells = cells
        self._blocks: list[tuple[np.ndarray, str, pd.Series]] = []

    def raw_text(self, pos: np.ndarray) -> pd.Series:
        """The raw cells at ``pos`` as text (``str(cell)``)."""
        return _as_str(self._cells[pos])

    def add(self, mask: np.ndarray, action: str, message) -> np.ndarray:
        """Add a finding for each cell in ``mask``; ``message(pos)`` returns their messages."""
        pos = np.flatnonzero(mask)
        if len(pos):
            msg = message(pos)
            if isinstance(msg, str):
                msg = pd.Series([msg] * len(pos), dtype="str")
            self._blocks.append((pos, action, msg))
        return pos

    def frame(self) -> pd.DataFrame:
        """The findings frame, rows in input order (a cell's findings in the order added)."""
        blocks = self._blocks
        empty = np.empty(0, dtype=np.int64)
        pos = np.concatenate([b[0] for b in blocks] or [empty])
        block = np.concatenate([np.full(len(b[0]), i) for i, b in enumerate(blocks)] or [empty])
        order = np.argsort(pos, kind="stable")
        pos, block = pos[order], block[order]
        names = [b[1] for b in blocks]
        messages = [b[2].reset_index(drop=True) for b in blocks]
        message = pd.concat(messages, ignore_index=True) if blocks else pd.Series([], dtype="str")
        rows = self._index.take(pos)

        def per_block(labels: list[str]) -> pd.Series:
            return pd.Series(labels, dtype="str").take(block).reset_index(drop=True)

        return pd.DataFrame(
            {
                "row": rows.to_series(index=pd.RangeIndex(len(rows)), name="row"),
                "raw_value": self.raw_text(pos),
                "action": per_block(names),
                "severity": per_block([ACTIONS[a] for a in names]),
                "message": message.astype("str").take(order).reset_index(drop=True),
            }
        )


def _quoted(findings: _Findings, before: str, after: str = ""):
    """Message factory: ``before + 「raw」 + after``."""
    return lambda pos: before + "「" + findings.raw_text(pos) + "」" + after


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def normalize_text(raw: pd.Series) -> pd.Series:
    """NFKC-normalise and strip the text cells of a raw column.

    Parameters
    ----------
    raw
        Raw cells (any dtype; ``object`` as a spreadsheet reader returns them).

    Returns
    -------
    pandas.Series
        ``object`` dtype, same index: each ``str`` cell NFKC-normalised (``１２３`` → ``123``,
        ``（万元）`` → ``(万元)``) with leading and trailing whitespace removed; every other cell
        (numbers, dates, ``None``, ``NaN``) unchanged. Internal whitespace is kept. Does not modify
        ``raw``.

    Examples
    --------
    >>> normalize_text(pd.Series(["　１２３．５ ", 7, None], dtype=object)).tolist()
    ['123.5', 7, None]
    """
    raw = _check_series(raw)
    cells = raw.to_numpy(dtype=object)
    out = np.array(cells, dtype=object, copy=True)
    is_str = np.frompyfunc(lambda x: isinstance(x, str), 1, 1)(cells).astype(bool)
    if is_str.any():
        s = _as_str(cells[is_str]).str.normalize("NFKC").str.strip()
        out[is_str] = s.to_numpy(dtype=object)
    return pd.Series(out, index=raw.index, dtype=object, name=raw.name)


def _cells_as_text(cells: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Non-empty cells as text: integral floats without ``.0``, midnight datetimes as dates."""
    text = np.full(len(cells), None, dtype=object)
    is_str = kinds == _STR
    text[is_str] = cells[is_str]
    other = (kinds != _STR) & (kinds != _EMPTY)
    if other.any():
        text[other] = pd.Series(cells[other], dtype=object).astype("str").to_numpy(dtype=object)
    is_num = kinds == _NUM
    if is_num.any():
        x = _numbers_from_objects(cells[is_num])
        integral = np.isfinite(x) & (np.abs(x) < 2**53) & (x == np.round(x))
        as_int = pd.Series(np.where(integral, x, 0).astype(np.int64)).astype("str")
        text[np.flatnonzero(is_num)[integral]] = as_int[integral].to_numpy(dtype=object)
    is_date = kinds == _DATE
    if is_date.any():
        dates = pd.Series(text[is_date], dtype="str").str.replace(" 00:00:00", "", regex=False)
        text[is_date] = dates.to_numpy(dtype=object)
    return text


def parse_text(raw: pd.Series, *, missing: Iterable[str] = ()) -> Parsed:
    """Parse a raw text column.

    Parameters
    ----------
    raw
        Raw cells. ``str`` cells are NFKC-normalised, stripped and their internal whitespace runs
        collapsed to one space. Other cells become text: ``12345.0`` → ``'12345'``, ``1.5`` →
        ``'1.5'``, a midnight ``datetime`` → ``'2021-01-30'``.
    missing
        Extra words meaning "no value" in this column (compared after the same normalisation).

    Returns
    -------
    Parsed
        ``values``: pandas ``str`` dtype, same index. Placeholders (:data:`PLACEHOLDERS`) and
        ``missing`` words → NA with a ``placeholder`` info finding; empty cells (``''``, spaces,
        ``None``, ``NaN``) → NA without a finding. Text never fails to parse.

    Examples
    --------
    >>> parse_text(pd.Series(["  贵城　 片区 ", "—", 12345.0], dtype=object)).values.tolist()
    ['贵城 片区', nan, '12345']
    """
    raw = _check_series(raw)
    words = frozenset(_words(missing)) | PLACEHOLDERS
    cells, kinds = _split(raw)
    n = len(cells)
    out: np.ndarray | pa.Array = np.full(n, None, dtype=object)
    findings = _Findings(raw.index, cells)
    present = kinds != _EMPTY
    if present.any():
        text = _cells_as_text(cells, kinds)[present]
        codes, uniq = pd.factorize(text)
        clean = _clean_strings(np.asarray(uniq, dtype=object))
        is_ph = _np_bool(pc.is_in(clean, value_set=pa.array(sorted(words), pa.string())))
        is_empty = _np_bool(pc.equal(clean, ""))
        keep = pc.if_else(pa.array(is_ph | is_empty), pa.scalar(None, clean.type), clean)
        at = np.full(n, -1, dtype=np.int64)
        at[present] = codes
        # each row's text taken from the distinct texts in pyarrow: no Python string per row
        out = pc.take(keep, pa.array(at, mask=at < 0))
        ph = np.zeros(n, dtype=bool)
        ph[present] = is_ph[codes]
        findings.add(ph, "placeholder", _quoted(findings, "占位符", "视为缺失 (NA)"))
    values = pd.Series(pd.array(out, dtype="str"), index=raw.index, name=raw.name)
    result = Parsed(values, findings.frame())
    logger.debug("parse_text: %d cells, %d findings", n, len(result.findings))
    return result


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

_UNIT_WORDS = sorted(
    {*MONEY_UNITS, *AREA_M2_UNITS, *AREA_MU_UNITS, *FEE_RATE_BASIS, "元/月"}
    | {u for us in COUNT_UNITS.values() for u in us},
    key=lambda u: (-len(u), u),
)

#: One RE2 pattern for a number cell (after NFKC, whitespace collapsed, stripped).
_UNIT_ALTERNATIVES = "(?i:" + "|".join(re.escape(u) for u in _UNIT_WORDS) + ")"
_NUMBER_PATTERN = (
    r"^(?P<approx>大约|约)?[ ]?(?P<cur>¥)?[ ]?(?P<sign>[-+−])?[ ]?"
    r"(?P<num>[0-9](?:[0-9]|[, ][0-9]|,[ ][0-9])*(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<exp>[eE][-+]?[0-9]+)?"
    r"(?:[ ]?(?P<pct>%))?"
    r"(?:[ ]?(?P<unit>" + _UNIT_ALTERNATIVES + r")"
    r"|[ ]?[(\[][ ]?(?P<bunit>" + _UNIT_ALTERNATIVES + r")[ ]?[)\]])?"
    r"(?P<rest>.*)$"
)
#: The digits captured as ``num`` (greedily: digits with any ``,``, `` `` or ``, `` between them)
#: form a number only when ungrouped, or grouped in thousands with ONE kind of separator: a first
#: group of 1-3 digits not starting with 0, then groups of exactly three after each ``,`` (``1,234``,
#: ``1,234,567.5``) or each space (``1 234 567``). ``1,2``, ``12,3456``, ``1,23,456``, ``0,5``,
#: ``300 50``, ``1,234 567`` and ``300, 500`` are not numbers (``unparseable``). ``300,500`` and
#: ``300 500`` *are* well-formed groupings and read as 300500.
_GROUPED_PATTERN = (
    r"^(?:[0-9]+|[1-9][0-9]{0,2}(?:(?:,[0-9]{3})+|(?: [0-9]{3})+))(?:\.[0-9]*)?$|^\.[0-9]+$"
)
#: Digits right after a number (``1.5,000``, ``1.234 567``) make it malformed, not a remark.
_DIGIT_TAIL_PATTERN = r"^[ ,]?[0-9]"
#: What may follow a number as a remark: a bracket, a space or punctuation, or a remark word.
_REMARK_PATTERN = (
    r"^(?:[ (\[{【〔<《,;、]|含|不含|其中|包括|包含|另|已|未|备注|注|按|预计|暂|整|共|合计)"
)
_APPROX_TAIL = ("左右", "上下")
#: Target units as named in messages.
_UNIT_LABELS = {
    None: "纯数字（无单位）",
    "yuan": "元",
    "m2": "平方米",
    "mu": "亩",
    "month": "月",
    "person": "人",
    "unit": "套/户",
    "yuan_per_month": "元/月",
}


@dataclass(frozen=True)
class _NumberText:
    value: np.ndarray  # float64, NaN when missing
    status: np.ndarray  # int8: _OK, _BLANK, _PLACEHOLDER, _MISMATCH or _BAD
    approx: np.ndarray  # bool
    remark: np.ndarray  # object: the remark text or None
    unit: np.ndarray  # object: the written unit or None
    grouping: np.ndarray  # bool: _BAD because of malformed digit groups (``1,2``, ``300 50``)


_OK, _BLANK, _PLACEHOLDER, _MISMATCH, _BAD, _IMPOSSIBLE = range(6)


def _parse_number_strings(texts: np.ndarray, *, unit: str | None, scale: float) -> _NumberText:
    """Parse distinct raw strings as numbers (the vectorised core of :func:`parse_numbers`)."""
    n = len(texts)
    clean = _clean_strings(texts)
    status = np.full(n, _BAD, dtype=np.int8)
    status[_np_bool(pc.equal(clean, ""))] = _BLANK
    status[_np_bool(pc.is_in(clean, value_set=pa.array(sorted(PLACEHOLDERS))))] = _PLACEHOLDER

    m = pc.extract_regex(clean, _NUMBER_PATTERN)
    matched = _np_bool(m.is_valid()) & (status == _BAD)
    # thousands separators: checked before they are dropped, never silently joined; digits right
    # after the number (1.5,000 / 1.234 567) are a malformed number too, not a remark
    grouping = matched & ~_np_bool(pc.match_substring_regex(m.field("num"), _GROUPED_PATTERN))
    tail = pc.binary_join_element_wise(m.field("unit"), m.field("bunit"), m.field("pct"), "")
    digit_tail = _np_bool(pc.match_substring_regex(m.field("rest"), _DIGIT_TAIL_PATTERN))
    grouping |= matched & digit_tail & _np_bool(pc.equal(tail, ""))
    matched &= ~grouping
    num = pc.replace_substring_regex(m.field("num"), "[, ]", "")
    sign = pc.replace_substring(m.field("sign"), "−", "-")
    literal = pc.binary_join_element_wise(sign, num, m.field("exp"), "")
    value = pd.to_numeric(pd.Series(_np_obj(literal)).where(matched), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )

    rest = m.field("rest")
    rest_text = pc.utf8_trim(rest, " ")
    approx = _np_bool(pc.not_equal(m.field("approx"), "")) & matched
    approx_tail = _np_bool(pc.is_in(rest_text, value_set=pa.array(_APPROX_TAIL))) & matched
    has_rest = _np_bool(pc.not_equal(rest, "")) & ~approx_tail
    is_remark = has_rest & _np_bool(pc.match_substring_regex(rest, _REMARK_PATTERN))
    matched &= ~has_rest | is_remark
    approx = (approx | approx_tail) & matched

    # units: the written one decides; a bare number takes the column's scale
    unit_field = pc.binary_join_element_wise(m.field("unit"), m.field("bunit"), "")
    written = _np_obj(pc.utf8_lower(unit_field).fill_null(""))
    has_cur = _np_bool(pc.equal(m.field("cur"), "¥"))
    written = np.where((written == "") & has_cur, "元", written)
    has_unit = written != ""
    pct = _np_bool(pc.equal(m.field("pct"), "%"))
    factor = np.full(n, np.nan)
    for u in pd.unique(written[has_unit & matched]):
        f = _unit_factor(u, unit)
        factor[written == u] = np.nan if f is None else f
    factor[~has_unit] = scale
    if unit is None:
        factor[pct & ~has_unit] = 0.01
    else:
        factor[pct] = np.nan
    factor[pct & has_unit] = np.nan

    with np.errstate(over="ignore", invalid="ignore"):
        value = value * factor
    mismatch = matched & np.isnan(factor)
    bad = ~np.isfinite(value) & ~mismatch
    status[matched & ~bad] = _OK
    status[mismatch] = _MISMATCH
    value[status != _OK] = np.nan
    ok = status == _OK
    remark = np.where(is_remark & ok, _np_obj(rest_text), _NONE)
    unit_text = np.where(has_unit, written, np.where(pct, "%", _NONE))
    return _NumberText(value, status, approx & ok, remark, unit_text, grouping)


def _check_number_args(unit: str | None, scale: float, decimals: int | None) -> None:
    if unit is not None and unit not in TARGET_UNITS:
        raise ParameterError(
            f"unit must be None or one of {', '.join(sorted(TARGET_UNITS))}; got {unit!r}"
        )
    if (
        isinstance(scale, bool)
        or not isinstance(scale, numbers.Real)
        or not np.isfinite(scale)
        or scale <= 0
    ):
        raise ParameterError(f"scale must be a positive finite number (e.g. 1e4); got {scale!r}")
    if decimals is not None and (
        isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral) or decimals < 0
    ):
        raise ParameterError(f"decimals must be None or an integer >= 0; got {decimals!r}")


def _numbers_from_objects(cells: np.ndarray) -> np.ndarray:
    """int/float/Decimal cells as float64; NaN where the value does not fit (10**400)."""
    try:
        return np.asarray(cells, dtype=np.float64)
    except (ArithmeticError, TypeError, ValueError):  # 10**400, Decimal('sNaN'): never raise
        return pd.to_numeric(pd.Series(cells, dtype=object).astype("str"), errors="coerce")\
            .to_numpy(dtype=np.float64, na_value=np.nan)  # fmt: skip


@dataclass(frozen=True)
class _NumberCells:
    """Every cell of a raw column read as a number (see :class:`_NumberText` for the fields)."""

    value: np.ndarray
    status: np.ndarray
    approx: np.ndarray
    remark: np.ndarray
    unit: np.ndarray
    grouping: np.ndarray
    out_of_range: np.ndarray  # bool: a numeric cell that is not finite after scaling


def _parse_number_cells(
    cells: np.ndarray, kinds: np.ndarray, *, unit: str | None, scale: float
) -> _NumberCells:
    """Numeric cells × ``scale``; string cells parsed once per distinct text; others NaN."""
    n = len(cells)
    values = np.full(n, np.nan)
    is_num = kinds == _NUM
    if is_num.any():
        with np.errstate(over="ignore", invalid="ignore"):
            values[is_num] = _numbers_from_objects(cells[is_num]) * scale
    num_bad = is_num & ~np.isfinite(values)
    values[num_bad] = np.nan

    status = np.full(n, _OK, dtype=np.int8)
    approx = np.zeros(n, dtype=bool)
    remark = np.full(n, None, dtype=object)
    written = np.full(n, None, dtype=object)
    grouping = np.zeros(n, dtype=bool)
    is_str = kinds == _STR
    if is_str.any():
        codes, uniq = pd.factorize(cells[is_str])
        parsed = _parse_number_strings(np.asarray(uniq, dtype=object), unit=unit, scale=scale)
        values[is_str] = parsed.value[codes]
        status[is_str] = parsed.status[codes]
        approx[is_str] = parsed.approx[codes]
        remark[is_str] = parsed.remark[codes]
        written[is_str] = parsed.unit[codes]
        grouping[is_str] = parsed.grouping[codes]
    return _NumberCells(values, status, approx, remark, written, grouping, num_bad)


def _round_values(values: np.ndarray, decimals: int | None) -> np.ndarray:
    """Round to ``decimals`` (None: as is); values too large to round stay; no ``-0.0``."""
    if decimals is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            rounded = np.round(values, decimals)
        values = np.where(np.isfinite(rounded), rounded, values)  # 1e307 cannot be rounded
    return np.where(values == 0, 0.0, values)  # no -0.0


def _add_number_findings(
    findings: _Findings,
    kinds: np.ndarray,
    p: _NumberCells,
    values: np.ndarray,
    unit: str | None,
) -> None:
    """Add the findings of :func:`parse_numbers` (the order fixes a cell's findings order)."""
    status, written, remark, grouping = p.status, p.unit, p.remark, p.grouping
    is_str = kinds == _STR
    findings.add(
        status == _PLACEHOLDER, "placeholder", _quoted(findings, "占位符", "视为缺失 (NA)")
    )
    findings.add(is_str & p.approx, "approx", _quoted(findings, "约数", "：数值保留，标记为近似值"))
    findings.add(
        pd.notna(remark),
        "remark",
        lambda pos: "数值后的备注「" + _as_str(remark[pos]) + "」已剥离，保留数值 "
        + _fmt_number(values[pos]),
    )  # fmt: skip
    target = _UNIT_LABELS[unit]
    findings.add(
        status == _MISMATCH,
        "unit_mismatch",
        lambda pos: "单位「" + _as_str(written[pos]) + "」与本列单位 " + target + " 不符：「"
        + findings.raw_text(pos) + "」，记为缺失",
    )  # fmt: skip
    findings.add(
        (status == _BAD) & ~grouping,
        "unparseable",
        _quoted(findings, "无法解析为数字：", "，记为缺失"),
    )
    findings.add(
        (status == _BAD) & grouping,
        "unparseable",
        _quoted(
            findings,
            "无法解析为数字：",
            "（千分位分隔符「,」或空格之后须为三位数字，如 1,234 或 1 234 567），记为缺失",
        ),
    )
    findings.add(
        p.out_of_range, "unparseable", _quoted(findings, "数值", "超出范围或不是有限数，记为缺失")
    )
    findings.add(kinds == _BOOL, "unparseable", _quoted(findings, "布尔值", "不是数字，记为缺失"))
    findings.add(
        kinds == _DATE, "unparseable", _quoted(findings, "日期值", "出现在数字列，记为缺失")
    )
    findings.add(
        kinds == _OTHER, "unparseable", _quoted(findings, "无法识别的单元格内容", "，记为缺失")
    )


def parse_numbers(
    raw: pd.Series,
    *,
    unit: str | None = None,
    scale: float = 1.0,
    decimals: int | None = None,
) -> Parsed:
    """Parse a raw numeric column into float64 in the column's canonical unit.

    Parameters
    ----------
    raw
        Raw cells: numbers, numeric text in any ledger form, placeholders, empties.
    unit
        Canonical unit of the target column: ``'yuan'``, ``'m2'``, ``'mu'``, ``'month'``,
        ``'person'``, ``'unit'``, ``'yuan_per_month'``, or ``None`` for a plain number.
    scale
        Multiplier for bare numbers (no unit written in the cell), from the header bracket or the
        sheet's ``单位：万元`` row; e.g. ``1e4`` for a 万元 column of a yuan table.
    decimals
        Round to this many decimals after scaling (the cleaner passes 2 for yuan), which also
        removes float artefacts (``3.2亿`` → 320000000.0, not 319999999.99999994).

    Returns
    -------
    Parsed
        ``values`` float64 (NaN for missing), same index; ``findings`` as described in the module
        docstring.

    Raises
    ------
    ParameterError
        For an unknown ``unit``, a non-positive ``scale`` or a negative ``decimals``; never for
        cell content.

    Notes
    -----
    Text is NFKC-normalised first (``１２３．５`` → 123.5), whitespace collapsed and stripped.
    Accepted: thousands separators ``,`` (also ``，``) or spaces, each followed by exactly three
    digits after a first group of 1-3 (``1,234``, ``1,234,567.5``, ``1 234 567``; any other
    grouping such as ``1,2``, ``12,3456`` or ``300 50`` is ``unparseable``); a leading sign;
    exponents (``1.2e3``); a leading ``¥``; a leading ``约``/``大约`` or trailing ``左右``
    (``approx`` info); a trailing remark after a bracket, a space, punctuation or a remark word
    such as ``含`` (``remark`` info quoting it).

    A unit written in the cell overrides ``scale`` and is converted with
    :func:`zhengshou_analysis.units.unit_factor` (``1,234.5万元`` → 12345000.0 yuan; ``120亩``
    → 120 × 10000/15 m²; ``3.5万平方米`` → 35000 m²; ``2公顷`` → 30 亩; ``3.2亿`` → 3.2e8 yuan);
    a unit that does not fit the column → NA + ``unit_mismatch``. A percentage ``85%`` → 0.85
    only when ``unit`` is None (not scaled), else ``unit_mismatch``.

    ``int``/``float`` cells: value × ``scale``. ``0`` and ``'0'`` are 0.0, never placeholders.
    ``bool``, dates and other objects → NA + ``unparseable``; so are infinite values.

    Examples
    --------
    >>> s = pd.Series(["1,234.5万元", "300", "约 12", "X", None, 7], dtype=object)
    >>> parse_numbers(s, unit="yuan", scale=1e4, decimals=2).values.tolist()
    [12345000.0, 3000000.0, 120000.0, nan, nan, 70000.0]
    """
    raw = _check_series(raw)
    _check_number_args(unit, scale, decimals)
    cells, kinds = _split(raw)
    n = len(cells)
    parsed = _parse_number_cells(cells, kinds, unit=unit, scale=float(scale))
    values = _round_values(parsed.value, decimals)
    findings = _Findings(raw.index, cells)
    _add_number_findings(findings, kinds, parsed, values, unit)
    result = Parsed(pd.Series(values, index=raw.index, name=raw.name), findings.frame())
    logger.debug("parse_numbers: %d cells, %d findings", n, len(result.findings))
    return result


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

#: One RE2 pattern for a date cell (after NFKC, whitespace collapsed, stripped).
_DATE_PATTERN = (
    r"^(?:(?P<serial>[0-9]{5}(?:\.[0-9]+)?)"
    r"|(?P<y8>[0-9]{4})(?P<m8>[0-9]{2})(?P<d8>[0-9]{2})"
    r"|(?P<y>[0-9]{4})[ ]?(?:年|[-./])[ ]?(?P<m>[0-9]{1,2})"
    r"(?:[ ]?(?:月|[-./])[ ]?(?P<d>[0-9]{1,2})[ ]?[日号]?"
    r"(?:[ T]?[0-9]{1,2}:[0-9]{1,2}(?::[0-9]{1,2}(?:\.[0-9]+)?)?)?"
    r"|[ ]?月份?)?)$"
)
_YEAR_MONTH_PATTERN = r"^(?P<y>[0-9]{4})\.(?P<m>[0-9]{1,2})$"

#: Excel's day zero (serial 1 = 1900-01-01, with the 1900 leap-year bug folded in).
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000  # 1954-10-03 … 2119-01-11
_YMD_MIN, _YMD_MAX = 19000101, 21001231
_YEAR_MIN, _YEAR_MAX = 1900, 2199
_ORDINAL_EPOCH = dt.date(1970, 1, 1).toordinal()


def _to_ordinal(value: dt.date | np.datetime64) -> int:
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[D]").astype(np.int64)) + _ORDINAL_EPOCH
    return value.toordinal()  # date, datetime, pd.Timestamp: the wall-clock date


_ordinals = np.frompyfunc(_to_ordinal, 1, 1)


def _ymd_to_days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 for year/month/day arrays; -2**62 marks an impossible date."""
    y = np.asarray(y, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    d = np.asarray(d, dtype=np.int64)
    valid = (y >= _YEAR_MIN) & (y <= _YEAR_MAX) & (m >= 1) & (m <= 12) & (d >= 1)
    months = np.where(valid, (y - 1970) * 12 + (m - 1), 0)
    start = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    end = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    valid &= d <= end - start
    return np.where(valid, start + d - 1, _INVALID)


_INVALID = -(2**62)


def _int_field(a: pa.Array) -> np.ndarray:
    """A digit-string field as int64 (0 where empty)."""
    filled = pc.if_else(pc.equal(a, ""), "0", a).fill_null("0")
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


@dataclass(frozen=True)
class _DateText:
    days: np.ndarray  # int64 days since epoch, _INVALID when not a date
    status: np.ndarray  # int8: _OK, _BLANK, _PLACEHOLDER, _BAD, _IMPOSSIBLE
    month: np.ndarray  # bool: month precision
    serial: np.ndarray  # bool: Excel serial


def _parse_date_strings(texts: np.ndarray, words: frozenset[str]) -> _DateText:
    n = len(texts)
    clean = _clean_strings(texts)
    status = np.full(n, _BAD, dtype=np.int8)
    status[_np_bool(pc.equal(clean, ""))] = _BLANK
    status[_np_bool(pc.is_in(clean, value_set=pa.array(sorted(words))))] = _PLACEHOLDER
    m = pc.extract_regex(clean, _DATE_PATTERN)
    matched = _np_bool(m.is_valid()) & (status == _BAD)
    days = np.full(n, _INVALID, dtype=np.int64)

    serial = matched & _np_bool(pc.not_equal(m.field("serial"), ""))
    if serial.any():
        x = pd.to_numeric(pd.Series(_np_obj(m.field("serial"))[serial]), errors="coerce")
        days[serial] = _serial_to_days(x.to_numpy(dtype=np.float64, na_value=np.nan))

    ymd8 = matched & _np_bool(pc.not_equal(m.field("y8"), ""))
    if ymd8.any():
        y, mo, d = (_int_field(m.field(k))[ymd8] for k in ("y8", "m8", "d8"))
        in_range = (y * 10000 + mo * 100 + d >= _YMD_MIN) & (y * 10000 + mo * 100 + d <= _YMD_MAX)
        days[ymd8] = np.where(in_range, _ymd_to_days(y, mo, d), _INVALID)

    sep = matched & _np_bool(pc.not_equal(m.field("y"), ""))
    month = sep & _np_bool(pc.equal(m.field("d"), ""))
    if sep.any():
        y, mo, d = (_int_field(m.field(k))[sep] for k in ("y", "m", "d"))
        days[sep] = _ymd_to_days(y, mo, np.where(month[sep], 1, d))

    status[days != _INVALID] = _OK
    status[matched & ~serial & (days == _INVALID)] = _IMPOSSIBLE
    return _DateText(days, status, month & (status == _OK), serial & (status == _OK))


def _serial_to_days(x: np.ndarray) -> np.ndarray:
    inside = (x >= _SERIAL_MIN) & (x < _SERIAL_MAX)
    whole = np.floor(np.where(inside, x, 0)).astype(np.int64)
    return np.where(inside, _EXCEL_EPOCH.astype(np.int64) + whole, _INVALID)


def _parse_date_numbers(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """Numbers in a date column.

    Returns days and the masks: Excel serial, month precision, ambiguous ``.1``, and impossible
    (a yyyymmdd or ``YYYY.MM`` form that names no real date).
    """
    n = len(x)
    days = np.full(n, _INVALID, dtype=np.int64)
    finite = np.isfinite(x)
    xf = np.where(finite, x, 0.0)
    serial = finite & (xf >= _SERIAL_MIN) & (xf < _SERIAL_MAX)
    days[serial] = _serial_to_days(xf[serial])

    integral = finite & (xf == np.floor(xf))
    ymd = integral & (xf >= _YMD_MIN) & (xf <= _YMD_MAX)
    if ymd.any():
        v = xf[ymd].astype(np.int64)
        days[ymd] = _ymd_to_days(v // 10000, v // 100 % 100, v % 100)

    month = finite & ~integral & (xf > _YEAR_MIN) & (xf < _YEAR_MAX + 1)
    ambiguous = np.zeros(n, dtype=bool)
    if month.any():
        # Excel turned the text 2021.1 / 2021.12 into a float; its shortest repr gives the digits
        text = pa.array(xf[month].astype(str), type=pa.string())
        ym = pc.extract_regex(text, _YEAR_MONTH_PATTERN)
        ok = _np_bool(ym.is_valid())
        y, mo = _int_field(ym.field("y")), _int_field(ym.field("m"))
        one_digit = ok & _np_bool(pc.equal(pc.utf8_length(ym.field("m")), 1))
        days[month] = np.where(ok, _ymd_to_days(y, mo, np.ones_like(y)), _INVALID)
        ambiguous[month] = one_digit & (mo == 1)
    good = days != _INVALID
    impossible = (ymd | month) & ~good
    return days, serial & good, month & good & ~ambiguous, ambiguous & good, impossible


@dataclass(frozen=True)
class _DateCells:
    """Every cell of a raw column read as a date."""

    days: np.ndarray  # int64 days since epoch, _INVALID when not a date
    status: np.ndarray  # int8: _OK, _BLANK, _PLACEHOLDER, _BAD, _IMPOSSIBLE
    serial: np.ndarray  # bool: an Excel serial
    month: np.ndarray  # bool: month precision
    ambiguous: np.ndarray  # bool: a float ``YYYY.1`` read as January


def _parse_date_cells(cells: np.ndarray, kinds: np.ndarray, words: frozenset[str]) -> _DateCells:
    """Date cells as their date; numbers and (distinct) texts parsed; others invalid."""
    n = len(cells)
    days = np.full(n, _INVALID, dtype=np.int64)
    is_date = kinds == _DATE
    if is_date.any():
        days[is_date] = _ordinals(cells[is_date]).astype(np.int64) - _ORDINAL_EPOCH

    serial = np.zeros(n, dtype=bool)
    month = np.zeros(n, dtype=bool)
    ambiguous = np.zeros(n, dtype=bool)
    is_num = kinds == _NUM
    status = np.full(n, _OK, dtype=np.int8)
    if is_num.any():
        d, s, mo, amb, imp = _parse_date_numbers(_numbers_from_objects(cells[is_num]))
        days[is_num], serial[is_num], month[is_num], ambiguous[is_num] = d, s, mo, amb
        status[is_num] = np.where(imp, _IMPOSSIBLE, _OK)
    is_str = kinds == _STR
    if is_str.any():
        codes, uniq = pd.factorize(cells[is_str])
        parsed = _parse_date_strings(np.asarray(uniq, dtype=object), words)
        days[is_str] = parsed.days[codes]
        status[is_str] = parsed.status[codes]
        month[is_str] = parsed.month[codes]
        serial[is_str] = parsed.serial[codes]
    return _DateCells(days, status, serial, month, ambiguous)


def _date_text(dates: np.ndarray) -> np.ndarray:
    """``datetime64[D]`` as ``YYYY-MM-DD`` text (``NaT`` as ``""``), each distinct day written once."""
    codes, uniq = pd.factorize(dates)
    text = np.append(np.asarray(uniq, dtype="datetime64[D]").astype(str), "")
    return text[codes]


def _add_date_findings(
    findings: _Findings, kinds: np.ndarray, p: _DateCells, out: np.ndarray
) -> None:
    """Add the findings of :func:`parse_dates`; ``out`` holds the parsed dates (``datetime64[D]``)."""
    status, serial, month, ambiguous = p.status, p.serial, p.month, p.ambiguous
    good = p.days != _INVALID

    def dated(before: str, after: str):
        return lambda pos: (
            before
            + "「"
            + findings.raw_text(pos)
            + "」"
            + after
            + _as_str(np.where(good[pos], _date_text(out[pos]), ""))
        )

    findings.add(
        status == _PLACEHOLDER,
        "placeholder",
        _quoted(findings, "占位符/缺失标记", "视为缺失 (NaT)"),
    )
    findings.add(serial, "excel_serial", dated("Excel 日期序列号", "（自 1899-12-30 起算）→ "))
    findings.add(month, "month_precision", dated("只有年月", "，按当月 1 日处理 → "))
    findings.add(
        ambiguous,
        "ambiguous_date",
        dated(
            "Excel 把年月存成了小数", "：按 1 月处理，但也可能是 10 月（.10 被截成 .1），请核对 → "
        ),
    )
    bad = ~good & (kinds != _EMPTY) & (status != _PLACEHOLDER) & (status != _BLANK)
    impossible = bad & (status == _IMPOSSIBLE)
    findings.add(
        impossible,
        "unparseable",
        _quoted(findings, "日期不存在（月、日超出范围或年份不在 1900–2199）：", "，记为缺失"),
    )
    findings.add(
        bad & ~impossible & (kinds != _BOOL),
        "unparseable",
        _quoted(findings, "无法解析为日期：", "，记为缺失"),
    )
    findings.add(kinds == _BOOL, "unparseable", _quoted(findings, "布尔值", "不是日期，记为缺失"))


def parse_dates(raw: pd.Series, *, missing: Iterable[str] = ()) -> Parsed:
    """Parse a raw date column to ``datetime64[s]`` at day precision.

    Parameters
    ----------
    raw
        Raw cells: real dates, date text in any ledger form, Excel serials, numbers, placeholders.
    missing
        Extra words meaning "no date" in this column, e.g. ``('未交付', '在建', '未完成')`` for a
        delivery date; like placeholders they give NaT + a ``placeholder`` info finding.

    Returns
    -------
    Parsed
        ``values`` ``datetime64[s]`` (midnight, NaT for missing), same index; ``findings`` as
        described in the module docstring.

    Notes
    -----
    * ``datetime``/``date``/``Timestamp`` cells: their (wall-clock) date, time dropped.
    * Text (after NFKC): ``2021年1月30日`` (or ``号``), ``2021.1.30``, ``2021/01/30``,
      ``2021-1-30``, ``2021-01-30 00:00:00``, ``20210130``; month-only ``2021年1月``,
      ``2021.01``, ``2021.1``, ``2021-01``, ``2021/1`` → the 1st + ``month_precision`` info; a
      5-digit text in the serial range → as a serial.
    * Numbers: 20000 ≤ x < 80000 is an Excel serial (1899-12-30 + ⌊x⌋ days, fraction = time
      dropped; ``excel_serial`` info); an integral 19000101–21001231 that is a valid yyyymmdd is
      that date; a float between 1900 and 2200 with a fraction is a ``YYYY.MM`` mangled by
      Excel, read from its shortest repr: two decimals (``2021.12``) → that month, one decimal
      ``.2``–``.9`` → that month (``month_precision`` info), ``.1`` → January with an
      ``ambiguous_date`` warning (may be October typed ``2021.10``).
    * Years must lie in 1900–2199; an impossible date (``2021-02-30``, month 13) and anything
      else → NaT + ``unparseable`` warning. ``bool`` cells are never dates.

    Examples
    --------
    >>> s = pd.Series(["2021年1月30日", 44226, "2021.01", "在建", None], dtype=object)
    >>> parse_dates(s, missing=("在建",)).values.dt.strftime("%Y-%m-%d").tolist()
    ['2021-01-30', '2021-01-30', '2021-01-01', nan, nan]
    """
    raw = _check_series(raw)
    words = frozenset(_words(missing)) | PLACEHOLDERS
    cells, kinds = _split(raw)
    n = len(cells)
    parsed = _parse_date_cells(cells, kinds, words)
    good = parsed.days != _INVALID
    out = np.where(good, parsed.days, np.iinfo(np.int64).min).astype("datetime64[D]")
    values = pd.Series(out.astype("datetime64[s]"), index=raw.index, name=raw.name)
    findings = _Findings(raw.index, cells)
    _add_date_findings(findings, kinds, parsed, out)
    result = Parsed(values, findings.frame())
    logger.debug("parse_dates: %d cells, %d findings", n, len(result.findings))
    return result
