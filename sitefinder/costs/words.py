"""The business case as the outputs publish it: the ``costs`` table and its working in words.

Money is shown as money (whole pounds, thousands separators) and never withheld: it is not a
count of children. Counts of children in the sentences follow the run's disclosure rule
(``fewer than 5`` under the threshold from child-level records).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from sitefinder.columns import COST_PLACEMENTS, money, protected, records
from sitefinder.config import DEFAULT_ORIGIN
from sitefinder.costs.case import BusinessCase
from sitefinder.costs.sources import SOURCES

if TYPE_CHECKING:
    from sitefinder.config import Scenario
    from sitefinder.disclosure import Rule

PLACE_WORDS = {
    "special": "maintained or academy special school",
    "independent": "independent special school",
    "non_maintained": "non-maintained special school",
    "base_cross_border": "base across the border",
    "out_of_authority": "out of authority",
    "flat": "no place (flat fallback)",
}
"""Each kind of place in words."""

_MONEY_KEYS = {
    "capital_per_place": "a place",
    "capital_per_base": "a base",
    "revenue_per_place": "a place a year",
    "transport_per_child": "a child a year",
    "transport_per_minute": "a child a year per one-way minute",
    "special_place": "a child a year",
    "independent_place": "a child a year",
    "non_maintained_place": "a child a year",
    "out_of_authority_place": "a child a year",
    "base_cross_border_place": "a child a year",
}


def _label(row: pd.Series) -> str:
    return f"#{int(row['choice'])} {row['name']} ({row['urn']})"


def cost_table(case: BusinessCase) -> pd.DataFrame:
    """The ``costs`` table: one row per new base (``row = "base"``), then the plan's total
    (``row = "total"``), then with a programme one row per year of it (``row = "year"``:
    that year's capital, the capital to date, and that year's revenue, changes and saving
    with the programme's bases open by then; payback = capital to date / that year's net
    saving), with payback rounded to a tenth of a year."""
    bases = case.bases.copy()
    bases.insert(0, "row", "base")
    bases.insert(1, "label", [_label(row) for _, row in bases.iterrows()])
    bases["urn"] = bases["urn"].astype(str)
    total = {key: value for key, value in case.total.items() if key in bases.columns}
    total_row = {
        "row": "total",
        "label": "Total",
        "urn": "",
        "name": "Total",
        "phase": "",
        "need_group": "",
        "places": float(bases["places"].sum()) if len(bases) else 0.0,
        "share": 1.0 if len(bases) else math.nan,
        **{k: (math.nan if v is None else v) for k, v in total.items()},
    }
    years = case.years
    year_rows = pd.DataFrame(
        {
            "row": "year",
            "label": [
                f"{int(r.year)}: {int(r.bases_open)} programme base(s) open"
                for r in years.itertuples()
            ],
            "year": years.get("year", pd.Series(dtype=float)).astype(float),
            "urn": "",
            "name": "",
            "phase": "",
            "need_group": "",
            **{
                key: years[source].astype(float)
                for key, source in (
                    ("places", "places_open"),
                    ("capital", "capital"),
                    ("capital_to_date", "capital_to_date"),
                    ("revenue_per_year", "revenue_per_year"),
                    ("transport_change_per_year", "transport_change_per_year"),
                    ("placement_change_per_year", "placement_change_per_year"),
                    ("net_saving_per_year", "net_saving_per_year"),
                    ("payback_years", "payback_years"),
                )
                if source in years.columns
            },
        }
    )
    parts = [bases, pd.DataFrame([total_row]), *([year_rows] if len(year_rows) else [])]
    table = pd.concat(parts, ignore_index=True)
    table = table.drop(columns=["children_served", "newly_placed", "harm_averted"])
    for key in ("payback_years", "discounted_payback_years"):
        table[key] = table[key].astype(float).round(1)
    for key in ("choice", "places"):
        table[key] = table[key].astype(float)
    return table


def placement_rows(case: BusinessCase, rule: Rule) -> list[dict[str, Any]]:
    """Children without a base place by kind of place, and the cost a year (JSON rows)."""
    table = case.placements.copy()
    shown = table[(table["today"] > 1e-9) | (table["plan"] > 1e-9)]
    return records(protected(shown, COST_PLACEMENTS, rule), COST_PLACEMENTS)


def _count(value: float, threshold: int) -> str:
    """Children for the working: whole, else to 2 decimals (modelled estimates), so that the
    sums can be redone by hand; withheld under ``threshold``."""
    if 0 < value < threshold:
        return f"fewer than {threshold}"
    return f"{value:,.0f}" if abs(value - round(value)) < 0.005 else f"{value:,.2f}"


def _years(value: float | None) -> str:
    return "never" if value is None or math.isnan(value) else f"{value:.1f} years"


def _what_the_saving_rests_on(case: BusinessCase, saving: float, capital: float) -> list[str]:
    """A sentence where placements moved decide the case: the saving without them.

    The placements a plan moves children out of are the fallback's modelled destinations
    priced by ``[costs]``; a planner must see how much of the case is that assumption.
    """
    placed = case.placements
    if not len(placed):
        return []
    change = placed["change_per_year"].astype(float)
    moved = float(change.sum())
    if moved > -0.5 or saving <= 0 or -moved < saving / 2:
        return []
    kinds = [
        f"{PLACE_WORDS[str(row.kind)]} ({money(-float(row.change_per_year))} a year at"
        f" {money(float(row.cost_per_child))} a child, costs.{row.kind}_place)"
        for row in placed[change < -0.5].itertuples()
    ]
    without = saving + moved
    outcome = (
        f"the plan would still save {money(without)} a year (payback"
        f" {_years(capital / without if without > 0 else None)})"
        if without > 0
        else f"the plan would cost {money(-without)} a year net and never pay back"
    )
    return [
        f"What the saving rests on: the net saving of {money(saving)} a year counts"
        f" {money(-moved)} a year of children leaving placements: {'; '.join(kinds)}. These"
        " are where the model sends children without a base place (the [fallback] section),"
        " priced at the [costs] figures; if those children are in fact in mainstream classes"
        " at no extra cost, "
        + outcome
        + ". Check them against your authority's placements before relying on the payback."
    ]


def cost_notes(case: BusinessCase, scenario: Scenario, *, threshold: int) -> list[str]:
    """The plan's business case worked through in words, for a planner to check by hand.

    Parameters
    ----------
    case
        The business case.
    scenario
        Its scenario (the ``[costs]`` figures).
    threshold
        Counts of children below this are not given (0: every count is given).
    """
    costs, total = scenario.costs, case.total
    bases = case.bases
    places = float(bases["places"].sum()) if len(bases) else 0.0
    n = len(bases)
    notes = [
        f"Capital: {n} new base(s) x {money(costs.capital_per_base)} + {places:,.0f} places x"
        f" {money(costs.capital_per_place)} = {money(total['capital'] or 0.0)}."
        f" Revenue: {places:,.0f} places x {money(costs.revenue_per_place)} a year ="
        f" {money(total['revenue_per_year'] or 0.0)} a year (a place is funded whether or"
        " not it is filled)."
    ]
    transport = case.transport.set_index("network")
    parts = []
    for network, words in (("today", "Today"), ("plan", "With the plan")):
        row = transport.loc[network]
        parts.append(
            f"{words} {_count(float(row['children']), threshold)} children x"
            f" {money(costs.transport_per_child)} + {float(row['child_minutes']):,.1f} one-way"
            f" journey minutes x {money(costs.transport_per_minute)} ="
            f" {money(float(row['cost_per_year']))} a year"
        )
    notes.append(
        "Transport (journeys to bases and fallback journeys): "
        + "; ".join(parts)
        + f"; change {money(total['transport_change_per_year'] or 0.0, sign=True)} a year."
    )
    moved = []
    for row in case.placements.itertuples():
        today, plan = float(row.today), float(row.plan)
        if today > 1e-9 or plan > 1e-9:
            moved.append(
                f"{PLACE_WORDS[str(row.kind)]}: {_count(today, threshold)} children today,"
                f" {_count(plan, threshold)} with the plan, ({_count(plan, threshold)} -"
                f" {_count(today, threshold)}) x {money(float(row.cost_per_child))} ="
                f" {money(float(row.change_per_year), sign=True)}"
            )
    notes.append(
        "Placements of children without a base place, x what such a place costs a year: "
        + ("; ".join(moved) if moved else "none")
        + f"; change {money(total['placement_change_per_year'] or 0.0, sign=True)} a year."
    )
    saving = total["net_saving_per_year"] or 0.0
    notes.append(
        "Net saving a year = -(revenue + transport change + placement change) ="
        f" {money(saving)}. Payback = capital / net saving = {_years(total['payback_years'])};"
        f" discounted at {costs.discount_rate:.1%} a year,"
        f" {_years(total['discounted_payback_years'])}; net present value over"
        f" {costs.appraisal_years} years {money(total['net_present_value'] or 0.0)}."
    )
    notes.extend(_what_the_saving_rests_on(case, saving, total["capital"] or 0.0))
    per_child, per_point = total["cost_per_child_placed"], total["cost_per_harm_point"]
    net_cost = total["net_cost_per_year"] or 0.0
    notes.append(
        f"Net cost a year = the capital as an equal sum each year of the {costs.appraisal_years}"
        f" years ({money(total['annual_capital'] or 0.0)}) - the net saving ="
        f" {money(net_cost)}"
        + ("" if net_cost >= 0 else " (a saving)")
        + (
            f"; per child newly placed in a base {money(per_child)}"
            if per_child is not None
            else "; no child newly placed"
        )
        + (f"; per harm point averted {money(per_point)}" if per_point is not None else "")
        + "."
    )
    if len(case.years):
        last = case.years.iloc[-1]
        notes.append(
            "The programme year by year (the rows after the total): each year's network with"
            " the programme's bases open by then against the same year's with today's bases"
            f" only; by {int(last['year'])} its {int(last['bases_open'])} base(s) have cost"
            f" {money(float(last['capital_to_date']))} and save"
            f" {money(float(last['net_saving_per_year']))} that year (payback of the capital to"
            f" date {_years(float(last['payback_years']))})."
        )
    if n > 1:
        notes.append(
            "Per base, capital and revenue are the base's own; the plan's transport and"
            " placement change is shared between its bases by the children each newly places"
            " (an apportionment: the bases work together; the totals are exact)."
        )
    return notes


def cost_sources(scenario: Scenario) -> list[list[str]]:
    """Each ``costs`` figure as ``[key, value, source]``: the default's source and year, or
    the file (or override) that replaced it, with the default's source after it."""
    rows = []
    for key in type(scenario.costs).model_fields:
        value = getattr(scenario.costs, key)
        if key in _MONEY_KEYS:
            shown = f"{money(float(value))} {_MONEY_KEYS[key]}"
        elif key == "discount_rate":
            shown = f"{float(value):.1%} a year"
        else:
            shown = f"{value} years"
        origin = scenario.origin_of(f"costs.{key}")
        source = (
            SOURCES[key]
            if origin == DEFAULT_ORIGIN
            else f"the authority's own figure ({origin}); sitefinder's default: {SOURCES[key]}"
        )
        rows.append([f"costs.{key}", shown, source])
    return rows
