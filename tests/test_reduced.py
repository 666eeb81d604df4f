"""Trials on a large LP's promising columns, the parked ones priced after each solve."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import demand_rows, random_networks, site

from sitefinder.model import warm as warm_module
from sitefinder.model.network import solve_network
from sitefinder.model.warm import WarmTransport


def _every_lp_reduced(patch):
    patch.setattr(warm_module, "_LARGE_ROWS", 0)
    patch.setattr(warm_module, "_PAIRS_PER_ROW", 0)


def _instance(rng):
    """Rows of 1-6 children, three bases of 1-6 places each reaching most rows, and six trial
    bases of 1-8 places (journeys 5-120 minutes: harm a tenth of the minutes)."""
    n = int(rng.integers(6, 16))
    demand = demand_rows(rng.integers(1, 7, n).tolist(), [0] * n)

    def base(places, share):
        rows = np.flatnonzero(rng.random(n) < share)
        rows = rows if len(rows) else np.array([0])
        return site(places, {0}, rows, rng.uniform(5, 120, len(rows)))

    existing = [base(int(rng.integers(1, 7)), 0.8) for _ in range(3)]
    return demand, existing, [base(int(rng.integers(1, 9)), 0.5) for _ in range(6)]


def test_parked_pairs_come_back_whenever_they_would_lower_the_harm(monkeypatch):
    # Everything not on the optimum's own pairs parked: many trials need pairs back, and each
    # value must still be the whole network's optimum, as a fresh solve finds it.
    _every_lp_reduced(monkeypatch)
    monkeypatch.setattr(warm_module, "PARK", 0.0)
    rng = np.random.default_rng(7)
    joined = 0
    for _ in range(30):
        demand, existing, trials = _instance(rng)
        model = WarmTransport(demand, existing, np.arange(len(demand)))
        for trial in trials:  # in a row: each starts from the last one's optimum
            fresh = solve_network(demand, [*existing, trial]).objective
            assert model.trial(trial) == pytest.approx(fresh, abs=1e-7)
        assert model._reduced is not None
        joined += model._reduced.joined
    assert joined > 20  # the pricing was needed, not idle


def _networks():
    return random_networks(
        rows=(2, 10), classes=2, children=st.integers(1, 9), minutes=st.floats(5, 100),
        existing=3, options=6,
    )  # fmt: skip


@settings(max_examples=60, deadline=None, derandomize=True)
@given(instance=_networks(), park=st.sampled_from([0.0, 0.02, 0.1, 1.0]))
def test_reduced_trials_equal_the_whole_lp(instance, park):
    demand, existing, trials = instance
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(warm_module, "PARK", park)
        _every_lp_reduced(patch)
        reduced_model = WarmTransport(demand, existing, np.arange(len(demand)))
        values = [reduced_model.trial(t) for t in trials]
    whole = WarmTransport(demand, existing, np.arange(len(demand)))
    assert values == pytest.approx([whole.trial(t) for t in trials], abs=1e-7)


def test_a_copy_and_a_re_solved_model_trial_on_their_own_reduced_lps(monkeypatch):
    _every_lp_reduced(monkeypatch)
    demand = demand_rows([3, 2, 4], [0, 0, 0])
    a = site(2, {0}, [0, 1], [10, 40])
    model = WarmTransport(demand, [a], np.arange(3))
    probe = site(3, {0}, [1, 2], [20, 30])
    before = model.trial(probe)
    # Hand-checked: 9 children, 25 harm points each unplaced; a's 2 places go to row 0 (harm 1
    # each), the probe's 3 to row 1's 2 (harm 2) and one of row 2's (harm 3): 2 + 7 + 4 x 25.
    assert before == pytest.approx(109.0)
    clone = model.copy()
    assert clone._reduced is None  # never the original's solver
    model.open(site(4, {0}, [2], [10]))  # row 2's 4 children placed at harm 1 each
    assert model._reduced is None  # new prices: the next trial builds a new reduced LP
    assert model.trial(probe) == pytest.approx(2 + 4 + 4 + 25)  # row 0's third child unplaced
    assert clone.trial(probe) == pytest.approx(before)


def test_few_pairs_a_row_keep_their_trials_on_the_whole_lp(monkeypatch):
    # Two bases over three rows: under four pairs a row, nothing worth a second solver.
    monkeypatch.setattr(warm_module, "_LARGE_ROWS", 0)
    demand = demand_rows([3, 2, 4], [0, 0, 0])
    model = WarmTransport(demand, [site(2, {0}, [0, 1], [10, 40])], np.arange(3))
    assert model.trial(site(3, {0}, [1, 2], [20, 30])) == pytest.approx(109.0)
    assert model._reduced is None
