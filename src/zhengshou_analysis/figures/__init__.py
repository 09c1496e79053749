"""The figures (指标): definitions in one registry, computed once per analysis context.

* :mod:`.registry` — one declaration per figure (name, Chinese label, unit, 口径, ledgers, builder);
* :mod:`.context` — :class:`Analysis`, one reporting period computed once;
* :mod:`.progress`, :mod:`.funding`, :mod:`.fees`, :mod:`.sites` — the per-row frames and
  breakdowns of each topic, and the builders the registry names;
* :mod:`.outlook` — builders of the forecast figures;
* :mod:`.keyfile` — ``key_figures.json``.
"""

from .common import NA_GROUP
from .context import Analysis, compute_figure_records, provided_ledgers
from .fees import compute_transition_fees, compute_transition_fees_by
from .funding import (
    age_band_labels,
    age_band_labels_zh,
    classify_age_band,
    compute_agreement_balances,
    compute_overdue_by_age,
    compute_unpaid_gap,
)
from .keyfile import compute_key_figures, key_figures_json
from .progress import compute_blocked_mu, compute_progress
from .registry import BREAKDOWNS, FIGURES, Breakdown, Figure, definitions, figure
from .sites import (
    BuildTimeKM,
    compute_build_time_survival,
    compute_median_build_months,
    compute_site_status,
    fit_build_time_km,
)
from .year import compute_year_figures

__all__ = [
    "BREAKDOWNS",
    "FIGURES",
    "NA_GROUP",
    "Analysis",
    "Breakdown",
    "BuildTimeKM",
    "Figure",
    "age_band_labels",
    "age_band_labels_zh",
    "classify_age_band",
    "compute_agreement_balances",
    "compute_blocked_mu",
    "compute_build_time_survival",
    "compute_figure_records",
    "compute_key_figures",
    "compute_median_build_months",
    "compute_overdue_by_age",
    "compute_progress",
    "compute_site_status",
    "compute_transition_fees",
    "compute_transition_fees_by",
    "compute_unpaid_gap",
    "compute_year_figures",
    "definitions",
    "figure",
    "fit_build_time_km",
    "key_figures_json",
    "provided_ledgers",
]
