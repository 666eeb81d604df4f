"""Explain the plan: what each chosen base does, and a true reason for each strong site left out.

Every number in an explanation is computed from an exact assignment: the plan's own solution,
the plan with one base removed or swapped (:class:`sitefinder.model.scoring.SetScorer`), or a
left-out site's standalone trial (today's bases plus that site alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.disclosure import format_count
from sitefinder.instance import Instance, site_at
from sitefinder.model._highs import DUAL_TOL
from sitefinder.model.greedy import GreedyResult
from sitefinder.model.network import Site, Solution, minutes_before_of_moved, solve_network
from sitefinder.model.scoring import SetScorer
from sitefinder.model.select import SelectionRules
from sitefinder.model.warm import read_warm
from sitefinder.plan.candidates import Candidates
from sitefinder.plan.result import PlanInputs
from sitefinder.supply import HOSTABLE_PHASES

_SHOWN_AREAS = 5
_LEFT_OUT = 5
_OVERLAP = 0.5  # share of a left-out site's children that a chosen base serves in the plan
_SERVED = 1e-9  # children: less than this on a pair is no flow
_NO_HARM = 1e-9  # harm points: a site averting no more than this is not listed as left out


def areas_text(
    instance: Instance, area_names: pd.Series, rows: NDArray, children: NDArray, threshold: int
) -> str:
    """Areas with children assigned (flow > 0), most children first, with their counts."""
    used = children > _SERVED
    served = pd.Series(children[used], index=instance.demand["area_code"].to_numpy()[rows[used]])
    by_area = served.groupby(level=0, sort=True).sum().sort_values(ascending=False, kind="stable")
    shown = [
        f"{area_names.get(code, code)} ({format_count(float(n), threshold)})"
        for code, n in by_area.head(_SHOWN_AREAS).items()
    ]
    more = len(by_area) - _SHOWN_AREAS
    return ", ".join(shown) + (f" and {more} more area(s)" if more > 0 else "")


def mix_text(
    instance: Instance,
    rows: NDArray,
    children: NDArray,
    *,
    scenario: Scenario,
    classes: frozenset[int],
) -> str:
    """The children a base serving several need groups serves of each (``""`` for one group):
    ``Communication and interaction 6.2; Social, emotional and mental health 3.8``, counts
    withheld under the run's threshold."""
    groups = sorted({instance.classes[c][1] for c in classes})
    if len(groups) < 2:
        return ""
    klass = instance.rows.klass
    by = dict.fromkeys(scenario.group_order(groups), 0.0)
    for row, n in zip(rows, children, strict=True):
        by[instance.classes[int(klass[row])][1]] += float(n)
    threshold = scenario.count_threshold
    return "; ".join(
        f"{scenario.group_label(g)} {format_count(n, threshold)}" for g, n in by.items()
    )


@dataclass(frozen=True)
class PlanView:
    """The plan as the explanations see it.

    ``chosen`` lists the plan's candidates in the order of the sites of ``after`` after the
    existing ones (and, once it is built, of the chosen table: choice 1 first).
    """

    candidates: Candidates
    rules: SelectionRules
    chosen: Sequence[int]
    after: Solution
    scorer: SetScorer
    tolerance: float


