"""Load the scenario's input files into validated tables.

Every file is read and checked before anything is raised, so one run reports every problem in
every file. Tables come back with clean types: URNs and codes as strings, counts as floats,
coordinates in EPSG:27700 metres.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sitefinder.authorities import Authority
from sitefinder.config import BoundariesInput, DemandInput, Phase, Scenario
from sitefinder.demand import (
    BaseShares,
    DemandBasis,
    Projection,
    base_shares,
    demand_by_phase,
    fit_growth,
    low_demand_warning,
    modelled_demand,
)
from sitefinder.disclosure import format_count
from sitefinder.errors import ScenarioError
from sitefinder.existing_places import InBases, check_existing_places
from sitefinder.files import file_sha256
from sitefinder.readers.areas import area_points, read_boundaries
from sitefinder.readers.bases import COLUMNS as BASE_COLUMNS
from sitefinder.readers.bases import read_register
from sitefinder.readers.census import apply_census
from sitefinder.readers.districts import read_districts
from sitefinder.readers.establishments import read_establishments
from sitefinder.readers.own_layout import read_areas, read_demand_counts, read_schools
from sitefinder.readers.population import read_population
from sitefinder.readers.postcodes import PostcodeLookup, read_postcodes
from sitefinder.readers.pupils import pupil_counts
from sitefinder.readers.sen2 import Caseload, caseload_of, needs_of, read_sen2_of
from sitefinder.readers.special import apply_special_register
from sitefinder.readers.tables import read_csv
from sitefinder.supply import taught_ages
from sitefinder.validate import NumberRule, Problems, check_extent, nearest_metres

if TYPE_CHECKING:
    import geopandas as gpd


class DeferredBoundaries:
    """A boundaries file read when its polygons are first asked for.

    When the areas come from their own table, only the GeoPackage, the map and the report draw
    the polygons; reading them (GeoPandas, GDAL and a projection) would add about 0.2 s to every
    ``rank``. ``validate`` still reads them with every other file (:func:`load_inputs`).

    Parameters
    ----------
    spec
        The scenario's ``[inputs.boundaries]``.
    authority, postcodes
        What cuts the file to the authority, as when read at once.
    area_codes
        The areas of the run: those without a polygon are named in a warning.
    """

    def __init__(
        self,
        spec: BoundariesInput,
        *,
        authority: Authority | None,
        postcodes: PostcodeLookup | None,
        area_codes: pd.Series,
    ) -> None:
        self._spec, self._authority, self._postcodes = spec, authority, postcodes
        self._area_codes = area_codes
        self._frame: gpd.GeoDataFrame | None = None
        self._read = False

    def read(self, warnings: list[str], notes: list[str]) -> gpd.GeoDataFrame | None:
        """The polygons, read once; the reader's warnings and notes are added to ``warnings``
        and ``notes``.

        Raises
        ------
        DataError
            Listing every problem in the file.
        """
        if not self._read:
            problems = Problems()
            found: list[str] = []
            frame = read_boundaries(
                self._spec, problems, authority=self._authority, notes=found,
                postcodes=self._postcodes,
            )  # fmt: skip
            problems.raise_if_any()
            notes.extend(found)
            warnings.extend(problems.warnings)
            if frame is not None:
                warnings.extend(_missing_polygons(self._area_codes, frame, self._spec.path))
            self._frame, self._read = frame, True
        return self._frame


def _missing_polygons(
    area_codes: pd.Series, boundaries: gpd.GeoDataFrame, path: Path | str
) -> list[str]:
    """A warning naming the areas that have no polygon (none when every area has one)."""
    missing = sorted(set(area_codes) - set(boundaries["area_code"]))
    if not missing:
        return []
    return [
        f"{path}: no polygon for {len(missing)} area(s), e.g. {', '.join(missing[:5])}; those"
        " areas are exported as points"
    ]


@dataclass(frozen=True)
class AuthorityData:
    """The validated inputs of one authority.

    Attributes
    ----------
    schools
        One row per school: ``urn, name, phase, establishment_group, capacity, pupils,
        ehcp_pupils, easting, northing`` (metres, EPSG:27700), ``need_codes`` (SEN2 codes of
        the SEN provision recorded, separated by ";"; blank when none is recorded).
    bases
        One row per existing base: ``urn, base_name, base_type, phase, capacity,
        capacity_assumed, need_codes`` (``need_codes`` a tuple of SEN2 codes;
        ``capacity_assumed`` true where no capacity was recorded), plus the host's
        ``easting, northing``.
    areas
        One row per small area: ``area_code, area_name, easting, northing``.
    demand
        Children needing a base place: ``area_code, phase, need_code, age, children`` (``age``
        in years, blank where the input gives none).
    polygons
        Area polygons in EPSG:27700 with ``area_code``, a file read when they are first asked
        for (:class:`DeferredBoundaries`), or None when not supplied; use :attr:`boundaries`.
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
    polygons: gpd.GeoDataFrame | DeferredBoundaries | None
    checksums: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    border_bases: pd.DataFrame = field(default_factory=pd.DataFrame)
    basis: DemandBasis | None = None
    additional: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def boundaries(self) -> gpd.GeoDataFrame | None:
        """Area polygons in EPSG:27700 with ``area_code``, or None when not supplied (read
        from their file now if deferred: :meth:`read_boundaries`)."""
        return self.read_boundaries()

    def read_boundaries(self) -> gpd.GeoDataFrame | None:
        """The area polygons, read now if deferred, adding the reader's warnings and notes to
        this data's (so read them before publishing a run that draws them).

        Raises
        ------
        DataError
            Listing every problem in the boundaries file.
        """
        if isinstance(self.polygons, DeferredBoundaries):
            return self.polygons.read(self.warnings, self.notes)
        return self.polygons


