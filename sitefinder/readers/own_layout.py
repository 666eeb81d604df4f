"""sitefinder's own CSV layout: schools, areas and counted demand.

The layout the README documents for authorities that prepare their own tables (``format =
"sitefinder"`` schools, ``inputs.areas`` and ``inputs.demand.method = "counts"``). Coordinates
are EPSG:27700 metres; counts are children or pupils.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.authorities import LAD_COLUMN, Authority, find_column
from sitefinder.config import NEED_CODES, Phase
from sitefinder.readers.tables import read_csv
from sitefinder.validate import NumberRule, Problems

SCHOOL_PHASES = ("primary", "secondary", "all-through", "other")
PLACE_PHASES = ("primary", "secondary")
ESTABLISHMENT_GROUPS = ("mainstream", "special", "independent", "pru", "other")
GENDERS = ("mixed", "boys", "girls", "")
ADMISSIONS = ("selective", "non-selective", "not applicable", "")
MAX_SCHOOL_PUPILS = 10_000  # the largest English schools have about 3,000 pupils
MAX_CHILDREN_PER_ROW = 100_000  # children needing a base place in one area, phase and need
# The kinds of special school a child without a base place may go to.
SPECIAL_KINDS = ("special", "independent", "non_maintained")
# A school's capacity or pupils: a whole number of children.
PUPILS = NumberRule(minimum=0, maximum=MAX_SCHOOL_PUPILS, integer=True)


def read_schools(path: Path, problems: Problems) -> pd.DataFrame | None:
    """Read a schools CSV in sitefinder's layout (``inputs.schools.format = "sitefinder"``).

    Returns
    -------
    pandas.DataFrame or None
        ``urn, name, phase, establishment_group, capacity, pupils, ehcp_pupils`` (pupils),
        ``gender, admissions_policy, statutory_low_age, statutory_high_age`` (years),
        ``easting, northing`` (EPSG:27700 metres), ``need_codes`` (SEN2 codes joined by
        ";", blank when none is recorded), and, for special schools, ``special_kind``
        (``special``, ``independent`` or ``non_maintained``; blank: ``special``) and
        ``special_places`` (a register's places for children without a base place; blank:
        from capacity); None when the file cannot be used.
    """
    table = read_csv(path, problems)
    required = (
        "urn", "name", "phase", "establishment_group", "capacity", "pupils", "easting", "northing",
    )  # fmt: skip
    if table is None or not problems.require_columns(path, table, required):
        return None
    out = pd.DataFrame({"urn": table["urn"].str.strip(), "name": table["name"].str.strip()})
    problems.bad_rows(path, "urn", out["urn"] == "", "blank value (every school needs its URN)")
    problems.unique(path, out, "urn")
    problems.choices(path, table, "phase", SCHOOL_PHASES)
    problems.choices(path, table, "establishment_group", ESTABLISHMENT_GROUPS)
    out["phase"] = table["phase"].str.strip()
    out["establishment_group"] = table["establishment_group"].str.strip()
    for column in ("capacity", "pupils"):
        out[column] = problems.numbers(path, table, column, rule=PUPILS)
    if "ehcp_pupils" in table.columns:
        out["ehcp_pupils"] = problems.numbers(
            path, table, "ehcp_pupils", rule=replace(PUPILS, required=False)
        )
    else:
        out["ehcp_pupils"] = float("nan")
    for column, allowed in (("gender", GENDERS), ("admissions_policy", ADMISSIONS)):
        values = (
            table[column].str.strip().str.casefold()
            if column in table.columns
            else pd.Series("", index=table.index)
        )
        problems.bad_rows(
            path,
            column,
            ~values.isin(allowed),
            f"must be one of {', '.join(a for a in allowed if a)}, or blank when not known",
        )
        out[column] = values
    for column in ("statutory_low_age", "statutory_high_age"):
        out[column] = (
            problems.numbers(path, table, column, rule=NumberRule(minimum=0, required=False))
            if column in table.columns
            else float("nan")
        )
    out["easting"] = problems.numbers(path, table, "easting")
    out["northing"] = problems.numbers(path, table, "northing")
    problems.british_grid(path, out["easting"], out["northing"], ("easting", "northing"))
    out["need_codes"] = _need_codes(path, table, problems)
    kinds = (
        table["special_kind"].fillna("").str.strip().str.casefold()
        if "special_kind" in table.columns
        else pd.Series("", index=table.index)
    )
    problems.bad_rows(
        path,
        "special_kind",
        ~kinds.isin(("", *SPECIAL_KINDS)),
        f"must be one of {', '.join(SPECIAL_KINDS)}, or blank (a special school's kind)",
    )
    special = out["establishment_group"] == "special"
    out["special_kind"] = kinds.mask(special & (kinds == ""), "special").where(special, "")
    out["special_places"] = (
        problems.numbers(
            path, table, "special_places", rule=NumberRule(minimum=0, maximum=5000, required=False)
        )
        if "special_places" in table.columns
        else float("nan")
    )
    return out


def _need_codes(path: Path, table: pd.DataFrame, problems: Problems) -> pd.Series:
    """The optional ``need_codes`` column: needs a special school serves (blank = unknown)."""
    if "need_codes" not in table.columns:
        return pd.Series("", index=table.index)
    codes = table["need_codes"].fillna("").str.split(";")
    codes = codes.map(lambda parts: tuple(p.strip() for p in parts if p.strip()))
    problems.bad_rows(
        path,
        "need_codes",
        codes.map(lambda cs: any(c not in NEED_CODES for c in cs)),
        f"need codes separated by ';', each one of {', '.join(NEED_CODES)} (or blank)",
    )
    return codes.map(";".join)


def read_areas(
    path: Path,
    problems: Problems,
    *,
    authority: Authority | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame | None:
    """Read an areas CSV: ``area_code, area_name, easting, northing`` (EPSG:27700 metres).

    ``area_name`` is optional (the code stands in for it). With ``authority`` and a local
    authority district code column (``LAD21CD``, as a national file carries), only the
    authority's areas are kept; what was done is added to ``notes``.
    """
    table = read_csv(path, problems)
    if table is None or not problems.require_columns(
        path, table, ("area_code", "easting", "northing")
    ):
        return None
    lad = find_column(table.columns, LAD_COLUMN)
    if authority is not None and lad is not None and authority.lad_codes:
        mask = authority.matches(table[lad])
        if not mask.any():
            problems.add(
                path,
                f"no areas of authority {authority.label} (matched on {lad}); check the"
                " top-level authority, or that the file covers it",
            )
            return None
        if not mask.all() and notes is not None:
            notes.append(
                f"{path}: kept {int(mask.sum()):,} of {len(mask):,} areas, {authority.name}'s"
                f" (by {lad})"
            )
        table = table[mask]
    out = pd.DataFrame({"area_code": table["area_code"].str.strip()})
    problems.unique(path, out, "area_code")
    names = table["area_name"] if "area_name" in table.columns else out["area_code"]
    out["area_name"] = names.str.strip()
    out["easting"] = problems.numbers(path, table, "easting")
    out["northing"] = problems.numbers(path, table, "northing")
    problems.british_grid(path, out["easting"], out["northing"], ("easting", "northing"))
    return out


def read_demand_counts(
    path: Path,
    problems: Problems,
    *,
    areas: pd.DataFrame | None,
    ages: Mapping[Phase, tuple[int, int]] | None = None,
) -> pd.DataFrame | None:
    """Read counted demand: children needing a base place by area, phase and need.

    Parameters
    ----------
    path
        CSV with ``area_code, phase, need_code, children`` and an optional ``age`` (years).
    areas
        The areas read, to check every ``area_code`` against (None skips the check).
    ages
        Each phase's ages in years (``inputs.demand.ages``); rows whose age falls outside
        their phase's are refused.

    Returns
    -------
    pandas.DataFrame or None
        ``area_code, phase, need_code, age, children`` (children, may be fractional), one row
        per area, phase, need and age: rows of the file that repeat one are added together.
    """
    table = read_csv(path, problems, categories=True)  # few values in many rows
    required = ("area_code", "phase", "need_code", "children")
    if table is None or not problems.require_columns(path, table, required):
        return None
    out = pd.DataFrame({c: _stripped(table[c]) for c in ("area_code", "phase", "need_code")})
    problems.choices(path, table, "phase", PLACE_PHASES)
    problems.choices(path, table, "need_code", NEED_CODES)
    out["age"] = (
        problems.numbers(
            path, table, "age", rule=NumberRule(minimum=0, integer=True, required=False)
        )
        if "age" in table.columns
        else pd.Series(float("nan"), index=table.index)
    ).astype("Int64")
    problems.bad_rows(path, "age", out["age"].fillna(0) > 25, "must be <= 25 (years)")
    if ages is not None:
        outside = pd.Series(False, index=table.index)
        for phase, (low, high) in ages.items():
            in_phase = out["phase"] == phase
            outside |= in_phase & out["age"].notna() & ~out["age"].between(low, high).fillna(True)
        problems.bad_rows(
            path, "age", outside.fillna(False).astype(bool),
            "outside the phase's ages (inputs.demand.ages)",
        )  # fmt: skip
    out["children"] = problems.numbers(
        path, table, "children", rule=NumberRule(minimum=0, maximum=MAX_CHILDREN_PER_ROW)
    )
    if areas is not None:
        problems.bad_rows(
            path,
            "area_code",
            ~out["area_code"].isin(areas["area_code"]),
            "not an area_code in the areas file (add the area or fix the code)",
        )
    return _added_up(out)


def _added_up(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per area, phase, need and age, in the order they first appear, children added.

    Grouped on one integer key made of the columns' codes (pandas' groupby on the four columns
    needs several times the table's memory on a file of millions of rows).
    """
    keys = ["area_code", "phase", "need_code", "age"]
    key = np.zeros(len(rows), dtype=np.int64)
    span = 1
    for column in keys:
        values = rows[column]
        if isinstance(values.dtype, pd.CategoricalDtype):  # its codes, missing -1 -> 0
            codes, size = values.cat.codes.to_numpy() + 1, len(values.cat.categories) + 1
        else:
            codes, uniques = pd.factorize(values, use_na_sentinel=False)
            size = max(len(uniques), 1)
        key *= size  # mixed radix: one key for each combination
        key += codes
        span *= size
    children = np.nan_to_num(rows["children"].to_numpy(dtype="float64", na_value=np.nan))
    positions = np.arange(len(rows))
    if span <= max(len(rows), 1):  # few combinations (the usual case): count them in place
        first_at = np.full(span, len(rows))
        np.minimum.at(first_at, key, positions)
        present = np.flatnonzero(first_at < len(rows))
        sums = np.bincount(key, weights=children, minlength=span)[present]
        first = first_at[present]
    else:
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        first = order[starts]  # stable: each key's first row
        sums = np.add.reduceat(children[order], starts)
    appear = np.argsort(first)
    out = rows.iloc[first[appear]].reset_index(drop=True)
    for column in ("area_code", "phase", "need_code"):
        out[column] = out[column].astype(str)
    out["children"] = sums[appear]
    return out[[*keys, "children"]]


def _stripped(column: pd.Series) -> pd.Series:
    """``column`` with its values stripped of spaces, as a categorical (missing cells NaN)."""
    codes, uniques = pd.factorize(column)
    stripped = pd.Series(uniques).astype(str).str.strip()
    merged, categories = pd.factorize(stripped)  # " ASD" and "ASD" are one value
    cells = np.append(merged, -1)[codes]  # code -1 (missing) stays missing
    return pd.Series(pd.Categorical.from_codes(cells, categories=categories), index=column.index)
