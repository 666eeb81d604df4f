"""The static map (PNG) and the self-contained HTML report."""

from __future__ import annotations

import html
import re
import struct

import pytest

from sitefinder import load_scenario, rank, with_overrides
from sitefinder.errors import OutputError
from sitefinder.render import draw_map, write_report
from sitefinder.render.html import assumptions
from sitefinder.render.staticmap import FIGSIZE, drawable, short_name
from sitefinder.resources import default_scenario_path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 60  # small images keep the tests quick; the size check holds at any resolution


@pytest.fixture(scope="module")
def demo_result():
    return rank(with_overrides(load_scenario(default_scenario_path()), top=5))


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


def test_map_refuses_to_overwrite_unless_asked(tmp_path, demo_result):
    target = tmp_path / "map.png"
    target.write_bytes(b"keep")
    with pytest.raises(OutputError, match="already exists"):
        draw_map(demo_result, target, dpi=DPI)
    assert target.read_bytes() == b"keep"
    draw_map(demo_result, target, overwrite=True, dpi=DPI)
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    with pytest.raises(OutputError, match=r"\.png"):
        draw_map(demo_result, tmp_path / "map.jpg", dpi=DPI)


def test_report_refuses_to_overwrite_unless_asked(tmp_path, demo_result):
    target = tmp_path / "report.html"
    target.write_text("keep", encoding="utf-8")
    with pytest.raises(OutputError, match="already exists"):
        write_report(demo_result, target)
    assert target.read_text(encoding="utf-8") == "keep"
    with pytest.raises(OutputError, match="folder"):
        write_report(demo_result, tmp_path / "missing" / "report.html")


def test_report_holds_the_ranking_and_the_plan(report_text, demo_result):
    for name in demo_result.ranking.head(5)["name"]:
        assert html.escape(name) in report_text
    for name in demo_result.plan.chosen["name"]:
        assert html.escape(name) in report_text
    assert "The plan: 3 new bases chosen together" in report_text
    assert "proven optimal" in report_text or "optimality gap" in report_text
    assert "Generated 2025-01-01 00:00 UTC" in report_text
    for digest in demo_result.data.checksums.values():
        assert digest in report_text
    assert "Contains OS data" in report_text


def test_report_is_self_contained(report_text):
    lowered = report_text.lower()
    for banned in ('src="http', "src='http", 'href="http', "href='http", "<link", "<script"):
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
    rows = {key: (value, source) for key, value, source in assumptions(demo_result.scenario)[0]}
    source = str(demo_result.scenario.source)
    assert rows["harm.free_minutes"] == ("15.0", source)
    assert rows["top"] == ("5", "set when run (command line or program)")  # a flag
    assert rows["journey.matrix"] == ("none", "default")
    assert rows["inputs.schools.format"] == ("sitefinder", "default")


def test_report_escapes_the_scenario_name(tmp_path, scenario_file):
    path = scenario_file('name = "Shire <b>& Co\'s \\"plan\\" $x$"\ntop = 3\nbases = 1\n')
    result = rank(load_scenario(path))
    report = write_report(result, tmp_path / "named.html", generated="")
    text = report.read_text(encoding="utf-8")
    assert "<b>" not in text
    assert "Shire &lt;b&gt;&amp; Co&#x27;s &quot;plan&quot; $x$" in text
    assert "Generated" not in text
    assert rows_from(text, "name") == "Shire &lt;b&gt;&amp; Co&#x27;s &quot;plan&quot; $x$"
    assert str(path.resolve()) in text  # values from the file name it as their source


def rows_from(text: str, key: str) -> str:
    match = re.search(rf'<td class="key">{re.escape(key)}</td><td class="mono">(.*?)</td>', text)
    assert match is not None
    return match.group(1)


def test_map_text_is_safe_to_draw():
    assert drawable("Shire\n<b>&\t☃ 漢") == "Shire <b>& ☃ ?"  # DejaVu Sans has ☃, not 漢
    assert short_name("St Mary's Church of England Primary School") == "St Mary's CE Primary"
    assert short_name("A" * 40).endswith("…")
    assert len(short_name("A" * 40)) == 24
