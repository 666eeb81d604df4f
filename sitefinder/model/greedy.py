"""Greedy build order of new bases: best first, then the best given that one, and so on.

Each candidate option is a base of a given size, phase and need group at one school. Its
*standalone* value is the harm it averts added to today's network alone; its *marginal* value
is the harm it averts added to the network built so far. Every value is exact. A trial is
solved either on a warm LP of the whole component of the network it joins
(:mod:`sitefinder.model.warm`, fastest within one authority) or, when that component is much
larger than the option's neighbourhood would first reach (its rows and every row the open
bases serving them also serve: a region of the country), on a neighbourhood certified by LP
prices (:mod:`sitefinder.model.local`). After a pick only the values that could have changed
are stale: those in a merged component, or whose neighbourhood or its edge saw a price or flow
change. And they are solved again lazily, by bounds that never cut off the best option: the
harm a base averts never grows as other bases open (the assignment's value is submodular in
the open bases: a base's places are worth most when nothing else is near), so a stale value
bounds the fresh one; and the open network's LP prices bound it too (weak duality,
:func:`sitefinder.model.scoring.gain_bound`, and with the open bases' place prices eased,
:class:`sitefinder.model.bounds.EasedPrices`, which sees when few children are left without a
place). Options are re-valued best bound first until no
bound can reach the best fresh value, so the picks are those of valuing every stale option
(ties within 1e-9 harm points still go to the lowest index). The first step works the same way
from today's LP prices, so only the options that could be the first pick are valued; the
others' standalone values are valued when an output reads them
(:class:`sitefinder.model.standalone.StandaloneValues`). On a large network
(:func:`sitefinder.model.warm.read_warm`) a pick valued on its component's warm LP is described
by that LP re-solved with it open, and the neighbourhood network is solved only once an option
is valued on a neighbourhood.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from sitefinder.model._highs import DUAL_TOL
from sitefinder.model.local import LocalNetwork, Workspace
from sitefinder.model.network import (
    DemandRows,
    Site,
    Solution,
    minutes_before_of_moved,
    mismatch_averted,
)
from sitefinder.model.standalone import StandaloneValues
from sitefinder.model.warm import ComponentTrials, read_warm, similar_order

Progress = Callable[[str, int, int], None]
"""Called as ``progress(message, done, total)`` while options are evaluated."""

_TIE = 1e-9
_SLACK = 1e-6  # harm points: a stale value bounds the fresh one up to the LP's round-off
_BATCH = 2  # stale options re-valued at a time per thread, on several threads
# A warm component LP is fastest when an option's neighbourhood would cover much of its
# component anyway (one authority); when the component has more than this many rows per row
# of that neighbourhood's first reach (the option's rows and every row the open bases serving
# them also serve), a neighbourhood LP is faster (a region of a national instance).
_WARM_RATIO = 4
# A component this small (rows) is always solved warm.
_WARM_ROWS = 4_000
_WARM_MODELS = 64  # most recently used component LPs kept open


@dataclass(frozen=True, slots=True)
class Pick:
    """One step of the greedy build order.

    Attributes
    ----------
    option
        Index of the chosen option.
    marginal
        Harm points averted given the bases picked before it: ``mismatch_averted`` +
        ``journey_averted``.
    mismatch_averted
        The part of ``marginal`` from children newly placed in a base: each one's mismatch
        penalty (harm points).
    journey_averted
        The rest of ``marginal``: the change in journey harm, fallback journeys included
        (harm points; negative when the journeys added outweigh those saved).
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
    mismatch_averted: float
    journey_averted: float
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
    """The greedy picks in order and the standalone value of every option (harm points,
    valued when read)."""

    picks: list[Pick]
    standalone: StandaloneValues
    evaluations: int


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
) -> Pick:
    mask = (after.pair_site == new_site) & (after.flow > 1e-9)
    rows, flows, minutes = after.pair_row[mask], after.flow[mask], after.pair_minutes[mask]
    served = float(flows.sum())
    mismatch = mismatch_averted(demand, before, after)
    newly_placed = float(before.unmet.sum() - after.unmet.sum())
    return Pick(
        option=option,
        marginal=marginal,
        mismatch_averted=mismatch,
        journey_averted=marginal - mismatch,
        standalone=np.nan,  # filled in once the greedy ends
        served=served,
        newly_placed=newly_placed,
        within_limit_gain=_within(demand, after) - _within(demand, before),
        minutes_before=minutes_before_of_moved(before, rows, flows, newly_placed=newly_placed),
        minutes_after=float(flows @ minutes / served) if served > 1e-9 else np.nan,
        served_rows=rows,
        served_children=flows,
    )


