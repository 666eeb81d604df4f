"""The stopping rule as one search: every count's selection shares one pool of cuts, and the plan
is the one re-solving each count from scratch gives (brute force, on random small authorities),
with no base in it that fails the rule."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from sitefinder.model.network import DemandRows, Site, solve_network
from sitefinder.model.select import SelectionMethod, SelectionRules, SolverSettings
from sitefinder.plan import stopping
from sitefinder.plan.candidates import Candidates
from sitefinder.plan.stopping import SetProblem, StoppingRule, choose_set

EXACT = SolverSettings(method=SelectionMethod.optimal, rel_gap=1e-9, abs_gap=1e-7)
_MARGIN = 1e-4  # harm points: closer calls than this are left out (either answer is right)


@st.composite
def authorities(draw):
    """Demand rows of one or two classes, one existing base, 3 to 6 candidates (each serving
    one class, some sharing a school), the count asked for, a required base or none, and a
    stopping rule that bites.

    Every harm is nudged by its own irrational fraction of a thousandth, so that no journey
    costs exactly what going without does: where one does, the children who move from no
    place to that place (or back) change nothing, and "newly placed" has no one answer.
    """
    n_rows = draw(st.integers(3, 7))
    klass = np.array(draw(st.lists(st.integers(0, 1), min_size=n_rows, max_size=n_rows)))
    children = draw(st.lists(st.floats(0.2, 6), min_size=n_rows, max_size=n_rows))
    unmet = np.array(draw(st.lists(st.floats(10, 30), min_size=n_rows, max_size=n_rows)))
    unmet += 1e-3 * (np.arange(1, n_rows + 1) * np.sqrt(2) % 1)
    drawn = [0]
    demand = DemandRows(
        np.array(children), klass.astype(np.intp), np.full(n_rows, 45.0), np.array(unmet)
    )

    def base(capacity_most: int) -> Site:
        served = draw(st.integers(0, 1))
        mine = np.flatnonzero(klass == served)
        reached = draw(st.lists(st.booleans(), min_size=len(mine), max_size=len(mine)))
        rows = mine[np.array(reached, dtype=bool)] if len(mine) else mine
        harm = np.array(draw(st.lists(st.floats(0, 25), min_size=len(rows), max_size=len(rows))))
        drawn[0] += len(rows)
        harm += 1e-3 * (np.arange(drawn[0] - len(rows), drawn[0]) * np.sqrt(3) % 1)
        capacity = float(draw(st.integers(1, capacity_most)))
        return Site(capacity, frozenset({served}), rows.astype(np.intp), harm * 3, harm)

    existing = [base(6)]
    sites = [base(8) for _ in range(draw(st.integers(3, 6)))]
    n = len(sites)
    schools = draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n))
    k = draw(st.integers(1, min(4, len(set(schools)))))
    required = draw(st.sets(st.integers(0, n - 1), max_size=1))
    rule = StoppingRule(
        min_children=draw(st.one_of(st.none(), st.floats(1, 8))),
        min_harm_averted=draw(st.floats(5, 150)),
    )
    return demand, existing, sites, schools, k, sorted(required), rule


def _harm(demand, existing, sites, chosen) -> tuple[float, float]:
    solution = solve_network(demand, [*existing, *(sites[c] for c in chosen)])
    return solution.objective, float(solution.unmet.sum())


def _per_count(demand, existing, sites, schools, k, required, rule):
    """Today's rule done the long way: the best set of each count by brute force, one base
    fewer while one fails. Returns the plan and the stopped (count, candidate) pairs, or None
    when a call is too close for the answer to be one (a tie, a threshold met to 1e-4)."""
    stopped: list[tuple[int, int]] = []
    while True:
        feasible = [
            s
            for s in combinations(range(len(sites)), k)
            if set(required) <= set(s) and len({schools[c] for c in s}) == k
        ]
        if not feasible:
            return None
        scored = sorted((_harm(demand, existing, sites, s)[0], s) for s in feasible)
        if len(scored) > 1 and scored[1][0] - scored[0][0] < _MARGIN:
            return None
        harm, chosen = scored[0]
        unmet = _harm(demand, existing, sites, chosen)[1]
        failing = []
        for c in chosen:
            if c in required:
                continue
            without = _harm(demand, existing, sites, [o for o in chosen if o != c])
            averted, placed = without[0] - harm, without[1] - unmet
            places = sites[c].capacity
            for value, line in ((averted, rule.min_harm_averted), (averted, 0.0),
                                (placed, rule.children_needed(places))):  # fmt: skip
                if abs(value - line) < _MARGIN:
                    return None
            if not rule.passes(newly_placed=placed, harm_averted=averted, places=places):
                failing.append((averted, placed, c))
        if not failing:
            return sorted(chosen), stopped
        averts = sorted(f[0] for f in failing)
        if len(averts) > 1 and averts[1] - averts[0] < _MARGIN:
            return None
        weakest = min(failing)[2]
        stopped.append((k, weakest))
        k -= 1


def _problem(demand, existing, sites, schools, k, required) -> SetProblem:
    n = len(sites)
    candidates = Candidates(
        sites, np.arange(n), np.array([int(s.capacity) for s in sites]), schools, ["x"] * n
    )
    return SetProblem(
        demand, existing, candidates, SelectionRules(k=k, required=required, locations=schools)
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(instance=authorities())
def test_one_search_gives_the_plan_of_re_solving_every_count(instance):
    demand, existing, sites, schools, k, required, rule = instance
    expected = _per_count(demand, existing, sites, schools, k, required, rule)
    assume(expected is not None)
    event(f"{len(expected[1])} stopped")
    chosen = choose_set(
        _problem(demand, existing, sites, schools, k, required), settings=EXACT, stop=rule
    )
    assert (sorted(chosen.chosen), [(s.bases, s.candidate) for s in chosen.stopped]) == expected
    # Every base of the plan passes the rule, valued afresh.
    harm, unmet = _harm(demand, existing, sites, chosen.chosen)
    for c in chosen.chosen:
        if c in required:
            continue
        without = _harm(demand, existing, sites, [o for o in chosen.chosen if o != c])
        assert rule.passes(
            newly_placed=without[1] - unmet, harm_averted=without[0] - harm,
            places=sites[c].capacity,
        )  # fmt: skip


def test_every_count_searches_with_the_same_pool_of_cuts(monkeypatch):
    # Three bases, each placing 2 children of one area that has 6 and no room today: the rule
    # (10 harm points) stops the third (it places the last 2, averting 2 x 10 - journeys) ...
    demand = DemandRows(np.array([6.0]), np.zeros(1, np.intp), np.full(1, 45.0), np.full(1, 10.0))
    existing = [Site(1.0, frozenset({0}), np.zeros(0, np.intp), np.zeros(0), np.zeros(0))]

    def base(harm: float) -> Site:
        return Site(
            2.0, frozenset({0}), np.zeros(1, np.intp), np.array([3 * harm]), np.array([harm])
        )

    sites = [base(1.0), base(2.0), base(6.0)]  # averting 18, 16 and 8 harm points
    pools = []
    original = stopping.select_sites

    def recorded(*args, **kwargs):
        pools.append(kwargs["cuts"])
        return original(*args, **kwargs)

    monkeypatch.setattr(stopping, "select_sites", recorded)
    rule = StoppingRule(min_children=5.0, min_harm_averted=10.0)
    chosen = choose_set(
        _problem(demand, existing, sites, [0, 1, 2], 3, []), settings=EXACT, stop=rule
    )
    assert sorted(chosen.chosen) == [0, 1]
    assert [(s.bases, s.candidate) for s in chosen.stopped] == [(3, 2)]
    assert (chosen.stopped[0].harm_averted, chosen.stopped[0].newly_placed) == pytest.approx((8, 2))
    # ... and the search with two bases started from the cuts the search with three found.
    assert len(pools) == 2 and pools[0] is pools[1] and len(pools[1].cuts) >= 2


@settings(max_examples=30, deadline=None)
@given(instance=authorities(), occupancy=st.floats(0.3, 1.0), least=st.floats(0.5, 5))
def test_no_base_of_the_plan_fails_the_rule_or_its_occupancy(instance, occupancy, least):
    """With a minimum occupancy too, every base the plan keeps passes the rule (valued afresh)
    and is filled to the occupancy by the set's own optimum; every base the rule kept out on
    occupancy is out of the plan."""
    demand, existing, sites, schools, k, required, rule = instance
    rule = StoppingRule(rule.min_children, least, occupancy)  # passing more: occupancy bites
    chosen = choose_set(
        _problem(demand, existing, sites, schools, k, required), settings=EXACT, stop=rule
    )
    harm, unmet = _harm(demand, existing, sites, chosen.chosen)
    assert harm == pytest.approx(chosen.selection.objective, abs=1e-6)
    served = stopping._served(chosen.scorer, chosen.chosen)
    for c in chosen.chosen:
        if c in required:
            continue
        without = _harm(demand, existing, sites, [o for o in chosen.chosen if o != c])
        averted, placed = without[0] - harm, without[1] - unmet
        assume(abs(averted - rule.min_harm_averted) > _MARGIN and averted > _MARGIN)
        assume(abs(placed - rule.children_needed(sites[c].capacity)) > _MARGIN)
        assert rule.passes(newly_placed=placed, harm_averted=averted, places=sites[c].capacity)
        assert rule.fills(served=served[c], places=sites[c].capacity)
    emptier = {s.candidate for s in chosen.stopped if s.reason == "occupancy"}
    event(f"{len(emptier)} kept out on occupancy, {chosen.unfillable} from the start")
    assert not emptier & set(chosen.chosen)


def test_a_base_its_children_would_leave_empty_is_kept_out_whatever_harm_it_averts():
    # 12 children, no place today (25 harm points each). A (10 places, 1 point a journey) and
    # B (10 places, 2 points) both reach them: together A takes 10 and B 2, averting 46 harm
    # points, far above the rule's 1, but filling 20% of its places, under 80%: out, and the
    # plan is A alone (no other school left to host a second base).
    demand = DemandRows(np.array([12.0]), np.zeros(1, np.intp), np.full(1, 45.0), np.full(1, 25.0))
    row = np.zeros(1, np.intp)
    a = Site(10.0, frozenset({0}), row, np.array([3.0]), np.array([1.0]))
    b = Site(10.0, frozenset({0}), row, np.array([6.0]), np.array([2.0]))
    rule = StoppingRule(min_harm_averted=1.0, min_occupancy=0.8)
    chosen = choose_set(_problem(demand, [], [a, b], [0, 1], 2, []), settings=EXACT, stop=rule)
    assert chosen.chosen == [0]
    (out,) = chosen.stopped
    assert (out.bases, out.candidate, out.reason) == (2, 1, "occupancy")
    assert (out.served, out.harm_averted) == pytest.approx((2.0, 46.0))
    assert chosen.selection.objective == pytest.approx(10 * 1.0 + 2 * 25.0)
