"""The funding gap at the horizon (docs/indicators.md, "Forecasts"): stock and full, simulated.

:func:`forecast_funding_gap` combines, path by path, the obligations existing at ``as_of`` — the
unpaid compensation falling due, the transitional-fee arrears and the simulated fees of the
households in transition (:mod:`zhengshou_analysis.forecast.fees`) — with the cash balance and the
simulated inflows (:mod:`zhengshou_analysis.forecast.inflows`): the **stock gap** (存量缺口). The
**full gap** (全口径缺口, the headline) adds the compensation of agreements expected to be signed
within the horizon that falls due within it (:class:`NewAgreementModel`). One ``seed`` feeds the
delivery, inflow and new-agreement draws (three independent streams), and every scenario sees
the same draws.

:func:`compute_realised_gap` computes the same quantities after the fact, from tables known at
``origin + horizon`` or later, for the forecast review.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..figures.fees import compute_transition_fees
from ..figures.funding import compute_agreement_balances
from ..formatting import fmt_yuan_prose
from ..results import ForecastResult
from ..schemas import table_from
from ..settings import (
    DEFAULT_ESCALATION,
    DEFAULT_PAYMENT_TERM_DAYS,
    DEFAULT_POLICY,
    Escalation,
    Policy,
    resolve_as_of,
)
from .blas import single_threaded_blas
from .common import (
    DEFAULT_LAG_MONTHS,
    DEFAULT_N_PATHS,
    DateLike,
    check_simulation_args,
    new_agreement_stream,
    path_quantiles,
    random_streams,
)
from .delivery import DeliveryModel, resolve_delivery_model
from .fees import FeeModel, build_fee_model
from .inflows import InflowModel, forecast_inflows
from .scenarios import Scenario, resolve_scenarios
from .tail import Distribution

__all__ = [
    "GAP_DEFINITION",
    "INDEPENDENCE_STATEMENT",
    "NEW_AGREEMENT_BLOCK_MONTHS",
    "NEW_AGREEMENT_WINDOW_MONTHS",
    "REALISED_GAP_KEYS",
    "STOCK_GAP_DEFINITION",
    "NewAgreementModel",
    "compute_realised_gap",
    "fit_new_agreement_model",
    "forecast_funding_gap",
]

log = logging.getLogger(__name__)

#: New agreements: blocks of this many consecutive months resampled from the last
#: NEW_AGREEMENT_WINDOW_MONTHS complete months of signed compensation.
NEW_AGREEMENT_BLOCK_MONTHS = 3
NEW_AGREEMENT_WINDOW_MONTHS = 36

#: The stock gap, as the reports print it.
STOCK_GAP_DEFINITION = (
    "存量缺口（只计统计日已存在的义务）= 统计日前已签协议中支付期限不晚于预测期末的未付补偿款"
    " + 统计日过渡安置费拖欠（已计未付）+ 统计日仍在过渡的户在预测期内按交付预测应计的过渡安置费"
    " −（统计日资金结余 + 预测期内模拟到位资金）；≤0即资金可覆盖。"
)
#: The full gap (the headline), as the reports print it.
GAP_DEFINITION = (
    "资金缺口（全口径）= 存量缺口 + 预测期内预计新签协议中支付期限不晚于预测期末的补偿款"
    f"（每月新签补偿额按统计日前最近{NEW_AGREEMENT_WINDOW_MONTHS}个完整月的历史、以连续"
    f"{NEW_AGREEMENT_BLOCK_MONTHS}个月为一块重抽样，不加趋势；签约至支付期限的天数取同期已签协议的"
    "实际分布，台账缺支付期限的按政策付款期限补足；月内签约日按均匀分布）；"
    "预测期内新开始过渡的户的过渡安置费不计入；缺口≤0即资金可覆盖。"
)
#: What the intervals leave out, as the reports print it.
INDEPENDENCE_STATEMENT = (
    "资金到位、安置区交付和新签协议分别用同一种子派生的三个独立随机数流抽样，三者在模型中互不相关；"
    "各安置区交付之间是否相关由交付模型决定（见交付模型说明）。共同冲击（如资金断供导致全部延期、"
    "征收工作整体放缓使新签协议与到位资金同时变化）不在区间内，见延期与减少到位情景。"
)
#: What the full gap leaves out, as the reports print it.
NEW_AGREEMENT_LEFT_OUT = (
    "全口径缺口未计入：预测期内新开始过渡的户的过渡安置费（需要新搬迁户数及其交付的模型，台账中"
    "没有可据以预测的计划数据，且这些户在预测期内的计费月数短）；新签协议按月签约额的期望到期比例"
    "折算，同月内各协议支付期限的随机性、以及支付期限分布本身的抽样误差不在区间内；"
    "不假设签约额的增减趋势。"
)
#: Fewer deliveries than this, or fewer months of inflows than INFLOW_WARN_MONTHS: warn.
DELIVERY_WARN_EVENTS = 10
INFLOW_WARN_MONTHS = 36
#: Fewer months of signing history than this: warn.
SIGNING_WARN_MONTHS = 24


def _data_warning(
    *,
    n_sites: int,
    n_events: int,
    n_forecast: int,
    inflows: Mapping[str, Any],
    households: int,
    signing_months: int,
) -> str | None:
    parts = []
    if n_forecast and n_events < DELIVERY_WARN_EVENTS:
        parts.append(
            f"交付预测只依据{n_sites}个已开工安置区、其中{n_events}个已交付，超出已交付周期的部分"
            "靠拟合的分布外推"
        )
    months = inflows["history_months"]
    if inflows["fallback_reason"] is not None or months < INFLOW_WARN_MONTHS:
        parts.append(
            f"资金到位只有{months}个月的记录"
            + ("，未能建模，改用历史月份重抽样" if inflows["method"] == "block_bootstrap" else "")
            + ("，且没有到位记录，预测期到位按0计" if inflows["method"] == "zero" else "")
        )
    if households == 0:
        parts.append("统计日没有仍在过渡的户，过渡费预测为0")
    if signing_months < SIGNING_WARN_MONTHS:
        parts.append(
            f"新签协议只有{signing_months}个月的签约记录"
            + ("，预测期新签协议按0计" if signing_months == 0 else "")
        )
    if not parts:
        return None
    return "预测依据的数据很少：" + "；".join(parts) + "。区间很宽，只宜作为量级参考。"


@dataclass(frozen=True)
class NewAgreementModel:
    """Agreements expected to be signed within the horizon and the share of them due within it.

    Built by :func:`fit_new_agreement_model`; :meth:`simulate` draws the paths.

    Attributes
    ----------
    history
        Monthly signed compensation (yuan, ``float64``) of the complete months resampled: the
        last :data:`NEW_AGREEMENT_WINDOW_MONTHS` (or fewer) months up to ``as_of``, zeros for
        months without a signing, on a monthly ``PeriodIndex``; empty without any agreement.
    history_months
        Complete months from the first signing to ``as_of`` (the whole record, ≥ ``len(history)``).
    lag_days
        Sorted days from signing to ``payment_due_date`` (the ledger's, else the policy's term, as
        :func:`~zhengshou_analysis.figures.funding.compute_agreement_balances` fills it; negative
        lags count as 0) of the agreements signed in the months of ``history``.
    months
        The signing months the horizon ``(as_of, horizon_end]`` touches (the month of ``as_of``
        when it is not its last day, then every month to the one of ``horizon_end``).
    due_share
        ``(len(months),)``: the expected share of a month's signed compensation that is signed
        within the horizon and falls due by ``horizon_end`` (see :meth:`simulate`).
    block_months
        Length of the resampled blocks (months).
    horizon_end
        ``as_of`` + the horizon.
    """

    history: pd.Series
    history_months: int
    lag_days: np.ndarray
    months: pd.PeriodIndex
    due_share: np.ndarray
    block_months: int
    horizon_end: pd.Timestamp

    @property
    def method(self) -> str:
        """``block_bootstrap``, or ``zero`` when there is no signing to resample."""
        return "block_bootstrap" if self.history.gt(0).any() else "zero"

    def simulate(self, n_paths: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Monthly signed compensation and the new obligations due within the horizon, per path.

        Parameters
        ----------
        n_paths
            Number of paths (≥ 1).
        rng
            The new-agreement stream (:func:`~zhengshou_analysis.forecast.common.new_agreement_stream`).

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            ``(n_paths, len(months))`` signed compensation per month (yuan): blocks of
            ``block_months`` consecutive months of ``history``, block starts uniform, no drift;
            and ``(n_paths,)`` new obligations due = Σ_m A_m × ``due_share[m]`` (yuan, ≥ 0).
            Zeros (and no draw from ``rng``) when :attr:`method` is ``zero``.
        """
        m = len(self.months)
        if self.method == "zero" or m == 0:
            return np.zeros((n_paths, m)), np.zeros(n_paths)
        window = self.history.to_numpy(dtype="float64")
        b = min(self.block_months, window.size)
        n_blocks = -(-m // b)
        starts = rng.integers(0, window.size - b + 1, size=(n_paths, n_blocks))
        idx = (starts[:, :, None] + np.arange(b)).reshape(n_paths, n_blocks * b)[:, :m]
        amounts = window[idx]
        return amounts, amounts @ self.due_share

    def assumptions(self) -> dict[str, Any]:
        """The model in numbers and words (JSON-ready).

        Returns
        -------
        dict
            ``method``, ``window_months`` (months resampled), ``history_months``,
            ``block_months``, ``monthly_signed_mean_yuan`` (mean of the window),
            ``agreements_in_lag_sample``, ``due_lag_days_p50``/``_p90`` (NaN without agreements),
            ``signing_months_in_horizon``, ``due_share_by_month`` (``{YYYY-MM: share}``),
            ``statement`` and ``left_out`` (Chinese).
        """
        lags = self.lag_days
        mean = float(self.history.mean()) if len(self.history) else 0.0
        p50 = float(np.quantile(lags, 0.5)) if lags.size else float("nan")
        p90 = float(np.quantile(lags, 0.9)) if lags.size else float("nan")
        if self.method == "zero":
            statement = "统计日前最近的完整月份中没有签约记录，预测期内新签协议按0计。"
        else:
            statement = (
                f"新签协议：每月新签补偿额取统计日前最近{len(self.history)}个完整月的实际值（无签约的月按0），"
                f"以连续{min(self.block_months, len(self.history))}个月为一块分块重抽样，不加趋势"
                f"（这{len(self.history)}个月平均每月{fmt_yuan_prose(mean)}）；签约至支付期限的天数取这些月份"
                f"所签{lags.size}份协议的实际分布（中位数{p50:.0f}天，90%分位{p90:.0f}天，"
                "台账缺支付期限的按政策付款期限补足）；一个月的签约额在月内按天均匀分布，"
                "按其在预测期内签约且支付期限不晚于预测期末的期望比例计入。"
            )
        return {
            "method": self.method,
            "window_months": len(self.history),
            "history_months": self.history_months,
            "block_months": min(self.block_months, max(len(self.history), 1)),
            "monthly_signed_mean_yuan": mean,
            "agreements_in_lag_sample": int(lags.size),
            "due_lag_days_p50": p50,
            "due_lag_days_p90": p90,
            "signing_months_in_horizon": len(self.months),
            "due_share_by_month": {
                str(m): float(x) for m, x in zip(self.months, self.due_share, strict=True)
            },
            "statement": statement,
            "left_out": NEW_AGREEMENT_LEFT_OUT,
        }


def fit_new_agreement_model(
    balances: pd.DataFrame,
    *,
    as_of: DateLike,
    horizon_months: int,
    window_months: int = NEW_AGREEMENT_WINDOW_MONTHS,
    block_months: int = NEW_AGREEMENT_BLOCK_MONTHS,
) -> NewAgreementModel:
    """The new-agreement model at ``as_of``: signing history, due lags and due shares.

    Parameters
    ----------
    balances
        :func:`~zhengshou_analysis.figures.funding.compute_agreement_balances` at ``as_of`` (its
        ``payment_due_date`` already filled with the policy's term where the ledger has none);
        read: ``signed_date``, ``payment_due_date``, ``compensation_yuan``. Not modified.
    as_of
        Reporting date.
    horizon_months
        Months after ``as_of`` (1..120).
    window_months
        Complete months of signing history resampled (default 36, at least ``block_months``
        where the record allows).
    block_months
        Consecutive months per resampled block (default 3).

    Returns
    -------
    NewAgreementModel
        With ``due_share[m]`` = (1 / days of month m) × Σ over the days d of m with
        ``as_of < d ≤ horizon_end`` of F(``horizon_end`` − d), F the empirical distribution
        function of ``lag_days`` (a month's signings spread evenly over its days).

    Raises
    ------
    ParameterError
        When ``horizon_months``, ``window_months`` or ``block_months`` is out of range.

    Notes
    -----
    Only complete months enter the history (the month of ``as_of`` when ``as_of`` is its last
    day), as for the inflows. Agreements without a ``signed_date`` are not in ``balances``.
    """
    as_of_ts = resolve_as_of(as_of)
    if int(horizon_months) != horizon_months or not 1 <= horizon_months <= 120:
        raise ParameterError(f"horizon_months must be an integer in 1..120, got {horizon_months!r}")
    if int(window_months) != window_months or window_months < 1:
        raise ParameterError(f"window_months must be a positive integer, got {window_months!r}")
    if int(block_months) != block_months or block_months < 1:
        raise ParameterError(f"block_months must be a positive integer, got {block_months!r}")
    horizon_end = as_of_ts + pd.DateOffset(months=int(horizon_months))
    last = as_of_ts.to_period("M") if as_of_ts.is_month_end else as_of_ts.to_period("M") - 1
    b = balances.loc[balances["signed_date"].le(as_of_ts)]
    month = b["signed_date"].dt.to_period("M")
    b, month = b.loc[month.le(last)], month.loc[month.le(last)]
    sums = b.groupby(month)["compensation_yuan"].sum()
    if sums.empty:
        full = pd.Series([], index=pd.PeriodIndex([], freq="M"), dtype="float64")
    else:
        index = pd.period_range(sums.index.min(), last, freq="M", name="month")
        full = sums.reindex(index, fill_value=0.0).astype("float64")
    history = full.iloc[-int(window_months) :].rename("signed_yuan")
    in_window = month.isin(history.index).to_numpy(dtype=bool)
    lag = (b["payment_due_date"] - b["signed_date"]).dt.days.to_numpy(
        dtype="float64", na_value=np.nan
    )[in_window]
    lag = lag[~np.isnan(lag)]
    if (lag < 0).any():
        log.info(
            "%d agreements fall due before their signing: lag taken as 0", int((lag < 0).sum())
        )
    lag_days = np.sort(np.maximum(lag, 0.0))
    first = (as_of_ts + pd.Timedelta(days=1)).to_period("M")
    months = pd.period_range(first, horizon_end.to_period("M"), freq="M", name="month")
    due_share = np.array([_due_share(m, as_of_ts, horizon_end, lag_days) for m in months])
    return NewAgreementModel(
        history=history,
        history_months=len(full),
        lag_days=lag_days,
        months=months,
        due_share=due_share.astype("float64"),
        block_months=int(block_months),
        horizon_end=horizon_end,
    )


def _due_share(
    month: pd.Period, as_of: pd.Timestamp, horizon_end: pd.Timestamp, lag_days: np.ndarray
) -> float:
    """Share of a month's signings (even over its days) signed after ``as_of`` and due by the end."""
    days = pd.date_range(month.start_time, month.end_time.normalize(), freq="D")
    inside = days[(days > as_of) & (days <= horizon_end)]
    if not lag_days.size or not len(inside):
        return 0.0
    left = (horizon_end - inside).days.to_numpy(dtype="float64")
    due = np.searchsorted(lag_days, left, side="right") / lag_days.size
    return float(due.sum() / len(days))


@single_threaded_blas()
def forecast_funding_gap(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: DateLike,
    horizon_months: int = 12,
    n_paths: int = DEFAULT_N_PATHS,
    seed: int = 2021,
    lag_months: int = DEFAULT_LAG_MONTHS,
    scenarios: Sequence[Scenario] | None = None,
    escalation: Escalation = DEFAULT_ESCALATION,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
    distribution: Distribution | None = None,
    delivery: DeliveryModel | None = None,
    inflows: ForecastResult | InflowModel | None = None,
    balances: pd.DataFrame | None = None,
    transition_fees: pd.DataFrame | None = None,
) -> ForecastResult:
    """The stock and the full funding gap at the horizon (docs/indicators.md), simulated.

    Parameters
    ----------
    tables
        Canonical tables by name (a missing one is empty); not modified.
    as_of
        Reporting date.
    horizon_months
        Horizon after ``as_of`` in months (1..120, default 12).
    n_paths
        Simulated paths (default 10,000).
    seed
        One seed for deliveries, inflows and new agreements (see the module docstring).
    lag_months
        Months a household stays in transition after its site is delivered (default 2).
    scenarios
        :class:`Scenario` objects (default :data:`DEFAULT_SCENARIOS`); a ``baseline`` scenario is
        always included and gives the headline figures.
    escalation
        Overdue escalation of the transitional fee (the policy's).
    payment_term_days
        The policy's payment term (:attr:`~zhengshou_analysis.settings.Policy.payment_term_days`),
        used when ``balances`` is computed here; a given ``balances`` carries its own fill.
    distribution
        Parametric tail of the delivery model (default: the family of ``delivery``, else
        lognormal).
    delivery
        Pre-fitted :func:`~zhengshou_analysis.forecast.delivery.fit_delivery_model` at ``as_of``;
        fitted when ``None``.
    inflows
        :func:`~zhengshou_analysis.forecast.inflows.forecast_inflows` result for the same
        ``as_of``, ``horizon_months``, ``n_paths`` and ``seed`` (its paths are used as they are),
        or a pre-fitted :func:`~zhengshou_analysis.forecast.inflows.fit_inflow_model` to simulate
        from; fitted and simulated when ``None``.
    balances
        Pre-computed :func:`~zhengshou_analysis.figures.funding.compute_agreement_balances`
        of ``agreements`` and ``payments`` at ``as_of`` (with the same ``payment_term_days``);
        computed when ``None``. It gives both the unpaid compensation and the signing history
        and due lags of the new-agreement model.
    transition_fees
        Pre-computed :func:`~zhengshou_analysis.figures.fees.compute_transition_fees` at
        ``as_of`` (with ``sites`` and the same ``escalation``); computed when ``None``. Results
        are identical whichever of these are given.

    Returns
    -------
    ForecastResult
        ``summary``: one row per scenario — its parameters, ``unpaid_compensation_due_yuan``,
        ``fee_arrears_yuan``, ``cash_balance_yuan``, ``fee_{mean,p10,p50,p90}_yuan``,
        ``inflow_{...}_yuan``, ``stock_gap_{...}_yuan`` and ``prob_stock_gap_closed`` (the
        stock gap), ``new_obligations_due_{...}_yuan``, ``gap_{...}_yuan`` and
        ``prob_gap_closed`` (the full gap, the headline). ``frames``: ``"fees_by_site"``,
        ``"fees_by_zone"`` (baseline, see :func:`simulate_transition_fees`), ``"inflows"`` (per
        month, baseline), ``"backtest"``, ``"new_agreements"`` (per signing month of the
        horizon: ``month``, ``due_share``, ``signed_{mean,p10,p50,p90}_yuan``). ``samples``
        ``(n_paths,)`` yuan: ``"stock_gap:<scenario>"``, ``"gap:<scenario>"`` (full),
        ``"fees:<scenario>"``, ``"new_due"`` (the same in every scenario, also under
        ``"new_due:<scenario>"``); ``"inflows"`` ``(n_paths, horizon_months)``.
        ``assumptions``: ``stock_gap_definition``, ``gap_definition``, ``gap_components``
        (``unpaid_compensation_due_yuan``, ``transition_fee_arrears_yuan``,
        ``cash_balance_yuan``), ``new_agreements`` (:meth:`NewAgreementModel.assumptions`),
        models, scenarios, the data the forecast rests on and a plain warning when that is little.

    Raises
    ------
    ParameterError
        When an argument is out of range, or a pre-fitted input belongs to another ``as_of``,
        ``distribution``, horizon, ``n_paths`` or ``seed``.

    Notes
    -----
    Per path,

    .. math::

        \\mathrm{stock\\_gap} = U + A + F - (B + I), \\qquad
        \\mathrm{gap} = \\mathrm{stock\\_gap} + N,

    ``U`` the unpaid compensation of agreements signed by ``as_of`` whose payment is due by the
    horizon end (``payment_due_date`` filled as in the indicators), ``A`` the transitional-fee
    arrears at ``as_of`` (accrued − paid, per household, ≥ 0), ``F`` the fees of the households
    in transition at ``as_of`` falling due over the horizon under the simulated deliveries, ``B``
    the cash balance at ``as_of`` (funds received − all payments) and ``I`` the simulated inflows
    over the horizon (× ``inflow_factor``, + the lump when it falls within the horizon).
    ``N = Σ_m A_m · s_m`` the new obligations due: ``A_m`` the simulated compensation signed in
    month ``m`` (block bootstrap of the recent history, :class:`NewAgreementModel`) and ``s_m``
    the expected share of it due by the horizon end. ``N ≥ 0``, so gap ≥ stock gap on every
    path. ``prob_*_closed`` is the share of paths with the gap ≤ 0. Fees of households entering
    transition within the horizon are not in either gap (``new_agreements.left_out``).
    Deliveries, inflows and new agreements come from three independent streams of ``seed``, so a
    common shock is not in the intervals: the delay and inflow scenarios show its size. All
    scenarios use the same draws; the scenarios do not change ``N``.
    """
    as_of_ts = resolve_as_of(as_of)
    check_simulation_args(horizon_months, n_paths, lag_months, seed)
    items = resolve_scenarios(scenarios)
    h, n = int(horizon_months), int(n_paths)
    delivery = resolve_delivery_model(
        table_from(tables, "sites"), as_of=as_of_ts, distribution=distribution, model=delivery
    )
    fee_model = build_fee_model(
        tables,
        as_of=as_of_ts,
        horizon_months=h,
        delivery=delivery,
        escalation=escalation,
        transition_fees=transition_fees,
    )
    rng_delivery, _ = random_streams(seed)
    draws = delivery.sample_months_after(n, rng_delivery)
    inflows = _inflow_forecast(
        tables, inflows, as_of=as_of_ts, horizon_months=h, n_paths=n, seed=seed
    )
    if balances is None:
        balances = compute_agreement_balances(
            table_from(tables, "agreements"),
            table_from(tables, "payments"),
            as_of=as_of_ts,
            payment_term_days=payment_term_days,
        )
    components = _gap_components(
        tables, as_of=as_of_ts, horizon_months=h, balances=balances, fee_model=fee_model
    )
    new_model = fit_new_agreement_model(balances, as_of=as_of_ts, horizon_months=h)
    signed, new_due = new_model.simulate(n, new_agreement_stream(seed))
    summary, samples, frames = _run_scenarios(
        items, fee_model, draws, inflows, components, new_due, lag_months=int(lag_months)
    )
    frames["new_agreements"] = _new_agreement_frame(new_model, signed)
    assumptions = _gap_assumptions(
        as_of=as_of_ts,
        horizon_months=h,
        n_paths=n,
        seed=int(seed),
        lag_months=int(lag_months),
        escalation=escalation,
        scenarios=items,
        components=components,
        fee_model=fee_model,
        delivery=delivery,
        inflows=inflows,
        new_model=new_model,
    )
    if assumptions["warning"]:
        log.info("forecast at %s: %s", as_of_ts.date(), assumptions["warning"])
    return ForecastResult(summary=summary, assumptions=assumptions, frames=frames, samples=samples)


@dataclass(frozen=True)
class _Components:
    """The deterministic parts of the gap (yuan) and the size of the agreement record."""

    unpaid_due_yuan: float
    fee_arrears_yuan: float
    cash_balance_yuan: float
    agreements_signed: int
    horizon_end: pd.Timestamp


def _new_agreement_frame(model: NewAgreementModel, signed: np.ndarray) -> pd.DataFrame:
    """Per signing month of the horizon: its due share and quantiles of the simulated signings."""
    q = path_quantiles(signed)
    return pd.DataFrame(
        {
            "month": model.months,
            "due_share": model.due_share,
            **{f"signed_{k}_yuan": np.asarray(v, dtype="float64") for k, v in q.items()},
        }
    )


def _gap_components(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp,
    horizon_months: int,
    balances: pd.DataFrame,
    fee_model: FeeModel,
) -> _Components:
    """Unpaid compensation due by the horizon end, fee arrears and the cash balance at ``as_of``."""
    horizon_end = as_of + pd.DateOffset(months=horizon_months)
    payments = table_from(tables, "payments")
    unpaid_due = float(
        balances.loc[balances["payment_due_date"].le(horizon_end), "unpaid_yuan"].sum()
    )
    funding = table_from(tables, "funding")
    cash = float(funding.loc[funding["date"].le(as_of), "amount_yuan"].sum()) - float(
        payments.loc[payments["date"].le(as_of), "amount_yuan"].sum()
    )
    return _Components(unpaid_due, fee_model.arrears_yuan, cash, len(balances), horizon_end)


def _inflow_forecast(
    tables: Mapping[str, pd.DataFrame],
    inflows: ForecastResult | InflowModel | None,
    *,
    as_of: pd.Timestamp,
    horizon_months: int,
    n_paths: int,
    seed: int,
) -> ForecastResult:
    """The inflow forecast given (checked), simulated from the model given, or fitted here."""
    if inflows is None or isinstance(inflows, InflowModel):
        return forecast_inflows(
            table_from(tables, "funding"),
            as_of=as_of,
            horizon_months=horizon_months,
            n_paths=n_paths,
            seed=seed,
            model=inflows,
        )
    first = as_of.to_period("M") + 1
    months = inflows.summary["month"]
    if (
        inflows.samples["inflows"].shape != (n_paths, horizon_months)
        or inflows.assumptions.get("seed") != int(seed)
        or (len(months) and months.iloc[0] != first)
    ):
        raise ParameterError(
            "inflows must be forecast_inflows(...) at the same as_of, horizon_months, n_paths "
            f"and seed ({as_of.date()}, {horizon_months}, {n_paths}, {seed})"
        )
    return inflows


def _run_scenarios(
    items: Sequence[Scenario],
    fee_model: FeeModel,
    draws: np.ndarray,
    inflows: ForecastResult,
    components: _Components,
    new_due: np.ndarray,
    *,
    lag_months: int,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, pd.DataFrame]]:
    """Per scenario, both gaps on every path: summary rows, samples and the baseline's fee frames."""
    inflow_paths = inflows.samples["inflows"]
    h = inflow_paths.shape[1]
    rows: list[dict[str, Any]] = []
    samples: dict[str, np.ndarray] = {"inflows": inflow_paths, "new_due": new_due}
    frames: dict[str, pd.DataFrame] = {}
    unpaid, arrears = components.unpaid_due_yuan, components.fee_arrears_yuan
    cash = components.cash_balance_yuan
    new_q = {f"new_obligations_due_{k}_yuan": float(v) for k, v in path_quantiles(new_due).items()}
    for sc in items:
        fees, marginal, in_h, whole = fee_model.simulate(
            draws, lag_months=lag_months, delay_months=sc.delivery_delay_months
        )
        fee_total = fees.sum(axis=1)
        inflow_total = inflow_paths.sum(axis=1) * sc.inflow_factor
        if sc.lump_month <= h:
            inflow_total = inflow_total + sc.lump_yuan
        stock = unpaid + arrears + fee_total - (cash + inflow_total)
        gap = stock + new_due
        samples |= {
            f"stock_gap:{sc.name}": stock,
            f"gap:{sc.name}": gap,
            f"fees:{sc.name}": fee_total,
            f"new_due:{sc.name}": new_due,
        }
        rows.append(
            {
                **_scenario_parameters(sc),
                "unpaid_compensation_due_yuan": unpaid,
                "fee_arrears_yuan": arrears,
                "cash_balance_yuan": cash,
                **{f"fee_{k}_yuan": float(v) for k, v in path_quantiles(fee_total).items()},
                **{f"inflow_{k}_yuan": float(v) for k, v in path_quantiles(inflow_total).items()},
                **{f"stock_gap_{k}_yuan": float(v) for k, v in path_quantiles(stock).items()},
                "prob_stock_gap_closed": float(np.mean(stock <= 0)),
                **new_q,
                **{f"gap_{k}_yuan": float(v) for k, v in path_quantiles(gap).items()},
                "prob_gap_closed": float(np.mean(gap <= 0)),
            }
        )
        if sc.name == "baseline":
            _, by_site, by_zone = fee_model.frames(fees, marginal, in_h, whole)
            frames = {"fees_by_site": by_site, "fees_by_zone": by_zone}
    frames |= {"inflows": inflows.summary, "backtest": inflows.frames["backtest"]}
    summary = pd.DataFrame(rows).astype({"scenario": "str", "description": "str"})
    return summary, samples, frames


