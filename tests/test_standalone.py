"""Standalone values valued when read, warm LP copies and solutions, and pick descriptions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import demand_rows, random_networks, site

from sitefinder.model import greedy
from sitefinder.model import warm as warm_module
from sitefinder.model.greedy import greedy_order
from sitefinder.model.network import mismatch_averted, solve_network
from sitefinder.model.scoring import SetScorer
from sitefinder.model.warm import ComponentTrials, WarmTransport


def instances():
    return random_networks(
        rows=(2, 8), classes=2, children=st.integers(1, 9), minutes=st.floats(5, 100),
        existing=2, options=8,
    )  # fmt: skip


def _alone(demand, existing, options):
    base = solve_network(demand, existing).objective
    return np.array([base - solve_network(demand, [*existing, o]).objective for o in options])


@settings(max_examples=40, deadline=None)
@given(instance=instances())
def test_every_standalone_value_read_equals_a_full_re_solve(instance):
    demand, existing, options = instance
    result = greedy_order(demand, existing, options, steps=2)
    assert result.standalone.all() == pytest.approx(_alone(demand, existing, options), abs=1e-6)
    for pick in result.picks:
        assert pick.standalone == pytest.approx(_alone(demand, existing, options)[pick.option])


@settings(max_examples=40, deadline=None)
@given(instance=instances(), k=st.integers(1, 4), owners=st.lists(st.integers(0, 3), min_size=8))
def test_the_strongest_are_those_of_valuing_every_option(instance, k, owners):
    """What ``strongest`` values gives the k strongest labels, each at its best option, as
    valuing every option does (equal values may come in either order: LP round-off)."""
    demand, existing, options = instance
    key = owners[: len(options)]
    lazy = greedy_order(demand, existing, options, steps=1).standalone
    every = _alone(demand, existing, options)

    def best(values):
        """Each label's best value (labels with no value left out), rounded off."""
        out: dict[int, float] = {}
        for i, value in enumerate(values.tolist()):
            if not np.isnan(value):
                out[key[i]] = max(out.get(key[i], -np.inf), round(value, 6))
        return out

    found, exact = best(lazy.strongest(np.arange(len(options)), k, key=key)), best(every)
    # The k strongest values are the same, and each label found strong has its best value.
    assert sorted(found.values(), reverse=True)[:k] == sorted(exact.values(), reverse=True)[:k]
    kth = sorted(exact.values(), reverse=True)[:k][-1]
    for label, value in found.items():
        if value >= kth:
            assert value == exact[label]


def test_the_first_step_values_only_options_that_could_win():
    # Area 1's 6 children have no place; a base 10 minutes away averts 6 x 24 = 144 harm
    # points. Forty options 90+ minutes from area 0 (whose children have a place 20 minutes
    # away) are ruled out by their LP-price bounds, unvalued, until read.
    demand = demand_rows([6, 6], [0, 0])
    existing = [site(6, {0}, [0], [20])]
    options = [site(10, {0}, [1], [10]), *(site(10, {0}, [0], [90 + i]) for i in range(40))]
    result = greedy_order(demand, existing, options, steps=1)
    assert [p.option for p in result.picks] == [0]
    assert result.picks[0].marginal == pytest.approx(144)
    assert result.evaluations < 10
    assert result.standalone.known.sum() < 10
    assert result.standalone.of([5])[0] == pytest.approx(0.0, abs=1e-9)  # valued when read
    assert result.standalone.known[5]


@settings(max_examples=30, deadline=None)
@given(instance=instances())
def test_a_warm_copy_is_the_same_optimum_and_independent(instance):
    demand, existing, options = instance
    rows = np.arange(len(demand))
    model = WarmTransport(demand, existing, rows)
    copy = model.copy()
    assert copy.objective == model.objective
    copy.open(options[0])
    assert copy.objective == pytest.approx(
        solve_network(demand, [*existing, options[0]]).objective, abs=1e-7
    )
    assert model.trial(options[-1]) == pytest.approx(
        solve_network(demand, [*existing, options[-1]]).objective, abs=1e-7
    )
    # The original is unchanged by its copy's opening.
    assert model.objective == pytest.approx(solve_network(demand, existing).objective, abs=1e-7)
    trials = ComponentTrials(demand, existing)
    for option in options:
        trials.gain(option)
    again = trials.copy()
    trials.open(options[0])
    assert again.gain(options[-1]) == pytest.approx(
        solve_network(demand, existing).objective
        - solve_network(demand, [*existing, options[-1]]).objective,
        abs=1e-7,
    )


@settings(max_examples=30, deadline=None)
@given(instance=instances())
def test_a_warm_solution_is_a_feasible_optimum_of_the_network(instance):
    demand, existing, options = instance
    model = WarmTransport(demand, [*existing, options[0]], np.arange(len(demand)))
    solution = model.solution()
    exact = solve_network(demand, [*existing, options[0]])
    harm = solution.flow @ solution.pair_harm + solution.unmet @ demand.unmet_harm
    assert harm == pytest.approx(exact.objective, abs=1e-6)
    placed = np.bincount(solution.pair_row, weights=solution.flow, minlength=len(demand))
    assert placed + solution.unmet == pytest.approx(demand.children, abs=1e-7)
    used = np.bincount(solution.pair_site, weights=solution.flow, minlength=len(existing) + 1)
    capacity = np.array([s.capacity for s in [*existing, options[0]]])
    assert (used <= capacity + 1e-7).all()


