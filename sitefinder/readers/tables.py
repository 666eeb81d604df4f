"""Reading raw tables: CSV in the encodings authorities' files come in, and vector files."""

from __future__ import annotations

import codecs
import csv
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sitefinder.errors import processing
from sitefinder.validate import Problems, in_great_britain

if TYPE_CHECKING:  # geopandas, pyogrio and shapely are imported when a vector file is read
    import geopandas as gpd

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb")


class FileLines(Problems):
    """``problems`` for a table that keeps some of a file's rows (one authority, open schools).

    Row problems are reported at the rows' lines in the file, not their places in the kept
    table: ``positions`` holds each kept row's position among the file's ``total`` data rows.
    """

    def __init__(self, problems: Problems, positions: np.ndarray, total: int) -> None:
        super().__init__()
        self.items = problems.items  # one list: what is recorded here is the caller's
        self.warnings = problems.warnings
        self._positions = positions
        self._total = total

    def bad_rows(self, path: Path, column: str, mask: pd.Series, what: str) -> bool:
        """Record rows where ``mask`` is true, at their lines in the file."""
        in_file = np.zeros(self._total, dtype=bool)
        in_file[self._positions[np.asarray(mask, dtype=bool)]] = True
        return super().bad_rows(path, column, pd.Series(in_file), what)


SNIFF_BYTES = 64 * 1024
_UNDEFINED_IN_CP1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")
_SAVE_AS = "save it as UTF-8 or Windows-1252 CSV"


def not_text(path: Path) -> str | None:
    """Why ``path`` is not CSV text in an encoding sitefinder reads, or None when it may be.

    Looks at the first 64 KiB: UTF-16/32 byte-order marks, NUL bytes (binary files and UTF-16
    without a mark), and the signatures of zip files (xlsx) and old Excel workbooks.
    """
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return f"is UTF-32 text; {_SAVE_AS}"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return f"is UTF-16 text (as Excel's 'Unicode text' saves it); {_SAVE_AS}"
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return f"is a spreadsheet workbook or a zip file, not CSV text; {_SAVE_AS}"
    if b"\x00" in head:
        return (
            "contains NUL bytes (a binary file, or UTF-16 text without a byte-order mark);"
            f" {_SAVE_AS}"
        )
    return None


def missing_or_irregular(path: Path, hint: str) -> str | None:
    """The problem when ``path`` is not an existing regular file, else None."""
    if not path.exists():
        return f"file not found (check the path in the scenario's [{hint}])"
    if not path.is_file():
        return "is a folder, device or pipe, not a regular file (check the path)"
    return None


def _line_list(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:5])
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


_CODE_CELL = re.compile(r"^[A-Z]\d{8}$")  # a GSS code (E01006074): data, never a note
_NUMBER = re.compile(r"^[+-]?[\d,.]+$")


def _note(row: list[str]) -> bool:
    """Whether ``row`` is a note below a downloaded table ("Figures may not sum ...", a source
    line, or blank cells as a spreadsheet pads them): at most one cell of text, not a code or a
    number."""
    cells = [cell.strip() for cell in row if cell.strip()]
    if len(cells) > 1:
        return False
    return not cells or not (_CODE_CELL.match(cells[0]) or _NUMBER.match(cells[0]))


@dataclass
class _Shape:
    """A CSV's header, the problems of its shape, and how many data rows precede the notes
    below the table (None when none were looked for)."""

    header: list[str]
    problems: list[str]
    rows: int | None = None


