"""England on the real national files: the national run and its allocation, timed.

Run ``python benchmarks/bench_england_real.py DATA [--places 10000] [--workers 2]
[--only NAME ...] [--sample N]``, DATA being the shared data folder (``england/`` and ``dfe/``).
It writes the England scenario as ``sitefinder init --authority England`` does (GIAS's open
establishments with the DfE census files, the LSOA GeoPackage's population, SEN2, crow-fly
journeys, greedy plans, ``[national] places``) to a temporary folder and ranks it through
:func:`sitefinder.national.rank_national` on a local dask cluster of ``--workers`` processes,
the code path of ``sitefinder rank --config england.toml --workers 2``. ``--only`` or
``--sample N`` (every 153/N-th authority by GSS code) ranks part of England through the same
path. It prints wall seconds, CPU seconds (this process and, once the cluster has stopped, its
worker processes: ``os.times``' children), the peak memory of the client and each worker,
each stage's time, the slowest authorities' task times, the allocation's figures, how many
curves had diminishing returns and how many the stopping rule ended. The target (issue 26):
the whole of England under 10 minutes and 4 GB on this 2-core machine. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from sitefinder.config import load_scenario, with_settings
from sitefinder.national import Task, Workers, rank_national, split_national
from sitefinder.national.scaffold import england_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--places", type=int, default=10_000)
    parser.add_argument("--max-bases", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="these authorities only")
    parser.add_argument("--sample", type=int, help="every 153/N-th authority only")
    args = parser.parse_args()
    with TemporaryDirectory() as folder:
        # The scenario `sitefinder init --authority England` writes; 3 ranked rows shown each.
        written = england_scenario(data=str(args.data), output=Path(folder) / "england.toml")
        scenario = with_settings(
            load_scenario(written.path),
            {"national.places": args.places, "national.max_bases": args.max_bases, "top": 3},
        )
        wall, start = time.perf_counter(), os.times()
        split = split_national(scenario)
        chosen = split.authorities
        if args.only:
            chosen = [a for a in chosen if a.authority.name in args.only]
        elif args.sample:
            chosen = chosen[:: max(1, len(chosen) // args.sample)][: args.sample]
        split = dataclasses.replace(split, authorities=chosen)
        result = rank_national(
            scenario,
            task=Task(method="greedy"),
            workers=Workers(processes=args.workers),
            split=split,
            progress=lambda name, done, total: print(f"  {done}/{total} {name}", flush=True),
        )
        end = os.times()
    seconds = time.perf_counter() - wall
    client = end.user + end.system - start.user - start.system
    workers = end.children_user + end.children_system
    workers -= start.children_user + start.children_system
    print(f"{len(result.runs)} authorities: {seconds:.1f} s wall, CPU {client:.1f} s client +"
          f" {workers:.1f} s workers = {client + workers:.1f} s;"
          f" load average before {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()))
    print("peak memory: " + ", ".join(f"{k} {v:,.0f} MiB" for k, v in result.peak_mib.items()))
    print(f"  in all {sum(result.peak_mib.values()):,.0f} MiB")
    tasks = sorted(result.runs, key=lambda r: -r.timings.get("task", 0.0))
    total = sum(r.timings.get("task", 0.0) for r in result.runs)
    print(f"tasks {total:.1f} s in all; slowest: " + ", ".join(
        f"{r.authority.name} {r.timings['task']:.1f} s" for r in tasks[:5]))  # fmt: skip
    table = result.allocation
    if table is not None:
        funded = table[table["bases"] > 0].sort_values("bases", ascending=False)
        print(f"allocation: {int(table['bases'].sum()):,} bases in {len(funded)} authorities,"
              f" {table['harm_averted'].sum():,.1f} harm points averted;"
              f" {int(table['convex'].sum())} of {len(table)} curves convex;"
              f" {int(table['curve_exhausted'].sum())} curves used up,"
              f" {int(table['curve_stopped'].sum())} ended by the stopping rule")  # fmt: skip
        shown = ["authority", "bases", "children", "gap", "harm_averted", "last_marginal",
                 "mean_minutes"]  # fmt: skip
        print(funded.head(15)[shown].to_string(index=False))


if __name__ == "__main__":
    main()
