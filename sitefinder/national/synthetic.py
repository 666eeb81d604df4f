"""A synthetic England written as files in the real public layouts, for national runs.

No national extract ships with sitefinder, so this writes a seeded, invented England in the
layouts the real files have: a GIAS "all establishment data" extract (Windows-1252, the real
column names), an areas CSV of LSOA points with their local authority district (LAD) code,
ONS-layout population by LSOA and single year of age, and the DfE SEN2 caseload and
primary-need files (every authority and England), plus a national scenario TOML
(``authority = "England"``) that ``sitefinder rank --config england.toml --workers 2`` ranks
authority by authority. Nothing in the files is real except the authorities' names and codes.

Run ``python -m sitefinder.national.synthetic FOLDER [--schools 20000 --areas 34000
--authorities 150]``; :func:`write_synthetic_england` is the function behind it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sitefinder.authorities import Authority, all_authorities, find_authority

GIAS_ALL_COLUMNS = (
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName",
    "TypeOfEstablishment (code)", "TypeOfEstablishment (name)", "EstablishmentTypeGroup (code)",
    "EstablishmentTypeGroup (name)", "EstablishmentStatus (code)", "EstablishmentStatus (name)",
    "ReasonEstablishmentOpened (code)", "ReasonEstablishmentOpened (name)", "OpenDate",
    "ReasonEstablishmentClosed (code)", "ReasonEstablishmentClosed (name)", "CloseDate",
    "PhaseOfEducation (code)", "PhaseOfEducation (name)", "StatutoryLowAge", "StatutoryHighAge",
    "Boarders (code)", "Boarders (name)", "NurseryProvision (name)", "OfficialSixthForm (code)",
    "OfficialSixthForm (name)", "Gender (code)", "Gender (name)", "ReligiousCharacter (code)",
    "ReligiousCharacter (name)", "ReligiousEthos (name)", "Diocese (code)", "Diocese (name)",
    "AdmissionsPolicy (code)", "AdmissionsPolicy (name)", "SchoolCapacity",
    "SpecialClasses (code)", "SpecialClasses (name)", "CensusDate", "NumberOfPupils",
    "NumberOfBoys", "NumberOfGirls", "PercentageFSM", "TrustSchoolFlag (code)",
    "TrustSchoolFlag (name)", "Trusts (code)", "Trusts (name)", "SchoolSponsorFlag (name)",
    "SchoolSponsors (name)", "FederationFlag (name)", "Federations (code)",
    "Federations (name)", "UKPRN", "FEHEIdentifier", "FurtherEducationType (name)",
    "LastChangedDate", "Street", "Locality", "Address3", "Town", "County (name)", "Postcode",
    "SchoolWebsite", "TelephoneNum", "HeadTitle (name)", "HeadFirstName", "HeadLastName",
    "HeadPreferredJobTitle", "BSOInspectorateName (name)", "InspectorateReport",
    "DateOfLastInspectionVisit", "NextInspectionVisit", "TeenMoth (name)", "TeenMothPlaces",
    "CCF (name)", "SENPRU (name)", "EBD (name)", "PlacesPRU", "FTProv (name)",
    "EdByOther (name)", "Section41Approved (name)", "SEN1 (name)", "SEN2 (name)", "SEN3 (name)",
    "SEN4 (name)", "SEN5 (name)", "SEN6 (name)", "SEN7 (name)", "SEN8 (name)", "SEN9 (name)",
    "SEN10 (name)", "SEN11 (name)", "SEN12 (name)", "SEN13 (name)",
    "TypeOfResourcedProvision (name)", "ResourcedProvisionOnRoll", "ResourcedProvisionCapacity",
    "SenUnitOnRoll", "SenUnitCapacity", "GOR (code)", "GOR (name)",
    "DistrictAdministrative (code)", "DistrictAdministrative (name)",
    "AdministrativeWard (code)", "AdministrativeWard (name)",
    "ParliamentaryConstituency (code)", "ParliamentaryConstituency (name)", "UrbanRural (code)",
    "UrbanRural (name)", "GSSLACode (name)", "Easting", "Northing", "MSOA (name)",
    "LSOA (name)", "InspectorateName (name)", "SENStat", "SENNoStat",
    "BoardingEstablishment (name)", "PropsName", "PreviousLA (code)", "PreviousLA (name)",
    "PreviousEstablishmentNumber", "Country (name)", "UPRN", "SiteName", "QABName (code)",
    "QABName (name)", "EstablishmentAccredited (code)", "EstablishmentAccredited (name)",
    "QABReport", "CHNumber", "MSOA (code)", "LSOA (code)", "FSM", "AccreditationExpiryDate",
)  # fmt: skip


CASELOAD_COLUMNS = (
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name",
    "region_code", "region_name", "new_la_code", "old_la_code", "la_name", "breakdown_topic",
    "breakdown", "ehcplans", "mainstream_la_maintained",
    "mainstream_la_maintained_resourced_provision", "mainstream_la_maintained_senunit",
    "mainstream_academy", "mainstream_academy_resourced_provision",
    "mainstream_academy_senunit", "mainstream_free_school",
    "mainstream_free_school_resourced_provision", "mainstream_free_school_senunit",
    "mainstream_independent", "mainstream_total", "mainstream_total_pc",
    "special_la_maintained", "special_academy_free", "special_independent",
    "special_non_maintained", "special_total", "special_total_pc", "ap_pru_academy",
    "ap_pru_free_school", "ap_pru_la_maintained", "ap_pru_total", "AP_PRU_total_pc",
    "general_fe_tertiary_colleges", "specialist_post_16_institutions", "ukrlp_provider",
    "fe_total", "fe_total_pc", "elective_home_education", "other_arrangements_la",
    "other_arrangements_parents", "online_provider", "w_settings", "other_schools",
    "other_placement_settings", "neet", "neet_ntci", "neet_other", "neet_other_csa",
    "ed_elsewhere", "ed_elsewhere_pc", "nm_early_years", "nm_early_years_pc",
    "placement_unknown", "placement_unknown_pc", "await_prov_2022", "perm_ex_2022",
)  # fmt: skip

NEEDS_COLUMNS = (
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name",
    "region_code", "region_name", "new_la_code", "old_la_code", "la_name", "breakdown_topic",
    "breakdown", "ehc_plans", "number_asd", "number_hi", "number_mld", "number_msi", "number_oth",
    "number_pd", "number_pmld", "number_semh", "number_slcn", "number_sld", "number_spld",
    "number_vi", "number_need_unknown", "asd_pc", "hi_pc", "mld_pc", "msi_pc", "oth_pc", "pd_pc",
    "pmld_pc", "semh_pc", "slcn_pc", "sld_pc", "spld_pc", "vi_pc", "unknown_pc",
)  # fmt: skip

# England's primary needs of EHC plans, January 2025 (DfE SEN2): the mean of the invented mix.
NEED_SHARES = {
    "asd": 0.315, "hi": 0.014, "mld": 0.106, "msi": 0.003, "oth": 0.012, "pd": 0.039,
    "pmld": 0.013, "semh": 0.207, "slcn": 0.213, "sld": 0.040, "spld": 0.023, "vi": 0.008,
}  # fmt: skip
NEED_LABELS = {
    "asd": "ASD - Autistic Spectrum Disorder", "hi": "HI - Hearing Impairment",
    "mld": "MLD - Moderate Learning Difficulty", "msi": "MSI - Multi-Sensory Impairment",
    "oth": "OTH - Other Difficulty/Disability", "pd": "PD - Physical Disability",
    "pmld": "PMLD - Profound and Multiple Learning Difficulty",
    "semh": "SEMH - Social, Emotional and Mental Health",
    "slcn": "SLCN - Speech, language and Communication",
    "sld": "SLD - Severe Learning Difficulty", "spld": "SpLD - Specific Learning Difficulty",
    "vi": "VI - Visual Impairment",
}  # fmt: skip
REGIONS = (
    ("E12000001", "North East"), ("E12000002", "North West"),
    ("E12000003", "Yorkshire and The Humber"), ("E12000004", "East Midlands"),
    ("E12000005", "West Midlands"), ("E12000006", "East of England"), ("E12000007", "London"),
    ("E12000008", "South East"), ("E12000009", "South West"),
)  # fmt: skip
BASE_COLUMNS = tuple(
    f"mainstream_{kind}_{provision}"
    for kind in ("la_maintained", "academy", "free_school")
    for provision in ("resourced_provision", "senunit")
)
YEARS = (2019, 2020, 2021, 2022, 2023, 2024, 2025)
CELL_METRES = 42_000.0
"""Side of the square each invented authority is laid out in (England's 130,000 km2 over 153
authorities is about 29 km square each; counties are larger)."""
ORIGIN = (80_000.0, 20_000.0)
"""South-west corner of the invented England (easting, northing; metres, EPSG:27700)."""
_WORDS = (
    "Oak", "Ash", "Elm", "Brook", "Hill", "Green", "Park", "Meadow", "Castle", "River",
    "Church", "Mill", "Bridge", "Holly", "Willow", "Beech", "North", "South", "East", "West",
    "Kings", "Queens", "Abbey", "Manor", "Grange", "Moor", "Lea", "Dale", "Field", "Wood",
)  # fmt: skip


def _age_profile() -> NDArray[np.float64]:
    """Share of residents at each single year of age 0..89 and 90+ (invented, England-like)."""
    weight = np.ones(91)
    weight[:18], weight[18:30], weight[30:65] = 1.15, 1.25, 1.3
    weight[65:80], weight[80:90], weight[90] = 1.0, 0.5, 1.5
    return np.asarray(weight / weight.sum())


def _plan_rates() -> NDArray[np.float64]:
    """EHC plans per resident at each age 0..25 (England-like: about 5% at school ages)."""
    rate = np.zeros(26)
    rate[:3], rate[3], rate[4] = 0.001, 0.006, 0.025
    rate[5:11], rate[11:16], rate[16:20], rate[20:] = 0.045, 0.05, 0.035, 0.012
    return rate


def _base_shares() -> NDArray[np.float64]:
    """England's share of plans in mainstream bases at each age 0..25 (SEN2 2025: 6.3% of
    plans at ages 4-10, 3.9% at 11-15)."""
    share = np.zeros(26)
    share[3], share[4:11], share[11:16], share[16:20] = 0.01, 0.063, 0.039, 0.01
    return share


def _age_label(age: int) -> str:
    return "under 3" if age < 3 else f"age {age}"


@dataclass(frozen=True)
class SyntheticEngland:
    """What :func:`write_synthetic_england` wrote.

    Attributes
    ----------
    scenario
        The national scenario TOML (``authority = "England"``).
    files
        Each input file by its role (``schools``, ``areas``, ``population``, ``sen2_needs``,
        ``sen2_caseload``).
    authorities
        The authorities of the invented England, in GSS code order.
    schools, areas
        Establishments (all types, closed ones included) and small areas written.
    """

    scenario: Path
    files: dict[str, Path]
    authorities: tuple[Authority, ...]
    schools: int
    areas: int


def _pick_authorities(
    authorities: int | Sequence[str], rng: np.random.Generator
) -> tuple[Authority, ...]:
    known = all_authorities()
    if isinstance(authorities, int):
        if not 1 <= authorities <= len(known):
            raise ValueError(f"authorities must be 1..{len(known)} (got {authorities})")
        chosen = sorted(rng.choice(len(known), size=authorities, replace=False).tolist())
        return tuple(known[i] for i in chosen)
    found = [find_authority(name) for name in authorities]
    missing = [name for name, a in zip(authorities, found, strict=True) if a is None]
    if missing:
        raise ValueError(f"not authorities in England: {', '.join(missing)}")
    return tuple(sorted({a for a in found if a is not None}, key=lambda a: a.gss_code))


def _layout(
    n: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Each authority's cell on a jittered grid: centre, half-width of its box, spread."""
    columns = math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    slots = rng.permutation(columns * rows)[:n]
    col, row = slots % columns, slots // columns
    centre = np.column_stack(
        [ORIGIN[0] + (col + 0.5) * CELL_METRES, ORIGIN[1] + (row + 0.5) * CELL_METRES]
    )
    centre += rng.uniform(-0.1, 0.1, size=(n, 2)) * CELL_METRES
    half = np.full((n, 2), CELL_METRES * 0.45)
    spread = CELL_METRES * rng.uniform(0.1, 0.2, size=n)
    return centre, half, spread


