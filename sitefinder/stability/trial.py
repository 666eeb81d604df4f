"""One choice of the set under a run's settings, and what every run shares.

A :class:`Trial` holds what every run shares (the instance, today's bases, the candidates in
contention, how to choose); a :class:`Job` is one choice of the set: the assumptions' values,
the demand noise and the solver settings; :func:`solve` makes it by the plan's own procedure
(:func:`sitefinder.plan.stopping.choose_set`: the same rules, limits and stopping rule).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.instance import Instance
from sitefinder.model.network import Site
from sitefinder.model.select import SelectionRules, SolverSettings
from sitefinder.model.standalone import StandaloneValues
from sitefinder.stability.outcome import Key
from sitefinder.stability.perturb import perturb
from sitefinder.stability.ranges import End, settings_at
from sitefinder.stability.shifts import Shifts, shifts_of

if TYPE_CHECKING:
    from sitefinder.plan.candidates import Candidates
    from sitefinder.plan.result import PlanInputs
    from sitefinder.plan.stopping import SetProblem, StoppingRule

# Robustness runs stop within 0.5% of their optimum: far inside the noise they are testing.
_ROBUST_GAP = 0.005
_CONTENDERS = 30  # candidates per group kept in contention for robustness runs


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


def make_trial(
    inputs: PlanInputs, scenario: Scenario, problem: SetProblem, settings: SolverSettings
) -> Trial:
    """What the runs of the plan ``problem`` (chosen from ``inputs`` by ``settings``)
    share."""
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
