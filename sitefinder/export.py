"""Write a ranking run to a GeoPackage (EPSG:27700) for QGIS and other GIS, and read it back.

Layers: ``candidates`` (every school with its scores and rank), ``existing_bases``,
``planned_bases``, ``programme_bases`` (the programme's new bases at their schools, with the
year each opens, its places, need groups and children expected), ``demand`` (areas with
minutes and harm before and after), ``assignments`` (lines from each area to the base its
children are assigned). Beside them, as non-spatial
tables: ``run_info`` (provenance and timings) and everything the map and the HTML report show
(:class:`~sitefinder.published.PublishedRun`): ``ranking``, ``plan_chosen``, ``plan_left_out``,
``plan_alternatives``, ``plan_stopped``, ``network``, ``robustness``, ``stability``,
``sensitivity``, ``assumptions``,
``input_files`` and ``run_facts`` (the run's settings and sentences, values as JSON). Every
figure withheld by disclosure control (:mod:`sitefinder.disclosure`) is stored as NULL, and
each row's ``withheld`` column names its withheld figures (so NULL for "withheld" and NULL for
"none" are told apart). :func:`read_run` reads the published run back:
``sitefinder map --from`` and ``report --from`` draw it without recomputing, the same bytes as
``rank --map`` / ``--report`` wrote for that run.

The file is a GeoPackage 1.3 (opens without warnings in GDAL 3.6 and QGIS 3.22 LTR). Each
spatial layer gets a default QGIS style in the table ``layer_styles`` (:mod:`sitefinder.styles`),
so the file opens styled and labelled in QGIS. The file is written to a temporary name beside
the target and moved into place only when complete, so a failed run never leaves a
half-written file, and an existing file is replaced only when asked.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from sitefinder.disclosure import CONFIDENTIAL, Withheld
from sitefinder.errors import DataError
from sitefinder.published import (
    CRS,
    LAYERS,
    RUN_FORMAT,
    TABLES,
    PublishedRun,
    RunFacts,
    is_missing,
    published,
    spec,
)
from sitefinder.styles import add_layer_styles
from sitefinder.targets import atomic_path
from sitefinder.targets import check_target as check_path

if TYPE_CHECKING:
    from sitefinder.pipeline import RankResult

GPKG_VERSION = "1.3"
"""GeoPackage version written: GDAL 3.6 (QGIS 3.22 LTR) warns on opening 1.4 files."""
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG" in the SQLite header (offset 68)
GPKG_USER_VERSION = 10300  # 1.3.0 in the SQLite header (offset 60)
WITHHELD = "withheld"
"""Column naming each row's withheld figures (keys joined by ``;``)."""
_WRITE_ERRORS = (sqlite3.Error, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)
_READ_ERRORS = (
    sqlite3.Error,
    OSError,
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
)


def _points(table: pd.DataFrame) -> gpd.GeoDataFrame:
    geometry = shapely.points(table["easting"].to_numpy(), table["northing"].to_numpy())
    return gpd.GeoDataFrame(table, geometry=geometry, crs=CRS)


def _numbers(values: pd.Series) -> bool:
    """Whether an object column holds only numbers (and gaps): stored as REAL, not text."""
    present = [v for v in values if not is_missing(v)]
    return bool(present) and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
        for v in present
    )


def _nulls(table: pd.DataFrame) -> pd.DataFrame:
    """Withheld figures as NULL (NaN), their columns numeric again, named in ``withheld``."""
    out = table.copy()
    marks: list[list[str]] = [[] for _ in range(len(out))]
    for column in out.columns:
        values = out[column]
        if values.dtype != object:
            continue
        hidden = values.map(lambda v: isinstance(v, Withheld)).to_numpy(dtype=bool)
        for row in np.flatnonzero(hidden):
            marker = values.iloc[row]
            marks[row].append(str(column) if marker.small else f"{column}={marker}")
        shown = values.where(~hidden, float("nan"))
        if hidden.any() or _numbers(shown):
            out[column] = pd.to_numeric(shown)
    if marks and any(marks):
        out[WITHHELD] = [";".join(m) for m in marks]
    elif WITHHELD not in out.columns:
        out[WITHHELD] = pd.Series([""] * len(out), index=out.index, dtype=object)
    return out


