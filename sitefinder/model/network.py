"""A network of open bases serving demand rows, solved class by class.

Demand rows are children of one phase and need group (a *class*) in one area. A base serves one
or more classes. Classes that no base links together are independent assignment problems, so
the network is solved per connected component; adding a base only changes its own component,
which is what makes evaluating hundreds of candidates cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sitefinder.model.assign import Pairs, solve_transport


@dataclass(frozen=True, slots=True)
class DemandRows:
    """Children needing a base place, one row per area x class.

    Attributes
    ----------
    children
        Children in each row (may be fractional when modelled).
    klass
        Class id of each row (one id per phase x need group).
    limit_minutes
        The guidance journey limit for the row's phase, in minutes.
    unmet_harm
        Harm points per child of the row left without a base place: the harm of their
        fallback journey (to a special school or an out-of-authority placement) plus the
        mismatch penalty.
    mismatch_harm
        The mismatch part of ``unmet_harm`` (harm points per child); the rest is the fallback
        journey's harm. None: all of it (a flat penalty with no journey).
    """

    children: NDArray[np.float64]
    klass: NDArray[np.intp]
    limit_minutes: NDArray[np.float64]
    unmet_harm: NDArray[np.float64]
    mismatch_harm: NDArray[np.float64] | None = None

    def __len__(self) -> int:
        return len(self.children)

    @property
    def mismatch(self) -> NDArray[np.float64]:
        """Harm points per child of each row for having no base place (the mismatch part)."""
        return self.unmet_harm if self.mismatch_harm is None else self.mismatch_harm


@dataclass(frozen=True, slots=True)
class Site:
    """An open (or candidate) base: its places and the rows it may serve.

    Attributes
    ----------
    capacity
        Places in the base.
    classes
        Class ids the base serves.
    rows
        Demand rows the base may serve (right class, journey within the cutoff).
    minutes
        Journey minutes from each of ``rows`` to the base.
    harm
        Harm points per child for each of ``rows``.
    fallback
        A special school's places for children without a base place (always open, its
        ``harm`` including the mismatch penalty), not a base: its children count as unplaced.
    extra
        With ``fallback``: the harm points per child its kind adds (an independent school's),
        kept so that the harm can be derived again under other settings.
    mismatch
        With ``fallback``: the mismatch part of ``harm`` for each of ``rows`` (harm points per
        child; zero at a base across the border, where the child has a base place).
    """

    capacity: float
    classes: frozenset[int]
    rows: NDArray[np.intp]
    minutes: NDArray[np.float64]
    harm: NDArray[np.float64]
    fallback: bool = False
    extra: float = 0.0
    mismatch: NDArray[np.float64] | None = None


@dataclass(frozen=True, slots=True)
class FallbackFlows:
    """Children without a base place: those in special schools' places (one entry per pair
    with a flow) and those out of authority (one entry per demand row)."""

    row: NDArray[np.intp]
    site: NDArray[np.intp]
    minutes: NDArray[np.float64]
    harm: NDArray[np.float64]
    flow: NDArray[np.float64]
    out_of_authority: NDArray[np.float64]
    mismatch: NDArray[np.float64] | None = None  # per pair; None: each row's own

    @staticmethod
    def none(out_of_authority: NDArray[np.float64]) -> FallbackFlows:
        """Every child without a base place out of authority."""
        empty_rows, empty = np.zeros(0, dtype=np.intp), np.zeros(0)
        return FallbackFlows(empty_rows, empty_rows, empty, empty, empty, out_of_authority)


@dataclass(frozen=True, slots=True)
class Solution:
    """Optimal flows for a set of open sites over some classes.

    ``pair_*`` arrays list every allowed (row, base) pair with its flow; ``unmet`` has one entry
    per demand row: its children without a base place (in a special school's place or out of
    authority: ``fallback`` says which; zero for rows outside the solved classes); ``rows``
    marks the solved rows. Made by :func:`folded`, which takes the special schools' pairs out
    of the ``pair_*`` arrays (their site numbers are never reused, so a base keeps its number).
    """

    pair_row: NDArray[np.intp]
    pair_site: NDArray[np.intp]
    pair_minutes: NDArray[np.float64]
    pair_harm: NDArray[np.float64]
    flow: NDArray[np.float64]
    unmet: NDArray[np.float64]
    rows: NDArray[np.bool_]
    objective: float
    fallback: FallbackFlows | None = None

    def unplaced_harm(self, demand: DemandRows) -> NDArray[np.float64]:
        """Harm points of each row's children without a base place (their fallback journeys,
        mismatch and any extra harm of the kind of place)."""
        if self.fallback is None:
            return self.unmet * demand.unmet_harm
        f = self.fallback
        return f.out_of_authority * demand.unmet_harm + np.bincount(
            f.row, weights=f.flow * f.harm, minlength=len(self.unmet)
        )

    def mismatch_harm(self, demand: DemandRows) -> NDArray[np.float64]:
        """Mismatch harm points of each row's children without a base place: out of authority
        at the row's mismatch, in a special school's place at that place's (none in a base
        across the border)."""
        f = self.fallback
        if f is None:
            return self.unmet * demand.mismatch
        own = demand.mismatch[f.row]
        pair = own if f.mismatch is None else np.where(np.isnan(f.mismatch), own, f.mismatch)
        return f.out_of_authority * demand.mismatch + np.bincount(
            f.row, weights=f.flow * pair, minlength=len(self.unmet)
        )

    def unplaced_minutes(self, far: NDArray[np.float64]) -> NDArray[np.float64]:
        """Mean fallback journey minutes of each row's children without a base place, with
        ``far`` the out-of-authority minutes per row (``far`` where none is unplaced)."""
        if self.fallback is None:
            return far.astype(np.float64)
        f = self.fallback
        total = f.out_of_authority * far + np.bincount(
            f.row, weights=f.flow * f.minutes, minlength=len(self.unmet)
        )
        some = self.unmet > 1e-12
        return np.where(some, total / np.where(some, self.unmet, 1.0), far)


def folded(
    sites: Sequence[Site],
    pair_row: NDArray[np.intp],
    pair_site: NDArray[np.intp],
    pair_minutes: NDArray[np.float64],
    pair_harm: NDArray[np.float64],
    flow: NDArray[np.float64],
    slack: NDArray[np.float64],
    rows: NDArray[np.bool_],
    objective: float,
) -> Solution:
    """A :class:`Solution` from an LP's flows over ``sites`` (``pair_site`` numbering them) and
    each row's ``slack`` (children out of authority): the pairs of special schools' places are
    moved out of the base pairs into ``fallback``, their children counted as unplaced."""
    is_fallback = np.array([s.fallback for s in sites], dtype=bool)
    if not is_fallback.any():
        return Solution(
            pair_row, pair_site, pair_minutes, pair_harm, flow, slack, rows, objective,
            FallbackFlows.none(slack),
        )  # fmt: skip
    mine = is_fallback[pair_site]
    used = mine & (flow > 0.0)
    mismatch = None
    if any(s.fallback and s.mismatch is not None for s in sites):
        mismatch = _pair_mismatch(sites, pair_site[used], pair_row[used])
    fallback = FallbackFlows(
        pair_row[used], pair_site[used], pair_minutes[used], pair_harm[used], flow[used], slack,
        mismatch,
    )  # fmt: skip
    unmet = slack + np.bincount(pair_row[used], weights=flow[used], minlength=len(slack))
    keep = ~mine
    return Solution(
        pair_row[keep], pair_site[keep], pair_minutes[keep], pair_harm[keep], flow[keep],
        unmet, rows, objective, fallback,
    )  # fmt: skip


def solve_network(
    demand: DemandRows,
    sites: Sequence[Site],
    *,
    classes: Iterable[int] | None = None,
    rows: NDArray[np.intp] | None = None,
) -> Solution:
    """Assign the children of ``classes`` or ``rows`` (default all) to ``sites`` at least harm."""
    n = len(demand)
    if rows is not None:
        selected = np.zeros(n, dtype=bool)
        selected[rows] = True
    else:
        selected = (
            np.ones(n, dtype=bool) if classes is None else np.isin(demand.klass, list(classes))
        )
    local = np.full(n, -1, dtype=np.intp)
    local[selected] = np.arange(int(selected.sum()))
    site_rows, sites_of, minutes, harm, capacity = [], [], [], [], []
    for index, site in enumerate(sites):
        keep = selected[site.rows]
        site_rows.append(site.rows[keep])
        sites_of.append(np.full(int(keep.sum()), index, dtype=np.intp))
        minutes.append(site.minutes[keep])
        harm.append(site.harm[keep])
        capacity.append(site.capacity)
    pair_row = np.concatenate(site_rows) if site_rows else np.zeros(0, dtype=np.intp)
    pair_site = np.concatenate(sites_of) if sites_of else np.zeros(0, dtype=np.intp)
    pair_minutes = np.concatenate(minutes) if minutes else np.zeros(0)
    pair_harm = np.concatenate(harm) if harm else np.zeros(0)
    result = solve_transport(
        demand.children[selected],
        np.asarray(capacity, dtype=np.float64),
        Pairs(local[pair_row], pair_site, pair_harm),
        demand.unmet_harm[selected],
    )
    unmet = np.zeros(n)
    unmet[selected] = result.unmet
    return folded(
        sites, pair_row, pair_site, pair_minutes, pair_harm, result.flows, unmet, selected,
        result.objective,
    )  # fmt: skip


def _pair_mismatch(
    sites: Sequence[Site], site: NDArray[np.intp], row: NDArray[np.intp]
) -> NDArray[np.float64]:
    """The mismatch part of each (row, fallback site) pair's harm (NaN where a site does not
    say: the row's own is meant)."""
    out = np.full(len(site), np.nan)
    for index in np.unique(site):
        mismatch = sites[index].mismatch
        if mismatch is None:
            continue
        here = site == index
        lookup = np.full(int(max(row[here].max(), sites[index].rows.max(initial=0))) + 1, np.nan)
        lookup[sites[index].rows] = mismatch
        out[here] = lookup[row[here]]
    return out


