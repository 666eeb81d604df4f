"""Time the sufficiency programme: Trafford and Rutland ranked with and without it.

Run with ``python benchmarks/bench_programme.py [--repeat N]`` (needs ``SITEFINDER_REAL_DATA``,
the shared data folder). Each example is ranked in this process (imports and caches warm after
a first, uncounted run) as shipped (its ``[programme]`` section: five years of projected demand,
a greedy build order a year) and with the programme left out (the sufficiency statement counts
the plan's places from the first year); the script prints the median wall time of each, the
programme's share, and the bases it opens by year.

Targets (issue "A sufficiency programme"): Trafford's five-year programme under 10 s, Rutland's
under 5 s, on the shared 2-core machine.
"""

from __future__ import annotations

import argparse
import os
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


def _timed(scenario: Scenario, repeat: int) -> tuple[float, object]:
    result = rank(scenario)  # warm: caches and imports
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = rank(scenario)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("SITEFINDER_REAL_DATA"):
        raise SystemExit("set SITEFINDER_REAL_DATA to the shared data folder")
    print(f"load average {os.getloadavg()[0]:.1f}; median of {args.repeat} run(s)")
    for name in ("trafford", "rutland"):
        scenario = load_scenario(EXAMPLES / f"{name}.toml")
        with_it, result = _timed(scenario, args.repeat)
        without, _ = _timed(_without_programme(scenario), args.repeat)
        programme = result.programme  # type: ignore[attr-defined]
        opened = ", ".join(
            f"{year}: {len(part)}" for year, part in programme.groupby("year", sort=True)
        )
        print(
            f"{name:>8}: rank with the programme {with_it:.2f} s, without {without:.2f} s"
            f" (the programme {with_it - without:.2f} s); bases opened by year: {opened or 'none'}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
