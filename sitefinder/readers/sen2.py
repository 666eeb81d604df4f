"""DfE "Education, health and care plans" (SEN2) tidy CSVs.

Two files of the annual release are read: the caseload file (plans by placement, with the
mainstream resourced provision and SEN unit columns, as a time series, and by single year of age
for the latest years) and the primary-need file (plans by need and age). Each file is read and
checked once (:func:`read_sen2`); any geography in it (an authority, a region or England) is
then taken out of it (:func:`needs_of`, :func:`caseload_of`). Cells the DfE marks as unavailable
or not applicable (``x``, ``c``, ``z``, ``:``, ``low``, ``u``, blank) are missing, never zero.

Age labels are read as they say: ``age 7`` is 7, ``under 3`` is ages 0-2, ``age 20 and over``
is 20-25 (the plans cover ages 0-25); a label of any other form is an error naming the file, the
line and the label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sitefinder.config import NEED_CODES
from sitefinder.readers.tables import read_csv
from sitefinder.validate import Problems

MISSING = frozenset({"x", "c", "z", ":", "low", "u", "..", ""})
NEED_COLUMNS = {f"number_{code.lower()}": code for code in NEED_CODES}
UNKNOWN_NEED = "number_need_unknown"
BASE_PLACEMENTS = tuple(
    f"mainstream_{kind}_{provision}"
    for kind in ("la_maintained", "academy", "free_school")
    for provision in ("resourced_provision", "senunit")
)
AGE_TOPIC = "Child or young persons age"
ALL_TOPIC = "All EHC plans"
MAX_COUNT = 10_000_000
"""More plans than any count in the release could hold (England had 638,745 in 2025)."""
OLDEST = 25
"""The oldest age an EHC plan covers (years); an open band such as ``20 and over`` ends here."""

Kind = Literal["needs", "caseload"]

_LEVELS = {"National": "national", "Regional": "regional", "Local authority": "authority"}
_KEYS = {"authority": ("new_la_code", "old_la_code", "la_name"),
         "regional": ("region_code", "region_name")}  # fmt: skip
_TEXT = ("time_period", "geographic_level", "breakdown_topic", "breakdown")
_PERIOD = re.compile(r"^(\d{4})(\d{2})?$")
_AGE = r"^(?:aged?\s+)?"
_BANDS = (
    (re.compile(_AGE + r"(\d{1,2})$"), lambda a, b: (a, a)),
    (re.compile(_AGE + r"under\s+(\d{1,2})$"), lambda a, b: (0, a - 1)),
    (re.compile(_AGE + r"(\d{1,2})\s+and\s+(?:under|younger)$"), lambda a, b: (0, a)),
    (re.compile(_AGE + r"(\d{1,2})\s*(?:\+|and\s+over|and\s+older)$"), lambda a, b: (a, OLDEST)),
    (re.compile(_AGE + r"(\d{1,2})\s*(?:-|to)\s*(\d{1,2})$"), lambda a, b: (a, b)),
)  # fmt: skip
_TOTALS = frozenset({"total", "all ages", "all", "all ehc plans"})
_EXPECTED = "'under 3', 'age 3' ... 'age 25', 'age 20 and over' or 'Total'"
PARSER_VERSION = 1
"""Version of :func:`read_sen2`'s parsing and checks, part of every cache key: bump it when they
change, so that rows cached by an older version are never used."""


def counts(values: pd.Series) -> pd.Series:
    """Parse SEN2 cells as floats; suppression and not-available markers become NaN."""
    text = values.astype(str).str.strip()
    return pd.to_numeric(text.mask(text.str.lower().isin(MISSING)), errors="coerce")


def census_year(time_period: str) -> int:
    """The January census year of a SEN2 period ('202425' -> 2025, '2025' -> 2025).

    Raises
    ------
    ValueError
        If ``time_period`` is neither an academic year (``202425``) nor a year (``2025``).
    """
    match = _PERIOD.match(str(time_period).strip())
    if match is None:
        raise ValueError(f"not a SEN2 time period: {time_period!r}")
    first, second = match.groups()
    if second is None:
        return int(first)
    if (int(first) + 1) % 100 != int(second):
        raise ValueError(f"not a SEN2 academic year: {time_period!r}")
    return int(first) + 1


def age_band(label: str) -> tuple[int, int] | None:
    """The ages (youngest, oldest; years) a SEN2 age label covers, or None for a total.

    Raises
    ------
    ValueError
        If the label is neither an age, an age band nor a total.
    """
    text = " ".join(str(label).strip().casefold().split())
    if text in _TOTALS:
        return None
    for pattern, band in _BANDS:
        match = pattern.match(text)
        if match:
            numbers = [int(g) for g in match.groups()] + [0]
            low, high = band(numbers[0], numbers[1])
            if 0 <= low <= high <= OLDEST:
                return low, high
            break
    raise ValueError(f"not an age label: {label!r}")


@dataclass(frozen=True)
class Sen2File:
    """One SEN2 file, read and checked once: its rows as text plus parsed ``year`` and ages.

    ``rows`` keeps the file's geography and breakdown columns (text, stripped) and its count
    columns (floats, NaN where the DfE gives no number), and adds ``year`` (January census
    year), ``age_low`` and ``age_high`` (years; -1 outside the age breakdown or on a total row)
    and ``line`` (the row's line in the file, header = line 1).
    """

    path: Path
    kind: Kind
    rows: pd.DataFrame
    _index: dict[tuple[str, str], np.ndarray] = field(repr=False, default_factory=dict)

    def geographies(self, level: Literal["national", "regional", "authority"]) -> list[str]:
        """Codes of every geography of ``level`` in the file (``England`` for national)."""
        if level == "national":
            return ["England"] if ("national", "england") in self._index else []
        column = "new_la_code" if level == "authority" else "region_code"
        level_name = next(k for k, v in _LEVELS.items() if v == level)
        rows = self.rows[self.rows["geographic_level"] == level_name]
        return sorted(set(rows[column].str.strip()) - {""})

    def rows_of(self, geography: str, problems: Problems) -> pd.DataFrame | None:
        """Rows of one authority (code, old code or name), region (code or name) or England."""
        wanted = geography.strip().casefold()
        for level in ("authority", "regional", "national"):
            found = self._index.get((level, wanted))
            if found is not None:
                return self.rows.iloc[found]
        problems.add(
            self.path,
            f"no rows for authority {geography!r} (inputs.demand.authority matches"
            " new_la_code, old_la_code or la_name, e.g. E08000009, 358 or Trafford; or England)",
        )
        return None


def _index(rows: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    index: dict[tuple[str, str], np.ndarray] = {}
    level = rows["geographic_level"].str.strip().map(_LEVELS)
    positions = np.arange(len(rows))
    national = positions[(level == "national").to_numpy()]
    if len(national):
        index[("national", "england")] = national
    for name, columns in _KEYS.items():
        at_level = (level == name).to_numpy()
        for column in columns:
            if column not in rows.columns:
                continue
            values = rows[column].str.strip().str.casefold().to_numpy()[at_level]
            for value, group in pd.Series(positions[at_level]).groupby(values, sort=False):
                if value:
                    index.setdefault((name, str(value)), group.to_numpy())
    return index


def _counts_checked(path: Path, table: pd.DataFrame, column: str, problems: Problems) -> pd.Series:
    """Parse a count column; anything but a count or a DfE marker is reported with its lines."""
    # Parsed once per distinct text: a national file repeats a few thousand values.
    codes, distinct = pd.factorize(table[column].astype(str), use_na_sentinel=False)
    text = pd.Series(distinct).str.strip()
    is_marker = text.str.lower().isin(MISSING)
    parsed = pd.to_numeric(text.mask(is_marker), errors="coerce").astype(float).to_numpy()
    marker = pd.Series(is_marker.to_numpy()[codes], index=table.index)
    values = pd.Series(parsed[codes], index=table.index)
    sane = np.isfinite(values) & (values >= 0) & (values <= MAX_COUNT)
    problems.bad_values(
        path, table, column, ~marker & ~sane,
        "{value!r} is not a count of plans (a number from 0 to 10,000,000, or a DfE marker such"
        " as x for unavailable or z for not applicable)",
    )  # fmt: skip
    return values.where(sane)


def read_sen2(path: Path, problems: Problems, *, kind: Kind) -> Sen2File | None:
    """Read and check a SEN2 file of the release: the caseload or the primary-need file.

    Every ``time_period`` must be an academic year (``202425``) or a year, and every label of
    the age breakdown an age, a band or a total; other values are reported with their lines.

    Parameters
    ----------
    path
        The file, as published (all geographies, every breakdown).
    problems
        Collector for every problem found.
    kind
        ``needs`` (``ehc_plans`` and ``number_<need>`` columns) or ``caseload`` (``ehcplans``
        and the mainstream resourced provision and SEN unit columns).
    """
    table = read_csv(path, problems, hint="inputs.demand")
    if table is None:
        return None
    columns = ("ehc_plans", *NEED_COLUMNS) if kind == "needs" else ("ehcplans", *BASE_PLACEMENTS)
    required = ("time_period", "geographic_level", "breakdown_topic", "breakdown", *columns)
    missing = [c for c in required if c not in table.columns]
    if missing:
        release = "sen_needs" if kind == "needs" else "caseload"
        problems.add(
            path,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
            f" (inputs.demand.sen2_{'needs' if kind == 'needs' else 'caseload'} takes the"
            f" {release} CSV of the DfE 'Education, health and care plans' release, unedited;"
            f" the file has: {', '.join(table.columns)})",
        )
        return None
    before = len(problems.items)
    periods = table["time_period"].str.strip()
    years = {}
    for value in periods.unique():
        try:
            years[value] = census_year(value)
        except ValueError:
            years[value] = -1
    year = periods.map(years).astype(int)
    problems.bad_values(
        path, table, "time_period", year < 0,
        "{value!r} is not a SEN2 period (an academic year such as 202425, for"
        " January 2025; use the release's file unedited)",
    )  # fmt: skip
    is_age = table["breakdown_topic"].str.strip() == AGE_TOPIC
    bands: dict[str, tuple[int, int]] = {}
    bad_label = pd.Series(False, index=table.index)
    for label in table.loc[is_age, "breakdown"].unique():
        try:
            bands[label] = age_band(label) or (-1, -1)
        except ValueError:
            bad_label |= is_age & (table["breakdown"] == label)
    problems.bad_values(
        path, table, "breakdown", bad_label,
        f"unexpected age label {{value!r}} in the '{AGE_TOPIC}' rows (expected {_EXPECTED})",
    )  # fmt: skip
    numbers = [*columns, *([UNKNOWN_NEED] if UNKNOWN_NEED in table.columns else [])]
    parsed = {column: _counts_checked(path, table, column, problems) for column in numbers}
    if len(problems.items) > before:
        return None
    low = pd.Series(-1, index=table.index)
    high = pd.Series(-1, index=table.index)
    low[is_age] = table.loc[is_age, "breakdown"].map(lambda v: bands[v][0])
    high[is_age] = table.loc[is_age, "breakdown"].map(lambda v: bands[v][1])
    # Keep the keys as text and parse every count once, so that taking one geography out of
    # the file is a cheap slice.
    keys = [c for c in (*_TEXT, *(k for ks in _KEYS.values() for k in ks)) if c in table.columns]
    rows = pd.DataFrame({c: table[c].str.strip() for c in dict.fromkeys(keys)})
    for column, values in parsed.items():
        rows[column] = values.to_numpy(dtype=float)
    rows["year"] = year.to_numpy()
    rows["age_low"] = low.to_numpy()
    rows["age_high"] = high.to_numpy()
    rows["line"] = np.arange(len(table)) + 2
    return Sen2File(path, kind, rows, _index(rows))


def _cut(file: Sen2File, geographies: Sequence[str]) -> Sen2File:
    """``file`` cut to the rows of ``geographies`` (in file order, with their row labels)."""
    found = [
        file._index.get((level, geography.strip().casefold()))
        for geography in geographies
        for level in ("authority", "regional", "national")
    ]
    parts = [positions for positions in found if positions is not None]
    kept = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=int)
    rows = file.rows.iloc[kept]
    return Sen2File(file.path, file.kind, rows, _index(rows))


def _arrays(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """A cut's rows as plain arrays (text as unicode, never objects) for the cache."""
    arrays: dict[str, np.ndarray] = {
        "columns": np.array(rows.columns, dtype=str),
        "labels": rows.index.to_numpy(dtype=np.int64),
    }
    for number, column in enumerate(rows.columns):
        values = rows[column]
        is_text = not pd.api.types.is_numeric_dtype(values.dtype)
        arrays[f"c{number}"] = (
            np.array(values.tolist(), dtype=str) if is_text else values.to_numpy()
        )
    return arrays


def _from_arrays(
    path: Path, kind: Kind, stored: dict[str, np.ndarray], text: set[str]
) -> Sen2File | None:
    """The cut a cache entry holds, or None when its arrays do not make one (a miss)."""
    columns, labels = stored.get("columns"), stored.get("labels")
    if columns is None or labels is None or columns.dtype.kind != "U" or labels.dtype.kind != "i":
        return None
    data: dict[str, Any] = {}
    for number, column in enumerate(columns.tolist()):
        values = stored.get(f"c{number}")
        if values is None or values.shape != labels.shape:
            return None
        if (values.dtype.kind == "U") != (column in text):
            return None
        data[column] = values.tolist() if column in text else values
    rows = pd.DataFrame(data, index=pd.Index(labels), columns=columns.tolist())
    return Sen2File(path, kind, rows, _index(rows))


def read_sen2_of(
    path: Path,
    problems: Problems,
    *,
    kind: Kind,
    geographies: Sequence[str],
    sha256: str | None,
) -> Sen2File | None:
    """:func:`read_sen2` cut to the rows of ``geographies``, through the cache.

    The first run reads and checks the whole file, as :func:`read_sen2` does, and caches the
    rows of ``geographies`` (authorities by code, old code or name, regions, or ``England``;
    those in the file), keyed by the file's SHA-256, ``kind``, the geographies and
    :data:`PARSER_VERSION`. Later runs with the same file read those rows alone. Only a file
    without problems is cached; a cache that cannot be written is a warning in
    ``problems.warnings`` and the run goes on.

    Parameters
    ----------
    path, problems, kind
        As :func:`read_sen2`.
    geographies
        The geographies the run takes out of the file (:meth:`Sen2File.rows_of`).
    sha256
        The file's SHA-256 (hex), or None to read it without the cache.
    """
    from sitefinder.roads.cache import cache_entry  # with the road cache's rules and folder
    from sitefinder.version import __version__

    wanted = sorted({geography.strip().casefold() for geography in geographies})
    entry = None
    if sha256 is not None:
        parts = {"file": sha256, "kind": kind, "geographies": wanted}
        entry = cache_entry("sen2", {**parts, "parser": PARSER_VERSION, "sitefinder": __version__})
        stored = entry.read()
        text = set(_TEXT) | {k for ks in _KEYS.values() for k in ks}
        cut = _from_arrays(path, kind, stored, text) if stored is not None else None
        if cut is not None:
            return cut
    file = read_sen2(path, problems, kind=kind)
    if file is None:
        return None
    cut = _cut(file, wanted)
    if entry is not None:
        for warning in entry.write(_arrays(cut.rows)):
            problems.warnings.append(warning)
    return cut


def _ages(path: Path, rows: pd.DataFrame, problems: Problems) -> pd.DataFrame | None:
    """The age rows of one geography and year as bands, youngest first; overlaps are errors."""
    bands = rows[rows["age_low"] >= 0].sort_values(["age_low", "age_high"])
    low, high = bands["age_low"].to_numpy(), bands["age_high"].to_numpy()
    overlap = np.flatnonzero(low[1:] <= high[:-1])
    if len(overlap):
        first = bands.iloc[overlap[0]]
        second = bands.iloc[overlap[0] + 1]
        problems.add(
            path,
            f"lines {first['line']} and {second['line']}: age labels {first['breakdown']!r} and"
            f" {second['breakdown']!r} overlap for {_name(rows)} in {first['time_period']}"
            " (each age may be counted once)",
        )
        return None
    return bands


def _one_row_a_year(path: Path, overall: pd.DataFrame, problems: Problems) -> bool:
    """Record a geography with two 'All EHC plans' rows for one year (a file pasted twice)."""
    twice = overall[overall["year"].duplicated(keep=False)]
    if twice.empty:
        return True
    lines = ", ".join(str(n) for n in twice["line"].head(5))
    problems.add(
        path,
        f"lines {lines}: more than one '{ALL_TOPIC}' row for {_name(overall)} in"
        f" {twice['time_period'].iloc[0]} (each period once: use the release's file unedited)",
    )
    return False


def _name(rows: pd.DataFrame) -> str:
    first = rows.iloc[0]
    level = _LEVELS.get(str(first["geographic_level"]).strip())
    if level == "authority" and str(first.get("la_name", "")).strip():
        return str(first["la_name"]).strip()
    if level == "regional" and str(first.get("region_name", "")).strip():
        return str(first["region_name"]).strip()
    return "England" if level == "national" else str(first.get("la_name", "")).strip()


@dataclass(frozen=True)
class NeedsByAge:
    """A geography's EHC plans by primary need and age, for one census year.

    ``plans`` has one row per age band of the file, indexed by its youngest age (years), and
    one column per need code; NaN where the DfE gives no number. ``oldest`` gives each band's
    oldest age (equal to the index for a single year). ``age_totals`` is all plans per band and
    ``unknown_need`` the plans whose primary need is not recorded; ``totals`` the all-ages count
    per need code; ``year`` the January census year; ``history`` the all-ages count per need
    code for every census year in the file (one row per year); ``name`` the geography's name.
    """

    plans: pd.DataFrame
    age_totals: pd.Series
    totals: pd.Series
    all_plans: float
    year: int
    history: pd.DataFrame
    oldest: pd.Series
    unknown_need: pd.Series
    name: str = ""

    @property
    def missing_cells(self) -> int:
        """Need-by-age cells the file gives no number for (suppressed or not available)."""
        return int(self.plans.isna().to_numpy().sum())


def needs_of(file: Sen2File, geography: str, problems: Problems) -> NeedsByAge | None:
    """Take one geography's plans by need and age (latest period) out of the primary-need file."""
    rows = file.rows_of(geography, problems)
    if rows is None:
        return None
    latest = int(rows["year"].max())
    overall_all = rows[rows["breakdown_topic"] == ALL_TOPIC]
    if not _one_row_a_year(file.path, overall_all, problems):
        return None
    rows = rows[rows["year"] == latest]
    overall = rows[rows["breakdown_topic"] == ALL_TOPIC]
    by_age = _ages(file.path, rows[rows["breakdown_topic"] == AGE_TOPIC], problems)
    if by_age is None:
        return None
    if overall.empty or by_age.empty:
        period = rows["time_period"].iloc[0]
        problems.add(
            file.path,
            f"needs '{ALL_TOPIC}' and '{AGE_TOPIC}' rows for {period}"
            " (use the release's sen_needs file)",
        )
        return None
    index = pd.Index(by_age["age_low"].to_numpy(dtype=int), name="age")
    plans = pd.DataFrame(
        {code: by_age[column].to_numpy() for column, code in NEED_COLUMNS.items()},
        index=index,
    )
    unknown = (
        by_age[UNKNOWN_NEED].to_numpy()
        if UNKNOWN_NEED in by_age.columns
        else np.full(len(by_age), np.nan)
    )
    history = pd.DataFrame(
        {code: overall_all[column].to_numpy() for column, code in NEED_COLUMNS.items()},
        index=overall_all["year"].to_numpy(),
    ).sort_index()
    return NeedsByAge(
        plans=plans,
        age_totals=pd.Series(by_age["ehc_plans"].to_numpy(), index=index),
        totals=pd.Series({code: overall[column].iloc[0] for column, code in NEED_COLUMNS.items()}),
        all_plans=float(overall["ehc_plans"].iloc[0]),
        year=latest,
        history=history,
        oldest=pd.Series(by_age["age_high"].to_numpy(dtype=int), index=index),
        unknown_need=pd.Series(unknown, index=index),
        name=_name(rows),
    )


def read_needs(path: Path, problems: Problems, *, authority: str) -> NeedsByAge | None:
    """Read the SEN2 primary-need file for ``authority`` (latest period in the file)."""
    file = read_sen2(path, problems, kind="needs")
    return needs_of(file, authority, problems) if file is not None else None


def _in_bases(rows: pd.DataFrame) -> np.ndarray:
    # Known only when every base column is: an unavailable cell is missing, never zero.
    cells = rows[list(BASE_PLACEMENTS)].to_numpy(dtype=float)
    return np.where(np.isnan(cells).any(axis=1), np.nan, cells.sum(axis=1))


@dataclass(frozen=True)
class Caseload:
    """A geography's EHC plans and those placed in mainstream bases (resourced provision or
    SEN units), per census year and, for ``age_year``, by age.

    ``plans`` and ``in_bases`` are indexed by census year (``in_bases`` NaN where unavailable).
    ``by_age`` has one row per age band, indexed by its youngest age (years), with columns
    ``oldest``, ``plans`` and ``in_bases`` (children), for ``age_year``: the latest census year
    whose age breakdown gives the base placements; None when the file has no such breakdown.
    """

    plans: pd.Series
    in_bases: pd.Series
    by_age: pd.DataFrame | None = None
    age_year: int | None = None
    name: str = ""

    @property
    def latest_year(self) -> int:
        """The most recent census year."""
        return int(self.plans.index.max())

    @property
    def base_share(self) -> float:
        """Share of plans placed in mainstream resourced provision or SEN units, latest year.

        NaN when the latest year's placements are unavailable.
        """
        year = self.latest_year
        return float(self.in_bases[year] / self.plans[year])

    def shares_by_age(self) -> pd.Series:
        """Share of plans in bases for each age band of ``by_age`` (fraction; NaN unknown)."""
        if self.by_age is None:
            return pd.Series(dtype=float)
        plans = self.by_age["plans"].where(self.by_age["plans"] > 0)
        return (self.by_age["in_bases"] / plans).clip(0.0, 1.0)

    def in_bases_at(self, low: int, high: int) -> float:
        """Children in bases aged ``low``-``high`` (years) in ``age_year``; NaN if unknown.

        Bands that straddle the range are left out (SEN2's phase ages are single years).
        """
        if self.by_age is None:
            return float("nan")
        inside = (self.by_age.index >= low) & (self.by_age["oldest"] <= high)
        values = self.by_age.loc[inside, "in_bases"]
        return float(values.sum()) if values.notna().all() else float("nan")


def caseload_of(file: Sen2File, geography: str, problems: Problems) -> Caseload | None:
    """Take one geography's all-plans series and base placements by age out of the caseload file."""
    rows = file.rows_of(geography, problems)
    if rows is None:
        return None
    overall = rows[rows["breakdown_topic"] == ALL_TOPIC]
    if not _one_row_a_year(file.path, overall, problems):
        return None
    years = overall["year"].to_numpy()
    plans = pd.Series(overall["ehcplans"].to_numpy(), index=years).sort_index()
    in_bases = pd.Series(_in_bases(overall), index=years).sort_index()
    valid = plans.notna() & (plans > 0)
    if not valid.any():
        problems.add(file.path, f"no usable '{ALL_TOPIC}' count for {geography!r}")
        return None
    by_age, age_year = None, None
    age_rows = rows[rows["breakdown_topic"] == AGE_TOPIC]
    for year in sorted(set(age_rows["year"]), reverse=True):
        bands = _ages(file.path, age_rows[age_rows["year"] == year], problems)
        if bands is None:
            return None
        placed = _in_bases(bands)
        if len(bands) and not np.isnan(placed).all():
            index = pd.Index(bands["age_low"].to_numpy(dtype=int), name="age")
            by_age = pd.DataFrame(
                {
                    "oldest": bands["age_high"].to_numpy(dtype=int),
                    "plans": bands["ehcplans"].to_numpy(),
                    "in_bases": placed,
                },
                index=index,
            )
            age_year = int(year)
            break
    return Caseload(plans[valid], in_bases[valid], by_age, age_year, _name(rows))


def read_caseload(path: Path, problems: Problems, *, authority: str) -> Caseload | None:
    """Read the SEN2 caseload file for ``authority``: plans per year and in bases by age."""
    file = read_sen2(path, problems, kind="caseload")
    return caseload_of(file, authority, problems) if file is not None else None
