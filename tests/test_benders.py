"""Benders decomposition for the plan's set: every cut is valid, the relaxations are the full
MIP's, the search is exact, and when its budgets run out the full MIP finishes from its best
set."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import numpy as np
import pytest
from test_select import brute_force, harm_of, random_case

from sitefinder.model import benders as benders_module
from sitefinder.model import select
from sitefinder.model._highs import MipLimits, solve_highs
from sitefinder.model.benders import CutPool, Rules, _Gains, _Relaxed, benders
from sitefinder.model.network import DemandRows, Site
from sitefinder.model.scoring import SetScorer
from sitefinder.model.select import SelectionMethod, SelectionRules, SolverSettings, select_sites

PLAN = MipLimits(rel_gap=0.0, abs_gap=1e-3)  # the plan proves to 0.01 harm points


def _rules(problem) -> Rules:
    return Rules(problem.group, problem.count, problem.location, problem.required, problem.excluded)


def _sets(n: int, most: int) -> list[np.ndarray]:
    return [
        np.isin(np.arange(n), subset)
        for size in range(most + 1)
        for subset in itertools.combinations(range(n), size)
    ]


def _knapsack(prices, demand, site) -> float:
    """The most ``site`` can earn at ``prices``: fill its places with the rows of the largest
    excess first, each row's children capped at ``min(d, C)``."""
    excess = prices[site.rows] - site.harm
    left, total = site.capacity, 0.0
    for r in np.argsort(-excess, kind="stable"):
        if excess[r] <= 0 or left <= 0:
            break
        take = min(demand.children[site.rows[r]], site.capacity, left)
        total += take * excess[r]
        left -= take
    return total


@pytest.mark.parametrize(("seed", "n_rows", "most"), [(s, 12, 6.0) for s in range(6)] + [
    (s, 400, 0.5) for s in range(6)  # many small rows: only the top few fill a base
])  # fmt: skip
def test_the_gain_bounds_are_the_fractional_knapsack(seed, n_rows, most):
    rng = np.random.default_rng(seed)
    demand = DemandRows(
        rng.uniform(0.05, most, n_rows), np.zeros(n_rows, np.intp), np.full(n_rows, 45.0),
        np.full(n_rows, 30.0),
    )  # fmt: skip
    sites = []
    for _ in range(5):
        rows = np.flatnonzero(rng.random(n_rows) < 0.6)
        sites.append(Site(float(rng.integers(1, 9)), frozenset({0}), rows, np.zeros(len(rows)),
                          rng.uniform(0, 35, len(rows))))  # fmt: skip
    sites.append(Site(4.0, frozenset({0}), np.zeros(0, np.intp), np.zeros(0), np.zeros(0)))
    prices = rng.uniform(-5, 30, n_rows)
    prices[rng.random(n_rows) < 0.2] = np.nan  # rows outside the component
    gains = _Gains(demand, sites)(prices)
    expected = [_knapsack(np.nan_to_num(prices, nan=-np.inf), demand, s) for s in sites]
    assert gains == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", range(10))
