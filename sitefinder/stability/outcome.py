"""What the robustness runs found (:func:`sitefinder.stability.runs.robustness_runs`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sitefinder.stability.ranges import Assumption, End

Key = tuple[str, str, str]
"""A base: ``(urn, phase, need group)``."""


@dataclass(frozen=True)
class Flip:
    """Where one assumption, alone, flips one base.

    Attributes
    ----------
    key
        The base.
    assumption
        The assumption.
    end
        The end of its range (``low``, ``high``) or the choice it was set at.
    enters
        Whether the base enters the plan there (else it leaves).
    value
        The value past which it does, on the way from the setting towards ``end`` (a choice:
        the choice itself).
    at_end
        Whether it is only known to flip by the end (``value``), not searched for.
    """

    key: Key
    assumption: Assumption
    end: str
    enters: bool
    value: End
    at_end: bool = False


@dataclass(frozen=True)
class RobustnessRuns:
    """What the runs found.

    Attributes
    ----------
    shares
        Share of runs in which each school (URN) hosts a chosen base.
    runs, unproven, time_limited
        Runs made, those not proven within 0.5% of optimal, those the clock stopped.
    hits
        Runs in which each base was chosen.
    plan
        The bases chosen with every assumption at its setting and no demand noise (the
        sensitivity's reference).
    averted
        The harm points the reference's bases avert (against today's network, at the
        settings).
    sensitivity
        One row per assumption and end: ``assumption, label, end, value, changed, enters,
        leaves`` (``enters``/``leaves``: the bases, as keys), ``harm_averted`` (by the bases
        chosen there), ``change`` (that less :attr:`averted`) and ``regret`` (the harm points
        the reference's bases would add there against the bases chosen there).
    flips
        Each base's flips, one assumption at a time.
    assumptions
        The assumptions varied.
    """

    shares: pd.Series
    runs: int
    unproven: int
    time_limited: int
    hits: dict[Key, int] = field(default_factory=dict)
    plan: frozenset[Key] = frozenset()
    averted: float = float("nan")
    sensitivity: list[dict[str, object]] = field(default_factory=list)
    flips: list[Flip] = field(default_factory=list)
    assumptions: list[Assumption] = field(default_factory=list)
