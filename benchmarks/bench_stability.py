"""Time how sure the plan is: ``sitefinder rank --runs N --workers W`` as a user runs it.

Run with ``python benchmarks/bench_stability.py [--scenario trafford|rutland] [--runs 100]
[--workers 1 2] [--repeat 1] [--json FILE]`` (``SITEFINDER_REAL_DATA`` names the shared data
folder). Each run is the command itself (a fresh interpreter: imports, reading, ranking, the
plan, the robustness runs, the one-at-a-time sensitivity and the search for where each base
flips, JSON out), once per worker count. The script prints the wall time, the CPU time of the
command and its worker processes (user + system: the fairer figure on a shared machine, where
the wall time depends on what else runs) and the load average before and after, and checks
that every worker count gives the same stability statement and sensitivity, byte for byte.

On an idle 2-core machine the wall time of ``--workers 2`` is about the command's serial part
(everything but the runs: ``--runs 0``) plus half the CPU time of the runs; on a loaded one the
wall time grows with the load, the CPU time much less.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {
    "trafford": ROOT / "configs" / "examples" / "trafford.toml",
    "rutland": ROOT / "configs" / "examples" / "rutland.toml",
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> float:
    return os.getloadavg()[0]


def _rank(config: Path, runs: int, workers: int, folder: str) -> dict[str, object]:
    command = [sys.executable, "-m", "sitefinder", "rank", "--config", str(config)]
    command += ["--runs", str(runs), "--workers", str(workers), "--format", "json"]
    load, cpu, start = _load(), _children_cpu(), time.perf_counter()
    # Started outside the source tree, so PYTHONPATH decides which sitefinder runs.
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder, check=False)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{config}: sitefinder rank failed:\n{done.stderr}")
    document = json.loads(done.stdout)
    statement = json.dumps([document["stability"], document["sensitivity"]], sort_keys=True)
    return {
        "runs": runs,
        "workers": workers,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "load_before": round(load, 2),
        "load_after": round(_load(), 2),
        "statement_sha256": hashlib.sha256(statement.encode()).hexdigest()[:16],
        "plan": ", ".join(str(row["urn"]) for row in document["plan"]["chosen"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="trafford")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()
    if not os.environ.get("SITEFINDER_REAL_DATA"):
        raise SystemExit("set SITEFINDER_REAL_DATA to the shared data folder")
    config = SCENARIOS[args.scenario]
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        _rank(config, 0, 1, folder)  # fills the caches (road network, SEN2 rows); not counted
        serial = _rank(config, 0, 1, folder)
        print(
            f"{args.scenario}, no runs: wall {serial['wall_seconds']} s,"
            f" cpu {serial['cpu_seconds']} s"
        )
        for _ in range(args.repeat):
            for workers in args.workers:
                found = _rank(config, args.runs, workers, folder)
                figures.append(found)
                print(
                    f"{args.scenario}, {args.runs} runs on {workers} worker(s): wall"
                    f" {found['wall_seconds']} s, cpu {found['cpu_seconds']} s (load"
                    f" {found['load_before']} -> {found['load_after']}), statement"
                    f" {found['statement_sha256']}, plan {found['plan']}"
                )
    if len({f["statement_sha256"] for f in figures}) > 1:
        raise SystemExit("the statement differs between worker counts")
    if args.json:
        args.json.write_text(json.dumps({"serial": serial, "runs": figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
