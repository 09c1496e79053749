"""The work summary (工作总结) as the Word document an office sends upwards.

:func:`summary_docx_bytes` lays out one reporting period as a Chinese official document
(党政机关公文格式, in the spirit of GB/T 9704): the title, 一、完成情况 (the filled-in section of
:func:`~.summary.write_work_summary`) with the headline figures beside last year's as a real Word
table, 二、存在问题 (:func:`~.summary.write_problems`), 三、下一步研判 (the three forward answers
in plain words), 四、主要图表 (charts as pictures with captions), and the definitions (口径) as an
attachment. Everything is ordinary paragraphs, headings and tables a clerk can edit; no text box,
no field other than the page number.

Layout: A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; title 方正小标宋简体 二号
(22 pt; the font table names 宋体 as its substitute where it is not installed); body 仿宋 三号
(16 pt), first line indented two characters, lines fixed at 28.95 pt (22 lines a page); level-1
headings 黑体 三号, level-2 headings 楷体 三号; tables 宋体 小四 (12 pt), header row repeated on
every page, numbers right-aligned; page numbers ``— 1 —`` in 宋体 四号 (odd pages right, even pages
left). The East-Asian font is named on every style and every run (``w:eastAsia`` and
``w:hint="eastAsia"``) so Word and WPS pick it rather than a theme font.

The bytes are reproducible: the same period gives the same file (core properties and the zip
entries are dated at the reporting date, never at the time of writing).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docx
import pandas as pd
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from ..formatting import fmt_date_zh
from ..settings import default_as_of
from .files import atomic_write_bytes
from .summary import forward_answers, write_problems, write_work_summary
from .views import DEMO_LABEL

if TYPE_CHECKING:
    from docx.document import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    from .session import Report

__all__ = [
    "DISPATCH_FIGURES",
    "DISPATCH_ITEMS",
    "dispatch_docx_bytes",
    "dispatch_title",
    "summary_docx_bytes",
    "summary_title",
    "write_dispatch_docx",
    "write_summary_docx",
]

log = logging.getLogger(__name__)

#: Fonts (East-Asian name, Latin name) by role.
TITLE_FONT = ("方正小标宋简体", "Times New Roman")
BODY_FONT = ("仿宋", "Times New Roman")
H1_FONT = ("黑体", "Times New Roman")
H2_FONT = ("楷体", "Times New Roman")
TABLE_FONT = ("宋体", "Times New Roman")
PAGE_NUMBER_FONT = ("宋体", "Times New Roman")

#: Substitutes written into the font table for fonts a reader's machine may lack.
_ALT_NAMES = {"方正小标宋简体": "宋体", "仿宋": "仿宋_GB2312", "楷体": "楷体_GB2312"}

_ER_HAO, _SAN_HAO, _SI_HAO, _XIAO_SI = Pt(22), Pt(16), Pt(14), Pt(12)
_LINE = Pt(28.95)  # 22 lines on the A4 type area
_TABLE_LINE = Pt(20)
_INDENT = Pt(32)  # two characters of 三号

_H1_NUMBERS = "一二三四五六七八九十"


def _cn(i: int) -> str:
    """1 → ``一`` … 10 → ``十`` (headings and problems never go beyond ten)."""
    return _H1_NUMBERS[i - 1]


# --------------------------------------------------------------------------------- fonts
def _set_fonts(rpr, fonts: tuple[str, str]) -> None:
    """Name the East-Asian and Latin fonts on a ``w:rPr`` (style or run), without theme fonts."""
    east, latin = fonts
    rfonts = rpr.get_or_add_rFonts()
    for attr in list(rfonts.attrib):
        if attr.endswith("Theme"):  # a theme font would win over the names below
            del rfonts.attrib[attr]
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:cs"), latin)
    rfonts.set(qn("w:eastAsia"), east)
    rfonts.set(qn("w:hint"), "eastAsia")


def _run(
    p: Paragraph, text: str, fonts: tuple[str, str], size: Pt, *, color: RGBColor | None = None
):
    """A run of plain ``text`` (escaped by python-docx, never a field) with its fonts named."""
    r = p.add_run(text)
    _set_fonts(r._r.get_or_add_rPr(), fonts)
    r.font.size = size
    if color is not None:
        r.font.color.rgb = color
    return r


def _style_fonts(style, fonts: tuple[str, str], size: Pt, *, bold: bool = False) -> None:
    _set_fonts(style.element.get_or_add_rPr(), fonts)
    style.font.size = size
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)


def _paragraph_format(style, *, indent: bool, line: Pt = _LINE, align=WD_ALIGN_PARAGRAPH.JUSTIFY):
    pf = style.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = line
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.first_line_indent = _INDENT if indent else Pt(0)
    pf.alignment = align
    pf.widow_control = True
    if indent:  # in characters too, so the indent follows a changed font size
        ind = style.element.get_or_add_pPr().get_or_add_ind()
        ind.set(qn("w:firstLineChars"), "200")


def _setup_styles(doc: Document) -> None:
    styles = doc.styles
    # document defaults: explicit fonts instead of theme fonts, Chinese as the East-Asian language
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr, BODY_FONT)
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:val"), "en-US")

    normal = styles["Normal"]
    _style_fonts(normal, BODY_FONT, _SAN_HAO)
    _paragraph_format(normal, indent=True)

    for name, fonts in (("Heading 1", H1_FONT), ("Heading 2", H2_FONT)):
        st = styles[name]
        _style_fonts(st, fonts, _SAN_HAO)
        _paragraph_format(st, indent=True, align=WD_ALIGN_PARAGRAPH.LEFT)
        st.paragraph_format.keep_with_next = True

    title = styles["Title"]
    _style_fonts(title, TITLE_FONT, _ER_HAO)
    _paragraph_format(title, indent=False, line=Pt(36), align=WD_ALIGN_PARAGRAPH.CENTER)
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):  # the template underlines its title
        ppr.remove(border)

    caption = styles["Caption"]
    _style_fonts(caption, H1_FONT, _SI_HAO)
    _paragraph_format(caption, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)

    for name, fonts, size in (
        ("Header", H1_FONT, _XIAO_SI),
        ("Footer", PAGE_NUMBER_FONT, _SI_HAO),
    ):
        st = styles[name]
        _style_fonts(st, fonts, size)
        _paragraph_format(st, indent=False, line=Pt(18), align=WD_ALIGN_PARAGRAPH.CENTER)

    table_text = styles.add_style("表格文字", WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    _style_fonts(table_text, TABLE_FONT, _XIAO_SI)
    _paragraph_format(table_text, indent=False, line=_TABLE_LINE, align=WD_ALIGN_PARAGRAPH.LEFT)
    ind = table_text.element.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), "0")

    picture = styles.add_style("图片", WD_STYLE_TYPE.PARAGRAPH)
    picture.base_style = normal
    pf = picture.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.SINGLE  # a fixed line height would crop the picture
    pf.first_line_indent = Pt(0)
    pf.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pf.keep_with_next = True  # the caption stays with its picture
    picture.element.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "0")

    appendix = styles.add_style("口径", WD_STYLE_TYPE.PARAGRAPH)
    appendix.base_style = normal
    _style_fonts(appendix, BODY_FONT, _SI_HAO)
    _paragraph_format(appendix, indent=True, line=Pt(24))
    appendix.element.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "200")


# ------------------------------------------------------------------------------ page setup
def _page_setup(doc: Document) -> None:
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(18), Mm(24)
    sec.gutter = Mm(0)
    doc.settings.odd_and_even_pages_header_footer = True
    settings = doc.settings.element
    font_lang = settings.find(qn("w:themeFontLang"))
    if font_lang is not None:
        font_lang.set(qn("w:eastAsia"), "zh-CN")


def _page_number(p: Paragraph) -> None:
    """``— PAGE —`` with PAGE a Word field (its cached result is 1)."""

    def field_char(kind: str):
        r = _run(p, "", PAGE_NUMBER_FONT, _SI_HAO)
        fc = OxmlElement("w:fldChar")
        fc.set(qn("w:fldCharType"), kind)
        r._r.append(fc)
        return r

    _run(p, "— ", PAGE_NUMBER_FONT, _SI_HAO)
    field_char("begin")
    r = _run(p, "", PAGE_NUMBER_FONT, _SI_HAO)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    r._r.append(instr)
    field_char("separate")
    _run(p, "1", PAGE_NUMBER_FONT, _SI_HAO)
    field_char("end")
    _run(p, " —", PAGE_NUMBER_FONT, _SI_HAO)


def _headers_and_footers(doc: Document, *, demo: bool) -> None:
    sec = doc.sections[0]
    for header in (sec.header, sec.even_page_header):
        p = header.paragraphs[0]
        p.style = doc.styles["Header"]
        if demo:
            _run(p, f"{DEMO_LABEL}　本文件数字均为模拟生成，非真实统计", H1_FONT, _XIAO_SI)
    # 公文: odd pages right with one character of space, even pages left
    for footer, align, side in (
        (sec.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
        (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left"),
    ):
        p = footer.paragraphs[0]
        p.style = doc.styles["Footer"]
        p.alignment = align
        if side == "right":
            p.paragraph_format.right_indent = _SI_HAO
        else:
            p.paragraph_format.left_indent = _SI_HAO
        _page_number(p)


# ------------------------------------------------------------------------------- content
def summary_title(rep: Report) -> str:
    """``XX区2021年土地房屋征收工作总结``; ``（截至2021年6月30日）`` for a date before year-end."""
    title = f"{rep.office}{rep.year}年土地房屋征收工作总结"
    if pd.Timestamp(rep.as_of) != default_as_of(rep.year):
        title += f"（截至{fmt_date_zh(rep.as_of)}）"
    return title


def _body(doc: Document, text: str) -> Paragraph:
    p = doc.add_paragraph(style=doc.styles["Normal"])
    _run(p, text, BODY_FONT, _SAN_HAO)
    return p


def _heading(doc: Document, text: str, level: int) -> Paragraph:
    p = doc.add_paragraph(style=doc.styles[f"Heading {level}"])
    _run(p, text, H1_FONT if level == 1 else H2_FONT, _SAN_HAO)
    return p


def _caption(doc: Document, text: str, *, above: bool) -> Paragraph:
    p = doc.add_paragraph(style=doc.styles["Caption"])
    p.paragraph_format.keep_with_next = above  # a table caption stays with its table
    _run(p, text, H1_FONT, _SI_HAO)
    return p


def _cell(cell, text: str, *, align, header: bool = False) -> None:
    p = cell.paragraphs[0]
    p.style = cell.part.document.styles["表格文字"]
    p.alignment = align
    _run(p, text, H1_FONT if header else TABLE_FONT, _XIAO_SI)


#: Column widths of the key-figures table (the type area is 156 mm wide).
_KEY_WIDTHS = (Mm(64), Mm(29), Mm(29), Mm(34))


def _key_table(doc: Document, frame: pd.DataFrame) -> Table:
    """The headline figures as an editable table: labels left, numbers right, header repeated."""
    table = doc.add_table(rows=1, cols=len(frame.columns))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    head = table.rows[0]
    trpr = head._tr.get_or_add_trPr()
    for tag in ("w:tblHeader", "w:cantSplit"):
        el = OxmlElement(tag)
        trpr.append(el)
    for cell, name in zip(head.cells, frame.columns, strict=True):
        _cell(cell, str(name), align=WD_ALIGN_PARAGRAPH.CENTER, header=True)
    for values in frame.itertuples(index=False):
        row = table.add_row()
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for i, (cell, v) in enumerate(zip(row.cells, values, strict=True)):
            align = WD_ALIGN_PARAGRAPH.LEFT if i == 0 else WD_ALIGN_PARAGRAPH.RIGHT
            _cell(cell, str(v), align=align)
    for column, width in zip(table.columns, _KEY_WIDTHS, strict=False):
        column.width = width  # the grid: LibreOffice and WPS lay out by it
    for row in table.rows:
        for cell, width in zip(row.cells, _KEY_WIDTHS, strict=False):
            cell.width = width  # the cells: Word lays out by them
    return table


# -------------------------------------------------------------------------------- charts
def _chart_png(draw: Callable[[Any], None], *, size: tuple[float, float]) -> bytes:
    """Draw with the house style on a figure of its own (pyplot's state untouched) → PNG bytes."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .plots import use_report_style

    with mpl.rc_context():
        use_report_style()
        fig = Figure(figsize=size, dpi=100)
        FigureCanvasAgg(fig)  # a renderer of its own: the plots measure their labels
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _charts(rep: Report) -> list[tuple[str, bytes]]:
    """2–3 charts of the period, each (caption without number, PNG), only those the data allow."""
    from ..figures import age_band_labels_zh, compute_progress
    from .plots import plot_bar_pair, plot_bars, plot_monthly_inflows

    a = rep.analysis
    out: list[tuple[str, bytes]] = []
    projects = a.tables.get("projects")
    if a.provided.get("projects") and projects is not None:
        by_zone = compute_progress(projects, year=rep.year, by="zone")
        if len(by_zone):

            def progress(fig) -> None:
                plot_bar_pair(
                    by_zone,
                    label="zone",
                    values={"land_target_mu": "征地任务（亩）", "land_done_mu": "已完成征地（亩）"},
                    unit="亩",
                    scale=1,
                    axes=fig.subplots(1, 2, sharey=True),
                )
                fig.tight_layout()

            out.append(
                (f"{rep.year}年各片区征地任务与完成情况", _chart_png(progress, size=(9, 3.6)))
            )
    if a.provided.get("agreements"):
        by_age = a.overdue_by_age().assign(
            age_band_zh=age_band_labels_zh(a.policy.age_bands_months)
        )
        if (by_age["overdue_unpaid_yuan"].fillna(0) > 0).any():

            def overdue(fig) -> None:
                ax = fig.subplots()
                plot_bars(
                    by_age,
                    label="age_band_zh",
                    value="overdue_unpaid_yuan",
                    title="",
                    horizontal=False,
                    ax=ax,
                )
                ax.set_xlabel("逾期时长")

            out.append(("逾期未付补偿款按逾期时长（万元）", _chart_png(overdue, size=(9, 3.4))))
    if a.provided.get("funding"):
        history = a.inflows.frames["history"]
        if len(history):

            def inflows(fig) -> None:
                ax = fig.subplots()
                plot_monthly_inflows(history, forecast=a.inflows.summary, title="", ax=ax)

            out.append(("征拆资金月度到位情况与预测（万元）", _chart_png(inflows, size=(9, 3.8))))
    return out


# ------------------------------------------------------------------------------ document
def _build(rep: Report) -> Document:
    from .session import definitions, headline_table

    a = rep.analysis
    doc = docx.Document()
    _page_setup(doc)
    _setup_styles(doc)
    _headers_and_footers(doc, demo=rep.demo)
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):  # the template's empty first paragraph
        body.remove(p)

    if rep.demo:
        p = doc.add_paragraph(style=doc.styles["Caption"])
        _run(p, DEMO_LABEL, H1_FONT, _SAN_HAO, color=RGBColor(0xC2, 0x3B, 0x22))
        _run(p, "（本文件数字均为模拟生成，非真实统计）", BODY_FONT, _SI_HAO)
    title = summary_title(rep)
    p = doc.add_paragraph(style=doc.styles["Title"])
    _run(p, title, TITLE_FONT, _ER_HAO)
    p = doc.add_paragraph(style=doc.styles["Caption"])
    p.paragraph_format.space_after = _LINE
    _run(p, f"（统计截止日：{fmt_date_zh(rep.as_of)}）", H2_FONT, _SAN_HAO)

    # 一、完成情况
    ws = write_work_summary(year=rep.year, analysis=a)
    _heading(doc, "一、完成情况", 1)
    for text in ws.paragraphs:
        _body(doc, text)
    table = headline_table(rep)
    _caption(doc, f"表1 主要指标与上年对比（截至{fmt_date_zh(rep.as_of)}）", above=True)
    _key_table(doc, table)
    _body(doc, "注：金额单位为万元，面积单位为亩或万平方米；“—”表示台账未提供或无法计算。")

    # 二、存在问题
    _heading(doc, "二、存在问题", 1)
    problems = write_problems(a)
    if not problems:
        _body(
            doc,
            "按台账数字，未发现补偿款逾期未付、过渡安置费拖欠、安置区超过3年未交付或征地卡点等问题。",
        )
    for i, problem in enumerate(problems, start=1):
        _heading(doc, f"（{_cn(i)}）{problem.title}", 2)
        _body(doc, problem.text)

    # 三、下一步研判
    _heading(doc, "三、下一步研判", 1)
    _body(
        doc,
        "以下为带不确定性的预测：“一半把握”是一半可能更早（更少）、一半可能更晚（更多）；"
        "“九成把握”是较保守的估计。",
    )
    answers = forward_answers(a.gap, a.delivery_forecast, previous=a.previous_forecast)
    for i, (question, answer) in enumerate(answers, start=1):
        _heading(doc, f"（{_cn(i)}）{question}", 2)
        _body(doc, answer)

    # 四、主要图表
    charts = _charts(rep)
    if charts:
        _heading(doc, "四、主要图表", 1)
        for i, (caption, png) in enumerate(charts, start=1):
            p = doc.add_paragraph(style=doc.styles["图片"])
            p.add_run().add_picture(io.BytesIO(png), width=Mm(140))
            _caption(doc, f"图{i} {caption}", above=False)

    # 附件：指标口径 (a new page, 附件 at the top left as official documents put it)
    p = doc.add_paragraph(style=doc.styles["Normal"])
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.page_break_before = True
    _run(p, "附件", H1_FONT, _SAN_HAO)
    p = doc.add_paragraph(style=doc.styles["Title"])
    p.paragraph_format.space_after = _LINE
    _run(p, "指标口径", TITLE_FONT, _ER_HAO)
    for label, definition in definitions(rep):
        p = doc.add_paragraph(style=doc.styles["口径"])
        _run(p, f"{label}：", H1_FONT, _SI_HAO)
        _run(p, definition, BODY_FONT, _SI_HAO)

    _core_properties(doc, rep, title)
    _drop_thumbnail(doc)
    return doc


