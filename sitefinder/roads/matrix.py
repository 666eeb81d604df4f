"""Import a drive-time matrix computed elsewhere (r5py, OSRM, Valhalla, DfT tables).

The file is a CSV with columns ``origin_id,destination_id,minutes`` (other columns are
ignored), one row per pair. Every problem in the file is collected, with its line number
(header = line 1), and reported in one :class:`~sitefinder.errors.DataError`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sitefinder.errors import DataError, processing
from sitefinder.readers.tables import not_text

REQUIRED_COLUMNS = ("origin_id", "destination_id", "minutes")
_SHOWN = 10


MAX_MINUTES = 1440.0
"""Drive minutes above a day are refused: a matrix holding them has the wrong unit."""


def read_matrix_csv(
    path: Path | str,
    *,
    origin_ids: Sequence[str],
    destination_ids: Sequence[str],
) -> NDArray[np.float64]:
    """Read an external matrix of journey minutes, streaming it row by row.

    Parameters
    ----------
    path
        The CSV file (UTF-8, optionally with a byte-order mark, or Windows-1252).
    origin_ids, destination_ids
        The ids the rows must use, in the order of the returned matrix. Ids are compared as
        text with surrounding spaces removed.

    Returns
    -------
    numpy.ndarray
        Minutes, shape (len(origin_ids), len(destination_ids)); ``inf`` for pairs the file
        does not give (treated as unreachable).

    Raises
    ------
    DataError
        Listing every problem (the first ten, then a count): missing, binary or UTF-16 file,
        missing or repeated columns, rows with the wrong number of fields, unknown ids, blank,
        non-numeric, non-finite, negative or over-a-day minutes, and repeated pairs.
    """
    path = Path(path)
    origins = {str(v).strip(): i for i, v in enumerate(origin_ids)}
    destinations = {str(v).strip(): i for i, v in enumerate(destination_ids)}
    if len(origins) != len(origin_ids) or len(destinations) != len(destination_ids):
        raise ValueError("origin_ids and destination_ids must each be unique")
    if not path.exists():
        raise DataError(f"{path}: cannot open the matrix file (No such file or directory)")
    if not path.is_file():
        raise DataError(f"{path}: is a folder, device or pipe, not a matrix file")
    with processing(path):
        try:
            problem = not_text(path)
        except OSError as error:
            raise DataError(f"{path}: cannot open the matrix file ({error.strerror})") from None
        if problem is not None:
            raise DataError(f"{path}: {problem}")
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return _read(path, encoding, origins, destinations)
            except UnicodeDecodeError:
                continue
    raise DataError(f"{path}: cannot decode the text; save it as UTF-8 or Windows-1252 CSV")


def _read(
    path: Path, encoding: str, origins: dict[str, int], destinations: dict[str, int]
) -> NDArray[np.float64]:
    name = path.name
    problems: list[str] = []
    matrix = np.full((len(origins), len(destinations)), np.inf)
    seen: dict[tuple[int, int], int] = {}
    try:
        handle = path.open(encoding=encoding, newline="")
    except OSError as error:
        raise DataError(f"{path}: cannot open the matrix file ({error.strerror})") from error
    with handle:
        reader = csv.reader(handle)
        try:
            header = [c.strip() for c in next(reader, [])]
            repeated = sorted({c for c in header if c and header.count(c) > 1})
            if repeated:
                raise DataError(
                    f"{name}: column(s) {', '.join(repeated)} appear more than once in the"
                    " header; keep one of each"
                )
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise DataError(
                    f"{name}: missing column{'s' if len(missing) > 1 else ''}"
                    f" {', '.join(missing)} (the file has: {', '.join(header) or 'no columns'})"
                )
            at = [header.index(c) for c in REQUIRED_COLUMNS]
            for row in reader:
                if not row:
                    continue
                line = reader.line_num
                where = f"{name}: line {line}"
                if len(row) != len(header):
                    problems.append(
                        f"{where}: has {len(row)} fields but the header has {len(header)}"
                        " (a value with an unquoted comma, or a row cut short?)"
                    )
                    continue
                origin, destination, raw = (row[i].strip() for i in at)
                o = origins.get(origin)
                d = destinations.get(destination)
                if o is None:
                    problems.append(f"{where}: origin_id {origin!r} is not a known origin")
                if d is None:
                    problems.append(
                        f"{where}: destination_id {destination!r} is not a known destination"
                    )
                minutes = _minutes(raw, where, problems)
                if o is None or d is None:
                    continue
                if (o, d) in seen:
                    problems.append(
                        f"{where}: pair {origin!r} to {destination!r} repeats line {seen[(o, d)]};"
                        " give each pair once"
                    )
                    continue
                seen[(o, d)] = line
                if minutes is not None:
                    matrix[o, d] = minutes
        except csv.Error as error:
            problems.append(f"{name}: cannot read as CSV at line {reader.line_num} ({error})")
    if len(problems) > _SHOWN:  # a wrong id scheme fails every row: show the first few
        more = len(problems) - _SHOWN
        problems = [*problems[:_SHOWN], f"{name}: and {more} more problem(s) like these"]
    if problems:
        raise DataError(problems)
    return matrix


def _minutes(raw: str, where: str, problems: list[str]) -> float | None:
    if raw == "":
        problems.append(f"{where}: minutes is blank; give a number of minutes")
        return None
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{where}: minutes is {raw!r}; give a number of minutes")
        return None
    if not math.isfinite(value):
        problems.append(f"{where}: minutes is {raw}; leave unreachable pairs out instead")
        return None
    if value < 0:
        problems.append(f"{where}: minutes is {raw}; journey minutes cannot be negative")
        return None
    if value > MAX_MINUTES:
        problems.append(
            f"{where}: minutes is {raw}; must be at most {MAX_MINUTES:,.0f} (a day): are these"
            " seconds? Leave unreachable pairs out"
        )
        return None
    return value
