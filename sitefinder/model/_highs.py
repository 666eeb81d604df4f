"""Keep HiGHS quiet on stdout, where sitefinder writes CSV and JSON for other programs."""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from pathlib import Path


@functools.cache
def silence_banner() -> None:
    """Construct the process's first ``highspy.Highs`` with the C stdout pointed at /dev/null.

    HiGHS prints a copyright banner straight to file descriptor 1 the first time a solver object
    is made in a process (before any option can turn output off); later ones are silent.
    """
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with Path(os.devnull).open("w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
            _flush_c_stdout()  # the banner sits in C's buffer until flushed
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _flush_c_stdout() -> None:
    libc = ctypes.CDLL(None)
    libc.fflush(None)
