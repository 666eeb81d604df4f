"""Journeys: minutes from each home area to each school.

Drive minutes come from the scenario's method: routed over an OpenStreetMap road network
(:mod:`sitefinder.roads`, cached on disk), read from another engine's matrix, or estimated from
straight-line distance. A shared SEND transport round takes ``ride_factor`` times as long as
the direct drive, plus a fixed overhead for pick-up and drop-off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Journey
from sitefinder.errors import DataError, processing
from sitefinder.journeys import SchoolPairs
from sitefinder.readers.points import read_points
from sitefinder.roads.cache import cached_drive_minutes, cached_road_network
from sitefinder.roads.matrix import read_matrix_csv
from sitefinder.roads.osm import RoadNetwork, RoadSpeeds
from sitefinder.roads.paths import Routing
from sitefinder.targets import check_target, write_text_atomic
from sitefinder.validate import Problems


def crowfly_drive_minutes(
    origins: NDArray[np.float64], destinations: NDArray[np.float64], *, journey: Journey
) -> NDArray[np.float64]:
    """Estimate drive minutes between points from straight-line distance.

    Parameters
    ----------
    origins, destinations
        Point coordinates in metres (EPSG:27700), shapes (n, 2) and (m, 2).
    journey
        Gives ``circuity`` (road / straight-line distance) and ``speed_kmh``.

    Returns
    -------
    numpy.ndarray
        Drive minutes, shape (n, m).
    """
    delta = origins[:, None, :] - destinations[None, :, :]
    metres = np.hypot(delta[..., 0], delta[..., 1])
    return np.asarray(metres * journey.circuity / (journey.speed_kmh * 1000.0 / 60.0))


def journey_minutes(drive_minutes: NDArray[np.float64], *, journey: Journey) -> NDArray[np.float64]:
    """Turn drive minutes into a child's journey minutes on shared SEND transport."""
    return np.asarray(drive_minutes * journey.ride_factor + journey.overhead_minutes)


@dataclass(frozen=True)
class DriveTimes:
    """Drive minutes between two point sets and how they were found.

    ``minutes`` is (n_origins, n_destinations), ``inf`` where unreachable or past the cutoff.
    """

    minutes: NDArray[np.float64]
    method: str
    seconds: float
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_network(
    path: Path, *, journey: Journey, cache_dir: Path | None = None
) -> tuple[RoadNetwork, str, tuple[str, ...]]:
    """Read (or fetch from the cache) a road network.

    Returns
    -------
    network, note, warnings
        The network, a note saying how it was read, and warnings (the cache not writable).
    """
    if not path.is_file():
        raise DataError(f"{path}: road network file not found (check journey.network/--network)")
    start = time.perf_counter()
    with processing(path):
        network, use = cached_road_network(
            path,
            speeds=RoadSpeeds(
                peak_factor=journey.peak_factor,
                maxspeed_fraction=journey.maxspeed_fraction,
                junction_seconds=journey.junction_seconds,
            ),
            cache_dir=cache_dir,
        )
    how = "from the cache" if use.hit else "parsed"
    dropped = (
        f"; dropped {network.dropped_nodes:,} nodes not connected to the main network"
        if network.dropped_nodes
        else ""
    )
    return (
        network,
        f"{path}: road network {how} in {time.perf_counter() - start:.2f} s:"
        f" {network.n_nodes:,} nodes, {network.n_edges:,} road links{dropped}",
        use.warnings,
    )


def network_drive_minutes(
    network: RoadNetwork,
    origins: NDArray[np.float64],
    destinations: NDArray[np.float64],
    *,
    journey: Journey,
    cutoff_minutes: float | None,
    cache_dir: Path | None = None,
    names: tuple[str, str] = ("origins", "destinations"),
) -> DriveTimes:
    """Route every origin to every destination over ``network`` (through the matrix cache)."""
    start = time.perf_counter()
    minutes, report, use = cached_drive_minutes(
        network,
        origins,
        destinations,
        routing=Routing(
            cutoff_minutes=cutoff_minutes,
            access_speed_kmh=journey.access_speed_kmh,
            snap_warn_metres=journey.snap_warn_metres,
        ),
        cache_dir=cache_dir,
    )
    seconds = time.perf_counter() - start
    notes = [
        f"drive times {'from the cache' if use.hit else 'routed'} in {seconds:.2f} s"
        f" ({len(origins):,} x {len(destinations):,})"
    ]
    warnings = [*use.warnings] + [
        f"{len(far)} of the {what} lie more than {report.threshold_metres:g} m from the road"
        f" network (up to {metres.max():,.0f} m), joined to it at"
        f" {journey.access_speed_kmh:g} km/h; check their coordinates or the network's extent"
        for far, metres, what in (
            (report.far_origins, report.origin_metres, names[0]),
            (report.far_destinations, report.destination_metres, names[1]),
        )
        if len(far)
    ]
    return DriveTimes(minutes, "network", seconds, notes, warnings)


