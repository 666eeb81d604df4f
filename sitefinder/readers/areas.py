"""Small areas (LSOAs) from boundary polygons, each represented by one point.

Polygons are kept as MultiPolygons (:func:`multipolygons`): files that mix Polygon and
MultiPolygon features, as most downloads do, are read like any other.

Journeys start from one point per area. With a postcode lookup that names each postcode's area,
the point is the mean of the area's postcode points, a good stand-in for where its people live
(population-weighted); otherwise it is a point guaranteed inside the polygon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from sitefinder.authorities import Authority, authority_rows
from sitefinder.config import BoundariesInput
from sitefinder.readers.population_bands import layer_cut
from sitefinder.readers.postcodes import PostcodeLookup
from sitefinder.readers.tables import read_vector
from sitefinder.validate import Problems

if TYPE_CHECKING:  # imported where polygons are read: geopandas is slow to import
    import geopandas as gpd


def read_boundaries(
    spec: BoundariesInput,
    problems: Problems,
    *,
    authority: Authority | None = None,
    notes: list[str] | None = None,
    postcodes: PostcodeLookup | None = None,
) -> gpd.GeoDataFrame | None:
    """Read area polygons as ``area_code, area_name, geometry`` in EPSG:27700.

    With ``authority``, only its areas are kept: by a local authority district code column
    (``LAD21CD``), else by the area names (``Trafford 025A``), else by the areas its postcodes
    lie in (``postcodes`` cut to the authority and naming each postcode's area).
    """
    import geopandas as gpd

    cut = layer_cut(spec.path, spec.layer, authority)
    frame = read_vector(
        spec.path, problems, layer=spec.layer, hint="inputs.boundaries",
        where=(cut.where, cut.none_kept) if cut else None,
    )  # fmt: skip
    if frame is None:
        return None
    if cut is not None and notes is not None:
        notes.append(cut.note(spec.path, len(frame)))
    if authority is not None:
        known = (
            frozenset(postcodes.table["area_code"]) - {""} if postcodes is not None else frozenset()
        )
        codes = (
            frame[spec.code_column].astype(str).str.strip() if spec.code_column in frame else None
        )
        mask = authority_rows(
            frame, authority, path=spec.path, problems=problems,
            notes=notes if notes is not None else [], areas=known, area_codes=codes,
        )  # fmt: skip
        if mask is None:
            return None
        frame = frame[mask]
    wanted = [spec.code_column] + ([spec.name_column] if spec.name_column else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        problems.add(
            spec.path,
            f"missing column {', '.join(missing)} (set inputs.boundaries.code_column and"
            f" name_column; the file has: {', '.join(map(str, frame.columns.drop('geometry')))})",
        )
        return None
    codes = frame[spec.code_column].astype(str).str.strip()
    names = frame[spec.name_column].astype(str).str.strip() if spec.name_column else codes
    out = gpd.GeoDataFrame(
        {"area_code": codes, "area_name": names}, geometry=multipolygons(frame.geometry),
        crs=frame.crs,
    ).to_crs(27700)  # fmt: skip
    problems.unique(spec.path, out, "area_code")
    return out


def multipolygons(shapes: gpd.GeoSeries) -> gpd.GeoSeries:
    """Every Polygon as a one-part MultiPolygon: real downloads mix the two (an area split by
    a river or an estuary is a MultiPolygon), and one geometry type serves every output."""
    import geopandas as gpd
    import shapely

    values = shapes.to_numpy()
    single = shapely.get_type_id(values) == 3  # Polygon
    if single.any():
        values = values.copy()
        values[single] = [shapely.multipolygons([shape]) for shape in values[single]]
    return gpd.GeoSeries(values, index=shapes.index, crs=shapes.crs)


def area_points(
    boundaries: gpd.GeoDataFrame, postcodes: PostcodeLookup | None
) -> tuple[pd.DataFrame, str]:
    """One point per area, and a sentence saying how the points were placed.

    The mean of the area's postcodes (by the lookup's area codes, or, when it names none, by
    the polygon each postcode lies in), else a point inside the polygon.
    """
    inside = boundaries.geometry.representative_point()
    areas = pd.DataFrame(
        {
            "area_code": boundaries["area_code"].to_numpy(),
            "area_name": boundaries["area_name"].to_numpy(),
            "easting": inside.x.to_numpy(),
            "northing": inside.y.to_numpy(),
        }
    )
    if postcodes is None or postcodes.table.empty:
        return areas, "area points are points inside each polygon (no postcode lookup)"
    if postcodes.has_areas:
        means = postcodes.table.groupby("area_code")[["easting", "northing"]].mean()
        how = "the mean of each area's postcodes"
    else:
        import geopandas as gpd

        points = gpd.GeoDataFrame(
            postcodes.table[["easting", "northing"]].reset_index(drop=True),
            geometry=gpd.points_from_xy(postcodes.table["easting"], postcodes.table["northing"]),
            crs=27700,
        )
        joined = points.sjoin(boundaries[["area_code", "geometry"]], predicate="within")
        means = joined.groupby("area_code")[["easting", "northing"]].mean()
        how = "the mean of the postcodes inside each area's polygon"
    found = areas["area_code"].isin(means.index)
    areas.loc[found, ["easting", "northing"]] = means.loc[
        areas.loc[found, "area_code"], ["easting", "northing"]
    ].to_numpy()
    return areas, (
        f"area points are {how} for {int(found.sum())} of {len(areas)} areas (the rest: a"
        " point inside the polygon)"
    )
