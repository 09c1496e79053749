"""pytest for the report notebooks: nbval executes every one of them (``--nbval-lax``), so each
notebook cell is a ``slow`` test (``pytest -m "not slow"`` leaves them out)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.path).resolve()
        if path.suffix == ".ipynb" and path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)
