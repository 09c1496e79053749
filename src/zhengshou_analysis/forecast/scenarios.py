"""What-if scenarios of the funding gap (:class:`Scenario`, :data:`DEFAULT_SCENARIOS`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..exceptions import ParameterError
from ..formatting import fmt_yuan_prose

__all__ = ["DEFAULT_SCENARIOS", "Scenario", "resolve_scenarios"]


@dataclass(frozen=True)
class Scenario:
    """A what-if for the funding gap; every field is a parameter.

    Attributes
    ----------
    name
        Label in tables and the key figures (ASCII, e.g. ``"special_bond"``).
    inflow_factor
        Simulated inflows are multiplied by this (``0.8`` = 20 % less money; ≥ 0).
    lump_yuan
        A one-off inflow (e.g. a special bond 专项债) added in month ``lump_month``.
    lump_month
        Month of the lump after ``as_of`` (1 = the first month of the horizon); a month beyond the
        horizon has no effect on the gap at the horizon.
    delivery_delay_months
        Every undelivered site is delivered this many months later than simulated (≥ 0).
    """

    name: str = "baseline"
    inflow_factor: float = 1.0
    lump_yuan: float = 0.0
    lump_month: int = 1
    delivery_delay_months: int = 0

    def __post_init__(self) -> None:
        if not self.name:
            raise ParameterError("a scenario needs a name")
        if not (self.inflow_factor >= 0 and math.isfinite(self.inflow_factor)):
            raise ParameterError(f"inflow_factor must be >= 0, got {self.inflow_factor!r}")
        if not math.isfinite(self.lump_yuan):
            raise ParameterError(f"lump_yuan must be a number, got {self.lump_yuan!r}")
        if int(self.lump_month) != self.lump_month or self.lump_month < 1:
            raise ParameterError(f"lump_month must be an integer >= 1, got {self.lump_month!r}")
        if int(self.delivery_delay_months) != self.delivery_delay_months or (
            self.delivery_delay_months < 0
        ):
            raise ParameterError(
                f"delivery_delay_months must be an integer >= 0, got {self.delivery_delay_months!r}"
            )

    def describe(self) -> str:
        """A one-line Chinese description (for reports)."""
        parts = []
        if self.inflow_factor != 1.0:
            parts.append(f"资金到位按模拟值的{self.inflow_factor:.0%}")
        if self.lump_yuan:
            parts.append(f"第{self.lump_month}个月一次性到位{fmt_yuan_prose(self.lump_yuan)}")
        if self.delivery_delay_months:
            parts.append(f"所有未交付安置区再推迟{self.delivery_delay_months}个月交付")
        return "；".join(parts) if parts else "基准情景：按模拟的交付与资金到位"


#: Scenarios reported side by side by default: the baseline, 20 % less money, six months' delay.
DEFAULT_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("baseline"),
    Scenario("inflows_80pct", inflow_factor=0.8),
    Scenario("delivery_delay_6m", delivery_delay_months=6),
)


def resolve_scenarios(scenarios: Sequence[Scenario] | None) -> list[Scenario]:
    """The scenarios to run: validated, with the baseline first when it was not given.

    Parameters
    ----------
    scenarios
        :class:`Scenario` objects, or ``None`` for :data:`DEFAULT_SCENARIOS`.

    Returns
    -------
    list of Scenario
        The scenarios in the order given, with ``Scenario("baseline")`` inserted first when no
        scenario is named ``baseline``.

    Raises
    ------
    ParameterError
        When an item is not a :class:`Scenario`, names repeat, or the scenario named
        ``baseline`` changes something.
    """
    items = list(DEFAULT_SCENARIOS if scenarios is None else scenarios)
    for sc in items:
        if not isinstance(sc, Scenario):
            raise ParameterError(f"scenarios must be Scenario objects, got {sc!r}")
    if not any(sc.name == "baseline" for sc in items):
        items.insert(0, Scenario("baseline"))
    names = [sc.name for sc in items]
    if len(set(names)) != len(names):
        raise ParameterError(f"scenario names must be unique, got {names}")
    base = next(sc for sc in items if sc.name == "baseline")
    if base != Scenario("baseline"):
        raise ParameterError("the scenario named 'baseline' must change nothing")
    return items
