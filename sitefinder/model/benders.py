"""The best set of new bases by Benders decomposition: a small master MIP over the sets, and the
assignment LPs of the sets it proposes, each giving back a cut that no set can violate.

For any prices ``p`` of the children (one per demand row, at most the row's unmet harm) and any
set ``S`` of new bases, LP duality bounds the harm of one class component from below:

    H_P(S) >= sum_r d_r p_r - sum_e g_e(p) - sum_{j in S} g_j(p),

where ``g(p)`` is what a base could gain at those prices: the most its places can earn at
``p_r - harm`` per child, each row's children on it capped at ``min(d_r, places)`` (the
``x <= min(d, C) y`` strengthening of the full MIP; :class:`_Gains`). The bound holds for
any such prices, however they were found, so every cut is valid for every set of these
candidates under any counts or rules: one :class:`CutPool` serves every selection of an
instance (the stopping rule's counts, one after another).

The master chooses the set with the least sum of its components' bounds over every cut so far.
It is first solved as an LP (``y`` between 0 and 1): each fractional ``y`` is given to the
components' LP relaxations (:class:`_Relaxed`: each candidate's places and caps scaled by its
``y``), whose prices cut it off; separated at a point between ``y`` and the incumbent
(in-out stabilisation), this reaches the full MIP's LP bound in a few dozen small LPs, without
building the full MIP's tens of thousands of rows. The master MIP then proposes sets; each is
solved exactly (the same relaxations with its bases whole, warm from the last point, whose
prices give cuts tight at that set), until the best set solved is within a tenth of the plan's
tolerance of the master's bound (proven within the tolerance itself; the tenth keeps the better
of two sets closer than that where the budgets allow). When a master grows hard it stops on its
deterministic budgets and the full MIP takes over from its best set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from sitefinder.model import budget as budget_of
from sitefinder.model._highs import (
    MipLimits,
    MipModel,
    add_pair_columns,
    new_highs,
    pass_model,
    solve_highs,
)
from sitefinder.model.assign import SolverError
from sitefinder.model.network import DemandRows, Site
from sitefinder.model.scoring import SetScorer

ROUNDS = 30
"""Sets proposed by the master MIP before the full MIP takes over."""
NODES = 800
"""Master problems' branch-and-bound nodes in all (each master LP counts as one)."""
LP_ROUNDS = 60
"""Master LPs solved (and relaxations separated) before the master MIP starts."""
_ROUND_OFF = 1e-9  # harm points per harm point of a cut's sums: room for floating round-off
_BUCKETS = 64  # excess buckets that find the rows filling a base's places
_MOVED = 1e-9  # a fraction of a base moved by less than this is not re-solved
_AIM = 0.1  # of the plan's tolerance: how close the search tries to come, within its budgets
_STALL = 3  # master LPs in a row whose bound rose by less than a quarter of the gap: converged
_INF = highspy.kHighsInf
_DUAL = 1  # HiGHS simplex_strategy: the dual simplex (the openings move bounds)
_KEEP = 0.05  # harm points: today's pairs this close to worth taking stay in a relaxation
_ENTER = 1e-7  # harm points: a pair outside a relaxation this far below cost comes in
_NO_INDEX = np.zeros(0, dtype=np.int32)
_NO_VALUE = np.zeros(0)


@dataclass(frozen=True, slots=True)
class Rules:
    """The selection rules as arrays over candidates 0..n-1 (see ``select._Problem``)."""

    group: NDArray[np.intp]
    count: NDArray[np.intp]
    location: NDArray[np.intp]
    required: NDArray[np.bool_]
    excluded: NDArray[np.bool_]
    cost: NDArray[np.float64] | None = None  # capital per candidate (£)
    budget: float = float("inf")  # the most the open candidates may cost (£)


@dataclass(frozen=True, slots=True)
class BendersResult:
    """The best set found, its harm, the lower bound, and whether they met.

    Attributes
    ----------
    best
        Open mask of the best set solved.
    harm
        Its total harm points.
    bound
        A lower bound on every allowed set's harm (harm points; -inf when none was found).
    proven
        Whether ``harm`` is within the limits' gaps of ``bound``.
    rounds, nodes
        Master MIPs solved, and the master problems' branch-and-bound nodes in all (each
        master LP counting one).
    limit
        What stopped it unproven: ``"nodes"`` (its budgets) or ``"time"`` (the safety net);
        ``""`` when proven.
    """

    best: NDArray[np.bool_]
    harm: float
    bound: float
    proven: bool
    rounds: int
    nodes: int
    limit: str = ""


