"""The foundation's promises: one source of dependencies, current docs, the CLI surface, hygiene."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from zhengshou_analysis.cli import build_parser
from zhengshou_analysis.schemas import TABLES, render_data_dictionary

ROOT = Path(__file__).resolve().parents[1]


def _req_name(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    assert m, spec
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _environment_deps() -> dict[str, str]:
    """Packages of environment.yml: conda-forge entries and those of its pip section."""
    deps = {}
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+- ([A-Za-z][^#:]*?)\s*(?:#.*)?$", line)
        if m and not m.group(1).startswith("-e"):
            name, spec = _req_name(m.group(1))
            if name not in ("python", "pip"):
                deps[name] = spec
    return deps


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = dict(_req_name(s) for s in project["dependencies"])
    declared |= dict(_req_name(s) for s in project["optional-dependencies"]["dev"])
    assert _environment_deps() == declared
    assert "-e ." in (ROOT / "environment.yml").read_text(encoding="utf-8")


def test_data_dictionary_is_generated_from_the_schemas():
    committed = (ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == render_data_dictionary(), (
        "run: zhengshou data-dictionary --out docs/data_dictionary.md"
    )
    for t in TABLES.values():
        for c in t.columns:
            assert f"`{c.name}`" in committed


def test_header_synonyms_are_unambiguous_within_each_table():
    from zhengshou_analysis.ledger.layout import canonical_header

    for t in TABLES.values():
        seen: dict[str, str] = {}
        for c in t.columns:
            for h in c.headers:
                key = canonical_header(h)
                assert seen.get(key, c.name) == c.name, (t.name, h, seen[key], c.name)
                seen[key] = c.name


def test_cli_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for cmd in ("demo-data", "clean", "figures", "report", "batch"):
        assert cmd in out


def notebooks_with_outputs(paths) -> list[str]:
    """Notebooks that carry outputs or execution counts (they must be committed clean)."""
    bad = []
    for p in paths:
        nb = json.loads(Path(p).read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code" and (
                cell.get("outputs") or cell.get("execution_count")
            ):
                bad.append(str(p))
                break
    return bad


def test_notebooks_are_committed_without_outputs(tmp_path):
    from committed import committed_notebooks  # not a notebook JupyterLab saved in notebooks/

    assert notebooks_with_outputs(committed_notebooks()) == []
    dirty = tmp_path / "dirty.ipynb"
    dirty.write_text(
        json.dumps(
            {"cells": [{"cell_type": "code", "execution_count": 1, "outputs": [], "source": "1"}]}
        )
    )
    assert notebooks_with_outputs([dirty]) == [str(dirty)]


def test_makefile_has_the_entry_points():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("setup", "report", "test", "lab", "bench"):
        assert re.search(rf"^{target}:", text, re.MULTILINE), target
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
