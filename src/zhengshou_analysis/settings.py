"""The office's policy and the reporting date (docs/indicators.md): parameters, never buried constants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .exceptions import ParameterError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_AGE_BANDS_MONTHS",
    "DEFAULT_ESCALATION",
    "DEFAULT_PAYMENT_TERM_DAYS",
    "DEFAULT_POLICY",
    "Escalation",
    "Policy",
    "default_as_of",
    "resolve_as_of",
]


@dataclass(frozen=True)
class Escalation:
    """Overdue escalation of the transitional fee (过渡安置费逾期加付).

    ``tiers`` is a sequence of ``(first_overdue_month, multiplier)``: the multiplier applies from
    that overdue month index ``j`` (1-based) until the next tier. Months that are not overdue pay
    1.0.

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

    def cumulative(self, overdue_months):
        """Σ of the multipliers of overdue months ``j = 1..n`` (closed form per tier, vectorised).

        Parameters
        ----------
        overdue_months
            ``n``, the number of overdue fee months (scalar or array; ``n <= 0`` gives 0.0, NaN
            stays NaN).

        Returns
        -------
        numpy.ndarray
            ``float64``, same shape as ``overdue_months``. With the default tiers,
            ``cumulative(14) = 12 × 1.5 + 2 × 2.0 = 22.0``.
        """
        import numpy as np

        n = np.asarray(overdue_months, dtype="float64")
        total = np.zeros(n.shape, dtype="float64")
        starts = [s for s, _ in self.tiers]
        ends = [*(s - 1 for s in starts[1:]), np.inf]
        for (start, mult), end in zip(self.tiers, ends, strict=True):
            months_in_tier = np.clip(n - start + 1, 0, end - start + 1)
            total = total + mult * months_in_tier
        return np.where(np.isnan(n), np.nan, total)


DEFAULT_ESCALATION = Escalation()

#: Default payment term: payment_due_date = signed_date + this many days when the ledger has none.
DEFAULT_PAYMENT_TERM_DAYS = 30

#: Lower bounds (duration months, inclusive) of the overdue-age bands: 0–3, 3–6, 6–12, over 12.
DEFAULT_AGE_BANDS_MONTHS: tuple[float, ...] = (0, 3, 6, 12)


@dataclass(frozen=True)
class Policy:
    """The office's policy: the rules the figures apply where a ledger is silent.

    The cleaner keeps what a ledger says (a missing due date or transition period stays NA); the
    figures apply these rules in one place each and report how many rows they touched
    (``parameters`` in ``key_figures.json``).

    Attributes
    ----------
    payment_term_days
        An agreement whose ``payment_due_date`` is NA falls due this many days after signing
        (:func:`~zhengshou_analysis.figures.funding.compute_agreement_balances`). Default 30.
    escalation
        Overdue escalation tiers of the transitional fee (:class:`Escalation`).
    default_transition_months
        Agreed transition period (months) of a household whose ``agreed_months`` is NA and whose
        site has no promised date; ``None`` (default): such a household is never counted overdue.
        Before it, a missing ``agreed_months`` is taken from the site's promised date
        (:func:`~zhengshou_analysis.figures.fees.compute_transition_fees`).
    age_bands_months
        Lower bounds (duration months, inclusive) of the overdue-age bands, starting at 0.
    """

    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS
    escalation: Escalation = DEFAULT_ESCALATION
    default_transition_months: int | None = None
    age_bands_months: tuple[float, ...] = DEFAULT_AGE_BANDS_MONTHS

    def __post_init__(self) -> None:
        if int(self.payment_term_days) != self.payment_term_days or self.payment_term_days < 0:
            raise ParameterError(
                f"payment_term_days must be a whole number of days >= 0, got {self.payment_term_days!r}"
            )
        months = self.default_transition_months
        if months is not None and (int(months) != months or months < 1):
            raise ParameterError(
                f"default_transition_months must be a whole number of months >= 1, got {months!r}"
            )
        bands = tuple(self.age_bands_months)
        if not bands or bands[0] != 0 or list(bands) != sorted(set(bands)):
            raise ParameterError(
                f"age_bands_months must start at 0 and increase strictly, got {list(bands)!r}"
            )
        object.__setattr__(self, "age_bands_months", tuple(float(b) for b in bands))


#: The built-in policy (docs/indicators.md; the escalation is an example rule).
DEFAULT_POLICY = Policy()


def default_as_of(year: int) -> pd.Timestamp:
    """The default reporting date of ``year``: 31 December."""
    import pandas as pd

    return pd.Timestamp(year=int(year), month=12, day=31)


def resolve_as_of(as_of, year: int | None = None) -> pd.Timestamp:
    """The reporting date as a day-precision, timezone-naive Timestamp.

    Parameters
    ----------
    as_of
        A date (``Timestamp``, ``date``, ``datetime64`` or ISO string such as ``"2021-12-31"``), or
        ``None`` for the default of ``year``.
    year
        Reporting year, for the default (:func:`default_as_of`).

    Raises
    ------
    ParameterError
        When ``as_of`` is not a date, or is ``None`` without a ``year``.
    """
    import pandas as pd

    if as_of is None:
        if year is None:
            raise ParameterError("as_of is required (a date such as '2021-12-31')")
        return default_as_of(year)
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"as_of must be a date such as '2021-12-31', got {as_of!r}") from exc
    if pd.isna(ts):
        raise ParameterError(f"as_of must be a date, got {as_of!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()
