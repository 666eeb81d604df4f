"""Existing bases' places checked against the children SEN2 places in bases today.

GIAS often records no capacity for a resourced provision or SEN unit, and then the loader
assumes ``inputs.schools.default_base_capacity`` places for each. The SEN2 caseload file counts
the authority's children with an EHC plan placed in mainstream resourced provision or SEN units,
by single year of age: the best public check of those places. SEN2 counts the authority's own
plans wherever the child is placed (a few may be in bases over the border) and GIAS dates from
another day, so the comparison is a check, not an identity. ``capacity_from = "sen2"`` scales
the assumed places (never recorded ones) so that each phase's total matches SEN2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sitefinder.disclosure import format_count

PHASES = ("primary", "secondary")


@dataclass(frozen=True)
class PlacesCheck:
    """Existing bases after the check, and what a planner should know about their places."""

    bases: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class InBases:
    """SEN2's count of an authority's children placed in bases, by phase.

    Attributes
    ----------
    children
        Children with an EHC plan in mainstream resourced provision or SEN units per phase
        (children; NaN or absent where unavailable).
    year
        The January census year of those counts.
    authority
        The authority's name, for messages.
    """

    children: Mapping[str, float]
    year: int
    authority: str


def _phase_weights(bases: pd.DataFrame, children: Mapping[str, float]) -> np.ndarray:
    """Each base's share of places in each phase: one phase, or split for all-through bases.

    An all-through base's places are split between the phases as SEN2's children are.
    """
    known = {p: children.get(p, math.nan) for p in PHASES}
    total = sum(v for v in known.values() if not math.isnan(v))
    split = [(known[p] / total if total > 0 and not math.isnan(known[p]) else 0.5) for p in PHASES]
    weights = np.zeros((len(bases), len(PHASES)))
    for row, phase in enumerate(bases["phase"].astype(str)):
        if phase in PHASES:
            weights[row, PHASES.index(phase)] = 1.0
        else:
            weights[row] = split
    return weights


def _round_to_total(values: np.ndarray) -> np.ndarray:
    """Whole places summing to the rounded total, by largest remainder (first wins ties)."""
    floors = np.floor(values + 1e-9)
    extra = round(float(values.sum()) - float(floors.sum()))
    order = np.argsort(-(values - floors), kind="stable")
    floors[order[:extra]] += 1
    return floors


def _scaled(
    bases: pd.DataFrame,
    assumed: np.ndarray,
    weights: np.ndarray,
    children: Mapping[str, float],
) -> tuple[np.ndarray, list[str]]:
    """New capacities: assumed places scaled so each phase's places match SEN2's children."""
    capacity = bases["capacity"].to_numpy(dtype=float).copy()
    factors = np.ones(len(PHASES))
    said: list[str] = []
    for k, phase in enumerate(PHASES):
        target = children.get(phase, math.nan)
        recorded = float((capacity * weights[:, k])[~assumed].sum())
        scaled = float((capacity * weights[:, k])[assumed].sum())
        if scaled <= 0:
            continue
        if math.isnan(target):
            said.append(f"{phase}: SEN2 gives no count, so the assumed places are kept")
            continue
        if target - recorded <= 0:
            said.append(
                f"{phase}: recorded places ({recorded:.0f}) already cover SEN2's children, so"
                " each base with no recorded capacity keeps 1 place"
            )
        factors[k] = max(target - recorded, 0.0) / scaled
    exact = capacity * (weights @ factors)
    out = capacity.copy()
    labels = bases["phase"].astype(str).to_numpy()
    for label in dict.fromkeys(labels[assumed]):
        group = assumed & (labels == label)
        out[group] = np.maximum(_round_to_total(exact[group]), 1.0)
    return out, said


def _bases(count: int) -> str:
    return f"{count} base{'' if count == 1 else 's'}"


def _places_by_phase(capacity: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> list[float]:
    return [float((capacity * weights[:, k])[mask].sum()) for k in range(len(PHASES))]


def check_existing_places(
    bases: pd.DataFrame,
    *,
    in_bases: InBases,
    capacity_from: str,
    default_capacity: int,
    threshold: int,
) -> PlacesCheck:
    """Compare existing bases' places with the children SEN2 places in bases, by phase.

    Parameters
    ----------
    bases
        Existing bases (``phase``, ``capacity`` in places; ``capacity_assumed`` marks places
        assumed for want of a recorded capacity; a table without it has recorded places only).
    in_bases
        SEN2's children in mainstream resourced provision or SEN units per phase (children),
        with the census year and the authority's name.
    capacity_from
        ``"default"`` keeps the assumed places; ``"sen2"`` scales them to match SEN2 by phase.
    default_capacity
        Places assumed for a base with no recorded capacity (places).
    threshold
        Counts of children below this are shown suppressed.

    Returns
    -------
    PlacesCheck
        The bases (capacities scaled with ``"sen2"``), warnings and notes.
    """
    name, year = in_bases.authority, in_bases.year
    shown = {p: in_bases.children.get(p, math.nan) for p in PHASES}
    known = [v for v in shown.values() if not math.isnan(v)]
    total = sum(known)

    def count(value: float) -> str:
        return format_count(value, threshold) if not math.isnan(value) else "an unknown number of"

    sen2 = (
        f"{count(total)} of {name}'s children with an EHC plan in mainstream resourced provision"
        f" or SEN units in SEN2 January {year}"
    )
    by_phase = ", ".join(f"{count(shown[p])} {p}" for p in PHASES)
    if bases.empty:
        if total > 0:
            return PlacesCheck(
                bases,
                warnings=[
                    f"existing bases: none given, but there are {sen2} ({by_phase}): their"
                    " places are missing from the model, so demand near them looks unmet; give"
                    " the authority's bases (a bases register as inputs.bases, or a schools file"
                    " with resourced provision and SEN unit flags)"
                ],
            )
        return PlacesCheck(bases)
    if "capacity_assumed" in bases.columns:
        assumed = bases["capacity_assumed"].fillna(False).to_numpy(dtype=bool)
    else:
        assumed = np.zeros(len(bases), dtype=bool)
    weights = _phase_weights(bases, shown)
    capacity = bases["capacity"].to_numpy(dtype=float)
    before_all = _places_by_phase(capacity, weights, np.ones(len(bases), dtype=bool))
    comparison = "; ".join(
        f"{p}: {before_all[k]:.0f} places for {count(shown[p])} children"
        for k, p in enumerate(PHASES)
    )
    if not assumed.any():
        return PlacesCheck(
            bases,
            notes=[
                f"existing bases: {capacity.sum():.0f} places recorded against {sen2}"
                f" ({comparison})"
            ],
        )
    recorded = (
        f" and {capacity[~assumed].sum():.0f} recorded ({_bases(int((~assumed).sum()))})"
        if (~assumed).any()
        else ""
    )
    assumed_text = (
        f"{capacity[assumed].sum():.0f} places assumed ({_bases(int(assumed.sum()))} x"
        f" {default_capacity} places, no capacity recorded){recorded}"
    )
    if capacity_from != "sen2":
        return PlacesCheck(
            bases,
            warnings=[
                f"existing bases: {assumed_text} against {sen2} ({comparison}); set"
                ' inputs.schools.capacity_from = "sen2" to scale the assumed places to SEN2,'
                " or record their places in a bases register (inputs.bases)"
            ],
        )
    scaled, said = _scaled(bases, assumed, weights, shown)
    out = bases.copy()
    out["capacity"] = scaled
    after = _places_by_phase(scaled, weights, np.ones(len(bases), dtype=bool))
    parts = []
    for k, phase in enumerate(PHASES):
        group = assumed & (weights[:, k] > 0)
        if not group.any():
            continue
        low, high = scaled[group].min(), scaled[group].max()
        each = f"{low:.0f}" if low == high else f"{low:.0f}-{high:.0f}"
        parts.append(
            f"{phase}: {after[k]:.0f} places for {count(shown[phase])} children"
            f" ({_bases(int(group.sum()))} with assumed places, {each} each)"
        )
    note = f"; {'; '.join(said)}" if said else ""
    return PlacesCheck(
        out,
        warnings=[
            f"existing bases: {assumed_text}, scaled to SEN2 (inputs.schools.capacity_from ="
            f' "sen2") against {sen2}: {"; ".join(parts)}{note}; recorded places'
            " (a bases register, inputs.bases) would be better"
        ],
    )
