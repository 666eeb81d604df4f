"""The plan on the demo and on Trafford: what it chooses, what the stopping rule keeps out,
the equivalent alternatives, the reasons for the sites left out, and how long each step takes.

Run with ``python benchmarks/bench_plan.py [--runs N]``. Trafford needs
``SITEFINDER_REAL_DATA`` (skipped without it). Each scenario is ranked twice to show that one
scenario gives one plan. Prints, per scenario: the plan (choice, school, harm averted, children
newly placed), bases stopped by the rule, the notes, the number of alternatives per choice and
the best three, the left-out reasons, the solver's proof, and the seconds spent in the greedy
evaluation, in choosing (every MIP of the stopping rule) and in the whole plan step.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from sitefinder import load_scenario, rank
from sitefinder.config import with_section
from sitefinder.resources import bundled_root, default_scenario_path


def _show(name: str, path: Path, runs: int) -> None:
    scenario = load_scenario(path)
    if runs:
        scenario = with_section(scenario, "robustness", runs=runs)
    start = time.perf_counter()
    result = rank(scenario)
    seconds = time.perf_counter() - start
    again = rank(scenario).plan
    plan = result.plan
    same = plan.chosen.equals(again.chosen) and plan.alternatives.equals(again.alternatives)
    print(f"== {name}: {plan.requested} new base(s) requested, {len(plan.chosen)} in the plan")
    print(f"   {plan.method}, {plan.proof()}; same plan when run again: {same}")
    for row in plan.chosen.itertuples():
        print(
            f"   #{row.choice} {row.name} ({row.urn}) {row.phase} {row.need_group}:"
            f" averts {row.harm_averted:.2f} harm points, newly places {row.newly_placed:.1f}"
        )
        print(f"      alternatives: {row.alternatives or 'none'}")
    counts = plan.alternatives.groupby("choice").size().to_dict()
    print(f"   alternatives per choice: {counts}")
    for row in plan.stopped.itertuples():
        print(
            f"   stopped in a set of {row.bases}: {row.name} ({row.urn}) {row.phase}"
            f" {row.need_group}, newly places {row.newly_placed:.1f}, averts"
            f" {row.harm_averted:.2f}"
        )
    for note in plan.notes:
        print(f"   note: {note}")
    for row in plan.left_out.itertuples():
        print(f"   left out {row.name} ({row.urn}): {row.reason}")
    below = int((~result.ranking["passes_rule"].astype(bool)).sum())
    print(f"   ranking rows below the stopping rule: {below} of {len(result.ranking)}")
    print(
        f"   seconds: evaluate {result.timings['evaluate']:.1f}, choose {plan.seconds:.1f},"
        f" plan step {result.timings['plan']:.1f}, whole rank {seconds:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=0, help="robustness runs")
    args = parser.parse_args()
    _show("demo", default_scenario_path(), args.runs)
    if os.environ.get("SITEFINDER_REAL_DATA"):
        trafford = bundled_root() / "configs" / "examples" / "trafford.toml"
        _show("Trafford", trafford, args.runs)
    else:
        print("== Trafford: skipped (set SITEFINDER_REAL_DATA)")


if __name__ == "__main__":
    main()
