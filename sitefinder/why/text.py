"""One school's explanation for people: the published document as text and rich tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sitefinder.columns import signed
from sitefinder.disclosure import disclosure_text
from sitefinder.why.cells import ages_text, number_of, places_text, text_of


def _table(
    title: str,
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[bool],
    caption: str | None = None,
    widths: Sequence[int | None] | None = None,
) -> Table:
    """A rich table whose cells are plain text (a school's name in brackets is not markup)."""
    table = Table(
        title=Text(title),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption=Text(caption) if caption else None,
        caption_justify="left",
    )
    for index, (heading, right) in enumerate(zip(headings, numeric, strict=True)):
        width = widths[index] if widths is not None else None
        table.add_column(
            Text(heading), justify="right" if right else "left", overflow="fold", min_width=width
        )
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _school_lines(document: dict[str, Any]) -> list[str]:
    school = document["school"]
    low, high = school["statutory_low_age"], school["statutory_high_age"]
    ages = (
        f"statutory ages {low:g}-{high:g}; a base here serves ages"
        f" {ages_text(school['first_age'], school['last_age'])}"
        if low is not None and high is not None
        else "statutory ages not recorded"
    )
    capacity, pupils, spare = school["capacity"], school["pupils"], school["spare_places"]
    room = (
        f"capacity {capacity:,.0f}, pupils {pupils:,.0f}: "
        + (f"{-spare:,.0f} pupils over capacity" if spare < 0 else places_text(spare))
        if spare is not None
        else "capacity or pupils not recorded"
    )
    ehcp, share = school["ehcp_pupils"], school["ehcp_share"]
    send = (
        "not recorded"
        if ehcp is None
        else f"{ehcp if isinstance(ehcp, str) else f'{ehcp:,.0f}'}"
        f" ({share if isinstance(share, str) else f'{share:.1%}'} of pupils)"
    )
    return [
        f"Phase: {school['phase']} ({school['establishment_group']} school); {ages}.",
        f"Gender: {school['gender'] or 'not recorded'}; admissions policy:"
        f" {school['admissions_policy'] or 'not recorded'}.",
        f"Room: {room}.",
        f"Pupils with an EHC plan: {send}.",
        f"Hosts a base today: {school['existing_base'] or 'no'}.",
        f"A candidate host under the rules: {'yes' if school['candidate'] else 'no'}.",
    ]


def _figure_cells(figures: dict[str, Any]) -> list[str]:
    """Harm averted, its two parts (``10.00 +0.50``), children served, newly placed."""
    journeys = figures["harm_averted_journeys"]
    number = number_of(journeys)
    journey_text = text_of(journeys, "harm_averted_journeys")
    return [
        text_of(figures["harm_averted"], "harm_averted"),
        f"{text_of(figures['harm_averted_placing'], 'harm_averted_placing')}"
        f" {signed(journey_text, number) if number is not None else journey_text}",
        text_of(figures["children_served"], "children_served"),
        text_of(figures["newly_placed"], "newly_placed"),
    ]


def why_text(document: dict[str, Any]) -> RenderableType:
    """The document for people: the same facts and sentences, as text and tables."""
    parts: list[RenderableType] = [
        Text(document["summary"], style="bold"),
        Text(f"Scenario: {document['scenario']}"),
        Text("\nThe school\n" + "\n".join(f"  {line}" for line in _school_lines(document))),
    ]
    parts.append(
        _table(
            "\nSuitability rules",
            ["Rule", "Result", "Data", "Scenario setting"],
            [[r["label"], r["result"], r["data"], r["setting"]] for r in document["rules"]],
            numeric=[False] * 4,
        )
    )
    if document["options"]:
        alone, with_plan = [], []
        for option in document["options"]:
            status = (
                f" (in the plan, #{option['choice']})"
                if option["choice"] is not None
                else ""
                if option["candidate"]
                else " (not offered)"
            )
            name = f"{option['phase']}: {option['need_group_label']}{status}"
            rank = "" if option["greedy_rank"] is None else str(option["greedy_rank"])
            alone.append([name, rank, *_figure_cells(option["alone"])])
            with_plan.append(
                [
                    name,
                    *_figure_cells(option["with_plan"]),
                    "yes" if option["with_plan"]["passes_rule"] else "no",
                ]
            )
        figures = ["Harm averted", "Placing, journeys", "Children served", "Newly placed"]
        parts.append(
            _table(
                "\nIts options (phase x need group), each added to today's bases on its own",
                ["New base", "Greedy rank", *figures],
                alone,
                numeric=[False, *([True] * 5)],
            )
        )
        parts.append(
            _table(
                "The same options with the plan's other new bases open (those at other schools)",
                ["New base", *figures, "Passes the stopping rule"],
                with_plan,
                numeric=[False, *([True] * 5)],
                caption="Harm averted in harm points, in two parts: placing children who had no"
                " base place, and journeys (fallback journeys included). An option the rules do"
                " not offer shows what a base there would do if they allowed it. The stopping"
                " rule is judged with the plan's other bases open.",
            )
        )
    else:
        parts.append(Text("\nIt can take no new base: it is not a mainstream school of a phase"
                          " being planned for."))  # fmt: skip
    if document["planned"] is not None:
        parts.append(_bullets("\nIn the plan", document["in_the_plan"]))
        if document["areas_served"]:
            parts.append(
                _table(
                    "\nAreas its base serves",
                    ["Area", "Children", "Mean journey (minutes)"],
                    [
                        [
                            f"{a['area_name']} ({a['area_code']})",
                            _text_count(a["children"]),
                            text_of(a["minutes"], "minutes_there"),
                        ]
                        for a in document["areas_served"]
                    ],
                    numeric=[False, True, True],
                )
            )
    else:
        reference = document["reference_option"]
        if document["plan_reason"]:
            parts.append(Text(f"\nThe plan's reason it was left out: {document['plan_reason']}."))
        if reference is not None and document["served_instead"]:
            option = next(
                o
                for o in document["options"]
                if (o["phase"], o["need_group"]) == (reference["phase"], reference["need_group"])
            )
            parts.append(
                _table(
                    f"\nWhere the children its {reference['phase']}:"
                    f" {option['need_group_label']} base would serve alone"
                    f" ({text_of(option['alone']['children_served'], 'children_served')}) are in"
                    " the plan",
                    ["In the plan", "Children", "Mean journey there", "To this school"],
                    [
                        [
                            row["base"],
                            _text_count(row["children"]),
                            text_of(row["minutes_there"], "minutes_there"),
                            text_of(row["minutes_here"], "minutes_here"),
                        ]
                        for row in document["served_instead"]
                    ],
                    numeric=[False, True, True, True],
                    caption="Children of each area split between its bases as the plan"
                    " assigns them; journeys in minutes (to no base: the fallback journey).",
                )
            )
        if document["swaps"]:
            parts.append(
                _table(
                    "\nIn each chosen base's place",
                    [
                        "#",
                        "Chosen base",
                        "Plan's harm would change by",
                        "Children it would serve",
                        "Change in children without a place",
                        "Equivalent alternative",
                    ],
                    [
                        [
                            str(row["choice"]),
                            f"{row['name']} ({row['urn']})"
                            + ("" if row["allowed"] else " (may not give way)"),
                            _signed_harm(row["harm_difference"]),
                            _text_count(row["children_served"]),
                            _text_count(row["unmet_difference"]),
                            "yes" if row["tie"] else "",
                        ]
                        for row in document["swaps"]
                    ],
                    numeric=[True, False, True, True, True, False],
                )
            )
        if document["to_enter_the_plan"]:
            parts.append(
                _bullets(
                    "\nWhat would have to change for it to enter the plan",
                    document["to_enter_the_plan"],
                )
            )
    note = document.get("disclosure") or disclosure_text(document["suppression_threshold"])
    parts.append(Text("\n" + note))
    return Group(*parts)


def _bullets(title: str, lines: Sequence[str]) -> RenderableType:
    """A heading and its sentences, each wrapped under a hanging dash."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3, justify="right")
    grid.add_column(ratio=1)
    for line in lines:
        grid.add_row(Text("-"), Text(line))
    return Group(Text(title), grid)


def _text_count(value: object) -> str:
    return text_of(value, "children_served")


def _signed_harm(value: object) -> str:
    number = number_of(value)
    text = text_of(value, "harm_difference")
    return text if number is None else signed(text, number)
