"""Shortest drive minutes between points over a :class:`~sitefinder.roads.osm.RoadNetwork`.

Each point snaps to its nearest network node (straight line, KD-tree). The snap distance is
driven or walked at a slow access speed (15 km/h by default: a postcode or school point is
off the road, reached by a driveway, car park or the last bit of a cul-de-sac, so the straight
line understates the real path). Road minutes come from scipy's Dijkstra.

Journeys run from home to school, so the search runs from each destination (school) over the
reversed graph, which gives every node's minutes *to* that school in one search. When there
are fewer distinct origin nodes than destination nodes the search runs forward from the
origins instead; both give the same matrix. Searches run in chunks of sources so the
(chunk, search nodes) distance block stays within a memory budget.

By default the searches run over the network's exact contraction
(:mod:`sitefinder.roads.contract`): chains of pass-through way nodes become single edges
between junctions, which gives the same minutes (to about 1e-12) several times faster. The
contraction is built on first use and kept, by object identity, while the network lives
(:func:`contraction`); a network's graph must not be changed in place after that.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sitefinder.roads.contract import (
    NO_LIMITS,
    ContractedNetwork,
    SearchLimits,
    contract_graph,
    contracted_minutes,
)
from sitefinder.roads.osm import RoadNetwork

if TYPE_CHECKING:
    from sklearn.neighbors import KDTree

DEFAULT_ACCESS_SPEED_KMH = 15.0
DEFAULT_SNAP_WARN_METRES = 500.0

# Contractions already built, per live network object (a cache, not a setting).
_CONTRACTIONS: weakref.WeakKeyDictionary[RoadNetwork, ContractedNetwork] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class Routing:
    """How a drive-minute matrix is routed: its cutoff and chunks, and how points join roads.

    Attributes
    ----------
    cutoff_minutes
        Journeys longer than this, in minutes including the access legs, come back as
        ``inf``; the searches stop there too, which is much faster on a large network.
        None: no cutoff.
    chunk_size
        Sources per Dijkstra call. None: as many as fit a 256 MiB distance block.
    access_speed_kmh
        Speed (km/h) over the straight line between a point and its snap node.
    snap_warn_metres
        Points further than this many metres from the network are listed in the report.
    """

    cutoff_minutes: float | None = None
    chunk_size: int | None = None
    access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH
    snap_warn_metres: float = DEFAULT_SNAP_WARN_METRES

    def __post_init__(self) -> None:
        if not self.access_speed_kmh > 0:
            raise ValueError(f"access_speed_kmh must be > 0, got {self.access_speed_kmh}")
        # SearchLimits checks the cutoff and chunk size when made; fail here, not when routing.
        SearchLimits(cutoff_minutes=self.cutoff_minutes, chunk_size=self.chunk_size)

    @property
    def search(self) -> SearchLimits:
        """The Dijkstra searches' cutoff and chunk size."""
        return SearchLimits(cutoff_minutes=self.cutoff_minutes, chunk_size=self.chunk_size)


DEFAULT_ROUTING = Routing()


@dataclass(frozen=True, eq=False)
class SnapReport:
    """How far points lie from the road network.

    Attributes
    ----------
    origin_metres, destination_metres
        Straight-line metres from each point to its snap node, shapes (n_origins,) and
        (n_destinations,).
    far_origins, far_destinations
        Indices of points further than ``threshold_metres`` from any road.
    threshold_metres
        The distance above which a point is listed as far.
    """

    origin_metres: NDArray[np.float64]
    destination_metres: NDArray[np.float64]
    far_origins: NDArray[np.int64]
    far_destinations: NDArray[np.int64]
    threshold_metres: float

    @property
    def any_far(self) -> bool:
        """Whether any point snapped further than the threshold."""
        return bool(len(self.far_origins) or len(self.far_destinations))


def _points(values: ArrayLike, name: str) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=float)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2) of EPSG:27700 metres, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds non-finite coordinates")
    return array


def _tree(xy: NDArray[np.float64]) -> KDTree:
    from sklearn.neighbors import KDTree  # only when routing: scikit-learn is slow to import

    return KDTree(xy)