def _structure(path: Path, *, titles: int = 0) -> _Shape:
    """The header and the problems of a CSV's shape: repeated column names, rows with more or
    fewer fields than the header, and a last row cut short.

    Read as Latin-1, which maps every byte to one character, so commas, quotes and line ends
    are found exactly in UTF-8 and Windows-1252 files alike without decoding them. With
    ``titles``, the header is the first row after that many lines, and rows of notes ending the
    file (:func:`_note`) are not the table's: ``rows`` counts the data rows before them.
    """
    problems: list[str] = []
    header: list[str] = []
    ragged: list[tuple[int, int]] = []
    widths: dict[int, tuple[int, int]] = {}  # fields: (rows, first line)
    header_line = 0
    rows = 0
    notes: list[tuple[int, int]] = []  # the trailing run of note rows: (line, fields)
    opening: list[str] = []  # the text of the first rows, to tell whose titles they are
    with path.open(encoding="latin-1", newline="") as handle:
        reader = csv.reader(handle)
        try:
            for row in reader:
                if not row or reader.line_num <= titles:
                    continue  # blank lines are skipped, as pandas does
                if len(opening) < 10:
                    opening.append(",".join(row))
                count, first = widths.get(len(row), (0, reader.line_num))
                widths[len(row)] = (count + 1, first)
                if not header:
                    header = row
                    header_line = reader.line_num
                    continue
                if titles and _note(row):
                    notes.append((reader.line_num, len(row)))
                    continue
                rows += 1 + len(notes)  # notes within the table are its rows after all
                for line, fields in notes:
                    if fields != len(header):
                        ragged.append((line, fields))
                notes.clear()
                if len(row) != len(header):
                    ragged.append((reader.line_num, len(row)))
        except csv.Error as exc:
            problems.append(f"cannot read as CSV at line {reader.line_num} ({exc})")
            return _Shape(header, problems)
        handle.seek(0, 2)
        size = handle.tell()
        ends_in_newline = True
        if size:
            handle.seek(size - 1)
            ends_in_newline = handle.read(1) in "\r\n"
    if (layout := _other_layout(header, header_line, ragged, widths, opening)) is not None:
        return _Shape(header, [layout])
    names = [name.strip().removeprefix("\ufeff").removeprefix("ï»¿") for name in header]
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(names, start=1):
        if name:
            seen.setdefault(name, []).append(position)
    for name, positions in seen.items():
        if len(positions) > 1:
            at = ", ".join(str(p) for p in positions[:-1]) + f" and {positions[-1]}"
            problems.append(
                f"column {name} appears {len(positions)} times in the header (columns {at});"
                " rename or remove the copies, as only one can be read"
            )
    width = len(header)
    if ragged and not ends_in_newline and ragged[-1][0] == reader.line_num:
        line, fields = ragged.pop()
        if fields < width:
            problems.append(
                f"ends in the middle of line {line} ({fields} of the header's {width} fields):"
                " the file looks cut short; download or export it again"
            )
        else:
            ragged.append((line, fields))
    if len(ragged) == 1:
        line, fields = ragged[0]
        why = (
            "a value with an unquoted comma?"
            if fields > width
            else "a row broken over two lines, or missing separators?"
        )
        problems.append(
            f"line {line} has {fields} fields but the header has {width} ({why}); fix that row"
        )
    elif ragged:
        problems.append(
            f"{_line_list([line for line, _ in ragged])} have a different number of fields from"
            f" the header's {width} (values with unquoted commas, or rows broken over lines?);"
            " fix those rows"
        )
    return _Shape(header, problems, rows if titles else None)


def _other_layout(
    header: list[str],
    line: int,
    ragged: list[tuple[int, int]],
    widths: dict[int, tuple[int, int]],
    opening: list[str],
) -> str | None:
    """Why the file is not a comma-separated table with its header first, told by what is in
    it, or None: separated by semicolons (Excel's CSV under European settings), or a table
    with title lines above its header (a Nomis download, when its titles say so, else a
    workbook's sheet saved as CSV)."""
    text = ",".join(header)
    if len(header) <= 2 and text.count(";") >= 2:
        shown = ";".join(text.split(";")[:3])
        return (
            f"is separated by semicolons, not commas (its header at line {line} reads {shown};...,"
            " as Excel saves CSV under European settings); save it again as 'CSV UTF-8 (Comma"
            " delimited)', or with the list separator set to a comma"
        )
    if not ragged or len(header) > 2:
        return None
    fields, (rows, first) = max(widths.items(), key=lambda item: item[1][0])
    if fields <= len(header) or rows < 2 * len(ragged) / 3:
        return None
    nomis = any("nomis" in text.lower() for text in opening)
    source = "as Nomis downloads come" if nomis else "as a workbook's sheet saved as CSV keeps them"
    return (
        f"starts with title lines above the table (its {fields} column names are at line"
        f" {first}, {source}); delete the lines above them and any notes below the table, or"
        " download the data as a plain CSV"
    )


def _undecodable(path: Path) -> str:
    # Where the text first fails as Windows-1252 (the last encoding tried), for the message.
    line = 1
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            for offset, byte in enumerate(block):
                if byte in _UNDEFINED_IN_CP1252:
                    line += block.count(b"\n", 0, offset)
                    return f"cannot decode the text at line {line} (byte 0x{byte:02x}); {_SAVE_AS}"
            line += block.count(b"\n")
    return f"cannot decode the text; {_SAVE_AS}"


