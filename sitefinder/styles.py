"""Default QGIS styles for the GeoPackage, stored in its ``layer_styles`` table.

QGIS keeps the styles of GeoPackage layers in a table named ``layer_styles`` and, when a layer
is added, applies the row with ``useAsDefault = 1`` for it. :func:`add_layer_styles` creates that
table exactly as QGIS does (the schema GDAL gives it, registered in ``gpkg_contents`` as
``attributes`` with a ``gpkg_ogr_contents`` row kept up to date by the same triggers GDAL adds)
and inserts one default style per spatial layer. Every colour, symbol and class comes from
:mod:`sitefinder.render.cartography`, so the layers look as they do on the PNG map and the
report's interactive map:

- ``candidates``: points categorised as in the plan / eligible host / not eligible, the top
  ranked schools labelled ``#rank name``;
- ``existing_bases``: blue squares;
- ``planned_bases``: large purple stars labelled with ``base_name``;
- ``programme_bases``: the same stars, labelled with the school's name and the year its base
  opens;
- ``demand``: areas shaded by the map's measure (the mean journey of every child, fallback
  journeys included; the share without a base place under the flat fallback), in the map's
  classes, with areas without children and areas without a figure (withheld) drawn grey as
  on the map: a rule-based renderer, one rule per class;
- ``assignments``: hairlines (0.1 mm), 75% transparent, coloured by ``kind`` (existing or new
  base), so that on a real authority (1,117 lines in Trafford) the areas and sites beneath
  stay readable.

The QML is built with :mod:`xml.etree.ElementTree`, so names and expressions are escaped, and
depends only on the layers' contents: the same run gives the same styles. ``update_time`` is
left to the column's default (the time the styles were written), as QGIS does; the file records
its creation time anyway (``run_info.created_utc`` and ``gpkg_contents.last_change``).
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import pandas as pd

from sitefinder.render import cartography as carto
from sitefinder.render.cartography import Mark, Measure, Range

TABLE = "layer_styles"
QGIS_VERSION = "3.28"
DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"

CREATE_TABLE = f"""
CREATE TABLE "{TABLE}" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "f_table_catalog" TEXT(256),
    "f_table_schema" TEXT(256),
    "f_table_name" TEXT(256),
    "f_geometry_column" TEXT(256),
    "styleName" TEXT(30),
    "styleQML" TEXT,
    "styleSLD" TEXT,
    "useAsDefault" BOOLEAN,
    "description" TEXT,
    "owner" TEXT(30),
    "ui" TEXT(30),
    "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""
_COUNT_TRIGGERS = [
    f'CREATE TRIGGER "trigger_insert_feature_count_{TABLE}" AFTER INSERT ON "{TABLE}" BEGIN '
    "UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 "
    f"WHERE lower(table_name) = lower('{TABLE}'); END",
    f'CREATE TRIGGER "trigger_delete_feature_count_{TABLE}" AFTER DELETE ON "{TABLE}" BEGIN '
    "UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 "
    f"WHERE lower(table_name) = lower('{TABLE}'); END",
]
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


# --- QML building blocks ------------------------------------------------------------------------


def _rgba(color: str, alpha: int = 255) -> str:
    """``#rrggbb`` as QGIS's ``r,g,b,a``."""
    value = color.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


