"""A report page printed to PDF in headless chromium: A4, page numbers, captions kept with their
tables, every glyph drawn (needs Debian's chromium and poppler's pdftotext).

How the glyph check works: chromium draws a character that no font has with glyph 0 (``.notdef``,
a blank or a box), and its PDF writer (Skia) shows glyph 0 as code 0 of a one-byte font (its Type 3
fonts, the embedded Noto subset among them) or as code 0x0000 of a two-byte (Type 0, Identity-H)
font. So a page has no missing glyph exactly when no text operator of the PDF shows such a code.
On top of that, every character of the printed text must come back from the PDF's text layer, and
the page's own embedded font subset must cover every character (the page then shows the same on a
machine without CJK fonts).
"""

from __future__ import annotations

import base64
import bisect
import io
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOTEXT = shutil.which("pdftotext")
#: The pages printed: the headline table, the long quality tables, the charts, and the funding
#: page (its appendix marks the chosen method with a sign the embedded font must hold).
PRINTED = ("00_overview", "10_data_quality", "20_progress", "30_funding")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine: `apt-get install chromium` to run the print test")
    if PDFTOTEXT is None:
        pytest.skip("no pdftotext: `apt-get install poppler-utils` to run the print test")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright (dev extra) is not installed"
    )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def demo_pages(tmp_path_factory):
    """A demo batch of 2021 with the printed notebooks: the reports folder."""
    from zhengshou_analysis.report.batch import run_batch

    base = tmp_path_factory.mktemp("print")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHENGSHOU_CACHE_DIR", str(base / "cache"))
        result = run_batch(
            data_dir=DEMO,
            out_dir=base / "reports",
            years=[2021],
            notebooks=list(PRINTED),
            jobs=2,
            progress=False,
        )
    assert not result.failed, result.failed
    return base / "reports"


# --- reading the PDF ------------------------------------------------------------------------------