def _reporting_datetime(rep: Report) -> dt.datetime:
    """The reporting date at midnight (UTC as the core properties store it): never the time now."""
    ts = pd.Timestamp(rep.as_of)
    return dt.datetime(ts.year, ts.month, ts.day, tzinfo=dt.UTC)


def _core_properties(doc: Document, rep: Report, title: str) -> None:
    cp = doc.core_properties
    cp.title = title
    cp.subject = "土地房屋征收工作总结" + (f"（{DEMO_LABEL}）" if rep.demo else "")
    cp.author = rep.office
    cp.last_modified_by = rep.office
    cp.comments = DEMO_LABEL if rep.demo else ""
    cp.keywords = "工作总结"
    cp.category = "工作总结"
    cp.language = "zh-CN"
    cp.revision = 1
    when = _reporting_datetime(rep)
    cp.created = when
    cp.modified = when


def _drop_thumbnail(doc: Document) -> None:
    """Drop the template's thumbnail (a picture of an empty English page)."""
    rels = doc.part.package.rels
    for rid in [rid for rid, rel in rels.items() if rel.reltype == RT.THUMBNAIL]:
        del rels[rid]


_FONT_TABLE = "word/fontTable.xml"


def _font_table(xml: bytes) -> bytes:
    """The font table with the Chinese fonts declared (GB2312 charset) and their substitutes."""
    entries = []
    for name in dict.fromkeys(
        f[0] for f in (TITLE_FONT, BODY_FONT, H1_FONT, H2_FONT, TABLE_FONT, PAGE_NUMBER_FONT)
    ):
        if f'w:name="{name}"'.encode() in xml:
            continue
        alt = _ALT_NAMES.get(name)
        alt_xml = f'<w:altName w:val="{alt}"/>' if alt else ""
        family = "modern" if name == "黑体" else "roman"
        entries.append(
            f'<w:font w:name="{name}">{alt_xml}<w:charset w:val="86"/>'
            f'<w:family w:val="{family}"/><w:pitch w:val="variable"/></w:font>'
        )
    return re.sub(rb"</w:fonts>\s*$", ("".join(entries) + "</w:fonts>").encode(), xml)


