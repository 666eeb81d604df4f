"""Where a child without a base place goes, and the harm of that.

A child with no place in an inclusion base is not nowhere: they take a special school's place,
an out-of-authority placement, or stay in mainstream without specialist support. Their harm is
the harm curve at that *fallback journey* (the same curve, travel term included, as a journey to
a base) plus a *mismatch* penalty in harm points for having no base place. The scenario's
``[fallback]`` section chooses the journey:

- ``special_school``: special schools' places, as always-open sites of the assignment
  (:class:`sitefinder.model.network.Site` with ``fallback``): children without a base place
  fill them at least harm (nearest first) where the school teaches their phase and age and
  serves their need group, within ``journey.max_minutes``, each school up to its places;
  maintained and academy special schools, independent and non-maintained ones are kinds with
  their own ``use`` and ``extra_harm``. The children no place takes go out of authority,
  ``out_of_authority_minutes`` away (per phase where set): the unmet slack of the assignment.
- ``out_of_authority``: the fixed journey for every child;
- ``flat``: no journey, ``harm.unmet`` harm points per child (the old model).

:func:`fallback_schools` says which special schools are used and how (the notes of ``validate``
and ``rank`` come from it); :func:`build_fallback` makes the per-row out-of-authority harm and
:func:`fallback_sites` the special schools' sites.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Fallback, Harm, Phase, Scenario
from sitefinder.journeys import RowJourneys
from sitefinder.model.network import Site, Solution
from sitefinder.supply import HOSTABLE_PHASES, phase_ages

if TYPE_CHECKING:
    from sitefinder.instance import Instance

KINDS = ("special", "independent", "non_maintained", "base_cross_border")
KIND_LABELS = {
    "special": "maintained or academy special school",
    "independent": "independent special school",
    "non_maintained": "non-maintained special school",
    "base_cross_border": "base across the border",
}


@dataclass(frozen=True)
class FallbackRows:
    """The last-resort fallback of each demand row and its harm per child.

    Attributes
    ----------
    method
        The scenario's ``fallback.method``.
    minutes
        Minutes of each row's last resort: out of authority, or (after :func:`fold`) a
        special school too roomy ever to fill where that is less harm (NaN with ``flat``).
    journey_harm
        Harm points per child of that journey, any extra harm of its kind included (0 with
        ``flat``).
    mismatch_harm
        Harm points per child for having no base place (``harm.unmet`` with ``flat``).
    notes
        What was assumed, for the record.
    school
        The last resort's special school (its row in :attr:`FallbackSchools.used`), -1 out
        of authority; None: out of authority for every row.
    """

    method: str
    minutes: NDArray[np.float64]
    journey_harm: NDArray[np.float64]
    mismatch_harm: NDArray[np.float64]
    notes: list[str] = field(default_factory=list)
    school: NDArray[np.intp] | None = None

    @property
    def destination(self) -> NDArray[np.intp]:
        """Each row's last resort: a never-full special school's row in
        :attr:`FallbackSchools.used`, or -1 out of authority."""
        if self.school is None:
            return np.full(len(self.minutes), -1, dtype=np.intp)
        return self.school

    @property
    def unmet_harm(self) -> NDArray[np.float64]:
        """Harm points per child of each row placed out of authority (or, ``flat``, unmet)."""
        return self.journey_harm + self.mismatch_harm


@dataclass(frozen=True)
class FallbackSchools:
    """The special schools children without a base place may go to, as the model uses them.

    Attributes
    ----------
    table
        One row per special school in the schools table: ``position`` (its row there),
        ``urn, name, kind`` (``special``, ``independent``, ``non_maintained``), ``used``
        (False: its kind is switched off or it teaches none of the planned phases),
        ``phases`` (``;``-joined), ``first_age``, ``last_age`` (years; NaN: every age of its
        phases), ``need_codes`` (empty: every need), ``places`` (for children without a base
        place), ``places_source`` and ``cross_border``.
    notes, warnings
        What was assumed, and what a planner should fix.
    """

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def used(self) -> pd.DataFrame:
        """The schools the model offers places at."""
        return self.table[self.table["used"] & (self.table["places"] > 0)]


def _kind_of(schools: pd.DataFrame) -> pd.Series:
    if "special_kind" in schools.columns:
        return schools["special_kind"].fillna("").replace("", "special").astype(str)
    return pd.Series("special", index=schools.index)


def _places(settings: Fallback, schools: pd.DataFrame) -> tuple[NDArray[np.float64], list[str]]:
    """Each special school's places for children without a base place, and their source."""
    n = len(schools)

    def column(name: str) -> NDArray[np.float64]:
        if name not in schools.columns:
            return np.full(n, np.nan)
        return pd.to_numeric(schools[name], errors="coerce").to_numpy(dtype=float)

    register, capacity, pupils = column("special_places"), column("capacity"), column("pupils")
    places = np.full(n, settings.default_places)
    source = ["assumed (fallback.default_places)"] * n
    for i in range(n):
        if not np.isnan(register[i]):
            places[i], source[i] = register[i], "register"
        elif settings.places == "spare" and not np.isnan(capacity[i]):
            if np.isnan(pupils[i]):
                places[i], source[i] = capacity[i], "capacity (pupils unknown)"
            else:
                places[i], source[i] = max(capacity[i] - pupils[i], 0.0), "capacity - pupils"
        elif settings.places == "capacity" and not np.isnan(capacity[i]):
            places[i], source[i] = capacity[i], "capacity"
        elif settings.places == "capacity" and not np.isnan(pupils[i]):
            places[i], source[i] = pupils[i], "pupils (capacity unknown)"
    return places, source


