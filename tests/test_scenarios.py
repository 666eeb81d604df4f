import contextlib
import hashlib
import math
import socket
from pathlib import Path

import pandas as pd
import pytest

from sitefinder import scenarios
from sitefinder.config import load_scenario
from sitefinder.errors import ScenarioError
from sitefinder.pipeline import rank
from sitefinder.scenarios import HEADLINE_COLUMNS, Cluster, compare, parse_value, sweep


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.problems


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- inheritance -------------------------------------------------------------------------


def test_child_overrides_scalars_and_keeps_the_rest(scenario_file, tmp_path):
    scenario_file('name = "Parent"\nbases = 2\ntop = 7\n', name="parent.toml")
    child = write(tmp_path / "child.toml", 'extends = "parent.toml"\nbases = 4\n')
    scenario = load_scenario(child)
    assert (scenario.name, scenario.bases, scenario.top) == ("Parent", 4, 7)
    assert scenario.source == child.resolve()


def test_tables_merge_key_by_key_and_lists_are_replaced(scenario_file, tmp_path):
    scenario_file(
        'phases = ["primary", "secondary"]\n'
        "[harm]\nexponent = 2.0\nfree_minutes = 10.0\n"
        "limit_minutes = { primary = 50.0, secondary = 80.0 }\n"
        "[candidates]\nexclude_urns = [1, 2, 3]\nmin_spare_places = 4\n",
        name="parent.toml",
    )
    child = write(
        tmp_path / "child.toml",
        'extends = "parent.toml"\nphases = ["secondary"]\n'
        "[harm]\nexponent = 3.0\nlimit_minutes = { primary = 40.0 }\n"
        "[candidates]\nexclude_urns = [9]\n",
    )
    scenario = load_scenario(child)
    assert scenario.harm.exponent == 3.0
    assert scenario.harm.free_minutes == 10.0
    assert scenario.harm.limit_minutes == {"primary": 40.0, "secondary": 80.0}
    assert scenario.phases == ["secondary"]
    assert scenario.candidates.exclude_urns == [9]
    assert scenario.candidates.min_spare_places == 4


def test_paths_resolve_against_the_file_that_names_them(tmp_path):
    write(
        tmp_path / "shared" / "parent.toml",
        '[inputs]\nschools = "schools.csv"\nbases = "bases.csv"\nareas = "areas.csv"\n'
        'demand = "demand.csv"\n[journey]\nmethod = "matrix"\nmatrix = "minutes.csv"\n',
    )
    child = write(
        tmp_path / "mine" / "child.toml",
        'extends = "../shared/parent.toml"\n'
        '[inputs]\ndemand = "my_demand.csv"\n[inputs.schools]\ndefault_base_capacity = 12\n',
    )
    scenario = load_scenario(child)
    shared, mine = (tmp_path / "shared").resolve(), (tmp_path / "mine").resolve()
    assert scenario.inputs.schools.path == shared / "schools.csv"
    assert scenario.inputs.schools.default_base_capacity == 12  # table merged into a bare path
    assert scenario.inputs.bases is not None
    assert scenario.inputs.bases.path == shared / "bases.csv"
    assert scenario.inputs.demand.path == mine / "my_demand.csv"
    assert scenario.journey.matrix == shared / "minutes.csv"


def test_extends_expands_variables_and_chains(scenario_file, tmp_path, monkeypatch):
    monkeypatch.setenv("SF_TEST_PARENTS", str(tmp_path))
    scenario_file('name = "Root"\nbases = 1\ntop = 5\n', name="root.toml")
    write(tmp_path / "middle.toml", 'extends = "${SF_TEST_PARENTS}/root.toml"\nbases = 2\n')
    leaf = write(tmp_path / "sub" / "leaf.toml", 'extends = "../middle.toml"\ntop = 6\n')
    scenario = load_scenario(leaf)
    assert (scenario.name, scenario.bases, scenario.top) == ("Root", 2, 6)


def test_cycle_is_an_error(tmp_path):
    a = write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    assert problems(a) == [f"{a}: extends: cycle a.toml -> b.toml -> a.toml"]
    itself = write(tmp_path / "self.toml", 'extends = "./self.toml"\n')
    assert problems(itself) == [f"{itself}: extends: cycle self.toml -> self.toml"]


def test_missing_parent_is_an_error(tmp_path):
    a = write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    missing = (tmp_path / "b.toml").resolve()
    assert problems(a) == [f"{a}: extends: parent file not found: {missing} (check the path)"]
    bad = write(tmp_path / "bad.toml", "extends = 3\n")
    assert problems(bad) == [f"{bad}: extends: must be the path of another scenario file (text)"]