def _options(parent: ET.Element, values: Mapping[str, str]) -> ET.Element:
    """Append QGIS's ``<Option type="Map">`` of string options to ``parent``."""
    mapping = ET.SubElement(parent, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(mapping, "Option", type="QString", name=key, value=value)
    return mapping


def _no_data_defined(parent: ET.Element) -> None:
    holder = ET.SubElement(parent, "data_defined_properties")
    mapping = ET.SubElement(holder, "Option", type="Map")
    ET.SubElement(mapping, "Option", type="QString", name="name", value="")
    ET.SubElement(mapping, "Option", name="properties")
    ET.SubElement(mapping, "Option", type="QString", name="type", value="collection")


def _marker(
    name: str, *, color: str, shape: str, size: float, outline: str = "#232323"
) -> ET.Element:
    """A marker symbol of one simple marker layer."""
    return _symbol(
        "marker",
        name,
        "SimpleMarker",
        {
            "angle": "0",
            "color": _rgba(color),
            "horizontal_anchor_point": "1",
            "joinstyle": "bevel",
            "name": shape,
            "offset": "0,0",
            "offset_unit": "MM",
            "outline_color": _rgba(outline),
            "outline_style": "solid",
            "outline_width": "0.3",
            "outline_width_unit": "MM",
            "scale_method": "diameter",
            "size": f"{size:g}",
            "size_unit": "MM",
            "vertical_anchor_point": "1",
        },
    )


def _fill(name: str, *, color: str, outline: str = "#6e6e6e", alpha: int = 255) -> ET.Element:
    """A fill symbol of one simple fill layer."""
    return _symbol(
        "fill",
        name,
        "SimpleFill",
        {
            "color": _rgba(color, alpha),
            "joinstyle": "bevel",
            "offset": "0,0",
            "offset_unit": "MM",
            "outline_color": _rgba(outline),
            "outline_style": "solid",
            "outline_width": "0.2",
            "outline_width_unit": "MM",
            "style": "solid",
        },
    )


def _line(name: str, *, color: str, width: float, alpha: int = 200) -> ET.Element:
    """A line symbol of one simple line layer."""
    return _symbol(
        "line",
        name,
        "SimpleLine",
        {
            "capstyle": "round",
            "customdash": "5;2",
            "customdash_unit": "MM",
            "draw_inside_polygon": "0",
            "joinstyle": "round",
            "line_color": _rgba(color, alpha),
            "line_style": "solid",
            "line_width": f"{width:g}",
            "line_width_unit": "MM",
            "offset": "0",
            "offset_unit": "MM",
            "ring_filter": "0",
            "use_custom_dash": "0",
        },
    )


def _symbol(kind: str, name: str, layer_class: str, properties: Mapping[str, str]) -> ET.Element:
    symbol = ET.Element(
        "symbol",
        type=kind,
        name=name,
        alpha="1",
        clip_to_extent="1",
        force_rhr="0",
        frame_rate="10",
        is_animated="0",
    )
    _no_data_defined(symbol)
    layer = ET.SubElement(symbol, "layer", {"class": layer_class}, enabled="1", locked="0")
    layer.set("pass", "0")
    _options(layer, properties)
    _no_data_defined(layer)
    return symbol


def _renderer(kind: str, **attributes: str) -> ET.Element:
    common = {
        "type": kind,
        "symbollevels": "0",
        "forceraster": "0",
        "enableorderby": "0",
        "referencescale": "-1",
    }
    return ET.Element("renderer-v2", {**common, **attributes})


def _finish_renderer(renderer: ET.Element) -> None:
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")


def _single(symbol: ET.Element) -> ET.Element:
    renderer = _renderer("singleSymbol")
    ET.SubElement(renderer, "symbols").append(symbol)
    _finish_renderer(renderer)
    return renderer


def _categorized(
    attribute: str, categories: Sequence[tuple[str, str, ET.Element]], source: ET.Element
) -> ET.Element:
    """A categorised renderer; ``categories`` are ``(value, label, symbol named by index)``."""
    renderer = _renderer("categorizedSymbol", attr=attribute)
    holder = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for index, (value, label, symbol) in enumerate(categories):
        ET.SubElement(
            holder, "category", symbol=str(index), value=value, label=label, render="true"
        ).set("type", "string")
        symbol.set("name", str(index))
        symbols.append(symbol)
    ET.SubElement(renderer, "source-symbol").append(source)
    _finish_renderer(renderer)
    return renderer


def _key(number: int) -> str:
    """A rule's key: QGIS writes a UUID; any unique text will do, and a fixed one keeps the
    same run's styles the same."""
    return f"{{00000000-0000-4000-8000-{number:012d}}}"


def _rule_based(rules: Sequence[tuple[str, str, ET.Element]]) -> ET.Element:
    """A rule-based renderer; ``rules`` are ``(filter expression, label, symbol)``, each
    feature drawn by every rule it matches (the filters here never overlap)."""
    renderer = _renderer("RuleRenderer")
    holder = ET.SubElement(renderer, "rules", key=_key(0))
    symbols = ET.SubElement(renderer, "symbols")
    for index, (expression, label, symbol) in enumerate(rules):
        ET.SubElement(
            holder, "rule", key=_key(index + 1), filter=expression, label=label,
            symbol=str(index),
        )  # fmt: skip
        symbol.set("name", str(index))
        symbols.append(symbol)
    _finish_renderer(renderer)
    return renderer


def _shape(kind: str, name: str, color: str) -> ET.Element:
    """A symbol of ``kind`` (``fill``, ``marker`` or ``line``) in ``color``."""
    if kind == "fill":
        return _fill(name, color=color, outline=carto.AREA_EDGE)
    if kind == "line":
        return _line(name, color=color, width=0.4)
    return _marker(name, color=color, shape="circle", size=3.0)


def _mark(name: str, mark: Mark) -> ET.Element:
    """A marker symbol drawn as ``mark`` (the maps' symbol of that kind of school)."""
    return _marker(name, color=mark.fill, shape=mark.shape, size=mark.size_mm, outline=mark.edge)


def _labeling(expression: str, *, is_expression: bool, size: float = 9.0) -> ET.Element:
    """Simple labelling with a white buffer, placed around the point or over the line."""
    labeling = ET.Element("labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    style = ET.SubElement(
        settings,
        "text-style",
        fieldName=expression,
        isExpression="1" if is_expression else "0",
        fontFamily="Sans Serif",
        fontSize=f"{size:g}",
        fontSizeUnit="Point",
        fontWeight="75",
        namedStyle="Bold",
        textColor="0,0,0,255",
        textOpacity="1",
        multilineHeight="1",
        allowHtml="0",
    )
    ET.SubElement(
        style,
        "text-buffer",
        bufferDraw="1",
        bufferSize="1",
        bufferSizeUnits="MM",
        bufferColor="255,255,255,255",
        bufferOpacity="1",
        bufferJoinStyle="128",
        bufferNoFill="1",
    )
    ET.SubElement(settings, "text-format", wrapChar="", multilineAlign="3", autoWrapLength="0")
    ET.SubElement(
        settings,
        "placement",
        placement="6",  # cartographic: around the point
        dist="1.5",
        distUnits="MM",
        priority="5",
        overrunDistance="0",
        overrunDistanceUnit="MM",
    )
    ET.SubElement(
        settings,
        "rendering",
        obstacle="1",
        scaleVisibility="0",
        upsidedownLabels="0",
        displayAll="0",
        limitNumLabels="0",
        zIndex="0",
    )
    return labeling


def _document(renderer: ET.Element, labeling: ET.Element | None = None) -> str:
    """The QML of one layer: ``renderer-v2`` plus optional labels."""
    root = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories="Symbology|Labeling",
        labelsEnabled="1" if labeling is not None else "0",
    )
    root.append(renderer)
    if labeling is not None:
        root.append(labeling)
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerGeometryType").text = ""
    ET.indent(root, space=" ")
    return DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


