"""The installed sitefinder version, read from the package metadata (pyproject.toml)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sitefinder")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
