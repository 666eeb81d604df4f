"""Demand by age band, so that a base serves only the ages its school teaches.

An infant school teaches ages 4-6 and a junior school 7-10 (at the start of the school year),
so a base at either can take only children of those ages. Each phase's ages are cut into the
fewest *bands* such that the ages every relevant school teaches within the phase are whole
bands: the cut points are each school's first age and last age + 1. With Trafford's infant and
junior schools and a special school teaching from 8, primary demand falls into 4-6, 7 and 8-10;
with only all-primary schools it stays one band, 4-10. Demand rows are then (area, phase, need
group, band), and a base is offered only the bands inside its school's ages
(:func:`sitefinder.instance.site_at`).

Children without an age (a counts file without ``age``) are spread over their phase's single
years evenly, and a note says so once. :func:`phase_bands` is the array core; :func:`banded_demand`
adapts the demand and school tables.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.disclosure import format_count
from sitefinder.supply import HOSTABLE_PHASES, ages_text, phase_ages

Band = tuple[int, int]
"""First and last age of a band (years, at the start of the school year)."""


def phase_bands(span: Band, ranges: Iterable[tuple[float, float]]) -> list[Band]:
    """Cut a phase's ages into the fewest bands in which every range is whole bands.

    Parameters
    ----------
    span
        The phase's youngest and oldest age (years).
    ranges
        First and last age (years) taught by each school; parts outside ``span`` are ignored,
        and a range with no age in it cuts nothing.

    Returns
    -------
    list of tuple
        The bands (first, last age), youngest first, covering ``span`` without overlap.
    """
    low, high = span
    cuts = {low, high + 1}
    for first, last in ranges:
        lo, hi = max(int(first), low), min(int(last), high)
        if lo <= hi:
            cuts.update((lo, hi + 1))
    edges = sorted(cuts)
    return [(a, b - 1) for a, b in itertools.pairwise(edges)]


def within(
    band_first: NDArray[np.int64], band_last: NDArray[np.int64], first: float, last: float
) -> NDArray[np.bool_]:
    """Which bands lie inside the ages ``first``-``last`` (years; NaN: every band does)."""
    if np.isnan(first) or np.isnan(last):
        return np.ones(len(band_first), dtype=bool)
    return (band_first >= first) & (band_last <= last)


def _school_ranges(
    schools: pd.DataFrame, phase: str, *, special: bool
) -> list[tuple[float, float]]:
    """Known taught ages of the schools that may serve ``phase``: mainstream hosts, and special
    schools when children without a base place fall back on them."""
    groups = {"mainstream", "special"} if special else {"mainstream"}
    ranges = []
    for row in schools.itertuples():
        if row.establishment_group not in groups:
            continue
        first, last = getattr(row, "first_age", np.nan), getattr(row, "last_age", np.nan)
        known = pd.notna(first) and pd.notna(last)
        # A special school whose phase is "Not applicable" or unknown serves the phases its
        # ages overlap (sitefinder.fallback.fallback_schools): it cuts them too.
        unnamed = known and row.establishment_group == "special" and str(row.phase) == "other"
        if phase not in HOSTABLE_PHASES.get(str(row.phase), ()) and not unnamed:
            continue
        if known:
            ranges.append((float(first), float(last)))
    return ranges


@dataclass(frozen=True)
class BandedDemand:
    """Demand rows by age band, and what was assumed to make them.

    Attributes
    ----------
    table
        ``area_code, phase, need_group, first_age, last_age, children``: one row per area,
        phase, need group and band with children, sorted in that order.
    bands
        The bands of each planned phase (first, last age in years), cut by mainstream and
        (when children fall back on them) special schools.
    host_bands
        The coarser bands cut by mainstream schools alone: the ages a base may serve. Two
        neighbouring bands inside one of these differ only in their fallback, so they can be
        merged where it is the same (:func:`band_runs`).
    notes
        How demand was cut, and how children without an age were spread.
    """

    table: pd.DataFrame
    bands: dict[str, list[Band]]
    host_bands: dict[str, list[Band]]
    notes: list[str] = field(default_factory=list)


def age_bands(
    scenario: Scenario, schools: pd.DataFrame, *, special: bool | None = None
) -> dict[str, list[Band]]:
    """The bands of each planned phase for ``schools`` (with ``first_age``/``last_age``).

    Mainstream schools cut the bands (any of them may host a base, today or in the plan), and
    special schools do too when ``special`` (default: when ``fallback.method`` is
    ``special_school``).
    """
    spans = phase_ages(scenario.inputs.demand.ages)
    if special is None:
        special = scenario.fallback.method == "special_school"
    return {
        phase: phase_bands(spans[phase], _school_ranges(schools, phase, special=special))
        for phase in scenario.phases
    }


def band_runs(
    table: pd.DataFrame, host_bands: Mapping[str, Sequence[Band]], key: NDArray[np.intp]
) -> NDArray[np.intp]:
    """Number the runs of rows that may be merged into one: neighbouring bands of one area,
    phase and need group, inside one host band, with the same ``key`` (the fallback school).

    ``table`` is sorted as :func:`banded_demand` returns it. Merging such rows changes no
    solution: every base is offered both or neither (host bands) and a child of either has the
    same fallback journey.
    """
    n = len(table)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    host = np.zeros(n, dtype=np.intp)
    first = table["first_age"].to_numpy(dtype=np.int64)
    phase = table["phase"].to_numpy()
    for name, bands in host_bands.items():
        mask = phase == name
        starts = np.array([a for a, _ in bands], dtype=np.int64)
        host[mask] = np.searchsorted(starts, first[mask], side="right") - 1
    same = np.ones(n, dtype=bool)
    same[0] = False
    for column in ("area_code", "phase", "need_group"):
        values = table[column].to_numpy()
        same[1:] &= values[1:] == values[:-1]
    same[1:] &= (host[1:] == host[:-1]) & (key[1:] == key[:-1])
    same[1:] &= first[1:] == table["last_age"].to_numpy(dtype=np.int64)[:-1] + 1
    return np.cumsum(~same).astype(np.intp) - 1


def merge_runs(
    table: pd.DataFrame, runs: NDArray[np.intp]
) -> tuple[pd.DataFrame, NDArray[np.intp]]:
    """Rows of each run of :func:`band_runs` added together (the first age of its first row,
    the last age of its last), and the position of each run's first row."""
    if len(table) == 0:
        return table.reset_index(drop=True), np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(np.r_[True, runs[1:] != runs[:-1]]).astype(np.intp)
    ends = np.r_[starts[1:], len(runs)] - 1
    merged = table.iloc[starts].reset_index(drop=True)
    merged["last_age"] = table["last_age"].to_numpy()[ends]
    merged["children"] = np.add.reduceat(table["children"].to_numpy(dtype=float), starts)
    return merged, starts