def test_errors_in_a_parent_name_the_parent(tmp_path):
    parent = write(tmp_path / "parent.toml", "bases = = 1\n")
    child = write(tmp_path / "child.toml", 'extends = "parent.toml"\n')
    [message] = problems(child)
    assert message.startswith(f"{parent.resolve()}: not valid TOML (")


def test_hash_covers_the_whole_chain(scenario_file, tmp_path):
    parent = scenario_file("bases = 2\n", name="parent.toml")
    child = write(tmp_path / "child.toml", 'extends = "parent.toml"\ntop = 4\n')
    first = load_scenario(child).source_sha256
    assert first == hashlib.sha256(child.read_bytes() + parent.read_bytes()).hexdigest()
    parent.write_text(parent.read_text(encoding="utf-8").replace("bases = 2", "bases = 3"))
    second = load_scenario(child)
    assert second.bases == 3
    assert second.source_sha256 != first


def test_a_file_without_extends_hashes_as_before(scenario_file):
    path = scenario_file("bases = 2\n")
    assert load_scenario(path).source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# --- compare -----------------------------------------------------------------------------


def test_compare_lines_up_headlines_and_site_changes(scenario_file, tmp_path):
    first = scenario_file('name = "One base"\nbases = 1\n', name="one.toml")
    second = write(
        tmp_path / "two.toml",
        'extends = "one.toml"\nname = "Two bases, not 990036"\nbases = 2\n'
        "suppression_threshold = 1000\n[candidates]\nexclude_urns = [990036]\n",
    )
    done: list[tuple[int, int]] = []
    result = compare([first, second], progress=lambda d, n: done.append((d, n)))
    table = result.table
    assert done == [(1, 2), (2, 2)]
    assert list(table.columns) == ["file", *HEADLINE_COLUMNS, "sites_added", "sites_removed"]
    assert table["scenario"].tolist() == ["One base", "Two bases, not 990036"]
    assert table["file"].tolist() == [str(first), str(second)]
    one, two = table.to_dict("records")
    assert one["sites"] == "990036 primary/communication_interaction"
    assert two["sites"].count(";") == 1 and "990036" not in two["sites"]
    assert result.added[0] == () and result.removed[0] == ()
    assert result.removed[1] == ("990036",)
    assert len(result.added[1]) == 2
    assert two["sites_added"] == "; ".join(result.added[1])
    assert two["sites_removed"] == "990036"
    assert one["harm_after"] < one["harm_before"]
    # Harm under 1000 children's unmet harm could give back a withheld count: "c".
    assert two["harm_before"] == two["harm_after"] == "c"
    assert one["harm_before"] == pytest.approx(rank(load_scenario(second)).before.total_harm)
    assert isinstance(one["within_limit_after"], float)
    assert one["within_limit_after"] + one["unmet_after"] <= 104
    # Counts of children under the threshold never appear as numbers.
    assert two["within_limit_after"] == "<1000" and two["unmet_after"] == "<1000"
    assert one["selection_method"] == "optimal" and one["gap"] == 0.0
    assert one["p95_minutes_after"] >= one["mean_minutes_after"] > 0
    csv = result.to_csv().splitlines()
    assert csv[0] == ",".join(table.columns)
    assert len(csv) == 3 and "<1000" in csv[2]


def test_compare_reports_every_bad_file_before_running(tmp_path, monkeypatch):
    monkeypatch.setattr(scenarios, "rank", pytest.fail)
    bad = write(tmp_path / "bad.toml", "bases = = 1\n")
    missing = tmp_path / "missing.toml"
    with pytest.raises(ScenarioError) as caught:
        compare([bad, missing])
    assert len(caught.value.problems) == 2
    assert caught.value.problems[1].startswith(f"{missing}: scenario file not found")


# --- sweep -------------------------------------------------------------------------------


def test_parse_value_reads_toml_or_text():
    assert parse_value("2") == 2 and isinstance(parse_value("2"), int)
    assert parse_value("1.5") == 1.5
    assert parse_value("true") is True
    assert parse_value("abc") == "abc"
    assert parse_value('"abc"') == "abc"
    assert parse_value('["primary"]') == ["primary"]