def _scenario_parameters(sc: Scenario) -> dict[str, Any]:
    return {
        "scenario": sc.name,
        "description": sc.describe(),
        "inflow_factor": sc.inflow_factor,
        "lump_yuan": sc.lump_yuan,
        "lump_month": sc.lump_month,
        "delivery_delay_months": sc.delivery_delay_months,
    }


def _gap_assumptions(
    *,
    as_of: pd.Timestamp,
    horizon_months: int,
    n_paths: int,
    seed: int,
    lag_months: int,
    escalation: Escalation,
    scenarios: Sequence[Scenario],
    components: _Components,
    fee_model: FeeModel,
    delivery: DeliveryModel,
    inflows: ForecastResult,
    new_model: NewAgreementModel,
) -> dict[str, Any]:
    """The assumptions dict of :func:`forecast_funding_gap` (JSON-ready apart from numpy scalars)."""
    fee_info = fee_model.assumptions(lag_months=lag_months, escalation=escalation)
    data = _data_basis(delivery, inflows.assumptions, fee_info, components, new_model)
    return {
        "as_of": as_of.date().isoformat(),
        "horizon_months": horizon_months,
        "horizon_end": components.horizon_end.date().isoformat(),
        "n_paths": n_paths,
        "seed": seed,
        "lag_months": lag_months,
        "escalation_tiers": fee_info["escalation_tiers"],
        "stock_gap_definition": STOCK_GAP_DEFINITION,
        "gap_definition": GAP_DEFINITION,
        "gap_components": {
            "unpaid_compensation_due_yuan": components.unpaid_due_yuan,
            "transition_fee_arrears_yuan": components.fee_arrears_yuan,
            "cash_balance_yuan": components.cash_balance_yuan,
        },
        "new_agreements": new_model.assumptions(),
        "scenario": "baseline",
        "scenarios": {
            sc.name: {k: v for k, v in _scenario_parameters(sc).items() if k != "scenario"}
            for sc in scenarios
        },
        "inflows": inflows.assumptions,
        "fees": fee_info,
        "delivery": {
            "tail": delivery.tail.describe() if delivery.tail else None,
            "km_reaches_months": delivery.tau,
            "sites_started": delivery.n_sites,
            "sites_delivered": delivery.n_events,
            "sites_forecast": len(delivery.sites),
            "independence": INDEPENDENCE_STATEMENT,
        },
        "data": data,
        "warning": _data_warning(
            n_sites=delivery.n_sites,
            n_events=delivery.n_events,
            n_forecast=len(delivery.sites),
            inflows=inflows.assumptions,
            households=fee_info["households_in_transition"],
            signing_months=new_model.history_months,
        ),
    }


