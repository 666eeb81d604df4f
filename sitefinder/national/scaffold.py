"""``sitefinder init --authority England``: a national scenario from a folder's national files.

The national files are the ones a one-authority run cuts to its authority (docs/scenario.md,
"National runs (England)"): of each input's recognised files the largest is taken, the one
holding every authority (a GIAS extract of England against one authority's, England's LSOA
GeoPackage against one authority's polygons). Authority-specific inputs (postcodes, a road
network, a bases register) are left out: no national file of them exists. The scenario is
then checked the way a national run starts, by finding the authorities in its schools file.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sitefinder.discover import Candidate
from sitefinder.errors import DataError
from sitefinder.targets import check_target, write_atomic

ROLES = ("schools", "census", "census_sen", "districts", "boundaries", "population",
         "sen2_needs", "sen2_caseload")  # fmt: skip
"""The inputs a national scenario reads from national files."""
REQUIRED = ("schools", "population", "sen2_needs", "sen2_caseload")


@dataclass(frozen=True)
class EnglandScenario:
    """What ``init --authority England`` wrote.

    Attributes
    ----------
    path
        The scenario file.
    chosen
        The file taken for each input.
    authorities
        Authorities with establishments in its schools file (each ranked by a national run).
    """

    path: Path
    chosen: dict[str, Path]
    authorities: int


def _value(value: object) -> str:
    """A TOML value (strings, numbers, booleans and flat tables of them)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))


def _table(name: str, candidate: Candidate, keys: tuple[str, ...]) -> list[str]:
    lines = [f"[{name}]", f"path = {_value(candidate.path.resolve())}"]
    settings = candidate.settings
    lines += [f"{k} = {_value(settings[k])}" for k in keys if k in settings and k != "columns"]
    if "columns" in settings and "columns" in keys:
        lines += ["", f"[{name}.columns]"]
        lines += [f"{k} = {_value(v)}" for k, v in settings["columns"].items()]
    return lines


def render(chosen: dict[str, Candidate], *, places: int) -> str:
    """The scenario's text: the national files, greedy plans, crow-fly journeys, England's
    share of plans in bases and ``[national] places``."""
    out = [
        "# England: a national scenario written by `sitefinder init --authority England` from",
        "# the largest file of each input in the folder (the national files). Each authority is",
        '# ranked on them cut to it; see docs/scenario.md, "National runs (England)".',
        "#",
        "#   sitefinder rank --config england.toml --workers 2 --map england.png",
        "",
        'name = "England"',
        'authority = "England"',
        "bases = 2                        # REVIEW: each authority's own plan",
        "top = 5",
        "",
        "[selection]",
        'method = "greedy"                # the build order and its interchange, per authority',
        "",
        "[inputs]",
    ]
    for role in ("districts",):
        if role in chosen:
            out.append(f"{role} = {_value(chosen[role].path.resolve())}")
    out += ["", *_table("inputs.schools", chosen["schools"], ("format", "layer", "columns"))]
    schools = out.index("[inputs.schools]") + 2
    for role in ("census_sen", "census"):
        if role in chosen:
            out.insert(schools, f"{role} = {_value(chosen[role].path.resolve())}")
    if "boundaries" in chosen:
        out += ["", *_table("inputs.boundaries", chosen["boundaries"],
                            ("layer", "code_column", "name_column"))]  # fmt: skip
    out += [
        "",
        "[inputs.demand]",
        'method = "modelled"',
        f"population = {_value(chosen['population'].path.resolve())}",
        f"sen2_needs = {_value(chosen['sen2_needs'].path.resolve())}",
        f"sen2_caseload = {_value(chosen['sen2_caseload'].path.resolve())}",
        'share = "england"                # REVIEW: England\'s share of plans in bases everywhere',
        "",
        "[journey]",
        'method = "crowfly"               # one road network per authority is not national',
        "",
        "[national]",
        f"places = {places}                # REVIEW: new places allocated across England",
        "",
    ]
    return "\n".join(out)


def england_scenario(
    *, data: str, output: str | Path, overwrite: bool = False, places: int = 10_000
) -> EnglandScenario:
    """Write a national scenario (``authority = "England"``) from the national files in
    ``data``.

    Raises
    ------
    DataError
        If the folder holds no file for a required input (schools, population, the SEN2
        needs and caseload files), naming each; or the scenario's schools file names no
        authority.
    OutputError
        If ``output`` exists and ``overwrite`` is false, or is not a ``.toml`` file.
    """
    from sitefinder.config import load_scenario
    from sitefinder.discover import ROLE_LABELS
    from sitefinder.national.split import split_national
    from sitefinder.scaffold import examine_folder, resolve_data_folder

    target = check_target(output, overwrite=overwrite, suffix=".toml", kind="scenario file")
    folder = resolve_data_folder(data)
    examined = examine_folder(folder)
    chosen: dict[str, Candidate] = {}
    for role in ROLES:
        found = [c for c in examined.candidates if c.role == role]
        if found:
            chosen[role] = max(found, key=lambda c: (c.size, str(c.path)))
    missing = [role for role in REQUIRED if role not in chosen]
    if missing:
        raise DataError(
            [
                f"{folder}: no {ROLE_LABELS[role]} file found, so no national scenario can be"
                " written (the national files: GIAS's establishments, England's LSOA population,"
                " the DfE SEN2 needs and caseload files)"
                for role in missing
            ]
        )
    text = render(chosen, places=places)
    # Checked before it is written: a scenario whose schools file names no authority is not.
    with tempfile.TemporaryDirectory(prefix="sitefinder-init-") as scratch:
        trial = Path(scratch) / target.name
        trial.write_text(text, encoding="utf-8")
        split = split_national(load_scenario(trial))
    write_atomic(target, text.encode("utf-8"), overwrite=overwrite, kind="scenario file")
    return EnglandScenario(
        path=target,
        chosen={role: c.path for role, c in chosen.items()},
        authorities=len(split.authorities),
    )
