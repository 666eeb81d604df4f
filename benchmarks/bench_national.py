"""National-size synthetic benchmark of the greedy ranking core, with sparse journey cutoffs.

Seeded synthetic England: ``--schools`` schools and ``--areas`` small areas scattered over a
600 x 600 km square in ``--authorities`` clusters ("authorities"), two phases and four need
groups (eight classes), children per area and class, and existing bases. Crow-fly journey
minutes (the ``[journey]`` defaults: circuity 1.35, 40 km/h, ride factor 1.3, 5 minutes
overhead) are computed only for area-school pairs within ``--cutoff`` journey minutes, found
with a scikit-learn KDTree radius query: no dense areas x schools matrix is ever built.

Two runs of :func:`sitefinder.model.greedy.greedy_order` for ``--steps`` picks:

1. *national*: one instance, children may cross authority borders; trials are valued in
   certified neighbourhoods (:mod:`sitefinder.model.local`) on ``--threads`` threads;
2. *by authority*: one instance per authority (areas and schools of that authority only), one
   task each on a local dask cluster (2 worker processes, 1 thread each).

Prints the time of each stage and peak resident memory (``VmHWM``) of this process and of
the workers. Smoke run::

    python benchmarks/bench_national.py --schools 2000 --areas 3400
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.neighbors import KDTree

from sitefinder.model.greedy import GreedyResult, greedy_order
from sitefinder.model.harm import HarmCurve
from sitefinder.model.network import DemandRows, Site, metrics, solve_network
from sitefinder.national.run import peak_memory_mib

PHASES = ("primary", "secondary")
GROUPS = 4
LIMIT = {"primary": 45.0, "secondary": 75.0}
CIRCUITY, SPEED_KMH, RIDE, OVERHEAD = 1.35, 40.0, 1.3, 5.0
UNMET_HARM = 25.0
SIDE_M = 600_000.0


@dataclass(frozen=True)
class World:
    """Synthetic schools, areas and demand (coordinates in metres)."""

    school_xy: NDArray[np.float64]
    school_phase: NDArray[np.intp]  # 0 primary, 1 secondary
    school_authority: NDArray[np.intp]
    eligible: NDArray[np.bool_]
    area_xy: NDArray[np.float64]
    area_authority: NDArray[np.intp]
    demand: NDArray[np.float64]  # (n_areas, 8) children per area and class
    bases: list[tuple[int, frozenset[int], float]]  # (school, classes, capacity)


@dataclass(frozen=True)
class WorldSize:
    """How big the synthetic country is: schools, areas and authorities; children per
    (area, class) row on average; existing bases per authority."""

    schools: int
    areas: int
    authorities: int
    children_per_row: float
    bases_per_authority: int


def make_world(size: WorldSize, *, seed: int) -> World:
    """Scatter schools and areas around authority centres; draw demand and existing bases."""
    n_schools, n_areas, n_authorities = size.schools, size.areas, size.authorities
    children_per_row, bases_per_authority = size.children_per_row, size.bases_per_authority
    rng = np.random.default_rng(seed)
    centres = rng.uniform(20_000.0, SIDE_M - 20_000.0, size=(n_authorities, 2))
    spread = rng.uniform(6_000.0, 18_000.0, size=n_authorities)  # urban to county sizes
    weights = rng.gamma(2.0, 1.0, size=n_authorities)
    weights /= weights.sum()

    def scatter(n: int) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        owner = rng.choice(n_authorities, size=n, p=weights)
        xy = centres[owner] + rng.normal(size=(n, 2)) * spread[owner, None]
        return np.clip(xy, 0.0, SIDE_M), owner.astype(np.intp)

    school_xy, school_authority = scatter(n_schools)
    area_xy, area_authority = scatter(n_areas)
    school_phase = (rng.uniform(size=n_schools) < 0.17).astype(np.intp)  # ~17% secondary
    eligible = rng.uniform(size=n_schools) < 0.5  # space and suitability
    # Primary classes are busier than secondary; need groups differ in prevalence.
    scale = np.array([1.0, 1.6, 0.9, 0.4] * 2) * np.repeat([1.0, 0.7], GROUPS)
    demand = rng.poisson(children_per_row * scale, size=(n_areas, 2 * GROUPS)).astype(float)
    bases: list[tuple[int, frozenset[int], float]] = []
    for authority in range(n_authorities):
        hosts = np.flatnonzero(school_authority == authority)
        if hosts.size == 0:
            continue
        for school in rng.choice(hosts, size=min(bases_per_authority, hosts.size), replace=False):
            phase = int(school_phase[school])
            groups = rng.choice(GROUPS, size=1 + int(rng.uniform() < 0.2), replace=False)
            classes = frozenset(int(phase * GROUPS + g) for g in groups)
            bases.append((int(school), classes, float(rng.choice([8.0, 10.0, 12.0, 16.0]))))
    return World(
        school_xy,
        school_phase,
        school_authority,
        eligible,
        area_xy,
        area_authority,
        demand,
        bases,
    )


@dataclass(frozen=True)
class Pairs:
    """Area-school pairs within the cutoff, grouped by school (CSR)."""

    indptr: NDArray[np.intp]  # school s has pairs indptr[s]:indptr[s + 1]
    area: NDArray[np.intp]
    minutes: NDArray[np.float64]

    @property
    def count(self) -> int:
        return len(self.area)


def sparse_pairs(
    area_xy: NDArray[np.float64], school_xy: NDArray[np.float64], cutoff: float
) -> Pairs:
    """Journey minutes of every area-school pair within ``cutoff`` minutes (KDTree radius)."""
    if len(area_xy) == 0 or len(school_xy) == 0:  # a small world can leave an authority empty
        empty = np.zeros(0, dtype=np.intp)
        return Pairs(np.zeros(len(school_xy) + 1, dtype=np.intp), empty, np.zeros(0))
    drive = (cutoff - OVERHEAD) / RIDE  # drive minutes allowed
    radius = drive * SPEED_KMH * 1000.0 / 60.0 / CIRCUITY  # straight-line metres
    tree = KDTree(area_xy)
    hits, metres = tree.query_radius(school_xy, r=radius, return_distance=True)
    counts = np.fromiter((len(h) for h in hits), dtype=np.intp, count=len(hits))
    indptr = np.zeros(len(hits) + 1, dtype=np.intp)
    np.cumsum(counts, out=indptr[1:])
    area = np.concatenate(hits).astype(np.intp) if len(hits) else np.zeros(0, np.intp)
    dist = np.concatenate(metres) if len(hits) else np.zeros(0)
    minutes = dist * CIRCUITY / (SPEED_KMH * 1000.0 / 60.0) * RIDE + OVERHEAD
    return Pairs(indptr, area, minutes)


@dataclass(frozen=True)
class Model:
    """Demand rows and sites of one instance, ready for the greedy core."""

    rows: DemandRows
    existing: list[Site]
    options: list[Site]
    owner: list[int]


def build_model(world: World, pairs: Pairs, schools: NDArray[np.intp]) -> Model:
    """Demand rows (area x class with children) and sites, from the sparse pairs.

    ``schools`` are the world's school indices in this instance; ``pairs`` are indexed by
    position in ``schools`` and refer to areas by position in the instance's demand table.
    """
    n_areas, n_classes = world.demand.shape
    area_of, class_of = np.nonzero(world.demand > 0)
    children = world.demand[area_of, class_of]
    row_of = np.full((n_areas, n_classes), -1, dtype=np.intp)
    row_of[area_of, class_of] = np.arange(len(area_of))
    phase_of_class = np.repeat(np.arange(2), GROUPS)
    rows = DemandRows(
        children=children,
        klass=class_of.astype(np.intp),
        limit_minutes=np.array([LIMIT[PHASES[p]] for p in phase_of_class])[class_of],
        unmet_harm=np.full(len(children), UNMET_HARM),
    )
    curves = [
        HarmCurve(
            free_minutes=15.0,
            limit_minutes=LIMIT[p],
            exponent=1.5,
            over_limit_step=1.0,
            over_limit_per_minute=0.1,
        )
        for p in PHASES
    ]
    position = {int(s): i for i, s in enumerate(schools)}

    def site(local: int, classes: frozenset[int], capacity: float) -> Site:
        span = slice(pairs.indptr[local], pairs.indptr[local + 1])
        areas, minutes = pairs.area[span], pairs.minutes[span]
        parts = [(row_of[areas, c], minutes) for c in sorted(classes)]
        found = np.concatenate([r for r, _ in parts])
        mins = np.concatenate([m for _, m in parts])
        keep = found >= 0
        found, mins = found[keep], mins[keep]
        order = np.argsort(found, kind="stable")
        phase = int(phase_of_class[min(classes)])
        return Site(
            capacity=capacity,
            classes=classes,
            rows=found[order],
            minutes=mins[order],
            harm=curves[phase](mins[order]),
        )

    existing = [
        site(position[s], classes, capacity)
        for s, classes, capacity in world.bases
        if s in position
    ]
    options: list[Site] = []
    owner: list[int] = []
    for local, school in enumerate(schools):
        if not world.eligible[school]:
            continue
        phase = int(world.school_phase[school])
        for g in range(GROUPS):
            options.append(site(local, frozenset({phase * GROUPS + g}), 10.0))
            owner.append(int(school))
    return Model(rows, existing, options, owner)


def subworld(world: World, authority: int) -> tuple[World, NDArray[np.intp]]:
    """The areas, schools and bases of one authority (schools returned as world indices)."""
    areas = np.flatnonzero(world.area_authority == authority)
    schools = np.flatnonzero(world.school_authority == authority)
    local = World(
        world.school_xy,
        world.school_phase,
        world.school_authority,
        world.eligible,
        world.area_xy[areas],
        world.area_authority[areas],
        world.demand[areas],
        [b for b in world.bases if world.school_authority[b[0]] == authority],
    )
    return local, schools


def rank_authority(world: World, schools: NDArray[np.intp], cutoff: float, steps: int) -> dict:
    """One dask task: build and rank one authority's instance; report time and memory."""
    start = time.perf_counter()
    pairs = sparse_pairs(world.area_xy, world.school_xy[schools], cutoff)
    model = build_model(world, pairs, schools)
    result = greedy_order(model.rows, model.existing, model.options, steps=steps, owner=model.owner)
    return {
        "seconds": time.perf_counter() - start,
        "pairs": pairs.count,
        "rows": len(model.rows),
        "options": len(model.options),
        "evaluations": result.evaluations,
        "picks": [(model.owner[p.option], round(p.marginal, 6)) for p in result.picks],
        "averted": float(sum(p.marginal for p in result.picks)),
        "peak_mib": peak_memory_mib(),
    }