def test_every_cut_bounds_every_set_from_below(seed):
    rng = np.random.default_rng(seed)
    demand, existing, candidates = random_case(rng, n_rows=7, n_cand=6)
    scorer = SetScorer(demand, existing, candidates)
    pool = CutPool(scorer)
    sets = _sets(6, 3)
    for open_ in sets[:: max(1, len(sets) // 6)]:
        pool.solve(open_)  # a cut per component at each of these sets, tight there
    for _ in range(4):  # and cuts at fractional openings
        point = rng.random(6)
        pool.separate(point, point, np.full(pool.parts, -1e9))
    assert len(pool.cuts) > pool.parts
    for open_ in sets:
        harm = harm_of(
            demand, [*existing, *(c for c, o in zip(candidates, open_, strict=True) if o)]
        )
        assert pool.lift(open_).sum() <= harm + 1e-7
        assert pool.solve(open_) == pytest.approx(harm, abs=1e-7)
        assert pool.lift(open_).sum() == pytest.approx(harm, rel=1e-8, abs=1e-7)  # tight


def _relaxation(demand, existing, candidates, y) -> float:
    """The full MIP's LP relaxation with the openings fixed at ``y``."""
    problem = select._problem(demand, existing, candidates, SelectionRules(k=0, excluded=()))
    model, _ = select._mip_model(problem)
    n = len(candidates)
    lower, upper = model.lower.copy(), model.upper.copy()
    lower[:n] = upper[:n] = y
    count = np.flatnonzero((model.row_lower == 0) & (model.row_upper == 0))[-1]
    row_lower, row_upper = model.row_lower.copy(), model.row_upper.copy()
    row_lower[count], row_upper[count] = -np.inf, np.inf  # the count row, freed
    relaxed = replace(
        model, lower=lower, upper=upper, integer=np.zeros_like(model.integer),
        row_lower=row_lower, row_upper=row_upper,
    )  # fmt: skip
    return solve_highs(relaxed).objective


@pytest.mark.parametrize("seed", range(8))
def test_the_relaxation_is_the_full_mips_and_its_cut_is_tight_there(seed):
    rng = np.random.default_rng(100 + seed)
    demand, existing, candidates = random_case(rng, n_rows=8, n_cand=5)
    scorer = SetScorer(demand, existing, candidates)
    pool = CutPool(scorer)
    for _ in range(3):
        y = np.round(rng.random(5), 3)
        expected = _relaxation(demand, existing, candidates, y)
        total = 0.0
        for part in range(pool.parts):
            relaxed = _Relaxed(scorer, part, pool.mine[part])
            prices = relaxed.solve(y)
            cut = pool._cut(part, prices)
            total += cut.at(y)
        assert total == pytest.approx(expected, rel=1e-8, abs=1e-7)


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
    found = benders(
        CutPool(problem.scorer), _rules(problem), start, PLAN, deadline=time.perf_counter() + 60
    )
    assert found.proven
    assert ok(set(np.flatnonzero(found.best).tolist()))
    exact = brute_force(demand, existing, candidates, ok)
    assert found.harm == pytest.approx(exact, abs=1e-3)
    assert found.bound <= exact + 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_one_pool_serves_every_count(seed):
    # The cuts of the searches at larger counts hold at smaller ones: one pool, each count's
    # search starting from every cut found before it, proves the same optima as fresh pools.
    rng = np.random.default_rng(400 + seed)
    demand, existing, candidates = random_case(rng, n_rows=8, n_cand=7)
    scorer = SetScorer(demand, existing, candidates)
    shared = CutPool(scorer)
    settings = SolverSettings(method=SelectionMethod.optimal, abs_gap=1e-6)
    for k in (4, 3, 2, 1):
        before = len(shared.cuts)
        one = select_sites(
            demand, existing, candidates, SelectionRules(k=k), settings=settings, scorer=scorer,
            cuts=shared,
        )  # fmt: skip
        assert len(shared.cuts) >= before
        exact = brute_force(demand, existing, candidates, lambda s, k=k: len(s) == k)
        assert one.proven and one.objective == pytest.approx(exact, abs=1e-6)
    with pytest.raises(ValueError, match="another scorer"):
        select_sites(
            demand, existing, candidates, SelectionRules(k=1), settings=settings,
            scorer=SetScorer(demand, existing, candidates), cuts=shared,
        )  # fmt: skip


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

    def starved(*args, **kwargs):  # no master at all: no bound
        return benders_module.benders(*args, **{**kwargs, "rounds": 0, "lp_rounds": 0})

    monkeypatch.setattr(select, "benders", starved)
    monkeypatch.setattr(select, "_mip", counted)
    settings = SolverSettings(method=SelectionMethod.optimal)
    best = select_sites(demand, existing, candidates, SelectionRules(k=k), settings=settings)
    exact = brute_force(demand, existing, candidates, lambda s: len(s) == k)
    assert best.proven and best.objective == pytest.approx(exact, abs=1e-6)
    assert calls == [1]  # the full MIP took over, from the start set, and proved it


def test_a_proposal_made_of_parts_already_solved_is_taken():
    # Two classes apart, a base of each to open: sets {a1, b2} and {a2, b1} are solved, so
    # the master knows both parts of {a1, b1} exactly and proposes it without anything new
    # to learn: it is the best set, and the search must take it (not stop at its start).
    demand = DemandRows(
        np.array([4.0, 4.0]), np.array([0, 1], np.intp), np.full(2, 45.0), np.full(2, 20.0)
    )

    def base(klass: int, harm: float) -> Site:
        return Site(4.0, frozenset({klass}), np.array([klass]), np.array([harm]), np.array([harm]))

    candidates = [base(0, 1.0), base(0, 5.0), base(1, 1.0), base(1, 5.0)]  # a1 a2 b1 b2
    scorer = SetScorer(demand, [], candidates)
    pool = CutPool(scorer)
    pool.solve(np.array([True, False, False, True]))
    pool.solve(np.array([False, True, True, False]))
    rules = Rules(
        np.array([0, 0, 1, 1]), np.array([1, 1]), np.arange(4), np.zeros(4, bool),
        np.zeros(4, bool),
    )  # fmt: skip
    start = np.array([True, False, False, True])
    found = benders(pool, rules, start, PLAN, deadline=time.perf_counter() + 60, lp_rounds=0)
    assert found.proven and found.best.tolist() == [True, False, True, False]
    assert found.harm == pytest.approx(8.0)


def test_beyond_the_full_mips_size_benders_searches_alone(monkeypatch):
    monkeypatch.setattr(select, "FULL_MIP_MAX_PAIRS", 0)

    def never(*args, **kwargs):
        raise AssertionError("the full MIP was built")

    monkeypatch.setattr(select, "_mip", never)
    settings = SolverSettings(method=SelectionMethod.optimal)
    unproven = 0
    for seed in range(4):
        rng = np.random.default_rng(500 + seed)
        demand, existing, candidates = random_case(rng, n_rows=7, n_cand=8)
        exact = brute_force(demand, existing, candidates, lambda s: len(s) == 3)
        best = select_sites(demand, existing, candidates, SelectionRules(k=3), settings=settings)
        assert best.proven and best.objective == pytest.approx(exact, abs=1e-2)
        # Starved of nodes (one master LP) it stops there and says so, its gap a true bound.
        starved = replace(settings, node_limit=1)
        short = select_sites(demand, existing, candidates, SelectionRules(k=3), settings=starved)
        if short.proven:
            assert short.objective == pytest.approx(exact, abs=1e-2)
        else:
            unproven += 1
            assert short.limit == "nodes" and 0 < short.gap <= 1
            assert short.objective * (1 - short.gap) <= exact + 1e-6
    assert unproven >= 2
