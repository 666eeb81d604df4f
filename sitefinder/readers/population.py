"""ONS population estimates by small area and single year of age.

Reads the estimates in the layouts ONS, Nomis and data teams publish them, each told apart by
what its header holds:

- one column per single year of age (``0`` .. ``90+``, ``Age 0``, ``age_0``), one row per area
  or per area and sex (a ``sex`` column: the persons rows are read, else females and males are
  added together); the older workbooks' sheets (to mid-2020, headed ``LSOA Code``) are of this
  kind, one sheet per sex;
- the sexes in columns, ``F0`` .. ``F90`` and ``M0`` .. ``M90`` (the LSOA 2021 workbooks,
  mid-2021 onwards), added together.

A sheet of a workbook saved as CSV, or a Nomis download, keeps the title lines above its table
(and Nomis's notes below it): the header is the first of the file's first lines to hold an area
code column and a column for every school age, and the lines above it are skipped.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.authorities import LAD_COLUMN, Authority, authority_rows
from sitefinder.errors import processing
from sitefinder.readers.population_bands import read_population_fields, single_years
from sitefinder.readers.tables import SNIFF_BYTES, VECTOR_SUFFIXES, FileLines, read_csv
from sitefinder.validate import SANE_MAXIMUM, NumberRule, Problems

CODE_COLUMNS = (
    "area_code",
    "lsoa21cd",
    "lsoa 2021 code",
    "lsoa_code",
    "lsoa code",
    "lsoa11cd",
    "geography code",
)
_AGE = re.compile(r"^(?:age[ _]?)?(\d{1,2})\+?$", re.IGNORECASE)
_SEX_AGE = re.compile(r"^([FM])(\d{1,2})\+?$", re.IGNORECASE)
_SCHOOL_AGES = range(4, 16)
_OLDEST = 25  # single years read: 0-25
HEADER_WITHIN = 30  # lines of titles a published table may have above its header
_SEXES = {
    "persons": ("persons", "all persons", "all", "people", "total", "p", "t"),
    "females": ("females", "female", "f"),
    "males": ("males", "male", "m"),
}
_ONE_SEX = re.compile(r"\b(females|males)\b", re.IGNORECASE)


def _code_column(columns: list[str]) -> str | None:
    """The area code column, as ``columns`` spell it."""
    lower = {str(c).strip().lower(): c for c in columns}
    return next((lower[c] for c in CODE_COLUMNS if c in lower), None)


def age_columns(columns: list[str]) -> tuple[dict[int, str], dict[str, dict[int, str]]]:
    """The columns of single years of age: for persons (``0``, ``Age 0``), and for each sex
    (``F0``, ``M0``), keyed by age."""
    plain: dict[int, str] = {}
    sexes: dict[str, dict[int, str]] = {"females": {}, "males": {}}
    for column in columns:
        name = str(column).strip()
        if m := _AGE.match(name):
            plain.setdefault(int(m.group(1)), column)
        elif m := _SEX_AGE.match(name):
            sex = "females" if m.group(1).upper() == "F" else "males"
            sexes[sex].setdefault(int(m.group(2)), column)
    return plain, sexes


def _has_every_school_age(ages: dict[int, str]) -> bool:
    return all(age in ages for age in _SCHOOL_AGES)


def is_population_header(row: list[str]) -> bool:
    """Whether ``row`` is the header of ONS population by single year of age, in any layout
    read: an area code column and a column for each school age (4-15), for persons or by sex.
    """
    plain, sexes = age_columns(row)
    return _code_column(row) is not None and any(
        _has_every_school_age(ages) for ages in (plain, *sexes.values())
    )


def _title_lines(path: Path) -> tuple[int, str]:
    """How many lines stand above the table's header, and their text (for messages).

    Zero when the header is the first line or is not found among the first lines (the reader
    then says what the header lacks). Only a regular file is opened, and only its first 64 KiB
    are read.
    """
    try:
        if not path.is_file():
            return 0, ""
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES).decode("latin-1")
    except OSError:
        return 0, ""  # reading it says why
    if len(head) == SNIFF_BYTES:
        head = head[: head.rfind("\n") + 1]  # whole lines only
    found = header_below_titles(head)
    return (found[0], found[2]) if found else (0, "")


def header_below_titles(text: str) -> tuple[int, list[str], str] | None:
    """Where the population header stands among the first lines of ``text``: the number of
    lines above it, the header, and the titles' text (" / " between cells); None when none of
    the first ``HEADER_WITHIN`` lines is one (or the text is not CSV there)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    titles: list[str] = []
    try:
        for row in itertools.islice(reader, HEADER_WITHIN):
            if is_population_header(row):
                return reader.line_num - 1, [cell.strip() for cell in row], " / ".join(titles)
            titles.extend(cell.strip() for cell in row if cell.strip())
    except csv.Error:
        pass  # the shape check says where
    return None


