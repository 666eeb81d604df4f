"""How the suite runs (tests/conftest.py): against sitefinder as installed, not the checkout
beside it (in CI the wheel, with the demo and scenarios bundled inside it); and, when CI asks
for the real-data tests, failing at once without the data rather than skipping them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from conftest import CHECKOUT

import sitefinder


def _installed() -> Path:
    """Where the installed distribution's package is: the folder an editable install points
    at, else the package inside site-packages."""
    dist = distribution("sitefinder")
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    if direct.get("dir_info", {}).get("editable"):
        return Path(unquote(urlparse(direct["url"]).path)).resolve() / "sitefinder"
    return Path(str(dist.locate_file("sitefinder"))).resolve()


def _chosen_by_hand(imported: Path) -> bool:
    entries = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return any(imported.is_relative_to(Path(p).resolve()) for p in entries)


def test_the_suite_imports_the_installed_sitefinder():
    imported = Path(sitefinder.__file__).resolve().parent
    if _chosen_by_hand(imported):
        pytest.skip(f"PYTHONPATH names the sitefinder imported ({imported})")
    assert imported == _installed()


def test_commands_the_tests_start_import_the_same_sitefinder():
    # From the checkout, as `python -c` and `python -m sitefinder` are started by the tests.
    done = subprocess.run(
        [sys.executable, "-c", "import sitefinder; print(sitefinder.__file__)"],
        capture_output=True, text=True, cwd=CHECKOUT, check=True,
    )  # fmt: skip
    assert Path(done.stdout.strip()).resolve() == Path(sitefinder.__file__).resolve()


def test_a_run_that_requires_the_real_data_fails_without_it(tmp_path):
    # As .ci/run runs the suite on a machine without the shared data folder.
    env = {
        **os.environ,
        "SITEFINDER_REQUIRE_REAL_DATA": "1",
        "SITEFINDER_REAL_DATA": str(tmp_path / "missing"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
         "tests/test_hand_computed.py::test_the_hand_sums_are_what_they_say"],
        capture_output=True, text=True, cwd=CHECKOUT, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 4  # pytest's usage error: nothing ran
    assert (
        f"SITEFINDER_REAL_DATA={tmp_path / 'missing'} is not a folder, and"
        " SITEFINDER_REQUIRE_REAL_DATA asks for the real-data tests"
    ) in done.stderr
    # Without the requirement the same run skips nothing it did not before, and passes.
    del env["SITEFINDER_REQUIRE_REAL_DATA"]
    again = subprocess.run(done.args, capture_output=True, text=True, cwd=CHECKOUT, env=env,
                           timeout=120)  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr


def test_ci_runs_the_readmes_test_command():
    # What a user runs is what CI runs: the README's command, unchanged, is a line of .ci/run.
    readme = (CHECKOUT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"Run the tests:\n\n```bash\n(.+)\n```", readme)
    assert found is not None
    ci = (CHECKOUT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert found.group(1) == ".venv/bin/python -m pytest"
    assert found.group(1) in ci
    assert "export SITEFINDER_REQUIRE_REAL_DATA=1" in ci


def test_every_test_the_guarantees_name_exists():
    readme = (CHECKOUT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", section)
    assert len(named) >= 20
    missing = [
        f"{path}::{test}"
        for path, test in named
        if not re.search(rf"^def {test}\(", (CHECKOUT / path).read_text(encoding="utf-8"), re.M)
    ]
    assert missing == []
    # Every promise names at least one test.
    promises = re.findall(r"^- \*\*(.+?)\*\*(.+?)(?=^- \*\*|\Z)", section, re.M | re.S)
    assert promises and all("*Tests:*" in body for _, body in promises)
