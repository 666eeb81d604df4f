"""England's national files read for one authority (issue 26): population by age band, the
DfE school-level census files joined by URN, a district lookup for a county council, a
GeoPackage cut by an SQL filter, and the errors when files and authority do not meet."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from sitefinder.authorities import find_authority
from sitefinder.readers.census import AGE_SHARE, apply_census, census_layout, sen_layout
from sitefinder.readers.districts import read_districts
from sitefinder.readers.population import read_population
from sitefinder.readers.population_bands import band_columns, covers, spread_bands
from sitefinder.validate import Problems

BANDS = ["pop_0_4", "pop_5_11", "pop_12_17", "pop_18_24", "pop_25_34", "pop_75_plus"]


# --- population by age band ----------------------------------------------------------------------


def test_band_names_in_the_layouts_files_use():
    found = band_columns(
        ["LSOA21CD", "pop_0_4", "Aged 5 to 11", "12-17", "pop_75_plus", "75+x", "age_5", "5"]
    )
    assert found == {(0, 4): "pop_0_4", (5, 11): "Aged 5 to 11", (12, 17): "12-17",
                     (75, 90): "pop_75_plus"}  # fmt: skip
    assert covers(found, 4, 15) and not covers({(0, 4): "a", (6, 11): "b"}, 4, 11)
    assert not covers({(0, 5): "a", (5, 11): "b"}, 4, 11)  # age 5 twice


def test_each_band_is_spread_evenly_over_its_years():
    counts = pd.DataFrame({"a": [50.0], "b": [70.0], "c": [12.0], "d": [160.0]})
    bands = {(0, 4): "a", (5, 11): "b", (12, 17): "c", (75, 90): "d"}
    years = spread_bands(counts, bands, oldest=25)
    assert years.loc[0, [0, 4]].tolist() == [10.0, 10.0]
    assert years.loc[0, [5, 11]].tolist() == [10.0, 10.0]
    assert years.loc[0, 12] == pytest.approx(2.0) and years.loc[0, 18] == 0.0  # no 18-24 band
    assert years.loc[0].sum() == pytest.approx(50 + 70 + 12)  # 75+ is past age 25


def _layer(path: Path, rows: list[dict[str, object]]) -> Path:
    shapes = [box(-2.3 + 0.01 * i, 53.4, -2.29 + 0.01 * i, 53.41) for i in range(len(rows))]
    frame = gpd.GeoDataFrame(rows, geometry=shapes, crs=4326)
    frame.to_file(path, layer="lsoa2021", driver="GPKG")
    return path


def _area(code: str, lad: str, name: str, **bands: int) -> dict[str, object]:
    counts = {"pop_0_4": 50, "pop_5_11": 70, "pop_12_17": 60, "pop_18_24": 70, "pop_25_34": 100,
              "pop_75_plus": 30}  # fmt: skip
    counts.update(bands)
    return {"LSOA21CD": code, "LSOA21NM": name, "LAD24CD": lad, **counts}


def test_a_geopackage_s_bands_are_read_cut_to_the_authority(tmp_path):
    path = _layer(
        tmp_path / "lsoa.gpkg",
        [
            _area("E01000001", "E08000009", "Trafford 001A"),
            _area("E01000002", "E08000009", "Trafford 001B", pop_5_11=140),
            _area("E01006000", "E08000010", "Wigan 001A"),
        ],
    )
    problems, notes = Problems(), list[str]()
    people = read_population(path, problems, authority=find_authority("Trafford"), notes=notes)
    assert not problems.items and people is not None
    assert list(people.index) == ["E01000001", "E01000002"]  # Wigan's area is not read
    assert people.loc["E01000001", 4] == 10 and people.loc["E01000002", 7] == 20
    assert people.loc["E01000001", 12] == 10 and people.loc["E01000001", 25] == 10
    assert any("kept 2 of 3 rows, Trafford's (by LAD24CD)" in n for n in notes)
    assert any("spread evenly" in n for n in notes)


def test_bands_with_a_gap_at_school_age_are_an_error(tmp_path):
    rows = [_area("E01000001", "E08000009", "Trafford 001A")]
    frame = pd.DataFrame(rows).drop(columns=["pop_12_17"])
    path = tmp_path / "population.csv"
    frame.to_csv(path, index=False)
    problems = Problems()
    assert read_population(path, problems, authority=find_authority("Trafford")) is None
    assert "do not cover every age from 4 to 15" in problems.items[0]


def test_a_band_that_is_not_a_number_is_named_with_its_line(tmp_path):
    path = tmp_path / "population.csv"
    path.write_text(
        "LSOA21CD,LSOA21NM,pop_0_4,pop_5_11,pop_12_17\n"
        "E01000001,Trafford 001A,5,7,6\n"
        "E01000002,Trafford 001B,5,seven,6\n",
        encoding="utf-8",
    )
    problems = Problems()
    assert read_population(path, problems, authority=find_authority("Trafford")) is None
    assert any("pop_5_11 (ages 5-11)" in p and "line 3" in p for p in problems.items), problems


# --- a county council's districts ----------------------------------------------------------------

LOOKUP = (
    "LAD24CD,LAD24NM,LA (code),LA (name),LA GSS code (SEN2 new_la_code)\n"
    "E07000105,Ashford,886,Kent,E10000016\n"
    "E07000106,Canterbury,886,Kent,E10000016\n"
    "E08000009,Trafford,358,Trafford,E08000009\n"
)


def test_a_county_s_areas_are_cut_by_its_districts(tmp_path):
    lookup = tmp_path / "lookup.csv"
    lookup.write_text(LOOKUP, encoding="utf-8")
    kent = find_authority("Kent")
    assert kent is not None and kent.is_county
    problems, notes = Problems(), list[str]()
    codes = read_districts(lookup, problems, authority=kent, notes=notes)
    assert codes == {"E07000105", "E07000106"} and not problems.items
    path = _layer(
        tmp_path / "lsoa.gpkg",
        [
            _area("E01024000", "E07000105", "Ashford 001A"),
            _area("E01024100", "E07000106", "Canterbury 001A"),
            _area("E01000001", "E08000009", "Trafford 001A"),
        ],
    )
    people = read_population(path, Problems(), authority=kent.with_districts(codes))
    assert people is not None and list(people.index) == ["E01024000", "E01024100"]
    # Without its districts the county cannot be cut: Trafford's rows are there, an error
    problems = Problems()
    assert read_population(path, problems, authority=kent) is None
    assert (
        "holds other authorities' rows (Trafford) and cannot be cut to Kent" in (problems.items[0])
    )
    assert "inputs.districts" in problems.items[0]


def test_a_lookup_without_the_authority_or_a_lad_column_is_an_error(tmp_path):
    lookup = tmp_path / "lookup.csv"
    lookup.write_text(LOOKUP, encoding="utf-8")
    problems = Problems()
    read_districts(lookup, problems, authority=find_authority("Rutland"), notes=[])  # type: ignore[arg-type]
    assert "no district of Rutland" in problems.items[0]
    lookup.write_text("district,authority\nAshford,Kent\n", encoding="utf-8")
    problems = Problems()
    read_districts(lookup, problems, authority=find_authority("Kent"), notes=[])  # type: ignore[arg-type]
    assert "not a district lookup" in problems.items[0]


# --- the school census files ---------------------------------------------------------------------


def _schools(rows: list[tuple[str, str, str, float, float, float]]) -> pd.DataFrame:
    """Schools as the schools reader gives them, with the fields a GIAS subset lacks blank."""
    return pd.DataFrame(
        {
            "urn": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "phase": [r[2] for r in rows],
            "establishment_group": "mainstream",
            "gender": "",
            "admissions_policy": "",
            "statutory_low_age": [r[3] for r in rows],
            "statutory_high_age": [r[4] for r in rows],
            "pupils": [r[5] for r in rows],
            "ehcp_pupils": np.nan,
            "cross_border": False,
        }
    )


def _census_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    header = [
        "time_period",
        "urn",
        "school_name",
        "sex_of_school_description",
        "admissions_policy",
        "headcount of pupils",
    ] + [f"age_{a}" for a in range(20)]
    lines = [",".join(header)]
    for row in rows:
        ages = row["ages"]
        assert isinstance(ages, dict)
        cells = ["202223", str(row["urn"]), "School", str(row["sex"]), str(row["admissions"]),
                 str(sum(ages.values())), *(str(ages.get(a, 0)) for a in range(20))]  # fmt: skip
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_census_files_fill_what_the_schools_file_lacks(tmp_path):
    infant = {4: 30, 5: 30, 6: 29, 7: 1}  # one child held back: 1 < 25% of 30
    secondary = {11: 200, 12: 200, 13: 190, 14: 190, 15: 180, 16: 40}  # sixth form under 25%
    census = _census_csv(
        tmp_path / "spc_school_level_2022-23.csv",
        [
            {"urn": "1", "sex": "Mixed", "admissions": "Not applicable", "ages": infant},
            {"urn": "2", "sex": "Girls", "admissions": "Selective", "ages": secondary},
            {"urn": "9", "sex": "Boys", "admissions": "Selective", "ages": {11: 5}},
        ],
    )
    sen = tmp_path / "sen_school_level_2022-23.csv"
    sen.write_text(
        "urn,la_name,school_name,Total pupils,SEN support,EHC plan,Total Sen\n"
        "1,Trafford,Infant,90,10,9,19\n2,Trafford,High,1000,100,20,120\n",
        encoding="utf-8",
    )
    schools = _schools(
        [
            ("1", "Infant", "primary", np.nan, np.nan, 100.0),
            ("2", "High", "secondary", 11.0, 19.0, np.nan),  # its own ages are kept
            ("3", "New Academy", "primary", np.nan, np.nan, 200.0),  # opened since
        ]
    )
    problems = Problems()
    filled = apply_census(schools, census=census, sen=sen, problems=problems)
    assert not problems.items and filled is not None
    out = filled.schools.set_index("urn")
    assert out.loc["1", ["gender", "admissions_policy"]].tolist() == ["mixed", "not applicable"]
    assert out.loc["2", ["gender", "admissions_policy"]].tolist() == ["girls", "selective"]
    assert out.loc["1", ["statutory_low_age", "statutory_high_age"]].tolist() == [4, 7]
    assert out.loc["2", ["statutory_low_age", "statutory_high_age"]].tolist() == [11, 19]
    assert out.loc["2", "pupils"] == 1000  # blank in the schools file: the census headcount
    assert out.loc["1", "pupils"] == 100  # the schools file's own roll is kept
    # the census's share of pupils with EHC plans (9 of 90) x today's roll (100)
    assert out.loc["1", "ehcp_pupils"] == pytest.approx(10.0)
    assert out.loc["2", "ehcp_pupils"] == pytest.approx(20.0)
    assert np.isnan(out.loc["3", "ehcp_pupils"]) and out.loc["3", "gender"] == ""
    assert any("school census, January 2023: 2 of 3 schools" in n for n in filled.notes)
    assert any("SEN census, January 2023" in n for n in filled.notes)
    assert len(filled.warnings) == 2
    assert all("1 of 3 mainstream schools" in w and "New Academy (3)" in w for w in filled.warnings)
    assert AGE_SHARE == 0.25


def test_the_published_age_columns_are_added_together(tmp_path):
    ages = range(2, 20)
    header = ["urn", "sex_of_school_description", "admissions_policy"] + [
        f"{time}-time {sex} aged {a}" for a in ages for time in ("full", "part")
        for sex in ("boys", "girls")
    ]  # fmt: skip
    assert census_layout(header) is not None
    cells = {f"full-time girls aged {a}": "15" for a in range(7, 11)}
    cells |= {f"full-time boys aged {a}": "15" for a in range(7, 11)}
    row = ["5", "Mixed", "Not applicable"] + [cells.get(h, "0") for h in header[3:]]
    path = tmp_path / "spc_school_level_2023-24.csv"
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    schools = _schools([("5", "Junior", "primary", np.nan, np.nan, 120.0)])
    filled = apply_census(schools, census=path, sen=None, problems=Problems())
    assert filled is not None
    school = filled.schools.iloc[0]
    assert (school["statutory_low_age"], school["statutory_high_age"]) == (7, 11)
    assert any("January 2024" in n for n in filled.notes)  # the year from the name


def test_a_census_file_in_another_layout_or_with_bad_cells_is_an_error(tmp_path):
    schools = _schools([("1", "Infant", "primary", np.nan, np.nan, 100.0)])
    wrong = tmp_path / "sen.csv"
    wrong.write_text("urn,Total pupils,SEN support\n1,90,10\n", encoding="utf-8")  # no EHC plan
    problems = Problems()
    assert apply_census(schools, census=None, sen=wrong, problems=problems) is None
    assert "not a school-level SEN file: needs urn, EHC plan and Total pupils" in problems.items[0]
    assert sen_layout(["urn", "EHC plan", "Total pupils"]) is not None
    bad = _census_csv(
        tmp_path / "spc.csv",
        [{"urn": "1", "sex": "Mixed", "admissions": "Sometimes", "ages": {4: 30}}],
    )
    problems = Problems()
    assert apply_census(schools, census=bad, sen=None, problems=problems) is None
    assert "admissions_policy" in problems.items[0] and "line 2" in problems.items[0]


# --- hosts across the border ---------------------------------------------------------------------


def _pair(tmp_path: Path, *, hosts_across: bool) -> Path:
    """Trafford's children in one area; its own primary 4 km away, Manchester's 1 km away
    across the border, and Manchester's special school 2 km away."""
    from layouts import GiasSchool, write_gias

    manchester = ("352", "Manchester", "E08000003")
    gias = write_gias(
        tmp_path / "gias.csv",
        [
            GiasSchool("100001", "Home Primary", xy=("381000", "390000")).row(),
            GiasSchool("200001", "Over The Border Primary", xy=("378000", "390000"),
                       la=manchester).row(),
            GiasSchool("200002", "Over The Border Special", group="Special schools",
                       kind="Community special school", xy=("379000", "390000"), capacity="2",
                       pupils="1", la=manchester).row(),
        ],
    )  # fmt: skip
    (tmp_path / "areas.csv").write_text(
        "area_code,area_name,easting,northing\nA,Town,377000,390000\n", encoding="utf-8"
    )
    (tmp_path / "demand.csv").write_text(
        "area_code,phase,need_code,children\nA,primary,ASD,12\n", encoding="utf-8"
    )
    path = tmp_path / "s.toml"
    path.write_text(
        'authority = "Trafford"\nphases = ["primary"]\nbases = 1\nbase_size = 10\n'
        f"[candidates]\ncross_border = {'true' if hosts_across else 'false'}\n"
        "min_spare_places = 0\n"
        f'[inputs.schools]\npath = "{gias.name}"\nformat = "gias"\n'
        '[inputs]\nareas = "areas.csv"\ndemand = "demand.csv"\n',
        encoding="utf-8",
    )
    return path


