"""Canonical tables, declared once (docs/data_contract.md §5).

The declarations here drive three things at once:

* the cleaner: which Chinese headers map to which canonical column, the unit each column is
  stored in, which columns are required, which enumerated values are normalised and how;
* the output: column order and dtypes of the Parquet tables (an empty table keeps its schema);
* the documentation: ``docs/data_dictionary.md`` is rendered from these objects by
  :func:`render_data_dictionary` (a test keeps the committed file current).

Units: money in yuan (``_yuan``), areas in m² (``_m2``) or 亩 (``_mu``), 1 亩 = 10000/15 m² exactly,
dates at day precision, durations in months.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .exceptions import ParameterError, SchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BLOCKERS",
    "CATEGORIES",
    "IGNORED_HEADERS",
    "KIND_COMPENSATION",
    "KIND_TRANSITION",
    "NON_PERSONAL_HEADERS",
    "PII_WORDS",
    "TABLES",
    "ZONE_HEADERS",
    "ZONE_NAMES",
    "Column",
    "Table",
    "conform_table",
    "empty_table",
    "render_data_dictionary",
    "table",
    "table_from",
]

log = logging.getLogger(__name__)

Dtype = Literal["str", "float", "int", "date"]
Unit = Literal["yuan", "m2", "mu", "month", "person", "unit", "yuan_per_month"]

#: 1 亩 in square metres, exactly (1 公顷 = 15 亩).
MU_M2 = 10000 / 15


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Attributes
    ----------
    name
        ASCII snake_case name carrying its unit (``amount_yuan``).
    dtype
        ``str``, ``float``, ``int`` (nullable) or ``date`` (day precision, NaT for missing).
    label
        Chinese label used in reports and the data dictionary.
    headers
        Chinese headers accepted in a raw ledger (after NFKC and removal of spaces); the unit in
        brackets (``补偿总额（万元）``) sets the scale and is not part of the header.
    required
        A row without a usable value here is rejected; a sheet without the column is an error.
    unit
        Canonical unit of a numeric column (``yuan``, ``m2``, ``mu``, ``month``, …).
    values
        Normalisation of enumerated values: accepted spelling → canonical value.
    closed
        With ``values``: a value outside the list rejects the row (else it is kept as written).
    category
        A grouping column whose vertically merged cells are forward-filled.
    description
        What the column means, for the data dictionary.
    """

    name: str
    dtype: Dtype
    label: str
    headers: tuple[str, ...] = ()
    required: bool = False
    unit: Unit | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    closed: bool = False
    category: bool = False
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, key and the sheet-name hints that break ties."""

    name: str
    label: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    name_hints: tuple[str, ...] = ()
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        """Canonical column names in output order (``origin`` last)."""
        return [c.name for c in self.columns] + ["origin"]

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


ZONES = {
    "贵城片区": "贵城片区",
    "贵城": "贵城片区",
    "港城片区": "港城片区",
    "港城": "港城片区",
    "城区外围片区": "城区外围片区",
    "城区外围": "城区外围片区",
    "外围片区": "城区外围片区",
    "外围": "城区外围片区",
}

#: Headers of a 片区 column, accepted alike in every ledger that has one (projects, sites).
ZONE_HEADERS: tuple[str, ...] = ("片区", "所属片区", "指挥部")

_ZONE_DESC = "片区: 贵城片区, 港城片区, 城区外围片区 (贵城/港城/城区外围/外围 accepted); other values kept as written"

PROJECTS = Table(
    name="projects",
    label="征收项目台账",
    key=("project_id", "year"),
    name_hints=("项目", "任务"),
    description="One row per project and task year: targets, progress and the blocker of the last mile.",
    columns=(
        Column(
            "project_id",
            "str",
            "项目编号",
            ("项目编号", "项目代码"),
            description="Project number; derived from the normalised name when the ledger has none (P- + 8 hex).",
        ),
        Column("project_name", "str", "项目名称", ("项目名称", "项目"), required=True),
        Column(
            "zone",
            "str",
            "片区",
            ZONE_HEADERS,
            values=ZONES,
            category=True,
            description=_ZONE_DESC,
        ),
        Column(
            "category",
            "str",
            "类别",
            ("项目类别", "类别", "任务来源"),
            category=True,
            values={
                "市下达": "市下达",
                "市级下达": "市下达",
                "市本级": "市下达",
                "区统筹": "区统筹",
                "统筹推进": "区统筹",
                "统筹": "区统筹",
            },
            description="市下达 (city-assigned) or 区统筹 (district-coordinated); other values kept",
        ),
        Column(
            "sector",
            "str",
            "项目类型",
            ("项目类型", "领域", "行业"),
            category=True,
            description="交通, 文旅, 产业园区, 民生, 商住 …, kept as written",
        ),
        Column(
            "year",
            "int",
            "年度",
            ("年度", "任务年度", "年份"),
            required=True,
            description="Task year; the year of the sheet's title row when the column is absent.",
        ),
        Column(
            "land_target_mu",
            "float",
            "征地任务（亩）",
            ("征地任务", "土地征收任务", "征地目标任务"),
            unit="mu",
            description="Land expropriation target (公顷 ×15).",
        ),
        Column(
            "land_done_mu",
            "float",
            "已完成征地（亩）",
            ("已完成征地", "累计完成征地", "完成征地"),
            unit="mu",
        ),
        Column(
            "house_target_m2",
            "float",
            "房屋征收任务（平方米）",
            ("房屋征收任务", "征收房屋任务"),
            unit="m2",
            description="House expropriation target (万平方米 ×10000).",
        ),
        Column(
            "house_done_m2",
            "float",
            "已完成房屋征收（平方米）",
            ("已完成房屋征收", "累计完成房屋征收", "完成房屋征收"),
            unit="m2",
        ),
        Column(
            "blocker",
            "str",
            "卡点类型",
            ("卡点类型", "主要问题", "存在问题类型"),
            values={
                "公建单位": "公建单位",
                "公建": "公建单位",
                "军事用地": "军事用地",
                "军事": "军事用地",
                "军队": "军事用地",
                "双高糖料蔗基地": "双高糖料蔗基地",
                "双高基地": "双高糖料蔗基地",
                "糖料蔗": "双高糖料蔗基地",
                "留用地": "留用地",
                "资金": "资金",
            },
            description="公建单位, 军事用地, 双高糖料蔗基地, 留用地, 资金, else as written; NA when none",
        ),
        Column(
            "blocked_mu",
            "float",
            "卡点面积（亩）",
            ("卡点面积", "未完成面积", "剩余面积"),
            unit="mu",
        ),
        Column("note", "str", "备注", ("备注",)),
    ),
)

AGREEMENTS = Table(
    name="agreements",
    label="征收补偿协议台账",
    key=("agreement_id",),
    name_hints=("协议",),
    description="One row per signed compensation agreement (a household is known by its agreement number).",
    columns=(
        Column("agreement_id", "str", "协议编号", ("协议编号", "协议号"), required=True),
        Column(
            "project_id",
            "str",
            "项目编号",
            ("项目编号", "项目名称"),
            description="项目编号, or 项目名称 matched to projects; an unmatched name is a warning and keeps a derived id.",
        ),
        Column(
            "signed_date",
            "date",
            "签约日期",
            ("签约日期", "签订日期", "协议签订日期"),
            required=True,
        ),
        Column(
            "mode",
            "str",
            "补偿方式",
            ("补偿方式", "安置方式"),
            values={
                "货币补偿": "货币补偿",
                "货币": "货币补偿",
                "现金": "货币补偿",
                "产权调换": "产权调换",
                "房屋安置": "产权调换",
                "实物安置": "产权调换",
            },
            description="货币补偿 (cash) or 产权调换 (swap for a resettlement flat)",
        ),
        Column(
            "house_area_m2",
            "float",
            "被征收房屋面积（平方米）",
            ("被征收房屋面积", "房屋面积", "建筑面积"),
            unit="m2",
        ),
        Column(
            "compensation_yuan",
            "float",
            "补偿总额（元）",
            ("补偿总额", "协议金额", "补偿金额", "补偿款总额"),
            required=True,
            unit="yuan",
        ),
        Column(
            "payment_due_date",
            "date",
            "支付期限",
            ("支付期限", "付款期限", "约定付款日期"),
            description="NA when the ledger states none; the figures then apply the policy's `payment_term_days`",
        ),
        Column(
            "site_id",
            "str",
            "安置区",
            ("安置区", "安置小区"),
            description="Resettlement site, matched to sites by normalised name",
        ),
    ),
)

PAYMENTS = Table(
    name="payments",
    label="资金支付台账",
    key=("payment_id",),
    name_hints=("支付", "拨付", "付款"),
    description="One row per disbursement.",
    columns=(
        Column(
            "payment_id",
            "str",
            "支付编号",
            ("支付编号", "凭证号"),
            description="Voucher number; derived from origin when the ledger has none (PAY- + 10 hex).",
        ),
        Column("date", "date", "支付日期", ("支付日期", "拨付日期", "付款日期"), required=True),
        Column(
            "agreement_id",
            "str",
            "协议编号",
            ("协议编号",),
            description="NA for payments not tied to an agreement",
        ),
        Column("project_id", "str", "项目编号", ("项目编号", "项目名称")),
        Column(
            "kind",
            "str",
            "款项类型",
            ("款项类型", "支付类型", "用途"),
            required=True,
            values={
                "补偿款": "补偿款",
                "补偿": "补偿款",
                "征收补偿款": "补偿款",
                "过渡安置费": "过渡安置费",
                "过渡费": "过渡安置费",
                "临时安置费": "过渡安置费",
                "工作经费": "工作经费",
            },
            description="补偿款, 过渡安置费 (过渡费, 临时安置费), 工作经费, else as written",
        ),
        Column(
            "amount_yuan",
            "float",
            "支付金额（元）",
            ("支付金额", "金额", "拨付金额"),
            required=True,
            unit="yuan",
            description="Must be > 0.",
        ),
    ),
)

FUNDING = Table(
    name="funding",
    label="征拆资金到位台账",
    key=(),
    name_hints=("资金", "到位", "到账"),
    description="One row per inflow of expropriation funds.",
    columns=(
        Column(
            "date", "date", "到账日期", ("到账日期", "到位日期", "拨付日期", "日期"), required=True
        ),
        Column(
            "funding_source",
            "str",
            "资金来源",
            ("资金来源", "来源"),
            category=True,
            description="市财政, 区财政, 专项债券, 上级补助资金, 土地出让收入 …, kept as written",
        ),
        Column(
            "amount_yuan",
            "float",
            "到位金额（元）",
            ("到位金额", "到账金额", "金额"),
            required=True,
            unit="yuan",
            description="Must be > 0.",
        ),
        Column(
            "project_id",
            "str",
            "项目编号",
            ("项目编号", "项目名称"),
            description="NA for pooled funds",
        ),
    ),
)

SITES = Table(
    name="sites",
    label="安置区台账",
    key=("site_id",),
    name_hints=("安置区", "安置房"),
    description="One row per resettlement site; a site not delivered is right-censored in delay analysis.",
    columns=(
        Column(
            "site_id",
            "str",
            "安置区编号",
            ("安置区编号",),
            description="Derived from the normalised name when the ledger has none (S- + 8 hex).",
        ),
        Column(
            "site_name", "str", "安置区名称", ("安置区名称", "安置区", "安置小区"), required=True
        ),
        Column(
            "zone", "str", "片区", ZONE_HEADERS, values=ZONES, category=True, description=_ZONE_DESC
        ),
        Column("start_date", "date", "开工日期", ("开工日期", "开工时间"), required=True),
        Column(
            "promised_date",
            "date",
            "约定交房日期",
            ("约定交房日期", "计划交房日期", "承诺交付日期"),
            required=True,
        ),
        Column(
            "delivered_date",
            "date",
            "实际交房日期",
            ("实际交房日期", "交付日期"),
            description="NA (also 未交付, 在建) means not delivered",
        ),
        Column("units", "int", "套数", ("套数", "总套数", "安置房套数"), unit="unit"),
    ),
)

TRANSITION = Table(
    name="transition",
    label="过渡安置台账",
    key=("agreement_id",),
    name_hints=("过渡",),
    description="One row per household in transition (过渡安置), known by its agreement number.",
    columns=(
        Column("agreement_id", "str", "协议编号", ("协议编号",), required=True),
        Column(
            "site_id",
            "str",
            "安置区",
            ("安置区",),
            description="Matched to sites by normalised name",
        ),
        Column(
            "start_date",
            "date",
            "过渡开始日期",
            ("过渡开始日期", "腾房日期", "交房腾空日期"),
            required=True,
        ),
        Column(
            "end_date",
            "date",
            "过渡结束日期",
            ("过渡结束日期", "回迁日期"),
            description="NA while still in transition",
        ),
        Column(
            "fee_basis",
            "str",
            "计费方式",
            ("计费方式", "过渡费标准类型"),
            required=True,
            closed=True,
            values={
                "per_m2": "per_m2",
                "按面积": "per_m2",
                "元/平方米/月": "per_m2",
                "元/㎡/月": "per_m2",
                "元/m2/月": "per_m2",
                "per_household": "per_household",
                "按户": "per_household",
                "元/户/月": "per_household",
                "per_person": "per_person",
                "按人": "per_person",
                "元/人/月": "per_person",
            },
            description="per_m2 (按面积, 元/平方米/月), per_household (按户), per_person (按人); "
            "a unit in the rate's header (过渡费标准（元/平方米/月）) sets it for every row",
        ),
        Column(
            "fee_rate_yuan",
            "float",
            "过渡费标准（元/月/计费单位）",
            ("过渡费标准", "过渡安置费标准"),
            required=True,
            unit="yuan_per_month",
            description="Yuan per month per basis unit.",
        ),
        Column(
            "area_m2",
            "float",
            "计费面积（平方米）",
            ("计费面积", "过渡面积"),
            unit="m2",
            description="Required when fee_basis is per_m2",
        ),
        Column(
            "persons",
            "int",
            "过渡人数",
            ("过渡人数", "人数"),
            unit="person",
            description="Required when fee_basis is per_person",
        ),
        Column(
            "agreed_months",
            "int",
            "约定过渡期限（月）",
            ("约定过渡期限", "过渡期限"),
            unit="month",
            description="NA when the ledger states none; the figures then take months_between(start_date, promised_date of its site), else the policy's `default_transition_months`",
        ),
    ),
)

#: The six canonical tables, in the order they are written and documented.
TABLES: dict[str, Table] = {
    t.name: t for t in (PROJECTS, AGREEMENTS, PAYMENTS, FUNDING, SITES, TRANSITION)
}

#: A header containing any of these words names a personal-data column (names, ID numbers, phones,
#: bank accounts, addresses): such columns are never read into any output (docs/data_contract.md §6).
# --------------------------------------------------------------------------------------------------
# vocabularies: canonical values, in the order reports list them (derived from the tables above)


def _canonical_values(table_: Table, column: str) -> tuple[str, ...]:
    values = table_.column(column).values or {}
    return tuple(dict.fromkeys(values.values()))


#: The 片区 of the district (canonical names), from the ``zone`` column's value map.
ZONE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(ZONES.values()))
#: Project categories (市下达, 区统筹), from ``projects.category``.
CATEGORIES: tuple[str, ...] = _canonical_values(PROJECTS, "category")
#: The land blockers of the "last mile", in the order the work summary names them (资金, also a
#: ``blocker`` value, is a money problem and not a land type).
BLOCKERS: tuple[str, ...] = tuple(b for b in _canonical_values(PROJECTS, "blocker") if b != "资金")
#: Payment kinds the definitions use (docs/indicators.md), from ``payments.kind``.
KIND_COMPENSATION = "补偿款"
KIND_TRANSITION = "过渡安置费"

#: Headers a ledger often has that the package knows and deliberately does not read: a row's
#: running number, ratios it recomputes (完成率), free-text progress and remarks where the table
#: has no column for them (备注 is read only into ``projects.note``). Unmapped, but listed as
#: ignored rather than warned about (compared after NFKC, spaces and the unit in brackets
#: removed, like every header). A header mapped in a table is never ignored there.
IGNORED_HEADERS: tuple[str, ...] = (
    "序号",
    "行号",
    "完成率",
    "完成比例",
    "形象进度",
    "备注",
    "说明",
)
#: Of those, the headers whose cells hold nothing personal (numbers): ``rejected.csv`` quotes them
#: (every other unmapped column is withheld there, docs/data_contract.md §6).
NON_PERSONAL_HEADERS: tuple[str, ...] = ("序号", "行号", "完成率", "完成比例")

PII_WORDS: tuple[str, ...] = (
    "被征收人",
    "户主",
    "姓名",
    "身份证",
    "证件号",
    "联系电话",
    "电话",
    "手机",
    "联系方式",
    "收款人",
    "领款人",
    "户名",
    "银行账号",
    "银行卡号",
    "家庭住址",
    "住址",
    "产权人",
    "所有权人",
    "权利人",
    "代理人",
    "委托人",
    "受托人",
    "承租人",
    "联系人",
    "经办人",
    "签字",
    "签名",
    "微信",
    "邮箱",
)


def table(name: str) -> Table:
    """Return the declaration of the canonical table ``name``.

    Raises
    ------
    KeyError
        With the valid names, when ``name`` is not one of them.
    """
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; the tables are {', '.join(TABLES)}") from None


_PANDAS_DTYPES = {"str": "str", "float": "float64", "int": "Int64", "date": "datetime64[s]"}


def pandas_dtype(column: Column) -> str:
    """The pandas dtype a canonical column is stored with."""
    return _PANDAS_DTYPES[column.dtype]


def empty_table(name: str) -> pd.DataFrame:
    """An empty DataFrame with the full schema of table ``name`` (for a table with no source sheet)."""
    import pandas as pd

    t = table(name)
    data = {c.name: pd.Series([], dtype=pandas_dtype(c)) for c in t.columns}
    data["origin"] = pd.Series([], dtype="str")
    return pd.DataFrame(data)


# --------------------------------------------------------------------------------------------------
# conforming frames to the declarations


def _first_bad(values: pd.Series, convert) -> tuple[object, object]:
    """The label and value of the first cell ``convert`` cannot read (for error messages)."""
    import pandas as pd

    for label, v in values.items():
        try:
            convert(pd.Series([v], dtype=object))
        except (TypeError, ValueError, OverflowError):
            return label, v
    return None, None


def _converted(df: pd.DataFrame, name: str, column: str, kind: str) -> pd.Series:
    """``df[column]`` as dates or numbers; a cell that is neither is a :class:`SchemaError`."""
    import pandas as pd

    convert = pd.to_datetime if kind == "date" else pd.to_numeric
    try:
        return convert(df[column])
    except (TypeError, ValueError, OverflowError) as exc:  # DateParseError is a ValueError
        label, value = _first_bad(df[column], convert)
        where = ""
        if label is not None and "origin" in df.columns and pd.notna(df.at[label, "origin"]):
            where = f" (origin {df.at[label, 'origin']})"
        what = "a date" if kind == "date" else "a number"
        text = str(exc).strip()
        reason = text.splitlines()[0].split(". You might")[0] if text else type(exc).__name__
        if label is None:  # each cell reads alone: formats mixed within the column
            msg = f"table {name!r}: the column cannot be read as {what} column ({reason})"
        else:
            msg = f"table {name!r}: {value!r}{where} is not {what} ({reason})"
        raise SchemaError(msg, column=column) from exc


#: ``DataFrame.attrs`` key marking a frame :func:`conform_table` produced (value: the table name).
CONFORMED_ATTR = "zhengshou_table"


def _is_conformed(df: pd.DataFrame, name: str) -> bool:
    """Whether ``df`` came from :func:`conform_table` for ``name`` and still has its dtypes.

    Cheap (per column, not per row): a marked frame whose dates are still dates and whose numbers
    are still numbers needs no second check.
    """
    import pandas as pd

    if df.attrs.get(CONFORMED_ATTR) != name or "origin" not in df.columns:
        return False
    for c in table(name).columns:
        if c.name not in df.columns:
            return False
        dtype = df[c.name].dtype
        if c.dtype == "date" and not pd.api.types.is_datetime64_any_dtype(dtype):
            return False
        if c.dtype in ("float", "int") and not pd.api.types.is_numeric_dtype(dtype):
            return False
    return True


def conform_table(df: pd.DataFrame | None, name: str) -> pd.DataFrame:
    """A canonical table with every schema column present and typed (a new frame; ``df`` untouched).

    A missing table is empty with its full schema; a missing optional column is all-NA; a missing
    required column, or a date / number column holding a value that is not one, is a
    :class:`SchemaError` naming the table and the column. The result is marked (``attrs``) so
    that passing it on costs no second check: the analysis context conforms each table once
    (:class:`~zhengshou_analysis.figures.context.Analysis`) and every function it calls finds
    its input already conformed.
    """
    import pandas as pd

    if df is None:
        out = empty_table(name)
        out.attrs[CONFORMED_ATTR] = name
        return out
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"table {name!r} must be a pandas DataFrame, got {type(df).__name__}")
    if _is_conformed(df, name):
        return df
    return _conform_frame(df, name)


def _conform_frame(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """The checks and conversions of :func:`conform_table` (a new, marked frame)."""
    import pandas as pd

    t = table(name)
    missing = [c for c in t.required if c not in df.columns]
    if missing:
        raise SchemaError(f"table {name!r} lacks required column(s) {', '.join(missing)}")
    new: dict[str, pd.Series] = {}
    for c in t.columns:
        if c.name not in df.columns:
            new[c.name] = pd.Series(None, index=df.index, dtype=pandas_dtype(c))
        elif c.dtype == "date" and not pd.api.types.is_datetime64_any_dtype(df[c.name].dtype):
            new[c.name] = _converted(df, name, c.name, "date")
        elif c.dtype in ("float", "int") and not pd.api.types.is_numeric_dtype(df[c.name].dtype):
            new[c.name] = _converted(df, name, c.name, "number")
    if "origin" not in df.columns:
        new["origin"] = pd.Series(None, index=df.index, dtype="str")
    out = df.assign(**new) if new else df.copy(deep=False)
    out.attrs[CONFORMED_ATTR] = name
    return out


def table_from(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """Table ``name`` of ``tables``, conformed (:func:`conform_table`); absent means empty."""
    df = tables.get(name)
    if df is None:
        log.info("no %s table given: treated as empty", name)
    return conform_table(df, name)


def render_data_dictionary() -> str:
    """Render the data dictionary (Markdown) from the declarations above."""
    lines = [
        "# Data dictionary (数据字典)",
        "",
        (
            "Generated from `src/zhengshou_analysis/schemas.py` by `zhengshou data-dictionary`; "
            "do not edit by hand (a test keeps it current)."
        ),
        "",
        (
            "Units: money in yuan (`_yuan`, rounded to 0.01), areas in m² (`_m2`) or 亩 (`_mu`) with "
            "1 亩 = 10000/15 m² exactly, dates at day precision (NaT when missing). Every table also "
            "carries `origin` = `FILE#SHEET!ROW`, the Excel row (1-based) or CSV line the row came from. "
            "**R** marks a required column."
        ),
        "",
        "Personal-data columns, whose header contains any of "
        + "、".join(PII_WORDS)
        + ", are never read into any output (tables, logs, rejected rows, reports).",
        "",
        "Headers known but deliberately not read where no column takes them: "
        + "、".join(IGNORED_HEADERS)
        + " (listed as ignored; any other header that maps to no column is an `unmapped_header` "
        "warning naming the `[headers.<table>]` line of the office profile that would map it).",
        "",
    ]
    for t in TABLES.values():
        key = ", ".join(f"`{k}`" for k in t.key) or "none (one row per event)"
        lines += [
            f"## `{t.name}` — {t.label}",
            "",
            t.description,
            "",
            f"Key: {key}. Sheet/file names that break classification ties: {', '.join(t.name_hints)}.",
            "",
            "| column | type | unit | 中文 | headers accepted | notes |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for c in t.columns:
            name = f"`{c.name}`" + (" **R**" if c.required else "")
            headers = ", ".join(c.headers)
            lines.append(
                f"| {name} | {c.dtype} | {c.unit or ''} | {c.label} | {headers} | {c.description} |"
            )
        lines.append("")
    return "\n".join(lines)
