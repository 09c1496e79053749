"""The month's dispatch (一月一调度): movements, the lists to act on, forecast drift, the Word brief.

A hand-made district for June 2021, every expected value counted by hand below:

* agreements — A1 (P1, signed 2020-10-01, due 2020-11-01, 100,000; 40,000 paid in 2020: overdue
  since long, unpaid 60,000); A2 (P1, signed 2021-05-10, due 2021-06-15, 50,000; paid in full
  on 2021-07-02, after the month: overdue in June, new); A3 (P2, signed 2021-06-05, due
  2021-07-05, 80,000: signed in June, not due); A4 (P2, signed 2021-06-20, due 2021-06-25,
  30,000, paid in full on 2021-06-26: not on the list); A5 (P2, signed 2021-04-01, due
  2021-05-31 — last month's last day —, 20,000, unpaid: overdue in June, new);
* payments in June — 补偿款 30,000 (A4); 过渡安置费 1,000 (A5's household); 工作经费 1,000;
  (and 补偿款 50,000 on 2021-07-02: after the month, never counted);
* funding — 1,000,000 on 2021-01-15, 500,000 on 2021-06-03, 200,000 on 2021-07-01 (after);
* transition — A1 at S1 from 2020-11-01, 1,000 a month, 6 months agreed, 7,500 paid on
  2021-05-15 (= 6 × 1,000 + 1 × 1,500 accrued to May): no arrears in May, 1,500 in June
  (8 months: 6 × 1,000 + 2 × 1,500 = 9,000) → new; A2 at S2 from 2021-06-10, 500 a month: entered
  in June, 500 in arrears → new; A5 at S2 from 2021-03-01 to 2021-06-20, 500 a month: left in
  June, 1,500 in arrears in May already (not new);
* sites — S1 (贵城片区, promised 2020-12-31, not delivered: late since), S2 (港城片区, promised
  2021-06-10: became overdue in June), S3 (城区外围片区, promised 2021-03-01, delivered
  2021-06-15: delivered in June), S4 and S5 delivered in 2019/2020 (the build-time history);
* projects 2021 — P1 (贵城片区, 公建单位, 5 亩 blocked), P2 (港城片区, no blocker), P3 (城区外围片区,
  留用地, 12 亩 blocked); 2020 — P1.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest
from ledger_builder import frame

from zhengshou_analysis.figures import Analysis
from zhengshou_analysis.figures.dispatch import (
    blocked_projects,
    delivery_drift,
    dispatch_definitions,
    drift_statement,
    gap_drift,
    last_month_analysis,
    month_key_figures,
    month_movements,
    month_of,
    movements_statement,
    new_fee_arrears,
    overdue_agreements,
    overdue_by_age_band,
    overdue_sites,
    year_start_analysis,
)
from zhengshou_analysis.figures.year import CHANGE_KEYS, compute_period_figures
from zhengshou_analysis.ledger.clean import CleanResult
from zhengshou_analysis.periods import Period, duration_months
from zhengshou_analysis.report.officedoc import (
    DISPATCH_FIGURES,
    DISPATCH_ITEMS,
    dispatch_docx_bytes,
    dispatch_title,
    write_dispatch_docx,
)
from zhengshou_analysis.report.session import Report, load_report
from zhengshou_analysis.report.tables import PAGE_TABLES, page_table
from zhengshou_analysis.report.views import DEMO_LABEL

JUNE = Period.month_end(2021, 6)
T = pd.Timestamp


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    """The hand-made district of the module docstring (read only)."""
    projects = frame(
        "projects",
        [
            {
                "project_id": "P1",
                "project_name": "南湖路征收",
                "zone": "贵城片区",
                "year": 2021,
                "land_target_mu": 20.0,
                "land_done_mu": 15.0,
                "blocker": "公建单位",
                "blocked_mu": 5.0,
            },
            {
                "project_id": "P2",
                "project_name": "港城大道征收",
                "zone": "港城片区",
                "year": 2021,
                "land_target_mu": 10.0,
                "land_done_mu": 10.0,
            },
            {
                "project_id": "P3",
                "project_name": "外围产业园征收",
                "zone": "城区外围片区",
                "year": 2021,
                "land_target_mu": 30.0,
                "land_done_mu": 18.0,
                "blocker": "留用地",
                "blocked_mu": 12.0,
            },
            {
                "project_id": "P1",
                "project_name": "南湖路征收",
                "zone": "贵城片区",
                "year": 2020,
                "land_target_mu": 20.0,
                "land_done_mu": 8.0,
            },
        ],
    )
    agreements = frame(
        "agreements",
        [
            {
                "agreement_id": "A1",
                "project_id": "P1",
                "signed_date": "2020-10-01",
                "payment_due_date": "2020-11-01",
                "compensation_yuan": 100_000.0,
                "site_id": "S1",
            },
            {
                "agreement_id": "A2",
                "project_id": "P1",
                "signed_date": "2021-05-10",
                "payment_due_date": "2021-06-15",
                "compensation_yuan": 50_000.0,
                "site_id": "S2",
            },
            {
                "agreement_id": "A3",
                "project_id": "P2",
                "signed_date": "2021-06-05",
                "payment_due_date": "2021-07-05",
                "compensation_yuan": 80_000.0,
            },
            {
                "agreement_id": "A4",
                "project_id": "P2",
                "signed_date": "2021-06-20",
                "payment_due_date": "2021-06-25",
                "compensation_yuan": 30_000.0,
            },
            {
                "agreement_id": "A5",
                "project_id": "P2",
                "signed_date": "2021-04-01",
                "payment_due_date": "2021-05-31",
                "compensation_yuan": 20_000.0,
                "site_id": "S2",
            },
        ],
    )
    payments = frame(
        "payments",
        [
            {
                "payment_id": "p1",
                "date": "2020-12-01",
                "agreement_id": "A1",
                "kind": "补偿款",
                "amount_yuan": 40_000.0,
            },
            {
                "payment_id": "p2",
                "date": "2021-06-26",
                "agreement_id": "A4",
                "kind": "补偿款",
                "amount_yuan": 30_000.0,
            },
            {
                "payment_id": "p3",
                "date": "2021-07-02",
                "agreement_id": "A2",
                "kind": "补偿款",
                "amount_yuan": 50_000.0,
            },
            {
                "payment_id": "p4",
                "date": "2021-05-15",
                "agreement_id": "A1",
                "kind": "过渡安置费",
                "amount_yuan": 7_500.0,
            },
            {
                "payment_id": "p5",
                "date": "2021-06-20",
                "agreement_id": "A5",
                "kind": "过渡安置费",
                "amount_yuan": 1_000.0,
            },
            {"payment_id": "p6", "date": "2021-06-15", "kind": "工作经费", "amount_yuan": 1_000.0},
        ],
    )
    funding = frame(
        "funding",
        [
            {"date": "2021-01-15", "amount_yuan": 1_000_000.0},
            {"date": "2021-06-03", "amount_yuan": 500_000.0},
            {"date": "2021-07-01", "amount_yuan": 200_000.0},
        ],
    )
    sites = frame(
        "sites",
        [
            {
                "site_id": "S1",
                "site_name": "蓝田安置区",
                "zone": "贵城片区",
                "start_date": "2018-01-01",
                "promised_date": "2020-12-31",
                "units": 300,
            },
            {
                "site_id": "S2",
                "site_name": "港湾安置区",
                "zone": "港城片区",
                "start_date": "2019-06-01",
                "promised_date": "2021-06-10",
                "units": 200,
            },
            {
                "site_id": "S3",
                "site_name": "外围安置区",
                "zone": "城区外围片区",
                "start_date": "2019-01-01",
                "promised_date": "2021-03-01",
                "delivered_date": "2021-06-15",
                "units": 150,
            },
            {
                "site_id": "S4",
                "site_name": "老城安置区",
                "zone": "贵城片区",
                "start_date": "2017-01-01",
                "promised_date": "2019-06-01",
                "delivered_date": "2020-01-01",
                "units": 100,
            },
            {
                "site_id": "S5",
                "site_name": "江畔安置区",
                "zone": "港城片区",
                "start_date": "2016-06-01",
                "promised_date": "2019-01-01",
                "delivered_date": "2019-12-01",
                "units": 120,
            },
        ],
    )
    transition = frame(
        "transition",
        [
            {
                "agreement_id": "A1",
                "site_id": "S1",
                "start_date": "2020-11-01",
                "fee_basis": "per_household",
                "fee_rate_yuan": 1_000.0,
                "agreed_months": 6,
            },
            {
                "agreement_id": "A2",
                "site_id": "S2",
                "start_date": "2021-06-10",
                "fee_basis": "per_household",
                "fee_rate_yuan": 500.0,
                "agreed_months": 12,
            },
            {
                "agreement_id": "A5",
                "site_id": "S2",
                "start_date": "2021-03-01",
                "end_date": "2021-06-20",
                "fee_basis": "per_household",
                "fee_rate_yuan": 500.0,
                "agreed_months": 12,
            },
        ],
    )
    return {
        "projects": projects,
        "agreements": agreements,
        "payments": payments,
        "funding": funding,
        "sites": sites,
        "transition": transition,
    }


@pytest.fixture(scope="module")
def june(tables) -> Analysis:
    return Analysis(tables, year=2021, as_of="2021-06-30")


def _row(df: pd.DataFrame, item: str) -> pd.Series:
    return df.set_index("item").loc[item]


# ------------------------------------------------------------------------------- movements
def test_month_movements_are_the_hand_counted_sums(tables, june):
    mv = month_movements(june)
    assert list(mv["item"]) == [
        "agreements_signed",
        "payments:补偿款",
        "payments:过渡安置费",
        "payments:工作经费",
        "funds_received",
        "transition_entered",
        "transition_left",
        "sites_delivered",
    ]
    signed = _row(mv, "agreements_signed")
    assert (signed["count"], signed["amount_yuan"]) == (2, 110_000.0)  # A3 + A4
    comp = _row(mv, "payments:补偿款")
    assert (comp["count"], comp["amount_yuan"]) == (1, 30_000.0)  # not the 50,000 of 2 July
    assert _row(mv, "payments:过渡安置费")["amount_yuan"] == 1_000.0
    assert _row(mv, "payments:工作经费")["amount_yuan"] == 1_000.0
    fund = _row(mv, "funds_received")
    assert (fund["count"], fund["amount_yuan"]) == (1, 500_000.0)  # not the 200,000 of 1 July
    assert _row(mv, "transition_entered")["count"] == 1  # A2
    assert _row(mv, "transition_left")["count"] == 1  # A5
    delivered = _row(mv, "sites_delivered")
    assert delivered["count"] == 1 and delivered["detail"] == "外围安置区"
    assert all(len(o) == c for o, c in zip(mv["origins"], [2, 1, 1, 1, 1, 1, 1, 1], strict=True))
    # the same from the tables with the month given, and the tables untouched
    before = {k: v.copy() for k, v in tables.items()}
    pd.testing.assert_frame_equal(month_movements(tables, period=JUNE), mv)
    for k, v in tables.items():
        pd.testing.assert_frame_equal(v, before[k])
    text = movements_statement(mv, JUNE)
    assert text.startswith("2021年6月，新签补偿协议2份、11.00万元；支付补偿款1笔、3.00万元；")
    assert "征拆资金到位1笔、50.00万元" in text and "安置区交房1个（外围安置区）" in text


def test_a_payment_after_month_end_is_not_counted(tables):
    # move A4's payment from 26 June to 1 July: June shows no compensation paid, July shows it
    p = tables["payments"].copy()
    p.loc[p["payment_id"].eq("p2"), "date"] = T("2021-07-01")
    moved = dict(tables, payments=p)
    june = month_movements(moved, period=JUNE)
    assert _row(june, "payments:补偿款")["count"] == 0
    assert _row(june, "payments:补偿款")["amount_yuan"] == 0.0
    july = month_movements(moved, period=Period.month_end(2021, 7))
    assert _row(july, "payments:补偿款")["amount_yuan"] == 80_000.0  # p2 and p3
    # and A4 is then overdue and unpaid at June's end (due 25 June), new this month
    items = overdue_agreements(Analysis(moved, year=2021, as_of="2021-06-30"))
    assert items.set_index("agreement_id").loc["A4", "new_this_month"]


def test_a_missing_ledger_is_not_a_zero(tables):
    a = Analysis(dict(tables, funding=tables["funding"].iloc[0:0]), year=2021, as_of="2021-06-30")
    fund = _row(month_movements(a), "funds_received")
    assert pd.isna(fund["count"]) and pd.isna(fund["amount_yuan"])
    assert "征拆资金到位：台账未提供" in movements_statement(month_movements(a), JUNE)


# ---------------------------------------------------------------------------------- the lists
def test_overdue_agreements_largest_first_and_new_this_month(june):
    items = overdue_agreements(june)
    assert list(items["agreement_id"]) == ["A1", "A2", "A5"]  # 60,000, 50,000, 20,000
    assert list(items["unpaid_yuan"]) == [60_000.0, 50_000.0, 20_000.0]
    assert list(items["new_this_month"]) == [False, True, True]  # A5: due on 31 May itself
    assert list(items["project_name"]) == ["南湖路征收", "南湖路征收", "港城大道征收"]
    assert list(items["zone"]) == ["贵城片区", "贵城片区", "港城片区"]
    assert all(o.startswith("agreements.xlsx#S!") for o in items["origin"])
    by_age = overdue_by_age_band(june)
    assert list(by_age["age_band_zh"]) == ["不足3个月", "3至6个月", "6至12个月", "12个月以上"]
    assert list(by_age["new_count"]) == [2, 0, 0, 0]
    assert by_age["new_unpaid_yuan"].iloc[0] == 70_000.0
    assert by_age["overdue_unpaid_yuan"].sum() == 130_000.0 == june.figure("overdue_unpaid_yuan")
    # last month's list: A1 only (A2 not yet due, A5 due that very day)
    may = overdue_agreements(last_month_analysis(june))
    assert list(may["agreement_id"]) == ["A1"]


def test_overdue_sites_give_months_late(june):
    sites = overdue_sites(june)
    assert list(sites["site_name"]) == ["蓝田安置区", "港湾安置区"]  # S3 delivered in June
    late = sites.set_index("site_id")["late_months"]
    assert late["S1"] == pytest.approx(181 / 30.4375)  # 31 Dec 2020 → 30 Jun 2021
    assert late["S2"] == pytest.approx(20 / 30.4375)
    assert late["S1"] == pytest.approx(duration_months(T("2020-12-31"), T("2021-06-30")))
    assert list(sites["new_this_month"]) == [False, True]
    assert list(sites["zone"]) == ["贵城片区", "港城片区"]


def test_blocked_projects_with_their_type(june):
    blocked = blocked_projects(june)
    assert list(blocked["project_id"]) == ["P3", "P1"]  # 12 亩, 5 亩; P2 has no blocker
    assert list(blocked["blocker"]) == ["留用地", "公建单位"]
    assert blocked["origin"].notna().all()


def test_fees_that_went_into_arrears_this_month(june):
    new = new_fee_arrears(june)
    assert list(new["agreement_id"]) == ["A1", "A2"]  # A5 was in arrears in May already
    assert list(new["arrears_yuan"]) == [1_500.0, 500.0]
    assert list(new["site_name"]) == ["蓝田安置区", "港湾安置区"]
    assert list(new["project_name"]) == ["南湖路征收", "南湖路征收"]
    hh = june.households.set_index("agreement_id")
    assert hh.loc["A5", "arrears_yuan"] == 1_000.0  # 4 × 500 − 1,000: in arrears, not new
    assert set(new.columns).isdisjoint({"name", "户主", "phone", "id_number"})


# ------------------------------------------------------------------------- key figures
def test_month_key_figures_equal_the_annual_definitions_at_month_end(tables, june):
    kf = month_key_figures(june, last_month_analysis(june), year_start_analysis(june))
    period = compute_period_figures(tables, period=JUNE)
    for r in kf.itertuples(index=False):
        want = period[r.name]
        if want is None:
            assert pd.isna(r.now), r.name
            continue
        assert r.now == pytest.approx(want), r.name
        for key, got in zip(
            CHANGE_KEYS, (r.change_since_last_month, r.change_since_year_start), strict=True
        ):
            change = period[key][r.name]
            assert (pd.isna(got) and change is None) or got == pytest.approx(change), (key, r.name)
    by_name = kf.set_index("name")
    # by hand: signed 280,000 at June's end, 150,000 at May's (A1, A2, A5), 100,000 at 2020's end
    assert by_name.loc["signed_agreements_yuan", "now"] == 280_000.0
    assert by_name.loc["signed_agreements_yuan", "change_since_last_month"] == 110_000.0
    assert by_name.loc["signed_agreements_yuan", "change_since_year_start"] == 180_000.0
    assert by_name.loc["funds_received_yuan", "change_since_last_month"] == 500_000.0


# ------------------------------------------------------------------------ forecast drift
def test_delivery_drift_names_the_delivery(june):
    last = last_month_analysis(june)
    assert last is not None and last.as_of == T("2021-05-31") and last.seed == june.seed
    drift = delivery_drift(june, last).set_index("site_id")
    s3 = drift.loc["S3"]
    assert pd.isna(s3["p50_date"]) and pd.notna(s3["p50_date_before"])
    assert s3["moved"] and "交房" in s3["reason"] and "2021年6月15日" in s3["reason"]
    assert set(drift.index) == {"S1", "S2", "S3"}
    assert drift.loc[["S1", "S2"], "p50_date"].notna().all()
    # the other sites: the model was refitted on one more delivery; a big move names it
    for site in ("S1", "S2"):
        row = drift.loc[site]
        if row["moved"]:
            assert "外围安置区交房" in row["reason"]
        else:
            assert row["reason"] == ""
    gap = gap_drift(june, last)
    assert next(iter(gap["scenario"])) == "baseline"
    assert gap["gap_p50_before_yuan"].notna().all()
    assert (gap["p50_change_yuan"] == gap["gap_p50_yuan"] - gap["gap_p50_before_yuan"]).all()
    for r in gap.itertuples(index=False):
        assert bool(r.reason) == bool(r.moved)
    text = drift_statement(delivery_drift(june, last), gap)
    assert "外围安置区" in text and "上月预测为" in text


def test_first_month_without_last_month_has_nothing_to_compare(tables):
    jan_only = {k: v for k, v in tables.items()}
    jan = Analysis(jan_only, year=2021, as_of="2021-01-31")
    assert month_of(jan.as_of) == Period.month_end(2021, 1)
    last = last_month_analysis(jan)
    assert last is not None and last.as_of == T("2020-12-31") and last.year == 2020


def test_definitions_carry_the_policy(june):
    defs = dict(dispatch_definitions(june.policy))
    assert "30天" in defs["逾期未付协议"]
    assert "不足3个月" in defs["逾期时长"]
    assert "3.0个月" in defs["预测变化"]


# ------------------------------------------------------------------------------- the page
def _month_report(tables, as_of="2021-06-30", *, demo=False) -> Report:
    ledgers = CleanResult(dict(tables), pd.DataFrame(), pd.DataFrame(), {"synthetic": demo})
    return Report(2021, T(as_of), ledgers, as_of, demo)


def test_page_tables_of_the_dispatch_page(tables):
    rep = _month_report(tables)
    keys = [k for k, t in PAGE_TABLES.items() if t.page == "60_dispatch"]
    assert keys[0] == "dispatch_key_figures" and len(keys) == 10
    for key in keys:
        df = page_table(rep, key)
        assert len(df) or PAGE_TABLES[key].hide_empty, key
    age = page_table(rep, "dispatch_overdue_age")
    assert age.iloc[-1]["new_count"] == 2 and age.iloc[-1]["overdue_unpaid_yuan"] == 130_000.0
    new = page_table(rep, "dispatch_new_overdue")
    assert list(new["agreement_id"]) == ["A2", "A5"]
    prose = PAGE_TABLES["dispatch_overdue_agreements"].prose(rep)  # type: ignore[misc]
    assert "共3份、13.00万元，其中本月新增逾期2份、7.00万元" in prose[0]


# -------------------------------------------------------------------------- the Word brief
@pytest.fixture(scope="module")
def demo_june() -> Report:
    demo = Path(__file__).resolve().parents[1] / "data" / "demo"
    return load_report(demo, year=2021, as_of="2021-06-30")


@pytest.fixture(scope="module")
def brief_bytes(demo_june) -> bytes:
    return dispatch_docx_bytes(demo_june)


def _text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [c.text for row in table.rows for c in row.cells]
    sec = doc.sections[0]
    for hf in (sec.header, sec.even_page_header, sec.footer):
        parts += [p.text for p in hf.paragraphs]
    return "\n".join(parts)


def test_the_brief_fits_one_page(demo_june, brief_bytes, tmp_path):
    doc = docx.Document(io.BytesIO(brief_bytes))
    body = [p.text for p in doc.paragraphs]
    assert body[0] == dispatch_title(demo_june) == "XX区2021年6月征收工作调度简报"
    assert [t for t in body if re.match(r"^[一二三四]、", t)] == [
        "一、本月主要指标（金额单位：万元；比率的变化以百分点计）",
        "二、本月进展",
        "三、待办清单（各清单全部条目及台账来源行见本月调度简报页面）",
        "四、预测变化",
    ]
    assert len(body) == 8  # title, date line, four headings, two paragraphs: nothing more
    assert not doc.element.body.xpath(".//w:br[@w:type='page']")
    key, lists = doc.tables
    assert len(key.rows) == 1 + len(DISPATCH_FIGURES)
    heads = [r for r in lists.rows[1:] if r.cells[0].text.startswith("（")]
    assert [h.cells[0].text[:3] for h in heads] == ["（一）", "（二）", "（三）", "（四）"]
    assert len(lists.rows) <= 1 + 4 * (1 + DISPATCH_ITEMS)
    overdue = heads[0].cells[0].text
    shown = len(lists.rows) - 1 - 4  # items under the four heads
    assert re.search(r"逾期未付补偿款的协议[\d,]+份.*另有[\d,]+项", overdue), overdue
    assert shown >= 4
    sec = doc.sections[0]
    assert (round(sec.page_height.mm), round(sec.page_width.mm)) == (297, 210)


def test_the_brief_prints_on_one_page_in_libreoffice(brief_bytes, tmp_path):
    """LibreOffice lays the brief out on one A4 page (where LibreOffice Writer and poppler are
    installed; a LibreOffice without Writer cannot open .docx and is said so)."""
    if not (shutil.which("soffice") and shutil.which("pdfinfo")):
        pytest.skip("LibreOffice (soffice) or poppler (pdfinfo) is not installed")
    path = tmp_path / "brief.docx"
    path.write_bytes(brief_bytes)
    proc = subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )
    pdf = tmp_path / "brief.pdf"
    if not pdf.exists() and "could not be loaded" in proc.stdout + proc.stderr:
        pytest.skip("this LibreOffice cannot open .docx (libreoffice-writer is not installed)")
    assert pdf.exists(), proc.stdout + proc.stderr
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info


def test_the_brief_has_the_demo_label_and_no_personal_data(demo_june, brief_bytes):
    doc = docx.Document(io.BytesIO(brief_bytes))
    text = _text(doc)
    assert (
        DEMO_LABEL in doc.paragraphs[1].text
        and DEMO_LABEL in doc.sections[0].header.paragraphs[0].text
    )
    assert not re.search(r"\d{17}[\dX]", text)  # no ID number
    assert not re.search(r"(?<!\d)1\d{10}(?!\d)", text.replace(",", ""))  # no phone number
    assert "某" not in text  # the demo's household names are all 某…
    tables = demo_june.analysis.tables
    assert not re.search(r"[a-z_]", text.replace("—", ""))  # no identifiers (ids are upper case)
    # the numbers are the month's: the key table's first row is the page's
    kf = page_table(demo_june, "dispatch_key_figures").set_index("name")
    row = [c.text for c in doc.tables[0].rows[1].cells]
    assert row[0] == kf.loc["signed_agreements_yuan", "label"]
    assert row[1] == "111,332.78" and row[2] == "+3,391.11"
    assert len(tables["agreements"])  # the brief was built from the demo's ledgers


def test_two_writes_give_the_same_bytes(demo_june, brief_bytes, tmp_path):
    time.sleep(2.1)  # python-docx stamps zip entries with the time of writing (2 s resolution)
    path = tmp_path / "调度简报_XX区_2021-06.docx"
    write_dispatch_docx(demo_june, path)
    assert path.read_bytes() == brief_bytes
    with zipfile.ZipFile(path) as z:
        assert {i.date_time for i in z.infolist()} == {(2021, 6, 30, 0, 0, 0)}
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_brief_of_hand_made_ledgers_is_not_labelled(tables):
    rep = _month_report(tables)
    doc = docx.Document(io.BytesIO(dispatch_docx_bytes(rep)))
    text = _text(doc)
    assert DEMO_LABEL not in text
    lists = doc.tables[1]
    cells = [[c.text for c in r.cells] for r in lists.rows]
    assert ["A1", "南湖路征收", "贵城片区", "未付6.00万元"] in cells
    assert ["留用地", "外围产业园征收", "城区外围片区", "12.00亩"] in cells
    assert "本月新出现过渡安置费拖欠的过渡户2户" in "\n".join(r[0] for r in cells)
