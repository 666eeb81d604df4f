"""On-disk cache for parsed road networks, drive-minute matrices and SEN2 rows.

Entries are ``.npz`` files (numpy arrays only, read with ``allow_pickle=False``) named by a
SHA-256 key over everything that shapes the result: the network file's *content* (not its name
or date), the points' coordinates, and every parameter, plus a format version. A changed input
therefore gets a new key and never reuses a stale entry. Other readers keep their entries here
through :func:`cache_entry` (the SEN2 reader: :func:`sitefinder.readers.sen2.read_sen2_of`).

The cache never stops a run:

- Entries are written through :func:`sitefinder.files.atomic_path` (a partial file, then an
  atomic replace), so a reader never sees a half-written entry and concurrent writers do not
  corrupt each other. A folder that cannot be written (read-only, a file, a full disk) gives a
  warning and the run goes on without the cache.
- An entry is checked before use: arrays of the right shapes and kinds, and a matrix entry's
  own copy of its points equal to the points asked for. A damaged or mismatched entry is a
  miss and is rewritten.
- The folder is kept under a size limit, ``$SITEFINDER_CACHE_MAX_MB`` megabytes (default
  :data:`DEFAULT_MAX_MB`; 0 turns the cache off), by removing the least recently used entries
  after each write (a hit marks an entry used). Partial files left by killed runs are swept.

The folder is ``cache_dir`` when given, else ``$SITEFINDER_CACHE_DIR``, else the platform's
user cache folder (``$XDG_CACHE_HOME/sitefinder`` or ``~/.cache/sitefinder`` on Linux,
``~/Library/Caches/sitefinder`` on macOS, ``%LOCALAPPDATA%\\sitefinder\\Cache`` on Windows).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix

from sitefinder.errors import DataError, OutputError, SetupError, processing
from sitefinder.files import atomic_path, file_sha256, sweep_partials
from sitefinder.roads.osm import DEFAULT_SPEEDS, RoadNetwork, RoadSpeeds, read_road_network
from sitefinder.roads.paths import DEFAULT_ROUTING, Routing, SnapReport, drive_minutes

__all__ = [
    "DEFAULT_MAX_MB",
    "CacheEntry",
    "CacheUse",
    "cache_entry",
    "cache_limit_bytes",
    "cached_drive_minutes",
    "cached_road_network",
    "default_cache_dir",
    "file_sha256",
    "network_sha256",
    "peek_road_network",
]

FORMAT_VERSION = 2  # bump when the stored layout or the routing rules change
DEFAULT_MAX_MB = 2048
"""Default size limit of the cache folder (megabytes, ``$SITEFINDER_CACHE_MAX_MB``)."""
_LEGACY_TEMPORARIES = (".tmp-*.npz",)  # names used by format 1


def default_cache_dir() -> Path:
    """The user cache folder for sitefinder (see the module docstring)."""
    explicit = os.environ.get("SITEFINDER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else Path.home() / "AppData" / "Local") / "sitefinder" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "sitefinder"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "sitefinder"


def cache_limit_bytes() -> int:
    """The cache's size limit in bytes, from ``$SITEFINDER_CACHE_MAX_MB`` (0 = no cache).

    Raises
    ------
    SetupError
        If the variable is set to anything but a number of megabytes >= 0.
    """
    raw = os.environ.get("SITEFINDER_CACHE_MAX_MB", "").strip()
    if not raw:
        return DEFAULT_MAX_MB * 1024 * 1024
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = math.nan
    if not math.isfinite(megabytes) or not 0 <= megabytes <= 1e9:
        raise SetupError(
            f"SITEFINDER_CACHE_MAX_MB={raw}: must be a number of megabytes from 0 (no cache)"
            f" to 1000000000; unset it for the default, {DEFAULT_MAX_MB}"
        )
    return int(megabytes * 1024 * 1024)


@dataclass(frozen=True)
class CacheUse:
    """How a cached computation went: ``hit`` (read from the cache) and any ``warnings``
    (the cache could not be written, so later runs will compute again)."""

    hit: bool
    warnings: tuple[str, ...] = ()


def _folder(cache_dir: Path | str | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else default_cache_dir()


def _key(kind: str, parts: dict[str, Any], arrays: tuple[NDArray[Any], ...] = ()) -> str:
    digest = hashlib.sha256()
    header = {"kind": kind, "version": FORMAT_VERSION, **parts}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"|{contiguous.dtype.str}{contiguous.shape}|".encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


def network_sha256(network: RoadNetwork) -> str:
    """SHA-256 over a network's graph and coordinates: equal hashes route identically."""
    graph = network.graph
    return _key(
        "network-content",
        {},
        (graph.indptr, graph.indices, graph.data, network.x, network.y),
    )


