"""A register of special schools: their kind, places and the needs they are designated for.

GIAS records a special school's type and capacity, and its SEN provision types in
``SEN1``..``SEN13``, but many files planners hold do not (a GIAS subset, a map layer, a school
list): the register says what the fallback needs to know. One row per special school:
``urn`` (in the schools file), optional ``kind`` (``special``, ``independent`` or
``non_maintained``), ``places`` (for children without a base place: the authority's
commissioned places, say), ``need_codes`` (SEN2 codes separated by ``;``),
``statutory_low_age`` and ``statutory_high_age`` (years). A school it lists is a special school
whatever the schools file groups it as; a blank cell leaves the schools file's value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.config import NEED_CODES
from sitefinder.readers.own_layout import SPECIAL_KINDS
from sitefinder.readers.tables import read_csv
from sitefinder.validate import NumberRule, Problems

PLACES = NumberRule(minimum=0, maximum=5000, required=False)
AGES = NumberRule(minimum=0, maximum=25, required=False)
_CODES = {code.casefold(): code for code in NEED_CODES}


@dataclass(frozen=True)
class SpecialRegister:
    """The schools table with the register's facts applied, and what was done."""

    schools: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def apply_special_register(
    path: Path, problems: Problems, *, schools: pd.DataFrame
) -> SpecialRegister | None:
    """Read the register at ``path`` and apply it to ``schools`` (sitefinder's columns).

    Every problem is recorded in ``problems`` (file, column, line and fix); None when the
    register cannot be used.
    """
    table = read_csv(path, problems)
    if table is None or not problems.require_columns(path, table, ("urn",)):
        return None
    urn = table["urn"].fillna("").str.strip()
    problems.bad_rows(path, "urn", urn == "", "blank value (every row needs the school's URN)")
    problems.bad_rows(path, "urn", urn.duplicated() & (urn != ""), "duplicate value")
    known = set(schools["urn"].astype(str))
    problems.bad_rows(
        path,
        "urn",
        (urn != "") & ~urn.isin(known),
        "not in the schools file (each special school needs its row there, with its location)",
    )
    kind = _text(table, "kind").str.casefold()
    problems.bad_rows(
        path,
        "kind",
        (kind != "") & ~kind.isin(SPECIAL_KINDS),
        f"must be one of {', '.join(SPECIAL_KINDS)}, or blank",
    )
    codes = _text(table, "need_codes").map(
        lambda text: tuple(p.strip() for p in text.split(";") if p.strip())
    )
    problems.bad_rows(
        path,
        "need_codes",
        codes.map(lambda cs: any(c.casefold() not in _CODES for c in cs)),
        f"need codes separated by ';', each one of {', '.join(NEED_CODES)} (or blank)",
    )
    numbers = {
        key: problems.numbers(path, table, key, rule=rule)
        if key in table.columns
        else pd.Series(np.nan, index=table.index)
        for key, rule in (
            ("places", PLACES),
            ("statutory_low_age", AGES),
            ("statutory_high_age", AGES),
        )
    }
    if any(item.startswith(f"{path}: ") for item in problems.items):
        return None
    out = schools.copy()
    row = pd.Index(out["urn"].astype(str)).get_indexer(urn)
    out.loc[row, "establishment_group"] = "special"
    if "special_kind" not in out.columns:
        out["special_kind"] = ""
    out["special_kind"] = out["special_kind"].fillna("")
    # the register's kind, else the file's, else a maintained special school
    before = out.loc[row, "special_kind"].to_numpy()
    chosen = np.where(kind.to_numpy() != "", kind.to_numpy(), before)
    out.loc[row, "special_kind"] = np.where(chosen == "", "special", chosen)
    if "special_places" not in out.columns:
        out["special_places"] = np.nan
    for key, column in (
        ("places", "special_places"),
        ("statutory_low_age", "statutory_low_age"),
        ("statutory_high_age", "statutory_high_age"),
    ):
        values = numbers[key].to_numpy(dtype=float)
        given = ~np.isnan(values)
        out.loc[row[given], column] = values[given]
    named = codes.map(lambda cs: ";".join(_CODES[c.casefold()] for c in cs)).to_numpy()
    has = np.array([bool(n) for n in named])
    out.loc[row[has], "need_codes"] = named[has]
    notes = [
        f"special schools register {path}: {len(table)} school(s);"
        f" places given for {int((~numbers['places'].isna()).sum())},"
        f" need designations for {int(has.sum())}"
    ]
    return SpecialRegister(out, notes)


def _text(table: pd.DataFrame, column: str) -> pd.Series:
    if column not in table.columns:
        return pd.Series("", index=table.index)
    return table[column].fillna("").astype(str).str.strip()
