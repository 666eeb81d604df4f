"""Cost as the plan's objective (``selection.objective = "cost"``): the same facility-location
model on a cost matrix instead of the harm matrix.

Every child's placement is priced a year, in £ thousands (the model's unit here, so that its
figures are of the size harm's are):

- in a base (today's or a new one): transport, ``costs.transport_per_child`` +
  ``costs.transport_per_minute`` x the one-way journey minutes (a base place's revenue is paid
  whether or not it is filled, so it is a cost of opening the base, not of the child);
- in a special school's place (or a base across the border): what that kind of place costs a
  year (``costs.special_place``, ``independent_place``, ``non_maintained_place``,
  ``base_cross_border_place``) + the transport of that journey;
- out of authority: ``costs.out_of_authority_place`` + the transport of the out-of-authority
  journey (under ``fallback.method = "flat"`` a child without a base place has neither: 0).

A new base of ``p`` places costs, each year, its capital annuitised over the appraisal period
(``(costs.capital_per_base + p x costs.capital_per_place)`` / the annuity factor of
``costs.discount_rate`` over ``costs.appraisal_years``) + ``p x costs.revenue_per_place``.
With one base size that is the same sum for every set of as many bases, so the selection that
minimises the assignment's cost over sets of ``k`` bases (the same exact MIP, Benders search
or greedy the harm objective uses) minimises the net annual cost of ``k`` bases; the stopping
rule then asks each base to save at least what it costs a year (:class:`CostRule`), so the
plan's net annual cost to the authority is the assignment's cost + the new bases' yearly
cost. Which special schools are a row's last resort stays as the harm model folded them
(:func:`sitefinder.fallback.fold`): a child's options are the same under either objective,
only their prices differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sitefinder.columns import money
from sitefinder.costs.case import annuity_factor
from sitefinder.model.network import DemandRows, Site
from sitefinder.plan.stopping import ChosenSet, SetProblem, StoppingRule

if TYPE_CHECKING:
    import pandas as pd

    from sitefinder.config import Costs, Scenario
    from sitefinder.instance import Instance
    from sitefinder.model.scoring import SetScorer
    from sitefinder.plan.candidates import Candidates

THOUSAND = 1000.0
"""The cost model's unit: £ thousands a year."""


def base_cost(costs: Costs, places: float) -> float:
    """What a new base of ``places`` places costs a year (£): its capital annuitised over the
    appraisal period at the discount rate, plus its places' revenue."""
    capital = costs.capital_per_base + float(places) * costs.capital_per_place
    return capital / annuity_factor(costs.discount_rate, costs.appraisal_years) + float(
        places
    ) * float(costs.revenue_per_place)


def _transport(costs: Costs, minutes: NDArray[np.float64]) -> NDArray[np.float64]:
    return costs.transport_per_child + costs.transport_per_minute * np.asarray(minutes, float)


@dataclass(frozen=True, slots=True)
class CostRule(StoppingRule):
    """The stopping rule of the cost objective: a new base enters only if the placements and
    journeys it changes save at least what it costs a year (:func:`base_cost`, in £ thousands
    here, the unit of ``harm_averted`` on the cost matrix), and its children fill
    ``min_occupancy`` of its places."""

    costs: Costs | None = None

    def passes(self, *, newly_placed: float, harm_averted: float, places: float) -> bool:
        """Whether a base saving ``harm_averted`` (£ thousands a year) pays its own way."""
        assert self.costs is not None
        return harm_averted > 1e-9 and harm_averted >= base_cost(self.costs, places) / THOUSAND

    def describe(self, places: float, threshold: int) -> str:
        """The rule in words, after "a new base must"."""
        assert self.costs is not None
        return (
            f"save at least what it costs a year, £{base_cost(self.costs, places):,.0f} for"
            f" {places:g} places (capital annuitised + revenue), in placements and transport"
        )


def row_costs(costs: Costs, instance: Instance, demand: DemandRows) -> NDArray[np.float64]:
    """Each row's cost a child a year without a base place, at its last resort (£ thousands)."""
    far = instance.fallback
    if far.method == "flat":
        return np.zeros(len(demand))
    used = instance.special.used
    kinds = used["kind"].to_numpy(dtype=object) if len(used) else np.zeros(0, dtype=object)
    place = np.array(
        [
            costs.place_cost(str(kinds[s])) if s >= 0 else costs.out_of_authority_place
            for s in far.destination
        ],
        dtype=float,
    )
    return (place + _transport(costs, far.minutes)) / THOUSAND


