"""Demand: children needing a base place, by area, phase, need and single year of age.

Three routes lead to the same table (``area_code, phase, need_code, age, children``; ``age``
blank where a counts file gives none): counts per area given directly, a pupil list aggregated
to areas, or a model: child population by area and single year of age x the authority's
EHC-plan rate by need and age x the share of plans that need a base place at that age (SEN2
placements in mainstream resourced provision and SEN units), optionally projected to a planning
year along the SEN2 time series.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sitefinder.config import NEED_CODES, Phase
from sitefinder.disclosure import format_count
from sitefinder.readers.sen2 import OLDEST, Caseload, NeedsByAge


@dataclass(frozen=True)
class DemandBasis:
    """What demand was built from, for projecting it (:mod:`sitefinder.programme`).

    Attributes
    ----------
    population
        Population by area (rows, ``area_code``) and single year of age (columns, years), when
        demand was modelled; None otherwise.
    authority, england
        The authority's and England's SEN2 caseloads (EHC plans per census year), when the
        caseload file was given.
    """

    population: pd.DataFrame | None = None
    authority: Caseload | None = None
    england: Caseload | None = None


@dataclass(frozen=True)
class Growth:
    """Fitted yearly growth of EHC plans per need code (fraction per year, e.g. 0.08)."""

    per_need: pd.Series
    fitted_on: str
    first_year: int
    last_year: int


@dataclass(frozen=True)
class Projection:
    """Demand projected from the census year to a planning year along fitted growth.

    Attributes
    ----------
    growth
        The yearly growth of plans per need code.
    planning_year
        The year planned for (a calendar year, e.g. 2028).
    """

    growth: Growth
    planning_year: int


def fit_growth(needs: NeedsByAge, caseload: Caseload | None) -> Growth:
    """Fit exponential growth of plans per need: log(plans) = a + b x year, growth = e^b - 1.

    Fitted per need code when the needs file holds at least three census years; otherwise the
    authority's all-plans series (caseload file) sets one rate for every need.
    """
    history = needs.history.dropna(how="all")
    if len(history) >= 3:
        rates = {}
        for code in NEED_CODES:
            series = history[code].dropna()
            series = series[series > 0]
            rates[code] = _yearly_growth(series) if len(series) >= 3 else 0.0
        years = history.index
        return Growth(pd.Series(rates), "each need's plans", int(years.min()), int(years.max()))
    if caseload is None:
        raise ValueError("a caseload time series is needed to fit growth")
    rate = _yearly_growth(caseload.plans)
    years = caseload.plans.index
    return Growth(
        pd.Series(rate, index=list(NEED_CODES)),
        "all plans (the needs file holds one year)",
        int(years.min()),
        int(years.max()),
    )


def _yearly_growth(series: pd.Series) -> float:
    from sklearn.linear_model import LinearRegression  # only when projecting: slow to import

    model = LinearRegression().fit(
        np.asarray(series.index, dtype=float).reshape(-1, 1), np.log(series.to_numpy(dtype=float))
    )
    return float(np.expm1(model.coef_[0]))


ShareChoice = str | float | Mapping[Phase, float]


def _planned_ages(ages: Mapping[Phase, tuple[int, int]]) -> list[int]:
    return sorted({a for low, high in ages.values() for a in range(low, high + 1)})


def pooled_share(caseload: Caseload, low: int, high: int) -> float:
    """Share of plans aged ``low``-``high`` (years) in bases, from SEN2's age breakdown.

    Only bands inside the range whose plans and placements are both known count; NaN when
    none does.
    """
    if caseload.by_age is None:
        return float("nan")
    table = caseload.by_age
    inside = (table.index >= low) & (table["oldest"] <= high)
    known = table[inside].dropna(subset=["plans", "in_bases"])
    plans = float(known["plans"].sum())
    return float(known["in_bases"].sum()) / plans if plans > 0 else float("nan")


def _latest_known_share(caseload: Caseload) -> float:
    known = (caseload.in_bases / caseload.plans).dropna()
    return float(known.iloc[-1]) if len(known) else float("nan")


def shares_by_single_age(caseload: Caseload, ages: Mapping[Phase, tuple[int, int]]) -> pd.Series:
    """A geography's share of plans in bases at each planned single year of age (fraction).

    A band's share applies to every age in it. An age SEN2 gives no share for (no row, no plans,
    or placements unavailable) takes the phase's pooled share. Without an age breakdown in the
    file, the all-ages share of the latest year with known placements applies at every age.

    Returns
    -------
    pandas.Series
        The shares by age (years), NaN where nothing is known.
    """
    span = _planned_ages(ages)
    if caseload.by_age is None:
        return pd.Series(_latest_known_share(caseload), index=span, dtype=float)
    shares = pd.Series(np.nan, index=span, dtype=float)
    band = caseload.shares_by_age()
    for low, oldest in caseload.by_age["oldest"].items():
        for age in range(int(low), int(oldest) + 1):
            if age in shares.index:
                shares[age] = band[low]
    for low, high in ages.values():
        shares.loc[low:high] = shares.loc[low:high].fillna(pooled_share(caseload, low, high))
    return shares


@dataclass(frozen=True)
class BaseShares:
    """The share of EHC plans that need a base place, by single year of age.

    Attributes
    ----------
    by_age
        The share used (fraction 0-1) at every planned single year of age (years).
    choice
        The scenario's ``inputs.demand.share``.
    described
        How the share was chosen, in words, for the notes.
    authority, england
        Each one's share of plans in mainstream resourced provision or SEN units by phase
        (fraction; NaN when unknown or not read), pooled over the phase's ages.
    year
        The January census year of the SEN2 age breakdown, or None.
    warnings
        What a planner should know about the share.
    """

    by_age: pd.Series
    choice: ShareChoice
    described: str
    authority: dict[Phase, float] = field(default_factory=dict)
    england: dict[Phase, float] = field(default_factory=dict)
    year: int | None = None
    warnings: list[str] = field(default_factory=list)


def _ages_text(ages: Mapping[Phase, tuple[int, int]], phase: Phase) -> str:
    low, high = ages[phase]
    return f"{phase} (ages {low}-{high})"


def base_shares(
    choice: ShareChoice,
    *,
    ages: Mapping[Phase, tuple[int, int]],
    authority: Caseload | None,
    england: Caseload | None,
) -> tuple[BaseShares | None, list[str]]:
    """The share of plans needing a base place at each planned age, and why.

    Parameters
    ----------
    choice
        ``"higher"`` (the higher of the authority's and England's share at each age, the
        default for planning: an authority's current share measures its supply of base places,
        not its children's need), ``"authority"``, ``"england"``, a fraction for every age, or
        fractions by phase.
    ages
        Youngest and oldest age (years) of each phase.
    authority, england
        SEN2 caseloads (plans and placements in bases by age); either may be None when not
        read (then a choice needing it is a problem).

    Returns
    -------
    tuple
        The shares, or None, and the problems that stop them (messages without a file name).
    """
    span = _planned_ages(ages)
    phases: list[Phase] = list(ages)
    own: pd.Series | None = None
    national: pd.Series | None = None
    warnings: list[str] = []
    problems: list[str] = []
    name = authority.name if authority is not None and authority.name else "the authority"
    if authority is not None:
        own = shares_by_single_age(authority, ages)
    if england is not None:
        national = shares_by_single_age(england, ages)
    year = next(
        (c.age_year for c in (authority, england) if c is not None and c.age_year is not None),
        None,
    )
    sen2 = f"SEN2 January {year}" if year else "SEN2"
    if isinstance(choice, str):
        if choice in ("higher", "england") and national is None:
            problems.append(
                f"share = {choice!r} needs England's rows (geographic_level National) in the"
                " caseload file: use the release's file for all authorities, unedited, or set"
                ' inputs.demand.share = "authority" or a fraction'
            )
        if choice in ("higher", "authority") and (own is None or own.isna().all()):
            if choice == "authority" or own is None:
                problems.append(
                    f"share = {choice!r}: {name}'s placements in mainstream resourced provision"
                    " or SEN units are not available in the caseload file (x) for any year: set"
                    ' inputs.demand.share = "england" or a fraction'
                )
            else:
                warnings.append(
                    f"inputs.demand.share: {name}'s placements in mainstream bases are not"
                    f" available in the caseload file (x); England's share is used ({sen2})"
                )
        if problems:
            return None, problems
        if choice == "authority":
            assert own is not None
            used, described = own, f"{name}'s share at each age ({sen2})"
        elif choice == "england":
            assert national is not None
            used, described = national, f"England's share at each age ({sen2})"
        else:
            assert national is not None
            used = national if own is None else pd.Series(np.fmax(own, national), index=span)
            described = f"the higher of {name}'s and England's share at each age ({sen2})"
        unknown = [p for p in phases if used.loc[ages[p][0] : ages[p][1]].isna().any()]
        if unknown:
            return None, [
                f"share = {choice!r}: the caseload file gives no share of plans in bases for"
                f" {', '.join(_ages_text(ages, p) for p in unknown)}: set inputs.demand.share to"
                " a fraction for that phase"
            ]
    elif isinstance(choice, Mapping):
        used = pd.Series(np.nan, index=span, dtype=float)
        for phase, (low, high) in ages.items():
            used.loc[low:high] = float(choice[phase])
        described = "the scenario's share by phase: " + ", ".join(
            f"{phase} {float(choice[phase]):.1%}" for phase in phases
        )
    else:
        used = pd.Series(float(choice), index=span, dtype=float)
        described = f"the scenario's share, {float(choice):.1%} at every age"
    pooled_own = {
        p: pooled_share(authority, *ages[p]) if authority is not None else float("nan")
        for p in phases
    }
    pooled_england = {
        p: pooled_share(england, *ages[p]) if england is not None else float("nan") for p in phases
    }
    low_share = [
        p for p in phases if pooled_own[p] < 0.5 * pooled_england[p]
    ]  # NaN compares False: unknown shares raise no warning
    if low_share:
        shown = "; ".join(
            f"{_ages_text(ages, p)} {pooled_own[p]:.1%} against {pooled_england[p]:.1%}"
            for p in low_share
        )
        consequence = {
            "higher": "a share that low measures today's supply of base places, not need, so"
            ' demand uses England\'s share at those ages (share = "higher")',
            "authority": "demand planned from it reproduces today's supply, not need (the"
            ' default, share = "higher", plans from the higher of the two at each age)',
            "england": 'demand uses England\'s share (share = "england")',
        }.get(choice if isinstance(choice, str) else "", "the scenario sets its own share")
        warnings.append(
            f"inputs.demand.share: {name}'s share of EHC plans placed in mainstream resourced"
            f" provision or SEN units is under half England's ({sen2}): {shown}; {consequence}"
        )
    high_share = [
        p for p in phases if pooled_own[p] > 2.0 * pooled_england[p]
    ]  # only where the authority's share drives demand ("higher" or "authority")
    if high_share and choice in ("higher", "authority"):
        shown = "; ".join(
            f"{_ages_text(ages, p)} {pooled_own[p]:.1%} against {pooled_england[p]:.1%}"
            for p in high_share
        )
        warnings.append(
            f"inputs.demand.share: {name}'s share of EHC plans placed in mainstream resourced"
            f" provision or SEN units is over twice England's ({sen2}): {shown}; demand planned"
            f" from it follows {name}'s practice of placing children in bases (share ="
            ' "england" plans from England\'s share instead)'
        )
    shares = BaseShares(
        by_age=used.astype(float),
        choice=choice,
        described=described,
        authority=pooled_own,
        england=pooled_england,
        year=year,
        warnings=warnings,
    )
    return shares, []


def _fill_plans(needs: NeedsByAge, span: list[int]) -> tuple[pd.DataFrame, list[str]]:
    """Plans by age band and need with the file's gaps filled, and notes saying how.

    A cell the DfE gives no number for holds what the age's total leaves after the known
    needs, split by the authority's all-ages need mix. Plans whose primary need is not
    recorded are spread over the age's known needs in proportion.
    """
    notes: list[str] = []
    plans = needs.plans.copy()
    planned = pd.Series(
        [any(low <= a <= high for a in span) for low, high in needs.oldest.items()],
        index=plans.index,
    )
    missing = plans.isna()
    if missing.to_numpy().any():
        mix = needs.totals.fillna(0.0)
        known = plans.sum(axis=1, min_count=1).fillna(0.0)
        left = (needs.age_totals - known - needs.unknown_need.fillna(0.0)).clip(lower=0.0)
        weights = missing.mul(mix, axis=1)
        weights = weights.div(weights.sum(axis=1).replace(0.0, np.nan), axis=0).fillna(0.0)
        plans = plans.fillna(weights.mul(left.fillna(0.0), axis=0))
        cells = int(missing[planned].to_numpy().sum())
        if cells:
            notes.append(
                f"{cells} SEN2 need-by-age cell(s) at the planned ages have no number (suppressed"
                " or unavailable): estimated from what the age's total leaves, split by"
                f" {needs.name or 'the authority'}'s need mix"
            )
    unknown = needs.unknown_need.fillna(0.0)
    known = plans.sum(axis=1)
    scale = ((known + unknown) / known.replace(0.0, np.nan)).fillna(1.0)
    if (unknown[planned] > 0).any():
        plans = plans.mul(scale, axis=0)
        notes.append(
            f"{unknown[planned].sum():,.0f} plan(s) at the planned ages with no recorded primary"
            " need are spread over the recorded needs of their age"
        )
    return plans, notes


def modelled_demand(
    population: pd.DataFrame,
    needs: NeedsByAge,
    *,
    share: float | pd.Series,
    ages: Mapping[Phase, tuple[int, int]],
    projection: Projection | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Children needing a base place per area, phase, need code and single year of age.

    children = people of that age in the area x the authority's plans of that need and age
    per resident of that age x the share of plans needing a base place at that age
    (x growth to the projection's planning year). An age band of the needs file (``under 3``)
    spreads its rate over its single years.

    Parameters
    ----------
    population
        People by area (rows) and single year of age (columns), the authority's whole area.
    needs
        The authority's EHC plans by need and age (SEN2).
    share
        Fraction of plans needing a base place (0-1): one for every age, or by single year of
        age (a series indexed by age, years).
    ages
        Youngest and oldest age (years) of each phase.
    projection
        Optional growth from the needs' census year to a planning year.

    Returns
    -------
    tuple
        The demand table (``area_code, phase, need_code, age, children``) and notes saying what
        was estimated.
    """
    span = _planned_ages(ages)
    plans, notes = _fill_plans(needs, span)
    factor = pd.Series(1.0, index=plans.columns)
    if projection is not None:
        growth, planning_year = projection.growth, projection.planning_year
        factor = (1.0 + growth.per_need) ** (planning_year - needs.year)
        shown = ", ".join(f"{c} {growth.per_need[c]:+.1%}" for c in plans.columns)
        notes.append(
            f"projected {needs.year} -> {planning_year} with yearly growth fitted on"
            f" {growth.fitted_on}, {growth.first_year}-{growth.last_year}: {shown}"
        )
    resident = population.sum(axis=0)
    # Plans per resident at each single year of age, from the band holding it.
    rate = pd.DataFrame(0.0, index=range(OLDEST + 1), columns=plans.columns)
    for low, oldest in needs.oldest.items():
        years = [a for a in range(int(low), int(oldest) + 1) if a in resident.index]
        people = float(resident[years].sum()) if years else 0.0
        if people > 0:
            rate.loc[years] = (plans.loc[low] / people).to_numpy()
    if isinstance(share, pd.Series):
        shares = share.reindex(span).fillna(0.0)
    else:
        shares = pd.Series(float(share), index=span)
    frames = []
    for phase, (low, high) in ages.items():
        span_phase = [a for a in range(low, high + 1) if a in population.columns]
        weights = rate.loc[span_phase].to_numpy() * shares[span_phase].to_numpy()[:, None]
        weights = weights * factor.to_numpy()[None, :]
        cube = population[span_phase].to_numpy(dtype=float)[:, :, None] * weights[None, :, :]
        areas, single_ages, codes = np.meshgrid(
            population.index.to_numpy(), span_phase, plans.columns.to_numpy(), indexing="ij"
        )
        frames.append(
            pd.DataFrame(
                {
                    "area_code": areas.ravel(),
                    "phase": phase,
                    "need_code": codes.ravel(),
                    "age": single_ages.ravel(),
                    "children": cube.ravel(),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    table = table[table["children"] > 0].reset_index(drop=True)
    table["age"] = table["age"].astype("Int64")
    return table, notes


def demand_by_phase(demand: pd.DataFrame) -> pd.Series:
    """Children needing a base place per phase (children)."""
    return demand.groupby("phase", sort=True)["children"].sum()


def low_demand_warning(demand: pd.DataFrame, *, threshold: int, source: str) -> str | None:
    """A warning when the total children needing a base place are under the threshold.

    Such a total is too small to plan bases for, and usually means a share or an input is
    wrong (an authority with almost no base placements today, a filtered file).
    """
    total = float(demand["children"].sum())
    if threshold <= 0 or not 0 < total < threshold:
        return None
    return (
        f"{source}: {format_count(total, threshold)} children in total need a base place, under"
        f" the suppression threshold ({threshold}); too few to plan bases for: check"
        " inputs.demand (the share, the ages, the authority)"
    )
