"""``sitefinder why`` for people and programs: one school's explanation, disclosure-controlled.

:func:`why_document` turns a :class:`~sitefinder.why.SchoolExplanation` into one JSON-ready
document: every table protected once by :func:`sitefinder.columns.protected` with the run's
disclosure rule (:attr:`RankResult.disclosure_rule`), and every sentence written from the
protected figures. :func:`why_text` renders the same document for the terminal and
:func:`why_json` writes it as JSON, so both say the same.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

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
    signed,
    text_value,
)
from sitefinder.config import Scenario
from sitefinder.disclosure import Rule, Withheld, withheld_count
from sitefinder.pipeline import RankResult
from sitefinder.plan import StoppingRule
from sitefinder.report import plan_frame, published_warnings
from sitefinder.supply import PHASE_AGES, RuleCheck
from sitefinder.why import SchoolExplanation

RULE_LABELS = {
    "establishment": "Mainstream school",
    "exclude_urns": "Not excluded by the scenario",
    "required_urns": "Required by the scenario",
    "phase": "A phase being planned for",
    "single_sex": "Not single-sex",
    "selective": "Not selective",
    "ages": "Teaches every age of the phase",
    "spare_places": "Room for the base",
    "high_send": "Not already high-SEND",
    "existing_base": "Hosts no base today",
}
"""Each rule in words (:attr:`sitefinder.supply.RuleCheck.rule`)."""

_OUTCOMES = {
    "pass": "passes",
    "fail": "fails",
    "flag": "flagged",
    "unknown": "cannot tell",
    "overridden": "fails, overridden by the scenario",
}
_COLUMN = {c.key: c for c in (*WHY_FIGURES, *WHY_SWAPS, *WHY_EXTRA, *WHY_INSTEAD, *PLAN)}


def _text(value: object, key: str) -> str:
    """A protected (or machine) value as people read it: ``<5``, ``c``, ``11.20``, ``10``."""
    return text_value(value, _COLUMN[key])


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _number(value: object) -> float | None:
    if value is None or isinstance(value, str | Withheld):
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


# --- the school and its rules ---------------------------------------------------------------------


def _ages(first: float | None, last: float | None) -> str:
    if first is None or last is None:
        return "not recorded"
    return f"{first:g}-{last:g}" if first != last else f"{first:g}"


def _whole(value: object) -> object:
    """A whole number as an int (ages, places, pupils), other values as they are."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _school(explanation: SchoolExplanation, threshold: int) -> dict[str, Any]:
    """The school's data for publication: its pupils with an EHC plan are a count of children
    (withheld under the threshold, with their share)."""
    facts = {k: _whole(v) for k, v in explanation.facts.items()}
    ehcp = _number(facts.get("ehcp_pupils"))
    hidden = ehcp is not None and Rule(threshold, 0.0).hides(ehcp, "count")
    return {
        "phase": facts.get("phase"),
        "establishment_group": facts.get("establishment_group"),
        "gender": facts.get("gender") or None,
        "admissions_policy": facts.get("admissions_policy") or None,
        "statutory_low_age": facts.get("statutory_low_age"),
        "statutory_high_age": facts.get("statutory_high_age"),
        "first_age": facts.get("first_age"),
        "last_age": facts.get("last_age"),
        "capacity": facts.get("capacity"),
        "pupils": facts.get("pupils"),
        "spare_places": facts.get("spare_places"),
        "ehcp_pupils": withheld_count(threshold) if hidden else ehcp,
        "ehcp_share": "c" if hidden else facts.get("ehcp_share"),
        "existing_base": facts.get("existing_base") or None,
        "candidate": bool(facts.get("eligible")),
        "notes": facts.get("notes") or "",
    }


def _setting(scenario: Scenario, key: str) -> str:
    """A scenario key with its value in this run, e.g. ``candidates.min_spare_places = 10``."""
    if not key:
        return ""
    if key == "candidates.min_spare_places":
        return f"{key} = {scenario.min_spare_places}"
    if key == "candidates.high_send_share":
        rules = scenario.candidates
        return (
            f"{key} = {rules.high_send_share:g}, candidates.exclude_high_send ="
            f" {str(rules.exclude_high_send).lower()}"
        )
    value: Any = scenario
    for part in key.split("."):
        value = getattr(value, part)
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, list):
        text = "[" + ", ".join(str(v) for v in value) + "]"
    else:
        text = str(value)
    return f"{key} = {text}"


