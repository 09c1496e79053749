"""Forecast review (预测回顾): every past forecast whose horizon is observed, against what happened.

For each past *origin* (a year-end, or a month-end in monthly runs) whose horizon ends by the
reporting date, :func:`review_forecasts` re-makes the forecast from the ledgers as known at the
origin (:func:`~zhengshou_analysis.figures.vintage.cut_tables_at`: no later row leaks in) with the
same settings, and sets it beside what the ledgers at the reporting date say happened:

* **deliveries** — per site the P50 and P90 dates against the actual delivery (a site still
  undelivered at the reporting date is censored there: it counts only once its date has passed),
  coverage, and the Brier and log scores of "delivered within the horizon" beside two baselines:
  the base rate (the share of open sites delivered within one horizon before the origin) and
  the promise plus the typical delay (promised date + median delay of the sites delivered by
  the origin);
* **money** — the inflows over the horizon, the stock gap and the full gap: the realised value,
  where it fell in the forecast distribution (PIT), the CRPS and the P10–P90 range;
* **previous** — the forecast of the previous run (one period before the reporting date) beside
  this one, even where its horizon is not yet over.

Plain Chinese sentences come first (:attr:`ForecastReview.statements`), the scores below.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import ZhengshouError
from ..forecast.gap import compute_realised_gap
from ..forecast.scenarios import Scenario
from ..forecast.scores import brier_score, log_score, score_sample_forecast
from ..formatting import fmt_pct, fmt_yuan_prose
from ..periods import duration_months
from ..settings import DEFAULT_POLICY, Policy
from .vintage import cut_tables_at

if TYPE_CHECKING:
    from .context import Analysis

__all__ = [
    "REVIEW_N_PATHS",
    "ForecastReview",
    "previous_forecast",
    "review_forecasts",
    "review_origins",
]

log = logging.getLogger(__name__)

#: Paths simulated per past origin (fewer than the report's own forecast: scores, not figures).
REVIEW_N_PATHS = 2_000
#: An origin needs this many months of ledger history before it.
MIN_HISTORY_MONTHS = 36
#: At most this many origins are reviewed (the most recent ones).
MAX_ORIGINS = 6
#: Probabilities are clipped to [LOG_SCORE_EPS, 1 − LOG_SCORE_EPS] for the log score only.
LOG_SCORE_EPS = 0.01

Frequency = Literal["year", "month"]

#: The money quantities reviewed: sample key in the origin's forecast → Chinese label.
MONEY_LABELS: Mapping[str, str] = {
    "inflows": "预测期内到位资金",
    "stock_gap": "存量资金缺口",
    "gap": "全口径资金缺口",
}


@dataclass(frozen=True)
class ForecastReview:
    """The forecast review of one reporting date (built by :func:`review_forecasts`).

    Attributes
    ----------
    as_of, horizon_months, frequency
        Reporting date, forecast horizon (months) and origin frequency.
    origins
        The origins reviewed (forecast made then, horizon over by ``as_of``).
    skipped
        Origins that could not be reviewed, with the reason (Chinese).
    sites
        One row per origin × site forecast then: ``origin``, ``site_id``, ``site_name``,
        ``p50_date``, ``p90_date``, ``prob_in_horizon`` (the model), ``prob_base_rate``,
        ``prob_promise`` (the two baselines), ``delivered_date`` (as known at ``as_of``, NaT when
        not delivered), ``delivered_in_horizon``, ``by_p50`` and ``by_p90`` (True/False, NA
        while censored: undelivered and the date not yet passed).
    delivery
        One row per origin and a pooled row (``origin`` NaT): ``n_sites``, ``n_delivered``,
        ``n_censored_p90``, ``coverage_p50``, ``coverage_p90``, ``brier_model``,
        ``brier_base_rate``, ``brier_promise``, ``log_model``, ``log_base_rate``,
        ``log_promise``.
    money
        One row per origin × quantity (``inflows``, ``stock_gap``, ``gap``): ``label``,
        ``p10_yuan``, ``p50_yuan``, ``p90_yuan``, ``realised_yuan``, ``pit``, ``crps_yuan``,
        ``inside_p10_p90``, plus for the gaps ``share_unpaid_after_horizon``.
    previous
        The previous run's forecast: ``origin`` and per site ``p50_date``/``p90_date`` then
        (empty when there is no previous origin with data).
    statements
        Plain Chinese sentences for the pages, most important first: ``"delivery"`` (the
        delivery page) and ``"money"`` (the funding page).
    notes
        Method notes (baselines, censoring, scores) in Chinese, for the technical note.
    """

    as_of: pd.Timestamp
    horizon_months: int
    frequency: str
    origins: tuple[pd.Timestamp, ...]
    skipped: Mapping[str, str]
    sites: pd.DataFrame
    delivery: pd.DataFrame
    money: pd.DataFrame
    previous: pd.DataFrame
    statements: Mapping[str, tuple[str, ...]]
    notes: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready content of ``key_figures.json["calibration"]`` (dates as ISO strings)."""
        from .common import jsonable

        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return jsonable(df.to_dict(orient="records"))

        return {
            "as_of": self.as_of.date().isoformat(),
            "horizon_months": self.horizon_months,
            "frequency": self.frequency,
            "origins": [o.date().isoformat() for o in self.origins],
            "skipped": dict(self.skipped),
            "delivery": records(self.delivery),
            "sites": records(self.sites),
            "money": records(self.money),
            "previous": records(self.previous),
            "statements": {k: list(v) for k, v in self.statements.items()},
            "notes": dict(self.notes),
        }


