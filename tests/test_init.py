"""``sitefinder init``: a scenario for one authority from a folder of public files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import geopandas as gpd
import pytest
from layouts import (
    GiasSchool,
    standard_gias,
    write_gias,
    write_ons_sexes_in_columns,
    write_sen2_caseload,
    write_sen2_needs,
)
from shapely.geometry import Point
from typer.testing import CliRunner

from sitefinder.cli import app
from sitefinder.config import load_scenario, with_settings
from sitefinder.discover import date_in_name
from sitefinder.pipeline import check_inputs

runner = CliRunner()


def _square(x0: float, y0: float) -> list[list[list[float]]]:
    return [[[x0, y0], [x0 + 0.03, y0], [x0 + 0.03, y0 + 0.02], [x0, y0 + 0.02], [x0, y0]]]


def write_lsoas(path: Path, authority: str = "Trafford", first: int = 1) -> Path:
    """Two LSOA polygons in WGS84 GeoJSON, named as ONS names them ('Trafford 001A')."""
    features = [
        {
            "type": "Feature",
            "properties": {"LSOA21CD": f"E0100{first + i:04d}", "LSOA21NM": f"{authority} 001{s}"},
            "geometry": {"type": "Polygon", "coordinates": _square(-2.36 + 0.04 * i, 53.40)},
        }
        for i, s in enumerate("AB")
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def write_population(path: Path, authority: str = "Trafford", first: int = 1) -> Path:
    """ONS mid-year estimates by LSOA and single year of age, Persons rows."""
    ages = ",".join(str(a) for a in range(90)) + ",90+"
    rows = [f"period,area_code,area_name,geography,sex,all_ages,{ages}"]
    for i, s in enumerate("AB"):
        cells = ",".join(["40"] * 91)
        rows.append(f"2024-06-30,E0100{first + i:04d},{authority} 001{s},LSOA,Persons,3640,{cells}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def write_onspd(path: Path) -> Path:
    """ONSPD columns: postcode, grid reference, LSOA and local authority (laua)."""
    path.write_text(
        "pcds,oseast1m,osnrth1m,lsoa21,laua\n"
        "ZZ9 9ZZ,376500,389500,E01000001,E08000009\n"
        "ZZ1 1AA,376000,389000,E01000001,E08000009\n"
        "ZZ2 2BB,379000,392000,E01000002,E08000009\n"
        "WN1 1AA,358000,405000,E01006000,E08000010\n",
        encoding="utf-8",
    )
    return path


def made_up_folder(folder: Path) -> Path:
    """Every input Trafford needs, with traps: an older GIAS extract, Wigan's population, a
    binary file and a text file."""
    (folder / "gias").mkdir(parents=True)
    (folder / "ons").mkdir()
    (folder / "dfe").mkdir()
    standard_gias(folder / "gias" / "edubasealldata20250101.csv")
    write_gias(folder / "gias" / "edubasealldata20240101.csv", [GiasSchool("100001", "Old").row()])
    write_lsoas(folder / "ons" / "lsoa2021.geojson")
    write_population(folder / "ons" / "trafford_sapelsoasyoa2024.csv")
    write_population(folder / "ons" / "wigan_sapelsoasyoa2024.csv", "Wigan", first=6000)
    write_onspd(folder / "ons" / "onspd_nov2025.csv")
    write_sen2_needs(folder / "dfe" / "sen_needs.csv")
    write_sen2_caseload(folder / "dfe" / "caseload.csv")
    (folder / "notes.txt").write_text("Downloaded in November\n", encoding="utf-8")
    (folder / "export.csv").write_bytes(b"PK\x03\x04\x00\x00binary\x00\x01")
    return folder


def init(*args: str):
    return runner.invoke(app, ["init", *args])


def flat(text: str) -> str:
    """A usage error's words, without rich's box and line breaks."""
    return " ".join(text.replace("│", " ").split())


EXPECTED = """\
Files for Trafford (E08000009, LA 358) in {data}: 10 looked at.