@dataclass(frozen=True, slots=True)
class Metrics:
    """Headline figures for a solved network (children may be fractional when modelled).

    ``total_harm`` (harm points) = ``journey_harm`` (journeys to bases and fallback journeys
    of children without a base place, harm curve and travel term) + ``mismatch_harm`` (the
    mismatch penalty of children without a base place).
    """

    total_harm: float
    children: float
    placed: float
    unmet: float
    within_limit: float
    mean_minutes: float
    p95_minutes: float
    journey_harm: float
    mismatch_harm: float

    @property
    def journey_share(self) -> float:
        """Share of total harm that is journey harm (NaN when there is no harm)."""
        return self.journey_harm / self.total_harm if self.total_harm > 1e-12 else float("nan")


def weighted_quantile(values: NDArray[np.float64], weights: NDArray[np.float64], q: float) -> float:
    """Return the ``q`` quantile of ``values`` weighted by ``weights`` (NaN when no weight)."""
    mask = weights > 1e-9
    if not mask.any():
        return float("nan")
    order = np.argsort(values[mask], kind="stable")
    v, w = values[mask][order], weights[mask][order]
    cumulative = np.cumsum(w)
    return float(v[np.searchsorted(cumulative, q * cumulative[-1] - 1e-9)])


def metrics(demand: DemandRows, solution: Solution) -> Metrics:
    """Summarise ``solution`` over the rows it solved."""
    flow = solution.flow
    placed = float(flow.sum())
    within = float(flow[solution.pair_minutes <= demand.limit_minutes[solution.pair_row]].sum())
    mean = float(flow @ solution.pair_minutes / placed) if placed > 1e-9 else float("nan")
    mismatch = float(solution.mismatch_harm(demand)[solution.rows].sum())
    return Metrics(
        total_harm=solution.objective,
        children=float(demand.children[solution.rows].sum()),
        placed=placed,
        unmet=float(solution.unmet.sum()),
        within_limit=within,
        mean_minutes=mean,
        p95_minutes=weighted_quantile(solution.pair_minutes, flow, 0.95),
        journey_harm=solution.objective - mismatch,
        mismatch_harm=mismatch,
    )


