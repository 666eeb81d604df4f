from pathlib import Path

import pytest

from sitefinder.config import load_scenario, with_settings
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


def test_a_flat_unmet_harm_must_exceed_longest_journey(scenario_file):
    # 120 minutes primary: (105/30)^1.5 = 6.548 + step 1 + 0.1 x 75 + travel 0.01 x 120 = 16.25
    path = scenario_file("[harm]\nunmet = 5\n[fallback]\nmethod = 'flat'\n")
    assert problems(path) == [
        f"{path}: harm.unmet: must be > 16.25, the harm of the longest allowed primary journey"
        " (120 minutes), so that a child is never better off without a place"
    ]


def test_with_a_fallback_journey_staying_unplaced_may_beat_a_long_ride(scenario_file):
    # The flat check does not apply: the fallback is scored by its own journey.
    scenario = load_scenario(scenario_file("[harm]\nunmet = 5\n"))
    assert scenario.fallback.method == "special_school"
    assert scenario.fallback.mismatch == 1.0
    assert scenario.fallback.out_of_authority_minutes == 60.0


def test_fallback_keys_checked(scenario_file):
    path = scenario_file(
        "[fallback]\nmethod = 'nearest'\nmismatch = -1\nout_of_authority_minutes = 0\n"
    )
    assert problems(path) == [
        f"{path}: fallback.method: must be one of 'special_school', 'out_of_authority' or 'flat'",
        f"{path}: fallback.mismatch: must be from 0 to 1,000,000 harm points (got -1)",
        f"{path}: fallback.out_of_authority_minutes: must be above 0 and at most 600 minutes"
        " (got 0)",
    ]


def test_robustness_ranges_match_the_fallback_method(scenario_file):
    path = scenario_file("[robustness]\nunmet = [20.0, 30.0]\n")
    assert problems(path) == [
        f"{path}: robustness.unmet: varies harm.unmet, which only fallback.method = 'flat'"
        " uses (vary fallback.mismatch with robustness.mismatch instead)"
    ]
    path = scenario_file("[fallback]\nmethod = 'flat'\n[robustness]\nmismatch = [0.5, 2.0]\n")
    assert problems(path) == [
        f"{path}: robustness.mismatch: fallback.method 'flat' has no mismatch penalty"
        " (vary harm.unmet with robustness.unmet instead)"
    ]
    path = scenario_file("[robustness]\nmismatch = [2.0, 0.5]\n")
    assert problems(path) == [f"{path}: robustness.mismatch: must be [low, high] with low <= high"]


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


def test_a_relative_path_in_a_variable_is_relative_to_the_working_directory(
    scenario_file, monkeypatch, tmp_path
):
    # SITEFINDER_REAL_DATA=../shared/data, as the README's worked examples set it: relative to
    # where the command runs, not to the scenario's folder; later in a path a variable is text.
    (tmp_path / "scenarios" / "trafford").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("SF_TEST_DIR", "../shared/data")
    monkeypatch.setenv("SF_TEST_NAME", "schools")
    path = scenario_file(
        inputs={
            "schools": "${SF_TEST_DIR}/schools.csv",
            "bases": "$SF_TEST_DIR/bases.csv",
            "areas": "data/${SF_TEST_NAME}.csv",
        },
        name="scenarios/trafford/s.toml",
    )
    inputs = load_scenario(path).inputs
    assert inputs.schools.path == tmp_path / "shared/data/schools.csv"
    assert inputs.bases is not None and inputs.bases.path == tmp_path / "shared/data/bases.csv"
    assert inputs.areas == tmp_path / "scenarios/trafford/data/schools.csv"


def test_unset_environment_variable_is_an_error(scenario_file, monkeypatch):
    monkeypatch.delenv("SF_UNSET_DIR", raising=False)
    path = scenario_file(inputs={"schools": "${SF_UNSET_DIR}/schools.csv"})
    assert problems(path) == [
        f"{path}: inputs.schools: environment variable SF_UNSET_DIR is not set"
        " (set it, or write the path out in full)"
    ]


def test_overrides_take_precedence_and_are_validated(scenario_file):
    scenario = load_scenario(scenario_file("bases = 2\n"))
    assert with_settings(scenario, {"bases": 5, "top": None}).bases == 5
    assert with_settings(scenario, {"bases": None}).bases == 2
    with pytest.raises(ScenarioError) as caught:
        with_settings(scenario, {"bases": -2, "harm.exponent": 0})
    assert caught.value.problems == [
        "command line: bases: must be from 0 to 200 (got -2)",
        "command line: harm.exponent: must be above 0 and at most 10 (got 0)",
    ]


def test_settings_record_where_each_value_came_from(scenario_file):
    path = scenario_file("bases = 2\n[harm]\nlimit_minutes = { primary = 50, secondary = 80 }\n")
    scenario = load_scenario(path)
    written = str(path.resolve())
    assert scenario.origin_of("bases") == written
    assert scenario.origin_of("harm.limit_minutes.primary") == written
    assert scenario.origin_of("harm.exponent") == "default"
    assert scenario.origin_of("inputs.schools.path") == written  # schools = "..." shorthand
    assert scenario.origin_of("inputs.schools.format") == "default"
    changed = with_settings(scenario, {"harm": {"exponent": 2.0}, "top": 4}, origin="sweep --set")
    assert changed.harm.exponent == 2.0 and changed.harm.limit_minutes["primary"] == 50
    assert changed.origin_of("harm.exponent") == "sweep --set"
    assert changed.origin_of("harm.limit_minutes.primary") == written  # untouched
    assert changed.origin_of("top") == "sweep --set"
    assert scenario.origin_of("top") == "default"  # the original is unchanged
