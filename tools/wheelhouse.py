"""A folder of wheels from which the package installs without the package index (`make wheelhouse`).

The office PC is Windows on an intranet; the analysts' server may be Linux. ``make wheelhouse``, run
on any machine that reaches the index, fills ``wheelhouse/`` with the package's own wheel, the
wheels of every runtime dependency for Linux x86_64 and Windows amd64 (CPython 3.11), and the build
requirements (so that ``pip install -e .`` works offline too)::

    python tools/wheelhouse.py download wheelhouse      # what make wheelhouse runs
    python tools/wheelhouse.py check wheelhouse         # does the folder resolve everything?

Downloads use ``pip download --only-binary=:all: --platform … --python-version 3.11``. pip evaluates
environment markers against the machine it runs on, not the ``--platform`` it is given, so a Linux
machine never fetches ``colorama; sys_platform == "win32"`` (tqdm, IPython), ``pywin32``
(jupyter-core), ``pywinpty`` (terminado) or ``tzdata`` (pandas) for Windows. The resolution is
therefore checked again under the *target's* markers (:func:`unmet_requirements`): what is missing is
named and fetched, until the folder is closed under the target's requirements.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # a venv with pip only (make wheelhouse needs nothing else): pip's own copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "zhengshou-analysis"
PYTHON_VERSION = "3.11"


@dataclass(frozen=True)
class Target:
    """A machine the wheelhouse serves: pip's tag options and the environment its markers see."""

    name: str
    platforms: tuple[str, ...]
    markers: Mapping[str, str]

    def pip_options(self) -> list[str]:
        """``--only-binary=:all: --platform … --python-version 3.11 --implementation cp --abi cp311``."""
        options = ["--only-binary=:all:", "--python-version", PYTHON_VERSION]
        options += ["--implementation", "cp", "--abi", "cp" + PYTHON_VERSION.replace(".", "")]
        for platform in self.platforms:
            options += ["--platform", platform]
        return options


def _markers(os_name: str, system: str, sys_platform: str, machine: str) -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "implementation_version": PYTHON_VERSION + ".0",
        "os_name": os_name,
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": system,
        "platform_version": "",
        "python_full_version": PYTHON_VERSION + ".0",
        "python_version": PYTHON_VERSION,
        "sys_platform": sys_platform,
    }


#: The two machines: Linux x86_64 with glibc 2.17 or later (manylinux tags, newest first; pip
#: expands manylinux2014 to manylinux2010 and manylinux1 by itself), and 64-bit Windows.
TARGETS: dict[str, Target] = {
    "linux": Target(
        "linux",
        (*(f"manylinux_2_{minor}_x86_64" for minor in range(28, 16, -1)), "manylinux2014_x86_64"),
        _markers("posix", "Linux", "linux", "x86_64"),
    ),
    "windows": Target("windows", ("win_amd64",), _markers("nt", "Windows", "win32", "AMD64")),
}


def build_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The build requirements of ``pyproject.toml`` (``setuptools>=69``, ``wheel``): with them in
    the wheelhouse, ``pip install --no-index --find-links wheelhouse -e .`` builds offline."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return list(data["build-system"]["requires"])


