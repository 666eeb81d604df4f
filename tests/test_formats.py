"""--output in open formats: each opens in GDAL (pyogrio) with the run's layers, geometry types
and coordinate system, in EPSG:27700 or reprojected by --crs; a QGIS project beside a
GeoPackage references every layer, grouped and styled (opened in QGIS where installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
from typer.testing import CliRunner

from sitefinder import load_scenario, rank, with_settings
from sitefinder.cli import app
from sitefinder.errors import OutputError
from sitefinder.outputs import write_run
from sitefinder.outputs.formats import layer_path
from sitefinder.published import LAYERS, publish
from sitefinder.resources import default_scenario_path

runner = CliRunner()
TYPES = {"candidates": "Point", "existing_bases": "Point", "planned_bases": "Point",
         "programme_bases": "Point", "demand": "MultiPolygon",
         "assignments": "LineString"}  # fmt: skip


@pytest.fixture(scope="module")
def run():
    return publish(rank(with_settings(load_scenario(default_scenario_path()), {"top": 5})))


@pytest.fixture(scope="module")
def empty_plan():
    """No new base: the planned_bases layer is empty and must keep its type and CRS."""
    return publish(rank(with_settings(load_scenario(default_scenario_path()), {"bases": 0})))


def _sizes(run) -> dict[str, int]:
    return {name: len(run[name]) for name in LAYERS}


@pytest.mark.parametrize("suffix", [".geojson", ".fgb"])
def test_one_layer_formats_open_in_gdal(run, tmp_path, suffix):
    written = write_run(run, tmp_path / f"plan{suffix}")
    assert [p.name for p in written] == [f"plan.{name}{suffix}" for name in LAYERS]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    for name, path in zip(LAYERS, written, strict=True):
        info = pyogrio.read_info(path, force_feature_count=True)
        assert pyogrio.list_layers(path)[0][0] == name
        assert info["features"] == _sizes(run)[name]
        if _sizes(run)[name] or suffix != ".geojson":  # the demo has no programme
            assert info["geometry_type"] == TYPES[name], name
        assert pyproj.CRS(info["crs"]).to_epsg() == 27700
    demand = gpd.read_file(layer_path(tmp_path / f"plan{suffix}", "demand"))
    assert sorted(demand["area_code"]) == sorted(run["demand"]["area_code"])  # FlatGeobuf sorts
    assert "mean_minutes_all_after" in demand.columns


def test_geoparquet_has_its_metadata_and_opens_where_gdal_can(run, tmp_path):
    pyarrow = pytest.importorskip("pyarrow.parquet")
    written = write_run(run, tmp_path / "plan.parquet")
    for name, path in zip(LAYERS, written, strict=True):
        geo = json.loads(pyarrow.read_schema(path).metadata[b"geo"])
        assert geo["version"] == "1.0.0" and geo["primary_column"] == "geometry"
        column = geo["columns"]["geometry"]
        assert column["encoding"] == "WKB"
        assert pyproj.CRS.from_json_dict(column["crs"]).to_epsg() == 27700
        assert column["geometry_types"] == ([TYPES[name]] if _sizes(run)[name] else [])
        frame = gpd.read_parquet(path)
        assert len(frame) == _sizes(run)[name]
        if "Parquet" in pyogrio.list_drivers():  # GDAL built with Arrow
            info = pyogrio.read_info(path)
            assert info["features"] == len(frame)
            assert pyproj.CRS(info["crs"]).to_epsg() == 27700


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".fgb", ".parquet"])
def test_empty_layers_keep_their_geometry_type_and_crs(empty_plan, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"none{suffix}"
    write_run(empty_plan, path)
    assert len(empty_plan["planned_bases"]) == 0
    if suffix == ".gpkg":
        info = pyogrio.read_info(path, layer="planned_bases", force_feature_count=True)
    elif suffix == ".parquet":
        frame = gpd.read_parquet(layer_path(path, "planned_bases"))
        assert frame.empty and frame.crs.to_epsg() == 27700
        return
    else:
        info = pyogrio.read_info(layer_path(path, "planned_bases"), force_feature_count=True)
    assert info["features"] == 0
    assert pyproj.CRS(info["crs"]).to_epsg() == 27700
    if suffix != ".geojson":  # an empty GeoJSON has no features to tell a type by
        assert info["geometry_type"] == "Point"


def test_crs_reprojects_every_layer(run, tmp_path):
    written = write_run(run, tmp_path / "web.geojson", crs=4326)
    to_degrees = pyproj.Transformer.from_crs(27700, 4326, always_xy=True)
    candidates = run["candidates"]
    layer = gpd.read_file(written[0])
    assert layer.crs.to_epsg() == 4326
    lon, lat = to_degrees.transform(candidates["easting"].to_numpy(), candidates["northing"])
    assert np.allclose(layer.geometry.x, lon, atol=1e-6)
    assert np.allclose(layer.geometry.y, lat, atol=1e-6)
    gpkg = write_run(run, tmp_path / "web.gpkg", crs="EPSG:4326")[0]
    for name in LAYERS:
        assert pyproj.CRS(pyogrio.read_info(gpkg, layer=name)["crs"]).to_epsg() == 4326
    info = dict(pyogrio.read_dataframe(gpkg, layer="run_info")[["key", "value"]].to_numpy())
    assert info["crs"] == "EPSG:4326"
    with pytest.raises(OutputError, match="not an EPSG code"):
        write_run(run, tmp_path / "bad.geojson", crs=999999)
    assert not list(tmp_path.glob("bad*"))


def test_a_saved_run_in_degrees_draws_its_maps_in_metres(run, tmp_path):
    from sitefinder.export import read_run
    from sitefinder.render.staticmap import map_png

    gpkg = write_run(run, tmp_path / "web.gpkg", crs=4326)[0]
    again = read_run(gpkg)
    shapes = [s for s in again.area_shapes if s is not None]
    assert shapes and all(s.bounds[0] > 1000 for s in shapes)  # metres, not degrees
    assert map_png(again, dpi=30) == map_png(run, dpi=30)


def _project(path):
    root = ET.parse(path).getroot()
    tree = root.find("layer-tree-group")
    groups = [
        (g.get("name"), [(x.get("id"), x.get("checked")) for x in g.findall("layer-tree-layer")])
        for g in tree.findall("layer-tree-group")
    ]
    sources = [m.findtext("datasource") for m in root.iter("maplayer")]
    return root, groups, sources


def test_the_qgis_project_references_every_layer(run, tmp_path):
    _, project = write_run(run, tmp_path / "plan.gpkg")
    assert project == tmp_path / "plan.qgs"
    root, groups, sources = _project(project)
    assert root.tag == "qgis" and root.findtext("projectCrs/spatialrefsys/authid") == "EPSG:27700"
    assert sorted(sources) == sorted(f"./plan.gpkg|layername={name}" for name in LAYERS)
    assert [name for name, _ in groups] == ["The plan", "Children"]
    order = [layer for _, layers in groups for layer, _ in layers]
    assert order == ["sitefinder_planned_bases", "sitefinder_programme_bases",
                     "sitefinder_existing_bases",
                     "sitefinder_candidates", "sitefinder_assignments",
                     "sitefinder_demand"]  # fmt: skip
    checked = dict(layer for _, layers in groups for layer in layers)
    assert checked.pop("sitefinder_assignments") == "Qt::Unchecked"
    assert set(checked.values()) == {"Qt::Checked"}
    renderers = {m.findtext("id"): m.find("renderer-v2").get("type") for m in root.iter("maplayer")}
    assert renderers["sitefinder_demand"] == "RuleRenderer"
    assert renderers["sitefinder_candidates"] == "categorizedSymbol"


QGIS_CHECK = """
import json, sys
from qgis.core import QgsApplication, QgsProject
app = QgsApplication([], False); app.initQgis()
project = QgsProject.instance()
ok = project.read(sys.argv[1])
layers = {l.name(): [l.isValid(), l.featureCount(), l.renderer().type(), l.crs().authid()]
          for l in project.mapLayers().values()}
