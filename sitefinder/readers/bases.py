"""A register of existing bases: which schools host one, for whom, and how many places.

The register is the recommended source of existing bases: GIAS records few capacities and
need types. One row per base: ``urn`` (host school), ``phase``, ``need_codes`` (SEN2 codes) or
``need_groups`` (the scenario's groups), ``places``, ``on_roll`` (children in it today),
optional ``base_type`` and ``base_name``. A published table with other column names is read
through ``[inputs.bases.columns]``, and its labels through ``[inputs.bases.values]``; a row
whose ``base_type`` maps to ``none`` (a nurture group, a pilot) is left out and listed.
sitefinder's own bases layout (``capacity`` for places) is a register too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sitefinder.config import NEED_CODES, BasesInput, NeedGroup
from sitefinder.readers.tables import read_csv
from sitefinder.validate import NumberRule, Problems

FIELDS = ("urn", "phase", "need_codes", "need_groups", "places", "on_roll", "base_type",
          "base_name")  # fmt: skip
# Columns read when ``columns`` does not name one, in order of preference.
DEFAULT_COLUMNS = {"places": ("places", "capacity")}
BASE_PHASES = ("primary", "secondary", "all-through")
BASE_TYPES = ("resourced_provision", "sen_unit")
MAX_PLACES = 500  # bases have 5-40 places; 500 leaves room for a register's totals
COLUMNS = ["urn", "base_name", "base_type", "phase", "capacity", "need_codes", "on_roll",
           "capacity_assumed", "easting", "northing"]  # fmt: skip
_CODES = {code.casefold(): code for code in NEED_CODES}


@dataclass(frozen=True)
class Register:
    """Bases read from a register, with what the reader noticed.

    ``bases`` has :data:`COLUMNS`: ``capacity`` in places, ``on_roll`` in children (NaN when
    not given), ``capacity_assumed`` true where the register gave no places.
    """

    bases: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _column(spec: BasesInput, table: pd.DataFrame, key: str) -> str | None:
    if key in spec.columns:
        return spec.columns[key]
    return next((c for c in DEFAULT_COLUMNS.get(key, (key,)) if c in table.columns), None)


def _translated(spec: BasesInput, key: str, values: pd.Series) -> pd.Series:
    custom = {k.strip().casefold(): v for k, v in spec.values.get(key, {}).items()}
    folded = values.str.strip().str.casefold()
    return folded.map(lambda v: custom.get(v, v)).str.strip()


def _codes_of(
    text: str, *, groups: dict[str, NeedGroup], by_group: bool
) -> tuple[tuple[str, ...], list[str]]:
    """SEN2 codes named by ``text`` (codes, or group keys/labels), and the parts not known."""
    codes: list[str] = []
    unknown: list[str] = []
    labels = {g.label.casefold(): g for g in groups.values()}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        if by_group:
            group = groups.get(part) or labels.get(part.casefold())
            if group is None:
                unknown.append(part)
            else:
                codes.extend(group.codes)
        elif part.casefold() in _CODES:
            codes.append(_CODES[part.casefold()])
        else:
            unknown.append(part)
    return tuple(dict.fromkeys(codes)), unknown


@dataclass(frozen=True)
class _Columns:
    """A register file and the column holding each field (None when it has none)."""

    path: Path
    named: Mapping[str, str | None]

    def label(self, key: str) -> str:
        """The file's name for field ``key``, for messages."""
        return self.named[key] or key