def _marked(name: str, table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """``table`` read back: the cells its ``withheld`` column names as Withheld markers."""
    if WITHHELD not in table.columns:
        return table
    kinds = {c.key: c.kind for c in spec(name, table)}
    out = table.drop(columns=WITHHELD)
    rows: dict[str, list[tuple[int, bool]]] = {}
    for index, keys in enumerate(table[WITHHELD]):
        for mark in str(keys or "").split(";"):
            key, _, text = mark.partition("=")  # "key=c": a count withheld for a margin
            if key in out.columns:
                rows.setdefault(key, []).append((index, text != CONFIDENTIAL))
    for key, cells in rows.items():
        column = out[key].astype(object)
        for index, small in cells:
            column.iloc[index] = Withheld(kinds.get(key, "number"), threshold, small=small)
        out[key] = column
    return out


def _frames(run: PublishedRun) -> dict[str, pd.DataFrame]:
    """Every layer as a GeoDataFrame and every other table as a DataFrame, file order."""
    tables = run.tables
    demand = _nulls(tables["demand"])
    points = shapely.points(demand["easting"].to_numpy(), demand["northing"].to_numpy())
    shapes = [
        shape if shape is not None else point
        for shape, point in zip(run.area_shapes, points, strict=True)
    ]
    assignments = _nulls(tables["assignments"])
    areas = tables["demand"].set_index("area_code")
    sites = pd.concat(
        [tables["existing_bases"], tables["planned_bases"]], ignore_index=True
    ).set_index("site")
    start = areas.loc[assignments["area_code"], ["easting", "northing"]].to_numpy(dtype=float)
    end = sites.loc[assignments["site"], ["easting", "northing"]].to_numpy(dtype=float)
    lines = (
        shapely.linestrings([[tuple(a), tuple(b)] for a, b in zip(start, end, strict=True)])
        if len(assignments)
        else []
    )
    frames: dict[str, pd.DataFrame] = {
        "candidates": _points(_nulls(tables["candidates"])),
        "existing_bases": _points(tables["existing_bases"]),
        "planned_bases": _points(_nulls(tables["planned_bases"])),
        "programme_bases": _points(_nulls(tables["programme_bases"])),
        "demand": gpd.GeoDataFrame(demand, geometry=shapes, crs=CRS),
        "assignments": gpd.GeoDataFrame(assignments, geometry=lines, crs=CRS),
    }
    for name in TABLES:
        if name == "run_facts":
            frames[name] = pd.DataFrame(run.facts.rows(), columns=["key", "value"])
        elif name in (
            "run_info",
            "robustness",
            "assumptions",
            "input_files",
        ):
            frames[name] = tables[name]
        else:
            frames[name] = _nulls(tables[name])
    return frames


def layers(result: RankResult | PublishedRun) -> dict[str, pd.DataFrame]:
    """Build every layer of the GeoPackage (GeoDataFrames) and its non-spatial tables."""
    return _frames(published(result))


def check_target(path: str | Path, *, overwrite: bool) -> Path:
    """Check that a GeoPackage may be written at ``path``, before any work is done.

    Raises
    ------
    OutputError
        If the name does not end in .gpkg, the file exists and ``overwrite`` is false, or the
        folder does not exist.
    """
    return check_path(path, overwrite=overwrite, suffix=".gpkg", kind="GeoPackage")


def write_geopackage(
    result: RankResult | PublishedRun, path: str | Path, *, overwrite: bool = False
) -> Path:
    """Write ``result`` to a GeoPackage at ``path`` atomically, with default QGIS styles.

    Parameters
    ----------
    result
        A ranking run (:func:`sitefinder.rank`), or what it published
        (:func:`sitefinder.published.publish`).
    path
        The file to write (``.gpkg``; the folder must exist).
    overwrite
        Replace an existing file.

    Raises
    ------
    OutputError
        If ``path`` exists and ``overwrite`` is false, the folder does not exist, or the file
        cannot be written. The target is left untouched in every case.
    """
    path = check_target(path, overwrite=overwrite)
    run = published(result)
    return write_layers(_frames(run), path, overwrite=overwrite, label_top=run.facts.top)


GEOMETRY_TYPES = {
    "candidates": "Point",
    "existing_bases": "Point",
    "planned_bases": "Point",
    "programme_bases": "Point",
    "assignments": "LineString",
}
"""Each spatial layer's geometry type, written even when the layer is empty (an authority
with no bases today, a plan of no bases), so GIS software shows it as that kind of layer."""


def write_layers(
    frames: dict[str, pd.DataFrame], path: Path, *, overwrite: bool, label_top: int
) -> Path:
    """Write ``frames`` (layers and tables, by name) to one GeoPackage at ``path`` atomically,
    as GeoPackage 1.3, with QGIS styles labelling the first ``label_top`` candidates."""
    with atomic_path(
        path, overwrite=overwrite, kind="GeoPackage", errors=_WRITE_ERRORS
    ) as temporary:
        for name, frame in frames.items():  # GDAL creates the file itself
            options = {"VERSION": GPKG_VERSION} if not Path(temporary).exists() else {}
            if isinstance(frame, gpd.GeoDataFrame):
                # Empty, the geometry type cannot be read from the rows: say it.
                known = GEOMETRY_TYPES.get(name)
                kind = {"geometry_type": known} if frame.empty and known else {}
                frame.to_file(
                    temporary,
                    layer=name,
                    driver="GPKG",
                    engine="pyogrio",
                    dataset_options=options,
                    **kind,
                )
            else:
                pyogrio.write_dataframe(
                    frame, temporary, layer=name, driver="GPKG", dataset_options=options
                )
        _record_columns(temporary, frames)
        add_layer_styles(temporary, frames, label_top=label_top)
    return path


COLUMNS_RECORD = "sitefinder columns: "
"""How ``gpkg_contents.description`` of each layer and table starts: its columns and their
SQLite types as written, as JSON after it, so :func:`read_run` can tell a column renamed,
deleted or retyped after writing (in QGIS, or a spreadsheet) from one the run never had."""

_NUMERIC = frozenset({"INTEGER", "REAL", "BOOLEAN", "MEDIUMINT", "SMALLINT", "TINYINT", "FLOAT"})


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(connection: sqlite3.Connection, name: str) -> dict[str, str]:
    """The attribute columns of table ``name`` and their declared types (not fid, geometry)."""
    rows = connection.execute(f"PRAGMA table_info({_quoted(name)})").fetchall()
    geometry = {
        row[0]
        for row in connection.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)
        )
    }
    return {
        str(row[1]): str(row[2]).upper()
        for row in rows
        if not row[5] and row[1] not in geometry  # row[5]: part of the primary key (fid)
    }