def _listed(table: pd.DataFrame, limit: int = 10) -> str:
    names = [f"{r.name} ({r.urn})" for r in table.head(limit).itertuples()]
    more = len(table) - limit
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def fallback_schools(
    scenario: Scenario, schools: pd.DataFrame, border_bases: pd.DataFrame | None = None
) -> FallbackSchools:
    """The special schools of ``schools`` and how the fallback uses each.

    A special school teaches the phases its phase names; one whose phase is "Not applicable"
    or unknown teaches the planned phases its statutory ages overlap, or, with no ages either,
    every planned phase at every age (a warning names it and the fix). It serves the need
    groups its recorded SEN provision names (GIAS ``SEN1``..``SEN13``), or every need when it
    records none. Each of ``border_bases`` (other authorities' bases within reach: the
    :class:`~sitefinder.load.AuthorityData` ``border_bases``) is a place of kind
    ``base_cross_border``: its phases, needs and places.
    """
    settings = scenario.fallback
    special = (schools["establishment_group"] == "special").to_numpy()
    chosen = schools[special]
    spans = phase_ages(scenario.inputs.demand.ages)
    kinds = _kind_of(chosen)
    places, source = _places(settings, chosen)
    records = []
    guessed = []
    for i, (position, school) in enumerate(
        zip(np.flatnonzero(special), chosen.itertuples(), strict=True)
    ):
        first = float(pd.to_numeric(getattr(school, "first_age", np.nan), errors="coerce"))
        last = float(pd.to_numeric(getattr(school, "last_age", np.nan), errors="coerce"))
        named = HOSTABLE_PHASES.get(str(school.phase))
        if named:
            phases = [p for p in named if p in scenario.phases]
        elif not (np.isnan(first) or np.isnan(last)):
            phases = [p for p in scenario.phases if first <= spans[p][1] and last >= spans[p][0]]
        else:
            phases = list(scenario.phases)
            guessed.append(i)
        kind = str(kinds.iloc[i])
        records.append(
            {
                "position": int(position),
                "urn": school.urn,
                "name": school.name,
                "kind": kind,
                "used": bool(phases) and settings.kind(kind).use,
                "phases": ";".join(phases),
                "first_age": first,
                "last_age": last,
                "need_codes": str(getattr(school, "need_codes", "") or ""),
                "places": float(places[i]),
                "places_source": source[i],
                "cross_border": bool(getattr(school, "cross_border", False) or False),
            }
        )
    records += _border_base_records(scenario, schools, border_bases)
    table = pd.DataFrame.from_records(
        records,
        columns=[
            "position", "urn", "name", "kind", "used", "phases", "first_age", "last_age",
            "need_codes", "places", "places_source", "cross_border",
        ],
    )  # fmt: skip
    table["used"] = table["used"].astype(bool)
    notes, warnings = _school_notes(scenario, table, guessed)
    return FallbackSchools(table, notes, warnings)


