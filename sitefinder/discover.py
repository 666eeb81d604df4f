"""Recognise the public input files in a folder by what is inside them, not their names.

:func:`find_files` walks a folder (bounded depth and count); :func:`examine` reads one file's
header (or a vector file's fields, or an OpenStreetMap extract's header) and says which input
it can be (:class:`Candidate`) or why it is none (:class:`Unplaced`). Which authority a file
covers is a separate, costlier question, answered by :mod:`sitefinder.coverage`.

Recognised layouts: the GIAS establishment extract (its real column names, Windows-1252),
sitefinder's schools, bases, areas and demand CSVs, a reshaped school table (its columns mapped
onto sitefinder's fields), a bases register, the DfE SEN2 caseload and primary-need files, the
DfE school-level census files (pupils by age, sex of school and admissions; pupils with EHC
plans and SEN support), ONS population by small area and single year of age or age band,
LSOA boundaries (GeoJSON, GeoPackage, Shapefile; a layer that also holds population by age
is a population file too, :func:`also_population`), a lookup of districts (LAD) to education
authorities, an ONSPD-style postcode file and an OpenStreetMap extract.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import osmium
import pandas as pd
import pyogrio
import pyogrio.errors

from sitefinder.readers.bases import BASE_PHASES
from sitefinder.readers.census import census_layout, file_year, sen_layout
from sitefinder.readers.districts import district_columns, lookup_header
from sitefinder.readers.establishments import (
    ADMISSIONS,
    BASE_TYPES,
    GENDERS,
    GIAS_COLUMNS,
    GIAS_REQUIRED,
    TYPE_GROUPS,
)
from sitefinder.readers.population import CODE_COLUMNS as POPULATION_CODES
from sitefinder.readers.population import (
    age_columns,
    header_below_titles,
    is_population_header,
)
from sitefinder.readers.population_bands import band_columns, covers, has_single_years
from sitefinder.readers.sen2 import BASE_PLACEMENTS, NEED_COLUMNS, census_year

Role = Literal[
    "schools", "bases", "areas", "boundaries", "population", "sen2_needs", "sen2_caseload",
    "postcodes", "network", "demand", "census", "census_sen", "districts",
]  # fmt: skip

ROLE_LABELS: dict[str, str] = {
    "schools": "schools",
    "bases": "bases register",
    "areas": "areas",
    "boundaries": "LSOA boundaries",
    "population": "population",
    "sen2_needs": "SEN2 needs",
    "sen2_caseload": "SEN2 caseload",
    "postcodes": "postcodes",
    "network": "road network",
    "demand": "demand counts",
    "census": "school census",
    "census_sen": "school SEN census",
    "districts": "district lookup",
}
"""Short names of the roles, as the report and the scenario's comments print them."""

MAX_DEPTH = 4
"""Folders below the data folder that are searched."""
MAX_FILES = 2000
"""Files examined at most; the rest are listed as not looked at."""

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb")
# Files that belong to a Shapefile; listed under the .shp, not on their own.
_SHAPEFILE_PARTS = (".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".shp.xml")
_SNIFF_BYTES = 65_536
_OPEN_GIAS = ("open", "open, but proposed to close")
# Cells data teams write for "unknown"; the mapped reader reads them as blank.
_UNKNOWN = frozenset({"", "na", "n/a", "null", "#n/a"})
_LSOA_CODE = re.compile(r"^[EW]01\d{6}$")
_AREA_NAME = re.compile(r"^.+\s\d{3}[A-Z]$")
_AGE = re.compile(r"^(?:age[ _]?)?(\d{1,2})$", re.IGNORECASE)
_POSTCODE_COLUMNS = ("pcds", "pcd", "pcd2", "postcode")
GRID_COLUMNS = (("oseast1m", "osnrth1m"), ("easting", "northing"))
LONLAT_COLUMNS = (("lon", "lat"), ("long", "lat"), ("lng", "lat"), ("longitude", "latitude"))
POSTCODE_AREAS = ("lsoa21", "lsoa21cd", "lsoa_code", "lsoa11", "lsoa11cd", "area_code")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_FULL_DATE = re.compile(
    r"(?<!\d)(20\d{2}|19\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)"
)
_YEAR_SPAN = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_]?((?:19|20)\d{2})(?!\d)")
_MONTH_YEAR = re.compile(
    r"(?<![a-z])(" + "|".join(_MONTHS) + r")[a-z]*[-_ ]?(20\d{2}|19\d{2})(?!\d)"
)
_YEAR = re.compile(r"(?<!\d)(20\d{2}|19\d{2})(?!\d)")

