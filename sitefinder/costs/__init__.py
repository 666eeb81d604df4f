"""The business case: what a plan's new bases cost to build and run, and what they save.

:func:`business_case` works the figures from a run's plan, journeys and placements with the
scenario's ``[costs]`` (:class:`sitefinder.config.Costs`); :data:`SOURCES` names where each
default comes from; :func:`plan_case` is the adapter :func:`sitefinder.rank` uses.
"""

from sitefinder.costs.case import (
    BASE_COLUMNS,
    PLACE_KINDS,
    TOTAL_KEYS,
    Appraisal,
    BusinessCase,
    annuity_factor,
    appraise,
    business_case,
)
from sitefinder.costs.run import plan_case
from sitefinder.costs.sources import SOURCES

__all__ = [
    "BASE_COLUMNS",
    "PLACE_KINDS",
    "SOURCES",
    "TOTAL_KEYS",
    "Appraisal",
    "BusinessCase",
    "annuity_factor",
    "appraise",
    "business_case",
    "plan_case",
]
