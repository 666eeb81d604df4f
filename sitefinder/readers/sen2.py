"""DfE "Education, health and care plans" (SEN2) tidy CSVs.

Two files of the annual release are read: the caseload file (plans by placement, with the
mainstream resourced provision and SEN unit columns, as a time series) and the primary-need file
(plans by need and age). Cells the DfE suppresses or cannot give (``x``, ``c``, ``z``, ``:``,
``low``, ``u``, blank) are missing, never zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.config import NEED_CODES
from sitefinder.readers.tables import read_csv
from sitefinder.validate import Problems

MISSING = frozenset({"x", "c", "z", ":", "low", "u", "..", ""})
NEED_COLUMNS = {f"number_{code.lower()}": code for code in NEED_CODES}
BASE_PLACEMENTS = tuple(
    f"mainstream_{kind}_{provision}"
    for kind in ("la_maintained", "academy", "free_school")
    for provision in ("resourced_provision", "senunit")
)
_AUTHORITY_KEYS = ("new_la_code", "old_la_code", "la_name")
_AGE_TOPIC = "Child or young persons age"


def counts(values: pd.Series) -> pd.Series:
    """Parse SEN2 cells as floats; suppression markers become NaN."""
    text = values.astype(str).str.strip()
    return pd.to_numeric(text.mask(text.str.lower().isin(MISSING)), errors="coerce")


def census_year(time_period: str) -> int:
    """The January census year of a SEN2 period ('202425' -> 2025)."""
    return int(time_period[:4]) + 1 if len(time_period) == 6 else int(time_period)


def _authority_rows(
    table: pd.DataFrame, path: Path, authority: str, problems: Problems
) -> pd.DataFrame | None:
    wanted = authority.strip().casefold()
    if wanted == "england":
        rows = table[table["geographic_level"] == "National"]
    else:
        mask = pd.Series(False, index=table.index)
        for key in _AUTHORITY_KEYS:
            if key in table.columns:
                mask |= table[key].str.strip().str.casefold() == wanted
        rows = table[mask & (table["geographic_level"] == "Local authority")]
    if rows.empty:
        problems.add(
            path,
            f"no rows for authority {authority!r} (inputs.demand.authority matches new_la_code,"
            " old_la_code or la_name, e.g. E08000009, 358 or Trafford; or England)",
        )
        return None
    return rows


def _load(
    path: Path, problems: Problems, authority: str, columns: tuple[str, ...], *, key: str
) -> pd.DataFrame | None:
    table = read_csv(path, problems, hint="inputs.demand")
    if table is None:
        return None
    required = ("time_period", "geographic_level", "breakdown_topic", "breakdown", *columns)
    missing = [c for c in required if c not in table.columns]
    if missing:
        release = "sen_needs" if key == "sen2_needs" else "caseload"
        problems.add(
            path,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
            f" (inputs.demand.{key} takes the {release} CSV of the DfE 'Education, health and"
            f" care plans' release, unedited; the file has: {', '.join(table.columns)})",
        )
        return None
    return _authority_rows(table, path, authority, problems)


@dataclass(frozen=True)
class NeedsByAge:
    """An authority's EHC plans by primary need and age, for one census year.

    ``plans`` has one row per age (years) and one column per need code; NaN where suppressed.
    ``age_totals`` is all plans per age; ``totals`` the all-ages count per need code; ``year``
    the January census year; ``history`` the all-ages count per need code for every census year
    in the file (one row per year).
    """

    plans: pd.DataFrame
    age_totals: pd.Series
    totals: pd.Series
    all_plans: float
    year: int
    history: pd.DataFrame


def read_needs(path: Path, problems: Problems, *, authority: str) -> NeedsByAge | None:
    """Read the SEN2 primary-need file for ``authority`` (latest period in the file)."""
    rows = _load(path, problems, authority, ("ehc_plans", *NEED_COLUMNS), key="sen2_needs")
    if rows is None:
        return None
    latest = max(rows["time_period"], key=census_year)
    overall_all = rows[rows["breakdown_topic"] == "All EHC plans"]
    rows = rows[rows["time_period"] == latest]
    overall = rows[rows["breakdown_topic"] == "All EHC plans"]
    by_age = rows[rows["breakdown_topic"] == _AGE_TOPIC]
    if overall.empty or by_age.empty:
        problems.add(
            path,
            f"needs 'All EHC plans' and '{_AGE_TOPIC}' rows for {latest}"
            " (use the release's sen_needs file)",
        )
        return None
    ages = by_age["breakdown"].str.extract(r"(\d+)", expand=False).astype(float)
    index = pd.Index(ages.to_numpy(dtype=int), name="age")
    plans = pd.DataFrame(
        {code: counts(by_age[column]).to_numpy() for column, code in NEED_COLUMNS.items()},
        index=index,
    ).sort_index()
    age_totals = pd.Series(counts(by_age["ehc_plans"]).to_numpy(), index=index).sort_index()
    totals = pd.Series(
        {code: counts(overall[column]).iloc[0] for column, code in NEED_COLUMNS.items()}
    )
    all_plans = float(counts(overall["ehc_plans"]).iloc[0])
    history = pd.DataFrame(
        {code: counts(overall_all[column]).to_numpy() for column, code in NEED_COLUMNS.items()},
        index=overall_all["time_period"].map(census_year).to_numpy(),
    ).sort_index()
    return NeedsByAge(plans, age_totals, totals, all_plans, census_year(latest), history)


@dataclass(frozen=True)
class Caseload:
    """An authority's EHC plans per census year and those placed in mainstream bases."""

    plans: pd.Series
    in_bases: pd.Series

    @property
    def latest_year(self) -> int:
        """The most recent census year."""
        return int(self.plans.index.max())

    @property
    def base_share(self) -> float:
        """Share of plans placed in mainstream resourced provision or SEN units, latest year."""
        year = self.latest_year
        return float(self.in_bases[year] / self.plans[year])


def read_caseload(path: Path, problems: Problems, *, authority: str) -> Caseload | None:
    """Read the SEN2 caseload file's all-plans time series for ``authority``."""
    rows = _load(path, problems, authority, ("ehcplans", *BASE_PLACEMENTS), key="sen2_caseload")
    if rows is None:
        return None
    rows = rows[rows["breakdown_topic"] == "All EHC plans"]
    years = rows["time_period"].map(census_year).to_numpy()
    plans = pd.Series(counts(rows["ehcplans"]).to_numpy(), index=years).sort_index()
    placed = sum(counts(rows[c]).fillna(0.0).to_numpy() for c in BASE_PLACEMENTS)
    in_bases = pd.Series(np.asarray(placed, dtype=float), index=years).sort_index()
    valid = plans.notna() & (plans > 0)
    if not valid.any():
        problems.add(path, f"no usable 'All EHC plans' count for authority {authority!r}")
        return None
    return Caseload(plans[valid], in_bases[valid])