def _data_basis(
    delivery: DeliveryModel,
    inflows: Mapping[str, Any],
    fee_info: Mapping[str, Any],
    components: _Components,
    new_model: NewAgreementModel,
) -> dict[str, int]:
    """How much data the forecast rests on (counts)."""
    return {
        "sites_started": delivery.n_sites,
        "sites_delivered": delivery.n_events,
        "sites_forecast": len(delivery.sites),
        "households_in_transition": fee_info["households_in_transition"],
        "funding_history_months": inflows["history_months"],
        "funding_nonzero_months": inflows["history_nonzero_months"],
        "agreements_signed": components.agreements_signed,
        "signing_history_months": new_model.history_months,
    }


#: The keys of :func:`compute_realised_gap`, in order (stable: the forecast review reads them).
REALISED_GAP_KEYS = (
    "origin",
    "horizon_months",
    "horizon_end",
    "unpaid_compensation_due_yuan",
    "fee_arrears_yuan",
    "fees_in_horizon_yuan",
    "cash_balance_yuan",
    "inflows_yuan",
    "stock_gap_yuan",
    "stock_gap_closed",
    "new_obligations_due_yuan",
    "gap_yuan",
    "gap_closed",
    "new_agreements_signed_yuan",
    "paid_to_new_agreements_yuan",
    "fees_new_households_yuan",
    "origin_obligations_yuan",
    "unpaid_compensation_still_unpaid_yuan",
    "fee_arrears_still_unpaid_yuan",
    "origin_obligations_unpaid_after_horizon_yuan",
    "share_unpaid_after_horizon",
)


