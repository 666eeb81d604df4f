"""Each reader on small files in the real public layouts, with hand-checked results."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import shapely
from layouts import (
    standard_gias,
    write_boundaries,
    write_population,
    write_postcodes,
    write_sen2_caseload,
    write_sen2_needs,
)

from sitefinder.config import BoundariesInput, DemandInput, SchoolsInput
from sitefinder.demand import Projection, fit_growth, modelled_demand
from sitefinder.readers.areas import area_points, read_boundaries
from sitefinder.readers.establishments import need_code, read_establishments, school_phase
from sitefinder.readers.population import read_population
from sitefinder.readers.postcodes import read_postcodes, tidy_postcode
from sitefinder.readers.pupils import pupil_counts
from sitefinder.readers.sen2 import counts, read_caseload, read_needs
from sitefinder.validate import Problems


def _gias(tmp_path: Path, **options: object):
    problems = Problems()
    postcodes = read_postcodes(write_postcodes(tmp_path / "onspd.csv"), problems)
    spec = SchoolsInput(path=standard_gias(tmp_path / "gias.csv"), format="gias", **options)
    found = read_establishments(spec, problems, postcodes=postcodes)
    return found, problems


def test_gias_reads_open_schools_of_one_authority(tmp_path):
    found, problems = _gias(tmp_path, authority="Trafford")
    assert problems.items == []
    schools = found.schools.set_index("urn")
    assert list(schools.index) == ["100001", "100002", "100003", "100005"]  # closed, Wigan out
    assert schools.loc["100001", "name"] == "St Anne\u2019s CofE Primary School"  # cp1252 0x92
    assert schools["establishment_group"].tolist() == [
        "mainstream", "mainstream", "special", "mainstream",
    ]  # fmt: skip
    assert schools["phase"].tolist() == ["primary", "secondary", "all-through", "primary"]
    assert math.isnan(schools.loc["100003", "capacity"])  # blank capacity stays unknown
    # blank Easting/Northing: located at the postcode 'zz9 9zz' -> ZZ9 9ZZ
    assert schools.loc["100005", ["easting", "northing"]].tolist() == [376500.0, 389500.0]
    assert found.notes[0].endswith(
        "read 4 open establishment(s) of Trafford (1 closed skipped): 3 mainstream, 1 special"
    )


def test_gias_bases_capacities_needs_and_special_hosts(tmp_path):
    found, _ = _gias(tmp_path, authority="358", default_base_capacity=12)
    bases = found.bases
    assert bases[["urn", "base_type", "phase", "capacity"]].values.tolist() == [
        ["100001", "sen_unit", "primary", 8.0],
        ["100002", "resourced_provision", "secondary", 12.0],  # default for a blank capacity
    ]
    assert bases["need_codes"].tolist()[0] == ("ASD", "SLCN")
    assert len(bases["need_codes"].tolist()[1]) == 12  # no labels: every need, with a warning
    text = " | ".join(found.warnings)
    assert "1 school(s) with a resourced provision or SEN unit flag are not mainstream:" in text
    assert "Brook Special School (100003)" in text
    assert "1 base(s) have no recorded capacity, so 12 places are assumed" in text
    assert "Hill Top Academy (100002)" in text


def test_gias_authority_by_gss_code_and_unknown_authority(tmp_path):
    found, _ = _gias(tmp_path, authority="e08000010")
    own = found.schools[~found.schools["cross_border"]]
    assert own["urn"].tolist() == ["200001"]
    # the other authority's special school and its schools with bases are kept, flagged, as
    # places across the border
    across = found.schools[found.schools["cross_border"]].set_index("urn")
    assert across["establishment_group"].to_dict() == {
        "100001": "mainstream", "100002": "mainstream", "100003": "special",
    }  # fmt: skip
    assert found.bases["cross_border"].all()
    found, problems = _gias(tmp_path, authority="Narnia")
    assert found is None
    assert problems.items[0].endswith(
        "no establishments for authority 'Narnia' (inputs.schools.authority matches LA (code),"
        " LA (name) or GSSLACode (name); the file has e.g. E08000009, E08000010)"
    )


def test_gias_with_two_authorities_needs_one_chosen(tmp_path):
    found, problems = _gias(tmp_path)
    assert found is None
    assert problems.items[0].endswith(
        "holds 2 local authorities; set the scenario's top-level authority (or"
        " inputs.schools.authority) to one LA name, GSS code or DfE LA code (e.g. Trafford,"
        " E08000009 or 358)"
    )


def test_special_urns_override_the_type_group(tmp_path):
    found, _ = _gias(tmp_path, authority="Trafford", special_urns=[100001])
    assert found.schools.set_index("urn").loc["100001", "establishment_group"] == "special"
    assert found.bases["urn"].tolist() == ["100002"]


@pytest.mark.parametrize(
    ("label", "low", "high", "phase"),
    [
        ("Primary", 4, 11, "primary"),
        ("Middle deemed secondary", 9, 13, "secondary"),
        ("All-through", 4, 18, "all-through"),
        ("16 plus", 16, 19, "other"),
        ("Not applicable", 2, 11, "primary"),
        ("Not applicable", 11, 19, "secondary"),
        ("Not applicable", 3, 19, "all-through"),
        ("", float("nan"), float("nan"), "other"),
    ],
)
def test_school_phase_from_label_then_ages(label, low, high, phase):
    assert school_phase(label, low, high) == phase


def test_need_labels_become_codes():
    assert need_code("ASD - Autistic Spectrum Disorder") == "ASD"
    assert need_code("SpLD - Specific Learning Difficulty") == "SpLD"
    assert need_code("semh") == "SEMH"
    assert need_code("Not Applicable") is None
    assert need_code("") is None


def test_mapped_table_with_value_maps(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text(
        "id,school,kind,lowest,highest,places,roll,resource,lon,lat,postcode\n"
        "1,North Primary,Academies,4,11,210,200,Unit,-2.35,53.40,M1 1AA\n"
        "2,South High,Special schools,11,19,100,90,NA,-2.30,53.41,M1 1AB\n"
        "3,East Primary,Local authority maintained schools,4,11,,,Not applicable,-2.33,53.42,"
        "M1 1AC\n",
        encoding="utf-8",
    )
    spec = SchoolsInput(
        path=path,
        format="mapped",
        columns={
            "urn": "id", "name": "school", "establishment_group": "kind", "low_age": "lowest",
            "high_age": "highest", "capacity": "places", "pupils": "roll",
            "base_type": "resource", "lon": "lon", "lat": "lat", "postcode": "postcode",
        },
        values={"base_type": {"Unit": "sen_unit"}},
    )  # fmt: skip
    problems = Problems()
    found = read_establishments(spec, problems)
    assert problems.items == []
    schools = found.schools.set_index("urn")
    assert schools["phase"].tolist() == ["primary", "secondary", "primary"]
    assert schools["establishment_group"].tolist() == ["mainstream", "special", "mainstream"]
    assert 370_000 < schools.loc["1", "easting"] < 380_000  # lon/lat -> EPSG:27700
    assert found.bases["base_type"].tolist() == ["sen_unit"]


def test_mapped_unknown_values_and_columns_are_reported(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text("id,school,resource\n1,A,Maybe\n2,B,NA\n", encoding="utf-8")
    spec = SchoolsInput(
        path=path, format="mapped", columns={"urn": "id", "name": "school", "base_type": "resource"}
    )
    problems = Problems()
    read_establishments(spec, problems)
    assert problems.items == [
        f"{path}: no location: map easting and northing, lon and lat, or postcode in"
        " [inputs.schools.columns]",
        f"{path}: column resource, line 2: unknown provision type; map it in"
        " [inputs.schools.values.base_type] to resourced_provision, sen_unit, both or none",
    ]
    spec = SchoolsInput(path=path, format="mapped", columns={"urn": "id", "name": "title"})
    problems = Problems()
    assert read_establishments(spec, problems) is None
    assert problems.items == [f"{path}: missing column title (named in [inputs.schools.columns])"]


def test_postcodes_normalised_and_terminated_dropped(tmp_path):
    problems = Problems()
    lookup = read_postcodes(write_postcodes(tmp_path / "onspd.csv"), problems)
    found = lookup.find(pd.Series([" zz1  1aa", "ZZ11AB", "ZZ3 3CC", "XX1 1XX"]))
    assert found["easting"].tolist()[:2] == [376000.0, 376200.0]
    assert found["easting"].isna().tolist() == [False, False, True, True]
    assert tidy_postcode(pd.Series(["zz11ab", " m1  1ae "])).tolist() == ["ZZ1 1AB", "M1 1AE"]


def test_sen2_suppressed_cells_are_missing_never_zero(tmp_path):
    assert counts(pd.Series(["12", "x", "c", "z", ":", "", "0"])).isna().tolist() == [
        False, True, True, True, True, True, False,
    ]  # fmt: skip
    problems = Problems()
    needs = read_needs(write_sen2_needs(tmp_path / "needs.csv"), problems, authority="358")
    assert needs.year == 2025 and needs.all_plans == 1200
    assert math.isnan(needs.plans.loc[7, "VI"]) and needs.plans.loc[8, "VI"] == 10
    caseload = read_caseload(
        write_sen2_caseload(tmp_path / "caseload.csv"), problems, authority="trafford"
    )
    assert caseload.latest_year == 2025
    assert caseload.base_share == pytest.approx(60 / 1464.1)
    assert problems.items == []


def test_sen2_unknown_authority(tmp_path):
    problems = Problems()
    path = write_sen2_needs(tmp_path / "needs.csv")
    assert read_needs(path, problems, authority="E09999999") is None
    assert problems.items == [
        f"{path}: no rows for authority 'E09999999' (inputs.demand.authority matches"
        " new_la_code, old_la_code or la_name, e.g. E08000009, 358 or Trafford; or England)"
    ]


def test_modelled_demand_by_hand(tmp_path):
    problems = Problems()
    population = read_population(write_population(tmp_path / "pop.csv"), problems)
    needs = read_needs(write_sen2_needs(tmp_path / "needs.csv"), problems, authority="358")
    assert population.loc["E01000001", 7] == 20  # the Persons row, not Persons + F + M
    table, notes = modelled_demand(
        population, needs, share=0.1, ages={"primary": (4, 10), "secondary": (11, 15)}
    )
    # rate = 10 plans / 80 residents per age; area 1 has 20 per age, 7 primary ages:
    # 20 x 7 x 0.125 x 0.1 = 1.75 per need (VI at age 7 is what the age's 120 plans leave
    # after the 11 known needs: 10).
    assert list(table.columns) == ["area_code", "phase", "need_code", "age", "children"]
    cell = table.groupby(["area_code", "phase", "need_code"])["children"].sum()
    assert cell["E01000001", "primary", "ASD"] == pytest.approx(1.75)
    assert cell["E01000001", "primary", "VI"] == pytest.approx(1.75)
    assert cell["E01000002", "secondary", "SEMH"] == pytest.approx(60 * 5 * 0.125 * 0.1)
    by_age = table.set_index(["area_code", "need_code", "age"])["children"]
    assert by_age["E01000001", "ASD", 4] == pytest.approx(20 * 0.125 * 0.1)
    assert sorted(table.loc[table["phase"] == "primary", "age"].unique()) == list(range(4, 11))
    assert notes == [
        "1 SEN2 need-by-age cell(s) at the planned ages have no number (suppressed or"
        " unavailable): estimated from what the age's total leaves, split by Trafford's need mix"
    ]


def test_projection_fits_the_yearly_growth(tmp_path):
    problems = Problems()
    needs = read_needs(write_sen2_needs(tmp_path / "needs.csv"), problems, authority="358")
    caseload = read_caseload(write_sen2_caseload(tmp_path / "c.csv"), problems, authority="358")
    growth = fit_growth(needs, caseload)
    assert growth.per_need["ASD"] == pytest.approx(0.10, abs=1e-9)  # 1000 x 1.1 ^ n
    population = read_population(write_population(tmp_path / "pop.csv"), problems)
    base, _ = modelled_demand(population, needs, share=0.1, ages={"primary": (4, 10)})
    later, notes = modelled_demand(
        population, needs, share=0.1, ages={"primary": (4, 10)},
        projection=Projection(growth, planning_year=2027),
    )  # fmt: skip
    assert later["children"].sum() == pytest.approx(base["children"].sum() * 1.21)
    assert "projected 2025 -> 2027 with yearly growth fitted on all plans" in notes[-1]
    assert "ASD +10.0%" in notes[-1]


def test_boundaries_points_from_postcodes_or_inside_polygon(tmp_path):
    problems = Problems()
    spec = BoundariesInput(
        path=write_boundaries(tmp_path / "lsoa.geojson"),
        code_column="lsoa21cd",
        name_column="lsoa21nm",
    )
    polygons = read_boundaries(spec, problems)
    lookup = read_postcodes(write_postcodes(tmp_path / "onspd.csv"), problems)
    areas, how = area_points(polygons, lookup)
    # E01000001 has three postcodes: mean of (376500, 389500), (376000, 389000), (376200, 389200)
    assert areas.loc[0, ["easting", "northing"]].tolist() == pytest.approx([376233.33, 389233.33])
    assert how == (
        "area points are the mean of each area's postcodes for 2 of 2 areas (the rest: a point"
        " inside the polygon)"
    )
    areas, how = area_points(polygons, None)
    assert polygons.geometry.iloc[1].contains(
        shapely.Point(areas.loc[1, "easting"], areas.loc[1, "northing"])
    )
    assert problems.items == []


def test_pupil_list_aggregates_and_reports_unmatched(tmp_path):
    problems = Problems()
    lookup = read_postcodes(write_postcodes(tmp_path / "onspd.csv"), problems)
    areas = pd.DataFrame(
        {"area_code": ["E01000001", "E01000002"], "easting": [376200.0, 379000.0],
         "northing": [389200.0, 392000.0]}
    )  # fmt: skip
    pupils = tmp_path / "pupils.csv"
    pupils.write_text(
        "pupil_id,postcode,primary_need,nc_year\n"
        "p1,ZZ1 1AA,ASD,R\n"
        "p2,zz1 1ab,ASD - Autistic Spectrum Disorder,Y3\n"
        "p3,ZZ2 2BB,SEMH,9\n"
        "p4,QQ1 1QQ,SEMH,9\n"
        "p5,ZZ2 2BB,SEMH,13\n",
        encoding="utf-8",
    )
    spec = DemandInput(
        method="pupils", path=pupils, ages={"primary": (4, 10), "secondary": (11, 15)}
    )
    table, warnings = pupil_counts(spec, problems, areas=areas, postcodes=lookup)
    assert problems.items == []
    assert table.values.tolist() == [
        ["E01000001", "primary", "ASD", 4, 1.0],  # Reception: 4 at the start of the year
        ["E01000001", "primary", "ASD", 7, 1.0],  # Year 3
        ["E01000002", "secondary", "SEMH", 13, 1.0],
    ]
    assert warnings == [
        f"{pupils}: <5 child(ren) are outside the planned ages (primary 4-10; secondary 11-15)"
        " and are not counted",
        f"{pupils}: <5 child(ren)'s postcode(s) not found in {lookup.source}; those children"
        " are not counted (correct the postcodes, or add them to inputs.postcodes; the"
        " postcodes are not shown, to protect the children)",
    ]
    assert not any("QQ1" in w or "ZZ2" in w for w in warnings)  # say how many, never which


def test_pupil_list_bad_values_listed(tmp_path):
    problems = Problems()
    lookup = read_postcodes(write_postcodes(tmp_path / "onspd.csv"), problems)
    areas = pd.DataFrame({"area_code": ["E01000001"], "easting": [1.0], "northing": [1.0]})
    pupils = tmp_path / "pupils.csv"
    pupils.write_text("postcode,need,age\nZZ1 1AA,Dyslexia,7\n,ASD,seven\n", encoding="utf-8")
    spec = DemandInput(method="pupils", path=pupils, ages={"primary": (4, 10)})
    pupil_counts(spec, problems, areas=areas, postcodes=lookup)
    assert problems.items == [
        f"{pupils}: column need, line 2: unknown need; use a code (ASD, SLCN, SEMH, MLD, SLD,"
        " PMLD, SpLD, HI, VI, MSI, PD, OTH)",
        f"{pupils}: column postcode, line 3: blank postcode (fill in the child's home postcode)",
        f"{pupils}: column age, line 3: not a number (write digits only)",
    ]


def test_mapped_geopackage_takes_locations_from_its_geometry(tmp_path):
    import geopandas as gpd

    path = tmp_path / "schools.gpkg"
    gpd.GeoDataFrame(
        {"ref": ["1", "2"], "school": ["North Primary", "South High"],
         "kind": ["Academies", "Academies"], "low": [4, 11], "high": [11, 16]},
        geometry=gpd.points_from_xy([-2.35, -2.30], [53.40, 53.41]),
        crs="EPSG:4326",
    ).to_file(path, layer="schools")  # fmt: skip
    spec = SchoolsInput(
        path=path,
        format="mapped",
        layer="schools",
        columns={"urn": "ref", "name": "school", "establishment_group": "kind",
                 "low_age": "low", "high_age": "high"},
    )  # fmt: skip
    problems = Problems()
    found = read_establishments(spec, problems)
    assert problems.items == []
    schools = found.schools.set_index("urn")
    assert schools["phase"].tolist() == ["primary", "secondary"]
    assert 370_000 < schools.loc["1", "easting"] < 380_000  # WGS84 point -> EPSG:27700
    assert 385_000 < schools.loc["1", "northing"] < 395_000
