"""Choose which candidate bases to open so that the network's total harm is least.

Existing bases are always open. New bases are picked from candidates under
:class:`SelectionRules`: ``k`` in total or a fixed count per group (e.g. per phase), some
required or excluded, and alternative sizes of one base sharing a ``location`` of which at
most one opens. Children are then assigned as in :mod:`sitefinder.model.assign` (capacities
hold, leftovers carry the unmet-need harm).

Two methods (:class:`SelectionMethod`): an exact mixed-integer programme solved by HiGHS
(binary ``y`` per candidate, continuous flow per allowed pair, unmet slack per row, with the
``x <= min(demand, capacity) y`` strengthening), and a greedy-add plus interchange heuristic
that evaluates each trial set with the assignment LP (swaps on warm LPs, ruled out first by
the LP prices' bound). The exact method first runs Benders decomposition
(:mod:`sitefinder.model.benders`: a small master over the sets, cut by the assignment LP of
each set it proposes), which proves most plans in a handful of rounds; within its fixed
budgets it either proves the set or hands its best set to the full MIP, which finishes.
``auto`` runs the exact method, and beyond the full MIP's size gives Benders a fixed budget:
where that does not prove the set, it keeps the greedy set with Benders' lower bound (its gap
stated). Every stop is on a deterministic limit (Benders' budgets, a node limit, or no
improving swap left) so one instance always gets one answer; the wall-clock limit is a
safety net whose use is reported.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from sitefinder.model import budget as budget_of
from sitefinder.model._highs import MipLimits, MipModel, solve_highs
from sitefinder.model.assign import Pairs, solve_transport
from sitefinder.model.benders import NODES as BENDERS_NODES
from sitefinder.model.benders import ROUNDS as BENDERS_ROUNDS
from sitefinder.model.benders import BendersResult, CutPool, Rules, benders
from sitefinder.model.fill import best_addition
from sitefinder.model.methods import SelectionMethod
from sitefinder.model.network import DemandRows, Site
from sitefinder.model.scoring import SetScorer
from sitefinder.model.warm import WarmTransport

__all__ = [
    "AUTO_MAX_PAIRS",
    "CutPool",
    "SelectionMethod",
    "SelectionResult",
    "SelectionRules",
    "SolverSettings",
    "interchange",
    "select_sites",
]

AUTO_MAX_PAIRS = 200_000
"""``method="auto"`` solves the MIP up to this many allowed (row, site) pairs (Benders, then
the full MIP with what is left of the node limit: it always finishes); beyond, Benders alone
within :data:`AUTO_NODES`, and where that does not prove the set, the greedy set with the
search's bound."""
AUTO_NODES = BENDERS_NODES
"""Beyond :data:`AUTO_MAX_PAIRS`, the master problems' nodes ``auto`` gives Benders (each
master LP counting one, each proposed set at least one; at most ``BENDERS_ROUNDS`` master
MIPs): a deterministic budget, so the same instance always gets the same method and set."""
FULL_MIP_MAX_PAIRS = 200_000
"""The full MIP takes over from Benders up to this many pairs; beyond, its rows and columns
would take gigabytes, and Benders searches alone to the node limit and reports its gap."""

_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class SelectionRules:
    """What a chosen set must satisfy; candidates are numbered 0..n-1.

    Attributes
    ----------
    k
        Candidates to open in total (counting required ones); or give ``counts``.
    counts, groups
        Instead of ``k``: candidates to open per group label, and the group label of each
        candidate (e.g. ``"primary/semh"``).
    required, excluded
        Candidates that must / must not open.
    locations
        A location id per candidate (e.g. the school); alternatives of one base (its sizes)
        share an id and at most one candidate per location opens. Default: every candidate is
        its own location.
    cost, budget
        The capital of each candidate (£) and the most the opened candidates may cost together
        (:mod:`sitefinder.model.budget`); with a budget, ``k`` and ``counts`` are the most to
        open (the best set within it may hold fewer). None: no budget.
    """

    k: int | None = None
    counts: Mapping[str, int] | None = None
    groups: Sequence[str] | None = None
    required: Sequence[int] = ()
    excluded: Sequence[int] = ()
    locations: Sequence[Hashable] | None = None
    cost: Sequence[float] | None = None
    budget: float | None = None

    def restricted(self, keep: Sequence[int]) -> SelectionRules:
        """The same rules over the candidates ``keep`` only, renumbered 0..len(keep)-1."""
        position = {int(c): i for i, c in enumerate(keep)}
        return replace(
            self,
            groups=None if self.groups is None else [self.groups[c] for c in keep],
            required=[position[c] for c in self.required if c in position],
            excluded=[position[c] for c in self.excluded if c in position],
            locations=None if self.locations is None else [self.locations[c] for c in keep],
            cost=None if self.cost is None else [self.cost[c] for c in keep],
        )

    def one_fewer(self, candidate: int) -> SelectionRules:
        """The same rules with one base fewer in ``candidate``'s group (or in total)."""
        if self.counts is None or self.groups is None:
            return replace(self, k=max((self.k or 0) - 1, 0))
        counts = dict(self.counts)
        counts[self.groups[candidate]] = max(counts[self.groups[candidate]] - 1, 0)
        return replace(self, counts=counts)

    def total(self) -> int:
        """Candidates to open in total."""
        return int(sum(self.counts.values())) if self.counts is not None else int(self.k or 0)


