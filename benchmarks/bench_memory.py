"""Peak memory of ``sitefinder validate`` and ``sitefinder rank`` on a long demand file.

Run with ``python benchmarks/bench_memory.py [--megabytes 200]``. Writes a demand counts file
of about that size (one row per child, the bundled demo's areas, seeded) into a temporary
folder with a scenario reading it beside the demo's schools and bases, then runs each command
in a fresh interpreter and prints its peak resident memory (the child's ``ru_maxrss``), wall
and CPU time. ``validate`` reads everything ``rank`` reads, so its peak should be no higher.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sitefinder.resources import bundled_root

DEMO = bundled_root() / "data" / "demo"
NEEDS = np.array(["ASD", "SLCN", "SEMH", "MLD", "SLD", "SpLD"])
PHASES = np.array(["primary", "secondary"])


def write_demand(path: Path, megabytes: float, seed: int = 7) -> int:
    """A demand file of about ``megabytes`` MB, one child a row; returns its rows."""
    codes = np.loadtxt(DEMO / "areas.csv", delimiter=",", skiprows=1, usecols=0, dtype=str)
    rng = np.random.default_rng(seed)
    rows, chunk = 0, 500_000
    with path.open("w", encoding="utf-8") as handle:
        handle.write("area_code,phase,need_code,children\n")
        while handle.tell() < megabytes * 1e6:
            picked = zip(
                codes[rng.integers(0, len(codes), chunk)],
                PHASES[rng.integers(0, 2, chunk)],
                NEEDS[rng.integers(0, len(NEEDS), chunk)],
                strict=True,
            )
            handle.write("".join(f"{a},{p},{n},1\n" for a, p, n in picked))
            rows += chunk
    return rows


def measure(command: str, scenario: Path) -> tuple[float, float, float]:
    """Peak memory (MiB), wall and CPU seconds of one ``sitefinder`` command."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "sitefinder", command, "--config", str(scenario)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    assert child.stderr is not None
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{command} failed:\n{child.stderr.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024, wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=200.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        demand = Path(folder) / "demand.csv"
        rows = write_demand(demand, args.megabytes)
        scenario = Path(folder) / "long.toml"
        scenario.write_text(
            'name = "A long demand file"\n[inputs]\n'
            f'schools = "{DEMO / "schools.csv"}"\nbases = "{DEMO / "bases.csv"}"\n'
            f'areas = "{DEMO / "areas.csv"}"\ndemand = "{demand}"\n'
            '[journey]\nmethod = "crowfly"\n',
            encoding="utf-8",
        )
        size = demand.stat().st_size / 2**20
        print(f"demand file: {size:,.0f} MiB, {rows:,} rows")
        for command in ("validate", "rank"):
            peak, wall, cpu = measure(command, scenario)
            print(f"{command:>8}: peak {peak:,.0f} MiB, {wall:.1f} s wall, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
