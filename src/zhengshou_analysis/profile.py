"""The office profile (``zhengshou.toml``): what an office corrects without editing code.

One declaration (:data:`PROFILE_KEYS`, :data:`SCENARIO_KEYS`, :data:`SECTIONS`) lists every key of
the profile with its type, default and a Chinese and English description. Three things derive from
it:

* the validator (:func:`parse_profile`, :func:`load_profile`): unknown keys, wrong types and
  values out of range are collected and reported together, each with its key path
  (``policy.escalation[1]``) and what is allowed, in one :class:`ProfileError`;
* the commented template an office starts from (:func:`render_profile_template`, ``zhengshou init``);
* the reference ``docs/profile.md`` (:func:`render_profile_doc`; a test keeps the file current).

Array indices in key paths are 0-based (``policy.escalation[1]`` is the second tier).

Lookup (:func:`load_profile`): the file given with ``--profile``; else ``zhengshou.toml`` in the
ledger folder (an office keeps its profile with its ledgers); else ``zhengshou.toml`` in the
current folder; else the built-in defaults (:data:`DEFAULT_PROFILE`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import math
import os
import re
import textwrap
import tomllib
import types
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any, TypeGuard

from .exceptions import ParameterError, ProfileError
from .schemas import PII_WORDS, TABLES
from .settings import (
    DEFAULT_AGE_BANDS_MONTHS,
    DEFAULT_ESCALATION,
    DEFAULT_PAYMENT_TERM_DAYS,
    DEFAULT_POLICY,
    Escalation,
    Policy,
)

__all__ = [
    "DEFAULT_PROFILE",
    "OFFICE_FALLBACK",
    "PROFILE_KEYS",
    "PROFILE_NAME",
    "SCENARIO_KEYS",
    "SECTIONS",
    "Profile",
    "ProfileError",
    "ProfileKey",
    "find_profile",
    "load_profile",
    "parse_profile",
    "render_profile_doc",
    "render_profile_template",
    "write_profile_template",
]

log = logging.getLogger(__name__)

#: The file name of a profile, in a ledger folder or the current folder.
PROFILE_NAME = "zhengshou.toml"

#: What titles and file names call an office whose profile names none.
OFFICE_FALLBACK = "区"

#: A problem found in a profile: (key path, what is wrong and what is allowed).
Problem = tuple[str, str]


@dataclass(frozen=True)
class Check:
    """A value check: ``check(value)`` gives the problems of one value, as (path suffix such as
    ``"[1]"``, message); ``allowed`` says in words what is allowed (the type in the docs)."""

    run: Callable[[Any], list[tuple[str, str]]]
    allowed: str

    def __call__(self, value: object) -> list[tuple[str, str]]:
        return self.run(value)


def _allowing(allowed: str) -> Callable[[Callable[[Any], list[tuple[str, str]]]], Check]:
    """Decorator: the function as a :class:`Check` allowing ``allowed``."""
    return lambda run: Check(run, allowed)


# --------------------------------------------------------------------------------------------------
# value checks


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, datetime | date | time):
        return "date/time"
    return type(value).__name__


def _show(value: object) -> str:
    """``value`` as written in TOML, with its TOML type: ``true (boolean)``."""
    try:
        text = _format_value(value)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({_toml_type(value)})"


def _check_integer(low: int, high: int | None = None) -> Check:
    allowed = f"an integer >= {low}" + (f" and <= {high}" if high is not None else "")

    def check(value: object) -> list[tuple[str, str]]:
        if not _is_int(value) or value < low or (high is not None and value > high):
            return [("", f"must be {allowed} (true/false is not an integer), got {_show(value)}")]
        return []

    return Check(check, allowed)


def _check_number(low: float | None = None) -> Check:
    allowed = "a number" + (f" >= {low:g}" if low is not None else "")

    def check(value: object) -> list[tuple[str, str]]:
        if not _is_number(value) or (low is not None and value < low):
            return [
                ("", f"must be {allowed} (finite; true/false is not a number), got {_show(value)}")
            ]
        return []

    return Check(check, allowed)


@_allowing("a non-empty string")
def _check_text(value: object) -> list[tuple[str, str]]:
    if not isinstance(value, str) or not value.strip():
        return [("", f"must be a non-empty string, got {_show(value)}")]
    return []


@_allowing("array of [integer >= 1, number >= 1] pairs, starting at 1, strictly increasing")
def _check_escalation(value: object) -> list[tuple[str, str]]:
    shape = "an array of [first overdue month, multiplier] pairs, e.g. [[1, 1.5], [13, 2.0]]"
    if not isinstance(value, list) or not value:
        return [("", f"must be {shape}, got {_show(value)}")]
    out: list[tuple[str, str]] = []
    previous: int | None = None
    for i, tier in enumerate(value):
        at = f"[{i}]"
        if not isinstance(tier, list) or len(tier) != 2:
            out.append(
                (
                    at,
                    (
                        "must be a pair [first overdue month (integer >= 1), multiplier (number >= 1)], "
                        f"got {_show(tier)}"
                    ),
                )
            )
            previous = None
            continue
        start, mult = tier
        if not _is_int(start) or start < 1:
            out.append(
                (f"{at}[0]", f"first overdue month must be an integer >= 1, got {_show(start)}")
            )
            start = None
        if not _is_number(mult) or mult < 1:
            out.append((f"{at}[1]", f"multiplier must be a number >= 1, got {_show(mult)}"))
        if start is None:
            previous = None
            continue
        if i == 0 and start != 1:
            out.append((at, f"the first tier must start at overdue month 1, got {start}"))
        if previous is not None and start <= previous:
            out.append(
                (at, f"first overdue months must increase strictly, got {start} after {previous}")
            )
        previous = start
    return out


@_allowing("array of numbers starting at 0, strictly increasing")
def _check_bands(value: object) -> list[tuple[str, str]]:
    shape = "an array of numbers starting at 0 and increasing strictly, e.g. [0, 3, 6, 12]"
    if not isinstance(value, list) or not value:
        return [("", f"must be {shape}, got {_show(value)}")]
    out: list[tuple[str, str]] = []
    previous: float | None = None
    for i, bound in enumerate(value):
        if not _is_number(bound) or bound < 0:
            out.append((f"[{i}]", f"must be a number >= 0, got {_show(bound)}"))
            previous = None
            continue
        if i == 0 and bound != 0:
            out.append((f"[{i}]", f"the first band must start at 0, got {bound}"))
        if previous is not None and bound <= previous:
            out.append((f"[{i}]", f"bounds must increase strictly, got {bound} after {previous}"))
        previous = bound
    return out


# --------------------------------------------------------------------------------------------------
# the declaration


@dataclass(frozen=True)
class ProfileKey:
    """One key of the profile: where it sits, its type, its default and what it means.

    Attributes
    ----------
    path
        Dotted key path (``policy.payment_term_days``); for a scenario key, its name.
    check
        The value check; its ``allowed`` attribute says what is allowed (the type in the docs).
    default
        The default as a TOML value; ``None``: unset by default (the key is then left out).
    zh, en
        What the key means, in Chinese and in English.
    example
        A value shown (commented out) in the template when the default is unset.
    required
        Must be given (scenario ``name``).
    """

    path: str
    check: Check
    default: object
    zh: str
    en: str
    example: object = None
    required: bool = False

    @property
    def name(self) -> str:
        """The key's own name (last part of the path)."""
        return self.path.rsplit(".", 1)[-1]

    @property
    def allowed(self) -> str:
        """What values are allowed, in words."""
        return self.check.allowed