def priced(costs: Costs, instance: Instance, site: Site) -> Site:
    """``site`` with its harm per child replaced by its cost per child a year (£ thousands)."""
    transport = _transport(costs, site.minutes)
    if not site.fallback:
        return replace(site, harm=transport / THOUSAND, mismatch=None)
    at = [i for i, s in enumerate(instance.places.sites) if s is site]
    kind = str(instance.special.used["kind"].iloc[int(instance.places.school[at[0]])])
    cost = (costs.place_cost(kind) + transport) / THOUSAND
    return replace(site, harm=cost, extra=0.0, mismatch=np.zeros(len(site.rows)))


def cost_problem(
    problem: SetProblem, scenario: Scenario, instance: Instance
) -> tuple[SetProblem, CostRule]:
    """The set problem on the cost matrix and its stopping rule.

    Parameters
    ----------
    problem
        The set problem on harm (its demand, today's sites, candidates, rules and start).
    scenario
        ``costs`` (the prices) and ``selection`` (the occupancy).
    instance
        The model instance (each row's last resort and each special school's kind).

    Returns
    -------
    tuple
        The same problem with every price a year in £ thousands (no warm LPs of today's
        network: those are harm's), and :class:`CostRule`.
    """
    costs = scenario.costs
    unmet = row_costs(costs, instance, problem.demand)
    demand = replace(problem.demand, unmet_harm=unmet, mismatch_harm=None)
    candidates = replace(
        problem.candidates, sites=[priced(costs, instance, s) for s in problem.candidates.sites]
    )
    existing: Sequence[Site] = [priced(costs, instance, s) for s in problem.existing]
    rule = CostRule(
        min_children=None,
        min_harm_averted=0.0,
        min_occupancy=scenario.selection.min_occupancy,
        costs=costs,
    )
    shaped = replace(problem, demand=demand, existing=existing, candidates=candidates, today=None)
    return shaped, rule


def net_cost(costs: Costs, chosen: ChosenSet, picked: Sequence[int]) -> float:
    """The net annual cost to the authority with ``picked`` open (£ a year): every child's
    placement and transport on ``chosen``'s cost matrix + each new base's yearly cost."""
    places = chosen.scorer.candidates
    fixed = sum(base_cost(costs, places[c].capacity) for c in picked)
    return chosen.scorer.harm(list(picked)) * THOUSAND + fixed


def objective_note(
    scenario: Scenario,
    *,
    harm_set: ChosenSet,
    cost_set: ChosenSet,
    harm_scorer: SetScorer,
    candidates: Candidates,
    options: pd.DataFrame,
    names: pd.Series,
) -> str:
    """The cost objective's plan beside the harm objective's, in one sentence or two.

    Parameters
    ----------
    scenario
        The run's scenario (its ``costs``).
    harm_set, cost_set
        The sets chosen on harm and on cost (``cost_set``'s scorer prices the cost matrix).
    harm_scorer
        Harm of any set of the candidates.
    candidates, options, names
        The candidates, the options table (``urn, phase``) and school names by URN.
    """
    costs = scenario.costs

    def named(picked: Sequence[int]) -> str:
        if not picked:
            return "no new base"
        return "; ".join(
            f"{names.get(options.iloc[int(candidates.option[c])]['urn'], '')}"
            f" ({options.iloc[int(candidates.option[c])]['phase']},"
            f" {int(candidates.places[c])} places)"
            for c in picked
        )

    mine, theirs = sorted(cost_set.chosen), sorted(harm_set.chosen)
    cost_mine, cost_theirs = net_cost(costs, cost_set, mine), net_cost(costs, cost_set, theirs)
    harm_mine, harm_theirs = harm_scorer.harm(mine), harm_scorer.harm(theirs)
    head = (
        'Objective (selection.objective = "cost"): the plan minimises the net annual cost to'
        " the authority (placements and transport of every child, and each new base's capital"
        f" annuitised over {costs.appraisal_years} years at {costs.discount_rate:.1%} with its"
        f" places' revenue), £{cost_mine:,.0f} a year with {named(mine)}; harm"
        f" {harm_mine:.2f} harm points."
    )
    if mine == theirs:
        return head + " The harm objective chooses the same bases."
    return head + (
        f" The harm objective would choose {named(theirs)}: harm {harm_theirs:.2f} harm points"
        f" ({harm_mine - harm_theirs:+.2f} with this plan) at £{cost_theirs:,.0f} a year"
        f" ({money(cost_mine - cost_theirs, sign=True)} a year with this plan)."
    )
