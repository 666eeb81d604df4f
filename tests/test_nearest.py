"""Nearest distances for the extent check: numpy for small inputs, a KD-tree for large, the same
metres bit for bit (so the check's thresholds never depend on which was used)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from sitefinder import validate
from sitefinder.validate import nearest_metres

# Grid metres at the resolutions input files give them (whole metres, tenths), with repeats.
coordinate = st.integers(300_000_0, 420_000_0).map(lambda tenths: tenths / 10)
point = st.tuples(coordinate, coordinate)


@st.composite
def point_sets(draw):
    points = draw(st.lists(point, min_size=2, max_size=40))
    queries = draw(st.lists(st.one_of(point, st.sampled_from(points)), min_size=1, max_size=30))
    return np.array(points, dtype=float), np.array(queries, dtype=float)


@settings(max_examples=80, deadline=None)
@given(point_sets())
def test_numpy_and_kd_tree_give_the_same_metres(sets):
    points, queries = sets
    tree = cKDTree(points)
    assert np.array_equal(nearest_metres(points, queries), tree.query(queries)[0])
    # k = 2 over the points themselves: the nearest other point (0 for a repeated point)
    assert np.array_equal(nearest_metres(points, points, k=2), tree.query(points, k=2)[0][:, 1])


def test_large_inputs_take_the_kd_tree_with_the_same_answer(monkeypatch):
    rng = np.random.default_rng(7)
    points = rng.integers(0, 50_000, size=(300, 2)).astype(float)
    queries = np.vstack([points[:20], rng.integers(0, 60_000, size=(200, 2)).astype(float)])
    small = nearest_metres(points, queries), nearest_metres(points, points, k=2)
    monkeypatch.setattr(validate, "_BRUTE_FORCE_PAIRS", 0)
    large = nearest_metres(points, queries), nearest_metres(points, points, k=2)
    assert np.array_equal(small[0], large[0]) and np.array_equal(small[1], large[1])
    assert small[0][:20].tolist() == [0.0] * 20  # a query on a point is 0 metres from it


def test_blocks_of_queries_cover_every_query(monkeypatch):
    monkeypatch.setattr(validate, "_BLOCK_PAIRS", 3)  # one query a block, some blocks ragged
    points = np.array([[0.0, 0.0], [3.0, 4.0], [100.0, 0.0]])
    queries = np.array([[0.0, 0.0], [6.0, 8.0], [100.0, 1.0], [60.0, 0.0]])
    assert nearest_metres(points, queries).tolist() == pytest.approx([0.0, 5.0, 1.0, 40.0])
    # (100, 0)'s nearest other point is (3, 4): sqrt(97^2 + 4^2)
    assert nearest_metres(points, points, k=2).tolist() == pytest.approx([5.0, 5.0, 9425**0.5])
