"""Disclosure control: counts of children below the threshold are never shown or exported.

A count ``x`` is suppressed when ``0 < |x| < threshold`` (zero is shown; it identifies no one).
Text outputs show ``<threshold`` (e.g. ``<5``); the GeoPackage stores NULL.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def is_suppressed(value: float, threshold: int) -> bool:
    """Return True when ``value`` children must not be shown."""
    return not math.isnan(value) and 0 < abs(round(value, 6)) < threshold


def format_count(value: float, threshold: int) -> str:
    """Format a count of children for people: suppressed, whole, or to one decimal place."""
    if math.isnan(value):
        return ""
    if is_suppressed(value, threshold):
        return f"<{threshold}"
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def mask_counts(table: pd.DataFrame, columns: list[str], threshold: int) -> pd.DataFrame:
    """Return ``table`` with suppressed counts in ``columns`` replaced by NaN (NULL)."""
    out = table.copy()
    for column in columns:
        values = out[column].astype(float)
        hidden = values.notna() & (values.round(6).abs() > 0) & (values.abs() < threshold)
        out[column] = values.where(~hidden, np.nan)
    return out
