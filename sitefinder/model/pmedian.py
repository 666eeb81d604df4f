"""Uncapacitated p-median on a plain cost matrix: choose ``p`` sites minimising weighted cost.

Every demand row is served by its cheapest open site. A vectorised greedy-add plus
vertex-substitution (Teitz-Bart with Whitaker's best/second-best bookkeeping) heuristic gives
an incumbent. For small ``p`` (where the LP bound is weakest and the LP itself slowest) a
depth-first branch-and-bound on the sites with Lagrangian bounds (relaxing the assignment rows;
subgradient steps, Beasley 1993) and bound-based site fixing at every node proves the optimum,
typically in well under a second for a few hundred sites. Otherwise, or if that tree outgrows
its node budget, HiGHS works on Elloumi's (2010) compact formulation, which has the same LP
bound as the classic ``x_ij <= y_j`` model but one variable per distinct cost level of a row
instead of one per pair. Levels are kept only up to a per-row radius, widened where the
solution prices a row past it (Garcia, Labbe and Marin 2011), so every intermediate model is a
relaxation and each bound it gives is valid. Steps: (1) LP bound, with the interchange
restarted from the LP's most-open sites; (2) reduced-cost fixing against the incumbent drops
sites that cannot improve it; (3) the MIP on the surviving sites, started from the incumbent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from sitefinder.model._highs import MipLimits, MipModel, MipResult, solve_highs

__all__ = ["PMedianResult", "p_median", "p_median_heuristic"]

_REL_GAP = 1e-7


@dataclass(frozen=True, slots=True)
class PMedianResult:
    """A p-median solution.

    Attributes
    ----------
    sites
        Chosen site (column) indices, sorted ascending.
    objective
        Sum over demand rows of weight times the cost to the cheapest chosen site (cost units).
    gap
        Relative optimality gap ``(objective - lower bound) / objective``; 0.0 when proven
        optimal, NaN when no bound was computed (heuristic only).
    proven
        True when the objective is proven optimal.
    seconds
        Wall-clock seconds spent.
    """

    sites: NDArray[np.intp]
    objective: float
    gap: float
    proven: bool
    seconds: float


def _validate(
    cost: ArrayLike, p: int, weights: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"cost must be a 2-D (n_demand, n_sites) array, got shape {c.shape}")
    n, m = c.shape
    if np.isnan(c).any() or (c == -np.inf).any():
        raise ValueError("cost must not contain NaN or -inf (use +inf for forbidden pairs)")
    if not 1 <= p <= m:
        raise ValueError(f"p must be between 1 and the number of sites ({m}), got {p}")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite, non-negative, one per demand row")
    if (~np.isfinite(c[w > 0])).all(axis=1).any():
        raise ValueError("a demand row with positive weight has no allowed site")
    return c, w


def _objective(c: NDArray[np.float64], w: NDArray[np.float64], sites: NDArray[np.intp]) -> float:
    row_cost = c[:, sites].min(axis=1)
    used = w > 0
    return float(w[used] @ row_cost[used])


def _greedy_interchange(
    c: NDArray[np.float64],
    w: NDArray[np.float64],
    p: int,
    init: NDArray[np.intp] | None = None,
) -> NDArray[np.intp]:
    """Greedy add, then best-improvement vertex substitution until no swap helps."""
    n, m = c.shape
    finite = np.isfinite(c)
    if not finite.all():
        # A forbidden pair costs more than any whole feasible solution, so the heuristic
        # prefers covering every row; the exact objective is recomputed on the real costs.
        top = float(c[finite].max()) if finite.any() else 0.0
        positive = w[w > 0]
        scale = float(positive.sum() / positive.min()) if len(positive) else 1.0
        c = np.where(finite, c, (abs(top) + 1.0) * (scale + 1.0) * 2.0)
    tol = 1e-12 * max(1.0, float(np.abs(c).max()) * float(w.sum()))
    chosen = np.zeros(m, dtype=bool)
    best = c[:, int(np.argmin(w @ c))].copy()
    chosen[int(np.argmin(w @ c))] = True
    if init is not None:
        chosen[:] = False
        chosen[init] = True
        best = c[:, init].min(axis=1)
    for _ in range(p - int(chosen.sum())):
        gain = w @ np.maximum(best[:, None] - c, 0.0)
        gain[chosen] = -np.inf
        j = int(np.argmax(gain))
        chosen[j] = True
        np.minimum(best, c[:, j], out=best)
    sites = np.flatnonzero(chosen)
    rows = np.arange(n)
    while True:
        sub = c[:, sites]
        if p >= 2:
            two = np.argpartition(sub, 1, axis=1)[:, :2]
            first = two[:, 0]
            c1 = sub[rows, first]
            c2 = sub[rows, two[:, 1]]
        else:
            first = np.zeros(n, dtype=np.intp)
            c1 = sub[:, 0]
            c2 = np.full(n, np.inf)
        # Adding j saves c1 - c_ij on rows it is nearer to, whichever site leaves...
        gain = w @ np.maximum(c1[:, None] - c, 0.0)
        # ...and removing site r costs its own rows the step to min(c_ij, second best).
        penalty = w[:, None] * np.maximum(np.minimum(c, c2[:, None]) - c1[:, None], 0.0)
        owner = sparse.csr_array((np.ones(n), (first, rows)), shape=(p, n))
        loss = (owner @ penalty).T  # (m, p)
        profit = gain[:, None] - loss
        profit[sites, :] = -np.inf
        flat = int(np.argmax(profit))
        j, r = divmod(flat, p)
        if profit[j, r] <= tol:
            break
        sites[r] = j
    return np.sort(sites).astype(np.intp)


def p_median_heuristic(
    cost: ArrayLike, p: int, *, weights: ArrayLike | None = None
) -> PMedianResult:
    """Greedy-add plus vertex-substitution p-median heuristic, with no optimality proof.

    Parameters
    ----------
    cost
        (n_demand, n_sites) cost per unit weight of serving each row from each site, in any
        consistent unit (minutes, metres, harm points); ``np.inf`` marks a forbidden pair.
    p
        Number of sites to choose.
    weights
        Weight of each demand row (e.g. children), default 1.

    Returns
    -------
    PMedianResult
        A locally optimal (swap-stable) solution; ``gap`` is NaN and ``proven`` False.
    """
    started = time.perf_counter()
    c, w = _validate(cost, p, weights)
    sites = _greedy_interchange(c, w, p)
    return PMedianResult(
        sites, _objective(c, w, sites), float("nan"), False, time.perf_counter() - started
    )


@dataclass(slots=True)
class _Levels:
    """Distinct finite cost levels of one demand row, and the level of each allowed site."""

    values: NDArray[np.float64]
    site: NDArray[np.intp]
    level: NDArray[np.intp]


def _levels(c: NDArray[np.float64], rows: NDArray[np.intp]) -> list[_Levels]:
    out = []
    for i in rows:
        site = np.flatnonzero(np.isfinite(c[i]))
        values, level = np.unique(c[i, site], return_inverse=True)
        out.append(_Levels(values, site, level.astype(np.intp)))
    return out


def _build(
    levels: list[_Levels], w: NDArray[np.float64], keep: NDArray[np.intp], m: int, p: int
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    sparse.csr_array,
    NDArray[np.float64],
    NDArray[np.float64],
    float,
    NDArray[np.intp],
]:
    """Elloumi's model with levels ``0..keep[r]-1`` of each row ``r``.

    Columns: ``y`` (m sites) then, per row, ``z_k`` = 1 when no open site costs ``<= D_k``.
    Rows: for level k, ``z_k - z_{k-1} + sum(y at level k) >= 0`` (``z_{-1}`` = 1); the chained
    form is equivalent to Elloumi's cumulative one but has one nonzero per site per row.
    """
    cost_parts: list[NDArray[np.float64]] = [np.zeros(m)]
    upper_parts: list[NDArray[np.float64]] = [np.ones(m)]
    ri: list[NDArray[np.intp]] = []
    ci: list[NDArray[np.intp]] = []
    vals: list[NDArray[np.float64]] = []
    rhs: list[NDArray[np.float64]] = []
    z_start = np.zeros(len(levels), dtype=np.intp)
    offset = 0.0
    col = m
    row = 0
    for r, (lv, k) in enumerate(zip(levels, keep, strict=True)):
        d = lv.values
        offset += float(w[r] * d[0])
        step = np.append(np.diff(d[: k + 1]), np.inf)[:k] * w[r]
        upper = np.ones(k)
        if k == len(d):
            # Past the last finite level the row would be unserved: forbid it.
            step[-1] = 0.0
            upper[-1] = 0.0
        cost_parts.append(step)
        upper_parts.append(upper)
        z_start[r] = col
        z = col + np.arange(k)
        near = lv.level < k
        ri += [row + np.arange(k), row + np.arange(1, k), row + lv.level[near]]
        ci += [z, z[:-1], lv.site[near]]
        vals += [np.ones(k), -np.ones(k - 1), np.ones(int(near.sum()))]
        rhs.append(np.r_[1.0, np.zeros(k - 1)])
        col += k
        row += k
    # The cardinality row: exactly p sites.
    ri.append(np.full(m, row, dtype=np.intp))
    ci.append(np.arange(m))
    vals.append(np.ones(m))
    a = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(ri), np.concatenate(ci))), shape=(row + 1, col)
    )
    lower_rows = np.append(np.concatenate(rhs), p)
    upper_rows = np.append(np.full(row, np.inf), p)
    return (
        np.concatenate(cost_parts),
        np.concatenate(upper_parts),
        a,
        lower_rows,
        upper_rows,
        offset,
        z_start,
    )


@dataclass(frozen=True, eq=False)
class _LevelModel:
    """Elloumi's model of one p-median problem: each weighted row's cost levels, and ``p``."""

    levels: list[_Levels]
    w: NDArray[np.float64]
    p: int

    def solve(
        self,
        keep: NDArray[np.intp],
        y_lower: NDArray[np.float64],
        *,
        integer: bool,
        start: NDArray[np.intp] | None,
        time_limit: float | None,
    ) -> MipResult:
        """Solve with levels ``0..keep[r]-1`` of each row and sites ``y >= y_lower``: as a
        MIP from ``start`` when ``integer``, else its LP relaxation."""
        levels = self.levels
        m = len(y_lower)
        obj, col_upper, a, row_lo, row_hi, offset, z_start = _build(levels, self.w, keep, m, self.p)
        col_lower = np.zeros(len(obj))
        col_lower[:m] = y_lower
        x0 = None
        if start is not None:
            x0 = np.zeros(len(obj))
            x0[start] = 1.0
            for r, lv in enumerate(levels):
                row_cost = lv.values[lv.level[np.isin(lv.site, start)]].min(initial=np.inf)
                # z_k = 1 while the start's cost for the row is above level k.
                x0[z_start[r] : z_start[r] + keep[r]] = lv.values[: keep[r]] < row_cost
        flags = np.zeros(len(obj), dtype=bool)
        flags[:m] = integer
        return solve_highs(
            MipModel(obj, col_lower, col_upper, flags, a, row_lo, row_hi, offset),
            start=x0,
            limits=MipLimits(rel_gap=_REL_GAP, time_limit=time_limit),
        )


def _radius(levels: list[_Levels], row_cost: NDArray[np.float64]) -> NDArray[np.intp]:
    """Levels needed per row to price ``row_cost`` exactly (at least one)."""
    return np.array(
        [
            max(1, min(len(lv.values), int(np.searchsorted(lv.values, t)) + 1))
            for lv, t in zip(levels, row_cost, strict=True)
        ],
        dtype=np.intp,
    )


def _last_z(keep: NDArray[np.intp], x: NDArray[np.float64], m: int) -> NDArray[np.float64]:
    ends = m + np.cumsum(keep) - 1
    return x[ends]


# Lagrangian branch-and-bound: subgradient iterations at the root and at every other node,
# the step multiplier and how many non-improving iterations halve it.
_ROOT_ITERATIONS = 3000
_NODE_ITERATIONS = 150
_ROOT_STEP, _ROOT_PATIENCE = 2.0, 30
_NODE_STEP, _NODE_PATIENCE = 1.0, 20
# Up to this p the Lagrangian tree is tried first; past it (or past the node budget) HiGHS.
_SMALL_P = 15
_MAX_NODES = 20000


@dataclass(slots=True)
class _Node:
    """A branch-and-bound node: sites forced open, sites still free, multipliers to start from."""

    bound: float
    opened: NDArray[np.intp]
    free: NDArray[np.intp]
    lam: NDArray[np.float64]
    iterations: int
    step: float
    patience: int


class _Lagrangian:
    """Depth-first branch-and-bound on the sites with Lagrangian bounds (Beasley 1993).

    Relaxing "each row is served once" with multipliers ``lam`` leaves, for every site ``j``,
    ``rho_j = sum_i min(0, a_ij - lam_i)``; the bound ``sum(lam) + sum of the p smallest rho``
    is valid for any ``lam`` and its maximum equals the LP bound of the classic formulation.
    Subgradient steps raise it; a site whose opening (or closing) would lift the bound past the
    incumbent is closed (or opened) for the whole subtree. Branching opens or closes the most
    attractive free site. Every bound is a true bound, so a finished tree proves optimality.
    """

    def __init__(
        self,
        a: NDArray[np.float64],
        p: int,
        evaluate: Callable[[NDArray[np.intp]], float],
        upper: float,
        sites: NDArray[np.intp],
    ) -> None:
        self.a = a
        # Site-major copy: row j holds every demand row's cost from site j.
        self.at = np.ascontiguousarray(a.T)
        self.p = p
        self.evaluate = evaluate
        self.upper = upper
        self.sites = sites
        finite = a[np.isfinite(a)]
        # Whole costs (exactly representable): a better solution is at least 1 better.
        self.integral = bool(
            np.all(finite == np.round(finite)) and np.abs(finite).max(initial=0.0) < 2.0**40
        )
        self.nodes = 0

    @property
    def cut(self) -> float:
        """Bound at or above which no strictly better solution can exist below a node."""
        if self.integral:
            # Integral objective: anything better is at most upper - 1.
            return self.upper - 1.0 + 1e-3
        return self.upper - _REL_GAP * max(1.0, abs(self.upper))

    def _offer(self, chosen: NDArray[np.intp]) -> None:
        value = self.evaluate(chosen)
        if value < self.upper:
            self.upper, self.sites = value, np.sort(chosen).astype(np.intp)

    def _solve_node(self, node: _Node, deadline: float | None) -> tuple[float, _Node] | None:
        """Raise the node's bound; None when the node is a leaf (already evaluated)."""
        at, p = self.at, self.p
        opened, free, lam = node.opened, node.free, node.lam
        # Site-major copies (one row per site) so each sweep runs over contiguous memory.
        sub = at[free]
        ope = at[opened]
        cover = ope.min(axis=0) if len(opened) else np.full(at.shape[1], np.inf)
        # The optimal multipliers never exceed what the open sites already charge a row.
        lam = np.minimum(lam, cover)
        buf = np.empty_like(sub)
        best, best_lam, stall, step = -np.inf, lam, 0, node.step
        sel = np.zeros(0, dtype=np.intp)
        for _ in range(node.iterations):
            k = p - len(opened)
            if k == 0 or len(free) <= k:
                break
            if deadline is not None and time.perf_counter() > deadline:
                break
            np.subtract(sub, lam, out=buf)
            np.minimum(buf, 0.0, out=buf)
            rho = buf.sum(axis=1)
            open_part = float(np.minimum(ope - lam, 0.0).sum()) if len(opened) else 0.0
            order = np.argpartition(rho, k)
            sel = order[:k]
            bound = float(lam.sum() + open_part + rho[sel].sum())
            cut = self.cut
            if bound >= cut:
                return bound, node
            # Opening an unselected j swaps it for the k-th; closing a selected j pulls in
            # the (k+1)-th: fix j wherever that alone reaches the cut.
            close = bound - rho[sel].max() + rho >= cut
            close[sel] = False
            force = np.zeros(len(free), dtype=bool)
            force[sel] = bound - rho[sel] + rho[order[k]] >= cut
            if close.any() or force.any():
                keep = ~(close | force)
                if force.any():
                    opened = np.r_[opened, free[force]].astype(np.intp)
                    ope = at[opened]
                    cover = np.minimum(cover, sub[force].min(axis=0))
                    lam = np.minimum(lam, cover)
                free, sub = free[keep], sub[keep]
                buf = np.empty_like(sub)
                best, best_lam = -np.inf, lam
                continue
            if bound > best + 1e-9 * max(1.0, abs(bound)):
                best, best_lam, stall = bound, lam, 0
            else:
                stall += 1
                if stall >= node.patience:
                    step, stall = step / 2.0, 0
                    if step < 1e-3:
                        break
            g = 1.0 - (sub[sel] < lam).sum(axis=0)
            if len(opened):
                g -= (ope < lam).sum(axis=0)
            norm = float(g @ g)
            if norm == 0.0:
                break
            lam = np.minimum(lam + step * (self.upper - bound) / norm * g, cover)
        k = p - len(opened)
        if k == 0 or len(free) <= k:
            if len(free) >= k:
                self._offer(np.r_[opened, free[:k]].astype(np.intp))
            return None
        if len(sel) == k:
            # The Lagrangian's own choice is often a good solution.
            self._offer(np.r_[opened, free[sel[sel < len(free)]]].astype(np.intp))
        return best, _Node(best, opened, free, best_lam, 0, step, node.patience)

    def run(self, deadline: float | None) -> tuple[float, bool]:
        """Search the tree; returns a valid lower bound and whether the tree was finished."""
        m = self.a.shape[1]
        # Start each row's multiplier at what the incumbent charges it.
        lam0 = self.a[:, self.sites].min(axis=1)
        stack = [
            _Node(
                -np.inf,
                np.zeros(0, np.intp),
                np.arange(m),
                lam0,
                _ROOT_ITERATIONS,
                _ROOT_STEP,
                _ROOT_PATIENCE,
            )
        ]
        while stack:
            if self.nodes >= _MAX_NODES or (
                deadline is not None and time.perf_counter() > deadline
            ):
                return min(self.upper, min(node.bound for node in stack)), False
            node = stack.pop()
            self.nodes += 1
            solved = self._solve_node(node, deadline)
            if solved is None:
                continue
            bound, done = solved
            if bound >= self.cut:
                continue
            lam = done.lam
            rho = np.minimum(self.a[:, done.free] - lam[:, None], 0.0).sum(axis=0)
            j = int(np.argmin(rho))
            site = done.free[j]
            rest = np.delete(done.free, j)
            stack.append(
                _Node(bound, done.opened, rest, lam, _NODE_ITERATIONS, _NODE_STEP, _NODE_PATIENCE)
            )
            stack.append(
                _Node(
                    bound,
                    np.r_[done.opened, site].astype(np.intp),
                    rest,
                    lam,
                    _NODE_ITERATIONS,
                    _NODE_STEP,
                    _NODE_PATIENCE,
                )
            )
        return self.upper, True


