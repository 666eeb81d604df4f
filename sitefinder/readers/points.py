"""Named points for ``sitefinder travel``: ``id,lon,lat`` (WGS84) or ``id,x,y`` (EPSG:27700)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sitefinder.readers.tables import read_csv
from sitefinder.validate import Problems


@dataclass(frozen=True)
class Points:
    """Named points: ``ids`` (text) and ``xy`` (EPSG:27700 metres), read from ``path``."""

    path: Path
    ids: list[str]
    xy: NDArray[np.float64]


def read_points(path: Path, problems: Problems) -> Points | None:
    """Read a points CSV with columns ``id,lon,lat`` (WGS84) or ``id,x,y`` (EPSG:27700)."""
    table = read_csv(path, problems, hint="--from/--to")
    if table is None:
        return None
    columns = set(table.columns)
    if "id" not in columns or not ({"lon", "lat"} <= columns or {"x", "y"} <= columns):
        problems.add(
            path,
            "needs columns id,lon,lat (WGS84 degrees) or id,x,y (EPSG:27700 metres);"
            f" the file has: {', '.join(table.columns)}",
        )
        return None
    ids = table["id"].str.strip()
    problems.bad_rows(path, "id", ids == "", "blank id (every point needs one)")
    problems.unique(path, table.assign(id=ids), "id")
    if {"lon", "lat"} <= columns:
        lon = problems.numbers(path, table, "lon")
        lat = problems.numbers(path, table, "lat")
        xs, ys = problems.lonlat_to_grid(path, lon, lat, ("lon", "lat"))
        x, y = xs.to_numpy(), ys.to_numpy()
    else:
        xs, ys = problems.numbers(path, table, "x"), problems.numbers(path, table, "y")
        problems.british_grid(path, xs, ys, ("x", "y"))
        x, y = xs.to_numpy(), ys.to_numpy()
    return Points(path, ids.tolist(), np.column_stack([x, y]).astype(float))
