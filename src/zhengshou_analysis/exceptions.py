"""The package's exception hierarchy.

Every error a user can cause (a bad ledger, a bad parameter) is a :class:`ZhengshouError`, whose
message says what to fix. The CLI prints such messages without a traceback and exits with status 2;
anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ledger.clean import CleanResult

__all__ = [
    "BusyError",
    "CleanError",
    "EmptyPeriodError",
    "InputChangedError",
    "InputError",
    "InsufficientDataError",
    "OutputError",
    "ParameterError",
    "ProfileError",
    "SchemaError",
    "ZhengshouError",
]


class ZhengshouError(Exception):
    """Base class of every error the package raises on purpose."""


class InputError(ZhengshouError):
    """A raw ledger cannot be read or used as it is.

    Parameters
    ----------
    message
        What is wrong and how to fix it.
    file, sheet, row, column
        Where, as a person sees it in Excel (``row`` is 1-based). Any may be ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        self.reason = message
        super().__init__(self._format(message))

    def _format(self, message: str) -> str:
        where = []
        if self.file is not None:
            where.append(f"文件 {self.file}")
        if self.sheet is not None:
            where.append(f"工作表 {self.sheet}")
        if self.row is not None:
            where.append(f"第 {self.row} 行")
        if self.column is not None:
            where.append(f"列 {self.column}")
        return f"{'，'.join(where)}: {message}" if where else message


class CleanError(InputError):
    """The raw folder cannot give trustworthy tables; ``result`` holds what was found.

    Raised by :func:`~zhengshou_analysis.ledger.clean.clean_ledgers`: ``result`` is the
    :class:`~zhengshou_analysis.ledger.clean.CleanResult` with the quality log and the errors, so
    a caller can still write the log that explains the failure.
    """

    def __init__(self, message: str, *, result: CleanResult, **where: Any) -> None:
        super().__init__(message, **where)
        self.result = result


class ProfileError(InputError):
    """A profile (``zhengshou.toml``) cannot be used as it is.

    Parameters
    ----------
    message
        What is wrong, one problem per line.
    file
        The profile file (``None`` for a profile built in Python).
    problems
        The problems as ``(key path, message)`` pairs.
    """

    def __init__(
        self, message: str, *, file: str | None = None, problems: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        super().__init__(message, file=file)


class EmptyPeriodError(InputError):
    """No ledger has a row in the reporting period: a wrong year, or the wrong ledgers.

    ``period`` names the period (``2030年``); the figures of such a period would be zeros that
    the ledgers never said.
    """

    def __init__(self, message: str, *, period: str) -> None:
        super().__init__(message)
        self.period = period


class SchemaError(InputError):
    """A recognised sheet lacks a required column, or a table breaks its declared schema."""


class ParameterError(ZhengshouError, ValueError):
    """A function or command was given a parameter outside its allowed values."""


class InsufficientDataError(ZhengshouError, ValueError):
    """Too little data for the requested statistic; callers fall back to a simpler method."""


class OutputError(ZhengshouError):
    """An output location cannot be written: a full disk, a read-only or missing folder, a file
    where a folder should be, no permission.

    Raised instead of the :class:`OSError` (kept as ``__cause__``), with a message naming the path
    and what to do (free N MB, choose another folder). Nothing half-written is left behind: the
    output set written before stays as it was (:mod:`~zhengshou_analysis.outfolder`).

    Parameters
    ----------
    message
        What happened, where, and what to do.
    path
        The file or folder that could not be written.
    errno
        The operating system's error number (``errno.ENOSPC``, …), ``None`` when not from the OS.
    """

    def __init__(self, message: str, *, path: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.errno = errno


class BusyError(ZhengshouError):
    """Another run is writing into the same output folder and the caller chose not to wait.

    ``holder`` describes that run (PID, start time, host) as its lock file records it.
    """

    def __init__(self, message: str, *, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


class InputChangedError(InputError):
    """A raw ledger changed while a run was reading it (a clerk saving the workbook mid-run).

    The run's outputs were discarded; ``files`` names the changed files (relative to the raw
    folder).
    """

    def __init__(self, message: str, *, files: Iterable[str]) -> None:
        self.files = tuple(files)
        super().__init__(message, file=", ".join(self.files) or None)
