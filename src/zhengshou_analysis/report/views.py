"""Display helpers for the report notebooks: Chinese labels, government number formats, escaped text.

Notebooks call these and nothing else to show tables and prose, so that every report formats
万元, 亩 and 万平方米 the same way, and so that text from the ledgers (project and site names, notes)
is always shown as text: everything passes through :func:`html.escape`, never through Markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..formatting import (
    NA_REP,
    fmt_count,
    fmt_date_zh,
    fmt_half_year_range_zh,
    fmt_month_zh,
    fmt_months,
    fmt_mu,
    fmt_pct,
    fmt_wan_m2,
    fmt_wan_yuan,
)

__all__ = [
    "DATE_KINDS",
    "DEMO_LABEL",
    "TEXT_KINDS",
    "banner_html",
    "cell_class",
    "delivery_outlook",
    "format_table",
    "review_html",
    "show_html",
    "show_table",
    "show_text",
    "spec_zh",
    "table_html",
    "technical_note_html",
]

#: The label every page produced from demo data carries.
DEMO_LABEL = "示例数据（模拟）"

Formatter = Callable[[Any], str]


def _plain(v: Any) -> str:
    return "—" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _wan_yuan(v):
    return fmt_wan_yuan(v, unit=False)


def _mu(v):
    return fmt_mu(v, unit=False)


def _wan_m2(v):
    return fmt_wan_m2(v, unit=False)


def _count(v):
    return fmt_count(v)


#: Formatters by kind (a column spec names one of these, or gives its own callable).
FORMATS: dict[str, Formatter] = {
    "text": _plain,
    "wan_yuan": _wan_yuan,
    "mu": _mu,
    "wan_m2": _wan_m2,
    "pct": fmt_pct,
    "count": _count,
    "months": lambda v: fmt_months(v, unit=False),
    "date": fmt_date_zh,
    "month": fmt_month_zh,
}


def format_table(
    df: pd.DataFrame, columns: Mapping[str, tuple[str, str | Formatter]]
) -> pd.DataFrame:
    """A display copy of ``df``: only ``columns``, renamed to Chinese labels, values formatted.

    Parameters
    ----------
    df
        Any frame (not modified).
    columns
        Ordered mapping ``column → (label, kind)``; ``kind`` is a key of :data:`FORMATS`
        (``wan_yuan``, ``mu``, ``wan_m2``, ``pct``, ``count``, ``months``, ``date``, ``text``) or a
        callable. Columns missing from ``df`` are skipped.

    Returns
    -------
    pandas.DataFrame
        Strings only, for display.
    """
    out = {}
    for col, (label, kind) in columns.items():
        if col not in df:
            continue
        fmt = FORMATS[kind] if isinstance(kind, str) else kind
        out[label] = [fmt(v) for v in df[col].tolist()]
    return pd.DataFrame(out, index=range(len(df)))


#: Kinds shown as text (left-aligned); dates and months also never wrap (``class="date"``).
TEXT_KINDS = frozenset({"text"})
DATE_KINDS = frozenset({"date", "month"})
_NUMERIC_TEXT = re.compile(r"[-+]?[\d,]+(\.\d+)?(%|个百分点)?")


def cell_class(kind: str | Formatter, shown: Sequence[str]) -> str | None:
    """The CSS class of a column's cells: ``"num"`` (right-aligned), ``"date"`` or ``None``.

    Parameters
    ----------
    kind
        The column's kind (a key of :data:`FORMATS`) or its formatter.
    shown
        The column's formatted values (used for a callable: numeric when every shown value is a
        number such as ``1,234.50``, ``-3.2%``, ``+9.8个百分点`` or ``—``).

    Returns
    -------
    str or None
        ``"date"`` for dates and months, ``"num"`` for numeric kinds, ``None`` for text.
    """
    if isinstance(kind, str):
        if kind in DATE_KINDS:
            return "date"
        return None if kind in TEXT_KINDS else "num"
    values = [v for v in shown if v not in ("", NA_REP)]
    return "num" if values and all(_NUMERIC_TEXT.fullmatch(v) for v in values) else None


def table_html(
    df: pd.DataFrame,
    columns: Mapping[str, tuple[str, str | Formatter]] | None = None,
    *,
    caption: str | None = None,
    note: str | None = None,
) -> str:
    """An escaped HTML table with an optional caption and note.

    Numeric columns are right-aligned (``<td class="num">``, so are their headers), date and month
    columns get ``<td class="date">`` (kept on one line by the page's CSS), text is left as is.
    """
    if columns is None:
        columns = {c: (str(c), "text") for c in df.columns}
    shown = format_table(df, columns)
    kinds = [kind for col, (_, kind) in columns.items() if col in df]
    classes = [
        cell_class(kind, shown[label].tolist())
        for kind, label in zip(kinds, shown.columns, strict=True)
    ]
    opens = ["<td>" if c is None else f'<td class="{c}">' for c in classes]
    parts = ['<table class="zs-table">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append(
        "<thead><tr>"
        + "".join(
            ("<th>" if c != "num" else '<th class="num">') + html.escape(str(label)) + "</th>"
            for label, c in zip(shown.columns, classes, strict=True)
        )
    )
    parts.append("</tr></thead><tbody>")
    for row in shown.itertuples(index=False, name=None):
        cells = (o + html.escape(v) + "</td>" for v, o in zip(row, opens, strict=True))
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    if note:
        parts.append(f'<p class="zs-note">{html.escape(note)}</p>')
    return "\n".join(parts)


def banner_html(text: str = DEMO_LABEL, *, detail: str = "本页数字均为模拟生成，非真实统计") -> str:
    """The demo banner (a coloured box at the top of a page)."""
    return (
        f'<div class="zs-demo-banner" role="note"><strong>{html.escape(text)}</strong>'
        f" · {html.escape(detail)}</div>"
    )


def show_html(markup: str) -> None:
    """Display HTML produced by this module (already escaped)."""
    from IPython.display import HTML, display

    display(HTML(markup))


def show_table(
    df: pd.DataFrame,
    columns: Mapping[str, tuple[str, str | Formatter]] | None = None,
    *,
    caption: str | None = None,
    note: str | None = None,
) -> None:
    """Display :func:`table_html` in a notebook."""
    show_html(table_html(df, columns, caption=caption, note=note))


def show_text(text: str, *, css_class: str = "zs-prose") -> None:
    """Display prose from the library (e.g. the work summary) escaped, one paragraph per line."""
    paras = [p.strip() for p in str(text).splitlines() if p.strip()]
    show_html(
        f'<div class="{css_class}">' + "".join(f"<p>{html.escape(p)}</p>" for p in paras) + "</div>"
    )


def definition_list(items: Sequence[tuple[str, str]], *, summary: str | None = None) -> str:
    """Escaped (term, definition) pairs, e.g. the 口径 appendix: collapsed on screen, printed whole.

    A ``<details>`` element holds the ``<dl>``: closed on screen (a click opens it), while the
    print CSS of :data:`~.pages.PAGE_CSS` shows its content and hides the summary line on paper.

    Parameters
    ----------
    items
        (term, definition) pairs, plain text (escaped here).
    summary
        The line a reader clicks (default: ``各项指标口径（共 N 项，点击展开）``).

    Returns
    -------
    str
        The HTML.
    """
    body = "".join(f"<dt>{html.escape(t)}</dt><dd>{html.escape(d)}</dd>" for t, d in items)
    line = summary if summary is not None else f"各项指标口径（共 {len(items)} 项，点击展开）"
    return (
        f'<details class="zs-defs-box"><summary>{html.escape(line)}</summary>'
        f'<dl class="zs-defs">{body}</dl></details>'
    )


# --- column specs of the standard tables (column → (Chinese label, kind)) -------------------------

PROGRESS_COLUMNS = {
    "zone": ("片区", "text"),
    "category": ("类别", "text"),
    "projects_count": ("项目（个）", "count"),
    "land_target_mu": ("征地任务（亩）", "mu"),
    "land_done_mu": ("已完成征地（亩）", "mu"),
    "land_completion_rate": ("征地完成率", "pct"),
    "house_target_m2": ("房屋征收任务（万平方米）", "wan_m2"),
    "house_done_m2": ("已完成房屋征收（万平方米）", "wan_m2"),
    "house_completion_rate": ("房屋征收完成率", "pct"),
}
BLOCKED_COLUMNS = {
    "blocker": ("卡点类型", "text"),
    "projects_count": ("涉及项目（个）", "count"),
    "blocked_mu": ("卡点面积（亩）", "mu"),
}
BLOCKED_PROJECT_COLUMNS = {
    "project_name": ("项目名称", "text"),
    "zone": ("片区", "text"),
    "blocker": ("卡点类型", "text"),
    "blocked_mu": ("卡点面积（亩）", "mu"),
    "land_target_mu": ("征地任务（亩）", "mu"),
    "land_done_mu": ("已完成（亩）", "mu"),
    "note": ("备注", "text"),
}
GAP_COLUMNS = {
    "zone": ("片区", "text"),
    "project_name": ("项目名称", "text"),
    "agreements_count": ("协议（份）", "count"),
    "signed_agreements_yuan": ("签约金额（万元）", "wan_yuan"),
    "paid_compensation_yuan": ("已付补偿款（万元）", "wan_yuan"),
    "unpaid_gap_yuan": ("待付款缺口（万元）", "wan_yuan"),
    "overdue_unpaid_yuan": ("其中逾期（万元）", "wan_yuan"),
}
AGE_COLUMNS = {
    "age_band_zh": ("逾期时长", "text"),
    "agreements_count": ("协议（份）", "count"),
    "overdue_unpaid_yuan": ("逾期未付（万元）", "wan_yuan"),
}
FEE_COLUMNS = {
    "site_name": ("安置区", "text"),
    "zone": ("片区", "text"),
    "households": ("过渡户数", "count"),
    "households_active": ("仍在过渡（户）", "count"),
    "monthly_yuan": ("每月过渡费（万元）", "wan_yuan"),
    "accrued_yuan": ("累计应付（万元）", "wan_yuan"),
    "paid_yuan": ("已付（万元）", "wan_yuan"),
    "arrears_yuan": ("拖欠（万元）", "wan_yuan"),
    "overdue_extra_yuan": ("逾期交房增加（万元）", "wan_yuan"),
}
SITE_COLUMNS = {
    "site_name": ("安置区", "text"),
    "zone": ("片区", "text"),
    "start_date": ("开工日期", "date"),
    "promised_date": ("约定交房日期", "date"),
    "delivered_date": ("实际交房日期", "date"),
    "status_zh": ("状态", "text"),
    "build_months": ("建设周期（月）", "months"),
    "late_months": ("已逾期（月）", "months"),
    "delay_months": ("交房延误（月）", "months"),
    "units": ("套数", "count"),
    "households_waiting": ("等待回迁（户）", "count"),
}


def _score(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v):.3f}"


def _model_label(name) -> str:
    from ..forecast.inflows import MODEL_LABELS

    return MODEL_LABELS.get(str(name), _plain(name))


_ETS_SPEC = re.compile(r"ETS\(A,(N|A|Ad),(N|A)\)")
_SARIMAX_SPEC = re.compile(r"SARIMAX\((\d+), (\d+), (\d+)\)x\((\d+), (\d+), (\d+), (\d+)\)")
_ETS_TREND = {"N": "无趋势", "A": "线性趋势", "Ad": "趋势逐渐减弱"}
_ETS_SEASON = {"N": "无季节波动", "A": "按月固定的季节波动"}
_PLAIN_SPECS = {
    "naive: last month repeated": "以上月到位额作为以后各月的预测",
    "seasonal naive: same month last year": "以去年同月到位额作为预测",
}


def _orders(p: str, d: str, q: str) -> str:
    parts = [
        f"{n}阶{what}" for n, what in ((d, "差分"), (p, "自回归"), (q, "移动平均")) if int(n) > 0
    ]
    return "、".join(parts) or "无"


def spec_zh(spec) -> str:
    """A back-tested model's setting (``ETS(A,N,N)``, ``SARIMAX(0, 1, 1)x(0, 1, 1, 12)``) in words.

    Parameters
    ----------
    spec
        The ``spec`` column of the inflow back-test table
        (:func:`~zhengshou_analysis.forecast.inflows.rolling_backtest_inflow_models`).

    Returns
    -------
    str
        ``无趋势、无季节波动``; ``1阶差分、1阶移动平均；按12个月的季节：1阶差分、1阶移动平均``; the
        model's Chinese name for a setting it does not know (a failed fit records only the name).
    """
    text = _plain(spec)
    if text in _PLAIN_SPECS:
        return _PLAIN_SPECS[text]
    if m := _ETS_SPEC.fullmatch(text):
        return f"{_ETS_TREND[m[1]]}、{_ETS_SEASON[m[2]]}"
    if m := _SARIMAX_SPEC.fullmatch(text):
        p, d, q, sp, sd, sq, period = m.groups()
        season = _orders(sp, sd, sq)
        season = "无季节项" if season == "无" else f"按{period}个月的季节：{season}"
        return f"{_orders(p, d, q)}；{season}"
    return _model_label(text)


FORECAST_SITE_COLUMNS = {
    "site_name": ("安置区", "text"),
    "zone": ("片区", "text"),
    "promised_date": ("约定交房", "month"),
    "overdue_months": ("已逾期（月）", "months"),
    "window_zh": ("预计交付时段（一半把握—九成把握）", "text"),
    "p50_date": ("一半把握在此前交付", "month"),
    "p90_date": ("九成把握在此前交付", "month"),
    "prob_delivered_in_horizon": ("预测期内交付的可能性", "pct"),
    "previous_p50_date": ("上期预测（一半把握）", "month"),
}
SCENARIO_COLUMNS = {
    "description": ("情景", "text"),
    "stock_gap_p50_yuan": ("存量缺口中位数（万元）", "wan_yuan"),
    "gap_p50_yuan": ("全口径缺口中位数（万元）", "wan_yuan"),
    "gap_p90_yuan": ("全口径缺口（九成把握不超过，万元）", "wan_yuan"),
    "prob_gap_closed": ("资金够用的可能性（全口径）", "pct"),
    "fee_p50_yuan": ("过渡费中位数（万元）", "wan_yuan"),
    "inflow_p50_yuan": ("新增到位资金中位数（万元）", "wan_yuan"),
}
BACKTEST_COLUMNS = {
    "model": ("模型", lambda v: _model_label(v)),
    "spec": ("设定", spec_zh),
    "mase": ("平均误差（相对值，越小越好）", _score),
    "status": ("状态", lambda v: "正常" if v == "ok" else ("计算失败" if pd.notna(v) else "—")),
    "chosen": ("选用", lambda v: "√" if v is True else ""),
}
FEE_FORECAST_COLUMNS = {
    "site_name": ("安置区", "text"),
    "zone": ("片区", "text"),
    "households": ("在外过渡（户）", "count"),
    "fee_p50_yuan": ("预测期过渡费中位数（万元）", "wan_yuan"),
    "fee_p10_yuan": ("少则（万元）", "wan_yuan"),
    "fee_p90_yuan": ("多则（万元）", "wan_yuan"),
    "prob_pays_whole_horizon": ("整个预测期都要付的可能性", "pct"),
    "delay_cost_month_yuan": ("每推迟交付1个月增加（万元）", "wan_yuan"),
}


def assumptions_html(*results, title: str = "预测依据与假设") -> str:
    """The assumptions of forecast results, escaped, with the little-data warning in red.

    Each result's ``assumptions`` mapping is searched for the statements a reader needs: the data
    warning, the method and why it was chosen, statements of survival tests, horizon, paths, seed.
    """
    lines: list[str] = []
    warnings: list[str] = []

    def walk(obj, key=""):
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, k)
        elif isinstance(obj, str) and key in ("warning",):
            warnings.append(obj)
        elif isinstance(obj, str) and (
            key
            in (
                "statement",
                "median_statement",
                "why",
                "gap_definition",
                "stock_gap_definition",
                "left_out",
                "fallback_reason",
                "censoring",
            )
            or key.endswith("_statement")
        ):
            lines.append(obj)

    for r in results:
        walk(r.assumptions)
        a = r.assumptions
        for k, label in (
            ("horizon_months", "预测期（月）"),
            ("n_paths", "模拟路径数"),
            ("seed", "随机种子"),
            ("lag_months", "交房后仍需过渡的月数"),
        ):
            if k in a:
                lines.append(f"{label}：{a[k]}")
    seen: list[str] = []
    for x in lines:
        if x not in seen:
            seen.append(x)
    warn = "".join(f'<p class="zs-warn">{html.escape(w)}</p>' for w in dict.fromkeys(warnings))
    items = "".join(f"<li>{html.escape(x)}</li>" for x in seen)
    return (
        f'{warn}<div class="zs-assume"><strong>{html.escape(title)}</strong><ul>{items}</ul></div>'
    )


def _origin_label(v) -> str:
    if v is None or pd.isna(v):
        return "合计"
    return f"{pd.Timestamp(v).year}年末"


FAMILY_LABELS = {"lognormal": "对数正态", "weibull": "威布尔", "loglogistic": "对数逻辑斯蒂"}
#: The sensitivity of the delivery forecast to the distribution family (technical note only).
FAMILY_COLUMNS: dict[str, tuple[str, str | Formatter]] = {
    "distribution": ("分布族", lambda v: FAMILY_LABELS.get(str(v), _plain(v))),
    "chosen": ("选用", lambda v: "√" if v is True else ""),
    "aic": ("拟合分数（越小越好）", _score),
    "delta_aic": ("与最优之差", _score),
    "median_p50_months_after": ("一半把握日期距统计日（月，各安置区中位）", "months"),
    "median_p90_months_after": ("九成把握日期距统计日（月，各安置区中位）", "months"),
    "expected_delivered_in_horizon": ("预测期内预计交付（个）", "count"),
}
REVIEW_DELIVERY_COLUMNS: dict[str, tuple[str, str | Formatter]] = {
    "origin": ("预测时间", _origin_label),
    "n_sites": ("预测的安置区（个）", "count"),
    "n_delivered": ("预测期内实际交付（个）", "count"),
    "coverage_p50": ("一半把握日期前交付的比例", "pct"),
    "coverage_p90": ("九成把握日期前交付的比例", "pct"),
    "n_censored_p90": ("尚不能判断（个）", "count"),
    "brier_model": ("误差分数：本模型", _score),
    "brier_promise": ("约定加典型延期", _score),
    "brier_base_rate": ("历史平均比例", _score),
}
REVIEW_MONEY_COLUMNS: dict[str, tuple[str, str | Formatter]] = {
    "origin": ("预测时间", _origin_label),
    "label": ("项目", "text"),
    "p10_yuan": ("预测少则（万元）", "wan_yuan"),
    "p50_yuan": ("预测中位数（万元）", "wan_yuan"),
    "p90_yuan": ("预测多则（万元）", "wan_yuan"),
    "realised_yuan": ("实际（万元）", "wan_yuan"),
    "pit": ("实际所处位置（0—1）", lambda v: "—" if pd.isna(v) else f"{float(v):.2f}"),
    "inside_p10_p90": ("在八成区间内", lambda v: "是" if v is True else "否"),
}


def delivery_outlook(forecast: pd.DataFrame, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """The delivery forecast as readers see it: a half-year window and the previous run beside it.

    Parameters
    ----------
    forecast
        :func:`~zhengshou_analysis.forecast.delivery.forecast_site_delivery` summary.
    previous
        :attr:`ForecastReview.previous <zhengshou_analysis.figures.review.ForecastReview.previous>`
        (``site_id``, ``p50_date``), or ``None``.

    Returns
    -------
    pandas.DataFrame
        ``forecast`` plus ``window_zh`` (``2023年下半年—2025年上半年`` from P50 to P90) and
        ``previous_p50_date`` (NaT for a site the previous run did not forecast); not modified.
    """
    window = [
        fmt_half_year_range_zh(a, b)
        for a, b in zip(forecast["p50_date"], forecast["p90_date"], strict=True)
    ]
    prev = (
        pd.Series(pd.NaT, index=forecast.index, dtype="datetime64[us]")
        if previous is None or not len(previous)
        else forecast["site_id"].map(
            previous.drop_duplicates("site_id").set_index("site_id")["p50_date"]
        )
    )
    return forecast.assign(window_zh=window, previous_p50_date=prev)


def review_html(review, part: str) -> str:
    """The forecast review of one page: plain sentences first, then the scores table.

    Parameters
    ----------
    review
        :class:`~zhengshou_analysis.figures.review.ForecastReview`.
    part
        ``"delivery"`` (per origin: coverage and scores beside the baselines) or ``"money"``
        (inflows and both gaps: forecast range against the realised value).

    Returns
    -------
    str
        Escaped HTML: ``<p>`` sentences, then a table (none when there is nothing to review).
    """
    if part not in ("delivery", "money"):
        raise ValueError(f"part must be 'delivery' or 'money', got {part!r}")
    prose = "".join(
        f'<p class="zs-prose">{html.escape(t)}</p>' for t in review.statements.get(part, ())
    )
    frame = review.delivery if part == "delivery" else review.money
    if not len(frame):
        return prose
    columns: Mapping[str, tuple[str, str | Formatter]] = (
        REVIEW_DELIVERY_COLUMNS if part == "delivery" else REVIEW_MONEY_COLUMNS
    )
    caption = (
        "预测回顾：当时对交付的预测与实际"
        if part == "delivery"
        else "预测回顾：当时对资金的预测与实际"
    )
    return prose + table_html(frame, columns, caption=caption)


def technical_note_html(*results, review=None, title: str = "技术说明") -> str:
    """The technical note at the end of a page: methods, assumptions and scores by name.

    Method names (Kaplan–Meier, MASE, SARIMAX, χ² …) appear here and only here; the page above
    speaks in plain words.

    Parameters
    ----------
    *results
        Forecast results whose assumptions are listed (see :func:`assumptions_html`).
    review
        A :class:`~zhengshou_analysis.figures.review.ForecastReview` whose method notes are added.
    title
        Heading of the note.
    """
    parts = [assumptions_html(*results, title="方法与假设")] if results else []
    if review is not None:
        notes = [v for v in review.notes.values() if v]
        notes += list(review.skipped.values())
        if notes:
            items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
            parts.append(
                f'<div class="zs-assume"><strong>预测回顾的做法</strong><ul>{items}</ul></div>'
            )
    body = "".join(parts)
    return f'<section class="zs-tech"><h2>{html.escape(title)}</h2>{body}</section>'
