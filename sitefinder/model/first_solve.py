"""A feasible assignment for a large LP's first solve to start from.

HiGHS solves a large authority's assignment LP from scratch by the dual simplex, starting with
every child unplaced: one pivot or more for each of its thousands of rows. Handed a good
feasible assignment instead, it builds a basis from it and needs a fraction of the pivots:
Lambeth (synthetic England, 12,552 rows, 276,037 pairs) 34.1 s -> 14.2 s, Telford and Wrekin
(9,096 rows) 8.3 s -> 2.0 s, Bromley (7,224 rows) 2.9 s -> 0.8 s, to the same optimum
(measured 8 December 2026). The assignment is the greedy one: the pairs that avert the most harm
per child first, each given as many children as its row has left and its base has room for.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def greedy_assignment(
    children: NDArray[np.float64],
    unmet_harm: NDArray[np.float64],
    capacity: NDArray[np.float64],
    pair_row: NDArray[np.int64],
    pair_site: NDArray[np.int64],
    pair_cost: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Children left unplaced in each row and on each pair, filled pair by pair.

    Parameters
    ----------
    children, unmet_harm
        Each row's children and the harm of leaving one of them without a place (harm points).
    capacity
        Each base's places.
    pair_row, pair_site, pair_cost
        Each pair's row, base and harm per child placed (harm points).

    Returns
    -------
    tuple of numpy.ndarray
        Unplaced children per row and children per pair: every row's children are all
        counted, no base is over its places. Pairs that avert more harm per child come first
        (ties in pair order); a pair averting none stays empty.
    """
    left = np.asarray(children, dtype=np.float64).tolist()
    room = np.asarray(capacity, dtype=np.float64).tolist()
    flow = np.zeros(len(pair_cost))
    saving = unmet_harm[pair_row] - pair_cost
    useful = np.flatnonzero(saving > 0)
    order = useful[np.argsort(-saving[useful], kind="stable")]
    # Each pair takes what the ones before it left: a sequential fill (plain Python numbers,
    # a fraction of a second for Lambeth's 276,037 pairs).
    pairs = zip(order.tolist(), pair_row[order].tolist(), pair_site[order].tolist(), strict=True)
    for k, r, s in pairs:
        amount = min(left[r], room[s])
        if amount > 0:
            flow[k] = amount
            left[r] -= amount
            room[s] -= amount
    return np.asarray(left), flow
