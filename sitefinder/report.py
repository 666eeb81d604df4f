"""The presentation layer: a run as tables for people and for programs.

Each published table is built once from a :class:`RankResult`, from the column lists of
:mod:`sitefinder.columns`, with disclosure control applied once
(:func:`sitefinder.columns.protected`), and gathered in a
:class:`~sitefinder.published.PublishedRun` by :func:`sitefinder.published.publish` (which
builds them: this module imports it, never the other way). The terminal table (rich), CSV and
JSON here, the HTML report (:mod:`sitefinder.render.html`), the map and the GeoPackage all write
from that one object; the compare table from its own. Nothing here
measures time: timings go to :func:`run_notes` (stderr) and the GeoPackage's ``run_info``, so
the same run gives the same table, JSON and report.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sitefinder.columns import (
    ALTERNATIVES,
    COMPARE,
    COST_PLACEMENTS,
    COST_YEARS,
    COSTS,
    FALLBACK,
    FALLBACK_TOTALS,
    LEFT_OUT,
    METRICS,
    PATHWAY,
    PLAN,
    PROGRAMME,
    PROGRAMME_YEARS,
    RANKING,
    SPECIAL_SCHOOLS,
    STABILITY,
    STOPPED,
    SUFFICIENCY,
    Column,
    people_rows,
    records,
    signed,
    text_value,
)
from sitefinder.disclosure import Rule, Withheld, disclosure_text
from sitefinder.errors import CommandLineError

# The tables built once from a run are published's (report draws on them, never the other
# way); their names stay importable from here, where callers have long found them.
from sitefinder.published import (
    LAYERS,
    OUTPUT_COLUMNS,
    PLAN_COLUMNS,
    TABLES,
    PublishedRun,
    left_out_frame,  # noqa: F401
    metrics_frame,  # noqa: F401
    plan_frame,  # noqa: F401
    plan_notes,  # noqa: F401
    plan_rows,  # noqa: F401
    plan_summary,  # noqa: F401
    planned_urns,  # noqa: F401
    published,
    published_notes,  # noqa: F401
    published_warnings,  # noqa: F401
    ranking_frame,  # noqa: F401
    unplaced_sentences,  # noqa: F401
)
from sitefinder.stability.statement import strong_rows

if TYPE_CHECKING:
    from sitefinder.pipeline import RankResult
    from sitefinder.scenarios import Comparison

_EMPTY = {"minutes_before": "none", "greedy_rank": "-"}  # no place before; not ranked


# --- tables ------------------------------------------------------------------------------------


def summary_rows(run: PublishedRun | RankResult) -> list[tuple[str, str, str, str]]:
    """Network metrics before and after the plan: (label, before, after, change) as text."""
    run = published(run)
    return before_after_rows(network_frame(run), run.threshold)


def before_after_rows(table: pd.DataFrame, threshold: int) -> list[tuple[str, str, str, str]]:
    """(label, before, after, change) as text of a protected network table (rows ``before``
    and ``after``, :data:`METRICS` columns).

    A change is shown when both ends are shown (anyone could subtract them), else withheld.
    """
    rows = []
    for column in METRICS:
        before, after = table.at["before", column.key], table.at["after", column.key]
        if isinstance(before, Withheld) or isinstance(after, Withheld):
            change = str(Withheld(column.kind, threshold))
        elif math.isnan(float(before)) or math.isnan(float(after)):
            change = ""
        else:
            difference = float(after) - float(before)
            change = signed(text_value(difference, column), difference)
        rows.append((column.label, text_value(before, column), text_value(after, column), change))
    return rows


def network_frame(run: PublishedRun) -> pd.DataFrame:
    """The published network table indexed ``before``, ``after`` (:data:`METRICS` columns)."""
    return run["network"].set_index("state").rename_axis(None)


# --- for programs ------------------------------------------------------------------------------


def ranking_rows(run: PublishedRun | RankResult, *, top: int) -> list[dict[str, Any]]:
    """The first ``top`` ranked candidates as plain rows (harm 2 decimals, minutes 1).

    Withheld counts read ``<N`` and other withheld figures ``c``.
    """
    return records(published(run, top=top)["ranking"].head(top), RANKING)


def run_notes(result: RankResult) -> list[str]:
    """How the run went (cache use, timings): for stderr and ``run_info`` only."""
    timings = result.timings
    parts = [
        f"{name} {timings[name]:.2f} s"
        for name in ("load", "travel", "evaluate", "plan")
        if name in timings
    ]
    chosen = f"plan chosen in {result.plan.seconds:.2f} s"
    # How close to optimal the plan is, on stderr too: a CSV on stdout has no room for it.
    return [
        *result.travel.notes,
        f"{chosen}; timings: {', '.join(parts)}",
        f"plan: {result.plan.proof()}",
    ]


CSV_TABLES = ("ranking", *(n for n in (*LAYERS, *TABLES) if n not in ("ranking", "run_facts")))
"""What ``rank --format csv --table NAME`` may write: the ranking (the default), then every
layer and table of a published run."""


def check_csv_table(name: str) -> None:
    """Check that ``name`` is a table :func:`to_csv` can write.

    Raises
    ------
    CommandLineError
        If it is not one of :data:`CSV_TABLES`.
    """
    if name not in CSV_TABLES:
        raise CommandLineError(
            f"--table {name}: no such table; choose one of {', '.join(CSV_TABLES)}"
        )


def to_csv(run: PublishedRun | RankResult, *, top: int, table: str | None = None) -> str:
    """Ranked candidates as CSV text (header + one row per candidate), or another published
    table (``table``: one of :data:`CSV_TABLES`; a layer without its geometry), as every other
    output publishes it (withheld cells as ``c``)."""
    buffer = io.StringIO()
    if table is None or table == "ranking":
        frame = pd.DataFrame(ranking_rows(run, top=top), columns=OUTPUT_COLUMNS)
    else:
        check_csv_table(table)
        frame = published(run, top=top)[table]
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def network_summary(run: PublishedRun | RankResult) -> dict[str, dict[str, Any]]:
    """The network before and after the plan for programs: ``{"before": {...}, "after": {...}}``."""
    table = network_frame(published(run))
    rows = records(table, METRICS)
    return dict(zip(table.index, rows, strict=True))


def json_document(
    run: PublishedRun | RankResult, *, top: int, keys: Collection[str] | None = None
) -> dict[str, Any]:
    """:func:`to_json`'s object before it is written, with only ``keys`` made (default all):
    a national run reads five of its keys from each authority, and the others' tables (the
    fallback's, the programme's, the costs) would be made, protected and dropped."""
    run = published(run, top=top)
    makers: dict[str, Callable[[], Any]] = {
        "scenario": lambda: run.facts.scenario_name,
        "ranking": lambda: ranking_rows(run, top=top),
        "plan": lambda: {
            **run.facts.plan_summary,
            "chosen": records(run["plan_chosen"], PLAN),
            "left_out": records(run["plan_left_out"], LEFT_OUT),
            "alternatives": records(run["plan_alternatives"], ALTERNATIVES),
            "stopped": records(run["plan_stopped"], STOPPED),
        },
        "network": lambda: network_summary(run),
        "fallback": lambda: records(run["fallback"], FALLBACK),
        "fallback_totals": lambda: records(run["fallback_totals"], FALLBACK_TOTALS),
        "special_schools": lambda: records(run["special_schools"], SPECIAL_SCHOOLS),
        "sufficiency": lambda: records(run["sufficiency"], SUFFICIENCY),
        "programme": lambda: records(run["programme"], PROGRAMME),
        "programme_years": lambda: records(run["programme_years"], PROGRAMME_YEARS),
        "programme_notes": lambda: list(run.facts.programme_notes),
        "pathway": lambda: records(run["pathway"], PATHWAY),
        "costs": lambda: costs_document(run),
        "stability": lambda: _plain_records(run["stability"]),
        "sensitivity": lambda: _plain_records(run["sensitivity"]),
        "suppression_threshold": lambda: run.threshold,
        "disclosure": lambda: run.facts.disclosure_note,
        "warnings": lambda: run.warnings,
        "notes": lambda: run.notes,
    }
    return {key: make() for key, make in makers.items() if keys is None or key in keys}


def to_json(run: PublishedRun | RankResult, *, top: int) -> str:
    """The ranking, the plan, the network and the run's warnings, as one JSON object."""
    return json.dumps(json_document(run, top=top), indent=2, ensure_ascii=False) + "\n"


