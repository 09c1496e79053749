"""docs/architecture.md matches the code, and the layering it promises holds."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "zhengshou_analysis"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
#: Lower layers may not import upper ones (docs/architecture.md, "Layers"): the per-topic figure
#: modules sit below the forecasts, the registry and the analysis context above them.
FIGURE_TOPICS = {"common", "progress", "funding", "fees", "sites", "vintage"}


def _layer(module: str) -> int | None:
    """The layer of a module given as ``ledger.clean`` / ``figures.sites`` (None: not layered)."""
    parts = module.split(".")
    if parts[0] == "ledger":
        return 0
    if parts[0] == "figures":
        return 1 if len(parts) > 1 and parts[1] in FIGURE_TOPICS else 3
    if parts[0] == "forecast":
        return 2
    if parts[0] == "report":
        return 4
    return None


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


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the import nodes under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            out |= {id(n) for child in node.body for n in ast.walk(child)}
    return out


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) of every import of the package in ``path``."""
    rel = path.relative_to(PKG).with_suffix("").parts
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
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
    own = ".".join(path.relative_to(PKG).with_suffix("").parts)
    for target, names in _imports(path):
        mine, theirs = _layer(own), _layer(target) if target else None
        if mine is not None and theirs is not None:
            assert theirs <= mine, f"{own} imports {target}"
        same_module = target == ".".join(path.relative_to(PKG).with_suffix("").parts)
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        assert same_module or not private, f"{path.relative_to(PKG)} imports {private} of {target}"
