"""Exact trial bases on a large network, solved in a neighbourhood and certified by LP duals.

With journeys cut off at an hour, the open bases of a national instance link almost every
demand row into one assignment problem, so re-solving it for each of tens of thousands of trial
bases is far too slow. But a new base only moves children near it. The network is kept solved:
the flow on every (row, base) pair, the children left without a place, and the LP's prices (a
dual value per demand row and per base). A trial base is solved on a *neighbourhood* of rows R
and open bases S with every other flow held fixed, which is a feasible assignment of the whole
network. It is the optimum when the neighbourhood's new prices, joined to the old prices outside,
meet the LP optimality conditions on the pairs that cross the neighbourhood's edge: no pair
priced below its harm, and pairs carrying children priced exactly at it. A crossing pair that
fails brings its row or base into the neighbourhood and the LP is solved again; at worst the
neighbourhood becomes the whole connected network, so every value returned is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from sitefinder.model._highs import add_pair_columns, add_unit_columns, new_highs
from sitefinder.model.assign import SolverError
from sitefinder.model.network import DemandRows, Site, Solution, folded

_INF = highspy.kHighsInf
_PRICE_TOL = 1e-6  # harm points per child; HiGHS's dual tolerance is 1e-7
_FLOW_TOL = 1e-7  # children
_SURCHARGE = 1e-7  # harm points per child on trades across a neighbourhood's edge


@dataclass(frozen=True, slots=True)
class _Lp:
    """An optimal transportation LP: flows, unmet children and prices."""

    flow: NDArray[np.float64]
    unmet: NDArray[np.float64]
    row_price: NDArray[np.float64]  # harm averted by one more place for the row's children
    site_price: NDArray[np.float64]  # harm averted by one more place at the site, >= 0
    objective: float
    edge: NDArray[np.float64]  # values of the single-entry edge columns


@dataclass(frozen=True, slots=True)
class _Edge:
    """Single-entry columns: trading places across a neighbourhood's edge at the old prices."""

    index: NDArray[np.int32]  # LP row: demand rows first, then sites
    coef: NDArray[np.float64]
    cost: NDArray[np.float64]
    upper: NDArray[np.float64]
    grows: NDArray[np.intp]  # the open pair each column stands for

    @staticmethod
    def empty() -> _Edge:
        return _Edge(
            np.zeros(0, np.int32), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, np.intp)
        )


def _solve_lp(
    highs: highspy.Highs,
    rhs: NDArray[np.float64],
    capacity: NDArray[np.float64],
    pair_row: NDArray[np.intp],
    pair_site: NDArray[np.intp],
    pair_cost: NDArray[np.float64],
    unmet_cost: NDArray[np.float64],
    edge: _Edge,
) -> _Lp:
    """Solve the transportation LP on local indices and return primal and dual values."""
    n_rows, n_sites, n_pairs = len(rhs), len(capacity), len(pair_row)
    if n_rows == 0:
        return _Lp(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(n_sites), 0.0, np.zeros(0))
    highs.clearModel()
    lower = np.concatenate([rhs, np.full(n_sites, -_INF)])
    upper = np.concatenate([rhs, capacity])
    empty_index = np.zeros(0, dtype=np.int32)
    highs.addRows(n_rows + n_sites, lower, upper, 0, empty_index, empty_index, np.zeros(0))
    add_pair_columns(highs, pair_cost, pair_row, n_rows + pair_site)
    add_unit_columns(highs, unmet_cost, np.arange(n_rows))  # unmet slack per row
    add_unit_columns(highs, edge.cost, edge.index, coef=edge.coef, upper=edge.upper)
    highs.run()
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolverError(
            f"HiGHS could not solve the assignment: {highs.modelStatusToString(status)}"
        )
    solution = highs.getSolution()
    x = np.clip(np.asarray(solution.col_value), 0.0, None)
    dual = np.asarray(solution.row_dual)
    return _Lp(
        flow=x[:n_pairs],
        unmet=x[n_pairs : n_pairs + n_rows],
        row_price=dual[:n_rows],
        site_price=np.clip(-dual[n_rows:], 0.0, None),  # a <= row's dual is <= 0 when minimising
        objective=float(highs.getInfo().objective_function_value),
        edge=x[n_pairs + n_rows :],
    )


