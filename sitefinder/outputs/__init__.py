"""A run's layers for GIS: the open format an ``--output`` name asks for (GeoPackage with a
QGIS project beside it, GeoJSON, FlatGeobuf or GeoParquet), in any coordinate system."""

from __future__ import annotations

from sitefinder.outputs.formats import FORMATS, output_files, write_run

__all__ = ["FORMATS", "output_files", "write_run"]
