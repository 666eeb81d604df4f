"""The plan's stopping rule, honest ties, one answer per scenario, and true explanations."""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from itertools import pairwise

import numpy as np
import pytest
from plan_checks import SmallAuthority, check_explanations, random_authority, rebuild
from typer.testing import CliRunner

from sitefinder import load_scenario, rank, with_settings, write_geopackage
from sitefinder.cli import app
from sitefinder.model.network import DemandRows, Site
from sitefinder.model.scoring import SetScorer, gain_bound
from sitefinder.model.select import SelectionRules
from sitefinder.plan import StoppingRule
from sitefinder.plan.candidates import Candidates
from sitefinder.plan.ties import find_alternatives

# Area A (8 children, no base within reach) and area B (3 children, placed 18 minutes away at
# an existing base of 3 places). A base at school A places A's children; a base at B1 next to B
# only shortens B's journeys: it places nobody and averts 0.10 harm points.
SCHOOLS = [
    ("990201", "Alder Primary", "primary", 400_500, 300_000),
    ("990202", "Beech Primary", "primary", 425_000, 300_000),
    ("990203", "Birch Primary", "primary", 420_200, 300_000),
    ("990204", "Cedar Primary", "primary", 410_000, 320_000),
    ("990205", "Aspen Primary", "primary", 400_600, 300_000),
]
AREAS = [("E90000001", "Area A", 400_000, 300_000), ("E90000002", "Area B", 420_000, 300_000)]
DEMAND = [("E90000001", "primary", "ASD", 8), ("E90000002", "primary", "ASD", 3)]
BASES = [("990202", "primary", 3, "ASD;SLCN")]


def two_areas(tmp_path, extra="bases = 2\n", schools=SCHOOLS[:4]):
    return load_scenario(
        SmallAuthority(schools=schools, bases=BASES, areas=AREAS, demand=DEMAND).write(
            tmp_path / "two", extra=extra
        )
    )


def test_a_base_that_places_nobody_and_averts_little_is_stopped(tmp_path):
    result = rank(two_areas(tmp_path))
    plan = result.plan
    assert list(plan.chosen["urn"]) == ["990201"]
    assert plan.requested == 2
    stopped = plan.stopped.iloc[0]
    assert (stopped["bases"], stopped["urn"], stopped["newly_placed"]) == (2, "990203", 0.0)
    # Recomputed: B's three children at Beech (existing) or at Birch (new).
    built = rebuild(result)
    alder = built.site(result, "990201", "primary", "communication_interaction", 10)
    birch = built.site(result, "990203", "primary", "communication_interaction", 10)
    averted = built.harm([alder]).objective - built.harm([alder, birch]).objective
    assert 0.05 < averted < 1.0
    assert stopped["harm_averted"] == pytest.approx(averted, abs=1e-6)
    assert plan.notes[0] == (
        "1 of 2 requested new bases are worth adding: the 2nd (Birch Primary, primary"
        f" Communication and interaction) would place 0 children who had no base place and avert"
        f" {averted:.2f} harm points (the stopping rule: a new base must place at least 5"
        " children who had no base place or avert 1.00 harm points)."
    )
    ranking = result.ranking.set_index("urn")
    assert bool(ranking.loc["990201", "passes_rule"])
    assert not bool(ranking.loc["990203", "passes_rule"])
    assert ranking.loc["990203", "notes"].endswith("below the stopping rule")


def test_the_geopackage_says_how_many_bases_were_worth_adding(tmp_path):
    result = rank(two_areas(tmp_path))
    path = write_geopackage(result, tmp_path / "rule.gpkg")
    with sqlite3.connect(path) as db:
        info = dict(db.execute("select key, value from run_info"))
    assert info["selection_requested_bases"] == "2"
    assert info["plan_notes"].startswith("1 of 2 requested new bases are worth adding")


def test_the_rule_thresholds_and_required_bases(tmp_path):
    loose = rank(
        two_areas(tmp_path, "bases = 2\n[selection]\nmin_harm_averted = 0.05\nmin_occupancy = 0\n")
    ).plan
    assert sorted(loose.chosen["urn"]) == ["990201", "990203"] and loose.stopped.empty
    strict = rank(
        two_areas(tmp_path, "bases = 2\n[selection]\nmin_children = 9\nmin_harm_averted = 500\n")
    ).plan
    assert strict.chosen.empty
    assert list(strict.stopped["bases"]) == [2, 1]
    assert strict.notes[0].startswith("0 of 2 requested new bases are worth adding: the 2nd")
    required = rank(
        two_areas(tmp_path, 'bases = 2\n[selection]\nrequired_urns = ["990203"]\n')
    ).plan
    assert sorted(required.chosen["urn"]) == ["990201", "990203"]  # required stays
    assert required.chosen.set_index("urn").loc["990203", "harm_averted"] < 1.0