def _split(
    total: int, weights: NDArray[np.float64], floor: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """``total`` items over groups in proportion to ``weights``, at least ``floor`` each."""
    rest = total - floor * len(weights)
    if rest < 0:
        raise ValueError(f"{total} is too few for {len(weights)} authorities")
    return np.asarray(floor + rng.multinomial(rest, weights / weights.sum()), dtype=np.int64)


def _areas(
    authorities: Sequence[Authority],
    counts: NDArray[np.int64],
    layout: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """LSOA-like areas: a point, a code, a name 'District 001A' and the district's LAD code.

    A county council's areas fall into four to seven invented districts (sectors around its
    centre) with their own LAD codes, as ONS files carry districts' codes, not the county's.
    """
    centre, half, spread = layout
    frames = []
    district = 0
    for i, authority in enumerate(authorities):
        n = int(counts[i])
        xy = centre[i] + rng.normal(size=(n, 2)) * spread[i]
        xy = np.clip(xy, centre[i] - half[i], centre[i] + half[i])
        if authority.is_county:
            k = int(rng.integers(4, 8))
            angle = np.arctan2(xy[:, 1] - centre[i, 1], xy[:, 0] - centre[i, 0])
            sector = np.minimum(((angle + np.pi) / (2 * np.pi) * k).astype(int), k - 1)
            codes = np.array([f"E07{900001 + district + s:06d}" for s in range(k)])
            names = np.array([f"{authority.name} district {s + 1}" for s in range(k)])
            lad_code, lad_name = codes[sector], names[sector]
            district += k
        else:
            lad_code = np.full(n, authority.ons_code or authority.gss_code)
            lad_name = np.full(n, authority.name)
        frames.append(
            pd.DataFrame(
                {
                    "authority": i,
                    "easting": np.round(xy[:, 0]),
                    "northing": np.round(xy[:, 1]),
                    "lad_code": lad_code,
                    "lad_name": lad_name,
                }
            )
        )
    areas = pd.concat(frames, ignore_index=True)
    areas = areas.sort_values(["lad_code", "northing", "easting"], kind="stable")
    areas = areas.reset_index(drop=True)
    within = areas.groupby("lad_code").cumcount().to_numpy()
    prefix = areas["lad_name"].str.split(",").str[0].to_numpy()
    areas["area_name"] = [
        f"{p} {w // 4 + 1:03d}{'ABCD'[w % 4]}" for p, w in zip(prefix, within, strict=True)
    ]
    areas["area_code"] = [f"E01{900001 + k:06d}" for k in range(len(areas))]
    return areas


# (kind, share of establishments): England has about 16,800 primary schools (a tenth of them
# infant or junior), 3,400 secondary, 1,000 special and 2,400 independent schools.
_KINDS = (
    ("primary", 0.555), ("infant", 0.05), ("junior", 0.045), ("secondary", 0.13),
    ("all-through", 0.01), ("special", 0.055), ("independent", 0.11), ("nursery", 0.015),
    ("sixteen", 0.015), ("pru", 0.015),
)  # fmt: skip
_MAINSTREAM = (
    ("Local authority maintained schools", "Community school", 0.25),
    ("Local authority maintained schools", "Voluntary aided school", 0.12),
    ("Local authority maintained schools", "Voluntary controlled school", 0.08),
    ("Academies", "Academy converter", 0.38),
    ("Academies", "Academy sponsor led", 0.12),
    ("Free Schools", "Free schools", 0.05),
)


def _school_row(kind: str, rng: np.random.Generator, words: tuple[str, str]) -> dict[str, str]:
    """The GIAS fields of one invented establishment of ``kind`` (text, as GIAS writes them)."""
    place = f"{words[0]}{words[1].lower()}"
    saint = rng.uniform() < 0.06
    stem = f"St {words[0]}\u2019s" if saint else place  # a curly apostrophe, as in GIAS
    row: dict[str, str] = {"Gender (name)": "Mixed", "AdmissionsPolicy (name)": "Not applicable"}
    if kind in ("primary", "infant", "junior", "secondary", "all-through", "sixteen", "nursery"):
        shares = np.array([s for *_, s in _MAINSTREAM])
        group, kind_name, _ = _MAINSTREAM[int(rng.choice(len(_MAINSTREAM), p=shares))]
        row["EstablishmentTypeGroup (name)"] = group
        row["TypeOfEstablishment (name)"] = kind_name
    if kind in ("primary", "infant", "junior"):
        low = {"primary": rng.choice(["3", "4", "5"], p=[0.3, 0.5, 0.2]), "infant": "4"}
        low["junior"] = "7"
        high = {"primary": "11", "infant": "7", "junior": "11"}[kind]
        title = {"primary": "Primary School", "infant": "Infant School", "junior": "Junior School"}
        capacity = int(rng.choice([105, 210, 315, 420, 630], p=[0.1, 0.35, 0.2, 0.25, 0.1]))
        row.update(
            {
                "EstablishmentName": f"{stem} {title[kind]}",
                "PhaseOfEducation (name)": "Primary",
                "StatutoryLowAge": str(low[kind]),
                "StatutoryHighAge": high,
                "EstablishmentNumber": str(int(rng.integers(2000, 4000))),
            }
        )
    elif kind in ("secondary", "all-through"):
        capacity = int(rng.choice([600, 900, 1200, 1500, 1800]))
        if kind == "secondary":
            gender = rng.choice(["Mixed", "Boys", "Girls"], p=[0.94, 0.03, 0.03])
            policy = rng.choice(["Non-selective", "Selective"], p=[0.95, 0.05])
            name = f"{stem} {'Grammar School' if policy == 'Selective' else 'Academy'}"
            ages = ("11", str(rng.choice(["16", "18"], p=[0.4, 0.6])))
        else:
            gender, policy, name, ages = "Mixed", "Non-selective", f"{stem} School", ("4", "18")
        row.update(
            {
                "EstablishmentName": name,
                "PhaseOfEducation (name)": "Secondary" if kind == "secondary" else "All-through",
                "StatutoryLowAge": ages[0],
                "StatutoryHighAge": ages[1],
                "Gender (name)": str(gender),
                "AdmissionsPolicy (name)": str(policy),
                "EstablishmentNumber": str(int(rng.integers(4000, 5000))),
            }
        )
    elif kind == "special":
        ages = [("2", "19"), ("4", "11"), ("11", "19"), ("7", "16")][
            int(rng.choice(4, p=[0.4, 0.2, 0.3, 0.1]))
        ]
        capacity = int(rng.choice([60, 90, 120, 180]))
        row.update(
            {
                "EstablishmentName": f"{place} School",
                "EstablishmentTypeGroup (name)": "Special schools",
                "TypeOfEstablishment (name)": str(
                    rng.choice(["Community special school", "Academy special converter"])
                ),
                "PhaseOfEducation (name)": "Not applicable",
                "StatutoryLowAge": ages[0],
                "StatutoryHighAge": ages[1],
                "EstablishmentNumber": str(int(rng.integers(7000, 8000))),
            }
        )
        if rng.uniform() < 0.6:  # the rest record no provision: taken to serve every need
            needs = rng.choice(list(NEED_SHARES), size=int(rng.integers(1, 4)), replace=False)
            for k, need in enumerate(needs, start=1):
                row[f"SEN{k} (name)"] = NEED_LABELS[str(need)]
    elif kind == "independent":
        capacity = int(rng.choice([150, 300, 600, 900]))
        row.update(
            {
                "EstablishmentName": f"{place} {rng.choice(['College', 'School', 'Prep'])}",
                "EstablishmentTypeGroup (name)": "Independent schools",
                "TypeOfEstablishment (name)": "Other independent school",
                "PhaseOfEducation (name)": "Not applicable",
                "StatutoryLowAge": "3",
                "StatutoryHighAge": "18",
                "EstablishmentNumber": str(int(rng.integers(6000, 7000))),
            }
        )
    elif kind == "pru":
        capacity = int(rng.choice([30, 60]))
        row.update(
            {
                "EstablishmentName": f"{place} Pupil Referral Unit",
                "EstablishmentTypeGroup (name)": "Local authority maintained schools",
                "TypeOfEstablishment (name)": "Pupil referral unit",
                "PhaseOfEducation (name)": "Not applicable",
                "StatutoryLowAge": "5",
                "StatutoryHighAge": "16",
                "EstablishmentNumber": str(int(rng.integers(1100, 1200))),
            }
        )
    else:  # nursery, 16 plus
        nursery = kind == "nursery"
        capacity = int(rng.choice([60, 120] if nursery else [400, 800]))
        row.update(
            {
                "EstablishmentName": f"{place} {'Nursery School' if nursery else 'Sixth Form'}",
                "PhaseOfEducation (name)": "Nursery" if nursery else "16 plus",
                "StatutoryLowAge": "2" if nursery else "16",
                "StatutoryHighAge": "5" if nursery else "19",
                "EstablishmentNumber": str(int(rng.integers(1000, 1100) if nursery else 5000)),
            }
        )
    pupils = round(capacity * float(rng.uniform(0.75, 1.02)))
    row["SchoolCapacity"] = str(capacity)
    row["NumberOfPupils"] = str(pupils)
    row["SENStat"] = str(int(rng.binomial(pupils, min(0.2, 0.025 * rng.lognormal(0, 0.5)))))
    share = {"primary": 0.07, "infant": 0.05, "junior": 0.07, "secondary": 0.15}.get(kind, 0.0)
    if rng.uniform() < share:  # an existing base: resourced provision or a SEN unit
        types = ["Resourced provision", "SEN unit", "Resourced provision and SEN unit"]
        provision = str(rng.choice(types, p=[0.7, 0.25, 0.05]))
        row["TypeOfResourcedProvision (name)"] = provision
        places = str(int(rng.choice([8, 10, 12, 15, 20]))) if rng.uniform() < 0.6 else ""
        column = "SenUnitCapacity" if provision == "SEN unit" else "ResourcedProvisionCapacity"
        row[column] = places
        if rng.uniform() < 0.7:
            needs = rng.choice(
                ["asd", "slcn", "semh", "mld", "hi"], size=int(rng.integers(1, 3)), replace=False
            )
            for k, need in enumerate(needs, start=1):
                row[f"SEN{k} (name)"] = NEED_LABELS[str(need)]
    else:
        row["TypeOfResourcedProvision (name)"] = "Not applicable"
    return row


def _schools(
    authorities: Sequence[Authority],
    counts: NDArray[np.int64],
    areas: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """A GIAS extract: every column of the real file, blank where nothing is invented."""
    kinds = [k for k, _ in _KINDS]
    shares = np.array([s for _, s in _KINDS])
    by_authority = dict(list(areas.groupby("authority")))
    records = []
    for i, authority in enumerate(authorities):
        mine = by_authority[i]
        for _ in range(int(counts[i])):
            kind = kinds[int(rng.choice(len(kinds), p=shares))]
            words = (
                _WORDS[int(rng.integers(len(_WORDS)))],
                _WORDS[int(rng.integers(len(_WORDS)))],
            )
            row = _school_row(kind, rng, words)
            near = mine.iloc[int(rng.integers(len(mine)))]
            row.update(
                {
                    "LA (code)": authority.la_code,
                    "LA (name)": authority.name,
                    "GSSLACode (name)": authority.gss_code,
                    "DistrictAdministrative (code)": str(near["lad_code"]),
                    "DistrictAdministrative (name)": str(near["lad_name"]),
                    "EstablishmentStatus (name)": "Closed" if rng.uniform() < 0.02 else "Open",
                    "Easting": str(int(near["easting"] + rng.normal(0, 400))),
                    "Northing": str(int(near["northing"] + rng.normal(0, 400))),
                    "Postcode": f"ZZ99 {int(rng.integers(1, 10))}"
                    f"{'ABDEFGHJ'[int(rng.integers(8))]}{'LNPQRSTU'[int(rng.integers(8))]}",
                    "Country (name)": "United Kingdom",
                    "LSOA (code)": str(near["area_code"]),
                    "LSOA (name)": str(near["area_name"]),
                }
            )
            records.append(row)
    table = pd.DataFrame.from_records(records).reindex(columns=GIAS_ALL_COLUMNS, fill_value="")
    table = table.fillna("")
    table["URN"] = [str(100001 + k) for k in rng.permutation(len(table))]
    return table.sort_values("URN", kind="stable").reset_index(drop=True)


def _population(areas: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """ONS-layout mid-year estimates: one row per LSOA, ``Total`` and single years 0..90+."""
    totals = np.maximum(600, rng.normal(1650, 250, size=len(areas))).astype(np.int64)
    ages = rng.multinomial(totals, _age_profile())
    table = pd.DataFrame(
        {
            "LAD 2021 Code": areas["lad_code"],
            "LAD 2021 Name": areas["lad_name"],
            "LSOA 2021 Code": areas["area_code"],
            "LSOA 2021 Name": areas["area_name"],
            "Total": totals,
        }
    )
    labels = [str(a) for a in range(90)] + ["90+"]
    return pd.concat([table, pd.DataFrame(ages, columns=labels)], axis=1)


def _lead(authority: Authority | None, region: tuple[str, str]) -> dict[str, str]:
    if authority is None:
        return {"geographic_level": "National", "country_code": "E92000001",
                "country_name": "England", "region_code": "", "region_name": "",
                "new_la_code": "", "old_la_code": "", "la_name": ""}  # fmt: skip
    return {"geographic_level": "Local authority", "country_code": "E92000001",
            "country_name": "England", "region_code": region[0], "region_name": region[1],
            "new_la_code": authority.gss_code, "old_la_code": authority.la_code,
            "la_name": authority.name}  # fmt: skip


def _sen2(
    authorities: Sequence[Authority],
    people: NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SEN2 primary-need and caseload files: every authority and England, as the DfE lays
    them out. ``people`` is residents by authority (rows) and age 0..25 (columns)."""
    rates, shares = _plan_rates(), _base_shares()
    needs = list(NEED_SHARES)
    mean = np.array([NEED_SHARES[n] for n in needs])
    plans = np.zeros((len(authorities), 26), dtype=np.int64)
    by_need = np.zeros((len(authorities), 26, len(needs)), dtype=np.int64)
    placed = np.zeros((len(authorities), 26, len(BASE_COLUMNS)), dtype=np.int64)
    for i in range(len(authorities)):
        plans[i] = rng.binomial(people[i], np.clip(rates * rng.lognormal(0, 0.2), 0, 1))
        mix = rng.dirichlet(mean / mean.sum() * 300)
        known = rng.binomial(plans[i], 0.993)
        for age in range(26):
            by_need[i, age] = rng.multinomial(known[age], mix)
        # The postcode lottery: authorities place very different shares in bases.
        share = np.clip(shares * float(np.clip(rng.lognormal(0, 0.6), 0.05, 4.0)), 0, 0.5)
        in_bases = rng.binomial(plans[i], share)
        for age in range(26):
            placed[i, age] = rng.multinomial(in_bases[age], [0.45, 0.15, 0.25, 0.1, 0.04, 0.01])
    regions = [REGIONS[i % len(REGIONS)] for i in range(len(authorities))]
    needs_rows, caseload_rows = [], []
    geographies: list[tuple[Authority | None, tuple[str, str], NDArray, NDArray, NDArray]] = [
        (None, ("", ""), plans.sum(0), by_need.sum(0), placed.sum(0))
    ] + [(a, regions[i], plans[i], by_need[i], placed[i]) for i, a in enumerate(authorities)]
    for authority, region, total, need, base in geographies:
        lead = {"time_identifier": "Academic year", **_lead(authority, region)}
        cells = [("All EHC plans", "All EHC plans", int(total.sum()), need.sum(0), base.sum(0))]
        cells += [
            ("Child or young persons age", _age_label(a), int(total[a]), need[a], base[a])
            for a in [2, *range(3, 26)]
        ]
        for topic, label, count, per_need, in_base in cells:
            if label == "under 3":
                count = int(total[:3].sum())
                per_need = need[:3].sum(0)
                in_base = base[:3].sum(0)
            row = {"time_period": "202425", **lead, "breakdown_topic": topic,
                   "breakdown": label, "ehc_plans": str(count)}  # fmt: skip
            for k, name in enumerate(needs):
                row[f"number_{name}"] = str(int(per_need[k]))
                row[f"{name}_pc"] = f"{100 * per_need[k] / count:.1f}" if count else "z"
            unknown = count - int(per_need.sum())
            row["number_need_unknown"] = str(unknown)
            row["unknown_pc"] = f"{100 * unknown / count:.1f}" if count else "z"
            needs_rows.append(row)
            if topic == "All EHC plans":  # the caseload's time series: about 10% a year more
                for year in YEARS:
                    back = 1.1 ** (2025 - year)
                    series = {
                        c: str(round(int(v) / back))
                        for c, v in zip(BASE_COLUMNS, in_base, strict=True)
                    }
                    caseload_rows.append(
                        {"time_period": f"{year - 1}{year % 100:02d}", **lead,
                         "breakdown_topic": topic, "breakdown": label,
                         "ehcplans": str(round(count / back)), **series}
                    )  # fmt: skip
            else:
                caseload_rows.append(
                    {"time_period": "202425", **lead, "breakdown_topic": topic,
                     "breakdown": label, "ehcplans": str(count),
                     **{c: str(int(v)) for c, v in zip(BASE_COLUMNS, in_base, strict=True)}}
                )  # fmt: skip
    needs_table = pd.DataFrame.from_records(needs_rows).reindex(
        columns=NEEDS_COLUMNS, fill_value="x"
    )
    caseload = pd.DataFrame.from_records(caseload_rows).reindex(
        columns=CASELOAD_COLUMNS, fill_value="x"
    )
    return needs_table, caseload


SCENARIO = """\
# A national scenario: England, ranked authority by authority (sitefinder rank --workers N).
# Written by sitefinder.national.synthetic: every school, area and count is invented.
name = "Synthetic England (seed {seed})"
authority = "England"            # national: each authority is ranked on its own rows
bases = {bases}                        # new bases each authority's plan adds
top = {top}                          # ranked candidates listed per authority

[inputs.schools]
path = "establishments.csv"      # GIAS layout (Windows-1252), every authority
format = "gias"

[inputs]
areas = "areas.csv"              # LSOA points with their district's LAD code (LAD21CD)

[inputs.demand]
method = "modelled"
population = "population.csv"    # ONS layout: LSOA x single year of age
sen2_needs = "sen2_needs.csv"    # DfE SEN2 layout, every authority and England
sen2_caseload = "sen2_caseload.csv"

[selection]
method = "{method}"

[disclosure]
modelled = "protect"             # withhold small modelled figures too (the tests attack them)
"""


@dataclass(frozen=True)
class Synthetic:
    """A synthetic England to invent, and what its scenario asks for.

    Attributes
    ----------
    schools, areas
        Establishments (every type; about 1 in 50 closed) and LSOA-like areas in all.
    authorities
        How many of England's 153 authorities to invent data for (a seeded choice), or which
        (names, GSS or DfE LA codes).
    seed
        Seed of every random draw: the same specification writes the same bytes.
    bases, top, method
        The scenario's ``bases`` (new bases per authority), ``top`` (ranked candidates per
        authority) and ``selection.method``.
    """

    schools: int = 20_000
    areas: int = 34_000
    authorities: int | tuple[str, ...] = 150
    seed: int = 20240601
    bases: int = 2
    top: int = 5
    method: str = "greedy"


def write_synthetic_england(folder: str | Path, spec: Synthetic = Synthetic()) -> SyntheticEngland:
    """Write a seeded synthetic England in the real public layouts, and its scenario.

    Parameters
    ----------
    folder
        Where to write (created if missing; files of the same names are replaced).
    spec
        What to invent: sizes, authorities, seed and the scenario's settings.

    Returns
    -------
    SyntheticEngland
        The scenario file, the input files by role and the authorities.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    chosen = _pick_authorities(spec.authorities, rng)
    n = len(chosen)
    layout = _layout(n, rng)
    size = rng.gamma(2.0, 1.0, size=n)
    area_counts = _split(spec.areas, size, 8, rng)
    school_counts = _split(spec.schools, area_counts.astype(float), 6, rng)
    area_table = _areas(chosen, area_counts, layout, rng)
    school_table = _schools(chosen, school_counts, area_table, rng)
    population = _population(area_table, rng)
    ages = [str(a) for a in range(26)]
    people = (
        population[ages]
        .groupby(area_table["authority"].to_numpy())
        .sum()
        .reindex(range(n), fill_value=0)
        .to_numpy(dtype=np.int64)
    )
    needs, caseload = _sen2(chosen, people, rng)
    files = {
        "schools": folder / "establishments.csv",
        "areas": folder / "areas.csv",
        "population": folder / "population.csv",
        "sen2_needs": folder / "sen2_needs.csv",
        "sen2_caseload": folder / "sen2_caseload.csv",
    }
    school_table.to_csv(files["schools"], index=False, encoding="cp1252", lineterminator="\r\n")
    area_table.rename(columns={"lad_code": "LAD21CD", "lad_name": "LAD21NM"})[
        ["area_code", "area_name", "easting", "northing", "LAD21CD", "LAD21NM"]
    ].to_csv(files["areas"], index=False, lineterminator="\n", float_format="%.0f")
    population.to_csv(files["population"], index=False, lineterminator="\n")
    for key, table in (("sen2_needs", needs), ("sen2_caseload", caseload)):
        table.to_csv(files[key], index=False, encoding="utf-8-sig", lineterminator="\n")
    scenario = folder / "england.toml"
    scenario.write_text(
        SCENARIO.format(seed=spec.seed, bases=spec.bases, top=spec.top, method=spec.method),
        encoding="utf-8",
    )
    return SyntheticEngland(scenario, files, chosen, len(school_table), len(area_table))


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m sitefinder.national.synthetic FOLDER``: write a synthetic England."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--schools", type=int, default=20_000)
    parser.add_argument("--areas", type=int, default=34_000)
    parser.add_argument("--authorities", type=int, default=150)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    made = write_synthetic_england(
        args.folder,
        Synthetic(
            schools=args.schools, areas=args.areas, authorities=args.authorities, seed=args.seed
        ),
    )
    print(  # noqa: T201 - a script's output
        f"wrote {made.scenario}: {made.schools:,} establishments, {made.areas:,} areas,"
        f" {len(made.authorities)} authorities"
    )


if __name__ == "__main__":
    main()
