"""Read an OpenStreetMap extract into a directed, drivable road graph with edge minutes.

The graph is for the vehicles that carry children with SEND to school: taxis and minibuses.
Every OSM way node on a drivable way becomes a graph node (no chain contraction), so a point
snaps to the road right beside it. Edges run between consecutive way nodes and weigh the
minutes to drive them at the edge's speed, times a peak-hour factor.

Decisions, all documented here so a planner can check them:

* **Road classes** -- see :data:`DEFAULT_SPEED_KMH`. Footways, cycleways, paths, bridleways,
  steps, tracks (farm tracks are not taxi routes), pedestrian areas, busways, raceways and
  anything under construction or proposed are left out.
* **Service roads** are kept (a school's own access road is usually ``highway=service``, and
  driveways are dead ends, so they bring snapped points closer without creating shortcuts),
  except ``service=parking_aisle`` (routing through car parks invents shortcuts),
  ``drive-through`` and ``emergency_access``.
* **Access** -- the most specific of ``motorcar``, ``motor_vehicle``, ``vehicle``, ``access``
  that is present decides; ``no``, ``private``, ``agricultural``, ``forestry``, ``military``
  and ``delivery`` exclude the way. ``destination`` is kept: a taxi may drop a child there.
* **One-way** -- ``oneway=yes/1/true`` forward only, ``oneway=-1/reverse`` backward only,
  ``junction=roundabout/circular`` and ``highway=motorway/motorway_link`` imply one-way unless
  ``oneway=no``. ``reversible``/``alternating`` ways are treated as two-way.
* **Speeds** -- a posted ``maxspeed`` (see :func:`parse_maxspeed`) times ``maxspeed_fraction``
  (0.8 by default: the share of the limit cars average on a link, as in OSRM's car profile),
  capped at the class's :data:`CAP_SPEED_KMH` (so a "national" 60 mph single-track lane is not
  driven at 48 mph); untagged ways use :data:`DEFAULT_SPEED_KMH`.
* **Lengths** -- node lon/lat are projected to British National Grid (EPSG:27700) with pyproj
  and edge length is the straight distance between consecutive nodes in metres. The grid's
  scale error is under 0.04 % across England, far below other uncertainties.
* **Junction delay** -- entering a node where three or more road links meet costs
  ``junction_seconds`` (3 s by default). Free-flow link speeds alone miss the slowing, giving
  way and turning at junctions; OSRM's car profile charges up to 7.5 s for a sharp turn and 2 s
  for signals, and most junctions are passed straight on, hence a small average. With it,
  Oakham to Uppingham (Rutland) comes to about 13 minutes, as published route planners give.
* **Connectivity** -- only the largest strongly connected component is kept, so every kept
  node can reach and be reached from every other; the dropped counts are reported.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix

from sitefinder.errors import DataError

if TYPE_CHECKING:  # osmium and pyproj are imported when a file is parsed: a cached network
    from pyproj import Transformer  # needs neither

MPH = 1.609344  # km/h per mph

# Free-flow speeds (km/h) assumed where a way has no usable maxspeed. They are typical
# realised speeds, not legal limits: the legal limit on a rural lane is 60 mph but a taxi
# averages far less. Values follow OSRM's car profile (car.lua speed table), adjusted to UK
# practice: built-up roads default to 30 mph limits (about 40 km/h realised once junctions
# and parked cars are counted), DfT's average-speed statistics (CGN0501/0502) put weekday
# local 'A' roads near 25-30 mph overall and motorways near 60 mph.
DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 85.0,
    "trunk_link": 50.0,
    "primary": 65.0,
    "primary_link": 40.0,
    "secondary": 55.0,
    "secondary_link": 35.0,
    "tertiary": 45.0,
    "tertiary_link": 30.0,
    "unclassified": 35.0,
    "road": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 15.0,
}

# Ceilings (km/h) on speeds derived from a posted maxspeed, per class: near the UK limit for
# major roads, lower for minor roads where bends and width bind before the limit does.
CAP_SPEED_KMH: dict[str, float] = {
    "motorway": 70 * MPH,
    "motorway_link": 50 * MPH,
    "trunk": 70 * MPH,
    "trunk_link": 40 * MPH,
    "primary": 60 * MPH,
    "primary_link": 40 * MPH,
    "secondary": 60 * MPH,
    "secondary_link": 40 * MPH,
    "tertiary": 50 * MPH,
    "tertiary_link": 30 * MPH,
    "unclassified": 40 * MPH,
    "road": 30 * MPH,
    "residential": 30 * MPH,
    "living_street": 15 * MPH,
    "service": 20 * MPH,
}

EXCLUDED_SERVICE = frozenset({"parking_aisle", "drive-through", "emergency_access"})
DENIED_ACCESS = frozenset({"no", "private", "agricultural", "forestry", "military", "delivery"})
ACCESS_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")  # most specific first
IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link"})
DUAL_CLASSES = frozenset({"motorway", "motorway_link", "trunk", "trunk_link", "primary"})

# Minutes given to an edge of zero length (two nodes at one spot), so the sparse graph keeps it.
MIN_EDGE_MINUTES = 1e-6

_NATIONAL = {"national", "gb:national", "uk:national", "gb:nsl_single", "uk:nsl_single"}
_NAMED_KMH = {
    "gb:nsl_dual": 70 * MPH,
    "uk:nsl_dual": 70 * MPH,
    "gb:motorway": 70 * MPH,
    "uk:motorway": 70 * MPH,
    "gb:nsl_restricted": 30 * MPH,
    "uk:nsl_restricted": 30 * MPH,
    "gb:zone20": 20 * MPH,
    "gb:zone30": 30 * MPH,
    "none": 70 * MPH,  # no posted limit: the UK maximum still applies
    "walk": 10.0,  # walking pace for a vehicle, as on shared surfaces
}
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?$")


@dataclass(frozen=True)
class RoadSpeeds:
    """How edge minutes are derived from the roads: speed limits, junctions and the peak.

    Attributes
    ----------
    peak_factor
        Multiplies every edge's free-flow minutes (1.0 = free flow; 1.3 = 30 % slower at peak).
    maxspeed_fraction
        Share of a posted ``maxspeed`` that traffic averages (dimensionless, 0-1].
    junction_seconds
        Seconds added for entering a node where three or more road links meet (before the
        peak factor is applied).
    """

    peak_factor: float = 1.0
    maxspeed_fraction: float = 0.8
    junction_seconds: float = 3.0

    @property
    def junction_minutes(self) -> float:
        """The junction delay in minutes."""
        return self.junction_seconds / 60.0

    def params(self) -> dict[str, float]:
        """The settings by name, as recorded on a network and in cache keys."""
        return {
            "peak_factor": float(self.peak_factor),
            "maxspeed_fraction": float(self.maxspeed_fraction),
            "junction_seconds": float(self.junction_seconds),
        }


DEFAULT_SPEEDS = RoadSpeeds()


@dataclass(frozen=True, eq=False)
class _Nodes:
    """Graph nodes: OSM id, EPSG:27700 x/y (metres) and WGS84 lon/lat (degrees), shape (n,)."""

    node_ids: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class _Edges:
    """Directed edges as parallel arrays: source index, target index, free-flow minutes."""

    src: NDArray[np.int64]
    dst: NDArray[np.int64]
    minutes: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed drivable road graph.

    Attributes
    ----------
    node_ids
        OSM node id of each graph node, shape (n,).
    x, y
        Node coordinates in British National Grid (EPSG:27700) metres, shape (n,).
    lon, lat
        Node coordinates in WGS84 degrees, shape (n,).
    graph
        CSR matrix, shape (n, n): ``graph[i, j]`` is the minutes to drive from node i to node j
        along one edge (already multiplied by the peak factor).
    dropped_nodes, dropped_edges
        Nodes and directed edges removed outside the largest strongly connected component.
    peak_factor
        The multiplier applied to free-flow minutes.
    source_sha256
        SHA-256 of the file the network was read from ("" when built otherwise).
    """

    node_ids: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    graph: csr_matrix
    dropped_nodes: int = 0
    dropped_edges: int = 0
    peak_factor: float = 1.0
    source_sha256: str = ""
    params: dict[str, float] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return int(self.graph.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.graph.nnz)

    @property
    def xy(self) -> NDArray[np.float64]:
        """Node coordinates as an (n, 2) array of EPSG:27700 metres."""
        return np.column_stack([self.x, self.y])