# --- one style per layer ------------------------------------------------------------------------


def _kind(frame: gpd.GeoDataFrame) -> str:
    """Symbol kind for the layer's geometry: ``marker``, ``line`` or ``fill``."""
    types = set(frame.geom_type.dropna())
    if types and types <= {"Polygon", "MultiPolygon"}:
        return "fill"
    if types and types <= {"LineString", "MultiLineString"}:
        return "line"
    return "marker"


def _geometry_type(kind: str) -> str:
    return {"marker": "0", "line": "1", "fill": "2"}[kind]


def candidates_qml(frame: gpd.GeoDataFrame, *, label_top: int = 10) -> str:
    """Schools categorised as in the plan / eligible / not eligible; top ranks labelled."""
    del frame
    status = """CASE WHEN "in_plan" THEN 'in_plan' WHEN "eligible" THEN 'eligible' \
ELSE 'not_eligible' END"""
    renderer = _categorized(
        status,
        [
            ("in_plan", carto.IN_PLAN.label, _mark("", carto.IN_PLAN)),
            ("eligible", "Eligible host", _mark("", carto.ELIGIBLE)),
            ("not_eligible", carto.NOT_ELIGIBLE.label, _mark("", carto.NOT_ELIGIBLE)),
        ],
        _mark("0", carto.ELIGIBLE),
    )
    label = (
        f"""CASE WHEN "rank" IS NOT NULL AND "rank" <= {int(label_top)} """
        """THEN concat('#', to_int("rank"), ' ', "name") END"""
    )
    return _with_type(_document(renderer, _labeling(label, is_expression=True)), "marker")


