"""The tables of the six pages, declared once (report/tables.py), and the data-quality page in Chinese."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zhengshou_analysis.ledger.quality import (
    ACTION_LABELS,
    MESSAGE_RENDERERS,
    message_zh,
    quality_log_zh,
    reason_zh,
    summarize_rejected,
)
from zhengshou_analysis.report.session import Report, headline_figures, headline_values
from zhengshou_analysis.report.tables import (
    PAGE_TABLES,
    PAGES,
    TOTAL_FLAG,
    TOTAL_LABEL,
    PageTable,
    add_total_row,
    display_table,
    page_table,
    page_tables,
)
from zhengshou_analysis.settings import resolve_as_of

ROOT = Path(__file__).resolve().parents[1]
LEDGER_SRC = ROOT / "src" / "zhengshou_analysis" / "ledger"


@pytest.fixture(scope="module")
def rep(demo_ledgers) -> Report:
    """The demo's 2021 reporting context (read only)."""
    return Report(2021, resolve_as_of(None, year=2021), demo_ledgers, None, True)


# --- the declaration and the notebooks ------------------------------------------------------------


def _notebook_sources() -> dict[str, str]:
    out = {}
    for name in PAGES:  # the six of a year and the month's
        nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
        out[name] = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    return out


def test_notebooks_show_exactly_the_declared_tables_in_order():
    shown_anywhere = []
    for page, source in _notebook_sources().items():
        shown = re.findall(r'show_page_table\(rep, "([a-z_0-9]+)"\)', source)
        declared = [k for k, t in PAGE_TABLES.items() if t.page == page]
        assert shown == declared, page  # every table of the page, once, in declaration order
        assert "show_table(" not in source, page  # no table shown outside the declaration
        for key in re.findall(r'(?<!show_)page_table\(rep, "([a-z_0-9]+)"', source):
            assert key in declared, (page, key)  # a chart's data is a table of its own page
        shown_anywhere += shown
    assert sorted(shown_anywhere) == sorted(PAGE_TABLES)


def test_declarations_are_in_page_order_with_valid_unique_sheet_names():
    order = list(PAGES)
    pages = [order.index(t.page) for t in PAGE_TABLES.values()]
    assert pages == sorted(pages)
    sheets = [t.sheet for t in PAGE_TABLES.values()]
    assert len(set(sheets)) == len(sheets)
    assert all(0 < len(s) <= 31 and not set(s) & set("[]:*?/\\") for s in sheets)
    assert PAGE_TABLES["headline"].caption == "表1 主要指标"
    with pytest.raises(ValueError, match="sheet name"):
        PageTable("x", "00_overview", "表", "a/b", {}, lambda rep: pd.DataFrame())
    with pytest.raises(ValueError, match="page must be"):
        PageTable("x", "99_none", "表", "x", {}, lambda rep: pd.DataFrame())


# --- the 合计 row ----------------------------------------------------------------------------------


def test_total_row_recomputes_a_ratio_from_the_sums_and_never_averages():
    table = PageTable(
        "t",
        "20_progress",
        "表 试",
        "试",
        {
            "zone": ("片区", "text"),
            "note": ("备注", "text"),
            "n": ("项目（个）", "count"),
            "done": ("已完成（亩）", "mu"),
            "target": ("任务（亩）", "mu"),
            "rate": ("完成率", "pct"),
        },
        lambda rep: pd.DataFrame(),
        total=True,
        ratios={"rate": ("done", "target")},
    )
    df = pd.DataFrame(
        {
            "zone": ["甲", "乙"],
            "note": ["x", "y"],
            "n": [1, 3],
            "done": [1.0, 9.0],
            "target": [2.0, 10.0],
            "rate": [0.5, 0.9],
        }
    )
    out = add_total_row(df, table)
    assert len(df) == 2 and TOTAL_FLAG not in df  # not modified
    total = out.iloc[-1]
    assert total["zone"] == TOTAL_LABEL and pd.isna(total["note"])
    assert total[TOTAL_FLAG] and not out[TOTAL_FLAG].iloc[:-1].any()
    assert total["n"] == 4 and total["done"] == 10.0 and total["target"] == 12.0
    assert total["rate"] == pytest.approx(10 / 12)  # not (0.5 + 0.9) / 2 = 0.7
    zero = add_total_row(df.assign(target=[0.0, 0.0]), table).iloc[-1]
    assert pd.isna(zero["rate"])  # no ratio over a zero denominator


