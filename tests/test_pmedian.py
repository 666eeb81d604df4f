from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitefinder.model import pmedian
from sitefinder.model.pmedian import p_median, p_median_heuristic


def brute_force(cost, p, weights):
    best = np.inf
    for subset in combinations(range(cost.shape[1]), p):
        row = cost[:, list(subset)].min(axis=1)
        value = float(weights @ np.where(weights > 0, row, 0.0))
        best = min(best, value)
    return best


def random_instance(rng, n, m, forbid=0.0):
    cost = rng.integers(0, 50, size=(n, m)).astype(float)
    cost[rng.random((n, m)) < forbid] = np.inf
    # every row keeps at least one allowed site
    cost[np.arange(n), rng.integers(0, m, size=n)] = rng.integers(0, 50, size=n)
    weights = rng.integers(1, 5, size=n).astype(float)
    return cost, weights


def test_hand_solved_four_by_four():
    # Pairs (weights 1, 2, 1, 1): {0,1}=10, {0,2}=9, {0,3}=8, {1,2}=6, {1,3}=5, {2,3}=17.
    cost = np.array(
        [
            [0, 3, 9, 7],
            [3, 0, 4, 6],
            [9, 4, 0, 2],
            [7, 6, 3, 0],
        ],
        dtype=float,
    )
    result = p_median(cost, 2, weights=[1, 2, 1, 1])
    assert result.sites.tolist() == [1, 3]
    assert result.objective == 5.0
    assert result.proven
    assert result.gap == 0.0


def test_unit_weights_by_default():
    cost = np.array([[1.0, 5.0], [4.0, 2.0], [3.0, 9.0]])
    result = p_median(cost, 1)
    assert result.sites.tolist() == [0]
    assert result.objective == 8.0


@pytest.mark.parametrize("seed", range(25))
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 13)), int(rng.integers(2, 11))
    p = int(rng.integers(1, m + 1))
    cost, weights = random_instance(rng, n, m, forbid=0.3 if seed % 2 else 0.0)
    exact = brute_force(cost, p, weights)
    if not np.isfinite(exact):
        with pytest.raises(ValueError, match="no set of"):
            p_median(cost, p, weights=weights)
        return
    result = p_median(cost, p, weights=weights)
    assert result.proven
    assert result.objective == pytest.approx(exact)
    assert len(result.sites) == p
    assert np.all(np.diff(result.sites) > 0)
    heuristic = p_median_heuristic(cost, p, weights=weights)
    assert heuristic.objective >= result.objective - 1e-9
    assert len(heuristic.sites) == p


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.integers(2, 9).flatmap(
        lambda m: st.tuples(
            st.just(m),
            st.integers(1, m),
            st.lists(
                st.lists(st.floats(0, 100, allow_nan=False), min_size=m, max_size=m),
                min_size=1,
                max_size=10,
            ),
        )
    )
)
def test_fractional_costs_match_brute_force(case):
    _m, p, rows = case
    cost = np.array(rows, dtype=float)
    weights = np.linspace(0.5, 2.0, len(cost))
    result = p_median(cost, p, weights=weights)
    assert result.objective == pytest.approx(brute_force(cost, p, weights), rel=1e-6, abs=1e-6)


def test_zero_weight_rows_may_stay_unserved():
    cost = np.array([[1.0, np.inf], [np.inf, 1.0], [5.0, 5.0]])
    result = p_median(cost, 1, weights=[1.0, 0.0, 1.0])
    assert result.sites.tolist() == [0]
    assert result.objective == 6.0


def test_forbidden_pairs_force_coverage():
    # Site 0 is cheapest overall but cannot serve row 2, so {0} alone is infeasible.
    cost = np.array([[0.0, 10.0, 10.0], [0.0, 10.0, 10.0], [np.inf, 10.0, 1.0]])
    result = p_median(cost, 1)
    assert result.sites.tolist() == [2]
    assert result.objective == 21.0


def test_all_sites_when_p_equals_n_sites():
    rng = np.random.default_rng(3)
    cost, _ = random_instance(rng, 6, 4)
    result = p_median(cost, 4)
    assert result.sites.tolist() == [0, 1, 2, 3]
    assert result.objective == pytest.approx(cost.min(axis=1).sum())
    assert result.proven


def test_tiny_time_limit_still_returns_a_solution():
    rng = np.random.default_rng(7)
    cost, weights = random_instance(rng, 60, 60)
    result = p_median(cost, 5, weights=weights, time_limit=1e-6)
    assert len(result.sites) == 5
    assert np.isfinite(result.objective)
    assert result.seconds < 5


