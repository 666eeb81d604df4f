"""Trial bases on a warm assignment LP: give its trial slot a site, re-solve from the last basis.

Ranking evaluates hundreds of candidate bases against the same network. Rebuilding the
transportation LP for each costs most of the time on a real authority (tens of milliseconds
each). Each class component keeps one HiGHS model with one trial slot: a capacity row and a
column from every demand row, closed until a trial gives them a site's places and journeys.
Nothing is deleted, so the basis stays valid and the primal simplex restarts from the last
trial's optimum; trials of similar sites in a row (:func:`similar_order`) take a fraction of
the iterations, with the same optimum. A model is copied, at its optimum, by passing its LP and
basis to a new solver (milliseconds, where solving it again from scratch takes seconds on a
large authority), so today's network is solved from scratch once and every set of bases the
plan weighs starts from it. On large LPs trials are by the dual simplex, faster there, and
where they have many pairs a row, on a copy holding only their promising columns
(:mod:`sitefinder.model.reduced`); and a whole network's optimum can be read from the solved
LPs of its components (:func:`network_solution`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence

import highspy
import numpy as np
from numpy.typing import NDArray

from sitefinder.model._highs import (
    DUAL_TOL,
    add_pair_columns,
    add_unit_columns,
    copy_at_basis,
    new_highs,
)
from sitefinder.model.bounds import EasedPrices, gain_bound
from sitefinder.model.first_solve import greedy_assignment
from sitefinder.model.network import DemandRows, Site, Solution, folded
from sitefinder.model.reduced import PARK, Pairs, ReducedTrials, install_slot, solve

_INF = highspy.kHighsInf
_PRIMAL = 4  # HiGHS simplex_strategy: the primal simplex
_DUAL = 1  # HiGHS simplex_strategy: the dual simplex
_CHAIN_CELLS = 2_000_000  # sites x rows ordered into a chain of similar sites; larger keep order
# From this many demand rows a model's trials are by the dual simplex (about one and a half
# times faster there, measured) and a whole network is read from its solved components.
_LARGE_ROWS = 2_000
# A large LP with this many open-base pairs per demand row has its trials on a reduced copy
# (:mod:`sitefinder.model.reduced`): synthetic Lambeth has 21, Bromley 9. With few bases
# (real Birmingham: 3,180 pairs over 24,512 rows) there is little to park and the copy would
# only double the memory (364 MiB more in one worker for Birmingham, Norfolk and Hertfordshire).
_PAIRS_PER_ROW = 4
_NO_INDEX = np.zeros(0, dtype=np.int32)
_NO_VALUE = np.zeros(0)
_STATUS = [highspy.HighsBasisStatus(code) for code in range(5)]  # by HiGHS's own codes
_BASIC = int(highspy.HighsBasisStatus.kBasic)
_LOWER = int(highspy.HighsBasisStatus.kLower)


class WarmTransport:
    """The assignment LP of ``sites`` over some demand ``rows``, kept open in HiGHS.

    Parameters
    ----------
    demand
        All demand rows; only ``rows`` enter the model.
    sites
        The open bases of the component (pairs with other rows are ignored).
    rows
        Indices of the component's demand rows.
    parts
        Solved models of separate components that together hold ``rows`` and ``sites``
        (every other row reached by no open base): their optimal bases, side by side, are
        this LP's, so it starts at its optimum instead of being solved from scratch.
    """

    def __init__(
        self,
        demand: DemandRows,
        sites: Sequence[Site],
        rows: NDArray[np.intp],
        *,
        parts: Sequence[WarmTransport] = (),
    ) -> None:
        self._local = np.full(len(demand), -1, dtype=np.int64)
        self._local[rows] = np.arange(len(rows))
        self._highs = new_highs()
        h = self._highs
        n = len(rows)
        children = demand.children[rows].astype(np.float64)
        h.addRows(n, children, children, 0, _NO_INDEX, _NO_INDEX, _NO_VALUE)
        add_unit_columns(h, demand.unmet_harm[rows], np.arange(n))  # unmet slack per row
        self._demand, self._rows, self._sites = demand, rows, list(sites)
        self._site_rows: list[int] = []  # each open base's capacity row
        # Each open base's first pair column and which of its rows have a pair in the model.
        self._pairs: list[tuple[int, NDArray[np.bool_]]] = []
        for site in sites:
            self._site_rows.append(h.getNumRow())
            self._add_site(site)
        self._trial_columns: NDArray[np.int32] | None = None
        self._trial_row = -1
        self.closed = 0  # bases closed since the LP was built (their columns held at zero)
        self._codes: tuple[NDArray[np.int8], NDArray[np.int8]] | None = None
        if parts and self._start_from(parts):
            self._settle()
            return
        # From scratch by HiGHS's own choice, the dual simplex: since each authority's special
        # schools joined its network, as fast as interior point or faster on every large one
        # measured (Lambeth's 12,552 rows 28 s against 37 s; Bracknell Forest 3.8 s against 6.4).
        # A large one starts from the greedy assignment (:mod:`sitefinder.model.first_solve`).
        if n >= _LARGE_ROWS:
            self._start_greedy()
        self._settle()

    def _start_greedy(self) -> None:
        """Hand HiGHS the greedy assignment of the open bases (no trial slot yet), for it to
        build its first basis from."""
        local, site_of, cost = [], [], []
        for at, site in enumerate(self._sites):
            rows = self._local[site.rows]
            keep = rows >= 0
            local.append(rows[keep])
            site_of.append(np.full(int(keep.sum()), at, dtype=np.int64))
            cost.append(site.harm[keep])
        unmet, flow = greedy_assignment(
            self._demand.children[self._rows].astype(np.float64),
            self._demand.unmet_harm[self._rows],
            np.array([float(site.capacity) for site in self._sites]),
            np.concatenate([np.zeros(0, dtype=np.int64), *local]),
            np.concatenate([np.zeros(0, dtype=np.int64), *site_of]),
            np.concatenate([np.zeros(0), *cost]),
        )
        start = highspy.HighsSolution()
        start.col_value = np.concatenate([unmet, flow]).tolist()  # the LP's column order
        start.value_valid = True
        self._highs.setSolution(start)

    def _basis_codes(self) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
        """The optimal basis of the last :meth:`_settle` as HiGHS status codes: rows, columns."""
        if self._codes is None:
            basis = self._optimal_basis
            assert basis is not None  # only LPs with rows are parts
            self._codes = (
                np.array([s.value for s in basis.row_status], dtype=np.int8),
                np.array([s.value for s in basis.col_status], dtype=np.int8),
            )
        return self._codes

    def _start_from(self, parts: Sequence[WarmTransport]) -> bool:
        """Give the LP the optimal bases of ``parts`` side by side (a row no part holds: its
        unmet column basic); return whether HiGHS took it as a basis.

        The parts share no row or open base, so their optima together are this LP's optimum
        (the merged LP is their blocks side by side). Their trial slots and closed bases, at
        zero, are left out; where that leaves the count of basic variables wrong (a
        degenerate closed column was basic) the LP is solved from scratch instead.
        """
        h = self._highs
        n = len(self._rows)
        row_code = np.full(h.getNumRow(), _LOWER, dtype=np.int8)
        col_code = np.full(h.getNumCol(), _LOWER, dtype=np.int8)
        col_code[:n] = _BASIC  # rows no part holds: all their children unmet
        where = {id(site): at for at, site in enumerate(self._sites)}
        for part in parts:
            if not len(part._rows) or not part._basis_ok:
                return False
            rows, cols = part._basis_codes()
            local = self._local[part._rows]
            m = len(part._rows)
            row_code[local] = rows[:m]
            col_code[local] = cols[:m]
            for site, row, (first, keep) in zip(
                part._sites, part._site_rows, part._pairs, strict=True
            ):
                at = where.get(id(site))
                if at is None or not keep.all():
                    return False
                row_code[self._site_rows[at]] = rows[row]
                mine = self._pairs[at][0]
                k = int(keep.sum())
                col_code[mine : mine + k] = cols[first : first + k]
        if int((row_code == _BASIC).sum() + (col_code == _BASIC).sum()) != len(row_code):
            return False
        basis = highspy.HighsBasis()
        basis.row_status = [_STATUS[code] for code in row_code.tolist()]
        basis.col_status = [_STATUS[code] for code in col_code.tolist()]
        basis.valid = True
        return bool(h.setBasis(basis) == highspy.HighsStatus.kOk)

    def copy(self) -> WarmTransport:
        """An independent copy at the same optimum: its LP and basis passed to a new solver
        (milliseconds, where building the LP again solves it from scratch)."""
        clone = object.__new__(WarmTransport)
        clone.__dict__.update(self.__dict__)
        h = copy_at_basis(self._highs) if len(self._rows) else new_highs()
        if self._trial_columns is not None:
            h.setOptionValue("simplex_strategy", self._strategy())
        clone._highs = h
        clone._reduced = None  # the clone's trials get their own solver
        clone._sites = list(self._sites)
        clone._site_rows = list(self._site_rows)
        clone._pairs = list(self._pairs)
        return clone

    def solver_copy(self) -> highspy.Highs:
        """A new solver holding this LP at its last basis with the trial slot closed, for a
        caller to extend and re-solve warm: the model's demand rows (in :attr:`rows` order)
        come first, then each base's capacity row; the first columns are the rows' unmet
        children, then each base's pairs."""
        h = self.copy()._highs
        if self._trial_columns is not None:
            n = len(self._trial_columns)
            h.changeRowBounds(self._trial_row, -_INF, 0.0)
            h.changeColsBounds(n, self._trial_columns, np.zeros(n), np.zeros(n))
        return h

    def pair_layout(self) -> list[tuple[int, NDArray[np.int32], NDArray[np.int64]]]:
        """Each open base, in order: its capacity row, its pair columns, and the positions of
        their demand rows among the model's (:meth:`solver_copy` keeps this layout)."""
        layout = []
        for site, row, (first, keep) in zip(self._sites, self._site_rows, self._pairs, strict=True):
            columns = np.arange(first, first + int(keep.sum()), dtype=np.int32)
            layout.append((row, columns, self._local[site.rows[keep]]))
        return layout

    @property
    def site_prices(self) -> NDArray[np.float64]:
        """The open bases' prices of one more place at the optimum (harm points, >= 0)."""
        return self._site_prices

    @property
    def sites(self) -> int:
        """Open bases in the model."""
        return len(self._sites)

    def solution(self) -> Solution:
        """The model's optimum (trials aside) as a :class:`Solution` over every demand row
        (:func:`network_solution`): the pairs of its open bases, numbered in the order they
        joined it."""
        return network_solution(self._demand, [self], self._sites)

    def site_flows(self) -> Iterator[tuple[Site, NDArray[np.float64]]]:
        """Each open base with the children on each of its pairs at the optimum (trials
        aside), in the order of its rows (none on rows outside the model)."""
        for site, (first, keep) in zip(self._sites, self._pairs, strict=True):
            flow = np.zeros(len(site.rows))
            flow[keep] = np.clip(self._x[first : first + int(keep.sum())], 0.0, None)
            yield site, flow

    @property
    def rows(self) -> NDArray[np.intp]:
        """The demand rows in the model."""
        return self._rows

    @property
    def mismatch_harm(self) -> float:
        """Mismatch harm points of the model's children without a base place at the optimum:
        out of authority at their row's mismatch, in a special school's place at its own."""
        total = float(self.unmet @ self._demand.mismatch[self._rows])
        for site, flow in self.site_flows():
            if site.fallback:
                own = self._demand.mismatch[site.rows]
                part = own if site.mismatch is None else site.mismatch
                total += float(flow @ part)
        return total

    @property
    def unplaced(self) -> NDArray[np.float64]:
        """Children of each of the model's rows without a base place at the optimum: out of
        authority (the unmet columns) or in a special school's places (fallback sites)."""
        unplaced = self.unmet.copy()
        for site, flow in self.site_flows():
            if site.fallback:
                local = self._local[site.rows]
                keep = local >= 0
                np.add.at(unplaced, local[keep], flow[keep])
        return unplaced

    def _settle(self) -> None:
        """Solve, and keep the optimum, the rows' prices and the open bases' prices."""
        self.objective = self._solve()
        n = len(self._rows)
        solution = self._highs.getSolution() if n else None
        duals = np.asarray(solution.row_dual) if solution is not None else np.zeros(0)
        # Children of each of the model's rows left without a place (the unmet columns).
        self._x = np.asarray(solution.col_value) if solution is not None else np.zeros(0)
        self.unmet = np.clip(self._x[:n], 0.0, None)
        # The prices of one more child in each row (harm points): any optimal duals bound
        # what a trial site can gain (:func:`sitefinder.model.bounds.gain_bound`).
        self.prices = np.full(len(self._demand), np.nan)
        if n:
            self.prices[self._rows] = duals[:n]
        # The open bases' prices of one more place (harm points; a row dual of a <= row is <= 0).
        self._site_prices = -duals[self._site_rows] if n else np.zeros(len(self._sites))
        self._eased: EasedPrices | None = None
        # The optimal basis (trials move the solver's own), for LPs that join this one's.
        self._basis_ok = bool(n)
        self._optimal_basis = self._highs.getBasis() if n else None
        self._codes = None
        self._reduced: ReducedTrials | None = None  # built with these prices at the first trial
        pairs = sum(int(keep.sum()) for _, keep in self._pairs)
        self._reduce = n >= _LARGE_ROWS and pairs >= _PAIRS_PER_ROW * n

    def open(self, site: Site) -> None:
        """Open ``site`` for good (its rows lie in this model's) and re-solve from the last
        basis: a new optimum, prices and trial values as if the model were built with it."""
        self.open_all([site])

    def open_all(self, sites: Sequence[Site], *, closing: Sequence[Site] = ()) -> None:
        """Open ``sites`` for good, in order, close the open bases ``closing`` (the same
        objects) for good, and re-solve once from the last basis.

        A closed base keeps its row and columns in the LP, at zero, so the basis stays valid;
        :attr:`closed` counts them.
        """
        h = self._highs
        if self._trial_columns is not None:  # close the trial slot
            n = len(self._trial_columns)
            h.changeRowBounds(self._trial_row, -_INF, 0.0)
            h.changeColsBounds(n, self._trial_columns, np.zeros(n), np.zeros(n))
        for site in closing:
            at = next(i for i, open_ in enumerate(self._sites) if open_ is site)
            first, keep = self._pairs.pop(at)
            n = int(keep.sum())
            h.changeRowBounds(self._site_rows.pop(at), -_INF, 0.0)
            columns = np.arange(first, first + n, dtype=np.int32)
            h.changeColsBounds(n, columns, np.zeros(n), np.zeros(n))
            self._sites.pop(at)
            self.closed += 1
        for site in sites:
            self._site_rows.append(h.getNumRow())
            self._add_site(site)
            self._sites.append(site)
        self._settle()

    def _add_site(self, site: Site) -> int:
        """Add ``site``'s capacity row and pair columns; return the number of columns."""
        h = self._highs
        row = h.getNumRow()
        h.addRow(-_INF, float(site.capacity), 0, _NO_INDEX, _NO_VALUE)
        local = self._local[site.rows]
        keep = local >= 0
        n = int(keep.sum())
        self._pairs.append((h.getNumCol(), keep))
        if n == 0:
            return 0
        add_pair_columns(h, site.harm[keep], local[keep], np.full(n, row))
        return n

    def _solve(self) -> float:
        return solve(self._highs)

    def bound(self, site: Site, *, enough: float = -np.inf) -> float:
        """An upper bound on the harm points ``site`` would avert added to this network, from
        its LP prices (up to the LP's dual tolerance, about 1e-7 per child).

        :func:`sitefinder.model.bounds.gain_bound` first; when that is above ``enough`` (harm
        points), the least of it and :class:`sitefinder.model.bounds.EasedPrices` (a few times
        dearer, much tighter when the network is short of places). ``enough = inf`` asks for
        the cheap bound only.
        """
        plain = gain_bound(self.prices, self._demand, site)
        if plain <= enough or not len(self._rows):
            return plain
        if self._eased is None:
            self._eased = EasedPrices(
                self._demand, self._rows, self._sites, self._site_prices, self.objective
            )
        return min(plain, self._eased.bound(site))

    def _install_trial_site(self) -> NDArray[np.int32]:
        """Add, once, a trial base: a capacity row and a column from every row to it, all
        closed (capacity 0, columns fixed at 0); return the columns."""
        h = self._highs
        self._trial_row, columns = install_slot(h, len(self._rows))
        # Each trial starts from the last one's optimal basis, still feasible for the next
        # trial's base wherever it reaches the same rows: the primal simplex restarts there
        # (on a large LP the dual simplex gets there sooner, in more but cheaper iterations).
        h.setOptionValue("simplex_strategy", self._strategy())
        return columns

    def _strategy(self) -> int:
        return _DUAL if len(self._rows) >= _LARGE_ROWS else _PRIMAL

    def trial(self, site: Site, *, stop_at: float = np.inf) -> float:
        """Total harm of the component with ``site`` added (harm points).

        The trial base is the model's one trial slot, given ``site``'s journeys and places;
        the next trial starts from this one's optimum, so trials of similar bases in a row
        (:func:`similar_order`) take few simplex iterations.

        A large LP's trial (dual simplex) may stop once the harm is proven at least
        ``stop_at`` (harm points), returning a lower bound on it, at least ``stop_at``, up to
        :meth:`round_off`; a value below ``stop_at`` is the optimum.
        """
        n = len(self._rows)
        if not n:
            return self.objective
        if not self.stops_early:
            stop_at = np.inf
        local = self._local[site.rows]
        keep = local >= 0
        if self._reduce:  # on the LP's promising columns, the others priced after
            return self._reduced_trials().trial(
                local[keep], site.harm[keep], site.capacity, stop_at=stop_at
            )
        if self._trial_columns is None:
            self._trial_columns = self._install_trial_site()
        h = self._highs
        cost, upper = np.zeros(n), np.zeros(n)
        cost[local[keep]] = site.harm[keep]
        upper[local[keep]] = _INF
        h.changeColsCost(n, self._trial_columns, cost)
        h.changeColsBounds(n, self._trial_columns, np.zeros(n), upper)
        h.changeRowBounds(self._trial_row, -_INF, float(site.capacity))
        return solve(h, stop_at=stop_at)

    @property
    def stops_early(self) -> bool:
        """Whether a trial may stop at a proven lower bound (:meth:`trial`'s ``stop_at``):
        large LPs' trials run the dual simplex, whose objective rises to the optimum; the
        primal simplex's falls to it, proving no lower bound on the way."""
        return self._strategy() == _DUAL

    def harm_or_bound(self, site: Site, *, above: float) -> tuple[float, bool]:
        """``(harm, True)``: :meth:`trial`'s optimum; or ``(bound, False)``: a lower bound on it
        above ``above`` (harm points), when a large LP's trial proved the harm that high before
        reaching the optimum. The trial stops twice :meth:`round_off` past ``above``, so the
        bound, less the round-off, still lies above it. Small LPs' trials (primal simplex)
        always reach the optimum."""
        if not np.isfinite(above) or not self.stops_early:
            return self.trial(site), True
        room = self.round_off(site)
        stop_at = above + 2 * room
        harm = self.trial(site, stop_at=stop_at)
        if harm < stop_at:
            return harm, True
        return harm - room, False

    def round_off(self, site: Site) -> float:
        """Harm points by which a lower bound a trial of ``site`` stopped at may exceed the
        trial's optimum: HiGHS's dual tolerance for every child and place in the LP."""
        children = float(self._demand.children[self._rows].sum())
        places = sum(float(open_.capacity) for open_ in self._sites) + float(site.capacity)
        return DUAL_TOL * (children + places)

    def _reduced_trials(self) -> ReducedTrials:
        if self._reduced is None:
            pairs = [
                Pairs(row, columns, rows, site.harm[keep])
                for (row, columns, rows), site, (_, keep) in zip(
                    self.pair_layout(), self._sites, self._pairs, strict=True
                )
            ]
            least = float(self._demand.unmet_harm[self._rows].min())
            self._reduced = ReducedTrials(
                copy_at_basis(self._highs),
                rows=len(self._rows),
                pairs=pairs,
                prices=self.prices[self._rows],
                site_prices=self._site_prices,
                park=PARK * least,
            )
        return self._reduced


