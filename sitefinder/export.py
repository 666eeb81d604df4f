"""Write a ranking run to a GeoPackage (EPSG:27700) for QGIS and other GIS.

Layers: ``candidates`` (every school with its scores and rank), ``existing_bases``,
``planned_bases``, ``demand`` (areas with minutes and harm before and after), ``assignments``
(lines from each area to the base its children are assigned) and the table ``run_info``
(provenance and timings). Every figure withheld by disclosure control
(:mod:`sitefinder.disclosure`) is stored as NULL. The file is a GeoPackage 1.3 (opens
without warnings in GDAL 3.6 and QGIS 3.22 LTR). Each spatial layer gets a default QGIS style
in the table ``layer_styles`` (:mod:`sitefinder.styles`), so the file opens styled and
labelled in QGIS.
The file is written to a temporary name beside the target and moved into place only when
complete, so a failed run never leaves a half-written file, and an existing file is replaced
only when asked.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from sitefinder.columns import AREAS, ASSIGNMENTS, PLANNED_BASES, Column, protected
from sitefinder.disclosure import Kind, Withheld
from sitefinder.pipeline import RankResult
from sitefinder.report import planned_urns
from sitefinder.styles import add_layer_styles
from sitefinder.targets import atomic_path
from sitefinder.targets import check_target as check_path
from sitefinder.version import __version__

CRS = "EPSG:27700"
GPKG_VERSION = "1.3"
"""GeoPackage version written: GDAL 3.6 (QGIS 3.22 LTR) warns on opening 1.4 files."""
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG" in the SQLite header (offset 68)
GPKG_USER_VERSION = 10300  # 1.3.0 in the SQLite header (offset 60)
_WRITE_ERRORS = (sqlite3.Error, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)
_PLAN_ONLY = [
    "children_served", "newly_placed", "harm_averted", "harm_averted_placing",
    "harm_averted_journeys", "minutes_before", "minutes_after", "areas_served", "greedy_rank",
    "robustness", "alternatives",
]  # fmt: skip


def _points(table: pd.DataFrame) -> gpd.GeoDataFrame:
    geometry = shapely.points(table["easting"].to_numpy(), table["northing"].to_numpy())
    return gpd.GeoDataFrame(table, geometry=geometry, crs=CRS)


def _nulls(table: pd.DataFrame) -> pd.DataFrame:
    """Withheld figures as NULL (NaN), their columns numeric again."""
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object and values.map(lambda v: isinstance(v, Withheld)).any():
            out[column] = pd.to_numeric(
                values.map(lambda v: float("nan") if isinstance(v, Withheld) else v)
            )
    return out


def _school_columns(table: pd.DataFrame) -> list[Column]:
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
    return columns


def _candidates(result: RankResult) -> gpd.GeoDataFrame:
    table = result.schools.copy()
    table["rank"] = table["rank"].astype("float64")  # NULL for schools not ranked
    plan = result.plan
    table["in_plan"] = table["urn"].astype(str).isin(planned_urns(result))
    table["robustness"] = (
        table["urn"].map(plan.robustness).fillna(0.0) if plan.runs else float("nan")
    )
    reasons = plan.left_out.drop_duplicates("urn").set_index("urn")["reason"]
    table["left_out_reason"] = [str(reasons.get(urn, "")) for urn in table["urn"]]
    table = protected(table, _school_columns(table), result.disclosure_rule)
    return _points(_nulls(table))


def _planned(result: RankResult) -> gpd.GeoDataFrame:
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
    planned = protected(planned, PLANNED_BASES, result.disclosure_rule)
    return _points(_nulls(planned))


def _demand(result: RankResult) -> gpd.GeoDataFrame:
    # The areas add up to the network's totals, published in the report: margin rule 4.
    table = _nulls(protected(result.areas, AREAS, result.disclosure_rule, margins=[None]))
    if result.data.boundaries is None:
        return _points(table)
    polygons = result.data.boundaries.drop_duplicates("area_code").set_index("area_code")
    shapes = polygons.geometry.reindex(table["area_code"]).to_numpy()
    fallback = shapely.points(table["easting"].to_numpy(), table["northing"].to_numpy())
    geometry = [
        shape if shape is not None else point for shape, point in zip(shapes, fallback, strict=True)
    ]
    return gpd.GeoDataFrame(table, geometry=geometry, crs=CRS)


def _assignments(result: RankResult) -> gpd.GeoDataFrame:
    table = result.assignments.groupby(
        ["area_code", "site", "urn", "kind", "phase", "need_group"], as_index=False, sort=True
    ).agg(children=("children", "sum"), minutes=("minutes", "first"))
    areas = result.data.areas.set_index("area_code")
    sites = result.sites
    start = areas.loc[table["area_code"], ["easting", "northing"]].to_numpy()
    end = sites.loc[table["site"], ["easting", "northing"]].to_numpy()
    lines = (
        shapely.linestrings([[tuple(a), tuple(b)] for a, b in zip(start, end, strict=True)])
        if len(table)
        else []
    )
    # Lines add up to each area's children placed and each base's children served.
    rule = result.disclosure_rule
    table = _nulls(protected(table, ASSIGNMENTS, rule, margins=[None, "area_code", "site"]))
    return gpd.GeoDataFrame(table, geometry=lines, crs=CRS)


def _run_info(result: RankResult) -> pd.DataFrame:
    scenario = result.scenario
    rows = [
        ("sitefinder_version", __version__),
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


def layers(result: RankResult) -> dict[str, pd.DataFrame]:
    """Build every layer of the GeoPackage (GeoDataFrames, and ``run_info`` as a table)."""
    existing = result.sites[result.sites["kind"] == "existing"].drop(columns="kind")
    existing = existing.drop(columns=[c for c in _PLAN_ONLY if c in existing.columns])
    return {
        "candidates": _candidates(result),
        "existing_bases": _points(existing.reset_index(names="site")),
        "planned_bases": _planned(result),
        "demand": _demand(result),
        "assignments": _assignments(result),
        "run_info": _run_info(result),
    }


def check_target(path: str | Path, *, overwrite: bool) -> Path:
    """Check that a GeoPackage may be written at ``path``, before any work is done.

    Raises
    ------
    OutputError
        If the name does not end in .gpkg, the file exists and ``overwrite`` is false, or the
        folder does not exist.
    """
    return check_path(path, overwrite=overwrite, suffix=".gpkg", kind="GeoPackage")


def write_geopackage(result: RankResult, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``result`` to a GeoPackage at ``path`` atomically, with default QGIS styles.

    Raises
    ------
    OutputError
        If ``path`` exists and ``overwrite`` is false, the folder does not exist, or the file
        cannot be written. The target is left untouched in every case.
    """
    path = check_target(path, overwrite=overwrite)
    frames = layers(result)
    with atomic_path(
        path, overwrite=overwrite, kind="GeoPackage", errors=_WRITE_ERRORS
    ) as temporary:
        for name, frame in frames.items():  # GDAL creates the file itself
            options = {"VERSION": GPKG_VERSION} if not Path(temporary).exists() else {}
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(
                    temporary, layer=name, driver="GPKG", engine="pyogrio", dataset_options=options
                )
            else:
                pyogrio.write_dataframe(
                    frame, temporary, layer=name, driver="GPKG", dataset_options=options
                )
        add_layer_styles(temporary, frames, label_top=result.scenario.top)
    return path