class _BestFirst:
    """Options in order of their bound, highest first (ties by index), each bound tightened
    (``tighten(index)`` lowers ``gains[index]``) only when it reaches the front: the order of
    the tightened bounds, without tightening those behind the last one read."""

    def __init__(
        self, indices: NDArray[np.intp], gains: NDArray[np.float64], tighten: Callable[[int], None]
    ) -> None:
        self._heap = [(-float(gains[i]), int(i)) for i in indices]
        heapq.heapify(self._heap)
        self._gains, self._tighten = gains, tighten
        self._tight: set[int] = set()

    def peek(self) -> int | None:
        """The option with the highest tightened bound, or None when none is left."""
        while self._heap:
            _, index = self._heap[0]
            if index in self._tight:
                return index
            self._tight.add(index)
            self._tighten(index)
            heapq.heapreplace(self._heap, (-float(self._gains[index]), index))
        return None

    def pop(self) -> None:
        """Drop the front option (read by :meth:`peek`)."""
        heapq.heappop(self._heap)


def greedy_order(
    demand: DemandRows,
    existing: Sequence[Site],
    options: Sequence[Site],
    *,
    steps: int,
    owner: Sequence[int] | None = None,
    max_per_owner: int = 1,
    progress: Progress | None = None,
    threads: int = 1,
    warm_picks: bool = False,
    standalone_of_picks: bool = True,
    until: Callable[[Sequence[Pick]], bool] | None = None,
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
    threads
        Threads valuing neighbourhood trials at once (HiGHS solves without the GIL); the
        result is the same for any number.
    warm_picks
        Describe each pick valued on its component's warm LP by that LP re-solved with it
        open, on a network of any size (as a large one always is), rather than by the
        neighbourhood network solved from scratch: the same picks and values, without the
        solves from scratch (where several assignments tie at the optimum, a pick's children
        served may be those of another optimal assignment).
    standalone_of_picks
        Value each pick's standalone harm averted (``Pick.standalone``; NaN when False, for a
        caller that reads only the order).
    until
        Optional ``until(picks)``, called with the picks made after each: true ends the order
        there. The picks made are those of a longer order's first steps.

    Returns
    -------
    GreedyResult
        Picks in order and the standalone harm averted by each option (harm points).
    """
    owner = list(range(len(options))) if owner is None else list(owner)
    # One option valued at a time lets each value raise the bar for the next; threads share
    # a batch (the same picks and values for any number of them: each value is exact).
    batch_size = 1 if threads <= 1 else _BATCH * threads
    picked_per_owner: dict[int, int] = {}
    network = LocalNetwork(demand, existing)
    components = ComponentTrials(demand, existing, keep=_WARM_MODELS)
    # What each option's last value depended on: its neighbourhood's rows and open sites, or
    # None when it was valued on its whole component.
    footprint: list[tuple[NDArray[np.intp], NDArray[np.intp]] | None] = [None] * len(options)

    # Rows of each option's first reach, until a pick reaches one of its rows (only then does
    # the pick join its reach; recounting every option every step cost a county seconds).
    first_reach: dict[int, int] = {}

    def on_component(index: int) -> bool:
        option = options[index]
        reached = components.rows_reached(option)
        if reached <= _WARM_ROWS or reached <= _WARM_RATIO * len(option.rows):
            return True
        if index not in first_reach:
            first_reach[index] = network.around(option.rows)
        return reached <= _WARM_RATIO * first_reach[index]

    def slack(index: int) -> float:
        """Harm points a bound from LP prices may fall short by (the dual tolerance)."""
        site = options[index]
        return DUAL_TOL * (float(demand.children[site.rows].sum()) + site.capacity)

    def in_neighbourhood(index: int, work: Workspace | None = None) -> float:
        trial = network.trial(options[index], work=work)
        footprint[index] = (trial.rows, trial.sites)
        return trial.gain

    def values(todo: list[int], floor: float) -> Iterator[tuple[int, float, bool]]:
        """Each option's ``(index, value, exact)``, those on a warm component LP first (they
        share the LPs); a component trial proving the option cannot avert ``floor`` stops
        there, with an upper bound below it (``exact`` False)."""
        warm = similar_order(options, [index for index in todo if on_component(index)])
        local = sorted(set(todo) - set(warm))
        for index in warm:
            footprint[index] = None
            yield index, *components.gain_or_bound(options[index], floor=floor)
        if local:
            network.solve()  # once, before any thread's trial
        if threads <= 1 or len(local) < 2 * threads:
            yield from ((index, in_neighbourhood(index), True) for index in local)
            return
        spaces = threading.local()

        def run(index: int) -> float:
            if not hasattr(spaces, "work"):
                spaces.work = network.workspace()
            return in_neighbourhood(index, spaces.work)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            yield from ((i, v, True) for i, v in zip(local, pool.map(run, local), strict=True))

    # Before an option is valued its gain is a bound: +inf, or from the LP prices.
    gains = np.full(len(options), np.inf)
    dirty = np.ones(len(options), dtype=bool)
    available = np.ones(len(options), dtype=bool)
    picks: list[Pick] = []
    standalone: StandaloneValues | None = None
    evaluations = 0
    for step in range(steps):
        stale = np.flatnonzero(dirty & available)

        def priced(index: int) -> None:
            if on_component(index):
                bound = components.bound(options[index], enough=np.inf) + slack(index)
                gains[index] = min(gains[index], bound)

        # Best bound first; a stale gain and the LP prices bound the fresh one. The prices'
        # bound is taken only of options whose stale gain could still lead (most never can).
        queue = _BestFirst(stale, gains, priced)
        fresh = available & ~dirty
        leader = float(gains[fresh].max()) if fresh.any() else -np.inf
        done = 0
        while (top := queue.peek()) is not None:
            if gains[top] < leader - _TIE - _SLACK:
                break  # no stale option left can reach the best: they stay stale
            batch: list[int] = []
            while (index := queue.peek()) is not None and len(batch) < batch_size:
                queue.pop()
                if on_component(index):
                    # The dearer eased-price bound, only for options about to be valued.
                    enough = leader - _TIE - _SLACK - slack(index)
                    eased = components.bound(options[index], enough=enough) + slack(index)
                    gains[index] = min(gains[index], eased)
                    if gains[index] < leader - _TIE - _SLACK:
                        continue  # it cannot reach the best: it stays stale
                batch.append(index)
            # Below the floor an option cannot be the pick: its trial may stop at a bound.
            for index, gain, exact in values(batch, leader - _TIE - _SLACK):
                if exact:
                    gains[index] = gain
                    dirty[index] = False
                    leader = max(leader, gain)
                else:  # it stays stale, under a tighter bound
                    gains[index] = min(gains[index], gain)
                done += 1
                if progress is not None:
                    progress(f"Evaluating candidates, step {step + 1}/{steps}", done, len(stale))
            evaluations += len(batch)
        if step == 0:
            # Today's network, kept for the standalone values the first step left unknown.
            valued = np.where(dirty, np.nan, gains)
            standalone = StandaloneValues(options, valued, gains, components.copy())
        live = np.where(available, gains, -np.inf)
        if not available.any() or live.max() <= _TIE:
            break
        best = int(np.flatnonzero(live >= live.max() - _TIE)[0])
        # Only a large network valued on component LPs alone reads the pick from its LP (not
        # built here for a pick valued on a neighbourhood: it may span a region).
        on_lp = footprint[best] is None and not network.solved and (warm_picks or read_warm(demand))
        model = components.model_of(options[best]) if on_lp else None
        if model is None:
            trial = network.trial(options[best])
            before, after = network.solutions(options[best], trial)
            new_site = len(network.sites)
            changed: tuple[NDArray[np.intp], NDArray[np.intp]] | None
            changed = network.open(options[best], trial)
            merged = components.open(options[best])
        else:
            # Valued on its component's warm LP, as every option so far: that LP, re-solved
            # with the pick open, describes it, and the neighbourhood network is not solved.
            before = model.solution()
            merged = components.open(options[best])
            model = components.model_of(options[best])
            assert model is not None  # a site within one component keeps it
            after = model.solution()
            new_site = model.sites - 1
            network.add(options[best])
            changed = None
        picks.append(
            _describe(
                demand,
                best,
                before,
                after,
                new_site=new_site,
                marginal=float(gains[best]),
            )
        )
        if until is not None and until(picks):
            break
        picked_rows = np.zeros(len(demand), dtype=bool)
        picked_rows[options[best].rows] = True
        for index in [i for i in first_reach if picked_rows[options[i].rows].any()]:
            del first_reach[index]
        picked_per_owner[owner[best]] = picked_per_owner.get(owner[best], 0) + 1
        available[best] = False
        if picked_per_owner[owner[best]] >= max_per_owner:
            available &= np.asarray(owner) != owner[best]
        # A value is stale if a changed price or flow lies in its neighbourhood or on its edge.
        halo_sites = np.zeros(len(network.sites), dtype=bool)
        halo_rows = np.zeros(len(demand), dtype=bool)
        if changed is not None:
            changed_rows, changed_sites = changed
            halo_sites[network.reach(changed_rows)] = True
            halo_sites[changed_sites] = True
            halo_rows[network.rows_of(np.flatnonzero(halo_sites))] = True
            halo_rows[changed_rows] = True
        for index in np.flatnonzero(available & ~dirty).tolist():
            near = footprint[index]
            if near is None:
                dirty[index] = components.stale(options[index], merged)
            else:
                dirty[index] = bool(halo_rows[near[0]].any() or halo_sites[near[1]].any())
    if standalone is None:  # no step taken: nothing valued, nothing opened
        unknown = np.full(len(options), np.nan)
        standalone = StandaloneValues(options, unknown, np.full(len(options), np.inf), components)
    if standalone_of_picks:
        alone = standalone.of([pick.option for pick in picks])
        picks = [replace(pick, standalone=float(v)) for pick, v in zip(picks, alone, strict=True)]
    return GreedyResult(picks, standalone, evaluations)