def read_register(
    spec: BasesInput,
    problems: Problems,
    *,
    schools: pd.DataFrame | None,
    need_groups: dict[str, NeedGroup],
    default_places: int,
) -> Register | None:
    """Read a bases register (or sitefinder's bases CSV).

    Parameters
    ----------
    spec
        The scenario's ``[inputs.bases]``: path, column mapping, value translations.
    problems
        Collector for every problem found.
    schools
        The schools read (host checks and locations), or None when they could not be read.
    need_groups
        The scenario's need groups, for a ``need_groups`` column.
    default_places
        Places assumed for a base the register gives none for (``inputs.schools
        .default_base_capacity``).

    Returns
    -------
    Register or None
        None when the file cannot be used at all (the reasons are in ``problems``).
    """
    path = spec.path
    table = read_csv(path, problems, allow_empty=True, hint="inputs.bases")
    if table is None:
        return None
    unknown = [k for k in spec.columns if k not in FIELDS]
    if unknown:
        problems.add(
            path,
            f"inputs.bases.columns: unknown field(s) {', '.join(unknown)}"
            f" (map onto {', '.join(FIELDS)})",
        )
        return None
    named = {key: _column(spec, table, key) for key in FIELDS}
    missing = [spec.columns[k] for k in spec.columns if spec.columns[k] not in table.columns]
    for key in ("urn", "phase"):
        if named[key] is None:
            missing.append(key)
    if named["need_codes"] is None and named["need_groups"] is None:
        missing.append("need_codes (or need_groups)")
    if missing:
        problems.add(
            path,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (name them in"
            f" [inputs.bases.columns]; the file has: {', '.join(table.columns) or 'no columns'})",
        )
        return None
    text = {key: table[c].str.strip() for key, c in named.items() if c is not None}
    n = len(table)
    warnings: list[str] = []
    notes: list[str] = []
    columns = _Columns(path, named)
    label = columns.label

    kinds = (
        _translated(spec, "base_type", text["base_type"])
        if "base_type" in text
        else pd.Series("", index=table.index)
    )
    kept = kinds.str.casefold() != "none"
    problems.bad_rows(
        path,
        label("base_type"),
        kept & ~kinds.isin(("", *BASE_TYPES)),
        f"must be one of {', '.join(BASE_TYPES)}, or none to leave the row out (translate"
        " other labels in [inputs.bases.values.base_type])",
    )
    phases = _translated(spec, "phase", text["phase"]).str.casefold()
    problems.bad_rows(
        path,
        label("phase"),
        kept & ~phases.isin(BASE_PHASES),
        f"must be one of {', '.join(BASE_PHASES)} (translate other labels in"
        " [inputs.bases.values.phase])",
    )
    codes = pd.Series([()] * n, index=table.index, dtype=object)
    bad = pd.Series(False, index=table.index)
    for key, by_group in (("need_codes", False), ("need_groups", True)):
        if key not in text:
            continue
        parsed = [_codes_of(t, groups=need_groups, by_group=by_group) for t in text[key]]
        codes = pd.Series(
            [tuple(dict.fromkeys((*a, *b))) for a, (b, _) in zip(codes, parsed, strict=True)],
            index=table.index,
            dtype=object,
        )
        bad |= pd.Series([bool(u) for _, u in parsed], index=table.index)
    choices = (
        f"need codes separated by ';', each one of {', '.join(NEED_CODES)}"
        if "need_codes" in text
        else f"need groups separated by ';', each one of {', '.join(need_groups)}"
    )
    problems.bad_rows(
        path,
        label("need_codes") if "need_codes" in text else label("need_groups"),
        kept & (bad | codes.map(lambda c: not c)),
        choices,
    )
    places = (
        problems.numbers(
            path,
            table,
            named["places"],
            rule=NumberRule(minimum=1, maximum=MAX_PLACES, required=False),
        )
        if named["places"] is not None
        else pd.Series(np.nan, index=table.index)
    )
    problems.bad_rows(
        path,
        label("urn"),
        table.duplicated(keep="first"),
        "repeats an earlier row exactly, which would count that base's places twice: delete"
        " the copy",
    )
    on_roll = (
        problems.numbers(
            path,
            table,
            named["on_roll"],
            rule=NumberRule(minimum=0, maximum=MAX_PLACES, required=False),
        )
        if named["on_roll"] is not None
        else pd.Series(np.nan, index=table.index)
    )
    urns = text["urn"]
    problems.bad_rows(
        path, label("urn"), kept & (urns == ""), "blank value (every base needs its host's URN)"
    )
    names = text.get("base_name", pd.Series("", index=table.index))
    out = pd.DataFrame(
        {
            "urn": urns,
            "base_name": names,
            "base_type": kinds,
            "phase": phases,
            "capacity": places.fillna(float(default_places)),
            "need_codes": codes,
            "on_roll": on_roll,
            "capacity_assumed": places.isna(),
        }
    )
    if schools is not None:
        _check_hosts(out, kept, schools, columns, problems)
    left = out[~kept]
    out = out[kept].reset_index(drop=True)
    host_names = (
        schools.drop_duplicates("urn").set_index("urn")["name"]
        if schools is not None
        else pd.Series(dtype=str)
    )

    def described(rows: pd.DataFrame) -> str:
        shown = [
            f"{host_names.get(r.urn, r.urn)} ({r.urn})"
            + (f" {r.base_name!r}" if r.base_name else "")
            for r in rows.itertuples()
        ]
        return ", ".join(shown[:10]) + (f" and {len(shown) - 10} more" if len(shown) > 10 else "")

    if len(left):
        notes.append(
            f"{path}: left out {len(left)} row(s) whose base_type is none (not an inclusion"
            f" base): {described(left)}"
        )
    assumed = out[out["capacity_assumed"]]
    if len(assumed):
        warnings.append(
            f"{path}: {len(assumed)} base(s) have no places in the register, so"
            f" {default_places} places are assumed (inputs.schools.default_base_capacity):"
            f" {described(assumed)}"
        )
    over = out[out["on_roll"] > out["capacity"]]
    if len(over):
        warnings.append(
            f"{path}: {len(over)} base(s) have more children on roll than places: {described(over)}"
        )
    notes.append(
        f"existing bases from the register {path}: {len(out)} base(s),"
        f" {out['capacity'].sum():g} places"
        + (f", {out['on_roll'].sum():g} children on roll" if out["on_roll"].notna().any() else "")
    )
    return Register(out.reindex(columns=COLUMNS), warnings, notes)


def _check_hosts(
    out: pd.DataFrame,
    kept: pd.Series,
    schools: pd.DataFrame,
    columns: _Columns,
    problems: Problems,
) -> None:
    """Each base sits in a known mainstream school of its phase; add the host's location."""
    path, label = columns.path, columns.label
    hosts = schools.drop_duplicates("urn").set_index("urn")
    known = out["urn"].isin(hosts.index)
    problems.bad_rows(
        path, label("urn"), kept & ~known, "not a URN in the schools file (add the host school)"
    )
    host = hosts.reindex(out["urn"])
    group = pd.Series(host["establishment_group"].to_numpy(), index=out.index)
    phase = pd.Series(host["phase"].to_numpy(), index=out.index)
    problems.bad_rows(
        path,
        label("urn"),
        kept & known & (group != "mainstream"),
        "host is not a mainstream school (inclusion bases sit in mainstream schools)",
    )
    problems.bad_rows(
        path,
        label("phase"),
        kept & known & ~((phase == out["phase"]) | (phase == "all-through")),
        "does not match the host school's phase",
    )
    out["easting"] = host["easting"].to_numpy()
    out["northing"] = host["northing"].to_numpy()
