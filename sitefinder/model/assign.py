"""Capacitated assignment of children to bases, solved exactly as a linear programme.

This is a transportation problem: demand rows (children of one phase and need group in one
area) are sent to open bases along allowed pairs at a harm per child, bases hold at most their
capacity, and any child left over carries the unmet-need harm. HiGHS (through scipy) solves it.
The core takes plain arrays so it can be checked on hand-solved cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog


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
    pair_row, pair_col, pair_cost = pairs.row, pairs.col, pairs.cost
    n_rows, n_sites, n_pairs = len(demand), len(capacity), len(pair_row)
    if n_pairs == 0:
        unmet = np.asarray(demand, dtype=np.float64).copy()
        price = np.asarray(unmet_cost, dtype=np.float64).copy()
        return AssignmentResult(np.zeros(0), unmet, float(unmet @ unmet_cost), price)
    # Variables: one flow per pair, then one unmet slack per row.
    cost = np.concatenate([pair_cost, unmet_cost])
    order = np.arange(n_pairs)
    a_eq = sparse.hstack(
        [
            sparse.csr_array((np.ones(n_pairs), (pair_row, order)), shape=(n_rows, n_pairs)),
            sparse.eye_array(n_rows, format="csr"),
        ],
        format="csr",
    )
    a_ub = sparse.hstack(
        [
            sparse.csr_array((np.ones(n_pairs), (pair_col, order)), shape=(n_sites, n_pairs)),
            sparse.csr_array((n_sites, n_rows)),
        ],
        format="csr",
    )
    result = linprog(
        cost,
        A_ub=a_ub,
        b_ub=capacity,
        A_eq=a_eq,
        b_eq=demand,
        bounds=(0, None),
        method="highs",
    )
    if result.status != 0:
        raise SolverError(f"HiGHS could not solve the assignment: {result.message}")
    x = np.clip(result.x, 0.0, None)
    price = np.asarray(result.eqlin.marginals, dtype=np.float64)
    return AssignmentResult(x[:n_pairs], x[n_pairs:], float(result.fun), price)