def review_origins(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp,
    horizon_months: int,
    frequency: Frequency = "year",
    min_history_months: int = MIN_HISTORY_MONTHS,
    max_origins: int = MAX_ORIGINS,
) -> list[pd.Timestamp]:
    """The past origins whose horizon is over by ``as_of`` and that have enough history.

    Parameters
    ----------
    tables
        Canonical tables as known at ``as_of``.
    as_of
        Reporting date.
    horizon_months
        Forecast horizon (months): an origin ``o`` qualifies when ``o + horizon ≤ as_of``.
    frequency
        ``"year"`` (31 December of each year) or ``"month"`` (each month-end).
    min_history_months
        Months of ledger history (from the earliest signing, payment or inflow) an origin needs.
    max_origins
        Keep the most recent ones only.

    Returns
    -------
    list of pandas.Timestamp
        Oldest first; empty when no origin qualifies.
    """
    first = _first_date(tables)
    if first is None:
        return []
    last = as_of - pd.DateOffset(months=int(horizon_months))
    earliest = first + pd.DateOffset(months=int(min_history_months))
    freq = "YE" if frequency == "year" else "ME"
    origins = [
        o
        for o in pd.date_range(earliest.normalize(), last, freq=freq)
        if o + pd.DateOffset(months=int(horizon_months)) <= as_of
    ]
    return origins[-int(max_origins) :] if max_origins else origins


def _first_date(tables: Mapping[str, pd.DataFrame]) -> pd.Timestamp | None:
    dates = [
        tables[name][col].min()
        for name, col in (("agreements", "signed_date"), ("payments", "date"), ("funding", "date"))
        if name in tables and len(tables[name]) and tables[name][col].notna().any()
    ]
    return min(dates) if dates else None


def _previous_origin(as_of: pd.Timestamp, frequency: Frequency) -> pd.Timestamp:
    if frequency == "year":
        return pd.Timestamp(year=as_of.year - 1, month=12, day=31)
    return (as_of.to_period("M") - 1).to_timestamp(how="end").normalize()


@dataclass(frozen=True)
class _Settings:
    """The forecast settings every origin shares with the report's own forecast."""

    policy: Policy
    horizon_months: int
    seed: int
    n_paths: int
    tables_key: str | None = None  # of the tables the origins are cut from (a model store's key)


def _analysis_at(
    tables: Mapping[str, pd.DataFrame], origin: pd.Timestamp, settings: _Settings
) -> Analysis:
    """The analysis an office would have run at ``origin``, from the ledgers known then."""
    from .context import Analysis

    return Analysis(
        cut_tables_at(tables, origin),
        year=origin.year,
        as_of=origin,
        policy=settings.policy,
        horizon_months=settings.horizon_months,
        seed=settings.seed,
        n_paths=settings.n_paths,
        scenarios=(Scenario("baseline"),),
        tables_key=settings.tables_key,  # cut at the origin: its own key (modelstore.known_at_key)
    )


