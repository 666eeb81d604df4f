"""ONS population estimates by small area and single year of age.

Reads the mid-year estimates as ONS and data teams publish them: one row per area (and sex),
one column per single year of age (``0`` .. ``90+``, or ``Age 0``/``age_0``). Rows for persons
are used when present; otherwise females and males are added together.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.authorities import Authority, authority_rows
from sitefinder.readers.population_bands import read_population_fields, single_years
from sitefinder.readers.tables import FileLines
from sitefinder.validate import SANE_MAXIMUM, NumberRule, Problems

_CODE_COLUMNS = (
    "area_code",
    "lsoa21cd",
    "lsoa 2021 code",
    "lsoa_code",
    "lsoa11cd",
    "geography code",
)
_AGE = re.compile(r"^(?:age[ _]?)?(\d{1,2})$", re.IGNORECASE)


def read_population(
    path: Path,
    problems: Problems,
    *,
    authority: Authority | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame | None:
    """Return children and young people by area (rows) and single year of age (columns 0-25).

    With ``authority``, only its areas are kept: by a local authority district code column
    (``LAD 2021 Code``, ``lad21cd``), else by the area names (``Trafford 025A``); what was done
    is added to ``notes``.
    """
    found: list[str] = notes if notes is not None else []
    table = read_population_fields(
        path, problems, authority=authority, notes=found, hint="inputs.demand"
    )  # a CSV, or a GeoPackage's fields cut to the authority's districts
    if table is None:
        return None
    total = len(table)
    if authority is not None:
        mask = authority_rows(
            table, authority, path=path, problems=problems, notes=notes if notes is not None else []
        )
        if mask is None:
            return None
        table = table[mask]
    table = single_years(table, path=path, problems=problems, total=total, notes=found)
    if table is None:  # age bands spread over single years (population_bands)
        return None
    lower = {c.lower(): c for c in table.columns}
    code = next((lower[c] for c in _CODE_COLUMNS if c in lower), None)
    ages = {int(m.group(1)): c for c in table.columns if (m := _AGE.match(c.strip()))}
    if code is None or not all(age in ages for age in range(4, 16)):
        problems.add(
            path,
            "needs an area code column (area_code or LSOA21CD) and one column per single year of"
            " age (0, 1, 2, ... as in the ONS mid-year estimates)",
        )
        return None
    if "sex" in lower:
        sex = table[lower["sex"]].str.strip().str.casefold()
        persons = sex.isin(("persons", "all", "all persons"))
        table = table[persons] if persons.any() else table[sex.isin(("females", "males", "f", "m"))]
    columns = [ages[a] for a in sorted(ages) if a <= 25]
    numbers = table[columns].apply(pd.to_numeric, errors="coerce")
    cells = numbers.to_numpy(dtype=float)
    if not (np.isfinite(cells).all() and (cells >= 0).all() and (cells <= SANE_MAXIMUM).all()):
        # Some cell is blank, text or out of range: check each column to say which.
        rows = FileLines(problems, table.index.to_numpy(), total)  # lines of the file
        for age, column in ages.items():
            if age <= 25:
                rows.numbers(
                    path, table, column, rule=NumberRule(minimum=0), label=f"{column} (age {age})"
                )
    numbers = numbers.where(np.isfinite(numbers), 0.0)  # bad cells are reported above
    numbers.columns = [a for a in sorted(ages) if a <= 25]
    numbers.index = table[code].str.strip()
    return numbers.groupby(level=0, sort=True).sum()
