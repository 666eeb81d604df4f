"""The column specification of every published table, and how a cell is written.

One :class:`Column` per published figure says what it is (kind, unit, label, decimals); the
terminal table, CSV, JSON, HTML report, compare table and GeoPackage all read these lists, so a
new column is one line here. Disclosure control is applied once, by :func:`protected`
(:func:`sitefinder.disclosure.protect` with the kinds below), before any format writes a cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from sitefinder.disclosure import Kind, Rule, Withheld, protect


@dataclass(frozen=True, slots=True)
class Column:
    """One published column.

    Attributes
    ----------
    key
        Its name in CSV, JSON and the GeoPackage.
    label
        Its heading for people (terminal table and HTML report).
    kind
        What it holds (:data:`sitefinder.disclosure.Kind`); decides disclosure and format.
    unit
        Its unit in words ("children", "harm points", "minutes"), for documentation.
    digits
        Decimals written (harm 2, minutes 1, shares 3 in machine formats).
    about
        For a harm figure, mean or share, the count column of the children it describes
        (disclosure rules 2 and 3).
    people
        Shown in the terminal table and the HTML report.
    show
        For people, a template joining other cells (``"{name} ({urn})"``), else the cell alone;
        the optional ``{ages_note}`` (", ages 4-6" for a base serving part of its phase, added
        by the report's frames) reads as empty when the table has no such cell.
    terminal
        Also shown in the terminal table (which has less room than the HTML report).
    first
        A key column people see right after the row's name (``In plan``), wherever it sits
        in CSV and JSON.
    """

    key: str
    label: str
    kind: Kind
    unit: str = ""
    digits: int = 2
    about: str | None = None
    people: bool = True
    show: str | None = None
    terminal: bool = True
    first: bool = False


def _c(key: str, label: str, **more: object) -> Column:
    return Column(key, label, "count", unit="children", **more)  # type: ignore[arg-type]


def _h(key: str, label: str, **more: object) -> Column:
    return Column(key, label, "harm", unit="harm points", **more)  # type: ignore[arg-type]


def _m(key: str, label: str, **more: object) -> Column:
    return Column(key, label, "minutes", unit="minutes", digits=1, **more)  # type: ignore[arg-type]


def _money(key: str, label: str, **more: object) -> Column:
    return Column(key, label, "money", unit="£", digits=0, **more)  # type: ignore[arg-type]


# Columns several tables share, defined once.
_SCHOOL: tuple[Column, ...] = (
    Column("urn", "URN", "id", people=False),
    Column("name", "School (URN)", "text", show="{name} ({urn})"),
    Column("phase", "Phase", "text", people=False),
    Column("need_group", "Need group key", "id", people=False),
)
_AGES = Column("ages", "Ages served", "text", unit="years", people=False)
_TWO_PARTS: tuple[Column, ...] = (
    _h("harm_averted_placing", "Placing, journeys", about="newly_placed",
       show="{harm_averted_placing} {harm_averted_journeys_signed}"),
    _h("harm_averted_journeys", "Journey harm averted", about="children_served", people=False),
)  # fmt: skip
_MINUTES: tuple[Column, ...] = (
    _m("minutes_before", "Minutes before → after", show="{minutes_before} → {minutes_after}"),
    _m("minutes_after", "Minutes after", people=False),
)
_ROBUST = Column("robustness", "Robust", "share", unit="share of runs", digits=3)


RANKING: tuple[Column, ...] = (
    Column("rank", "Rank", "number", digits=0),
    *_SCHOOL,
    Column("need_group_label", "New base", "text", show="{phase}{ages_note}: {need_group_label}"),
    _AGES,
    _h("harm_averted", "Harm averted (in order)", about="children_served"),
    *_TWO_PARTS,
    _h("harm_averted_standalone", "Harm averted (alone)"),
    _c("children_served", "Children served"),
    _c("newly_placed", "Newly placed", terminal=False),
    _c("within_limit_gain", "Brought within limit"),
    *_MINUTES,
    Column("in_plan", "In plan", "flag", first=True),
    _ROBUST,
    Column("passes_rule", "Passes the stopping rule", "flag", terminal=False),
    Column("notes", "Notes", "text"),
)  # fmt: skip
"""The ranked candidates (greedy build order), one row per pick."""

PLAN: tuple[Column, ...] = (
    Column("choice", "#", "number", digits=0),
    *_SCHOOL,
    Column("need_group_label", "New base", "text",
           show="{phase}{ages_note}: {need_group_label}, {places} places"),
    _AGES,
    Column("places", "Places", "number", unit="places", digits=0, people=False),
    _h("harm_averted", "Harm averted", about="children_served"),
    *_TWO_PARTS,
    _c("children_served", "Children served"),
    Column("fill", "Fill", "share", unit="share of its places", digits=3, about="children_served"),
    Column("mix", "Children by need group", "text", terminal=False),
    _c("newly_placed", "Newly placed"),
    *_MINUTES,
    Column("areas_served", "Areas served (children)", "text"),
    Column("greedy_rank", "Greedy rank", "number", digits=0),
    _ROBUST,
    Column("alternatives", "Equivalent alternatives", "text", people=False),
    Column("caveats", "Caveats", "text"),
)  # fmt: skip
"""The plan's chosen bases, one row per new base; ``caveats`` is what its host comes with
(flags and rules its data cannot check, :func:`sitefinder.supply.caveats`)."""

ALTERNATIVES: tuple[Column, ...] = (
    Column("choice", "#", "number", digits=0),
    Column("urn", "URN", "id"),
    Column("name", "Chosen school", "text"),
    Column("alternative_urn", "Alternative URN", "id"),
    Column("alternative_name", "Alternative school", "text"),
    Column("phase", "Phase", "text"),
    Column("need_group", "Need group key", "id"),
    Column("places", "Places", "number", unit="places", digits=0),
    # A difference between two plans within the tie tolerance: no count of children in it.
    Column("harm_difference", "Harm added (harm points)", "number", unit="harm points"),
    Column("equivalent_by", "Equivalent within", "text"),
)
"""Equivalent alternatives of each chosen base: within the tie tolerance, or within what the
accuracy of the journeys could change."""

STOPPED: tuple[Column, ...] = (
    Column("bases", "Set size", "number", digits=0),
    Column("urn", "URN", "id"),
    Column("name", "School", "text"),
    Column("phase", "Phase", "text"),
    Column("need_group", "Need group key", "id"),
    Column("places", "Places", "number", unit="places", digits=0),
    _c("newly_placed", "Newly placed"),
    _h("harm_averted", "Harm averted", about="newly_placed"),
    _c("children_served", "Children it would serve"),
    Column("reason", "Kept out by", "text"),
)
"""Bases the stopping rule kept out of the plan (``reason``: ``rule``, the stopping rule;
``occupancy``, under ``selection.min_occupancy``; ``smaller``, cut to a smaller size)."""

LEFT_OUT: tuple[Column, ...] = (
    *_SCHOOL,
    Column("need_group_label", "New base", "text", show="{phase}{ages_note}: {need_group_label}"),
    _AGES,
    _h("harm_averted_standalone", "Harm averted (alone)"),
    Column("reason", "Why not chosen", "text"),
)
"""The strongest candidates left out of the plan, and why."""

METRICS: tuple[Column, ...] = (
    _h("total_harm", "Total harm (harm points)", about="children"),
    _h("journey_harm", "Journey harm (harm points)", about="children"),
    Column("journey_share", "Journey share of total harm", "share", unit="share", digits=3),
    _c("children", "Children needing a place"),
    _c("placed", "Children placed"),
    _c("within_limit", "Placed within the guidance limit"),
    _c("unmet", "Unmet need (children)"),
    _m("mean_minutes", "Mean journey (minutes)"),
    _m("p95_minutes", "95th percentile journey (minutes)"),
)
"""The network before and after the plan (one row each); the people table shows them as rows."""

HEADLINE: tuple[Column, ...] = (
    Column("scenario", "Scenario", "text"),
    _h("harm_before", "Total harm before (harm points)"),
    _h("harm_after", "Total harm after (harm points)", about="within_limit_after"),
    _c("within_limit_after", "Children within the guidance limit"),
    _c("unmet_after", "Unmet need (children)"),
    _m("mean_minutes_after", "Mean journey (minutes)"),
    _m("p95_minutes_after", "95th percentile journey (minutes)"),
    _money("capital", "Capital"),
    _money("net_saving_per_year", "Net saving a year"),
    Column("payback_years", "Payback (years)", "number", unit="years", digits=1),
    Column("sites", "Sites chosen", "text"),
    Column("selection_method", "Selection method", "text"),
    Column("gap", "Optimality gap", "share", digits=6),
)
"""One scenario's headline figures (compare and sweep)."""

COMPARE: tuple[Column, ...] = (
    Column("file", "File", "text", people=False),
    *HEADLINE,
    Column("sites_added", "Sites not in the first scenario", "text"),
    Column("sites_removed", "First scenario's sites left out", "text"),
)
"""Scenarios side by side: the headline and which sites differ from the first scenario's."""

AREAS: tuple[Column, ...] = (
    _c("children", "Children needing a place"),
    _m("mean_minutes_before", "Mean journey before"),
    _m("mean_minutes_after", "Mean journey after"),
    _h("harm_before", "Harm before", about="children"),
    _h("harm_after", "Harm after", about="children"),
    _h("harm_averted", "Harm averted", about="children"),
    _h("journey_harm_before", "Journey harm before", about="children"),
    _h("journey_harm_after", "Journey harm after", about="children"),
    _h("harm_averted_placing", "Harm averted placing", about="children"),
    _h("harm_averted_journeys", "Harm averted journeys", about="children"),
    _m("fallback_minutes", "Mean fallback journey"),
    _c("newly_placed", "Newly placed"),
    _c("unmet_before", "Without a place before"),
    _c("unmet_after", "Without a place after"),
    _c("within_limit_before", "Within the limit before"),
    _c("within_limit_after", "Within the limit after"),
    _c("unplaced_special", "Without a place: special school"),
    _c("unplaced_independent", "Without a place: independent special school"),
    _c("unplaced_non_maintained", "Without a place: non-maintained special school"),
    _c("unplaced_base_cross_border", "In a base across the border"),
    _c("unplaced_out_of_authority", "Without a place: out of authority"),
    _m("mean_minutes_all_after", "Mean journey after, every child"),
    Column("unplaced_share_after", "Share without a base place after", "share",
           unit="share of children", digits=3),
)  # fmt: skip
"""Figures of each area (the GeoPackage ``demand`` layer); its other columns pass unchanged.
``mean_minutes_all_after`` is the mean journey of every child after the plan, those without
a base place on their fallback journey, and ``unplaced_share_after`` the share of children
without a base place: the maps' measures, worked out from the published figures (withheld
where any figure they come from is, :func:`sitefinder.published.every_child`)."""

DEMAND_BY_PHASE: tuple[Column, ...] = (
    Column("area_code", "Area", "id", people=False),
    Column("phase", "Phase", "text", people=False),
    _c("children", "Children needing a place"),
    _c("unmet_after", "Without a place after"),
    _m("mean_minutes_after", "Mean journey after"),
    _m("fallback_minutes", "Mean fallback journey"),
    _m("mean_minutes_all_after", "Mean journey after, every child"),
    Column("unplaced_share_after", "Share without a base place after", "share",
           unit="share of children", digits=3),
)  # fmt: skip
"""Each area's figures for each phase planned (the ``demand_by_phase`` table), after the plan:
the map's panel for each phase. Rows by phase, then in the ``demand`` layer's order; the phases
of an area add up to its ``demand`` row (disclosure control treats that total as published).
``fallback_minutes`` is left out under the flat fallback."""

FALLBACK: tuple[Column, ...] = (
    Column("network", "Network", "text", people=False),
    Column("area_code", "Area", "id", people=False),
    Column("phase", "Phase", "text", people=False),
    Column("need_group", "Need group", "id", people=False),
    Column("kind", "Goes to", "text", people=False),
    Column("urn", "URN", "id", people=False),
    Column("name", "School", "text", people=False),
    _c("children", "Children"),
    _m("minutes", "Journey minutes"),
    Column("cross_border", "Across the border", "flag", people=False),
)
"""Where children without a base place go (the ``fallback`` table): one row per network
(``today``, ``plan``), area, phase, need group and destination."""

FALLBACK_TOTALS: tuple[Column, ...] = (
    Column("kind", "Goes to", "text"),
    _c("today", "Today"),
    _c("plan", "With the plan"),
    Column("schools", "Schools", "number", digits=0),
    _m("minutes_today", "Mean journey today"),
    _m("minutes_plan", "Mean journey with the plan"),
)
"""Children without a base place by where they go, today and with the plan."""

SUFFICIENCY: tuple[Column, ...] = (
    Column("year", "Year", "number", digits=0),
    Column("phase", "Phase", "text"),
    Column("need_group", "Need group", "id"),
    _c("children", "Children needing a place"),
    Column("places_today", "Places today", "number", digits=1),
    Column("places_source", "Places from", "text"),
    Column("places_added", "Places added", "number", digits=1),
    Column("gap", "Gap", "number", digits=1),
)
"""The sufficiency statement (the ``sufficiency`` table): a negative gap is a surplus."""

NATIONAL_GAP: tuple[Column, ...] = (
    Column("authority", "Authority", "text"),
    Column("authority_code", "GSS code", "id", people=False),
    Column("phase", "Phase", "text"),
    Column("need_group", "Need group", "id"),
    _c("children", "Children needing a base place"),
    Column("places", "Places today", "number", digits=1),
    Column("gap", "Gap", "number", digits=1),
)
"""A national run's gap (the ``national_gap`` table): each authority's children needing a base
place against its places in bases today, by phase and need group, in the data's year; a
negative gap is a surplus."""

NATIONAL_ALLOCATION: tuple[Column, ...] = (
    Column("authority", "Authority", "text"),
    Column("authority_code", "GSS code", "id", people=False),
    Column("bases", "New bases", "number", digits=0),
    Column("places", "New places", "number", digits=0),
    _h("harm_averted", "Harm averted"),
    _h("last_marginal", "Harm averted by the last base"),
    _c("children", "Children needing a base place"),
    Column("gap", "Gap today", "number", digits=1),
    _m("mean_minutes", "Mean journey to a base, its own plan"),
    Column("convex", "Diminishing returns", "flag", people=False),
    Column("curve_bases", "Bases on its curve", "number", digits=0, people=False),
    Column("curve_exhausted", "Curve exhausted", "flag", people=False),
    Column("curve_stopped", "Curve stopped by the rule", "flag", people=False),
    Column("easting", "Easting", "number", digits=0, people=False),
    Column("northing", "Northing", "number", digits=0, people=False),
)
"""A national allocation (the ``national_allocation`` table): new bases and places funded in
each authority, the harm they avert and the marginal harm averted by the last base funded
(harm points), beside the authority's gap today and the mean journey to a base with its own
plan (its greedy plan of ``bases``); whether its curve has diminishing returns, its length,
whether every base on it was funded, and whether its stopping rule ended it before
``national.max_bases`` bases; the mean of its areas' points (EPSG:27700)."""

PROGRAMME: tuple[Column, ...] = (
    Column("year", "Opens", "number", digits=0),
    Column("urn", "URN", "id"),
    Column("name", "School", "text"),
    Column("phase", "Phase", "text"),
    Column("need_groups", "Need group key", "id", people=False),
    Column("need_group_label", "Need group", "text"),
    Column("places", "Places", "number", digits=0),
    _c("children_expected", "Children expected"),
    Column("fill", "Fill", "share", unit="share of its places", digits=3,
           about="children_expected"),
    Column("mix", "Children by need group", "text", terminal=False),
    _c("newly_placed", "Newly placed"),
    _h("harm_averted", "Harm averted", about="children_expected"),
    _money("capital", "Capital"),
)  # fmt: skip
"""The programme (the ``programme`` table): the new bases opened in each year, with the
children expected in its first year, the share of its places they fill and (a base of
several needs) their mix by need group, and its capital (£)."""

PROGRAMME_YEARS: tuple[Column, ...] = (
    Column("year", "Year", "number", digits=0),
    Column("bases_opened", "Bases opening", "number", digits=0),
    Column("places_opened", "Places opening", "number", digits=0),
    _money("capital", "Capital that year"),
    _c("children", "Children needing a place"),
    _c("unplaced_without", "Without a place, today's bases only"),
    _c("unplaced_with", "Without a place, with the programme"),
    _h("harm_without", "Harm, today's bases only", about="children", terminal=False),
    _h("harm_with", "Harm with the programme", about="children"),
    _h("harm_bound", "Bound on the harm", about="children"),
    Column("gap_to_bound", "Gap to the bound", "share", unit="share", digits=4),
)
"""The programme's years (the ``programme_years`` table): what opens, the children left
without a base place without and with the programme, its harm, and a bound on the harm of any
programme with as many bases open that year (see :mod:`sitefinder.programme.schedule`)."""

COST_YEARS: tuple[Column, ...] = (
    Column("label", "Programme year", "text"),
    Column("places", "Places open", "number", unit="places", digits=0),
    _money("capital", "Capital that year"),
    _money("capital_to_date", "Capital to date"),
    _money("revenue_per_year", "Revenue that year"),
    _money("transport_change_per_year", "Transport change"),
    _money("placement_change_per_year", "Placement change"),
    _money("net_saving_per_year", "Net saving that year"),
    Column("payback_years", "Payback of capital to date (years)", "number", unit="years",
           digits=1),
)  # fmt: skip
"""The business case of each programme year, for people (the ``costs`` table's ``year``
rows)."""

PATHWAY: tuple[Column, ...] = (
    Column("urn", "URN", "id"),
    Column("name", "Primary base", "text"),
    Column("kind", "Base", "text"),
    Column("need_group", "Need group", "id"),
    _c("children", "Children"),
    _c("leaving_each_year", "Leaving at 11 each year"),
    Column("secondary_bases", "Secondary bases within the limit", "text"),
    Column("secondary_places", "Their places", "number", digits=0),
    Column("secondary_spare", "Spare with the plan", "number", digits=1),
    _c("shortfall", "Shortfall each year"),
)
"""Where each primary base's children can continue at 11 (the ``pathway`` table)."""

SPECIAL_SCHOOLS: tuple[Column, ...] = (
    Column("urn", "URN", "id"),
    Column("name", "School", "text"),
    Column("kind", "Kind", "text"),
    Column("used", "Used", "flag"),
    Column("phases", "Phases", "text"),
    Column("places", "Places", "number", digits=0),
    Column("places_source", "Places from", "text"),
    _c("children_today", "Children today"),
    _c("children_plan", "Children with the plan"),
    Column("cross_border", "Across the border", "flag"),
)
"""Each special school and how the fallback used it (the ``special_schools`` table)."""

STABILITY: tuple[Column, ...] = (
    Column("urn", "URN", "id", people=False),
    Column("name", "Base (URN)", "text", show="{name} ({urn})"),
    Column("phase", "Phase", "text"),
    Column("need_group", "Need group key", "id", people=False),
    Column("in_plan", "In the plan", "flag"),
    Column("share_of_runs", "Share of runs", "share", unit="of runs", digits=3),
    Column("flipped_by", "Flipped by (one assumption at a time)", "text"),
)
"""The stability statement (the ``stability`` table): each base in the plan or in contention,
the share of the robustness runs that chose it, and what flips it."""

SENSITIVITY: tuple[Column, ...] = (
    Column("assumption", "Key", "id", people=False),
    Column("label", "Assumption", "text"),
    Column("end", "End", "text", people=False),
    Column("value", "Set at", "text", show="{end}: {value}"),
    Column("changed", "Plan changes", "flag"),
    Column("enters", "Enters the plan", "text"),
    Column("leaves", "Leaves it", "text"),
    _h("harm_averted", "Harm the new bases avert"),
    _h("change", "Change"),
    _h("regret", "Cost of keeping the plan"),
)
"""The one-at-a-time sensitivity (the ``sensitivity`` table): each assumption alone at each end
of its range (or other choice), the plan there, the harm its new bases avert, the change from
the settings' plan, and the harm points the settings' plan would add there (its regret)."""

COSTS: tuple[Column, ...] = (
    Column("row", "Row", "text", people=False),
    Column("label", "New base", "text"),
    Column("year", "Year", "number", digits=0, people=False),
    Column("choice", "#", "number", digits=0, people=False),
    Column("urn", "URN", "id", people=False),
    Column("name", "School", "text", people=False),
    Column("phase", "Phase", "text", people=False),
    Column("need_group", "Need group key", "id", people=False),
    Column("places", "Places", "number", unit="places", digits=0),
    _money("capital", "Capital"),
    _money("capital_to_date", "Capital to date", people=False),
    _money("revenue_per_year", "Revenue a year"),
    _money("transport_change_per_year", "Transport change a year"),
    _money("placement_change_per_year", "Placement change a year"),
    _money("net_saving_per_year", "Net saving a year"),
    Column("payback_years", "Payback (years)", "number", unit="years", digits=1),
    Column("discounted_payback_years", "Discounted payback (years)", "number", unit="years",
           digits=1, terminal=False),
    _money("net_present_value", "Net present value", terminal=False),
    _money("annual_capital", "Capital as a sum a year", people=False),
    _money("net_cost_per_year", "Net cost a year", terminal=False),
    _money("cost_per_child_placed", "Net cost a year per child placed", terminal=False),
    _money("cost_per_harm_point", "Net cost a year per harm point averted", terminal=False),
    Column("share", "Share of the plan's changes", "share", unit="share", digits=3,
           people=False),
)  # fmt: skip
"""The business case (the ``costs`` table): one row per new base (``row = "base"``), then the
plan's total (``row = "total"``), then with a programme one row per programme year
(``row = "year"``, see :func:`sitefinder.costs.words.cost_table`). Money is never withheld: it
is not a count of children."""

COST_PLACEMENTS: tuple[Column, ...] = (
    Column("kind", "Place", "text"),
    _money("cost_per_child", "Cost a child a year"),
    _c("today", "Children today"),
    _c("plan", "Children with the plan"),
    _money("change_per_year", "Change a year"),
)
"""Children without a base place by the kind of place they take, and what it costs a year."""

ASSIGNMENTS: tuple[Column, ...] = (
    _c("children", "Children"),
    _m("minutes", "Journey minutes"),
)
"""Children from each area to each base after the plan (the ``assignments`` layer)."""

WHY_OPTION: tuple[Column, ...] = (
    Column("phase", "Phase", "text", people=False),
    Column("need_group", "Need group key", "id", people=False),
    Column("need_group_label", "New base", "text", show="{phase}: {need_group_label}"),
    Column("candidate", "Offered", "flag"),
    Column("choice", "Plan choice", "number", digits=0),
    Column("greedy_rank", "Greedy rank", "number", digits=0),
    Column("passes_rule", "Passes the stopping rule", "flag"),
)
"""``sitefinder why``: one row per option (phase x need group) of the school."""

WHY_FIGURES: tuple[Column, ...] = (
    _h("harm_averted", "Harm averted", about="children_served"),
    *_TWO_PARTS,
    _c("children_served", "Children served"),
    _c("newly_placed", "Newly placed"),
    _m("minutes_after", "Minutes to it"),
)  # fmt: skip
"""``sitefinder why``: an option's figures, alone or with the plan's other bases (each set
protected on its own: they describe different networks)."""

WHY_INSTEAD: tuple[Column, ...] = (
    Column("kind", "Kind", "text", people=False),
    Column("choice", "Choice", "number", digits=0, people=False),
    Column("urn", "URN", "id", people=False),
    Column("name", "School", "text", people=False),
    Column("base", "In the plan", "text"),
    _c("children", "Children"),
    _m("minutes_there", "Mean journey there"),
    _m("minutes_here", "Mean journey to this school"),
)
"""``sitefinder why``: where the children a left-out option would serve are in the plan."""

WHY_SWAPS: tuple[Column, ...] = (
    Column("choice", "#", "number", digits=0),
    Column("urn", "URN", "id", people=False),
    Column("name", "In the place of (URN)", "text", show="{name} ({urn})"),
    Column("phase", "Phase", "text", people=False),
    Column("need_group", "Need group key", "id", people=False),
    _h("harm_difference", "Plan's harm would change by", about="children_served"),
    _c("children_served", "Children it would serve"),
    _c("unmet_difference", "Change in children without a place"),
    Column("tie", "Equivalent alternative", "flag"),
    Column("allowed", "May give way", "flag", people=False),
)
"""``sitefinder why``: a left-out option in each chosen base's place."""

WHY_AREAS: tuple[Column, ...] = (
    Column("area_code", "Area code", "id", people=False),
    Column("area_name", "Area", "text"),
    _c("children", "Children"),
    _m("minutes", "Mean journey"),
)
"""``sitefinder why``: the areas a planned base serves."""

WHY_EXTRA: tuple[Column, ...] = (
    Column("rank", "Rank", "number", digits=0),
    Column("schools", "Schools ranked", "number", digits=0),
    Column("best_urn", "Best URN", "id"),
    Column("best_name", "Best school", "text"),
    Column("best_phase", "Phase", "text"),
    Column("best_need_group", "Need group key", "id"),
    _h("harm_averted", "Harm averted", about="children_served"),
    _c("newly_placed", "Newly placed"),
    _c("children_served", "Children served"),
)
"""``sitefinder why``: the best extra base on top of the plan, and the school's rank."""

PLANNED_BASES: tuple[Column, ...] = tuple(
    c
    for c in PLAN
    if c.key
    in {
        "children_served",
        "fill",
        "newly_placed",
        "harm_averted",
        "harm_averted_placing",
        "harm_averted_journeys",
        "minutes_before",
        "minutes_after",
    }
)
"""Figures of the ``planned_bases`` layer that describe children."""


def protected(
    table: pd.DataFrame,
    columns: Sequence[Column],
    rule: Rule,
    *,
    margins: Sequence[str | None] = (),
) -> pd.DataFrame:
    """``table`` with disclosure control applied to the ``columns`` it has (see
    :func:`sitefinder.disclosure.protect`)."""
    kinds = {c.key: c.kind for c in columns}
    about = {c.key: c.about for c in columns if c.about}
    return protect(table, kinds, rule, about=about, margins=margins)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def machine_value(value: object, column: Column) -> object:
    """A cell for CSV and JSON: a rounded number, text, ``<5`` / ``c`` when withheld, or None.

    A withheld figure may come as its marker or as its published text (``"c"``, ``"<5"``, as
    :func:`sitefinder.scenarios.headline` gives it): either is written as that text.
    """
    if isinstance(value, Withheld | str):
        return str(value)
    if _missing(value):
        return None
    if column.kind == "flag":
        return bool(value)
    if column.kind == "count":
        number = float(value)  # type: ignore[arg-type]
        whole = round(number)
        return int(whole) if abs(number - whole) < 0.05 else round(number, 1)
    if column.kind == "number":
        number = float(value)  # type: ignore[arg-type]
        return int(number) if number.is_integer() else round(number, column.digits)
    if column.kind == "money":
        return round(float(value))  # type: ignore[arg-type]  # whole pounds
    if column.kind in ("harm", "minutes", "share"):
        return round(float(value), column.digits)  # type: ignore[arg-type]
    if column.kind == "id":
        return str(value)
    return value if isinstance(value, str) else str(value)


def text_value(value: object, column: Column, *, empty: str = "") -> str:
    """A cell for people: withheld as ``<5`` / ``c``, counts whole or to 1 decimal, shares as %."""
    if isinstance(value, Withheld):
        return str(value)
    if isinstance(value, str):
        return value
    if _missing(value):
        return empty
    if column.kind == "flag":
        return "yes" if bool(value) else ""
    number = float(value)  # type: ignore[arg-type]
    if column.kind == "money":
        return money(number)
    if column.kind == "count":
        return f"{number:,.0f}" if abs(number - round(number)) < 0.05 else f"{number:,.1f}"
    if column.kind == "share":
        whole = column.key in ("robustness", "share_of_runs", "fill")  # whole percentages
        return f"{number:.0%}" if whole else f"{number:.2%}"
    if column.kind == "number":  # to its digits at most (no 1.77636e-15 for a sum of 0)
        number = round(number, column.digits) + 0.0
        return f"{number:.0f}" if number.is_integer() else f"{number:g}"
    if column.kind in ("harm", "minutes"):
        return f"{number:.{column.digits}f}"
    return str(value)


def money(value: float, *, sign: bool = False) -> str:
    """A sum of money for people: whole pounds with thousands separators (``£19,559``,
    ``-£1,235``; ``+£12,000`` with ``sign``)."""
    pounds = round(value)
    if pounds == 0:
        return "£0"
    text = f"£{abs(pounds):,}"
    return f"-{text}" if pounds < 0 else f"+{text}" if sign else text


def signed(text: str, change: float) -> str:
    """``text`` of a change with its sign (``+3``, ``-1.20``, ``0``)."""
    return f"+{text}" if change > 0 and not text.startswith(("+", "-")) else text


def records(table: pd.DataFrame, columns: Sequence[Column]) -> list[dict[str, object]]:
    """Rows of a protected table for CSV and JSON, keyed by column, in column order."""
    present = [c for c in columns if c.key in table.columns]
    return [
        {c.key: machine_value(row[c.key], c) for c in present} for row in table.to_dict("records")
    ]


def people_rows(
    table: pd.DataFrame, columns: Sequence[Column], *, empty: dict[str, str] | None = None
) -> tuple[list[Column], list[list[str]]]:
    """The people columns of a protected table and its rows as text (templates filled in)."""
    shown = [c for c in columns if c.people and c.key in table.columns]
    # Key columns move up to follow the name: the leading columns, then the ``first`` ones.
    names = next((i + 1 for i, c in enumerate(shown) if c.key == "name"), 0)
    shown = [
        *shown[:names],
        *(c for c in shown if c.first),
        *(c for c in shown[names:] if not c.first),
    ]
    blanks = empty or {}
    spec = {c.key: c for c in columns}
    rows = []
    for row in table.to_dict("records"):
        texts = {
            key: text_value(value, spec[key], empty=blanks.get(key, "")) if key in spec
            else ("" if _missing(value) else str(value))
            for key, value in row.items()
        }  # fmt: skip
        for key, value in row.items():  # signed figures for templates ("+0.10", "-0.35")
            if key in spec and spec[key].kind in ("harm", "minutes") and key in texts:
                number = None if isinstance(value, Withheld | str) or _missing(value) else value
                texts[f"{key}_signed"] = (
                    texts[key] if number is None else signed(texts[key], float(number))
                )
        filled = _Blank(texts)
        rows.append([c.show.format_map(filled) if c.show else texts[c.key] for c in shown])
    return shown, rows


class _Blank(dict[str, str]):
    """Template cells: an optional cell the table does not have reads as empty."""

    def __missing__(self, key: str) -> str:
        if key in _OPTIONAL:
            return ""
        raise KeyError(key)


_OPTIONAL = frozenset({"ages_note"})
