"""Trials on a large warm LP's promising columns only; the others priced after every solve.

A trial opens one base of a few places. At its optimum nearly every pair whose reduced cost
at the network's optimum was well above zero still carries no child, yet each such column
costs the dual simplex time in every iteration. So a large LP's trials run on a copy of it
holding only its pairs (and the trial base's) within :data:`PARK` of zero reduced cost; the
rest are *parked*. After every solve the parked pairs are priced with the new duals: any that
would lower the harm (reduced cost below -``DUAL_TOL``, HiGHS's own dual tolerance) joins the
LP, which is solved again from where it stopped, until none would. That is the simplex
method's own optimality test over every column, so each trial's value is the whole LP's
optimum.

Lambeth (synthetic England, 12,552 demand rows, 78 open bases, 276,037 columns) keeps about
67,000 columns at a tenth (:data:`PARK`): 31 trials took 11.8 s against 46.3 s on the whole LP,
with the same values (measured 7 December 2026); Bromley (7,224 rows), 1.8 s against 3.1 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from sitefinder.model._highs import DUAL_TOL, add_pair_columns
from sitefinder.model.assign import SolverError

PARK = 0.05
"""Reduced cost, as a share of the least harm of leaving one of the LP's children without a
place (about 1.05 harm points), above which a pair waits outside the trial LP. A twentieth was
the quickest measured (Bromley's 63 trials 2.0 s, against 2.5 s at a tenth and 2.2 s at a
fiftieth, where ever more pairs come back; Lambeth's 41, 10.3 s against 11.7 s and 10.1 s)."""

_INF = highspy.kHighsInf
_DUAL = 1  # HiGHS simplex_strategy: the dual simplex
_NO_INDEX = np.zeros(0, dtype=np.int32)
_NO_VALUE = np.zeros(0)


@dataclass(frozen=True, slots=True)
class Pairs:
    """One open base's pair columns in a warm LP: its capacity row, the columns, the rows
    (positions among the LP's demand rows) and each pair's harm per child (harm points)."""

    row: int
    columns: NDArray[np.int32]
    rows: NDArray[np.int64]
    cost: NDArray[np.float64]


def install_slot(highs: highspy.Highs, rows: int) -> tuple[int, NDArray[np.int32]]:
    """Add a closed trial base: a capacity row of no places and a column from each of the
    first ``rows`` rows to it, fixed at zero; return the row and the columns."""
    row = highs.getNumRow()
    highs.addRow(-_INF, 0.0, 0, _NO_INDEX, _NO_VALUE)
    first = highs.getNumCol()
    add_pair_columns(highs, np.zeros(rows), np.arange(rows), np.full(rows, row))
    columns = np.arange(first, first + rows, dtype=np.int32)
    highs.changeColsBounds(rows, columns, np.zeros(rows), np.zeros(rows))
    return row, columns


def solve(highs: highspy.Highs, *, stop_at: float = np.inf) -> float:
    """Run ``highs`` and return its optimal objective (harm points); :class:`SolverError`
    when it found none (0 for a model with no children).

    With a finite ``stop_at`` (harm points) the dual simplex may stop as soon as it proves the
    optimum is at least that (HiGHS's ``objective_bound``): the value returned is then a lower
    bound on the optimum, at least ``stop_at``, up to the dual tolerance (``DUAL_TOL`` per child
    or place in the LP). Any value below ``stop_at`` is the optimum.
    """
    bounded = bool(np.isfinite(stop_at))
    if bounded:
        highs.setOptionValue("objective_bound", float(stop_at))
    try:
        highs.run()
    finally:
        if bounded:  # later solves of this LP run to the optimum
            highs.setOptionValue("objective_bound", _INF)
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kModelEmpty:
        return 0.0
    if bounded and status == highspy.HighsModelStatus.kObjectiveBound:
        return max(float(highs.getInfo().objective_function_value), float(stop_at))
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolverError(
            f"HiGHS could not solve the assignment: {highs.modelStatusToString(status)}"
        )
    return float(highs.getInfo().objective_function_value)


class ReducedTrials:
    """Trials of one base at a time on a solved LP's columns near zero reduced cost.

    Parameters
    ----------
    highs
        A copy of the solved LP at its optimal basis, no trial slot; this object owns it.
        Its first ``rows`` rows are the demand rows, whose duals are ``prices``.
    rows
        Demand rows in the LP.
    pairs
        Every open base's pair columns (closed bases' columns, fixed at zero, stay).
    prices
        The optimum's dual of each demand row (harm points per child).
    site_prices
        The optimum's price of one more place at each base of ``pairs`` (harm points, >= 0).
    park
        Reduced cost (harm points per child) above which a pair is parked.
    """

    def __init__(
        self,
        highs: highspy.Highs,
        *,
        rows: int,
        pairs: Sequence[Pairs],
        prices: NDArray[np.float64],
        site_prices: NDArray[np.float64],
        park: float,
    ) -> None:
        self._highs, self._prices, self._park = highs, prices, park
        parked_columns, demand, capacity, cost = [], [], [], []
        for base, price in zip(pairs, site_prices, strict=True):
            reduced = base.cost - prices[base.rows] + price
            # Basic columns have zero reduced cost, so only non-basic ones are parked.
            out = reduced > park
            parked_columns.append(base.columns[out])
            demand.append(base.rows[out])
            capacity.append(np.full(int(out.sum()), base.row, dtype=np.int64))
            cost.append(base.cost[out])
        columns = np.concatenate([np.zeros(0, dtype=np.int32), *parked_columns])
        self._demand = np.concatenate([np.zeros(0, dtype=np.int64), *demand])
        self._capacity = np.concatenate([np.zeros(0, dtype=np.int64), *capacity])
        self._cost = np.concatenate([np.zeros(0), *cost])
        if len(columns):
            highs.deleteCols(len(columns), np.sort(columns).astype(np.int32))
        self._rows = rows
        self._slot_row, self._slot = install_slot(highs, rows)
        highs.setOptionValue("simplex_strategy", _DUAL)
        self.joined = 0  # parked pairs that came back into the LP

    def trial(
        self,
        rows: NDArray[np.int64],
        cost: NDArray[np.float64],
        capacity: float,
        *,
        stop_at: float = np.inf,
    ) -> float:
        """Total harm of the LP with a base of ``capacity`` places reaching ``rows`` (their
        positions in the LP) at ``cost`` harm points per child (harm points); once it is
        proven at least ``stop_at``, a lower bound on it instead (:func:`solve`).

        A solve stopped at ``stop_at`` proves it for the whole LP only if no parked pair
        would lower the harm at its duals: those that would join, as after an optimum."""
        h, n = self._highs, self._rows
        full_cost, upper = np.zeros(n), np.zeros(n)
        full_cost[rows] = cost
        near = cost - self._prices[rows] <= self._park  # the new base's own price starts at 0
        upper[rows[near]] = _INF
        h.changeColsCost(n, self._slot, full_cost)
        h.changeColsBounds(n, self._slot, np.zeros(n), upper)
        h.changeRowBounds(self._slot_row, -_INF, float(capacity))
        waiting_rows, waiting_cost = rows[~near], cost[~near]
        while True:
            objective = solve(h, stop_at=stop_at)
            duals = np.asarray(h.getSolution().row_dual)
            back = self._cost - duals[self._demand] - duals[self._capacity] < -DUAL_TOL
            slot_back = waiting_cost - duals[waiting_rows] - duals[self._slot_row] < -DUAL_TOL
            if not back.any() and not slot_back.any():
                return objective
            if back.any():
                add_pair_columns(h, self._cost[back], self._demand[back], self._capacity[back])
                keep = ~back
                self._demand, self._capacity = self._demand[keep], self._capacity[keep]
                self._cost = self._cost[keep]
            if slot_back.any():
                k = int(slot_back.sum())
                h.changeColsBounds(
                    k, self._slot[waiting_rows[slot_back]], np.zeros(k), np.full(k, _INF)
                )
                waiting_rows, waiting_cost = waiting_rows[~slot_back], waiting_cost[~slot_back]
            self.joined += int(back.sum() + slot_back.sum())
