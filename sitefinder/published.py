"""What a run publishes: every table and sentence its outputs show, disclosure-controlled.

:func:`publish` turns a :class:`~sitefinder.pipeline.RankResult` into a :class:`PublishedRun`
once. The terminal table, CSV and JSON (:mod:`sitefinder.report`), the GeoPackage
(:mod:`sitefinder.export`), the map and the HTML report (:mod:`sitefinder.render`) are all drawn
from it, so they agree by construction. The GeoPackage stores all of it (the spatial layers and,
beside them, the report's tables and the run's facts as non-spatial tables), and
:func:`sitefinder.export.read_run` gives the same object back: ``sitefinder map --from`` and
``report --from`` draw a saved run without recomputing it.

Every figure a disclosure rule withholds is a :class:`~sitefinder.disclosure.Withheld` marker in
the tables here (NULL in the file, with the row's ``withheld`` column naming it).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sitefinder.columns import (
    ALTERNATIVES,
    AREAS,
    ASSIGNMENTS,
    COSTS,
    DEMAND_BY_PHASE,
    FALLBACK,
    FALLBACK_TOTALS,
    LEFT_OUT,
    METRICS,
    PATHWAY,
    PLAN,
    PLANNED_BASES,
    PROGRAMME,
    PROGRAMME_YEARS,
    RANKING,
    SENSITIVITY,
    SPECIAL_SCHOOLS,
    STABILITY,
    STOPPED,
    SUFFICIENCY,
    Column,
    protected,
    records,
)
from sitefinder.disclosure import Kind, Rule, Withheld, disclosure_text
from sitefinder.fallback import per_phase_text
from sitefinder.resources import bundled_root
from sitefinder.stability.ranges import assumptions as varied_assumptions
from sitefinder.stability.ranges import ignored
from sitefinder.supply import ages_text, phase_ages
from sitefinder.version import __version__

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from sitefinder.config import Scenario
    from sitefinder.costs import BusinessCase
    from sitefinder.pipeline import RankResult

RUN_FORMAT = 11
"""The layout of a published run in a GeoPackage; a reader refuses any other (``run_facts``)."""
CRS = "EPSG:27700"
OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
OS_DATA = "Contains OS data © Crown copyright and database right."
OSM = "© OpenStreetMap contributors, ODbL."
FICTIONAL = "Demo data: the fictional Demoshire authority (no real school, area or child)."
_PLAN_ONLY = [
    "children_served", "fill", "mix", "newly_placed", "harm_averted", "harm_averted_placing",
    "harm_averted_journeys", "minutes_before", "minutes_after", "areas_served", "greedy_rank",
    "robustness", "alternatives", "caveats",
]  # fmt: skip
LAYERS = (
    "candidates", "existing_bases", "planned_bases", "programme_bases", "demand", "assignments",
)  # fmt: skip
"""The spatial layers, in the file's order (``programme_bases``: the ``programme`` table's
bases at their schools, one point a base with the year it opens)."""
TABLES = (
    "run_info", "ranking", "plan_chosen", "plan_left_out", "plan_alternatives", "plan_stopped",
    "network", "fallback", "fallback_totals", "demand_by_phase", "special_schools", "sufficiency",
    "programme",
    "programme_years", "pathway", "costs", "robustness", "stability", "sensitivity", "assumptions",
    "input_files", "run_facts",
)  # fmt: skip
"""The non-spatial tables, in the file's order (``run_info`` first, as before)."""


@dataclass(frozen=True)
class RunFacts:
    """A run's settings, figures and sentences that its outputs show, all already published.

    Attributes
    ----------
    format
        :data:`RUN_FORMAT` of the sitefinder that published it.
    version
        The sitefinder version that made the run.
    scenario_name, scenario_file, scenario_sha256
        The scenario's name, file (``""`` when built in a program) and SHA-256.
    base_size
        Places in each new base.
    top
        Ranked candidates shown (rows of the ``ranking`` table).
    suppression_threshold
        Counts of children below this are withheld (children).
    per_minute
        The harm curve's travel term (harm points per journey minute).
    stopping_rule
        The stopping rule in words, after "a new base must place".
    tie_tolerance
        The plan's tie tolerance (a fraction of a base's harm averted).
    harm_scale
        What a harm point is and what a child without a base place counts, in words.
    disclosure_note
        The sentence explaining withheld figures.
    method, proof, proof_brief
        How the plan was chosen (``optimal`` or ``greedy``) and how close to the best set it
        is, in words (long, and short for the map).
    plan_summary
        The JSON ``plan`` summary (method, gap, total harm as published, ...).
    plan_notes
        Sentences under the plan table.
    plan_sentences
        The plan's own notes (how many requested bases are worth adding, limits).
    runs, unproven_runs
        Robustness runs made, and those stopped before proving their set.
    robustness_text
        How the robustness runs were made, in words (``""`` without runs).
    travel_method
        How journey minutes were found, in words.
    credits
        The credits of the data the run used.
    limits
        The guidance limit of each phase planned for (minutes).
    warnings, notes
        The run's published warnings and what the readers found.
    cost_placements
        Children without a base place by kind of place, today and with the plan, and what
        those places cost a year (JSON rows of :data:`sitefinder.columns.COST_PLACEMENTS`).
    cost_notes
        The business case worked through in words (:func:`sitefinder.costs.words.cost_notes`).
    cost_sources
        Each ``costs`` figure as ``[key, value, source]``.
    programme_notes
        How demand was projected, how the programme was chosen, and what each of its years
        opens, keeps out and leaves (:attr:`sitefinder.programme.Sufficiency.notes`).
    """

    format: int
    version: str
    scenario_name: str
    scenario_file: str
    scenario_sha256: str
    base_size: int
    top: int
    suppression_threshold: int
    per_minute: float
    stopping_rule: str
    tie_tolerance: float
    harm_scale: str
    disclosure_note: str
    method: str
    proof: str
    proof_brief: str
    plan_summary: dict[str, Any]
    plan_notes: list[str]
    plan_sentences: list[str]
    runs: int
    unproven_runs: int
    robustness_text: str
    travel_method: str
    credits: str
    limits: dict[str, float]
    warnings: list[str]
    notes: list[str]
    cost_placements: list[dict[str, Any]] = field(default_factory=list)
    cost_notes: list[str] = field(default_factory=list)
    cost_sources: list[list[str]] = field(default_factory=list)
    programme_notes: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        """``(key, JSON value)`` rows for the ``run_facts`` table."""
        return [(key, json.dumps(value, ensure_ascii=False)) for key, value in asdict(self).items()]

    @classmethod
    def from_rows(cls, rows: Mapping[str, str]) -> RunFacts:
        """The facts back from :meth:`rows`.

        Raises
        ------
        KeyError, ValueError
            When a fact is missing or not JSON (the caller names the file).
        """
        return cls(**{f.name: json.loads(rows[f.name]) for f in fields(cls)})


