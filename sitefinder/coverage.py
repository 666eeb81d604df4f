"""Which authority a recognised input file covers, read from its own codes, names or points.

Each check reads only the columns it needs. A file names its authorities where its layout
allows (GIAS ``LA (code)``, a school table's LA columns, SEN2 ``la_name``, an ONS LAD code
column or LSOA names such as ``Rutland 005A``, ONSPD ``laua``); otherwise its points are
compared with the authority's extent (known from its postcodes or boundaries), a bases
register's URNs with the authority's schools, and an OpenStreetMap extract's bounding box with
the extent. :class:`Coverage` says what was found and how.

A file is only usable for an authority when it is read as it was checked: a file holding other
authorities' rows must be one the reader cuts to the authority (by the same column), never one
read whole. So a file that names only other authorities holds none of this one (Trafford's
LSOA names for Kent), and one that holds other authorities' rows but cannot be cut to this one
(a county council whose districts are not known, or areas matched only through another file) is
refused with the reason (:attr:`Coverage.refused`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer

from sitefinder.authorities import (
    AREA_NAME_COLUMN,
    COUNTY_COLUMN,
    LAD_COLUMN,
    Authority,
    all_authorities,
    area_name_prefix,
    find_column,
)
from sitefinder.discover import (
    AUTHORITY_FIELDS,
    GRID_COLUMNS,
    LONLAT_COLUMNS,
    POPULATION_CODES,
    POSTCODE_AREAS,
    VECTOR_SUFFIXES,
    Candidate,
    named_column,
    read_columns,
    read_fields,
)

Extent = tuple[float, float, float, float]
"""(min easting, min northing, max easting, max northing), EPSG:27700 metres."""

MARGIN_METRES = 2_000.0
"""Points this close outside an authority's extent still count as in it (border schools)."""
NETWORK_COVER = 0.9
"""Share of the authority's extent an OpenStreetMap extract must cover to be used."""

_OPEN = ("open", "open, but proposed to close")
_TO_GRID = Transformer.from_crs(4326, 27700, always_xy=True)


@dataclass(frozen=True)
class Coverage:
    """What one file holds of the authority.

    Attributes
    ----------
    rows
        Rows (or features, postcodes, URNs) that are the authority's; None when the file's
        layout cannot tell.
    total
        Rows in the file (None when not counted).
    how
        How the rows were matched ("LA (code)", "the area names in LSOA21NM", ...).
    others
        Other authorities the file names, for the reason a file is skipped.
    keys
        The authority's URNs (schools) or small-area codes (areas, population, postcodes).
    extent
        The authority's extent from this file's points (postcodes, or its schools' points),
        when it has them.
    detail
        More about the rows, e.g. "103 open".
    districts
        LAD codes of a county council's districts, from a postcode file's county column or a
        GIAS extract's ``DistrictAdministrative (code)``.
    """

    rows: int | None
    total: int | None = None
    how: str = ""
    others: tuple[str, ...] = ()
    keys: frozenset[str] = frozenset()
    extent: Extent | None = None
    detail: str = ""
    districts: frozenset[str] = frozenset()
    england: bool = False
    verdict: str = ""
    """Said instead of the row counts where rows are not what is counted (networks)."""
    refused: str = ""
    """Why the file cannot be used for the authority though it may hold its rows: it holds
    other authorities' rows and would be read whole, not cut to the authority."""

    @property
    def none(self) -> bool:
        """Whether the file holds none of the authority's rows (it can tell and there are 0)."""
        return self.rows == 0

    @property
    def usable(self) -> bool:
        """Whether the file may fill the input: it may hold the authority's rows, and is read
        cut to them (or holds nothing else that it can tell)."""
        return not self.none and not self.refused

    @property
    def beyond(self) -> int | None:
        """Rows that are not the authority's (0 for a file of the authority alone; None when
        the file cannot tell, or is not counted in rows)."""
        if self.rows is None or self.total is None:
            return None
        return max(self.total - self.rows, 0)

    def described(self, authority: Authority, unit: str = "rows") -> str:
        """'27 of 27 rows are Rutland's (by la_code)', or that it cannot tell."""
        if self.verdict:
            return self.verdict
        if self.rows is None:
            return f"cannot tell which authority it covers ({self.how})" if self.how else ""
        of = f" of {self.total:,}" if self.total is not None else ""
        by = f" (by {self.how})" if self.how else ""
        detail = f"; {self.detail}" if self.detail else ""
        return f"{self.rows:,}{of} {unit} are {authority.name}'s{by}{detail}"

    def skipped(self, authority: Authority) -> str:
        """Why a file without the authority's rows (or refused for it) is skipped."""
        if self.refused:
            return self.refused
        if self.verdict:
            return self.verdict
        others = _listed(self.others)
        whose = f"covers {others}, not {authority.name}" if others else (
            f"holds nothing of {authority.name}"
        )  # fmt: skip
        return f"{whose} (by {self.how})" if self.how else whose