#: Sections of a profile, in file order: name → (Chinese, English) description.
SECTIONS: dict[str, tuple[str, str]] = {
    "office": ("单位", "the office"),
    "headers": (
        "表头补充：每张标准表、每个标准列，在内置表头之外再认哪些表头文字",
        "extra header words per canonical table and column, on top of the built-in ones",
    ),
    "zones": (
        "片区：标准片区名 → 台账中的其他写法（别名）；一个别名只能属于一个片区",
        "canonical 片区 → the other spellings (aliases) the ledgers use; an alias names one 片区 only",
    ),
    "policy": (
        "政策口径：台账未写明时各项指标采用的规则",
        "policy: the rules the figures apply where a ledger is silent",
    ),
    "forecast": ("预测", "forecasts"),
    "forecast.scenarios": (
        "资金缺口情景（可写多个 [[forecast.scenarios]]）；一个都不写即使用内置情景",
        "funding-gap what-ifs (one [[forecast.scenarios]] per scenario); none: the built-in set",
    ),
}

#: Every fixed key of a profile (``headers``, ``zones`` and ``forecast.scenarios`` are declared by
#: :data:`SECTIONS` and :data:`SCENARIO_KEYS`).
PROFILE_KEYS: tuple[ProfileKey, ...] = (
    ProfileKey(
        "office.name",
        _check_text,
        None,
        "单位（区）名称，用于每个报告页和目录页的标题；不设时使用通用称呼",
        "office (district) name, in the title of every report page and of the index; unset: a generic name",
        example="港北区",
    ),
    ProfileKey(
        "policy.payment_term_days",
        _check_integer(0),
        DEFAULT_PAYMENT_TERM_DAYS,
        "付款期限（天）：台账未写应付日期的协议，在签约后这么多天到期",
        "payment term (days): an agreement without a due date falls due this many days after signing",
    ),
    ProfileKey(
        "policy.escalation",
        _check_escalation,
        [[start, mult] for start, mult in DEFAULT_ESCALATION.tiers],
        "过渡安置费逾期加付：[自逾期第几个月起, 倍数] 的列表，从第 1 个月起、严格递增；默认值仅为示例规则",
        "overdue escalation of the transitional fee: [first overdue month, multiplier] pairs from "
        "month 1, strictly increasing; the default is an example rule, not a regulation",
    ),
    ProfileKey(
        "policy.default_transition_months",
        _check_integer(1),
        None,
        "默认过渡期（月）：台账未写约定过渡期、其安置区也无承诺交付日期的户采用；不设时此类户不计逾期",
        "default transition period (months) of a household with no agreed period and no promised "
        "site date; unset: such a household is never counted overdue",
        example=24,
    ),
    ProfileKey(
        "policy.age_bands_months",
        _check_bands,
        list(DEFAULT_AGE_BANDS_MONTHS),
        "逾期账龄分段的下限（月），从 0 起严格递增：0–3、3–6、6–12、12 个月以上",
        "lower bounds (months) of the overdue-age bands, from 0, strictly increasing",
    ),
    ProfileKey(
        "forecast.horizon_months",
        _check_integer(1, 120),
        12,
        "预测期（月）",
        "forecast horizon (months)",
    ),
    ProfileKey(
        "forecast.seed",
        _check_integer(0),
        2021,
        "随机数种子：相同数据和种子得到相同预测",
        "random seed: the same data and seed give the same forecasts",
    ),
)

