"""Time the A4 map in each format: Trafford and Rutland, PNG, SVG and PDF.

Run with ``python benchmarks/bench_map.py [--repeat N] [--dpi DPI]`` (needs
``SITEFINDER_REAL_DATA``, the shared data folder). Each example is ranked and published once
(with its boundaries, as ``sitefinder map`` does); then its map is drawn ``--repeat`` times in
each format in this process (a first, uncounted drawing warms the fonts and imports). The
script prints the median wall and CPU time (this process's user + system time, steadier than
the wall clock on a shared machine), the file's size, how many panels the map has (one per
phase when both are planned) and how many labels textalloc placed, shortened or left out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import matplotlib as mpl

from sitefinder import load_scenario, rank
from sitefinder.published import publish
from sitefinder.render import labels as labelling
from sitefinder.render.staticmap import map_image, panel_phases

EXAMPLES = Path(__file__).resolve().parent.parent / "configs" / "examples"


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def _count_labels() -> list[tuple[int, int, int]]:
    """Wrap the labeller to count, per panel, the labels placed whole, as a number, left out."""
    counts: list[tuple[int, int, int]] = []
    place = labelling.place_labels

    def counted(ax, renderer, labels, taken):  # type: ignore[no-untyped-def]
        drawn = place(ax, renderer, labels, taken)
        whole = sum(1 for d, a in zip(drawn, labels, strict=True) if d and d.text == a.text)
        short = sum(1 for d, a in zip(drawn, labels, strict=True) if d and d.text != a.text)
        counts.append((whole, short, sum(d is None for d in drawn)))
        return drawn

    import sitefinder.render.staticmap as staticmap

    staticmap.place_labels = counted  # type: ignore[assignment]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dpi", type=int, default=150)
    args = parser.parse_args()
    mpl.use("Agg")
    counts = _count_labels()
    for name in ("trafford", "rutland"):
        run = publish(rank(load_scenario(EXAMPLES / f"{name}.toml"), boundaries=True))
        phases = panel_phases(run) or ["one map"]
        for image_format in ("png", "svg", "pdf"):
            map_image(run, image_format=image_format, dpi=args.dpi)  # warm
            walls, cpus = [], []
            for _ in range(args.repeat):
                counts.clear()
                wall, cpu = time.perf_counter(), _cpu()
                data = map_image(run, image_format=image_format, dpi=args.dpi)
                walls.append(time.perf_counter() - wall)
                cpus.append(_cpu() - cpu)
            print(
                f"{name} {image_format}: {statistics.median(walls):.2f} s wall,"
                f" {statistics.median(cpus):.2f} s CPU, {len(data) / 1e6:.2f} MB;"
                f" panels {', '.join(phases)}; labels (whole, number, left out) by panel"
                f" {counts}"
            )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
