"""How robust the plan is: choose it again under seeded noise on demand and harm settings.

Each run scales the children of every area, phase and need group (all its age bands alike) by a
lognormal factor, draws each harm setting from its range, and chooses the set again by the
plan's own procedure (:func:`sitefinder.plan.stopping.choose_set`: the same rules, limits and
stopping rule). The share of runs in which a school hosts a chosen base is its robustness.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sitefinder.config import Scenario
from sitefinder.fallback import fallback_harm, fold
from sitefinder.instance import Instance
from sitefinder.model.network import DemandRows, Site
from sitefinder.model.select import SelectionRules, SolverSettings
from sitefinder.model.standalone import StandaloneValues
from sitefinder.plan.candidates import Candidates
from sitefinder.plan.result import PlanInputs
from sitefinder.plan.stopping import SetProblem, StoppingRule, choose_set

Progress = Callable[[str, int, int], None]
# Robustness runs stop within 0.5% of their optimum: far inside the noise they are testing.
_ROBUST_GAP = 0.005
_CONTENDERS = 30  # candidates per group kept in contention for robustness runs


def _perturbed(
    instance: Instance,
    scenario: Scenario,
    sites: Sequence[Site],
    rng: np.random.Generator,
) -> tuple[DemandRows, list[Site], list[Site]]:
    """Demand and sites under one run's noise: the rows, ``sites`` re-harmed, and the special
    schools' places that can fill (always open)."""
    rules = scenario.robustness
    rows = instance.rows
    sigma = rules.demand_noise
    # One factor per area, phase and need group: its age bands move together.
    groups = int(instance.group.max()) + 1 if len(instance.group) else 0
    factors = (
        rng.lognormal(mean=-(sigma**2) / 2, sigma=sigma, size=groups)[instance.group]
        if sigma
        else 1.0
    )
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

    far = instance.places.far
    journey, mismatch_harm = fallback_harm(
        harm, fallback, phases=phase_of_class[rows.klass], minutes=far.minutes
    )

    def reharm(site: Site) -> Site:
        values = np.empty_like(site.minutes)
        phases = phase_of_class[rows.klass[site.rows]]
        for phase, curve in curves.items():
            mask = phases == phase
            values[mask] = curve(site.minutes[mask])
        if site.fallback:  # a special school's place: the journey, the mismatch, its kind's
            own = mismatch_harm[site.rows] if site.mismatch is None else site.mismatch
            values += own + site.extra
        return dataclasses.replace(site, harm=values)

    children = rows.children * factors
    # The special schools' places under these settings and this demand: a school roomy for
    # today's children may fill with more of them, so which can fill is found again.
    places = instance.places
    last, special = fold(
        children,
        rows.klass,
        [reharm(site) for site in places.offered],
        places.offered_school,
        dataclasses.replace(far, journey_harm=journey, mismatch_harm=mismatch_harm),
    )
    noisy = DemandRows(
        children=children,
        klass=rows.klass,
        limit_minutes=rows.limit_minutes,
        unmet_harm=last.unmet_harm,
        mismatch_harm=mismatch_harm,
    )
    return noisy, [reharm(site) for site in sites], special.sites


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
    """Share of runs in which each school (URN) hosts a chosen base, and how runs stopped."""

    shares: pd.Series
    runs: int
    unproven: int
    time_limited: int


def robustness_runs(
    inputs: PlanInputs,
    scenario: Scenario,
    problem: SetProblem,
    *,
    settings: SolverSettings,
    progress: Progress | None = None,
) -> RobustnessRuns:
    """Choose the set ``scenario.robustness.runs`` times under noise.

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
    settings = dataclasses.replace(
        settings, rel_gap=_ROBUST_GAP, time_limit=scenario.robustness.time_limit_seconds
    )
    stop = StoppingRule.from_scenario(scenario)
    urns = inputs.options["urn"].to_numpy()
    places = inputs.instance.places
    bases = inputs.existing[: len(inputs.existing) - len(places.sites)]
    hits: dict[str, int] = {}
    unproven = time_limited = 0
    for run in range(runs):
        rows, sites, special = _perturbed(
            inputs.instance, scenario, [*bases, *candidates.sites], rng
        )
        noisy = SetProblem(
            rows,
            [*sites[: len(bases)], *special],
            dataclasses.replace(candidates, sites=sites[len(bases) :]),
            rules,
            start,  # the plan itself: a good first incumbent under any noise
        )
        chosen = choose_set(noisy, settings=settings, stop=stop)
        selection = chosen.selection
        unproven += not selection.proven
        time_limited += selection.limit == "time"
        # Sorted, not in set order: string hashes differ between processes.
        for urn in sorted({str(u) for u in urns[candidates.option[chosen.chosen]]}):
            hits[urn] = hits.get(urn, 0) + 1
        if progress is not None:
            progress("robustness runs", run + 1, runs)
    shares = pd.Series({urn: n / runs for urn, n in hits.items()}, dtype=float)
    return RobustnessRuns(shares, runs, unproven, time_limited)
