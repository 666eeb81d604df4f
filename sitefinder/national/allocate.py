"""England's new bases allocated across authorities where each averts the most harm.

Each authority's curve is the harm its greedy build order averts with 1, 2, ... new bases
(harm points; the order's marginal harm averted per added base), ending before the first base
its stopping rule refuses (:mod:`sitefinder.national.curve`). Where every curve has
diminishing returns (its marginals never rise), funding the largest marginals first is exact;
where one does not (a second base that completes a pair of phases may avert more than the
first), it is not. :func:`allocate` is exact either way: a dynamic programme over authorities
(a knapsack of bases, each authority taking any number up to its curve's length), in
O(authorities x bases x curve length) on plain arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.columns import NATIONAL_ALLOCATION

if TYPE_CHECKING:
    from sitefinder.authorities import Authority
    from sitefinder.config import Scenario
    from sitefinder.model.network import Metrics


class CurveRun(Protocol):
    """What the allocation reads of an authority's run
    (:class:`sitefinder.national.run.AuthorityRun`)."""

    @property
    def authority(self) -> Authority: ...
    @property
    def after(self) -> Metrics: ...
    @property
    def curve(self) -> NDArray[np.float64]: ...
    @property
    def curve_stopped(self) -> str: ...
    @property
    def gap(self) -> pd.DataFrame: ...
    @property
    def point(self) -> tuple[float, float]: ...


_TOLERANCE = 1e-9


def cumulative(marginals: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Harm averted with 0, 1, ... bases from the marginal harm averted by each (harm points)."""
    return np.concatenate([[0.0], np.cumsum(np.asarray(marginals, dtype=float))])


def is_convex(marginals: Sequence[float] | NDArray[np.float64]) -> bool:
    """Whether a harm-averted curve has diminishing returns: each base's marginal harm averted
    at most the one before (the harm left a convex function of the number of bases)."""
    values = np.asarray(marginals, dtype=float)
    return bool(
        np.all(np.diff(values) <= _TOLERANCE * max(1.0, float(np.abs(values).max(initial=0))))
    )


@dataclass(frozen=True)
class Allocation:
    """New bases per authority, the harm they avert, and the last base funded in each.

    Attributes
    ----------
    bases
        New bases funded in each authority (in the curves' order).
    averted
        Harm each authority's funded bases avert (harm points).
    last_marginal
        Marginal harm averted by the last base funded in each authority (harm points; nan
        where none is funded).
    total
        Harm averted by every funded base (harm points).
    limit
        The most bases the allocation could fund (the national count or what the budget buys).
    exhausted
        Authorities whose every curve step is funded: more bases there might avert more, but
        their curves were not computed further.
    """

    bases: NDArray[np.int64]
    averted: NDArray[np.float64]
    last_marginal: NDArray[np.float64]
    total: float
    limit: int
    exhausted: NDArray[np.bool_]


def allocate(curves: Sequence[Sequence[float] | NDArray[np.float64]], *, bases: int) -> Allocation:
    """Allocate at most ``bases`` new bases across authorities to avert the most harm, exactly.

    Parameters
    ----------
    curves
        Each authority's marginal harm averted by its 1st, 2nd, ... new base (harm points).
    bases
        The most bases to fund in all (a non-negative whole number).

    Returns
    -------
    Allocation
        The allocation averting the most harm in all; of equally good ones, the one giving
        earlier authorities fewer bases (deterministic). A base averting no harm is never
        funded for its own sake.
    """
    if bases < 0:
        raise ValueError(f"bases must be 0 or more (got {bases})")
    totals = [cumulative(c) for c in curves]
    n = len(totals)
    limit, bases = bases, min(bases, sum(len(t) - 1 for t in totals))  # no more can be funded
    best = np.zeros(bases + 1)  # most harm averted using at most j bases, authorities so far
    choice = np.zeros((n, bases + 1), dtype=np.int64)
    for i, curve in enumerate(totals):
        new, take = best.copy(), np.zeros(bases + 1, dtype=np.int64)
        for k in range(1, min(len(curve) - 1, bases) + 1):
            value = np.full(bases + 1, -math.inf)
            value[k:] = best[: bases + 1 - k] + curve[k]
            better = value > new + _TOLERANCE * np.maximum(1.0, np.abs(new))
            new = np.where(better, value, new)
            take = np.where(better, k, take)
        best, choice[i] = new, take
    counts = np.zeros(n, dtype=np.int64)
    left = bases
    for i in range(n - 1, -1, -1):
        counts[i] = choice[i, left]
        left -= int(counts[i])
    averted = np.array([totals[i][counts[i]] for i in range(n)], dtype=float)
    last = np.array(
        [totals[i][counts[i]] - totals[i][counts[i] - 1] if counts[i] else np.nan for i in range(n)]
    )
    exhausted = np.array([counts[i] > 0 and counts[i] == len(totals[i]) - 1 for i in range(n)])
    return Allocation(
        bases=counts,
        averted=averted,
        last_marginal=last,
        total=float(averted.sum()),
        limit=limit,
        exhausted=exhausted.astype(bool),
    )


