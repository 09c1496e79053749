"""The analysis context: one (ledgers, reporting date, policy, forecast settings), computed once.

:class:`Analysis` conforms each canonical table once, computes each per-row frame once (agreement
balances, household fees, site status) and fits each model once (the Kaplan–Meier curve, the
delivery model, the inflow model, the funding-gap simulation). The figures of the registry, the
key figures file, the work summary and the report notebooks all ask the same context, so nothing
is computed twice for one page or one ``key_figures.json``.

>>> a = Analysis(ledgers.tables, year=2021)                       # doctest: +SKIP
>>> a.figure("funds_in_place_ratio")                               # doctest: +SKIP
>>> a.key_figures()                                                # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ..exceptions import EmptyPeriodError
from ..schemas import TABLES
from ..settings import DEFAULT_POLICY, Policy, resolve_as_of
from .common import check_choice, group_label, unique_values
from .fees import aggregate_fees, compute_transition_fees, site_lookup
from .funding import (
    aggregate_gap,
    aggregate_overdue_by_age,
    compute_agreement_balances,
    project_attributes,
)
from .modelstore import (
    active_store,
    derive_key,
    known_at_key,
    stored_property,
    tables_content_key,
)
from .progress import compute_blocked_mu, compute_progress
from .registry import FIGURES, Figure, definitions
from .sites import BuildTimeKM, fit_build_time_km, site_status_of, waiting_households
from .vintage import cut_tables_at

if TYPE_CHECKING:
    from ..forecast import DeliveryModel, InflowModel
    from ..forecast.scenarios import Scenario
    from ..profile import Profile
    from ..results import ForecastResult
    from .review import ForecastReview

__all__ = [
    "DEFAULT_N_PATHS",
    "Analysis",
    "check_period_has_rows",
    "compute_figure_records",
    "provided_ledgers",
]

log = logging.getLogger(__name__)

#: Simulated paths of the forecasts (default).
DEFAULT_N_PATHS = 10_000

_RECORD_COLUMNS = ["name", "group", "scope", "value", "unit", "definition", "origins"]


#: The dates of each table that place one of its rows in a period.
_PERIOD_DATES: dict[str, tuple[str, ...]] = {
    "agreements": ("signed_date",),
    "payments": ("date",),
    "funding": ("date",),
    "sites": ("start_date", "delivered_date"),
    "transition": ("start_date", "end_date"),
}


def check_period_has_rows(
    tables: Mapping[str, pd.DataFrame], *, year: int, as_of: pd.Timestamp
) -> None:
    """Raise :class:`EmptyPeriodError` when no ledger has a row in the reporting period.

    The period runs from 1 January of ``year`` to ``as_of``. A row belongs to it when the projects
    ledger has a row of ``year``, or a date of another ledger (signing, payment, inflow, a site's
    start or delivery, a household's move out or back) falls in it. Without any, every figure of
    the period would be a zero or a carried-over stock the ledgers never reported for it.

    Parameters
    ----------
    tables
        The conformed canonical tables.
    year, as_of
        The reporting year and date.
    """
    start = pd.Timestamp(year=int(year), month=1, day=1)
    projects = tables["projects"]
    if projects["year"].eq(int(year)).fillna(False).any():
        return
    for name, columns in _PERIOD_DATES.items():
        df = tables[name]
        for col in columns:
            if df[col].between(start, as_of).fillna(False).any():
                return
    period = f"{int(year)}年"
    given = [name for name in TABLES if len(tables[name])]
    what = (
        "没有提供任何台账"
        if not given
        else f"项目台账没有{int(year)}年度的行，协议、支付、资金到位、安置区和过渡安置台账也没有"
        f"{start.date()}至{as_of.date()}之间的日期"
    )
    raise EmptyPeriodError(
        f"{period}（截至{as_of.date()}）在台账中没有任何记录：{what}。"
        "请检查报告年度，或确认所给的台账是否齐全。",
        period=period,
    )


def provided_ledgers(tables: Mapping[str, pd.DataFrame]) -> dict[str, bool]:
    """Which ledgers the figures can use: table name → it was given with at least one row.

    An absent or empty table means "no such ledger" (the cleaner writes an empty table for a
    ledger with no source sheet), and the figures that need it are null, never 0.
    """
    return {name: tables.get(name) is not None and len(tables[name]) > 0 for name in TABLES}


class Analysis:
    """Everything one reporting period computes, each piece once and on first use.

    Parameters
    ----------
    tables
        The canonical tables by name (a missing one is empty); not modified. Each is conformed to
        its schema once, here.
    year
        The reporting year.
    as_of
        The reporting date (default 31 December of ``year``).
    policy
        The office's policy (payment term, escalation, default transition months, age bands).
    horizon_months, seed, n_paths, scenarios
        Forecast settings: horizon after ``as_of`` (months), the seed of every simulation, the
        number of simulated paths, and the scenario set (default: the one declared set,
        :data:`~zhengshou_analysis.forecast.scenarios.DEFAULT_SCENARIOS`).
    tables_key
        A content key of ``tables`` (any string that differs whenever their content does, e.g.
        :attr:`~zhengshou_analysis.report.session.Report.tables_key`; for tables already cut at
        a date, :func:`~.modelstore.known_at_key`), used only when a batch shares fitted models
        through a :mod:`~.modelstore`; ``None``: hashed from the tables then.

    Raises
    ------
    EmptyPeriodError
        When no ledger has a row in the period (:func:`check_period_has_rows`): a period the
        ledgers never reported gives an error naming it, never a page of zeros.

    Notes
    -----
    Attributes are computed on first use and cached (``functools.cached_property``); the object
    is meant to be read, never changed. The models and forecasts (``stored_property``) are also
    shared between the processes of a batch when it provides a model store
    (:mod:`~.modelstore`): computed by the first run that needs them, read by the others.
    """

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        *,
        year: int,
        as_of=None,
        policy: Policy = DEFAULT_POLICY,
        horizon_months: int = 12,
        seed: int = 2021,
        n_paths: int = DEFAULT_N_PATHS,
        scenarios: Sequence[Scenario] | None = None,
        tables_key: str | None = None,
    ) -> None:
        self.year = int(year)
        self.as_of = resolve_as_of(as_of, year)
        self.policy = policy
        self.horizon_months = int(horizon_months)
        self.seed = int(seed)
        self.n_paths = int(n_paths)
        self.scenarios = None if scenarios is None else tuple(scenarios)
        self.provided = provided_ledgers(tables)
        # as known at as_of: no row or event after the reporting date is ever shown as a fact
        self.tables: Mapping[str, pd.DataFrame] = MappingProxyType(
            cut_tables_at(tables, self.as_of)
        )
        check_period_has_rows(self.tables, year=self.year, as_of=self.as_of)
        self._input_key = tables_key

    @classmethod
    def from_profile(
        cls,
        tables: Mapping[str, pd.DataFrame],
        *,
        year: int,
        as_of=None,
        profile: Profile,
        n_paths: int = DEFAULT_N_PATHS,
        seed: int | None = None,
        horizon_months: int | None = None,
    ) -> Analysis:
        """The context of an office: its policy, forecast horizon, seed and scenario set.

        Parameters
        ----------
        tables, year, as_of, n_paths
            As for :class:`Analysis`.
        profile
            The office profile (:func:`~zhengshou_analysis.profile.load_profile`).
        seed, horizon_months
            Override the profile's forecast seed and horizon (``None``: the profile's).
        """
        return cls(
            tables,
            year=year,
            as_of=as_of,
            policy=profile.policy,
            horizon_months=profile.horizon_months if horizon_months is None else horizon_months,
            seed=profile.seed if seed is None else seed,
            n_paths=n_paths,
            scenarios=profile.scenarios,
        )

    def __repr__(self) -> str:
        return f"Analysis(year={self.year}, as_of={self.as_of.date()}, policy={self.policy!r})"

    @cached_property
    def tables_key(self) -> str | None:
        """The content key of :attr:`tables` (the tables as known at ``as_of``).

        The key given for the input tables and ``as_of`` (:func:`~.modelstore.known_at_key`:
        the same for the tables of one date whichever later tables they were cut from); without
        one, hashed from every value, and only while a model store is active (else ``None``:
        nothing needs it).
        """
        if self._input_key is not None:
            return known_at_key(self._input_key, self.as_of)
        if active_store() is None:
            return None
        return known_at_key(tables_content_key(self.tables), self.as_of)

    @property
    def store_key(self) -> str | None:
        """The content key of this context's models in a model store: the tables' key, the
        year, the reporting date, the policy, the forecast settings and the package source
        (``None`` without a tables key)."""
        from ..ledger.store import code_fingerprint

        if self.tables_key is None:
            return None
        return derive_key(
            "Analysis",
            self.tables_key,
            self.year,
            self.as_of.isoformat(),
            repr(self.policy),
            self.horizon_months,
            self.seed,
            self.n_paths,
            repr(self.scenarios),
            code_fingerprint(),
        )

    @property
    def missing(self) -> list[str]:
        """The ledgers not provided, in contract order."""
        return [name for name, ok in self.provided.items() if not ok]

    # ---------------------------------------------------------------------------------------------
    # per-row frames

    @cached_property
    def progress(self) -> pd.DataFrame:
        """Progress of the reporting year, overall (one row)."""
        return compute_progress(self.tables["projects"], year=self.year)

    @cached_property
    def progress_by_category(self) -> pd.DataFrame:
        """Progress of the reporting year per 类别."""
        return compute_progress(self.tables["projects"], year=self.year, by="category")

    @cached_property
    def blocked(self) -> pd.DataFrame:
        """Blocked 亩 of the reporting year per blocker type."""
        return compute_blocked_mu(self.tables["projects"], year=self.year)

    @cached_property
    def balances(self) -> pd.DataFrame:
        """Per agreement signed by ``as_of`` (the policy's payment term applied here, once)."""
        return compute_agreement_balances(
            self.tables["agreements"],
            self.tables["payments"],
            as_of=self.as_of,
            payment_term_days=self.policy.payment_term_days,
            age_bands=self.policy.age_bands_months,
        )

    @cached_property
    def households(self) -> pd.DataFrame:
        """Per household in transition (the policy's transition-month fills applied here, once)."""
        return compute_transition_fees(
            self.tables["transition"],
            self.tables["payments"],
            as_of=self.as_of,
            sites=self.tables["sites"],
            escalation=self.policy.escalation,
            default_transition_months=self.policy.default_transition_months,
        )

    @cached_property
    def waiting(self) -> pd.DataFrame:
        """Active households whose site is not delivered by ``as_of``."""
        return waiting_households(self.tables["transition"], self.tables["sites"], self.as_of)

    @cached_property
    def site_status(self) -> pd.DataFrame:
        """Per site started by ``as_of``, with the households waiting for it."""
        return site_status_of(self.tables["sites"], self.as_of, self.waiting)

    @stored_property
    def km(self) -> BuildTimeKM:
        """The Kaplan–Meier curve of build months (fitted once)."""
        return fit_build_time_km(self.site_status)

    @cached_property
    def applied(self) -> dict[str, int]:
        """How often each policy fill applied: agreements and households it touched."""
        source = self.households.drop_duplicates("agreement_id")["agreed_months_source"]
        return {
            "payment_term_days_applied_to": int(
                self.balances["payment_due_source"].eq("term").sum()
            ),
            "agreed_months_from_site_applied_to": int(source.eq("site").sum()),
            "default_transition_months_applied_to": int(source.eq("policy").sum()),
            "agreed_months_missing": int(source.eq("missing").sum()),
        }

    # ---------------------------------------------------------------------------------------------
    # breakdowns for the pages, from the frames above

    def unpaid_gap(self, by: Literal["project", "zone"] | None = None) -> pd.DataFrame:
        """The unpaid gap overall, by project or by 片区 (:func:`.funding.compute_unpaid_gap`)."""
        if by is not None:
            check_choice(by, ("project", "zone"), "by")
        return aggregate_gap(self.balances, project_attributes(self.tables["projects"]), by)

    def overdue_by_age(self) -> pd.DataFrame:
        """The overdue gap by the policy's age bands (:func:`.funding.compute_overdue_by_age`)."""
        return aggregate_overdue_by_age(self.balances, self.policy.age_bands_months)

    def transition_fees_by(self, by: Literal["site", "zone"]) -> pd.DataFrame:
        """Fees per site or per 片区 (:func:`.fees.compute_transition_fees_by`)."""
        check_choice(by, ("site", "zone"), "by")
        return aggregate_fees(self.households, site_lookup(self.tables["sites"]), by)

    # ---------------------------------------------------------------------------------------------
    # figures

    @cached_property
    def definitions(self) -> dict[str, str]:
        """The 口径 of every figure with this policy and how often its fills applied."""
        return definitions(self.policy, applied=self.applied)

    def _records_of(self, fig: Figure) -> list[dict[str, Any]]:
        built = fig.build(self, fig)
        values = built if isinstance(built, list) else [built]
        known = all(self.provided[n] for n in fig.needs)
        return [
            {
                "name": fig.name,
                "group": v.group,
                "scope": v.scope,
                "value": v.value if known else None,  # a missing ledger is not a zero
                "unit": fig.unit,
                "definition": self.definitions[fig.name],
                "origins": unique_values(v.origins),
            }
            for v in values
        ]

    @cached_property
    def records(self) -> pd.DataFrame:
        """Every non-forecast figure of the registry, one row per figure and scope.

        Columns ``name``, ``group`` (``None``, ``category``, ``blocker``, ``age_band`` or
        ``site``), ``scope`` (the group value), ``value`` (``None`` when a ledger it needs is
        missing), ``unit``, ``definition`` and ``origins`` (the ``origin`` of every ledger row
        that entered it).
        """
        recs = [r for f in FIGURES if f.section != "forecast" for r in self._records_of(f)]
        return pd.DataFrame(
            {
                c: pd.Series(
                    [r[c] for r in recs], dtype="str" if c in ("name", "definition") else object
                )
                for c in _RECORD_COLUMNS
            }
        )

    @cached_property
    def forecast_records(self) -> pd.DataFrame:
        """The forecast figures of the registry, as :attr:`records` (runs the forecasts)."""
        recs = [r for f in FIGURES if f.section == "forecast" for r in self._records_of(f)]
        return pd.DataFrame(
            {c: pd.Series([r[c] for r in recs], dtype=object) for c in _RECORD_COLUMNS}
        )

    @stored_property
    def indicator_figures(self) -> dict[str, Any]:
        """The key figures without forecasts (:func:`~.keyfile.indicator_key_figures`), once.

        JSON-ready and a few kB: a batch's model store shares them between its processes, so
        that the year's pages, its key figures and office files, and the next year's comparison
        with this one assemble them once. Read through :meth:`key_figures`, which copies them.
        """
        from .keyfile import indicator_key_figures

        return indicator_key_figures(self)

    def figure(self, name: str, scope: str | None = None) -> Any:
        """The value of figure ``name`` (for a grouped figure: of ``scope``)."""
        from .registry import figure

        fig = figure(name)
        recs = self.forecast_records if fig.section == "forecast" else self.records
        rows = recs.loc[recs["name"].eq(name)]
        for r in rows.itertuples(index=False):
            if (scope is None and r.group is None) or (
                scope is not None and group_label(r.scope) == scope
            ):
                return r.value
        raise KeyError(f"figure {name!r} has no value for scope {scope!r}")

    # ---------------------------------------------------------------------------------------------
    # models and forecasts, each fitted once

    @stored_property
    def delivery_model(self) -> DeliveryModel:
        """Build-time distribution (KM body + parametric tail) and the sites to forecast (once)."""
        from ..forecast import fit_delivery_model

        return fit_delivery_model(
            self.tables["sites"], as_of=self.as_of, status=self.site_status, km=self.km
        )

    @stored_property
    def survival(self) -> ForecastResult:
        """Kaplan–Meier analysis of build time with log-rank and Cox statements (page 50)."""
        from ..forecast import compute_delivery_survival

        return compute_delivery_survival(
            self.tables["sites"], as_of=self.as_of, status=self.site_status, km=self.km
        )

    @stored_property
    def delivery_forecast(self) -> ForecastResult:
        """P50/P90 delivery dates of every site not delivered by ``as_of``."""
        from ..forecast import forecast_site_delivery

        return forecast_site_delivery(
            self.tables["sites"],
            as_of=self.as_of,
            horizon_months=self.horizon_months,
            model=self.delivery_model,
        )

    @stored_property
    def inflow_model(self) -> InflowModel:
        """The inflow model chosen by the back-test, fitted once."""
        from ..forecast import fit_inflow_model

        return fit_inflow_model(self.tables["funding"], as_of=self.as_of)

    @stored_property
    def inflows(self) -> ForecastResult:
        """Simulated monthly inflows over the horizon (from :attr:`inflow_model`)."""
        from ..forecast import forecast_inflows

        return forecast_inflows(
            self.tables["funding"],
            as_of=self.as_of,
            horizon_months=self.horizon_months,
            n_paths=self.n_paths,
            seed=self.seed,
            model=self.inflow_model,
        )

    @stored_property
    def gap(self) -> ForecastResult:
        """The funding gap at the horizon, every scenario of the one scenario set side by side."""
        from ..forecast import forecast_funding_gap

        return forecast_funding_gap(
            self.tables,
            as_of=self.as_of,
            horizon_months=self.horizon_months,
            n_paths=self.n_paths,
            seed=self.seed,
            scenarios=self.scenarios,
            escalation=self.policy.escalation,
            payment_term_days=self.policy.payment_term_days,
            delivery=self.delivery_model,
            inflows=self.inflows,
            balances=self.balances,
            transition_fees=self.households,
        )

    @stored_property
    def fee_forecast(self) -> ForecastResult:
        """Transitional fees over the horizon per household, site and 片区 (baseline)."""
        from ..forecast import simulate_transition_fees

        return simulate_transition_fees(
            self.tables,
            as_of=self.as_of,
            horizon_months=self.horizon_months,
            n_paths=self.n_paths,
            seed=self.seed,
            escalation=self.policy.escalation,
            delivery=self.delivery_model,
            transition_fees=self.households,
        )

    @cached_property
    def forecast_figures(self) -> dict[str, Any]:
        """The forecast figures (JSON-ready), from the models fitted above."""
        from ..forecast import compute_forecast_figures

        return compute_forecast_figures(
            self.tables,
            year=self.year,
            as_of=self.as_of,
            horizon_months=self.horizon_months,
            seed=self.seed,
            n_paths=self.n_paths,
            scenarios=self.scenarios,
            escalation=self.policy.escalation,
            payment_term_days=self.policy.payment_term_days,
            gap=self.gap,
            delivery_forecast=self.delivery_forecast,
            survival=self.survival,
        )

    @stored_property
    def review(self) -> ForecastReview:
        """Forecast review (预测回顾): past forecasts whose horizon is over, against what happened.

        Origins are year-ends when ``as_of`` is a year-end, else month-ends (a monthly run); see
        :func:`~zhengshou_analysis.figures.review.review_forecasts`.
        """
        from .review import review_forecasts

        return review_forecasts(
            self.tables,
            as_of=self.as_of,
            horizon_months=self.horizon_months,
            policy=self.policy,
            seed=self.seed,
            frequency=self._review_frequency,
            tables_key=self.tables_key,
        )

    @stored_property
    def previous_forecast(self) -> pd.DataFrame:
        """The previous run's forecast (one period earlier) to set beside this one.

        :attr:`review`'s when it is already computed, else only that one origin is forecast
        (:func:`~zhengshou_analysis.figures.review.previous_forecast`).
        """
        if "review" in self.__dict__:
            return self.review.previous
        from .review import previous_forecast

        return previous_forecast(
            self.tables,
            as_of=self.as_of,
            horizon_months=self.horizon_months,
            policy=self.policy,
            seed=self.seed,
            frequency=self._review_frequency,
            tables_key=self.tables_key,
        )

    @property
    def _review_frequency(self) -> Literal["year", "month"]:
        return "year" if (self.as_of.month, self.as_of.day) == (12, 31) else "month"

    def at(self, as_of) -> Analysis | None:
        """The same context at an earlier reporting date: same tables, policy, seed, horizon,
        paths and scenarios, reporting the year of ``as_of``.

        Used for comparisons (last month, the end of the year before) and for last month's
        forecast, which with the same seed is the one last month's run made.

        Parameters
        ----------
        as_of
            The earlier reporting date (or this one).

        Returns
        -------
        Analysis or None
            ``None`` when no ledger has a row in that period (nothing to compare with).

        Raises
        ------
        ValueError
            When ``as_of`` is after this context's date: its tables, as known at its date, hold
            nothing later.
        """
        ts = resolve_as_of(as_of)
        if ts > self.as_of:
            raise ValueError(
                f"{ts.date()} is after {self.as_of.date()}: the tables as known then hold nothing later"
            )
        try:
            return Analysis(
                self.tables,
                year=ts.year,
                as_of=ts,
                policy=self.policy,
                horizon_months=self.horizon_months,
                seed=self.seed,
                n_paths=self.n_paths,
                scenarios=self.scenarios,
                tables_key=self.tables_key,
            )
        except EmptyPeriodError:
            log.info("no ledger rows in the period of %s: nothing to compare with", ts.date())
            return None

    def key_figures(self, *, forecasts: bool = True) -> dict[str, Any]:
        """The content of ``key_figures.json`` (see :func:`~.keyfile.compute_key_figures`)."""
        from .keyfile import assemble_key_figures

        return assemble_key_figures(self, forecasts=forecasts)


def compute_figure_records(
    tables: Mapping[str, pd.DataFrame],
    *,
    year: int,
    as_of=None,
    policy: Policy = DEFAULT_POLICY,
) -> pd.DataFrame:
    """Every non-forecast figure with its unit, definition (口径) and source rows.

    A shortcut for ``Analysis(tables, year=year, as_of=as_of, policy=policy).records``; see
    :attr:`Analysis.records` for the columns.
    """
    return Analysis(tables, year=year, as_of=as_of, policy=policy).records
