"""The project's exceptions.

Every user-facing problem is one of these; the CLI turns them into ``error:`` lines and an exit
code in a single place: 1 for bad data, scenarios, environments and outputs, 2 for mistakes in
the command line (:class:`CommandLineError`). Validators collect all problems first and raise
once, so a user fixes everything in one pass.

:func:`processing` marks which file a block of code works on, so that an unexpected failure
inside it (a bug, or a fault no check foresaw) can still be reported with the file's name.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

_FILE_NOTE = "sitefinder: while processing "


WRITE_FAILURES = frozenset(
    {errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EBADF, errno.EDQUOT, errno.ENAMETOOLONG}
)
"""Error numbers of an output that cannot be written: a full disk or quota, a closed pipe or
stream, a failing device, a path too long."""


class SitefinderError(Exception):
    """Base class for problems a user can fix (bad input, bad scenario, refused output)."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class ScenarioError(SitefinderError):
    """The scenario file is missing, unreadable, or has an invalid or unknown key."""


class CommandLineError(ScenarioError):
    """A command-line argument or flag value is wrong (exit code 2, like other usage errors)."""


class DataError(SitefinderError):
    """An input data file is missing, unreadable, or has missing columns or bad values."""


class OutputError(SitefinderError):
    """An output cannot be written (exists without --overwrite, unwritable folder, full disk)."""


class SetupError(SitefinderError):
    """The environment is unusable: a bad environment variable or an unusable folder."""


@contextmanager
def processing(path: Path | str) -> Iterator[None]:
    """Name ``path`` on any unexpected exception leaving the block (innermost file wins).

    Project errors pass untouched: they already name their file. Others get a note that
    :func:`processed_file` reads back for the one-line "unexpected error" report.
    """
    try:
        yield
    except SitefinderError:
        raise
    except Exception as exc:
        if processed_file(exc) is None:
            exc.add_note(f"{_FILE_NOTE}{path}")
        raise


def processed_file(exc: BaseException) -> str | None:
    """The file named by :func:`processing` on ``exc``, if any."""
    for note in getattr(exc, "__notes__", ()):
        if note.startswith(_FILE_NOTE):
            return note[len(_FILE_NOTE) :]
    return None
