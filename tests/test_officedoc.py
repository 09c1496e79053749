"""The work summary as a Word document (report/officedoc.py), read back with python-docx."""

from __future__ import annotations

import datetime as dt
import doctest
import io
import re
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import docx
import pandas as pd
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm
from hypothesis import given
from hypothesis import strategies as st
from test_summary import tables  # noqa: F401 (the hand-computed district, as a fixture)

from zhengshou_analysis import formatting
from zhengshou_analysis.figures import FIGURES, Analysis
from zhengshou_analysis.formatting import fmt_yuan_prose
from zhengshou_analysis.ledger.clean import CleanResult
from zhengshou_analysis.report.files import office_file_name
from zhengshou_analysis.report.officedoc import (
    summary_docx_bytes,
    summary_title,
    write_summary_docx,
)
from zhengshou_analysis.report.session import Report, headline_figures, load_report
from zhengshou_analysis.report.summary import write_problems
from zhengshou_analysis.report.views import DEMO_LABEL, FORMATS

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


# ------------------------------------------------------------------------ fmt_yuan_prose
@pytest.mark.parametrize(
    ("yuan", "text"),
    [
        (1_299_752_037.0, "13.00亿元"),
        (1_294_999_999.0, "12.95亿元"),
        (12_345_678.9, "1,234.57万元"),
        (99_994_999.0, "9,999.50万元"),
        (99_999_999.0, "1.00亿元"),  # rounds to 10,000.00万元: written in 亿元
        (100_000_000, "1.00亿元"),
        (123_456_789_012.0, "1,234.57亿元"),
        (1250.0, "0.13万元"),
        (0, "0.00万元"),
        (-1.0, "0.00万元"),  # never -0.00
        (-3_500_000, "-350.00万元"),
        (-250_000_000.0, "-2.50亿元"),
        (None, "—"),
        (float("nan"), "—"),
        (pd.NA, "—"),
    ],
)
def test_fmt_yuan_prose(yuan, text):
    assert fmt_yuan_prose(yuan) == text


def test_fmt_yuan_prose_doctest():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(formatting.fmt_yuan_prose, "fmt_yuan_prose", globs={}):
        test.globs = {"fmt_yuan_prose": fmt_yuan_prose}
        runner.run(test)
    assert runner.failures == 0
    assert runner.tries >= 5


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_fmt_yuan_prose_reads_back(fen):
    yuan = Decimal(fen) / 100
    text = fmt_yuan_prose(float(yuan))
    m = re.fullmatch(r"(-?)(\d{1,3}(?:,\d{3})*)\.(\d{2})(亿元|万元)", text)
    assert m, text
    number = Decimal(m[1] + m[2].replace(",", "") + "." + m[3])
    unit = Decimal(100_000_000) if m[4] == "亿元" else Decimal(10_000)
    # within half a unit of the last decimal, and 亿元 exactly from one 亿 (rounded) up
    assert abs(number * unit - yuan) <= unit / 200 + Decimal("1e-6") * abs(yuan)
    assert (m[4] == "亿元") == (abs(yuan) / 10_000 >= Decimal("9999.995"))


# ---------------------------------------------------------------------- the demo document
@pytest.fixture(scope="module")
def demo_rep() -> Report:
    return load_report(DEMO, year=2021)


@pytest.fixture(scope="module")
def demo_bytes(demo_rep) -> bytes:
    return summary_docx_bytes(demo_rep)


@pytest.fixture(scope="module")
def demo_doc(demo_bytes):
    return docx.Document(io.BytesIO(demo_bytes))


def _all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [c.text for row in table.rows for c in row.cells]
    sec = doc.sections[0]
    for hf in (sec.header, sec.even_page_header, sec.footer, sec.even_page_footer):
        parts += [p.text for p in hf.paragraphs]
    return "\n".join(parts)


_KIND = {"yuan": "wan_yuan", "mu": "mu", "m2": "wan_m2", "count": "count", "ratio": "pct"}


