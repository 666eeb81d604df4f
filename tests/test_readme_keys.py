"""The scenario reference's key table (docs/scenario.md) documents every key of the scenario
model, with a unit and a default, and its simple defaults (numbers, true/false, names) are
the model's."""

from __future__ import annotations

import enum
import re
import typing
from collections.abc import Iterator
from pathlib import Path

import pydantic
from pydantic_core import PydanticUndefined

from sitefinder.config import NeedGroup, Scenario

README = Path(__file__).resolve().parent.parent / "docs" / "scenario.md"
INTERNAL = {"source", "source_sha256"}  # set by sitefinder, never written in a file


def _table() -> dict[str, tuple[str, str]]:
    """README key -> (unit, default), from the table under "Scenario files"."""
    text = README.read_text(encoding="utf-8").split("# Scenario files", 1)[1]
    text = text.split("\n## ", 1)[0]
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")[1:4]]  # the meaning may hold "|"
        if len(cells) == 3 and (key := re.fullmatch(r"`([a-z0-9_.<>]+)`", cells[0])):
            rows[key.group(1)] = (cells[1], cells[2])
    return rows


def _section(annotation: object) -> type[pydantic.BaseModel] | None:
    for option in (annotation, *typing.get_args(annotation)):
        if isinstance(option, type) and issubclass(option, pydantic.BaseModel):
            return option
    return None


def _keys(model: type[pydantic.BaseModel], prefix: str = "") -> Iterator[tuple[str, object]]:
    """Every dotted key a scenario file can set, with its default (PydanticUndefined when
    required)."""
    for name, field in model.model_fields.items():
        key = prefix + name
        if key in INTERNAL:
            continue
        default = field.default
        if default is PydanticUndefined and field.default_factory is not None:
            default = field.default_factory()  # type: ignore[call-arg]
        if name == "need_groups" and not prefix:
            yield from _keys(NeedGroup, "need_groups.<key>.")
            continue
        inner = _section(field.annotation)
        if inner is not None:
            if prefix == "inputs.":  # inputs.schools = "path" is shorthand: a key too
                yield key, default
            yield from _keys(inner, key + ".")
        else:
            yield key, default


def test_every_scenario_key_is_in_the_readme_table_with_unit_and_default():
    table = _table()
    keys = dict(_keys(Scenario))
    missing = sorted(set(keys) - set(table))
    assert missing == [], f"scenario keys missing from the README table: {missing}"
    for key in keys:
        unit, default = table[key]
        assert unit and default, key
    unknown = sorted(set(table) - set(keys) - {"extends"})
    assert unknown == [], f"README rows for keys the scenario does not have: {unknown}"


def _shown(cell: str) -> str:
    return cell.replace("`", "").strip().strip('"')


def test_simple_defaults_in_the_readme_are_the_models():
    table = _table()
    checked = 0
    for key, default in _keys(Scenario):
        if key.startswith("need_groups."):
            continue  # the default is the four Code of Practice groups, not a field default
        cell = _shown(table[key][1])
        if isinstance(default, enum.Enum):
            default = default.value
        if isinstance(default, bool):
            assert cell == str(default).lower(), key
        elif isinstance(default, int | float):
            assert float(cell) == default, key
        elif isinstance(default, str):
            assert cell == default, key
        elif default is PydanticUndefined:
            assert cell.startswith("required"), key
        else:
            continue
        checked += 1
    assert checked >= 50
