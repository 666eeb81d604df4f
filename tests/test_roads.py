"""Road network: OSM reading, speeds, one-way, access, components, snapping, drive minutes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sitefinder.errors import DataError
from sitefinder.roads.osm import (
    MPH,
    RoadSpeeds,
    lonlat_to_grid,
    network_from_edges,
    parse_maxspeed,
    read_road_network,
    way_speed_kmh,
)
from sitefinder.roads.paths import Routing, drive_minutes, snap

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"
# Posted limits driven in full and no junction delay: minutes hand-checkable from the tags.
FULL_LIMIT = RoadSpeeds(maxspeed_fraction=1.0, junction_seconds=0.0)

# Nodes 1-2-3 run north along the meridian 1°W, about 111 m apart; node 5 lies east.
NODES = {
    1: (-1.0, 52.000),
    2: (-1.0, 52.001),
    3: (-1.0, 52.002),
    5: (-0.997, 52.0015),
    20: (-0.9, 52.1),  # the island
    21: (-0.9, 52.101),
}
WAYS = [
    (10, [1, 2], {"highway": "residential", "maxspeed": "30 mph"}),
    (11, [2, 3], {"highway": "residential", "maxspeed": "20 mph", "oneway": "yes"}),
    (12, [3, 5, 1], {"highway": "residential", "maxspeed": "30 mph"}),
    (13, [2, 5], {"highway": "service", "access": "private"}),  # a shortcut taxis may not use
    (14, [1, 3], {"highway": "footway"}),
    (15, [20, 21], {"highway": "residential"}),  # the disconnected island
]


def write_osm(path: Path, nodes: dict = NODES, ways: list = WAYS) -> Path:
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='test'>"]
    for node_id, (lon, lat) in sorted(nodes.items()):
        lines.append(f"  <node id='{node_id}' version='1' lat='{lat}' lon='{lon}'/>")
    for way_id, refs, tags in ways:
        lines.append(f"  <way id='{way_id}' version='1'>")
        lines += [f"    <nd ref='{r}'/>" for r in refs]
        lines += [f"    <tag k='{k}' v='{v}'/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def grid(node_id: int) -> np.ndarray:
    x, y = lonlat_to_grid(np.array([NODES[node_id][0]]), np.array([NODES[node_id][1]]))
    return np.array([x[0], y[0]])


def metres(a: int, b: int) -> float:
    return float(np.hypot(*(grid(a) - grid(b))))


def minutes_at(length: float, mph: float) -> float:
    return length / (mph * MPH * 1000 / 60)


@pytest.fixture
def network(tmp_path: Path):
    return read_road_network(write_osm(tmp_path / "t.osm"), speeds=FULL_LIMIT)


def between(network, a: int, b: int) -> float:
    minutes, _ = drive_minutes(network, grid(a)[None], grid(b)[None])
    return float(minutes[0, 0])


def test_graph_keeps_drivable_connected_roads(network):
    assert sorted(network.node_ids.tolist()) == [1, 2, 3, 5]
    assert network.dropped_nodes == 2 and network.dropped_edges == 2  # the island, both ways
    # 1<->2, 2->3, 3<->5, 5<->1: no private 2-5, no footway 1-3
    assert network.n_edges == 7


def test_one_way_and_20_mph_street(network):
    expected = minutes_at(metres(1, 2), 30) + minutes_at(metres(2, 3), 20)
    assert between(network, 1, 3) == pytest.approx(expected, rel=1e-9)
    # 3 -> 2 may not use the one-way street nor the private road: round by node 5 and node 1
    back = minutes_at(metres(3, 5) + metres(5, 1) + metres(1, 2), 30)
    assert between(network, 3, 2) == pytest.approx(back, rel=1e-9)


def test_peak_factor_and_maxspeed_fraction_scale_minutes(tmp_path):
    path = write_osm(tmp_path / "t.osm")
    base = read_road_network(path, speeds=FULL_LIMIT)
    peak = read_road_network(path, speeds=replace(FULL_LIMIT, peak_factor=1.5))
    slow = read_road_network(path, speeds=replace(FULL_LIMIT, maxspeed_fraction=0.5))
    assert between(peak, 1, 3) == pytest.approx(1.5 * between(base, 1, 3))
    assert between(slow, 1, 3) == pytest.approx(2.0 * between(base, 1, 3))


def test_junction_delay_on_entering_a_junction():
    x = np.array([0.0, 1000.0, 2000.0, 1000.0])
    y = np.array([0.0, 0.0, 0.0, 1000.0])
    src, dst = np.array([0, 1, 1, 2, 1, 3]), np.array([1, 0, 2, 1, 3, 1])
    xy = np.column_stack([x + 450_000, y + 300_000])
    net = network_from_edges(xy, src, dst, np.ones(6), speeds=RoadSpeeds(junction_seconds=30.0))
    minutes, _ = drive_minutes(net, [[450_000, 300_000]], [[452_000, 300_000]])
    assert minutes[0, 0] == pytest.approx(2.5)  # two 1-minute links + 30 s at node 1


def test_snapping_adds_access_minutes_and_reports_far_points(network):
    origin = grid(1) + np.array([100.0, 0.0])  # 100 m east of node 1; node 5 is ~200 m away
    minutes, report = drive_minutes(
        network,
        origin[None],
        grid(3)[None],
        routing=Routing(access_speed_kmh=15.0, snap_warn_metres=50.0),
    )
    assert report.origin_metres[0] == pytest.approx(100.0, abs=1e-6)
    assert report.far_origins.tolist() == [0] and report.far_destinations.tolist() == []
    expected = 100.0 / (15_000 / 60) + between(network, 1, 3)
    assert minutes[0, 0] == pytest.approx(expected)
    nodes, distance = snap(network, np.vstack([grid(5), grid(2)]))
    assert network.node_ids[nodes].tolist() == [5, 2]
    assert distance == pytest.approx([0.0, 0.0], abs=1e-6)


def test_cutoff_chunks_and_direction_agree(network):
    points = np.vstack([grid(i) for i in (1, 2, 3, 5)])
    full, _ = drive_minutes(network, points, points)
    assert np.diag(full) == pytest.approx(np.zeros(4), abs=1e-9)
    one, _ = drive_minutes(network, points, points, routing=Routing(chunk_size=1))
    np.testing.assert_array_equal(full, one)
    # more origins than destinations runs backward from destinations; fewer runs forward
    few_dest, _ = drive_minutes(network, points, points[:2])
    few_orig, _ = drive_minutes(network, points[:2], points)
    np.testing.assert_allclose(few_dest, full[:, :2])
    np.testing.assert_allclose(few_orig, full[:2])
    cutoff = float(full[0, 2]) - 1e-6
    cut, _ = drive_minutes(network, points, points, routing=Routing(cutoff_minutes=cutoff))
    assert np.isinf(cut[0, 2])
    assert np.array_equal(np.isinf(cut), full > cutoff)


@pytest.mark.parametrize(
    ("value", "highway", "dual", "kmh"),
    [
        ("30 mph", "residential", False, 30 * MPH),
        ("20mph", "residential", False, 20 * MPH),
        ("50", "primary", False, 50.0),
        ("50 km/h", "primary", False, 50.0),
        ("30;40", "primary", False, 30.0),
        ("30 mph;40 mph", "primary", False, 30 * MPH),
        ("GB:national", "primary", False, 60 * MPH),
        ("national", "primary", True, 70 * MPH),
        ("GB:national", "motorway", False, 70 * MPH),
        ("GB:nsl_single", "trunk", True, 60 * MPH),
        ("GB:nsl_dual", "trunk", False, 70 * MPH),
        ("GB:motorway", "motorway", False, 70 * MPH),
        ("none", "motorway", False, 70 * MPH),
        ("walk", "living_street", False, 10.0),
        ("signals", "primary", False, None),
        ("0", "primary", False, None),
    ],
)
def test_parse_maxspeed(value, highway, dual, kmh):
    result = parse_maxspeed(value, highway=highway, dual=dual)
    assert result == (None if kmh is None else pytest.approx(kmh))


@pytest.mark.parametrize(
    ("tags", "direction"),
    [
        ({"highway": "residential"}, 0),
        ({"highway": "residential", "oneway": "yes"}, 1),
        ({"highway": "residential", "oneway": "true"}, 1),
        ({"highway": "residential", "oneway": "-1"}, -1),
        ({"highway": "tertiary", "junction": "roundabout"}, 1),
        ({"highway": "motorway"}, 1),
        ({"highway": "motorway", "oneway": "no"}, 0),
        ({"highway": "primary_link"}, 0),
    ],
)
def test_way_direction(tags, direction):
    rule = way_speed_kmh(tags)
    assert rule is not None and rule[1] == direction


@pytest.mark.parametrize(
    "tags",
    [
        {"highway": "footway"},
        {"highway": "cycleway"},
        {"highway": "track"},
        {"highway": "path"},
        {"highway": "residential", "access": "private"},
        {"highway": "residential", "access": "no"},
        {"highway": "residential", "motor_vehicle": "no"},
        {"highway": "residential", "access": "yes", "motorcar": "private"},
        {"highway": "service", "service": "parking_aisle"},
        {"highway": "pedestrian"},
    ],
)
def test_excluded_ways(tags):
    assert way_speed_kmh(tags) is None


def test_access_most_specific_wins_and_defaults():
    assert way_speed_kmh({"highway": "residential", "access": "no", "motor_vehicle": "yes"})
    assert way_speed_kmh({"highway": "service", "service": "driveway"}) is not None
    speed, _ = way_speed_kmh({"highway": "unclassified"}) or (0, 0)
    assert speed == 35.0
    capped, _ = way_speed_kmh({"highway": "unclassified", "maxspeed": "national"}) or (0, 0)
    assert capped == pytest.approx(40 * MPH)  # 60 mph * 0.8 capped at 40 mph on a lane


def test_unreadable_or_empty_files_raise_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_road_network(tmp_path / "missing.osm.pbf")
    empty = write_osm(tmp_path / "empty.osm", ways=[(14, [1, 3], {"highway": "footway"})])
    with pytest.raises(DataError, match="no drivable roads"):
        read_road_network(empty)


def test_demo_network_parses_and_covers_demoshire():
    path = DEMO_DIR / "roads.osm.pbf"
    network = read_road_network(path)
    assert network.n_nodes > 10_000
    assert network.dropped_nodes <= 0.01 * (network.n_nodes + network.dropped_nodes)
    for name in ("schools.csv", "areas.csv"):
        table = pd.read_csv(DEMO_DIR / name)
        _, distance = snap(network, table[["easting", "northing"]].to_numpy(dtype=float))
        assert distance.max() < 500, name
    # 600 m apart across the river, between the two bridges: a long way round
    west, east = [451_850.0, 316_800.0], [452_450.0, 316_800.0]
    minutes, _ = drive_minutes(network, [west], [east])
    assert minutes[0, 0] > 4.0


def test_rutland_oakham_to_uppingham(real_data):
    path = real_data / "rutland" / "rutland-2022-07-20.osm.pbf"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    network = read_road_network(path)
    x, y = lonlat_to_grid(np.array([-0.7275, -0.7220]), np.array([52.6700, 52.5870]))
    minutes, report = drive_minutes(network, [[x[0], y[0]]], [[x[1], y[1]]])
    assert 12 <= minutes[0, 0] <= 25
    assert not report.any_far