def bases_allowed(
    *,
    places: int | None,
    bases: int | None,
    capital_budget: float | None,
    base_size: int,
    base_capital: float,
) -> int:
    """The most new bases a national allocation may fund (whole bases).

    ``places`` buys ``places // base_size`` bases of ``base_size`` places; ``capital_budget``
    (£) buys ``capital_budget // base_capital``; both limits hold where both are given.
    """
    limits = []
    if places is not None:
        limits.append(places // base_size)
    if bases is not None:
        limits.append(bases)
    if capital_budget is not None:
        limits.append(int(capital_budget // base_capital) if base_capital > 0 else 10**9)
    if not limits:
        raise ValueError("national: give places, bases or capital_budget")
    return min(limits)


def allocation_table(
    runs: Sequence[CurveRun], scenario: Scenario
) -> tuple[pd.DataFrame, list[str]]:
    """The national allocation of ``scenario.national`` over the authorities' runs.

    Returns
    -------
    tuple
        One row per authority (:data:`sitefinder.columns.NATIONAL_ALLOCATION`, raw), and the
        sentences that say how it was made: the limit, how many curves had diminishing
        returns, the authorities whose curves were used up.
    """
    national = scenario.national
    per_base = scenario.costs.base_capital(scenario.base_size)
    limit = bases_allowed(
        places=national.places,
        bases=national.bases,
        capital_budget=national.capital_budget,
        base_size=scenario.base_size,
        base_capital=per_base,
    )
    curves = [run.curve for run in runs]
    found = allocate(curves, bases=limit)
    convex = [is_convex(c) for c in curves]
    rows = []
    for i, run in enumerate(runs):
        children = float(run.gap["children"].sum()) if len(run.gap) else 0.0
        places = float(run.gap["places"].sum()) if len(run.gap) else 0.0
        rows.append(
            {
                "authority": run.authority.name,
                "authority_code": run.authority.gss_code,
                "bases": int(found.bases[i]),
                "places": int(found.bases[i]) * scenario.base_size,
                "harm_averted": float(found.averted[i]),
                "last_marginal": float(found.last_marginal[i]),
                "children": children,
                "gap": round(children - places, 1),
                "mean_minutes": float(run.after.mean_minutes),
                "convex": convex[i],
                "curve_bases": len(curves[i]),
                "curve_exhausted": bool(found.exhausted[i]),
                "curve_stopped": bool(run.curve_stopped),
                "easting": run.point[0],
                "northing": run.point[1],
            }
        )
    funded = int(found.bases.sum())
    asked = []
    if national.places is not None:
        asked.append(
            f"national.places = {national.places:,}"
            f" ({national.places // scenario.base_size:,} bases of {scenario.base_size} places)"
        )
    if national.bases is not None:
        asked.append(f"national.bases = {national.bases:,}")
    if national.capital_budget is not None:
        asked.append(
            f"national.capital_budget = £{national.capital_budget:,.0f} (£{per_base:,.0f} a base:"
            f" costs.capital_per_base + {scenario.base_size} x costs.capital_per_place)"
        )
    notes = [
        f"national allocation: {funded:,} new bases ({funded * scenario.base_size:,} places) of at"
        f" most {limit:,} ({'; '.join(asked)}) across {int((found.bases > 0).sum())} of"
        f" {len(runs)} authorities, averting {found.total:,.1f} harm points; each authority's"
        " curve is the marginal harm averted by each base of its greedy build order (up to"
        f" national.max_bases = {national.max_bases}), allocated exactly (a dynamic programme"
        f" over authorities); {sum(convex)} of {len(curves)} curves have diminishing returns"
    ]
    if national.places is not None and national.places % scenario.base_size:
        notes.append(
            f"national allocation: national.places = {national.places:,} is not a whole number"
            f" of bases of {scenario.base_size} places; the last"
            f" {national.places % scenario.base_size} places are not allocated"
        )
    if funded < limit:
        notes.append(
            f"national allocation: {limit - funded:,} bases left unfunded: no authority's curve"
            " has a further base averting harm"
        )
    stopped = [run for run in runs if run.curve_stopped]
    if stopped:
        notes.append(
            f"national allocation: the stopping rule ended the curve of {len(stopped)}"
            f" authorities before national.max_bases = {national.max_bases} bases (no base"
            " their own plans would refuse is funded): "
            + "; ".join(f"{run.authority.name}, {run.curve_stopped}" for run in stopped[:10])
            + ("; and more (the allocation table's curve_stopped)" if len(stopped) > 10 else "")
        )
    used_up = [  # a curve the rule ended would not be longer with a larger max_bases
        run.authority.name
        for run, e in zip(runs, found.exhausted, strict=True)
        if e and not run.curve_stopped
    ]
    if used_up:
        notes.append(
            f"national allocation: every base on the curve of {len(used_up)} authorities is"
            f" funded ({', '.join(used_up[:10])}{' and more' if len(used_up) > 10 else ''}): a"
            " longer curve (national.max_bases) might fund more there"
        )
    return pd.DataFrame(rows, columns=[c.key for c in NATIONAL_ALLOCATION]), notes
