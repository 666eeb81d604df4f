"""Supply: existing bases and the schools that could host a new one.

Special and independent schools never host an inclusion base. Mainstream schools are filtered
by the scenario's candidate rules, and every reason a school is excluded or flagged is kept as a
note so the ranking can be explained.
"""

from __future__ import annotations

import pandas as pd

from sitefinder.config import Scenario

HOSTABLE_PHASES = {
    "primary": ("primary",),
    "secondary": ("secondary",),
    "all-through": ("primary", "secondary"),
    "other": (),  # nursery and 16-plus establishments
}


def _base_summary(scenario: Scenario, bases: pd.DataFrame) -> dict[str, str]:
    groups = scenario.group_of_code()
    summary: dict[str, list[str]] = {}
    for base in bases.itertuples():
        labels = sorted({groups[c] for c in base.need_codes})
        summary.setdefault(str(base.urn), []).append(f"{base.phase} {'/'.join(labels)}")
    return {urn: ", ".join(items) for urn, items in summary.items()}


def assess_schools(scenario: Scenario, schools: pd.DataFrame, bases: pd.DataFrame) -> pd.DataFrame:
    """Decide which schools may host a new base and note what matters about each.

    Returns
    -------
    pandas.DataFrame
        The schools with added columns ``spare_places``, ``ehcp_share`` (fraction of pupils
        with an EHC plan), ``existing_base`` (text, empty if none), ``eligible`` (bool) and
        ``notes`` (reasons for exclusion first, then flags, separated by "; ").
    """
    rules = scenario.candidates
    hosted = _base_summary(scenario, bases)
    excluded_urns = {str(urn) for urn in rules.exclude_urns}
    out = schools.copy()
    out["spare_places"] = out["capacity"] - out["pupils"]
    out["ehcp_share"] = (out["ehcp_pupils"] / out["pupils"].where(out["pupils"] > 0)).round(4)
    out["existing_base"] = [hosted.get(urn, "") for urn in out["urn"]]
    eligible, notes = [], []
    for school in out.itertuples():
        excluded: list[str] = []
        flags: list[str] = []
        if school.establishment_group != "mainstream":
            eligible.append(False)
            notes.append(f"{school.establishment_group} school: never a host")
            continue
        if not set(HOSTABLE_PHASES[str(school.phase)]) & set(scenario.phases):
            excluded.append("phase not planned for")
        if school.urn in excluded_urns:
            excluded.append("excluded by the scenario")
        spare = school.spare_places
        if pd.isna(spare):
            flags.append("spare places unknown (no capacity or pupil numbers)")
        elif spare < rules.min_spare_places:
            excluded.append(
                f"no spare space ({spare:g} spare places, needs {rules.min_spare_places})"
            )
        elif spare < scenario.base_size:
            flags.append(f"tight on space ({spare:g} spare places)")
        share = school.ehcp_share
        if pd.notna(share) and share > rules.high_send_share:
            text = f"already high-SEND ({share:.1%} EHC plans)"
            (excluded if rules.exclude_high_send else flags).append(text)
        if school.existing_base:
            text = f"hosts a base ({school.existing_base})"
            (excluded if rules.exclude_existing_hosts else flags).append(text)
        eligible.append(not excluded)
        notes.append("; ".join(excluded + flags))
    out["eligible"] = eligible
    out["notes"] = notes
    return out


def candidate_options(scenario: Scenario, assessed: pd.DataFrame) -> pd.DataFrame:
    """List every possible new base: eligible school x phase it can host x need group.

    Returns
    -------
    pandas.DataFrame
        Columns ``school`` (row position in ``assessed``), ``urn``, ``phase``, ``need_group``,
        ordered by school, phase, need group (the order breaks ties deterministically).
    """
    rows = [
        (position, school.urn, phase, group)
        for position, school in enumerate(assessed.itertuples())
        if school.eligible
        for phase in HOSTABLE_PHASES[str(school.phase)]
        if phase in scenario.phases
        for group in scenario.new_base_groups
    ]
    return pd.DataFrame(rows, columns=["school", "urn", "phase", "need_group"])