@dataclass(frozen=True)
class _Sen2:
    """The authority's and England's SEN2 caseloads, read from one file, once."""

    authority: Caseload | None
    england: Caseload | None


class _Digests(dict[str, str]):
    """SHA-256 of each input file, keyed by path: each file is hashed once a run (for the
    SEN2 cache's keys and the outputs' checksums)."""

    def of(self, path: Path) -> str | None:
        """The file's SHA-256, or None when it cannot be read (its reader says why)."""
        key = str(path)
        if key not in self:
            try:
                self[key] = file_sha256(path)
            except OSError:
                return None
        return self[key]


def _caseloads(spec: DemandInput, problems: Problems, digests: _Digests) -> _Sen2 | None:
    """Read the caseload file once and take the authority and England out of it."""
    if spec.sen2_caseload is None or spec.authority is None:
        return _Sen2(None, None)
    file = read_sen2_of(
        spec.sen2_caseload,
        problems,
        kind="caseload",
        geographies=[spec.authority, "England"],
        sha256=digests.of(spec.sen2_caseload),
    )
    if file is None:
        return None
    authority = caseload_of(file, spec.authority, problems)
    if authority is None:
        return None
    england = caseload_of(file, "England", problems) if file.geographies("national") else None
    return _Sen2(authority, england)


def _share_notes(spec: DemandInput, shares: BaseShares, name: str) -> list[str]:
    """A note on the shares of plans in bases by phase, the authority's (``name``) and
    England's, when the authority's are known."""
    if all(np.isnan(v) for v in shares.authority.values()):
        return []
    shown = "; ".join(
        f"{phase} (ages {low}-{high}) {name} {shares.authority[phase]:.1%}"
        + (f", England {shares.england[phase]:.1%}" if shares.england[phase] >= 0 else "")
        for phase, (low, high) in spec.ages.items()
    )
    return [
        "share of EHC plans in mainstream resourced provision or SEN units, SEN2 January"
        f" {shares.year}: {shown}"
    ]


def _modelled_note(spec: DemandInput, demand: pd.DataFrame, sen2: _Sen2, threshold: int) -> str:
    """The modelled demand by phase, against SEN2's children in bases today when known
    (counts below ``threshold`` withheld)."""
    totals = demand_by_phase(demand)
    modelled = ", ".join(
        f"{phase} {format_count(float(totals.get(phase, 0.0)), threshold)}" for phase in spec.ages
    )
    placed = ""
    if sen2.authority is not None and sen2.authority.age_year is not None:
        today = ", ".join(
            f"{phase} {format_count(sen2.authority.in_bases_at(low, high), threshold)}"
            for phase, (low, high) in spec.ages.items()
        )
        placed = (
            f" (SEN2 January {sen2.authority.age_year}, children in mainstream bases today:"
            f" {today})"
        )
    return f"modelled demand by phase: {modelled} children{placed}"


