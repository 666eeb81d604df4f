"""On-disk cache for parsed road networks and drive-minute matrices.

Entries are ``.npz`` files (numpy arrays only, read with ``allow_pickle=False``) named by a
SHA-256 key over everything that shapes the result: the network file's *content* (not its name
or date), the points' coordinates, and every parameter, plus a format version. A changed input
therefore gets a new key and never reuses a stale entry. Writes go to a temporary file in the
cache folder and are moved into place with :func:`os.replace`, so a reader never sees a half
written entry and concurrent writers do not corrupt each other. An unreadable entry is treated
as a miss and rewritten.

The folder is ``cache_dir`` when given, else ``$SITEFINDER_CACHE_DIR``, else the platform's
user cache folder (``$XDG_CACHE_HOME/sitefinder`` or ``~/.cache/sitefinder`` on Linux,
``~/Library/Caches/sitefinder`` on macOS, ``%LOCALAPPDATA%\\sitefinder\\Cache`` on Windows).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix

from sitefinder.roads.osm import RoadNetwork, read_road_network
from sitefinder.roads.paths import (
    DEFAULT_ACCESS_SPEED_KMH,
    DEFAULT_SNAP_WARN_METRES,
    SnapReport,
    drive_minutes,
)

FORMAT_VERSION = 1  # bump when the stored layout or the routing rules change
_CHUNK = 1024 * 1024


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


def _folder(cache_dir: Path | str | None) -> Path:
    return Path(cache_dir) if cache_dir is not None else default_cache_dir()


def file_sha256(path: Path | str) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


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


def _write_atomic(path: Path, arrays: dict[str, NDArray[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)  # type: ignore[arg-type]
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read(path: Path) -> dict[str, NDArray[Any]] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # a damaged entry is a miss; it is rewritten below


def cached_road_network(
    path: Path | str,
    *,
    peak_factor: float = 1.0,
    maxspeed_fraction: float = 0.8,
    junction_seconds: float = 3.0,
    cache_dir: Path | str | None = None,
) -> tuple[RoadNetwork, bool]:
    """Read a road network through the cache.

    Parameters are those of :func:`~sitefinder.roads.osm.read_road_network`; ``cache_dir``
    overrides the cache folder.

    Returns
    -------
    network, hit
        The network and whether it came from the cache.
    """
    source = file_sha256(path)
    params = {
        "peak_factor": float(peak_factor),
        "maxspeed_fraction": float(maxspeed_fraction),
        "junction_seconds": float(junction_seconds),
    }
    entry = _folder(cache_dir) / f"network-{_key('network', {'file': source, **params})}.npz"
    stored = _read(entry)
    if stored is not None:
        try:
            return _network_from_arrays(stored, params=params, source=source), True
        except (KeyError, ValueError):
            pass  # written by an incompatible layout: rebuild
    network = read_road_network(
        path,
        peak_factor=peak_factor,
        maxspeed_fraction=maxspeed_fraction,
        junction_seconds=junction_seconds,
        source_sha256=source,
    )
    _write_atomic(entry, _network_arrays(network))
    return network, False


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


def _network_from_arrays(
    stored: dict[str, NDArray[Any]], *, params: dict[str, float], source: str
) -> RoadNetwork:
    n = len(stored["node_ids"])
    graph = csr_matrix((stored["data"], stored["indices"], stored["indptr"]), shape=(n, n))
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


def cached_drive_minutes(
    network: RoadNetwork,
    origins_xy: ArrayLike,
    destinations_xy: ArrayLike,
    *,
    cutoff_minutes: float | None = None,
    chunk_size: int | None = None,
    access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
    snap_warn_metres: float = DEFAULT_SNAP_WARN_METRES,
    cache_dir: Path | str | None = None,
) -> tuple[NDArray[np.float64], SnapReport, bool]:
    """:func:`~sitefinder.roads.paths.drive_minutes` through the cache.

    The key covers the network's content (graph and coordinates), both point sets and every
    parameter, including ``chunk_size`` although it does not change the minutes.

    Returns
    -------
    minutes, report, hit
        As :func:`drive_minutes`, plus whether the matrix came from the cache.
    """
    origins = np.asarray(origins_xy, dtype=float)
    destinations = np.asarray(destinations_xy, dtype=float)
    params = {
        "network": network_sha256(network),
        "cutoff_minutes": None if cutoff_minutes is None else float(cutoff_minutes),
        "chunk_size": chunk_size,
        "access_speed_kmh": float(access_speed_kmh),
        "snap_warn_metres": float(snap_warn_metres),
    }
    entry = _folder(cache_dir) / f"matrix-{_key('matrix', params, (origins, destinations))}.npz"
    stored = _read(entry)
    if stored is not None and {"minutes", "origin_metres", "destination_metres"} <= set(stored):
        report = SnapReport(
            origin_metres=stored["origin_metres"],
            destination_metres=stored["destination_metres"],
            far_origins=np.flatnonzero(stored["origin_metres"] > snap_warn_metres),
            far_destinations=np.flatnonzero(stored["destination_metres"] > snap_warn_metres),
            threshold_metres=float(snap_warn_metres),
        )
        return stored["minutes"], report, True
    minutes, report = drive_minutes(
        network,
        origins,
        destinations,
        cutoff_minutes=cutoff_minutes,
        chunk_size=chunk_size,
        access_speed_kmh=access_speed_kmh,
        snap_warn_metres=snap_warn_metres,
    )
    _write_atomic(
        entry,
        {
            "minutes": minutes,
            "origin_metres": report.origin_metres,
            "destination_metres": report.destination_metres,
        },
    )
    return minutes, report, False