def compute_realised_gap(
    tables: Mapping[str, pd.DataFrame],
    *,
    origin: DateLike,
    horizon_months: int = 12,
    policy: Policy = DEFAULT_POLICY,
) -> dict[str, Any]:
    """What happened over ``(origin, origin + horizon]``: the realised stock and full gap.

    The same definitions as :func:`forecast_funding_gap` at ``as_of = origin``, with the realised
    inflows, fees and new agreements in place of the simulated ones, and how much of the
    obligations existing at ``origin`` was still unpaid at the horizon end.

    Parameters
    ----------
    tables
        Canonical tables known at ``origin + horizon_months`` or later (a missing one is empty);
        not modified. Rows dated after the horizon end are not used.
    origin
        The forecast's reporting date.
    horizon_months
        Months after ``origin`` (1..120, default 12).
    policy
        The office's policy: payment term, escalation and default transition months, as the
        forecast used them.

    Returns
    -------
    dict
        The keys of :data:`REALISED_GAP_KEYS`, JSON-ready (yuan as ``float``):

        - ``origin``, ``horizon_end`` (ISO dates), ``horizon_months``;
        - ``unpaid_compensation_due_yuan`` U: unpaid compensation at ``origin`` of agreements
          signed by ``origin`` and due by the horizon end (forecast: the same number);
        - ``fee_arrears_yuan`` A: transitional-fee arrears (accrued − paid, per household,
          ≥ 0) at ``origin`` (forecast: the same number);
        - ``fees_in_horizon_yuan`` F: fees accrued over the horizon by the households in
          transition at ``origin`` — their accrued fee at the horizon end minus at ``origin``
          (:func:`~zhengshou_analysis.figures.fees.compute_transition_fees` at both dates, the
          households of ``origin`` only), so a household that moved back by then stops at its
          ``end_date`` (forecast sample ``fees:<scenario>``);
        - ``cash_balance_yuan`` B at ``origin``, ``inflows_yuan`` I received in the horizon
          (forecast: ``inflows`` summed over months);
        - ``stock_gap_yuan`` = U + A + F − (B + I), ``stock_gap_closed`` (≤ 0; forecast
          ``stock_gap:<scenario>``);
        - ``new_obligations_due_yuan`` N: compensation of agreements signed in the horizon and
          due (the policy's term where the ledger has no date) by its end (forecast ``new_due``);
        - ``gap_yuan`` = stock gap + N, ``gap_closed`` (forecast ``gap:<scenario>``);
        - for reading, not in either gap: ``new_agreements_signed_yuan`` (all compensation
          signed in the horizon), ``paid_to_new_agreements_yuan`` (compensation paid by the end
          to those agreements), ``fees_new_households_yuan`` (fees accrued by the end by
          households that started transition in the horizon);
        - ``origin_obligations_yuan`` = U + A, ``unpaid_compensation_still_unpaid_yuan`` (of the
          agreements in U, still unpaid at the end, at most their unpaid at ``origin``),
          ``fee_arrears_still_unpaid_yuan`` (per household max(arrears at ``origin`` − fees paid
          in the horizon, 0): payments settle the oldest fees first),
          ``origin_obligations_unpaid_after_horizon_yuan`` (their sum) and
          ``share_unpaid_after_horizon`` (that sum ÷ (U + A); NaN when U + A = 0).

    Raises
    ------
    ParameterError
        When ``horizon_months`` is out of range.

    Notes
    -----
    A ledger without any date in the last month of the horizon may not cover it: logged as a
    warning, the figures are computed all the same (what is not recorded counts as not having
    happened).
    """
    o = resolve_as_of(origin)
    if int(horizon_months) != horizon_months or not 1 <= horizon_months <= 120:
        raise ParameterError(f"horizon_months must be an integer in 1..120, got {horizon_months!r}")
    end = o + pd.DateOffset(months=int(horizon_months))
    t = {name: table_from(tables, name) for name in _REALISED_TABLES}
    _warn_if_short(t, end)
    at_o, at_end = (
        compute_agreement_balances(
            t["agreements"], t["payments"], as_of=d, payment_term_days=policy.payment_term_days
        )
        for d in (o, end)
    )
    due = at_o.loc[at_o["payment_due_date"].le(end)]
    unpaid_end = at_end.set_index("agreement_id")["unpaid_yuan"].reindex(due["agreement_id"])
    still_comp = np.minimum(unpaid_end.fillna(0.0).to_numpy(), due["unpaid_yuan"].to_numpy())
    new = at_end.loc[at_end["signed_date"].gt(o)]
    fees = _realised_fees(t, o, end, policy)
    funding, payments = t["funding"], t["payments"]
    cash = float(funding.loc[funding["date"].le(o), "amount_yuan"].sum()) - float(
        payments.loc[payments["date"].le(o), "amount_yuan"].sum()
    )
    inflows = float(
        funding.loc[funding["date"].gt(o) & funding["date"].le(end), "amount_yuan"].sum()
    )
    unpaid = float(due["unpaid_yuan"].sum())
    stock = unpaid + fees["arrears"] + fees["in_horizon"] - (cash + inflows)
    new_due = float(new.loc[new["payment_due_date"].le(end), "compensation_yuan"].sum())
    owed = unpaid + fees["arrears"]
    left = float(still_comp.sum()) + fees["arrears_left"]
    out = {
        "origin": o.date().isoformat(),
        "horizon_months": int(horizon_months),
        "horizon_end": end.date().isoformat(),
        "unpaid_compensation_due_yuan": unpaid,
        "fee_arrears_yuan": fees["arrears"],
        "fees_in_horizon_yuan": fees["in_horizon"],
        "cash_balance_yuan": cash,
        "inflows_yuan": inflows,
        "stock_gap_yuan": stock,
        "stock_gap_closed": bool(stock <= 0),
        "new_obligations_due_yuan": new_due,
        "gap_yuan": stock + new_due,
        "gap_closed": bool(stock + new_due <= 0),
        "new_agreements_signed_yuan": float(new["compensation_yuan"].sum()),
        "paid_to_new_agreements_yuan": float(new["paid_yuan"].sum()),
        "fees_new_households_yuan": fees["new_households"],
        "origin_obligations_yuan": owed,
        "unpaid_compensation_still_unpaid_yuan": float(still_comp.sum()),
        "fee_arrears_still_unpaid_yuan": fees["arrears_left"],
        "origin_obligations_unpaid_after_horizon_yuan": left,
        "share_unpaid_after_horizon": left / owed if owed > 0 else float("nan"),
    }
    return {k: out[k] for k in REALISED_GAP_KEYS}


