"""The plan's selection with its stopping rule: sitefinder against the same model in PuLP.

Run with ``SITEFINDER_REAL_DATA=... python benchmarks/bench_pulp.py [--bases 4 8 12]
[--solvers cbc highs] [--config configs/examples/trafford.toml]``. PuLP is a benchmark-only
dependency (the ``bench`` extra).

The instance is the one ``sitefinder rank --method optimal --bases K`` chooses from (demand
rows, today's bases, every candidate option, the rules). sitefinder chooses the plan as
``rank`` does (:func:`sitefinder.plan.stopping.choose_set`: Benders, its master's LP first,
then the master MIP, the full MIP only if its budgets run out; the stopping rule choosing again
with one base fewer while a base fails, every count from one pool of cuts). PuLP builds the same MIP
(binary per candidate, flow per allowed pair, unmet slack per row, ``x <= min(demand,
capacity) y``, the count and one base per school) and solves it with CBC or with HiGHS,
one thread, the plan's gaps (0.01 harm points or a millionth of the harm), under the same
rule: the weakest failing base (valued exactly by sitefinder's assignment LPs) out and the
MIP solved again with one base fewer. Both use the stopping rule alone (no minimum occupancy,
whose exclusions PuLP's loop does not repeat). ``--set inputs.schools.capacity_from=default``
ranks Trafford on the places GIAS implies (45 children without one), as issue 28 measured;
the example as shipped scales them to SEN2, where fewer than 5 lack one. Prints each one's
seconds (model building included) and CPU seconds (CBC's subprocess included), bases kept and
total harm, checks the harms agree within the plan's tolerance, and the ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from dataclasses import replace

import numpy as np
import pulp

import sitefinder.plan.choose as choose_module
from sitefinder import load_scenario
from sitefinder.config import with_settings
from sitefinder.model.scoring import SetScorer
from sitefinder.pipeline import rank
from sitefinder.plan.result import ABS_GAP, REL_GAP
from sitefinder.plan.stopping import SetProblem, StoppingRule, choose_set


class _CapturedError(Exception):
    pass


def plan_problem(
    config: str, bases: int, settings: dict[str, object] | None = None
) -> tuple[SetProblem, object, StoppingRule]:
    """The set problem, solver settings and stopping rule ``rank`` hands to ``choose_set``
    (with scenario ``settings`` changed, e.g. ``{"inputs.schools.capacity_from": "default"}``)."""
    captured = {}

    def capture(problem, *, settings, stop):
        captured.update(problem=problem, settings=settings, stop=stop)
        raise _CapturedError

    scenario = with_settings(load_scenario(config), {**(settings or {}), "bases": bases})
    original = choose_module.choose_set
    choose_module.choose_set = capture
    try:
        rank(scenario, method="optimal")
    except _CapturedError:
        pass
    finally:
        choose_module.choose_set = original
    return captured["problem"], captured["settings"], captured["stop"]


def pulp_select(problem: SetProblem, k: int, solver: str) -> list[int]:
    """The best set of ``k`` new bases by the selection MIP in PuLP."""
    demand, candidates = problem.demand, problem.candidates.sites
    existing = list(problem.existing)
    sites = [*existing, *candidates]
    n_ex = len(existing)
    model = pulp.LpProblem("selection", pulp.LpMinimize)
    y = [pulp.LpVariable(f"y{j}", cat="Binary") for j in range(len(candidates))]
    u = [pulp.LpVariable(f"u{r}", lowBound=0) for r in range(len(demand))]
    by_row: list[list] = [[] for _ in range(len(demand))]
    cost = []
    for i, site in enumerate(sites):
        flows = []
        for r, h in zip(site.rows.tolist(), site.harm.tolist(), strict=True):
            x = pulp.LpVariable(f"x{i}_{r}", lowBound=0)
            flows.append(x)
            by_row[r].append(x)
            cost.append(h * x)
            if i >= n_ex:
                model += x <= min(float(demand.children[r]), site.capacity) * y[i - n_ex]
        if i < n_ex:
            model += pulp.lpSum(flows) <= site.capacity
        else:
            model += pulp.lpSum(flows) <= site.capacity * y[i - n_ex]
    for r in range(len(demand)):
        model += pulp.lpSum(by_row[r]) + u[r] == float(demand.children[r])
    cost += [float(demand.unmet_harm[r]) * u[r] for r in range(len(demand))]
    model += pulp.lpSum(cost)
    model += pulp.lpSum(y) == k
    for j in problem.rules.required:
        model += y[j] == 1
    locations = np.asarray(problem.candidates.locations)
    for place in np.unique(locations):
        members = np.flatnonzero(locations == place)
        if len(members) > 1:
            model += pulp.lpSum(y[j] for j in members) <= 1
    options = {"msg": False, "gapRel": REL_GAP, "gapAbs": ABS_GAP, "threads": 1}
    options["timeLimit"] = 600
    engine = pulp.PULP_CBC_CMD(**options) if solver == "cbc" else pulp.HiGHS(**options)
    model.solve(engine)
    return [j for j, v in enumerate(y) if (v.value() or 0.0) > 0.5]


def _some_base_fails(
    scorer: SetScorer, problem: SetProblem, stop: StoppingRule, chosen: list[int]
) -> bool:
    """Whether a chosen base (not required) fails the stopping rule given the others: the
    children it newly places and the harm it averts, by exact re-solves of its component."""
    required = set(problem.rules.required)
    for j in chosen:
        comp = int(scorer.component[j])
        if j in required or comp < 0:
            continue
        full = scorer.part(comp, chosen)
        without = scorer.part(comp, [c for c in chosen if c != j])
        if not stop.passes(
            newly_placed=without.unmet - full.unmet,
            harm_averted=without.harm - full.harm,
            places=float(problem.candidates.places[j]),
        ):
            return True
    return False


def pulp_plan(problem: SetProblem, stop: StoppingRule, solver: str) -> list[int]:
    """PuLP's plan under the stopping rule: fewer bases while one fails."""
    scorer = SetScorer(problem.demand, problem.existing, problem.candidates.sites)
    k = problem.rules.total()
    while True:
        chosen = pulp_select(problem, k, solver)
        if not _some_base_fails(scorer, problem, stop, chosen):
            return chosen
        k -= 1


