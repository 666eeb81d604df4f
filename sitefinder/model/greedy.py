"""Greedy build order of new bases: best first, then the best given that one, and so on.

Each candidate option is a base of a given size, phase and need group at one school. Its
*standalone* value is the harm it averts added to today's network alone; its *marginal* value
is the harm it averts added to the network built so far. Only options whose class component
changed are re-solved after a pick; every other marginal value is still exact. Trial options
are solved on a warm LP of their component (:mod:`sitefinder.model.warm`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sitefinder.model.network import DemandRows, Site, Solution, row_mean_minutes, solve_network
from sitefinder.model.warm import WarmTransport

Progress = Callable[[str, int, int], None]
"""Called as ``progress(message, done, total)`` while options are evaluated."""

_TIE = 1e-9
_WARM_MODELS = 64  # most recently used warm LPs kept open (each can hold a large region)


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
    """Independent assignment subproblems: demand rows linked by the open bases reaching them.

    Rows that no open base links are separate problems, whatever their class, so with sparse
    journeys (a cutoff) a national instance falls apart into regional pieces. Each component
    keeps its rows and the open sites touching them.
    """

    def __init__(self, n_rows: int, sites: Sequence[Site]) -> None:
        self.root = np.arange(n_rows, dtype=np.intp)  # component id of each row
        self.rows: dict[int, NDArray[np.intp]] = {r: np.array([r]) for r in range(n_rows)}
        self.sites: dict[int, list[Site]] = {}
        for site in sites:
            self.open(site)

    def roots(self, site: Site) -> frozenset[int]:
        """Components the site's rows lie in."""
        return frozenset(np.unique(self.root[site.rows]).tolist())

    def open(self, site: Site) -> int:
        """Add ``site``, merging the components it reaches; return the merged component."""
        roots = sorted(self.roots(site))
        if not roots:
            return -1
        keep = roots[0]
        rows = [self.rows[keep]]
        sites = self.sites.get(keep, [])
        for other in roots[1:]:
            rows.append(self.rows.pop(other))
            sites.extend(self.sites.pop(other, []))
        merged = np.sort(np.concatenate(rows))
        self.root[merged] = keep
        self.rows[keep] = merged
        self.sites[keep] = [*sites, site]
        return keep

    def members(self, roots: frozenset[int]) -> tuple[NDArray[np.intp], list[Site]]:
        """Rows and open sites of the given components together."""
        ordered = sorted(roots)
        rows = np.sort(np.concatenate([self.rows[r] for r in ordered]))
        return rows, [s for r in ordered for s in self.sites.get(r, [])]


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
    prior = row_mean_minutes(before, len(demand))[rows]
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
    picked_per_owner: dict[int, int] = {}
    components = _Components(len(demand), existing)
    warm: OrderedDict[frozenset[int], WarmTransport] = OrderedDict()

    def gain_of(index: int) -> float:
        key = components.roots(options[index])
        if not key:
            return 0.0  # reaches no child
        if key in warm:
            warm.move_to_end(key)
        else:
            rows, sites = components.members(key)
            warm[key] = WarmTransport(demand, sites, rows)
            if len(warm) > _WARM_MODELS:  # bounded memory on national instances
                warm.popitem(last=False)
        model = warm[key]
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
        touched = components.roots(options[best])
        rows, sites = components.members(touched)
        before = solve_network(demand, sites, rows=rows)
        after = solve_network(demand, [*sites, options[best]], rows=rows)
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
        components.open(options[best])
        for key in [key for key in warm if key & touched]:
            del warm[key]
        picked_per_owner[owner[best]] = picked_per_owner.get(owner[best], 0) + 1
        available[best] = False
        if picked_per_owner[owner[best]] >= max_per_owner:
            available &= np.asarray(owner) != owner[best]
        for index in np.flatnonzero(available):
            if touched & components.roots(options[int(index)]):  # merged rows all join `touched`
                dirty[index] = True
    return GreedyResult(picks, standalone, evaluations)
