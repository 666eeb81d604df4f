"""The business case of each programme year (:mod:`sitefinder.programme.schedule`).

For each year of the horizon, that year's network with the programme's bases open by then is
set against the same year's network with today's bases only (doing nothing), with the figures
of :mod:`sitefinder.costs.case`: the year's capital (the bases opening that year) and the
capital to date; the revenue of every programme place open that year; the change in transport
and in placement costs that year; the net saving that year; and the payback of the capital
to date at that year's saving (capital to date / net saving; none when it saves nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from sitefinder.costs.case import business_case
from sitefinder.costs.run import _in_bases
from sitefinder.fallback import where_unplaced
from sitefinder.model.network import metrics

if TYPE_CHECKING:
    from sitefinder.config import Scenario
    from sitefinder.instance import Instance
    from sitefinder.programme.schedule import Year

YEAR_COLUMNS = [
    "year", "bases_open", "places_open", "capital", "capital_to_date", "revenue_per_year",
    "transport_change_per_year", "placement_change_per_year", "net_saving_per_year",
    "payback_years", "children_placed", "harm_averted",
]  # fmt: skip
"""One row per programme year (money in £, £ a year; payback in years, NaN: never)."""


def programme_case(
    scenario: Scenario, instance: Instance, states: Sequence[Year], *, first_site: int
) -> pd.DataFrame:
    """The business case of each programme year (:data:`YEAR_COLUMNS`).

    Parameters
    ----------
    scenario
        The run's scenario (its ``[costs]``).
    instance
        The model instance (its special schools, for where children without a place go).
    states
        Each programme year's demand and networks.
    first_site
        The site number of the first special school's places (today's bases come first).
    """
    rows = []
    for state in states:
        unplaced = pd.concat(
            [
                where_unplaced(instance, state.without, first_site=first_site, network="today"),
                where_unplaced(instance, state.with_, first_site=first_site, network="plan"),
            ],
            ignore_index=True,
        )
        before, after = metrics(state.demand, state.without), metrics(state.demand, state.with_)
        opened = state.opened.rename(
            columns={"need_groups": "need_group", "children_expected": "children_served"}
        ).assign(choice=lambda t: range(1, len(t) + 1))
        case = business_case(
            scenario.costs,
            bases=opened,
            unplaced=unplaced,
            in_bases={"today": _in_bases(before), "plan": _in_bases(after)},
            children_placed=float(before.unmet - after.unmet),
            harm_averted=float(before.total_harm - after.total_harm),
        )
        total = case.total
        to_date = float(total["capital"] or 0.0)
        saving = float(total["net_saving_per_year"] or 0.0)
        rows.append(
            {
                "year": state.year,
                "bases_open": len(opened),
                "places_open": float(opened["places"].sum()) if len(opened) else 0.0,
                "capital": float(opened.loc[opened["year"] == state.year, "capital"].sum()),
                "capital_to_date": to_date,
                "revenue_per_year": total["revenue_per_year"],
                "transport_change_per_year": total["transport_change_per_year"],
                "placement_change_per_year": total["placement_change_per_year"],
                "net_saving_per_year": saving,
                "payback_years": to_date / saving if saving > 1e-9 else float("nan"),
                "children_placed": total["children_placed"],
                "harm_averted": total["harm_averted"],
            }
        )
    return pd.DataFrame.from_records(rows, columns=YEAR_COLUMNS)