def _baselines(
    sites_known: pd.DataFrame, todo: pd.DataFrame, origin: pd.Timestamp, horizon_months: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The base-rate and promise-plus-typical-delay probabilities for the sites in ``todo``."""
    h = int(horizon_months)
    before = origin - pd.DateOffset(months=h)
    s = sites_known
    open_then = s["start_date"].le(before) & ~s["delivered_date"].le(before)
    n_open = int(open_then.sum())
    n_done = int((open_then & s["delivered_date"].le(origin)).sum())
    base_rate = (n_done + 0.5) / (n_open + 1.0)  # Jeffreys-like: never 0 or 1 on few sites
    delivered = s.loc[s["delivered_date"].le(origin)]
    delays = duration_months(delivered["promised_date"], delivered["delivered_date"]).dropna()
    typical = float(delays.median()) if len(delays) else 0.0
    expected = todo["promised_date"] + pd.to_timedelta(
        round(typical * 30.4375), unit="D"
    )  # promised + typical delay
    horizon_end = origin + pd.DateOffset(months=h)
    promise = expected.le(horizon_end).fillna(False).to_numpy(dtype="float64")
    info = {
        "base_rate": base_rate,
        "base_rate_sites": n_open,
        "typical_delay_months": typical,
        "typical_delay_sites": len(delays),
    }
    return np.full(len(todo), base_rate), promise, info


def _review_sites(
    a_then: Analysis, known: pd.DataFrame, origin: pd.Timestamp, as_of: pd.Timestamp, h: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per site forecast at ``origin``: the forecast, the baselines and what happened by ``as_of``."""
    fc = a_then.delivery_forecast.summary
    if not len(fc):
        return pd.DataFrame(), {}
    base, promise, info = _baselines(a_then.tables["sites"], fc, origin, h)
    actual = known.drop_duplicates("site_id").set_index("site_id")["delivered_date"]
    delivered = fc["site_id"].map(actual)
    horizon_end = origin + pd.DateOffset(months=h)

    def hit(date_col: str) -> pd.Series:
        d = fc[date_col]
        known_hit = delivered.le(d)
        known_miss = delivered.gt(d) | (delivered.isna() & d.lt(as_of))
        out = pd.Series(pd.NA, index=fc.index, dtype="boolean")
        out[known_miss.to_numpy(dtype=bool)] = False
        out[known_hit.to_numpy(dtype=bool)] = True
        return out

    frame = pd.DataFrame(
        {
            "origin": origin,
            "site_id": fc["site_id"],
            "site_name": fc["site_name"],
            "p50_date": fc["p50_date"],
            "p90_date": fc["p90_date"],
            "prob_in_horizon": fc["prob_delivered_in_horizon"].astype("float64"),
            "prob_base_rate": base,
            "prob_promise": promise,
            "delivered_date": delivered,
            "delivered_in_horizon": delivered.le(horizon_end).fillna(False).astype(bool),
            "by_p50": hit("p50_date"),
            "by_p90": hit("p90_date"),
        }
    )
    return frame, info


def _delivery_scores(sites: pd.DataFrame) -> dict[str, Any]:
    """Coverage and scores of one set of site forecasts (see :attr:`ForecastReview.delivery`)."""
    y = sites["delivered_in_horizon"].to_numpy(dtype=bool)
    row: dict[str, Any] = {
        "n_sites": len(sites),
        "n_delivered": int(y.sum()),
        "n_censored_p90": int(sites["by_p90"].isna().sum()),
    }
    for q in ("p50", "p90"):
        seen = sites[f"by_{q}"].dropna()
        row[f"n_determined_{q}"] = len(seen)
        row[f"coverage_{q}"] = float(seen.astype(bool).mean()) if len(seen) else math.nan
    for name, col in (
        ("model", "prob_in_horizon"),
        ("base_rate", "prob_base_rate"),
        ("promise", "prob_promise"),
    ):
        p = sites[col].to_numpy(dtype="float64")
        row[f"brier_{name}"] = brier_score(p, y) if len(p) else math.nan
        row[f"log_{name}"] = log_score(p, y, eps=LOG_SCORE_EPS) if len(p) else math.nan
    return row


def _money_rows(
    a_then: Analysis,
    tables: Mapping[str, pd.DataFrame],
    origin: pd.Timestamp,
    *,
    policy: Policy,
    h: int,
) -> list[dict[str, Any]]:
    """Inflows, stock gap and full gap forecast at ``origin`` against the realised values."""
    realised = compute_realised_gap(tables, origin=origin, horizon_months=h, policy=policy)
    gap = a_then.gap
    forecasts = {
        "inflows": a_then.inflows.samples["inflows"].sum(axis=1),
        "stock_gap": gap.samples["stock_gap:baseline"],
        "gap": gap.samples["gap:baseline"],
    }
    actual = {
        "inflows": realised["inflows_yuan"],
        "stock_gap": realised["stock_gap_yuan"],
        "gap": realised["gap_yuan"],
    }
    rows = []
    for key, samples in forecasts.items():
        score = score_sample_forecast(np.asarray(samples, dtype="float64"), float(actual[key]))
        rows.append(
            {
                "origin": origin,
                "quantity": key,
                "label": MONEY_LABELS[key],
                "p10_yuan": score["p10"],
                "p50_yuan": score["p50"],
                "p90_yuan": score["p90"],
                "realised_yuan": float(actual[key]),
                "pit": score["pit"],
                "crps_yuan": score["crps"],
                "inside_p10_p90": bool(score["inside_p10_p90"]),
                "share_unpaid_after_horizon": (
                    realised["share_unpaid_after_horizon"] if key != "inflows" else math.nan
                ),
            }
        )
    return rows


def review_forecasts(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp,
    horizon_months: int = 12,
    policy: Policy = DEFAULT_POLICY,
    seed: int = 2021,
    n_paths: int = REVIEW_N_PATHS,
    frequency: Frequency = "year",
    origins: Sequence[pd.Timestamp] | None = None,
    tables_key: str | None = None,
) -> ForecastReview:
    """Re-make every past forecast whose horizon is observed and score it against what happened.

    Parameters
    ----------
    tables
        Canonical tables as known at ``as_of`` (e.g. :attr:`Analysis.tables`); not modified.
    as_of
        Reporting date: outcomes are what the tables say by then.
    horizon_months
        Forecast horizon (months), as in the reports.
    policy, seed
        The office's policy and seed (the same as the report's own forecast).
    n_paths
        Paths simulated per origin (default 2,000).
    frequency
        ``"year"`` (year-ends) or ``"month"`` (month-ends) origins.
    origins
        The origins to review (default :func:`review_origins`).
    tables_key
        A content key of ``tables`` (:attr:`Analysis.tables_key`): the forecast of each origin
        is then shared through a batch's model store (:mod:`~.modelstore`), so that the reviews
        of neighbouring periods make each past forecast once.

    Returns
    -------
    ForecastReview

    Notes
    -----
    An origin whose forecast cannot be made (no ledger rows then, a model that fails) is listed in
    :attr:`ForecastReview.skipped` with the reason; it never stops the review or the report.
    """
    h = int(horizon_months)
    if origins is None:
        origins = review_origins(tables, as_of=as_of, horizon_months=h, frequency=frequency)
    site_frames, delivery_rows, money_rows = [], [], []
    skipped: dict[str, str] = {}
    baseline_info: dict[str, Any] = {}
    known_sites = tables["sites"]
    done: list[pd.Timestamp] = []
    settings = _Settings(policy, h, int(seed), int(n_paths), tables_key)
    made: dict[pd.Timestamp, Analysis] = {}
    for origin in origins:
        try:
            a_then = made[origin] = _analysis_at(tables, origin, settings)
            sites, info = _review_sites(a_then, known_sites, origin, as_of, h)
            money = _money_rows(a_then, tables, origin, policy=policy, h=h)
        except (ZhengshouError, ValueError, np.linalg.LinAlgError) as exc:
            log.warning("forecast review: origin %s not reviewed: %s", origin.date(), exc)
            skipped[origin.date().isoformat()] = f"无法回顾：{exc}"
            continue
        done.append(origin)
        baseline_info[origin.date().isoformat()] = info
        money_rows.extend(money)
        if len(sites):
            site_frames.append(sites)
            delivery_rows.append({"origin": origin, **_delivery_scores(sites)})
    sites_all = pd.concat(site_frames, ignore_index=True) if site_frames else _empty_sites()
    if len(site_frames) > 1:
        delivery_rows.append({"origin": pd.NaT, **_delivery_scores(sites_all)})
    delivery = pd.DataFrame(delivery_rows)
    money_frame = pd.DataFrame(money_rows)
    previous = _previous_forecast(tables, as_of, frequency, settings, made)
    review = ForecastReview(
        as_of=as_of,
        horizon_months=h,
        frequency=frequency,
        origins=tuple(done),
        skipped=skipped,
        sites=sites_all,
        delivery=delivery,
        money=money_frame,
        previous=previous,
        statements={},
        notes=_notes(baseline_info),
    )
    return _with_statements(review)


def _empty_sites() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "origin",
            "site_id",
            "site_name",
            "p50_date",
            "p90_date",
            "prob_in_horizon",
            "prob_base_rate",
            "prob_promise",
            "delivered_date",
            "delivered_in_horizon",
            "by_p50",
            "by_p90",
        ]
    )


