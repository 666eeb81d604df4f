"""Charts of a run's published tables for the report: the sufficiency statement by year, and
the one-at-a-time sensitivity as a tornado."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import matplotlib as mpl
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sitefinder.published import PublishedRun, published
from sitefinder.render.staticmap import FONT

if TYPE_CHECKING:
    from sitefinder.pipeline import RankResult

# The same blues and oranges as the map's palette family (colour-blind safe).
_CHILDREN, _TODAY, _ADDED = "#08519c", "#969696", "#f16913"


def sufficiency_png(run: PublishedRun | RankResult, *, dpi: int = 110) -> bytes | None:
    """Children needing a base place against places, by year, one panel per phase, as PNG.

    None when the run has no sufficiency statement, or its children are withheld.
    """
    table = published(run)["sufficiency"]
    if table.empty:
        return None
    children = pd.to_numeric(table["children"], errors="coerce")
    if children.isna().any():
        return None
    table = table.assign(children=children)
    phases = list(dict.fromkeys(table["phase"]))
    with mpl.rc_context({"font.family": "sans-serif", "font.sans-serif": [FONT], "font.size": 8}):
        fig = Figure(figsize=(3.4 * len(phases), 2.6), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, len(phases), squeeze=False)[0]
        for ax, phase in zip(axes, phases, strict=True):
            part = (
                table[table["phase"] == phase]
                .groupby("year")[["children", "places_today", "places_added"]]
                .sum()
            )
            years = part.index.astype(int).tolist()
            ax.bar(years, part["places_today"], color=_TODAY, width=0.6, label="places today")
            ax.bar(
                years,
                part["places_added"],
                bottom=part["places_today"],
                color=_ADDED,
                width=0.6,
                label="places the plan adds",
            )
            ax.plot(years, part["children"], color=_CHILDREN, marker="o", label="children")
            ax.set_title(phase.capitalize())
            ax.set_xticks(years)
            ax.set_ylim(bottom=0)
            ax.spines[["top", "right"]].set_visible(False)
            ax.set_ylabel("children / places")
        axes[0].legend(loc="lower left", frameon=False, fontsize=7)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


_LOW, _HIGH = "#3182bd", "#f16913"


def tornado_png(run: PublishedRun | RankResult, *, dpi: int = 110) -> bytes | None:
    """The one-at-a-time sensitivity as a tornado chart, as PNG: for each assumption, the
    change in the harm the new bases avert with it alone at each end of its range (each other
    share), one bar an end, the widest assumption on top; hatched where the plan itself
    changes.

    None without a sensitivity, or when its figures are withheld.
    """
    table = published(run)["sensitivity"]
    if table.empty or "change" not in table.columns:
        return None
    change = pd.to_numeric(table["change"], errors="coerce")
    if change.isna().any():
        return None
    table = table.assign(change=change)
    widths = table.assign(width=change.abs()).groupby("label", sort=False)["width"].max()
    labels = list(widths.sort_values(kind="stable").index)  # narrowest first: from the bottom
    span = max(float(change.abs().max()), 1e-9)
    with mpl.rc_context({"font.family": "sans-serif", "font.sans-serif": [FONT], "font.size": 8}):
        fig = Figure(figsize=(7.5, 0.6 * len(labels) + 1.2), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        for y, label in enumerate(labels):
            rows = table[table["label"] == label]
            height = 0.8 / len(rows)
            for i, row in enumerate(rows.itertuples()):
                # The row's ends one under another, low on top.
                centre = y + 0.4 - height * (i + 0.5)
                colour = _LOW if str(row.end) == "low" else _HIGH
                changed = bool(row.changed)
                ax.barh(
                    centre,
                    row.change,
                    height=height * 0.9,
                    color=colour,
                    hatch="///" if changed else None,
                    edgecolor="white" if changed else colour,
                )
                right = row.change >= 0
                ax.text(
                    row.change + (0.015 if right else -0.015) * span,
                    centre,
                    str(row.value),
                    va="center",
                    ha="left" if right else "right",
                    fontsize=6.5,
                )
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_ylim(-0.5, len(labels) - 0.5)
        ax.set_xlim(-2.0 * span, 2.0 * span)  # room for the values beside the bars
        ax.set_xlabel(
            "change in the harm points the new bases avert (0: every assumption at its setting)"
        )
        ax.spines[["top", "right"]].set_visible(False)
        fig.legend(
            handles=[
                Patch(color=_LOW, label="low end"),
                Patch(color=_HIGH, label="high end (or another share)"),
                Patch(
                    facecolor="#bdbdbd", hatch="///", edgecolor="white", label="the plan changes"
                ),
            ],
            loc="outside lower center",
            ncols=3,
            frameon=False,
            fontsize=7,
        )
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
