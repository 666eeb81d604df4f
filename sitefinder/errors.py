"""The project's exceptions.

Every user-facing problem is one of these; the CLI turns them into a one-line message and exit
code 1 in a single place. Validators collect all problems first and raise once, so a user fixes
everything in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable


class SitefinderError(Exception):
    """Base class for problems a user can fix (bad input, bad scenario, refused output)."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class ScenarioError(SitefinderError):
    """The scenario file is missing, unreadable, or has an invalid or unknown key."""


class DataError(SitefinderError):
    """An input data file is missing, unreadable, or has missing columns or bad values."""


class OutputError(SitefinderError):
    """An output cannot be written (exists without --overwrite, unwritable folder)."""
