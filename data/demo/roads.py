"""Write Demoshire's road network as a real OpenStreetMap ``.osm.pbf`` file.

Run with ``python data/demo/roads.py`` to write ``roads.osm.pbf`` beside this file. Fully
deterministic (no randomness): rerunning writes the same roads with the same ids.

The layout, in British National Grid metres (EPSG:27700) around Demoford's centre:

* a motorway passing east of the town, as two one-way carriageways (70 mph), with junctions
  on the Kingsmere and Brockton A roads and turning loops at both ends (off the map);
* A roads (``primary``) from the town edge to the four big villages, B roads (``secondary``)
  to the others; outside the town they carry the national limit or 50 mph;
* the town: a 200 m grid of residential streets (30 mph, 20 mph in the centre, two one-way
  streets), and two A roads crossing the river on the only two bridges, so crow-fly minutes
  are badly wrong for trips across the river;
* a private estate road that would be a third crossing, closed to taxis (``access=private``);
* villages: a small grid of residential streets around each centre;
* rural lanes (``unclassified``) on an 800 m grid across the authority, cut at the river,
  so that every home area and school is a few hundred metres from a road.

Roads meet where their lines cross (a shared node), except the motorway and its slip roads,
which pass over everything and join only at their junctions.
"""

from __future__ import annotations

import importlib.util
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
from pyproj import Transformer
from shapely import STRtree
from shapely.geometry import LineString, MultiLineString, Point

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "roads.osm.pbf"

_spec = importlib.util.spec_from_file_location("demo_generate", HERE / "generate.py")
assert _spec is not None and _spec.loader is not None
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)

X0, Y0 = generate.CENTRE
NODE_SPACING = 100.0  # metres between consecutive nodes along a road
RIVER_GAP = 25.0  # roads that do not bridge the river stop this far from it (metres)
LANE_SPACING = 800.0
STREET_SPACING = 200.0
BRIDGES_Y = (600.0, -2_200.0)  # offsets north of the centre of the two town bridges
MOTORWAY_X = 6_000.0  # offset east of the centre
A_ROAD_VILLAGES = ("Hadley", "Kingsmere", "Brockton", "Southam Cross")
B_ROADS = (  # village, where it starts: "town" or another village
    ("Westcombe", "Hadley"),
    ("Little Hadley", "Hadley"),
    ("Ashby Parva", "town"),
    ("Oakley Green", "town"),
    ("Northby", "town"),
    ("Eastwold", "Kingsmere"),
    ("Fenwick", "Brockton"),
    ("Thornbury End", "town"),
)


@dataclass
class Road:
    """One OSM way before nodes are assigned; ``extra`` holds points to add as nodes."""

    line: LineString
    tags: dict[str, str]
    joins: bool = True  # meets crossing roads; False for the motorway and its slips
    extra: list[tuple[float, float]] = field(default_factory=list)


def river_side(x: float, y: float) -> int:
    """-1 west of the river, 1 east (the river runs north-south)."""
    river = generate.river_line()
    # Extend the river north and south so every point has a side.
    coords = list(river.coords)
    line = LineString([(coords[0][0], coords[0][1] + 1e6), *coords, (coords[-1][0], -1e6)])
    left = line.buffer(1e6, single_sided=True)
    return -1 if left.contains(Point(x, y)) else 1


def _cut_at_river(line: LineString) -> list[LineString]:
    river = generate.river_line().buffer(RIVER_GAP)
    pieces = line.difference(river)
    parts = pieces.geoms if isinstance(pieces, MultiLineString) else [pieces]
    return [p for p in parts if isinstance(p, LineString) and p.length >= NODE_SPACING / 2]


def _villages() -> dict[str, tuple[float, float]]:
    return {name: (X0 + dx, Y0 + dy) for name, (dx, dy), _ in generate.VILLAGES}


def _town_start(towards: tuple[float, float]) -> tuple[float, float]:
    """The town-edge street corner facing ``towards``, on the same side of the river."""
    dx, dy = towards[0] - X0, towards[1] - Y0
    scale = (generate.TOWN_RADIUS - 300) / np.hypot(dx, dy)
    x = X0 + round(dx * scale / STREET_SPACING) * STREET_SPACING
    y = Y0 + round(dy * scale / STREET_SPACING) * STREET_SPACING
    return x, y