def _places(n: float) -> str:
    return f"{n:,.0f} spare place{'' if n == 1 else 's'}"


def _data(scenario: Scenario, check: RuleCheck, school: dict[str, Any]) -> str:
    """The data behind one rule's check, in words."""
    rule = check.rule
    if rule == "establishment":
        return f"{school['establishment_group']} school"
    if rule == "exclude_urns":
        listed = check.outcome == "fail"
        return "listed in candidates.exclude_urns" if listed else "not listed"
    if rule == "required_urns":
        return "listed in selection.required_urns"
    if rule == "phase":
        return f"{school['phase']} school; planning for {', '.join(scenario.phases)}"
    if rule == "single_sex":
        return f"gender: {school['gender'] or 'not recorded'}"
    if rule == "selective":
        return f"admissions policy: {school['admissions_policy'] or 'not recorded'}"
    if rule == "ages":
        low, high = school["statutory_low_age"], school["statutory_high_age"]
        if low is None or high is None or not check.phase:
            return "statutory ages not recorded"
        span = dict(PHASE_AGES, **dict(scenario.inputs.demand.ages)).get(check.phase)
        first, last = school["first_age"], school["last_age"]
        phase_ages = f"; the {check.phase} phase is ages {_ages(*span)}" if span else ""
        return f"statutory ages {low:g}-{high:g}: teaches ages {_ages(first, last)}{phase_ages}"
    if rule == "spare_places":
        capacity, pupils, spare = school["capacity"], school["pupils"], school["spare_places"]
        if spare is None:
            return "capacity or pupils not recorded"
        have = (
            f"{-spare:,.0f} pupil{'' if spare == -1 else 's'} over capacity"
            if spare < 0
            else _places(spare)
        )
        return (
            f"capacity {capacity:,.0f}, pupils {pupils:,.0f}: {have}; needs"
            f" {scenario.min_spare_places} (the base has {scenario.base_size} places)"
        )
    if rule == "high_send":
        limit = f"{scenario.candidates.high_send_share:.0%}"
        ehcp, share = school["ehcp_pupils"], school["ehcp_share"]
        if ehcp is None:
            return f"pupils with an EHC plan not recorded (GIAS SENStat); the limit is {limit}"
        shown = share if isinstance(share, str) else f"{share:.1%}"
        count = ehcp if isinstance(ehcp, str) else f"{ehcp:,.0f}"
        return f"{count} pupils with an EHC plan ({shown} of pupils); the limit is {limit}"
    if rule == "existing_base":
        return f"hosts: {school['existing_base']}" if school["existing_base"] else "no base"
    return ""


def _rules(scenario: Scenario, explanation: SchoolExplanation, school: dict[str, Any]) -> list:
    rows = []
    for check in explanation.rules:
        outcome = _OUTCOMES[check.outcome]
        if check.outcome == "fail" and check.phase and not check.excludes:
            outcome = f"fails for {check.phase} bases"
        label = RULE_LABELS[check.rule] + (f" ({check.phase})" if check.phase else "")
        rows.append(
            {
                "rule": check.rule,
                "label": label,
                "phase": check.phase or None,
                "outcome": check.outcome,
                "result": outcome,
                "data": _data(scenario, check, school),
                "key": check.key or None,
                "setting": _setting(scenario, check.key),
                "note": check.note,
            }
        )
    return rows


def _article(word: str) -> str:
    return f"{'An' if word[:1].lower() in 'aeiou' else 'A'} {word}"


