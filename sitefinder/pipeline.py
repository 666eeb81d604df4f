"""The whole ranking run: load -> validate -> demand -> supply -> travel -> model -> tables.

:func:`rank` is what ``sitefinder rank`` calls; it returns plain tables that the report and
export modules render. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np
import pandas as pd

from sitefinder.checks import InputSummary, check_inputs
from sitefinder.config import Scenario, groups_in
from sitefinder.costs import BusinessCase, plan_case
from sitefinder.costs.programme import programme_case
from sitefinder.disclosure import Rule, rule_for
from sitefinder.fallback import FallbackRows, special_school_table, where_unplaced
from sitefinder.instance import Instance, build_instance, existing_sites, site_at
from sitefinder.load import AuthorityData, load_inputs
from sitefinder.model.greedy import GreedyResult, Pick, Progress, greedy_order
from sitefinder.model.methods import SelectionMethod
from sitefinder.model.network import (
    DemandRows,
    Metrics,
    Site,
    Solution,
    metrics,
    solve_network,
)
from sitefinder.model.warm import read_warm
from sitefinder.plan import Plan, PlanInputs, StoppingRule, choose_plan
from sitefinder.programme import Sufficiency, sufficiency_of
from sitefinder.programme.beside import beside
from sitefinder.programme.pathway import pathways, programme_pathways
from sitefinder.programme.run import Forecast, asked_for, forecast, programme_of
from sitefinder.programme.schedule import Schedule
from sitefinder.supply import (
    HOSTABLE_PHASES,
    ages_text,
    assess,
    candidate_options,
    phase_ages,
    served_ages,
)
from sitefinder.travel import AreaJourneys

# check_inputs and InputSummary live in sitefinder.checks; importable from here as before.
__all__ = ["InputSummary", "RankResult", "check_inputs", "rank"]


@dataclass(frozen=True)
class RankResult:
    """Everything a ranking run produced, as tables ready to render or export.

    Attributes
    ----------
    ranking
        The greedy build order, one row per pick (``rank`` 1 first); ``in_plan`` marks the
        rows the plan adds. ``harm_averted`` (marginal) = ``harm_averted_placing`` (children
        newly placed x their mismatch penalty) + ``harm_averted_journeys`` (the change in
        journey harm, fallback journeys included).
    schools
        Every school with its eligibility, notes and standalone harm averted per phase and
        need group (``standalone_<phase>_<group>``), best option, and rank if picked with the
        marginal harm averted at that rank in its two parts (``harm_averted``,
        ``harm_averted_placing``, ``harm_averted_journeys``). Made when first read (it values
        every option alone: the outputs that list every school read it).
    sites
        The bases open after the plan: existing ones and the planned new ones.
    areas
        One row per area: children; mean journey minutes, harm, journey harm (journeys to
        bases and fallback journeys), unmet need (children without a base place) and children
        within the limit, ``_before`` and ``_after``; ``fallback_minutes`` (mean fallback
        journey, not with a flat fallback); and ``harm_averted`` in two parts,
        ``harm_averted_placing`` (the mismatch of the ``newly_placed`` children) and
        ``harm_averted_journeys``.
    assignments
        Children from each area to each base after the plan, with journey minutes.
    before, after
        Network metrics with today's bases and with the plan's new bases added.
    travel
        How journey minutes were found (the pairs within ``journey.max_minutes``).
    plan
        The chosen set of new bases, how it was chosen, and why.
    fallback
        Where each demand row's children go without a base place (the journey and its harm).
    model
        The arrays the plan was chosen from (:class:`sitefinder.plan.PlanInputs`: demand
        rows, today's bases, every option's site, the greedy order), for explanations that
        re-solve the network exactly (:func:`sitefinder.why.explain_school`).
    demand_notes
        How demand was cut into age bands and which existing bases serve only some ages.
    unplaced
        Where children without a base place go, today and with the plan
        (:func:`sitefinder.fallback.where_unplaced`): one row per network, area, phase, need
        group and destination (``kind``: a special school's places, or out of authority).
    special_schools
        Each special school and how the fallback used it: kind, phases, ages, needs, places
        and their source, and the children in its places today and with the plan.
    pathway
        Where each primary base's children can continue at 11
        (:func:`sitefinder.programme.pathway.pathways`).
    costs
        The plan's business case (:class:`sitefinder.costs.BusinessCase`): capital (£),
        revenue, the change in transport and placement costs and the net saving (£ a year),
        payback (years), per new base and in total, from the scenario's ``[costs]``.
    """

    scenario: Scenario
    data: AuthorityData
    ranking: pd.DataFrame
    school_scores: Callable[[], pd.DataFrame] = field(repr=False, compare=False)
    sites: pd.DataFrame
    areas: pd.DataFrame
    assignments: pd.DataFrame
    before: Metrics
    after: Metrics
    travel: AreaJourneys
    plan: Plan
    fallback: FallbackRows
    timings: dict[str, float] = field(default_factory=dict)
    supply_warnings: list[str] = field(default_factory=list)
    fallback_warnings: list[str] = field(default_factory=list)
    model: PlanInputs | None = field(default=None, repr=False, compare=False)
    demand_notes: list[str] = field(default_factory=list)
    unplaced: pd.DataFrame = field(default_factory=pd.DataFrame)
    special_schools: pd.DataFrame = field(default_factory=pd.DataFrame)
    projection: Sufficiency | None = field(default=None, repr=False, compare=False)
    pathway: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def programme(self) -> pd.DataFrame:
        """The programme: the new bases opened in each year of the horizon (``year, urn, name,
        phase, need_groups, places, children_expected, newly_placed, harm_averted``)."""
        return self.projection.programme if self.projection is not None else pd.DataFrame()

    @property
    def programme_years(self) -> pd.DataFrame:
        """The programme's years: ``year, bases_opened, places_opened, capital, children,
        unplaced_without, unplaced_with, harm_without, harm_with, harm_bound, gap_to_bound``
        (see :data:`sitefinder.programme.schedule.YEAR_COLUMNS`)."""
        return self.projection.years if self.projection is not None else pd.DataFrame()

    @property
    def stability(self) -> pd.DataFrame:
        """The stability statement (with robustness runs): one row per base in the plan or
        strongly in contention, ``urn, name, phase, need_group, in_plan, share_of_runs,
        flipped_by`` (the assumptions that flip it one at a time, in words)."""
        return self.plan.stability

    @property
    def sensitivity(self) -> pd.DataFrame:
        """The one-at-a-time sensitivity (with robustness runs): ``assumption, label, end,
        value, changed, enters, leaves, harm_averted, change, regret`` (harm points)."""
        return self.plan.sensitivity

    @property
    def sufficiency(self) -> pd.DataFrame:
        """The sufficiency statement: one row per year, phase and need group with
        ``children`` (projected to need a base place), ``places_today`` (and
        ``places_source``), ``places_added`` (the plan's) and ``gap``."""
        return self.projection.table if self.projection is not None else pd.DataFrame()

    costs: BusinessCase | None = None

    @cached_property
    def schools(self) -> pd.DataFrame:
        """Every school's scores (see the class docstring), made when first read."""
        return self.school_scores()

    @property
    def warnings(self) -> list[str]:
        """Problems that did not stop the run."""
        return [
            *self.data.warnings,
            *self.supply_warnings,
            *self.travel.warnings,
            *self.fallback_warnings,
        ]

    @property
    def notes(self) -> list[str]:
        """What the readers and the router did: files read, estimates, cache use."""
        return [
            *self.data.notes,
            *self.demand_notes,
            *self.travel.notes,
            *self.fallback.notes,
            *(self.projection.notes if self.projection is not None else []),
        ]

    @property
    def disclosure_rule(self) -> Rule:
        """The run's disclosure rule: its threshold and the harm of one child without a place.

        That harm (its fallback journey plus the mismatch, or the flat ``harm.unmet``; the
        largest over the demand rows, in harm points) is the per-child constant a reader could
        divide a harm figure by to count children; journeys to bases differ child by child.
        """
        unmet = self.fallback.unmet_harm
        most = float(unmet.max()) if len(unmet) else self.scenario.harm.unmet
        if self.model is not None:  # a special school's place may weigh more (extra harm)
            for site in self.model.instance.fallback_sites:
                most = max(most, float(site.harm.max(initial=0.0)))
        return rule_for(self.scenario, per_child=most)


def _row_totals(rows: DemandRows, solution: Solution) -> pd.DataFrame:
    n = len(rows)
    placed = np.bincount(solution.pair_row, weights=solution.flow, minlength=n)
    minutes = np.bincount(
        solution.pair_row, weights=solution.flow * solution.pair_minutes, minlength=n
    )
    within = np.bincount(
        solution.pair_row,
        weights=solution.flow * (solution.pair_minutes <= rows.limit_minutes[solution.pair_row]),
        minlength=n,
    )
    mismatch = solution.mismatch_harm(rows)
    harm = np.bincount(
        solution.pair_row, weights=solution.flow * solution.pair_harm, minlength=n
    ) + solution.unplaced_harm(rows)
    return pd.DataFrame(
        {
            "placed": placed,
            "minutes_sum": minutes,
            "within_limit": within,
            "unmet": solution.unmet,
            "harm": harm,
            "journey_harm": harm - mismatch,
            "mismatch_harm": mismatch,
        }
    )


def _unplaced_by_kind(fallback: pd.DataFrame) -> pd.DataFrame:
    """Each area's children without a base place after the plan, by where they go, and the
    mean journey of those with one (``fallback_minutes``)."""
    after = fallback[fallback["network"] == "plan"]
    wide = after.pivot_table(
        index="area_code", columns="kind", values="children", aggfunc="sum", fill_value=0.0
    )
    wide = wide.reindex(columns=list(UNPLACED_KINDS), fill_value=0.0)
    wide.columns = [f"unplaced_{kind}" for kind in UNPLACED_KINDS]
    timed = after[after["kind"] != "flat"]
    weight = timed["children"] * timed["minutes"]
    summed = weight.groupby(timed["area_code"]).sum()
    counted = timed.groupby("area_code")["children"].sum()
    wide["fallback_minutes"] = summed / counted.where(counted > 1e-9)
    return wide


UNPLACED_KINDS = (
    "special",
    "independent",
    "non_maintained",
    "base_cross_border",
    "out_of_authority",
)


def _area_table(
    model: Instance,
    data: AuthorityData,
    before: Solution,
    after: Solution,
    fallback: pd.DataFrame,
) -> pd.DataFrame:
    parts = []
    for label, solution in (("before", before), ("after", after)):
        totals = _row_totals(model.rows, solution)
        totals["area_code"] = model.demand["area_code"].to_numpy()
        summed = totals.groupby("area_code", sort=True).sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            summed["mean_minutes"] = summed["minutes_sum"] / summed["placed"].where(
                summed["placed"] > 1e-9
            )
        parts.append(
            summed[
                ["mean_minutes", "harm", "journey_harm", "mismatch_harm", "unmet", "within_limit"]
            ].add_suffix(f"_{label}")
        )
    children = model.demand.groupby("area_code", sort=True)["children"].sum()
    table = data.areas.set_index("area_code").join(children, how="left").join(parts, how="left")
    table["children"] = table["children"].fillna(0.0)
    table = table.join(_unplaced_by_kind(fallback), how="left")
    for kind in UNPLACED_KINDS:  # no child without a base place: none goes anywhere
        table[f"unplaced_{kind}"] = table[f"unplaced_{kind}"].fillna(0.0)
    if model.fallback.method == "flat":  # no fallback journey to average
        table = table.drop(columns=["fallback_minutes"])
    table["harm_averted"] = table["harm_before"].fillna(0.0) - table["harm_after"].fillna(0.0)
    table["newly_placed"] = table["unmet_before"].fillna(0.0) - table["unmet_after"].fillna(0.0)
    table["harm_averted_placing"] = table["mismatch_harm_before"].fillna(0.0) - table[
        "mismatch_harm_after"
    ].fillna(0.0)
    table["harm_averted_journeys"] = table["harm_averted"] - table["harm_averted_placing"]
    return table.drop(columns=["mismatch_harm_before", "mismatch_harm_after"]).reset_index()


def _assignment_table(model: Instance, solution: Solution, sites: pd.DataFrame) -> pd.DataFrame:
    """Children from each area to each base, one line per area, base, phase and need group
    (the age bands of a line are added together: a line's journey is the same for each)."""
    used = solution.flow > 1e-9
    pairs = pd.DataFrame(
        {
            "area_code": model.demand["area_code"].to_numpy()[solution.pair_row[used]],
            "phase": model.demand["phase"].to_numpy()[solution.pair_row[used]],
            "need_group": model.demand["need_group"].to_numpy()[solution.pair_row[used]],
            "site": solution.pair_site[used],
            "children": solution.flow[used],
            "minutes": solution.pair_minutes[used],
        }
    )
    pairs = pairs.groupby(["area_code", "site", "phase", "need_group"], as_index=False, sort=True)
    pairs = pairs.agg(children=("children", "sum"), minutes=("minutes", "first"))
    table = pairs.merge(sites[["urn", "kind"]], left_on="site", right_index=True)
    return table.sort_values(["area_code", "site", "phase", "need_group"]).reset_index(drop=True)


def _ranking_table(
    scenario: Scenario,
    schools: pd.DataFrame,
    options: pd.DataFrame,
    greedy: GreedyResult,
    plan: Plan,
) -> pd.DataFrame:
    picked = plan.chosen.reindex(columns=["urn", "phase", "need_group"])
    in_order = list(picked.itertuples(index=False, name=None))
    chosen = set(in_order)
    planned_at = {
        urn: (position, phase, group)
        for position, (urn, phase, group) in enumerate(in_order, start=1)
    }
    stop = StoppingRule.from_scenario(scenario)
    spans = phase_ages(scenario.inputs.demand.ages)
    records = []
    for rank, pick in enumerate(greedy.picks, start=1):
        option = options.iloc[pick.option]
        school = schools.iloc[int(option["school"])]
        ages = served_ages(school["first_age"], school["last_age"], [option["phase"]], spans)
        passes = stop.passes(
            newly_placed=pick.newly_placed,
            harm_averted=pick.marginal,
            places=scenario.base_size,
        )
        notes = [str(school["notes"])] if school["notes"] else []
        if not passes:
            notes.append("below the stopping rule")  # its figures are in the row's columns
        planned = planned_at.get(school["urn"])
        if planned is not None and planned[1:] != (option["phase"], option["need_group"]):
            # The set chosen together can give a school another base than its greedy pick.
            notes.append(
                f"the plan's base here is {planned[1]}:"
                f" {scenario.need_groups[planned[2]].label} (choice #{planned[0]})"
            )
        records.append(
            {
                "rank": rank,
                "urn": school["urn"],
                "name": school["name"],
                "phase": option["phase"],
                "need_group": option["need_group"],
                "need_group_label": scenario.group_label(option["need_group"]),
                "ages": ages_text(*ages),
                "harm_averted": pick.marginal,
                "harm_averted_placing": pick.mismatch_averted,
                "harm_averted_journeys": pick.journey_averted,
                "harm_averted_standalone": pick.standalone,
                "children_served": pick.served,
                "newly_placed": pick.newly_placed,
                "within_limit_gain": pick.within_limit_gain,
                "minutes_before": pick.minutes_before,
                "minutes_after": pick.minutes_after,
                "in_plan": (school["urn"], option["phase"], option["need_group"]) in chosen,
                "robustness": plan.robustness.get(school["urn"], 0.0) if plan.runs else np.nan,
                "passes_rule": passes,
                "notes": "; ".join(notes),
                "easting": school["easting"],
                "northing": school["northing"],
            }
        )
    return pd.DataFrame.from_records(
        records,
        columns=[
            "rank", "urn", "name", "phase", "need_group", "need_group_label", "ages",
            "harm_averted", "harm_averted_placing", "harm_averted_journeys",
            "harm_averted_standalone", "children_served", "newly_placed", "within_limit_gain",
            "minutes_before", "minutes_after", "in_plan", "robustness", "passes_rule", "notes",
            "easting", "northing",
        ],
    )  # fmt: skip


def _school_scores(
    assessed: pd.DataFrame, options: pd.DataFrame, greedy: GreedyResult, ranking: pd.DataFrame
) -> pd.DataFrame:
    scores = options.assign(standalone=greedy.standalone.all())
    wide = scores.pivot_table(
        index="school", columns=["phase", "need_group"], values="standalone", sort=True
    )
    wide.columns = [f"standalone_{p}_{g}" for p, g in wide.columns]
    best = scores.sort_values(["school", "standalone"], ascending=[True, False], kind="stable")
    best = best.drop_duplicates("school").set_index("school")
    table = assessed.join(wide)
    table["best_standalone"] = best["standalone"]
    table["best_phase"] = best["phase"]
    table["best_need_group"] = best["need_group"]
    picked = ranking.drop_duplicates("urn").set_index("urn")
    table["rank"] = table["urn"].map(picked["rank"]).astype("Int64")
    for column in ("harm_averted", "harm_averted_placing", "harm_averted_journeys"):
        table[column] = table["urn"].map(picked[column]).astype("float64")  # NaN unranked
    table["in_plan"] = table["urn"].isin(picked.index[picked["in_plan"].astype(bool)])
    return table


def rank(
    scenario: Scenario,
    *,
    method: SelectionMethod | str | None = None,
    progress: Progress | None = None,
    boundaries: bool = False,
    overlap: bool = True,
    greedy_steps: int = 0,
    greedy_until: Callable[[Sequence[Pick]], bool] | None = None,
) -> RankResult:
    """Rank candidate host schools for new inclusion bases.

    Parameters
    ----------
    scenario
        The validated scenario (see :func:`sitefinder.config.load_scenario`).
    method
        How the plan's set of new bases is chosen (default ``scenario.selection.method``).
    progress
        Optional ``progress(message, done, total)`` callback for the evaluation step.
    boundaries
        Read and check the areas' boundaries file with the other inputs (for the outputs that
        draw them: the GeoPackage, the map and the report); otherwise, when the areas come
        from their own table, it is read when first asked for.
    overlap
        Work the programme out on a second process while the ranking and the plan are
        chosen, where one can run (:func:`sitefinder.programme.beside.beside`); the same
        result either way.
    greedy_steps
        Make the greedy build order this many picks long when more than ``max(bases, top)``
        (a national authority's harm-by-number-of-bases curve).
    greedy_until
        Optional ``greedy_until(picks)``, called with the picks made after each once
        ``max(bases, top)`` are made: true ends the order there (the picks are those of the
        longer order's first steps).

    Returns
    -------
    RankResult
        The greedy build order (``max(bases, top)`` picks), every school's scores, the plan
        (the chosen set of new bases, explained), and the network before and after it.

    Raises
    ------
    DataError
        If any input file is missing or invalid (every problem listed).
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    data = load_inputs(scenario, defer_boundaries=not boundaries)
    timings["load"] = time.perf_counter() - start

    start = time.perf_counter()
    model = build_instance(scenario, data)
    existing, existing_table = existing_sites(model, scenario, data)
    assessment = assess(scenario, data.schools, data.bases)
    assessed = assessment.schools
    options = candidate_options(scenario, assessed)
    class_id = {c: i for i, c in enumerate(model.classes)}
    option_sites = [
        site_at(
            model,
            scenario,
            school=int(o.school),
            classes=frozenset(
                class_id[(o.phase, g)] for g in groups_in(o.need_group) if (o.phase, g) in class_id
            ),
            capacity=scenario.base_size,
        )
        for o in options.itertuples()
    ]
    timings["prepare"] = time.perf_counter() - start
    timings["travel"] = model.travel.seconds

    # The programme reads nothing of the ranking or the plan: it is worked out beside them,
    # on a second process where one can run (the same answer either way).
    programme = partial(
        _programme,
        scenario,
        data,
        model,
        existing=existing,
        existing_table=existing_table,
        options=options.assign(
            name=assessed["name"].to_numpy()[options["school"].to_numpy(dtype=int)]
        ),
        option_sites=option_sites,
    )
    with beside(programme, fork=overlap and asked_for(scenario)) as pending:
        start = time.perf_counter()
        least = max(scenario.bases, scenario.top)
        greedy = greedy_order(
            model.rows,
            existing,
            option_sites,
            steps=max(least, greedy_steps),
            owner=options["school"].tolist(),
            progress=progress,
            until=None if greedy_until is None else lambda p: len(p) >= least and greedy_until(p),
        )
        before_solution = (
            greedy.standalone.today().solution(existing)
            if read_warm(model.rows)
            else solve_network(model.rows, existing)
        )
        timings["evaluate"] = time.perf_counter() - start
        timings["evaluations"] = float(greedy.evaluations)

        start = time.perf_counter()
        inputs = PlanInputs(
            instance=model,
            schools=assessed,
            area_names=data.areas.set_index("area_code")["area_name"],
            options=options,
            option_sites=option_sites,
            existing=existing,
            greedy=greedy,
            before=before_solution,
            data=data,
        )
        plan, after_solution = choose_plan(inputs, scenario, method=method, progress=progress)
        timings["plan"] = time.perf_counter() - start

        ranking = _ranking_table(scenario, assessed, options, greedy, plan)
        sites = _sites_table(scenario, data, existing_table, plan)
        pathway = pathways(
            scenario,
            data,
            model,
            sites=[*existing, *plan.sites],
            table=_site_names(data, existing_table, len(model.fallback_sites), plan.chosen),
            after=after_solution,
        )
        first_site = len(existing) - len(model.fallback_sites)
        unplaced = pd.concat(
            [
                where_unplaced(model, before_solution, first_site=first_site, network="today"),
                where_unplaced(model, after_solution, first_site=first_site, network="plan"),
            ],
            ignore_index=True,
        )
        before, after = metrics(model.rows, before_solution), metrics(model.rows, after_solution)
        start = time.perf_counter()
        worked = pending.result()
        timings["programme_wait"] = time.perf_counter() - start
    projection = sufficiency_of(
        scenario,
        data,
        model,
        ahead=worked.ahead,
        planned=worked.planned,
        existing=existing,
        existing_table=existing_table,
        before=before_solution,
        chosen=plan.chosen,
    )
    if worked.pathway is not None:  # the programme's primary bases, on its last year's network
        seen = set(zip(pathway["urn"], pathway["need_group"], strict=True))
        later = worked.pathway
        later = later[[k not in seen for k in zip(later["urn"], later["need_group"], strict=True)]]
        pathway = pd.concat([pathway, later], ignore_index=True) if len(later) else pathway
    costs = plan_case(scenario, plan=plan, before=before, after=after, unplaced=unplaced)
    if worked.years is not None:
        costs = dataclasses.replace(costs, years=worked.years)
    return RankResult(
        scenario=scenario,
        data=data,
        ranking=ranking,
        school_scores=partial(_school_scores, assessed, options, greedy, ranking),
        sites=sites,
        areas=_area_table(model, data, before_solution, after_solution, unplaced),
        assignments=_assignment_table(model, after_solution, sites),
        before=before,
        after=after,
        travel=model.travel,
        plan=plan,
        fallback=model.fallback,
        timings=timings,
        supply_warnings=assessment.warnings,
        model=inputs,
        demand_notes=model.notes,
        unplaced=unplaced,
        special_schools=special_school_table(model.special, unplaced),
        projection=projection,
        fallback_warnings=model.special.warnings,
        pathway=pathway,
        costs=costs,
    )


@dataclass(frozen=True)
class _Worked:
    """The programme's part of a run: the forecast, the programme (None: none asked for),
    its primary bases' pathways and each of its years' business case (None: no year)."""

    ahead: Forecast | str
    planned: Schedule | None
    pathway: pd.DataFrame | None = None
    years: pd.DataFrame | None = None


def _programme(
    scenario: Scenario,
    data: AuthorityData,
    model: Instance,
    *,
    existing: Sequence[Site],
    existing_table: pd.DataFrame,
    options: pd.DataFrame,
    option_sites: Sequence[Site],
) -> _Worked:
    """The programme's part of a run, from what the run knows before its ranking and plan."""
    ahead = forecast(scenario, data)
    planned = programme_of(
        scenario, model, ahead, existing=existing, options=options, option_sites=option_sites
    )
    if planned is None or not planned.states:
        return _Worked(ahead, planned)
    later = programme_pathways(
        scenario,
        data,
        model,
        existing=existing,
        names=_site_names(data, existing_table, len(model.fallback_sites), pd.DataFrame()),
        last=planned.states[-1],
    )
    first_site = len(existing) - len(model.fallback_sites)
    years = programme_case(scenario, model, planned.states, first_site=first_site)
    return _Worked(ahead, planned, later, years)


def _site_names(
    data: AuthorityData, existing: pd.DataFrame, n_fallback: int, chosen: pd.DataFrame
) -> pd.DataFrame:
    """``urn, name, kind`` of each site as the plan's network numbers them: today's bases,
    the special schools' places, then the plan's new bases."""
    names = data.schools.set_index(data.schools["urn"].astype(str))["name"]
    today = pd.DataFrame(
        {
            "urn": existing.get("urn", pd.Series(dtype=str)).astype(str),
            "name": existing.get("base_name", pd.Series(dtype=str)).astype(str),
            "kind": "existing",
        }
    )
    special = pd.DataFrame({"urn": [""] * n_fallback, "name": "", "kind": "special"})
    new = pd.DataFrame({"urn": chosen.get("urn", pd.Series(dtype=str)).astype(str), "kind": "new"})
    new["name"] = new["urn"].map(names)
    return pd.concat([today, special, new], ignore_index=True)[["urn", "name", "kind"]]


def base_ages(
    scenario: Scenario, schools: pd.DataFrame, urns: Sequence[object], phases: Sequence[object]
) -> list[str]:
    """The ages (``4-6``) a base of each phase at each school serves: the ages its school
    teaches within the phase (every age of the phase when the school's are not known)."""
    spans = phase_ages(scenario.inputs.demand.ages)
    taught = schools.set_index(schools["urn"].astype(str))[["first_age", "last_age"]]
    out = []
    for urn, phase in zip(urns, phases, strict=True):
        served = [p for p in HOSTABLE_PHASES.get(str(phase), (str(phase),)) if p in spans]
        if not served or str(urn) not in taught.index:
            out.append("")
            continue
        first, last = taught.loc[str(urn)]
        out.append(ages_text(*served_ages(first, last, served, spans)))
    return out


def _sites_table(
    scenario: Scenario, data: AuthorityData, existing: pd.DataFrame, plan: Plan
) -> pd.DataFrame:
    chosen = plan.chosen
    new = pd.DataFrame(
        {
            "kind": "new",
            "urn": chosen.get("urn", pd.Series(dtype=str)),
            "base_name": [f"New base {c}" for c in chosen.get("choice", [])],
            "base_type": "new",
            "phase": chosen.get("phase", pd.Series(dtype=str)),
            "need_groups": chosen.get("need_group", pd.Series(dtype=str)),
            "capacity": chosen.get("places", pd.Series(dtype=float)).astype(float),
            "ages": base_ages(
                scenario, data.schools, chosen.get("urn", []), chosen.get("phase", [])
            ),
        }
    )
    for column in _EXPLANATION:
        if column in chosen.columns:
            new[column] = chosen[column].to_numpy()
    frames: Sequence[pd.DataFrame] = [f for f in (existing, new) if not f.empty]
    table = pd.concat(frames, ignore_index=True) if frames else new
    hosts = data.schools.set_index("urn")
    table["school_name"] = hosts.loc[table["urn"], "name"].to_numpy()
    table["easting"] = hosts.loc[table["urn"], "easting"].to_numpy()
    table["northing"] = hosts.loc[table["urn"], "northing"].to_numpy()
    return table


_EXPLANATION = [
    "children_served", "fill", "mix", "newly_placed", "harm_averted", "harm_averted_placing",
    "harm_averted_journeys", "minutes_before", "minutes_after", "areas_served", "greedy_rank",
    "robustness", "alternatives", "caveats",
]  # fmt: skip
