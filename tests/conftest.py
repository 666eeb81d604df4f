from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitefinder.resources import bundled_root, default_scenario_path

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
        files = {
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


@pytest.fixture
def real_data() -> Path:
    folder = os.environ.get("SITEFINDER_REAL_DATA")
    if not folder or not Path(folder).is_dir():
        pytest.skip("SITEFINDER_REAL_DATA is not set")
    return Path(folder)


@pytest.fixture(scope="session")
def trafford_result():
    """Trafford ranked once per test session with configs/examples/trafford.toml (about 10 s):
    the real-data tests that read its plan share it. Skips without SITEFINDER_REAL_DATA."""
    folder = os.environ.get("SITEFINDER_REAL_DATA")
    if not folder or not Path(folder).is_dir():
        pytest.skip("SITEFINDER_REAL_DATA is not set")
    from sitefinder.config import load_scenario
    from sitefinder.pipeline import rank

    return rank(load_scenario(bundled_root() / "configs" / "examples" / "trafford.toml"))