def existing_bases_qml(frame: gpd.GeoDataFrame) -> str:
    """Today's bases as the maps draw them (squares)."""
    del frame
    return _with_type(_document(_single(_mark("0", carto.EXISTING))), "marker")


def planned_bases_qml(frame: gpd.GeoDataFrame) -> str:
    """The plan's new bases as the maps draw them (large stars), labelled with their name."""
    del frame
    labels = _labeling("base_name", is_expression=False, size=10.0)
    return _with_type(_document(_single(_mark("0", carto.NEW)), labels), "marker")


def programme_bases_qml(frame: gpd.GeoDataFrame) -> str:
    """The programme's new bases as stars, labelled ``name (opens YEAR)``."""
    del frame
    labels = _labeling(
        "\"name\" || ' (opens ' || to_string(to_int(\"year\")) || ')'", is_expression=True
    )
    return _with_type(_document(_single(_mark("0", carto.NEW)), labels), "marker")


def _number(values: pd.Series) -> list[float]:
    return [float(v) for v in pd.to_numeric(values, errors="coerce")]


def demand_measure(frame: pd.DataFrame) -> Measure:
    """The measure the ``demand`` layer is shaded by: the maps' default
    (:func:`sitefinder.render.cartography.default_measure`)."""
    if not {"children", "unmet_after", "fallback_minutes"} <= set(frame.columns):
        return carto.JOURNEY_PLACED
    return carto.default_measure(
        _number(frame["children"]), _number(frame["unmet_after"]),
        _number(frame["fallback_minutes"]),
    )  # fmt: skip


def demand_ranges(
    frame: pd.DataFrame, measure: Measure | None = None, *, by_phase: pd.DataFrame | None = None
) -> list[Range]:
    """The classes of ``measure`` (default :func:`demand_measure`) for the layer's values and
    those of the ``demand_by_phase`` table (``by_phase``), as the maps draw them
    (:func:`sitefinder.render.staticmap.class_values`); empty when the layer has no such
    column."""
    item = measure or demand_measure(frame)
    if item.key not in frame.columns:
        return []
    values = _number(frame[item.key])
    if by_phase is not None and item.key in by_phase.columns:
        values += _number(by_phase[item.key])
    return carto.classes(item, values)


