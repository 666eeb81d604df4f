"""England's local authorities in the three forms public files name them, and filters by one.

A scenario names its authority once (``authority = "Trafford"``, ``"E08000009"`` or ``"358"``);
every national input is then cut to it: GIAS by ``LA (code)``/``LA (name)``/``GSSLACode``, ONS
population and LSOA boundaries by their local authority district (LAD) code column or, without
one, by the LSOA name (``"Trafford 025A"``), the postcode directory by ``laua``, and SEN2 by
``new_la_code``/``old_la_code``/``la_name``.

The table of forms (``sitefinder/data/authorities.csv``) is generated from the DfE SEN2 2025
caseload file by ``data/authorities/generate.py``. A county council (GSS ``E10...``) has no LAD
code of its own: ONS files carry its districts' codes, which sitefinder learns from the postcode
directory's county column (``cty``) or a GIAS extract's ``DistrictAdministrative (code)``.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from sitefinder.validate import Problems

# Column names (lower case) that hold a local authority district code in ONS files.
LAD_COLUMN = re.compile(
    r"^(?:lad\s?\d{0,4}\s?(?:code|cd)|lad\d{2}cd|la_?code|laua|oslaua|lad_code"
    r"|local authority (?:district )?code|la code \(\d{4} boundaries\))$"
)
# ... a county code (ONSPD ``cty``): counties' postcodes carry their districts' LAD codes.
COUNTY_COLUMN = re.compile(r"^(?:cty|oscty|cty\d{2}cd|county_code)$")
# ... a small area's name, "Trafford 025A": the LA name, a space, a number and a letter.
AREA_NAME_COLUMN = re.compile(r"^(?:lsoa\s?\d{0,4}\s?(?:name|nm)|lsoa\d{2}nm|lsoa_name|area_name)$")
_AREA_NAME = re.compile(r"^(.+?)\s+\d{3}[A-Z]$")


@dataclass(frozen=True)
class Authority:
    """One local authority in England.

    Attributes
    ----------
    name
        The DfE's name (``la_name``), e.g. ``"Kingston upon Hull, City of"``.
    gss_code
        The GSS code the DfE files it under (``new_la_code``), e.g. ``"E08000009"``.
    la_code
        The DfE's three-digit LA number (``old_la_code``, GIAS ``LA (code)``), e.g. ``"358"``.
    ons_code
        The ONS code of a reorganised authority the DfE still files under a county code.
    districts
        LAD codes of a county council's districts, once learned from a file.
    """

    name: str
    gss_code: str
    la_code: str
    ons_code: str = ""
    districts: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        """'Trafford (E08000009, LA 358)', for messages."""
        return f"{self.name} ({self.gss_code}, LA {self.la_code})"

    @property
    def is_county(self) -> bool:
        """Whether ONS files carry its districts' codes rather than its own."""
        return self.gss_code.startswith("E10") and not self.ons_code

    @property
    def lad_codes(self) -> frozenset[str]:
        """LAD codes its small areas and postcodes carry in ONS files (empty for a county
        whose districts are not yet known)."""
        own = set() if self.is_county else {self.gss_code, self.ons_code} - {""}
        return frozenset(own | self.districts)

    @property
    def names(self) -> frozenset[str]:
        """Case-folded names: the DfE's, the part before a comma, without full stops."""
        full = self.name.casefold()
        short = full.split(",")[0].strip()
        return frozenset({full, short, full.replace(".", ""), short.replace(".", "")})

    @property
    def forms(self) -> frozenset[str]:
        """Every case-folded form a file may name it by (names, codes)."""
        codes = {self.gss_code, self.la_code, self.ons_code} - {""}
        return self.names | {c.casefold() for c in codes}

    def matches(self, values: pd.Series) -> pd.Series:
        """Which ``values`` name this authority in any form (or are one of its districts)."""
        folded = values.astype(str).str.strip().str.casefold()
        districts = {d.casefold() for d in self.districts}
        return folded.isin(self.forms | districts)

    def owns_area_names(self, names: pd.Series) -> pd.Series:
        """Which small-area names ('Trafford 025A') carry this authority's name."""
        return area_name_prefix(names).isin(self.names).fillna(False).astype(bool)

    def with_districts(self, codes: set[str] | frozenset[str]) -> Authority:
        """This authority with ``codes`` added to its districts."""
        return replace(self, districts=self.districts | {c.strip().upper() for c in codes if c})


