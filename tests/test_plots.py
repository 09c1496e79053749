"""Charts without overlaps: every plot function, on the demo year and on hostile hand-made frames.

Each chart is drawn at its final size and measured with the renderer (``Text.get_window_extent``):
no two texts of a figure (tick labels, value labels, axis labels, titles, the legend) may intersect,
no legend may cover a plotted mark, bar charts side by side share one scale, and lines on one axes
differ in size by less than :data:`~zhengshou_analysis.report.plots.MAX_PANEL_RATIO`.
"""

from __future__ import annotations

import base64
import io
import itertools
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from zhengshou_analysis.report import plots

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
#: Pixels two boxes may share (anti-aliasing of glyph edges).
TOUCH = 0.5

LONG_ZONES = [
    "城区外围片区（含江南工业园二期扩展区）",
    "港城片区",
    "贵城街道办事处所辖老城区棚户区改造片区",
    "覃塘片区",
    "西江产业园片区",
]


# --- measuring ---------------------------------------------------------------------------------


def _visible(t) -> bool:
    return t.get_visible() and bool(str(t.get_text()).strip())


def _in_view(ax, t, axis: str) -> bool:
    """Whether a tick label's tick lies inside the view limits (matplotlib draws only those)."""
    lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    v = t.get_position()[0 if axis == "x" else 1]
    tol = (hi - lo) * 1e-9
    return lo - tol <= v <= hi + tol


def text_boxes(fig) -> list[tuple[str, object]]:
    """(description, display bbox) of every visible text of ``fig``; a legend counts as one box."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    out = []
    if fig._suptitle is not None and _visible(fig._suptitle):
        out.append((f"suptitle {fig._suptitle.get_text()!r}", fig._suptitle.get_window_extent(r)))
    for i, ax in enumerate(fig.axes):
        texts = [("text", t) for t in ax.texts] + [
            ("title", ax.title),
            ("title", ax._left_title),
            ("title", ax._right_title),
            ("xlabel", ax.xaxis.label),
            ("ylabel", ax.yaxis.label),
            ("offset", ax.xaxis.offsetText),
            ("offset", ax.yaxis.offsetText),
        ]
        texts += [("xtick", t) for t in ax.get_xticklabels() if _in_view(ax, t, "x")]
        texts += [("ytick", t) for t in ax.get_yticklabels() if _in_view(ax, t, "y")]
        for kind, t in texts:
            if _visible(t):
                out.append((f"axes {i} {kind} {t.get_text()!r}", t.get_window_extent(r)))
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            out.append((f"axes {i} legend", legend.get_window_extent(r)))
    return out


def _intersect(a, b) -> bool:
    return (
        a.x0 < b.x1 - TOUCH and b.x0 < a.x1 - TOUCH and a.y0 < b.y1 - TOUCH and b.y0 < a.y1 - TOUCH
    )


def overlaps(fig) -> list[str]:
    """Every pair of intersecting text boxes of ``fig``, described."""
    return [
        f"{na} × {nb}"
        for (na, a), (nb, b) in itertools.combinations(text_boxes(fig), 2)
        if _intersect(a, b)
    ]


def _marks(ax) -> np.ndarray:
    """Display positions of the plotted marks of ``ax``: line points, bar corners, band vertices."""
    pts = []
    for line in ax.get_lines():
        if isinstance(line, Line2D) and line.get_visible():
            xy = np.column_stack(
                [
                    ax.convert_xunits(np.asarray(line.get_xdata(orig=False), dtype=object)),
                    np.asarray(line.get_ydata(orig=False), dtype="float64"),
                ]
            ).astype("float64")
            pts.append(line.get_transform().transform(xy))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible():
            pts.append(patch.get_window_extent().corners())
    for coll in ax.collections:
        if isinstance(coll, PolyCollection):
            for path in coll.get_paths():
                pts.append(coll.get_transform().transform(path.vertices))
    pts = [p for p in pts if len(p)]
    if not pts:
        return np.empty((0, 2))
    allp = np.vstack(pts)
    return allp[np.isfinite(allp).all(axis=1)]


def covered_marks(fig) -> list[str]:
    """Plotted marks lying inside a legend box."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    found = []
    for i, ax in enumerate(fig.axes):
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(r)
        for other in fig.axes:  # a legend outside its axes must not cover a neighbour's marks
            for x, y in _marks(other):
                if box.x0 < x < box.x1 and box.y0 < y < box.y1:
                    found.append(f"axes {i} legend covers a mark at ({x:.0f}, {y:.0f}) px")
    return found


