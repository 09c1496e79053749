"""``index.html`` of a reports folder: years, months and other reporting dates apart, each labelled.

The years: every year × report with its status, each year's Word and Excel files, key figures
across years with a trend chart (years only: a month's figures never enter the year trend). The
months (一月一调度): each month's 调度简报 and its Word file, with a few key figures and their
change since last month. Other reporting dates: their reports and office files. Then the batch's
settings in words.

The index is rewritten only when a run, a year's figures, the office files present or the
provenance changed (its *index key*, kept in ``.index_key``). The machine details (data folder,
fingerprints, UTC time) go to ``provenance.json`` beside it, not onto the page.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from .._version import __version__
from ..figures.registry import FIGURES, Figure
from ..periods import Period, PeriodKind
from ..profile import OFFICE_FALLBACK
from .catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS, SHORT_TITLES
from .city import in_city
from .files import atomic_write_text, office_file_name, read_json_dict
from .pages import NAV_CITY, FontSubset, footer_html, html_page, parameters_in_words
from .runs import digest
from .stamps import generated_now

__all__ = [
    "INDEX_KEY_NAME",
    "INDEX_WORDS",
    "MONTHLY_OFFICE_FILES",
    "OFFICE_FILES",
    "PROVENANCE_LABELS",
    "index_due",
    "index_files",
    "index_html",
    "index_key",
    "office_files",
    "office_files_of",
    "periods_in_words",
    "refresh_index",
    "write_index",
]

#: The provenance entries the index shows, with their labels (the others, machine details such as
#: the data folder and the fingerprints, are kept in ``provenance.json`` only).
PROVENANCE_LABELS = {
    "office": "单位",
    "profile": "单位配置",
    "package_version": "软件版本",
    "seed": "随机种子",
    "horizon_months": "预测期（月）",
    "periods": "本次运行的报告期",
}

#: The office files of a year (and of an ad-hoc reporting date), in the order the index lists them:
#: (kind, suffix, link text).
OFFICE_FILES = (
    ("工作总结", ".docx", "工作总结（Word）"),
    ("报表", ".xlsx", "报表（Excel）"),
)

#: The office file of a month: the one-page 调度简报 for the monthly meeting.
MONTHLY_OFFICE_FILES = (("调度简报", ".docx", "调度简报（Word）"),)


def office_files_of(kind: PeriodKind) -> tuple[tuple[str, str, str], ...]:
    """The office files of a period kind: :data:`MONTHLY_OFFICE_FILES` for a month, else
    :data:`OFFICE_FILES`."""
    return MONTHLY_OFFICE_FILES if kind == "month" else OFFICE_FILES


#: The index title after the office's name.
_TITLE = "土地房屋征收工作分析报告"


def index_title(provenance: dict) -> str:
    """The index title with the office's name (``港北区土地房屋征收工作分析报告``)."""
    office = provenance.get("office") or OFFICE_FALLBACK
    return f"{office}{_TITLE}"


def _index_figures() -> list[Figure]:
    """The figures of the index table: those declared with ``index=True`` in the registry."""
    return [f for f in FIGURES if f.index]


def _trend_series() -> dict[str, str]:
    """The money figures of the index, charted across years: key → Chinese label."""
    return {f.name: f.label for f in _index_figures() if f.unit == "yuan"}


#: The index key of the page in the folder (:func:`index_key`).
INDEX_KEY_NAME = ".index_key"

_STATUS_LABELS = {"ok": "已生成", "skipped": "未变化，沿用", "failed": "失败"}

#: The index's opening paragraph.
_INTRO = (
    "每年一组报告：先读“总览”，再按需查看各专题；“办公文件”一栏是可编辑的工作总结（Word）和"
    "报表（Excel）。每月一份调度简报，供月度调度会使用。报告由台账自动生成，每个数字的口径见各"
    "报告附录。"
)

#: The index's own words (its title, paragraph, headings and labels): the batch's shared font
#: subset covers them too (``pages.embed_shared_font(also=...)``), so that the index, written
#: after the pages, embeds that subset instead of making its own (``tests/test_navigation.py``
#: holds it on a batch; a word missing here costs a second subset, never a missing glyph).
INDEX_WORDS = "".join(
    (
        _TITLE,
        _INTRO,
        "报告目录主要指标走势年度月度调度（一月一调度）月份办公文件其他截止日报告报告期运行设置",
        *PROVENANCE_LABELS.values(),
        *_STATUS_LABELS.values(),
        *(text for _, _, text in (*OFFICE_FILES, *MONTHLY_OFFICE_FILES)),
        *(f.label for f in FIGURES if f.index),
    )
)


