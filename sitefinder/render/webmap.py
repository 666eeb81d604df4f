"""The report's interactive map: inline SVG and a small hand-written script, fully offline.

No tiles, no libraries, no network: :func:`webmap` draws the areas (polygons simplified to
:data:`TOLERANCE` metres and written in whole units of :data:`UNIT` metres, so Trafford's map
is tens of kilobytes) and the schools as SVG, and gathers what a click shows as JSON: each
area's children, journeys, the bases its children are placed in and where its children
without a base place go; each school's figures and a summary of why it is, or is not, in the
plan. ``webmap.js`` (beside the report's templates) pans and zooms the SVG, shades the areas
by the measure chosen (:data:`sitefinder.render.cartography.MEASURES`, in the classes and
colours of the PNG map and the QGIS styles) and shows what was clicked. Every figure is the
published one (disclosure-controlled, as the report's tables), written as the report writes
it; the page builds the panels from text, never from HTML, so a name cannot inject markup.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from sitefinder.columns import AREAS, ASSIGNMENTS, FALLBACK, PLAN, RANKING, Column, text_value
from sitefinder.disclosure import Withheld
from sitefinder.published import PublishedRun, is_missing, positive
from sitefinder.render import cartography as carto
from sitefinder.render.cartography import Mark

UNIT = 10.0
"""Metres per SVG unit: coordinates are written as whole units."""
TOLERANCE = 15.0
"""Polygons are simplified to this many metres (topology kept): finer than a pixel of the map
at its usual size, and far smaller than an area."""
_PAD = 0.03  # of the larger side, around what is drawn
_PIXELS_PER_MM = 3.8  # a mark's size on screen: its size on the A4 map, a little larger

_AREA = {c.key: c for c in AREAS}
_PLAN = {c.key: c for c in PLAN}
_RANKING = {c.key: c for c in RANKING}
_FALLBACK = {c.key: c for c in FALLBACK}
_LINES = {c.key: c for c in ASSIGNMENTS}
_GOES = {
    "special": "special school",
    "independent": "independent special school",
    "non_maintained": "non-maintained special school",
    "base_cross_border": "base across the border",
    "out_of_authority": "out of authority",
    "flat": "no journey (flat fallback)",
}


@dataclass(frozen=True)
class WebMap:
    """The interactive map, ready for the report's template.

    Attributes
    ----------
    svg
        The SVG element (areas and schools), escaped.
    data
        What the script reads (measures, classes, each area's and school's panel), as JSON
        safe inside a ``<script type="application/json">`` element.
    measures
        ``(key, name)`` of each measure, the default first (the chooser's options).
    legend
        The default measure's classes as ``(colour, label)`` (drawn before the script runs).
    """

    svg: str
    data: str
    measures: list[tuple[str, str]]
    legend: list[tuple[str, str]]


class _Frame:
    """EPSG:27700 metres to SVG units: x east, y down, origin at the top left."""

    def __init__(self, extents: Sequence[tuple[float, float, float, float]]) -> None:
        box = np.asarray(extents, dtype=float) if extents else np.zeros((1, 4))
        x0, y0 = float(np.nanmin(box[:, 0])), float(np.nanmin(box[:, 1]))
        x1, y1 = float(np.nanmax(box[:, 2])), float(np.nanmax(box[:, 3]))
        pad = _PAD * max(x1 - x0, y1 - y0, 1000.0)
        self.west, self.north = x0 - pad, y1 + pad
        self.width = math.ceil((x1 - x0 + 2 * pad) / UNIT)
        self.height = math.ceil((y1 - y0 + 2 * pad) / UNIT)

    def xy(self, x: float, y: float) -> tuple[int, int]:
        return round((x - self.west) / UNIT), round((self.north - y) / UNIT)

    def path(self, shape: BaseGeometry) -> str:
        """SVG path data of a (multi)polygon, each ring closed; repeated points dropped."""
        parts = []
        for polygon in shapely.get_parts(shape):
            if polygon.geom_type != "Polygon" or polygon.is_empty:
                continue
            for ring in (polygon.exterior, *polygon.interiors):
                points = [self.xy(x, y) for x, y in np.asarray(ring.coords)[:, :2]]
                kept = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
                if len(kept) >= 4:
                    parts.append("M" + "L".join(f"{x} {y}" for x, y in kept[:-1]) + "Z")
        return "".join(parts)


def _text(value: object, column: Column | None = None) -> str:
    if column is not None:
        return text_value(value, column)
    if isinstance(value, Withheld):
        return str(value)
    if isinstance(value, float | np.floating) and not is_missing(value):
        return f"{float(value):g}" if float(value).is_integer() else f"{float(value):.1f}"
    return "" if is_missing(value) else str(value)


def _number(value: object) -> float | None:
    """A figure for the script's colours: None when withheld or missing."""
    if isinstance(value, Withheld | str) or is_missing(value):
        return None
    number = float(value)  # type: ignore[arg-type]
    return round(number, 4) if math.isfinite(number) else None


def _rows(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    return [[label, text] for label, text in pairs if text != ""]


def _sum(values: Sequence[object], column: Column) -> str:
    """The total of published figures, or ``c`` when one of them is withheld."""
    if any(isinstance(v, Withheld) for v in values):
        return str(Withheld(column.kind, 0, small=False))
    total = sum(_number(v) or 0.0 for v in values)
    return text_value(total, column)


# --- areas --------------------------------------------------------------------------------------


def _area_panels(run: PublishedRun) -> list[dict[str, Any]]:
    """What a click on each area shows, in the demand table's order."""
    areas = run["demand"].reset_index(drop=True)
    lines = run["assignments"]
    sites = pd.concat(
        [
            run["existing_bases"].assign(kind="existing"),
            run["planned_bases"].assign(kind="new"),
        ],
        ignore_index=True,
    ).set_index("site")
    fallback = run["fallback"]
    fallback = fallback[fallback["network"] == "plan"]
    placed = dict(list(lines.groupby("area_code", sort=False)))
    unplaced = dict(list(fallback.groupby("area_code", sort=False)))
    panels = []
    for row in areas.to_dict("records"):
        code = str(row["area_code"])
        name = str(row.get("area_name") or code)
        figures = _rows(
            (label, _text(row.get(key), _AREA[key]) + unit)
            for key, label, unit in (
                ("children", "Children needing a base place", ""),
                ("unmet_after", "Without a base place, after the plan", ""),
                ("unplaced_share_after", "Share without a base place", ""),
                ("mean_minutes_all_after", "Mean journey, every child", " min"),
                ("mean_minutes_after", "Mean journey, children placed in a base", " min"),
                ("fallback_minutes", "Mean fallback journey (without a base place)", " min"),
                ("unmet_before", "Without a base place, today", ""),
                ("mean_minutes_before", "Mean journey today, children placed", " min"),
                ("newly_placed", "Newly placed by the plan", ""),
                ("harm_averted", "Harm averted (harm points)", ""),
            )
            if key in row
        )  # fmt: skip
        bases = []
        for site, part in (placed.get(code, pd.DataFrame()).groupby("site", sort=False)
                           if code in placed else []):  # fmt: skip
            where = sites.loc[site] if site in sites.index else None
            label = (
                f"{where['school_name']} ({'new base' if where['kind'] == 'new' else 'base'})"
                if where is not None
                else str(site)
            )
            bases.append([
                label, _sum(list(part["children"]), _LINES["children"]),
                _text(part["minutes"].iloc[0], _LINES["minutes"]) + " min",
            ])  # fmt: skip
        goes = []
        if code in unplaced:
            frame = unplaced[code].assign(
                where=[
                    str(n) if str(n) else _GOES.get(str(k), str(k))
                    for n, k in zip(unplaced[code]["name"], unplaced[code]["kind"], strict=True)
                ]
            )
            for where, part in frame.groupby("where", sort=False):
                kind = _GOES.get(str(part["kind"].iloc[0]), "")
                minutes = _text(part["minutes"].iloc[0], _FALLBACK["minutes"])
                goes.append([
                    f"{where} ({kind})" if str(part["name"].iloc[0]) else str(where),
                    _sum(list(part["children"]), _FALLBACK["children"]),
                    f"{minutes} min" if minutes else "",
                ])  # fmt: skip
        panels.append(
            {"title": f"{name} ({code})" if name != code else code, "rows": figures,
             "bases": bases, "goes": goes}
        )  # fmt: skip
    return panels


# --- schools ------------------------------------------------------------------------------------


def _why(school: dict[str, Any], chosen: list[dict[str, Any]], ranks: list[str]) -> str:
    """Why the school is, or is not, in the plan, in a sentence or two (published facts)."""
    urn = str(school["urn"])
    if chosen:
        parts = [
            f"In the plan: new base N{_text(c['choice'], _PLAN['choice'])},"
            f" {c['phase']}: {c['need_group_label']}, {_text(c['places'], _PLAN['places'])}"
            f" places, averting {_text(c['harm_averted'], _PLAN['harm_averted'])} harm points"
            f" for {_text(c['children_served'], _PLAN['children_served'])} children served."
            for c in chosen
        ]
        return " ".join(parts)
    if not bool(school.get("eligible")):
        notes = _text(school.get("notes")) or "not eligible under the scenario's rules"
        return f"Not a candidate: {notes}."
    reason = _text(school.get("left_out_reason"))
    if reason:
        rank = f" It ranks {', '.join(ranks)} in the greedy build order." if ranks else ""
        return f"Left out of the plan: {reason}.{rank}"
    if ranks:
        return (
            f"Eligible, ranked {', '.join(ranks)} in the greedy build order, but not in the"
            " plan: the plan's bases avert more harm together."
        )
    return (
        "Eligible, but not among the strongest options: a base here would avert less harm than"
        f" the plan's. sitefinder why {urn} says what would have to change."
    )


def _school_panels(run: PublishedRun) -> list[dict[str, Any]]:
    """Every school of the candidates layer, with what a click on it shows."""
    schools = run["candidates"].reset_index(drop=True)
    chosen = run["plan_chosen"]
    plan_rows = {
        str(urn): [r for r in chosen.to_dict("records") if str(r["urn"]) == str(urn)]
        for urn in chosen.get("urn", [])
    }
    ranking = run["ranking"]
    ranks: dict[str, list[str]] = {}
    rank_rows: dict[str, list[dict[str, Any]]] = {}
    for row in ranking.to_dict("records"):
        ranks.setdefault(str(row["urn"]), []).append(_text(row["rank"], _RANKING["rank"]))
        rank_rows.setdefault(str(row["urn"]), []).append(row)
    existing = {str(r["urn"]): r for r in run["existing_bases"].to_dict("records")}
    panels = []
    for school in schools.to_dict("records"):
        urn = str(school["urn"])
        mine = plan_rows.get(urn, [])
        rows = [
            ["URN", urn],
            ["Phase", _text(school.get("phase"))],
            ["Pupils / capacity", f"{_text(school.get('pupils'))} / {_text(school.get('capacity'))}"
             if not is_missing(school.get("capacity")) else ""],
            ["Eligible to host", "yes" if bool(school.get("eligible")) else "no"],
        ]  # fmt: skip
        if urn in existing:
            base = existing[urn]
            groups, places = _text(base.get("need_groups")), _text(base.get("capacity"))
            rows.append(
                ["Base today", f"{_text(base.get('base_name'))} ({groups}, {places} places)"]
            )
        for plan in mine:
            rows += [
                ["New base", f"N{_text(plan['choice'], _PLAN['choice'])} {plan['phase']}:"
                             f" {plan['need_group_label']}"],
                ["Harm averted", _text(plan["harm_averted"], _PLAN["harm_averted"])],
                ["Children served", _text(plan["children_served"], _PLAN["children_served"])],
                ["Newly placed", _text(plan["newly_placed"], _PLAN["newly_placed"])],
                ["Minutes before → after",
                 f"{_text(plan['minutes_before'], _PLAN['minutes_before']) or 'none placed'} →"
                 f" {_text(plan['minutes_after'], _PLAN['minutes_after'])}"],
                ["Areas served", _text(plan.get("areas_served"))],
            ]  # fmt: skip
        for row in rank_rows.get(urn, []) if not mine else []:
            rows.append([
                f"Rank {_text(row['rank'], _RANKING['rank'])}",
                f"{row['phase']}: {row['need_group_label']}, harm averted"
                f" {_text(row['harm_averted'], _RANKING['harm_averted'])}",
            ])  # fmt: skip
        caveats = _text(school.get("caveats"))
        if caveats:
            rows.append(["Caveats", caveats])
        panels.append({
            "title": _text(school.get("name")) or urn,
            "rows": _rows((r[0], r[1]) for r in rows),
            "why": _why(school, mine, ranks.get(urn, [])),
        })  # fmt: skip
    return panels


def _mark_of(school: dict[str, Any], new: set[str], existing: set[str]) -> tuple[Mark, int]:
    """The school's symbol and drawing order (the most important drawn last, on top)."""
    urn = str(school["urn"])
    if urn in new:
        return carto.NEW, 4
    if urn in existing:
        return carto.EXISTING, 3
    if bool(school.get("in_plan")):
        return carto.IN_PLAN, 3
    if bool(school.get("eligible")):
        return carto.ELIGIBLE, 2
    return carto.NOT_ELIGIBLE, 1


_SYMBOLS = {
    "circle": '<circle r="0.5"/>',
    "square": '<rect x="-0.45" y="-0.45" width="0.9" height="0.9"/>',
    "star": '<path d="M0 -0.62L0.146 -0.2L0.59 -0.19L0.236 0.077L0.365 0.5L0 0.25L-0.365 0.5'
    'L-0.236 0.077L-0.59 -0.19L-0.146 -0.2Z"/>',
}


def _symbol_defs() -> str:
    out = []
    for name, mark in (("existing", carto.EXISTING), ("new", carto.NEW),
                       ("in_plan", carto.IN_PLAN), ("eligible", carto.ELIGIBLE),
                       ("not_eligible", carto.NOT_ELIGIBLE)):  # fmt: skip
        shape = _SYMBOLS[mark.shape]
        out.append(
            f'<g id="wm-{name}" fill="{mark.fill}" stroke="{mark.edge}" stroke-width="0.12">'
            f"{shape}</g>"
        )
    return "<defs>" + "".join(out) + "</defs>"


def _mark_name(mark: Mark) -> str:
    return {
        carto.EXISTING: "existing", carto.NEW: "new", carto.IN_PLAN: "in_plan",
        carto.ELIGIBLE: "eligible", carto.NOT_ELIGIBLE: "not_eligible",
    }[mark]  # fmt: skip


def _safe_json(data: Any) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment inside it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def webmap(run: PublishedRun) -> WebMap:
    """The interactive map of ``run`` (see the module's description).

    Parameters
    ----------
    run
        What the run published.

    Returns
    -------
    WebMap
        The SVG, the script's data, the measures and the first legend.
    """
    from sitefinder.render.staticmap import class_values, map_measure

    areas = run["demand"].reset_index(drop=True)
    shapes = list(run.area_shapes) if len(run.area_shapes) else [None] * len(areas)
    schools = run["candidates"].reset_index(drop=True)
    new = {str(u) for u in run["planned_bases"]["urn"]}
    existing = {str(u) for u in run["existing_bases"]["urn"]}
    extents = [tuple(float(v) for v in s.bounds) for s in shapes if s is not None]
    for frame in (areas, schools):
        extents += [
            (float(x), float(y), float(x), float(y))
            for x, y in zip(frame["easting"], frame["northing"], strict=True)
            if _number(x) is not None and _number(y) is not None
        ]
    view = _Frame(extents)  # type: ignore[arg-type]
    default = map_measure(run)
    measures = [default, *(m for m in carto.MEASURES if m is not default)]
    children = [positive(v) for v in areas["children"]]  # a withheld count is above 0
    scales: list[dict[str, Any]] = []
    shade: list[float | None] = []
    for item in measures:
        values = [_number(v) for v in areas[item.key]] if item.key in areas else []
        ranges = carto.classes(item, class_values(run, item))
        scales.append({
            "key": item.key, "name": item.short, "title": item.label, "kind": item.kind,
            "ranges": [[r.lower, r.upper, r.color, r.label] for r in ranges],
            "values": values or [None] * len(areas),
        })  # fmt: skip
        shade = shade if scales[1:] else scales[0]["values"]
    first = carto.classes(default, class_values(run, default))

    area_svg = []
    for index, (shape, kids) in enumerate(zip(shapes, children, strict=True)):
        fill = carto.area_colour(first, shade[index], children=kids)
        if shape is not None and (path := view.path(shape.simplify(TOLERANCE))):
            area_svg.append(f'<path data-a="{index}" fill="{fill}" d="{path}"/>')
        else:  # no polygon: a hexagon at the area's point
            x, y = view.xy(float(areas["easting"][index]), float(areas["northing"][index]))
            area_svg.append(f'<circle data-a="{index}" fill="{fill}" cx="{x}" cy="{y}" r="25"/>')

    marks = []
    for index, school in enumerate(schools.to_dict("records")):
        if _number(school.get("easting")) is None or _number(school.get("northing")) is None:
            continue
        mark, order = _mark_of(school, new, existing)
        x, y = view.xy(float(school["easting"]), float(school["northing"]))
        pixels = mark.size_mm * _PIXELS_PER_MM
        size = pixels * max(view.width / 800, view.height / 500)  # before the script runs
        marks.append((order, index, (
            f'<use data-s="{index}" href="#wm-{_mark_name(mark)}" data-x="{x}" data-y="{y}"'
            f' data-r="{pixels:.1f}" transform="translate({x} {y}) scale({size:.2f})">'
            f"<title>{escape(_text(school.get('name')))}</title></use>"
        )))  # fmt: skip
    marks.sort(key=lambda m: (m[0], m[1]))

    label = quoteattr(f"Interactive map of {run.facts.scenario_name}")
    svg = (
        f'<svg id="wm-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {view.width}'
        f' {view.height}" role="img" aria-label={label}>'
        f"{_symbol_defs()}"
        f'<g id="wm-areas" stroke="{carto.AREA_EDGE}" stroke-width="1"'
        f' vector-effect="non-scaling-stroke">{"".join(area_svg)}</g>'
        f'<g id="wm-marks">{"".join(m[2] for m in marks)}</g></svg>'
    )  # fmt: skip
    data = {
        "measures": scales,
        "children": children,
        "no_children": carto.NO_CHILDREN,
        "no_value": carto.NO_VALUE,
        "areas": _area_panels(run),
        "schools": _school_panels(run),
    }
    return WebMap(
        svg=svg,
        data=_safe_json(data),
        measures=[(m.key, m.short) for m in measures],
        legend=[(r.color, r.label) for r in first],
    )
