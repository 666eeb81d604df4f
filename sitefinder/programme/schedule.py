"""The programme: which new bases open in which year, as demand grows.

A stated heuristic, year by year: in each year of the horizon the children projected for that
year (:mod:`sitefinder.programme.projection`) are set against today's bases and those opened
in earlier years (an opened base stays open), and new bases are added in the greedy build
order (each the one averting the most harm given those above it) that pass the plan's stopping
rule (it places ``selection.min_children`` children who had no base place, or averts
``selection.min_harm_averted`` harm points) and fill at least ``selection.min_occupancy`` of
its places in its opening year, up to ``programme.bases`` a year (``"auto"``: as many as pass);
a pick that fails is passed over (the picks below it were valued with it open) and the year's
search stops after three.
The greedy build order is not proven optimal: the plan of a single year is (see
:mod:`sitefinder.plan`); each year's picks are said with their figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.instance import Instance
from sitefinder.model.greedy import greedy_order
from sitefinder.model.network import DemandRows, Site
from sitefinder.plan.stopping import StoppingRule

COLUMNS = [
    "year", "urn", "name", "phase", "need_groups", "places", "children_expected",
    "newly_placed", "harm_averted",
]  # fmt: skip
AUTO_CAP = 10
"""New bases a year at most with ``programme.bases = "auto"`` (a bound on the search)."""
_SKIPS = 3
"""Picks a year passed over (failing the rules) before the year's search stops."""


def _places_open(existing: Sequence[Site], opened: Sequence[Site]) -> float:
    """Places in today's bases and those opened (special schools' places aside)."""
    return float(sum(s.capacity for s in [*existing, *opened] if not s.fallback))


def rows_of_year(
    instance: Instance, scenario: Scenario, projected: pd.DataFrame
) -> NDArray[np.float64]:
    """Children of each of the instance's demand rows in one year's projected demand.

    Children of a known age go to the row of their area, phase, need group and age band;
    those without an age are shared over their area, phase and need group's rows as today's.
    """
    groups = scenario.group_of_code()
    demand = instance.demand
    n = len(demand)
    out = np.zeros(n)
    key = pd.MultiIndex.from_arrays(
        [demand["area_code"].astype(str), demand["phase"], demand["need_group"]]
    )
    rows = pd.DataFrame(
        {
            "row": np.arange(n),
            "first": demand["first_age"].to_numpy(),
            "last": demand["last_age"].to_numpy(),
            "today": instance.rows.children,
        },
        index=key,
    )
    year = projected.assign(
        need_group=projected["need_code"].map(groups), area_code=projected["area_code"].astype(str)
    )
    aged = year[year["age"].notna()]
    if len(aged):
        joined = aged.merge(
            rows.reset_index(names=["area_code", "phase", "need_group"]),
            on=["area_code", "phase", "need_group"],
        )
        inside = (joined["age"] >= joined["first"]) & (joined["age"] <= joined["last"])
        joined = joined[inside]
        np.add.at(out, joined["row"].to_numpy(dtype=np.intp), joined["children"].to_numpy())
    unaged = year[year["age"].isna()].groupby(["area_code", "phase", "need_group"])["children"]
    for (area, phase, group), children in unaged.sum().items():
        if (area, phase, group) not in rows.index:
            continue
        mine = rows.loc[[(area, phase, group)]]
        today = mine["today"].to_numpy(dtype=float)
        share = today / today.sum() if today.sum() > 0 else np.full(len(mine), 1 / len(mine))
        np.add.at(out, mine["row"].to_numpy(dtype=np.intp), float(children) * share)
    return out


def schedule(
    instance: Instance,
    scenario: Scenario,
    *,
    years: Sequence[int],
    projected: pd.DataFrame,
    existing: Sequence[Site],
    options: pd.DataFrame,
    option_sites: Sequence[Site],
) -> tuple[pd.DataFrame, list[str]]:
    """The bases opened in each year of the horizon, and notes on what stopped each year.

    Parameters
    ----------
    instance, scenario
        The model instance and scenario.
    years
        The horizon (January census years).
    projected
        Projected demand (``year, area_code, phase, need_code, age, children``).
    existing
        Today's sites (bases and special schools' places): open in every year.
    options, option_sites
        Candidate new bases (``urn, name, phase, need_group, school``) and their sites.

    Returns
    -------
    tuple
        The programme (:data:`COLUMNS`, one row per base opened) and notes.
    """
    stop = StoppingRule.from_scenario(scenario)
    occupancy = scenario.selection.min_occupancy
    cap = AUTO_CAP if scenario.programme.bases == "auto" else int(scenario.programme.bases)
    places = float(scenario.base_size)
    opened: list[Site] = []
    taken: set[object] = set()
    records = []
    notes = []
    for year in years:
        children = rows_of_year(instance, scenario, projected[projected["year"] == year])
        demand = replace(instance.rows, children=children)
        assert isinstance(demand, DemandRows)
        free = [i for i, urn in enumerate(options["urn"]) if urn not in taken]
        # Picks looked at: enough for the children without a place, and a few to skip past.
        unplaced = max(float(children.sum()) - _places_open(existing, opened), 0.0)
        steps = min(cap + _SKIPS, int(np.ceil(unplaced / places)) + _SKIPS)
        if not free or cap == 0 or steps <= 0:
            continue
        greedy = greedy_order(
            demand,
            [*existing, *opened],
            [option_sites[i] for i in free],
            steps=steps,
            owner=options["school"].to_numpy()[free].tolist(),
        )
        skipped: list[str] = []
        added = 0
        for pick in greedy.picks:
            if added >= cap or len(skipped) >= _SKIPS:
                break
            option = options.iloc[free[pick.option]]
            passes = stop.passes(
                newly_placed=pick.newly_placed, harm_averted=pick.marginal, places=places
            )
            if not (passes and pick.served >= occupancy * places - 1e-9):
                why = (
                    f"would fill only {pick.served / places:.0%} of its places"
                    if passes
                    else f"would fail the stopping rule (placing {pick.newly_placed:.1f} children"
                    f" who had none, averting {pick.marginal:.2f} harm points)"
                )
                skipped.append(
                    f"{option['name']} ({option['phase']}, {option['need_group']}) {why}"
                )
                continue
            opened.append(option_sites[free[pick.option]])
            taken.add(option["urn"])
            added += 1
            records.append(
                {
                    "year": int(year),
                    "urn": option["urn"],
                    "name": option["name"],
                    "phase": option["phase"],
                    "need_groups": option["need_group"],
                    "places": places,
                    "children_expected": pick.served,
                    "newly_placed": pick.newly_placed,
                    "harm_averted": pick.marginal,
                }
            )
        if skipped:
            notes.append(f"programme {year}: passed over: {'; '.join(skipped)}")
    notes.insert(
        0,
        "programme: each year, new bases in the greedy build order that pass the stopping rule"
        f" and fill at least {occupancy:.0%} of their places in their opening year"
        " (selection.min_occupancy), passing over those that fail; an opened base stays open."
        " A heuristic: each year's choice is not proven optimal over the years",
    )
    return pd.DataFrame.from_records(records, columns=COLUMNS), notes
