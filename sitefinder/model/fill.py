"""One step of the greedy fill, the same pick found with fewer exact solves.

The fill scans the eligible candidates in index order and keeps the first whose set's harm beats
the best so far by more than a tolerance. A candidate whose LP prices' bound shows it cannot do
that is not a new best, so it is passed over unsolved: the scan's bests, and so its pick, are
those of the scan that solves every candidate (the stopping rule's searches, each filling its set
from scratch, solved every one of hundreds of candidates before).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from sitefinder.model.scoring import SetScorer
from sitefinder.model.warm import WarmTransport

BOUND_SLACK = 1e-5
"""Harm points: room for the LP prices' round-off (about 1e-7 per child) before a bound passes
a candidate over; a larger slack only solves a few more candidates."""


def best_addition(
    scorer: SetScorer,
    open_: NDArray[np.bool_],
    objective: float,
    eligible: NDArray[np.intp],
    *,
    score: Callable[[NDArray[np.bool_]], float],
    tolerance: float,
    deadline: float,
) -> tuple[int, float]:
    """The candidate the fill adds to ``open_`` and the harm with it open (harm points).

    Parameters
    ----------
    scorer
        The scorer of these candidates (its warm LPs give the bounds).
    open_
        The open candidates (left as given).
    objective
        The harm of ``open_`` (harm points).
    eligible
        Candidates that may be added, in the order they are scanned.
    score
        Exact harm of an open set.
    tolerance
        How much a candidate must beat the best so far by to replace it (harm points).
    deadline
        Past it (the safety net) the scan stops once it has a best.
    """
    models: dict[int, WarmTransport] = {}
    best, best_j = np.inf, -1
    for j in eligible:
        j = int(j)
        comp = int(scorer.component[j])
        if best_j >= 0 and comp >= 0:
            if comp not in models:
                models[comp] = scorer.warm(comp, open_)
            room = objective - best + tolerance - BOUND_SLACK  # the gain j must beat
            if models[comp].bound(scorer.candidates[j], enough=room) <= room:
                continue  # harm with j at least best - tolerance: not a new best
        open_[j] = True
        value = score(open_)
        open_[j] = False
        if value < best - tolerance:
            best, best_j = value, j
        if time.perf_counter() > deadline and best_j >= 0:
            break
    return best_j, best
