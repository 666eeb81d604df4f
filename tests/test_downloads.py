"""Boundary files as they come from real downloads: Polygon and MultiPolygon mixed in one
file, GDAL's errors said as what to do (never "prefixing the file path with '<DRIVER>:'"), and
GDAL's warnings caught, never printed as raw Python warnings; population by age band beside
them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyogrio
import pytest
from test_init import made_up_folder
from typer.testing import CliRunner

from sitefinder.cli import app
from sitefinder.readers.tables import read_vector
from sitefinder.validate import Problems

runner = CliRunner()


def _mixed(folder: Path) -> Path:
    """The made-up folder with its second LSOA a MultiPolygon (GDAL declares "Unknown")."""
    made_up_folder(folder)
    path = folder / "ons" / "lsoa2021.geojson"
    data = json.loads(path.read_text())
    second = data["features"][1]["geometry"]
    data["features"][1]["geometry"] = {
        "type": "MultiPolygon",
        "coordinates": [second["coordinates"]],
    }
    path.write_text(json.dumps(data))
    assert pyogrio.read_info(path)["geometry_type"] == "Unknown"
    return path


def test_init_accepts_mixed_polygons_and_the_run_writes_multipolygons(tmp_path):
    boundaries = _mixed(tmp_path / "data")
    scenario = tmp_path / "trafford.toml"
    result = runner.invoke(app, ["init", "-a", "Trafford", "-d", str(tmp_path / "data"),
                                 "-o", str(scenario)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "LSOA boundaries: ons/lsoa2021.geojson" in result.stdout
    assert f"{scenario}: valid." in result.stdout
    assert "Warning" not in result.stderr
    gpkg = tmp_path / "run.gpkg"
    ranked = runner.invoke(app, ["rank", "-c", str(scenario), "-o", str(gpkg)])
    assert ranked.exit_code == 0, ranked.output
    assert pyogrio.read_info(gpkg, layer="demand")["geometry_type"] == "MultiPolygon"
    assert boundaries.exists()


def test_gdal_errors_say_what_to_do(tmp_path):
    made_up_folder(tmp_path)
    (tmp_path / "ons" / "broken.gpkg").write_bytes(b"SQLite junk, not a database")
    (tmp_path / "ons" / "broken.geojson").write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["init", "-a", "Trafford", "-d", str(tmp_path),
                                 "-o", str(tmp_path / "x.toml")])  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("broken.gpkg", "broken.geojson"):
        line = next(line for line in result.stdout.splitlines() if f"ons/{name}:" in line)
        assert "<DRIVER>" not in line and "It might help" not in line
        assert "download it again" in line
    problems = Problems()
    assert read_vector(tmp_path / "ons" / "broken.gpkg", problems) is None
    (message,) = problems.items
    assert message.startswith(f"{tmp_path / 'ons' / 'broken.gpkg'}: cannot read as a vector file:"
                              " not a format GDAL reads")  # fmt: skip


def test_a_shapefile_without_its_shx_says_so(tmp_path):
    import geopandas as gpd

    source = made_up_folder(tmp_path / "data") / "ons" / "lsoa2021.geojson"
    gpd.read_file(source).to_file(tmp_path / "lsoa.shp")
    (tmp_path / "lsoa.shx").unlink()
    problems = Problems()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHAPE_RESTORE_SHX", "NO")
        assert read_vector(tmp_path / "lsoa.shp", problems) is None
    (message,) = problems.items
    assert "missing its .shx index file" in message, message


def test_gdal_warnings_are_caught_not_printed(tmp_path, recwarn):
    made_up_folder(tmp_path)
    path = tmp_path / "ons" / "lsoa2021.geojson"
    data = json.loads(path.read_text())
    for feature in data["features"]:
        feature["id"] = 1  # GDAL warns and numbers them anew
    path.write_text(json.dumps(data))
    problems = Problems()
    frame = read_vector(path, problems)
    assert frame is not None and len(frame) == 2
    assert not [w for w in recwarn if "pyogrio" in w.filename or "id = 1" in str(w.message)]
    assert problems.warnings == []  # harmless: nothing to say
    result = runner.invoke(app, ["init", "-a", "Trafford", "-d", str(tmp_path),
                                 "-o", str(tmp_path / "x.toml")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "RuntimeWarning" not in result.stderr and "id = 1" not in result.stderr
    shutil.rmtree(tmp_path / "ons")


def test_init_on_mixed_polygons_and_population_by_age_band_writes_a_valid_scenario(tmp_path):
    # A real download's pair: LSOA boundaries mixing Polygon and MultiPolygon, and population
    # by age band (Census-style bands, not single years) in place of the single-year file.
    folder = tmp_path / "data"
    _mixed(folder)
    single = folder / "ons" / "trafford_sapelsoasyoa2024.csv"
    single.unlink()
    bands = ["0-4", "5-9", "10-14", "15-19", "20-64", "65+"]
    widths = [5, 5, 5, 5, 45, 26]  # 65+ spreads to 90: 26 years
    rows = ["area_code,area_name," + ",".join(bands)]
    for i, s in enumerate("AB"):  # 40 people a year, as the single-year file had
        rows.append(f"E0100{1 + i:04d},Trafford 001{s}," + ",".join(str(40 * w) for w in widths))
    (folder / "ons" / "trafford_population_bands_2024.csv").write_text(
        "\n".join(rows) + "\n", encoding="utf-8"
    )
    scenario = tmp_path / "trafford.toml"
    result = runner.invoke(app, ["init", "-a", "Trafford", "-d", str(folder), "-o", str(scenario)])
    assert result.exit_code == 0, result.output
    assert "LSOA boundaries: ons/lsoa2021.geojson" in result.stdout
    assert "population: ons/trafford_population_bands_2024.csv" in result.stdout
    assert "ONS population by small area and age band" in result.stdout
    assert f"{scenario}: valid." in result.stdout
    assert "Warning" not in result.stderr
    checked = runner.invoke(app, ["validate", "-c", str(scenario)])
    assert checked.exit_code == 0, checked.output
    # the spreading over single years is said, with its method
    assert "population by age band, not single year: each band is spread evenly" in (checked.output)
    assert "78 children needing a base place" in checked.output  # as from single years
