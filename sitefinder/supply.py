"""Supply: existing bases and the schools that could host a new one.

Special and independent schools never host an inclusion base. Mainstream schools are tested
against the scenario's suitability rules (``[candidates]``): single-sex, selective admissions,
the ages taught, spare places, an already high share of pupils with EHC plans, a base there
already, and the scenario's own lists. Every reason a school is excluded or flagged is kept as
a note in words, so the ranking can be explained; a school whose data cannot tell is flagged,
never excluded, and the rule left unchecked is named in a warning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from sitefinder.config import Scenario
from sitefinder.disclosure import rule_for, withheld_count
from sitefinder.errors import ScenarioError

HOSTABLE_PHASES = {
    "primary": ("primary",),
    "secondary": ("secondary",),
    "all-through": ("primary", "secondary"),
    "other": (),  # nursery and 16-plus establishments
}
# Ages taught in each phase, by age at the start of the school year (Reception to Year 6,
# Year 7 to Year 11): used where the scenario's demand ages name no phase.
PHASE_AGES = {"primary": (4, 10), "secondary": (11, 15)}


@dataclass(frozen=True)
class Assessment:
    """Every school with its eligibility and notes, the warnings the rules raised, and each
    school's rule checks by URN (:class:`RuleCheck`, in the order of its notes)."""

    schools: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    checks: dict[str, list[RuleCheck]] = field(default_factory=dict)