def _listed(names: tuple[str, ...]) -> str:
    if not names:
        return ""
    if len(names) > 3:
        return f"{len(names)} other authorities ({', '.join(names[:2])}, ...)"
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _names_of(values: Iterable[str]) -> tuple[str, ...]:
    """Authority names for codes or names found in a file (unknown values as written)."""
    forms = {f: a.name for a in all_authorities() for f in a.forms}
    shown = []
    for value in values:
        text = str(value).strip()
        if text:
            shown.append(forms.get(text.casefold(), text))
    return tuple(dict.fromkeys(sorted(shown)))


@cache
def _own_forms() -> dict[str, str]:
    """Forms (case-folded codes and names) of the authorities ONS files carry under their own
    code and name, to the authority's name. A county council is not among them: its small
    areas and postcodes carry its districts' codes and names."""
    return {f: a.name for a in all_authorities() if not a.is_county for f in a.forms}


def _others_only(values: pd.Series, authority: Authority) -> tuple[pd.Series, tuple[str, ...]]:
    """Which ``values`` (LAD codes, or the places small-area names begin with) certainly name
    another authority, and those authorities' names. Used where the authority's own codes are
    not known (a county council before its districts are learned): a value naming no known
    authority may be one of its districts, so it is never counted as another's."""
    forms = _own_forms()
    folded = values.astype(str).str.strip().str.casefold()
    mine = authority.forms
    foreign = folded.isin(forms.keys() - mine)
    names = tuple(sorted({forms[v] for v in folded[foreign].unique()}))
    return foreign, names


def _unknown_districts(
    values: pd.Series, authority: Authority, *, how: str, unit: str, total: int
) -> Coverage | None:
    """For a county council whose districts are not known: None when ``values`` name no other
    authority (the file cannot tell); else the file holds none of its rows (every value names
    another authority) or is refused (it holds others' rows and cannot be cut to it)."""
    foreign, names = _others_only(values, authority)
    blank = values.astype(str).str.strip() == ""
    if not foreign.any():
        return None
    if (foreign | blank).all():
        return Coverage(0, total, how, names)
    return Coverage(
        None, total, how, names,
        refused=f"holds other authorities' {unit} ({_listed(names)}, by {how}) and cannot be"
        f" cut to {authority.name}: a county council's {unit} carry its districts' codes, and"
        f" {authority.name}'s districts are not known (give a postcode directory with a county"
        " column, cty, or a GIAS extract with DistrictAdministrative (code); or a file of"
        f" {authority.name} alone)",
    )  # fmt: skip


def _column_match(table: pd.DataFrame, columns: Sequence[str], authority: Authority) -> pd.Series:
    mask = pd.Series(False, index=table.index)
    for column in columns:
        mask |= authority.matches(table[column])
    return mask


