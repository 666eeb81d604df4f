import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import site

from sitefinder.model.assign import Pairs, solve_transport
from sitefinder.model.harm import HarmCurve
from sitefinder.model.network import (
    DemandRows,
    Site,
    Solution,
    children_passing_nearer,
    metrics,
    solve_network,
)


def arr(*values):
    return np.array(values, dtype=float)


def idx(*values):
    return np.array(values, dtype=np.intp)


def test_capacity_binds_and_the_cheaper_row_is_filled_first():
    # one base, 4 places; rows of 3 (1 point each) and 2 children (2 points each); unmet 10
    result = solve_transport(arr(3, 2), arr(4), Pairs(idx(0, 1), idx(0, 0), arr(1, 2)), arr(10, 10))
    assert result.flows.tolist() == pytest.approx([3, 1])
    assert result.unmet.tolist() == pytest.approx([0, 1])
    assert result.objective == pytest.approx(3 * 1 + 1 * 2 + 1 * 10)


def test_row_prices_are_the_harm_of_one_more_child():
    # As above: row 1's next child goes unmet (10); row 0's takes the place of a row-1 child,
    # who goes unmet instead: 1 - 2 + 10 = 9.
    result = solve_transport(arr(3, 2), arr(4), Pairs(idx(0, 1), idx(0, 0), arr(1, 2)), arr(10, 10))
    assert result.row_price.tolist() == pytest.approx([9, 10])
    nothing = solve_transport(arr(4, 1), arr(10), Pairs(idx(), idx(), arr()), arr(7, 3))
    assert nothing.row_price.tolist() == [7, 3]


@st.composite
def transport_cases(draw):
    n_rows, n_sites = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    pairs = draw(st.sets(st.tuples(st.integers(0, n_rows - 1), st.integers(0, n_sites - 1))))
    pairs = sorted(pairs)
    cost = draw(st.lists(st.integers(0, 30), min_size=len(pairs), max_size=len(pairs)))
    demand = draw(st.lists(st.integers(0, 8), min_size=n_rows, max_size=n_rows))
    capacity = draw(st.lists(st.integers(0, 12), min_size=n_sites, max_size=n_sites))
    unmet = draw(st.lists(st.integers(5, 40), min_size=n_rows, max_size=n_rows))
    return (
        np.array(demand, dtype=float),
        np.array(capacity, dtype=float),
        Pairs(
            np.array([r for r, _ in pairs], dtype=np.intp),
            np.array([c for _, c in pairs], dtype=np.intp),
            np.array(cost, dtype=float),
        ),
        np.array(unmet, dtype=float),
    )


@settings(max_examples=80, deadline=None)
@given(transport_cases(), st.data())
def test_row_prices_bound_the_harm_of_a_child_more_or_less(case, data):
    # Any optimal duals are a subgradient of the least harm in the demand: one more child in
    # row r adds at least row_price[r], one fewer saves at most row_price[r] (harm points).
    demand, capacity, pairs, unmet = case
    base = solve_transport(demand, capacity, pairs, unmet)
    r = data.draw(st.integers(0, len(demand) - 1))
    step = np.zeros(len(demand))
    step[r] = 1.0
    more = solve_transport(demand + step, capacity, pairs, unmet).objective
    assert more - base.objective >= base.row_price[r] - 1e-7
    if demand[r] >= 1:
        fewer = solve_transport(demand - step, capacity, pairs, unmet).objective
        assert base.objective - fewer <= base.row_price[r] + 1e-7
    flows = np.bincount(pairs.row, weights=base.flows, minlength=len(demand))
    assert np.allclose(flows + base.unmet, demand)


def test_optimal_not_nearest_first():
    # nearest-first would put row 0 in A (5) and row 1 in B (50): 55. Optimal swaps: 15 + 10.
    result = solve_transport(
        arr(5, 5),
        arr(5, 5),
        Pairs(idx(0, 0, 1, 1), idx(0, 1, 0, 1), arr(1, 3, 2, 10)),
        arr(99, 99),
    )
    assert result.objective == pytest.approx(25)
    assert result.flows.tolist() == pytest.approx([0, 5, 5, 0])


def test_unreachable_demand_is_unmet():
    result = solve_transport(arr(4), arr(10), Pairs(idx(), idx(), arr()), arr(7))
    assert result.unmet.tolist() == [4]
    assert result.objective == pytest.approx(28)


def test_unmet_is_chosen_when_cheaper_than_the_journey():
    result = solve_transport(arr(2), arr(10), Pairs(idx(0), idx(0), arr(30)), arr(25))
    assert result.unmet.tolist() == pytest.approx([2])


def _rows(children, klass, limit=45.0, unmet=25.0):
    n = len(children)
    return DemandRows(
        children=np.asarray(children, dtype=float),
        klass=np.asarray(klass, dtype=np.intp),
        limit_minutes=np.full(n, limit),
        unmet_harm=np.full(n, unmet),
    )


def test_a_base_never_serves_another_phase_or_need_group():
    # row 0 is class 0 (say primary ASD), row 1 class 1 (secondary ASD); the base serves class 0
    demand = _rows([3, 3], [0, 1])
    base = site(10, {0}, [0], [20])
    solution = solve_network(demand, [base])
    assert solution.unmet.tolist() == pytest.approx([0, 3])
    assert solution.objective == pytest.approx(3 * 2.0 + 3 * 25)