def previous_forecast(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp,
    horizon_months: int = 12,
    policy: Policy = DEFAULT_POLICY,
    seed: int = 2021,
    n_paths: int = REVIEW_N_PATHS,
    frequency: Frequency = "year",
    tables_key: str | None = None,
) -> pd.DataFrame:
    """The previous run's forecast (one period before ``as_of``), to set beside this one.

    Parameters
    ----------
    tables
        Canonical tables as known at ``as_of``; cut at the previous origin here.
    as_of, horizon_months, policy, seed, n_paths, frequency, tables_key
        As for :func:`review_forecasts`.

    Returns
    -------
    pandas.DataFrame
        :attr:`ForecastReview.previous`: ``origin``, per site ``site_id``, ``site_name``,
        ``p50_date``, ``p90_date``, ``prob_in_horizon``, and the baseline's ``gap_p50_yuan``
        and ``prob_gap_closed`` (the full gap) on every row; empty when no forecast could be made
        then.
    """
    settings = _Settings(policy, int(horizon_months), int(seed), int(n_paths), tables_key)
    return _previous_forecast(tables, as_of, frequency, settings, {})


def _previous_forecast(
    tables: Mapping[str, pd.DataFrame],
    as_of: pd.Timestamp,
    frequency: Frequency,
    settings: _Settings,
    made: Mapping[pd.Timestamp, Analysis],
) -> pd.DataFrame:
    """The previous run's P50/P90 per site and its full-gap P50 (empty when it cannot be made).

    The analysis of that origin is reused from ``made`` when the review already made it.
    """
    origin = _previous_origin(as_of, frequency)
    try:
        a_then = made.get(origin) or _analysis_at(tables, origin, settings)
        fc = a_then.delivery_forecast.summary
        gap = a_then.gap.summary.set_index("scenario").loc["baseline"]
    except (ZhengshouError, ValueError, KeyError, np.linalg.LinAlgError) as exc:
        log.info("no previous forecast at %s: %s", origin.date(), exc)
        return pd.DataFrame(columns=["origin", "site_id", "site_name", "p50_date", "p90_date"])
    return pd.DataFrame(
        {
            "origin": origin,
            "site_id": fc["site_id"],
            "site_name": fc["site_name"],
            "p50_date": fc["p50_date"],
            "p90_date": fc["p90_date"],
            "prob_in_horizon": fc["prob_delivered_in_horizon"].astype("float64"),
            "gap_p50_yuan": float(gap["gap_p50_yuan"]),
            "prob_gap_closed": float(gap["prob_gap_closed"]),
        }
    )