def read_warm(demand: DemandRows) -> bool:
    """Whether a whole network's optimum is read from solved warm LPs (:func:`network_solution`)
    rather than solved again from scratch: on large networks, where that costs seconds. On
    smaller ones the solve from scratch is cheap and keeps the assignment it finds (several
    assignments can tie at the optimum; either is exact)."""
    return len(demand) >= _LARGE_ROWS


def network_solution(
    demand: DemandRows, models: Sequence[WarmTransport], sites: Sequence[Site]
) -> Solution:
    """The whole network's optimum from solved warm LPs of its components, as
    :func:`sitefinder.model.network.solve_network` lays it out: the pairs of ``sites`` (every
    open base, each in one of ``models``) in that order, and every demand row's unmet children
    (all of a row's children when no model holds it)."""
    flows: dict[int, NDArray[np.float64]] = {}
    unmet = demand.children.astype(np.float64).copy()
    held = np.zeros(len(demand), dtype=bool)
    objective = 0.0
    for model in models:
        flows.update((id(site), flow) for site, flow in model.site_flows())
        unmet[model.rows] = model.unmet
        held[model.rows] = True
        objective += model.objective
    objective += float(unmet[~held] @ demand.unmet_harm[~held])
    empty_rows, empty = np.zeros(0, dtype=np.intp), np.zeros(0)
    return folded(
        sites,
        np.concatenate([s.rows for s in sites] + [empty_rows]).astype(np.intp),
        np.concatenate(
            [np.full(len(s.rows), i, dtype=np.intp) for i, s in enumerate(sites)] + [empty_rows]
        ),
        np.concatenate([s.minutes for s in sites] + [empty]),
        np.concatenate([s.harm for s in sites] + [empty]),
        np.concatenate([flows.get(id(s), np.zeros(len(s.rows))) for s in sites] + [empty]),
        unmet,
        np.ones(len(demand), dtype=bool),
        objective,
    )


