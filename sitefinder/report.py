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
from sitefinder.plan import StoppingRule

COUNT_COLUMNS = ["children_served", "newly_placed", "within_limit_gain"]
OUTPUT_COLUMNS = [
    "rank", "urn", "name", "phase", "need_group", "need_group_label", "harm_averted",
    "harm_averted_standalone", "children_served", "newly_placed", "within_limit_gain",
    "minutes_before", "minutes_after", "in_plan", "robustness", "passes_rule", "notes",
]  # fmt: skip
PLAN_COLUMNS = [
    "choice", "urn", "name", "phase", "need_group", "need_group_label", "places",
    "children_served", "newly_placed", "harm_averted", "minutes_before", "minutes_after",
    "areas_served", "greedy_rank", "robustness", "alternatives",
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
        row["passes_rule"] = bool(row["passes_rule"])
        for key in ("harm_averted", "harm_averted_standalone"):
            row[key] = round(float(row[key]), 2)
        for key in ("minutes_before", "minutes_after"):
            value = float(row[key])
            row[key] = None if math.isnan(value) else round(value, 1)
        for key in COUNT_COLUMNS:
            row[key] = count_value(float(row[key]), threshold)
        row["robustness"] = _share(row["robustness"])
        rows.append(row)
    return rows


def _share(value: float) -> float | None:
    return None if value is None or math.isnan(float(value)) else round(float(value), 3)


def plan_rows(result: RankResult) -> list[dict[str, Any]]:
    """The plan's chosen bases as plain rows, counts disclosure-controlled."""
    threshold = result.scenario.suppression_threshold
    rows = []
    for record in result.plan.chosen.reindex(columns=PLAN_COLUMNS).to_dict("records"):
        row: dict[str, Any] = dict(record)
        row["choice"] = int(row["choice"])
        row["places"] = int(row["places"])
        row["harm_averted"] = round(float(row["harm_averted"]), 2)
        for key in ("children_served", "newly_placed"):
            row[key] = count_value(float(row[key]), threshold)
        for key in ("minutes_before", "minutes_after"):
            value = float(row[key])
            row[key] = None if math.isnan(value) else round(value, 1)
        row["greedy_rank"] = None if pd.isna(row["greedy_rank"]) else int(row["greedy_rank"])
        row["robustness"] = _share(row["robustness"])
        row["alternatives"] = row["alternatives"] if isinstance(row["alternatives"], str) else ""
        rows.append(row)
    return rows


def plan_summary(result: RankResult) -> dict[str, Any]:
    """How the plan was chosen: method, gap, total harm against the greedy order's."""
    plan = result.plan
    return {
        "method": plan.method,
        "proven_optimal": plan.proven,
        "proof": plan.proof(),
        "gap": None if math.isnan(plan.gap) else round(plan.gap, 6),
        "stopped_by_limit": plan.limit or None,
        "requested_bases": plan.requested,
        "seconds": round(plan.seconds, 2),
        "total_harm": round(plan.objective, 2),
        "greedy_total_harm": None
        if math.isnan(plan.greedy_objective)
        else round(plan.greedy_objective, 2),
        "robustness_runs": plan.runs,
        "notes": list(plan.notes),
    }


def to_csv(result: RankResult, *, top: int) -> str:
    """Ranked candidates as CSV text (header + one row per candidate)."""
    buffer = io.StringIO()
    pd.DataFrame(ranking_rows(result, top=top), columns=OUTPUT_COLUMNS).to_csv(
        buffer, index=False, lineterminator="\n"
    )
    return buffer.getvalue()


def to_json(result: RankResult, *, top: int) -> str:
    """The ranking, the plan and the candidates left out, as one JSON object."""
    threshold = result.scenario.suppression_threshold
    document = {
        "ranking": ranking_rows(result, top=top),
        "plan": {
            **plan_summary(result),
            "chosen": plan_rows(result),
            "left_out": [
                {**row, "harm_averted_standalone": round(row["harm_averted_standalone"], 2)}
                for row in result.plan.left_out.to_dict("records")
            ],
            "alternatives": [
                {**row, "harm_difference": round(row["harm_difference"], 2)}
                for row in result.plan.alternatives.to_dict("records")
            ],
            "stopped": [
                {
                    **row,
                    "newly_placed": count_value(row["newly_placed"], threshold),
                    "harm_averted": round(row["harm_averted"], 2),
                }
                for row in result.plan.stopped.to_dict("records")
            ],
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


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


def _plan_tables(result: RankResult) -> list[RenderableType]:
    plan = result.plan
    summary = plan_summary(result)
    how = plan.proof()
    method = "exact MIP" if plan.method == "optimal" else "greedy + interchange"
    table = Table(
        title=f"The plan: {len(plan.chosen)} new base(s) chosen together ({method}, {how},"
        f" {plan.seconds:.1f} s)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("School (URN)", ratio=3)
    table.add_column("New base", ratio=2)
    table.add_column("Harm\naverted", justify="right")
    table.add_column("Served", justify="right")
    table.add_column("Minutes\nbefore →\nafter", justify="right")
    table.add_column("Areas served (children)", ratio=3)
    table.add_column("Greedy\nrank", justify="right")
    if plan.runs:
        table.add_column("Robust", justify="right")
    for row in plan_rows(result):
        before = "none" if row["minutes_before"] is None else f"{row['minutes_before']:.1f}"
        after = "" if row["minutes_after"] is None else f"{row['minutes_after']:.1f}"
        cells = [
            str(row["choice"]),
            f"{row['name']} ({row['urn']})",
            f"{row['phase']}: {row['need_group_label']}, {row['places']} places",
            f"{row['harm_averted']:.2f}",
            str(row["children_served"]),
            f"{before} → {after}",
            row["areas_served"],
            "-" if row["greedy_rank"] is None else str(row["greedy_rank"]),
        ]
        if plan.runs:
            cells.append(f"{row['robustness']:.0%}")
        table.add_row(*cells)
    parts: list[RenderableType] = [table]
    notes = [
        "Harm averted: what the plan would lose without that base (harm points)."
        + (f" Robust: share of {plan.runs} runs with noisy demand and harm settings that"
           " keep the school in the chosen set." if plan.runs else "")
        + (f" {plan.unproven_runs} run(s) stopped at their time limit with the best set"
           " found." if plan.unproven_runs else "")
    ]  # fmt: skip
    notes.extend(plan.notes)
    if summary["greedy_total_harm"] is not None:
        difference = plan.greedy_objective - plan.objective
        notes.append(
            f"Total harm with the plan {plan.objective:.2f} against {plan.greedy_objective:.2f}"
            f" for the greedy order's first {len(plan.chosen)}:"
            + (f" {difference:.2f} harm points less." if difference > 1e-6 else " the same.")
        )
    tolerance = result.scenario.selection.tie_tolerance
    for row in plan_rows(result):
        if row["alternatives"]:
            notes.append(
                f"#{row['choice']} {row['name']}: equivalent alternatives within the"
                f" {tolerance:.0%} tie tolerance (harm points the plan would add):"
                f" {row['alternatives']}."
            )
    parts.append(Text("\n".join(notes)))
    if not plan.left_out.empty:
        left = Table(
            title="Strongest candidates left out", box=box.SIMPLE_HEAD, title_justify="left"
        )
        left.add_column("School (URN)", ratio=3)
        left.add_column("New base", ratio=2)
        left.add_column("Harm averted\n(alone)", justify="right")
        left.add_column("Why not", ratio=4)
        for item in plan.left_out.itertuples():
            left.add_row(
                f"{item.name} ({item.urn})",
                f"{item.phase}: {result.scenario.need_groups[str(item.need_group)].label}",
                f"{item.harm_averted_standalone:.2f}",
                str(item.reason),
            )
        parts.append(left)
    return parts


def _metrics_table(result: RankResult) -> Table:
    bases = len(result.plan.chosen)
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
    rule = StoppingRule.from_scenario(scenario).describe(
        scenario.base_size, scenario.suppression_threshold
    )
    table = Table(
        title=f"{scenario.name}: candidate host schools for new inclusion bases"
        f" ({scenario.base_size} places each)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption="Harm averted in harm points (1 point = one journey at the guidance limit);"
        " in greedy build order; rows marked * are in the plan. Counts under"
        f" {scenario.suppression_threshold} are suppressed. Stopping rule: a new base must"
        f" place {rule} (given the bases above it).",
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
    parts.extend(_plan_tables(result))
    parts.append(_metrics_table(result))
    return Group(*parts)
