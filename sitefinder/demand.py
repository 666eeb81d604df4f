"""Demand: children needing a base place, by area, phase and need.

Three routes lead to the same table (``area_code, phase, need_code, children``): counts per area
given directly, a pupil list aggregated to areas, or a model: child population by area and age
x the authority's EHC-plan rate by need and age x the share of plans needing a base place,
optionally projected to a planning year along the SEN2 time series.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from sitefinder.config import NEED_CODES, Phase, Scenario
from sitefinder.readers.sen2 import Caseload, NeedsByAge


def demand_by_group(scenario: Scenario, demand: pd.DataFrame) -> pd.DataFrame:
    """Aggregate need-code demand to the scenario's phases and need groups.

    Parameters
    ----------
    scenario
        Gives the phases planned for and the need-code to need-group mapping.
    demand
        Rows ``area_code, phase, need_code, children``.

    Returns
    -------
    pandas.DataFrame
        Columns ``area_code, phase, need_group, children``, one row per non-zero combination,
        sorted, for the scenario's phases only.
    """
    groups = scenario.group_of_code()
    table = demand[demand["phase"].isin(scenario.phases)].assign(
        need_group=lambda t: t["need_code"].map(groups)
    )
    return (
        table.groupby(["area_code", "phase", "need_group"], as_index=False, sort=True)["children"]
        .sum()
        .query("children > 0")
        .reset_index(drop=True)
    )


@dataclass(frozen=True)
class Growth:
    """Fitted yearly growth of EHC plans per need code (fraction per year, e.g. 0.08)."""

    per_need: pd.Series
    fitted_on: str
    first_year: int
    last_year: int


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
    model = LinearRegression().fit(
        np.asarray(series.index, dtype=float).reshape(-1, 1), np.log(series.to_numpy(dtype=float))
    )
    return float(np.expm1(model.coef_[0]))


def modelled_demand(
    population: pd.DataFrame,
    needs: NeedsByAge,
    *,
    share: float,
    ages: Mapping[Phase, tuple[int, int]],
    growth: Growth | None = None,
    planning_year: int | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Children needing a base place per area, phase and need code, from population and rates.

    Parameters
    ----------
    population
        People by area (rows) and single year of age (columns), the authority's whole area.
    needs
        The authority's EHC plans by need and age (SEN2).
    share
        Fraction of plans needing a base place (0-1).
    ages
        Youngest and oldest age (years) of each phase.
    growth, planning_year
        Optional projection from the needs' census year to ``planning_year``.

    Returns
    -------
    tuple
        The demand table and notes saying what was estimated.
    """
    notes: list[str] = []
    plans = needs.plans.copy()
    missing = plans.isna()
    if missing.to_numpy().any():
        # Suppressed cells: split the age's total by the authority's all-ages need mix.
        mix = needs.totals.fillna(0.0) / max(float(needs.totals.fillna(0.0).sum()), 1.0)
        estimate = pd.DataFrame(
            np.outer(needs.age_totals.fillna(0.0), mix), index=plans.index, columns=plans.columns
        )
        plans = plans.fillna(estimate)
        notes.append(
            f"{int(missing.to_numpy().sum())} suppressed SEN2 need-by-age cell(s) estimated from"
            " the age total and the authority's need mix"
        )
    factor = pd.Series(1.0, index=plans.columns)
    if growth is not None and planning_year is not None:
        years = planning_year - needs.year
        factor = (1.0 + growth.per_need) ** years
        shown = ", ".join(f"{c} {growth.per_need[c]:+.1%}" for c in plans.columns)
        notes.append(
            f"projected {needs.year} -> {planning_year} with yearly growth fitted on"
            f" {growth.fitted_on}, {growth.first_year}-{growth.last_year}: {shown}"
        )
    resident = population.sum(axis=0)
    frames = []
    for phase, (low, high) in ages.items():
        span = [a for a in range(low, high + 1) if a in population.columns]
        rate = plans.reindex(span).fillna(0.0).div(resident[span].replace(0, np.nan), axis=0)
        children = population[span].to_numpy() @ rate.fillna(0.0).to_numpy()
        children = children * share * factor.to_numpy()
        frame = pd.DataFrame(children, index=population.index, columns=plans.columns)
        frame = frame.stack().rename("children").reset_index()
        frame.columns = ["area_code", "need_code", "children"]
        frame["phase"] = phase
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)[["area_code", "phase", "need_code", "children"]]
    return table[table["children"] > 0].reset_index(drop=True), notes
