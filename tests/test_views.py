"""Display helpers and plots: escaped text, government number formats, a CJK font with every glyph."""

from __future__ import annotations

import io
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from zhengshou_analysis.ledger.quality import summarize_findings, summarize_sheets, summarize_totals
from zhengshou_analysis.report import plots
from zhengshou_analysis.report.views import FORMATS, assumptions_html, format_table, table_html

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> **粗体** [链接](http://x)"


def test_table_html_escapes_and_formats():
    df = pd.DataFrame(
        {
            "name": [HOSTILE, "蓝田安置区"],
            "yuan": [12_345_678.9, None],
            "rate": [0.6801, None],
            "mu": [7760.31, 0.0],
        }
    )
    page = table_html(
        df,
        {
            "name": ("名称", "text"),
            "yuan": ("金额（万元）", "wan_yuan"),
            "rate": ("完成率", "pct"),
            "mu": ("面积（亩）", "mu"),
        },
        caption="表<1>",
    )
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<caption>表&lt;1&gt;</caption>" in page
    assert '<td class="num">1,234.57</td>' in page and '<td class="num">68.0%</td>' in page
    assert '<td class="num">7,760.31</td>' in page and '<td class="num">0.00</td>' in page
    assert page.count("—") == 2  # missing values, never "nan"
    assert "nan" not in page.lower()


def test_format_table_keeps_input_and_order():
    df = pd.DataFrame({"b": [1.0], "a": [2.0]})
    out = format_table(
        df, {"a": ("甲", "count"), "missing": ("缺", "text"), "b": ("乙", "wan_yuan")}
    )
    assert list(out.columns) == ["甲", "乙"]
    assert df.columns.tolist() == ["b", "a"]
    assert FORMATS["wan_yuan"](125_000) == "12.50"
    assert FORMATS["wan_yuan"](1_299_752_000) == "129,975.20"
    assert FORMATS["mu"](2932) == "2,932.00" and FORMATS["mu"](639.5) == "639.50"
    assert FORMATS["count"](1234) == "1,234" and FORMATS["wan_m2"](123_456) == "12.35"


def test_table_html_aligns_numbers_right_and_keeps_dates_on_one_line():
    import re

    df = pd.DataFrame(
        {
            "name": ["蓝田安置区"],
            "when": [pd.Timestamp("2021-12-31")],
            "month": [pd.Timestamp("2023-07-31")],
            "n": [1234],
            "yuan": [1e8],
            "score": [0.5],
            "origin": [pd.Timestamp("2020-12-31")],
            "change": [0.098],
        }
    )
    page = table_html(
        df,
        {
            "name": ("安置区", "text"),
            "when": ("日期", "date"),
            "month": ("月份", "month"),
            "n": ("户数", "count"),
            "yuan": ("金额（万元）", "wan_yuan"),
            "score": ("分数", lambda v: f"{v:.3f}"),  # a callable giving numbers: right-aligned
            "origin": ("预测时间", lambda v: f"{v.year}年末"),  # a callable giving text: not
            "change": ("变化", lambda v: f"{v * 100:+.1f}个百分点"),  # a change of a rate: number
        },
    )
    cells = re.findall(r"<td( class=\"(\w+)\")?>([^<]*)</td>", page)
    by_text = {text: cls for _, cls, text in cells}
    assert by_text == {
        "蓝田安置区": "",
        "2021年12月31日": "date",
        "2023年7月": "date",
        "1,234": "num",
        "+9.8个百分点": "num",
        "10,000.00": "num",
        "0.500": "num",
        "2020年末": "",
    }
    heads = re.findall(r"<th( class=\"num\")?>([^<]*)</th>", page)
    assert [label for cls, label in heads if cls] == ["户数", "金额（万元）", "分数", "变化"]


def test_backtest_and_family_tables_speak_chinese():
    import re

    from zhengshou_analysis.forecast.inflows import MODEL_LABELS
    from zhengshou_analysis.report.views import BACKTEST_COLUMNS, FAMILY_COLUMNS, spec_zh

    backtest = pd.DataFrame(
        {
            "model": ["naive", "seasonal_naive", "ets", "sarimax", "ets"],
            "spec": [
                "naive: last month repeated",
                "seasonal naive: same month last year",
                "ETS(A,Ad,A)",
                "SARIMAX(0, 1, 1)x(0, 1, 1, 12)",
                "ets",  # a failed fit records the name only
            ],
            "mase": [4.994, 2.422, 3.475, 2.95, np.nan],
            "status": ["ok", "ok", "ok", "ok", "failed: LinAlgError('SVD did not converge')"],
            "chosen": [False, True, False, False, False],
        }
    )
    shown = format_table(backtest, BACKTEST_COLUMNS)
    family = format_table(
        pd.DataFrame({"distribution": ["weibull"], "aic": [1.0], "median_p50_months_after": [3]}),
        FAMILY_COLUMNS,
    )
    for frame in (shown, family):
        text = " ".join(frame.columns) + " " + " ".join(frame.astype(str).to_numpy().ravel())
        assert not re.search(r"[A-Za-z]", text), text
    assert shown["设定"].tolist()[3] == "1阶差分、1阶移动平均；按12个月的季节：1阶差分、1阶移动平均"
    assert shown["状态"].tolist()[-1] == "计算失败"
    assert not any(re.search(r"[A-Za-z]", label) for label in MODEL_LABELS.values())
    assert spec_zh("SARIMAX(1, 0, 0)x(0, 0, 0, 12)") == "1阶自回归；无季节项"


def test_assumptions_html_escapes_and_puts_the_warning_first():
    from types import SimpleNamespace

    r = SimpleNamespace(
        assumptions={
            "warning": "数据很少<b>",
            "why": "选用<模型>",
            "n_paths": 10,
            "nested": {"statement": "删失&处理"},
        }
    )

    page = assumptions_html(r)
    assert page.index("zs-warn") < page.index("zs-assume")
    assert "数据很少&lt;b&gt;" in page and "选用&lt;模型&gt;" in page and "删失&amp;处理" in page
    assert "模拟路径数：10" in page


def test_plots_draw_chinese_without_missing_glyphs():
    plots.use_report_style()
    sites = pd.DataFrame(
        {
            "site_name": ["蓝田安置区", "堤路园(二)A安置区"],
            "start_date": pd.to_datetime(["2016-03-01", "2017-01-01"]),
            "promised_date": pd.to_datetime(["2018-09-19", "2019-01-01"]),
            "delivered_date": pd.to_datetime([None, "2019-06-30"]),
        }
    )
    curve = pd.DataFrame(
        {
            "time_months": [23.0, 30.0],
            "surv_prob": [0.8, 0.4],
            "ci_lower": [0.4, 0.1],
            "ci_upper": [0.95, 0.8],
        }
    )
    history = pd.DataFrame(
        {"inflow_yuan": [1e6, 0.0, 3e6]}, index=pd.period_range("2021-10", periods=3, freq="M")
    )
    fc = pd.DataFrame(
        {
            "month": pd.period_range("2022-01", periods=2, freq="M"),
            "inflow_p10_yuan": [0.0, 1e5],
            "inflow_p50_yuan": [1e6, 2e6],
            "inflow_p90_yuan": [3e6, 4e6],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would raise here
        fig, axes = plt.subplots(2, 2, figsize=(10, 7))
        plots.plot_bars(
            pd.DataFrame({"k": ["公建单位", "双高糖料蔗基地"], "v": [48.88, 180.18]}),
            label="k",
            value="v",
            title="卡点面积（亩）",
            unit="亩",
            scale=1,
            ax=axes[0, 0],
        )
        plots.plot_site_timeline(sites, as_of="2021-12-31", ax=axes[0, 1])
        plots.plot_build_survival(curve, ax=axes[1, 0])
        plots.plot_monthly_inflows(history, forecast=fc, ax=axes[1, 1])
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
    img = plt.imread(io.BytesIO(buf.getvalue()))
    assert img.std() > 0.05  # something was drawn
    assert plots.cjk_font_name() == "Noto Sans CJK SC"
    assert matplotlib.rcParams["font.sans-serif"][0] == "Noto Sans CJK SC"


def test_quality_summaries(small_ledgers):
    cleaned = small_ledgers
    sheets = summarize_sheets(cleaned)
    used = sheets[sheets["status"] == "已读取"]
    assert (used["raw_data_rows"] == used["kept"] + used["rejected"]).all()
    assert "隐藏未读" in set(sheets["status"]) and "跳过" in set(sheets["status"])
    findings = summarize_findings(cleaned)
    assert findings["severity"].iloc[0] == "警告"  # warnings before information
    assert "合计/小计与明细不符" in set(findings["action"])
    totals = summarize_totals(cleaned)
    assert totals["ok"].iloc[0] == "不符"
    assert np.array_equal(totals.columns, ["origin", "column", "ok", "message"])
