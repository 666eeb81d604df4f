import hashlib

import geopandas as gpd
import pyogrio
import pytest
from typer.testing import CliRunner

from sitefinder import load_scenario, rank, write_geopackage
from sitefinder.cli import app
from sitefinder.errors import OutputError
from sitefinder.resources import bundled_root

DEMO_BASES = bundled_root() / "data" / "demo" / "bases.csv"

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_result():
    from sitefinder.resources import default_scenario_path

    return rank(load_scenario(default_scenario_path()))


def test_geopackage_round_trip(tmp_path, demo_result):
    path = write_geopackage(demo_result, tmp_path / "plan.gpkg")
    names = [name for name, _ in pyogrio.list_layers(path)]
    assert names == [
        "candidates", "existing_bases", "planned_bases", "programme_bases", "demand",
        "assignments", "run_info",
        "ranking", "plan_chosen", "plan_left_out", "plan_alternatives", "plan_stopped",
        "network", "fallback", "fallback_totals", "demand_by_phase", "special_schools",
        "sufficiency",
        "programme", "programme_years", "pathway", "costs", "robustness", "stability",
        "sensitivity", "assumptions", "input_files", "run_facts",
        "layer_styles",
    ]  # fmt: skip
    # where the unplaced go: the fallback table adds up to each area's children without a place
    fallback = gpd.read_file(path, layer="fallback")
    areas = demo_result.areas.set_index("area_code")
    plan = fallback[fallback["network"] == "plan"]
    assert set(plan["kind"]) <= {"special", "independent", "non_maintained", "out_of_authority"}
    counted = demo_result.unplaced[demo_result.unplaced["network"] == "plan"]
    assert counted.groupby("area_code")["children"].sum().to_dict() == pytest.approx(
        areas.loc[areas["unmet_after"] > 1e-9, "unmet_after"].to_dict()
    )
    candidates = gpd.read_file(path, layer="candidates")
    assert candidates.crs.to_epsg() == 27700
    assert len(candidates) == len(demo_result.data.schools)
    ranked = candidates.dropna(subset=["rank"]).sort_values("rank")
    assert ranked["urn"].tolist()[:3] == demo_result.ranking["urn"].tolist()[:3]
    assert not candidates.loc[candidates["establishment_group"] != "mainstream", "eligible"].any()
    assert len(gpd.read_file(path, layer="existing_bases")) == len(demo_result.data.bases)
    assert len(gpd.read_file(path, layer="planned_bases")) == demo_result.scenario.bases
    demand = gpd.read_file(path, layer="demand")
    assert set(demand.geom_type) == {"MultiPolygon"}  # boundaries are read as MultiPolygons
    assert demand.crs.to_epsg() == 27700
    lines = gpd.read_file(path, layer="assignments")
    assert set(lines.geom_type) == {"LineString"}
    info = dict(pyogrio.read_dataframe(path, layer="run_info")[["key", "value"]].values)
    assert info["scenario_sha256"] == demo_result.scenario.source_sha256
    assert (
        info["input_sha256_schools"]
        == hashlib.sha256(demo_result.scenario.inputs.schools.path.read_bytes()).hexdigest()
    )


def test_small_counts_are_null_in_the_geopackage(tmp_path, demo_result):
    path = write_geopackage(demo_result, tmp_path / "plan.gpkg")
    lines = gpd.read_file(path, layer="assignments")
    shown = lines["children"].dropna()
    assert (shown >= 5).all()
    assert lines["children"].isna().any()  # the demo has assignments of 1-4 children
    demand = gpd.read_file(path, layer="demand")
    assert ((demand["children"].dropna() >= 5) | (demand["children"].dropna() == 0)).all()


def test_refuses_to_overwrite_and_leaves_the_file_unchanged(tmp_path, demo_result):
    path = tmp_path / "plan.gpkg"
    path.write_bytes(b"first")
    with pytest.raises(OutputError) as caught:
        write_geopackage(demo_result, path)
    assert caught.value.problems == [f"{path}: already exists (pass --overwrite to replace it)"]
    assert path.read_bytes() == b"first"
    write_geopackage(demo_result, path, overwrite=True)
    assert pyogrio.list_layers(path)[0][0] == "candidates"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.gpkg"]  # no temporary left behind