def _fixed_zip(data: bytes, when: dt.datetime) -> bytes:
    """The package re-zipped with every entry dated ``when`` (python-docx stamps the time now)."""
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == _FONT_TABLE:
                blob = _font_table(blob)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            dst.writestr(entry, blob)
    return out.getvalue()


def summary_docx_bytes(rep: Report) -> bytes:
    """The period's work summary as a .docx file, in official-document layout.

    Parameters
    ----------
    rep
        The reporting context (:func:`~.session.load_report`); its analysis is computed once and
        shared with whatever else the caller writes.

    Returns
    -------
    bytes
        The .docx content. The same period gives the same bytes: the core properties (title,
        author = the office, created and modified = the reporting date) and the zip entries carry
        no time of writing.

    Notes
    -----
    Every number comes from the period's figures: the table is the overview's headline table
    (:func:`~.session.headline_table`, the numbers of ``key_figures.json`` formatted as on the
    pages), the prose is :func:`~.summary.write_work_summary`, :func:`~.summary.write_problems`
    and :func:`~.summary.forward_answers`. Ledger text (site names) goes into runs as plain text.
    """
    doc = _build(rep)
    buf = io.BytesIO()
    doc.save(buf)
    data = _fixed_zip(buf.getvalue(), _reporting_datetime(rep))
    log.info("work summary .docx %s %s: %d bytes", rep.office, rep.year, len(data))
    return data