#: The keys of one ``[[forecast.scenarios]]`` entry (the fields of ``forecast.scenarios.Scenario``;
#: a test keeps the defaults equal).
SCENARIO_KEYS: tuple[ProfileKey, ...] = (
    ProfileKey(
        "name",
        _check_text,
        None,
        "情景名称（必填，各情景不同）",
        "scenario name (required, unique)",
        example="资金到位八折",
        required=True,
    ),
    ProfileKey(
        "inflow_factor",
        _check_number(0),
        1.0,
        "资金到位乘以该系数（0.8 = 少到位 20%）",
        "simulated inflows are multiplied by this (0.8 = 20 % less money)",
        example=0.8,
    ),
    ProfileKey(
        "lump_yuan",
        _check_number(),
        0.0,
        "一次性到位资金（元，如专项债）",
        "a one-off inflow in yuan (e.g. a special bond)",
        example=50000000.0,
    ),
    ProfileKey(
        "lump_month",
        _check_integer(1),
        1,
        "一次性资金在预测期第几个月到位（1 = 第一个月）",
        "month of the one-off inflow (1 = the first month of the horizon)",
        example=6,
    ),
    ProfileKey(
        "delivery_delay_months",
        _check_integer(0),
        0,
        "所有未交付安置区再推迟的月数",
        "every undelivered site is delivered this many months later",
        example=6,
    ),
)

_KEYS = {k.path: k for k in PROFILE_KEYS}
_SECTION_KEYS: dict[str, dict[str, ProfileKey]] = {
    s: {k.name: k for k in PROFILE_KEYS if k.path.split(".")[0] == s}
    for s in ("office", "policy", "forecast")
}
_SCENARIO_KEYS = {k.name: k for k in SCENARIO_KEYS}
_TOP_LEVEL = tuple(s for s in SECTIONS if "." not in s)


def _default(path: str) -> Any:
    return _KEYS[path].default


# --------------------------------------------------------------------------------------------------
# key paths and messages


