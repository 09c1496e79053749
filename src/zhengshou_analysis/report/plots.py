"""Plots for reviewers: one style, Chinese labels, a CJK font that works on a fresh machine.

The font is Noto Sans CJK SC, shipped inside the ``mplfonts`` wheel (a dependency of this package,
SIL Open Font License); it is registered with matplotlib from that file, so no system font and no
download is needed, and no glyph is missing (no tofu boxes).

Every ``plot_*`` function takes a tidy frame, draws on ``ax`` (a new figure when ``None``) and
returns the Axes (:func:`plot_bar_pair` and :func:`plot_trend_panels` draw several and return them);
none of them calls ``show`` or ``savefig``. Money axes are in 万元, areas in 亩 or 万平方米, durations
in months.

Layout rules (tested in ``tests/test_plots.py``, on the figure's final size):

* no two texts overlap: value labels get room inside the axes (:func:`fit_value_labels`), crowded
  tick labels are turned;
* legends stand outside the axes, to the right, so they hide no mark (:func:`legend_outside`);
* bar charts shown side by side share one scale (:func:`plot_bar_pair`);
* quantities of very different size are drawn on separate panels (:func:`plot_trend_panels`:
  the largest values of the lines of one panel differ by less than :data:`MAX_PANEL_RATIO`).

Value labels use the number style of :mod:`zhengshou_analysis.formatting` (thousands separators,
two decimals).
"""

from __future__ import annotations

import base64
import importlib.util
import io
import itertools
import logging
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd

__all__ = [
    "MAX_PANEL_RATIO",
    "PALETTE",
    "cjk_font_name",
    "figure_png_base64",
    "fit_value_labels",
    "font_file",
    "group_by_magnitude",
    "legend_outside",
    "plot_bar_pair",
    "plot_bars",
    "plot_build_survival",
    "plot_monthly_inflows",
    "plot_site_timeline",
    "plot_trend",
    "plot_trend_panels",
    "use_report_style",
]

log = logging.getLogger(__name__)

#: Colours: one hue per meaning, the same in every report.
PALETTE = {
    "main": "#1f5fa6",
    "second": "#e07b39",
    "ok": "#3a8f5c",
    "late": "#c23b22",
    "muted": "#9aa5b1",
    "band": "#c9d9ee",
}
_CYCLE = ["#1f5fa6", "#e07b39", "#3a8f5c", "#8c5ba6", "#c23b22", "#5aa6a6", "#9aa5b1"]


def font_file() -> Path:
    spec = importlib.util.find_spec("mplfonts")  # locate the wheel without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the CJK font package `mplfonts` is not installed; run `make setup` (it is a dependency)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "fonts" / "NotoSansCJKsc-Regular.otf"


@cache
def cjk_font_name() -> str:
    """Register the bundled Noto Sans CJK SC with matplotlib and return its family name."""
    from matplotlib import font_manager

    path = font_file()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def use_report_style() -> None:
    """Set the house style: CJK font, readable sizes, light grid, no top/right spines.

    Safe to call many times. Uses the non-interactive Agg backend only when no backend was chosen
    (inside Jupyter the inline backend stays).
    """
    name = cjk_font_name()
    mpl.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [name, "DejaVu Sans"],
            "axes.unicode_minus": False,  # the CJK font has no U+2212 minus sign
            "figure.figsize": (8.0, 4.2),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "axes.titlesize": 13,
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 10,
            "legend.frameon": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "axes.grid.axis": "y",
            "grid.color": "#e3e7ec",
            "axes.prop_cycle": mpl.rcsetup.cycler(color=_CYCLE),
        }
    )


def _ax(ax, *, rows: int = 0):
    """``ax``, or the axes of a new figure in the house style (taller for more than 12 ``rows``)."""
    if ax is None:
        import matplotlib.pyplot as plt

        use_report_style()
        width, height = mpl.rcParams["figure.figsize"]
        _, ax = plt.subplots(figsize=(width, max(height, 0.6 + 0.3 * rows)))
    return ax


