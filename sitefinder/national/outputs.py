"""A national run's outputs: every authority's plan in one table, national totals, one file.

Each authority's ranking and plan are published as its own run publishes them (its
disclosure rule). The network figures are published per authority and for England together,
so they pass through disclosure control as one table whose rows add up to the national
totals (:mod:`sitefinder.disclosure`, rule 4): no withheld authority figure can be worked out
from England's total and the others. The CSV, JSON and table hold no timings, so the same run
gives the same bytes; timings and memory go to stderr and the GeoPackage's ``run_info``.
"""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sitefinder.columns import (
    METRICS,
    NATIONAL_ALLOCATION,
    NATIONAL_GAP,
    PLAN,
    machine_value,
    people_rows,
    protected,
    records,
    text_value,
)
from sitefinder.disclosure import Rule, Withheld, rule_for
from sitefinder.national.run import CROSS_BORDER, NationalResult
from sitefinder.report import OUTPUT_COLUMNS, before_after_rows, before_after_table
from sitefinder.targets import check_target as check_path
from sitefinder.version import __version__

NATIONAL_COLUMNS = ["authority", "authority_code", *OUTPUT_COLUMNS]
"""The CSV columns of a national ``rank --format csv``: each authority's ranking rows."""
_PLAN = {c.key: c for c in PLAN if c.key in ("choice", "places", "newly_placed", "harm_averted")}
TOTAL_HARM = next(c for c in METRICS if c.key == "total_harm")
LAYERS = ("candidates", "existing_bases", "planned_bases", "demand", "assignments")


def national_rule(result: NationalResult) -> Rule:
    """The disclosure rule of the national figures: the scenario's threshold and the most
    harm one child without a place carries in any authority (harm points)."""
    most = max((run.per_child for run in result.runs), default=result.scenario.harm.unmet)
    return rule_for(result.scenario, per_child=most)


def _metrics_row(metrics: Any) -> dict[str, float]:
    return {c.key: float(getattr(metrics, c.key)) for c in METRICS}


def network_frames(result: NationalResult) -> dict[str, pd.DataFrame]:
    """The network ``before`` and ``after`` the plans: one row per authority (GSS code) and
    one for England, disclosure-controlled together (the authorities add up to England)."""
    rule = national_rule(result)
    frames = {}
    for when in ("before", "after"):
        rows = pd.DataFrame(
            [_metrics_row(getattr(run, when)) for run in result.runs],
            index=[run.authority.gss_code for run in result.runs],
        )
        rows = protected(rows, METRICS, rule, margins=[None])
        total = protected(
            pd.DataFrame([_metrics_row(getattr(result, when))], index=["England"]), METRICS, rule
        )
        frames[when] = pd.concat([rows, total])
    return frames


def gap_frame(result: NationalResult) -> pd.DataFrame:
    """Each authority's gap today by phase and need group (:data:`NATIONAL_GAP`),
    disclosure-controlled."""
    parts = [
        run.gap.assign(
            authority=run.authority.name,
            authority_code=run.authority.gss_code,
            places=run.gap["places"].round(1),
            gap=(run.gap["children"] - run.gap["places"]).round(1),
        )
        for run in result.runs
        if len(run.gap)
    ]
    keys = [c.key for c in NATIONAL_GAP]
    frame = pd.concat(parts, ignore_index=True)[keys] if parts else pd.DataFrame(columns=keys)
    return protected(frame, NATIONAL_GAP, national_rule(result))


def gap_by_authority(result: NationalResult) -> pd.DataFrame:
    """Each authority's children needing a base place and gap today, with the mean of its
    areas' points (for the national map)."""
    rows = []
    for run in result.runs:
        children = float(run.gap["children"].sum()) if len(run.gap) else 0.0
        places = float(run.gap["places"].sum()) if len(run.gap) else 0.0
        rows.append(
            {
                "authority": run.authority.name,
                "authority_code": run.authority.gss_code,
                "children": children,
                "gap": round(children - places, 1),
                "easting": run.point[0],
                "northing": run.point[1],
            }
        )
    frame = pd.DataFrame(rows, columns=["authority", "authority_code", "children", "gap",
                                        "easting", "northing"])  # fmt: skip
    return protected(frame, NATIONAL_GAP, national_rule(result))


