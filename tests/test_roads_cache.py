"""Road cache: hits, and misses whenever the network file, points or a parameter change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_roads import NODES, WAYS, grid, write_osm

from sitefinder.roads import cache
from sitefinder.roads.cache import cached_drive_minutes, cached_road_network, default_cache_dir
from sitefinder.roads.osm import RoadSpeeds
from sitefinder.roads.paths import Routing


@pytest.fixture
def osm(tmp_path: Path) -> Path:
    return write_osm(tmp_path / "t.osm")


def test_network_cache_hits_then_misses_on_changed_content(osm, tmp_path):
    folder = tmp_path / "cache"
    first, use = cached_road_network(osm, cache_dir=folder)
    assert not use.hit
    second, use = cached_road_network(osm, cache_dir=folder)
    assert use.hit
    np.testing.assert_array_equal(first.graph.toarray(), second.graph.toarray())
    np.testing.assert_array_equal(first.node_ids, second.node_ids)
    assert (second.dropped_nodes, second.dropped_edges) == (first.dropped_nodes, 2)
    # same file name, new content: a 20 mph street becomes 10 mph
    ways = [(w, r, {**t, "maxspeed": "10 mph"} if w == 11 else t) for w, r, t in WAYS]
    write_osm(osm, NODES, ways)
    changed, use = cached_road_network(osm, cache_dir=folder)
    assert not use.hit
    assert changed.graph.sum() > first.graph.sum()


@pytest.mark.parametrize(
    "change",
    [
        RoadSpeeds(peak_factor=1.2),
        RoadSpeeds(maxspeed_fraction=0.7),
        RoadSpeeds(junction_seconds=5.0),
    ],
)
def test_network_cache_misses_on_any_parameter(osm, tmp_path, change):
    folder = tmp_path / "cache"
    cached_road_network(osm, cache_dir=folder)
    _, use = cached_road_network(osm, speeds=change, cache_dir=folder)
    assert not use.hit
    _, use = cached_road_network(osm, speeds=change, cache_dir=folder)
    assert use.hit


def test_matrix_cache_misses_on_points_parameters_and_network(osm, tmp_path):
    folder = tmp_path / "cache"
    network, _ = cached_road_network(osm, cache_dir=folder)
    origins = np.vstack([grid(1), grid(2)])
    dests = np.vstack([grid(3)])
    minutes, report, use = cached_drive_minutes(network, origins, dests, cache_dir=folder)
    assert not use.hit
    again, report2, use = cached_drive_minutes(network, origins, dests, cache_dir=folder)
    assert use.hit
    np.testing.assert_array_equal(minutes, again)
    np.testing.assert_array_equal(report.origin_metres, report2.origin_metres)
    changes = [
        Routing(cutoff_minutes=5.0),
        Routing(chunk_size=1),
        Routing(access_speed_kmh=10.0),
        Routing(snap_warn_metres=100.0),
    ]
    for change in changes:
        _, _, use = cached_drive_minutes(network, origins, dests, routing=change, cache_dir=folder)
        assert not use.hit, change
    moved = origins + np.array([[1.0, 0.0], [0.0, 0.0]])
    _, _, use = cached_drive_minutes(network, moved, dests, cache_dir=folder)
    assert not use.hit
    _, _, use = cached_drive_minutes(network, origins[::-1], dests, cache_dir=folder)
    assert not use.hit
    slower, _ = cached_road_network(osm, speeds=RoadSpeeds(peak_factor=2.0), cache_dir=folder)
    slow_minutes, _, use = cached_drive_minutes(slower, origins, dests, cache_dir=folder)
    assert not use.hit
    assert slow_minutes[0, 0] > minutes[0, 0]


def test_damaged_entry_is_a_miss_and_no_temp_files_remain(osm, tmp_path):
    folder = tmp_path / "cache"
    cached_road_network(osm, cache_dir=folder)
    (entry,) = folder.glob("network-*.npz")
    entry.write_bytes(b"not a zip")
    _, use = cached_road_network(osm, cache_dir=folder)
    assert not use.hit
    _, use = cached_road_network(osm, cache_dir=folder)
    assert use.hit
    assert not list(folder.glob(".tmp-*"))


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SITEFINDER_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("SITEFINDER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(cache.sys, "platform", "linux")
    assert default_cache_dir() == tmp_path / "xdg" / "sitefinder"
    cached_road_network(write_osm(tmp_path / "t.osm"))
    assert list((tmp_path / "xdg" / "sitefinder").glob("network-*.npz"))