def _periods_on_disk(out: Path) -> list[Period]:
    """The period folders of ``out`` (``2021``, ``2021-06``, ``2021-06-15``), sorted."""
    found = [Period.from_folder(p.name) for p in out.iterdir() if p.is_dir()]
    return sorted(p for p in found if p is not None)


def office_files(
    out: Path, period: Period | int | str, office: str | None
) -> list[tuple[str, str]]:
    """The office files of ``period`` present in ``out``: (file name, link text), in index order.

    Parameters
    ----------
    out
        The reports folder.
    period
        The period, or its folder name (a year may be given as an int).
    office
        The office's name from its profile (``None``/``""``: ``区``); the file names are
        :func:`~.files.office_file_name` ``(kind, office, folder, suffix)`` for each file of
        :func:`office_files_of` (a year's ``工作总结``/``报表``, a month's ``调度简报``).
    """
    folder = period.folder if isinstance(period, Period) else str(period)
    found = Period.from_folder(folder)
    kind: PeriodKind = found.kind if found is not None else "year"
    names = [
        (office_file_name(name, office or OFFICE_FALLBACK, folder, suffix), text)
        for name, suffix, text in office_files_of(kind)
    ]
    return [(name, text) for name, text in names if (out / folder / name).is_file()]


def periods_in_words(folders: list[str]) -> str:
    """Period folders as a reader says them, runs of consecutive periods joined.

    Examples
    --------
    >>> periods_in_words(["2019", "2020", "2021", "2021-01", "2021-02", "2021-03", "2021-06-15"])
    '2019年至2021年、2021年1月至3月、2021年（截至6月15日）'
    """
    periods = {p for p in map(Period.from_folder, folders) if p is not None}
    runs: list[list[Period]] = []
    order = {"year": 0, "month": 1, "date": 2}  # years, then months, then other dates
    for p in sorted(periods, key=lambda p: (order[p.kind], p.as_of)):
        if runs and runs[-1][-1].next == p:
            runs[-1].append(p)
        else:
            runs.append([p])
    words = []
    for run in runs:
        first, last = run[0], run[-1]
        if first == last:
            words.append(first.label_zh)
        elif first.kind == "month" and first.year == last.year:
            words.append(f"{first.label_zh}至{last.month}月")
        else:
            words.append(f"{first.label_zh}至{last.label_zh}")
    return "、".join(words)


def index_key(out: Path, provenance: dict, runs_texts: Mapping[str, str] | None = None) -> str:
    """The index key of ``out``: what ``index.html`` shows besides its time (``.index_key``).

    Parameters
    ----------
    out
        The reports folder.
    provenance
        The batch's provenance (without a time).
    runs_texts
        Per period folder, the text of its ``runs.json`` to count instead of the file's (the
        states a batch is about to write); the other periods' files as they are.
    """
    from ..ledger.store import code_fingerprint

    texts = dict(runs_texts or {})
    periods = _periods_on_disk(out)
    return digest(
        json.dumps(provenance, sort_keys=True),
        code_fingerprint(),
        f"city={in_city(out)}",
        *(
            texts[p.folder]
            if p.folder in texts
            else (out / p.folder / "runs.json").read_text(encoding="utf-8")
            for p in periods
            if p.folder in texts or (out / p.folder / "runs.json").is_file()
        ),
        *(
            f"{p.folder}/{name}"
            for p in periods
            for name, _ in office_files(out, p, provenance.get("office"))
        ),
    )


def index_due(out: Path, key: str) -> bool:
    """Whether ``index.html`` has to be written for the index key ``key`` (:func:`index_key`):
    the page or its key file is missing, or the key changed."""
    key_file = out / INDEX_KEY_NAME
    return (
        not (out / "index.html").is_file() or not key_file.is_file() or key_file.read_text() != key
    )


def index_files(
    out: Path,
    *,
    demo: bool,
    provenance: dict,
    generated: str,
    states: Mapping[str, dict] | None = None,
    shared_font: FontSubset | None = None,
) -> dict[str, str]:
    """The text of ``index.html`` and ``provenance.json``, generated at ``generated``.

    Parameters
    ----------
    out, demo
        As for :func:`write_index`.
    provenance
        The batch's provenance (without a time).
    generated
        The moment of writing (:func:`~.stamps.generated_now`): in ``provenance.json`` and, in
        Beijing time, in the index's footer.
    states
        Per period folder, the runs state to show instead of its ``runs.json`` (:func:`index_key`).
    shared_font
        As for :func:`index_html`.

    Returns
    -------
    dict
        File name → text, in the order :func:`refresh_index` writes them.
    """
    full = {**provenance, "generated": generated}
    return {
        "index.html": index_html(
            out, demo=demo, provenance=full, states=states, shared_font=shared_font
        ),
        "provenance.json": json.dumps(full, ensure_ascii=False, indent=2) + "\n",
    }