def allocation_frame(result: NationalResult) -> pd.DataFrame | None:
    """The national allocation (:data:`NATIONAL_ALLOCATION`), disclosure-controlled; None
    when the run asked for none."""
    if result.allocation is None:
        return None
    return protected(result.allocation, NATIONAL_ALLOCATION, national_rule(result))


def authority_documents(result: NationalResult) -> list[dict[str, Any]]:
    """Each authority's ranking, plan, network, warnings and notes, with its network figures
    as the national table publishes them (and its plan's total harm withheld with them)."""
    frames = network_frames(result)
    documents = []
    for run in result.runs:
        code = run.authority.gss_code
        document = dict(run.document)
        network = {
            when: records(frames[when].loc[[code]], METRICS)[0] for when in ("before", "after")
        }
        plan = dict(document.get("plan", {}))
        after = frames["after"].at[code, "total_harm"]
        if isinstance(after, Withheld):  # as each authority's own run withholds it
            for key in ("total_harm", "greedy_total_harm"):
                if plan.get(key) is not None:
                    plan[key] = machine_value(after, TOTAL_HARM)
        documents.append(
            {
                "authority": run.authority.name,
                "authority_code": code,
                "la_code": run.authority.la_code,
                "ranking": document.get("ranking", []),
                "plan": plan,
                "network": network,
                "warnings": document.get("warnings", []),
                "notes": document.get("notes", []),
            }
        )
    return documents


def national_warnings(result: NationalResult) -> list[str]:
    """Every authority's warnings, each named by its authority, after the scenario's own."""
    return [
        *result.scenario.warnings,
        *(
            f"{run.authority.name}: {warning}"
            for run in result.runs
            for warning in run.document.get("warnings", [])
        ),
    ]


def national_notes(result: NationalResult) -> list[str]:
    """What the national run read and assumed (not timings)."""
    return list(result.notes)


def run_notes(result: NationalResult) -> list[str]:
    """How the run went: where it ran, seconds per stage, peak memory (for stderr)."""
    timings = result.timings
    stages = ", ".join(
        f"{name} {timings[name]:.1f} s"
        for name in ("split", "cluster", "authorities", "total")
        if name in timings
    )
    tasks = [run.timings.get("task", math.nan) for run in result.runs]
    slowest = max(result.runs, key=lambda r: r.timings.get("task", 0.0), default=None)
    parts = [
        f"{len(result.runs)} authorities ranked on {result.workers}; timings: {stages}",
    ]
    if slowest is not None:
        per_stage = ", ".join(
            f"{name} {sum(r.timings.get(name, 0.0) for r in result.runs):.1f} s"
            for name in ("load", "prepare", "evaluate", "plan")
        )
        parts.append(
            f"authority tasks: {sum(tasks):.1f} s in all ({per_stage}); slowest"
            f" {slowest.authority.name} {slowest.timings['task']:.1f} s"
        )
    memory = ", ".join(f"{name} {mib:,.0f} MiB" for name, mib in result.peak_mib.items())
    parts.append(f"peak memory: {memory}")
    return parts


def _rows(result: NationalResult) -> list[dict[str, Any]]:
    return [
        {"authority": d["authority"], "authority_code": d["authority_code"], **row}
        for d in authority_documents(result)
        for row in d["ranking"]
    ]


def to_national_csv(result: NationalResult) -> str:
    """Every authority's ranked candidates as CSV (:data:`NATIONAL_COLUMNS`)."""
    buffer = io.StringIO()
    pd.DataFrame(_rows(result), columns=NATIONAL_COLUMNS).to_csv(
        buffer, index=False, lineterminator="\n"
    )
    return buffer.getvalue()