def test_sweep_serial_and_dask_are_identical(scenario_file):
    base = scenario_file('name = "Sweep"\n')
    settings = {"bases": ["1", "2"], "harm.exponent": ["1.5"]}
    serial_done: list[tuple[int, int]] = []
    serial = sweep(base, settings, cluster=None, progress=lambda d, n: serial_done.append((d, n)))
    dask_done: list[tuple[int, int]] = []
    with socket.socket() as blocker:  # dask's default HTTP port taken: no warning, no failure
        with contextlib.suppress(OSError):
            blocker.bind(("127.0.0.1", 8787))
            blocker.listen()
        parallel = sweep(
            base,
            settings,
            cluster=Cluster(workers=2),
            progress=lambda d, n: dask_done.append((d, n)),
        )
    assert serial_done == dask_done == [(1, 2), (2, 2)]
    assert list(serial.columns) == ["bases", "harm.exponent", *HEADLINE_COLUMNS]
    assert serial["bases"].tolist() == [1, 2]
    assert serial["harm.exponent"].tolist() == [1.5, 1.5]
    assert serial["sites"].str.count(";").tolist() == [0, 1]
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)
    assert serial.loc[1, "harm_after"] < serial.loc[0, "harm_after"]
    assert not math.isnan(serial.loc[0, "gap"])


def test_sweep_grid_order_is_deterministic(scenario_file, monkeypatch):
    seen: list[tuple[int, float]] = []

    def fake_run(scenario):
        seen.append((scenario.bases, scenario.harm.exponent))
        return dict.fromkeys(HEADLINE_COLUMNS, 0.0)

    monkeypatch.setattr(scenarios, "_run", fake_run)
    table = sweep(
        scenario_file(), {"bases": ["1", "2"], "harm.exponent": ["1", "1.25"]}, cluster=None
    )
    assert seen == [(1, 1.0), (1, 1.25), (2, 1.0), (2, 1.25)]
    assert table[["bases", "harm.exponent"]].to_numpy().tolist() == [
        [1, 1], [1, 1.25], [2, 1], [2, 1.25],
    ]  # fmt: skip


def test_sweep_lists_every_bad_setting_before_running(scenario_file, monkeypatch):
    monkeypatch.setattr(scenarios, "rank", pytest.fail)
    base = scenario_file()
    with pytest.raises(ScenarioError) as caught:
        sweep(
            base,
            {
                "harm.exponent": ["0", "2"],
                "harm.exponnent": ["1"],
                "bases": ["abc", "2"],
                "inputs.areas.x": ["1"],
                "source": ["x"],
            },
            cluster=None,
        )
    found = caught.value.problems
    assert found[:2] == [
        "command line: harm.exponent: must be above 0 and at most 10 (got 0)"
        " (--set harm.exponent=0)",
        "command line: harm.exponnent: unknown key (check the spelling against the scenario"
        " reference) (--set harm.exponnent=1)",
    ]
    assert found[2].startswith("command line: bases: input should be a valid integer")
    assert found[2].endswith("(--set bases=abc)")
    assert found[3:] == [
        "command line: inputs.areas.x: inputs.areas is not a table, so it has no key 'x'"
        " (--set inputs.areas.x=1)",
        "command line: source: cannot be changed after loading (sitefinder sets it, or it only"
        " means something in a file) (--set source=x)",
    ]


def test_sweep_checks_each_combination(scenario_file, monkeypatch):
    monkeypatch.setattr(scenarios, "rank", pytest.fail)
    with pytest.raises(ScenarioError) as caught:
        sweep(
            scenario_file(),
            {"phases": ['["secondary"]', '["primary"]'], "selection.counts.primary.semh": ["1"]},
            cluster=None,
        )
    assert caught.value.problems == [
        "command line: selection.counts.primary: primary is not a planned phase"
        ' (--set phases=["secondary"] --set selection.counts.primary.semh=1)'
    ]


def test_sweep_needs_values(scenario_file):
    with pytest.raises(ScenarioError) as caught:
        sweep(scenario_file(), {"bases": []}, cluster=None)
    assert caught.value.problems == ["--set bases: give one or more values (e.g. bases=1,2,3)"]


def test_sweep_on_an_existing_scheduler_matches_serial(scenario_file):
    from distributed import LocalCluster

    base = scenario_file('name = "Remote"\n')
    settings = {"bases": ["1"]}
    serial = sweep(base, settings, cluster=None)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    ) as cluster:  # fmt: skip
        remote = sweep(base, settings, cluster=Cluster(scheduler=cluster.scheduler_address))
    pd.testing.assert_frame_equal(serial, remote, check_exact=True)


def test_a_local_cluster_s_workers_do_not_profile_themselves():
    # No dashboard shows it: the sampling thread would only take the GIL from the tasks.
    import dask

    from sitefinder.scenarios import dask_client

    with dask_client(workers=1, scheduler=None) as client:
        seen = client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    assert list(seen.values()) == [False]
    assert dask.config.get("distributed.worker.profile.enabled") is True  # here, as before
