"""Time ``sitefinder rank`` on the bundled demo: load, travel, evaluate, export.

Run with ``python benchmarks/bench_rank.py [--repeat N]``; prints the median of each stage in
seconds, the number of linear programmes solved, and peak memory. The first run starts with an
empty road cache (cold: the demo .osm.pbf is parsed and routed); the rest use the cache.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from sitefinder import load_scenario, rank, write_geopackage
from sitefinder.resources import default_scenario_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=6)
    args = parser.parse_args()
    stages: dict[str, list[float]] = {
        "load": [], "travel": [], "evaluate": [], "export": [], "total": [],
    }  # fmt: skip
    evaluations = 0
    cache = tempfile.TemporaryDirectory()
    os.environ["SITEFINDER_CACHE_DIR"] = cache.name
    cold: dict[str, float] = {}
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = rank(load_scenario(default_scenario_path()))
        ranked = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            write_geopackage(result, Path(folder) / "bench.gpkg")
        done = time.perf_counter()
        if not cold:
            cold = {"travel": result.timings["travel"], "total": done - start}
            continue
        travel = result.timings["travel"]
        stages["travel"].append(travel)
        stages["load"].append(result.timings["load"] + result.timings["prepare"] - travel)
        stages["evaluate"].append(result.timings["evaluate"])
        stages["export"].append(done - ranked)
        stages["total"].append(done - start)
        evaluations = int(result.timings["evaluations"])
    n_options = int(result.schools.filter(like="standalone_").notna().sum().sum())
    print(
        f"demo: {len(result.data.schools)} schools, {n_options} candidate options, "
        f"{len(result.data.areas)} areas, {result.before.children:.0f} children"
    )
    print(f"greedy steps: {len(result.ranking)}, LPs solved: {evaluations}")
    print(
        f"cold run (empty road cache): travel {cold['travel']:.3f} s, total {cold['total']:.3f} s"
    )
    for stage, values in stages.items():
        print(
            f"{stage:>8}: median {statistics.median(values):.3f} s over {len(values)} cached runs"
        )
    cache.cleanup()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
