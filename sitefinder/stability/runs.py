"""How sure the plan is: choose it again under the assumptions that decide it.

Each run draws every assumption from its range (:mod:`sitefinder.stability.ranges`: the harm
curve, the fallback's mismatch penalty and out-of-authority journey, the journeys' speed,
circuity and ride factor, today's unrecorded places, demand's growth and the share of EHC plans
needing a base place) and a noise factor on the children of every area, phase and need group,
and chooses the set again by the plan's own procedure (:mod:`sitefinder.stability.trial`). The
share of runs in which a base is chosen is its stability. Each assumption is also set alone at
each end of its range (each other choice), the others at their settings (the one-at-a-time
sensitivity), and where a base enters or leaves the plan there, the value at which it does is
found (:mod:`sitefinder.stability.search`; :mod:`sitefinder.stability.statement` words it).

The inputs are loaded once: every run is a task on one shared
:class:`~sitefinder.stability.trial.Trial` (the instance, today's bases, the candidates in
contention), solved here or on local worker processes (``robustness.workers``,
:mod:`sitefinder.stability.pool`), each starting from the plan's own set. The draws are made
here, in order, so the runs give the same answer on any number of workers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from sitefinder.config import Scenario
from sitefinder.model.select import SolverSettings
from sitefinder.stability.outcome import Flip, Key, RobustnessRuns
from sitefinder.stability.perturb import draw
from sitefinder.stability.pool import pool
from sitefinder.stability.ranges import assumptions, between
from sitefinder.stability.search import Found, Search, bisect
from sitefinder.stability.statement import STRONG
from sitefinder.stability.trial import Job, Outcome, Trial, make_trial, solve

if TYPE_CHECKING:
    from sitefinder.plan.result import PlanInputs
    from sitefinder.plan.stopping import SetProblem

Progress = Callable[[str, int, int], None]


def _task(trial: Trial, item: Job | Search) -> Outcome | Found:
    """A job's set, or a search's flips (the pool's one task)."""
    return solve(trial, item) if isinstance(item, Job) else bisect(trial, item)


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
    trial = make_trial(inputs, scenario, problem, settings)
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
        measured = workers.map(solve, jobs, label="One assumption at a time", progress=progress)
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
        done = workers.map(_task, items, label="Robustness runs", progress=progress)
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
        flipped += workers.map(bisect, entering, label="Where each base flips", progress=progress)
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