def _wan(values) -> np.ndarray:
    return np.asarray(values, dtype="float64") / 1e4


def _thousands(axis) -> None:
    """Tick labels of a value axis with thousands separators (``12,000``), decimals as the step needs."""
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, _pos=None) -> str:
        locs = axis.get_majorticklocs()
        step = float(np.min(np.diff(locs))) if len(locs) > 1 else 1.0
        decimals = 0 if step >= 1 or step <= 0 else int(np.ceil(-np.log10(step) - 1e-9))
        text = f"{v:,.{decimals}f}"
        return "0" if text.strip("-0.,") == "" else text

    axis.set_major_formatter(FuncFormatter(fmt))


def _value_text(v: float) -> str:
    """A bar's value label: two decimals with thousands separators (the formatting style)."""
    from ..formatting import round_half_up

    return f"{round_half_up(v, 2):,.2f}"


def legend_outside(ax, **kwargs):
    """A legend to the right of ``ax``, outside it, so that it hides no bar, line or marker.

    ``kwargs`` go to :meth:`matplotlib.axes.Axes.legend` (e.g. ``handles``). Returns the legend.
    """
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def fit_value_labels(ax, labels, *, horizontal: bool, pad: float = 1.04) -> None:
    """Widen the value axis of ``ax`` until every value label lies inside the axes.

    A label starts at its bar's end and runs outwards by its own width (in pixels, at the figure's
    current size); the limit is raised (or lowered, for negative bars) so that the label's far end
    stays inside, leaving ``pad`` − 1 of the axis free. Labels then never reach a neighbouring
    axes' tick labels nor the title.

    Parameters
    ----------
    ax
        The axes the bars are drawn on (its figure must have its final size).
    labels
        The value labels (:class:`matplotlib.text.Text`, placed at the bars' ends in data units).
    horizontal
        Bars along x (labels to the right of positive bars) or along y (labels above them).
    pad
        Extra room as a factor of the limit.
    """
    labels = list(labels)
    if not labels:
        return
    renderer = ax.figure.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    size = box.width if horizontal else box.height
    lo, hi = ax.get_xlim() if horizontal else ax.get_ylim()
    for _ in range(3):  # the axes' pixel size does not change; three rounds settle the rounding
        need_hi, need_lo = hi, lo
        for t in labels:
            ext = t.get_window_extent(renderer)
            extent = ext.width if horizontal else ext.height
            v = t.get_position()[0 if horizontal else 1]
            if extent >= size:
                continue  # cannot fit at any scale: leave it (the test will say so)
            # the label needs `extent` pixels beyond v: v + extent·(hi − lo)/size ≤ hi
            if v >= 0:
                need_hi = max(need_hi, (v * size - extent * lo) / (size - extent))
            else:
                need_lo = min(need_lo, (v * size - extent * hi) / (size - extent))
        new_hi = need_hi * pad if need_hi > hi else hi
        new_lo = need_lo * pad if need_lo < lo else lo
        if (new_lo, new_hi) == (lo, hi):
            break
        lo, hi = new_lo, new_hi
        if horizontal:
            ax.set_xlim(lo, hi)
        else:
            ax.set_ylim(lo, hi)


def _turn_crowded_ticklabels(ax) -> None:
    """Turn the x tick labels upright (90°) when two of them would touch."""
    renderer = ax.figure.canvas.get_renderer()
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in labels]
    if any(a.x1 + 2 > b.x0 for a, b in itertools.pairwise(boxes)):
        for t in labels:
            t.set_rotation(90)


def _bar_labels(ax, pos, vals, *, horizontal: bool) -> list:
    texts = []
    for p, v in zip(pos, vals, strict=True):
        if horizontal:
            texts.append(
                ax.text(
                    v,
                    p,
                    f" {_value_text(v)} ",
                    va="center",
                    ha="left" if v >= 0 else "right",
                    fontsize=9,
                )
            )
        else:
            texts.append(
                ax.text(
                    p,
                    v,
                    _value_text(v),
                    ha="center",
                    va="bottom" if v >= 0 else "top",
                    fontsize=9,
                )
            )
    return texts