Chosen:
  schools: gias/edubasealldata20250101.csv
    GIAS establishment extract. 5 of 6 establishments are Trafford's (by LA (code)); 4 open, 3 with a resourced provision or SEN unit flag.
  LSOA boundaries: ons/lsoa2021.geojson
    LSOA 2021 boundaries (geojson). 2 of 2 polygons are Trafford's (by the area names in LSOA21NM).
  postcodes: ons/onspd_nov2025.csv
    Postcode directory (ONSPD-style). 3 of 4 postcodes are Trafford's (by laua).
  population: ons/trafford_sapelsoasyoa2024.csv
    ONS population by small area and single year of age. 2 of 2 areas are Trafford's (by the area names in area_name).
  SEN2 needs: dfe/sen_needs.csv
    DfE SEN2 primary-need file (EHC plans by need and age). 19 of 19 rows are Trafford's (by la_name and LA codes); the file holds 1 authority and no England rows.
  SEN2 caseload: dfe/caseload.csv
    DfE SEN2 caseload file (EHC plans by placement and age). 23 of 46 rows are Trafford's (by la_name and LA codes); the file holds 1 authority and England.

Not used:
  gias/edubasealldata20240101.csv (schools): passed over: older (2024-01-01 by its name, against 2025-01-01 by its name)
  ons/wigan_sapelsoasyoa2024.csv (population): covers Wigan, not Trafford (by the area names in area_name)

Not recognised (ignored):
  export.csv: binary content, not a text table
  notes.txt: not a comma-separated table (one column)

Not found:
  bases register: existing bases come from the schools file's resourced provision and SEN unit flags, with places assumed where none are recorded.
    Public source: the authority's own list (its Local Offer); one row per base: urn, phase, need_codes, places (see docs/data.md, 'The bases register').
  road network: journeys are estimated crow-fly (straight line x 1.35 at 40 km/h), not routed on roads; with an extract, set [journey] method = "network" and network = its path.
    Public source: Geofabrik, https://download.geofabrik.de/europe/united-kingdom/england.html.

