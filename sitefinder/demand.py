"""Demand: children needing a base place, by area, phase and need group."""

from __future__ import annotations

import pandas as pd

from sitefinder.config import Scenario


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
