"""The numerical instance of one authority: demand rows, journeys, harm, and base sites.

This is the adapter between the validated tables and the array-based model (spopt style):
everything the solvers see is built here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.demand import demand_by_group
from sitefinder.fallback import FallbackRows, build_fallback
from sitefinder.load import AuthorityData
from sitefinder.model.network import DemandRows, Site
from sitefinder.supply import HOSTABLE_PHASES
from sitefinder.travel import DriveTimes, area_school_drive_minutes, journey_minutes


@dataclass(frozen=True)
class Instance:
    """The arrays the numerical core works on, with the tables they index.

    Attributes
    ----------
    demand
        Demand rows as a table: ``area_code, phase, need_group, children``.
    rows
        The same rows as arrays for the solvers.
    classes
        ``(phase, need_group)`` of each class id.
    minutes, harm
        Journey minutes and harm points per child, shape (n_rows, n_schools); ``inf`` where
        unreachable.
    travel
        How the drive minutes were found.
    fallback
        Where each row's children go without a base place, and the harm of that (the rows'
        ``unmet_harm``).
    """

    demand: pd.DataFrame
    rows: DemandRows
    classes: Sequence[tuple[str, str]]
    minutes: NDArray[np.float64]  # (n_rows, n_schools) journey minutes
    harm: NDArray[np.float64]  # (n_rows, n_schools) harm points per child
    travel: DriveTimes
    fallback: FallbackRows


def build_instance(scenario: Scenario, data: AuthorityData) -> Instance:
    """Demand rows, journey minutes and harm per child from the authority's validated data."""
    demand = demand_by_group(scenario, data.demand)
    classes = [(p, g) for p in scenario.phases for g in scenario.need_groups]
    class_id = {c: i for i, c in enumerate(classes)}
    klass = np.array(
        [class_id[(p, g)] for p, g in zip(demand["phase"], demand["need_group"], strict=True)],
        dtype=np.intp,
    )
    limits = np.array([scenario.harm.limit_minutes[p] for p in demand["phase"]], dtype=float)
    # Route each area once, then give every demand row its area's journeys.
    travel = area_school_drive_minutes(data.areas, data.schools, journey=scenario.journey)
    row_area = pd.Index(data.areas["area_code"]).get_indexer(demand["area_code"])
    minutes = journey_minutes(travel.minutes[row_area], journey=scenario.journey)
    fallback = build_fallback(
        scenario,
        data.schools,
        classes=classes,
        klass=klass,
        phases=demand["phase"].tolist(),
        minutes=minutes,
    )
    rows = DemandRows(
        children=demand["children"].to_numpy(dtype=float),
        klass=klass,
        limit_minutes=limits,
        unmet_harm=fallback.unmet_harm,
        mismatch_harm=fallback.mismatch_harm,
    )
    harm = np.full_like(minutes, np.inf)
    for phase in scenario.phases:
        mask = (demand["phase"] == phase).to_numpy()
        reachable = np.isfinite(minutes[mask])
        phase_harm = np.full(reachable.shape, np.inf)
        phase_harm[reachable] = scenario.harm.curve(phase)(minutes[mask][reachable])
        harm[mask] = phase_harm
    return Instance(demand, rows, classes, minutes, harm, travel, fallback)


def site_at(
    model: Instance, scenario: Scenario, *, school: int, classes: frozenset[int], capacity: float
) -> Site:
    """A base of ``capacity`` places at school position ``school`` serving ``classes``."""
    reachable = model.minutes[:, school] <= scenario.journey.max_minutes
    rows = np.flatnonzero(np.isin(model.rows.klass, list(classes)) & reachable)
    return Site(
        capacity=float(capacity),
        classes=classes,
        rows=rows,
        minutes=model.minutes[rows, school],
        harm=model.harm[rows, school],
    )


def existing_sites(
    model: Instance, scenario: Scenario, data: AuthorityData
) -> tuple[list[Site], pd.DataFrame]:
    """Today's bases as sites, with a table describing each."""
    position = {urn: i for i, urn in enumerate(data.schools["urn"])}
    groups = scenario.group_of_code()
    class_id = {c: i for i, c in enumerate(model.classes)}
    sites, records = [], []
    for base in data.bases.itertuples():
        served = sorted({groups[c] for c in base.need_codes})
        phases = HOSTABLE_PHASES[str(base.phase)]  # an all-through base serves both phases
        ids = frozenset(
            class_id[(phase, g)] for phase in phases for g in served if (phase, g) in class_id
        )
        if not ids:  # a base for a phase the scenario does not plan for
            continue
        sites.append(
            site_at(model, scenario, school=position[base.urn], classes=ids, capacity=base.capacity)
        )
        records.append(
            {
                "kind": "existing",
                "urn": base.urn,
                "base_name": base.base_name,
                "base_type": base.base_type,
                "phase": base.phase,
                "need_groups": ";".join(served),
                "capacity": base.capacity,
            }
        )
    return sites, pd.DataFrame.from_records(records)
