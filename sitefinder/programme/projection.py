"""Demand projected year by year: a damped trend of EHC plans, cohorts ageing a year a year.

The trend is fitted on the authority's SEN2 series of EHC plans (January censuses, 2019
onwards in the caseload file): log(plans) = a + b x year by least squares, a yearly growth of
e^b - 1. Where the authority's series is short (under four years) or erratic (the fit explains
under 80% of its variance), England's is used instead, and a note says so. Growth is *damped*:
each year ahead grows by ``damping`` times the year before's (a damped trend, Gardner and
McKenzie 1985), so the projection levels off rather than compounding for ever. A scenario's
``programme.growth`` replaces the fitted rate.

Cohorts age: a child of 10 in January 2025 is 11 in January 2026. With modelled demand the
children of each age in each area are scaled by the population of their cohort (the age
``k`` years younger today) against today's at that age, so next year's 11-year-olds are
today's 10-year-olds with the rates and base shares of 11-year-olds; without population (a
counts file, a pupil list) each cohort keeps its children and moves up an age, and the ages
entering the phases take today's children of that age.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sitefinder.config import Phase, Programme
from sitefinder.readers.sen2 import Caseload

MIN_YEARS = 4
"""Census years an authority's series needs before its own trend is used."""
MIN_FIT = 0.8
"""Share of the series' variance (R squared) its trend must explain to be used."""


@dataclass(frozen=True)
class Trend:
    """The yearly growth of EHC plans a projection follows.

    Attributes
    ----------
    rate
        Yearly growth (fraction, e.g. 0.08) of the first year ahead.
    damping
        Each later year's growth is this times the year before's (0 to 1).
    source
        Where the rate comes from, in words.
    series
        The census years and plans it was fitted on (empty when given by the scenario).
    by_year
        Yearly rates the scenario gives per year (replacing ``rate`` and the damping there).
    """

    rate: float
    damping: float
    source: str
    series: pd.Series
    by_year: Mapping[int, float] | None = None

    def factor(self, base_year: int, year: int) -> float:
        """How many times today's (``base_year``'s) plans there are in ``year``."""
        total = 0.0
        for ahead, when in enumerate(range(base_year + 1, year + 1), start=1):
            if self.by_year is not None and when in self.by_year:
                total += math.log1p(self.by_year[when])
            else:
                total += math.log1p(self.rate) * self.damping ** (ahead - 1)
        return math.exp(total)


def _fit(plans: pd.Series) -> tuple[float, float]:
    """Yearly growth and R squared of a log-linear fit of ``plans`` on their years."""
    years = np.asarray(plans.index, dtype=float)
    values = np.log(plans.to_numpy(dtype=float))
    slope, intercept = np.polyfit(years, values, 1)
    fitted = intercept + slope * years
    spread = float(((values - values.mean()) ** 2).sum())
    r2 = 1.0 - float(((values - fitted) ** 2).sum()) / spread if spread > 0 else 1.0
    return float(np.expm1(slope)), r2


def _series(caseload: Caseload | None) -> pd.Series:
    if caseload is None:
        return pd.Series(dtype=float)
    plans = caseload.plans.dropna()
    return plans[plans > 0].sort_index()


def fit_trend(
    settings: Programme, *, authority: Caseload | None, england: Caseload | None
) -> tuple[Trend, list[str]]:
    """The trend the projection follows, and notes saying which and why.

    Raises
    ------
    ValueError
        If no growth is given and neither series has two census years (there is nothing to
        project from): the message names the settings that fix it.
    """
    damping = settings.damping
    if settings.growth is not None:
        by_year = settings.growth if isinstance(settings.growth, dict) else None
        rate = 0.0 if by_year is not None else float(settings.growth)  # type: ignore[arg-type]
        described = (
            ", ".join(f"{y}: {r:+.1%}" for y, r in sorted(by_year.items()))
            if by_year is not None
            else f"{rate:+.1%} a year, damped by {damping:g} each year ahead"
        )
        return (
            Trend(rate, damping, "the scenario", pd.Series(dtype=float), by_year),
            [f"programme: demand grows as the scenario says (programme.growth): {described}"],
        )
    own, national = _series(authority), _series(england)
    notes = []
    if len(own) >= MIN_YEARS:
        rate, r2 = _fit(own)
        if r2 >= MIN_FIT:
            name = authority.name if authority is not None and authority.name else "the authority"
            return Trend(rate, damping, f"{name}'s SEN2 series", own), [
                _trend_note(f"{name}'s", own, rate, r2, damping)
            ]
        notes.append(
            f"programme: the authority's SEN2 series is erratic (a trend explains {r2:.0%} of"
            f" it, under {MIN_FIT:.0%}), so England's trend is used"
        )
    elif len(own):
        notes.append(
            f"programme: the authority's SEN2 series has {len(own)} census year(s), under"
            f" {MIN_YEARS}, so England's trend is used"
        )
    if len(national) < 2:
        raise ValueError(
            "programme: no SEN2 series of EHC plans to project demand from (give"
            " inputs.demand.sen2_caseload, or programme.growth)"
        )
    rate, r2 = _fit(national)
    notes.append(_trend_note("England's", national, rate, r2, damping))
    return Trend(rate, damping, "England's SEN2 series", national), notes


