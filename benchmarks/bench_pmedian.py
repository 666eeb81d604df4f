"""Solve the OR-Library p-median instances (pmed1..pmed40) and compare with the known optima.

Run with ``python benchmarks/bench_pmedian.py [--dir DIR] [--only 1 5 40] [--time-limit S]
[--spopt]``. The default directory is ``$SITEFINDER_REAL_DATA/../benchmarks/orlib-pmed``.
Prints, per instance, n, p, our objective, the optimum, the gap to it (%), the solver's own gap
(%) and seconds; then the totals. ``--spopt`` also solves pmed1-pmed10 with spopt's
``PMedian.from_cost_matrix`` and PuLP's CBC and prints both objectives and the time ratio.

Measured on the 2-core development machine, no time limit (p <= 15 goes through the Lagrangian
branch-and-bound, larger p through HiGHS on Elloumi's model): all 40 at the known optimum and
all 40 proven, 53-65 s in total over two runs; the slowest are pmed36 (n=800, p=10, 12-13 s)
and pmed33/34/37/40 on HiGHS (3-7 s each); the other p <= 10 ones take 0.02-3.3 s.
Before the Lagrangian tree, with 30 s per instance, only 30 were proven and the ten with
p = 5 or 10 from pmed16 on timed out (about 390 s in total).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import shortest_path

from sitefinder.model.pmedian import p_median


def default_dir() -> Path:
    real = os.environ.get("SITEFINDER_REAL_DATA")
    if real:
        return Path(real).parent / "benchmarks" / "orlib-pmed"
    return Path("/work/shared/benchmarks/orlib-pmed")


def read_instance(path: Path) -> tuple[NDArray[np.float64], int]:
    """Return the all-pairs shortest-path cost matrix and p of one OR-Library file."""
    numbers = path.read_text(encoding="ascii").split()
    n, n_edges, p = (int(v) for v in numbers[:3])
    triples = np.asarray(numbers[3 : 3 + 3 * n_edges], dtype=np.int64).reshape(-1, 3)
    # Beasley's convention: where an edge appears twice the last one counts.
    edges: dict[tuple[int, int], int] = {}
    for i, j, cost in triples:
        edges[(min(i, j) - 1, max(i, j) - 1)] = int(cost)
    rows, cols = np.array(list(edges), dtype=np.int64).T
    graph = sparse.csr_array(
        (np.array(list(edges.values()), dtype=np.float64), (rows, cols)), shape=(n, n)
    )
    return shortest_path(graph, method="D", directed=False), p


def read_optima(path: Path) -> dict[str, float]:
    optima = {}
    for line in path.read_text(encoding="ascii").splitlines()[1:]:
        parts = line.split()
        if len(parts) == 2:
            optima[parts[0]] = float(parts[1])
    return optima


def run_spopt(folder: Path, numbers: list[int], ours: dict[int, float]) -> None:
    """Solve with spopt + CBC and print objectives and the time ratio to ours."""
    import pulp  # benchmark-only dependencies
    from spopt.locate import PMedian

    print()
    print(
        f"{'name':>7} {'spopt obj':>10} {'our obj':>10} {'spopt s':>8} {'ours s':>8} {'ratio':>6}"
    )
    total_spopt = total_ours = 0.0
    for number in numbers:
        cost, p = read_instance(folder / f"pmed{number}.txt")
        start = time.perf_counter()
        model = PMedian.from_cost_matrix(cost, np.ones(len(cost)), p_facilities=p)
        model = model.solve(pulp.PULP_CBC_CMD(msg=False, threads=1))
        spent = time.perf_counter() - start
        chosen = [j for j, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]
        objective = float(cost[:, chosen].min(axis=1).sum())
        start = time.perf_counter()
        mine = p_median(cost, p).objective
        ours_s = time.perf_counter() - start
        total_spopt += spent
        total_ours += ours_s
        ours[number] = mine
        print(
            f"pmed{number:<3d} {objective:10.0f} {mine:10.0f} {spent:8.2f} {ours_s:8.2f} "
            f"{spent / ours_s:6.1f}"
        )
    print(
        f"spopt+CBC total {total_spopt:.2f} s, ours {total_ours:.2f} s, "
        f"ratio {total_spopt / total_ours:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=None, help="folder with pmed*.txt")
    parser.add_argument("--only", type=int, nargs="*", help="instance numbers (default 1-40)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per instance")
    parser.add_argument("--spopt", action="store_true", help="also run spopt + CBC on 1-10")
    args = parser.parse_args()
    folder = args.dir or default_dir()
    optima = read_optima(folder / "pmedopt.txt")
    numbers = args.only or list(range(1, 41))
    print(
        f"{'name':>7} {'n':>4} {'p':>3} {'objective':>10} {'optimum':>9} {'gap%':>7} "
        f"{'solver%':>8} {'seconds':>8}"
    )
    total = 0.0
    matched = proven = within = 0
    worst = 0.0
    ours: dict[int, float] = {}
    for number in numbers:
        name = f"pmed{number}"
        cost, p = read_instance(folder / f"{name}.txt")
        result = p_median(cost, p, time_limit=args.time_limit)
        optimum = optima[name]
        gap = 100.0 * (result.objective - optimum) / optimum
        worst = max(worst, gap)
        total += result.seconds
        matched += abs(result.objective - optimum) < 0.5
        within += gap <= 0.5
        proven += result.proven
        ours[number] = result.objective
        print(
            f"{name:>7} {len(cost):4d} {p:3d} {result.objective:10.0f} {optimum:9.0f} "
            f"{gap:7.3f} {100 * result.gap:8.3f} {result.seconds:8.2f}"
        )
    print(
        f"total: {len(numbers)} instances, {matched} at the known optimum, {within} within 0.5%, "
        f"{proven} proven optimal, max gap to optimum {worst:.3f}%, {total:.1f} s"
    )
    if args.spopt:
        run_spopt(folder, [n for n in numbers if n <= 10], ours)


if __name__ == "__main__":
    main()