def parse_maxspeed(value: str, *, highway: str, dual: bool = False) -> float | None:
    """Turn an OSM ``maxspeed`` value into km/h, or None when it cannot be read.

    Parameters
    ----------
    value
        The tag value: "30 mph", "50" (km/h, the OSM default unit), "GB:national", "none",
        "walk", "30;40" (the first is used) and similar.
    highway
        The way's highway class; decides what "national" means.
    dual
        Whether the way is (part of) a dual carriageway; "national" is 70 mph there.

    Returns
    -------
    float or None
        Speed limit in km/h.
    """
    text = value.split(";")[0].split("|")[0].strip().lower()
    if text in _NATIONAL:
        motorway_like = highway in ("motorway", "motorway_link") or dual
        return (
            70 if motorway_like and text not in ("gb:nsl_single", "uk:nsl_single") else 60
        ) * MPH
    if text in _NAMED_KMH:
        return _NAMED_KMH[text]
    match = _NUMBER.match(text)
    if match is None:
        return None
    number = float(match.group(1))
    if number <= 0:
        return None
    return number * MPH if match.group(2) == "mph" else number


def _allowed(tags: dict[str, str]) -> bool:
    for key in ACCESS_KEYS:
        if key in tags:
            return tags[key].strip().lower() not in DENIED_ACCESS
    return True


