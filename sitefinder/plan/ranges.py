"""The assumptions the robustness runs vary, each over its range, and a run's settings.

An :class:`Assumption` is one ``[robustness]`` range resolved against the scenario: its key,
words for it, its unit, its two ends (one number, or one per phase) and the scenario's own
setting. :func:`settings_at` places every assumption at a point of its range (``0`` its low
end, ``1`` its high end; per-phase ends move together) and returns the harm, fallback and
journey settings of that run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sitefinder.config import (
    DEFAULT_MISMATCH_RANGE,
    DEFAULT_OUT_OF_AUTHORITY_RANGE,
    RANGE_KEYS,
    Fallback,
    Harm,
    Journey,
    Scenario,
)

End = float | dict[str, float]

# key -> (section of the scenario it varies, words, unit)
_ABOUT: dict[str, tuple[str, str, str]] = {
    "exponent": ("harm", "the harm curve's exponent", ""),
    "free_minutes": ("harm", "the harm curve's free minutes", "minutes"),
    "unmet": ("harm", "the harm of a child without a place", "harm points"),
    "mismatch": ("fallback", "the mismatch penalty", "harm points"),
    "out_of_authority_minutes": ("fallback", "out-of-authority journeys", "minutes"),
    "speed_kmh": ("journey", "the crow-fly speed", "km/h"),
    "circuity": ("journey", "the crow-fly circuity", ""),
    "ride_factor": ("journey", "the ride factor", ""),
}


@dataclass(frozen=True)
class Assumption:
    """One varied assumption.

    Attributes
    ----------
    key
        The ``[robustness]`` key (``"mismatch"``); it varies the setting of the same name in
        :attr:`section`.
    section
        ``harm``, ``fallback`` or ``journey``.
    label
        Words for it (``"out-of-authority journeys"``).
    unit
        Its unit (``"minutes"``; ``""`` for a ratio).
    low, high
        The range's ends: a number, or one per phase (``{"primary": .., "secondary": ..}``).
    setting
        The scenario's own setting (the others' value in the one-at-a-time sensitivity).
    """

    key: str
    section: str
    label: str
    unit: str
    low: End
    high: End
    setting: End

    @property
    def varies(self) -> bool:
        """Whether the range has any width (a pinned ``[v, v]`` only moves the setting)."""
        return self.low != self.high

    def at(self, point: float) -> End:
        """The value ``point`` of the way from low (0) to high (1), phase by phase."""
        low, high = self.low, self.high
        if isinstance(low, dict) or isinstance(high, dict):
            return {
                p: _of(low, p) + point * (_of(high, p) - _of(low, p))
                for p in ("primary", "secondary")
            }
        return float(low) + point * (float(high) - float(low))

    def text(self, value: End) -> str:
        """A value in words with its unit: ``"45 minutes"``, ``"1 (primary), 2 (secondary)"``."""
        unit = f" {self.unit}" if self.unit else ""
        if isinstance(value, dict):
            if len(set(value.values())) == 1:
                return f"{next(iter(value.values())):.3g}{unit}"
            return ", ".join(f"{v:.3g}{unit} ({p})" for p, v in value.items())
        return f"{value:.3g}{unit}"


def _of(value: End, phase: str) -> float:
    return float(value[phase] if isinstance(value, dict) else value)


def assumptions(scenario: Scenario) -> list[Assumption]:
    """The scenario's varied assumptions, in :data:`sitefinder.config.RANGE_KEYS` order.

    ``mismatch`` and ``out_of_authority_minutes`` take their defaults when unset (none with
    ``fallback.method = "flat"``); ``speed_kmh`` and ``circuity`` vary crow-fly journeys only
    and are left out for other journey methods (:func:`ignored` names them).
    """
    rules = scenario.robustness
    flat = scenario.fallback.method == "flat"
    found = []
    for key in RANGE_KEYS:
        bounds: Any = getattr(rules, key)
        if bounds is None and not flat:
            bounds = {
                "mismatch": DEFAULT_MISMATCH_RANGE,
                "out_of_authority_minutes": DEFAULT_OUT_OF_AUTHORITY_RANGE,
            }.get(key)
        if not bounds or key in ignored(scenario):
            continue
        section, label, unit = _ABOUT[key]
        setting = getattr(getattr(scenario, section), key)
        found.append(
            Assumption(key, section, label, unit, _plain(bounds[0]), _plain(bounds[1]), setting)
        )
    return found


def _plain(end: Any) -> End:
    return {str(p): float(v) for p, v in end.items()} if isinstance(end, dict) else float(end)


def ignored(scenario: Scenario) -> list[str]:
    """Ranges set that do not apply to the scenario's journeys (crow-fly speed and circuity
    with road-network or matrix journeys)."""
    rules = scenario.robustness
    if scenario.journey.method == "crowfly":
        return []
    return [key for key in ("speed_kmh", "circuity") if getattr(rules, key)]


@dataclass(frozen=True)
class RunSettings:
    """One run's settings: the harm curve, the fallback and the journeys' scale.

    Attributes
    ----------
    harm, fallback
        The scenario's sections with the run's values.
    journey
        The scenario's journeys with the run's speed, circuity and ride factor.
    scale
        What every journey's minutes beyond the fixed overhead are multiplied by (1: the
        scenario's own journeys).
    far_moved
        Whether the out-of-authority journey differs from the scenario's.
    """

    harm: Harm
    fallback: Fallback
    journey: Journey
    scale: float
    far_moved: bool


def settings_at(scenario: Scenario, values: Mapping[str, End]) -> RunSettings:
    """The run's settings with each key of ``values`` (a ``[robustness]`` range key) set."""
    update: dict[str, dict[str, Any]] = {"harm": {}, "fallback": {}, "journey": {}}
    for key, value in values.items():
        update[_ABOUT[key][0]][key] = value
    harm = scenario.harm.model_copy(update=update["harm"])
    fallback = scenario.fallback.model_copy(update=update["fallback"])
    journey = scenario.journey.model_copy(update=update["journey"])
    old = scenario.journey
    # Minutes beyond the overhead: drive minutes x ride factor; crow-fly drive minutes grow
    # with the circuity and shrink with the speed.
    scale = journey.ride_factor / old.ride_factor
    if old.method == "crowfly":
        scale *= (journey.circuity / old.circuity) * (old.speed_kmh / journey.speed_kmh)
    moved = "out_of_authority_minutes" in values and any(
        fallback.minutes_of(p) != scenario.fallback.minutes_of(p) for p in scenario.phases
    )
    return RunSettings(harm, fallback, journey, float(scale), moved)
