"""Draw a ranking run as a static A4 landscape map (PNG, SVG or PDF), fully offline.

The map is drawn with matplotlib's object API (the Agg canvas for the PNG, matplotlib's SVG and
PDF writers for vector files): no pyplot, no tiles, no network. Areas (polygons when the
scenario has boundaries, else points) are shaded by a measure that counts every child, those
without a base place too: by default the mean journey after the plan with the fallback journeys
of children without a base place (:data:`~sitefinder.render.cartography.JOURNEY_ALL`; the share
without a base place under the flat fallback). Existing bases, the plan's new bases and the top
ranked candidates are marked with the symbols, classes and colours of
:mod:`sitefinder.render.cartography`, the same as the QGIS styles and the report's interactive
map. Labels are placed by textalloc (:mod:`sitefinder.render.labels`) so that none overlaps
another label, a mark, the scale bar or the north arrow, or runs over the frame: a label that
fits nowhere near its point is reduced to its number, and one that fits nowhere at all is left
out (the side panel names it). Names are never cut short: long ones wrap.
A legend, colour bar, scale bar (EPSG:27700 metres, so exact), north arrow, title and
attribution make it readable on its own. The same inputs give the same bytes: the PNG carries
no timestamp and no software version in its metadata.
"""

from __future__ import annotations

import functools
import io
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager, ft2font
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PathCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.patheffects import AbstractPathEffect, withStroke
from matplotlib.transforms import Bbox
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from sitefinder.errors import OutputError
from sitefinder.published import (
    FICTIONAL,
    OGL,
    OS_DATA,
    OSM,
    PublishedRun,
    credits,
    positive,
    published,
)
from sitefinder.render import cartography as carto
from sitefinder.render.cartography import Mark, Measure, Range
from sitefinder.render.labels import Label, place_labels
from sitefinder.targets import check_target, write_atomic

if TYPE_CHECKING:
    from sitefinder.pipeline import RankResult

__all__ = [
    "FICTIONAL", "FIGSIZE", "MAP_FORMATS", "OGL", "OSM", "OS_DATA", "check_map_target",
    "credits", "draw_map", "drawable", "map_image", "map_measure", "map_png", "short_name",
]  # fmt: skip

FIGSIZE: tuple[float, float] = (11.7, 8.3)
"""Figure size in inches: A4 landscape (the PNG is ``FIGSIZE x dpi`` pixels)."""

FONT = "DejaVu Sans"
_LABEL_WRAP = 22  # characters a label line holds before it wraps (names are never cut)
# Shorter school names for map labels; applied in order.
_SHORTER = [
    (r"\bChurch of England\b", "CE"),
    (r"\bRoman Catholic\b", "RC"),
    (r"\bPrimary School\b", "Primary"),
    (r"\bSecondary School\b", "Secondary"),
    (r"\bJunior School\b", "Junior"),
    (r"\bInfant School\b", "Infant"),
    (r"\bSchool\b", ""),
]
_PANEL_CHARS = 50  # characters across the side panel at 8 points
_PANEL_LINES = 28


@functools.cache
def _glyphs() -> frozenset[int]:
    path = font_manager.findfont(font_manager.FontProperties(family=FONT))
    return frozenset(ft2font.FT2Font(path).get_charmap())


def drawable(text: object) -> str:
    """Return ``text`` with characters the map font cannot draw replaced by ``?``.

    Line breaks and tabs become spaces, so that user text (a scenario or school name) can never
    make matplotlib warn about a missing glyph or start a new line in a label.
    """
    glyphs = _glyphs()
    cleaned = re.sub(r"\s+", " ", str(text)).strip()
    return "".join(c if ord(c) in glyphs else "?" for c in cleaned)


def short_name(name: object) -> str:
    """Shorten a school name for a map label (``Parkside Primary School`` -> ``Parkside Primary``).

    Only common words are abbreviated; the name is never cut short (long labels wrap).

    Parameters
    ----------
    name
        The school's name.

    Returns
    -------
    str
        The shortened name, safe to draw.
    """
    text = str(name)
    for pattern, replacement in _SHORTER:
        shorter = re.sub(pattern, replacement, text).strip(" ,-")
        if shorter:
            text = re.sub(r"\s{2,}", " ", shorter)
    return drawable(text)