def _cpu() -> float:
    """CPU seconds of this process and its finished children (CBC runs as a subprocess)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/examples/trafford.toml")
    parser.add_argument("--bases", type=int, nargs="+", default=[4, 8, 12])
    parser.add_argument("--solvers", nargs="*", default=["cbc", "highs"])
    parser.add_argument(
        "--set", nargs="*", default=[], metavar="KEY=VALUE",
        help="scenario settings, e.g. inputs.schools.capacity_from=default (GIAS's places)",
    )  # fmt: skip
    args = parser.parse_args()
    changes = dict(item.split("=", 1) for item in args.set)
    for bases in args.bases:
        problem, settings, stop = plan_problem(args.config, bases, changes)
        problem = replace(problem, rules=replace(problem.rules, k=bases))
        # The stopping rule alone: PuLP's loop does not repeat the occupancy rule's exclusions.
        stop = replace(stop, min_occupancy=0.0)
        started, cpu = time.perf_counter(), _cpu()
        ours = choose_set(problem, settings=settings, stop=stop)
        seconds, ours_cpu = time.perf_counter() - started, _cpu() - cpu
        harm = ours.scorer.harm(ours.chosen)
        counts = ", ".join(str(b) for b, *_ in ours.searches)
        print(
            f"{bases} bases asked: sitefinder {seconds:.2f} s ({ours_cpu:.2f} s CPU),"
            f" {len(ours.chosen)} kept (searched {counts}), harm {harm:.4f},"
            f" proven {ours.selection.proven}; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        for solver in args.solvers:
            started, cpu = time.perf_counter(), _cpu()
            theirs = pulp_plan(problem, stop, solver)
            other, other_cpu = time.perf_counter() - started, _cpu() - cpu
            value = ours.scorer.harm(theirs)
            agree = abs(value - harm) <= max(ABS_GAP, REL_GAP * harm)
            print(
                f"  PuLP+{solver}: {other:.2f} s ({other_cpu:.2f} s CPU), {len(theirs)} kept,"
                f" harm {value:.4f}, {'agree' if agree else 'DISAGREE'};"
                f" {other / seconds:.1f}x sitefinder's time ({other_cpu / ours_cpu:.1f}x its CPU)",
                flush=True,
            )


if __name__ == "__main__":
    main()