def chosen_table(inputs: PlanInputs, scenario: Scenario, plan: PlanView) -> pd.DataFrame:
    """One row per chosen base, in the order of ``plan.chosen`` (``choice`` numbers them)."""
    instance, options, schools = inputs.instance, inputs.options, inputs.schools
    candidates, chosen, after, scorer = plan.candidates, plan.chosen, plan.after, plan.scorer
    greedy: GreedyResult = inputs.greedy
    n_existing = len(inputs.existing)
    greedy_rank = {pick.option: rank for rank, pick in enumerate(greedy.picks, start=1)}
    full = scorer.score(chosen)
    records = []
    for position, candidate in enumerate(chosen):
        option = options.iloc[int(candidates.option[candidate])]
        school = schools.iloc[int(option["school"])]
        at_site = after.pair_site == n_existing + position
        flow = after.flow[at_site]
        served_rows = after.pair_row[at_site]
        served = float(flow.sum())
        without = scorer.score([c for c in chosen if c != candidate])
        newly = max(without.unmet - full.unmet, 0.0)
        records.append(
            {
                "urn": school["urn"],
                "name": school["name"],
                "phase": option["phase"],
                "need_group": option["need_group"],
                "need_group_label": scenario.group_label(option["need_group"]),
                "places": int(candidates.places[candidate]),
                "children_served": served,
                "fill": served / float(candidates.places[candidate]),
                "mix": mix_text(
                    instance,
                    served_rows,
                    flow,
                    scenario=scenario,
                    classes=candidates.sites[candidate].classes,
                ),
                "newly_placed": newly,
                "harm_averted": without.harm - full.harm,
                "harm_averted_placing": without.mismatch - full.mismatch,
                "harm_averted_journeys": (without.harm - full.harm)
                - (without.mismatch - full.mismatch),
                "minutes_before": minutes_before_of_moved(
                    inputs.before, served_rows, flow, newly_placed=newly
                ),
                "minutes_after": float(flow @ after.pair_minutes[at_site] / served)
                if served > 1e-9
                else float("nan"),
                "areas_served": areas_text(
                    instance, inputs.area_names, served_rows, flow, scenario.count_threshold
                ),
                "greedy_rank": greedy_rank.get(int(candidates.option[candidate])),
                "caveats": str(school.get("caveats", "") or ""),
                "easting": school["easting"],
                "northing": school["northing"],
            }
        )
    table = pd.DataFrame.from_records(records)
    if table.empty:
        return table
    table.insert(0, "choice", range(1, len(table) + 1))
    table["greedy_rank"] = table["greedy_rank"].astype("Int64")
    return table


@dataclass(frozen=True)
class _Excluded:
    """One option at a mainstream school the rules excluded, not yet valued."""

    urn: object
    name: object
    phase: str
    need_group: str
    reason: str
    site: Site


def _excluded_options(inputs: PlanInputs, scenario: Scenario) -> list[_Excluded]:
    """Every new-base option at the mainstream schools the rules excluded, in school order."""
    instance = inputs.instance
    class_id = {c: i for i, c in enumerate(instance.classes)}
    found = []
    for position, school in enumerate(inputs.schools.itertuples()):
        if school.establishment_group != "mainstream" or school.eligible:
            continue
        for phase in HOSTABLE_PHASES[str(school.phase)]:
            for group in scenario.new_base_groups:
                if (phase, group) not in class_id:
                    continue
                site = site_at(
                    instance,
                    scenario,
                    school=position,
                    classes=frozenset({class_id[(phase, group)]}),
                    capacity=scenario.base_size,
                )
                reason = str(school.notes).split("; ")[0]
                found.append(_Excluded(school.urn, school.name, phase, group, reason, site))
    return found


