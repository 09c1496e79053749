"""No English word on a reader's page (issue 14): the demo pages of one year and their index.

A reader's page is every visible text of the page except its technical note — the notebook cell
that shows ``<section class="zs-tech">`` (with the 附表 of methods it shows after the section). The
口径 appendix, the footer and the index are the reader's. A Latin word there fails the test, with
its page, the word and its context, unless an entry of :data:`ALLOWED` (each with its reason)
covers it. Names the office wrote itself (its ledgers' site, project and 片区 names, the office
name of its profile) are the office's words, not the program's, and pass as they are.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
YEAR = 2021

#: A Latin word: letters, with digits and ``_`` after the first letter (``P50``, ``amount_yuan``).
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Allowed:
    """Latin text a reader's page may show: where, what (a regex on one text node), and why."""

    pages: str  # a regex on the page's name ("10_data_quality" or ".*")
    pattern: str
    reason: str


ALLOWED: tuple[Allowed, ...] = (
    Allowed(
        "10_data_quality",
        r"[^\s/\\<>|]*[\u4e00-\u9fff][^\s/\\<>|]*\.(?:xlsx|xlsm|xls|csv)(?:#\S*)?",
        "a ledger's own file name (and sheet!row): the clerk finds the file and the row by it",
    ),
    Allowed(
        "10_data_quality",
        r"(?<![A-Za-z])列\s?[A-Z]{1,3}(?![A-Za-z])|^[A-Z]{1,3}$",
        "an Excel column letter (列 B, or a cell of the column-letter column of the header table): "
        "the clerk sees these letters above the ledger's columns",
    ),
    Allowed(
        "10_data_quality",
        r"\((?:m2|m²)\)",
        "the ledger's own header text as the clerk typed it (被征收房屋面积(m2)), quoted so the "
        "clerk recognises the column",
    ),
    Allowed(
        ".*",
        r"(?<![A-Za-z])(?:Excel|WPS|Word)(?![A-Za-z])",
        "the names of the office programs (Excel 日期序号, the Word and Excel files): there is no "
        "Chinese name in use",
    ),
    Allowed(
        ".*",
        r"zhengshou\.toml",
        "the file name of the office profile, which the clerk opens and edits",
    ),
    Allowed(
        "10_data_quality",
        r"\[headers\]",
        "the section of zhengshou.toml the clerk adds a new header word to, as written in the file",
    ),
    Allowed(
        ".*",
        r"zhengshou-analysis\s+v?\d+(?:\.\d+)+(?:[.+-][0-9A-Za-z.]+)?",
        "the software's name and version: how a reader reports which version made the page",
    ),
    Allowed(
        "index",
        r"(?<![0-9A-Za-z])[0-9a-f]{64}(?![0-9A-Za-z])",
        "a data fingerprint (64 hexadecimal digits), not a word: it identifies the exact ledgers",
    ),
)


# --- visible text ------------------------------------------------------------------------------

_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}
_HIDDEN = {"head", "script", "style", "template", "title", "noscript"}