def _direction(tags: dict[str, str], highway: str) -> int:
    """1 forward only, -1 backward only, 0 both ways."""
    oneway = tags.get("oneway", "").strip().lower()
    if oneway in ("yes", "1", "true"):
        return 1
    if oneway in ("-1", "reverse"):
        return -1
    if oneway in ("no", "0", "false", "reversible", "alternating"):
        return 0
    if tags.get("junction", "") in ("roundabout", "circular") or highway in IMPLIED_ONEWAY:
        return 1
    return 0


def way_speed_kmh(
    tags: dict[str, str], *, maxspeed_fraction: float = 0.8
) -> tuple[float, int] | None:
    """Speed (km/h) and direction of a way from its tags, or None if a taxi cannot use it.

    Direction is 1 (forward only), -1 (backward only) or 0 (both ways).
    """
    highway = tags.get("highway", "")
    if highway not in DEFAULT_SPEED_KMH or tags.get("area") == "yes":
        return None
    if highway == "service" and tags.get("service", "") in EXCLUDED_SERVICE:
        return None
    if not _allowed(tags):
        return None
    direction = _direction(tags, highway)
    dual = tags.get("dual_carriageway") == "yes" or (direction != 0 and highway in DUAL_CLASSES)
    posted = (
        parse_maxspeed(tags["maxspeed"], highway=highway, dual=dual) if "maxspeed" in tags else None
    )
    if posted is None:
        speed = DEFAULT_SPEED_KMH[highway]
    else:
        speed = min(posted * maxspeed_fraction, CAP_SPEED_KMH[highway])
    return speed, direction


