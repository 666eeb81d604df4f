"""The report's interactive map: self-contained SVG and script, in a real headless chromium it
renders, pans, zooms, recolours by the measure chosen, and a click on a school or an area shows
that school's or area's published figures. Browser tests skip where chromium is absent."""

from __future__ import annotations

import json
import re

import pytest
from browser import chromium, in_page

from sitefinder import load_scenario, rank, with_settings
from sitefinder.columns import PLAN, text_value
from sitefinder.published import publish
from sitefinder.render import cartography as carto
from sitefinder.render import write_report
from sitefinder.render.webmap import webmap
from sitefinder.resources import default_scenario_path

browser = pytest.mark.skipif(chromium() is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def run():
    return publish(rank(with_settings(load_scenario(default_scenario_path()), {"top": 5})))


@pytest.fixture(scope="module")
def report(run, tmp_path_factory):
    return write_report(run, tmp_path_factory.mktemp("webmap") / "report.html", generated="")


def _data(text: str) -> dict:
    found = re.search(r'<script type="application/json" id="wm-data">(.*?)</script>', text, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_the_map_is_inline_and_offline(report, run):
    text = report.read_text(encoding="utf-8")
    data = _data(text)
    assert len(data["areas"]) == len(run["demand"]) == len(data["children"])
    assert len(data["schools"]) == len(run["candidates"])
    assert data["measures"][0]["key"] == "mean_minutes_all_after"
    script = text[text.index('<div class="webmap"') : text.index("<figure>")]
    assert "<script src" not in script and "fetch(" not in script and "import(" not in script
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", script)
    assert 'href="#wm-' in script  # marks use symbols defined in the page itself


def test_names_cannot_break_out_of_the_script(run):
    candidates = run["candidates"].copy()
    candidates.loc[0, "name"] = "</script><script>alert(1)</script> & <!--"
    tables = dict(run.tables)
    tables["candidates"] = candidates
    hostile = type(run)(run.facts, tables, run.area_shapes)
    built = webmap(hostile)
    assert "</script" not in built.data and "<!--" not in built.data
    assert json.loads(built.data)["schools"][0]["title"].startswith("</script>")
    assert "<script>" not in built.svg  # the <title> of its mark is escaped


def test_trafford_s_map_is_small(trafford_result):
    built = webmap(publish(trafford_result))
    size = len(built.svg.encode()) + len(built.data.encode())
    assert size < 400_000, size  # 139 areas simplified to 15 m, whole 10 m units
    assert built.svg.count("data-a=") == 139


CLICK = """(() => {{
  const target = document.querySelector({selector});
  target.dispatchEvent(new MouseEvent('click', {{bubbles: true}}));
  const info = document.getElementById('wm-info');
  return {{kind: info.dataset.kind, title: info.querySelector('h3').textContent,
           text: info.innerText}};
}})()"""


@browser
def test_a_click_on_a_school_shows_its_figures(report, run):
    chosen = run["plan_chosen"].iloc[0]
    index = [str(u) for u in run["candidates"]["urn"]].index(str(chosen["urn"]))
    harm = text_value(chosen["harm_averted"], next(c for c in PLAN if c.key == "harm_averted"))
    state, school, area = in_page(
        report,
        [
            """(() => ({areas: document.querySelectorAll('#wm-areas [data-a]').length,
              marks: document.querySelectorAll('#wm-marks [data-s]').length,
              width: document.getElementById('wm-svg').getBoundingClientRect().width}))()""",
            CLICK.format(selector=json.dumps(f'#wm-marks [data-s="{index}"]')),
            CLICK.format(selector=json.dumps('#wm-areas [data-a="0"]')),
        ],
    )
    assert state["areas"] == len(run["demand"])
    assert state["marks"] == len(run["candidates"])
    assert state["width"] > 300
    assert school["kind"] == "school"
    assert school["title"] == chosen["name"]
    assert f"In the plan: new base N{chosen['choice']}" in school["text"]
    assert harm in school["text"] and str(chosen["urn"]) in school["text"]
    code = str(run["demand"]["area_code"].iloc[0])
    assert area["kind"] == "area" and code in area["title"]
    assert "Children needing a base place" in area["text"]


@browser
def test_pan_zoom_and_the_measure_chooser(report, run):
    share = next(i for i, m in enumerate(_data(report.read_text("utf-8"))["measures"])
                 if m["key"] == carto.UNPLACED_SHARE.key)  # fmt: skip
    start, zoomed, panned, home, fills = in_page(
        report,
        [
            "document.getElementById('wm-svg').getAttribute('viewBox')",
            """(() => { const svg = document.getElementById('wm-svg');
                 const box = svg.getBoundingClientRect();
                 svg.dispatchEvent(new WheelEvent('wheel', {deltaY: -100, bubbles: true,
                   cancelable: true, clientX: box.left + box.width / 2,
                   clientY: box.top + box.height / 2}));
                 return svg.getAttribute('viewBox'); })()""",
            """(() => { const svg = document.getElementById('wm-svg');
                 const box = svg.getBoundingClientRect();
                 const at = {clientX: box.left + 100, clientY: box.top + 100, bubbles: true};
                 svg.dispatchEvent(new PointerEvent('pointerdown', at));
                 svg.dispatchEvent(new PointerEvent('pointermove',
                   {...at, clientX: at.clientX + 60}));
                 svg.dispatchEvent(new PointerEvent('pointerup', at));
                 return svg.getAttribute('viewBox'); })()""",
            """(() => { document.getElementById('wm-home').click();
                 return document.getElementById('wm-svg').getAttribute('viewBox'); })()""",
            f"""(() => {{ const chooser = document.getElementById('wm-measure');
                 chooser.selectedIndex = {share};
                 chooser.dispatchEvent(new Event('change'));
                 return [...document.querySelectorAll('#wm-areas [data-a]')]
                   .map(a => a.getAttribute('fill')); }})()""",
        ],
    )
    width = [float(v.split()[2]) for v in (start, zoomed, panned, home)]
    assert width[1] < width[0]  # zoomed in
    assert panned.split()[0] != zoomed.split()[0] and width[2] == width[1]  # moved, same zoom
    assert home == start
    values = run["demand"][carto.UNPLACED_SHARE.key]
    numbers = [float(v) if isinstance(v, float | int) else float("nan") for v in values]
    ranges = carto.classes(carto.UNPLACED_SHARE, [v for v in numbers if v == v])
    children = [carto.area_colour(ranges, v, children=True) for v in numbers]
    kids = _data(report.read_text("utf-8"))["children"]
    want = [c if k else carto.NO_CHILDREN for c, k in zip(children, kids, strict=True)]
    assert fills == want
