"""The work summary's 完成情况 section, filled in from a small hand-computed district."""

from __future__ import annotations

import pandas as pd
import pytest
from ledger_builder import frame

from zhengshou_analysis.report.summary import WorkSummary, write_work_summary


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    projects = frame(
        "projects",
        [
            {
                "project_id": "Q1",
                "project_name": "港北大道",
                "zone": "贵城片区",
                "category": "市下达",
                "year": 2021,
                "land_target_mu": 200.0,
                "land_done_mu": 150.0,
                "house_target_m2": 50000.0,
                "house_done_m2": 30000.0,
                "blocker": "公建单位",
                "blocked_mu": 30.5,
            },
            {
                "project_id": "Q2",
                "project_name": "西江港区",
                "zone": "港城片区",
                "category": "市下达",
                "year": 2021,
                "land_target_mu": 100.0,
                "land_done_mu": 100.0,
                "house_target_m2": 10000.0,
                "house_done_m2": 12000.0,
                "blocker": "军事用地",
                "blocked_mu": 12.0,
            },
            {
                "project_id": "Q3",
                "project_name": "糖业园",
                "zone": "城区外围片区",
                "category": "区统筹",
                "year": 2021,
                "land_target_mu": 60.0,
                "land_done_mu": 30.0,
                "house_target_m2": 0.0,
                "house_done_m2": 0.0,
                "blocker": "双高糖料蔗基地",
                "blocked_mu": 18.75,
            },
            {
                "project_id": "Q4",
                "project_name": "旧城改造",
                "zone": "贵城片区",
                "category": "区统筹",
                "year": 2021,
                "land_target_mu": 40.0,
                "land_done_mu": 20.0,
                "house_target_m2": 20000.0,
                "house_done_m2": 8000.0,
                "blocker": "留用地",
                "blocked_mu": 6.0,
            },
        ],
    )
    agreements = frame(
        "agreements",
        [
            # due 2021-03-03: 303 days overdue (6–12 months); gap 1000000 − 400000 = 600000
            {
                "agreement_id": "B1",
                "project_id": "Q1",
                "signed_date": "2021-02-01",
                "compensation_yuan": 1_000_000.0,
                "payment_due_date": "2021-03-03",
            },
            # due 2021-12-01: 30 days overdue (0–3 months); gap 500000
            {
                "agreement_id": "B2",
                "project_id": "Q2",
                "signed_date": "2021-11-01",
                "compensation_yuan": 500_000.0,
                "payment_due_date": "2021-12-01",
            },
            # due 2021-12-15 + 30 d = 2022-01-14: not overdue; gap 300000
            {
                "agreement_id": "B3",
                "project_id": "Q4",
                "signed_date": "2021-12-15",
                "compensation_yuan": 300_000.0,
            },
        ],
    )
    payments = frame(
        "payments",
        [
            {
                "date": "2021-04-01",
                "agreement_id": "B1",
                "kind": "补偿款",
                "amount_yuan": 400_000.0,
            },
            {
                "date": "2021-06-01",
                "agreement_id": "T1",
                "kind": "过渡安置费",
                "amount_yuan": 30_000.0,
            },
            {
                "date": "2021-12-01",
                "agreement_id": "T2",
                "kind": "过渡安置费",
                "amount_yuan": 12_000.0,
            },
        ],
    )
    funding = frame(
        "funding",
        [
            {"date": "2021-03-01", "funding_source": "市财政", "amount_yuan": 1_000_000.0},
            {"date": "2021-09-01", "funding_source": "专项债券", "amount_yuan": 500_000.0},
        ],
    )
    sites = frame(
        "sites",
        [
            {
                "site_id": "SA",
                "site_name": "蓝田安置区",
                "zone": "贵城片区",
                "start_date": "2017-03-01",
                "promised_date": "2019-03-01",
            },
            {
                "site_id": "SB",
                "site_name": "三合安置区",
                "zone": "港城片区",
                "start_date": "2019-05-01",
                "promised_date": "2022-05-01",
            },
            {
                "site_id": "SC",
                "site_name": "白凹窝安置区",
                "zone": "城区外围片区",
                "start_date": "2018-06-01",
                "promised_date": "2020-06-01",
            },
            {
                "site_id": "SD",
                "site_name": "文华雅苑",
                "zone": "港城片区",
                "start_date": "2018-01-01",
                "promised_date": "2020-01-01",
                "delivered_date": "2020-07-01",
            },
        ],
    )
    transition = frame(
        "transition",
        [
            # 10 元/m²/月 × 120 m² = 1200; K = 36, agreed 24 → 12 overdue at 1.5:
            # accrued 1200·(24 + 18) = 50400, extra 1200·6 = 7200, next j = 13 → 2400/月
            {
                "agreement_id": "T1",
                "site_id": "SA",
                "start_date": "2019-01-01",
                "fee_basis": "per_m2",
                "fee_rate_yuan": 10.0,
                "area_m2": 120.0,
                "agreed_months": 24,
            },
            # 1000 元/户/月; K = 12, agreed 24: accrued 12000, next 1000/月
            {
                "agreement_id": "T2",
                "site_id": "SB",
                "start_date": "2021-01-01",
                "fee_basis": "per_household",
                "fee_rate_yuan": 1000.0,
                "agreed_months": 24,
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


def test_summary_text_has_the_filled_numbers(tables):
    ws = write_work_summary(tables, year=2021)
    assert isinstance(ws, WorkSummary)
    assert ws.as_of == pd.Timestamp("2021-12-31")
    text = ws.text
    # overall: 4 projects; 土地 400 → 300 亩 (75.0%); 房屋 80000 → 50000 m² (62.5%)
    assert (
        "2021年推进重点及统筹项目4个，土地征收目标任务400.00亩，已完成300.00亩，完成率75.0%；"
        "房屋征收目标任务8.00万平方米，已完成5.00万平方米，完成率62.5%。"
    ) in text
    # 市下达: 300 → 250 亩 (83.3%); 60000 → 42000 m² (70.0%)
    assert (
        "其中市下达项目2个，土地征收目标任务300.00亩，已完成250.00亩，完成率83.3%；"
        "房屋征收目标任务6.00万平方米，已完成4.20万平方米，完成率70.0%。"
    ) in text
    # 区统筹: 100 → 50 亩 (50.0%); 20000 → 8000 m² (40.0%)
    assert (
        "区统筹项目2个，土地征收目标任务100.00亩，已完成50.00亩，完成率50.0%；"
        "房屋征收目标任务2.00万平方米，已完成0.80万平方米，完成率40.0%。"
    ) in text
    # funding: signed 180 万; paid 40 万; gap 140 万, of which overdue 110 万 (50 万 0–3, 60 万 6–12)
    assert "截至年末，累计签订征收补偿协议金额180.00万元，已支付补偿款40.00万元" in text
    assert "已签协议待付款缺口资金140.00万元" in text
    assert "其中已超过支付期限仍未支付110.00万元" in text
    assert "逾期不足3个月的50.00万元、逾期6至12个月的60.00万元" in text
    # received 150 万; paid 40 (补偿款) + 3 + 1.2 (过渡安置费) = 44.2 万; balance 105.8 万
    # required 180 + 6.24 = 186.24 万; ratio 150 / 186.24 = 80.5%
    assert "累计到位征拆资金150.00万元，累计支付各类资金44.20万元，资金结余105.80万元" in text
    assert "合计需资金186.24万元，资金到位率80.5%。" in text
    # transition: 2 households; monthly 2400 + 1000 = 0.34 万/月; accrued 50400 + 12000 = 6.24 万;
    # paid 4.2 万; arrears (50400 − 30000) + max(12000 − 12000, 0) = 2.04 万; extra 0.72 万
    assert "仍有2户群众在外过渡安置，每月需支付过渡安置费0.34万元；" in text
    assert "累计应付过渡安置费6.24万元，已支付4.20万元，拖欠2.04万元" in text
    assert "因安置房未能在约定过渡期限内交付，累计增加过渡安置费0.72万元。" in text
    # sites: 4 started, 1 delivered, 2 overdue; over 3 years in start order; 2 households waiting
    assert "已开工安置区4个，已交付1个，逾期未交付2个" in text
    assert "其中蓝田安置区、白凹窝安置区超过3年未交付" in text
    assert "2户群众仍在等待回迁安置" in text
    assert "建设周期中位数尚未达到" in text  # S(t) = 3/4 after the one delivery
    # blockers in the document's order
    assert "涉及公建单位30.50亩、军事用地12.00亩、双高糖料蔗基地18.75亩、留用地6.00亩" in text
    assert "无法计算" not in text


def test_summary_paragraph_order(tables):
    text = write_work_summary(tables, year=2021).text
    marks = [
        "推进重点及统筹项目",
        "其中市下达项目",
        "区统筹项目",
        "已签协议待付款缺口资金",
        "过渡安置费",
        "超过3年未交付",
        "最后一公里",
    ]
    positions = [text.index(m) for m in marks]
    assert positions == sorted(positions)
    # no heading line of its own: the page or the document gives the section heading
    ws = write_work_summary(tables, year=2021)
    assert ws.heading == "2021年工作完成情况"
    assert not text.startswith("一、")
    assert ws.text == "".join("\u3000\u3000" + p + "\n" for p in ws.paragraphs)


def test_summary_figures_table(tables):
    ws = write_work_summary(tables, year=2021)
    fig = ws.figures
    assert list(fig.columns) == ["name", "scope", "value", "text", "unit", "definition", "origins"]
    gap = fig.loc[fig["name"] == "unpaid_gap_yuan"].iloc[0]
    assert gap["value"] == 1_400_000.0
    assert gap["text"] == "140.00万元"
    assert "已签协议待付款缺口" in gap["definition"]
    assert set(gap["origins"]) == {
        "agreements.xlsx#S!2",
        "agreements.xlsx#S!3",
        "agreements.xlsx#S!4",
        "payments.xlsx#S!2",
    }
    city = fig.loc[(fig["name"] == "projects_count") & (fig["scope"] == "市下达")].iloc[0]
    assert city["value"] == 2
    assert city["origins"] == ["projects.xlsx#S!2", "projects.xlsx#S!3"]
    late = fig.loc[fig["name"] == "sites_over_3_years"].iloc[0]
    assert late["text"] == "2个（蓝田安置区、白凹窝安置区）"
    assert late["origins"] == ["sites.xlsx#S!2", "sites.xlsx#S!4"]
    blocker = fig.loc[(fig["name"] == "blocked_mu_by_blocker") & (fig["scope"] == "军事用地")]
    assert blocker.iloc[0]["text"] == "12.00亩"
    # every figure used has a definition, and every plain number written is in the text
    assert (fig["definition"].str.len() > 0).all()
    assert not fig.duplicated(["name", "scope"]).any()
    for t in fig["text"]:
        assert t.split("（")[0] in ws.text


def test_summary_km_median_reached(tables):
    # only the delivered site: 2018-01-01 → 2020-07-01 = 912 days = 29.96 months
    t = dict(tables, sites=tables["sites"].iloc[[3]])
    text = write_work_summary(t, year=2021).text
    assert "安置区建设周期中位数为30.0个月" in text
    assert "无超过3年未交付的安置区" in text


def test_summary_cannot_compute_without_data():
    only_payments = {
        "payments": frame(
            "payments", [{"date": "2021-05-10", "kind": "工作经费", "amount_yuan": 1000.0}]
        )
    }
    ws = write_work_summary(only_payments, year=2021)
    text = ws.text
    assert "2021年推进重点及统筹项目（台账未提供2021年征收项目数据，无法计算）。" in text
    assert "已签协议待付款缺口资金（台账未提供征收补偿协议数据，无法计算）" in text
    assert "征拆资金到位情况（台账未提供资金到位数据，无法计算）" in text
    assert "过渡安置情况（台账未提供过渡安置数据，无法计算）" in text
    assert "安置房建设交付情况（台账未提供安置区数据，无法计算）" in text
    assert "征地“最后一公里”卡点面积（台账未提供2021年征收项目数据，无法计算）" in text
    assert ws.figures.empty  # no number was invented
    assert list(ws.figures.columns) == [
        "name",
        "scope",
        "value",
        "text",
        "unit",
        "definition",
        "origins",
    ]


def test_summary_empty_year(tables):
    text = write_work_summary(tables, year=2020, as_of="2021-12-31").text
    assert "2020年推进重点及统筹项目（台账未提供2020年征收项目数据，无法计算）" in text
    assert "已签协议待付款缺口资金140.00万元" in text  # cumulative figures still computed


def test_summary_zero_and_missing_targets():
    p = frame(
        "projects",
        [
            {
                "project_name": "甲",
                "category": "市下达",
                "year": 2021,
                "land_target_mu": 0.0,
                "land_done_mu": 5.0,
            },
            {
                "project_name": "乙",
                "category": "区统筹",
                "year": 2021,
                "land_done_mu": 3.0,
                "house_target_m2": 0.0,
                "house_done_m2": 0.0,
            },
        ],
    )
    text = write_work_summary({"projects": p}, year=2021).text
    # 市下达: target 0 → the rate cannot be computed
    assert (
        "其中市下达项目1个，土地征收目标任务0.00亩，已完成5.00亩，完成率无法计算（目标任务为0）"
        in text
    )
    # 区统筹: the only land target is missing → no number
    assert (
        "区统筹项目1个，土地征收目标任务（台账未提供征地任务数据，无法计算），已完成3.00亩" in text
    )
    # overall: one of two land targets missing → summed as 0 and said so
    assert "土地征收目标任务0.00亩（1个项目未填报，按0计）" in text
    assert "台账未登记征地“最后一公里”卡点面积。" in text


def test_summary_blockers_with_zero_area_are_not_listed(tables):
    p = tables["projects"].assign(blocked_mu=[30.5, 0.0, 18.75, None])
    text = write_work_summary(dict(tables, projects=p), year=2021).text
    # 军事用地 0 亩 and 留用地 NA (summed as 0) are not written
    assert "剩余未完成征地中，涉及公建单位30.50亩、双高糖料蔗基地18.75亩，“最后一公里”" in text


def test_summary_negative_balance_and_as_of(tables):
    t = dict(tables, funding=frame("funding", [{"date": "2021-01-10", "amount_yuan": 100_000.0}]))
    ws = write_work_summary(t, year=2021, as_of="2021-12-31")
    # 10 万 received − 44.2 万 paid = −34.2 万
    assert "支出超过到位资金34.20万元（由其他资金垫付）" in ws.text
    mid = write_work_summary(tables, year=2021, as_of="2021-06-30")
    assert "截至2021年6月30日" in mid.text
    assert "截至年末" not in mid.text
    # by 2021-06-30 only B1 is signed: 100 万 − 40 万 = 60 万
    assert "已签协议待付款缺口资金60.00万元" in mid.text


def test_summary_no_funding_ledger(tables):
    t = {k: v for k, v in tables.items() if k != "funding"}
    text = write_work_summary(t, year=2021).text
    assert "征拆资金到位情况（台账未提供资金到位数据，无法计算）" in text
    assert "已签协议待付款缺口资金140.00万元" in text


def test_summary_is_deterministic_and_does_not_modify_inputs(tables):
    before = {k: v.copy(deep=True) for k, v in tables.items()}
    a = write_work_summary(tables, year=2021)
    b = write_work_summary(tables, year=2021)
    assert a.text == b.text
    pd.testing.assert_frame_equal(a.figures, b.figures)
    for k, v in tables.items():
        pd.testing.assert_frame_equal(v, before[k])


def _json_value(kf: dict, name: str, scope):
    """The key-figures value of a summary figure (scoped ones from their nested objects)."""
    if scope is None or (isinstance(scope, float) and pd.isna(scope)):
        return kf[name]
    if scope in kf["progress_by_category"]:
        return kf["progress_by_category"][scope][name]
    return kf[name].get(scope)


@pytest.mark.parametrize(
    "missing",
    [
        (),
        ("projects",),
        ("agreements",),
        ("payments",),
        ("funding",),
        ("sites",),
        ("transition",),
        ("funding", "sites", "transition"),
    ],
)
def test_summary_agrees_with_key_figures_on_missing_ledgers(tables, missing):
    from zhengshou_analysis.figures import compute_key_figures

    full = write_work_summary(tables, year=2021).figures
    t = {k: v for k, v in tables.items() if k not in missing}
    ws = write_work_summary(t, year=2021)
    kf = compute_key_figures(t, year=2021)
    # every number the text writes is a number in the JSON, the same value
    for r in ws.figures.itertuples(index=False):
        value = _json_value(kf, r.name, r.scope)
        if r.value is None:
            assert value is None, r.name
        else:
            assert value is not None, (r.name, r.scope)
            assert value == pytest.approx(r.value, abs=0.01), r.name
    # every figure the text stops writing because a ledger is missing is null in the JSON
    # (total_paid_yuan and funds_required_yuan need no funding ledger: the 到位 sentence they sit
    # in is left out when there is none, but they are known)
    known = ("median_build_months", "total_paid_yuan", "funds_required_yuan")
    now = set(zip(ws.figures["name"], ws.figures["scope"], strict=True))
    for name, scope in zip(full["name"], full["scope"], strict=True):
        if (name, scope) not in now and name not in known:
            assert _json_value(kf, name, scope) in (None, {}), (name, scope)
    assert ("无法计算" in ws.text) == any(m != "payments" for m in missing)
    assert kf["missing_ledgers"] == [m for m in tables if m in missing]


def test_summary_without_transition_ledger_does_not_count_fees_as_zero(tables):
    t = {k: v for k, v in tables.items() if k != "transition"}
    text = write_work_summary(t, year=2021).text
    # before: 合计需资金180.00万元 (the accrued fees of a missing ledger taken as 0) and a ratio
    assert "合计所需资金（台账未提供过渡安置数据，无法计算），资金到位率无法计算。" in text
    assert "合计需资金180.00万元" not in text
    assert "过渡安置情况（台账未提供过渡安置数据，无法计算）" in text
    assert "等待回迁安置户数（台账未提供过渡安置数据，无法计算）" in text


def test_summary_computes_site_status_once(tables, monkeypatch):
    import zhengshou_analysis.figures.context as ctx

    calls = []
    real = ctx.site_status_of
    monkeypatch.setattr(ctx, "site_status_of", lambda *a, **k: calls.append(1) or real(*a, **k))
    write_work_summary(tables, year=2021)
    assert len(calls) == 1


def test_forward_answers_quote_the_forecasts():
    from pathlib import Path

    from zhengshou_analysis.forecast.delivery import forecast_site_delivery
    from zhengshou_analysis.forecast.gap import forecast_funding_gap
    from zhengshou_analysis.formatting import fmt_yuan_prose
    from zhengshou_analysis.ledger.clean import clean_ledgers
    from zhengshou_analysis.report.summary import write_forward_answers

    tables = clean_ledgers(Path(__file__).resolve().parents[1] / "data" / "demo").tables
    gap = forecast_funding_gap(tables, as_of="2021-12-31", n_paths=500, seed=1)
    delivery = forecast_site_delivery(tables["sites"], as_of="2021-12-31")
    text = write_forward_answers(gap, delivery)
    lines = text.splitlines()
    assert [line[:2] for line in lines] == ["一、", "二、", "三、"]
    assert f"{len(delivery.summary)}个未交付安置区" in lines[0]
    assert fmt_yuan_prose(gap.summary.iloc[0]["fee_p50_yuan"]) in lines[1]
    gap50 = gap.summary.iloc[0]["gap_p50_yuan"]
    assert fmt_yuan_prose(abs(gap50)) in lines[2]
    assert ("结余" if gap50 <= 0 else "缺口") in lines[2]


# ------------------------------------------------------------------ prose (issue 14)
def test_missing_values_are_noted_once_per_clause(tables):
    # Q3 has neither a house target nor a house done figure: one note after both numbers
    p = tables["projects"].copy()
    p.loc[p["project_id"] == "Q3", ["house_target_m2", "house_done_m2"]] = None
    text = write_work_summary(dict(tables, projects=p), year=2021).text
    first = text.splitlines()[0]
    assert first.count("按0计") == 1
    assert "已完成5.00万平方米（目标任务和完成量均有1个项目未填报，按0计），完成率62.5%" in first
    # different projects missing: each number keeps its own note
    p.loc[p["project_id"] == "Q4", "house_done_m2"] = None
    text = write_work_summary(dict(tables, projects=p), year=2021).text
    first = text.splitlines()[0]
    assert "房屋征收目标任务8.00万平方米（1个项目未填报，按0计）" in first
    assert "已完成4.20万平方米（2个项目未填报，按0计）" in first


def test_monthly_fee_is_said_once(tables):
    text = write_work_summary(tables, year=2021).text
    assert "万元/月" not in text
    assert "每月需支付过渡安置费0.34万元；" in text


def test_large_sums_in_yi_and_separators(tables):
    a = tables["agreements"].copy()
    a.loc[a["agreement_id"] == "B1", "compensation_yuan"] = 1_299_752_037.0
    text = write_work_summary(dict(tables, agreements=a), year=2021).text
    # 1299752037 + 500000 + 300000 = 1300552037 → 13.01亿元; gap 1300152037 → 13.00亿元
    assert "累计签订征收补偿协议金额13.01亿元" in text
    assert "已签协议待付款缺口资金13.00亿元" in text
    p = tables["projects"].assign(land_target_mu=[7000.0, 100.0, 60.0, 40.0])
    text = write_work_summary(dict(tables, projects=p), year=2021).text
    assert "土地征收目标任务7,200.00亩" in text
    assert "2021年推进" in text  # years are not grouped


def _problems(tables, **kw):
    from zhengshou_analysis.figures import Analysis
    from zhengshou_analysis.report.summary import write_problems

    return {p.topic: p for p in write_problems(Analysis(tables, year=2021, **kw))}


def test_problems_drafted_from_the_figures(tables):
    problems = _problems(tables)
    assert list(problems) == ["funding", "transition", "sites", "blockers"]
    funding = problems["funding"].text
    # overdue 110 万 of a 140 万 gap, by age: 50 万 under 3 months, 60 万 6–12 months
    assert "已签协议待付款缺口资金140.00万元，其中110.00万元已超过支付期限仍未支付" in funding
    assert "按逾期时长分：不足3个月的50.00万元、6至12个月的60.00万元。" in funding
    assert "3至6个月" not in funding  # an empty band is not written
    assert "资金到位率80.5%，到位资金不足" in funding
    assert "垫付" not in funding  # the balance is positive
    fees = problems["transition"].text
    assert "拖欠群众过渡安置费2.04万元（累计应付6.24万元，已支付4.20万元）" in fees
    assert "累计增加过渡安置费0.72万元" in fees
    sites = problems["sites"].text
    assert "已开工的4个安置区中，2个已超过约定交付日期仍未交付" in sites
    assert "蓝田安置区、白凹窝安置区共2个安置区开工已超过3年仍未交付" in sites
    # blockers, largest first, with their sum 30.5 + 12 + 18.75 + 6 = 67.25 亩
    assert (
        "卡点无法推进的面积合计67.25亩，其中公建单位30.50亩、双高糖料蔗基地18.75亩、"
        "军事用地12.00亩、留用地6.00亩" in problems["blockers"].text
    )
    # every figure a problem writes is in its text and is the period's figure
    for p in problems.values():
        assert len(p.figures)
        for t in p.figures["text"]:
            assert t.split("（")[0] in p.text


def test_problems_left_out_when_the_figures_show_none(tables):
    # everything paid on time, funds ample, fees paid, sites young, no blocker
    agreements = tables["agreements"].iloc[[2]]  # B3: not yet due
    projects = tables["projects"].assign(blocked_mu=0.0)
    sites = tables["sites"].iloc[[1, 3]]  # 三合 (started 2019, promised 2022) and 文华雅苑
    transition = tables["transition"].iloc[[1]]  # T2: paid in full, within its term
    t = dict(
        tables,
        agreements=agreements,
        projects=projects,
        sites=sites,
        transition=transition,
        funding=frame("funding", [{"date": "2021-03-01", "amount_yuan": 5_000_000.0}]),
    )
    problems = _problems(t)
    assert problems == {}
    # one problem back: an overdue agreement brings the funding paragraph, and only it
    t["agreements"] = tables["agreements"].iloc[[1, 2]]  # B2: 30 days overdue
    t["payments"] = tables["payments"].iloc[[2]]
    problems = _problems(t)
    assert list(problems) == ["funding"]
    assert "其中50.00万元已超过支付期限仍未支付，按逾期时长分：不足3个月的50.00万元。" in (
        problems["funding"].text
    )


def test_problems_without_ledgers_invent_nothing(tables):
    problems = _problems({"payments": tables["payments"]})
    assert problems == {}