def snap(
    network: RoadNetwork, points_xy: ArrayLike, *, tree: KDTree | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Nearest network node of each point and the straight-line distance to it.

    Parameters
    ----------
    network
        The road network.
    points_xy
        Points, shape (n, 2), EPSG:27700 metres.
    tree
        A KD-tree over ``network.xy`` to reuse; built when not given.

    Returns
    -------
    nodes, metres
        Node index (into the network) and distance in metres, each shape (n,).
    """
    points = _points(points_xy, "points_xy")
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    tree = tree if tree is not None else _tree(network.xy)
    distance, index = tree.query(points, k=1)
    return index[:, 0].astype(np.int64), distance[:, 0]


def drive_minutes(
    network: RoadNetwork,
    origins_xy: ArrayLike,
    destinations_xy: ArrayLike,
    *,
    routing: Routing = Routing(),
) -> tuple[NDArray[np.float64], SnapReport]:
    """Drive minutes from every origin to every destination.

    Parameters
    ----------
    network
        The road network (edge weights already include its peak factor).
    origins_xy, destinations_xy
        Points, shapes (n, 2) and (m, 2), EPSG:27700 metres (homes and schools).
    routing
        The cutoff (minutes, access legs included), the sources per Dijkstra call, the access
        speed (km/h) and the snap distance (metres) past which a point is reported.

    Returns
    -------
    minutes : numpy.ndarray
        Shape (n, m), drive minutes; ``inf`` where unreachable or past the cutoff.
    report : SnapReport
        Snap distances and the points that snapped far.
    """
    origins = _points(origins_xy, "origins_xy")
    destinations = _points(destinations_xy, "destinations_xy")
    tree = _tree(network.xy)
    o_node, o_metres = snap(network, origins, tree=tree)
    d_node, d_metres = snap(network, destinations, tree=tree)
    report = SnapReport(
        origin_metres=o_metres,
        destination_metres=d_metres,
        far_origins=np.flatnonzero(o_metres > routing.snap_warn_metres),
        far_destinations=np.flatnonzero(d_metres > routing.snap_warn_metres),
        threshold_metres=float(routing.snap_warn_metres),
    )
    per_minute = routing.access_speed_kmh * 1000.0 / 60.0
    road = road_minutes(network, o_node, d_node, search=routing.search)
    minutes = road + (o_metres / per_minute)[:, None] + (d_metres / per_minute)[None, :]
    if routing.cutoff_minutes is not None:
        minutes[minutes > routing.cutoff_minutes] = np.inf
    return minutes, report


def contraction(network: RoadNetwork) -> ContractedNetwork:
    """The network's pass-through contraction, built on first use and kept while it lives.

    Parameters
    ----------
    network
        The road network; the cache is keyed by the object itself (identity), so a network
        read again is contracted again.

    Returns
    -------
    ContractedNetwork
        See :func:`sitefinder.roads.contract.contract_graph`.
    """
    found = _CONTRACTIONS.get(network)
    if found is None or found.n_nodes != network.n_nodes:
        found = contract_graph(network.graph)
        _CONTRACTIONS[network] = found
    return found


def road_minutes(
    network: RoadNetwork,
    origin_nodes: NDArray[np.int64],
    destination_nodes: NDArray[np.int64],
    *,
    search: SearchLimits = NO_LIMITS,
    contract: bool = True,
) -> NDArray[np.float64]:
    """Network minutes between node indices.

    Runs one Dijkstra per distinct source node, from whichever side has fewer distinct nodes.

    Parameters
    ----------
    network
        The road network.
    origin_nodes, destination_nodes
        Node indices into the network, shapes (n,) and (m,).
    search
        The cutoff (minutes past which a journey comes back as ``inf``; the searches stop
        there too) and the sources per Dijkstra call (default: as many as fit 256 MiB).
    contract
        Search the network's exact contraction (:func:`contraction`; same minutes, faster)
        rather than the full graph.

    Returns
    -------
    numpy.ndarray
        Shape (n, m), minutes from each origin node to each destination node; ``inf`` where
        unreachable or past the cutoff.
    """
    result = np.full((len(origin_nodes), len(destination_nodes)), np.inf)
    if result.size == 0:
        return result
    o_unique, o_inverse = np.unique(origin_nodes, return_inverse=True)
    d_unique, d_inverse = np.unique(destination_nodes, return_inverse=True)
    if contract:
        unique_matrix = contracted_minutes(contraction(network), o_unique, d_unique, search=search)
    else:
        unique_matrix = _full_minutes(network, o_unique, d_unique, search=search)
    result[:] = unique_matrix[np.ix_(o_inverse, d_inverse)]
    return result


def _full_minutes(
    network: RoadNetwork,
    o_unique: NDArray[np.int64],
    d_unique: NDArray[np.int64],
    *,
    search: SearchLimits,
) -> NDArray[np.float64]:
    """Minutes between distinct node indices by Dijkstra over the full graph."""
    from scipy.sparse.csgraph import dijkstra  # slow to import: not for a cached graph

    backward = len(d_unique) <= len(o_unique)
    # From schools over the reversed graph: dist[s, v] is the minutes from v *to* school s.
    graph = network.graph.T.tocsr() if backward else network.graph
    sources, targets = (d_unique, o_unique) if backward else (o_unique, d_unique)
    chunk_size = search.sources_per_call(network.n_nodes)
    block = np.empty((len(sources), len(targets)))
    for start in range(0, len(sources), chunk_size):
        chunk = sources[start : start + chunk_size]
        dist = dijkstra(graph, directed=True, indices=chunk, limit=search.limit)
        block[start : start + len(chunk)] = dist[:, targets]
    return block.T if backward else block  # (origins, destinations)