def mismatch_averted(demand: DemandRows, before: Solution, after: Solution) -> float:
    """Harm points of mismatch averted from ``before`` to ``after``: children newly placed in a
    base, each weighted by their row's mismatch penalty. The rest of the change in total harm
    is journey harm."""
    return float(before.mismatch_harm(demand).sum() - after.mismatch_harm(demand).sum())


def children_passing_nearer(
    sites: Sequence[Site], solution: Solution, *, tolerance: float = 1e-6
) -> float:
    """Children assigned to a base while a compatible base with spare places is nearer.

    A base is compatible with a row when the row is among its ``rows`` (right class, within
    reach); it has spare places when fewer than ``capacity - tolerance`` children are assigned
    to it. Journeys count as nearer only when shorter by more than ``tolerance`` minutes. With a
    harm curve strictly increasing in minutes an optimal assignment has none.
    """
    used = np.bincount(solution.pair_site, weights=solution.flow, minlength=len(sites))
    capacity = np.array([site.capacity for site in sites], dtype=np.float64)
    spare = (used < capacity - tolerance)[solution.pair_site]
    nearest_spare = np.full(len(solution.rows), np.inf)
    np.minimum.at(nearest_spare, solution.pair_row[spare], solution.pair_minutes[spare])
    passing = (solution.flow > tolerance) & (
        solution.pair_minutes > nearest_spare[solution.pair_row] + tolerance
    )
    return float(solution.flow[passing].sum())


def row_mean_minutes(solution: Solution, n_rows: int) -> NDArray[np.float64]:
    """Mean journey minutes of each demand row's placed children (NaN where none are placed)."""
    placed = np.bincount(solution.pair_row, weights=solution.flow, minlength=n_rows)
    total = np.bincount(
        solution.pair_row, weights=solution.flow * solution.pair_minutes, minlength=n_rows
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(placed > 1e-9, total / np.where(placed > 1e-9, placed, 1.0), np.nan)


def minutes_before_of_moved(
    before: Solution, rows: NDArray[np.intp], flows: NDArray[np.float64], *, newly_placed: float
) -> float:
    """Mean journey minutes, before, of the children a new base serves who already had a place.

    A new base serving ``flows`` children from demand ``rows`` places ``newly_placed`` children
    who had no base place; only the rest moved from a base, so with none left over (the usual
    case) there is no "before" to show: NaN. Otherwise the served rows' mean journeys before,
    weighted by the children served (rows with no place before carry no weight).
    """
    if float(flows.sum()) - newly_placed <= 1e-6:
        return float("nan")
    prior = row_mean_minutes(before, len(before.unmet))[rows]
    weights = flows * ~np.isnan(prior)
    if weights.sum() <= 1e-9:
        return float("nan")
    return float(weights @ np.nan_to_num(prior) / weights.sum())
