"""The stopping rule: a new base enters the plan only if it is worth adding.

A base is worth adding when, with the rest of the plan open, it brings at least
``min_children`` children into a base place who had none (default: half its places) or averts
at least ``min_harm_averted`` harm points (default 1: one journey at the guidance limit). A base
that averts no harm never is. Nor is a base the children it is expected to serve (its flow in
the set's optimum) would fill less than ``min_occupancy`` of (``selection.min_occupancy``):
no half-empty base passes on harm points alone. :func:`choose_set` chooses the best set; if
one of its bases fails the stopping rule it chooses again with one base fewer, until every
base passes (required bases stay whatever they add). A base that fails on occupancy is left
out instead, with as many bases sought (the best set would otherwise keep choosing it, a base
averting much harm, and drop good bases one by one); a base with fewer children within reach
than its occupancy needs is left out from the start: where a smaller size
of it (``selection.sizes``) would be filled, only its larger sizes are left out; else every
size of it. The same procedure chooses the plan, every robustness run and each year of the
programme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from sitefinder.config import Scenario
from sitefinder.disclosure import format_count
from sitefinder.errors import ScenarioError
from sitefinder.model.greedy import Pick
from sitefinder.model.network import DemandRows, Site
from sitefinder.model.scoring import SetScorer
from sitefinder.model.select import (
    CutPool,
    SelectionResult,
    SelectionRules,
    SolverSettings,
    select_sites,
)
from sitefinder.model.warm import ComponentTrials
from sitefinder.plan.candidates import Candidates

_IDLE = 1e-6  # harm points: a base averting less than this averts nothing
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class StoppingRule:
    """When a new base is worth adding.

    Attributes
    ----------
    min_children
        Children it must bring into a base place who had none; None: half its places.
    min_harm_averted
        Or the harm points it must avert (1 = one journey at the guidance limit).
    """

    min_children: float | None = None
    min_harm_averted: float = 1.0
    min_occupancy: float = 0.0

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> StoppingRule:
        """The rule of ``scenario.selection``."""
        selection = scenario.selection
        return cls(selection.min_children, selection.min_harm_averted, selection.min_occupancy)

    def fills(self, *, served: float, places: float) -> bool:
        """Whether ``served`` children fill at least ``min_occupancy`` of ``places``."""
        return served >= self.min_occupancy * places - 1e-6

    def children_needed(self, places: float) -> float:
        """Children a base of ``places`` places must newly place."""
        return places / 2 if self.min_children is None else self.min_children

    def passes(self, *, newly_placed: float, harm_averted: float, places: float) -> bool:
        """Whether a base that newly places ``newly_placed`` children (who had no base place)
        and averts ``harm_averted`` harm points is worth adding."""
        if harm_averted <= _IDLE:
            return False
        return (
            newly_placed >= self.children_needed(places) - _EPS
            or harm_averted >= self.min_harm_averted - _EPS
        )

    def judge(self, pick: Pick, *, places: float) -> str:
        """Why a greedy order's ``pick``, a base of ``places`` places judged by what it adds
        to the picks before it, is refused: ``"rule"``, ``"occupancy"``, or ``""`` (it
        passes)."""
        if not self.passes(
            newly_placed=pick.newly_placed, harm_averted=pick.marginal, places=places
        ):
            return "rule"
        return "" if self.fills(served=pick.served, places=places) else "occupancy"

    def admit(
        self, picks: Sequence[Pick], *, places: float, refusals: int, limit: int | None = None
    ) -> Admitted:
        """The picks of a greedy order the rule admits, in order, passing over those it
        refuses until it has refused ``refusals`` (the order ends there) or admitted ``limit``.
        """
        admitted: list[Pick] = []
        refused: list[tuple[int, Pick, str]] = []
        for number, pick in enumerate(picks, start=1):
            if limit is not None and len(admitted) >= limit:
                break
            reason = self.judge(pick, places=places)
            if not reason:
                admitted.append(pick)
                continue
            refused.append((number, pick, reason))
            if len(refused) >= refusals:
                break
        return Admitted(admitted, refused)

    def describe(self, places: float, threshold: int) -> str:
        """The rule in words for a base of ``places`` places, after "a base must place"."""
        return (
            f"at least {format_count(self.children_needed(places), threshold)} children who had"
            f" no base place or avert {self.min_harm_averted:.2f} harm points"
        )


@dataclass(frozen=True)
class Admitted:
    """A greedy order's picks the rule admits (:meth:`StoppingRule.admit`), and those it
    refused: (their place in the order from 1, the pick, ``"rule"`` or ``"occupancy"``)."""

    picks: list[Pick]
    refused: list[tuple[int, Pick, str]]


@dataclass(frozen=True)
class Stopped:
    """A base the rule kept out: in a set of ``bases`` bases it added too little, or would be
    filled too little (``reason``: ``"rule"`` or ``"occupancy"``; ``served``: the children it
    would serve), or was cut to a smaller size (``"smaller"``)."""

    bases: int
    candidate: int
    newly_placed: float
    harm_averted: float
    reason: str = "rule"
    served: float = float("nan")


@dataclass(frozen=True)
class SetProblem:
    """A set to choose: demand, today's bases, the candidates, the rules and a start.

    ``start`` lists candidates to start from (e.g. the greedy build order's first picks);
    ignored unless they meet the rules. ``today`` is today's network of this demand and these
    bases as warm LPs (the greedy order's), which the set's LPs start from when given.
    """

    demand: DemandRows
    existing: Sequence[Site]
    candidates: Candidates
    rules: SelectionRules
    start: Sequence[int] | None = None
    today: ComponentTrials | None = None


@dataclass(frozen=True)
class ChosenSet:
    """The best set whose bases all pass the rule.

    Attributes
    ----------
    selection
        The last selection (the chosen set, its flows and how the solver stopped).
    chosen
        Its candidates.
    first
        The first set chosen, with as many bases as the rules ask for.
    stopped
        Bases the rule kept out, in the order it stopped them (largest set first).
    scorer
        Harm of any set of these candidates (cached per class component).
    searches
        Every selection made, largest set first: ``(bases, method, limit, gap)``, where
        ``limit`` is what stopped that search early (``""``, ``"nodes"`` or ``"time"``).
    rules
        The rules of the last selection (the candidates left out on occupancy excluded).
    unfillable
        Candidates left out from the start: fewer children within reach than their
        occupancy needs.
    """

    selection: SelectionResult
    chosen: list[int]
    first: list[int]
    stopped: list[Stopped]
    scorer: SetScorer
    searches: list[tuple[int, str, str, float]]
    rules: SelectionRules | None = None
    unfillable: int = 0


def _select(problem: SetProblem, settings: SolverSettings, cuts: CutPool) -> SelectionResult:
    try:
        return select_sites(
            problem.demand,
            problem.existing,
            problem.candidates.sites,
            problem.rules,
            settings=settings,
            start=problem.start,
            scorer=cuts.scorer,
            cuts=cuts,
        )
    except ValueError as exc:
        raise ScenarioError(f"selection: {exc}") from None


def choose_set(problem: SetProblem, *, settings: SolverSettings, stop: StoppingRule) -> ChosenSet:
    """Choose the best set under the rules, then fewer bases until every base passes ``stop``.

    Raises
    ------
    ScenarioError
        When the selection rules cannot be met.
    """
    candidates = problem.candidates
    scorer = SetScorer(problem.demand, problem.existing, candidates.sites, today=problem.today)
    cuts = CutPool(scorer)  # every count's search starts from every cut the last one found
    required = set(problem.rules.required)
    stopped: list[Stopped] = []
    searches: list[tuple[int, str, str, float]] = []
    first: list[int] | None = None
    hopeless = _unfillable(problem, stop)
    if hopeless:  # fewer children within reach than the occupancy needs: never in the set
        rules = replace(
            problem.rules, excluded=sorted({*problem.rules.excluded, *hopeless} - required)
        )
        problem = replace(problem, rules=_within_reach(rules, candidates))
    while True:
        selection = _select(problem, settings, cuts)
        chosen = [int(c) for c in selection.chosen]
        first = chosen if first is None else first
        searches.append((len(chosen), selection.method, selection.limit, selection.gap))
        full = scorer.score(chosen)
        served = _served(scorer, chosen) if stop.min_occupancy > 0 else {}
        failing = []
        for c in chosen:
            if c in required:
                continue
            without = scorer.score([o for o in chosen if o != c])
            averted, placed = without.harm - full.harm, without.unmet - full.unmet
            places = float(candidates.places[c])
            fills = stop.fills(served=served.get(c, places), places=places)
            passes = stop.passes(newly_placed=placed, harm_averted=averted, places=places)
            if not (passes and fills):
                reason = "rule" if not passes else "occupancy"
                failing.append(
                    Stopped(len(chosen), c, max(placed, 0.0), averted, reason, served.get(c, 0.0))
                )
        if not failing:
            return ChosenSet(
                selection, chosen, first, stopped, scorer, searches, problem.rules, len(hopeless)
            )
        smaller = _smaller(candidates, failing, stop)
        if smaller:  # cut to a size it fills, with as many bases
            stopped.extend(replace(s, reason="smaller") for s in failing if s.candidate in smaller)
            excluded = sorted({*problem.rules.excluded, *(j for c in smaller for j in smaller[c])})
            problem = replace(
                problem,
                rules=replace(problem.rules, excluded=excluded),
                start=[c for c in chosen if c not in smaller],
            )
            continue
        emptier = [s for s in failing if s.reason == "occupancy"]
        if emptier:  # the best set would keep choosing them: out, in every size
            stopped.extend(emptier)
            failed = candidates.option[[s.candidate for s in emptier]]
            out = set(np.flatnonzero(np.isin(candidates.option, failed)).tolist())
            rules = replace(problem.rules, excluded=sorted({*problem.rules.excluded, *out}))
            problem = replace(problem, rules=_within_reach(rules, candidates), start=None)
            continue
        weakest = min(failing, key=lambda s: (s.harm_averted, s.newly_placed, s.candidate))
        stopped.append(weakest)
        problem = replace(
            problem,
            rules=problem.rules.one_fewer(weakest.candidate),
            start=[c for c in chosen if c != weakest.candidate],
        )


def _unfillable(problem: SetProblem, stop: StoppingRule) -> list[int]:
    """Candidates with fewer children in all the rows they may serve than ``stop``'s minimum
    occupancy of their places: no set can fill them (not required ones)."""
    if stop.min_occupancy <= 0:
        return []
    children = problem.demand.children
    required = set(problem.rules.required)
    return [
        c
        for c, site in enumerate(problem.candidates.sites)
        if c not in required
        and not stop.fills(served=float(children[site.rows].sum()), places=site.capacity)
    ]


def _within_reach(rules: SelectionRules, candidates: Candidates) -> SelectionRules:
    """``rules`` asking for no more bases in total than distinct schools left to host one."""
    if rules.counts is not None or rules.k is None:
        return rules
    left = set(rules.excluded)
    usable = len({candidates.locations[c] for c in range(len(candidates.sites)) if c not in left})
    return replace(rules, k=min(rules.k, usable))


def _served(scorer: SetScorer, chosen: Sequence[int]) -> dict[int, float]:
    """Children each chosen candidate serves in the set's optimum."""
    solution = scorer.solution(chosen)
    first = len(scorer.existing)
    load = np.bincount(solution.pair_site, weights=solution.flow, minlength=first + len(chosen))
    return {c: float(load[first + i]) for i, c in enumerate(chosen)}


def _smaller(
    candidates: Candidates, failing: Sequence[Stopped], stop: StoppingRule
) -> dict[int, list[int]]:
    """For each base failing on occupancy alone that a smaller size of it would fill: the
    candidates of its option larger than that size (to exclude)."""
    out: dict[int, list[int]] = {}
    for item in failing:
        if item.reason != "occupancy":
            continue
        c = item.candidate
        mine = np.flatnonzero(candidates.option == candidates.option[c])
        sizes = sorted(
            {int(candidates.places[j]) for j in mine if candidates.places[j] < candidates.places[c]}
        )
        fitting = [p for p in sizes if stop.fills(served=min(item.served, p), places=p)]
        if fitting:
            out[c] = [int(j) for j in mine if candidates.places[j] > fitting[-1]]
    return out