def read_csv(
    path: Path,
    problems: Problems,
    *,
    allow_empty: bool = False,
    hint: str = "inputs",
    titles: int = 0,
    categories: bool = False,
) -> pd.DataFrame | None:
    """Read a CSV as text columns (blank cells are empty strings).

    UTF-8 (with or without a byte-order mark) is tried first, then Windows-1252, the encoding
    of GIAS extracts and of files saved from Excel. Before pandas reads it, the file's shape is
    checked, so problems pandas would hide are reported once each: UTF-16 or binary content,
    a column name repeated in the header (pandas renames the copy), rows with more or fewer
    fields than the header (pandas pads or shifts them) and a last row cut short.

    ``titles`` lines above the header are skipped, and with them the notes below the table
    (a published table's download: a sheet of a workbook saved as CSV, a Nomis download);
    the caller tells them by what the header holds. The table's index still counts its rows
    from the header.

    With ``categories``, the file is read a chunk of rows at a time and every column is a
    categorical of its texts: a long table of few distinct values (a demand file of one row per
    child) then takes a few bytes a cell, where text columns take the text.
    """
    if (problem := missing_or_irregular(path, hint)) is not None:
        problems.add(path, problem)
        return None
    with processing(path):
        try:
            problem = not_text(path)
            if problem is None:
                shape = _structure(path, titles=titles)
        except OSError as exc:
            problems.add(path, f"cannot read the file ({exc.strerror or exc})")
            return None
        if problem is not None:
            problems.add(path, problem)
            return None
        if shape.problems:
            for item in shape.problems:
                problems.add(path, item)
            return None
        return _read_table(
            path,
            problems,
            allow_empty=allow_empty,
            titles=titles,
            rows=shape.rows,
            categories=categories,
        )


CHUNK_ROWS = 250_000
"""Rows read at a time when a table is read as categories."""


