"""Render a ranking run for people: a static A4 map (PNG) and a self-contained HTML report.

Both are made offline: the map with matplotlib's Agg canvas (no tiles, no network), the report
as one HTML file with its styles inline and the map embedded as a ``data:`` image.
"""

from __future__ import annotations

from sitefinder.render.html import write_report
from sitefinder.render.staticmap import draw_map, map_png

__all__ = ["draw_map", "map_png", "write_report"]
