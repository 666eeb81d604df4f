"""Greedy build order of new bases: best first, then the best given that one, and so on.

Each candidate option is a base of a given size, phase and need group at one school. Its
*standalone* value is the harm it averts added to today's network alone; its *marginal* value
is the harm it averts added to the network built so far. Only options whose class component
changed are re-solved after a pick; every other marginal value is still exact. Trial options
are solved on a warm LP of their component (:mod:`sitefinder.model.warm`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sitefinder.model.network import DemandRows, Site, Solution, solve_network
from sitefinder.model.warm import WarmTransport

Progress = Callable[[str, int, int], None]
"""Called as ``progress(message, done, total)`` while options are evaluated."""

_TIE = 1e-9


@dataclass(frozen=True, slots=True)
class Pick:
    """One step of the greedy build order.

    Attributes
    ----------
    option
        Index of the chosen option.
    marginal
        Harm points averted given the bases picked before it.
    standalone
        Harm points it averts added to today's network alone.
    served
        Children assigned to the new base.
    newly_placed
        Reduction in children without a place.
    within_limit_gain
        Increase in children placed within their phase's guidance limit.
    minutes_before
        Mean journey minutes, before this base, of the children it serves who had a place
        (NaN when none had).
    minutes_after
        Mean journey minutes of the children it serves, to the new base.
    served_rows, served_children
        Demand rows the new base serves and the children from each.
    """

    option: int
    marginal: float
    standalone: float
    served: float
    newly_placed: float
    within_limit_gain: float
    minutes_before: float
    minutes_after: float
    served_rows: NDArray[np.intp] = field(repr=False)
    served_children: NDArray[np.float64] = field(repr=False)


@dataclass(frozen=True, slots=True)
class GreedyResult:
    """The greedy picks in order and the standalone value of every option (harm points)."""

    picks: list[Pick]
    standalone: NDArray[np.float64]
    evaluations: int


class _Components:
    """Union-find over class ids, linked by the bases that serve several classes."""

    def __init__(self, sites: Sequence[Site]) -> None:
        self.parent: dict[int, int] = {}
        for site in sites:
            self.link(site.classes)

    def find(self, c: int) -> int:
        self.parent.setdefault(c, c)
        while self.parent[c] != c:
            self.parent[c] = self.parent[self.parent[c]]
            c = self.parent[c]
        return c

    def link(self, classes: frozenset[int]) -> None:
        first, *rest = sorted(classes)
        for c in rest:
            self.parent[self.find(c)] = self.find(first)

    def members(self, classes: frozenset[int], universe: Sequence[int]) -> frozenset[int]:
        roots = {self.find(c) for c in classes}
        return frozenset(c for c in universe if self.find(c) in roots)


def _row_mean_minutes(solution: Solution, n_rows: int) -> NDArray[np.float64]:
    placed = np.bincount(solution.pair_row, weights=solution.flow, minlength=n_rows)
    total = np.bincount(
        solution.pair_row, weights=solution.flow * solution.pair_minutes, minlength=n_rows
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(placed > 1e-9, total / np.where(placed > 1e-9, placed, 1.0), np.nan)


def _within(demand: DemandRows, solution: Solution) -> float:
    ok = solution.pair_minutes <= demand.limit_minutes[solution.pair_row]
    return float(solution.flow[ok].sum())


def _describe(
    demand: DemandRows,
    option: int,
    before: Solution,
    after: Solution,
    *,
    new_site: int,
    marginal: float,
    standalone: float,
) -> Pick:
    mask = (after.pair_site == new_site) & (after.flow > 1e-9)
    rows, flows, minutes = after.pair_row[mask], after.flow[mask], after.pair_minutes[mask]
    served = float(flows.sum())
    prior = _row_mean_minutes(before, len(demand))[rows]
    had = ~np.isnan(prior)
    before_mean = float(flows[had] @ prior[had] / flows[had].sum()) if had.any() else np.nan
    return Pick(
        option=option,
        marginal=marginal,
        standalone=standalone,
        served=served,
        newly_placed=float(before.unmet.sum() - after.unmet.sum()),
        within_limit_gain=_within(demand, after) - _within(demand, before),
        minutes_before=before_mean,
        minutes_after=float(flows @ minutes / served) if served > 1e-9 else np.nan,
        served_rows=rows,
        served_children=flows,
    )


def greedy_order(
    demand: DemandRows,
    existing: Sequence[Site],
    options: Sequence[Site],
    *,
    steps: int,
    owner: Sequence[int] | None = None,
    max_per_owner: int = 1,
    progress: Progress | None = None,
) -> GreedyResult:
    """Pick up to ``steps`` options one at a time, each averting the most harm given the last.

    Parameters
    ----------
    demand
        The children needing a place.
    existing
        Bases open today; they always stay open.
    options
        Candidate new bases (usually one class each).
    steps
        How many picks to make. Fewer are made if no remaining option averts any harm.
    owner
        The school of each option; at most ``max_per_owner`` options of one school are picked.
    progress
        Optional callback reporting evaluations.

    Returns
    -------
    GreedyResult
        Picks in order and the standalone harm averted by each option (harm points).
    """
    owner = list(range(len(options))) if owner is None else list(owner)
    universe = sorted(set(np.unique(demand.klass).tolist()))
    open_sites: list[Site] = list(existing)
    picked_per_owner: dict[int, int] = {}
    components = _Components(open_sites)
    cache: dict[frozenset[int], Solution] = {}
    warm: dict[frozenset[int], WarmTransport] = {}

    def current(members: frozenset[int]) -> tuple[list[Site], Solution]:
        sites = [s for s in open_sites if s.classes & members]
        if members not in cache:
            cache[members] = solve_network(demand, sites, classes=members)
        return sites, cache[members]

    def gain_of(index: int) -> float:
        members = components.members(options[index].classes, universe)
        if members not in warm:
            sites = [s for s in open_sites if s.classes & members]
            warm[members] = WarmTransport(demand, sites, members)
        model = warm[members]
        return model.objective - model.trial(options[index])

    gains = np.full(len(options), np.nan)
    dirty = np.ones(len(options), dtype=bool)
    standalone = np.full(len(options), np.nan)
    available = np.ones(len(options), dtype=bool)
    picks: list[Pick] = []
    evaluations = 0
    for step in range(steps):
        todo = np.flatnonzero(dirty & available)
        for done, index in enumerate(todo):
            gains[index] = gain_of(int(index))
            if progress is not None:
                progress(f"step {step + 1}/{steps}", done + 1, len(todo))
        evaluations += len(todo)
        dirty[:] = False
        if step == 0:
            standalone[:] = gains
        live = np.where(available, gains, -np.inf)
        if not available.any() or live.max() <= _TIE:
            break
        best = int(np.flatnonzero(live >= live.max() - _TIE)[0])
        members = components.members(options[best].classes, universe)
        sites, before = current(members)
        after = solve_network(demand, [*sites, options[best]], classes=members)
        picks.append(
            _describe(
                demand,
                best,
                before,
                after,
                new_site=len(sites),
                marginal=float(gains[best]),
                standalone=float(standalone[best]),
            )
        )
        open_sites.append(options[best])
        components.link(options[best].classes)
        merged = components.members(options[best].classes, universe)
        cache = {key: value for key, value in cache.items() if not key & merged}
        warm = {key: value for key, value in warm.items() if not key & merged}
        picked_per_owner[owner[best]] = picked_per_owner.get(owner[best], 0) + 1
        available[best] = False
        if picked_per_owner[owner[best]] >= max_per_owner:
            available &= np.asarray(owner) != owner[best]
        for index in np.flatnonzero(available):
            if components.members(options[int(index)].classes, universe) & merged:
                dirty[index] = True
    return GreedyResult(picks, standalone, evaluations)