def read_road_network(
    path: Path | str,
    *,
    speeds: RoadSpeeds = RoadSpeeds(),
    source_sha256: str = "",
) -> RoadNetwork:
    """Read a ``.osm.pbf`` or ``.osm`` (XML) file into a :class:`RoadNetwork`.

    Parameters
    ----------
    path
        The OSM file. Its format comes from the file name, as osmium decides.
    speeds
        The peak factor, the share of posted limits driven and the junction delay (seconds).
    source_sha256
        Recorded on the network (the cache passes the file's hash); not checked here.

    Returns
    -------
    RoadNetwork
        The largest strongly connected part of the drivable network.

    Raises
    ------
    DataError
        When the file is missing or unreadable, or holds no drivable road.
    """
    path = Path(path)
    peak_factor, maxspeed_fraction = speeds.peak_factor, speeds.maxspeed_fraction
    junction_seconds = speeds.junction_seconds
    if not peak_factor > 0 or not 0 < maxspeed_fraction <= 1 or not junction_seconds >= 0:
        raise DataError(
            f"peak_factor must be > 0 (got {peak_factor}), maxspeed_fraction in (0, 1]"
            f" (got {maxspeed_fraction}) and junction_seconds >= 0 (got {junction_seconds})"
        )
    if not path.is_file():
        raise DataError(f"{path}: road network file not found")
    refs: list[int] = []  # node ids of every drivable way, concatenated
    lons: list[float] = []
    lats: list[float] = []
    way_ends: list[int] = []  # end offset of each way in refs
    way_kmh: list[float] = []
    directions: list[int] = []
    import osmium

    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        # Filters run in C++ after the location cache has seen every node, so only highway
        # ways reach Python.
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for way in processor:
            if not isinstance(way, osmium.osm.Way):
                continue  # the filters pass only ways; this narrows the type
            rule = way_speed_kmh(dict(way.tags), maxspeed_fraction=maxspeed_fraction)
            if rule is None:
                continue
            start = len(refs)
            for node in way.nodes:
                location = node.location
                if not location.valid():
                    continue  # node missing from the extract (ways cut at its edge)
                refs.append(node.ref)
                lons.append(location.lon)
                lats.append(location.lat)
            if len(refs) - start < 2:
                del refs[start:], lons[start:], lats[start:]
                continue
            way_ends.append(len(refs))
            way_kmh.append(rule[0])
            directions.append(rule[1])
    except RuntimeError as error:  # osmium reports unreadable files this way
        raise DataError(f"{path}: cannot read OSM data ({error})") from error
    if not way_ends:
        raise DataError(f"{path}: no drivable roads found (need OSM ways tagged highway=...)")
    ways = _Ways(
        refs=np.asarray(refs, dtype=np.int64),
        lons=np.asarray(lons),
        lats=np.asarray(lats),
        way_ends=np.asarray(way_ends, dtype=np.int64),
        speed_kmh=np.asarray(way_kmh),
        direction=np.asarray(directions, dtype=np.int8),
    )
    return _build(ways, speeds=speeds, source_sha256=source_sha256)


@functools.cache
def _to_grid() -> Transformer:
    """WGS84 longitude/latitude to British National Grid (made on first use: 35 ms)."""
    from pyproj import Transformer

    return Transformer.from_crs(4326, 27700, always_xy=True)


