"""``method="auto"``: exact where Benders proves the set within its budget, else the greedy set
with the search's lower bound; the same instance always gets the same answer."""

from __future__ import annotations

import numpy as np
import pytest
from test_select import brute_force, random_case

from sitefinder.model import select
from sitefinder.model.select import SelectionMethod, SelectionRules, SolverSettings, select_sites

AUTO = SolverSettings(method=SelectionMethod.auto)
GREEDY = SolverSettings(method=SelectionMethod.greedy)


def _case(seed: int):
    return random_case(np.random.default_rng(700 + seed), n_rows=8, n_cand=8)


@pytest.mark.parametrize("seed", range(4))
def test_beyond_the_mips_size_auto_is_exact_where_benders_proves_it(seed, monkeypatch):
    monkeypatch.setattr(select, "AUTO_MAX_PAIRS", 0)  # every instance is "large"
    monkeypatch.setattr(select, "_mip", lambda *a, **k: pytest.fail("the full MIP was built"))
    demand, existing, candidates = _case(seed)
    exact = brute_force(demand, existing, candidates, lambda s: len(s) == 3)
    result = select_sites(demand, existing, candidates, SelectionRules(k=3), settings=AUTO)
    assert result.method == "optimal" and result.proven and result.limit == ""
    assert result.gap == 0.0
    assert result.objective == pytest.approx(exact, abs=1e-2)


def test_out_of_budget_auto_keeps_the_greedy_set_and_states_a_true_gap(monkeypatch):
    monkeypatch.setattr(select, "AUTO_MAX_PAIRS", 0)
    monkeypatch.setattr(select, "AUTO_NODES", 1)  # one master LP: rarely a proof
    fell_back = 0
    for seed in range(8):
        demand, existing, candidates = _case(seed)
        rules = SelectionRules(k=3)
        exact = brute_force(demand, existing, candidates, lambda s: len(s) == 3)
        result = select_sites(demand, existing, candidates, rules, settings=AUTO)
        if result.proven:  # the bound met the set at once: then it is the optimum
            assert result.gap == 0.0
            assert result.objective == pytest.approx(exact, abs=1e-2)
            continue
        fell_back += 1
        assert result.limit == "budget"
        # The gap is against a lower bound of every set: the optimum lies within it.
        assert 0.0 < result.gap <= 1.0
        assert result.objective * (1 - result.gap) <= exact + 1e-6
        assert result.objective >= exact - 1e-6
        greedy = select_sites(demand, existing, candidates, rules, settings=GREEDY)
        if result.method == "greedy":  # the greedy method's own set
            assert result.chosen.tolist() == greedy.chosen.tolist()
            assert result.objective == pytest.approx(greedy.objective)
        else:  # the exact search's best, only where it beats the greedy set
            assert result.method == "optimal"
            assert result.objective < greedy.objective - 1e-6
    assert fell_back >= 2


def test_auto_gives_the_same_answer_every_time(monkeypatch):
    monkeypatch.setattr(select, "AUTO_MAX_PAIRS", 0)
    for nodes in (1, select.AUTO_NODES):
        monkeypatch.setattr(select, "AUTO_NODES", nodes)
        demand, existing, candidates = _case(1)
        runs = [
            select_sites(demand, existing, candidates, SelectionRules(k=3), settings=AUTO)
            for _ in range(2)
        ]
        first, second = runs
        assert first.chosen.tolist() == second.chosen.tolist()
        assert (first.method, first.limit, first.proven) == (
            second.method,
            second.limit,
            second.proven,
        )
        assert first.objective == second.objective
        assert first.gap == second.gap or (np.isnan(first.gap) and np.isnan(second.gap))


def test_a_demo_plan_that_auto_fell_back_on_says_so_in_every_output(demo_config, monkeypatch):
    from sitefinder.config import load_scenario
    from sitefinder.pipeline import rank
    from sitefinder.published import plan_summary

    monkeypatch.setattr(select, "AUTO_MAX_PAIRS", 0)
    monkeypatch.setattr(select, "AUTO_NODES", 1)
    result = rank(load_scenario(demo_config), method="auto")
    plan, summary = result.plan, plan_summary(result)
    assert plan.limit == "budget" and not plan.proven
    assert summary["stopped_by_limit"] == "budget" and summary["proven_optimal"] is False
    assert summary["gap"] == round(plan.gap, 6) and 0 < plan.gap <= 1
    assert f"optimality gap {plan.gap:.2%}" in summary["proof"]
    assert any("not proven optimal within the exact search's budget" in n for n in plan.notes)
    # Its gap is true: the exact plan is no better than the bound it states.
    exact = rank(load_scenario(demo_config), method="optimal").plan
    assert exact.proven and exact.objective >= plan.objective * (1 - plan.gap) - 1e-6
