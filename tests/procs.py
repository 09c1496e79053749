"""Processes of a test: the Jupyter kernels among them."""

from __future__ import annotations

from collections.abc import Iterable

import psutil


def kernel_processes(processes: Iterable[psutil.Process]) -> list[psutil.Process]:
    """The Jupyter kernels (``ipykernel_launcher``) among ``processes``.

    A process that has ended meanwhile is left out (it is no kernel any more).
    """
    found = []
    for p in processes:
        try:
            if "ipykernel_launcher" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.NoSuchProcess:
            continue
    return found
