"""Time how fast the command starts: importing ``sitefinder.cli``, ``--help``, ``--version``.

Run with ``python benchmarks/bench_start.py [--repeat N]``. Prints the median over N fresh
interpreters of the import time of ``sitefinder.cli`` (``python -X importtime``, its own
cumulative microseconds), the wall time of ``sitefinder --help``, ``sitefinder --version`` and
``sitefinder validate`` (the demo), and the heavy libraries each one loaded (none for the first
three). Target: ``--help`` under 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time

HEAVY = ("sklearn", "geopandas", "matplotlib", "dask", "highspy", "pandas", "scipy")
_COMMAND = (
    "import json, sys\n"
    "sys.argv = ['sitefinder', *{args!r}]\n"
    "from sitefinder.console import main\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "sys.stderr.write('\\nloaded ' + json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"
)


def _import_seconds() -> float:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import sitefinder.cli"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stderr.splitlines() if x.rstrip().endswith("| sitefinder.cli"))
    return int(re.split(r"\s*\|\s*", line)[1]) / 1e6


def _run(args: list[str]) -> tuple[float, list[str]]:
    code = _COMMAND.format(args=args, heavy=list(HEAVY))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    loaded = json.loads(done.stderr.rsplit("loaded ", 1)[1])
    return seconds, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    imports = [_import_seconds() for _ in range(args.repeat)]
    print(f"import sitefinder.cli: median {statistics.median(imports):.3f} s")
    for command in (["--help"], ["--version"], ["validate"]):
        runs = [_run(command) for _ in range(args.repeat)]
        median = statistics.median(seconds for seconds, _ in runs)
        loaded = ", ".join(runs[-1][1]) or "none of " + ", ".join(HEAVY)
        print(f"sitefinder {' '.join(command)}: median {median:.3f} s wall; loaded {loaded}")


if __name__ == "__main__":
    main()
