"""A capital budget on a selection: the opened candidates' capital together at most a sum.

The budget is one knapsack row of the selection MIP and of the Benders master,
``sum_j cost_j y_j <= budget`` (scaled by the budget, so its coefficients are shares of it),
and with a budget the counts of :class:`sitefinder.model.select.SelectionRules` are the most
to open, not exactly that many: the best set within a budget may hold fewer bases, or
smaller ones. The heuristics (greedy fill, swaps, the quick start) only add or swap in what
still fits. A candidate costing more than the whole budget can never open and is excluded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

_SLACK = 1e-9  # a share of the budget: room for round-off in a sum of costs


def costs_of(cost: Sequence[float] | None, n: int) -> NDArray[np.float64]:
    """Each candidate's capital (£; zeros without costs).

    Raises
    ------
    ValueError
        When the costs are not one finite, non-negative sum per candidate.
    """
    if cost is None:
        return np.zeros(n)
    values = np.asarray(cost, dtype=np.float64)
    if values.shape != (n,) or not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("cost needs one finite, non-negative sum per candidate")
    return values


def limit_of(budget: float | None) -> float:
    """The budget as a number (£; infinite without one).

    Raises
    ------
    ValueError
        When the budget is negative or not a number.
    """
    if budget is None:
        return float("inf")
    if not np.isfinite(budget) or budget < 0:
        raise ValueError("the budget must be a finite, non-negative sum")
    return float(budget)


def fits(cost: NDArray[np.float64], spent: float, budget: float) -> NDArray[np.bool_]:
    """Which candidates still fit in what is left of ``budget`` after ``spent`` (£)."""
    return cost <= budget - spent + _SLACK * max(budget, 1.0)


def within(
    cost: NDArray[np.float64], open_: NDArray[np.bool_], budget: float, extra: int = -1
) -> bool:
    """Whether the ``open_`` candidates (and ``extra``, when given) cost at most ``budget``."""
    spent = float(cost[open_].sum()) + (float(cost[extra]) if extra >= 0 else 0.0)
    return spent <= budget + _SLACK * max(budget, 1.0)


def too_dear(cost: NDArray[np.float64], budget: float) -> NDArray[np.bool_]:
    """Candidates costing more than the whole budget (never openable)."""
    return ~fits(cost, 0.0, budget)


def count_lower(count: NDArray[np.intp], budget: float) -> NDArray[np.float64]:
    """The lower side of the count rows: exactly ``count`` without a budget, else from 0."""
    return np.zeros(len(count)) if np.isfinite(budget) else count.astype(np.float64)


def budget_row(
    cost: NDArray[np.float64], budget: float, *, row: int, first: int
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], float, float] | None:
    """The knapsack row ``sum_j cost_j / budget y_j <= 1`` as sparse parts.

    Parameters
    ----------
    cost
        Each candidate's capital (£).
    budget
        The budget (£); None is returned when it is infinite or nothing costs anything
        (a zero budget's dear candidates are excluded by :func:`too_dear` instead).
    row
        The row's number in the model.
    first
        The column of the first candidate's ``y`` (candidates' columns are consecutive).

    Returns
    -------
    tuple or None
        Row indices, column indices, coefficients, and the row's lower and upper bounds.
    """
    used = np.flatnonzero(cost > 0)
    if not np.isfinite(budget) or budget <= 0 or not len(used):
        return None
    return (
        np.full(len(used), row, dtype=np.intp),
        (first + used).astype(np.intp),
        cost[used] / budget,
        -np.inf,
        1.0 + _SLACK,
    )
