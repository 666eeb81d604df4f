"""The best set of new bases: choose it, explain each choice, and test how robust it is.

The ranking answers "which school next"; the plan answers "where should our K new bases go".
It is chosen by :func:`sitefinder.model.select.select_sites` (an exact mixed-integer programme
or greedy plus interchange), explained site by site (areas and children served, minutes before
and after, harm averted), contrasted with the strongest candidates left out, and re-chosen under
seeded noise on demand and harm parameters to show how often each site survives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.disclosure import format_count
from sitefinder.errors import ScenarioError
from sitefinder.fallback import fallback_harm
from sitefinder.instance import Instance, site_at
from sitefinder.model.greedy import GreedyResult
from sitefinder.model.network import (
    DemandRows,
    Site,
    Solution,
    mismatch_averted,
    row_mean_minutes,
    solve_network,
)
from sitefinder.model.select import Method, Selection, select_sites
from sitefinder.supply import HOSTABLE_PHASES

Progress = Callable[[str, int, int], None]
_SHOWN_AREAS = 5
_LEFT_OUT = 5
_OVERLAP = 0.5  # share of a candidate's children that a chosen site also reaches
# Robustness runs stop within 0.5% of their optimum: far inside the noise they are testing.
_ROBUST_GAP = 0.005
_IDLE = 1e-6  # harm points: a chosen base averting less than this is left out of the plan
_CONTENDERS = 30  # candidates per group kept in contention for robustness runs


@dataclass(frozen=True)
class Plan:
    """The chosen set of new bases and everything that explains it.

    Attributes
    ----------
    method
        The method that ran: ``optimal`` (HiGHS MIP) or ``greedy`` (greedy plus interchange).
    objective
        Total harm points with the chosen set open.
    greedy_objective
        Total harm points with the greedy build order's first bases instead (NaN when
        ``selection.counts`` fixes the mix, which the build order does not follow).
    gap
        Relative optimality gap of the MIP (0 when proven optimal; NaN for the heuristic).
    proven
        Whether the set is proven optimal.
    seconds
        Time spent choosing (seconds).
    chosen
        One row per new base: ``choice, urn, name, phase, need_group, need_group_label,
        places, children_served, newly_placed, harm_averted, harm_averted_placing,
        harm_averted_journeys, minutes_before, minutes_after, areas_served, greedy_rank,
        robustness``. Harm averted (what the plan would lose without the base) is in two
        parts: placing (children newly placed x their mismatch penalty) and journeys (the
        change in journey harm, fallback journeys included).
    left_out
        The strongest candidates not chosen: ``urn, name, phase, need_group,
        harm_averted_standalone, reason``.
    robustness
        Share of robustness runs in which each school (URN) hosts a chosen base.
    runs
        Robustness runs made.
    unproven_runs
        Runs stopped by their time limit before proving their set within 0.5% of optimal.
    sites
        The chosen bases as model sites (for the network after the plan).
    """

    method: str
    objective: float
    greedy_objective: float
    gap: float
    proven: bool
    seconds: float
    chosen: pd.DataFrame
    left_out: pd.DataFrame
    robustness: pd.Series
    runs: int
    unproven_runs: int
    sites: list[Site]


@dataclass(frozen=True)
class _Candidates:
    """Every base the plan may open: each option (school x phase x group) in each size."""

    sites: list[Site]
    option: NDArray[np.intp]
    places: NDArray[np.int64]
    locations: list[int]
    labels: list[str]


def _candidates(
    scenario: Scenario, options: pd.DataFrame, option_sites: Sequence[Site]
) -> _Candidates:
    sizes = scenario.selection.sizes or [scenario.base_size]
    sites, option, places = [], [], []
    for index, site in enumerate(option_sites):
        for size in sizes:
            sites.append(dataclasses.replace(site, capacity=float(size)))
            option.append(index)
            places.append(size)
    chosen_option = np.asarray(option, dtype=np.intp)
    schools = options["school"].to_numpy()[chosen_option]
    labels = (options["phase"] + "/" + options["need_group"]).to_numpy()[chosen_option]
    return _Candidates(
        sites,
        chosen_option,
        np.asarray(places, dtype=np.int64),
        [int(s) for s in schools],
        [str(x) for x in labels],
    )


def _rules(
    scenario: Scenario, options: pd.DataFrame, candidates: _Candidates, standalone: NDArray
) -> dict[str, object]:
    rules: dict[str, object] = {}
    counts = scenario.selection.counts
    allowed = np.ones(len(candidates.sites), dtype=bool)
    if counts:
        wanted = {
            f"{phase}/{group}": n for phase, groups in counts.items() for group, n in groups.items()
        }
        # Every phase and group without a count gets none.
        rules["per_group"] = {label: wanted.get(label, 0) for label in set(candidates.labels)}
        rules["groups"] = candidates.labels
        allowed = np.array([wanted.get(label, 0) > 0 for label in candidates.labels], dtype=bool)
    else:
        rules["k"] = scenario.bases
    required = []
    problems = []
    urns = options["urn"].to_numpy()[candidates.option]
    for urn in scenario.selection.required_urns:
        mine = np.flatnonzero((urns == urn) & allowed)
        if not len(mine):
            problems.append(
                f"selection.required_urns: {urn} is not an eligible candidate (see its notes in"
                " the GeoPackage candidates layer, or remove it)"
            )
            continue
        # The school's strongest option, in the scenario's base size when that is offered.
        best = mine[np.argmax(np.nan_to_num(standalone[candidates.option[mine]], nan=-1.0))]
        same = mine[candidates.option[mine] == candidates.option[best]]
        sized = same[candidates.places[same] == scenario.base_size]
        required.append(int(sized[0] if len(sized) else same[0]))
    if problems:
        raise ScenarioError(problems)
    rules["required"] = required
    return rules


def _select(
    rows: DemandRows,
    existing: Sequence[Site],
    candidates: _Candidates,
    rules: dict[str, object],
    *,
    method: Method,
    time_limit: float,
    start: Sequence[int] | None = None,
    rel_gap: float = 1e-6,
) -> Selection:
    try:
        return select_sites(
            rows,
            existing,
            candidates.sites,
            locations=candidates.locations,
            method=method,
            time_limit=time_limit,
            start=start,
            rel_gap=rel_gap,
            **rules,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise ScenarioError(f"selection: {exc}") from None


def _drop_idle(
    rows: DemandRows,
    existing: Sequence[Site],
    candidates: _Candidates,
    selection: Selection,
    required: Sequence[int],
) -> tuple[list[int], Solution]:
    """Leave out chosen bases that avert no harm (the count asked for may exceed the need).

    Required bases stay whatever they avert.
    """
    chosen = [int(c) for c in selection.chosen]
    after = solve_network(rows, [*existing, *(candidates.sites[c] for c in chosen)])
    while True:
        optional = [c for c in chosen if c not in required]
        losses = []
        for c in optional:
            others = [candidates.sites[o] for o in chosen if o != c]
            losses.append(solve_network(rows, [*existing, *others]).objective - after.objective)
        if not losses or min(losses) > _IDLE:
            break
        chosen.remove(optional[int(np.argmin(losses))])
        after = solve_network(rows, [*existing, *(candidates.sites[c] for c in chosen)])
    return chosen, after


def _greedy_start(
    greedy: GreedyResult, candidates: _Candidates, scenario: Scenario
) -> list[int] | None:
    if scenario.selection.counts:
        return None
    start = []
    for pick in greedy.picks[: scenario.bases]:
        mine = np.flatnonzero(candidates.option == pick.option)
        sized = mine[candidates.places[mine] == scenario.base_size]
        start.append(int(sized[0] if len(sized) else mine[0]))
    return start if len(start) == scenario.bases else None


def _areas_text(
    instance: Instance, area_names: pd.Series, rows: NDArray, children: NDArray, threshold: int
) -> str:
    served = pd.Series(children, index=instance.demand["area_code"].to_numpy()[rows])
    by_area = served.groupby(level=0).sum().sort_values(ascending=False, kind="stable")
    shown = [
        f"{area_names.get(code, code)} ({format_count(float(n), threshold)})"
        for code, n in by_area.head(_SHOWN_AREAS).items()
    ]
    more = len(by_area) - _SHOWN_AREAS
    return ", ".join(shown) + (f" and {more} more area(s)" if more > 0 else "")


def _chosen_table(
    instance: Instance,
    scenario: Scenario,
    *,
    schools: pd.DataFrame,
    area_names: pd.Series,
    options: pd.DataFrame,
    candidates: _Candidates,
    chosen: Sequence[int],
    existing: Sequence[Site],
    before: Solution,
    after: Solution,
    greedy: GreedyResult,
) -> pd.DataFrame:
    rows = instance.rows
    n_existing = len(existing)
    before_minutes = row_mean_minutes(before, len(rows))
    greedy_rank = {pick.option: rank for rank, pick in enumerate(greedy.picks, start=1)}
    chosen_sites = [candidates.sites[c] for c in chosen]
    records = []
    for position, candidate in enumerate(chosen):
        option = options.iloc[int(candidates.option[candidate])]
        school = schools.iloc[int(option["school"])]
        at_site = after.pair_site == n_existing + position
        flow = after.flow[at_site]
        served_rows = after.pair_row[at_site]
        served = float(flow.sum())
        others = [s for i, s in enumerate(chosen_sites) if i != position]
        without = solve_network(rows, [*existing, *others])
        had_place = np.nan_to_num(before_minutes[served_rows], nan=-1.0) >= 0
        weights = flow * had_place
        averted = without.objective - after.objective
        mismatch = mismatch_averted(rows, without, after)
        records.append(
            {
                "candidate": candidate,
                "urn": school["urn"],
                "name": school["name"],
                "phase": option["phase"],
                "need_group": option["need_group"],
                "need_group_label": scenario.need_groups[option["need_group"]].label,
                "places": int(candidates.places[candidate]),
                "children_served": served,
                "newly_placed": float(without.unmet.sum() - after.unmet.sum()),
                "harm_averted": averted,
                "harm_averted_placing": mismatch,
                "harm_averted_journeys": averted - mismatch,
                "minutes_before": float(np.average(before_minutes[served_rows], weights=weights))
                if weights.sum() > 1e-9
                else float("nan"),
                "minutes_after": float(flow @ after.pair_minutes[at_site] / served)
                if served > 1e-9
                else float("nan"),
                "areas_served": _areas_text(
                    instance, area_names, served_rows, flow, scenario.suppression_threshold
                ),
                "greedy_rank": greedy_rank.get(int(candidates.option[candidate])),
                "easting": school["easting"],
                "northing": school["northing"],
            }
        )
    table = pd.DataFrame.from_records(records)
    if table.empty:
        return table
    table = table.sort_values("harm_averted", ascending=False, kind="stable")
    table.insert(0, "choice", range(1, len(table) + 1))
    table["greedy_rank"] = table["greedy_rank"].astype("Int64")
    return table.reset_index(drop=True)


def _ineligible_options(
    instance: Instance, scenario: Scenario, schools: pd.DataFrame, existing: Sequence[Site]
) -> pd.DataFrame:
    """Standalone value of the best option at mainstream schools the rules excluded."""
    class_id = {c: i for i, c in enumerate(instance.classes)}
    baseline: dict[int, float] = {}
    records = []
    for position, school in enumerate(schools.itertuples()):
        if school.establishment_group != "mainstream" or school.eligible:
            continue
        for phase in HOSTABLE_PHASES[str(school.phase)]:
            for group in scenario.new_base_groups:
                if (phase, group) not in class_id:
                    continue
                klass = class_id[(phase, group)]
                site = site_at(
                    instance,
                    scenario,
                    school=position,
                    classes=frozenset({klass}),
                    capacity=scenario.base_size,
                )
                members = [s for s in existing if klass in s.classes]
                if klass not in baseline:
                    baseline[klass] = solve_network(
                        instance.rows, members, classes=[klass]
                    ).objective
                trial = solve_network(instance.rows, [*members, site], classes=[klass])
                records.append(
                    {
                        "urn": school.urn,
                        "name": school.name,
                        "phase": phase,
                        "need_group": group,
                        "harm_averted_standalone": baseline[klass] - trial.objective,
                        "reason": str(school.notes).split("; ")[0],
                    }
                )
    return pd.DataFrame.from_records(
        records,
        columns=["urn", "name", "phase", "need_group", "harm_averted_standalone", "reason"],
    )


def _left_out(
    instance: Instance,
    scenario: Scenario,
    *,
    schools: pd.DataFrame,
    options: pd.DataFrame,
    option_sites: Sequence[Site],
    standalone: NDArray[np.float64],
    chosen_table: pd.DataFrame,
    chosen_options: Sequence[int],
    existing: Sequence[Site],
    after: Solution,
) -> pd.DataFrame:
    rows = instance.rows
    taken = set(chosen_table["urn"]) if not chosen_table.empty else set()
    eligible = options.assign(harm_averted_standalone=standalone, option=range(len(options)))
    eligible = eligible[~eligible["urn"].isin(taken)]
    eligible = eligible.sort_values("harm_averted_standalone", ascending=False, kind="stable")
    eligible = eligible.drop_duplicates("urn")
    names = schools.set_index("urn")["name"]
    eligible = eligible.assign(name=eligible["urn"].map(names), reason="")
    others = _ineligible_options(instance, scenario, schools, existing)
    others = others.sort_values("harm_averted_standalone", ascending=False, kind="stable")
    others = others.drop_duplicates("urn")
    pool = pd.concat([eligible, others], ignore_index=True)
    pool = pool[pool["harm_averted_standalone"] > 1e-9]
    pool = pool.sort_values("harm_averted_standalone", ascending=False, kind="stable")
    pool = pool.head(_LEFT_OUT)
    chosen_sites = [option_sites[o] for o in chosen_options]
    chosen_urns = [str(options["urn"].iloc[o]) for o in chosen_options]
    open_sites = [*existing, *chosen_sites]
    reasons = []
    for item in pool.itertuples():
        if item.reason:
            text = str(item.reason)
            reasons.append(f"phase mismatch ({text})" if text.startswith("phase") else text)
            continue
        site = option_sites[int(item.option)]
        reasons.append(
            _why_not(rows, site, chosen_sites, chosen_table, chosen_urns, open_sites, after)
        )
    pool = pool.assign(reason=reasons)
    columns = ["urn", "name", "phase", "need_group", "harm_averted_standalone", "reason"]
    return pool[columns].reset_index(drop=True)


def _why_not(
    rows: DemandRows,
    site: Site,
    chosen_sites: Sequence[Site],
    chosen_table: pd.DataFrame,
    urns: Sequence[str],
    open_sites: Sequence[Site],
    after: Solution,
) -> str:
    reach = rows.children[site.rows]
    for position, other in enumerate(chosen_sites):
        if not site.classes & other.classes or reach.sum() <= 1e-9:
            continue
        shared, mine, theirs = np.intersect1d(site.rows, other.rows, return_indices=True)
        if rows.children[shared].sum() / reach.sum() < _OVERLAP:
            continue
        weights = rows.children[shared] + 1e-12
        higher = np.average(site.harm[mine], weights=weights) > np.average(
            other.harm[theirs], weights=weights
        )
        match = chosen_table.iloc[int(np.flatnonzero(chosen_table["urn"] == urns[position])[0])]
        label = f"{match['name']} (choice #{int(match['choice'])})"
        return f"serves the same areas as {label}" + (" at higher harm" if higher else "")
    gain = after.objective - solve_network(rows, [*open_sites, site]).objective
    return f"adds only {max(gain, 0.0):.2f} harm points once the chosen bases are open"


def _perturbed(
    instance: Instance,
    scenario: Scenario,
    sites: Sequence[Site],
    rng: np.random.Generator,
) -> tuple[DemandRows, list[Site]]:
    rules = scenario.robustness
    rows = instance.rows
    sigma = rules.demand_noise
    factors = rng.lognormal(mean=-(sigma**2) / 2, sigma=sigma, size=len(rows)) if sigma else 1.0
    update: dict[str, float] = {}
    for key in ("exponent", "free_minutes", "unmet", "mismatch"):
        bounds = getattr(rules, key)
        if bounds is not None:
            update[key] = float(rng.uniform(bounds[0], bounds[1]))
    mismatch = update.pop("mismatch", scenario.fallback.mismatch)
    harm = scenario.harm.model_copy(update=update)
    fallback = scenario.fallback.model_copy(update={"mismatch": mismatch})
    phase_of_class = np.array([phase for phase, _ in instance.classes])
    curves = {phase: harm.curve(phase) for phase in scenario.phases}

    def reharm(site: Site) -> Site:
        values = np.empty_like(site.minutes)
        phases = phase_of_class[rows.klass[site.rows]]
        for phase, curve in curves.items():
            mask = phases == phase
            values[mask] = curve(site.minutes[mask])
        return dataclasses.replace(site, harm=values)

    journey, mismatch_harm = fallback_harm(
        harm, fallback, phases=phase_of_class[rows.klass], minutes=instance.fallback.minutes
    )
    noisy = DemandRows(
        children=rows.children * factors,
        klass=rows.klass,
        limit_minutes=rows.limit_minutes,
        unmet_harm=journey + mismatch_harm,
        mismatch_harm=mismatch_harm,
    )
    return noisy, [reharm(site) for site in sites]


def _contenders(
    candidates: _Candidates, rules: dict[str, object], standalone: NDArray, keep: Sequence[int]
) -> tuple[_Candidates, dict[str, object], list[int]]:
    """The candidates in contention: the strongest alone in each group, plus ``keep``.

    Robustness re-chooses the set many times; a base that averts little on its own will not
    enter a set of K under moderate noise, and leaving it out keeps each MIP small.
    """
    grouped = "groups" in rules
    labels = np.asarray(candidates.labels if grouped else [""] * len(candidates.sites))
    value = np.nan_to_num(standalone[candidates.option], nan=-np.inf)
    required: list[int] = list(rules["required"])  # type: ignore[call-overload]
    counts: dict[str, int] = rules.get("per_group") or {"": rules["k"]}  # type: ignore[assignment]
    per_group = max(_CONTENDERS, 6 * max(counts.values()))
    chosen = set(keep) | set(required)
    for label in np.unique(labels):
        mine = np.flatnonzero(labels == label)
        chosen |= set(mine[np.argsort(-value[mine], kind="stable")][:per_group].tolist())
    subset = np.array(sorted(chosen), dtype=np.intp)
    position = {int(c): i for i, c in enumerate(subset)}
    smaller = _Candidates(
        [candidates.sites[c] for c in subset],
        candidates.option[subset],
        candidates.places[subset],
        [candidates.locations[c] for c in subset],
        [candidates.labels[c] for c in subset],
    )
    new_rules = dict(rules)
    new_rules["required"] = [position[c] for c in required]
    if grouped:
        new_rules["groups"] = smaller.labels
    return smaller, new_rules, [position[c] for c in keep]


def _robustness(
    instance: Instance,
    scenario: Scenario,
    *,
    existing: Sequence[Site],
    candidates: _Candidates,
    rules: dict[str, object],
    standalone: NDArray,
    urns: NDArray,
    method: Method,
    start: Sequence[int],
    progress: Progress | None,
) -> tuple[pd.Series, int]:
    runs = scenario.robustness.runs
    if not runs:
        return pd.Series(dtype=float), 0
    rng = np.random.default_rng(scenario.robustness.seed)
    candidates, rules, start = _contenders(candidates, rules, standalone, start)
    hits: dict[str, int] = {}
    unproven = 0
    for run in range(runs):
        rows, sites = _perturbed(instance, scenario, [*existing, *candidates.sites], rng)
        noisy = dataclasses.replace(candidates, sites=sites[len(existing) :])
        selection = _select(
            rows,
            sites[: len(existing)],
            noisy,
            rules,
            method=method,
            time_limit=scenario.robustness.time_limit_seconds,
            start=start,  # the plan itself: a good first incumbent under any noise
            rel_gap=_ROBUST_GAP,
        )
        unproven += not selection.proven
        for urn in set(urns[candidates.option[selection.chosen]]):
            hits[str(urn)] = hits.get(str(urn), 0) + 1
        if progress is not None:
            progress("robustness runs", run + 1, runs)
    return pd.Series({urn: n / runs for urn, n in hits.items()}, dtype=float), unproven


def choose_plan(
    instance: Instance,
    scenario: Scenario,
    *,
    schools: pd.DataFrame,
    area_names: pd.Series,
    options: pd.DataFrame,
    option_sites: Sequence[Site],
    existing: Sequence[Site],
    greedy: GreedyResult,
    before: Solution,
    method: Method | None = None,
    progress: Progress | None = None,
) -> tuple[Plan, Solution]:
    """Choose the plan's new bases, explain them, and test their robustness.

    Parameters
    ----------
    instance, scenario
        The authority's arrays and the scenario (``bases`` or ``selection.counts``,
        ``selection.*`` rules, ``robustness.*``).
    schools
        Every school with its eligibility and notes (row order = school positions).
    area_names
        Area name by area code, for the explanations.
    options, option_sites
        Candidate options (``school, urn, phase, need_group``) and their model sites.
    existing
        Today's bases.
    greedy
        The greedy build order (its first bases are the MIP's starting point).
    before
        Today's network, solved.
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
    method = method or scenario.selection.method
    candidates = _candidates(scenario, options, option_sites)
    rules = _rules(scenario, options, candidates, greedy.standalone)
    start = _greedy_start(greedy, candidates, scenario)
    selection = _select(
        instance.rows,
        existing,
        candidates,
        rules,
        method=method,
        time_limit=scenario.selection.time_limit_seconds,
        start=start,
    )
    chosen, after = _drop_idle(
        instance.rows,
        existing,
        candidates,
        selection,
        rules["required"],  # type: ignore[arg-type]
    )
    greedy_objective = float("nan")
    if start is not None:
        greedy_sites = [candidates.sites[c] for c in start]
        greedy_objective = solve_network(instance.rows, [*existing, *greedy_sites]).objective
    table = _chosen_table(
        instance,
        scenario,
        schools=schools,
        area_names=area_names,
        options=options,
        candidates=candidates,
        chosen=chosen,
        existing=existing,
        before=before,
        after=after,
        greedy=greedy,
    )
    if not table.empty:  # sites in the order of the table: most harm averted first
        chosen = [int(c) for c in table.pop("candidate")]
        after = solve_network(instance.rows, [*existing, *(candidates.sites[c] for c in chosen)])
    sites = [candidates.sites[c] for c in chosen]
    urns = options["urn"].to_numpy()
    robustness, unproven = _robustness(
        instance,
        scenario,
        existing=existing,
        candidates=candidates,
        rules=rules,
        standalone=greedy.standalone,
        urns=urns,
        method="optimal" if selection.method == "optimal" else "greedy",
        start=chosen,
        progress=progress,
    )
    if not table.empty:
        table["robustness"] = (
            table["urn"].map(robustness).fillna(0.0) if scenario.robustness.runs else np.nan
        )
    left_out = _left_out(
        instance,
        scenario,
        schools=schools,
        options=options,
        option_sites=option_sites,
        standalone=greedy.standalone,
        chosen_table=table,
        chosen_options=[int(candidates.option[c]) for c in chosen],
        existing=existing,
        after=after,
    )
    plan = Plan(
        method=selection.method,
        objective=after.objective,
        greedy_objective=greedy_objective,
        gap=selection.gap,
        proven=selection.proven,
        seconds=selection.seconds,
        chosen=table,
        left_out=left_out,
        robustness=robustness,
        runs=scenario.robustness.runs,
        unproven_runs=unproven,
        sites=sites,
    )
    return plan, after