def lonlat_to_grid(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Project WGS84 lon/lat (degrees) to British National Grid x/y (metres)."""
    x, y = _to_grid().transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


@dataclass(frozen=True, eq=False)
class _Ways:
    """Drivable ways as read: their node refs and locations concatenated, shape (n_refs,),
    and per way the end offset into them, speed (km/h) and direction (1, -1 or 0)."""

    refs: NDArray[np.int64]
    lons: NDArray[np.float64]
    lats: NDArray[np.float64]
    way_ends: NDArray[np.int64]
    speed_kmh: NDArray[np.float64]
    direction: NDArray[np.int8]


def _build(ways: _Ways, *, speeds: RoadSpeeds, source_sha256: str) -> RoadNetwork:
    refs, way_ends = ways.refs, ways.way_ends
    node_ids, first, index = np.unique(refs, return_index=True, return_inverse=True)
    lon, lat = ways.lons[first], ways.lats[first]
    x, y = lonlat_to_grid(lon, lat)
    # Consecutive positions within one way form an edge; the last node of a way does not
    # link to the first node of the next.
    way_of = np.repeat(np.arange(len(way_ends)), np.diff(np.concatenate([[0], way_ends])))
    same_way = way_of[:-1] == way_of[1:]
    u, v = index[:-1][same_way], index[1:][same_way]
    way = way_of[:-1][same_way]
    metres = np.hypot(x[u] - x[v], y[u] - y[v])
    minutes = metres / (ways.speed_kmh[way] * 1000.0 / 60.0)
    direction = ways.direction[way]
    forward, backward = direction >= 0, direction <= 0
    src = np.concatenate([u[forward], v[backward]])
    dst = np.concatenate([v[forward], u[backward]])
    weight = np.concatenate([minutes[forward], minutes[backward]])
    return _component(
        _Nodes(node_ids, x, y, lon, lat),
        _Edges(src, dst, weight),
        speeds=speeds,
        source_sha256=source_sha256,
    )


def _component(
    nodes: _Nodes, edges: _Edges, *, speeds: RoadSpeeds, source_sha256: str
) -> RoadNetwork:
    """Add junction delays and the peak factor, keep the quickest of parallel edges, then
    keep the largest strongly connected component."""
    from scipy.sparse.csgraph import connected_components  # slow to import: not for a cached graph

    n = len(nodes.node_ids)
    src, dst, weight = edges.src, edges.dst, edges.minutes
    peak_factor, junction_minutes = speeds.peak_factor, speeds.junction_minutes
    keep = src != dst
    src, dst, weight = src[keep], dst[keep], weight[keep]
    # csr_matrix would add parallel edges' minutes; keep the quickest instead.
    order = np.lexsort((weight, dst, src))
    src, dst, weight = src[order], dst[order], weight[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    src, dst, weight = src[first], dst[first], weight[first]
    if junction_minutes > 0:
        # A junction is a node with three or more distinct neighbours, whatever the direction.
        pairs = np.unique(np.column_stack([np.minimum(src, dst), np.maximum(src, dst)]), axis=0)
        degree = np.bincount(pairs.ravel(), minlength=n)
        weight = weight + junction_minutes * (degree[dst] >= 3)
    weight = np.maximum(weight * peak_factor, MIN_EDGE_MINUTES)
    graph = csr_matrix((weight, (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    largest = np.argmax(np.bincount(labels))
    kept = labels == largest
    new_index = np.full(n, -1, dtype=np.int64)
    new_index[kept] = np.arange(int(kept.sum()))
    edge_kept = kept[src] & kept[dst]
    m = int(kept.sum())
    sub = csr_matrix(
        (weight[edge_kept], (new_index[src[edge_kept]], new_index[dst[edge_kept]])), shape=(m, m)
    )
    sub.sort_indices()
    return RoadNetwork(
        node_ids=nodes.node_ids[kept],
        x=nodes.x[kept],
        y=nodes.y[kept],
        lon=nodes.lon[kept],
        lat=nodes.lat[kept],
        graph=sub,
        dropped_nodes=n - m,
        dropped_edges=int(len(src) - edge_kept.sum()),
        peak_factor=peak_factor,
        source_sha256=source_sha256,
        params=speeds.params(),
    )


def network_from_edges(
    xy: ArrayLike,
    src: NDArray[np.int64],
    dst: NDArray[np.int64],
    minutes: NDArray[np.float64],
    *,
    speeds: RoadSpeeds = RoadSpeeds(junction_seconds=0.0),
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from node coordinates and edges.

    For synthetic networks (tests, benchmarks). ``xy`` is shape (n, 2), EPSG:27700 metres;
    ``minutes`` are free-flow edge minutes; junction delays (``speeds.junction_seconds``,
    none by default) are added and the sum multiplied by ``speeds.peak_factor``. Node ids are
    1..n; lon/lat are derived from x/y.
    """
    points = np.asarray(xy, dtype=float).reshape(-1, 2)
    x, y = points[:, 0].copy(), points[:, 1].copy()
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(x, y)
    nodes = _Nodes(
        np.arange(1, len(x) + 1, dtype=np.int64),
        x,
        y,
        np.asarray(lon, dtype=float),
        np.asarray(lat, dtype=float),
    )
    edges = _Edges(
        np.asarray(src, dtype=np.int64),
        np.asarray(dst, dtype=np.int64),
        np.asarray(minutes, dtype=float),
    )
    return _component(nodes, edges, speeds=speeds, source_sha256="")
