"""National CSV files read by key through a one-off indexed copy in the cache.

A national file (the school census of every school in England) is read by one run for a few
hundred of its rows. The first run reads and checks the whole file (:func:`read_csv`) and
stores the columns it needs in the cache (:mod:`sitefinder.roads.cache`), sorted by the key
column with each row's position in the file; later runs, for any authority, load that copy
and take their rows by the key, without parsing the CSV. The copy is keyed by the file's
SHA-256, the columns and :data:`VERSION`, so an edited file is read afresh; a file with
problems is never stored, and a cache that cannot be written is a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.files import file_sha256
from sitefinder.readers.tables import read_csv
from sitefinder.validate import Problems

VERSION = 1
"""Part of every copy's key: bump when what is stored changes."""


@dataclass(frozen=True)
class KeyedRows:
    """Rows of a file taken by key: ``rows`` (text columns), their positions among the file's
    ``total`` data rows (for line numbers), and whether the indexed copy was used."""

    rows: pd.DataFrame
    positions: np.ndarray
    total: int
    cached: bool


def read_by_key(
    path: Path,
    problems: Problems,
    *,
    key: str,
    values: Collection[str],
    columns: Sequence[str],
    hint: str = "inputs",
    also: Callable[[Mapping[str, np.ndarray]], np.ndarray] | None = None,
) -> KeyedRows | None:
    """The rows of ``path`` whose ``key`` column (stripped) is one of ``values``, and those
    ``also`` picks.

    Parameters
    ----------
    path, problems, hint
        As :func:`sitefinder.readers.tables.read_csv`.
    key
        The column to select by (e.g. ``urn``); it must be among ``columns``.
    values
        The keys wanted.
    columns
        The columns to return (and to store in the copy).
    also
        Given the whole copy's columns (text arrays, all in one order), a boolean mask of more
        rows to take (e.g. by name): the copy is searched without parsing the file again.

    Returns
    -------
    KeyedRows or None
        None when the file cannot be read (the problems are recorded).
    """
    from sitefinder.roads.cache import cache_entry
    from sitefinder.version import __version__

    wanted = list(dict.fromkeys(columns))
    entry = None
    try:
        sha = file_sha256(path)
    except OSError:
        sha = None  # read_csv says why
    if sha is not None:
        parts = {"file": sha, "key": key, "columns": wanted, "reader": VERSION}
        entry = cache_entry("table", {**parts, "sitefinder": __version__})
        stored = entry.read()
        found = _from_copy(stored, wanted, key, values, also) if stored is not None else None
        if found is not None:
            return found
    table = read_csv(path, problems, hint=hint)
    if table is None:
        return None
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        problems.add(path, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        return None
    before = len(problems.items)
    arrays = _copy(table, wanted, key)
    if entry is not None and len(problems.items) == before:
        problems.warnings.extend(entry.write(arrays))
    found = _from_copy(arrays, wanted, key, values, also)
    assert found is not None
    return KeyedRows(found.rows, found.positions, found.total, cached=False)


def _copy(table: pd.DataFrame, columns: list[str], key: str) -> dict[str, np.ndarray]:
    """The columns as text arrays sorted by the stripped key, with the rows' positions."""
    keys = table[key].str.strip().to_numpy(dtype=str)
    order = np.argsort(keys, kind="stable")
    arrays: dict[str, np.ndarray] = {
        "columns": np.array(columns, dtype=str),
        "keys": keys[order],
        "positions": order.astype(np.int64),
        "total": np.array([len(table)], dtype=np.int64),
    }
    for number, column in enumerate(columns):
        arrays[f"c{number}"] = table[column].to_numpy(dtype=str)[order]
    return arrays


def _from_copy(
    stored: dict[str, np.ndarray],
    columns: list[str],
    key: str,
    values: Collection[str],
    also: Callable[[Mapping[str, np.ndarray]], np.ndarray] | None,
) -> KeyedRows | None:
    """The rows of ``values`` (and ``also``'s) from an indexed copy, or None when it is not
    one (a miss)."""
    names, keys, positions = stored.get("columns"), stored.get("keys"), stored.get("positions")
    total = stored.get("total")
    if names is None or keys is None or positions is None or total is None:
        return None
    if names.tolist() != columns or keys.dtype.kind != "U" or positions.shape != keys.shape:
        return None
    copy: dict[str, np.ndarray] = {}
    for number, column in enumerate(columns):
        values_ = stored.get(f"c{number}")
        if values_ is None or values_.shape != keys.shape or values_.dtype.kind != "U":
            return None
        copy[column] = values_
    wanted = np.array(sorted({str(v).strip() for v in values}), dtype=str)
    hit = np.isin(keys, wanted) & (keys != "")
    if also is not None:
        hit |= also(copy)
    at = np.flatnonzero(hit)
    at = at[np.argsort(positions[at], kind="stable")]  # file order
    data = {column: copy[column][at].tolist() for column in columns}
    # str even when no row is taken (an empty list would be read as float)
    rows = pd.DataFrame(data, index=pd.Index(positions[at]), columns=columns, dtype=str)
    return KeyedRows(rows, positions[at], int(total[0]), cached=True)
