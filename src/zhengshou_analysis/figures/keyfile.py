"""The key figures file (``key_figures.json``), assembled from the figure registry.

:func:`compute_key_figures` (and :meth:`Analysis.key_figures
<zhengshou_analysis.figures.context.Analysis.key_figures>`) writes every figure of
:data:`~zhengshou_analysis.figures.registry.FIGURES` under its name and every breakdown of
:data:`~zhengshou_analysis.figures.registry.BREAKDOWNS`; :func:`key_figures_json` gives the
deterministic bytes. ``zhengshou figures`` prints them and every report run writes them, from
this one module, so the two can never differ.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from .common import group_label, json_scalar, jsonable

if TYPE_CHECKING:
    from ..forecast.scenarios import Scenario
    from ..settings import Policy
    from .context import Analysis

__all__ = [
    "assemble_key_figures",
    "compute_key_figures",
    "indicator_key_figures",
    "key_figures_json",
]


def key_figures_json(figures: Mapping[str, Any]) -> str:
    """The key figures as JSON text: sorted keys, non-ASCII kept, 2-space indent, final newline.

    Deterministic: the same figures always give the same bytes (``NaN`` → ``null``, numpy scalars →
    Python numbers, ``-0.0`` → ``0.0``, dates → ISO strings).
    """
    return (
        json.dumps(jsonable(figures), sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False)
        + "\n"
    )


def _figure_values(records: pd.DataFrame, out: dict[str, Any]) -> None:
    """Records → ``out``: overall figures flat, grouped ones nested by scope (categories apart)."""
    for r in records.itertuples(index=False):
        value = json_scalar(r.value, r.unit)
        if r.group is None or pd.isna(r.group):
            out[r.name] = value
        elif r.group != "category":  # per 类别: the progress_by_category breakdown
            out[r.name][group_label(r.scope)] = value


def _parameters(a: Analysis) -> dict[str, Any]:
    p = a.policy
    return {
        "escalation_tiers": [[int(s), float(m)] for s, m in p.escalation.tiers],
        "payment_term_days": int(p.payment_term_days),
        "default_transition_months": p.default_transition_months,
        **a.applied,
        "age_bands_months": [float(b) for b in p.age_bands_months],
    }


def indicator_key_figures(a: Analysis) -> dict[str, Any]:
    """The content of ``key_figures.json`` without forecasts, for one analysis context.

    What :func:`assemble_key_figures` gives with ``forecasts=False``; computed once per context
    and shared through a batch's model store as
    :attr:`Analysis.indicator_figures <zhengshou_analysis.figures.context.Analysis.indicator_figures>`.
    Keys in this order: ``year``, ``as_of``, the by-group figures (empty dicts filled from the
    records), the overall figures in the order of :attr:`Analysis.records
    <zhengshou_analysis.figures.context.Analysis.records>`, the breakdowns,
    ``missing_ledgers``, ``parameters``.
    """
    from .registry import BREAKDOWNS, FIGURES

    out: dict[str, Any] = {"year": a.year, "as_of": a.as_of.date().isoformat()}
    for f in FIGURES:
        if f.group is not None and f.section != "forecast":
            out[f.name] = {}
    _figure_values(a.records, out)
    for b in BREAKDOWNS:
        if b.section != "forecast":
            out[b.name] = b.build(a)
    out["missing_ledgers"] = a.missing
    out["parameters"] = _parameters(a)
    return out


def assemble_key_figures(a: Analysis, *, forecasts: bool = True) -> dict[str, Any]:
    """The content of ``key_figures.json`` for one analysis context (see :func:`compute_key_figures`).

    The figures without forecasts are the context's :attr:`~zhengshou_analysis.figures.context.
    Analysis.indicator_figures` (computed once, or read from a batch's model store), copied: the
    caller may change the dict it gets. With ``forecasts``, the forecast figures, assumptions,
    calibration and breakdowns are set among them in the order of the registry (``year``,
    ``as_of``, every by-group figure, the overall figures, the forecast figures,
    ``horizon_months``, ``forecast_assumptions``, ``calibration``, every breakdown,
    ``missing_ledgers``, ``parameters``).
    """
    from .registry import BREAKDOWNS, FIGURES

    base = copy.deepcopy(a.indicator_figures)
    if not forecasts:
        return base
    tail = {b.name for b in BREAKDOWNS} | {"missing_ledgers", "parameters"}
    out: dict[str, Any] = {"year": base["year"], "as_of": base["as_of"]}
    for f in FIGURES:
        if f.group is not None:
            out[f.name] = {} if f.section == "forecast" else base[f.name]
    for name, value in base.items():
        if name not in tail:
            out[name] = value
    _figure_values(a.forecast_records, out)
    out["horizon_months"] = a.horizon_months
    out["forecast_assumptions"] = a.forecast_figures["forecast_assumptions"]
    out["calibration"] = a.review.to_json()
    for b in BREAKDOWNS:
        out[b.name] = b.build(a) if b.section == "forecast" else base[b.name]
    out["missing_ledgers"] = base["missing_ledgers"]
    out["parameters"] = base["parameters"]
    return out


def compute_key_figures(
    tables: Mapping[str, pd.DataFrame],
    *,
    year: int,
    as_of=None,
    policy: Policy | None = None,
    forecasts: bool = False,
    horizon_months: int = 12,
    seed: int = 2021,
    scenarios: Sequence[Scenario] | None = None,
) -> dict[str, Any]:
    """The key figures of a reporting period, flat and JSON-ready (``key_figures.json``).

    Parameters
    ----------
    tables
        Canonical tables by name (a missing one is empty); not modified.
    year
        Reporting year.
    as_of
        Reporting date (default: 31 December of ``year``).
    policy
        The office's policy (default: the built-in one).
    forecasts
        Also run the forecasts (``key_figures.json`` has them; default ``False``: the indicators
        only, quick).
    horizon_months, seed, scenarios
        Forecast settings (with ``forecasts=True``).

    Returns
    -------
    dict
        ``year``, ``as_of`` (ISO date), every figure of the registry under its name (NA is
        ``None``; yuan rounded to 0.01, 亩 to 0.0001, m² to 0.01, ratios to 6 decimals, months
        to 0.01; by-group figures nested by group value, ``未注明`` for a missing one), every
        breakdown, ``missing_ledgers`` (the tables absent or empty), and ``parameters`` (the
        policy and how often each of its fills applied: ``payment_term_days_applied_to``,
        ``agreed_months_from_site_applied_to``, ``default_transition_months_applied_to``,
        ``agreed_months_missing``). With forecasts, also ``horizon_months``,
        ``forecast_assumptions`` and ``calibration`` (the forecast review,
        :meth:`ForecastReview.to_json <zhengshou_analysis.figures.review.ForecastReview.to_json>`).

    Notes
    -----
    **A missing ledger is not a zero.** A table that is absent or has no rows means the office
    gave no such ledger, and every figure that needs it (the ``needs`` of its declaration in
    :mod:`~zhengshou_analysis.figures.registry`) is ``None``, not 0. An empty ``payments``
    ledger is different: with agreements or households present it states that nothing was paid.
    """
    from ..settings import DEFAULT_POLICY
    from .context import Analysis

    a = Analysis(
        tables,
        year=year,
        as_of=as_of,
        policy=policy or DEFAULT_POLICY,
        horizon_months=horizon_months,
        seed=seed,
        scenarios=scenarios,
    )
    return a.key_figures(forecasts=forecasts)