@dataclass(frozen=True, slots=True)
class SolverSettings:
    """How a selection is solved and when the solver stops.

    Attributes
    ----------
    method
        :class:`SelectionMethod`.
    node_limit
        Branch-and-bound nodes the exact search may explore (Benders' master problems first,
        then the full MIP with what is left): the deciding limit, deterministic, so the same
        instance gets the same set and gap in every run.
    time_limit
        Wall-clock seconds overall: a safety net only (where it stops depends on the machine);
        a result it stopped says so (``limit == "time"``).
    rel_gap, abs_gap
        The MIP is proven optimal once its set's total harm is within ``max(abs_gap, rel_gap
        x harm)`` harm points of the lower bound.
    """

    method: SelectionMethod = SelectionMethod.auto
    node_limit: int = 10_000
    time_limit: float = 600.0
    rel_gap: float = 1e-6
    abs_gap: float = 1e-6

    def limits(self, time_limit: float) -> MipLimits:
        """The MIP's gaps and limits with ``time_limit`` seconds left.

        HiGHS's own heuristics and restarts are off: the selection always starts HiGHS from a
        feasible set (the greedy build order's, or a quick one), and on a real authority those
        sub-MIPs and restarts re-solve the root LP several times over without improving on the
        set the search proves (Trafford, 4 bases: 11 s against 3 s, the same set).
        """
        return MipLimits(
            rel_gap=self.rel_gap,
            abs_gap=self.abs_gap,
            node_limit=self.node_limit,
            time_limit=time_limit,
            heuristics=False,
            restarts=False,
        )


@dataclass(frozen=True, slots=True)
class SelectionResult:
    """Chosen candidates and the optimal assignment of children to the resulting network.

    Sites are numbered existing first (``0..n_existing-1``) then candidates
    (``n_existing + c`` for candidate ``c``).

    Attributes
    ----------
    chosen
        Indices of the opened candidates, sorted ascending.
    assignment
        The optimal flows, solved when first read: ``pair_row``, ``pair_site`` (every allowed
        (demand row, site) pair of the open sites), ``flow`` (children assigned along each
        pair) and ``unmet`` (children of each demand row left without a place).
    objective
        Total harm points (pair harm times flow plus unmet-need harm).
    gap
        Relative optimality gap (at most 1: harm is never negative); 0.0 when proven optimal,
        NaN for the heuristic alone (``auto``'s greedy fallback has Benders' bound: finite).
    proven
        True when the selection is proven optimal (within the settings' gaps).
    seconds
        Wall-clock seconds spent.
    method
        ``"optimal"`` or ``"greedy"``: the method that was run.
    limit
        ``""`` when the method finished (proven, or no improving swap left); ``"nodes"``
        when the MIP's node limit stopped it (deterministic); ``"budget"`` when ``auto``'s
        budget for Benders (:data:`AUTO_NODES`) ran out unproven and it fell back (also
        deterministic); ``"time"`` when the wall-clock
        safety net did (the set may then differ between runs).
    """

    chosen: NDArray[np.intp]
    assignment: _Assignment = field(repr=False, compare=False)
    objective: float
    gap: float
    proven: bool
    seconds: float
    method: str
    limit: str = ""

    @property
    def pair_row(self) -> NDArray[np.intp]:
        return self.assignment.flows().pair_row

    @property
    def pair_site(self) -> NDArray[np.intp]:
        return self.assignment.flows().pair_site

    @property
    def flow(self) -> NDArray[np.float64]:
        return self.assignment.flows().flow

    @property
    def unmet(self) -> NDArray[np.float64]:
        return self.assignment.flows().unmet


