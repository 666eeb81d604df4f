"""Honest ties: the options as good as a chosen base, within the scenario's tie tolerance.

Option ``o`` is an equivalent alternative to chosen base ``c`` when swapping ``c`` for ``o``
raises the plan's total harm by at most ``tolerance`` x the harm ``c`` averts in the plan.
Each swap is checked by an exact LP re-solve of the class component it touches, on one warm
LP per chosen base (the network with ``c`` closed, from :meth:`SetScorer.warm`, which the
explanations' swaps share; :class:`sitefinder.model.warm.WarmTransport` adds ``o`` and takes it
away); most options are ruled out first by a bound that never rules out a true alternative:
with ``c`` closed, the LP prices of the network cap what ``o`` can gain
(:meth:`sitefinder.model.warm.WarmTransport.bound`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from sitefinder.model.scoring import SetScorer
from sitefinder.model.select import SelectionRules
from sitefinder.model.warm import similar_order
from sitefinder.plan.candidates import Candidates

_EPS = 1e-9
_SHOWN = 3
COLUMNS = [
    "choice", "urn", "name", "alternative_urn", "alternative_name", "phase", "need_group",
    "places", "harm_difference", "equivalent_by",
]  # fmt: skip


def swap_candidates(
    candidates: Candidates, rules: SelectionRules, chosen: Sequence[int], c: int
) -> list[int]:
    """Candidates that may replace chosen ``c``: at another school than every chosen base,
    not excluded, and in ``c``'s group when the rules count bases per group."""
    schools = {candidates.locations[x] for x in chosen}
    excluded = set(rules.excluded)
    return [
        o
        for o in range(len(candidates.sites))
        if candidates.locations[o] not in schools
        and o not in excluded
        and (rules.counts is None or candidates.labels[o] == candidates.labels[c])
    ]


def find_alternatives(
    scorer: SetScorer,
    candidates: Candidates,
    rules: SelectionRules,
    chosen: Sequence[int],
    *,
    tolerance: float,
    slack: Mapping[int, float] | None = None,
) -> list[tuple[int, int, float]]:
    """Every ``(position of c in chosen, alternative o, harm difference)`` within tolerance:
    ``tolerance`` x the harm ``c`` averts, or ``slack[c]`` harm points where larger (what the
    journeys' accuracy could move the comparison by).

    Required bases have no alternatives (they stay).
    """
    current = scorer.harm(chosen)
    found: list[tuple[int, int, float]] = []
    for position, c in enumerate(chosen):
        if c in rules.required:
            continue
        others = [x for x in chosen if x != c]
        without = scorer.harm(others)
        margin = max(tolerance * (without - current), (slack or {}).get(c, 0.0))
        allowed = current + margin + _EPS * max(1.0, abs(current))
        trials = []
        for o in swap_candidates(candidates, rules, chosen, c):
            comp = int(scorer.component[o])
            if comp < 0:
                continue
            # The network without c; the explanations' swaps trial the same LPs.
            model, site = scorer.warm(comp, others), candidates.sites[o]
            # Safe: with c closed, o can avert at most this much.
            if without - model.bound(site, enough=without - allowed) <= allowed:
                trials.append(o)
        mine = []
        # Like sites in a row: each trial starts near the last one's optimum (within the
        # journeys' accuracy a large authority has hundreds to trial; a third of the time).
        for o in similar_order(candidates.sites, trials):
            # Kept when within: the explanations read the same swaps. A large LP's trial
            # may stop once it proves the swap beyond the allowance.
            value = scorer.plus_within(others, o, most=allowed)
            if value <= allowed:
                mine.append((position, o, value - current))
        found.extend(sorted(mine))
    return found


def alternatives_table(
    found: Sequence[tuple[int, int, float]],
    candidates: Candidates,
    options: pd.DataFrame,
    names: pd.Series,
    table: pd.DataFrame,
    *,
    tie: Sequence[float] | None = None,
) -> pd.DataFrame:
    """The alternatives as rows, best first within each choice, one row per school and option.

    ``tie`` is each chosen base's tie tolerance in harm points: an alternative beyond it is
    equivalent only within the accuracy of the journeys (``equivalent_by``).
    """
    records = []
    for position, o, difference in found:
        option = options.iloc[int(candidates.option[o])]
        row = table.iloc[position]
        records.append(
            {
                "choice": int(row["choice"]),
                "urn": row["urn"],
                "name": row["name"],
                "alternative_urn": option["urn"],
                "alternative_name": names.get(option["urn"], ""),
                "phase": option["phase"],
                "need_group": option["need_group"],
                "places": int(candidates.places[o]),
                "harm_difference": max(difference, 0.0),
                "equivalent_by": "journey accuracy"
                if tie is not None and difference > tie[position] + _EPS
                else "tie tolerance",
            }
        )
    frame = pd.DataFrame.from_records(records, columns=COLUMNS)
    frame = frame.sort_values(["choice", "harm_difference", "alternative_urn"], kind="stable")
    frame = frame.drop_duplicates(["choice", "alternative_urn", "phase", "need_group"])
    return frame.reset_index(drop=True)


def alternatives_text(
    alternatives: pd.DataFrame, chosen: pd.Series, *, labels: Mapping[str, str]
) -> str:
    """A chosen base's alternatives in words, best first, with the harm points each would add:
    ``"School A (URN) +0.01, School B (URN) +0.02 harm points; 11 more"``. The phase and need
    group (its label from ``labels``, by need group key) are named where they differ from the
    chosen base's own."""
    mine = alternatives[alternatives["choice"] == chosen["choice"]]
    if mine.empty:
        return ""
    shown = []
    for row in mine.head(_SHOWN).itertuples():
        option = (
            ""
            if (row.phase, row.need_group) == (chosen["phase"], chosen["need_group"])
            else f", {row.phase} {labels.get(str(row.need_group), row.need_group)}"
        )
        shown.append(
            f"{row.alternative_name} ({row.alternative_urn}{option}) +{row.harm_difference:.2f}"
        )
    more = len(mine) - _SHOWN
    return ", ".join(shown) + " harm points" + (f"; {more} more" if more > 0 else "")
