"""The names of the ways a plan's set of new bases is chosen, without the solvers.

Kept apart from :mod:`sitefinder.model.select` so that the scenario model and the command line
can name a method without importing HiGHS and scipy (``sitefinder --help`` starts in a blink).
"""

from __future__ import annotations

from enum import StrEnum


class SelectionMethod(StrEnum):
    """How a set of new bases is chosen (the scenario's ``selection.method``, ``--method``)."""

    auto = "auto"
    """The exact method; beyond :data:`sitefinder.model.select.AUTO_MAX_PAIRS` allowed pairs
    within a fixed budget (:data:`sitefinder.model.select.AUTO_NODES`), else the greedy set
    with the exact search's bound."""
    optimal = "optimal"
    """An exact mixed-integer programme (HiGHS), with its optimality gap."""
    greedy = "greedy"
    """Greedy add, then swaps until none lowers the harm."""