def _modelled(
    spec: DemandInput,
    problems: Problems,
    notes: list[str],
    *,
    authority: Authority | None,
    digests: _Digests,
) -> tuple[pd.DataFrame | None, BaseShares | None, str, _Sen2 | None, pd.DataFrame | None]:
    assert spec.population and spec.sen2_needs and spec.authority
    population = read_population(spec.population, problems, authority=authority, notes=notes)
    needs_file = read_sen2_of(
        spec.sen2_needs,
        problems,
        kind="needs",
        geographies=[spec.authority],
        sha256=digests.of(spec.sen2_needs),
    )
    needs = needs_of(needs_file, spec.authority, problems) if needs_file else None
    sen2 = _caseloads(spec, problems, digests)
    if population is None or needs is None or sen2 is None:
        return None, None, "", sen2, None
    shares, share_problems = base_shares(
        spec.share, ages=spec.ages, authority=sen2.authority, england=sen2.england
    )
    for message in share_problems:
        problems.add(spec.sen2_caseload or "inputs.demand.share", message)
    if shares is None:
        return None, None, "", sen2, None
    projection = (
        Projection(fit_growth(needs, sen2.authority), spec.planning_year)
        if spec.planning_year
        else None
    )
    table, modelled_notes = modelled_demand(
        population, needs, share=shares.by_age, ages=spec.ages, projection=projection
    )
    name = needs.name or spec.authority
    notes.append(
        f"demand modelled: population x {name}'s EHC-plan rates by need and age (January"
        f" {needs.year}, {needs.all_plans:,.0f} plans) x the share of plans needing a base"
        f" place: {shares.described}"
    )
    notes.extend(modelled_notes)
    return table, shares, name, sen2, population


def _demand_spec(scenario: Scenario) -> DemandInput:
    """``inputs.demand`` with its SEN2 authority: its own, else the scenario's."""
    spec = scenario.inputs.demand
    if spec.authority is None and scenario.sen2_authority is not None:
        return spec.model_copy(update={"authority": scenario.sen2_authority})
    return spec


@dataclass(frozen=True)
class _Demand:
    areas: pd.DataFrame | None
    demand: pd.DataFrame | None
    boundaries: gpd.GeoDataFrame | None  # None also when deferred
    sen2: _Sen2 | None
    notes: list[str]
    warnings: list[str]
    population: pd.DataFrame | None = None