def _failed_rule(scenario: Scenario, check: RuleCheck, school: dict[str, Any]) -> str:
    """What a failed rule would need, in words with its numbers."""
    rule, setting = check.rule, _setting(scenario, check.key)
    if rule == "establishment":
        return (
            f"{_article(str(school['establishment_group']))} school never hosts an inclusion"
            " base: bases sit in mainstream schools."
        )
    if rule == "phase":
        return f"It teaches no phase being planned for ({school['phase']}; {setting})."
    if rule == "exclude_urns":
        return "The scenario excludes it (candidates.exclude_urns): remove it from that list."
    if rule == "single_sex":
        return (
            f"It fails the single-sex rule: it is a {school['gender']}' school, and a base serves"
            f" every child of its need group ({setting})."
        )
    if rule == "selective":
        return (
            "It fails the selective admissions rule: a base serves every child of its need"
            f" group, whatever their attainment ({setting})."
        )
    if rule == "ages":
        return f"It fails the ages rule: {check.note} ({setting})."
    if rule == "spare_places":
        spare = school["spare_places"]
        has = (
            f"is {-spare:,.0f} pupil{'' if spare == -1 else 's'} over capacity"
            if spare < 0
            else f"has {spare:,.0f}"
        )
        return (
            f"It fails the spare places rule: it needs {scenario.min_spare_places} spare places"
            f" and {has} (capacity {school['capacity']:,.0f}, pupils {school['pupils']:,.0f};"
            f" {check.key})."
        )
    if rule == "high_send":
        share = school["ehcp_share"]
        shown = share if isinstance(share, str) else f"{share:.1%}"
        return (
            f"It fails the high-SEND rule: {shown} of its pupils have an EHC plan, above"
            f" {scenario.candidates.high_send_share:.0%} (candidates.exclude_high_send = true)."
        )
    if rule == "existing_base":
        return (
            f"It hosts a base already ({school['existing_base']}), and"
            " candidates.exclude_existing_hosts = true."
        )
    return check.note


# --- options, swaps and the rest ------------------------------------------------------------------


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
    shown = protected(table, WHY_INSTEAD, rule, margins=[None])
    _truthful(table, shown, WHY_INSTEAD, rule.threshold)
    return records(shown, WHY_INSTEAD)


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


# --- sentences ------------------------------------------------------------------------------------


def _label(scenario: Scenario, phase: str, group: str) -> str:
    need = scenario.need_groups.get(group)
    return f"{phase} {need.label if need is not None else group}"


def _in_plan(
    result: RankResult, explanation: SchoolExplanation, planned: dict[str, Any]
) -> list[str]:
    scenario = result.scenario
    tolerance = scenario.selection.tie_tolerance
    label = _label(scenario, str(planned["phase"]), str(planned["need_group"]))
    before = planned.get("minutes_before")
    minutes = (
        f"their mean journey is {_text(planned.get('minutes_after'), 'minutes_after')} minutes"
        + (
            f", against {_text(before, 'minutes_before')} before for those who had a base place"
            if before is not None
            else " (none of them had a base place before)"
        )
    )
    lines = [
        f"Choice #{planned['choice']} of the plan: a {label} base of {planned['places']}"
        f" places. Without it the plan's harm would rise by"
        f" {_text(planned['harm_averted'], 'harm_averted')} harm points (placing"
        f" {_text(planned['harm_averted_placing'], 'harm_averted_placing')} +"
        f" journeys {_text(planned['harm_averted_journeys'], 'harm_averted_journeys')})."
        f" It serves {_text(planned['children_served'], 'children_served')} children,"
        f" {_text(planned['newly_placed'], 'newly_placed')} of them newly placed in a base;"
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
    if planned.get("alternatives"):
        lines.append(
            f"Equivalent alternatives within the {tolerance:.0%} tie tolerance (harm points"
            f" the plan would add): {planned['alternatives']}."
        )
    else:
        lines.append(f"It has no equivalent alternative within the {tolerance:.0%} tie tolerance.")
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
        _failed_rule(scenario, check, school)
        for check in explanation.rules
        if check.outcome == "fail"
    ]
    if not options or explanation.reference is None:
        return lines
    reference = options[explanation.reference]
    candidate = bool(reference["candidate"])
    label = _label(scenario, reference["phase"], reference["need_group"])
    lines.extend(_swap_sentence(result, explanation, candidate, label, swaps))
    lines.extend(_extra_sentence(result, explanation, options, extra))
    return lines