def test_stopping_rule_defaults():
    rule = StoppingRule()
    assert rule.children_needed(10) == 5
    assert rule.passes(newly_placed=5, harm_averted=0.01, places=10)
    assert rule.passes(newly_placed=0, harm_averted=1.0, places=10)
    assert not rule.passes(newly_placed=4.9, harm_averted=0.99, places=10)
    assert not StoppingRule(0, 0).passes(newly_placed=0, harm_averted=0.0, places=10)


def test_every_base_of_the_demo_plan_passes_and_every_stopped_base_failed(scenario_file):
    result = rank(
        load_scenario(
            scenario_file("bases = 5\n[selection]\nmin_harm_averted = 100\nmin_occupancy = 0\n")
        )
    )
    plan, rule = result.plan, StoppingRule(None, 100.0)
    assert 3 <= len(plan.chosen) < 5 and len(plan.stopped) == 5 - len(plan.chosen)
    assert plan.notes[0].startswith(f"{len(plan.chosen)} of 5 requested new bases")
    assert "would place <5 children" in plan.notes[0]  # 3 children: suppressed
    built = rebuild(result)
    sites = built.planned(result)  # from the published table
    full = built.harm(sites)
    for i, row in plan.chosen.iterrows():
        without = built.harm(sites[:i] + sites[i + 1 :])
        placed = without.unmet.sum() - full.unmet.sum()
        averted = without.objective - full.objective
        assert row["harm_averted"] == pytest.approx(averted, abs=1e-6)
        assert row["newly_placed"] == pytest.approx(placed, abs=1e-6)
        assert rule.passes(newly_placed=placed, harm_averted=averted, places=10)
        assert averted >= 100 or placed >= 5
    for row in plan.stopped.itertuples():
        assert not rule.passes(
            newly_placed=row.newly_placed, harm_averted=row.harm_averted, places=row.places
        )
    assert list(plan.stopped["bases"]) == list(range(5, len(plan.chosen), -1))
    ranking = result.ranking
    expected = [
        rule.passes(newly_placed=p, harm_averted=h, places=10)
        for p, h in zip(ranking["newly_placed"], ranking["harm_averted"], strict=True)
    ]
    assert list(ranking["passes_rule"]) == expected and not all(expected)


def test_alternatives_are_within_the_tolerance_and_found(tmp_path):
    result = rank(two_areas(tmp_path, "bases = 1\n", schools=SCHOOLS))
    alternatives = result.plan.alternatives
    chosen = result.plan.chosen.iloc[0]
    assert chosen["urn"] in {"990201", "990205"}
    other = "990205" if chosen["urn"] == "990201" else "990201"
    mine = alternatives[alternatives["need_group"] == "communication_interaction"]
    assert list(mine["alternative_urn"]) == [other]  # Cedar and Birch are far from area A
    assert mine["harm_difference"].iloc[0] <= 0.01 * chosen["harm_averted"]
    assert f"({other})" in chosen["alternatives"]


def _random_network(seed):
    rng = np.random.default_rng(seed)
    n_rows = 8
    klass = rng.integers(0, 2, size=n_rows).astype(np.intp)
    demand = DemandRows(
        rng.uniform(0.5, 6, size=n_rows), klass, np.full(n_rows, 45.0), np.full(n_rows, 5.0)
    )

    def site(capacity):
        served = int(rng.integers(0, 2))
        rows = np.flatnonzero(klass == served)
        harm = rng.uniform(0, 2.0, size=len(rows)) * (rng.random(len(rows)) < 0.8)
        return Site(float(capacity), frozenset({served}), rows, harm * 30, harm)

    existing = [site(rng.integers(2, 6))]
    candidates = [site(rng.integers(2, 8)) for _ in range(9)]
    return demand, existing, candidates


@pytest.mark.parametrize("seed", range(10))
def test_tie_prefilter_never_drops_an_alternative(seed):
    demand, existing, sites = _random_network(seed)
    scorer = SetScorer(demand, existing, sites)
    n = len(sites)
    candidates = Candidates(
        sites,
        np.arange(n, dtype=np.intp),
        np.full(n, 5, dtype=np.int64),
        list(range(n)),
        ["g"] * n,
    )
    chosen = [0, 3, 5]
    rules = SelectionRules(k=3, locations=list(range(n)))
    tolerance = [0.01, 0.2, 0.6][seed % 3]
    found = {
        (p, o)
        for p, o, _ in find_alternatives(scorer, candidates, rules, chosen, tolerance=tolerance)
    }
    current = scorer.harm(chosen)
    expected = set()
    for p, c in enumerate(chosen):
        others = [x for x in chosen if x != c]
        averted = scorer.harm(others) - current
        for o in set(range(n)) - set(chosen):
            bound = gain_bound(scorer.prices(scorer.component[o], others), demand, sites[o])
            gain = scorer.harm(others) - scorer.harm([*others, o])
            assert gain <= bound + 1e-7  # the bound is safe
            if scorer.harm([*others, o]) - current <= tolerance * averted + 1e-9:
                expected.add((p, o))
    assert found == expected