def _record_columns(path: str | Path, frames: dict[str, pd.DataFrame]) -> None:
    with closing(sqlite3.connect(path)) as connection, connection:
        for name in frames:
            record = COLUMNS_RECORD + json.dumps(_columns(connection, name))
            connection.execute(
                "UPDATE gpkg_contents SET description = ? WHERE table_name = ?", (record, name)
            )


def _changed_columns(path: Path, names: tuple[str, ...]) -> list[str]:
    """What was changed in the columns of the run's ``names`` after sitefinder wrote them:
    a column renamed or deleted, text in a column of numbers. One line each, every table."""
    problems: list[str] = []
    fix = "put it back, or write the run again with sitefinder rank --output FILE.gpkg"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        described = dict(
            connection.execute("SELECT table_name, description FROM gpkg_contents").fetchall()
        )
        for name in names:
            now = _columns(connection, name)
            text = str(described.get(name) or "")
            written = (
                json.loads(text.removeprefix(COLUMNS_RECORD))
                if text.startswith(COLUMNS_RECORD)
                else now  # written before columns were recorded: check the values only
            )
            gone = [column for column in written if column not in now]
            new = [column for column in now if column not in written]
            for column in gone:
                renamed = f"; it has {', '.join(new)} instead: renamed?" if new else ""
                problems.append(
                    f"{path}: layer {name} has no column {column} (renamed or deleted after"
                    f" sitefinder wrote it{renamed}); {fix}"
                )
            for column, kind in written.items():
                if column not in now or kind not in _NUMERIC:
                    continue
                bad = connection.execute(
                    f"SELECT n, value FROM (SELECT row_number() OVER (ORDER BY rowid) AS n,"
                    f" {_quoted(column)} AS value FROM {_quoted(name)})"
                    " WHERE typeof(value) NOT IN ('integer', 'real', 'null') ORDER BY n"
                ).fetchall()
                if bad:
                    rows = [str(n) for n, _ in bad[:5]]
                    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
                    where = f"row{'s' if len(bad) > 1 else ''} {', '.join(rows)}{more}"
                    problems.append(
                        f"{path}: layer {name}, {where}, column {column}: {str(bad[0][1])!r}"
                        f" is not a number (changed after sitefinder wrote it); {fix}"
                    )
    return problems