class _Assignment:
    """The optimal flows of a chosen set, solved when first read (the plan re-solves its
    network in its own order, so most selections never need them)."""

    def __init__(self, problem: _Problem, open_: NDArray[np.bool_]) -> None:
        self._problem, self._open = problem, open_.copy()
        self._flows: _Flows | None = None

    def flows(self) -> _Flows:
        if self._flows is None:
            self._flows = self._problem.evaluate(self._open)[1]
        return self._flows


@dataclass(frozen=True, slots=True)
class _Problem:
    """Validated selection rules, candidates indexed 0..n-1."""

    demand: DemandRows
    existing: Sequence[Site]
    candidates: Sequence[Site]
    group: NDArray[np.intp]  # group number per candidate
    count: NDArray[np.intp]  # sites to open per group
    location: NDArray[np.intp]  # location number per candidate
    required: NDArray[np.bool_]
    excluded: NDArray[np.bool_]
    scorer: SetScorer
    cost: NDArray[np.float64]  # capital per candidate (£)
    budget: float  # the most the open candidates may cost (£; inf: no budget)

    def score(self, open_: NDArray[np.bool_]) -> float:
        """Total harm of the network with ``open_`` candidates (components cached)."""
        return self.scorer.harm(open_)

    def evaluate(self, open_: NDArray[np.bool_]) -> tuple[float, _Flows]:
        sites = list(self.existing) + [s for s, o in zip(self.candidates, open_, strict=True) if o]
        index = np.r_[
            np.arange(len(self.existing)), len(self.existing) + np.flatnonzero(open_)
        ].astype(np.intp)
        flows = _transport(self.demand, sites, index)
        return flows.objective, flows


@dataclass(frozen=True, slots=True)
class _Flows:
    pair_row: NDArray[np.intp]
    pair_site: NDArray[np.intp]
    flow: NDArray[np.float64]
    unmet: NDArray[np.float64]
    objective: float


def _transport(demand: DemandRows, sites: Sequence[Site], index: NDArray[np.intp]) -> _Flows:
    """Solve the assignment over ``sites``; ``index`` renumbers them in the output."""
    empty = [np.zeros(0, dtype=np.intp)]
    pair_row = np.concatenate([s.rows.astype(np.intp) for s in sites] + empty)
    local = np.concatenate(
        [np.full(len(s.rows), i, dtype=np.intp) for i, s in enumerate(sites)] + empty
    )
    result = solve_transport(
        demand.children,
        np.array([s.capacity for s in sites], dtype=np.float64),
        Pairs(pair_row, local, np.concatenate([s.harm for s in sites] + [np.zeros(0)])),
        demand.unmet_harm,
    )
    site = index[local]
    return _Flows(pair_row, site, result.flows, result.unmet, result.objective)