def test_total_rows_of_the_demo_are_the_column_sums(rep):
    for key, t in PAGE_TABLES.items():
        if not t.total:
            continue
        df = page_table(rep, key)
        body, total = df[~df[TOTAL_FLAG].astype(bool)], df.iloc[-1]
        assert bool(total[TOTAL_FLAG]) and len(body) == len(df) - 1, key
        for col, (_, kind) in t.columns.items():
            if kind in ("wan_yuan", "mu", "wan_m2", "count") and col in df:
                want = pd.to_numeric(body[col], errors="coerce").sum()
                assert float(total[col]) == pytest.approx(want), (key, col)
        for ratio, (num, den) in t.ratios.items():
            assert float(total[ratio]) == pytest.approx(float(total[num]) / float(total[den]))


def test_total_rows_agree_with_the_key_figures(rep):
    kf = rep.analysis.key_figures(forecasts=True)
    zone = page_table(rep, "progress_zone").iloc[-1]
    for name in ("projects_count", "land_target_mu", "land_done_mu"):
        assert float(zone[name]) == pytest.approx(kf[name], abs=0.01), name
    assert zone["land_completion_rate"] == pytest.approx(kf["land_completion_rate"], abs=1e-6)
    gap = page_table(rep, "gap_zone").iloc[-1]
    assert gap["unpaid_gap_yuan"] == pytest.approx(kf["unpaid_gap_yuan"], abs=1)
    assert gap["signed_agreements_yuan"] == pytest.approx(kf["signed_agreements_yuan"], abs=1)
    fees = page_table(rep, "fees_zone").iloc[-1]
    assert fees["arrears_yuan"] == pytest.approx(kf["transition_fee_arrears_yuan"], abs=1)
    assert fees["households_active"] == kf["transition_households_active"]


def test_page_tables_without_total_for_charts_and_builders_keep_the_analysis(rep):
    before = rep.analysis.blocked.copy()
    rows = page_table(rep, "blocked", total=False)
    assert TOTAL_FLAG not in rows and len(rows) == len(before)
    rows.loc[0, "blocked_mu"] = -1.0
    pd.testing.assert_frame_equal(rep.analysis.blocked, before)
    top = page_table(rep, "gap_projects")
    assert len(top) <= 10 and top["unpaid_gap_yuan"].is_monotonic_decreasing
    age = page_table(rep, "overdue_age", total=False)
    assert age["age_band_zh"].str.contains("月").all()
    blocked = page_table(rep, "blocked_projects")
    assert blocked["blocker"].notna().all() and (blocked["year"] == 2021).all()
    assert list(page_tables(rep, "20_progress")) == [
        k for k, t in PAGE_TABLES.items() if t.page == "20_progress"
    ]


def test_headline_values_are_the_key_figures_in_base_units(rep):
    values = headline_values(rep).set_index("name")
    assert list(values.index) == [f.name for f in headline_figures()]
    kf = rep.analysis.key_figures(forecasts=True)
    for name, row in values.iterrows():
        assert row["now"] == pytest.approx(kf[name]), name
    shown, columns = display_table(rep, "headline")
    assert [label for label, _ in columns.values()] == ["指标", "2021年", "2020年", "变化"]
    rate = shown.set_index("name").loc["land_completion_rate"]
    assert rate["now"].endswith("%") and rate["change"].endswith("个百分点")
    assert all(callable(kind) for col, (_, kind) in columns.items() if col != "label")


# --- the data-quality page in Chinese --------------------------------------------------------------


def _action_codes_in_source() -> set[str]:
    """Every action code the cleaner's source can put into the quality log."""
    codes: set[str] = set()
    for path in LEDGER_SRC.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'"action": "([a-z_]+)"', text))
        # finding(origin, table, column, raw, "action", "severity", message)
        codes |= set(re.findall(r'"([a-z_]+)",\s*(?:"(?:info|warning|error)"|sev),', text))
        for a, b in re.findall(r'np\.where\(bad, "([a-z_]+)", "([a-z_]+)"\)', text):
            codes |= {a, b}
        codes |= set(re.findall(r'findings\.add\([^,]+,\s*"([a-z_]+)"', text, flags=re.DOTALL))
    codes -= {"info", "warning", "error"}
    return codes