# A reshaped school table's columns (lower case) for each of sitefinder's mapped fields, in
# order of preference. GIAS's own names are included, so a GIAS extract missing some columns
# can still be read through a mapping.
SCHOOL_FIELDS: dict[str, tuple[str, ...]] = {
    "urn": ("urn", "unique_reference_number", "school_urn", "establishment_urn"),
    "name": ("name", "school_name", "establishment_name", "establishmentname", "school"),
    "status": ("status", "establishment_status", "establishmentstatus (name)"),
    "la_code": ("la_code", "local_authority_code", "old_la_code", "lea_code", "la (code)"),
    "la_name": ("la_name", "local_authority", "local_authority_name", "la (name)", "lea_name"),
    "la_gss": ("gss_code", "la_gss", "new_la_code", "gsslacode (name)", "lad_code"),
    "authority": ("authority",),
    "establishment_group": ("establishment_group", "establishment_type_group", "type_group",
                            "establishmenttypegroup (name)"),
    "establishment_type": ("establishment_type", "type_of_establishment",
                           "typeofestablishment (name)"),
    "establishment_number": ("establishment_number", "establishmentnumber", "estab"),
    "phase": ("phase", "phase_of_education", "phaseofeducation (name)"),
    "gender": ("gender", "gender (name)"),
    "admissions_policy": ("admissions_policy", "admissionspolicy (name)"),
    "statutory_low_age": ("statutory_low_age", "statutorylowage", "low_age",
                          "lowest_admission_age"),
    "statutory_high_age": ("statutory_high_age", "statutoryhighage", "high_age",
                           "highest_admission_age"),
    "capacity": ("capacity", "school_capacity", "schoolcapacity"),
    "pupils": ("pupils", "number_of_pupils", "numberofpupils", "pupils_on_roll"),
    "ehcp_pupils": ("ehcp_pupils", "senstat"),
    "postcode": ("postcode", "post_code"),
    "easting": ("easting",),
    "northing": ("northing",),
    "lon": ("lon", "lng", "long", "longitude"),
    "lat": ("lat", "latitude"),
    "base_type": ("base_type", "resource_provision", "resourced_provision",
                  "typeofresourcedprovision (name)"),
}  # fmt: skip
AUTHORITY_FIELDS = ("authority", "la_code", "la_name", "la_gss")
_NUMBER_FIELDS = ("statutory_low_age", "statutory_high_age", "capacity", "pupils", "ehcp_pupils",
                  "easting", "northing", "lon", "lat", "establishment_number")  # fmt: skip
_GROUPS = ("mainstream", "special", "independent", "pru", "other")


@dataclass(frozen=True)
class Candidate:
    """A file that can fill one input of a scenario.

    Attributes
    ----------
    path
        The file.
    role
        The scenario input it fills (``schools``, ``population``, ...).
    layout
        What it is, in words ("GIAS establishment extract (Windows-1252)").
    kind
        For schools, the reader: ``gias``, ``sitefinder`` or ``mapped``; else empty.
    settings
        Scenario keys the file needs besides its path (``format``, ``columns``, ``values``,
        ``code_column``, ``name_column``, ``layer``).
    facts
        What was inferred while recognising it, for the scenario's comments.
    date
        The newest date the file carries, as (year[, month[, day]]); empty when none.
    date_from
        Where ``date`` was read: ``"content"`` or ``"name"``.
    header
        The file's column names (vector files: field names).
    encoding
        The text encoding of a CSV (``utf-8-sig`` or ``cp1252``).
    size
        Bytes.
    titles
        Lines above a CSV's header (the titles of a workbook's sheet saved as CSV, or of a
        Nomis download), skipped when its columns are read.
    """

    path: Path
    role: Role
    layout: str
    kind: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    facts: tuple[str, ...] = ()
    date: tuple[int, ...] = ()
    date_from: str = ""
    header: tuple[str, ...] = ()
    encoding: str = "utf-8-sig"
    size: int = 0
    titles: int = 0
    tables: dict[tuple[str | None, ...], pd.DataFrame] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Columns already read (:func:`read_columns`, :func:`read_fields`), so that checking one
    folder for many authorities reads each national file's columns once."""


@dataclass(frozen=True)
class Unplaced:
    """A file that fills no input, and why."""

    path: Path
    reason: str


