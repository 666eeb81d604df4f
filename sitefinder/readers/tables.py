"""Reading raw tables: CSV in the encodings authorities' files come in, and vector files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio.errors

from sitefinder.validate import Problems

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb")


class FileLines(Problems):
    """``problems`` for a table that keeps some of a file's rows (one authority, open schools).

    Row problems are reported at the rows' lines in the file, not their places in the kept
    table: ``positions`` holds each kept row's position among the file's ``total`` data rows.
    """

    def __init__(self, problems: Problems, positions: np.ndarray, total: int) -> None:
        super().__init__()
        self.items = problems.items  # one list: what is recorded here is the caller's
        self._positions = positions
        self._total = total

    def bad_rows(self, path: Path, column: str, mask: pd.Series, what: str) -> bool:
        """Record rows where ``mask`` is true, at their lines in the file."""
        in_file = np.zeros(self._total, dtype=bool)
        in_file[self._positions[np.asarray(mask, dtype=bool)]] = True
        return super().bad_rows(path, column, pd.Series(in_file), what)


def read_csv(
    path: Path, problems: Problems, *, allow_empty: bool = False, hint: str = "inputs"
) -> pd.DataFrame | None:
    """Read a CSV as text columns (blank cells are empty strings).

    UTF-8 (with or without a byte-order mark) is tried first, then Windows-1252, the encoding
    of GIAS extracts and of files saved from Excel.
    """
    if not path.is_file():
        problems.add(path, f"file not found (check the path in the scenario's [{hint}])")
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            problems.add(path, "file is empty (it needs a header row and data rows)")
            return None
        except (pd.errors.ParserError, OSError) as exc:
            problems.add(path, f"cannot read as CSV ({str(exc).strip()})")
            return None
        table.columns = [str(c).strip() for c in table.columns]
        if table.empty and not allow_empty:
            problems.add(path, "has a header but no data rows")
            return None
        return table
    problems.add(path, "cannot decode the text (save it as UTF-8)")
    return None


def read_vector(
    path: Path, problems: Problems, *, layer: str | None = None, hint: str = "inputs"
) -> gpd.GeoDataFrame | None:
    """Read a GeoPackage, GeoJSON or Shapefile layer, insisting on a coordinate system."""
    if not path.is_file():
        problems.add(path, f"file not found (check the path in the scenario's [{hint}])")
        return None
    try:
        frame = gpd.read_file(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        problems.add(path, f"cannot read as a vector file ({exc})")
        return None
    if frame.empty:
        problems.add(path, "has no features")
        return None
    if frame.crs is None:
        problems.add(
            path,
            "has no coordinate reference system (save it with one, e.g. EPSG:27700 or"
            " EPSG:4326; a Shapefile needs its .prj file)",
        )
        return None
    return frame


def read_any(
    path: Path, problems: Problems, *, layer: str | None = None, hint: str = "inputs"
) -> pd.DataFrame | None:
    """Read a CSV, or a vector file whose point geometry becomes ``easting``/``northing`` text.

    Attribute columns come back as text either way, so one set of validators serves both.
    """
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        return read_csv(path, problems, hint=hint)
    frame = read_vector(path, problems, layer=layer, hint=hint)
    if frame is None:
        return None
    points = frame.geometry.to_crs(27700).representative_point()
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype("string").fillna("")
    table = table.astype(str)
    table["easting"] = points.x.round(1).astype(str)
    table["northing"] = points.y.round(1).astype(str)
    return table
