"""Load the scenario's input files into validated tables.

Every file is read and checked before anything is raised, so one run reports every problem in
every file. Tables come back with clean types: URNs and codes as strings, counts as floats,
coordinates in EPSG:27700 metres.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio.errors

from sitefinder.config import NEED_CODES, Scenario
from sitefinder.validate import Problems

SCHOOL_PHASES = ("primary", "secondary", "all-through")
PLACE_PHASES = ("primary", "secondary")
ESTABLISHMENT_GROUPS = ("mainstream", "special", "independent")
BASE_TYPES = ("resourced_provision", "sen_unit")


@dataclass(frozen=True)
class AuthorityData:
    """The validated inputs of one authority.

    Attributes
    ----------
    schools
        One row per school: ``urn, name, phase, establishment_group, capacity, pupils,
        ehcp_pupils, easting, northing`` (metres, EPSG:27700).
    bases
        One row per existing base: ``urn, base_name, base_type, phase, capacity, need_codes``
        (``need_codes`` a tuple of SEN2 codes), plus the host's ``easting, northing``.
    areas
        One row per small area: ``area_code, area_name, easting, northing``.
    demand
        Children needing a base place: ``area_code, phase, need_code, children``.
    boundaries
        Area polygons in EPSG:27700 with ``area_code``, or None when not supplied.
    checksums
        SHA-256 of each input file, keyed by the scenario's input name.
    warnings
        Problems that do not stop a run.
    """

    schools: pd.DataFrame
    bases: pd.DataFrame
    areas: pd.DataFrame
    demand: pd.DataFrame
    boundaries: gpd.GeoDataFrame | None
    checksums: dict[str, str]
    warnings: list[str] = field(default_factory=list)


def _read_csv(path: Path, problems: Problems, *, allow_empty: bool = False) -> pd.DataFrame | None:
    if not path.is_file():
        problems.add(path, "file not found (check the path in the scenario's [inputs])")
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            problems.add(path, "file is empty (it needs a header row and data rows)")
            return None
        except (pd.errors.ParserError, OSError) as exc:
            problems.add(path, f"cannot read as CSV ({str(exc).strip()})")
            return None
        table.columns = [str(c).strip() for c in table.columns]
        if table.empty and not allow_empty:
            problems.add(path, "has a header but no data rows")
            return None
        return table
    problems.add(path, "cannot decode the text (save it as UTF-8)")
    return None


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _schools(path: Path, problems: Problems) -> pd.DataFrame | None:
    table = _read_csv(path, problems)
    required = (
        "urn", "name", "phase", "establishment_group", "capacity", "pupils", "easting", "northing",
    )  # fmt: skip
    if table is None or not problems.require_columns(path, table, required):
        return None
    out = pd.DataFrame({"urn": table["urn"].str.strip(), "name": table["name"].str.strip()})
    problems.bad_rows(path, "urn", out["urn"] == "", "blank value (every school needs its URN)")
    problems.unique(path, out, "urn")
    problems.choices(path, table, "phase", SCHOOL_PHASES)
    problems.choices(path, table, "establishment_group", ESTABLISHMENT_GROUPS)
    out["phase"] = table["phase"].str.strip()
    out["establishment_group"] = table["establishment_group"].str.strip()
    for column in ("capacity", "pupils"):
        out[column] = problems.numbers(path, table, column, minimum=0, integer=True)
    if "ehcp_pupils" in table.columns:
        out["ehcp_pupils"] = problems.numbers(
            path, table, "ehcp_pupils", minimum=0, integer=True, required=False
        )
    else:
        out["ehcp_pupils"] = float("nan")
    out["easting"] = problems.numbers(path, table, "easting")
    out["northing"] = problems.numbers(path, table, "northing")
    problems.british_grid(path, out["easting"], out["northing"], ("easting", "northing"))
    return out


def _bases(path: Path, schools: pd.DataFrame | None, problems: Problems) -> pd.DataFrame | None:
    table = _read_csv(path, problems, allow_empty=True)  # an authority may have no bases yet
    required = ("urn", "base_type", "phase", "capacity", "need_codes")
    if table is None or not problems.require_columns(path, table, required):
        return None
    out = pd.DataFrame({"urn": table["urn"].str.strip()})
    names = table["base_name"] if "base_name" in table.columns else pd.Series("", index=out.index)
    out["base_name"] = names.str.strip()
    problems.choices(path, table, "base_type", BASE_TYPES)
    problems.choices(path, table, "phase", PLACE_PHASES)
    out["base_type"] = table["base_type"].str.strip()
    out["phase"] = table["phase"].str.strip()
    out["capacity"] = problems.numbers(path, table, "capacity", minimum=1, integer=True)
    codes = table["need_codes"].str.split(";").map(lambda parts: tuple(p.strip() for p in parts))
    bad_code = codes.map(lambda cs: not cs or any(c not in NEED_CODES for c in cs))
    problems.bad_rows(
        path,
        "need_codes",
        bad_code,
        f"need codes separated by ';', each one of {', '.join(NEED_CODES)}",
    )
    out["need_codes"] = codes
    if schools is not None:
        hosts = schools.drop_duplicates("urn").set_index("urn")
        known = out["urn"].isin(hosts.index)
        problems.bad_rows(
            path, "urn", ~known, "not a URN in the schools file (add the host school)"
        )
        host = hosts.reindex(out["urn"])
        not_mainstream = known.to_numpy() & (host["establishment_group"] != "mainstream").to_numpy()
        problems.bad_rows(
            path,
            "urn",
            pd.Series(not_mainstream, index=out.index),
            "host is not a mainstream school (inclusion bases sit in mainstream schools)",
        )
        mismatch = known.to_numpy() & ~(
            (host["phase"].to_numpy() == out["phase"].to_numpy())
            | (host["phase"].to_numpy() == "all-through")
        )
        problems.bad_rows(
            path,
            "phase",
            pd.Series(mismatch, index=out.index),
            "does not match the host school's phase",
        )
        out["easting"] = host["easting"].to_numpy()
        out["northing"] = host["northing"].to_numpy()
    return out


def _areas(path: Path, problems: Problems) -> pd.DataFrame | None:
    table = _read_csv(path, problems)
    if table is None or not problems.require_columns(
        path, table, ("area_code", "easting", "northing")
    ):
        return None
    out = pd.DataFrame({"area_code": table["area_code"].str.strip()})
    problems.unique(path, out, "area_code")
    names = table["area_name"] if "area_name" in table.columns else out["area_code"]
    out["area_name"] = names.str.strip()
    out["easting"] = problems.numbers(path, table, "easting")
    out["northing"] = problems.numbers(path, table, "northing")
    problems.british_grid(path, out["easting"], out["northing"], ("easting", "northing"))
    return out


def _demand(path: Path, areas: pd.DataFrame | None, problems: Problems) -> pd.DataFrame | None:
    table = _read_csv(path, problems)
    required = ("area_code", "phase", "need_code", "children")
    if table is None or not problems.require_columns(path, table, required):
        return None
    out = pd.DataFrame({c: table[c].str.strip() for c in ("area_code", "phase", "need_code")})
    problems.choices(path, table, "phase", PLACE_PHASES)
    problems.choices(path, table, "need_code", NEED_CODES)
    out["children"] = problems.numbers(path, table, "children", minimum=0)
    if areas is not None:
        problems.bad_rows(
            path,
            "area_code",
            ~out["area_code"].isin(areas["area_code"]),
            "not an area_code in the areas file (add the area or fix the code)",
        )
    return out


def _boundaries(path: Path, problems: Problems) -> gpd.GeoDataFrame | None:
    if not path.is_file():
        problems.add(path, "file not found (check inputs.boundaries, or remove it)")
        return None
    try:
        frame = gpd.read_file(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        problems.add(path, f"cannot read as a vector file ({exc})")
        return None
    if "area_code" not in frame.columns:
        problems.add(path, "missing column area_code (it links polygons to the areas file)")
        return None
    if frame.crs is None:
        problems.add(path, "has no coordinate reference system (set one, e.g. EPSG:4326)")
        return None
    frame = frame[["area_code", "geometry"]].to_crs(27700)
    frame["area_code"] = frame["area_code"].astype(str).str.strip()
    return frame


def load_inputs(scenario: Scenario) -> AuthorityData:
    """Read and validate every input file the scenario names.

    Raises
    ------
    DataError
        Listing every problem found in every file.
    """
    files = scenario.inputs
    problems = Problems()
    schools = _schools(files.schools, problems)
    bases = _bases(files.bases, schools, problems)
    areas = _areas(files.areas, problems)
    demand = _demand(files.demand, areas, problems)
    boundaries = _boundaries(files.boundaries, problems) if files.boundaries else None
    if schools is not None and not (schools["establishment_group"] == "mainstream").any():
        problems.add(files.schools, "no mainstream schools, so there is nowhere to put a base")
    problems.raise_if_any()
    assert schools is not None and bases is not None and areas is not None
    assert demand is not None
    warnings = []
    if boundaries is not None:
        missing = sorted(set(areas["area_code"]) - set(boundaries["area_code"]))
        if missing:
            warnings.append(
                f"{files.boundaries}: no polygon for {len(missing)} area(s), e.g."
                f" {', '.join(missing[:5])}; those areas are exported as points"
            )
    checksums = {
        name: _checksum(Path(value))
        for name, value in files.model_dump().items()
        if value is not None
    }
    return AuthorityData(schools, bases, areas, demand, boundaries, checksums, warnings)
