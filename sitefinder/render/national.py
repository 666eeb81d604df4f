"""Draw a national run as an A4 landscape PNG: each authority's gap and its allocated bases.

Two panels of England on the British National Grid, each authority a circle at the mean of its
areas' points: on the left its gap today (children needing a base place less places in bases,
from the published ``national_gap`` table, shaded in classes along the map ramp of
:mod:`sitefinder.render.cartography`); on the right the bases the national allocation funds
there (circle area by bases, shade by the marginal harm averted by its last base); the eight
largest circles of each panel are named. Drawn
offline with matplotlib's Agg canvas, scale bar and north arrow as the authority map's; the
same inputs give the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure

from sitefinder.published import OGL, OS_DATA
from sitefinder.render.cartography import ramp
from sitefinder.render.staticmap import (
    _METADATA,
    FONT,
    MAP_FORMATS,
    _north_arrow,
    _scale_bar,
    check_map_target,
)
from sitefinder.targets import write_atomic

FIGSIZE = (11.69, 8.27)  # A4 landscape (inches)
_CLASSES = 5
_LABELS = 8  # authorities named on each panel


def _edges(values: np.ndarray) -> np.ndarray:
    """Class edges at the quantiles of ``values`` (distinct, at least two)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return np.array([0.0, 1.0])
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, _CLASSES + 1)).round(1))
    return edges if len(edges) > 1 else np.array([edges[0], edges[0] + 1.0])


def _panel(
    fig: Figure,
    ax: Axes,
    frame: pd.DataFrame,
    value: str,
    *,
    sizes: np.ndarray,
    title: str,
    legend: str,
) -> None:
    values = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)
    edges = _edges(values)
    colours = ListedColormap(ramp(len(edges) - 1))
    norm = BoundaryNorm(edges, colours.N, clip=True)
    shown = np.isfinite(values)
    ax.scatter(
        frame["easting"][~shown], frame["northing"][~shown], s=sizes[~shown],
        facecolors="none", edgecolors="#888888", linewidths=0.5, zorder=2,
    )  # fmt: skip
    points = ax.scatter(
        frame["easting"][shown], frame["northing"][shown], c=values[shown], s=sizes[shown],
        cmap=colours, norm=norm, edgecolors="#333333", linewidths=0.4, zorder=3,
    )  # fmt: skip
    # The largest circles named (a label for every authority would hide the map).
    for i in np.argsort(-sizes, kind="stable")[:_LABELS]:
        ax.annotate(
            str(frame["authority"].iloc[i]), (frame["easting"].iloc[i], frame["northing"].iloc[i]),
            xytext=(5, 3), textcoords="offset points", fontsize=6.5, zorder=4,
        )  # fmt: skip
    ax.set_aspect("equal")
    ax.set_xlim(80_000, 670_000)
    ax.set_ylim(0, 680_000)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10, loc="left")
    _scale_bar(ax)
    _north_arrow(ax)
    bar = fig.colorbar(points, ax=ax, orientation="horizontal", fraction=0.04, pad=0.02)
    bar.set_label(legend, fontsize=8)
    bar.ax.tick_params(labelsize=7)


def national_map_png(
    gap: pd.DataFrame,
    allocation: pd.DataFrame | None,
    *,
    title: str,
    dpi: int = 120,
    image_format: str = "png",
) -> bytes:
    """The national map as PNG (or ``svg``, ``pdf``: ``image_format``) bytes.

    Parameters
    ----------
    gap
        One row per authority: ``authority``, ``easting``, ``northing`` (metres, EPSG:27700),
        ``children`` and ``gap`` (children; a withheld figure is drawn as an open circle).
    allocation
        The published ``national_allocation`` table (``authority``, ``bases``,
        ``last_marginal``, ``easting``, ``northing``), or None for a run without one (the
        right panel then says so).
    title
        The sheet's title.
    """
    with mpl.rc_context({"font.family": "sans-serif", "font.sans-serif": [FONT],
                         "font.size": 9.0}):  # fmt: skip
        fig = Figure(figsize=FIGSIZE)
        FigureCanvasAgg(fig)
        left, right = fig.subplots(1, 2)
        children = pd.to_numeric(gap["children"], errors="coerce").fillna(0).to_numpy(float)
        sizes = 12 + 160 * np.sqrt(children / max(float(children.max(initial=0)), 1.0))
        _panel(
            fig, left, gap, "gap", sizes=sizes,
            title="Gap today: children needing a base place less places",
            legend="gap (children; circle area: children needing a place)",
        )  # fmt: skip
        if allocation is not None and len(allocation):
            bases = pd.to_numeric(allocation["bases"], errors="coerce").fillna(0).to_numpy(float)
            _panel(
                fig, right, allocation, "last_marginal",
                sizes=np.where(bases > 0, 12 + 160 * np.sqrt(bases / max(bases.max(), 1.0)), 6),
                title=f"Allocation: {int(bases.sum()):,} new bases",
                legend="harm averted by the last base funded (harm points; area: bases)",
            )  # fmt: skip
        else:
            right.set_axis_off()
            right.text(0.5, 0.5, "No national allocation asked for\n(set [national] places,"
                       " bases or capital_budget)", ha="center", va="center")  # fmt: skip
        fig.suptitle(title, x=0.02, ha="left", fontsize=12)
        fig.text(0.02, 0.01, f"{OGL} {OS_DATA}", fontsize=6.5, color="#444444")
        buffer = io.BytesIO()
        fig.savefig(buffer, format=image_format, dpi=dpi, metadata=_METADATA[image_format])
    return buffer.getvalue()


def draw_national_map(
    gap: pd.DataFrame,
    allocation: pd.DataFrame | None,
    path: Path,
    *,
    title: str,
    overwrite: bool = False,
) -> Path:
    """Write :func:`national_map_png` to ``path`` (``.png``, ``.svg`` or ``.pdf``: the
    extension chooses), whole or not at all."""
    path = check_map_target(path, overwrite=overwrite)
    suffix = path.suffix.lower()
    data = national_map_png(gap, allocation, title=title, image_format=suffix[1:])
    return write_atomic(path, data, overwrite=overwrite, kind=MAP_FORMATS[suffix])