def test_rank_twice_gives_one_plan(scenario_file):
    scenario = load_scenario(scenario_file("bases = 4\n[robustness]\nruns = 2\n"))
    first, second = rank(scenario).plan, rank(scenario).plan
    for name in ("chosen", "left_out", "alternatives", "stopped"):
        assert getattr(first, name).equals(getattr(second, name)), name
    assert (first.proof(), first.notes, first.objective) == (
        second.proof(),
        second.notes,
        second.objective,
    )
    assert first.robustness.sort_index().equals(second.robustness.sort_index())


def test_rank_report_and_geopackage_show_the_same_plan(tmp_path):
    runner = CliRunner()
    ranked = runner.invoke(app, ["rank", "--format", "json", "--output", str(tmp_path / "p.gpkg")])
    assert ranked.exit_code == 0, ranked.output
    plan = json.loads(ranked.stdout)["plan"]
    report = runner.invoke(app, ["report", "--output", str(tmp_path / "r.html")])
    assert report.exit_code == 0, report.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    urns = [row["urn"] for row in plan["chosen"]]
    assert plan["proven_optimal"] and plan["proof"] in html
    shown = [m for m in re.findall(r"\((99\d{4})\)", html) if m in urns]
    assert shown[: len(urns)] == urns  # the plan table lists the same bases in the same order
    with sqlite3.connect(tmp_path / "p.gpkg") as db:
        planned = [r[0] for r in db.execute("select urn from planned_bases order by site")]
        info = dict(db.execute("select key, value from run_info"))
    assert planned == urns and info["selection_proof"] == plan["proof"]


def test_every_reason_and_area_is_true_on_the_demo():
    from sitefinder.resources import default_scenario_path

    scenario = with_settings(load_scenario(default_scenario_path()), {"bases": 4})
    result = rank(scenario)
    assert check_explanations(result) == []
    assert not result.plan.left_out.empty


@pytest.mark.parametrize("seed", range(4))
def test_every_reason_and_area_is_true_on_random_authorities(tmp_path, seed):
    scenario = load_scenario(random_authority(tmp_path, seed, bases=2 + seed % 2))
    result = rank(with_settings(scenario, {"selection.tie_tolerance": [0.0, 0.01, 0.0, 0.2][seed]}))
    assert check_explanations(result) == []
    reasons = " ".join(result.plan.left_out["reason"])
    assert "at higher harm" not in reasons


def test_the_geopackage_carries_the_alternatives(tmp_path, scenario_file):
    result = rank(load_scenario(scenario_file("bases = 2\n")))
    path = write_geopackage(result, tmp_path / "a.gpkg")
    with sqlite3.connect(path) as db:
        rows = dict(db.execute("select urn, alternatives from planned_bases"))
    assert rows == dict(
        zip(result.plan.chosen["urn"], result.plan.chosen["alternatives"], strict=True)
    )
    assert any(rows.values())


def test_choices_are_in_order_of_harm_averted(scenario_file):
    chosen = rank(load_scenario(scenario_file("bases = 4\n"))).plan.chosen
    assert all(a >= b - 1e-9 for a, b in pairwise(chosen["harm_averted"]))


def test_the_checker_catches_false_explanations(tmp_path):
    result = rank(load_scenario(random_authority(tmp_path, 7, bases=2)))
    assert check_explanations(result) == []
    plan = result.plan

    def with_plan(**tables):
        return dataclasses.replace(result, plan=dataclasses.replace(plan, **tables))

    chosen = plan.chosen.copy()
    chosen.loc[0, "areas_served"] = "Area 999 (7)"
    assert check_explanations(with_plan(chosen=chosen))
    first = plan.left_out.index[plan.left_out["reason"].str.match("an equivalent|serves|adds")][0]
    for claim in (
        "adds only 999.00 harm points once the chosen bases are open",
        f"serves the same areas as {chosen.loc[0, 'name']} (choice #1), 0.0 km away",
        f"an equivalent alternative to {chosen.loc[0, 'name']} (choice #1): in its place the"
        " plan's harm would rise by only 0.00 harm points (within the 1% tie tolerance)",
    ):
        left = plan.left_out.copy()
        assert left.loc[first, "reason"] != claim
        left.loc[first, "reason"] = claim
        assert check_explanations(with_plan(left_out=left)), claim


