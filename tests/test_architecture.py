"""docs/architecture.md matches the code, and the layering it promises holds."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "zhengshou_analysis"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
#: Lower layers may not import upper ones (docs/architecture.md, "Data flow").
LAYERS = ["ledger", "figures", "forecast", "report"]


def _modules() -> set[str]:
    """Every module of the package as the document names it (``ledger/clean`` → ``clean``)."""
    out = set()
    for p in PKG.rglob("*.py"):
        if p.name == "__init__.py" or p.name == "_version.py":
            continue
        out.add(p.relative_to(PKG).with_suffix("").as_posix())
    return out


def _documented() -> set[str]:
    names = set()
    for line in DOC.splitlines():
        if line.startswith("| `") and line.count("|") >= 3:
            cells = [c.strip() for c in line.strip("|").split("|")]
            first = cells[0].strip("`")
            if first.endswith(".py"):
                names.add(first[:-3])
            elif first.endswith("/"):
                package = first.rstrip("/")
                for mod in re.findall(r"`([a-z_*/]+)`", cells[1]):
                    if mod.endswith("/*"):
                        names.add(f"{package}/{mod[:-2]}/*")
                    else:
                        names.add(f"{package}/{mod}")
    return names


def test_every_module_is_in_the_architecture_page():
    documented = _documented()
    missing = []
    for mod in sorted(_modules()):
        parts = mod.split("/")
        wildcard = "/".join(parts[:-1]) + "/*" if len(parts) > 2 else None
        if mod not in documented and wildcard not in documented:
            missing.append(mod)
    assert not missing, f"add to docs/architecture.md: {missing}"


def test_every_documented_module_exists():
    ghosts = []
    for name in _documented():
        if name.endswith("/*"):
            if not (PKG / name[:-2]).is_dir():
                ghosts.append(name)
        elif not (PKG / f"{name}.py").is_file():
            ghosts.append(name)
    assert not ghosts, f"docs/architecture.md names modules that do not exist: {ghosts}"


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) of every import of the package in ``path``."""
    rel = path.relative_to(PKG).with_suffix("").parts
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel[: len(rel) - node.level])
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and node.module.startswith("zhengshou_analysis"):
                target = node.module.removeprefix("zhengshou_analysis").lstrip(".")
            else:
                continue
            out.append((target, [a.name for a in node.names]))
    return out


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_layers_and_private_names(path):
    own = path.relative_to(PKG).parts[0] if len(path.relative_to(PKG).parts) > 1 else None
    for target, names in _imports(path):
        top = target.split(".")[0] if target else ""
        if own in LAYERS and top in LAYERS:
            assert LAYERS.index(top) <= LAYERS.index(own), f"{path.name} imports {target}"
        same_module = target == ".".join(path.relative_to(PKG).with_suffix("").parts)
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        assert same_module or not private, f"{path.relative_to(PKG)} imports {private} of {target}"
