"""Journey methods in a scenario, and the ``sitefinder travel`` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_DIR
from typer.testing import CliRunner

from sitefinder.cli import app
from sitefinder.config import load_scenario
from sitefinder.pipeline import rank
from sitefinder.travel import crowfly_drive_minutes

runner = CliRunner()
NETWORK = DEMO_DIR / "roads.osm.pbf"


def _points(tmp_path, name, table, id_column):
    path = tmp_path / name
    table.rename(columns={id_column: "id", "easting": "x", "northing": "y"})[
        ["id", "x", "y"]
    ].to_csv(path, index=False)
    return path


@pytest.fixture
def demo_points(tmp_path):
    areas = pd.read_csv(DEMO_DIR / "areas.csv", dtype={"area_code": str})
    schools = pd.read_csv(DEMO_DIR / "schools.csv", dtype={"urn": str})
    return (
        _points(tmp_path, "from.csv", areas.head(12), "area_code"),
        _points(tmp_path, "to.csv", schools.head(5), "urn"),
    )


def test_travel_writes_the_matrix_and_uses_the_cache(tmp_path, demo_points):
    origins, destinations = demo_points
    out = tmp_path / "m.csv"
    args = ["travel", "--network", str(NETWORK), "--from", str(origins), "--to",
            str(destinations), "-o", str(out), "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "road network parsed" in first.stderr and "drive times routed" in first.stderr
    assert first.stdout.splitlines()[0] == (
        f"Wrote {out}: 12 origins x 5 destinations, 0 unreachable pair(s) left empty."
    )
    table = pd.read_csv(out, dtype=str)
    assert list(table.columns) == ["origin_id", "destination_id", "drive_minutes"]
    assert len(table) == 60
    minutes = table["drive_minutes"].astype(float)
    assert (minutes > 0).all() and (minutes < 60).all()
    again = runner.invoke(app, [*args, "--overwrite"])
    assert again.exit_code == 0, again.output
    assert "road network from the cache" in again.stderr
    assert "drive times from the cache" in again.stderr
    assert pd.read_csv(out, dtype=str).equals(table)  # identical output from the cache


def test_travel_cutoff_leaves_pairs_empty_and_config_adds_journeys(
    tmp_path, demo_points, demo_config
):
    origins, destinations = demo_points
    out = tmp_path / "m.csv"
    result = runner.invoke(
        app,
        ["travel", "--network", str(NETWORK), "--from", str(origins), "--to",
         str(destinations), "-o", str(out), "--cutoff", "8", "-c", str(demo_config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    empty = int(table["drive_minutes"].isna().sum())
    assert empty > 0
    assert f"{empty} unreachable pair(s) left empty." in result.stdout
    reached = table.dropna()
    assert (reached["drive_minutes"] <= 8).all()
    # journey = drive x 1.3 + 5 (configs/demo.toml)
    assert np.allclose(reached["journey_minutes"], reached["drive_minutes"] * 1.3 + 5, atol=0.02)
    assert "Origins within reach of any destination (journey minutes): 15 min" in result.stdout


def test_travel_bad_points_and_existing_output(tmp_path, demo_points):
    origins, destinations = demo_points
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lon,lat\nA,-1.2,52.7\nB,-1.3,95\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["travel", "--network", str(tmp_path / "none.osm.pbf"), "--from", str(bad), "--to",
         str(destinations), "-o", str(tmp_path / "m.csv")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {bad}: needs columns id,lon,lat (WGS84 degrees) or id,x,y (EPSG:27700"
        " metres); the file has: name, lon, lat",
        f"error: {tmp_path / 'none.osm.pbf'}: road network file not found (check --network)",
    ]
    existing = tmp_path / "exists.csv"
    existing.write_text("keep me")
    result = runner.invoke(
        app,
        ["travel", "--network", str(NETWORK), "--from", str(origins), "--to",
         str(destinations), "-o", str(existing)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == f"error: {existing}: already exists (pass --overwrite to replace it)\n"
    assert existing.read_text() == "keep me"


def test_matrix_method_reproduces_the_crowfly_ranking(tmp_path, scenario_file):
    crowfly = load_scenario(scenario_file("bases = 2\ntop = 4\n"))
    areas = pd.read_csv(DEMO_DIR / "areas.csv", dtype={"area_code": str})
    schools = pd.read_csv(DEMO_DIR / "schools.csv", dtype={"urn": str})
    drive = crowfly_drive_minutes(
        areas[["easting", "northing"]].to_numpy(float),
        schools[["easting", "northing"]].to_numpy(float),
        journey=crowfly.journey,
    )
    matrix = tmp_path / "drive.csv"
    pd.DataFrame(
        {
            "origin_id": np.repeat(areas["area_code"], len(schools)),
            "destination_id": np.tile(schools["urn"], len(areas)),
            "minutes": drive.ravel(),
        }
    ).to_csv(matrix, index=False, float_format="%.12g")
    imported = load_scenario(
        scenario_file(
            f'bases = 2\ntop = 4\n[journey]\nmethod = "matrix"\nmatrix = "{matrix}"\n',
            name="m.toml",
        )
    )
    a, b = rank(crowfly), rank(imported)
    assert a.ranking[["urn", "phase", "need_group"]].equals(
        b.ranking[["urn", "phase", "need_group"]]
    )
    assert a.after.total_harm == pytest.approx(b.after.total_harm, rel=1e-9)


def test_network_method_differs_from_crowfly_across_the_river(demo_config, scenario_file):
    routed = rank(load_scenario(demo_config))
    assert routed.travel.method == "network"
    crowfly = rank(load_scenario(scenario_file("")))
    assert crowfly.travel.method == "crowfly"
    assert routed.before.mean_minutes != pytest.approx(crowfly.before.mean_minutes, abs=0.5)


def test_scenario_errors_for_methods_without_their_file(scenario_file):
    from sitefinder.errors import ScenarioError

    path = scenario_file('[journey]\nmethod = "network"\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == [
        f"{path}: journey.network: required for method 'network' (an .osm.pbf file)"
    ]


def test_travel_calibrate_reports_both_errors(tmp_path, demo_points):
    origins, destinations = demo_points
    result = runner.invoke(
        app,
        ["travel", "--network", str(NETWORK), "--from", str(origins), "--to",
         str(destinations), "-o", str(tmp_path / "m.csv"), "--calibrate"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stderr.splitlines() if "crow-fly check" in x)
    assert line.startswith(
        "note: crow-fly check: the plain estimate (circuity 1.35 at 40 km/h) is off by"
    )
    assert "(60 routed pairs) has a cross-validated error of" in line