def write_summary_docx(rep: Report, path: str | Path) -> None:
    """Write :func:`summary_docx_bytes` to ``path`` atomically (temporary file and rename).

    The batch names the file ``files.office_file_name("工作总结", rep.office, str(rep.year),
    ".docx")`` (``工作总结_港北区_2021.docx``).
    """
    atomic_write_bytes(Path(path), summary_docx_bytes(rep))


# =============================================================================================
# the month's dispatch brief (调度简报): one A4 page


#: The key figures the brief shows (the page shows every headline figure): money, arrears, sites.
DISPATCH_FIGURES = (
    "signed_agreements_yuan",
    "unpaid_gap_yuan",
    "overdue_unpaid_yuan",
    "funds_received_yuan",
    "funds_in_place_ratio",
    "transition_fee_arrears_yuan",
    "sites_overdue",
    "households_waiting",
)
#: At most this many items of each list; fewer when the page would overflow (:func:`_brief_fits`).
DISPATCH_ITEMS = 3
#: At most this many sites named in the forecast-drift sentence.
DISPATCH_DRIFT_SITES = 2

_BRIEF_BODY = Pt(12)  # 仿宋 小四
_BRIEF_LINE = Pt(18)
_BRIEF_H1 = Pt(14)  # 黑体 四号
_BRIEF_H1_LINE = Pt(20)
_BRIEF_TABLE = Pt(10.5)  # 宋体 五号
_BRIEF_TABLE_LINE = Pt(13.5)
_BRIEF_TITLE_LINE = Pt(30)
_BRIEF_META_LINE = Pt(20)
#: The type area of the page (297 − 37 − 35 mm high, 210 − 28 − 26 mm wide), in points.
_AREA_HEIGHT = Mm(297 - 37 - 35).pt
_AREA_WIDTH = Mm(210 - 28 - 26).pt
#: Column widths (mm, 156 in all) of the key-figure and the list tables.
_BRIEF_KEY_WIDTHS = (64, 30, 31, 31)
_BRIEF_LIST_WIDTHS = (40, 56, 26, 34)
#: Left and right cell margin of the brief's tables: 1 mm (57 twips; Word's default is 1.9 mm).
_BRIEF_CELL_MARGIN_TWIPS = 57


