"""Exact contraction of pass-through road nodes, for faster drive-minute matrices.

Most nodes of an OSM road graph only shape a road's curve: they have exactly two distinct
neighbours ``a != b`` and are either passed both ways (edges ``a->v, v->b, b->v, v->a``) or one
way through (``a->v, v->b`` only). These are *pass-through* nodes; every other node is a
*junction*. A maximal run of pass-through nodes between two junctions (possibly the same
junction: a loop) is a *chain*, and a shortest path between junctions that enters a chain
drives all of it. So the junctions, linked by the original junction-to-junction edges plus one
edge per chain end to end and direction allowed (the quickest of parallel edges kept), form a
much smaller graph with the same junction-to-junction minutes.

Points on a chain are reached exactly through its two endpoints: each pass-through node keeps
its chain, its position along it, the chain's endpoint junctions ``a`` and ``b`` and the
along-chain minutes to and from each endpoint (``inf`` against a one-way chain). Then

* a *source* on a chain is a virtual node of the search graph with edges to its chain's
  endpoints, weighted by the along-chain minutes (a junction source is itself);
* a *target* on a chain takes the least of (minutes to its endpoint + along-chain minutes);
* a source and target on the *same* chain also get the direct along-chain minutes when the
  direction allows (0 when they are the same node).

The results equal a plain Dijkstra over the full graph up to floating-point rounding (sums in a
different order; about 1e-12 minutes). A pure cycle of pass-through nodes with no junction (a
graph that is one ring) has its lowest-numbered node made a junction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

# Bytes one chunk's distance block may use when chunk_size is not given.
DEFAULT_CHUNK_BYTES = 256 * 1024**2


@dataclass(frozen=True)
class SearchLimits:
    """How far the Dijkstra searches run and how many sources each call takes.

    Attributes
    ----------
    cutoff_minutes
        Minutes past which a journey comes back as ``inf``; the searches stop there too,
        which is much faster on a large network. None: no cutoff.
    chunk_size
        Sources per Dijkstra call. None: as many as fit ``chunk_bytes``.
    chunk_bytes
        Bytes one chunk's (chunk, search nodes) distance block may use when ``chunk_size``
        is None.
    """

    cutoff_minutes: float | None = None
    chunk_size: int | None = None
    chunk_bytes: int = DEFAULT_CHUNK_BYTES

    def __post_init__(self) -> None:
        if self.cutoff_minutes is not None and not self.cutoff_minutes >= 0:
            raise ValueError(f"cutoff_minutes must be >= 0, got {self.cutoff_minutes}")
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")

    @property
    def limit(self) -> float:
        """The cutoff in minutes, ``inf`` when there is none (scipy's ``limit``)."""
        return np.inf if self.cutoff_minutes is None else float(self.cutoff_minutes)

    def sources_per_call(self, n_search: int) -> int:
        """Sources per Dijkstra call over a graph of ``n_search`` nodes."""
        if self.chunk_size is not None:
            return self.chunk_size
        return max(1, self.chunk_bytes // (8 * max(n_search, 1)))


NO_LIMITS = SearchLimits()


@dataclass(frozen=True, eq=False)
class ContractedNetwork:
    """A road graph with its pass-through chains replaced by junction-to-junction edges.

    Junction indices (``end_a``, ``end_b``, the graphs' rows and columns) number the junctions
    0..n_junctions-1; ``junctions`` maps them back to nodes of the full graph.

    Attributes
    ----------
    junctions
        Full-graph node index of each junction, ascending, shape (n_junctions,).
    forward
        CSR matrix, shape (n_junctions, n_junctions): least minutes from junction i to
        junction j over one original edge or one whole chain.
    reverse
        The transpose of ``forward`` (CSR), for searches towards a destination.
    chain
        Chain of each full-graph node, shape (n_nodes,); -1 for a junction.
    position
        Place of each node along its chain, 1 next to ``end_a``; 0 for a junction.
    end_a, end_b
        Junction index of each node's chain endpoints, shape (n_nodes,); a one-way chain runs
        from ``end_a`` to ``end_b``. A junction's own index for a junction.
    to_a, to_b, from_a, from_b
        Along-chain minutes from each node to ``end_a``/``end_b`` and from ``end_a``/``end_b``
        to it, shape (n_nodes,); ``inf`` against a one-way chain; 0 for a junction.
    oneway
        Whether each chain is one-way, shape (n_chains,).
    n_nodes, n_edges
        Size of the full graph (nodes, directed edges without self-loops or duplicates).
    """

    junctions: NDArray[np.int64]
    forward: csr_matrix
    reverse: csr_matrix
    chain: NDArray[np.int64]
    position: NDArray[np.int64]
    end_a: NDArray[np.int64]
    end_b: NDArray[np.int64]
    to_a: NDArray[np.float64]
    to_b: NDArray[np.float64]
    from_a: NDArray[np.float64]
    from_b: NDArray[np.float64]
    oneway: NDArray[np.bool_]
    n_nodes: int
    n_edges: int

    @property
    def n_junctions(self) -> int:
        """Number of junctions (nodes of the contracted graph)."""
        return len(self.junctions)

    @property
    def n_junction_edges(self) -> int:
        """Number of directed edges of the contracted graph."""
        return int(self.forward.nnz)

    @property
    def n_chains(self) -> int:
        """Number of chains of pass-through nodes."""
        return len(self.oneway)


def _canonical(graph: csr_matrix) -> csr_matrix:
    """The graph as CSR with sorted indices, no self-loops, the least of parallel edges kept."""
    n = int(graph.shape[0])
    graph = csr_matrix(graph)
    rows = np.repeat(np.arange(n), np.diff(graph.indptr))
    if graph.has_canonical_format and not (graph.indices == rows).any():
        return csr_matrix(
            (graph.data.astype(np.float64), graph.indices.astype(np.int64), graph.indptr),
            shape=(n, n),
        )
    coo = graph.tocoo()
    src, dst = coo.row.astype(np.int64), coo.col.astype(np.int64)
    keep = src != dst  # with non-negative minutes a self-loop never shortens a path
    return _least_parallel(src[keep], dst[keep], coo.data.astype(np.float64)[keep], n)


def _least_parallel(
    src: NDArray[np.int64], dst: NDArray[np.int64], weight: NDArray[np.float64], n: int
) -> csr_matrix:
    """CSR (n, n) of the edges, keeping the least weight of parallel edges (no summing)."""
    order = np.lexsort((weight, dst, src))
    src, dst, weight = src[order], dst[order], weight[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    src, dst, weight = src[first], dst[first], weight[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return csr_matrix((weight, dst, indptr), shape=(n, n))


@dataclass(frozen=True, eq=False)
class _Edges:
    """Directed edges as parallel arrays: source node, target node, minutes."""

    src: NDArray[np.int64]
    dst: NDArray[np.int64]
    minutes: NDArray[np.float64]


def _junction_graph(jid: NDArray[np.int64], full: _Edges, chains: _Edges) -> csr_matrix:
    """CSR of the junction graph: the full graph's junction-to-junction edges plus the chain
    edges (junction indices), the least of parallel edges kept. ``jid`` maps full-graph nodes
    to junction indices (-1 on chains).

    The full graph's edges are already sorted and distinct, so only the (few) chain edges are
    sorted; a chain edge parallel to an existing edge lowers its minutes in place.
    """
    n_j = int((jid >= 0).sum())
    src, dst = full.src, full.dst
    chain_src, chain_dst, chain_minutes = chains.src, chains.dst, chains.minutes
    direct = (jid[src] >= 0) & (jid[dst] >= 0)
    rows, cols = jid[src[direct]], jid[dst[direct]]
    minutes = full.minutes[direct].astype(np.float64)
    keys = rows * n_j + cols  # ascending: jid keeps node order
    chain_keys = chain_src * n_j + chain_dst
    order = np.lexsort((chain_minutes, chain_keys))
    chain_keys, chain_minutes = chain_keys[order], chain_minutes[order]
    first = np.ones(len(chain_keys), dtype=bool)
    first[1:] = chain_keys[1:] != chain_keys[:-1]
    chain_keys, chain_minutes = chain_keys[first], chain_minutes[first]
    at = np.minimum(np.searchsorted(keys, chain_keys), max(len(keys) - 1, 0))
    hit = keys[at] == chain_keys if len(keys) else np.zeros(len(chain_keys), dtype=bool)
    minutes[at[hit]] = np.minimum(minutes[at[hit]], chain_minutes[hit])
    new = ~hit
    graph = csr_matrix(
        (
            np.concatenate([minutes, chain_minutes[new]]),
            (
                np.concatenate([rows, chain_keys[new] // max(n_j, 1)]),
                np.concatenate([cols, chain_keys[new] % max(n_j, 1)]),
            ),
        ),
        shape=(n_j, n_j),
    )
    graph.sort_indices()
    return graph


@dataclass
class _Walks:
    """Chains found by walking from junctions, one row per visited chain node."""

    walker: NDArray[np.int64]  # walker of each record
    node: NDArray[np.int64]
    step: NDArray[np.int64]  # 1 for the first node after the start junction
    fw: NDArray[np.float64]  # minutes start junction -> node
    bw: NDArray[np.float64]  # minutes node -> start junction (inf one-way)
    start: NDArray[np.int64]  # per walker: start junction (full-graph node)
    end: NDArray[np.int64]  # per walker: end junction
    total_fw: NDArray[np.float64]  # per walker: minutes start -> end along the chain
    total_bw: NDArray[np.float64]  # per walker: minutes end -> start (inf one-way)
    first: NDArray[np.int64]  # per walker: first chain node
    last: NDArray[np.int64]  # per walker: last chain node


def _edge_minutes(
    graph: csr_matrix, row: NDArray[np.int64], col: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Minutes of entry (row, col) of a canonical CSR whose given rows hold at most 2 entries;
    ``inf`` where absent."""
    start = graph.indptr[row]
    count = graph.indptr[row + 1] - start
    last = max(len(graph.indices) - 1, 0)
    at0 = np.minimum(start, last)
    at1 = np.minimum(start + 1, last)
    first = (count > 0) & (graph.indices[at0] == col)
    second = (count > 1) & (graph.indices[at1] == col)
    return np.where(first, graph.data[at0], np.where(second, graph.data[at1], np.inf))


@dataclass(frozen=True, eq=False)
class _Neighbours:
    """Each node's place in the chain structure, shape (n,) each.

    ``junction`` marks junctions; ``one_way`` one-way pass-through nodes. A pass-through node's
    two distinct neighbours are ``nb1 < nb2`` (-1 for a junction); a one-way one enters from
    ``in_nb`` and leaves to ``out_nb``. The arrays are updated in place when rings are broken.
    """

    junction: NDArray[np.bool_]
    one_way: NDArray[np.bool_]
    nb1: NDArray[np.int64]
    nb2: NDArray[np.int64]
    in_nb: NDArray[np.int64]
    out_nb: NDArray[np.int64]


def _walk(graph: csr_matrix, transpose: csr_matrix, around: _Neighbours) -> _Walks:
    """Walk every chain from its start junction(s), all chains at once, one node per step.

    ``graph`` and ``transpose`` are the canonical CSR graph and its transpose; a pass-through
    node has at most two out-edges and two in-edges, which is all that is looked up.
    """
    junction, one_way = around.junction, around.one_way
    nb1, nb2, in_nb, out_nb = around.nb1, around.nb2, around.in_nb, around.out_nb
    n = len(junction)
    chain_node = np.flatnonzero(~junction & (nb1 >= 0))
    starts_v: list[NDArray[np.int64]] = []
    starts_j: list[NDArray[np.int64]] = []
    for nb in (nb1, nb2):
        j = nb[chain_node]
        ok = junction[j] & (~one_way[chain_node] | (in_nb[chain_node] == j))
        starts_v.append(chain_node[ok])
        starts_j.append(j[ok])
    cur = np.concatenate(starts_v)
    prev = np.concatenate(starts_j)
    m = len(cur)
    start, first = prev.copy(), cur.copy()
    end = np.full(m, -1, dtype=np.int64)
    last = np.full(m, -1, dtype=np.int64)
    total_fw = np.full(m, np.inf)
    total_bw = np.full(m, np.inf)
    walker = np.arange(m, dtype=np.int64)
    # Per pass-through node: minutes to and from each neighbour (inf where no edge).
    nodes = np.flatnonzero(nb1 >= 0)
    out1, out2, in1, in2 = (np.full(n, np.inf) for _ in range(4))
    out1[nodes] = _edge_minutes(graph, nodes, nb1[nodes])
    out2[nodes] = _edge_minutes(graph, nodes, nb2[nodes])
    in1[nodes] = _edge_minutes(transpose, nodes, nb1[nodes])
    in2[nodes] = _edge_minutes(transpose, nodes, nb2[nodes])
    # The neighbour a walk leaves to, having come from nb1 or from nb2.
    after1 = np.where(one_way, out_nb, nb2)
    after2 = np.where(one_way, out_nb, nb1)
    from1 = prev == nb1[cur]
    fw = np.where(from1, in1[cur], in2[cur])  # prev -> cur
    bw = np.where(from1, out1[cur], out2[cur])  # cur -> prev
    records: list[
        tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]
    ] = []
    steps: list[NDArray[np.int64]] = []
    step = 1
    while len(cur):
        if step > n:  # chains are simple paths; more steps than nodes would be a bug
            raise RuntimeError("chain walk did not end at a junction")
        records.append((walker, cur, fw, bw))
        steps.append(np.full(len(cur), step, dtype=np.int64))
        nxt = np.where(prev == nb1[cur], after1[cur], after2[cur])
        to1 = nxt == nb1[cur]
        fw = fw + np.where(to1, out1[cur], out2[cur])
        bw = bw + np.where(to1, in1[cur], in2[cur])
        done = junction[nxt]
        if done.any():
            ended = walker[done]
            end[ended], last[ended] = nxt[done], cur[done]
            total_fw[ended], total_bw[ended] = fw[done], bw[done]
            going = ~done
            walker, prev, cur = walker[going], cur[going], nxt[going]
            fw, bw = fw[going], bw[going]
        else:
            prev, cur = cur, nxt
        step += 1
    if records:
        rec_walker = np.concatenate([r[0] for r in records])
        rec_node = np.concatenate([r[1] for r in records])
        rec_fw = np.concatenate([r[2] for r in records])
        rec_bw = np.concatenate([r[3] for r in records])
        rec_step = np.concatenate(steps)
    else:
        rec_walker = rec_node = rec_step = np.zeros(0, dtype=np.int64)
        rec_fw = rec_bw = np.zeros(0)
    return _Walks(
        rec_walker, rec_node, rec_step, rec_fw, rec_bw, start, end, total_fw, total_bw, first, last
    )


def contract_graph(graph: csr_matrix) -> ContractedNetwork:
    """Contract the pass-through nodes of a directed graph of edge minutes.

    Parameters
    ----------
    graph
        Square sparse matrix, shape (n, n): ``graph[i, j]`` is the minutes (>= 0) of the edge
        from node i to node j. Self-loops are ignored; stored duplicates keep their least
        minutes.

    Returns
    -------
    ContractedNetwork
        The junction graph and every node's place on its chain.
    """
    from scipy.sparse.csgraph import connected_components  # slow to import: not for a cached graph

    n = int(graph.shape[0])
    full = _canonical(graph)
    transpose = full.T.tocsr()  # row v lists v's in-edges by source
    transpose.sort_indices()
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(full.indptr))
    dst = full.indices.astype(np.int64)
    out_deg = np.diff(full.indptr)
    in_deg = np.diff(transpose.indptr)
    # Distinct neighbours either way: the pattern of graph + transpose.
    pattern = csr_matrix((np.ones(len(dst)), dst, full.indptr), shape=(n, n))
    both = (pattern + pattern.T).tocsr()
    both.sort_indices()
    degree = np.diff(both.indptr)
    two_way = (degree == 2) & (in_deg == 2) & (out_deg == 2)
    one_way = (degree == 2) & (in_deg == 1) & (out_deg == 1)
    passing = two_way | one_way
    pass_nodes = np.flatnonzero(passing)
    nb1 = np.full(n, -1, dtype=np.int64)
    nb2 = np.full(n, -1, dtype=np.int64)
    nb1[pass_nodes] = both.indices[both.indptr[pass_nodes]]
    nb2[pass_nodes] = both.indices[both.indptr[pass_nodes] + 1]
    in_nb = np.full(n, -1, dtype=np.int64)  # read only for one-way pass-through nodes,
    out_nb = np.full(n, -1, dtype=np.int64)  # which have exactly one in- and one out-edge
    in_nb[pass_nodes] = transpose.indices[transpose.indptr[pass_nodes]]
    out_nb[pass_nodes] = full.indices[full.indptr[pass_nodes]]
    junction = ~passing
    around = _Neighbours(junction, one_way, nb1, nb2, in_nb, out_nb)
    while True:
        walks = _walk(full, transpose, around)
        seen = np.zeros(n, dtype=bool)
        seen[walks.node] = True
        stuck = np.flatnonzero(~junction & ~seen)
        if len(stuck) == 0:
            break
        # Rings of pass-through nodes with no junction: make each ring's lowest node a junction.
        inside = np.zeros(n, dtype=bool)
        inside[stuck] = True
        ring_edges = inside[src] & inside[dst]
        ring = csr_matrix(
            (np.ones(int(ring_edges.sum())), (src[ring_edges], dst[ring_edges])), shape=(n, n)
        )
        _, labels = connected_components(ring, directed=False)
        _, lowest = np.unique(labels[stuck], return_index=True)
        junction[stuck[lowest]] = True
        nb1[stuck[lowest]] = -1
    # A two-way chain is walked from both ends: keep one walk, deterministically.
    n_walks = len(walks.start)
    oneway_walk = one_way[walks.first]
    keep_walk = (
        oneway_walk
        | (walks.first < walks.last)
        | ((walks.first == walks.last) & (walks.start < walks.end))
    )
    chain_of_walk = np.full(n_walks, -1, dtype=np.int64)
    chain_of_walk[keep_walk] = np.arange(int(keep_walk.sum()))
    junctions = np.flatnonzero(junction)
    jid = np.full(n, -1, dtype=np.int64)
    jid[junctions] = np.arange(len(junctions))

    chain = np.full(n, -1, dtype=np.int64)
    position = np.zeros(n, dtype=np.int64)
    end_a = jid.copy()
    end_b = jid.copy()
    to_a = np.zeros(n)
    to_b = np.zeros(n)
    from_a = np.zeros(n)
    from_b = np.zeros(n)
    kept = keep_walk[walks.walker]
    w, v = walks.walker[kept], walks.node[kept]
    chain[v] = chain_of_walk[w]
    position[v] = walks.step[kept]
    end_a[v] = jid[walks.start[w]]
    end_b[v] = jid[walks.end[w]]
    from_a[v] = walks.fw[kept]
    to_a[v] = walks.bw[kept]
    to_b[v] = walks.total_fw[w] - walks.fw[kept]
    is_oneway = oneway_walk[w]
    from_b[v] = np.inf
    two_v = v[~is_oneway]
    from_b[two_v] = walks.total_bw[w[~is_oneway]] - walks.bw[kept][~is_oneway]

    # Junction graph: original junction-to-junction edges plus each chain end to end.
    a = jid[walks.start[keep_walk]]
    b = jid[walks.end[keep_walk]]
    back = ~oneway_walk[keep_walk]
    chain_src = np.concatenate([a, b[back]])
    chain_dst = np.concatenate([b, a[back]])
    chain_minutes = np.concatenate([walks.total_fw[keep_walk], walks.total_bw[keep_walk][back]])
    loop = chain_src == chain_dst  # a loop chain back to its junction never shortens a path
    forward = _junction_graph(
        jid,
        _Edges(src, dst, full.data),
        _Edges(chain_src[~loop], chain_dst[~loop], chain_minutes[~loop]),
    )
    return ContractedNetwork(
        junctions=junctions,
        forward=forward,
        reverse=forward.T.tocsr(),
        chain=chain,
        position=position,
        end_a=end_a,
        end_b=end_b,
        to_a=to_a,
        to_b=to_b,
        from_a=from_a,
        from_b=from_b,
        oneway=oneway_walk[keep_walk],
        n_nodes=n,
        n_edges=len(src),
    )


def _same_chain_minutes(
    contraction: ContractedNetwork,
    origins: NDArray[np.int64],
    destinations: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Along-chain minutes for every origin/destination pair on one chain.

    Returns indices into ``origins`` and ``destinations`` and the minutes (``inf`` when the
    chain is one-way against the pair).
    """
    c = contraction
    o_chain, d_chain = c.chain[origins], c.chain[destinations]
    oi = np.flatnonzero(o_chain >= 0)
    di = np.flatnonzero(d_chain >= 0)
    di = di[np.argsort(d_chain[di], kind="stable")]
    d_keys = d_chain[di]
    lo = np.searchsorted(d_keys, o_chain[oi], side="left")
    hi = np.searchsorted(d_keys, o_chain[oi], side="right")
    counts = hi - lo
    total = int(counts.sum())
    pair_o = np.repeat(oi, counts)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_d = di[np.repeat(lo, counts) + within]
    o, d = origins[pair_o], destinations[pair_d]
    p, q = c.position[o], c.position[d]
    minutes = np.full(total, np.inf)
    minutes[p == q] = 0.0
    ahead = q > p  # towards end_b: allowed on every chain
    minutes[ahead] = c.from_a[d[ahead]] - c.from_a[o[ahead]]
    behind = (q < p) & ~c.oneway[c.chain[o]]
    minutes[behind] = c.to_a[o[behind]] - c.to_a[d[behind]]
    return pair_o, pair_d, minutes


def contracted_minutes(
    contraction: ContractedNetwork,
    origin_nodes: NDArray[np.int64],
    destination_nodes: NDArray[np.int64],
    *,
    search: SearchLimits = SearchLimits(),
) -> NDArray[np.float64]:
    """Shortest minutes between full-graph nodes, searched over the contracted graph.

    Runs one Dijkstra per source over the junction graph, from whichever side has fewer
    nodes: from each destination over the reversed graph, or from each origin forward.

    Parameters
    ----------
    contraction
        From :func:`contract_graph` of the full graph.
    origin_nodes, destination_nodes
        Full-graph node indices, shapes (n,) and (m,); distinct nodes avoid repeated searches.
    search
        The cutoff (minutes) and the sources per Dijkstra call.

    Returns
    -------
    numpy.ndarray
        Shape (n, m), minutes from each origin to each destination; ``inf`` where unreachable
        or past the cutoff.
    """
    from scipy.sparse.csgraph import dijkstra  # slow to import: not for a cached graph

    c = contraction
    origins = np.asarray(origin_nodes, dtype=np.int64)
    destinations = np.asarray(destination_nodes, dtype=np.int64)
    if len(origins) == 0 or len(destinations) == 0:
        return np.full((len(origins), len(destinations)), np.inf)
    backward = len(destinations) <= len(origins)
    if backward:  # search from each destination over the reversed junction graph
        graph, sources, targets = c.reverse, destinations, origins
        s_off_a, s_off_b = c.from_a[sources], c.from_b[sources]
        t_off_a, t_off_b = c.to_a[targets], c.to_b[targets]
    else:
        graph, sources, targets = c.forward, origins, destinations
        s_off_a, s_off_b = c.to_a[sources], c.to_b[sources]
        t_off_a, t_off_b = c.from_a[targets], c.from_b[targets]
    n_j = c.n_junctions
    # One virtual node per chain source, with edges to its chain's endpoints.
    virtual = np.flatnonzero(c.chain[sources] >= 0)
    search_index = c.end_a[sources].copy()
    search_index[virtual] = n_j + np.arange(len(virtual))
    v_a, v_b = c.end_a[sources[virtual]], c.end_b[sources[virtual]]
    w_a, w_b = s_off_a[virtual], s_off_b[virtual]
    loop = v_a == v_b
    w_a = np.where(loop, np.minimum(w_a, w_b), w_a)
    has_a, has_b = np.isfinite(w_a), np.isfinite(w_b) & ~loop
    # Virtual node rows follow the junction rows: each holds its a edge, then its b edge.
    counts = has_a.astype(np.int64) + has_b
    v_cols = np.column_stack([v_a, v_b])[np.column_stack([has_a, has_b])]
    v_data = np.column_stack([w_a, w_b])[np.column_stack([has_a, has_b])]
    n_search = n_j + len(virtual)
    search_graph = csr_matrix(
        (
            np.concatenate([graph.data, v_data]),
            np.concatenate([graph.indices, v_cols]),
            np.concatenate([graph.indptr, graph.indptr[-1] + np.cumsum(counts)]),
        ),
        shape=(n_search, n_search),
    )
    t_a, t_b = c.end_a[targets], c.end_b[targets]
    chunk_size = search.sources_per_call(n_search)
    limit = search.limit
    block = np.empty((len(sources), len(targets)))
    for first in range(0, len(sources), chunk_size):
        rows = search_index[first : first + chunk_size]
        dist = dijkstra(search_graph, directed=True, indices=rows, limit=limit)
        np.minimum(
            dist[:, t_a] + t_off_a, dist[:, t_b] + t_off_b, out=block[first : first + len(rows)]
        )
    matrix = block.T if backward else block  # (origins, destinations)
    pair_o, pair_d, along = _same_chain_minutes(c, origins, destinations)
    matrix[pair_o, pair_d] = np.minimum(matrix[pair_o, pair_d], along)
    matrix[matrix > limit] = np.inf
    return np.ascontiguousarray(matrix)
