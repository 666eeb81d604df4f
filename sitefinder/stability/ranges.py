"""The assumptions the robustness runs vary, each over its range, and a run's settings.

An :class:`Assumption` is one ``[robustness]`` key resolved against the scenario: its key, words
for it, its two ends (one number, or one per phase) or its choices (the shares), and the
scenario's own setting. :func:`settings_at` places every assumption at a value and returns the
settings of that run: the harm, fallback and journey sections, the share of EHC plans needing a
base place, the factor on today's unrecorded places and the yearly growth of demand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sitefinder.config import (
    DEFAULT_MISMATCH_RANGE,
    DEFAULT_OUT_OF_AUTHORITY_RANGE,
    RANGE_KEYS,
    Fallback,
    Harm,
    Journey,
    Scenario,
)

if TYPE_CHECKING:
    from sitefinder.load import AuthorityData

End = float | dict[str, float] | str
"""A value of an assumption: a number, one per phase, or a named share."""
NAMED_SHARES = ("authority", "england", "higher")
"""``robustness.share`` when unset: the shares a SEN2 caseload file gives."""


@dataclass(frozen=True, slots=True)
class _About:
    section: str  # the scenario section whose setting of the same name it varies
    label: str  # words for it, read after "when"
    unit: str = ""
    plural: bool = False  # "journeys are", not "is"
    percent: int | None = None  # shown as a percentage with these decimals


_ABOUT: dict[str, _About] = {
    "exponent": _About("harm", "the harm curve's exponent"),
    "free_minutes": _About("harm", "the harm curve's free minutes", "minutes", plural=True),
    "unmet": _About("harm", "the harm of a child without a place", "harm points"),
    "mismatch": _About("fallback", "the mismatch penalty", "harm points"),
    "out_of_authority_minutes": _About(
        "fallback", "out-of-authority journeys", "minutes", plural=True
    ),
    "speed_kmh": _About("journey", "the crow-fly speed", "km/h"),
    "circuity": _About("journey", "the crow-fly circuity"),
    "ride_factor": _About("journey", "the ride factor"),
    "existing_places": _About(
        "robustness", "today's unrecorded base places", "of those assumed", True, 0
    ),
    "growth": _About("robustness", "demand's yearly growth", "a year", percent=1),
    "share": _About("inputs.demand", "the share of EHC plans needing a base place"),
}
_SHARE_WORDS = {
    "authority": "the authority's own",
    "england": "England's",
    "higher": "the higher of the authority's and England's",
}


@dataclass(frozen=True)
class Assumption:
    """One varied assumption.

    Attributes
    ----------
    key
        The ``[robustness]`` key (``"mismatch"``).
    section
        The scenario section it varies (``harm``, ``fallback``, ``journey``,
        ``inputs.demand`` for the share; ``robustness`` for the factor on places and growth,
        which have no setting of their own).
    label
        Words for it (``"out-of-authority journeys"``).
    unit
        Its unit (``"minutes"``; ``""`` for a ratio).
    low, high
        The range's ends: a number, or one per phase (``{"primary": .., "secondary": ..}``);
        for a choice, its first and last.
    setting
        The scenario's own setting (the others' value in the one-at-a-time sensitivity).
    choices
        The values a run draws from, for an assumption without a range (the share).
    """

    key: str
    section: str
    label: str
    unit: str
    low: End
    high: End
    setting: End
    choices: tuple[End, ...] = ()

    @property
    def varies(self) -> bool:
        """Whether the runs draw it from more than one value (a pinned ``[v, v]``, or one
        share, only moves the setting)."""
        if self.choices:
            return len(set(map(str, self.choices))) > 1
        return self.low != self.high

    @property
    def plural(self) -> bool:
        """Whether its words take a plural verb (``"journeys are"``)."""
        return _ABOUT[self.key].plural

    def at(self, point: float) -> End:
        """The value ``point`` of the way from low (0) to high (1), phase by phase; for a
        choice, the choice whose equal share of ``[0, 1)`` holds ``point``."""
        if self.choices:
            return self.choices[min(int(point * len(self.choices)), len(self.choices) - 1)]
        return between(self.low, self.high, point)

    def ends(self) -> list[tuple[str, End]]:
        """The one-at-a-time sensitivity's values, named: ``low`` and ``high`` of a range, or
        each choice other than the setting (named by itself)."""
        if self.choices:
            return [(share_name(c), c) for c in self.choices if c != self.setting]
        return [("low", self.low), ("high", self.high)]

    def text(self, value: End) -> str:
        """A value in words with its unit: ``"45 minutes"``, ``"1 (primary), 2 (secondary)"``,
        ``"4.2% a year"``, ``"England's"``."""
        if isinstance(value, str):
            return _SHARE_WORDS.get(value, value)
        about = _ABOUT[self.key]
        unit = f" {about.unit}" if about.unit else ""

        def one(number: float) -> str:
            if self.key == "share":
                return f"{number:.1%} at every age"
            shown = f"{number:.3g}" if about.percent is None else f"{number:.{about.percent}%}"
            return shown + unit

        if isinstance(value, dict):
            if len(set(value.values())) == 1:
                return one(next(iter(value.values())))
            return ", ".join(f"{one(v)} ({p})" for p, v in value.items())
        return one(float(value))

    def condition(self, value: End, end: str, *, at_end: bool = False) -> str:
        """When the plan changes, in words: ``"out-of-authority journeys are under 47
        minutes"`` (past ``value`` on the way from the setting towards ``end``), ``"the
        mismatch penalty is 2 harm points"`` (``at_end``: at ``value``, the end), or ``"the
        share of EHC plans needing a base place is England's"``."""
        verb = "are" if self.plural else "is"
        if self.choices or at_end:
            return f"{self.label} {verb} {self.text(value)}"
        towards = self.high if end == "high" else self.low
        below = mean(towards) < mean(self.setting)
        return f"{self.label} {verb} {'under' if below else 'over'} {self.text(value)}"