tree = [[g.name(), [[l.name(), l.isVisible()] for l in g.children()]]
        for g in project.layerTreeRoot().children()]
print(json.dumps({"ok": ok, "crs": project.crs().authid(), "layers": layers, "tree": tree}))
app.exitQgis()
"""


def _qgis_python() -> str | None:
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        return None
    found = subprocess.run([python, "-c", "import qgis.core"], capture_output=True, check=False)
    return python if found.returncode == 0 else None


@pytest.mark.skipif(_qgis_python() is None, reason="QGIS (python3-qgis) is not installed")
def test_the_project_opens_in_qgis(run, tmp_path):
    _, project = write_run(run, tmp_path / "plan.gpkg", crs=4326)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    done = subprocess.run(
        [_qgis_python(), "-c", QGIS_CHECK, str(project)], capture_output=True, text=True,
        check=True, env=env, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["ok"] and found["crs"] == "EPSG:4326"
    assert all(valid for valid, *_ in found["layers"].values())
    counts = {name: count for name, (_, count, _, _) in found["layers"].items()}
    assert counts["Areas"] == len(run["demand"])
    assert counts["Candidate schools"] == len(run["candidates"])
    assert found["layers"]["Areas"][2] == "RuleRenderer"
    assert {crs for *_, crs in found["layers"].values()} == {"EPSG:4326"}
    assert found["tree"][1] == ["Children", [["Assignment lines (area to base)", False],
                                             ["Areas", True]]]  # fmt: skip


def test_cli_writes_the_format_asked_for_and_checks_first(tmp_path):
    path = tmp_path / "plan.fgb"
    result = runner.invoke(app, ["rank", "--top", "3", "-o", str(path), "--crs", "4326"])
    assert result.exit_code == 0, result.output
    for name in LAYERS:
        assert f"Wrote {layer_path(path, name)}\n" in result.stderr
        assert pyproj.CRS(pyogrio.read_info(layer_path(path, name))["crs"]).to_epsg() == 4326
    again = runner.invoke(app, ["rank", "--top", "3", "-o", str(path)])
    assert again.exit_code == 1
    assert again.stderr == (
        f"error: {layer_path(path, 'candidates')}: already exists (pass --overwrite to replace"
        " it)\n"
    )
    bad = runner.invoke(app, ["rank", "-o", str(tmp_path / "x.geojson"), "--crs", "banana"])
    assert bad.exit_code == 1 and "--crs banana: not an EPSG code" in bad.stderr
    alone = runner.invoke(app, ["rank", "--crs", "4326"])
    assert alone.exit_code == 2 and "give --output FILE too" in alone.stderr
    assert not list(tmp_path.glob("x*"))
