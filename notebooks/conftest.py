"""pytest for the report notebooks: nbval executes every one of them (``--nbval-lax``), so each
notebook cell is a ``slow`` test (``pytest -m "not slow"`` leaves them out).

Only the report pages (``report/catalog.py``) are collected: a notebook JupyterLab saved here
(``Untitled.ipynb``) is not a page and is left alone; ``.ipynb_checkpoints/`` is skipped by the
``norecursedirs`` of ``pyproject.toml``. One's own notebooks belong in ``work/`` (``make lab``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zhengshou_analysis.report.catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip a notebook of this folder that is not a report page (``None``: pytest decides)."""
    if collection_path.suffix == ".ipynb" and collection_path.resolve().parent == HERE:
        if collection_path.stem not in NOTEBOOKS and collection_path.stem not in MONTHLY_NOTEBOOKS:
            return True
    return None


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.path).resolve()
        if path.suffix == ".ipynb" and path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)