def _quote(key: str) -> str:
    """A key as TOML writes it: bare when it can be, else a quoted string."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _format_string(key)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{_quote(key)}" if prefix else _quote(key)


def _unknown(kind: str, key: str, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown {kind} {_quote(key)}{hint}; allowed: {', '.join(allowed) or '(none)'}"


# --------------------------------------------------------------------------------------------------
# the validator


def _check_value(key: ProfileKey, value: object, path: str, problems: list[Problem]) -> None:
    for suffix, message in key.check(value):
        problems.append((path + suffix, message))


def _check_keys(
    table: Mapping[str, Any],
    prefix: str,
    keys: Mapping[str, ProfileKey],
    problems: list[Problem],
    *,
    nested: Mapping[str, Callable[[Any, str, list[Problem]], None]] | None = None,
) -> None:
    nested = nested or {}
    for name, value in table.items():
        path = _join(prefix, name)
        if name in keys:
            _check_value(keys[name], value, path, problems)
        elif name in nested:
            nested[name](value, path, problems)
        else:
            problems.append((path, _unknown("key", name, [*keys, *nested])))
    for name, key in keys.items():
        if key.required and name not in table:
            problems.append((_join(prefix, name), f"is required ({key.allowed})"))


def _check_headers(value: Mapping[str, Any], problems: list[Problem]) -> None:
    if not value:
        return
    from .ledger.layout import canonical_header, header_index

    index = header_index()
    for table_name, columns in value.items():
        path = _join("headers", table_name)
        if table_name not in TABLES:
            problems.append((path, _unknown("table", table_name, TABLES)))
            continue
        if not isinstance(columns, dict):
            problems.append(
                (path, f"must be a table [{path}] of column = [header words], got {_show(columns)}")
            )
            continue
        names = [c.name for c in TABLES[table_name].columns]
        claimed: dict[str, str] = {}
        for column, words in columns.items():
            cpath = _join(path, column)
            if column not in names:
                why = (
                    "origin is set by the cleaner and cannot be mapped; "
                    if column == "origin"
                    else ""
                )
                problems.append(
                    (cpath, why + _unknown(f"column of table {table_name}", column, names))
                )
                continue
            if not isinstance(words, list):
                problems.append(
                    (
                        cpath,
                        f'must be an array of header words, e.g. ["所在街道"], got {_show(words)}',
                    )
                )
                continue
            for i, word in enumerate(words):
                wpath = f"{cpath}[{i}]"
                if not isinstance(word, str):
                    problems.append((wpath, f"must be a string (a header word), got {_show(word)}"))
                    continue
                key = canonical_header(word)
                if not key:
                    problems.append((wpath, f"empty header word {_show(word)}"))
                    continue
                pii = [w for w in PII_WORDS if w in key]
                if pii:
                    problems.append(
                        (
                            wpath,
                            f"{word!r} names personal data ({pii[0]}); such columns are never read",
                        )
                    )
                    continue
                other = claimed.get(key)
                if other is not None and other != column:
                    problems.append(
                        (wpath, f"{word!r} is also given for {_join(path, other)}; one column only")
                    )
                builtin = index.get(table_name, {}).get(key)
                if builtin is not None and builtin[0].name != column:
                    problems.append(
                        (
                            wpath,
                            f"{word!r} is already a built-in header of {table_name}.{builtin[0].name}",
                        )
                    )
                claimed[key] = column


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _check_zones(value: Mapping[str, Any], problems: list[Problem]) -> None:
    owner: dict[str, str] = {}
    for zone in value:
        if not _normal(zone):
            problems.append((_join("zones", zone), "empty 片区 name"))
        owner.setdefault(_normal(zone), zone)
    for zone, aliases in value.items():
        path = _join("zones", zone)
        if not isinstance(aliases, list):
            problems.append(
                (path, f'must be an array of aliases, e.g. ["城东", "东片"], got {_show(aliases)}')
            )
            continue
        for i, alias in enumerate(aliases):
            apath = f"{path}[{i}]"
            if not isinstance(alias, str) or not _normal(alias):
                problems.append(
                    (apath, f"must be a non-empty string (an alias), got {_show(alias)}")
                )
                continue
            claimant = owner.setdefault(_normal(alias), zone)
            if claimant != zone:
                problems.append(
                    (
                        apath,
                        (
                            f"alias {alias!r} is already claimed by 片区 {claimant!r}; "
                            "an alias names one 片区 only"
                        ),
                    )
                )


def _check_scenarios(value: object, path: str, problems: list[Problem]) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(s, dict) for s in value):
        problems.append(
            (
                path,
                (
                    "must be one or more [[forecast.scenarios]] tables (omit them for the built-in "
                    f"set), got {_show(value)}"
                ),
            )
        )
        return
    names: set[str] = set()
    for i, scenario in enumerate(value):
        spath = f"{path}[{i}]"
        _check_keys(scenario, spath, _SCENARIO_KEYS, problems)
        name = scenario.get("name")
        if isinstance(name, str) and name.strip():
            if name in names:
                problems.append((f"{spath}.name", f"duplicate scenario name {name!r}"))
            names.add(name)


def _collect_problems(data: object) -> list[Problem]:
    """Every problem of a parsed profile (a TOML document as a dict), in file order."""
    if not isinstance(data, dict):
        return [("", f"a profile is a TOML table, got {_show(data)}")]
    problems: list[Problem] = []
    for name, section in data.items():
        if name not in _TOP_LEVEL:
            problems.append((_quote(name), _unknown("section", name, _TOP_LEVEL)))
        elif not isinstance(section, dict):
            problems.append((name, f"must be a table [{name}], got {_show(section)}"))
        elif name == "headers":
            _check_headers(section, problems)
        elif name == "zones":
            _check_zones(section, problems)
        else:
            nested = {"scenarios": _check_scenarios} if name == "forecast" else None
            _check_keys(section, name, _SECTION_KEYS[name], problems, nested=nested)
    return problems


def _raise_problems(problems: list[Problem], source: Path | str | None) -> None:
    if not problems:
        return
    lines = [f"  {path or '(top level)'}: {message}" for path, message in problems]
    n = len(problems)
    raise ProfileError(
        f"配置文件有误 (invalid profile), {n} problem{'s' if n > 1 else ''}:\n" + "\n".join(lines),
        file=None if source is None else str(source),
        problems=problems,
    )


# --------------------------------------------------------------------------------------------------
# the profile


def _freeze_words(words: str | Iterable[str]) -> tuple[str, ...]:
    return (words,) if isinstance(words, str) else tuple(words)


def _frozen_headers(headers: Mapping) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    return types.MappingProxyType(
        {
            str(t): types.MappingProxyType({str(c): _freeze_words(w) for c, w in cols.items()})
            for t, cols in headers.items()
        }
    )


def _scenario_dict(scenario: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": scenario.name}
    for key in SCENARIO_KEYS[1:]:
        value = getattr(scenario, key.name)
        out[key.name] = float(value) if isinstance(key.default, float) else int(value)
    return out


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


@dataclass(frozen=True)
class Profile:
    """An office's profile: its name, extra header words, 片区 aliases, policy and forecasts.

    Build one with :func:`load_profile` (from ``zhengshou.toml``) or :meth:`default`. Mappings are
    read-only views over tuples; two profiles with the same content are equal and hash alike,
    whatever file they came from (``source`` is not compared).

    Attributes
    ----------
    office_name
        The office (district) name used in the titles of the pages; ``None``: unset.
    headers
        Canonical table → canonical column → extra header words.
    zones
        Canonical 片区 → aliases.
    policy
        The rules the figures apply where a ledger is silent (:class:`~.settings.Policy`).
    horizon_months, seed
        Forecast horizon and random seed.
    scenarios
        The funding-gap scenarios (``forecast.scenarios.Scenario``); ``None``: the built-in set
        (:attr:`scenario_set` resolves it).
    source
        The file the profile was read from (``None``: built in).

    Raises
    ------
    ProfileError
        When a value is outside what the profile allows (as for a file, without a file name).
    """

    office_name: str | None = None
    headers: Mapping[str, Mapping[str, tuple[str, ...]]] = field(
        default_factory=lambda: types.MappingProxyType({})
    )
    zones: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: types.MappingProxyType({}))
    policy: Policy = DEFAULT_POLICY
    horizon_months: int = _default("forecast.horizon_months")
    seed: int = _default("forecast.seed")
    scenarios: tuple | None = None
    source: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _frozen_headers(self.headers))
        object.__setattr__(
            self,
            "zones",
            types.MappingProxyType({str(z): _freeze_words(a) for z, a in self.zones.items()}),
        )
        if self.scenarios is not None:
            object.__setattr__(self, "scenarios", tuple(self.scenarios))
        if self.source is not None:
            object.__setattr__(self, "source", Path(self.source))
        _raise_problems(_collect_problems(self.to_dict()), self.source)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    @property
    def office(self) -> str:
        """The office's name for titles and file names (:data:`OFFICE_FALLBACK` when unset)."""
        return self.office_name or OFFICE_FALLBACK

    @classmethod
    def default(cls) -> Profile:
        """The built-in profile (:data:`DEFAULT_PROFILE`)."""
        return DEFAULT_PROFILE

    def to_dict(self) -> dict[str, Any]:
        """The profile as a TOML document (a plain dict); unset keys are left out."""
        policy = self.policy
        out: dict[str, Any] = {
            "office": {} if self.office_name is None else {"name": self.office_name},
            "headers": {
                t: {c: list(w) for c, w in cols.items()} for t, cols in self.headers.items()
            },
            "zones": {z: list(a) for z, a in self.zones.items()},
            "policy": {
                "payment_term_days": int(policy.payment_term_days),
                "escalation": [[int(s), float(m)] for s, m in policy.escalation.tiers],
                "age_bands_months": [_plain_number(b) for b in policy.age_bands_months],
            },
            "forecast": {"horizon_months": self.horizon_months, "seed": self.seed},
        }
        if policy.default_transition_months is not None:
            out["policy"]["default_transition_months"] = int(policy.default_transition_months)
        if self.scenarios is not None:
            out["forecast"]["scenarios"] = [_scenario_dict(s) for s in self.scenarios]
        return out

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the content (canonical JSON): comments, layout and ``source`` do not count."""
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def scenario_set(self) -> tuple:
        """The scenarios to report: :attr:`scenarios`, or the built-in ``DEFAULT_SCENARIOS``."""
        if self.scenarios is not None:
            return self.scenarios
        from .forecast.scenarios import DEFAULT_SCENARIOS

        return DEFAULT_SCENARIOS


def _build_profile(data: dict[str, Any], source: Path | None) -> Profile:
    """A profile from a document without problems (Policy and Scenario errors name their key)."""
    problems: list[Problem] = []
    section = {name: data.get(name, {}) for name in _TOP_LEVEL}
    pol, fc = section["policy"], section["forecast"]
    escalation = DEFAULT_ESCALATION
    if "escalation" in pol:
        try:
            escalation = Escalation(tuple((int(s), float(m)) for s, m in pol["escalation"]))
        except ParameterError as exc:
            problems.append(("policy.escalation", str(exc)))
    policy = DEFAULT_POLICY
    try:
        policy = Policy(
            payment_term_days=pol.get("payment_term_days", DEFAULT_PAYMENT_TERM_DAYS),
            escalation=escalation,
            default_transition_months=pol.get("default_transition_months"),
            age_bands_months=tuple(pol.get("age_bands_months", DEFAULT_AGE_BANDS_MONTHS)),
        )
    except ParameterError as exc:
        problems.append(("policy", str(exc)))
    scenarios = None
    if "scenarios" in fc:
        from .forecast.scenarios import Scenario

        built: list[Scenario] = []
        for i, entry in enumerate(fc["scenarios"]):
            values: dict[str, Any] = {  # TOML values, checked by _collect_problems
                k.name: (float(entry[k.name]) if isinstance(k.default, float) else entry[k.name])
                for k in SCENARIO_KEYS
                if k.name in entry
            }
            try:
                built.append(Scenario(**values))
            except ParameterError as exc:
                problems.append((f"forecast.scenarios[{i}]", str(exc)))
        scenarios = tuple(built)
    _raise_problems(problems, source)
    return Profile(
        office_name=section["office"].get("name"),
        headers=section["headers"],
        zones=section["zones"],
        policy=policy,
        horizon_months=fc.get("horizon_months", _default("forecast.horizon_months")),
        seed=fc.get("seed", _default("forecast.seed")),
        scenarios=scenarios,
        source=source,
    )


#: The built-in profile: no office name, no extra headers or aliases, the default policy and
#: forecasts, the built-in scenarios.
DEFAULT_PROFILE = Profile()


def parse_profile(text: str, *, source: str | Path | None = None) -> Profile:
    """Validate the text of a ``zhengshou.toml`` and return its profile.

    Parameters
    ----------
    text
        The TOML text.
    source
        The file it came from (named in errors, kept as :attr:`Profile.source`).

    Raises
    ------
    ProfileError
        With every problem (one per line, each with its key path and what is allowed), or the
        line and column of a TOML syntax error.
    """
    src = None if source is None else Path(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = f"line {m.group(1)}, column {m.group(2)}" if m else "unknown position"
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or str(exc)
        raise ProfileError(
            f"TOML 语法错误 (syntax error) at {where}: {reason}",
            file=None if src is None else str(src),
            problems=[(where, reason)],
        ) from None
    _raise_problems(_collect_problems(data), src)
    return _build_profile(data, src)


def find_profile(
    raw_dir: str | os.PathLike[str] | None = None, cwd: str | Path | None = None
) -> Path | None:
    """The profile file the lookup finds without ``--profile``, or ``None`` (built-in defaults).

    ``RAW_DIR/zhengshou.toml`` when ``raw_dir`` is given and the file exists, else
    ``zhengshou.toml`` in ``cwd`` (default: the current folder) when it exists.
    """
    candidates = [] if raw_dir is None else [Path(raw_dir) / PROFILE_NAME]
    candidates.append(Path.cwd() / PROFILE_NAME if cwd is None else Path(cwd) / PROFILE_NAME)
    return next((p for p in candidates if p.is_file()), None)


def load_profile(
    path: str | os.PathLike[str] | None = None,
    *,
    raw_dir: str | os.PathLike[str] | None = None,
    cwd: str | Path | None = None,
) -> Profile:
    """Find, read and validate the office's profile.

    Lookup: ``path`` when given; else ``RAW_DIR/zhengshou.toml`` when ``raw_dir`` is given and the
    file exists; else ``zhengshou.toml`` in ``cwd`` (default: the current folder); else the built-in
    defaults (:data:`DEFAULT_PROFILE`). The choice is logged (info).

    Parameters
    ----------
    path
        An explicit profile file (``--profile``); it must exist.
    raw_dir
        The ledger folder, where an office keeps its profile.
    cwd
        The folder searched last (default: the current folder).

    Returns
    -------
    Profile
        The validated profile, with :attr:`Profile.source` the file it came from.

    Raises
    ------
    ProfileError
        When ``path`` does not exist or is not readable UTF-8 text, or the profile is invalid
        (every problem, one per line).
    """
    found: Path | None
    if path is not None:
        found, how = Path(path), "given with --profile"
        if not found.is_file():
            raise ProfileError(
                f"配置文件不存在 (profile not found): {found} "
                f"(give an existing {PROFILE_NAME}, or write one with `zhengshou init`)",
                file=str(found),
            )
    else:
        found = find_profile(raw_dir, cwd)
        if found is None:
            log.info("profile: built-in defaults (no %s found)", PROFILE_NAME)
            return DEFAULT_PROFILE
        in_raw = raw_dir is not None and found == Path(raw_dir) / PROFILE_NAME
        how = "in the ledger folder" if in_raw else "in the current folder"
    try:
        text = found.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(
            f"配置文件无法读取 (cannot read the profile as UTF-8 text): {exc}", file=str(found)
        ) from exc
    profile = parse_profile(text.removeprefix("\ufeff"), source=found)
    log.info("profile: %s (%s), fingerprint %s", found, how, profile.fingerprint[:12])
    return profile


# --------------------------------------------------------------------------------------------------
# TOML writing, the template and the reference


def _format_string(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _format_value(value: object) -> str:
    """``value`` as a TOML literal (strings, integers, finite floats, booleans, arrays)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return repr(value)
    if isinstance(value, str):
        return _format_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as a TOML value")


