"""The sufficiency programme: demand projected over the next years against places.

:mod:`~sitefinder.programme.projection` projects demand along a damped SEN2 trend with
cohorts ageing; :mod:`~sitefinder.programme.sufficiency` sets it against the places today and
those the plan adds, year by year, by phase and need group; :func:`sufficiency_of` makes the
statement for a ranking run.
"""

from __future__ import annotations

from sitefinder.programme.projection import Trend, fit_trend, project_demand
from sitefinder.programme.run import sufficiency_of
from sitefinder.programme.sufficiency import COLUMNS, Sufficiency, statement

__all__ = [
    "COLUMNS",
    "Sufficiency",
    "Trend",
    "fit_trend",
    "project_demand",
    "statement",
    "sufficiency_of",
]
