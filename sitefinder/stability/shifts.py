"""What the assumptions bound to the inputs change, worked out once before the runs.

The share of EHC plans needing a base place multiplies the modelled children of each single
year of age, so another share is a factor on each demand row (its ages' children, weighted):
:func:`shifts_of` finds it for each share a run may draw. Today's bases whose places were not
recorded (assumed, or SEN2-calibrated) are the ones ``robustness.existing_places`` scales, and
demand grows over the programme's horizon.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import PROGRAMME_HORIZON, Scenario
from sitefinder.stability.ranges import End, share_choices, share_name
from sitefinder.supply import HOSTABLE_PHASES

if TYPE_CHECKING:
    from sitefinder.instance import Instance
    from sitefinder.load import AuthorityData


@dataclass(frozen=True)
class Shifts:
    """The inputs' part of every run's settings.

    Attributes
    ----------
    share
        For each share a run may draw (by :func:`share_name`), the factor on each demand row's
        children against the scenario's own share.
    unrecorded
        For each of today's bases (the plan's existing sites before the special schools'
        places), whether its places were not recorded (assumed, or SEN2-calibrated).
    years
        Years demand grows over (the programme's horizon).
    """

    share: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)
    unrecorded: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    years: int = 0

    def demand(self, share: End | None, growth: float) -> NDArray[np.float64] | float:
        """The factor on each row's children with ``share`` (None: the scenario's) and demand
        growing ``growth`` a year."""
        factor: NDArray[np.float64] | float = (1.0 + growth) ** self.years
        if share is not None:
            factor = factor * self.share[share_name(share)]
        return factor


def growth_years(scenario: Scenario, data: AuthorityData | None) -> int:
    """The programme's horizon: years from the data's SEN2 year to the last of
    ``programme.years`` (their count without a SEN2 year), else
    :data:`sitefinder.config.PROGRAMME_HORIZON`."""
    years = scenario.programme.years
    if not years:
        return PROGRAMME_HORIZON
    basis = data.basis if data is not None else None
    latest = (
        [c.latest_year for c in (basis.authority, basis.england) if c is not None] if basis else []
    )
    return max(years) - latest[0] if latest else len(years)


def unrecorded_bases(
    instance: Instance, scenario: Scenario, data: AuthorityData
) -> NDArray[np.bool_]:
    """Whether each base of today that the plan's network holds had its places assumed (or
    SEN2-calibrated), in the order :func:`sitefinder.instance.existing_sites` makes them (a
    base for no planned phase and need group is left out there, and here)."""
    groups = scenario.group_of_code()
    classes = set(instance.classes)
    found = []
    for base in data.bases.itertuples():
        served = {groups[c] for c in base.need_codes}
        phases = HOSTABLE_PHASES[str(base.phase)]
        if any((phase, g) in classes for phase in phases for g in served):
            found.append(bool(getattr(base, "capacity_assumed", False)))
    return np.array(found, dtype=bool)


def share_factors(
    instance: Instance, scenario: Scenario, data: AuthorityData, choices: Sequence[End]
) -> dict[str, NDArray[np.float64]]:
    """Each share's factor on each demand row's children: its ages' children reweighted by
    that share against the scenario's at each age (1 where no modelled child is known)."""
    from sitefinder.demand import base_shares

    spec, basis = scenario.inputs.demand, data.basis
    if basis is None or not choices:
        return {}

    def by_age(choice: object) -> pd.Series:
        shares, _ = base_shares(
            choice,  # type: ignore[arg-type]
            ages=spec.ages,
            authority=basis.authority,
            england=basis.england,
        )
        if shares is None:
            raise ValueError(f"robustness.share: the inputs give no share {choice!r}")
        return shares.by_age.astype(float)

    used = by_age(spec.share)
    rows = instance.demand.reset_index(drop=True)
    rows = rows.assign(row=np.arange(len(rows)))[
        ["area_code", "phase", "need_group", "first_age", "last_age", "row"]
    ]
    demand = data.demand[data.demand["age"].notna()]
    demand = demand.assign(
        need_group=demand["need_code"].map(scenario.group_of_code()),
        age=demand["age"].astype(int),
    )
    cells = demand.merge(rows, on=["area_code", "phase", "need_group"], how="inner")
    cells = cells[(cells["age"] >= cells["first_age"]) & (cells["age"] <= cells["last_age"])]
    children = cells["children"].to_numpy(dtype=float)
    where = cells["row"].to_numpy(dtype=np.intp)
    weight = np.bincount(where, weights=children, minlength=len(rows))
    factors = {}
    for choice in choices:
        ratio = (by_age(choice) / used).replace([np.inf, -np.inf], np.nan)
        per_cell = ratio.reindex(cells["age"]).fillna(1.0).to_numpy(dtype=float)
        moved = np.bincount(where, weights=children * per_cell, minlength=len(rows))
        factors[share_name(choice)] = np.where(
            weight > 0, moved / np.where(weight > 0, weight, 1.0), 1.0
        )
    return factors


def shifts_of(
    instance: Instance, scenario: Scenario, data: AuthorityData | None, *, bases: int
) -> Shifts:
    """The shifts of the inputs ``data`` for a network of ``bases`` bases of today (no data:
    growth only)."""
    years = growth_years(scenario, data)
    if data is None:
        return Shifts(years=years, unrecorded=np.zeros(bases, dtype=bool))
    unrecorded = unrecorded_bases(instance, scenario, data)
    if len(unrecorded) != bases:
        raise RuntimeError(
            f"robustness: {len(unrecorded)} bases of today in the inputs against {bases} in the"
            " network (sitefinder.instance.existing_sites and unrecorded_bases disagree)"
        )
    choices = share_choices(scenario, data)
    return Shifts(share_factors(instance, scenario, data, choices), unrecorded, years)
