"""Benders decomposition for the plan's set: every cut is valid, the search is exact, and when
its budgets run out the full MIP finishes from its best set."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from test_select import brute_force, harm_of, random_case

from sitefinder.model import benders as benders_module
from sitefinder.model import select
from sitefinder.model._highs import MipLimits
from sitefinder.model.benders import Rules, _Cuts, benders
from sitefinder.model.scoring import SetScorer
from sitefinder.model.select import SelectionMethod, SelectionRules, SolverSettings, select_sites

PLAN = MipLimits(rel_gap=0.0, abs_gap=1e-3)  # the plan proves to 0.01 harm points


def _rules(problem) -> Rules:
    return Rules(problem.group, problem.count, problem.location, problem.required, problem.excluded)


@pytest.mark.parametrize("seed", range(10))
def test_every_cut_bounds_every_set_from_below(seed):
    rng = np.random.default_rng(seed)
    demand, existing, candidates = random_case(rng, n_rows=7, n_cand=6)
    scorer = SetScorer(demand, existing, candidates)
    cuts = _Cuts(scorer)
    sets = [
        np.isin(np.arange(6), subset)
        for size in range(4)
        for subset in itertools.combinations(range(6), size)
    ]
    for open_ in sets[:: max(1, len(sets) // 6)]:
        cuts.solve(open_)  # a cut per component at each of these sets
    for open_ in sets:  # every cut holds at every set, tight where it was made
        harm = harm_of(
            demand, [*existing, *(c for c, o in zip(candidates, open_, strict=True) if o)]
        )
        assert cuts.lift(open_).sum() <= harm + 1e-6
        assert cuts.solve(open_) == pytest.approx(harm, abs=1e-7)
        # tight but for the room left for the prices' round-off (1e-6 per child)
        assert cuts.lift(open_).sum() == pytest.approx(harm, abs=1e-4)


@pytest.mark.parametrize("seed", range(10))
def test_benders_alone_finds_the_brute_force_optimum(seed):
    rng = np.random.default_rng(200 + seed)
    demand, existing, candidates = random_case(rng, n_rows=6, n_cand=8)
    groups = ["primary" if j % 3 else "secondary" for j in range(8)]
    counts = {"primary": int(rng.integers(1, 3)), "secondary": 1}
    locations = [j // 2 for j in range(8)]
    rules = SelectionRules(counts=counts, groups=groups, locations=locations, excluded=[7])
    problem = select._problem(demand, existing, candidates, rules)

    def ok(subset):
        used = [locations[j] for j in subset]
        return (
            7 not in subset
            and len(used) == len(set(used))
            and all(sum(groups[j] == g for j in subset) == n for g, n in counts.items())
        )

    start = select._quick_start(problem)
    found = benders(problem.scorer, _rules(problem), start, PLAN, deadline=time.perf_counter() + 60)
    assert found.proven
    assert ok(set(np.flatnonzero(found.best).tolist()))
    exact = brute_force(demand, existing, candidates, ok)
    assert found.harm == pytest.approx(exact, abs=1e-3)
    assert found.bound <= exact + 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_when_the_budgets_run_out_the_full_mip_finishes(seed, monkeypatch):
    rng = np.random.default_rng(300 + seed)
    demand, existing, candidates = random_case(rng, n_rows=7, n_cand=8)
    k = 3
    calls = []
    original = select._mip

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    def starved(*args, **kwargs):
        return benders_module.benders(*args, **kwargs, rounds=0)  # no master: no bound

    monkeypatch.setattr(select, "benders", starved)
    monkeypatch.setattr(select, "_mip", counted)
    settings = SolverSettings(method=SelectionMethod.optimal)
    best = select_sites(demand, existing, candidates, SelectionRules(k=k), settings=settings)
    exact = brute_force(demand, existing, candidates, lambda s: len(s) == k)
    assert best.proven and best.objective == pytest.approx(exact, abs=1e-6)
    assert calls == [1]  # the full MIP took over, from the start set, and proved it