def dispatch_title(rep: Report) -> str:
    """``XX区2021年6月征收工作调度简报`` (the office, the year and month of the reporting date)."""
    ts = pd.Timestamp(rep.as_of)
    return f"{rep.office}{ts.year}年{ts.month}月征收工作调度简报"


def _text_width(text: str, size: float) -> float:
    """Width in points of ``text`` at ``size``: a CJK character is one em, ASCII half an em."""
    return sum(size * (0.5 if ord(ch) < 0x2E80 else 1.0) for ch in text)


def _lines(text: str, size: float, width: float, *, indent: float = 0.0) -> int:
    """Lines ``text`` takes in a column ``width`` points wide (first line indented by ``indent``)."""
    if not text:
        return 1
    used = _text_width(text, size) + indent
    return max(1, -int(-used // (width * 0.97)))  # a little slack for line breaking rules


def _setup_brief_styles(doc: Document) -> None:
    """The brief's compact styles: body 仿宋 小四, headings 黑体 四号, tables 宋体 五号."""
    styles = doc.styles
    body = styles.add_style("简报正文", WD_STYLE_TYPE.PARAGRAPH)
    body.base_style = styles["Normal"]
    _style_fonts(body, BODY_FONT, _BRIEF_BODY)
    _paragraph_format(body, indent=True, line=_BRIEF_LINE)
    heading = styles.add_style("简报标题一", WD_STYLE_TYPE.PARAGRAPH)
    heading.base_style = styles["Normal"]
    _style_fonts(heading, H1_FONT, _BRIEF_H1)
    _paragraph_format(heading, indent=False, line=_BRIEF_H1_LINE, align=WD_ALIGN_PARAGRAPH.LEFT)
    heading.element.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "0")
    heading.paragraph_format.keep_with_next = True
    table = styles.add_style("简报表格", WD_STYLE_TYPE.PARAGRAPH)
    table.base_style = styles["Normal"]
    _style_fonts(table, TABLE_FONT, _BRIEF_TABLE)
    _paragraph_format(table, indent=False, line=_BRIEF_TABLE_LINE, align=WD_ALIGN_PARAGRAPH.LEFT)
    table.element.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "0")