def _border_base_records(
    scenario: Scenario, schools: pd.DataFrame, bases: pd.DataFrame | None
) -> list[dict[str, object]]:
    if bases is None or bases.empty:
        return []
    position = {str(u): i for i, u in enumerate(schools["urn"])}
    records: list[dict[str, object]] = []
    for base in bases.itertuples():
        at = position.get(str(base.urn))
        if at is None:
            continue
        host = schools.iloc[at]
        phases = [p for p in HOSTABLE_PHASES.get(str(base.phase), ()) if p in scenario.phases]
        records.append(
            {
                "position": at,
                "urn": str(base.urn),
                "name": str(base.base_name),
                "kind": "base_cross_border",
                "used": bool(phases) and scenario.fallback.base_cross_border.use,
                "phases": ";".join(phases),
                "first_age": float(pd.to_numeric(host.get("first_age"), errors="coerce")),
                "last_age": float(pd.to_numeric(host.get("last_age"), errors="coerce")),
                "need_codes": ";".join(base.need_codes),
                "places": float(base.capacity),
                "places_source": "assumed (default_base_capacity)"
                if bool(getattr(base, "capacity_assumed", False))
                else "the base's places",
                "cross_border": True,
            }
        )
    return records


def _school_notes(
    scenario: Scenario, table: pd.DataFrame, guessed: list[int]
) -> tuple[list[str], list[str]]:
    settings = scenario.fallback
    notes: list[str] = []
    warnings: list[str] = []
    if settings.method != "special_school" or table.empty:
        return notes, warnings
    if guessed:
        warnings.append(
            f"fallback: {len(guessed)} special school(s) record neither a phase nor statutory"
            " ages, so each is taken to teach every planned phase at every age:"
            f" {_listed(table.iloc[guessed])}; give statutory_low_age and statutory_high_age"
            " (or the phase) in the schools file to fix"
        )
    for kind in KINDS:
        mine = table[table["kind"] == kind]
        if mine.empty:
            continue
        label = KIND_LABELS[kind]
        if not settings.kind(kind).use:
            notes.append(
                f"fallback: {len(mine)} {label}(s) not used (fallback.{kind}.use = false):"
                f" {_listed(mine)}"
            )
            continue
        unused = mine[mine["phases"] == ""]
        if not unused.empty:
            notes.append(
                f"fallback: {len(unused)} {label}(s) teach none of the planned phases' ages:"
                f" {_listed(unused)}"
            )
        extra = settings.kind(kind).extra_harm
        if extra and not mine[mine["used"]].empty:
            notes.append(
                f"fallback: a place at an {label} adds {extra:g} harm point(s) per child"
                f" (fallback.{kind}.extra_harm), so maintained places are filled first"
            )
    used = table[table["used"]]
    how = {
        "capacity": "capacity (today's pupils are not counted against it: fallback.places)",
        "spare": 'capacity minus pupils (fallback.places = "spare")',
    }[settings.places]
    if not used.empty:
        counts = used["places_source"].value_counts()
        sources = ", ".join(f"{counts[s]} from {s}" for s in counts.index)
        notes.append(
            f"fallback: special schools' places for children without a base place are each"
            f" school's {how}: {used['places'].sum():,.0f} places at {len(used)} school(s)"
            f" ({sources})"
        )
        assumed = used[used["places_source"].str.startswith("assumed")]
        if not assumed.empty:
            warnings.append(
                f"fallback: {len(assumed)} special school(s) record no capacity or pupils, so"
                f" each is taken to have {settings.default_places:g} places"
                f" (fallback.default_places): {_listed(assumed)}; give their places in a"
                " special schools register (inputs.special_schools), or capacity in the"
                " schools file, to fix"
            )
        full = used[used["places"] <= 0]
        if not full.empty:
            notes.append(
                f"fallback: {len(full)} special school(s) have no places to offer"
                f" ({how}): {_listed(full)}"
            )
    codes = used["need_codes"] if not used.empty else pd.Series(dtype=str)
    unknown = used[codes == ""] if not used.empty else used
    if not unknown.empty:
        notes.append(
            f"fallback: {len(unknown)} special school(s) record no type of SEN"
            f" provision (GIAS SEN1..SEN13, or need_codes), so each is taken to serve every"
            f" need: {_listed(unknown)}"
        )
    return notes, warnings


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
    mismatch = np.zeros(n)
    phase_of = np.asarray(phases)
    for phase in [cast(Phase, str(p)) for p in np.unique(phase_of)]:
        mask = phase_of == phase
        journey[mask] = harm.curve(phase)(minutes[mask])
        mismatch[mask] = fallback.mismatch_of(phase)
    return journey, mismatch


