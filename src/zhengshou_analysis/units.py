"""Units of measure: the scale from a written unit to a canonical column's unit.

Text is NFKC-normalised before it reaches these tables, so ``㎡`` and ``m²`` arrive as ``m2`` and
full-width brackets as ASCII ones.
"""

from __future__ import annotations

import re

from .schemas import MU_M2

__all__ = ["MU_M2", "split_header_unit", "unit_factor", "unit_label_zh"]

#: Written money units → yuan.
MONEY_UNITS: dict[str, float] = {
    "元": 1.0,
    "千元": 1e3,
    "万元": 1e4,
    "万": 1e4,
    "亿元": 1e8,
    "亿": 1e8,
}
#: Written area units → m².
AREA_M2_UNITS: dict[str, float] = {
    "平方米": 1.0,
    "平米": 1.0,
    "m2": 1.0,
    "万平方米": 1e4,
    "万平米": 1e4,
    "万m2": 1e4,
}
#: Written area units → 亩.
AREA_MU_UNITS: dict[str, float] = {"亩": 1.0, "万亩": 1e4, "公顷": 15.0, "hm2": 15.0}
#: Units of plain counts, accepted and ignored.
COUNT_UNITS: dict[str, tuple[str, ...]] = {
    "month": ("月", "个月"),
    "person": ("人",),
    "unit": ("套", "户"),
}
#: Fee-rate units (元 per basis unit per month) → fee_basis.
FEE_RATE_BASIS: dict[str, str] = {
    "元/平方米/月": "per_m2",
    "元/平米/月": "per_m2",
    "元/m2/月": "per_m2",
    "元/平方米·月": "per_m2",
    "元/m2·月": "per_m2",
    "元/户/月": "per_household",
    "元/户·月": "per_household",
    "元/人/月": "per_person",
    "元/人·月": "per_person",
}

_BRACKET = re.compile(r"[(\[]([^()\[\]]*)[)\]]")


def split_header_unit(header: str) -> tuple[str, str | None]:
    """Split ``补偿总额(万元)`` into ``("补偿总额", "万元")``.

    The header is expected NFKC-normalised (ASCII brackets). A bracket whose content is not a known
    unit (``过渡期限(约定)``) is dropped from the name all the same and returned as the unit text;
    callers decide with :func:`unit_factor` whether it means anything.
    """
    units = _BRACKET.findall(header)
    name = _BRACKET.sub("", header)
    unit = units[-1].strip() if units else None
    return name, unit or None


def unit_factor(unit: str | None, target: str | None) -> float | None:
    """Multiplier from a written ``unit`` to the canonical ``target`` unit.

    Parameters
    ----------
    unit
        A written unit, NFKC-normalised (``万元``, ``公顷``, ``m2``, ``元/平方米/月``); ``None`` for
        none written.
    target
        The canonical unit of the column (``yuan``, ``m2``, ``mu``, ``month``, ``person``, ``unit``,
        ``yuan_per_month``) or ``None`` for a plain number.

    Returns
    -------
    float or None
        The factor, 1.0 when no unit is written, and ``None`` when the unit does not fit the target
        (``亩`` in a money column).
    """
    if unit is None or unit == "":
        return 1.0
    u = unit.replace(" ", "")
    if target == "yuan":
        return MONEY_UNITS.get(u)
    if target == "m2":
        if u in AREA_M2_UNITS:
            return AREA_M2_UNITS[u]
        return AREA_MU_UNITS[u] * MU_M2 if u in AREA_MU_UNITS else None
    if target == "mu":
        if u in AREA_MU_UNITS:
            return AREA_MU_UNITS[u]
        return AREA_M2_UNITS[u] / MU_M2 if u in AREA_M2_UNITS else None
    if target == "yuan_per_month":
        if u in FEE_RATE_BASIS or u in ("元/月", "元"):
            return 1.0
        return None
    if target in COUNT_UNITS:
        return 1.0 if u in COUNT_UNITS[target] else None
    return None


_LATIN_UNITS = (
    (re.compile(r"(?<![A-Za-z])hm2(?![A-Za-z0-9])"), "公顷"),
    (re.compile(r"(?<![A-Za-z])m2(?![A-Za-z0-9])"), "平方米"),
)


def unit_label_zh(unit: str | None) -> str:
    """A unit as a reader's page writes it: ``m2`` → ``平方米``, ``元/m2/月`` → ``元/平方米/月``.

    Units reach the tables NFKC-normalised (``㎡`` and ``m²`` as ``m2``); a page says them in
    Chinese. ``None`` gives ``""``.

    Examples
    --------
    >>> unit_label_zh("万m2"), unit_label_zh("hm2"), unit_label_zh("万元"), unit_label_zh(None)
    ('万平方米', '公顷', '万元', '')
    """
    text = "" if unit is None else str(unit)
    for pattern, words in _LATIN_UNITS:
        text = pattern.sub(words, text)
    return text