def test_key_figures_table_equals_key_figures(demo_rep, demo_doc):
    kf = demo_rep.analysis.key_figures(forecasts=True)
    before = Analysis(demo_rep.tables, year=2020, policy=demo_rep.policy).key_figures(
        forecasts=False
    )
    table = demo_doc.tables[0]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["指标", "2021年", "2020年", "变化"]
    figures = headline_figures()
    assert len(rows) == len(figures) + 1
    for fig, row in zip(figures, rows[1:], strict=True):
        fmt = FORMATS[_KIND.get(fig.unit, "months")]
        assert row[0] == fig.label_with_unit
        assert row[1] == fmt(kf[fig.name]), fig.name
        assert row[2] == fmt(before[fig.name]), fig.name
    # a few by hand: 44 projects, 资金到位率 77.6%, 31810.76万元 gap (as key_figures.json)
    by_label = {r[0]: r for r in rows}
    assert by_label["推进项目（个）"][1:3] == ["44", "39"]
    assert by_label["资金到位率"][1] == "77.6%"
    assert by_label["已签协议待付款缺口（万元）"][1].replace(",", "") == "31810.76"


def test_table_is_a_word_table_with_numbers_right(demo_doc):
    table = demo_doc.tables[0]
    head = table.rows[0]._tr
    assert head.find(qn("w:trPr")).find(qn("w:tblHeader")) is not None  # repeated per page
    for row in table.rows[1:]:
        cells = row.cells
        assert cells[0].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
        for c in cells[1:]:
            assert c.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    widths = sum(c.width for c in table.columns)
    assert widths <= Mm(156) + Mm(0.5)  # inside the type area (210 − 28 − 26 mm)
    body = demo_doc.element.body.xml
    assert "w:txbxContent" not in body and "v:textbox" not in body  # no text boxes


def test_headings_in_order(demo_rep, demo_doc):
    paras = [(p.style.name, p.text) for p in demo_doc.paragraphs if p.text.strip()]
    assert paras[0][1].startswith(DEMO_LABEL)
    assert paras[1] == ("Title", "XX区2021年土地房屋征收工作总结")
    h1 = [t for s, t in paras if s == "Heading 1"]
    assert h1 == ["一、完成情况", "二、存在问题", "三、下一步研判", "四、主要图表"]
    h2 = [t for s, t in paras if s == "Heading 2"]
    problems = write_problems(demo_rep.analysis)
    assert [p.title for p in problems] == [
        "征拆资金缺口",
        "过渡安置费拖欠",
        "安置区超过3年未交付",
        "征地“最后一公里”卡点",
    ]
    expected = [f"（{'一二三四'[i]}）{p.title}" for i, p in enumerate(problems)]
    expected += ["（一）安置区何时交付", "（二）过渡安置费要花多少", "（三）资金够不够"]
    assert h2 == expected
    texts = [t for _, t in paras]
    i_attach = texts.index("附件")
    assert texts[i_attach + 1] == "指标口径"
    assert texts.index("四、主要图表") < i_attach
    # the appendix defines every figure of the registry, in Chinese
    appendix = texts[i_attach + 2 :]
    assert len(appendix) == len(FIGURES)
    assert all(
        t.startswith(f.label_with_unit + "：") for t, f in zip(appendix, FIGURES, strict=True)
    )
    # the completion section is the work summary's, said once
    body = "\n".join(texts)
    assert "一、2021年工作完成情况" not in body
    done = "\n".join(texts[texts.index("一、完成情况") : texts.index("二、存在问题")])
    assert done.count("按0计") == 3  # overall, 市下达, 区统筹: one note each
    assert "万元/月" not in body
    assert "累计签订征收补偿协议金额13.00亿元" in body


def test_demo_label_on_top_and_in_every_header(demo_doc):
    assert demo_doc.paragraphs[0].text.startswith(DEMO_LABEL)
    sec = demo_doc.sections[0]
    assert demo_doc.settings.odd_and_even_pages_header_footer
    for header in (sec.header, sec.even_page_header):
        assert not header.is_linked_to_previous
        assert DEMO_LABEL in header.paragraphs[0].text