def build_fallback(scenario: Scenario, *, phases: Sequence[str]) -> FallbackRows:
    """The out-of-authority fallback of every demand row (of ``phases``) under the scenario's
    ``[fallback]`` settings: the journey every child no special school place takes makes."""
    settings = scenario.fallback
    n = len(phases)
    if settings.method == "flat":
        journey, mismatch = fallback_harm(
            scenario.harm, settings, phases=phases, minutes=np.zeros(n)
        )
        return FallbackRows("flat", np.full(n, np.nan), journey, mismatch)
    far = np.array([settings.minutes_of(p) for p in phases], dtype=float)
    journey, mismatch = fallback_harm(scenario.harm, settings, phases=phases, minutes=far)
    return FallbackRows(settings.method, far, journey, mismatch)


def offered_rows(
    school: Any,
    *,
    class_ids: dict[tuple[str, str], int],
    scenario: Scenario,
    klass: NDArray[np.intp],
    first: NDArray[np.int64],
    last: NDArray[np.int64],
    rows: NDArray[np.intp],
) -> NDArray[np.bool_]:
    """Which of ``rows`` a special school (a :func:`fallback_schools` table row) may take:
    its phases and need groups, and age bands inside the ages it teaches (unknown: all)."""
    phases = [p for p in str(school.phases).split(";") if p]
    codes = set(str(school.need_codes).split(";")) - {""}
    groups = [g for g, spec in scenario.need_groups.items() if not codes or codes & set(spec.codes)]
    ids = [class_ids[(p, g)] for p in phases for g in groups if (p, g) in class_ids]
    ok = np.isin(klass[rows], ids)
    lo, hi = float(school.first_age), float(school.last_age)
    if not (np.isnan(lo) or np.isnan(hi)):
        ok &= (first[rows] >= lo) & (last[rows] <= hi)
    return ok


def fallback_keys(n_rows: int, last: FallbackRows, places: FallbackPlaces) -> NDArray[np.intp]:
    """A number per demand row, the same for rows with the same last resort and offered the
    same places that can fill (:func:`fold`): neighbouring age bands with the same number may
    be merged without changing a solution."""
    offered = np.zeros((n_rows, len(places.sites) + 1), dtype=np.int64)
    offered[:, 0] = last.destination
    for j, site in enumerate(places.sites, start=1):
        offered[site.rows, j] = 1
    _, key = np.unique(offered, axis=0, return_inverse=True)
    return key.reshape(-1).astype(np.intp)


