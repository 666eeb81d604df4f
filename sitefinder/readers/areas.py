"""Small areas (LSOAs) from boundary polygons, each represented by one point.

Journeys start from one point per area. With a postcode lookup that names each postcode's area,
the point is the mean of the area's postcode points, a good stand-in for where its people live
(population-weighted); otherwise it is a point guaranteed inside the polygon.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from sitefinder.config import BoundariesInput
from sitefinder.readers.postcodes import PostcodeLookup
from sitefinder.readers.tables import read_vector
from sitefinder.validate import Problems


def read_boundaries(spec: BoundariesInput, problems: Problems) -> gpd.GeoDataFrame | None:
    """Read area polygons as ``area_code, area_name, geometry`` in EPSG:27700."""
    frame = read_vector(spec.path, problems, layer=spec.layer, hint="inputs.boundaries")
    if frame is None:
        return None
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
        {"area_code": codes, "area_name": names}, geometry=frame.geometry, crs=frame.crs
    ).to_crs(27700)
    problems.unique(spec.path, out, "area_code")
    return out


def area_points(
    boundaries: gpd.GeoDataFrame, postcodes: PostcodeLookup | None
) -> tuple[pd.DataFrame, str]:
    """One point per area, and a sentence saying how the points were placed."""
    inside = boundaries.geometry.representative_point()
    areas = pd.DataFrame(
        {
            "area_code": boundaries["area_code"].to_numpy(),
            "area_name": boundaries["area_name"].to_numpy(),
            "easting": inside.x.to_numpy(),
            "northing": inside.y.to_numpy(),
        }
    )
    if postcodes is None or not postcodes.has_areas:
        return areas, "area points are points inside each polygon (no postcode lookup with areas)"
    means = postcodes.table.groupby("area_code")[["easting", "northing"]].mean()
    found = areas["area_code"].isin(means.index)
    areas.loc[found, ["easting", "northing"]] = means.loc[
        areas.loc[found, "area_code"], ["easting", "northing"]
    ].to_numpy()
    return areas, (
        f"area points are the mean of each area's postcodes for {int(found.sum())} of"
        f" {len(areas)} areas (the rest: a point inside the polygon)"
    )
