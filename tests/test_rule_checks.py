"""Each suitability rule's check, as :func:`sitefinder.supply.assess` gives it per school: the
structured form of the notes (``sitefinder why`` shows it rule by rule)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_suitability import AGES, NO_BASES, SCHOOLS, _school

from sitefinder.config import load_scenario
from sitefinder.supply import RuleCheck, assess, taught_ages


def _checks(scenario_file, extra: str = "", schools=None) -> dict[str, list[RuleCheck]]:
    scenario = load_scenario(scenario_file(extra))
    table = taught_ages(pd.DataFrame(schools or SCHOOLS), ages=AGES)
    return assess(scenario, table, NO_BASES).checks


def _outcomes(checks: list[RuleCheck]) -> dict[str, str]:
    return {c.rule + (f"/{c.phase}" if c.phase else ""): c.outcome for c in checks}


def test_every_school_has_every_rule_once(scenario_file):
    checks = _checks(scenario_file)
    assert set(checks) == {str(s["urn"]) for s in SCHOOLS}
    assert _outcomes(checks["1"]) == {
        "establishment": "pass", "exclude_urns": "pass", "phase": "pass", "single_sex": "pass",
        "selective": "pass", "ages/secondary": "pass", "spare_places": "pass",
        "high_send": "pass", "existing_base": "pass",
    }  # fmt: skip
    assert [c.key for c in checks["1"]] == [
        "", "candidates.exclude_urns", "phases", "candidates.exclude_single_sex",
        "candidates.exclude_selective", "candidates.exclude_partial_ages",
        "candidates.min_spare_places", "candidates.high_send_share",
        "candidates.exclude_existing_hosts",
    ]  # fmt: skip
    assert _outcomes(checks["13"]) == {"establishment": "fail"}  # a special school


def test_the_checks_say_what_the_notes_say(scenario_file):
    # Infant and junior schools are flagged by default; excluded here to check the failures.
    scenario = load_scenario(scenario_file("[candidates]\nexclude_partial_ages = true\n"))
    table = taught_ages(pd.DataFrame(SCHOOLS), ages=AGES)
    assessment = assess(scenario, table, NO_BASES)
    notes = assessment.schools.set_index("urn")["notes"]
    for urn, checks in assessment.checks.items():
        excluded = [c.note for c in checks if c.excludes]
        flagged = [c.note for c in checks if c.note and not c.excludes]
        assert "; ".join(excluded + flagged) == notes[urn], urn
        assert all(c.outcome == "fail" for c in checks if c.excludes)
        assert all(c.note == "" for c in checks if c.outcome == "pass")
    outcomes = {urn: _outcomes(c) for urn, c in assessment.checks.items()}
    assert outcomes["3"]["single_sex"] == outcomes["3"]["selective"] == "fail"
    assert outcomes["7"]["spare_places"] == "fail"  # 9 spare places
    assert outcomes["9"]["spare_places"] == "pass"  # exactly 10
    assert outcomes["10"]["spare_places"] == "unknown"
    assert outcomes["11"]["single_sex"] == "unknown"
    assert outcomes["12"]["high_send"] == "flag"  # flagged, not excluded, by default
    assert outcomes["5"]["ages/primary"] == "fail"  # an infant school
    # An all-through school teaching junior and secondary ages: only its primary bases go.
    through = assessment.checks["15"]
    primary = next(c for c in through if c.rule == "ages" and c.phase == "primary")
    assert primary.outcome == "fail" and not primary.excludes
    assert outcomes["15"]["ages/secondary"] == "pass"


def test_partial_ages_are_flagged_by_default(scenario_file):
    outcomes = {u: _outcomes(c) for u, c in _checks(scenario_file).items()}
    assert outcomes["5"]["ages/primary"] == "flag"  # an infant school hosts ages 4-6


def test_rules_switched_to_flags_and_unknown_data(scenario_file):
    extra = "[candidates]\nexclude_single_sex = false\nexclude_partial_ages = false\n"
    outcomes = {u: _outcomes(c) for u, c in _checks(scenario_file, extra).items()}
    assert outcomes["2"]["single_sex"] == "flag"
    assert outcomes["6"]["ages/primary"] == "flag"
    blank = [_school("1", "One", statutory_low_age=np.nan), _school("2", "Two")]
    checks = _checks(scenario_file, schools=blank)
    ages = [c for c in checks["1"] if c.rule == "ages"]
    assert [(c.outcome, c.phase, c.note) for c in ages] == [
        ("unknown", "", "statutory ages not recorded (age rule not checked)")
    ]


def test_a_required_school_overrides_its_failed_rules(scenario_file):
    checks = _checks(scenario_file, "[selection]\nrequired_urns = [2]\n")["2"]
    assert checks[0] == RuleCheck(
        "required_urns",
        "selection.required_urns",
        "pass",
        "required by the scenario despite: single-sex school (girls): a base serves every child"
        " of its need group",
    )
    single_sex = next(c for c in checks if c.rule == "single_sex")
    assert single_sex.outcome == "overridden" and not single_sex.excludes


def test_an_excluded_urn(scenario_file):
    checks = _checks(scenario_file, "[candidates]\nexclude_urns = [1]\n")["1"]
    listed = next(c for c in checks if c.rule == "exclude_urns")
    assert (listed.outcome, listed.note, listed.excludes) == (
        "fail",
        "excluded by the scenario",
        True,
    )