def test_a_school_across_the_border_hosts_only_when_allowed_and_is_flagged(tmp_path):
    import json

    from sitefinder import load_scenario, rank
    from sitefinder.report import to_json
    from sitefinder.supply import CROSS_BORDER_NOTE

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    allowed = rank(load_scenario(_pair(tmp_path / "a", hosts_across=True)))
    home_only = rank(load_scenario(_pair(tmp_path / "b", hosts_across=False)))
    # Without the key Manchester's primary is never a host; the special school across the
    # border is a fallback place in both runs (children are Trafford's own either way)
    assert set(home_only.ranking["urn"]) == {"100001"}
    assert set(allowed.ranking["urn"]) == {"100001", "200001"}
    first = allowed.ranking.iloc[0]
    assert first["urn"] == "200001"  # 1 km against 4 km
    assert CROSS_BORDER_NOTE in first["notes"]
    plan = allowed.plan.chosen.set_index("urn")
    assert "200001" in plan.index and CROSS_BORDER_NOTE in plan.loc["200001", "caveats"]
    document = json.loads(to_json(allowed, top=3))
    assert any(CROSS_BORDER_NOTE in str(row) for row in document["ranking"])
    specials = allowed.special_schools.set_index("urn")
    assert bool(specials.loc["200002", "cross_border"])
    assert any("may host a new base (candidates.cross_border)" in n for n in allowed.data.notes)
