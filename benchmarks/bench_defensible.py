"""A plan a planner can defend (issue 11's "Done when"), one ``rank`` per authority.

Run with ``python benchmarks/bench_defensible.py [--again] [--runs N] [--old]
[--time-limit SECONDS]``. For the bundled demo, and for Trafford and Rutland when
``SITEFINDER_REAL_DATA`` names the shared data folder, it prints from one run each:

- demand by phase (children needing a base place) against the children SEN2 places in
  mainstream resourced provision or SEN units at those ages;
- existing places by phase (and how many were assumed for want of a recorded capacity)
  against the same SEN2 children;
- total and journey harm before and after the plan, and the journey share of total harm;
- children sent past a nearer compatible base with spare places, today and with the plan
  (it must be 0);
- the fallback: where a child without a base place goes, and the mean fallback journey;
- the plan (its proof, each base with harm averted in its two parts) with its equivalent
  alternatives, the bases the stopping rule kept out, the plan's notes and the left-out reasons;
- run time: the whole ``rank``, and its load, travel, evaluate and plan steps.

``--again`` ranks a second time and says whether the plan is the same (one scenario, one
plan); ``--runs N`` adds N robustness runs; ``--old`` adds a run with the model before
every-minute-counts and fallback journeys (``harm.per_minute = 0``, ``fallback.method =
"flat"``) for comparison. The same figures on SEN2's own files and share options are in
``bench_demand.py``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from sitefinder import load_scenario, rank, with_settings
from sitefinder.columns import PLAN, STOPPED, protected, text_value
from sitefinder.config import Scenario
from sitefinder.demand import demand_by_phase
from sitefinder.disclosure import format_count
from sitefinder.instance import build_instance, existing_sites
from sitefinder.model.network import children_passing_nearer, solve_network
from sitefinder.pipeline import RankResult
from sitefinder.readers.sen2 import caseload_of, read_sen2
from sitefinder.report import plan_frame
from sitefinder.resources import bundled_root, default_scenario_path
from sitefinder.validate import Problems

ORIGIN = "bench_defensible.py"


def _sen2_in_bases(scenario: Scenario) -> tuple[dict[str, float], str] | None:
    """SEN2's children in mainstream bases by phase, and the caseload's year and name."""
    spec = scenario.inputs.demand
    authority = spec.authority or scenario.sen2_authority
    if spec.sen2_caseload is None or authority is None:
        return None
    problems = Problems()
    file = read_sen2(spec.sen2_caseload, problems, kind="caseload")
    caseload = caseload_of(file, authority, problems) if file is not None else None
    if caseload is None or caseload.age_year is None:
        return None
    children = {phase: caseload.in_bases_at(low, high) for phase, (low, high) in spec.ages.items()}
    return children, f"SEN2 January {caseload.age_year}, {caseload.name or authority}"


def _demand_and_places(result: RankResult) -> list[str]:
    scenario, data = result.scenario, result.data
    threshold = scenario.suppression_threshold
    sen2 = _sen2_in_bases(scenario)
    demand = demand_by_phase(data.demand)
    bases = data.bases
    places = bases.groupby("phase")["capacity"].sum()
    assumed = int(bases["capacity_assumed"].sum()) if "capacity_assumed" in bases else 0
    share = scenario.inputs.demand.share if scenario.inputs.demand.method == "modelled" else None
    how = f"{scenario.inputs.demand.method}" + (f", share {share!r}" if share is not None else "")
    lines = []
    if sen2 is None:
        lines.append(f"demand ({how}), no SEN2 caseload given to check it against:")
        for phase in scenario.phases:
            lines.append(f"  {phase:10} {float(demand.get(phase, 0.0)):7.1f} children")
    else:
        children, source = sen2
        lines.append(f"demand ({how}) against children in mainstream bases today ({source}):")
        for phase, (low, high) in scenario.inputs.demand.ages.items():
            modelled = float(demand.get(phase, 0.0))
            today = children[phase]
            off = f" ({modelled / today - 1:+.1%})" if today > 0 else ""
            lines.append(
                f"  {phase:10} ages {low}-{high}: {modelled:7.1f} modelled,"
                f" SEN2 {format_count(today, threshold)}{off}"
            )
    lines.append(
        f"existing places: {bases['capacity'].sum():.0f} in {len(bases)} bases"
        f" ({assumed} with places assumed, {scenario.inputs.schools.default_base_capacity} each"
        f" unless scaled); by phase: "
        + ", ".join(f"{phase} {value:.0f}" for phase, value in places.items())
        + (
            "; SEN2 children in bases: "
            + ", ".join(f"{p} {format_count(v, threshold)}" for p, v in sen2[0].items())
            if sen2 is not None
            else ""
        )
    )
    return lines


def _passing(result: RankResult) -> tuple[float, float]:
    """Children passing a nearer compatible base with room, today and with the plan."""
    scenario, data = result.scenario, result.data
    instance = build_instance(scenario, data)  # journeys come from the cache
    today, _ = existing_sites(instance, scenario, data)
    planned = [*today, *result.plan.sites]
    return (
        children_passing_nearer(today, solve_network(instance.rows, today)),
        children_passing_nearer(planned, solve_network(instance.rows, planned)),
    )


def _fallback(result: RankResult) -> str:
    fallback = result.fallback
    if fallback.method == "flat":
        return f"flat: {result.scenario.harm.unmet:g} harm points per child, no journey"
    assert result.model is not None
    today = result.unplaced[result.unplaced["network"] == "today"]
    parts = []
    for phase in result.scenario.phases:
        mine = today[today["phase"] == phase]
        weight = mine["children"].to_numpy(dtype=float)
        if weight.sum() <= 1e-9:
            continue
        mean = float(weight @ mine["minutes"].to_numpy(dtype=float) / weight.sum())
        far = float(weight[(mine["kind"] == "out_of_authority").to_numpy()].sum() / weight.sum())
        parts.append(f"{phase} today mean {mean:.1f} min ({far:.0%} out of authority)")
    areas = result.areas
    unplaced = areas["unmet_after"].fillna(0.0)
    if unplaced.sum() > 1e-9:
        mean = float((unplaced * areas["fallback_minutes"].fillna(0.0)).sum() / unplaced.sum())
        parts.append(f"children still without a base place: {mean:.1f} min")
    special = len(result.model.instance.special.used)
    return (
        f"{fallback.method}, mismatch {result.scenario.fallback.mismatch} harm points"
        f" ({special} special schools' places): " + "; ".join(parts)
    )


def _plan(result: RankResult) -> list[str]:
    plan = result.plan
    lines = [
        f"plan: {len(plan.chosen)} of {plan.requested} new base(s) requested, {plan.method},"
        f" {plan.proof()}"
    ]
    # Figures through the one disclosure path, as every output shows them.
    chosen = plan_frame(result)
    for row in chosen.itertuples():
        shown = {c.key: text_value(getattr(row, c.key), c, empty="none") for c in PLAN}
        journeys = shown["harm_averted_journeys"]
        lines.append(
            f"  {row.choice}. {row.name} ({row.urn}) {row.phase}/{row.need_group}: serves"
            f" {shown['children_served']}, newly places {shown['newly_placed']}; averts"
            f" {shown['harm_averted']} = {shown['harm_averted_placing']} placing"
            f" {journeys if journeys.startswith(('-', 'c')) else '+' + journeys} journeys;"
            f" mean minutes of its children {shown['minutes_before']} ->"
            f" {shown['minutes_after']}"
        )
        same = plan.alternatives[plan.alternatives["choice"] == row.choice]
        if same.empty:
            lines.append("     equivalent alternatives: none")
        else:
            best = same.nsmallest(3, "harm_difference")
            shown = "; ".join(
                f"{a.alternative_name} (+{a.harm_difference:.2f})" for a in best.itertuples()
            )
            lines.append(f"     equivalent alternatives: {len(same)}, best {shown}")
    if plan.stopped.empty:
        lines.append("bases stopped by the rule: none")
    stopped = protected(plan.stopped, STOPPED, result.disclosure_rule)
    for row in stopped.itertuples():
        shown = {c.key: text_value(getattr(row, c.key), c) for c in STOPPED if hasattr(row, c.key)}
        lines.append(
            f"stopped by the rule (in a set of {row.bases}): {row.name} ({row.urn})"
            f" {row.phase}/{row.need_group}, newly places {shown['newly_placed']},"
            f" averts {shown['harm_averted']}"
        )
    below = int((~result.ranking["passes_rule"].astype(bool)).sum())
    lines.append(f"ranking rows below the stopping rule: {below} of {len(result.ranking)}")
    lines += [f"note: {note}" for note in plan.notes]
    lines += [f"left out {r.name} ({r.urn}): {r.reason}" for r in plan.left_out.itertuples()]
    return lines


def report(label: str, scenario: Scenario, *, again: bool) -> None:
    start = time.perf_counter()
    result = rank(scenario)
    seconds = time.perf_counter() - start
    before, after, timings = result.before, result.after, result.timings
    print(f"== {label}: {scenario.name} ({scenario.journey.method} journeys)")
    lines = _demand_and_places(result)
    lines.append(
        f"children {before.children:.1f}: {before.placed:.1f} in a base today,"
        f" {after.placed:.1f} with the plan"
    )
    lines.append(
        f"harm (per minute {scenario.harm.per_minute:g}): total {before.total_harm:.2f} ->"
        f" {after.total_harm:.2f}; journeys {before.journey_harm:.2f} -> {after.journey_harm:.2f};"
        f" journey share {before.journey_share:.1%} -> {after.journey_share:.1%}"
    )
    today, planned = _passing(result)
    lines.append(
        f"children sent past a nearer compatible base with spare places: today {today:.1f},"
        f" with the plan {planned:.1f}"
    )
    lines.append(
        f"mean journey of children in a base {before.mean_minutes:.1f} -> {after.mean_minutes:.1f}"
        f" min; 95th percentile {before.p95_minutes:.1f} -> {after.p95_minutes:.1f} min"
    )
    lines.append(f"fallback: {_fallback(result)}")
    lines += _plan(result)
    lines.append(
        f"run time: rank {seconds:.1f} s (load {timings.get('load', 0.0):.1f}, travel"
        f" {timings.get('travel', 0.0):.1f}, evaluate {timings.get('evaluate', 0.0):.1f}, plan"
        f" {timings.get('plan', 0.0):.1f} of which choosing {result.plan.seconds:.1f})"
    )
    if again:
        start = time.perf_counter()
        other = rank(scenario).plan
        same = result.plan.chosen.equals(other.chosen) and result.plan.alternatives.equals(
            other.alternatives
        )
        lines.append(
            f"ranked again in {time.perf_counter() - start:.1f} s: same plan and alternatives:"
            f" {same}"
        )
    print("\n".join(f"  {line}" for line in lines))


def _scenarios() -> list[tuple[str, Scenario]]:
    found = [("demo", load_scenario(default_scenario_path()))]
    folder = os.environ.get("SITEFINDER_REAL_DATA")
    if folder and Path(folder).is_dir():
        examples = bundled_root() / "configs" / "examples"
        found += [
            ("Trafford", load_scenario(examples / "trafford.toml")),
            ("Rutland", load_scenario(examples / "rutland.toml")),
        ]
    else:
        print("SITEFINDER_REAL_DATA is not set: Trafford and Rutland skipped")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--again", action="store_true", help="rank twice: the same plan?")
    parser.add_argument("--runs", type=int, default=0, help="robustness runs")
    parser.add_argument("--old", action="store_true", help="also run the model before this")
    parser.add_argument("--time-limit", type=float, default=None, help="MIP seconds per plan")
    args = parser.parse_args()
    for label, scenario in _scenarios():
        settings = {
            "robustness.runs": args.runs or None,
            "selection.time_limit_seconds": args.time_limit,
        }
        scenario = with_settings(scenario, settings, origin=ORIGIN)
        report(label, scenario, again=args.again)
        if args.old:
            old = {"harm.per_minute": 0.0, "fallback.method": "flat"}
            report(f"{label}, old model", with_settings(scenario, old, origin=ORIGIN), again=False)


if __name__ == "__main__":
    main()