def banded_demand(
    scenario: Scenario, demand: pd.DataFrame, schools: pd.DataFrame, *, source: str = ""
) -> BandedDemand:
    """Aggregate need-code demand to areas, phases, need groups and age bands.

    Parameters
    ----------
    scenario
        Phases planned for, need groups, ``inputs.demand.ages`` and the fallback method.
    demand
        ``area_code, phase, need_code, children`` and optionally ``age`` (years; blank when
        unknown). An age outside its phase's ages counts at the nearest age of the phase (a
        child held back a year is taught with the phase's oldest).
    schools
        Every school, with ``establishment_group``, ``phase``, ``first_age`` and ``last_age``.
    source
        The demand's file, named in the note about children without an age.

    Returns
    -------
    BandedDemand
        The rows, the bands and the notes.
    """
    spans = phase_ages(scenario.inputs.demand.ages)
    bands = age_bands(scenario, schools)
    host_bands = age_bands(scenario, schools, special=False)
    groups = scenario.group_of_code()
    table = demand[demand["phase"].isin(scenario.phases)]
    ages = (
        pd.to_numeric(table["age"], errors="coerce").to_numpy(dtype=float)
        if "age" in table.columns
        else np.full(len(table), np.nan)
    )
    base = pd.DataFrame(
        {
            "area_code": table["area_code"].to_numpy(),
            "phase": table["phase"].to_numpy(),
            "need_group": table["need_code"].map(groups).to_numpy(),
            "children": table["children"].to_numpy(dtype=float),
        }
    )
    frames = []
    unknown_children = 0.0
    spread: list[str] = []
    for phase in scenario.phases:
        low, high = spans[phase]
        starts = np.array([a for a, _ in bands[phase]], dtype=np.int64)
        ends = np.array([b for _, b in bands[phase]], dtype=np.int64)
        in_phase = (base["phase"] == phase).to_numpy()
        known = in_phase & ~np.isnan(ages)
        band = np.searchsorted(starts, np.clip(ages[known], low, high), side="right") - 1
        frames.append(base[known].assign(first_age=starts[band], last_age=ends[band]))
        unknown = base[in_phase & np.isnan(ages)]
        if unknown.empty:
            continue
        # Spread evenly over the phase's single years: a band gets its share of the years.
        years = high - low + 1
        for first, last in bands[phase]:
            share = (last - first + 1) / years
            frames.append(
                unknown.assign(first_age=first, last_age=last, children=unknown["children"] * share)
            )
        if len(bands[phase]) > 1:
            unknown_children += float(unknown["children"].sum())
            spread.append(f"{phase} {ages_text(low, high)}")
    columns = ["area_code", "phase", "need_group", "first_age", "last_age"]
    rows = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=[*columns, "children"])
    )
    rows = (
        rows.groupby(columns, as_index=False, sort=True)["children"]
        .sum()
        .query("children > 0")
        .reset_index(drop=True)
    )
    rows[["first_age", "last_age"]] = rows[["first_age", "last_age"]].astype(np.int64)
    notes = [
        *_band_notes(bands, host_bands),
        *_unaged_notes(unknown_children, spread, source, scenario.suppression_threshold),
    ]
    return BandedDemand(rows, bands, host_bands, notes)


