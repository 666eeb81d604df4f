"""``sitefinder why``: one school explained, every number recomputed, nothing small disclosed.

The demo's St Joseph's Catholic Primary School (990005) is left out of the plan (it shares its
areas with Victoria Primary School), Victoria Primary School (990025) is choice #2, Castle Hill
Primary School (990007) fails the spare places rule by one place, and Demoford School
(990078) is independent. Golden texts live in ``tests/golden``; after a deliberate change to
the model or the wording, rewrite them with ``SITEFINDER_UPDATE_GOLDEN=1 pytest
tests/test_why.py`` and review the diff.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from plan_checks import rebuild
from sitefinder import load_scenario, rank, with_settings
from sitefinder.cli import app
from sitefinder.errors import DataError
from sitefinder.model.network import solve_network
from sitefinder.resources import default_scenario_path
from sitefinder.why import OPTION_COLUMNS, explain_school
from sitefinder.why_report import why_document, why_json

GOLDEN = Path(__file__).parent / "golden"
THRESHOLD = 5
runner = CliRunner()

LEFT_OUT, PLANNED, NO_SPACE, INDEPENDENT = "990005", "990025", "990007", "990078"


@pytest.fixture(scope="module")
def demo():
    return rank(load_scenario(default_scenario_path()))


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SITEFINDER_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("urn", "golden"), [(PLANNED, "why_planned.txt"),
                                             (LEFT_OUT, "why_left_out.txt")])  # fmt: skip
def test_exact_text_of_a_planned_and_a_left_out_school(urn, golden):
    result = runner.invoke(app, ["why", urn])
    assert result.exit_code == 0, result.output
    _golden(golden, result.stdout)


def test_the_left_out_school_says_why_in_words_and_numbers(demo):
    text = runner.invoke(app, ["why", LEFT_OUT]).stdout
    assert "is a candidate host but is not in the plan" in text
    assert re.search(
        r"would need to avert 0\.110 more harm points than Millfield Primary School \(choice #3\)"
        r" to\s+replace it",
        text,
    )
    assert "The plan is full (bases = 3)" in text


def test_json_structure(demo):
    document = why_document(demo, explain_school(demo, LEFT_OUT))
    parsed = json.loads(why_json(document))
    assert list(parsed) == [
        "scenario", "urn", "name", "in_plan", "summary", "school", "rules", "options",
        "planned", "in_the_plan", "areas_served", "alternatives", "reference_option",
        "served_instead", "swaps", "extra_base", "plan_reason", "to_enter_the_plan",
        "suppression_threshold", "warnings",
    ]  # fmt: skip
    assert parsed["urn"] == LEFT_OUT and parsed["in_plan"] is False
    assert [r["rule"] for r in parsed["rules"]] == [
        "establishment", "exclude_urns", "phase", "single_sex", "selective", "ages",
        "spare_places", "high_send", "existing_base",
    ]  # fmt: skip
    assert {r["outcome"] for r in parsed["rules"]} == {"pass"}
    option = parsed["options"][0]
    assert set(option) == {
        "phase", "need_group", "need_group_label", "candidate", "choice", "greedy_rank",
        "alone", "with_plan",
    }  # fmt: skip
    assert set(option["alone"]) == {
        "harm_averted", "harm_averted_placing", "harm_averted_journeys", "children_served",
        "newly_placed", "minutes_after",
    }  # fmt: skip
    assert set(option["with_plan"]) == set(option["alone"]) | {"passes_rule"}
    assert option["greedy_rank"] == 1 and option["alone"]["harm_averted"] == 12.49
    assert parsed["reference_option"] == {
        "phase": "primary",
        "need_group": "communication_interaction",
    }
    assert [s["choice"] for s in parsed["swaps"]] == [1, 2, 3]
    assert parsed["planned"] is None and parsed["areas_served"] == []
    assert parsed["plan_reason"].startswith("serves the same areas as Victoria Primary School")
    # The JSON carries the same sentences as the text.
    text = runner.invoke(app, ["why", LEFT_OUT]).stdout
    flat = " ".join(text.split())
    for sentence in [parsed["summary"], *parsed["to_enter_the_plan"]]:
        assert " ".join(sentence.split()) in flat


def test_json_of_a_planned_school(demo):
    parsed = json.loads(runner.invoke(app, ["why", PLANNED, "--format", "json"]).stdout)
    assert parsed["in_plan"] is True and parsed["planned"]["choice"] == 2
    assert parsed["to_enter_the_plan"] == [] and parsed["swaps"] == []
    assert [o["choice"] for o in parsed["options"]] == [2, None, None, None]
    served = parsed["planned"]["children_served"]
    assert served == 10
    assert len(parsed["areas_served"]) == 9  # every area with a child from it, none without
    assert parsed["in_the_plan"][0].startswith("Choice #2 of the plan")


def _figures(rows, solution_before, site_solution, site_index):
    at = (site_solution.pair_site == site_index) & (site_solution.flow > 1e-9)
    return (
        solution_before.objective - site_solution.objective,
        float(solution_before.unmet.sum() - site_solution.unmet.sum()),
        float(site_solution.flow[at].sum()),
    )


def _check(result, explanation) -> list[str]:
    """Recompute every figure and claim of ``explanation`` from fresh arrays; list the false."""
    false: list[str] = []
    built = rebuild(result)
    scenario, plan = result.scenario, result.plan
    rows = built.model.rows
    planned = list(plan.sites)
    chosen = plan.chosen.reset_index(drop=True)
    own = [i for i, u in enumerate(chosen["urn"]) if str(u) == explanation.urn]
    rest = [s for i, s in enumerate(planned) if i not in own]
    today = built.harm([])
    with_rest = built.harm(rest)
    after = built.harm(planned)

    def close(a: float, b: float, what: str) -> None:
        if not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6):
            false.append(f"{explanation.urn} {what}: said {a}, is {b}")

    assert list(explanation.options.columns) == list(OPTION_COLUMNS)
    for option in explanation.options.itertuples():
        site = built.site(result, explanation.urn, option.phase, option.need_group,
                          scenario.base_size)  # fmt: skip
        if option.in_plan:
            site = planned[own[0]]
        alone = solve_network(rows, [*built.existing, site])
        harm, placed, served = _figures(rows, today, alone, len(built.existing))
        close(option.alone_harm_averted, harm, f"{option.need_group} alone harm")
        close(option.alone_newly_placed, placed, f"{option.need_group} alone placed")
        close(option.alone_children_served, served, f"{option.need_group} alone served")
        mismatch = float((today.unmet - alone.unmet) @ rows.mismatch)
        close(option.alone_placing, mismatch, f"{option.need_group} alone placing")
        trial = solve_network(rows, [*built.existing, *rest, site])
        harm, placed, served = _figures(rows, with_rest, trial, len(built.existing) + len(rest))
        close(option.plan_harm_averted, harm, f"{option.need_group} plan harm")
        close(option.plan_newly_placed, placed, f"{option.need_group} plan placed")
        close(option.plan_children_served, served, f"{option.need_group} plan served")
        passes = (harm > 1e-6) and (placed >= scenario.base_size / 2 - 1e-9 or harm >= 1 - 1e-9)
        if bool(option.passes_rule) != passes:
            false.append(f"{explanation.urn} {option.need_group}: stopping rule {passes}")
        if option.greedy_rank is not pd.NA and option.greedy_rank is not None:
            row = result.ranking.set_index("rank").loc[int(option.greedy_rank)]
            if (str(row["urn"]), row["phase"], row["need_group"]) != (
                explanation.urn, option.phase, option.need_group,
            ):  # fmt: skip
                false.append(f"{explanation.urn}: greedy rank {option.greedy_rank} is not it")
            close(option.alone_harm_averted, float(row["harm_averted_standalone"]), "greedy")
    if own:
        served = explanation.areas["children"].sum()
        close(served, float(chosen.loc[own[0], "children_served"]), "areas served")
        return false
    if explanation.reference is None:
        return false
    reference = explanation.options.iloc[explanation.reference]
    site = built.site(result, explanation.urn, reference.phase, reference.need_group,
                      scenario.base_size)  # fmt: skip
    # Swaps: the plan with the option in each chosen base's place.
    for swap in explanation.swaps.itertuples():
        i = int(swap.choice) - 1
        swapped = built.harm([*planned[:i], *planned[i + 1 :], site])
        close(swap.harm_difference, swapped.objective - after.objective, f"swap #{swap.choice}")
        close(swap.unmet_difference, swapped.unmet.sum() - after.unmet.sum(), "swap unmet")
    # The children it would serve alone, wherever the plan puts them, add up.
    alone = solve_network(rows, [*built.existing, site])
    _, _, served = _figures(rows, today, alone, len(built.existing))
    close(float(explanation.instead["children"].sum()), served, "children served instead")
    for row in explanation.instead.itertuples():
        if row.kind == "new":
            i = int(row.choice) - 1
            at = (after.pair_site == len(built.existing) + i) & (after.flow > 1e-9)
            if row.children > after.flow[at].sum() + 1e-6:
                false.append(f"{explanation.urn}: choice {row.choice} serves {row.children}")
    # As an extra base: every eligible option of every school without a planned base, solved.
    planned_urns = {str(u) for u in chosen["urn"]}
    best: dict[str, float] = {}
    for school in result.schools.itertuples():
        if not school.eligible or str(school.urn) in planned_urns | {explanation.urn}:
            continue
        for phase in str(school.host_phases).split(", "):
            for group in scenario.new_base_groups:
                other = built.site(result, school.urn, phase, group, scenario.base_size)
                gain = after.objective - built.harm([*planned, other]).objective
                best[str(school.urn)] = max(best.get(str(school.urn), -np.inf), gain)
    extra = explanation.extra
    assert extra is not None
    mine = float(explanation.options["plan_harm_averted"].max())
    rank_ = 1 + sum(v > mine + 1e-9 for v in best.values())
    if extra.rank != rank_:
        false.append(f"{explanation.urn}: extra rank {extra.rank}, is {rank_}")
    if extra.schools != len(best) + 1:
        false.append(f"{explanation.urn}: {extra.schools} schools ranked, is {len(best) + 1}")
    top = max([mine, *best.values()])
    close(extra.best_harm_averted, top, "best extra base")
    return false


def _claims(result, document) -> list[str]:
    """Recompute the numbers in the sentences of ``document`` (what would have to change)."""
    false = []
    built = rebuild(result)
    planned = list(result.plan.sites)
    after = built.harm(planned).objective
    option = next(
        o
        for o in document["options"]
        if (o["phase"], o["need_group"])
        == (document["reference_option"]["phase"], document["reference_option"]["need_group"])
    )
    site = built.site(result, document["urn"], option["phase"], option["need_group"],
                      result.scenario.base_size)  # fmt: skip
    for sentence in document["to_enter_the_plan"]:
        match = re.search(
            r"would (need to avert|lower the plan's harm by) (\d+\.\d+) (?:more )?harm points"
            r"(?: than .+?)? ?\(choice #(\d+)\)|in the place of .+? \(choice #(\d+)\) would lower"
            r" the plan's harm by (\d+\.\d+)",
            sentence,
        )
        if match is None:
            continue
        if match.group(4):
            choice, said = int(match.group(4)), -float(match.group(5))
        else:
            choice, said = int(match.group(3)), float(match.group(2))
        i = choice - 1
        difference = built.harm([*planned[:i], *planned[i + 1 :], site]).objective - after
        digits = len(str(said).split(".")[1])
        if abs(round(difference, 3) - said) > 0.6 * 10 ** -max(digits, 2):
            false.append(f"{document['urn']}: {sentence!r} but the swap adds {difference}")
    return false


@pytest.mark.parametrize("urn", [LEFT_OUT, PLANNED, NO_SPACE, "990073", "990062"])
def test_every_number_is_true(demo, urn):
    explanation = explain_school(demo, urn)
    assert _check(demo, explanation) == []
    if explanation.choice is None:
        assert _claims(demo, why_document(demo, explanation)) == []


def test_a_school_failing_a_rule_says_what_the_rule_costs(demo):
    explanation = explain_school(demo, NO_SPACE)
    failed = [c for c in explanation.rules if c.outcome == "fail"]
    assert [(c.rule, c.key) for c in failed] == [("spare_places", "candidates.min_spare_places")]
    assert not explanation.options["candidate"].any()  # figures only as if allowed
    lines = why_document(demo, explanation)["to_enter_the_plan"]
    assert lines[0] == (
        "It fails the spare places rule: it needs 10 spare places and has 9 (capacity 210,"
        " pupils 201; candidates.min_spare_places)."
    )
    # Were it allowed, it would do better than Millfield: the rule costs the plan 0.02 points.
    assert lines[1].startswith(
        "Were the spare places rule relaxed, its primary Communication and interaction base in"
        " the place of Millfield Primary School (choice #3) would lower the plan's harm by 0.02"
    )
    assert explanation.swaps.set_index("choice").loc[3, "harm_difference"] < 0


def test_a_school_that_never_hosts(demo):
    explanation = explain_school(demo, INDEPENDENT)
    assert explanation.options.empty and explanation.extra is None
    document = why_document(demo, explanation)
    assert document["summary"] == (
        "Demoford School (990078) is not a candidate host: independent school: never a host."
    )
    assert document["to_enter_the_plan"] == [
        "An independent school never hosts an inclusion base: bases sit in mainstream schools."
    ]


def test_the_full_plan_names_the_best_extra_base(demo):
    # Demoford All Saints is the best fourth base; St Joseph's ranks below it.
    best = explain_school(demo, "990073")
    assert best.extra is not None and best.extra.rank == 1
    lines = why_document(demo, best)["to_enter_the_plan"]
    assert "it would be the best 4th base" in lines[-1]
    other = explain_school(demo, LEFT_OUT).extra
    assert other is not None and other.rank > 1 and other.best_urn == "990073"


def test_no_bases_asked_for():
    result = rank(with_settings(load_scenario(default_scenario_path()), {"bases": 0}))
    document = why_document(result, explain_school(result, LEFT_OUT))
    assert document["to_enter_the_plan"][-1] == "The scenario asks for no new bases (bases = 0)."


# --- disclosure ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flat():
    """The demo under the flat fallback: a child without a place carries 25 harm points, the
    easiest harm to divide a figure by."""
    scenario = with_settings(load_scenario(default_scenario_path()), {"fallback.method": "flat"})
    return rank(scenario)


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool) or isinstance(value, str):
        return None
    return float(value)  # type: ignore[arg-type]


def _leaks(result, explanation, document) -> list[str]:
    """Division and differencing attacks on one document; returns what they recover."""
    t = THRESHOLD
    unmet = result.disclosure_rule.unmet
    per_child = sorted({round(float(u), 9) for u in result.fallback.unmet_harm}) + [
        result.scenario.fallback.mismatch
    ]
    leaks = []

    def attack(where: str, shown: dict, raw: dict[str, float], about: str) -> None:
        secrets = {round(v) for k, v in raw.items() if k in COUNTS and 0 < round(v, 6) < t}
        for key, value in shown.items():
            number = _number(value)
            if key in COUNTS and number is not None and 0 < abs(number) < t:
                leaks.append(f"{where} {key} = {number}")
            if key not in HARMS or number is None or number == 0:
                continue
            count = _number(shown.get(about))
            if abs(number) < t * unmet and (count is None or count < t):
                leaks.append(f"{where} {key} = {number} beside no count of {t}")
            for unit in per_child:
                quotient = abs(number) / unit
                if round(quotient) in secrets and abs(quotient - round(quotient)) < 0.02:
                    leaks.append(f"{where} {key} = {number} gives back {round(quotient)}")

    options = explanation.options
    for i, option in enumerate(document["options"]):
        for part, prefix in (("alone", "alone"), ("with_plan", "plan")):
            raw = {
                "harm_averted": options.loc[i, f"{prefix}_harm_averted"],
                "children_served": options.loc[i, f"{prefix}_children_served"],
                "newly_placed": options.loc[i, f"{prefix}_newly_placed"],
            }
            attack(f"{option['need_group']} {part}", option[part], raw, "children_served")
    for i, swap in enumerate(document["swaps"]):
        raw = explanation.swaps.iloc[i].to_dict()
        attack(f"swap #{swap['choice']}", swap, raw, "children_served")
    if document["extra_base"] is not None:
        extra = explanation.extra
        raw = {"children_served": extra.best_children_served,
               "newly_placed": extra.best_newly_placed}  # fmt: skip
        attack("extra", document["extra_base"], raw, "children_served")
    # Differencing: rows against the total they add up to, both published.
    reference = document["reference_option"]
    if reference is not None:
        total = next(
            _number(o["alone"]["children_served"])
            for o in document["options"]
            if (o["phase"], o["need_group"]) == (reference["phase"], reference["need_group"])
        )
        rows = [_number(r["children"]) for r in document["served_instead"]]
        left = (total or 0) - sum(r for r in rows if r is not None)
        if total is not None and 1e-6 < left < t - 1e-6:
            leaks.append(f"served instead: the total less the rows gives {left}")
    if document["planned"] is not None:
        total = _number(document["planned"]["children_served"])
        rows = [_number(r["children"]) for r in document["areas_served"]]
        left = (total or 0) - sum(r for r in rows if r is not None)
        if total is not None and 1e-6 < left < t - 1e-6:
            leaks.append(f"areas served: the total less the rows gives {left}")
    return leaks


COUNTS = {"children_served", "newly_placed", "unmet_difference", "children"}
HARMS = {"harm_averted", "harm_averted_placing", "harm_averted_journeys", "harm_difference"}


def test_why_gives_back_no_count(flat):
    # The schools of the ranking's later rows, whose options serve only a few children.
    urns = list(dict.fromkeys(flat.ranking["urn"].astype(str)))[3:9] + [PLANNED, NO_SPACE]
    secrets = 0
    for urn in urns:
        explanation = explain_school(flat, urn)
        document = why_document(flat, explanation)
        assert _leaks(flat, explanation, document) == [], urn
        options = explanation.options
        secrets += int(((options["alone_newly_placed"] > 1e-6)
                        & (options["alone_newly_placed"] < THRESHOLD)).sum())  # fmt: skip
    assert secrets >= 5  # the attack had small counts to look for


def test_the_attack_finds_an_unprotected_count(flat):
    explanation = explain_school(flat, NO_SPACE)
    document = why_document(flat, explanation)
    small = explanation.options.index[
        (explanation.options["alone_newly_placed"] > 0)
        & (explanation.options["alone_newly_placed"] < THRESHOLD)
    ][0]
    raw = explanation.options.loc[small]
    document["options"][small]["alone"].update(
        harm_averted=round(float(raw["alone_harm_averted"]), 2),
        newly_placed=round(float(raw["alone_newly_placed"]), 1),
    )
    assert _leaks(flat, explanation, document)


# --- the command ----------------------------------------------------------------------------------


def test_help_shows_every_option():
    shown = runner.invoke(app, ["why", "--help"])
    assert shown.exit_code == 0
    for option in ("URN", "--config", "--bases", "--format", "text", "json"):
        assert option in shown.output


def test_unknown_urn_is_one_error_line_with_suggestions():
    result = runner.invoke(app, ["why", "99000"])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: URN 99000: no school with this URN among the 81 establishment(s) read from"
        f" {default_scenario_path().parent.parent / 'data' / 'demo' / 'schools.csv'}; did you"
        " mean 990080 (Kingsmere Hall School), 990070 (Kingsmere School), 990060 (St Andrew's"
        " Southam Cross Primary School)?"
    ]
    assert result.stdout == ""
    by_name = runner.invoke(app, ["why", "Castle Hill"])
    assert by_name.exit_code == 1
    assert "did you mean 990007 (Castle Hill Primary School), 990067 (Castle Hill Academy)?" in (
        by_name.stderr
    )


def test_unknown_urn_from_the_library(demo):
    with pytest.raises(DataError, match=r"URN 123456: no school with this URN"):
        explain_school(demo, "123456")


def test_a_urn_given_as_a_number(demo):
    assert explain_school(demo, 990025).choice == 2