def _brief_cell(cell, text: str, *, align, header: bool = False) -> None:
    p = cell.paragraphs[0]
    p.style = cell.part.document.styles["简报表格"]
    p.alignment = align
    _run(p, text, H1_FONT if header else TABLE_FONT, _BRIEF_TABLE)


def _brief_table(
    doc: Document,
    header: list[str],
    rows: list[list[str]],
    widths: tuple[int, ...],
    *,
    right: frozenset[int] = frozenset(),
    heads: Sequence[int] = (),
) -> Table:
    """A compact table: header row repeated, rows that do not split, ``right`` columns right-aligned.

    The body rows listed in ``heads`` (0-based) are one cell across the table, bold: a list's
    name and totals above its items (their text is the row's first value).
    """
    table = doc.add_table(rows=1, cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    margins = OxmlElement("w:tblCellMar")  # narrow cell margins: more text on a line
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(_BRIEF_CELL_MARGIN_TWIPS))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    table._tbl.tblPr.append(margins)
    trpr = table.rows[0]._tr.get_or_add_trPr()
    for tag in ("w:tblHeader", "w:cantSplit"):
        trpr.append(OxmlElement(tag))
    for cell, name in zip(table.rows[0].cells, header, strict=True):
        _brief_cell(cell, name, align=WD_ALIGN_PARAGRAPH.CENTER, header=True)
    for r, values in enumerate(rows):
        row = table.add_row()
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        if r in heads:
            cell = row.cells[0].merge(row.cells[-1])
            _brief_cell(cell, values[0], align=WD_ALIGN_PARAGRAPH.LEFT, header=True)
            continue
        for i, (cell, v) in enumerate(zip(row.cells, values, strict=True)):
            align = WD_ALIGN_PARAGRAPH.RIGHT if i in right else WD_ALIGN_PARAGRAPH.LEFT
            _brief_cell(cell, v, align=align)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Mm(width)
    for r, row in enumerate(table.rows):
        if r - 1 in heads:
            row.cells[0].width = Mm(sum(widths))
            continue
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Mm(width)
    return table


def _table_height(rows: list[list[str]], widths: tuple[int, ...], heads: Sequence[int]) -> float:
    """Estimated height (pt) of a brief table (``rows`` with its header first): each row as tall
    as its longest cell needs; a row of ``heads`` (0-based body rows) is one cell across."""
    pad = 2 * _BRIEF_CELL_MARGIN_TWIPS / 20  # the cells' left and right margins (pt)
    line = _BRIEF_TABLE_LINE.pt + 1.0  # and a border
    height = 0.0
    for r, values in enumerate(rows):
        if r - 1 in heads:
            height += _lines(values[0], _BRIEF_TABLE.pt, Mm(sum(widths)).pt - pad) * line
            continue
        n = max(
            _lines(v, _BRIEF_TABLE.pt, Mm(w).pt - pad) for v, w in zip(values, widths, strict=True)
        )
        height += n * line
    return height


def _dispatch_key_rows(rep: Report) -> list[list[str]]:
    from .session import format_change
    from .tables import page_table
    from .views import FORMATS

    kf = page_table(rep, "dispatch_key_figures")
    kf = kf.loc[kf["name"].isin(DISPATCH_FIGURES)]
    return [
        [
            str(r.label),
            FORMATS[r.kind](r.now),
            format_change(r.change_since_last_month, r.kind),
            format_change(r.change_since_year_start, r.kind),
        ]
        for r in kf.itertuples(index=False)
    ]


def _place(project: Any, zone: Any) -> tuple[str, str]:
    na = "—"
    return (na if pd.isna(project) else str(project), na if pd.isna(zone) else str(zone))


