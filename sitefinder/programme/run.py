"""The sufficiency statement of a ranking run (the adapter from the run's tables)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from sitefinder.config import PROGRAMME_HORIZON, groups_in
from sitefinder.programme.projection import Trend, fit_trend, project_demand
from sitefinder.programme.schedule import Schedule, schedule
from sitefinder.programme.sufficiency import COLUMNS, Sufficiency, base_places, statement

if TYPE_CHECKING:
    from sitefinder.config import Scenario
    from sitefinder.instance import Instance
    from sitefinder.load import AuthorityData
    from sitefinder.model.network import Site, Solution

HORIZON = PROGRAMME_HORIZON
"""Years after the data's year a programme looks ahead by default."""


def _base_year(data: AuthorityData) -> int | None:
    basis = data.basis
    for caseload in (basis.authority, basis.england) if basis is not None else ():
        if caseload is not None:
            return caseload.latest_year
    return None


def _sources(scenario: Scenario, bases: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """Where each existing base's places (a row of ``table``) come from."""
    assumed = {
        (str(b.urn), str(b.base_name)): bool(getattr(b, "capacity_assumed", False))
        for b in bases.itertuples()
    }
    register = scenario.inputs.bases is not None
    calibrated = scenario.inputs.schools.capacity_from == "sen2"
    out = []
    for row in table.itertuples():
        guessed = assumed.get((str(row.urn), str(row.base_name)), False)
        if guessed:
            out.append("SEN2-calibrated" if calibrated else "assumed")
        else:
            out.append("register" if register else "recorded")
    return out


def asked_for(scenario: Scenario) -> bool:
    """Whether the scenario asks for a programme: any ``[programme]`` key it sets (the
    programme costs a search a year)."""
    return any(
        scenario.origin_of(f"programme.{key}") != "default"
        for key in ("years", "bases", "damping", "growth", "children", "capital_budget")
    )


@dataclass(frozen=True)
class Forecast:
    """Demand projected over the programme's horizon.

    Attributes
    ----------
    years
        The horizon (January census years).
    start
        The year the projection starts from (the data's year).
    trend
        The trend followed.
    notes
        How demand was projected.
    projected
        Projected demand (``year, area_code, phase, need_code, age, children``).
    """

    years: list[int]
    start: int
    trend: Trend
    notes: list[str]
    projected: pd.DataFrame


def forecast(scenario: Scenario, data: AuthorityData) -> Forecast | str:
    """Demand projected over the horizon, or why it cannot be (a note, in words): no SEN2
    series and no ``programme.growth``, or no year to start from."""
    settings = scenario.programme
    basis = data.basis
    base_year = _base_year(data)
    if settings.years is None and base_year is None:
        return (
            "programme: no sufficiency statement: the data's year is not known (give"
            " inputs.demand.sen2_caseload, or programme.years)"
        )
    years = settings.years or [int(base_year) + k for k in range(1, HORIZON + 1)]  # type: ignore[arg-type]
    start = base_year if base_year is not None else years[0] - 1
    if years[0] <= start:
        return (
            f"programme: no sufficiency statement: programme.years must come after the data's"
            f" year ({start}); got {years[0]}"
        )
    try:
        trend, notes = fit_trend(
            settings,
            authority=basis.authority if basis is not None else None,
            england=basis.england if basis is not None else None,
        )
    except ValueError as exc:
        return f"{exc}; no sufficiency statement"
    ages = scenario.inputs.demand.ages
    projected = project_demand(
        data.demand,
        years=years,
        base_year=int(start),
        trend=trend,
        ages={p: ages[p] for p in scenario.phases},
        population=basis.population if basis is not None else None,
        children=settings.children,
        additional=data.additional,
    )
    return Forecast(list(years), int(start), trend, notes, projected)


def programme_of(
    scenario: Scenario,
    instance: Instance,
    ahead: Forecast | str,
    *,
    existing: Sequence[Site],
    options: pd.DataFrame,
    option_sites: Sequence[Site],
) -> Schedule | None:
    """The programme the scenario asks for (:func:`sitefinder.programme.schedule.schedule`),
    on the demand ``ahead``; None when it asks for none or demand cannot be projected.

    It reads nothing of the plan, so a run may work it out beside the plan
    (:func:`sitefinder.programme.beside.beside`).

    Parameters
    ----------
    scenario, instance
        The run's scenario and model instance.
    ahead
        The run's :func:`forecast`.
    existing
        Today's sites (bases and special schools' places).
    options, option_sites
        The candidate new bases (``urn, name, phase, need_group, school``) and their sites.
    """
    if isinstance(ahead, str) or not asked_for(scenario):
        return None
    return schedule(
        instance,
        scenario,
        years=ahead.years,
        projected=ahead.projected,
        existing=existing,
        options=options,
        option_sites=option_sites,
    )


def sufficiency_of(
    scenario: Scenario,
    data: AuthorityData,
    instance: Instance,
    *,
    ahead: Forecast | str,
    planned: Schedule | None,
    existing: Sequence[Site],
    existing_table: pd.DataFrame,
    before: Solution,
    chosen: pd.DataFrame,
) -> Sufficiency:
    """The sufficiency statement of a run: projected demand against places, by year.

    Parameters
    ----------
    scenario, data, instance
        The run's scenario, inputs and model instance.
    ahead
        The run's :func:`forecast`.
    planned
        The run's :func:`programme_of`: None when the scenario asks for no programme.
    existing, existing_table
        Today's sites (bases first, one per row of ``existing_table``) and their table.
    before
        Today's network's optimum (who each base serves).
    chosen
        The plan's new bases (``phase, need_group, places``): the places added from the first
        year when no programme is asked for.

    Returns
    -------
    Sufficiency
        The statement; empty with a note saying what it needs where demand cannot be
        projected (no SEN2 series and no ``programme.growth``, or no year to start from).
    """
    if isinstance(ahead, str):
        return _empty(ahead)
    years, projected, notes = ahead.years, ahead.projected, list(ahead.notes)
    n_bases = len(existing_table)
    table = existing_table.assign(places_source=_sources(scenario, data.bases, existing_table))
    served: dict[int, dict[tuple[str, str], float]] = {}
    mine = (before.pair_site < n_bases) & (before.flow > 1e-9)
    for site, row, flow in zip(
        before.pair_site[mine], before.pair_row[mine], before.flow[mine], strict=True
    ):
        key = instance.classes[int(instance.rows.klass[row])]
        served.setdefault(int(site), {})
        served[int(site)][key] = served[int(site)].get(key, 0.0) + float(flow)
    classes = {
        i: sorted(instance.classes[c] for c in site.classes)
        for i, site in enumerate(existing[:n_bases])
    }
    today = base_places(table, served, classes=classes)
    if planned is not None:
        notes.extend(planned.notes)
        added = planned.added
    else:  # the plan, open from the first year
        added = _plan_places(scenario, chosen)
        notes.append(
            f"programme: none asked for (a [programme] section runs one), so the plan's new"
            f" bases are counted from {years[0]}"
        )
    rows = statement(scenario, projected=projected, today=today, added=added, years=years)
    notes.append(
        "sufficiency: children projected to need a base place each year against the places"
        " today (a base serving several needs lends its places to each in proportion to the"
        " children it serves today) and the places the programme has opened by then; gap ="
        " children - places today - places added"
    )
    if planned is None:
        return Sufficiency(rows, projected, ahead.trend.series, notes)
    return Sufficiency(
        rows, projected, ahead.trend.series, notes, planned.table, planned.years, planned.states
    )


def _plan_places(scenario: Scenario, chosen: pd.DataFrame) -> pd.DataFrame:
    """The plan's places by phase and need group (a base of several needs lends its places
    to each evenly)."""
    records = []
    for row in chosen.reindex(columns=["phase", "need_group", "places"]).dropna().itertuples():
        groups = groups_in(str(row.need_group))
        records += [
            {"phase": row.phase, "need_group": g, "places": float(row.places) / len(groups)}
            for g in groups
        ]
    return pd.DataFrame.from_records(records, columns=["phase", "need_group", "places"])


def _empty(note: str) -> Sufficiency:
    return Sufficiency(
        pd.DataFrame(columns=COLUMNS),
        pd.DataFrame(columns=["year", "area_code", "phase", "need_code", "age", "children"]),
        pd.Series(dtype=float),
        [note],
    )