@dataclass(frozen=True)
class PublishedRun:
    """Everything a run publishes: the tables of every output and the facts behind them.

    Attributes
    ----------
    facts
        Settings, figures and sentences (:class:`RunFacts`).
    tables
        Every published table by its name in the GeoPackage (:data:`LAYERS` and
        :data:`TABLES`); figures withheld by disclosure control are
        :class:`~sitefinder.disclosure.Withheld` markers.
    area_shapes
        The polygon of each row of ``tables["demand"]`` (None where an area has no polygon;
        it is drawn at its point).
    """

    facts: RunFacts
    tables: Mapping[str, pd.DataFrame]
    area_shapes: Sequence[BaseGeometry | None] = field(default_factory=list)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def warnings(self) -> list[str]:
        """Warnings every output carries."""
        return list(self.facts.warnings)

    @property
    def notes(self) -> list[str]:
        """What the readers found: files read, estimates."""
        return list(self.facts.notes)

    @property
    def threshold(self) -> int:
        """The suppression threshold (children)."""
        return self.facts.suppression_threshold


def spec(name: str, table: pd.DataFrame) -> tuple[Column, ...]:
    """The column specification of a published table (its disclosure-controlled columns)."""
    known = {
        "ranking": RANKING,
        "plan_chosen": PLAN,
        "plan_left_out": LEFT_OUT,
        "plan_alternatives": ALTERNATIVES,
        "plan_stopped": STOPPED,
        "network": METRICS,
        "demand": AREAS,
        "assignments": ASSIGNMENTS,
        "fallback": FALLBACK,
        "fallback_totals": FALLBACK_TOTALS,
        "demand_by_phase": DEMAND_BY_PHASE,
        "special_schools": SPECIAL_SCHOOLS,
        "sufficiency": SUFFICIENCY,
        "programme": PROGRAMME,
        "programme_bases": PROGRAMME,
        "programme_years": PROGRAMME_YEARS,
        "pathway": PATHWAY,
        "planned_bases": PLANNED_BASES,
        "costs": COSTS,
        "stability": STABILITY,
        "sensitivity": SENSITIVITY,
    }
    if name == "candidates":
        return school_columns(table)
    return known.get(name, ())


def school_columns(table: pd.DataFrame) -> tuple[Column, ...]:
    """The figures of the candidates layer that describe children, by kind."""
    # Pupils with an EHC plan are children; the standalone values are harm points.
    harm: Kind = "harm"
    columns = [
        Column("ehcp_pupils", "Pupils with an EHC plan", "count"),
        Column("ehcp_share", "Share of pupils with an EHC plan", "share", about="ehcp_pupils"),
    ]
    columns += [
        Column(c, c, harm)
        for c in table.columns
        if c.startswith("standalone_") or c == "best_standalone"
    ]
    return tuple(columns)


# --- scenario facts in words --------------------------------------------------------------------


