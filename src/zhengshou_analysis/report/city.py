"""The city view (市级汇总): every district's key figures side by side, city totals, rankings, trends.

Read from the districts' reports folders only (each period's ``key_figures.json``, the office
name in ``provenance.json``), so it can be written again from the files at any time. Layout of
the city's reports folder::

    index.html                       start here: the districts (links to their own index) and the
                                     city view of each period, the city totals across the years
    <district>/                      a district's reports folder (report/districts.py)
    city/<period>/index.html         the city view of a period (offline page)
    city/<period>/市级汇总_<period>.xlsx   its tables in Excel (numbers as numbers, never formulas)

How the city figures are made (declared in :mod:`~zhengshou_analysis.figures.registry`):

* an additive figure (:attr:`Figure.additive <zhengshou_analysis.figures.registry.Figure.additive>`:
  amounts in yuan, 亩, m² and counts of the ledgers) is the sum over the districts that report it;
* a ratio with :attr:`~zhengshou_analysis.figures.registry.Figure.ratio_of` is the sum of its
  numerators over the sum of its denominators, over the districts that report both — never an
  average of the districts' ratios (a small district would weigh as much as a large one);
* any other figure (a median build time, the forecasts) has no city value (``—``): it cannot be
  made from the districts' figures.

A district without figures for a period (it failed, or the period has no rows in its ledgers) is
shown as 缺报 — missing, never 0 — and the totals say how many districts they cover.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from .._version import __version__
from ..figures.registry import FIGURES, Figure, figure
from ..formatting import fmt_count, fmt_months, fmt_mu, fmt_pct, fmt_wan_m2, fmt_wan_yuan
from ..periods import Period
from .catalog import notebooks_of
from .files import (
    CITY_FOLDER,
    CITY_MARKER,
    atomic_write_bytes,
    atomic_write_text,
    read_json_dict,
    safe_file_part,
)
from .pages import footer_html, html_page

__all__ = [
    "CITY_FIGURES",
    "RANKINGS",
    "CityDistrict",
    "CityResult",
    "Ranking",
    "city_page_html",
    "city_totals",
    "city_workbook_bytes",
    "city_workbook_name",
    "in_city",
    "mark_city",
    "rank_districts",
    "write_city",
]

log = logging.getLogger(__name__)

#: The word for a district without figures for the period (missing, never 0).
MISSING = "缺报"

_SECTION_TITLES = {
    "progress": "征收完成情况（报告年度）",
    "funding": "征拆资金（累计至报告期末）",
    "fees": "过渡安置费",
    "sites": "安置房交付",
}


def _shown_figures() -> tuple[Figure, ...]:
    """The figures of the city view: the headline figures outside the forecasts, every ratio
    with its parts, and those parts (so that a reader can check a ratio), in registry order."""
    parts = {p for f in FIGURES if f.ratio_of for p in f.ratio_of}
    return tuple(
        f
        for f in FIGURES
        if f.section in _SECTION_TITLES
        and f.group is None
        and (f.headline or f.ratio_of is not None or f.name in parts)
    )


#: The figures shown side by side, in registry order.
CITY_FIGURES: tuple[Figure, ...] = _shown_figures()


@dataclass(frozen=True)
class Ranking:
    """A ranking of the districts by one figure: ``worst_first`` says which end needs attention."""

    figure: str
    worst_first: str  # "high" (the most arrears first) or "low" (the lowest 资金到位率 first)
    title: str  # what the ranking is about, with the figure's unit
    why: str


#: The rankings of the city view: where an order means something to the city.
RANKINGS: tuple[Ranking, ...] = (
    Ranking("overdue_unpaid_yuan", "high", "逾期未付补偿款（万元）", "逾期未付越多，群众等待越久"),
    Ranking(
        "transition_fee_arrears_yuan",
        "high",
        "过渡安置费拖欠（万元）",
        "拖欠越多，在外过渡户的意见越大",
    ),
    Ranking("funds_in_place_ratio", "low", "资金到位率", "到位率越低，已签协议越难兑现"),
    Ranking(
        "sites_over_3_years",
        "high",
        "超过3年未交付的安置区（个）",
        "超期越多，过渡费负担越重",
    ),
)


@dataclass(frozen=True)
class CityDistrict:
    """One district as the city view sees it.

    Attributes
    ----------
    name
        Its folder name in the city's reports folder.
    folder
        Its reports folder.
    office
        Its office name (from its profile, as its batch recorded it); the folder name when
        unknown.
    error
        Why the district produced nothing, in words (``""``: it ran).
    demo
        Whether its ledgers are the synthetic demo (示例数据（模拟）).
    """

    name: str
    folder: Path
    office: str
    error: str = ""
    demo: bool = False

    @classmethod
    def of(cls, name: str, folder: Path, error: str = "", *, demo: bool = False) -> CityDistrict:
        """The district of reports folder ``folder``, its office name read from its
        ``provenance.json`` (the folder name when there is none)."""
        office = str(read_json_dict(folder / "provenance.json").get("office") or "") or name
        return cls(name, folder, office, error, demo)

    def figures(self, period: Period) -> dict[str, Any] | None:
        """Its ``key_figures.json`` of ``period``; ``None`` when missing or unreadable."""
        found = read_json_dict(self.folder / period.folder / "key_figures.json")
        return found or None

    def page(self, period: Period) -> str | None:
        """The first report page of ``period`` present in its folder (``00_overview.html``)."""
        for name in notebooks_of(period):
            if (self.folder / period.folder / f"{name}.html").is_file():
                return f"{name}.html"
        return None


@dataclass
class CityResult:
    """What :func:`write_city` wrote."""

    index: Path
    pages: list[Path] = field(default_factory=list)
    workbooks: list[Path] = field(default_factory=list)


def _number(value: Any) -> float | None:
    """A figure's value as a number; ``None`` for a missing one (null, NaN, text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def city_totals(figures: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Any]:
    """The city's figures from the districts' key figures of one period.

    Parameters
    ----------
    figures
        Per district, its ``key_figures.json`` content; ``None`` for a district without
        figures (it is left out, never counted as 0). Not modified.

    Returns
    -------
    dict
        Every figure of :data:`~zhengshou_analysis.figures.registry.FIGURES` that has a city
        value: additive ones summed over the districts that report them (``None`` when none
        does; counts stay ``int``), ratios with ``ratio_of`` as sum(numerator) ÷
        sum(denominator) over the districts reporting both (``None`` when that sum of
        denominators is 0). Plus ``districts_reported`` (how many districts have figures) and
        ``districts_total``.

    Examples
    --------
    >>> a = {"land_done_mu": 90.0, "land_target_mu": 100.0, "land_completion_rate": 0.9}
    >>> b = {"land_done_mu": 1.0, "land_target_mu": 10.0, "land_completion_rate": 0.1}
    >>> round(city_totals({"a": a, "b": b})["land_completion_rate"], 4)  # not (0.9 + 0.1) / 2
    0.8273
    """
    present = [f for f in figures.values() if f]
    out: dict[str, Any] = {
        "districts_reported": len(present),
        "districts_total": len(figures),
    }
    for f in FIGURES:
        if f.additive:
            values = [v for v in (_number(d.get(f.name)) for d in present) if v is not None]
            if not values:
                out[f.name] = None
            elif f.unit == "count":
                out[f.name] = round(math.fsum(values))
            else:
                out[f.name] = math.fsum(values)
    for f in FIGURES:
        if f.ratio_of is not None:
            num, den = f.ratio_of
            pairs = [
                (n, d)
                for n, d in ((_number(x.get(num)), _number(x.get(den))) for x in present)
                if n is not None and d is not None
            ]
            total_den = math.fsum(d for _, d in pairs)
            out[f.name] = math.fsum(n for n, _ in pairs) / total_den if total_den else None
    return out


