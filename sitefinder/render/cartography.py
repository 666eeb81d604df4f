"""One cartography for every map of a run: the PNG, the report's interactive map, QGIS styles.

The measures an area can be shaded by, their classes and colours, and the symbol of each kind
of school are defined here once; :mod:`sitefinder.render.staticmap`,
:mod:`sitefinder.render.webmap` and :mod:`sitefinder.styles` all read them, so a class drawn
dark red on the PNG is the same class, bounds and colour in QGIS. Plain Python: no plotting
library is imported.

A value belongs to the first class with ``lower <= value <= upper`` (QGIS's rule for graduated
ranges), so a value on a bound falls in the lower class everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

# --- areas --------------------------------------------------------------------------------------

NO_CHILDREN = "#e4e4e4"
"""Areas with no child needing a place."""
NO_VALUE = "#9e9e9e"
"""Areas with children whose measure has no value (withheld, or no child placed)."""
AREA_EDGE = "#ffffff"

# ColorBrewer YlOrRd, 9 classes: pale for little harm, dark red for much.
RAMP = (
    "#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c",
    "#fc4e2a", "#e31a1c", "#bd0026", "#800026",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Measure:
    """What an area can be shaded by: a column of the ``demand`` layer.

    Attributes
    ----------
    key
        The column (GeoPackage field) it is read from.
    label
        Its title in legends ("Mean journey after the plan, ...").
    short
        Its name in the interactive map's chooser.
    kind
        ``minutes``, ``share`` (0 to 1) or ``count`` (children): decides the classes.
    """

    key: str
    label: str
    short: str
    kind: Literal["minutes", "share", "count"]


JOURNEY_ALL = Measure(
    "mean_minutes_all_after",
    "Mean journey after the plan, every child (without a base place: the fallback journey),"
    " minutes one way",
    "Mean journey, every child (minutes)",
    "minutes",
)
UNPLACED_SHARE = Measure(
    "unplaced_share_after",
    "Share of children without a base place after the plan",
    "Share without a base place",
    "share",
)
JOURNEY_PLACED = Measure(
    "mean_minutes_after",
    "Mean journey after the plan, children placed in a base, minutes one way",
    "Mean journey, children placed (minutes)",
    "minutes",
)
CHILDREN = Measure("children", "Children needing a base place", "Children", "count")
MEASURES: tuple[Measure, ...] = (JOURNEY_ALL, UNPLACED_SHARE, JOURNEY_PLACED, CHILDREN)
"""Every measure, the default first."""

_SHARE_EDGES = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)


def measure(key: str) -> Measure:
    """The measure of column ``key``.

    Raises
    ------
    ValueError
        If no measure reads that column (the message lists them).
    """
    for item in MEASURES:
        if item.key == key:
            return item
    known = ", ".join(m.key for m in MEASURES)
    raise ValueError(f"no map measure {key!r} (choose one of {known})")


def default_measure(children: Sequence[float], unplaced: Sequence[float],
                    fallback_minutes: Sequence[float]) -> Measure:  # fmt: skip
    """The measure a map is shaded by unless told: the mean journey of every child, fallback
    journeys included, or, when children without a base place have no fallback journey (the
    flat fallback), the share of children without a base place. Either counts the unplaced.
    """
    for kids, left, minutes in zip(children, unplaced, fallback_minutes, strict=True):
        if _finite(kids) and _finite(left) and left > 1e-9 and not _finite(minutes):
            return UNPLACED_SHARE
    return JOURNEY_ALL


def _finite(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and math.isfinite(float(value))


@dataclass(frozen=True, slots=True)
class Range:
    """One class: ``lower <= value <= upper`` drawn in ``color``, named ``label``."""

    lower: float
    upper: float
    color: str
    label: str


def ramp(n: int) -> list[str]:
    """``n`` colours along :data:`RAMP`, from its pale end to its dark end (``#rrggbb``)."""
    if n <= 0:
        return []
    stops = np.array([_rgb(c) for c in RAMP], dtype=float)
    spots = np.linspace(0.08, 0.95, n) if n > 1 else np.array([0.5])
    where = spots * (len(RAMP) - 1)
    low = np.floor(where).astype(int).clip(0, len(RAMP) - 2)
    part = (where - low)[:, None]
    colours = stops[low] * (1 - part) + stops[low + 1] * part
    return ["#{:02x}{:02x}{:02x}".format(*(round(float(v)) for v in c)) for c in colours]


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _minute_edges(largest: float) -> list[float]:
    """0 to past ``largest`` in steps of 5 minutes (10 past an hour, 20 past two)."""
    top = max(30.0, 5.0 * math.ceil(largest / 5.0 + 1e-9))
    step = 5.0 if top <= 60 else 10.0 if top <= 120 else 20.0
    top = step * math.ceil(top / step)
    return [float(x) for x in np.arange(0.0, top + step / 2, step)]


def _count_edges(largest: float) -> list[float]:
    """0 to past ``largest`` in five equal round steps (1, 2 or 5 times a power of ten)."""
    target = max(largest, 1e-9) / 5.0
    power = 10.0 ** math.floor(math.log10(target))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= target - 1e-12)
    return [round(step * i, 10) for i in range(6)]


