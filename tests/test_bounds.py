"""Bounds on what a new base can gain: never below the exact gain, and tight when the network is
short of places."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import demand_rows

from sitefinder.model.bounds import gain_bound
from sitefinder.model.network import Site, solve_network
from sitefinder.model.warm import WarmTransport


def _site(capacity, classes, rows, minutes):
    minutes = np.asarray(minutes, dtype=float)
    return Site(
        float(capacity), frozenset(classes), np.asarray(rows, dtype=np.intp), minutes, minutes / 10
    )


def test_eased_prices_see_that_only_two_children_are_left_without_a_place():
    # 12 children in one area; today's base has 10 places at 10 minutes (1 harm point each), so
    # 2 children go without (25 points each): 10 + 50 = 60 harm points. A second 10-place base
    # at 10 minutes can only place those 2: it averts 2 x (25 - 1) = 48 points.
    demand = demand_rows([12], [0])
    existing = [_site(10, {0}, [0], [10])]
    option = _site(10, {0}, [0], [10])
    network = WarmTransport(demand, existing, np.arange(1))
    assert network.objective == pytest.approx(60)
    exact = network.objective - network.trial(option)
    assert exact == pytest.approx(48)
    # Today's prices: the child's is 25 and a place at the base is worth 24, so the plain bound
    # lets all 10 new places each avert 24 points.
    assert gain_bound(network.prices, demand, option) == pytest.approx(240)
    assert network.bound(option) == pytest.approx(48)


@st.composite
def networks(draw):
    n_rows = draw(st.integers(1, 8))
    klass = draw(st.lists(st.integers(0, 1), min_size=n_rows, max_size=n_rows))
    children = draw(st.lists(st.floats(0.1, 9), min_size=n_rows, max_size=n_rows))

    def site(classes):
        rows = [r for r in range(n_rows) if klass[r] in classes]
        minutes = draw(st.lists(st.floats(0, 300), min_size=len(rows), max_size=len(rows)))
        return _site(draw(st.integers(1, 10)), classes, rows, minutes)

    existing = [site(draw(st.sets(st.integers(0, 1), min_size=1, max_size=2))) for _ in range(3)]
    options = [site({draw(st.integers(0, 1))}) for _ in range(draw(st.integers(1, 4)))]
    return demand_rows(children, klass), existing, options


@settings(max_examples=60, deadline=None)
@given(instance=networks())
def test_the_bound_never_falls_below_the_exact_gain(instance):
    demand, existing, options = instance
    network = WarmTransport(demand, existing, np.arange(len(demand)))
    before = solve_network(demand, existing).objective
    for option in options:
        exact = before - solve_network(demand, [*existing, option]).objective
        bound = network.bound(option)
        assert bound >= exact - 1e-6 * (1 + demand.children.sum())
        assert bound <= gain_bound(network.prices, demand, option) + 1e-9