def _areas_and_demand(
    scenario: Scenario,
    problems: Problems,
    postcodes: PostcodeLookup | None,
    authority: Authority | None,
    digests: _Digests,
    *,
    boundaries_now: bool,
) -> _Demand:
    files = scenario.inputs
    notes: list[str] = []
    warnings: list[str] = []
    boundaries = (
        read_boundaries(
            files.boundaries, problems, authority=authority, notes=notes, postcodes=postcodes
        )
        if files.boundaries and boundaries_now
        else None
    )
    if files.areas is not None:
        areas = read_areas(files.areas, problems, authority=authority, notes=notes)
    elif boundaries is not None:
        areas, how = area_points(boundaries, postcodes)
        notes.append(
            f"{len(areas)} areas from {files.boundaries.path if files.boundaries else ''}: {how}"
        )
    else:
        areas = None
    spec = _demand_spec(scenario)
    demand: pd.DataFrame | None = None
    sen2: _Sen2 | None = None
    population: pd.DataFrame | None = None
    if spec.method == "counts":
        assert spec.path is not None
        demand = read_demand_counts(spec.path, problems, areas=areas, ages=spec.ages)
    elif spec.method == "pupils":
        assert spec.path is not None
        if areas is not None:
            demand, pupil_warnings = pupil_counts(
                spec,
                problems,
                areas=areas,
                postcodes=postcodes,
                threshold=scenario.suppression_threshold,
            )
            warnings.extend(pupil_warnings)
    if spec.method != "modelled":
        sen2 = _caseloads(spec, problems, digests)  # for the check of existing places
    else:
        demand, shares, name, sen2, population = _modelled(
            spec, problems, notes, authority=authority, digests=digests
        )
        if demand is not None and areas is not None:
            counted = set(demand["area_code"].unique())  # one per area, not per row
            uncounted = sorted(set(areas["area_code"]) - counted)
            if uncounted:
                warnings.append(
                    f"{spec.population}: no population for {len(uncounted)} of the"
                    f" {len(areas)} areas, e.g. {', '.join(uncounted[:5])}; no children are"
                    " modelled there and the authority's EHC plans are spread over the other"
                    " areas (check that the population file covers every area)"
                )
            unknown = sorted(counted - set(areas["area_code"]))
            if unknown:
                warnings.append(
                    f"{spec.population}: {len(unknown)} area(s) have population but no point,"
                    f" e.g. {', '.join(unknown[:5])}; their children are left out"
                )
                demand = demand[demand["area_code"].isin(areas["area_code"])]
        if demand is not None and shares is not None and sen2 is not None:
            warnings.extend(shares.warnings)
            notes.extend(_share_notes(spec, shares, name))
            notes.append(_modelled_note(spec, demand, sen2, scenario.suppression_threshold))
    if demand is not None and not demand.empty:
        source = spec.path or spec.population or "inputs.demand"
        low = low_demand_warning(
            demand[demand["phase"].isin(scenario.phases)],
            threshold=scenario.suppression_threshold,
            source=str(source),
        )
        if low:
            warnings.append(low)
    return _Demand(areas, demand, boundaries, sen2, notes, warnings, population)