def similar_order(sites: Sequence[Site], indices: Sequence[int]) -> list[int]:
    """``indices`` of ``sites`` in an order where each site is like the one before: by class,
    then a nearest-neighbour chain on their harm per row (unreached rows count as the most
    harm), so a trial LP starts near the optimum of the last one. The order is fixed by the
    sites alone; large groups (a region) keep their order.
    """
    groups: dict[tuple[int, ...], list[int]] = {}
    for index in indices:
        groups.setdefault(tuple(sorted(sites[index].classes)), []).append(int(index))
    ordered: list[int] = []
    for key in sorted(groups):
        members = groups[key]
        rows = np.unique(np.concatenate([sites[i].rows for i in members]))
        if len(members) < 3 or len(members) * len(rows) > _CHAIN_CELLS:
            ordered.extend(members)
            continue
        worst = max(float(sites[i].harm.max(initial=0.0)) for i in members)
        harm = np.full((len(members), len(rows)), worst)
        for m, i in enumerate(members):
            harm[m, np.searchsorted(rows, sites[i].rows)] = sites[i].harm
        left = np.ones(len(members), dtype=bool)
        at = 0
        for _ in range(len(members)):
            ordered.append(members[at])
            left[at] = False
            if not left.any():
                break
            gaps = np.where(left, ((harm - harm[at]) ** 2).sum(axis=1), np.inf)
            at = int(np.argmin(gaps))
    return ordered


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
        self.size = np.ones(n_rows, dtype=np.int64)  # rows of the component at each root
        # Each site's components and the rows in them, until the next opening merges any (the
        # site is kept so that its id cannot be reused by another).
        self._roots: dict[int, tuple[Site, frozenset[int], int]] = {}
        for site in sites:
            self.open(site)

    def copy(self) -> _Components:
        """An independent copy (opening sites in it leaves this one as it is)."""
        clone = object.__new__(_Components)
        clone.root = self.root.copy()
        clone.rows = dict(self.rows)
        clone.sites = {root: list(sites) for root, sites in self.sites.items()}
        clone.size = self.size.copy()
        clone._roots = dict(self._roots)
        return clone

    def _known(self, site: Site) -> tuple[Site, frozenset[int], int]:
        known = self._roots.get(id(site))
        if known is not None and known[0] is site:
            return known
        found = np.unique(self.root[site.rows])
        entry = (site, frozenset(found.tolist()), int(self.size[found].sum()))
        self._roots[id(site)] = entry
        return entry

    def roots(self, site: Site) -> frozenset[int]:
        """Components the site's rows lie in."""
        return self._known(site)[1]

    def reached(self, site: Site) -> int:
        """Rows in the components the site's rows lie in (summed once per opening: a site
        spanning a thousand lone rows was summed row by row, option by option, every step)."""
        return self._known(site)[2]

    def open(self, site: Site) -> int:
        """Add ``site``, merging the components it reaches; return the merged component."""
        roots = sorted(self.roots(site))
        if not roots:
            return -1
        keep = roots[0]
        if len(roots) > 1:
            # Merged: a site reaching any of these components now reaches the merged one in
            # their place, with the same rows (the others' are as they were); recounting them
            # all cost a county seconds.
            joined = frozenset(roots)
            into = frozenset({keep})
            size = {root: int(self.size[root]) for root in roots}
            total = sum(size.values())
            for key, (known, found, count) in list(self._roots.items()):
                if found & joined:
                    count += total - sum(size[root] for root in found & joined)
                    self._roots[key] = (known, (found - joined) | into, count)
        rows = [self.rows[keep]]
        sites = self.sites.get(keep, [])
        for other in roots[1:]:
            rows.append(self.rows.pop(other))
            sites.extend(self.sites.pop(other, []))
        merged = np.sort(np.concatenate(rows))
        self.root[merged] = keep
        self.rows[keep] = merged
        self.size[keep] = len(merged)
        self.sites[keep] = [*sites, site]
        return keep

    def members(self, roots: frozenset[int]) -> tuple[NDArray[np.intp], list[Site]]:
        """Rows and open sites of the given components together."""
        ordered = sorted(roots)
        rows = np.sort(np.concatenate([self.rows[r] for r in ordered]))
        return rows, [s for r in ordered for s in self.sites.get(r, [])]