def test_larger_instance_is_proven_and_beats_or_ties_heuristic():
    rng = np.random.default_rng(11)
    points = rng.random((120, 2))
    cost = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)).round(3)
    result = p_median(cost, 8, time_limit=30)
    heuristic = p_median_heuristic(cost, 8)
    assert result.proven
    assert result.objective <= heuristic.objective + 1e-9


@pytest.mark.parametrize(
    ("cost", "p", "weights", "message"),
    [
        (np.ones(3), 1, None, r"2-D \(n_demand, n_sites\) array, got shape \(3,\)"),
        (np.ones((3, 2)), 0, None, r"p must be between 1 and the number of sites \(2\), got 0"),
        (np.ones((3, 2)), 3, None, r"p must be between 1 and the number of sites \(2\), got 3"),
        (np.ones((3, 2)), 1, [1.0, 2.0], "weights must be finite, non-negative, one per"),
        (np.ones((3, 2)), 1, [1.0, -1.0, 1.0], "weights must be finite, non-negative, one per"),
        (np.array([[1.0, np.nan]]), 1, None, "must not contain NaN or -inf"),
        (np.array([[np.inf, np.inf]]), 1, None, "a demand row with positive weight has no"),
    ],
)
def test_rejects_bad_input(cost, p, weights, message):
    with pytest.raises(ValueError, match=message):
        p_median(cost, p, weights=weights)


def test_no_feasible_set_of_p_sites():
    cost = np.array([[1.0, np.inf], [np.inf, 1.0]])
    with pytest.raises(ValueError, match="no set of 1 sites"):
        p_median(cost, 1)


@pytest.fixture(params=["lagrangian", "highs"])
def exact_path(request, monkeypatch):
    """Run a test through the Lagrangian tree (small p) and through the HiGHS model."""
    if request.param == "highs":
        monkeypatch.setattr(pmedian, "_SMALL_P", 0)
    return request.param


@pytest.mark.parametrize("seed", range(12))
def test_both_exact_paths_match_brute_force(seed, exact_path):
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(4, 13)), int(rng.integers(3, 11))
    p = int(rng.integers(1, m))
    cost, weights = random_instance(rng, n, m, forbid=0.25 if seed % 2 else 0.0)
    if seed % 3 == 0:
        cost = cost + rng.random(cost.shape)  # fractional costs: no integrality shortcut
    exact = brute_force(cost, p, weights)
    if not np.isfinite(exact):  # no set of p sites serves every row: both paths say so
        with pytest.raises(ValueError, match=f"no set of {p} sites can serve every"):
            p_median(cost, p, weights=weights)
        return
    result = p_median(cost, p, weights=weights)
    assert result.proven
    assert result.objective == pytest.approx(exact)
    assert len(result.sites) == p
    row = cost[:, result.sites].min(axis=1)  # the sites given do cost what is said
    assert float(weights @ row) == pytest.approx(result.objective)


def test_some_seeds_of_the_exact_paths_are_feasible_and_some_not():
    # The seeds above are not vacuous: most are solved, and the infeasible branch is taken.
    feasible = []
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        n, m = int(rng.integers(4, 13)), int(rng.integers(3, 11))
        p = int(rng.integers(1, m))
        cost, weights = random_instance(rng, n, m, forbid=0.25 if seed % 2 else 0.0)
        feasible.append(bool(np.isfinite(brute_force(cost, p, weights))))
    assert 6 <= sum(feasible) < 12


def test_lagrangian_tree_on_a_geometric_instance_matches_highs(monkeypatch):
    rng = np.random.default_rng(5)
    points = rng.random((150, 2))
    cost = np.round(100 * np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)))
    weights = rng.integers(1, 4, size=150).astype(float)
    tree = p_median(cost, 6, weights=weights)
    monkeypatch.setattr(pmedian, "_SMALL_P", 0)
    highs = p_median(cost, 6, weights=weights, time_limit=60)
    assert tree.proven and highs.proven
    assert tree.objective == pytest.approx(highs.objective)
    again = p_median(cost, 6, weights=weights)
    assert again.sites.tolist() == tree.sites.tolist()  # deterministic


def test_lagrangian_time_limit_reports_a_valid_gap():
    rng = np.random.default_rng(9)
    points = rng.random((300, 2))
    cost = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    result = p_median(cost, 10, time_limit=0.05)
    assert len(result.sites) == 10
    assert result.proven or result.gap > 0
