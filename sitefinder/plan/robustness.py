"""How robust the plan is: choose it again under the assumptions that decide it.

Each run scales the children of every area, phase and need group (all its age bands alike) by a
lognormal factor, draws each assumption from its range (:mod:`sitefinder.plan.ranges`: the
harm curve, the fallback's mismatch penalty and out-of-authority journey, the journeys' speed,
circuity and ride factor), and chooses the set again by the plan's own procedure
(:func:`sitefinder.plan.stopping.choose_set`: the same rules, limits and stopping rule). The
share of runs in which a school hosts a chosen base is its robustness. With runs, each
assumption is also set alone at each end of its range (the one-at-a-time sensitivity), and
where the plan changes, the value at which each base enters or leaves it is found by bisection
(:mod:`sitefinder.plan.stability` words it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.fallback import fallback_harm, fold
from sitefinder.instance import Instance
from sitefinder.model.network import DemandRows, Site
from sitefinder.model.select import SelectionRules, SolverSettings
from sitefinder.model.standalone import StandaloneValues
from sitefinder.plan.candidates import Candidates
from sitefinder.plan.ranges import Assumption, End, RunSettings, assumptions, settings_at
from sitefinder.plan.result import PlanInputs
from sitefinder.plan.stopping import SetProblem, StoppingRule, choose_set

Progress = Callable[[str, int, int], None]
# Robustness runs stop within 0.5% of their optimum: far inside the noise they are testing.
_ROBUST_GAP = 0.005
_CONTENDERS = 30  # candidates per group kept in contention for robustness runs
_BISECTIONS = 6  # halvings of the way from a setting to the end of its range that flips a base

Key = tuple[str, str, str]  # (urn, phase, need group) of a chosen base


def perturb(
    instance: Instance,
    scenario: Scenario,
    sites: Sequence[Site],
    run: RunSettings,
    factors: NDArray[np.float64] | float = 1.0,
) -> tuple[DemandRows, list[Site], list[Site]]:
    """Demand and sites under one run's settings: the rows (children x ``factors``), ``sites``
    with their minutes and harm derived again, and the special schools' places that can fill
    (always open).

    Every journey's minutes beyond the fixed overhead are scaled by ``run.scale``; the pairs
    kept are the scenario's (those within ``journey.max_minutes`` of its own journeys).
    """
    rows = instance.rows
    phase_of_class = np.array([phase for phase, _ in instance.classes])
    row_phase = phase_of_class[rows.klass]
    curves = {phase: run.harm.curve(phase) for phase in scenario.phases}
    overhead = scenario.journey.overhead_minutes

    far = instance.places.far
    far_minutes = far.minutes
    if run.far_moved:
        far_minutes = np.array([run.fallback.minutes_of(p) for p in row_phase], dtype=float)
    journey, mismatch_harm = fallback_harm(
        run.harm, run.fallback, phases=row_phase, minutes=far_minutes
    )

    def reharm(site: Site) -> Site:
        minutes = site.minutes
        if run.scale != 1.0:
            minutes = overhead + (minutes - overhead) * run.scale
        values = np.empty_like(minutes)
        phases = row_phase[site.rows]
        for phase, curve in curves.items():
            mask = phases == phase
            values[mask] = curve(minutes[mask])
        if site.fallback:  # a special school's place: the journey, the mismatch, its kind's
            own = mismatch_harm[site.rows] if site.mismatch is None else site.mismatch
            values += own + site.extra
        return dataclasses.replace(site, minutes=minutes, harm=values)

    children = rows.children * factors
    # The special schools' places under these settings and this demand: a school roomy for
    # today's children may fill with more of them, so which can fill is found again.
    places = instance.places
    last, special = fold(
        children,
        rows.klass,
        [reharm(site) for site in places.offered],
        places.offered_school,
        dataclasses.replace(
            far, minutes=far_minutes, journey_harm=journey, mismatch_harm=mismatch_harm
        ),
    )
    noisy = DemandRows(
        children=children,
        klass=rows.klass,
        limit_minutes=rows.limit_minutes,
        unmet_harm=last.unmet_harm,
        mismatch_harm=mismatch_harm,
    )
    return noisy, [reharm(site) for site in sites], special.sites


def draw(
    instance: Instance, scenario: Scenario, rng: np.random.Generator
) -> tuple[dict[str, End], NDArray[np.float64] | float]:
    """One run's draw: each assumption's value (uniform over its range; per-phase ends move
    together) and each demand row's factor (one lognormal factor per area, phase and need
    group, mean 1, ``robustness.demand_noise`` on the log scale; 1.0 without noise)."""
    sigma = scenario.robustness.demand_noise
    # One factor per area, phase and need group: its age bands move together.
    groups = int(instance.group.max()) + 1 if len(instance.group) else 0
    factors = (
        rng.lognormal(mean=-(sigma**2) / 2, sigma=sigma, size=groups)[instance.group]
        if sigma
        else 1.0
    )
    values = {a.key: a.at(float(rng.uniform())) for a in assumptions(scenario)}
    return values, factors


def _perturbed(
    instance: Instance,
    scenario: Scenario,
    sites: Sequence[Site],
    rng: np.random.Generator,
) -> tuple[DemandRows, list[Site], list[Site]]:
    """:func:`perturb` under one run's :func:`draw`."""
    values, factors = draw(instance, scenario, rng)
    return perturb(instance, scenario, sites, settings_at(scenario, values), factors)


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
class RobustnessRuns:
    """What the runs found.

    Attributes
    ----------
    shares
        Share of runs in which each school (URN) hosts a chosen base.
    runs, unproven, time_limited
        Runs made, those not proven within 0.5% of optimal, those the clock stopped.
    hits
        Runs in which each base ``(urn, phase, need_group)`` was chosen.
    plan
        The bases chosen with every assumption at its setting and no demand noise (the
        sensitivity's reference).
    sensitivity
        One row per assumption and end: ``assumption, label, end, value, changed, enters,
        leaves`` (``enters``/``leaves``: the bases, as keys).
    flips
        Each base's flips: ``(key, assumption, end, enters, value)``: the base enters
        (``enters``) or leaves the plan once the assumption passes ``value`` on the way from
        its setting towards that end.
    assumptions
        The assumptions varied.
    """

    shares: pd.Series
    runs: int
    unproven: int
    time_limited: int
    hits: dict[Key, int] = field(default_factory=dict)
    plan: frozenset[Key] = frozenset()
    sensitivity: list[dict[str, object]] = field(default_factory=list)
    flips: list[tuple[Key, Assumption, str, bool, End]] = field(default_factory=list)
    assumptions: list[Assumption] = field(default_factory=list)