def _listed(bands: Mapping[str, Sequence[Band]]) -> str:
    return "; ".join(
        f"{phase} {', '.join(ages_text(a, b) for a, b in cut)}" for phase, cut in bands.items()
    )


def _band_notes(
    bands: Mapping[str, Sequence[Band]], host_bands: Mapping[str, Sequence[Band]]
) -> list[str]:
    """Notes on how demand is cut into age bands, for bases and for the fallback."""
    if all(len(b) == 1 for b in bands.values()):
        return []
    notes = []
    if any(len(b) > 1 for b in host_bands.values()):
        notes.append(
            "demand by age band, so that a base serves only the ages its school teaches (an"
            " infant school's primary base 4-6, a junior school's 7-10; ages at the start of the"
            f" school year): {_listed(host_bands)}"
        )
    if bands != host_bands:
        notes.append(
            "fallback: special schools teaching part of a phase take only those ages, so where"
            " the special schools within reach differ by age, demand is split further:"
            f" {_listed({p: b for p, b in bands.items() if b != host_bands[p]})}"
        )
    return notes


def _unaged_notes(unknown: float, spread: Sequence[str], source: str, threshold: int) -> list[str]:
    """A note on the ``unknown`` children without an age, spread over the ``spread`` phases'
    single years (counts below ``threshold`` withheld); none when there are none."""
    if not unknown > 0:
        return []
    where = f"{source}: " if source else ""
    return [
        f"{where}{format_count(unknown, threshold)} child(ren) have no age, so each is spread"
        f" evenly over the single years of their phase ({', '.join(spread)}): a base at a"
        " school teaching part of the phase may take that share of them (give each child's"
        " age to do better)"
    ]
