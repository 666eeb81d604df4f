import numpy as np
import pytest
from networks import demand_rows

from sitefinder.model.local import LocalNetwork
from sitefinder.model.network import Site, solve_network


def _site(capacity, rows, harm):
    harm = np.asarray(harm, dtype=float)
    return Site(float(capacity), frozenset({0}), np.asarray(rows, dtype=np.intp), harm * 10, harm)


def test_a_chain_of_moves_is_followed_to_its_end():
    # Four children in a line of areas; bases A, B, C each take one child of two neighbours.
    # Today A-r0, B-r1, C-r2 at no harm and r3 has no place (25). A new base at r0 lets every
    # child shift one base along: A-r1, B-r2, C-r3 at 1 point each, total 3.
    demand = demand_rows([1, 1, 1, 1], [0, 0, 0, 0])
    network = LocalNetwork(
        demand,
        [_site(1, [0, 1], [0, 1]), _site(1, [1, 2], [0, 1]), _site(1, [2, 3], [0, 1])],
    )
    assert network.objective == pytest.approx(25)
    trial = network.trial(_site(1, [0], [0]))
    assert trial.gain == pytest.approx(22)
    assert trial.solves > 1  # the first neighbourhood ({r0}, {A}) is not enough
    assert trial.rows.tolist() == [0, 1, 2, 3]
    assert network.objective == pytest.approx(25)  # a trial changes nothing


def test_a_trial_that_moves_nobody_is_certified_in_its_own_neighbourhood():
    # Two separate towns; a base in town 2 cannot change anything in town 1.
    demand = demand_rows([4, 4, 4, 4], [0, 0, 0, 0])
    network = LocalNetwork(demand, [_site(4, [0, 1], [0, 1]), _site(4, [2, 3], [0, 1])])
    trial = network.trial(_site(4, [3], [0.5]))
    assert trial.solves == 1
    assert trial.rows.tolist() == [3]
    assert trial.gain == pytest.approx(4 * (25 - 0.5))


def _random_network(rng, *, n_rows=120, n_sites=15, n_options=25, classes=3):
    xy = rng.uniform(0, 100, (n_rows, 2))
    klass = rng.integers(0, classes, n_rows)
    demand = demand_rows(rng.integers(0, 4, n_rows), klass)

    def site():
        at, c = rng.uniform(0, 100, 2), int(rng.integers(0, classes))
        distance = np.hypot(*(xy - at).T)
        rows = np.flatnonzero((distance < 30) & (klass == c))
        harm = np.maximum(0.0, distance[rows] - 12) ** 1.5 / 20  # many pairs cost nothing
        return Site(float(rng.integers(2, 12)), frozenset({c}), rows, distance[rows], harm)

    return demand, [site() for _ in range(n_sites)], [site() for _ in range(n_options)]


@pytest.mark.parametrize("seed", range(8))
def test_trials_equal_full_resolves_as_bases_open(seed):
    rng = np.random.default_rng(seed)
    demand, existing, options = _random_network(rng)
    network = LocalNetwork(demand, existing)
    opened = list(existing)
    for _ in range(3):
        current = solve_network(demand, opened).objective
        assert network.objective == pytest.approx(current, abs=1e-6)
        gains = []
        for option in options:
            full = current - solve_network(demand, [*opened, option]).objective
            gains.append(network.trial(option).gain)
            assert gains[-1] == pytest.approx(full, abs=1e-6)
        best = options.pop(int(np.argmax(gains)))
        before, after = network.solutions(best, network.trial(best))
        assert before.objective - after.objective == pytest.approx(max(gains), abs=1e-6)
        network.open(best, network.trial(best))
        opened.append(best)


@pytest.mark.parametrize("seed", range(6))
def test_reach_and_rows_of_are_the_distinct_indices_whether_few_or_many(seed):
    # A special school reaches a whole authority: its pairs are counted by a mask, a base's
    # few by hashing; either way the sorted distinct indices, as np.unique gives them.
    rng = np.random.default_rng(seed)
    demand, existing, _ = _random_network(rng, n_rows=60, n_sites=8)
    everywhere = np.arange(60)
    minutes = everywhere.astype(np.float64)
    existing.append(Site(40.0, frozenset({0, 1, 2}), everywhere, minutes, minutes / 60))
    existing.append(Site(1.0, frozenset({0}), np.array([7, 5]), np.ones(2), np.ones(2)))
    network = LocalNetwork(demand, existing)
    pair_row = np.concatenate([s.rows for s in existing])
    pair_site = np.repeat(np.arange(len(existing)), [len(s.rows) for s in existing])
    for rows in (np.array([3]), rng.choice(60, 5, replace=False), everywhere):
        sites = network.reach(rows)
        assert sites.tolist() == np.unique(pair_site[np.isin(pair_row, rows)]).tolist()
        served = network.rows_of(sites)
        assert served.tolist() == np.unique(pair_row[np.isin(pair_site, sites)]).tolist()
        assert network.around(rows) == len(np.union1d(rows, served))
    assert network.rows_of(np.array([len(existing) - 1])).tolist() == [5, 7]  # by hashing
