"""Schools and their existing bases from a GIAS extract or any reshaped school table.

Both routes rename the file's columns onto sitefinder's fields (GIAS by its real column names,
other tables by the scenario's ``columns`` mapping), then share one normaliser: open schools of
the authority, phase from the phase label and statutory ages, mainstream or not from the
establishment type, location from Easting/Northing or the geocoded postcode, and a base row for
every resourced provision or SEN unit flag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.authorities import Authority, find_authority
from sitefinder.config import NEED_CODES, SchoolsInput
from sitefinder.readers.postcodes import PostcodeLookup, package_postcodes
from sitefinder.readers.tables import VECTOR_SUFFIXES, FileLines, read_any
from sitefinder.validate import NumberRule, Problems

GIAS_COLUMNS: dict[str, str] = {
    "urn": "URN",
    "name": "EstablishmentName",
    "status": "EstablishmentStatus (name)",
    "la_code": "LA (code)",
    "la_name": "LA (name)",
    "la_gss": "GSSLACode (name)",
    "district": "DistrictAdministrative (code)",
    "establishment_number": "EstablishmentNumber",
    "establishment_group": "EstablishmentTypeGroup (name)",
    "establishment_type": "TypeOfEstablishment (name)",
    "phase": "PhaseOfEducation (name)",
    "gender": "Gender (name)",
    "admissions_policy": "AdmissionsPolicy (name)",
    "low_age": "StatutoryLowAge",
    "high_age": "StatutoryHighAge",
    "capacity": "SchoolCapacity",
    "pupils": "NumberOfPupils",
    "ehcp_pupils": "SENStat",
    "postcode": "Postcode",
    "easting": "Easting",
    "northing": "Northing",
    "base_type": "TypeOfResourcedProvision (name)",
    "resourced_provision_capacity": "ResourcedProvisionCapacity",
    "sen_unit_capacity": "SenUnitCapacity",
    "resourced_provision_on_roll": "ResourcedProvisionOnRoll",
    "sen_unit_on_roll": "SenUnitOnRoll",
}
GIAS_NEED_COLUMNS = tuple(f"SEN{i} (name)" for i in range(1, 14))
GIAS_REQUIRED = ("urn", "name", "status", "establishment_group", "phase", "low_age", "high_age")

MAPPED_FIELDS = (
    "urn", "name", "status", "authority", "la_code", "la_name", "la_gss", "establishment_group",
    "establishment_type", "establishment_number", "phase", "gender", "admissions_policy",
    "statutory_low_age", "statutory_high_age", "low_age", "high_age", "capacity", "pupils",
    "ehcp_pupils", "postcode", "easting", "northing", "lon", "lat", "base_type",
    "base_capacity", "base_need_codes", "special_places",
)  # fmt: skip
# Mapped fields that are other names for one field.
_ALIASES = {"statutory_low_age": "low_age", "statutory_high_age": "high_age"}
_AUTHORITY_FIELDS = ("authority", "la_code", "la_name", "la_gss")

# GIAS "Gender (name)" and "AdmissionsPolicy (name)" -> sitefinder's values ("" = unknown).
GENDERS = {"mixed": "mixed", "boys": "boys", "girls": "girls", "not applicable": "", "": ""}
ADMISSIONS = {
    "selective": "selective",
    "non-selective": "non-selective",
    "non selective": "non-selective",
    "comprehensive": "non-selective",
    "modern": "non-selective",
    "not applicable": "not applicable",  # GIAS's word for primary schools: none select
    "": "",
}

# GIAS "EstablishmentTypeGroup (name)" -> sitefinder's establishment group.
TYPE_GROUPS = {
    "local authority maintained schools": "mainstream",
    "academies": "mainstream",
    "free schools": "mainstream",
    "special schools": "special",
    "independent schools": "independent",
    "colleges": "other",
    "universities": "other",
    "other types": "other",
    "welsh schools": "other",
    "online provider": "other",
}
# GIAS "PhaseOfEducation (name)" (and Trafford Data Lab's spellings) -> school phase.
PHASES = {
    "primary": "primary",
    "middle deemed primary": "primary",
    "secondary": "secondary",
    "middle deemed secondary": "secondary",
    "all-through": "all-through",
    "all through": "all-through",
    "nursery": "other",
    "16 plus": "other",
    "post 16": "other",
}
# GIAS "TypeOfResourcedProvision (name)" -> the base types it records.
BASE_TYPES = {
    "resourced provision": ("resourced_provision",),
    "sen unit": ("sen_unit",),
    "resourced provision and sen unit": ("resourced_provision", "sen_unit"),
    "not applicable": (),
    "na": (),
    "": (),
}
BASE_LABELS = {"resourced_provision": "resourced provision", "sen_unit": "SEN unit"}
_OPEN = ("open", "open, but proposed to close")
_UNKNOWN = ("NA", "N/A", "NULL", "null", "#N/A")
_CODE_BY_LOWER = {code.lower(): code for code in NEED_CODES}
# Number columns of a schools table are optional: a blank is an unknown.
OPTIONAL = NumberRule(required=False)
OPTIONAL_COUNT = NumberRule(minimum=0, required=False)  # capacity, pupils: children
# A school's base places (resourced provision, SEN unit).
OPTIONAL_PLACES = NumberRule(minimum=0, maximum=500, required=False)
# A special school's places for children without a base place (a register's figure).
SPECIAL_PLACES = NumberRule(minimum=0, maximum=5000, required=False)


@dataclass(frozen=True)
class Establishments:
    """Schools and existing bases in sitefinder's layout, with what the reader noticed."""

    schools: pd.DataFrame
    bases: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    districts: frozenset[str] = frozenset()
    base_warnings: list[str] = field(default_factory=list)
    """The warnings about the bases found (moot when a bases register replaces them)."""
    authority_of: dict[str, str] = field(default_factory=dict)
    """Each school's authority by URN (GIAS ``LA (name)``), where the file says it."""


