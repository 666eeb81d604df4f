"""Why one school is or is not in the plan: everything a ranking run knows about it.

:func:`explain_school` takes a :class:`~sitefinder.pipeline.RankResult` and a URN and returns
a :class:`SchoolExplanation`: who the school is, each suitability rule it passes or fails, its
options (phase x need group) with the harm each would avert alone and with the rest of the
plan open, and either its place in the plan or which bases serve the children it would serve
instead and what would have to change for it to enter. Every figure is an exact optimum of the
assignment LP (:func:`sitefinder.model.network.solve_network`, or the plan's
:class:`sitefinder.model.scoring.SetScorer`), on the run's own arrays
(:attr:`RankResult.model`). Figures are *not* disclosure-controlled here; the presentation
layer (:mod:`sitefinder.why.document`) protects them as every other output does.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.errors import DataError
from sitefinder.instance import site_at
from sitefinder.model.network import Site, Solution, mismatch_averted, solve_network
from sitefinder.model.scoring import SetScorer
from sitefinder.model.warm import ComponentTrials
from sitefinder.pipeline import RankResult
from sitefinder.plan import PlanInputs, StoppingRule
from sitefinder.plan.candidates import Candidates, build_candidates
from sitefinder.supply import HOSTABLE_PHASES, RuleCheck, assess

_SERVED = 1e-9  # children: less than this on a pair is no flow
_TIE = 1e-9  # harm points: differences smaller than this are equal

FACTS = (
    "phase", "establishment_group", "gender", "admissions_policy", "statutory_low_age",
    "statutory_high_age", "first_age", "last_age", "capacity", "pupils", "spare_places",
    "ehcp_pupils", "ehcp_share", "existing_base", "eligible", "host_phases", "notes",
)  # fmt: skip
"""What :attr:`SchoolExplanation.facts` holds (missing values are None)."""

OPTION_COLUMNS = (
    "phase", "need_group", "need_group_label", "candidate", "in_plan", "choice", "greedy_rank",
    "alone_harm_averted", "alone_placing", "alone_journeys", "alone_children_served",
    "alone_newly_placed", "alone_minutes_after", "plan_harm_averted", "plan_placing",
    "plan_journeys", "plan_children_served", "plan_newly_placed", "plan_minutes_after",
    "passes_rule", "swap_difference", "swap_choice",
)  # fmt: skip
"""The columns of :attr:`SchoolExplanation.options`."""


@dataclass(frozen=True)
class ExtraBase:
    """The school as one more base on top of the whole plan (the plan's bases kept).

    Attributes
    ----------
    rank
        Its place among the schools without a planned base, by the most harm any one of their
        options would avert as an extra base (1 = the best extra base).
    schools
        Schools ranked (those with an option offered, plus this one).
    best_urn, best_name, best_phase, best_need_group
        The best extra base (another school's option, or this school's own when it ranks 1).
    best_harm_averted
        Harm points the best extra base would avert (exact).
    best_newly_placed, best_children_served
        Children it would bring into a base place who had none, and serve.
    """

    rank: int
    schools: int
    best_urn: str
    best_name: str
    best_phase: str
    best_need_group: str
    best_harm_averted: float
    best_newly_placed: float
    best_children_served: float


@dataclass(frozen=True)
class SchoolExplanation:
    """Everything a ranking run knows about one school (figures not disclosure-controlled).

    Attributes
    ----------
    urn, name
        The school.
    facts
        Its data (:data:`FACTS`): phase, establishment group, gender, admissions policy,
        statutory ages (years) and the ages it teaches within its phases, capacity and pupils
        (places, pupils), spare places, pupils with an EHC plan and their share, the base it
        hosts today (text), whether the rules keep it as a candidate, and its notes.
    rules
        Each suitability rule's check (:class:`sitefinder.supply.RuleCheck`), in the order
        of its notes.
    options
        One row per option (phase x need group) a base here could take (:data:`OPTION_COLUMNS`):
        ``candidate`` (offered by the rules; else the figures say what a base there would do
        if the rules allowed it), ``in_plan``/``choice``, ``greedy_rank``; ``alone_*``: added
        to today's bases alone (harm points averted, its two parts placing + journeys,
        children served, children newly placed, mean minutes to it); ``plan_*``: the same with
        the rest of the plan open (the plan's bases, less any at this school); ``passes_rule``
        (the stopping rule on the ``plan_*`` figures); ``swap_difference``/``swap_choice``: the
        least the plan's harm would rise (harm points; negative: fall) with it in a chosen
        base's place, and that base's choice.
    choice
        The plan's choice number of its new base, or None.
    planned
        Its row of the plan's chosen table (``plan.chosen``), or None.
    alternatives
        Its base's equivalent alternatives (rows of ``plan.alternatives``).
    areas
        Areas its planned base serves: ``area_code, area_name, children, minutes`` (mean
        journey minutes), most children first.
    reference
        The option ``instead``, ``swaps`` and ``extra`` are about (row of ``options``): the one
        closest to entering the plan (least ``swap_difference``, then most harm averted
        alone); None when it is in the plan or has no option.
    instead
        Where the children that option would serve alone are in the plan: ``kind``
        (``new``, ``existing`` or ``none``: no base place), ``choice, urn, name, base_name,
        children`` (in proportion within each demand row), ``minutes_there`` (their mean
        journey to that base in the plan; the fallback journey for ``none``),
        ``minutes_here`` (their mean journey to this school), most children first.
    swaps
        That option in each chosen base's place: ``choice, urn, name, phase, need_group,
        harm_averted`` (what the chosen base averts in the plan), ``harm_difference`` (the
        plan's harm with the swap minus without, harm points), ``children_served`` (the
        option's children in the swapped plan), ``unmet_difference`` (children without a base
        place with the swap minus without), ``tie`` (within the tie tolerance), ``allowed``
        (False: the chosen base is required, or counted in another phase and need group).
    extra
        The reference option as one more base on top of the plan (:class:`ExtraBase`).
    plan_reason
        The plan's own reason it was left out, when the run lists it among the strongest
        candidates left out.
    bases, requested
        New bases in the plan and asked for.
    """

    urn: str
    name: str
    facts: dict[str, Any]
    rules: list[RuleCheck]
    options: pd.DataFrame
    choice: int | None = None
    planned: dict[str, Any] | None = None
    alternatives: pd.DataFrame = field(default_factory=pd.DataFrame)
    areas: pd.DataFrame = field(default_factory=pd.DataFrame)
    reference: int | None = None
    instead: pd.DataFrame = field(default_factory=pd.DataFrame)
    swaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    extra: ExtraBase | None = None
    plan_reason: str = ""
    bases: int = 0
    requested: int = 0


def unknown_school(schools: pd.DataFrame, urn: str, *, source: str) -> DataError:
    """The error for a URN not among ``schools``, suggesting close URNs and names."""
    urns = schools["urn"].astype(str).tolist()
    names = schools["name"].astype(str).tolist()
    by_urn = dict(zip(urns, names, strict=True))
    close = difflib.get_close_matches(urn, urns, n=3, cutoff=0.6)
    lowered = urn.casefold()
    close += [u for u, n in by_urn.items() if lowered and lowered in n.casefold()]
    close += [
        u
        for n in difflib.get_close_matches(urn, names, n=3, cutoff=0.6)
        for u in urns
        if by_urn[u] == n
    ]
    shown = list(dict.fromkeys(close))[:3]
    hint = (
        "; did you mean " + ", ".join(f"{u} ({by_urn[u]})" for u in shown) + "?"
        if shown
        else " (closed schools and schools of other authorities are not read)"
    )
    return DataError(
        f"URN {urn}: no school with this URN among the {len(urns):,} establishment(s) read"
        f" from {source}{hint}"
    )


def _facts(row: pd.Series) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for key in FACTS:
        value = row.get(key)
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            facts[key] = None
        elif isinstance(value, np.generic):
            facts[key] = value.item()
        else:
            facts[key] = value
    return facts


@dataclass(frozen=True)
class _Run:
    """The run's arrays the explanation re-solves."""

    model: PlanInputs
    candidates: Candidates
    chosen: list[int]  # candidate of each planned base, in choice order
    after: Solution

    @property
    def existing(self) -> list[Site]:
        return list(self.model.existing)

    def sites(self, chosen: Sequence[int]) -> list[Site]:
        return [self.candidates.sites[c] for c in chosen]


def _run(result: RankResult, model: PlanInputs) -> _Run:
    scenario, options = result.scenario, model.options
    candidates = build_candidates(scenario, options, model.option_sites)
    index = {
        (str(u), str(p), str(g)): i
        for i, (u, p, g) in enumerate(
            zip(options["urn"], options["phase"], options["need_group"], strict=True)
        )
    }
    chosen = [
        candidates.of_option(
            index[(str(row["urn"]), str(row["phase"]), str(row["need_group"]))],
            int(row["places"]),
        )
        for _, row in result.plan.chosen.iterrows()
    ]
    after = solve_network(model.instance.rows, [*model.existing, *result.plan.sites])
    return _Run(model, candidates, chosen, after)


def _served(solution: Solution, site: int) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    mine = (solution.pair_site == site) & (solution.flow > _SERVED)
    return solution.pair_row[mine], solution.flow[mine]


def _figures(run: _Run, base: Sequence[Site], site: Site, before: Solution) -> dict[str, float]:
    """Harm averted (in two parts), children served and newly placed by ``site`` added to
    today's bases and ``base`` (``before``: that network solved): an exact solve of the whole
    network."""
    rows = run.model.instance.rows
    opened = [*run.existing, *base, site]
    after = solve_network(rows, opened)
    served_rows, flow = _served(after, len(opened) - 1)
    served = float(flow.sum())
    minutes = pd.Series(site.minutes, index=site.rows).reindex(served_rows).to_numpy()
    harm = before.objective - after.objective
    placing = mismatch_averted(rows, before, after)
    return {
        "harm_averted": harm,
        "placing": placing,
        "journeys": harm - placing,
        "children_served": served,
        "newly_placed": float(before.unmet.sum() - after.unmet.sum()),
        "minutes_after": float(flow @ minutes / served) if served > _SERVED else float("nan"),
    }


def _option_sites(
    result: RankResult, run: _Run, position: int
) -> list[tuple[str, str, Site, int | None]]:
    """Every option a base at school ``position`` could take: (phase, need group, site,
    option index or None when the rules do not offer it)."""
    scenario, model = result.scenario, run.model
    options = model.options
    school = result.schools.iloc[position]
    offered = {
        (str(o.phase), str(o.need_group)): int(i)
        for i, o in enumerate(options.itertuples())
        if int(o.school) == position
    }
    # The classes an offered option of each phase and need group serves, wherever it is.
    classes = {
        (str(o.phase), str(o.need_group)): model.option_sites[i].classes
        for i, o in enumerate(options.itertuples())
    }
    out: list[tuple[str, str, Site, int | None]] = []
    if school["establishment_group"] != "mainstream":
        return out
    for phase in HOSTABLE_PHASES.get(str(school["phase"]), ()):
        if phase not in scenario.phases:
            continue
        for group in scenario.new_base_keys:
            if (phase, group) in offered:
                option = offered[(phase, group)]
                out.append((phase, group, model.option_sites[option], option))
            elif (phase, group) in classes:
                site = site_at(
                    model.instance,
                    scenario,
                    school=position,
                    classes=classes[(phase, group)],
                    capacity=scenario.base_size,
                )
                out.append((phase, group, site, None))
    return out


def _swappable(result: RankResult, run: _Run, label: str) -> list[bool]:
    """Whether each chosen base may give way to an option of ``label`` (``phase/group``): not
    required, and in the same phase and need group when ``selection.counts`` fixes the mix."""
    scenario = result.scenario
    required = {str(u) for u in scenario.selection.required_urns}
    counts = bool(scenario.selection.counts)
    return [
        str(urn) not in required and (not counts or run.candidates.labels[c] == label)
        for c, urn in zip(run.chosen, result.plan.chosen.get("urn", []), strict=True)
    ]


def _swaps(result: RankResult, run: _Run, site: Site, label: str) -> pd.DataFrame:
    """``site`` in each chosen base's place, each swap an exact solve of the whole network."""
    scenario, plan = result.scenario, result.plan
    rows = run.model.instance.rows
    records = []
    swappable = _swappable(result, run, label)
    for c, (_, chosen), allowed in zip(run.chosen, plan.chosen.iterrows(), swappable, strict=True):
        record: dict[str, Any] = {
            "choice": int(chosen["choice"]),
            "urn": str(chosen["urn"]),
            "name": str(chosen["name"]),
            "phase": str(chosen["phase"]),
            "need_group": str(chosen["need_group"]),
            "harm_averted": float(chosen["harm_averted"]),
            "allowed": allowed,
        }
        rest = [x for x in run.chosen if x != c]
        opened = [*run.existing, *run.sites(rest), site]
        swapped = solve_network(rows, opened)
        _, flow = _served(swapped, len(opened) - 1)
        difference = swapped.objective - run.after.objective
        tolerance = scenario.selection.tie_tolerance * float(chosen["harm_averted"])
        record.update(
            harm_difference=difference,
            children_served=float(flow.sum()),
            unmet_difference=float(swapped.unmet.sum() - run.after.unmet.sum()),
            tie=bool(allowed and difference <= tolerance + _TIE),
        )
        records.append(record)
    columns = [
        "choice", "urn", "name", "phase", "need_group", "harm_averted", "allowed",
        "harm_difference", "children_served", "unmet_difference", "tie",
    ]  # fmt: skip
    return pd.DataFrame.from_records(records, columns=columns)


def _instead(result: RankResult, run: _Run, site: Site) -> pd.DataFrame:
    """Where the children ``site`` would serve alone are in the plan, base by base.

    Children of one demand row are alike, so the option's share of a row is split between the
    row's bases (and its children without a place) in proportion to the plan's flows.
    """
    model = run.model
    rows = model.instance.rows
    alone = solve_network(rows, [*run.existing, site])
    served_rows, flow = _served(alone, len(run.existing))
    if not len(served_rows):
        return pd.DataFrame(
            columns=["kind", "choice", "urn", "name", "base_name", "children", "minutes_there",
                     "minutes_here"]
        )  # fmt: skip
    share = pd.Series(flow, index=served_rows).groupby(level=0).sum()
    here = pd.Series(site.minutes, index=site.rows)
    after = run.after
    mine = np.isin(after.pair_row, share.index.to_numpy()) & (after.flow > _SERVED)
    part = after.flow[mine] * (
        share.reindex(after.pair_row[mine]).to_numpy() / rows.children[after.pair_row[mine]]
    )
    frame = pd.DataFrame(
        {
            "site": after.pair_site[mine],
            "children": part,
            "there": part * after.pair_minutes[mine],
            "here": part * here.reindex(after.pair_row[mine]).to_numpy(),
        }
    )
    unmet_rows = share.index.to_numpy()
    unmet = after.unmet[unmet_rows] * share.to_numpy() / rows.children[unmet_rows]
    fallback = np.nan_to_num(after.unplaced_minutes(model.instance.fallback.minutes)[unmet_rows])
    frame = pd.concat(
        [
            frame,
            pd.DataFrame(
                {
                    "site": -1,
                    "children": unmet,
                    "there": unmet * fallback,
                    "here": unmet * here.reindex(unmet_rows).to_numpy(),
                }
            ),
        ],
        ignore_index=True,
    )
    grouped = frame.groupby("site", sort=True).sum()
    grouped = grouped[grouped["children"] > _SERVED]
    n_existing = len(run.existing)
    existing_table = _existing_table(result)
    records = []
    for index, item in grouped.iterrows():
        record: dict[str, Any] = {"choice": None, "base_name": ""}
        s = int(str(index))
        if s < 0:
            record.update(kind="none", urn="", name="")
        elif s < n_existing:
            base = existing_table.iloc[s]
            record.update(kind="existing", urn=str(base["urn"]), name=str(base["school_name"]),
                          base_name=str(base["base_name"]))  # fmt: skip
        else:
            chosen = result.plan.chosen.iloc[s - n_existing]
            record.update(kind="new", choice=int(chosen["choice"]), urn=str(chosen["urn"]),
                          name=str(chosen["name"]))  # fmt: skip
        children = float(item["children"])
        # A flat fallback has no journey: its minutes are unknown, not 0.
        flat = s < 0 and model.instance.fallback.method == "flat"
        record.update(
            children=children,
            minutes_there=float("nan") if flat else float(item["there"]) / children,
            minutes_here=float(item["here"]) / children,
        )
        records.append(record)
    table = pd.DataFrame.from_records(records)
    table = table.sort_values(["children", "kind"], ascending=[False, True], kind="stable")
    table["choice"] = table["choice"].astype("Int64")
    columns = ["kind", "choice", "urn", "name", "base_name", "children", "minutes_there",
               "minutes_here"]  # fmt: skip
    return table[columns].reset_index(drop=True)


def _existing_table(result: RankResult) -> pd.DataFrame:
    """Today's bases in the order of the model's existing sites (``result.sites`` first rows)."""
    sites = result.sites
    return sites[sites["kind"] == "existing"].reset_index(drop=True)


def _extra(
    result: RankResult, run: _Run, mine: Sequence[tuple[float, Site, str, str]], position: int
) -> ExtraBase:
    """This school (its options ``mine``: exact harm averted on top of the plan, site, phase,
    need group) ranked among the schools without a planned base as one more base on top of
    the whole plan.

    Every other option's value is exact, on one warm LP per class component of the plan's
    network (:class:`sitefinder.model.warm.ComponentTrials`).
    """
    model, candidates = run.model, run.candidates
    options = model.options
    planned = {candidates.locations[c] for c in run.chosen}
    trials = ComponentTrials(model.instance.rows, [*run.existing, *run.sites(run.chosen)])
    best_of: dict[int, tuple[float, Site, str, str]] = {}
    for o, site in enumerate(model.option_sites):
        school = int(options["school"].iloc[o])
        if school in planned or school == position:
            continue
        value = trials.gain(site)
        if school not in best_of or value > best_of[school][0] + _TIE:
            phase, group = str(options["phase"].iloc[o]), str(options["need_group"].iloc[o])
            best_of[school] = (value, site, phase, group)
    own = max(mine, key=lambda item: item[0])  # the first of equals
    rank = 1 + sum(1 for value, *_ in best_of.values() if value > own[0] + _TIE)
    host, best = max(
        [(position, own), *best_of.items()],
        key=lambda item: item[1][0] - _TIE * (item[0] != position),
    )
    _, site, phase, group = best
    figures = _figures(run, run.sites(run.chosen), site, run.after)
    school = result.schools.iloc[host]
    return ExtraBase(
        rank=rank,
        schools=len(best_of) + 1,
        best_urn=str(school["urn"]),
        best_name=str(school["name"]),
        best_phase=phase,
        best_need_group=group,
        best_harm_averted=figures["harm_averted"],
        best_newly_placed=figures["newly_placed"],
        best_children_served=figures["children_served"],
    )


def explain_school(result: RankResult, urn: str | int) -> SchoolExplanation:
    """Explain one school: its data, the rules, its options, and its place in the plan or why
    it has none.

    Parameters
    ----------
    result
        A ranking run (:func:`sitefinder.pipeline.rank`).
    urn
        The school's URN.

    Returns
    -------
    SchoolExplanation
        Every figure an exact LP optimum (harm points, children, minutes); not
        disclosure-controlled (see :func:`sitefinder.why.why_document`).

    Raises
    ------
    DataError
        When no school in the run has this URN (the message suggests close URNs and names).
    """
    urn = str(urn).strip()
    schools = result.schools
    matches = np.flatnonzero(schools["urn"].astype(str).to_numpy() == urn)
    if not len(matches):
        raise unknown_school(schools, urn, source=str(result.scenario.inputs.schools.path))
    if result.model is None:
        raise ValueError("this RankResult carries no model: make it with sitefinder.rank")
    position = int(matches[0])
    row = schools.iloc[position]
    scenario, plan = result.scenario, result.plan
    run = _run(result, result.model)
    rows = run.model.instance.rows
    checks = assess(scenario, result.data.schools, result.data.bases).checks[urn]
    stop = StoppingRule.from_scenario(scenario)
    option_sites = _option_sites(result, run, position)
    chosen = plan.chosen.reset_index(drop=True)
    at_school = [i for i, u in enumerate(chosen.get("urn", [])) if str(u) == urn]
    own = at_school[0] if at_school else None
    rest = [c for i, c in enumerate(run.chosen) if i != own]
    rest_before = solve_network(rows, [*run.existing, *run.sites(rest)])
    greedy = {
        (str(r.urn), str(r.phase), str(r.need_group)): int(r.rank)
        for r in result.ranking.itertuples()
    }
    records: list[dict[str, Any]] = []
    for phase, group, site, option in option_sites:
        planned = own is not None and (
            str(chosen.at[own, "phase"]),
            str(chosen.at[own, "need_group"]),
        ) == (phase, group)
        # The planned base itself may be of another size (selection.sizes).
        mine = run.sites([run.chosen[own]])[0] if planned and own is not None else site
        alone = _figures(run, [], mine, run.model.before)
        with_plan = _figures(run, run.sites(rest), mine, rest_before)
        records.append(
            {
                "phase": phase,
                "need_group": group,
                "need_group_label": scenario.group_label(group),
                "candidate": option is not None,
                "in_plan": planned,
                "choice": int(chosen.at[own, "choice"]) if planned and own is not None else None,
                "greedy_rank": greedy.get((urn, phase, group)),
                **{f"alone_{k}": v for k, v in alone.items()},
                **{f"plan_{k}": v for k, v in with_plan.items()},
                "passes_rule": stop.passes(
                    newly_placed=with_plan["newly_placed"],
                    harm_averted=with_plan["harm_averted"],
                    places=mine.capacity,
                ),
                "swap_difference": np.nan,
                "swap_choice": None,
            }
        )
    options = pd.DataFrame.from_records(records, columns=list(OPTION_COLUMNS))
    options["choice"] = options["choice"].astype("Int64")
    options["greedy_rank"] = options["greedy_rank"].astype("Int64")
    explanation = SchoolExplanation(
        urn=urn,
        name=str(row["name"]),
        facts=_facts(row),
        rules=checks,
        options=options,
        bases=len(plan.chosen),
        requested=plan.requested,
    )
    if own is not None:
        planned_row = {str(k): (None if _missing(v) else v) for k, v in chosen.iloc[own].items()}
        alternatives = plan.alternatives
        if not alternatives.empty:
            alternatives = alternatives[alternatives["choice"] == planned_row["choice"]]
        return dataclasses.replace(
            explanation,
            choice=int(chosen.at[own, "choice"]),
            planned=planned_row,
            alternatives=alternatives.reset_index(drop=True),
            areas=_areas(result, run, own),
        )
    if options.empty:
        return explanation
    # Each option's least swap, from the plan's set scorer (one class component per swap).
    hypothetical = [site for *_, site, option in option_sites if option is None]
    scorer = SetScorer(rows, run.existing, [*run.candidates.sites, *hypothetical])
    current = scorer.harm(run.chosen)
    extra_index = len(run.candidates.sites)
    for i, (phase, group, _, option) in enumerate(option_sites):
        if option is None:
            index, extra_index = extra_index, extra_index + 1
        else:
            index = run.candidates.of_option(option, scenario.base_size)
        allowed = _swappable(result, run, f"{phase}/{group}")
        swaps = [
            (scorer.harm([*(x for x in run.chosen if x != c), index]) - current, p)
            for p, (c, ok) in enumerate(zip(run.chosen, allowed, strict=True))
            if ok
        ]
        if swaps:
            difference, p = min(swaps)
            options.loc[i, "swap_difference"] = difference
            options.loc[i, "swap_choice"] = int(chosen.at[p, "choice"])
    order = sorted(
        range(len(options)),
        key=lambda i: (
            float(np.nan_to_num(options.loc[i, "swap_difference"], nan=np.inf)),
            -float(options.loc[i, "alone_harm_averted"]),
            i,
        ),
    )
    reference = order[0]
    phase, group, site, _ = option_sites[reference]
    reason = plan.left_out.loc[plan.left_out["urn"].astype(str) == urn, "reason"]
    values = [
        (float(options.loc[i, "plan_harm_averted"]), site, phase, group)
        for i, (phase, group, site, _) in enumerate(option_sites)
    ]
    return dataclasses.replace(
        explanation,
        options=options,
        reference=reference,
        instead=_instead(result, run, site),
        swaps=_swaps(result, run, site, f"{phase}/{group}"),
        extra=_extra(result, run, values, position),
        plan_reason=str(reason.iloc[0]) if len(reason) else "",
    )


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _areas(result: RankResult, run: _Run, position: int) -> pd.DataFrame:
    """Areas the planned base at plan position ``position`` serves (children > 0)."""
    after = run.after
    served_rows, flow = _served(after, len(run.existing) + position)
    codes = run.model.instance.demand["area_code"].to_numpy()[served_rows]
    minutes = after.pair_minutes[
        (after.pair_site == len(run.existing) + position) & (after.flow > _SERVED)
    ]
    frame = pd.DataFrame({"area_code": codes, "children": flow, "weighted": flow * minutes})
    grouped = frame.groupby("area_code", sort=True).sum()
    grouped["minutes"] = grouped["weighted"] / grouped["children"]
    names = result.data.areas.set_index("area_code")["area_name"]
    grouped["area_name"] = [str(names.get(code, code)) for code in grouped.index]
    grouped = grouped.sort_values("children", ascending=False, kind="stable").reset_index()
    return grouped[["area_code", "area_name", "children", "minutes"]]