def magnitude_mixes(fig) -> list[str]:
    """Axes whose series differ in size (largest absolute value) by MAX_PANEL_RATIO or more.

    A series is a labelled line (one the legend names); unlabelled lines are marks such as a
    promise tick or a reference line, not quantities.
    """
    found = []
    for i, ax in enumerate(fig.axes):
        sizes = [
            float(np.nanmax(np.abs(np.asarray(line.get_ydata(), dtype="float64"))))
            for line in ax.get_lines()
            if not str(line.get_label()).startswith("_")
            and len(line.get_ydata())
            and np.isfinite(np.asarray(line.get_ydata(), dtype="float64")).any()
        ]
        sizes = [s for s in sizes if s > 0]
        if len(sizes) > 1 and max(sizes) >= plots.MAX_PANEL_RATIO * min(sizes):
            found.append(f"axes {i}: line sizes {sorted(sizes)}")
    return found


def assert_clean(fig, name: str) -> None:
    """All three layout rules, with every offence named."""
    problems = overlaps(fig) + covered_marks(fig) + magnitude_mixes(fig)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


# --- the checks can fail -------------------------------------------------------------------------


def test_the_checks_catch_overlaps_covered_marks_and_mixed_sizes():
    plots.use_report_style()
    fig, ax = plt.subplots()
    ax.set_yticks([0, 1], ["港城片区", "贵城片区"])
    ax.text(0, 1, "港城片区  1,234.00", ha="right")  # overprints the tick label
    assert any("港城片区" in o or "贵城片区" in o for o in overlaps(fig))
    plt.close(fig)

    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1, 2, 3], marker="o", label="甲")
    ax.legend(loc="center")  # over the middle point
    assert covered_marks(fig)
    ax.plot([0, 1, 2], [100, 200, 300], label="乙")
    assert magnitude_mixes(fig)
    plt.close(fig)


# --- demo data ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    """The demo year 2021 as the pages see it."""
    from zhengshou_analysis.report.session import load_report

    return load_report(DEMO, year=2021)


def _demo_figures(rep) -> dict[str, object]:
    """Every chart of the pages, drawn as the notebooks draw it (one figure each)."""
    from zhengshou_analysis.figures import age_band_labels_zh, compute_progress

    a = rep.analysis
    plots.use_report_style()
    figs = {}
    by_zone = compute_progress(a.tables["projects"], year=rep.year, by="zone")
    axes = plots.plot_bar_pair(
        by_zone,
        label="zone",
        values={"land_target_mu": "征地任务（亩）", "land_done_mu": "已完成征地（亩）"},
        unit="亩",
        scale=1,
    )
    figs["20_progress 按片区"] = axes[0].figure
    ax = plots.plot_bars(
        a.blocked, label="blocker", value="blocked_mu", title="卡点面积（亩）", unit="亩", scale=1
    )
    figs["20_progress 卡点"] = ax.figure
    by_age = a.overdue_by_age().assign(age_band_zh=age_band_labels_zh(a.policy.age_bands_months))
    ax = plots.plot_bars(
        by_age,
        label="age_band_zh",
        value="overdue_unpaid_yuan",
        title="逾期未付补偿款（万元）",
        horizontal=False,
    )
    figs["30_funding 账龄"] = ax.figure
    figs["30_funding 资金到位"] = plots.plot_monthly_inflows(
        a.inflows.frames["history"], forecast=a.inflows.summary
    ).figure
    by_site = a.transition_fees_by("site").sort_values("arrears_yuan", ascending=False)
    figs["40_transition_fees 拖欠"] = plots.plot_bars(
        by_site, label="site_name", value="arrears_yuan", title="过渡安置费拖欠（万元）"
    ).figure
    figs["50_delivery 时间线"] = plots.plot_site_timeline(a.site_status, as_of=a.as_of).figure
    figs["50_delivery 生存曲线"] = plots.plot_build_survival(a.survival.summary).figure
    return figs


