"""Choose the plan: the best set of new bases that are all worth adding, explained.

Steps: every option in every size becomes a candidate (:mod:`.candidates`); the set is chosen
under the scenario's rules and the stopping rule (:mod:`.stopping`); each chosen base is
explained and the strongest sites left out get a true reason (:mod:`.explain`); equivalent
alternatives are found within the tie tolerance (:mod:`.ties`); and the choice is repeated
under noise (:mod:`.robustness`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import cast

import numpy as np
import pandas as pd

from sitefinder.config import Phase, Scenario
from sitefinder.costs.budget import budget_note
from sitefinder.disclosure import Rule, format_count
from sitefinder.model.network import Solution, solve_network
from sitefinder.model.scoring import SetScorer
from sitefinder.model.select import SelectionMethod, SolverSettings
from sitefinder.model.warm import read_warm
from sitefinder.plan.candidates import (
    Candidates,
    build_candidates,
    greedy_start,
    selection_rules,
)
from sitefinder.plan.explain import PlanView, chosen_table, left_out
from sitefinder.plan.result import ABS_GAP, REL_GAP, Plan, PlanInputs
from sitefinder.plan.stopping import SetProblem, Stopped, StoppingRule, choose_set
from sitefinder.plan.ties import alternatives_table, alternatives_text, find_alternatives
from sitefinder.stability.runs import robustness_runs
from sitefinder.stability.statement import sensitivity_table, stability_table

Progress = Callable[[str, int, int], None]

STOPPED_COLUMNS = [
    "bases", "urn", "name", "phase", "need_group", "places", "newly_placed", "harm_averted",
    "children_served", "reason",
]  # fmt: skip


def solver_settings(scenario: Scenario, method: SelectionMethod | str | None) -> SolverSettings:
    """The scenario's method (or ``method``), node limit and time safety net, with the plan's
    optimality tolerance (:data:`sitefinder.plan.result.ABS_GAP` harm points)."""
    return SolverSettings(
        method=SelectionMethod(method or scenario.selection.method),
        node_limit=scenario.selection.node_limit,
        time_limit=scenario.selection.time_limit_seconds,
        rel_gap=REL_GAP,
        abs_gap=ABS_GAP,
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _stopped_table(
    stopped: list[Stopped], candidates: Candidates, inputs: PlanInputs
) -> pd.DataFrame:
    names = inputs.schools.set_index("urn")["name"]
    records = []
    for item in stopped:
        option = inputs.options.iloc[int(candidates.option[item.candidate])]
        records.append(
            {
                "bases": item.bases,
                "urn": option["urn"],
                "name": names.get(option["urn"], ""),
                "phase": option["phase"],
                "need_group": option["need_group"],
                "places": int(candidates.places[item.candidate]),
                "newly_placed": item.newly_placed,
                "harm_averted": item.harm_averted,
                "children_served": item.served,
                "reason": item.reason,
            }
        )
    return pd.DataFrame.from_records(records, columns=STOPPED_COLUMNS)


def journey_slack(
    scenario: Scenario, table: pd.DataFrame, chosen: Sequence[int]
) -> tuple[dict[int, float], float]:
    """What the journeys' accuracy could move each chosen base's comparison by (harm points):
    its children x the harm of ``journey.accuracy()`` more minutes at their mean journey; and
    that accuracy (minutes)."""
    accuracy = scenario.journey.accuracy()
    slack: dict[int, float] = {}
    if table.empty:
        return slack, accuracy
    for c, row in zip(chosen, table.itertuples(), strict=True):
        minutes = float(row.minutes_after) if pd.notna(row.minutes_after) else 0.0
        curve = scenario.harm.curve(cast(Phase, str(row.phase)))
        per_child = float(curve(minutes + accuracy) - curve(minutes))
        slack[c] = float(row.children_served) * per_child
    return slack, accuracy


def _accuracy_notes(alternatives: pd.DataFrame, accuracy: float, scenario: Scenario) -> list[str]:
    """Say which chosen bases are tied with another within the accuracy of the journeys."""
    if alternatives.empty or "equivalent_by" not in alternatives.columns:
        return []
    loose = alternatives[alternatives["equivalent_by"] == "journey accuracy"]
    if loose.empty:
        return []
    method = {"crowfly": "crow-fly estimates", "network": "road-network routes"}.get(
        scenario.journey.method, "the journey matrix"
    )
    named = "; ".join(
        f"#{choice} {part['name'].iloc[0]}: {len(part)} ({part['alternative_name'].iloc[0]}"
        f" +{part['harm_difference'].iloc[0]:.2f} harm points)"
        for choice, part in loose.groupby("choice", sort=True)
    )
    return [
        f"Within the accuracy of the journeys (each child's journey within {accuracy:g} minutes"
        f" of the real one, {method}: journey.accuracy_minutes), these chosen bases have"
        f" equivalent alternatives, so the plan is proven optimal for the model, not for the"
        f" world: {named}."
    ]


def _notes(
    scenario: Scenario,
    searches: list[tuple[int, str, str, float]],
    stopped: pd.DataFrame,
    counts: tuple[int, int],
    unfillable: int = 0,
    stop: StoppingRule | None = None,
) -> list[str]:
    """Sentences about the plan; ``counts`` is (bases chosen, bases requested);
    ``unfillable`` the candidates the minimum occupancy left out from the start; ``stop`` the
    rule the set was chosen under (default the scenario's; with the cost objective's rule the
    ``harm_averted`` of ``stopped`` is what the base saves, £ thousands a year)."""
    threshold = scenario.count_threshold
    stop = stop or StoppingRule.from_scenario(scenario)
    by_cost = scenario.selection.objective == "cost"
    notes = []
    everything = stopped
    stopped = stopped[stopped["reason"] == "rule"] if len(stopped) else stopped
    if len(stopped) and by_cost:
        parts = [
            f"the {_ordinal(int(row.bases))} ({row.name}, {row.phase}"
            f" {scenario.group_label(str(row.need_group))}) would save"
            f" £{float(row.harm_averted) * 1000:,.0f} a year"
            for row in stopped.itertuples()
        ]
        notes.append(
            f"{counts[0]} of {counts[1]} requested new bases are worth adding: "
            + "; ".join(parts)
            + f' (the stopping rule of selection.objective = "cost": a new base must'
            f" {stop.describe(scenario.base_size, threshold)})."
        )
    elif len(stopped):
        parts = [
            f"the {_ordinal(int(row.bases))} ({row.name}, {row.phase}"
            f" {scenario.group_label(str(row.need_group))}) would"
            f" place {format_count(float(row.newly_placed), threshold)} children who had no"
            " base place"
            # Its harm with a withheld count of children could give that count back.
            + (
                f" and avert {row.harm_averted:.2f} harm points"
                if not Rule(threshold, 0.0).hides(float(row.newly_placed), "count")
                else ""
            )
            for row in stopped.itertuples()
        ]
        notes.append(
            f"{counts[0]} of {counts[1]} requested new bases are worth adding: "
            + "; ".join(parts)
            + f" (the stopping rule: a new base must place"
            f" {stop.describe(scenario.base_size, threshold)})."
        )
    occupancy = scenario.selection.min_occupancy
    kept = everything[everything["reason"] != "rule"] if len(everything) else everything
    if len(kept) or unfillable:
        parts = [
            f"{row.name} ({row.phase} {scenario.group_label(str(row.need_group))},"
            f" {int(row.places)} places) would serve"
            f" {format_count(float(row.children_served), threshold)} children"
            + (
                f" ({row.children_served / row.places:.0%} of its places)"
                if not Rule(threshold, 0.0).hides(float(row.children_served), "count")
                else ""
            )
            + (", so its smaller sizes were tried" if row.reason == "smaller" else "")
            for row in kept.itertuples()
        ]
        if unfillable:
            parts.append(
                f"{unfillable} candidate base(s) have fewer children within reach than"
                f" {occupancy:.0%} of their places, so never entered"
            )
        notes.append(
            f"Minimum occupancy (selection.min_occupancy = {occupancy:g}): a new base enters"
            f" only if the children it is expected to serve fill {occupancy:.0%} of its places;"
            " it kept out: " + "; ".join(parts) + "."
        )
    for bases, method, limit, gap in searches:
        which = f"The search for the best set of {bases} new base(s)"
        if limit == "time":
            before = "its node limit" if method == "optimal" else "its swaps were done"
            notes.append(
                f"{which} was stopped by the wall-clock safety net"
                f" (selection.time_limit_seconds = {scenario.selection.time_limit_seconds:g})"
                f" before {before}: another run may choose differently. Raise the limit."
            )
        elif limit == "budget":
            kept = "the greedy method's set" if method == "greedy" else "the exact search's best"
            notes.append(
                f"{which} was not proven optimal within the exact search's budget of method"
                f' "auto" on an instance this large, so {kept} is kept: its optimality gap is'
                f" {gap:.2%} (against the search's lower bound); every run stops at the same"
                " place. Use --method optimal to search on to the node limit."
            )
        elif limit == "nodes":
            notes.append(
                f"{which} stopped at its node limit (selection.node_limit ="
                f" {scenario.selection.node_limit}) with an optimality gap of {gap:.2%}; every"
                " run stops at the same place. Raise the limit to prove the set optimal."
            )
    return notes


def choose_plan(
    inputs: PlanInputs,
    scenario: Scenario,
    *,
    method: SelectionMethod | str | None = None,
    progress: Progress | None = None,
) -> tuple[Plan, Solution]:
    """Choose the plan's new bases, explain them, and test their robustness.

    Parameters
    ----------
    inputs
        The authority's arrays and tables (:class:`PlanInputs`).
    scenario
        ``bases`` or ``selection.counts``, the other ``selection.*`` rules (stopping rule,
        tie tolerance, limits) and ``robustness.*``.
    method
        Overrides ``selection.method``.
    progress
        Optional ``progress(message, done, total)`` callback for the robustness runs.

    Returns
    -------
    tuple
        The plan and the network solved with the plan's bases open.

    Raises
    ------
    ScenarioError
        When the selection rules cannot be met (e.g. more bases per group than candidates).
    """
    rows, existing = inputs.instance.rows, inputs.existing
    settings = solver_settings(scenario, method)
    candidates = build_candidates(scenario, inputs.options, inputs.option_sites)
    rules = selection_rules(scenario, inputs.options, candidates, inputs.greedy.standalone)
    problem = SetProblem(
        rows,
        existing,
        candidates,
        rules,
        greedy_start(inputs.greedy, candidates, scenario, rules.total()),
        today=inputs.greedy.standalone.today(),
    )
    started = time.perf_counter()
    stop = StoppingRule.from_scenario(scenario)
    by_cost = scenario.selection.objective == "cost"
    set_problem = problem
    if by_cost:  # the same model on the cost matrix; the plan is then explained on harm
        from sitefinder.costs.objective import cost_problem, objective_note

        set_problem, stop = cost_problem(problem, scenario, inputs.instance)
    chosen_set = choose_set(set_problem, settings=settings, stop=stop)
    seconds = time.perf_counter() - started
    names = inputs.schools.set_index("urn")["name"]
    budget = (
        budget_note(
            scenario,
            problem=set_problem,
            chosen=chosen_set,
            settings=settings,
            stop=stop,
            options=inputs.options,
            names=names,
            by_cost=by_cost,
        )
        if rules.budget is not None
        else None
    )
    trade_off = None
    if by_cost:  # the plan is explained on harm, beside what the harm objective would choose
        harm_scorer = SetScorer(rows, existing, candidates.sites, today=problem.today)
        trade_off = objective_note(
            scenario,
            harm_set=choose_set(
                problem, settings=settings, stop=StoppingRule.from_scenario(scenario)
            ),
            cost_set=chosen_set,
            harm_scorer=harm_scorer,
            candidates=candidates,
            options=inputs.options,
            names=names,
        )
        chosen_set = replace(chosen_set, scorer=harm_scorer)
    if chosen_set.rules is not None:  # any size a base was cut from is excluded
        rules = replace(rules, excluded=chosen_set.rules.excluded)
    selection, scorer = chosen_set.selection, chosen_set.scorer
    tolerance = scenario.selection.tie_tolerance
    # Choice 1 averts the most harm (ties keep the solver's order); the network is solved once,
    # in that order, so every explanation reads the same flows as the exported assignments.
    current = scorer.harm(chosen_set.chosen)
    averted = {
        c: scorer.harm([o for o in chosen_set.chosen if o != c]) - current
        for c in chosen_set.chosen
    }
    chosen = sorted(chosen_set.chosen, key=lambda c: -averted[c])
    after = (
        scorer.solution(chosen)
        if read_warm(rows)
        else solve_network(rows, [*existing, *(candidates.sites[c] for c in chosen)])
    )
    view = PlanView(candidates, rules, chosen, after, scorer, tolerance)
    table = chosen_table(inputs, scenario, view)
    greedy_set = greedy_start(inputs.greedy, candidates, scenario, len(chosen))
    greedy_objective = float("nan") if greedy_set is None else scorer.harm(greedy_set)
    robust = robustness_runs(
        inputs,
        scenario,
        replace(problem, start=chosen_set.first),
        settings=settings,
        progress=progress,
    )
    if not table.empty:
        table["robustness"] = table["urn"].map(robust.shares).fillna(0.0) if robust.runs else np.nan
    slack, accuracy = journey_slack(scenario, table, chosen)
    found = find_alternatives(scorer, candidates, rules, chosen, tolerance=tolerance, slack=slack)
    alternatives = alternatives_table(
        found, candidates, inputs.options, names, table,
        tie=[tolerance * averted[c] for c in chosen],
    )  # fmt: skip
    labels = {key: group.label for key, group in scenario.need_groups.items()}
    if not table.empty:
        table["alternatives"] = [
            alternatives_text(alternatives, row, labels=labels) for _, row in table.iterrows()
        ]
    stopped = _stopped_table(chosen_set.stopped, candidates, inputs)
    notes = _notes(
        scenario,
        chosen_set.searches,
        stopped,
        (len(chosen), rules.total()),
        chosen_set.unfillable,
        stop,
    )
    if by_cost:  # what the rule saw was money; the table's harm column says harm only
        stopped["harm_averted"] = np.nan
        if trade_off:
            notes.insert(0, trade_off)
        if robust.runs:
            notes.append(
                "The robustness runs (--runs) choose each run's set on harm, not on cost:"
                " their shares are of the harm objective's plans."
            )
    if budget is not None:
        notes.insert(0, budget)
    notes.extend(_accuracy_notes(alternatives, accuracy, scenario))
    if robust.time_limited:
        notes.append(
            f"{robust.time_limited} robustness run(s) were stopped by the wall-clock safety net"
            " (robustness.time_limit_seconds): their sets may differ from one run to the next."
        )
    plan = Plan(
        method=selection.method,
        objective=after.objective,
        greedy_objective=greedy_objective,
        gap=selection.gap,
        proven=selection.proven,
        seconds=seconds,
        chosen=table,
        left_out=left_out(inputs, scenario, view, table),
        robustness=robust.shares,
        runs=robust.runs,
        unproven_runs=robust.unproven,
        sites=[candidates.sites[c] for c in chosen],
        limit=selection.limit,
        requested=rules.total(),
        stopped=stopped,
        alternatives=alternatives,
        notes=notes,
        time_limited_runs=robust.time_limited,
        stability=stability_table(robust, names),
        sensitivity=sensitivity_table(robust, names),
    )
    return plan, after