def unmet_requirements(report: Mapping, markers: Mapping[str, str]) -> list[Requirement]:
    """The requirements a resolution leaves unmet on a target machine.

    Parameters
    ----------
    report
        pip's installation report (``pip install --dry-run --report``): its ``install`` items, each
        with ``metadata`` (``name``, ``version``, ``requires_dist``) and ``requested_extras``.
    markers
        The target's marker environment (:data:`TARGETS`); ``extra`` is set per requirement.

    Returns
    -------
    list of packaging.requirements.Requirement
        Every requirement of a resolved distribution whose marker holds on the target (under the
        extras asked of that distribution, also by other distributions: ``bleach[css]``) and that
        no resolved distribution satisfies: its name is absent, or its version is outside the
        specifier. In the order found, each once; empty when the resolution is complete there.
    """
    dists = {canonicalize_name(i["metadata"]["name"]): i for i in report.get("install", [])}
    extras = {n: set(i.get("requested_extras") or ()) for n, i in dists.items()}
    unmet: dict[str, Requirement] = {}
    changed = True
    while changed:  # an extra asked by one distribution adds requirements to another
        changed = False
        for name, item in dists.items():
            for text in item["metadata"].get("requires_dist") or ():
                req = Requirement(text)
                if req.marker is not None and not any(
                    req.marker.evaluate({**markers, "extra": e}) for e in {"", *extras[name]}
                ):
                    continue
                dep = canonicalize_name(req.name)
                if dep not in dists:
                    unmet.setdefault(str(req), req)
                    continue
                version = dists[dep]["metadata"]["version"]
                if not req.specifier.contains(version, prereleases=True):
                    unmet.setdefault(str(req), req)
                if set(req.extras) - extras[dep]:
                    extras[dep] |= set(req.extras)
                    changed = True
    return list(unmet.values())


def _pip(args: Sequence[str], *, isolated: bool) -> subprocess.CompletedProcess[str]:
    """``python -m pip …``; ``isolated``: none of this machine's pip settings (no index, mirror or
    extra find-links from a config file or PIP_* variable may help a check)."""
    env = dict(os.environ)
    if isolated:
        env = {k: v for k, v in env.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], env=env, text=True, capture_output=True, check=False
    )


def resolve_offline(
    wheelhouse: Path, target: Target, requirements: Iterable[str] = (PACKAGE,)
) -> tuple[dict | None, str]:
    """Resolve ``requirements`` from ``wheelhouse`` alone for ``target`` (nothing is installed).

    ``pip install --dry-run --ignore-installed --no-index --find-links <wheelhouse> --target <tmp>``
    with the target's tag options, in isolation from this machine's pip settings.

    Returns
    -------
    report : dict or None
        pip's installation report; ``None`` when pip could not resolve.
    message : str
        pip's error output when it could not resolve (names what is missing), else ``""``.
    """
    with tempfile.TemporaryDirectory(prefix="zs-wheelhouse-") as tmp:
        report_path = Path(tmp) / "report.json"
        proc = _pip(
            [
                "install",
                "--dry-run",
                "--ignore-installed",
                "--no-index",
                "--find-links",
                str(wheelhouse),
                *target.pip_options(),
                "--target",
                str(Path(tmp) / "target"),
                "--report",
                str(report_path),
                "--quiet",
                *requirements,
            ],
            isolated=True,
        )
        if proc.returncode != 0:
            return None, (proc.stderr or proc.stdout).strip()
        return json.loads(report_path.read_text(encoding="utf-8")), ""


def check(wheelhouse: Path, target: Target, requirements: Sequence[str] | None = None) -> list[str]:
    """What ``wheelhouse`` lacks for installing ``requirements`` on ``target``; ``[]``: nothing.

    ``requirements`` defaults to the package and its build requirements (the runtime for
    ``pip install zhengshou-analysis``, the build for ``pip install -e .``).

    The offline resolution (:func:`resolve_offline`) is repeated with every requirement that holds
    only under the target's markers (:func:`unmet_requirements`) added by name, until it is closed
    under them: then ``pip install --no-index --find-links <wheelhouse> zhengshou-analysis`` run on
    the target resolves.

    Returns
    -------
    list of str
        Empty when the folder resolves everything; otherwise pip's error or the unmet requirements,
        one per line, for a message.
    """
    asked = list(requirements) if requirements is not None else [PACKAGE, *build_requirements()]
    for _ in range(10):  # each round adds at least one requirement; a handful ever appear
        report, error = resolve_offline(wheelhouse, target, asked)
        if report is None:
            return [error]
        unmet = unmet_requirements(report, target.markers)
        if not unmet:
            return []
        new = [_without_marker(r) for r in unmet if _without_marker(r) not in asked]
        if not new:
            return [f"unmet on {target.name}: {r}" for r in unmet]
        asked += new
    return [f"the resolution for {target.name} did not settle after 10 rounds: {asked}"]


def _without_marker(req: Requirement) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}{req.specifier}"