def run_national(world: World, cutoff: float, steps: int, threads: int) -> GreedyResult:
    """Sparse pairs, instance and greedy order for the whole country, timing each stage."""
    start = time.perf_counter()
    schools = np.arange(len(world.school_xy), dtype=np.intp)
    pairs = sparse_pairs(world.area_xy, world.school_xy, cutoff)
    t_pairs = time.perf_counter() - start
    dense_mib = len(world.area_xy) * len(world.school_xy) * 8 / 2**20
    print(
        f"  sparse pairs: {pairs.count:,} within {cutoff:g} min "
        f"({pairs.count / (len(world.area_xy) * len(world.school_xy)):.2%} of a dense "
        f"matrix that would take {dense_mib:,.0f} MiB per float64 array) in {t_pairs:.2f} s; "
        f"peak {peak_memory_mib():.0f} MiB"
    )
    start = time.perf_counter()
    model = build_model(world, pairs, schools)
    site_pairs = sum(len(s.rows) for s in model.options)
    print(
        f"  instance: {len(model.rows):,} demand rows, {len(model.existing):,} existing bases, "
        f"{len(model.options):,} options with {site_pairs:,} (row, site) pairs in "
        f"{time.perf_counter() - start:.2f} s; peak {peak_memory_mib():.0f} MiB"
    )
    start = time.perf_counter()
    result = greedy_order(
        model.rows, model.existing, model.options, steps=steps, owner=model.owner, threads=threads
    )
    seconds = time.perf_counter() - start
    averted = sum(p.marginal for p in result.picks)
    per_lp = f"{seconds / result.evaluations * 1000:.2f} ms each" if result.evaluations else "-"
    print(
        f"  greedy: {len(result.picks)} picks, {result.evaluations:,} LP evaluations in "
        f"{seconds:.2f} s ({per_lp}), {averted:.1f} harm points averted; "
        f"peak {peak_memory_mib():.0f} MiB"
    )
    start = time.perf_counter()
    chosen = [model.options[p.option] for p in result.picks]
    before = metrics(model.rows, solve_network(model.rows, model.existing))
    after = metrics(model.rows, solve_network(model.rows, [*model.existing, *chosen]))
    print(
        f"  before -> after the picks (whole-country LPs, {time.perf_counter() - start:.2f} s): "
        f"total harm {before.total_harm:,.1f} -> {after.total_harm:,.1f} "
        f"(difference {before.total_harm - after.total_harm:.1f}), placed "
        f"{before.placed:,.0f} -> {after.placed:,.0f}, within the limit "
        f"{before.within_limit:,.0f} -> {after.within_limit:,.0f} of {before.children:,.0f}; "
        f"peak {peak_memory_mib():.0f} MiB"
    )
    return result