def test_every_demo_chart_is_free_of_overlaps(demo):
    figs = _demo_figures(demo)
    try:
        for name, fig in figs.items():
            assert_clean(fig, name)
    finally:
        for fig in figs.values():
            plt.close(fig)


def test_the_index_trend_puts_sizes_apart_and_has_no_overlap():
    from zhengshou_analysis.report import index

    rows = [
        {"year": 2019, "unpaid_gap_yuan": 9.1e8, "transition_fee_arrears_yuan": 2.1e6},
        {"year": 2020, "unpaid_gap_yuan": 1.2e9, "transition_fee_arrears_yuan": 2.9e6},
        {"year": 2021, "unpaid_gap_yuan": 1.35e9, "transition_fee_arrears_yuan": 3.1e6},
    ]
    series = {
        "unpaid_gap_yuan": "已签协议待付款缺口",
        "transition_fee_arrears_yuan": "过渡安置费拖欠",
        "funds_received_yuan": "累计到位资金",
    }
    for r, cum in zip(rows, [1.1e9, 1.25e9, 1.35e9], strict=True):
        r["funds_received_yuan"] = cum
    fig, axes = plots.plot_trend_panels(
        pd.DataFrame(rows), x="year", series=series, unit="万元", scale=1e4, title="走势"
    )
    try:
        assert len(axes) == 2  # the arrears on their own panel
        assert_clean(fig, "plot_trend_panels")
        assert [len(ax.get_lines()) for ax in axes] == [2, 1]
    finally:
        plt.close(fig)
    png = base64.b64decode(index._trend_png(rows))  # what the index embeds
    assert png.startswith(b"\x89PNG")


def test_group_by_magnitude():
    g = plots.group_by_magnitude
    assert g({"a": 135_000.0, "b": 300.0, "c": 90_000.0}) == [["a", "c"], ["b"]]
    assert g({"a": 1.0, "b": 19.9}) == [["a", "b"]]
    assert g({"a": 1.0, "b": 20.0}) == [["b"], ["a"]]
    assert g({"a": 0.0, "b": 5.0, "c": float("nan")}) == [["a", "b", "c"]]
    assert g({}) == []


def test_side_by_side_bars_share_one_scale_and_name_once(demo):
    df = pd.DataFrame(
        {"zone": LONG_ZONES, "target": [5, 4000, 120, 0, 88], "done": [5, 20, 2, 0, 1]}
    )
    axes = plots.plot_bar_pair(
        df,
        label="zone",
        values={"target": "任务（亩）", "done": "已完成（亩）"},
        unit="亩",
        scale=1,
    )
    fig = axes[0].figure
    try:
        assert axes[0].get_xlim() == axes[1].get_xlim()
        top_down = sorted(axes[0].get_yticklabels(), key=lambda t: -t.get_position()[1])
        assert [t.get_text() for t in top_down] == LONG_ZONES
        assert not any(t.get_visible() for t in axes[1].get_yticklabels())
        assert_clean(fig, "plot_bar_pair")
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="two measures"):
        plots.plot_bar_pair(df, label="zone", values={"target": "任务"})


# --- hostile hand-made frames ------------------------------------------------------------------


@pytest.mark.parametrize("horizontal", [True, False])
@pytest.mark.parametrize(
    "values",
    [
        [1.2e12, 3.0e2, 5.5e9, 0.0, 7.7e7],  # 1 亿亿元 beside 0.03万元
        [-4.0e8, 2.0e8, 1.0e3, -1.0e2, 9.9e8],  # negative balances
        [1.0, 1.0, 1.0, 1.0, 1.0],
    ],
)
def test_bars_with_long_names_and_extreme_values(horizontal, values):
    df = pd.DataFrame({"zone": LONG_ZONES, "v": values})
    ax = plots.plot_bars(df, label="zone", value="v", title="金额（万元）", horizontal=horizontal)
    try:
        assert_clean(ax.figure, f"plot_bars horizontal={horizontal} {values}")
        # every value label inside the axes: it can reach no neighbour
        r = ax.figure.canvas.get_renderer()
        box = ax.get_window_extent(r)
        for t in ax.texts:
            e = t.get_window_extent(r)
            assert box.x0 - TOUCH <= e.x0 and e.x1 <= box.x1 + TOUCH, t.get_text()
            assert box.y0 - TOUCH <= e.y0 and e.y1 <= box.y1 + TOUCH, t.get_text()
    finally:
        plt.close(ax.figure)


