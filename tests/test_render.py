"""The static map (PNG) and the self-contained HTML report."""

from __future__ import annotations

import html
import re
import struct

import numpy as np
import pytest

from sitefinder import load_scenario, rank, with_settings
from sitefinder.errors import OutputError
from sitefinder.render import draw_map, write_report
from sitefinder.render.html import assumptions
from sitefinder.render.staticmap import FIGSIZE, drawable, short_name
from sitefinder.resources import default_scenario_path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 60  # small images keep the tests quick; the size check holds at any resolution


@pytest.fixture(scope="module")
def demo_result():
    return rank(with_settings(load_scenario(default_scenario_path()), {"top": 5}))


@pytest.fixture(scope="module")
def report_text(demo_result, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(demo_result, path, generated="2025-01-01 00:00 UTC")
    return path.read_text(encoding="utf-8")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_map_is_a_png_of_the_figure_size_and_deterministic(tmp_path, demo_result):
    first = draw_map(demo_result, tmp_path / "map.png", dpi=DPI)
    second = draw_map(demo_result, tmp_path / "again.png", dpi=DPI)
    data = first.read_bytes()
    assert _png_size(data) == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))
    assert data == second.read_bytes()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files


def _colour(image: np.ndarray, colour: str, *, within: float = 0.08) -> np.ndarray:
    """Pixels of ``image`` (RGB, 0-1) within ``within`` of ``colour`` on every channel."""
    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.abs(image[:, :, :3] - rgb).max(axis=2) < within


def _bases(result) -> tuple[np.ndarray, np.ndarray]:
    """Each new base's (easting, northing) and panel (0 primary, 1 secondary)."""
    chosen = result.plan.chosen
    schools = result.data.schools.set_index("urn")
    where = schools.loc[chosen["urn"], ["easting", "northing"]].to_numpy(float)
    return where, (chosen["phase"] == "secondary").to_numpy(int)


def test_map_draws_each_new_base_where_it_is_on_its_phases_panel(tmp_path, demo_result):
    # The plan's stars, found in the pixels of the map panels (the left 70%) by their colour
    # (thin purple label text eroded away), are one per new base, each on its phase's panel
    # (primary left, secondary right), and sit where the bases are: one scale for every pair on
    # both axes (the map is at one metre = one metre), north up, the panels side by side.
    from matplotlib.image import imread
    from scipy import ndimage

    image = imread(draw_map(demo_result, tmp_path / "map.png", dpi=100))
    purple = _colour(image, "#6a1b9a")
    purple[:, int(0.70 * image.shape[1]) :] = False  # the side panel's legend has a star too
    cores, found = ndimage.label(ndimage.binary_erosion(purple, structure=np.ones((3, 3))))
    sizes = ndimage.sum_labels(np.ones_like(cores), cores, range(1, found + 1))
    big = [i + 1 for i, size in enumerate(sizes) if size >= 20]  # a label's leader line may
    found = len(big)  # cut a sliver off a star; slivers are a few pixels, a star's core ~100
    stars = np.array(ndimage.center_of_mass(cores, cores, big))[:, ::-1]  # (column, row)
    where, panel = _bases(demo_result)
    assert found == len(where) == 3
    assert sorted(panel) == [0, 0, 1]  # two primary bases and a secondary one
    on = (stars[:, 0] > 0.36 * image.shape[1]).astype(int)
    assert _fit_one_scale(stars, on, where, panel) < 3  # pixels: about 150 metres


def test_map_refuses_to_overwrite_unless_asked(tmp_path, demo_result):
    target = tmp_path / "map.png"
    target.write_bytes(b"keep")
    with pytest.raises(OutputError, match="already exists"):
        draw_map(demo_result, target, dpi=DPI)
    assert target.read_bytes() == b"keep"
    draw_map(demo_result, target, overwrite=True, dpi=DPI)
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    with pytest.raises(OutputError, match=r"\.png, \.svg or \.pdf"):
        draw_map(demo_result, tmp_path / "map.jpg", dpi=DPI)


def _fit_one_scale(
    points: np.ndarray, on: np.ndarray, where: np.ndarray, panel: np.ndarray
) -> float:
    """Largest miss (in ``points``' units) of ``points`` (x right, y down) on panels ``on``
    from the bases at ``where`` (easting, northing) on panels ``panel``, under one scale on
    both axes, north up, each panel shifted along x. Matched in order of x within a panel."""
    assert sorted(on) == sorted(panel)  # as many on each panel as there are bases
    points = points[np.lexsort((points[:, 0], on))]
    order = np.lexsort((where[:, 0], panel))
    where, panel = where[order], panel[order]
    n = len(where)
    shifts = np.vstack([np.r_[panel == p, np.zeros(n)] for p in np.unique(panel)]).T
    design = np.column_stack(
        [np.r_[where[:, 0], -where[:, 1]], shifts, np.r_[np.zeros(n), np.ones(n)]]
    )
    target = np.r_[points[:, 0], points[:, 1]]
    fit, *_ = np.linalg.lstsq(design, target, rcond=None)
    assert fit[0] > 0
    return float(np.abs(design @ fit - target).max())


