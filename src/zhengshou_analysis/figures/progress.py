"""Progress figures (完成情况) of the reporting year: tasks, completion, blocked land (卡点)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ..schemas import (
    BLOCKERS,
    CATEGORIES,
    ZONE_NAMES,
    conform_table,
)
from .common import (
    Value,
    check_choice,
    frame_to_nested,
    group_label,
    json_scalar,
    ordered_groups,
    safe_ratio,
    total,
    unique_values,
)

if TYPE_CHECKING:
    from .context import Analysis
    from .registry import Figure

log = logging.getLogger(__name__)


PROGRESS_SUMS = ("land_target_mu", "land_done_mu", "house_target_m2", "house_done_m2")


PROGRESS_COLUMNS = [
    "projects_count",
    *(c for s in PROGRESS_SUMS for c in (s, f"{s}_na_count")),
    "land_completion_rate",
    "house_completion_rate",
    "origins",
]


def year_rows(projects: pd.DataFrame, year: int) -> pd.DataFrame:
    p = conform_table(projects, "projects")
    return p.loc[p["year"].eq(int(year)).fillna(False).astype(bool)]


def progress_values(rows: pd.DataFrame) -> dict[str, Any]:
    key = rows["project_id"].fillna(rows["project_name"])
    out: dict[str, Any] = {"projects_count": int(key.nunique())}
    for s in PROGRESS_SUMS:
        out[s] = total(rows[s])
        out[f"{s}_na_count"] = int(rows[s].isna().sum())
    out["land_completion_rate"] = safe_ratio(out["land_done_mu"], out["land_target_mu"])
    out["house_completion_rate"] = safe_ratio(out["house_done_m2"], out["house_target_m2"])
    out["origins"] = unique_values(rows["origin"])
    return out


def compute_progress(
    projects: pd.DataFrame,
    *,
    year: int,
    by: Literal["zone", "category", "sector"] | None = None,
) -> pd.DataFrame:
    """Progress (完成情况) of the reporting year, overall or by 片区 / 类别 / 项目类型.

    Parameters
    ----------
    projects
        The canonical ``projects`` table (not modified).
    year
        Reporting year: only rows with ``year == year`` enter.
    by
        ``None`` for one overall row, else ``"zone"``, ``"category"`` or ``"sector"`` for one row
        per group value (canonical values first; a missing value is its own group, NA in the
        column).
        ``by="category"`` always has a row for 市下达 and for 区统筹 (zeros when absent).

    Returns
    -------
    pandas.DataFrame
        ``[by,] projects_count`` (distinct ``project_id``), ``land_target_mu``, ``land_done_mu``
        (亩), ``house_target_m2``, ``house_done_m2`` (m²) — sums with NA counted as 0 — each
        followed by ``<name>_na_count`` (rows where it was NA), ``land_completion_rate`` and
        ``house_completion_rate`` (done ÷ target as a fraction, NaN when the target is 0; may
        exceed 1) and ``origins`` (list of the rows' ``origin``). An empty year gives one row of
        zeros (rates NaN) when ``by`` is ``None``.
    """
    rows = year_rows(projects, year)
    if by is None:
        return pd.DataFrame([progress_values(rows)], columns=PROGRESS_COLUMNS)
    check_choice(by, ("zone", "category", "sector"), "by")
    canonical = {"zone": ZONE_NAMES, "category": CATEGORIES, "sector": ()}[by]
    groups = dict(iter(rows.groupby(by, dropna=False, sort=False)))
    keys = ordered_groups(groups, canonical)
    if by == "category":
        keys = list(CATEGORIES) + [k for k in keys if k not in CATEGORIES]
    records = []
    for k in keys:
        g = groups.get(k, rows.iloc[0:0])
        records.append({by: k, **progress_values(g)})
    out = pd.DataFrame(records, columns=[by, *PROGRESS_COLUMNS])
    return out.astype({by: "str"})


def compute_blocked_mu(projects: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Blocked area of the "last mile" (卡点面积) of the reporting year by blocker.

    Parameters
    ----------
    projects
        The canonical ``projects`` table (not modified).
    year
        Reporting year.

    Returns
    -------
    pandas.DataFrame
        One row per ``blocker`` value (公建单位, 军事用地, 双高糖料蔗基地, 留用地 first, then
        others): ``blocked_mu`` (Σ 亩, NA as 0), ``blocked_mu_na_count``, ``projects_count`` and
        ``origins``. Rows without a blocker are not a group (logged when they carry a positive
        ``blocked_mu``).
    """
    rows = year_rows(projects, year)
    tagged = rows["blocker"].notna()
    untagged_mu = rows.loc[~tagged, "blocked_mu"]
    if untagged_mu.gt(0).any():
        log.warning(
            "%d project rows of %s have blocked_mu (%.2f mu) but no blocker: in no blocker group",
            int(untagged_mu.gt(0).sum()),
            year,
            float(untagged_mu.sum()),
        )
    groups = dict(iter(rows.loc[tagged].groupby("blocker", sort=False)))
    records = []
    for b in ordered_groups(groups, BLOCKERS):
        g = groups[b]
        records.append(
            {
                "blocker": b,
                "blocked_mu": total(g["blocked_mu"]),
                "blocked_mu_na_count": int(g["blocked_mu"].isna().sum()),
                "projects_count": int(g["project_id"].fillna(g["project_name"]).nunique()),
                "origins": unique_values(g["origin"]),
            }
        )
    cols = ["blocker", "blocked_mu", "blocked_mu_na_count", "projects_count", "origins"]
    return pd.DataFrame(records, columns=cols).astype({"blocker": "str"})


# --------------------------------------------------------------------------------------------------
# builders of the figure registry (figures/registry.py)


def build_progress_figure(a: Analysis, fig: Figure) -> list[Value]:
    """A progress figure of the reporting year, overall and per 类别 (``fig.name`` is its column)."""
    overall = a.progress.iloc[0]
    out = [Value(overall[fig.name], overall["origins"])]
    for _, row in a.progress_by_category.iterrows():
        out.append(Value(row[fig.name], row["origins"], scope=row["category"], group="category"))
    return out


def build_blocked_mu_by_blocker(a: Analysis, fig: Figure) -> list[Value]:
    """Blocked 亩 of the reporting year per blocker type."""
    return [
        Value(row["blocked_mu"], row["origins"], scope=row["blocker"], group="blocker")
        for _, row in a.blocked.iterrows()
    ]


def build_progress_by_category(a: Analysis) -> dict[str, dict[str, Any]]:
    """``progress_by_category``: the ``by_category`` figures, nested by 类别."""
    out: dict[str, dict[str, Any]] = {}
    rows = a.records.loc[a.records["group"].eq("category")]
    for r in rows.itertuples(index=False):
        out.setdefault(group_label(r.scope), {})[r.name] = json_scalar(r.value, r.unit)
    return out


def build_progress_by_zone(a: Analysis) -> dict[str, dict[str, Any]]:
    """``progress_by_zone``: progress of the reporting year per 片区."""
    by_zone = compute_progress(a.tables["projects"], year=a.year, by="zone")
    return frame_to_nested(by_zone, "zone")