def test_value_labels_use_the_number_style():
    df = pd.DataFrame({"k": ["甲"], "v": [1_299_752_000.0]})
    ax = plots.plot_bars(df, label="k", value="v", title="t")
    try:
        assert [t.get_text().strip() for t in ax.texts] == ["129,975.20"]
    finally:
        plt.close(ax.figure)


def test_timeline_of_many_sites_with_long_names():
    rng = np.random.default_rng(3)
    n = 24
    start = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D")
    sites = pd.DataFrame(
        {
            "site_name": [f"{LONG_ZONES[i % 5]}第{i + 1}安置小区" for i in range(n)],
            "start_date": start,
            "promised_date": start + pd.to_timedelta(rng.integers(500, 1500, n), unit="D"),
            "delivered_date": [
                s + pd.Timedelta(days=int(d)) if i % 3 else pd.NaT
                for i, (s, d) in enumerate(zip(start, rng.integers(400, 2500, n), strict=True))
            ],
        }
    )
    ax = plots.plot_site_timeline(sites, as_of="2021-12-31")
    try:
        assert_clean(ax.figure, "plot_site_timeline")
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "约定交房日期" in labels and "统计截止日" in labels
    finally:
        plt.close(ax.figure)


def test_inflows_and_survival_legends_hide_nothing():
    months = pd.period_range("2016-01", "2021-12", freq="M")
    history = pd.DataFrame(
        {"inflow_yuan": np.linspace(1e6, 9e8, len(months))[::-1]}, index=months
    )  # the tallest bars at the left, where a legend in the axes used to sit
    fc = pd.DataFrame(
        {
            "month": pd.period_range("2022-01", periods=12, freq="M"),
            "inflow_p10_yuan": np.full(12, 1e7),
            "inflow_p50_yuan": np.full(12, 5e8),
            "inflow_p90_yuan": np.full(12, 9e8),
        }
    )
    curve = pd.DataFrame(
        {
            "time_months": [6.0, 12.0, 30.0, 60.0],
            "surv_prob": [1.0, 0.95, 0.9, 0.85],  # stays high: the top right is full
            "ci_lower": [0.9, 0.8, 0.7, 0.6],
            "ci_upper": [1.0, 1.0, 1.0, 0.99],
        }
    )
    for ax in (
        plots.plot_monthly_inflows(history, forecast=fc),
        plots.plot_build_survival(curve),
        plots.plot_trend(
            pd.DataFrame({"y": [2020, 2021], "a": [1.0, 2.0], "b": [2.0, 1.5]}),
            x="y",
            series={"a": "甲", "b": "乙"},
            unit="万元",
            title="t",
        ),
    ):
        try:
            assert_clean(ax.figure, ax.get_title())
        finally:
            plt.close(ax.figure)


def test_empty_frames_draw_a_note_without_overlap():
    empty = pd.DataFrame({"k": pd.Series(dtype="str"), "v": pd.Series(dtype="float64")})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no missing glyph
        for ax in (
            plots.plot_bars(empty, label="k", value="v", title="无"),
            plots.plot_build_survival(pd.DataFrame(columns=["time_months", "surv_prob"])),
            plots.plot_site_timeline(
                pd.DataFrame(
                    columns=["site_name", "start_date", "promised_date", "delivered_date"]
                ),
                as_of="2021-12-31",
            ),
        ):
            try:
                assert_clean(ax.figure, "empty")
                buf = io.BytesIO()
                ax.figure.savefig(buf, format="png")
            finally:
                plt.close(ax.figure)
