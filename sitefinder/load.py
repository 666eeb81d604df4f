"""Load the scenario's input files into validated tables.

Every file is read and checked before anything is raised, so one run reports every problem in
every file. Tables come back with clean types: URNs and codes as strings, counts as floats,
coordinates in EPSG:27700 metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from sitefinder.config import NEED_CODES, DemandInput, Scenario
from sitefinder.demand import fit_growth, modelled_demand
from sitefinder.files import file_sha256
from sitefinder.readers.areas import area_points, read_boundaries
from sitefinder.readers.establishments import read_establishments
from sitefinder.readers.population import read_population
from sitefinder.readers.postcodes import PostcodeLookup, read_postcodes
from sitefinder.readers.pupils import pupil_counts
from sitefinder.readers.sen2 import read_caseload, read_needs
from sitefinder.readers.tables import read_csv
from sitefinder.validate import Problems, check_extent

SCHOOL_PHASES = ("primary", "secondary", "all-through", "other")
PLACE_PHASES = ("primary", "secondary")
BASE_PHASES = ("primary", "secondary", "all-through")
ESTABLISHMENT_GROUPS = ("mainstream", "special", "independent", "pru", "other")
BASE_TYPES = ("resourced_provision", "sen_unit")
MAX_SCHOOL_PUPILS = 10_000  # the largest English schools have about 3,000 pupils
MAX_BASE_PLACES = 500  # bases have 5-40 places; 500 leaves room for a register's totals
MAX_CHILDREN_PER_ROW = 100_000  # children needing a base place in one area, phase and need


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
        out[column] = problems.numbers(
            path, table, column, minimum=0, maximum=MAX_SCHOOL_PUPILS, integer=True
        )
    if "ehcp_pupils" in table.columns:
        out["ehcp_pupils"] = problems.numbers(
            path,
            table,
            "ehcp_pupils",
            minimum=0,
            maximum=MAX_SCHOOL_PUPILS,
            integer=True,
            required=False,
        )
    else:
        out["ehcp_pupils"] = float("nan")
    out["easting"] = problems.numbers(path, table, "easting")
    out["northing"] = problems.numbers(path, table, "northing")
    problems.british_grid(path, out["easting"], out["northing"], ("easting", "northing"))
    return out


def _bases(path: Path, schools: pd.DataFrame | None, problems: Problems) -> pd.DataFrame | None:
    table = read_csv(path, problems, allow_empty=True)  # an authority may have no bases yet
    required = ("urn", "base_type", "phase", "capacity", "need_codes")
    if table is None or not problems.require_columns(path, table, required):
        return None
    out = pd.DataFrame({"urn": table["urn"].str.strip()})
    names = table["base_name"] if "base_name" in table.columns else pd.Series("", index=out.index)
    out["base_name"] = names.str.strip()
    problems.choices(path, table, "base_type", BASE_TYPES)
    problems.choices(path, table, "phase", BASE_PHASES)
    out["base_type"] = table["base_type"].str.strip()
    out["phase"] = table["phase"].str.strip()
    out["capacity"] = problems.numbers(
        path, table, "capacity", minimum=1, maximum=MAX_BASE_PLACES, integer=True
    )
    problems.bad_rows(
        path,
        "urn",
        table.duplicated(keep="first"),
        "repeats an earlier row exactly, which would count that base's places twice: delete"
        " the copy",
    )
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
    out["children"] = problems.numbers(
        path, table, "children", minimum=0, maximum=MAX_CHILDREN_PER_ROW
    )
    if areas is not None:
        problems.bad_rows(
            path,
            "area_code",
            ~out["area_code"].isin(areas["area_code"]),
            "not an area_code in the areas file (add the area or fix the code)",
        )
    return out


def _modelled(spec: DemandInput, problems: Problems, notes: list[str]) -> pd.DataFrame | None:
    assert spec.population and spec.sen2_needs and spec.authority
    population = read_population(spec.population, problems)
    needs = read_needs(spec.sen2_needs, problems, authority=spec.authority)
    caseload = (
        read_caseload(spec.sen2_caseload, problems, authority=spec.authority)
        if spec.sen2_caseload
        else None
    )
    if population is None or needs is None or (spec.sen2_caseload and caseload is None):
        return None
    if spec.share is not None:
        share, said = spec.share, "the scenario's inputs.demand.share"
    else:
        assert caseload is not None
        share = caseload.base_share
        said = (
            f"{spec.authority}'s share placed in mainstream resourced provision or SEN units,"
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
        f"demand modelled: population x {spec.authority}'s EHC-plan rates by need and age"
        f" (January {needs.year}, {needs.all_plans:,.0f} plans) x {share:.1%} ({said})"
    )
    notes.extend(modelled_notes)
    return table


def _areas_and_demand(
    scenario: Scenario, problems: Problems, postcodes: PostcodeLookup | None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, gpd.GeoDataFrame | None, list[str], list[str]]:
    files = scenario.inputs
    notes: list[str] = []
    warnings: list[str] = []
    boundaries = read_boundaries(files.boundaries, problems) if files.boundaries else None
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
        demand = _modelled(spec, problems, notes)
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
    postcodes = read_postcodes(files.postcodes, problems) if files.postcodes else None
    bases: pd.DataFrame | None
    if files.schools.format == "sitefinder":
        schools = _schools(files.schools.path, problems)
        bases = _bases(files.bases, schools, problems) if files.bases else None
    else:
        found = read_establishments(files.schools, problems, postcodes=postcodes)
        schools = found.schools if found else None
        bases = found.bases if found else None
        if found:
            notes.extend(found.notes)
            warnings.extend(found.warnings)
        if files.bases is not None:
            bases = _bases(files.bases, schools, problems)
            notes.append(f"existing bases from the register {files.bases}, not the schools file")
        elif bases is not None and bases.empty:
            bases = pd.DataFrame(
                columns=["urn", "base_name", "base_type", "phase", "capacity", "need_codes",
                         "easting", "northing"]
            )  # fmt: skip
    areas, demand, boundaries, area_notes, area_warnings = _areas_and_demand(
        scenario, problems, postcodes
    )
    notes.extend(area_notes)
    warnings.extend(area_warnings)
    if schools is not None and not (schools["establishment_group"] == "mainstream").any():
        problems.add(
            files.schools.path,
            "no mainstream schools, so there is nowhere to put a base (check"
            " inputs.schools.authority, the establishment types, or special_urns)",
        )
    where = files.demand.path or files.demand.population or "inputs.demand"
    if (
        demand is not None
        and demand.empty
        and not any(item.startswith(f"{where}: ") for item in problems.items)
    ):  # when its rows were refused above, "no children" would only repeat it
        problems.add(where, "no children needing a base place (check the demand inputs)")
    if schools is not None and areas is not None:
        warnings.extend(
            check_extent(
                problems,
                schools=schools,
                areas=areas,
                schools_path=files.schools.path,
                areas_path=files.areas or (files.boundaries.path if files.boundaries else ""),
                areas_trusted=files.areas is None,
            )
        )
    warnings.extend(problems.warnings)
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
    checksums = {name: file_sha256(path) for name, path in files.files().items()}
    return AuthorityData(schools, bases, areas, demand, boundaries, checksums, warnings, notes)
