"""A run's layers in the open format an ``--output`` name asks for, in any coordinate system.

The name's extension chooses the format (:data:`FORMATS`):

- ``.gpkg``: one GeoPackage holding every layer and table, with default QGIS styles
  (:func:`sitefinder.export.write_geopackage`), and beside it a QGIS project ``NAME.qgs``
  (:mod:`sitefinder.outputs.qgis`) that opens the layers grouped, in order and styled;
- ``.geojson``, ``.fgb`` (FlatGeobuf) and ``.parquet`` (GeoParquet 1.0, written with pyarrow):
  a format holds one layer, so each spatial layer is a file beside the name given, named
  ``NAME.LAYER.EXT``: ``plan.geojson`` gives ``plan.candidates.geojson``,
  ``plan.existing_bases.geojson``, ``plan.planned_bases.geojson``,
  ``plan.programme_bases.geojson``, ``plan.demand.geojson`` and ``plan.assignments.geojson``.
  The published tables without geometry (ranking, plan, ...) are in the GeoPackage, and in
  CSV or JSON on stdout.

Every layer is written in EPSG:27700 (British National Grid), or reprojected to the EPSG code
given (``--crs 4326`` for web maps). Empty layers keep their geometry type and coordinate
system. Every file is written under a temporary name and moved into place when all of them are
complete: a failed run leaves none of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors

from sitefinder.errors import OutputError
from sitefinder.files import atomic_path
from sitefinder.published import CRS, LAYERS, PublishedRun, published
from sitefinder.targets import check_target

if TYPE_CHECKING:
    from sitefinder.pipeline import RankResult


@dataclass(frozen=True, slots=True)
class Format:
    """An output format: its extension, its name for people, and how it is written."""

    suffix: str
    kind: str
    driver: str
    """The GDAL driver, or ``""`` for GeoParquet (written by geopandas with pyarrow)."""
    layers: bool
    """Holds many layers in one file (else one file per layer)."""


FORMATS: dict[str, Format] = {
    f.suffix: f
    for f in (
        Format(".gpkg", "GeoPackage", "GPKG", layers=True),
        Format(".geojson", "GeoJSON file", "GeoJSON", layers=False),
        Format(".fgb", "FlatGeobuf file", "FlatGeobuf", layers=False),
        Format(".parquet", "GeoParquet file", "", layers=False),
    )
}
"""The formats ``--output`` writes, by extension."""

GEOMETRY_TYPES = {
    "candidates": "Point",
    "existing_bases": "Point",
    "planned_bases": "Point",
    "programme_bases": "Point",
    "assignments": "LineString",
}
"""Each point and line layer's geometry type, written even when it is empty."""

_WRITE_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError)


