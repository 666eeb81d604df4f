from __future__ import annotations

import importlib.machinery
import os
import sys
from pathlib import Path

import pytest

# The suite tests sitefinder as installed: the wheel in CI (.ci/run installs it, then runs the
# README's test command), the checkout itself only through an editable install or a PYTHONPATH
# naming it. ``python -m pytest`` puts the working folder first on sys.path, which would import
# the checkout's sitefinder over the installed one: that entry goes, and the commands the tests
# start (``python -c``, ``python -m sitefinder``) run with PYTHONSAFEPATH=1 for the same reason.
CHECKOUT = Path(__file__).resolve().parents[1]
_NAMED = {Path(p).resolve() for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
_ELSEWHERE = [p for p in sys.path if Path(p or ".").resolve() != CHECKOUT]
_INSTALLED = importlib.machinery.PathFinder.find_spec("sitefinder", _ELSEWHERE)
# An editable install puts the checkout on sys.path itself (a .pth file): then the folder left
# without it holds no regular package (at most a namespace of bundled data), and it stays.
if CHECKOUT not in _NAMED and _INSTALLED is not None and _INSTALLED.origin is not None:
    sys.path[:] = _ELSEWHERE
os.environ["PYTHONSAFEPATH"] = "1"

from sitefinder.resources import bundled_root, default_scenario_path  # noqa: E402

DEMO_DIR = bundled_root() / "data" / "demo"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """Keep road networks and matrices cached by tests out of the user's cache folder."""
    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("SITEFINDER_CACHE_DIR")
    os.environ["SITEFINDER_CACHE_DIR"] = str(folder)
    yield
    if previous is None:
        del os.environ["SITEFINDER_CACHE_DIR"]
    else:
        os.environ["SITEFINDER_CACHE_DIR"] = previous


@pytest.fixture
def demo_config() -> Path:
    return default_scenario_path()


@pytest.fixture
def scenario_file(tmp_path: Path):
    """Write a scenario TOML into tmp_path that reads the demo inputs, plus extra text."""

    def write(
        extra: str = "", *, inputs: dict[str, str] | None = None, name: str = "s.toml"
    ) -> Path:
        files: dict[str, Path | str] = {
            "schools": DEMO_DIR / "schools.csv",
            "bases": DEMO_DIR / "bases.csv",
            "areas": DEMO_DIR / "areas.csv",
            "demand": DEMO_DIR / "demand.csv",
        }
        files.update(inputs or {})
        lines = ["[inputs]"] + [f'{k} = "{v}"' for k, v in files.items()]
        path = tmp_path / name
        path.write_text(extra + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


def _required() -> bool:
    return os.environ.get("SITEFINDER_REQUIRE_REAL_DATA", "").strip() not in ("", "0")


def _missing() -> str:
    folder = os.environ.get("SITEFINDER_REAL_DATA", "")
    if not folder:
        return "SITEFINDER_REAL_DATA is not set"
    return f"SITEFINDER_REAL_DATA={folder} is not a folder"


def pytest_configure(config: pytest.Config) -> None:
    # CI (.ci/run) sets SITEFINDER_REQUIRE_REAL_DATA: without the data the real-data tests
    # would all skip and the run still pass, so the run stops at once instead.
    if _required() and not real_data_folder(skip=False):
        raise pytest.UsageError(
            f"{_missing()}, and SITEFINDER_REQUIRE_REAL_DATA asks for the real-data tests: point"
            " SITEFINDER_REAL_DATA at the shared data folder (trafford/, rutland/, dfe/,"
            " england/), or unset SITEFINDER_REQUIRE_REAL_DATA to skip them"
        )


def real_data_folder(*, skip: bool = True) -> Path | None:
    """The real public extracts' folder (``SITEFINDER_REAL_DATA``). Without it the calling test
    skips (``skip``), or fails when ``SITEFINDER_REQUIRE_REAL_DATA`` is set; with ``skip``
    false, None."""
    folder = os.environ.get("SITEFINDER_REAL_DATA", "")
    if folder and Path(folder).is_dir():
        return Path(folder)
    if not skip:
        return None
    if _required():
        pytest.fail(f"{_missing()} (SITEFINDER_REQUIRE_REAL_DATA is set)")
    pytest.skip(_missing())


@pytest.fixture
def real_data() -> Path:
    folder = real_data_folder()
    assert folder is not None
    return folder


@pytest.fixture(scope="session")
def trafford_result():
    """Trafford ranked once per test session with configs/examples/trafford.toml (about 10 s):
    the real-data tests that read its plan share it. Skips without SITEFINDER_REAL_DATA."""
    real_data_folder()
    from sitefinder.config import load_scenario
    from sitefinder.pipeline import rank

    return rank(load_scenario(bundled_root() / "configs" / "examples" / "trafford.toml"))


@pytest.fixture(scope="session")
def trafford_assumed():
    """Trafford on the places GIAS implies (10 assumed at each of its 11 bases, not scaled to
    SEN2 as the example does) with 4 bases asked and no programme, ranked once per session:
    45 children without a place, so a plan of several bases whose set differs from the greedy
    order's. Skips without SITEFINDER_REAL_DATA."""
    real_data_folder()
    from sitefinder.config import load_scenario, with_settings
    from sitefinder.pipeline import rank

    scenario = with_settings(
        load_scenario(bundled_root() / "configs" / "examples" / "trafford.toml"),
        {"inputs.schools.capacity_from": "default", "bases": 4, "programme.bases": 0},
    )
    return rank(scenario)