def test_every_action_the_cleaner_can_produce_has_a_chinese_rendering():
    from zhengshou_analysis.ledger.parse import ACTIONS

    codes = _action_codes_in_source() | set(ACTIONS)
    assert {"rejected", "total_mismatch", "placeholder", "unmapped_header"} <= codes
    assert codes == set(ACTION_LABELS), codes ^ set(ACTION_LABELS)
    assert set(MESSAGE_RENDERERS) == set(ACTION_LABELS)


#: Latin words a reader may see: the profile file and its sections.
ALLOWED_WORDS = {"zhengshou", "toml", "headers", "zones", "xlsx", "xls", "csv", "xlsm"}


def _english_words(text: str) -> set[str]:
    """Latin words outside text quoted from a ledger (「…」) and outside file origins."""
    bare = re.sub(r"「[^」]*」", "", str(text))
    bare = re.sub(r"\S+\.(?:xlsx|xlsm|xls|csv)(?:#\S*)?", "", bare)
    bare = re.sub(r"\[headers\.\w+\]", "", bare)
    return {w for w in re.findall(r"[A-Za-z]{2,}", bare) if w not in ALLOWED_WORDS}


@pytest.mark.parametrize("fixture", ["demo_ledgers", "small_ledgers"])
def test_quality_log_for_readers_is_chinese(fixture, request):
    result = request.getfixturevalue(fixture)
    zh = quality_log_zh(result)
    assert len(zh) == len(result.quality_log)
    pd.testing.assert_series_equal(zh["origin"], result.quality_log["origin"])
    leaks = {m: _english_words(m) for m in zh["message"].unique() if _english_words(m)}
    assert not leaks, list(leaks.items())[:5]
    for col in ("table", "column", "action", "severity"):
        words = set().union(*(_english_words(v) for v in zh[col].unique()))
        assert not words, (col, words)
    rejected = summarize_rejected(result)
    assert len(rejected) == len(result.rejected)
    assert not set().union(*(_english_words(v) for v in rejected["reason"]), set())
    assert not set(rejected["table"]) & {"payments", "agreements", "transition", "projects"}


def test_the_machine_log_is_kept(demo_ledgers):
    log = demo_ledgers.quality_log
    assert log["message"].str.contains("difference").any()  # quality_log.csv unchanged
    assert (log["action"] == "total_mismatch").any()


def test_messages_of_the_issue_in_chinese():
    msg = (
        "列 I「征地(亩)累计完成」: 合计行 5,377.87 与明细之和 5,277.87 不符 "
        "(difference 100.00; stated total vs sum of detail rows)"
    )
    assert message_zh("total_mismatch", msg, table="projects", column="land_done_mu") == (
        "列 I「征地(亩)累计完成」：合计行 5,377.87 与明细之和 5,277.87 不符，相差 100.00"
    )
    dup = "重复的主键 agreement_id (duplicate key; first seen at a.xlsx#2022年!150)"
    assert (
        reason_zh("agreements", dup)
        == "协议编号重复（与前面的行相同，首次出现在 a.xlsx#2022年!150）"
    )
    both = "必填列缺失或无法解析 (列 B「付款日期」, required date); 支付金额（元） 必须大于0 (amount_yuan)"
    assert reason_zh("payments", both) == (
        "必填字段“支付日期”缺失或无法解析（列 B「付款日期」）；支付金额（元） 必须大于0"
    )
    # an action the renderer does not know: its Chinese part under a generic word, no English
    assert message_zh("new_kind", "某事 (something new)") == "清洗记录：某事"
    # a raw value in English stays quoted as written
    assert "「N/A」" in message_zh("placeholder", "列 B「日期」: 占位符「N/A」视为缺失 (NaT)")


def test_quality_page_tables_show_chinese(rep):
    totals = page_table(rep, "quality_totals")
    assert not totals["column"].str.contains("_").any()  # labels, not amount_yuan
    assert not totals["message"].str.contains("difference").any()
    rejected = page_table(rep, "quality_rejected")
    assert "资金支付台账" in set(rejected["table"])
    assert not rejected["cells"].str.contains('"').any()  # 表头：值, not JSON
    sheets = page_table(rep, "quality_sheets")
    body = sheets[~sheets[TOTAL_FLAG].astype(bool)]
    used = body[body["status"] == "已读取"]
    assert np.array_equal(used["raw_data_rows"], used["kept"] + used["rejected"])
