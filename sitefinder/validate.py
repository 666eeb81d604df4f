"""Collect every problem in the input tables, then raise one :class:`DataError` listing them.

Messages name the file, the column, the rows (as line numbers in the file, header = line 1)
and the fix, so a planner can correct everything in one pass.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.errors import DataError

if TYPE_CHECKING:  # pyproj is imported where it is used
    from pyproj import Transformer

# British National Grid (EPSG:27700) covers roughly these metres; longitude/latitude do not.
_EASTING = (0.0, 700_000.0)
_NORTHING = (0.0, 1_300_000.0)
_LONGITUDE = (-9.0, 2.5)
_LATITUDE = (49.0, 61.5)


@functools.cache
def _to_grid() -> Transformer:
    """WGS84 longitude/latitude to British National Grid (made on first use: 35 ms)."""
    from pyproj import Transformer

    return Transformer.from_crs(4326, 27700, always_xy=True)


SANE_MAXIMUM = 10_000_000.0
"""Numbers read from input files above this are refused unless a reader sets its own limit
(no count of children, places or people in one row comes near it; grid metres stay below)."""


@dataclass(frozen=True)
class NumberRule:
    """What a number column may hold.

    Attributes
    ----------
    minimum, maximum
        Inclusive bounds, in the column's own unit (children, places, metres, years); no
        maximum means :data:`SANE_MAXIMUM`.
    integer
        Whether only whole numbers are allowed.
    required
        Whether a blank is a problem; otherwise blanks come back as NaN.
    """

    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    required: bool = True


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


def _lines(mask: pd.Series) -> str:
    lines = [int(i) + 2 for i in np.flatnonzero(mask.to_numpy())]
    shown = ", ".join(str(n) for n in lines[:5])
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def in_great_britain(bounds: NDArray[np.float64] | tuple[float, float, float, float]) -> bool:
    """Whether ``(west, south, east, north)`` in EPSG:27700 metres lies within Great Britain."""
    west, south, east, north = (float(v) for v in bounds)
    return (
        _EASTING[0] <= west <= east <= _EASTING[1]
        and _NORTHING[0] <= south <= north <= _NORTHING[1]
    )


class _Distinct:
    """A column's cells as its distinct values and, for each cell, which one it holds.

    Checks run once per distinct text (a demand table of millions of rows holds a few hundred)
    and are spread back to the rows: of memory, a code per cell, never a string per cell.
    """

    def __init__(self, column: pd.Series) -> None:
        codes, uniques = pd.factorize(column)  # missing cells: code -1
        self._codes = codes
        self._index = column.index
        self.texts = pd.Series(np.asarray(uniques, dtype=object), dtype="string")

    def rows(self, flags: pd.Series, *, missing: bool = False) -> pd.Series:
        """Each cell's flag from its value's (``missing`` for cells without a value)."""
        per_value = np.append(np.asarray(flags, dtype=bool), missing)  # code -1: the last
        return pd.Series(per_value[self._codes], index=self._index)

    def values(self, numbers: pd.Series) -> pd.Series:
        """Each cell's number from its value's (NaN for cells without a value)."""
        per_value = np.append(numbers.to_numpy(dtype="float64", na_value=np.nan), np.nan)
        return pd.Series(per_value[self._codes], index=self._index)


class Problems:
    """Problems found in input files, reported together; and warnings that do not stop a run."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.warnings: list[str] = []

    def add(self, path: Path | str, message: str) -> None:
        """Record one problem in ``path``."""
        self.items.append(f"{path}: {message}")

    def warn(self, path: Path | str, message: str) -> None:
        """Record a warning about ``path``: something repaired or doubtful, not an error."""
        self.warnings.append(f"{path}: {message}")

    def require_columns(self, path: Path, table: pd.DataFrame, columns: Iterable[str]) -> bool:
        """Record missing columns; return True when all are present."""
        missing = [c for c in columns if c not in table.columns]
        if missing:
            self.add(
                path,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                f" (the file has: {', '.join(map(str, table.columns)) or 'no columns'})",
            )
        return not missing

    def bad_rows(self, path: Path, column: str, mask: pd.Series, what: str) -> bool:
        """Record rows where ``mask`` is true; ``what`` says what is wrong and how to fix it."""
        if mask.any():
            self.add(path, f"column {column}, {_lines(mask)}: {what}")
            return True
        return False

    def numbers(
        self,
        path: Path,
        table: pd.DataFrame,
        column: str,
        *,
        rule: NumberRule = NumberRule(),
        label: str | None = None,
    ) -> pd.Series:
        """Parse ``column`` as numbers, recording blanks, text, non-finite and out-of-range values.

        Every value must be finite (``inf``, ``nan`` and overflowing numbers such as ``1e400``
        are recorded) and within ``rule``'s bounds (at most :data:`SANE_MAXIMUM` when it sets
        no maximum), so that no absurd number reaches the solvers. Recorded values come back
        as NaN. ``label`` names the column in messages when it differs from ``column`` (a
        renamed one).
        """
        minimum, maximum = rule.minimum, rule.maximum
        # Each distinct text is parsed once: a long table holds few (memory and time).
        cells = _Distinct(table[column])
        raw = cells.texts.str.strip()
        column = label or column
        blank = raw.isna() | (raw == "")
        values = pd.to_numeric(raw.where(~blank), errors="coerce").astype("float64")
        blank = blank.fillna(True).astype(bool)
        # Only cells that did not parse to a finite number can spell one out ("nan", "-inf").
        doubtful = ~blank & ~np.isfinite(values)
        spelled = pd.Series(False, index=raw.index)
        if doubtful.any():
            text = raw[doubtful].str.casefold()
            spelled[doubtful] = text.str.fullmatch(r"[+-]?(inf|infinity|nan)").astype(bool)
        infinite = (values.notna() & ~np.isfinite(values)) | spelled
        if rule.required:
            self.bad_rows(path, column, cells.rows(blank, missing=True), "blank value (fill it in)")
        self.bad_rows(
            path,
            column,
            cells.rows(~blank & values.isna() & ~infinite),
            "not a number (write digits only)",
        )
        self.bad_rows(path, column, cells.rows(infinite), "not a finite number (write digits only)")
        values = values.where(~infinite)
        if rule.integer:
            fractional = values.notna() & (values != values.round())
            self.bad_rows(path, column, cells.rows(fractional), "must be a whole number")
        high = SANE_MAXIMUM if maximum is None else maximum
        both = minimum is not None and maximum is not None
        span = f"must be from {_number(minimum or 0)} to {_number(high)}" if both else ""
        if minimum is not None:
            below = cells.rows(values < minimum)
            self.bad_rows(path, column, below, span or f"must be >= {minimum:g}")
        above = values > high
        if maximum is None:
            self.bad_rows(
                path, column, cells.rows(above), f"must be <= {_number(high)} (surely a mistake)"
            )
        else:
            self.bad_rows(path, column, cells.rows(above), span or f"must be <= {_number(high)}")
        kept = values.where(~above & ~(values < (minimum if minimum is not None else -np.inf)))
        return cells.values(kept)

    def bad_values(
        self, path: Path, table: pd.DataFrame, column: str, mask: pd.Series, what: str
    ) -> None:
        """Record rows where ``mask`` is true, one problem per distinct value (at most five).

        ``what`` is formatted with ``value``, e.g. ``"{value!r} is not a year"``.
        """
        values = table.loc[mask, column]
        distinct = list(dict.fromkeys(values))
        for value in distinct[:5]:
            self.bad_rows(path, column, mask & (table[column] == value), what.format(value=value))
        if len(distinct) > 5:
            self.add(path, f"column {column}: {len(distinct) - 5} more bad values like these")

    def choices(self, path: Path, table: pd.DataFrame, column: str, allowed: Iterable[str]) -> None:
        """Record values of ``column`` outside ``allowed``."""
        allowed = list(allowed)
        cells = _Distinct(table[column])
        values = cells.texts.str.strip()
        self.bad_rows(
            path,
            column,
            cells.rows(~values.isin(allowed).fillna(False), missing=True),
            f"must be one of {', '.join(allowed)}",
        )

    def unique(self, path: Path, table: pd.DataFrame, column: str) -> None:
        """Record duplicated values of ``column``."""
        self.bad_rows(
            path,
            column,
            table[column].duplicated(keep="first"),
            "duplicate value (each must appear once)",
        )

    def british_grid(
        self, path: Path, x: pd.Series, y: pd.Series, columns: tuple[str, str]
    ) -> None:
        """Record coordinates that cannot be British National Grid metres.

        Longitude/latitude in the columns, rows whose two numbers are the wrong way round
        (a northing where the easting belongs) and rows outside Great Britain are named.
        """
        lonlat = x.abs().le(180) & y.abs().le(90)
        if lonlat.all() and len(x):
            self.add(
                path,
                f"columns {columns[0]}/{columns[1]} look like longitude/latitude; sitefinder"
                " needs British National Grid metres (EPSG:27700): convert them first",
            )
            return
        inside = x.between(*_EASTING) & y.between(*_NORTHING)
        known = x.notna() & y.notna()
        swapped = known & ~inside & y.between(*_EASTING) & x.between(*_NORTHING)
        self.bad_rows(
            path,
            f"{columns[0]}/{columns[1]}",
            swapped,
            f"the two numbers look swapped ({columns[0]} is the smaller, 0-700,000 metres;"
            f" {columns[1]} 0-1,300,000): exchange them",
        )
        self.bad_rows(
            path,
            f"{columns[0]}/{columns[1]}",
            known & ~inside & ~swapped,
            "outside Great Britain in EPSG:27700 metres (check the coordinate system)",
        )

    def lonlat_to_grid(
        self, path: Path, lon: pd.Series, lat: pd.Series, columns: tuple[str, str]
    ) -> tuple[pd.Series, pd.Series]:
        """Convert WGS84 degrees to British National Grid metres, recording rows that cannot
        be places in Great Britain (swapped longitude/latitude named as such)."""
        known = lon.notna() & lat.notna()
        swapped = known & lon.between(*_LATITUDE) & lat.between(*_LONGITUDE)
        self.bad_rows(
            path,
            f"{columns[0]}/{columns[1]}",
            swapped,
            f"the two numbers look swapped ({columns[0]} is the longitude, about -8 to 2 in"
            f" Great Britain; {columns[1]} the latitude, about 50 to 61): exchange them",
        )
        x, y = _to_grid().transform(lon.to_numpy(dtype=float), lat.to_numpy(dtype=float))
        xs = pd.Series(x, index=lon.index).where(known & ~swapped)
        ys = pd.Series(y, index=lat.index).where(known & ~swapped)
        inside = xs.between(*_EASTING) & ys.between(*_NORTHING)
        self.bad_rows(
            path,
            f"{columns[0]}/{columns[1]}",
            known & ~swapped & ~inside,
            "not a place in Great Britain in longitude/latitude degrees (WGS84): check the"
            " coordinate system",
        )
        return xs.where(inside), ys.where(inside)

    def raise_if_any(self) -> None:
        """Raise a :class:`DataError` listing every problem, if there are any."""
        if self.items:
            raise DataError(self.items)


