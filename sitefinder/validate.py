"""Collect every problem in the input tables, then raise one :class:`DataError` listing them.

Messages name the file, the column, the rows (as line numbers in the file, header = line 1)
and the fix, so a planner can correct everything in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.errors import DataError

# British National Grid (EPSG:27700) covers roughly these metres; longitude/latitude do not.
_EASTING = (0.0, 700_000.0)
_NORTHING = (0.0, 1_300_000.0)


def _lines(mask: pd.Series) -> str:
    lines = [int(i) + 2 for i in np.flatnonzero(mask.to_numpy())]
    shown = ", ".join(str(n) for n in lines[:5])
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


class Problems:
    """Problems found in input files, reported together."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: Path | str, message: str) -> None:
        """Record one problem in ``path``."""
        self.items.append(f"{path}: {message}")

    def require_columns(self, path: Path, table: pd.DataFrame, columns: Iterable[str]) -> bool:
        """Record missing columns; return True when all are present."""
        missing = [c for c in columns if c not in table.columns]
        if missing:
            self.add(
                path,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                f" (the file has: {', '.join(map(str, table.columns)) or 'no columns'})",
            )
        return not missing

    def bad_rows(self, path: Path, column: str, mask: pd.Series, what: str) -> bool:
        """Record rows where ``mask`` is true; ``what`` says what is wrong and how to fix it."""
        if mask.any():
            self.add(path, f"column {column}, {_lines(mask)}: {what}")
            return True
        return False

    def numbers(
        self,
        path: Path,
        table: pd.DataFrame,
        column: str,
        *,
        minimum: float | None = None,
        integer: bool = False,
        required: bool = True,
        label: str | None = None,
    ) -> pd.Series:
        """Parse ``column`` as numbers, recording blanks, text and values below ``minimum``.

        ``label`` names the column in messages when it differs from ``column`` (a renamed one).
        """
        raw = table[column].astype("string").str.strip()
        column = label or column
        blank = raw.isna() | (raw == "")
        values = pd.to_numeric(raw.where(~blank), errors="coerce").astype("float64")
        blank = blank.fillna(True).astype(bool)
        if required:
            self.bad_rows(path, column, blank, "blank value (fill it in)")
        self.bad_rows(path, column, ~blank & values.isna(), "not a number (write digits only)")
        if integer:
            fractional = values.notna() & (values != values.round())
            self.bad_rows(path, column, fractional, "must be a whole number")
        if minimum is not None:
            self.bad_rows(path, column, values < minimum, f"must be >= {minimum:g}")
        return values

    def choices(self, path: Path, table: pd.DataFrame, column: str, allowed: Iterable[str]) -> None:
        """Record values of ``column`` outside ``allowed``."""
        allowed = list(allowed)
        values = table[column].astype("string").str.strip()
        self.bad_rows(
            path,
            column,
            ~values.isin(allowed).fillna(False),
            f"must be one of {', '.join(allowed)}",
        )

    def unique(self, path: Path, table: pd.DataFrame, column: str) -> None:
        """Record duplicated values of ``column``."""
        self.bad_rows(
            path,
            column,
            table[column].duplicated(keep="first"),
            "duplicate value (each must appear once)",
        )

    def british_grid(
        self, path: Path, x: pd.Series, y: pd.Series, columns: tuple[str, str]
    ) -> None:
        """Record coordinates that cannot be British National Grid metres."""
        lonlat = x.abs().le(180) & y.abs().le(90)
        if lonlat.all() and len(x):
            self.add(
                path,
                f"columns {columns[0]}/{columns[1]} look like longitude/latitude; sitefinder"
                " needs British National Grid metres (EPSG:27700): convert them first",
            )
            return
        outside = ~(x.between(*_EASTING) & y.between(*_NORTHING)) & x.notna() & y.notna()
        self.bad_rows(
            path,
            f"{columns[0]}/{columns[1]}",
            outside,
            "outside Great Britain in EPSG:27700 metres (check the coordinate system)",
        )

    def raise_if_any(self) -> None:
        """Raise a :class:`DataError` listing every problem, if there are any."""
        if self.items:
            raise DataError(self.items)
