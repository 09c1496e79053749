"""Plots for reviewers: one style, Chinese labels, a CJK font that works on a fresh machine.

The font is Noto Sans CJK SC, shipped inside the ``mplfonts`` wheel (a dependency of this package,
SIL Open Font License); it is registered with matplotlib from that file, so no system font and no
download is needed, and no glyph is missing (no tofu boxes).

Every ``plot_*`` function takes a tidy frame, draws on ``ax`` (a new figure when ``None``) and
returns the Axes; none of them calls ``show`` or ``savefig``. Money axes are in 万元, areas in 亩 or
万平方米, durations in months.
"""

from __future__ import annotations

import importlib.util
import logging
from functools import cache
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd

__all__ = [
    "PALETTE",
    "cjk_font_name",
    "font_file",
    "plot_bars",
    "plot_build_survival",
    "plot_monthly_inflows",
    "plot_site_timeline",
    "plot_trend",
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


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        use_report_style()
        _, ax = plt.subplots()
    return ax


def _wan(values) -> np.ndarray:
    return np.asarray(values, dtype="float64") / 1e4


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
    ax=None,
):
    """A bar per row of ``df``: ``label`` on one axis, ``value / scale`` (in ``unit``) on the other.

    Bars are annotated with their value (2 decimals). An empty frame draws a "无数据" note.
    """
    ax = _ax(ax)
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
        ax.set_yticks(pos, labels)
        ax.set_xlabel(unit)
        ax.grid(axis="x", visible=True)
        ax.grid(axis="y", visible=False)
        for p, v in zip(pos, vals, strict=True):
            ax.text(v, p, f" {v:,.2f}", va="center", fontsize=9)
    else:
        pos = np.arange(len(labels))
        ax.bar(pos, vals, color=c)
        ax.set_xticks(pos, labels)
        ax.set_ylabel(unit)
        for p, v in zip(pos, vals, strict=True):
            ax.text(p, v, f"{v:,.2f}", ha="center", va="bottom", fontsize=9)
    ax.set_title(title)
    return ax


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
    ax.set_title(title)
    if len(history) or (forecast is not None and len(forecast)):
        ax.legend(loc="upper left")
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
    ax = _ax(ax)
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
    ax.text(as_of, len(df) - 0.4, " 统计截止日", color=PALETTE["muted"], fontsize=9, va="bottom")
    ax.grid(axis="x", visible=True)
    ax.grid(axis="y", visible=False)
    ax.set_title("安置区建设周期：开工→交房（黑线为约定交房日期，斜纹为未交付）")
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(color=PALETTE["ok"], label="按期"),
            Patch(color=PALETTE["late"], label="逾期"),
            Patch(facecolor="white", edgecolor=PALETTE["late"], hatch="//", label="未交付"),
        ],
        loc="lower right",
    )
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
    ax.legend(loc="upper right")
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
    """Lines of several figures across years (``series`` maps column → Chinese label)."""
    ax = _ax(ax)
    for col, label in series.items():
        if col in df:
            ax.plot(df[x], df[col].astype("float64") / scale, marker="o", label=label)
    ax.set_xticks(df[x].tolist(), [str(v) for v in df[x]])
    ax.set_ylabel(unit)
    ax.set_title(title)
    ax.legend(loc="upper left")
    return ax
