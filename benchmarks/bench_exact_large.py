"""The exact plan of a large authority: the synthetic England's largest, ranked on its own.

Writes (or reuses) the seeded synthetic England of ``bench_england.py`` in a cache folder (never
in the repository), writes beside it a scenario for one authority (default Lambeth, the
largest: 590 schools, 1,046 areas, 12,552 demand rows, 1,536 candidate options, about 3
million (row, base) pairs), and runs, as a user would::

    sitefinder rank --config lambeth.toml --method optimal --bases N --format json

(``--method auto`` or ``greedy`` instead with ``--method``)
then prints the command's wall and CPU seconds, its peak memory, the plan's own time ("plan
chosen in"), and the JSON's ``plan.proven_optimal`` and ``plan.gap``. Issue 28's stretch
target: the plan proven to a gap under 0.01% in under 60 s and 2 GB. The command also builds
the ranking's greedy order first and lists the plan's equivalent alternatives (minutes on this
authority), which the target leaves out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sitefinder.national.synthetic import Synthetic, write_synthetic_england


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authority", default="Lambeth")
    parser.add_argument("--bases", type=int, nargs="+", default=[2, 5])
    parser.add_argument("--method", default="optimal", choices=["optimal", "auto", "greedy"])
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--cache", type=Path, help="folder for the generated files")
    args = parser.parse_args()
    root = Path(args.cache or os.environ.get("SITEFINDER_BENCH_DIR") or tempfile.gettempdir())
    folder = root / f"sitefinder-england-20000-34000-150-{args.seed}"
    national = folder / "england.toml"
    if not national.exists():
        write_synthetic_england(folder, Synthetic(seed=args.seed))
    text = national.read_text(encoding="utf-8")
    one = re.sub(r'^authority = "England".*$', f'authority = "{args.authority}"', text, flags=re.M)
    scenario = folder / f"{args.authority.lower()}.toml"
    scenario.write_text(one, encoding="utf-8")
    for bases in args.bases:
        command = [
            sys.executable, "-m", "sitefinder", "rank", "--config", str(scenario),
            "--method", args.method, "--bases", str(bases), "--format", "json",
        ]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            print(done.stderr[-4000:])
            raise SystemExit(f"sitefinder rank failed (exit {done.returncode})")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        plan = json.loads(done.stdout)["plan"]
        chosen = re.search(r"plan chosen in ([\d.]+) s", done.stderr)
        print(
            f"{args.authority}, {bases} bases, --method {args.method}: command {wall:.1f} s"
            f" wall, {cpu:.1f} s CPU, peak"
            f" {after.ru_maxrss / 1024:,.0f} MiB (largest child so far); plan chosen in"
            f" {chosen.group(1) if chosen else '?'} s; proven_optimal {plan['proven_optimal']},"
            f" gap {plan['gap']}, method {plan['method']}, stopped_by_limit"
            f" {plan['stopped_by_limit']}; load average {load:.1f} before,"
            f" {os.getloadavg()[0]:.1f} after",
            flush=True,
        )


if __name__ == "__main__":
    main()
