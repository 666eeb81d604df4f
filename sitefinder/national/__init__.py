"""National scenarios: England ranked authority by authority (``authority = "England"``).

:func:`split_national` cuts the national input files into one slice per authority,
:func:`rank_national` ranks each authority with its own plan (serially, on a local dask cluster
or on a scheduler's workers) and :mod:`sitefinder.national.outputs` combines the plans into
national tables and one GeoPackage. Children crossing authority borders are not modelled.
:mod:`sitefinder.national.synthetic` writes a synthetic England in the real public layouts.
"""

from __future__ import annotations

from sitefinder.national.run import (
    CROSS_BORDER,
    AuthorityFailure,
    AuthorityRun,
    NationalResult,
    Task,
    Workers,
    rank_authority,
    rank_national,
)
from sitefinder.national.split import AuthorityInputs, NationalInputs, split_national

__all__ = [
    "CROSS_BORDER",
    "AuthorityFailure",
    "AuthorityInputs",
    "AuthorityRun",
    "NationalInputs",
    "NationalResult",
    "Task",
    "Workers",
    "rank_authority",
    "rank_national",
    "split_national",
]
