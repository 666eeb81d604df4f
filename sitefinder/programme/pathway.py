"""The pathway from primary to secondary: where each primary base's children can go at 11.

The move to secondary is where many children leave mainstream (at 10, 5.3% of EHC plans are
in bases and 29.7% in special schools; at 12, 4.1% and 43.5%: SEN2 2025). For each primary
base, today's and the plan's, and each need group it serves, the pathway says how many of its
children leave it each year (those aged 10, the last primary year, as the areas' demand by age
shares them out), which secondary bases of the same need group lie within the secondary
guidance limit of their homes (the journey from their areas, weighted by the children), the
places there and those spare with the plan, and the *shortfall*: leavers beyond the spare
places. The projection already carries each cohort into secondary at 11, so the shortfall
shows in the secondary gap of the sufficiency statement; the pathway says where. The
programme's primary bases get theirs on the network of its last year
(:func:`programme_pathways`, ``kind = "programme"``): their children then, and the secondary
bases open by then, the programme's included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sitefinder.config import Scenario
    from sitefinder.instance import Instance
    from sitefinder.load import AuthorityData
    from sitefinder.model.network import Site, Solution
    from sitefinder.programme.schedule import Year

COLUMNS = [
    "urn", "name", "kind", "need_group", "children", "leaving_each_year", "secondary_bases",
    "secondary_places", "secondary_spare", "shortfall",
]  # fmt: skip


def _share_leaving(data: AuthorityData, scenario: Scenario, instance: Instance) -> np.ndarray:
    """Share of each demand row's children aged the last primary year (0 for other rows)."""
    last = scenario.inputs.demand.ages["primary"][1]
    groups = scenario.group_of_code()
    demand = data.demand[data.demand["age"].notna()].assign(
        need_group=lambda t: t["need_code"].map(groups)
    )
    # A dict: a Series looked up a key at a time cost a county's run a tenth of a second.
    by_age = demand.groupby(["area_code", "need_group", "age"])["children"].sum().to_dict()
    rows = instance.demand
    share = np.zeros(len(rows))
    for i, row in enumerate(rows.itertuples()):
        if row.phase != "primary" or not (row.first_age <= last <= row.last_age):
            continue
        key = (row.area_code, row.need_group)
        ages = range(int(row.first_age), int(row.last_age) + 1)
        band = sum(float(by_age.get((*key, float(a)), 0.0)) for a in ages)
        oldest = float(by_age.get((*key, float(last)), 0.0))
        share[i] = oldest / band if band > 0 else 1.0 / len(ages)
    return share


def pathways(
    scenario: Scenario,
    data: AuthorityData,
    instance: Instance,
    *,
    sites: Sequence[Site],
    table: pd.DataFrame,
    after: Solution,
) -> pd.DataFrame:
    """The pathway of each primary base (today's and the plan's) for each need group it serves.

    Parameters
    ----------
    scenario, data, instance
        The run's scenario, inputs and model instance.
    sites, table
        The bases open with the plan, numbered as ``after`` numbers them (special schools'
        places aside: their pairs are not in ``after``), and a table of them (``urn, name,
        kind``, one row per site, in order; rows past its end are not bases).
    after
        The network's optimum with the plan.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`: children (in the base, of the group), leaving each year (aged 10),
        the secondary bases of the group within the secondary limit of their homes, their
        places and spare places with the plan, and the shortfall (children a year).
    """
    if "primary" not in scenario.phases or "secondary" not in scenario.phases:
        return pd.DataFrame(columns=COLUMNS)
    limit = float(scenario.harm.limit_minutes["secondary"])
    leaving = _share_leaving(data, scenario, instance)
    classes = instance.classes
    klass = instance.rows.klass
    n = min(len(sites), len(table))
    used = np.bincount(after.pair_site, weights=after.flow, minlength=len(sites))
    positions = pd.Index(data.schools["urn"].astype(str))
    secondary = {
        i: classes_of(sites[i], classes, "secondary") for i in range(n) if not sites[i].fallback
    }
    records = []
    for i in range(n):
        site = sites[i]
        if site.fallback:
            continue
        for group in sorted(classes_of(site, classes, "primary")):
            here = (after.pair_site == i) & (after.flow > 1e-9)
            rows = after.pair_row[here]
            mine = np.array([classes[int(klass[r])] == ("primary", group) for r in rows], bool)
            rows, flow = rows[mine], after.flow[here][mine]
            children = float(flow.sum())
            if children <= 1e-9:
                continue
            out = float(flow @ leaving[rows])
            reach = []
            for j, groups in secondary.items():
                if group not in groups:
                    continue
                school = positions.get_loc(str(table.iloc[j]["urn"]))
                to, _, pair = instance.journeys.to_schools(np.array([school], dtype=np.intp))
                minutes = pd.Series(instance.journeys.minutes(pair), index=to)
                seen = minutes.reindex(rows).to_numpy()
                if np.isnan(seen).any():
                    continue  # some of the base's children cannot reach it at all
                if float(flow @ seen / children) <= limit:
                    reach.append(j)
            places = float(sum(sites[j].capacity for j in reach))
            spare = float(sum(max(sites[j].capacity - used[j], 0.0) for j in reach))
            records.append(
                {
                    "urn": str(table.iloc[i]["urn"]),
                    "name": str(table.iloc[i]["name"]),
                    "kind": str(table.iloc[i]["kind"]),
                    "need_group": group,
                    "children": children,
                    "leaving_each_year": out,
                    "secondary_bases": "; ".join(str(table.iloc[j]["name"]) for j in reach),
                    "secondary_places": places,
                    "secondary_spare": spare,
                    "shortfall": max(out - spare, 0.0),
                }
            )
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def programme_pathways(
    scenario: Scenario,
    data: AuthorityData,
    instance: Instance,
    *,
    existing: Sequence[Site],
    names: pd.DataFrame,
    last: Year,
) -> pd.DataFrame:
    """The pathway of each of the programme's primary bases (``kind = "programme"``), on the
    network of its last year: its children then, and the secondary bases (today's and the
    programme's) open by then.

    Parameters
    ----------
    scenario, data, instance
        The run's scenario, inputs and model instance.
    existing, names
        Today's sites (bases, then the special schools' places) and their ``urn, name, kind``.
    last
        The programme's last year (:class:`sitefinder.programme.schedule.Year`).
    """
    opened = last.opened
    table = pd.concat(
        [
            names[["urn", "name", "kind"]],
            pd.DataFrame(
                {
                    "urn": opened["urn"].astype(str).to_numpy(),
                    "name": opened["name"].astype(str).to_numpy(),
                    "kind": "programme",
                }
            ),
        ],
        ignore_index=True,
    )
    found = pathways(
        scenario,
        data,
        instance,
        sites=[*existing, *last.sites],
        table=table,
        after=last.with_,
    )
    return found[found["kind"] == "programme"].reset_index(drop=True)


def classes_of(site: Site, classes: Sequence[tuple[str, str]], phase: str) -> set[str]:
    """The need groups ``site`` serves in ``phase``."""
    return {classes[c][1] for c in site.classes if classes[c][0] == phase}
