"""Where a base flips: the value of one assumption, alone, at which it enters or leaves the
plan, found by halving the way from the setting to the end of the range where it does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sitefinder.stability.outcome import Key
from sitefinder.stability.ranges import Assumption, End, between
from sitefinder.stability.trial import Job, Trial, solve

BISECTIONS = 4
"""Halvings of the way from a setting to the end of its range where the plan changes: the
value at which a base flips is found within 1/32 of that way."""


@dataclass(frozen=True)
class Search:
    """Where the bases ``keys`` flip as ``assumption`` goes from its setting (0) to ``end``
    (1), where the plan is ``there``; ``solved`` holds the plans already found on the way, by
    point."""

    assumption: Assumption
    name: str
    end: End
    keys: tuple[Key, ...]
    plan: frozenset[Key]
    there: frozenset[Key]
    solved: Mapping[float, frozenset[Key]] = field(default_factory=dict)


@dataclass(frozen=True)
class Found:
    """What a search found: the point at which each base flips, and the plans it solved."""

    points: dict[Key, float]
    solved: dict[float, frozenset[Key]]


def bisect(trial: Trial, search: Search) -> Found:
    """The point of the way from the setting (0) to the end (1) at which each base of
    ``search`` first flips, and any other base that flips on the way (a task: run here or on a
    worker).

    The plan is a step function of the point: an interval whose two ends have the same plan is
    taken to hold it throughout, and one whose ends differ is halved, nearer half first, until
    it is ``1 / 2**BISECTIONS`` wide; a base flips in the middle of the first such interval
    that moves it. The search stops once every base asked about has flipped, so bases flipping
    together cost one search, and changes beyond them cost nothing.
    """
    assumption = search.assumption
    found: dict[Key, float] = {}
    solved = dict(search.solved)
    starts: dict[float, tuple[int, ...]] = {}

    def at(t: float) -> frozenset[Key]:
        if t not in solved:
            value = between(assumption.setting, search.end, t)
            # From the nearest set found towards the setting: most intervals hold one plan.
            nearer = [starts[s] for s in sorted(starts) if s < t]
            job = Job({assumption.key: value}, exact=True, start=nearer[-1] if nearer else None)
            outcome = solve(trial, job)
            solved[t], starts[t] = outcome.keys, outcome.first
        return solved[t]

    def split(low: float, high: float, first: frozenset[Key], last: frozenset[Key]) -> None:
        if first == last or all(key in found for key in search.keys):
            return
        if high - low <= 1.0 / 2**BISECTIONS:
            for key in sorted(first ^ last):
                if key not in found and (key in last) != (key in search.plan):
                    found[key] = (low + high) / 2
            return
        middle = (low + high) / 2
        inside = at(middle)
        split(low, middle, first, inside)
        split(middle, high, inside, last)

    split(0.0, 1.0, search.plan, search.there)
    return Found(found, solved)
