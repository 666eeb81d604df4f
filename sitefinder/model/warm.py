"""Trial bases on a warm assignment LP: add a site, re-solve from the last basis, take it away.

Ranking evaluates hundreds of candidate bases against the same network. Rebuilding the
transportation LP for each costs most of the time on a real authority (tens of milliseconds
each); keeping one HiGHS model per class component and adding only the trial site's columns
and capacity row lets the dual simplex restart from the previous optimal basis, several times
faster with the same optimum.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import highspy
import numpy as np
from numpy.typing import NDArray

from sitefinder.model._highs import add_pair_columns, add_unit_columns, new_highs
from sitefinder.model.assign import SolverError
from sitefinder.model.bounds import EasedPrices, gain_bound
from sitefinder.model.network import DemandRows, Site

_INF = highspy.kHighsInf
_NO_INDEX = np.zeros(0, dtype=np.int32)
_NO_VALUE = np.zeros(0)


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
    """

    def __init__(self, demand: DemandRows, sites: Sequence[Site], rows: NDArray[np.intp]) -> None:
        self._local = np.full(len(demand), -1, dtype=np.int64)
        self._local[rows] = np.arange(len(rows))
        self._highs = new_highs()
        h = self._highs
        n = len(rows)
        children = demand.children[rows].astype(np.float64)
        h.addRows(n, children, children, 0, _NO_INDEX, _NO_INDEX, _NO_VALUE)
        add_unit_columns(h, demand.unmet_harm[rows], np.arange(n))  # unmet slack per row
        for site in sites:
            self._add_site(site)
        self._base_cols = h.getNumCol()
        self._base_rows = h.getNumRow()
        self.objective = self._solve()
        # The prices of one more child in each row (harm points): any optimal duals bound
        # what a trial site can gain (:func:`sitefinder.model.bounds.gain_bound`).
        self.prices = np.full(len(demand), np.nan)
        duals = np.asarray(h.getSolution().row_dual) if n else np.zeros(0)
        if n:
            self.prices[rows] = duals[:n]
        self._demand, self._rows, self._sites = demand, rows, list(sites)
        # The open bases' prices of one more place (harm points; a row dual of a <= row is <= 0).
        self._site_prices = -duals[n : n + len(self._sites)] if n else np.zeros(len(sites))
        self._eased: EasedPrices | None = None

    def _add_site(self, site: Site) -> int:
        """Add ``site``'s capacity row and pair columns; return the number of columns."""
        h = self._highs
        row = h.getNumRow()
        h.addRow(-_INF, float(site.capacity), 0, _NO_INDEX, _NO_VALUE)
        local = self._local[site.rows]
        keep = local >= 0
        n = int(keep.sum())
        if n == 0:
            return 0
        add_pair_columns(h, site.harm[keep], local[keep], np.full(n, row))
        return n

    def _solve(self) -> float:
        h = self._highs
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kModelEmpty:  # no children in these classes
            return 0.0
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverError(
                f"HiGHS could not solve the assignment: {h.modelStatusToString(status)}"
            )
        return float(h.getInfo().objective_function_value)

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

    def trial(self, site: Site) -> float:
        """Total harm of the component with ``site`` added (harm points); the model is restored."""
        h = self._highs
        n = self._add_site(site)
        try:
            return self._solve()
        finally:
            if n:
                columns: NDArray[np.int32] = np.arange(
                    self._base_cols, self._base_cols + n, dtype=np.int32
                )
                h.deleteCols(n, columns)
            h.deleteRows(1, np.array([self._base_rows], dtype=np.int32))


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

    def rows_reached(self, site: Site) -> int:
        """Demand rows in the components ``site`` would join (0 when it reaches no child)."""
        components = self._components
        return sum(len(components.rows[r]) for r in components.roots(site))

    def _model(self, key: frozenset[int]) -> WarmTransport:
        if key in self._warm:
            self._warm.move_to_end(key)
        else:
            rows, sites = self._components.members(key)
            self._warm[key] = WarmTransport(self._demand, sites, rows)
            if len(self._warm) > self._keep:
                self._warm.popitem(last=False)
        return self._warm[key]

    def gain(self, site: Site) -> float:
        """Harm points ``site`` would avert added to the open network."""
        key = self._components.roots(site)
        if not key:
            return 0.0
        model = self._model(key)
        return model.objective - model.trial(site)

    def bound(self, site: Site, *, enough: float = -np.inf) -> float:
        """An upper bound on :meth:`gain` from the open network's LP prices, without a trial
        (harm points; up to the LP's dual tolerance, about 1e-7 per child); the tighter one
        only when the cheap one is above ``enough`` (:meth:`WarmTransport.bound`)."""
        key = self._components.roots(site)
        if not key:
            return 0.0
        return self._model(key).bound(site, enough=enough)

    def open(self, site: Site) -> frozenset[int]:
        """Open ``site``; return the components it merged (their LPs are dropped)."""
        touched = self._components.roots(site)
        self._components.open(site)
        for key in [key for key in self._warm if key & touched]:
            del self._warm[key]
        return touched

    def stale(self, site: Site, touched: frozenset[int]) -> bool:
        """Whether ``site``'s value changed when the ``touched`` components merged."""
        return bool(touched & self._components.roots(site))
