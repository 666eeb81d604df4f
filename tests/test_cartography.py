"""One cartography: the PNG map, the QGIS styles and the report's map share measures, classes,
colours and symbols; the default measure counts children without a base place; the PNG's
labels never collide nor leave the frame, and names are never cut."""

from __future__ import annotations

import dataclasses
import io
import itertools
import math
import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from sitefinder import load_scenario, rank, with_settings, write_geopackage
from sitefinder.disclosure import Withheld
from sitefinder.published import demand_by_phase, every_child, positive, publish
from sitefinder.render import cartography as carto
from sitefinder.render import staticmap
from sitefinder.render.labels import Label, place_labels
from sitefinder.resources import default_scenario_path


@pytest.fixture(scope="module")
def run():
    scenario = with_settings(load_scenario(default_scenario_path()), {"top": 8})
    return publish(rank(scenario))


def test_the_mean_of_every_child_counts_the_fallback_journeys():
    # Hand-checked: 4 children, 3 without a base place on 40-minute fallback journeys, the
    # one placed on a 20-minute journey: (1 x 20 + 3 x 40) / 4 = 35 minutes, 75% unplaced.
    areas = pd.DataFrame(
        {
            "children": [4.0, 2.0, 0.0, 3.0, 6.0, Withheld("count", 5), Withheld("count", 5)],
            "unmet_after": [3.0, 2.0, 0.0, Withheld("count", 5), 0.0, 0.0, 6.0],
            "mean_minutes_after": [20.0, math.nan, math.nan, 12.0, 15.0, 11.0, 11.0],
            "fallback_minutes": [40.0, 50.0, math.nan, 30.0, math.nan, math.nan, 30.0],
        }
    )
    out = every_child(areas, 5)
    assert out["mean_minutes_all_after"][0] == pytest.approx(35.0)
    assert out["unplaced_share_after"][0] == pytest.approx(0.75)
    assert out["mean_minutes_all_after"][1] == pytest.approx(50.0)  # none placed: not blank
    assert math.isnan(out["mean_minutes_all_after"][2])  # no children
    # A withheld count withholds both: they would give it back.
    assert isinstance(out["mean_minutes_all_after"][3], Withheld)
    assert isinstance(out["unplaced_share_after"][3], Withheld)
    assert out["mean_minutes_all_after"][4] == pytest.approx(15.0)  # all placed
    assert out["unplaced_share_after"][4] == 0.0
    # A withheld count with every child placed: the placed children's mean, share 0.
    assert (out["mean_minutes_all_after"][5], out["unplaced_share_after"][5]) == (11.0, 0.0)
    assert isinstance(out["unplaced_share_after"][6], Withheld)  # 6 / a withheld count


def test_the_default_measure_counts_the_unplaced():
    assert carto.default_measure([4.0], [3.0], [40.0]) is carto.JOURNEY_ALL
    # the flat fallback gives the unplaced no journey: the share without a place is shown
    assert carto.default_measure([4.0], [3.0], [math.nan]) is carto.UNPLACED_SHARE
    assert carto.default_measure([4.0], [0.0], [math.nan]) is carto.JOURNEY_ALL


@given(st.lists(st.floats(0, 300), min_size=1, max_size=30),
       st.sampled_from(carto.MEASURES))  # fmt: skip
def test_classes_hold_every_value_and_touch(values, measure):
    if measure.kind == "share":
        values = [v / 300 for v in values]
    ranges = carto.classes(measure, values)
    assert all(a.upper == pytest.approx(b.lower) for a, b in itertools.pairwise(ranges))
    assert all(carto.class_of(ranges, v) is not None for v in values)
    assert len({r.color for r in ranges}) == len(ranges)
    assert ranges[0].lower == 0.0


def test_a_value_on_a_bound_is_in_the_lower_class_as_in_qgis():
    ranges = carto.classes(carto.JOURNEY_ALL, [12.0])
    assert [r.lower for r in ranges[:3]] == [0.0, 5.0, 10.0]
    assert carto.class_of(ranges, 10.0) == 1
    assert carto.class_of(ranges, 10.01) == 2
    share = carto.classes(carto.UNPLACED_SHARE, [])
    assert [r.label for r in share] == ["0% - 10%", "10% - 25%", "25% - 50%", "50% - 75%",
                                        "75% - 100%"]  # fmt: skip


