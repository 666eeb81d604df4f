"""Where a child without a base place goes, and the harm of that, per demand row.

A child with no place in an inclusion base is not nowhere: they travel to a special school, to
an out-of-authority placement, or stay in mainstream without specialist support. Their harm is
the harm curve at that *fallback journey* (the same curve, travel term included, as a journey to
a base) plus a *mismatch* penalty in harm points for having no base place. The scenario's
``[fallback]`` section chooses the journey:

- ``special_school``: the nearest special school that teaches the row's phase and ages (its
  statutory ages; unknown = the whole phase) and serves its need group, within
  ``journey.max_minutes``; a fixed out-of-authority journey where none is,
  or where that is shorter (so a new special school can only shorten a fallback journey);
- ``out_of_authority``: the fixed journey for every row;
- ``flat``: no journey, ``harm.unmet`` harm points per child (the old model).

:func:`nearest_within` (dense) and :func:`nearest_of_pairs` (the pairs within reach) are the
array cores; :func:`build_fallback` adapts the school table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Fallback, Harm, Phase, Scenario
from sitefinder.journeys import RowJourneys
from sitefinder.supply import HOSTABLE_PHASES


@dataclass(frozen=True)
class FallbackRows:
    """The fallback of each demand row and its harm per child.

    Attributes
    ----------
    method
        The scenario's ``fallback.method``.
    minutes
        Fallback journey minutes per row (NaN with ``flat``).
    school
        Position (in the school table) of the special school each row falls back on; -1 for
        the out-of-authority journey and with ``flat``.
    journey_harm
        Harm points per child of the fallback journey (0 with ``flat``).
    mismatch_harm
        Harm points per child for having no base place (``harm.unmet`` with ``flat``).
    notes
        What was assumed, for the record.
    """

    method: str
    minutes: NDArray[np.float64]
    school: NDArray[np.intp]
    journey_harm: NDArray[np.float64]
    mismatch_harm: NDArray[np.float64]
    notes: list[str] = field(default_factory=list)

    def subset(self, rows: NDArray[np.intp]) -> FallbackRows:
        """The fallback of the given rows only (positions), in that order."""
        return FallbackRows(
            self.method,
            self.minutes[rows],
            self.school[rows],
            self.journey_harm[rows],
            self.mismatch_harm[rows],
            list(self.notes),
        )

    @property
    def unmet_harm(self) -> NDArray[np.float64]:
        """Harm points per child of each row left without a base place."""
        return self.journey_harm + self.mismatch_harm


def nearest_within(
    minutes: NDArray[np.float64], compatible: NDArray[np.bool_], *, max_minutes: float
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """The shortest compatible journey of each row, within ``max_minutes``.

    Parameters
    ----------
    minutes
        Journey minutes, shape (n_rows, n_schools); ``inf`` where unreachable.
    compatible
        Whether each school may take each row's children, same shape.
    max_minutes
        Longer journeys are not offered (minutes).

    Returns
    -------
    tuple
        Minutes of the nearest compatible school per row (NaN when there is none within
        ``max_minutes``) and its column (-1 when none). Ties go to the first column.
    """
    allowed = compatible & (minutes <= max_minutes)
    masked = np.where(allowed, minutes, np.inf)
    if masked.shape[1] == 0:
        return np.full(masked.shape[0], np.nan), np.full(masked.shape[0], -1, dtype=np.intp)
    column = np.argmin(masked, axis=1).astype(np.intp)
    best = masked[np.arange(len(masked)), column]
    found = np.isfinite(best)
    return np.where(found, best, np.nan), np.where(found, column, -1).astype(np.intp)


def nearest_of_pairs(
    row: NDArray[np.intp],
    column: NDArray[np.intp],
    minutes: NDArray[np.float64],
    *,
    n_rows: int,
    max_minutes: float,
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """:func:`nearest_within` on the compatible (row, column) pairs only.

    Parameters
    ----------
    row, column, minutes
        Each compatible pair's demand row, school column and journey minutes.
    n_rows
        Number of demand rows.
    max_minutes
        Longer journeys are not offered (minutes).

    Returns
    -------
    tuple
        As :func:`nearest_within`: minutes of the nearest pair per row (NaN when none within
        ``max_minutes``) and its column (-1 when none); ties go to the smallest column.
    """
    best = np.full(n_rows, np.nan)
    found = np.full(n_rows, -1, dtype=np.intp)
    allowed = minutes <= max_minutes
    row, column, minutes = row[allowed], column[allowed], minutes[allowed]
    if len(row):
        order = np.lexsort((column, minutes, row))
        first = np.ones(len(order), dtype=bool)
        first[1:] = row[order][1:] != row[order][:-1]
        pick = order[first]
        best[row[pick]] = minutes[pick]
        found[row[pick]] = column[pick]
    return best, found


def scenario_phases(phases: NDArray[np.str_]) -> list[Phase]:
    """The distinct phases among ``phases``, in order."""
    return [cast(Phase, str(p)) for p in np.unique(phases)]


def fallback_harm(
    harm: Harm,
    fallback: Fallback,
    *,
    phases: Sequence[str] | NDArray[np.str_],
    minutes: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Journey and mismatch harm points per child for fallback journeys of ``minutes``.

    With ``flat`` the journey part is 0 and the mismatch part is ``harm.unmet``. Used both to
    build the instance and to re-derive the harm under the robustness runs' perturbed settings.
    """
    n = len(minutes)
    if fallback.method == "flat":
        return np.zeros(n), np.full(n, harm.unmet)
    journey = np.zeros(n)
    phase_of = np.asarray(phases)
    for phase in scenario_phases(phase_of):
        mask = phase_of == phase
        journey[mask] = harm.curve(phase)(minutes[mask])
    return journey, np.full(n, fallback.mismatch)


