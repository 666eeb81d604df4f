"""How ``sitefinder why`` writes a published figure in words: withheld, rounded, counted."""

from __future__ import annotations

import math

from sitefinder.columns import (
    PLAN,
    WHY_EXTRA,
    WHY_FIGURES,
    WHY_INSTEAD,
    WHY_SWAPS,
    text_value,
)
from sitefinder.disclosure import Withheld

COLUMN = {c.key: c for c in (*WHY_FIGURES, *WHY_SWAPS, *WHY_EXTRA, *WHY_INSTEAD, *PLAN)}


def text_of(value: object, key: str) -> str:
    """A protected (or machine) value as people read it: ``<5``, ``c``, ``11.20``, ``10``."""
    return text_value(value, COLUMN[key])


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def number_of(value: object) -> float | None:
    if value is None or isinstance(value, str | Withheld):
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def ages_text(first: float | None, last: float | None) -> str:
    if first is None or last is None:
        return "not recorded"
    return f"{first:g}-{last:g}" if first != last else f"{first:g}"


def whole(value: object) -> object:
    """A whole number as an int (ages, places, pupils), other values as they are."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def places_text(n: float) -> str:
    return f"{n:,.0f} spare place{'' if n == 1 else 's'}"
