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

from sitefinder.errors import DataError

REQUIRED_COLUMNS = ("origin_id", "destination_id", "minutes")
_SHOWN = 10


def read_matrix_csv(
    path: Path | str,
    *,
    origin_ids: Sequence[str],
    destination_ids: Sequence[str],
) -> NDArray[np.float64]:
    """Read an external matrix of journey minutes.

    Parameters
    ----------
    path
        The CSV file (UTF-8, optionally with a byte-order mark).
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
        Listing every problem: missing file or columns, unknown ids, blank, non-numeric,
        non-finite or negative minutes, and repeated pairs.
    """
    path = Path(path)
    name = path.name
    origins = {str(v).strip(): i for i, v in enumerate(origin_ids)}
    destinations = {str(v).strip(): i for i, v in enumerate(destination_ids)}
    problems: list[str] = []
    if len(origins) != len(origin_ids) or len(destinations) != len(destination_ids):
        raise ValueError("origin_ids and destination_ids must each be unique")
    matrix = np.full((len(origins), len(destinations)), np.inf)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise DataError(f"{path}: cannot open the matrix file ({error.strerror})") from error
    seen: dict[tuple[int, int], int] = {}
    with handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise DataError(
                f"{name}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                f" (the file has: {', '.join(columns) or 'no columns'})"
            )
        reader.fieldnames = columns
        try:
            for row in reader:
                line = reader.line_num
                where = f"{name}: line {line}"
                origin = (row.get("origin_id") or "").strip()
                destination = (row.get("destination_id") or "").strip()
                raw = (row.get("minutes") or "").strip()
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
        except (csv.Error, UnicodeDecodeError) as error:
            problems.append(f"{name}: cannot read as CSV ({error})")
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
    return value
