"""Trial bases on a warm assignment LP: add a site, re-solve from the last basis, take it away.

Ranking evaluates hundreds of candidate bases against the same network. Rebuilding the
transportation LP for each costs most of the time on a real authority (tens of milliseconds
each); keeping one HiGHS model per class component and adding only the trial site's columns
and capacity row lets the dual simplex restart from the previous optimal basis, several times
faster with the same optimum.
"""

from __future__ import annotations

from collections.abc import Sequence

import highspy
import numpy as np
from numpy.typing import NDArray

from sitefinder.model._highs import silence_banner
from sitefinder.model.assign import SolverError
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
        silence_banner()
        self._local = np.full(len(demand), -1, dtype=np.int64)
        self._local[rows] = np.arange(len(rows))
        self._highs = highspy.Highs()
        self._highs.setOptionValue("output_flag", False)
        h = self._highs
        n = len(rows)
        children = demand.children[rows].astype(np.float64)
        h.addRows(n, children, children, 0, _NO_INDEX, _NO_INDEX, _NO_VALUE)
        # Each row's unmet slack: one column in its own demand row.
        h.addCols(
            n,
            demand.unmet_harm[rows].astype(np.float64),
            np.zeros(n),
            np.full(n, _INF),
            n,
            np.arange(n, dtype=np.int32),
            np.arange(n, dtype=np.int32),
            np.ones(n),
        )
        for site in sites:
            self._add_site(site)
        self._base_cols = h.getNumCol()
        self._base_rows = h.getNumRow()
        self.objective = self._solve()

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
        index = np.empty(2 * n, dtype=np.int32)
        index[0::2] = local[keep]
        index[1::2] = row
        h.addCols(
            n,
            site.harm[keep].astype(np.float64),
            np.zeros(n),
            np.full(n, _INF),
            2 * n,
            np.arange(0, 2 * n, 2, dtype=np.int32),
            index,
            np.ones(2 * n),
        )
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