def test_cli_second_export_without_overwrite_exits_1(tmp_path):
    path = tmp_path / "out.gpkg"
    first = runner.invoke(app, ["rank", "--top", "3", "--output", str(path)])
    assert first.exit_code == 0, first.output
    assert first.stderr.endswith(f"Wrote {path}\nWrote {path.with_suffix('.qgs')}\n")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    second = runner.invoke(app, ["rank", "--top", "3", "--output", str(path)])
    assert second.exit_code == 1
    assert second.stderr == f"error: {path}: already exists (pass --overwrite to replace it)\n"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    third = runner.invoke(app, ["rank", "--top", "3", "--output", str(path), "--overwrite"])
    assert third.exit_code == 0


def test_missing_output_folder(tmp_path, demo_result):
    path = tmp_path / "nowhere" / "plan.gpkg"
    with pytest.raises(OutputError, match="does not exist"):
        write_geopackage(demo_result, path)


def test_cli_rejects_a_non_geopackage_name_before_ranking(tmp_path):
    path = tmp_path / "plan.shp"
    result = runner.invoke(app, ["rank", "--output", str(path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}: --output writes .gpkg, .geojson, .fgb, .parquet (the extension chooses"
        " the format); give a name ending in one of them\n"
    )
    assert result.stdout == ""


def test_geopackage_is_version_1_3_for_gdal_3_6(tmp_path, demo_result):
    """GDAL 3.6 (QGIS 3.22 LTR) warns on every open of a GeoPackage 1.4; 1.3 opens cleanly."""
    path = write_geopackage(demo_result, tmp_path / "plan.gpkg")
    header = path.read_bytes()[:100]
    assert header[:16] == b"SQLite format 3\x00"
    assert header[68:72] == b"GPKG"  # application_id
    assert int.from_bytes(header[60:64], "big") == 10300  # user_version: GeoPackage 1.3.0


def test_every_planned_host_is_in_plan_and_named(tmp_path, demo_result):
    path = write_geopackage(demo_result, tmp_path / "plan.gpkg")
    candidates = gpd.read_file(path, layer="candidates")
    chosen = demo_result.plan.chosen
    hosts = set(chosen["urn"].astype(str))
    assert set(candidates.loc[candidates["in_plan"].astype(bool), "urn"].astype(str)) == hosts
    assert len(hosts) == 3  # the demo's three hosts, whichever option was ranked
    planned = gpd.read_file(path, layer="planned_bases")
    for row in chosen.itertuples():
        assert f"{row.name} (new base {row.choice})" in planned["base_name"].tolist()
    # No per-school count of pupils with an EHC plan under the threshold is exported.
    ehcp = candidates["ehcp_pupils"].dropna()
    assert ((ehcp == 0) | (ehcp >= 5)).all()
    assert candidates["ehcp_pupils"].isna().any()  # the demo has schools with 1-4
    hidden = candidates["ehcp_pupils"].isna()
    assert candidates.loc[hidden, "ehcp_share"].isna().all()  # share x pupils gives it back


def test_empty_layers_keep_their_geometry_type_and_crs(tmp_path, scenario_file):
    # An authority with no bases today, and a plan of none: empty point layers, still points.
    bases = tmp_path / "no_bases.csv"
    header = DEMO_BASES.read_text(encoding="utf-8").splitlines()[0]
    bases.write_text(header + "\n", encoding="utf-8")
    scenario = load_scenario(scenario_file("bases = 0\n", inputs={"bases": str(bases)}))
    path = write_geopackage(rank(scenario), tmp_path / "empty.gpkg")
    kinds = dict(pyogrio.list_layers(path))
    assert {name: kinds[name] for name in ("existing_bases", "planned_bases")} == {
        "existing_bases": "Point",
        "planned_bases": "Point",
    }
    for name in ("existing_bases", "planned_bases"):
        info = pyogrio.read_info(path, layer=name)
        assert (info["features"], info["crs"]) == (0, "EPSG:27700")
    from sitefinder.export import read_run

    assert read_run(path)["existing_bases"].empty  # and the run reads back
