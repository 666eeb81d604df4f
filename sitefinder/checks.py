"""Check a scenario and every input it names without ranking: what ``sitefinder validate`` runs.

Kept apart from :mod:`sitefinder.pipeline` so that checking reads the inputs without importing
the solvers (HiGHS) or the renderers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sitefinder.age_bands import banded_demand
from sitefinder.config import Scenario
from sitefinder.fallback import fallback_schools, method_notes
from sitefinder.instance import partial_age_bases
from sitefinder.load import load_inputs
from sitefinder.roads.cache import peek_road_network
from sitefinder.roads.matrix import read_matrix_csv
from sitefinder.roads.osm import RoadSpeeds
from sitefinder.supply import assess


@dataclass(frozen=True)
class InputSummary:
    """What a scenario's inputs hold, for ``sitefinder validate``."""

    schools: int
    mainstream: int
    eligible: int
    existing_bases: int
    existing_places: float
    areas: int
    children: float
    warnings: list[str]
    notes: list[str]


def check_inputs(scenario: Scenario) -> InputSummary:
    """Load and validate every input the scenario names, without ranking.

    Everything ``rank`` reads is read: the tables, the travel matrix (in full) and the road
    network (its cache entry, or else the start of the file; parsing it all is left to
    ``rank``, which caches it).

    Raises
    ------
    DataError
        Listing every problem found in every file.
    """
    data = load_inputs(scenario, defer_boundaries=False)  # every file's problems at once
    assessment = assess(scenario, data.schools, data.bases)
    assessed = assessment.schools
    spec = scenario.inputs.demand
    banded = banded_demand(
        scenario, data.demand, data.schools, source=str(spec.path or spec.population or "")
    )
    demand = banded.table
    journey = scenario.journey
    notes = [*data.notes, *banded.notes, *partial_age_bases(scenario, data)]
    if journey.method == "matrix":  # read in full, as rank does
        assert journey.matrix is not None
        minutes = read_matrix_csv(
            journey.matrix,
            origin_ids=data.areas["area_code"].astype(str).tolist(),
            destination_ids=data.schools["urn"].astype(str).tolist(),
        )
        notes.append(
            f"{journey.matrix}: drive minutes for {int(np.isfinite(minutes).sum()):,} of"
            f" {minutes.size:,} area-school pairs"
        )
    elif journey.method == "network":
        assert journey.network is not None
        notes.append(
            peek_road_network(
                journey.network,
                speeds=RoadSpeeds(
                    peak_factor=journey.peak_factor,
                    maxspeed_fraction=journey.maxspeed_fraction,
                    junction_seconds=journey.junction_seconds,
                ),
            )
        )
    special = fallback_schools(scenario, data.schools, data.border_bases)
    return InputSummary(
        schools=len(data.schools),
        mainstream=int((data.schools["establishment_group"] == "mainstream").sum()),
        eligible=int(assessed["eligible"].sum()),
        existing_bases=len(data.bases),
        existing_places=float(data.bases["capacity"].sum()),
        areas=len(data.areas),
        children=float(demand["children"].sum()),
        warnings=[*data.warnings, *assessment.warnings, *special.warnings],
        notes=[*notes, *method_notes(scenario, special)],
    )