def _shortened(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3].rsplit(" ", 1)[0] + " ..."


def _one_sex(titles: str) -> tuple[str, str] | None:
    """The sex and the title line saying that a sheet holds one sex, or None: a sheet of the
    older workbooks, which give persons, males and females on sheets of their own."""
    if "persons" in titles.lower():
        return None
    for line in titles.split(" / "):
        if len(sexes := {s.lower() for s in _ONE_SEX.findall(line)}) == 1:
            return sexes.pop(), line
    return None


def _newest_lad_first(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its local authority code columns newest first: the older workbooks give
    the codes of two years ("LA Code (2018 boundaries)", "LA Code (2021 boundaries)"), and
    the authority is matched on the later."""
    lads = [c for c in table.columns if LAD_COLUMN.match(str(c).strip().lower())]
    if len(lads) < 2:
        return table
    year = {c: int(m.group(0)) if (m := re.search(r"\d{4}", str(c))) else 0 for c in lads}
    newest = max(lads, key=lambda c: year[c])
    return table[[newest, *(c for c in table.columns if c != newest)]]


def _persons_rows(
    path: Path, table: pd.DataFrame, sex: str, code: str, problems: Problems, rows: FileLines
) -> pd.DataFrame | None:
    """The rows to add up for persons: the persons rows, else the females' and males'; None
    when the file cannot give persons (recorded)."""
    folded = table[sex].str.strip().str.casefold()
    kinds = {kind: folded.isin(names) for kind, names in _SEXES.items()}
    known = kinds["persons"] | kinds["females"] | kinds["males"]
    if not known.all():
        rows.bad_values(
            path,
            table,
            sex,
            ~known,
            "{value!r} is not a sex the estimates give (Persons, Females or Males)",
        )
        return None
    if kinds["persons"].any():
        return table[kinds["persons"]]
    codes = table[code].str.strip()
    female, male = set(codes[kinds["females"]]), set(codes[kinds["males"]])
    if not female or not male:
        problems.add(
            path,
            f"column {sex} has rows for {'females' if female else 'males'} only: persons are"
            " needed (Persons rows, or both Females and Males rows to add together); use the"
            " file as ONS publish it",
        )
        return None
    if one_sex := sorted(female ^ male):
        more = f" and {len(one_sex) - 5} more" if len(one_sex) > 5 else ""
        problems.add(
            path,
            f"column {sex}: {len(one_sex)} area(s) have rows for one sex but not the other"
            f" ({', '.join(one_sex[:5])}{more}); each area needs both Females and Males rows,"
            " or a Persons row",
        )
        return None
    return table


def read_population(
    path: Path,
    problems: Problems,
    *,
    authority: Authority | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame | None:
    """Return children and young people by area (rows) and single year of age (columns 0-25).

    With ``authority``, only its areas are kept: by a local authority district code column
    (``LAD 2021 Code``, ``lad21cd``, ``LA Code (2021 boundaries)``), else by the area names
    (``Trafford 025A``); what was done is added to ``notes``.
    """
    notes = notes if notes is not None else []
    if path.suffix.lower() in VECTOR_SUFFIXES:  # a GeoPackage's fields, cut to the districts
        titles, title_text = 0, ""
        table = read_population_fields(
            path, problems, authority=authority, notes=notes, hint="inputs.demand"
        )
    else:
        titles, title_text = _title_lines(path)
        table = read_csv(path, problems, hint="inputs.demand", titles=titles)
    if table is None:
        return None
    with processing(path):
        return _population(
            path, table, problems, authority=authority, notes=notes, titles=(titles, title_text)
        )


def _population(
    path: Path,
    table: pd.DataFrame,
    problems: Problems,
    *,
    authority: Authority | None,
    notes: list[str],
    titles: tuple[int, str],
) -> pd.DataFrame | None:
    skipped, title_text = titles
    total = len(table)
    if skipped:
        nomis = "nomis" in title_text.lower()
        source = "a Nomis download" if nomis else "a workbook's sheet saved as CSV"
        notes.append(
            f"{path}: read from its header at line {skipped + 1}: the lines above are the titles"
            f" of {source} ({_shortened(title_text.split(' / ')[0])})"
        )
    if authority is not None:
        table = _newest_lad_first(table)
        mask = authority_rows(table, authority, path=path, problems=problems, notes=notes)
        if mask is None:
            return None
        table = table[mask]
    table = single_years(table, path=path, problems=problems, total=total, notes=notes)
    if table is None:  # age bands spread over single years (population_bands)
        return None

    def rows(kept: pd.DataFrame) -> FileLines:
        # Problems at the rows' lines in the file: after the titles and the header.
        return FileLines(problems, kept.index.to_numpy() + skipped, total + skipped)

    code = _code_column(list(table.columns))
    plain, sexes = age_columns(list(table.columns))
    by_sex = not _has_every_school_age(plain)
    if code is None or (by_sex and not any(map(_has_every_school_age, sexes.values()))):
        problems.add(
            path,
            "needs an area code column (area_code, LSOA21CD or LSOA 2021 Code) and one column"
            " per single year of age (0, 1, 2, ... as in the ONS mid-year estimates, or F0 ..."
            " F90 and M0 ... M90 by sex)",
        )
        return None
    if by_sex:
        lacking = [s for s, ages in sexes.items() if not _has_every_school_age(ages)]
        if lacking:  # one sex only (both lacking is refused above)
            letter = {"females": "F", "males": "M"}
            (missing,) = lacking
            present = "males" if missing == "females" else "females"
            problems.add(
                path,
                f"has the {present}' columns ({letter[present]}0, {letter[present]}1, ...) but"
                f" not the {missing}' ({letter[missing]}0, ...): persons are the two added"
                " together; use the whole table as ONS publish it",
            )
            return None
        both = set(sexes["females"]) & set(sexes["males"])
        columns = [{a: c for a, c in ages.items() if a in both} for ages in sexes.values()]
    else:
        lower = {str(c).strip().lower(): c for c in table.columns}
        if "sex" in lower:
            chosen = _persons_rows(path, table, lower["sex"], code, problems, rows(table))
            if chosen is None:
                return None
            table = chosen
        elif (said := _one_sex(title_text)) is not None:
            sex, line = said
            problems.add(
                path,
                f"holds {sex} only (a title line reads '{_shortened(line)}'); persons are"
                " needed: save the workbook's Persons sheet as CSV instead",
            )
            return None
        columns = [plain]
    numbers = _ages_read(path, table, columns[0], rows(table))
    for ages in columns[1:]:  # the males' added to the females'
        numbers = numbers + _ages_read(path, table, ages, rows(table))
    numbers.index = table[code].str.strip()
    return numbers.groupby(level=0, sort=True).sum()


def _ages_read(
    path: Path, table: pd.DataFrame, ages: dict[int, str], rows: FileLines
) -> pd.DataFrame:
    """The counts of ages 0-25 (columns by age), bad cells recorded and read as 0."""
    wanted = {age: column for age, column in sorted(ages.items()) if age <= _OLDEST}
    numbers = table[list(wanted.values())].apply(pd.to_numeric, errors="coerce").astype(float)
    cells = numbers.to_numpy()
    if not (np.isfinite(cells).all() and (cells >= 0).all() and (cells <= SANE_MAXIMUM).all()):
        # Some cell is blank, text or out of range: check each column to say which.
        for age, column in wanted.items():
            rows.numbers(
                path, table, column, rule=NumberRule(minimum=0), label=f"{column} (age {age})"
            )
    numbers = numbers.where(np.isfinite(numbers), 0.0)  # bad cells are reported above
    numbers.columns = list(wanted)
    return numbers.set_axis(table.index)