def _serves(
    scenario: Scenario, schools: pd.DataFrame, classes: Sequence[tuple[str, str]]
) -> NDArray[np.bool_]:
    """Whether each special school serves each class (phase, need group): (n_classes, n_schools).

    A school serves a phase it teaches (an all-through school both) and a need group sharing a
    code with its recorded provision; one with no provision recorded serves every need.
    """
    special = (schools["establishment_group"] == "special").to_numpy()
    codes = schools.get("need_codes", pd.Series("", index=schools.index)).fillna("")
    needs = [set(str(c).split(";")) - {""} for c in codes]
    serves = np.zeros((len(classes), len(schools)), dtype=bool)
    for k, (phase, group) in enumerate(classes):
        group_codes = set(scenario.need_groups[group].codes)
        for j, school in enumerate(schools.itertuples()):
            if not special[j] or phase not in HOSTABLE_PHASES.get(str(school.phase), ()):
                continue
            serves[k, j] = not needs[j] or bool(needs[j] & group_codes)
    return serves


def _teaches(
    schools: pd.DataFrame, ages: NDArray[np.int64], row: NDArray[np.intp], column: NDArray[np.intp]
) -> NDArray[np.bool_]:
    """Whether school ``column`` teaches row ``row``'s age band, for each pair."""
    missing = pd.Series(np.nan, index=schools.index)
    first = pd.to_numeric(schools.get("first_age", missing)).to_numpy(dtype=float)[column]
    last = pd.to_numeric(schools.get("last_age", missing)).to_numpy(dtype=float)[column]
    unknown = np.isnan(first) | np.isnan(last)
    return unknown | ((ages[row, 0] >= first) & (ages[row, 1] <= last))