_SHORT = {
    "establishment": "establishment type rule",
    "phase": "phase rule",
    "exclude_urns": "scenario's exclusion (candidates.exclude_urns)",
    "single_sex": "single-sex rule",
    "selective": "selective admissions rule",
    "ages": "ages rule",
    "spare_places": "spare places rule",
    "high_send": "high-SEND rule",
    "existing_base": "existing hosts rule",
}


def _failed_names(explanation: SchoolExplanation) -> str:
    """The rules the school fails, for a sentence: "single-sex and selective admissions rules"."""
    names = list(dict.fromkeys(_SHORT[c.rule] for c in explanation.rules if c.outcome == "fail"))
    if len(names) <= 1:
        return names[0] if names else "rules"
    stems = [n.removesuffix(" rule") for n in names]
    if len(stems) == len([n for n in names if n.endswith(" rule")]):
        return ", ".join(stems[:-1]) + " and " + stems[-1] + " rules"
    return ", ".join(names[:-1]) + " and " + names[-1]


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
    failed = _failed_names(explanation)
    prefix = "Its" if candidate else f"Were the {failed} relaxed, its"
    difference = _number(row["harm_difference"])
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
    threshold = scenario.suppression_threshold
    rule = StoppingRule.from_scenario(scenario).describe(scenario.base_size, threshold)
    if requested == 0:
        return ["The scenario asks for no new bases (bases = 0)."]
    raw = explanation.options["plan_harm_averted"].astype(float)
    best = int(raw.to_numpy().argmax())
    mine = options[best]
    figures = mine["with_plan"]
    label = _label(scenario, mine["phase"], mine["need_group"])
    placed = _text(figures["newly_placed"], "newly_placed")
    harm = _text(figures["harm_averted"], "harm_averted")
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
    following = _ordinal(bases + 1)
    sentence = f"The plan is full (bases = {bases}): as a {following} base {added}."
    if extra is not None and extra["rank"] == 1:
        sentence += (
            f" Of the {extra['schools']} schools without a planned base, it would be the best"
            f" {following} base (raise bases to {bases + 1} and run why again to see the best"
            f" set of {bases + 1}, chosen afresh)."
        )
    elif extra is not None:
        best_label = _label(scenario, extra["best_phase"], extra["best_need_group"])
        sentence += (
            f" It would rank {_ordinal(int(extra['rank']))} of the {extra['schools']} schools"
            f" without a planned base; the best {following} base would be"
            f" {extra['best_name']} ({extra['best_urn']}, {best_label}), which would place"
            f" {_text(extra['newly_placed'], 'newly_placed')} children who had no base place"
            f" and avert {_text(extra['harm_averted'], 'harm_averted')} harm points."
        )
    return [sentence]


# --- the document ---------------------------------------------------------------------------------


def why_document(result: RankResult, explanation: SchoolExplanation) -> dict[str, Any]:
    """The explanation as one JSON-ready document, every figure disclosure-controlled.

    Keys: ``scenario, urn, name, in_plan, summary, school, rules, options, planned,
    areas_served, alternatives, reference_option, served_instead, swaps, extra_base,
    plan_reason, to_enter_the_plan, suppression_threshold, warnings``.
    """
    scenario = result.scenario
    rule = result.disclosure_rule
    threshold = rule.threshold
    school = _school(explanation, threshold)
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
        "rules": _rules(scenario, explanation, school),
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
        "warnings": published_warnings(result),
    }


def _summary(
    result: RankResult, explanation: SchoolExplanation, planned: dict[str, Any] | None
) -> str:
    who = f"{explanation.name} ({explanation.urn})"
    if planned is not None:
        label = _label(result.scenario, str(planned["phase"]), str(planned["need_group"]))
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


# --- for people -----------------------------------------------------------------------------------