def _groups(rules: SelectionRules, n: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    if (rules.k is None) == (rules.counts is None):
        raise ValueError("give exactly one of k and counts")
    if rules.counts is None:
        return np.zeros(n, dtype=np.intp), np.array([rules.k], dtype=np.intp)
    if rules.groups is None or len(rules.groups) != n:
        raise ValueError("counts needs one group label per candidate")
    labels = sorted(rules.counts)
    number = {label: g for g, label in enumerate(labels)}
    unknown = {g for g in rules.groups if g not in number}
    if unknown:
        raise ValueError(f"candidates in groups without a count: {sorted(unknown)}")
    group = np.array([number[g] for g in rules.groups], dtype=np.intp)
    return group, np.array([rules.counts[label] for label in labels], dtype=np.intp)


def _problem(
    demand: DemandRows,
    existing: Sequence[Site],
    candidates: Sequence[Site],
    rules: SelectionRules,
    scorer: SetScorer | None = None,
) -> _Problem:
    n = len(candidates)
    n_rows = len(demand)
    for site in [*existing, *candidates]:
        if len(site.rows) != len(site.harm) or (
            len(site.rows) and (site.rows.min() < 0 or site.rows.max() >= n_rows)
        ):
            raise ValueError("a site lists rows outside the demand or rows and harm disagree")
    group, count = _groups(rules, n)
    if (count < 0).any():
        raise ValueError("site counts must be non-negative")
    if rules.locations is None:
        location = np.arange(n, dtype=np.intp)
    else:
        if len(rules.locations) != n:
            raise ValueError("locations needs one id per candidate")
        ids: dict[Hashable, int] = {}
        location = np.array([ids.setdefault(x, len(ids)) for x in rules.locations], dtype=np.intp)
    must = np.zeros(n, dtype=bool)
    must[list(rules.required)] = True
    never = np.zeros(n, dtype=bool)
    never[list(rules.excluded)] = True
    if (must & never).any():
        raise ValueError("a candidate is both required and excluded")
    if len(np.unique(location[must])) < int(must.sum()):
        raise ValueError("two required candidates share a location")
    cost, budget = budget_of.costs_of(rules.cost, n), budget_of.limit_of(rules.budget)
    if not budget_of.within(cost, must, budget):
        raise ValueError("the required candidates cost more than the budget")
    never |= budget_of.too_dear(cost, budget) & ~must
    for g, wanted in enumerate(count):
        in_group = group == g
        if int((must & in_group).sum()) > wanted:
            raise ValueError("more required candidates than sites to open in their group")
        # At most one per location, so distinct usable locations bound what can open.
        usable = len(np.unique(location[in_group & ~never]))
        if usable < wanted and not np.isfinite(budget):  # a budget's counts are at most
            raise ValueError(f"only {usable} openable candidates for a count of {wanted}")
    return _Problem(
        demand,
        existing,
        candidates,
        group,
        count,
        location,
        must,
        never,
        scorer or SetScorer(demand, existing, candidates),
        cost,
        budget,
    )


def _greedy_fill(problem: _Problem, open_: NDArray[np.bool_], deadline: float) -> float:
    """Add the best remaining candidate until every count is met; returns the objective."""
    objective = problem.score(open_)
    while True:
        have = np.bincount(problem.group[open_], minlength=len(problem.count))
        taken = np.zeros(int(problem.location.max(initial=-1)) + 1, dtype=bool)
        taken[problem.location[open_]] = True
        eligible = ~open_ & ~problem.excluded & ~taken[problem.location]
        eligible &= have[problem.group] < problem.count[problem.group]
        eligible &= budget_of.fits(problem.cost, float(problem.cost[open_].sum()), problem.budget)
        if not eligible.any():
            return objective
        best_j, best = best_addition(
            problem.scorer,
            open_,
            objective,
            np.flatnonzero(eligible),
            score=problem.score,
            tolerance=_TOL,
            deadline=deadline,
        )
        open_[best_j] = True
        objective = best


class _Swaps:
    """Harm of the open set with one candidate closed and another opened, on warm LPs.

    Closing ``out`` changes only its component (re-scored exactly); opening ``j`` is a trial on
    a warm LP of ``j``'s component (:class:`sitefinder.model.warm.WarmTransport`), ruled out
    first when even the LP prices' bound on its gain cannot beat ``target``.
    """

    def __init__(self, problem: _Problem, open_: NDArray[np.bool_], objective: float) -> None:
        self.problem, self.open, self.objective = problem, open_.copy(), objective
        self._models: dict[int, WarmTransport] = {}  # components with the open set
        self._out = -1
        self._closed: dict[int, WarmTransport] = {}  # out's component without out
        self._without = objective

    def close(self, out: int) -> float:
        """Close ``out``; return the harm of the open set without it (harm points)."""
        scorer = self.problem.scorer
        self._out = out
        self._closed = {}
        comp = int(scorer.component[out])
        if comp < 0:
            self._without = self.objective
            return self._without
        rest = self.open.copy()
        rest[out] = False
        self._without = (
            self.objective + scorer.part(comp, rest).harm - scorer.part(comp, self.open).harm
        )
        return self._without

    def _model(self, comp: int) -> WarmTransport:
        scorer = self.problem.scorer
        if comp == int(scorer.component[self._out]):
            if comp not in self._closed:
                rest = self.open.copy()
                rest[self._out] = False
                self._closed[comp] = scorer.warm(comp, rest)
            return self._closed[comp]
        if comp not in self._models:
            self._models[comp] = scorer.warm(comp, self.open)
        return self._models[comp]

    def value(self, j: int, target: float) -> float:
        """Harm with ``out`` closed and ``j`` open; any value at least ``target`` may be
        returned as ``inf`` (the bound showed it cannot beat ``target``)."""
        comp = int(self.problem.scorer.component[j])
        if comp < 0:
            return self._without
        model, site = self._model(comp), self.problem.candidates[j]
        # The plain price bound first, the eased one only when that does not rule it out.
        if self._without - model.bound(site, enough=self._without - target - _BOUND) >= (
            target + _BOUND
        ):
            return np.inf
        return self._without - (model.objective - model.trial(site))


_BOUND = 1e-6  # harm points: room for the LP prices' round-off before a bound rules a swap out


def _interchange(
    problem: _Problem, deadline: float, start: NDArray[np.bool_] | None = None
) -> tuple[NDArray[np.bool_], float, bool]:
    """Greedy fill, then first-improvement swaps until none helps.

    Returns the open set, its harm, and whether the ``deadline`` (the safety net) cut it short.
    """
    open_ = problem.required.copy() if start is None else start | problem.required
    objective = _greedy_fill(problem, open_, deadline)
    improved = True
    while improved:
        if time.perf_counter() >= deadline:
            return open_, objective, True
        improved = False
        swaps = _Swaps(problem, open_, objective)
        for out in np.flatnonzero(open_ & ~problem.required):
            # Same group, and a location not held by another open candidate.
            taken = np.zeros(int(problem.location.max()) + 1, dtype=bool)
            taken[problem.location[open_]] = True
            taken[problem.location[out]] = False
            trial = ~open_ & ~problem.excluded & ~taken[problem.location]
            trial &= problem.group == problem.group[out]
            spent = float(problem.cost[open_].sum() - problem.cost[out])
            trial &= budget_of.fits(problem.cost, spent, problem.budget)
            target = objective - _TOL * max(1.0, abs(objective))
            swaps.close(int(out))
            for j in np.flatnonzero(trial):
                if swaps.value(int(j), target) < target:
                    open_[out], open_[j] = False, True
                    objective, improved = problem.score(open_), True
                    swaps = _Swaps(problem, open_, objective)
                    break
            if time.perf_counter() > deadline:
                return open_, objective, True
    return open_, objective, False


def _quick_start(problem: _Problem) -> NDArray[np.bool_]:
    """A feasible open set in one pass: required sites, then the candidates that could avert
    the most unmet-need harm on their own, group by group, one per location."""
    demand = problem.demand
    value = np.array(
        [
            min(
                float(s.capacity),
                float(demand.children[s.rows][s.harm < demand.unmet_harm[s.rows]].sum()),
            )
            * float(np.mean(np.clip(demand.unmet_harm[s.rows] - s.harm, 0.0, None)))
            if len(s.rows)
            else 0.0
            for s in problem.candidates
        ]
    )
    open_ = problem.required.copy()
    taken = set(problem.location[open_].tolist())
    for j in np.argsort(-value, kind="stable"):
        g = problem.group[j]
        have = int((open_ & (problem.group == g)).sum())
        if open_[j] or problem.excluded[j] or problem.location[j] in taken:
            continue
        if have < problem.count[g] and budget_of.within(problem.cost, open_, problem.budget, j):
            open_[j] = True
            taken.add(int(problem.location[j]))
    return open_


def _valid_start(problem: _Problem, start: Sequence[int] | None) -> NDArray[np.bool_] | None:
    """``start`` as an open mask when it meets every rule, else None."""
    if start is None:
        return None
    open_ = np.zeros(len(problem.candidates), dtype=bool)
    open_[list(start)] = True
    have = np.bincount(problem.group[open_], minlength=len(problem.count))
    locations = problem.location[open_]
    budgeted = np.isfinite(problem.budget)
    if (
        (open_ & problem.excluded).any()
        or (problem.required & ~open_).any()
        or not ((have <= problem.count).all() if budgeted else np.array_equal(have, problem.count))
        or not budget_of.within(problem.cost, open_, problem.budget)
        or len(np.unique(locations)) < len(locations)
    ):
        return None
    return open_


@dataclass(frozen=True, slots=True)
class _Outcome:
    method: str
    gap: float
    proven: bool
    limit: str
    started: float


def _selection(problem: _Problem, open_: NDArray[np.bool_], outcome: _Outcome) -> SelectionResult:
    return SelectionResult(
        np.flatnonzero(open_).astype(np.intp),
        _Assignment(problem, open_),
        problem.score(open_),
        outcome.gap,
        outcome.proven,
        time.perf_counter() - outcome.started,
        outcome.method,
        outcome.limit,
    )


def interchange(
    demand: DemandRows,
    existing: Sequence[Site],
    candidates: Sequence[Site],
    rules: SelectionRules,
    *,
    time_limit: float = 600.0,
) -> SelectionResult:
    """Greedy add then first-improvement swaps, each trial set solved as an assignment LP.

    Parameters are as for :func:`select_sites`. Swaps stay within a candidate's group and
    respect locations; required candidates never leave. Stops when no swap lowers the harm;
    ``time_limit`` seconds is a safety net (the greedy fill always completes).

    Returns
    -------
    SelectionResult
        A swap-stable selection (``gap`` NaN, ``proven`` False).
    """
    started = time.perf_counter()
    problem = _problem(demand, existing, candidates, rules)
    open_, _, cut = _interchange(problem, started + time_limit)
    outcome = _Outcome("greedy", float("nan"), False, "time" if cut else "", started)
    return _selection(problem, open_, outcome)


def _mip_model(problem: _Problem) -> tuple[MipModel, NDArray[np.intp]]:
    """The selection MIP; columns are y (candidates), x (pairs), u (rows)."""
    demand = problem.demand
    n_rows, n_cand = len(demand), len(problem.candidates)
    sites = [*problem.existing, *problem.candidates]
    n_ex = len(problem.existing)
    pair_row = np.concatenate([s.rows.astype(np.intp) for s in sites] or [np.zeros(0, np.intp)])
    pair_site = np.concatenate(
        [np.full(len(s.rows), i, dtype=np.intp) for i, s in enumerate(sites)]
        or [np.zeros(0, np.intp)]
    )
    pair_harm = np.concatenate([s.harm for s in sites] or [np.zeros(0)])
    capacity = np.array([s.capacity for s in sites], dtype=np.float64)
    n_pairs = len(pair_row)
    y0, x0, u0 = 0, n_cand, n_cand + n_pairs
    n_cols = u0 + n_rows
    cost = np.concatenate([np.zeros(n_cand), pair_harm, demand.unmet_harm])
    lower = np.zeros(n_cols)
    lower[y0 + np.flatnonzero(problem.required)] = 1.0
    upper = np.full(n_cols, np.inf)
    upper[:n_cand] = np.where(problem.excluded, 0.0, 1.0)
    integer = np.zeros(n_cols, dtype=bool)
    integer[:n_cand] = True
    ri: list[NDArray[np.intp]] = []
    ci: list[NDArray[np.intp]] = []
    va: list[NDArray[np.float64]] = []
    lo: list[NDArray[np.float64]] = []
    hi: list[NDArray[np.float64]] = []
    row = 0
    # Every child is placed or unmet.
    pairs = np.arange(n_pairs)
    ri += [pair_row, np.arange(n_rows)]
    ci += [x0 + pairs, u0 + np.arange(n_rows)]
    va += [np.ones(n_pairs), np.ones(n_rows)]
    lo.append(demand.children.astype(np.float64))
    hi.append(demand.children.astype(np.float64))
    row += n_rows
    # Capacity, switched off for closed candidates.
    n_sites = len(sites)
    ri += [row + pair_site, row + n_ex + np.arange(n_cand)]
    ci += [x0 + pairs, y0 + np.arange(n_cand)]
    va += [np.ones(n_pairs), -capacity[n_ex:]]
    lo.append(np.full(n_sites, -np.inf))
    hi.append(np.r_[capacity[:n_ex], np.zeros(n_cand)])
    row += n_sites
    # x <= min(demand, capacity) y: the LP cannot spread a row thinly over half-open sites.
    new = np.flatnonzero(pair_site >= n_ex)
    bound = np.minimum(demand.children[pair_row[new]], capacity[pair_site[new]])
    ri += [row + np.arange(len(new)), row + np.arange(len(new))]
    ci += [x0 + new, y0 + pair_site[new] - n_ex]
    va += [np.ones(len(new)), -bound]
    lo.append(np.full(len(new), -np.inf))
    hi.append(np.zeros(len(new)))
    row += len(new)
    # Counts per group.
    n_groups = len(problem.count)
    ri.append(row + problem.group)
    ci.append(y0 + np.arange(n_cand))
    va.append(np.ones(n_cand))
    lo.append(budget_of.count_lower(problem.count, problem.budget))
    hi.append(problem.count.astype(np.float64))
    row += n_groups
    knapsack = budget_of.budget_row(problem.cost, problem.budget, row=row, first=y0)
    if knapsack is not None:  # the capital of the open candidates within the budget
        ri.append(knapsack[0])
        ci.append(knapsack[1])
        va.append(knapsack[2])
        lo.append(np.array([knapsack[3]]))
        hi.append(np.array([knapsack[4]]))
        row += 1
    # At most one alternative per location (only where a location has several).
    sizes = np.bincount(problem.location, minlength=int(problem.location.max(initial=-1)) + 1)
    shared = np.flatnonzero(sizes[problem.location] > 1)
    if len(shared):
        _, rank = np.unique(problem.location[shared], return_inverse=True)
        ri.append(row + rank)
        ci.append(y0 + shared)
        va.append(np.ones(len(shared)))
        n_loc = int(rank.max()) + 1
        lo.append(np.full(n_loc, -np.inf))
        hi.append(np.ones(n_loc))
        row += n_loc
    a = sparse.csr_array(
        (np.concatenate(va), (np.concatenate(ri), np.concatenate(ci))), shape=(row, n_cols)
    )
    model = MipModel(cost, lower, upper, integer, a, np.concatenate(lo), np.concatenate(hi))
    return model, pair_site


def _mip(
    problem: _Problem, start: NDArray[np.bool_], limits: MipLimits
) -> tuple[NDArray[np.bool_] | None, float, str]:
    """Solve the selection MIP: the open candidates (None if none found), bound and limit."""
    model, pair_site = _mip_model(problem)
    n_cand, n_ex = len(problem.candidates), len(problem.existing)
    # MIP start: the heuristic's sites with their optimal flows.
    _, flows = problem.evaluate(start)
    x_start = np.zeros(len(model.cost))
    x_start[:n_cand] = start
    is_open = np.r_[np.ones(n_ex, dtype=bool), start]
    x_start[n_cand + np.flatnonzero(is_open[pair_site])] = flows.flow
    x_start[n_cand + len(pair_site) :] = flows.unmet
    result = solve_highs(model, start=x_start, limits=limits)
    chosen = None if result.x is None else result.x[:n_cand] > 0.5
    # HiGHS's dual bound stays valid whether it stopped at the gap, a limit, or proved
    # optimality; stopped before it had one, nothing is proven.
    bound = result.bound
    if not np.isfinite(bound):
        bound = result.objective if result.optimal else -np.inf
    return chosen, bound, result.limit


def _best_one(problem: _Problem) -> NDArray[np.bool_]:
    """The best single candidate, exactly: each allowed one tried on a warm LP of today's
    network, best price bound first, until no bound can beat the best found (ties to the
    lowest index); none when none is allowed (a budget below them all)."""
    open_ = np.zeros(len(problem.candidates), dtype=bool)
    scorer = problem.scorer
    allowed = [int(j) for j in np.flatnonzero(~problem.excluded) if scorer.component[j] >= 0]
    if not allowed:
        return open_
    none = np.zeros(0, dtype=np.intp)
    # The cheap price bound orders them; the dearer eased one only for those about to be tried.
    bounds = np.array(
        [
            scorer.warm(int(scorer.component[j]), none).bound(problem.candidates[j], enough=np.inf)
            for j in allowed
        ]
    )
    best, best_j = -np.inf, allowed[0]
    for i in np.argsort(-bounds, kind="stable"):
        if bounds[i] < best - _BOUND:
            break
        j = allowed[int(i)]
        model = scorer.warm(int(scorer.component[j]), none)
        if model.bound(problem.candidates[j], enough=best - _BOUND) < best - _BOUND:
            continue  # the eased bound rules it out
        gain = model.objective - model.trial(problem.candidates[j])
        if gain > best + _TOL or (gain >= best - _TOL and j < best_j):
            best, best_j = gain, j
    open_[best_j] = True
    return open_


def _fallback(
    problem: _Problem,
    search: BendersResult,
    given: NDArray[np.bool_] | None,
    limits: MipLimits,
    started: float,
    deadline: float,
) -> SelectionResult:
    """``auto`` where Benders did not prove a set within its budget: the greedy method's set
    (the better of it and Benders' best, ties to the greedy), with the gap to Benders' lower
    bound, which holds for every set under the rules; ``limit`` is ``"budget"``."""
    open_, harm, cut = _interchange(problem, deadline, given)
    method = "greedy"
    if problem.score(search.best) < harm - max(limits.abs_gap, limits.rel_gap * abs(harm)):
        open_, harm, method = search.best, problem.score(search.best), "optimal"
    proven = limits.proven(harm, search.bound)
    gap = 0.0 if proven or abs(harm) <= _TOL else min(1.0, (harm - search.bound) / abs(harm))
    limit = "" if proven else "time" if cut or search.limit == "time" else "budget"
    return _selection(problem, open_, _Outcome(method, gap, proven, limit, started))


def select_sites(
    demand: DemandRows,
    existing: Sequence[Site],
    candidates: Sequence[Site],
    rules: SelectionRules,
    *,
    settings: SolverSettings | None = None,
    start: Sequence[int] | None = None,
    scorer: SetScorer | None = None,
    cuts: CutPool | None = None,
) -> SelectionResult:
    """Open candidate bases so that the network's total harm is least.

    Parameters
    ----------
    demand
        Demand rows: children, class, unmet-need harm per child (harm points).
    existing
        Bases that are open whatever is chosen.
    candidates
        Bases that may be opened; each lists only its allowed (row, harm per child) pairs.
    rules
        How many to open (in total or per group), required and excluded candidates, and
        locations of which at most one candidate opens.
    settings
        Method, limits and gaps (default :class:`SolverSettings`).
    start
        Candidates to start from (e.g. the greedy build order's first picks). ``greedy`` runs
        its interchange from them; ``optimal`` gives them to HiGHS as its starting solution.
        Ignored unless they meet every rule.
    scorer
        A :class:`SetScorer` of the same demand, existing bases and candidates to share (its
        solved sets and warm LPs), e.g. across the searches of the stopping rule.
    cuts
        A :class:`CutPool` over the same scorer to share: the exact method's cuts hold for every
        set of these candidates under any rules, so a selection with one base fewer starts from
        every cut the last one found.

    Returns
    -------
    SelectionResult
        Opened candidates, the optimal flows for them, total harm points, gap, proof flag and
        the limit that stopped the search, if any.

    Raises
    ------
    ValueError
        When the rules contradict each other or cannot be met.
    """
    settings = settings or SolverSettings()
    started = time.perf_counter()
    if cuts is not None and scorer is not None and cuts.scorer is not scorer:
        raise ValueError("the cut pool belongs to another scorer")
    problem = _problem(demand, existing, candidates, rules, cuts.scorer if cuts else scorer)
    method = SelectionMethod(settings.method)
    n_pairs = sum(len(s.rows) for s in [*existing, *candidates])
    # auto beyond the MIP's size: exact where Benders proves it within its budget, else greedy.
    budgeted = method is SelectionMethod.auto and n_pairs > AUTO_MAX_PAIRS
    if method is SelectionMethod.auto:
        method = SelectionMethod.optimal
    given = _valid_start(problem, start)
    if method is SelectionMethod.greedy:
        open_, _, cut = _interchange(problem, started + settings.time_limit, given)
        outcome = _Outcome("greedy", float("nan"), False, "time" if cut else "", started)
        return _selection(problem, open_, outcome)
    if len(problem.count) == 1 and int(problem.count[0]) == 1 and not problem.required.any():
        return _selection(problem, _best_one(problem), _Outcome("optimal", 0.0, True, "", started))
    # The search improves any feasible start quickly; a costly heuristic start rarely pays.
    open_ = given if given is not None else _quick_start(problem)
    upper = problem.score(open_)
    limits = settings.limits(settings.time_limit - (time.perf_counter() - started))
    arrays = Rules(
        problem.group,
        problem.count,
        problem.location,
        problem.required,
        problem.excluded,
        problem.cost,
        problem.budget,
    )
    # Benders first: a few small masters prove most plans; the full MIP finishes the rest
    # where it is small enough to build (on a large authority Benders has the whole budget).
    deadline = started + settings.time_limit
    full = n_pairs <= FULL_MIP_MAX_PAIRS
    # The master's nodes count to the limit; alone, each set it proposes costs one at least.
    budget = min(BENDERS_NODES, settings.node_limit) if full else settings.node_limit
    rounds = BENDERS_ROUNDS if full else budget
    if budgeted:
        budget, rounds = min(AUTO_NODES, settings.node_limit), BENDERS_ROUNDS
    pool = cuts if cuts is not None else CutPool(problem.scorer)
    search = benders(pool, arrays, open_, limits, deadline=deadline, nodes=budget, rounds=rounds)
    chosen, bound, limit = search.best, search.bound, search.limit
    if budgeted and not search.proven:
        return _fallback(problem, search, given, limits, started, deadline)
    if not search.proven and full:
        seed = open_ if upper <= problem.score(search.best) else search.best
        left = settings.time_limit - (time.perf_counter() - started)
        limits = replace(settings, node_limit=max(settings.node_limit - search.nodes, 0)).limits(
            left
        )
        found, mip_bound, limit = _mip(problem, seed, limits)
        chosen, bound = (seed if found is None else found), max(bound, mip_bound)
    value = problem.score(chosen)
    if value < upper:
        open_, upper = chosen, value
    proven = limits.proven(upper, bound)
    # Without a lower bound the gap is as wide as the harm itself (harm is never below 0).
    gap = 0.0 if proven or abs(upper) <= _TOL else min(1.0, (upper - bound) / abs(upper))
    outcome = _Outcome("optimal", gap, proven, "" if proven else limit, started)
    return _selection(problem, open_, outcome)
