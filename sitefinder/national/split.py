"""Cut national input files into one slice per local authority, in the files' own layouts.

A national scenario (``authority = "England"``) names national files: a GIAS extract, ONS
population, SEN2 files, and so on. Each authority is ranked exactly as ``sitefinder rank``
ranks one authority, on its own rows of every file: the national files are read once here,
each row is given the authority it belongs to by the same rules the readers use to cut a file
to one authority (:mod:`sitefinder.authorities`), and each authority's rows are written back
in the file's own layout and encoding. A worker writes its slice to a temporary folder and
runs the ordinary pipeline on it, so readers, checks and messages are those of a one-authority
run; messages are put back in terms of the national files and their lines
(:meth:`AuthorityInputs.relabel`).

How rows are assigned:

- schools (GIAS or a mapped CSV) by ``LA (code)``, ``LA (name)`` or ``GSSLACode (name)`` (or
  the mapped authority columns); a county council's districts are learned from GIAS's
  ``DistrictAdministrative (code)`` (or the postcode directory's ``cty``);
- small areas (the areas CSV, ONS population, boundaries) by a local authority district code
  column (``LAD21CD``, ``LAD 2021 Code``), else by the area name (``Trafford 025A``), else by
  the population file's assignment of the same area code;
- demand counts and a travel matrix by their area (a matrix also keeps only journeys to the
  same authority's schools: children crossing authority borders are not modelled); a bases
  register by its school; the postcode directory by ``laua`` (``cty`` for a county);
- SEN2 files: the authority's rows (``new_la_code``, ``old_la_code`` or ``la_name``) and
  England's (the national share of plans in bases); regions are dropped.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.authorities import (
    AREA_NAME_COLUMN,
    COUNTY_COLUMN,
    LAD_COLUMN,
    Authority,
    all_authorities,
    area_name_prefix,
    find_column,
)
from sitefinder.config import Scenario, SchoolsInput
from sitefinder.errors import DataError, processing
from sitefinder.files import file_sha256
from sitefinder.readers.establishments import GIAS_COLUMNS
from sitefinder.readers.tables import read_any, read_csv, read_vector
from sitefinder.validate import Problems

SETTINGS = {
    "schools": "inputs.schools.path",
    "bases": "inputs.bases.path",
    "areas": "inputs.areas",
    "boundaries": "inputs.boundaries.path",
    "demand": "inputs.demand.path",
    "population": "inputs.demand.population",
    "sen2_needs": "inputs.demand.sen2_needs",
    "sen2_caseload": "inputs.demand.sen2_caseload",
    "postcodes": "inputs.postcodes",
    "matrix": "journey.matrix",
}
"""The scenario key of each input file a national scenario may name."""
_POPULATION_CODES = ("area_code", "lsoa21cd", "lsoa 2021 code", "lsoa_code", "lsoa11cd",
                     "geography code")  # fmt: skip
_SEN2_KEYS = ("new_la_code", "old_la_code", "la_name")
_LINES = re.compile(r"\blines? (\d+(?:, \d+)*)")
_SHOWN = 10


@dataclass(frozen=True)
class Slice:
    """One authority's rows of one national file.

    Attributes
    ----------
    name
        File name to write it under (the national file's own name).
    data
        The file's bytes, in the national file's layout and encoding.
    lines
        Line in the national file of each data row (header = line 1); empty for a vector file.
    """

    name: str
    data: bytes
    lines: NDArray[np.int64]


@dataclass(frozen=True)
class AuthorityInputs:
    """Everything one authority's run needs: its slices of the national files.

    Attributes
    ----------
    authority
        The authority, with the districts learned for a county council.
    slices
        Its rows of each input file, by input name (see :data:`SETTINGS`).
    national
        The national file each slice was cut from, by input name.
    required_urns, exclude_urns
        The scenario's ``selection.required_urns`` and ``candidates.exclude_urns`` among its
        schools.
    schools, areas
        Establishments and small areas it has.
    """

    authority: Authority
    slices: dict[str, Slice]
    national: dict[str, Path]
    required_urns: tuple[str, ...] = ()
    exclude_urns: tuple[str, ...] = ()
    schools: int = 0
    areas: int = 0

    def settings(self, folder: Path) -> dict[str, object]:
        """The scenario settings that point a national scenario at this authority's slices
        written in ``folder``."""
        out: dict[str, object] = {
            SETTINGS[key]: str(folder / piece.name) for key, piece in self.slices.items()
        }
        if "boundaries" in self.slices:
            out["inputs.boundaries.layer"] = "boundaries"
        out["authority"] = self.authority.gss_code
        out["selection.required_urns"] = list(self.required_urns)
        out["candidates.exclude_urns"] = list(self.exclude_urns)
        return out

    def write(self, folder: Path) -> None:
        """Write every slice into ``folder``."""
        for piece in self.slices.values():
            (folder / piece.name).write_bytes(piece.data)

    def relabel(self, text: str, folder: Path) -> str:
        """``text`` (a note, warning or problem of the run) in terms of the national files:
        each slice's path becomes the national file's, and its lines the national lines."""
        for key, piece in self.slices.items():
            local = str(folder / piece.name)
            if local not in text:
                continue
            national = str(self.national[key])
            head, _, tail = text.partition(local)
            if len(piece.lines):
                tail = _LINES.sub(_national_lines(piece.lines), tail, count=1)
            text = head + national + tail
        return text


def _national_lines(lines: NDArray[np.int64]) -> Callable[[re.Match[str]], str]:
    """A substitution turning a slice's ``line(s) N, M`` into the national file's lines."""

    def replace(match: re.Match[str]) -> str:
        numbers = [int(n) for n in match.group(1).split(", ")]
        mapped = [str(int(lines[n - 2])) if 2 <= n < len(lines) + 2 else str(n) for n in numbers]
        word = "lines" if match.group(0).startswith("lines") else "line"
        return f"{word} {', '.join(mapped)}"

    return replace


@dataclass(frozen=True)
class NationalInputs:
    """The national files cut into one :class:`AuthorityInputs` per authority with schools.

    Attributes
    ----------
    authorities
        One entry per authority with establishments in the schools file, in GSS code order.
    checksums
        SHA-256 of each national input file, by input name.
    notes
        What was cut, and what belonged to no authority.
    """

    authorities: list[AuthorityInputs]
    checksums: dict[str, str]
    notes: list[str] = field(default_factory=list)


class _Labeller:
    """Which authority (a position in ``authorities``) each value or area name names."""

    def __init__(self, authorities: Sequence[Authority]) -> None:
        self.authorities = list(authorities)
        self._forms: dict[str, int] = {}
        self._names: dict[str, int] = {}
        for i, authority in enumerate(self.authorities):
            for form in sorted(authority.forms | {d.casefold() for d in authority.districts}):
                self._forms.setdefault(form, i)
            if not authority.is_county:  # ONS names a county's areas after its districts
                for name in sorted(authority.names):
                    self._names.setdefault(name, i)

    def codes(self, values: pd.Series) -> NDArray[np.intp]:
        """The authority each value names (a code, a name or a district's code), else -1."""
        folded = values.astype(str).str.strip().str.casefold()
        return folded.map(self._forms).fillna(-1).to_numpy(dtype=np.intp)

    def area_names(self, names: pd.Series) -> NDArray[np.intp]:
        """The authority whose name begins each area name ('Trafford 025A'), else -1."""
        return area_name_prefix(names).map(self._names).fillna(-1).to_numpy(dtype=np.intp)

    def small_areas(self, table: pd.DataFrame) -> tuple[NDArray[np.intp], str]:
        """Labels of a small-area table: by its LAD code column, else its area names."""
        lad = find_column(table.columns, LAD_COLUMN)
        if lad is not None:
            return self.codes(table[lad]), f"by {lad}"
        names = find_column(table.columns, AREA_NAME_COLUMN)
        if names is not None:
            return self.area_names(table[names]), f"by the area names in {names}"
        return np.full(len(table), -1, dtype=np.intp), ""


def _first_match(*labels: NDArray[np.intp]) -> NDArray[np.intp]:
    out = labels[0].copy()
    for more in labels[1:]:
        out = np.where(out >= 0, out, more)
    return out


def _encoding(path: Path) -> str:
    """The encoding :func:`sitefinder.readers.tables.read_csv` read ``path`` in."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"


def _csv_slices(
    table: pd.DataFrame,
    labels: NDArray[np.intp],
    path: Path,
    n: int,
    *,
    neighbours: Callable[[int, NDArray[np.intp]], NDArray[np.intp]] | None = None,
) -> dict[int, Slice]:
    """Each authority's rows of a CSV table, in the file's encoding and column order, and the
    rows ``neighbours`` adds to them (other authorities' special schools within reach)."""
    encoding = _encoding(path)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n + 1))
    header = table.iloc[:0]
    out = {}
    for i in range(n):
        rows = order[bounds[i] : bounds[i + 1]]
        if neighbours is not None:
            rows = np.concatenate([rows, neighbours(i, rows)])
        buffer = io.StringIO()
        (table.iloc[rows] if len(rows) else header).to_csv(
            buffer, index=False, lineterminator="\r\n" if encoding == "cp1252" else "\n"
        )
        out[i] = Slice(path.name, buffer.getvalue().encode(encoding), rows.astype(np.int64) + 2)
    return out


def _special_neighbours(
    schools: pd.DataFrame, spec: SchoolsInput, owner: NDArray[np.intp]
) -> Callable[[int, NDArray[np.intp]], NDArray[np.intp]] | None:
    """Other authorities' special schools an authority's slice carries, as its run alone on
    the national file keeps them (``inputs.schools.cross_border_km`` of its areas, cut when
    its areas are read): those within that distance and a margin of its own schools' extent
    (all of them where the file has no coordinates)."""
    if spec.cross_border_km <= 0:
        return None
    named = {**GIAS_COLUMNS} if spec.format == "gias" else dict(spec.columns)
    special = np.zeros(len(schools), dtype=bool)
    for key in ("establishment_type", "establishment_group"):
        column = named.get(key)
        if column in schools.columns:
            special |= schools[column].fillna("").str.casefold().str.contains("special").to_numpy()
    x_column, y_column = named.get("easting"), named.get("northing")
    located = x_column in schools.columns and y_column in schools.columns
    xy = (
        np.column_stack(
            [pd.to_numeric(schools[c], errors="coerce").to_numpy(dtype=float)
             for c in (x_column, y_column)]
        )
        if located
        else np.zeros((len(schools), 2))
    )  # fmt: skip
    reach = (spec.cross_border_km + _AREA_MARGIN_KM) * 1000.0

    def rows(i: int, own: NDArray[np.intp]) -> NDArray[np.intp]:
        others = np.flatnonzero(special & (owner != i))
        if not located:
            return others
        mine = xy[own][np.isfinite(xy[own]).all(axis=1)]
        if not len(mine):
            return others
        low, high = mine.min(axis=0) - reach, mine.max(axis=0) + reach
        inside = ((xy[others] >= low) & (xy[others] <= high)).all(axis=1)
        return others[inside]

    return rows


_AREA_MARGIN_KM = 25.0
"""How far an authority's area points may lie beyond its schools' extent (km)."""


def _vector_slices(
    frame: pd.DataFrame, labels: NDArray[np.intp], path: Path, n: int
) -> dict[int, Slice]:
    """Each authority's polygons, as a GeoPackage layer ``boundaries``."""
    import pyogrio

    out = {}
    with tempfile.TemporaryDirectory(prefix="sitefinder-split-") as folder:
        for i in range(n):
            target = Path(folder) / f"{i}.gpkg"
            pyogrio.write_dataframe(frame[labels == i], target, layer="boundaries")
            out[i] = Slice(f"{path.stem}.gpkg", target.read_bytes(), np.zeros(0, np.int64))
    return out


def _unassigned(path: Path, what: str, count: int, total: int) -> str:
    return (
        f"{path}: {count:,} of {total:,} {what} belong to no authority of the schools file and"
        " are left out"
    )


def _check_scenario(scenario: Scenario, problems: Problems) -> None:
    files = scenario.inputs
    if files.schools.format == "sitefinder" or (
        files.schools.format == "mapped"
        and not {"authority", "la_code", "la_name", "la_gss"} & set(files.schools.columns)
    ):
        problems.add(
            files.schools.path,
            "a national scenario needs each school's authority: give a GIAS extract (format ="
            ' "gias") or map an authority column (la_code, la_name, la_gss or authority) in'
            " [inputs.schools.columns]",
        )


def cuts_itself(scenario: Scenario) -> bool:
    """Whether a national scenario's files are the national public files a one-authority run
    cuts itself (the England folder's: population by age band in a GeoPackage, the DfE
    school-level census files, a district lookup), so each authority's task reads them cut to
    it, with its neighbours' special schools, instead of slices written here."""
    files = scenario.inputs
    population = files.demand.population
    return (
        files.districts is not None
        or files.schools.census is not None
        or files.schools.census_sen is not None
        or (population is not None and population.suffix.lower() not in (".csv", ".txt"))
    )


def _authority_columns(spec: SchoolsInput, schools: pd.DataFrame) -> list[str]:
    """The schools file's columns that say which authority each school is in."""
    columns = (
        [GIAS_COLUMNS[k] for k in ("la_code", "la_name", "la_gss")]
        if spec.format == "gias"
        else [spec.columns[k] for k in ("authority", "la_code", "la_name", "la_gss")
              if k in spec.columns]
    )  # fmt: skip
    columns = [c for c in columns if c in schools.columns]
    if not columns:
        raise DataError(f"{spec.path}: no column says which authority each school is in")
    return columns


def _authorities_only(scenario: Scenario, problems: Problems) -> NationalInputs:
    """One :class:`AuthorityInputs` per authority with establishments in the schools file,
    without slices: each task names its authority and reads the national files cut to it."""
    spec = scenario.inputs.schools
    with processing(spec.path):
        schools = read_any(spec.path, problems, layer=spec.layer, hint="inputs.schools")
    problems.raise_if_any()
    assert schools is not None
    columns = _authority_columns(spec, schools)
    known = list(all_authorities())
    label = _first_match(*(_Labeller(known).codes(schools[c]) for c in columns))
    counts = np.bincount(label[label >= 0], minlength=len(known))
    present = np.flatnonzero(counts)
    if not len(present):
        raise DataError(f"{spec.path}: no establishment names an authority in England")
    urn_column = GIAS_COLUMNS["urn"] if spec.format == "gias" else spec.columns["urn"]
    owner = pd.Series(label, index=schools[urn_column].astype(str).str.strip())
    owner = owner[~owner.index.duplicated()]
    required = _owned(scenario.selection.required_urns, owner, len(known))
    for urn in required.get(-1, []):
        problems.add(
            "selection.required_urns", f"{urn} is not a school of any authority in {spec.path}"
        )
    excluded = _owned(scenario.candidates.exclude_urns, owner, len(known))
    problems.raise_if_any()
    files = _named_files(scenario)
    notes = [
        f"national scenario: {len(present)} authorities with establishments in {spec.path},"
        " each ranked on the national files cut to it (its own schools and areas; other"
        " authorities' special schools within inputs.schools.cross_border_km of its areas are"
        " places its children without a base place may take)"
    ]
    if (label < 0).any():
        notes.append(_unassigned(spec.path, "establishments", int((label < 0).sum()), len(schools)))
    result = [
        AuthorityInputs(
            authority=known[i],
            slices={},
            national=files,
            required_urns=tuple(required.get(int(i), [])),
            exclude_urns=tuple(excluded.get(int(i), [])),
            schools=int(counts[i]),
            areas=int(counts[i]),  # for ordering the tasks only: areas are read by each task
        )
        for i in present
    ]
    result.sort(key=lambda one: one.authority.gss_code)
    return NationalInputs(result, {k: file_sha256(p) for k, p in files.items()}, notes)


def _named_files(scenario: Scenario) -> dict[str, Path]:
    """The national files a scenario names, by input name."""
    files = scenario.inputs
    named: dict[str, Path | None] = {
        "schools": files.schools.path,
        "census": files.schools.census,
        "census_sen": files.schools.census_sen,
        "districts": files.districts,
        "boundaries": files.boundaries.path if files.boundaries is not None else None,
        "population": files.demand.population,
        "sen2_needs": files.demand.sen2_needs,
        "sen2_caseload": files.demand.sen2_caseload,
        "postcodes": files.postcodes,
        "bases": files.bases.path if files.bases is not None else None,
    }
    return {key: path for key, path in named.items() if path is not None}


def split_national(scenario: Scenario) -> NationalInputs:
    """Cut every input file of a national scenario into one slice per authority.

    Parameters
    ----------
    scenario
        A national scenario (``authority = "England"``).

    Returns
    -------
    NationalInputs
        One :class:`AuthorityInputs` per authority with establishments in the schools file.

    Raises
    ------
    DataError
        Listing every problem found in every file (a file missing or unreadable, no authority
        column, a county whose districts are unknown, rows naming schools or areas that are
        in no file).
    """
    problems = Problems()
    notes: list[str] = []
    _check_scenario(scenario, problems)
    problems.raise_if_any()
    if cuts_itself(scenario):
        return _authorities_only(scenario, problems)
    files = scenario.inputs
    known = list(all_authorities())
    spec = files.schools
    with processing(spec.path):
        schools = read_any(spec.path, problems, layer=spec.layer, hint="inputs.schools")
    problems.raise_if_any()
    assert schools is not None
    if spec.path.suffix.lower() not in (".csv", ".txt"):
        raise DataError(
            f"{spec.path}: a national scenario reads the schools from a CSV file (a GIAS"
            " extract, or a mapped CSV with an authority column)"
        )
    columns = _authority_columns(spec, schools)
    labeller = _Labeller(known)
    school_label = _first_match(*(labeller.codes(schools[c]) for c in columns))
    present = sorted(set(school_label.tolist()) - {-1})
    if not present:
        raise DataError(f"{spec.path}: no establishment names an authority in England")
    if (school_label < 0).any():
        notes.append(_unassigned(spec.path, "establishments", int((school_label < 0).sum()),
                                 len(schools)))  # fmt: skip
    # A county council's districts: the district codes its schools are in (and the postcode
    # directory's, below), as a one-authority run learns them.
    district_column = GIAS_COLUMNS["district"] if spec.format == "gias" else None
    authorities = [known[i] for i in present]
    if district_column is not None and district_column in schools.columns:
        authorities = [
            a.with_districts(set(schools.loc[school_label == i, district_column].str.strip()))
            if a.is_county
            else a
            for i, a in zip(present, authorities, strict=True)
        ]
    position = np.full(len(known), -1, dtype=np.intp)
    position[present] = np.arange(len(present))
    school_of = np.where(school_label >= 0, position[np.maximum(school_label, 0)], -1)
    n = len(authorities)
    slices: dict[int, dict[str, Slice]] = {i: {} for i in range(n)}
    national: dict[str, Path] = {"schools": spec.path}
    near = _special_neighbours(schools, spec, school_of)
    for i, piece in _csv_slices(schools, school_of, spec.path, n, neighbours=near).items():
        slices[i]["schools"] = piece
    urn_column = GIAS_COLUMNS["urn"] if spec.format == "gias" else spec.columns["urn"]
    urn_owner = pd.Series(school_of, index=schools[urn_column].str.strip())
    urn_owner = urn_owner[~urn_owner.index.duplicated()]
    postcode_table = None
    if files.postcodes is not None:
        postcode_table = read_csv(files.postcodes, problems, hint="inputs.postcodes")
        if postcode_table is not None:
            county = find_column(postcode_table.columns, COUNTY_COLUMN)
            lad = find_column(postcode_table.columns, LAD_COLUMN)
            if county is not None and lad is not None:
                by_county = _Labeller(authorities).codes(postcode_table[county])
                authorities = [
                    a.with_districts(set(postcode_table.loc[by_county == i, lad].str.strip()))
                    if a.is_county
                    else a
                    for i, a in enumerate(authorities)
                ]
    local = _Labeller(authorities)
    for a in authorities:
        if a.is_county and not a.districts:
            problems.add(
                spec.path,
                f"{a.label} is a county council, but its districts are not known, so its small"
                " areas cannot be found: give a GIAS extract with DistrictAdministrative (code),"
                " or a postcode directory with its county column (cty)",
            )
    if postcode_table is not None:
        assert files.postcodes is not None
        county = find_column(postcode_table.columns, COUNTY_COLUMN)
        lad = find_column(postcode_table.columns, LAD_COLUMN)
        by_lad = local.codes(postcode_table[lad]) if lad else np.full(len(postcode_table), -1)
        by_county = (
            local.codes(postcode_table[county]) if county else np.full(len(postcode_table), -1)
        )
        is_county = np.array([a.is_county for a in authorities] + [False])
        label = np.where(is_county[by_county], by_county, -1)
        label = np.where((label < 0) & ~is_county[by_lad], by_lad, label)
        national["postcodes"] = files.postcodes
        for i, piece in _csv_slices(postcode_table, label, files.postcodes, n).items():
            slices[i]["postcodes"] = piece
    # Small areas: their authority from each file that can tell, the population's first.
    area_owner: dict[str, int] = {}
    population = None
    if files.demand.population is not None:
        path = files.demand.population
        population = read_csv(path, problems, hint="inputs.demand")
        if population is not None:
            label, how = local.small_areas(population)
            if not how:
                problems.add(
                    path,
                    "a national scenario needs each area's authority: a local authority"
                    " district code column (LAD 2021 Code, LAD21CD) or LSOA names",
                )
            lower = {c.lower(): c for c in population.columns}
            code = next((lower[c] for c in _POPULATION_CODES if c in lower), None)
            if code is not None:
                area_owner.update(zip(population[code].str.strip(), label.tolist(), strict=True))
            national["population"] = path
            for i, piece in _csv_slices(population, label, path, n).items():
                slices[i]["population"] = piece
            if (label < 0).any():
                notes.append(_unassigned(path, "rows", int((label < 0).sum()), len(label)))
    if files.boundaries is not None:
        bspec = files.boundaries
        frame = read_vector(bspec.path, problems, layer=bspec.layer, hint="inputs.boundaries")
        if frame is not None:
            label, how = local.small_areas(frame)
            codes = (
                frame[bspec.code_column].astype(str).str.strip()
                if bspec.code_column in frame.columns
                else pd.Series("", index=frame.index)
            )
            from_population = codes.map(area_owner).fillna(-1).to_numpy(dtype=np.intp)
            label = _first_match(label, from_population)
            area_owner.update({c: int(v) for c, v in zip(codes, label, strict=True) if v >= 0})
            national["boundaries"] = bspec.path
            for i, piece in _vector_slices(frame, label, bspec.path, n).items():
                slices[i]["boundaries"] = piece
            if (label < 0).any():
                notes.append(_unassigned(bspec.path, "areas", int((label < 0).sum()), len(label)))
    area_counts = np.zeros(n, dtype=np.int64)
    if files.areas is not None:
        areas = read_csv(files.areas, problems, hint="inputs.areas")
        if areas is not None and "area_code" in areas.columns:
            own, _ = local.small_areas(areas)
            codes = areas["area_code"].str.strip()
            label = _first_match(own, codes.map(area_owner).fillna(-1).to_numpy(dtype=np.intp))
            area_owner.update({c: int(v) for c, v in zip(codes, label, strict=True) if v >= 0})
            national["areas"] = files.areas
            for i, piece in _csv_slices(areas, label, files.areas, n).items():
                slices[i]["areas"] = piece
            area_counts = np.bincount(label[label >= 0], minlength=n)
            if (label < 0).any():
                notes.append(
                    _unassigned(files.areas, "areas", int((label < 0).sum()), len(label))
                    + " (give each area's LAD code in a LAD21CD column, LSOA names, or"
                    " population rows with a LAD code)"
                )
    elif area_owner:
        owners = np.array(list(area_owner.values()))
        area_counts = np.bincount(owners[owners >= 0], minlength=n)
    owner_of_area = pd.Series(area_owner, dtype="int64")

    def by_area(values: pd.Series) -> NDArray[np.intp]:
        return values.str.strip().map(owner_of_area).fillna(-1).to_numpy(dtype=np.intp)

    if files.demand.method == "counts" and files.demand.path is not None:
        path = files.demand.path
        table = read_csv(path, problems, hint="inputs.demand")
        if table is not None and "area_code" in table.columns:
            label = by_area(table["area_code"])
            national["demand"] = path
            for i, piece in _csv_slices(table, label, path, n).items():
                slices[i]["demand"] = piece
            _refuse_unknown(problems, path, table["area_code"], label)
    for key in ("sen2_needs", "sen2_caseload"):
        path = getattr(files.demand, key)
        if path is None:
            continue
        table = read_csv(path, problems, hint="inputs.demand")
        if table is None:
            continue
        if "geographic_level" not in table.columns:
            continue  # the one-authority reader names the missing columns
        level = table["geographic_level"].str.strip()
        keys = [c for c in _SEN2_KEYS if c in table.columns]
        label = _first_match(
            np.full(len(table), -1, dtype=np.intp), *(local.codes(table[c]) for c in keys)
        )
        label = np.where(level == "Local authority", label, -1)
        national_rows = (level == "National").to_numpy()
        national[key] = path
        # England's rows go to every authority: the national share of plans in bases.
        encoding = _encoding(path)
        for i in range(n):
            rows = np.flatnonzero(national_rows | (label == i))
            buffer = io.StringIO()
            table.iloc[rows].to_csv(buffer, index=False, lineterminator="\n")
            slices[i][key] = Slice(
                path.name, buffer.getvalue().encode(encoding), rows.astype(np.int64) + 2
            )
    if files.bases is not None:
        path = files.bases.path
        table = read_csv(path, problems, hint="inputs.bases")
        column = files.bases.columns.get("urn", "urn")
        if table is not None and column in table.columns:
            label = table[column].str.strip().map(urn_owner).fillna(-1).to_numpy(dtype=np.intp)
            national["bases"] = path
            for i, piece in _csv_slices(table, label, path, n).items():
                slices[i]["bases"] = piece
            _refuse_unknown(problems, path, table[column], label, what="school")
    journey = scenario.journey
    if journey.method == "matrix" and journey.matrix is not None:
        path = journey.matrix
        table = read_csv(path, problems, hint="journey")
        if table is not None and {"origin_id", "destination_id"} <= set(table.columns):
            origin = by_area(table["origin_id"])
            destination = (
                table["destination_id"].str.strip().map(urn_owner).fillna(-1).to_numpy(np.intp)
            )
            _refuse_unknown(problems, path, table["origin_id"], origin)
            _refuse_unknown(problems, path, table["destination_id"], destination, what="school")
            # Journeys across an authority border are left out: each authority is alone.
            label = np.where(origin == destination, origin, -1)
            national["matrix"] = path
            for i, piece in _csv_slices(table, label, path, n).items():
                slices[i]["matrix"] = piece
            crossing = int(((origin >= 0) & (destination >= 0) & (origin != destination)).sum())
            if crossing:
                notes.append(
                    f"{path}: {crossing:,} journeys cross an authority border and are left out"
                    " (each authority is ranked on its own schools and areas)"
                )
    required = _owned(scenario.selection.required_urns, urn_owner, n)
    for urn in required.get(-1, []):
        problems.add(
            "selection.required_urns",
            f"{urn} is not a school of any authority in {spec.path}",
        )
    excluded = _owned(scenario.candidates.exclude_urns, urn_owner, n)
    problems.raise_if_any()
    school_counts = np.bincount(school_of[school_of >= 0], minlength=n)
    result = [
        AuthorityInputs(
            authority=authorities[i],
            slices=slices[i],
            national=national,
            required_urns=tuple(required.get(i, [])),
            exclude_urns=tuple(excluded.get(i, [])),
            schools=int(school_counts[i]),
            areas=int(area_counts[i]),
        )
        for i in range(n)
    ]
    checksums = {key: file_sha256(path) for key, path in national.items()}
    notes.insert(
        0,
        f"national scenario: {n} authorities with establishments in {spec.path}, each ranked"
        " on its own schools and areas (children crossing authority borders to a base are not"
        " modelled; other authorities' special schools within reach are places children"
        " without a base place may take)",
    )
    return NationalInputs(result, checksums, notes)


def _owned(urns: Sequence[str | int], owner: pd.Series, n: int) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for urn in urns:
        found = owner.get(str(urn).strip(), -1)
        out.setdefault(int(found), []).append(str(urn))
    return out


def _refuse_unknown(
    problems: Problems,
    path: Path,
    values: pd.Series,
    label: NDArray[np.intp],
    *,
    what: str = "area",
) -> None:
    """A problem for rows naming an area (or school) no authority has: ``values`` is the
    file's column (named by its name), ``label`` each row's authority (-1 for none)."""
    bad = np.flatnonzero(label < 0)
    if len(bad) == 0:
        return
    shown = ", ".join(str(n + 2) for n in bad[:5]) + (
        f" and {len(bad) - 5:,} more" if len(bad) > 5 else ""
    )
    examples = ", ".join(sorted(set(values.iloc[bad[:_SHOWN]].astype(str))))
    problems.add(
        path,
        f"line{'s' if len(bad) > 1 else ''} {shown}: {values.name} names no {what} of any authority"
        f" (e.g. {examples}); check the codes against the {what}s' file",
    )