def _as_categories(chunks: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The chunks of one table joined, each column a categorical of its texts."""
    from pandas.api.types import union_categoricals

    parts: dict[str, list[pd.Categorical]] = {}
    for chunk in chunks:
        for column in chunk.columns:
            parts.setdefault(column, []).append(pd.Categorical(chunk[column]))
    return pd.DataFrame({c: union_categoricals(p) for c, p in parts.items()})


def _read_table(
    path: Path,
    problems: Problems,
    *,
    allow_empty: bool,
    titles: int = 0,
    rows: int | None = None,
    categories: bool = False,
) -> pd.DataFrame | None:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            options: dict[str, Any] = {
                "dtype": str,
                "keep_default_na": False,
                "encoding": encoding,
                "skiprows": titles or None,
                "nrows": rows,
            }
            if categories:
                with pd.read_csv(path, chunksize=CHUNK_ROWS, **options) as chunks:
                    table = _as_categories(chunks)
                if table.columns.empty:  # a header and no rows: no chunk came
                    table = pd.read_csv(path, **options)
            else:
                table = pd.read_csv(path, **options)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            problems.add(path, "file is empty (it needs a header row and data rows)")
            return None
        except MemoryError:
            size = path.stat().st_size / 2**20
            problems.add(
                path,
                f"too large to read into memory ({size:,.0f} MB); use an extract with the"
                " authority's rows only",
            )
            return None
        except (pd.errors.ParserError, OSError) as exc:
            problems.add(path, f"cannot read as CSV ({str(exc).strip()})")
            return None
        table.columns = [str(c).strip() for c in table.columns]
        if table.empty and not allow_empty:
            problems.add(path, "has a header but no data rows")
            return None
        return table
    problems.add(path, _undecodable(path))
    return None


def _read_layer(
    path: Path, layer: str | None, where: str | None = None
) -> tuple[gpd.GeoDataFrame, int]:
    """A vector layer with shapes repaired, and how many needed repair.

    Shapes are parsed from GDAL's WKB with invalid ones fixed (GEOS ``make_valid``): rings
    that are not closed, self-intersections. Parsing them as GDAL hands them over would fail
    on the first unclosed ring.
    """
    import geopandas as gpd
    import pyogrio.raw
    import shapely

    with warnings.catch_warnings():
        # GDAL accepts unclosed rings with a warning; they are counted and repaired below.
        warnings.filterwarnings("ignore", message="Non closed ring", category=RuntimeWarning)
        meta, _, wkb, fields = pyogrio.raw.read(path, layer=layer, where=where)
    if wkb is None:
        wkb = np.full(len(fields[0]) if len(fields) else 0, None, dtype=object)
    strict = shapely.from_wkb(wkb, on_invalid="ignore")
    repaired = shapely.from_wkb(wkb, on_invalid="fix")
    invalid = ~shapely.is_valid(repaired) & ~shapely.is_missing(repaired)
    repaired[invalid] = shapely.make_valid(repaired[invalid])
    fixed = int(np.sum(shapely.is_missing(strict) & ~shapely.is_missing(repaired))) + int(
        invalid.sum()
    )
    columns = dict(zip(meta["fields"], fields, strict=True))
    frame = gpd.GeoDataFrame(columns, geometry=repaired, crs=meta["crs"])
    return frame, fixed


def _coordinates_problem(frame: gpd.GeoDataFrame) -> str | None:
    """Why the layer's coordinates disagree with its coordinate system label, or None."""
    present = frame.geometry[~frame.geometry.is_empty & frame.geometry.notna()]
    if present.empty:
        return None
    west, south, east, north = present.total_bounds
    label = frame.crs.to_string() if frame.crs is not None else "?"
    looks_like_degrees = -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    if frame.crs.is_geographic and not looks_like_degrees:
        return (
            f"its coordinate system says degrees ({label}) but the coordinates reach"
            f" {east:,.0f}, {north:,.0f}, which look like metres: the label is wrong"
            " (British National Grid is EPSG:27700); set the right one and save again"
        )
    if frame.crs.is_projected and looks_like_degrees and (east - west) < 20:
        return (
            f"its coordinate system says metres ({label}) but the coordinates look like"
            " longitude/latitude degrees: the label is wrong (degrees are EPSG:4326); set the"
            " right one and save again"
        )
    grid = present.to_crs(27700).total_bounds
    if not (np.isfinite(grid).all() and in_great_britain(grid)):
        return (
            f"lies outside Great Britain once converted from {label}: check its coordinate"
            " system label"
        )
    return None


def _which_layer(
    path: Path, layer: str | None, problems: Problems, hint: str
) -> tuple[bool, str | None]:
    """Whether the layer of ``path`` to read is clear (else the problem is recorded), and it.

    A file of one layer needs no name. With several, GDAL would read the first in silence, so
    the layer must be named, unless only one of them has shapes (a GeoPackage saved with its
    QGIS styles holds a ``layer_styles`` table beside the layer). A name the file lacks is
    an error listing the layers it has.
    """
    import pyogrio
    import pyogrio.errors

    try:
        found = pyogrio.list_layers(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError):
        return True, layer  # not a vector file: reading it says why
    names = [str(name) for name, _ in found]
    listed = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    if layer is not None:
        if layer in names or not names:
            return True, layer
        problems.add(
            path,
            f"has no layer {layer!r} (its layers: {listed}); set layer in [{hint}] to one of them",
        )
        return False, None
    if len(names) <= 1:
        return True, None
    spatial = [str(name) for name, kind in found if kind is not None]
    if len(spatial) == 1:
        return True, spatial[0]
    problems.add(
        path,
        f"has {len(names)} layers ({listed}) and no layer is named, so which to read is not"
        f" clear; set layer in [{hint}] to the one to read",
    )
    return False, None


def read_vector(
    path: Path,
    problems: Problems,
    *,
    layer: str | None = None,
    hint: str = "inputs",
    where: tuple[str, str] | None = None,
) -> gpd.GeoDataFrame | None:
    """Read a GeoPackage, GeoJSON or Shapefile layer, insisting on a coordinate system.

    ``where`` is an OGR SQL condition on the layer's fields and the problem to record when it
    keeps no feature: only the features it keeps are read (a GeoPackage answers it from its
    SQLite table, so the shapes of the rest are never decoded).

    Features without a shape are an error; shapes that are invalid (unclosed rings,
    self-intersections) are repaired with a warning; coordinates that disagree with the
    coordinate system label (metres labelled as degrees, or the reverse) or that fall outside
    Great Britain are an error.
    """
    if (problem := missing_or_irregular(path, hint)) is not None:
        problems.add(path, problem)
        return None
    import pyogrio.errors

    from sitefinder.readers.gdal import caught, gdal_problem

    with processing(path):
        try:
            with caught(path) as said:  # GDAL's warnings as warnings of the file, in words
                clear, layer = _which_layer(path, layer, problems, hint)
                if clear:
                    frame, fixed = _read_layer(path, layer, where[0] if where else None)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
            problems.add(path, f"cannot read as a vector file: {gdal_problem(exc)}")
            return None
        for line in said:
            problems.warnings.append(line)
        if not clear:
            return None
        if frame.empty:
            problems.add(path, where[1] if where else "has no features")
            return None
        if frame.crs is None:
            problems.add(
                path,
                "has no coordinate reference system (save it with one, e.g. EPSG:27700 or"
                " EPSG:4326; a Shapefile needs its .prj file)",
            )
            return None
        missing = np.flatnonzero((frame.geometry.isna() | frame.geometry.is_empty).to_numpy())
        if len(missing):
            shown = ", ".join(str(i + 1) for i in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            problems.add(
                path,
                f"{len(missing)} feature(s) have no shape (features {shown}{more}, counting"
                " from 1): draw them or delete them",
            )
            return None
        if (problem := _coordinates_problem(frame)) is not None:
            problems.add(path, problem)
            return None
        if fixed:
            problems.warn(
                path,
                f"{fixed} shape(s) were invalid (rings not closed, or crossing themselves) and"
                " have been repaired; check them in a GIS",
            )
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