def fallback_sites(
    scenario: Scenario,
    schools: FallbackSchools,
    *,
    classes: Sequence[tuple[str, str]],
    klass: NDArray[np.intp],
    ages: NDArray[np.int64],
    journeys: RowJourneys,
    pair_harm: NDArray[np.float64],
    row_phase: NDArray[np.intp],
    mismatch: NDArray[np.float64],
) -> tuple[list[Site], NDArray[np.intp]]:
    """Each used special school's places as an always-open site of the assignment.

    Parameters
    ----------
    scenario, schools
        The scenario and :func:`fallback_schools` of its schools table.
    classes, klass, ages
        Class (phase, need group) of each class id; each demand row's class and age band
        (first and last age, years).
    journeys, pair_harm, row_phase
        The rows' journeys, harm points per child of each pair by phase, and each row's phase.
    mismatch
        Harm points per child of each row for having no base place.

    Returns
    -------
    sites, school
        One site per used school with places: its ``harm`` per row is the journey's harm +
        the row's mismatch + its kind's ``extra_harm``; and each one's row in
        :attr:`FallbackSchools.used`.
    """
    if scenario.fallback.method != "special_school":
        return [], np.zeros(0, dtype=np.intp)
    class_ids = {c: i for i, c in enumerate(classes)}
    sites = []
    for school in schools.used.itertuples():
        rows, _, pair = journeys.to_schools(np.array([school.position], dtype=np.intp))
        ok = offered_rows(
            school, class_ids=class_ids, scenario=scenario, klass=klass,
            first=ages[:, 0], last=ages[:, 1], rows=rows,
        )  # fmt: skip
        rows, pair = rows[ok], pair[ok]
        extra = scenario.fallback.kind(str(school.kind)).extra_harm
        # In a base across the border a child has a base place: no mismatch.
        placed = school.kind == "base_cross_border"
        charged = np.zeros(len(rows)) if placed else mismatch[rows]
        sites.append(
            Site(
                capacity=float(school.places),
                classes=frozenset(int(c) for c in np.unique(klass[rows])),
                rows=rows,
                minutes=journeys.minutes(pair),
                harm=pair_harm[row_phase[rows], pair] + charged + extra,
                fallback=True,
                extra=extra,
                mismatch=charged if placed else None,
            )
        )
    return sites, np.arange(len(sites), dtype=np.intp)


@dataclass(frozen=True)
class FallbackPlaces:
    """The special schools' places as the assignment sees them.

    Attributes
    ----------
    sites, school
        Places some children may be turned away from (always-open sites of the
        assignment, :class:`~sitefinder.model.network.Site` with ``fallback``), and each
        one's row in :attr:`FallbackSchools.used`; only their pairs that can be less harm
        than the row's last resort are kept.
    roomy, roomy_school
        Places every child they may take would not fill: each row's cheapest is its own
        last resort (nothing to share), folded into the rows' unmet harm by :func:`fold`.
    offered, offered_school
        Every used school's places as first offered (before :func:`fold`), to fold again
        under other settings (the robustness runs).
    far
        The out-of-authority fallback alone, before the folding.
    """

    sites: list[Site]
    school: NDArray[np.intp]
    roomy: list[Site]
    roomy_school: NDArray[np.intp]
    offered: list[Site]
    offered_school: NDArray[np.intp]
    far: FallbackRows


def fold(
    children: NDArray[np.float64],
    klass: NDArray[np.intp],
    sites: Sequence[Site],
    school: NDArray[np.intp],
    far: FallbackRows,
) -> tuple[FallbackRows, FallbackPlaces]:
    """Fold the special schools too roomy ever to fill into the rows' last resort.

    A school whose places are at least all the children it may take never turns one away,
    so its place is, for each of those rows, a fixed option like the out-of-authority
    journey: each row's last resort becomes the least harm of the two. A place no less harm
    than a row's last resort is never needed by that row (its children can take the last
    resort instead at no more harm), so that pair is dropped; a school left with fewer
    children than places becomes roomy in turn. The assignment keeps only the places that
    can fill, with the same optimum and far fewer links between classes (what keeps ranking
    fast when special schools serve several phases and needs).
    """
    unmet = far.unmet_harm.copy()
    minutes = far.minutes.copy()
    last = np.full(len(unmet), -1, dtype=np.intp)
    open_ = list(zip(sites, (int(i) for i in school), strict=True))
    roomy: list[tuple[Site, int]] = []
    changed = True
    while changed:
        changed = False
        kept = []
        for site, index in open_:
            better = site.harm < unmet[site.rows] - 1e-12
            if not better.all():
                site = _pairs(site, better, klass)
            if not len(site.rows):
                continue
            # A base across the border (its own mismatch: none) stays a site: folded, its
            # children would be charged the row's mismatch.
            roomy_enough = site.capacity >= float(children[site.rows].sum()) + 1e-9
            if site.mismatch is not None or not roomy_enough:
                kept.append((site, index))
                continue
            roomy.append((site, index))
            changed = True
            rows = site.rows
            cheaper = site.harm < unmet[rows]
            unmet[rows[cheaper]] = site.harm[cheaper]
            minutes[rows[cheaper]] = site.minutes[cheaper]
            last[rows[cheaper]] = index
        open_ = kept
    folded = FallbackRows(
        far.method, minutes, unmet - far.mismatch_harm, far.mismatch_harm, far.notes, last
    )
    places = FallbackPlaces(
        [s for s, _ in open_],
        np.array([i for _, i in open_], dtype=np.intp),
        [s for s, _ in roomy],
        np.array([i for _, i in roomy], dtype=np.intp),
        list(sites),
        np.asarray(school, dtype=np.intp),
        far,
    )
    return folded, places