def _wrapped(text: str, width: int = _LABEL_WRAP) -> str:
    """``text`` on at most two lines, broken between words, never cut."""
    if len(text) <= width:
        return text
    for limit in range(width, len(text) + 1):
        lines = textwrap.wrap(text, limit, break_long_words=False, break_on_hyphens=False)
        if len(lines) <= 2:
            return "\n".join(lines)
    return text


def _ring_path(geometry: BaseGeometry) -> MplPath | None:
    """One compound path for a (multi)polygon, exteriors anticlockwise and holes clockwise."""
    polygons = [
        g for g in shapely.get_parts(geometry) if g.geom_type == "Polygon" and not g.is_empty
    ]
    if not polygons:
        return None
    parts = []
    for polygon in polygons:
        polygon = orient(polygon, sign=1.0)
        for ring in (polygon.exterior, *polygon.interiors):
            coords = np.asarray(ring.coords)[:, :2]
            if len(coords) >= 4:
                codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
                codes[0], codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
                parts.append(MplPath(coords, codes))
    return MplPath.make_compound_path(*parts) if parts else None


def map_measure(run: PublishedRun, key: str | None = None) -> Measure:
    """The measure the areas of ``run`` are shaded by: ``key`` (a column of the ``demand``
    layer, see :data:`sitefinder.render.cartography.MEASURES`), or by default the one that
    counts every child (:func:`sitefinder.render.cartography.default_measure`).

    Raises
    ------
    ValueError
        If ``key`` is not a measure.
    """
    if key is not None:
        return carto.measure(key)
    areas = run["demand"]
    return carto.default_measure(
        [_float(v) for v in areas["children"]],
        [_float(v) for v in areas["unmet_after"]],
        [_float(v) for v in areas.get("fallback_minutes", pd.Series(math.nan, areas.index))],
    )


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan  # withheld


@dataclass(frozen=True, eq=False)
class _Shading:
    """How areas are shaded: the measure, its classes, and each area's fill on each panel
    (in the ``demand`` table's order; the panel ``None`` is the one map of every phase)."""

    measure: Measure
    ranges: list[Range]
    colours: dict[str | None, list[str]]

    @classmethod
    def of(cls, run: PublishedRun, measure: Measure, phases: Sequence[str] = ()) -> _Shading:
        """The shading of the one map (no ``phases``) or of a panel per phase, in classes that
        hold every panel's values (one colour bar for all)."""
        tables = {None: run["demand"]} if not phases else _phase_tables(run, phases)
        values = {p: [_float(v) for v in t[measure.key]] for p, t in tables.items()}
        ranges = carto.classes(measure, class_values(run, measure))
        colours = {
            panel: [
                carto.area_colour(ranges, value, children=kids)
                for value, kids in zip(
                    values[panel], table["children"].map(positive).astype(bool), strict=True
                )
            ]
            for panel, table in tables.items()
        }
        return cls(measure, ranges, colours)

    @property
    def edges(self) -> list[float]:
        return [self.ranges[0].lower, *(r.upper for r in self.ranges)]

    @property
    def withheld(self) -> bool:
        """Whether an area of any panel has no figure."""
        return any(carto.NO_VALUE in part for part in self.colours.values())


def _phase_tables(run: PublishedRun, phases: Sequence[str]) -> dict[str | None, pd.DataFrame]:
    """Each phase's rows of ``demand_by_phase`` in the ``demand`` table's order of areas."""
    table = run["demand_by_phase"]
    order = run["demand"]["area_code"].astype(str)
    tables: dict[str | None, pd.DataFrame] = {}
    for phase in phases:
        mine = table[table["phase"] == phase]
        mine = mine.set_index(mine["area_code"].astype(str))
        tables[phase] = mine.reindex(order).assign(
            children=lambda t: t["children"].where(t["children"].notna(), 0.0)
        )
    return tables


def class_values(run: PublishedRun, measure: Measure) -> list[float]:
    """The values the classes of ``measure`` are drawn from on every map of ``run`` (the
    PNG, SVG and PDF, the report's interactive map and, from the same tables, the QGIS style):
    each area's and each area's by phase (NaN where withheld or missing)."""
    values = []
    for name in ("demand", "demand_by_phase"):
        table = run.tables.get(name)
        if table is not None and measure.key in table.columns:
            values += [_float(v) for v in table[measure.key]]
    return values