_REALISED_TABLES = ("agreements", "payments", "funding", "transition", "sites")
_LEDGER_DATES = {
    "agreements": ("signed_date",),
    "payments": ("date",),
    "funding": ("date",),
    "transition": ("start_date", "end_date"),
}


def _warn_if_short(t: Mapping[str, pd.DataFrame], end: pd.Timestamp) -> None:
    """Log the ledgers without a date in the last month of the horizon (they may not cover it)."""
    short = []
    last_month = end - pd.DateOffset(months=1)
    for name, cols in _LEDGER_DATES.items():
        latest = max((t[name][c].max() for c in cols if len(t[name])), default=pd.NaT)
        if len(t[name]) and (pd.isna(latest) or latest <= last_month):
            short.append(f"{name} (latest {latest.date() if pd.notna(latest) else 'none'})")
    if short:
        log.warning(
            "realised gap to %s: ledgers end before the horizon end and may not cover it: %s",
            end.date(),
            ", ".join(short),
        )


def _realised_fees(
    t: Mapping[str, pd.DataFrame], o: pd.Timestamp, end: pd.Timestamp, policy: Policy
) -> dict[str, float]:
    """Arrears at ``o``, fees accrued in the horizon by the households of ``o``, and the rest.

    Per household (``agreement_id``, duplicate rows summed): ``in_horizon`` = accrued at ``end``
    − accrued at ``o`` for the households in transition at ``o``; ``arrears_left`` = Σ max(arrears
    at ``o`` − fees paid in ``(o, end]``, 0); ``new_households`` = accrued at ``end`` by the
    households that started after ``o``. A fee that cannot be computed (NaN) counts 0, as in the
    forecast.
    """
    h_o, h_end = (
        compute_transition_fees(
            t["transition"],
            t["payments"],
            as_of=d,
            sites=t["sites"],
            escalation=policy.escalation,
            default_transition_months=policy.default_transition_months,
        )
        for d in (o, end)
    )
    by_o = h_o.groupby("agreement_id")[["accrued_yuan", "paid_yuan", "arrears_yuan"]].sum()
    by_end = h_end.groupby("agreement_id")[["accrued_yuan", "paid_yuan"]].sum()
    active = pd.Index(h_o.loc[h_o["active"], "agreement_id"].unique())
    later = by_end.reindex(by_o.index).fillna(0.0)
    accrued_more = later["accrued_yuan"].reindex(active) - by_o["accrued_yuan"].reindex(active)
    paid_in_horizon = (later["paid_yuan"] - by_o["paid_yuan"]).clip(lower=0.0)
    arrears_left = (by_o["arrears_yuan"] - paid_in_horizon).clip(lower=0.0)
    new_ids = h_end.loc[h_end["start_date"].gt(o), "agreement_id"].unique()
    return {
        "arrears": float(by_o["arrears_yuan"].sum()),
        "in_horizon": float(accrued_more.clip(lower=0.0).sum()),
        "arrears_left": float(arrears_left.sum()),
        "new_households": float(by_end["accrued_yuan"].reindex(new_ids).sum()),
    }