def find_files(
    folder: Path, *, max_depth: int = MAX_DEPTH, max_files: int = MAX_FILES
) -> tuple[list[Path], list[Unplaced]]:
    """Files under ``folder`` to examine, in path order, and those passed by.

    Hidden files and folders (names starting with ``.``) are skipped, as are Shapefile side
    files (read with their ``.shp``). Folders deeper than ``max_depth`` below ``folder`` are
    not entered, and after ``max_files`` files the rest are listed as not looked at.
    """
    found: list[Path] = []
    passed: list[Unplaced] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        depth = len(here.relative_to(folder).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if depth >= max_depth:
            passed.extend(
                Unplaced(here / d, f"folder deeper than {max_depth} levels: not searched")
                for d in dirs
            )
            dirs[:] = []
        names = sorted(f for f in files if not f.startswith("."))
        stems = {Path(n).stem for n in names if n.lower().endswith(".shp")}
        for name in names:
            lower = name.lower()
            if lower.endswith(_SHAPEFILE_PARTS) and name.split(".")[0] in stems:
                continue
            if len(found) >= max_files:
                passed.append(Unplaced(here / name, f"not looked at: over {max_files} files"))
                continue
            if (irregular := _not_regular(here / name)) is not None:
                passed.append(Unplaced(here / name, irregular))
                continue
            found.append(here / name)
    return found, passed


def _not_regular(path: Path) -> str | None:
    """Why ``path`` is not opened (a FIFO would block the read for ever, a device never
    end), or None for a regular file. A symbolic link is judged by what it points to."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        why = "a broken symbolic link" if path.is_symlink() else (exc.strerror or str(exc))
        return f"not opened: {why}"
    if stat.S_ISREG(mode):
        return None
    kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or socket"
    return f"not opened: {kind}, not a regular file"


def date_in_name(name: str) -> tuple[int, ...]:
    """The newest date a file name carries: ``2024-09-26``, ``20251101``, ``nov2025`` or a year.

    Returns () when the name has none.
    """
    text = name.lower()
    dates: list[tuple[int, ...]] = []
    for match in _FULL_DATE.finditer(text):
        dates.append(tuple(int(g) for g in match.groups()))
        text = text.replace(match.group(0), " ")
    for match in _MONTH_YEAR.finditer(text):
        dates.append((int(match.group(2)), _MONTHS.index(match.group(1)[:3]) + 1))
        text = text.replace(match.group(0), " ")
    for match in _YEAR_SPAN.finditer(text):  # "20222024": mid-2022 to mid-2024
        dates.append((max(int(match.group(1)), int(match.group(2))),))
        text = text.replace(match.group(0), " ")
    dates.extend((int(m.group(1)),) for m in _YEAR.finditer(text))
    return max(dates) if dates else ()


def show_date(date: tuple[int, ...]) -> str:
    """``(2025, 11, 1)`` -> ``2025-11-01``; ``(2025,)`` -> ``2025``."""
    return "-".join([f"{date[0]}", *(f"{part:02d}" for part in date[1:])]) if date else "no date"


def examine(path: Path) -> Candidate | Unplaced:
    """What input ``path`` can be, read from its header; or why it is none."""
    name = path.name.lower()
    if name.endswith((".osm.pbf", ".pbf", ".osm")):
        return _network(path)
    if name.endswith(VECTOR_SUFFIXES):
        return _vector(path)
    if name.endswith((".csv", ".txt", ".tsv")):
        return _table(path)
    if name.endswith((".xlsx", ".xls", ".ods")):
        return Unplaced(path, "a spreadsheet: save the sheet as CSV (sitefinder reads CSV)")
    if name.endswith((".zip", ".gz", ".7z", ".tar")):
        return Unplaced(path, "an archive: unpack it first")
    if name.endswith(".toml"):
        return Unplaced(path, "a TOML file (a scenario), not an input")
    suffix = path.suffix or "(no extension)"
    return Unplaced(path, f"not a file type sitefinder reads ({suffix})")


def _network(path: Path) -> Candidate | Unplaced:
    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        header = reader.header()
        reader.close()
    except RuntimeError as exc:
        return Unplaced(path, f"not a readable OpenStreetMap extract ({exc})")
    box = header.box()
    settings: dict[str, Any] = {}
    facts = []
    if box.valid():
        settings["bbox"] = (
            box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat,
        )  # fmt: skip
        facts.append(
            f"covers longitude {box.bottom_left.lon:.2f} to {box.top_right.lon:.2f}, latitude"
            f" {box.bottom_left.lat:.2f} to {box.top_right.lat:.2f}"
        )
    stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp") or ""
    date: tuple[int, ...] = ()
    date_from = ""
    if re.match(r"^\d{4}-\d{2}-\d{2}", stamp):
        date, date_from = tuple(int(p) for p in stamp[:10].split("-")), "content"
        facts.insert(0, f"data of {stamp[:10]}")
    elif date_in_name(path.name):
        date, date_from = date_in_name(path.name), "name"
    return Candidate(
        path, "network", "OpenStreetMap extract", settings=settings, facts=tuple(facts),
        date=date, date_from=date_from, size=_size(path),
    )  # fmt: skip


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _vector(path: Path) -> Candidate | Unplaced:
    from sitefinder.readers.gdal import caught, gdal_problem

    try:
        with caught(path):  # a sample: the reader reads the file again and says its warnings
            layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        return Unplaced(path, f"not a readable vector file: {gdal_problem(exc)}")
    for layer in layers:
        try:
            with caught(path):
                info = pyogrio.read_info(path, layer=layer)
                sample = pyogrio.read_dataframe(path, layer=layer, max_features=200)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError):
            continue
        if _polygons(str(info.get("geometry_type") or ""), sample):
            sample = pd.DataFrame(sample.drop(columns=["geometry"], errors="ignore"))
            found = _boundaries(path, layer if len(layers) > 1 else None, info, sample)
            if found is not None:
                return found
    return Unplaced(path, "a vector file with no polygon layer holding LSOA codes (E01...)")


def _polygons(declared: str, sample: pd.DataFrame) -> bool:
    """Whether a layer holds polygons: by its declared type, or, where a file mixes Polygon
    and MultiPolygon (GDAL then declares "Unknown", as for most GeoJSON downloads), by the
    shapes of its first features."""
    if "Polygon" in declared:
        return True
    if declared not in ("Unknown", "Geometry", "") or "geometry" not in sample.columns:
        return False
    kinds = set(sample["geometry"].dropna().geom_type)
    return bool(kinds) and kinds <= {"Polygon", "MultiPolygon"}


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _boundaries(
    path: Path, layer: str | None, info: Mapping[str, Any], sample: pd.DataFrame
) -> Candidate | None:
    fields = [str(c) for c in sample.columns]
    text = sample.astype("string").fillna("")
    codes = [c for c in fields if len(text) and text[c].str.strip().str.match(_LSOA_CODE).all()]
    if not codes:
        return None
    code = _preferred(codes, ("lsoa21cd", "lsoa_code", "area_code", "code"))
    names = [
        c for c in fields
        if c not in codes and len(text) and text[c].str.strip().str.match(_AREA_NAME).all()
    ]  # fmt: skip
    name = _preferred(names, ("lsoa21nm", "lsoa_name", "area_name", "name")) if names else None
    vintage = "2011" if "11" in code and "21" not in code else "2021"
    features = int(info.get("features") or 0)
    facts = [
        f"{features:,} polygons, codes in {code}"
        + (f", names in {name}" if name else ", no name field (codes shown instead)"),
    ]
    settings: dict[str, Any] = {"code_column": code, "name_column": name}
    if layer is not None:
        settings["layer"] = layer
    return Candidate(
        path, "boundaries", f"LSOA {vintage} boundaries ({path.suffix.lstrip('.')})",
        settings=settings, facts=tuple(facts), date=date_in_name(path.name),
        date_from="name" if date_in_name(path.name) else "", header=tuple(fields),
        size=_size(path),
    )  # fmt: skip


def _preferred(options: list[str], order: Iterable[str]) -> str:
    lower = {o.lower(): o for o in options}
    return next((lower[o] for o in order if o in lower), options[0])


def _sniff(path: Path) -> tuple[list[str], str, int] | str:
    """The header of a CSV, its encoding and the title lines above the header, or why it
    cannot be one."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not head.strip():
        return "empty"
    if b"\x00" in head[:8192]:
        return "binary content, not a text table"
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut at the end of the sample
                text = head[: exc.start].decode(encoding)
            else:
                continue
        lines = text.splitlines()
        try:
            header = next(csv.reader(io.StringIO(lines[0] if lines else "")))
        except (csv.Error, StopIteration):
            return "not a comma-separated table"
        header = [h.strip() for h in header]
        titles = 0
        if sum(1 for h in header if h) < 2:
            # One title cell: a population sheet saved as CSV or a Nomis download keeps its
            # titles above the table; the population reader skips them the same way.
            found = header_below_titles("\n".join(lines))
            titles, header = (found[0], found[1]) if found else (0, header)
        if len(header) < 2:
            return "not a comma-separated table (one column)"
        return header, encoding, titles
    return "cannot decode the text (neither UTF-8 nor Windows-1252)"


def read_columns(candidate: Candidate, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Columns of a CSV candidate as text (blank cells empty).

    The encoding found in the file's first bytes is tried first, then Windows-1252: a GIAS
    extract's first accented name may lie far down the file.

    Raises
    ------
    pandas.errors.ParserError, UnicodeDecodeError, ValueError, OSError
        If the file cannot be read as a CSV.
    """
    wanted = list(dict.fromkeys(columns)) if columns is not None else None
    key: tuple[str | None, ...] = ("csv", *wanted) if wanted is not None else ("csv", None)
    if key not in candidate.tables:
        candidate.tables[key] = _read_columns(candidate, wanted)
    return candidate.tables[key].copy(deep=False)  # columns added by a caller stay its own


def _read_columns(candidate: Candidate, wanted: list[str] | None) -> pd.DataFrame:
    if candidate.titles:
        return _read_below_titles(candidate, wanted)
    encodings = list(dict.fromkeys([candidate.encoding, "cp1252"]))
    for encoding in encodings[:-1]:
        try:
            return pd.read_csv(
                candidate.path, dtype=str, keep_default_na=False, encoding=encoding,
                usecols=wanted,
            )  # fmt: skip
        except UnicodeDecodeError:
            continue
    return pd.read_csv(
        candidate.path, dtype=str, keep_default_na=False, encoding=encodings[-1], usecols=wanted
    )


def _read_below_titles(candidate: Candidate, wanted: list[str] | None) -> pd.DataFrame:
    # Rows of one cell below the table are a download's notes ("Figures may not sum ..."),
    # and blank lines are skipped: neither is an area.
    table = pd.read_csv(
        candidate.path, dtype=str, keep_default_na=False, encoding=candidate.encoding,
        skiprows=candidate.titles, skip_blank_lines=True,
    )  # fmt: skip
    table = table[(table != "").sum(axis=1) > 1].reset_index(drop=True)
    return table if wanted is None else table[wanted]


def read_fields(candidate: Candidate, columns: Iterable[str]) -> pd.DataFrame:
    """Fields of a vector candidate's layer as text (blank cells empty), without its shapes.

    Raises
    ------
    pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError
        If the layer cannot be read.
    """
    wanted = list(dict.fromkeys(columns))
    layer = candidate.settings.get("layer")
    key = ("fields", layer, *wanted)
    if key not in candidate.tables:
        from sitefinder.readers.gdal import caught

        with caught(candidate.path):  # the reader reads the file again and says its warnings
            frame = pyogrio.read_dataframe(
                candidate.path, layer=layer, read_geometry=False, columns=wanted
            )
        candidate.tables[key] = pd.DataFrame(frame).astype("string").fillna("").astype(str)
    return candidate.tables[key].copy(deep=False)


def named_column(header: Iterable[str], options: Iterable[str]) -> str | None:
    """The first of ``options`` (lower case) that ``header`` has, as the header spells it."""
    lower = {h.lower(): h for h in header}
    return next((lower[o] for o in options if o in lower), None)


def _table(path: Path) -> Candidate | Unplaced:
    sniffed = _sniff(path)
    if isinstance(sniffed, str):
        return Unplaced(path, sniffed)
    header, encoding, titles = sniffed
    base = Candidate(
        path, "schools", "", header=tuple(header), encoding=encoding, size=_size(path),
        titles=titles,
        date=date_in_name(path.name), date_from="name" if date_in_name(path.name) else "",
    )  # fmt: skip
    lower = {h.lower() for h in header}
    try:
        for test in (_gias, _sen2, _census, _districts, _sitefinder_layouts, _register,
                     _population, _mapped_schools, _postcodes):  # fmt: skip
            found = test(base, lower)
            if found is not None:
                return found
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        return Unplaced(path, f"cannot read as CSV ({_first_line(exc)})")
    return Unplaced(path, _unknown_table(header, lower))


def _unknown_table(header: list[str], lower: set[str]) -> str:
    location = named_column(lower, ("lon", "longitude", "easting", "x"))
    if (
        location
        and named_column(lower, ("name",))
        and not named_column(lower, SCHOOL_FIELDS["urn"])
    ):
        return (
            "names and coordinates but no URN column: not a schools table sitefinder can use"
            " (schools need their URN)"
        )
    need = named_column(lower, ("need_code", "primary_need", "need"))
    if need and named_column(lower, ("postcode",)) and named_column(lower, ("age", "nc_year")):
        return (
            "looks like a pupil list (one row per child): init does not write pupil-level"
            " demand; name it yourself under [inputs.demand] with method = 'pupils'"
        )
    if "time_period" in lower and "geographic_level" in lower:
        return (
            "a DfE statistics table sitefinder does not read (it reads the 'Education, health"
            " and care plans' caseload and primary-need files)"
        )
    shown = ", ".join(header[:6]) + (", ..." if len(header) > 6 else "")
    return f"columns not recognised ({shown})"


def _gias(base: Candidate, lower: set[str]) -> Candidate | None:
    header = set(base.header)
    if not {"URN", "EstablishmentName", "EstablishmentTypeGroup (name)"} <= header:
        return None
    missing = [GIAS_COLUMNS[k] for k in GIAS_REQUIRED if GIAS_COLUMNS[k] not in header]
    if missing:
        return None  # read through a mapping instead (see _mapped_schools)
    encoding = "Windows-1252" if base.encoding == "cp1252" else "UTF-8"
    facts = [f"{len(base.header)} columns, {encoding}"]
    return Candidate(
        **_fields(base), role="schools", kind="gias", layout="GIAS establishment extract",
        settings={"format": "gias"}, facts=tuple(facts),
    )  # fmt: skip


def _fields(base: Candidate) -> dict[str, Any]:
    return {
        "path": base.path, "header": base.header, "encoding": base.encoding, "size": base.size,
        "titles": base.titles,
        "date": base.date, "date_from": base.date_from, "tables": base.tables,
    }  # fmt: skip


def _sen2(base: Candidate, lower: set[str]) -> Candidate | None:
    if not {"time_period", "geographic_level", "breakdown_topic", "breakdown"} <= lower:
        return None
    if "ehc_plans" in lower and set(NEED_COLUMNS) <= lower:
        role: Role = "sen2_needs"
        layout = "DfE SEN2 primary-need file (EHC plans by need and age)"
    elif "ehcplans" in lower and set(BASE_PLACEMENTS) <= lower:
        role = "sen2_caseload"
        layout = "DfE SEN2 caseload file (EHC plans by placement and age)"
    else:
        return None
    periods = read_columns(base, [named_column(base.header, ["time_period"]) or "time_period"])
    years = sorted({census_year(p) for p in periods.iloc[:, 0].str.strip().unique() if p})
    if not years:
        return None
    span = f"January {years[0]}" + (f" to {years[-1]}" if len(years) > 1 else "")
    return Candidate(
        **{**_fields(base), "date": (years[-1],), "date_from": "content"},
        role=role, layout=layout, facts=(span,),
    )  # fmt: skip


def _sitefinder_layouts(base: Candidate, lower: set[str]) -> Candidate | None:
    header = set(base.header)
    schools = {"urn", "name", "phase", "establishment_group", "capacity", "pupils", "easting",
               "northing"}  # fmt: skip
    if schools <= header:
        return Candidate(
            **_fields(base), role="schools", kind="sitefinder", layout="sitefinder's schools CSV"
        )
    if {"area_code", "phase", "need_code", "children"} <= header:
        return Candidate(**_fields(base), role="demand", layout="sitefinder's demand counts CSV")
    if {"area_code", "easting", "northing"} <= header and not _ages(base.header):
        return Candidate(**_fields(base), role="areas", layout="sitefinder's areas CSV")
    return None


def _register(base: Candidate, lower: set[str]) -> Candidate | None:
    urn = named_column(base.header, SCHOOL_FIELDS["urn"])
    needs = named_column(base.header, ("need_codes", "need_groups"))
    phase = named_column(base.header, ("phase",))
    located = any(
        named_column(base.header, pair) for pair in (("lon",), ("easting",), ("longitude",))
    )
    if urn is None or needs is None or phase is None or located:
        return None
    columns: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    facts: list[str] = []
    if urn != "urn":
        columns["urn"] = urn
    if phase != "phase":
        columns["phase"] = phase
    if needs not in ("need_codes", "need_groups"):
        columns["need_codes"] = needs
    places = named_column(base.header, ("places", "capacity"))
    if places is None:
        low = named_column(base.header, ("places_min", "min_places", "places_low"))
        if low is not None:
            columns["places"] = low
            facts.append(
                f"places from {low}: where a range of places is published, the lower figure"
                " (the places promised)"
            )
        else:
            facts.append("no places column: every base gets default_base_capacity places")
    table = read_columns(base)
    kind = named_column(base.header, ("base_type",))
    if kind is not None:
        labels = sorted({v.strip() for v in table[kind] if v.strip()})
        known = {"resourced provision": "resourced_provision", "sen unit": "sen_unit"}
        translate: dict[str, str] = {}
        for label in labels:
            folded = label.casefold()
            if folded in ("resourced_provision", "sen_unit", "none"):
                continue
            translate[label] = known.get(folded, "none")
        left_out = sorted(k for k, v in translate.items() if v == "none")
        if translate:
            values["base_type"] = translate
        if left_out:
            facts.append(
                f"rows of base_type {', '.join(repr(k) for k in left_out)} are taken as not"
                " inclusion bases and left out (REVIEW: map a label to resourced_provision or"
                " sen_unit to keep its rows)"
            )
    phase_labels = {v.strip() for v in table[phase] if v.strip()}
    phases = {
        label: "all-through" if label.casefold() in ("all through", "all-through") else label
        for label in phase_labels
        if label.casefold() not in BASE_PHASES
    }
    if any(v == "all-through" for v in phases.values()):
        values["phase"] = {k: v for k, v in phases.items() if v == "all-through"}
    settings: dict[str, Any] = {}
    if columns:
        settings["columns"] = columns
    if values:
        settings["values"] = values
    layout = (
        "sitefinder's bases CSV"
        if {"urn", "base_type", "phase", "capacity", "need_codes"} <= set(base.header)
        else "a bases register"
    )
    facts.insert(0, f"{len(table)} row(s)")
    return Candidate(
        **_fields(base), role="bases", layout=layout, settings=settings, facts=tuple(facts)
    )


def _ages(header: Iterable[str]) -> dict[int, str]:
    return {int(m.group(1)): h for h in header if (m := _AGE.match(h.strip()))}


def population_ages(header: Iterable[str]) -> str | None:
    """What a population table's age columns are, in words ('single years of age 0-90',
    'age bands pop_0_4 .. pop_75_plus, spread evenly over single years'), or None when they
    do not cover the school ages 4-15."""
    header = list(header)
    if has_single_years(header):
        ages = _ages(header)
        return f"single years of age {min(ages)}-{max(ages)}"
    bands = band_columns(header)
    if bands and covers(bands, 4, 15):
        ordered = [bands[b] for b in sorted(bands)]
        return (
            f"age bands {ordered[0]} .. {ordered[-1]} ({len(ordered)}), spread evenly over single"
            " years when read"
        )
    return None


def _population(base: Candidate, lower: set[str]) -> Candidate | None:
    code = named_column(base.header, POPULATION_CODES)
    if code is None:
        return None
    header = list(base.header)
    single = is_population_header(header)
    if single:
        ages, sexes = age_columns(header)
        if all(age in ages for age in range(4, 16)):
            facts = [f"single years of age {min(ages)}-{max(ages)}, areas in {code}"]
        else:
            both = sorted(set(sexes["females"]) & set(sexes["males"]))
            facts = [
                f"single years of age {both[0]}-{both[-1]} by sex in columns (F0 ..., M0 ...),"
                f" added together; areas in {code}"
            ]
    elif (bands := population_ages(header)) is not None:
        facts = [f"{bands}, areas in {code}"]
    else:
        return None
    if base.titles:
        facts.append(f"its header at line {base.titles + 1}, below the title lines")
    sex = named_column(base.header, ("sex",))
    period = named_column(base.header, ("period", "mid_year", "year", "date"))
    date, date_from = base.date, base.date_from
    if sex is not None or period is not None:
        table = read_columns(base, [c for c in (sex, period) if c])
        if sex is not None:
            kinds = set(table[sex].str.strip().str.casefold())
            facts.append(
                "Persons rows"
                if kinds & {"persons", "all", "all persons"}
                else "female and male rows added together"
            )
        if period is not None:
            shown = sorted(set(table[period].str.strip()) - {""})
            if shown:
                facts.insert(0, f"period {shown[-1]}")
                found = date_in_name(shown[-1])
                if found:
                    date, date_from = found, "content"
    return Candidate(
        **{**_fields(base), "date": date, "date_from": date_from},
        role="population", layout="ONS population by small area and "
        + ("single year of age" if single else "age band"),
        facts=tuple(facts),
    )  # fmt: skip


def also_population(candidate: Candidate) -> Candidate | None:
    """A boundaries layer that holds population by age too (England's LSOA GeoPackage) as a
    population candidate: its fields are read without the polygons."""
    if candidate.role != "boundaries":
        return None
    ages = population_ages(candidate.header)
    if ages is None:
        return None
    code = candidate.settings["code_column"]
    return Candidate(
        candidate.path, "population",
        "population by small area and "
        + ("single year of age" if ages.startswith("single") else "age band")
        + f" in the fields of a map layer ({candidate.path.suffix.lstrip('.')})",
        settings={"layer": candidate.settings["layer"]} if candidate.settings.get("layer") else {},
        facts=(f"{ages}, areas in {code}",), date=candidate.date, date_from=candidate.date_from,
        header=candidate.header, size=candidate.size,
    )  # fmt: skip


def _census(base: Candidate, lower: set[str]) -> Candidate | None:
    census = census_layout(base.header)
    sen = None if census is not None else sen_layout(base.header)
    layout = census or sen
    if layout is None:
        return None
    period = layout.get("period")
    periods = read_columns(base, [period])[period] if period else None
    year = file_year(base.path, periods)
    facts = [f"January {year} census" if year else "census year not stated"]
    if census is not None:
        facts.append(
            "read by URN for what the schools file lacks: sex of school, admissions policy, ages"
            " on roll, pupils"
        )
    else:
        facts.append("read by URN for what the schools file lacks: pupils with EHC plans")
    return Candidate(
        **{**_fields(base), "date": (year,) if year else base.date,
           "date_from": "content" if year and periods is not None else base.date_from},
        role="census" if census is not None else "census_sen",
        layout="DfE school census, school level ("
        + ("pupils by age, sex of school, admissions)" if census is not None
           else "pupils with EHC plans and SEN support)"),
        facts=tuple(facts),
    )  # fmt: skip


def _districts(base: Candidate, lower: set[str]) -> Candidate | None:
    if not lookup_header(base.header) or base.size > 5_000_000:
        return None
    table = read_columns(base)
    columns = district_columns(table)
    if columns is None:
        return None
    lad, named = columns
    return Candidate(
        **_fields(base), role="districts",
        layout="lookup of local authority districts to education authorities",
        settings={"lad_column": lad, "authority_columns": tuple(named)},
        facts=(f"{len(table)} districts in {lad}, their authority in {', '.join(named)}",),
    )  # fmt: skip


def _numeric(values: pd.Series) -> bool:
    text = values.str.strip()
    text = text[~text.str.casefold().isin(_UNKNOWN)]
    return bool(pd.to_numeric(text, errors="coerce").notna().all())


def _labels_known(values: pd.Series, known: Iterable[str]) -> bool:
    folded = set(values.str.strip().str.casefold()) - _UNKNOWN
    return folded <= set(known)


def _mapped_schools(base: Candidate, lower: set[str]) -> Candidate | None:
    found = {key: named_column(base.header, names) for key, names in SCHOOL_FIELDS.items()}
    columns = {key: column for key, column in found.items() if column is not None}
    if "urn" not in columns or "name" not in columns:
        return None
    located = {"lon", "lat"} <= set(columns) or {"easting", "northing"} <= set(columns)
    if not located and "postcode" not in columns:
        return None
    table = read_columns(base, list(columns.values()))
    facts: list[str] = []
    left: list[str] = []
    # Coordinates are read in pairs, grid references before longitude/latitude.
    for pair in (("lon", "lat"), ("easting", "northing")):
        if not set(pair) <= set(columns):
            for key in pair:
                columns.pop(key, None)
    if {"easting", "northing"} <= set(columns):
        columns.pop("lon", None)
        columns.pop("lat", None)
    # "type" is the type group in some tables and the type in others: the values tell.
    if "establishment_group" not in columns and "establishment_type" not in columns:
        kind = named_column(base.header, ("type",))
        if kind is not None:
            labels = read_columns(base, [kind])[kind]
            key = (
                "establishment_group"
                if _labels_known(labels, TYPE_GROUPS)
                else "establishment_type"
            )
            columns[key] = kind
            table[kind] = labels
    if "establishment_group" in columns and not _labels_known(
        table[columns["establishment_group"]], (*TYPE_GROUPS, *_GROUPS)
    ):
        left.append(f"{columns.pop('establishment_group')} (labels not known as groups)")
    for key, known in (("gender", GENDERS), ("admissions_policy", ADMISSIONS),
                       ("base_type", BASE_TYPES)):  # fmt: skip
        if key in columns and not _labels_known(table[columns[key]], known):
            left.append(f"{columns.pop(key)} (labels not known)")
    for key in _NUMBER_FIELDS:
        if key in columns and not _numeric(table[columns[key]]):
            left.append(f"{columns.pop(key)} (not numbers)")
    if "status" in columns and not set(table[columns["status"]].str.strip().str.casefold()) & set(
        _OPEN_GIAS
    ):
        left.append(f"{columns.pop('status')} (no row says Open)")
    shown = ", ".join(f"{v} as {k}" if v != k else k for k, v in columns.items())
    facts.append(f"columns read: {shown}")
    if left:
        facts.append(f"columns not read: {'; '.join(left)}")
    if "establishment_group" not in columns and "establishment_type" not in columns:
        facts.append(
            "no establishment type or group: every school is taken as mainstream (REVIEW: add a"
            " column saying which are special, independent or PRUs)"
        )
    missing = [k for k in ("capacity", "pupils") if k not in columns]
    if missing:
        facts.append(
            f"no {' or '.join(missing)}: the spare-places rule cannot be checked (validate warns)"
        )
    return Candidate(
        **_fields(base), role="schools", kind="mapped",
        layout="a school table read through a column mapping",
        settings={"format": "mapped", "columns": columns}, facts=tuple(facts),
    )  # fmt: skip


def _postcodes(base: Candidate, lower: set[str]) -> Candidate | None:
    code = named_column(base.header, _POSTCODE_COLUMNS)
    grid = next((p for p in GRID_COLUMNS if all(named_column(base.header, [c]) for c in p)), None)
    lonlat = next(
        (p for p in LONLAT_COLUMNS if all(named_column(base.header, [c]) for c in p)), None
    )
    if code is None or (grid is None and lonlat is None):
        return None
    coords = grid or lonlat
    assert coords is not None
    area = named_column(base.header, POSTCODE_AREAS)
    facts = [
        f"postcodes in {code}, "
        + ("grid references" if grid else "longitude/latitude")
        + f" in {named_column(base.header, [coords[0]])}/{named_column(base.header, [coords[1]])}",
        f"each postcode's LSOA in {area}: an area's point is the mean of its postcodes"
        if area
        else "no LSOA column: an area's point is the mean of the postcodes inside its polygon",
    ]
    return Candidate(
        **_fields(base), role="postcodes", layout="postcode directory (ONSPD-style)",
        settings={"has_areas": area is not None}, facts=tuple(facts),
    )  # fmt: skip