def to_national_json(result: NationalResult) -> str:
    """Every authority's ranking, plan and network, England's network, warnings and notes."""
    frames = network_frames(result)
    document = {
        "scenario": result.scenario.name,
        "national": True,
        "cross_border": CROSS_BORDER,
        "authorities": authority_documents(result),
        "network": {
            when: records(frames[when].loc[["England"]], METRICS)[0] for when in ("before", "after")
        },
        "gap": records(gap_frame(result), NATIONAL_GAP),
        "allocation": (
            None
            if (allocation := allocation_frame(result)) is None
            else records(allocation, NATIONAL_ALLOCATION)
        ),
        "suppression_threshold": result.scenario.suppression_threshold,
        "warnings": national_warnings(result),
        "notes": national_notes(result),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def plans_table(result: NationalResult) -> Table:
    """Every authority's new bases as one rich table."""
    table = Table(title="New bases by authority", box=box.SIMPLE_HEAD, title_justify="left")
    for heading, justify in (
        ("Authority", "left"), ("#", "right"), ("School (URN)", "left"),
        ("New base", "left"), ("Places", "right"), ("Newly placed", "right"),
        ("Harm averted", "right"),
    ):  # fmt: skip
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for document in authority_documents(result):
        chosen = document["plan"].get("chosen", [])
        if not chosen:
            table.add_row(document["authority"], "", "no new base worth adding", "", "", "", "")
        for row in chosen:  # published cells: withheld ones already read <5 or c
            ages = f", ages {row['ages']}" if row.get("ages") else ""
            cell = {key: text_value(row.get(key), column) for key, column in _PLAN.items()}
            table.add_row(
                document["authority"],
                cell["choice"],
                f"{row.get('name')} ({row.get('urn')})",
                f"{row.get('phase')}{ages}: {row.get('need_group_label')}",
                cell["places"],
                cell["newly_placed"],
                cell["harm_averted"],
            )
    return table


def england_table(result: NationalResult) -> Table:
    """England's network before and after every authority's plan."""
    frames = network_frames(result)
    bases = sum(len(d["plan"].get("chosen", [])) for d in authority_documents(result))
    england = pd.DataFrame({when: frames[when].loc["England"] for when in ("before", "after")}).T
    return before_after_table(
        f"England before and after {bases} new bases in {len(result.runs)} authorities",
        before_after_rows(england, result.scenario.suppression_threshold),
    )


def allocation_table(result: NationalResult) -> Table | None:
    """The national allocation's authorities with new bases, most bases first."""
    frame = allocation_frame(result)
    if frame is None:
        return None
    funded = frame[pd.to_numeric(frame["bases"], errors="coerce") > 0]
    funded = funded.sort_values(["bases", "authority"], ascending=[False, True], kind="stable")
    columns, rows = people_rows(funded, NATIONAL_ALLOCATION)
    total = int(pd.to_numeric(frame["bases"], errors="coerce").sum())
    table = Table(
        title=f"National allocation: {total:,} new bases in {len(funded)} authorities",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    for column in columns:
        table.add_column(column.label, justify="left" if column.kind == "text" else "right")
    for row in rows:
        table.add_row(*row)
    return table


def national_table(result: NationalResult) -> RenderableType:
    """The terminal output of a national run: the plans, England's network, the allocation,
    the caveat."""
    allocation = allocation_table(result)
    return Group(
        plans_table(result),
        england_table(result),
        *([allocation] if allocation is not None else []),
        Text(f"Not modelled: {CROSS_BORDER}."),
        Text(
            "Each authority's ranking, plan, network, warnings and notes: --format json"
            " (or csv for the rankings, --output for a GeoPackage)."
        ),
    )


def _with_authority(frame: pd.DataFrame, name: str, code: str) -> pd.DataFrame:
    out = frame.copy()
    out.insert(0, "authority_code", code)
    out.insert(0, "authority", name)
    return out


def national_layers(result: NationalResult) -> dict[str, pd.DataFrame]:
    """The GeoPackage layers: every authority's layers one after another, each row with its
    ``authority`` and ``authority_code``; ``authorities`` (one row per authority: its plan
    and its network before and after, disclosure-controlled as in the JSON); ``run_info``."""
    from sitefinder.export import CRS

    frames: dict[str, pd.DataFrame] = {}
    for name in LAYERS:
        parts = [
            _with_authority(run.layers[name], run.authority.name, run.authority.gss_code)
            for run in result.runs
            if run.layers is not None and name in run.layers
        ]
        if not parts:
            continue
        frame = pd.concat(parts, ignore_index=True)
        frames[name] = gpd.GeoDataFrame(frame, geometry="geometry", crs=CRS)
    network = network_frames(result)
    summary = []
    for document in authority_documents(result):
        code = document["authority_code"]
        plan = document["plan"]
        row: dict[str, Any] = {
            "authority": document["authority"],
            "authority_code": code,
            "la_code": document["la_code"],
            "selection_method": plan.get("method"),
            "proven_optimal": plan.get("proven_optimal"),
            "new_bases": len(plan.get("chosen", [])),
            "requested_bases": plan.get("requested_bases"),
        }
        for when in ("before", "after"):
            for key, value in records(network[when].loc[[code]], METRICS)[0].items():
                row[f"{key}_{when}"] = None if isinstance(value, str) else value
        summary.append(row)
    frames["authorities"] = pd.DataFrame(summary)
    frames["national_gap"] = _plain(gap_frame(result), NATIONAL_GAP)
    allocation = allocation_frame(result)
    if allocation is not None:
        table = _plain(allocation, NATIONAL_ALLOCATION)
        frames["national_allocation"] = gpd.GeoDataFrame(
            table,
            geometry=gpd.points_from_xy(table["easting"], table["northing"]),
            crs=CRS,
        )
    frames["run_info"] = _run_info(result)
    return frames


def _plain(frame: pd.DataFrame, columns: Any) -> pd.DataFrame:
    """A protected table with its cells as the JSON writes them (a withheld one as NULL)."""
    present = [c for c in columns if c.key in frame.columns]
    out = pd.DataFrame(records(frame, present), columns=[c.key for c in present])
    for column in present:
        if column.kind not in ("text", "id"):
            out[column.key] = [None if isinstance(v, str) else v for v in out[column.key]]
    return out


def _run_info(result: NationalResult) -> pd.DataFrame:
    scenario = result.scenario
    rows = [
        ("sitefinder_version", __version__),
        ("scenario_name", scenario.name),
        ("scenario_file", str(scenario.source or "")),
        ("scenario_sha256", scenario.source_sha256 or ""),
        ("created_utc", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("crs", "EPSG:27700"),
        ("national", "true"),
        ("authorities", str(len(result.runs))),
        ("new_bases_per_authority", str(scenario.new_bases)),
        ("not_modelled", CROSS_BORDER),
        ("notes", " ".join(result.notes)),
        ("suppression_threshold", str(scenario.suppression_threshold)),
        ("ran_on", result.workers),
    ]
    rows += [(f"input_sha256_{name}", digest) for name, digest in result.checksums.items()]
    rows += [(f"seconds_{name}", f"{value:.3f}") for name, value in result.timings.items()]
    rows += [
        (f"peak_mib_{name.replace(' ', '_')}", f"{v:.0f}") for name, v in result.peak_mib.items()
    ]
    return pd.DataFrame(rows, columns=["key", "value"])


def write_national_geopackage(
    result: NationalResult, path: str | Path, *, overwrite: bool = False
) -> Path:
    """Write a national run to one GeoPackage (EPSG:27700), atomically, with QGIS styles.

    Needs the runs' layers (:func:`sitefinder.national.rank_national` with ``layers=True``).

    Raises
    ------
    OutputError
        If ``path`` exists and ``overwrite`` is false, the folder does not exist, or the file
        cannot be written. The target is left untouched in every case.
    """
    from sitefinder.export import write_layers

    path = check_path(path, overwrite=overwrite, suffix=".gpkg", kind="GeoPackage")
    if any(run.layers is None for run in result.runs):
        raise ValueError("the national run was made without layers (rank_national(layers=True))")
    frames = national_layers(result)
    return write_layers(frames, path, overwrite=overwrite, label_top=result.scenario.top)
