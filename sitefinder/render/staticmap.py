"""Draw a ranking run as a static A4 landscape map (PNG), fully offline.

The map is drawn with matplotlib's object API on the Agg canvas: no pyplot, no tiles, no
network. Areas (polygons when the scenario has boundaries, else points) are shaded by the mean
journey after the plan; existing bases, the plan's new bases and the top ranked candidates are
marked; a legend, colour bar, scale bar (EPSG:27700 metres, so exact), north arrow, title and
attribution make it readable on its own. The same inputs give the same bytes: the PNG carries
no timestamp and no software version in its metadata.
"""

from __future__ import annotations

import functools
import io
import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager, ft2font
from matplotlib.axes import Axes
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
from sitefinder.targets import check_target, write_atomic

if TYPE_CHECKING:
    from sitefinder.pipeline import RankResult

__all__ = [
    "FICTIONAL", "FIGSIZE", "OGL", "OSM", "OS_DATA", "credits", "draw_map", "drawable",
    "map_png", "short_name",
]  # fmt: skip

FIGSIZE: tuple[float, float] = (11.7, 8.3)
"""Figure size in inches: A4 landscape (the PNG is ``FIGSIZE x dpi`` pixels)."""

FONT = "DejaVu Sans"

_NO_CHILDREN = "#e4e4e4"
_UNPLACED = "#8c8c8c"
_HATCH_EDGE = "#3a3a3a"
_EXISTING = "#1f4e9c"
_NEW = "#6a1b9a"
_CANDIDATE = "#111111"
_AREA_EDGE = "#ffffff"
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
_LABEL_CHARS = 24
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


def short_name(name: object, *, limit: int = _LABEL_CHARS) -> str:
    """Shorten a school name for a map label (``Parkside Primary School`` -> ``Parkside Primary``).

    Parameters
    ----------
    name
        The school's name.
    limit
        Longest label in characters; longer names end in an ellipsis.

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
    text = drawable(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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


def _minute_edges(values: Iterable[float]) -> list[float]:
    """Class edges for the mean-journey shading: 5-minute steps to past the largest value."""
    finite = [v for v in values if math.isfinite(v)]
    largest = max(finite, default=0.0)
    top = max(30.0, 5.0 * math.ceil(largest / 5.0 + 1e-9))
    step = 5.0 if top <= 60 else 10.0 if top <= 120 else 20.0
    top = step * math.ceil(top / step)
    return [float(x) for x in np.arange(0.0, top + step / 2, step)]


def _palette(n: int) -> ListedColormap:
    colours = mpl.colormaps["YlOrRd"](np.linspace(0.08, 0.95, n))
    return ListedColormap(colours, name="journey_minutes")


@dataclass(frozen=True, eq=False)
class _Shading:
    """The mean-journey shading: class edges (minutes), their colours and the mapping."""

    edges: list[float]
    cmap: ListedColormap
    norm: BoundaryNorm

    @classmethod
    def for_minutes(cls, values: Iterable[float]) -> _Shading:
        """Shading whose classes reach past the largest of ``values`` (minutes)."""
        edges = _minute_edges(values)
        cmap = _palette(len(edges) - 1)
        return cls(edges, cmap, BoundaryNorm(edges, cmap.N))


def _area_classes(areas: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Split areas into: no children; children but none placed; some still without a place.

    ``areas`` is the published demand table: a withheld count is above zero (zero is shown).
    """
    children = areas["children"].map(positive).astype(bool)
    minutes = pd.to_numeric(areas["mean_minutes_after"], errors="coerce").astype(float)
    unmet = areas["unmet_after"].map(positive).astype(bool)
    empty = ~children
    unplaced = ~empty & minutes.isna()
    partial = ~empty & ~unplaced & unmet
    return empty, unplaced, partial


def _area_shapes(run: PublishedRun) -> list[MplPath | None]:
    """Each area's polygon path in the demand table's order (None where there is no polygon)."""
    return [None if s is None else _ring_path(s) for s in run.area_shapes]


