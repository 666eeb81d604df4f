"""Exact contraction of pass-through nodes: same minutes as Dijkstra over the full graph."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sitefinder.roads.contract import SearchLimits, contract_graph, contracted_minutes
from sitefinder.roads.osm import read_road_network
from sitefinder.roads.paths import contraction, road_minutes

DEMO_ROADS = Path(__file__).resolve().parents[1] / "data" / "demo" / "roads.osm.pbf"
TOLERANCE = 1e-9  # minutes


def least_graph(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int) -> csr_matrix:
    """Reference CSR: self-loops dropped, the least of parallel edges kept."""
    keep = src != dst
    src, dst, weight = src[keep], dst[keep], weight[keep]
    order = np.lexsort((weight, dst, src))
    src, dst, weight = src[order], dst[order], weight[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return csr_matrix((weight[first], (src[first], dst[first])), shape=(n, n))


def raw_graph(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int) -> csr_matrix:
    """CSR that stores every edge as given: duplicates unsummed, rows unsorted."""
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return csr_matrix((weight[order], dst[order], indptr), shape=(n, n))


def cutoff_between(minutes: np.ndarray) -> float:
    """A cutoff halfway between two attained minutes near the median, so rounding (sums in a
    different order) cannot put a journey on the other side of it."""
    values = np.unique(minutes[np.isfinite(minutes)])
    middle = len(values) // 2
    return float((values[middle - 1] + values[middle]) / 2)


def random_graph(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A small directed graph with chains (two-way, one-way, loops, parallel), dead ends,
    rings with no junction, parallel edges and a self-loop; node numbers shuffled."""
    rng = np.random.default_rng(seed)
    edges: list[tuple[int, int, float]] = []
    n_core = int(rng.integers(3, 8))
    n = n_core

    def minutes() -> float:
        return float(rng.uniform(0.1, 5.0))

    for _ in range(int(rng.integers(n_core, 3 * n_core))):
        a, b = (int(v) for v in rng.integers(0, n_core, 2))
        edges.append((a, b, minutes()))  # may be a self-loop or a parallel edge
        if rng.random() < 0.6:
            edges.append((b, a, minutes()))
    for _ in range(int(rng.integers(4, 12))):
        a = int(rng.integers(0, n))
        b = a if rng.random() < 0.2 else int(rng.integers(0, n))  # a loop sometimes
        k = int(rng.integers(1, 6))
        if a == b:
            k = max(k, 2)
        path = [a, *range(n, n + k), b]
        n += k
        oneway = rng.random() < 0.35
        for u, v in itertools.pairwise(path):
            edges.append((u, v, minutes()))
            if not oneway:
                edges.append((v, u, minutes()))
    for _ in range(int(rng.integers(0, 3))):  # dead ends
        a = int(rng.integers(0, n))
        edges += [(a, n, minutes()), (n, a, minutes())]
        n += 1
    for oneway in (False, True):  # rings with no junction at all
        k = int(rng.integers(3, 6))
        ring = list(range(n, n + k))
        n += k
        for u, v in zip(ring, ring[1:] + ring[:1], strict=True):
            edges.append((u, v, minutes()))
            if not oneway:
                edges.append((v, u, minutes()))
    relabel = rng.permutation(n)
    src = relabel[np.array([e[0] for e in edges], dtype=np.int64)]
    dst = relabel[np.array([e[1] for e in edges], dtype=np.int64)]
    weight = np.array([e[2] for e in edges])
    return src, dst, weight, n


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_match_dijkstra_for_all_pairs(seed: int) -> None:
    src, dst, weight, n = random_graph(seed)
    reference = dijkstra(least_graph(src, dst, weight, n), directed=True)
    contracted = contract_graph(raw_graph(src, dst, weight, n))
    assert contracted.n_junctions < n
    nodes = np.arange(n)
    got = contracted_minutes(contracted, nodes, nodes, search=SearchLimits(chunk_size=3))
    assert np.array_equal(np.isinf(got), np.isinf(reference))
    finite = np.isfinite(reference)
    assert np.abs(got[finite] - reference[finite]).max() < TOLERANCE
    # Forward searches (fewer origins than destinations) and a cutoff.
    rng = np.random.default_rng(seed)
    origins = np.sort(rng.choice(n, size=max(1, n // 4), replace=False))
    limit = cutoff_between(reference)
    expected = dijkstra(least_graph(src, dst, weight, n), indices=origins, limit=limit)
    got = contracted_minutes(contracted, origins, nodes, search=SearchLimits(cutoff_minutes=limit))
    assert np.array_equal(np.isinf(got), np.isinf(expected))
    finite = np.isfinite(expected)
    assert np.abs(got[finite] - expected[finite]).max() < TOLERANCE


def test_star_of_two_way_chains_contracts_to_its_junctions() -> None:
    # Centre 0; three chains of two nodes each lead to dead ends 3, 6, 9.
    src, dst = [], []
    for arm in range(3):
        path = [0, 3 * arm + 1, 3 * arm + 2, 3 * arm + 3]
        for u, v in itertools.pairwise(path):
            src += [u, v]
            dst += [v, u]
    graph = least_graph(np.array(src), np.array(dst), np.ones(len(src)), 10)
    contracted = contract_graph(graph)
    assert contracted.junctions.tolist() == [0, 3, 6, 9]
    assert contracted.n_chains == 3
    assert contracted.n_junction_edges == 6
    assert np.allclose(contracted.forward.data, 3.0)
    got = contracted_minutes(contracted, np.arange(10), np.arange(10))
    assert np.allclose(got, dijkstra(graph))


def test_one_way_ring_keeps_direction() -> None:
    n = 5
    src = np.arange(n)
    dst = (src + 1) % n
    graph = least_graph(src, dst, np.arange(1.0, n + 1), n)
    contracted = contract_graph(graph)
    assert contracted.n_junctions == 1
    assert contracted.oneway.tolist() == [True]
    got = contracted_minutes(contracted, np.arange(n), np.arange(n))
    assert np.abs(got - dijkstra(graph)).max() < TOLERANCE


def test_demo_network_matrix_matches_full_dijkstra() -> None:
    network = read_road_network(DEMO_ROADS)
    contracted = contraction(network)
    assert contraction(network) is contracted  # built once per network
    assert contracted.n_junctions < network.n_nodes
    rng = np.random.default_rng(7)
    origins = rng.integers(0, network.n_nodes, 50)
    destinations = rng.integers(0, network.n_nodes, 20)
    reference = dijkstra(network.graph, indices=origins)[:, destinations]
    for cutoff in (None, cutoff_between(reference)):
        full = road_minutes(
            network,
            origins,
            destinations,
            search=SearchLimits(cutoff_minutes=cutoff),
            contract=False,
        )
        fast = road_minutes(
            network, origins, destinations, search=SearchLimits(cutoff_minutes=cutoff, chunk_size=4)
        )
        assert np.array_equal(np.isinf(fast), np.isinf(full))
        finite = np.isfinite(full)
        assert np.abs(fast[finite] - full[finite]).max() < TOLERANCE
        assert np.abs(fast[finite] - reference[finite]).max() < TOLERANCE
    # Chain nodes as both ends, including the same node and the same chain.
    on_chains = np.flatnonzero(contracted.chain == contracted.chain[contracted.chain >= 0][0])
    nodes = np.concatenate([on_chains, origins[:5]])
    full = road_minutes(network, nodes, nodes, contract=False)
    fast = road_minutes(network, nodes, nodes)
    assert np.abs(fast - full).max() < TOLERANCE
    assert np.all(np.diag(fast) == 0)
