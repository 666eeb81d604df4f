"""The GeoPackage carries default QGIS styles in ``layer_styles``, as QGIS itself stores them."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

import sitefinder
import sitefinder.resources
from sitefinder import styles
from sitefinder.published import TABLES

SPATIAL = [
    "candidates", "existing_bases", "planned_bases", "programme_bases", "demand", "assignments",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo_result():
    return sitefinder.rank(sitefinder.load_scenario(sitefinder.resources.default_scenario_path()))


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory, demo_result):
    return sitefinder.write_geopackage(demo_result, tmp_path_factory.mktemp("styles") / "x.gpkg")


def _rows(path) -> pd.DataFrame:
    with closing(sqlite3.connect(path)) as connection:
        return pd.read_sql_query('SELECT * FROM "layer_styles" ORDER BY id', connection)


def test_layer_styles_table_has_the_qgis_schema(gpkg):
    with closing(sqlite3.connect(gpkg)) as connection:
        columns = [
            (row[1], row[2]) for row in connection.execute("PRAGMA table_info(layer_styles)")
        ]
        contents = connection.execute(
            "SELECT data_type, identifier FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchall()
        count = connection.execute(
            "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    assert columns == [
        ("id", "INTEGER"), ("f_table_catalog", "TEXT(256)"), ("f_table_schema", "TEXT(256)"),
        ("f_table_name", "TEXT(256)"), ("f_geometry_column", "TEXT(256)"),
        ("styleName", "TEXT(30)"), ("styleQML", "TEXT"), ("styleSLD", "TEXT"),
        ("useAsDefault", "BOOLEAN"), ("description", "TEXT"), ("owner", "TEXT(30)"),
        ("ui", "TEXT(30)"), ("update_time", "DATETIME"),
    ]  # fmt: skip
    assert contents == [("attributes", "layer_styles")]
    assert count == (len(SPATIAL),)


def test_one_default_style_per_spatial_layer(gpkg):
    rows = _rows(gpkg)
    assert sorted(rows["f_table_name"]) == sorted(SPATIAL)
    assert (rows["useAsDefault"] == 1).all()
    assert (rows["f_geometry_column"] == "geom").all()
    assert rows["update_time"].str.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").all()
    for qml in rows["styleQML"]:
        assert qml.startswith("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>")
        root = ET.fromstring(qml)
        assert root.tag == "qgis"
        assert root.get("styleCategories") == "Symbology|Labeling"
        assert root.find("renderer-v2") is not None


def test_each_layer_gets_its_symbology(gpkg):
    qml = {r.f_table_name: ET.fromstring(r.styleQML) for r in _rows(gpkg).itertuples()}
    candidates = qml["candidates"].find("renderer-v2")
    assert candidates.get("type") == "categorizedSymbol"
    values = [c.get("value") for c in candidates.iter("category")]
    assert values == ["in_plan", "eligible", "not_eligible"]
    assert qml["candidates"].get("labelsEnabled") == "1"
    assert '"rank" <= 10' in qml["candidates"].find(".//text-style").get("fieldName")
    shapes = {
        name: {o.get("value") for o in qml[name].iter("Option") if o.get("name") == "name"}
        for name in ("existing_bases", "planned_bases")
    }
    assert "square" in shapes["existing_bases"]
    assert "star" in shapes["planned_bases"]
    assert qml["planned_bases"].find(".//text-style").get("fieldName") == "base_name"
    lines = qml["assignments"].find("renderer-v2")
    assert lines.get("attr") == "kind"
    assert {s.get("type") for s in lines.iter("symbol")} == {"line"}
    # Hairlines, mostly transparent: the areas and sites under 1,000+ lines stay readable.
    options = {o.get("name"): o.get("value") for o in lines.iter("Option") if o.get("name")}
    assert float(options["line_width"]) <= 0.1
    assert int(options["line_color"].split(",")[3]) <= 64


def test_demand_classes_cover_the_data(gpkg):
    demand = gpd.read_file(gpkg, layer="demand")
    root = ET.fromstring(_rows(gpkg).set_index("f_table_name").loc["demand", "styleQML"])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "RuleRenderer"
    labels = [r.get("label") for r in renderer.iter("rule")]
    assert labels[0] == "No children needing a place"
    assert labels[-1].startswith("No figure")
    measure = styles.demand_measure(demand)
    ranges = styles.demand_ranges(demand)
    assert labels[1:-1] == [r.label for r in ranges]
    values = demand[measure.key].dropna()
    assert ranges[0].lower <= values.min() and values.max() <= ranges[-1].upper
    assert {s.get("type") for s in renderer.find("symbols")} == {"fill"}
    colours = [s.find(".//Option[@name='color']").get("value") for s in renderer.find("symbols")]
    assert len(set(colours)) == len(ranges) + 2


def test_gdal_and_geopandas_still_read_every_layer(gpkg, demo_result):
    listed = dict(pyogrio.list_layers(gpkg))
    assert set(SPATIAL) | {"run_info"} <= set(listed)
    # Besides the layers: run_info, the published tables the report is drawn from, the styles.
    assert set(listed) - set(SPATIAL) == {*TABLES, "layer_styles"}
    assert all(listed[name] is None for name in TABLES)  # plain tables, no geometry
    assert listed.get("layer_styles") is None  # a plain table
    for name in SPATIAL:
        layer = gpd.read_file(gpkg, layer=name)
        assert layer.crs.to_epsg() == 27700
    assert len(gpd.read_file(gpkg, layer="candidates")) == len(demo_result.data.schools)
    assert len(pyogrio.read_dataframe(gpkg, layer="layer_styles")) == len(SPATIAL)


def test_styles_are_the_same_for_the_same_run(tmp_path, gpkg, demo_result):
    again = sitefinder.write_geopackage(demo_result, tmp_path / "again.gpkg")
    assert _rows(again)["styleQML"].tolist() == _rows(gpkg)["styleQML"].tolist()


def test_names_and_expressions_are_escaped():
    frame = gpd.GeoDataFrame(
        {"mean_minutes_after": [np.nan, 3.0]},
        geometry=gpd.points_from_xy([0, 1], [0, 1]),
        crs="EPSG:27700",
    )
    root = ET.fromstring(styles.candidates_qml(frame))
    assert "'in_plan'" in root.find("renderer-v2").get("attr")  # quotes survive the round trip
    demand = ET.fromstring(styles.demand_qml(frame))  # points when there are no boundaries
    assert {s.get("type") for s in demand.find("renderer-v2").find("symbols")} == {"marker"}


def test_demand_ranges_edge_cases():
    frame = pd.DataFrame({"children": [1.0, 2.0], "unmet_after": [0.0, 0.0],
                          "fallback_minutes": [np.nan, np.nan],
                          "mean_minutes_all_after": [12.34, 12.34]})  # fmt: skip
    flat = styles.demand_ranges(frame)
    assert flat[0].lower <= 12.34 <= flat[-1].upper
    assert all(r.upper > r.lower for r in flat)
    assert styles.demand_ranges(frame.drop(columns="mean_minutes_all_after")) == []
