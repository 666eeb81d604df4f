"""Boundaries that only the outputs draw are read when an output draws them.

With the areas in their own table, the polygons are drawn only by the GeoPackage, the map and the
report: ``rank`` to stdout leaves the file unread, while ``validate``, ``rank`` with an output that
draws them, ``map`` and ``report`` check it with every other file, before anything is written.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sitefinder.cli import app
from sitefinder.config import load_scenario
from sitefinder.errors import DataError
from sitefinder.export import read_run
from sitefinder.load import load_inputs
from sitefinder.resources import bundled_root

DEMO_BOUNDARIES = bundled_root() / "data" / "demo" / "boundaries.geojson"
runner = CliRunner()


def _broken(tmp_path: Path) -> Path:
    path = tmp_path / "lsoa.geojson"
    path.write_text("this is not GeoJSON", encoding="utf-8")
    return path


def _unreadable(path: Path) -> str:
    return f"{path}: cannot read as a vector file"


def test_load_leaves_them_unread_until_asked_for(tmp_path, scenario_file):
    broken = _broken(tmp_path)
    scenario = load_scenario(scenario_file(inputs={"boundaries": str(broken)}))
    data = load_inputs(scenario)  # no error: not read
    with pytest.raises(DataError) as caught:
        data.boundaries  # noqa: B018 - reading them is the point
    assert [p.startswith(_unreadable(broken)) for p in caught.value.problems] == [True]
    with pytest.raises(DataError) as now:
        load_inputs(scenario, defer_boundaries=False)
    assert now.value.problems == caught.value.problems


def test_rank_to_stdout_does_not_read_them(tmp_path, scenario_file):
    config = scenario_file(inputs={"boundaries": str(_broken(tmp_path))})
    result = runner.invoke(app, ["rank", "--config", str(config), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("rank,urn,name,")


def test_an_output_that_draws_them_checks_them_before_writing_anything(tmp_path, scenario_file):
    broken = _broken(tmp_path)
    config = scenario_file(inputs={"boundaries": str(broken)})
    target = tmp_path / "run.gpkg"
    args = ["rank", "--config", str(config), "--format", "csv", "--output", str(target)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stdout == "" and not target.exists()
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and _unreadable(broken) in errors[0]


@pytest.mark.parametrize(
    "command",
    [["validate"], ["rank", "--output", "run.gpkg"], ["rank", "--map", "map.png"], ["report"]],
    ids=["validate", "rank-output", "rank-map", "report"],
)
def test_commands_that_draw_them_list_them_with_every_other_problem(
    tmp_path, scenario_file, command
):
    broken = _broken(tmp_path)
    missing = tmp_path / "no_demand.csv"
    config = scenario_file(inputs={"boundaries": str(broken), "demand": str(missing)})
    args = [command[0], "--config", str(config)]
    args += [str(tmp_path / a) if a.endswith((".gpkg", ".png")) else a for a in command[1:]]
    if command == ["report"]:
        args += ["--output", str(tmp_path / "report.html")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert not list(tmp_path.glob("*.gpkg")) and not list(tmp_path.glob("*.png"))
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert any(_unreadable(broken) in line for line in errors)
    assert any(f"{missing}: file not found" in line for line in errors)


def test_their_warnings_reach_the_outputs_that_draw_them(tmp_path, scenario_file):
    # Drop one area's polygon: the GeoPackage draws it as a point and says so.
    collection = json.loads(DEMO_BOUNDARIES.read_text(encoding="utf-8"))
    dropped = collection["features"].pop(0)["properties"]["area_code"]
    path = tmp_path / "lsoa.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    warning = (
        f"{path}: no polygon for 1 area(s), e.g. {dropped}; those areas are exported as points"
    )
    config = scenario_file(inputs={"boundaries": str(path)})
    target = tmp_path / "run.gpkg"
    args = ["rank", "--config", str(config), "--format", "csv", "--output", str(target)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"warning: {warning}" in result.stderr.splitlines()
    assert warning in read_run(target).warnings
    run = read_run(target)
    shapes = dict(zip(run["demand"]["area_code"], run.area_shapes, strict=True))
    assert shapes[dropped] is None and sum(s is not None for s in shapes.values()) == 149