def show(value: Any) -> str:
    """A scenario value as the report writes it (``none``, ``true``, ``[1, 2]``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a dumped model as (dotted key path, value); empty tables are leaves."""
    if isinstance(value, dict) and value:
        for key in value:
            yield from _leaves(value[key], f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def assumptions(scenario: Scenario) -> list[tuple[str, str, str]]:
    """Every scenario setting as (key path, value, source), in the scenario's key order.

    The source is the scenario file that set the value (the file itself or a parent named by
    ``extends``), the origin of a later change (``command line``), or ``default``. File paths
    are shown resolved.
    """
    current = scenario.model_dump(exclude={"source", "source_sha256"})
    return [(key, show(value), scenario.origin_of(key)) for key, value in _leaves(current)]


def harm_scale(scenario: Scenario) -> str:
    """What a harm point is and what a child without a base place counts, in words."""
    text = (
        "The harm curve scores one harm point for a journey at the guidance limit, and every"
        f" journey minute adds {scenario.harm.per_minute:g}."
    )
    fallback = scenario.fallback
    if fallback.method == "flat":
        return text + f" A child without a base place counts {scenario.harm.unmet:g}."
    far = per_phase_text(scenario, fallback.minutes_of, "minutes")
    mismatch = per_phase_text(scenario, fallback.mismatch_of, "harm point(s)")
    where = (
        "a special school's place (nearest first, each school up to its places) or an"
        f" out-of-authority placement {far} away when none is left"
        if fallback.method == "special_school"
        else f"an out-of-authority placement {far} away"
    )
    return text + (
        f" A child without a base place counts the harm of the journey to {where}, plus"
        f" {mismatch} for having no base place."
    )


def robustness_text(result: RankResult) -> str:
    """How the robustness runs were made, in words (``""`` without runs)."""
    from sitefinder.stability.shifts import growth_years

    plan, scenario = result.plan, result.scenario
    settings = scenario.robustness
    if not plan.runs:
        return ""
    ranges = []
    for a in varied_assumptions(scenario, result.data):
        where = f"{a.section}.{a.key}" if a.section != "robustness" else f"robustness.{a.key}"
        if a.choices:
            ranges.append(f"{where} drawn from {', '.join(a.text(c) for c in a.choices)}")
        else:
            ranges.append(f"{where} drawn from [{a.text(a.low)}, {a.text(a.high)}]")
            if a.key == "growth":
                ranges[-1] += f" over {growth_years(scenario, result.data)} years"
    text = (
        f"The plan was chosen again in {plan.runs} seeded runs (seed {settings.seed}), each"
        f" scaling every area's children by a random factor (standard deviation of its log"
        f" {settings.demand_noise:g})" + (f" with {'; '.join(ranges)}" if ranges else "") + "."
        " Robustness is the share of runs in which the school hosts a chosen base. Each varied"
        " assumption was also set alone at each end of its range (each other share), the others"
        " at their settings (the sensitivity), and where a base enters or leaves the plan there,"
        " the value at which it does was found."
    )
    if ignored(scenario):
        text += (
            f" Not varied: robustness.{', robustness.'.join(ignored(scenario))}"
            f" (crow-fly journeys only; these are {scenario.journey.method} journeys)."
        )
    if plan.unproven_runs:
        text += f" {plan.unproven_runs} run(s) stopped at their time limit with the best set found."
    return text


def credits(result: RankResult) -> str:
    """The credits of the data a run used, and only those (shared/data wording).

    OpenStreetMap is credited only when journeys were routed over a road network; the Open
    Government Licence when a public dataset was read (GIAS, ONS population, DfE SEN2, LSOA
    boundaries, the ONS Postcode Directory); OS data with boundaries or postcodes (the
    packaged ONSPD geocodes pupil lists and schools without a grid reference). Files of the
    bundled demo are fictional and say so.
    """
    scenario = result.scenario
    inputs, journey = scenario.inputs, scenario.journey
    demo = bundled_root() / "data" / "demo"

    def real(path: Path | None) -> bool:
        return path is not None and not Path(path).resolve().is_relative_to(demo.resolve())

    files = [*inputs.files().values(), journey.network, journey.matrix]
    geocoded = inputs.demand.method == "pupils" or inputs.schools.format != "sitefinder"
    public = (
        inputs.schools.format == "gias"
        or inputs.demand.method == "modelled"
        or real(inputs.boundaries.path if inputs.boundaries else None)
        or real(inputs.postcodes)
        or (geocoded and real(inputs.schools.path))
    )
    ordnance = (
        real(inputs.boundaries.path if inputs.boundaries else None)
        or real(inputs.postcodes)
        or (geocoded and real(inputs.schools.path))
    )
    parts = []
    if not any(real(f) for f in files if f is not None):
        parts.append(FICTIONAL)
    if public:
        parts.append(OGL)
    if ordnance:
        parts.append(OS_DATA)
    if journey.method == "network" and real(journey.network):
        parts.append(OSM)
    if not parts:
        parts.append("Data: the scenario's own input files (listed in the HTML report).")
    return " ".join(parts)


# --- the layers ----------------------------------------------------------------------------------


def _candidates(result: RankResult, planned: set[str]) -> pd.DataFrame:
    table = result.schools.copy()
    table["rank"] = table["rank"].astype("float64")  # NULL for schools not ranked
    plan = result.plan
    table["in_plan"] = table["urn"].astype(str).isin(planned)
    table["robustness"] = (
        table["urn"].map(plan.robustness).fillna(0.0) if plan.runs else float("nan")
    )
    reasons = plan.left_out.drop_duplicates("urn").set_index("urn")["reason"]
    table["left_out_reason"] = [str(reasons.get(urn, "")) for urn in table["urn"]]
    rule, columns = result.disclosure_rule, school_columns(table)
    if not rule.estimates:
        return protected(table, columns, rule)
    # Modelled children are estimates; a school's pupils with an EHC plan are real children.
    pupils = [c for c in columns if c.key.startswith("ehcp_")]
    table = protected(table, pupils, rule.of_records())
    return protected(table, [c for c in columns if c not in pupils], rule)


def _planned(result: RankResult) -> pd.DataFrame:
    planned = result.sites[result.sites["kind"] == "new"].drop(columns="kind")
    planned = planned.reset_index(names="site")
    chosen = result.plan.chosen
    if not chosen.empty:
        # The school's name, not "New base N": the label QGIS draws.
        choices = dict(zip(chosen["urn"].astype(str), chosen["choice"], strict=True))
        planned["base_name"] = [
            f"{name} (new base {choices.get(str(urn), '')})".replace(" ()", "")
            for name, urn in zip(planned["school_name"], planned["urn"], strict=True)
        ]
    if "greedy_rank" in planned.columns:
        planned["greedy_rank"] = planned["greedy_rank"].astype("float64")
    return protected(planned, PLANNED_BASES, result.disclosure_rule, margins=[None])  # as the plan


def _programme_bases(result: RankResult, programme: pd.DataFrame) -> pd.DataFrame:
    """The published ``programme`` table with each base's school's grid reference (metres):
    the ``programme_bases`` point layer."""
    at = result.schools.assign(urn=result.schools["urn"].astype(str)).drop_duplicates("urn")
    at = at.set_index("urn")
    return programme.assign(
        easting=at["easting"].reindex(programme["urn"]).to_numpy(dtype=float),
        northing=at["northing"].reindex(programme["urn"]).to_numpy(dtype=float),
    )


def _existing(result: RankResult) -> pd.DataFrame:
    existing = result.sites[result.sites["kind"] == "existing"].drop(columns="kind")
    existing = existing.drop(columns=[c for c in _PLAN_ONLY if c in existing.columns])
    return existing.reset_index(names="site")


def every_child(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """``table`` (published areas) with the maps' measures of every child added.

    ``mean_minutes_all_after``: the mean journey after the plan of all the area's children,
    those in a base on their journey there and the rest on their fallback journey (minutes;
    NaN when children without a base place have no journey, under the flat fallback);
    ``unplaced_share_after``: the share of its children without a base place. Both are worked
    out from the area's published children, children without a place and mean journeys, so
    either is withheld where one of those is (the mean and the share would give a withheld
    count back).
    """
    rows: list[tuple[float | Withheld, float | Withheld]] = []
    nothing = pd.Series(math.nan, index=table.index)  # the flat fallback: no journey
    for children, unmet, placed, fallback in zip(
        table["children"], table["unmet_after"], table["mean_minutes_after"],
        table.get("fallback_minutes", nothing), strict=True,
    ):  # fmt: skip
        every_one_placed = not isinstance(unmet, Withheld) and _number(unmet) == 0
        if isinstance(children, Withheld) and every_one_placed:
            rows.append((_number(placed), 0.0))  # the mean and share tell no count
            continue
        if any(isinstance(v, Withheld) for v in (children, unmet, placed, fallback)):
            rows.append((Withheld("minutes", threshold), Withheld("share", threshold)))
            continue
        total, left = _number(children), _number(unmet)
        if not total > 1e-9:
            rows.append((math.nan, math.nan))
            continue
        left = min(max(left if math.isfinite(left) else 0.0, 0.0), total)
        share = left / total
        placed_minutes, fallback_minutes = _number(placed), _number(fallback)
        if left <= 1e-9:
            mean = placed_minutes
        elif total - left <= 1e-9:
            mean = fallback_minutes
        else:
            mean = ((total - left) * placed_minutes + left * fallback_minutes) / total
        rows.append((mean, share))
    means, shares = zip(*rows, strict=True) if rows else ((), ())
    return table.assign(
        mean_minutes_all_after=pd.Series(list(means), index=table.index, dtype=object),
        unplaced_share_after=pd.Series(list(shares), index=table.index, dtype=object),
    )


def _number(value: object) -> float:
    if is_missing(value):
        return math.nan
    return float(value)  # type: ignore[arg-type]


def _demand(result: RankResult) -> tuple[pd.DataFrame, list[BaseGeometry | None]]:
    # The areas add up to the network's totals, published in the report: margin rule 4.
    table = protected(result.areas, AREAS, result.disclosure_rule, margins=[None])
    table = every_child(table, result.scenario.suppression_threshold)
    boundaries = result.data.boundaries
    if boundaries is None or boundaries.empty:
        return table, [None] * len(table)
    polygons = boundaries.drop_duplicates("area_code").set_index("area_code").geometry
    shapes = polygons.reindex(table["area_code"]).to_numpy()
    return table, [None if s is None or s.is_empty else s for s in shapes]


def demand_by_phase(
    assignments: pd.DataFrame,
    unplaced: pd.DataFrame,
    *,
    areas: Sequence[str],
    phases: Sequence[str],
    timed: bool,
) -> pd.DataFrame:
    """Each area's children, children without a base place, mean journey of those placed and
    mean fallback journey after the plan, for each phase (children and minutes, unprotected).

    Parameters
    ----------
    assignments
        Children from each area to each base after the plan (``area_code``, ``phase``,
        ``children``, ``minutes``).
    unplaced
        Where children without a base place go (``network``, ``area_code``, ``phase``, ``kind``,
        ``children``, ``minutes``); the ``plan`` rows are read.
    areas, phases
        The rows: every phase, then every area in this order.
    timed
        Whether the unplaced have fallback journeys (False under the flat fallback: no
        ``fallback_minutes`` column).
    """
    keys = ["phase", "area_code"]
    rows = pd.MultiIndex.from_product([list(phases), list(areas)], names=keys)
    after = unplaced[unplaced["network"] == "plan"]

    def summed(frame: pd.DataFrame, values: pd.Series) -> pd.Series:
        total = values.groupby([frame["phase"], frame["area_code"]]).sum()
        return total.reindex(rows, fill_value=0.0).astype(float)

    placed = summed(assignments, assignments["children"])
    minutes = summed(assignments, assignments["children"] * assignments["minutes"])
    left = summed(after, after["children"])
    table = pd.DataFrame(
        {
            "children": placed + left,
            "unmet_after": left,
            "mean_minutes_after": minutes / placed.where(placed > 1e-9),
        },
        index=rows,
    )
    if timed:
        journeys = after[after["kind"] != "flat"]
        counted = summed(journeys, journeys["children"])
        spent = summed(journeys, journeys["children"] * journeys["minutes"])
        table["fallback_minutes"] = spent / counted.where(counted > 1e-9)
    return table.reset_index()[["area_code", "phase", *table.columns]]


def _demand_by_phase(result: RankResult) -> pd.DataFrame:
    table = demand_by_phase(
        result.assignments,
        result.unplaced,
        areas=result.areas["area_code"].astype(str).tolist(),
        phases=list(result.scenario.phases),
        timed="fallback_minutes" in result.areas.columns,
    )
    # Each area's phases add up to its published demand row, and all to the network's totals.
    table = protected(table, DEMAND_BY_PHASE, result.disclosure_rule, margins=[None, "area_code"])
    return every_child(table, result.scenario.suppression_threshold)


def _assignments(result: RankResult) -> pd.DataFrame:
    table = result.assignments.groupby(
        ["area_code", "site", "urn", "kind", "phase", "need_group"], as_index=False, sort=True
    ).agg(children=("children", "sum"), minutes=("minutes", "first"))
    # Lines add up to each area's children placed and each base's children served.
    rule = result.disclosure_rule
    return protected(table, ASSIGNMENTS, rule, margins=[None, "area_code", "site"])


def _fallback(result: RankResult) -> pd.DataFrame:
    table = result.unplaced.assign(urn=result.unplaced["urn"].astype(str))
    return protected(table, FALLBACK, result.disclosure_rule)


def fallback_totals(unplaced: pd.DataFrame) -> pd.DataFrame:
    """Children without a base place by where they go (``kind``), today and with the plan:
    children, schools taking them, and their mean journey (minutes)."""
    rows = []
    kinds = ("special", "independent", "non_maintained", "base_cross_border", "out_of_authority")
    for kind in (*kinds, "flat"):
        mine = unplaced[unplaced["kind"] == kind]
        if mine.empty:
            continue
        row: dict[str, object] = {"kind": kind}
        for network in ("today", "plan"):
            part = mine[mine["network"] == network]
            children = float(part["children"].sum())
            row[network] = children
            row[f"minutes_{network}"] = (
                float((part["children"] * part["minutes"]).sum() / children)
                if children > 1e-9 and kind != "flat"
                else float("nan")
            )
        row["schools"] = int(mine.loc[mine["urn"] != "", "urn"].nunique())
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["kind", "today", "plan", "schools", "minutes_today", "minutes_plan"]
    )


def _run_info(result: RankResult) -> pd.DataFrame:
    scenario = result.scenario
    rows = [
        ("sitefinder_version", __version__),
        ("run_format", str(RUN_FORMAT)),
        ("scenario_name", scenario.name),
        ("scenario_file", str(scenario.source or "")),
        ("scenario_sha256", scenario.source_sha256 or ""),
        ("created_utc", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("crs", CRS),
        ("new_bases", str(scenario.new_bases)),
        ("selection_method", result.plan.method),
        ("selection_gap", f"{result.plan.gap:.6g}"),
        ("selection_proven_optimal", str(result.plan.proven)),
        ("selection_proof", result.plan.proof()),
        ("selection_requested_bases", str(result.plan.requested)),
        ("plan_notes", " ".join(result.plan.notes)),
        ("robustness_runs", str(result.plan.runs)),
        ("base_size_places", str(scenario.base_size)),
        ("suppression_threshold", str(scenario.suppression_threshold)),
        (
            "suppression_rule",
            "counts of children > 0 and below the threshold, harm figures > 0 and below"
            " threshold x harm.unmet, and the figures they could be worked out from are NULL",
        ),
    ]
    rows += [(f"input_sha256_{name}", digest) for name, digest in result.data.checksums.items()]
    rows += [
        (name, f"{value:.0f}") if name == "evaluations" else (f"seconds_{name}", f"{value:.3f}")
        for name, value in result.timings.items()
    ]
    rows += [("seconds_plan_choice", f"{result.plan.seconds:.3f}")]
    return pd.DataFrame(rows, columns=["key", "value"])


# --- publish ------------------------------------------------------------------------------------


def _robustness_table(result: RankResult) -> pd.DataFrame:
    plan = result.plan
    names = result.schools.drop_duplicates("urn").set_index("urn")["name"]
    in_plan = set(plan.chosen.get("urn", pd.Series(dtype=str)).astype(str))
    shares = plan.robustness.sort_values(ascending=False, kind="stable")
    return pd.DataFrame(
        [
            {
                "urn": str(urn),
                "name": str(names.get(urn, "")),
                "share": float(share),
                "in_plan": str(urn) in in_plan,
            }
            for urn, share in (shares.items() if plan.runs else [])
        ],
        columns=["urn", "name", "share", "in_plan"],
    )


def _stability_table(table: pd.DataFrame, columns: Sequence[Column], rule: Rule) -> pd.DataFrame:
    """The stability statement or the sensitivity as published (its columns, text URNs, its
    harm figures disclosure-controlled)."""
    frame = table.reindex(columns=[c.key for c in columns])
    if "urn" in frame.columns:
        frame = frame.assign(urn=frame["urn"].astype(str))
    text = [c.key for c in columns if c.kind in ("text", "id")]
    return protected(frame.astype(dict.fromkeys(text, object)), columns, rule)


# --- the run's tables, built once from a RankResult ------------------------------------------


OUTPUT_COLUMNS = [c.key for c in RANKING]
"""The CSV columns of ``rank --format csv`` (and the keys of each JSON ranking row)."""

PLAN_COLUMNS = [c.key for c in PLAN]


def _with_ages(result: RankResult, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``ages`` (the ages each row's base serves, ``4-6``) and, for people,
    ``ages_note`` (", ages 4-6" where that is only part of the phase, else empty)."""
    from sitefinder.pipeline import base_ages

    out = table.copy()
    if "ages" not in out.columns or out["ages"].isna().all():
        out["ages"] = base_ages(
            result.scenario, result.data.schools, out.get("urn", []), out.get("phase", [])
        )
    spans = phase_ages(result.scenario.inputs.demand.ages)
    whole = {phase: ages_text(*span) for phase, span in spans.items()}
    out["ages_note"] = [
        "" if not ages or ages == whole.get(str(phase)) else f", ages {ages}"
        for ages, phase in zip(out["ages"].fillna(""), out.get("phase", []), strict=True)
    ]
    return out


def _group_label(result: RankResult, key: object) -> str:
    group = result.scenario.need_groups.get(str(key))
    return group.label if group is not None else str(key)


def planned_urns(result: RankResult) -> set[str]:
    """URNs of the schools that host a new base in the plan (whatever the base's option)."""
    chosen = result.plan.chosen
    return set() if chosen.empty else {str(u) for u in chosen["urn"]}


def ranking_frame(result: RankResult, *, top: int) -> pd.DataFrame:
    """The first ``top`` ranked candidates, disclosure-controlled (:data:`RANKING` columns).

    ``in_plan`` is true for every school hosting a new base in the plan, whatever the option
    the ranking row is about.
    """
    table = _with_ages(result, result.ranking.head(top).reindex(columns=OUTPUT_COLUMNS))
    table["in_plan"] = table["urn"].astype(str).isin(planned_urns(result))
    if not result.plan.runs:
        table["robustness"] = float("nan")
    # The first k picks (k new bases) add up to the network's published change whenever the
    # plan is the greedy order's first k: a margin. Later rows each stand alone.
    planned = len(result.plan.chosen)
    table["_prefix"] = [0 if r <= planned else int(r) for r in table["rank"]]
    protected_table = protected(table, RANKING, result.disclosure_rule, margins=["_prefix"])
    return protected_table.drop(columns="_prefix")


def plan_frame(result: RankResult) -> pd.DataFrame:
    """The plan's new bases, disclosure-controlled (:data:`PLAN` columns)."""
    table = _with_ages(result, result.plan.chosen.reindex(columns=PLAN_COLUMNS))
    if not result.plan.runs:
        table["robustness"] = float("nan")
    # The new bases' newly placed add up to the published change in unmet need (a margin).
    return protected(table, PLAN, result.disclosure_rule, margins=[None])


def left_out_frame(result: RankResult) -> pd.DataFrame:
    """The strongest candidates left out and why, disclosure-controlled (:data:`LEFT_OUT`)."""
    table = result.plan.left_out.copy()
    table["need_group_label"] = [_group_label(result, g) for g in table.get("need_group", [])]
    table = _with_ages(result, table.reindex(columns=[c.key for c in LEFT_OUT]))
    return protected(table, LEFT_OUT, result.disclosure_rule)


def metrics_frame(result: RankResult) -> pd.DataFrame:
    """The network before and after the plan (rows ``before``, ``after``), disclosure-controlled.

    Each row is one group of children, so a withheld count withholds its row's total harm.
    """
    table = pd.DataFrame(
        [
            {c.key: float(getattr(metrics, c.key)) for c in METRICS}
            for metrics in (result.before, result.after)
        ],
        index=["before", "after"],
    )
    return protected(table, METRICS, result.disclosure_rule)


def plan_rows(result: RankResult) -> list[dict[str, Any]]:
    """The plan's chosen bases as plain rows, disclosure-controlled."""
    return records(plan_frame(result), PLAN)


def plan_summary(result: RankResult) -> dict[str, Any]:
    """How the plan was chosen: method, gap, total harm against the greedy order's.

    Total harm is withheld (``c``) when the network's figures after the plan are.
    """
    plan = result.plan
    after = metrics_frame(result).at["after", "total_harm"]
    hidden = isinstance(after, Withheld)
    return {
        "method": plan.method,
        "proven_optimal": plan.proven,
        "proof": plan.proof(),
        "gap": None if math.isnan(plan.gap) else round(plan.gap, 6),
        "total_harm": str(after) if hidden else round(plan.objective, 2),
        "greedy_total_harm": None
        if math.isnan(plan.greedy_objective)
        else str(after)
        if hidden
        else round(plan.greedy_objective, 2),
        "robustness_runs": plan.runs,
        "stopped_by_limit": plan.limit or None,
        "requested_bases": plan.requested,
        "notes": list(plan.notes),
    }


def published_warnings(result: RankResult) -> list[str]:
    """Warnings every output carries: the scenario's own, then the run's."""
    return [*result.scenario.warnings, *result.warnings]


def published_notes(result: RankResult) -> list[str]:
    """What the readers found (files read, estimates): the same on every run, unlike timings."""
    return [*result.data.notes, *result.demand_notes]


_KIND_WORDS = {
    "special": "in maintained or academy special schools' places",
    "independent": "in independent special schools' places",
    "non_maintained": "in non-maintained special schools' places",
    "base_cross_border": "in bases across the border",
    "out_of_authority": "out of authority",
    "flat": "without a base place (flat harm)",
}


def unplaced_sentences(result: RankResult) -> list[str]:
    """Where children without a base place go, today and with the plan, in words: modelled
    estimates rounded to one decimal, as every other output shows them; counts of identified
    children rounded to whole children, and under the threshold not given."""
    from sitefinder.published import fallback_totals

    totals = fallback_totals(result.unplaced)
    if totals.empty:
        return []
    threshold = result.scenario.suppression_threshold
    estimates = result.disclosure_rule.estimates

    def count(value: float) -> str:
        if estimates:
            return f"{value:,.1f}"
        return f"{value:,.0f}" if value >= threshold else f"fewer than {threshold}"

    out = []
    for network, label in (("today", "Today"), ("plan", "With the plan")):
        parts = [
            f"{count(float(row[network]))} {_KIND_WORDS[str(row['kind'])]}"
            for _, row in totals.iterrows()
            if float(row[network]) > 1e-9
        ]
        if parts:
            out.append(f"{label}, children without a base place go: {'; '.join(parts)}.")
    return out


def plan_notes(result: RankResult) -> list[str]:
    """Sentences under the plan table (published with the run: :attr:`RunFacts.plan_notes`)."""
    plan = result.plan
    notes = [
        "Harm averted: what the plan would lose without that base (harm points), in two"
        " parts: placing children who had no base place (their mismatch penalty) + journeys"
        " (the change in journey harm, fallback journeys included)."
        + (f" Robust: share of {plan.runs} runs that keep the school in the chosen set,"
           " each run drawing the assumptions that decide the plan from their robustness"
           " ranges, with noisy demand." if plan.runs else "")
        + (f" {plan.unproven_runs} run(s) stopped at their time limit with the best set"
           " found." if plan.unproven_runs else "")
    ]  # fmt: skip
    notes.extend(plan.notes)
    notes.extend(unplaced_sentences(result))
    summary = plan_summary(result)
    if summary["greedy_total_harm"] is not None and not isinstance(summary["total_harm"], str):
        difference = plan.greedy_objective - plan.objective
        notes.append(
            f"Total harm with the plan {plan.objective:.2f} against {plan.greedy_objective:.2f}"
            f" for the greedy order's first {len(plan.chosen)}:"
            + (
                f" {difference:.2f} harm points less."
                if difference > 1e-6
                else f" {-difference:.2f} harm points more (some of the greedy order's bases"
                " would fail the minimum occupancy)."
                if difference < -1e-6
                else " the same."
            )
        )
    tolerance = result.scenario.selection.tie_tolerance
    for row in plan_rows(result):
        if row.get("alternatives"):
            notes.append(
                f"#{row['choice']} {row['name']}: equivalent alternatives within the"
                f" {tolerance:.0%} tie tolerance (harm points the plan would add):"
                f" {row['alternatives']}."
            )
    return notes


class _Later(Mapping[str, pd.DataFrame]):
    """Published tables made when first asked for, once each: the table, CSV and JSON on
    stdout need only the ranking, the plan and the network, the GeoPackage and report all."""

    def __init__(self, makers: dict[str, Callable[[], pd.DataFrame]]) -> None:
        self._makers = makers
        self._made: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._made:
            self._made[name] = self._makers[name]()
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


class _Shapes(Sequence["BaseGeometry | None"]):
    """The demand layer's polygons, found with its table when first asked for."""

    def __init__(self, demand: Callable[[], tuple[pd.DataFrame, list[BaseGeometry | None]]]):
        self._demand = demand

    def __getitem__(self, index: int) -> BaseGeometry | None:  # type: ignore[override]
        return self._demand()[1][index]

    def __len__(self) -> int:
        return len(self._demand()[1])


def publish(result: RankResult, *, top: int | None = None) -> PublishedRun:
    """Everything ``result`` publishes, disclosure-controlled, for every output to draw from.

    Parameters
    ----------
    result
        A ranking run (:func:`sitefinder.rank`).
    top
        Ranked candidates to publish (default the scenario's ``top``).

    Returns
    -------
    PublishedRun
        Its tables and facts.
    """
    from sitefinder.costs.words import cost_notes, cost_sources, cost_table, placement_rows
    from sitefinder.plan import StoppingRule

    scenario, plan = result.scenario, result.plan
    top = scenario.top if top is None else top
    files = scenario.inputs.files()
    demand = functools.cache(lambda: _demand(result))
    rule = result.disclosure_rule
    programme = functools.cache(
        lambda: protected(
            result.programme.reindex(columns=[c.key for c in PROGRAMME]).assign(
                urn=lambda t: t["urn"].astype(str)
            ),
            PROGRAMME,
            rule,
        )
    )
    tables = _Later(
        {
            "candidates": lambda: _candidates(result, planned_urns(result)),
            "existing_bases": lambda: _existing(result),
            "planned_bases": lambda: _planned(result),
            "demand": lambda: demand()[0],
            "assignments": lambda: _assignments(result),
            "run_info": lambda: _run_info(result),
            "ranking": lambda: ranking_frame(result, top=top).assign(
                easting=result.ranking["easting"].head(top).to_numpy(),
                northing=result.ranking["northing"].head(top).to_numpy(),
            ),
            "plan_chosen": lambda: plan_frame(result),
            "plan_left_out": lambda: left_out_frame(result),
            "plan_alternatives": lambda: protected(plan.alternatives, ALTERNATIVES, rule),
            "plan_stopped": lambda: protected(plan.stopped, STOPPED, rule),
            "network": lambda: metrics_frame(result).rename_axis("state").reset_index(),
            "fallback": lambda: _fallback(result),
            "demand_by_phase": lambda: _demand_by_phase(result),
            "fallback_totals": lambda: protected(
                fallback_totals(result.unplaced), FALLBACK_TOTALS, rule
            ),
            "sufficiency": lambda: protected(
                result.sufficiency.reindex(columns=[c.key for c in SUFFICIENCY]),
                SUFFICIENCY,
                rule,
            ),
            "pathway": lambda: protected(
                result.pathway.reindex(columns=[c.key for c in PATHWAY]), PATHWAY, rule
            ),
            "programme": programme,
            "programme_bases": lambda: _programme_bases(result, programme()),
            "programme_years": lambda: protected(
                result.programme_years.reindex(columns=[c.key for c in PROGRAMME_YEARS]),
                PROGRAMME_YEARS,
                rule,
            ),
            "special_schools": lambda: protected(
                result.special_schools[[c.key for c in SPECIAL_SCHOOLS]].assign(
                    urn=result.special_schools["urn"].astype(str)
                ),
                SPECIAL_SCHOOLS,
                rule,
            ),
            "costs": lambda: cost_table(case),
            "robustness": lambda: _robustness_table(result),
            "stability": lambda: _stability_table(plan.stability, STABILITY, rule),
            "sensitivity": lambda: _stability_table(plan.sensitivity, SENSITIVITY, rule),
            "assumptions": lambda: pd.DataFrame(
                assumptions(scenario), columns=["key", "value", "source"], dtype=object
            ),
            "input_files": lambda: pd.DataFrame(
                [
                    (name, str(files.get(name, "")), digest)
                    for name, digest in result.data.checksums.items()
                ],
                columns=["name", "file", "sha256"],
                dtype=object,
            ),
        }
    )
    summary = plan_summary(result)
    case = result.costs if result.costs is not None else _no_case(result)
    facts = RunFacts(
        format=RUN_FORMAT,
        version=__version__,
        scenario_name=scenario.name,
        scenario_file=str(scenario.source or ""),
        scenario_sha256=scenario.source_sha256 or "",
        base_size=scenario.base_size,
        top=top,
        suppression_threshold=scenario.suppression_threshold,
        per_minute=scenario.harm.per_minute,
        stopping_rule=StoppingRule.from_scenario(scenario).describe(
            scenario.base_size, scenario.count_threshold
        ),
        tie_tolerance=scenario.selection.tie_tolerance,
        harm_scale=harm_scale(scenario),
        disclosure_note=disclosure_text(
            scenario.suppression_threshold, estimates=scenario.estimates
        ),
        method=plan.method,
        proof=plan.proof(),
        proof_brief=plan.proof(brief=True),
        plan_summary=summary,
        plan_notes=plan_notes(result),
        plan_sentences=list(plan.notes),
        runs=plan.runs,
        unproven_runs=plan.unproven_runs,
        robustness_text=robustness_text(result),
        travel_method=result.travel.method,
        credits=credits(result),
        limits={
            phase: float(limit)
            for phase, limit in sorted(scenario.harm.limit_minutes.items())
            if phase in scenario.phases
        },
        warnings=published_warnings(result),
        notes=published_notes(result),
        cost_placements=placement_rows(case, rule),
        cost_notes=cost_notes(case, scenario, threshold=scenario.count_threshold),
        cost_sources=cost_sources(scenario),
        programme_notes=list(result.projection.notes) if result.projection is not None else [],
    )
    return PublishedRun(facts, tables, _Shapes(demand))


def _no_case(result: RankResult) -> BusinessCase:
    """The business case of a result made without one (built by hand in a program)."""
    from sitefinder.costs import plan_case

    return plan_case(
        result.scenario,
        plan=result.plan,
        before=result.before,
        after=result.after,
        unplaced=result.unplaced,
    )


def published(run: PublishedRun | RankResult, *, top: int | None = None) -> PublishedRun:
    """``run`` as a :class:`PublishedRun` (published now when it is a ranking run)."""
    if isinstance(run, PublishedRun):
        return run
    return publish(run, top=top)


def is_missing(value: object) -> bool:
    """Whether a cell is empty (None, NA or NaN), not withheld."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def positive(value: object) -> bool:
    """Whether a published count is above zero: a withheld count always is (zero is shown)."""
    if isinstance(value, Withheld):
        return True
    if is_missing(value):
        return False
    return float(value) > 1e-9  # type: ignore[arg-type]