def rank_districts(values: Mapping[str, Any], *, worst_first: str) -> list[tuple[int, str, float]]:
    """The districts ordered by a figure, worst first, with competition ranks (1, 1, 3).

    Parameters
    ----------
    values
        Per district, its value; a missing one (``None``, NaN) is not ranked.
    worst_first
        ``"high"``: the highest value ranks 1; ``"low"``: the lowest.

    Returns
    -------
    list of (rank, district, value)
        Ties share a rank and keep the order of ``values``.
    """
    if worst_first not in ("high", "low"):
        raise ValueError(f"worst_first must be 'high' or 'low', got {worst_first!r}")
    sign = -1.0 if worst_first == "high" else 1.0
    known = [(k, v) for k, v in ((k, _number(v)) for k, v in values.items()) if v is not None]
    ordered = sorted(known, key=lambda kv: sign * kv[1])
    out: list[tuple[int, str, float]] = []
    for i, (k, v) in enumerate(ordered):
        rank = out[-1][0] if out and out[-1][2] == v else i + 1
        out.append((rank, k, v))
    return out


# --- formatting ---------------------------------------------------------------------------------


def _fmt(f: Figure, value: Any) -> str:
    """A figure as the city page writes it: 万元, 亩 and 万平方米 without the unit (it is in the
    header), %, months, counts; ``—`` when missing."""
    v = _number(value)
    if f.unit == "yuan":
        return fmt_wan_yuan(v, unit=False)
    if f.unit == "mu":
        return fmt_mu(v, unit=False)
    if f.unit == "m2":
        return fmt_wan_m2(v, unit=False)
    if f.unit == "ratio":
        return fmt_pct(v)
    if f.unit == "month":
        return fmt_months(v, unit=False)
    return fmt_count(v)