def _comment(text: str, prefix: str = "# ") -> list[str]:
    return [
        f"{prefix}{line}"
        for line in textwrap.wrap(text, width=96, break_long_words=False, break_on_hyphens=False)
    ]


def _describe(key: ProfileKey) -> list[str]:
    default = "不设 (unset)" if key.default is None else _format_value(key.default)
    return [
        *_comment(key.zh),
        *_comment(f"({key.en})"),
        f"# 取值 (allowed): {key.allowed}; 默认 (default): {default}",
    ]


def _describe_builtin_scenarios(code: str = "") -> str:
    """The built-in scenarios in words: ``baseline; inflows_80pct (inflow_factor = 0.8); …``."""
    from .forecast.scenarios import DEFAULT_SCENARIOS

    parts = []
    for scenario in DEFAULT_SCENARIOS:
        values = _scenario_dict(scenario)
        changed = [
            f"{code}{k.name} = {_format_value(values[k.name])}{code}"
            for k in SCENARIO_KEYS[1:]
            if values[k.name] != k.default
        ]
        parts.append(
            f"{code}{scenario.name}{code}" + (f" ({', '.join(changed)})" if changed else "")
        )
    return "; ".join(parts)


def _key_lines(key: ProfileKey, value: object) -> list[str]:
    line = f"{_quote(key.name)} = {_format_value(value if value is not None else key.example)}"
    return [*_describe(key), line if value is not None else f"# {line}", ""]