def area_name_prefix(names: pd.Series) -> pd.Series:
    """The place each small-area name begins with, case-folded ('Trafford 025A' ->
    'trafford'); NaN for a name of another form."""
    return names.astype(str).str.strip().str.extract(_AREA_NAME, expand=False).str.casefold()


@cache
def all_authorities() -> tuple[Authority, ...]:
    """Every authority in the packaged table (DfE SEN2 2025), in GSS code order."""
    text = resources.files("sitefinder").joinpath("data/authorities.csv").read_text("utf-8")
    return tuple(
        Authority(row["name"], row["gss_code"], row["la_code"], row["ons_code"])
        for row in csv.DictReader(text.splitlines())
    )


def find_authority(text: str) -> Authority | None:
    """The authority ``text`` names (name, GSS code or DfE LA code; any case), or None."""
    wanted = text.strip().casefold()
    return next((a for a in all_authorities() if wanted in a.forms), None)


def suggest(text: str) -> str:
    """' (did you mean Trafford?)' for a near miss, else ''."""
    names = [a.name for a in all_authorities()]
    close = difflib.get_close_matches(text.strip(), names, n=2, cutoff=0.7)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def find_column(columns: pd.Index | list[str], pattern: re.Pattern[str]) -> str | None:
    """The first column whose lower-case, stripped name matches ``pattern``."""
    return next((c for c in columns if pattern.match(str(c).strip().lower())), None)


def authority_rows(
    table: pd.DataFrame,
    authority: Authority,
    *,
    path: Path,
    problems: Problems,
    notes: list[str],
    areas: frozenset[str] = frozenset(),
    area_codes: pd.Series | None = None,
) -> pd.Series | None:
    """Which rows of a small-area table (population, boundaries) belong to ``authority``.

    By its LAD code column when there is one, else by the area names, else by ``areas`` (codes
    of its small areas known from another file, matched against ``area_codes``). A table none
    of these can cut is kept whole, with a note. Returns None (a problem recorded) when the
    table holds no row of the authority.
    """
    lad = find_column(table.columns, LAD_COLUMN)
    names = find_column(table.columns, AREA_NAME_COLUMN)
    if lad is not None and authority.lad_codes:
        mask, how = authority.matches(table[lad]), lad
    elif names is not None and not authority.is_county:
        mask, how = authority.owns_area_names(table[names]), f"the area names in {names}"
    elif areas and area_codes is not None:
        mask, how = area_codes.isin(areas), "the areas of its postcodes"
    elif (others := _others_named(table, authority, lad, names)) is not None:
        problems.add(
            path,
            f"holds other authorities' rows ({others}) and cannot be cut to {authority.name}:"
            " a county council's small areas carry its districts' codes, which are not known;"
            " set inputs.districts to a lookup of districts to education authorities (or give"
            " a postcode directory with a county column, cty; or a file of the authority alone)",
        )
        return None
    else:
        notes.append(
            f"{path}: not cut to {authority.name}: no local authority code or area name column"
            " that sitefinder can match (every row is kept)"
        )
        return pd.Series(True, index=table.index)
    if not mask.any():
        problems.add(
            path,
            f"no rows for authority {authority.label} (matched on {how}); check the top-level"
            " authority, or that the file covers it",
        )
        return None
    if not mask.all():
        notes.append(
            f"{path}: kept {int(mask.sum()):,} of {len(mask):,} rows, {authority.name}'s (by {how})"
        )
    return mask


def _others_named(
    table: pd.DataFrame, authority: Authority, lad: str | None, names: str | None
) -> str | None:
    """Other authorities a small-area table names by LAD code or area name ('Trafford and 3
    more'), or None: for a county council whose districts are not known, such a table holds
    others' rows and cannot be cut to it."""
    if not authority.is_county or (lad is None and names is None):
        return None
    values = table[lad] if lad is not None else area_name_prefix(table[names]).fillna("")
    own = {f: a.name for a in all_authorities() if not a.is_county and a != authority
           for f in a.forms}  # fmt: skip
    found = sorted({own[v] for v in values.astype(str).str.strip().str.casefold() if v in own})
    if not found:
        return None
    return found[0] if len(found) == 1 else f"{found[0]} and {len(found) - 1} more"
