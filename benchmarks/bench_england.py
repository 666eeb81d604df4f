"""England through the command line: a synthetic national scenario ranked authority by authority.

Writes a seeded synthetic England in the real public layouts (GIAS extract, LSOA areas, ONS
population by single year of age, DfE SEN2 caseload and needs files; see
:mod:`sitefinder.national.synthetic`) into a cache folder (reused when it exists; never in the
repository), then runs, as a user would::

    sitefinder rank --config england.toml --workers 2 --format csv

and prints the wall time of the command, the peak memory of the client and of each worker,
and the time of each stage (reading and cutting the national files, starting the cluster, the
authorities' tasks and, summed over them, loading, evaluating the ranking and choosing the
plan). The target (issue 14): 20,000 schools and 34,000 areas in 150 authorities under 5
minutes and 4 GB on 2 cores. Smoke run::

    python benchmarks/bench_england.py --schools 2000 --areas 3400 --authorities 15

Measured (29 Nov 2026, this shared 2-core machine while other helpers' jobs ran, load average
2-6; crow-fly journeys up to the default 120 minutes, greedy plans, 2 bases and 5 ranked
candidates per authority). The target is NOT met.

Smoke size (2,000 schools, 3,400 areas, 15 authorities), before -> after the warm/neighbourhood
switch below (75 ranked rows each):

- before: 1,090 s wall (900 s in an earlier, quieter run); tasks 1,373 s in all (load 18.3 s,
  prepare 8.2 s, evaluating the ranking 1,214 s, plans 122 s); Middlesbrough (286 schools,
  539 areas, 6,468 demand rows, 684 options) 1,080 s of it on its own. Peak memory: client
  219 MiB, workers 371 and 355 MiB (945 MiB in all).
- after: 219 s wall; split 0.4 s, cluster 0.7 s, authorities 214 s; tasks 407 s in all (load
  11.4 s, prepare 6.4 s, evaluating 248 s, plans 134 s); Middlesbrough 197 s. Peak memory:
  client 218 MiB, workers 361 and 346 MiB (925 MiB in all).

Full size (20,000 schools, 34,000 areas, 150 authorities): files written in 25.6 s, read and
cut in 20.6 s (client peak 309 MiB); the largest authorities have 590 x 1,046, 506 x 871 and
430 x 758 schools x areas (median 111 x 174). Not run to the end: scaling the smoke run's task
time (after) by authority size (schools x areas, to the power 1 to 1.6) gives 4,600 to 6,600 s
of tasks, 40 to 55 minutes on 2 workers, the largest authority alone 13 to 30 minutes. Memory
is not the limit (under 400 MiB per worker at the smoke size).

What changed: options whose trial reached more than 4,000 demand rows were solved as cold
neighbourhood LPs, which with every minute counting grow to the whole authority (each trial a
whole-authority LP from scratch). An option is now valued on its component's warm LP when its
neighbourhood's first reach (its rows and every row the open bases serving them serve) covers a
quarter of the component or more, as within one authority; a region of a national instance
still goes to neighbourhoods. The published documents are byte-identical (checked on two
authorities with the old switch forced low, and on the demo, Trafford and Rutland).

Where the time goes now (cProfile, Middlesbrough): two thirds of HiGHS time is the ranking's warm
trials, one per option for its standalone value (766 trials, 0.11 s each at 6,468 rows), which
every output of the plan step uses (candidates, left-out explanations, the schools table); the
plan's 58 s are mostly whole-authority LPs solved from scratch (about a dozen at 1.6-5 s: the
interchange's closed sets, their warm models, the final evaluation, the network with the plan).
Next: value only the options an output needs. The eased-price bounds are tight at the first
step too (synthetic Harrow, 604 options: bounds a median 0.6% above the exact values, all 604
in 0.4 s against 46 s for the exact trials; only 5 options' bounds reach the fifth-best exact
value), but the plan step reads every option's standalone value (each school's best option
becomes its candidate; left-out explanations; the schools table), so a lazy first step needs
those to ask for values on demand (per school, best bound first: about one trial per school).
And re-solve the plan's LPs from the greedy's warm bases.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sitefinder.national.synthetic import Synthetic, write_synthetic_england


def _folder(args: argparse.Namespace) -> Path:
    root = Path(args.cache or os.environ.get("SITEFINDER_BENCH_DIR") or tempfile.gettempdir())
    name = f"sitefinder-england-{args.schools}-{args.areas}-{args.authorities}-{args.seed}"
    name += f"-{args.bases}-{args.top}-{args.method}"
    return root / name


def _notes(stderr: str) -> dict[str, str]:
    found = {}
    for line in stderr.splitlines():
        if "authorities ranked on" in line:
            found["stages"] = line.removeprefix("note: ")
        elif line.startswith("note: authority tasks:"):
            found["tasks"] = line.removeprefix("note: ")
        elif line.startswith("note: peak memory:"):
            found["memory"] = line.removeprefix("note: ")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=20_000)
    parser.add_argument("--areas", type=int, default=34_000)
    parser.add_argument("--authorities", type=int, default=150)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--bases", type=int, default=2, help="new bases per authority")
    parser.add_argument("--top", type=int, default=5, help="ranked candidates per authority")
    parser.add_argument("--method", default="greedy", help="selection.method of the plans")
    parser.add_argument("--cache", type=Path, help="folder for the generated files")
    parser.add_argument("--fresh", action="store_true", help="write the files again")
    args = parser.parse_args()

    folder = _folder(args)
    scenario = folder / "england.toml"
    if args.fresh and folder.exists():
        shutil.rmtree(folder)
    start = time.perf_counter()
    if not scenario.exists():
        spec = Synthetic(
            schools=args.schools,
            areas=args.areas,
            authorities=args.authorities,
            seed=args.seed,
            bases=args.bases,
            top=args.top,
            method=args.method,
        )
        made = write_synthetic_england(folder, spec)
        sizes = sum(p.stat().st_size for p in made.files.values()) / 2**20
        print(
            f"wrote {folder}: {made.schools:,} establishments, {made.areas:,} areas,"
            f" {len(made.authorities)} authorities ({sizes:,.0f} MiB) in"
            f" {time.perf_counter() - start:.1f} s"
        )
    else:
        print(f"reusing {folder}")
    command = [
        sys.executable, "-m", "sitefinder", "rank", "--config", str(scenario),
        "--workers", str(args.workers), "--format", "csv",
    ]  # fmt: skip
    print("running:", " ".join(["sitefinder", *command[3:]]))
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, text=True, check=False)
        wall = time.perf_counter() - start
        out.seek(0)
        rows = max(0, len(out.read().splitlines()) - 1)
    if done.returncode != 0:
        print(done.stderr[-4000:])
        raise SystemExit(f"sitefinder rank failed (exit {done.returncode})")
    notes = _notes(done.stderr)
    print(
        f"wall time of the command: {wall:.1f} s ({rows:,} ranked rows written); load average"
        f" {load:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores shared with other jobs)"
    )
    for key in ("stages", "tasks", "memory"):
        if key in notes:
            print(f"  {notes[key]}")
    peaks = [float(m.replace(",", "")) for m in re.findall(r"([\d,]+) MiB", notes["memory"])]
    print(
        f"peak memory in all: {sum(peaks):,.0f} MiB (client + workers);"
        f" target: under 300 s and 4,096 MiB on 2 cores"
    )


if __name__ == "__main__":
    main()
