"""Each suitability rule for one school in words: the data behind it, the scenario setting
that controls it, and what a failed rule would need."""

from __future__ import annotations

from typing import Any

from sitefinder.config import Scenario
from sitefinder.disclosure import Rule, withheld_count
from sitefinder.supply import PHASE_AGES, RuleCheck
from sitefinder.why.cells import ages_text, number_of, places_text, whole
from sitefinder.why.school import SchoolExplanation

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


def published_school(explanation: SchoolExplanation, threshold: int) -> dict[str, Any]:
    """The school's data for publication: its pupils with an EHC plan are a count of children
    (withheld under the threshold, with their share)."""
    facts = {k: whole(v) for k, v in explanation.facts.items()}
    ehcp = number_of(facts.get("ehcp_pupils"))
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


def setting_text(scenario: Scenario, key: str) -> str:
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


def rule_data(scenario: Scenario, check: RuleCheck, school: dict[str, Any]) -> str:
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
        phase_ages = f"; the {check.phase} phase is ages {ages_text(*span)}" if span else ""
        # first/last are the taught ages within the planned phases: what a base here serves.
        served = f"a base here serves ages {ages_text(first, last)}"
        return f"statutory ages {low:g}-{high:g}: {served}{phase_ages}"
    if rule == "spare_places":
        capacity, pupils, spare = school["capacity"], school["pupils"], school["spare_places"]
        if spare is None:
            return "capacity or pupils not recorded"
        have = (
            f"{-spare:,.0f} pupil{'' if spare == -1 else 's'} over capacity"
            if spare < 0
            else places_text(spare)
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


def rule_rows(scenario: Scenario, explanation: SchoolExplanation, school: dict[str, Any]) -> list:
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
                "data": rule_data(scenario, check, school),
                "key": check.key or None,
                "setting": setting_text(scenario, check.key),
                "note": check.note,
            }
        )
    return rows


def article(word: str) -> str:
    return f"{'An' if word[:1].lower() in 'aeiou' else 'A'} {word}"


def failed_rule(scenario: Scenario, check: RuleCheck, school: dict[str, Any]) -> str:
    """What a failed rule would need, in words with its numbers."""
    rule, setting = check.rule, setting_text(scenario, check.key)
    if rule == "establishment":
        return (
            f"{article(str(school['establishment_group']))} school never hosts an inclusion"
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


def failed_names(explanation: SchoolExplanation) -> str:
    """The rules the school fails, for a sentence: "single-sex and selective admissions rules"."""
    names = list(dict.fromkeys(_SHORT[c.rule] for c in explanation.rules if c.outcome == "fail"))
    if len(names) <= 1:
        return names[0] if names else "rules"
    stems = [n.removesuffix(" rule") for n in names]
    if len(stems) == len([n for n in names if n.endswith(" rule")]):
        return ", ".join(stems[:-1]) + " and " + stems[-1] + " rules"
    return ", ".join(names[:-1]) + " and " + names[-1]