def _trend_note(whose: str, series: pd.Series, rate: float, r2: float, damping: float) -> str:
    shown = ", ".join(f"{int(y)} {v:,.0f}" for y, v in series.items())
    return (
        f"programme: demand projected along {whose} EHC plans in January ({shown}): a fitted"
        f" growth of {rate:+.1%} a year (R squared {r2:.2f}), damped by {damping:g} each year"
        " ahead (each year's growth is that times the year before's); cohorts age a year each"
        " year"
    )


def phase_of_age(ages: Mapping[Phase, tuple[int, int]], age: int) -> str | None:
    """The planned phase whose ages hold ``age`` (None: none does)."""
    return next((p for p, (low, high) in ages.items() if low <= age <= high), None)


def project_demand(
    demand: pd.DataFrame,
    *,
    years: Sequence[int],
    base_year: int,
    trend: Trend,
    ages: Mapping[Phase, tuple[int, int]],
    population: pd.DataFrame | None = None,
    children: Mapping[int, Mapping[Phase, float]] | None = None,
    additional: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Demand in each of ``years``: ``year, area_code, phase, need_code, age, children``.

    Parameters
    ----------
    demand
        Today's demand (``area_code, phase, need_code, age, children``; ``age`` NaN where a
        counts file gives none: those children grow with the trend but do not age).
    years
        The years to project to (January census years after ``base_year``).
    base_year
        The census year of today's demand.
    trend
        Yearly growth of plans (:func:`fit_trend`).
    ages
        Youngest and oldest age (years) of each phase.
    population
        Population by area (index ``area_code``) and single year of age (columns), when demand
        was modelled: cohorts are scaled by their own size (see the module docstring).
    children
        Totals per year and phase to scale the projection to (``programme.children``).
    additional
        Children the authority knows need a place from a given ``year`` on
        (``inputs.demand.additional``): added to each year from theirs, as they are.
    """
    known = demand[demand["age"].notna()]
    unknown = demand[demand["age"].isna()]
    frames = []
    youngest = min(low for low, _ in ages.values())
    for year in years:
        ahead = year - base_year
        grown = trend.factor(base_year, year)
        if population is not None:
            moved = _cohorts_by_population(known, population, ahead)
        else:
            moved = _cohorts_shifted(known, ahead, youngest=youngest)
        whole = moved["age"].astype(int)
        moved["phase"] = whole.map({a: phase_of_age(ages, a) for a in whole.unique()})
        moved = moved[moved["phase"].notna()]
        parts = [moved, unknown.assign(children=unknown["children"])]
        frame = pd.concat(parts, ignore_index=True)
        frame["children"] = frame["children"] * grown
        if children is not None and year in children:
            for phase, total in children[year].items():
                mine = frame["phase"] == phase
                now = float(frame.loc[mine, "children"].sum())
                if now > 0:
                    frame.loc[mine, "children"] *= float(total) / now
        if additional is not None and len(additional):
            known = additional[additional["year"] <= year].drop(columns="year")
            frame = pd.concat([frame, known], ignore_index=True)
        frame.insert(0, "year", year)
        frames.append(frame[["year", "area_code", "phase", "need_code", "age", "children"]])
    if not frames:
        return pd.DataFrame(columns=["year", "area_code", "phase", "need_code", "age", "children"])
    return pd.concat(frames, ignore_index=True)


def _cohorts_by_population(
    known: pd.DataFrame, population: pd.DataFrame, ahead: int
) -> pd.DataFrame:
    """Today's children of each age scaled by their cohort's size against today's at that age
    (the cohort ``ahead`` years younger today, in the same area)."""
    out = known.copy()
    ages = out["age"].astype(int).to_numpy()
    areas = out["area_code"].astype(str).to_numpy()
    table = population.copy()
    table.index = table.index.astype(str)
    table.columns = [int(c) for c in table.columns]
    values = table.to_numpy(dtype=float)
    row = table.index.get_indexer(areas)
    column = pd.Index(table.columns)
    now_at, then_at = column.get_indexer(ages), column.get_indexer(ages - ahead)
    known_cells = (row >= 0) & (now_at >= 0) & (then_at >= 0)
    now = np.zeros(len(out))
    then = np.zeros(len(out))
    now[known_cells] = values[row[known_cells], now_at[known_cells]]
    then[known_cells] = values[row[known_cells], then_at[known_cells]]
    scaled = known_cells & (now > 0)
    ratio = np.ones(len(out))
    ratio[scaled] = then[scaled] / now[scaled]
    out["children"] = out["children"].to_numpy(dtype=float) * ratio
    return out


def _cohorts_shifted(known: pd.DataFrame, ahead: int, *, youngest: int) -> pd.DataFrame:
    """Each cohort ``ahead`` years older; the ages entering take today's children of that age."""
    older = known.assign(age=known["age"] + ahead)
    entering = known[known["age"] < youngest + ahead]
    return pd.concat([older, entering], ignore_index=True)
