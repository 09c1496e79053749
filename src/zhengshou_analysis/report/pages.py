"""Self-contained HTML pages: the page template and CSS, the embedded CJK font, notebook → page.

A page needs no network: no script, no CDN link, figures inlined as PNG, and a subset of the
bundled Noto Sans CJK SC embedded as base64 so that Chinese shows on any machine. (The module is
called ``pages``, not ``html``, so that it never shadows the standard library's :mod:`html`.)
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from .views import banner_html

__all__ = [
    "FONT_SLOT",
    "PAGE_CSS",
    "embed_shared_font",
    "font_face_css",
    "html_page",
    "render_html",
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
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.zs-note{color:#5b6775;font-size:.88em;margin-top:-.3em}
.zs-assume{background:#f5f7fa;border-left:4px solid #9aa5b1;padding:.5em 1em;font-size:.9em}
.zs-warn{background:#fdecea;border-left:4px solid #c23b22;padding:.5em 1em}
.zs-defs dt{font-weight:bold;margin-top:.6em}
.zs-defs dd{margin-left:1.5em}
img{max-width:100%;height:auto}
.jp-OutputArea-output pre,pre{white-space:pre-wrap;font-size:.85em;background:#f7f7f7;padding:.5em}
.status-ok{color:#3a8f5c}.status-failed{color:#c23b22;font-weight:bold}.status-skipped{color:#5b6775}
"""

#: Stands where a page's @font-face goes until the batch embeds one font subset for all pages.
FONT_SLOT = "/*zs-font-face*/"

_BANNER_RE = re.compile(r'<div class="zs-demo-banner".*?</div>', re.DOTALL)


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
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from .plots import font_file  # matplotlib is imported only when a page needs its font

    chars = "".join(sorted({c for c in text if ord(c) > 127})) + "".join(map(chr, range(32, 127)))
    try:
        font = TTFont(str(font_file()))
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
        return ""
    data = base64.b64encode(buf.getvalue()).decode()
    return (
        "@font-face{font-family:'ZS Noto Sans CJK SC';font-style:normal;font-weight:400;"
        f"src:url(data:font/woff;base64,{data}) format('woff')}}"
    )


def visible_text(page: str) -> str:
    """The text a page shows (tags stripped, entities decoded): what its font must cover."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def html_page(
    title: str, body: str, *, demo: bool, meta: str = "", font_css: str | None = None
) -> str:
    """Wrap an HTML body into a complete page: title, CSS, font, demo banner, meta line.

    Parameters
    ----------
    title
        The page title (plain text; escaped here).
    body
        The body HTML; any demo banner in it is dropped (the page shows one, at the top).
    demo
        Whether the data are synthetic: then the page opens with the demo banner.
    meta
        HTML of the footer line (version, parameters, run time).
    font_css
        The ``@font-face`` rule to embed; ``None`` subsets the font to this page's own text, and
        :data:`FONT_SLOT` leaves a slot for :func:`embed_shared_font`.

    Returns
    -------
    str
        The page.
    """
    body = _BANNER_RE.sub("", body)  # one banner, at the top of the page
    banner = banner_html() if demo else ""
    if font_css is None:
        font_css = font_face_css(visible_text(f"{title}{banner}{body}{meta}"))
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f"<style>{font_css}{PAGE_CSS}</style></head>"
        f"<body>{banner}{body}"
        f'<hr><p class="zs-meta">{meta}</p></body></html>\n'
    )


def embed_shared_font(pages: Sequence[str]) -> list[str]:
    """Fill the :data:`FONT_SLOT` of every page with one font subset covering all their text.

    One subset for a whole batch is much cheaper than one per page, and a browser caches nothing
    across ``data:`` URLs anyway.

    Parameters
    ----------
    pages
        Pages rendered with ``font_css=FONT_SLOT``.

    Returns
    -------
    list of str
        The same pages, in the same order, with the font embedded.
    """
    chars = "".join(sorted({c for page in pages for c in visible_text(page) if ord(c) > 127}))
    css = font_face_css(chars)
    return [page.replace(FONT_SLOT, css, 1) for page in pages]


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
    nb: dict, *, title: str, demo: bool, meta: str = "", font_css: str | None = None
) -> str:
    """Render an executed notebook to one self-contained HTML page, code hidden.

    nbconvert's ``basic`` template gives the cell outputs only (no script, no CDN link, no web
    font); figures are inlined PNGs. Warnings and log lines on stderr are dropped from the page
    (they stay in the executed notebook).

    Parameters
    ----------
    nb
        The executed notebook (a notebook node or plain dict; not modified).
    title, demo, meta, font_css
        As for :func:`html_page`: the page embeds a subset of the CJK font covering its own text,
        unless ``font_css`` is given (a batch embeds one subset for all its pages).

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
    return html_page(title, body, demo=demo, meta=meta, font_css=font_css)