def _table(
    title: str,
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[bool],
    caption: str | None = None,
    widths: Sequence[int | None] | None = None,
) -> Table:
    """A rich table whose cells are plain text (a school's name in brackets is not markup)."""
    table = Table(
        title=Text(title),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption=Text(caption) if caption else None,
        caption_justify="left",
    )
    for index, (heading, right) in enumerate(zip(headings, numeric, strict=True)):
        width = widths[index] if widths is not None else None
        table.add_column(
            Text(heading), justify="right" if right else "left", overflow="fold", min_width=width
        )
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _school_lines(document: dict[str, Any]) -> list[str]:
    school = document["school"]
    low, high = school["statutory_low_age"], school["statutory_high_age"]
    ages = (
        f"statutory ages {low:g}-{high:g}, teaches ages"
        f" {_ages(school['first_age'], school['last_age'])}"
        if low is not None and high is not None
        else "statutory ages not recorded"
    )
    capacity, pupils, spare = school["capacity"], school["pupils"], school["spare_places"]
    room = (
        f"capacity {capacity:,.0f}, pupils {pupils:,.0f}: "
        + (f"{-spare:,.0f} pupils over capacity" if spare < 0 else _places(spare))
        if spare is not None
        else "capacity or pupils not recorded"
    )
    ehcp, share = school["ehcp_pupils"], school["ehcp_share"]
    send = (
        "not recorded"
        if ehcp is None
        else f"{ehcp if isinstance(ehcp, str) else f'{ehcp:,.0f}'}"
        f" ({share if isinstance(share, str) else f'{share:.1%}'} of pupils)"
    )
    return [
        f"Phase: {school['phase']} ({school['establishment_group']} school); {ages}.",
        f"Gender: {school['gender'] or 'not recorded'}; admissions policy:"
        f" {school['admissions_policy'] or 'not recorded'}.",
        f"Room: {room}.",
        f"Pupils with an EHC plan: {send}.",
        f"Hosts a base today: {school['existing_base'] or 'no'}.",
        f"A candidate host under the rules: {'yes' if school['candidate'] else 'no'}.",
    ]


def _figure_cells(figures: dict[str, Any]) -> list[str]:
    """Harm averted, its two parts (``10.00 +0.50``), children served, newly placed."""
    journeys = figures["harm_averted_journeys"]
    number = _number(journeys)
    journey_text = _text(journeys, "harm_averted_journeys")
    return [
        _text(figures["harm_averted"], "harm_averted"),
        f"{_text(figures['harm_averted_placing'], 'harm_averted_placing')}"
        f" {signed(journey_text, number) if number is not None else journey_text}",
        _text(figures["children_served"], "children_served"),
        _text(figures["newly_placed"], "newly_placed"),
    ]


