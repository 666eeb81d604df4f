"""The plans of the demo, Trafford and Rutland at several counts of bases, with the bases the
stopping rule kept out: the same as re-solving the whole MIP at every count gave (before the
one search; each plan proven optimal). Trafford at 8 and 12 bases asked keeps 6."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from sitefinder.config import load_scenario
from sitefinder.pipeline import RankResult, rank
from sitefinder.plan.candidates import build_candidates, greedy_start, selection_rules
from sitefinder.plan.choose import solver_settings
from sitefinder.plan.stopping import SetProblem, StoppingRule, choose_set
from sitefinder.resources import bundled_root

PRIMARY, SECONDARY = "primary", "secondary"
CI, CL, SEMH, SP = "communication_interaction", "cognition_learning", "semh", "sensory_physical"


def _plans(result: RankResult, counts: list[int]):
    """Each count's plan (urn, phase, need group of each base) and the bases the rule stopped
    ``(bases, option)``, chosen from the run's own arrays as ``rank --bases N`` chooses."""
    inputs, scenario = result.model, result.scenario
    assert inputs is not None
    candidates = build_candidates(scenario, inputs.options, inputs.option_sites)

    def option(c: int) -> tuple[str, str, str]:
        row = inputs.options.iloc[int(candidates.option[c])]
        return str(row["urn"]), str(row["phase"]), str(row["need_group"])

    for k in counts:
        asked = scenario.model_copy(update={"bases": k})
        rules = selection_rules(asked, inputs.options, candidates, inputs.greedy.standalone)
        problem = SetProblem(
            inputs.instance.rows, inputs.existing, candidates, rules,
            greedy_start(inputs.greedy, candidates, asked, k),
            today=inputs.greedy.standalone.today(),
        )  # fmt: skip
        chosen = choose_set(
            problem,
            settings=solver_settings(scenario, "optimal"),
            # the stopping rule alone, as when these plans were recorded (no minimum occupancy)
            stop=replace(StoppingRule.from_scenario(scenario), min_occupancy=0.0),
        )
        assert all(gap == 0.0 for _, _, _, gap in chosen.searches)  # each count proven
        yield (
            k,
            sorted(option(c) for c in chosen.chosen),
            [(s.bases, option(s.candidate)) for s in chosen.stopped],
        )


def test_the_demo_plans_by_count():
    result = rank(load_scenario(bundled_root() / "configs" / "demo.toml"))
    plans = {k: (chosen, stopped) for k, chosen, stopped in _plans(result, [2, 5, 8])}
    assert plans[2] == ([("990005", PRIMARY, CI), ("990067", SECONDARY, CI)], [])
    five = [
        ("990012", PRIMARY, CI), ("990025", PRIMARY, CI), ("990029", PRIMARY, SP),
        ("990067", SECONDARY, CI), ("990073", SECONDARY, CL),
    ]  # fmt: skip
    assert plans[5] == (five, [])
    eight = sorted(
        [*five, ("990003", PRIMARY, CI), ("990038", PRIMARY, CL), ("990063", SECONDARY, SEMH)]
    )
    assert plans[8] == (eight, [])


def _real(name: str) -> Path:
    folder = os.environ.get("SITEFINDER_REAL_DATA")
    if not folder or not Path(folder).is_dir():
        pytest.skip("SITEFINDER_REAL_DATA is not set")
    return bundled_root() / "configs" / "examples" / f"{name}.toml"


def test_rutland_plans_by_count():
    result = rank(load_scenario(_real("rutland")))
    plans = {k: (chosen, stopped) for k, chosen, stopped in _plans(result, [2, 4, 6])}
    assert plans[2] == ([("136530", SECONDARY, CL), ("142544", PRIMARY, CI)], [])
    four = [
        ("136530", SECONDARY, CL), ("136629", SECONDARY, SEMH), ("141452", PRIMARY, CI),
        ("141453", PRIMARY, CI),
    ]  # fmt: skip
    assert plans[4] == (four, [])
    six = sorted([*four, ("137340", SECONDARY, CI), ("139611", PRIMARY, SP)])
    assert plans[6] == (six, [])


def test_trafford_plans_by_count(trafford_assumed):
    # On the places GIAS implies (the example scales them to SEN2, and adds fewer bases).
    plans = {k: (chosen, stopped) for k, chosen, stopped in _plans(trafford_assumed, [3, 5, 8, 12])}
    assert plans[3] == (
        [("106285", PRIMARY, CI), ("106322", PRIMARY, CI), ("138123", SECONDARY, CI)],
        [],
    )
    five = [
        ("106285", PRIMARY, CI), ("106322", PRIMARY, CI), ("106340", PRIMARY, CI),
        ("106365", SECONDARY, CI), ("138123", SECONDARY, SEMH),
    ]  # fmt: skip
    assert plans[5] == (five, [])
    six = sorted([*five, ("138614", SECONDARY, CI)])
    # Beyond six bases every added base only shortens journeys, by under a harm point.
    late = [(8, ("143380", PRIMARY, CI)), (7, ("106341", PRIMARY, SEMH))]
    assert plans[8] == (six, late)
    assert plans[12] == (
        six,
        [
            (12, ("106355", PRIMARY, SEMH)), (11, ("106355", PRIMARY, SEMH)),
            (10, ("138124", SECONDARY, CI)), (9, ("106290", PRIMARY, CL)), *late,
        ],
    )  # fmt: skip