def refresh_index(
    out: Path,
    *,
    demo: bool,
    provenance: dict,
    force: bool = False,
    shared_font: FontSubset | None = None,
) -> Path:
    """Write ``index.html`` unless its index key is unchanged (or ``force``); return its path.

    Parameters
    ----------
    out
        The reports folder, each period's ``runs.json`` already written.
    demo
        Whether the data are synthetic (the page then opens with the demo banner).
    provenance
        Data folder, data fingerprint, version and parameters of the batch (without a time: the
        generation time is added when the index is written).
    force
        Write even when nothing changed.
    shared_font
        As for :func:`index_html`.
    """
    key = index_key(out, provenance)
    if force or index_due(out, key):
        for name, text in index_files(
            out,
            demo=demo,
            provenance=provenance,
            generated=generated_now(),
            shared_font=shared_font,
        ).items():
            atomic_write_text(out / name, text)
        atomic_write_text(out / INDEX_KEY_NAME, key)
    return out / "index.html"


def _trend_png(rows: list[dict]) -> str:
    """The trend chart of the money figures across years, as base64 PNG.

    Figures of very different size (a cumulative sum beside a small arrears) are drawn on separate
    panels (:func:`~zhengshou_analysis.report.plots.plot_trend_panels`). The same rows give the
    same chart: drawn once per process (a batch writes the index, then works out the next one).
    """
    return _trend_png_of(json.dumps(rows))


@lru_cache(maxsize=4)
def _trend_png_of(rows_json: str) -> str:
    """:func:`_trend_png` of the rows as JSON (hashable, for the cache)."""
    rows = json.loads(rows_json)
    import matplotlib

    matplotlib.use("Agg", force=False)
    import pandas as pd

    from .plots import figure_png_base64, plot_trend_panels

    fig, _ = plot_trend_panels(
        pd.DataFrame(rows),
        x="year",
        series=_trend_series(),
        unit="万元",
        scale=1e4,
        title="主要资金指标走势（万元）",
    )
    return figure_png_base64(fig)


def _figure_row(year: int, figs: dict) -> dict:
    """The key figures of one year shown in the index."""
    return {"year": year, **{f.name: figs.get(f.name) for f in _index_figures()}}


def _status_cell(
    folder: str, name: str, title: str, run: dict | None, *, nowrap: bool = False
) -> str:
    """One cell of a report table: a link to the report, or the failure and its notebook
    (``nowrap``: a short link kept on one line)."""
    if run is None:
        return "<td>—</td>"
    status = run.get("status", "?")
    label = _STATUS_LABELS.get(status, status)
    if status == "failed":
        target = f"{folder}/{name}.failed.ipynb" if run.get("ipynb") else None
        err = html.escape(str(run.get("error") or ""))[:300]
        link = f' · <a href="{html.escape(target)}">查看出错的笔记本</a>' if target else ""
        return f'<td><span class="status-failed">{label}</span>{link}<br><small>{err}</small></td>'
    td = '<td class="zs-nowrap">' if nowrap else "<td>"
    return (
        f'{td}<a href="{folder}/{html.escape(name)}.html">{html.escape(title)}</a>'
        f'<br><small class="status-{status}">{label}</small></td>'
    )


def _office_cell(out: Path, period: Period, office: str | None) -> str:
    """The cell of a period's office files: links to those present, ``—`` when none."""
    links = [
        f'<a href="{period.folder}/{html.escape(quote(name))}">{html.escape(text)}</a>'
        for name, text in office_files(out, period, office)
    ]
    return f'<td class="zs-nowrap">{"<br>".join(links) or "—"}</td>'


def _profile_name(value: object) -> str:
    """The profile file's name from the provenance (``""``: the built-in default, no path)."""
    text = str(value or "")
    return "" if not text or text.startswith("（") else Path(text).name


def _provenance_value(key: str, value: object) -> str:
    """A provenance entry as the index shows it: no machine path, dates in Chinese."""
    if key == "profile":
        return _profile_name(value) or "内置默认"
    if key == "periods":
        return periods_in_words([str(v) for v in value]) if isinstance(value, list) else "—"
    return "—" if value is None else str(value)


