"""Trials that stop once the harm is proven above a bar: a lower bound, never a wrong pick."""

import numpy as np
import pytest
from networks import demand_rows, site

from sitefinder.model import greedy
from sitefinder.model import warm as warm_module
from sitefinder.model.greedy import greedy_order
from sitefinder.model.scoring import SetScorer
from sitefinder.model.warm import ComponentTrials, WarmTransport


def _town(seed: int, n: int = 200, *, places=(5, 15), classes: int = 1):
    """``n`` rows of 0.1-2 children of ``classes`` classes scattered over 100 x 100; twelve
    bases of ``places`` (lowest, highest + 1) places and thirty trial bases of 10, each for
    one class and reaching its rows within 60 (harm 0.5-12.5 a child)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    klass = rng.integers(0, classes, n)
    demand = demand_rows(rng.uniform(0.1, 2, n).round(2).tolist(), klass.tolist())

    def base(capacity, c):
        d = np.hypot(*(xy - rng.uniform(0, 100, 2)).T)
        rows = np.flatnonzero((d < 60) & (klass == c))
        return site(capacity, {c}, rows, d[rows] * 2 + 5)

    existing = [base(int(rng.integers(*places)), i % classes) for i in range(12)]
    return demand, existing, [base(10, i % classes) for i in range(30)]


def _large(patch, *, reduced: bool) -> None:
    """Every LP large: trials by the dual simplex, on the reduced copy or the whole LP."""
    patch.setattr(warm_module, "_LARGE_ROWS", 0)
    patch.setattr(warm_module, "_PAIRS_PER_ROW", 0 if reduced else 10**9)


@pytest.mark.parametrize("reduced", [False, True])
def test_a_trial_stops_at_a_lower_bound_or_returns_the_optimum(monkeypatch, reduced):
    _large(monkeypatch, reduced=reduced)
    early = 0
    for seed in range(3):
        demand, existing, trials = _town(seed)
        rows = np.arange(len(demand))
        exact, model = WarmTransport(demand, existing, rows), WarmTransport(demand, existing, rows)
        for trial in trials:
            optimum = exact.trial(trial)
            gain = model.objective - optimum
            # A bar it cannot reach (half again its gain) and one it can (half its gain).
            unreached = model.objective - 1.5 * gain
            value = model.trial(trial, stop_at=unreached)
            assert unreached <= value <= optimum + model.round_off(trial)
            early += value < optimum - 1e-6
            reached = model.objective - 0.5 * gain
            assert model.trial(trial, stop_at=reached) == pytest.approx(optimum, abs=1e-7)
        assert (model._reduced is not None) == reduced
    assert early >= 45  # of 90: the solves did stop short of the optimum


def test_small_lps_trials_run_to_the_optimum_whatever_the_bar():
    # Under 2,000 rows trials run the primal simplex, whose objective proves no lower bound.
    demand, existing, trials = _town(0)
    rows = np.arange(len(demand))
    exact, model = WarmTransport(demand, existing, rows), WarmTransport(demand, existing, rows)
    assert not model.stops_early
    for trial in trials:
        assert model.trial(trial, stop_at=-1.0) == pytest.approx(exact.trial(trial), abs=1e-7)


def test_a_gain_below_the_floor_comes_back_as_a_bound_under_it(monkeypatch):
    _large(monkeypatch, reduced=True)
    demand, existing, trials = _town(1)
    exact, components = ComponentTrials(demand, existing), ComponentTrials(demand, existing)
    bounds = 0
    for trial in trials:
        gain = exact.gain(trial)
        for floor in (0.5 * gain, 1.5 * gain, np.inf * -1):
            value, is_exact = components.gain_or_bound(trial, floor=floor)
            if is_exact:
                assert value == pytest.approx(gain, abs=1e-7)
            else:
                bounds += 1
                assert gain - 1e-7 <= value < floor
    assert bounds >= 15  # of 30 trials with a floor half again their gain


def _orders(demand, existing, trials, gain_or_bound):
    """The build order with trials as HiGHS stops them, and with ``gain_or_bound`` instead."""
    first = greedy_order(demand, existing, trials, steps=5)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(greedy.ComponentTrials, "gain_or_bound", gain_or_bound)
        return first, greedy_order(demand, existing, trials, steps=5)


def _same_orders(one, other):
    assert [p.option for p in one.picks] == [p.option for p in other.picks]
    assert [p.marginal for p in one.picks] == pytest.approx(
        [p.marginal for p in other.picks], abs=1e-7
    )
    # Every option's value alone: any stopped early at the first step is valued again.
    assert one.standalone.all() == pytest.approx(other.standalone.all(), abs=1e-7)


_FULL = ComponentTrials.gain_or_bound


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_build_order_is_the_same_when_losers_stop_early(monkeypatch, seed):
    demand, existing, trials = _town(seed, n=300, places=(20, 30), classes=3)
    _large(monkeypatch, reduced=bool(seed % 2))
    stopped = 0

    def counted(self, site, *, floor):
        nonlocal stopped
        gain, exact = _FULL(self, site, floor=floor)
        stopped += not exact
        return gain, exact

    def to_the_optimum(self, site, *, floor):
        return _FULL(self, site, floor=-np.inf)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(greedy.ComponentTrials, "gain_or_bound", counted)
        stopping = greedy_order(demand, existing, trials, steps=5)
    _same_orders(stopping, _orders(demand, existing, trials, to_the_optimum)[1])
    assert stopped >= 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_bound_under_the_floor_is_never_taken_for_a_value(seed):
    # Every option that cannot reach the floor comes back as the loosest bound it may: half
    # way from its gain up to the floor. The picks and every value must not move. Places to
    # spare, in three classes: gains are journeys shortened, and many options contend.
    demand, existing, trials = _town(seed, n=300, places=(20, 30), classes=3)
    stopped = 0

    def loosest(self, site, *, floor):
        nonlocal stopped
        gain, exact = _FULL(self, site, floor=-np.inf)
        if gain >= floor:
            return gain, exact
        stopped += 1
        return (gain + floor) / 2, False

    _same_orders(*_orders(demand, existing, trials, loosest))
    assert stopped >= 2


@pytest.mark.parametrize("reduced", [False, True])
def test_a_swap_beyond_the_allowance_may_stop_above_it(monkeypatch, reduced):
    # The alternatives' swaps: the total harm with one chosen base and one more, exact when
    # within the allowance (and kept for the explanations), else above the allowance.
    _large(monkeypatch, reduced=reduced)
    demand, existing, trials = _town(2)
    exact = SetScorer(demand, existing, trials)
    scorer = SetScorer(demand, existing, trials)
    chosen = [0]
    above = 0
    for extra in range(1, len(trials)):
        total = exact.plus(chosen, extra)
        for most in (total - 1.0, total + 1.0):
            value = scorer.plus_within(chosen, extra, most=most)
            if total <= most:
                assert value == pytest.approx(total, abs=1e-7)
            else:
                assert most < value <= total + 1e-7
                above += value < total - 1e-6
    assert above >= 5  # of 29 swaps asked to stay a harm point under their total
    # Only exact totals are kept: asked again without a bar, every swap is its optimum.
    for extra in range(1, len(trials)):
        assert scorer.plus(chosen, extra) == pytest.approx(exact.plus(chosen, extra), abs=1e-7)