def need_code(label: str) -> str | None:
    """The SEN2 code of a GIAS need label ('ASD - Autistic Spectrum Disorder' -> 'ASD')."""
    head = re.split(r"\s+-\s+|\s+", label.strip(), maxsplit=1)[0].lower() if label.strip() else ""
    return _CODE_BY_LOWER.get(head)


def school_phase(label: str, low: float, high: float) -> str:
    """Phase from the phase label, else from the statutory ages (years)."""
    named = PHASES.get(label.strip().lower())
    if named is not None:
        return named
    if np.isnan(low) or np.isnan(high):
        return "other"
    if high <= 11:
        return "primary" if high >= 7 else "other"
    if low >= 11:
        return "secondary" if low < 16 else "other"
    return "all-through"


def _names(table: pd.DataFrame, mask: pd.Series, limit: int = 5) -> str:
    names = [f"{n} ({u})" for u, n in zip(table["urn"][mask], table["name"][mask], strict=True)]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _rename(
    raw: pd.DataFrame, path: Path, columns: Mapping[str, str], problems: Problems, *, how: str
) -> pd.DataFrame | None:
    missing = [source for source in columns.values() if source not in raw.columns]
    if missing:
        problems.add(
            path,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} ({how})",
        )
        return None
    return pd.DataFrame({target: raw[source].str.strip() for target, source in columns.items()})


def _select_authority(
    table: pd.DataFrame,
    spec: SchoolsInput,
    authority: Authority | None,
    problems: Problems,
    notes: list[str],
) -> pd.DataFrame | None:
    """The rows of one authority: ``inputs.schools.authority``, else the scenario's."""
    path = spec.path
    keys = [c for c in ("la_code", "la_name", "la_gss", "authority") if c in table.columns]
    if spec.authority is None and authority is None:
        found = table[keys[0]].replace("", np.nan).dropna().unique() if keys else []
        if len(found) > 1:
            problems.add(
                path,
                f"holds {len(found)} local authorities; set the scenario's top-level authority"
                " (or inputs.schools.authority) to one LA name, GSS code or DfE LA code"
                " (e.g. Trafford, E08000009 or 358)",
            )
            return None
        return table
    key = "inputs.schools.authority" if spec.authority is not None else "authority"
    wanted = find_authority(spec.authority) if spec.authority is not None else authority
    shown = wanted.label if wanted is not None else repr(spec.authority)
    if not keys:
        if spec.authority is not None:
            problems.add(
                path,
                f"inputs.schools.authority is {spec.authority!r} but no column says which"
                " authority each school is in (map one onto 'authority' in"
                " [inputs.schools.columns], or leave inputs.schools.authority out)",
            )
            return None
        notes.append(
            f"{path}: no authority column, so every establishment is taken as {shown}'s"
            " (map one onto 'authority' in [inputs.schools.columns] to cut a wider table)"
        )
        return table
    mask = pd.Series(False, index=table.index)
    for column in keys:
        if wanted is not None:
            mask |= wanted.matches(table[column])
        else:  # not a known authority: matched as written
            mask |= table[column].str.casefold() == str(spec.authority).strip().casefold()
    if not mask.any():
        names = [_source(spec, k) for k in keys]
        columns = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        examples = ", ".join(sorted(table[keys[-1]].unique())[:5])
        problems.add(
            path,
            f"no establishments for authority {shown} ({key} matches {columns}; the file has"
            f" e.g. {examples})",
        )
        return None
    return table[mask]


