"""What a new base can gain at most, from the LP prices of the network it joins.

Valuing a trial base exactly takes an LP re-solve; this bound takes a pass over its rows, so the
greedy order, the interchange and the equivalent alternatives rule most trials out before
solving them, and never rule out one that could win.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sitefinder.model.network import DemandRows, Site


def gain_bound(prices: NDArray[np.float64], demand: DemandRows, site: Site) -> float:
    """An upper bound on the harm points ``site`` can avert when added to a network.

    ``prices`` are the network's optimal LP row prices (:meth:`SetScorer.prices`). Weak
    duality: with the site's capacity priced at ``w``, the old prices capped at ``harm + w``
    stay feasible for the larger LP, so the gain is at most ``C w + sum_r d_r (p_r - h_r -
    w)+`` for every ``w >= 0``; the least such value is taken (it lies at ``w = 0`` or a
    breakpoint).
    """
    excess = prices[site.rows] - site.harm
    keep = np.isfinite(excess) & (excess > 0)
    excess, children = excess[keep], demand.children[site.rows][keep]
    if not len(excess):
        return 0.0
    # At w = the m-th largest excess, the rows with a larger one add sum d (e - w): prefix sums
    # give every breakpoint at once.
    order = np.argsort(-excess, kind="stable")
    e, d = excess[order], children[order]
    weight = np.r_[0.0, np.cumsum(d)[:-1]]
    value = np.r_[0.0, np.cumsum(d * e)[:-1]]
    at_breaks = site.capacity * e + value - e * weight
    return float(min(float(d @ e), float(at_breaks.min())))
