"""Every base the plan may open, and the scenario's rules as :class:`SelectionRules`."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.config import Scenario
from sitefinder.errors import ScenarioError
from sitefinder.model.greedy import GreedyResult
from sitefinder.model.network import Site
from sitefinder.model.select import SelectionRules
from sitefinder.model.standalone import StandaloneValues


@dataclass(frozen=True)
class Candidates:
    """Every base the plan may open: each option (school x phase x group) in each size.

    Attributes
    ----------
    sites
        The bases as model sites.
    option
        The option (row of the options table) of each.
    places
        Its size (places).
    locations
        Its school (position): at most one new base per school.
    labels
        Its ``phase/need_group``.
    """

    sites: list[Site]
    option: NDArray[np.intp]
    places: NDArray[np.int64]
    locations: list[int]
    labels: list[str]

    def subset(self, keep: Sequence[int]) -> Candidates:
        """The candidates ``keep`` only, renumbered 0..len(keep)-1."""
        index = np.asarray(keep, dtype=np.intp)
        return Candidates(
            [self.sites[c] for c in index],
            self.option[index],
            self.places[index],
            [self.locations[c] for c in index],
            [self.labels[c] for c in index],
        )

    def of_option(self, option: int, size: int) -> int:
        """The candidate of ``option`` in ``size`` places (else its first size)."""
        mine = np.flatnonzero(self.option == option)
        sized = mine[self.places[mine] == size]
        return int(sized[0] if len(sized) else mine[0])


def build_candidates(
    scenario: Scenario, options: pd.DataFrame, option_sites: Sequence[Site]
) -> Candidates:
    """Each option in each of ``selection.sizes`` (default: the base size)."""
    sizes = scenario.selection.sizes or [scenario.base_size]
    sites, option, places = [], [], []
    for index, site in enumerate(option_sites):
        for size in sizes:
            sites.append(dataclasses.replace(site, capacity=float(size)))
            option.append(index)
            places.append(size)
    chosen_option = np.asarray(option, dtype=np.intp)
    schools = options["school"].to_numpy()[chosen_option]
    labels = (options["phase"] + "/" + options["need_group"]).to_numpy()[chosen_option]
    return Candidates(
        sites,
        chosen_option,
        np.asarray(places, dtype=np.int64),
        [int(s) for s in schools],
        [str(x) for x in labels],
    )


def selection_rules(
    scenario: Scenario,
    options: pd.DataFrame,
    candidates: Candidates,
    standalone: StandaloneValues,
) -> SelectionRules:
    """The scenario's ``bases`` or ``selection.counts``, required URNs and capital budget
    (each candidate's capital against ``selection.capital_budget``) as rules.

    Raises
    ------
    ScenarioError
        When a required URN is not an eligible candidate.
    """
    counts = scenario.selection.counts
    allowed = np.ones(len(candidates.sites), dtype=bool)
    per_group: dict[str, int] | None = None
    if counts:
        wanted = {
            f"{phase}/{group}": n for phase, groups in counts.items() for group, n in groups.items()
        }
        # Every phase and group without a count gets none.
        per_group = {label: wanted.get(label, 0) for label in set(candidates.labels)}
        allowed = np.array([wanted.get(label, 0) > 0 for label in candidates.labels], dtype=bool)
    required = []
    problems = []
    urns = options["urn"].to_numpy()[candidates.option]
    for urn in scenario.selection.required_urns:
        mine = np.flatnonzero((urns == urn) & allowed)
        if not len(mine):
            problems.append(
                f"selection.required_urns: {urn} is not an eligible candidate (see its notes in"
                " the GeoPackage candidates layer, or remove it)"
            )
            continue
        # The school's strongest option, in the scenario's base size when that is offered.
        best = mine[np.argmax(np.nan_to_num(standalone.of(candidates.option[mine]), nan=-1.0))]
        required.append(candidates.of_option(int(candidates.option[best]), scenario.base_size))
    if problems:
        raise ScenarioError(problems)
    return SelectionRules(
        k=None if per_group is not None else scenario.bases,
        counts=per_group,
        groups=candidates.labels if per_group is not None else None,
        required=required,
        locations=candidates.locations,
        cost=[scenario.costs.base_capital(p) for p in candidates.places.tolist()],
        budget=scenario.selection.capital_budget,
    )


def greedy_start(
    greedy: GreedyResult, candidates: Candidates, scenario: Scenario, bases: int
) -> list[int] | None:
    """The greedy build order's first ``bases`` picks as candidates (None with counts)."""
    if scenario.selection.counts:
        return None
    start = [candidates.of_option(pick.option, scenario.base_size) for pick in greedy.picks[:bases]]
    return start if len(start) == bases else None
