"""Bases of more than one need and of several sizes, and the minimum occupancy, in the plan.

One area of 5 children with autism (communication and interaction) and 4 with SEMH, no base
within reach; one school beside it. A 10-place base for one need fills 50% or 40% of its
places, under the default minimum occupancy of 80%; a base for both needs fills 90%.
"""

from __future__ import annotations

import pytest
from plan_checks import SmallAuthority

from sitefinder import load_scenario, rank
from sitefinder.errors import ScenarioError

SCHOOLS = [
    ("990301", "Oak Primary", "primary", 400_300, 300_000),
    ("990302", "Elm Primary", "primary", 430_300, 300_000),
]
AREAS = [("E90000011", "Area A", 400_000, 300_000), ("E90000012", "Area B", 430_000, 300_000)]
DEMAND = [
    ("E90000011", "primary", "ASD", 5),
    ("E90000011", "primary", "SEMH", 4),
    ("E90000012", "primary", "ASD", 1),
]
BASES = [("990302", "primary", 1, "ASD")]  # area B's one child, far from area A
SETS = '[["communication_interaction", "semh"]]'


def _scenario(tmp_path, extra: str):
    authority = SmallAuthority(schools=SCHOOLS, bases=BASES, areas=AREAS, demand=DEMAND)
    return load_scenario(authority.write(tmp_path / "one", extra=extra))


def test_single_need_bases_are_kept_out_by_the_minimum_occupancy(tmp_path):
    # 5 and 4 children within reach of a 10-place base: neither could ever fill 80%.
    plan = rank(_scenario(tmp_path, 'bases = 1\nphases = ["primary"]\n')).plan
    assert plan.chosen.empty
    note = next(n for n in plan.notes if n.startswith("Minimum occupancy"))
    assert "candidate base(s) have fewer children within reach than 80% of their places" in note


def test_a_base_the_best_set_leaves_half_empty_is_kept_out_and_named(tmp_path):
    # A nearer base of 4 places beside area A: a new 10-place base there would take the other
    # 5 of its 9 children (50%), though 9 are within its reach.
    near = [("990303", "Ash Primary", "primary", 400_100, 300_000)]
    authority = SmallAuthority(
        schools=[*SCHOOLS, *near],
        bases=[*BASES, ("990303", "primary", 4, "ASD")],
        areas=AREAS,
        demand=[("E90000011", "primary", "ASD", 9), *DEMAND[2:]],
    )
    extra = 'bases = 1\nphases = ["primary"]\n[candidates]\nexclude_existing_hosts = true\n'
    plan = rank(load_scenario(authority.write(tmp_path / "near", extra=extra))).plan
    assert plan.chosen.empty
    stopped = plan.stopped.iloc[0]
    assert (stopped["urn"], stopped["reason"]) == ("990301", "occupancy")
    assert stopped["children_served"] == pytest.approx(5.0)
    note = next(n for n in plan.notes if n.startswith("Minimum occupancy"))
    assert "Oak Primary (primary Communication and interaction, 10 places) would serve 5" in note
    # Both sizes tie in harm; the 10-place one comes first and is cut to 5.
    sized = rank(
        load_scenario(
            authority.write(tmp_path / "sized", extra=extra + "[selection]\nsizes = [10, 5]\n")
        )
    ).plan
    chosen = sized.chosen.iloc[0]
    assert (chosen["urn"], chosen["places"], chosen["fill"]) == ("990301", 5, 1.0)
    assert "smaller" in set(sized.stopped["reason"])
    assert "so its smaller sizes were tried" in " ".join(sized.notes)


def test_a_base_for_both_needs_enters_and_says_its_fill_and_mix(tmp_path):
    extra = 'bases = 1\nphases = ["primary"]\nallow_small_counts = true\n'
    extra += f"suppression_threshold = 0\n[selection]\nneed_group_sets = {SETS}\n"
    result = rank(_scenario(tmp_path, extra))
    chosen = result.plan.chosen.iloc[0]
    assert chosen["need_group"] == "communication_interaction+semh"
    assert chosen["need_group_label"] == (
        "Communication and interaction + Social, emotional and mental health"
    )
    assert chosen["children_served"] == pytest.approx(9.0)
    assert chosen["fill"] == pytest.approx(0.9)
    assert chosen["mix"] == (
        "Communication and interaction 5; Social, emotional and mental health 4"
    )


def test_min_occupancy_zero_lets_a_half_empty_base_in(tmp_path):
    extra = 'bases = 1\nphases = ["primary"]\n[selection]\nmin_occupancy = 0\n'
    plan = rank(_scenario(tmp_path, extra)).plan
    assert list(plan.chosen["need_group"]) == ["communication_interaction"]
    assert plan.chosen["fill"].iloc[0] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        ('[["communication_interaction", "autism"]]',
         "selection.need_group_sets[0]: 'autism' is not a need group a new base may serve"),
        ('[["semh"]]', "selection.need_group_sets[0]: a set needs two or more need groups"),
        ('[["semh", "semh"]]', "selection.need_group_sets[0]: names a need group twice"),
        ('[["semh", "communication_interaction"], ["communication_interaction", "semh"]]',
         "selection.need_group_sets: a set is listed twice"),
    ],
)  # fmt: skip
def test_bad_need_group_sets_are_named(tmp_path, sets, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _scenario(tmp_path, f"[selection]\nneed_group_sets = {sets}\n")


def test_the_programme_opens_a_base_for_both_needs_and_lends_its_places_by_its_mix(tmp_path):
    extra = 'phases = ["primary"]\nallow_small_counts = true\nsuppression_threshold = 0\n'
    extra += f"[selection]\nneed_group_sets = {SETS}\n"
    extra += "[programme]\nyears = [2026, 2027]\ngrowth = 0.0\n"
    result = rank(_scenario(tmp_path, extra))
    row = result.programme.iloc[0]
    assert (row["year"], row["need_groups"]) == (2026, "communication_interaction+semh")
    assert row["fill"] == pytest.approx(0.9)
    assert row["mix"] == "Communication and interaction 5; Social, emotional and mental health 4"
    table = result.sufficiency.set_index(["year", "need_group"])
    assert table.loc[(2026, "communication_interaction"), "places_added"] == pytest.approx(50 / 9)
    assert table.loc[(2026, "semh"), "places_added"] == pytest.approx(40 / 9)
    assert len(result.programme) == 1  # nothing left to place in 2027
    years = result.programme_years.set_index("year")
    assert years.loc[2026, "unplaced_with"] == pytest.approx(0.0, abs=1e-6)
    assert years.loc[2026, "capital"] == pytest.approx(195_590)
