"""The stopping rule: a new base enters the plan only if it is worth adding.

A base is worth adding when, with the rest of the plan open, it brings at least
``min_children`` children into a base place who had none (default: half its places) or averts
at least ``min_harm_averted`` harm points (default 1: one journey at the guidance limit). A base
that averts no harm never is. :func:`choose_set` chooses the best set; if one of its bases fails
the rule it chooses again with one base fewer, until every base passes (required bases stay
whatever they add). The same procedure chooses the plan and every robustness run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sitefinder.config import Scenario
from sitefinder.disclosure import format_count
from sitefinder.errors import ScenarioError
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

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> StoppingRule:
        """The rule of ``scenario.selection``."""
        return cls(scenario.selection.min_children, scenario.selection.min_harm_averted)

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

    def describe(self, places: float, threshold: int) -> str:
        """The rule in words for a base of ``places`` places, after "a base must place"."""
        return (
            f"at least {format_count(self.children_needed(places), threshold)} children who had"
            f" no base place or avert {self.min_harm_averted:.2f} harm points"
        )


@dataclass(frozen=True)
class Stopped:
    """A base the rule kept out: in a set of ``bases`` bases it added too little."""

    bases: int
    candidate: int
    newly_placed: float
    harm_averted: float


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
    """

    selection: SelectionResult
    chosen: list[int]
    first: list[int]
    stopped: list[Stopped]
    scorer: SetScorer
    searches: list[tuple[int, str, str, float]]


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
    while True:
        selection = _select(problem, settings, cuts)
        chosen = [int(c) for c in selection.chosen]
        first = chosen if first is None else first
        searches.append((len(chosen), selection.method, selection.limit, selection.gap))
        full = scorer.score(chosen)
        failing = []
        for c in chosen:
            if c in required:
                continue
            without = scorer.score([o for o in chosen if o != c])
            averted, placed = without.harm - full.harm, without.unmet - full.unmet
            places = float(candidates.places[c])
            if not stop.passes(newly_placed=placed, harm_averted=averted, places=places):
                failing.append(Stopped(len(chosen), c, max(placed, 0.0), averted))
        if not failing:
            return ChosenSet(selection, chosen, first, stopped, scorer, searches)
        weakest = min(failing, key=lambda s: (s.harm_averted, s.newly_placed, s.candidate))
        stopped.append(weakest)
        problem = replace(
            problem,
            rules=problem.rules.one_fewer(weakest.candidate),
            start=[c for c in chosen if c != weakest.candidate],
        )
