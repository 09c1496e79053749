"""Dependencies declared = dependencies imported.

Every third-party distribution the package imports is a runtime dependency of ``pyproject.toml``,
and every runtime dependency is imported, unless :data:`DECLARED_NOT_IMPORTED` says why not. The
tests and benchmarks import nothing beyond the runtime and ``dev`` dependencies. Imports are read
with :mod:`ast` (also those inside functions), and top-level module names are mapped to their
distributions with :func:`importlib.metadata.packages_distributions`, so ``fontTools`` counts as
``fonttools`` and ``IPython`` as ``ipython``. ``environment.yml`` follows ``pyproject.toml``
(``test_environment_yml_lists_exactly_the_pyproject_dependencies`` in ``test_foundation.py``).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "zhengshou_analysis"

#: Runtime dependencies the package needs without importing them, and why.
DECLARED_NOT_IMPORTED = {
    "ipykernel": "the kernel the report notebooks run in (`make setup` installs it as a kernelspec)",
    "jupyterlab": "`make lab`, the analysts' notebook environment",
    "patsy": "statsmodels loads it; 1.0.2 is the first release that works with pandas 3 strings",
}

#: Calls whose first argument (a string) names a module that is used without an import statement.
_IMPORTING_CALLS = {"find_spec", "import_module", "importorskip"}
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


def _normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Jupyter_Client`` → ``jupyter-client``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    assert m, f"unreadable requirement in pyproject.toml: {spec!r}"
    return _normalize(m.group(1))


def _declared() -> tuple[set[str], set[str]]:
    """(runtime, dev) distribution names of pyproject.toml, normalised."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_requirement_name(s) for s in project["dependencies"]}
    dev = {_requirement_name(s) for s in project["optional-dependencies"]["dev"]}
    return runtime, dev


def _extras() -> dict[str, set[str]]:
    """The user-facing extras of pyproject.toml (all but ``dev``): extra → distribution names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {
        extra: {_requirement_name(s) for s in specs}
        for extra, specs in project["optional-dependencies"].items()
        if extra != "dev"
    }


def _catches_import_error(node: ast.Try) -> bool:
    for handler in node.handlers:
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(t, ast.Name) and t.id in _IMPORT_ERRORS for t in types):
            return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    """Top-level module names imported by one file: required ones, and optional ones (imported in
    a ``try`` whose ``except ImportError`` carries on without them). Imports under
    ``if TYPE_CHECKING:`` are for the type checker only and are not counted."""

    def __init__(self) -> None:
        self.required: set[str] = set()
        self.optional: set[str] = set()
        self._optional_depth = 0

    def _add(self, module: str) -> None:
        top = module.split(".")[0]
        (self.optional if self._optional_depth else self.required).add(top)

    def visit_Try(self, node: ast.Try) -> None:
        optional = _catches_import_error(node)
        self._optional_depth += optional
        for stmt in node.body:
            self.visit(stmt)
        self._optional_depth -= optional
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:  # relative imports are the package's own
            self._add(node.module)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if (
            name in _IMPORTING_CALLS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            self._add(node.args[0].value)
        self.generic_visit(node)


def _imports(paths: list[Path]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(required, optional): top-level module → the files importing it, third-party modules only."""
    local = {p.stem for p in paths} | {"zhengshou_analysis"}
    required: dict[str, set[str]] = {}
    optional: dict[str, set[str]] = {}
    for path in paths:
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        rel = path.relative_to(ROOT).as_posix()
        for modules, into in ((visitor.required, required), (visitor.optional, optional)):
            for m in modules - set(sys.stdlib_module_names) - local:
                into.setdefault(m, set()).add(rel)
    return required, optional


def _distributions(modules: dict[str, set[str]], declared: set[str]) -> dict[str, set[str]]:
    """Distribution → the files importing it; a module no installed distribution provides is kept
    under ``<module> (no installed distribution)`` so the failure names it."""
    provided = packages_distributions()
    out: dict[str, set[str]] = {}
    for module, files in modules.items():
        dists = {_normalize(d) for d in provided.get(module, ())}
        if len(dists) > 1 and dists & declared:  # namespace packages shared by several wheels
            dists &= declared
        for d in dists or {f"{module} (no installed distribution)"}:
            out.setdefault(d, set()).update(files)
    return out