def _rules(path) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(path)) as connection:
        (qml,) = connection.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'demand'"
        ).fetchone()
    root = ET.fromstring(qml)
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "RuleRenderer"
    colours = {
        s.get("name"): s.find(".//Option[@name='color']").get("value")
        for s in renderer.find("symbols")
    }
    return [
        (r.get("filter"), r.get("label"), colours[r.get("symbol")]) for r in renderer.iter("rule")
    ]


def _rgba(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},255"


def test_qgis_shades_the_areas_in_the_maps_classes_and_colours(run, tmp_path):
    path = write_geopackage(run, tmp_path / "run.gpkg")
    measure = staticmap.map_measure(run)
    assert measure is carto.JOURNEY_ALL  # the demo's fallback is special schools
    # The classes of every map: the areas' values and each phase's (the map's panels).
    ranges = carto.classes(measure, staticmap.class_values(run, measure))
    rules = _rules(path)
    assert rules[0][1:] == ("No children needing a place", _rgba(carto.NO_CHILDREN))
    assert rules[-1][2] == _rgba(carto.NO_VALUE)
    assert [(label, colour) for _, label, colour in rules[1:-1]] == [
        (r.label, _rgba(r.color)) for r in ranges
    ]
    assert all(measure.key in expression for expression, _, _ in rules[1:])
    # The points' symbols: the maps' shapes and colours.
    with closing(sqlite3.connect(path)) as connection:
        qml = dict(connection.execute("SELECT f_table_name, styleQML FROM layer_styles"))
    for layer, mark in (("existing_bases", carto.EXISTING), ("planned_bases", carto.NEW)):
        layer_options = ET.fromstring(qml[layer]).find(".//layer/Option")
        options = {o.get("name"): o.get("value") for o in layer_options}
        assert (options["name"], options["color"], options["size"]) == (
            mark.shape,
            _rgba(mark.fill),
            f"{mark.size_mm:g}",
        )


def test_the_png_fills_each_area_with_its_qgis_colour(run):
    # Draw the map and read back the pixel at each area's point on the primary panel: the
    # colour of its class, in the classes QGIS draws (every map's classes).
    measure = staticmap.map_measure(run)
    shading = staticmap._Shading.of(run, measure, staticmap.panel_phases(run))
    colours = shading.colours["primary"]
    figure = staticmap._figure(run, top=0, dpi=60, measure=measure)
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=60)
    image = matplotlib.image.imread(io.BytesIO(buffer.getvalue()))
    ax = figure.axes[0]
    assert ax.get_title(loc="left").startswith("Primary")
    areas = run["demand"]
    checked = 0
    for (x, y), colour in zip(areas[["easting", "northing"]].to_numpy(), colours, strict=True):
        px, py = ax.transData.transform((x, y))
        row, column = round(image.shape[0] - py), round(px)
        pixel = image[row - 1 : row + 2, column - 1 : column + 2, :3].reshape(-1, 3)
        want = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        if np.abs(pixel - want).max(axis=1).min() < 0.03:
            checked += 1
    assert checked >= 0.8 * len(areas)  # a few points sit under a school's mark
    assert shading.ranges == carto.classes(measure, staticmap.class_values(run, measure))
    primary = run["demand_by_phase"].query("phase == 'primary'").set_index("area_code")
    values = pd.to_numeric(primary.loc[areas["area_code"], measure.key], errors="coerce")
    for value, colour in zip(values, colours, strict=True):
        index = carto.class_of(shading.ranges, value)
        assert colour == (carto.NO_VALUE if index is None else shading.ranges[index].color) or (
            colour == carto.NO_CHILDREN
        )


def _cluster(seed: int, n: int):
    """A figure with ``n`` schools in a tight cluster in a corner (an Isle of Wight town at
    county scale): the hardest place to label."""
    figure = Figure(figsize=(4, 3), dpi=100)
    canvas = FigureCanvasAgg(figure)
    ax = figure.add_axes((0.05, 0.05, 0.9, 0.9))
    ax.set_xlim(0, 1000)
    ax.set_ylim(0, 750)
    rng = np.random.default_rng(seed)
    points = rng.uniform([930, 10], [995, 70], size=(n, 2))
    names = [f"{i + 1} Saint Bartholomew's Church of England Primary {i}" for i in range(n)]
    labels = [
        Label(x, y, staticmap._wrapped(staticmap.short_name(n)), str(i + 1), "#111", False, 3.0)
        for i, ((x, y), n) in enumerate(zip(points, names, strict=True))
    ]
    marks = [b for x, y in points for b in staticmap._mark_boxes(ax, [x], [y], carto.ELIGIBLE)]
    return figure, canvas, ax, labels, marks, names


