"""Kaplan–Meier analysis of the build time of resettlement sites (安置房交付), for the delivery page.

The unit is a resettlement site, the origin its ``start_date`` (开工) and the event its delivery
(实际交房). Build time is in duration months (days / 30.4375). A site not delivered by ``as_of`` is
**right-censored** at ``as_of``, never dropped (docs/indicators.md, "Resettlement housing").

:func:`compute_delivery_survival` gives the Kaplan–Meier curve with pointwise and simultaneous
confidence bands, the median (or "not reached"), the log-rank test by 片区 and a Cox model only
where the number of deliveries supports it; each refusal comes with a plain statement. The
delivery-date forecasts are in :mod:`zhengshou_analysis.forecast.delivery`. A secondary statistic
that cannot be computed (a singular log-rank covariance when 片区 are never at risk at the same
delivery times, a failing Cox fit) is a stated "无法计算" with the reason, never an error.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..figures.common import NA_GROUP
from ..figures.sites import BuildTimeKM
from ..results import ForecastResult
from ..settings import resolve_as_of
from .blas import single_threaded_blas
from .common import DateLike, scipy_special, site_status_and_km

__all__ = ["compute_delivery_survival"]

log = logging.getLogger(__name__)


def _loglog_ci(surv: np.ndarray, se: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log(-log) confidence interval of S from its Greenwood standard error."""
    z = -float(scipy_special().ndtri(alpha / 2.0))
    s = np.asarray(surv, dtype="float64")
    inner = (s > 0) & (s < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_ll = np.where(inner, np.asarray(se) / (s * np.abs(np.log(s))), 0.0)
        lower = np.where(inner, s ** np.exp(z * se_ll), s)
        upper = np.where(inner, s ** np.exp(-z * se_ll), s)
    return lower, upper


def _km_table(km: BuildTimeKM, alpha: float) -> pd.DataFrame:
    """The KM table with pointwise log(-log) limits and the simultaneous band."""
    table = km.table()
    cols = [*table.columns, "ci_lower", "ci_upper", "band_lower", "band_upper"]
    if table.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    lower, upper = _loglog_ci(
        table["surv_prob"].to_numpy(), table["surv_prob_se"].to_numpy(), alpha
    )
    band_lower = band_upper = np.full(len(table), np.nan)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            lcb, ucb = km.fit.simultaneous_cb(alpha=alpha)
        if len(lcb) == len(table):
            band_lower, band_upper = np.asarray(lcb, float), np.asarray(ucb, float)
    except (ValueError, ZeroDivisionError, FloatingPointError, IndexError) as exc:
        log.info("no simultaneous KM band (%s)", exc)
    return table.assign(
        ci_lower=lower, ci_upper=upper, band_lower=band_lower, band_upper=band_upper
    )[cols]


def _median_ci(km: BuildTimeKM, alpha: float) -> tuple[float, float]:
    """Confidence limits of the KM median (NaN where statsmodels cannot give one)."""
    if km.fit is None:
        return math.nan, math.nan
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            lo, hi = (float(x) for x in km.fit.quantile_ci(0.5, alpha=alpha))
        except (ValueError, ZeroDivisionError, IndexError):
            lo = hi = math.nan
    return lo, hi


def _median_frame(status: pd.DataFrame, km: BuildTimeKM, alpha: float) -> pd.DataFrame:
    """One row: the KM median (or NaN), its status and confidence limits, counts."""
    median, median_status = km.median()
    n, n_events = len(status), int(status["delivered"].sum())
    last = float(status["build_months"].max()) if n else math.nan
    lo, hi = _median_ci(km, alpha)
    return pd.DataFrame(
        {
            "median_build_months": [math.nan if median is None else float(median)],
            "median_status": [median_status],
            "ci_lower": [lo if math.isfinite(lo) else math.nan],
            "ci_upper": [hi if math.isfinite(hi) else math.nan],
            "ci_upper_unbounded": [bool(n_events) and not math.isfinite(hi)],
            "n_sites": [n],
            "n_events": [n_events],
            "n_censored": [n - n_events],
            "last_observed_months": [last],
        }
    )


def _median_statement(row: pd.Series) -> str:
    if row["median_status"] == "no_sites":
        return "统计日前没有已开工的安置区，无法计算建设周期。"
    if row["median_status"] == "not_reached":
        return (
            f"建设周期中位数尚未达到：{row['n_sites']}个安置区中仅{row['n_events']}个已交付，"
            f"生存曲线未降至0.5，中位数大于已观察到的最长周期{row['last_observed_months']:.1f}个月。"
        )
    ci = (
        f"{row['ci_lower']:.1f}个月至"
        + ("无上限" if row["ci_upper_unbounded"] else f"{row['ci_upper']:.1f}个月")
        if math.isfinite(row["ci_lower"])
        else "无法计算"
    )
    return (
        f"建设周期中位数{row['median_build_months']:.1f}个月（置信区间{ci}），"
        f"依据{row['n_sites']}个安置区，其中{row['n_events']}个已交付、{row['n_censored']}个未交付（删失）。"
    )


def _logrank(status: pd.DataFrame, *, min_group_sites: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    from statsmodels.duration.survfunc import survdiff

    zone = status["zone"].map(lambda v: NA_GROUP if pd.isna(v) else str(v))
    g = status.assign(group=zone).groupby("group", sort=True)
    groups = pd.DataFrame(
        {
            "zone": g.size().index.astype("str"),
            "n_sites": g.size().to_numpy(),
            "n_events": g["delivered"].sum().astype("int64").to_numpy(),
        }
    )
    groups = groups.assign(included=groups["n_sites"].ge(min_group_sites))
    eligible = groups.loc[groups["included"], "zone"].tolist()
    mask = zone.isin(eligible).to_numpy()
    n_events = int(status.loc[mask, "delivered"].sum())
    result: dict[str, Any] = {
        "test": "log-rank (survdiff) by 片区",
        "statistic": None,
        "df": None,
        "p_value": None,
        "groups_tested": eligible,
    }
    if len(eligible) < 2 or n_events < 2:
        result["statement"] = (
            f"片区间交付周期的对数秩检验未做：每个片区至少需要{min_group_sites}个安置区、且至少两个片区"
            f"符合条件并合计至少2个已交付，实际符合条件的片区{len(eligible)}个、已交付{n_events}个，"
            "数据太少，无法比较片区差异。"
        )
        return groups, result
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            chi2, p = survdiff(
                status.loc[mask, "build_months"].to_numpy(float),
                status.loc[mask, "delivered"].to_numpy("int64"),
                zone[mask].to_numpy(dtype=object),
            )
        chi2, p = float(chi2), float(p)
        if not (math.isfinite(chi2) and math.isfinite(p)):
            raise FloatingPointError("non-finite statistic")
    except (np.linalg.LinAlgError, ValueError, ArithmeticError) as exc:
        log.warning("log-rank test not computable: %s", exc)
        result["not_computable"] = str(exc)
        result["statement"] = (
            f"对数秩检验无法计算：{len(eligible)}个片区的安置区在已交付时点上几乎没有同时处于风险集"
            f"（协方差矩阵奇异，{type(exc).__name__}），片区差异无法用该检验比较；交付预测不受影响。"
        )
        return groups, result
    result |= {"statistic": float(chi2), "df": len(eligible) - 1, "p_value": float(p)}
    verdict = "有统计学差异" if p < 0.05 else "未见统计学差异"
    result["statement"] = (
        f"对数秩检验（{len(eligible)}个片区、{int(mask.sum())}个安置区、{n_events}个已交付）："
        f"χ²={chi2:.2f}，自由度{len(eligible) - 1}，p={p:.3f}，{verdict}。"
        "安置区很少，检验效能低：不显著不等于片区之间没有差别。"
    )
    return groups, result


_COX_COLUMNS = ("covariate", "coef", "hazard_ratio", "ci_lower", "ci_upper", "p_value")


def _cox(
    status: pd.DataFrame,
    *,
    covariates: Sequence[str],
    events_per_covariate: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Hazard ratios of the Cox model, or an empty frame and a statement why it was not fitted."""
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in _COX_COLUMNS}).astype(
        {"covariate": "str"}
    )
    data, parts = _cox_design(status, covariates)
    n_params = len(parts)
    n_events = int(data["delivered"].sum())
    needed = events_per_covariate * max(n_params, 1)
    info: dict[str, Any] = {
        "model": "Cox PHReg (Efron ties)",
        "covariates": list(parts),
        "n_events": n_events,
        "events_needed": needed,
        "fitted": False,
    }
    if n_params == 0:
        info["statement"] = "Cox模型未拟合：没有可用的协变量。"
        return empty, info
    if n_events < needed:
        info["statement"] = (
            f"Cox比例风险模型未拟合：已交付的安置区（事件）只有{n_events}个，按每个协变量至少"
            f"{events_per_covariate}个事件的经验规则，{n_params}个协变量（{'、'.join(parts)}）"
            f"至少需要{needed}个事件。"
        )
        return empty, info
    try:
        table = _fit_cox(data, parts)
        if not np.isfinite(table[["coef", "ci_lower", "ci_upper"]].to_numpy(float)).all():
            raise FloatingPointError("non-finite estimates")
    except (np.linalg.LinAlgError, ValueError, ArithmeticError) as exc:
        log.warning("Cox model not computable: %s", exc)
        info["not_computable"] = str(exc)
        info["statement"] = (
            f"Cox比例风险模型无法计算：拟合失败（{type(exc).__name__}），可能是协变量共线或"
            "风险集过小；交付预测不受影响。"
        )
        return empty, info
    info["fitted"] = True
    info["statement"] = (
        f"Cox比例风险模型（{n_events}个事件、{n_params}个协变量）：风险比大于1表示交付更快。"
    )
    return table, info


def _cox_design(
    status: pd.DataFrame, covariates: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Sites usable for the Cox model (known flats when ``log_units``) and covariate columns."""
    data = status
    parts: dict[str, np.ndarray] = {}
    if "log_units" in covariates:
        units = pd.to_numeric(data["units"], errors="coerce").astype("float64")
        data = data.loc[units.gt(0).to_numpy()]
        parts["log_units"] = np.log(units[units.gt(0)].to_numpy())
    if "zone" in covariates:
        zone = data["zone"].map(lambda v: NA_GROUP if pd.isna(v) else str(v))
        levels = sorted(zone.unique())
        for lev in levels[1:]:
            parts[f"zone[{lev}]"] = zone.eq(lev).to_numpy(dtype="float64")
    return data, parts


def _fit_cox(data: pd.DataFrame, parts: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Fit the Cox model (Efron ties) and tabulate hazard ratios with 95 % limits."""
    from statsmodels.duration.hazard_regression import PHReg

    exog = np.column_stack(list(parts.values()))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = PHReg(
            data["build_months"].to_numpy(float),
            exog,
            status=data["delivered"].to_numpy("int64"),
            ties="efron",
        ).fit()
    ci = np.asarray(res.conf_int())
    return pd.DataFrame(
        {
            "covariate": list(parts),
            "coef": np.asarray(res.params, float),
            "hazard_ratio": np.exp(np.asarray(res.params, float)),
            "ci_lower": np.exp(ci[:, 0]),
            "ci_upper": np.exp(ci[:, 1]),
            "p_value": np.asarray(res.pvalues, float),
        }
    ).astype({"covariate": "str"})


@single_threaded_blas()
def compute_delivery_survival(
    sites: pd.DataFrame,
    *,
    as_of: DateLike,
    alpha: float = 0.05,
    min_group_sites: int = 3,
    cox_covariates: Sequence[Literal["log_units", "zone"]] = ("log_units",),
    events_per_covariate: int = 10,
    status: pd.DataFrame | None = None,
    km: BuildTimeKM | None = None,
) -> ForecastResult:
    """Kaplan–Meier analysis of build time (start → delivery) with undelivered sites censored.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified).
    as_of
        Reporting date: sites started by then; a site not delivered by then is right-censored at
        ``as_of`` (its build time is ``as_of − start_date``), never dropped.
    alpha
        1 − confidence level of the intervals and bands (default 0.05: 95 %).
    min_group_sites
        A 片区 enters the log-rank test only with at least this many sites (default 3); the test
        needs two such 片区 and two deliveries among them, else a statement says why it was not run.
    cox_covariates
        Covariates of the Cox model: ``"log_units"`` (log of the number of flats) and/or
        ``"zone"`` (片区 indicators).
    events_per_covariate
        The Cox model is fitted only with at least this many deliveries per covariate parameter
        (default 10, the usual rule of thumb); otherwise a statement says why not.
    status
        Pre-computed :func:`~zhengshou_analysis.figures.sites.compute_site_status` of
        ``sites`` at ``as_of`` (returned as the ``"sites"`` frame); computed when ``None``.
    km
        Pre-fitted :func:`~zhengshou_analysis.figures.sites.fit_build_time_km` of that
        status; fitted (once) when ``None``. Results are identical either way.

    Returns
    -------
    ForecastResult
        ``summary``: the KM table — ``time_months`` (event times, duration months),
        ``surv_prob``, ``surv_prob_se`` (Greenwood), ``n_risk``, ``n_events``, pointwise
        log(−log) limits ``ci_lower``/``ci_upper`` and the Hall–Wellner simultaneous band
        ``band_lower``/``band_upper`` (NaN when it cannot be computed); empty when no site has been
        delivered. ``frames``: ``"median"`` (one row: ``median_build_months`` or NaN "not
        reached", ``median_status``, its confidence limits, counts), ``"logrank"`` (sites and
        deliveries per 片区, ``included``), ``"cox"`` (hazard ratios; empty when not fitted),
        ``"sites"`` (:func:`~zhengshou_analysis.figures.sites.compute_site_status`).
        ``assumptions``: statements on the median, the log-rank test and the Cox model.

    Raises
    ------
    ParameterError
        When ``alpha`` is not in (0, 1), a covariate is unknown, or ``km`` does not belong to
        ``status``.

    Notes
    -----
    The median is the first event time with S(t) ≤ 0.5 (docs/indicators.md); "not reached" when the
    curve stays above 0.5. Build times are days / 30.4375.
    """
    as_of = resolve_as_of(as_of)
    _check_survival_args(alpha, cox_covariates)
    status, km = site_status_and_km(sites, as_of=as_of, status=status, km=km)
    median = _median_frame(status, km, alpha)
    groups, logrank = _logrank(status, min_group_sites=min_group_sites)
    cox, cox_info = _cox(
        status, covariates=cox_covariates, events_per_covariate=events_per_covariate
    )
    return ForecastResult(
        summary=_km_table(km, alpha),
        assumptions=_survival_assumptions(as_of, alpha, median.iloc[0], logrank, cox_info),
        frames={"median": median, "logrank": groups, "cox": cox, "sites": status},
    )


def _check_survival_args(alpha: float, cox_covariates: Sequence[str]) -> None:
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be in (0, 1), got {alpha!r}")
    for c in cox_covariates:
        if c not in ("log_units", "zone"):
            raise ParameterError(f"cox_covariates must be among ['log_units', 'zone'], got {c!r}")


def _survival_assumptions(
    as_of: pd.Timestamp,
    alpha: float,
    row: pd.Series,
    logrank: dict[str, Any],
    cox_info: dict[str, Any],
) -> dict[str, Any]:
    """The assumptions dict of :func:`compute_delivery_survival` (``row``: the median frame)."""
    return {
        "as_of": as_of.date().isoformat(),
        "method": "Kaplan–Meier (statsmodels SurvfuncRight); build months = days / 30.4375",
        "censoring": "统计日前未交付的安置区在统计日右删失（计入风险集，不剔除）。",
        "confidence_level": 1 - alpha,
        "n_sites": int(row["n_sites"]),
        "n_events": int(row["n_events"]),
        "n_censored": int(row["n_censored"]),
        "median_build_months": None
        if math.isnan(row["median_build_months"])
        else float(row["median_build_months"]),
        "median_status": row["median_status"],
        "median_statement": _median_statement(row),
        "logrank": logrank,
        "cox": cox_info,
    }