def test_trafford_plan_passes_the_rule_and_explains_itself_truly(trafford_result):
    result = trafford_result
    plan, rule = result.plan, StoppingRule()
    assert plan.proven and plan.limit == ""
    assert len(plan.chosen) + len(plan.stopped) == plan.requested
    built = rebuild(result)
    sites = built.planned(result)  # from the published table
    full = built.harm(sites)
    for i in range(len(sites)):
        without = built.harm(sites[:i] + sites[i + 1 :])
        placed = without.unmet.sum() - full.unmet.sum()
        assert rule.passes(
            newly_placed=placed, harm_averted=without.objective - full.objective, places=10
        )
    for row in plan.stopped.itertuples():
        assert not rule.passes(
            newly_placed=row.newly_placed, harm_averted=row.harm_averted, places=row.places
        )
    averted = plan.chosen.set_index("choice")["harm_averted"]
    tied = plan.alternatives[plan.alternatives["equivalent_by"] == "tie tolerance"]
    assert (tied["harm_difference"] <= 0.01 * tied["choice"].map(averted) + 1e-9).all()
    # the rest are within what the journeys' accuracy could change: beyond the tolerance
    loose = plan.alternatives[plan.alternatives["equivalent_by"] == "journey accuracy"]
    assert (loose["harm_difference"] > 0.01 * loose["choice"].map(averted)).all()
    assert check_explanations(result) == []


def test_limits_are_reported_and_the_node_limit_decides(scenario_file):
    scenario = load_scenario(scenario_file("bases = 5\n"))
    limited = with_settings(scenario, {"selection.node_limit": 1})
    plan = rank(limited).plan
    assert not plan.proven and plan.limit == "nodes" and 0 < plan.gap <= 1
    assert plan.proof() == f"optimality gap {plan.gap:.2%} at the node limit"
    assert any("stopped at its node limit (selection.node_limit = 1)" in n for n in plan.notes)
    again = rank(limited).plan
    assert again.chosen.equals(plan.chosen) and again.gap == plan.gap  # deterministic
    clock = rank(with_settings(scenario, {"selection.time_limit_seconds": 0.01})).plan
    assert clock.limit == "time" and not clock.proven
    assert clock.proof().endswith("when the time safety net stopped it")
    assert any("wall-clock safety net" in n for n in clock.notes)


def test_selection_keys_are_validated(scenario_file):
    from sitefinder.errors import ScenarioError

    path = scenario_file(
        '[selection]\nmethod = "fast"\ntie_tolerance = 1.5\nmin_children = -1\nnode_limit = 0\n'
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == [
        f"{path}: selection.method: must be one of 'auto', 'optimal' or 'greedy'",
        f"{path}: selection.node_limit: must be from 1 to 100,000,000 nodes (got 0)",
        f"{path}: selection.min_children: must be from 0 to 200 children (got -1)",
        f"{path}: selection.tie_tolerance: must be from 0 to 1 (got 1.5)",
    ]
    scenario = load_scenario(scenario_file('[selection]\nmethod = "greedy"\n', name="g.toml"))
    assert scenario.selection.method == "greedy" and scenario.selection.min_harm_averted == 1.0


def test_a_swap_is_trialled_once_for_the_alternatives_and_the_explanations(monkeypatch):
    # find_alternatives and why_not value the same swaps (chosen base out, option in): each
    # is an LP trial the first time and read back after, with the same harm.
    from sitefinder.model import warm

    demand, existing, sites = _random_network(3)
    scorer = SetScorer(demand, existing, sites)
    trials: list[int] = []
    original = warm.WarmTransport.trial

    def counted(self, site):
        trials.append(id(site))
        return original(self, site)

    monkeypatch.setattr(warm.WarmTransport, "trial", counted)
    others = [0, 3]
    first = [scorer.plus(others, o) for o in (1, 2, 4)]
    assert len(trials) == 3
    assert [scorer.plus([3, 0], o) for o in (1, 2, 4)] == first  # any order of the set
    assert len(trials) == 3
    fresh = SetScorer(demand, existing, sites)
    assert first == pytest.approx([fresh.harm([*others, o]) for o in (1, 2, 4)], abs=1e-7)
    # Another set of 1's component: a new trial; a change elsewhere changes nothing of it.
    mine = scorer.component == scorer.component[1]
    near = next(j for j in range(len(sites)) if mine[j] and j not in (0, 1, 2, 3, 4))
    far = [j for j in range(len(sites)) if not mine[j] and j not in (0, 3)]
    scorer.plus([*others, *far], 1)
    assert len(trials) == 3
    scorer.plus([*others, near], 1)
    assert len(trials) == 4