def _dispatch_lists(rep: Report, cap: int) -> tuple[list[list[str]], list[int]]:
    """The rows of the list table (at most ``cap`` items a list) and which rows are list heads."""
    from ..figures.dispatch import (
        blocked_projects,
        new_fee_arrears,
        overdue_agreements,
        overdue_sites,
    )
    from ..formatting import fmt_count, fmt_months, fmt_mu, fmt_wan_yuan, fmt_yuan_prose

    a = rep.analysis
    rows: list[list[str]] = []
    heads: list[int] = []

    def add(head: str, items: list[list[str]], total: int) -> None:
        shown = items[:cap]
        more = total - len(shown)
        if not total:
            head += "：无"
        elif more > 0:
            head += f"；列出前{fmt_count(len(shown))}项，另有{fmt_count(more)}项"
        heads.append(len(rows))
        rows.append([head, "", "", ""])
        rows.extend(shown)

    od = overdue_agreements(a)
    new = int(od["new_this_month"].sum())
    add(
        f"（一）逾期未付补偿款的协议{fmt_count(len(od))}份、"
        f"{fmt_yuan_prose(od['unpaid_yuan'].sum())}，本月新增{fmt_count(new)}份",
        [
            [
                str(r.agreement_id),
                *_place(r.project_name, r.zone),
                f"未付{fmt_wan_yuan(r.unpaid_yuan)}",
            ]
            for r in od.head(cap).itertuples(index=False)
        ],
        len(od),
    )
    st = overdue_sites(a)
    add(
        f"（二）逾期未交付的安置区{fmt_count(len(st))}个",
        [
            [str(r.site_name), "—", _place(None, r.zone)[1], f"逾期{fmt_months(r.late_months)}"]
            for r in st.head(cap).itertuples(index=False)
        ],
        len(st),
    )
    bl = blocked_projects(a)
    add(
        f"（三）存在卡点的项目{fmt_count(len(bl))}个，卡点面积{fmt_mu(bl['blocked_mu'].sum())}",
        [
            [str(r.blocker), *_place(r.project_name, r.zone), fmt_mu(r.blocked_mu)]
            for r in bl.head(cap).itertuples(index=False)
        ],
        len(bl),
    )
    fa = new_fee_arrears(a)
    add(
        f"（四）本月新出现过渡安置费拖欠的过渡户{fmt_count(len(fa))}户，"
        f"拖欠{fmt_yuan_prose(fa['arrears_yuan'].sum())}",
        [
            [
                str(r.agreement_id),
                *_place(r.project_name, r.zone),
                f"拖欠{fmt_wan_yuan(r.arrears_yuan)}",
            ]
            for r in fa.head(cap).itertuples(index=False)
        ],
        len(fa),
    )
    return rows, heads


_LIST_HEADER = ["事项", "所属项目", "片区", "情况"]
_KEY_HEADER = ["指标", "本月末", "比上月末", "比上年末"]


def _dispatch_text(rep: Report) -> tuple[str, str]:
    """The movements paragraph and the forecast-drift sentence of the brief."""
    from ..figures.dispatch import (
        delivery_drift,
        drift_statement,
        gap_drift,
        last_month_analysis,
        month_movements,
        month_of,
        movements_statement,
    )

    a = rep.analysis
    moves = movements_statement(month_movements(a), month_of(a.as_of))
    last = last_month_analysis(a)
    if last is None:
        drift = "上月末台账没有记录，无上月预测可比。"
    else:
        drift = drift_statement(
            delivery_drift(a, last), gap_drift(a, last), max_sites=DISPATCH_DRIFT_SITES
        )
    return moves, drift


def _brief_meta(rep: Report) -> str:
    return f"统计截止日：{fmt_date_zh(rep.as_of)}"


def _brief_height(
    key_rows, list_rows, heads, moves: str, drift: str, title: str, meta: str
) -> float:
    """Estimated height (pt) of the brief's content on the type area."""
    h = _lines(title, _ER_HAO.pt, _AREA_WIDTH) * _BRIEF_TITLE_LINE.pt
    h += _lines(meta, _BRIEF_BODY.pt, _AREA_WIDTH) * _BRIEF_META_LINE.pt
    h += 4 * _BRIEF_H1_LINE.pt
    h += _table_height([_KEY_HEADER, *key_rows], _BRIEF_KEY_WIDTHS, ())
    h += _table_height([_LIST_HEADER, *list_rows], _BRIEF_LIST_WIDTHS, heads)
    for text in (moves, drift):
        h += _lines(text, _BRIEF_BODY.pt, _AREA_WIDTH, indent=2 * _BRIEF_BODY.pt) * _BRIEF_LINE.pt
    return h