def test_page_numbers_are_a_page_field(demo_doc):
    sec = demo_doc.sections[0]
    for footer in (sec.footer, sec.even_page_footer):
        xml = footer._element.xml
        assert re.search(r"<w:instrText[^>]*> PAGE </w:instrText>", xml)
        assert xml.count('w:fldCharType="begin"') == 1 and 'w:fldCharType="end"' in xml
        assert footer.paragraphs[0].text == "— 1 —"  # the cached result between the dashes
        run = footer.paragraphs[0].runs[0]
        assert run.font.size.pt == 14  # 四号
        assert run._r.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    assert sec.footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT  # odd pages
    assert sec.even_page_footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT


def test_a4_and_official_margins(demo_doc):
    sec = demo_doc.sections[0]
    tol = Mm(0.1)
    for got, want in (
        (sec.page_width, Mm(210)),
        (sec.page_height, Mm(297)),
        (sec.top_margin, Mm(37)),
        (sec.bottom_margin, Mm(35)),
        (sec.left_margin, Mm(28)),
        (sec.right_margin, Mm(26)),
    ):
        assert abs(got - want) <= tol


def test_east_asian_fonts_on_styles_and_runs(demo_doc):
    styles = demo_doc.styles
    want = {"Normal": "仿宋", "Heading 1": "黑体", "Heading 2": "楷体", "Title": "方正小标宋简体"}
    for name, font in want.items():
        rfonts = styles[name].element.rPr.rFonts
        assert rfonts.get(qn("w:eastAsia")) == font, name
        assert rfonts.get(qn("w:hint")) == "eastAsia"
        assert rfonts.get(qn("w:asciiTheme")) is None  # no theme font overriding the name
    assert styles["Normal"].font.size.pt == 16  # 三号
    assert styles["Title"].font.size.pt == 22  # 二号
    normal = styles["Normal"].paragraph_format
    assert 28 <= normal.line_spacing.pt <= 29
    assert normal.first_line_indent.pt == 32  # two characters of 三号
    runs = [r for p in demo_doc.paragraphs for r in p.runs if r.text.strip()]
    runs += [
        r
        for t in demo_doc.tables
        for row in t.rows
        for c in row.cells
        for p in c.paragraphs
        for r in p.runs
    ]
    assert len(runs) > 80
    for r in runs:
        rfonts = r._r.rPr.rFonts
        assert rfonts.get(qn("w:eastAsia")), r.text
        assert rfonts.get(qn("w:hint")) == "eastAsia", r.text
    body_runs = [r for p in demo_doc.paragraphs if p.style.name == "Normal" for r in p.runs]
    assert {r._r.rPr.rFonts.get(qn("w:eastAsia")) for r in body_runs} <= {"仿宋", "黑体"}
    # the font table names substitutes for fonts a machine may lack
    with zipfile.ZipFile(io.BytesIO(_bytes_of(demo_doc))) as z:
        fonts = z.read("word/fontTable.xml").decode()
    assert re.search(r'w:name="方正小标宋简体"><w:altName w:val="宋体"/>', fonts)