def _pairs(site: Site, keep: NDArray[np.bool_], klass: NDArray[np.intp]) -> Site:
    """``site`` offered only the rows ``keep`` marks (its classes those rows')."""
    rows = site.rows[keep]
    return replace(
        site,
        rows=rows,
        minutes=site.minutes[keep],
        harm=site.harm[keep],
        classes=frozenset(int(c) for c in np.unique(klass[rows])),
        mismatch=None if site.mismatch is None else site.mismatch[keep],
    )


def method_notes(scenario: Scenario, found: FallbackSchools) -> list[str]:
    settings = scenario.fallback
    if settings.method == "flat":
        return [
            f"fallback: flat: a child without a base place counts harm.unmet ="
            f" {scenario.harm.unmet:g} harm points, whatever their journey"
        ]
    far = per_phase_text(scenario, settings.minutes_of, "minutes")
    mismatch = per_phase_text(scenario, settings.mismatch_of, "harm point(s)")
    how = f"the harm of that journey plus a mismatch of {mismatch} for having no base place"
    if settings.method == "out_of_authority":
        return [
            f"fallback: a child without a base place is taken to an out-of-authority placement"
            f" {far} away (fallback.out_of_authority_minutes), scored at {how}"
        ]
    used = found.used
    if used.empty:
        return [
            f"fallback: no special school with places teaches the planned phases, so a child"
            f" without a base place is taken to an out-of-authority placement {far} away"
            f" (fallback.out_of_authority_minutes, an assumption), scored at {how}",
            *found.notes,
        ]
    counts = used["kind"].value_counts()
    kinds = ", ".join(f"{counts[k]} {KIND_LABELS[k]}(s)" for k in KINDS if k in counts.index)
    across = int(used["cross_border"].sum())
    # The places across the border within reach are modelled, each up to its places: the
    # journey past them all is not the nearest one's, so it stays an assumption.
    beyond = (
        f": beyond the {across} place(s) across the border within reach, whose places are modelled"
        if across
        else ""
    )
    return [
        f"fallback: children without a base place fill the places of {len(used)} special"
        f" school(s) ({kinds}) teaching their phase and age and serving their need group, at"
        f" least harm (nearest first, each school up to its places); those no place takes go"
        f" to an out-of-authority placement {far} away (fallback.out_of_authority_minutes, an"
        f" assumption{beyond}); scored at {how}",
        *found.notes,
    ]


def per_phase_text(scenario: Scenario, value_of: Callable[[str], float], unit: str) -> str:
    """A setting that may differ by phase, in words: ``60 minutes``, or ``45 minutes (primary)
    and 75 minutes (secondary)``."""
    values = {phase: value_of(phase) for phase in scenario.phases}
    if len(set(values.values())) == 1:
        return f"{next(iter(values.values())):g} {unit}"
    return " and ".join(f"{v:g} {unit} ({p})" for p, v in values.items())


