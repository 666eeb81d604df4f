"""GDAL's messages in the planner's words, and its warnings caught rather than printed.

GDAL (through pyogrio) says what went wrong in its own terms ("not recognized as being in a
supported file format. It might help to specify the correct driver explicitly by prefixing the
file path with '<DRIVER>:'") and prints its warnings as raw Python warnings on stderr.
:func:`gdal_problem` turns an error into what to do about it; :func:`caught` collects the
warnings of a read so the reader can say them as notes, in the same words.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_FORMATS = "a GeoPackage (.gpkg), GeoJSON (.geojson), FlatGeobuf (.fgb) or Shapefile (.shp)"

# (pattern in GDAL's message, what it means and what to do); the first that matches is said.
_ERRORS: tuple[tuple[str, str], ...] = (
    (
        r"not recognized as being in a supported file format|not recognised as a supported",
        "not a format GDAL reads (the file is damaged, cut short, or another kind of file with"
        f" this extension); download it again, or export it from your GIS as {_FORMATS}",
    ),
    (
        r"file is not a database|database disk image is malformed|file is encrypted",
        "not a readable GeoPackage (damaged or cut short); download it again, or export it"
        " from your GIS again",
    ),
    (
        r"\.shx",
        "a Shapefile missing its .shx index file; keep the .shp, .shx, .dbf and .prj files"
        " together in one folder (or use the GeoPackage download instead)",
    ),
    (
        r"\.dbf",
        "a Shapefile missing its .dbf attribute file; keep the .shp, .shx, .dbf and .prj"
        " files together in one folder",
    ),
    (
        r"No such file or directory|does not exist in the file system",
        "file not found (check the path, and that the download finished)",
    ),
    (r"Permission denied", "permission denied (check the file's permissions)"),
    (
        r"Failed to read GeoJSON data|GeoJSON object too complex|JSON parsing error",
        "not valid GeoJSON (cut short or damaged); download it again",
    ),
)

# GDAL warnings in words; None: nothing the planner needs to know (dropped).
_WARNINGS: tuple[tuple[str, str | None], ...] = (
    (r"Several features with id = .* have been found", None),  # GDAL renumbers them
    (r"Non closed ring", None),  # counted and repaired by the reader, which says so
    (r"organizePolygons", None),
    (r"Measured \(M\) geometry types are not supported",
     "its shapes carry measures (M values), which are ignored"),
)  # fmt: skip


def gdal_problem(exc: BaseException) -> str:
    """What a GDAL error about a file means for the planner, and what to do (one line, to
    follow "cannot read as a vector file: ").

    A message sitefinder does not know is given as GDAL's first sentence, without its advice
    about drivers.
    """
    text = str(exc).strip()
    for pattern, words in _ERRORS:
        if re.search(pattern, text, flags=re.IGNORECASE):
            return words
    first = re.split(r";\s*It might help|\. It might help", text, maxsplit=1)[0]
    first = first.splitlines()[0].rstrip(".") if first else type(exc).__name__
    return f"{first}; download it again, or export it from your GIS as {_FORMATS}"


def warning_words(message: str) -> str | None:
    """A GDAL warning in the planner's words, or None when it is not worth saying."""
    for pattern, words in _WARNINGS:
        if re.search(pattern, message):
            return words
    return f"GDAL warned: {message.strip().splitlines()[0]}"


@contextmanager
def caught(path: Path, notes: list[str] | None = None) -> Iterator[list[str]]:
    """Run a read with GDAL's Python warnings caught, not printed: each is added to
    ``notes`` (and the yielded list) as ``path: words``, once."""
    said: list[str] = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield said
    for item in seen:
        if not issubclass(item.category, RuntimeWarning | UserWarning):
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
            continue
        words = warning_words(str(item.message))
        line = f"{path}: {words}" if words else None
        if line is not None and line not in said:
            said.append(line)
    if notes is not None:
        notes.extend(line for line in said if line not in notes)