def output_format(path: str | Path) -> Format:
    """The format of an ``--output`` name, by its extension.

    Raises
    ------
    OutputError
        If the extension is not one of :data:`FORMATS` (the message lists them).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise OutputError(
            f"{path}: --output writes {known} (the extension chooses the format); give a name"
            " ending in one of them"
        )
    return FORMATS[suffix]


def layer_path(path: Path, layer: str) -> Path:
    """The file of ``layer`` beside ``path`` for a one-layer format: ``NAME.LAYER.EXT``."""
    return path.with_name(f"{path.stem}.{layer}{path.suffix}")


def project_path(path: Path) -> Path:
    """The QGIS project written beside a GeoPackage: ``NAME.qgs``."""
    return path.with_suffix(".qgs")


def output_files(path: str | Path, *, overwrite: bool) -> list[Path]:
    """Every file an ``--output`` name writes, checked before any work is done.

    Raises
    ------
    OutputError
        If the format is unknown, GeoParquet is asked for without pyarrow installed, a file
        exists and ``overwrite`` is false, or the folder does not exist.
    """
    path = Path(path)
    found = output_format(path)
    if found.suffix == ".parquet":
        _need_pyarrow(path)
    if found.layers:
        main = check_target(path, overwrite=overwrite, suffix=found.suffix, kind=found.kind)
        project = check_target(
            project_path(main), overwrite=overwrite, suffix=".qgs", kind="QGIS project"
        )
        return [main, project]
    return [
        check_target(layer_path(path, name), overwrite=overwrite, suffix=found.suffix,
                     kind=found.kind)
        for name in LAYERS
    ]  # fmt: skip


def _need_pyarrow(path: Path) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise OutputError(
            f"{path}: writing GeoParquet needs pyarrow (pip install pyarrow, or"
            " pip install 'sitefinder[parquet]'); or write .gpkg, .geojson or .fgb"
        ) from None


def crs_of(code: int | str | None) -> str:
    """``EPSG:code`` for an EPSG code (``4326``, ``"EPSG:4326"``); EPSG:27700 for None.

    Raises
    ------
    OutputError
        If the code is not a coordinate system pyproj knows.
    """
    if code is None:
        return CRS
    text = str(code).strip().upper().removeprefix("EPSG:")
    import pyproj
    from pyproj.exceptions import CRSError

    try:
        pyproj.CRS.from_epsg(int(text))
    except (ValueError, CRSError):
        raise OutputError(
            f"--crs {code}: not an EPSG code of a coordinate system (e.g. 4326 for longitude"
            " and latitude, 27700 for British National Grid)"
        ) from None
    return f"EPSG:{int(text)}"


def reprojected(frames: dict[str, pd.DataFrame], crs: str) -> dict[str, pd.DataFrame]:
    """``frames`` with every layer in ``crs`` (tables as they are; run_info says the CRS)."""
    if crs == CRS:
        return frames
    out: dict[str, pd.DataFrame] = {}
    for name, frame in frames.items():
        if isinstance(frame, gpd.GeoDataFrame):
            out[name] = frame.to_crs(crs)
        elif name == "run_info":
            out[name] = frame.assign(
                value=[crs if key == "crs" else value for key, value in
                       zip(frame["key"], frame["value"], strict=True)]
            )  # fmt: skip
        else:
            out[name] = frame
    return out


def _options(driver: str, crs: str) -> dict[str, str]:
    if driver != "GeoJSON":
        return {}
    import pyproj

    geographic = pyproj.CRS.from_user_input(crs).is_geographic
    return {"COORDINATE_PRECISION": "7" if geographic else "2", "WRITE_NAME": "YES"}


def _write_layer(frame: gpd.GeoDataFrame, path: Path, name: str, found: Format, crs: str) -> None:
    if name == "demand" and not frame.empty:
        frame = frame.set_geometry(_multi(frame.geometry))
    if found.driver == "":
        frame.to_parquet(path, index=False, geometry_encoding="WKB", schema_version="1.0.0")
        return
    known = GEOMETRY_TYPES.get(name)
    kind = {"geometry_type": known} if frame.empty and known else {}
    if frame.empty and name == "demand":
        kind = {"geometry_type": "MultiPolygon"}
    pyogrio.write_dataframe(
        frame, path, layer=name, driver=found.driver, layer_options=_options(found.driver, crs),
        **kind,
    )  # fmt: skip


def _multi(shapes: gpd.GeoSeries) -> gpd.GeoSeries:
    """Polygons as one-part MultiPolygons (a FlatGeobuf layer has one geometry type)."""
    import shapely

    if not shapes.geom_type.isin(["Polygon"]).any():
        return shapes
    values = [
        shapely.multipolygons([g]) if g is not None and g.geom_type == "Polygon" else g
        for g in shapes
    ]
    return gpd.GeoSeries(values, index=shapes.index, crs=shapes.crs)


@contextlib.contextmanager
def _all_or_none(paths: list[Path], *, overwrite: bool, kind: str) -> Iterator[list[Path]]:
    """Temporary names for ``paths``, each published only when the block completes."""
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(
                atomic_path(path, overwrite=overwrite, kind=kind, errors=_WRITE_ERRORS)
            )
            for path in paths
        ]


def write_run(
    result: RankResult | PublishedRun,
    path: str | Path,
    *,
    crs: int | str | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``result``'s layers to ``path`` in the format its extension names (see the
    module's description), in ``crs``; return the files written.

    Parameters
    ----------
    result
        A ranking run, or what it published.
    path
        ``.gpkg`` (with a ``.qgs`` project beside it), ``.geojson``, ``.fgb`` or ``.parquet``
        (one file per layer beside it: ``NAME.LAYER.EXT``).
    crs
        An EPSG code to reproject to (default: EPSG:27700, British National Grid).
    overwrite
        Replace existing files.

    Raises
    ------
    OutputError
        If the name, a file or the folder is refused (before any work), the EPSG code is
        unknown, or a file cannot be written (then no file is left).
    """
    from sitefinder.export import layers, write_layers
    from sitefinder.outputs.qgis import project_text

    target = Path(path)
    files = output_files(target, overwrite=overwrite)
    system = crs_of(crs)
    run = published(result)
    frames = reprojected(layers(run), system)
    found = output_format(target)
    if found.layers:
        gpkg, project = files
        write_layers(frames, gpkg, overwrite=overwrite, label_top=run.facts.top)
        text = project_text(run, gpkg, frames=frames, crs=system)
        with atomic_path(project, overwrite=overwrite, kind="QGIS project") as temporary:
            temporary.write_text(text, encoding="utf-8")
        return files
    try:
        with _all_or_none(files, overwrite=overwrite, kind=found.kind) as temporaries:
            for name, temporary in zip(LAYERS, temporaries, strict=True):
                frame = frames[name]
                assert isinstance(frame, gpd.GeoDataFrame)
                _write_layer(frame, temporary, name, found, system)
    except (OSError, *_WRITE_ERRORS) as exc:  # from pyarrow or GDAL, the files removed
        raise OutputError(f"{target}: cannot write the {found.kind}s ({exc})") from None
    return files