def _inference_notes(
    table: pd.DataFrame, spec: SchoolsInput, path: Path, how: pd.Series
) -> tuple[list[str], list[str]]:
    """Notes (and warnings) counting the establishment types sitefinder inferred."""
    notes: list[str] = []
    warnings: list[str] = []
    for source, text in (
        ("group", "TypeOfEstablishment is blank, so the type group is read as the type"
         " (Local authority maintained schools, Academies and Free Schools as mainstream)"),
        ("number", "the type is blank and the LA establishment number tells (7000-7999"
         " special schools, special academies included; 1100-1199 pupil referral units)"),
    ):  # fmt: skip
        mask = how == source
        if mask.any():
            notes.append(
                f"{path}: establishment type inferred for {int(mask.sum())} school(s): {text},"
                f" e.g. {_names(table, mask, 3)}"
            )
    mask = how == "default"
    if mask.any():
        typed = "establishment_type" in table.columns
        warnings.append(
            f"{path}: no establishment_group column is mapped, so {int(mask.sum())} school(s)"
            " are taken as mainstream"
            + (" (their establishment_type names no special, PRU or independent type)"
               if typed else "")
            + f", e.g. {_names(table, mask, 3)}; map establishment_group in"
            " [inputs.schools.columns] if the table holds special, independent or PRU"
            " establishments"
        )  # fmt: skip
    return notes, warnings


def _groups(
    table: pd.DataFrame, spec: SchoolsInput, path: Path, problems: Problems, *, given: bool
) -> tuple[pd.Series, pd.Series]:
    """Each school's establishment group, and how it was found.

    ``how`` is ``data`` (a type or a user's mapping says so), ``group`` (read from a GIAS type
    group alone), ``number`` (from the LA establishment number) or ``default`` (no group
    column: taken as mainstream); ``given`` says whether the file has a group column.
    """
    labels = table["establishment_group"]
    custom = {k.casefold(): v for k, v in spec.values.get("establishment_group", {}).items()}
    allowed = ("mainstream", "special", "independent", "pru", "other")
    mapped = labels.str.casefold().map(lambda v: custom.get(v) or TYPE_GROUPS.get(v) or v)
    problems.bad_rows(
        path,
        spec.columns.get("establishment_group", GIAS_COLUMNS["establishment_group"]),
        ~mapped.isin(allowed),
        "unknown establishment type; map it in [inputs.schools.values.establishment_group]"
        f" to one of {', '.join(allowed)}",
    )
    kind = (
        table["establishment_type"].str.casefold()
        if "establishment_type" in table.columns
        else pd.Series("", index=table.index)
    )
    if not given:
        how = pd.Series("default", index=table.index)
    else:
        by_group = labels.str.casefold().isin(TYPE_GROUPS) & ~labels.str.casefold().isin(custom)
        how = pd.Series("data", index=table.index).mask(
            (kind == "") & by_group & (mapped == "mainstream"), "group"
        )
    mapped = mapped.mask(kind.str.contains("independent", regex=False), "independent")
    mapped = mapped.mask(kind.str.contains("special", regex=False), "special")
    mapped = mapped.mask(kind.str.contains("pupil referral|alternative provision"), "pru")
    # A type names the group; without a group column, one that names no other group leaves the
    # school mainstream by default.
    how = how.mask((kind != "") & (given | (mapped != "mainstream")), "data")
    if "establishment_number" in table.columns:
        # Where the type is blank, the DfE's LA establishment numbering tells: 1100-1199 are
        # pupil referral units, 7000-7999 special schools (special academies included).
        number = pd.to_numeric(table["establishment_number"], errors="coerce")
        unknown = (kind == "") & (mapped == "mainstream")
        special, pru = unknown & number.between(7000, 7999), unknown & number.between(1100, 1199)
        mapped = mapped.mask(special, "special").mask(pru, "pru")
        how = how.mask(special | pru, "number")
    named = table["urn"].isin(spec.special_urns)
    return mapped.mask(named, "special"), how.mask(named, "data")