def _draw_areas(
    ax: Axes, run: PublishedRun, shading: _Shading
) -> list[tuple[float, float, float, float]]:
    """Shade every area; return the extents of what was drawn (for the map's limits)."""
    cmap, norm = shading.cmap, shading.norm
    areas = run["demand"].reset_index(drop=True)
    empty, unplaced, partial = _area_classes(areas)
    minutes = pd.to_numeric(areas["mean_minutes_after"], errors="coerce").to_numpy(dtype=float)
    colours = np.array(
        [
            _NO_CHILDREN if e else _UNPLACED if u else mpl.colors.to_hex(cmap(norm(m)))
            for e, u, m in zip(empty, unplaced, minutes, strict=True)
        ]
    )
    shapes = _area_shapes(run)
    has_shape = np.array([s is not None for s in shapes], dtype=bool)
    extents = []
    if has_shape.any():
        paths = [s for s in shapes if s is not None]
        ax.add_collection(
            PathCollection(
                paths,
                facecolors=colours[has_shape],
                edgecolors=_AREA_EDGE,
                linewidths=0.4,
                zorder=1,
            )
        )
        hatched = has_shape & (unplaced | partial).to_numpy()
        if hatched.any():
            ax.add_collection(
                PathCollection(
                    [s for s, h in zip(shapes, hatched, strict=True) if h and s is not None],
                    facecolors="none",
                    edgecolors=_HATCH_EDGE,
                    linewidths=0.0,
                    hatch="////",
                    zorder=2,
                )
            )
        for path in paths:
            (x0, y0), (x1, y1) = path.get_extents().get_points()
            extents.append((x0, y0, x1, y1))
    points = ~has_shape
    if points.any():
        x = areas["easting"].to_numpy(dtype=float)[points]
        y = areas["northing"].to_numpy(dtype=float)[points]
        ring = (unplaced | partial).to_numpy()[points]
        ax.scatter(
            x,
            y,
            s=46,
            c=list(colours[points]),
            marker="h",
            edgecolors=[_HATCH_EDGE if r else "#ffffff" for r in ring],
            linewidths=[1.4 if r else 0.5 for r in ring],
            zorder=2,
        )
        extents.extend(zip(x, y, x, y, strict=True))
    return extents


def _halo(width: float = 2.5) -> list[AbstractPathEffect]:
    return [withStroke(linewidth=width, foreground="white")]


def _place_labels(
    ax: Axes,
    canvas: FigureCanvasAgg,
    labels: Sequence[tuple[float, float, str, str, bool]],
    taken: list[Bbox],
) -> None:
    """Label points, trying eight offsets each and keeping the first that overlaps nothing."""
    renderer = canvas.get_renderer()
    offsets = [(6, 4), (6, -11), (-6, 4), (-6, -11), (0, 9), (0, -15), (10, -3), (-10, -3)]
    for x, y, text, colour, bold in labels:
        chosen = None
        for dx, dy in offsets:
            artist = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                fontsize=7.5,
                ha="left" if dx > 0 else "right" if dx < 0 else "center",
                va="baseline",
                color=colour,
                fontweight="bold" if bold else "normal",
                path_effects=_halo(),
                zorder=8,
                annotation_clip=False,
                parse_math=False,
            )
            box = artist.get_window_extent(renderer).expanded(1.04, 1.1)
            if not any(box.overlaps(other) for other in taken):
                chosen = (artist, box)
                break
            artist.remove()
        if chosen is None:  # crowded: keep the first offset anyway
            dx, dy = offsets[0]
            artist = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                fontsize=7.5,
                ha="left",
                va="baseline",
                color=colour,
                fontweight="bold" if bold else "normal",
                path_effects=_halo(),
                zorder=8,
                annotation_clip=False,
                parse_math=False,
            )
            chosen = (artist, artist.get_window_extent(renderer))
        taken.append(chosen[1])


def _nice_length(span_metres: float) -> float:
    """A round scale-bar length (metres) near a fifth of the map's width."""
    target = span_metres / 5.0
    candidates = [m * 10**e for e in range(1, 7) for m in (1, 2, 5)]
    fitting = [c for c in candidates if c <= target]
    return float(max(fitting) if fitting else candidates[0])


