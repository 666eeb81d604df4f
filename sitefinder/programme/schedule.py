"""The programme: which new bases open in which year, as demand grows.

A stated heuristic, year by year (a rolling horizon): in each year the children projected for
that year (:mod:`sitefinder.programme.projection`) are set against today's bases and those
opened in earlier years (an opened base stays open, at most one new base a school), and that
year's new bases are chosen exactly as the single plan is (:func:`sitefinder.plan.choose_set`:
the exact selection, then the stopping rule and ``selection.min_occupancy`` in the year it
opens, a base its children would leave half empty cut to a smaller size of
``selection.sizes`` or kept out), of any need group or set of them
(``selection.need_group_sets``), within what is left of ``programme.capital_budget``.
``programme.bases`` says how many a year are sought: a number (then, as the single plan,
fewer when some fail the rules), or ``"auto"``: as many as pass the rules in that year's
greedy build order (at most :data:`AUTO_CAP`), each then placed exactly.

Each year's choice is optimal for that year given the years before, not over the horizon.
The gap to a bound says how much that costs at most: any programme with as many bases open
by each year (and no more capital spent by then) has, in each year, at least the least harm of
that many bases chosen for that year alone, from every candidate (the single-period optimum,
which drops the condition that bases stay open; its MIP's dual bound is used). So the sum of
those optima bounds every such programme's harm over the horizon from below, and the
programme's harm above it is at most what the heuristic gives away.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.costs.budget import candidate_costs
from sitefinder.disclosure import format_count
from sitefinder.instance import Instance
from sitefinder.model.benders import CutPool, Rules, benders
from sitefinder.model.greedy import greedy_order
from sitefinder.model.network import DemandRows, Site, Solution, solve_network
from sitefinder.model.scoring import SetScorer
from sitefinder.model.select import SelectionRules
from sitefinder.model.warm import ComponentTrials
from sitefinder.plan.candidates import Candidates, build_candidates
from sitefinder.plan.choose import solver_settings
from sitefinder.plan.explain import mix_text
from sitefinder.plan.stopping import SetProblem, Stopped, StoppingRule, choose_set

COLUMNS = [
    "year", "urn", "name", "phase", "need_groups", "need_group_label", "places",
    "children_expected", "fill", "mix", "newly_placed", "harm_averted", "capital",
]  # fmt: skip
"""The programme table: one row per base opened."""
YEAR_COLUMNS = [
    "year", "bases_opened", "places_opened", "capital", "children", "unplaced_without",
    "unplaced_with", "harm_without", "harm_with", "harm_bound", "gap_to_bound",
]  # fmt: skip
"""The programme's years: what opens, the children left without a base place and the harm,
without the programme (today's bases only) and with it, and the bound on that year's harm."""
AUTO_CAP = 10
"""New bases a year at most with ``programme.bases = "auto"`` (a bound on the search)."""
_SKIPS = 3
"""Picks of a year's greedy order passed over (failing the rules) before its count stops."""
_NAMED = 4  # bases a year's note names as kept out (the rest are counted)


@dataclass(frozen=True)
class Year:
    """One year of the programme, for its business case.

    Attributes
    ----------
    year
        The January census year.
    demand
        That year's demand rows.
    without, with_
        The network's optimum with today's bases only, and with the programme's bases open by
        then (sites numbered today's first, then the programme's in the order they opened).
    opened
        The programme's new bases open by then (rows of the programme table).
    sites
        The same bases as model sites, in the order ``with_`` numbers them after today's.
    """

    year: int
    demand: DemandRows
    without: Solution
    with_: Solution
    opened: pd.DataFrame
    sites: tuple[Site, ...] = ()


@dataclass(frozen=True)
class Schedule:
    """The programme: its bases, its years, its notes, and each year's networks."""

    table: pd.DataFrame
    years: pd.DataFrame
    notes: list[str]
    states: list[Year] = field(default_factory=list)
    added: pd.DataFrame = field(default_factory=pd.DataFrame)


def rows_of_year(
    instance: Instance, scenario: Scenario, projected: pd.DataFrame
) -> NDArray[np.float64]:
    """Children of each of the instance's demand rows in one year's projected demand.

    Children of a known age go to the row of their area, phase, need group and age band;
    those without an age are shared over their area, phase and need group's rows as today's.
    """
    groups = scenario.group_of_code()
    demand = instance.demand
    n = len(demand)
    out = np.zeros(n)
    key = pd.MultiIndex.from_arrays(
        [demand["area_code"].astype(str), demand["phase"], demand["need_group"]]
    )
    rows = pd.DataFrame(
        {
            "row": np.arange(n),
            "first": demand["first_age"].to_numpy(),
            "last": demand["last_age"].to_numpy(),
            "today": instance.rows.children,
        },
        index=key,
    )
    year = projected.assign(
        need_group=projected["need_code"].map(groups), area_code=projected["area_code"].astype(str)
    )
    aged = year[year["age"].notna()]
    if len(aged):
        joined = aged.merge(
            rows.reset_index(names=["area_code", "phase", "need_group"]),
            on=["area_code", "phase", "need_group"],
        )
        inside = (joined["age"] >= joined["first"]) & (joined["age"] <= joined["last"])
        joined = joined[inside]
        np.add.at(out, joined["row"].to_numpy(dtype=np.intp), joined["children"].to_numpy())
    unaged = year[year["age"].isna()].groupby(["area_code", "phase", "need_group"])["children"]
    for (area, phase, group), children in unaged.sum().items():
        if (area, phase, group) not in rows.index:
            continue
        mine = rows.loc[[(area, phase, group)]]
        today = mine["today"].to_numpy(dtype=float)
        share = today / today.sum() if today.sum() > 0 else np.full(len(mine), 1 / len(mine))
        np.add.at(out, mine["row"].to_numpy(dtype=np.intp), float(children) * share)
    return out


def _wanted(
    scenario: Scenario,
    stop: StoppingRule,
    demand: DemandRows,
    open_sites: Sequence[Site],
    sites: Sequence[Site],
    owner: list[int],
) -> tuple[int, list[int], str, ComponentTrials | None]:
    """How many new bases to seek this year, the greedy order's picks to start from, why the
    count stops (the first pick that fails the rules, in words; ``""`` when none), and the
    year's network as warm LPs (for the year's search to start from)."""
    bases = scenario.programme.bases
    cap = AUTO_CAP if bases == "auto" else int(bases)
    places = float(scenario.base_size)
    unplaced = max(float(demand.children.sum()) - sum(s.capacity for s in open_sites), 0.0)
    steps = min(cap + _SKIPS, math.ceil(unplaced / places) + _SKIPS)
    if cap == 0 or not sites:
        return 0, [], "", None
    # Only the picks' order, values and children served are read: each is described by its
    # warm component LP, and no pick's standalone value is needed.
    greedy = greedy_order(
        demand,
        list(open_sites),
        list(sites),
        steps=max(steps, 1),
        owner=owner,
        warm_picks=True,
        standalone_of_picks=False,
    )
    admitted = stop.admit(greedy.picks, places=places, refusals=_SKIPS)
    passing = [pick.option for pick in admitted.picks]
    why = ""
    if admitted.refused:
        _, pick, reason = admitted.refused[0]
        why = "the next base of the year's greedy order " + (
            f"would fill {pick.served / places:.0%} of its places"
            if reason == "occupancy"
            else f"would place {pick.newly_placed:.1f} children who had none and avert"
            f" {pick.marginal:.2f} harm points"
        )
    count = min(len(passing), cap) if bases == "auto" else cap
    return count, passing[:count], why, greedy.standalone.today()


BOUND_ROUNDS = 10
"""Sets the bound's Benders master proposes at most each year (a deterministic budget)."""
BOUND_NODES = 300
"""Branch-and-bound nodes the bound's master problems may use together each year."""


def _bound(
    scenario: Scenario,
    demand: DemandRows,
    existing: Sequence[Site],
    everything: Candidates,
    *,
    opened: Sequence[int],
    budget: float,
    today: ComponentTrials | None = None,
) -> float:
    """A lower bound on the harm of as many new bases as ``opened`` chosen for this year
    alone, from every candidate, within ``budget`` (harm points).

    Benders decomposition (:func:`sitefinder.model.benders.benders`) from the programme's own
    set, on a fixed budget of rounds and nodes: its master's bound holds for every such set,
    whether or not it meets the programme's harm (it does when the programme's set is that
    year's optimum and the search proves it). ``today`` is the year's network with
    ``existing`` open as warm LPs, when solved already (its LPs are copied, not solved again).
    """
    n = len(everything.sites)
    cost = np.asarray(candidate_costs(scenario, everything.places.tolist()))
    _, location = np.unique(np.asarray(everything.locations), return_inverse=True)
    start = np.zeros(n, dtype=bool)
    start[list(opened)] = True
    rules = Rules(
        group=np.zeros(n, dtype=np.intp),
        count=np.array([len(opened)], dtype=np.intp),
        location=location.astype(np.intp),
        required=np.zeros(n, dtype=bool),
        excluded=cost > budget + 1e-6 * max(budget, 1.0),
        cost=cost,
        budget=budget,
    )
    settings = solver_settings(scenario, "optimal")
    found = benders(
        CutPool(SetScorer(demand, list(existing), everything.sites, today=today)),
        rules,
        start,
        settings.limits(settings.time_limit),
        deadline=time.perf_counter() + settings.time_limit,
        rounds=BOUND_ROUNDS,
        nodes=BOUND_NODES,
    )
    return max(float(found.bound), 0.0) if math.isfinite(found.bound) else 0.0


def schedule(
    instance: Instance,
    scenario: Scenario,
    *,
    years: Sequence[int],
    projected: pd.DataFrame,
    existing: Sequence[Site],
    options: pd.DataFrame,
    option_sites: Sequence[Site],
) -> Schedule:
    """The bases opened in each year of the horizon, its years and notes on each.

    Parameters
    ----------
    instance, scenario
        The model instance and scenario.
    years
        The horizon (January census years).
    projected
        Projected demand (``year, area_code, phase, need_code, age, children``).
    existing
        Today's sites (bases and special schools' places): open in every year.
    options, option_sites
        Candidate new bases (``urn, name, phase, need_group, school``) and their sites.

    Returns
    -------
    Schedule
        The programme (:data:`COLUMNS`, one row per base opened), its years
        (:data:`YEAR_COLUMNS`), notes, each year's networks, and the places it adds by year,
        phase and need group (``year, phase, need_group, places``; a base of several needs
        lends its places to each in proportion to the children it serves in its first year).
    """
    stop = StoppingRule.from_scenario(scenario)
    settings = solver_settings(scenario, None)
    options = options.reset_index(drop=True)
    everything = build_candidates(scenario, options, option_sites)
    capital = np.asarray(candidate_costs(scenario, everything.places.tolist()))
    opened: list[Site] = []
    opened_idx: list[int] = []  # the same, as candidates of ``everything``
    taken: set[int] = set()  # schools with a programme base
    spent = 0.0
    records: list[dict[str, Any]] = []
    added: list[dict[str, object]] = []
    year_rows: list[dict[str, object]] = []
    states: list[Year] = []
    notes: list[str] = []
    classes = instance.classes
    for index, year in enumerate(years):
        children = rows_of_year(instance, scenario, projected[projected["year"] == year])
        demand = replace(instance.rows, children=children)
        assert isinstance(demand, DemandRows)
        open_sites = [*existing, *opened]
        opened_before = len(opened)  # the programme's bases open at the year's start
        budget = scenario.programme.budget_by(int(year)) - spent
        free = [i for i, school in enumerate(options["school"]) if int(school) not in taken]
        keep = [c for c in range(len(everything.sites)) if int(everything.option[c]) in set(free)]
        subset = everything.subset(keep)
        affordable = capital[np.isin(everything.option, free)]
        count, picks, why, today = _wanted(
            scenario,
            stop,
            demand,
            open_sites,
            [option_sites[i] for i in free],
            [int(options.at[i, "school"]) for i in free],
        )
        if math.isfinite(budget) and (not len(affordable) or affordable.min() > budget + 1e-6):
            if count:
                why = (
                    f"the capital budget (programme.capital_budget) has {_money(budget)} left,"
                    " under one base's capital"
                )
            count = 0
        chosen: list[int] = []
        solution: Solution | None = None
        stopped_words: list[str] = []
        own_bound = math.nan  # the first year's search bounds that year itself
        if count and len(subset.sites):
            start = [subset.of_option(free[p], scenario.base_size) for p in picks]
            rules = SelectionRules(
                k=count,
                locations=subset.locations,
                cost=candidate_costs(scenario, subset.places.tolist()),
                budget=None if math.isinf(budget) else max(budget, 0.0),
            )
            problem = SetProblem(demand, open_sites, subset, rules, start, today)
            if scenario.selection.objective == "cost":  # chosen on cost, reported on harm
                from sitefinder.costs.objective import cost_problem

                priced, rule = cost_problem(problem, scenario, instance)
                found = choose_set(priced, settings=settings, stop=rule)
                found = replace(
                    found, scorer=SetScorer(demand, open_sites, subset.sites, today=today)
                )
            else:
                found = choose_set(problem, settings=settings, stop=stop)
            chosen = found.chosen
            plain = found.rules is None or not found.rules.excluded  # no size cut away
            on_harm = scenario.selection.objective == "harm"  # else the search's figures are £
            if (
                index == 0
                and not opened
                and plain
                and on_harm
                and math.isfinite(found.selection.gap)
            ):
                own_bound = float(found.selection.objective) * (1.0 - found.selection.gap)
            named: dict[int, str] = {}  # each option once, as the largest set saw it
            for item in found.stopped:
                if item.reason != "smaller":
                    option = int(subset.option[item.candidate])
                    named.setdefault(option, _stopped_words(scenario, options, subset, item))
            stopped_words = list(named.values())
            full = found.scorer.score(chosen)
            solution = found.scorer.solution(chosen) if chosen else None
            first = len(open_sites)
            for i, c in enumerate(chosen):
                option = options.iloc[int(subset.option[c])]
                site = subset.sites[c]
                at = solution.pair_site == first + i if solution is not None else None
                rows = solution.pair_row[at] if solution is not None else np.zeros(0, np.intp)
                flow = solution.flow[at] if solution is not None else np.zeros(0)
                without = found.scorer.score([o for o in chosen if o != c])
                places = float(subset.places[c])
                cost = float(candidate_costs(scenario, [places])[0])
                records.append(
                    {
                        "year": int(year),
                        "urn": option["urn"],
                        "name": option["name"],
                        "phase": option["phase"],
                        "need_groups": option["need_group"],
                        "need_group_label": scenario.group_label(str(option["need_group"])),
                        "places": places,
                        "children_expected": float(flow.sum()),
                        "fill": float(flow.sum()) / places,
                        "mix": mix_text(
                            instance, rows, flow, scenario=scenario, classes=site.classes
                        ),
                        "newly_placed": max(without.unmet - full.unmet, 0.0),
                        "harm_averted": without.harm - full.harm,
                        "capital": cost,
                    }
                )
                added.extend(_lent(year, option["phase"], site, rows, flow, classes, instance))
                opened.append(site)
                opened_idx.append(keep[c])
                taken.add(int(option["school"]))
                spent += cost
        short = count - len(chosen)
        if math.isfinite(budget) and chosen and short > 0:
            left = budget - sum(float(r["capital"]) for r in records if r["year"] == int(year))
            why = (
                f"the capital budget (programme.capital_budget) left {_money(left)} this year:"
                f" it left out {short} more base(s) the year's rules would open"
            )
        # The year's networks, each solved once: with the programme's bases, the year's set
        # as its search left it; without, as warm LPs the bound starts from.
        with_ = solution if solution is not None else solve_network(demand, [*existing, *opened])
        # Before the programme opens anything the year's greedy order solved that network.
        reuse = today is not None and opened_before == 0
        alone = today if reuse and today is not None else ComponentTrials(demand, existing)
        without_ = alone.solution(existing)
        now = [r for r in records if r["year"] == int(year)]
        bound = (
            float(with_.objective)
            if not opened
            else own_bound
            if math.isfinite(own_bound)
            else _bound(
                scenario,
                demand,
                existing,
                everything,
                opened=opened_idx,
                budget=scenario.programme.budget_by(int(year)),
                today=alone,
            )
        )
        harm = float(with_.objective)
        year_rows.append(
            {
                "year": int(year),
                "bases_opened": len(now),
                "places_opened": float(sum(float(r["places"]) for r in now)),
                "capital": float(sum(float(r["capital"]) for r in now)),
                "children": float(children.sum()),
                "unplaced_without": float(without_.unmet.sum()),
                "unplaced_with": float(with_.unmet.sum()),
                "harm_without": float(without_.objective),
                "harm_with": harm,
                "harm_bound": min(bound, harm),
                "gap_to_bound": (harm - min(bound, harm)) / harm if harm > 1e-9 else 0.0,
            }
        )
        table_now = pd.DataFrame.from_records(records, columns=COLUMNS)
        states.append(Year(int(year), demand, without_, with_, table_now, tuple(opened)))
        notes.append(
            _year_note(scenario, int(year), now, float(with_.unmet.sum()), why, stopped_words)
        )
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    years_table = pd.DataFrame.from_records(year_rows, columns=YEAR_COLUMNS)
    notes.insert(0, _method_note(scenario, stop, years_table))
    return Schedule(
        table,
        years_table,
        notes,
        states,
        pd.DataFrame.from_records(added, columns=["year", "phase", "need_group", "places"]),
    )


def _lent(
    year: int,
    phase: str,
    site: Site,
    rows: NDArray[np.intp],
    flow: NDArray[np.float64],
    classes: Sequence[tuple[str, str]],
    instance: Instance,
) -> list[dict[str, object]]:
    """The places of a new base by need group: in proportion to the children of each it serves
    in its opening year (evenly when it serves none)."""
    groups = sorted({classes[c][1] for c in site.classes})
    served = dict.fromkeys(groups, 0.0)
    for row, n in zip(rows, flow, strict=True):
        served[classes[int(instance.rows.klass[row])][1]] += float(n)
    total = sum(served.values())
    return [
        {
            "year": year,
            "phase": phase,
            "need_group": g,
            "places": site.capacity * (served[g] / total if total > 1e-9 else 1 / len(groups)),
        }
        for g in groups
    ]


def _money(value: float) -> str:
    from sitefinder.columns import money

    return money(value)


def _stopped_words(
    scenario: Scenario, options: pd.DataFrame, subset: Candidates, item: Stopped
) -> str:
    threshold = scenario.count_threshold
    c = int(item.candidate)
    option = options.iloc[int(subset.option[c])]
    base = (
        f"{option['name']} ({option['phase']}"
        f" {scenario.group_label(str(option['need_group']))}, {int(subset.places[c])} places)"
    )
    if item.reason == "occupancy":
        return (
            f"{base} would serve {format_count(float(item.served), threshold)} children, under"
            " the minimum occupancy"
        )
    if scenario.selection.objective == "cost":
        return (
            f"{base} would save £{float(item.harm_averted) * 1000:,.0f} a year, under what it"
            " costs a year"
        )
    return (
        f"{base} would fail the stopping rule (placing"
        f" {format_count(float(item.newly_placed), threshold)} children who had none)"
    )


def _year_note(
    scenario: Scenario,
    year: int,
    now: list[dict[str, Any]],
    unplaced: float,
    why: str,
    stopped: list[str],
) -> str:
    threshold = scenario.count_threshold
    opened = (
        "opens "
        + "; ".join(
            f"{r['name']} ({r['phase']} {scenario.group_label(str(r['need_groups']))},"
            f" {int(float(r['places']))} places,"
            f" {_fill(float(r['children_expected']), float(r['places']), threshold)})"
            + _journeys_only(r, threshold)
            for r in now
        )
        if now
        else "opens no new base"
    )
    reasons = []
    if stopped:
        more = f"; and {len(stopped) - _NAMED} more" if len(stopped) > _NAMED else ""
        reasons.append("kept out: " + "; ".join(stopped[:_NAMED]) + more)
    if why:
        reasons.append(why)
    left = (
        f"; {format_count(unplaced, threshold)} children remain without a base place"
        + (f" ({', '.join(reasons)})" if reasons and unplaced > 1e-6 else "")
        if unplaced > 1e-6
        else "; every child has a base place"
    )
    return f"programme {year}: " + opened + left


def _journeys_only(row: dict[str, Any], threshold: int) -> str:
    """Said of a base that places few children who had none: it fills with children who had
    a place further away, so it opens for shorter journeys, not for places."""
    places, newly = float(row["places"]), float(row["newly_placed"])
    if places <= 0 or newly >= places / 4:
        return ""
    return (
        f", placing {format_count(newly, threshold)} children who had no base place: it"
        " opens to shorten journeys, not to add needed places"
    )


def _fill(children: float, places: float, threshold: int) -> str:
    """How full a base is, in words, without giving back a withheld count."""
    shown = format_count(children, threshold)
    if shown.startswith("fewer"):
        return f"{shown} children expected"
    return f"{shown} children expected, {children / places:.0%} full"


def _method_note(scenario: Scenario, stop: StoppingRule, years: pd.DataFrame) -> str:
    bases = scenario.programme.bases
    how = (
        'as many as pass the rules in that year\'s greedy order (programme.bases = "auto")'
        if bases == "auto"
        else f"{bases} sought each year (programme.bases), fewer where some fail the rules"
    )
    harm = float(years["harm_with"].sum()) if len(years) else 0.0
    bound = float(years["harm_bound"].sum()) if len(years) else 0.0
    gap = (harm - bound) / harm if harm > 1e-9 else 0.0
    objective = (
        '. On selection.objective = "cost", each year\'s set is the one with the least net'
        " annual cost to the authority (each base saving at least what it costs a year); its"
        " harm is reported and bounded as above, so the gap also holds the harm the cost"
        " objective gives up"
        if scenario.selection.objective == "cost"
        else ""
    )
    return (
        "programme: year by year, the best set of new bases for that year's children given the"
        " bases opened before (exact selection, then the stopping rule and the minimum"
        f" occupancy of {stop.min_occupancy:.0%} in the year each opens; {how}); an opened base"
        " stays open. A stated heuristic (each year optimal given the years before, not over"
        f" the horizon): its harm over the years, {harm:.2f} harm points, is within"
        f" {gap:.2%} of a bound no programme with as many bases open each year could beat"
        f" ({bound:.2f}: each year's own optimum, bases free to move between years and free"
        " of the stopping rule and the minimum occupancy, so the gap holds what those rules"
        " give up as well as what the year-by-year choice may)" + objective
    )
