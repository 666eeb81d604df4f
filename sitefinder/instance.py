"""The numerical instance of one authority: demand rows, journeys, harm, and base sites.

This is the adapter between the validated tables and the array-based model (spopt style):
everything the solvers see is built here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.age_bands import band_runs, banded_demand, merge_runs, within
from sitefinder.config import Scenario
from sitefinder.fallback import (
    FallbackPlaces,
    FallbackRows,
    FallbackSchools,
    build_fallback,
    fallback_keys,
    fallback_schools,
    fallback_sites,
    fold,
    method_notes,
)
from sitefinder.journeys import RowJourneys
from sitefinder.load import AuthorityData
from sitefinder.model.network import DemandRows, Site
from sitefinder.supply import HOSTABLE_PHASES, ages_text, phase_ages, served_ages
from sitefinder.travel import AreaJourneys, area_school_journeys


@dataclass(frozen=True)
class Instance:
    """The arrays the numerical core works on, with the tables they index.

    Attributes
    ----------
    demand
        Demand rows as a table: ``area_code, phase, need_group, first_age, last_age,
        children``, one row per area, class and age band (see :mod:`sitefinder.age_bands`).
    rows
        The same rows as arrays for the solvers.
    classes
        ``(phase, need_group)`` of each class id.
    journeys
        Journey minutes from each row to each school within ``journey.max_minutes``: only
        those pairs are kept (:class:`sitefinder.journeys.RowJourneys`, stored per area and
        school), so memory grows with the pairs within reach, not rows x schools.
    pair_harm
        Harm points per child of each (area, school) pair's journey for each planned phase,
        shape (n_phases, n_pairs): the row's phase picks the line.
    row_phase
        Each row's phase as a position in ``scenario.phases``.
    travel
        How the journeys were found.
    fallback
        The out-of-authority journey of each row's children no special school place takes,
        and its harm (the rows' ``unmet_harm``).
    school_ages
        First and last age each school teaches (years), shape (n_schools, 2); NaN where not
        known (then every age of its phases). A base is offered only the bands inside them.
    group
        Each row's (area, phase, need group) as a number: the rows of one group are its age
        bands (robustness runs scale a group's children together).
    notes
        How demand was cut into age bands, and which existing bases serve only some ages.
    special
        The special schools and how the fallback uses each (places, phases, ages, needs).
    places
        The used special schools' places: those that can fill as always-open sites of the
        assignment (children without a base place fill them at least harm), the rest folded
        into the rows' last resort (:func:`sitefinder.fallback.fold`).
    """

    demand: pd.DataFrame
    rows: DemandRows
    classes: Sequence[tuple[str, str]]
    journeys: RowJourneys
    pair_harm: NDArray[np.float64]  # (n_phases, n_pairs) harm points per child
    row_phase: NDArray[np.intp]
    travel: AreaJourneys
    fallback: FallbackRows
    school_ages: NDArray[np.float64]  # (n_schools, 2) first and last age taught, years
    group: NDArray[np.intp]
    notes: list[str]
    special: FallbackSchools
    places: FallbackPlaces

    @property
    def fallback_sites(self) -> list[Site]:
        """The special schools' places that can fill, as always-open sites (``fallback``)."""
        return self.places.sites

    @cached_property
    def band_first(self) -> NDArray[np.int64]:
        """First age of each row's band (years)."""
        return self.demand["first_age"].to_numpy(dtype=np.int64)

    @cached_property
    def band_last(self) -> NDArray[np.int64]:
        """Last age of each row's band (years)."""
        return self.demand["last_age"].to_numpy(dtype=np.int64)


def build_instance(scenario: Scenario, data: AuthorityData) -> Instance:
    """Demand rows, journey minutes and harm per child from the authority's validated data.

    Demand is cut into age bands (:func:`sitefinder.age_bands.banded_demand`) so that each base,
    and each special school children fall back on, is offered only the ages its school teaches.
    """
    spec = scenario.inputs.demand
    banded = banded_demand(
        scenario, data.demand, data.schools, source=str(spec.path or spec.population or "")
    )
    classes = [(p, g) for p in scenario.phases for g in scenario.need_groups]
    class_id = {c: i for i, c in enumerate(classes)}

    def class_of(table: pd.DataFrame) -> NDArray[np.intp]:
        pairs = zip(table["phase"].tolist(), table["need_group"].tolist(), strict=True)
        return np.array([class_id[pair] for pair in pairs], dtype=np.intp)

    # Route each area once; every demand row shares its area's journeys.
    travel = area_school_journeys(data.areas, data.schools, journey=scenario.journey)
    fine = banded.table
    row_area = pd.Index(data.areas["area_code"]).get_indexer(fine["area_code"])
    fine_journeys = RowJourneys(travel.pairs, row_area.astype(np.intp))
    special = fallback_schools(scenario, data.schools, data.border_bases)
    # Harm per pair for each phase, on the whole array at once (one number per journey).
    pair_harm = np.vstack(
        [scenario.harm.curve(phase)(travel.pairs.minutes) for phase in scenario.phases]
    ).reshape(len(scenario.phases), len(travel.pairs))
    phase_index = {phase: i for i, phase in enumerate(scenario.phases)}

    def fallback_of(
        table: pd.DataFrame, journeys: RowJourneys
    ) -> tuple[FallbackRows, FallbackPlaces]:
        far = build_fallback(scenario, phases=table["phase"].tolist())
        far = replace(far, notes=method_notes(scenario, special))
        klass = class_of(table)
        sites, school = fallback_sites(
            scenario,
            special,
            classes=classes,
            klass=klass,
            ages=table[["first_age", "last_age"]].to_numpy(dtype=np.int64),
            journeys=journeys,
            pair_harm=pair_harm,
            row_phase=np.array([phase_index[p] for p in table["phase"].tolist()], dtype=np.intp),
            mismatch=far.mismatch_harm,
        )
        return fold(table["children"].to_numpy(dtype=float), klass, sites, school, far)

    # Bands that only the special schools tell apart are merged where the same places can
    # take them and their last resort is the same: fewer rows, the same solutions.
    keys = fallback_keys(len(fine), *fallback_of(fine, fine_journeys))
    demand, keep = merge_runs(fine, band_runs(fine, banded.host_bands, keys))
    journeys = fine_journeys.subset(keep)
    fallback, places = fallback_of(demand, journeys)
    klass = class_of(demand)
    phases = demand["phase"].tolist()  # plain strings: an Arrow column yields them slowly
    limits = np.array([scenario.harm.limit_minutes[p] for p in phases], dtype=float)
    row_phase = np.array([phase_index[p] for p in phases], dtype=np.intp)
    rows = DemandRows(
        children=demand["children"].to_numpy(dtype=float),
        klass=klass,
        limit_minutes=limits,
        unmet_harm=fallback.unmet_harm,
        mismatch_harm=fallback.mismatch_harm,
    )
    school_ages = np.column_stack(
        [
            pd.to_numeric(data.schools.get(c, pd.Series(np.nan, index=data.schools.index)))
            .astype(float)
            .to_numpy()
            for c in ("first_age", "last_age")
        ]
    ).reshape(len(data.schools), 2)
    group = (
        demand.groupby(["area_code", "phase", "need_group"], sort=False).ngroup().to_numpy(np.intp)
    )
    notes = [*banded.notes, *partial_age_bases(scenario, data)]
    return Instance(
        demand,
        rows,
        classes,
        journeys,
        pair_harm,
        row_phase,
        travel,
        fallback,
        school_ages,
        group,
        notes,
        special,
        places,
    )


def partial_age_bases(scenario: Scenario, data: AuthorityData) -> list[str]:
    """A note naming the existing bases whose school teaches only part of their phases, and
    the ages each serves (none when every base's school teaches its phases whole)."""
    spans = phase_ages(scenario.inputs.demand.ages)
    schools = data.schools.set_index("urn")
    shown = []
    for base in data.bases.itertuples():
        phases = [p for p in HOSTABLE_PHASES[str(base.phase)] if p in scenario.phases]
        if not phases or base.urn not in schools.index:
            continue
        host = schools.loc[base.urn]
        ages = served_ages(host.get("first_age"), host.get("last_age"), phases, spans)
        whole = served_ages(np.nan, np.nan, phases, spans)
        if ages != whole:
            shown.append(
                f"{base.base_name} ({base.urn}): {'/'.join(phases)} ages {ages_text(*ages)}"
            )
    if not shown:
        return []
    return [
        "existing bases at schools teaching part of a phase serve only the ages their school"
        f" teaches: {'; '.join(shown)}"
    ]


def site_at(
    model: Instance, scenario: Scenario, *, school: int, classes: frozenset[int], capacity: float
) -> Site:
    """A base of ``capacity`` places at school position ``school`` serving ``classes``.

    It is offered the rows of its classes within ``journey.max_minutes`` whose age band lies
    inside the ages the school teaches: an infant school's primary base takes ages 4-6 only.
    """
    rows, _, pair = model.journeys.to_schools(np.array([school], dtype=np.intp))
    first, last = model.school_ages[school]
    wanted = np.isin(model.rows.klass[rows], list(classes))
    rows, pair = rows[wanted], pair[wanted]
    taught = within(model.band_first[rows], model.band_last[rows], first, last)
    rows, pair = rows[taught], pair[taught]
    return Site(
        capacity=float(capacity),
        classes=classes,
        rows=rows,
        minutes=model.journeys.minutes(pair),
        harm=model.pair_harm[model.row_phase[rows], pair],
    )


def existing_sites(
    model: Instance, scenario: Scenario, data: AuthorityData
) -> tuple[list[Site], pd.DataFrame]:
    """Today's bases as sites, then the special schools' places (``model.fallback_sites``),
    with a table describing each base (the bases only: the special schools are in
    ``model.special``)."""
    position = {urn: i for i, urn in enumerate(data.schools["urn"])}
    spans = phase_ages(scenario.inputs.demand.ages)
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
        school = position[base.urn]
        sites.append(site_at(model, scenario, school=school, classes=ids, capacity=base.capacity))
        planned = [p for p in phases if p in scenario.phases]
        first, last = model.school_ages[school]
        records.append(
            {
                "kind": "existing",
                "urn": base.urn,
                "base_name": base.base_name,
                "base_type": base.base_type,
                "phase": base.phase,
                "need_groups": ";".join(served),
                "capacity": base.capacity,
                "ages": ages_text(*served_ages(first, last, planned, spans)),
            }
        )
    return [*sites, *model.fallback_sites], pd.DataFrame.from_records(records)