_KINDS = ("network", "matrix", "sen2", "table")


def _entries(folder: Path) -> list[Path]:
    return [entry for kind in _KINDS for entry in folder.glob(f"{kind}-*.npz")]


def _evict(folder: Path, *, limit: int, keep: Path) -> None:
    """Remove least recently used entries until the folder is under ``limit`` bytes."""
    sized = []
    for entry in _entries(folder):
        try:
            info = entry.stat()
        except OSError:
            continue
        sized.append((info.st_mtime, entry, info.st_size))
    total = sum(size for _, _, size in sized)
    for _, entry, size in sorted(sized, key=lambda item: (item[0], item[1].name)):
        if total <= limit:
            break
        if entry == keep:
            continue
        try:
            entry.unlink()
        except OSError:
            continue
        total -= size


def _write(entry: Path, arrays: dict[str, NDArray[Any]], *, limit: int) -> tuple[str, ...]:
    """Store ``arrays`` at ``entry``; return warnings instead of failing."""
    folder = entry.parent
    size = sum(int(a.nbytes) for a in arrays.values())
    if size > limit:
        return (
            f"cache: not storing a {size / 2**20:,.1f} MB entry, above the cache's limit of"
            f" {limit / 2**20:,.1f} MB (raise SITEFINDER_CACHE_MAX_MB to keep it)",
        )
    why = ""
    try:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        sweep_partials(folder, legacy=_LEGACY_TEMPORARIES)
        with (
            atomic_path(entry, overwrite=True, kind="cache entry") as temporary,
            temporary.open("xb") as stream,
        ):
            np.savez(stream, **arrays)  # type: ignore[arg-type]
    except OutputError as exc:
        why = exc.problems[0].split(": cannot write the cache entry: ", 1)[-1]
    except OSError as exc:  # the folder itself cannot be made (a file, read-only parent)
        why = f"{exc.strerror or exc}"
    if why:
        why = why.removesuffix("; nothing was written")
        return (
            f"cache folder {folder} cannot be written ({why}); continuing without the cache"
            " (set SITEFINDER_CACHE_DIR or --cache-dir to a writable folder)",
        )
    _evict(folder, limit=limit, keep=entry)
    return ()