def why_text(document: dict[str, Any]) -> RenderableType:
    """The document for people: the same facts and sentences, as text and tables."""
    parts: list[RenderableType] = [
        Text(document["summary"], style="bold"),
        Text(f"Scenario: {document['scenario']}"),
        Text("\nThe school\n" + "\n".join(f"  {line}" for line in _school_lines(document))),
    ]
    parts.append(
        _table(
            "\nSuitability rules",
            ["Rule", "Result", "Data", "Scenario setting"],
            [[r["label"], r["result"], r["data"], r["setting"]] for r in document["rules"]],
            numeric=[False] * 4,
        )
    )
    if document["options"]:
        alone, with_plan = [], []
        for option in document["options"]:
            status = (
                f" (in the plan, #{option['choice']})"
                if option["choice"] is not None
                else ""
                if option["candidate"]
                else " (not offered)"
            )
            name = f"{option['phase']}: {option['need_group_label']}{status}"
            rank = "" if option["greedy_rank"] is None else str(option["greedy_rank"])
            alone.append([name, rank, *_figure_cells(option["alone"])])
            with_plan.append(
                [
                    name,
                    *_figure_cells(option["with_plan"]),
                    "yes" if option["with_plan"]["passes_rule"] else "no",
                ]
            )
        figures = ["Harm averted", "Placing, journeys", "Children served", "Newly placed"]
        parts.append(
            _table(
                "\nIts options (phase x need group), each added to today's bases on its own",
                ["New base", "Greedy rank", *figures],
                alone,
                numeric=[False, *([True] * 5)],
            )
        )
        parts.append(
            _table(
                "The same options with the plan's other new bases open (those at other schools)",
                ["New base", *figures, "Passes the stopping rule"],
                with_plan,
                numeric=[False, *([True] * 5)],
                caption="Harm averted in harm points, in two parts: placing children who had no"
                " base place, and journeys (fallback journeys included). An option the rules do"
                " not offer shows what a base there would do if they allowed it. The stopping"
                " rule is judged with the plan's other bases open.",
            )
        )
    else:
        parts.append(Text("\nIt can take no new base: it is not a mainstream school of a phase"
                          " being planned for."))  # fmt: skip
    if document["planned"] is not None:
        parts.append(_bullets("\nIn the plan", document["in_the_plan"]))
        if document["areas_served"]:
            parts.append(
                _table(
                    "\nAreas its base serves",
                    ["Area", "Children", "Mean journey (minutes)"],
                    [
                        [
                            f"{a['area_name']} ({a['area_code']})",
                            _text_count(a["children"]),
                            _text(a["minutes"], "minutes_there"),
                        ]
                        for a in document["areas_served"]
                    ],
                    numeric=[False, True, True],
                )
            )
    else:
        reference = document["reference_option"]
        if document["plan_reason"]:
            parts.append(Text(f"\nThe plan's reason it was left out: {document['plan_reason']}."))
        if reference is not None and document["served_instead"]:
            option = next(
                o
                for o in document["options"]
                if (o["phase"], o["need_group"]) == (reference["phase"], reference["need_group"])
            )
            parts.append(
                _table(
                    f"\nWhere the children its {reference['phase']}:"
                    f" {option['need_group_label']} base would serve alone"
                    f" ({_text(option['alone']['children_served'], 'children_served')}) are in"
                    " the plan",
                    ["In the plan", "Children", "Mean journey there", "To this school"],
                    [
                        [
                            row["base"],
                            _text_count(row["children"]),
                            _text(row["minutes_there"], "minutes_there"),
                            _text(row["minutes_here"], "minutes_here"),
                        ]
                        for row in document["served_instead"]
                    ],
                    numeric=[False, True, True, True],
                    caption="Children of each area split between its bases as the plan"
                    " assigns them; journeys in minutes (to no base: the fallback journey).",
                )
            )
        if document["swaps"]:
            parts.append(
                _table(
                    "\nIn each chosen base's place",
                    [
                        "#",
                        "Chosen base",
                        "Plan's harm would change by",
                        "Children it would serve",
                        "Change in children without a place",
                        "Equivalent alternative",
                    ],
                    [
                        [
                            str(row["choice"]),
                            f"{row['name']} ({row['urn']})"
                            + ("" if row["allowed"] else " (may not give way)"),
                            _signed_harm(row["harm_difference"]),
                            _text_count(row["children_served"]),
                            _text_count(row["unmet_difference"]),
                            "yes" if row["tie"] else "",
                        ]
                        for row in document["swaps"]
                    ],
                    numeric=[True, False, True, True, True, False],
                )
            )
        if document["to_enter_the_plan"]:
            parts.append(
                _bullets(
                    "\nWhat would have to change for it to enter the plan",
                    document["to_enter_the_plan"],
                )
            )
    threshold = document["suppression_threshold"]
    parts.append(Text("\n" + _disclosure(threshold)))
    return Group(*parts)


def _bullets(title: str, lines: Sequence[str]) -> RenderableType:
    """A heading and its sentences, each wrapped under a hanging dash."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3, justify="right")
    grid.add_column(ratio=1)
    for line in lines:
        grid.add_row(Text("-"), Text(line))
    return Group(Text(title), grid)


def _text_count(value: object) -> str:
    return _text(value, "children_served")


def _signed_harm(value: object) -> str:
    number = _number(value)
    text = _text(value, "harm_difference")
    return text if number is None else signed(text, number)


def _disclosure(threshold: int) -> str:
    if threshold == 0:
        return "Disclosure control is off (suppression_threshold = 0)."
    return (
        f"Counts of fewer than {threshold} children are shown as <{threshold}; c marks a figure"
        " withheld so that no such count can be worked out from it."
    )


__all__ = ["RULE_LABELS", "why_document", "why_json", "why_text"]
