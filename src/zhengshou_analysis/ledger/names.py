"""Projects and resettlement sites linked across ledgers by name.

Ledgers often name a project (项目名称) or a site (安置区) instead of giving its id. Names are
normalised (:func:`normalize_name`) and looked up in the projects/sites tables; a name found in
neither keeps a derived id (:func:`derive_ids`, the same id the projects/sites table would derive
for it) and is logged as ``unmatched_name``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

__all__ = ["derive_ids", "link_names", "name_lookup", "normalize_name"]


def normalize_name(values: pd.Series) -> pd.Series:
    """Normalise project/site names for linking: NFKC, no whitespace.

    Parameters
    ----------
    values
        Names as parsed (``str``; NA allowed).

    Returns
    -------
    pandas.Series
        ``str``, same index; NA stays NA. ``"堤路园（二） A安置区"`` → ``"堤路园(二)A安置区"``.

    Notes
    -----
    Names repeat (thousands of agreements, dozens of projects): each distinct name is normalised
    once and mapped back.
    """
    uniq = pd.Series(values.dropna().unique(), dtype="str")
    norm = uniq.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)
    return values.map(dict(zip(uniq, norm, strict=True))).astype("str").where(values.notna())


def derive_ids(names: pd.Series, prefix: str) -> pd.Series:
    """Stable ids from normalised names: ``prefix`` + the first 8 hex digits of their SHA-1.

    Parameters
    ----------
    names
        Normalised names (NA allowed: its id is NA).
    prefix
        ``"P-"`` for projects, ``"S-"`` for sites.

    Returns
    -------
    pandas.Series
        Same index as ``names``.
    """
    uniq = names.dropna().unique()
    ids = {n: f"{prefix}{hashlib.sha1(n.encode('utf-8')).hexdigest()[:8]}" for n in uniq}
    return names.map(ids)


def name_lookup(ids: pd.Series, names: pd.Series) -> pd.Series:
    """Normalised name → id, from a projects or sites table (the last row wins for a repeated name).

    Parameters
    ----------
    ids, names
        The table's id and name columns (aligned). Empty columns give an empty lookup.

    Returns
    -------
    pandas.Series
        Ids indexed by normalised name, each name once.
    """
    if not len(ids):
        return pd.Series(dtype="str")
    return pd.Series(ids.to_numpy(), index=normalize_name(names).to_numpy()).groupby(level=0).last()


def link_names(
    df: pd.DataFrame, ref: str, helper: str, lookup: pd.Series, prefix: str, table: str
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Fill the id column ``ref`` from the names in the helper column ``helper``.

    Parameters
    ----------
    df
        A table whose sheets may have written names (``_project_name`` / ``_site_name``).
    ref
        The id column to fill: ``project_id`` or ``site_id``. An id the row already has is kept.
    helper
        The helper column holding the names; dropped from the result. Without it, ``df`` is
        returned unchanged.
    lookup
        From :func:`name_lookup`.
    prefix
        The id prefix for names not in ``lookup`` (:func:`derive_ids`).
    table
        The table's name, for the findings.

    Returns
    -------
    df : pandas.DataFrame
        With ``ref`` filled and ``helper`` dropped.
    findings : list of pandas.DataFrame
        One ``unmatched_name`` warning per row whose name is not in the projects/sites ledger;
        empty when every name was found.
    """
    if helper not in df:
        return df, []
    # resolve each distinct name once (thousands of rows, dozens of names), then take per row
    codes, uniq = pd.factorize(df[helper])
    norm = normalize_name(pd.Series(uniq, dtype="str"))
    uid = norm.map(lookup)
    missing_u = (uid.isna() & norm.notna()).to_numpy(dtype=bool)
    if missing_u.any():
        uid = uid.mask(pd.Series(missing_u, index=uid.index), derive_ids(norm, prefix))
    # code -1 (no name) → None
    table_ids = np.append(uid.to_numpy(dtype=object), np.array([None], dtype=object))
    ids = pd.Series(table_ids[codes], index=df.index, dtype="str")
    unmatched = pd.Series(np.append(missing_u, False)[codes], index=df.index)
    findings = []
    if unmatched.any():
        unmatched_rows = pd.DataFrame(
            {
                "origin": df.loc[unmatched, "origin"],
                "table": table,
                "column": ref,
                "raw_value": df.loc[unmatched, helper].astype("str"),
                "action": "unmatched_name",
                "severity": "warning",
                "message": "名称在"
                + ("项目" if ref == "project_id" else "安置区")
                + "台账中找不到，保留派生编号 (no such name in the "
                + ("projects" if ref == "project_id" else "sites")
                + " ledger; kept with a derived id)",
            }
        )
        findings.append(unmatched_rows)
    df = df.assign(**{ref: df[ref].where(df[ref].notna(), ids)})
    return df.drop(columns=[helper]), findings