def _read(path: Path) -> dict[str, NDArray[Any]] | None:
    try:
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            stored = {name: data[name] for name in data.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # a damaged entry is a miss; it is rewritten
    with contextlib.suppress(OSError):  # a read-only cache still serves hits
        os.utime(path)  # mark it recently used, for eviction
    return stored


@dataclass(frozen=True)
class CacheEntry:
    """One entry of the cache: ``path`` (in the cache folder) and the folder's size ``limit``
    in bytes (0: the cache is off, so nothing is read or written)."""

    path: Path
    limit: int

    def read(self) -> dict[str, NDArray[Any]] | None:
        """The entry's arrays, or None when it is missing or damaged (a miss)."""
        return _read(self.path) if self.limit else None

    def write(self, arrays: dict[str, NDArray[Any]]) -> tuple[str, ...]:
        """Store ``arrays`` (numeric or text arrays, never objects); warnings when it cannot."""
        return _write(self.path, arrays, limit=self.limit) if self.limit else ()


def cache_entry(
    kind: str, parts: dict[str, Any], *, cache_dir: Path | str | None = None
) -> CacheEntry:
    """The cache entry of ``kind`` (one of ``network``, ``matrix``, ``sen2``, ``table``) keyed by
    ``parts``: everything that shapes its content, as JSON-able values.

    Raises
    ------
    SetupError
        If ``$SITEFINDER_CACHE_MAX_MB`` is not a number of megabytes.
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown cache entry kind {kind!r}")
    path = _folder(cache_dir) / f"{kind}-{_key(kind, parts)}.npz"
    return CacheEntry(path, cache_limit_bytes())


def cached_road_network(
    path: Path | str,
    *,
    speeds: RoadSpeeds = DEFAULT_SPEEDS,
    cache_dir: Path | str | None = None,
) -> tuple[RoadNetwork, CacheUse]:
    """Read a road network through the cache.

    Parameters are those of :func:`~sitefinder.roads.osm.read_road_network`; ``cache_dir``
    overrides the cache folder.

    Returns
    -------
    network, use
        The network and how the cache was used (hit, and warnings when it cannot be written).

    Raises
    ------
    SetupError
        If ``$SITEFINDER_CACHE_MAX_MB`` is not a number of megabytes.
    """
    limit = cache_limit_bytes()
    source = file_sha256(path)
    params = speeds.params()
    entry = _folder(cache_dir) / f"network-{_key('network', {'file': source, **params})}.npz"
    stored = _read(entry) if limit else None
    if stored is not None:
        network = _network_from_arrays(stored, params=params, source=source)
        if network is not None:
            return network, CacheUse(hit=True)
    network = read_road_network(path, speeds=speeds, source_sha256=source)
    warnings = _write(entry, _network_arrays(network), limit=limit) if limit else ()
    return network, CacheUse(hit=False, warnings=warnings)


def _network_arrays(network: RoadNetwork) -> dict[str, NDArray[Any]]:
    graph = network.graph
    return {
        "node_ids": network.node_ids,
        "x": network.x,
        "y": network.y,
        "lon": network.lon,
        "lat": network.lat,
        "indptr": graph.indptr,
        "indices": graph.indices,
        "data": graph.data,
        "dropped": np.array([network.dropped_nodes, network.dropped_edges], dtype=np.int64),
    }


def _shaped(stored: dict[str, NDArray[Any]], name: str, kind: str, length: int | None) -> bool:
    array = stored.get(name)
    return (
        array is not None
        and array.ndim == 1
        and array.dtype.kind in kind
        and (length is None or len(array) == length)
    )


def _network_from_arrays(
    stored: dict[str, NDArray[Any]], *, params: dict[str, float], source: str
) -> RoadNetwork | None:
    """The network an entry holds, or None when its arrays do not make one (a miss)."""
    if not _shaped(stored, "node_ids", "iu", None):
        return None
    n = len(stored["node_ids"])
    if not (
        all(_shaped(stored, name, "f", n) for name in ("x", "y", "lon", "lat"))
        and _shaped(stored, "indptr", "iu", n + 1)
        and _shaped(stored, "indices", "iu", None)
        and _shaped(stored, "data", "f", len(stored["indices"]))
        and _shaped(stored, "dropped", "iu", 2)
    ):
        return None
    indptr, indices, data = stored["indptr"], stored["indices"], stored["data"]
    if (
        indptr[0] != 0
        or indptr[-1] != len(indices)
        or np.any(np.diff(indptr) < 0)
        or (len(indices) and (indices.min() < 0 or indices.max() >= n))
        or not np.all(np.isfinite(data))
        or np.any(data < 0)
    ):
        return None
    graph = csr_matrix((data, indices, indptr), shape=(n, n))
    return RoadNetwork(
        node_ids=stored["node_ids"],
        x=stored["x"],
        y=stored["y"],
        lon=stored["lon"],
        lat=stored["lat"],
        graph=graph,
        dropped_nodes=int(stored["dropped"][0]),
        dropped_edges=int(stored["dropped"][1]),
        peak_factor=params["peak_factor"],
        source_sha256=source,
        params=dict(params),
    )


def _stored_matrix(
    stored: dict[str, NDArray[Any]],
    origins: NDArray[np.float64],
    destinations: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None:
    """An entry's minutes and snap distances if it is for exactly these points, else None."""
    needed = ("minutes", "origin_metres", "destination_metres", "origins", "destinations")
    if not all(name in stored for name in needed):
        return None
    n, m = len(origins), len(destinations)
    minutes = stored["minutes"]
    if not (
        np.array_equal(stored["origins"], origins)
        and np.array_equal(stored["destinations"], destinations)
        and minutes.shape == (n, m)
        and minutes.dtype.kind == "f"
        and _shaped(stored, "origin_metres", "f", n)
        and _shaped(stored, "destination_metres", "f", m)
        and not np.any(np.isnan(minutes))
    ):
        return None
    return minutes, stored["origin_metres"], stored["destination_metres"]


def cached_drive_minutes(
    network: RoadNetwork,
    origins_xy: ArrayLike,
    destinations_xy: ArrayLike,
    *,
    routing: Routing = DEFAULT_ROUTING,
    cache_dir: Path | str | None = None,
) -> tuple[NDArray[np.float64], SnapReport, CacheUse]:
    """:func:`~sitefinder.roads.paths.drive_minutes` through the cache.

    The key covers the network's content (graph and coordinates), both point sets and every
    routing setting, including ``chunk_size`` although it does not change the minutes. The
    entry also stores the points, and is used only when they equal the points asked for.

    Returns
    -------
    minutes, report, use
        As :func:`drive_minutes`, plus how the cache was used.

    Raises
    ------
    SetupError
        If ``$SITEFINDER_CACHE_MAX_MB`` is not a number of megabytes.
    """
    limit = cache_limit_bytes()
    origins = np.asarray(origins_xy, dtype=float)
    destinations = np.asarray(destinations_xy, dtype=float)
    params = {
        "network": network_sha256(network),
        "cutoff_minutes": (
            None if routing.cutoff_minutes is None else float(routing.cutoff_minutes)
        ),
        "chunk_size": routing.chunk_size,
        "access_speed_kmh": float(routing.access_speed_kmh),
        "snap_warn_metres": float(routing.snap_warn_metres),
    }
    entry = _folder(cache_dir) / f"matrix-{_key('matrix', params, (origins, destinations))}.npz"
    stored = _read(entry) if limit else None
    found = _stored_matrix(stored, origins, destinations) if stored is not None else None
    if found is not None:
        minutes, origin_metres, destination_metres = found
        report = SnapReport(
            origin_metres=origin_metres,
            destination_metres=destination_metres,
            far_origins=np.flatnonzero(origin_metres > routing.snap_warn_metres),
            far_destinations=np.flatnonzero(destination_metres > routing.snap_warn_metres),
            threshold_metres=float(routing.snap_warn_metres),
        )
        return minutes, report, CacheUse(hit=True)
    minutes, report = drive_minutes(network, origins, destinations, routing=routing)
    arrays = {
        "minutes": minutes,
        "origin_metres": report.origin_metres,
        "destination_metres": report.destination_metres,
        "origins": origins,
        "destinations": destinations,
    }
    warnings = _write(entry, arrays, limit=limit) if limit else ()
    return minutes, report, CacheUse(hit=False, warnings=warnings)


def _osm_header_problem(path: Path) -> str | None:
    """Why ``path`` does not start like an OpenStreetMap file, or None."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    if not head:
        return "is empty (download the extract again)"
    name = path.name.lower()
    if name.endswith(".pbf"):
        size = int.from_bytes(head[:4], "big")
        if not 0 < size < 64 * 1024 or b"OSMHeader" not in head[4 : 4 + size]:
            return (
                "is not an OpenStreetMap PBF file (it does not start with an OSMHeader block);"
                " download the .osm.pbf extract again"
            )
    elif name.endswith(".osm") and b"<osm" not in head[:4096]:
        return "is not an OpenStreetMap XML file (no <osm> element at the start)"
    return None


def peek_road_network(
    path: Path | str,
    *,
    speeds: RoadSpeeds = DEFAULT_SPEEDS,
    cache_dir: Path | str | None = None,
) -> str:
    """Check a road network file without parsing it: its cache entry, else its header.

    Returns
    -------
    str
        A note saying what was checked.

    Raises
    ------
    DataError
        If the file is missing, unreadable, or does not start like an OpenStreetMap file.
    SetupError
        If ``$SITEFINDER_CACHE_MAX_MB`` is not a number of megabytes.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: road network file not found (check journey.network)")
    limit = cache_limit_bytes()
    with processing(path):
        try:
            source = file_sha256(path)
            params = speeds.params()
            key = _key("network", {"file": source, **params})
            stored = _read(_folder(cache_dir) / f"network-{key}.npz") if limit else None
            if stored is not None:
                network = _network_from_arrays(stored, params=params, source=source)
                if network is not None:
                    return f"{path}: road network in the cache ({network.n_nodes:,} nodes)"
            problem = _osm_header_problem(path)
        except OSError as exc:
            raise DataError(f"{path}: cannot read the road network ({exc.strerror})") from None
    if problem is not None:
        raise DataError(f"{path}: {problem}")
    return f"{path}: road network file starts correctly (it is parsed in full when ranking)"
