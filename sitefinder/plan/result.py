"""What the plan needs (:class:`PlanInputs`) and what it gives (:class:`Plan`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from sitefinder.instance import Instance
from sitefinder.model.greedy import GreedyResult
from sitefinder.model.network import Site, Solution

if TYPE_CHECKING:
    from sitefinder.load import AuthorityData

ABS_GAP = 0.01
"""Harm points: a set proven within this of the best possible set is proven optimal (a
hundredth of one journey at the guidance limit; far below the tie tolerance)."""
REL_GAP = 1e-6
"""Or within this fraction of its total harm."""


@dataclass(frozen=True)
class PlanInputs:
    """The authority's arrays and tables the plan is chosen from.

    Attributes
    ----------
    instance
        Demand rows, journeys and harm (:func:`sitefinder.instance.build_instance`).
    schools
        Every school with its eligibility and notes (row order = school positions).
    area_names
        Area name by area code, for the explanations.
    options, option_sites
        Candidate options (``school, urn, phase, need_group``) and their model sites, in the
        scenario's base size.
    existing
        Today's bases.
    greedy
        The greedy build order (its first bases are the MIP's starting point).
    before
        Today's network, solved.
    data
        The inputs read (the robustness runs vary the share of EHC plans needing a base place
        and today's unrecorded places from them); None: those are not varied.
    """

    instance: Instance
    schools: pd.DataFrame
    area_names: pd.Series
    options: pd.DataFrame
    option_sites: Sequence[Site]
    existing: Sequence[Site]
    greedy: GreedyResult
    before: Solution
    data: AuthorityData | None = None


@dataclass(frozen=True)
class Plan:
    """The chosen set of new bases and everything that explains it.

    Attributes
    ----------
    method
        The method that ran: ``optimal`` (HiGHS MIP) or ``greedy`` (greedy plus interchange).
    objective
        Total harm points with the chosen set open.
    greedy_objective
        Total harm points with as many of the greedy build order's first bases instead (NaN
        when ``selection.counts`` fixes the mix, which the build order does not follow).
    gap
        Relative optimality gap of the MIP (0 when proven optimal; NaN for the heuristic,
        but for ``auto``'s greedy fallback: the gap to the exact search's lower bound).
    proven
        Whether the set is proven optimal: its total harm is within ``max(ABS_GAP, REL_GAP
        x harm)`` harm points of the MIP's lower bound (:meth:`proof` says so in words, for
        every output).
    seconds
        Time spent choosing (seconds).
    chosen
        One row per new base: ``choice, urn, name, phase, need_group, need_group_label,
        places, children_served, newly_placed, harm_averted, minutes_before, minutes_after,
        areas_served, greedy_rank, robustness, caveats`` (what its host comes with).
    left_out
        The strongest candidates not chosen: ``urn, name, phase, need_group,
        harm_averted_standalone, reason``.
    robustness
        Share of robustness runs in which each school (URN) hosts a chosen base.
    runs
        Robustness runs made.
    unproven_runs
        Runs stopped by the node limit or the time safety net before proving their set
        within 0.5% of optimal.
    sites
        The chosen bases as model sites (for the network after the plan).
    limit
        What stopped the search for the plan's set early: ``""`` (nothing: proven, or no
        improving swap left), ``"nodes"`` (the node limit: deterministic), ``"budget"``
        (``auto``'s budget for the exact search on a large instance: deterministic; the set
        is the greedy method's, or the exact search's where better) or ``"time"`` (the
        wall-clock safety net: the set may differ between runs). ``notes`` also name any
        limit that stopped a search for a larger set the stopping rule then cut.
    requested
        New bases asked for (``bases``, or the sum of ``selection.counts``).
    stopped
        Bases the stopping rule kept out, one row each, latest first: ``bases`` (the size of
        the set it was in), ``urn, name, phase, need_group, places, newly_placed,
        harm_averted``.
    alternatives
        Equivalent alternatives of each chosen base: ``choice, urn, name, alternative_urn,
        alternative_name, phase, need_group, places, harm_difference`` (harm points the plan
        would add with the alternative in the chosen base's place, at most ``tie_tolerance``
        of that base's harm averted).
    notes
        Sentences about the plan for every output (how many requested bases are worth
        adding; a safety net that stopped the search).
    time_limited_runs
        Robustness runs stopped by the wall-clock safety net.
    stability
        The stability statement (with runs): one row per base in the plan or strongly in
        contention, ``urn, name, phase, need_group, in_plan, share_of_runs, flipped_by``
        (:func:`sitefinder.stability.statement.stability_table`).
    sensitivity
        The one-at-a-time sensitivity (with runs): ``assumption, label, end, value, changed,
        enters, leaves, harm_averted, change, regret``
        (:func:`sitefinder.stability.statement.sensitivity_table`).
    """

    method: str
    objective: float
    greedy_objective: float
    gap: float
    proven: bool
    seconds: float
    chosen: pd.DataFrame
    left_out: pd.DataFrame
    robustness: pd.Series
    runs: int
    unproven_runs: int
    sites: list[Site]
    limit: str = ""
    requested: int = 0
    stopped: pd.DataFrame = field(default_factory=pd.DataFrame)
    alternatives: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    time_limited_runs: int = 0
    stability: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def tied_within_journeys(self) -> bool:
        """Whether an alternative is as good as a chosen base within the accuracy of the
        journeys (beyond the tie tolerance): the plan is then optimal for the model only."""
        table = self.alternatives
        return (
            not table.empty
            and "equivalent_by" in table.columns
            and bool((table["equivalent_by"] == "journey accuracy").any())
        )

    def proof(self, *, brief: bool = False) -> str:
        """How close to the best possible set the plan is, in words: the one phrase every
        output uses (``brief`` leaves out the tolerance, for a map's subtitle)."""
        if self.proven:
            tolerance = f" (no set is better by more than {ABS_GAP:g} harm points)"
            if self.tied_within_journeys:
                # Proven for the model; the journeys' accuracy cannot tell some sets apart.
                return "proven optimal for the model" + (
                    ""
                    if brief
                    else tolerance + "; within the accuracy of the journeys other sets are as"
                    " good (the equivalent alternatives)"
                )
            return "proven optimal" + ("" if brief else tolerance)
        if self.method != "optimal" and self.limit == "budget":  # auto's fallback, bounded
            how = f"heuristic, optimality gap {self.gap:.2%}" + (
                "" if brief else " (the exact search's bound at auto's budget)"
            )
        elif self.method != "optimal":
            how = "heuristic" if brief else "heuristic, no optimality bound"
        elif self.limit == "budget":
            how = f"optimality gap {self.gap:.2%} at auto's budget"
        elif self.limit == "nodes":
            how = f"optimality gap {self.gap:.2%} at the node limit"
        else:
            how = f"optimality gap {self.gap:.2%}"
        if self.limit == "time":
            how += " when the time safety net stopped it"
        return how
