"""Small input files in the real public layouts (GIAS, SEN2, ONS, ONSPD), written by tests.

Values are invented; column names, encodings and cell conventions are those of the real files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

GIAS_HEADER = [
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName",
    "TypeOfEstablishment (name)", "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (name)", "PhaseOfEducation (name)", "StatutoryLowAge",
    "StatutoryHighAge", "SchoolCapacity", "NumberOfPupils", "Postcode",
    *[f"SEN{i} (name)" for i in range(1, 14)],
    "TypeOfResourcedProvision (name)", "ResourcedProvisionOnRoll", "ResourcedProvisionCapacity",
    "SenUnitOnRoll", "SenUnitCapacity", "GSSLACode (name)", "Easting", "Northing", "SENStat",
]  # fmt: skip

_SEN_BLANK = [""] * 13


@dataclass(frozen=True)
class GiasSchool:
    """One school as a GIAS extract lists it; unspecified SEN columns blank as in the real
    extract. ``ages`` are the statutory low and high ages (years), ``la`` the DfE LA code, name
    and GSS code, ``xy`` the easting and northing (EPSG:27700 metres)."""

    urn: str
    name: str
    group: str = "Local authority maintained schools"
    kind: str = "Community school"
    status: str = "Open"
    phase: str = "Primary"
    ages: tuple[str, str] = ("4", "11")
    capacity: str = "420"
    pupils: str = "400"
    postcode: str = "AB1 2CD"
    needs: tuple[str, ...] = ()
    provision: str = "Not applicable"
    rp_capacity: str = ""
    unit_capacity: str = ""
    la: tuple[str, str, str] = ("358", "Trafford", "E08000009")
    xy: tuple[str, str] = ("377000", "390000")
    senstat: str = "10"

    def row(self) -> list[str]:
        """The school's cells, in the order of :data:`GIAS_HEADER`."""
        sen = list(self.needs) + _SEN_BLANK[len(self.needs) :]
        la, xy = self.la, self.xy
        return [
            self.urn, la[0], la[1], "2000", self.name, self.kind, self.group, self.status,
            self.phase, self.ages[0], self.ages[1], self.capacity, self.pupils, self.postcode,
            *sen, self.provision, "", self.rp_capacity, "", self.unit_capacity, la[2], xy[0],
            xy[1], self.senstat,
        ]  # fmt: skip


