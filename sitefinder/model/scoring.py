"""Total harm of today's bases plus any set of candidate bases, re-solved only where it changed.

Classes of children that no base links are independent assignment problems, so the network
splits into class *components*; opening or closing a candidate changes only its own component.
:class:`SetScorer` caches each component's optimum by the candidates open in it, so comparing
many sets that differ by a swap (selection, the stopping rule, ties, explanations and
robustness runs) re-solves one or two small LPs per set instead of the whole network; and each
is re-solved warm, a copy of today's network (or of the kept set with the most of its bases)
with the rest of its bases opened, not solved again from scratch.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sitefinder.model.bounds import gain_bound
from sitefinder.model.network import DemandRows, Site, Solution
from sitefinder.model.warm import ComponentTrials, WarmTransport, network_solution

__all__ = ["Score", "SetScorer", "gain_bound"]

_WARM_KEPT = 16  # warm LPs kept for trials against recently used sets
_CLOSED_KEPT = 8  # bases a warm LP may have closed (kept in it at zero) and still be copied


@dataclass(frozen=True, slots=True)
class Score:
    """One network's optimum: total harm points, children left without a place, and the
    mismatch harm points of those children (each weighted by their row's mismatch penalty; the
    rest of ``harm`` is journey harm)."""

    harm: float
    unmet: float
    mismatch: float = 0.0


class SetScorer:
    """Harm of the network with today's bases and a set of candidates open.

    Parameters
    ----------
    demand
        Demand rows.
    existing
        Bases open in every set.
    candidates
        Bases that may be opened, numbered 0..n-1.
    today
        Today's network (the same demand and bases) as warm LPs, e.g. the greedy order's: a
        component it has solved is copied rather than solved again from scratch.
    """

    def __init__(
        self,
        demand: DemandRows,
        existing: Sequence[Site],
        candidates: Sequence[Site],
        *,
        today: ComponentTrials | None = None,
    ) -> None:
        self.demand = demand
        self._trials = today
        self.existing = list(existing)
        self.candidates = list(candidates)
        classes = sorted(
            set(np.unique(demand.klass).tolist()).union(
                *(s.classes for s in [*existing, *candidates])
            )
        )
        parent = {c: c for c in classes}

        def find(c: int) -> int:
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        for site in [*existing, *candidates]:
            linked = sorted(site.classes)
            for other in linked[1:]:
                parent[find(other)] = find(linked[0])
        roots = sorted({find(c) for c in classes})
        number = {root: i for i, root in enumerate(roots)}
        self.members: list[list[int]] = [[] for _ in roots]
        for c in classes:
            self.members[number[find(c)]].append(c)
        self._rows = [np.flatnonzero(np.isin(demand.klass, m)) for m in self.members]
        self._existing: list[list[Site]] = [[] for _ in roots]
        for site in existing:
            if site.classes:
                self._existing[number[find(min(site.classes))]].append(site)
        self.component = np.array(
            [number[find(min(s.classes))] if s.classes else -1 for s in candidates],
            dtype=np.intp,
        )
        self._memo: dict[tuple[int, tuple[int, ...]], Score] = {}
        # Each trial's harm averted by its component: (component, its open set, extra).
        self._gains: dict[tuple[int, tuple[int, ...], int], float] = {}
        self._warm: OrderedDict[tuple[int, tuple[int, ...]], WarmTransport] = OrderedDict()
        self._today: dict[int, WarmTransport] = {}  # each component with today's bases only

    def _open(self, chosen: Iterable[int] | NDArray[np.bool_]) -> NDArray[np.intp]:
        array = np.asarray(list(chosen) if not isinstance(chosen, np.ndarray) else chosen)
        if array.dtype == bool:
            return np.flatnonzero(array)
        return np.unique(array.astype(np.intp))

    def _key(self, comp: int, chosen: Iterable[int] | NDArray[np.bool_]) -> tuple[int, ...]:
        open_ = self._open(chosen)
        return tuple(int(j) for j in open_[self.component[open_] == comp])

    def _solved(self, comp: int, mine: tuple[int, ...]) -> WarmTransport:
        """Component ``comp`` with the candidates ``mine`` open, solved: a copy of the kept LP
        nearest to it (else today's network of it, solved once from scratch), with the bases
        it lacks opened and those it has beyond ``mine`` closed, re-solved warm once."""
        start = self.today(comp)
        opened: tuple[int, ...] = ()
        wanted = set(mine)
        changes = len(wanted)
        for (part, kept), model in self._warm.items():  # the fewest bases to open or close
            if part != comp:
                continue
            extra = [j for j in kept if j not in wanted]
            # Closed bases stay in the LP: a copy that has closed many is not worth carrying.
            if extra and model.closed + len(extra) > _CLOSED_KEPT:
                continue
            moved = len(wanted.difference(kept)) + len(extra)
            if moved < changes:
                start, opened, changes = model, kept, moved
        model = start.copy()
        missing = [self.candidates[j] for j in mine if j not in opened]
        closing = [self.candidates[j] for j in opened if j not in wanted]
        if missing or closing:
            model.open_all(missing, closing=closing)  # one warm re-solve, not one per base
        return model

    def today(self, comp: int) -> WarmTransport:
        """Component ``comp`` with today's bases only, solved (copied from the warm LPs of
        today's network when given, else solved once from scratch); not to be changed."""
        if comp not in self._today:
            rows = self._rows[comp]
            copied = self._trials.copy_over(rows) if self._trials is not None else None
            self._today[comp] = copied or WarmTransport(self.demand, self._existing[comp], rows)
        return self._today[comp]

    def part(self, comp: int, chosen: Iterable[int] | NDArray[np.bool_]) -> Score:
        """The optimum of component ``comp`` with the ``chosen`` candidates of it open."""
        key = (comp, self._key(comp, chosen))
        if key not in self._memo:
            model = self.warm(comp, key[1])  # kept: sets near it start from it
            self._memo[key] = Score(
                model.objective, float(model.unplaced.sum()), model.mismatch_harm
            )
        return self._memo[key]

    def plus(self, chosen: Iterable[int] | NDArray[np.bool_], extra: int) -> float:
        """Total harm points with the ``chosen`` candidates and ``extra`` open.

        The ``chosen`` set is scored exactly (cached); ``extra`` is a trial on a warm LP of its
        component with the chosen open (kept for the next trial against the same set), so
        valuing many one-base changes of one set costs a dual simplex restart each. Each
        trial is kept: the alternatives and the explanations ask for many of the same swaps.
        """
        return self.plus_within(chosen, extra, most=np.inf)

    def plus_within(
        self, chosen: Iterable[int] | NDArray[np.bool_], extra: int, *, most: float
    ) -> float:
        """:meth:`plus` where it is at most ``most`` harm points; above, it or a lower bound
        on it above ``most`` (a large LP's trial stops once it proves the total above:
        :meth:`sitefinder.model.warm.WarmTransport.harm_or_bound`). Only exact totals are
        kept."""
        open_ = self._open(chosen)
        base = self.harm(open_)
        comp = int(self.component[extra])
        if comp < 0 or extra in set(open_.tolist()):
            return base
        key = (comp, self._key(comp, open_), int(extra))
        if key not in self._gains:
            model = self.warm(comp, open_)
            # The component's harm is the total less the rest's.
            harm, exact = model.harm_or_bound(
                self.candidates[extra], above=most - base + model.objective
            )
            if not exact:
                return base - model.objective + harm
            self._gains[key] = model.objective - harm
        return base - self._gains[key]

    def warm(self, comp: int, chosen: Iterable[int] | NDArray[np.bool_]) -> WarmTransport:
        """The warm assignment LP of component ``comp`` with the ``chosen`` candidates of it
        open, for trials of one more base (kept for the next caller asking for the same set:
        the swaps of the alternatives and of the explanations share them)."""
        key = (comp, self._key(comp, chosen))
        if key in self._warm:
            self._warm.move_to_end(key)
        else:
            self._warm[key] = self._solved(comp, key[1])
            if len(self._warm) > _WARM_KEPT:
                self._warm.popitem(last=False)
        return self._warm[key]

    def score(self, chosen: Iterable[int] | NDArray[np.bool_]) -> Score:
        """Total harm points and unmet children with the ``chosen`` candidates open."""
        open_ = self._open(chosen)
        parts = [self.part(comp, open_) for comp in range(len(self.members))]
        return Score(
            sum(p.harm for p in parts),
            sum(p.unmet for p in parts),
            sum(p.mismatch for p in parts),
        )

    def harm(self, chosen: Iterable[int] | NDArray[np.bool_]) -> float:
        """Total harm points with the ``chosen`` candidates open."""
        return self.score(chosen).harm

    def solution(self, chosen: Sequence[int]) -> Solution:
        """The network's optimum with the ``chosen`` candidates open, as
        :func:`sitefinder.model.network.solve_network` lays it out with today's bases then
        ``chosen`` in that order (from the warm LPs of its components)."""
        models = [self.warm(comp, chosen) for comp in range(len(self.members))]
        sites = [*self.existing, *(self.candidates[int(j)] for j in chosen)]
        return network_solution(self.demand, models, sites)

    def rows(self, comp: int) -> NDArray[np.intp]:
        """The demand rows of component ``comp``."""
        return self._rows[comp]

    def sites(self, comp: int, chosen: Iterable[int] | NDArray[np.bool_]) -> list[Site]:
        """The open bases of component ``comp``: today's, then the ``chosen`` candidates of it."""
        open_ = self._open(chosen)
        mine = open_[self.component[open_] == comp]
        return [*self._existing[comp], *(self.candidates[int(j)] for j in mine)]

    def prices(self, comp: int, chosen: Iterable[int] | NDArray[np.bool_]) -> NDArray[np.float64]:
        """LP prices of one more child in each row of component ``comp`` (harm points per
        child; NaN outside it) with the ``chosen`` candidates open.

        Any optimal prices bound what a new base can gain there (see
        :func:`sitefinder.model.scoring.gain_bound`).
        """
        return self.warm(comp, chosen).prices