def _check_places(
    scenario: Scenario, bases: pd.DataFrame, sen2: _Sen2 | None
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Existing places against SEN2's children in bases, when the caseload file is given."""
    spec = _demand_spec(scenario)
    if sen2 is None or sen2.authority is None or sen2.authority.age_year is None:
        if bases.empty:  # with SEN2's children in bases, check_existing_places says more
            return (
                bases,
                [
                    "existing bases: none given, and no SEN2 count of children in bases to"
                    " check against (inputs.demand.sen2_caseload), so every child starts"
                    " without a base place; if the authority has resourced provision or SEN"
                    " units, give them (a bases register as inputs.bases, or a schools file"
                    " with their flags)"
                ],
                [],
            )
        if scenario.inputs.schools.capacity_from == "sen2" and sen2 is not None:
            return (
                bases,
                [
                    f"{spec.sen2_caseload}: no base placements by age for {spec.authority} in"
                    ' any year, so inputs.schools.capacity_from = "sen2" cannot scale the'
                    " assumed places: they are kept"
                ],
                [],
            )
        return bases, [], []
    children: dict[str, float] = {
        phase: sen2.authority.in_bases_at(low, high) for phase, (low, high) in spec.ages.items()
    }
    check = check_existing_places(
        bases,
        in_bases=InBases(
            children=children,
            year=sen2.authority.age_year,
            authority=sen2.authority.name or str(spec.authority),
        ),
        capacity_from=scenario.inputs.schools.capacity_from,
        default_capacity=scenario.inputs.schools.default_base_capacity,
        threshold=scenario.suppression_threshold,
    )
    return check.bases, check.warnings, check.notes


def _empty_additional() -> pd.DataFrame:
    return pd.DataFrame(columns=["year", "area_code", "phase", "need_code", "age", "children"])


def _additional(
    path: Path, problems: Problems, *, areas: pd.DataFrame, ages: Mapping[Phase, tuple[int, int]]
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Children the authority knows need a base place beyond the model
    (``inputs.demand.additional``): those with no ``year`` (today's) and those with one."""
    found = read_demand_counts(path, problems, areas=areas, ages=ages)
    table = read_csv(path, problems)
    if found is None or table is None:
        return None
    year = (
        problems.numbers(
            path,
            table,
            "year",
            rule=NumberRule(minimum=2000, maximum=2100, integer=True, required=False),
        )
        if "year" in table.columns
        else pd.Series(np.nan, index=table.index)
    )
    dated = year.notna().to_numpy()
    now = found[~dated].reset_index(drop=True)
    later = found[dated].assign(year=year[dated].to_numpy(dtype=int)).reset_index(drop=True)
    return now, later[["year", "area_code", "phase", "need_code", "age", "children"]]


def _within_border_reach(
    schools: pd.DataFrame, areas: pd.DataFrame, *, km: float, crowfly: bool
) -> tuple[pd.DataFrame, list[str]]:
    """The authority's schools and the special schools of other authorities within ``km`` of
    one of ``areas``' points (the areas its children live in; the rest are beyond any journey
    a child would make to them)."""
    if "cross_border" not in schools.columns or not schools["cross_border"].any():
        return schools, []
    points = areas[["easting", "northing"]].to_numpy(dtype=float)
    points = points[np.isfinite(points).all(axis=1)]
    across = schools["cross_border"].to_numpy(dtype=bool)
    xy = schools[["easting", "northing"]].to_numpy(dtype=float)
    near = np.zeros(len(schools), dtype=bool)
    located = across & np.isfinite(xy).all(axis=1)
    if len(points) and located.any():
        near[located] = nearest_metres(points, xy[located]) <= km * 1000.0
    kept = schools[~across | near].reset_index(drop=True)
    shown = kept[kept["cross_border"] & (kept["establishment_group"] != "mainstream")]
    hosts = kept[kept["cross_border"] & (kept["establishment_group"] == "mainstream")]
    names = ", ".join(f"{r.name} ({r.urn})" for r in shown.head(10).itertuples())
    names += f" and {len(shown) - 10} more" if len(shown) > 10 else ""
    count = len(shown)
    note = (
        f"{count} special school(s) of other authorities lie within {km:g} km of the areas and"
        f" may take children without a base place (cross-border): {names}"
        + (
            "; their journeys are crow-fly estimates, which do not see water: where the border"
            " is an estuary or the sea, route on roads or set inputs.schools.cross_border_km = 0"
            if crowfly
            else ""
        )
        if count
        else f"no special school of another authority lies within {km:g} km of the areas"
    )
    if len(hosts):
        listed = ", ".join(f"{r.name} ({r.urn})" for r in hosts.head(10).itertuples())
        listed += f" and {len(hosts) - 10} more" if len(hosts) > 10 else ""
        note += (
            f"; {len(hosts)} mainstream school(s) of other authorities within {km:g} km may host"
            f" a new base (candidates.cross_border), flagged in every output: {listed}"
        )
    return kept, [note]


def load_inputs(scenario: Scenario, *, defer_boundaries: bool = True) -> AuthorityData:
    """Read and validate every input file the scenario names.

    Parameters
    ----------
    scenario
        The validated scenario.
    defer_boundaries
        When the areas come from their own table, leave the boundaries file (only drawn by the
        GeoPackage, the map and the report) to be read and checked when first asked for
        (:attr:`AuthorityData.boundaries`); False reads and checks it now with the others.

    Raises
    ------
    DataError
        Listing every problem found in every file.
    """
    if scenario.is_national:
        raise ScenarioError(
            f"authority = {scenario.authority!r}: a national scenario is ranked authority by"
            " authority by sitefinder rank (and checked by sitefinder validate); this command"
            " takes one authority: set authority to one of them (its name, GSS code or DfE LA"
            " code, e.g. --set authority=Trafford with sitefinder sweep)"
        )
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
    if authority is not None and files.districts is not None:
        authority = authority.with_districts(
            read_districts(files.districts, problems, authority=authority, notes=notes)
        )
    bases: pd.DataFrame | None = None
    authority_of: dict[str, str] = {}
    if files.schools.format == "sitefinder":
        schools = read_schools(files.schools.path, problems)
    else:
        found = read_establishments(
            files.schools, problems, postcodes=postcodes, authority=authority,
            hosts_across=scenario.candidates.cross_border,
        )  # fmt: skip
        schools = found.schools if found else None
        if found:
            bases = found.bases if not found.bases.empty else pd.DataFrame(columns=BASE_COLUMNS)
            notes.extend(found.notes)
            moot = found.base_warnings if files.bases is not None else []
            warnings.extend(w for w in found.warnings if w not in moot)
            if authority is not None and authority.is_county:
                authority = authority.with_districts(found.districts)
            authority_of = found.authority_of
    if schools is not None and files.special_schools is not None:
        listed = apply_special_register(files.special_schools, problems, schools=schools)
        schools = listed.schools if listed else None
        if listed:
            notes.extend(listed.notes)
    if schools is not None and (files.schools.census or files.schools.census_sen):
        if not authority_of and authority is not None:  # the file does not say: the planned one
            own = ~schools["cross_border"] if "cross_border" in schools else True
            authority_of = dict.fromkeys(schools.loc[own, "urn"].astype(str), authority.name)
        filled = apply_census(
            schools, census=files.schools.census, sen=files.schools.census_sen, problems=problems,
            authority_of=authority_of,
        )  # fmt: skip
        schools = filled.schools if filled else None
        if filled:
            notes.extend(filled.notes)
            warnings.extend(filled.warnings)
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
    border = pd.DataFrame(columns=BASE_COLUMNS)
    digests = _Digests()
    # Without their own table the areas are the polygons: read them now whatever was asked.
    deferred = defer_boundaries and files.areas is not None and files.boundaries is not None
    found_demand = _areas_and_demand(
        scenario, problems, postcodes, authority, digests, boundaries_now=not deferred
    )
    areas, demand, boundaries = found_demand.areas, found_demand.demand, found_demand.boundaries
    notes.extend(found_demand.notes)
    warnings.extend(found_demand.warnings)
    later = _empty_additional()
    extra_path = files.demand.additional
    if extra_path is not None and areas is not None:
        found_extra = _additional(extra_path, problems, areas=areas, ages=files.demand.ages)
        if found_extra is not None:
            now, later = found_extra
            if demand is not None:
                demand = pd.concat([demand, now], ignore_index=True)
            notes.append(
                f"{extra_path}: {now['children'].sum():,.1f} children the authority knows need a"
                f" base place added to today's demand (inputs.demand.additional)"
                + (
                    f"; {later['children'].sum():,.1f} more from the years given (the programme)"
                    if len(later)
                    else ""
                )
            )
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
        lived = (
            areas
            if demand is None
            # Each area once: a national slice has tens of thousands of demand rows.
            else areas[
                areas["area_code"].isin(demand.loc[demand["children"] > 0, "area_code"].unique())
            ]
        )
        schools, kept = _within_border_reach(
            schools,
            lived,
            km=files.schools.cross_border_km,
            crowfly=scenario.journey.method == "crowfly",
        )
        notes.extend(kept)
        if bases is not None and "cross_border" in schools.columns:
            # Bases at other authorities' schools within reach are places across the border
            # (sitefinder.fallback), not the authority's own.
            across = set(schools.loc[schools["cross_border"], "urn"])
            border = bases[bases["urn"].isin(across)].reset_index(drop=True)
            dropped = set(bases["urn"]) - set(schools["urn"])
            bases = bases[~bases["urn"].isin(across | dropped)].reset_index(drop=True)
        own = ~schools["cross_border"] if "cross_border" in schools.columns else slice(None)
        warnings.extend(
            check_extent(
                problems,
                schools=schools[own],
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
    bases, place_warnings, place_notes = _check_places(scenario, bases, found_demand.sen2)
    warnings.extend(place_warnings)
    notes.extend(place_notes)
    polygons: gpd.GeoDataFrame | DeferredBoundaries | None = boundaries
    if boundaries is not None and files.boundaries is not None:
        warnings.extend(_missing_polygons(areas["area_code"], boundaries, files.boundaries.path))
    if deferred:
        assert files.boundaries is not None
        polygons = DeferredBoundaries(
            files.boundaries,
            authority=authority,
            postcodes=postcodes,
            area_codes=areas["area_code"],
        )
    checksums = {
        name: digests.of(path) or file_sha256(path) for name, path in files.files().items()
    }
    sen2 = found_demand.sen2
    basis = DemandBasis(
        population=found_demand.population,
        authority=sen2.authority if sen2 is not None else None,
        england=sen2.england if sen2 is not None else None,
    )
    return AuthorityData(
        schools, bases, areas, demand, polygons, checksums, warnings, notes, border, basis, later
    )
