import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import demand_rows, random_networks, site

from sitefinder.model import greedy, network
from sitefinder.model.greedy import greedy_order
from sitefinder.model.network import solve_network


def test_hand_checked_order():
    # Two areas of 6 children, class 0. Existing base: 6 places, 20 minutes from area 0 only.
    demand = demand_rows([6, 6], [0, 0])
    existing = [site(6, {0}, [0], [20])]
    options = [
        site(10, {0}, [0, 1], [40, 40]),  # helps area 1 (unmet -> 4 points each): 6 * 21
        site(10, {0}, [1], [10]),  # area 1 at 1 point each: 6 * 24 = 144
        site(10, {0}, [0], [5]),  # only improves area 0 from 2.0 to 0.5: 6 * 1.5 = 9
    ]
    result = greedy_order(demand, existing, options, steps=3)
    assert result.standalone.all().tolist() == pytest.approx([126, 144, 9])
    assert [p.option for p in result.picks] == [1, 2]  # then nothing else helps
    first, second = result.picks
    assert first.marginal == pytest.approx(144)
    assert first.served == pytest.approx(6)
    assert first.newly_placed == pytest.approx(6)
    assert np.isnan(first.minutes_before)  # they had no place before
    assert first.minutes_after == pytest.approx(10)
    assert first.within_limit_gain == pytest.approx(6)
    assert second.marginal == pytest.approx(9)
    assert second.minutes_before == pytest.approx(20)
    assert second.minutes_after == pytest.approx(5)


def test_one_pick_per_owner():
    demand = demand_rows([6, 6], [0, 1])
    options = [site(10, {0}, [0], [10]), site(10, {1}, [1], [10]), site(10, {1}, [1], [30])]
    result = greedy_order(demand, [], options, steps=3, owner=[0, 0, 1])
    assert [p.option for p in result.picks] == [0, 2]


def instances():
    return random_networks(
        rows=(2, 8), classes=3, children=st.integers(1, 9), minutes=st.floats(5, 100),
        existing=2, options=6,
    )  # fmt: skip


@pytest.mark.parametrize("warm_ratio", [0, 4, 10**9], ids=["neighbourhood", "auto", "component"])
@settings(max_examples=40, deadline=None)
@given(instance=instances())
def test_marginals_match_full_resolves_and_first_pick_is_best_standalone(warm_ratio, instance):
    demand, existing, options = instance
    with pytest.MonkeyPatch.context() as patch:  # both ways of valuing a trial are exact
        patch.setattr(greedy, "_WARM_RATIO", warm_ratio)
        patch.setattr(greedy, "_WARM_ROWS", 0)  # these components are small: test the ratio
        result = greedy_order(demand, existing, options, steps=len(options))
    if result.picks:
        assert result.picks[0].marginal == pytest.approx(np.nanmax(result.standalone.all()))
    open_sites = list(existing)
    for pick in result.picks:
        before = solve_network(demand, open_sites).objective
        open_sites.append(options[pick.option])
        after = solve_network(demand, open_sites).objective
        assert pick.marginal == pytest.approx(before - after, abs=1e-6)
        # and it was the best available option at that step
        chosen = {p.option for p in result.picks[: result.picks.index(pick)]}
        best = max(
            before - solve_network(demand, [*open_sites[:-1], options[i]]).objective
            for i in range(len(options))
            if i not in chosen
        )
        assert pick.marginal == pytest.approx(best, abs=1e-6)


def test_first_pick_is_optimal_single_site_by_brute_force():
    rng = np.random.default_rng(3)
    demand = demand_rows(rng.integers(1, 8, 10), rng.integers(0, 2, 10))
    options = []
    for _ in range(8):
        klass = int(rng.integers(0, 2))
        rows = np.flatnonzero(demand.klass == klass)
        options.append(site(12, {klass}, rows, rng.uniform(5, 90, len(rows))))
    result = greedy_order(demand, [], options, steps=1)
    scores = [solve_network(demand, [o]).objective for o in options]
    assert result.picks[0].option == int(np.argmin(scores))
    assert result.picks[0].marginal == pytest.approx(
        solve_network(demand, []).objective - min(scores)
    )


