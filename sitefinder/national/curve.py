"""Each authority's harm-by-number-of-bases curve, stopped where its plan's stopping rule stops.

The curve is the greedy build order's marginal harm averted by each base in turn (harm
points). A base enters an authority's plan only if it passes the stopping rule
(:mod:`sitefinder.plan.stopping`): it places at least ``selection.min_children`` children who
had no base place or averts at least ``selection.min_harm_averted`` harm points, and the
children it serves fill at least ``selection.min_occupancy`` of its places. Each base of the
order is judged as the plan's programme judges a year's picks
(:mod:`sitefinder.programme.schedule`): by what it adds to the bases before it; a refused base
is passed over (the later bases' marginals are the order's, with it open), and the curve ends
at the :data:`PASSES`-th refused. So the national allocation never funds a base its
authority's own rule refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sitefinder.model.greedy import Pick
from sitefinder.plan.stopping import StoppingRule

_WHY = {
    "rule": "would place too few children who had no base place and avert too little harm"
    " (selection.min_children, selection.min_harm_averted)",
    "occupancy": "would be filled under selection.min_occupancy",
}
"""Why the rule refuses a base, in words without counts of children."""


PASSES = 3
"""Bases of an order the rule may refuse before the curve ends (as a programme year's count:
:data:`sitefinder.programme.schedule._SKIPS`)."""


@dataclass(frozen=True)
class Curve:
    """An authority's curve and why it ended.

    Attributes
    ----------
    marginals
        Marginal harm averted by each base of the greedy order the rule admits, in order
        (harm points).
    passed_over
        Bases of the order the rule refused before the curve ended.
    stopped
        Why the rule ended the curve before its ``limit`` bases: the first base it refused, in
        words (``""`` when it did not: the curve ran to the limit or to the order's end).
    """

    marginals: NDArray[np.float64]
    passed_over: int = 0
    stopped: str = ""

    def complete(self, *, limit: int) -> bool:
        """Whether no later pick can change the curve: ``limit`` bases admitted, or
        :data:`PASSES` refused."""
        return len(self.marginals) >= limit or self.passed_over >= PASSES


def rule_curve(picks: Sequence[Pick], *, stop: StoppingRule, places: float, limit: int) -> Curve:
    """The curve of a greedy build order's ``picks`` (bases of ``places`` places): the
    marginals of the first ``limit`` picks the rule admits, passing over the picks it refuses
    until it has refused :data:`PASSES` (then the curve ends there)."""
    admitted = stop.admit(picks, places=places, refusals=PASSES, limit=limit)
    marginals = np.array([pick.marginal for pick in admitted.picks], dtype=float)
    refused = len(admitted.refused)
    stopped = ""
    if len(marginals) < limit and refused >= PASSES:
        number, _, reason = admitted.refused[0]
        stopped = f"base {number} of its greedy order {_WHY[reason]}"
    return Curve(marginals, refused, stopped)