def _cell_kind(f: Figure) -> str:
    """The workbook cell kind of a figure (:data:`~.spreadsheet.CELL_KINDS`)."""
    return {
        "yuan": "wan_yuan",
        "mu": "mu",
        "m2": "wan_m2",
        "ratio": "pct",
        "month": "months",
        "count": "count",
    }.get(f.unit, "text")


def _city_value_note(f: Figure) -> str:
    """How the city figure of ``f`` is made, in words."""
    if f.additive:
        return "各区之和"
    if f.ratio_of is not None:
        num, den = (figure(n).label for n in f.ratio_of)
        return f"全市{num}之和 ÷ 全市{den}之和（不是各区比率的平均）"
    return "不能由各区数字汇总，全市不计"


# --- the page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PeriodData:
    """The figures of one period: per district (``None``: missing) and the city's."""

    period: Period
    figures: dict[str, dict[str, Any] | None]
    totals: dict[str, Any]


def _period_data(districts: Sequence[CityDistrict], period: Period) -> _PeriodData:
    figures = {d.name: (None if d.error else d.figures(period)) for d in districts}
    return _PeriodData(period, figures, city_totals(figures))


def _district_link(d: CityDistrict, period: Period) -> str:
    """The district's name on the city page of ``period``: a link to its page of the period
    (else its index), relative."""
    page = d.page(period)
    base = f"../../{quote(d.name)}/"
    href = f"{base}{period.folder}/{page}" if page else f"{base}index.html"
    if d.error or (page is None and not (d.folder / "index.html").is_file()):
        return html.escape(d.office)
    return f'<a href="{html.escape(href)}">{html.escape(d.office)}</a>'


def _totals_label(totals: Mapping[str, Any]) -> str:
    n, of = totals["districts_reported"], totals["districts_total"]
    return "全市合计" if n == of else f"全市合计（{of}个区中已报{n}个区）"