class ComponentTrials:
    """Exact trial values from one warm LP per connected component of the open network.

    Fast while components are small (one authority); a component spanning a country is one
    huge LP, which :class:`sitefinder.model.local.LocalNetwork` avoids.

    Parameters
    ----------
    demand
        All demand rows.
    sites
        Bases open at the start.
    keep
        Warm LPs kept open, most recently used first (each can hold a large region).
    """

    def __init__(self, demand: DemandRows, sites: Sequence[Site], *, keep: int = 64) -> None:
        self._demand = demand
        self._components = _Components(len(demand), sites)
        self._warm: OrderedDict[frozenset[int], WarmTransport] = OrderedDict()
        self._keep = keep
        self._forget_prices()

    def _forget_prices(self) -> None:
        # Every row's LP price, read from its component's LP when first asked (a row no
        # open base reaches: its unmet harm), until the next opening changes them.
        self._prices = self._demand.unmet_harm.copy()
        self._priced: set[int] = set()

    def copy(self) -> ComponentTrials:
        """An independent copy of the open network and its warm LPs (each passed to a new
        solver at its optimum: milliseconds each)."""
        clone = object.__new__(ComponentTrials)
        clone._demand = self._demand
        clone._components = self._components.copy()
        clone._warm = OrderedDict((key, model.copy()) for key, model in self._warm.items())
        clone._keep = self._keep
        clone._forget_prices()
        return clone

    def rows_reached(self, site: Site) -> int:
        """Demand rows in the components ``site`` would join (0 when it reaches no child)."""
        return self._components.reached(site)

    def _model(self, key: frozenset[int]) -> WarmTransport:
        if key in self._warm:
            self._warm.move_to_end(key)
            return self._warm[key]
        model = self._build(key)
        self._warm[key] = model
        if len(self._warm) > self._keep:
            self._warm.popitem(last=False)
        return model

    def _build(self, key: frozenset[int]) -> WarmTransport:
        """A new LP of the components ``key`` at its optimum: several components start from
        their own LPs' optimal bases side by side (most of a county's time went on solving
        such joins from scratch)."""
        rows, sites = self._components.members(key)
        parts: list[WarmTransport] = []
        if len(key) > 1:
            served = sorted(key & self._components.sites.keys())
            parts = [self._model(frozenset({root})) for root in served]
        return WarmTransport(self._demand, sites, rows, parts=parts)

    def model_of(self, site: Site) -> WarmTransport | None:
        """The warm LP of the one component ``site`` would join (None: it reaches several
        components, or no child)."""
        key = self._components.roots(site)
        return self._model(key) if len(key) == 1 else None

    def solution(self, sites: Sequence[Site]) -> Solution:
        """The open network's optimum over every demand row (:func:`network_solution`);
        ``sites`` are its open bases in the order the solution numbers them."""
        components = self._components
        models = [self._model(frozenset({root})) for root in sorted(components.sites)]
        return network_solution(self._demand, models, sites)

    def copy_over(self, rows: NDArray[np.intp]) -> WarmTransport | None:
        """A warm copy of the LP of the component whose rows are exactly ``rows`` (sorted),
        or None when no component has those rows."""
        if not len(rows):
            return None
        root = int(self._components.root[rows[0]])
        mine = self._components.rows.get(root)
        if mine is None or not np.array_equal(mine, rows):
            return None
        return self._model(frozenset({root})).copy()

    def with_site(self, site: Site) -> WarmTransport:
        """The LP of the components ``site`` joins, solved with it open as its last base: a
        warm copy of that component's LP (several components: joined at their optima)."""
        key = self._components.roots(site)
        model = self._model(key).copy() if len(key) == 1 else self._build(key)
        model.open(site)
        return model

    def gain(self, site: Site) -> float:
        """Harm points ``site`` would avert added to the open network."""
        key = self._components.roots(site)
        if not key:
            return 0.0
        model = self._model(key)
        return model.objective - model.trial(site)

    def gain_or_bound(self, site: Site, *, floor: float) -> tuple[float, bool]:
        """``(gain, True)``: the harm points ``site`` would avert added to the open network;
        or ``(bound, False)``: an upper bound on them below ``floor`` (harm points), when its
        trial proved it cannot avert ``floor`` before reaching the optimum."""
        key = self._components.roots(site)
        if not key:
            return 0.0, True
        model = self._model(key)
        harm, exact = model.harm_or_bound(site, above=model.objective - floor)
        return model.objective - harm, exact

    def bound(self, site: Site, *, enough: float = -np.inf) -> float:
        """An upper bound on :meth:`gain` from the open network's LP prices, without a trial
        (harm points; up to the LP's dual tolerance, about 1e-7 per child); the tighter one
        only when the cheap one is above ``enough`` (:meth:`WarmTransport.bound`)."""
        key = self._components.roots(site)
        if not key:
            return 0.0
        if len(key) > 1 and key not in self._warm:
            # Components are separate LPs, so their optimal prices together are the merged
            # LP's: the plain bound needs no merged LP solved from scratch (most of a large
            # county's time went there). A row no open base reaches is alone: its price is
            # its unmet harm.
            for root in (key & self._components.sites.keys()) - self._priced:
                model = self._model(frozenset({root}))
                self._prices[model.rows] = model.prices[model.rows]
                self._priced.add(root)
            plain = gain_bound(self._prices, self._demand, site)
            if plain <= enough:
                return plain
        return self._model(key).bound(site, enough=enough)

    def open(self, site: Site) -> frozenset[int]:
        """Open ``site``; return the components it merged. A site within one component opens
        in that component's LP (re-solved warm); other LPs it touches are dropped."""
        touched = self._components.roots(site)
        merged = self._components.open(site)
        self._forget_prices()
        # An LP over every component the site merges keeps its rows: the merged component
        # takes the smallest root, so the LP opens the site (warm) under its new key. Rebuilding
        # them instead solved each from scratch every step (most of a large county's time).
        # LPs holding only some of the merged components lack rows now: they go.
        for key in [key for key in self._warm if key & touched]:
            model = self._warm.pop(key)
            if touched <= key:
                model.open(site)
                self._warm[(key - touched) | {merged}] = model
        return touched

    def stale(self, site: Site, touched: frozenset[int]) -> bool:
        """Whether ``site``'s value changed when the ``touched`` components merged."""
        return bool(touched & self._components.roots(site))
