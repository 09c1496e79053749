"""Self-contained HTML pages: the page template and CSS, the embedded CJK font, notebook → page.

A page needs no network: no script, no CDN link, figures inlined as PNG, and a subset of the
bundled Noto Sans CJK SC embedded as base64 so that Chinese shows on any machine. (The module is
called ``pages``, not ``html``, so that it never shadows the standard library's :mod:`html`.)
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from ..periods import Period
from .catalog import SHORT_TITLES, notebooks_of
from .stamps import BEIJING, beijing_time
from .views import banner_html

__all__ = [
    "BEIJING",
    "FONT_SLOT",
    "PAGE_CSS",
    "FontSubset",
    "PageRef",
    "beijing_time",
    "embed_shared_font",
    "font_face_css",
    "font_subset",
    "footer_html",
    "html_page",
    "page_nav",
    "parameters_in_words",
    "render_html",
    "set_nav",
    "visible_text",
]

log = logging.getLogger(__name__)

PAGE_CSS = """
body{font-family:"ZS Noto Sans CJK SC","Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",
"SimHei",sans-serif;max-width:1100px;margin:0 auto;padding:1.5em 2em 4em;color:#1d2733;
line-height:1.65;background:#fff}
h1{font-size:1.7em;border-bottom:3px solid #1f5fa6;padding-bottom:.3em}
h2{font-size:1.35em;margin-top:1.8em;border-left:5px solid #1f5fa6;padding-left:.5em}
h3{font-size:1.12em;margin-top:1.4em}
.zs-demo-banner{background:#fff4d6;border:2px solid #e0a100;color:#6b4c00;padding:.6em 1em;
margin:0 0 1.2em;font-size:1.05em;border-radius:4px}
.zs-meta{color:#5b6775;font-size:.9em}
.zs-prose p{text-indent:2em;margin:.5em 0}
table{border-collapse:collapse;margin:.8em 0;font-size:.93em}
caption{caption-side:top;text-align:left;font-weight:bold;padding:.3em 0}
th,td{border:1px solid #cfd6de;padding:.3em .6em;vertical-align:top}
th{background:#eef3f9}
tbody th,.zs-nowrap{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.date{white-space:nowrap}
.zs-note{color:#5b6775;font-size:.88em;margin-top:-.3em}
.zs-assume{background:#f5f7fa;border-left:4px solid #9aa5b1;padding:.5em 1em;font-size:.9em}
.zs-warn{background:#fdecea;border-left:4px solid #c23b22;padding:.5em 1em}
.zs-defs-box summary{cursor:pointer;color:#1f5fa6;font-weight:bold;margin:.5em 0}
.zs-defs dt{font-weight:bold;margin-top:.6em}
.zs-defs dd{margin-left:1.5em}
img{max-width:100%;height:auto}
.jp-OutputArea-output pre,pre{white-space:pre-wrap;font-size:.85em;background:#f7f7f7;padding:.5em}
.status-ok{color:#3a8f5c}.status-failed{color:#c23b22;font-weight:bold}.status-skipped{color:#5b6775}
.zs-nav{font-size:.9em;background:#f5f7fa;border:1px solid #dde3ea;border-radius:4px;
padding:.4em .8em;margin:0 0 1em;display:flex;flex-wrap:wrap;gap:.3em 1.2em;align-items:baseline}
.zs-nav:empty{display:none}
.zs-nav a{color:#1f5fa6;text-decoration:none}.zs-nav a:hover{text-decoration:underline}
.zs-nav strong{color:#1d2733}
.zs-nav-pages a,.zs-nav-pages strong{margin-right:.8em}
.zs-footer{color:#5b6775;font-size:.85em;border-top:1px solid #dde3ea;margin-top:3em;padding-top:.6em}
@page{size:A4;margin:16mm 15mm 18mm;
@bottom-center{content:"第 " counter(page) " 页 / 共 " counter(pages) " 页";
font-family:"ZS Noto Sans CJK SC","Noto Sans CJK SC","Source Han Sans SC",sans-serif;font-size:9pt;color:#5b6775}}
@media print{
body{max-width:none;margin:0;padding:0;font-size:10.5pt}
table{font-size:9pt}
th,td{padding:.2em .45em}
.zs-nav{display:none}
h1,h2,h3,h4,caption,thead{break-after:avoid}
thead{display:table-header-group}
tbody tr:first-child,tbody tr:nth-child(2){break-before:avoid}
tr,img,pre,dt,.zs-demo-banner,.zs-assume,.zs-warn{break-inside:avoid}
dt{break-after:avoid}
p{orphans:2;widows:2}
.zs-demo-banner,th,.zs-warn,.zs-assume{print-color-adjust:exact;-webkit-print-color-adjust:exact}
details::details-content{content-visibility:visible;display:block}
.zs-defs-box summary{display:none}
a{color:inherit;text-decoration:none}
}
"""

#: Stands where a page's @font-face goes until the batch embeds one font subset for all pages.
FONT_SLOT = "/*zs-font-face*/"

_BANNER_RE = re.compile(r'<div class="zs-demo-banner".*?</div>', re.DOTALL)
_NAV_RE = re.compile(r'<nav class="zs-nav"[^>]*>.*?</nav>', re.DOTALL)

_NAV_OPEN = '<nav class="zs-nav" aria-label="报告导航">'
_NAV_INDEX = "返回报告目录"
#: The link of a district's pages and index to its city's index (several districts).
NAV_CITY = "返回市级目录"
#: Text that CSS or a later navigation update puts on a page: the font subset always covers it,
#: so that a page written once still shows its refreshed navigation and its printed page numbers.
_ALWAYS_COVERED = (
    "第页共"
    + _NAV_INDEX
    + NAV_CITY
    + "年本期各报告：‹›"
    + "".join(SHORT_TITLES.values())
    + "0123456789"
)


#: How an embedded subset names the characters it covers (only characters beyond ASCII, so never
#: the comment's end).
_SUBSET_MARK = "/*zs-font-chars:"
_SUBSET_RE = re.compile(re.escape(_SUBSET_MARK) + r"([^\x00-\x7f]*)\*/@font-face\{[^}]*\}")


@dataclass(frozen=True)
class FontSubset:
    """The bundled CJK font subset to some characters, as an ``@font-face`` rule.

    Attributes
    ----------
    chars
        The characters beyond ASCII it covers (ASCII is always covered).
    css
        The ``@font-face`` rule; ``""`` when the font could not be subset (system fonts only).
    """

    chars: frozenset[str]
    css: str

    def covers(self, text: str) -> bool:
        """Whether every character of ``text`` is in the subset (a page showing ``text`` can
        embed this subset instead of its own)."""
        return bool(self.css) and {c for c in text if ord(c) > 127} <= self.chars

    @classmethod
    def of_page(cls, page: str) -> FontSubset | None:
        """The subset a page embeds (its rule names the characters it covers), or ``None`` (no
        font, or a page written before the rule named them)."""
        found = _SUBSET_RE.search(page)
        return None if found is None else cls(frozenset(found[1]), found[0])


def font_subset(text: str) -> FontSubset:
    """The bundled Noto Sans CJK SC, subset to the characters of ``text`` (see
    :func:`font_face_css`)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from .plots import font_file  # matplotlib is imported only when a page needs its font

    wide = {c for c in text + _ALWAYS_COVERED if ord(c) > 127}
    chars = "".join(sorted(wide)) + "".join(map(chr, range(32, 127)))
    try:
        # bounding boxes stay the whole font's (a superset): recomputing them for the subset
        # costs a third of the time and changes nothing a browser draws; the font's own time
        # stamp stays, so that the same characters give the same bytes
        font = TTFont(str(font_file()), recalcBBoxes=False, recalcTimestamp=False)
        opts = subset.Options()
        opts.flavor = "woff"
        opts.hinting = False
        opts.layout_features = []
        sub = subset.Subsetter(opts)
        sub.populate(text=chars)
        sub.subset(font)
        buf = io.BytesIO()
        font.save(buf)
    except Exception as exc:  # noqa: BLE001 - the page still renders with system fonts
        log.warning("could not embed the CJK font (%s); pages rely on system fonts", exc)
        return FontSubset(frozenset(), "")
    data = base64.b64encode(buf.getvalue()).decode()
    return FontSubset(
        frozenset(wide),
        # the characters covered, named first: a later page can reuse it (FontSubset.of_page)
        f"{_SUBSET_MARK}{''.join(sorted(wide))}*/"
        "@font-face{font-family:'ZS Noto Sans CJK SC';font-style:normal;font-weight:400;"
        f"src:url(data:font/woff;base64,{data}) format('woff')}}",
    )


def font_face_css(text: str) -> str:
    """An ``@font-face`` with the bundled Noto Sans CJK SC, subset to the characters of ``text``.

    The page then shows Chinese on any machine, fonts installed or not (a reviewer's intranet PC,
    a headless browser), at the cost of some 50–150 KB of base64.

    Parameters
    ----------
    text
        Every character the font must cover (ASCII is always included).

    Returns
    -------
    str
        The CSS rule; ``""`` (system fonts only) when the font cannot be subset.
    """
    return font_subset(text).css


def visible_text(page: str) -> str:
    """The text a page shows (tags stripped, entities decoded): what its font must cover."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def html_page(
    title: str,
    body: str,
    *,
    demo: bool,
    meta: str = "",
    font_css: str | None = None,
    nav: str = "",
    shared_font: FontSubset | None = None,
) -> str:
    """Wrap an HTML body into a complete page: title, CSS, font, navigation, demo banner, footer.

    Parameters
    ----------
    title
        The page title (plain text; escaped here).
    body
        The body HTML; any demo banner in it is dropped (the page shows one, at the top).
    demo
        Whether the data are synthetic: then the page opens with the demo banner.
    meta
        HTML of the footer (:func:`footer_html`: version, parameters in words, time).
    font_css
        The ``@font-face`` rule to embed; ``None`` subsets the font to this page's own text, and
        :data:`FONT_SLOT` leaves a slot for :func:`embed_shared_font`.
    nav
        HTML of the navigation bar (:func:`page_nav`); it stays a slot that :func:`set_nav` fills
        later when empty. Shown on screen only.
    shared_font
        A subset made already (the batch's pages'): embedded instead of a subset of this page's
        own when it covers the page's text (``font_css=None`` only).

    Returns
    -------
    str
        The page.
    """
    body = _BANNER_RE.sub("", body)  # one banner, at the top of the page
    banner = banner_html() if demo else ""
    if font_css is None:
        text = visible_text(f"{title}{banner}{body}{meta}{nav}")
        covered = shared_font is not None and shared_font.covers(text)
        font_css = shared_font.css if covered and shared_font else font_face_css(text)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f"<style>{font_css}{PAGE_CSS}</style></head>"
        f"<body>{_NAV_OPEN}{nav}</nav>{banner}{body}"
        f'<footer class="zs-footer">{meta}</footer></body></html>\n'
    )


#: A page of the reports folder: its period (a year given as an int means that year) and notebook.
PageRef = tuple["Period | int", str]


def _as_period(period: Period | int) -> Period:
    """A period; an int is the year as of its 31 December."""
    return period if isinstance(period, Period) else Period.year_end(int(period))


def page_nav(
    period: Period | int, notebook: str, pages: Collection[PageRef], *, city: bool = False
) -> str:
    """The navigation bar of one report page, with relative links only.

    Every page links to the index and to the other reports of its own folder. A year's page links
    to the same report of the previous and next year that has it; a month's page (调度简报) to the
    previous and next month that has it and to its year's overview; a page of an ad-hoc reporting
    date to nothing more. Every link is taken from ``pages``, the reports present in the reports
    folder, so that no link points to a missing file; a year's links never depend on the months
    present (a monthly batch leaves the year's pages as they are).

    Parameters
    ----------
    period
        The page's reporting period (:class:`~zhengshou_analysis.periods.Period`; an int is a
        year), whose folder holds the page.
    notebook
        The page's notebook name (``00_overview``).
    pages
        Every ``(period, notebook)`` whose page exists (or is being written) in the reports
        folder.
    city
        Whether the reports folder is a district's inside a city's (``report/city.in_city``):
        the bar then starts with a link to the city's index, ``../../index.html``.

    Returns
    -------
    str
        The inner HTML of the ``<nav>`` (for :func:`html_page` or :func:`set_nav`).
    """
    here = _as_period(period)
    present = {(_as_period(p), name) for p, name in pages}
    parts = [f'<a href="../../index.html">{NAV_CITY}</a>'] if city else []
    parts.append(f'<a href="../index.html">{_NAV_INDEX}</a>')
    links = []
    for name in notebooks_of(here):
        label = html.escape(SHORT_TITLES.get(name, name))
        if name == notebook:
            links.append(f'<strong aria-current="page">{label}</strong>')
        elif (here, name) in present:
            links.append(f'<a href="{html.escape(name)}.html">{label}</a>')
    several = "各报告" if len(notebooks_of(here)) > 1 else ""  # a month has one page
    parts.append(
        f'<span class="zs-nav-pages">{html.escape(here.label_zh)}{several}：{"".join(links)}</span>'
    )
    if here.kind == "date":
        return "".join(parts)
    same = sorted(p for p, name in present if name == notebook and p.kind == here.kind)
    before = [p for p in same if p < here]
    after = [p for p in same if p > here]
    target = f"{html.escape(notebook)}.html"
    if before:
        parts.append(f'<a href="../{before[-1].folder}/{target}">‹ {before[-1].label_zh}</a>')
    if after:
        parts.append(f'<a href="../{after[0].folder}/{target}">{after[0].label_zh} ›</a>')
    year = Period.year_end(here.year)
    if here.kind == "month" and (year, "00_overview") in present:
        overview = SHORT_TITLES["00_overview"]
        parts.append(f'<a href="../{year.folder}/00_overview.html">{year.label_zh}{overview}</a>')
    return "".join(parts)


def set_nav(page: str, nav: str) -> str:
    """``page`` with the inner HTML of its navigation bar replaced by ``nav``.

    A page written before pages had a navigation slot is returned unchanged (the batch re-renders
    such pages anyway: their run key covers the package source).
    """
    return _NAV_RE.sub(lambda _: f"{_NAV_OPEN}{nav}</nav>", page, count=1)


def _date_words(iso: str) -> str:
    """``2021-06-30`` → ``2021年6月30日`` (other text returned escaped as it is)."""
    try:
        d = dt.date.fromisoformat(iso)
    except ValueError:
        return html.escape(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def parameters_in_words(
    *,
    seed: int | None,
    horizon_months: int | None,
    as_of: str | None,
    profile: str | None,
    extra: int = 0,
    periods: str | None = None,
) -> str:
    """A run's parameters as a reader understands them, without machine paths or JSON.

    ``随机种子 2021，预测期 12 个月，统计截止 年末，单位配置：内置默认``. The ledger folder is never
    shown (a path on somebody's machine) and the profile is named by its file name only.

    Parameters
    ----------
    seed
        The forecasts' random seed.
    horizon_months
        The forecast horizon, in months.
    as_of
        The reporting date (ISO); ``""``/``None``: the end of the year.
    profile
        The profile file's path; ``""``/``None``: the built-in default.
    extra
        How many further notebook parameters were set (counted, not listed: they are in the
        executed notebook).
    periods
        The reporting periods in words (a batch's: ``2021年1月至6月``); said instead of the
        reporting date when given.

    Returns
    -------
    str
        Escaped HTML text.
    """
    words = []
    if seed is not None:
        words.append(f"随机种子 {int(seed)}")
    if horizon_months is not None:
        words.append(f"预测期 {int(horizon_months)} 个月")
    if periods:
        words.append(f"报告期 {html.escape(periods)}")
    else:
        words.append(f"统计截止 {_date_words(as_of)}" if as_of else "统计截止 年末")
    name = PurePath(profile).name if profile else ""
    words.append(f"单位配置：{html.escape(name)}" if name else "单位配置：内置默认")
    if extra:
        words.append(f"另有自定义参数 {extra} 项（见执行后的笔记本）")
    return "，".join(words)


def footer_html(
    version: str,
    parameters: str,
    moment: dt.datetime,
    *,
    seconds: float | None = None,
    what: str = "生成",
) -> str:
    """The plain footer of a page: version, parameters in words, time in Beijing time.

    Parameters
    ----------
    version
        The package version.
    parameters
        The parameters in words (:func:`parameters_in_words`).
    moment
        When the page was made (aware; shown in Beijing time).
    seconds
        How long the run took, in seconds (``None``: not shown).
    what
        The verb of the time: ``生成``.

    Returns
    -------
    str
        Escaped HTML for :func:`html_page`'s ``meta``.
    """
    took = "" if seconds is None else f"，用时 {seconds:.0f} 秒"
    return (
        f"征收工作分析软件 {html.escape(version)} 版 · {parameters}"
        f" · {what}于 {beijing_time(moment)}{took}"
    )


def embed_shared_font(pages: Sequence[str], *, also: str = "") -> tuple[list[str], FontSubset]:
    """Fill the :data:`FONT_SLOT` of every page with one font subset covering all their text.

    One subset for a whole batch is much cheaper than one per page, and a browser caches nothing
    across ``data:`` URLs anyway.

    Parameters
    ----------
    pages
        Pages rendered with ``font_css=FONT_SLOT``.
    also
        Further text the subset covers: the words of a page written after these (the reports
        index, :data:`~.index.INDEX_WORDS`), which can then embed the same subset
        (``html_page(shared_font=...)``) instead of making its own.

    Returns
    -------
    pages : list of str
        The same pages, in the same order, with the font embedded.
    font : FontSubset
        The subset embedded.
    """
    text = "".join(visible_text(page) for page in pages) + also
    font = font_subset("".join(sorted({c for c in text if ord(c) > 127})))
    return [page.replace(FONT_SLOT, font.css, 1) for page in pages], font


def _hide_stderr_and_label_figures(nb: Any, title: str) -> None:
    """Drop stderr streams from ``nb``'s code cells and give every PNG figure an alt text."""
    n_fig = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = [
            o
            for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
        ]
        for o in cell["outputs"]:
            if "image/png" in o.get("data", {}):  # alt text: accessible, and nbconvert is quiet
                n_fig += 1
                img_meta = o.setdefault("metadata", {}).setdefault("image/png", {})
                img_meta.setdefault("alt", f"{title} 图{n_fig}")


def render_html(
    nb: dict,
    *,
    title: str,
    demo: bool,
    meta: str = "",
    font_css: str | None = None,
    nav: str = "",
) -> str:
    """Render an executed notebook to one self-contained HTML page, code hidden.

    nbconvert's ``basic`` template gives the cell outputs only (no script, no CDN link, no web
    font); figures are inlined PNGs. Warnings and log lines on stderr are dropped from the page
    (they stay in the executed notebook).

    Parameters
    ----------
    nb
        The executed notebook (a notebook node or plain dict; not modified).
    title, demo, meta, font_css, nav
        As for :func:`html_page`: the page embeds a subset of the CJK font covering its own text,
        unless ``font_css`` is given (a batch embeds one subset for all its pages); the batch
        fills the navigation when it writes the page.

    Returns
    -------
    str
        The page.
    """
    import nbformat
    from nbconvert import HTMLExporter

    node = nbformat.from_dict(json.loads(json.dumps(nb)))  # never modify the caller's notebook
    _hide_stderr_and_label_figures(node, title)
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.exclude_anchor_links = True
    body, _ = exporter.from_notebook_node(node)
    return html_page(title, body, demo=demo, meta=meta, font_css=font_css, nav=nav)