def run_by_authority(world: World, cutoff: float, steps: int, workers: int) -> None:
    """One task per authority on a local dask cluster; gather and summarise."""
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False},  # None alone still serves one on :8787
            silence_logs=logging.CRITICAL,  # a heartbeat can race the shutdown (ERROR trace)
        ) as cluster,
        Client(cluster) as client,
    ):
        t_cluster = time.perf_counter() - start
        start = time.perf_counter()
        authorities = sorted(set(world.area_authority.tolist()))
        futures = []
        for authority in authorities:
            local, schools = subworld(world, authority)
            futures.append(
                client.submit(
                    rank_authority, local, schools, cutoff, steps, key=f"authority-{authority}"
                )
            )
        results = client.gather(futures)
        seconds = time.perf_counter() - start
        worker_peak = client.run(peak_memory_mib)
    task = np.array([r["seconds"] for r in results])
    averted = sum(r["averted"] for r in results)
    print(
        f"  cluster start {t_cluster:.2f} s; {len(results)} authority tasks in {seconds:.2f} s "
        f"wall ({task.sum():.2f} s of task time: median {np.median(task):.3f} s, "
        f"max {task.max():.2f} s)"
    )
    print(
        f"  {sum(r['pairs'] for r in results):,} pairs, "
        f"{sum(r['rows'] for r in results):,} demand rows, "
        f"{sum(r['options'] for r in results):,} options, "
        f"{sum(r['evaluations'] for r in results):,} LP evaluations, "
        f"{sum(len(r['picks']) for r in results)} picks, {averted:.1f} harm points averted"
    )
    print(
        f"  peak memory: workers {', '.join(f'{v:.0f}' for v in worker_peak.values())} MiB "
        f"(largest task saw {max(r['peak_mib'] for r in results):.0f} MiB); "
        f"client {peak_memory_mib():.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=20_000)
    parser.add_argument("--areas", type=int, default=34_000)
    parser.add_argument("--authorities", type=int, default=150)
    parser.add_argument("--cutoff", type=float, default=60.0, help="journey minutes")
    parser.add_argument("--steps", type=int, default=3, help="greedy picks")
    parser.add_argument("--children-per-row", type=float, default=0.15)
    parser.add_argument("--bases-per-authority", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="dask worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads for the national run")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    size = WorldSize(
        schools=args.schools,
        areas=args.areas,
        authorities=args.authorities,
        children_per_row=args.children_per_row,
        bases_per_authority=args.bases_per_authority,
    )
    world = make_world(size, seed=args.seed)
    print(
        f"synthetic world: {args.schools:,} schools ({int(world.eligible.sum()):,} eligible), "
        f"{args.areas:,} areas, {args.authorities} authorities, "
        f"{world.demand.sum():,.0f} children in {int((world.demand > 0).sum()):,} rows, "
        f"{len(world.bases):,} existing bases ({sum(b[2] for b in world.bases):,.0f} places) "
        f"in {time.perf_counter() - start:.2f} s; peak {peak_memory_mib():.0f} MiB"
    )
    if not args.skip_national:
        print(f"national instance, {args.steps} greedy steps, {args.threads} threads:")
        start = time.perf_counter()
        run_national(world, args.cutoff, args.steps, args.threads)
        seconds = time.perf_counter() - start
        print(f"  national total {seconds:.2f} s; peak {peak_memory_mib():.0f} MiB")
    if not args.skip_dask:
        print(f"by authority on dask ({args.workers} worker processes x 1 thread):")
        run_by_authority(world, args.cutoff, args.steps, args.workers)


if __name__ == "__main__":
    main()