def test_threads_give_the_same_order():
    rng = np.random.default_rng(11)
    n_rows = 150
    xy = rng.uniform(0, 100, (n_rows, 2))
    klass = rng.integers(0, 2, n_rows)
    demand = demand_rows(rng.integers(0, 4, n_rows), klass)

    def random_site():
        at, c = rng.uniform(0, 100, 2), int(rng.integers(0, 2))
        rows = np.flatnonzero((np.hypot(*(xy - at).T) < 25) & (klass == c))
        return site(int(rng.integers(2, 10)), {c}, rows, np.hypot(*(xy[rows] - at).T) * 3)

    existing = [random_site() for _ in range(10)]
    options = [random_site() for _ in range(30)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(greedy, "_WARM_RATIO", 0)  # every trial in a neighbourhood
        patch.setattr(greedy, "_WARM_ROWS", 0)
        one = greedy_order(demand, existing, options, steps=4)
        two = greedy_order(demand, existing, options, steps=4, threads=3)
    assert [p.option for p in two.picks] == [p.option for p in one.picks]
    assert [p.marginal for p in two.picks] == [p.marginal for p in one.picks]
    assert two.standalone.all().tolist() == one.standalone.all().tolist()


@settings(max_examples=40, deadline=None)
@given(instance=instances(), order=st.randoms(use_true_random=False))
def test_a_base_never_averts_more_once_others_open(instance, order):
    """Submodularity, which the lazy re-valuing rests on: the harm an option averts never
    grows as other bases open (to within the LP's round-off)."""
    demand, existing, options = instance
    sequence = list(range(len(options)))
    order.shuffle(sequence)
    open_sites = list(existing)
    last = dict.fromkeys(range(len(options)), np.inf)
    for step in sequence:
        base = solve_network(demand, open_sites).objective
        for i, option in enumerate(options):
            gain = base - solve_network(demand, [*open_sites, option]).objective
            assert gain <= last[i] + 1e-7
            last[i] = gain
        open_sites.append(options[step])


@pytest.mark.parametrize("warm_ratio", [0, 10**9], ids=["neighbourhood", "component"])
@settings(max_examples=30, deadline=None)
@given(instance=instances(), copies=st.lists(st.integers(0, 5), max_size=3))
def test_lazy_re_valuing_picks_what_valuing_every_option_picks(warm_ratio, instance, copies):
    """Bounds only skip options that cannot win: the order, ties included (copied options
    tie exactly and go to the lowest index), is the order of re-valuing every stale option."""
    demand, existing, options = instance
    options = [*options, *(options[c % len(options)] for c in copies)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(greedy, "_WARM_RATIO", warm_ratio)
        lazy = greedy_order(demand, existing, options, steps=len(options))
        patch.setattr(greedy, "_SLACK", np.inf)  # every bound reaches the leader
        eager = greedy_order(demand, existing, options, steps=len(options))
    assert [p.option for p in lazy.picks] == [p.option for p in eager.picks]
    assert [p.marginal for p in lazy.picks] == pytest.approx([p.marginal for p in eager.picks])
    assert lazy.evaluations <= eager.evaluations


def test_minutes_before_counts_only_children_who_moved():
    # Row 0: 6 children, 6 places at 20 minutes; row 1: 6 children, no place (no prior journey).
    demand = demand_rows([6, 6], [0, 0])
    before = solve_network(demand, [site(6, {0}, [0], [20])])
    rows = np.array([0, 1], dtype=np.intp)
    flows = np.array([2.0, 4.0])
    # Every child served newly placed: nothing moved, so there is no "before" journey.
    assert np.isnan(network.minutes_before_of_moved(before, rows, flows, newly_placed=6.0))
    # Two moved: the mean before is row 0's 20 minutes; row 1 (no place before) carries no weight.
    assert network.minutes_before_of_moved(before, rows, flows, newly_placed=4.0) == pytest.approx(
        20
    )


def _warm_valuations(demand, existing, options) -> int:
    """Options valued on a warm component LP (the rest in neighbourhoods) in one ranking."""
    counted = []
    gain = greedy.ComponentTrials.gain_or_bound
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(greedy, "_WARM_ROWS", 0)  # tiny components: test the reach rule
        patch.setattr(
            greedy.ComponentTrials,
            "gain_or_bound",
            lambda self, site, *, floor: counted.append(1) or gain(self, site, floor=floor),
        )
        result = greedy_order(demand, existing, options, steps=1)
    assert result.evaluations == len(options)
    return len(counted)


def test_options_whose_neighbourhood_covers_the_component_are_valued_warm():
    # 5 classes of 2 rows; one existing base serves every row (a special school), so an
    # option's neighbourhood (its 2 rows, then every row that base serves) is the component.
    demand = demand_rows([1] * 10, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    existing = [site(3, {0, 1, 2, 3, 4}, range(10), [30] * 10)]
    options = [site(2, {c}, [2 * c, 2 * c + 1], [10, 20]) for c in range(5)]
    assert _warm_valuations(demand, existing, options) == 5
    # A chain of bases serving 3 rows each links 40 rows into one component; an option's
    # neighbourhood starts with the few rows near it: valued there, not on the whole chain.
    demand = demand_rows([1] * 40, [0] * 40)
    existing = [site(1, {0}, [2 * k, 2 * k + 1, 2 * k + 2], [30] * 3) for k in range(19)]
    options = [site(2, {0}, [2 * k, 2 * k + 1], [10, 20]) for k in range(0, 19, 6)]
    assert _warm_valuations(demand, existing, options) == 0


@settings(max_examples=30, deadline=None)
@given(instance=instances())
def test_picks_read_from_warm_lps_are_the_same_picks(instance):
    """``warm_picks`` describes each pick by its component's LP instead of solving the
    neighbourhood again: the same picks and values, and what each pick serves and newly places
    is that of an optimal assignment with it open; without ``standalone_of_picks`` no pick is
    valued alone."""
    demand, existing, options = instance
    plain = greedy_order(demand, existing, options, steps=len(options))
    warm = greedy_order(
        demand, existing, options, steps=len(options), warm_picks=True, standalone_of_picks=False
    )
    assert [p.option for p in warm.picks] == [p.option for p in plain.picks]
    assert [p.marginal for p in warm.picks] == [p.marginal for p in plain.picks]
    assert all(np.isnan(p.standalone) for p in warm.picks)
    assert warm.standalone.trials == 0  # nothing valued alone after the first step
    open_sites = list(existing)
    for pick in warm.picks:
        before = solve_network(demand, open_sites)
        open_sites.append(options[pick.option])
        after = solve_network(demand, open_sites)
        assert pick.mismatch_averted + pick.journey_averted == pytest.approx(pick.marginal)
        assert 0 <= pick.served <= options[pick.option].capacity + 1e-9
        # Unplaced children are those of an optimal assignment: the harm fixes them unless a
        # journey costs exactly the unmet harm, which these journeys (at most 10 points) never do.
        assert pick.newly_placed == pytest.approx(before.unmet.sum() - after.unmet.sum(), abs=1e-6)


def test_warm_picks_on_the_hand_checked_order():
    demand = demand_rows([6, 6], [0, 0])
    existing = [site(6, {0}, [0], [20])]
    options = [site(10, {0}, [0, 1], [40, 40]), site(10, {0}, [1], [10]), site(10, {0}, [0], [5])]
    result = greedy_order(demand, existing, options, steps=3, warm_picks=True)
    first, second = result.picks
    assert (first.option, second.option) == (1, 2)
    assert (first.served, first.newly_placed, first.minutes_after) == pytest.approx((6, 6, 10))
    assert (second.served, second.newly_placed) == pytest.approx((6, 0))
    assert (second.minutes_before, second.minutes_after) == pytest.approx((20, 5))
    assert [p.standalone for p in result.picks] == pytest.approx([144, 9])