def _cheapest(group: NDArray[np.intp], value: NDArray[np.float64]) -> NDArray[np.intp]:
    """Positions of the smallest ``value`` within each ``group`` (one per group present)."""
    order = np.lexsort((value, group))
    first = np.ones(len(order), dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    return order[first]


def _distinct(values: NDArray[np.intp], size: int) -> NDArray[np.intp]:
    """The distinct ``values`` (each in ``0..size-1``), sorted, as :func:`numpy.unique` gives
    them; by a mask where they are many (a special school's pairs reach a whole authority:
    marking them is several times faster than hashing them)."""
    if len(values) * 16 < size:
        return np.unique(values)
    seen = np.zeros(size, dtype=bool)
    seen[values] = True
    return np.flatnonzero(seen)


def _spans(start: NDArray[np.intp], stop: NDArray[np.intp]) -> NDArray[np.intp]:
    """Concatenate ``arange(start[k], stop[k])`` over k without a Python loop."""
    lengths = stop - start
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    offsets = np.repeat(start - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total, dtype=np.intp)


@dataclass(frozen=True, slots=True)
class Trial:
    """A trial base solved exactly in its certified neighbourhood.

    Attributes
    ----------
    gain
        Harm points the base averts given the open network.
    rows, sites
        The neighbourhood: demand rows and open bases whose flows were free.
    solves
        LPs solved before the certificate held.
    """

    gain: float
    rows: NDArray[np.intp]
    sites: NDArray[np.intp]
    solves: int
    _free: NDArray[np.intp]
    _lp: _Lp


def _new_highs(*, presolve: bool) -> highspy.Highs:
    highs = new_highs()
    if not presolve:
        highs.setOptionValue("presolve", "off")  # twice as fast on neighbourhood LPs
    return highs


class Workspace:
    """A solver and scratch masks for trials: one per thread evaluating trials at once.

    HiGHS releases the GIL while it solves, so trials on several threads run side by side.
    """

    def __init__(self, n_rows: int, n_sites: int) -> None:
        self.highs = _new_highs(presolve=False)
        self.in_rows = np.zeros(n_rows, dtype=bool)  # always left all False
        self.in_sites = np.zeros(n_sites, dtype=bool)


class LocalNetwork:
    """The solved assignment of ``demand`` to open ``sites``, with exact local trials.

    Parameters
    ----------
    demand
        All demand rows.
    sites
        Bases open at the start; more are added with :meth:`open`.
    """

    def __init__(self, demand: DemandRows, sites: Sequence[Site]) -> None:
        self.demand = demand
        self.sites: list[Site] = list(sites)
        # Every open pair, grouped by site: site k owns pairs site_ptr[k]:site_ptr[k + 1].
        self._site_ptr = np.zeros(len(self.sites) + 1, dtype=np.intp)
        np.cumsum([len(s.rows) for s in self.sites], out=self._site_ptr[1:])
        self._pair_row = self._concat([s.rows for s in self.sites], np.intp)
        self._pair_site = np.repeat(
            np.arange(len(self.sites), dtype=np.intp), np.diff(self._site_ptr)
        )
        self._pair_harm = self._concat([s.harm for s in self.sites], np.float64)
        self._pair_minutes = self._concat([s.minutes for s in self.sites], np.float64)
        self._capacity = np.array([s.capacity for s in self.sites], dtype=np.float64)
        self._index_rows()
        self._solved = False
        self._work = self.workspace()

    @property
    def objective(self) -> float:
        """Total harm points of the open network (solving it if not yet solved)."""
        self.solve()
        return self._objective

    @property
    def unmet(self) -> NDArray[np.float64]:
        """Children of each demand row left without a place (solving it if not yet solved)."""
        self.solve()
        return self._unmet

    @property
    def solved(self) -> bool:
        """Whether the network's LP has been solved (it is, at the first trial)."""
        return self._solved

    def solve(self) -> None:
        """Solve the whole network, once, from scratch: flows, unmet children and prices
        (trials do this first; call it before trials on several threads)."""
        if self._solved:
            return
        demand = self.demand
        lp = _solve_lp(
            _new_highs(presolve=True),
            demand.children.astype(np.float64),
            self._capacity,
            self._pair_row,
            self._pair_site,
            self._pair_harm,
            demand.unmet_harm.astype(np.float64),
            _Edge.empty(),
        )
        self._flow = lp.flow
        self._unmet = lp.unmet
        self._row_price = lp.row_price
        self._site_price = lp.site_price
        self._objective = float(self._flow @ self._pair_harm + self._unmet @ demand.unmet_harm)
        self._solved = True

    def add(self, site: Site) -> None:
        """Open ``site`` before the network is solved (its LP is solved with it when first
        needed); after that, open sites with :meth:`open` and their trial."""
        if self._solved:
            raise ValueError("the network is solved: open a site with its trial")
        self._append(site)

    def _append(self, site: Site) -> int:
        """Add ``site``'s pairs and places to the open network; return its index."""
        new = len(self.sites)
        self.sites.append(site)
        self._site_ptr = np.append(self._site_ptr, self._site_ptr[-1] + len(site.rows))
        self._pair_row = np.concatenate([self._pair_row, site.rows.astype(np.intp)])
        self._pair_site = np.concatenate([self._pair_site, np.full(len(site.rows), new)])
        self._pair_harm = np.concatenate([self._pair_harm, site.harm])
        self._pair_minutes = np.concatenate([self._pair_minutes, site.minutes])
        self._capacity = np.append(self._capacity, site.capacity)
        self._work = self.workspace()
        self._index_rows()
        return new

    @staticmethod
    def _concat(parts: list[NDArray], dtype: type) -> NDArray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    def _index_rows(self) -> None:
        """Index open pairs by demand row (CSR): row r's pairs are ``by_row[ptr[r]:ptr[r + 1]]``."""
        self._by_row = np.argsort(self._pair_row, kind="stable")
        counts = np.bincount(self._pair_row, minlength=len(self.demand))
        self._row_ptr = np.zeros(len(self.demand) + 1, dtype=np.intp)
        np.cumsum(counts, out=self._row_ptr[1:])

    def _pairs_of_rows(self, rows: NDArray[np.intp]) -> NDArray[np.intp]:
        return self._by_row[_spans(self._row_ptr[rows], self._row_ptr[rows + 1])]

    def _pairs_of_sites(self, sites: NDArray[np.intp]) -> NDArray[np.intp]:
        return _spans(self._site_ptr[sites], self._site_ptr[sites + 1])

    def reach(self, rows: NDArray[np.intp]) -> NDArray[np.intp]:
        """Open sites with a pair to any of ``rows``."""
        return _distinct(self._pair_site[self._pairs_of_rows(rows)], len(self.sites))

    def rows_of(self, sites: NDArray[np.intp]) -> NDArray[np.intp]:
        """Demand rows any of the open ``sites`` may serve."""
        return _distinct(self._pair_row[self._pairs_of_sites(sites)], len(self.demand))

    def around(self, rows: NDArray[np.intp]) -> int:
        """Demand rows among ``rows`` and those the open sites reaching them may serve."""
        seen = np.zeros(len(self.demand), dtype=bool)
        seen[rows] = True
        seen[self._pair_row[self._pairs_of_sites(self.reach(rows))]] = True
        return int(np.count_nonzero(seen))

    def workspace(self) -> Workspace:
        """A new workspace for trials on another thread (until the next :meth:`open`)."""
        return Workspace(len(self.demand), len(self.sites))

    def trial(self, site: Site, *, work: Workspace | None = None) -> Trial:
        """Solve the network with ``site`` added, exactly, without changing it.

        Trials on different threads at once each need their own ``work`` space.
        """
        self.solve()
        work = self._work if work is None else work
        rows = np.unique(site.rows)
        sites = self.reach(rows)
        solves = 0
        while True:
            solves += 1
            trial, edge_rows, edge_sites = self._attempt(site, rows, sites, work)
            if not len(edge_rows) and not len(edge_sites):
                return Trial(trial.gain, rows, sites, solves, trial._free, trial._lp)
            rows = np.union1d(rows, self.rows_of(edge_sites))
            sites = np.union1d(sites, self.reach(edge_rows))

    def _attempt(
        self, site: Site, rows: NDArray[np.intp], sites: NDArray[np.intp], work: Workspace
    ) -> tuple[Trial, NDArray[np.intp], NDArray[np.intp]]:
        """Solve one neighbourhood; return it with the rows and sites failing the certificate."""
        in_rows, in_sites = work.in_rows, work.in_sites
        in_rows[rows] = True
        in_sites[sites] = True
        try:
            row_pairs = self._pairs_of_rows(rows)
            site_pairs = self._pairs_of_sites(sites)
            free = site_pairs[in_rows[self._pair_row[site_pairs]]]
            edge_out = row_pairs[~in_sites[self._pair_site[row_pairs]]]  # R to bases outside
            edge_in = site_pairs[~in_rows[self._pair_row[site_pairs]]]  # rows outside to S
        finally:
            in_rows[rows] = False
            in_sites[sites] = False
        n_rows = len(rows)
        row_local = np.searchsorted(rows, self._pair_row[free])
        site_local = np.searchsorted(sites, self._pair_site[free])
        fixed_out = np.bincount(
            np.searchsorted(rows, self._pair_row[edge_out]),
            weights=self._flow[edge_out],
            minlength=n_rows,
        )
        fixed_in = np.bincount(
            np.searchsorted(sites, self._pair_site[edge_in]),
            weights=self._flow[edge_in],
            minlength=len(sites),
        )
        rhs = np.clip(self.demand.children[rows] - fixed_out, 0.0, None)
        capacity = np.clip(self._capacity[sites] - fixed_in, 0.0, None)
        edge = self._edge(rows, sites, edge_out, edge_in)
        lp = _solve_lp(
            work.highs,
            rhs,
            np.append(capacity, site.capacity),
            np.concatenate([row_local, np.searchsorted(rows, site.rows)]),
            np.concatenate([site_local, np.full(len(site.rows), len(sites))]),
            np.concatenate([self._pair_harm[free], site.harm]).astype(np.float64),
            self.demand.unmet_harm[rows].astype(np.float64),
            edge,
        )
        traded = edge.grows[lp.edge > _FLOW_TOL]  # places worth moving across the edge
        before = float(
            self._flow[free] @ self._pair_harm[free]
            + self._unmet[rows] @ self.demand.unmet_harm[rows]
        )
        trial = Trial(before - lp.objective, rows, sites, 1, free, lp)
        # Crossing pairs: new prices inside, old outside; reduced cost = harm - row + site.
        out_cost = (
            self._pair_harm[edge_out]
            - lp.row_price[np.searchsorted(rows, self._pair_row[edge_out])]
            + self._site_price[self._pair_site[edge_out]]
        )
        in_cost = (
            self._pair_harm[edge_in]
            - self._row_price[self._pair_row[edge_in]]
            + lp.site_price[np.searchsorted(sites, self._pair_site[edge_in])]
        )
        bad_out = (out_cost < -_PRICE_TOL) | (
            (self._flow[edge_out] > _FLOW_TOL) & (out_cost > _PRICE_TOL)
        )
        bad_in = (in_cost < -_PRICE_TOL) | (
            (self._flow[edge_in] > _FLOW_TOL) & (in_cost > _PRICE_TOL)
        )
        # Rows whose outside bases, and bases whose outside rows, must join the neighbourhood.
        return (
            trial,
            np.union1d(self._pair_row[edge_out[bad_out]], self._pair_row[traded]),
            np.union1d(self._pair_site[edge_in[bad_in]], self._pair_site[traded]),
        )

    def _edge(
        self,
        rows: NDArray[np.intp],
        sites: NDArray[np.intp],
        edge_out: NDArray[np.intp],
        edge_in: NDArray[np.intp],
    ) -> _Edge:
        """Columns that let the neighbourhood trade places with the outside at the old prices.

        A row inside may take one more place at a base outside (harm + the base's price) or give
        one back; a base inside may give a place to a row outside (harm - the row's price) or
        take one back. Their LP prices then agree with the old ones outside wherever those
        columns stay at zero, which is the certificate; a column in use means the outside must
        change and its row or base joins the neighbourhood. The small surcharge keeps a column
        out of the solution when it only ties.
        """
        row_of_out = np.searchsorted(rows, self._pair_row[edge_out])
        site_of_in = np.searchsorted(sites, self._pair_site[edge_in])
        out_price = self._pair_harm[edge_out] + self._site_price[self._pair_site[edge_out]]
        in_price = self._pair_harm[edge_in] - self._row_price[self._pair_row[edge_in]]
        take = _cheapest(row_of_out, out_price)
        flowing_out = np.flatnonzero(self._flow[edge_out] > _FLOW_TOL)
        give = flowing_out[_cheapest(row_of_out[flowing_out], -out_price[flowing_out])]
        sell = _cheapest(site_of_in, in_price)
        flowing_in = np.flatnonzero(self._flow[edge_in] > _FLOW_TOL)
        back = flowing_in[_cheapest(site_of_in[flowing_in], -in_price[flowing_in])]
        n_rows = len(rows)
        inf = np.full(len(take) + len(sell), _INF)
        return _Edge(
            index=np.concatenate(
                [
                    row_of_out[take],
                    row_of_out[give],
                    n_rows + site_of_in[sell],
                    n_rows + site_of_in[back],
                ]
            ).astype(np.int32),
            coef=np.concatenate(
                [np.ones(len(take)), -np.ones(len(give)), np.ones(len(sell)), -np.ones(len(back))]
            ),
            cost=np.concatenate(
                [out_price[take], -out_price[give], in_price[sell], -in_price[back]]
            )
            + _SURCHARGE,
            upper=np.concatenate(
                [
                    inf[: len(take)],
                    self._flow[edge_out[give]],
                    inf[len(take) :],
                    self._flow[edge_in[back]],
                ]
            ),
            grows=np.concatenate([edge_out[take], edge_out[give], edge_in[sell], edge_in[back]]),
        )

    def solutions(self, site: Site, trial: Trial) -> tuple[Solution, Solution]:
        """The neighbourhood's assignment before and after ``site`` opens.

        Pairs are every open pair of the neighbourhood's rows (their flows to bases outside it
        are the same in both) plus, after, the new site's pairs with site index
        ``len(self.sites)``. Unmet children are given for the neighbourhood's rows only.
        """
        n = len(self.demand)
        row_pairs = self._pairs_of_rows(trial.rows)
        after_flow = self._flow.copy()
        after_flow[trial._free] = trial._lp.flow[: len(trial._free)]
        mask = np.zeros(n, dtype=bool)
        mask[trial.rows] = True
        unmet_before = np.zeros(n)
        unmet_before[trial.rows] = self._unmet[trial.rows]
        unmet_after = np.zeros(n)
        unmet_after[trial.rows] = trial._lp.unmet
        new = len(site.rows)
        opened = [*self.sites, site]
        before = folded(
            opened,
            self._pair_row[row_pairs],
            self._pair_site[row_pairs],
            self._pair_minutes[row_pairs],
            self._pair_harm[row_pairs],
            self._flow[row_pairs],
            unmet_before,
            mask,
            float(self._flow[row_pairs] @ self._pair_harm[row_pairs])
            + float(unmet_before @ self.demand.unmet_harm),
        )
        after = folded(
            opened,
            np.concatenate([self._pair_row[row_pairs], site.rows]),
            np.concatenate([self._pair_site[row_pairs], np.full(new, len(self.sites))]),
            np.concatenate([self._pair_minutes[row_pairs], site.minutes]),
            np.concatenate([self._pair_harm[row_pairs], site.harm]),
            np.concatenate([after_flow[row_pairs], trial._lp.flow[len(trial._free) :]]),
            unmet_after,
            mask,
            before.objective - trial.gain,
        )
        return before, after

    def open(self, site: Site, trial: Trial) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Open ``site`` with the flows and prices of its ``trial``.

        Returns
        -------
        rows, sites
            The demand rows and open sites (the new one included) whose flows or prices changed.
        """
        lp, free, rows = trial._lp, trial._free, trial.rows
        n_free = len(free)
        changed_pairs = free[np.abs(self._flow[free] - lp.flow[:n_free]) > _FLOW_TOL]
        changed_rows = (np.abs(self._row_price[rows] - lp.row_price) > _PRICE_TOL) | (
            np.abs(self._unmet[rows] - lp.unmet) > _FLOW_TOL
        )
        changed_sites = np.abs(self._site_price[trial.sites] - lp.site_price[:-1]) > _PRICE_TOL
        touched_rows = np.union1d(rows[changed_rows], self._pair_row[changed_pairs])
        touched_sites = np.union1d(trial.sites[changed_sites], self._pair_site[changed_pairs])

        self._flow[free] = lp.flow[:n_free]
        self._unmet[rows] = lp.unmet
        self._row_price[rows] = lp.row_price
        self._site_price[trial.sites] = lp.site_price[:-1]
        self._objective -= trial.gain
        new = self._append(site)
        self._flow = np.concatenate([self._flow, lp.flow[n_free:]])
        self._site_price = np.append(self._site_price, lp.site_price[-1])
        return np.union1d(touched_rows, site.rows), np.append(touched_sites, new)
