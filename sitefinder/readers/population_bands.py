"""Population by age band, spread over single years of age.

Some public population files give age bands, not single years: England's LSOA GeoPackage
(``pop_0_4, pop_5_11, pop_12_17, pop_18_24, ..., pop_75_plus``), NOMIS downloads
(``Aged 0 to 4``), tables written by data teams (``0-4``, ``75+``). The demand model needs
people by single year of age, so each band's count is spread **evenly** over its years (a band
of 5-11 gives each age 5..11 a seventh). Even spreading is what the GeoPackage's own 5-11,
12-17 and 18-24 bands already assume inside ONS's five-year bands, and no single-year profile
of England is among the public files sitefinder reads; where a cohort is much larger than
its neighbours the estimate is off by that difference, which the area totals do not see.

An open band (``75+``) is spread over its first year to 90, the ONS estimates' last.
:func:`band_columns` finds the bands, :func:`spread_bands` adds the single years; the
population reader (:mod:`sitefinder.readers.population`) calls :func:`single_years` where a
file has bands and no single years. :func:`read_population_fields` reads a vector file's
attribute table (the GeoPackage's), cut to the authority's districts when it can be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sitefinder.authorities import LAD_COLUMN, Authority, find_column
from sitefinder.readers.tables import VECTOR_SUFFIXES, FileLines, missing_or_irregular, read_csv
from sitefinder.validate import NumberRule, Problems

OLDEST = 90
"""Last year an open band (``75+``) is spread to: the ONS estimates' 90+."""
Band = tuple[int, int]
"""First and last age of a band (years); an open band ends at :data:`OLDEST`."""

_PREFIX = r"(?:(?:pop(?:ulation)?|persons|people|age[ds]?|all)[ _]*)?"
_CLOSED = re.compile(rf"^{_PREFIX}(\d{{1,2}})\s*(?:[-_ ]+|[ _]to[ _])\s*(\d{{1,2}})$")
_OPEN = re.compile(rf"^{_PREFIX}(\d{{1,2}})\s*(?:\+|[ _-]?plus|[ _]and[ _]over)$")
_SINGLE = re.compile(r"^(?:age[ _]?)?(\d{1,2})$", re.IGNORECASE)


def band_columns(columns: Iterable[str]) -> dict[Band, str]:
    """The age-band columns among ``columns``: (first, last age) -> column name.

    ``pop_0_4``, ``Aged 5 to 11``, ``0-4``, ``pop_75_plus``, ``75+``; a band's last age is
    not below its first. A single year (``age_5``, ``5``) is not a band.
    """
    found: dict[Band, str] = {}
    for column in columns:
        text = str(column).strip().lower()
        if (closed := _CLOSED.match(text)) is not None:
            low, high = int(closed.group(1)), int(closed.group(2))
            if high >= low:
                found.setdefault((low, high), str(column))
        elif (open_ := _OPEN.match(text)) is not None:
            found.setdefault((int(open_.group(1)), OLDEST), str(column))
    return found


def covers(bands: Iterable[Band], first: int, last: int) -> bool:
    """Whether ``bands`` cover every age from ``first`` to ``last`` once (no gap, no overlap)."""
    ages = [age for low, high in bands for age in range(low, high + 1) if first <= age <= last]
    return sorted(ages) == list(range(first, last + 1))


def has_single_years(columns: Iterable[str], first: int = 4, last: int = 15) -> bool:
    """Whether ``columns`` hold a column for every single year from ``first`` to ``last``."""
    ages = {int(m.group(1)) for c in columns if (m := _SINGLE.match(str(c).strip()))}
    return all(age in ages for age in range(first, last + 1))


def spread_bands(counts: pd.DataFrame, bands: dict[Band, str], *, oldest: int) -> pd.DataFrame:
    """People by single year of age 0..``oldest`` from numeric band columns, spread evenly.

    Parameters
    ----------
    counts
        One row per area; the band columns hold people (numbers).
    bands
        (first, last age) -> column, as :func:`band_columns` gives.
    oldest
        Last single year returned (years).

    Returns
    -------
    pandas.DataFrame
        One column per single year ``0..oldest`` (int labels), people (may be fractional);
        an age no band covers is 0.
    """
    out = pd.DataFrame(0.0, index=counts.index, columns=range(oldest + 1))
    for (low, high), column in sorted(bands.items()):
        share = counts[column].to_numpy(dtype=float) / (high - low + 1)
        for age in range(low, min(high, oldest) + 1):
            out[age] = out[age].to_numpy() + share
    return out


