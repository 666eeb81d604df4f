"""One run's world: its draw of the assumptions and demand, and the network under them.

:func:`draw` takes each assumption's value (uniform over its range, or one of its choices) and
each demand row's noise factor; :func:`perturb` derives the demand rows, today's bases, the
candidates and the special schools' places under a run's settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.fallback import fallback_harm, fold
from sitefinder.instance import Instance
from sitefinder.model.network import DemandRows, Site
from sitefinder.stability.ranges import Assumption, End, RunSettings
from sitefinder.stability.shifts import Shifts


@dataclass(frozen=True)
class Perturbed:
    """The network of one run: its demand rows, today's bases, the candidates, and the
    special schools' places that can fill (always open)."""

    rows: DemandRows
    bases: list[Site]
    candidates: list[Site]
    special: list[Site]


def draw(
    instance: Instance,
    scenario: Scenario,
    varied: Sequence[Assumption],
    rng: np.random.Generator,
) -> tuple[dict[str, End], NDArray[np.float64] | float]:
    """One run's draw: each assumption's value (uniform over its range, per-phase ends moving
    together; or one of its choices, each as likely) and each demand row's factor (one
    lognormal factor per area, phase and need group, mean 1, ``robustness.demand_noise`` on
    the log scale; 1.0 without noise)."""
    sigma = scenario.robustness.demand_noise
    # One factor per area, phase and need group: its age bands move together.
    groups = int(instance.group.max()) + 1 if len(instance.group) else 0
    factors = (
        rng.lognormal(mean=-(sigma**2) / 2, sigma=sigma, size=groups)[instance.group]
        if sigma
        else 1.0
    )
    values = {a.key: a.at(float(rng.uniform())) for a in varied}
    return values, factors


def perturb(
    instance: Instance,
    scenario: Scenario,
    run: RunSettings,
    *,
    bases: Sequence[Site] = (),
    candidates: Sequence[Site] = (),
    factors: NDArray[np.float64] | float = 1.0,
    shifts: Shifts | None = None,
) -> Perturbed:
    """Demand and sites under one run's settings: the rows (children x ``factors`` x the
    share's and growth's factors), ``bases`` (today's, with their unrecorded places scaled by
    ``run.places``) and ``candidates`` with their minutes and harm derived again, and the
    special schools' places that can fill.

    Every journey's minutes beyond the fixed overhead are scaled by ``run.scale``; the pairs
    kept are the scenario's (those within ``journey.max_minutes`` of its own journeys).
    """
    shifts = shifts or Shifts()
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

    children = rows.children * factors * shifts.demand(run.share, run.growth)
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
    unrecorded = shifts.unrecorded
    today = []
    for i, site in enumerate(bases):
        site = reharm(site)
        if run.places != 1.0 and i < len(unrecorded) and unrecorded[i]:
            site = dataclasses.replace(site, capacity=site.capacity * run.places)
        today.append(site)
    return Perturbed(noisy, today, [reharm(site) for site in candidates], special.sites)