_BRUTE_FORCE_PAIRS = 4_000_000
"""Point pairs up to which :func:`nearest_metres` measures every pair in numpy (milliseconds, and
no scipy.spatial, which takes about 0.2 s to import); beyond, a KD-tree."""
_BLOCK_PAIRS = 250_000  # pairs measured at once (4 MB of float64)


def nearest_metres(
    points: NDArray[np.float64], queries: NDArray[np.float64], *, k: int = 1
) -> NDArray[np.float64]:
    """Distance (metres) from each query to its ``k``-th nearest point (``k = 2`` with the
    points themselves as queries: to the nearest other one).

    Exact either way: the distances are ``sqrt(dx * dx + dy * dy)`` as the KD-tree computes
    them, bit for bit. Needs at least ``k`` points.
    """
    if len(points) * len(queries) > _BRUTE_FORCE_PAIRS:
        from scipy.spatial import cKDTree

        found = cKDTree(points).query(queries, k=k)[0]
        return np.asarray(found if k == 1 else found[:, k - 1], dtype=np.float64)
    out = np.empty(len(queries))
    rows = max(1, _BLOCK_PAIRS // max(len(points), 1))
    for start in range(0, len(queries), rows):
        block = queries[start : start + rows]
        dx = block[:, 0, None] - points[None, :, 0]
        dy = block[:, 1, None] - points[None, :, 1]
        squared = np.partition(dx * dx + dy * dy, k - 1, axis=1)[:, k - 1]
        out[start : start + len(block)] = np.sqrt(squared)
    return out


FAR_METRES = 5_000.0
"""A school further than this from every area point, and than eight times the areas' usual
spacing, is far from the authority's children (metres)."""


def _named(schools: pd.DataFrame, mask: NDArray[np.bool_], limit: int = 5) -> str:
    chosen = schools[mask]
    names = [f"{n} ({u})" for u, n in zip(chosen["urn"], chosen["name"], strict=True)]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def check_extent(
    problems: Problems,
    *,
    schools: pd.DataFrame,
    areas: pd.DataFrame,
    schools_path: str | Path,
    areas_path: str | Path,
    areas_trusted: bool,
) -> list[str]:
    """Check schools against the authority's extent: the area points of its children.

    Schools far from every area point whose easting and northing, exchanged, land among the
    areas are recorded as swapped (when the areas come from a file with a coordinate system,
    the schools file is named; otherwise either file may be the swapped one). When no school
    lies near any area, the files are of different places: an error. Other schools far from
    every area are returned as one warning.

    Parameters
    ----------
    schools, areas
        Tables with ``easting``/``northing`` (EPSG:27700 metres); schools also ``urn, name``.
    schools_path, areas_path
        The files named in messages (``areas_path`` may be empty: "the areas").
    areas_trusted
        Whether the area points come from boundary polygons with a coordinate system (so a
        swap is the schools file's) rather than a typed table.

    Returns
    -------
    list of str
        Warnings (at most one).
    """
    points = areas[["easting", "northing"]].to_numpy(dtype=float)
    points = points[np.isfinite(points).all(axis=1)]
    given = schools[["easting", "northing"]].to_numpy(dtype=float)
    located = np.isfinite(given).all(axis=1)
    if len(points) == 0 or not located.any():
        return []
    spacing = float(np.median(nearest_metres(points, points, k=2))) if len(points) > 1 else 0.0
    far_metres = min(max(FAR_METRES, 8.0 * spacing), 20_000.0)
    distance = np.full(len(given), np.inf)
    exchanged = np.full(len(given), np.inf)
    distance[located] = nearest_metres(points, given[located])
    exchanged[located] = nearest_metres(points, given[located][:, ::-1])
    far = located & (distance > far_metres)
    swapped = far & (exchanged <= far_metres)
    if swapped.any():
        where = (
            f"{schools_path}" if areas_trusted else f"{schools_path} (or the areas in {areas_path})"
        )
        problems.add(
            where,
            f"easting/northing of {int(swapped.sum())} of {int(located.sum())} school(s) look"
            f" swapped: they lie {far_metres / 1000:.0f}+ km from every area, and with the"
            f" two numbers exchanged they lie among the areas ({_named(schools, swapped)});"
            " exchange the columns",
        )
    rest = far & ~swapped
    if not rest.any():
        return []
    on_grid = (
        (given[:, 0] >= _EASTING[0]) & (given[:, 0] <= _EASTING[1])
        & (given[:, 1] >= _NORTHING[0]) & (given[:, 1] <= _NORTHING[1])
    )  # fmt: skip
    # Not one school among the areas: two different places (coordinates off the grid are
    # reported by the readers already, as such).
    if on_grid[located].all() and not (located & ~far).any():
        problems.add(
            schools_path,
            f"none of its {int(located.sum())} located school(s) lies within"
            f" {far_metres / 1000:.0f} km of any area of {areas_path or 'the areas'}: the schools"
            " and the areas are of different places (check that both files cover the"
            " authority, and the top-level authority or inputs.schools.authority)",
        )
        return []
    return [
        f"{schools_path}: {int(rest.sum())} of {int(located.sum())} school(s) lie more than"
        f" {far_metres / 1000:.0f} km from every area's point ({_named(schools, rest)}): check"
        " their coordinates, or inputs.schools.authority"
    ]