def where_unplaced(
    instance: Instance, solution: Solution, *, first_site: int, network: str
) -> pd.DataFrame:
    """Where each area's children without a base place go in ``solution``: one row per area,
    phase, need group and destination (a special school, or out of authority).

    Parameters
    ----------
    instance
        The model instance (its demand table, special schools and out-of-authority minutes).
    solution
        A network's optimum (:class:`sitefinder.model.network.Solution`).
    first_site
        The site number of the first special school's places (today's bases come before).
    network
        ``today`` or ``plan``: which network the rows describe.

    Returns
    -------
    pandas.DataFrame
        ``network, area_code, phase, need_group, kind`` (``special``, ``independent``,
        ``non_maintained``, ``out_of_authority``, or ``flat`` with no journey), ``urn, name``
        (empty out of authority), ``children, minutes, cross_border``.
    """
    demand = instance.demand
    used = instance.special.used.reset_index(drop=True)
    flows = solution.fallback
    parts = []
    if flows is not None and len(flows.row):
        school = used.iloc[instance.places.school[flows.site - first_site]]
        parts.append(
            pd.DataFrame(
                {
                    "area_code": demand["area_code"].to_numpy()[flows.row],
                    "phase": demand["phase"].to_numpy()[flows.row],
                    "need_group": demand["need_group"].to_numpy()[flows.row],
                    "kind": school["kind"].to_numpy(),
                    "urn": school["urn"].astype(str).to_numpy(),
                    "name": school["name"].astype(str).to_numpy(),
                    "children": flows.flow,
                    "minutes": flows.minutes,
                    "cross_border": school["cross_border"].to_numpy(dtype=bool),
                }
            )
        )
    far = flows.out_of_authority if flows is not None else solution.unmet
    rows = np.flatnonzero((far > 1e-9) & solution.rows)
    flat = instance.fallback.method == "flat"
    last = instance.fallback.destination[rows]
    known = last >= 0
    school = used.iloc[last[known]]
    kind = np.full(len(rows), "flat" if flat else "out_of_authority", dtype=object)
    urn = np.full(len(rows), "", dtype=object)
    name = np.full(len(rows), "", dtype=object)
    cross = np.zeros(len(rows), dtype=bool)
    kind[known] = school["kind"].to_numpy()
    urn[known] = school["urn"].astype(str).to_numpy()
    name[known] = school["name"].astype(str).to_numpy()
    cross[known] = school["cross_border"].to_numpy(dtype=bool)
    parts.append(
        pd.DataFrame(
            {
                "area_code": demand["area_code"].to_numpy()[rows],
                "phase": demand["phase"].to_numpy()[rows],
                "need_group": demand["need_group"].to_numpy()[rows],
                "kind": kind,
                "urn": urn,
                "name": name,
                "children": far[rows],
                "minutes": instance.fallback.minutes[rows],
                "cross_border": cross,
            }
        )
    )
    table = pd.concat(parts, ignore_index=True)
    keys = ["area_code", "phase", "need_group", "kind", "urn", "name", "cross_border"]
    table = table.groupby(keys, as_index=False, sort=True, dropna=False).agg(
        children=("children", "sum"), minutes=("minutes", "first")
    )
    table = table[table["children"] > 1e-9]
    table.insert(0, "network", network)
    columns = ["network", "area_code", "phase", "need_group", "kind", "urn", "name",
               "children", "minutes", "cross_border"]  # fmt: skip
    return table[columns].reset_index(drop=True)


def special_school_table(special: FallbackSchools, unplaced: pd.DataFrame) -> pd.DataFrame:
    """Each special school with how the fallback used it: its kind, phases, ages, needs,
    places and their source, and the children in its places today and with the plan."""
    table = special.table.drop(columns=["position"]).copy()
    for network in ("today", "plan"):
        mine = unplaced[(unplaced["network"] == network) & (unplaced["urn"] != "")]
        children = mine.groupby("urn")["children"].sum()
        table[f"children_{network}"] = (
            table["urn"].astype(str).map(children).fillna(0.0).to_numpy(dtype=float)
        )
    return table