def phase_ages(ages: Mapping[Any, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """Youngest and oldest age (years) of each phase: ``ages`` (``inputs.demand.ages``) where it
    names the phase, else :data:`PHASE_AGES`."""
    return {phase: ages.get(phase, default) for phase, default in PHASE_AGES.items()}


def served_ages(
    first: float, last: float, phases: Sequence[str], spans: Mapping[str, tuple[int, int]]
) -> tuple[int, int]:
    """Ages (years) a base serving ``phases`` at a school teaching ``first``-``last`` serves.

    The school's taught ages clipped to the phases' ages; a school whose ages are not known
    (NaN) is taken to teach every age of the phases. An all-through base serves both phases.
    """
    low = min(spans[p][0] for p in phases)
    high = max(spans[p][1] for p in phases)
    if pd.isna(first) or pd.isna(last):
        return low, high
    return max(int(first), low), min(int(last), high)


def ages_text(first: float, last: float) -> str:
    """Ages as people read them: ``4-6``, or ``7`` for one year."""
    return f"{first:g}-{last:g}" if first != last else f"{first:g}"


def taught_ages(schools: pd.DataFrame, *, ages: Mapping[Any, tuple[int, int]]) -> pd.DataFrame:
    """Add the ages each school teaches within its phases, in the demand's convention.

    A school with statutory ages low..high teaches children aged low..high-1 at the start of
    the school year (a primary 3-11 teaches 3..10; its primary ages are 4..10). GIAS records a
    statutory low age of 5 for many primary and infant schools that take Reception (age 4), so
    5 is read as 4 at a school teaching primary ages.

    Parameters
    ----------
    schools
        Schools with ``phase`` and, where known, ``statutory_low_age``/``statutory_high_age``
        (years).
    ages
        Youngest and oldest age of each phase (``inputs.demand.ages``), years.

    Returns
    -------
    pandas.DataFrame
        ``schools`` with ``first_age`` and ``last_age`` (years; NaN when the statutory ages are
        not known), clipped to the ages of the phases the school's phase serves.
    """
    spans = phase_ages(ages)
    out = schools.copy()
    low = pd.to_numeric(out.get("statutory_low_age"), errors="coerce")
    high = pd.to_numeric(out.get("statutory_high_age"), errors="coerce")
    if low is None or high is None:
        out["first_age"] = out["last_age"] = np.nan
        return out
    firsts, lasts = [], []
    for phase, lo, hi in zip(out["phase"], low, high, strict=True):
        served = HOSTABLE_PHASES.get(str(phase), ())
        if np.isnan(lo) or np.isnan(hi):
            firsts.append(np.nan)
            lasts.append(np.nan)
            continue
        first, last = (4.0 if lo == 5 and "primary" in served else float(lo)), float(hi) - 1
        if served:
            first = max(first, min(spans[p][0] for p in served))
            last = min(last, max(spans[p][1] for p in served))
        firsts.append(first)
        lasts.append(last)
    out["first_age"] = firsts
    out["last_age"] = lasts
    return out


def _base_summary(scenario: Scenario, bases: pd.DataFrame) -> dict[str, str]:
    groups = scenario.group_of_code()
    summary: dict[str, list[str]] = {}
    for base in bases.itertuples():
        served = {groups[c] for c in base.need_codes}
        needs = (
            "every need group"
            if served >= set(scenario.need_groups)
            else ", ".join(scenario.need_groups[g].label for g in sorted(served))
        )
        summary.setdefault(str(base.urn), []).append(f"{base.phase}: {needs}")
    return {urn: "; ".join(items) for urn, items in summary.items()}


def _age_fit(
    school: pd.Series, phase: str, spans: dict[str, tuple[int, int]]
) -> tuple[str, str] | None:
    """(kind, text) when the school teaches only part of ``phase``'s ages, else None.

    ``kind`` is ``none`` (no age of the phase) or ``partial``.
    """
    first, last = school.get("first_age", np.nan), school.get("last_age", np.nan)
    if pd.isna(first) or pd.isna(last):
        return None
    low, high = spans[phase]
    lo, hi = max(first, low), min(last, high)
    if lo > hi:
        return "none", f"teaches ages {ages_text(first, last)}, none of the {phase} phase's"
    if (lo, hi) == (low, high):
        return None
    primary_school = phase == "primary" and str(school.get("phase", "")) == "primary"
    kind = (
        "infant school" if primary_school and lo == low
        else "junior school" if primary_school and hi == high
        else f"teaches {phase} ages {ages_text(lo, hi)} only"
    )  # fmt: skip
    return "partial", f"{kind}: a {phase} base here serves ages {ages_text(lo, hi)} only"


RuleOutcome = Literal["pass", "fail", "flag", "unknown", "overridden"]


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One suitability rule applied to one school: the structured form of its notes.

    Attributes
    ----------
    rule
        Which rule: ``establishment`` (special, independent and PRU schools never host),
        ``phase`` (a phase being planned for), ``single_sex``, ``selective``, ``ages`` (one
        check per planned phase), ``spare_places``, ``high_send``, ``existing_base``,
        ``exclude_urns`` or ``required_urns``.
    key
        The scenario key that controls it (``candidates.exclude_single_sex``); ``""`` when
        none does.
    outcome
        ``pass``; ``fail`` (the school is left out, or with ``phase`` set, only that phase's
        bases); ``flag`` (noted, not left out: a rule switched to a flag, or tight on space);
        ``unknown`` (the data cannot tell: kept, flagged when some school has the data);
        ``overridden`` (failed, but the school is in ``selection.required_urns``).
    note
        The words it adds to the school's notes (``""`` for none).
    excludes
        Whether ``note`` is a reason the school is left out (notes list those first).
    phase
        For the ages rule: the phase checked (``""`` when the statutory ages are not known).
    """

    rule: str
    key: str
    outcome: RuleOutcome
    note: str = ""
    excludes: bool = False
    phase: str = ""


CROSS_BORDER_NOTE = "across the border: another authority's school (candidates.cross_border)"
"""The flag on a host of another authority, in its notes and caveats."""

UNKNOWN_NOTES: dict[str, str] = {
    "single_sex": "gender not recorded (single-sex rule not checked)",
    "selective": "admissions policy not recorded (selective rule not checked)",
    "ages": "statutory ages not recorded (age rule not checked)",
    "spare_places": "spare places unknown (no capacity or pupil numbers)",
    "high_send": "EHC-plan share not recorded (high-SEND rule not checked)",
}
"""What a school's note says when its data cannot check a rule (:data:`RuleOutcome` unknown)."""


def caveats(checks: Sequence[RuleCheck]) -> str:
    """A host's caveats in words, ``"; "``-joined: every rule it is flagged by (tight on space,
    high-SEND, single-sex when allowed, part of a phase's ages, an existing base), every rule
    its data cannot check (said even when no school's data can, where the notes leave it to
    one warning) and a rule a required school overrides."""
    said = []
    for check in checks:
        if check.outcome == "unknown":
            said.append(check.note or UNKNOWN_NOTES.get(check.rule, f"{check.rule} not checked"))
        elif check.outcome == "flag" or (check.rule == "required_urns" and check.note):
            said.append(check.note)
    return "; ".join(dict.fromkeys(text for text in said if text))


@dataclass
class _Known:
    """Which rules' data some candidate has (a rule nobody's data can check is one warning)."""

    gender: bool
    admissions: bool
    ages: bool
    spare: bool
    send: bool


def _pool(scenario: Scenario, table: pd.DataFrame) -> pd.Series:
    planned = set(scenario.phases)
    across = _column(table, "cross_border", False).fillna(False).astype(bool)
    hosts_across = scenario.candidates.cross_border
    return (
        (table["establishment_group"] == "mainstream")
        & (~across | hosts_across)
        & table["phase"].map(lambda p: bool(set(HOSTABLE_PHASES.get(str(p), ())) & planned))
    )


def _column(table: pd.DataFrame, name: str, default: object) -> pd.Series:
    return table[name] if name in table.columns else pd.Series(default, index=table.index)


def _high_send(scenario: Scenario, *, share: float, count: float) -> str:
    """The high-SEND note; the exact share only when its count of pupils may be published.

    Notes are published beside the school's pupils, so a share of a withheld count (pupils
    with an EHC plan under ``suppression_threshold``) would give the count back.
    """
    limit = f"{scenario.candidates.high_send_share:.0%}"
    rule = rule_for(scenario).of_records()  # real pupils, even when demand is modelled
    if rule.hides(count, "count"):
        few = withheld_count(rule.threshold)
        return (
            f"already high-SEND (EHC plans above {limit} of pupils; {few} pupils, share withheld)"
        )
    return f"already high-SEND ({share:.1%} EHC plans, above {limit})"


def _judge(
    scenario: Scenario,
    school: pd.Series,
    *,
    known: _Known,
    spans: dict[str, tuple[int, int]],
) -> tuple[list[RuleCheck], tuple[str, ...]]:
    """Every rule's check, in the order of the notes, and the planned phases a base here
    could serve."""
    rules = scenario.candidates
    checks: list[RuleCheck] = []

    def check(
        rule: str,
        key: str,
        outcome: RuleOutcome,
        note: str = "",
        *,
        phase: str = "",
        excludes: bool | None = None,
    ) -> None:
        # A failed rule leaves the school out unless it rules out only one phase's bases.
        left_out = outcome == "fail" and not phase if excludes is None else excludes
        checks.append(RuleCheck(rule, key, outcome, note, left_out, phase))

    hostable = [p for p in HOSTABLE_PHASES[str(school["phase"])] if p in scenario.phases]
    check("phase", "phases", "pass" if hostable else "fail", "" if hostable else
          "phase not planned for")  # fmt: skip
    key = "candidates.exclude_single_sex"
    gender = str(school.get("gender", "") or "")
    if gender in ("boys", "girls"):
        if rules.exclude_single_sex:
            check(
                "single_sex",
                key,
                "fail",
                f"single-sex school ({gender}): a base serves every child of its need group",
            )
        else:
            check("single_sex", key, "flag", f"single-sex school ({gender})")
    elif not gender:
        check(
            "single_sex",
            key,
            "unknown",
            UNKNOWN_NOTES["single_sex"] if known.gender else "",
        )
    else:
        check("single_sex", key, "pass")
    key = "candidates.exclude_selective"
    policy = str(school.get("admissions_policy", "") or "")
    if policy == "selective":
        if rules.exclude_selective:
            check(
                "selective",
                key,
                "fail",
                "selective admissions: a base serves every child of its need group, whatever"
                " their attainment",
            )
        else:
            check("selective", key, "flag", "selective admissions")
    elif not policy:
        check(
            "selective",
            key,
            "unknown",
            UNKNOWN_NOTES["selective"] if known.admissions else "",
        )
    else:
        check("selective", key, "pass")  # fmt: skip
    key = "candidates.exclude_partial_ages"
    phases: list[str] = []
    refused: list[tuple[str, str]] = []
    ages_known = pd.notna(school.get("first_age", np.nan))
    for phase in hostable:
        fit = _age_fit(school, phase, spans)
        if fit is None:
            phases.append(phase)
            if ages_known:
                check("ages", key, "pass", phase=phase)
        elif fit[0] == "none":
            refused.append((phase, fit[1]))
        elif rules.exclude_partial_ages:
            refused.append((phase, f"{fit[1]} (candidates.exclude_partial_ages)"))
        else:
            check("ages", key, "flag", fit[1], phase=phase)
            phases.append(phase)
    # Another phase can still host: only these bases are ruled out.
    for refused_phase, text in refused:
        if phases:
            text = f"{text}, so no base of that phase is offered"
            check("ages", key, "fail", text, phase=refused_phase)
        else:
            check("ages", key, "fail", text, phase=refused_phase, excludes=True)
    if hostable and not ages_known:
        check(
            "ages",
            key,
            "unknown",
            UNKNOWN_NOTES["ages"] if known.ages else "",
        )
    key = "candidates.min_spare_places"
    spare = school["spare_places"]
    needed = scenario.min_spare_places
    if pd.isna(spare):
        check(
            "spare_places",
            key,
            "unknown",
            UNKNOWN_NOTES["spare_places"] if known.spare else "",
        )
    elif spare < needed:
        have = (
            f"{-spare:g} pupil{'' if spare == -1 else 's'} over capacity"
            if spare < 0
            else f"{spare:g} spare place{'' if spare == 1 else 's'}"
        )
        check("spare_places", key, "fail", f"no spare space ({have}, needs {needed}: {key})")
    elif spare < scenario.base_size:
        check("spare_places", key, "flag", f"tight on space ({spare:g} spare places)")
    else:
        check("spare_places", key, "pass")  # fmt: skip
    key = "candidates.high_send_share"
    share = school["ehcp_share"]
    if pd.notna(share) and share > rules.high_send_share:
        text = _high_send(scenario, share=float(share), count=float(school["ehcp_pupils"]))
        check("high_send", key, "fail" if rules.exclude_high_send else "flag", text)
    elif pd.isna(share):
        check(
            "high_send",
            key,
            "unknown",
            UNKNOWN_NOTES["high_send"] if known.send else "",
        )
    else:
        check("high_send", key, "pass")  # fmt: skip
    key = "candidates.exclude_existing_hosts"
    if school["existing_base"]:
        text = f"hosts a base ({school['existing_base']})"
        check("existing_base", key, "fail" if rules.exclude_existing_hosts else "flag", text)
    else:
        check("existing_base", key, "pass")
    return checks, tuple(phases)


def assess(scenario: Scenario, schools: pd.DataFrame, bases: pd.DataFrame) -> Assessment:
    """Decide which schools may host a new base, say why, and warn where data cannot tell.

    The rules, each a ``[candidates]`` key (default in brackets): ``exclude_single_sex``
    (true), ``exclude_selective`` (true), ``exclude_partial_ages`` (false: a school teaching
    only part of a phase's ages, such as an infant or junior school, hosts a base serving
    those ages only, flagged; true leaves it out of that phase), ``min_spare_places``
    (the base size: capacity minus pupils), ``exclude_high_send`` (false: flagged above
    ``high_send_share``), ``exclude_existing_hosts`` (false) and ``exclude_urns``. A school
    whose data cannot tell is flagged, never excluded. A school in
    ``selection.required_urns`` that fails a rule stays a candidate, with a warning; one that
    cannot host at all (not mainstream, no planned phase, unknown, or also in
    ``exclude_urns``) is an error.

    Returns
    -------
    Assessment
        ``schools`` gains ``spare_places`` (places), ``ehcp_share`` (fraction of pupils with
        an EHC plan), ``existing_base`` (text, empty if none), ``host_phases`` (the planned
        phases a new base there could serve, as text: "primary, secondary"), ``eligible``
        (bool), ``notes`` (reasons for exclusion first, then flags, separated by "; ") and
        ``caveats`` (what a host there comes with: :func:`caveats`);
        ``checks`` gives each school's rules one by one (:class:`RuleCheck`, by URN), the
        structured form of its notes.

    Raises
    ------
    ScenarioError
        If a required URN cannot host a base at all.
    """
    rules = scenario.candidates
    spans = phase_ages(scenario.inputs.demand.ages)
    hosted = _base_summary(scenario, bases)
    excluded_urns = {str(urn) for urn in rules.exclude_urns}
    required = list(dict.fromkeys(scenario.selection.required_urns))
    out = schools.copy()
    out["spare_places"] = out["capacity"] - out["pupils"]
    out["ehcp_share"] = (out["ehcp_pupils"] / out["pupils"].where(out["pupils"] > 0)).round(4)
    out["existing_base"] = [hosted.get(urn, "") for urn in out["urn"]]
    pool = _pool(scenario, out) & ~out["urn"].isin(excluded_urns)
    known = _Known(
        gender=bool((_column(out, "gender", "")[pool] != "").any()),
        admissions=bool((_column(out, "admissions_policy", "")[pool] != "").any()),
        ages=bool(_column(out, "first_age", np.nan)[pool].notna().any()),
        spare=bool(out["spare_places"][pool].notna().any()),
        send=bool(out["ehcp_share"][pool].notna().any()),
    )
    eligible: list[bool] = []
    notes: list[str] = []
    cautions: list[str] = []
    host_phases: list[str] = []
    warnings: list[str] = []
    problems: list[str] = []
    checks: dict[str, list[RuleCheck]] = {}
    for _, school in out.iterrows():
        urn = str(school["urn"])
        across = bool(school.get("cross_border", False))
        hosts_across = across and scenario.candidates.cross_border
        if school["establishment_group"] != "mainstream" or (across and not hosts_across):
            note = (
                "another authority's school (across the border): never a host here"
                if across
                else f"{school['establishment_group']} school: never a host"
            )
            checks[urn] = [RuleCheck("establishment", "", "fail", note, excludes=True)]
            eligible.append(False)
            notes.append(note)
            cautions.append("")
            host_phases.append("")
            continue
        mine, phases = _judge(scenario, school, known=known, spans=spans)
        listed = RuleCheck("exclude_urns", "candidates.exclude_urns", "pass")
        if urn in excluded_urns:
            listed = RuleCheck(
                "exclude_urns", "candidates.exclude_urns", "fail", "excluded by the scenario", True
            )
        home = RuleCheck("establishment", "", "pass")
        if hosts_across:  # flagged wherever its notes and caveats are shown
            home = RuleCheck("establishment", "candidates.cross_border", "flag", CROSS_BORDER_NOTE)
        mine = [home, listed, *mine]
        excluded = [c.note for c in mine if c.excludes]
        planned = tuple(p for p in HOSTABLE_PHASES[str(school["phase"])] if p in scenario.phases)
        if urn in required and urn in excluded_urns:
            problems.append(
                f"selection.required_urns: {school['name']} ({urn}) is also in"
                " candidates.exclude_urns (remove it from one list)"
            )
        elif urn in required and not planned:
            problems.append(
                f"selection.required_urns: {school['name']} ({urn}) teaches no phase being"
                f" planned for (its phase is {school['phase']}; remove it, or add its phase to"
                " phases)"
            )
        elif urn in required and excluded:
            # The planner's explicit choice wins over a rule; the warning says what it overrides.
            warnings.append(
                f"selection.required_urns: {school['name']} ({urn}) is required, so it stays a"
                f" candidate although it fails the rule(s): {'; '.join(excluded)}"
            )
            overrides = RuleCheck(
                "required_urns",
                "selection.required_urns",
                "pass",
                f"required by the scenario despite: {', '.join(excluded)}",
            )
            mine = [
                overrides,
                *(
                    dataclasses.replace(c, outcome="overridden", excludes=False)
                    if c.excludes
                    else c
                    for c in mine
                ),
            ]
            excluded, phases = [], planned
        flags = [c.note for c in mine if c.note and not c.excludes and c.outcome != "overridden"]
        checks[urn] = mine
        eligible.append(not excluded)
        notes.append("; ".join(excluded + flags))
        cautions.append(caveats(mine))
        host_phases.append(", ".join(phases) if not excluded else "")
    for urn in required:
        if urn not in set(out["urn"]):
            problems.append(
                f"selection.required_urns: {urn} is not a URN in the schools file (check it)"
            )
        elif (out.loc[out["urn"] == urn, "establishment_group"] != "mainstream").any():
            group = out.loc[out["urn"] == urn, "establishment_group"].iloc[0]
            name = out.loc[out["urn"] == urn, "name"].iloc[0]
            problems.append(
                f"selection.required_urns: {name} ({urn}) is a {group} school, never a host of an"
                " inclusion base (remove it)"
            )
    if problems:
        raise ScenarioError(problems)
    out["eligible"] = eligible
    out["notes"] = notes
    out["caveats"] = cautions
    out["host_phases"] = host_phases
    warnings = _unchecked(scenario, out, pool) + warnings
    return Assessment(out, warnings, checks)


def _names(table: pd.DataFrame, mask: pd.Series, limit: int = 5) -> str:
    names = [f"{n} ({u})" for u, n in zip(table["urn"][mask], table["name"][mask], strict=True)]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _unchecked(scenario: Scenario, table: pd.DataFrame, pool: pd.Series) -> list[str]:
    """Warnings naming each rule the data could not check, for all or some candidates."""
    rules = scenario.candidates
    checks = [
        ("candidates.exclude_single_sex", "single-sex", "gender (GIAS Gender)",
         _column(table, "gender", "") == ""),
        ("candidates.exclude_selective", "selective admissions",
         "admissions policy (GIAS AdmissionsPolicy)",
         _column(table, "admissions_policy", "") == ""),
        ("candidates.exclude_partial_ages", "age range",
         "statutory ages (GIAS StatutoryLowAge/HighAge)",
         _column(table, "first_age", np.nan).isna()),
        ("candidates.min_spare_places", "spare places",
         "capacity and pupil numbers (GIAS SchoolCapacity, NumberOfPupils)",
         table["spare_places"].isna()),
        ("candidates.high_send_share", f"high-SEND (above {rules.high_send_share:.0%} of pupils"
         " with an EHC plan)", "EHC-plan counts (GIAS SENStat)", table["ehcp_share"].isna()),
    ]  # fmt: skip
    warnings = []
    candidates = int(pool.sum())
    for key, rule, data, missing in checks:
        unknown = missing & pool
        if not unknown.any():
            continue
        if int(unknown.sum()) == candidates:
            warnings.append(
                f"{key}: no candidate school has its {data} recorded, so the {rule} rule could"
                " not be checked"
            )
        else:
            warnings.append(
                f"{key}: {int(unknown.sum())} of {candidates} candidate school(s) have no"
                f" {data} recorded, so the {rule} rule could not be checked for them (kept and"
                f" flagged): {_names(table, unknown)}"
            )
    return warnings


def assess_schools(scenario: Scenario, schools: pd.DataFrame, bases: pd.DataFrame) -> pd.DataFrame:
    """The schools table of :func:`assess` (eligibility and notes), without the warnings."""
    return assess(scenario, schools, bases).schools


def candidate_options(scenario: Scenario, assessed: pd.DataFrame) -> pd.DataFrame:
    """List every possible new base: eligible school x phase it can host x need group (each
    single group, then each set of ``selection.need_group_sets`` by its key).

    Returns
    -------
    pandas.DataFrame
        Columns ``school`` (row position in ``assessed``), ``urn``, ``phase``, ``need_group``,
        ordered by school, phase, need group (the order breaks ties deterministically).
    """
    phases = (
        assessed["host_phases"].map(lambda text: text.split(", ") if text else [])
        if "host_phases" in assessed.columns
        else assessed["phase"].map(lambda p: HOSTABLE_PHASES[str(p)])
    )
    rows = [
        (position, urn, phase, group)
        for position, (urn, eligible, hosted) in enumerate(
            zip(assessed["urn"], assessed["eligible"], phases, strict=True)
        )
        if eligible
        for phase in hosted
        if phase in scenario.phases
        for group in scenario.new_base_keys
    ]
    return pd.DataFrame(rows, columns=["school", "urn", "phase", "need_group"])