def panel_phases(run: PublishedRun) -> list[str]:
    """The phases the map draws a panel for: every phase planned when there are two or more
    (each phase's children, bases and candidates on its own panel), else none (one map, as
    for a run published without a ``demand_by_phase`` table)."""
    table = run.tables.get("demand_by_phase")
    if table is None:
        return []
    phases = [p for p in run.facts.limits if (table["phase"] == p).any()]
    return phases if len(phases) > 1 else []


def _area_shapes(run: PublishedRun) -> list[MplPath | None]:
    """Each area's polygon path in the demand table's order (None where there is no polygon)."""
    return [None if s is None else _ring_path(s) for s in run.area_shapes]


def _draw_areas(ax: Axes, run: PublishedRun, fills: Sequence[str]) -> None:
    """Shade every area in ``fills`` (its colours in the ``demand`` table's order)."""
    areas = run["demand"].reset_index(drop=True)
    colours = np.array(fills)
    shapes = _area_shapes(run)
    has_shape = np.array([s is not None for s in shapes], dtype=bool)
    if has_shape.any():
        ax.add_collection(
            PathCollection(
                [s for s in shapes if s is not None],
                facecolors=colours[has_shape],
                edgecolors=carto.AREA_EDGE,
                linewidths=0.4,
                zorder=1,
            )
        )
    points = ~has_shape
    if points.any():
        x = areas["easting"].to_numpy(dtype=float)[points]
        y = areas["northing"].to_numpy(dtype=float)[points]
        ax.scatter(
            x, y, s=46, c=list(colours[points]), marker="h", edgecolors="#ffffff",
            linewidths=0.5, zorder=2,
        )  # fmt: skip


Extent = tuple[float, float, float, float]


def _reach(run: PublishedRun, points: Sequence[pd.DataFrame]) -> list[Extent]:
    """The extents (metres) of every area, drawn as a polygon or a point, and of ``points``
    (tables with ``easting`` and ``northing``): what the map must hold."""
    extents: list[Extent] = []
    shapes = _area_shapes(run)
    for path in shapes:
        if path is not None:
            (x0, y0), (x1, y1) = path.get_extents().get_points()
            extents.append((float(x0), float(y0), float(x1), float(y1)))
    areas = run["demand"].reset_index(drop=True)
    dots = areas[[s is None for s in shapes]]  # areas drawn at their point
    for frame in (dots, *points):
        for x, y in zip(frame["easting"], frame["northing"], strict=True):
            if math.isfinite(float(x)) and math.isfinite(float(y)):
                extents.append((float(x), float(y), float(x), float(y)))
    return extents or [(0.0, 0.0, 1000.0, 1000.0)]


def _halo(width: float = 2.5) -> list[AbstractPathEffect]:
    return [withStroke(linewidth=width, foreground="white")]


_MARKERS = {"circle": "o", "square": "s", "star": "*"}


def _scatter(ax: Axes, x: Sequence[float], y: Sequence[float], mark: Mark, zorder: int) -> None:
    """Points drawn with ``mark`` (its size in millimetres across)."""
    across = mark.size_mm * carto.POINTS_PER_MM * (1.45 if mark.shape == "star" else 1.0)
    ax.scatter(
        x, y, s=across**2, marker=_MARKERS[mark.shape], c=mark.fill, edgecolors=mark.edge,
        linewidths=0.9 if mark.fill != "#ffffff" else 1.2, zorder=zorder,
    )  # fmt: skip


def _mark_boxes(ax: Axes, x: Sequence[float], y: Sequence[float], mark: Mark) -> list[Bbox]:
    """The boxes (pixels) the marks of ``mark`` at these points take, a little padded."""
    half = (mark.size_mm * carto.POINTS_PER_MM / 2 + 1.0) * ax.figure.dpi / 72.0
    boxes = []
    for px, py in ax.transData.transform(np.column_stack([x, y])) if len(x) else []:
        boxes.append(Bbox.from_extents(px - half, py - half, px + half, py + half))
    return boxes


