"""A capital budget for the plan (``selection.capital_budget``): what each new base costs, and
what the budget left out.

The budget is exact: a knapsack row inside the selection (:mod:`sitefinder.model.budget`),
the capital of the opened bases (``costs.capital_per_base`` + places x
``costs.capital_per_place`` each, so bases of several sizes cost different sums) at most the
budget, and the bases asked for the most to open. To say what the budget left out, the plan is
chosen once more without it (the same rules and stopping rule), and the bases of that plan the
budget's plan lacks are named with their capital and the harm they would avert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from sitefinder.columns import money

if TYPE_CHECKING:
    import pandas as pd

    from sitefinder.config import Scenario
    from sitefinder.model.select import SolverSettings
    from sitefinder.plan.stopping import ChosenSet, SetProblem, StoppingRule


def candidate_costs(scenario: Scenario, places: Sequence[float]) -> list[float]:
    """The capital of each candidate base of ``places`` places (£)."""
    return [scenario.costs.base_capital(p) for p in places]


def budget_note(
    scenario: Scenario,
    *,
    problem: SetProblem,
    chosen: ChosenSet,
    settings: SolverSettings,
    stop: StoppingRule,
    options: pd.DataFrame,
    names: pd.Series,
    by_cost: bool = False,
) -> str:
    """What ``selection.capital_budget`` allowed and what it left out, in one sentence or two.

    Parameters
    ----------
    scenario
        The run's scenario.
    problem, chosen
        The plan's set problem (with the budget in its rules) and the set chosen within it.
    settings, stop
        The solver settings and stopping rule the plan was chosen with.
    options, names
        The options table (``urn, phase``) and school names by URN, to name bases.
    by_cost
        The set was chosen on the cost matrix (``selection.objective = "cost"``: its scorer's
        figures are £ thousands a year, not harm points).
    """
    from sitefinder.plan.stopping import choose_set

    budget = float(scenario.selection.capital_budget or 0.0)
    candidates = problem.candidates
    cost = np.asarray(problem.rules.cost or [0.0] * len(candidates.sites), dtype=float)
    spent = float(cost[chosen.chosen].sum()) if chosen.chosen else 0.0
    shown = money(budget)
    cheapest = float(cost.min()) if len(cost) else 0.0
    if not chosen.chosen and cheapest > budget:
        return (
            f"Capital budget {shown} (selection.capital_budget) is below the capital of one new"
            f" base, {money(cheapest)} (the smallest, {int(candidates.places[int(cost.argmin())])}"
            " places: costs.capital_per_base + places x costs.capital_per_place): the plan"
            " adds no new base."
        )
    free = choose_set(
        replace(problem, rules=replace(problem.rules, budget=None)), settings=settings, stop=stop
    )
    more = chosen.scorer.harm(chosen.chosen) - free.scorer.harm(free.chosen)
    if by_cost:  # £ thousands a year of placements and transport; the bases' own cost too
        from sitefinder.costs.objective import THOUSAND, base_cost

        def yearly(picked: Sequence[int]) -> float:
            return sum(base_cost(scenario.costs, candidates.places[c]) for c in picked)

        more += (yearly(chosen.chosen) - yearly(free.chosen)) / THOUSAND
    head = (
        f"Capital budget {shown} (selection.capital_budget): the plan's"
        f" {len(chosen.chosen)} new base(s) cost {money(spent)} ({money(budget - spent)} left)."
    )
    mine = {int(candidates.option[c]): c for c in chosen.chosen}
    best = {int(candidates.option[c]): c for c in free.chosen}
    if mine == best:
        return head + " It did not bind: the best plan without it is the same."

    def name(c: int, places: str = "") -> str:
        option = options.iloc[int(candidates.option[c])]
        return (
            f"{names.get(option['urn'], option['urn'])} ({option['phase']},"
            f" {places or int(candidates.places[c])} places, {money(float(cost[c]))})"
        )

    parts = []
    left = [best[o] for o in best if o not in mine]
    if left:
        parts.append("leaves out " + "; ".join(name(c) for c in left))
    cut = [
        name(mine[o], f"{int(candidates.places[best[o]])} -> {int(candidates.places[mine[o]])}")
        for o in best
        if o in mine and candidates.places[mine[o]] != candidates.places[best[o]]
    ]
    if cut:
        parts.append("builds smaller " + "; ".join(cut))
    instead = [mine[o] for o in mine if o not in best]
    if instead:
        parts.append("adds instead " + "; ".join(name(c) for c in instead))
    free_cost = float(cost[free.chosen].sum()) if free.chosen else 0.0
    better = (
        f"cost {money(more * 1000.0)} a year less to run"
        if by_cost
        else f"avert {more:.2f} harm points more"
    )
    return (
        head + f" Without it the best plan would cost {money(free_cost)} and {better}:"
        " within the budget the plan " + "; it ".join(parts) + "."
    )
