"""Charts of a run's published tables for the report: the sufficiency statement by year."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import matplotlib as mpl
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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
