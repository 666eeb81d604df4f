"""HiGHS helpers: keep it quiet on stdout (sitefinder writes CSV and JSON for other programs)
and add the transportation LP's columns from arrays."""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


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


def add_pair_columns(
    highs: Any, cost: NDArray[np.float64], demand_row: NDArray[Any], site_row: NDArray[Any]
) -> None:
    """Add one flow column per (row, site) pair: coefficient 1 in its demand and site rows."""
    n = len(cost)
    index = np.empty(2 * n, dtype=np.int32)
    index[0::2] = demand_row
    index[1::2] = site_row
    highs.addCols(
        n,
        np.asarray(cost, dtype=np.float64),
        np.zeros(n),
        np.full(n, highs.inf),
        2 * n,
        np.arange(0, 2 * n, 2, dtype=np.int32),
        index,
        np.ones(2 * n),
    )


def add_unit_columns(
    highs: Any,
    cost: NDArray[np.float64],
    row: NDArray[Any],
    *,
    coef: NDArray[np.float64] | None = None,
    upper: NDArray[np.float64] | None = None,
) -> None:
    """Add columns of one entry each (unmet-need slacks, trades), unbounded unless ``upper``."""
    n = len(cost)
    highs.addCols(
        n,
        np.asarray(cost, dtype=np.float64),
        np.zeros(n),
        np.full(n, highs.inf) if upper is None else upper,
        n,
        np.arange(n, dtype=np.int32),
        np.asarray(row, dtype=np.int32),
        np.ones(n) if coef is None else coef,
    )
