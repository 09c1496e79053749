"""The content cache of cleaned ledgers (:mod:`zhengshou_analysis.ledger.store`): served only for the same bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ledger_builder import write_csv

from zhengshou_analysis.ledger import store

FUNDING_HEADER = ["到账日期", "资金来源", "到位金额（元）"]
SITES = [
    ["安置区名称", "片区", "开工日期", "约定交房日期", "实际交房日期"],
    ["蓝田安置区", "贵城片区", "2017-01-01", "2019-12-31", "未交付"],
]


def _write_funding(raw: Path, first_amount: str) -> Path:
    return write_csv(
        raw / "资金到位台账.csv",
        [
            FUNDING_HEADER,
            ["2021-01-05", "市财政", first_amount],
            ["2021-02-05", "区财政", "2500.5"],
        ],
    )


@pytest.fixture
def raw(tmp_path) -> Path:
    """A tiny raw folder: a funding ledger and a sites ledger, both CSV."""
    raw = tmp_path / "raw"
    raw.mkdir()
    _write_funding(raw, "1000")
    write_csv(raw / "安置区台账.csv", SITES)
    return raw


@pytest.fixture
def cache_root(tmp_path, monkeypatch) -> Path:
    """``$ZHENGSHOU_CACHE_DIR`` in tmp_path; its entries are listed by :func:`_entries`."""
    root = tmp_path / "cache"
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(root))
    assert store.cache_dir() == root
    return root


@pytest.fixture
def cleans(monkeypatch) -> list[Path]:
    """Every raw folder the cache had to clean (``store.clean_ledgers``, counted)."""
    calls: list[Path] = []
    real = store.clean_ledgers

    def counting(raw_dir, *args, **kwargs):
        calls.append(Path(raw_dir))
        return real(raw_dir, *args, **kwargs)

    monkeypatch.setattr(store, "clean_ledgers", counting)
    return calls


def _entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if not p.name.startswith("."))


def _first_inflow(result) -> float:
    funding = result.tables["funding"].set_index("origin")
    return float(funding.at["资金到位台账.csv#资金到位台账!2", "amount_yuan"])


def test_unchanged_folder_is_served_from_the_cache(raw, cache_root, cleans):
    first = store.load_ledgers(raw)
    assert len(cleans) == 1 and len(_entries(cache_root)) == 1
    again = store.load_ledgers(raw)
    assert len(cleans) == 1, "an unchanged folder was cleaned again instead of read from the cache"
    assert len(_entries(cache_root)) == 1
    assert _first_inflow(again) == _first_inflow(first) == 1000.0
    for name, df in first.tables.items():
        assert again.tables[name].equals(df), name
    assert again.manifest["inputs"] == first.manifest["inputs"]


def test_a_changed_cell_is_cleaned_again_and_its_new_value_seen(raw, cache_root, cleans):
    before = store.data_fingerprint(raw)
    assert _first_inflow(store.load_ledgers(raw)) == 1000.0
    _write_funding(raw, "1200")  # one amount of one ledger file; still a valid ledger

    after = store.data_fingerprint(raw)
    assert after != before
    changed = store.load_ledgers(raw)
    assert len(cleans) == 2, "the changed ledger was served from the cache"
    assert _first_inflow(changed) == 1200.0
    assert len(_entries(cache_root)) == 2  # a new entry for the new content; the old one is kept

    # and the new content is now cached in its turn
    assert _first_inflow(store.load_ledgers(raw)) == 1200.0
    assert len(cleans) == 2


def test_the_key_is_the_content_not_the_file_times(raw, cache_root, cleans):
    store.load_ledgers(raw)
    path = _write_funding(raw, "1200")
    store.load_ledgers(raw)
    assert len(cleans) == 2
    _write_funding(raw, "1000")  # back to the first content, with a newer modification time
    os.utime(path, (1_700_000_000, 1_700_000_000))
    assert _first_inflow(store.load_ledgers(raw)) == 1000.0
    assert len(cleans) == 2, "the first content was cached: it must not be cleaned again"


def test_use_cache_false_cleans_afresh(raw, cache_root, cleans):
    store.load_ledgers(raw)
    assert _first_inflow(store.load_ledgers(raw, use_cache=False)) == 1000.0
    assert len(cleans) == 2
    assert len(_entries(cache_root)) == 1  # the same key, refreshed


def test_a_changed_profile_is_cleaned_again(raw, cache_root, cleans):
    from zhengshou_analysis.profile import parse_profile

    write_csv(raw / "安置区台账.csv", [SITES[0], ["城东花园", "城东", *SITES[1][2:]]])
    plain = store.load_ledgers(raw)
    assert plain.tables["sites"]["zone"].tolist() == ["城东"]
    aliased = parse_profile('[zones]\n"城东片区" = ["城东"]\n')
    assert store.load_ledgers(raw, profile=aliased).tables["sites"]["zone"].tolist() == ["城东片区"]
    assert len(cleans) == 2, "a changed profile was served the cache entry of another"
    store.load_ledgers(raw, profile=parse_profile('[zones]\n"城东片区" = ["城东"]\n'))
    assert len(cleans) == 2, "the same profile content must be served from the cache"
    assert len(_entries(cache_root)) == 2


def test_open_report_cleans_with_the_folder_profile_or_the_batch_one(
    tmp_path, cache_root, monkeypatch
):
    from zhengshou_analysis.report.session import open_report

    raw = tmp_path / "raw2"
    raw.mkdir()
    write_csv(raw / "项目台账.csv", [["片区", "项目名称", "年度"], ["城东", "东环路", "2021"]])
    (raw / "zhengshou.toml").write_text('[zones]\n"城东片区" = ["城东"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert open_report(raw, year=2021).tables["projects"]["zone"].tolist() == ["城东片区"]
    other = tmp_path / "other.toml"
    other.write_text('[zones]\n"东城片区" = ["城东"]\n', encoding="utf-8")
    rep = open_report(raw, year=2021, profile_path=str(other))
    assert rep.tables["projects"]["zone"].tolist() == ["东城片区"]  # what a batch passes