def test_labels_never_overlap_nor_leave_the_frame_and_names_are_whole():
    _, canvas, ax, labels, marks, names = _cluster(7, 12)
    renderer = canvas.get_renderer()
    drawn = place_labels(ax, renderer, labels, list(marks))
    placed = [item for item in drawn if item is not None]
    assert len(placed) >= 8  # the rest fit nowhere: left out (the side panel lists them)
    canvas.draw()
    # Measured on the rendered figure: each text's own extent, as matplotlib drew it.
    boxes = [item.artist.get_window_extent(renderer) for item in placed]
    frame = ax.get_window_extent(renderer)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    for box in boxes:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0
        assert box.y1 <= frame.y1
        assert not any(box.overlaps(mark) for mark in marks)
    # The halo too: the boxes the placement kept apart hold the drawn texts.
    for item, box in zip(placed, boxes, strict=True):
        assert item.box.x0 <= box.x0 and box.x1 <= item.box.x1
        assert item.box.y0 <= box.y0 and box.y1 <= item.box.y1
    texts = [item.text for item in placed]
    assert not any("…" in t or "..." in t for t in texts)
    # Full names where they fit (they are wrapped, never cut), numbers where they do not.
    assert any("Bartholomew's" in t for t in texts)
    assert any(t.isdigit() for t in texts)
    assert all(t.replace("\n", " ") in {n.replace("Church of England", "CE") for n in names}
               or t.isdigit() for t in texts)  # fmt: skip


def test_labels_are_placed_the_same_way_every_time():
    def placement():
        _, canvas, ax, labels, marks, _ = _cluster(11, 9)
        drawn = place_labels(ax, canvas.get_renderer(), labels, marks)
        return [None if d is None else (d.text, tuple(np.round(d.box.extents, 6))) for d in drawn]

    assert placement() == placement()


def test_demand_by_phase_counts_each_phases_children_and_journeys():
    # Hand-checked: area A has 3 primary children placed (2 on 10-minute journeys, 1 on a
    # 20-minute one) and 1 without a place on a 40-minute fallback journey, and 3 secondary
    # children placed on 30-minute journeys; B has 2 primary children without a place (50
    # minutes) and 1 secondary child placed (5 minutes); C has none.
    assignments = pd.DataFrame(
        {
            "area_code": ["A", "A", "A", "B"],
            "phase": ["primary", "primary", "secondary", "secondary"],
            "children": [2.0, 1.0, 3.0, 1.0],
            "minutes": [10.0, 20.0, 30.0, 5.0],
        }
    )
    unplaced = pd.DataFrame(
        {
            "network": ["plan", "plan", "today"],
            "area_code": ["A", "B", "B"],
            "phase": ["primary", "primary", "secondary"],
            "kind": ["special", "special", "special"],
            "children": [1.0, 2.0, 9.0],  # "today" is before the plan: not counted
            "minutes": [40.0, 50.0, 99.0],
        }
    )
    table = demand_by_phase(
        assignments, unplaced, areas=["A", "B", "C"], phases=["primary", "secondary"], timed=True
    )
    assert list(zip(table["phase"], table["area_code"], strict=True)) == [
        ("primary", "A"), ("primary", "B"), ("primary", "C"),
        ("secondary", "A"), ("secondary", "B"), ("secondary", "C"),
    ]  # fmt: skip
    assert table["children"].tolist() == [4.0, 2.0, 0.0, 3.0, 1.0, 0.0]
    assert table["unmet_after"].tolist() == [1.0, 2.0, 0.0, 0.0, 0.0, 0.0]
    means = table["mean_minutes_after"].tolist()
    assert means[0] == pytest.approx(40 / 3) and means[3:5] == [30.0, 5.0]
    assert math.isnan(means[1]) and math.isnan(means[2])  # none placed
    assert table["fallback_minutes"].tolist()[:2] == [40.0, 50.0]
    every = every_child(table, 5)
    # A, primary: (3 x 13.33 + 1 x 40) / 4 = 20 minutes, a quarter without a base place.
    assert every["mean_minutes_all_after"][0] == pytest.approx(20.0)
    assert every["unplaced_share_after"][0] == pytest.approx(0.25)
    assert (every["mean_minutes_all_after"][1], every["unplaced_share_after"][1]) == (50.0, 1.0)
    flat = demand_by_phase(assignments, unplaced, areas=["A"], phases=["primary"], timed=False)
    assert "fallback_minutes" not in flat.columns


