"""A QGIS project (``.qgs``) beside a run's GeoPackage: its layers grouped, in order, styled.

The project names the GeoPackage by a path relative to itself (``./plan.gpkg``), so the two
files can be moved or sent together. Its layer tree has two groups: *The plan* (new bases,
today's bases, candidate schools) above *Children* (assignment lines, switched off: over a
thousand on a real authority, and areas shaded by the maps' measure). Each layer carries the
style stored in the GeoPackage (:mod:`sitefinder.styles`: the colours, symbols and classes of
the PNG map). The project's coordinate system is the layers'. Written as QGIS 3.22 LTR writes
its projects (the subset it needs to open one), with :mod:`xml.etree.ElementTree`, so names are
escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sitefinder.published import PublishedRun
from sitefinder.styles import DOCTYPE, layer_qml

QGIS_VERSION = "3.22.16-Białowieża"
GROUPS: tuple[tuple[str, tuple[tuple[str, str, bool], ...]], ...] = (
    (
        "The plan",
        (
            ("planned_bases", "New bases in the plan", True),
            ("programme_bases", "The programme's new bases, by year", True),
            ("existing_bases", "Existing bases", True),
            ("candidates", "Candidate schools", True),
        ),
    ),
    (
        "Children",
        (
            ("assignments", "Assignment lines (area to base)", False),
            ("demand", "Areas", True),
        ),
    ),
)
"""The layer tree, top to bottom (the top drawn last): group name, then each layer's name in
the GeoPackage, its name in QGIS and whether it is switched on."""

_GEOMETRY = {"candidates": "Point", "existing_bases": "Point", "planned_bases": "Point",
             "programme_bases": "Point", "assignments": "Line", "demand": "Polygon"}  # fmt: skip
_WKB_TYPE = {"Point": "Point", "Line": "LineString", "Polygon": "MultiPolygon"}


def _layer_id(name: str) -> str:
    return f"sitefinder_{name}"


def _spatial_reference(parent: ET.Element, crs: str) -> None:
    """QGIS's ``<spatialrefsys>`` for an ``EPSG:code``, with the WKT QGIS reads first."""
    import pyproj

    system = pyproj.CRS.from_user_input(crs)
    reference = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    ET.SubElement(reference, "wkt").text = system.to_wkt()
    code = crs.split(":")[1]
    ET.SubElement(reference, "srsid").text = ""
    ET.SubElement(reference, "srid").text = code
    ET.SubElement(reference, "authid").text = crs
    ET.SubElement(reference, "description").text = system.name
    ET.SubElement(reference, "projectionacronym").text = ""
    ET.SubElement(reference, "ellipsoidacronym").text = ""
    ET.SubElement(reference, "geographicflag").text = "true" if system.is_geographic else "false"


def _maplayer(parent: ET.Element, name: str, title: str, source: str, crs: str,
              qml: str) -> None:  # fmt: skip
    layer = ET.SubElement(
        parent, "maplayer", type="vector", geometry=_GEOMETRY[name],
        wkbType=_WKB_TYPE[_GEOMETRY[name]], hasScaleBasedVisibilityFlag="0",
        styleCategories="AllStyleCategories",
    )  # fmt: skip
    ET.SubElement(layer, "id").text = _layer_id(name)
    ET.SubElement(layer, "datasource").text = f"{source}|layername={name}"
    ET.SubElement(layer, "layername").text = title
    _spatial_reference(ET.SubElement(layer, "srs"), crs)
    ET.SubElement(layer, "provider", encoding="UTF-8").text = "ogr"
    style = ET.fromstring(qml.split("\n", 1)[1])  # the QML without its DOCTYPE
    layer.set("labelsEnabled", style.get("labelsEnabled", "0"))
    for child in style:
        if child.tag != "layerGeometryType":
            layer.append(child)


def project_text(
    run: PublishedRun, gpkg: Path, *, frames: Mapping[str, pd.DataFrame], crs: str
) -> str:
    """The ``.qgs`` text of a project opening ``gpkg`` (written beside it) styled.

    Parameters
    ----------
    run
        The run the GeoPackage holds (its name is the project's title).
    gpkg
        The GeoPackage; the project names it relative to itself.
    frames
        The layers as written (their styles are drawn from them).
    crs
        The layers' coordinate system (``EPSG:code``), the project's too.
    """
    source = f"./{gpkg.name}"
    root = ET.Element("qgis", projectname=run.facts.scenario_name, version=QGIS_VERSION)
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = run.facts.scenario_name
    _spatial_reference(ET.SubElement(root, "projectCrs"), crs)
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    order = []
    for group, members in GROUPS:
        node = ET.SubElement(
            tree, "layer-tree-group", name=group, checked="Qt::Checked", expanded="1"
        )
        ET.SubElement(node, "customproperties")
        for name, title, on in members:
            ET.SubElement(
                node, "layer-tree-layer", id=_layer_id(name), name=title,
                source=f"{source}|layername={name}", providerKey="ogr",
                checked="Qt::Checked" if on else "Qt::Unchecked", expanded="1",
            )  # fmt: skip
            order.append(name)
    custom = ET.SubElement(tree, "custom-order", enabled="0")
    for name in order:
        ET.SubElement(custom, "item").text = _layer_id(name)
    layers = ET.SubElement(root, "projectlayers")
    for group, members in GROUPS:
        del group
        for name, title, _ in members:
            qml = layer_qml(
                name, frames[name], label_top=run.facts.top, by_phase=frames.get("demand_by_phase")
            )
            _maplayer(layers, name, title, source, crs, qml)
    properties = ET.SubElement(root, "properties")
    paths = ET.SubElement(properties, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    systems = ET.SubElement(properties, "SpatialRefSys")  # QGIS reads projectCrs only with it
    ET.SubElement(systems, "ProjectionsEnabled", type="int").text = "1"
    ET.indent(root, space=" ")
    return DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"