def _notes(baseline_info: Mapping[str, Any]) -> dict[str, str]:
    return {
        "origins": "回顾的每一次预测只用当时（预测起点）已有的台账记录重新计算：起点之后签订的协议、"
        "支付、到位资金、开始过渡的户，以及起点之后的交付、回迁日期一律不用；设置（预测期、种子、"
        "政策参数）与本期相同，只算基准情景。",
        "censoring": "统计日仍未交付的安置区，其预测日期若还未到，无法判断是否“按期”，不计入覆盖率"
        "（右删失，单独计数）；若预测日期已过而仍未交付，计为未覆盖。",
        "base_rate": "基准比例：预测起点前一个预测期开始时未交付的安置区中，该期内交付的比例"
        "（加0.5/加1平滑，避免样本太少时为0或1）。",
        "promise": "约定加典型延期：约定交房日期加上预测起点前已交付安置区延期（实际减约定）的中位数，"
        "落在预测期内计为1，否则为0。",
        "scores": "布里尔分数（Brier）= 预测概率与实际（交付为1、未交付为0）之差的平方的平均，越小越好；"
        f"对数分数 = −ln(实际结果的预测概率)的平均，越小越好（概率先截断到[{LOG_SCORE_EPS:g}, "
        f"{1 - LOG_SCORE_EPS:g}]，否则0/1的基准会得到无穷大）。PIT = 实际值在预测分布中的位置"
        "（0.5为正中，接近0或1表示落在区间之外）；CRPS = 连续分级概率评分，单位为元，越小越好，"
        "对点预测等于绝对误差。",
        "baselines_by_origin": "；".join(
            f"{o}：基准比例{v['base_rate']:.2f}（{v['base_rate_sites']}个安置区），典型延期"
            f"{v['typical_delay_months']:.1f}个月（{v['typical_delay_sites']}个已交付）"
            for o, v in baseline_info.items()
            if v
        ),
    }


