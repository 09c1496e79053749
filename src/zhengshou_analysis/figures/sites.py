"""Resettlement-site figures (安置房交付): site status, build time and its Kaplan–Meier curve."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..periods import duration_months
from ..schemas import (
    conform_table,
)
from ..settings import (
    resolve_as_of,
)
from .common import Value, frame_to_nested
from .fees import active_households

if TYPE_CHECKING:
    from .context import Analysis
    from .registry import Figure

log = logging.getLogger(__name__)


#: "Over 3 years": calendar months between start and as_of for ``sites_over_3_years``.
SITE_LONG_OVERDUE_MONTHS = 36


SITE_STATUS_ZH = {"delivered": "已交付", "overdue": "逾期未交付", "in_progress": "在建"}


def waiting_households(
    transition: pd.DataFrame, sites: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Active households whose site is not (known to be) delivered by ``as_of``."""
    s = conform_table(sites, "sites")
    delivered_ids = set(s.loc[s["delivered_date"].le(as_of), "site_id"].dropna())
    h = active_households(transition, as_of)
    return h.loc[~h["site_id"].isin(delivered_ids)]


def compute_site_status(
    sites: pd.DataFrame,
    *,
    as_of,
    transition: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per resettlement site started by ``as_of``: delivery status, build time, censoring, delay.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified).
    as_of
        Reporting date.
    transition
        Canonical ``transition`` table, for ``households_waiting`` per site (0 when not given).

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``site_name``, ``zone``, ``start_date``, ``promised_date``, ``delivered_date``,
        ``units``, ``delivered`` (``delivered_date <= as_of``), ``overdue`` (``promised_date <
        as_of`` and not delivered), ``over_3_years`` (not delivered, started 36 calendar months or
        more before ``as_of``), ``status`` (``delivered`` / ``overdue`` / ``in_progress``),
        ``status_zh`` (已交付 / 逾期未交付 / 在建), ``build_months`` (start → delivery, or →
        ``as_of`` when not delivered; duration months), ``censored`` (not delivered:
        right-censored at ``as_of``, never dropped), ``delay_months`` (delivered − promised, NaN
        when not delivered), ``late_months`` (``as_of`` − promised, duration months, for overdue
        sites), ``households_waiting`` and ``origin``.
    """
    as_of = resolve_as_of(as_of)
    waiting = None if transition is None else waiting_households(transition, sites, as_of)
    return site_status_of(conform_table(sites, "sites"), as_of, waiting)


def site_status_of(
    sites: pd.DataFrame, as_of: pd.Timestamp, waiting: pd.DataFrame | None
) -> pd.DataFrame:
    """:func:`compute_site_status` of a conformed table, given the waiting households (or None)."""
    s = sites.loc[sites["start_date"].le(as_of)]
    delivered = s["delivered_date"].le(as_of)
    overdue = s["promised_date"].lt(as_of) & ~delivered
    cutoff = as_of - pd.DateOffset(months=SITE_LONG_OVERDUE_MONTHS)
    over3 = ~delivered & s["start_date"].le(cutoff)
    end = s["delivered_date"].where(delivered, as_of)
    status = np.select(
        [delivered.to_numpy(dtype=bool), overdue.to_numpy(dtype=bool)],
        ["delivered", "overdue"],
        default="in_progress",
    )
    if waiting is not None:
        n_waiting = s["site_id"].map(waiting["site_id"].value_counts()).fillna(0).astype("int64")
    else:
        n_waiting = pd.Series(0, index=s.index, dtype="int64")
    out = pd.DataFrame(
        {
            "site_id": s["site_id"],
            "site_name": s["site_name"],
            "zone": s["zone"],
            "start_date": s["start_date"],
            "promised_date": s["promised_date"],
            "delivered_date": s["delivered_date"],
            "units": s["units"],
            "delivered": delivered.astype(bool),
            "overdue": overdue.astype(bool),
            "over_3_years": over3.astype(bool),
            "status": pd.Series(status, index=s.index, dtype="str"),
            "status_zh": pd.Series(status, index=s.index, dtype="str").map(SITE_STATUS_ZH),
            "build_months": duration_months(s["start_date"], end),
            "censored": (~delivered).astype(bool),
            "delay_months": duration_months(s["promised_date"], s["delivered_date"]).where(
                delivered
            ),
            "late_months": duration_months(s["promised_date"], as_of).where(overdue),
            "households_waiting": n_waiting,
            "origin": s["origin"],
        }
    )
    return out.reset_index(drop=True)


KM_COLUMNS = ("time_months", "surv_prob", "surv_prob_se", "n_risk", "n_events")


@dataclass(frozen=True)
class BuildTimeKM:
    """The Kaplan–Meier curve of build months (start → delivery), fitted once from a site status.

    Built by :func:`fit_build_time_km`; every figure, table and forecast that needs the curve asks
    this object (the median figure, the survival page, the delivery model) instead of refitting.

    Attributes
    ----------
    times, events
        Build months of the started sites (delivered: start → delivery; undelivered: right-censored
        at ``as_of``) and whether each was delivered.
    fit
        The :class:`statsmodels.duration.survfunc.SurvfuncRight` fit, or ``None`` when no site has
        been delivered (the curve is flat at 1).
    """

    times: np.ndarray
    events: np.ndarray
    fit: Any

    @property
    def n_sites(self) -> int:
        """Started sites (events and censored)."""
        return int(self.times.size)

    @property
    def n_events(self) -> int:
        """Delivered sites."""
        return int(self.events.sum())

    def table(self) -> pd.DataFrame:
        """``time_months``, ``surv_prob``, ``surv_prob_se``, ``n_risk``, ``n_events`` at each event
        time; empty (with those columns) when no site has been delivered."""
        if self.fit is None:
            return pd.DataFrame({c: pd.Series(dtype="float64") for c in KM_COLUMNS})
        sf = self.fit
        return pd.DataFrame(
            {
                "time_months": sf.surv_times,
                "surv_prob": sf.surv_prob,
                "surv_prob_se": sf.surv_prob_se,
                "n_risk": sf.n_risk,
                "n_events": sf.n_events,
            }
        )

    def median(self) -> tuple[float | None, str]:
        """KM median of build months and its status: ``reached``, ``not_reached`` or ``no_sites``.

        The median is the first event time with S(t) ≤ 0.5 (docs/indicators.md). statsmodels'
        ``quantile`` uses S(t) < 0.5 and returns NaN when the curve stops at exactly 0.5; the
        definition asks whether the curve falls *to* 0.5.
        """
        if self.n_sites == 0:
            return None, "no_sites"
        if self.fit is None:
            return None, "not_reached"
        hit = np.flatnonzero(np.asarray(self.fit.surv_prob) <= 0.5 + 1e-12)
        if hit.size == 0:
            return None, "not_reached"
        return float(np.asarray(self.fit.surv_times)[hit[0]]), "reached"


def fit_build_time_km(site_status: pd.DataFrame) -> BuildTimeKM:
    """Fit the Kaplan–Meier curve of build months to a site status frame.

    Parameters
    ----------
    site_status
        :func:`compute_site_status` output (``build_months``, ``delivered``); undelivered sites
        are right-censored at ``as_of``, never dropped. Not modified.

    Returns
    -------
    BuildTimeKM
        The fitted curve (``fit`` is ``None`` when no site has been delivered).
    """
    times = site_status["build_months"].to_numpy(dtype="float64")
    events = site_status["delivered"].to_numpy(dtype="int64")
    fit = None
    if events.any():
        from statsmodels.duration.survfunc import SurvfuncRight

        fit = SurvfuncRight(times, events)
    return BuildTimeKM(times=times, events=events, fit=fit)


def compute_median_build_months(sites: pd.DataFrame, *, as_of) -> float | None:
    """Kaplan–Meier median build time (start → delivery) of resettlement sites, in months.

    Parameters
    ----------
    sites
        Canonical ``sites`` table (not modified).
    as_of
        Reporting date: sites started by then; undelivered sites are right-censored at ``as_of``.

    Returns
    -------
    float or None
        The smallest build time ``t`` with ``S(t) <= 0.5`` on the Kaplan–Meier curve
        (:class:`statsmodels.duration.survfunc.SurvfuncRight`); ``None`` ("not reached") when the
        curve does not fall to 0.5, or when there are no sites.
    """
    value, _ = fit_build_time_km(compute_site_status(sites, as_of=as_of)).median()
    return value


def compute_build_time_survival(sites: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """Kaplan–Meier curve of build months (for plots and the appendix).

    Returns
    -------
    pandas.DataFrame
        ``time_months``, ``surv_prob``, ``surv_prob_se``, ``n_risk``, ``n_events`` at each event
        time (empty when no site has been delivered). Undelivered sites are censored at ``as_of``.
    """
    return fit_build_time_km(compute_site_status(sites, as_of=as_of)).table()


# --------------------------------------------------------------------------------------------------
# builders of the figure registry (figures/registry.py)


#: Count figure → the site-status column it counts (``sites_total`` counts every started site).
_SITE_COUNTS = {
    "sites_delivered": "delivered",
    "sites_overdue": "overdue",
    "sites_over_3_years": "over_3_years",
}


def build_site_count(a: Analysis, fig: Figure) -> Value:
    """``sites_total`` and the counts of :data:`_SITE_COUNTS` from the site status."""
    st = a.site_status
    sub = st.loc[st[_SITE_COUNTS[fig.name]]] if fig.name in _SITE_COUNTS else st
    return Value(len(sub), sub["origin"])


def build_households_waiting(a: Analysis, fig: Figure) -> Value:
    """Active households whose site is not delivered by ``as_of``."""
    return Value(int(a.waiting["agreement_id"].nunique()), a.waiting["origin"])


def build_median_build_months(a: Analysis, fig: Figure) -> Value:
    """The Kaplan–Meier median build time (``None``: not reached)."""
    median, _ = a.km.median()
    return Value(median, a.site_status["origin"])


def build_median_build_months_status(a: Analysis, fig: Figure) -> Value:
    """``reached``, ``not_reached`` or ``no_sites``."""
    _, status = a.km.median()
    return Value(status, a.site_status["origin"])


def build_delay_months(a: Analysis, fig: Figure) -> list[Value]:
    """Delivered − promised (months) per delivered site."""
    st = a.site_status.loc[a.site_status["delivered"]]
    return [
        Value(row["delay_months"], [row["origin"]], scope=row["site_id"], group="site")
        for _, row in st.iterrows()
    ]


def build_site_status(a: Analysis) -> dict[str, dict[str, Any]]:
    """``site_status``: per site started by ``as_of``."""
    return frame_to_nested(a.site_status, "site_id")
