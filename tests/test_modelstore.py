"""The model store: a value computed once per batch, read by every other run, never stale.

What a user relies on: a page made with the store is the page made without it; two runs that need
the same model at once fit it once; a changed ledger, setting or period never gets another's model;
a run that died, a damaged file or a store that cannot be written never stops a report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from zhengshou_analysis.figures import Analysis
from zhengshou_analysis.figures.modelstore import (
    MODEL_STORE_ENV,
    ModelStore,
    active_store,
    derive_key,
    known_at_key,
    tables_content_key,
    using_store,
)

KEY = derive_key("a value")


class Counter:
    """A compute function that counts its calls."""

    def __init__(self, value: object) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


# --- the store itself ----------------------------------------------------------------------------


def test_a_value_is_computed_once_and_read_by_every_later_caller(tmp_path):
    first, second = Counter({"p50": 1.5}), Counter("never")
    assert ModelStore(tmp_path).get_or_compute(KEY, first) == {"p50": 1.5}
    # another store object on the same folder (another process in a batch) reads it
    assert ModelStore(tmp_path).get_or_compute(KEY, second) == {"p50": 1.5}
    assert (first.calls, second.calls) == (1, 0)
    assert not list(tmp_path.glob("*.lock"))  # the lock went with the computation


def test_different_keys_never_share_a_value(tmp_path):
    store = ModelStore(tmp_path)
    assert store.get_or_compute(derive_key("2021"), Counter(2021)) == 2021
    assert store.get_or_compute(derive_key("2022"), Counter(2022)) == 2022


def test_a_failed_computation_stores_nothing_and_releases_its_lock(tmp_path):
    store = ModelStore(tmp_path)

    def fails() -> object:
        raise ValueError("the model did not converge")

    with pytest.raises(ValueError, match="did not converge"):
        store.get_or_compute(KEY, fails)
    assert not list(tmp_path.iterdir())
    retry = Counter(42)
    assert store.get_or_compute(KEY, retry) == 42
    assert retry.calls == 1


def test_a_damaged_value_is_computed_again_with_a_warning(tmp_path, caplog):
    store = ModelStore(tmp_path)
    store.get_or_compute(KEY, Counter(1))
    (tmp_path / f"{KEY}.pkl").write_bytes(b"\x80\x05not a pickle")
    again = Counter(1)
    with caplog.at_level("WARNING", logger="zhengshou_analysis.figures.modelstore"):
        assert store.get_or_compute(KEY, again) == 1
    assert again.calls == 1
    assert "unreadable" in caplog.text
    assert ModelStore(tmp_path).get_or_compute(KEY, Counter("never")) == 1  # repaired


def test_a_lock_left_by_a_dead_process_is_ignored(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    (tmp_path / f"{KEY}.lock").write_text(dead.stdout.strip(), encoding="ascii")
    value = Counter("fitted")
    assert ModelStore(tmp_path, wait_seconds=30).get_or_compute(KEY, value) == "fitted"
    assert value.calls == 1


def test_a_lock_that_names_no_process_is_ignored_once_old(tmp_path):
    lock = tmp_path / f"{KEY}.lock"
    lock.write_text("", encoding="ascii")  # a crash between creating and writing it
    old = time.time() - 60
    os.utime(lock, (old, old))
    value = Counter("fitted")
    assert ModelStore(tmp_path, wait_seconds=30).get_or_compute(KEY, value) == "fitted"
    assert value.calls == 1


def test_a_lock_held_too_long_is_given_up_on(tmp_path):
    (tmp_path / f"{KEY}.lock").write_text(str(os.getpid()), encoding="ascii")  # alive: this process
    value = Counter("fitted")
    assert ModelStore(tmp_path, wait_seconds=0.2).get_or_compute(KEY, value) == "fitted"
    assert value.calls == 1


def test_a_store_that_cannot_be_written_computes_in_place(tmp_path, caplog):
    blocker = tmp_path / "store"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    value = Counter([1, 2, 3])
    with caplog.at_level("WARNING", logger="zhengshou_analysis.figures.modelstore"):
        assert ModelStore(blocker, wait_seconds=0.5).get_or_compute(KEY, value) == [1, 2, 3]
    assert value.calls == 1
    # said as a store that cannot be written, not taken for a lock held by another run
    assert "cannot be written" in caplog.text
    assert "from another run" not in caplog.text


def test_a_value_that_cannot_be_pickled_is_returned_and_not_stored(tmp_path):
    unpicklable = Counter(lambda: None)
    store = ModelStore(tmp_path)
    assert store.get_or_compute(KEY, unpicklable) is unpicklable.value
    assert not list(tmp_path.glob("*.pkl")) and not list(tmp_path.glob(".*.tmp"))


def test_keys_are_hex_digits_only(tmp_path):
    with pytest.raises(ValueError, match="hex digits"):
        ModelStore(tmp_path).get_or_compute("../../etc/passwd", Counter(0))


_RACER = textwrap.dedent(
    """
    import os, sys, time
    from zhengshou_analysis.figures.modelstore import ModelStore

    root, key, marks = sys.argv[1], sys.argv[2], sys.argv[3]

    def fit():
        with open(os.path.join(marks, str(os.getpid())), "w") as f:
            f.write("computed")
        time.sleep(1.0)  # long enough for the other process to find the lock
        return {"model": "fitted once"}

    print(ModelStore(root).get_or_compute(key, fit)["model"])
    """
)


def test_two_processes_asking_at_once_compute_once(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    store = tmp_path / "store"
    cmd = [sys.executable, "-c", _RACER, str(store), KEY, str(marks)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outs == ["fitted once", "fitted once"]
    assert len(list(marks.iterdir())) == 1


def test_using_store_sets_the_variable_for_the_block_only(tmp_path, monkeypatch):
    monkeypatch.delenv(MODEL_STORE_ENV, raising=False)
    assert active_store() is None
    with using_store(tmp_path):
        store = active_store()
        assert store is not None and store.root == tmp_path
        with using_store(""):
            assert active_store() is None
        assert os.environ[MODEL_STORE_ENV] == str(tmp_path)
    assert MODEL_STORE_ENV not in os.environ


# --- keys --------------------------------------------------------------------------------------


def test_the_content_key_of_tables_sees_every_value(demo_ledgers):
    tables = demo_ledgers.tables
    key = tables_content_key(tables)
    assert tables_content_key({k: v.copy() for k, v in tables.items()}) == key
    changed = dict(tables)
    funding = tables["funding"].copy()
    funding.loc[funding.index[0], "amount_yuan"] += 1.0
    changed["funding"] = funding
    assert tables_content_key(changed) != key
    assert tables_content_key({k: v for k, v in tables.items() if k != "sites"}) != key


def test_an_analysis_key_covers_date_settings_and_tables(demo_ledgers, tmp_path):
    t = demo_ledgers.tables

    def key(**kw) -> str | None:
        args = {"year": 2021, "tables_key": "ledgers-v1", **kw}
        return Analysis(t, **args).store_key

    base = key()
    assert base is not None and base == key()
    others = [
        key(tables_key="ledgers-v2"),
        key(as_of="2021-06-30"),
        key(year=2020),
        key(seed=7),
        key(horizon_months=24),
        key(n_paths=500),
    ]
    assert base not in others and len(set(others)) == len(others)
    # the tables known at an earlier date have one key, whichever report's tables they came from
    at_2020 = [Analysis(t, year=y, tables_key="ledgers-v1").at("2020-12-31") for y in (2021, 2022)]
    own = Analysis(t, year=2020, tables_key="ledgers-v1")
    assert at_2020[0] is not None and at_2020[1] is not None
    assert at_2020[0].store_key == at_2020[1].store_key == own.store_key
    assert own.store_key == key(year=2020) != base


def test_known_at_keys_take_the_earlier_date():
    first = known_at_key("root", pd.Timestamp("2021-12-31"))
    assert first == "root@2021-12-31"
    assert known_at_key(first, pd.Timestamp("2020-12-31")) == "root@2020-12-31"
    assert known_at_key(first, pd.Timestamp("2022-06-30")) == first  # cut at 2021-12-31 already


def test_without_a_key_or_a_store_nothing_is_hashed(demo_ledgers, monkeypatch):
    monkeypatch.delenv(MODEL_STORE_ENV, raising=False)
    assert Analysis(demo_ledgers.tables, year=2021).store_key is None


def test_without_a_key_but_with_a_store_the_tables_are_hashed(demo_ledgers, tmp_path):
    with using_store(tmp_path):
        a = Analysis(demo_ledgers.tables, year=2021)
        assert a.tables_key == known_at_key(tables_content_key(a.tables), a.as_of)
        assert a.store_key is not None


# --- the analysis with a store -------------------------------------------------------------------


@pytest.fixture
def counted_inflow_fits(monkeypatch):
    """Count the fits of the inflow model (the slowest model of a page)."""
    from zhengshou_analysis import forecast

    calls: list[pd.Timestamp] = []
    real = forecast.fit_inflow_model

    def fit(*args, **kwargs):
        calls.append(kwargs.get("as_of"))
        return real(*args, **kwargs)

    monkeypatch.setattr(forecast, "fit_inflow_model", fit)
    return calls


def test_a_second_run_reads_the_models_the_first_one_fitted(
    demo_ledgers, tmp_path, counted_inflow_fits
):
    t = demo_ledgers.tables
    with using_store(tmp_path):
        first = Analysis(t, year=2021, tables_key="demo", n_paths=500)
        gap_first = first.gap.summary
        fits = len(counted_inflow_fits)
        second = Analysis(t, year=2021, tables_key="demo", n_paths=500)  # another run's context
        pd.testing.assert_frame_equal(second.gap.summary, gap_first)
        pd.testing.assert_frame_equal(second.inflows.summary, first.inflows.summary)
        assert len(counted_inflow_fits) == fits == 1
        # another ledger version (another key) fits its own model
        assert Analysis(t, year=2021, tables_key="demo-changed", n_paths=500).inflow_model
        assert len(counted_inflow_fits) == 2


def test_values_read_from_the_store_equal_those_computed_without_it(
    demo_ledgers, tmp_path, monkeypatch
):
    t = demo_ledgers.tables
    monkeypatch.delenv(MODEL_STORE_ENV, raising=False)
    plain = Analysis(t, year=2020, n_paths=500)
    with using_store(tmp_path):
        assert Analysis(t, year=2020, tables_key="demo", n_paths=500).review  # fills the store
        stored = Analysis(t, year=2020, tables_key="demo", n_paths=500)
        review = stored.review
        assert all(p.suffix == ".pkl" for p in tmp_path.iterdir())  # no lock or temporary left
    assert review.origins == plain.review.origins and review.origins
    pd.testing.assert_frame_equal(review.money, plain.review.money)
    pd.testing.assert_frame_equal(review.sites, plain.review.sites)
    pd.testing.assert_frame_equal(review.delivery, plain.review.delivery)
    pd.testing.assert_frame_equal(review.previous, plain.review.previous)
    assert review.statements == plain.review.statements
    pd.testing.assert_frame_equal(stored.delivery_forecast.summary, plain.delivery_forecast.summary)
    pd.testing.assert_frame_equal(stored.fee_forecast.summary, plain.fee_forecast.summary)


def test_the_reviews_of_two_periods_share_their_common_origins(
    demo_ledgers, tmp_path, counted_inflow_fits
):
    t = demo_ledgers.tables
    with using_store(tmp_path):
        r2020 = Analysis(t, year=2020, tables_key="demo").review
        fitted_2020 = list(counted_inflow_fits)
        r2021 = Analysis(t, year=2021, tables_key="demo").review
    fitted_2021 = counted_inflow_fits[len(fitted_2020) :]
    shared = set(r2020.origins) & set(r2021.origins)
    assert shared, "the demo's 2020 and 2021 reviews have common origins"
    assert shared <= set(fitted_2020)
    # the 2021 review fitted only the origins the 2020 review had not
    assert set(fitted_2021) == set(r2021.origins) - shared


def test_a_report_keys_its_tables_by_the_raw_files_profile_and_code():
    import dataclasses

    from zhengshou_analysis.report.session import load_report

    rep = load_report(Path(__file__).resolve().parents[1] / "data" / "demo", year=2021)
    key = rep.tables_key
    assert key is not None and len(key) == 64
    assert rep.analysis.tables_key is not None
    renamed = dataclasses.replace(rep.profile, office_name="港南区")
    assert renamed.fingerprint != rep.profile.fingerprint
    assert dataclasses.replace(rep, profile=renamed).tables_key != key
    # a manifest without every input's SHA-256 (tables not from the cleaner): no key
    bare = dataclasses.replace(rep.ledgers, manifest={"inputs": [{"file": "a.csv"}]})
    assert dataclasses.replace(rep, ledgers=bare).tables_key is None


@pytest.mark.slow
def test_a_page_made_with_the_store_is_the_page_made_without_it(tmp_path):
    """The funding page of 2021 (inflow model, gap, review) three times in one worker: without a
    store, filling one, reading it. The notebooks' outputs are the same; the third run read the
    values the second one stored (none was written again)."""
    from zhengshou_analysis.periods import Period
    from zhengshou_analysis.report.kernels import shutdown_thread_kernel
    from zhengshou_analysis.report.runs import RunTask, execute_run

    root = Path(__file__).resolve().parents[1]
    params = {
        "year": 2021,
        "as_of": "",
        "data_dir": str(root / "data" / "demo"),
        "seed": 2021,
        "horizon_months": 12,
        "profile_path": "",
    }
    store = tmp_path / "store"

    def outputs(label: str, model_store: str) -> list:
        out = tmp_path / label
        task = RunTask(
            Period.year_end(2021),
            "30_funding",
            str(root / "notebooks" / "30_funding.ipynb"),
            str(out),
            params,
            "key",
            True,
            model_store,
        )
        r = execute_run(task)
        assert r.status == "ok", r.error
        nb = json.loads((out / r.ipynb).read_text(encoding="utf-8"))
        return [c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"]

    try:
        plain = outputs("plain", "")
        filled = outputs("filled", str(store))
        written = {p.name: p.stat().st_mtime_ns for p in store.iterdir()}
        read = outputs("read", str(store))
    finally:
        shutdown_thread_kernel()
    assert written, "the run with a store stored its models"
    assert {p.name: p.stat().st_mtime_ns for p in store.iterdir()} == written
    assert filled == plain
    assert read == plain
    assert MODEL_STORE_ENV not in os.environ  # the batch process is left as it was