Wrote {output}.
{output}: valid. 4 schools (3 mainstream, 3 eligible to host), 2 existing bases (18 places), 2 areas, 78 children needing a base place.
"""  # noqa: E501


def test_made_up_folder_report_and_scenario(tmp_path):
    data = made_up_folder(tmp_path / "data")
    output = tmp_path / "trafford.toml"
    result = init("--authority", "358", "--data", str(data), "--output", str(output))
    assert result.exit_code == 0, result.output
    assert result.stdout == EXPECTED.format(data=data, output=output)
    scenario = tomllib.loads(output.read_text(encoding="utf-8"))
    assert scenario["authority"] == "Trafford"
    inputs = scenario["inputs"]
    # The newer of two GIAS extracts, by the date in its name; absolute paths, as --data was.
    assert inputs["schools"] == {
        "path": f"{data}/gias/edubasealldata20250101.csv",
        "format": "gias",
        "default_base_capacity": 10,
    }
    assert inputs["boundaries"]["code_column"] == "LSOA21CD"
    assert inputs["demand"]["population"] == f"{data}/ons/trafford_sapelsoasyoa2024.csv"
    assert inputs["demand"]["share"] == "higher"
    assert inputs["postcodes"] == f"{data}/ons/onspd_nov2025.csv"
    assert "bases" not in inputs and scenario["journey"]["method"] == "crowfly"
    text = output.read_text(encoding="utf-8")
    assert (
        "Chosen over gias/edubasealldata20240101.csv: older (2024-01-01 by its name, against"
        " 2025-01-01 by its name)." in " ".join(text.replace("\n# ", " ").split())
    )
    # Notes and warnings of the validation go to stderr, as `validate` prints them.
    assert "warning: " in result.stderr and "note: demand modelled" in result.stderr


def test_the_same_folder_gives_the_same_scenario(tmp_path):
    data = made_up_folder(tmp_path / "data")
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    assert init("-a", "Trafford", "-d", str(data), "-o", str(first)).exit_code == 0
    assert init("-a", "E08000009", "-d", str(data), "-o", str(second)).exit_code == 0
    assert first.read_text().replace("a.toml", "b.toml") == second.read_text()


def test_paths_follow_how_the_folder_was_given(tmp_path, monkeypatch):
    data = made_up_folder(tmp_path / "shared" / "data")
    (tmp_path / "configs").mkdir()
    monkeypatch.chdir(tmp_path)
    relative = init("-a", "Trafford", "-d", "shared/data", "-o", "configs/t.toml")
    assert relative.exit_code == 0, relative.output
    written = tomllib.loads((tmp_path / "configs" / "t.toml").read_text())
    assert written["inputs"]["postcodes"] == "../shared/data/ons/onspd_nov2025.csv"
    monkeypatch.setenv("MY_DATA", str(data))
    variable = init("-a", "Trafford", "-d", "${MY_DATA}", "-o", "configs/v.toml")
    assert variable.exit_code == 0, variable.output
    written = tomllib.loads((tmp_path / "configs" / "v.toml").read_text())
    assert written["inputs"]["postcodes"] == "${MY_DATA}/ons/onspd_nov2025.csv"
    assert written["inputs"]["schools"]["path"] == "${MY_DATA}/gias/edubasealldata20250101.csv"


def test_no_demand_source_lists_what_to_download(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    standard_gias(data / "gias.csv")
    write_lsoas(data / "lsoa.geojson")
    write_population(data / "wigan_population.csv", "Wigan", first=6000)
    output = tmp_path / "s.toml"
    result = init("-a", "Trafford", "-d", str(data), "-o", str(output))
    assert result.exit_code == 1
    assert not output.exists()  # nothing half-written
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3
    assert errors[0].startswith(
        f"error: {data}: no ONS population by LSOA and single year of age for Trafford (found but"
        " not usable: wigan_population.csv: covers Wigan, not Trafford (by the area names in"
        " area_name)); download it from ONS, 'Lower layer Super Output Area population"
        " estimates'"
    )
    assert "no DfE SEN2 primary-need file" in errors[1]
    assert "explore-education-statistics.service.gov.uk" in errors[1]
    assert "no DfE SEN2 caseload file" in errors[2]
    assert "No scenario written" in result.stdout


def test_schools_of_another_authority_are_skipped_with_the_reason(tmp_path):
    data = made_up_folder(tmp_path / "data")
    for extract in (data / "gias").iterdir():
        extract.unlink()
    write_gias(
        data / "gias" / "wigan.csv",
        [GiasSchool("200001", "Elsewhere Primary", la=("359", "Wigan", "E08000010")).row()],
    )
    result = init("-a", "Trafford", "-d", str(data), "-o", str(tmp_path / "s.toml"))
    assert result.exit_code == 1
    assert "gias/wigan.csv (schools): covers Wigan, not Trafford (by LA (code))" in result.stdout
    assert result.stderr.startswith(
        f"error: {data}: no GIAS establishment extract for Trafford (found but not usable:"
        " gias/wigan.csv: covers Wigan, not Trafford (by LA (code))); download it from Get"
        " Information About Schools, https://get-information-schools.service.gov.uk/Downloads"
    )


def test_written_but_invalid_exits_1_naming_the_file(tmp_path):
    data = made_up_folder(tmp_path / "data")
    register = data / "bases.csv"
    register.write_text(
        "urn,phase,need_codes,places\n100001,primary,ASD;SLCN,8\n999999,secondary,SEMH,10\n"
    )
    output = tmp_path / "s.toml"
    result = init("-a", "Trafford", "-d", str(data), "-o", str(output))
    assert result.exit_code == 1
    assert output.exists()
    assert tomllib.loads(output.read_text())["inputs"]["bases"] == str(register)
    assert f"{output}: does not validate" in result.stdout
    assert (
        f"error: {register}: column urn, line 3: not a URN in the schools file (add the host"
        " school)" in result.stderr
    )


def test_never_overwrites_without_being_asked(tmp_path):
    data = made_up_folder(tmp_path / "data")
    output = tmp_path / "s.toml"
    output.write_text("# mine\n")
    refused = init("-a", "Trafford", "-d", str(data), "-o", str(output))
    assert refused.exit_code == 1
    assert refused.stderr == f"error: {output}: already exists (pass --overwrite to replace it)\n"
    assert output.read_text() == "# mine\n"
    replaced = init("-a", "Trafford", "-d", str(data), "-o", str(output), "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert output.read_text().startswith("# Trafford (E08000009, LA 358)")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_command_line_mistakes_exit_2(tmp_path):
    data = made_up_folder(tmp_path / "data")
    output = str(tmp_path / "s.toml")
    wrong = init("-a", "Trafordd", "-d", str(data), "-o", output)
    assert wrong.exit_code == 2
    assert "Trafordd: not an authority in the DfE files" in flat(wrong.output)
    assert "did you mean Trafford" in flat(wrong.output)
    missing = init("-a", "Trafford", "-d", str(tmp_path / "nowhere"), "-o", output)
    assert missing.exit_code == 2 and "not a folder" in flat(missing.output)
    unset = init("-a", "Trafford", "-d", "${SITEFINDER_NOT_SET_ANYWHERE}", "-o", output)
    assert unset.exit_code == 2
    assert "SITEFINDER_NOT_SET_ANYWHERE is not set" in flat(unset.output)
    assert init("-a", "Trafford", "-d", str(data)).exit_code == 2  # no --output


def test_help():
    result = init("--help")
    assert result.exit_code == 0
    for option in ("--authority", "--data", "--output", "--overwrite"):
        assert option in result.output


@pytest.mark.parametrize(
    ("name", "date"),
    [
        ("edubasealldata20251101.csv", (2025, 11, 1)),
        ("rutland-2022-07-20.osm.pbf", (2022, 7, 20)),
        ("ONSPD_NOV_2025_UK.csv", (2025, 11)),
        ("postcodes_onspd_nov2025.csv", (2025, 11)),
        ("ehcp2025_caseload_all_LAs.csv", (2025,)),
        ("sapelsoasyoa20222024.csv", (2024,)),
        ("schools_gias_layout_cp1252.csv", ()),
    ],
)
def test_dates_in_file_names(name, date):
    assert date_in_name(name) == date


# -- the shared folder of real public files -------------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "configs" / "examples"


def _same_inputs(written: Path, example: Path) -> None:
    """The written scenario reads what the hand-written example reads (with the written one's
    places: the Trafford example scales them to SEN2)."""
    mine = load_scenario(written)
    same = {"inputs.schools.capacity_from": mine.inputs.schools.capacity_from}
    ours, theirs = check_inputs(mine), check_inputs(with_settings(load_scenario(example), same))
    for key in ("schools", "mainstream", "eligible", "existing_bases", "existing_places",
                "areas"):  # fmt: skip
        assert getattr(ours, key) == getattr(theirs, key), key
    assert ours.children == pytest.approx(theirs.children)


def test_trafford_from_the_shared_folder(real_data, tmp_path):
    output = tmp_path / "trafford.toml"
    result = init("-a", "Trafford", "-d", "${SITEFINDER_REAL_DATA}", "-o", str(output))
    assert result.exit_code == 0, result.output
    scenario = tomllib.loads(output.read_text(encoding="utf-8"))
    inputs = scenario["inputs"]
    root = "${SITEFINDER_REAL_DATA}"
    assert inputs["schools"]["path"] == f"{root}/trafford/schools_gias_layout_cp1252.csv"
    assert inputs["schools"]["format"] == "gias"
    assert inputs["boundaries"] == {
        "path": f"{root}/trafford/lsoa2021_generalised.geojson",
        "code_column": "area_code",
        "name_column": "area_name",
    }
    assert inputs["postcodes"] == f"{root}/trafford/postcodes_lsoa21_2025.csv"
    demand = inputs["demand"]
    assert demand["population"] == f"{root}/trafford/population_mye2024_lsoa_single_year_age.csv"
    assert demand["sen2_needs"] == f"{root}/dfe/ehcp2025_sen_needs_all_plans_all_LAs.csv"
    assert demand["sen2_caseload"] == f"{root}/dfe/ehcp2025_caseload_all_LAs.csv"
    assert "bases" not in inputs  # Rutland's register names no Trafford school
    assert scenario["journey"]["method"] == "crowfly"  # the only extract is Rutland's
    report = result.stdout
    for line in (
        "  rutland/bases_rutland.csv (bases register): 0 of its 4 rows name a school of"
        " Trafford's schools file (by URN)",
        "  rutland/rutland-2022-07-20.osm.pbf (road network): its bounding box covers 0% of"
        " Trafford's extent (at least 90% needed)",
        "  trafford/schools_gias_2024-09-26.csv (schools): passed over: a GIAS extract is"
        " preferred to a mapped table",
        "  rutland/schools_osm_2022.csv: names and coordinates but no URN column",
        "  dfe/ehcp2022_sen2_estab_caseload_rutland_trafford_iow_plus_england.csv: a DfE"
        " statistics table sitefinder does not read",
    ):
        assert line in report
    # 34 eligible: 31 teaching whole phases, and 3 infant or junior schools for their own ages
    assert f"{output}: valid. 103 schools (82 mainstream, 34 eligible to host)" in report
    _same_inputs(output, EXAMPLES / "trafford.toml")


def test_rutland_from_the_shared_folder_ranks_on_its_roads(real_data, tmp_path):
    output = tmp_path / "rutland.toml"
    result = init("-a", "857", "-d", str(real_data), "-o", str(output))
    assert result.exit_code == 0, result.output
    scenario = tomllib.loads(output.read_text(encoding="utf-8"))
    inputs = scenario["inputs"]
    schools = inputs["schools"]
    assert schools["path"] == f"{real_data}/rutland/schools_rutland_2026.csv"
    assert schools["format"] == "mapped"
    columns = schools["columns"]
    assert {k: columns[k] for k in ("urn", "name", "lon", "lat", "phase")} == {
        "urn": "urn", "name": "name", "lon": "lon", "lat": "lat", "phase": "phase",
    }  # fmt: skip
    assert columns["establishment_group"] == "establishment_group"
    assert columns["la_gss"] == "gss_code"
    assert inputs["bases"] == {
        "path": f"{real_data}/rutland/bases_rutland.csv",
        "columns": {"places": "places_min"},
        "values": {"base_type": {"other": "none"}},
    }
    assert inputs["boundaries"]["code_column"] == "LSOA21CD"
    assert scenario["journey"] == {
        "method": "network",
        "network": f"{real_data}/rutland/rutland-2022-07-20.osm.pbf",
        "ride_factor": 1.3,
        "overhead_minutes": 5.0,
    }
    # A Trafford table without an authority column is told apart by where its schools are.
    assert (
        "  trafford/schools_pupils_2024.csv (schools): none of its 103 schools lies in"
        " Rutland's areas" in result.stdout
    )
    _same_inputs(output, EXAMPLES / "rutland.toml")
    ranked = runner.invoke(
        app, ["rank", "-c", str(output), "--method", "greedy", "--top", "3", "-f", "csv"]
    )
    assert ranked.exit_code == 0, ranked.output
    rows = ranked.stdout.splitlines()
    assert rows[0].startswith("rank,urn,name,phase,need_group")
    assert len(rows) == 4


def test_a_windows_1252_character_far_down_a_gias_extract(tmp_path):
    # The first 64 KB are plain ASCII (readable as UTF-8); a curly apostrophe comes later.
    data = made_up_folder(tmp_path / "data")
    rows = [
        GiasSchool(f"3{i:05d}", f"School {i}", xy=("377000", "390000")).row() for i in range(600)
    ]
    rows.append(GiasSchool("399999", "St Anne\u2019s Primary").row())
    extract = write_gias(data / "gias" / "edubasealldata20260101.csv", rows)
    assert extract.stat().st_size > 65_536
    output = tmp_path / "s.toml"
    result = init("-a", "Trafford", "-d", str(data), "-o", str(output))
    assert result.exit_code == 0, result.output
    assert "601 of 601 establishments are Trafford's" in result.stdout
    assert tomllib.loads(output.read_text())["inputs"]["schools"]["path"] == str(extract)


def _nomis(path: Path) -> Path:
    """A Nomis download: title lines, a blank line, the table, a blank line and a note."""
    table = write_population(path.with_suffix(".table"), first=1).read_text(encoding="utf-8")
    path.write_text(
        '"Population estimates - small area based by single year of age"\n'
        '"ONS Crown Copyright Reserved [from Nomis on 7 December 2025]"\n\n'
        + table
        + '\n"Figures may not sum because of rounding"\n',
        encoding="utf-8",
    )
    path.with_suffix(".table").unlink()
    return path


@pytest.mark.parametrize(
    ("write", "found"),
    [
        # ONS's workbook sheet saved as CSV: three title lines, padded with commas.
        (write_ons_sexes_in_columns, "2 of 3 areas are Trafford's (by LAD 2023 Code)"),
        (_nomis, "2 of 2 areas are Trafford's (by the area names in area_name)"),
    ],
    ids=["ons-sheet", "nomis"],
)
def test_population_below_title_lines_is_found(tmp_path, write, found):
    # The reader skips a download's title lines; init's discovery must find the file too,
    # not call it "columns not recognised" and then say no population was found.
    data = made_up_folder(tmp_path / "data")
    (data / "ons" / "trafford_sapelsoasyoa2024.csv").unlink()
    population = write(data / "ons" / "sapelsoasyoa20222024.csv")
    output = tmp_path / "s.toml"
    result = init("-a", "Trafford", "-d", str(data), "-o", str(output))
    assert result.exit_code == 0, result.output
    assert "population: ons/sapelsoasyoa20222024.csv" in result.stdout
    assert found in result.stdout
    comments = " ".join(output.read_text(encoding="utf-8").replace("\n# ", " ").split())
    assert "below the title lines" in comments
    assert tomllib.loads(output.read_text())["inputs"]["demand"]["population"] == str(population)


def test_a_reshaped_school_table_and_a_published_register_are_mapped(tmp_path):
    # No GIAS extract: a data team's school table (type groups in 'type', lon/lat, no LA
    # column) and a register with its own labels; LSOA polygons in a two-layer GeoPackage.
    data = made_up_folder(tmp_path / "data")
    for extract in (data / "gias").iterdir():
        extract.unlink()
    (data / "gias" / "schools.csv").write_text(
        "unique_reference_number,name,type,phase,lowest_admission_age,highest_admission_age,"
        "lon,lat\n"
        "100001,Hill Primary,Local authority maintained schools,Primary,4,11,-2.345,53.41\n"
        "100002,Vale Academy,Academies,Secondary,11,16,-2.305,53.41\n"
        "100003,Brook School,Special schools,Not applicable,5,19,-2.34,53.405\n"
        "100004,Dale Primary,Academies,Primary,4,11,-2.30,53.412\n",
        encoding="utf-8",
    )
    (data / "register.csv").write_text(
        "urn,phase,need_codes,places_min,places_max,base_type\n"
        "100002,Secondary,ASD;SLCN,8,12,Resourced Provision\n"
        "100004,primary,SEMH,,,Nurture group\n",
        encoding="utf-8",
    )
    geojson = data / "ons" / "lsoa2021.geojson"
    polygons = gpd.read_file(geojson)
    polygons.to_file(data / "ons" / "lsoa.gpkg", layer="LSOA_2021", driver="GPKG")
    points = gpd.GeoDataFrame({"id": [1]}, geometry=[Point(-2.3, 53.4)], crs=4326)
    points.to_file(data / "ons" / "lsoa.gpkg", layer="centroids", driver="GPKG")
    geojson.unlink()
    output = tmp_path / "s.toml"
    result = init("-a", "Trafford", "-d", str(data), "-o", str(output))
    assert result.exit_code == 0, result.output
    inputs = tomllib.loads(output.read_text())["inputs"]
    assert inputs["schools"]["format"] == "mapped"
    assert inputs["schools"]["columns"] == {
        "urn": "unique_reference_number", "name": "name", "phase": "phase",
        "statutory_low_age": "lowest_admission_age",
        "statutory_high_age": "highest_admission_age", "lon": "lon", "lat": "lat",
        "establishment_group": "type",
    }  # fmt: skip
    assert inputs["bases"]["columns"] == {"places": "places_min"}
    assert inputs["bases"]["values"] == {
        "base_type": {"Nurture group": "none", "Resourced Provision": "resourced_provision"}
    }
    assert inputs["boundaries"]["layer"] == "LSOA_2021"
    assert (
        "4 of 4 establishments are Trafford's (by its points in Trafford's areas)" in result.stdout
    )
    assert "1 existing bases (8 places)" in result.stdout


def test_two_files_that_tie_on_every_rule_are_said_to(tmp_path):
    data = made_up_folder(tmp_path / "data")
    population = data / "ons" / "trafford_sapelsoasyoa2024.csv"
    (data / "ons" / "copy_of_population.csv").write_bytes(population.read_bytes())
    population.rename(data / "ons" / "population.csv")
    result = init("-a", "Trafford", "-d", str(data), "-o", str(tmp_path / "s.toml"))
    assert result.exit_code == 0, result.output
    assert "  population: ons/copy_of_population.csv" in result.stdout
    assert (
        "  ons/population.csv (population): passed over: ties with the chosen file on every"
        " rule (the first in path order was taken; remove the one you do not want)"
    ) in result.stdout


# -- an authority's own file, a national one, and other authorities' files --------------------


def write_national_lsoas(path: Path, areas: list[tuple[str, str, str]]) -> Path:
    """LSOA polygons of several authorities, each with its district's code (LAD24CD), as
    ONS's national files carry them: ``areas`` are (LSOA21CD, LSOA21NM, LAD24CD)."""
    features = [
        {
            "type": "Feature",
            "properties": {"LSOA21CD": code, "LSOA21NM": name, "LAD24CD": lad},
            "geometry": {"type": "Polygon", "coordinates": _square(-2.36 + 0.04 * i, 53.40)},
        }
        for i, (code, name, lad) in enumerate(areas)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


TRAFFORD_AREAS = [("E01000001", "Trafford 001A", "E08000009"),
                  ("E01000002", "Trafford 001B", "E08000009")]  # fmt: skip
WIGAN_AREAS = [(f"E0100{6000 + i:04d}", f"Wigan 00{i}A", "E08000010") for i in range(6)]
KENT_AREAS = [("E01024001", "Ashford 001A", "E07000105"),
              ("E01024002", "Ashford 001B", "E07000105"),
              ("E01024500", "Maidstone 001A", "E07000110")]  # fmt: skip


def test_the_authority_s_own_file_beats_a_national_one(tmp_path):
    # National boundaries and population, dated newer than Trafford's own files: Trafford's
    # own are chosen all the same; without its own boundaries, the national file is taken and
    # read cut to Trafford.
    data = made_up_folder(tmp_path / "data")
    (data / "national").mkdir()
    write_national_lsoas(
        data / "national" / "lsoa2021_england_2025.geojson", TRAFFORD_AREAS + WIGAN_AREAS
    )
    ages = ",".join(str(a) for a in range(90)) + ",90+"
    rows = [f"period,area_code,area_name,lad21cd,sex,all_ages,{ages}"]
    for code, name, lad in TRAFFORD_AREAS + WIGAN_AREAS:
        rows.append(f"2025-06-30,{code},{name},{lad},Persons,3640,{','.join(['40'] * 91)}")
    (data / "national" / "population_england_2025.csv").write_text("\n".join(rows) + "\n")
    output = tmp_path / "s.toml"
    result = init("-a", "Trafford", "-d", str(data), "-o", str(output))
    assert result.exit_code == 0, result.output
    inputs = tomllib.loads(output.read_text())["inputs"]
    assert inputs["boundaries"]["path"] == str(data / "ons" / "lsoa2021.geojson")
    assert inputs["demand"]["population"] == str(data / "ons" / "trafford_sapelsoasyoa2024.csv")
    assert (
        "  national/lsoa2021_england_2025.geojson (LSOA boundaries): passed over: reaches"
        " further beyond Trafford (2 of 8 polygons are Trafford's, against 2 of 2): a file of"
        " Trafford alone, or the one holding least beyond it, is preferred to a regional or"
        " national one"
    ) in result.stdout
    assert (
        "  national/population_england_2025.csv (population): passed over: reaches further"
        " beyond Trafford (2 of 8 areas are Trafford's, against 2 of 2)"
    ) in result.stdout

    (data / "ons" / "lsoa2021.geojson").unlink()
    result = init("-a", "Trafford", "-d", str(data), "-o", str(output), "--overwrite")
    assert result.exit_code == 0, result.output
    boundaries = tomllib.loads(output.read_text())["inputs"]["boundaries"]
    assert boundaries["path"] == str(data / "national" / "lsoa2021_england_2025.geojson")
    said = "2 of 8 polygons are Trafford's (by LAD24CD). It is cut to them by LAD24CD when read"
    assert said in result.stdout
    assert said in flat(output.read_text().replace("#", " "))  # the scenario's comment too
    assert ", 2 areas," in result.stdout  # validate read it cut, not whole


def test_files_holding_none_of_the_authority_are_never_taken(tmp_path):
    # Kent is a county council: ONS files carry its districts' codes and names, not its own.
    # Trafford's files name only Trafford, so they hold none of Kent; a national file cannot
    # be cut to Kent until Kent's districts are known, and then it is read cut.
    data = tmp_path / "data"
    data.mkdir()
    kent = ("886", "Kent", "E10000016")
    write_gias(
        data / "gias_kent.csv",
        [GiasSchool("300001", "Downs Primary", la=kent, xy=("601000", "142000")).row()],
    )
    write_lsoas(data / "lsoa_trafford.geojson")
    write_population(data / "population_trafford.csv")
    write_onspd(data / "onspd_trafford.csv")
    write_national_lsoas(data / "lsoa_england.geojson", TRAFFORD_AREAS + KENT_AREAS)
    output = tmp_path / "kent.toml"
    result = init("-a", "Kent", "-d", str(data), "-o", str(output))
    assert result.exit_code == 1
    assert not output.exists()
    report = result.stdout
    for line in (
        "  lsoa_trafford.geojson (LSOA boundaries): covers Trafford, not Kent (by the area names"
        " in LSOA21NM)",
        "  population_trafford.csv (population): covers Trafford, not Kent (by the area names in"
        " area_name)",
        "  onspd_trafford.csv (postcodes): covers Trafford and Wigan, not Kent (by laua)",
        "  lsoa_england.geojson (LSOA boundaries): holds other authorities' polygons (Trafford,"
        " by LAD24CD) and cannot be cut to Kent: a county council's polygons carry its"
        " districts' codes, and Kent's districts are not known",
    ):
        assert line in report
    assert "Chosen:\n  schools: gias_kent.csv\n" in report
    assert "LSOA boundaries:" not in report.split("Not used:")[0]

    # A postcode directory with a county column names Kent's districts: the national file is
    # now cut to them (and Trafford's files are still not taken).
    (data / "onspd_kent.csv").write_text(
        "pcds,oseast1m,osnrth1m,lsoa21,laua,cty\n"
        "TN1 1AA,601000,142000,E01024001,E07000105,E10000016\n"
        "TN1 1AB,601500,142500,E01024002,E07000105,E10000016\n",
        encoding="utf-8",
    )
    result = init("-a", "Kent", "-d", str(data), "-o", str(output))
    chosen = result.stdout.split("Not used:")[0]
    assert (
        "  LSOA boundaries: lsoa_england.geojson\n    LSOA 2021 boundaries (geojson). 2 of 5"
        " polygons are Kent's (by LAD24CD). It is cut to them by LAD24CD when read (the"
        " top-level authority).\n"
    ) in chosen
    assert "  postcodes: onspd_kent.csv\n" in chosen
    assert "trafford" not in chosen


def test_a_table_of_schools_mostly_elsewhere_without_an_authority_column_is_refused(tmp_path):
    # It would be read whole (every school taken as Trafford's), so a few schools near the
    # border do not make it Trafford's.
    data = made_up_folder(tmp_path / "data")
    for extract in (data / "gias").iterdir():
        extract.unlink()
    (data / "gias" / "schools.csv").write_text(
        "urn,name,phase,easting,northing\n"
        "100001,Hill Primary,Primary,377000,390000\n"
        "200001,Far Primary,Primary,358000,405000\n"
        "200002,Farther Primary,Primary,357000,406000\n"
        "200003,Farthest Primary,Primary,356000,407000\n",
        encoding="utf-8",
    )
    result = init("-a", "Trafford", "-d", str(data), "-o", str(tmp_path / "s.toml"))
    assert result.exit_code == 1
    assert (
        "  gias/schools.csv (schools): only 1 of its 4 schools lie in Trafford's areas, and it"
        " has no authority column, so every school would be read as Trafford's"
        " (map an LA column onto 'authority', or give a file of Trafford's schools alone)"
    ) in result.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX devices and FIFOs")
def test_a_fifo_or_a_device_in_the_folder_is_passed_by_never_opened(tmp_path):
    # Opening a FIFO for reading blocks until a writer comes (for ever); /dev/zero never ends.
    # Run as a process with a time limit, so a regression fails instead of hanging the tests.
    data = made_up_folder(tmp_path / "data")
    os.mkfifo(data / "ons" / "onspd_live.csv")
    (data / "dfe" / "zeros.csv").symlink_to("/dev/zero")
    (data / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    output = tmp_path / "trafford.toml"
    done = subprocess.run(
        [sys.executable, "-m", "sitefinder", "init", "--authority", "358", "--data", str(data),
         "--output", str(output)],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Files for Trafford (E08000009, LA 358) in {data}: 10 looked")
    assert (
        "Not recognised (ignored):\n"
        "  dfe/zeros.csv: not opened: a device or socket, not a regular file\n"
        "  export.csv: binary content, not a text table\n"
        "  gone.csv: not opened: a broken symbolic link\n"
        "  notes.txt: not a comma-separated table (one column)\n"
        "  ons/onspd_live.csv: not opened: a FIFO (named pipe), not a regular file\n"
    ) in done.stdout
    assert "Traceback" not in done.stderr and f"{output}: valid." in done.stdout