# --- reading a saved run back -------------------------------------------------------------------

_REMEDY = "write one with sitefinder rank --output FILE.gpkg"


def _facts(path: Path) -> RunFacts:
    """The run's facts, after checking the file is a run this sitefinder can read."""
    if not path.is_file():
        raise DataError(f"{path}: file not found ({_REMEDY})")
    with path.open("rb") as handle:
        header = handle.read(100)
    if header[:16] != b"SQLite format 3\x00" or header[68:72] != b"GPKG":
        raise DataError(f"{path}: not a GeoPackage ({_REMEDY})")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            names = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            info = (
                dict(connection.execute('SELECT "key", "value" FROM "run_info"').fetchall())
                if "run_info" in names
                else {}
            )
            rows = (
                dict(connection.execute('SELECT "key", "value" FROM "run_facts"').fetchall())
                if "run_facts" in names
                else {}
            )
    except sqlite3.Error as exc:
        raise DataError(f"{path}: cannot be read as a GeoPackage ({exc}; {_REMEDY})") from None
    if "sitefinder_version" not in info:
        raise DataError(f"{path}: not a GeoPackage written by sitefinder rank ({_REMEDY})")
    version = info["sitefinder_version"]
    written = info.get("run_format", "none")
    if written != str(RUN_FORMAT) or not rows:
        raise DataError(
            f"{path}: written by sitefinder {version} in run format {written}; this sitefinder"
            f" reads run format {RUN_FORMAT} (rank the scenario again with this version:"
            " sitefinder rank --output FILE.gpkg)"
        )
    missing = [name for name in (*LAYERS, *TABLES) if name not in names]
    if missing:
        raise DataError(
            f"{path}: the saved run has no {', '.join(missing)} table(s); it was changed after"
            f" sitefinder wrote it ({_REMEDY})"
        )
    try:
        return RunFacts.from_rows(rows)
    except (KeyError, ValueError, TypeError) as exc:
        raise DataError(
            f"{path}: run_facts is incomplete ({exc}); it was changed after sitefinder wrote it"
            f" ({_REMEDY})"
        ) from None


def _table(path: Path, name: str) -> pd.DataFrame:
    frame = pyogrio.read_dataframe(path, layer=name, read_geometry=False)
    return pd.DataFrame(frame)


def read_run(path: str | Path) -> PublishedRun:
    """Read back the run a GeoPackage written by ``sitefinder rank --output`` published.

    Parameters
    ----------
    path
        The GeoPackage.

    Returns
    -------
    PublishedRun
        Its tables and facts, as :func:`sitefinder.published.publish` made them: the map and
        report drawn from it are those of the run (byte for byte, at the same
        ``SOURCE_DATE_EPOCH``).

    Raises
    ------
    DataError
        If the file is missing, not a GeoPackage, not written by sitefinder, written in
        another run format (another sitefinder version), or missing a table.
    """
    path = Path(path)
    facts = _facts(path)
    threshold = facts.suppression_threshold
    tables: dict[str, pd.DataFrame] = {}
    try:
        changed = _changed_columns(path, (*LAYERS, *TABLES))
        if changed:
            raise DataError(changed)
        for name in LAYERS:
            if name == "demand":
                demand = pyogrio.read_dataframe(path, layer=name)
                if demand.crs is not None and not demand.empty and demand.crs != CRS:
                    demand = demand.to_crs(CRS)  # written with --crs: the maps draw in metres
                shapes = [
                    None if g is None or g.geom_type == "Point" else g for g in demand.geometry
                ]
                tables[name] = _marked(
                    name, pd.DataFrame(demand.drop(columns="geometry")), threshold
                )
            else:
                tables[name] = _marked(name, _table(path, name), threshold)
        for name in TABLES:
            if name != "run_facts":
                tables[name] = _marked(name, _table(path, name), threshold)
    except _READ_ERRORS as exc:
        raise DataError(f"{path}: cannot read the saved run ({exc}; {_REMEDY})") from None
    return PublishedRun(facts, tables, shapes)