def gias(candidate: Candidate, authority: Authority) -> Coverage:
    """A GIAS extract: by ``LA (code)``, ``LA (name)`` and ``GSSLACode (name)``."""
    keys = [c for c in ("LA (code)", "LA (name)", "GSSLACode (name)") if c in candidate.header]
    extra = ["URN", "EstablishmentStatus (name)", "TypeOfEstablishment (name)",
             "DistrictAdministrative (code)", "TypeOfResourcedProvision (name)", "Easting",
             "Northing"]  # fmt: skip
    table = read_columns(candidate, [*keys, *(c for c in extra if c in candidate.header)])
    if not keys:
        return Coverage(None, len(table), "no LA column")
    mask = _column_match(table, keys, authority)
    if authority.districts and "DistrictAdministrative (code)" in table.columns:
        mask |= authority.matches(table["DistrictAdministrative (code)"])
    open_rows = mask & table["EstablishmentStatus (name)"].str.strip().str.casefold().isin(_OPEN)
    others = _names_of(table.loc[~mask, keys[0]].unique())
    detail = f"{int(open_rows.sum()):,} open" if mask.any() else ""
    if mask.any() and "TypeOfResourcedProvision (name)" in table.columns:
        kinds = table.loc[open_rows, "TypeOfResourcedProvision (name)"].str.strip().str.casefold()
        flagged = int(kinds.isin(("resourced provision", "sen unit",
                                  "resourced provision and sen unit")).sum())  # fmt: skip
        detail += f", {flagged} with a resourced provision or SEN unit flag"
    if mask.any() and "TypeOfEstablishment (name)" in table.columns:
        blank = int((table.loc[open_rows, "TypeOfEstablishment (name)"].str.strip() == "").sum())
        if blank:
            detail += (
                f", {blank} with a blank TypeOfEstablishment (their type is inferred from the"
                " type group and LA establishment number; validate counts them)"
            )
    districts = (
        frozenset(table.loc[mask, "DistrictAdministrative (code)"].str.strip().str.upper()) - {""}
        if authority.is_county and "DistrictAdministrative (code)" in table.columns
        else frozenset()
    )
    extent = (
        _extent(*_grid(table[open_rows], {"easting": "Easting", "northing": "Northing"}))
        if {"Easting", "Northing"} <= set(table.columns)
        else None
    )
    return Coverage(
        int(mask.sum()), len(table), keys[0], others,
        keys=frozenset(table.loc[open_rows, "URN"].str.strip()), extent=extent, detail=detail,
        districts=districts,
    )  # fmt: skip


def schools(
    candidate: Candidate, authority: Authority, extent: Extent | None, *, shapes: Any = None
) -> Coverage:
    """A school table: by its mapped LA columns, else by its points within the authority's
    polygons (``shapes``, EPSG:27700; :data:`SHAPE_SLACK_METRES` outside still counts), or
    else within its extent."""
    columns = dict(candidate.settings.get("columns", {}))
    if candidate.kind == "sitefinder":
        columns = {"urn": "urn", "easting": "easting", "northing": "northing"}
    wanted = [columns[k] for k in ("urn", *AUTHORITY_FIELDS, "status") if k in columns]
    points = [columns[k] for k in ("easting", "northing", "lon", "lat") if k in columns]
    table = read_columns(candidate, [*wanted, *points])
    urns = table[columns["urn"]].str.strip()
    live = pd.Series(True, index=table.index)
    if "status" in columns:
        live = table[columns["status"]].str.strip().str.casefold().isin(_OPEN)
    keys = [columns[k] for k in AUTHORITY_FIELDS if k in columns]
    if keys:
        mask = _column_match(table, keys, authority)
        others = _names_of(table.loc[~mask, keys[0]].unique())
        extent = _extent(*_grid(table[mask & live], columns)) if points else None
        return Coverage(
            int(mask.sum()), len(table), keys[0], others, keys=frozenset(urns[mask & live]),
            extent=extent,
        )  # fmt: skip
    if extent is None or not points:
        return Coverage(
            None, len(table), "no LA column, and no extent of the authority to check its points",
            keys=frozenset(urns[live]),
        )  # fmt: skip
    x, y = _grid(table, columns)
    if shapes is not None:
        inside, near = _in_shapes(x, y, shapes), f"in {authority.name}'s areas"
    else:
        inside, near = _within(x, y, extent), f"within {MARGIN_METRES / 1000:g} km of"
        near += f" {authority.name}'s extent"
    verdict = f"none of its {len(table):,} schools lies {near}" if not inside.any() else ""
    # Without an authority column the schools reader takes every row as the authority's: a
    # table mostly of schools elsewhere (a neighbour's, with a few near the border) is refused.
    refused = (
        f"only {int(inside.sum()):,} of its {len(table):,} schools lie {near}, and it has no"
        " authority"
        f" column, so every school would be read as {authority.name}'s (map an LA column onto"
        f" 'authority', or give a file of {authority.name}'s schools alone)"
        if inside.any() and 2 * int(inside.sum()) < len(table)
        else ""
    )
    return Coverage(
        int(inside.sum()), len(table), f"its points {near}",
        keys=frozenset(urns[inside & live]), verdict=verdict, refused=refused,
    )  # fmt: skip


SHAPE_SLACK_METRES = 500.0
"""Points this close outside an authority's polygons still count as in them: generalised
boundaries are drawn a few hundred metres off the true line."""


def _in_shapes(x: np.ndarray, y: np.ndarray, shapes: Any) -> pd.Series:
    import shapely

    points = shapely.points(np.nan_to_num(x, nan=-1e9), np.nan_to_num(y, nan=-1e9))
    tree = shapely.STRtree(np.asarray(shapes))
    hit = tree.query(points, predicate="dwithin", distance=SHAPE_SLACK_METRES)[0]
    inside = np.zeros(len(points), dtype=bool)
    inside[np.unique(hit)] = True
    return pd.Series(inside)