def _where(dists: set[str], files: dict[str, set[str]]) -> str:
    return "\n".join(f"  {d}: imported by {', '.join(sorted(files[d]))}" for d in sorted(dists))


def test_the_package_imports_exactly_its_runtime_dependencies():
    runtime, _ = _declared()
    required, _ = _imports(sorted(PACKAGE.rglob("*.py")))
    imported = _distributions(required, runtime)
    expected = runtime - set(DECLARED_NOT_IMPORTED)
    extra = set(imported) - runtime
    missing = expected - set(imported)
    assert not extra and not missing, (
        "pyproject.toml [project] dependencies and the imports of src/zhengshou_analysis differ.\n"
        + (f"Imported but not declared (add them):\n{_where(extra, imported)}\n" if extra else "")
        + (
            "Declared but never imported (remove them, or say why in DECLARED_NOT_IMPORTED):\n  "
            + ", ".join(sorted(missing))
            if missing
            else ""
        )
    )


def test_optional_imports_of_the_package_are_declared_extras():
    """An import the package can do without (``try: import x / except ImportError``) is still a
    dependency a user installs on purpose: it must be in an extra of pyproject.toml (``cluster``
    for dask.distributed), so ``pip install 'zhengshou-analysis[extra]'`` — which the error
    message names — brings it."""
    runtime, _ = _declared()
    extras = _extras()
    offered = runtime | set().union(*extras.values())
    _, optional = _imports(sorted(PACKAGE.rglob("*.py")))
    imported = _distributions(optional, offered)
    assert "distributed" in imported, "report/cluster.py imports distributed only when asked"
    undeclared = set(imported) - offered
    assert not undeclared, (
        "optional imports in src/zhengshou_analysis that no extra of pyproject.toml offers:\n"
        + _where(undeclared, imported)
    )


def test_dependencies_declared_without_an_import_are_still_declared_and_still_not_imported():
    runtime, _ = _declared()
    required, _ = _imports(sorted(PACKAGE.rglob("*.py")))
    imported = set(_distributions(required, runtime))
    assert set(DECLARED_NOT_IMPORTED) <= runtime, (
        "DECLARED_NOT_IMPORTED names an undeclared package"
    )
    assert not set(DECLARED_NOT_IMPORTED) & imported, (
        "now imported, drop from DECLARED_NOT_IMPORTED: "
        + ", ".join(sorted(set(DECLARED_NOT_IMPORTED) & imported))
    )


def test_tests_and_benchmarks_import_only_declared_dependencies():
    runtime, dev = _declared()
    paths = sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py"))
    required, _ = _imports(paths)
    imported = _distributions(required, runtime | dev)
    extra = set(imported) - runtime - dev
    assert not extra, (
        "tests/ or benchmarks/ import packages that are neither runtime nor dev dependencies "
        f"(add them to [project.optional-dependencies] dev):\n{_where(extra, imported)}"
    )


def test_the_import_scanner_sees_imports_inside_functions_and_optional_ones(tmp_path):
    src = tmp_path / "mod.py"
    src.write_text(
        "import os\n"
        "from . import sibling\n"
        "def f():\n"
        "    from scipy import special\n"
        "    import importlib.util\n"
        "    importlib.util.find_spec('mplfonts')\n"
        "    try:\n"
        "        from threadpoolctl import threadpool_limits\n"
        "    except ImportError:\n"
        "        pass\n",
        encoding="utf-8",
    )
    visitor = _Imports()
    visitor.visit(ast.parse(src.read_text(encoding="utf-8")))
    assert visitor.required == {"os", "scipy", "importlib", "mplfonts"}
    assert visitor.optional == {"threadpoolctl"}


def test_the_import_scanner_leaves_out_imports_for_the_type_checker_only(tmp_path):
    src = tmp_path / "mod.py"
    src.write_text(
        "import typing\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from distributed import Client\n"
        "if typing.TYPE_CHECKING:\n"
        "    import pyarrow\n"
        "else:\n"
        "    import numpy\n"
        "if True:\n"
        "    import scipy\n",
        encoding="utf-8",
    )
    visitor = _Imports()
    visitor.visit(ast.parse(src.read_text(encoding="utf-8")))
    assert visitor.required == {"typing", "numpy", "scipy"}
