"""How sure the plan is: choose it again under the assumptions that decide it.

Each run draws every assumption from its range (:mod:`sitefinder.stability.ranges`: the harm
curve, the fallback's mismatch penalty and out-of-authority journey, the journeys' speed,
circuity and ride factor, today's unrecorded places, demand's growth and the share of EHC plans
needing a base place) and a noise factor on the children of every area, phase and need group,
and chooses the set again by the plan's own procedure
(:func:`sitefinder.plan.stopping.choose_set`: the same rules, limits and stopping rule). The
share of runs in which a base is chosen is its stability. Each assumption is also set alone at
each end of its range (each other choice), the others at their settings (the one-at-a-time
sensitivity), and where a base enters or leaves the plan there, the value at which it does is
found by bisection (:mod:`sitefinder.stability.statement` words it).

The inputs are loaded once: every run is a task on one shared :class:`Trial` (the instance,
today's bases, the candidates in contention), solved here or on local worker processes
(``robustness.workers``, :mod:`sitefinder.stability.pool`), each starting from the plan's own
set. The draws are made here, in order, so the runs give the same answer on any number of
workers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.instance import Instance
from sitefinder.model.network import Site
from sitefinder.model.select import SelectionRules, SolverSettings
from sitefinder.model.standalone import StandaloneValues
from sitefinder.stability.outcome import Flip, Key, RobustnessRuns
from sitefinder.stability.perturb import draw, perturb
from sitefinder.stability.pool import pool
from sitefinder.stability.ranges import Assumption, End, assumptions, between, settings_at
from sitefinder.stability.shifts import Shifts, shifts_of
from sitefinder.stability.statement import STRONG

if TYPE_CHECKING:
    from sitefinder.plan.candidates import Candidates
    from sitefinder.plan.result import PlanInputs
    from sitefinder.plan.stopping import SetProblem, StoppingRule

Progress = Callable[[str, int, int], None]
# Robustness runs stop within 0.5% of their optimum: far inside the noise they are testing.
_ROBUST_GAP = 0.005
_CONTENDERS = 30  # candidates per group kept in contention for robustness runs
BISECTIONS = 4
"""Halvings of the way from a setting to the end of its range where the plan changes: the
value at which a base flips is found within 1/32 of that way."""


def _contenders(
    candidates: Candidates,
    rules: SelectionRules,
    standalone: StandaloneValues,
    keep: Sequence[int],
) -> tuple[Candidates, SelectionRules, list[int]]:
    """The candidates in contention: the strongest alone in each group, plus ``keep``.

    Robustness re-chooses the set many times; a base that averts little on its own will not
    enter a set of K under moderate noise, and leaving it out keeps each MIP small.
    """
    grouped = rules.counts is not None
    labels = np.asarray(candidates.labels if grouped else [""] * len(candidates.sites))
    counts = rules.counts if rules.counts is not None else {"": rules.total()}
    per_group = max(_CONTENDERS, 6 * max(counts.values(), default=0))
    # Only the options that could be among each group's strongest are valued (NaN: not).
    value = np.full(len(candidates.sites), -np.inf)
    for label in np.unique(labels):
        mine = np.flatnonzero(labels == label)
        options, where = np.unique(candidates.option[mine], return_inverse=True)
        value[mine] = standalone.strongest(options, per_group)[where]
    value = np.nan_to_num(value, nan=-np.inf)
    chosen = set(keep) | set(rules.required)
    for label in np.unique(labels):
        mine = np.flatnonzero(labels == label)
        chosen |= set(mine[np.argsort(-value[mine], kind="stable")][:per_group].tolist())
    subset = sorted(chosen)
    position = {c: i for i, c in enumerate(subset)}
    return candidates.subset(subset), rules.restricted(subset), [position[c] for c in keep]


@dataclass(frozen=True)
class Trial:
    """What every run shares: the inputs, the candidates in contention and how to choose.

    Attributes
    ----------
    instance, scenario
        The authority's instance and its scenario.
    bases
        Today's bases (the special schools' places are derived again in each run).
    candidates, rules
        The candidates in contention and the selection rules over them.
    start
        The set every run starts from (the plan's first set).
    keys
        Each candidate's base, ``(urn, phase, need group)``.
    shifts
        The inputs' part of each run's settings.
    stop
        The stopping rule.
    noisy, exact
        Solver settings of the Monte Carlo runs (within :data:`_ROBUST_GAP`) and of the
        sensitivity (the plan's own gap).
    plan
        The candidates chosen at the settings, without noise (the sensitivity's reference).
    """

    instance: Instance
    scenario: Scenario
    bases: list[Site]
    candidates: Candidates
    rules: SelectionRules
    start: list[int]
    keys: list[Key]
    shifts: Shifts
    stop: StoppingRule
    noisy: SolverSettings
    exact: SolverSettings
    plan: tuple[int, ...] = ()


@dataclass(frozen=True)
class Job:
    """One choice of the set: the assumptions' values (the others at their settings), the
    demand noise, whether exactly and with the harm averted measured, and the set to start
    from (None: the plan's first set)."""

    values: Mapping[str, End]
    factors: NDArray[np.float64] | float = 1.0
    exact: bool = False
    start: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Outcome:
    """A job's set: its bases and candidates, how the search ended, and (exact jobs) the harm
    its bases avert and the harm the plan's would add in their place (harm points)."""

    keys: frozenset[Key]
    chosen: tuple[int, ...]
    first: tuple[int, ...]
    proven: bool
    time_limited: bool
    averted: float = float("nan")
    regret: float = float("nan")


def solve(trial: Trial, job: Job) -> Outcome:
    """Choose the set of one job (a task: run here or on a worker)."""
    # The plan package runs the stability runs, so its procedure is imported when used.
    from sitefinder.plan.stopping import SetProblem, choose_set

    candidates = trial.candidates
    world = perturb(
        trial.instance,
        trial.scenario,
        settings_at(trial.scenario, job.values),
        bases=trial.bases,
        candidates=candidates.sites,
        factors=job.factors,
        shifts=trial.shifts,
    )
    problem: SetProblem = SetProblem(
        world.rows,
        [*world.bases, *world.special],
        dataclasses.replace(candidates, sites=world.candidates),
        trial.rules,
        # The plan itself: a good first incumbent under any settings.
        trial.start if job.start is None else list(job.start),
    )
    chosen = choose_set(
        problem, settings=trial.exact if job.exact else trial.noisy, stop=trial.stop
    )
    picked = tuple(int(c) for c in chosen.chosen)
    outcome = Outcome(
        frozenset(trial.keys[c] for c in picked),
        picked,
        tuple(int(c) for c in chosen.first),
        chosen.selection.proven,
        chosen.selection.limit == "time",
    )
    if not job.exact:
        return outcome
    scorer = chosen.scorer
    harm = scorer.harm(list(picked))
    return dataclasses.replace(
        outcome,
        averted=scorer.harm([]) - harm,
        regret=scorer.harm(list(trial.plan)) - harm if trial.plan else 0.0,
    )


@dataclass(frozen=True)
class Search:
    """Where the bases ``keys`` flip as ``assumption`` goes from its setting (0) to ``end``
    (1), where the plan is ``there``; ``solved`` holds the plans already found on the way, by
    point."""

    assumption: Assumption
    name: str
    end: End
    keys: tuple[Key, ...]
    plan: frozenset[Key]
    there: frozenset[Key]
    solved: Mapping[float, frozenset[Key]] = field(default_factory=dict)


@dataclass(frozen=True)
class Found:
    """What a search found: the point at which each base flips, and the plans it solved."""

    points: dict[Key, float]
    solved: dict[float, frozenset[Key]]


def bisect(trial: Trial, search: Search) -> Found:
    """The point of the way from the setting (0) to the end (1) at which each base of
    ``search`` first flips, and any other base that flips on the way (a task: run here or on a
    worker).

    The plan is a step function of the point: an interval whose two ends have the same plan is
    taken to hold it throughout, and one whose ends differ is halved, nearer half first, until
    it is ``1 / 2**BISECTIONS`` wide; a base flips in the middle of the first such interval
    that moves it. The search stops once every base asked about has flipped, so bases flipping
    together cost one search, and changes beyond them cost nothing.
    """
    assumption = search.assumption
    found: dict[Key, float] = {}
    solved = dict(search.solved)
    starts: dict[float, tuple[int, ...]] = {}

    def at(t: float) -> frozenset[Key]:
        if t not in solved:
            value = between(assumption.setting, search.end, t)
            # From the nearest set found towards the setting: most intervals hold one plan.
            nearer = [starts[s] for s in sorted(starts) if s < t]
            job = Job({assumption.key: value}, exact=True, start=nearer[-1] if nearer else None)
            outcome = solve(trial, job)
            solved[t], starts[t] = outcome.keys, outcome.first
        return solved[t]

    def split(low: float, high: float, first: frozenset[Key], last: frozenset[Key]) -> None:
        if first == last or all(key in found for key in search.keys):
            return
        if high - low <= 1.0 / 2**BISECTIONS:
            for key in sorted(first ^ last):
                if key not in found and (key in last) != (key in search.plan):
                    found[key] = (low + high) / 2
            return
        middle = (low + high) / 2
        inside = at(middle)
        split(low, middle, first, inside)
        split(middle, high, inside, last)

    split(0.0, 1.0, search.plan, search.there)
    return Found(found, solved)


def _task(trial: Trial, item: Job | Search) -> Outcome | Found:
    """A job's set, or a search's flips (the pool's one task)."""
    return solve(trial, item) if isinstance(item, Job) else bisect(trial, item)


def _trial(
    inputs: PlanInputs, scenario: Scenario, problem: SetProblem, settings: SolverSettings
) -> Trial:
    from sitefinder.plan.stopping import StoppingRule

    candidates, rules, start = _contenders(
        problem.candidates, problem.rules, inputs.greedy.standalone, problem.start or []
    )
    places = inputs.instance.places
    bases = list(inputs.existing[: len(inputs.existing) - len(places.sites)])
    options = inputs.options.iloc[candidates.option]
    keys = [
        (str(u), str(p), str(g))
        for u, p, g in zip(options["urn"], options["phase"], options["need_group"], strict=True)
    ]
    time_limit = scenario.robustness.time_limit_seconds
    return Trial(
        instance=inputs.instance,
        scenario=scenario,
        bases=bases,
        candidates=candidates,
        rules=rules,
        start=start,
        keys=keys,
        shifts=shifts_of(inputs.instance, scenario, inputs.data, bases=len(bases)),
        stop=StoppingRule.from_scenario(scenario),
        noisy=dataclasses.replace(settings, rel_gap=_ROBUST_GAP, time_limit=time_limit),
        exact=dataclasses.replace(settings, time_limit=time_limit),
    )


def _shares(outcomes: Sequence[Outcome]) -> tuple[pd.Series, dict[Key, int]]:
    """Each school's share of the runs in which it hosts a chosen base (a school hosting two
    in one run counts that run once), and the runs that chose each base."""
    hits: dict[Key, int] = {}
    by_urn: dict[str, set[int]] = {}
    for run, outcome in enumerate(outcomes):
        for key in outcome.keys:
            hits[key] = hits.get(key, 0) + 1
            by_urn.setdefault(key[0], set()).add(run)
    shares = {urn: len(found) / len(outcomes) for urn, found in sorted(by_urn.items())}
    return pd.Series(shares, dtype=float), hits


def robustness_runs(
    inputs: PlanInputs,
    scenario: Scenario,
    problem: SetProblem,
    *,
    settings: SolverSettings,
    progress: Progress | None = None,
) -> RobustnessRuns:
    """Choose the set ``scenario.robustness.runs`` times under the draws, and once at each end
    of each assumption's range (the others at their settings, no demand noise), and find where
    the bases that change there flip: every base of the plan, and every strong alternative
    (chosen in :data:`STRONG` of the runs); a weaker one is said to flip by the end.

    ``problem`` is the plan's own (candidates, rules, and the plan's first set as each run's
    starting point); each run keeps only the candidates in contention.
    """
    runs = scenario.robustness.runs
    if not runs:
        return RobustnessRuns(pd.Series(dtype=float), 0, 0, 0)
    trial = _trial(inputs, scenario, problem, settings)
    varied = assumptions(scenario, inputs.data)
    rng = np.random.default_rng(scenario.robustness.seed)
    draws = [draw(inputs.instance, scenario, varied, rng) for _ in range(runs)]
    reference = solve(trial, Job({}, exact=True))
    trial = dataclasses.replace(trial, plan=reference.chosen)
    plan = reference.keys
    ends = [(a, name, value) for a in varied if a.varies for name, value in a.ends()]
    moved = [i for i, (a, _, value) in enumerate(ends) if value != a.setting]
    at_end = [reference] * len(ends)  # an end at the setting is the reference itself
    with pool(trial, workers=scenario.robustness.workers) as workers:
        jobs = [Job({ends[i][0].key: ends[i][2]}, exact=True) for i in moved]
        measured = workers.map(solve, jobs, label="one assumption at a time", progress=progress)
        for i, outcome in zip(moved, measured, strict=True):
            at_end[i] = outcome
        ranged = [
            (a, name, value, outcome.keys)
            for (a, name, value), outcome in zip(ends, at_end, strict=True)
            if not a.choices and outcome.keys != plan
        ]
        # Where each base of the plan leaves it: the longest tasks, so first, the runs filling
        # in around them.
        leaving = [
            Search(a, name, value, tuple(sorted(plan - keys)), plan, keys)
            for a, name, value, keys in ranged
        ]
        items: list[Job | Search] = [*leaving, *(Job(v, f) for v, f in draws)]
        done = workers.map(_task, items, label="robustness runs", progress=progress)
        flipped = cast(list[Found], done[: len(leaving)])
        outcomes = cast(list[Outcome], done[len(leaving) :])
        shares, hits = _shares(outcomes)
        # Then where each strong alternative enters, unless it entered as a base left, going
        # on from the plans the search for the bases leaving found.
        entering = []
        for (a, name, value, keys), known in zip(ranged, flipped, strict=True):
            strong = [
                k
                for k in sorted(keys - plan)
                if k not in known.points and hits.get(k, 0) >= runs * STRONG
            ]
            if strong:
                entering.append(Search(a, name, value, tuple(strong), plan, keys, known.solved))
        flipped += workers.map(bisect, entering, label="where each base flips", progress=progress)
    points: dict[tuple[str, str], dict[Key, float]] = {}
    for search, known in zip([*leaving, *entering], flipped, strict=True):
        points.setdefault((search.assumption.key, search.name), {}).update(known.points)
    sensitivity: list[dict[str, object]] = []
    flips: list[Flip] = []
    for (a, name, value), there in zip(ends, at_end, strict=True):
        sensitivity.append(
            {
                "assumption": a.key,
                "label": a.label,
                "end": name,
                "value": value,
                "changed": there.keys != plan,
                "enters": sorted(there.keys - plan),
                "leaves": sorted(plan - there.keys),
                "harm_averted": there.averted,
                "change": there.averted - reference.averted,
                "regret": there.regret,
            }
        )
        where = points.get((a.key, name), {})
        for key in sorted(there.keys ^ plan):
            if key in where:
                point = between(a.setting, value, where[key])
                flips.append(Flip(key, a, name, key not in plan, point))
            else:  # a choice, or a weak alternative: it flips by the end
                flips.append(Flip(key, a, name, key not in plan, value, at_end=True))
    solved = [reference, *measured, *outcomes]
    return RobustnessRuns(
        shares,
        runs,
        unproven=sum(not o.proven for o in solved),
        time_limited=sum(o.time_limited for o in solved),
        hits=hits,
        plan=plan,
        averted=reference.averted,
        sensitivity=sensitivity,
        flips=flips,
        assumptions=varied,
    )
