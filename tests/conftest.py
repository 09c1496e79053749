"""Shared fixtures, session-scoped because their data is only read: the demo ledgers cleaned once,
the demo truth, the small hand-made raw folder of ``ledger_builder`` cleaned once, and one real report
batch on that folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ledger_builder import build_raw

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
PLANTED_FAILURE = "assert year != 2020, 'planted failure for the batch test'"
#: Fixtures that run (or set up) a real report batch: a test using one must be marked slow.
BATCH_FIXTURES = frozenset({"report_env", "batch_run"})


@pytest.hookimpl(tryfirst=True)  # before ``-m "not slow"`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = BATCH_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if used and item.get_closest_marker("slow") is None:
            raise pytest.UsageError(
                f"{item.nodeid} uses {', '.join(sorted(used))} (a real report batch): "
                "mark it @pytest.mark.slow"
            )


@pytest.fixture(scope="session")
def demo_ledgers():
    """The committed demo ledgers (``data/demo``) cleaned once: a ``CleanResult``. Read only."""
    from zhengshou_analysis.ledger.clean import clean_ledgers

    return clean_ledgers(DEMO)


@pytest.fixture(scope="session")
def demo_truth_tables():
    """``demo_truth()``: the tables a perfect cleaner recovers from ``data/demo``. Read only."""
    from zhengshou_analysis.demo import demo_truth

    return demo_truth()


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory) -> Path:
    """The small messy raw folder of ``ledger_builder.build_raw`` (one ledger per table). Read only:
    a test that writes must use its own folder (``build_raw(tmp_path / ...)``)."""
    return build_raw(tmp_path_factory.mktemp("small_raw") / "ledgers")


@pytest.fixture(scope="session")
def small_ledgers(small_raw):
    """``small_raw`` cleaned once: a ``CleanResult``. Read only."""
    from zhengshou_analysis.ledger.clean import clean_ledgers

    return clean_ledgers(small_raw)


@pytest.fixture(scope="session")
def report_env(tmp_path_factory, small_raw):
    """A raw folder, a copy of the notebooks (20_progress fails for 2020), and a cache folder.

    The raw folder is ``small_raw`` plus a projects ledger of 2020 (two projects), so that 2020 is
    a period the ledgers report (a year without any row is an error, not a page of zeros).
    """
    base = tmp_path_factory.mktemp("batch")
    raw = base / "ledgers"
    shutil.copytree(small_raw, raw)
    (raw / "征收项目台账_2020.csv").write_text(
        "项目编号,项目名称,片区,年度,征地任务(亩),已完成征地(亩)\n"
        "GC-101,南湖路延长线征收,贵城片区,2020,12.5,10\n"
        "GC-102,港城大道征收,港城片区,2020,8,8\n",
        encoding="utf-8",
    )
    nb_dir = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", nb_dir)
    nb_path = nb_dir / "20_progress.ipynb"
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    nb["cells"].insert(
        2,
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "planted",
            "metadata": {},
            "outputs": [],
            "source": PLANTED_FAILURE,
        },
    )
    nb_path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return {"raw": raw, "notebooks": nb_dir, "out": base / "reports", "cache": base / "cache"}


@pytest.fixture(scope="session")
def batch_run(report_env):
    """Run the real batch once for 2020 and 2021 through the CLI; return (exit code, stderr text)."""
    import contextlib
    import io
    import os

    from zhengshou_analysis.cli import main

    env = {
        "ZHENGSHOU_NOTEBOOK_DIR": str(report_env["notebooks"]),
        "ZHENGSHOU_CACHE_DIR": str(report_env["cache"]),
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(
                [
                    "batch",
                    "--years",
                    "2020-2021",
                    "--data",
                    str(report_env["raw"]),
                    "--out",
                    str(report_env["out"]),
                    "--jobs",
                    "2",
                ]
            )
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, err.getvalue()
