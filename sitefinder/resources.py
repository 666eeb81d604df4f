"""Find the bundled demo authority and default scenario from any working directory.

An installed wheel carries them under ``sitefinder/_bundled`` (see pyproject.toml); a source
checkout or editable install finds them beside the package. Both keep ``configs/`` next to
``data/`` so the relative paths inside the scenario files resolve the same way.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_root() -> Path:
    """Return the folder holding ``configs/`` and ``data/demo/``."""
    for root in (_PACKAGE_DIR / "_bundled", _PACKAGE_DIR.parent):
        if (root / "configs" / "demo.toml").is_file():
            return root
    return _PACKAGE_DIR.parent


def default_scenario_path() -> Path:
    """Return the path of the default scenario, ``configs/demo.toml``."""
    return bundled_root() / "configs" / "demo.toml"
