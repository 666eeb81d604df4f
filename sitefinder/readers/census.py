"""The DfE school-level census files, joined to the schools by URN.

Two files from the January school census, in their published layouts:

* "Schools, pupils and their characteristics", school-level underlying data
  (``spc_school_level``): ``urn``, ``sex_of_school_description``, ``admissions_policy``,
  ``headcount of pupils`` and pupils by age (``age_4`` .. or the published
  ``full-time boys aged 4`` .. ``part-time girls aged 4`` columns, added together);
* "Special educational needs in England", school-level underlying data
  (``sen_school_level``): ``urn``, ``Total pupils``, ``SEN support``, ``EHC plan``.

They fill what a schools file lacks (a GIAS subset has no sex, admissions policy or ages):
a school's value in the schools file is kept, and the census's is used only where it is
blank. Ages taught are the ages on roll (age on 31 August, as the demand counts ages) that
hold at least :data:`AGE_SHARE` of the school's largest single year, so a child held back or
accelerated does not widen them; the share of pupils with EHC plans is the census's, applied
to the pupils on roll. The census year is said in the notes, and the schools the census does
not hold (opened, or given a new URN, since) in a warning.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.readers.indexed import read_by_key
from sitefinder.readers.sen2 import census_year
from sitefinder.readers.tables import FileLines, read_csv
from sitefinder.validate import NumberRule, Problems

AGE_SHARE = 0.25
"""An age is taught when it holds at least this share of the school's largest single year."""

_CENSUS_FIELDS: dict[str, tuple[str, ...]] = {
    "urn": ("urn",),
    "sex": ("sex_of_school_description", "sex_of_school"),
    "admissions": ("admissions_policy",),
    "pupils": ("headcount_of_pupils", "headcount", "total_pupils", "number_of_pupils"),
    "period": ("time_period",),
    "name": ("school_name",),
    "la": ("la_name",),
}
_SEN_FIELDS: dict[str, tuple[str, ...]] = {
    "urn": ("urn",),
    "ehc": ("ehc_plan", "ehc_plans", "ehcp", "pupils_with_an_ehc_plan"),
    "support": ("sen_support",),
    "pupils": ("total_pupils", "headcount_of_pupils", "headcount"),
    "period": ("time_period",),
    "name": ("school_name",),
    "la": ("la_name",),
}
_AGE = re.compile(r"^age_(\d{1,2})$")
_PUBLISHED_AGE = re.compile(r"^(?:full|part)[-_]time_(?:boys|girls)_aged?_(\d{1,2})$")
_ACADEMIC_YEAR = re.compile(r"(?<!\d)(20\d{2})[-_]?(\d{2})(?!\d)")
_SEX = {"mixed": "mixed", "boys": "boys", "girls": "girls", "unknown": "", "": ""}
_ADMISSIONS = {
    "selective": "selective",
    "non-selective": "non-selective",
    "non selective": "non-selective",
    "not applicable": "not applicable",
    "unknown": "",
    "": "",
}
_HOSTING = ("primary", "secondary", "all-through")
_PUNCTUATION = re.compile(r"[^\w]+")


def _norm(column: str) -> str:
    return re.sub(r"[\s_]+", "_", str(column).strip().lower())


def school_name_key(name: str) -> str:
    """A school's name compared across files: lower case, punctuation and runs of spaces to
    one space (``"St. Mary's C of E"`` -> ``"st mary s c of e"``)."""
    return " ".join(_PUNCTUATION.sub(" ", str(name).casefold()).replace("_", " ").split())


