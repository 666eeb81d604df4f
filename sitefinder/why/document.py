"""One school's explanation as a published document: every figure disclosure-controlled once
(:func:`sitefinder.columns.protected`, the run's rule), every sentence written from the
protected figures. The text (:mod:`sitefinder.why.text`) and JSON say the same."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from sitefinder.columns import (
    ALTERNATIVES,
    PLAN,
    WHY_AREAS,
    WHY_EXTRA,
    WHY_FIGURES,
    WHY_INSTEAD,
    WHY_OPTION,
    WHY_SWAPS,
    Column,
    protected,
    records,
)
from sitefinder.config import Scenario
from sitefinder.disclosure import Rule, Withheld
from sitefinder.pipeline import RankResult
from sitefinder.plan import StoppingRule
from sitefinder.report import disclosure_note, plan_frame, published_warnings
from sitefinder.why.cells import number_of, ordinal, text_of
from sitefinder.why.rules import failed_names, failed_rule, published_school, rule_rows
from sitefinder.why.school import SchoolExplanation


def _figures_frame(options: pd.DataFrame, prefix: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "harm_averted": options[f"{prefix}_harm_averted"],
            "harm_averted_placing": options[f"{prefix}_placing"],
            "harm_averted_journeys": options[f"{prefix}_journeys"],
            "children_served": options[f"{prefix}_children_served"],
            "newly_placed": options[f"{prefix}_newly_placed"],
            "minutes_after": options[f"{prefix}_minutes_after"],
        }
    )


def _options(explanation: SchoolExplanation, rule: Rule) -> list[dict[str, Any]]:
    options = explanation.options
    if options.empty:
        return []
    heads = records(options, WHY_OPTION)
    # Alone and with the plan describe different networks: each set is protected on its own.
    alone = records(protected(_figures_frame(options, "alone"), WHY_FIGURES, rule), WHY_FIGURES)
    plan = records(protected(_figures_frame(options, "plan"), WHY_FIGURES, rule), WHY_FIGURES)
    rows = []
    for head, a, p in zip(heads, alone, plan, strict=True):
        passes = head.pop("passes_rule")
        rows.append({**head, "alone": a, "with_plan": {**p, "passes_rule": passes}})
    return rows


def _truthful(raw: pd.DataFrame, table: pd.DataFrame, columns: Sequence[Column], t: int) -> None:
    """A count withheld by the margin rule (not itself small) reads ``c``, not ``<t``."""
    for column in columns:
        if column.kind != "count" or column.key not in table.columns:
            continue
        for i in range(len(table)):
            value = raw[column.key].iloc[i]
            cell = table[column.key].iloc[i]
            if isinstance(cell, Withheld) and not Rule(t, 0.0).hides(value, "count"):
                table.iloc[i, table.columns.get_loc(column.key)] = Withheld("number", t)


def _instead(explanation: SchoolExplanation, rule: Rule) -> list[dict[str, Any]]:
    table = explanation.instead
    if table.empty:
        return []
    table = table.copy()
    bases = []
    for row in table.itertuples():
        if row.kind == "new":
            bases.append(f"{row.name} ({row.urn}): new base, choice #{row.choice}")
        elif row.kind == "existing":
            bases.append(f"{row.name} ({row.urn}): existing base")
        else:
            bases.append("no base place (fallback journey)")
    table["base"] = bases
    # The rows add up to the children it would serve alone, published beside them.
    return _protected_records(table, WHY_INSTEAD, rule, margins=[None])


def _protected_records(
    frame: pd.DataFrame, columns: Sequence[Column], rule: Rule, *, margins: Sequence[None] = ()
) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    shown = protected(frame.reset_index(drop=True), columns, rule, margins=margins)
    _truthful(frame.reset_index(drop=True), shown, columns, rule.threshold)
    return records(shown, columns)


def _extra(explanation: SchoolExplanation, rule: Rule) -> dict[str, Any] | None:
    extra = explanation.extra
    if extra is None:
        return None
    frame = pd.DataFrame(
        [
            {
                "rank": extra.rank,
                "schools": extra.schools,
                "best_urn": extra.best_urn,
                "best_name": extra.best_name,
                "best_phase": extra.best_phase,
                "best_need_group": extra.best_need_group,
                "harm_averted": extra.best_harm_averted,
                "newly_placed": extra.best_newly_placed,
                "children_served": extra.best_children_served,
            }
        ]
    )
    return _protected_records(frame, WHY_EXTRA, rule)[0]


def option_label(scenario: Scenario, phase: str, group: str) -> str:
    return f"{phase} {scenario.group_label(group)}"


def _in_plan(
    result: RankResult, explanation: SchoolExplanation, planned: dict[str, Any]
) -> list[str]:
    scenario = result.scenario
    tolerance = scenario.selection.tie_tolerance
    label = option_label(scenario, str(planned["phase"]), str(planned["need_group"]))
    before = planned.get("minutes_before")
    minutes = (
        f"their mean journey is {text_of(planned.get('minutes_after'), 'minutes_after')} minutes"
        + (
            f", against {text_of(before, 'minutes_before')} before for those who had a base place"
            if before is not None
            else " (none of them had a base place before)"
        )
    )
    lines = [
        f"Choice #{planned['choice']} of the plan: a {label} base of {planned['places']}"
        f" places. Without it the plan's harm would rise by"
        f" {text_of(planned['harm_averted'], 'harm_averted')} harm points (placing"
        f" {text_of(planned['harm_averted_placing'], 'harm_averted_placing')} +"
        f" journeys {text_of(planned['harm_averted_journeys'], 'harm_averted_journeys')})."
        f" It serves {text_of(planned['children_served'], 'children_served')} children,"
        f" {text_of(planned['newly_placed'], 'newly_placed')} of them newly placed in a base;"
        f" {minutes}.",
    ]
    rank = planned.get("greedy_rank")
    lines.append(
        f"It is #{rank} in the greedy build order."
        if rank is not None
        else "It is not among the greedy build order's first"
        f" {len(result.ranking)} picks: the plan, chosen together, differs from the order."
    )
    if explanation.urn in {str(u) for u in scenario.selection.required_urns}:
        lines.append("The scenario requires it (selection.required_urns).")
    accuracy = scenario.journey.accuracy()
    within = (
        f"within the {tolerance:.0%} tie tolerance or the accuracy of the journeys ({accuracy:g}"
        " minutes a child)"
    )
    if planned.get("alternatives"):
        lines.append(
            f"Equivalent alternatives {within} (harm points the plan would add):"
            f" {planned['alternatives']}."
        )
    else:
        lines.append(f"It has no equivalent alternative {within}.")
    return lines


def _to_enter(
    result: RankResult,
    explanation: SchoolExplanation,
    school: dict[str, Any],
    options: list[dict[str, Any]],
    swaps: list[dict[str, Any]],
    extra: dict[str, Any] | None,
) -> list[str]:
    """What would have to change for the school to enter the plan, in words and numbers."""
    scenario = result.scenario
    lines = [
        failed_rule(scenario, check, school)
        for check in explanation.rules
        if check.outcome == "fail"
    ]
    if not options or explanation.reference is None:
        return lines
    reference = options[explanation.reference]
    candidate = bool(reference["candidate"])
    label = option_label(scenario, reference["phase"], reference["need_group"])
    lines.extend(_swap_sentence(result, explanation, candidate, label, swaps))
    lines.extend(_extra_sentence(result, explanation, options, extra))
    return lines


def _swap_sentence(
    result: RankResult,
    explanation: SchoolExplanation,
    candidate: bool,
    label: str,
    swaps: list[dict[str, Any]],
) -> list[str]:
    """The reference option against the chosen base it comes closest to replacing."""
    tolerance = result.scenario.selection.tie_tolerance
    raw = explanation.swaps
    if raw.empty:
        return []
    allowed = raw[raw["allowed"].astype(bool)]
    if allowed.empty:
        return [
            "No chosen base may give way to it: the chosen bases are required"
            " (selection.required_urns) or counted in another phase and need group"
            " (selection.counts)."
        ]
    position = int(allowed.sort_values(["harm_difference", "choice"], kind="stable").index[0])
    row = swaps[position]
    there = f"{row['name']} (choice #{row['choice']})"
    failed = failed_names(explanation)
    prefix = "Its" if candidate else f"Were the {failed} relaxed, its"
    difference = number_of(row["harm_difference"])  # None when withheld
    if difference is not None:  # the published cell has two decimals; the words may need three
        difference = float(raw.loc[position, "harm_difference"])
    if difference is None:
        return [
            f"{prefix} {label} base comes closest to entering the plan in the place of {there};"
            " the change in the plan's harm is withheld (c) so that no small count of children"
            " can be worked out from it."
        ]
    chosen = plan_frame(result)
    averted = chosen.loc[chosen["choice"] == row["choice"], "harm_averted"].iloc[0]
    allowance = None if isinstance(averted, Withheld) else tolerance * float(averted)
    # Three decimals where two would show the rise and the tolerance as equal.
    digits = 3 if allowance is not None and abs(difference - allowance) < 0.005 else 2
    rise = f"{abs(difference):.{digits}f}"
    within = (
        f"{tolerance:.0%} of the harm that base averts, c"
        if allowance is None
        else f"{tolerance:.0%} of the {float(averted):.2f} harm points that base averts,"
        f" {allowance:.{digits}f}"
    )
    if difference < -1e-6:
        cost = (
            f"the {failed} {'cost' if ' and ' in failed else 'costs'} the plan that much"
            if not candidate
            else f"the plan's set is {result.plan.proof(brief=True)}"
        )
        return [
            f"{prefix} {label} base in the place of {there} would lower the plan's harm by"
            f" {rise} harm points: {cost}."
        ]
    if row["tie"]:
        return [
            f"{prefix} {label} base is an equivalent alternative to {there}: in its place the"
            f" plan's harm would rise by only {rise} harm points (the tie tolerance is"
            f" {within})."
            + (" Nothing has to change: a planner may choose it instead." if candidate else "")
        ]
    return [
        f"{prefix} {label} base would need to avert {rise} more harm points than {there} to"
        f" replace it: in that base's place the plan's harm would rise by {rise} harm points"
        f" (an equivalent alternative may add at most {within})."
    ]


def _extra_sentence(
    result: RankResult,
    explanation: SchoolExplanation,
    options: list[dict[str, Any]],
    extra: dict[str, Any] | None,
) -> list[str]:
    scenario = result.scenario
    bases, requested = explanation.bases, explanation.requested
    threshold = scenario.count_threshold
    rule = StoppingRule.from_scenario(scenario).describe(scenario.base_size, threshold)
    if requested == 0:
        return ["The scenario asks for no new bases (bases = 0)."]
    raw = explanation.options["plan_harm_averted"].astype(float)
    best = int(raw.to_numpy().argmax())
    mine = options[best]
    figures = mine["with_plan"]
    label = option_label(scenario, mine["phase"], mine["need_group"])
    placed = text_of(figures["newly_placed"], "newly_placed")
    harm = text_of(figures["harm_averted"], "harm_averted")
    passes = bool(figures["passes_rule"])
    verdict = (
        "which passes the stopping rule" if passes else "which fails the stopping rule"
    ) + f" (a new base must place {rule})"
    added = (
        f"added to this plan, its {label} base would place {placed} children who had no base"
        f" place and avert {harm} harm points, {verdict}"
    )
    if bases < requested:
        return [
            f"The plan has {bases} of the {requested} new bases asked for: the stopping rule"
            f" kept out the rest. As one more base {added}."
        ]
    following = ordinal(bases + 1)
    sentence = f"The plan is full (bases = {bases}): as a {following} base {added}."
    if extra is not None and extra["rank"] == 1:
        sentence += (
            f" Of the {extra['schools']} schools without a planned base, it would be the best"
            f" {following} base added to these {bases} (the best set of {bases + 1} is chosen"
            f" afresh: sitefinder why {explanation.urn} --bases {bases + 1})."
        )
    elif extra is not None:
        best_label = option_label(scenario, extra["best_phase"], extra["best_need_group"])
        sentence += (
            f" It would rank {ordinal(int(extra['rank']))} of the {extra['schools']} schools"
            f" without a planned base; the best {following} base would be"
            f" {extra['best_name']} ({extra['best_urn']}, {best_label}), which would place"
            f" {text_of(extra['newly_placed'], 'newly_placed')} children who had no base place"
            f" and avert {text_of(extra['harm_averted'], 'harm_averted')} harm points."
        )
    return [sentence]


def why_document(result: RankResult, explanation: SchoolExplanation) -> dict[str, Any]:
    """The explanation as one JSON-ready document, every figure disclosure-controlled.

    Keys: ``scenario, urn, name, in_plan, summary, school, rules, options, planned,
    areas_served, alternatives, reference_option, served_instead, swaps, extra_base,
    plan_reason, to_enter_the_plan, suppression_threshold, disclosure, warnings``
    (``disclosure``: the sentence saying what is withheld, or that the children's figures are
    modelled estimates).
    """
    scenario = result.scenario
    rule = result.disclosure_rule
    threshold = rule.threshold
    school = published_school(explanation, threshold)
    options = _options(explanation, rule)
    planned: dict[str, Any] | None = None
    in_plan: list[str] = []
    areas: list[dict[str, Any]] = []
    alternatives: list[dict[str, Any]] = []
    if explanation.choice is not None:
        frame = plan_frame(result)
        row = frame[frame["choice"] == explanation.choice]
        planned = records(row, PLAN)[0]
        areas = _protected_records(explanation.areas, WHY_AREAS, rule, margins=[None])
        alternatives = _protected_records(explanation.alternatives, ALTERNATIVES, rule)
        in_plan = _in_plan(result, explanation, planned)
    swaps = _protected_records(explanation.swaps, WHY_SWAPS, rule)
    extra = _extra(explanation, rule)
    to_enter = (
        []
        if explanation.choice is not None
        else _to_enter(result, explanation, school, options, swaps, extra)
    )
    reference = (
        None
        if explanation.reference is None
        else {
            "phase": options[explanation.reference]["phase"],
            "need_group": options[explanation.reference]["need_group"],
        }
    )
    return {
        "scenario": scenario.name,
        "urn": explanation.urn,
        "name": explanation.name,
        "in_plan": explanation.choice is not None,
        "summary": _summary(result, explanation, planned),
        "school": school,
        "rules": rule_rows(scenario, explanation, school),
        "options": options,
        "planned": planned,
        "in_the_plan": in_plan,
        "areas_served": areas,
        "alternatives": alternatives,
        "reference_option": reference,
        "served_instead": _instead(explanation, rule),
        "swaps": swaps,
        "extra_base": extra,
        "plan_reason": explanation.plan_reason or None,
        "to_enter_the_plan": to_enter,
        "suppression_threshold": threshold,
        "disclosure": disclosure_note(result),
        "warnings": published_warnings(result),
    }


def _summary(
    result: RankResult, explanation: SchoolExplanation, planned: dict[str, Any] | None
) -> str:
    who = f"{explanation.name} ({explanation.urn})"
    if planned is not None:
        label = option_label(result.scenario, str(planned["phase"]), str(planned["need_group"]))
        return (
            f"{who} is in the plan: choice #{planned['choice']}, a {label} base of"
            f" {planned['places']} places."
        )
    reasons = [c.note for c in explanation.rules if c.excludes]
    if explanation.facts.get("eligible"):
        return f"{who} is a candidate host but is not in the plan."
    return f"{who} is not a candidate host: " + "; ".join(reasons) + "."


def why_json(document: dict[str, Any]) -> str:
    """The document as JSON text."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
