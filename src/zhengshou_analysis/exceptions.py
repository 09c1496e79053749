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
    "CleanError",
    "EmptyPeriodError",
    "InputError",
    "InsufficientDataError",
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
