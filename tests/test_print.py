"""The HTML report prints: in a real headless chromium, laid out as it prints on A4 (and Letter)
paper, no table is wider than the page, nothing is hidden in a scrolling box or cut off in a
cell, table headers repeat on every page a table runs onto, each section starts a page, and
chromium's own PDF has A4 pages. Skips where chromium is not installed (``.ci/run`` installs
Debian's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import chromium, pdf_pages, print_layout, print_pdf
from conftest import real_data_folder

from sitefinder import load_scenario, rank
from sitefinder.render import write_report
from sitefinder.resources import bundled_root, default_scenario_path

pytestmark = pytest.mark.skipif(chromium() is None, reason="chromium is not installed")

SECTIONS = ["summary", "map", "plan", "ranking", "network", "costs", "fallback", "left-out",
            "assumptions", "provenance"]  # fmt: skip
A4_POINTS = (595.3, 841.9)


def _problems(layout: dict[str, Any]) -> list[str]:
    """Everything in a print layout that would not print whole on the page."""
    page = layout["page"]
    found = []
    if layout["scroll"] > page:
        found.append(f"the page is {layout['scroll']} px wide, the paper {page}")
    for i, table in enumerate(layout["tables"]):
        where = f"table {i} ({table['section']}: {', '.join(table['header'][:3])}...)"
        if table["right"] > page + 0.5 or table["left"] < -0.5:
            found.append(f"{where} runs from {table['left']:.0f} to {table['right']:.0f} px"
                         f" on a {page} px page")  # fmt: skip
        if table["holder_hidden"] > 0:
            found.append(f"{where} hides {table['holder_hidden']} px in a scrolling box")
        if table["cells_clipped"]:
            found.append(f"{where} cuts off {table['cells_clipped']} cell(s)")
        if not table["header_repeats"]:
            found.append(f"{where} does not repeat its header on each page")
    for right in layout["images"]:
        if right > page + 0.5:
            found.append(f"an image reaches {right:.0f} px on a {page} px page")
    return found


def _check(report: Path, tmp_path: Path, *, sufficiency: bool = False) -> None:
    # a run with a sufficiency statement shows it before where the unplaced go
    sections = [*SECTIONS[:5], "sufficiency", *SECTIONS[5:]] if sufficiency else SECTIONS
    for paper in ("A4", "Letter"):
        layout = print_layout(report, paper=paper)
        assert len(layout["tables"]) >= 8, layout["tables"]
        assert _problems(layout) == [], paper
        breaks = {s["id"]: s["break_before"] for s in layout["sections"]}
        assert list(breaks) == sections
        assert [s for s, b in breaks.items() if b != "page"] == ["summary"]
    pages = pdf_pages(print_pdf(report, tmp_path / "report.pdf"))
    assert len(pages) >= len(sections)
    assert all(abs(w - A4_POINTS[0]) < 1 and abs(h - A4_POINTS[1]) < 1 for w, h in pages), pages


def test_the_demo_report_prints_on_a4(tmp_path):
    result = rank(load_scenario(default_scenario_path()))
    _check(write_report(result, tmp_path / "demo.html"), tmp_path)


def test_the_trafford_report_prints_on_a4(trafford_result, tmp_path):
    _check(write_report(trafford_result, tmp_path / "trafford.html"), tmp_path, sufficiency=True)


def test_the_measure_sees_a_table_wider_than_the_page(tmp_path):
    # The check itself: a table that cannot wrap, in a scrolling box, is caught.
    page = tmp_path / "wide.html"
    cells = "".join(f"<td>{'x' * 40}</td>" for _ in range(8))
    page.write_text(
        "<!DOCTYPE html><html><body><section id='s'><div style='overflow-x:auto'><table>"
        f"<thead><tr><th>a</th></tr></thead><tbody><tr>{cells}</tr></tbody></table></div>"
        "</section></body></html>",
        encoding="utf-8",
    )
    problems = _problems(print_layout(page))
    assert any("runs from" in p for p in problems) and any("scrolling box" in p for p in problems)


def test_the_rutland_report_prints_on_a4(tmp_path):
    real_data_folder()
    result = rank(load_scenario(bundled_root() / "configs" / "examples" / "rutland.toml"))
    _check(write_report(result, tmp_path / "rutland.html"), tmp_path, sufficiency=True)