def _trend_table_row(r: dict) -> str:
    """One year's row of the key-figure table."""
    cells = "".join(
        f"<td class=num>{html.escape(_format_index_value(f, r.get(f.name)))}</td>"
        for f in _index_figures()
    )
    return f"<tr><th>{r['year']}年</th>{cells}</tr>"


def _format_index_value(fig: Figure, value) -> str:
    """A figure as the index shows it: 万元 without the unit (it is in the header), %, counts."""
    from ..formatting import fmt_count, fmt_mu, fmt_pct, fmt_wan_yuan

    if fig.unit == "yuan":
        return fmt_wan_yuan(value, unit=False)
    if fig.unit == "ratio":
        return fmt_pct(value)
    if fig.unit == "mu":
        return fmt_mu(value)
    return fmt_count(value)


def _format_change(fig: Figure, value) -> str:
    """A month's change of a figure: ``+12.30``, ``-1``, ``+1.2个百分点``, ``—``."""
    from ..formatting import fmt_count, fmt_mu, fmt_wan_yuan

    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return "—"
    if fig.unit == "ratio":
        return f"{float(value) * 100:+.1f}个百分点"
    if fig.unit == "yuan":
        text = fmt_wan_yuan(value, unit=False)
    elif fig.unit == "mu":
        text = fmt_mu(value)
    else:
        text = fmt_count(value)
    return text if text.startswith(("-", "—")) else "+" + text


def _month_figure_cells(figs: dict) -> str:
    """A month's key figures with their change since last month (``key_figures.json``)."""
    changes = figs.get("change_since_last_month") or {}
    cells = []
    for f in _index_figures():
        value = html.escape(_format_index_value(f, figs.get(f.name)))
        change = html.escape(_format_change(f, changes.get(f.name)))
        cells.append(f"<td class=num>{value}<br><small>较上月 {change}</small></td>")
    return "".join(cells)


def _year_section(run_rows: list[str], rows: list[dict]) -> str:
    """The years: the report table, the key figures across years and their trend chart."""
    head = "".join(f"<th>{html.escape(SHORT_TITLES.get(n, n))}</th>" for n in NOTEBOOKS)
    head += '<th class="zs-nowrap">办公文件</th>'
    trend_rows = "".join(_trend_table_row(r) for r in rows)
    figure_heads = "".join(f"<th>{html.escape(f.label_with_unit)}</th>" for f in _index_figures())
    chart = (
        f'<img alt="主要资金指标走势" src="data:image/png;base64,{_trend_png(rows)}">'
        if rows
        else ""
    )
    return f"""
<h2>报告目录</h2>
<table><thead><tr><th>年度</th>{head}</tr></thead><tbody>{"".join(run_rows)}</tbody></table>
<h2>主要指标走势</h2>
<table><thead><tr><th>年度</th>{figure_heads}</tr></thead><tbody>{trend_rows}</tbody></table>
{chart}
"""


def _month_section(month_rows: list[str]) -> str:
    """The months: each month's 调度简报, its Word file and key figures with the month's change."""
    if not month_rows:
        return ""
    heads = "".join(f"<th>{html.escape(SHORT_TITLES.get(n, n))}</th>" for n in MONTHLY_NOTEBOOKS)
    figure_heads = "".join(f"<th>{html.escape(f.label_with_unit)}</th>" for f in _index_figures())
    return f"""
<h2>月度调度（一月一调度）</h2>
<p>每月一份调度简报：月末的主要指标及较上月变化、本月进展、待办清单和预测变化。月度数字按年度口径在月末计算，不计入年度走势。</p>
<table><thead><tr><th>月份</th>{heads}<th class="zs-nowrap">办公文件</th>{figure_heads}</tr></thead>
<tbody>{"".join(month_rows)}</tbody></table>
"""


def _date_section(date_rows: list[str]) -> str:
    """Other reporting dates: their reports and office files, apart from the years."""
    if not date_rows:
        return ""
    head = "".join(f"<th>{html.escape(SHORT_TITLES.get(n, n))}</th>" for n in NOTEBOOKS)
    return f"""
<h2>其他截止日报告</h2>
<p>按指定截止日生成的报告（既非年末也非月末），与年度报告分开存放，不计入年度走势。</p>
<table><thead><tr><th>报告期</th>{head}<th class="zs-nowrap">办公文件</th></tr></thead>
<tbody>{"".join(date_rows)}</tbody></table>
"""


