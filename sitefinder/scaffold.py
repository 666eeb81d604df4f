"""``sitefinder init``: a commented scenario for one authority from a folder of public files.

The files are recognised by their contents (:mod:`sitefinder.discover`), each is checked for
the authority (:mod:`sitefinder.coverage`), one file is chosen per input by the rules below,
and the scenario is written with a comment on every choice, then validated like
``sitefinder validate``. What is missing is listed with where the public file comes from.

Rules, in order, when several files could fill one input (the first rule that tells two files
apart decides, and the report says which):

1. a file that holds the authority's rows beats one whose layout cannot tell; a file that
   holds none of them is skipped, and so is one that holds other authorities' rows but would
   be read whole, not cut to the authority (see :mod:`sitefinder.coverage`);
2. schools: a GIAS extract, then sitefinder's layout, then a mapped table; postcodes: one that
   names each postcode's LSOA; boundaries: the one holding most of the population's areas;
   SEN2: one with England's rows (the default share needs them);
3. the least reach beyond the authority: its own file (at least half its rows the
   authority's, so a few border rows do not count against it) beats a regional one, which
   beats a national one, by the order of magnitude of rows per row of the authority's; a
   national file, when chosen, is read cut to the authority and its comment says by what. Not
   for SEN2 files, national by nature, nor road networks (rule 5 takes the smaller extract);
4. the newest date, read from the content (SEN2 ``time_period``, the population's period, the
   OpenStreetMap header) or else the file name (``2024-09-26``, ``20251101``, ``nov2025``,
   a year);
5. more of the authority's rows (mapped school tables: more columns read first); road
   networks: the smaller file;
6. path order (said as a tie).

Rule 3 comes after rule 2, so a national GIAS extract still beats the authority's own mapped
table (it is read by its real column names and cut by ``LA (code)``), and a national boundaries
file beats one of the authority that lacks some of its areas.

Paths are written as ``--data`` was given: under ``${VAR}`` when it names an environment
variable (the scenario moves with the variable), absolute when it is absolute, otherwise
relative to the scenario file's folder (as scenarios read them).
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors

from sitefinder import coverage
from sitefinder.authorities import Authority, find_authority, suggest
from sitefinder.checks import InputSummary, check_inputs
from sitefinder.config import load_scenario
from sitefinder.coverage import Coverage, Extent
from sitefinder.discover import (
    ROLE_LABELS,
    Candidate,
    Unplaced,
    also_population,
    examine,
    find_files,
    show_date,
)
from sitefinder.errors import ScenarioError, SitefinderError
from sitefinder.readers.population_bands import layer_cut
from sitefinder.targets import check_target, write_text_atomic
from sitefinder.version import __version__

SOURCES: dict[str, tuple[str, str]] = {
    "schools": (
        "GIAS establishment extract",
        "Get Information About Schools, https://get-information-schools.service.gov.uk/Downloads"
        " (establishment fields, CSV)",
    ),
    "boundaries": (
        "LSOA 2021 boundaries",
        "the ONS Open Geography Portal, https://geoportal.statistics.gov.uk (Lower layer Super"
        " Output Areas, December 2021; GeoJSON or GeoPackage)",
    ),
    "population": (
        "ONS population by LSOA and single year of age",
        "ONS, 'Lower layer Super Output Area population estimates' (mid-year, single year of"
        " age), https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/"
        "populationestimates/datasets/lowersuperoutputareamidyearpopulationestimates",
    ),
    "sen2_needs": (
        "DfE SEN2 primary-need file (EHC plans by need and age, all authorities)",
        "DfE Explore education statistics, 'Education, health and care plans',"
        " https://explore-education-statistics.service.gov.uk/find-statistics/"
        "education-health-and-care-plans (download all data: the sen_needs file)",
    ),
    "sen2_caseload": (
        "DfE SEN2 caseload file (EHC plans by placement and age, all authorities)",
        "DfE Explore education statistics, 'Education, health and care plans',"
        " https://explore-education-statistics.service.gov.uk/find-statistics/"
        "education-health-and-care-plans (download all data: the caseload file)",
    ),
    "postcodes": (
        "ONS Postcode Directory (ONSPD)",
        "the ONS Open Geography Portal, https://geoportal.statistics.gov.uk (search ONSPD)",
    ),
    "network": (
        "OpenStreetMap extract of the county (.osm.pbf)",
        "Geofabrik, https://download.geofabrik.de/europe/united-kingdom/england.html",
    ),
    "census": (
        "DfE school census, school level (sex of school, admissions policy, pupils by age)",
        "DfE Explore education statistics, 'Schools, pupils and their characteristics',"
        " https://explore-education-statistics.service.gov.uk/find-statistics/"
        "school-pupils-and-their-characteristics (school-level underlying data)",
    ),
    "census_sen": (
        "DfE school-level SEN file (pupils with EHC plans and SEN support)",
        "DfE Explore education statistics, 'Special educational needs in England',"
        " https://explore-education-statistics.service.gov.uk/find-statistics/"
        "special-educational-needs-in-england (school-level underlying data)",
    ),
    "districts": (
        "lookup of local authority districts to upper-tier (education) authorities",
        "the ONS Open Geography Portal, https://geoportal.statistics.gov.uk (search 'LAD to"
        " UTLA lookup')",
    ),
    "bases": (
        "register of the authority's bases (resourced provisions and SEN units)",
        "the authority's own list (its Local Offer); one row per base: urn, phase, need_codes,"
        " places (see docs/data.md, 'The bases register')",
    ),
}
"""What each input is and where the public file comes from."""

# Rank of the school layouts: GIAS is read by its real column names and carries types,
# status, capacity and pupils; sitefinder's own layout is complete; a mapped table is a guess.
_SCHOOL_KINDS = {"gias": 3, "sitefinder": 2, "mapped": 1}
_KIND_WORDS = {"gias": "a GIAS extract", "sitefinder": "sitefinder's layout",
               "mapped": "a mapped table"}  # fmt: skip
_WIDTH = 99
UNREADABLE = (
    pd.errors.ParserError, UnicodeDecodeError, ValueError, KeyError, OSError,
    pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
)  # fmt: skip
"""What reading a file that looked right at its header may raise further down."""


@dataclass(frozen=True)
class Choice:
    """A file chosen for one input, what it holds of the authority, and whom it beat."""

    candidate: Candidate
    coverage: Coverage
    beat: tuple[tuple[Path, str], ...] = ()


@dataclass(frozen=True)
class Passed:
    """A recognised file not used: skipped (another authority's) or beaten by another file."""

    path: Path
    role: str
    reason: str


@dataclass(frozen=True)
class Missing:
    """An input no file was found for.

    ``effect`` says what the scenario does without it; empty when the scenario cannot run
    without it (then the file is required).
    """

    role: str
    what: str
    source: str
    effect: str = ""

    @property
    def required(self) -> bool:
        """Whether the scenario cannot run without it."""
        return not self.effect


@dataclass(frozen=True)
class InitResult:
    """What ``sitefinder init`` found, chose and wrote.

    Attributes
    ----------
    authority
        The authority the scenario is for.
    folder
        The data folder searched.
    examined
        Files looked at.
    chosen
        The file chosen for each input, in scenario order.
    passed
        Recognised files not used, with the reason.
    unplaced
        Files that fill no input, with the reason.
    missing
        Inputs no file was found for.
    written
        The scenario file, or None when nothing usable was found.
    summary
        What ``validate`` read, when the scenario validates.
    errors
        One line per problem: a required input missing (naming the folder), or what
        ``validate`` found wrong (naming the file).
    """

    authority: Authority
    folder: Path
    examined: int
    chosen: dict[str, Choice]
    passed: list[Passed]
    unplaced: list[Unplaced]
    missing: list[Missing]
    written: Path | None
    summary: InputSummary | None = None
    errors: list[str] = field(default_factory=list)
    suppression_threshold: int = 5
    """The written scenario's: counts of children below it are shown suppressed."""

    @property
    def valid(self) -> bool:
        """Whether the scenario was written and validates."""
        return self.written is not None and not self.errors


_VAR = re.compile(r"\$\{([^}]+)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def resolve_data_folder(text: str) -> Path:
    """The folder ``--data`` names, with ``~`` and ``${VAR}`` expanded.

    Raises
    ------
    ScenarioError
        If a variable is not set or the folder does not exist.
    """
    unset = [m.group(1) or m.group(2) for m in _VAR.finditer(text)
             if (m.group(1) or m.group(2)) not in os.environ]  # fmt: skip
    if unset:
        raise ScenarioError(
            f"{text}: environment variable {unset[0]} is not set (set it, or give the"
            " folder's path)"
        )
    folder = Path(_VAR.sub(lambda m: os.environ[m.group(1) or m.group(2)], text)).expanduser()
    if not folder.is_dir():
        raise ScenarioError(f"{text}: not a folder ({folder})")
    return folder


def resolve_authority(text: str) -> Authority:
    """The authority ``--authority`` names (name, GSS code or DfE LA code).

    Raises
    ------
    ScenarioError
        If no authority in the DfE SEN2 files has that name or code.
    """
    found = find_authority(text)
    if found is None:
        raise ScenarioError(
            f"{text}: not an authority in the DfE files (give its name, GSS code or"
            f" DfE LA code, e.g. Trafford, E08000009 or 358){suggest(text)}"
        )
    return found


# -- choosing one file per input ----------------------------------------------------------------

Rule = tuple[Callable[[Choice], Any], Callable[[Choice, Choice, Authority], str]]


def _covers(choice: Choice) -> int:
    return 1 if choice.coverage.rows else 0


def _why_covers(win: Choice, lose: Choice, authority: Authority) -> str:
    return f"cannot tell which authority it covers ({lose.coverage.how}); the chosen file can"


def _why_date(win: Choice, lose: Choice, authority: Authority) -> str:
    def dated(c: Candidate) -> str:
        return f"{show_date(c.date)} by its {c.date_from}" if c.date else "no date"

    return f"older ({dated(lose.candidate)}, against {dated(win.candidate)})"


def _why_rows(win: Choice, lose: Choice, authority: Authority) -> str:
    return (
        f"fewer of {authority.name}'s rows ({lose.coverage.rows or 0:,}, against"
        f" {win.coverage.rows or 0:,})"
    )


def _unit(role: str) -> str:
    return {"schools": "establishments", "boundaries": "polygons", "postcodes": "postcodes",
            "population": "areas", "districts": "districts"}.get(role, "rows")  # fmt: skip


def _reach(choice: Choice) -> int:
    """How far beyond the authority a file reaches: 0 when at least half its rows are the
    authority's (its own file, border rows and all); else the order of magnitude of its rows
    per row of the authority's (1: up to 10 times as many, a region; 2: up to 100; 3 and more:
    a national file). 0 when the file cannot tell (rule 1 has ranked it already)."""
    rows, total = choice.coverage.rows, choice.coverage.total
    if not rows or total is None or total <= 2 * rows:
        return 0
    return max(1, math.ceil(math.log10(total / rows) - 1e-9))


def _why_reach(win: Choice, lose: Choice, authority: Authority) -> str:
    unit = _unit(lose.candidate.role)

    def held(c: Choice) -> str:
        return f"{c.coverage.rows or 0:,} of {c.coverage.total or 0:,}"

    return (
        f"reaches further beyond {authority.name} ({held(lose)} {unit} are {authority.name}'s,"
        f" against {held(win)}): a file of {authority.name} alone, or the one holding least"
        " beyond it, is preferred to a regional or national one"
    )


_DATE: Rule = (lambda c: c.candidate.date, _why_date)
_ROWS: Rule = (lambda c: c.coverage.rows or 0, _why_rows)
_OWN: Rule = (lambda c: -_reach(c), _why_reach)


def _school_rules() -> list[Rule]:
    def kind(c: Choice) -> int:
        return _SCHOOL_KINDS.get(c.candidate.kind, 0)

    def why_kind(win: Choice, lose: Choice, authority: Authority) -> str:
        better = _KIND_WORDS[win.candidate.kind]
        reason = (
            " (read by its real column names, with establishment types, status, capacity and"
            " pupils)"
            if win.candidate.kind == "gias"
            else ""
        )
        return f"{better} is preferred to {_KIND_WORDS[lose.candidate.kind]}{reason}"

    def fields(c: Choice) -> int:
        return len(c.candidate.settings.get("columns", {}))

    def why_fields(win: Choice, lose: Choice, authority: Authority) -> str:
        return f"fewer columns sitefinder can read ({fields(lose)}, against {fields(win)})"

    def named(c: Choice) -> bool:
        return not c.coverage.how.startswith("its points")

    def why_named(win: Choice, lose: Choice, authority: Authority) -> str:
        return (
            f"has no authority column, so {authority.name}'s schools are told only by where they"
            f" lie; the chosen file names them (by {win.coverage.how})"
        )

    return [(kind, why_kind), (named, why_named), _OWN, _DATE, (fields, why_fields), _ROWS]


def _postcode_rules() -> list[Rule]:
    def areas(c: Choice) -> bool:
        return bool(c.candidate.settings.get("has_areas"))

    def why(win: Choice, lose: Choice, authority: Authority) -> str:
        return "names no LSOA for its postcodes (the chosen file does)"

    return [(areas, why), _OWN, _DATE, _ROWS]


def _boundary_rules(population: frozenset[str]) -> list[Rule]:
    def overlap(c: Choice) -> int:
        return len(c.coverage.keys & population)

    def why(win: Choice, lose: Choice, authority: Authority) -> str:
        return (
            f"holds fewer of the population file's areas ({overlap(lose):,}, against"
            f" {overlap(win):,})"
        )

    return [(overlap, why), _OWN, _DATE, _ROWS]


def _sen2_rules() -> list[Rule]:
    def england(c: Choice) -> bool:
        return c.coverage.england

    def why(win: Choice, lose: Choice, authority: Authority) -> str:
        return "has no England rows (the default share compares with England's)"

    return [_DATE, (england, why)]


def _network_rules() -> list[Rule]:
    def small(c: Choice) -> int:
        return -c.candidate.size

    def why(win: Choice, lose: Choice, authority: Authority) -> str:
        size = lose.candidate.size / 1e6
        return f"a larger file ({size:,.1f} MB, against {win.candidate.size / 1e6:,.1f} MB)"

    return [_DATE, (small, why)]


def _choose(
    role: str,
    found: list[tuple[Candidate, Coverage]],
    rules: list[Rule],
    authority: Authority,
    passed: list[Passed],
) -> Choice | None:
    """The best file for ``role`` by ``rules``; the rest are added to ``passed`` with why."""
    usable: list[Choice] = []
    for candidate, cover in found:
        if not cover.usable:
            passed.append(Passed(candidate.path, role, cover.skipped(authority)))
        else:
            usable.append(Choice(candidate, cover))
    if not usable:
        return None
    everything = [(_covers, _why_covers), *rules]
    ranked = sorted(
        usable,
        key=lambda c: (tuple(_negated(rule(c)) for rule, _ in everything), str(c.candidate.path)),
    )
    best, beaten = ranked[0], []
    for other in ranked[1:]:
        reason = next(
            (why(best, other, authority) for rule, why in everything if rule(best) != rule(other)),
            "ties with the chosen file on every rule (the first in path order was taken; remove"
            " the one you do not want)",
        )
        passed.append(Passed(other.candidate.path, role, f"passed over: {reason}"))
        beaten.append((other.candidate.path, reason))
    return Choice(best.candidate, best.coverage, tuple(beaten))


def _negated(value: Any) -> Any:
    # Sort descending on any comparable: numbers negated, tuples and booleans by their parts.
    if isinstance(value, bool):
        return -int(value)
    if isinstance(value, int | float):
        return -value
    if isinstance(value, tuple):
        return (*(-v for v in value), 1)  # the more precise date first; no date last
    raise TypeError(f"not a rule value: {value!r}")


def _boundary_shapes(candidate: Candidate, keys: frozenset[str], authority: Authority) -> Any:
    """The authority's polygons in the boundaries file (EPSG:27700), or None."""
    from sitefinder.readers.gdal import caught

    code = candidate.settings["code_column"]
    layer = candidate.settings.get("layer")
    cut = layer_cut(candidate.path, layer, authority)  # a national layer: its shapes, not all
    with caught(candidate.path):  # the reader reads the file again and says its warnings
        frame = pyogrio.read_dataframe(
            candidate.path, layer=layer, columns=[code], where=cut.where if cut else None
        )
    mine = frame[frame[code].astype(str).str.strip().isin(keys)] if keys else frame
    if mine.empty or mine.crs is None:
        return None
    return mine.geometry.to_crs(27700)


def _shapes_extent(shapes: Any) -> Extent | None:
    x0, y0, x1, y1 = (float(v) for v in shapes.total_bounds)
    return (x0, y0, x1, y1) if np.isfinite([x0, y0, x1, y1]).all() else None


def _gias_districts(schools: list[Candidate], authority: Authority) -> Authority:
    """A county council with the districts of the GIAS extract that will be chosen for its
    schools (``DistrictAdministrative (code)``), as the schools reader learns them: ONS files
    carry the districts' codes. A GIAS extract holding the county's rows wins the schools input
    whatever the extent (rule 2), so it can be chosen before the boundaries are."""
    found = []
    for candidate in schools:
        if candidate.kind != "gias":
            continue
        try:
            found.append((candidate, coverage.gias(candidate, authority)))
        except UNREADABLE:
            continue  # the schools input says why, when it is chosen
    choice = _choose("schools", found, _school_rules(), authority, [])
    if choice is None or not choice.coverage.districts:
        return authority
    return authority.with_districts(choice.coverage.districts)


def _choose_all(
    candidates: list[Candidate], authority: Authority, passed: list[Passed]
) -> tuple[dict[str, Choice], Authority]:
    by_role: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_role.setdefault(candidate.role, []).append(candidate)
    chosen: dict[str, Choice] = {}

    def pick(role: str, check: Callable[[Candidate], Coverage], rules: list[Rule]) -> None:
        found = []
        for candidate in by_role.get(role, []):
            try:
                found.append((candidate, check(candidate)))
            except UNREADABLE as exc:
                reason = (
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                )
                passed.append(Passed(candidate.path, role, f"cannot be read ({reason})"))
        choice = _choose(role, found, rules, authority, passed)
        if choice is not None:
            chosen[role] = choice

    pick("districts", lambda c: coverage.districts(c, authority), [_DATE, _ROWS])
    if "districts" in chosen and authority.is_county:
        authority = authority.with_districts(chosen["districts"].coverage.districts)
    elif "districts" in chosen:  # its own code: the lookup adds nothing, so it is not written
        lookup = chosen.pop("districts")
        passed.append(Passed(lookup.candidate.path, "districts", "not needed: ONS files carry"
                             f" {authority.name}'s own code ({authority.gss_code})"))  # fmt: skip
    pick("postcodes", lambda c: coverage.postcodes(c, authority), _postcode_rules())
    postcodes = chosen.get("postcodes")
    extent = postcodes.coverage.extent if postcodes else None
    known = postcodes.coverage.keys if postcodes else frozenset()
    if postcodes and postcodes.coverage.districts:
        authority = authority.with_districts(postcodes.coverage.districts)
    schools_authority = authority  # the schools reader learns GIAS districts after reading
    if authority.is_county:
        authority = _gias_districts(by_role.get("schools", []), authority)
    pick("population", lambda c: coverage.population(c, authority, known), [_OWN, _DATE, _ROWS])
    population = chosen["population"].coverage.keys if "population" in chosen else frozenset()
    pick(
        "boundaries",
        lambda c: coverage.boundaries(c, authority, known, population),
        _boundary_rules(population),
    )
    shapes = None
    if "boundaries" in chosen:
        boundaries = chosen["boundaries"]
        shapes = _boundary_shapes(boundaries.candidate, boundaries.coverage.keys, authority)
        if extent is None and shapes is not None:
            extent = _shapes_extent(shapes)
    pick("areas", lambda c: coverage.areas_table(c, authority, extent), [_OWN, _DATE, _ROWS])

    def school_check(c: Candidate) -> Coverage:
        if c.kind == "gias":
            return coverage.gias(c, schools_authority)
        return coverage.schools(c, schools_authority, extent, shapes=shapes)

    pick("schools", school_check, _school_rules())
    urns = chosen["schools"].coverage.keys if "schools" in chosen else frozenset()
    if extent is None and "schools" in chosen:  # no postcodes nor boundaries: its schools'
        extent = chosen["schools"].coverage.extent
    pick("bases", lambda c: coverage.bases(c, authority, urns), [_ROWS, _OWN, _DATE])
    lacking = _school_gaps(chosen.get("schools"))
    for role, fields in (("census", {"gender", "admissions_policy", "ages"}),
                         ("census_sen", {"ehcp_pupils"})):  # fmt: skip
        if lacking & fields:
            pick(role, lambda c: coverage.census(c, authority, urns), [_DATE, _ROWS])
        else:
            passed.extend(
                Passed(c.path, role, "not needed: the schools file has what it would fill"
                       + ("" if "schools" in chosen else " (no schools file was chosen)"))
                for c in by_role.get(role, [])
            )  # fmt: skip
    pick("network", lambda c: coverage.network(c, authority, extent), _network_rules())
    for role in ("sen2_needs", "sen2_caseload"):
        pick(role, lambda c: coverage.sen2(c, authority), _sen2_rules())
    areas = (
        chosen["areas"].coverage.keys
        if "areas" in chosen
        else population | (chosen["boundaries"].coverage.keys if "boundaries" in chosen else set())
    )
    pick("demand", lambda c: coverage.demand_table(c, frozenset(areas)), [_OWN, _DATE, _ROWS])
    return chosen, authority


_GIAS_FIELDS = {"gender": "Gender (name)", "admissions_policy": "AdmissionsPolicy (name)",
                "ages": "StatutoryLowAge", "ehcp_pupils": "SENStat"}  # fmt: skip


def _school_gaps(schools: Choice | None) -> set[str]:
    """What the chosen schools file lacks of what the census files fill: ``gender``,
    ``admissions_policy``, ``ages``, ``ehcp_pupils`` (none for sitefinder's own layout, read
    as it is)."""
    if schools is None or schools.candidate.kind == "sitefinder":
        return set()
    if schools.candidate.kind == "gias":
        header = set(schools.candidate.header)
        return {key for key, column in _GIAS_FIELDS.items() if column not in header}
    columns = set(schools.candidate.settings.get("columns", {}))
    has = {"ages"} if columns & {"statutory_low_age", "low_age"} else set()
    return {"gender", "admissions_policy", "ages", "ehcp_pupils"} - columns - has


# -- what is missing ----------------------------------------------------------------------------


def _missing(chosen: dict[str, Choice]) -> list[Missing]:
    missing: list[Missing] = []

    def lacks(role: str, effect: str = "") -> None:
        what, source = SOURCES[role]
        missing.append(Missing(role, what, source, effect))

    if "schools" not in chosen:
        lacks("schools")
    if "boundaries" not in chosen and "areas" not in chosen:
        lacks("boundaries")
    counts = "demand" in chosen
    if not counts:
        for role in ("population", "sen2_needs", "sen2_caseload"):
            if role not in chosen:
                lacks(role)
    elif "sen2_caseload" not in chosen:
        lacks(
            "sen2_caseload",
            "existing places are not checked against the children SEN2 places in bases today",
        )
    schools = chosen.get("schools")
    if "bases" not in chosen:
        if schools is not None and schools.candidate.kind == "sitefinder":
            lacks("bases")  # sitefinder's layout keeps its bases in a file of their own
        else:
            has_flags = schools is not None and (
                schools.candidate.kind == "gias"
                or "base_type" in schools.candidate.settings.get("columns", {})
            )
            lacks(
                "bases",
                "existing bases come from the schools file's resourced provision and SEN unit"
                " flags, with places assumed where none are recorded"
                if has_flags
                else "no existing bases are known (the schools file records no resourced"
                " provision or SEN unit flags or places: England's national GIAS subset has"
                " none), so demand near today's bases looks unmet (validate warns when SEN2 says"
                " children are in bases)",
            )
    if "postcodes" not in chosen and "areas" not in chosen:
        lacks(
            "postcodes",
            "each area's point is a point inside its polygon, not the mean of its postcodes;"
            " schools without coordinates are located with the packaged ONSPD",
        )
    if "network" not in chosen:
        lacks(
            "network",
            "journeys are estimated crow-fly (straight line x 1.35 at 40 km/h), not routed on"
            ' roads; with an extract, set [journey] method = "network" and network = its path',
        )
    return missing


# -- the scenario text --------------------------------------------------------------------------


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str, hang: str = "") -> list[str]:
    return textwrap.wrap(
        text, _WIDTH, initial_indent="# ", subsequent_indent=f"# {hang}",
        break_on_hyphens=False, break_long_words=False,
    )  # fmt: skip


def _keyed(line: str, note: str) -> list[str]:
    """``key = value  # note``, the note aligned and wrapped onto comment lines."""
    head = f"{line:<31}  # "
    room = max(_WIDTH - len(head), 30)
    parts = textwrap.wrap(note, room, break_on_hyphens=False, break_long_words=False)
    return [head + parts[0], *(" " * 33 + "# " + p for p in parts[1:])]


@dataclass(frozen=True)
class _Paths:
    """How input paths are written into the scenario (see the module docstring)."""

    folder: Path
    data_text: str
    output: Path

    def __call__(self, path: Path) -> str:
        inside = path.relative_to(self.folder).as_posix()
        if _VAR.search(self.data_text):
            return f"{self.data_text.rstrip('/')}/{inside}"
        if Path(self.data_text).expanduser().is_absolute():
            return path.absolute().as_posix()
        return Path(os.path.relpath(path.absolute(), self.output.parent.absolute())).as_posix()

    @property
    def rule(self) -> str:
        if _VAR.search(self.data_text):
            return f"under {self.data_text}, as --data was given (set it before running)"
        if Path(self.data_text).expanduser().is_absolute():
            return "absolute, as --data was given"
        return "relative to this file's folder"


def describe(choice: Choice, authority: Authority, *, facts: bool = True) -> str:
    """What a chosen file is and holds of the authority, in one sentence (or two)."""
    candidate, cover = choice.candidate, choice.coverage
    what = candidate.layout
    if facts and candidate.facts:
        what += f": {'; '.join(candidate.facts)}"
    found = cover.described(authority, _unit(candidate.role))
    what = what[0].upper() + what[1:]
    text = f"{what}. {found[0].upper()}{found[1:]}." if found else f"{what}."
    if candidate.role in ("boundaries", "population") and cover.beyond:
        text += f" It is cut to them by {cover.how} when read (the top-level authority)."
    return text


def _about(choice: Choice, authority: Authority, shown: Callable[[Path], str]) -> list[str]:
    lines = _comment(describe(choice, authority))
    for path, reason in choice.beat:
        lines += _comment(f"Chosen over {shown(path)}: {reason}.")
    return lines


def _table_lines(name: str, values: dict[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    for key, value in values.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{_q(k)} = {_q(v)}" for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}")
        else:
            lines.append(f"{_key(key)} = {_q(str(value))}")
    return lines


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _q(key)


def scenario_text(
    *,
    authority: Authority,
    chosen: dict[str, Choice],
    missing: list[Missing],
    paths: _Paths,
) -> str:
    """The commented scenario TOML for ``authority`` from the chosen files."""

    def about(role: str) -> list[str]:
        return _about(chosen[role], authority, lambda p: p.relative_to(paths.folder).as_posix())

    def path(role: str) -> str:
        return _q(paths(chosen[role].candidate.path))

    out = _comment(
        f"{authority.label}: a scenario written by `sitefinder init` (sitefinder"
        f" {__version__}) from the files it recognised in {paths.data_text}."
    )
    out += [
        "#",
        f"#   sitefinder validate --config {paths.output.name}",
        f"#   sitefinder rank --config {paths.output.name}",
        "#",
    ]
    out += _comment(
        "Each input was recognised by its columns, not its name; the comment above it says"
        " what it is, what was inferred and why it was chosen. Lines marked REVIEW are choices"
        f" a planner should check before quoting results. Paths are {paths.rule}."
    )
    optional = [m for m in missing if not m.required]
    if optional:
        out += ["#", "# Not found, and what this scenario does without it:"]
        for item in optional:
            out += _comment(
                f"- {ROLE_LABELS[item.role]}: {item.effect}. Public source: {item.source}.",
                "  ",
            )
    out += [
        "",
        f"name = {_q(authority.name)}",
        *_keyed(
            f"authority = {_q(authority.name)}",
            f"named once: cuts every national file to it (also {authority.gss_code} or"
            f" {authority.la_code})",
        ),
        "",
        "# REVIEW: the plan.",
        *_keyed("bases = 3", "new bases the plan adds"),
        *_keyed("base_size = 10", "places in each new base (children)"),
        *_keyed("top = 10", "ranked candidates to list"),
        *_keyed('phases = ["primary", "secondary"]', "phases planned for"),
        "",
        "[inputs]",
    ]
    schools = chosen["schools"]
    settings = dict(schools.candidate.settings)
    columns = settings.pop("columns", None)
    values = settings.pop("values", None)
    bases = chosen.get("bases")
    # Inputs given by their path alone sit in [inputs] itself, before its sub-tables.
    flat: list[str] = [role for role in ("districts", "postcodes", "areas") if role in chosen]
    if schools.candidate.kind == "sitefinder":
        flat.append("schools")
    if bases is not None and not bases.candidate.settings:
        flat.append("bases")
    for number, role in enumerate(flat):
        out += ([""] if number else []) + [*about(role), f"{role} = {path(role)}"]
    if schools.candidate.kind != "sitefinder":
        out += ["", "[inputs.schools]", *about("schools"), f"path = {path('schools')}"]
        out += [f"format = {_q(settings['format'])}"]
        out += _keyed(
            "default_base_capacity = 10",
            "REVIEW: places assumed for an existing base with no recorded capacity",
        )
        if "sen2_caseload" in chosen:
            out += _keyed(
                '# capacity_from = "sen2"',
                "or scale assumed places to SEN2's children in bases, by phase",
            )
        for role in ("census", "census_sen"):
            if role in chosen:
                out += [*about(role), f"{role} = {path(role)}"]
        if columns:
            out += ["", *_table_lines("inputs.schools.columns", columns)]
        if values:
            out += ["", *_table_lines("inputs.schools.values", values)]
    if bases is not None and bases.candidate.settings:
        out += ["", "[inputs.bases]", *about("bases"), f"path = {path('bases')}"]
        for key in ("columns", "values"):
            if key in bases.candidate.settings:
                out += ["", *_table_lines(f"inputs.bases.{key}", bases.candidate.settings[key])]
    if "boundaries" in chosen:
        boundary = chosen["boundaries"].candidate.settings
        out += ["", "[inputs.boundaries]", *about("boundaries"), f"path = {path('boundaries')}"]
        out += [f"code_column = {_q(boundary['code_column'])}"]
        name = boundary.get("name_column")
        out += [f"name_column = {_q(name)}"] if name else []
        out += [f"layer = {_q(boundary['layer'])}"] if boundary.get("layer") else []
    out += ["", "[inputs.demand]"]
    if "demand" in chosen:
        out += [*about("demand"), 'method = "counts"', f"path = {path('demand')}"]
        if "sen2_caseload" in chosen:
            out += [*about("sen2_caseload"), f"sen2_caseload = {path('sen2_caseload')}"]
    else:
        out += _comment(
            f"Modelled: ONS population by area and single year of age x {authority.name}'s"
            " EHC-plan rates by need and age (SEN2) x the share of plans that need a base place."
        )
        out += ['method = "modelled"', ""]
        for role in ("population", "sen2_needs", "sen2_caseload"):
            out += [*about(role), f"{role} = {path(role)}"]
        england = chosen["sen2_caseload"].coverage.england
        share = "higher" if england else "authority"
        out += _keyed(
            f"share = {_q(share)}",
            'REVIEW: share of EHC plans needing a base place at each age: "higher" (the'
            f" higher of {authority.name}'s and England's, the default), \"authority\","
            ' "england", a fraction, or { primary = 0.08, secondary = 0.04 }'
            + ("" if england else "; the caseload file has no England rows"),
        )
        out += _keyed("# planning_year = 2030", "project plans forward along SEN2's years")
    out += ["", "[journey]"]
    if "network" in chosen:
        out += [*about("network"), 'method = "network"', f"network = {path('network')}"]
    else:
        out += _comment(
            "No OpenStreetMap extract for the authority was found: crow-fly estimate (straight"
            f" line x 1.35 at 40 km/h). Public source: {SOURCES['network'][1]}."
        )
        out += ['method = "crowfly"']
    out += _keyed("ride_factor = 1.3", "REVIEW: a shared SEND taxi round / the direct drive")
    out += _keyed("overhead_minutes = 5.0", "REVIEW: pick-up and drop-off (minutes)")
    out += [
        "",
        "[fallback]",
        *_keyed(
            'method = "special_school"',
            "REVIEW: a child without a base place travels to the nearest special school"
            " teaching their phase and need, or out of authority when none is nearer",
        ),
        *_keyed(
            "mismatch = 1.0",
            "REVIEW: harm points for having no base place (1 = one journey at the guidance limit)",
        ),
        *_keyed(
            "out_of_authority_minutes = 60.0",
            "REVIEW: one-way minutes to an out-of-authority placement",
        ),
        "",
        "[candidates]",
        *_comment(
            "REVIEW: which schools may host a new base (the defaults; see docs/scenario.md,"
            ' "Candidate host rules").'
        ),
        *_keyed("exclude_single_sex = true", "boys' and girls' schools out"),
        *_keyed("exclude_selective = true", "selective (grammar) schools out"),
        *_keyed(
            "exclude_partial_ages = false",
            "infant and junior schools host bases for their own ages (true: out)",
        ),
        *_keyed('min_spare_places = "base_size"', "spare places (capacity - pupils) needed"),
        *_keyed("exclude_existing_hosts = false", "true: no second base at a host"),
        *_keyed("exclude_urns = []", "schools never to consider"),
    ]
    if schools.coverage.beyond:  # a wider extract: other authorities' schools near the border
        out += _keyed(
            "cross_border = false",
            "true: other authorities' mainstream schools within inputs.schools.cross_border_km"
            " may host too (flagged in every output)",
        )
    return "\n".join(out) + "\n"


# -- the command ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Examined:
    """What a data folder holds: every file looked at, the inputs each can be, and the files
    that are none. Examine a folder once to write scenarios for many authorities from it
    (:func:`examine_folder`): the columns read while checking each authority are kept with
    the candidates, so a national file's are read once."""

    folder: Path
    files: list[Path]
    candidates: list[Candidate]
    unplaced: list[Unplaced]


def examine_folder(folder: Path) -> Examined:
    """Recognise every file under ``folder`` (see :func:`sitefinder.discover.find_files`)."""
    files, unplaced = find_files(folder)
    candidates: list[Candidate] = []
    for path in files:
        found = examine(path)
        if isinstance(found, Unplaced):
            unplaced.append(found)
        else:
            candidates.append(found)
            extra = also_population(found)  # a map layer holding population by age too
            candidates += [extra] if extra is not None else []
    return Examined(folder, files, candidates, unplaced)


def init_scenario(
    *,
    authority: str,
    data: str,
    output: str | Path,
    overwrite: bool = False,
    examined: Examined | None = None,
) -> InitResult:
    """Write a commented scenario for ``authority`` from the files found in ``data``.

    Parameters
    ----------
    authority
        The local authority: its name, GSS code or DfE LA code (``Trafford``, ``E08000009``,
        ``358``).
    data
        The folder to search (up to four levels down, 2,000 files), as the user wrote it:
        ``${VAR}`` and ``~`` are expanded, and paths are written into the scenario the same
        way (see the module docstring).
    output
        The scenario file to write (``.toml``).
    overwrite
        Replace an existing ``output``.
    examined
        The folder examined already (:func:`examine_folder` on the folder ``data`` names), to
        write scenarios for many authorities without examining it again; else it is
        examined now.

    Returns
    -------
    InitResult
        What was found, chosen, passed over and missing; ``written`` is None when a required
        input is missing (then ``errors`` lists each, with its public source). When written,
        the scenario has been validated: ``summary`` holds what it reads, or ``errors`` the
        problems found.

    Raises
    ------
    ScenarioError
        If the authority is unknown or the folder does not exist.
    OutputError
        If ``output`` exists and ``overwrite`` is false, or is not a ``.toml`` file.
    """
    target = check_target(output, overwrite=overwrite, suffix=".toml", kind="scenario file")
    place = resolve_authority(authority)
    folder = resolve_data_folder(data)
    if examined is None or examined.folder != folder:
        examined = examine_folder(folder)
    files = examined.files
    unplaced = [u for u in examined.unplaced if u.path.absolute() != target.absolute()]
    candidates = [c for c in examined.candidates if c.path.absolute() != target.absolute()]
    passed: list[Passed] = []
    chosen, place = _choose_all(candidates, place, passed)
    missing = _missing(chosen)
    required = [m for m in missing if m.required]
    if required:
        errors = []
        for item in required:
            skipped = [p for p in passed if p.role == item.role]
            why = "; ".join(f"{p.path.relative_to(folder).as_posix()}: {p.reason}" for p in skipped)
            errors.append(
                f"{folder}: no {item.what} for {place.name}"
                + (f" (found but not usable: {why})" if why else "")
                + f"; download it from {item.source}"
            )
        return InitResult(place, folder, len(files), chosen, passed, unplaced, missing, None,
                          errors=errors)  # fmt: skip
    order = ["schools", "census", "census_sen", "bases", "districts", "areas", "boundaries",
             "postcodes", "population", "sen2_needs", "sen2_caseload", "demand",
             "network"]  # fmt: skip
    chosen = {role: chosen[role] for role in order if role in chosen}
    text = scenario_text(
        authority=place, chosen=chosen, missing=missing,
        paths=_Paths(folder=folder, data_text=data, output=target),
    )  # fmt: skip
    write_text_atomic(target, text, overwrite=overwrite, kind="scenario file")
    summary: InputSummary | None = None
    errors = []
    threshold = 5
    try:
        scenario = load_scenario(target)
        threshold = scenario.suppression_threshold
        summary = check_inputs(scenario)
    except SitefinderError as exc:
        errors = exc.problems
    return InitResult(
        place, folder, len(files), chosen, passed, unplaced, missing, target, summary, errors,
        threshold,
    )  # fmt: skip