def _fields(header: Iterable[str], wanted: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    by_norm: dict[str, str] = {}
    for column in header:
        by_norm.setdefault(_norm(column), str(column))
    found: dict[str, str] = {}
    for key, names in wanted.items():
        match = next((by_norm[n] for n in names if n in by_norm), None)
        if match is not None:
            found[key] = match
    return found


def age_columns(header: Iterable[str]) -> dict[int, list[str]]:
    """Columns of pupils by age: ``age_N``, else the published full-/part-time boys/girls."""
    plain: dict[int, list[str]] = {}
    published: dict[int, list[str]] = {}
    for column in header:
        text = _norm(column)
        if (m := _AGE.match(text)) is not None:
            plain.setdefault(int(m.group(1)), []).append(str(column))
        elif (m := _PUBLISHED_AGE.match(text)) is not None:
            published.setdefault(int(m.group(1)), []).append(str(column))
    return plain or published


def census_layout(header: Iterable[str]) -> dict[str, str] | None:
    """The school census file's columns (``urn``, ``sex``, ``admissions``, ``pupils``,
    ``period``), or None when ``header`` is not one: a URN, pupils by age and the sex of
    school or admissions policy."""
    header = list(header)
    found = _fields(header, _CENSUS_FIELDS)
    ages = age_columns(header)
    if "urn" not in found or not ({"sex", "admissions"} & set(found)):
        return None
    if not all(age in ages for age in range(4, 16)):
        return None
    return found


def sen_layout(header: Iterable[str]) -> dict[str, str] | None:
    """The SEN school-level file's columns (``urn``, ``ehc``, ``pupils``, optionally
    ``support`` and ``period``), or None when ``header`` is not one."""
    found = _fields(header, _SEN_FIELDS)
    return found if {"urn", "ehc", "pupils"} <= set(found) else None


def file_year(path: Path, periods: pd.Series | None) -> int | None:
    """The January census year: from ``time_period`` (``202223`` -> 2023), else the file name's
    academic year (``2022-23`` -> 2023); None when neither says."""
    if periods is not None:
        years = set()
        for value in periods.str.strip().unique():
            try:
                years.add(census_year(value))
            except ValueError:
                continue
        if years:
            return max(years)
    match = _ACADEMIC_YEAR.search(path.name)
    if match is not None and (int(match.group(1)) + 1) % 100 == int(match.group(2)):
        return int(match.group(1)) + 1
    return None


def _year_text(year: int | None) -> str:
    return f"January {year}" if year else "year not stated in the file or its name"


@dataclass(frozen=True)
class CensusFill:
    """Schools with blanks filled from the census files, and what was done."""

    schools: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Rows:
    """A census file's rows for the schools: ``keys`` is the schools' URN each row stands for
    (its own, or the school's new URN when found by name); ``by_name`` rows were found so."""

    layout: dict[str, str]
    rows: pd.DataFrame
    lines: FileLines
    year: int | None
    keys: np.ndarray
    by_name: int

    def found_note(self, schools: int) -> str:
        by_urn = len(self.keys) - self.by_name
        more = (
            f", {self.by_name} more by name within the authority (a new URN since the census:"
            " an academy conversion)"
            if self.by_name
            else ""
        )
        return f"{by_urn} of {schools} schools found by URN{more}"


def _name_keys(la: pd.Series, name: pd.Series) -> pd.Series:
    """``authority<TAB>name`` (see :func:`school_name_key`), to match rows within an authority."""
    keys = [f"{a.strip().casefold()}\t{school_name_key(n)}" for a, n in zip(la, name, strict=True)]
    return pd.Series(keys, index=la.index, dtype=object)


def _cut(
    path: Path,
    problems: Problems,
    schools: pd.DataFrame,
    *,
    authority_of: Mapping[str, str],
    find: Callable[[Iterable[str]], dict[str, str] | None],
    refusal: str,
    what: str,
) -> _Rows | None:
    """The file's layout (``find`` on its header; ``refusal`` said when it has none), its rows
    of the schools (by URN, through the indexed copy: the file is parsed once for every
    authority; else by name, see :func:`_taken_by_name`), the problems at their lines, and the
    census year."""
    header = read_csv_header(path)
    layout = find(header) if header is not None else None
    if header is not None and layout is None:
        problems.add(path, refusal)
        return None
    if layout is None:
        read_csv(path, problems, hint="inputs.schools")  # says why it cannot be read
        return None
    urns = schools["urn"].astype(str).str.strip()
    named = urns.map(lambda u: authority_of.get(u, "")).str.strip() != ""
    school_keys = pd.Series(
        _name_keys(urns[named].map(authority_of), schools["name"][named].astype(str)).to_numpy(),
        index=urns[named].to_numpy(),
    )
    pick = None
    if "name" in layout and "la" in layout and len(school_keys):
        las = {k.split("\t")[0] for k in school_keys}
        wanted = set(school_keys)

        def pick(copy: Mapping[str, np.ndarray]) -> np.ndarray:
            # the authority first (an exact match on a few thousand rows), then the names
            la = pd.Series(copy[layout["la"]])
            near = np.flatnonzero(la.str.strip().str.casefold().isin(las).to_numpy())
            keys = _name_keys(la.iloc[near], pd.Series(copy[layout["name"]][near], index=near))
            mask = np.zeros(len(la), dtype=bool)
            mask[near[keys.isin(wanted).to_numpy()]] = True
            return mask

    columns = [*layout.values(), *(c for cs in age_columns(header or []).values() for c in cs)]
    found = read_by_key(
        path, problems, key=layout["urn"], values=set(urns), columns=columns,
        hint="inputs.schools", also=pick,
    )  # fmt: skip
    if found is None:
        return None
    rows = found.rows
    urn = rows[layout["urn"]].str.strip()
    urn_set = set(urns)
    doubled = urn.duplicated(keep=False) & urn.isin(urn_set)
    if doubled.any():
        shown = ", ".join(sorted(set(urn[doubled]))[:5])
        problems.add(path, f"URN {shown} appears more than once ({what}: one row per school)")
        return None
    keys = urn.astype(object).where(urn.isin(urn_set))
    if pick is not None:
        row_keys = _name_keys(rows[layout["la"]], rows[layout["name"]])
        keys = keys.where(keys.notna(), _taken_by_name(row_keys, keys, school_keys))
    kept = keys.notna().to_numpy()
    rows = rows[kept]
    year = file_year(path, rows[layout["period"]] if "period" in layout and len(rows) else None)
    return _Rows(
        layout,
        rows,
        FileLines(problems, found.positions[kept], found.total),
        year,
        keys[kept].to_numpy(dtype=str),
        int((keys[kept] != urn[kept]).sum()),
    )


def _taken_by_name(row_keys: pd.Series, by_urn: pd.Series, school_keys: pd.Series) -> pd.Series:
    """The schools' URN a census row stands for when found by name within the authority.

    A school not found by URN (a new URN since the census: an academy conversion) takes the
    census row of its name in its authority only when that name is certain: one census row has
    it (rows of any URN counted), that row's URN is no school of the table (a predecessor, not
    another open school: it was not found by URN), and one school missing by URN has it.
    """
    missing = school_keys[~school_keys.index.isin(by_urn.dropna().to_numpy())]
    once = missing[~missing.duplicated(keep=False)]
    alone = ~row_keys.duplicated(keep=False)
    take = alone & by_urn.isna() & row_keys.isin(once.to_numpy())
    school_of = pd.Series(once.index, index=once.to_numpy())
    return row_keys[take].map(school_of).reindex(row_keys.index)


def _missing(
    path: Path, schools: pd.DataFrame, found: pd.Series, what: str, year: int | None
) -> str:
    own = ~schools["cross_border"] if "cross_border" in schools else True
    hosting = (schools["establishment_group"] == "mainstream") & schools["phase"].isin(_HOSTING)
    absent = own & hosting & ~found
    if not absent.any():
        return ""
    names = [f"{n} ({u})" for u, n in zip(schools["urn"][absent], schools["name"][absent],
                                          strict=True)]  # fmt: skip
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return (
        f"{path}: {len(names)} of {int((own & hosting).sum())} mainstream schools are not in the"
        f" {_year_text(year)} census (opened, or given a new URN, since): {what}, e.g."
        f" {', '.join(names[:5])}{more}"
    )


def apply_census(
    schools: pd.DataFrame,
    *,
    census: Path | None,
    sen: Path | None,
    problems: Problems,
    authority_of: Mapping[str, str] | None = None,
) -> CensusFill | None:
    """Fill the schools' blanks from the school census (``census``) and SEN (``sen``) files.

    Parameters
    ----------
    schools
        The schools read (sitefinder's layout: ``urn, name, phase, establishment_group,
        gender, admissions_policy, statutory_low_age, statutory_high_age, pupils,
        ehcp_pupils``; ages in years, pupils in children).
    census, sen
        The files, or None.
    problems
        Collector; None is returned when a file cannot be used.
    authority_of
        Each school's authority by URN (the DfE's ``la_name``, GIAS ``LA (name)``): a school
        the census does not hold by URN is found by its name within it, when certain (see
        :func:`_taken_by_name`). None: by URN only.

    Returns
    -------
    CensusFill or None
        The schools with ``gender``, ``admissions_policy``, the statutory ages, ``pupils`` and
        ``ehcp_pupils`` filled where blank, notes and warnings.
    """
    out = schools.copy()
    notes: list[str] = []
    warnings: list[str] = []
    known = dict(authority_of or {})
    if census is not None:
        filled = _fill_census(out, census, problems, known)
        if filled is None:
            return None
        out, note, warning = filled
        notes.append(note)
        warnings += [warning] if warning else []
    if sen is not None:
        filled = _fill_sen(out, sen, problems, known)
        if filled is None:
            return None
        out, note, warning = filled
        notes.append(note)
        warnings += [warning] if warning else []
    return CensusFill(out, notes, warnings)


def _fill_census(
    schools: pd.DataFrame, path: Path, problems: Problems, authority_of: Mapping[str, str]
) -> tuple[pd.DataFrame, str, str] | None:
    cut = _cut(
        path, problems, schools, authority_of=authority_of, find=census_layout,
        what="the school census",
        refusal="not a school census file: needs urn, sex_of_school_description or"
        " admissions_policy, and pupils by age (age_4 .. age_15, or the published"
        " full-time/part-time boys/girls aged N columns)",
    )  # fmt: skip
    if cut is None:
        return None
    layout, rows, lines, year = cut.layout, cut.rows, cut.lines, cut.year
    ages = age_columns(rows.columns)
    before = len(problems.items)
    by_age = _pupils_by_age(path, rows, ages, lines)
    pupils = (
        lines.numbers(path, rows, layout["pupils"], rule=NumberRule(minimum=0, required=False))
        if "pupils" in layout
        else by_age.sum(axis=1)
    )
    labels: dict[str, pd.Series] = {}
    for key, known, target in (("sex", _SEX, "gender"), ("admissions", _ADMISSIONS,
                                                        "admissions_policy")):  # fmt: skip
        if key not in layout:
            continue
        mapped = rows[layout[key]].str.strip().str.casefold().map(known)
        lines.bad_rows(
            path, layout[key], mapped.isna(),
            f"unknown value (expected {', '.join(sorted({k.title() for k in known if k}))})",
        )  # fmt: skip
        labels[target] = mapped
    if len(problems.items) > before:
        return None
    counts = by_age.to_numpy(dtype=float)
    largest = counts.max(axis=1, initial=0.0)
    taught = (counts > 0) & (counts >= AGE_SHARE * largest[:, None])
    columns = np.array(by_age.columns, dtype=float)
    low = np.where(taught.any(axis=1), np.where(taught, columns, np.inf).min(axis=1), np.nan)
    high = np.where(taught.any(axis=1), np.where(taught, columns, -np.inf).max(axis=1), np.nan)
    found = pd.DataFrame(
        {
            "statutory_low_age": low,
            "statutory_high_age": high + 1,  # statutory ages: high is the first age not taught
            "pupils": pupils.to_numpy(dtype=float),
            **{k: v.to_numpy() for k, v in labels.items()},
        },
        index=cut.keys,
    )
    out = schools.copy()
    key = out["urn"].astype(str)
    held = key.isin(found.index)
    counted: dict[str, int] = {}
    for column in ("gender", "admissions_policy"):
        if column in found:
            blank = held & (out[column].fillna("") == "")
            out.loc[blank, column] = found.loc[key[blank], column].to_numpy()
            counted[column] = int((blank & (out[column] != "")).sum())
    ages_blank = held & out["statutory_low_age"].isna() & out["statutory_high_age"].isna()
    for column in ("statutory_low_age", "statutory_high_age"):
        out.loc[ages_blank, column] = found.loc[key[ages_blank], column].to_numpy()
    counted["ages"] = int((ages_blank & out["statutory_low_age"].notna()).sum())
    roll_blank = held & out["pupils"].isna()
    out.loc[roll_blank, "pupils"] = found.loc[key[roll_blank], "pupils"].to_numpy()
    counted["pupils"] = int((roll_blank & out["pupils"].notna()).sum())
    shown = ", ".join(
        f"{what} for {counted[k]}"
        for k, what in (("gender", "sex of school"), ("admissions_policy", "admissions policy"),
                        ("ages", "ages taught"), ("pupils", "pupils on roll"))
        if counted.get(k)
    )  # fmt: skip
    note = (
        f"{path}: school census, {_year_text(year)}: {cut.found_note(len(out))};"
        f" filled where the schools file is blank: {shown or 'nothing'} (ages taught are"
        f" the ages on roll holding at least {AGE_SHARE:.0%} of the school's largest year)"
    )
    warning = _missing(
        path, out, held, "their sex of school, admissions policy and ages stay unknown unless"
        " the schools file has them (the single-sex and selective rules flag them, never exclude)",
        year,
    )  # fmt: skip
    return out, note, warning


def _pupils_by_age(
    path: Path, rows: pd.DataFrame, ages: Mapping[int, list[str]], lines: FileLines
) -> pd.DataFrame:
    """Pupils by single year of age (columns), the columns of each age added together."""
    columns = [c for age in sorted(ages) for c in ages[age]]
    cells = rows[columns].apply(lambda c: pd.to_numeric(c.str.strip(), errors="coerce"))
    values = cells.to_numpy(dtype=float)
    if not (np.isfinite(values) & (values >= 0)).all():  # say which cells, column by column
        for column in columns:
            lines.numbers(path, rows, column, rule=NumberRule(minimum=0))
    return pd.DataFrame(
        {age: cells[ages[age]].fillna(0.0).sum(axis=1) for age in sorted(ages)}, index=rows.index
    )


def _fill_sen(
    schools: pd.DataFrame, path: Path, problems: Problems, authority_of: Mapping[str, str]
) -> tuple[pd.DataFrame, str, str] | None:
    cut = _cut(
        path, problems, schools, authority_of=authority_of, find=sen_layout, what="the SEN census",
        refusal="not a school-level SEN file: needs urn, EHC plan and Total pupils (the"
        " 'Special educational needs in England' school-level data)",
    )  # fmt: skip
    if cut is None:
        return None
    layout, rows, lines, year = cut.layout, cut.rows, cut.lines, cut.year
    before = len(problems.items)
    ehc = lines.numbers(path, rows, layout["ehc"], rule=NumberRule(minimum=0, required=False))
    total = lines.numbers(path, rows, layout["pupils"], rule=NumberRule(minimum=0, required=False))
    if len(problems.items) > before:
        return None
    over = ehc > total
    if over.any():
        lines.bad_rows(path, layout["ehc"], over, f"more than {layout['pupils']}")
        return None
    found = pd.DataFrame(
        {"ehc": ehc.to_numpy(dtype=float), "total": total.to_numpy(dtype=float)},
        index=cut.keys,
    )
    out = schools.copy()
    key = out["urn"].astype(str)
    held = key.isin(found.index)
    blank = held & out["ehcp_pupils"].isna()
    share = (found["ehc"] / found["total"].where(found["total"] > 0)).reindex(key[blank])
    roll = out.loc[blank, "pupils"].to_numpy(dtype=float)
    # The census's share of pupils with EHC plans, applied to today's roll; its own count
    # where the roll is not known.
    filled = np.where(np.isfinite(roll), share.to_numpy() * roll, found["ehc"].reindex(key[blank]))
    out.loc[blank, "ehcp_pupils"] = filled
    count = int((blank & out["ehcp_pupils"].notna()).sum())
    note = (
        f"{path}: SEN census, {_year_text(year)}: {cut.found_note(len(out))};"
        f" pupils with EHC plans filled for {count} (the census's share of pupils with EHC plans x"
        " pupils on roll)"
    )
    warning = _missing(path, out, held, "their share of pupils with EHC plans stays unknown", year)
    return out, note, warning


def read_csv_header(path: Path) -> list[str] | None:
    """The CSV's column names, or None when it cannot be read (read_csv says why)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with path.open(encoding=encoding, newline="") as handle:
                return [h.strip() for h in next(csv.reader(handle), [])]
        except UnicodeDecodeError:
            continue
        except (OSError, csv.Error):
            return None
    return None