def _ineligible_options(
    inputs: PlanInputs, scenario: Scenario, *, leaders: Sequence[float]
) -> pd.DataFrame:
    """Standalone value of the options at mainstream schools the rules excluded that could
    enter the strongest left out.

    Each is valued on its class alone: today's bases serving the class, at their full places,
    plus the option, on one warm LP per class component (the option added and taken away
    again). Only those that could rank among the :data:`_LEFT_OUT` strongest are valued,
    best bound first: an option whose bound from today's LP prices (weak duality, up to the
    LP's dual tolerance; :meth:`sitefinder.model.warm.ComponentTrials.bound`) falls below the
    weakest of the strongest so far cannot enter, so the strongest are those of valuing every
    option. ``leaders`` are the standalone values of the
    eligible sites left out (harm points).
    """
    excluded = _excluded_options(inputs, scenario)
    # Exact: each site joins the whole class component of today's network (a base serving
    # several classes shares its places between them).
    trials = inputs.greedy.standalone.today()
    children = inputs.instance.rows.children
    slack = [
        DUAL_TOL * (float(children[item.site.rows].sum()) + item.site.capacity) for item in excluded
    ]
    cheap = [trials.bound(item.site, enough=np.inf) for item in excluded]
    bounds = np.array(cheap) + np.array(slack)
    values = np.full(len(excluded), np.nan)
    best: dict[object, float] = {}  # the best value so far of each excluded school

    def weakest() -> float:
        """The value an option must exceed to rank among the strongest left out."""
        strongest = sorted([*leaders, *best.values()], reverse=True)[:_LEFT_OUT]
        return max(strongest[-1], _NO_HARM) if len(strongest) == _LEFT_OUT else _NO_HARM

    for index in np.argsort(-bounds, kind="stable").tolist():
        if bounds[index] < weakest():
            break  # neither this option nor any after it can enter
        item = excluded[index]
        enough = weakest() - slack[index]
        if trials.bound(item.site, enough=enough) + slack[index] < weakest():
            continue  # the tighter bound rules it out
        values[index] = trials.gain(item.site)
        best[item.urn] = max(best.get(item.urn, -np.inf), float(values[index]))
    records = [
        {
            "urn": item.urn,
            "name": item.name,
            "phase": item.phase,
            "need_group": item.need_group,
            "harm_averted_standalone": value,
            "reason": item.reason,
        }
        for item, value in zip(excluded, values.tolist(), strict=True)
        if not np.isnan(value)
    ]
    return pd.DataFrame.from_records(
        records,
        columns=["urn", "name", "phase", "need_group", "harm_averted_standalone", "reason"],
    )


def left_out(
    inputs: PlanInputs, scenario: Scenario, plan: PlanView, table: pd.DataFrame
) -> pd.DataFrame:
    """The strongest candidates not chosen (by standalone harm averted), each with a reason.

    ``table`` is the chosen table, in the order of ``plan.chosen``.
    """
    options, schools = inputs.options, inputs.schools
    taken = set(table["urn"]) if not table.empty else set()
    free = np.flatnonzero(~options["urn"].isin(taken).to_numpy())
    # Only the options that could be among the strongest schools are valued (NaN: not).
    urns = options["urn"].tolist()
    value = np.full(len(options), np.nan)
    value[free] = inputs.greedy.standalone.strongest(free, _LEFT_OUT, key=urns)
    eligible = options.assign(harm_averted_standalone=value, option=range(len(options)))
    eligible = eligible.iloc[free]
    eligible = eligible.sort_values("harm_averted_standalone", ascending=False, kind="stable")
    eligible = eligible.drop_duplicates("urn")
    names = schools.set_index("urn")["name"]
    eligible = eligible.assign(name=eligible["urn"].map(names), reason="")
    leaders = eligible["harm_averted_standalone"].dropna().head(_LEFT_OUT).tolist()
    others = _ineligible_options(inputs, scenario, leaders=leaders)
    others = others.sort_values("harm_averted_standalone", ascending=False, kind="stable")
    others = others.drop_duplicates("urn")
    pool = pd.concat([eligible, others], ignore_index=True)
    pool = pool[pool["harm_averted_standalone"] > _NO_HARM]
    pool = pool.sort_values("harm_averted_standalone", ascending=False, kind="stable")
    pool = pool.head(_LEFT_OUT)
    reasons = []
    for item in pool.itertuples():
        if item.reason:
            text = str(item.reason)
            reasons.append(f"phase mismatch ({text})" if text.startswith("phase") else text)
            continue
        reasons.append(why_not(inputs, scenario, plan, table, option=int(item.option)))
    pool = pool.assign(reason=reasons)
    columns = ["urn", "name", "phase", "need_group", "harm_averted_standalone", "reason"]
    return pool[columns].reset_index(drop=True)


def standalone_flows(inputs: PlanInputs, site: Site) -> tuple[NDArray[np.intp], NDArray]:
    """Rows and children a site serves added alone to today's bases (its standalone trial)."""
    rows = inputs.instance.rows
    if read_warm(rows):  # a large network: a warm copy of today's LP, not a solve from scratch
        model = inputs.greedy.standalone.today().with_site(site)
        trial, new = model.solution(), model.sites - 1
    else:
        trial, new = solve_network(rows, [*inputs.existing, site]), len(inputs.existing)
    mine = (trial.pair_site == new) & (trial.flow > _SERVED)
    return trial.pair_row[mine], trial.flow[mine]


