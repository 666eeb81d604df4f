"""The best set of new bases by Benders decomposition: a small master MIP over the sets, and the
assignment LPs of the sets it proposes, each giving back a cut that no set can violate.

For any prices ``p`` of the children (one per demand row, at most the row's unmet harm) and any
set ``S`` of new bases, LP duality bounds the harm of one class component from below:

    H_P(S) >= sum_r d_r p_r - sum_e g_e(p) - sum_{j in S} g_j(p),

where ``g(p)`` is :func:`sitefinder.model.bounds.gain_bound`: what a base could gain at those
prices, the dual price of its places and its per-row caps (the ``x <= d y`` strengthening of
the full MIP). The master chooses the set with the least sum of its components' bounds over
every cut so far; the set it proposes is solved exactly (a warm assignment LP per component,
whose prices give the next cut, tight at that set). Its optimum is a lower bound on every set's
harm, and the best set solved an upper bound; the search stops when they meet within the
plan's tolerance. On a real authority it needs a handful of rounds on a master of a few
hundred binaries instead of the full MIP's root LP of tens of thousands of rows; when a master
grows hard (many bases, many near ties) it stops on its deterministic budgets and the full MIP
takes over from its best set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from sitefinder.model import budget as budget_of
from sitefinder.model._highs import MipLimits, MipModel, solve_highs
from sitefinder.model.bounds import gain_bound
from sitefinder.model.scoring import SetScorer

ROUNDS = 30
"""Sets proposed by the master before the full MIP takes over."""
NODES = 800
"""Branch-and-bound nodes all the master problems may use together."""
_DUAL_TOL = 1e-6  # harm points per child: room for the LP prices' round-off in a cut


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
        Master problems solved and their branch-and-bound nodes in all.
    """

    best: NDArray[np.bool_]
    harm: float
    bound: float
    proven: bool
    rounds: int
    nodes: int


class _Cuts:
    """Each class component's exact harm and cut for every set of its candidates solved."""

    def __init__(self, scorer: SetScorer) -> None:
        self.scorer = scorer
        self.n = len(scorer.candidates)
        self.parts = len(scorer.members)
        self.mine = [np.flatnonzero(scorer.component == p) for p in range(self.parts)]
        self.harm: dict[tuple[int, tuple[int, ...]], float] = {}
        self.cuts: list[tuple[int, float, NDArray[np.float64]]] = []

    def solve(self, open_: NDArray[np.bool_]) -> float:
        """Total harm of ``open_`` (harm points), adding a cut per component not seen."""
        scorer, demand = self.scorer, self.scorer.demand
        total = 0.0
        for part in range(self.parts):
            chosen = tuple(int(j) for j in self.mine[part] if open_[j])
            key = (part, chosen)
            if key not in self.harm:
                rows = scorer.rows(part)
                model = scorer.warm(part, chosen)
                prices = model.prices
                children = demand.children[rows]
                constant = float(children @ prices[rows]) - sum(
                    gain_bound(prices, demand, site) for site in scorer.sites(part, ())
                )
                constant -= _DUAL_TOL * (1.0 + float(children.sum()))
                coef = np.zeros(self.n)
                for j in self.mine[part]:
                    coef[j] = gain_bound(prices, demand, scorer.candidates[int(j)])
                self.harm[key] = model.objective
                self.cuts.append((part, constant, coef))
            total += self.harm[key]
        return total

    def known(self, open_: NDArray[np.bool_]) -> bool:
        """Whether every component's part of ``open_`` has been solved (and cut) already."""
        return all(
            (part, tuple(int(j) for j in self.mine[part] if open_[j])) in self.harm
            for part in range(self.parts)
        )

    def lift(self, open_: NDArray[np.bool_]) -> NDArray[np.float64]:
        """The least component bounds the cuts allow for ``open_`` (the master's start)."""
        theta = np.zeros(self.parts)
        for part, constant, coef in self.cuts:
            theta[part] = max(theta[part], constant - float(coef @ open_))
        return theta


def _master(cuts: _Cuts, rules: Rules) -> tuple[MipModel, int]:
    """min sum theta over y (binary, the rules) and theta >= every cut; returns the model and
    the number of candidates (y columns come first)."""
    n, parts = cuts.n, cuts.parts
    cost = np.r_[np.zeros(n), np.ones(parts)]
    lower = np.r_[rules.required.astype(float), np.zeros(parts)]  # harm is never negative
    upper = np.r_[np.where(rules.excluded, 0.0, 1.0), np.full(parts, np.inf)]
    integer = np.r_[np.ones(n, dtype=bool), np.zeros(parts, dtype=bool)]
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
    for part, constant, coef in cuts.cuts:  # theta_part + coef y >= constant
        used = np.flatnonzero(coef)
        ri.append(np.full(len(used) + 1, row))
        ci.append(np.r_[used, n + part])
        va.append(np.r_[coef[used], 1.0])
        lo.append(constant)
        hi.append(np.inf)
        row += 1
    a = sparse.csr_array(
        (np.concatenate(va), (np.concatenate(ri), np.concatenate(ci))), shape=(row, n + parts)
    )
    return MipModel(cost, lower, upper, integer, a, np.array(lo), np.array(hi)), n


def benders(
    scorer: SetScorer,
    rules: Rules,
    start: NDArray[np.bool_],
    limits: MipLimits,
    *,
    deadline: float,
    rounds: int = ROUNDS,
    nodes: int = NODES,
) -> BendersResult:
    """Search for the best set by Benders decomposition from a feasible ``start``.

    Parameters
    ----------
    scorer
        Demand, today's bases and the candidates, by class component.
    rules
        Counts per group, locations, required and excluded candidates.
    start
        An open mask meeting the rules: the first set solved and the master's first incumbent.
    limits
        The gaps that count as proven (the master's own node and time limits come from
        ``rounds``, ``nodes`` and ``deadline``).
    deadline
        ``time.perf_counter()`` value past which no master is started (a safety net).
    rounds, nodes
        Deterministic budgets: sets proposed, and master branch-and-bound nodes in all.

    Returns
    -------
    BendersResult
        The best set solved, its harm, the master's lower bound and whether they met.
    """
    cuts = _Cuts(scorer)
    best = start.copy()
    best_harm = cuts.solve(best)
    bound, spent, done = -np.inf, 0, 0
    while done < rounds and spent < nodes:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        model, n = _master(cuts, rules)
        first = np.r_[best.astype(float), cuts.lift(best)]
        found = solve_highs(
            model,
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
        if limits.proven(best_harm, bound) or found.x is None:
            break
        proposed = found.x[:n] > 0.5
        if cuts.known(proposed):  # its cuts are in the master already: nothing more to learn
            break
        harm = cuts.solve(proposed)
        if harm < best_harm:
            best, best_harm = proposed, harm
        if limits.proven(best_harm, bound):
            break
    return BendersResult(best, best_harm, bound, limits.proven(best_harm, bound), done, spent)