def test_map_is_also_an_svg_and_a_pdf_of_the_same_figure(tmp_path, demo_result):
    import xml.etree.ElementTree as ET

    svg = draw_map(demo_result, tmp_path / "plan.svg", dpi=DPI)
    assert svg.read_bytes() == draw_map(demo_result, tmp_path / "again.SVG", dpi=DPI).read_bytes()
    root = ET.fromstring(svg.read_bytes())
    width, height = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
    assert (width, height) == pytest.approx((FIGSIZE[0] * 72, FIGSIZE[1] * 72))  # A4, points
    # The plan's stars, as vector marks: one per new base, where the bases are (one scale on
    # both axes, north up), left of the side panel (whose legend has one star more).
    link = "{http://www.w3.org/1999/xlink}href"
    stars = np.array([
        (float(use.get("x")), float(use.get("y")))
        for use in root.iter("{http://www.w3.org/2000/svg}use")
        if "fill: #6a1b9a" in (use.get("style") or "") and use.get(link, "").startswith("#m")
    ])  # fmt: skip
    legend = stars[:, 0] > 0.70 * width
    assert legend.sum() == 1
    where, panel = _bases(demo_result)
    stars = stars[~legend]
    assert len(stars) == len(where) == 3
    on = (stars[:, 0] > 0.36 * width).astype(int)
    assert _fit_one_scale(stars, on, where, panel) < 0.5  # points
    pdf = draw_map(demo_result, tmp_path / "plan.pdf", dpi=DPI).read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert re.search(rb"/MediaBox \[ *0 0 842\.4 597\.6 *\]", pdf)
    assert b"/FontFile2" in pdf  # TrueType text, not outlines: it can be searched and copied
    assert b"/CreationDate" not in pdf
    assert pdf == draw_map(demo_result, tmp_path / "again.pdf", dpi=DPI).read_bytes()
    with pytest.raises(OutputError, match=r"must be a file ending in \.png, \.svg or \.pdf"):
        draw_map(demo_result, tmp_path / "plan.eps", dpi=DPI)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "again.SVG", "again.pdf", "plan.pdf", "plan.svg"
    ]  # fmt: skip


def test_report_refuses_to_overwrite_unless_asked(tmp_path, demo_result):
    target = tmp_path / "report.html"
    target.write_text("keep", encoding="utf-8")
    with pytest.raises(OutputError, match="already exists"):
        write_report(demo_result, target)
    assert target.read_text(encoding="utf-8") == "keep"
    with pytest.raises(OutputError, match="folder"):
        write_report(demo_result, tmp_path / "missing" / "report.html")


def test_report_holds_the_ranking_and_the_plan(report_text, demo_result):
    text = html.unescape(report_text)
    for name in demo_result.ranking.head(5)["name"]:
        assert name in text
    for name in demo_result.plan.chosen["name"]:
        assert name in text
    assert "The plan: 3 new bases chosen together" in report_text
    assert "proven optimal" in report_text or "optimality gap" in report_text
    assert "Generated 2025-01-01 00:00 UTC" in report_text
    for digest in demo_result.data.checksums.values():
        assert digest in report_text
    assert "fictional Demoshire" in report_text  # the credits name only the data used
    assert "OpenStreetMap" not in report_text  # the demo's road network is fictional too


def test_report_s_map_caption_names_its_panels(report_text):
    # The demo plans both phases: the printed map has a panel for each, and says so.
    caption = re.search(r"<figcaption>The printable map:(.*?)</figcaption>", report_text, re.S)
    assert caption is not None
    assert "One panel per phase (Primary, Secondary)" in caption.group(1)


def test_report_is_self_contained(report_text):
    lowered = report_text.lower()
    for banned in ('src="http', "src='http", 'href="http', "href='http", "<link", "<script src"):
        assert banned not in lowered
    for target in re.findall(r"url\(([^)]*)\)", lowered):
        assert target.strip("'\" ").startswith("data:")
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', report_text)


def test_report_suppresses_small_counts(report_text, demo_result):
    small = demo_result.ranking.head(5)["children_served"]
    assert ((small > 0) & (small < 5)).any()  # the demo has a small count to hide
    assert "&lt;5" in report_text
    assert "<5" not in re.sub(r"<[a-zA-Z/!][^>]*>", "", report_text)


def test_assumptions_name_their_source(demo_result):
    rows = {key: (value, source) for key, value, source in assumptions(demo_result.scenario)}
    source = str(demo_result.scenario.source)
    assert rows["harm.free_minutes"] == ("15.0", source)
    assert rows["top"] == ("5", "command line")  # a flag
    assert rows["journey.matrix"] == ("none", "default")
    assert rows["inputs.schools.format"] == ("sitefinder", "default")
    assert rows["inputs.schools.path"][1] == source  # written as the shorthand schools = "..."


