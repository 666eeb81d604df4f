"""The business case of a ranking run's plan, from the run's own tables."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from sitefinder.costs.case import BusinessCase, business_case

if TYPE_CHECKING:
    from sitefinder.config import Scenario
    from sitefinder.model.network import Metrics
    from sitefinder.plan import Plan


def _in_bases(metrics: Metrics) -> tuple[float, float]:
    """Children in the authority's bases and their one-way minutes added up."""
    placed = float(metrics.placed)
    mean = float(metrics.mean_minutes)
    return placed, placed * mean if placed > 1e-9 and not math.isnan(mean) else 0.0


def plan_case(
    scenario: Scenario, *, plan: Plan, before: Metrics, after: Metrics, unplaced: pd.DataFrame
) -> BusinessCase:
    """The business case of ``plan`` (see :mod:`sitefinder.costs.case`).

    Parameters
    ----------
    scenario
        The run's scenario (its ``[costs]``).
    plan
        The chosen new bases (``places``, ``children_served``, ``newly_placed``,
        ``harm_averted`` of each).
    before, after
        The network today and with the plan.
    unplaced
        Where children without a base place go, today and with the plan.
    """
    return business_case(
        scenario.costs,
        bases=plan.chosen,
        unplaced=unplaced,
        in_bases={"today": _in_bases(before), "plan": _in_bases(after)},
        children_placed=float(before.unmet - after.unmet),
        harm_averted=float(before.total_harm - after.total_harm),
    )
