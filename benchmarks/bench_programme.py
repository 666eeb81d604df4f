"""Time the sufficiency programme: Trafford and Rutland ranked with and without it.

Run with ``python benchmarks/bench_programme.py [--repeat N]`` (needs ``SITEFINDER_REAL_DATA``,
the shared data folder). Each example is ranked in this process (imports and caches warm after
a first, uncounted run) as shipped (its ``[programme]`` section: five years of projected demand,
each year's set chosen exactly given the years before, with its bound) and with the programme
left out (the sufficiency statement counts the plan's places from the first year); the script
prints the median wall and CPU time of each (CPU: this process's user + system time and its
children's, where the programme is worked out beside the plan; steadier than the wall clock on
a shared machine), the programme's share, the bases it opens by year
and its gap to the bound.

Targets (issue "A sufficiency programme"): Trafford's five-year programme under 10 s, Rutland's
under 5 s, on the shared 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

from sitefinder import load_scenario, rank
from sitefinder.config import Scenario, with_settings

EXAMPLES = Path(__file__).resolve().parent.parent / "configs" / "examples"


def _without_programme(scenario: Scenario) -> Scenario:
    # The scenario as if it had no [programme] section: every key back at its default.
    return with_settings(
        scenario,
        {"programme.bases": "auto"},
        origin="default",
    )


def _cpu() -> float:
    """CPU seconds of this process and of its children (the programme's, worked out beside
    the plan on a forked process)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(scenario: Scenario, repeat: int) -> tuple[float, float, object]:
    result = rank(scenario)  # warm: caches and imports
    times, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), _cpu()
        result = rank(scenario)
        times.append(time.perf_counter() - started)
        cpu.append(_cpu() - used)
    return statistics.median(times), statistics.median(cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("SITEFINDER_REAL_DATA"):
        raise SystemExit("set SITEFINDER_REAL_DATA to the shared data folder")
    print(f"load average {os.getloadavg()[0]:.1f}; median of {args.repeat} run(s)")
    for name in ("trafford", "rutland"):
        scenario = load_scenario(EXAMPLES / f"{name}.toml")
        with_it, cpu_with, result = _timed(scenario, args.repeat)
        without, cpu_without, _ = _timed(_without_programme(scenario), args.repeat)
        programme = result.programme  # type: ignore[attr-defined]
        years = result.programme_years  # type: ignore[attr-defined]
        opened = ", ".join(
            f"{year}: {len(part)}" for year, part in programme.groupby("year", sort=True)
        )
        harm, bound = float(years["harm_with"].sum()), float(years["harm_bound"].sum())
        print(
            f"{name:>8}: rank with the programme {with_it:.2f} s wall ({cpu_with:.2f} s CPU),"
            f" without {without:.2f} s ({cpu_without:.2f} s CPU): the programme"
            f" {with_it - without:.2f} s ({cpu_with - cpu_without:.2f} s CPU); bases opened by"
            f" year: {opened or 'none'}; gap to the bound {(harm - bound) / harm:.2%}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
