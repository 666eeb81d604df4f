"""A capital budget for the plan (``selection.capital_budget``).

Every new base of one size costs the same capital (``costs.capital_per_base`` + places x
``costs.capital_per_place``), so the best plan within a budget is, exactly, the best plan of
as many bases as the budget pays for (no more than asked for): adding a base never raises
the plan's harm, so the budget's best plan spends on as many bases as it can, and the plan's
exact search and stopping rule then choose them as for any number of bases. Bases of several
sizes would cost different sums, and a budget among them needs a knapsack constraint inside
the selection MIP: the scenario refuses that combination (see
:meth:`sitefinder.config.Scenario`'s checks).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sitefinder.columns import money

if TYPE_CHECKING:
    from sitefinder.config import Scenario


def base_capital(scenario: Scenario) -> float:
    """The capital of one new base of the scenario's size (£)."""
    sizes = scenario.selection.sizes or [scenario.base_size]
    costs = scenario.costs
    return costs.capital_per_base + max(sizes) * costs.capital_per_place


def affordable(scenario: Scenario) -> int:
    """How many new bases ``selection.capital_budget`` pays for, at most those asked for."""
    budget = scenario.selection.capital_budget
    wanted = scenario.new_bases
    if budget is None:
        return wanted
    one = base_capital(scenario)
    if one <= 0:
        return wanted
    return min(wanted, math.floor(budget / one + 1e-9))


def within_budget(scenario: Scenario) -> tuple[Scenario, str | None]:
    """The scenario the plan is chosen with under ``selection.capital_budget``, and a
    sentence saying what the budget allowed and what it left out (None without a budget).

    Parameters
    ----------
    scenario
        The run's scenario.

    Returns
    -------
    tuple
        The scenario with ``bases`` cut to what the budget pays for (the same scenario when
        it pays for every base asked for), and the sentence.
    """
    budget = scenario.selection.capital_budget
    if budget is None:
        return scenario, None
    one, wanted = base_capital(scenario), scenario.new_bases
    afford = affordable(scenario)
    shown = money(budget)
    if afford >= wanted:
        return scenario, (
            f"Capital budget {shown} (selection.capital_budget): the {wanted} new base(s)"
            f" asked for cost at most {money(wanted * one)} ({money(one)} each), within it."
        )
    left = wanted - afford
    note = (
        f"Capital budget {shown} (selection.capital_budget): a new base costs {money(one)}"
        f" (costs.capital_per_base + places x costs.capital_per_place), so the budget pays for"
        f" {afford} of the {wanted} new base(s) asked for ({money(afford * one)});"
        f" the budget left {left} out (the next would need {money((afford + 1) * one)} in all)."
    )
    if afford == 0:
        note = (
            f"Capital budget {shown} (selection.capital_budget) is below the capital of one new"
            f" base, {money(one)} (costs.capital_per_base + places x costs.capital_per_place):"
            f" the plan adds no new base (the budget left all {wanted} asked for out)."
        )
    return scenario.model_copy(update={"bases": afford}), note