def _grid(table: pd.DataFrame, columns: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    if "easting" in columns:
        x = pd.to_numeric(table[columns["easting"]], errors="coerce").to_numpy(float)
        y = pd.to_numeric(table[columns["northing"]], errors="coerce").to_numpy(float)
        return x, y
    lon = pd.to_numeric(table[columns["lon"]], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(table[columns["lat"]], errors="coerce").to_numpy(float)
    x, y = _TO_GRID.transform(lon, lat)
    return np.asarray(x, float), np.asarray(y, float)


def _extent(x: np.ndarray, y: np.ndarray) -> Extent | None:
    """The extent of the located points (a zero or blank coordinate is no location)."""
    placed = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if not placed.any():
        return None
    return (float(x[placed].min()), float(y[placed].min()), float(x[placed].max()),
            float(y[placed].max()))  # fmt: skip


def _within(x: np.ndarray, y: np.ndarray, extent: Extent) -> pd.Series:
    x0, y0, x1, y1 = extent
    m = MARGIN_METRES
    return pd.Series((x >= x0 - m) & (x <= x1 + m) & (y >= y0 - m) & (y <= y1 + m))


def small_areas(
    table: pd.DataFrame,
    authority: Authority,
    *,
    code: str | None,
    known: frozenset[str] = frozenset(),
    known_from: str = "its postcodes",
    cut_by_known: bool = True,
    unit: str = "areas",
) -> Coverage:
    """A table of small areas (population, boundaries): by a LAD code column, else the area
    names ('Rutland 005A'), else the area codes ``known`` from another file (``known_from``).

    ``cut_by_known`` says whether the file's reader can cut it by those areas too; when it
    cannot, a file holding areas beyond them is refused (it would be read whole). A county
    council whose districts are not known is told apart only from files naming other
    authorities (see :func:`_unknown_districts`).
    """
    lad = find_column(table.columns, LAD_COLUMN)
    names = find_column(table.columns, AREA_NAME_COLUMN)
    codes = table[code].astype(str).str.strip() if code else None
    if lad is not None and authority.lad_codes:
        mask = authority.matches(table[lad])
        how, others = lad, _names_of(table.loc[~mask, lad].unique())
    elif names is not None and not authority.is_county:
        mask = authority.owns_area_names(table[names])
        prefixes = table.loc[~mask, names].astype(str).str.extract(r"^(.+?)\s+\d{3}[A-Z]$")[0]
        how, others = f"the area names in {names}", _names_of(prefixes.dropna().unique())
    else:
        if lad is not None or names is not None:  # a county council, its districts not known
            values = table[lad] if lad is not None else area_name_prefix(table[names]).fillna("")
            how = lad if lad is not None else f"the area names in {names}"
            told = _unknown_districts(values, authority, how=how, unit=unit, total=len(table))
            if told is not None:
                return told
        if not known or codes is None:
            return Coverage(
                None, len(table), "no LA code column and no area names",
                keys=frozenset(codes) if codes is not None else frozenset(),
            )  # fmt: skip
        mask, how, others = codes.isin(known), f"the areas of {known_from}", ()
        if mask.any() and not mask.all() and not cut_by_known:
            return Coverage(
                None, len(table), how,
                refused=f"holds {int((~mask).sum()):,} {unit} beyond {authority.name}'s (by"
                f" {how}) but is read whole: it has no LAD code column or LSOA names to cut it"
                f" by; give a file of {authority.name} alone, or one with a LAD code column",
            )  # fmt: skip
    found = frozenset(codes[mask]) if codes is not None else frozenset()
    return Coverage(int(mask.sum()), len(table), how, others, keys=found)


def population(candidate: Candidate, authority: Authority, known: frozenset[str]) -> Coverage:
    """ONS population: by a LAD column or the area names (as the population reader cuts it);
    a map layer's (England's LSOA GeoPackage) from its fields alone."""
    if candidate.path.suffix.lower() in VECTOR_SUFFIXES:
        return _layer_population(candidate, authority, known)
    table = read_columns(candidate)
    code = named_column(candidate.header, POPULATION_CODES)
    sex = named_column(candidate.header, ("sex",))
    if sex is not None:  # count areas, not sex rows
        folded = table[sex].str.strip().str.casefold()
        persons = folded.isin(("persons", "all", "all persons"))
        table = table[persons] if persons.any() else table.drop_duplicates(code)
    # The population reader cuts by a LAD code column or the area names, never by other areas.
    return small_areas(
        table.reset_index(drop=True), authority, code=code, known=known, cut_by_known=False
    )


def _layer_population(
    candidate: Candidate, authority: Authority, known: frozenset[str]
) -> Coverage:
    header = list(candidate.header)
    code = named_column(header, POPULATION_CODES) or candidate.header[0]
    wanted = [code, *(c for c in (find_column(header, LAD_COLUMN),
                                  find_column(header, AREA_NAME_COLUMN)) if c)]  # fmt: skip
    table = read_fields(candidate, wanted)
    return small_areas(table, authority, code=code, known=known, cut_by_known=False)


def census(candidate: Candidate, authority: Authority, urns: frozenset[str]) -> Coverage:
    """A school census file: its URNs among the authority's schools (it is read by URN)."""
    column = next(h for h in candidate.header if h.strip().lower() == "urn")
    table = read_columns(candidate, [column])
    if not urns:
        return Coverage(None, len(table), "no schools of the authority to match its URNs")
    found = table[column].str.strip()
    matched = int(found.isin(urns).sum())
    return Coverage(
        matched, len(table), "URN",
        verdict=f"{matched:,} of {authority.name}'s {len(urns):,} open establishments are in it"
        " (by URN)",
    )  # fmt: skip


def districts(candidate: Candidate, authority: Authority) -> Coverage:
    """A district lookup: the districts it gives the authority (by its authority columns)."""
    lad = candidate.settings["lad_column"]
    named = list(candidate.settings["authority_columns"])
    table = read_columns(candidate, [lad, *named])
    mask = _column_match(table, named, authority)
    codes = frozenset(table.loc[mask, lad].str.strip().str.upper())
    others = _names_of(table.loc[~mask, named[0]].unique())
    return Coverage(
        int(mask.sum()), len(table), ", ".join(named), others, keys=codes, districts=codes,
        detail=f"districts {', '.join(sorted(codes))}" if codes else "",
    )  # fmt: skip


def boundaries(
    candidate: Candidate,
    authority: Authority,
    postcode_areas: frozenset[str],
    population_areas: frozenset[str] = frozenset(),
) -> Coverage:
    """LSOA polygons: by a LAD field, the LSOA names, or the authority's known areas.

    Only the fields that tell are read (not the polygons), as the boundaries reader cuts the
    file: by the LAD field, the names, or the areas of the postcode directory. Areas known only
    from the population file tell the authority's polygons but cannot cut them when read.
    """
    header = list(candidate.header)
    code = candidate.settings["code_column"]
    wanted = [code, *(c for c in (find_column(header, LAD_COLUMN),
                                  find_column(header, AREA_NAME_COLUMN)) if c)]  # fmt: skip
    table = read_fields(candidate, wanted)
    if postcode_areas or not population_areas:
        return small_areas(table, authority, code=code, known=postcode_areas, unit="polygons")
    return small_areas(
        table, authority, code=code, known=population_areas, known_from="the population file",
        cut_by_known=False, unit="polygons",
    )  # fmt: skip


def postcodes(candidate: Candidate, authority: Authority) -> Coverage:
    """A postcode directory: by ``laua`` (or ``cty`` for a county council); its extent."""
    header = candidate.header
    lad = find_column(list(header), LAD_COLUMN)
    county = find_column(list(header), COUNTY_COLUMN)
    grid = next((p for p in GRID_COLUMNS if all(named_column(header, [c]) for c in p)), None)
    pair = grid or next(p for p in LONLAT_COLUMNS if all(named_column(header, [c]) for c in p))
    xy = [named_column(header, [c]) or c for c in pair]
    area = named_column(header, POSTCODE_AREAS)
    table = read_columns(candidate, [c for c in (lad, county, area, *xy) if c])
    if authority.is_county and county is not None:
        how: str | None = county
    elif lad is not None and authority.lad_codes:
        how = lad
    else:
        how = None
    if how is None:
        if lad is not None:  # a county council without a county column: others' postcodes?
            told = _unknown_districts(
                table[lad], authority, how=lad, unit="postcodes", total=len(table)
            )
            if told is not None:
                return told
        return Coverage(None, len(table), "no LA column (laua) that sitefinder can match")
    mask = authority.matches(table[how])
    others = _names_of(table.loc[~mask, how].unique())
    kept = table[mask]
    columns = {"easting": xy[0], "northing": xy[1]} if grid else {"lon": xy[0], "lat": xy[1]}
    extent = _extent(*_grid(kept, columns))
    districts = (
        frozenset(kept[lad].str.strip().str.upper()) - {""}
        if authority.is_county and lad is not None
        else frozenset()
    )
    areas = frozenset(kept[area].str.strip()) - {""} if area else frozenset()
    return Coverage(
        int(mask.sum()), len(table), how, others, keys=areas, extent=extent,
        districts=districts,
    )  # fmt: skip


def sen2(candidate: Candidate, authority: Authority) -> Coverage:
    """A SEN2 file: the authority's rows (and whether England's are there too)."""
    columns = [c for c in ("geographic_level", "new_la_code", "old_la_code", "la_name")
               if c in candidate.header]  # fmt: skip
    table = read_columns(candidate, columns)
    level = table["geographic_level"].str.strip()
    local = level == "Local authority"
    keys = [c for c in ("new_la_code", "old_la_code", "la_name") if c in table.columns]
    mask = local & _column_match(table, keys, authority)
    names = sorted(set(table.loc[local, "la_name"].str.strip()) - {""}) if keys else []
    england = bool((level == "National").any())
    detail = f"the file holds {len(names)} {'authority' if len(names) == 1 else 'authorities'}" + (
        " and England" if england else " and no England rows"
    )
    others = _names_of(n for n in names if n.casefold() not in authority.names)
    return Coverage(
        int(mask.sum()), len(table), "la_name and LA codes", others, detail=detail,
        england=england,
    )  # fmt: skip


def bases(candidate: Candidate, authority: Authority, urns: frozenset[str]) -> Coverage:
    """A bases register: its URNs among the authority's schools."""
    columns = candidate.settings.get("columns", {})
    urn = columns.get("urn", "urn")
    table = read_columns(candidate, [urn])
    found = table[urn].str.strip()
    if not urns:
        return Coverage(None, len(table), "no schools of the authority to match its URNs")
    matched = int(found.isin(urns).sum())
    return Coverage(
        matched, len(table), "URN",
        verdict=f"{matched} of its {len(table)} rows name a school of {authority.name}'s"
        " schools file (by URN)",
    )  # fmt: skip


def network(candidate: Candidate, authority: Authority, extent: Extent | None) -> Coverage:
    """An OpenStreetMap extract: how much of the authority's extent its bounding box covers."""
    box = candidate.settings.get("bbox")
    if box is None:
        return Coverage(None, None, "its header has no bounding box")
    if extent is None:
        return Coverage(None, None, "no extent of the authority to compare with")
    corners = _TO_GRID.transform([box[0], box[2], box[0], box[2]], [box[1], box[1], box[3], box[3]])
    bx0, bx1 = min(corners[0]), max(corners[0])
    by0, by1 = min(corners[1]), max(corners[1])
    x0, y0, x1, y1 = extent
    width = max(0.0, min(x1, bx1) - max(x0, bx0))
    height = max(0.0, min(y1, by1) - max(y0, by0))
    area = max((x1 - x0) * (y1 - y0), 1.0)
    share = width * height / area
    covered = share >= NETWORK_COVER
    return Coverage(
        1 if covered else 0, None, "bounding box",
        verdict=f"its bounding box covers {share:.0%} of {authority.name}'s extent"
        + ("" if covered else f" (at least {NETWORK_COVER:.0%} needed)"),
    )  # fmt: skip


def areas_table(candidate: Candidate, authority: Authority, extent: Extent | None) -> Coverage:
    """sitefinder's areas CSV: its points within the authority's extent."""
    table = read_columns(candidate, ["area_code", "easting", "northing"])
    codes = table["area_code"].str.strip()
    if extent is None:
        return Coverage(None, len(table), "no extent of the authority", keys=frozenset(codes))
    x, y = _grid(table, {"easting": "easting", "northing": "northing"})
    inside = _within(x, y, extent)
    how = f"its points within {authority.name}'s extent"
    return Coverage(int(inside.sum()), len(table), how, keys=frozenset(codes[inside]))


def demand_table(candidate: Candidate, areas: frozenset[str]) -> Coverage:
    """sitefinder's demand CSV: its areas among the authority's."""
    table = read_columns(candidate, ["area_code"])
    codes = table["area_code"].str.strip()
    if not areas:
        return Coverage(None, len(table), "no areas of the authority to match")
    return Coverage(int(codes.isin(areas).sum()), len(table), "its area codes")