def _build_dispatch(rep: Report) -> tuple[Document, dict[str, Any]]:
    """The brief, and how it was fitted (items per list, estimated height, the type area)."""
    doc = docx.Document()
    _page_setup(doc)
    _setup_styles(doc)
    _setup_brief_styles(doc)
    _headers_and_footers(doc, demo=rep.demo)
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)

    title = dispatch_title(rep)
    meta = (f"{DEMO_LABEL}　" if rep.demo else "") + _brief_meta(rep)
    key_rows = _dispatch_key_rows(rep)
    moves, drift = _dispatch_text(rep)
    # the most items a list that fit (fewer items need not be shorter: a list's totals stand in
    # one merged cell beside its items); none fits: the shortest
    fits = []
    for cap in range(DISPATCH_ITEMS, 0, -1):
        list_rows, heads = _dispatch_lists(rep, cap)
        height = _brief_height(key_rows, list_rows, heads, moves, drift, title, meta)
        fits.append((height > _AREA_HEIGHT, height if height > _AREA_HEIGHT else 0.0, -cap))
    cap = -min(fits)[2]
    list_rows, heads = _dispatch_lists(rep, cap)
    height = _brief_height(key_rows, list_rows, heads, moves, drift, title, meta)
    if height > _AREA_HEIGHT:
        log.warning("dispatch brief %s: estimated %.0f pt > %.0f pt", title, height, _AREA_HEIGHT)

    p = doc.add_paragraph(style=doc.styles["Title"])
    p.paragraph_format.line_spacing = _BRIEF_TITLE_LINE
    _run(p, title, TITLE_FONT, _ER_HAO)
    p = doc.add_paragraph(style=doc.styles["Caption"])
    p.paragraph_format.line_spacing = _BRIEF_META_LINE
    if rep.demo:  # the label under the title (and in the page header)
        _run(p, DEMO_LABEL, H1_FONT, _BRIEF_BODY, color=RGBColor(0xC2, 0x3B, 0x22))
        _run(p, "　", H2_FONT, _BRIEF_BODY)
    _run(p, _brief_meta(rep), H2_FONT, _BRIEF_BODY)

    def heading(text: str) -> None:
        _run(doc.add_paragraph(style=doc.styles["简报标题一"]), text, H1_FONT, _BRIEF_H1)

    def para(text: str) -> None:
        _run(doc.add_paragraph(style=doc.styles["简报正文"]), text, BODY_FONT, _BRIEF_BODY)

    heading("一、本月主要指标（金额单位：万元；比率的变化以百分点计）")
    _brief_table(doc, _KEY_HEADER, key_rows, _BRIEF_KEY_WIDTHS, right=frozenset({1, 2, 3}))
    heading("二、本月进展")
    para(moves)
    heading("三、待办清单（各清单全部条目及台账来源行见本月调度简报页面）")
    _brief_table(
        doc,
        _LIST_HEADER,
        list_rows,
        _BRIEF_LIST_WIDTHS,
        right=frozenset({3}),
        heads=heads,
    )
    heading("四、预测变化")
    para(drift)
    _core_properties(doc, rep, title)
    cp = doc.core_properties
    cp.subject = "征收工作调度简报" + (f"（{DEMO_LABEL}）" if rep.demo else "")
    cp.keywords = cp.category = "调度简报"
    _drop_thumbnail(doc)
    return doc, {"items": cap, "height_pt": height, "area_pt": _AREA_HEIGHT}


def dispatch_docx_bytes(rep: Report) -> bytes:
    """The month's dispatch brief (调度简报) as a one-page .docx, in official-document layout.

    Parameters
    ----------
    rep
        The month's reporting context (:func:`~.session.load_report` with ``as_of`` the month's
        last day); its analysis, and last month's (:func:`~..figures.dispatch.last_month_analysis`),
        are shared with the dispatch page's tables.

    Returns
    -------
    bytes
        The .docx content: A4 with the work summary's margins, page number and demo header; the
        title ``<office><yyyy>年<m>月征收工作调度简报``; 一、本月主要指标 (the key figures of
        :data:`DISPATCH_FIGURES` at month-end with their changes since last month and since the
        year's start), 二、本月进展 (:func:`~..figures.dispatch.movements_statement`), 三、待办清单
        (one table: each list's totals beside its largest items, at most :data:`DISPATCH_ITEMS`
        each, fewer when the estimated height would leave the page, and how many more there
        are), 四、预测变化 (:func:`~..figures.dispatch.drift_statement`). Body 仿宋 小四, headings
        黑体 四号, tables 宋体 五号 so that it fits one page. The same inputs give the same bytes.
    """
    doc, fit = _build_dispatch(rep)
    buf = io.BytesIO()
    doc.save(buf)
    data = _fixed_zip(buf.getvalue(), _reporting_datetime(rep))
    log.info(
        "dispatch brief .docx %s %s: %d bytes, %d items a list, about %.0f of %.0f pt",
        rep.office,
        pd.Timestamp(rep.as_of).date(),
        len(data),
        fit["items"],
        fit["height_pt"],
        fit["area_pt"],
    )
    return data


def write_dispatch_docx(rep: Report, path: str | Path) -> None:
    """Write :func:`dispatch_docx_bytes` to ``path`` atomically (temporary file and rename).

    The batch names the file ``files.office_file_name("调度简报", rep.office, "2021-06",
    ".docx")`` (``调度简报_港北区_2021-06.docx``).
    """
    atomic_write_bytes(Path(path), dispatch_docx_bytes(rep))
