from itertools import combinations

import numpy as np
import pytest

from sitefinder.model.assign import Pairs, solve_transport
from sitefinder.model.network import DemandRows, Site
from sitefinder.model.select import (
    SelectionMethod,
    SelectionRules,
    SolverSettings,
    interchange,
    select_sites,
)

OPTIMAL = SolverSettings(method=SelectionMethod.optimal)
GREEDY = SolverSettings(method=SelectionMethod.greedy)


def make_site(rows, harm, capacity, classes=(0,)):
    rows = np.asarray(rows, dtype=np.intp)
    harm = np.asarray(harm, dtype=float)
    return Site(float(capacity), frozenset(classes), rows, harm * 3.0, harm)


def random_case(rng, n_rows=6, n_existing=1, n_cand=7):
    children = rng.integers(1, 9, size=n_rows).astype(float)
    klass = rng.integers(0, 2, size=n_rows).astype(np.intp)
    demand = DemandRows(
        children, klass, np.full(n_rows, 45.0), rng.integers(20, 40, size=n_rows).astype(float)
    )

    def site():
        served = int(rng.integers(0, 2))
        # pairs within the cutoff: a random subset of the rows of the served class
        rows = np.flatnonzero((klass == served) & (rng.random(n_rows) < 0.7))
        harm = rng.integers(0, 25, size=len(rows))
        return make_site(rows, harm, rng.integers(2, 12), classes=(served,))

    return demand, [site() for _ in range(n_existing)], [site() for _ in range(n_cand)]


def harm_of(demand, sites):
    rows = np.concatenate([s.rows for s in sites]) if sites else np.zeros(0, np.intp)
    cols = np.concatenate([np.full(len(s.rows), i) for i, s in enumerate(sites)]) if sites else rows
    harm = np.concatenate([s.harm for s in sites]) if sites else np.zeros(0)
    capacity = np.array([s.capacity for s in sites])
    return solve_transport(
        demand.children, capacity, Pairs(rows, cols.astype(np.intp), harm), demand.unmet_harm
    ).objective


def brute_force(demand, existing, candidates, ok):
    """Least harm over every subset accepted by ``ok`` (sizes 0..n)."""
    best = np.inf
    n = len(candidates)
    for size in range(n + 1):
        for subset in combinations(range(n), size):
            if ok(set(subset)):
                value = harm_of(demand, [*existing, *(candidates[j] for j in subset)])
                best = min(best, value)
    return best


def check_feasible(selection, demand, existing, candidates):
    n_ex = len(existing)
    sites = [*existing, *candidates]
    placed = np.bincount(selection.pair_row, weights=selection.flow, minlength=len(demand))
    assert placed + selection.unmet == pytest.approx(demand.children)
    assert (selection.flow >= -1e-9).all()
    load = np.bincount(selection.pair_site, weights=selection.flow, minlength=len(sites))
    capacity = np.array([s.capacity for s in sites])
    assert (load <= capacity + 1e-7).all()
    open_sites = set(selection.pair_site.tolist())
    # only existing and chosen sites carry pairs, and every existing site with pairs is open
    assert open_sites <= set(range(n_ex)) | {n_ex + int(j) for j in selection.chosen}
    for i, s in enumerate(existing):
        if len(s.rows):
            assert i in open_sites


@pytest.mark.parametrize("seed", range(12))
def test_optimal_matches_brute_force_over_k_subsets(seed):
    rng = np.random.default_rng(seed)
    demand, existing, candidates = random_case(rng)
    k = int(rng.integers(1, 4))
    exact = brute_force(demand, existing, candidates, lambda s: len(s) == k)
    best = select_sites(
        demand,
        existing,
        candidates,
        SelectionRules(k=k),
        settings=SolverSettings(method=SelectionMethod.optimal, time_limit=20),
    )
    assert best.proven
    assert best.gap == 0.0
    assert best.objective == pytest.approx(exact, abs=1e-6)
    assert len(best.chosen) == k
    check_feasible(best, demand, existing, candidates)
    greedy = select_sites(demand, existing, candidates, SelectionRules(k=k), settings=GREEDY)
    assert greedy.objective >= best.objective - 1e-6
    assert len(greedy.chosen) == k
    check_feasible(greedy, demand, existing, candidates)


