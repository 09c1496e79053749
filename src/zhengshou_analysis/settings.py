"""Settings with the spec's defaults (indicators.md); every one is a parameter, never a buried constant."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .exceptions import ParameterError

__all__ = ["DEFAULT_ESCALATION", "Escalation", "default_as_of"]


@dataclass(frozen=True)
class Escalation:
    """Overdue escalation of the transitional fee (过渡安置费逾期加付).

    ``tiers`` is a sequence of ``(first_overdue_month, multiplier)``: the multiplier applies from that
    overdue month index ``j`` (1-based) until the next tier. Months that are not overdue pay 1.0.

    The default (1.5 for j = 1..12, 2.0 from j = 13) is an *example rule*, not a Guigang regulation.
    """

    tiers: tuple[tuple[int, float], ...] = ((1, 1.5), (13, 2.0))

    def __post_init__(self) -> None:
        starts = [s for s, _ in self.tiers]
        if not starts or starts[0] != 1 or starts != sorted(set(starts)):
            raise ParameterError(
                "escalation tiers must start at overdue month 1 and be strictly increasing, "
                f"got {self.tiers!r}"
            )
        if any(m < 1 for _, m in self.tiers):
            raise ParameterError(f"escalation multipliers must be >= 1, got {self.tiers!r}")

    def multiplier(self, overdue_index):
        """Multiplier for overdue month index ``j`` (scalar or array; ``j <= 0`` gives 1.0)."""
        import numpy as np

        j = np.asarray(overdue_index)
        out = np.ones(j.shape, dtype="float64")
        for start, mult in self.tiers:
            out = np.where(j >= start, mult, out)
        return out


DEFAULT_ESCALATION = Escalation()

#: Default payment term: payment_due_date = signed_date + this many days when the ledger has none.
DEFAULT_PAYMENT_TERM_DAYS = 30


def default_as_of(year: int) -> pd.Timestamp:
    """The default reporting date of ``year``: 31 December."""
    return pd.Timestamp(year=int(year), month=12, day=31)