def share_name(choice: End) -> str:
    """A choice's name: ``"england"``, ``"0.05"``."""
    return choice if isinstance(choice, str) else f"{float(choice):g}"  # type: ignore[arg-type]


def mean(value: End) -> float:
    """A value as one number: the mean of its phases' (0 for a named share)."""
    if isinstance(value, str):
        return 0.0
    return sum(value.values()) / len(value) if isinstance(value, dict) else float(value)


def _of(value: End, phase: str) -> float:
    return float(value[phase] if isinstance(value, dict) else value)


def between(start: End, end: End, t: float) -> End:
    """The value ``t`` of the way from ``start`` (0) to ``end`` (1), phase by phase."""
    if isinstance(start, dict) or isinstance(end, dict):
        return {p: (1 - t) * _of(start, p) + t * _of(end, p) for p in ("primary", "secondary")}
    return (1 - t) * float(start) + t * float(end)


def _plain(end: Any) -> End:
    return {str(p): float(v) for p, v in end.items()} if isinstance(end, dict) else float(end)


def share_choices(scenario: Scenario, data: AuthorityData | None = None) -> tuple[End, ...]:
    """The shares the runs draw from: ``robustness.share``, else the named shares the inputs
    give (none unless demand is modelled with a SEN2 caseload file and no children added by
    the authority, whose counts no share made).

    With ``data``, a named share needs its SEN2 series (the authority's, England's, both for
    ``higher``).
    """
    spec, given = scenario.inputs.demand, scenario.robustness.share
    if given is False or spec.method != "modelled" or spec.additional is not None:
        return ()
    if given is None and spec.sen2_caseload is None:
        return ()
    chosen: tuple[str | float, ...] = NAMED_SHARES if given is None else given
    basis = data.basis if data is not None else None
    found: list[End] = []
    for choice in chosen:
        if isinstance(choice, str) and basis is not None:
            own, england = basis.authority is not None, basis.england is not None
            known = {"authority": own, "england": england, "higher": own and england}
            if not known[choice]:
                continue
        found.append(choice if isinstance(choice, str) else float(choice))
    return tuple(found)


def _share_setting(scenario: Scenario) -> End:
    share = scenario.inputs.demand.share
    return share if isinstance(share, str) else _plain(share)


def _unrecorded(data: AuthorityData | None) -> bool:
    """Whether some base of today has places that were not recorded (always, without data)."""
    if data is None:
        return True
    column = data.bases.get("capacity_assumed")
    return column is not None and bool(column.astype(bool).any())


def assumptions(scenario: Scenario, data: AuthorityData | None = None) -> list[Assumption]:
    """The scenario's varied assumptions, in :data:`sitefinder.config.RANGE_KEYS` order, then
    the share.

    ``mismatch`` and ``out_of_authority_minutes`` take their defaults when unset (none with
    ``fallback.method = "flat"``); ``speed_kmh`` and ``circuity`` vary crow-fly journeys only
    and are left out for other journey methods (:func:`ignored` names them). With ``data``,
    ``existing_places`` is left out when every base of today has recorded places, and the
    share keeps the choices the inputs give (:func:`share_choices`).
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
        if key == "existing_places" and not _unrecorded(data):
            continue
        about = _ABOUT[key]
        # The factor on places and the growth have no setting of their own: the plan's is 1
        # (the places as read) and 0 (today's demand).
        setting = {"existing_places": 1.0, "growth": 0.0}.get(key)
        if setting is None:
            setting = getattr(getattr(scenario, about.section), key)
        found.append(
            Assumption(
                key,
                about.section,
                about.label,
                about.unit,
                _plain(bounds[0]),
                _plain(bounds[1]),
                _plain(setting),
            )
        )
    choices = share_choices(scenario, data)
    if choices:
        about = _ABOUT["share"]
        found.append(
            Assumption(
                "share",
                about.section,
                about.label,
                "",
                choices[0],
                choices[-1],
                _share_setting(scenario),
                choices,
            )
        )
    return found


def ignored(scenario: Scenario) -> list[str]:
    """Ranges set that do not apply to the scenario's journeys (crow-fly speed and circuity
    with road-network or matrix journeys)."""
    rules = scenario.robustness
    if scenario.journey.method == "crowfly":
        return []
    return [key for key in ("speed_kmh", "circuity") if getattr(rules, key)]


@dataclass(frozen=True)
class RunSettings:
    """One run's settings.

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
    share
        The share of EHC plans needing a base place (None: the scenario's).
    places
        What the places of today's bases whose places were not recorded are multiplied by.
    growth
        Demand's yearly growth (a fraction a year; 0: today's demand).
    """

    harm: Harm
    fallback: Fallback
    journey: Journey
    scale: float
    far_moved: bool
    share: End | None = None
    places: float = 1.0
    growth: float = 0.0


def settings_at(scenario: Scenario, values: Mapping[str, End]) -> RunSettings:
    """The run's settings with each key of ``values`` (a ``[robustness]`` key) set."""
    update: dict[str, dict[str, Any]] = {"harm": {}, "fallback": {}, "journey": {}}
    for key, value in values.items():
        if _ABOUT[key].section in update:
            update[_ABOUT[key].section][key] = value
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
    share = values.get("share")
    return RunSettings(
        harm,
        fallback,
        journey,
        float(scale),
        moved,
        share=None if share == _share_setting(scenario) else share,
        places=float(values.get("existing_places", 1.0)),  # type: ignore[arg-type]
        growth=float(values.get("growth", 0.0)),  # type: ignore[arg-type]
    )
