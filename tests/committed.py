"""The report notebooks as committed, apart from anything JupyterLab saves beside them."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def committed_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks of ``root/notebooks`` that git tracks, sorted.

    A notebook JupyterLab saved there (``Untitled.ipynb``, ``.ipynb_checkpoints/``) is not one.
    Without git (an unpacked archive of the repository), every ``notebooks/*.ipynb``.
    """
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--", "notebooks/*.ipynb"],
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return sorted((root / "notebooks").glob("*.ipynb"))
    names = [n for n in proc.stdout.decode("utf-8").split("\0") if n]
    return sorted(root / n for n in names)
