"""Suitability rules for host schools: every exclusion and flag with its reason in words."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sitefinder.config import load_scenario
from sitefinder.errors import ScenarioError
from sitefinder.supply import assess, candidate_options, taught_ages

AGES = {"primary": (4, 10), "secondary": (11, 15)}
NO_BASES = pd.DataFrame(columns=["urn", "phase", "need_codes"])


@pytest.mark.parametrize(
    ("phase", "low", "high", "first", "last"),
    [
        ("primary", 3, 11, 4, 10),  # nursery class: its primary ages are 4-10
        ("primary", 4, 11, 4, 10),
        ("primary", 3, 7, 4, 6),  # infant
        ("primary", 5, 7, 4, 6),  # GIAS's 5 for a school taking Reception reads as 4
        ("primary", 5, 11, 4, 10),
        ("primary", 7, 11, 7, 10),  # junior
        ("secondary", 11, 16, 11, 15),
        ("secondary", 11, 18, 11, 15),  # sixth form: outside the secondary phase's ages
        ("secondary", 9, 13, 11, 12),  # middle deemed secondary
        ("secondary", 13, 18, 13, 15),  # upper school
        ("all-through", 4, 18, 4, 15),
        ("other", 16, 19, 16, 18),  # no phase: the ages as taught
    ],
)
def test_taught_ages_in_the_demand_convention(phase, low, high, first, last):
    schools = pd.DataFrame(
        {"phase": [phase], "statutory_low_age": [float(low)], "statutory_high_age": [float(high)]}
    )
    out = taught_ages(schools, ages=AGES)
    assert out[["first_age", "last_age"]].iloc[0].tolist() == [first, last]


def test_unknown_ages_stay_unknown():
    schools = pd.DataFrame(
        {"phase": ["primary"], "statutory_low_age": [np.nan], "statutory_high_age": [11.0]}
    )
    out = taught_ages(schools, ages=AGES)
    assert math.isnan(out["first_age"].iloc[0]) and math.isnan(out["last_age"].iloc[0])


def _school(urn: str, name: str, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "urn": urn, "name": name, "phase": "secondary", "establishment_group": "mainstream",
        "gender": "mixed", "admissions_policy": "non-selective", "statutory_low_age": 11.0,
        "statutory_high_age": 16.0, "capacity": 1000.0, "pupils": 900.0, "ehcp_pupils": 20.0,
        "easting": 380000.0, "northing": 390000.0,
    }  # fmt: skip
    row.update(values)
    return row


SCHOOLS = [
    _school("1", "Open High"),
    _school("2", "Girls High", gender="girls"),
    _school("3", "Boys Grammar", gender="boys", admissions_policy="selective"),
    _school("4", "Grammar School", admissions_policy="selective"),
    _school("5", "Infant School", phase="primary", statutory_low_age=5.0, statutory_high_age=7.0),
    _school("6", "Junior School", phase="primary", statutory_low_age=7.0, statutory_high_age=11.0),
    _school("7", "Full High", capacity=1000.0, pupils=991.0),  # 9 spare places
    _school("8", "Crowded High", capacity=1000.0, pupils=1004.0),  # 4 over capacity
    _school("9", "Tight High", capacity=1000.0, pupils=990.0),  # exactly 10 spare
    _school("10", "Unknown Roll High", capacity=np.nan),
    _school("11", "Unknown Gender High", gender=""),
    _school("12", "Busy SEND High", ehcp_pupils=90.0),  # 10% EHC plans
    _school("13", "Special School", establishment_group="special"),
    _school("14", "Nursery", phase="other", statutory_low_age=2.0, statutory_high_age=5.0),
    _school("15", "Through School", phase="all-through", statutory_low_age=7.0,
            statutory_high_age=16.0),  # junior and secondary ages: no infants
]  # fmt: skip


def _assess(scenario_file, extra: str = "", schools: list[dict[str, object]] | None = None):
    scenario = load_scenario(scenario_file(extra))
    table = taught_ages(pd.DataFrame(schools or SCHOOLS), ages=AGES)
    return assess(scenario, table, NO_BASES)


def test_every_rule_excludes_with_its_reason(scenario_file):
    result = _assess(scenario_file)
    notes = result.schools.set_index("name")["notes"]
    eligible = result.schools.set_index("name")["eligible"]
    assert notes["Open High"] == ""
    assert notes["Girls High"] == (
        "single-sex school (girls): a base serves every child of its need group"
    )
    assert notes["Boys Grammar"] == (
        "single-sex school (boys): a base serves every child of its need group; selective"
        " admissions: a base serves every child of its need group, whatever their attainment"
    )
    # A school teaching part of a phase hosts a base for those ages only: flagged, not excluded.
    assert notes["Infant School"] == "infant school: a primary base here serves ages 4-6 only"
    assert notes["Junior School"] == "junior school: a primary base here serves ages 7-10 only"
    assert notes["Full High"] == (
        "no spare space (9 spare places, needs 10: candidates.min_spare_places)"
    )
    assert notes["Crowded High"] == (
        "no spare space (4 pupils over capacity, needs 10: candidates.min_spare_places)"
    )
    assert notes["Tight High"] == ""  # 10 spare places: room for a base of 10
    assert notes["Unknown Roll High"] == "spare places unknown (no capacity or pupil numbers)"
    assert notes["Unknown Gender High"] == "gender not recorded (single-sex rule not checked)"
    assert notes["Busy SEND High"] == "already high-SEND (10.0% EHC plans, above 6%)"
    assert notes["Special School"] == "special school: never a host"
    assert notes["Nursery"] == "phase not planned for"
    assert notes["Through School"] == (  # its secondary ages are whole, its primary ones not
        "teaches primary ages 7-10 only: a primary base here serves ages 7-10 only"
    )
    assert eligible[eligible].index.tolist() == [
        "Open High", "Infant School", "Junior School", "Tight High", "Unknown Roll High",
        "Unknown Gender High", "Busy SEND High", "Through School",
    ]  # fmt: skip
    # Unknown is flagged, not excluded, and the rule is named in a warning with the schools.
    assert result.warnings == [
        "candidates.exclude_single_sex: 1 of 13 candidate school(s) have no gender (GIAS"
        " Gender) recorded, so the single-sex rule could not be checked for them (kept and"
        " flagged): Unknown Gender High (11)",
        "candidates.min_spare_places: 1 of 13 candidate school(s) have no capacity and pupil"
        " numbers (GIAS SchoolCapacity, NumberOfPupils) recorded, so the spare places rule could"
        " not be checked for them (kept and flagged): Unknown Roll High (10)",
    ]


def test_partial_ages_host_bases_for_their_ages_by_default(scenario_file):
    result = _assess(scenario_file)
    options = candidate_options(load_scenario(scenario_file()), result.schools)
    assert set(options.loc[options["urn"] == "15", "phase"]) == {"primary", "secondary"}
    assert set(options.loc[options["urn"].isin(["5", "6"]), "phase"]) == {"primary"}


def test_partial_ages_excluded_only_from_the_phase_not_taught_whole(scenario_file):
    extra = "[candidates]\nexclude_partial_ages = true\n"
    result = _assess(scenario_file, extra)
    notes = result.schools.set_index("name")["notes"]
    assert notes["Infant School"] == (
        "infant school: a primary base here serves ages 4-6 only (candidates.exclude_partial_ages)"
    )
    assert notes["Through School"] == (
        "teaches primary ages 7-10 only: a primary base here serves ages 7-10 only"
        " (candidates.exclude_partial_ages), so no base of that phase is offered"
    )
    options = candidate_options(load_scenario(scenario_file(extra)), result.schools)
    through = options[options["urn"] == "15"]
    assert set(through["phase"]) == {"secondary"}  # no primary base: it has no infant classes
    assert not options["urn"].isin(["5", "6"]).any()


def test_rules_switched_to_flags(scenario_file):
    extra = (
        "[candidates]\nexclude_single_sex = false\nexclude_selective = false\n"
        "exclude_partial_ages = false\nmin_spare_places = -10\nexclude_high_send = true\n"
    )
    result = _assess(scenario_file, extra)
    notes = result.schools.set_index("name")["notes"]
    eligible = result.schools.set_index("name")["eligible"]
    assert notes["Boys Grammar"] == "single-sex school (boys); selective admissions"
    assert notes["Junior School"] == "junior school: a primary base here serves ages 7-10 only"
    assert notes["Crowded High"] == "tight on space (-4 spare places)"
    assert not eligible["Busy SEND High"]
    assert eligible[["Boys Grammar", "Junior School", "Crowded High", "Infant School"]].all()
    options = candidate_options(load_scenario(scenario_file(extra)), result.schools)
    assert set(options.loc[options["urn"] == "15", "phase"]) == {"primary", "secondary"}


def test_spare_places_default_follows_the_base_size(scenario_file):
    result = _assess(scenario_file, "base_size = 8\n")
    eligible = result.schools.set_index("name")["eligible"]
    assert eligible["Full High"]  # 9 spare places >= 8
    result = _assess(scenario_file, "base_size = 8\n[candidates]\nmin_spare_places = 12\n")
    notes = result.schools.set_index("name")["notes"]
    assert notes["Tight High"] == (
        "no spare space (10 spare places, needs 12: candidates.min_spare_places)"
    )


def test_data_that_cannot_tell_is_one_warning_per_rule(scenario_file):
    blank = [
        _school(str(i), f"School {i}", gender="", admissions_policy="", ehcp_pupils=np.nan,
                capacity=np.nan, statutory_low_age=np.nan)
        for i in range(1, 4)
    ]  # fmt: skip
    result = _assess(scenario_file, schools=blank)
    assert result.schools["eligible"].all()
    assert (result.schools["notes"] == "").all()  # nothing to tell one school from another
    assert [w.split(":")[0] for w in result.warnings] == [
        "candidates.exclude_single_sex", "candidates.exclude_selective",
        "candidates.exclude_partial_ages", "candidates.min_spare_places",
        "candidates.high_send_share",
    ]  # fmt: skip
    assert result.warnings[-1] == (
        "candidates.high_send_share: no candidate school has its EHC-plan counts (GIAS SENStat)"
        " recorded, so the high-SEND (above 6% of pupils with an EHC plan) rule could not be"
        " checked"
    )


def test_a_required_school_overrides_a_rule_with_a_warning(scenario_file):
    extra = "[candidates]\nexclude_partial_ages = true\n[selection]\nrequired_urns = [2, 6]\n"
    result = _assess(scenario_file, extra)
    table = result.schools.set_index("name")
    assert table.loc["Girls High", "eligible"] and table.loc["Junior School", "eligible"]
    assert table.loc["Girls High", "notes"] == (
        "required by the scenario despite: single-sex school (girls): a base serves every child"
        " of its need group"
    )
    assert table.loc["Junior School", "host_phases"] == "primary"
    assert [w for w in result.warnings if w.startswith("selection")] == [
        "selection.required_urns: Girls High (2) is required, so it stays a candidate although"
        " it fails the rule(s): single-sex school (girls): a base serves every child of its"
        " need group",
        "selection.required_urns: Junior School (6) is required, so it stays a candidate"
        " although it fails the rule(s): junior school: a primary base here serves ages 7-10"
        " only (candidates.exclude_partial_ages)",
    ]


def test_a_required_school_that_cannot_host_is_an_error(scenario_file):
    with pytest.raises(ScenarioError) as caught:
        _assess(
            scenario_file,
            "[candidates]\nexclude_urns = [1]\n[selection]\nrequired_urns = [1, 13, 14, 99]\n",
        )
    assert caught.value.problems == [
        "selection.required_urns: Open High (1) is also in candidates.exclude_urns (remove it"
        " from one list)",
        "selection.required_urns: Nursery (14) teaches no phase being planned for (its phase is"
        " other; remove it, or add its phase to phases)",
        "selection.required_urns: Special School (13) is a special school, never a host of an"
        " inclusion base (remove it)",
        "selection.required_urns: 99 is not a URN in the schools file (check it)",
    ]


def test_min_spare_places_accepts_a_number_or_base_size(scenario_file, tmp_path):
    scenario = load_scenario(scenario_file("base_size = 12\n"))
    assert scenario.candidates.min_spare_places == "base_size"
    assert scenario.min_spare_places == 12
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario_file('[candidates]\nmin_spare_places = "lots"\n', name="b.toml"))
    assert any("candidates.min_spare_places" in p for p in caught.value.problems)
