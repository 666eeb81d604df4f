"""A corpus of broken inputs, each run through the real ``sitefinder validate`` command.

A valid baseline (a Trafford GIAS extract, an ONSPD lookup, LSOA boundaries, ONS population and
the two SEN2 files, demand modelled) is built from the real public layouts in tests/layouts.py;
each case breaks one thing (or several, in different files) and pins the exact ``error:`` lines:
exit code 1, no traceback, every line naming the file, the row or column and the fix.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pytest
from layouts import (
    GIAS_HEADER,
    standard_gias,
    write_boundaries,
    write_gias,
    write_population,
    write_postcodes,
    write_sen2_caseload,
    write_sen2_needs,
)
from typer.testing import CliRunner

from sitefinder.cli import app

runner = CliRunner()


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


@dataclass
class Baseline:
    """A valid set of inputs in tmp_path and the scenario that reads them."""

    folder: Path
    gias: Path
    postcodes: Path
    boundaries: Path
    population: Path
    needs: Path
    caseload: Path
    sections: dict[str, dict[str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sections = {
            "inputs": {"postcodes": str(self.postcodes)},
            "inputs.schools": {"path": str(self.gias), "format": "gias", "authority": "Trafford"},
            "inputs.boundaries": {
                "path": str(self.boundaries),
                "code_column": "lsoa21cd",
                "name_column": "lsoa21nm",
            },
            "inputs.demand": {
                "method": "modelled",
                "population": str(self.population),
                "sen2_needs": str(self.needs),
                "sen2_caseload": str(self.caseload),
                "authority": "358",
            },
        }

    @property
    def schools(self) -> dict[str, object]:
        return self.sections["inputs.schools"]

    @property
    def demand(self) -> dict[str, object]:
        return self.sections["inputs.demand"]

    def scenario(self) -> Path:
        """Write the scenario TOML and return its path."""
        lines = ['name = "Broken inputs"']
        for name, keys in self.sections.items():
            lines.append(f"[{name}]")
            lines += [f"{key} = {_toml(value)}" for key, value in keys.items()]
        path = self.folder / "scenario.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


@pytest.fixture
def base(tmp_path: Path) -> Baseline:
    return Baseline(
        folder=tmp_path,
        gias=standard_gias(tmp_path / "gias.csv"),
        postcodes=write_postcodes(tmp_path / "onspd.csv"),
        boundaries=write_boundaries(tmp_path / "lsoa.geojson"),
        population=write_population(tmp_path / "population.csv"),
        needs=write_sen2_needs(tmp_path / "sen2_needs.csv"),
        caseload=write_sen2_caseload(tmp_path / "sen2_caseload.csv"),
    )


def errors(config: Path) -> list[str]:
    """Run ``sitefinder validate`` on ``config``; check it failed cleanly; its stderr lines."""
    result = runner.invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), lines
    return lines


def edit_gias(base: Baseline, change: Callable[[list[list[str]]], None]) -> None:
    """Rewrite the GIAS extract after ``change`` edits its rows (header first) in place."""
    with base.gias.open(encoding="cp1252", newline="") as file:
        rows = list(csv.reader(file))
    change(rows)
    with base.gias.open("w", encoding="cp1252", newline="") as file:
        csv.writer(file, lineterminator="\r\n").writerows(rows)


def column(name: str) -> int:
    return GIAS_HEADER.index(name)


def test_the_baseline_is_valid(base):
    result = runner.invoke(app, ["validate", "--config", str(base.scenario())])
    assert result.exit_code == 0, result.output
    assert (
        ": valid. 4 schools (3 mainstream, 3 eligible to host), 2 existing bases" in result.stdout
    )
    assert "error:" not in result.output


# --- the schools file (GIAS extract) --------------------------------------------------------------


def test_schools_file_missing(base):
    base.gias.unlink()
    assert errors(base.scenario()) == [
        f"error: {base.gias}: file not found (check the path in the scenario's [inputs.schools])"
    ]


def test_schools_file_empty(base):
    base.gias.write_bytes(b"")
    assert errors(base.scenario()) == [
        f"error: {base.gias}: file is empty (it needs a header row and data rows)"
    ]


def test_schools_file_header_only(base):
    write_gias(base.gias, [])
    assert errors(base.scenario()) == [f"error: {base.gias}: has a header but no data rows"]


def test_schools_file_in_an_unknown_encoding(base):
    base.gias.write_bytes(base.gias.read_bytes().replace(b"Hill Top", b"Hill\x81Top"))
    assert errors(base.scenario()) == [
        f"error: {base.gias}: cannot decode the text (save it as UTF-8)"
    ]


def test_gias_required_column_missing(base):
    def drop_status(rows: list[list[str]]) -> None:
        at = column("EstablishmentStatus (name)")
        for row in rows:
            del row[at]

    edit_gias(base, drop_status)
    assert errors(base.scenario()) == [
        f"error: {base.gias}: missing column EstablishmentStatus (name) (every GIAS extract has"
        " it: download all columns, or set format = 'mapped')"
    ]


def test_gias_unknown_authority(base):
    base.schools["authority"] = "Narnia"
    assert errors(base.scenario()) == [
        f"error: {base.gias}: no establishments for authority 'Narnia' (inputs.schools.authority"
        " matches LA (code), LA (name) or GSSLACode (name); the file has e.g. E08000009,"
        " E08000010)"
    ]


def test_gias_bad_numbers_at_their_lines_in_the_file(base):
    def spoil(rows: list[list[str]]) -> None:
        rows[1][column("SchoolCapacity")] = "four hundred"
        rows[5][column("NumberOfPupils")] = "-3"  # Meadow Primary, after the closed school

    edit_gias(base, spoil)
    assert errors(base.scenario()) == [
        f"error: {base.gias}: column SchoolCapacity, line 2: not a number (write digits only)",
        f"error: {base.gias}: column NumberOfPupils, line 6: must be >= 0",
    ]


def test_gias_duplicate_urn(base):
    edit_gias(base, lambda rows: rows[2].__setitem__(0, "100001"))
    assert errors(base.scenario()) == [
        f"error: {base.gias}: column URN, line 3: duplicate value (each must appear once)"
    ]


def test_gias_no_coordinates_and_unknown_postcode(base):
    def unplace(rows: list[list[str]]) -> None:
        rows[5][column("Postcode")] = "QQ1 1QQ"  # Meadow Primary: blank Easting/Northing

    edit_gias(base, unplace)
    assert errors(base.scenario()) == [
        f"error: {base.gias}: column Easting/Northing, line 6: no coordinates and the postcode"
        " was not found (fill them in, or fix the postcode)"
    ]


def test_gias_unknown_establishment_type(base):
    edit_gias(base, lambda rows: rows[1].__setitem__(column("EstablishmentTypeGroup (name)"), "X"))
    assert errors(base.scenario()) == [
        f"error: {base.gias}: column EstablishmentTypeGroup (name), line 2: unknown establishment"
        " type; map it in [inputs.schools.values.establishment_group] to one of mainstream,"
        " special, independent, pru, other"
    ]


def test_mapped_format_with_an_unknown_field(base):
    base.schools.update(
        format="mapped",
        columns={"urn": "URN", "name": "EstablishmentName", "school_name": "EstablishmentName"},
    )
    assert errors(base.scenario()) == [
        f"error: {base.gias}: inputs.schools.columns: unknown field(s) school_name (map onto urn,"
        " name, status, authority, la_code, la_name, la_gss, establishment_group,"
        " establishment_type, establishment_number, phase, gender, admissions_policy,"
        " statutory_low_age, statutory_high_age, low_age, high_age, capacity, pupils,"
        " ehcp_pupils, postcode, easting, northing, lon, lat, base_type, base_capacity,"
        " base_need_codes)"
    ]


# --- boundaries, postcodes ------------------------------------------------------------------------


def test_boundaries_without_a_coordinate_system(base):
    shapefile = base.folder / "lsoa.shp"
    polygons = gpd.read_file(base.boundaries).to_crs(27700)
    polygons.to_file(shapefile)
    shapefile.with_suffix(".prj").unlink()  # a Shapefile sent without its .prj
    base.sections["inputs.boundaries"]["path"] = str(shapefile)
    assert errors(base.scenario()) == [
        f"error: {shapefile}: has no coordinate reference system (save it with one, e.g."
        " EPSG:27700 or EPSG:4326; a Shapefile needs its .prj file)"
    ]


def test_boundaries_wrong_code_column(base):
    base.sections["inputs.boundaries"]["code_column"] = "LSOA21CD"
    assert errors(base.scenario()) == [
        f"error: {base.boundaries}: missing column LSOA21CD (set inputs.boundaries.code_column and"
        " name_column; the file has: lsoa21cd, lsoa21nm)"
    ]


# Without the lookup, schools fall back to the packaged ONSPD, whose loader uses a deprecated
# pandas call (a warning only, hidden outside the tests).
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_postcodes_without_coordinates(base):
    base.postcodes.write_text("pcds,lsoa21\nZZ9 9ZZ,E01000001\n", encoding="utf-8")
    # without the lookup, the school with blank Easting/Northing cannot be placed either
    assert errors(base.scenario()) == [
        f"error: {base.postcodes}: needs a postcode column (pcds, pcd or postcode) and coordinates"
        " (oseast1m/osnrth1m, easting/northing or lon/lat) as in the ONS Postcode Directory",
        f"error: {base.gias}: column Easting/Northing, line 6: no coordinates and the postcode"
        " was not found (fill them in, or fix the postcode)",
    ]


# --- demand: population, SEN2, pupil lists --------------------------------------------------------


def test_population_without_age_columns(base):
    base.population.write_text("area_code,all_ages\nE01000001,100\n", encoding="utf-8")
    assert errors(base.scenario()) == [
        f"error: {base.population}: needs an area code column (area_code or LSOA21CD) and one"
        " column per single year of age (0, 1, 2, ... as in the ONS mid-year estimates)"
    ]


def test_population_bad_count_at_its_line_in_the_file(base):
    lines = base.population.read_text().splitlines()
    cells = lines[4].split(",")  # E01000002 Persons, after E01000001's Females and Males rows
    cells[6 + 7] = "n/a"  # age 7
    lines[4] = ",".join(cells)
    base.population.write_text("\n".join(lines) + "\n")
    assert errors(base.scenario()) == [
        f"error: {base.population}: column 7 (age 7), line 5: not a number (write digits only)"
    ]


def test_sen2_needs_of_another_authority(base):
    text = base.needs.read_bytes().replace(b"E08000009,358,Trafford", b"E08000010,359,Wigan")
    base.needs.write_bytes(text)
    assert errors(base.scenario()) == [
        f"error: {base.needs}: no rows for authority '358' (inputs.demand.authority matches"
        " new_la_code, old_la_code or la_name, e.g. E08000009, 358 or Trafford; or England)"
    ]


def test_sen2_unknown_authority_reported_for_both_files(base):
    base.demand["authority"] = "Narnia"
    assert errors(base.scenario()) == [
        f"error: {path}: no rows for authority 'Narnia' (inputs.demand.authority matches"
        " new_la_code, old_la_code or la_name, e.g. E08000009, 358 or Trafford; or England)"
        for path in (base.needs, base.caseload)
    ]


def test_sen2_needs_without_age_rows(base):
    rows = base.needs.read_bytes().split(b"\n")
    base.needs.write_bytes(b"\n".join(row for row in rows if b"persons age" not in row))
    assert errors(base.scenario()) == [
        f"error: {base.needs}: needs 'All EHC plans' and 'Child or young persons age' rows for"
        " 202425 (use the release's sen_needs file)"
    ]


def test_sen2_period_that_is_not_a_period(base):
    text = base.caseload.read_text().splitlines()
    text[3] = text[3].replace("202122", "2021/22", 1)  # line 4 of the file
    base.caseload.write_text("\n".join(text) + "\n")
    assert errors(base.scenario()) == [
        f"error: {base.caseload}: column time_period, line 4: '2021/22' is not a SEN2 period (an"
        " academic year such as 202425, for January 2025; use the release's file unedited)"
    ]


def test_sen2_age_label_without_digits(base):
    text = base.needs.read_text(encoding="utf-8-sig").replace(",under 3,", ",under three,")
    base.needs.write_text(text, encoding="utf-8")
    assert errors(base.scenario()) == [
        f"error: {base.needs}: column breakdown, line 3: unexpected age label 'under three' in"
        " the 'Child or young persons age' rows (expected 'under 3', 'age 3' ... 'age 25', 'age"
        " 20 and over' or 'Total')"
    ]


def test_sen2_caseload_without_englands_rows(base):
    rows = base.caseload.read_text().splitlines()
    base.caseload.write_text("\n".join(r for r in rows if ",National," not in r) + "\n")
    assert errors(base.scenario()) == [
        f"error: {base.caseload}: share = 'higher' needs England's rows (geographic_level"
        " National) in the caseload file: use the release's file for all authorities, unedited,"
        ' or set inputs.demand.share = "authority" or a fraction'
    ]


def test_share_that_is_not_a_share(base):
    base.demand["share"] = "median"
    config = base.scenario()
    assert errors(config) == [
        f"error: {config}: inputs.demand.share: 'median' is not a share: use \"higher\","
        ' "authority", "england", a fraction (e.g. 0.05) or fractions by phase ({ primary ='
        " 0.05, secondary = 0.03 })"
    ]


def test_sen2_caseload_missing_ehcplans(base):
    base.caseload.write_text(base.caseload.read_text().replace(",ehcplans,", ",ehc_plans,"))
    assert errors(base.scenario()) == [
        f"error: {base.caseload}: missing column ehcplans (inputs.demand.sen2_caseload takes the"
        " caseload CSV of the DfE 'Education, health and care plans' release, unedited; the file"
        " has: time_period, time_identifier, geographic_level, country_code, country_name,"
        " region_code, region_name, new_la_code, old_la_code, la_name, breakdown_topic,"
        " breakdown, ehc_plans, mainstream_la_maintained_resourced_provision,"
        " mainstream_la_maintained_senunit, mainstream_academy_resourced_provision,"
        " mainstream_academy_senunit, mainstream_free_school_resourced_provision,"
        " mainstream_free_school_senunit)"
    ]


def test_pupil_list_unknown_need_and_blank_postcode(base):
    pupils = base.folder / "pupils.csv"
    pupils.write_text(
        "pupil_id,postcode,primary_need,age\n"
        "p1,ZZ1 1AA,Dyslexia,7\n"
        "p2,,ASD,9\n"
        "p3,ZZ2 2BB,SEMH,12\n",
        encoding="utf-8",
    )
    base.sections["inputs.demand"] = {"method": "pupils", "path": str(pupils)}
    assert errors(base.scenario()) == [
        f"error: {pupils}: column primary_need, line 2: unknown need; use a code (ASD, SLCN,"
        " SEMH, MLD, SLD, PMLD, SpLD, HI, VI, MSI, PD, OTH)",
        f"error: {pupils}: column postcode, line 3: blank postcode (fill in the child's home"
        " postcode)",
    ]


# --- the scenario file ----------------------------------------------------------------------------


def test_unset_environment_variable_in_a_path(base, monkeypatch):
    monkeypatch.delenv("SITEFINDER_BROKEN_UNSET", raising=False)
    base.schools["path"] = "${SITEFINDER_BROKEN_UNSET}/gias.csv"
    config = base.scenario()
    assert errors(config) == [
        f"error: {config}: inputs.schools.path: environment variable SITEFINDER_BROKEN_UNSET is"
        " not set (set it, or write the path out in full)"
    ]


def test_modelled_demand_without_population(base):
    del base.demand["population"]
    config = base.scenario()
    assert errors(config) == [
        f"error: {config}: inputs.demand.population: required for method 'modelled'"
    ]


def test_share_above_one(base):
    base.demand["share"] = 1.5
    config = base.scenario()
    assert errors(config) == [f"error: {config}: inputs.demand.share: must be <= 1"]


def test_unknown_schools_format(base):
    base.schools["format"] = "edubase"
    config = base.scenario()
    assert errors(config) == [
        f"error: {config}: inputs.schools.format: must be one of 'sitefinder', 'gias' or 'mapped'"
    ]


# --- several problems at once ---------------------------------------------------------------------


def test_problems_in_several_files_reported_in_one_run(base):
    edit_gias(base, lambda rows: rows[1].__setitem__(column("SchoolCapacity"), "-5"))
    base.sections["inputs.boundaries"]["name_column"] = "LSOA21NM"
    base.population.write_text("area_code,all_ages\nE01000001,100\n", encoding="utf-8")
    base.caseload.write_bytes(b"")
    assert errors(base.scenario()) == [
        f"error: {base.gias}: column SchoolCapacity, line 2: must be >= 0",
        f"error: {base.boundaries}: missing column LSOA21NM (set inputs.boundaries.code_column and"
        " name_column; the file has: lsoa21cd, lsoa21nm)",
        f"error: {base.population}: needs an area code column (area_code or LSOA21CD) and one"
        " column per single year of age (0, 1, 2, ... as in the ONS mid-year estimates)",
        f"error: {base.caseload}: file is empty (it needs a header row and data rows)",
    ]


def test_several_scenario_problems_reported_in_one_run(base):
    base.schools["format"] = "edubase"
    base.schools["default_base_capacity"] = 0
    base.demand["share"] = 1.5
    config = base.scenario()
    assert errors(config) == [
        f"error: {config}: inputs.schools.format: must be one of 'sitefinder', 'gias' or 'mapped'",
        f"error: {config}: inputs.schools.default_base_capacity: must be > 0",
        f"error: {config}: inputs.demand.share: must be <= 1",
    ]
