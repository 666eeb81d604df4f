"""An assignment solved apart from sitefinder's solver, for the plan and ``why`` checks.

The plan's total harm, each base's harm averted and every swap are the optimum of a
transportation problem: children of each demand row to the sites that may serve it, within
their places, the rest without a base place at the row's fallback harm. This module states that
problem afresh as a linear programme in SciPy's form (flows and unmet children as variables, one
equality per row, one inequality per site) and solves it with ``scipy.optimize.linprog``; it
shares no code with ``sitefinder.model.assign`` (which builds HiGHS's model itself, warm-starts
it and folds special schools' places), so a mistake there shows up as a difference here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog

from sitefinder.model.network import DemandRows, Site


@dataclass(frozen=True)
class Assignment:
    """The optimum: total harm points, each pair's flow, and each row's children left without
    a base place (in a special school's place or out of authority)."""

    objective: float
    pair_row: NDArray[np.intp]
    pair_site: NDArray[np.intp]
    flow: NDArray[np.float64]
    unmet: NDArray[np.float64]


def assign(rows: DemandRows, sites: Sequence[Site]) -> Assignment:
    """Children of ``rows`` to ``sites`` at least total harm (see the module's docstring).

    A special school's places (``Site.fallback``) are places like a base's at their own harm,
    but children there have no base place: they count in ``unmet``.
    """
    n = len(rows)
    if not sites:
        return Assignment(
            float(rows.children @ rows.unmet_harm),
            np.zeros(0, np.intp),
            np.zeros(0, np.intp),
            np.zeros(0),
            rows.children.astype(np.float64),
        )
    pair_row = np.concatenate([s.rows for s in sites]).astype(np.intp)
    pair_site = np.concatenate(
        [np.full(len(s.rows), i, dtype=np.intp) for i, s in enumerate(sites)]
    )
    harm = np.concatenate([s.harm for s in sites])
    m = len(pair_row)
    # Variables: a flow per pair, then the children of each row left out of authority.
    cost = np.concatenate([harm, rows.unmet_harm])
    each_row = sparse.hstack(
        [
            sparse.csr_matrix((np.ones(m), (pair_row, np.arange(m))), shape=(n, m)),
            sparse.identity(n, format="csr"),
        ]
    )
    each_site = sparse.csr_matrix(
        (np.ones(m), (pair_site, np.arange(m))), shape=(len(sites), m + n)
    )
    solved = linprog(
        cost,
        A_ub=each_site,
        b_ub=np.array([s.capacity for s in sites], dtype=np.float64),
        A_eq=each_row,
        b_eq=rows.children,
        bounds=(0, None),
        method="highs",
    )
    assert solved.status == 0, solved.message
    flow, out = solved.x[:m], solved.x[m:]
    special = np.array([s.fallback for s in sites], dtype=bool)[pair_site]
    in_special = np.bincount(pair_row[special], weights=flow[special], minlength=n)
    keep = ~special
    return Assignment(
        float(solved.fun), pair_row[keep], pair_site[keep], flow[keep], out + in_special
    )
