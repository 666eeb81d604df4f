"""Do the children's journeys decide the plan? Journey harm, fallback journeys and the two parts.

Run with ``python benchmarks/bench_harm.py [--old] [--time-limit SECONDS]``. For the bundled
demo, and for Trafford when ``SITEFINDER_REAL_DATA`` names the shared data folder, it prints:

- total and journey harm before and after the plan, and the journey share of total harm;
- children sent past a nearer compatible base with spare places, today and with the plan
  (0 when every minute counts);
- the fallback method, and the mean fallback journey by phase (all children, and the children
  still without a base place after the plan);
- the plan's bases with harm averted in its two parts (placing + journeys);
- the run time.

``--old`` adds a run with the model before every-minute-counts and fallback journeys
(``harm.per_minute = 0``, ``fallback.method = "flat"``), for comparison.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from sitefinder import load_scenario, rank
from sitefinder.config import Scenario, with_section
from sitefinder.disclosure import format_count
from sitefinder.instance import build_instance, existing_sites
from sitefinder.model.network import children_passing_nearer, solve_network
from sitefinder.pipeline import RankResult
from sitefinder.resources import bundled_root, default_scenario_path


def _passing(result: RankResult) -> tuple[float, float]:
    """Children passing a nearer base with room, today and with the plan."""
    scenario, data = result.scenario, result.data
    instance = build_instance(scenario, data)
    today, _ = existing_sites(instance, scenario, data)
    before = solve_network(instance.rows, today)
    planned = [*today, *result.plan.sites]
    after = solve_network(instance.rows, planned)
    return children_passing_nearer(today, before), children_passing_nearer(planned, after)


def _fallback_minutes(result: RankResult) -> str:
    fallback = result.fallback
    if fallback.method == "flat":
        return f"flat: {result.scenario.harm.unmet:g} harm points per child, no journey"
    rows = build_instance(result.scenario, result.data).demand  # the fallback's rows
    phases, children = rows["phase"].to_numpy(), rows["children"].to_numpy(dtype=float)
    parts = []
    for phase in result.scenario.phases:
        weight = children[phases == phase]
        if weight.sum() <= 1e-9:
            continue
        mean = float(weight @ fallback.minutes[phases == phase] / weight.sum())
        far = float(weight[fallback.school[phases == phase] < 0].sum() / weight.sum())
        parts.append(f"{phase} mean {mean:.1f} min ({far:.0%} of children out of authority)")
    areas = result.areas
    unplaced = areas["unmet_after"].fillna(0.0)
    if unplaced.sum() > 1e-9:
        mean = float((unplaced * areas["fallback_minutes"].fillna(0.0)).sum() / unplaced.sum())
        parts.append(f"children still without a base place: area mean {mean:.1f} min")
    special = int((result.data.schools["establishment_group"] == "special").sum())
    return f"{fallback.method} ({special} special schools known): " + "; ".join(parts)


def report(label: str, scenario: Scenario) -> None:
    start = time.perf_counter()
    result = rank(scenario)
    seconds = time.perf_counter() - start
    before, after, plan = result.before, result.after, result.plan
    threshold = scenario.suppression_threshold
    print(f"== {label}: {scenario.name}")
    fallback = scenario.fallback
    penalty = (
        f"harm.unmet {scenario.harm.unmet:g}"
        if fallback.method == "flat"
        else f"mismatch {fallback.mismatch:g}"
    )
    print(
        f"  harm per minute {scenario.harm.per_minute:g}, fallback {fallback.method}"
        f" ({penalty}); {before.children:.1f} children, {before.placed:.1f} placed today,"
        f" {after.placed:.1f} with the plan"
    )
    print(
        f"  total harm {before.total_harm:.2f} -> {after.total_harm:.2f};"
        f" journey harm {before.journey_harm:.2f} -> {after.journey_harm:.2f};"
        f" journey share {before.journey_share:.1%} -> {after.journey_share:.1%}"
    )
    today, planned = _passing(result)
    print(
        f"  children sent past a nearer compatible base with spare places: today {today:.1f},"
        f" with the plan {planned:.1f}"
    )
    print(
        f"  mean journey of placed children {before.mean_minutes:.1f} -> {after.mean_minutes:.1f}"
        f" min; p95 {before.p95_minutes:.1f} -> {after.p95_minutes:.1f} min"
    )
    print(f"  fallback: {_fallback_minutes(result)}")
    how = "proven optimal" if plan.proven else f"gap {plan.gap:.2%}"
    print(f"  plan ({plan.method}, {how}): {len(plan.chosen)} base(s)")
    for row in plan.chosen.itertuples():
        print(
            f"    {row.choice}. {row.name} ({row.urn}) {row.phase}/{row.need_group}:"
            f" serves {format_count(float(row.children_served), threshold)},"
            f" newly placed {format_count(float(row.newly_placed), threshold)};"
            f" harm averted {row.harm_averted:.2f} = {row.harm_averted_placing:.2f} placing"
            f" {'+' if row.harm_averted_journeys >= 0 else '-'}"
            f" {abs(row.harm_averted_journeys):.2f} journeys;"
            f" minutes {row.minutes_before:.1f} -> {row.minutes_after:.1f}"
        )
    print(f"  run time {seconds:.1f} s (of which choosing the plan {plan.seconds:.1f} s)")


def _old(scenario: Scenario) -> Scenario:
    flat = with_section(scenario, "harm", per_minute=0.0)
    return with_section(flat, "fallback", method="flat")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old", action="store_true", help="also run the model before this")
    parser.add_argument("--time-limit", type=float, default=None, help="MIP seconds per plan")
    args = parser.parse_args()
    scenarios = [("demo", load_scenario(default_scenario_path()))]
    folder = os.environ.get("SITEFINDER_REAL_DATA")
    if folder and Path(folder).is_dir():
        trafford = bundled_root() / "configs" / "examples" / "trafford.toml"
        scenarios.append(("Trafford", load_scenario(trafford)))
    else:
        print("SITEFINDER_REAL_DATA is not set: Trafford skipped")
    for label, scenario in scenarios:
        if args.time_limit is not None:
            scenario = with_section(scenario, "selection", time_limit_seconds=args.time_limit)
        report(label, scenario)
        if args.old:
            report(f"{label}, old model", _old(scenario))


if __name__ == "__main__":
    main()
