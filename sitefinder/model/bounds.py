"""What a new base can gain at most, from the LP prices of the network it joins.

Valuing a trial base exactly takes an LP re-solve; this bound takes a pass over its rows, so the
greedy order, the interchange and the equivalent alternatives rule most trials out before
solving them, and never rule out one that could win.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    return _least(excess[keep], demand.children[site.rows][keep], site.capacity)


def _least(excess: NDArray[np.float64], children: NDArray[np.float64], capacity: float) -> float:
    """min over w >= 0 of ``capacity w + sum d (e - w)+`` for positive excesses ``e``."""
    if not len(excess):
        return 0.0
    # At w = the m-th largest excess, the rows with a larger one add sum d (e - w): prefix sums
    # give every breakpoint at once.
    order = np.argsort(-excess, kind="stable")
    e, d = excess[order], children[order]
    weight = np.concatenate(([0.0], np.cumsum(d)[:-1]))  # np.r_'s parsing costs more here
    value = np.concatenate(([0.0], np.cumsum(d * e)[:-1]))
    at_breaks = capacity * e + value - e * weight
    return float(min(float(d @ e), float(at_breaks.min())))


_SHIFTS = 16  # most price reductions tried (any is valid; each costs a pass over the rows)


class EasedPrices:
    """Bounds on what a new base can gain that allow for the open bases' places growing less
    scarce once it opens.

    :func:`gain_bound` keeps every open base's price of a place; when the network is short of
    places those prices are high, and every new base looks worth nearly its full capacity of
    unmet children even after the shortage is nearly met. Here each open base's price is
    lowered by a common ``t`` (never below zero) and each row's price re-derived as its
    cheapest option at the lowered prices: any non-negative site prices give a feasible
    solution of the dual of the network with the new base added (weak duality, exact for any
    ``t``), so the gain is at most ``objective - (network's dual value at t) + gain_bound(at
    t)``; the least over ``t = 0`` and each base's own price is taken (where its price reaches
    zero; a spread of 16 of them in a region with more bases).

    Parameters
    ----------
    demand
        All demand rows.
    rows
        The network's rows (a class component).
    sites
        Its open bases.
    site_prices
        Their prices of one more place (harm points per place; any non-negative values are
        valid, the LP's are the tightest).
    objective
        The network's optimal harm (harm points).
    """

    def __init__(
        self,
        demand: DemandRows,
        rows: NDArray[np.intp],
        sites: Sequence[Site],
        site_prices: NDArray[np.float64],
        objective: float,
    ) -> None:
        self._rows = np.sort(np.asarray(rows, dtype=np.intp))
        self._children = demand.children[self._rows].astype(np.float64)
        mu = np.maximum(np.asarray(site_prices, dtype=np.float64), 0.0)
        steps = np.unique(mu[mu > 0])
        if len(steps) > _SHIFTS:  # a large region: a spread of them keeps the arrays small
            steps = np.unique(np.quantile(steps, np.linspace(0.0, 1.0, _SHIFTS)))
        shifts = np.r_[0.0, steps]
        capacity = np.array([s.capacity for s in sites], dtype=np.float64)
        prices = np.tile(demand.unmet_harm[self._rows].astype(np.float64), (len(shifts), 1))
        for s, site in enumerate(sites):
            local, keep = self._find(site.rows)
            at = np.maximum(mu[s] - shifts, 0.0)[:, None] + site.harm[keep][None, :]
            prices[:, local[keep]] = np.minimum(prices[:, local[keep]], at)
        self._prices = prices
        lowered = np.maximum(mu[None, :] - shifts[:, None], 0.0)
        self._loss = objective - (prices @ self._children - lowered @ capacity)

    def _find(self, rows: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        """Positions of ``rows`` among the network's, and which of them are in it."""
        local = np.minimum(np.searchsorted(self._rows, rows), max(len(self._rows) - 1, 0))
        return local, self._rows[local] == rows if len(self._rows) else np.zeros(len(rows), bool)

    def bound(self, site: Site) -> float:
        """An upper bound on the harm points ``site`` can avert added to the network."""
        local, keep = self._find(site.rows)
        excess = np.maximum(self._prices[:, local[keep]] - site.harm[keep][None, :], 0.0)
        if not excess.shape[1]:
            return float(max(self._loss.min(), 0.0))
        # gain_bound at every shift at once (rows without excess add nothing).
        order = np.argsort(-excess, axis=1, kind="stable")
        e = np.take_along_axis(excess, order, axis=1)
        d = self._children[local[keep]][order]
        de = d * e
        at_breaks = (
            site.capacity * e + (np.cumsum(de, axis=1) - de) - e * (np.cumsum(d, axis=1) - d)
        )
        least = np.minimum(de.sum(axis=1), at_breaks.min(axis=1))
        return float((self._loss + least).min())