def _table_lines() -> list[str]:
    lines = []
    for t in TABLES.values():
        lines += _comment(f"{t.name}（{t.label}）: {', '.join(c.name for c in t.columns)}", "#   ")
    return lines


_HEADER_EXAMPLE = {"sites": {"zone": ["所在街道"], "site_name": ["安置点"]}}
_ZONE_EXAMPLE = {"城东片区": ["城东", "东片"]}


def render_profile_template(profile: Profile | None = None) -> str:
    """A commented ``zhengshou.toml`` with every key and its value (default: the built-in ones).

    Keys unset by default (``office.name``, ``policy.default_transition_months``) and the empty
    ``[headers]``, ``[zones]`` and ``[[forecast.scenarios]]`` are shown as commented examples.
    The text parses back to ``profile`` (up to :attr:`Profile.source`).

    Parameters
    ----------
    profile
        The values to write; ``None``: :data:`DEFAULT_PROFILE`.
    """
    data = (profile or DEFAULT_PROFILE).to_dict()
    lines = [
        f"# {PROFILE_NAME} — 征收办配置文件 (office profile of zhengshou-analysis)",
        "#",
        "# 修改本文件即可校正软件，无需改代码。(Correct the package here, without editing code.)",
        "# 查找顺序 (lookup order): --profile 指定的文件 → 台账文件夹中的 zhengshou.toml →",
        "# 当前文件夹中的 zhengshou.toml → 内置默认值 (built-in defaults)。",
        "# 删除一行即恢复该项默认值 (delete a line to get its default back)；说明见 docs/profile.md。",
        "",
    ]
    for section in _TOP_LEVEL:
        zh, en = SECTIONS[section]
        lines += [*_comment(zh), *_comment(f"({en})"), f"[{section}]"]
        values = data[section]
        if section == "headers":
            lines.append("# 可用的表和列 (tables and the columns you may name):")
            lines += _table_lines()
            if not values:
                lines.append("# 例 (example):")
            for table_name, columns in (values or _HEADER_EXAMPLE).items():
                prefix = "" if values else "# "
                lines += [""] * bool(values) + [f"{prefix}[headers.{_quote(table_name)}]"]
                lines += [f"{prefix}{_quote(c)} = {_format_value(w)}" for c, w in columns.items()]
            lines.append("")
        elif section == "zones":
            if not values:
                lines.append("# 例 (example):")
            prefix = "" if values else "# "
            for zone, aliases in (values or _ZONE_EXAMPLE).items():
                lines.append(f"{prefix}{_quote(zone)} = {_format_value(aliases)}")
            lines.append("")
        else:
            lines.append("")
            for key in _SECTION_KEYS[section].values():
                lines += _key_lines(key, values.get(key.name))
    zh, en = SECTIONS["forecast.scenarios"]
    lines += [*_comment(zh), *_comment(f"({en})")]
    lines += _comment(f"内置情景 (built-in set): {_describe_builtin_scenarios()}")
    scenarios = data["forecast"].get("scenarios")
    for scenario in scenarios or [None]:
        prefix = "" if scenario else "# "
        lines += ["", f"{prefix}[[forecast.scenarios]]"]
        for key in SCENARIO_KEYS:
            value = scenario[key.name] if scenario else key.example
            shown = (
                "必填 (required)"
                if key.required
                else f"默认 (default) {_format_value(key.default)}"
            )
            lines.append(f"{prefix}{key.name} = {_format_value(value)}  # {key.zh}；{shown}")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_profile_template(
    out_dir: str | Path = ".", *, force: bool = False, profile: Profile | None = None
) -> Path:
    """Write the commented template to ``OUT_DIR/zhengshou.toml`` (``zhengshou init``).

    Parameters
    ----------
    out_dir
        Folder to write into (created when missing).
    force
        Overwrite an existing file.
    profile
        The values to write (default: the built-in ones).

    Raises
    ------
    ProfileError
        When the file exists and ``force`` is false.
    """
    out = Path(out_dir) / PROFILE_NAME
    if out.exists() and not force:
        raise ProfileError(
            "配置文件已存在 (the profile exists); not overwritten (use --force to replace it)",
            file=str(out),
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_profile_template(profile), encoding="utf-8", newline="\n")
    log.info("wrote %s", out)
    return out


