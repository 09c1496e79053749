"""Output files as text, for the scans for personal data and hostile text."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path


def file_text(path: Path) -> str:
    """One output file as text.

    Parquet is read as CSV; Word and Excel files (zip archives, compressed) member by member, so
    that the text in their XML is found; anything else as UTF-8 (a BOM dropped).
    """
    if path.suffix == ".parquet":
        import pandas as pd

        return pd.read_parquet(path).to_csv()
    if path.suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8", errors="replace") for n in z.namelist())
    return path.read_text(encoding="utf-8-sig", errors="replace")


def all_text(paths: Iterable[Path]) -> str:
    """Every file of ``paths`` (folders searched recursively) as text, joined."""
    files: list[Path] = []
    for p in paths:
        files += sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    return "\n".join(file_text(f) for f in files)
