"""Every file in the shared real-data folder, given in every role a user could plausibly give
it, is validated without a traceback (issue 13's "Done when").

Each case puts one real file (Trafford, Rutland, the DfE SEN2 files, the OSM extract, England's
national files (GIAS, the school census and SEN tables, the district lookup and the LSOA
GeoPackage), even the data guidance and the folders' READMEs) into one input of a valid
baseline and runs
``sitefinder validate`` in-process: it must exit 0, or 1 with ``error:`` lines naming the
problem, and every line on stderr must be an ``error:``, ``warning:`` or ``note:`` line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from test_broken_inputs import Baseline, demo_baseline, gias_baseline, invoke

FOLDER = os.environ.get("SITEFINDER_REAL_DATA", "")
FILES = (
    sorted(str(p.relative_to(FOLDER)) for p in Path(FOLDER).rglob("*") if p.is_file())
    if FOLDER and Path(FOLDER).is_dir()
    else []
)


def _gias(section: str, key: str) -> Callable[[Path, Path], Baseline]:
    """A role in the GIAS baseline (modelled demand, Trafford): ``[section] key = file``."""

    def put(folder: Path, file: Path) -> Baseline:
        base = gias_baseline(folder)
        base.sections.setdefault(section, {})[key] = str(file)
        return base

    return put


def _demo(change: Callable[[Baseline, str], None]) -> Callable[[Path, Path], Baseline]:
    """A role in the demo baseline (sitefinder's own layout, counts, crow-fly journeys)."""

    def put(folder: Path, file: Path) -> Baseline:
        base = demo_baseline(folder)
        change(base, str(file))
        return base

    return put


def _inputs(key: str) -> Callable[[Baseline, str], None]:
    def change(base: Baseline, file: str) -> None:
        base.sections["inputs"][key] = file

    return change


def _pupils(base: Baseline, file: str) -> None:
    base.sections["inputs.demand"] = {"method": "pupils", "path": file}
    del base.sections["inputs"]["demand"]


def _journey(method: str) -> Callable[[Baseline, str], None]:
    def change(base: Baseline, file: str) -> None:
        base.sections["journey"] = {"method": method, method: file}

    return change


ROLES: dict[str, Callable[[Path, Path], Baseline]] = {
    "schools (GIAS)": _gias("inputs.schools", "path"),
    "schools (sitefinder layout)": _demo(_inputs("schools")),
    "bases register": _gias("inputs.bases", "path"),
    "areas": _demo(_inputs("areas")),
    "boundaries": _gias("inputs.boundaries", "path"),
    "population": _gias("inputs.demand", "population"),
    "postcodes": _gias("inputs", "postcodes"),
    "SEN2 needs": _gias("inputs.demand", "sen2_needs"),
    "SEN2 caseload": _gias("inputs.demand", "sen2_caseload"),
    "demand counts": _demo(_inputs("demand")),
    "pupil list": _demo(_pupils),
    "road network": _demo(_journey("network")),
    "travel matrix": _demo(_journey("matrix")),
}


# The roles a file of each kind could plausibly be given (a table in any table's role; a map
# layer (GeoJSON, or England's LSOA GeoPackage) or an OSM extract where a map or a table is
# read; the data guidance and the folders' READMEs where a DfE or ONS file is expected).
TABLE_ROLES = [role for role in ROLES if role != "road network"]
MAP_ROLES = ["schools (GIAS)", "schools (sitefinder layout)", "areas", "boundaries",
             "road network"]  # fmt: skip
PLAUSIBLE = {
    ".csv": TABLE_ROLES,
    ".geojson": MAP_ROLES,
    ".gpkg": MAP_ROLES,
    ".pbf": ["schools (GIAS)", "boundaries", "road network", "travel matrix"],
    ".txt": ["schools (GIAS)", "population", "SEN2 needs", "SEN2 caseload"],
    ".md": ["schools (GIAS)", "population", "SEN2 needs", "SEN2 caseload"],
}  # fmt: skip


def test_every_shared_file_has_plausible_roles(real_data):
    kinds = {Path(name).suffix for name in FILES}
    assert kinds <= set(PLAUSIBLE), kinds - set(PLAUSIBLE)


@pytest.mark.parametrize("role", ROLES)
def test_every_shared_file_in_every_role_validates_cleanly(real_data, tmp_path, role):
    assert FILES, "the shared data folder is empty"
    outcomes = {}
    given = [name for name in FILES if role in PLAUSIBLE.get(Path(name).suffix, ROLES)]
    for number, name in enumerate(given):
        folder = tmp_path / str(number)
        folder.mkdir()
        config = ROLES[role](folder, real_data / name).scenario()
        result = invoke(["validate", "--config", str(config)])  # asserts no traceback
        lines = result.stderr.splitlines()
        assert result.exit_code in (0, 1), (name, result.output)
        assert all(line.startswith(("error: ", "warning: ", "note: ")) for line in lines), (
            name,
            lines,
        )
        if result.exit_code == 1:
            errors = [line for line in lines if line.startswith("error: ")]
            assert errors and result.stdout == "", (name, result.output)
        outcomes[name] = result.exit_code
    # The national SEN2 files in their own roles are valid (the baseline is in Trafford).
    own = {
        "SEN2 needs": "dfe/ehcp2025_sen_needs_all_plans_all_LAs.csv",
        "SEN2 caseload": "dfe/ehcp2025_caseload_all_LAs.csv",
    }
    if role in own:
        assert outcomes[own[role]] == 0