def _quoted_field(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def demand_qml(frame: gpd.GeoDataFrame, *, by_phase: pd.DataFrame | None = None) -> str:
    """Areas shaded as on the maps: no children, each class of the measure, no figure (the
    classes drawn from the layer's values and ``by_phase``'s, the ``demand_by_phase`` table)."""
    kind = _kind(frame)
    item = demand_measure(frame)
    ranges = demand_ranges(frame, item, by_phase=by_phase)
    if not ranges:
        return _with_type(_document(_single(_shape(kind, "0", carto.NO_VALUE))), kind)
    field = _quoted_field(item.key)
    # A withheld count of children is NULL in the file, and above 0.
    children = '("children" IS NULL OR "children" > 0)' if "children" in frame.columns else "TRUE"
    rules = []
    if "children" in frame.columns:
        rules.append(('"children" IS NOT NULL AND "children" <= 0', "No children needing a place",
                      _shape(kind, "", carto.NO_CHILDREN)))  # fmt: skip
    for index, item_range in enumerate(ranges):
        above = ">=" if index == 0 else ">"
        expression = (
            f"{children} AND {field} {above} {item_range.lower:.15g}"
            f" AND {field} <= {item_range.upper:.15g}"
        )
        rules.append((expression, item_range.label, _shape(kind, "", item_range.color)))
    rules.append((
        f"{children} AND ({field} IS NULL OR {field} > {ranges[-1].upper:.15g})",
        "No figure (withheld, or no child placed)", _shape(kind, "", carto.NO_VALUE),
    ))  # fmt: skip
    return _with_type(_document(_rule_based(rules)), kind)


def assignments_qml(frame: gpd.GeoDataFrame) -> str:
    """Hairlines from each area to its base, coloured by the kind of base, mostly transparent.

    Drawn above the areas, they must not hide them: 0.1 mm wide at 25% opacity.
    """
    del frame
    renderer = _categorized(
        "kind",
        [
            ("existing", "To an existing base",
             _line("", color=carto.LINE_EXISTING, width=0.1, alpha=64)),
            ("new", "To a new base", _line("", color=carto.LINE_NEW, width=0.1, alpha=64)),
        ],
        _line("0", color="#636363", width=0.1, alpha=64),
    )  # fmt: skip
    return _with_type(_document(renderer), "line")


def _with_type(qml: str, kind: str) -> str:
    return qml.replace(
        "<layerGeometryType />", f"<layerGeometryType>{_geometry_type(kind)}</layerGeometryType>"
    )


_BUILDERS = {
    "existing_bases": existing_bases_qml,
    "planned_bases": planned_bases_qml,
    "programme_bases": programme_bases_qml,
    "demand": demand_qml,
    "assignments": assignments_qml,
}


def layer_qml(
    name: str,
    frame: gpd.GeoDataFrame,
    *,
    label_top: int = 10,
    by_phase: pd.DataFrame | None = None,
) -> str:
    """The default QML of layer ``name``; a plain single-symbol style for other layers
    (``by_phase``: the ``demand_by_phase`` table, whose values the areas' classes hold too)."""
    if name == "candidates":
        return candidates_qml(frame, label_top=label_top)
    if name == "demand":
        return demand_qml(frame, by_phase=by_phase)
    if name in _BUILDERS:
        return _BUILDERS[name](frame)
    kind = _kind(frame)
    return _with_type(_document(_single(_shape(kind, "0", "#3182bd"))), kind)


# --- the table ----------------------------------------------------------------------------------


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return connection.execute(query, (name,)).fetchone() is not None


def add_layer_styles(
    path: str | Path, layers: Mapping[str, pd.DataFrame], *, label_top: int = 10
) -> int:
    """Create ``layer_styles`` in the GeoPackage at ``path`` with a default style per layer.

    Parameters
    ----------
    path
        A GeoPackage already holding the layers (written by GDAL).
    layers
        The layers written, by name; GeoDataFrames get a style, plain tables are skipped.
    label_top
        Candidates ranked up to this are labelled.

    Returns
    -------
    int
        Number of styles inserted.

    Raises
    ------
    sqlite3.Error
        If the file cannot be updated (the transaction is rolled back).
    """
    with closing(sqlite3.connect(path)) as connection, connection:
        geometry_column = dict(
            connection.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
        )
        if _has_table(connection, TABLE):
            connection.execute(f'DELETE FROM "{TABLE}" WHERE "useAsDefault"')
        else:
            connection.execute(CREATE_TABLE)
            connection.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                f"last_change, srs_id) VALUES (?, 'attributes', ?, '', {_NOW}, 0)",
                (TABLE, TABLE),
            )
            if _has_table(connection, "gpkg_ogr_contents"):  # GDAL's feature counts
                connection.execute(
                    "INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?, 0)",
                    (TABLE,),
                )
                for trigger in _COUNT_TRIGGERS:
                    connection.execute(trigger)
        rows = [
            (
                "",
                "",
                name,
                geometry_column.get(name, "geom"),
                name,
                layer_qml(name, frame, label_top=label_top, by_phase=layers.get("demand_by_phase")),
                "",
                1,
                "sitefinder default style",
                "",
                None,
            )
            for name, frame in layers.items()
            if isinstance(frame, gpd.GeoDataFrame)
        ]
        connection.executemany(
            f'INSERT INTO "{TABLE}" ("f_table_catalog", "f_table_schema", "f_table_name", '
            '"f_geometry_column", "styleName", "styleQML", "styleSLD", "useAsDefault", '
            '"description", "owner", "ui") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            rows,
        )
    return len(rows)
