from pathlib import Path

import pytest

from sitefinder.config import load_scenario, with_overrides
from sitefinder.errors import ScenarioError


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.problems


def test_demo_scenario_loads_with_documented_values(demo_config):
    scenario = load_scenario(demo_config)
    assert scenario.bases == 3
    assert scenario.base_size == 10
    assert scenario.harm.limit_minutes == {"primary": 45.0, "secondary": 75.0}
    assert scenario.group_of_code()["ASD"] == "communication_interaction"
    assert scenario.inputs.schools.path.is_absolute()
    assert len(scenario.source_sha256 or "") == 64


def test_defaults_fill_everything_but_inputs(scenario_file):
    scenario = load_scenario(scenario_file())
    assert scenario.harm.exponent == 1.5
    assert sorted(scenario.need_groups) == [
        "cognition_learning", "communication_interaction", "semh", "sensory_physical",
    ]  # fmt: skip
    assert len(scenario.group_of_code()) == 12


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    assert problems(path) == [f"{path}: scenario file not found (check the path given to --config)"]


def test_unreadable_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("bases = = 3\n")
    [message] = problems(path)
    assert message.startswith(f"{path}: not valid TOML (")
    assert message.endswith("); fix the syntax")


def test_unknown_key_named_with_its_path(scenario_file):
    path = scenario_file("[harm]\nexponnent = 2\n")
    assert problems(path) == [
        f"{path}: harm.exponnent: unknown key (check the spelling against the scenario reference)"
    ]


def test_every_bad_value_reported_at_once(scenario_file):
    path = scenario_file("bases = -1\n[harm]\nexponent = 0\n[journey]\nmethod = 'teleport'\n")
    assert problems(path) == [
        f"{path}: bases: must be from 0 to 200 (got -1)",
        f"{path}: journey.method: must be one of 'network', 'crowfly' or 'matrix'",
        f"{path}: harm.exponent: must be above 0 and at most 10 (got 0)",
    ]


def test_unmet_harm_must_exceed_longest_journey(scenario_file):
    path = scenario_file("[harm]\nunmet = 5\n")
    assert problems(path) == [
        f"{path}: harm.unmet: must be > 15.05, the harm of the longest allowed primary journey"
        " (120 minutes), so that a child is never better off without a place"
    ]


def test_need_codes_checked(scenario_file):
    path = scenario_file('[need_groups.all]\nlabel = "All"\ncodes = ["ASD", "XYZ"]\n')
    found = problems(path)
    assert found[0] == (
        f"{path}: need_groups.all.codes: unknown need code 'XYZ' (use one of ASD, SLCN, SEMH,"
        " MLD, SLD, PMLD, SpLD, HI, VI, MSI, PD, OTH)"
    )
    assert found[1].startswith(f"{path}: need_groups: need codes SLCN, SEMH")


def test_environment_variables_expand_in_paths(scenario_file, monkeypatch, tmp_path):
    monkeypatch.setenv("SF_TEST_DIR", str(tmp_path))
    path = scenario_file(inputs={"schools": "${SF_TEST_DIR}/schools.csv"})
    assert load_scenario(path).inputs.schools.path == tmp_path / "schools.csv"


def test_unset_environment_variable_is_an_error(scenario_file, monkeypatch):
    monkeypatch.delenv("SF_UNSET_DIR", raising=False)
    path = scenario_file(inputs={"schools": "${SF_UNSET_DIR}/schools.csv"})
    assert problems(path) == [
        f"{path}: inputs.schools: environment variable SF_UNSET_DIR is not set"
        " (set it, or write the path out in full)"
    ]


def test_overrides_take_precedence_and_are_validated(scenario_file):
    scenario = load_scenario(scenario_file("bases = 2\n"))
    assert with_overrides(scenario, bases=5, top=None).bases == 5
    assert with_overrides(scenario, bases=None).bases == 2
    with pytest.raises(ScenarioError) as caught:
        with_overrides(scenario, bases=-2)
    assert caught.value.problems == ["command line: bases: must be from 0 to 200 (got -2)"]
