"""The sufficiency statement: children needing a base place against places, year by year.

For each year of the horizon and each phase x need group: the children projected to need a
base place (:mod:`sitefinder.programme.projection`), the places today (with where their
numbers come from), the places the programme has added by then, and the gap (children -
places today - places added; negative is a surplus). A base serving several need groups (or
both phases) lends its places to each in proportion to the children it serves of each today
(evenly when it serves none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sitefinder.config import Scenario

if TYPE_CHECKING:
    from sitefinder.programme.schedule import Year

COLUMNS = [
    "year", "phase", "need_group", "children", "places_today", "places_source",
    "places_added", "gap",
]  # fmt: skip


@dataclass(frozen=True)
class Sufficiency:
    """The statement and what it rests on.

    Attributes
    ----------
    table
        One row per year, phase and need group (:data:`COLUMNS`).
    projected
        The projected demand (``year, area_code, phase, need_code, age, children``).
    series
        The SEN2 census years and EHC plans the trend was fitted on (empty when the scenario
        gave the growth), for the report's chart.
    notes
        How demand was projected and the places counted.
    programme
        The new bases opened in each year (:mod:`sitefinder.programme.schedule`).
    years
        The programme's years (:data:`sitefinder.programme.schedule.YEAR_COLUMNS`).
    states
        Each programme year's demand and networks, for its business case.
    """

    table: pd.DataFrame
    projected: pd.DataFrame
    series: pd.Series
    notes: list[str] = field(default_factory=list)
    programme: pd.DataFrame = field(default_factory=pd.DataFrame)
    years: pd.DataFrame = field(default_factory=pd.DataFrame)
    states: list[Year] = field(default_factory=list, repr=False)


def base_places(
    bases: pd.DataFrame,
    served: Mapping[int, Mapping[tuple[str, str], float]],
    *,
    classes: Mapping[int, Sequence[tuple[str, str]]],
) -> pd.DataFrame:
    """Each base's places lent to each class (phase, need group) it serves.

    Parameters
    ----------
    bases
        One row per base with ``capacity`` (places) and ``places_source``.
    served
        Children each base (by position) serves today in each class.
    classes
        The classes each base (by position) may serve.

    Returns
    -------
    pandas.DataFrame
        ``phase, need_group, places, places_source``: one row per base and class.
    """
    records = []
    for position, base in enumerate(bases.itertuples()):
        mine = list(classes.get(position, ()))
        if not mine:
            continue
        children = np.array([served.get(position, {}).get(c, 0.0) for c in mine])
        weights = (
            children / children.sum()
            if children.sum() > 1e-9
            else np.full(len(mine), 1 / len(mine))
        )
        for (phase, group), weight in zip(mine, weights, strict=True):
            records.append(
                {
                    "phase": phase,
                    "need_group": group,
                    "places": float(base.capacity) * float(weight),
                    "places_source": str(base.places_source),
                }
            )
    return pd.DataFrame.from_records(
        records, columns=["phase", "need_group", "places", "places_source"]
    )


def statement(
    scenario: Scenario,
    *,
    projected: pd.DataFrame,
    today: pd.DataFrame,
    added: pd.DataFrame,
    years: Sequence[int],
) -> pd.DataFrame:
    """The sufficiency rows (:data:`COLUMNS`).

    Parameters
    ----------
    projected
        Projected demand (``year, phase, need_code, children``).
    today
        Places today by class (:func:`base_places`).
    added
        New bases: ``phase, need_group, places`` and the ``year`` each opens (open from the
        first year without one); their places count from that year on.
    years
        The horizon.
    """
    groups = scenario.group_of_code()
    demand = projected.assign(need_group=projected["need_code"].map(groups))
    children = demand.groupby(["year", "phase", "need_group"])["children"].sum()
    places = today.groupby(["phase", "need_group"])["places"].sum()
    sources = today.groupby(["phase", "need_group"]).apply(_sources, include_groups=False)
    opened = added if "year" in added.columns else added.assign(year=years[0] if years else 0)
    rows = []
    for year in years:
        for phase in scenario.phases:
            for group in scenario.need_groups:
                key = (phase, group)
                count = float(children.get((year, phase, group), 0.0))
                have = float(places.get(key, 0.0))
                mine = opened[
                    (opened["year"] <= year)
                    & (opened["phase"] == phase)
                    & (opened["need_group"] == group)
                ]
                more = float(mine["places"].sum())
                rows.append(
                    {
                        "year": int(year),
                        "phase": phase,
                        "need_group": group,
                        "children": count,
                        "places_today": have,
                        "places_source": str(sources.get(key, "")) if have > 0 else "",
                        "places_added": more,
                        "gap": count - have - more,
                    }
                )
    return pd.DataFrame.from_records(rows, columns=COLUMNS)


def _sources(part: pd.DataFrame) -> str:
    by = part.groupby("places_source")["places"].sum().sort_index()
    return ", ".join(f"{source} {places:,.1f}" for source, places in by.items() if places > 0)
