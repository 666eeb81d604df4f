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

from sitefinder.authorities import Authority
from sitefinder.config import NEED_CODES, DemandInput, Scenario
from sitefinder.demand import fit_growth, modelled_demand
from sitefinder.readers.areas import area_points, read_boundaries
from sitefinder.readers.bases import COLUMNS as BASE_COLUMNS
from sitefinder.readers.bases import read_register
from sitefinder.readers.establishments import read_establishments
from sitefinder.readers.population import read_population
from sitefinder.readers.postcodes import PostcodeLookup, read_postcodes
from sitefinder.readers.pupils import pupil_counts
from sitefinder.readers.sen2 import read_caseload, read_needs
from sitefinder.readers.tables import read_csv
from sitefinder.supply import taught_ages
from sitefinder.validate import Problems

SCHOOL_PHASES = ("primary", "secondary", "all-through", "other")
PLACE_PHASES = ("primary", "secondary")
ESTABLISHMENT_GROUPS = ("mainstream", "special", "independent", "pru", "other")
GENDERS = ("mixed", "boys", "girls", "")
ADMISSIONS = ("selective", "non-selective", "not applicable", "")


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
    notes
        What the readers did (files read, estimates made), for the record.
    """

    schools: pd.DataFrame
    bases: pd.DataFrame
    areas: pd.DataFrame
    demand: pd.DataFrame
    boundaries: gpd.GeoDataFrame | None
    checksums: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _schools(path: Path, problems: Problems) -> pd.DataFrame | None:
    table = read_csv(path, problems)
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
    for column, allowed in (("gender", GENDERS), ("admissions_policy", ADMISSIONS)):
        values = (
            table[column].str.strip().str.casefold()
            if column in table.columns
            else pd.Series("", index=table.index)
        )
        problems.bad_rows(
            path,
            column,
            ~values.isin(allowed),
            f"must be one of {', '.join(a for a in allowed if a)}, or blank when not known",
        )
        out[column] = values
    for column in ("statutory_low_age", "statutory_high_age"):
        out[column] = (
            problems.numbers(path, table, column, minimum=0, required=False)
            if column in table.columns
            else float("nan")
        )
    out["easting"] = problems.numbers(path, table, "easting")
    out["northing"] = problems.numbers(path, table, "northing")
    problems.british_grid(path, out["easting"], out["northing"], ("easting", "northing"))
    return out


def _areas(path: Path, problems: Problems) -> pd.DataFrame | None:
    table = read_csv(path, problems)
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
    table = read_csv(path, problems)
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


def _modelled(
    spec: DemandInput,
    problems: Problems,
    notes: list[str],
    *,
    authority: Authority | None = None,
    sen2_authority: str | None = None,
) -> pd.DataFrame | None:
    named = spec.authority or sen2_authority  # inputs.demand.authority, else the scenario's
    assert spec.population and spec.sen2_needs and named
    population = read_population(spec.population, problems, authority=authority, notes=notes)
    needs = read_needs(spec.sen2_needs, problems, authority=named)
    caseload = (
        read_caseload(spec.sen2_caseload, problems, authority=named) if spec.sen2_caseload else None
    )
    if population is None or needs is None or (spec.sen2_caseload and caseload is None):
        return None
    if spec.share is not None:
        share, said = spec.share, "the scenario's inputs.demand.share"
    else:
        assert caseload is not None
        share = caseload.base_share
        said = (
            f"{named}'s share placed in mainstream resourced provision or SEN units,"
            f" January {caseload.latest_year}"
        )
    growth = fit_growth(needs, caseload) if spec.planning_year else None
    table, modelled_notes = modelled_demand(
        population,
        needs,
        share=share,
        ages=spec.ages,
        growth=growth,
        planning_year=spec.planning_year,
    )
    notes.append(
        f"demand modelled: population x {named}'s EHC-plan rates by need and age"
        f" (January {needs.year}, {needs.all_plans:,.0f} plans) x {share:.1%} ({said})"
    )
    notes.extend(modelled_notes)
    return table


def _areas_and_demand(
    scenario: Scenario,
    problems: Problems,
    postcodes: PostcodeLookup | None,
    authority: Authority | None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, gpd.GeoDataFrame | None, list[str], list[str]]:
    files = scenario.inputs
    notes: list[str] = []
    warnings: list[str] = []
    boundaries = (
        read_boundaries(
            files.boundaries, problems, authority=authority, notes=notes, postcodes=postcodes
        )
        if files.boundaries
        else None
    )
    if files.areas is not None:
        areas = _areas(files.areas, problems)
    elif boundaries is not None:
        areas, how = area_points(boundaries, postcodes)
        notes.append(
            f"{len(areas)} areas from {files.boundaries.path if files.boundaries else ''}: {how}"
        )
    else:
        areas = None
    spec = files.demand
    demand: pd.DataFrame | None = None
    if spec.method == "counts":
        assert spec.path is not None
        demand = _demand(spec.path, areas, problems)
    elif spec.method == "pupils":
        assert spec.path is not None
        if areas is not None:
            demand, pupil_warnings = pupil_counts(
                spec.path,
                problems,
                areas=areas,
                postcodes=postcodes,
                ages=spec.ages,
                threshold=scenario.suppression_threshold,
            )
            warnings.extend(pupil_warnings)
    else:
        demand = _modelled(
            spec, problems, notes, authority=authority, sen2_authority=scenario.sen2_authority
        )
        if demand is not None and areas is not None:
            unknown = sorted(set(demand["area_code"]) - set(areas["area_code"]))
            if unknown:
                warnings.append(
                    f"{spec.population}: {len(unknown)} area(s) have population but no point,"
                    f" e.g. {', '.join(unknown[:5])}; their children are left out"
                )
                demand = demand[demand["area_code"].isin(areas["area_code"])]
    return areas, demand, boundaries, notes, warnings


def load_inputs(scenario: Scenario) -> AuthorityData:
    """Read and validate every input file the scenario names.

    Raises
    ------
    DataError
        Listing every problem found in every file.
    """
    files = scenario.inputs
    problems = Problems()
    notes: list[str] = []
    warnings: list[str] = []
    authority = scenario.authority_info
    postcodes = (
        read_postcodes(files.postcodes, problems, authority=authority, notes=notes)
        if files.postcodes
        else None
    )
    if authority is not None and postcodes is not None:
        authority = authority.with_districts(postcodes.districts)
    bases: pd.DataFrame | None = None
    if files.schools.format == "sitefinder":
        schools = _schools(files.schools.path, problems)
    else:
        found = read_establishments(
            files.schools, problems, postcodes=postcodes, authority=authority
        )
        schools = found.schools if found else None
        if found:
            bases = found.bases if not found.bases.empty else pd.DataFrame(columns=BASE_COLUMNS)
            notes.extend(found.notes)
            moot = found.base_warnings if files.bases is not None else []
            warnings.extend(w for w in found.warnings if w not in moot)
            if authority is not None and authority.is_county:
                authority = authority.with_districts(found.districts)
    if schools is not None:
        schools = taught_ages(schools, ages=files.demand.ages)
    if files.bases is not None:
        if bases is not None and len(bases):
            notes.append(
                f"existing bases from the register {files.bases.path}, not the schools file"
                f" ({len(bases)} found there)"
            )
        register = read_register(
            files.bases,
            problems,
            schools=schools,
            need_groups=scenario.need_groups,
            default_places=files.schools.default_base_capacity,
        )
        bases = register.bases if register else None
        if register:
            notes.extend(register.notes)
            warnings.extend(register.warnings)
    areas, demand, boundaries, area_notes, area_warnings = _areas_and_demand(
        scenario, problems, postcodes, authority
    )
    notes.extend(area_notes)
    warnings.extend(area_warnings)
    if schools is not None and not (schools["establishment_group"] == "mainstream").any():
        problems.add(
            files.schools.path,
            "no mainstream schools, so there is nowhere to put a base (check"
            " inputs.schools.authority, the establishment types, or special_urns)",
        )
    if demand is not None and demand.empty:
        problems.add(
            files.demand.path or files.demand.population or "inputs.demand",
            "no children needing a base place (check the demand inputs)",
        )
    problems.raise_if_any()
    assert schools is not None and bases is not None and areas is not None
    assert demand is not None
    if boundaries is not None:
        missing = sorted(set(areas["area_code"]) - set(boundaries["area_code"]))
        if missing:
            warnings.append(
                f"{files.boundaries.path if files.boundaries else ''}: no polygon for"
                f" {len(missing)} area(s), e.g. {', '.join(missing[:5])}; those areas are"
                " exported as points"
            )
    checksums = {name: _checksum(path) for name, path in files.files().items()}
    return AuthorityData(schools, bases, areas, demand, boundaries, checksums, warnings, notes)