def _scale_bar(ax: Axes) -> None:
    """Draw a two-segment scale bar in the lower left, in km (EPSG:27700 metres: exact)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    length = _nice_length(width)
    left, bottom, bar = x0 + 0.035 * width, y0 + 0.045 * height, 0.009 * height
    ax.add_patch(
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
    ax.text(
        left,
        bottom - 0.008 * height,
        "British National Grid (EPSG:27700)",
        ha="left",
        va="top",
        fontsize=6.5,
        color="#444444",
        zorder=10,
    )


def _north_arrow(ax: Axes) -> None:
    """A north arrow in the upper right (grid north of EPSG:27700)."""
    ax.annotate(
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
    ax.text(
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


def _side_panel(
    fig: Figure,
    run: PublishedRun,
    ranking: pd.DataFrame,
    shading: _Shading,
) -> None:
    """Colour bar, legend and the lists of new bases and top candidates, right of the map."""
    edges, cmap, norm = shading.edges, shading.cmap, shading.norm
    cax = fig.add_axes((0.725, 0.835, 0.25, 0.022))
    bar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap),
        cax=cax,
        orientation="horizontal",
        ticks=edges[:: max(1, len(edges) // 8)],
    )
    bar.ax.tick_params(labelsize=7.5)
    bar.set_label("Mean journey after the plan (minutes, one way)", fontsize=8.5)
    bar.ax.xaxis.set_label_position("top")
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

    handles = [
        Patch(facecolor=_NO_CHILDREN, edgecolor="#bbbbbb", label="No children needing a place"),
        Patch(
            facecolor=_UNPLACED,
            edgecolor=_HATCH_EDGE,
            hatch="////",
            label="Children, none of them placed",
        ),
        Patch(
            facecolor=mpl.colors.to_hex(cmap(0.5)),
            edgecolor=_HATCH_EDGE,
            hatch="////",
            label="Some children still without a place",
        ),
        Line2D(
            [],
            [],
            linestyle="none",
            marker="s",
            markersize=8,
            markerfacecolor=_EXISTING,
            markeredgecolor="white",
            label="Existing base",
        ),
        Line2D(
            [],
            [],
            linestyle="none",
            marker="*",
            markersize=15,
            markerfacecolor=_NEW,
            markeredgecolor="white",
            label="New base in the plan (N1 = choice 1)",
        ),
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=6,
            markerfacecolor="white",
            markeredgecolor=_CANDIDATE,
            markeredgewidth=1.2,
            label="Top ranked candidate (greedy order)",
        ),
    ]
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.715, 0.775),
        frameon=False,
        fontsize=8,
        handlelength=1.8,
        handleheight=1.2,
        borderaxespad=0.0,
    )

    lines: list[tuple[str, bool]] = [("The plan", True)]
    chosen = run["plan_chosen"]
    if chosen.empty:
        lines.append(("No new base would avert any harm.", False))
    for row in chosen.itertuples():
        label = drawable(row.need_group_label)
        name = short_name(row.name, limit=_PANEL_CHARS - 20)
        lines.append((f"N{row.choice}  {name} ({row.places} places)", False))
        detail = f"{row.phase}: {label}"
        lines.extend((f"      {part}", False) for part in textwrap.wrap(detail, _PANEL_CHARS - 6))
    lines.append(("", False))
    lines.append((f"Top {len(ranking)} candidates (greedy build order)", True))
    hosts = {str(urn) for urn in chosen.get("urn", [])}
    for row in ranking.itertuples():
        mark = " *" if str(row.urn) in hosts else ""
        name = short_name(row.name, limit=_PANEL_CHARS - 18)
        lines.append((f"{row.rank:>2}  {name} ({row.phase}){mark}", False))
    if ranking["urn"].astype(str).isin(hosts).any():
        lines.append(("* hosts a new base in the plan", False))
    y = 0.60
    step = 0.0205
    for text, bold in lines[:_PANEL_LINES]:
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


def _figure(run: PublishedRun, *, top: int, dpi: int) -> Figure:
    fig = Figure(figsize=FIGSIZE, dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.075, 0.68, 0.83))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("#f4f7fa")

    shading = _Shading.for_minutes(
        pd.to_numeric(run["demand"]["mean_minutes_after"], errors="coerce").astype(float)
    )
    extents = _draw_areas(ax, run, shading)

    existing, new = run["existing_bases"], run["planned_bases"]
    sites = pd.concat(
        [existing[["easting", "northing"]], new[["easting", "northing"]]], ignore_index=True
    )
    ranking = run["ranking"].head(max(top, 0))
    extents.extend(
        (float(x), float(y), float(x), float(y))
        for frame in (sites, ranking)
        for x, y in zip(frame["easting"], frame["northing"], strict=True)
        if math.isfinite(float(x)) and math.isfinite(float(y))
    )
    if not extents:
        extents = [(0.0, 0.0, 1000.0, 1000.0)]
    _limits(ax, extents)

    ax.scatter(
        ranking["easting"],
        ranking["northing"],
        s=34,
        marker="o",
        facecolors="white",
        edgecolors=_CANDIDATE,
        linewidths=1.2,
        zorder=5,
    )
    ax.scatter(
        existing["easting"],
        existing["northing"],
        s=62,
        marker="s",
        c=_EXISTING,
        edgecolors="white",
        linewidths=0.8,
        zorder=6,
    )
    ax.scatter(
        new["easting"],
        new["northing"],
        s=260,
        marker="*",
        c=_NEW,
        edgecolors="white",
        linewidths=0.8,
        zorder=7,
    )

    taken = [
        ax.transData.transform_bbox(Bbox.from_extents(x - 1, y - 1, x + 1, y + 1)).expanded(1, 1)
        for x, y in zip(new["easting"], new["northing"], strict=True)
    ]
    # Marks stay readable: labels avoid the points of new bases (padded in display units).
    taken = [Bbox.from_extents(b.x0 - 7, b.y0 - 7, b.x1 + 7, b.y1 + 7) for b in taken]
    plan_labels = [
        (
            float(row.easting),
            float(row.northing),
            f"N{row.choice} {short_name(row.school_name)}",
            _NEW,
            True,
        )
        for row in new.reset_index(drop=True).assign(choice=_choices(run, new)).itertuples()
    ]
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
    labels = plan_labels + [
        (x, y, f"{','.join(map(str, ranks))} {name}", _CANDIDATE, False)
        for x, y, ranks, name in candidate_labels.values()
    ]
    _place_labels(ax, canvas, labels, taken)
    _scale_bar(ax)
    _north_arrow(ax)
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


def _choices(run: PublishedRun, new: pd.DataFrame) -> list[int]:
    """The plan's choice number of each new base (in ``sites`` order, as built by the pipeline)."""
    chosen = run["plan_chosen"]
    if "choice" in chosen.columns and len(chosen) == len(new):
        return [int(c) for c in chosen["choice"]]
    return list(range(1, len(new) + 1))


