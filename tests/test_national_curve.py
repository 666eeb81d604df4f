"""Each authority's harm-by-number-of-bases curve ends where its stopping rule stops
(:mod:`sitefinder.national.curve`): hand-checked build orders, and an allocation that would
otherwise fund bases the authority's own plan refuses."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sitefinder.authorities import find_authority
from sitefinder.config import load_scenario
from sitefinder.model.greedy import Pick
from sitefinder.national.allocate import allocation_table
from sitefinder.national.curve import rule_curve
from sitefinder.plan.stopping import StoppingRule

PLACES = 10.0  # a base of 10 places
RULE = StoppingRule(min_children=None, min_harm_averted=1.0, min_occupancy=0.8)


def _pick(*, marginal: float, served: float, newly_placed: float) -> Pick:
    return Pick(
        option=0, marginal=marginal, mismatch_averted=0.0, journey_averted=marginal,
        standalone=np.nan, served=served, newly_placed=newly_placed, within_limit_gain=0.0,
        minutes_before=np.nan, minutes_after=10.0, served_rows=np.zeros(0, dtype=np.intp),
        served_children=np.zeros(0),
    )  # fmt: skip


# 15 children without a place, bases of 10: the first base takes 10 of them, the second the
# other 5 (50% full, under the 80% minimum occupancy), a third only shortens journeys.
ORDER = [
    _pick(marginal=250.0, served=10.0, newly_placed=10.0),
    _pick(marginal=125.0, served=5.0, newly_placed=5.0),
    _pick(marginal=3.0, served=9.0, newly_placed=0.0),
]
HALF = _pick(marginal=100.0, served=5.0, newly_placed=5.0)  # refused: half empty
IDLE = _pick(marginal=0.5, served=9.0, newly_placed=0.0)  # refused: places none, averts < 1


def test_the_rule_judges_each_base_by_what_it_adds():
    assert RULE.judge(ORDER[0], places=PLACES) == ""
    assert RULE.judge(HALF, places=PLACES) == "occupancy"
    # Without a minimum occupancy, 5 children newly placed is half the places: it passes.
    loose = StoppingRule(min_children=None, min_harm_averted=1.0, min_occupancy=0.0)
    assert loose.judge(HALF, places=PLACES) == ""
    assert loose.judge(ORDER[2], places=PLACES) == ""  # averts 3 >= 1 harm point
    assert loose.judge(IDLE, places=PLACES) == "rule"
    # The curve says why in words, without counts of children.
    curve = rule_curve([IDLE, IDLE, IDLE], stop=loose, places=PLACES, limit=20)
    assert curve.stopped.startswith("base 1 of its greedy order would place too few children")


def test_a_refused_base_is_passed_over_and_the_third_ends_the_curve():
    curve = rule_curve(ORDER, stop=RULE, places=PLACES, limit=20)
    assert curve.marginals.tolist() == [250.0, 3.0]  # the half-empty second passed over
    assert curve.passed_over == 1 and curve.stopped == ""  # the order ended, not the rule
    assert not curve.complete(limit=20)  # a longer order could add to it
    order = [ORDER[0], HALF, IDLE, ORDER[2], HALF, ORDER[2]]
    curve = rule_curve(order, stop=RULE, places=PLACES, limit=20)
    assert curve.marginals.tolist() == [250.0, 3.0]  # the 3rd refusal (base 5) ends it
    assert curve.passed_over == 3 and curve.complete(limit=20)
    assert (
        curve.stopped == "base 2 of its greedy order would be filled under selection.min_occupancy"
    )
    # A curve that reaches its limit first was not ended by the rule.
    curve = rule_curve(order, stop=RULE, places=PLACES, limit=1)
    assert curve.marginals.tolist() == [250.0] and curve.stopped == "" and curve.complete(limit=1)


def _run(name: str, curve: list[float], stopped: str, children: float) -> SimpleNamespace:
    gap = pd.DataFrame(
        {"phase": ["primary"], "need_group": ["semh"], "children": [children], "places": [0.0]}
    )
    return SimpleNamespace(
        authority=find_authority(name), curve=np.array(curve), curve_stopped=stopped, gap=gap,
        after=SimpleNamespace(mean_minutes=12.0), point=(400_000.0, 300_000.0),
    )  # fmt: skip


def test_the_allocation_funds_no_base_beyond_the_rule(tmp_path: Path):
    # Rutland's order averts the most harm per base, but its rule admits one base (the next
    # three would be half empty); Kent's admits all three. 50 places = 5 bases: Rutland 1
    # (not 3), Kent 3, one left unfunded.
    rutland = rule_curve([ORDER[0], HALF, HALF, HALF], stop=RULE, places=PLACES, limit=3)
    runs = [
        _run("Rutland", rutland.marginals.tolist(), rutland.stopped, 15.0),
        _run("Kent", [100.0, 90.0, 80.0], "", 400.0),
    ]
    path = tmp_path / "s.toml"
    path.write_text(
        'authority = "England"\n[inputs]\nschools = "schools.csv"\nbases = "bases.csv"\n'
        'areas = "areas.csv"\n'
        '[inputs.demand]\nmethod = "counts"\npath = "demand.csv"\n[national]\nplaces = 50\n',
        encoding="utf-8",
    )
    table, notes = allocation_table(runs, load_scenario(path))
    assert table["bases"].tolist() == [1, 3]
    assert table["curve_bases"].tolist() == [1, 3]
    assert table["curve_stopped"].tolist() == [True, False]
    assert table["harm_averted"].sum() == pytest.approx(250 + 270)
    assert any(
        "the stopping rule ended the curve of 1 authorities" in n
        and "Rutland, base 2 of its greedy order would be filled under" in n
        for n in notes
    ), notes
    assert any("1 bases left unfunded" in n for n in notes)
