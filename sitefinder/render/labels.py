"""Map labels placed by textalloc: none overlaps another, a mark or the map's furniture, and
every one stays inside the frame.

The search is textalloc's (a maintained library: greedy allocation over candidate boxes around
each point, nearest first); this module only measures the labels and the obstacles in pixels,
hands them to it, and draws what it placed. A label whose full text fits nowhere near its point
tries its short text (its number); one that fits nowhere at all is left out (the map's side
panel names every labelled school). The order of ``labels`` is the priority: the same inputs
give the same placement (textalloc draws no random numbers when given no seed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.lines import Line2D
from matplotlib.patheffects import withStroke
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox
from textalloc.non_overlapping_boxes import get_non_overlapping_boxes

POINTS = 7.5
"""Label size (points)."""
_HALO = 2.0  # the white halo's reach beyond the glyphs (points)
_GAP = 1.5  # space between a mark's edge and its label (points)
_FARTHEST = 60.0  # how far a label may move from its mark (points)
_INSET = 3.0  # labels keep this far inside the frame (pixels)


@dataclass(frozen=True)
class Label:
    """A point to label: where (data units), its full text, the short text used when the full
    one fits nowhere (its number), colour, weight and the radius of its mark (points)."""

    x: float
    y: float
    text: str
    short: str
    colour: str
    bold: bool
    clear: float


@dataclass(frozen=True)
class Placed:
    """A label as drawn: its text, its box (pixels, halo included) and the artist."""

    text: str
    box: Bbox
    artist: Annotation


def _size(ax: Axes, renderer: RendererBase, text: str, bold: bool) -> tuple[float, float]:
    """Width and height (pixels) of ``text`` as a label, halo included."""
    probe = ax.text(0, 0, text, fontsize=POINTS, fontweight="bold" if bold else "normal",
                    transform=None, parse_math=False, linespacing=1.1)  # fmt: skip
    box = probe.get_window_extent(renderer)
    probe.remove()
    pad = 2 * _HALO * ax.figure.dpi / 72.0
    return box.width + pad, box.height + pad


def _allocate(
    frame: Bbox,
    points: np.ndarray,
    sizes: Sequence[tuple[float, float]],
    clear: Sequence[float],
    obstacles: Sequence[Bbox],
    pixels: float,
) -> dict[int, Bbox]:
    """textalloc's placement of boxes of ``sizes`` around ``points`` (pixels) inside ``frame``,
    clear of ``obstacles``; the box of each label it placed, by index."""
    if not len(sizes):
        return {}
    width, height = frame.width, frame.height
    boxes = [
        (float(x), float(y), w, h, POINTS) for (x, y), (w, h) in zip(points, sizes, strict=True)
    ]
    blocked = (
        np.array([[b.x0, b.y0, b.x1, b.y1] for b in obstacles], dtype=float) if obstacles else None
    )
    # textalloc's annotations leave out None, which its allocate() passes for "none given".
    options: dict[str, Any] = {
        "scatter_xy": None, "lines_xyxy": None, "scatter_sizes": None, "direction": None,
        "priority_strategy": None,  # the order given: new bases first, then by rank
        "scatter_plot_bbs": blocked,
    }  # fmt: skip
    placed, _ = get_non_overlapping_boxes(
        original_boxes=boxes,
        xlims=(frame.x0, frame.x1),
        ylims=(frame.y0, frame.y1),
        aspect_ratio=width / height,  # distances in y scale as in x: equal pixels
        margin=0.5 / width,  # obstacles are already padded
        min_distance=0.5 / width,  # the mark's radius and gap come per label (below)
        max_distance=_FARTHEST * pixels / width,
        verbose=False,
        nbr_candidates=200,
        draw_all=False,
        text_scatter_sizes=np.array([(c + _GAP) * pixels for c in clear]),
        draw_lines=True,
        avoid_label_lines_overlap=False,
        avoid_crossing_label_lines=False,
        **options,
    )
    return {int(index): Bbox.from_bounds(x0, y0, w, h) for x0, y0, w, h, _, index in placed}


def place_labels(
    ax: Axes, renderer: RendererBase, labels: Sequence[Label], taken: Sequence[Bbox]
) -> list[Placed | None]:
    """Label points so that no label overlaps another, a mark or furniture (``taken``, boxes in
    pixels) or leaves the frame of ``ax``; draw them and return each as drawn (None: left out).

    ``ax``'s limits must be final (labels are placed in pixels). Full texts are placed first, in
    the order given; those that fit nowhere try their short text around the ones placed.
    """
    frame = ax.get_window_extent(renderer)
    inside = Bbox.from_extents(
        frame.x0 + _INSET, frame.y0 + _INSET, frame.x1 - _INSET, frame.y1 - _INSET
    )
    pixels = ax.figure.dpi / 72.0
    points = ax.transData.transform([(a.x, a.y) for a in labels]) if labels else np.empty((0, 2))
    obstacles = list(taken)
    chosen: dict[int, tuple[str, Bbox]] = {}
    for attempt in ("text", "short"):
        todo = [
            i for i, a in enumerate(labels)
            if i not in chosen and (attempt == "text" or a.short != a.text)
        ]  # fmt: skip
        texts = [getattr(labels[i], attempt) for i in todo]
        sizes = [_size(ax, renderer, t, labels[i].bold) for i, t in zip(todo, texts, strict=True)]
        boxes = _allocate(
            inside, points[todo], sizes, [labels[i].clear for i in todo], obstacles, pixels
        )
        for position, box in boxes.items():
            chosen[todo[position]] = (texts[position], box)
            obstacles.append(box)
    drawn: list[Placed | None] = []
    for index, label in enumerate(labels):
        if index not in chosen:
            drawn.append(None)
            continue
        text, box = chosen[index]
        px, py = points[index]
        centre = ((box.x0 + box.x1) / 2 - px) / pixels, ((box.y0 + box.y1) / 2 - py) / pixels
        artist = ax.annotate(
            text, (label.x, label.y), xytext=centre, textcoords="offset points",
            fontsize=POINTS, ha="center", va="center", color=label.colour,
            fontweight="bold" if label.bold else "normal",
            path_effects=[withStroke(linewidth=2 * _HALO, foreground="white")],
            zorder=8, annotation_clip=False, parse_math=False, linespacing=1.1,
        )  # fmt: skip
        near = (label.clear + _GAP + 2) * pixels
        _leader(ax, (px, py), box, mark=label.clear * pixels, near=near)
        drawn.append(Placed(text, box, artist))
    return drawn


def _leader(ax: Axes, point: tuple[float, float], box: Bbox, *, mark: float, near: float) -> None:
    """A thin line from the edge of a point's mark (``mark`` pixels from it) to the nearest
    side of its label's box, when the box is farther than ``near`` pixels (moved away)."""
    px, py = point
    nx = min(max(px, box.x0), box.x1)
    ny = min(max(py, box.y0), box.y1)
    length = math.hypot(nx - px, ny - py)
    if length <= near:
        return
    sx = px + (nx - px) * mark / length
    sy = py + (ny - py) * mark / length
    inverse = ax.transData.inverted()
    (x0, y0), (x1, y1) = inverse.transform([(sx, sy), (nx, ny)])
    ax.add_line(Line2D([x0, x1], [y0, y1], color="#555555", linewidth=0.6, zorder=7))
