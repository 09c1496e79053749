"""The figures of one reporting period, indicators and forecasts, for ``key_figures.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from .context import Analysis

if TYPE_CHECKING:
    from ..periods import Period
    from ..profile import Profile

__all__ = ["CHANGE_KEYS", "compute_period_figures", "compute_year_figures", "key_figure_changes"]


def compute_year_figures(
    tables: Mapping[str, pd.DataFrame],
    *,
    year: int,
    as_of=None,
    profile: Profile | None = None,
    seed: int | None = None,
    horizon_months: int | None = None,
) -> dict[str, Any]:
    """Every figure of the registry for ``year``, forecasts included, in one flat dict.

    The content of ``key_figures.json`` and of ``zhengshou figures``:
    :meth:`Analysis.key_figures <zhengshou_analysis.figures.context.Analysis.key_figures>` with
    forecasts. Seeded: the same tables, year, ``as_of``, profile and ``seed`` give the same figures
    (and, through :func:`~zhengshou_analysis.figures.keyfile.key_figures_json`, the same bytes).

    Parameters
    ----------
    tables, year, as_of
        As for :class:`~zhengshou_analysis.figures.context.Analysis`.
    profile
        The office profile: policy, horizon, seed and scenario set (default: the built-in one).
    seed, horizon_months
        Override the profile's forecast seed and horizon (``None``: the profile's).
    """
    from ..profile import DEFAULT_PROFILE

    analysis = Analysis.from_profile(
        tables,
        year=year,
        as_of=as_of,
        profile=profile or DEFAULT_PROFILE,
        seed=seed,
        horizon_months=horizon_months,
    )
    return analysis.key_figures(forecasts=True)


#: The keys of the changes in a month's ``key_figures.json``: since the month before, since the
#: end of the year before.
CHANGE_KEYS = ("change_since_last_month", "change_since_year_start")


def key_figure_changes(now: Mapping[str, Any], before: Mapping[str, Any] | None) -> dict[str, Any]:
    """The change of every scalar figure of the registry: ``now − before``.

    Parameters
    ----------
    now, before
        Key figures (:meth:`Analysis.key_figures`) of two reporting dates; ``before`` ``None``
        when the earlier date has no ledger rows.

    Returns
    -------
    dict
        Figure name → change in the figure's own unit (yuan, 亩, m², a count, a ratio as a
        difference of ratios), ``None`` where either value is missing or not a number.
        Breakdowns and forecasts are not differenced (the forecast drift of a month is shown
        beside last month's forecast instead).
    """
    from .registry import FIGURES

    out: dict[str, Any] = {}
    for f in FIGURES:
        if f.group is not None or f.section == "forecast" or f.name not in now:
            continue
        a, b = now.get(f.name), (before or {}).get(f.name)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b)):
            out[f.name] = None
            continue
        change = float(a) - float(b)  # type: ignore[arg-type]  # both numbers, checked above
        if pd.isna(change):
            out[f.name] = None
        else:
            out[f.name] = int(change) if isinstance(a, int) and isinstance(b, int) else change
    return out


def compute_period_figures(
    tables: Mapping[str, pd.DataFrame],
    *,
    period: Period,
    profile: Profile | None = None,
    seed: int | None = None,
    horizon_months: int | None = None,
    analysis: Analysis | None = None,
) -> dict[str, Any]:
    """The key figures of a reporting period; a month's with its changes beside them.

    A year's figures are :func:`compute_year_figures` at its 31 December. A month's are the same
    registry figures evaluated at the month's last day (the annual definitions, for the year of
    the month), plus ``period`` (``2021-06``) and the changes of :data:`CHANGE_KEYS`: since the
    month before (for January: the end of the year before) and since the end of the year before,
    both without forecasts (:func:`key_figure_changes`).

    Parameters
    ----------
    tables
        The canonical tables.
    period
        The reporting period (:class:`~zhengshou_analysis.periods.Period`).
    profile, seed, horizon_months
        As for :func:`compute_year_figures`.
    analysis
        The period's analysis context when the caller has one already (a batch worker that also
        writes the office files from it): its figures are used instead of fitting the forecasts
        a second time. It must report ``period`` (same year and ``as_of``).

    Returns
    -------
    dict
        The content of ``<period>/key_figures.json``.
    """
    from ..profile import DEFAULT_PROFILE

    if analysis is None:
        analysis = Analysis.from_profile(
            tables,
            year=period.year,
            as_of=period.as_of,
            profile=profile or DEFAULT_PROFILE,
            seed=seed,
            horizon_months=horizon_months,
        )
    elif analysis.as_of != period.as_of or analysis.year != period.year:
        raise ValueError(
            f"the analysis reports {analysis.year} as of {analysis.as_of.date()}, "
            f"not the period {period.folder}"
        )
    figures = analysis.key_figures(forecasts=True)
    figures["period"] = period.folder
    if period.kind != "month":
        return figures

    def at(earlier: Period | None) -> dict[str, Any] | None:
        other = None if earlier is None else analysis.at(earlier.as_of)
        return None if other is None else other.key_figures(forecasts=False)

    last_month = at(period.previous)
    year_start = last_month if period.month == 1 else at(period.year_start)
    figures[CHANGE_KEYS[0]] = key_figure_changes(figures, last_month)
    figures[CHANGE_KEYS[1]] = key_figure_changes(figures, year_start)
    return figures
