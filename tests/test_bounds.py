"""Bounds on what a new base can gain: never below the exact gain, and tight when the network is
short of places."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import demand_rows, random_networks, site

from sitefinder.model.bounds import gain_bound
from sitefinder.model.network import solve_network
from sitefinder.model.warm import WarmTransport


def test_eased_prices_see_that_only_two_children_are_left_without_a_place():
    # 12 children in one area; today's base has 10 places at 10 minutes (1 harm point each), so
    # 2 children go without (25 points each): 10 + 50 = 60 harm points. A second 10-place base
    # at 10 minutes can only place those 2: it averts 2 x (25 - 1) = 48 points.
    demand = demand_rows([12], [0])
    existing = [site(10, {0}, [0], [10])]
    option = site(10, {0}, [0], [10])
    network = WarmTransport(demand, existing, np.arange(1))
    assert network.objective == pytest.approx(60)
    exact = network.objective - network.trial(option)
    assert exact == pytest.approx(48)
    # Today's prices: the child's is 25 and a place at the base is worth 24, so the plain bound
    # lets all 10 new places each avert 24 points.
    assert gain_bound(network.prices, demand, option) == pytest.approx(240)
    assert network.bound(option) == pytest.approx(48)


def networks():
    return random_networks(
        rows=(1, 8), classes=2, children=st.floats(0.1, 9), minutes=st.floats(0, 300),
        existing=3, options=4,
    )  # fmt: skip


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
