"""A corpus of broken inputs, scenarios, command lines and environments.

Each case breaks one thing (or several, in different files) in a valid baseline and pins the
exact ``error:`` lines and the exit code of the real ``sitefinder`` command, run in-process:
1 for bad data, scenarios, environments and outputs; 2 for command-line mistakes. No case may
end in a traceback, and every line names the file, row, column, key or flag and the fix.

Two baselines, both valid: ``gias`` (a Trafford GIAS extract, an ONSPD lookup, LSOA
boundaries, ONS population and the two SEN2 files, demand modelled; tests/layouts.py writes
them in the real public layouts) and ``demo`` (a copy of the bundled demo authority in
sitefinder's own CSV layout, with its road network).
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from layouts import (
    GIAS_HEADER,
    standard_gias,
    write_boundaries,
    write_gias,
    write_ons_lsoa_code,
    write_ons_sexes_in_columns,
    write_population,
    write_postcodes,
    write_sen2_caseload,
    write_sen2_needs,
)
from typer.testing import CliRunner

from sitefinder.cli import MAX_SHOWN, app
from sitefinder.resources import bundled_root

runner = CliRunner()
DEMO = bundled_root() / "data" / "demo"
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX devices and FIFOs")


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str | int | float):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


@dataclass
class Baseline:
    """A valid set of inputs in ``folder`` and the scenario that reads them."""

    folder: Path
    layout: str
    files: dict[str, Path]
    sections: dict[str, dict[str, object]] = field(default_factory=dict)
    written: Path | None = None  # a scenario file a case wrote itself
    env: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Path:
        files = self.__dict__.get("files", {})
        if name in files:
            return files[name]
        raise AttributeError(name)

    @property
    def config(self) -> Path:
        return self.written or self.folder / "scenario.toml"

    def scenario(self) -> Path:
        """Write the scenario TOML (unless a case wrote its own) and return its path."""
        if self.written is not None:
            return self.written
        lines = ['name = "Broken inputs"']
        for name, keys in self.sections.items():
            if name:
                lines.append(f"[{name}]")
            lines += [f"{key} = {_toml(value)}" for key, value in keys.items()]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self.config


def gias_baseline(folder: Path) -> Baseline:
    files = {
        "gias": standard_gias(folder / "gias.csv"),
        "postcodes": write_postcodes(folder / "onspd.csv"),
        "boundaries": write_boundaries(folder / "lsoa.geojson"),
        "population": write_population(folder / "population.csv"),
        "needs": write_sen2_needs(folder / "sen2_needs.csv"),
        "caseload": write_sen2_caseload(folder / "sen2_caseload.csv"),
    }
    base = Baseline(folder, "gias", files)
    base.sections = {
        "inputs": {"postcodes": str(files["postcodes"])},
        "inputs.schools": {"path": str(files["gias"]), "format": "gias", "authority": "Trafford"},
        "inputs.boundaries": {
            "path": str(files["boundaries"]),
            "code_column": "lsoa21cd",
            "name_column": "lsoa21nm",
        },
        "inputs.demand": {
            "method": "modelled",
            "population": str(files["population"]),
            "sen2_needs": str(files["needs"]),
            "sen2_caseload": str(files["caseload"]),
            "authority": "358",
        },
    }
    return base


def demo_baseline(folder: Path) -> Baseline:
    names = ("schools.csv", "bases.csv", "areas.csv", "demand.csv", "roads.osm.pbf")
    files = {name.split(".")[0]: shutil.copy(DEMO / name, folder / name) for name in names}
    files = {key: Path(path) for key, path in files.items()}
    base = Baseline(folder, "demo", files)
    base.sections = {
        "inputs": {key: str(files[key]) for key in ("schools", "bases", "areas", "demand")},
        "journey": {"method": "crowfly"},
    }
    return base


@pytest.fixture
def base(tmp_path: Path) -> Baseline:
    return gias_baseline(tmp_path)


@pytest.fixture
def demo(tmp_path: Path) -> Baseline:
    return demo_baseline(tmp_path)


def invoke(args: list[str], env: dict[str, str] | None = None):
    result = runner.invoke(app, args, env=env)
    # not a crash: a clean exit (None for 0, SystemExit otherwise)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def errors(config: Path, code: int = 1) -> list[str]:
    """Run ``sitefinder validate`` on ``config``; check it failed cleanly; its stderr lines."""
    result = invoke(["validate", "--config", str(config)])
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), lines
    return lines


# --- helpers that break one thing ----------------------------------------------------------------

Edit = Callable[[Baseline], object]
Expect = Callable[[Baseline], list[str]]


def edit_csv(key: str, change: Callable[[list[list[str]]], object], encoding: str = "utf-8"):
    """Rewrite the CSV ``key`` after ``change`` edits its rows (header first) in place."""

    def edit(base: Baseline) -> None:
        path = base.files[key]
        encoding_used = "cp1252" if key == "gias" else encoding
        with path.open(encoding=encoding_used, newline="") as file:
            rows = list(csv.reader(file))
        change(rows)
        with path.open("w", encoding=encoding_used, newline="") as file:
            csv.writer(file, lineterminator="\r\n" if key == "gias" else "\n").writerows(rows)

    return edit


def cell(key: str, row: int, column: str | int, value: str) -> Edit:
    """Set one cell: ``row`` counts data rows from 1, ``column`` by name or index."""

    def change(rows: list[list[str]]) -> None:
        at = rows[0].index(column) if isinstance(column, str) else column
        rows[row][at] = value

    return edit_csv(key, change)


def replace(key: str, old: bytes, new: bytes) -> Edit:
    def edit(base: Baseline) -> None:
        path = base.files[key]
        data = path.read_bytes()
        assert old in data, old
        path.write_bytes(data.replace(old, new))

    return edit


def content(key: str, data: bytes | Callable[[bytes], bytes]) -> Edit:
    def edit(base: Baseline) -> None:
        path = base.files[key]
        path.write_bytes(data(path.read_bytes()) if callable(data) else data)

    return edit


def setting(section: str, key: str, value: object) -> Edit:
    def edit(base: Baseline) -> None:
        base.sections.setdefault(section, {})[key] = value

    return edit


def unset(section: str, key: str) -> Edit:
    return lambda base: base.sections[section].pop(key)


def scenario_text(text: str | bytes) -> Edit:
    """Replace the scenario file with ``text``."""

    def edit(base: Baseline) -> None:
        base.written = base.folder / "own.toml"
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        base.written.write_bytes(data)

    return edit


def both(*edits: Edit) -> Edit:
    def edit(base: Baseline) -> None:
        for one in edits:
            one(base)

    return edit


def utf16(base: Baseline, key: str) -> None:
    path = base.files[key]
    text = path.read_bytes().decode("cp1252" if key == "gias" else "utf-8-sig")
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))


@dataclass(frozen=True)
class Case:
    """One broken input: what to break, the exact error lines, the command and exit code."""

    name: str
    edit: Edit
    expected: Expect
    layout: str = "gias"
    argv: Callable[[Baseline], list[str]] | None = None
    code: int = 1


def run_case(case: Case, folder: Path) -> None:
    base = (gias_baseline if case.layout == "gias" else demo_baseline)(folder)
    case.edit(base)
    config = base.scenario()
    args = case.argv(base) if case.argv else ["validate", "--config", str(config)]
    result = invoke(args, env=base.env or None)
    assert result.exit_code == case.code, result.output
    lines = result.stderr.splitlines()
    problems = [line for line in lines if not line.startswith(("note: ", "warning: "))]
    assert problems == case.expected(base)
    assert all(line.startswith("error: ") for line in problems)


# --- the schools file (GIAS extract) -------------------------------------------------------------

GIAS_CASES = [
    Case(
        "gias missing",
        lambda b: b.gias.unlink(),
        lambda b: [
            f"error: {b.gias}: file not found (check the path in the scenario's [inputs.schools])"
        ],
    ),
    Case(
        "gias is a folder",
        lambda b: (b.gias.unlink(), b.gias.mkdir()),
        lambda b: [
            f"error: {b.gias}: is a folder, device or pipe, not a regular file (check the path)"
        ],
    ),
    Case(
        "gias empty",
        content("gias", b""),
        lambda b: [f"error: {b.gias}: file is empty (it needs a header row and data rows)"],
    ),
    Case(
        "gias header only",
        lambda b: write_gias(b.gias, []),
        lambda b: [f"error: {b.gias}: has a header but no data rows"],
    ),
    Case(
        "gias undecodable byte",
        replace("gias", b"Hill Top", b"Hill\x81Top"),
        lambda b: [
            f"error: {b.gias}: cannot decode the text at line 3 (byte 0x81); save it as UTF-8"
            " or Windows-1252 CSV"
        ],
    ),
    Case(
        "gias UTF-16 with a byte-order mark",
        lambda b: utf16(b, "gias"),
        lambda b: [
            f"error: {b.gias}: is UTF-16 text (as Excel's 'Unicode text' saves it); save it as"
            " UTF-8 or Windows-1252 CSV"
        ],
    ),
    Case(
        "gias UTF-16 without a byte-order mark",
        content("gias", lambda data: data.decode("cp1252").encode("utf-16-le")),
        lambda b: [
            f"error: {b.gias}: contains NUL bytes (a binary file, or UTF-16 text without a"
            " byte-order mark); save it as UTF-8 or Windows-1252 CSV"
        ],
    ),
    Case(
        "gias binary",
        content("gias", bytes(range(256)) * 4),
        lambda b: [
            f"error: {b.gias}: contains NUL bytes (a binary file, or UTF-16 text without a"
            " byte-order mark); save it as UTF-8 or Windows-1252 CSV"
        ],
    ),
    Case(
        "gias saved as an Excel workbook",
        content("gias", b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml" * 10),
        lambda b: [
            f"error: {b.gias}: is a spreadsheet workbook or a zip file, not CSV text; save it"
            " as UTF-8 or Windows-1252 CSV"
        ],
    ),
    Case(
        "gias required column missing",
        edit_csv(
            "gias",
            lambda rows: [row.pop(GIAS_HEADER.index("EstablishmentStatus (name)")) for row in rows],
        ),
        lambda b: [
            f"error: {b.gias}: missing column EstablishmentStatus (name) (every GIAS extract has"
            " it: download all columns, or set format = 'mapped')"
        ],
    ),
    Case(
        "gias duplicate column header",
        cell("gias", 0, "SENStat", "URN"),
        lambda b: [
            f"error: {b.gias}: column URN appears 2 times in the header (columns 1 and 36);"
            " rename or remove the copies, as only one can be read"
        ],
    ),
    Case(
        "gias cut mid-row",
        content("gias", lambda data: data[: data.rindex(b"Elsewhere") + 4]),
        lambda b: [
            f"error: {b.gias}: ends in the middle of line 7 (5 of the header's 36 fields): the"
            " file looks cut short; download or export it again"
        ],
    ),
    Case(
        "gias one row with an extra field",
        edit_csv("gias", lambda rows: rows[2].append("stray")),
        lambda b: [
            f"error: {b.gias}: line 3 has 37 fields but the header has 36 (a value with an"
            " unquoted comma?); fix that row"
        ],
    ),
    Case(
        "gias first row with an extra field (pandas would shift every column)",
        edit_csv("gias", lambda rows: rows[1].insert(5, "Trafford, Greater Manchester")),
        lambda b: [
            f"error: {b.gias}: line 2 has 37 fields but the header has 36 (a value with an"
            " unquoted comma?); fix that row"
        ],
    ),
    Case(
        "gias row broken over two lines",
        edit_csv(
            "gias", lambda rows: rows.insert(3, rows[3][:20]) or rows.__setitem__(4, rows[4][20:])
        ),
        lambda b: [
            f"error: {b.gias}: lines 4, 5 have a different number of fields from the header's 36"
            " (values with unquoted commas, or rows broken over lines?); fix those rows"
        ],
    ),
    Case(
        "gias saved by a European Excel (semicolons, not commas)",
        content(
            "gias",
            lambda data: b"\r\n".join(
                ";".join(row).encode("cp1252")
                for row in csv.reader(data.decode("cp1252").splitlines())
            ),
        ),
        lambda b: [
            f"error: {b.gias}: is separated by semicolons, not commas (its header at line 1 reads"
            " URN;LA (code);LA (name);..., as Excel saves CSV under European settings); save it"
            " again as 'CSV UTF-8 (Comma delimited)', or with the list separator set to a comma"
        ],
    ),
    Case(
        "gias unknown authority",
        setting("inputs.schools", "authority", "Narnia"),
        lambda b: [
            f"error: {b.gias}: no establishments for authority 'Narnia' (inputs.schools.authority"
            " matches LA (code), LA (name) or GSSLACode (name); the file has e.g. E08000009,"
            " E08000010)"
        ],
    ),
    Case(
        "gias bad numbers at their lines in the file",
        both(
            cell("gias", 1, "SchoolCapacity", "four hundred"),
            cell("gias", 5, "NumberOfPupils", "-3"),
        ),
        lambda b: [
            f"error: {b.gias}: column SchoolCapacity, line 2: not a number (write digits only)",
            f"error: {b.gias}: column NumberOfPupils, line 6: must be >= 0",
        ],
    ),
    Case(
        "gias capacity inf",
        cell("gias", 1, "SchoolCapacity", "inf"),
        lambda b: [
            f"error: {b.gias}: column SchoolCapacity, line 2: not a finite number (write digits"
            " only)"
        ],
    ),
    Case(
        "gias pupils 1e300",
        cell("gias", 2, "NumberOfPupils", "1e300"),
        lambda b: [
            f"error: {b.gias}: column NumberOfPupils, line 3: must be <= 10,000,000 (surely a"
            " mistake)"
        ],
    ),
    Case(
        "gias pupils overflowing to inf",
        cell("gias", 2, "NumberOfPupils", "1e400"),
        lambda b: [
            f"error: {b.gias}: column NumberOfPupils, line 3: not a finite number (write digits"
            " only)"
        ],
    ),
    Case(
        "gias pupils nan",
        cell("gias", 2, "NumberOfPupils", "NaN"),
        lambda b: [
            f"error: {b.gias}: column NumberOfPupils, line 3: not a finite number (write digits"
            " only)"
        ],
    ),
    Case(
        "gias SEN unit capacity inf",
        cell("gias", 1, "SenUnitCapacity", "inf"),
        lambda b: [
            f"error: {b.gias}: column SenUnitCapacity, line 2: not a finite number (write digits"
            " only)"
        ],
    ),
    Case(
        "gias resourced provision capacity 1e6",
        cell("gias", 2, "ResourcedProvisionCapacity", "1000000"),
        lambda b: [
            f"error: {b.gias}: column ResourcedProvisionCapacity, line 3: must be from 0 to 500"
        ],
    ),
    Case(
        "gias SENStat negative",
        cell("gias", 2, "SENStat", "-4"),
        lambda b: [f"error: {b.gias}: column SENStat, line 3: must be >= 0"],
    ),
    Case(
        "gias statutory age text",
        cell("gias", 2, "StatutoryLowAge", "eleven"),
        lambda b: [
            f"error: {b.gias}: column StatutoryLowAge, line 3: not a number (write digits only)"
        ],
    ),
    Case(
        "gias duplicate URN",
        cell("gias", 2, "URN", "100001"),
        lambda b: [f"error: {b.gias}: column URN, line 3: duplicate value (each must appear once)"],
    ),
    Case(
        "gias blank URN",
        cell("gias", 2, "URN", ""),
        lambda b: [
            f"error: {b.gias}: column URN, line 3: blank value (every school needs its URN)"
        ],
    ),
    Case(
        "gias no coordinates and unknown postcode",
        cell("gias", 5, "Postcode", "QQ1 1QQ"),
        lambda b: [
            f"error: {b.gias}: column Easting/Northing, line 6: no coordinates and the postcode"
            " was not found (fill them in, or fix the postcode)"
        ],
    ),
    Case(
        "gias easting inf",
        cell("gias", 1, "Easting", "inf"),
        lambda b: [
            f"error: {b.gias}: column Easting, line 2: not a finite number (write digits only)"
        ],
    ),
    Case(
        "gias northing in the easting column",
        both(cell("gias", 1, "Easting", "900000"), cell("gias", 1, "Northing", "377000")),
        lambda b: [
            f"error: {b.gias}: column Easting/Northing, line 2: the two numbers look swapped"
            " (Easting is the smaller, 0-700,000 metres; Northing 0-1,300,000): exchange them"
        ],
    ),
    Case(
        "gias easting outside Great Britain",
        cell("gias", 2, "Easting", "7500000"),
        lambda b: [
            f"error: {b.gias}: column Easting/Northing, line 3: outside Great Britain in"
            " EPSG:27700 metres (check the coordinate system)"
        ],
    ),
    Case(
        "gias longitude/latitude in Easting/Northing",
        edit_csv(
            "gias",
            lambda rows: [r.__setitem__(slice(-3, -1), ["-2.35", "53.41"]) for r in rows[1:]],
        ),
        lambda b: [
            f"error: {b.gias}: columns Easting/Northing look like longitude/latitude;"
            " sitefinder needs British National Grid metres (EPSG:27700): convert them first"
        ],
    ),
    Case(
        "gias unknown establishment type",
        cell("gias", 1, "EstablishmentTypeGroup (name)", "X"),
        lambda b: [
            f"error: {b.gias}: column EstablishmentTypeGroup (name), line 2: unknown"
            " establishment type; map it in [inputs.schools.values.establishment_group] to one"
            " of mainstream, special, independent, pru, other"
        ],
    ),
    Case(
        "gias unknown provision type",
        cell("gias", 1, "TypeOfResourcedProvision (name)", "Hub"),
        lambda b: [
            f"error: {b.gias}: column TypeOfResourcedProvision (name), line 2: unknown provision"
            " type; map it in [inputs.schools.values.base_type] to resourced_provision,"
            " sen_unit, both or none"
        ],
    ),
    Case(
        "mapped format with an unknown field",
        both(
            setting("inputs.schools", "format", "mapped"),
            setting(
                "inputs.schools",
                "columns",
                {"urn": "URN", "name": "EstablishmentName", "school_name": "EstablishmentName"},
            ),
        ),
        lambda b: [
            f"error: {b.gias}: inputs.schools.columns: unknown field(s) school_name (map onto"
            " urn, name, status, authority, la_code, la_name, la_gss, establishment_group,"
            " establishment_type, establishment_number, phase, gender, admissions_policy,"
            " statutory_low_age, statutory_high_age, low_age, high_age, capacity, pupils,"
            " ehcp_pupils, postcode, easting, northing, lon, lat, base_type, base_capacity,"
            " base_need_codes, special_places)"
        ],
    ),
    Case(
        "mapped format naming a column the file lacks",
        both(
            setting("inputs.schools", "format", "mapped"),
            setting("inputs.schools", "columns", {"urn": "URN", "name": "SchoolName"}),
        ),
        lambda b: [
            f"error: {b.gias}: missing column SchoolName (named in [inputs.schools.columns])"
        ],
    ),
    Case(
        "mapped lon/lat the wrong way round",
        both(
            lambda b: b.gias.write_text(
                "urn,name,lon,lat\n100001,A School,53.41,-2.35\n100002,B School,-2.34,53.40\n"
            ),
            setting("inputs.schools", "format", "mapped"),
            unset("inputs.schools", "authority"),
            setting(
                "inputs.schools",
                "columns",
                {"urn": "urn", "name": "name", "lon": "lon", "lat": "lat"},
            ),
        ),
        lambda b: [
            f"error: {b.gias}: column lon/lat, line 2: the two numbers look swapped (lon is the"
            " longitude, about -8 to 2 in Great Britain; lat the latitude, about 50 to 61):"
            " exchange them"
        ],
    ),
    Case(
        "mapped lon/lat outside Great Britain",
        both(
            lambda b: b.gias.write_text("urn,name,lon,lat\n100001,A School,2.35,48.85\n"),
            setting("inputs.schools", "format", "mapped"),
            unset("inputs.schools", "authority"),
            setting(
                "inputs.schools",
                "columns",
                {"urn": "urn", "name": "name", "lon": "lon", "lat": "lat"},
            ),
        ),
        lambda b: [
            f"error: {b.gias}: column lon/lat, line 2: not a place in Great Britain in"
            " longitude/latitude degrees (WGS84): check the coordinate system"
        ],
    ),
]


# --- boundaries, postcodes, population, SEN2, pupils ---------------------------------------------


def _boundaries(base: Baseline, change: Callable[[dict], object]) -> None:
    data = json.loads(base.boundaries.read_text())
    change(data)
    base.boundaries.write_text(json.dumps(data))


def _shapefile_without_prj(base: Baseline) -> None:
    shapefile = base.folder / "lsoa.shp"
    gpd.read_file(base.boundaries).to_crs(27700).to_file(shapefile)
    shapefile.with_suffix(".prj").unlink()  # a Shapefile sent without its .prj
    base.sections["inputs.boundaries"]["path"] = str(shapefile)


def _labelled(base: Baseline, crs: str, to: int | None = None) -> None:
    # Coordinates kept, only the coordinate system label changed: a file saved wrongly.
    frame = gpd.read_file(base.boundaries)
    if to is not None:
        frame = frame.to_crs(to)
    path = base.folder / "labelled.gpkg"
    frame.set_crs(crs, allow_override=True).to_file(path)
    base.sections["inputs.boundaries"]["path"] = str(path)


def _layers(base: Baseline, key: str, section: str, layers: dict[str, slice | None]) -> Path:
    """Write ``key``'s features to a GeoPackage of ``layers`` (name: rows, None for a table
    without shapes) and point ``section`` at it."""
    if key == "schools":
        table = pd.read_csv(base.schools, dtype=str, keep_default_na=False)
        xy = gpd.points_from_xy(table["easting"].astype(float), table["northing"].astype(float))
        frame = gpd.GeoDataFrame(table, geometry=xy, crs=27700)
    else:
        frame = gpd.read_file(base.files[key])
    path = base.folder / f"{key}.gpkg"
    for name, rows in layers.items():
        if rows is None:  # a non-spatial table, as QGIS keeps its styles in layer_styles
            table = pd.DataFrame({"styleName": ["default"]})
            pyogrio.write_dataframe(table, path, layer=name, append=path.exists())
        else:
            frame.iloc[rows].to_file(path, layer=name, mode="a" if path.exists() else "w")
    if section == "inputs" and key == "schools":
        base.sections["inputs"].pop("schools")
        columns = {"urn": "urn", "name": "name", "phase": "phase"}
        base.sections["inputs.schools"] = {"path": str(path), "format": "mapped"}
        base.sections["inputs.schools"]["columns"] = columns
    else:
        base.sections[section]["path"] = str(path)
    return path


def _areas_in_france(base: Baseline) -> None:
    def move(data: dict) -> None:
        for feature in data["features"]:
            ring = feature["geometry"]["coordinates"][0]
            feature["geometry"]["coordinates"][0] = [[x + 4.7, y - 4.6] for x, y in ring]

    _boundaries(base, move)


def _population_row(column: int, value: str) -> Edit:
    def edit(base: Baseline) -> None:
        lines = base.population.read_text().splitlines()
        cells = lines[4].split(",")  # E01000002 Persons, after E01000001's Females and Males
        cells[6 + column] = value
        lines[4] = ",".join(cells)
        base.population.write_text("\n".join(lines) + "\n")

    return edit


def _nomis_titles(base: Baseline) -> None:
    # A Nomis download: title lines above the header, a blank line, a note below the table;
    # its area codes in a column the reader does not know, so its header is not found (one it
    # knows is read past its titles: tests/test_population_layouts.py).
    text = base.population.read_text(encoding="utf-8").replace("area_code", "mnemonic", 1)
    base.population.write_text(
        '"Population estimates - small area based by single year of age"\n'
        '"ONS Crown Copyright Reserved [from Nomis on 7 December 2025]"\n'
        '"geography: 2021 super output areas - lower layer"\n\n'
        + text
        + '\n"Figures may not sum because of rounding"\n',
        encoding="utf-8",
    )


def _population_rows(keep: Callable[[str], bool]) -> Edit:
    def edit(base: Baseline) -> None:
        lines = base.population.read_text().splitlines()
        base.population.write_text("\n".join(lines[:1] + [x for x in lines[1:] if keep(x)]) + "\n")

    return edit


def _workbook_titles(key: str, *titles: str) -> Edit:
    # A sheet of a workbook saved as CSV: its title lines above the table, one cell each.
    return content(key, lambda data: "".join(f"{t}\r\n" for t in titles).encode() + data)


def _females_columns_only(base: Baseline) -> None:
    lines = write_ons_sexes_in_columns(base.population).read_text().splitlines()
    base.population.write_text("\n".join(",".join(x.split(",")[: 5 + 91]) for x in lines) + "\n")


def _pupils(text: str) -> Edit:
    def edit(base: Baseline) -> None:
        pupils = base.folder / "pupils.csv"
        pupils.write_text(text, encoding="utf-8")
        base.files["pupils"] = pupils
        base.sections["inputs.demand"] = {"method": "pupils", "path": str(pupils)}

    return edit


# Schools without coordinates fall back to the packaged ONSPD, whose loader uses a deprecated
# pandas call (a warning only, hidden outside the tests).
_PACKAGED_ONSPD = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")

_SEN2_AUTHORITY = (
    "(inputs.demand.authority matches new_la_code, old_la_code or la_name, e.g. E08000009,"
    " 358 or Trafford; or England)"
)

OTHER_FILE_CASES = [
    Case(
        "population downloaded from Nomis with title lines above an unknown header",
        _nomis_titles,
        lambda b: [
            f"error: {b.population}: starts with title lines above the table (its 97 column names"
            " are at line 5, as Nomis downloads come); delete the lines above them and any notes"
            " below the table, or download the data as a plain CSV"
        ],
    ),
    Case(
        "population of females only",
        _population_rows(lambda line: ",Females," in line),
        lambda b: [
            f"error: {b.population}: column sex has rows for females only: persons are needed"
            " (Persons rows, or both Females and Males rows to add together); use the file as"
            " ONS publish it"
        ],
    ),
    Case(
        "population of an area without its males",
        _population_rows(
            lambda line: ",Persons," not in line and "E01000002,LSOA,Males" not in line
        ),
        lambda b: [
            f"error: {b.population}: column sex: 1 area(s) have rows for one sex but not the other"
            " (E01000002); each area needs both Females and Males rows, or a Persons row"
        ],
    ),
    Case(
        "population of a sex the estimates do not give",
        replace("population", b",Males,", b",Other,"),
        lambda b: [
            f"error: {b.population}: column sex, lines 4, 7: 'Other' is not a sex the estimates"
            " give (Persons, Females or Males)"
        ],
    ),
    Case(
        "population from the males sheet of ONS's older workbook",
        lambda b: write_ons_lsoa_code(b.population, sheet="Males"),
        lambda b: [
            f"error: {b.population}: holds males only (a title line reads 'Males'); persons are"
            " needed: save the workbook's Persons sheet as CSV instead"
        ],
    ),
    Case(
        "population with the females' columns of ONS's workbook only",
        _females_columns_only,
        lambda b: [
            f"error: {b.population}: has the females' columns (F0, F1, ...) but not the males'"
            " (M0, ...): persons are the two added together; use the whole table as ONS publish"
            " it"
        ],
    ),
    Case(
        "SEN2 needs from a workbook's sheet saved as CSV with its titles",
        _workbook_titles("needs", "Education, health and care plans", "Table 1: by need", ""),
        lambda b: [
            f"error: {b.needs}: starts with title lines above the table (its 25 column names are"
            " at line 4, as a workbook's sheet saved as CSV keeps them); delete the lines above"
            " them and any notes below the table, or download the data as a plain CSV"
        ],
    ),
    Case(
        "boundaries without a coordinate system",
        _shapefile_without_prj,
        lambda b: [
            f"error: {b.folder / 'lsoa.shp'}: has no coordinate reference system (save it with"
            " one, e.g. EPSG:27700 or EPSG:4326; a Shapefile needs its .prj file)"
        ],
    ),
    Case(
        "boundaries wrong code column",
        setting("inputs.boundaries", "code_column", "LSOA21CD"),
        lambda b: [
            f"error: {b.boundaries}: missing column LSOA21CD (set inputs.boundaries.code_column"
            " and name_column; the file has: lsoa21cd, lsoa21nm)"
        ],
    ),
    Case(
        "boundaries missing",
        lambda b: b.boundaries.unlink(),
        lambda b: [
            f"error: {b.boundaries}: file not found (check the path in the scenario's"
            " [inputs.boundaries])"
        ],
    ),
    Case(
        "boundaries with a null geometry",
        lambda b: _boundaries(b, lambda d: d["features"][1].__setitem__("geometry", None)),
        lambda b: [
            f"error: {b.boundaries}: 1 feature(s) have no shape (features 2, counting from 1):"
            " draw them or delete them"
        ],
    ),
    Case(
        "boundaries with no features",
        lambda b: _boundaries(b, lambda d: d.__setitem__("features", [])),
        lambda b: [f"error: {b.boundaries}: has no features"],
    ),
    Case(
        "boundaries not a vector file",
        content("boundaries", b"this is not GeoJSON"),
        lambda b: [
            f"error: {b.boundaries}: cannot read as a vector file: not a format GDAL reads (the"
            " file is damaged, cut short, or another kind of file with this extension); download"
            " it again, or export it from your GIS as a GeoPackage (.gpkg), GeoJSON (.geojson),"
            " FlatGeobuf (.fgb) or Shapefile (.shp)"
        ],
    ),
    Case(
        "boundaries labelled as degrees but in metres",
        lambda b: _labelled(b, "EPSG:4326", to=27700),
        lambda b: [
            f"error: {b.folder / 'labelled.gpkg'}: its coordinate system says degrees"
            " (EPSG:4326) but the coordinates reach 380,833, 393,739, which look like metres:"
            " the label is wrong (British National Grid is EPSG:27700); set the right one and"
            " save again"
        ],
    ),
    Case(
        "boundaries labelled as metres but in degrees",
        lambda b: _labelled(b, "EPSG:27700"),
        lambda b: [
            f"error: {b.folder / 'labelled.gpkg'}: its coordinate system says metres"
            " (EPSG:27700) but the coordinates look like longitude/latitude degrees: the label"
            " is wrong (degrees are EPSG:4326); set the right one and save again"
        ],
    ),
    Case(
        "boundaries GeoPackage of two layers, none named (GDAL would read the first)",
        lambda b: _layers(
            b, "boundaries", "inputs.boundaries", {"england": slice(0, 1), "lsoa": slice(None)}
        ),
        lambda b: [
            f"error: {b.folder / 'boundaries.gpkg'}: has 2 layers (england, lsoa) and no layer is"
            " named, so which to read is not clear; set layer in [inputs.boundaries] to the one"
            " to read"
        ],
    ),
    Case(
        "boundaries layer named that the GeoPackage lacks",
        both(
            lambda b: _layers(
                b, "boundaries", "inputs.boundaries", {"england": slice(0, 1), "lsoa": slice(None)}
            ),
            setting("inputs.boundaries", "layer", "LSOA"),
        ),
        lambda b: [
            f"error: {b.folder / 'boundaries.gpkg'}: has no layer 'LSOA' (its layers: england,"
            " lsoa); set layer in [inputs.boundaries] to one of them"
        ],
    ),
    Case(
        "boundaries outside Great Britain",
        _areas_in_france,
        lambda b: [
            f"error: {b.boundaries}: lies outside Great Britain once converted from EPSG:4326:"
            " check its coordinate system label"
        ],
    ),
    pytest.param(
        Case(
            "postcodes without coordinates",
            content("postcodes", b"pcds,lsoa21\nZZ9 9ZZ,E01000001\n"),
            lambda b: [
                f"error: {b.postcodes}: needs a postcode column (pcds, pcd or postcode) and"
                " coordinates (oseast1m/osnrth1m, easting/northing or lon/lat) as in the ONS"
                " Postcode Directory",
                f"error: {b.gias}: column Easting/Northing, line 6: no coordinates and the postcode"
                " was not found (fill them in, or fix the postcode)",
            ],
        ),
        marks=_PACKAGED_ONSPD,
    ),
    pytest.param(
        Case(
            "postcodes in UTF-16",
            lambda b: utf16(b, "postcodes"),
            lambda b: [
                f"error: {b.postcodes}: is UTF-16 text (as Excel's 'Unicode text' saves it); save"
                " it as UTF-8 or Windows-1252 CSV",
                f"error: {b.gias}: column Easting/Northing, line 6: no coordinates and the postcode"
                " was not found (fill them in, or fix the postcode)",
            ],
        ),
        marks=_PACKAGED_ONSPD,
    ),
    Case(
        "population without age columns",
        content("population", b"area_code,all_ages\nE01000001,100\n"),
        lambda b: [
            f"error: {b.population}: needs an area code column (area_code, LSOA21CD or LSOA"
            " 2021 Code) and one column per single year of age (0, 1, 2, ... as in the ONS"
            " mid-year estimates, or F0 ... F90 and M0 ... M90 by sex)"
        ],
    ),
    Case(
        "population bad count at its line in the file",
        _population_row(7, "n/a"),
        lambda b: [
            f"error: {b.population}: column 7 (age 7), line 5: not a number (write digits only)"
        ],
    ),
    Case(
        "population count inf",
        _population_row(9, "inf"),
        lambda b: [
            f"error: {b.population}: column 9 (age 9), line 5: not a finite number (write digits"
            " only)"
        ],
    ),
    Case(
        "population count 1e300",
        _population_row(9, "1e300"),
        lambda b: [
            f"error: {b.population}: column 9 (age 9), line 5: must be <= 10,000,000 (surely a"
            " mistake)"
        ],
    ),
    Case(
        "population duplicate age column",
        replace("population", b",4,5,", b",4,4,"),
        lambda b: [
            f"error: {b.population}: column 4 appears 2 times in the header (columns 11 and 12);"
            " rename or remove the copies, as only one can be read"
        ],
    ),
    Case(
        "population with a ragged row",
        content(
            "population",
            lambda data: data.replace(b"\n2024-06-30,E01000002", b",7\n2024-06-30,E01000002", 1),
        ),
        lambda b: [
            f"error: {b.population}: line 4 has 98 fields but the header has 97 (a value with an"
            " unquoted comma?); fix that row"
        ],
    ),
    Case(
        "SEN2 needs of another authority",
        replace("needs", b"E08000009,358,Trafford", b"E08000010,359,Wigan"),
        lambda b: [f"error: {b.needs}: no rows for authority '358' {_SEN2_AUTHORITY}"],
    ),
    Case(
        "SEN2 unknown authority reported for both files",
        setting("inputs.demand", "authority", "Narnia"),
        lambda b: [
            f"error: {path}: no rows for authority 'Narnia' {_SEN2_AUTHORITY}"
            for path in (b.needs, b.caseload)
        ],
    ),
    Case(
        "SEN2 needs without age rows",
        content(
            "needs",
            lambda data: b"\n".join(r for r in data.split(b"\n") if b"persons age" not in r),
        ),
        lambda b: [
            f"error: {b.needs}: needs 'All EHC plans' and 'Child or young persons age' rows for"
            " 202425 (use the release's sen_needs file)"
        ],
    ),
    Case(
        "SEN2 caseload missing ehcplans",
        replace("caseload", b",ehcplans,", b",ehc_plans,"),
        lambda b: [
            f"error: {b.caseload}: missing column ehcplans (inputs.demand.sen2_caseload takes the"
            " caseload CSV of the DfE 'Education, health and care plans' release, unedited; the"
            " file has: time_period, time_identifier, geographic_level, country_code,"
            " country_name, region_code, region_name, new_la_code, old_la_code, la_name,"
            " breakdown_topic, breakdown, ehc_plans, mainstream_la_maintained_resourced_provision,"
            " mainstream_la_maintained_senunit, mainstream_academy_resourced_provision,"
            " mainstream_academy_senunit, mainstream_free_school_resourced_provision,"
            " mainstream_free_school_senunit)"
        ],
    ),
    Case(
        "SEN2 caseload empty",
        content("caseload", b""),
        lambda b: [f"error: {b.caseload}: file is empty (it needs a header row and data rows)"],
    ),
    Case(
        "SEN2 needs with NUL bytes",
        content("needs", lambda data: data[:200] + b"\x00\x00" + data[200:]),
        lambda b: [
            f"error: {b.needs}: contains NUL bytes (a binary file, or UTF-16 text without a"
            " byte-order mark); save it as UTF-8 or Windows-1252 CSV"
        ],
    ),
    Case(
        "pupil list unknown need and blank postcode",
        _pupils(
            "pupil_id,postcode,primary_need,age\np1,ZZ1 1AA,Dyslexia,7\np2,,ASD,9\n"
            "p3,ZZ2 2BB,SEMH,12\n"
        ),
        lambda b: [
            f"error: {b.pupils}: column primary_need, line 2: unknown need; use a code (ASD,"
            " SLCN, SEMH, MLD, SLD, PMLD, SpLD, HI, VI, MSI, PD, OTH)",
            f"error: {b.pupils}: column postcode, line 3: blank postcode (fill in the child's"
            " home postcode)",
        ],
    ),
    Case(
        "pupil list unknown phase",
        _pupils(
            "pupil_id,postcode,primary_need,age,phase\np1,ZZ1 1AA,ASD,7,prim\np2,ZZ2 2BB,SEMH,12,\n"
        ),
        lambda b: [
            f"error: {b.pupils}: column phase, line 2: unknown phase; use primary or secondary"
            " (or nursery, early years, post-16, ..., for children not planned for), or leave it"
            " blank to go by age"
        ],
    ),
    Case(
        "pupil list age as text",
        _pupils("pupil_id,postcode,primary_need,age\np1,ZZ1 1AA,ASD,seven\n"),
        lambda b: [f"error: {b.pupils}: column age, line 2: not a number (write digits only)"],
    ),
    Case(
        "pupil list without a need column",
        _pupils("pupil_id,postcode,age\np1,ZZ1 1AA,7\n"),
        lambda b: [f"error: {b.pupils}: missing column need_code (one row per child)"],
    ),
    Case(
        "pupil list age inf",
        _pupils("pupil_id,postcode,primary_need,age\np1,ZZ1 1AA,ASD,inf\n"),
        lambda b: [
            f"error: {b.pupils}: column age, line 2: not a finite number (write digits only)"
        ],
    ),
]


# --- sitefinder's own layout (the demo authority) ------------------------------------------------


def _swap_columns(key: str, first: str, second: str) -> Edit:
    def change(rows: list[list[str]]) -> None:
        i, j = rows[0].index(first), rows[0].index(second)
        for row in rows[1:]:
            row[i], row[j] = row[j], row[i]

    return edit_csv(key, change)


def _matrix(text: str | bytes) -> Edit:
    def edit(base: Baseline) -> None:
        path = base.folder / "minutes.csv"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        base.files["matrix"] = path
        base.sections["journey"] = {"method": "matrix", "matrix": str(path)}

    return edit


def _network(data: bytes | None, name: str = "roads.osm.pbf") -> Edit:
    def edit(base: Baseline) -> None:
        path = base.folder / name
        if data is not None:
            path.write_bytes(data)
        elif path.exists():
            path.unlink()
        base.files["network"] = path
        base.sections["journey"] = {"method": "network", "network": str(path)}

    return edit


DEMO_CASES = [
    Case(
        "schools GeoPackage of two layers, none named",
        lambda b: _layers(b, "schools", "inputs", {"open": slice(None), "closed": slice(0, 3)}),
        lambda b: [
            f"error: {b.folder / 'schools.gpkg'}: has 2 layers (open, closed) and no layer is"
            " named, so which to read is not clear; set layer in [inputs.schools] to the one to"
            " read"
        ],
        layout="demo",
    ),
    Case(
        "schools missing a column",
        edit_csv("schools", lambda rows: [row.pop(3) for row in rows]),
        lambda b: [
            f"error: {b.schools}: missing column establishment_group (the file has: urn, name,"
            " phase, gender, admissions_policy, statutory_low_age, statutory_high_age, capacity,"
            " pupils, ehcp_pupils, easting, northing)"
        ],
        layout="demo",
    ),
    Case(
        "schools capacity inf",
        cell("schools", 3, "capacity", "inf"),
        lambda b: [
            f"error: {b.schools}: column capacity, line 4: not a finite number (write digits only)"
        ],
        layout="demo",
    ),
    Case(
        "schools pupils above the limit",
        cell("schools", 3, "pupils", "25000"),
        lambda b: [f"error: {b.schools}: column pupils, line 4: must be from 0 to 10,000"],
        layout="demo",
    ),
    Case(
        "schools easting and northing swapped",
        _swap_columns("schools", "easting", "northing"),
        lambda b: [
            f"error: {b.schools} (or the areas in {b.areas}): easting/northing of 81 of 81"
            " school(s) look swapped: they lie 5+ km from every area, and with the two numbers"
            " exchanged they lie among the areas (St Mary's CofE Primary School (990001),"
            " Oakfield Primary School (990002), Riverside Primary School (990003), Demoford Park"
            " Primary School (990004), St Joseph's Catholic Primary School (990005) and 76 more);"
            " exchange the columns"
        ],
        layout="demo",
    ),
    Case(
        "schools longitude/latitude",
        edit_csv(
            "schools",
            lambda rows: [r.__setitem__(slice(-2, None), ["-1.2", "52.7"]) for r in rows[1:]],
        ),
        lambda b: [
            f"error: {b.schools}: columns easting/northing look like longitude/latitude;"
            " sitefinder needs British National Grid metres (EPSG:27700): convert them first"
        ],
        layout="demo",
    ),
    Case(
        "bases exact duplicate row",
        edit_csv("bases", lambda rows: rows.append(list(rows[1]))),
        lambda b: [
            f"error: {b.bases}: column urn, line 8: repeats an earlier row exactly, which would"
            " count that base's places twice: delete the copy"
        ],
        layout="demo",
    ),
    Case(
        "bases capacity inf",
        cell("bases", 1, "capacity", "inf"),
        lambda b: [
            f"error: {b.bases}: column capacity, line 2: not a finite number (write digits only)"
        ],
        layout="demo",
    ),
    Case(
        "bases capacity 1e300",
        cell("bases", 1, "capacity", "1e300"),
        lambda b: [f"error: {b.bases}: column capacity, line 2: must be from 1 to 500"],
        layout="demo",
    ),
    Case(
        "bases unknown host",
        cell("bases", 2, "urn", "123"),
        lambda b: [
            f"error: {b.bases}: column urn, line 3: not a URN in the schools file (add the host"
            " school)"
        ],
        layout="demo",
    ),
    Case(
        "demand children inf",
        cell("demand", 1, "children", "inf"),
        lambda b: [
            f"error: {b.demand}: column children, line 2: not a finite number (write digits only)"
        ],
        layout="demo",
    ),
    Case(
        "demand children 1e300",
        cell("demand", 1, "children", "1e300"),
        lambda b: [f"error: {b.demand}: column children, line 2: must be from 0 to 100,000"],
        layout="demo",
    ),
    Case(
        "demand children negative",
        cell("demand", 2, "children", "-1"),
        lambda b: [f"error: {b.demand}: column children, line 3: must be from 0 to 100,000"],
        layout="demo",
    ),
    Case(
        "demand unknown area",
        cell("demand", 2, "area_code", "E99999999"),
        lambda b: [
            f"error: {b.demand}: column area_code, line 3: not an area_code in the areas file"
            " (add the area or fix the code)"
        ],
        layout="demo",
    ),
    Case(
        "areas northing in the easting column",
        both(cell("areas", 1, "easting", "1000000"), cell("areas", 1, "northing", "451831")),
        lambda b: [
            f"error: {b.areas}: column easting/northing, line 2: the two numbers look swapped"
            " (easting is the smaller, 0-700,000 metres; northing 0-1,300,000): exchange them"
        ],
        layout="demo",
    ),
    Case(
        "areas duplicate code",
        cell("areas", 2, "area_code", "E90000001"),
        lambda b: [
            f"error: {b.areas}: column area_code, line 3: duplicate value (each must appear once)"
        ],
        layout="demo",
    ),
    Case(
        "areas duplicate header",
        cell("areas", 0, "child_pop_secondary", "easting"),
        lambda b: [
            f"error: {b.areas}: column easting appears 2 times in the header (columns 3 and 6);"
            " rename or remove the copies, as only one can be read"
        ],
        layout="demo",
    ),
    Case(
        "demand file cut mid-row",
        content("demand", lambda data: data.rstrip(b"\n")[:-4]),
        lambda b: [
            f"error: {b.demand}: ends in the middle of line 99 (3 of the header's 4 fields): the"
            " file looks cut short; download or export it again"
        ],
        layout="demo",
    ),
    Case(
        "matrix binary",
        _matrix(bytes(range(256)) * 8),
        lambda b: [
            f"error: {b.matrix}: contains NUL bytes (a binary file, or UTF-16 text without a"
            " byte-order mark); save it as UTF-8 or Windows-1252 CSV"
        ],
        layout="demo",
    ),
    Case(
        "matrix UTF-16",
        _matrix(codecs.BOM_UTF16_LE + "origin_id,destination_id,minutes\n".encode("utf-16-le")),
        lambda b: [
            f"error: {b.matrix}: is UTF-16 text (as Excel's 'Unicode text' saves it); save it as"
            " UTF-8 or Windows-1252 CSV"
        ],
        layout="demo",
    ),
    Case(
        "matrix missing column",
        _matrix("from,to,minutes\nE90000001,990001,3\n"),
        lambda b: [
            "error: minutes.csv: missing columns origin_id, destination_id (the file has: from,"
            " to, minutes)"
        ],
        layout="demo",
    ),
    Case(
        "matrix repeated column",
        _matrix("origin_id,destination_id,minutes,minutes\nE90000001,990001,3,4\n"),
        lambda b: [
            "error: minutes.csv: column(s) minutes appear more than once in the header; keep one"
            " of each"
        ],
        layout="demo",
    ),
    Case(
        "matrix rows with problems",
        _matrix(
            "origin_id,destination_id,minutes\nE90000001,990001,3\nE90000001,990002\n"
            "E90000001,990003,90000\nE90000001,999,nan\n"
        ),
        lambda b: [
            "error: minutes.csv: line 3: has 2 fields but the header has 3 (a value with an"
            " unquoted comma, or a row cut short?)",
            "error: minutes.csv: line 4: minutes is 90000; must be at most 1,440 (a day): are"
            " these seconds? Leave unreachable pairs out",
            "error: minutes.csv: line 5: destination_id '999' is not a known destination",
            "error: minutes.csv: line 5: minutes is nan; leave unreachable pairs out instead",
        ],
        layout="demo",
    ),
    Case(
        "matrix missing",
        both(_matrix(""), lambda b: b.matrix.unlink()),
        lambda b: [f"error: {b.matrix}: cannot open the matrix file (No such file or directory)"],
        layout="demo",
    ),
    Case(
        "network not an OpenStreetMap file",
        _network(b"<html>404 Not Found</html>"),
        lambda b: [
            f"error: {b.network}: is not an OpenStreetMap PBF file (it does not start with an"
            " OSMHeader block); download the .osm.pbf extract again"
        ],
        layout="demo",
    ),
    Case(
        "network empty",
        _network(b""),
        lambda b: [f"error: {b.network}: is empty (download the extract again)"],
        layout="demo",
    ),
    Case(
        "network XML without an osm element",
        _network(b"<?xml version='1.0'?><gpx></gpx>", name="roads.osm"),
        lambda b: [
            f"error: {b.network}: is not an OpenStreetMap XML file (no <osm> element at the start)"
        ],
        layout="demo",
    ),
    Case(
        "network missing",
        _network(None),
        lambda b: [f"error: {b.network}: road network file not found (check journey.network)"],
        layout="demo",
    ),
]


# --- the scenario file ---------------------------------------------------------------------------


def _deep(levels: int) -> str:
    return "a = " + "[" * levels + "]" * levels + "\n"


def _many_unknown_keys(count: int) -> Edit:
    def edit(base: Baseline) -> None:
        base.sections[""] = {f"unknown_{i}": i for i in range(count)}
        base.sections = {"": base.sections.pop(""), **base.sections}

    return edit


def _range(key: str, value: object, message: str, section: str = "journey") -> Case:
    return Case(
        f"{section}.{key} = {value}",
        setting(section, key, value),
        lambda b: [f"error: {b.config}: {section}.{key}: {message}"],
    )


def _first(edit: Edit) -> Edit:
    # Top-level keys must come before the first [table] in TOML.
    def wrapped(base: Baseline) -> None:
        edit(base)
        base.sections = {"": base.sections.pop("", {}), **base.sections}

    return wrapped


SCENARIO_CASES = [
    Case(
        "scenario missing",
        scenario_text(""),
        lambda b: [
            f"error: {b.folder / 'nowhere.toml'}: scenario file not found (check the path"
            " given to --config)"
        ],
        argv=lambda b: ["validate", "--config", str(b.folder / "nowhere.toml")],
    ),
    Case(
        "scenario is a folder",
        lambda b: None,
        lambda b: [f"error: {b.folder}: is a folder, not a file (a scenario is a TOML text file)"],
        argv=lambda b: ["validate", "--config", str(b.folder)],
    ),
    pytest.param(
        Case(
            "scenario is /dev/zero",
            lambda b: None,
            lambda b: [
                "error: /dev/zero: is a device, FIFO or socket, not a regular file (a scenario is"
                " a TOML text file)"
            ],
            argv=lambda b: ["validate", "--config", "/dev/zero"],
        ),
        marks=POSIX,
    ),
    pytest.param(
        Case(
            "scenario is a FIFO",
            lambda b: os.mkfifo(b.folder / "fifo.toml"),
            lambda b: [
                f"error: {b.folder / 'fifo.toml'}: is a device, FIFO or socket, not a regular"
                " file (a scenario is a TOML text file)"
            ],
            argv=lambda b: ["validate", "--config", str(b.folder / "fifo.toml")],
        ),
        marks=POSIX,
    ),
    pytest.param(
        Case(
            "scenario extends /dev/zero",
            scenario_text('extends = "/dev/zero"\n'),
            lambda b: [
                "error: /dev/zero: is a device, FIFO or socket, not a regular file (a scenario"
                " is a TOML text file)"
            ],
        ),
        marks=POSIX,
    ),
    Case(
        "scenario larger than 1 MiB",
        scenario_text("# " + "x" * (1 << 20) + "\n"),
        lambda b: [
            f"error: {b.config}: larger than 1,024 KiB; a scenario is a short TOML text file"
            " (check the path)"
        ],
    ),
    Case(
        "scenario not UTF-8",
        scenario_text(b'name = "Caf\xe9"\n'),
        lambda b: [
            f"error: {b.config}: not valid TOML ('utf-8' codec can't decode byte 0xe9 in"
            " position 11: invalid continuation byte); fix the syntax"
        ],
    ),
    Case(
        "scenario TOML syntax",
        scenario_text("[inputs\nschools = 1\n"),
        lambda b: [
            f"error: {b.config}: not valid TOML (Expected ']' at the end of a table declaration"
            " (at line 1, column 8)); fix the syntax"
        ],
    ),
    Case(
        "scenario nested thousands deep",
        scenario_text(_deep(5000)),
        lambda b: [
            f"error: {b.config}: tables or lists nested more than 12 levels deep; a scenario"
            " needs at most 4 (check the file)"
        ],
    ),
    Case(
        "scenario nested 13 deep",
        scenario_text(_deep(13)),
        lambda b: [
            f"error: {b.config}: tables or lists nested more than 12 levels deep; a scenario"
            " needs at most 4 (check the file)"
        ],
    ),
    Case(
        "scenario dotted key thousands deep",
        scenario_text(".".join(["a"] * 3000) + " = 1\n"),
        lambda b: [
            f"error: {b.config}: tables or lists nested more than 12 levels deep; a scenario"
            " needs at most 4 (check the file)"
        ],
    ),
    Case(
        "scenario extends a missing parent",
        scenario_text('extends = "parent.toml"\n'),
        lambda b: [
            f"error: {b.config}: extends: parent file not found: {b.folder / 'parent.toml'}"
            " (check the path)"
        ],
    ),
    Case(
        "scenario extends itself",
        scenario_text('extends = "own.toml"\n'),
        lambda b: [f"error: {b.config}: extends: cycle own.toml -> own.toml"],
    ),
    Case(
        "scenario sets a reserved key",
        scenario_text('source = "x"\n'),
        lambda b: [f"error: {b.config}: source: unknown key (set by sitefinder itself)"],
    ),
    Case(
        "scenario unknown key",
        setting("harm", "free_minuts", 3),
        lambda b: [
            f"error: {b.config}: harm.free_minuts: unknown key (check the spelling against the"
            " scenario reference)"
        ],
    ),
    Case(
        "scenario 200 unknown keys are capped",
        _many_unknown_keys(200),
        lambda b: [
            *[
                f"error: {b.config}: unknown_{i}: unknown key (check the spelling against the"
                " scenario reference)"
                for i in range(MAX_SHOWN)
            ],
            f"error: ... and {200 - MAX_SHOWN} more problem(s) not shown (fix these first)",
        ],
    ),
    Case(
        "unset environment variable in a path",
        setting("inputs.schools", "path", "${SITEFINDER_BROKEN_UNSET}/gias.csv"),
        lambda b: [
            f"error: {b.config}: inputs.schools.path: environment variable"
            " SITEFINDER_BROKEN_UNSET is not set (set it, or write the path out in full)"
        ],
    ),
    Case(
        "modelled demand without population",
        unset("inputs.demand", "population"),
        lambda b: [f"error: {b.config}: inputs.demand.population: required for method 'modelled'"],
    ),
    Case(
        "unknown schools format",
        setting("inputs.schools", "format", "edubase"),
        lambda b: [
            f"error: {b.config}: inputs.schools.format: must be one of 'sitefinder', 'gias' or"
            " 'mapped'"
        ],
    ),
    Case(
        "several scenario problems in one run",
        both(
            setting("inputs.schools", "format", "edubase"),
            setting("inputs.schools", "default_base_capacity", 0),
            setting("inputs.demand", "share", 1.5),
        ),
        lambda b: [
            f"error: {b.config}: inputs.schools.format: must be one of 'sitefinder', 'gias' or"
            " 'mapped'",
            f"error: {b.config}: inputs.schools.default_base_capacity: must be from 1 to 200"
            " places (got 0)",
            f"error: {b.config}: inputs.demand.share: must be above 0 and at most 1 (got 1.5)",
        ],
    ),
    Case(
        "bases as text",
        _first(setting("", "bases", "three")),
        lambda b: [
            f"error: {b.config}: bases: input should be a valid integer, unable to parse string"
            " as an integer"
        ],
    ),
    Case(
        "bases 100000",
        _first(setting("", "bases", 100000)),
        lambda b: [f"error: {b.config}: bases: must be from 0 to 200 (got 100000)"],
    ),
    Case(
        "base_size 0",
        _first(setting("", "base_size", 0)),
        lambda b: [f"error: {b.config}: base_size: must be from 1 to 200 places (got 0)"],
    ),
    Case(
        "top 0",
        _first(setting("", "top", 0)),
        lambda b: [f"error: {b.config}: top: must be from 1 to 500 (got 0)"],
    ),
    Case(
        "suppression_threshold -1",
        _first(setting("", "suppression_threshold", -1)),
        lambda b: [
            f"error: {b.config}: suppression_threshold: must be from 0 to 1,000,000 children"
            " (got -1)"
        ],
    ),
    Case(
        "phases empty",
        _first(setting("", "phases", [])),
        lambda b: [f"error: {b.config}: phases: must have at least 1 item(s)"],
    ),
    _range("speed_kmh", math.inf, "must be above 0 and at most 120 km/h (got inf)"),
    _range("speed_kmh", math.nan, "must be above 0 and at most 120 km/h (got nan)"),
    _range("speed_kmh", 0, "must be above 0 and at most 120 km/h (got 0)"),
    _range("speed_kmh", 1000, "must be above 0 and at most 120 km/h (got 1000)"),
    _range("ride_factor", math.inf, "must be from 1 to 5 (got inf)"),
    _range("ride_factor", 0.5, "must be from 1 to 5 (got 0.5)"),
    _range("peak_factor", math.inf, "must be from 1 to 5 (got inf)"),
    _range("junction_seconds", 1e308, "must be from 0 to 120 seconds (got 1e+308)"),
    _range("max_minutes", math.inf, "must be above 0 and at most 600 minutes (got inf)"),
    _range("overhead_minutes", math.inf, "must be from 0 to 240 minutes (got inf)"),
    _range("overhead_minutes", -1, "must be from 0 to 240 minutes (got -1)"),
    _range("circuity", 0.9, "must be from 1 to 5 (got 0.9)"),
    _range("maxspeed_fraction", 0, "must be above 0 and at most 1 (got 0)"),
    _range("access_speed_kmh", -3, "must be above 0 and at most 120 km/h (got -3)"),
    _range("snap_warn_metres", math.inf, "must be above 0 and at most 100,000 metres (got inf)"),
    _range("free_minutes", -1, "must be from 0 to 600 minutes (got -1)", "harm"),
    _range("exponent", 0, "must be above 0 and at most 10 (got 0)", "harm"),
    _range("exponent", math.inf, "must be above 0 and at most 10 (got inf)", "harm"),
    _range(
        "unmet", 1e300, "must be above 0 and at most 1,000,000 harm points (got 1e+300)", "harm"
    ),
    _range("over_limit_step", -1, "must be from 0 to 1,000 harm points (got -1)", "harm"),
    _range("seed", -1, "must be from 0 to 4,294,967,295 (got -1)", "robustness"),
    _range("seed", 2**40, "must be from 0 to 4,294,967,295 (got 1099511627776)", "robustness"),
    _range("runs", 5000, "must be from 0 to 1,000 (got 5000)", "robustness"),
    _range("demand_noise", 3, "must be from 0 to 2 (got 3)", "robustness"),
    _range(
        "time_limit_seconds", 0, "must be above 0 and at most 86,400 seconds (got 0)", "selection"
    ),
    _range("sizes", [], "must have at least 1 item(s)", "selection"),
    _range("high_send_share", 2, "must be above 0 and at most 1 (got 2)", "candidates"),
    _range(
        "min_spare_places",
        -5001,
        "must be a whole number of places from -5,000 to 5,000 (got -5001)",
        "candidates",
    ),
    Case(
        "harm.limit_minutes.primary inf",
        setting("harm", "limit_minutes", {"primary": math.inf, "secondary": 75}),
        lambda b: [
            f"error: {b.config}: harm.limit_minutes.primary: must be above 0 and at most 600"
            " minutes (got inf)"
        ],
    ),
    Case(
        "selection.sizes with a zero",
        setting("selection", "sizes", [8, 0]),
        lambda b: [f"error: {b.config}: selection.sizes.1: must be from 1 to 200 places (got 0)"],
    ),
    Case(
        "selection.counts too many",
        setting("selection", "counts", {"primary": {"semh": 500}}),
        lambda b: [
            f"error: {b.config}: selection.counts.primary.semh: must be from 0 to 200 (got 500)"
        ],
    ),
    Case(
        "robustness.exponent reversed",
        setting("robustness", "exponent", [2, 1]),
        lambda b: [f"error: {b.config}: robustness.exponent: must be [low, high] with low <= high"],
    ),
    Case(
        "planning_year 1900",
        setting("inputs.demand", "planning_year", 1900),
        lambda b: [
            f"error: {b.config}: inputs.demand.planning_year: must be from 2,000 to 2,100 (got"
            " 1900)"
        ],
    ),
]


# --- the command line (exit 2) -------------------------------------------------------------------


def _line(*args: str) -> Callable[[Baseline], list[str]]:
    return lambda b: [a.replace("{config}", str(b.config)).replace("{folder}", str(b.folder))
                      for a in args]  # fmt: skip


def _usage(name: str, argv: Callable[[Baseline], list[str]], message: str) -> Case:
    return Case(name, lambda b: None, lambda b: [f"error: {message}"], argv=argv, code=2)


COMMAND_CASES = [
    _usage(
        "rank --bases 100000",
        _line("rank", "--bases", "100000"),
        "Invalid value for '--bases' / '-k': Input should be less than or equal to 200 (see:"
        " sitefinder rank --help)",
    ),
    _usage(
        "rank --bases -1",
        _line("rank", "--bases", "-1"),
        "Invalid value for '--bases' / '-k': Input should be greater than or equal to 0 (see:"
        " sitefinder rank --help)",
    ),
    _usage(
        "rank --top 0",
        _line("rank", "--top", "0"),
        "Invalid value for '--top' / '-n': Input should be greater than or equal to 1 (see:"
        " sitefinder rank --help)",
    ),
    _usage(
        "rank --runs 5000",
        _line("rank", "--runs", "5000"),
        "Invalid value for '--runs': Input should be less than or equal to 1000 (see:"
        " sitefinder rank --help)",
    ),
    _usage(
        "rank --format xml",
        _line("rank", "--format", "xml"),
        "Invalid value for '--format' / '-f': Value error, 'xml' is not one of 'table', 'csv',"
        " 'json'. (see: sitefinder rank --help)",
    ),
    _usage(
        "rank unknown option",
        _line("rank", "--bogus"),
        "No such option: --bogus (Possible options: --runs) (see: sitefinder rank --help)",
    ),
    _usage(
        "report --runs -2",
        _line("report", "--runs", "-2", "--output", "r.html"),
        "Invalid value for '--runs': Input should be greater than or equal to 0 (see:"
        " sitefinder report --help)",
    ),
    _usage(
        "map without --output",
        _line("map"),
        "Missing option '--output' / '-o'. (see: sitefinder map --help)",
    ),
    _usage(
        "compare without files",
        _line("compare"),
        "Missing argument 'configs'. (see: sitefinder compare --help)",
    ),
    _usage(
        "compare --workers 0",
        _line("compare", "a.toml", "b.toml", "--workers", "0"),
        "Invalid value for '--workers': Input should be greater than or equal to 1 (see:"
        " sitefinder compare --help)",
    ),
    _usage(
        "travel without --network",
        _line("travel", "--from", "a.csv"),
        "Missing option '--network'. (see: sitefinder travel --help)",
    ),
    _usage(
        "travel --cutoff -5",
        _line(
            "travel",
            "--network",
            "n.pbf",
            "--from",
            "a.csv",
            "--to",
            "b.csv",
            "--output",
            "m.csv",
            "--cutoff",
            "-5",
        ),
        "Invalid value for '--cutoff': Input should be greater than or equal to 0 (see:"
        " sitefinder travel --help)",
    ),
    _usage(
        "unknown command",
        _line("rnak"),
        "No such command 'rnak'. Did you mean 'rank'? (see: sitefinder --help)",
    ),
    Case(
        "compare with one file",
        lambda b: None,
        _line("error: compare needs at least two scenario files"),
        argv=_line("compare", "{config}"),
        code=2,
    ),
    Case(
        "sweep --set without values",
        lambda b: None,
        _line("error: --set harm.exponent: write KEY=V1,V2,... (e.g. harm.exponent=1,2,3)"),
        argv=_line(
            "sweep", "--config", "{config}", "--set", "harm.exponent", "--output", "{folder}/s.csv"
        ),
        code=2,
    ),
    Case(
        "sweep --set out of range",
        lambda b: None,
        _line(
            "error: command line: harm.exponent: must be above 0 and at most 10 (got 0)"
            " (--set harm.exponent=0)"
        ),
        argv=_line(
            "sweep",
            "--config",
            "{config}",
            "--set",
            "harm.exponent=0,2",
            "--output",
            "{folder}/s.csv",
        ),
        code=2,
    ),
    Case(
        "sweep --set unknown key",
        lambda b: None,
        _line(
            "error: command line: harm.exponant: unknown key (check the spelling against the"
            " scenario reference) (--set harm.exponant=2)"
        ),
        argv=_line(
            "sweep",
            "--config",
            "{config}",
            "--set",
            "harm.exponant=2",
            "--output",
            "{folder}/s.csv",
        ),
        code=2,
    ),
    Case(
        "sweep --scheduler not an address",
        lambda b: None,
        _line(
            "error: --scheduler http//nowhere: not a scheduler address; write tcp://HOST:PORT"
            " (e.g. tcp://10.0.0.5:8786)"
        ),
        argv=_line(
            "sweep",
            "--config",
            "{config}",
            "--set",
            "bases=1",
            "--output",
            "{folder}/s.csv",
            "--scheduler",
            "http//nowhere",
        ),
        code=2,
    ),
]


# --- saved runs changed after rank wrote them (in QGIS, a spreadsheet, SQLite) ------------------


def _saved_run(*statements: str) -> Edit:
    """Rank the demo to ``run.gpkg``, then change it with SQL ``statements``."""

    def edit(base: Baseline) -> None:
        run = base.folder / "run.gpkg"
        ranked = invoke(["rank", "--config", str(base.scenario()), "--output", str(run)])
        assert ranked.exit_code == 0, ranked.output
        with sqlite3.connect(run) as connection:
            for statement in statements:
                connection.execute(statement)
        connection.close()

    return edit


def _from(command: str) -> Callable[[Baseline], list[str]]:
    suffix = {"report": "html", "map": "png"}[command]
    return lambda b: [
        command, "--from", str(b.folder / "run.gpkg"), "--output", str(b.folder / f"out.{suffix}")
    ]  # fmt: skip


_PUT_BACK = "put it back, or write the run again with sitefinder rank --output FILE.gpkg"

SAVED_RUN_CASES = [
    Case(
        "report --from a run whose harm averted was edited to text (it showed 0.00)",
        _saved_run("UPDATE ranking SET harm_averted = 'lots' WHERE rank = 2"),
        lambda b: [
            f"error: {b.folder / 'run.gpkg'}: layer ranking, row 2, column harm_averted: 'lots'"
            f" is not a number (changed after sitefinder wrote it); {_PUT_BACK}"
        ],
        layout="demo",
        argv=_from("report"),
    ),
    Case(
        "map --from a run whose harm averted was renamed",
        _saved_run("ALTER TABLE ranking RENAME COLUMN harm_averted TO harm"),
        lambda b: [
            f"error: {b.folder / 'run.gpkg'}: layer ranking has no column harm_averted (renamed"
            f" or deleted after sitefinder wrote it; it has harm instead: renamed?); {_PUT_BACK}"
        ],
        layout="demo",
        argv=_from("map"),
    ),
    Case(
        "report --from a run with a column deleted and text in several rows of another",
        _saved_run(
            "ALTER TABLE demand DROP COLUMN easting",
            "UPDATE ranking SET minutes_before = 'far' WHERE rank IN (1, 3, 4, 5, 6, 9, 10)",
        ),
        lambda b: [
            f"error: {b.folder / 'run.gpkg'}: layer demand has no column easting (renamed or"
            f" deleted after sitefinder wrote it); {_PUT_BACK}",
            f"error: {b.folder / 'run.gpkg'}: layer ranking, rows 1, 3, 4, 5, 6 and 2 more,"
            f" column minutes_before: 'far' is not a number (changed after sitefinder wrote it);"
            f" {_PUT_BACK}",
        ],
        layout="demo",
        argv=_from("report"),
    ),
]


# --- outputs and the environment (exit 1) --------------------------------------------------------

ENVIRONMENT_CASES = [
    Case(
        "sweep --scheduler unreachable",
        lambda b: None,
        _line(
            "error: --scheduler tcp://127.0.0.1:9: cannot reach the dask scheduler (Connection"
            " refused); start it (dask scheduler) or check the address, or leave --scheduler"
            " out to run locally"
        ),
        argv=_line(
            "sweep",
            "--config",
            "{config}",
            "--set",
            "bases=1",
            "--output",
            "{folder}/s.csv",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ),
        layout="demo",
    ),
    Case(
        "SITEFINDER_CACHE_MAX_MB not a number",
        both(
            _network(DEMO.joinpath("roads.osm.pbf").read_bytes()),
            lambda b: b.env.update(SITEFINDER_CACHE_MAX_MB="lots"),
        ),
        _line(
            "error: SITEFINDER_CACHE_MAX_MB=lots: must be a number of megabytes from 0 (no"
            " cache) to 1000000000; unset it for the default, 2048"
        ),
        layout="demo",
    ),
    Case(
        "SITEFINDER_CACHE_MAX_MB negative",
        both(
            _network(DEMO.joinpath("roads.osm.pbf").read_bytes()),
            lambda b: b.env.update(SITEFINDER_CACHE_MAX_MB="-5"),
        ),
        _line(
            "error: SITEFINDER_CACHE_MAX_MB=-5: must be a number of megabytes from 0 (no"
            " cache) to 1000000000; unset it for the default, 2048"
        ),
        layout="demo",
    ),
    Case(
        "rank --output into a missing folder",
        lambda b: None,
        _line("error: {folder}/no/plan.gpkg: folder {folder}/no does not exist (create it first)"),
        argv=_line("rank", "--config", "{config}", "--output", "{folder}/no/plan.gpkg"),
        layout="demo",
    ),
    Case(
        "rank --output exists",
        lambda b: (b.folder / "plan.gpkg").write_bytes(b"mine"),
        _line("error: {folder}/plan.gpkg: already exists (pass --overwrite to replace it)"),
        argv=_line("rank", "--config", "{config}", "--output", "{folder}/plan.gpkg"),
        layout="demo",
    ),
    Case(
        "rank --output a link to nothing",
        lambda b: (b.folder / "plan.gpkg").symlink_to(b.folder / "gone" / "plan.gpkg"),
        _line(
            "error: {folder}/plan.gpkg: is a link to {folder}/gone/plan.gpkg, which does not"
            " exist; sitefinder does not write through links: remove the link, choose another"
            " name, or pass --overwrite to replace the link itself"
        ),
        argv=_line("rank", "--config", "{config}", "--output", "{folder}/plan.gpkg"),
        layout="demo",
    ),
    Case(
        "map --output a link to nothing",
        lambda b: (b.folder / "m.png").symlink_to("m-gone.png"),
        _line(
            "error: {folder}/m.png: is a link to m-gone.png, which does not exist; sitefinder"
            " does not write through links: remove the link, choose another name, or pass"
            " --overwrite to replace the link itself"
        ),
        argv=_line("map", "--config", "{config}", "--output", "{folder}/m.png"),
        layout="demo",
    ),
    Case(
        "rank --output is a folder",
        lambda b: (b.folder / "plan.gpkg").mkdir(),
        _line("error: {folder}/plan.gpkg: is a folder (give a file name ending in .gpkg)"),
        argv=_line("rank", "--config", "{config}", "--output", "{folder}/plan.gpkg", "--overwrite"),
        layout="demo",
    ),
    Case(
        "rank --output with the wrong suffix",
        lambda b: None,
        _line(
            "error: {folder}/plan.shp: --output writes .gpkg, .geojson, .fgb, .parquet (the"
            " extension chooses the format); give a name ending in one of them"
        ),
        argv=_line("rank", "--config", "{config}", "--output", "{folder}/plan.shp"),
        layout="demo",
    ),
    Case(
        "rank --output name over 255 bytes",
        lambda b: None,
        _line(
            f"error: {'x' * 40}....gpkg: the file name is 305 bytes long; file systems allow"
            " at most 255 (choose a shorter name)"
        ),
        argv=_line("rank", "--config", "{config}", "--output", "{folder}/" + "x" * 300 + ".gpkg"),
        layout="demo",
    ),
    Case(
        "report --output exists",
        lambda b: (b.folder / "r.html").write_text("mine"),
        _line("error: {folder}/r.html: already exists (pass --overwrite to replace it)"),
        argv=_line("report", "--config", "{config}", "--output", "{folder}/r.html"),
        layout="demo",
    ),
    Case(
        "travel --output with the wrong suffix",
        lambda b: None,
        _line("error: {folder}/m.txt: the output must be a CSV file ending in .csv"),
        argv=_line(
            "travel",
            "--network",
            "n.pbf",
            "--from",
            "a.csv",
            "--to",
            "b.csv",
            "--output",
            "{folder}/m.txt",
        ),
        layout="demo",
    ),
]


ALL_CASES = [
    *GIAS_CASES, *OTHER_FILE_CASES, *DEMO_CASES, *SCENARIO_CASES, *COMMAND_CASES,
    *SAVED_RUN_CASES, *ENVIRONMENT_CASES,
]  # fmt: skip


def _name(case: object) -> str:
    if isinstance(case, Case):
        return case.name
    values = getattr(case, "values", ())  # a pytest.param around a Case
    return values[0].name if values and isinstance(values[0], Case) else "?"


@pytest.mark.parametrize("case", ALL_CASES, ids=[_name(c) for c in ALL_CASES])
def test_broken(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITEFINDER_BROKEN_UNSET", raising=False)
    monkeypatch.chdir(tmp_path)
    run_case(case, tmp_path)


def test_the_corpus_is_large_and_names_are_unique() -> None:
    names = [_name(c) for c in ALL_CASES]
    assert len(names) >= 120
    assert len(set(names)) == len(names)


def test_the_baselines_are_valid(tmp_path: Path) -> None:
    (tmp_path / "gias").mkdir()
    (tmp_path / "demo").mkdir()
    gias = gias_baseline(tmp_path / "gias")
    result = invoke(["validate", "--config", str(gias.scenario())])
    assert result.exit_code == 0, result.output
    assert (
        ": valid. 4 schools (3 mainstream, 3 eligible to host), 2 existing bases" in result.stdout
    )
    assert "error:" not in result.output
    demo = demo_baseline(tmp_path / "demo")
    result = invoke(["validate", "--config", str(demo.scenario())])
    assert result.exit_code == 0, result.output
    assert "warning:" not in result.output


def test_problems_in_several_files_reported_in_one_run(base):
    cell("gias", 1, "SchoolCapacity", "-5")(base)
    base.sections["inputs.boundaries"]["name_column"] = "LSOA21NM"
    base.population.write_text("area_code,all_ages\nE01000001,100\n", encoding="utf-8")
    base.caseload.write_bytes(b"")
    assert errors(base.scenario()) == [
        f"error: {base.gias}: column SchoolCapacity, line 2: must be >= 0",
        f"error: {base.boundaries}: missing column LSOA21NM (set inputs.boundaries.code_column and"
        " name_column; the file has: lsoa21cd, lsoa21nm)",
        f"error: {base.population}: needs an area code column (area_code, LSOA21CD or LSOA"
        " 2021 Code) and one column per single year of age (0, 1, 2, ... as in the ONS mid-year"
        " estimates, or F0 ... F90 and M0 ... M90 by sex)",
        f"error: {base.caseload}: file is empty (it needs a header row and data rows)",
    ]


def test_validate_reads_the_matrix_rank_would_read(demo):
    # Before issue 16 ``validate`` said "valid" without opening the matrix it names.
    _matrix("origin_id,destination_id,minutes\nE90000001,990001,7.5\n")(demo)
    result = invoke(["validate", "--config", str(demo.scenario())])
    assert result.exit_code == 0, result.output
    assert "note: " + str(demo.matrix) + ": drive minutes for 1 of 12,150 area-school pairs" in (
        result.stderr
    )


def test_swapped_real_coordinates_are_caught_by_the_authority_extent(demo):
    # Swapped Easting/Northing in a typed table stay inside Great Britain's box; only the
    # distance to the authority's areas shows them (Trafford ranked with 47-64 minute journeys).
    _swap_columns("schools", "easting", "northing")(demo)
    lines = errors(demo.scenario())
    assert len(lines) == 1 and "look swapped" in lines[0]


def test_a_pupil_with_an_unplanned_phase_is_counted_in_a_warning(base):
    _pupils(
        "pupil_id,postcode,primary_need,age,phase\n"
        + "".join(f"p{i},ZZ1 1AA,ASD,7,\n" for i in range(6))
        + "".join(f"n{i},ZZ1 1AA,ASD,3,nursery\n" for i in range(6))
    )(base)
    result = invoke(["validate", "--config", str(base.scenario())])
    assert result.exit_code == 0, result.output
    assert (
        f"warning: {base.pupils}: 6 child(ren) have a phase not planned for (nursery) and are"
        " not counted"
    ) in result.stderr
    assert ", 6 children needing a base place." in result.stdout


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
    base.sections["inputs.demand"]["share"] = "median"
    config = base.scenario()
    assert errors(config) == [
        f"error: {config}: inputs.demand.share: 'median' is not a share: use \"higher\","
        ' "authority", "england", a fraction (e.g. 0.05) or fractions by phase ({ primary ='
        " 0.05, secondary = 0.03 })"
    ]


@pytest.mark.parametrize(
    ("layers", "named"),
    [
        ({"england": slice(0, 1), "lsoa": slice(None)}, "lsoa"),  # several: the one named
        ({"lsoa": slice(None), "layer_styles": None}, None),  # one with shapes beside a table
        ({"layer_styles": None, "lsoa": slice(None)}, None),  # GDAL would read the table
    ],
)
def test_the_layer_read_is_the_one_named_or_the_only_one_with_shapes(base, layers, named):
    _layers(base, "boundaries", "inputs.boundaries", layers)
    if named:
        base.sections["inputs.boundaries"]["layer"] = named
    result = invoke(["validate", "--config", str(base.scenario())])
    assert result.exit_code == 0, result.output
    assert f"note: 2 areas from {base.folder / 'boundaries.gpkg'}:" in result.stderr


@POSIX
@pytest.mark.parametrize("flag", ["--output", "--map", "--report"])
def test_an_output_named_by_a_link_to_nothing_fails_before_any_work(demo, flag):
    # The run would write nowhere: the one line comes before the inputs are read (no notes),
    # and neither the link nor its missing target is touched.
    suffix = {"--output": ".gpkg", "--map": ".png", "--report": ".html"}[flag]
    link, target = demo.folder / f"out{suffix}", demo.folder / "gone" / f"out{suffix}"
    link.symlink_to(target)
    result = invoke(["rank", "--config", str(demo.scenario()), flag, str(link)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {link}: is a link to {target}, which does not exist; sitefinder does not write"
        " through links: remove the link, choose another name, or pass --overwrite to replace"
        " the link itself"
    ]
    assert link.is_symlink() and not target.parent.exists()


def test_population_of_female_and_male_rows_is_read_as_persons(base):
    # Was a TypeError in the reader, its line naming the scenario (issue 27): the rows of both
    # sexes add up to the persons rows dropped, so the children are the baseline's 78.
    _population_rows(lambda line: ",Persons," not in line)(base)
    base.population.write_text(
        base.population.read_text().replace(",Females,", ",Female,").replace(",Males,", ",Male,")
    )
    result = invoke(["validate", "--config", str(base.scenario())])
    assert result.exit_code == 0, result.output
    assert ", 2 areas, 78 children needing a base place." in result.stdout