def map_png(run: PublishedRun | RankResult, *, dpi: int = 150, top: int | None = None) -> bytes:
    """Render the map of ``run`` as PNG bytes (see :func:`draw_map`).

    Parameters
    ----------
    run
        A ranking run, or what it published (:class:`~sitefinder.published.PublishedRun`).
    dpi
        Resolution; the image is ``FIGSIZE x dpi`` pixels.
    top
        How many of the ranked candidates to mark and label (default: the run's ``top``).

    Returns
    -------
    bytes
        The PNG image, byte-for-byte the same for the same inputs.
    """
    if dpi <= 0:
        raise ValueError("dpi must be positive")
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
        }
    ):
        fig = _figure(run, top=top, dpi=dpi)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def draw_map(
    run: PublishedRun | RankResult,
    path: Path,
    *,
    overwrite: bool = False,
    dpi: int = 150,
    top: int | None = None,
) -> Path:
    """Draw the areas, bases and top candidates of a ranking run as an A4 landscape PNG.

    Areas are shaded by the mean journey after the plan (areas without children, and areas
    whose children are all or partly without a place, are shown distinctly); existing bases,
    the plan's new bases (numbered by choice) and the ``top`` ranked candidates (labelled
    with short names) are marked. A colour bar, legend, scale bar, north arrow, title and
    attribution complete the sheet. Drawn offline with matplotlib's Agg canvas.

    Parameters
    ----------
    run
        A ranking run (:func:`sitefinder.rank`), or what it published (read back from its
        GeoPackage by :func:`sitefinder.export.read_run`).
    path
        Where to write the PNG (must end in ``.png``; the folder must exist).
    overwrite
        Replace an existing file.
    dpi
        Resolution; the image is ``FIGSIZE x dpi`` pixels (11.7 x 8.3 inches).
    top
        How many ranked candidates to mark and label (default: the run's ``top``).

    Returns
    -------
    Path
        The file written. It appears only when complete.

    Raises
    ------
    OutputError
        If the name does not end in ``.png``, the file exists and ``overwrite`` is false, the
        folder does not exist, or the file cannot be written.
    """
    path = check_target(path, overwrite=overwrite, suffix=".png", kind="PNG image")
    return write_atomic(path, map_png(run, dpi=dpi, top=top), overwrite=overwrite, kind="PNG image")