class _Gains:
    """What each of some bases could gain at given prices, all at once.

    Base ``s`` at prices ``p`` earns at most ``max sum_r (p_r - h_rs) x_r`` over ``0 <= x_r <=
    min(d_r, C_s)`` and ``sum_r x_r <= C_s``: a fractional knapsack, equal by LP duality to
    ``min_{w >= 0} C_s w + sum_r min(d_r, C_s) (p_r - h_rs - w)+``, whose least lies at ``w =
    0`` or at one of the rows' excesses (prefix sums of the rows sorted by excess, per base).
    """

    def __init__(self, demand: DemandRows, sites: list[Site]) -> None:
        empty = [np.zeros(0)]
        self._row = np.concatenate([s.rows for s in sites] + [np.zeros(0, np.intp)]).astype(np.intp)
        self._harm = np.concatenate([s.harm for s in sites] + empty)
        self._site = np.repeat(np.arange(len(sites)), [len(s.rows) for s in sites])
        self._capacity = np.array([s.capacity for s in sites], dtype=np.float64)
        children = demand.children[self._row].astype(np.float64)
        self._cap = np.minimum(children, self._capacity[self._site])

    def __call__(self, prices: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each base's gain bound (harm points) at ``prices`` (NaN rows are outside)."""
        n = len(self._capacity)
        out = np.zeros(n)
        excess = prices[self._row] - self._harm
        keep = np.flatnonzero(excess > 0)  # NaN compares False
        if not len(keep):
            return out
        site, e, d = self._site[keep], excess[keep], self._cap[keep]
        # Only the rows of the largest excesses that fill a base's places can decide its
        # least: where the rows in the excess buckets from the top down hold its places, the
        # slope C - sum_{e > w} d is not positive below them, so the least lies at one of
        # theirs and the rows below add nothing there (nor does w = 0 go below it). Those
        # rows alone are sorted.
        top = float(e.max())
        bucket = np.minimum((e * (_BUCKETS / top)).astype(np.int64), _BUCKETS - 1)
        mass = np.bincount(site * _BUCKETS + bucket, weights=d, minlength=n * _BUCKETS)
        above = np.cumsum(mass.reshape(n, _BUCKETS)[:, ::-1], axis=1)[:, ::-1]
        filled = (above >= self._capacity[:, None]).sum(axis=1)  # buckets that hold them
        lowest = np.maximum(filled - 1, 0)
        kept = bucket >= lowest[site]
        site, e, d = site[kept], e[kept], d[kept]
        # By base, then by excess, largest first, in one sort: the pairs are stored by base,
        # so each base's excesses, scaled into [0, 1), sort within its own unit interval.
        # Excesses closer than the key's resolution may swap places: about 1e-13 of the
        # largest, far inside the cut's room for round-off.
        scaled = e / (top * (1.0 + 1e-6))
        order = np.argsort(site + (1.0 - scaled), kind="stable")
        site, e, d = site[order], e[order], d[order]
        de = d * e
        starts = np.flatnonzero(np.concatenate(([True], site[1:] != site[:-1])))
        lengths = np.diff(np.append(starts, len(site)))
        # Within each base, the children and earnings of the rows with a larger excess.
        before_de = np.cumsum(de) - de
        before_d = np.cumsum(d) - d
        before_de -= np.repeat(before_de[starts], lengths)
        before_d -= np.repeat(before_d[starts], lengths)
        at_breaks = self._capacity[site] * e + before_de - e * before_d
        least = np.minimum(np.add.reduceat(de, starts), np.minimum.reduceat(at_breaks, starts))
        out[site[starts]] = least
        return out


class _Relaxed:
    """One class component's assignment LP with its candidates opened by fractions ``y``:
    places ``C y`` and each row's children on a base at most ``min(d, C) y`` (the full MIP's
    LP relaxation with ``y`` fixed), re-solved warm as ``y`` moves.

    It starts as a copy of today's network of the component at its optimal basis, keeping only
    the pairs that carry children there or nearly could (reduced cost under :data:`_KEEP`
    harm points); a candidate's capacity row joins the first time its ``y`` is above zero.
    Every other pair waits outside: after each solve, those the prices make worth taking (a
    negative reduced cost) come in and the LP is solved again, so each optimum is the full
    LP's, on a fraction of its columns (a large authority's LP holds millions of pairs).
    """

    def __init__(self, scorer: SetScorer, part: int, members: NDArray[np.intp]) -> None:
        demand = scorer.demand
        rows = scorer.rows(part)
        self.rows, self.members = rows, members
        self._unmet = demand.unmet_harm[rows]
        self._children = demand.children
        self._n_demand = len(demand)
        self._local = np.full(len(demand), -1, dtype=np.int64)
        self._local[rows] = np.arange(len(rows))
        today = scorer.today(part)
        self._highs = h = today.solver_copy()
        h.setOptionValue("simplex_strategy", _DUAL)
        # Today's pairs that carry no children and are dearer than their row's price by
        # _KEEP or more leave the LP (all nonbasic: the basis stays valid).
        basic = np.asarray(h.getBasis().col_status) == highspy.HighsBasisStatus.kBasic
        prices = today.prices[rows] if len(rows) else np.zeros(0)
        out_columns, out_rows, out_capacity, out_harm = [], [], [], []
        cost = np.asarray(h.getLp().col_cost_)
        for (row, columns, at), price in zip(today.pair_layout(), today.site_prices, strict=True):
            reduced = cost[columns] - prices[at] + price
            away = ~basic[columns] & (reduced >= _KEEP)
            out_columns.append(columns[away])
            out_rows.append(at[away])
            out_capacity.append(np.full(int(away.sum()), row, dtype=np.int64))
            out_harm.append(cost[columns][away])
        gone = np.concatenate([*out_columns, _NO_INDEX]).astype(np.int32)
        if len(gone):
            h.deleteCols(len(gone), np.sort(gone))
        # Pairs outside the LP: demand row, capacity row, harm, candidate (-1: today's base).
        self._out_row = np.concatenate([*out_rows, np.zeros(0, np.int64)])
        self._out_capacity = np.concatenate([*out_capacity, np.zeros(0, np.int64)])
        self._out_harm = np.concatenate([*out_harm, np.zeros(0)])
        self._out_member = np.full(len(self._out_row), -1, dtype=np.int64)
        self._sites = [scorer.candidates[int(j)] for j in members]
        self._capacity_rows = np.full(len(members), -1, dtype=np.int64)  # -1: not in the LP
        self._columns: list[list[NDArray[np.int32]]] = [[] for _ in members]
        self._caps: list[list[NDArray[np.float64]]] = [[] for _ in members]
        self._y = np.zeros(len(members))
        self._prices: NDArray[np.float64] | None = None  # at ``_y``
        self.objective = 0.0  # at ``_y``

    def _add(self, i: int) -> None:
        """Candidate ``i`` (of the members) joins the LP, closed, its pairs waiting outside."""
        h, site = self._highs, self._sites[i]
        row = h.getNumRow()
        h.addRow(-_INF, 0.0, 0, _NO_INDEX, _NO_VALUE)
        self._capacity_rows[i] = row
        at = self._local[site.rows]
        keep = at >= 0
        self._out_row = np.r_[self._out_row, at[keep]]
        self._out_capacity = np.r_[self._out_capacity, np.full(int(keep.sum()), row)]
        self._out_harm = np.r_[self._out_harm, site.harm[keep]]
        self._out_member = np.r_[self._out_member, np.full(int(keep.sum()), i)]

    def _cap(self, member: NDArray[np.int64], row: NDArray[np.int64]) -> NDArray[np.float64]:
        """Each pair's most children ``min(d, C)`` (today's bases: no cap but the row's)."""
        if not len(member):
            return np.zeros(0)
        capacity = np.array([self._sites[m].capacity if m >= 0 else np.inf for m in member])
        return np.minimum(self._children[self.rows[row]], capacity)

    def _price_in(self) -> bool:
        """Bring in the pairs outside the LP with a negative reduced cost at its optimum;
        whether any came."""
        h = self._highs
        duals = np.asarray(h.getSolution().row_dual)
        n = len(self.rows)
        reduced = self._out_harm - duals[:n][self._out_row] - duals[self._out_capacity]
        member = self._out_member
        open_ = np.where(member >= 0, self._y[np.maximum(member, 0)] > 0, True)
        enter = np.flatnonzero((reduced < -_ENTER) & open_)
        if not len(enter):
            return False
        rows, capacity = self._out_row[enter], self._out_capacity[enter]
        who, caps = member[enter], self._cap(member[enter], self._out_row[enter])
        first = h.getNumCol()
        add_pair_columns(h, self._out_harm[enter], rows, capacity)
        columns = np.arange(first, h.getNumCol(), dtype=np.int32)
        upper = np.where(who >= 0, caps * self._y[np.maximum(who, 0)], _INF)
        h.changeColsBounds(len(columns), columns, np.zeros(len(columns)), upper)
        for m in np.unique(who[who >= 0]):
            mine = who == m
            self._columns[int(m)].append(columns[mine])
            self._caps[int(m)].append(caps[mine])
        keep = np.ones(len(member), dtype=bool)
        keep[enter] = False
        self._out_row, self._out_capacity = self._out_row[keep], self._out_capacity[keep]
        self._out_harm, self._out_member = self._out_harm[keep], self._out_member[keep]
        return True

    def solve(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        """The rows' prices (harm points per child, at most the unmet harm; NaN outside the
        component) with the candidates opened by the fractions ``y`` (all candidates); the
        LP's optimum (harm points) is then :attr:`objective`: with whole bases, the exact harm
        of the component with those bases open."""
        h = self._highs
        mine = np.clip(y[self.members], 0.0, 1.0)
        moved = np.flatnonzero(np.abs(mine - self._y) > _MOVED)
        if self._prices is not None and not len(moved):
            return self._prices
        for i in moved:
            if self._capacity_rows[i] < 0:
                self._add(int(i))
            h.changeRowBounds(int(self._capacity_rows[i]), -_INF, self._sites[i].capacity * mine[i])
            self._y[i] = mine[i]
            if self._columns[i]:
                columns = np.concatenate(self._columns[i])
                caps = np.concatenate(self._caps[i]) * mine[i]
                h.changeColsBounds(len(columns), columns, np.zeros(len(columns)), caps)
        prices = np.full(self._n_demand, np.nan)
        while True:
            h.run()
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kModelEmpty:
                self.objective = 0.0
                return prices
            if status != highspy.HighsModelStatus.kOptimal:
                raise SolverError(
                    f"HiGHS could not solve a relaxation: {h.modelStatusToString(status)}"
                )
            if not self._price_in():
                break
        self.objective = float(h.getInfo().objective_function_value)
        duals = np.asarray(h.getSolution().row_dual)[: len(self.rows)]
        prices[self.rows] = np.minimum(duals, self._unmet)
        self._prices = prices
        return prices


@dataclass(frozen=True, slots=True)
class _Cut:
    """``theta[part] + sum_j coef_j y_j >= constant`` over the part's candidates ``index``."""

    part: int
    constant: float
    index: NDArray[np.intp]
    coef: NDArray[np.float64]

    def at(self, y: NDArray[np.float64]) -> float:
        """The least harm of the part this cut allows at ``y``."""
        return self.constant - float(self.coef @ y[self.index])


class CutPool:
    """Cuts and exact values of sets for one instance (demand, today's bases, candidates),
    valid under any selection rules: shared by every selection made on it.

    Parameters
    ----------
    scorer
        The instance by class component; sets are valued exactly through it.
    """

    def __init__(self, scorer: SetScorer) -> None:
        self.scorer = scorer
        demand = scorer.demand
        self.n = len(scorer.candidates)
        self.parts = len(scorer.members)
        self.mine = [np.flatnonzero(scorer.component == p) for p in range(self.parts)]
        self._gains = [
            _Gains(demand, [scorer.candidates[int(j)] for j in self.mine[p]])
            for p in range(self.parts)
        ]
        self._today = [_Gains(demand, scorer.sites(p, ())) for p in range(self.parts)]
        self._relaxed: dict[int, _Relaxed] = {}
        self.harm: dict[tuple[int, tuple[int, ...]], float] = {}
        self.cuts: list[_Cut] = []

    def _cut(self, part: int, prices: NDArray[np.float64]) -> _Cut:
        rows = self.scorer.rows(part)
        earned = self.scorer.demand.children[rows] @ prices[rows]
        today = self._today[part](prices)
        constant = float(earned) - float(today.sum())
        constant -= _ROUND_OFF * (1.0 + abs(float(earned)) + float(today.sum()))
        coef = self._gains[part](prices)
        used = np.flatnonzero(coef > 0)
        return _Cut(part, constant, self.mine[part][used], coef[used])

    def _key(self, part: int, open_: NDArray[np.bool_]) -> tuple[int, tuple[int, ...]]:
        return part, tuple(int(j) for j in self.mine[part] if open_[j])

    def _relaxation(self, part: int) -> _Relaxed:
        if part not in self._relaxed:
            self._relaxed[part] = _Relaxed(self.scorer, part, self.mine[part])
        return self._relaxed[part]

    def solve(self, open_: NDArray[np.bool_]) -> float:
        """Total harm of ``open_`` (harm points), adding a cut per component not seen.

        Each component is solved on its relaxation with the set's bases whole (warm from the
        last fraction or set weighed there: no LP is copied)."""
        total = 0.0
        for part in range(self.parts):
            key = self._key(part, open_)
            if key not in self.harm:
                if len(self.mine[part]):
                    relaxed = self._relaxation(part)
                    prices = relaxed.solve(open_.astype(np.float64))
                    self.harm[key] = relaxed.objective
                else:  # no candidate: today's bases only
                    today = self.scorer.today(part)
                    prices = np.minimum(today.prices, self.scorer.demand.unmet_harm)
                    self.harm[key] = today.objective
                self.cuts.append(self._cut(part, prices))
            total += self.harm[key]
        return total

    def known(self, open_: NDArray[np.bool_]) -> bool:
        """Whether every component's part of ``open_`` has been solved (and cut) already."""
        return all(self._key(part, open_) in self.harm for part in range(self.parts))

    def lift(self, open_: NDArray[np.bool_]) -> NDArray[np.float64]:
        """The least component bounds the cuts allow for ``open_`` (the master's start)."""
        theta = np.zeros(self.parts)
        y = open_.astype(np.float64)
        for cut in self.cuts:
            theta[cut.part] = max(theta[cut.part], cut.at(y))
        return theta

    def separate(
        self, point: NDArray[np.float64], y: NDArray[np.float64], theta: NDArray[np.float64]
    ) -> int:
        """Cut at ``point`` (fractions of bases) every component whose cut there also cuts off
        the master's ``(y, theta)``; returns the cuts added."""
        added = 0
        for part in range(self.parts):
            if not len(self.mine[part]):
                continue
            cut = self._cut(part, self._relaxation(part).solve(point))
            if cut.at(y) > theta[part] + _ROUND_OFF * (1.0 + abs(theta[part])):
                self.cuts.append(cut)
                added += 1
        return added


class _Master:
    """min sum theta over y (the rules) and theta >= every cut of the pool."""

    def __init__(self, pool: CutPool, rules: Rules) -> None:
        self.pool, self.rules = pool, rules
        self._highs: highspy.Highs | None = None
        self._seen = 0

    def model(self, *, integer: bool) -> MipModel:
        pool, rules = self.pool, self.rules
        n, parts = pool.n, pool.parts
        cost = np.r_[np.zeros(n), np.ones(parts)]
        lower = np.r_[rules.required.astype(float), np.zeros(parts)]  # harm is never negative
        upper = np.r_[np.where(rules.excluded, 0.0, 1.0), np.full(parts, np.inf)]
        kind = np.r_[np.full(n, integer), np.zeros(parts, dtype=bool)]
        ri: list[NDArray[np.intp]] = [rules.group]
        ci: list[NDArray[np.intp]] = [np.arange(n)]
        va: list[NDArray[np.float64]] = [np.ones(n)]
        lo: list[float] = list(budget_of.count_lower(rules.count, rules.budget))
        hi: list[float] = list(rules.count.astype(float))
        row = len(rules.count)
        knapsack = (
            None
            if rules.cost is None
            else budget_of.budget_row(rules.cost, rules.budget, row=row, first=0)
        )
        if knapsack is not None:  # the capital of the open candidates within the budget
            ri.append(knapsack[0])
            ci.append(knapsack[1])
            va.append(knapsack[2])
            lo.append(knapsack[3])
            hi.append(knapsack[4])
            row += 1
        sizes = np.bincount(rules.location, minlength=int(rules.location.max(initial=-1)) + 1)
        for place in np.flatnonzero(sizes > 1):  # at most one base per location
            members = np.flatnonzero(rules.location == place)
            ri.append(np.full(len(members), row))
            ci.append(members)
            va.append(np.ones(len(members)))
            lo.append(-np.inf)
            hi.append(1.0)
            row += 1
        for cut in pool.cuts:  # theta_part + coef y >= constant
            ri.append(np.full(len(cut.index) + 1, row))
            ci.append(np.append(cut.index, n + cut.part))
            va.append(np.append(cut.coef, 1.0))
            lo.append(cut.constant)
            hi.append(np.inf)
            row += 1
        a = sparse.csr_array(
            (np.concatenate(va), (np.concatenate(ri), np.concatenate(ci))), shape=(row, n + parts)
        )
        return MipModel(cost, lower, upper, kind, a, np.array(lo), np.array(hi))

    def relax(self) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
        """The master LP's optimum (a lower bound on every set's harm), its y and theta."""
        n = self.pool.n
        if self._highs is None:
            self._highs = new_highs()
            pass_model(self._highs, self.model(integer=False))
            self._seen = len(self.pool.cuts)
        h = self._highs
        for cut in self.pool.cuts[self._seen :]:
            index = np.append(cut.index, n + cut.part).astype(np.int32)
            h.addRow(cut.constant, _INF, len(index), index, np.append(cut.coef, 1.0))
        self._seen = len(self.pool.cuts)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise SolverError(
                f"HiGHS could not solve a master LP: {h.modelStatusToString(h.getModelStatus())}"
            )
        x = np.asarray(h.getSolution().col_value)
        return float(h.getInfo().objective_function_value), x[:n], x[n:]


def benders(
    pool: CutPool,
    rules: Rules,
    start: NDArray[np.bool_],
    limits: MipLimits,
    *,
    deadline: float,
    rounds: int = ROUNDS,
    nodes: int = NODES,
    lp_rounds: int = LP_ROUNDS,
) -> BendersResult:
    """Search for the best set by Benders decomposition from a feasible ``start``.

    Parameters
    ----------
    pool
        The instance's cuts so far (added to as the search goes).
    rules
        Counts per group, locations, required and excluded candidates.
    start
        An open mask meeting the rules: the first set solved and the master's first incumbent.
    limits
        The gaps that count as proven (the master's own node and time limits come from
        ``rounds``, ``nodes`` and ``deadline``).
    deadline
        ``time.perf_counter()`` value past which no master is started (a safety net).
    rounds, nodes, lp_rounds
        Deterministic budgets: sets proposed by the master MIP, master nodes in all (each
        master LP counting one), and master LPs before the MIP.

    Returns
    -------
    BendersResult
        The best set solved, its harm, the master's lower bound and whether they met.
    """
    master = _Master(pool, rules)
    # The search aims closer than the proof needs, so that of two sets within the tolerance
    # of each other it keeps the better one where it can.
    aim = replace(limits, abs_gap=limits.abs_gap * _AIM, rel_gap=limits.rel_gap * _AIM)
    best = start.copy()
    best_harm = pool.solve(best)
    bound, spent, done = -np.inf, 0, 0
    # The LP first: cut off fractional sets at a point between them and the incumbent.
    centre = best.astype(np.float64)
    stalled, last = 0, -np.inf
    for _ in range(lp_rounds):
        if spent >= nodes or time.perf_counter() >= deadline:
            break
        value, y, theta = master.relax()
        spent += 1
        bound = max(bound, value)
        if aim.proven(best_harm, bound):
            break
        gap = max(limits.abs_gap, limits.rel_gap * abs(best_harm))
        stalled = stalled + 1 if value - last < gap / 4 else 0
        if stalled >= _STALL:
            break
        last = value
        point = (centre + y) / 2
        if not pool.separate(point, y, theta) and not pool.separate(y, y, theta):
            break  # the master LP is the relaxation's optimum
        centre = point
    # Then the master MIP: each set it proposes is solved exactly and cut where it is.
    while done < rounds and spent < nodes and not aim.proven(best_harm, bound):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        first = np.r_[best.astype(float), pool.lift(best)]
        found = solve_highs(
            master.model(integer=True),
            start=first,
            limits=MipLimits(
                rel_gap=0.0,
                abs_gap=1e-7,
                node_limit=nodes - spent,
                time_limit=left,
                heuristics=False,
                restarts=False,
            ),
        )
        done, spent = done + 1, spent + max(found.nodes, 1)
        if np.isfinite(found.bound):
            bound = max(bound, found.bound)
        if found.x is None:
            break
        # The master's best set is solved even when its bound already proves the best so far:
        # it may be better still, within the tolerance.
        proposed = found.x[: pool.n] > 0.5
        # Each component's part of it may have been solved in other sets: then its harm is
        # known and its cuts are in the master already, and there is nothing more to learn.
        known = pool.known(proposed)
        harm = pool.solve(proposed)
        if harm < best_harm:
            best, best_harm = proposed, harm
        if known:
            break
    proven = limits.proven(best_harm, bound)
    limit = "" if proven else "time" if time.perf_counter() >= deadline else "nodes"
    return BendersResult(best, best_harm, bound, proven, done, spent, limit)