def classes(item: Measure, values: Iterable[float]) -> list[Range]:
    """The classes of ``item`` for these values (NaN ignored), covering them all.

    Minutes: 5-minute classes from 0 (10 and 20 for longer journeys); shares: 0-10%, 10-25%,
    25-50%, 50-75%, 75-100%; children: five equal round classes from 0.
    """
    finite = [float(v) for v in values if _finite(v)]
    largest = max(finite, default=0.0)
    if item.kind == "share":
        edges = list(_SHARE_EDGES)
    elif item.kind == "minutes":
        edges = _minute_edges(largest)
    else:
        edges = _count_edges(largest)
    colours = ramp(len(edges) - 1)
    return [
        Range(lower, upper, colour, _label(item, lower, upper))
        for lower, upper, colour in zip(edges[:-1], edges[1:], colours, strict=True)
    ]


def _label(item: Measure, lower: float, upper: float) -> str:
    if item.kind == "share":
        return f"{lower:.0%} - {upper:.0%}"
    if item.kind == "minutes":
        return f"{lower:g} - {upper:g} min"
    return f"{lower:g} - {upper:g}"


def class_of(ranges: Sequence[Range], value: object) -> int | None:
    """Index of the first class holding ``value``, or None (no value, or past every class)."""
    if not _finite(value):
        return None
    number = float(value)  # type: ignore[arg-type]
    for index, item in enumerate(ranges):
        if item.lower - 1e-9 <= number <= item.upper + 1e-9:
            return index
    return None


def area_colour(ranges: Sequence[Range], value: object, *, children: bool) -> str:
    """An area's fill: its class's colour, :data:`NO_CHILDREN` or :data:`NO_VALUE`."""
    if not children:
        return NO_CHILDREN
    index = class_of(ranges, value)
    return NO_VALUE if index is None else ranges[index].color


# --- schools and lines --------------------------------------------------------------------------

Shape = Literal["circle", "square", "star"]


@dataclass(frozen=True, slots=True)
class Mark:
    """The symbol of one kind of school: shape, fill, outline and size (millimetres across,
    at the A4 map's scale; QGIS sizes are in the same millimetres)."""

    label: str
    shape: Shape
    fill: str
    edge: str
    size_mm: float


EXISTING = Mark("Existing base", "square", "#1f4e9c", "#ffffff", 2.9)
NEW = Mark("New base in the plan", "star", "#6a1b9a", "#ffffff", 5.8)
IN_PLAN = Mark("Hosts a new base in the plan", "circle", "#6a1b9a", "#ffffff", 3.0)
ELIGIBLE = Mark("Eligible host (ranked: numbered)", "circle", "#ffffff", "#111111", 2.2)
NOT_ELIGIBLE = Mark("Not eligible to host", "circle", "#c8c8c8", "#7a7a7a", 1.6)
LINE_EXISTING = EXISTING.fill
"""Assignment lines to an existing base."""
LINE_NEW = NEW.fill
"""Assignment lines to a new base."""
POINTS_PER_MM = 72.0 / 25.4
