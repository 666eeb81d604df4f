"""Render a :class:`RankResult` for people (a rich table) and for programs (CSV, JSON).

Counts of children pass through :mod:`sitefinder.disclosure` in every format.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pandas as pd
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sitefinder.disclosure import format_count, is_suppressed
from sitefinder.pipeline import RankResult

COUNT_COLUMNS = ["children_served", "newly_placed", "within_limit_gain"]
OUTPUT_COLUMNS = [
    "rank", "urn", "name", "phase", "need_group", "need_group_label", "harm_averted",
    "harm_averted_standalone", "children_served", "newly_placed", "within_limit_gain",
    "minutes_before", "minutes_after", "in_plan", "notes",
]  # fmt: skip


def _number(value: float, digits: int) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def count_value(value: float, threshold: int) -> int | float | str:
    """A count for machine output: a number, or ``"<N"`` when suppressed."""
    if is_suppressed(value, threshold):
        return f"<{threshold}"
    whole = round(value)
    return whole if abs(value - whole) < 0.05 else round(value, 1)


def ranking_rows(result: RankResult, *, top: int) -> list[dict[str, Any]]:
    """Return the first ``top`` ranked candidates as plain rows, counts disclosure-controlled.

    Harm is in harm points (2 decimals), minutes to 1 decimal; suppressed counts read ``<N``.
    """
    threshold = result.scenario.suppression_threshold
    rows = []
    for record in result.ranking.head(top).to_dict("records"):
        row: dict[str, Any] = {key: record[key] for key in OUTPUT_COLUMNS}
        row["rank"] = int(row["rank"])
        row["in_plan"] = bool(row["in_plan"])
        for key in ("harm_averted", "harm_averted_standalone"):
            row[key] = round(float(row[key]), 2)
        for key in ("minutes_before", "minutes_after"):
            value = float(row[key])
            row[key] = None if math.isnan(value) else round(value, 1)
        for key in COUNT_COLUMNS:
            row[key] = count_value(float(row[key]), threshold)
        rows.append(row)
    return rows


def to_csv(result: RankResult, *, top: int) -> str:
    """Ranked candidates as CSV text (header + one row per candidate)."""
    buffer = io.StringIO()
    pd.DataFrame(ranking_rows(result, top=top), columns=OUTPUT_COLUMNS).to_csv(
        buffer, index=False, lineterminator="\n"
    )
    return buffer.getvalue()


def to_json(result: RankResult, *, top: int) -> str:
    """Ranked candidates as a JSON array of objects."""
    return json.dumps(ranking_rows(result, top=top), indent=2, ensure_ascii=False) + "\n"


_SUMMARY = [
    ("Total harm (harm points)", "total_harm", "harm"),
    ("Children needing a place", "children", "count"),
    ("Children placed", "placed", "count"),
    ("Within the guidance limit", "within_limit", "count"),
    ("Unmet need (children)", "unmet", "count"),
    ("Mean journey (minutes)", "mean_minutes", "minutes"),
    ("95th percentile journey (minutes)", "p95_minutes", "minutes"),
]


def summary_rows(result: RankResult) -> list[tuple[str, str, str, str]]:
    """Network metrics before and after the plan: (label, before, after, change) as text."""
    threshold = result.scenario.suppression_threshold

    def show(value: float, kind: str) -> str:
        if kind == "count":
            return format_count(value, threshold)
        return _number(value, 2 if kind == "harm" else 1)

    rows = []
    for label, attribute, kind in _SUMMARY:
        before = float(getattr(result.before, attribute))
        after = float(getattr(result.after, attribute))
        change = after - before
        sign = "+" if change > 0 else ""
        shown = show(change, kind)
        rows.append((label, show(before, kind), show(after, kind), sign + shown if shown else ""))
    return rows


def _metrics_table(result: RankResult) -> Table:
    bases = result.scenario.bases
    table = Table(
        title=f"Network before and after {bases} new base{'s' if bases != 1 else ''}",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    table.add_column("Metric")
    for heading in ("Before", "After", "Change"):
        table.add_column(heading, justify="right")
    for row in summary_rows(result):
        table.add_row(*row)
    return table


def ranking_table(result: RankResult, *, top: int) -> RenderableType:
    """The ranked candidates and the network summary as rich renderables."""
    scenario = result.scenario
    table = Table(
        title=f"{scenario.name}: candidate host schools for new inclusion bases"
        f" ({scenario.base_size} places each)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption="Harm averted in harm points (1 point = one journey at the guidance limit);"
        f" rows marked * are the plan's {scenario.bases} new base(s). Counts under"
        f" {scenario.suppression_threshold} are suppressed.",
        caption_justify="left",
    )
    table.add_column("Rank", justify="right")
    table.add_column("School (URN)", ratio=3)
    table.add_column("New base", ratio=2)
    table.add_column("Harm averted\n(alone)", justify="right")
    table.add_column("Served\n(+ within\nlimit)", justify="right")
    table.add_column("Minutes\nbefore →\nafter", justify="right")
    table.add_column("Notes", ratio=3)
    rows = ranking_rows(result, top=top)
    for row in rows:
        before = "none" if row["minutes_before"] is None else f"{row['minutes_before']:.1f}"
        after = "" if row["minutes_after"] is None else f"{row['minutes_after']:.1f}"
        gain = row["within_limit_gain"]
        gain = f"+{gain}" if not isinstance(gain, str) and gain > 0 else str(gain)
        table.add_row(
            f"{row['rank']}{'*' if row['in_plan'] else ''}",
            f"{row['name']} ({row['urn']})",
            f"{row['phase']}: {row['need_group_label']}",
            f"{row['harm_averted']:.2f}\n({row['harm_averted_standalone']:.2f})",
            f"{row['children_served']}\n({gain})",
            f"{before} → {after}",
            row["notes"],
        )
    parts: list[RenderableType] = [table]
    if not rows:
        parts.append(
            Text(
                "No new base would avert any harm: today's bases already place every child"
                " the candidates could reach."
            )
        )
    elif len(rows) < top:
        parts.append(
            Text(f"Only {len(rows)} candidate(s) avert any harm; the rest would add nothing.")
        )
    parts.append(_metrics_table(result))
    return Group(*parts)
