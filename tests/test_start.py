"""Fast start: the command imports only what the command asked for needs.

Structural, not timed: each check runs in a fresh interpreter and lists the heavy libraries
that ended up in ``sys.modules`` (scikit-learn, geopandas, matplotlib, dask and HiGHS take
seconds to import between them; ``benchmarks/bench_start.py`` prints the times).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import DEMO_DIR

HEAVY = ("sklearn", "geopandas", "matplotlib", "dask", "highspy")
"""Never needed to parse a command line or answer --help and --version."""
SLOW = ("pandas", "scipy", "pyogrio", "jinja2", "osmium")
"""Also not needed before a command runs."""
NOT_TO_RANK = (
    "sklearn", "geopandas", "pyogrio", "shapely", "pyproj", "matplotlib", "dask", "jinja2",
    "osmium", "scipy.optimize", "scipy.spatial", "scipy.sparse.csgraph",
)  # fmt: skip
"""Not needed to rank one authority to stdout when the areas have their own table: the
polygons are read only for the outputs that draw them, the LPs go to HiGHS directly, and
nearest distances and crow-fly pairs of one authority are measured in numpy."""


def _loaded(code: str, modules: tuple[str, ...] = HEAVY + SLOW) -> list[str]:
    script = (
        "import json, sys\n"
        f"{code}\n"
        f"print(json.dumps(sorted(m for m in {list(modules)!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _command(*args: str) -> str:
    # The console entry point, as the installed script runs it; its exit is caught.
    return (
        f"sys.argv = ['sitefinder', *{list(args)!r}]\n"
        "from sitefinder.console import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )


def test_importing_the_cli_imports_no_heavy_library():
    assert _loaded("import sitefinder.cli") == []


def test_importing_the_package_imports_nothing_heavy():
    assert _loaded("import sitefinder") == []


@pytest.mark.parametrize(
    "args", [("--help",), ("--version",), ("rank", "--help"), ("rank", "--bases", "x")]
)
def test_help_version_and_usage_errors_import_no_heavy_library(args):
    assert _loaded(_command(*args)) == []


def test_validate_imports_no_solver_renderer_or_cluster():
    loaded = _loaded(_command("validate"))
    assert not set(loaded) & {"sklearn", "matplotlib", "dask", "highspy", "jinja2"}
    assert "pandas" in loaded  # it does read the files: the check itself is real


def test_rank_to_stdout_imports_no_geometry_renderer_or_scipy_extra(scenario_file):
    # The demo's areas table and polygons, crow-fly journeys (a road network would be built
    # on the first run of an empty cache, which is when graph searches are imported).
    config = scenario_file(
        '[journey]\nmethod = "crowfly"\n',
        inputs={"boundaries": str(DEMO_DIR / "boundaries.geojson")},
    )
    loaded = _loaded(_command("rank", "--config", str(config), "--format", "json"), NOT_TO_RANK)
    assert loaded == []


def test_the_console_script_leaves_the_garbage_collector_nothing_to_trace_at_exit():
    # Shutdown would otherwise trace every object of the scientific stack (about 0.2 s).
    script = "import gc, sys\n" + _command("--version") + "print(gc.get_freeze_count())\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.splitlines()[0].startswith("sitefinder ")
    assert int(done.stdout.splitlines()[-1]) > 1000