def _streets() -> list[Road]:
    """Town grid, two bridge roads and the private estate road."""
    roads: list[Road] = []
    radius = generate.TOWN_RADIUS
    steps = int(radius // STREET_SPACING)
    for axis in ("ns", "ew"):
        for k in range(-steps, steps + 1):
            offset = k * STREET_SPACING
            if axis == "ew" and offset in BRIDGES_Y:
                continue  # the bridge A roads run here
            half = np.sqrt(radius**2 - offset**2)
            half = np.floor(half / STREET_SPACING) * STREET_SPACING
            if half < STREET_SPACING:
                continue
            # split at +-800 m: 20 mph in the central square, 30 mph beyond
            cuts = sorted({-half, *[c for c in (-800.0, 800.0) if -half < c < half], half})
            for a, b in itertools.pairwise(cuts):
                if axis == "ns":
                    line = LineString([(X0 + offset, Y0 + a), (X0 + offset, Y0 + b)])
                else:
                    line = LineString([(X0 + a, Y0 + offset), (X0 + b, Y0 + offset)])
                central = abs(offset) <= 800 and a >= -800 and b <= 800
                tags = {"highway": "residential", "maxspeed": "20 mph" if central else "30 mph"}
                tags["name"] = f"{'North' if axis == 'ns' else 'East'} Street {k + steps + 1}"
                if axis == "ns" and offset == 1_200:
                    tags["oneway"] = "yes"  # drawn south to north: northbound only
                if axis == "ns" and offset == 1_600:
                    tags["oneway"] = "-1"  # drawn south to north: southbound only
                roads += [Road(p, dict(tags)) for p in _cut_at_river(line)]
    for offset, name in zip(BRIDGES_Y, ("Bridge Street", "Ferry Road"), strict=True):
        half = np.floor(np.sqrt(radius**2 - offset**2) / STREET_SPACING) * STREET_SPACING
        line = LineString([(X0 - half, Y0 + offset), (X0 + half, Y0 + offset)])
        tags = {"highway": "primary", "maxspeed": "30 mph", "name": f"{name} (A6100)"}
        roads.append(Road(line, tags))  # crosses the river: one of the two bridges
    private = LineString([(X0 - 1_000, Y0 - 800), (X0 + 1_400, Y0 - 800)])
    roads.append(
        Road(private, {"highway": "service", "access": "private", "name": "Mill Estate Drive"})
    )
    return roads


def _village_streets() -> list[Road]:
    roads: list[Road] = []
    for name, (vx, vy) in _villages().items():
        # village grid on the town's 200 m lattice so crossings fall on shared nodes
        cx = X0 + round((vx - X0) / STREET_SPACING) * STREET_SPACING
        cy = Y0 + round((vy - Y0) / STREET_SPACING) * STREET_SPACING
        for k in range(-3, 4):
            for line in (
                LineString([(cx + k * 200, cy - 600), (cx + k * 200, cy + 600)]),
                LineString([(cx - 600, cy + k * 200), (cx + 600, cy + k * 200)]),
            ):
                tags = {"highway": "residential", "maxspeed": "30 mph", "name": f"{name} Lane"}
                roads += [Road(p, tags) for p in _cut_at_river(line)]
    return roads


def _village_centre(name: str) -> tuple[float, float]:
    vx, vy = _villages()[name]
    return (
        X0 + round((vx - X0) / STREET_SPACING) * STREET_SPACING,
        Y0 + round((vy - Y0) / STREET_SPACING) * STREET_SPACING,
    )


def _main_roads() -> list[Road]:
    roads: list[Road] = []
    river = generate.river_line()
    for number, name in enumerate(A_ROAD_VILLAGES):
        end = _village_centre(name)
        line = LineString([_town_start(end), end])
        speed = "national" if number % 2 == 0 else "50 mph"
        roads.append(Road(line, {"highway": "primary", "maxspeed": speed, "ref": f"A60{number}"}))
    for number, (name, start) in enumerate(B_ROADS):
        end = _village_centre(name)
        origin = _town_start(end) if start == "town" else _village_centre(start)
        line = LineString([origin, end])
        roads.append(
            Road(line, {"highway": "secondary", "maxspeed": "national", "ref": f"B6{number:03d}"})
        )
    for road in roads:
        if road.line.intersects(river):
            raise AssertionError(f"{road.tags['ref']} would cross the river")
    return roads


def _lanes() -> list[Road]:
    outline = generate.boundary().buffer(300)
    xmin, ymin, xmax, ymax = outline.bounds
    roads: list[Road] = []
    xs = X0 + LANE_SPACING * np.arange(
        np.ceil((xmin - X0) / LANE_SPACING), (xmax - X0) // LANE_SPACING + 1
    )
    ys = Y0 + LANE_SPACING * np.arange(
        np.ceil((ymin - Y0) / LANE_SPACING), (ymax - Y0) // LANE_SPACING + 1
    )
    town = Point(X0, Y0).buffer(generate.TOWN_RADIUS)
    lines = [LineString([(x, ymin), (x, ymax)]) for x in xs]
    lines += [LineString([(xmin, y), (xmax, y)]) for y in ys]
    for line in lines:
        clipped = line.intersection(outline).difference(town)
        parts = clipped.geoms if hasattr(clipped, "geoms") else [clipped]
        for part in parts:
            if isinstance(part, LineString) and not part.is_empty:
                roads += [Road(p, {"highway": "unclassified"}) for p in _cut_at_river(part)]
    return roads


def _motorway(main: list[Road]) -> list[Road]:
    """Two carriageways with turning loops at the ends and junctions on two A roads."""
    south, north = Y0 - 15_000, Y0 + 15_000
    nb_x, sb_x = X0 + MOTORWAY_X - 15, X0 + MOTORWAY_X + 15  # traffic keeps left
    tags = {"highway": "motorway", "maxspeed": "70 mph", "ref": "M99"}
    northbound = Road(LineString([(nb_x, south), (nb_x, north)]), tags | {"oneway": "yes"}, False)
    southbound = Road(LineString([(sb_x, north), (sb_x, south)]), tags | {"oneway": "yes"}, False)
    link = {"highway": "motorway_link", "maxspeed": "50 mph"}
    roads = [
        northbound,
        southbound,
        Road(
            LineString([(nb_x, north), (X0 + MOTORWAY_X, north + 300), (sb_x, north)]), link, False
        ),
        Road(
            LineString([(sb_x, south), (X0 + MOTORWAY_X, south - 300), (nb_x, south)]), link, False
        ),
    ]
    for road in main:
        if road.tags.get("ref") not in ("A601", "A602"):  # Kingsmere and Brockton roads
            continue
        crossing = road.line.intersection(
            LineString([(X0 + MOTORWAY_X, south), (X0 + MOTORWAY_X, north)])
        )
        y = crossing.y
        west = road.line.interpolate(road.line.project(Point(X0 + MOTORWAY_X - 150, y)))
        east = road.line.interpolate(road.line.project(Point(X0 + MOTORWAY_X + 150, y)))
        road.extra += [(west.x, west.y), (east.x, east.y)]
        # Off-slips leave before the bridge, on-slips join after it.
        ramps = [
            ((nb_x, y - 500), (west.x, west.y), northbound),
            ((west.x, west.y), (nb_x, y + 500), northbound),
            ((sb_x, y + 500), (east.x, east.y), southbound),
            ((east.x, east.y), (sb_x, y - 500), southbound),
        ]
        for start, end, carriageway in ramps:
            carriageway.extra += [start if start[0] in (nb_x, sb_x) else end]
            roads.append(Road(LineString([start, end]), link, False))
    return roads


def demo_roads() -> list[Road]:
    """Every road of the demo network, with crossing points recorded as shared nodes."""
    roads = _streets() + _village_streets()
    main = _main_roads()
    roads += main + _lanes()
    roads += _motorway(main)
    joining = [r for r in roads if r.joins]
    tree = STRtree([r.line for r in joining])
    for i, road in enumerate(joining):
        for j in tree.query(road.line, predicate="intersects"):
            if j <= i:
                continue
            other = joining[int(j)]
            meet = road.line.intersection(other.line)
            points = [meet] if isinstance(meet, Point) else list(getattr(meet, "geoms", []))
            for point in points:
                if isinstance(point, Point):
                    road.extra.append((point.x, point.y))
                    other.extra.append((point.x, point.y))
    return roads


def _node_points(road: Road) -> list[tuple[float, float]]:
    """The road's vertices and crossing points in order, filled in every NODE_SPACING metres."""
    line = road.line
    at = {0.0, line.length}
    at |= {line.project(Point(c)) for c in line.coords}
    at |= {line.project(Point(p)) for p in road.extra}
    stops = sorted(at)
    distances: list[float] = []
    for a, b in itertools.pairwise(stops):
        pieces = max(1, int(np.ceil((b - a) / NODE_SPACING)))
        distances += list(np.linspace(a, b, pieces, endpoint=False))
    distances.append(stops[-1])
    points = []
    extra = {(round(x, 2), round(y, 2)) for x, y in road.extra}
    for d in distances:
        p = line.interpolate(d)
        key = (round(p.x, 2), round(p.y, 2))
        # snap to the exact crossing point when interpolation lands on it
        near = [e for e in extra if abs(e[0] - key[0]) < 0.05 and abs(e[1] - key[1]) < 0.05]
        points.append(near[0] if near else key)
    return [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]


def write_demo_network(path: Path | str) -> dict[str, int]:
    """Write the demo road network to ``path`` (``.osm.pbf``, overwriting it).

    Returns
    -------
    dict
        Counts: ``nodes`` and ``ways`` written.
    """
    path = Path(path)
    roads = demo_roads()
    ids: dict[tuple[float, float], int] = {}
    ways: list[tuple[list[int], dict[str, str]]] = []
    for road in roads:
        refs = []
        for point in _node_points(road):
            refs.append(ids.setdefault(point, len(ids) + 1))
        if len(refs) >= 2:
            ways.append((refs, road.tags))
    coords = np.array(list(ids), dtype=float)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(
        coords[:, 0], coords[:, 1]
    )
    path.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(path))
    try:
        for number, (x, y) in enumerate(zip(lon, lat, strict=True), start=1):
            writer.add_node(
                osmium.osm.mutable.Node(
                    id=number, location=(round(float(x), 7), round(float(y), 7)), tags={}
                )
            )
        for number, (refs, tags) in enumerate(ways, start=1):
            writer.add_way(osmium.osm.mutable.Way(id=number, nodes=refs, tags=tags))
    finally:
        writer.close()
    return {"nodes": len(ids), "ways": len(ways)}


def main() -> None:
    counts = write_demo_network(OUTPUT)
    print(f"wrote {OUTPUT.name}: {counts['nodes']} nodes, {counts['ways']} ways")


if __name__ == "__main__":
    main()