def _looks_special(table: pd.DataFrame) -> pd.Series:
    """Whether each row's type or type group names a special school (read before mapping)."""
    out = pd.Series(False, index=table.index)
    for column in ("establishment_type", "establishment_group"):
        if column in table.columns:
            out |= table[column].fillna("").str.casefold().str.contains("special")
    return out


def _looks_mainstream(table: pd.DataFrame) -> pd.Series:
    """Whether each row's type group names a mainstream school (read before mapping)."""
    if "establishment_group" not in table.columns:
        return pd.Series(False, index=table.index)
    groups = table["establishment_group"].fillna("").str.strip().str.casefold()
    mainstream = groups.map(lambda g: TYPE_GROUPS.get(g, g) == "mainstream")
    return mainstream.astype(bool) & ~_looks_special(table)


def _has_base(table: pd.DataFrame, spec: SchoolsInput) -> pd.Series:
    """Whether each row records a resourced provision or SEN unit (read before mapping)."""
    if "base_type" not in table.columns:
        return pd.Series(False, index=table.index)
    custom = {k.casefold(): v.casefold() for k, v in spec.values.get("base_type", {}).items()}
    folded = table["base_type"].fillna("").str.strip().str.casefold()
    folded = folded.map(lambda v: custom.get(v, v))
    return ~folded.isin(["", "none", "not applicable", "na"])


def special_kinds(table: pd.DataFrame, groups: pd.Series) -> pd.Series:
    """The kind of each special school: ``special`` (maintained, academy and free special
    schools), ``independent`` or ``non_maintained``; empty for other schools.

    The type names the kind; where it is blank, the DfE's LA establishment numbering tells an
    independent special school (6000-6999, the independent schools' range) from the rest.
    """
    kind = (
        table["establishment_type"].fillna("").str.casefold()
        if "establishment_type" in table.columns
        else pd.Series("", index=table.index)
    )
    out = pd.Series("", index=table.index).mask(groups == "special", "special")
    out = out.mask((groups == "special") & kind.str.contains("independent"), "independent")
    out = out.mask(
        (groups == "special") & kind.str.contains("non-maintained|non maintained"), "non_maintained"
    )
    if "establishment_number" in table.columns:
        number = pd.to_numeric(table["establishment_number"], errors="coerce")
        out = out.mask(
            (groups == "special") & (kind == "") & number.between(6000, 6999), "independent"
        )
    return out


def _labels(
    table: pd.DataFrame, key: str, known: Mapping[str, str], spec: SchoolsInput, problems: Problems
) -> pd.Series:
    """Translate a label column (gender, admissions policy) to sitefinder's values."""
    if key not in table.columns:
        return pd.Series("", index=table.index)
    custom = {k.strip().casefold(): v for k, v in spec.values.get(key, {}).items()}
    folded = table[key].str.strip().str.casefold()
    values = folded.map(lambda v: custom.get(v, v)).str.casefold().map(known)
    choices = ", ".join(sorted({v for v in known.values() if v}))
    problems.bad_rows(
        spec.path,
        _source(spec, key),
        values.isna(),
        f"unknown value; map it in [inputs.schools.values.{key}] to one of {choices}"
        " (or to '' for unknown)",
    )
    return values.fillna("")


def _source(spec: SchoolsInput, key: str) -> str:
    """The file's own name for sitefinder field ``key``, for messages."""
    if spec.format == "gias":
        return GIAS_COLUMNS.get(key, key)
    named = {_ALIASES.get(k, k): v for k, v in spec.columns.items()}
    return named.get(key, key)