def build_fallback(
    scenario: Scenario,
    schools: pd.DataFrame,
    *,
    classes: Sequence[tuple[str, str]],
    klass: NDArray[np.intp],
    phases: Sequence[str],
    minutes: RowJourneys | NDArray[np.float64],
    ages: NDArray[np.int64] | None = None,
) -> FallbackRows:
    """The fallback of every demand row under the scenario's ``[fallback]`` settings.

    Parameters
    ----------
    scenario
        The scenario (``fallback``, ``harm``, ``journey.max_minutes``, ``need_groups``).
    schools
        Every school (row order = columns of ``minutes``) with ``establishment_group``,
        ``phase`` and optional ``need_codes``, ``first_age`` and ``last_age``.
    classes, klass, phases
        The (phase, need group) of each class id, each row's class id and phase.
    minutes
        Journey minutes from each row's area to each school: the pairs within reach
        (:class:`sitefinder.journeys.RowJourneys`) or a dense (n_rows, n_schools) matrix.
    ages
        First and last age of each row's age band (years), shape (n_rows, 2): a special school
        takes a row only when the band lies inside the ages it teaches (unknown ages: every
        age of its phase). None: every age.

    Returns
    -------
    FallbackRows
        Fallback minutes, school, and harm points per row, with notes saying what was assumed.
    """
    settings = scenario.fallback
    n = len(klass)
    school = np.full(n, -1, dtype=np.intp)
    far = settings.out_of_authority_minutes
    notes = fallback_notes(scenario, schools)
    special = (schools["establishment_group"] == "special").to_numpy()
    if settings.method == "flat":
        journey, mismatch = fallback_harm(
            scenario.harm, settings, phases=phases, minutes=np.zeros(n)
        )
        return FallbackRows("flat", np.full(n, np.nan), school, journey, mismatch, notes)
    found = np.full(n, far)
    if settings.method == "special_school" and special.any():
        if not isinstance(minutes, RowJourneys):
            minutes = RowJourneys.from_dense(minutes, max_minutes=scenario.journey.max_minutes)
        columns = np.flatnonzero(special)  # only special schools' journeys are looked at
        serves = _serves(scenario, schools.iloc[columns], classes)
        local = np.full(len(schools), -1, dtype=np.intp)
        local[columns] = np.arange(len(columns))
        row, school_of, pair = minutes.to_schools(columns)
        column = local[school_of]
        ok = serves[klass[row], column]
        if ages is not None:
            ok &= _teaches(schools.iloc[columns], ages, row, column)
        nearest, column = nearest_of_pairs(
            row[ok],
            column[ok],
            minutes.minutes(pair[ok]),
            n_rows=n,
            max_minutes=scenario.journey.max_minutes,
        )
        school = np.where(column >= 0, columns[column], -1).astype(np.intp)
        # An out-of-authority placement is taken when it is nearer: then adding a special
        # school can only shorten a fallback journey, never lengthen it.
        school = np.where(nearest <= far, school, -1).astype(np.intp)
        found = np.where(school >= 0, nearest, far)
        missing = int((school < 0).sum())
        if missing:
            notes.append(
                f"fallback: for {missing} of {n} demand row(s) (area x phase x need group x"
                f" age band) no such special school is within {far:g} minutes, so an"
                " out-of-authority placement that far away is assumed"
                " (fallback.out_of_authority_minutes)"
            )
    journey, mismatch = fallback_harm(scenario.harm, settings, phases=phases, minutes=found)
    return FallbackRows(settings.method, found, school, journey, mismatch, notes)


def fallback_notes(scenario: Scenario, schools: pd.DataFrame) -> list[str]:
    """Say how children without a base place are scored, and what is assumed about the
    special schools (for ``rank`` and ``validate``)."""
    settings = scenario.fallback
    if settings.method == "flat":
        return [
            f"fallback: flat: a child without a base place counts harm.unmet ="
            f" {scenario.harm.unmet:g} harm points, whatever their journey"
        ]
    far = settings.out_of_authority_minutes
    how = (
        f"the harm of that journey plus a mismatch of {settings.mismatch:g} harm point(s)"
        " for having no base place"
    )
    special = schools["establishment_group"] == "special"
    if settings.method == "out_of_authority":
        return [
            f"fallback: a child without a base place is taken to an out-of-authority placement"
            f" {far:g} minutes away (fallback.out_of_authority_minutes), scored at {how}"
        ]
    if not special.any():
        return [
            f"fallback: no special school is known, so a child without a base place is taken"
            f" to an out-of-authority placement {far:g} minutes away"
            f" (fallback.out_of_authority_minutes), scored at {how}"
        ]
    notes = [
        f"fallback: a child without a base place travels to the nearest of {int(special.sum())}"
        " special school(s) teaching their phase and age and serving their need group, or to an"
        f" out-of-authority placement {far:g} minutes away when none is nearer"
        f" (fallback.out_of_authority_minutes), scored at {how}"
    ]
    codes = schools.get("need_codes", pd.Series("", index=schools.index)).fillna("")
    unknown = special & (codes == "")
    if unknown.any():
        names = ", ".join(f"{r.name} ({r.urn})" for r in schools[unknown].head(10).itertuples())
        more = int(unknown.sum()) - 10
        notes.append(
            f"fallback: {int(unknown.sum())} special school(s) record no type of SEN"
            f" provision (GIAS SEN1..SEN13, or need_codes), so each is taken to serve every"
            f" need: {names}" + (f" and {more} more" if more > 0 else "")
        )
    return notes