def _points(ax, colour: str) -> list[tuple[float, float]]:
    """Where the marks filled ``colour`` are on ``ax`` (the areas, drawn first, left out)."""
    return sorted(
        (round(float(x), 3), round(float(y), 3))
        for c in ax.collections[1:] if to_hex(c.get_facecolor()[0]) == colour
        for x, y in c.get_offsets()
    )  # fmt: skip


def _places(frame: pd.DataFrame) -> list[tuple[float, float]]:
    return sorted(
        (round(float(x), 3), round(float(y), 3))
        for x, y in zip(frame["easting"], frame["northing"], strict=True)
    )


def test_each_phases_panel_shows_its_children_bases_and_candidates(run):
    # The demo plans both phases: two panels, each shading the areas by its own phase's
    # figures (in the classes of every map) and marking only its phase's bases and candidates.
    measure = staticmap.map_measure(run)
    figure = staticmap._figure(run, top=8, dpi=40, measure=measure)
    panels = [ax for ax in figure.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left").split(":")[0] for ax in panels] == ["Primary", "Secondary"]
    ranges = carto.classes(measure, staticmap.class_values(run, measure))
    by_phase = run["demand_by_phase"]
    order = run["demand"]["area_code"].astype(str).tolist()
    fills = {}
    for ax, phase in zip(panels, ("primary", "secondary"), strict=True):
        mine = by_phase[by_phase["phase"] == phase].set_index("area_code").loc[order]
        want = [
            carto.area_colour(ranges, staticmap._float(v), children=positive(kids))
            for v, kids in zip(mine[measure.key], mine["children"], strict=True)
        ]
        areas = ax.collections[0]  # drawn first; the demo's areas all have polygons
        assert [to_hex(c) for c in areas.get_facecolor()] == want
        fills[phase] = want

        # Marks: only this phase's new bases (stars) and top candidates (white circles).
        def at(colour, ax=ax):
            return _points(ax, colour)

        def where(frame, phase=phase):
            return _places(frame[frame["phase"] == phase])

        assert at(carto.NEW.fill) == where(run["planned_bases"])
        assert at(carto.EXISTING.fill) == where(run["existing_bases"])
        assert at(carto.ELIGIBLE.fill) == where(run["ranking"].head(8))
        assert at(carto.NEW.fill)  # the demo plans a base in each phase
    # An area with children in one phase only is "no children" on the other's panel.
    assert any(
        (a == carto.NO_CHILDREN) != (b == carto.NO_CHILDREN)
        for a, b in zip(fills["primary"], fills["secondary"], strict=True)
    )


def test_a_run_without_the_table_by_phase_is_one_map(run):
    # e.g. a run published by another program: drawn as before, one map of every phase.
    tables = {name: run[name] for name in run.tables if name != "demand_by_phase"}
    older = dataclasses.replace(run, tables=tables)
    assert staticmap.panel_phases(run) == ["primary", "secondary"]
    assert staticmap.panel_phases(older) == []
    figure = staticmap._figure(older, top=3, dpi=40, measure=staticmap.map_measure(older))
    assert not any(ax.get_title(loc="left") for ax in figure.axes)


def test_a_one_phase_plan_is_one_map():
    scenario = load_scenario(default_scenario_path())
    result = rank(with_settings(scenario, {"phases": ["secondary"], "bases": 1, "top": 3}))
    run = publish(result)
    assert staticmap.panel_phases(run) == []
    figure = staticmap._figure(run, top=3, dpi=40, measure=staticmap.map_measure(run))
    assert not any(ax.get_title(loc="left") for ax in figure.axes)
    assert figure.axes[0].get_position().width == pytest.approx(0.68)  # the whole map area


def test_a_wide_authority_s_panels_stack_one_above_the_other():
    # Isle of Wight-like: 38 km across, 22 km high. Side by side each panel would be 3.9 in
    # wide (0.10 in a km); one above the other, 8.0 x 3.1 in (0.14 in a km): larger.
    assert staticmap._panel_places([(0, 0, 38_000, 22_000)]) == staticmap._STACKED
    # Trafford-like, about as wide as high: side by side (0.23 in a km against 0.21).
    assert staticmap._panel_places([(0, 0, 17_000, 15_000)]) == staticmap._SIDE_BY_SIDE
    for places in (staticmap._STACKED, staticmap._SIDE_BY_SIDE):  # the panels do not overlap
        (x0, y0, w0, _), (x1, y1, w1, h1) = places
        assert x0 + w0 <= x1 or y1 + h1 <= y0
        assert max(x0 + w0, x1 + w1) <= 0.70 + 1e-9  # left of the side panel