def _extents(artists: Sequence[Artist], renderer: RendererBase) -> list[Bbox]:
    return [artist.get_window_extent(renderer) for artist in artists]


def _nice_length(span_metres: float) -> float:
    """A round scale-bar length (metres) near a fifth of the map's width."""
    target = span_metres / 5.0
    candidates = [m * 10**e for e in range(1, 7) for m in (1, 2, 5)]
    fitting = [c for c in candidates if c <= target]
    return float(max(fitting) if fitting else candidates[0])


def _scale_bar(ax: Axes) -> list[Artist]:
    """Draw a two-segment scale bar in the lower left, in km (EPSG:27700 metres: exact);
    return its backing box (labels keep off it)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    length = _nice_length(width)
    left, bottom, bar = x0 + 0.035 * width, y0 + 0.045 * height, 0.009 * height
    backing = ax.add_patch(
        Rectangle(
            (left - 0.015 * width, bottom - 0.03 * height),
            length + 0.05 * width,
            0.085 * height,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=9,
        )
    )
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (left + i * length / 2, bottom),
                length / 2,
                bar,
                facecolor="black" if i == 0 else "white",
                edgecolor="black",
                linewidth=0.8,
                zorder=10,
            )
        )
    km = length / 1000.0
    for position, value in ((0.0, 0.0), (0.5, km / 2), (1.0, km)):
        ax.text(
            left + position * length,
            bottom + bar + 0.006 * height,
            f"{value:g}",
            ha="center",
            va="bottom",
            fontsize=7.5,
            zorder=10,
        )
    ax.text(
        left + length + 0.008 * width,
        bottom + bar / 2,
        "km",
        ha="left",
        va="center",
        fontsize=7.5,
        zorder=10,
    )
    grid = ax.text(
        left,
        bottom - 0.008 * height,
        "British National Grid (EPSG:27700)",
        ha="left",
        va="top",
        fontsize=6.5,
        color="#444444",
        zorder=10,
    )
    return [backing, grid]


def _north_arrow(ax: Axes) -> list[Artist]:
    """A north arrow in the upper right (grid north of EPSG:27700); return its parts."""
    arrow = ax.annotate(
        "",
        xy=(0.955, 0.955),
        xytext=(0.955, 0.875),
        xycoords="axes fraction",
        arrowprops={
            "arrowstyle": "-|>,head_length=0.8,head_width=0.4",
            "color": "black",
            "linewidth": 1.6,
        },
        zorder=10,
    )
    letter = ax.text(
        0.955,
        0.86,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=12,
        fontweight="bold",
        zorder=10,
        path_effects=_halo(3.0),
    )
    return [arrow, letter]


def _limits(ax: Axes, extents: list[tuple[float, float, float, float]]) -> None:
    """Set limits that hold every extent, padded, at one metre = one metre on both axes."""
    box = np.asarray(extents, dtype=float)
    x0, y0 = np.nanmin(box[:, 0]), np.nanmin(box[:, 1])
    x1, y1 = np.nanmax(box[:, 2]), np.nanmax(box[:, 3])
    pad = 0.04 * max(x1 - x0, y1 - y0, 1000.0)
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    position = ax.get_position()
    fig_width, fig_height = FIGSIZE
    shape = (position.height * fig_height) / (position.width * fig_width)  # height / width
    width, height = x1 - x0, y1 - y0
    if height / width < shape:
        grow = (width * shape - height) / 2
        y0, y1 = y0 - grow, y1 + grow
    else:
        grow = (height / shape - width) / 2
        x0, x1 = x0 - grow, x1 + grow
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")


def _plan_phrase(run: PublishedRun) -> str:
    facts = run.facts
    n = len(run["plan_chosen"])
    method = "exact MIP" if facts.method == "optimal" else "greedy + interchange"
    how = facts.proof_brief
    return (
        f"Candidate host schools for new SEND inclusion bases: the plan adds {n} new"
        f" base{'s' if n != 1 else ''} of {facts.base_size} places ({method}, {how})."
    )


def _colour_bar(fig: Figure, run: PublishedRun, shading: _Shading) -> None:
    """The classes of the measure as a colour bar, with each phase's guidance limit."""
    edges, item = shading.edges, shading.measure
    cmap = ListedColormap([r.color for r in shading.ranges], name=item.key)
    norm = BoundaryNorm(edges, cmap.N)
    cax = fig.add_axes((0.725, 0.835, 0.25, 0.022))
    bar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap),
        cax=cax,
        orientation="horizontal",
        ticks=edges[:: max(1, len(edges) // 8)],
    )
    bar.ax.tick_params(labelsize=7.5)
    if item.kind == "share":
        bar.ax.set_xticklabels([f"{e:.0%}" for e in edges[:: max(1, len(edges) // 8)]])
    title = "\n".join(textwrap.wrap(item.label, 58))
    bar.set_label(title, fontsize=8, linespacing=1.1)
    bar.ax.xaxis.set_label_position("top")
    if item.kind != "minutes":
        return
    for phase, limit in run.facts.limits.items():
        if edges[0] <= limit <= edges[-1]:
            bar.ax.axvline(limit, color="black", linewidth=1.2)
            bar.ax.text(
                limit,
                -1.9,
                f"{phase} limit {limit:g}",
                transform=bar.ax.get_xaxis_transform(),
                ha="right" if limit > edges[0] + 0.8 * (edges[-1] - edges[0]) else "center",
                va="top",
                fontsize=6.5,
            )


def _legend_mark(mark: Mark, label: str | None = None) -> Line2D:
    across = min(mark.size_mm * carto.POINTS_PER_MM, 13.0)  # a star's legend fits its line
    return Line2D(
        [], [], linestyle="none", marker=_MARKERS[mark.shape], markersize=across,
        markerfacecolor=mark.fill, markeredgecolor=mark.edge,
        markeredgewidth=1.2 if mark.fill == "#ffffff" else 0.9,
        label=label or mark.label,
    )  # fmt: skip


def _panel_lines(run: PublishedRun, ranking: pd.DataFrame) -> list[tuple[str, bool]]:
    """The plan and the top candidates, in full, wrapped to the panel's width."""

    def wrapped(first: str, rest: str, text: str) -> list[tuple[str, bool]]:
        parts = textwrap.wrap(text, _PANEL_CHARS - len(first), break_long_words=False)
        return [(first + parts[0], False), *((rest + p, False) for p in parts[1:])]

    lines: list[tuple[str, bool]] = [("The plan", True)]
    chosen = run["plan_chosen"]
    if chosen.empty:
        lines.append(("No new base would avert any harm.", False))
    for row in chosen.itertuples():
        label = drawable(row.need_group_label)
        lines += wrapped(
            f"N{row.choice}  ", "      ", f"{short_name(row.name)} ({row.places} places)"
        )
        lines += wrapped("      ", "      ", f"{row.phase}: {label}")
    lines.append(("", False))
    lines.append((f"Top {len(ranking)} candidates (greedy build order)", True))
    hosts = {str(urn) for urn in chosen.get("urn", [])}
    for row in ranking.itertuples():
        mark = " *" if str(row.urn) in hosts else ""
        lines += wrapped(
            f"{row.rank:>2}  ", "      ", f"{short_name(row.name)} ({row.phase}){mark}"
        )
    if ranking["urn"].astype(str).isin(hosts).any():
        lines.append(("* hosts a new base in the plan", False))
    if len(lines) > _PANEL_LINES:
        more = len(lines) - _PANEL_LINES + 1
        lines = [*lines[: _PANEL_LINES - 1], (f"({more} more lines: see the report)", False)]
    return lines


def _side_panel(
    fig: Figure,
    run: PublishedRun,
    ranking: pd.DataFrame,
    shading: _Shading,
) -> None:
    """Colour bar, legend and the lists of new bases and top candidates, right of the map."""
    _colour_bar(fig, run, shading)
    handles: list[Artist] = [
        Patch(facecolor=carto.NO_CHILDREN, edgecolor="#bbbbbb", label="No children needing a place")
    ]
    if shading.withheld:
        handles.append(
            Patch(facecolor=carto.NO_VALUE, edgecolor="#bbbbbb",
                  label="No figure (withheld, or no child placed)")
        )  # fmt: skip
    handles += [
        _legend_mark(carto.EXISTING),
        _legend_mark(carto.NEW, "New base in the plan (N1 = choice 1)"),
        _legend_mark(carto.ELIGIBLE, "Top ranked candidate (greedy order)"),
    ]
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.715, 0.765),
        frameon=False,
        fontsize=8,
        handlelength=1.8,
        handleheight=1.2,
        borderaxespad=0.0,
    )
    y = 0.60
    step = 0.0205
    for text, bold in _panel_lines(run, ranking):
        fig.text(
            0.725,
            y,
            text,
            fontsize=8,
            fontweight="bold" if bold else "normal",
            va="top",
            parse_math=False,
        )
        y -= step


_SINGLE = (0.02, 0.075, 0.68, 0.83)  # the map's axes (figure fractions)
_SIDE_BY_SIDE = ((0.02, 0.075, 0.335, 0.79), (0.365, 0.075, 0.335, 0.79))  # a panel per phase
_STACKED = ((0.02, 0.49, 0.68, 0.375), (0.02, 0.075, 0.68, 0.375))  # for a wide authority


def _panel_places(extents: Sequence[Extent]) -> tuple[Extent, ...]:
    """Where the two panels go: side by side, or one above the other, whichever draws the
    authority (its ``extents``, metres) at the larger scale."""
    box = np.asarray(extents, dtype=float)
    width = max(float(np.nanmax(box[:, 2]) - np.nanmin(box[:, 0])), 1.0)
    height = max(float(np.nanmax(box[:, 3]) - np.nanmin(box[:, 1])), 1.0)

    def scale(place: Extent) -> float:
        _, _, across, up = place
        return min(across * FIGSIZE[0] / width, up * FIGSIZE[1] / height)

    return _STACKED if scale(_STACKED[0]) > scale(_SIDE_BY_SIDE[0]) else _SIDE_BY_SIDE


def _figure(run: PublishedRun, *, top: int, dpi: int, measure: Measure) -> Figure:
    fig = Figure(figsize=FIGSIZE, dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    phases = panel_phases(run)
    shading = _Shading.of(run, measure, phases)
    ranking = run["ranking"].head(max(top, 0))
    existing = run["existing_bases"]
    new = run["planned_bases"].reset_index(drop=True)
    new = new.assign(choice=_choices(run, new))
    # Every panel shows the whole authority at one scale: the extents of all of it.
    extents = _reach(run, [existing, new, ranking])
    panels: list[str | None] = list(phases) or [None]
    places = _panel_places(extents) if phases else (_SINGLE,)
    axes = []
    for panel, position in zip(panels, places, strict=False):
        ax = fig.add_axes(position)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor("#f4f7fa")
        if panel is not None:
            ax.set_title(
                f"{panel.capitalize()}: its children, bases and candidates",
                loc="left", fontsize=10.5, fontweight="bold", pad=4,
            )  # fmt: skip
        _draw_areas(ax, run, shading.colours[panel])
        axes.append(ax)
    renderer = canvas.get_renderer()
    for ax, panel in zip(axes, panels, strict=True):
        _limits(ax, extents)

        def mine(frame: pd.DataFrame, phase: str | None = panel) -> pd.DataFrame:
            return frame if phase is None else frame[frame["phase"].astype(str) == phase]

        _draw_schools(ax, renderer, mine(ranking), mine(existing), mine(new))
    _side_panel(fig, run, ranking, shading)

    fig.text(
        0.02,
        0.965,
        drawable(run.facts.scenario_name)[:90],
        fontsize=17,
        fontweight="bold",
        va="center",
        parse_math=False,
    )
    fig.text(
        0.02,
        0.928,
        _plan_phrase(run),
        fontsize=10,
        va="center",
        color="#333333",
        parse_math=False,
    )
    fig.text(
        0.02, 0.035, drawable(run.facts.credits), fontsize=7, color="#444444", va="center",
        parse_math=False,
    )  # fmt: skip
    fig.text(
        0.02,
        0.015,
        f"Made with sitefinder {run.facts.version}. Journey minutes:"
        f" {drawable(run.facts.travel_method)};"
        " shared SEND transport, one way. Every assumption is listed in the HTML report.",
        fontsize=7,
        color="#444444",
        va="center",
        parse_math=False,
    )
    return fig


def _draw_schools(
    ax: Axes,
    renderer: RendererBase,
    ranking: pd.DataFrame,
    existing: pd.DataFrame,
    new: pd.DataFrame,
) -> None:
    """Mark and label the top candidates, existing bases and new bases (numbered by their
    ``choice``) on ``ax``, whose limits are final; with the scale bar and north arrow."""
    _scatter(ax, ranking["easting"], ranking["northing"], carto.ELIGIBLE, 5)
    _scatter(ax, existing["easting"], existing["northing"], carto.EXISTING, 6)
    _scatter(ax, new["easting"], new["northing"], carto.NEW, 7)

    # Labels keep off every mark and the map's furniture.
    taken = [
        *_mark_boxes(ax, ranking["easting"], ranking["northing"], carto.ELIGIBLE),
        *_mark_boxes(ax, existing["easting"], existing["northing"], carto.EXISTING),
        *_mark_boxes(ax, new["easting"], new["northing"], carto.NEW),
        *_extents(_scale_bar(ax), renderer),
        *_extents(_north_arrow(ax), renderer),
    ]
    star = carto.NEW.size_mm * carto.POINTS_PER_MM / 2
    circle = carto.ELIGIBLE.size_mm * carto.POINTS_PER_MM / 2
    labels = [
        Label(float(row.easting), float(row.northing),
               _wrapped(f"N{row.choice} {short_name(row.school_name)}"), f"N{row.choice}",
               carto.NEW.fill, True, star)
        for row in new.itertuples()
    ]  # fmt: skip
    planned = {str(urn) for urn in new["urn"]}
    candidate_labels: dict[str, tuple[float, float, list[int], str]] = {}
    for row in ranking.itertuples():
        key = str(row.urn)
        if key in planned:  # labelled as a new base; its ranks are in the side panel
            continue
        if key in candidate_labels:
            candidate_labels[key][2].append(int(row.rank))
        else:
            candidate_labels[key] = (
                float(row.easting),
                float(row.northing),
                [int(row.rank)],
                short_name(row.name),
            )
    for x, y, ranks, name in candidate_labels.values():
        number = ",".join(map(str, ranks))
        labels.append(Label(x, y, _wrapped(f"{number} {name}"), number, "#111111", False, circle))
    place_labels(ax, renderer, labels, taken)


def _choices(run: PublishedRun, new: pd.DataFrame) -> list[int]:
    """The plan's choice number of each new base (in ``sites`` order, as built by the pipeline)."""
    chosen = run["plan_chosen"]
    if "choice" in chosen.columns and len(chosen) == len(new):
        return [int(c) for c in chosen["choice"]]
    return list(range(1, len(new) + 1))


MAP_FORMATS: dict[str, str] = {".png": "PNG image", ".svg": "SVG image", ".pdf": "PDF document"}
"""The map's file formats, by file name extension (and what each is called in messages)."""

# Fixed metadata: no timestamp, no software version, so the same inputs give the same bytes.
_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


def check_map_target(path: str | Path, *, overwrite: bool) -> Path:
    """Check that the map may be written at ``path`` (its extension chooses the format).

    Raises
    ------
    OutputError
        If the name does not end in ``.png``, ``.svg`` or ``.pdf``, or as
        :func:`sitefinder.targets.check_target`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MAP_FORMATS:
        raise OutputError(
            f"{path}: the map must be a file ending in .png, .svg or .pdf (the extension"
            " chooses the format)"
        )
    return check_target(path, overwrite=overwrite, suffix=suffix, kind=MAP_FORMATS[suffix])


def map_image(
    run: PublishedRun | RankResult,
    *,
    image_format: str = "png",
    dpi: int = 150,
    top: int | None = None,
    measure: str | None = None,
) -> bytes:
    """Render the map of ``run`` as ``png``, ``svg`` or ``pdf`` bytes (see :func:`draw_map`).

    The SVG and PDF are vector drawings of the same figure as the PNG (text as outlines in the
    SVG, embedded TrueType text in the PDF), so they print sharp at any size.

    Parameters
    ----------
    run
        A ranking run, or what it published (:class:`~sitefinder.published.PublishedRun`).
    image_format
        ``png``, ``svg`` or ``pdf``.
    dpi
        Resolution (dots per inch); the PNG is ``FIGSIZE x dpi`` pixels. Labels are placed at
        this resolution in every format.
    top
        How many of the ranked candidates to mark and label (default: the run's ``top``).
    measure
        The ``demand`` column the areas are shaded by (see :func:`map_measure`).

    Returns
    -------
    bytes
        The image, byte-for-byte the same for the same inputs.

    Raises
    ------
    ValueError
        If ``dpi`` is not positive, the format unknown or the measure not a measure.
    """
    if dpi <= 0:
        raise ValueError("dpi must be positive")
    if image_format not in _METADATA:
        raise ValueError(f"no map format {image_format!r} (choose png, svg or pdf)")
    run = published(run, top=top)
    top = run.facts.top if top is None else top
    with mpl.rc_context(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [FONT],
            "font.size": 9.0,
            "hatch.linewidth": 0.6,
            "axes.linewidth": 0.8,
            "text.usetex": False,
            "svg.hashsalt": "sitefinder",  # fixed ids in the SVG
            "pdf.fonttype": 42,  # TrueType: text stays text in the PDF
        }
    ):
        fig = _figure(run, top=top, dpi=dpi, measure=map_measure(run, measure))
        buffer = io.BytesIO()
        fig.savefig(buffer, format=image_format, dpi=dpi, metadata=_METADATA[image_format])
    return buffer.getvalue()


def map_png(
    run: PublishedRun | RankResult,
    *,
    dpi: int = 150,
    top: int | None = None,
    measure: str | None = None,
) -> bytes:
    """Render the map of ``run`` as PNG bytes (:func:`map_image` with ``image_format="png"``).

    Parameters
    ----------
    run
        A ranking run, or what it published (:class:`~sitefinder.published.PublishedRun`).
    dpi
        Resolution; the image is ``FIGSIZE x dpi`` pixels.
    top
        How many of the ranked candidates to mark and label (default: the run's ``top``).
    measure
        The ``demand`` column the areas are shaded by (see :func:`map_measure`).

    Returns
    -------
    bytes
        The PNG image, byte-for-byte the same for the same inputs.
    """
    return map_image(run, image_format="png", dpi=dpi, top=top, measure=measure)


def draw_map(
    run: PublishedRun | RankResult,
    path: Path,
    *,
    overwrite: bool = False,
    dpi: int = 150,
    top: int | None = None,
    measure: str | None = None,
) -> Path:
    """Draw the areas, bases and top candidates of a ranking run as an A4 landscape map: a PNG,
    SVG or PDF file, by the extension of ``path``.

    Areas are shaded by ``measure``, by default one that counts every child, those without a
    base place on their fallback journey (:func:`map_measure`); existing bases,
    the plan's new bases (numbered by choice) and the ``top`` ranked candidates (labelled
    with short names) are marked. A colour bar, legend, scale bar, north arrow, title and
    attribution complete the sheet. Drawn offline with matplotlib.

    Parameters
    ----------
    run
        A ranking run (:func:`sitefinder.rank`), or what it published (read back from its
        GeoPackage by :func:`sitefinder.export.read_run`).
    path
        Where to write the map: ``.png``, ``.svg`` or ``.pdf`` (the folder must exist).
    overwrite
        Replace an existing file.
    dpi
        Resolution of the PNG; the image is ``FIGSIZE x dpi`` pixels (11.7 x 8.3 inches).
    top
        How many ranked candidates to mark and label (default: the run's ``top``).
    measure
        The ``demand`` column the areas are shaded by: one of
        :data:`sitefinder.render.cartography.MEASURES` (default: :func:`map_measure`'s).

    Returns
    -------
    Path
        The file written. It appears only when complete.

    Raises
    ------
    OutputError
        If the name does not end in ``.png``, ``.svg`` or ``.pdf``, the file exists and
        ``overwrite`` is false, the folder does not exist, or the file cannot be written.
    """
    path = check_map_target(path, overwrite=overwrite)
    suffix = path.suffix.lower()
    image = map_image(run, image_format=suffix[1:], dpi=dpi, top=top, measure=measure)
    return write_atomic(path, image, overwrite=overwrite, kind=MAP_FORMATS[suffix])
