"""A large LP's first solve from the greedy assignment: feasible, and the same optimum."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import demand_rows, random_networks, site

from sitefinder.model import warm as warm_module
from sitefinder.model.first_solve import greedy_assignment
from sitefinder.model.network import solve_network
from sitefinder.model.warm import WarmTransport


def test_the_pairs_that_avert_most_fill_first():
    # Rows of 3 and 2 children (25 harm points each unplaced); base 0 has 2 places, base 1 has
    # 4. Savings per child: (row 0, base 0) 24, (row 1, base 0) 23, (row 0, base 1) 15,
    # (row 1, base 1) 5; (row 1, base 1) at 30 would avert nothing.
    unmet, flow = greedy_assignment(
        np.array([3.0, 2.0]),
        np.array([25.0, 25.0]),
        np.array([2.0, 4.0]),
        np.array([0, 1, 0, 1, 1]),
        np.array([0, 0, 1, 1, 1]),
        np.array([1.0, 2.0, 10.0, 20.0, 30.0]),
    )
    # Base 0's 2 places to row 0; row 0's third child to base 1; row 1's 2 to base 1 at 20.
    assert flow.tolist() == [2.0, 0.0, 1.0, 2.0, 0.0]
    assert unmet.tolist() == [0.0, 0.0]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.data())
def test_the_greedy_assignment_is_feasible(data):
    rows = data.draw(st.integers(1, 8))
    sites = data.draw(st.integers(1, 4))
    pairs = data.draw(st.integers(0, 20))
    children = np.array(data.draw(st.lists(st.floats(0, 5), min_size=rows, max_size=rows)))
    unmet_harm = np.array(data.draw(st.lists(st.floats(1, 30), min_size=rows, max_size=rows)))
    capacity = np.array(data.draw(st.lists(st.floats(0, 6), min_size=sites, max_size=sites)))
    pair_row = np.array(
        data.draw(st.lists(st.integers(0, rows - 1), min_size=pairs, max_size=pairs)),
        dtype=np.int64,
    )
    pair_site = np.array(
        data.draw(st.lists(st.integers(0, sites - 1), min_size=pairs, max_size=pairs)),
        dtype=np.int64,
    )
    cost = np.array(data.draw(st.lists(st.floats(0, 40), min_size=pairs, max_size=pairs)))
    unmet, flow = greedy_assignment(children, unmet_harm, capacity, pair_row, pair_site, cost)
    assert (flow >= 0).all() and (unmet >= -1e-12).all()
    placed = np.bincount(pair_row, weights=flow, minlength=rows)
    assert placed + unmet == pytest.approx(children)
    load = np.bincount(pair_site, weights=flow, minlength=sites)
    assert (load <= capacity + 1e-9).all()
    assert (flow[cost >= unmet_harm[pair_row]] == 0).all()  # a pair averting nothing stays empty


def _networks():
    return random_networks(
        rows=(1, 12), classes=2, children=st.integers(0, 9), minutes=st.floats(5, 300),
        existing=4, options=1,
    )  # fmt: skip


@settings(max_examples=60, deadline=None, derandomize=True)
@given(instance=_networks())
def test_a_large_lp_started_from_the_greedy_assignment_reaches_the_optimum(instance):
    demand, existing, _ = instance
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(warm_module, "_LARGE_ROWS", 0)  # every LP large: started greedily
        model = WarmTransport(demand, existing, np.arange(len(demand)))
    assert model.objective == pytest.approx(solve_network(demand, existing).objective, abs=1e-7)


def test_the_greedy_start_leaves_fewer_pivots_on_a_crowded_town(monkeypatch):
    # 400 rows of 0.1-2 children, twelve bases of 10-20 places each reaching the rows within
    # 60: the solve from the greedy assignment needs fewer simplex iterations.
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 100, (400, 2))
    demand = demand_rows(rng.uniform(0.1, 2, 400).round(2).tolist(), [0] * 400)

    def base():
        d = np.hypot(*(xy - rng.uniform(0, 100, 2)).T)
        rows = np.flatnonzero(d < 60)
        return site(int(rng.integers(10, 20)), {0}, rows, d[rows] * 2 + 5)

    existing = [base() for _ in range(12)]
    plain = WarmTransport(demand, existing, np.arange(400))  # under 2,000 rows: from nothing
    monkeypatch.setattr(warm_module, "_LARGE_ROWS", 0)
    started = WarmTransport(demand, existing, np.arange(400))
    assert started.objective == pytest.approx(plain.objective, abs=1e-7)
    iterations = [m._highs.getInfo().simplex_iteration_count for m in (started, plain)]
    assert iterations[0] < iterations[1]