def crowfly_journey_pairs(
    origins: NDArray[np.float64],
    destinations: NDArray[np.float64],
    *,
    journey: Journey,
    chunk: int = 512,
    all_pairs: int = 4_000_000,
) -> SchoolPairs:
    """Crow-fly journey minutes of the origin-destination pairs within ``journey.max_minutes``.

    Up to ``all_pairs`` origin-destination pairs (one authority), every pair is a candidate;
    beyond (a region, England), candidates come from a KD-tree radius query, so no dense
    matrix is built. Each candidate's minutes are then computed exactly as
    :func:`crowfly_drive_minutes` and :func:`journey_minutes` compute them (the same numbers
    as the dense route, bit for bit, either way).

    Parameters
    ----------
    origins, destinations
        Point coordinates in metres (EPSG:27700), shapes (n, 2) and (m, 2).
    journey
        ``circuity``, ``speed_kmh``, ``ride_factor``, ``overhead_minutes`` and ``max_minutes``.
    chunk
        Destinations queried at once (bounds the memory of the query's lists).
    all_pairs
        Pairs up to which every pair is measured (numpy alone: scipy.spatial takes about
        0.2 s to import).
    """
    n, m = len(origins), len(destinations)
    speed = journey.speed_kmh * 1000.0 / 60.0  # metres a minute
    drive = (journey.max_minutes - journey.overhead_minutes) / journey.ride_factor
    if n == 0 or m == 0 or drive < 0:
        return SchoolPairs(np.zeros(m + 1, dtype=np.intp), np.zeros(0, np.intp), np.zeros(0), n)
    # A little wider than the cutoff; the exact test is on the minutes below.
    radius = drive * speed / journey.circuity * (1 + 1e-9) + 1e-3
    tree = None
    step = max(1, min(chunk, 250_000 // n))  # every pair: 250,000 pairs at once (about 15 MB)
    if n * m > all_pairs:
        from scipy.spatial import cKDTree

        tree, step = cKDTree(origins), chunk
    origin_parts, minute_parts, counts = [], [], []
    for start in range(0, m, step):
        block = destinations[start : start + step]
        if tree is None:  # every origin, in order, as the query would list them
            sizes = np.full(len(block), n, dtype=np.intp)
            found = np.tile(np.arange(n, dtype=np.intp), len(block))
        else:
            hits = tree.query_ball_point(block, r=radius, return_sorted=True)
            sizes = np.fromiter((len(h) for h in hits), dtype=np.intp, count=len(hits))
            found = (
                np.concatenate([np.asarray(h, dtype=np.intp) for h in hits])
                if sizes.sum()
                else np.zeros(0, np.intp)
            )
        school = np.repeat(np.arange(len(block)), sizes)
        delta = origins[found] - block[school]
        metres = np.hypot(delta[:, 0], delta[:, 1])
        minutes = journey_minutes(metres * journey.circuity / speed, journey=journey)
        keep = minutes <= journey.max_minutes
        origin_parts.append(found[keep])
        minute_parts.append(minutes[keep])
        counts.append(np.bincount(school[keep], minlength=len(block)))
    indptr = np.zeros(m + 1, dtype=np.intp)
    np.cumsum(np.concatenate(counts), out=indptr[1:])
    return SchoolPairs(indptr, np.concatenate(origin_parts), np.concatenate(minute_parts), n)


@dataclass(frozen=True)
class AreaJourneys:
    """Journey minutes from areas to schools within ``journey.max_minutes``, and how found.

    ``pairs`` holds only the (area, school) pairs within reach, grouped by school, with the
    child's journey minutes on shared SEND transport (the drive x ``ride_factor`` +
    ``overhead_minutes``).
    """

    pairs: SchoolPairs
    method: str
    seconds: float
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _xy(table: pd.DataFrame) -> NDArray[np.float64]:
    """A table's points as (easting, northing) rows, EPSG:27700 metres."""
    return table[["easting", "northing"]].to_numpy(dtype=float)


def area_school_journeys(
    areas: pd.DataFrame, schools: pd.DataFrame, *, journey: Journey
) -> AreaJourneys:
    """Journey minutes from every area point to every school within reach, by the scenario's
    method, as sparse pairs.

    Crow-fly pairs come straight from the points (:func:`crowfly_journey_pairs`); a network or
    a matrix gives an areas x schools matrix of drive minutes (routing one authority), of
    which only the pairs within ``journey.max_minutes`` are kept.

    Parameters
    ----------
    areas, schools
        Tables with ``easting``/``northing`` (EPSG:27700 metres) and ``area_code``/``urn``.
    journey
        The scenario's journey section.
    """
    start = time.perf_counter()
    if journey.method == "crowfly":
        pairs = crowfly_journey_pairs(_xy(areas), _xy(schools), journey=journey)
        return AreaJourneys(pairs, "crowfly", time.perf_counter() - start)
    drive = area_school_drive_minutes(areas, schools, journey=journey)
    pairs = SchoolPairs.from_dense(
        journey_minutes(drive.minutes, journey=journey), max_minutes=journey.max_minutes
    )
    return AreaJourneys(
        pairs, drive.method, time.perf_counter() - start, drive.notes, drive.warnings
    )


def area_school_drive_minutes(
    areas: pd.DataFrame, schools: pd.DataFrame, *, journey: Journey
) -> DriveTimes:
    """Drive minutes from every area point to every school by the scenario's method, as a
    dense areas x schools matrix (:func:`area_school_journeys` keeps only pairs within reach).

    Parameters
    ----------
    areas, schools
        Tables with ``easting``/``northing`` (EPSG:27700 metres) and ``area_code``/``urn``.
    journey
        The scenario's journey section.
    """
    start = time.perf_counter()
    origins, destinations = _xy(areas), _xy(schools)
    if journey.method == "crowfly":
        minutes = crowfly_drive_minutes(origins, destinations, journey=journey)
        return DriveTimes(minutes, "crowfly", time.perf_counter() - start)
    if journey.method == "matrix":
        assert journey.matrix is not None
        minutes = read_matrix_csv(
            journey.matrix,
            origin_ids=areas["area_code"].astype(str).tolist(),
            destination_ids=schools["urn"].astype(str).tolist(),
        )
        missing = int(np.isinf(minutes).sum())
        notes = [f"{journey.matrix}: drive minutes for {minutes.size - missing:,} pairs"]
        if missing:
            notes.append(f"{missing:,} area-school pairs not in the matrix: taken as unreachable")
        return DriveTimes(minutes, "matrix", time.perf_counter() - start, notes)
    assert journey.network is not None
    network, note, cache_warnings = load_network(journey.network, journey=journey)
    routed = network_drive_minutes(
        network,
        origins,
        destinations,
        journey=journey,
        cutoff_minutes=journey.drive_cutoff_minutes,
        names=("area points", "schools"),
    )
    return DriveTimes(
        routed.minutes,
        "network",
        time.perf_counter() - start,
        [note, *routed.notes],
        list(dict.fromkeys([*cache_warnings, *routed.warnings])),
    )


COVERAGE_MINUTES = (15, 30, 45, 75)


@dataclass(frozen=True)
class TravelMatrix:
    """Result of :func:`travel_matrix`: the long table and what it says."""

    table: pd.DataFrame
    unreachable: int
    coverage: dict[int, float]
    coverage_column: str
    notes: list[str]
    warnings: list[str]


def travel_matrix(
    network_path: Path,
    origins_path: Path,
    destinations_path: Path,
    *,
    journey: Journey,
    with_journeys: bool = False,
    cutoff_minutes: float | None = None,
    cache_dir: Path | None = None,
    calibrate: bool = False,
) -> TravelMatrix:
    """Drive minutes from every origin to every destination over an OSM road network.

    Parameters
    ----------
    network_path
        The .osm.pbf (or .osm) extract.
    origins_path, destinations_path
        Points CSVs (see :func:`sitefinder.readers.points.read_points`).
    journey
        Routing parameters; with ``with_journeys`` also the ride factor and overhead that turn
        drive minutes into journey minutes.
    cutoff_minutes
        Drives longer than this (minutes) are unreachable and left empty.
    cache_dir
        Cache folder (default ``$SITEFINDER_CACHE_DIR`` or the user cache folder).
    calibrate
        Also fit a crow-fly estimator on a seeded sample of routed pairs and compare its
        cross-validated error with the scenario's plain crow-fly estimate (both in minutes).

    Returns
    -------
    TravelMatrix
        One row per pair (``origin_id, destination_id, drive_minutes`` and, with
        ``with_journeys``, ``journey_minutes``), the count of unreachable pairs, and coverage:
        the share of origins within 15, 30, 45 and 75 minutes of any destination.
    """
    problems = Problems()
    origins = read_points(origins_path, problems)
    destinations = read_points(destinations_path, problems)
    if not network_path.is_file():
        problems.add(network_path, "road network file not found (check --network)")
    problems.raise_if_any()
    assert origins is not None and destinations is not None
    network, note, cache_warnings = load_network(network_path, journey=journey, cache_dir=cache_dir)
    routed = network_drive_minutes(
        network,
        origins.xy,
        destinations.xy,
        journey=journey,
        cutoff_minutes=cutoff_minutes,
        cache_dir=cache_dir,
        names=(f"origins in {origins_path}", f"destinations in {destinations_path}"),
    )
    drive = routed.minutes
    table = pd.DataFrame(
        {
            "origin_id": np.repeat(origins.ids, len(destinations.ids)),
            "destination_id": np.tile(destinations.ids, len(origins.ids)),
            "drive_minutes": np.where(np.isfinite(drive), drive, np.nan).ravel().round(2),
        }
    )
    best = drive.min(axis=1) if drive.shape[1] else np.full(len(drive), np.inf)
    column = "drive_minutes"
    if with_journeys:
        journeys = journey_minutes(drive, journey=journey)
        table["journey_minutes"] = np.where(np.isfinite(journeys), journeys, np.nan).ravel()
        table["journey_minutes"] = table["journey_minutes"].round(2)
        best = journey_minutes(best, journey=journey)
        column = "journey_minutes"
    coverage = {m: float(np.mean(best <= m)) if len(best) else 0.0 for m in COVERAGE_MINUTES}
    notes = [note, *routed.notes]
    if calibrate:
        notes.append(_crowfly_check(network, origins.xy, destinations.xy, drive, journey=journey))
    return TravelMatrix(
        table,
        int((~np.isfinite(drive)).sum()),
        coverage,
        column,
        notes,
        list(dict.fromkeys([*cache_warnings, *routed.warnings])),
    )


def _crowfly_check(
    network: RoadNetwork,
    origins: NDArray[np.float64],
    destinations: NDArray[np.float64],
    drive: NDArray[np.float64],
    *,
    journey: Journey,
) -> str:
    plain = crowfly_drive_minutes(origins, destinations, journey=journey)
    routed = np.isfinite(drive)
    plain_error = float(np.mean(np.abs(plain[routed] - drive[routed])))
    try:
        from sitefinder.roads.calibrate import fit_crowfly  # scikit-learn: only when asked

        model = fit_crowfly(network, origins, destinations, seed=0)
    except ValueError as exc:
        return (
            f"crow-fly check: the plain estimate is off by {plain_error:.1f} min on average;"
            f" no calibrated model ({exc})"
        )
    kind = model.kind.replace("_", " ")
    return (
        f"crow-fly check: the plain estimate (circuity {journey.circuity:g} at"
        f" {journey.speed_kmh:g} km/h) is off by {plain_error:.1f} min on average against these"
        f" routes; a calibrated {kind} model on distance and road density"
        f" ({model.n_pairs:,} routed pairs) has a cross-validated error of"
        f" {model.cv_mae_minutes:.1f} min"
    )


def write_matrix(matrix: TravelMatrix, path: Path, *, overwrite: bool) -> None:
    """Write the matrix CSV atomically; unreachable pairs are empty cells."""
    check_target(path, overwrite=overwrite, suffix=".csv", kind="CSV file")
    text = matrix.table.to_csv(index=False, na_rep="", lineterminator="\n")
    write_text_atomic(path, text, overwrite=overwrite)
