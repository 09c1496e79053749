"""The cleaned outputs on disk (docs/data_contract.md §2).

:func:`write_clean_outputs` writes the six Parquet tables, ``quality_log.csv``, ``rejected.csv``
and ``manifest.json``, each atomically (a temporary file renamed into place). CSV cells that a
spreadsheet would run as a formula are neutralised (:func:`neutralize_formulas`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..exceptions import InputError

if TYPE_CHECKING:
    from .clean import CleanResult

__all__ = ["neutralize_formulas", "write_clean_outputs"]

#: Cells a spreadsheet would run as a formula start with one of these (pyarrow runs the pattern).
_FORMULA_RE = "^[=+@\t\r-]"


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with ``'``.

    Parameters
    ----------
    df
        Any frame; only its ``str``/``object`` columns are looked at.

    Returns
    -------
    pandas.DataFrame
        A copy (``df`` is not modified) in which every text cell starting with ``=``, ``+``,
        ``-``, ``@``, a tab or a carriage return starts with ``'`` instead (``=1+1`` →
        ``'=1+1``, ``-5`` → ``'-5``); object columns with a risky cell become ``str``. NA stays
        NA.
    """
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == "str" or out[c].dtype == object:
            s = out[c].astype("str")
            risky = s.str.contains(_FORMULA_RE, regex=True).fillna(False).astype(bool)
            if risky.any():
                out[c] = s.where(~risky, "'" + s)
    return out


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV with a BOM (Excel opens it correctly), written by pyarrow (fast for big logs)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(df.astype("str"), preserve_index=False)
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf")
        pacsv.write_csv(table, f, pacsv.WriteOptions(quoting_style="needed"))


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Run ``write`` on a temporary file next to ``path``, then rename it to ``path``.

    On any failure the temporary file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_out_dir(out: Path, raw_dir: str | None) -> None:
    """Refuse an output folder inside the raw folder (which is read-only input)."""
    if raw_dir and out.resolve().is_relative_to(Path(raw_dir).resolve()):
        raise InputError(
            f"输出文件夹 {out} 在原始台账文件夹内; the raw folder is read-only input, "
            "choose --out outside it",
            file=str(out),
        )


def write_clean_outputs(
    result: CleanResult, out_dir: str | os.PathLike, *, tables: bool = True
) -> list[Path]:
    """Write the tables (Parquet), ``quality_log.csv``, ``rejected.csv`` and ``manifest.json``.

    Parameters
    ----------
    result
        From :func:`~zhengshou_analysis.ledger.clean.clean_ledgers` (or ``CleanError.result``).
    out_dir
        The output folder (created if needed); must not lie inside the raw folder.
    tables
        ``False`` for a run that ended in an error: only the log, the rejected rows and the
        manifest are written, and any table file of an earlier run in ``out_dir`` is deleted, so
        that no untrustworthy table is left for anyone to use.

    Returns
    -------
    list of pathlib.Path
        The files written, tables first, ``manifest.json`` last.

    Raises
    ------
    InputError
        When ``out_dir`` is inside the raw folder (nothing is written).

    Notes
    -----
    Every file is written to a temporary name and renamed, so a crash never leaves a half-written
    file where a good one was. CSVs are UTF-8 with BOM (Excel opens them correctly) and have
    formula-like cells neutralised. The manifest gains ``ok``: no error in the log and no error
    raised.
    """
    out = Path(out_dir)
    _check_out_dir(out, result.manifest.get("raw_dir"))
    written = []
    if not tables:  # a failed run: no table from an earlier run may be mistaken for this one
        for name in result.tables:
            (out / f"{name}.parquet").unlink(missing_ok=True)
    for name, df in result.tables.items() if tables else ():
        p = out / f"{name}.parquet"
        _atomic_write(p, partial(df.to_parquet, index=False))
        written.append(p)
    for fname, df in (("quality_log.csv", result.quality_log), ("rejected.csv", result.rejected)):
        p = out / fname
        _atomic_write(p, partial(_write_csv, neutralize_formulas(df)))
        written.append(p)
    p = out / "manifest.json"
    manifest = {**result.manifest, "ok": result.ok and not result.errors}
    _atomic_write(
        p,
        lambda tmp: tmp.write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        ),
    )
    written.append(p)
    return written
