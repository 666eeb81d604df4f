"""The stability statement: how often each base is in the plan, and what flips it.

From the robustness runs (:func:`sitefinder.stability.runs.robustness_runs`): one row per base
in the plan and per strong alternative (a base chosen in some run, or at some end of an
assumption's range), with the share of runs in which it is in the plan and, in words, the
assumptions that flip it one at a time (``"enters the plan when out-of-authority journeys are
under 47 minutes or the mismatch penalty is over 1.8 harm points"``); and the one-at-a-time
sensitivity as a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from sitefinder.columns import SENSITIVITY, STABILITY
from sitefinder.stability.outcome import Flip, Key, RobustnessRuns

STRONG = 0.1
"""A base chosen in at least this share of the runs is a strong alternative: where it enters
the plan is searched for, and people's tables list it."""

COLUMNS = [c.key for c in STABILITY]
SENSITIVITY_COLUMNS = [c.key for c in SENSITIVITY]


def flipped_by(flips: Iterable[Flip]) -> str:
    """One base's flips in words, in the order given: ``"enters the plan when out-of-authority
    journeys are under 47 minutes or the mismatch penalty is over 1.6 harm points"``
    (``""``: none)."""
    found = list(flips)
    if not found:
        return ""
    verb = "enters the plan" if found[0].enters else "leaves the plan"
    conditions = [f.assumption.condition(f.value, f.end, at_end=f.at_end) for f in found]
    return f"{verb} when " + " or ".join(dict.fromkeys(conditions))


def stability_table(robust: RobustnessRuns, names: Mapping[str, str]) -> pd.DataFrame:
    """One row per base in the plan or strongly in contention: ``urn, name, phase,
    need_group, in_plan, share_of_runs, flipped_by`` (the plan's bases first, then by share).

    ``in_plan`` is membership with every assumption at its setting; ``share_of_runs`` the
    share of the Monte Carlo runs that chose it; ``flipped_by`` the one-at-a-time flips in
    words (``""``: no single assumption within its range flips it).
    """
    if not robust.runs:
        return pd.DataFrame(columns=COLUMNS)
    keys: set[Key] = set(robust.plan) | set(robust.hits) | {f.key for f in robust.flips}
    order = {a.key: i for i, a in enumerate(robust.assumptions)}
    mine: dict[Key, list[Flip]] = {}
    for flip in sorted(robust.flips, key=lambda f: (order.get(f.assumption.key, 0), f.end)):
        mine.setdefault(flip.key, []).append(flip)
    records = [
        {
            "urn": urn,
            "name": names.get(urn, ""),
            "phase": phase,
            "need_group": group,
            "in_plan": (urn, phase, group) in robust.plan,
            "share_of_runs": robust.hits.get((urn, phase, group), 0) / robust.runs,
            "flipped_by": flipped_by(mine.get((urn, phase, group), [])),
        }
        for urn, phase, group in keys
    ]
    frame = pd.DataFrame.from_records(records, columns=COLUMNS)
    frame = frame.sort_values(
        ["in_plan", "share_of_runs", "urn", "phase", "need_group"],
        ascending=[False, False, True, True, True],
        kind="stable",
    )
    return frame.reset_index(drop=True)


def strong_rows(stability: pd.DataFrame) -> pd.DataFrame:
    """The rows of the statement people read: the plan's bases, and the alternatives chosen
    in a tenth of the runs or flipped in by one assumption."""
    if stability.empty:
        return stability
    shares = pd.to_numeric(stability["share_of_runs"], errors="coerce").fillna(0.0)
    keep = stability["in_plan"].astype(bool) | (shares >= STRONG) | (stability["flipped_by"] != "")
    return stability[keep.to_numpy()]


def sensitivity_table(robust: RobustnessRuns, names: Mapping[str, str]) -> pd.DataFrame:
    """The one-at-a-time sensitivity: one row per assumption and end of its range (or other
    choice), ``assumption, label, end, value`` (in words, with its unit), ``changed`` (whether
    the plan differs), ``enters`` and ``leaves`` (the schools, by name and URN),
    ``harm_averted`` (harm points the bases chosen there avert against today's network),
    ``change`` (that less the plan's at the settings) and ``regret`` (the harm points the
    plan's bases would add there in place of the bases chosen there)."""

    def listed(keys: Iterable[Key]) -> str:
        return ", ".join(f"{names.get(u, '')} ({u})" for u, _, _ in keys)

    by_key = {a.key: a for a in robust.assumptions}
    records = [
        {
            "assumption": row["assumption"],
            "label": row["label"],
            "end": row["end"],
            "value": by_key[str(row["assumption"])].text(row["value"]),  # type: ignore[arg-type]
            "changed": bool(row["changed"]),
            "enters": listed(row["enters"]),  # type: ignore[arg-type]
            "leaves": listed(row["leaves"]),  # type: ignore[arg-type]
            "harm_averted": float(row["harm_averted"]),  # type: ignore[arg-type]
            "change": float(row["change"]),  # type: ignore[arg-type]
            "regret": max(float(row["regret"]), 0.0),  # type: ignore[arg-type]
        }
        for row in robust.sensitivity
    ]
    return pd.DataFrame.from_records(records, columns=SENSITIVITY_COLUMNS)
