"""docs/api.md lists the GeoPackage's layers and tables as the file holds them."""

from __future__ import annotations

import re
from pathlib import Path

from sitefinder.published import LAYERS, TABLES

API = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def test_the_api_page_lists_every_layer_and_table_in_order():
    text = API.read_text(encoding="utf-8")
    part = text.split("`write_geopackage(result, path", 1)[1].split("These are", 1)[0]
    named = re.findall(
        r"^- (?:the spatial layers|the tables|and) (.*?)(?=^- |\Z)", part, re.M | re.S
    )
    listed = [re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", item)) for item in named]
    assert listed == [list(LAYERS), list(TABLES), ["layer_styles"]]