def test_metrics_hand_checked():
    demand = _rows([4, 6], [0, 0], limit=45)
    sites = [site(4, {0}, [0], [30]), site(10, {0}, [1], [60])]
    m = metrics(demand, solve_network(demand, sites))
    assert m.placed == pytest.approx(10)
    assert m.within_limit == pytest.approx(4)
    assert m.mean_minutes == pytest.approx((4 * 30 + 6 * 60) / 10)
    assert m.p95_minutes == pytest.approx(60)
    assert m.unmet == pytest.approx(0)


@st.composite
def networks(draw):
    n_rows = draw(st.integers(1, 6))
    n_sites = draw(st.integers(1, 4))
    children = draw(st.lists(st.integers(0, 9), min_size=n_rows, max_size=n_rows))
    klass = draw(st.lists(st.integers(0, 1), min_size=n_rows, max_size=n_rows))
    sites = []
    for _ in range(n_sites + 1):
        classes = draw(st.sets(st.integers(0, 1), min_size=1))
        rows = [r for r in range(n_rows) if klass[r] in classes]
        minutes = draw(st.lists(st.floats(5, 120), min_size=len(rows), max_size=len(rows)))
        sites.append(site(draw(st.integers(0, 12)), classes, rows, minutes))
    return _rows(children, klass), sites


@settings(max_examples=60, deadline=None)
@given(networks())
def test_adding_an_open_base_never_increases_total_harm(network):
    demand, sites = network
    without = solve_network(demand, sites[:-1]).objective
    with_extra = solve_network(demand, sites).objective
    assert with_extra <= without + 1e-7
    assert without <= float(demand.children @ demand.unmet_harm) + 1e-7


# --- every minute counts: the nearest base with room always wins ----------------------------

PRIMARY = HarmCurve(
    free_minutes=15, limit_minutes=45, exponent=1.5, over_limit_step=1.0,
    over_limit_per_minute=0.1, per_minute=0.01,
)  # fmt: skip


def _curvesite(capacity, classes, rows, minutes, curve=PRIMARY):
    minutes = np.asarray(minutes, dtype=float)
    return Site(
        float(capacity),
        frozenset(classes),
        np.asarray(rows, dtype=np.intp),
        minutes,
        curve(minutes),
    )


def _solution(pair_row, pair_site, pair_minutes, flow, n_rows):
    return Solution(
        idx(*pair_row), idx(*pair_site), arr(*pair_minutes), arr(*pair_minutes), arr(*flow),
        np.zeros(n_rows), np.ones(n_rows, dtype=bool), 0.0,
    )  # fmt: skip


def test_passing_a_nearer_base_with_room_is_counted():
    # 3 children of row 0 ride 12 minutes to site 1 while site 0, 5 minutes away, has 2 spare
    sites = [_curvesite(4, {0}, [0], [5]), _curvesite(10, {0}, [0], [12])]
    wrong = _solution([0, 0], [0, 1], [5, 12], [2, 3], 1)
    assert children_passing_nearer(sites, wrong) == pytest.approx(3)
    full = [_curvesite(2, {0}, [0], [5]), sites[1]]  # no room at the nearer base: no one passes
    assert children_passing_nearer(full, wrong) == 0


def test_the_shorter_of_two_journeys_under_the_free_minutes_wins():
    # Both journeys are under the free minutes, so only the travel term tells them apart.
    demand = _rows([3], [0], unmet=5.0)
    sites = [_curvesite(10, {0}, [0], [12]), _curvesite(10, {0}, [0], [5])]
    solution = solve_network(demand, sites)
    assert solution.flow.tolist() == pytest.approx([0, 3])
    assert solution.objective == pytest.approx(3 * 0.05)


@st.composite
def curve_networks(draw):
    """Random rows of two phases and bases with harm from the real curves (travel term on)."""
    n_rows = draw(st.integers(1, 7))
    children = draw(st.lists(st.integers(0, 9), min_size=n_rows, max_size=n_rows))
    klass = draw(st.lists(st.integers(0, 2), min_size=n_rows, max_size=n_rows))
    per_minute = draw(st.sampled_from([0.005, 0.01, 0.05]))
    curves = [
        HarmCurve(15, limit, 1.5, 1.0, 0.1, per_minute) for limit in (45.0, 45.0, 75.0)
    ]  # class 2 is secondary
    sites = []
    for _ in range(draw(st.integers(1, 5))):
        classes = draw(st.sets(st.integers(0, 2), min_size=1, max_size=3))
        rows = [r for r in range(n_rows) if klass[r] in classes]
        tenths = draw(st.lists(st.integers(10, 1200), min_size=len(rows), max_size=len(rows)))
        minutes = np.array(tenths, dtype=float) / 10
        harm = np.array([float(curves[klass[r]](m)) for r, m in zip(rows, minutes, strict=True)])
        sites.append(
            Site(float(draw(st.integers(0, 12))), frozenset(classes), idx(*rows), minutes, harm)
        )
    unmet = draw(st.floats(0.5, 30))
    return _rows(children, klass, unmet=unmet), sites


@settings(max_examples=80, deadline=None)
@given(curve_networks())
def test_no_child_passes_a_nearer_compatible_base_with_spare_places(network):
    demand, sites = network
    solution = solve_network(demand, sites)
    assert children_passing_nearer(sites, solution) == 0