def _plain_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """A table of names, shares and words as JSON rows (no child counts in it)."""
    return [
        {
            key: (bool(v) if key in ("in_plan", "changed") else float(v))
            if key in ("in_plan", "changed", "share_of_runs")
            else ("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
            for key, v in row.items()
        }
        for row in table.to_dict("records")
    ]


def costs_document(run: PublishedRun | RankResult) -> dict[str, Any]:
    """The business case for programs: ``{"bases": [...], "total": {...}, "years": [...],
    "placements": [...], "sources": {...}, "notes": [...]}`` (``years``: each programme year's
    case, empty without a programme); money in whole pounds, payback in years (None: never)."""
    run = published(run)
    table = run["costs"]
    bases = table[table["row"] == "base"].drop(columns=["row", "label", "year"], errors="ignore")
    total = records(table[table["row"] == "total"], COSTS)
    year_keys = [
        "year", "places", "capital", "capital_to_date", "revenue_per_year",
        "transport_change_per_year", "placement_change_per_year", "net_saving_per_year",
        "payback_years",
    ]  # fmt: skip
    years = [
        {k: v for k, v in row.items() if k in year_keys}
        for row in records(table[table["row"] == "year"], COSTS)
    ]
    totals = {
        k: v
        for k, v in (total[0] if total else {}).items()
        if k
        not in ("row", "label", "year", "choice", "urn", "name", "phase", "need_group", "share")
    }
    return {
        "bases": records(bases, COSTS),
        "total": totals,
        "years": years,
        "placements": list(run.facts.cost_placements),
        "sources": {key: {"value": value, "source": source}
                    for key, value, source in run.facts.cost_sources},
        "notes": list(run.facts.cost_notes),
    }  # fmt: skip


def costs_people(run: PublishedRun) -> tuple[list[Column], list[list[str]]]:
    """The ``costs`` table's people columns and text rows for the plan's bases and total
    (payback ``never`` when none)."""
    never = {"payback_years": "never", "discounted_payback_years": "never"}
    table = run["costs"]
    return people_rows(table[table["row"] != "year"], COSTS, empty=never)


def cost_years_people(run: PublishedRun) -> tuple[list[Column], list[list[str]]]:
    """The business case of each programme year as people columns and text rows (none
    without a programme)."""
    table = run["costs"]
    years = table[table["row"] == "year"]
    return people_rows(years, COST_YEARS, empty={"payback_years": "never"})


def placements_people(run: PublishedRun) -> tuple[list[Column], list[list[str]]]:
    """The placements of children without a base place and their cost a year, as text."""
    from sitefinder.costs.words import PLACE_WORDS

    frame = pd.DataFrame(run.facts.cost_placements, columns=[c.key for c in COST_PLACEMENTS])
    frame["kind"] = [PLACE_WORDS.get(str(k), str(k)) for k in frame["kind"]]
    return people_rows(frame, COST_PLACEMENTS)


def costs_table(run: PublishedRun | RankResult) -> RenderableType:
    """The business case as rich renderables: per base and in total, and its working."""
    run = published(run)
    columns, rows = costs_people(run)
    parts: list[RenderableType] = [
        _rich(
            "The business case (£; a change below 0 is a saving)",
            columns,
            rows,
            caption="Capital once; revenue, transport and placements a year. Sources of the"
            " figures: the report's business case section, or --format json (costs.sources).",
        )
    ]
    columns, rows = cost_years_people(run)
    if rows:
        parts.append(
            _rich(
                "The business case of each programme year (£)",
                columns,
                rows,
                caption="Each year's network with the programme's bases open by then against"
                " the same year's with today's bases only; payback = capital to date / that"
                " year's net saving.",
            )
        )
    parts.append(Text("\n".join(run.facts.cost_notes)))
    return Group(*parts)


# --- for people --------------------------------------------------------------------------------


def method_text(run: PublishedRun | RankResult) -> tuple[str, str]:
    """How the plan was chosen, in words: (method, how proven)."""
    facts = published(run).facts
    method = "exact MIP" if facts.method == "optimal" else "greedy + interchange"
    return method, facts.proof


def disclosure_note(run: PublishedRun | RankResult) -> str:
    """The sentence explaining withheld figures."""
    if isinstance(run, PublishedRun):
        return run.facts.disclosure_note
    scenario = run.scenario
    return disclosure_text(scenario.suppression_threshold, estimates=scenario.estimates)


def _rich(
    title: str, columns: list[Column], rows: list[list[str]], *, caption: str | None = None
) -> Table:
    table = Table(
        title=Text(title),  # as Text: a scenario name like "Trafford [draft]" is not markup
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption=None if caption is None else Text(caption),
        caption_justify="left",
    )
    shown = [i for i, c in enumerate(columns) if c.terminal]
    for index in shown:
        column = columns[index]
        numeric = column.kind in ("count", "harm", "minutes", "share", "number", "money", "flag")
        table.add_column(
            column.label,
            justify="right" if numeric else "left",
            ratio=3 if column.kind == "text" else None,
            min_width=14 if column.kind == "text" else None,
            max_width=None if column.kind == "text" else 12 if column.kind == "money" else 9,
            overflow="fold",
        )
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    return table


def _without_robustness(run: PublishedRun, columns: list[Column], rows: list[list[str]]) -> None:
    if run.facts.runs or not any(c.key == "robustness" for c in columns):
        return
    index = next(i for i, c in enumerate(columns) if c.key == "robustness")
    del columns[index]
    for row in rows:
        del row[index]


def people_table(
    run: PublishedRun, frame: pd.DataFrame, spec: tuple[Column, ...]
) -> tuple[list[Column], list[list[str]]]:
    """A protected table's people columns and text rows (robustness only when it was run)."""
    columns, rows = people_rows(frame, spec, empty=_EMPTY)
    _without_robustness(run, columns, rows)
    return columns, rows


def ranking_table(run: PublishedRun | RankResult, *, top: int) -> RenderableType:
    """The ranked candidates, the plan and the network summary as rich renderables."""
    run = published(run, top=top)
    facts = run.facts
    columns, rows = people_table(run, run["ranking"].head(top), RANKING)
    parts: list[RenderableType] = [
        _rich(
            f"{facts.scenario_name}: candidate host schools for new inclusion bases"
            f" ({facts.base_size} places each)",
            columns,
            rows,
            caption="Harm averted in harm points (the harm curve scores 1 point at the guidance"
            f" limit; each journey minute adds {facts.per_minute:g}), in two parts:"
            " placing children who had no base place, and shorter journeys (fallback journeys"
            " included); in greedy build order; In plan: the school hosts a base in the plan."
            " Stopping rule: a new base must place "
            + facts.stopping_rule
            + " (given the bases above it). "
            + facts.disclosure_note,
        )
    ]
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
    method, how = method_text(run)
    chosen = run["plan_chosen"]
    columns, rows = people_table(run, chosen, PLAN)
    parts.append(
        _rich(
            f"The plan: {len(chosen)} new base(s) chosen together ({method}, {how})",
            columns,
            rows,
        )
    )
    parts.append(Text("\n".join(facts.plan_notes)))
    if facts.runs and not run["stability"].empty:
        columns, rows = people_table(run, strong_rows(run["stability"]), STABILITY)
        parts.append(
            _rich(
                f"How sure: each base's share of {facts.runs} robustness runs, and what flips it",
                columns,
                rows,
            )
        )
    if not run["plan_left_out"].empty:
        columns, rows = people_table(run, run["plan_left_out"], LEFT_OUT)
        parts.append(_rich("Strongest candidates left out", columns, rows))
    parts.append(metrics_table(run))
    gap = sufficiency_table(run)
    if gap is not None:
        parts.append(gap)
    programme = published(run)["programme"]
    if not programme.empty:
        columns, rows = people_rows(programme, PROGRAMME)
        parts.append(_rich("The programme: new bases by the year they open", columns, rows))
    years = published(run)["programme_years"]
    if not years.empty:
        columns, rows = people_rows(years, PROGRAMME_YEARS)
        parts.append(
            _rich(
                "The programme year by year",
                columns,
                rows,
                caption="Bound on the harm: no programme with as many bases open that year"
                " can have less (each year's own optimum); gap to the bound: what the"
                " year-by-year choice and the rules may give away at most.",
            )
        )
    if facts.programme_notes:
        parts.append(Text("\n".join(facts.programme_notes)))
    parts.append(costs_table(run))
    warnings = run.warnings
    if warnings:
        parts.append(Text("Warnings:\n" + "\n".join(f"- {w}" for w in warnings)))
    return Group(*parts)


def sufficiency_rows(run: PublishedRun | RankResult) -> list[list[str]]:
    """The sufficiency statement by year and phase (need groups added up), as text rows:
    year, phase, children, places today, places added, gap."""
    table = published(run)["sufficiency"]
    if table.empty:
        return []
    numbers = table.assign(
        children=pd.to_numeric(table["children"], errors="coerce"),
    )
    rows = []
    for (year, phase), part in numbers.groupby(["year", "phase"], sort=True):
        children = part["children"]
        shown = f"{children.sum():,.1f}" if children.notna().all() else "c"
        rows.append(
            [
                str(int(year)),
                str(phase),
                shown,
                f"{part['places_today'].sum():,.1f}",
                f"{part['places_added'].sum():,.1f}",
                f"{pd.to_numeric(part['gap']).sum():+,.1f}" if shown != "c" else "c",
            ]
        )
    return rows


def sufficiency_table(run: PublishedRun | RankResult) -> Table | None:
    """The sufficiency statement by year and phase as a rich table (None when there is none)."""
    rows = sufficiency_rows(run)
    if not rows:
        return None
    table = Table(
        title=Text("Sufficiency: children needing a base place against places, by year"),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption="Gap = children - places today - places added (negative: a surplus); by need"
        " group in the JSON, CSV and GeoPackage table sufficiency.",
        caption_justify="left",
    )
    for heading, right in (
        ("Year", False), ("Phase", False), ("Children", True), ("Places today", True),
        ("Places added", True), ("Gap", True),
    ):  # fmt: skip
        table.add_column(heading, justify="right" if right else "left")
    for row in rows:
        table.add_row(*row)
    return table


def metrics_table(run: PublishedRun | RankResult) -> Table:
    """The network before and after the plan as a rich table."""
    run = published(run)
    bases = len(run["plan_chosen"])
    title = f"Network before and after {bases} new base{'s' if bases != 1 else ''}"
    return before_after_table(title, summary_rows(run))


def before_after_table(title: str, rows: Iterable[Sequence[str]]) -> Table:
    """A rich table of (metric, before, after, change) rows, as text."""
    table = Table(title=Text(title), box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("Metric")
    for heading in ("Before", "After", "Change"):
        table.add_column(heading, justify="right")
    for row in rows:
        table.add_row(*row)
    return table


# --- compare -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shown:
    columns: list[Column]
    rows: list[list[str]]


def compare_rows(comparison: Comparison) -> _Shown:
    """The comparison's people columns (one per metric) and one text row per scenario."""
    columns, rows = people_rows(comparison.table, COMPARE, empty={"payback_years": "never"})
    return _Shown(columns, rows)


def compare_table(comparison: Comparison) -> Table:
    """Scenarios side by side as a rich table: one row per metric, one column per scenario."""
    shown = compare_rows(comparison)
    table = Table(title="Scenarios compared", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("")
    names = shown.columns.index(next(c for c in shown.columns if c.key == "scenario"))
    for row in shown.rows:
        table.add_column(row[names], overflow="fold")
    for index, column in enumerate(shown.columns):
        if index == names:
            continue
        table.add_row(column.label, *(row[index] for row in shown.rows))
    return table


def compare_csv(comparison: Comparison) -> str:
    """The comparison as CSV text (header + one row per scenario)."""
    buffer = io.StringIO()
    frame = pd.DataFrame(records(comparison.table, COMPARE), columns=[c.key for c in COMPARE])
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


__all__ = [
    "OUTPUT_COLUMNS",
    "PLAN_COLUMNS",
    "Rule",
    "compare_csv",
    "compare_table",
    "json_document",
    "ranking_rows",
    "ranking_table",
    "to_csv",
    "to_json",
]
