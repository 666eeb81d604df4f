"""Benchmark road-network drive times: real Rutland data, then a million-node synthetic grid.

Run with ``python benchmarks/bench_travel.py [--data DIR] [--grid 1000] [--sources 1000]``.
``--data`` (default ``$SITEFINDER_REAL_DATA``) holds ``rutland/``; without it the Rutland part
is skipped. Prints times in seconds and peak memory in MiB (tracemalloc peak of each stage:
numpy and scipy arrays included; plus the process's maximum resident set size).

(a) Rutland: parse the OSM extract, route every ONSPD postcode to every school with
    :func:`sitefinder.roads.paths.drive_minutes`; then time the road matrix alone from the same
    snapped nodes three ways: scipy over the full graph, scipy over the cached contraction
    (its one-off build reported separately) and networkx (one Dijkstra per school on the
    reversed ``nx.DiGraph`` built from the same edges), and check the answers agree.
(b) Scale: a grid of ``--grid`` x ``--grid`` nodes 100 m apart with seeded speeds, ``--sources``
    schools and a cutoff.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from sitefinder.roads.osm import lonlat_to_grid, network_from_edges, read_road_network
from sitefinder.roads.paths import Routing, contraction, drive_minutes, road_minutes, snap

MIB = 1024**2


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def rutland(folder: Path, repeat: int) -> None:
    pbf = folder / "rutland-2022-07-20.osm.pbf"
    postcodes = pd.read_csv(folder / "postcodes_onspd_nov2025.csv")
    schools = pd.read_csv(folder / "schools_osm_2022.csv")
    origins = postcodes[["oseast1m", "osnrth1m"]].to_numpy(dtype=float)
    sx, sy = lonlat_to_grid(schools["lon"].to_numpy(), schools["lat"].to_numpy())
    destinations = np.column_stack([sx, sy])

    tracemalloc.start()
    start = time.perf_counter()
    network = read_road_network(pbf)
    parse_s = time.perf_counter() - start
    parse_peak = tracemalloc.get_traced_memory()[1] / MIB
    tracemalloc.stop()  # tracemalloc slows numpy's allocations; time the contraction without
    start = time.perf_counter()
    contracted = contraction(network)  # built once per network, then cached
    contract_s = time.perf_counter() - start
    tracemalloc.start()
    start = time.perf_counter()
    minutes, report = drive_minutes(network, origins, destinations)
    end_to_end_s = time.perf_counter() - start
    matrix_peak = tracemalloc.get_traced_memory()[1] / MIB
    tracemalloc.stop()
    print(
        f"rutland: parse {parse_s:.2f} s (peak {parse_peak:.0f} MiB); graph {network.n_nodes:,}"
        f" nodes, {network.n_edges:,} edges; dropped {network.dropped_nodes:,} nodes,"
        f" {network.dropped_edges:,} edges outside the largest strongly connected component"
    )
    print(
        f"rutland: contraction {network.n_nodes:,} -> {contracted.n_junctions:,} nodes,"
        f" {network.n_edges:,} -> {contracted.n_junction_edges:,} edges"
        f" ({contracted.n_chains:,} chains, {int(contracted.oneway.sum()):,} one-way),"
        f" built in {contract_s * 1000:.1f} ms (once per network)"
    )
    print(
        f"rutland: drive_minutes {len(origins):,} postcodes x {len(destinations)} schools"
        f" (snapping included) in {end_to_end_s:.3f} s (peak {matrix_peak:.0f} MiB);"
        f" {np.isinf(minutes).sum()} unreachable; median {np.median(minutes):.1f} min,"
        f" max {minutes.max():.1f} min; {len(report.far_origins)} postcodes and"
        f" {len(report.far_destinations)} schools snapped > {report.threshold_metres:.0f} m"
    )

    # Every method below starts from the same snapped nodes and adds the same access legs, so
    # the times compare the road searches alone (snapping and graph building left out).
    o_node, o_metres = snap(network, origins)
    d_node, d_metres = snap(network, destinations)
    per_minute = 15.0 * 1000 / 60  # the default access speed
    access = o_metres[:, None] / per_minute + d_metres[None, :] / per_minute

    def scipy_matrix(contract: bool) -> np.ndarray:
        return road_minutes(network, o_node, d_node, contract=contract) + access

    full_s = _median_seconds(lambda: scipy_matrix(False), repeat)
    fast_s = _median_seconds(lambda: scipy_matrix(True), repeat)
    full_minutes, fast_minutes = scipy_matrix(False), scipy_matrix(True)

    # networkx on the same edges, reversed so one search per school gives minutes *to* it.
    start = time.perf_counter()
    coo = network.graph.tocoo()
    reverse = nx.DiGraph()
    reverse.add_nodes_from(range(network.n_nodes))
    reverse.add_weighted_edges_from(
        zip(coo.col.tolist(), coo.row.tolist(), coo.data.tolist(), strict=True)
    )
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    nx_minutes = np.full(minutes.shape, np.inf)
    for j, school in enumerate(d_node):
        lengths = nx.multi_source_dijkstra_path_length(reverse, {int(school)})
        road = np.array([lengths.get(int(o), np.inf) for o in o_node])
        nx_minutes[:, j] = road + o_metres / per_minute + d_metres[j] / per_minute
    nx_s = time.perf_counter() - start
    print(
        f"rutland: road matrix (median of {repeat}): scipy full graph {full_s * 1000:.1f} ms,"
        f" scipy contracted {fast_s * 1000:.1f} ms ({full_s / fast_s:.1f}x);"
        f" networkx {nx_s:.2f} s (+{build_s:.2f} s to build the DiGraph)"
    )
    print(
        f"rutland: scipy contracted is {nx_s / fast_s:.0f}x faster than networkx"
        f" ({nx_s / (fast_s + contract_s):.0f}x counting the contraction build;"
        f" full graph {nx_s / full_s:.0f}x); max abs difference vs networkx:"
        f" contracted {np.abs(nx_minutes - fast_minutes).max():.2e} min,"
        f" full {np.abs(nx_minutes - full_minutes).max():.2e} min;"
        f" drive_minutes vs contracted {np.abs(minutes - fast_minutes).max():.2e} min"
    )
    x, y = lonlat_to_grid(np.array([-0.7275, -0.7220]), np.array([52.6700, 52.5870]))
    pair, _ = drive_minutes(network, [[x[0], y[0]]], [[x[1], y[1]]])
    print(f"rutland: Oakham -> Uppingham {pair[0, 0]:.1f} min")


def scale(size: int, n_sources: int, n_origins: int, cutoff: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    ix, iy = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    node = (ix * size + iy).ravel()
    x = 400_000.0 + 100.0 * ix.ravel()
    y = 200_000.0 + 100.0 * iy.ravel()
    right = node[(ix < size - 1).ravel()]
    up = node[(iy < size - 1).ravel()]
    a = np.concatenate([right, up])
    b = np.concatenate([right + size, up + 1])
    # 100 m links at 20-60 km/h, the same both ways
    link = 0.1 / rng.uniform(20, 60, len(a)) * 60
    src, dst = np.concatenate([a, b]), np.concatenate([b, a])
    network = network_from_edges(np.column_stack([x, y]), src, dst, np.concatenate([link, link]))
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    contracted = contraction(network)  # once per network; drive_minutes reuses it
    contract_s = time.perf_counter() - start
    span = 100.0 * (size - 1)
    corner = np.array([400_000.0, 200_000.0])
    schools = rng.uniform(0, span, (n_sources, 2)) + corner
    homes = rng.uniform(0, span, (n_origins, 2)) + corner
    tracemalloc.start()
    start = time.perf_counter()
    minutes, _ = drive_minutes(network, homes, schools, routing=Routing(cutoff_minutes=cutoff))
    matrix_s = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / MIB
    tracemalloc.stop()
    print(
        f"scale: grid {network.n_nodes:,} nodes, {network.n_edges:,} edges built in"
        f" {build_s:.1f} s, contracted to {contracted.n_junctions:,} nodes in {contract_s:.2f} s;"
        f" {n_origins:,} homes x {n_sources:,} schools, cutoff {cutoff:g} min:"
        f" {matrix_s:.1f} s ({matrix_s / n_sources * 1000:.1f} ms per school), peak"
        f" {peak:.0f} MiB; {np.isfinite(minutes).mean():.1%} of pairs within the cutoff"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=os.environ.get("SITEFINDER_REAL_DATA"))
    parser.add_argument("--grid", type=int, default=1000, help="grid side, nodes")
    parser.add_argument("--sources", type=int, default=1000, help="schools (search sources)")
    parser.add_argument("--origins", type=int, default=10_000, help="home points")
    parser.add_argument("--cutoff", type=float, default=20.0, help="minutes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-scale", action="store_true", help="run only the Rutland part")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each scipy matrix")
    args = parser.parse_args()
    if args.data is not None and (Path(args.data) / "rutland").is_dir():
        rutland(Path(args.data) / "rutland", args.repeat)
    else:
        print("rutland: skipped (set SITEFINDER_REAL_DATA or --data)")
    if not args.skip_scale:
        scale(args.grid, args.sources, args.origins, args.cutoff, args.seed)
    print(f"process peak resident memory {_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
