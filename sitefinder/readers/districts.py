"""A lookup of local authority districts (LAD) to the education authority each belongs to.

ONS small-area files name an area's district (``LAD24CD``), never its county: in two-tier
areas several districts (E07) make up one county council (E10), the authority that plans
school places. With this lookup a county's small areas are cut by its districts' codes. Any
table with a LAD code column (values ``E06``..``E09`` and 6 digits) and a column naming the
education authority (its DfE name, GSS code or LA number) is read; ONS's "LAD to upper tier
local authority" lookup is one, and so is England's ``lad2024_to_education_authority.csv``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from sitefinder.authorities import Authority, all_authorities
from sitefinder.readers.tables import read_csv
from sitefinder.validate import Problems

_LAD_CODE = re.compile(r"^E0[6789]\d{6}$")
_LAD_NAME = re.compile(r"^lad\s?\d{0,4}\s?(?:nm|name)$")


def district_columns(table: pd.DataFrame) -> tuple[str, list[str]] | None:
    """The LAD code column and the columns that may name an authority, or None.

    The LAD code column is the first whose every value is a district code; the authority
    columns are those (other than the LAD's code and name) holding some authority's name or
    code in every row.
    """
    text = table.astype(str).apply(lambda c: c.str.strip())
    lad = next((c for c in text.columns if len(text) and text[c].str.match(_LAD_CODE).all()), None)
    if lad is None:
        return None
    forms = {f for a in all_authorities() for f in a.forms}
    named = [
        str(c) for c in text.columns
        if c != lad and not _LAD_NAME.match(str(c).strip().lower())
        and text[c].str.casefold().isin(forms).all()
    ]  # fmt: skip
    return (str(lad), named) if named else None


def lookup_header(header: Iterable[str]) -> bool:
    """Whether a header may be a district lookup's (a LADnnCD column): checked on rows next."""
    return any(re.match(r"^lad\d{2}cd$", h.strip().lower()) for h in header)


def read_districts(
    path: Path, problems: Problems, *, authority: Authority, notes: list[str]
) -> frozenset[str]:
    """The LAD codes of ``authority``'s districts in the lookup (empty, a problem recorded, when
    the file is not a lookup or holds none of them)."""
    table = read_csv(path, problems, hint="inputs")
    if table is None:
        return frozenset()
    columns = district_columns(table)
    if columns is None:
        problems.add(
            path,
            "not a district lookup: needs a column of LAD codes (E06/E07/E08/E09 and 6 digits,"
            " e.g. LAD24CD) and a column naming each district's education authority (its name,"
            " GSS code or LA number)",
        )
        return frozenset()
    lad, named = columns
    mask = pd.Series(False, index=table.index)
    for column in named:
        mask |= authority.matches(table[column])
    if not mask.any():
        problems.add(
            path,
            f"no district of {authority.label} (matched on {', '.join(named)}); check the"
            " top-level authority, or that the lookup covers it",
        )
        return frozenset()
    codes = frozenset(table.loc[mask, lad].str.strip().str.upper())
    if authority.is_county:
        notes.append(
            f"{path}: {authority.name}'s {len(codes)} districts ({', '.join(sorted(codes))}):"
            " its small areas are cut by them"
        )
    return codes