def single_years(
    table: pd.DataFrame,
    *,
    path: Path,
    problems: Problems,
    total: int,
    notes: list[str],
    first: int = 4,
    last: int = 15,
    oldest: int = 25,
) -> pd.DataFrame | None:
    """``table`` with single-year columns (``"0"`` .. ``str(oldest)``) made from its age bands.

    A table with single years already, or without bands, comes back as it is (the population
    reader says what it lacks). Band cells must be numbers of people (checked and reported at
    their lines; ``total`` is the file's data rows). Returns None when a band cell is bad or
    the bands do not cover ``first``..``last`` (the school ages) once.
    """
    if has_single_years(table.columns, first, last):
        return table
    bands = band_columns(table.columns)
    if not bands:
        return table
    if not covers(bands, first, last):
        shown = ", ".join(bands[b] for b in sorted(bands))
        problems.add(
            path,
            f"its age bands ({shown}) do not cover every age from {first} to {last} exactly"
            " once; give bands without gaps or overlaps, or one column per single year of age",
        )
        return None
    rows = FileLines(problems, table.index.to_numpy(), total)  # lines of the file
    counts = pd.DataFrame(index=table.index)
    before = len(problems.items)
    for band, column in bands.items():
        label = f"{column} (ages {_shown(band)})"
        counts[column] = rows.numbers(path, table, column, rule=NumberRule(minimum=0), label=label)
    if len(problems.items) > before:
        return None
    years = spread_bands(counts, bands, oldest=oldest)
    shown = ", ".join(f"{c} ({_shown(b)})" for b, c in sorted(bands.items()) if b[0] <= oldest)
    notes.append(
        f"{path}: population by age band, not single year: each band is spread evenly over its"
        f" years ({shown}); an age's count is its band's share, so cohorts of unequal size"
        " within a band are not seen"
    )
    single = years.rename(columns=str)
    return pd.concat([table.drop(columns=list(bands.values())), single], axis=1)


def _shown(band: Band) -> str:
    return f"{band[0]}-{band[1]}" if band[1] < OLDEST else f"{band[0]}+"


@dataclass(frozen=True)
class LayerCut:
    """An OGR SQL filter keeping an authority's districts in a vector layer."""

    where: str
    """The condition (``"LAD24CD" IN ('E07000105', ...)``)."""
    column: str
    """The LAD code field it reads."""
    total: int
    """Features in the whole layer."""
    authority: Authority

    def note(self, path: Path, kept: int) -> str:
        """What the cut kept, worded as :func:`sitefinder.authorities.authority_rows` says it."""
        name = self.authority.name
        return f"{path}: kept {kept:,} of {self.total:,} rows, {name}'s (by {self.column})"

    @property
    def none_kept(self) -> str:
        """The problem when the layer holds none of the authority's districts."""
        return (
            f"no rows for authority {self.authority.label} (matched on {self.column}); check the"
            " top-level authority, or that the file covers it"
        )


def lad_filter(fields: Iterable[str], authority: Authority | None) -> tuple[str, str] | None:
    """An OGR SQL ``where`` keeping the authority's districts, and the field it reads.

    None when the layer has no LAD code field or the authority's LAD codes are not known (a
    county council whose districts have not been learned).
    """
    if authority is None or not authority.lad_codes:
        return None
    column = find_column(list(fields), LAD_COLUMN)
    if column is None:
        return None
    codes = ", ".join(f"'{code}'" for code in sorted(authority.lad_codes) if code.isalnum())
    quoted = column.replace('"', '""')
    return f'"{quoted}" IN ({codes})', column


def layer_cut(path: Path, layer: str | None, authority: Authority | None) -> LayerCut | None:
    """The filter cutting a vector layer to ``authority``'s districts; None when the file
    cannot be opened (its reader says why) or cut (no LAD field, or the districts unknown)."""
    if authority is None or not authority.lad_codes:
        return None
    import pyogrio
    import pyogrio.errors

    try:
        info = pyogrio.read_info(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, ValueError):
        return None
    found = lad_filter([str(f) for f in info["fields"]], authority)
    if found is None:
        return None
    return LayerCut(found[0], found[1], int(info.get("features") or 0), authority)


def read_population_fields(
    path: Path, problems: Problems, *, authority: Authority | None, notes: list[str], hint: str
) -> pd.DataFrame | None:
    """A population table: a CSV, or a vector file's fields (its shapes are not read).

    A vector layer with a LAD code field is read cut to the authority's districts by an OGR
    SQL filter (a GeoPackage answers it from its SQLite table: England's 33,755 areas are not
    all decoded); its fields come back as text, as a CSV's would.
    """
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        return read_csv(path, problems, hint=hint)
    if (problem := missing_or_irregular(path, hint)) is not None:
        problems.add(path, problem)
        return None
    import pyogrio
    import pyogrio.errors

    from sitefinder.readers.gdal import caught, gdal_problem

    try:
        layers = [str(name) for name, kind in pyogrio.list_layers(path)]
        layer = layers[0] if len(layers) == 1 else None
        if layer is None:
            spatial = [str(name) for name, kind in pyogrio.list_layers(path) if kind is not None]
            layer = spatial[0] if len(spatial) == 1 else None
        if layer is None:
            problems.add(
                path,
                f"has {len(layers)} layers ({', '.join(layers[:5])}) and no single map layer to"
                " read the population from; give a file of one layer",
            )
            return None
        cut = layer_cut(path, layer, authority)
        with caught(path) as said:  # GDAL's warnings, in words
            frame = pyogrio.read_dataframe(
                path, layer=layer, read_geometry=False, where=cut.where if cut else None
            )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        problems.add(path, f"cannot read as a vector file: {gdal_problem(exc)}")
        return None
    problems.warnings.extend(said)
    if frame.empty:
        problems.add(path, cut.none_kept if cut is not None else "has no features")
        return None
    if cut is not None:
        notes.append(cut.note(path, len(frame)))
    table = pd.DataFrame(frame).astype("string").fillna("").astype(str)
    table.columns = [str(c).strip() for c in table.columns]
    return table