def _bytes_of(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_charts_are_pictures_with_captions_below(demo_doc):
    paras = demo_doc.paragraphs
    pictures = [i for i, p in enumerate(paras) if p._p.xpath(".//pic:pic")]
    assert len(pictures) == 3
    assert len(demo_doc.inline_shapes) == 3
    for n, i in enumerate(pictures, start=1):
        # never separated from its caption (kept with the next paragraph by its style)
        assert paras[i].style.paragraph_format.keep_with_next
        caption = paras[i + 1]
        assert caption.text.startswith(f"图{n} ")
        assert caption.style.name == "Caption"
        assert demo_doc.inline_shapes[n - 1].width <= Mm(156)
    captions = [paras[i + 1].text for i in pictures]
    assert captions[0] == "图1 2021年各片区征地任务与完成情况"
    assert "逾期" in captions[1] and "资金" in captions[2]


def test_no_identifiers_and_no_personal_data(demo_doc):
    text = _all_text(demo_doc)
    assert not re.search(r"[a-z]|_", text), re.findall(r".{10}(?:[a-z]|_).{10}", text)[:5]
    assert "NA" not in text.replace("（空值）", "")
    # no ID number, no phone number, no household name (the demo names are all 某)
    assert not re.search(r"\d{17}[\dX]", text)
    assert not re.search(r"(?<!\d)1\d{10}(?!\d)", text.replace(",", ""))
    assert "某" not in text


def test_core_properties_are_fixed(demo_doc):
    cp = demo_doc.core_properties
    assert cp.title == "XX区2021年土地房屋征收工作总结"
    assert cp.author == "XX区"
    assert cp.created.replace(tzinfo=None) == dt.datetime(2021, 12, 31)
    assert cp.modified.replace(tzinfo=None) == dt.datetime(2021, 12, 31)
    assert DEMO_LABEL in cp.subject
    assert "python-docx" not in (cp.comments + cp.author + cp.last_modified_by)


def test_two_writes_give_the_same_bytes(demo_rep, demo_bytes, tmp_path):
    time.sleep(2.1)  # python-docx stamps zip entries with the time of writing (2 s resolution)
    path = tmp_path / office_file_name("工作总结", demo_rep.office, str(demo_rep.year), ".docx")
    write_summary_docx(demo_rep, path)
    assert path.name == "工作总结_XX区_2021.docx"
    assert path.read_bytes() == demo_bytes
    with zipfile.ZipFile(path) as z:
        assert {i.date_time for i in z.infolist()} == {(2021, 12, 31, 0, 0, 0)}
        assert "docProps/thumbnail.jpeg" not in z.namelist()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


# ------------------------------------------------------------------ a hand-made district
def _report(ledger_tables, *, as_of="2021-12-31", demo=False) -> Report:
    ledgers = CleanResult(dict(ledger_tables), pd.DataFrame(), pd.DataFrame(), {"synthetic": demo})
    return Report(2021, pd.Timestamp(as_of), ledgers, None, demo)


def test_ledger_text_is_plain_text(tables):  # noqa: F811
    nasty = '蓝田<w:fldSimple w:instr="PAGE"/>{ PAGE }=1+1&安置区'
    sites = tables["sites"].copy()
    sites.loc[sites["site_id"] == "SA", "site_name"] = nasty
    rep = _report(dict(tables, sites=sites))
    data = summary_docx_bytes(rep)
    doc = docx.Document(io.BytesIO(data))
    body = doc.element.body
    assert not body.xpath(".//w:fldSimple | .//w:instrText | .//w:fldChar")  # fields: footer only
    assert nasty in "\n".join(p.text for p in doc.paragraphs)
    # not a demo: no label anywhere
    assert DEMO_LABEL not in _all_text(doc)
    assert doc.paragraphs[0].style.name == "Title"


def test_problems_section_follows_the_figures(tables):  # noqa: F811
    doc = docx.Document(io.BytesIO(summary_docx_bytes(_report(tables))))
    h2 = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert h2[:4] == [
        "（一）征拆资金缺口",
        "（二）过渡安置费拖欠",
        "（三）安置区超过3年未交付",
        "（四）征地“最后一公里”卡点",
    ]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "已签协议待付款缺口资金140.00万元，其中110.00万元已超过支付期限仍未支付" in text


def test_title_says_the_date_before_year_end():
    mid = SimpleNamespace(office="港北区", year=2021, as_of=pd.Timestamp("2021-06-30"))
    assert summary_title(mid) == "港北区2021年土地房屋征收工作总结（截至2021年6月30日）"
    end = SimpleNamespace(office="港北区", year=2021, as_of=pd.Timestamp("2021-12-31"))
    assert summary_title(end) == "港北区2021年土地房屋征收工作总结"
