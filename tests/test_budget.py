"""A capital budget inside the selection: exact against brute force, and monotone."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_select import brute_force, check_feasible, random_case

from sitefinder.model.select import SelectionMethod, SelectionRules, SolverSettings, select_sites

OPTIMAL = SolverSettings(method=SelectionMethod.optimal, time_limit=20)
GREEDY = SolverSettings(method=SelectionMethod.greedy)


def _case(seed):
    rng = np.random.default_rng(seed)
    demand, existing, candidates = random_case(rng, n_cand=7)
    cost = [float(c) for c in rng.integers(1, 6, size=len(candidates)) * 100_000]
    return rng, demand, existing, candidates, cost


@pytest.mark.parametrize("seed", range(10))
def test_budget_is_exact_against_brute_force(seed):
    rng, demand, existing, candidates, cost = _case(seed)
    k = int(rng.integers(1, 4))
    budget = float(rng.integers(1, 12)) * 100_000
    locations = [j // 2 for j in range(len(candidates))]  # pairs: two sizes of one base

    def ok(subset):
        chosen_locations = [locations[j] for j in subset]
        return (
            len(subset) <= k
            and sum(cost[j] for j in subset) <= budget
            and len(set(chosen_locations)) == len(chosen_locations)
        )

    exact = brute_force(demand, existing, candidates, ok)
    rules = SelectionRules(k=k, cost=cost, budget=budget, locations=locations)
    best = select_sites(demand, existing, candidates, rules, settings=OPTIMAL)
    assert best.proven
    assert best.objective == pytest.approx(exact, abs=1e-6)
    assert sum(cost[j] for j in best.chosen) <= budget
    assert len(best.chosen) <= k
    check_feasible(best, demand, existing, candidates)
    greedy = select_sites(demand, existing, candidates, rules, settings=GREEDY)
    assert sum(cost[j] for j in greedy.chosen) <= budget
    assert len(greedy.chosen) <= k
    assert greedy.objective >= best.objective - 1e-6


def test_budget_below_every_base_opens_none():
    _, demand, existing, candidates, cost = _case(3)
    rules = SelectionRules(k=2, cost=cost, budget=min(cost) - 1.0)
    best = select_sites(demand, existing, candidates, rules, settings=OPTIMAL)
    assert len(best.chosen) == 0


def test_required_beyond_the_budget_is_refused():
    _, demand, existing, candidates, cost = _case(4)
    rules = SelectionRules(k=2, cost=cost, budget=cost[0] - 1.0, required=[0])
    with pytest.raises(ValueError, match="cost more than the budget"):
        select_sites(demand, existing, candidates, rules, settings=OPTIMAL)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    low=st.integers(0, 15),
    more=st.integers(0, 10),
)
def test_a_larger_budget_never_gives_a_worse_plan(seed, low, more):
    _, demand, existing, candidates, cost = _case(seed)
    harm = []
    for budget in (low * 50_000.0, (low + more) * 50_000.0):
        rules = SelectionRules(k=3, cost=cost, budget=budget)
        chosen = select_sites(demand, existing, candidates, rules, settings=OPTIMAL)
        assert chosen.proven
        harm.append(chosen.objective)
    assert harm[1] <= harm[0] + 1e-6
