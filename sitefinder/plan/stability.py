"""The stability statement: how often each base is in the plan, and what flips it.

From the robustness runs (:func:`sitefinder.plan.robustness.robustness_runs`): one row per base
in the plan and per strong alternative (a base chosen in some run, or at some end of an
assumption's range), with the share of runs in which it is in the plan and, in words, the
assumptions that flip it one at a time (``"enters the plan when out-of-authority journeys are
under 47 minutes"``); and the one-at-a-time sensitivity as a table.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from sitefinder.plan.ranges import Assumption, End
from sitefinder.plan.robustness import Key, RobustnessRuns

COLUMNS = ["urn", "name", "phase", "need_group", "in_plan", "share_of_runs", "flipped_by"]
SENSITIVITY_COLUMNS = ["assumption", "label", "end", "value", "changed", "enters", "leaves"]


def _mean(value: End) -> float:
    return sum(value.values()) / len(value) if isinstance(value, dict) else float(value)


def flip_text(assumption: Assumption, end: str, enters: bool, value: End) -> str:
    """One flip in words: ``"enters the plan when the mismatch penalty is over 1.6 harm
    points"``."""
    below = _mean(assumption.high if end == "high" else assumption.low) < _mean(assumption.setting)
    verb = "enters the plan" if enters else "leaves the plan"
    return f"{verb} when {assumption.label} is {'under' if below else 'over'} " + (
        assumption.text(value)
    )


def stability_table(robust: RobustnessRuns, names: Mapping[str, str]) -> pd.DataFrame:
    """One row per base in the plan or strongly in contention: ``urn, name, phase,
    need_group, in_plan, share_of_runs, flipped_by`` (the plan's bases first, then by share).

    ``in_plan`` is membership with every assumption at its setting; ``share_of_runs`` the
    share of the Monte Carlo runs that chose it; ``flipped_by`` the one-at-a-time flips in
    words (``""``: no single assumption within its range flips it).
    """
    if not robust.runs:
        return pd.DataFrame(columns=COLUMNS)
    keys: set[Key] = set(robust.plan) | set(robust.hits) | {k for k, *_ in robust.flips}
    words: dict[Key, list[str]] = {}
    for key, assumption, end, enters, value in robust.flips:
        words.setdefault(key, []).append(flip_text(assumption, end, enters, value))
    records = [
        {
            "urn": urn,
            "name": names.get(urn, ""),
            "phase": phase,
            "need_group": group,
            "in_plan": (urn, phase, group) in robust.plan,
            "share_of_runs": robust.hits.get((urn, phase, group), 0) / robust.runs,
            "flipped_by": "; ".join(words.get((urn, phase, group), [])),
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


def sensitivity_table(robust: RobustnessRuns, names: Mapping[str, str]) -> pd.DataFrame:
    """The one-at-a-time sensitivity: one row per assumption and end of its range,
    ``assumption, label, end, value`` (in words, with its unit), ``changed`` (whether the
    plan differs), ``enters`` and ``leaves`` (the schools, by name and URN)."""

    def listed(keys: object) -> str:
        return ", ".join(f"{names.get(u, '')} ({u})" for u, _, _ in keys)  # type: ignore[attr-defined]

    by_key = {a.key: a for a in robust.assumptions}
    records = [
        {
            "assumption": row["assumption"],
            "label": row["label"],
            "end": row["end"],
            "value": by_key[str(row["assumption"])].text(row["value"]),  # type: ignore[arg-type]
            "changed": bool(row["changed"]),
            "enters": listed(row["enters"]),
            "leaves": listed(row["leaves"]),
        }
        for row in robust.sensitivity
    ]
    return pd.DataFrame.from_records(records, columns=SENSITIVITY_COLUMNS)


def stability_text(stability: pd.DataFrame, runs: int) -> list[str]:
    """The statement in sentences, one per base (the plan's, then alternatives chosen in at
    least one run in ten or flipped in by one assumption)."""
    lines = []
    for row in stability.itertuples():
        share = f"in the plan in {row.share_of_runs:.0%} of {runs} runs"
        if not row.in_plan and row.share_of_runs < 0.1 and not row.flipped_by:
            continue
        what = "chosen" if row.in_plan else "alternative"
        flipped = f"; {row.flipped_by}" if row.flipped_by else "; no single assumption flips it"
        lines.append(f"{row.name} ({row.urn}, {what}): {share}{flipped}.")
    return lines