def plot_bars(
    df: pd.DataFrame,
    *,
    label: str,
    value: str,
    title: str,
    unit: str = "万元",
    scale: float = 1e4,
    horizontal: bool = True,
    color: str | None = None,
    limits: tuple[float, float] | None = None,
    show_labels: bool = True,
    ax=None,
):
    """A bar per row of ``df``: ``label`` on one axis, ``value / scale`` (in ``unit``) on the other.

    Bars are annotated with their value (2 decimals, thousands separated) and the value axis is
    widened so that the annotations stay inside the axes. An empty frame draws a "无数据" note.

    Parameters
    ----------
    df
        One row per bar (not modified); rows with a missing ``value`` are left out.
    label, value
        Columns of the bar names and the values.
    title, unit
        Title and the value axis' label (the unit, e.g. ``万元``, ``亩``).
    scale
        ``value`` is divided by it (``1e4``: yuan → 万元; ``1``: as is).
    horizontal
        Horizontal bars (names on the y axis) or vertical ones.
    color
        Bar colour (default :data:`PALETTE` ``"main"``).
    limits
        The value axis' limits before the labels are fitted (a pair of charts shares them).
    show_labels
        Show the names on the category axis (a second panel of a pair leaves them out).
    ax
        Axes to draw on (a new figure when ``None``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _ax(ax, rows=len(df) if horizontal else 0)
    data = df[[label, value]].dropna(subset=[value])
    if data.empty:
        ax.text(0.5, 0.5, "无数据", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(title)
        return ax
    vals = data[value].to_numpy(dtype="float64") / scale
    labels = data[label].astype("str").tolist()
    c = color or PALETTE["main"]
    if horizontal:
        pos = np.arange(len(labels))[::-1]
        ax.barh(pos, vals, color=c)
        ax.set_yticks(pos, labels if show_labels else [""] * len(labels))
        ax.set_xlabel(unit)
        ax.grid(axis="x", visible=True)
        ax.grid(axis="y", visible=False)
        _thousands(ax.xaxis)
        if limits is not None:
            ax.set_xlim(*limits)
    else:
        pos = np.arange(len(labels))
        ax.bar(pos, vals, color=c)
        ax.set_xticks(pos, labels if show_labels else [""] * len(labels))
        ax.set_ylabel(unit)
        _thousands(ax.yaxis)
        if limits is not None:
            ax.set_ylim(*limits)
    texts = _bar_labels(ax, pos, vals, horizontal=horizontal)
    ax.set_title(title)
    if not horizontal:
        _turn_crowded_ticklabels(ax)
    fit_value_labels(ax, texts, horizontal=horizontal)
    return ax


def plot_bar_pair(
    df: pd.DataFrame,
    *,
    label: str,
    values: dict[str, str],
    unit: str = "万元",
    scale: float = 1e4,
    colors: tuple[str, str] | None = None,
    axes=None,
    figsize: tuple[float, float] = (11.0, 3.8),
):
    """Two horizontal bar charts side by side on one scale: the same names, two measures.

    The value axes share their limits (so equal bars mean equal values, e.g. 征地任务 beside
    已完成征地), and the names are written once, on the left panel.

    Parameters
    ----------
    df
        One row per name (not modified).
    label
        Column of the names.
    values
        Exactly two ``column → title`` items, left panel first.
    unit, scale
        As :func:`plot_bars`.
    colors
        Colours of the left and right bars (default: :data:`PALETTE` ``"muted"`` and ``"main"``).
    axes
        Two axes to draw on (a new figure of ``figsize`` when ``None``).

    Returns
    -------
    numpy.ndarray
        The two axes.
    """
    if len(values) != 2:
        raise ValueError(f"plot_bar_pair draws two measures, got {len(values)}: {list(values)}")
    if axes is None:
        import matplotlib.pyplot as plt

        use_report_style()
        _, axes = plt.subplots(1, 2, figsize=figsize, sharey=True)
    colors = colors or (PALETTE["muted"], PALETTE["main"])
    both = df[list(values)].to_numpy(dtype="float64") / scale
    finite = both[np.isfinite(both)]
    top = float(finite.max()) if finite.size else 1.0
    bottom = float(min(finite.min(), 0.0)) if finite.size else 0.0
    limits = (bottom * 1.05, (top if top > 0 else 1.0) * 1.05)
    for i, ((col, title), ax, c) in enumerate(zip(values.items(), axes, colors, strict=True)):
        plot_bars(
            df,
            label=label,
            value=col,
            title=title,
            unit=unit,
            scale=scale,
            color=c,
            limits=limits,
            ax=ax,
        )
        if i:  # the names once, on the left (the axes may share their y axis)
            ax.tick_params(axis="y", labelleft=False)
    lo = min(ax.get_xlim()[0] for ax in axes)
    hi = max(ax.get_xlim()[1] for ax in axes)
    for ax in axes:  # each panel widened for its labels; both take the wider one
        ax.set_xlim(lo, hi)
    return np.asarray(axes)


def plot_monthly_inflows(
    history: pd.DataFrame,
    *,
    forecast: pd.DataFrame | None = None,
    title: str = "征拆资金月度到位情况与预测（万元）",
    last_years: int = 4,
    ax=None,
):
    """Monthly inflows (bars, 万元) and, optionally, the forecast band P10–P90 with its median.

    Parameters
    ----------
    history
        ``inflow_yuan`` by month (a ``PeriodIndex``), as ``forecast_inflows(...).frames["history"]``.
    forecast
        Columns ``month`` (Period), ``inflow_p10_yuan``, ``inflow_p50_yuan``, ``inflow_p90_yuan``, as
        ``forecast_inflows(...).summary``.
    last_years
        Only the last years of history are drawn, so the months stay readable.
    """
    ax = _ax(ax)
    if len(history):
        h = history["inflow_yuan"].iloc[-12 * last_years :]
        x = h.index.to_timestamp(how="end").normalize()
        ax.bar(x, _wan(h), width=20, color=PALETTE["main"], label="实际到位")
    if forecast is not None and len(forecast):
        x = pd.PeriodIndex(forecast["month"]).to_timestamp(how="end").normalize()
        ax.fill_between(
            x,
            _wan(forecast["inflow_p10_yuan"]),
            _wan(forecast["inflow_p90_yuan"]),
            color=PALETTE["band"],
            label="八成把握范围",
        )
        ax.plot(
            x,
            _wan(forecast["inflow_p50_yuan"]),
            color=PALETTE["second"],
            marker="o",
            markersize=3,
            label="预测中位数",
        )
    ax.set_ylabel("万元")
    _thousands(ax.yaxis)
    ax.set_title(title)
    if len(history) or (forecast is not None and len(forecast)):
        legend_outside(ax)
    return ax


def plot_site_timeline(sites: pd.DataFrame, *, as_of, ax=None):
    """Each site as a bar from 开工 to delivery (or to ``as_of`` when undelivered), promise marked.

    Parameters
    ----------
    sites
        Columns ``site_name``, ``start_date``, ``promised_date``, ``delivered_date``.
    as_of
        The reporting date; undelivered sites run to it in red (right-censored, never dropped).
    """
    ax = _ax(ax, rows=len(sites))
    as_of = pd.Timestamp(as_of)
    df = sites.sort_values("start_date", ascending=False).reset_index(drop=True)
    if df.empty:
        ax.text(0.5, 0.5, "无安置区数据", ha="center", va="center", transform=ax.transAxes)
        return ax
    for i, r in df.iterrows():  # a dozen sites: one bar each
        done = pd.notna(r["delivered_date"]) and r["delivered_date"] <= as_of
        end = r["delivered_date"] if done else as_of
        late = (end > r["promised_date"]) if pd.notna(r["promised_date"]) else False
        color = PALETTE["late"] if late else PALETTE["ok"]
        ax.barh(
            i,
            (end - r["start_date"]).days,
            left=r["start_date"],
            color=color,
            alpha=0.85 if done else 0.45,
            hatch=None if done else "//",
            edgecolor=color,
        )
        if pd.notna(r["promised_date"]):
            ax.plot([r["promised_date"]] * 2, [i - 0.4, i + 0.4], color="black", linewidth=2)
    ax.set_yticks(range(len(df)), df["site_name"].astype("str"))
    ax.axvline(as_of, color=PALETTE["muted"], linestyle="--", linewidth=1)
    ax.grid(axis="x", visible=True)
    ax.grid(axis="y", visible=False)
    ax.set_title("安置区建设周期：开工→交房")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    legend_outside(
        ax,
        handles=[
            Patch(color=PALETTE["ok"], label="按期"),
            Patch(color=PALETTE["late"], label="逾期"),
            Patch(facecolor="white", edgecolor=PALETTE["late"], hatch="//", label="未交付"),
            Line2D(
                [],
                [],
                color="black",
                marker="|",
                linestyle="",
                markersize=12,
                markeredgewidth=2,
                label="约定交房日期",
            ),
            Line2D([], [], color=PALETTE["muted"], linestyle="--", linewidth=1, label="统计截止日"),
        ],
    )
    _turn_crowded_ticklabels(ax)
    return ax


def plot_build_survival(
    curve: pd.DataFrame, *, ax=None, title: str = "安置区建设周期：开工后仍未交房的比例"
):
    """The Kaplan–Meier curve of build time: share of sites not yet delivered after t months.

    Parameters
    ----------
    curve
        Columns ``time_months`` and ``surv_prob``; the band is ``ci_lower``/``ci_upper`` when
        given (as from :func:`~zhengshou_analysis.forecast.survival.compute_delivery_survival`), else
        ± 1.96 ``surv_prob_se`` (Greenwood), clipped to [0, 1].
    """
    ax = _ax(ax)
    if curve.empty:
        ax.text(
            0.5, 0.5, "尚无已交付安置区，无法估计", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_title(title)
        return ax
    t = np.r_[0.0, curve["time_months"].to_numpy(dtype="float64")]
    s = np.r_[1.0, curve["surv_prob"].to_numpy(dtype="float64")]
    if {"ci_lower", "ci_upper"} <= set(curve.columns):  # log-log interval, inside [0, 1]
        lo = np.r_[1.0, curve["ci_lower"].to_numpy(dtype="float64")]
        hi = np.r_[1.0, curve["ci_upper"].to_numpy(dtype="float64")]
        ax.fill_between(t, lo, hi, step="post", color=PALETTE["band"], label="95% 置信区间")
    elif "surv_prob_se" in curve:
        se = np.r_[0.0, curve["surv_prob_se"].to_numpy(dtype="float64")]
        ax.fill_between(
            t,
            np.clip(s - 1.96 * se, 0, 1),
            np.clip(s + 1.96 * se, 0, 1),
            step="post",
            color=PALETTE["band"],
            label="95% 置信区间（Greenwood）",
        )
    ax.step(t, s, where="post", color=PALETTE["main"], label="尚未交付的比例")
    ax.axhline(0.5, color=PALETTE["muted"], linestyle=":", linewidth=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("开工后月数")
    ax.set_ylabel("尚未交付的比例")
    ax.set_title(title)
    legend_outside(ax)
    return ax


def plot_trend(
    df: pd.DataFrame,
    *,
    x: str,
    series: dict[str, str],
    unit: str,
    scale: float = 1.0,
    title: str,
    ax=None,
):
    """Lines of several figures across years (``series`` maps column → Chinese label) on one axes.

    Only for figures of similar size: :func:`plot_trend_panels` puts figures of very different
    size on separate panels.
    """
    ax = _ax(ax)
    for col, label in series.items():
        if col in df:
            ax.plot(df[x], df[col].astype("float64") / scale, marker="o", label=label)
    ax.set_xticks(df[x].tolist(), [str(v) for v in df[x]])
    ax.set_ylabel(unit)
    _thousands(ax.yaxis)
    ax.set_title(title)
    legend_outside(ax)
    return ax


#: Lines on one panel differ in size by less than this factor (largest absolute values).
MAX_PANEL_RATIO = 20.0


def group_by_magnitude(
    sizes: dict[str, float], *, max_ratio: float = MAX_PANEL_RATIO
) -> list[list[str]]:
    """Group series so that the sizes within a group differ by less than ``max_ratio``.

    Parameters
    ----------
    sizes
        ``name → size`` (e.g. the largest absolute value of a line); a size of 0 or NaN joins the
        group of the smallest sizes.
    max_ratio
        The largest size of a group is less than ``max_ratio`` × its smallest.

    Returns
    -------
    list of list of str
        Groups from the largest sizes to the smallest, names within a group in ``sizes`` order;
        the fewest groups a greedy sweep from the largest size gives.
    """
    order = sorted(
        sizes, key=lambda k: -(sizes[k] if np.isfinite(sizes[k]) and sizes[k] > 0 else 0.0)
    )
    groups: list[list[str]] = []
    top = None
    for name in order:
        size = sizes[name] if np.isfinite(sizes[name]) else 0.0
        if groups and (size <= 0 or (top is not None and top < max_ratio * size)):
            groups[-1].append(name)
            continue
        groups.append([name])
        top = size if size > 0 else None
    rank = {k: i for i, k in enumerate(sizes)}
    return [sorted(g, key=rank.__getitem__) for g in groups]


def plot_trend_panels(
    df: pd.DataFrame,
    *,
    x: str,
    series: dict[str, str],
    unit: str,
    scale: float = 1.0,
    title: str,
    max_ratio: float = MAX_PANEL_RATIO,
    width: float = 8.0,
    panel_height: float = 2.6,
):
    """Figures across years, one panel per group of similar size (:func:`group_by_magnitude`).

    Cumulative sums (e.g. 累计到位资金, about 100,000万元) and small balances (e.g. 过渡安置费拖欠,
    a few hundred 万元) thus never share an axis on which the small ones lie flat on zero.

    Parameters
    ----------
    df
        One row per ``x`` (e.g. per year); not modified.
    x, series, unit, scale
        As :func:`plot_trend`.
    title
        The figure's title (each panel is titled by its lines' labels).
    max_ratio
        See :func:`group_by_magnitude`.
    width, panel_height
        Figure size in inches.

    Returns
    -------
    (matplotlib.figure.Figure, list of matplotlib.axes.Axes)
    """
    import matplotlib.pyplot as plt

    use_report_style()
    present = {c: label for c, label in series.items() if c in df}
    sizes = {
        c: float(np.nanmax(np.abs(df[c].to_numpy(dtype="float64")))) if df[c].notna().any() else 0.0
        for c in present
    }
    groups = group_by_magnitude(sizes, max_ratio=max_ratio) or [[]]
    fig, grid = plt.subplots(
        len(groups), 1, figsize=(width, 0.6 + panel_height * len(groups)), squeeze=False
    )
    axes = list(grid[:, 0])
    for i, (group, ax) in enumerate(zip(groups, axes, strict=True)):
        colors = [_CYCLE[list(present).index(c) % len(_CYCLE)] for c in group]
        for col, c in zip(group, colors, strict=True):
            ax.plot(
                df[x], df[col].astype("float64") / scale, marker="o", color=c, label=present[col]
            )
        ax.set_xticks(df[x].tolist(), [str(v) for v in df[x]] if i == len(groups) - 1 else [])
        ax.set_ylabel(unit)
        _thousands(ax.yaxis)
        if all((df[c].dropna() >= 0).all() for c in group):
            ax.set_ylim(bottom=0)  # a level from zero: the change is not exaggerated
        ax.set_title("、".join(present[c] for c in group), fontsize=11, loc="left")
        if len(group) > 1:
            legend_outside(ax)
    fig.suptitle(title)
    fig.tight_layout()
    return fig, axes


def figure_png_base64(fig: Any) -> str:
    """``fig`` as a PNG in base64 (for an ``<img src="data:image/png;base64,…">``); closes it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()
