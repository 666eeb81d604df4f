"""A capacitated selection built from the demo authority, solved by sitefinder and by spopt.

Run with ``python benchmarks/bench_select.py [--bases K] [--time-limit S]``. For each of the
demo's phase and need-group classes with enough demand, it chooses K new bases of
``base_size`` places among that class's candidate options, with today's bases open and every
child either placed (harm per child by journey minutes) or unmet (the scenario's unmet harm).

sitefinder solves it with :func:`sitefinder.select_sites` (HiGHS MIP, and greedy plus
interchange). spopt's ``PMedian.from_cost_matrix`` (PuLP + CBC) solves the same model: the
existing bases and one uncapacitated "no place" facility (cost = unmet harm) are predefined
facilities, candidates have the base size as capacity, and ``p`` = existing + K + 1. spopt is
a benchmark-only dependency (``pip install spopt``). Prints objectives and times side by side.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sitefinder import (
    SelectionMethod,
    SelectionRules,
    SolverSettings,
    load_scenario,
    select_sites,
)
from sitefinder.instance import build_instance, existing_sites, site_at
from sitefinder.load import load_inputs
from sitefinder.model.network import DemandRows, Site
from sitefinder.resources import default_scenario_path
from sitefinder.supply import assess_schools, candidate_options


def restrict(site: Site, keep: np.ndarray, local: np.ndarray) -> Site:
    """``site`` limited to the kept rows, renumbered."""
    mine = keep[site.rows]
    return Site(
        site.capacity, site.classes, local[site.rows[mine]], site.minutes[mine], site.harm[mine]
    )


def spopt_objective(
    rows: DemandRows, existing: list, candidates: list, k: int, time_limit: float
) -> tuple[float, float]:
    import pulp
    from spopt.locate import PMedian

    sites = [*existing, *candidates]
    n_rows = len(rows)
    big = 1e6  # a pair the journey cutoff does not allow
    cost = np.full((n_rows, len(sites) + 1), big)
    for j, site in enumerate(sites):
        cost[site.rows, j] = site.harm
    cost[:, -1] = rows.unmet_harm  # "no place": any number of children
    capacity = np.array([s.capacity for s in sites] + [rows.children.sum()])
    predefined = np.r_[np.arange(len(existing)), len(sites)]
    start = time.perf_counter()
    model = PMedian.from_cost_matrix(
        cost,
        rows.children,
        p_facilities=len(existing) + k + 1,
        predefined_facilities_arr=predefined,
        facility_capacities=capacity,
        fulfill_predefined_fac=False,
    )
    model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    seconds = time.perf_counter() - start
    return float(pulp.value(model.problem.objective)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bases", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--no-spopt", action="store_true")
    args = parser.parse_args()
    scenario = load_scenario(default_scenario_path())
    data = load_inputs(scenario)
    instance = build_instance(scenario, data)
    existing, _ = existing_sites(instance, scenario, data)
    options = candidate_options(scenario, assess_schools(scenario, data.schools, data.bases))
    class_id = {c: i for i, c in enumerate(instance.classes)}
    print(f"{'class':<38} {'rows':>5} {'cands':>5}  sitefinder MIP      greedy+swap    spopt CBC")
    totals = {"mip": 0.0, "spopt": 0.0}
    for (phase, group), klass in class_id.items():
        keep = instance.rows.klass == klass
        if instance.rows.children[keep].sum() < 10:
            continue
        # One class on its own: rows renumbered 0..n-1, sites restricted to them.
        index = np.flatnonzero(keep)
        local = np.full(len(instance.rows), -1)
        local[index] = np.arange(len(index))
        rows = DemandRows(
            instance.rows.children[index],
            instance.rows.klass[index],
            instance.rows.limit_minutes[index],
            instance.rows.unmet_harm[index],
        )

        here = [restrict(s, keep, local) for s in existing if klass in s.classes]
        mask = (options["phase"] == phase) & (options["need_group"] == group)
        cands = [
            restrict(
                site_at(instance, scenario, school=int(o.school), classes=frozenset({klass}),
                        capacity=scenario.base_size),
                keep,
                local,
            )
            for o in options[mask].itertuples()
        ]  # fmt: skip
        if len(cands) <= args.bases:
            continue
        rules = SelectionRules(k=args.bases)
        optimal = select_sites(
            rows, here, cands, rules, settings=SolverSettings(method=SelectionMethod.optimal)
        )
        greedy = select_sites(
            rows, here, cands, rules, settings=SolverSettings(method=SelectionMethod.greedy)
        )
        totals["mip"] += optimal.seconds
        line = (
            f"{phase + '/' + group:<38} {len(rows):>5} {len(cands):>5}"
            f"  {optimal.objective:9.3f} {optimal.seconds:5.2f}s"
            f"  {greedy.objective:9.3f} {greedy.seconds:5.2f}s"
        )
        if not args.no_spopt:
            value, seconds = spopt_objective(rows, here, cands, args.bases, args.time_limit)
            totals["spopt"] += seconds
            line += f"  {value:9.3f} {seconds:6.2f}s"
        print(line)
    print(f"total: sitefinder MIP {totals['mip']:.2f} s", end="")
    if not args.no_spopt and totals["mip"] > 0:
        ratio = totals["spopt"] / totals["mip"]
        print(f", spopt {totals['spopt']:.2f} s ({ratio:.1f}x)")
    else:
        print()


if __name__ == "__main__":
    main()