@settings(max_examples=40, deadline=None)
@given(instance=instances())
def test_picks_described_on_their_component_match_the_neighbourhood_network(instance):
    """Every figure that the optimum decides (harm averted, in two parts; children newly
    placed) is the same whichever solver describes a pick."""
    demand, existing, options = instance
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(greedy, "_WARM_RATIO", 10**9)  # every option on its component
        patch.setattr(warm_module, "_LARGE_ROWS", 0)  # read as a large network is
        warm = greedy_order(demand, existing, options, steps=3)
        patch.setattr(warm_module, "_LARGE_ROWS", 10**9)
        patch.setattr(greedy, "_WARM_RATIO", 0)
        patch.setattr(greedy, "_WARM_ROWS", 0)  # every option on a neighbourhood
        local = greedy_order(demand, existing, options, steps=3)
    assert [p.option for p in warm.picks] == [p.option for p in local.picks]
    opened = list(existing)
    for a, b in zip(warm.picks, local.picks, strict=True):
        before = solve_network(demand, opened)
        opened.append(options[a.option])
        after = solve_network(demand, opened)
        assert a.marginal == pytest.approx(before.objective - after.objective, abs=1e-6)
        assert a.mismatch_averted == pytest.approx(b.mismatch_averted, abs=1e-6)
        assert a.journey_averted == pytest.approx(b.journey_averted, abs=1e-6)
        assert a.newly_placed == pytest.approx(b.newly_placed, abs=1e-6)
        assert a.mismatch_averted == pytest.approx(
            mismatch_averted(demand, before, after), abs=1e-6
        )


def _check_network(demand, sites, solution):
    exact = solve_network(demand, sites)
    harm = solution.flow @ solution.pair_harm + solution.unmet @ demand.unmet_harm
    assert harm == pytest.approx(exact.objective, abs=1e-6)
    assert solution.objective == pytest.approx(exact.objective, abs=1e-6)
    # Laid out as solve_network lays it out: the same pairs in the same order.
    assert solution.pair_row.tolist() == exact.pair_row.tolist()
    assert solution.pair_site.tolist() == exact.pair_site.tolist()
    placed = np.bincount(solution.pair_row, weights=solution.flow, minlength=len(demand))
    assert placed + solution.unmet == pytest.approx(demand.children, abs=1e-7)
    used = np.bincount(solution.pair_site, weights=solution.flow, minlength=len(sites))
    assert (used <= np.array([s.capacity for s in sites]) + 1e-7).all()


@settings(max_examples=30, deadline=None)
@given(instance=instances(), chosen=st.sets(st.integers(0, 7), max_size=3))
def test_whole_networks_read_from_warm_lps_are_optima_laid_out_as_solved(instance, chosen):
    demand, existing, options = instance
    trials = ComponentTrials(demand, existing)
    for option in options:
        trials.gain(option)  # touches some components' LPs, not necessarily all
    _check_network(demand, existing, trials.copy().solution(existing))
    picked = sorted(c for c in chosen if c < len(options))[::-1]  # any order
    scorer = SetScorer(demand, existing, options, today=trials)
    _check_network(demand, [*existing, *(options[c] for c in picked)], scorer.solution(picked))


def test_the_large_network_path_ranks_and_plans_as_the_small_one(monkeypatch):
    """With every network counted large (trials by the dual simplex on reduced LPs, picks
    described and whole networks read from warm LPs) the demo's ranking, plan and network
    figures are those of the usual path; only the choice among equally optimal assignments
    may differ."""
    from sitefinder import load_scenario, rank
    from sitefinder.resources import default_scenario_path

    scenario = load_scenario(default_scenario_path())
    small = rank(scenario)
    monkeypatch.setattr(warm_module, "_LARGE_ROWS", 0)
    monkeypatch.setattr(warm_module, "_PAIRS_PER_ROW", 0)
    large = rank(scenario)
    columns = ["urn", "phase", "need_group", "in_plan"]
    assert large.ranking[columns].equals(small.ranking[columns])
    for column in ("harm_averted", "harm_averted_placing", "newly_placed"):
        assert large.ranking[column].tolist() == pytest.approx(small.ranking[column].tolist())
    assert large.plan.chosen["urn"].tolist() == small.plan.chosen["urn"].tolist()
    assert large.plan.objective == pytest.approx(small.plan.objective)
    for when in ("before", "after"):
        a, b = getattr(large, when), getattr(small, when)
        assert (a.total_harm, a.placed, a.unmet) == pytest.approx((b.total_harm, b.placed, b.unmet))
    placed = large.assignments.groupby("urn")["children"].sum()
    capacity = large.sites.groupby("urn")["capacity"].sum()
    assert (placed <= capacity.reindex(placed.index) + 1e-6).all()
