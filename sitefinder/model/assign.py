"""Capacitated assignment of children to bases, solved exactly as a linear programme.

This is a transportation problem: demand rows (children of one phase and need group in one
area) are sent to open bases along allowed pairs at a harm per child, bases hold at most their
capacity, and any child left over carries the unmet-need harm. HiGHS solves it with the dual
simplex. The core takes plain arrays so it can be checked on hand-solved cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # imported where an LP is solved: `validate` needs only this module's types
    import highspy

_DUAL = 1  # HiGHS simplex_strategy: the serial dual simplex


@dataclass(frozen=True, slots=True)
class AssignmentResult:
    """An optimal assignment.

    Attributes
    ----------
    flows
        Children sent along each allowed pair, aligned with the input pair arrays.
    unmet
        Children of each demand row left without a place.
    objective
        Total harm points: pair costs times flows plus unmet-need harm.
    row_price
        Optimal LP price of each demand row: the harm points one more child there would add
        (the duals of the demand rows; any optimal set of them).
    """

    flows: NDArray[np.float64]
    unmet: NDArray[np.float64]
    objective: float
    row_price: NDArray[np.float64] | None = None


@dataclass(frozen=True, slots=True)
class Pairs:
    """The allowed (demand row, site) pairs and the harm points per child on each.

    Attributes
    ----------
    row, col
        Demand row and site index of each pair, shape (n_pairs,).
    cost
        Harm points per child sent along each pair, shape (n_pairs,).
    """

    row: NDArray[np.intp]
    col: NDArray[np.intp]
    cost: NDArray[np.float64]


class SolverError(RuntimeError):
    """HiGHS did not return an optimal solution (should not happen: the LP is always feasible)."""


def solve_transport(
    demand: NDArray[np.float64],
    capacity: NDArray[np.float64],
    pairs: Pairs,
    unmet_cost: NDArray[np.float64],
) -> AssignmentResult:
    """Assign demand to capacitated sites along allowed pairs at least total cost.

    Parameters
    ----------
    demand
        Children in each demand row, shape (n_rows,), >= 0.
    capacity
        Places at each site, shape (n_sites,), >= 0.
    pairs
        The allowed (row, site) pairs and the harm points per child on each, shape (n_pairs,).
    unmet_cost
        Harm points per child left without a place, shape (n_rows,).

    Returns
    -------
    AssignmentResult
        Optimal flows per pair, unmet children per row, and the total harm.
    """
    n_sites, n_pairs = len(capacity), len(pairs.row)
    if n_pairs == 0:
        unmet = np.asarray(demand, dtype=np.float64).copy()
        price = np.asarray(unmet_cost, dtype=np.float64).copy()
        return AssignmentResult(np.zeros(0), unmet, float(unmet @ unmet_cost), price)
    import highspy

    from sitefinder.model._highs import _run, new_highs

    highs = new_highs()
    highs.setOptionValue("simplex_strategy", _DUAL)
    highs.passModel(_transport_lp(demand, capacity, pairs, unmet_cost))
    _run(highs)
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolverError(
            f"HiGHS could not solve the assignment: {highs.modelStatusToString(status)}"
        )
    solution = highs.getSolution()
    x = np.clip(np.asarray(solution.col_value, dtype=np.float64), 0.0, None)
    price = np.asarray(solution.row_dual, dtype=np.float64)[n_sites:]
    objective = float(highs.getInfo().objective_function_value)
    return AssignmentResult(x[:n_pairs], x[n_pairs:], objective, price)


def _transport_lp(
    demand: NDArray[np.float64],
    capacity: NDArray[np.float64],
    pairs: Pairs,
    unmet_cost: NDArray[np.float64],
) -> highspy.HighsLp:
    """The LP by columns: one flow per pair, then one unmet slack per demand row; rows are the
    sites' capacities (<=), then the demand rows (=)."""
    import highspy

    n_rows, n_sites, n_pairs = len(demand), len(capacity), len(pairs.row)
    n_cols = n_pairs + n_rows
    # A pair's column has a 1 in its site's row and in its demand row (after the site rows).
    index = np.empty(2 * n_pairs + n_rows, dtype=np.int32)
    index[0 : 2 * n_pairs : 2] = pairs.col
    index[1 : 2 * n_pairs : 2] = n_sites + np.asarray(pairs.row)
    index[2 * n_pairs :] = n_sites + np.arange(n_rows)
    start = np.concatenate(
        [np.arange(0, 2 * n_pairs, 2), 2 * n_pairs + np.arange(n_rows + 1)]
    ).astype(np.int32)
    demand = np.asarray(demand, dtype=np.float64)
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_sites + n_rows
    lp.col_cost_ = np.concatenate([pairs.cost, unmet_cost]).astype(np.float64)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.full(n_cols, highspy.kHighsInf)
    lp.row_lower_ = np.concatenate([np.full(n_sites, -highspy.kHighsInf), demand])
    lp.row_upper_ = np.concatenate([np.asarray(capacity, dtype=np.float64), demand])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_sites + n_rows
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = np.ones(len(index))
    return lp