def _pdf_page_texts(pdf: Path) -> list[str]:
    """The text of each page (poppler's ``pdftotext -layout``)."""
    out = subprocess.run(
        [str(PDFTOTEXT), "-layout", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def _squeeze(text: str) -> str:
    """``text`` without any whitespace (the PDF's text layer spaces and wraps differently)."""
    return "".join(c for c in text if not c.isspace())


_OBJ = re.compile(rb"(\d+) 0 obj\s*(?=<<)")
_STREAM = re.compile(rb"\s*stream\r?\n")
_FONT_REFS = re.compile(rb"/Font\s*<<(.*?)>>", re.DOTALL)
_DICT = re.compile(rb"<<(?:[^<>]|<[0-9A-Fa-f\s]*>)*>>")  # a dict operand (ActualText of a span)
_TOKEN = re.compile(
    rb"/([^\s/\[\]<>()]+)\s+[-\d.]+\s+Tf"  # font selection
    rb"|<([0-9A-Fa-f\s]*)>"  # hex string
    rb"|\(((?:\\.|[^\\)])*)\)"  # literal string
    rb"|(?<![\w/])(Tj|TJ|'|\")(?![\w])"  # text-showing operators
    rb"|(?<![\w/])([A-Za-z*]+)(?![\w])",  # any other operator
    re.DOTALL,
)


def _literal_bytes(raw: bytes) -> bytes:
    """The bytes of a PDF literal string body (octal and character escapes)."""
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):  # backslash
            m = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if m:
                out.append(int(m.group(), 8) & 0xFF)
                i += 1 + len(m.group())
                continue
            esc = raw[i + 1 : i + 2]
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(esc, esc)
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def _dict_end(pdf: bytes, i: int) -> int:
    """The end of the (nested) dictionary starting at ``pdf[i]`` (``<<``)."""
    depth = 0
    while i < len(pdf):
        two = pdf[i : i + 2]
        if two == b"<<":
            depth, i = depth + 1, i + 2
        elif two == b">>":
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        elif pdf[i : i + 1] == b"<":  # a hex string
            i = pdf.index(b">", i) + 1
        elif pdf[i : i + 1] == b"(":  # a literal string (Skia writes no nested parentheses)
            i = re.compile(rb"(?<!\\)\)").search(pdf, i + 1).end()  # type: ignore[union-attr]
        else:
            i += 1
    raise ValueError("unterminated dictionary")


def notdef_glyphs(pdf: bytes) -> int:
    """How many times the PDF draws glyph 0 (``.notdef``): the missing-glyph box or blank.

    Parses the uncompressed object layout chromium's Skia writes (no object streams): the fonts'
    subtypes, the resource names pointing to them, and every text-showing operator of every
    content stream.
    """
    objects: dict[int, bytes] = {}
    streams: list[bytes] = []
    for m in _OBJ.finditer(pdf):
        end = _dict_end(pdf, m.end())
        body = objects[int(m.group(1))] = pdf[m.end() : end]
        stream = _STREAM.match(pdf, end)
        if stream:
            data = pdf[stream.end() : pdf.index(b"endstream", stream.end())]
            if b"/FlateDecode" in body:
                data = zlib.decompressobj().decompress(data)
            streams.append(data)
    two_byte: dict[bytes, bool] = {}
    for body in objects.values():
        for refs in _FONT_REFS.findall(body):
            for name, num in re.findall(rb"/([^\s/<>]+)\s+(\d+)\s+0\s+R", refs):
                font = objects.get(int(num), b"")
                two_byte[name] = b"/Subtype /Type0" in font or b"/Subtype/Type0" in font
    assert two_byte, "no font found in the PDF: the parser does not fit this PDF"
    count = 0
    for data in streams:
        if b"Tf" not in data:
            continue
        data = _DICT.sub(b" ", data)
        font: bytes | None = None
        shown: list[bytes] = []
        for m in _TOKEN.finditer(data):
            name, hexs, lit, show, other = m.groups()
            if name is not None:
                font, shown = name, []
            elif hexs is not None:
                digits = re.sub(rb"\s", b"", hexs)
                shown.append(bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode()))
            elif lit is not None:
                shown.append(_literal_bytes(lit))
            elif show is not None:
                assert font is not None and font in two_byte, f"text in an unknown font {font!r}"
                width = 2 if two_byte[font] else 1
                for s in shown:
                    codes = [s[i : i + width] for i in range(0, len(s), width)]
                    count += sum(1 for c in codes if not any(c))
                shown = []
            elif other is not None:
                shown = []
    return count


def _embedded_cmap(page_html: str) -> set[int]:
    """The code points the page's embedded font subset covers."""
    from fontTools.ttLib import TTFont

    m = re.search(r"data:font/woff;base64,([A-Za-z0-9+/=]+)", page_html)
    assert m, "the page embeds no font"
    return set(TTFont(io.BytesIO(base64.b64decode(m.group(1)))).getBestCmap())


# --- printing ---------------------------------------------------------------------------------------

_TABLES_JS = """
Array.from(document.querySelectorAll('table')).filter(t => t.caption).map(t => [
  t.caption.innerText,
  t.tHead && t.tHead.rows.length ? t.tHead.rows[0].cells[0].innerText : '',
  t.tBodies.length && t.tBodies[0].rows.length ? t.tBodies[0].rows[0].cells[0].innerText : '',
])
"""


def _print(browser, page_path: Path, pdf: Path) -> dict:
    """Print ``page_path`` to ``pdf`` as chromium does; return what the page shows in print."""
    ctx = browser.new_context(offline=True)
    page = ctx.new_page()
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")
    page.emulate_media(media="print")
    shown = {"text": page.inner_text("body"), "tables": page.evaluate(_TABLES_JS)}
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    ctx.close()
    return shown