def test_report_escapes_the_scenario_name(tmp_path, scenario_file):
    path = scenario_file('name = "Shire <b>& Co\'s \\"plan\\" $x$"\ntop = 3\nbases = 1\n')
    result = rank(load_scenario(path))
    report = write_report(result, tmp_path / "named.html", generated="")
    text = report.read_text(encoding="utf-8")
    assert "<b>" not in text
    assert "Shire &lt;b&gt;&amp; Co&#39;s &#34;plan&#34; $x$" in text
    assert "Generated" not in text
    assert rows_from(text, "name") == "Shire &lt;b&gt;&amp; Co&#39;s &#34;plan&#34; $x$"
    assert str(path.resolve()) in text  # values from the file name it as their source


def rows_from(text: str, key: str) -> str:
    match = re.search(rf'<td class="key">{re.escape(key)}</td><td class="mono">(.*?)</td>', text)
    assert match is not None
    return match.group(1)


def test_map_text_is_safe_to_draw():
    assert drawable("Shire\n<b>&\t☃ 漢") == "Shire <b>& ☃ ?"  # DejaVu Sans has ☃, not 漢
    assert short_name("St Mary's Church of England Primary School") == "St Mary's CE Primary"
    assert short_name("A" * 40) == "A" * 40  # never cut: long labels wrap


def sources_from(text: str) -> dict[str, tuple[str, str]]:
    """Every assumption row of a report: key -> (value, source), as escaped HTML text."""
    found = re.findall(
        r'<td class="key">(.*?)</td><td class="mono">(.*?)</td><td class="small">(.*?)</td>',
        text,
    )
    return {key: (value, source) for key, value, source in found}


def test_report_names_the_file_of_the_extends_chain_that_set_each_value(tmp_path, scenario_file):
    parent = scenario_file(
        'name = "Parent"\nbases = 2\n[harm]\nexponent = 2.0\n[journey]\nmethod = "crowfly"\n',
        name="parent.toml",
    )
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\nname = "Child"\ntop = 4\n', encoding="utf-8")
    scenario = with_settings(load_scenario(child), {"robustness.seed": 7})
    report = write_report(rank(scenario), tmp_path / "child.html", generated="")
    rows = sources_from(report.read_text(encoding="utf-8"))
    assert rows["name"] == ("Child", str(child.resolve()))  # the child overrides its parent
    assert rows["top"] == ("4", str(child.resolve()))
    assert rows["bases"] == ("2", str(parent.resolve()))  # inherited: the parent's file
    assert rows["harm.exponent"] == ("2.0", str(parent.resolve()))
    assert rows["journey.method"] == ("crowfly", str(parent.resolve()))
    assert rows["inputs.schools.path"][1] == str(parent.resolve())
    assert rows["harm.unmet"] == ("25.0", "default")
    assert rows["robustness.seed"] == ("7", "command line")
    text = report.read_text(encoding="utf-8")
    assert "has changed since this run" not in text and "set when run" not in text


def test_a_council_can_restyle_the_report(tmp_path, demo_result):
    styles = tmp_path / "style"
    styles.mkdir()
    (styles / "report.css").write_text("body { color: #123456; }\n", encoding="utf-8")
    report = write_report(demo_result, tmp_path / "styled.html", generated="", template_dir=styles)
    text = report.read_text(encoding="utf-8")
    assert "body { color: #123456; }" in text
    assert "border-bottom: 2px solid #6a1b9a" not in text  # the packaged style is replaced
    assert "Ranking of candidate host schools" in text  # the packaged page still used
    with pytest.raises(OutputError, match="template folder not found"):
        write_report(demo_result, tmp_path / "x.html", template_dir=tmp_path / "missing")


def test_ranking_table_keeps_key_columns_first(report_text):
    section = report_text.split('<section id="ranking">')[1].split("</section>")[0]
    headings = re.findall(r"<th(?: class=\"num\")?>(.*?)</th>", section)
    assert headings[:3] == ["Rank", "School (URN)", "In plan"]
    assert "Notes" in headings
    assert '<div class="wide">' in section  # scrolls inside its box when too wide


def test_credits_name_only_the_data_used(scenario_file, tmp_path):
    from types import SimpleNamespace

    from sitefinder.render.staticmap import OGL, OS_DATA, OSM, credits

    demo = load_scenario(default_scenario_path())
    assert credits(SimpleNamespace(scenario=demo)).startswith("Demo data: the fictional")
    assert OSM not in credits(SimpleNamespace(scenario=demo))  # a fictional road network
    boundaries = tmp_path / "lsoa.geojson"
    routed = scenario_file(
        f'[journey]\nmethod = "network"\nnetwork = "{tmp_path / "county.osm.pbf"}"\n'
        f'[inputs.boundaries]\npath = "{boundaries}"\n'
    )
    text = credits(SimpleNamespace(scenario=load_scenario(routed)))
    assert OSM in text and OGL in text and OS_DATA in text and "fictional" not in text
    crowfly = scenario_file(f'[inputs.boundaries]\npath = "{boundaries}"\n', name="c.toml")
    assert OSM not in credits(SimpleNamespace(scenario=load_scenario(crowfly)))