def write_gias(path: Path, rows: list[list[str]]) -> Path:
    """Write a GIAS extract in Windows-1252, as GIAS publishes it."""
    lines = [",".join(GIAS_HEADER)] + [",".join(_quote(v) for v in row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def _quote(value: str) -> str:
    return f'"{value}"' if "," in value else value


def standard_gias(path: Path) -> Path:
    """Five Trafford schools and one from another LA, covering the awkward cases."""
    return write_gias(
        path,
        [
            # a curly apostrophe (cp1252 0x92), a unit with a capacity and need labels
            GiasSchool(
                "100001",
                "St Anne\u2019s CofE Primary School",
                provision="SEN unit",
                unit_capacity="8",
                needs=(
                    "ASD - Autistic Spectrum Disorder",
                    "SLCN - Speech, language and Communication",
                ),
            ).row(),
            # resourced provision with a blank capacity and no need labels
            GiasSchool(
                "100002",
                "Hill Top Academy",
                group="Academies",
                kind="Academy converter",
                phase="Secondary",
                ages=("11", "16"),
                capacity="1000",
                pupils="950",
                provision="Resourced provision",
                xy=("378000", "391000"),
            ).row(),
            # a special school with a unit flag: never a host, unit left out with a warning
            GiasSchool(
                "100003",
                "Brook Special School",
                group="Special schools",
                kind="Community special school",
                phase="Not applicable",
                ages=("5", "19"),
                capacity="",
                pupils="120",
                provision="SEN unit",
                unit_capacity="12",
            ).row(),
            # a closed school: skipped
            GiasSchool("100004", "Old Mill Primary (closed)", status="Closed").row(),
            # blank Easting/Northing: located from its postcode
            GiasSchool("100005", "Meadow Primary", postcode="zz9 9zz", xy=("", "")).row(),
            # another authority: not selected
            GiasSchool("200001", "Elsewhere Primary", la=("359", "Wigan", "E08000010")).row(),
        ],
    )


def write_postcodes(path: Path) -> Path:
    """An ONSPD-style lookup (pcds, oseast1m, osnrth1m, lsoa21)."""
    path.write_text(
        "pcds,oseast1m,osnrth1m,lsoa21\n"
        "ZZ9 9ZZ,376500,389500,E01000001\n"
        "ZZ1 1AA,376000,389000,E01000001\n"
        "ZZ1 1AB,376200,389200,E01000001\n"
        "ZZ2 2BB,379000,392000,E01000002\n"
        "ZZ3 3CC,0,0,\n",  # terminated: no grid reference
        encoding="utf-8",
    )
    return path


def write_boundaries(path: Path) -> Path:
    """Two square LSOAs in WGS84 GeoJSON, 'lsoa21cd'/'lsoa21nm' columns as ONS publishes."""

    def square(x0: float, y0: float) -> list[list[list[float]]]:
        return [[[x0, y0], [x0 + 0.03, y0], [x0 + 0.03, y0 + 0.02], [x0, y0 + 0.02], [x0, y0]]]

    features = [
        {
            "type": "Feature",
            "properties": {"lsoa21cd": code, "lsoa21nm": name},
            "geometry": {"type": "Polygon", "coordinates": square(x, y)},
        }
        for code, name, x, y in (
            ("E01000001", "Testford 001A", -2.36, 53.40),
            ("E01000002", "Testford 001B", -2.32, 53.42),
        )
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def write_population(path: Path) -> Path:
    """ONS mid-year estimates by LSOA and single year of age, with sex rows."""
    ages = [str(a) for a in range(91)]
    header = "period,area_code,area_name,geography,sex,all_ages," + ",".join(ages[:-1]) + ",90+"
    rows = [header]
    for code, base in (("E01000001", 10), ("E01000002", 30)):
        for sex, factor in (("Persons", 2), ("Females", 1), ("Males", 1)):
            values = [str(base * factor) for _ in ages]
            total = str(sum(int(v) for v in values))
            rows.append(f"2024-06-30,{code},{code},LSOA,{sex},{total}," + ",".join(values))
    path.write_text("\n".join(rows) + "\n")
    return path


NEED_COLUMNS = ["asd", "hi", "mld", "msi", "oth", "pd", "pmld", "semh", "slcn", "sld", "spld", "vi"]


def write_sen2_needs(path: Path) -> Path:
    """The SEN2 primary-need file: All EHC plans and by-age rows; one suppressed cell.

    Ages as the DfE labels them: 'under 3' (ages 0-2), then 'age 3' ... 'age 19'.
    """
    header = (
        "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
        "region_name,new_la_code,old_la_code,la_name,breakdown_topic,breakdown,ehc_plans,"
        + ",".join(f"number_{n}" for n in NEED_COLUMNS)
    )
    lead = "202425,Academic year,Local authority,E92000001,England,E12000002,North West,"
    lead += "E08000009,358,Trafford,"
    rows = [header]
    rows.append(lead + "All EHC plans,All EHC plans,1200," + ",".join(["100"] * 12))
    rows.append(lead + "Child or young persons age,under 3,12," + ",".join(["1"] * 12))
    for age in range(3, 20):
        cells = ["10"] * 12
        if age == 7:
            cells[NEED_COLUMNS.index("vi")] = "x"  # suppressed: missing, never zero
        rows.append(lead + f"Child or young persons age,age {age},120," + ",".join(cells))
    path.write_bytes(("\ufeff" + "\n".join(rows) + "\n").encode("utf-8"))
    return path


SEN2_PLACEMENTS = [
    f"mainstream_{k}_{p}"
    for k in ("la_maintained", "academy", "free_school")
    for p in ("resourced_provision", "senunit")
]


def _placed(children: int) -> str:
    # Split over a resourced provision and a SEN unit column, the rest zero.
    return ",".join([str(children - children // 3), str(children // 3), "0", "0", "0", "0"])


def write_sen2_caseload(
    path: Path,
    *,
    primary: int = 6,
    secondary: int = 6,
    england: tuple[int, int] = (40, 60),
) -> Path:
    """The SEN2 caseload file: all-plans rows for five years, with base placements, and the
    January 2025 age breakdown, for Trafford and England.

    Trafford: 1,000 plans in 2021 growing 10% a year; 60 placed in bases in 2025, an
    unavailable cell ('x') in 2021. By age in 2025: 120 plans at each age 3-19 (10 under 3),
    ``primary`` placed at each age 4-10 and ``secondary`` at each age 11-15 (so 5% by
    default). England: 1,000 plans at each age, ``england`` placed per age in the two phases
    (4% and 6% by default).
    """
    header = (
        "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
        "region_name,new_la_code,old_la_code,la_name,breakdown_topic,breakdown,ehcplans,"
        + ",".join(SEN2_PLACEMENTS)
    )
    authority = "Local authority,E92000001,England,E12000002,North West,E08000009,358,Trafford"
    national = "National,E92000001,England,,,,,"
    rows = [header]
    for year, plans in ((2021, 1000), (2022, 1100), (2023, 1210), (2024, 1331), (2025, 1464.1)):
        period = f"{year - 1}{str(year)[2:]}"
        cells = "x,20,0,10,0,0" if year == 2021 else _placed(60)
        rows.append(
            f"{period},Academic year,{authority},All EHC plans,All EHC plans,{plans:g},{cells}"
        )
        rows.append(
            f"{period},Academic year,{national},All EHC plans,All EHC plans,17000,{_placed(700)}"
        )
    for label, low in [("under 3", 2)] + [(f"age {a}", a) for a in range(3, 20)]:
        own = primary if 4 <= low <= 10 else secondary if 11 <= low <= 15 else 0
        rows.append(
            f"202425,Academic year,{authority},Child or young persons age,{label},"
            f"{10 if low == 2 else 120},{_placed(own)}"
        )
        share = england[0] if 4 <= low <= 10 else england[1] if 11 <= low <= 15 else 0
        rows.append(
            f"202425,Academic year,{national},Child or young persons age,{label},1000,"
            + _placed(share)
        )
    path.write_text("\n".join(rows) + "\n")
    return path


# --- ONS's single-year workbooks, a sheet saved as CSV -------------------------------------------

# Two LSOAs of Trafford and one of Wigan, with the LAD codes of two years (the older workbooks
# give both; a code of the earlier year that differs tells which one is matched).
ONS_AREAS = [
    ("E01000001", "Trafford 001A", "E08000009", "E08000009"),
    ("E01000002", "Trafford 001B", "E08000009", "E08000099"),  # 2018 code differs
    ("E01000003", "Wigan 001A", "E08000010", "E08000009"),  # 2018 code says Trafford
]


def ons_count(area: int, sex: str, age: int) -> int:
    """The invented estimate of ``ONS_AREAS[area]``'s ``sex`` ("F" or "M") at ``age``: the
    sexes differ, so a reader taking one of them, or one twice, is caught."""
    return (10 + 20 * area) + (age % 7) + (3 if sex == "M" else 0) * (1 + age % 2)


def ons_persons(area: int, age: int) -> int:
    return ons_count(area, "F", age) + ons_count(area, "M", age)


def _sheet(path: Path, titles: list[str], header: list[str], rows: list[list[str]], *,
           padded: bool) -> Path:  # fmt: skip
    """A table as Excel saves one sheet as CSV: title lines (padded with empty cells to the
    table's width when ``padded``, as Excel does), then the header and rows."""
    width = len(header)
    lines = [",".join([f'"{t}"' if "," in t else t] + [""] * (width - 1) if padded else [t])
             for t in titles]  # fmt: skip
    lines += [",".join(header)] + [",".join(row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def write_ons_sexes_in_columns(path: Path, *, titles: bool = True, padded: bool = True) -> Path:
    """The LSOA 2021 single-year workbook (mid-2021 onwards: sapelsoasyoa20222024.xlsx), its
    sheet "Mid-2024 LSOA 2021" saved as CSV: three title lines, then LAD 2023 Code, LAD 2023
    Name, LSOA 2021 Code, LSOA 2021 Name, Total, F0 .. F90, M0 .. M90."""
    header = ["LAD 2023 Code", "LAD 2023 Name", "LSOA 2021 Code", "LSOA 2021 Name", "Total"]
    header += [f"F{a}" for a in range(91)] + [f"M{a}" for a in range(91)]
    rows = []
    for area, (code, name, lad, _) in enumerate(ONS_AREAS):
        females = [ons_count(area, "F", a) for a in range(91)]
        males = [ons_count(area, "M", a) for a in range(91)]
        cells = [lad, name.split()[0], code, name, str(sum(females) + sum(males))]
        rows.append(cells + [str(v) for v in females + males])
    text = [
        "Mid-2024 population estimates for Lower layer Super Output Areas (LSOAs) in England"
        " and Wales by single year of age and sex",
        "This worksheet contains one table. Some cells refer to notes, found on the Notes tab.",
        "Source: Office for National Statistics",
    ]
    return _sheet(path, text if titles else [], header, rows, padded=padded)


def write_ons_lsoa_code(path: Path, *, sheet: str = "Persons", titles: bool = True) -> Path:
    """The older single-year workbook (to mid-2020: SAPE23DT2), one sheet per sex, its sheet
    "Mid-2020 <sheet>" saved as CSV: four title lines, then LSOA Code, LSOA Name, LA Code (2018
    boundaries), LA name (2018 boundaries), LA Code (2021 boundaries), LA name (2021
    boundaries), All Ages, 0 .. 89, 90+."""
    header = ["LSOA Code", "LSOA Name", "LA Code (2018 boundaries)", "LA name (2018 boundaries)",
              "LA Code (2021 boundaries)", "LA name (2021 boundaries)", "All Ages",
              *[str(a) for a in range(90)], "90+"]  # fmt: skip
    rows = []
    for area, (code, name, lad, lad_2018) in enumerate(ONS_AREAS):
        if sheet == "Persons":
            counts = [ons_persons(area, a) for a in range(91)]
        else:
            counts = [ons_count(area, sheet[0], a) for a in range(91)]
        place = name.split()[0]
        cells = [code, name, lad_2018, place, lad, place, str(sum(counts))]
        rows.append(cells + [str(v) for v in counts])
    text = [
        "Mid-2020 Population Estimates for Lower Layer Super Output Areas in England and Wales"
        " by Single Year of Age and Sex",
        "National Statistics",
        f"All {sheet}" if sheet == "Persons" else sheet,
        "",
    ]
    return _sheet(path, text if titles else [], header, rows, padded=True)