def shared_children(rows: NDArray[np.intp], children: NDArray, after: Solution, site: int) -> float:
    """Children of ``rows`` (up to ``children`` each) that ``site`` serves in ``after``."""
    at_site = (after.pair_site == site) & (after.flow > _SERVED)
    theirs = pd.Series(after.flow[at_site]).groupby(after.pair_row[at_site]).sum()
    return float(np.minimum(children, theirs.reindex(rows).fillna(0.0).to_numpy()).sum())


def _label(row: pd.Series) -> str:
    return f"{row['name']} (choice #{int(row['choice'])})"


def why_not(
    inputs: PlanInputs, scenario: Scenario, plan: PlanView, table: pd.DataFrame, *, option: int
) -> str:
    """Why an eligible option is not in the plan, in words with its numbers.

    An equivalent alternative (swapping it for a chosen base adds at most ``tolerance`` of
    that base's harm averted) says so; else a site that shares at least half its standalone
    children with one chosen base "serves the same areas" as it, with the distance and the
    harm it would avert less in that base's place; else it "adds only" its marginal value
    when that is less than any chosen base averts, or is compared with the chosen base it
    could best replace.
    """
    candidates, scorer = plan.candidates, plan.scorer
    o = candidates.of_option(option, scenario.base_size)
    site = candidates.sites[o]
    current = scorer.harm(plan.chosen)
    swaps: list[tuple[float, float, int]] = []  # (harm difference, chosen's averted, position)
    for position, c in enumerate(plan.chosen):
        if c in plan.rules.required or (
            plan.rules.counts is not None and candidates.labels[c] != candidates.labels[o]
        ):
            continue
        others = [x for x in plan.chosen if x != c]
        averted = scorer.harm(others) - current
        swaps.append((scorer.plus(others, o) - current, averted, position))
    ties = [s for s in swaps if s[0] <= plan.tolerance * s[1] + 1e-9]
    if ties:
        difference, _, position = min(ties)
        return (
            f"an equivalent alternative to {_label(table.iloc[position])}: in its place the"
            f" plan's harm would rise by only {max(difference, 0.0):.2f} harm points (within"
            f" the {plan.tolerance:.0%} tie tolerance)"
        )
    rows, children = standalone_flows(inputs, site)
    n_existing = len(inputs.existing)
    shares = [
        shared_children(rows, children, plan.after, n_existing + position)
        for position in range(len(plan.chosen))
    ]
    swap_of = {position: difference for difference, _, position in swaps}
    if shares and children.sum() > _SERVED and max(shares) >= _OVERLAP * children.sum():
        position = int(np.argmax(shares))
        match = table.iloc[position]
        school = inputs.schools.iloc[int(inputs.options["school"].iloc[option])]
        dx, dy = school["easting"] - match["easting"], school["northing"] - match["northing"]
        km = float(np.hypot(dx, dy)) / 1000
        text = f"serves the same areas as {_label(match)}, {km:.1f} km away"
        if position in swap_of:
            text += (
                f"; would avert {swap_of[position]:.2f} harm points less than"
                f" {match['name']} in its place"
            )
        return text
    gain = current - scorer.plus(plan.chosen, o)
    weakest = min(
        (scorer.harm([x for x in plan.chosen if x != c]) - current for c in plan.chosen),
        default=np.inf,
    )
    instead = ""
    if swaps:
        difference, _, position = min(swaps)
        instead = (
            f"would avert {difference:.2f} harm points less than {_label(table.iloc[position])}"
            " in its place"
        )
    if gain < weakest:
        text = f"adds only {max(gain, 0.0):.2f} harm points once the chosen bases are open"
        return text + (f"; {instead}" if instead else "")
    if instead:
        return f"{instead}; as an extra base it would avert {gain:.2f} harm points"
    return (
        f"as an extra base it would avert {gain:.2f} harm points, but no chosen base may give"
        " way to it (required, or counted in another phase and need group)"
    )