@pytest.mark.parametrize("name", PRINTED)
def test_printed_page_has_page_numbers_captions_with_tables_and_every_glyph(
    browser, demo_pages, tmp_path, name
):
    page_path = demo_pages / "2021" / f"{name}.html"
    pdf = tmp_path / f"{name}.pdf"
    shown = _print(browser, page_path, pdf)
    texts = _pdf_page_texts(pdf)
    n = len(texts)
    assert n >= 2, "a report page prints on more than one A4 sheet"
    assert re.search(rb"/MediaBox \[0 0 59[45]\.\d+ 84[12]\.\d+\]", pdf.read_bytes()), "not A4"

    # page numbers on every sheet: 第 i 页 / 共 n 页
    for i, text in enumerate(texts, 1):
        assert f"第{i}页/共{n}页" in _squeeze(text), f"sheet {i} of {n} has no page number"

    # the navigation is for the screen only
    assert "返回报告目录" not in "".join(texts)

    # every caption on the same sheet as its header row and its first row
    flat, starts = "", []
    for text in texts:
        starts.append(len(flat))
        flat += _squeeze(text)

    def sheet(pos: int) -> int:
        return bisect.bisect_right(starts, pos)

    assert shown["tables"], "the page has captioned tables"
    at = 0
    for caption, head, first in shown["tables"]:
        k = flat.find(_squeeze(caption), at)
        assert k >= 0, f"caption {caption!r} not in the PDF"
        # the first two characters: a longer cell text may wrap in a narrow column
        h = flat.find(_squeeze(head)[:2], k + len(_squeeze(caption)))
        r = flat.find(_squeeze(first)[:2], h + 1)
        assert h >= 0 and r >= 0, (caption, head, first)
        assert sheet(k) == sheet(h) == sheet(r), (
            f"{caption!r} on sheet {sheet(k)}, its header on {sheet(h)}, its first row on {sheet(r)}"
        )
        at = k + 1

    # every glyph drawn: no .notdef, all printed text in the PDF, all of it in the embedded font
    assert notdef_glyphs(pdf.read_bytes()) == 0
    printed = set(_squeeze(shown["text"]))
    assert printed - set(_squeeze("".join(texts))) == set()
    cmap = _embedded_cmap(page_path.read_text(encoding="utf-8"))
    assert {c for c in printed if ord(c) not in cmap} == set()
    assert "示例数据（模拟）" in _squeeze(texts[0])  # the banner prints, on the first sheet


def test_the_glyph_check_finds_a_missing_glyph(browser, tmp_path):
    """A character no font has (an unassigned code point, a private-use one) is caught."""
    from zhengshou_analysis.report.pages import html_page

    page_path = tmp_path / "tofu.html"
    page_path.write_text(
        html_page("缺字", "<p>缺字：\u0378 与 \U000f0000</p>", demo=False), encoding="utf-8"
    )
    pdf = tmp_path / "tofu.pdf"
    _print(browser, page_path, pdf)
    assert notdef_glyphs(pdf.read_bytes()) == 2

    page_path.write_text(html_page("齐全", "<p>字形齐全：一二三</p>", demo=False), encoding="utf-8")
    _print(browser, page_path, pdf)
    assert notdef_glyphs(pdf.read_bytes()) == 0


def test_the_definitions_are_collapsed_on_screen_and_printed_in_full(browser, demo_pages):
    ctx = browser.new_context(offline=True)
    page = ctx.new_page()
    page.goto((demo_pages / "2021" / "00_overview.html").as_uri())
    details = page.locator("details.zs-defs-box")
    assert details.count() == 1
    assert not details.evaluate("d => d.open")
    term = page.locator("details.zs-defs-box dt").first
    assert not term.is_visible()  # collapsed on screen
    page.locator("details.zs-defs-box summary").click()
    assert term.is_visible()  # a click opens it
    page.reload()
    page.emulate_media(media="print")
    assert page.locator("details.zs-defs-box dt").first.is_visible()  # printed whole
    assert not page.locator("details.zs-defs-box summary").is_visible()
    ctx.close()