class _Visible(HTMLParser):
    """The text nodes a reader sees, outside the technical note, in page order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, is a notebook cell)
        self.hidden = 0
        self.tech_until: int | None = None  # stack depth whose closing ends the technical note
        self.nodes: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        self.stack.append((tag, "cell" in classes))
        if tag in _HIDDEN:
            self.hidden += 1
        if self.tech_until is None and tag == "section" and "zs-tech" in classes:
            cells = [i for i, (_, is_cell) in enumerate(self.stack) if is_cell]
            # the notebook cell that shows the note (its 附表 included); else the section itself
            self.tech_until = cells[-1] if cells else len(self.stack) - 1

    def handle_startendtag(self, tag, attrs):
        pass  # <br/>, <img/>: no text

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        names = [t for t, _ in self.stack]
        if tag not in names:
            return  # a stray end tag
        while self.stack:
            t, _ = self.stack.pop()
            if t in _HIDDEN:
                self.hidden -= 1
            if self.tech_until is not None and len(self.stack) <= self.tech_until:
                self.tech_until = -1  # the note is over; a page has one
            if t == tag:
                break

    def handle_data(self, data):
        in_tech = self.tech_until is not None and self.tech_until >= 0
        if not self.hidden and not in_tech and data.strip():
            self.nodes.append(" ".join(data.split()))


def visible_nodes(page: str) -> list[str]:
    """The visible text nodes of an HTML page outside its technical note."""
    parser = _Visible()
    parser.feed(page)
    parser.close()
    return parser.nodes


def latin_words(name: str, nodes: list[str], office_words: list[str]) -> list[tuple[str, str, str]]:
    """(page, word, context) of every Latin word no allow-list entry and no office word covers."""
    rules = [re.compile(a.pattern) for a in ALLOWED if re.fullmatch(a.pages, name)]
    found = []
    for i, node in enumerate(nodes):
        text = node
        for w in office_words:  # whole words only: a placeholder "x" must not hide "xlsx"
            text = re.sub(
                rf"(?<![A-Za-z0-9]){re.escape(w)}(?![A-Za-z0-9])", lambda m: " " * len(m[0]), text
            )
        for rule in rules:
            text = rule.sub(lambda m: " " * len(m.group()), text)
        for m in WORD.finditer(text):
            context = " ".join(nodes[max(0, i - 2) : i]) + " ⟦" + node + "⟧"
            found.append((name, m.group(), context[-160:]))
    return found


# --- the checks can fail -----------------------------------------------------------------------


def test_visible_text_skips_the_technical_note_but_not_the_appendix_or_footer():
    page = """<html><head><title>Title</title><style>.x{color:red}</style></head><body>
    <div class="cell code_cell"><div class="output"><p>读者 <b>MASE</b></p></div></div>
    <div class="cell code_cell"><div class="output"><section class="zs-tech"><h2>技术说明</h2>
    <p>Kaplan–Meier</p></section></div><div class="output"><table><caption>附表</caption>
    <tr><td>AIC</td></tr></table></div></div>
    <div class="cell"><h2>附录</h2><dl><dt>推进项目 · projects_count</dt></dl></div>
    <script>var a = 1;</script><hr><p class="zs-meta">run at 2021-12-31T03:00 UTC</p>
    </body></html>"""
    nodes = visible_nodes(page)
    words = {w for _, w, _ in latin_words("00_overview", nodes, [])}
    assert words == {"MASE", "projects_count", "run", "at", "T03", "UTC"}
    assert not any("Kaplan" in n or "AIC" in n or "Title" in n or "color" in n for n in nodes)


def test_allow_list_is_narrow():
    def words(name, text, office=()):
        return [w for _, w, _ in latin_words(name, [text], list(office))]

    quality = "10_data_quality"
    assert words(quality, "征收项目台账_2021.xlsx#2021年!52 列 B「付款日期」") == []
    assert words(quality, "完整记录见 quality_log.csv") == ["quality_log", "csv"]
    assert words("30_funding", "征收项目台账_2021.xlsx") == [
        "xlsx"
    ]  # only where ledgers are listed
    assert words(quality, "difference 100.00; stated total") == ["difference", "stated", "total"]
    assert words("index", "台账指纹（SHA-256） " + "a" * 64) == ["SHA"]
    assert words("00_overview", "堤路园(二)A安置区超过3年未交付", ["堤路园(二)A安置区"]) == []
    assert words("00_overview", "A区", ["堤路园(二)A安置区"]) == ["A"]
    for a in ALLOWED:
        assert a.reason and re.compile(a.pattern)


def test_reader_definitions_and_model_labels_have_no_latin():
    from zhengshou_analysis.forecast.inflows import MODEL_LABELS
    from zhengshou_analysis.report.session import definitions
    from zhengshou_analysis.report.views import FAMILY_LABELS

    found = [(term, text) for term, text in definitions() if WORD.search(term) or WORD.search(text)]
    assert not found, found
    labels = [*MODEL_LABELS.values(), *FAMILY_LABELS.values()]
    assert not [label for label in labels if WORD.search(label)]


# --- the demo pages ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_pages(tmp_path_factory) -> Path:
    """The demo batch of one year (all six pages and the index), rendered once for this module."""
    from zhengshou_analysis.cli import main

    base = tmp_path_factory.mktemp("reader_language")
    out = base / "reports"
    env = {"ZHENGSHOU_CACHE_DIR": str(base / "cache")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(
                [
                    "batch",
                    "--data",
                    str(DEMO),
                    "--out",
                    str(out),
                    "--years",
                    str(YEAR),
                    "--jobs",
                    "3",
                ]
            )
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert code == 0, err.getvalue()[-3000:]
    return out


@pytest.fixture(scope="module")
def office_words(demo_ledgers) -> list[str]:
    """Names the office wrote itself that hold Latin letters: ledger names and its own name."""
    from zhengshou_analysis.profile import load_profile

    words: set[str] = set()
    name = load_profile(None, raw_dir=DEMO).office_name
    if name:
        words.add(name)
    for table in demo_ledgers.tables.values():
        for col in ("site_name", "project_name", "zone"):
            if col in table:
                words.update(v for v in table[col].dropna().astype(str) if WORD.search(v))
    # the cells of a rejected row are shown as the clerk typed them (codes such as GC-2019-0154,
    # placeholders such as "x"), so that the row can be found and corrected in the ledger
    for raw in demo_ledgers.rejected["raw_cells"].dropna():
        words.update(str(v) for v in json.loads(raw).values() if WORD.search(str(v)))
    return sorted(words, key=len, reverse=True)


@pytest.mark.slow
def test_no_english_word_on_a_readers_page(demo_pages, office_words):
    pages = [demo_pages / "index.html", *sorted((demo_pages / str(YEAR)).glob("*.html"))]
    assert len(pages) == 7, [p.name for p in pages]  # the index and the six pages
    found = []
    for page in pages:
        nodes = visible_nodes(page.read_text(encoding="utf-8"))
        assert nodes, page.name
        found += latin_words(page.stem, nodes, office_words)
    summary: dict[tuple[str, str], int] = {}
    for name, word, _ in found:
        summary[name, word] = summary.get((name, word), 0) + 1
    first = {}
    for name, word, context in found:
        first.setdefault((name, word), context)
    lines = [f"{name}: {word!r} ×{n} — …{first[name, word]}" for (name, word), n in summary.items()]
    assert not found, (
        f"{len(found)} English words on reader's pages ({len(summary)} distinct per page):\n"
        + "\n".join(lines)
    )