@pytest.mark.parametrize("seed", range(8))
def test_required_excluded_groups_and_locations(seed):
    rng = np.random.default_rng(100 + seed)
    demand, existing, candidates = random_case(rng, n_rows=5, n_cand=8)
    groups = ["primary" if j % 2 else "secondary" for j in range(8)]
    per_group = {"primary": 2, "secondary": 1}
    locations = [j // 2 if j < 4 else j for j in range(8)]  # 0/1 and 2/3 are alternatives
    required, excluded = [5], [6]

    def ok(subset):
        if 5 not in subset or 6 in subset:
            return False
        if sum(groups[j] == "primary" for j in subset) != 2:
            return False
        if sum(groups[j] == "secondary" for j in subset) != 1:
            return False
        used = [locations[j] for j in subset]
        return len(used) == len(set(used))

    exact = brute_force(demand, existing, candidates, ok)
    rules = SelectionRules(
        counts=per_group,
        groups=groups,
        required=required,
        excluded=excluded,
        locations=locations,
    )
    best = select_sites(demand, existing, candidates, rules, settings=OPTIMAL)
    assert best.objective == pytest.approx(exact, abs=1e-6)
    assert best.proven
    for selection in (best, interchange(demand, existing, candidates, rules)):
        chosen = set(selection.chosen.tolist())
        assert ok(chosen)
        check_feasible(selection, demand, existing, candidates)
        assert selection.objective >= exact - 1e-6


def test_hand_solved_capacity_beats_nearest():
    # Rows: 6 children (harm 1 at A, 2 at B), 4 children (harm 1 at B only); unmet costs 10.
    # A alone: 6 + 4*10 = 46; B (cap 10) alone: 12 + 4 = 16; k=1 must pick B.
    demand = DemandRows(
        np.array([6.0, 4.0]), np.zeros(2, np.intp), np.full(2, 45.0), np.full(2, 10.0)
    )
    a = make_site([0], [1.0], 10)
    b = make_site([0, 1], [2.0, 1.0], 10)
    result = select_sites(demand, [], [a, b], SelectionRules(k=1), settings=OPTIMAL)
    assert result.chosen.tolist() == [1]
    assert result.objective == pytest.approx(16.0)
    assert result.unmet == pytest.approx([0.0, 0.0])
    both = select_sites(demand, [], [a, b], SelectionRules(k=2))
    assert both.objective == pytest.approx(10.0)


@pytest.mark.parametrize("seed", range(4))
def test_the_best_single_base_is_the_lowest_of_tied_copies(seed):
    # One base asked for: every candidate tried best bound first (the eased bound only for
    # those about to be tried), the best by brute force, ties to the lowest index.
    rng = np.random.default_rng(700 + seed)
    demand, existing, candidates = random_case(rng, n_rows=8, n_cand=6)
    scores = [
        solve_transport(
            demand.children, np.array([s.capacity for s in [*existing, c]]),
            Pairs(
                np.concatenate([s.rows for s in [*existing, c]]),
                np.repeat([0, 1], [len(existing[0].rows), len(c.rows)]),
                np.concatenate([s.harm for s in [*existing, c]]),
            ),
            demand.unmet_harm,
        ).objective
        for c in candidates
    ]  # fmt: skip
    best = int(np.argmin(scores))
    order = [j for j in range(len(candidates)) if j != best]
    shuffled = [*order[:2], best, *order[2:], best]  # the best twice: at 2 and at the end
    result = select_sites(
        demand, existing, [candidates[j] for j in shuffled], SelectionRules(k=1),
        settings=OPTIMAL,
    )  # fmt: skip
    assert result.chosen.tolist() == [2]
    assert result.objective == pytest.approx(min(scores), abs=1e-7)


def test_existing_sites_stay_open_and_count_nothing():
    demand = DemandRows(np.array([5.0]), np.zeros(1, np.intp), np.full(1, 45.0), np.full(1, 10.0))
    existing = [make_site([0], [1.0], 3)]
    candidates = [make_site([0], [2.0], 5), make_site([0], [4.0], 5)]
    result = select_sites(demand, existing, candidates, SelectionRules(k=1))
    assert result.method == "optimal"
    assert result.chosen.tolist() == [0]
    # 3 children at the existing base (1 each), 2 at candidate 0 (2 each)
    assert result.objective == pytest.approx(7.0)
    assert 0 in result.pair_site.tolist()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "give exactly one of k and counts"),
        ({"k": 1, "counts": {"a": 1}, "groups": ["a", "a"]}, "give exactly one of k and counts"),
        ({"counts": {"a": 1}}, "counts needs one group label per candidate"),
        ({"counts": {"a": 1}, "groups": ["a", "b"]}, r"groups without a count: \['b'\]"),
        ({"k": 1, "required": [0], "excluded": [0]}, "both required and excluded"),
        ({"k": 1, "required": [0, 1]}, "more required candidates than sites"),
        ({"k": 3}, "only 2 openable candidates for a count of 3"),
        ({"k": 2, "locations": ["x", "x"]}, "only 1 openable candidates for a count of 2"),
    ],
)
def test_rejects_contradictory_rules(options, message):
    demand = DemandRows(np.array([5.0]), np.zeros(1, np.intp), np.full(1, 45.0), np.full(1, 10.0))
    candidates = [make_site([0], [2.0], 5), make_site([0], [4.0], 5)]
    with pytest.raises(ValueError, match=message):
        select_sites(demand, [], candidates, SelectionRules(**options))