def _locate(
    table: pd.DataFrame,
    path: Path,
    spec: SchoolsInput,
    postcodes: PostcodeLookup | None,
    problems: Problems,
) -> tuple[pd.Series, pd.Series, list[str]]:
    notes: list[str] = []

    def number(key: str) -> pd.Series:
        return problems.numbers(path, table, key, rule=OPTIONAL, label=_source(spec, key))

    if "easting" in table.columns:
        x, y = number("easting"), number("northing")
        problems.british_grid(path, x, y, (_source(spec, "easting"), _source(spec, "northing")))
    elif "lon" in table.columns:
        lon, lat = number("lon"), number("lat")
        x, y = problems.lonlat_to_grid(path, lon, lat, (_source(spec, "lon"), _source(spec, "lat")))
    elif "postcode" in table.columns:
        x = y = pd.Series(np.nan, index=table.index)
    else:
        problems.add(
            path,
            "no location: map easting and northing, lon and lat, or postcode in"
            " [inputs.schools.columns]",
        )
        nothing = pd.Series(np.nan, index=table.index)
        return nothing, nothing, notes
    blank = x.isna() | y.isna()
    if blank.any() and "postcode" in table.columns:
        lookup = postcodes or package_postcodes(table["postcode"][blank])
        if lookup is not None:
            found = lookup.find(table["postcode"][blank])
            x = x.fillna(found["easting"])
            y = y.fillna(found["northing"])
            located = found["easting"].notna()
            notes.append(
                f"{path}: located {int(located.sum())} school(s) with no coordinates from their"
                f" postcode ({lookup.source})"
            )
    # Rows whose typed coordinates were refused above are not "without coordinates" too.
    typed = pd.Series(False, index=table.index)
    for key in ("easting", "lon"):
        if key in table.columns:
            typed |= table[key].str.strip().ne("")
    still = ((x.isna() | y.isna()) & ~typed).reset_index(drop=True)
    problems.bad_rows(
        path,
        f"{_source(spec, 'easting')}/{_source(spec, 'northing')}"
        if "easting" in table.columns
        else f"{_source(spec, 'lon')}/{_source(spec, 'lat')}"
        if "lon" in table.columns
        else _source(spec, "postcode"),
        pd.Series(still.to_numpy(), index=table.index),
        "no coordinates and the postcode was not found (fill them in, or fix the postcode)",
    )
    return x, y, notes


def _base_rows(
    table: pd.DataFrame, spec: SchoolsInput, path: Path, problems: Problems
) -> tuple[pd.DataFrame, list[str]]:
    warnings: list[str] = []
    custom = {k.casefold(): v for k, v in spec.values.get("base_type", {}).items()}

    def kinds(value: str) -> tuple[str, ...] | None:
        key = value.strip().casefold()
        if key in custom:
            key = custom[key].casefold()
        if key in ("both", "resourced_provision+sen_unit"):
            return ("resourced_provision", "sen_unit")
        if key in ("resourced_provision", "sen_unit"):
            return (key,)
        if key == "none":
            return ()
        return BASE_TYPES.get(key)

    if "base_type" not in table.columns:
        return pd.DataFrame(), warnings
    types = table["base_type"].map(kinds)
    problems.bad_rows(
        path,
        spec.columns.get("base_type", GIAS_COLUMNS["base_type"]),
        types.isna(),
        "unknown provision type; map it in [inputs.schools.values.base_type] to"
        " resourced_provision, sen_unit, both or none",
    )
    flagged = types.map(lambda t: bool(t))
    hosts_elsewhere = flagged & (table["establishment_group"] != "mainstream")
    across = (
        table["cross_border"].astype(bool)
        if "cross_border" in table.columns
        else pd.Series(False, index=table.index)
    )
    named = hosts_elsewhere & ~across
    if named.any():
        warnings.append(
            f"{path}: {int(named.sum())} school(s) with a resourced provision or SEN"
            f" unit flag are not mainstream: {_names(table, named)}. Inclusion bases"
            " sit in mainstream schools, so these places count as the school's own specialist"
            " provision and are left out of the model"
        )
    wrong_phase = flagged & ~hosts_elsewhere & (table["phase"] == "other")
    if (wrong_phase & ~across).any():
        warnings.append(
            f"{path}: bases at {_names(table, wrong_phase & ~across)} are left out: the host"
            " teaches neither primary nor secondary pupils"
        )
    records = []
    no_capacity, no_needs = [], []
    for position in np.flatnonzero((flagged & ~hosts_elsewhere & ~wrong_phase).to_numpy()):
        school = table.iloc[position]
        codes = _base_codes(school)
        mine = not bool(school.get("cross_border", False))  # warnings name the authority's
        if not codes:
            no_needs += [position] * len(types.iloc[position]) * mine  # one entry per base
            codes = tuple(spec.default_base_need_codes)
        for kind in types.iloc[position]:
            capacity = _base_capacity(school, kind)
            assumed = bool(np.isnan(capacity))
            if assumed:
                no_capacity += [position] * mine
                capacity = float(spec.default_base_capacity)
            records.append(
                {
                    "urn": school["urn"],
                    "base_name": f"{school['name']} {BASE_LABELS[kind]}",
                    "base_type": kind,
                    "phase": school["phase"],
                    "capacity": capacity,
                    "need_codes": codes,
                    "on_roll": _count(school, f"{kind}_on_roll", minimum=0),
                    "capacity_assumed": assumed,
                    "easting": school["easting"],
                    "northing": school["northing"],
                    "cross_border": bool(school.get("cross_border", False)),
                }
            )
    for positions, what in (
        (no_capacity, f"no recorded capacity, so {spec.default_base_capacity} places are"
         " assumed (set inputs.schools.default_base_capacity, or record their places in a"
         " bases register)"),
        (no_needs, "no recorded need types, so they are taken to serve "
         + ("every need" if len(spec.default_base_need_codes) == len(NEED_CODES)
            else ", ".join(spec.default_base_need_codes))
         + " (set inputs.schools.default_base_need_codes)"),
    ):  # fmt: skip
        if positions:
            mask = pd.Series(False, index=table.index)
            mask.iloc[sorted(set(positions))] = True
            # A school can host both a resourced provision and a SEN unit: two bases.
            schools = int(mask.sum())
            at = f" at {schools} schools" if schools != len(positions) else ""
            warnings.append(
                f"{path}: {len(positions)} base(s){at} have {what}: {_names(table, mask, 20)}"
            )
    return pd.DataFrame.from_records(records), warnings


