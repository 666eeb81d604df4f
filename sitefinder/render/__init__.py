"""Render a ranking run for people: a static A4 map (PNG) and a self-contained HTML report.

Both are made offline: the map with matplotlib's Agg canvas (no tiles, no network), the report
as one HTML file with its styles inline, the map embedded as a ``data:`` image and an
interactive map (inline SVG and a small script). :mod:`sitefinder.render.cartography` holds the
one palette, classes and symbols every map (and the QGIS styles) uses. The writers are imported
when first used: the cartography alone needs no plotting library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitefinder.render.html import write_report
    from sitefinder.render.staticmap import draw_map, map_png

__all__ = ["draw_map", "map_png", "write_report"]


def __getattr__(name: str) -> Any:
    if name == "write_report":
        from sitefinder.render.html import write_report

        return write_report
    if name in ("draw_map", "map_png"):
        from sitefinder.render import staticmap

        return getattr(staticmap, name)
    raise AttributeError(f"module 'sitefinder.render' has no attribute {name!r}")