def _between(setting: End, end: End, t: float) -> End:
    """The value ``t`` of the way from ``setting`` (0) to ``end`` (1), phase by phase."""
    if isinstance(setting, dict) or isinstance(end, dict):
        return {p: (1 - t) * _of(setting, p) + t * _of(end, p) for p in ("primary", "secondary")}
    return (1 - t) * float(setting) + t * float(end)


def _of(value: End, phase: str) -> float:
    return float(value[phase] if isinstance(value, dict) else value)


def robustness_runs(
    inputs: PlanInputs,
    scenario: Scenario,
    problem: SetProblem,
    *,
    settings: SolverSettings,
    progress: Progress | None = None,
) -> RobustnessRuns:
    """Choose the set ``scenario.robustness.runs`` times under the draws, then once at each
    end of each assumption's range (the others at their settings, no demand noise).

    ``problem`` is the plan's own (candidates, rules, and the plan's first set as each run's
    starting point); each run keeps only the candidates in contention.
    """
    runs = scenario.robustness.runs
    if not runs:
        return RobustnessRuns(pd.Series(dtype=float), 0, 0, 0)
    rng = np.random.default_rng(scenario.robustness.seed)
    candidates, rules, start = _contenders(
        problem.candidates, problem.rules, inputs.greedy.standalone, problem.start or []
    )
    time_limit = scenario.robustness.time_limit_seconds
    noisy_settings = dataclasses.replace(settings, rel_gap=_ROBUST_GAP, time_limit=time_limit)
    exact = dataclasses.replace(settings, time_limit=time_limit)
    stop = StoppingRule.from_scenario(scenario)
    options = inputs.options
    places = inputs.instance.places
    bases = inputs.existing[: len(inputs.existing) - len(places.sites)]
    varied = assumptions(scenario)
    counts = {"unproven": 0, "time": 0}

    def choose(
        values: Mapping[str, End], factors: NDArray[np.float64] | float, how: SolverSettings
    ) -> frozenset[Key]:
        run = settings_at(scenario, values)
        rows, sites, special = perturb(
            inputs.instance, scenario, [*bases, *candidates.sites], run, factors
        )
        trial = SetProblem(
            rows,
            [*sites[: len(bases)], *special],
            dataclasses.replace(candidates, sites=sites[len(bases) :]),
            rules,
            start,  # the plan itself: a good first incumbent under any settings
        )
        chosen = choose_set(trial, settings=how, stop=stop)
        counts["unproven"] += not chosen.selection.proven
        counts["time"] += chosen.selection.limit == "time"
        picked = options.iloc[candidates.option[chosen.chosen]]
        return frozenset(
            (str(u), str(p), str(g))
            for u, p, g in zip(picked["urn"], picked["phase"], picked["need_group"], strict=True)
        )

    hits: dict[Key, int] = {}
    for run in range(runs):
        values, factors = draw(inputs.instance, scenario, rng)
        for key in choose(values, factors, noisy_settings):
            hits[key] = hits.get(key, 0) + 1
        if progress is not None:
            progress("robustness runs", run + 1, runs)
    unproven, time_limited = counts["unproven"], counts["time"]
    by_urn: dict[str, int] = {}
    for (urn, _, _), n in sorted(hits.items()):
        by_urn[urn] = by_urn.get(urn, 0) + n
    # A school hosting two chosen bases in one run counts that run once.
    shares = pd.Series({urn: min(n, runs) / runs for urn, n in by_urn.items()}, dtype=float)

    # One at a time: each assumption at each end, the others at their settings.
    plan = choose({}, 1.0, exact)
    sensitivity: list[dict[str, object]] = []
    flips: list[tuple[Key, Assumption, str, bool, End]] = []
    ends = [(a, end) for a in varied if a.varies for end in ("low", "high")]
    for done, (assumption, end) in enumerate(ends, start=1):
        value = assumption.low if end == "low" else assumption.high
        cache: dict[float, frozenset[Key]] = {0.0: plan}

        def at(
            t: float,
            assumption: Assumption = assumption,
            value: End = value,
            cache: dict[float, frozenset[Key]] = cache,
        ) -> frozenset[Key]:
            if t not in cache:
                between = _between(assumption.setting, value, t)
                cache[t] = choose({assumption.key: between}, 1.0, exact)
            return cache[t]

        there = at(1.0)
        sensitivity.append(
            {
                "assumption": assumption.key,
                "label": assumption.label,
                "end": end,
                "value": value,
                "changed": there != plan,
                "enters": sorted(there - plan),
                "leaves": sorted(plan - there),
            }
        )
        for key in sorted(there ^ plan):
            inside, outside = 0.0, 1.0  # key's membership is the plan's at inside, not outside
            for _ in range(_BISECTIONS):
                middle = (inside + outside) / 2
                if (key in at(middle)) == (key in plan):
                    inside = middle
                else:
                    outside = middle
            flip = _between(assumption.setting, value, (inside + outside) / 2)
            flips.append((key, assumption, end, key not in plan, flip))
        if progress is not None:
            progress("one-at-a-time sensitivity", done, len(ends))
    return RobustnessRuns(
        shares, runs, unproven, time_limited, hits, plan, sensitivity, flips, varied
    )