def _section_table(districts: Sequence[CityDistrict], data: _PeriodData, section: str) -> str:
    """One section's figures: a row per district, the city's row last."""
    shown = [f for f in CITY_FIGURES if f.section == section]
    if not shown:
        return ""
    heads = "".join(f"<th>{html.escape(f.label_with_unit)}</th>" for f in shown)
    rows = []
    for d in districts:
        figs = data.figures[d.name]
        if figs is None:
            cells = "".join(f'<td class="num zs-missing">{MISSING}</td>' for _ in shown)
        else:
            cells = "".join(
                f"<td class=num>{html.escape(_fmt(f, figs.get(f.name)))}</td>" for f in shown
            )
        rows.append(f"<tr><th>{_district_link(d, data.period)}</th>{cells}</tr>")
    total_cells = "".join(
        f"<td class=num><strong>{html.escape(_fmt(f, data.totals.get(f.name)))}</strong></td>"
        for f in shown
    )
    rows.append(f"<tr><th>{html.escape(_totals_label(data.totals))}</th>{total_cells}</tr>")
    return (
        f"<h3>{html.escape(_SECTION_TITLES[section])}</h3>"
        f"<table><thead><tr><th>区</th>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _ranking_table(districts: Sequence[CityDistrict], data: _PeriodData, r: Ranking) -> str:
    """One ranking: worst first, with each district's share of the city total when additive."""
    f = figure(r.figure)
    offices = {d.name: d.office for d in districts}
    values = {k: (v or {}).get(f.name) if v else None for k, v in data.figures.items()}
    ranked = rank_districts(values, worst_first=r.worst_first)
    total = _number(data.totals.get(f.name))
    share_head = "<th>占全市</th>" if f.additive else ""
    rows = []
    for rank, name, value in ranked:
        share = ""
        if f.additive:
            share = f"<td class=num>{fmt_pct(value / total if total else None)}</td>"
        rows.append(
            f"<tr><td class=num>{rank}</td><th>{html.escape(offices[name])}</th>"
            f"<td class=num>{html.escape(_fmt(f, value))}</td>{share}</tr>"
        )
    missing = [offices[k] for k in values if _number(values[k]) is None]
    note = f"<p class=zs-note>{MISSING}：{html.escape('、'.join(missing))}</p>" if missing else ""
    order = "从高到低" if r.worst_first == "high" else "从低到高"
    return (
        f'<div class="zs-ranking"><h3>{html.escape(r.title)}（{order}）</h3>'
        f"<p class=zs-note>{html.escape(r.why)}；第1名最需关注。</p>"
        f"<table><thead><tr><th>名次</th><th>区</th><th>{html.escape(f.label_with_unit)}</th>"
        f"{share_head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{note}</div>"
    )


#: The figures of the trend tables: those the registry shows in the index, with a city value.
def _trend_figures() -> list[Figure]:
    return [f for f in FIGURES if f.index and (f.additive or f.ratio_of)]


def _trend_table(trend: Sequence[_PeriodData], current: Period | None = None) -> str:
    """The city's figures across the periods (the current one in bold)."""
    shown = _trend_figures()
    heads = "".join(f"<th>{html.escape(f.label_with_unit)}</th>" for f in shown)
    rows = []
    for data in trend:
        label = html.escape(data.period.label_zh)
        if (
            data.period.kind != "year"
            or data.totals["districts_reported"] < data.totals["districts_total"]
        ):
            label += f"<br><small>{html.escape(_totals_label(data.totals))}</small>"
        cells = "".join(
            f"<td class=num>{html.escape(_fmt(f, data.totals.get(f.name)))}</td>" for f in shown
        )
        mark = ' style="font-weight:bold"' if data.period == current else ""
        rows.append(f"<tr{mark}><th>{label}</th>{cells}</tr>")
    return (
        f"<table><thead><tr><th>报告期</th>{heads}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _trend_png(trend: Sequence[_PeriodData]) -> str:
    """The city's money figures across the years (base64 PNG); ``""`` with fewer than two."""
    years = [d for d in trend if d.period.kind == "year"]
    if len(years) < 2:
        return ""
    import matplotlib

    matplotlib.use("Agg", force=False)

    from .plots import figure_png_base64, plot_trend_panels

    series = {f.name: f.label for f in _trend_figures() if f.unit == "yuan"}
    frame = pd.DataFrame(
        [{"period": d.period.label_zh, **{k: d.totals.get(k) for k in series}} for d in years]
    )
    fig, _ = plot_trend_panels(
        frame,
        x="period",
        series=series,
        unit="万元",
        scale=1e4,
        title="全市主要资金指标走势（万元）",
    )
    return figure_png_base64(fig)


def _technical_note(districts: Sequence[CityDistrict]) -> str:
    """The failures in the words the program gave them, in the technical note."""
    failed = [d for d in districts if d.error]
    if not failed:
        return ""
    items = "".join(f"<li>{html.escape(d.office)}：{html.escape(d.error)}</li>" for d in failed)
    return (
        '<section class="zs-tech"><h2>技术说明</h2>'
        f"<p>以下各区本次未生成报告，原因如下：</p><ul>{items}</ul></section>"
    )


def city_page_html(
    districts: Sequence[CityDistrict],
    period: Period,
    trend: Sequence[Period] | None = None,
    *,
    nav: str = "",
    moment: dt.datetime | None = None,
) -> str:
    """The city view of ``period`` as one offline page (市级汇总).

    Parameters
    ----------
    districts
        The districts, in the order shown (their figures are read from their folders).
    period
        The reporting period.
    trend
        The periods of the trend table, sorted (default: ``period`` alone).
    nav
        The navigation bar's inner HTML.
    moment
        When the page is made (default: now; shown in Beijing time).

    Returns
    -------
    str
        The page: the districts' figures by section with the city's row, the rankings, the trend
        across periods, how the city figures are made, and (when a district failed) a technical
        note with the failures.
    """
    data = _period_data(districts, period)
    series = [data if p == period else _period_data(districts, p) for p in trend or [period]]
    demo = any(d.demo for d in districts)
    sections = "".join(_section_table(districts, data, s) for s in _SECTION_TITLES)
    rankings = "".join(_ranking_table(districts, data, r) for r in RANKINGS)
    png = _trend_png(series)
    chart = f'<img alt="全市主要资金指标走势" src="data:image/png;base64,{png}">' if png else ""
    notes = "".join(
        f"<li>{html.escape(f.label)}：{html.escape(_city_value_note(f))}</li>"
        for f in CITY_FIGURES
        if not f.additive
    )
    failed = [d.office for d in districts if d.error]
    missing = [d.office for d in districts if not d.error and data.figures[d.name] is None]
    warn = ""
    if failed or missing:
        parts = []
        if failed:
            parts.append(f"本次未生成报告：{'、'.join(failed)}（原因见页末技术说明）")
        if missing:
            parts.append(f"本报告期没有数字：{'、'.join(missing)}（该期台账无记录或报告未生成）")
        warn = (
            f'<div class="zs-warn">{html.escape("；".join(parts))}。'
            f"表中记为“{MISSING}”，不按0计入全市合计。</div>"
        )
    title = f"市级汇总 · {period.label_zh}各区土地房屋征收主要指标"
    body = f"""
<h1>{html.escape(title)}</h1>
<p>全市{len(districts)}个区的主要指标并列对比。全市合计由各区数字汇总：金额、面积、个数、户数为各区之和；比率由各区分子之和除以分母之和重新计算，不取各区比率的平均。点击区名进入该区本期报告。本页各表另有 <a href="{html.escape(quote(city_workbook_name(period)))}">汇总表（Excel）</a>。</p>
{warn}
<h2>各区主要指标</h2>
{sections}
<h2>各区排名</h2>
<div style="display:flex;flex-wrap:wrap;gap:0 2.5em">{rankings}</div>
<h2>全市走势</h2>
{_trend_table(series, period)}
{chart}
<h2>汇总口径</h2>
<ul>{notes}<li>其余指标：各区之和。各指标的口径见各区报告附录。</li></ul>
{_technical_note(districts)}
"""
    meta = footer_html(
        __version__,
        f"{len(districts)}个区，报告期 {html.escape(period.label_zh)}",
        moment or dt.datetime.now(dt.UTC),
        what="汇总生成",
    )
    return html_page(title, body, demo=demo, meta=meta, nav=nav)


# --- the workbook ---------------------------------------------------------------------------------


def city_workbook_name(period: Period) -> str:
    """``市级汇总_2021.xlsx``."""
    return f"市级汇总_{safe_file_part(period.folder)}.xlsx"


def _comparison_frame(districts: Sequence[CityDistrict], data: _PeriodData) -> pd.DataFrame:
    from .tables import TOTAL_FLAG

    rows = []
    for d in districts:
        figs = data.figures[d.name]
        row: dict[str, Any] = {"office": d.office, "status": MISSING if figs is None else ""}
        for f in CITY_FIGURES:
            row[f.name] = None if figs is None else _number(figs.get(f.name))
        rows.append(row)
    total = {"office": _totals_label(data.totals), "status": "", TOTAL_FLAG: True}
    total |= {f.name: _number(data.totals.get(f.name)) for f in CITY_FIGURES}
    rows.append(total)
    return pd.DataFrame(rows)


def _ranking_frame(districts: Sequence[CityDistrict], data: _PeriodData) -> pd.DataFrame:
    """Every ranking, worst first: figure, rank, district, value as the page writes it."""
    offices = {d.name: d.office for d in districts}
    rows = []
    for r in RANKINGS:
        f = figure(r.figure)
        values = {k: (v.get(f.name) if v else None) for k, v in data.figures.items()}
        for rank, name, value in rank_districts(values, worst_first=r.worst_first):
            rows.append(
                {
                    "figure": r.title,
                    "rank": rank,
                    "office": offices[name],
                    "value": _fmt(f, value),
                }
            )
    return pd.DataFrame(rows, columns=["figure", "rank", "office", "value"])


def city_workbook_bytes(
    districts: Sequence[CityDistrict], period: Period, trend: Sequence[Period] | None = None
) -> bytes:
    """The city view of ``period`` as an Excel workbook (the house style of the period workbooks).

    Sheets: 各区对比 (a row per district, the city's row last, bold; 缺报 in 状态 and blank cells
    for a district without figures), 排名 (each ranking, worst first; values as text in the
    unit of their figure), 全市走势 (the city's figures across the periods) and 汇总口径. Numbers
    are numbers in the units of the page (万元, 亩, 万平方米, %), text is text (never a formula).
    The same files give the same bytes (document time: the period's end).
    """
    from ..ledger.outputs import xlsx_workbook
    from .spreadsheet import SheetFormats, write_frame_sheet

    data = _period_data(districts, period)
    series = [data if p == period else _period_data(districts, p) for p in trend or [period]]
    demo = any(d.demo for d in districts)
    buf = io.BytesIO()
    end = pd.Timestamp(period.as_of)
    wb = xlsx_workbook(
        buf,
        title=f"市级汇总{period.label_zh}",
        author="市级汇总",
        created=dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC),
    )
    formats = SheetFormats(wb)
    meta = f"{len(districts)}个区 · 报告期 {period.label_zh} · 征收工作分析软件 {__version__} 版"
    columns: dict[str, tuple[str, Any]] = {"office": ("区", "text"), "status": ("状态", "text")}
    columns |= {f.name: (f.label_with_unit, _cell_kind(f)) for f in CITY_FIGURES}
    write_frame_sheet(
        wb,
        formats,
        "各区对比",
        _comparison_frame(districts, data),
        columns,
        title=f"市级汇总 · {period.label_zh}各区主要指标",
        meta=meta,
        demo=demo,
        note="缺报：该区本报告期没有数字，不按0计入全市合计。\n比率由各区分子之和除以分母之和重新计算。",
    )
    write_frame_sheet(
        wb,
        formats,
        "排名",
        _ranking_frame(districts, data),
        {
            "figure": ("指标", "text"),
            "rank": ("名次（1 = 最需关注）", "count"),
            "office": ("区", "text"),
            "value": ("数值", "text"),
        },
        title=f"市级汇总 · {period.label_zh}各区排名",
        meta=meta,
        demo=demo,
    )
    shown = _trend_figures()
    trend_frame = pd.DataFrame(
        [
            {
                "period": d.period.label_zh,
                "covered": _totals_label(d.totals),
                **{f.name: _number(d.totals.get(f.name)) for f in shown},
            }
            for d in series
        ]
    )
    trend_columns: dict[str, tuple[str, Any]] = {
        "period": ("报告期", "text"),
        "covered": ("范围", "text"),
    }
    trend_columns |= {f.name: (f.label_with_unit, _cell_kind(f)) for f in shown}
    write_frame_sheet(
        wb,
        formats,
        "全市走势",
        trend_frame,
        trend_columns,
        title="市级汇总 · 全市主要指标走势",
        meta=meta,
        demo=demo,
    )
    write_frame_sheet(
        wb,
        formats,
        "汇总口径",
        pd.DataFrame(
            [{"label": f.label_with_unit, "how": _city_value_note(f)} for f in CITY_FIGURES]
        ),
        {"label": ("指标", "text"), "how": ("全市数字的算法", "text")},
        title="市级汇总 · 汇总口径",
        meta=meta,
        demo=demo,
    )
    wb.close()
    return buf.getvalue()


# --- the folder -----------------------------------------------------------------------------------


def _periods(districts: Sequence[CityDistrict]) -> list[Period]:
    """Every period some district has figures for, sorted."""
    found: set[Period] = set()
    for d in districts:
        if d.error or not d.folder.is_dir():
            continue
        for p in d.folder.iterdir():
            period = Period.from_folder(p.name) if p.is_dir() else None
            if period is not None and (p / "key_figures.json").is_file():
                found.add(period)
    return sorted(found)


def _city_nav(period: Period, periods: Sequence[Period]) -> str:
    """The navigation of a city page: the city's index and the other periods of its kind."""
    same = [p for p in periods if p.kind == period.kind]
    links = [
        f"<strong>{html.escape(p.label_zh)}</strong>"
        if p == period
        else f'<a href="../{p.folder}/index.html">{html.escape(p.label_zh)}</a>'
        for p in same
    ]
    return (
        '<a href="../../index.html">返回市级目录</a>'
        f'<span class="zs-nav-pages">市级汇总：{"".join(links)}</span>'
    )


def _root_index(
    out: Path, districts: Sequence[CityDistrict], periods: Sequence[Period], moment: dt.datetime
) -> str:
    """The city's ``index.html``: the districts, the city view of each period, the trend."""
    rows = []
    for d in districts:
        here = sorted(p for p in periods if d.figures(p) is not None) if not d.error else []
        if d.error:
            status = '<span class="status-failed">未生成</span>（原因见页末技术说明）'
        elif not here:
            status = '<span class="status-failed">没有数字</span>'
        else:
            status = f'<span class="status-ok">已生成</span>：{len(here)}个报告期'
        name = (
            f'<a href="{html.escape(quote(d.name))}/index.html">{html.escape(d.office)}</a>'
            if (d.folder / "index.html").is_file()
            else html.escape(d.office)
        )
        rows.append(f"<tr><th>{name}</th><td>{status}</td></tr>")
    city_rows = []
    for p in periods:
        link = f'<a href="{CITY_FOLDER}/{p.folder}/index.html">市级汇总</a>'
        book = city_workbook_name(p)
        xlsx = f'<a href="{CITY_FOLDER}/{p.folder}/{html.escape(quote(book))}">汇总表（Excel）</a>'
        city_rows.append(
            f"<tr><th>{html.escape(p.label_zh)}</th><td>{link}</td><td>{xlsx}</td></tr>"
        )
    years = [_period_data(districts, p) for p in periods if p.kind == "year"]
    trend = f"<h2>全市走势（年度）</h2>{_trend_table(years)}" if years else ""
    body = f"""
<h1>市级汇总 · 各区土地房屋征收工作分析报告</h1>
<p>每个区一套报告（点击区名进入该区目录），每个报告期一页市级汇总：各区主要指标并列对比、全市合计、排名和走势。</p>
<h2>各区</h2>
<table><thead><tr><th>区</th><th>状态</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
<h2>市级汇总</h2>
<table><thead><tr><th>报告期</th><th>网页</th><th>办公文件</th></tr></thead>
<tbody>{"".join(city_rows) or '<tr><td colspan="3">暂无：没有一个区生成了数字</td></tr>'}</tbody></table>
{trend}
{_technical_note(districts)}
"""
    meta = footer_html(
        __version__, f"{len(districts)}个区，{len(periods)}个报告期", moment, what="目录生成"
    )
    return html_page(
        "市级汇总 · 各区土地房屋征收工作分析报告",
        body,
        demo=any(d.demo for d in districts),
        meta=meta,
    )


def mark_city(out: Path) -> None:
    """Mark ``out`` as a city's reports folder (before its districts run, so that their index and
    pages link back to the city's ``index.html`` from the first run on)."""
    marker = out / CITY_FOLDER / CITY_MARKER
    if not marker.is_file():
        atomic_write_text(marker, "市级汇总的报告文件夹（zhengshou batch，多个区）\n")


def in_city(reports: Path) -> bool:
    """Whether the reports folder ``reports`` is a district's inside a city's reports folder
    (:func:`mark_city`): its pages then link to ``../index.html`` of the city, relative."""
    return (reports.parent / CITY_FOLDER / CITY_MARKER).is_file()


def write_city(out: Path, districts: Sequence[CityDistrict]) -> CityResult:
    """Write the city view of every period the districts have figures for, and ``index.html``.

    Parameters
    ----------
    out
        The city's reports folder (the districts' folders inside it).
    districts
        The districts, in the order shown.

    Returns
    -------
    CityResult
        ``out/index.html``, the city pages and workbooks written. Files are written atomically
        (temporary name and rename); a city page of a period no district has any more is left
        alone.
    """
    periods = _periods(districts)
    moment = dt.datetime.now(dt.UTC)
    result = CityResult(out / "index.html")
    mark_city(out)
    for period in periods:
        folder = out / CITY_FOLDER / period.folder
        # a year's trend: the years; a month's: the months; another date stands alone
        trend = [p for p in periods if p.kind == period.kind] if period.kind != "date" else None
        page = folder / "index.html"
        nav = _city_nav(period, periods)
        atomic_write_text(page, city_page_html(districts, period, trend, nav=nav, moment=moment))
        book = folder / city_workbook_name(period)
        atomic_write_bytes(book, city_workbook_bytes(districts, period, trend))
        result.pages.append(page)
        result.workbooks.append(book)
    atomic_write_text(result.index, _root_index(out, districts, periods, moment))
    log.info("city view: %d periods, %d districts, in %s", len(periods), len(districts), out)
    return result