def _index_body(sections: str, provenance: dict) -> str:
    """The body of the index page: the sections of years, months and dates, provenance."""
    prov = "".join(
        f"<tr><th>{html.escape(label)}</th>"
        f"<td>{html.escape(_provenance_value(key, provenance.get(key)))}</td></tr>"
        for key, label in PROVENANCE_LABELS.items()
        if key in provenance
    )
    return f"""
<h1>{html.escape(index_title(provenance))}</h1>
<p>{_INTRO}</p>
{sections}
<h2>运行设置</h2>
<table><tbody>{prov}</tbody></table>
"""


def _period_row(
    out: Path, period: Period, office: str | None, state: dict | None = None
) -> tuple[str, dict]:
    """A period's row of its table (label, reports, office files, for a month its figures) and
    its key figures (``{}`` when not yet computed); ``state``: its runs (default: its ``runs.json``)."""
    folder = period.folder
    if state is None:
        state = read_json_dict(out / folder / "runs.json")
    figs = read_json_dict(out / folder / "key_figures.json")
    month = period.kind == "month"  # one page a month: its short name is the link
    catalogue = {n: SHORT_TITLES.get(n, n) for n in MONTHLY_NOTEBOOKS} if month else NOTEBOOKS
    cells = "".join(
        _status_cell(folder, name, title, state.get(name), nowrap=month)
        for name, title in catalogue.items()
    )
    cells += _office_cell(out, period, office)
    if period.kind == "month":
        cells += _month_figure_cells(figs)
    return f"<tr><th>{html.escape(period.label_zh)}</th>{cells}</tr>", figs


def write_index(out: Path, *, demo: bool, provenance: dict) -> Path:
    """Write ``index.html``: years, months and other dates apart, each labelled, and provenance.

    Parameters
    ----------
    out, demo, provenance
        As for :func:`index_html`.

    Returns
    -------
    Path
        The index page.
    """
    path = out / "index.html"
    atomic_write_text(path, index_html(out, demo=demo, provenance=provenance))
    return path


def index_html(
    out: Path,
    *,
    demo: bool,
    provenance: dict,
    states: Mapping[str, dict] | None = None,
    shared_font: FontSubset | None = None,
) -> str:
    """The text of ``index.html``: years, months and other dates apart, each labelled, and provenance.

    Parameters
    ----------
    out
        The reports folder; every period folder in it (``2021``, ``2021-06``, ``2021-06-15``) is
        listed, from its ``runs.json`` and ``key_figures.json``.
    demo
        Whether the data are synthetic (the page then opens with the demo banner).
    provenance
        Shown as a table, labelled with :data:`PROVENANCE_LABELS`; its ``generated`` (UTC text,
        :func:`~.stamps.generated_now`; default now) is the time in the footer.
    states
        Per period folder, the runs state to show instead of its ``runs.json``.
    shared_font
        The batch's font subset (:func:`~.pages.embed_shared_font`), embedded when it covers the
        index's text; by default the subset of the index it replaces, when that covers it (the
        index a batch with nothing to do writes is the one it replaces but for states and time:
        no new subset); else the index gets a subset of its own.
    """
    if shared_font is None and (out / "index.html").is_file():
        shared_font = FontSubset.of_page((out / "index.html").read_text(encoding="utf-8"))
    states = states or {}
    rows: list[dict] = []
    by_kind: dict[str, list[str]] = {"year": [], "month": [], "date": []}
    for period in _periods_on_disk(out):
        row, figs = _period_row(out, period, provenance.get("office"), states.get(period.folder))
        by_kind[period.kind].append(row)
        if period.kind == "year" and figs:
            rows.append(_figure_row(period.year, figs))  # the year trend: years only
    sections = (
        (_year_section(by_kind["year"], rows) if by_kind["year"] else "")
        + _month_section(by_kind["month"])
        + _date_section(by_kind["date"])
    )
    generated = provenance.get("generated")
    moment = dt.datetime.fromisoformat(generated) if generated else dt.datetime.now(dt.UTC)
    periods = provenance.get("periods")
    words = parameters_in_words(
        seed=provenance.get("seed"),
        horizon_months=provenance.get("horizon_months"),
        as_of=provenance.get("as_of"),
        profile=_profile_name(provenance.get("profile")),
        periods=periods_in_words(periods) if isinstance(periods, list) else None,
    )
    return html_page(
        index_title(provenance),
        _index_body(sections, provenance),
        demo=demo,
        meta=footer_html(__version__, words, moment, what="目录生成"),
        # a district of a city: back to the city's index (its districts and 市级汇总)
        nav=f'<a href="../index.html">{NAV_CITY}</a>' if in_city(out) else "",
        shared_font=shared_font,
    )
