"""Scenario files: a TOML document validated into a frozen :class:`Scenario`.

Precedence is flag > file > default: :func:`load_scenario` reads the file (and, through
``extends``, its parents) over the defaults below, and :func:`with_settings` changes dotted keys
afterwards (command-line flags, ``--set``, a program), validating them the same way. Every
problem is reported with its key path (``harm.exponent: must be > 0``), all at once. Input
paths are relative to the scenario file; ``~`` and ``${VAR}`` are expanded.

Every setting remembers where its value came from (:attr:`Scenario.origins`): the file of the
``extends`` chain that wrote it, ``"command line"`` (or another origin given to
:func:`with_settings`), else ``"default"``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sitefinder.authorities import Authority, find_authority, suggest
from sitefinder.errors import CommandLineError, ScenarioError, processing
from sitefinder.files import NotRegularFileError, TooLargeError, read_small
from sitefinder.model.harm import DEFAULT_PER_MINUTE, HarmCurve
from sitefinder.model.methods import SelectionMethod

DEFAULT_ORIGIN = "default"
"""The origin of a setting no file and no override wrote."""
COMMAND_LINE = "command line"
"""The default origin of :func:`with_settings`."""
MIN_THRESHOLD = 5
"""The smallest ``suppression_threshold`` allowed without ``allow_small_counts = true``."""

NEED_CODES: tuple[str, ...] = (
    "ASD", "SLCN", "SEMH", "MLD", "SLD", "PMLD", "SpLD", "HI", "VI", "MSI", "PD", "OTH",
)  # fmt: skip
"""The 12 primary-need codes of the DfE SEN2 return and school census."""

Phase = Literal["primary", "secondary"]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def within(low: float, high: float, unit: str = "", *, above: bool = False) -> BeforeValidator:
    """A check that a number is finite and in ``[low, high]`` (``(low, high]`` with ``above``).

    The message states the whole range and the value found, e.g. ``must be above 0 and at most
    120 km/h (got inf)``. Text and other types pass through to the field's own type check.
    """
    span = (
        f"above {_number(low)} and at most {_number(high)}"
        if above
        else f"from {_number(low)} to {_number(high)}"
    )
    span += f" {unit}" if unit else ""

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        inside = math.isfinite(value) and (value > low if above else value >= low)
        if not (inside and value <= high):
            raise PydanticCustomError(
                "out_of_range", "must be {span} (got {got})", {"span": span, "got": str(value)}
            )
        return value

    return BeforeValidator(check)


def _money(high: float, unit: str) -> BeforeValidator:
    """A check that a sum of money is finite and from £0 to ``high`` (``unit`` follows it, e.g.
    ``"a place"``): ``must be a sum from £0 to £10,000,000 a place (got -1)``."""
    span = f"a sum from £0 to £{high:,.0f}" + (f" {unit}" if unit else "")

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        if not (math.isfinite(value) and 0 <= value <= high):
            raise PydanticCustomError(
                "out_of_range", "must be {span} (got {got})", {"span": span, "got": str(value)}
            )
        return value

    return BeforeValidator(check)


_Capital = Annotated[float, _money(10_000_000_000, "")]
_PerPlace = Annotated[float, _money(10_000_000, "a place")]
_PerChild = Annotated[float, _money(10_000_000, "a child a year")]
_PerMinute = Annotated[float, _money(1_000_000, "a child a year per journey minute")]


_Exponent = Annotated[float, within(0, 10, above=True)]
_FreeMinutes = Annotated[float, within(0, 600, "minutes")]
_Unmet = Annotated[float, within(0, 1_000_000, "harm points", above=True)]
_Mismatch = Annotated[float, within(0, 1_000_000, "harm points")]


class _Section(BaseModel):
    # allow_inf_nan=False: no float anywhere in a scenario may be inf or nan.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _as_path_table(value: Any) -> Any:
    # A bare path is shorthand for a table with only ``path`` (sitefinder's own layout).
    return {"path": value} if isinstance(value, str | Path) else value


class SchoolsInput(_Section):
    """The schools file and how to read it.

    ``format`` is ``sitefinder`` (sitefinder's own CSV layout), ``gias`` (the GIAS
    establishment extract, read by its real column names) or ``mapped`` (any CSV or GeoPackage
    whose columns ``columns`` maps onto sitefinder's fields, with ``values`` translating
    labels). A base with no recorded capacity gets ``default_base_capacity`` places, or, with
    ``capacity_from = "sen2"``, places scaled so that each phase's total matches the children
    SEN2 places in mainstream bases (recorded capacities are kept). Where the file holds
    other authorities too, their special schools within ``cross_border_km`` of the
    authority's areas are kept as places children without a base place may take (flagged
    cross-border); 0 keeps none. ``census`` and ``census_sen`` name the DfE school-level census
    files (pupils by age, sex of school and admissions; pupils with EHC plans), read by URN to
    fill what the schools file leaves blank (:mod:`sitefinder.readers.census`).
    """

    path: Path
    format: Literal["sitefinder", "gias", "mapped"] = "sitefinder"
    authority: str | None = None
    layer: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    special_urns: list[str] = Field(default_factory=list)
    default_base_capacity: Annotated[int, within(1, 200, "places")] = 10
    capacity_from: Literal["default", "sen2"] = "default"
    default_base_need_codes: list[str] = Field(default_factory=lambda: list(NEED_CODES))
    cross_border_km: Annotated[float, within(0, 200, "km")] = 30.0
    census: Path | None = None
    census_sen: Path | None = None

    @field_validator("special_urns", mode="before")
    @classmethod
    def _urns_as_text(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list) else value


class BasesInput(_Section):
    """A register of existing bases: one row per base, read through a column mapping.

    Fields: ``urn`` (host school), ``phase``, ``need_codes`` (SEN2 codes) or ``need_groups``
    (the scenario's need group keys or labels), ``places``, ``on_roll`` (children in the base
    today), ``base_type`` and ``base_name``. ``columns`` maps a field onto the file's column
    when the names differ (by default each field is read from the column of its name, and
    ``places`` also from ``capacity``, sitefinder's own layout); ``values`` translates labels,
    e.g. ``values.base_type = { other = "none" }`` leaves rows of that type out.
    """

    path: Path
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)


class BoundariesInput(_Section):
    """Area polygons (GeoJSON, GeoPackage or Shapefile) and the columns naming each area."""

    path: Path
    layer: str | None = None
    code_column: str = "area_code"
    name_column: str | None = "area_name"


def _default_ages() -> dict[Phase, tuple[int, int]]:
    # Reception to Year 6 and Year 7 to Year 11, by age at the start of the school year.
    return {"primary": (4, 10), "secondary": (11, 15)}


ShareName = Literal["higher", "authority", "england"]
Share = ShareName | Annotated[float, Field(gt=0, le=1)] | dict[Phase, float]


class DemandInput(_Section):
    """Where demand comes from: ``counts`` per area, a ``pupils`` list, or ``modelled``.

    ``modelled`` = child population by area and single year of age (``population``) x the
    authority's EHC-plan rate by need and age (``sen2_needs``) x ``share``, the share of plans
    needing a base place at that age. ``share`` is ``"higher"`` (the default: the higher of the
    authority's and England's share of plans placed in mainstream resourced provision or SEN
    units at each age, from ``sen2_caseload``), ``"authority"``, ``"england"``, a fraction for
    every age, or fractions by phase (``{primary = 0.05, secondary = 0.03}``).
    ``planning_year`` projects plans forward along the SEN2 time series. ``ages`` gives each
    phase's youngest and oldest age (years, at the start of the school year).
    """

    method: Literal["counts", "pupils", "modelled"] = "counts"
    path: Path | None = None
    population: Path | None = None
    sen2_needs: Path | None = None
    sen2_caseload: Path | None = None
    authority: str | None = None
    share: Share = "higher"
    planning_year: Annotated[int, within(2000, 2100)] | None = None
    ages: dict[Phase, tuple[int, int]] = Field(default_factory=_default_ages)
    additional: Path | None = None

    @field_validator("share", mode="before")
    @classmethod
    def _check_share(cls, value: Any) -> Any:
        named = '"higher", "authority", "england"'
        if isinstance(value, str):
            if value.strip().casefold() not in ("higher", "authority", "england"):
                raise ValueError(
                    f"inputs.demand.share: {value!r} is not a share: use {named}, a fraction"
                    " (e.g. 0.05) or fractions by phase ({ primary = 0.05, secondary = 0.03 })"
                )
            return value.strip().casefold()
        tables = value.items() if isinstance(value, dict) else [(None, value)]
        problems = []
        for phase, share in tables:
            key = "inputs.demand.share" + (f".{phase}" if phase is not None else "")
            if phase is not None and phase not in ("primary", "secondary"):
                problems.append(f"{key}: unknown phase (use primary, secondary)")
            elif isinstance(share, bool) or not isinstance(share, int | float):
                problems.append(f"{key}: must be a fraction of EHC plans (e.g. 0.05) or {named}")
            elif not (math.isfinite(share) and 0 < share <= 1):
                problems.append(f"{key}: must be above 0 and at most 1 (got {share:g})")
        if problems:
            raise ValueError("\n".join(problems))
        return value

    @property
    def share_needs_caseload(self) -> bool:
        """Whether the share comes from the SEN2 caseload file (a named share)."""
        return isinstance(self.share, str)

    @model_validator(mode="after")
    def _check_route(self) -> DemandInput:
        problems = []
        if self.method in ("counts", "pupils") and self.path is None:
            problems.append(f"inputs.demand.path: required for method {self.method!r}")
        if self.method == "modelled":
            needed = ["population", "sen2_needs"]  # authority: here or the scenario's
            if self.share_needs_caseload or self.planning_year is not None:
                needed.append("sen2_caseload")
            problems += [
                f"inputs.demand.{key}: required for method 'modelled'"
                + (
                    f" with share = {self.share!r}"
                    if key == "sen2_caseload" and self.share_needs_caseload
                    else ""
                )
                for key in needed
                if getattr(self, key) is None
            ]
        for phase, (low, high) in self.ages.items():
            if not 2 <= low <= high <= 25:
                problems.append(
                    f"inputs.demand.ages.{phase}: must be [youngest, oldest] with"
                    " 2 <= youngest <= oldest <= 25"
                )
        spans = sorted((low, high, phase) for phase, (low, high) in self.ages.items())
        for (_, high, first), (low, _, second) in itertools.pairwise(spans):
            if low <= high:
                problems.append(
                    f"inputs.demand.ages: {first} and {second} overlap (each age belongs to one"
                    " phase)"
                )
        if isinstance(self.share, dict):
            missing = [p for p in self.ages if p not in self.share]
            if missing:
                problems.append(
                    f"inputs.demand.share: give a share for {', '.join(missing)} too (every"
                    " phase in inputs.demand.ages)"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self


class Inputs(_Section):
    """Input files; relative paths are resolved against the scenario file's folder.

    ``special_schools`` is an optional register of special schools (kind, places, need
    designations, ages: :mod:`sitefinder.readers.special`). ``districts`` is a lookup of
    local authority districts to education authorities, which cuts a county council's small
    areas by its districts' codes (:mod:`sitefinder.readers.districts`).

    Each of ``schools``, ``boundaries`` and ``demand`` is a path (sitefinder's own layout) or
    a table saying how to read the file.
    """

    schools: SchoolsInput
    bases: BasesInput | None = None
    special_schools: Path | None = None
    areas: Path | None = None
    boundaries: BoundariesInput | None = None
    demand: DemandInput
    postcodes: Path | None = None
    districts: Path | None = None

    @field_validator("schools", "bases", "boundaries", mode="before")
    @classmethod
    def _path_shorthand(cls, value: Any) -> Any:
        return _as_path_table(value)

    @field_validator("demand", mode="before")
    @classmethod
    def _demand_shorthand(cls, value: Any) -> Any:
        return {"method": "counts", "path": value} if isinstance(value, str | Path) else value

    @model_validator(mode="after")
    def _check_sources(self) -> Inputs:
        problems = []
        if self.schools.format == "sitefinder" and self.bases is None:
            problems.append(
                "inputs.bases: required when inputs.schools is in sitefinder's layout"
                " (a header-only file if the authority has no bases)"
            )
        if self.areas is None and self.boundaries is None:
            problems.append("inputs.areas: give an areas file, or inputs.boundaries to derive one")
        if self.schools.format == "gias" and self.schools.columns:
            problems.append("inputs.schools.columns: only for format 'mapped'")
        if self.schools.format == "mapped":
            for key in ("urn", "name"):
                if key not in self.schools.columns:
                    problems.append(
                        f"inputs.schools.columns.{key}: required for format 'mapped'"
                        " (the column holding it)"
                    )
        if self.schools.capacity_from == "sen2" and self.demand.sen2_caseload is None:
            problems.append(
                'inputs.schools.capacity_from: "sen2" needs inputs.demand.sen2_caseload and'
                " inputs.demand.authority (the SEN2 caseload file gives the children in bases)"
            )
        unknown = [c for c in self.schools.default_base_need_codes if c not in NEED_CODES]
        if unknown:
            problems.append(
                f"inputs.schools.default_base_need_codes: unknown need code(s)"
                f" {', '.join(unknown)} (use {', '.join(NEED_CODES)})"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def files(self) -> dict[str, Path]:
        """Every input file named, keyed by its scenario key (for checksums)."""
        found = {
            "schools": self.schools.path,
            "bases": self.bases.path if self.bases else None,
            "special_schools": self.special_schools,
            "areas": self.areas,
            "boundaries": self.boundaries.path if self.boundaries else None,
            "demand": self.demand.path,
            "population": self.demand.population,
            "sen2_needs": self.demand.sen2_needs,
            "sen2_caseload": self.demand.sen2_caseload,
            "additional": self.demand.additional,
            "postcodes": self.postcodes,
            "districts": self.districts,
            "census": self.schools.census,
            "census_sen": self.schools.census_sen,
        }
        return {key: path for key, path in found.items() if path is not None}


class NeedGroup(_Section):
    """A need group: a label for people and the SEN2 need codes it covers."""

    label: str = Field(min_length=1)
    codes: list[str] = Field(min_length=1)


def _default_need_groups() -> dict[str, NeedGroup]:
    # The four broad areas of need of the SEND Code of Practice (2015), 6.28-6.35. OTH has no
    # area of its own; it is counted with cognition and learning unless a scenario says otherwise.
    return {
        "communication_interaction": NeedGroup(
            label="Communication and interaction", codes=["ASD", "SLCN"]
        ),
        "cognition_learning": NeedGroup(
            label="Cognition and learning", codes=["MLD", "SLD", "PMLD", "SpLD", "OTH"]
        ),
        "semh": NeedGroup(label="Social, emotional and mental health", codes=["SEMH"]),
        "sensory_physical": NeedGroup(
            label="Sensory and/or physical", codes=["HI", "VI", "MSI", "PD"]
        ),
    }


class Journey(_Section):
    """Journey model: minutes from a child's home area to a school.

    ``method`` chooses how drive minutes are found: ``network`` routes over an OpenStreetMap
    extract (``network``, .osm.pbf or .osm), ``matrix`` reads drive minutes from another engine
    (``matrix``, CSV ``origin_id`` = area code, ``destination_id`` = URN, ``minutes``), and
    ``crowfly`` estimates them from straight-line distance x ``circuity`` at ``speed_kmh``.
    A child's journey is then drive minutes x ``ride_factor`` + ``overhead_minutes``.
    """

    method: Literal["network", "crowfly", "matrix"] = "crowfly"
    network: Path | None = None
    matrix: Path | None = None
    peak_factor: Annotated[float, within(1, 5)] = 1.0
    maxspeed_fraction: Annotated[float, within(0, 1, above=True)] = 0.8
    junction_seconds: Annotated[float, within(0, 120, "seconds")] = 3.0
    access_speed_kmh: Annotated[float, within(0, 120, "km/h", above=True)] = 15.0
    snap_warn_metres: Annotated[float, within(0, 100_000, "metres", above=True)] = 500.0
    circuity: Annotated[float, within(1, 5)] = 1.35
    speed_kmh: Annotated[float, within(0, 120, "km/h", above=True)] = 40.0
    ride_factor: Annotated[float, within(1, 5)] = 1.3
    overhead_minutes: Annotated[float, within(0, 240, "minutes")] = 5.0
    max_minutes: Annotated[float, within(0, 600, "minutes", above=True)] = 120.0
    accuracy_minutes: Annotated[float, within(0, 60, "minutes")] | None = None

    def accuracy(self) -> float:
        """How far a child's estimated journey may be from the real one (minutes, one way):
        ``accuracy_minutes``, else by method: crow-fly 5 (a straight line x circuity at an
        average speed misses a road's detours and traffic by several minutes on a 20-30
        minute journey), road network 2 and matrix 2 (routed, missing only waits and traffic).
        A stated assumption: set your own from your transport data."""
        if self.accuracy_minutes is not None:
            return float(self.accuracy_minutes)
        return 5.0 if self.method == "crowfly" else 2.0

    @model_validator(mode="after")
    def _check_method(self) -> Journey:
        if self.method == "network" and self.network is None:
            raise ValueError("journey.network: required for method 'network' (an .osm.pbf file)")
        if self.method == "matrix" and self.matrix is None:
            raise ValueError("journey.matrix: required for method 'matrix' (a CSV of minutes)")
        return self

    @property
    def drive_cutoff_minutes(self) -> float:
        """The longest drive (minutes) whose journey stays within ``max_minutes``."""
        return (self.max_minutes - self.overhead_minutes) / self.ride_factor


def _default_limits() -> dict[Phase, float]:
    # DfE home-to-school travel and transport guidance: best-practice maximum one-way journey.
    return {"primary": 45.0, "secondary": 75.0}


def _default_phases() -> list[Phase]:
    return ["primary", "secondary"]


class Harm(_Section):
    """The harm curve (see :mod:`sitefinder.model.harm`).

    ``per_minute`` is the travel term: harm points per journey minute from the first minute,
    so the shorter of two journeys the curve scores alike always wins. ``unmet`` is the flat
    harm of a child without a base place, used only with ``fallback.method = "flat"``.
    """

    free_minutes: Annotated[float, within(0, 600, "minutes")] = 15.0
    exponent: Annotated[float, within(0, 10, above=True)] = 1.5
    limit_minutes: dict[Phase, Annotated[float, within(0, 600, "minutes", above=True)]] = Field(
        default_factory=_default_limits
    )
    over_limit_step: Annotated[float, within(0, 1000, "harm points")] = 1.0
    over_limit_per_minute: Annotated[float, within(0, 100, "harm points per minute")] = 0.1
    per_minute: Annotated[float, within(0, 10, "harm points per minute")] = DEFAULT_PER_MINUTE
    unmet: Annotated[float, within(0, 1_000_000, "harm points", above=True)] = 25.0

    def curve(self, phase: Phase) -> HarmCurve:
        """Return the harm curve for children of ``phase``."""
        return HarmCurve(
            free_minutes=self.free_minutes,
            limit_minutes=self.limit_minutes[phase],
            exponent=self.exponent,
            over_limit_step=self.over_limit_step,
            over_limit_per_minute=self.over_limit_per_minute,
            per_minute=self.per_minute,
        )


FallbackMethod = Literal["special_school", "out_of_authority", "flat"]


class FallbackKind(_Section):
    """Whether one kind of special school takes children without a base place, and at what
    extra harm (harm points per child, on top of the journey and the mismatch)."""

    use: bool = True
    extra_harm: Annotated[float, within(0, 1_000_000, "harm points")] = 0.0


# Each number of a per-phase key, checked as its one-number form is (with the same message).
_PER_PHASE_CHECKS = {
    "mismatch": cast(Callable[[Any], Any], within(0, 1_000_000, "harm points").func),
    "out_of_authority_minutes": cast(
        Callable[[Any], Any], within(0, 600, "minutes", above=True).func
    ),
}


def _per_phase(value: Any, key: str, section: str) -> Any:
    """Check one number or a per-phase table of ``key`` (``mismatch`` or
    ``out_of_authority_minutes``) as its one-number form is checked."""
    check = _PER_PHASE_CHECKS[key]
    if not isinstance(value, dict):
        return check(value)
    for number in value.values():
        check(number)
    unknown = sorted(set(value) - {"primary", "secondary"})
    if unknown:
        raise ValueError(
            f"{section}.{key}: unknown phase {', '.join(map(str, unknown))}"
            " (give primary and/or secondary, or one number for both)"
        )
    missing = sorted({"primary", "secondary"} - set(value))
    if missing:
        raise ValueError(
            f"{section}.{key}: no value for {', '.join(missing)}"
            " (give both phases, or one number for both)"
        )
    return value


class Fallback(_Section):
    """Where a child without a base place goes, and its harm (see :mod:`sitefinder.fallback`).

    ``special_school`` (default): children without a base place fill the places of the special
    schools that teach their phase and age and serve their need group, at least harm (an exact
    assignment, nearest first), maintained and academy special schools (``special``) before
    independent (``independent``) and non-maintained (``non_maintained``) special schools,
    each kind with its own ``use`` and ``extra_harm``, and bases of other authorities within
    reach (``base_cross_border``: a base place, so no mismatch; their places taken as open to
    the authority's children); the children no such place takes go to
    an out-of-authority placement ``out_of_authority_minutes`` away. A special school's places
    are its capacity (``places = "capacity"``: today's pupils are not counted against them,
    the children modelled being taken as among them) or its capacity minus its pupils
    (``"spare"``); a ``special_places`` column in the schools table (a register) overrides both;
    ``default_places`` where neither is known. ``out_of_authority``: that fixed journey for
    every child. Either way the child's harm is the harm curve at the fallback journey plus
    ``mismatch`` harm points for having no base place. ``flat``: ``harm.unmet`` harm points
    per child, whatever the journey. ``mismatch`` and ``out_of_authority_minutes`` take one
    number or one per phase (``{ primary = 45, secondary = 75 }``).
    """

    method: FallbackMethod = "special_school"
    mismatch: float | dict[Phase, float] = 1.0
    out_of_authority_minutes: float | dict[Phase, float] = 60.0
    places: Literal["capacity", "spare"] = "capacity"
    default_places: Annotated[float, within(0, 10_000, "places")] = 100.0
    special: FallbackKind = Field(default_factory=FallbackKind)
    independent: FallbackKind = Field(default_factory=FallbackKind)
    non_maintained: FallbackKind = Field(default_factory=FallbackKind)
    base_cross_border: FallbackKind = Field(default_factory=FallbackKind)

    @field_validator("mismatch", "out_of_authority_minutes", mode="before")
    @classmethod
    def _check_phases(cls, value: Any, info: ValidationInfo) -> Any:
        return _per_phase(value, str(info.field_name), "fallback")

    def mismatch_of(self, phase: str) -> float:
        """The mismatch penalty of a child of ``phase`` (harm points)."""
        value = self.mismatch
        return float(value[cast(Phase, phase)] if isinstance(value, dict) else value)

    def minutes_of(self, phase: str) -> float:
        """The out-of-authority journey of a child of ``phase`` (minutes)."""
        far = self.out_of_authority_minutes
        return float(far[cast(Phase, phase)] if isinstance(far, dict) else far)

    def kind(self, name: str) -> FallbackKind:
        """The settings of one kind of place (``special``, ``independent``, ``non_maintained``
        or ``base_cross_border``)."""
        return cast(FallbackKind, getattr(self, name))


class Candidates(_Section):
    """Which schools may host a new base, and what is flagged about them.

    Each rule excludes a school that fails it (or only flags it, when its ``exclude_*`` key is
    false); a school whose data cannot tell is flagged, never excluded. See
    :func:`sitefinder.supply.assess_schools` for the reasons given. ``cross_border`` lets the
    mainstream schools of other authorities within ``inputs.schools.cross_border_km`` of the
    areas host a new base (the schools file must hold them: a national or regional extract);
    they are flagged in every output, and the children are still the authority's own.
    """

    need_groups: list[str] | None = None
    exclude_single_sex: bool = True
    exclude_selective: bool = True
    exclude_partial_ages: bool = False
    min_spare_places: int | Literal["base_size"] = "base_size"
    high_send_share: Annotated[float, within(0, 1, above=True)] = 0.06
    exclude_high_send: bool = False
    exclude_existing_hosts: bool = False
    exclude_urns: list[int] = Field(default_factory=list)
    cross_border: bool = False

    @field_validator("min_spare_places", mode="before")
    @classmethod
    def _check_spare(cls, value: Any) -> Any:
        if value == "base_size":
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(
                'candidates.min_spare_places: must be a number of places or "base_size"'
            )
        # Negative: schools up to that many pupils over capacity may still host.
        if not (math.isfinite(value) and -5000 <= value <= 5000 and float(value).is_integer()):
            raise ValueError(
                f"candidates.min_spare_places: must be a whole number of places from -5,000 to"
                f" 5,000 (got {value:g})"
            )
        return int(value)


class Selection(_Section):
    """How the best set of new bases is chosen (see :mod:`sitefinder.model.select`).

    ``method``: ``greedy`` (the ranking's build order, improved by interchange), ``optimal``
    (an exact mixed-integer programme solved by HiGHS, reporting its optimality gap) or
    ``auto`` (optimal when the instance is small enough). ``node_limit`` stops the MIP
    (deterministic: one scenario, one plan); ``time_limit_seconds`` is a safety net whose use is
    reported. ``counts`` fixes how many new bases each phase and need group gets (``{ primary =
    { semh = 1 } }``) instead of ``bases`` in total. ``sizes`` lists alternative base sizes
    (places) a site may take, at most one each. The stopping rule: a new base enters the plan
    only if it places at least ``min_children`` children who had no base place (default half
    its places) or averts at least ``min_harm_averted`` harm points. Options within
    ``tie_tolerance`` (a fraction of a chosen base's harm averted) are equivalent alternatives.
    ``capital_budget`` (£) caps the plan's capital, exactly: a knapsack row in the selection
    (see :mod:`sitefinder.costs.budget`). ``min_occupancy``: a new base enters only if the
    children it is expected to serve fill at least this share of its places. ``need_group_sets``
    lists sets of need groups one new base may serve together (``[["communication_interaction",
    "semh"]]``), offered beside the single groups. ``objective``: ``harm`` (the default) chooses
    the set that averts the most harm; ``cost`` the set with the least net annual cost to the
    authority (:mod:`sitefinder.costs.objective`; one base size only), its harm reported beside
    the harm objective's plan.
    """

    method: SelectionMethod = SelectionMethod.auto
    time_limit_seconds: Annotated[float, within(0, 86_400, "seconds", above=True)] = 600.0
    node_limit: Annotated[int, within(1, 100_000_000, "nodes")] = 10_000
    counts: dict[Phase, dict[str, Annotated[int, within(0, 200)]]] | None = None
    required_urns: list[str] = Field(default_factory=list)
    sizes: list[Annotated[int, within(1, 200, "places")]] | None = Field(default=None, min_length=1)
    min_children: Annotated[float, within(0, 200, "children")] | None = None
    min_harm_averted: Annotated[float, within(0, 1_000_000, "harm points")] = 1.0
    tie_tolerance: Annotated[float, within(0, 1)] = 0.01
    min_occupancy: Annotated[float, within(0, 1)] = 0.8
    capital_budget: _Capital | None = None
    need_group_sets: list[list[str]] | None = None
    objective: Literal["harm", "cost"] = "harm"

    @field_validator("required_urns", mode="before")
    @classmethod
    def _urns_as_text(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _one_size_for_cost(self) -> Selection:
        # A base's yearly cost grows with its places, a cost the selection's matrix cannot
        # hold; with one size it is the same for every set of as many bases, so exact.
        if self.objective == "cost" and self.sizes is not None and len(set(self.sizes)) > 1:
            raise ValueError(
                f'selection.objective: "cost" takes one base size, selection.sizes has'
                f" {len(set(self.sizes))} ({', '.join(str(s) for s in sorted(set(self.sizes)))});"
                ' give one size, or objective = "harm"'
            )
        return self


class Costs(_Section):
    """The figures of the business case (see :mod:`sitefinder.costs`), in pounds.

    Every default is a public figure named with its source and year in
    :data:`sitefinder.costs.SOURCES` (and docs/scenario.md); an authority's own
    figures replace them. Capital: ``capital_per_place`` x places + ``capital_per_base`` for
    each new base (£). Revenue: ``revenue_per_place`` (place funding + top-up, £ a place a
    year, paid for every place whether filled or not). Transport: ``transport_per_child`` +
    ``transport_per_minute`` x the one-way journey minutes (£ a child a year; how the cost
    grows with the journey is a stated assumption). Placements: what a child without a base
    place costs a year in each kind of place (``special_place``, ``independent_place``,
    ``non_maintained_place``, ``out_of_authority_place``, ``base_cross_border_place``).
    ``discount_rate`` (a fraction a year) and ``appraisal_years`` discount the savings.
    """

    capital_per_place: _PerPlace = 19_559.0
    capital_per_base: _Capital = 0.0
    revenue_per_place: Annotated[float, _money(10_000_000, "a place a year")] = 17_412.0
    transport_per_child: _PerChild = 4_058.0
    transport_per_minute: _PerMinute = 135.0
    special_place: _PerChild = 24_484.0
    independent_place: _PerChild = 64_000.0
    non_maintained_place: _PerChild = 64_000.0
    out_of_authority_place: _PerChild = 64_000.0
    base_cross_border_place: _PerChild = 17_412.0
    discount_rate: Annotated[float, within(0, 1, "a year")] = 0.035
    appraisal_years: Annotated[int, within(1, 100, "years")] = 10

    def place_cost(self, kind: str) -> float:
        """What a child in a place of ``kind`` costs a year (£; 0 for ``flat``, no place)."""
        return 0.0 if kind == "flat" else float(getattr(self, f"{kind}_place"))

    def base_capital(self, places: float) -> float:
        """The capital of one new base of ``places`` places (£)."""
        return self.capital_per_base + float(places) * self.capital_per_place


# What each end of a fallback range may be: one number, or one per phase.
_RangeEnd = float | dict[Phase, float]
DEFAULT_MISMATCH_RANGE = (0.5, 2.0)
"""``robustness.mismatch`` when unset (harm points): half to twice the default penalty of 1."""
DEFAULT_OUT_OF_AUTHORITY_RANGE = (30.0, 90.0)
"""``robustness.out_of_authority_minutes`` when unset (minutes): the default 60 +-50%."""
DEFAULT_EXISTING_PLACES_RANGE = (0.5, 1.5)
"""``robustness.existing_places`` (a factor on places not recorded): half to one and a half
times. Rutland's register states "10-15 places" for its one recorded base (the lower figure is
planned on: up to x1.5), and Trafford's 110 assumed places hold 154 children in SEN2 (x1.4)."""
DEFAULT_GROWTH_RANGE = (0.0, 0.10)
"""``robustness.growth`` (a yearly rate): from none to England's growth of EHC plans, +9% to
+12% a year from 2019 to 2025 (DfE SEN2 caseload)."""
_PlacesFactor = Annotated[float, within(0, 10, above=True)]
_Growth = Annotated[float, within(-0.5, 1, "a year")]


def _off(value: Any) -> Any:
    # ``false`` in a file switches a range off (TOML has no null).
    return None if value is False else value


class Robustness(_Section):
    """How sure the plan is: the plan chosen again under the assumptions that decide it.

    Each of ``runs`` seeded runs scales every area's children by a lognormal factor with
    ``demand_noise`` as its standard deviation (on the log scale) and draws each assumption
    uniformly from its range (``[low, high]``), then chooses the set again under the same rules
    (node limit, stopping rule); ``time_limit_seconds`` per run is a safety net whose use is
    reported. The ranges: ``exponent`` and ``free_minutes`` vary ``harm.*`` (unset: not
    varied); ``unmet`` varies ``harm.unmet`` (``fallback.method = "flat"`` only); ``mismatch`` and
    ``out_of_authority_minutes`` vary ``fallback.*`` (each end one number or one per phase;
    unset: :data:`DEFAULT_MISMATCH_RANGE` and :data:`DEFAULT_OUT_OF_AUTHORITY_RANGE`, none with
    ``flat``); ``speed_kmh``, ``circuity`` (crow-fly journeys only) and ``ride_factor`` vary
    ``journey.*``, every journey's minutes with them; ``existing_places`` multiplies the places
    of today's bases whose places were not recorded (assumed, or SEN2-calibrated);
    ``growth`` grows every child's demand at a yearly rate over the programme's horizon.
    ``share`` lists the shares of EHC plans needing a base place a run draws from (each
    ``"authority"``, ``"england"``, ``"higher"`` or a fraction; unset: the three named ones,
    where demand is modelled with a SEN2 caseload file). ``false`` switches a range off
    (``[v, v]`` holds its setting at v). With runs, each assumption is also set at each end of
    its range (each other share), the others at their settings (one-at-a-time sensitivity), and
    the value at which a base enters or leaves the plan is found. ``workers`` local processes
    share the runs (the answer does not depend on them).
    """

    runs: Annotated[int, within(0, 1000)] = 0
    seed: Annotated[int, within(0, 2**32 - 1)] = 20261123
    time_limit_seconds: Annotated[float, within(0, 3600, "seconds", above=True)] = 60.0
    workers: Annotated[int, within(1, 256, "processes")] = 1
    demand_noise: Annotated[float, within(0, 2)] = 0.25
    exponent: Annotated[tuple[_Exponent, _Exponent] | None, BeforeValidator(_off)] = None
    free_minutes: Annotated[tuple[_FreeMinutes, _FreeMinutes] | None, BeforeValidator(_off)] = None
    unmet: Annotated[tuple[_Unmet, _Unmet] | None, BeforeValidator(_off)] = None
    mismatch: tuple[_RangeEnd, _RangeEnd] | Literal[False] | None = None
    out_of_authority_minutes: tuple[_RangeEnd, _RangeEnd] | Literal[False] | None = None
    speed_kmh: Annotated[
        tuple[
            Annotated[float, within(0, 120, "km/h", above=True)],
            Annotated[float, within(0, 120, "km/h", above=True)],
        ]
        | None,
        BeforeValidator(_off),
    ] = None
    circuity: Annotated[
        tuple[Annotated[float, within(1, 5)], Annotated[float, within(1, 5)]] | None,
        BeforeValidator(_off),
    ] = None
    ride_factor: Annotated[
        tuple[Annotated[float, within(1, 5)], Annotated[float, within(1, 5)]] | None,
        BeforeValidator(_off),
    ] = None
    existing_places: Annotated[
        tuple[_PlacesFactor, _PlacesFactor] | None, BeforeValidator(_off)
    ] = DEFAULT_EXISTING_PLACES_RANGE
    growth: Annotated[tuple[_Growth, _Growth] | None, BeforeValidator(_off)] = DEFAULT_GROWTH_RANGE
    share: tuple[ShareName | float, ...] | Literal[False] | None = None

    @field_validator("mismatch", "out_of_authority_minutes", mode="before")
    @classmethod
    def _check_ends(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or value is False:
            return value
        key = str(info.field_name)
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError(
                f"robustness.{key}: must be [low, high] (each a number or"
                " { primary = ..., secondary = ... }), or false to switch it off"
            )
        return tuple(_per_phase(end, key, "robustness") for end in value)

    @field_validator(
        "exponent", "free_minutes", "unmet", "speed_kmh", "circuity", "ride_factor",
        "existing_places", "growth", mode="before",
    )  # fmt: skip
    @classmethod
    def _check_pair(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or value is False:
            return None
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError(
                f"robustness.{info.field_name}: must be [low, high] (two numbers), or false to"
                " switch it off"
            )
        return value

    @field_validator("share", mode="before")
    @classmethod
    def _check_share(cls, value: Any) -> Any:
        if value is None or value is False:
            return value
        shown = '"authority", "england", "higher" or a fraction of EHC plans (e.g. 0.05)'
        if not isinstance(value, list | tuple) or not value:
            raise ValueError(f"robustness.share: must be a list of shares, each {shown}, or false")
        problems: list[str] = []
        found: list[str | float] = []
        for i, item in enumerate(value):
            named = item.strip().casefold() if isinstance(item, str) else None
            if named in ("authority", "england", "higher"):
                found.append(named)
            elif isinstance(item, int | float) and not isinstance(item, bool):
                if math.isfinite(item) and 0 < item <= 1:
                    found.append(float(item))
                else:
                    problems.append(
                        f"robustness.share.{i}: must be above 0 and at most 1 (got {item})"
                    )
            else:
                problems.append(f"robustness.share.{i}: {item!r} is not a share: use {shown}")
        if len(set(found)) < len(found):
            problems.append("robustness.share: each share once")
        if problems:
            raise ValueError("\n".join(problems))
        return tuple(found)

    @field_validator(
        "exponent", "free_minutes", "unmet", "mismatch", "out_of_authority_minutes",
        "speed_kmh", "circuity", "ride_factor", "existing_places", "growth",
    )  # fmt: skip
    @classmethod
    def _check_order(cls, bounds: Any, info: ValidationInfo) -> Any:
        # A field check, so that a reversed range is said with the other keys' problems.
        if not bounds:
            return bounds
        low, high = bounds
        for phase in ("primary", "secondary"):
            lo = low[phase] if isinstance(low, dict) else low
            hi = high[phase] if isinstance(high, dict) else high
            if lo > hi:
                raise ValueError(
                    f"robustness.{info.field_name}: must be [low, high] with low <= high"
                )
        return bounds


RANGE_KEYS = (
    "exponent", "free_minutes", "unmet", "mismatch", "out_of_authority_minutes", "speed_kmh",
    "circuity", "ride_factor", "existing_places", "growth",
)  # fmt: skip
"""The ``[robustness]`` keys that are ranges (``[low, high]``) of another setting."""


class Disclosure(_Section):
    """How small-count control treats modelled demand.

    Small-count control protects figures derived from child-level records (a pupil list, a
    counts file). Modelled demand (``inputs.demand.method = "modelled"``: ONS population x
    published DfE SEN2 rates) counts no identified child, so by default its figures are shown
    rounded, with a note that they are estimates (``modelled = "show"``); ``"protect"`` applies
    the same control as to child-level figures.
    """

    modelled: Literal["show", "protect"] = "show"


class National(_Section):
    """England's new places allocated across authorities (``authority = "England"`` only;
    :mod:`sitefinder.national.allocate`).

    ``places`` (children) buys ``places // base_size`` new bases, ``bases`` that many, and
    ``capital_budget`` (£) as many as it pays for at ``costs.capital_per_base`` +
    ``base_size`` x ``costs.capital_per_place`` each; with a budget and a count, both limits
    hold. ``places`` and ``bases`` are two ways of saying the same count: give one.
    ``max_bases`` is the length of each authority's harm-by-number-of-bases curve (the greedy
    steps each authority runs): no authority is given more.
    """

    places: Annotated[int, within(0, 10_000_000, "places")] | None = None
    bases: Annotated[int, within(0, 1_000_000, "bases")] | None = None
    capital_budget: _Capital | None = None
    max_bases: Annotated[int, within(1, 200, "bases")] = 20

    @field_validator("places", "bases", mode="before")
    @classmethod
    def _whole(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool) or (
            value is not None
            and not isinstance(value, int)
            and not (isinstance(value, float) and value.is_integer())
        ):
            raise ValueError(
                f"national.{info.field_name}: must be a whole number, 0 or more (got"
                f" {value!r}), e.g. {10_000 if info.field_name == 'places' else 1_000}"
            )
        return int(value) if isinstance(value, float) else value

    @model_validator(mode="after")
    def _one_count(self) -> National:
        if self.places is not None and self.bases is not None:
            raise ValueError(
                "national.places and national.bases: give one (places buys places // base_size"
                " bases); add national.capital_budget to cap either by cost"
            )
        return self

    @property
    def asked(self) -> bool:
        """Whether an allocation is asked for."""
        return any(v is not None for v in (self.places, self.bases, self.capital_budget))


NATIONAL = frozenset({"england"})
"""Top-level ``authority`` values that make a scenario national (case-folded)."""


PROGRAMME_HORIZON = 5
"""Years after the data's year a programme looks ahead when ``programme.years`` is unset."""


class Programme(_Section):
    """The sufficiency programme's horizon and its demand projection
    (:mod:`sitefinder.programme`).

    ``years`` are January census years (2027: the school year 2026/27; default the five after
    the data's SEN2 year). Demand is projected along the authority's SEN2 series of EHC plans
    (England's where the authority's is short or erratic), its yearly growth damped by
    ``damping`` each year ahead, cohorts ageing a year each year; ``growth`` (one yearly rate,
    or one per year) replaces the fitted trend, and ``children`` (per year and phase) sets the
    totals the projection is scaled to. ``capital_budget`` (£) caps the programme's capital:
    one sum for the whole horizon, or a sum per year (``{ 2027 = 1_000_000, 2028 = 500_000 }``,
    a year not listed adding nothing), what a year leaves unspent carrying to the next.
    """

    years: list[Annotated[int, within(2000, 2100)]] | None = None
    bases: Literal["auto"] | Annotated[int, within(0, 50)] = "auto"
    damping: Annotated[float, within(0, 1)] = 0.8
    growth: float | dict[int, float] | None = None
    children: dict[int, dict[Phase, Annotated[float, within(0, 1_000_000, "children")]]] | None = (
        None
    )
    capital_budget: _Capital | dict[int, _Capital] | None = None

    def budget_by(self, year: int) -> float:
        """The capital the programme may have spent by the end of ``year`` (£; inf: none).

        One sum is the whole horizon's from the first year; sums per year add up, so what a
        year leaves unspent carries to the next.
        """
        budget = self.capital_budget
        if budget is None:
            return math.inf
        if isinstance(budget, dict):
            return float(sum(v for y, v in budget.items() if y <= year))
        return float(budget)

    @field_validator("capital_budget", mode="before")
    @classmethod
    def _check_budget(cls, value: Any) -> Any:
        # One line naming the key, not one per branch of the number-or-table union.
        def number(item: Any) -> bool:
            return not isinstance(item, bool) and isinstance(item, int | float)

        form = (
            "programme.capital_budget: must be a sum in £ (e.g. 2000000) or one per year"
            " ({ 2027 = 1000000, 2028 = 500000 })"
        )
        items = value.items() if isinstance(value, dict) else [(None, value)]
        if value is not None and not all(number(v) for _, v in items):
            raise ValueError(form + f" (got {value!r})")
        for year, amount in items:
            if amount is not None and not (math.isfinite(amount) and amount >= 0):
                where = f" for {year}" if year is not None else ""
                raise ValueError(
                    f"programme.capital_budget: must be a sum from £0{where} (got {amount})"
                )
        return value

    @field_validator("growth", mode="before")
    @classmethod
    def _check_growth(cls, value: Any) -> Any:
        check = cast(Callable[[Any], Any], within(-0.5, 1, "a year").func)
        if isinstance(value, dict):
            for number in value.values():
                check(number)
            return value
        if isinstance(value, bool) or not isinstance(value, int | float | None):
            raise ValueError(
                "programme.growth: must be a yearly rate (e.g. 0.05) or one per year"
                " ({ 2027 = 0.05, 2028 = 0.04 })"
            )
        return check(value) if value is not None else value

    @field_validator("years")
    @classmethod
    def _check_years(cls, value: list[int] | None) -> list[int] | None:
        if value is not None:
            if not value:
                raise ValueError("programme.years: give at least one year, or leave it out")
            if any(b <= a for a, b in itertools.pairwise(value)):
                raise ValueError(
                    "programme.years: must be in order, each year once (e.g. [2026, 2027, 2028])"
                )
        return value


class Scenario(_Section):
    """A validated, immutable scenario. Build it with :func:`load_scenario`."""

    name: str = "Unnamed scenario"
    authority: str | None = None
    bases: Annotated[int, within(0, 200)] = 3
    base_size: Annotated[int, within(1, 200, "places")] = 10
    top: Annotated[int, within(1, 500)] = 10
    phases: list[Phase] = Field(default_factory=_default_phases, min_length=1)
    suppression_threshold: Annotated[int, within(0, 1_000_000, "children")] = 5
    allow_small_counts: bool = False
    inputs: Inputs
    need_groups: dict[str, NeedGroup] = Field(default_factory=_default_need_groups)
    journey: Journey = Field(default_factory=Journey)
    harm: Harm = Field(default_factory=Harm)
    fallback: Fallback = Field(default_factory=Fallback)
    candidates: Candidates = Field(default_factory=Candidates)
    selection: Selection = Field(default_factory=Selection)
    robustness: Robustness = Field(default_factory=Robustness)
    programme: Programme = Field(default_factory=Programme)
    disclosure: Disclosure = Field(default_factory=Disclosure)
    costs: Costs = Field(default_factory=Costs)
    national: National = Field(default_factory=National)
    source: Path | None = None
    source_sha256: str | None = None
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def origins(self) -> Mapping[str, str]:
        """Where each setting written in a file or changed later came from, by dotted key.

        Values are a scenario file's path (the file of the ``extends`` chain that wrote it) or
        the origin given to :func:`with_settings` (``"command line"`` by default). Keys not
        listed are defaults: see :func:`origin_of`.
        """
        return MappingProxyType(self._origins)

    def origin_of(self, key: str) -> str:
        """Where the value of dotted ``key`` came from: a file, an override, or ``"default"``.

        A key inside a table written whole (``inputs.schools.path`` for
        ``inputs.schools = "x.csv"``) takes the table's origin.
        """
        parts = key.split(".")
        for end in range(len(parts), 0, -1):
            found = self._origins.get(".".join(parts[:end]))
            if found is not None:
                return found
        return DEFAULT_ORIGIN

    @property
    def estimates(self) -> bool:
        """Whether the run's children are modelled estimates shown as such: demand modelled
        from published statistics and ``disclosure.modelled = "show"`` (no small-count
        control of the children's figures; see :class:`Disclosure`)."""
        demand = self.inputs.demand
        # Children the authority counted itself (inputs.demand.additional) are child-level.
        modelled = demand.method == "modelled" and demand.additional is None
        return modelled and self.disclosure.modelled == "show"

    @property
    def count_threshold(self) -> int:
        """Counts of the run's children below this are withheld: ``suppression_threshold``,
        or 0 when they are modelled estimates (:attr:`estimates`)."""
        return 0 if self.estimates else self.suppression_threshold

    @property
    def warnings(self) -> list[str]:
        """Settings that weaken a guarantee, to repeat on every run."""
        if self.suppression_threshold >= MIN_THRESHOLD:
            return []
        shown = "off" if self.suppression_threshold == 0 else f"{self.suppression_threshold}"
        return [
            f"suppression_threshold = {self.suppression_threshold}: disclosure control is"
            f" {'switched off' if shown == 'off' else 'below ' + str(MIN_THRESHOLD)}; counts"
            f" of fewer than {MIN_THRESHOLD} children can be published (allow_small_counts ="
            " true)"
        ]

    @model_validator(mode="after")
    def _check_consistency(self) -> Scenario:
        problems: list[str] = []
        demand = self.inputs.demand
        if demand.authority is None and self.authority is None:
            if demand.method == "modelled":
                problems.append(
                    "inputs.demand.authority: required for method 'modelled' (or name the"
                    " authority once with the top-level authority key)"
                )
            elif demand.sen2_caseload is not None:
                problems.append(
                    "inputs.demand.authority: required with inputs.demand.sen2_caseload (the"
                    " authority's new_la_code, old_la_code or la_name, or name the authority"
                    " once with the top-level authority key)"
                )
        if self.inputs.districts is not None and self.authority is None:
            problems.append(
                "inputs.districts: needs the top-level authority (the lookup gives that"
                " authority's districts, which cut its small areas)"
            )
        if self.is_national:
            problems += self._national_problems()
        elif self.national != National():
            default = National()
            problems += [
                f"national.{key}: allocates places across England's authorities, so it needs"
                ' authority = "England" (leave [national] out of one authority\'s scenario)'
                for key in National.model_fields
                if getattr(self.national, key) != getattr(default, key)
            ]
        elif self.authority is not None and find_authority(self.authority) is None:
            problems.append(
                f"authority: {self.authority!r} is not a local authority in England"
                f"{suggest(self.authority)}; give its name (Trafford), GSS code (E08000009) or"
                " DfE LA code (358), as in the DfE SEN2 files"
            )
        if self.suppression_threshold < MIN_THRESHOLD and not self.allow_small_counts:
            problems.append(
                f"suppression_threshold: must be >= {MIN_THRESHOLD} (counts of fewer children"
                " could identify a child); to publish smaller counts on purpose, also set"
                " allow_small_counts = true"
            )
        seen: dict[str, str] = {}
        for key, group in self.need_groups.items():
            for code in group.codes:
                if code not in NEED_CODES:
                    problems.append(
                        f"need_groups.{key}.codes: unknown need code {code!r}"
                        f" (use one of {', '.join(NEED_CODES)})"
                    )
                elif code in seen:
                    problems.append(
                        f"need_groups.{key}.codes: {code} is already in need_groups.{seen[code]}"
                    )
                else:
                    seen[code] = key
        missing = [code for code in NEED_CODES if code not in seen]
        if missing:
            problems.append(
                f"need_groups: need codes {', '.join(missing)} belong to no group"
                " (add them to a group's codes)"
            )
        if self.candidates.need_groups is not None:
            for key in self.candidates.need_groups:
                if key not in self.need_groups:
                    problems.append(
                        f"candidates.need_groups: {key!r} is not a need group"
                        f" (use one of {', '.join(self.need_groups)})"
                    )
        problems += self._set_problems()
        worst: tuple[float, str] | None = None
        for phase in self.phases:
            if phase not in self.harm.limit_minutes:
                problems.append(f"harm.limit_minutes.{phase}: required for phase {phase}")
                continue
            if self.harm.limit_minutes[phase] <= self.harm.free_minutes:
                problems.append(
                    f"harm.limit_minutes.{phase}: must be > harm.free_minutes"
                    f" ({self.harm.free_minutes:g})"
                )
                continue
            longest = float(self.harm.curve(phase)(self.journey.max_minutes))
            worst = max(worst or (longest, phase), (longest, phase))
        # A flat penalty must make any allowed journey better than no place. With a fallback
        # journey, staying unplaced can rightly beat a long ride past a nearer special school.
        flat = self.fallback.method == "flat"
        if flat and worst is not None and self.harm.unmet <= worst[0]:
            problems.append(
                f"harm.unmet: must be > {worst[0]:.2f}, the harm of the longest allowed"
                f" {worst[1]} journey ({self.journey.max_minutes:g} minutes), so that a child"
                " is never better off without a place"
            )
        if not flat and self.robustness.unmet:
            problems.append(
                "robustness.unmet: varies harm.unmet, which only fallback.method = 'flat'"
                " uses (vary fallback.mismatch with robustness.mismatch instead)"
            )
        what = {"mismatch": "mismatch penalty", "out_of_authority_minutes": "fallback journey"}
        for key, name in what.items():
            if flat and getattr(self.robustness, key):
                problems.append(
                    f"robustness.{key}: fallback.method 'flat' has no {name}"
                    " (vary harm.unmet with robustness.unmet instead)"
                )
        shares = self.robustness.share
        if shares:
            if demand.method != "modelled":
                problems.append(
                    "robustness.share: varies inputs.demand.share, which only"
                    " inputs.demand.method = 'modelled' uses (or set robustness.share = false)"
                )
            elif demand.sen2_caseload is None and any(isinstance(s, str) for s in shares):
                problems.append(
                    "robustness.share: the named shares need inputs.demand.sen2_caseload (the"
                    " SEN2 caseload file gives each age's share), or list fractions only"
                )
        for phase, groups in (self.selection.counts or {}).items():
            if phase not in self.phases:
                problems.append(f"selection.counts.{phase}: {phase} is not a planned phase")
            for key in groups:
                if key not in self.new_base_keys:
                    problems.append(
                        f"selection.counts.{phase}.{key}: not a need group a new base may serve"
                        f" (use one of {', '.join(self.new_base_keys)})"
                    )
        if len(set(self.phases)) != len(self.phases):
            problems.append("phases: each phase may appear only once")
        problems += self._budget_problems()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _set_problems(self) -> list[str]:
        """What is wrong with ``selection.need_group_sets``: each set two or more need groups
        a new base may serve, each once."""
        sets = self.selection.need_group_sets or []
        problems = []
        allowed = self.new_base_groups
        if sets:
            problems += [
                f"need_groups.{key}: a need group's key may not hold {SET_JOIN!r} with"
                " selection.need_group_sets (it joins the groups of a set)"
                for key in self.need_groups
                if SET_JOIN in key
            ]
        for i, members in enumerate(sets):
            key = f"selection.need_group_sets[{i}]"
            for group in members:
                if group not in allowed:
                    problems.append(
                        f"{key}: {group!r} is not a need group a new base may serve"
                        f" (use one of {', '.join(allowed)})"
                    )
            if len(set(members)) != len(members):
                problems.append(f"{key}: names a need group twice")
            elif len(members) < 2:
                problems.append(
                    f"{key}: a set needs two or more need groups (a single group is offered anyway)"
                )
        keys = [set_key(self.group_order(m)) for m in sets]
        if len(set(keys)) != len(keys):
            problems.append("selection.need_group_sets: a set is listed twice")
        return problems

    def _budget_problems(self) -> list[str]:
        """What ``selection.capital_budget`` cannot pay for: the bases it requires."""
        selection = self.selection
        if selection.capital_budget is None or not selection.required_urns:
            return []
        needed = len(selection.required_urns) * self.costs.base_capital(self.base_size)
        if needed > selection.capital_budget:
            return [
                f"selection.capital_budget: £{selection.capital_budget:,.0f} is below the"
                f" £{needed:,.0f} of the {len(selection.required_urns)} base(s) of"
                f" {self.base_size} places selection.required_urns names: raise the budget or"
                " require fewer"
            ]
        return []

    def _national_problems(self) -> list[str]:
        """What a national scenario cannot have: each authority is ranked on its own rows."""
        problems = []
        for key, value in (
            ("inputs.schools.authority", self.inputs.schools.authority),
            ("inputs.demand.authority", self.inputs.demand.authority),
        ):
            if value is not None:
                problems.append(
                    f"{key}: leave it out of a national scenario (authority = {self.authority!r}"
                    " ranks every authority on its own rows)"
                )
        if self.journey.method == "network":
            problems.append(
                'journey.method: "network" cannot be used in a national scenario (one road'
                ' network per authority would be needed): use "crowfly", or route each'
                ' authority with sitefinder travel into one matrix (method = "matrix")'
            )
        if self.inputs.demand.method == "pupils":
            problems.append(
                'inputs.demand.method: "pupils" cannot be used in a national scenario (pupil'
                ' lists are each authority\'s own): use "modelled" or "counts"'
            )
        return problems

    @property
    def is_national(self) -> bool:
        """Whether this is a national scenario (``authority = "England"``): every authority of
        the national files is ranked on its own rows, one by one or on dask workers."""
        return self.authority is not None and self.authority.strip().casefold() in NATIONAL

    @property
    def authority_info(self) -> Authority | None:
        """The authority named by ``authority``, in all its forms (None when not set)."""
        return find_authority(self.authority) if self.authority else None

    @property
    def sen2_authority(self) -> str | None:
        """The authority whose SEN2 rows are read: ``inputs.demand.authority``, else the
        scenario's (by its DfE name)."""
        found = self.authority_info
        return self.inputs.demand.authority or (found.name if found else None)

    @property
    def min_spare_places(self) -> int:
        """Spare places (capacity - pupils) a host needs: ``candidates.min_spare_places``."""
        wanted = self.candidates.min_spare_places
        return self.base_size if wanted == "base_size" else wanted

    @property
    def new_base_groups(self) -> list[str]:
        """Need groups a new base may be designated for."""
        return list(self.candidates.need_groups or self.need_groups)

    @property
    def new_base_keys(self) -> list[str]:
        """What a new base may serve: each single need group, then each set of
        ``selection.need_group_sets`` as its :func:`set_key` (``a+b``)."""
        sets = [set_key(self.group_order(m)) for m in self.selection.need_group_sets or []]
        return [*self.new_base_groups, *sets]

    def group_order(self, members: Sequence[str]) -> list[str]:
        """``members`` in the order the scenario lists its need groups."""
        order = {key: i for i, key in enumerate(self.need_groups)}
        return sorted(members, key=lambda g: order.get(g, len(order)))

    def group_label(self, key: str) -> str:
        """The label of a need group, or of a set of them (``A + B``), for people."""
        return " + ".join(
            self.need_groups[g].label if g in self.need_groups else g for g in groups_in(key)
        )

    @property
    def new_bases(self) -> int:
        """New bases the plan adds: the sum of ``selection.counts`` when given, else ``bases``."""
        counts = self.selection.counts
        return sum(sum(g.values()) for g in counts.values()) if counts else self.bases

    def group_of_code(self) -> dict[str, str]:
        """Map each SEN2 need code to its need group key."""
        return {code: key for key, group in self.need_groups.items() for code in group.codes}


SET_JOIN = "+"
"""What joins the need groups of a set in its key (``communication_interaction+semh``)."""


def set_key(members: Sequence[str]) -> str:
    """The key of a new base serving ``members`` (one need group: its own key)."""
    return SET_JOIN.join(members)


def groups_in(key: str) -> list[str]:
    """The need groups a new base's key names (one, or the members of a set)."""
    return key.split(SET_JOIN)


_MESSAGES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "missing": "required key is missing",
    "too_short": "must have at least {min_length} item(s)",
    "string_too_short": "must not be empty",
    "finite_number": "must be a finite number",
}


def _describe(error: Any) -> list[str]:
    loc = ".".join(str(part) for part in error["loc"] if part != "[key]")
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])).splitlines()
    if kind == "extra_forbidden":
        return [f"{loc}: unknown key (check the spelling against the scenario reference)"]
    if kind in _MESSAGES:
        shown = {k: f"{v:g}" if isinstance(v, float) else v for k, v in ctx.items()}
        return [f"{loc}: " + _MESSAGES[kind].format(**shown)]
    if kind in ("literal_error", "enum"):
        return [f"{loc}: must be one of {ctx.get('expected', '')}"]
    message = error["msg"][0].lower() + error["msg"][1:]
    return [f"{loc}: {message}"]


def _validate(data: dict[str, Any], *, origin: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [p for error in exc.errors() for p in _describe(error)]
        # Values given as flags are command-line mistakes (exit code 2), not scenario ones.
        kind = CommandLineError if origin == "command line" else ScenarioError
        raise kind(f"{origin}: {p}" for p in problems) from None


_VAR = re.compile(r"\$\{([^}]+)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _resolve_path(raw: str, *, base: Path, key: str, origin: str, problems: list[str]) -> str:
    """``raw`` with ``~`` and ``${VARIABLE}`` expanded, relative to ``base`` (the scenario's
    folder). A variable that begins the path and holds a relative path (``SITEFINDER_REAL_DATA=
    ../shared/data`` in ``${SITEFINDER_REAL_DATA}/dfe``) is relative to the working directory
    it was set in, as every tool takes it; later in the path a variable is only text."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in os.environ:
            problems.append(
                f"{origin}: {key}: environment variable {name} is not set"
                f" (set it, or write the path out in full)"
            )
            return match.group(0)
        value = os.environ[name]
        if match.start() != 0 or not value or value.startswith("~") or Path(value).is_absolute():
            return value
        try:
            return str((Path.cwd() / value).resolve())
        except OSError:
            problems.append(
                f"{origin}: {key}: environment variable {name} holds a relative path ({value})"
                " but the working directory it is relative to is gone; give an absolute path"
            )
            return value

    path = Path(_VAR.sub(substitute, raw)).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


# Keys that hold file paths: every string directly under [inputs], these keys inside its
# tables, and these keys under [journey].
_PATH_KEYS = frozenset(
    {
        "path",
        "population",
        "sen2_needs",
        "sen2_caseload",
        "additional",
        "network",
        "matrix",
        "census",
        "census_sen",
    }
)


def _resolve_section(
    table: dict[str, Any], *, section: str, base: Path, origin: str, problems: list[str]
) -> dict[str, Any]:
    def resolve(value: str, key: str) -> str:
        return _resolve_path(value, base=base, key=key, origin=origin, problems=problems)

    resolved: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, str) and (section == "inputs" or key in _PATH_KEYS):
            resolved[key] = resolve(value, f"{section}.{key}")
        elif isinstance(value, dict) and section == "inputs":
            resolved[key] = {
                inner: resolve(item, f"{section}.{key}.{inner}")
                if inner in _PATH_KEYS and isinstance(item, str)
                else item
                for inner, item in value.items()
            }
        else:
            resolved[key] = value
    return resolved


SCENARIO_MAX_BYTES = 1 << 20
"""A scenario file is short text: anything larger (1 MiB) is refused before parsing."""
SCENARIO_MAX_DEPTH = 12
"""Tables and lists nest at most this deep in a scenario (the deepest real key needs 4)."""


def _depth(data: Any) -> int:
    # Iterative, so a pathological file cannot exhaust the stack here either.
    deepest, stack = 0, [(data, 0)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > SCENARIO_MAX_DEPTH:
            break
        if isinstance(value, dict):
            stack.extend((inner, level + 1) for inner in value.values())
        elif isinstance(value, list):
            stack.extend((inner, level + 1) for inner in value)
    return deepest


def _read_toml(path: Path, *, missing: str) -> tuple[bytes, dict[str, Any]]:
    # One scenario file's raw bytes and parsed table; ``missing`` ends the not-found message.
    try:
        raw = read_small(path, limit=SCENARIO_MAX_BYTES)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: {missing}") from None
    except NotRegularFileError as exc:
        raise ScenarioError(f"{path}: {exc} (a scenario is a TOML text file)") from None
    except TooLargeError:
        raise ScenarioError(
            f"{path}: larger than {SCENARIO_MAX_BYTES // 1024:,} KiB; a scenario is a short TOML"
            " text file (check the path)"
        ) from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    except RecursionError:
        data = None  # nested deeper than the parser's stack: too deep by any measure
    if data is None or _depth(data) > SCENARIO_MAX_DEPTH:
        raise ScenarioError(
            f"{path}: tables or lists nested more than {SCENARIO_MAX_DEPTH} levels deep;"
            " a scenario needs at most 4 (check the file)"
        )
    for reserved in ("source", "source_sha256"):
        if reserved in data:
            raise ScenarioError(f"{path}: {reserved}: unknown key (set by sitefinder itself)")
    return raw, data


# Keys under [inputs] that may be a bare path or a table; a child's table merges into a
# parent's bare path as if the parent had written the table out.
_SHORTHANDS = frozenset({"schools", "bases", "boundaries", "demand"})


def _expand_shorthand(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return {"method": "counts", "path": value} if key == "demand" else {"path": value}


def _merge(parent: dict[str, Any], child: dict[str, Any], *, section: str = "") -> dict[str, Any]:
    """Merge ``child`` over ``parent``: tables key by key (child wins), anything else replaced."""
    merged = dict(parent)
    for key, value in child.items():
        below = merged.get(key)
        if section == "inputs" and key in _SHORTHANDS and isinstance(value, dict):
            below = _expand_shorthand(key, below)
        if isinstance(value, dict) and isinstance(below, dict):
            merged[key] = _merge(below, value, section=key if not section else f"{section}.{key}")
        else:
            merged[key] = value
    return merged


def _show_in_chain(path: Path, *, folder: Path) -> str:
    # Chain members are shown relative to the first file's folder, as a user wrote them.
    return os.path.relpath(path, folder)


def _written(data: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Every dotted key a parsed file writes; a bare path under [inputs] counts as its table."""
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if prefix == "inputs" and key in _SHORTHANDS:
            value = _expand_shorthand(key, value)
        if isinstance(value, dict) and value:
            yield from _written(value, dotted)
        else:
            yield dotted


def _covers(key: str, other: str) -> bool:
    # One dotted key is the other or a table holding it.
    return key == other or other.startswith(key + ".") or key.startswith(other + ".")


def _override(origins: Mapping[str, str], keys: Mapping[str, str]) -> dict[str, str]:
    """``origins`` with every key that ``keys`` covers replaced by ``keys``' origins."""
    kept = {k: v for k, v in origins.items() if not any(_covers(n, k) for n in keys)}
    return {**kept, **keys}


def _read_layer(
    path: Path, *, chain: tuple[Path, ...], top: Path, raws: list[bytes], problems: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read one scenario file and, through ``extends``, its ancestors, merged (child wins).

    ``chain`` holds the resolved files read so far (this one last); ``raws`` collects each
    file's bytes in the order read, child first, for the provenance hash. Returns the merged
    table and, for every dotted key written in the chain, the file that wrote the value kept.
    """
    missing = (
        "scenario file not found (check the path given to --config)"
        if len(chain) == 1
        else "parent scenario file not found (check the path)"
    )
    with processing(path):
        raw, data = _read_toml(path, missing=missing)
    raws.append(raw)
    for section in ("inputs", "journey"):
        if isinstance(data.get(section), dict):
            data[section] = _resolve_section(
                data[section], section=section, base=path.parent, origin=str(path),
                problems=problems,
            )  # fmt: skip
    written = data.pop("extends", None)
    mine = {key: str(path.resolve()) for key in _written(data)}
    if written is None:
        return data, mine
    if not isinstance(written, str) or not written.strip():
        raise ScenarioError(
            [*problems, f"{path}: extends: must be the path of another scenario file (text)"]
        )
    unset: list[str] = []
    parent = Path(
        _resolve_path(written, base=path.parent, key="extends", origin=str(path), problems=unset)
    )
    if unset:
        raise ScenarioError([*problems, *unset])
    if parent in chain:
        folder = chain[0].parent
        shown = " -> ".join(_show_in_chain(p, folder=folder) for p in (*chain, parent))
        raise ScenarioError([*problems, f"{top}: extends: cycle {shown}"])
    if not parent.exists():
        raise ScenarioError(
            [*problems, f"{path}: extends: parent file not found: {parent} (check the path)"]
        )
    ancestors, origins = _read_layer(
        parent, chain=(*chain, parent), top=top, raws=raws, problems=problems
    )
    return _merge(ancestors, data), _override(origins, mine)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file, following ``extends`` to its parents.

    A file may say ``extends = "parent.toml"`` (relative to the file; ``~`` and ``${VAR}``
    expanded): the parent is read first and the file's own keys override it, tables merging
    key by key and lists replaced. Each file's relative input paths resolve against its own
    folder. Chains are followed; a cycle is an error.

    Parameters
    ----------
    path
        The scenario file. Input paths inside it are relative to its folder.

    Returns
    -------
    Scenario
        The validated scenario, with ``source`` (this file) and ``source_sha256`` set; the hash
        covers the raw bytes of the whole chain, this file first, so it changes when a parent
        does. :attr:`Scenario.origins` names the file of the chain that set each key.

    Raises
    ------
    ScenarioError
        If a file in the chain is missing or unreadable, is not valid TOML, the chain has a
        cycle, or the merged scenario has unknown keys or bad values (all problems are listed).
    """
    path = Path(path)
    problems: list[str] = []
    raws: list[bytes] = []
    data, origins = _read_layer(
        path, chain=(path.resolve(),), top=path, raws=raws, problems=problems
    )
    data["source"] = str(path.resolve())
    data["source_sha256"] = hashlib.sha256(b"".join(raws)).hexdigest()
    try:
        scenario = _validate(data, origin=str(path))
    except ScenarioError as exc:
        raise ScenarioError([*problems, *exc.problems]) from None
    if problems:  # unset variables, reported with any other problem in one pass
        raise ScenarioError(problems)
    scenario._origins = origins
    return scenario


_RESERVED = frozenset({"source", "source_sha256", "extends"})


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> str | None:
    """Set ``data[a][b]...`` for ``key = "a.b..."``; return a problem instead when impossible."""
    parts = key.split(".")
    if any(not part for part in parts):
        return f"{key}: not a key (use dotted names such as harm.exponent)"
    if parts[0] in _RESERVED:
        return (
            f"{key}: cannot be changed after loading (sitefinder sets it, or it only means"
            " something in a file)"
        )
    table = data
    for depth, part in enumerate(parts[:-1]):
        inner = table.get(part)
        if inner is None:
            inner = table[part] = {}
        elif not isinstance(inner, dict):
            where = ".".join(parts[: depth + 1])
            return f"{key}: {where} is not a table, so it has no key {parts[depth + 1]!r}"
        table = inner
    below = table.get(parts[-1])
    if isinstance(value, dict) and isinstance(below, dict):
        table[parts[-1]] = _merge(below, value)  # a table changes key by key, as in a file
    else:
        table[parts[-1]] = value
    return None


def with_settings(
    scenario: Scenario, settings: Mapping[str, Any], *, origin: str = COMMAND_LINE
) -> Scenario:
    """Return ``scenario`` with dotted keys replaced, validated like the file (flag > file).

    The one way to change a loaded scenario: command-line flags, ``sweep --set`` and programs
    all come here, and the keys changed are recorded with ``origin`` in
    :attr:`Scenario.origins` (the HTML report lists each setting's origin).

    Parameters
    ----------
    scenario
        The scenario to change.
    settings
        Dotted keys (``"harm.exponent"``, ``"bases"``) and their parsed values; a value of
        ``None`` leaves its key as it is (a command-line option that was not given), so a key
        cannot be cleared here, as in a TOML file; to stop a ``robustness`` range varying, pin
        it (``[v, v]``). A table value (``{"harm": {...}}``) replaces keys inside it one by one.
    origin
        Where the values came from, shown as their source in the report.

    Returns
    -------
    Scenario
        A new, validated scenario.

    Raises
    ------
    ScenarioError
        Listing every problem as ``<origin>: <key>: <problem>``.
    """
    changes = {key: value for key, value in settings.items() if value is not None}
    if not changes:
        return scenario
    data = scenario.model_dump()
    problems = [
        f"{origin}: {problem}"
        for key, value in changes.items()
        if (problem := _set_dotted(data, key, value)) is not None
    ]
    if problems:
        raise ScenarioError(problems)
    changed = _validate(data, origin=origin)
    written = {
        key: origin
        for dotted, value in changes.items()
        for key in (_written(value, dotted) if isinstance(value, dict) and value else [dotted])
    }
    changed._origins = _override(scenario.origins, written)
    return changed
