"""HiGHS helpers: one way to make a solver, one way to solve a MIP from arrays.

Every HiGHS object sitefinder makes comes from :func:`new_highs`: quiet on stdout (sitefinder
writes CSV and JSON for other programs), a fixed random seed and a fixed thread count, so the
same model gives the same answer on any machine and in every command. HiGHS's thread scheduler
is shared by the whole process and takes the thread count of the first solve, so every solver
must ask for the same count.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

DUAL_TOL = 1e-7
"""HiGHS's dual feasibility tolerance (harm points per child in the assignment LPs): LP prices
and reduced costs are exact to about this much."""
THREADS = 1
"""HiGHS threads per process: MIP search paths depend on it, so it is fixed, not automatic."""
SEED = 0


@functools.cache
def silence_banner() -> None:
    """Construct the process's first ``highspy.Highs`` with the C stdout pointed at /dev/null.

    HiGHS prints a copyright banner straight to file descriptor 1 the first time a solver object
    is made in a process (before any option can turn output off); later ones are silent.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with Path(os.devnull).open("w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
            _flush_c_stdout()  # the banner sits in C's buffer until flushed
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _flush_c_stdout() -> None:
    libc = ctypes.CDLL(None)
    libc.fflush(None)


def new_highs() -> highspy.Highs:
    """A quiet HiGHS solver with sitefinder's fixed seed and thread count."""
    silence_banner()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("random_seed", SEED)
    highs.setOptionValue("threads", THREADS)
    return highs


def copy_at_basis(highs: highspy.Highs) -> highspy.Highs:
    """A new solver holding ``highs``'s LP at its current basis (milliseconds, where solving
    the LP again from scratch takes seconds on a large authority)."""
    h = new_highs()
    h.passModel(highs.getLp())
    h.setBasis(highs.getBasis())
    return h


def _run(highs: highspy.Highs) -> None:
    """Run ``highs``; if another library already started HiGHS's scheduler with a different
    thread count, accept that count rather than fail (the answer may then depend on it)."""
    if highs.run() == highspy.HighsStatus.kError and (
        highs.getModelStatus() == highspy.HighsModelStatus.kNotset
    ):
        highs.setOptionValue("threads", 0)
        highs.run()


def add_pair_columns(
    highs: Any, cost: NDArray[np.float64], demand_row: NDArray[Any], site_row: NDArray[Any]
) -> None:
    """Add one flow column per (row, site) pair: coefficient 1 in its demand and site rows."""
    n = len(cost)
    index = np.empty(2 * n, dtype=np.int32)
    index[0::2] = demand_row
    index[1::2] = site_row
    highs.addCols(
        n,
        np.asarray(cost, dtype=np.float64),
        np.zeros(n),
        np.full(n, highs.inf),
        2 * n,
        np.arange(0, 2 * n, 2, dtype=np.int32),
        index,
        np.ones(2 * n),
    )


def add_unit_columns(
    highs: Any,
    cost: NDArray[np.float64],
    row: NDArray[Any],
    *,
    coef: NDArray[np.float64] | None = None,
    upper: NDArray[np.float64] | None = None,
) -> None:
    """Add columns of one entry each (unmet-need slacks, trades), unbounded unless ``upper``."""
    n = len(cost)
    highs.addCols(
        n,
        np.asarray(cost, dtype=np.float64),
        np.zeros(n),
        np.full(n, highs.inf) if upper is None else upper,
        n,
        np.arange(n, dtype=np.int32),
        np.asarray(row, dtype=np.int32),
        np.ones(n) if coef is None else coef,
    )


@dataclass(frozen=True, slots=True)
class MipModel:
    """Minimise ``cost @ x + offset`` subject to column bounds, integrality and row bounds.

    Attributes
    ----------
    cost, lower, upper, integer
        Objective coefficient, bounds and integrality of each column, shape (n_cols,).
    a, row_lower, row_upper
        Constraint matrix (n_rows, n_cols) and row bounds (use +-inf for one-sided rows).
    offset
        Constant added to the objective.
    """

    cost: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    integer: NDArray[np.bool_]
    a: sparse.csr_array
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    offset: float = 0.0


_HEURISTICS = (
    "mip_heuristic_run_rins",
    "mip_heuristic_run_rens",
    "mip_heuristic_run_root_reduced_cost",
    "mip_heuristic_run_feasibility_jump",
)


@dataclass(frozen=True, slots=True)
class MipLimits:
    """When HiGHS stops.

    Attributes
    ----------
    rel_gap, abs_gap
        HiGHS stops and reports optimal once ``upper - bound <= max(abs_gap, rel_gap *
        |upper|)`` (objective units).
    node_limit
        Branch-and-bound nodes; the deciding limit, deterministic (None: no limit).
    time_limit
        Wall-clock seconds; a safety net only, since where it stops depends on the machine
        (None: no limit).
    heuristics
        Run HiGHS's own primal heuristics (RINS, RENS, root reduced cost, feasibility jump).
        Off when the caller gives a good start: each heuristic is a sub-MIP that re-solves
        the large root LP.
    restarts
        Let HiGHS restart its search after fixing columns at the root (each restart solves
        the root LP again).
    """

    rel_gap: float = 1e-7
    abs_gap: float = 1e-6
    node_limit: int | None = None
    time_limit: float | None = None
    heuristics: bool = True
    restarts: bool = True

    def proven(self, upper: float, bound: float) -> bool:
        """Whether ``upper`` is within these gaps of the lower ``bound``: proven optimal."""
        return math.isfinite(bound) and upper - bound <= max(
            self.abs_gap, self.rel_gap * abs(upper)
        )


@dataclass(frozen=True, slots=True)
class MipResult:
    """What HiGHS returned for one mixed-integer programme.

    Attributes
    ----------
    x
        Best solution found (None when none was found).
    objective
        Its objective value including the offset (inf when none).
    bound
        HiGHS's dual bound including the offset (a valid lower bound for a minimisation).
    optimal
        True when HiGHS reports the model solved to optimality within the gap tolerance.
    status
        HiGHS model status, as text.
    reduced
        Reduced costs of the columns when the model was solved as an LP, else None.
    limit
        ``""`` when HiGHS finished, ``"nodes"`` when the node limit stopped it, ``"time"``
        when the wall-clock safety net did.
    nodes
        Branch-and-bound nodes explored (0 for an LP).
    """

    x: NDArray[np.float64] | None
    objective: float
    bound: float
    optimal: bool
    status: str
    reduced: NDArray[np.float64] | None = None
    limit: str = ""
    nodes: int = 0


def pass_model(h: highspy.Highs, model: MipModel) -> None:
    """Give ``model`` to the solver ``h`` (its columns, rows, bounds and integrality)."""
    n_cols = len(model.cost)
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = model.a.shape[0]
    lp.col_cost_ = np.asarray(model.cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(model.lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(model.upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(model.row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(model.row_upper, dtype=np.float64)
    lp.offset_ = float(model.offset)
    csr = sparse.csr_array(model.a)
    csr.sum_duplicates()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = model.a.shape[0]
    lp.a_matrix_.start_ = csr.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csr.indices.astype(np.int32)
    lp.a_matrix_.value_ = csr.data.astype(np.float64)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
        for flag in np.asarray(model.integer, dtype=bool)
    ]
    h.passModel(lp)


def solve_highs(
    model: MipModel, *, start: NDArray[np.float64] | None = None, limits: MipLimits | None = None
) -> MipResult:
    """Solve ``model`` with HiGHS (a MIP, or an LP when no column is integer).

    Parameters
    ----------
    model
        The programme as arrays.
    start
        A feasible starting solution (all columns), passed to HiGHS as a MIP start.
    limits
        Gaps and limits (default :class:`MipLimits`).

    Returns
    -------
    MipResult
        Best solution, its objective, the dual bound, whether it is proven optimal and which
        limit, if any, stopped the search.
    """
    limits = limits or MipLimits()
    h = new_highs()
    h.setOptionValue("mip_rel_gap", float(limits.rel_gap))
    h.setOptionValue("mip_abs_gap", float(limits.abs_gap))
    if limits.node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(limits.node_limit))
    if limits.time_limit is not None:
        h.setOptionValue("time_limit", max(float(limits.time_limit), 0.01))
    if not limits.heuristics:
        for name in _HEURISTICS:
            h.setOptionValue(name, False)
    if not limits.restarts:
        h.setOptionValue("mip_allow_restart", False)
    pass_model(h, model)
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = np.asarray(start, dtype=np.float64).tolist()
        solution.value_valid = True
        h.setSolution(solution)
    _run(h)
    status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_solution else None
    objective = float(info.objective_function_value) if has_solution else float("inf")
    optimal = status == highspy.HighsModelStatus.kOptimal
    bound = float(info.mip_dual_bound)
    reduced = None
    if not np.asarray(model.integer, dtype=bool).any():
        # A pure LP: its optimum is the bound, and reduced costs allow fixing.
        bound = objective if optimal else -np.inf
        if optimal:
            reduced = np.asarray(h.getSolution().col_dual, dtype=np.float64)
    elif optimal and not np.isfinite(bound):
        bound = objective
    limit = (
        ""
        if optimal
        else "time"
        if status == highspy.HighsModelStatus.kTimeLimit
        else "nodes"
        if status
        in (highspy.HighsModelStatus.kSolutionLimit, highspy.HighsModelStatus.kIterationLimit)
        else ""
    )
    nodes = int(info.mip_node_count) if np.asarray(model.integer, dtype=bool).any() else 0
    return MipResult(
        x, objective, bound, optimal, h.modelStatusToString(status), reduced, limit, nodes
    )