def p_median(
    cost: ArrayLike,
    p: int,
    *,
    weights: ArrayLike | None = None,
    time_limit: float | None = None,
) -> PMedianResult:
    """Choose ``p`` sites minimising the weighted cost of serving every row from its nearest.

    Parameters
    ----------
    cost
        (n_demand, n_sites) cost per unit weight of serving each row from each site, in any
        consistent unit (minutes, metres, harm points); ``np.inf`` marks a forbidden pair.
    p
        Number of sites to open, ``1 <= p <= n_sites``.
    weights
        Non-negative weight of each demand row (e.g. children), default 1.
    time_limit
        Wall-clock seconds for the exact phase; None for no limit. The heuristic incumbent is
        always computed first, so a solution is returned even with a tiny limit.

    Returns
    -------
    PMedianResult
        Chosen sites, objective (cost units times weight), relative gap, proof flag, seconds.

    Raises
    ------
    ValueError
        On a malformed matrix, ``p`` out of range, or when no ``p`` sites serve every row
        with positive weight.
    """
    started = time.perf_counter()
    c, w = _validate(cost, p, weights)
    m = c.shape[1]
    sites = _greedy_interchange(c, w, p)
    upper = _objective(c, w, sites)
    if p == m or upper <= 0.0:
        return PMedianResult(sites, upper, 0.0, True, time.perf_counter() - started)

    def left() -> float | None:
        return None if time_limit is None else time_limit - (time.perf_counter() - started)

    def close_enough(lower: float) -> bool:
        return lower >= upper - _REL_GAP * max(1.0, abs(upper))

    # Rows with no weight never change the objective.
    used = np.flatnonzero(w > 0)
    cu, wu = c[used], w[used]
    if p <= _SMALL_P and np.isfinite(upper):
        tree = _Lagrangian(cu * wu[:, None], p, lambda s: _objective(c, w, s), upper, sites)
        deadline = None if time_limit is None else started + time_limit
        lower, finished = tree.run(deadline)
        sites, upper = tree.sites, tree.upper
        if (
            finished
            or close_enough(lower)
            or (deadline is not None and time.perf_counter() > deadline)
        ):
            return _finish(sites, upper, upper if finished else lower, started)
    levels = _levels(c, used)
    keep = _radius(levels, cu[:, sites].min(axis=1))
    lower = -np.inf
    lp: MipResult | None = None
    # Phase 1: the LP bound, widening rows whose last kept level is still partly uncovered;
    # once none is, the truncated LP equals the full one.
    while (remaining := left()) is None or remaining > 0:
        lp = _LevelModel(levels, wu, p).solve(
            keep, np.zeros(m), integer=False, start=None, time_limit=remaining
        )
        if lp.x is None:
            if lp.status == "Infeasible":
                raise ValueError(f"no set of {p} sites can serve every weighted demand row")
            break
        lower = max(lower, lp.bound)
        # Start the interchange from the LP's most-open sites: often the optimum itself.
        rounded = np.sort(np.argsort(-lp.x[:m], kind="stable")[:p])
        if not np.array_equal(rounded, sites):
            polished = _greedy_interchange(c, w, p, rounded)
            polished_cost = _objective(c, w, polished)
            if polished_cost < upper:
                sites, upper = polished, polished_cost
        short = (_last_z(keep, lp.x, m) > 1e-7) & (
            keep < np.array([len(lv.values) for lv in levels])
        )
        if not short.any() or close_enough(lower):
            break
        for r in np.flatnonzero(short):
            keep[r] = min(len(levels[r].values), 2 * keep[r] + 1)
    if close_enough(lower) or lp is None or lp.reduced is None:
        return _finish(sites, upper, lower, started)
    # Reduced-cost fixing: any solution opening j costs at least lower + rc_j, so sites that
    # cannot beat the incumbent are dropped (and sites that must stay are forced).
    rc = lp.reduced[:m]
    slack = upper - lower - _REL_GAP * max(1.0, abs(upper))
    alive = rc < slack
    forced = rc <= -slack
    columns = np.flatnonzero(alive)
    if len(columns) < p or (~np.isfinite(cu[:, columns])).all(axis=1).any():
        # No solution strictly better than the incumbent exists.
        return _finish(sites, upper, upper, started)
    sub = c[:, columns]
    old_levels, old_keep = levels, keep
    levels = _levels(sub, used)
    # Radius: what the incumbent needs, and at least what the LP bound needed.
    lp_radius = np.array([lv.values[k - 1] for lv, k in zip(old_levels, old_keep, strict=True)])
    keep = _radius(levels, np.maximum(cu[:, sites].min(axis=1), lp_radius))
    local = np.searchsorted(columns, sites)
    start = local if np.isin(sites, columns).all() else None
    y_lower = forced[columns].astype(np.float64)
    model = _LevelModel(levels, wu, p)
    # Phase 2: the MIP on the surviving sites, widening rows priced past their radius.
    while (remaining := left()) is None or remaining > 0:
        mip = model.solve(keep, y_lower, integer=True, start=start, time_limit=remaining)
        if mip.x is None:
            if mip.status == "Infeasible":
                lower = upper
            break
        found = columns[np.flatnonzero(mip.x[: len(columns)] > 0.5)]
        found_cost = _objective(c, w, found) if len(found) == p else np.inf
        if found_cost < upper:
            sites, upper = found, found_cost
            start = np.searchsorted(columns, sites)
        if not mip.optimal:
            lower = max(lower, min(mip.bound, upper))
            break
        true_cost = sub[:, np.searchsorted(columns, found)].min(axis=1)[used]
        need = _radius(levels, true_cost)
        if (need <= keep).all():
            lower = max(lower, min(mip.objective, upper))
            break
        keep = np.maximum(keep, need)
        lower = max(lower, min(mip.bound, upper))
    return _finish(sites, upper, lower, started)


def _finish(sites: NDArray[np.intp], upper: float, lower: float, started: float) -> PMedianResult:
    gap = 0.0 if upper <= 0 else max(0.0, (upper - lower) / abs(upper))
    proven = gap <= 10 * _REL_GAP
    return PMedianResult(
        np.sort(sites).astype(np.intp),
        upper,
        0.0 if proven else gap,
        proven,
        time.perf_counter() - started,
    )