def _base_codes(school: pd.Series) -> tuple[str, ...]:
    labels: list[str] = []
    if "base_need_codes" in school.index:
        labels = str(school["base_need_codes"]).split(";")
    labels += [str(school[c]) for c in GIAS_NEED_COLUMNS if c in school.index]
    codes = [need_code(label) for label in labels]
    return tuple(dict.fromkeys(c for c in codes if c is not None))


def _count(school: pd.Series, column: str, *, minimum: float) -> float:
    """A count from one cell of ``school``: NaN when absent, blank, not a number or too small."""
    if column not in school.index:
        return float("nan")
    value = pd.to_numeric(pd.Series([school[column]]), errors="coerce").iloc[0]
    return float(value) if pd.notna(value) and value >= minimum else float("nan")


def _base_capacity(school: pd.Series, kind: str) -> float:
    for column in (f"{kind}_capacity", "base_capacity"):
        value = _count(school, column, minimum=1)
        if not np.isnan(value):
            return value
    return float("nan")


BORDER_SLACK_METRES = 10_000.0
"""Beyond ``cross_border_km``, how far outside the box of the authority's own schools a
neighbour's special school is still read: its areas' points may lie past its outermost school
(the exact distance to the areas is measured once they are read)."""


def _near(neighbours: pd.DataFrame, own: pd.DataFrame, metres: float) -> pd.DataFrame:
    """The ``neighbours`` within ``metres`` of the box around ``own``'s grid references (all
    of them when either has none: they are measured against the areas later). A national
    extract holds some 2,000 special schools; a border keeps tens."""
    if neighbours.empty or not {"easting", "northing"} <= set(own.columns):
        return neighbours

    def grid(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        x = pd.to_numeric(table["easting"], errors="coerce")
        y = pd.to_numeric(table["northing"], errors="coerce")
        placed = (x > 0) & (y > 0)  # GIAS writes 0 for no location
        return x.where(placed), y.where(placed)

    x, y = grid(own)
    if x.isna().all():
        return neighbours
    nx, ny = grid(neighbours)
    inside = nx.between(x.min() - metres, x.max() + metres) & ny.between(
        y.min() - metres, y.max() + metres
    )
    return neighbours[inside | nx.isna() | ny.isna()]


def read_establishments(
    spec: SchoolsInput,
    problems: Problems,
    *,
    postcodes: PostcodeLookup | None = None,
    authority: Authority | None = None,
    hosts_across: bool = False,
) -> Establishments | None:
    """Read schools and existing bases from a GIAS extract or a mapped table.

    Parameters
    ----------
    spec
        The scenario's ``[inputs.schools]``: path, format, authority, mappings, defaults.
    problems
        Collector for every problem found.
    postcodes
        Lookup used to locate schools with blank coordinates (default: the packaged ONSPD).
    authority
        The scenario's authority: the rows kept when ``spec.authority`` is not set.
    hosts_across
        Keep other authorities' mainstream schools near the border too (flagged
        ``cross_border``), as hosts (``candidates.cross_border``); their special schools and
        bases are kept whatever this says.

    Returns
    -------
    Establishments or None
        None when the file cannot be used at all (the reasons are in ``problems``). Schools
        carry ``gender`` (``mixed|boys|girls``, ``""`` unknown), ``admissions_policy``
        (``selective|non-selective|not applicable``, ``""`` unknown) and the statutory ages
        ``statutory_low_age``/``statutory_high_age`` (years; NaN unknown).
    """
    path = spec.path
    raw = read_any(path, problems, layer=spec.layer, hint="inputs.schools")
    if raw is None:
        return None
    if spec.format == "gias":
        present = {k: v for k, v in GIAS_COLUMNS.items() if v in raw.columns}
        required = {k: GIAS_COLUMNS[k] for k in GIAS_REQUIRED}
        how = "every GIAS extract has it: download all columns, or set format = 'mapped'"
        table = _rename(raw, path, required | present, problems, how=how)
        if table is None:
            return None
        for column in GIAS_NEED_COLUMNS:
            if column in raw.columns:
                table[column] = raw[column].str.strip()
        given = True
    else:
        unknown = [k for k in spec.columns if k not in MAPPED_FIELDS]
        doubled = [k for k in _ALIASES if k in spec.columns and _ALIASES[k] in spec.columns]
        if unknown or doubled:
            if unknown:
                problems.add(
                    path,
                    f"inputs.schools.columns: unknown field(s) {', '.join(unknown)}"
                    f" (map onto {', '.join(MAPPED_FIELDS)})",
                )
            for key in doubled:
                problems.add(
                    path,
                    f"inputs.schools.columns: {key} and {_ALIASES[key]} are the same field;"
                    " map only one",
                )
            return None
        columns = {_ALIASES.get(k, k): v for k, v in spec.columns.items()}
        located = {"easting", "northing", "lon", "lat"} & set(columns)
        if path.suffix.lower() in VECTOR_SUFFIXES and not located:
            columns |= {"easting": "easting", "northing": "northing"}  # from the geometry
        table = _rename(raw, path, columns, problems, how="named in [inputs.schools.columns]")
        if table is None:
            return None
        # Tables written by R or exported from databases mark unknowns NA or NULL.
        table = table.replace(dict.fromkeys(_UNKNOWN, ""))
        given = "establishment_group" in table.columns
        if not given:
            table["establishment_group"] = "mainstream"
    notes: list[str] = []
    selected = _select_authority(table, spec, authority, problems, notes)
    if selected is None:
        return None
    # Special schools of other authorities in a wider file: places across the border.
    neighbours = table.loc[table.index.difference(selected.index)]
    wanted = _looks_special(neighbours) | _has_base(neighbours, spec)
    if hosts_across:  # their mainstream schools may host too (candidates.cross_border)
        wanted |= _looks_mainstream(neighbours)
    neighbours = neighbours[wanted] if spec.cross_border_km > 0 else table[:0]
    neighbours = _near(neighbours, selected, spec.cross_border_km * 1000.0 + BORDER_SLACK_METRES)
    selected = pd.concat(
        [selected.assign(cross_border=False), neighbours.assign(cross_border=True)]
    )
    read = len(selected)
    if "status" in selected.columns:
        selected = selected[selected["status"].str.casefold().isin(_OPEN)]
    closed = read - len(selected)
    problems = FileLines(problems, selected.index.to_numpy(), len(raw))  # lines of the file
    table = selected.reset_index(drop=True)
    urn = _source(spec, "urn")
    problems.bad_rows(path, urn, table["urn"] == "", "blank value (every school needs its URN)")
    problems.bad_rows(
        path, urn, table["urn"].duplicated(), "duplicate value (each must appear once)"
    )
    table["establishment_group"], how_grouped = _groups(table, spec, path, problems, given=given)
    ages = {
        key: problems.numbers(path, table, key, rule=OPTIONAL, label=_source(spec, key))
        if key in table.columns
        else pd.Series(np.nan, index=table.index)
        for key in ("low_age", "high_age")
    }
    labels = table["phase"] if "phase" in table.columns else pd.Series("", index=table.index)
    # A 16-plus establishment with no ages recorded teaches 16-19: never a primary or
    # secondary child's school, a special one included.
    post16 = labels.str.strip().str.casefold().isin(("16 plus", "post 16"))
    ages["low_age"] = ages["low_age"].mask(post16 & ages["low_age"].isna(), 16.0)
    ages["high_age"] = ages["high_age"].mask(post16 & ages["high_age"].isna(), 19.0)
    table["phase"] = [
        school_phase(label, low, high)
        for label, low, high in zip(labels, ages["low_age"], ages["high_age"], strict=True)
    ]
    table["statutory_low_age"] = ages["low_age"].to_numpy()
    table["statutory_high_age"] = ages["high_age"].to_numpy()
    table["gender"] = _labels(table, "gender", GENDERS, spec, problems)
    table["admissions_policy"] = _labels(table, "admissions_policy", ADMISSIONS, spec, problems)
    for key in ("capacity", "pupils", "ehcp_pupils"):
        table[key] = (
            problems.numbers(path, table, key, rule=OPTIONAL_COUNT, label=_source(spec, key))
            if key in table.columns
            else np.nan
        )
    table["special_kind"] = special_kinds(table, table["establishment_group"])
    table["special_places"] = (
        problems.numbers(
            path,
            table,
            "special_places",
            rule=SPECIAL_PLACES,
            label=_source(spec, "special_places"),
        )
        if "special_places" in table.columns
        else np.nan
    )
    for key in ("resourced_provision_capacity", "sen_unit_capacity", "base_capacity"):
        if key in table.columns:  # checked here: inf or 1e300 places would reach the solver
            problems.numbers(path, table, key, rule=OPTIONAL_PLACES, label=_source(spec, key))
    x, y, located_notes = _locate(table, path, spec, postcodes, problems)
    table["easting"], table["northing"] = x.to_numpy(), y.to_numpy()
    bases, warnings = _base_rows(table, spec, path, problems)
    # The SEN provision types recorded for each school (GIAS SEN1..SEN13): at a special school,
    # the needs it serves.
    table["need_codes"] = [";".join(_base_codes(school)) for _, school in table.iterrows()]
    schools = table[
        ["urn", "name", "phase", "establishment_group", "gender", "admissions_policy",
         "statutory_low_age", "statutory_high_age", "capacity", "pupils", "ehcp_pupils",
         "easting", "northing", "need_codes", "special_kind", "special_places", "cross_border"]
    ].copy()  # fmt: skip
    schools["cross_border"] = schools["cross_border"].astype(bool)
    own = ~schools["cross_border"]
    counts = schools.loc[own, "establishment_group"].value_counts()
    summary = ", ".join(f"{counts[g]} {g}" for g in counts.index)
    shown = spec.authority or (authority.name if authority is not None else None)
    of = f" of {shown}" if shown else ""
    inferred_notes, inferred_warnings = _inference_notes(table, spec, path, how_grouped)
    across = int((~own).sum())
    beyond = (
        f"; and {across:,} open special school(s) of other authorities, kept as places"
        f" across the border where within {spec.cross_border_km:g} km of the areas"
        " (inputs.schools.cross_border_km)"
        if across
        else ""
    )
    if across and hosts_across:
        beyond = (
            f"; and {across:,} open school(s) of other authorities near the border, kept where"
            f" within {spec.cross_border_km:g} km of the areas (inputs.schools.cross_border_km):"
            " their special schools and bases as places across the border, their mainstream"
            " schools as hosts (candidates.cross_border)"
        )
    notes = [
        f"{path}: read {int(own.sum())} open establishment(s){of}"
        f" ({closed} closed skipped): {summary}{beyond}",
        *located_notes,
        *notes,
        *inferred_notes,
    ]
    districts = (
        frozenset(table["district"].str.strip().str.upper()) - {""}
        if "district" in table.columns
        else frozenset()
    )
    authority_of = (
        dict(zip(table["urn"].str.strip(), table["la_name"].str.strip(), strict=True))
        if "la_name" in table.columns
        else {}
    )
    return Establishments(
        schools, bases, inferred_warnings + warnings, notes, districts, base_warnings=warnings,
        authority_of=authority_of,
    )  # fmt: skip