def _doc_row(name: str, key: ProfileKey) -> str:
    default = "unset" if key.default is None else f"`{_format_value(key.default)}`"
    if key.required:
        default = "required"
    return f"| `{name}` | {key.allowed} | {default} | {key.zh} | {key.en} |"


def render_profile_doc() -> str:
    """The reference of the profile, ``docs/profile.md`` (from the declaration)."""
    head = "| key | type | default | 含义 | meaning |\n| --- | --- | --- | --- | --- |"
    parts = [
        "# The office profile (`zhengshou.toml`)",
        "",
        (
            "<!-- generated from src/zhengshou_analysis/profile.py by render_profile_doc(); "
            "do not edit (tests/test_profile.py keeps it current) -->"
        ),
        "",
        (
            "An office corrects the package without editing code: its name, extra header words, the "
            "aliases of its 片区, its policy rules and its forecast settings live in one TOML file. "
            "`zhengshou init [DIR]` writes a commented template with every key and its default."
        ),
        "",
        (
            "**Lookup order** (every command but `demo-data` and `init`): the file given with "
            "`--profile PATH`; else `zhengshou.toml` in the ledger folder (`RAW_DIR`, or `--data`); "
            "else `zhengshou.toml` in the current folder; else the built-in defaults. The profile is "
            "validated before any work: an unknown key, a wrong type (`true` is not an integer) or a "
            "value out of range stops the command with exit status 2 and one line per problem, each "
            "naming the file, the key path (array indices 0-based: `policy.escalation[1]` is the "
            "second tier) and what is allowed."
        ),
        "",
        (
            "The profile's **fingerprint** is the SHA-256 of its content as canonical JSON: comments "
            "and layout do not change it, any value does."
        ),
        "",
    ]
    for section in (*_TOP_LEVEL, "forecast.scenarios"):
        zh, en = SECTIONS[section]
        title = f"[[{section}]]" if section == "forecast.scenarios" else f"[{section}]"
        parts += [f"## `{title}`", "", f"{zh}。{en[0].upper()}{en[1:]}.", ""]
        if section == "headers":
            parts += [
                (
                    'One sub-table per canonical table, `column = ["header word", …]`. A word may '
                    "not name personal data, be given for two columns of one table, or be a built-in "
                    "header of another column. `origin` is set by the cleaner and cannot be mapped. "
                    "The tables and the columns you may name (see docs/data_dictionary.md):"
                ),
                "",
                "| table | columns |",
                "| --- | --- |",
                *(
                    f"| `{t.name}` ({t.label}) | {', '.join(f'`{c.name}`' for c in t.columns)} |"
                    for t in TABLES.values()
                ),
                "",
                "```toml",
                *(
                    line
                    for table_name, cols in _HEADER_EXAMPLE.items()
                    for line in (
                        f"[headers.{table_name}]",
                        *(f"{c} = {_format_value(w)}" for c, w in cols.items()),
                    )
                ),
                "```",
                "",
            ]
        elif section == "zones":
            parts += [
                (
                    "Default: none (the built-in 片区 of the data dictionary). Each key is a canonical "
                    "片区 name, its value an array of aliases; an alias (or a 片区 name) may belong "
                    "to one 片区 only."
                ),
                "",
                "```toml",
                "[zones]",
                *(f"{_quote(z)} = {_format_value(a)}" for z, a in _ZONE_EXAMPLE.items()),
                "```",
                "",
            ]
        elif section == "forecast.scenarios":
            parts += [
                (
                    "Without any `[[forecast.scenarios]]`, the built-in set is reported: "
                    f"{_describe_builtin_scenarios('`')}. Names must be unique; a key left out "
                    "takes its default."
                ),
                "",
                head,
                *(_doc_row(k.name, k) for k in SCENARIO_KEYS),
                "",
            ]
        else:
            parts += [head, *(_doc_row(k.path, k) for k in _SECTION_KEYS[section].values()), ""]
    parts += [
        "## The default profile",
        "",
        "```toml",
        render_profile_template().rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(parts)