def _origin_words(o: Any, frequency: str) -> str:
    t = pd.Timestamp(o)
    return f"{t.year}年末" if frequency == "year" else f"{t.year}年{t.month}月末"


def _with_statements(r: ForecastReview) -> ForecastReview:
    """The review with its plain Chinese sentences (:attr:`ForecastReview.statements`)."""
    if not r.origins:
        none = (
            (
                "本期没有可以回顾的历史预测：需要预测期已经结束、且此前台账至少有"
                f"{MIN_HISTORY_MONTHS // 12}年记录的预测起点。"
            ),
        )
        return replace(r, statements={"delivery": none, "money": none})
    out: list[str] = []
    span = (
        _origin_words(r.origins[0], r.frequency)
        if len(r.origins) == 1
        else f"{_origin_words(r.origins[0], r.frequency)}至{_origin_words(r.origins[-1], r.frequency)}"
    )
    d = r.delivery
    if len(d):
        pooled = d.iloc[-1]
        n = int(pooled["n_sites"])
        out.append(
            f"交付预测回顾（{span}共{len(r.origins)}次预测，涉及{n}个安置区次）："
            f"实际在“九成把握日期”前交付的占{fmt_pct(pooled['coverage_p90'], decimals=0)}（应约为90%），"
            f"在“一半把握日期”前交付的占{fmt_pct(pooled['coverage_p50'], decimals=0)}（应约为一半）；"
            f"另有{int(pooled['n_censored_p90'])}个安置区次至今未交付且日期未到，暂不能判断。"
        )
        better = pooled["brier_model"] < min(pooled["brier_promise"], pooled["brier_base_rate"])
        out.append(
            f"对“一个预测期内能否交付”的判断，本模型的误差分数为{pooled['brier_model']:.3f}，"
            f"“约定日期加以往典型延期”的简单推算为{pooled['brier_promise']:.3f}，"
            f"按历史平均交付比例为{pooled['brier_base_rate']:.3f}（越小越好）："
            + ("本模型优于两种简单方法。" if better else "本模型并不优于简单方法，使用时应更谨慎。")
        )
        if n < 30:
            out.append(
                f"回顾的样本很少（{n}个安置区次），上述比例本身的误差很大（正负二三十个百分点），"
                "只能看出有无明显偏差。"
            )
    money: list[str] = []
    m = r.money
    for key in ("inflows", "gap"):
        rows = m.loc[m["quantity"].eq(key)] if len(m) else m
        if not len(rows):
            continue
        last = rows.iloc[-1]
        where = (
            "落在预测的八成区间内"
            if last["inside_p10_p90"]
            else ("低于预测区间下限" if last["pit"] < 0.1 else "高于预测区间上限")
        )
        inside = int(rows["inside_p10_p90"].sum())
        money.append(
            f"{_origin_words(last['origin'], r.frequency)}预测的{last['label']}中位数为"
            f"{fmt_yuan_prose(last['p50_yuan'])}（八成区间{fmt_yuan_prose(last['p10_yuan'])}至{fmt_yuan_prose(last['p90_yuan'])}），"
            f"实际为{fmt_yuan_prose(last['realised_yuan'])}，{where}；{len(rows)}次预测中{inside}次落在八成区间内。"
        )
    gaps = m.loc[m["quantity"].eq("gap")] if len(m) else m
    if len(gaps):
        last = gaps.iloc[-1]
        share = last["share_unpaid_after_horizon"]
        if math.isfinite(share):
            money.append(
                f"{_origin_words(last['origin'], r.frequency)}已有的应付款（补偿款与拖欠的过渡费）中，"
                f"一个预测期后仍有{fmt_pct(share, decimals=0)}未付。"
            )
    if r.skipped:
        note = "另有" + "、".join(r.skipped) + "的预测无法重新计算（原因见技术说明）。"
        out.append(note)
        money.append(note)
    return replace(r, statements={"delivery": tuple(out), "money": tuple(money)})
