"""A pupil list: one row per child needing a base place, aggregated to area counts at once.

Pupil-level rows never leave this module: the result is counts by area, phase and need code.
Messages say how many children a problem affects (withheld below the threshold), never which:
no postcode, age or need of a child is ever written in a warning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.config import NEED_CODES, DemandInput
from sitefinder.disclosure import format_count
from sitefinder.readers.establishments import need_code
from sitefinder.readers.postcodes import PostcodeLookup, package_postcodes
from sitefinder.readers.tables import read_csv
from sitefinder.validate import NumberRule, Problems

_NEED = ("need_code", "need", "primary_need", "sen_need", "primary_need_code")
_AGE = ("age",)
_OTHER_PHASES = ("nursery", "early years", "post-16", "post 16", "16 plus", "sixth form")
_YEAR = ("nc_year", "year", "ncyear", "national_curriculum_year", "year_group")


def _column(table: pd.DataFrame, options: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in table.columns}
    return next((lower[o] for o in options if o in lower), None)


def _ages(table: pd.DataFrame, path: Path, problems: Problems) -> pd.Series | None:
    age, year = _column(table, _AGE), _column(table, _YEAR)
    if age is None and year is None:
        problems.add(path, "needs an age column (age) or a year column (nc_year): add one")
        return None
    if age is not None:
        return problems.numbers(path, table, age, rule=NumberRule(minimum=2, integer=True))
    assert year is not None
    text = table[year].str.strip().str.upper().str.replace(r"^(?:YEAR|Y)\s*", "", regex=True)
    text = text.replace({"R": "0", "N1": "-2", "N2": "-1"})
    parsed = problems.numbers(
        path, table.assign(**{year: text}), year, rule=NumberRule(minimum=-2, integer=True)
    )
    return parsed + 4  # Reception (year 0) children are 4 at the start of the school year


def pupil_counts(
    spec: DemandInput,
    problems: Problems,
    *,
    areas: pd.DataFrame,
    postcodes: PostcodeLookup | None,
    threshold: int = 5,
) -> tuple[pd.DataFrame | None, list[str]]:
    """Count the children of a pupil list by ``area_code, phase, need_code, age`` (years).

    A child's area is the postcode's small area when the lookup has areas, else the nearest area
    point. Children whose postcode is not found are left out with a warning (never silently);
    counts of children in warnings below ``threshold`` are suppressed.

    Parameters
    ----------
    spec
        The scenario's ``[inputs.demand]`` with method ``pupils``: the list (``path``) and each
        phase's ages (``ages``, years at the start of the school year).
    problems
        Collector for every problem found.
    areas
        The authority's areas: ``area_code, easting, northing`` (EPSG:27700 metres).
    postcodes
        Lookup that places each child's postcode (default: the packaged ONSPD).
    threshold
        Counts of children below this are shown as "<threshold" in warnings (children).

    Returns
    -------
    counts, warnings
        Children by area, phase, need code and age (None when the list cannot be used; the
        reasons are in ``problems``), and warnings.
    """
    if spec.path is None:
        raise ValueError("a pupil list needs inputs.demand.path")
    path, ages = spec.path, spec.ages
    warnings: list[str] = []
    table = read_csv(path, problems, hint="inputs.demand")
    if table is None:
        return None, warnings
    need, postcode = _column(table, _NEED), _column(table, ("postcode", "home_postcode"))
    missing = [n for n, c in (("postcode", postcode), ("need_code", need)) if c is None]
    if missing:
        problems.add(path, f"missing column {', '.join(missing)} (one row per child)")
        return None, warnings
    assert need is not None and postcode is not None
    codes = table[need].map(lambda v: need_code(str(v)))
    problems.bad_rows(
        path, need, codes.isna(), f"unknown need; use a code ({', '.join(NEED_CODES)})"
    )
    problems.bad_rows(
        path,
        postcode,
        table[postcode].str.strip() == "",
        "blank postcode (fill in the child's home postcode)",
    )
    age = _ages(table, path, problems)
    if age is None:
        return None, warnings
    phase = pd.Series("", index=table.index)
    for name, (low, high) in ages.items():
        phase = phase.mask(age.between(low, high), name)
    given = _column(table, ("phase",))
    if given is not None:
        stated = table[given].str.strip().str.lower()
        unknown = (stated != "") & ~stated.isin([*ages, *_OTHER_PHASES])
        problems.bad_rows(
            path,
            given,
            unknown,
            f"unknown phase; use {' or '.join(ages)} (or {', '.join(_OTHER_PHASES[:3])}, ...,"
            " for children not planned for), or leave it blank to go by age",
        )
        phase = phase.mask(stated != "", stated)
        other = stated.isin(_OTHER_PHASES)
        if other.any():
            warnings.append(
                f"{path}: {format_count(int(other.sum()), threshold)} child(ren) have a phase"
                f" not planned for ({', '.join(sorted(set(stated[other])))}) and are not"
                " counted"
            )
        phase = phase.mask(other | unknown, "-")
    outside = (phase == "") & age.notna()
    if outside.any():
        warnings.append(
            f"{path}: {format_count(int(outside.sum()), threshold)} child(ren) are outside the"
            " planned ages"
            f" ({'; '.join(f'{p} {lo}-{hi}' for p, (lo, hi) in ages.items())}) and are not"
            " counted"
        )
    lookup = postcodes or package_postcodes(table[postcode])
    if lookup is None:
        problems.add(
            path, "cannot geocode postcodes: set inputs.postcodes to an ONS Postcode Directory CSV"
        )
        return None, warnings
    found = lookup.find(table[postcode])
    located = found["easting"].notna()
    if not located.all():
        missed = int((~located).sum())
        warnings.append(
            f"{path}: {format_count(missed, threshold)} child(ren)'s postcode(s) not found"
            f" in {lookup.source}; those children are not counted (correct the postcodes, or"
            " add them to inputs.postcodes; the postcodes are not shown, to protect the"
            " children)"
        )
    area = found["area_code"].where(found["area_code"].isin(areas["area_code"]), "")
    nearest = located & (area == "")
    if nearest.any():
        from sklearn.neighbors import KDTree  # only for pupil lists: slow to import

        tree = KDTree(areas[["easting", "northing"]].to_numpy(dtype=float))
        _, index = tree.query(found.loc[nearest, ["easting", "northing"]].to_numpy(dtype=float))
        area[nearest] = areas["area_code"].to_numpy()[index[:, 0]]
    keep = located & phase.isin(list(ages)) & codes.notna()
    frame = pd.DataFrame(
        {"area_code": area, "phase": phase, "need_code": codes, "age": age.astype("Int64")}
    )[keep]
    counted = frame.groupby(
        ["area_code", "phase", "need_code", "age"], as_index=False, dropna=False
    ).size()
    counted = counted.rename(columns={"size": "children"})
    counted["children"] = counted["children"].astype(np.float64)
    return counted, warnings
