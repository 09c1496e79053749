"""The six raw ledgers of the demo district, one renderer per ledger.

:func:`render_ledgers` runs the renderers in a fixed order (sites first: the transition truth needs
the sites' promised dates as read) and returns what they produced.
"""

from __future__ import annotations

from ..world import World
from . import agreements, funding, payments, projects, sites, transition
from .common import Ledgers

__all__ = ["FEEDS", "Ledgers", "render_ledgers"]

#: workbook → the canonical table it feeds (every payment CSV feeds ``payments``)
FEEDS = {
    projects.FILE: "projects",
    agreements.FILE_A: "agreements",
    agreements.FILE_B: "agreements",
    funding.FILE: "funding",
    sites.FILE: "sites",
    transition.FILE: "transition",
}


def render_ledgers(world: World) -> Ledgers:
    """Render every ledger of ``world``.

    Parameters
    ----------
    world
        The drawn district.

    Returns
    -------
    Ledgers
        The workbooks and CSV files, the truth rows they hold, the planted bad rows and where
        each messy rule appears.
    """
    out = Ledgers(world)
    sites.render_sites(out)
    projects.render_projects(out)
    agreements.render_agreements(out)
    transition.render_transition(out)
    payments.render_payments(out)
    funding.render_funding(out)
    return out
