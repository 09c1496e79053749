"""What every report notebook does first: open the ledgers for one reporting year.

``rep = open_report(data_dir, year=year, as_of=as_of)`` sets the plot style, loads the cleaned
ledgers (from the cache when nothing changed), shows the 示例数据（模拟） banner on demo data and the
page title, and computes the key figures of the year and of the year before.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from ..figures import FIGURES, Analysis, Figure
from ..figures import definitions as registry_definitions
from ..formatting import fmt_date_zh
from ..ledger.clean import CleanResult
from ..periods import Period
from ..profile import DEFAULT_PROFILE, Profile
from ..settings import Policy
from .views import banner_html, show_html

__all__ = [
    "Report",
    "definitions",
    "format_change",
    "headline_figures",
    "headline_table",
    "headline_values",
    "load_report",
    "open_report",
    "reader_text",
    "resolve_path",
]


@dataclass
class Report:
    """The reporting context of one notebook run.

    ``analysis`` is the period's :class:`~zhengshou_analysis.figures.Analysis` (every frame and
    model computed once, shared by every cell of the page); ``figures`` (the key figures of the
    year) and ``figures_prev`` (of the year before, ``None`` when the ledgers have no such year)
    are computed on first use: most pages never need them.
    """

    year: int
    as_of: pd.Timestamp
    ledgers: CleanResult
    as_of_given: str | None
    demo: bool
    horizon_months: int = 12
    seed: int = 2021
    profile: Profile = DEFAULT_PROFILE

    @property
    def period(self) -> Period:
        """The reporting period: the year (no reporting date given, or 31 December), the month
        (its last day given) or the date itself (:meth:`~zhengshou_analysis.periods.Period.of_date`);
        its ``folder`` and ``label_zh`` (``2021年6月``) name the pages of a run."""
        if self.as_of_given is None:
            return Period.year_end(self.year)
        return Period.of_date(self.as_of)

    @property
    def policy(self) -> Policy:
        """The office's policy (from its profile)."""
        return self.profile.policy

    @property
    def office(self) -> str:
        """The office's name for titles (``区`` when the profile names none)."""
        return self.profile.office

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The six canonical tables."""
        return self.ledgers.tables

    @cached_property
    def tables_key(self) -> str | None:
        """The content key of :attr:`tables`: the SHA-256 of every raw file the cleaner read (from
        its manifest), the raw folder, the office profile and the package source, which together
        decide the cleaned tables. It lets the runs of a batch share the period's fitted models
        (:mod:`~zhengshou_analysis.figures.modelstore`) without hashing the tables. ``None`` when
        the manifest does not list every input with its SHA-256 (tables not from the cleaner)."""
        from ..figures.modelstore import derive_key
        from ..ledger.store import code_fingerprint

        listed = self.ledgers.manifest.get("inputs")
        if not listed or not all(isinstance(i, dict) and i.get("sha256") for i in listed):
            return None
        inputs = sorted((str(i.get("file")), str(i["sha256"])) for i in listed)
        return derive_key(
            "cleaned ledgers",
            inputs,
            self.ledgers.manifest.get("raw_dir"),
            self.profile.fingerprint,
            code_fingerprint(),
        )

    @cached_property
    def analysis(self) -> Analysis:
        """The analysis context of the reporting period (computed once, shared by the page)."""
        return Analysis(
            self.tables,
            year=self.year,
            as_of=self.as_of,
            policy=self.policy,
            horizon_months=self.horizon_months,
            seed=self.seed,
            scenarios=self.profile.scenarios,
            tables_key=self.tables_key,
        )

    @cached_property
    def figures(self) -> dict[str, Any]:
        """Key figures of the reporting period (the registry's figures, without forecasts)."""
        return self.analysis.key_figures(forecasts=False)

    @cached_property
    def figures_prev(self) -> dict[str, Any] | None:
        """Key figures of the year before (at its 31 December), or ``None`` without that year.

        From the context the year before's own report has (same tables key, policy and forecast
        settings; no forecast is run), so that a batch's model store gives the figures that
        year's run assembled instead of assembling them again.
        """
        years = set(self.tables["projects"]["year"].dropna().astype(int))
        if self.year - 1 not in years:
            return None
        prev = Analysis(  # its year-end
            self.tables,
            year=self.year - 1,
            policy=self.policy,
            horizon_months=self.horizon_months,
            seed=self.seed,
            scenarios=self.profile.scenarios,
            tables_key=self.tables_key,
        )
        return prev.key_figures(forecasts=False)


def resolve_path(
    path: str | os.PathLike[str],
    *,
    what: str = "data_dir",
    cwd: str | os.PathLike[str] | None = None,
) -> Path:
    """A notebook's path parameter as an existing path, wherever the notebook is run from.

    A report notebook declares ``data_dir = "../data/demo"``: right in ``notebooks/`` (JupyterLab,
    the batch), wrong from the repository root (``papermill notebooks/20_progress.ipynb out.ipynb``)
    or from ``work/`` with ``"data/demo"``. A relative path is therefore tried against the current
    folder first, then against the notebooks folder
    (:func:`~zhengshou_analysis.report.catalog.default_notebook_dir`), then against the repository
    (its parent); the first that exists wins.

    Parameters
    ----------
    path
        A folder or file (``data_dir``, ``profile_path``); ``~`` is expanded. An absolute path is
        taken as it is.
    what
        The parameter's name, for the message.
    cwd
        The folder tried first (default: the current folder).

    Returns
    -------
    pathlib.Path
        The absolute path found (for an absolute ``path``, ``path`` itself, found or not: the
        reader of the path reports a missing one).

    Raises
    ------
    InputError
        When a relative ``path`` exists in none of the three places; the message names them.
    """
    from ..exceptions import InputError
    from .catalog import default_notebook_dir

    given = Path(path).expanduser()
    if given.is_absolute():
        return given
    notebooks = default_notebook_dir()
    bases = [Path(cwd) if cwd is not None else Path.cwd(), notebooks, notebooks.parent]
    tried = []
    for base in bases:
        candidate = (base / given).resolve()
        if candidate.exists():
            return candidate
        if candidate not in tried:
            tried.append(candidate)
    raise InputError(
        f"{what} = {str(path)!r} 不存在 (not found): looked at "
        + ", ".join(str(t) for t in tried)
        + "; give an absolute path, or one relative to the current folder or to the repository"
    )


def load_report(
    data_dir: str | os.PathLike,
    *,
    year: int | None = None,
    as_of: str | None = None,
    horizon_months: int = 12,
    seed: int = 2021,
    profile_path: str = "",
    period: Period | None = None,
) -> Report:
    """The reporting context of ``year``, without showing anything (for files written outside a page).

    Parameters
    ----------
    data_dir
        The raw ledgers (read-only); cleaned once and cached. A relative path is looked for in the
        current folder, then in ``notebooks/``, then in the repository (:func:`resolve_path`).
    year
        The reporting year (not needed with ``period``).
    as_of
        Reporting date ``YYYY-MM-DD`` (``None`` or ``""``: 31 December of ``year``).
    period
        The reporting period instead of ``year`` and ``as_of``
        (:class:`~zhengshou_analysis.periods.Period`): a year as of its 31 December (``as_of``
        not given, as a yearly run), a month as of its last day, or a date.
    horizon_months, seed
        Forecast settings of the analysis context (a batch passes the profile's).
    profile_path
        The office profile (``""``: ``zhengshou.toml`` in ``data_dir``, else in the current
        folder, else the built-in one; :func:`~zhengshou_analysis.profile.load_profile`); a
        relative path is looked for as ``data_dir`` is.

    Raises
    ------
    InputError
        When a relative ``data_dir`` or ``profile_path`` is found nowhere (:func:`resolve_path`).
    """
    from ..exceptions import ParameterError
    from ..ledger.store import load_ledgers
    from ..profile import load_profile
    from ..settings import resolve_as_of

    if period is not None:
        if year is not None and int(year) != period.year:
            raise ParameterError(f"year {year} is not the year of the period {period.folder}")
        year, as_of = period.year, (None if period.kind == "year" else period.as_of_text)
    if year is None:
        raise ParameterError("load_report needs a year (or a period)")
    data_dir = resolve_path(data_dir, what="data_dir")
    profile_file = resolve_path(profile_path, what="profile_path") if profile_path else None
    profile = load_profile(profile_file, raw_dir=data_dir)
    as_of = as_of or None  # "" (the notebooks' default) means 31 December
    ledgers = load_ledgers(data_dir, profile=profile)
    return Report(
        int(year),
        resolve_as_of(as_of, year=int(year)),
        ledgers,
        as_of,
        bool(ledgers.manifest.get("synthetic")),
        horizon_months=int(horizon_months),
        seed=int(seed),
        profile=profile,
    )


def open_report(
    data_dir: str | os.PathLike,
    *,
    year: int | None = None,
    as_of: str | None = None,
    title: str | None = None,
    horizon_months: int = 12,
    seed: int = 2021,
    profile_path: str = "",
    period: Period | None = None,
) -> Report:
    """Load the ledgers for ``year`` and show the page header (banner, title, reporting date).

    Parameters
    ----------
    data_dir, year, as_of, horizon_months, seed, profile_path, period
        As for :func:`load_report`: the profile's policy and scenario set apply to every figure
        of the page, its office name to the title, the period's label (``2021年6月``) too.
    title
        Page title shown under the banner (``None``: no title).
    """
    from .plots import use_report_style

    use_report_style()
    rep = load_report(
        data_dir,
        year=year,
        as_of=as_of,
        horizon_months=horizon_months,
        seed=seed,
        profile_path=profile_path,
        period=period,
    )
    header = banner_html() if rep.demo else ""
    label = rep.period.label_zh  # 2021年, 2021年6月, 2021年（截至6月15日）
    if title:
        header += f"<h1>{html.escape(f'{rep.office}{label} · {title}')}</h1>"
    when = f"报告年度：{rep.year}年" if rep.period.kind == "year" else f"报告期：{label}"
    header += (
        f'<p class="zs-meta">{html.escape(when)} · '
        f"统计截止日：{html.escape(fmt_date_zh(rep.as_of))}</p>"
    )
    show_html(header)
    return rep


#: Display kind of each registry unit in the headline table (:data:`~.views.FORMATS`).
_DISPLAY = {"yuan": "wan_yuan", "mu": "mu", "m2": "wan_m2", "count": "count", "ratio": "pct"}
_DISPLAY_MONTHS = "months"


def headline_figures() -> list[Figure]:
    """The registry's headline figures, in declaration order."""
    return [f for f in FIGURES if f.headline]


def headline_values(rep: Report) -> pd.DataFrame:
    """The headline figures of the year beside the year before, as numbers in base units.

    Parameters
    ----------
    rep
        The reporting context (its ``figures`` and ``figures_prev``).

    Returns
    -------
    pandas.DataFrame
        One row per headline figure (:func:`headline_figures`, in declaration order): ``name``
        (the key in ``key_figures.json``), ``label`` (Chinese, with the unit readers see),
        ``kind`` (the display kind of :data:`~.views.FORMATS`: ``wan_yuan``, ``mu``, ``wan_m2``,
        ``count``, ``pct``, ``months``), ``now`` and ``before`` (the values in the figure's unit:
        yuan, 亩, m², counts, ratios, months; NaN when not available) and ``change``
        (``now − before``; for a ratio the change of the ratio, i.e. percentage points ÷ 100).
    """
    rows = []
    for fig in headline_figures():
        now = rep.figures.get(fig.name)
        before = rep.figures_prev.get(fig.name) if rep.figures_prev else None
        now_f = float("nan") if now is None else float(now)
        before_f = float("nan") if before is None else float(before)
        rows.append(
            {
                "name": fig.name,
                "label": fig.label_with_unit,
                "kind": _DISPLAY.get(fig.unit, _DISPLAY_MONTHS),
                "now": now_f,
                "before": before_f,
                "change": now_f - before_f,
            }
        )
    return pd.DataFrame(rows, columns=["name", "label", "kind", "now", "before", "change"])


def format_change(value: float, kind: str) -> str:
    """A change as the headline table writes it: ``+532.55``, ``-1``, ``+11.4个百分点``, ``—``.

    Parameters
    ----------
    value
        ``now − before`` in the figure's unit (a ratio's change as a ratio).
    kind
        The display kind (:data:`~.views.FORMATS`); ``pct`` is written in percentage points.
    """
    from .views import FORMATS

    if value is None or pd.isna(value):
        return "—"
    if kind == "pct":
        return f"{float(value) * 100:+.1f}个百分点"
    text = FORMATS[kind](value)
    return text if text.startswith("-") or text == "—" else "+" + text


def headline_table(rep: Report) -> pd.DataFrame:
    """The headline figures of the year beside the year before, formatted for reviewers.

    The numbers of :func:`headline_values` as text (``指标``, ``<year>年``, ``<year-1>年``,
    ``变化``).
    """
    from .views import FORMATS

    values = headline_values(rep)
    return pd.DataFrame(
        {
            "指标": values["label"],
            f"{rep.year}年": [
                FORMATS[k](v) for k, v in zip(values["kind"], values["now"], strict=True)
            ],
            f"{rep.year - 1}年": [
                FORMATS[k](v) for k, v in zip(values["kind"], values["before"], strict=True)
            ],
            "变化": [
                format_change(v, k) for k, v in zip(values["kind"], values["change"], strict=True)
            ],
        }
    )


#: Words of the registry's definitions (written for the documentation, which names fields and
#: methods) and how a reader's appendix says them; figure keys are replaced by their labels.
_READER_WORDS: tuple[tuple[str, str], ...] = (
    # max(a − b, 0): the difference, never negative
    (r"\s*max\(([^,()]+?), *0\)\s*", r"（\1，为负时按0计）"),
    # min(a, b) of two dates: the earlier one
    (r"\s*min\(([^,()]+?), *([^,()]+?)\)\s*", r"\1与\2中较早者"),
    (r"\s*的?\s*Kaplan[–-]Meier\s*", "按乘积极限法（生存分析）估计的"),
    (r"（NA）", ""),
    # status codes written with their Chinese meaning: keep the meaning only
    (r"(?<![A-Za-z0-9_])[a-z][a-z0-9_]*（([^（）]+)）", r"\1"),
    # the key's "12m" is not in the reader's label: the remark about it is for the documentation
    (r"（名称沿用\d+个月，预测期以\s*horizon_months\s*为准）", ""),
    (r"（horizon_months）", ""),
    (r"\s*horizon_months\s*", "预测期"),
)


def reader_text(text: str) -> str:
    """A definition as the reader's appendix writes it: Chinese words, no field or method names.

    Parameters
    ----------
    text
        A definition of the registry (:func:`zhengshou_analysis.figures.definitions`), which may
        name figure keys (``land_done_mu_na_count``), parameters (``horizon_months``), status codes
        and methods (Kaplan–Meier), as ``docs/indicators.md`` does.

    Returns
    -------
    str
        The same definition with every figure key replaced by its Chinese label in 「」, the
        formulas ``max(a, 0)``/``min(a, b)`` and the method names said in words, and status codes
        dropped where their Chinese meaning follows them.
    """
    import re

    out = text
    for f in sorted(FIGURES, key=lambda f: -len(f.name)):  # longest first: …_na_count before …
        out = re.sub(
            rf"\s*(?<![A-Za-z0-9_]){re.escape(f.name)}(?![A-Za-z0-9_])\s*", f"「{f.label}」", out
        )
    for pattern, repl in _READER_WORDS:
        out = re.sub(pattern, repl, out)
    return out


def definitions(rep: Report | None = None) -> list[tuple[str, str]]:
    """The 口径 appendix a reader sees: (Chinese label with unit, definition in Chinese words).

    Field and method names stay in the documentation (``docs/indicators.md``, which lists every
    figure under its key) and in the technical notes; here every term is the figure's Chinese
    label and every definition passes through :func:`reader_text`.

    Parameters
    ----------
    rep
        The page's report context: the definitions then carry its policy and say how often its
        fills applied. ``None``: the registry's definitions under the default policy.

    Returns
    -------
    list of (str, str)
        One (term, definition) pair per figure of the registry, in its order.
    """
    defs = rep.analysis.definitions if rep is not None else registry_definitions()
    return [(f.label_with_unit, reader_text(defs[f.name])) for f in FIGURES]