def download(wheelhouse: Path, targets: Iterable[Target] = TARGETS.values()) -> None:
    """Fill ``wheelhouse`` (created if missing; wheels already there are kept) for ``targets``.

    The package's own wheel with its dependencies for this machine (``pip wheel .``: the few
    dependencies without a published wheel are built, as pure-Python wheels), then per target
    ``pip download --only-binary=:all:`` of that wheel (so of every runtime dependency) and of the
    build requirements, then of whatever the target's markers add (:func:`unmet_requirements`) until
    the offline resolution is closed under them (``main`` then prints :func:`check` per target).

    Raises
    ------
    SystemExit
        With pip's message when a download fails (no network, a dependency without a wheel for
        the target) or the folder still does not resolve.
    """
    wheelhouse.mkdir(parents=True, exist_ok=True)
    # A few dependencies publish no wheel at all (fontmeta for mplfonts, autograd-gamma for
    # lifelines): --only-binary=:all: cannot download them, so the package is built with its
    # dependencies for this machine first; those build as pure-Python wheels (py3-none-any), which
    # the downloads below then find in the folder (--find-links) for every target.
    print(f"== {PACKAGE} and its dependencies as wheels for this machine", flush=True)
    _run(["wheel", "--prefer-binary", "--wheel-dir", str(wheelhouse), str(ROOT)])
    own = _own_wheel(wheelhouse)
    for target in targets:
        extra: list[str] = []
        fetch = [str(own), *build_requirements()]
        for _ in range(10):  # each round adds at least one requirement; a handful ever appear
            print(f"== downloading for {target.name}: {' '.join(fetch)}", flush=True)
            _run(
                [
                    "download",
                    *target.pip_options(),
                    *("--find-links", str(wheelhouse), "--dest", str(wheelhouse)),
                    *fetch,
                ]
            )
            report, error = resolve_offline(wheelhouse, target, [PACKAGE, *extra])
            if report is None:
                sys.exit(f"wheelhouse: {wheelhouse} does not resolve for {target.name}:\n{error}")
            unmet = [_without_marker(r) for r in unmet_requirements(report, target.markers)]
            fetch = [u for u in unmet if u not in extra]
            if not unmet:
                break
            if not fetch:
                sys.exit(f"wheelhouse: still unmet on {target.name} after download: {unmet}")
            extra += fetch
        else:
            sys.exit(f"wheelhouse: the downloads for {target.name} did not settle: {extra}")


def _own_wheel(wheelhouse: Path) -> Path:
    sys.path.insert(0, str(ROOT / "src"))
    from zhengshou_analysis._version import __version__

    name = f"{PACKAGE.replace('-', '_')}-{__version__}-py3-none-any.whl"
    path = wheelhouse / name
    if not path.is_file():
        sys.exit(f"wheelhouse: pip wheel did not write {path}")
    return path


def _run(args: Sequence[str]) -> None:
    """``python -m pip …`` with this machine's pip settings (its index or mirror), output shown."""
    proc = subprocess.run([sys.executable, "-m", "pip", *args], check=False)
    if proc.returncode != 0:
        sys.exit(f"wheelhouse: `pip {' '.join(args)}` failed (exit {proc.returncode})")


def main(argv: Sequence[str] | None = None) -> int:
    """``download`` or ``check`` a wheelhouse for the targets (default: Linux and Windows)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["download", "check"])
    parser.add_argument("wheelhouse", type=Path, nargs="?", default=ROOT / "wheelhouse")
    parser.add_argument("--target", choices=sorted(TARGETS), action="append")
    args = parser.parse_args(argv)
    targets = [TARGETS[t] for t in (args.target or TARGETS)]
    if args.action == "download":
        download(args.wheelhouse, targets)
    failed = False
    for target in targets:
        problems = check(args.wheelhouse, target)
        failed |= bool(problems)
        status = (
            "resolves everything" if not problems else "INCOMPLETE:\n  " + "\n  ".join(problems)
        )
        print(f"{args.wheelhouse} for {target.name} (CPython {PYTHON_VERSION}): {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
