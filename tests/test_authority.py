"""An authority named once cuts every national input to it, in any of its three forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from layouts import standard_gias, write_sen2_caseload, write_sen2_needs

from sitefinder.authorities import all_authorities, find_authority
from sitefinder.config import SchoolsInput, load_scenario
from sitefinder.errors import DataError, ScenarioError
from sitefinder.load import load_inputs
from sitefinder.readers.establishments import read_establishments
from sitefinder.validate import Problems

# Two LSOAs of Trafford and one of Wigan, as in a national file (WGS84 squares).
LSOAS = [
    ("E01000001", "Trafford 001A", "E08000009", -2.36, 53.40),
    ("E01000002", "Trafford 001B", "E08000009", -2.32, 53.42),
    ("E01000003", "Wigan 001A", "E08000010", -2.62, 53.54),
]


def write_national_boundaries(path: Path, *, lad_column: bool) -> Path:
    """LSOA polygons of two authorities, with or without a LAD21CD column."""

    def square(x0: float, y0: float) -> list[list[list[float]]]:
        return [[[x0, y0], [x0 + 0.03, y0], [x0 + 0.03, y0 + 0.02], [x0, y0 + 0.02], [x0, y0]]]

    features = [
        {
            "type": "Feature",
            "properties": {"LSOA21CD": code, "LSOA21NM": name}
            | ({"LAD21CD": lad} if lad_column else {}),
            "geometry": {"type": "Polygon", "coordinates": square(x, y)},
        }
        for code, name, lad, x, y in LSOAS
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def write_national_population(path: Path) -> Path:
    """ONS mid-year estimates laid out as the national LSOA file: LAD and LSOA columns."""
    ages = ",".join(str(a) for a in range(90)) + ",90+"
    rows = [f"LAD 2021 Code,LAD 2021 Name,LSOA 2021 Code,LSOA 2021 Name,Total,{ages}"]
    for code, name, lad, _, _ in LSOAS:
        count = {"E01000001": 10, "E01000002": 30, "E01000003": 50}[code]
        rows.append(
            f"{lad},{name.split()[0]},{code},{name},{count * 91}," + ",".join([str(count)] * 91)
        )
    path.write_text("\n".join(rows) + "\n")
    return path


def write_national_postcodes(path: Path) -> Path:
    """ONSPD columns pcds, oseast1m, osnrth1m, lsoa21, laua for both authorities."""
    path.write_text(
        "pcds,oseast1m,osnrth1m,lsoa21,laua\n"
        "ZZ9 9ZZ,376500,389500,E01000001,E08000009\n"
        "ZZ1 1AA,376000,389000,E01000001,E08000009\n"
        "ZZ2 2BB,379000,392000,E01000002,E08000009\n"
        "WN1 1AA,358000,405000,E01000003,E08000010\n",
        encoding="utf-8",
    )
    return path


def _scenario(tmp_path: Path, authority: str, *, lad_column: bool = False, extra: str = "") -> Path:
    path = tmp_path / "national.toml"
    path.write_text(
        f'authority = "{authority}"\n{extra}\n'
        "[inputs]\n"
        f'postcodes = "{write_national_postcodes(tmp_path / "onspd.csv")}"\n'
        "[inputs.schools]\n"
        f'path = "{standard_gias(tmp_path / "gias.csv")}"\n'
        'format = "gias"\n'
        "[inputs.boundaries]\n"
        f'path = "{write_national_boundaries(tmp_path / "lsoa.geojson", lad_column=lad_column)}"\n'
        'code_column = "LSOA21CD"\nname_column = "LSOA21NM"\n'
        "[inputs.demand]\n"
        'method = "modelled"\n'
        f'population = "{write_national_population(tmp_path / "population.csv")}"\n'
        f'sen2_needs = "{write_sen2_needs(tmp_path / "needs.csv")}"\n'
        f'sen2_caseload = "{write_sen2_caseload(tmp_path / "caseload.csv")}"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("form", ["Trafford", "trafford", "E08000009", "e08000009", "358"])
def test_any_form_names_the_same_authority(form):
    found = find_authority(form)
    assert found is not None
    assert (found.name, found.gss_code, found.la_code) == ("Trafford", "E08000009", "358")


def test_the_table_holds_every_authority_once():
    table = all_authorities()
    assert len(table) == 153  # local authorities in the DfE SEN2 2025 files
    assert len({a.gss_code for a in table}) == len({a.la_code for a in table}) == 153
    rutland = find_authority("857")
    assert rutland is not None and rutland.label == "Rutland (E06000017, LA 857)"
    # The DfE files North Yorkshire under its county code; ONS files carry the unitary code.
    york = find_authority("E06000065")
    assert (
        york is not None
        and york.name == "North Yorkshire"
        and york.lad_codes == {"E10000023", "E06000065"}
    )
    hull = find_authority("Kingston upon Hull")  # the DfE's name without ", City of"
    assert hull is not None and hull.la_code == "810"
    assert find_authority("Narnia") is None


def test_an_unknown_authority_is_a_scenario_error(scenario_file):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario_file('authority = "Traford"\n'))
    assert caught.value.problems[0].endswith(
        "authority: 'Traford' is not a local authority in England (did you mean Trafford or"
        " Bradford?); give its name (Trafford), GSS code (E08000009) or DfE LA code (358), as in"
        " the DfE SEN2 files"
    )


def test_national_inputs_are_cut_to_the_authority(tmp_path):
    scenario = load_scenario(_scenario(tmp_path, "358"))
    assert scenario.inputs.demand.authority is None
    assert scenario.sen2_authority == "Trafford"  # SEN2 rows by the DfE's name
    data = load_inputs(scenario)
    assert "200001" not in set(data.schools["urn"])  # Wigan's school
    assert sorted(data.areas["area_code"]) == ["E01000001", "E01000002"]
    assert set(data.demand["area_code"]) == {"E01000001", "E01000002"}
    assert data.boundaries is not None and len(data.boundaries) == 2
    onspd, lsoa, population = (
        tmp_path / "onspd.csv",
        tmp_path / "lsoa.geojson",
        tmp_path / "population.csv",
    )
    assert f"{onspd}: kept 3 of 4 postcodes (by laua)" in data.notes
    assert f"{lsoa}: kept 2 of 3 rows, Trafford's (by the area names in LSOA21NM)" in data.notes
    assert f"{population}: kept 2 of 3 rows, Trafford's (by LAD 2021 Code)" in data.notes
    assert any(
        n.startswith("demand modelled: population x Trafford's EHC-plan rates") for n in data.notes
    )


def test_a_sweep_over_authorities_moves_every_input(tmp_path):
    from sitefinder.config import with_settings

    scenario = with_settings(load_scenario(_scenario(tmp_path, "Trafford")), {"authority": "857"})
    assert (scenario.authority, scenario.sen2_authority) == ("857", "Rutland")


def test_modelled_demand_needs_an_authority_somewhere(tmp_path):
    path = _scenario(tmp_path, "Trafford")
    path.write_text(path.read_text().replace('authority = "Trafford"\n', ""))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == [
        f"{path}: inputs.demand.authority: required for method 'modelled' (or name the"
        " authority once with the top-level authority key)"
    ]


def test_a_lad_column_cuts_boundaries_when_present(tmp_path):
    data = load_inputs(load_scenario(_scenario(tmp_path, "Trafford", lad_column=True)))
    assert sorted(data.boundaries["area_code"]) == ["E01000001", "E01000002"]  # type: ignore[index]
    assert f"{tmp_path / 'lsoa.geojson'}: kept 2 of 3 rows, Trafford's (by LAD21CD)" in data.notes


def test_per_input_keys_stay_overrides(tmp_path):
    # The schools file's own key wins over the scenario's authority; the other inputs follow the
    # scenario's (here Wigan's school is kept while areas are Trafford's).
    path = _scenario(tmp_path, "Trafford", extra="")
    text = path.read_text().replace('format = "gias"\n', 'format = "gias"\nauthority = "Wigan"\n')
    path.write_text(text)
    data = load_inputs(load_scenario(path))
    assert data.schools.loc[~data.schools["cross_border"], "urn"].tolist() == ["200001"]
    # Trafford's special school and its bases, next to the areas, are places across Wigan's
    # border; none is Wigan's own base
    assert data.schools.loc[data.schools["cross_border"], "urn"].tolist() == [
        "100001", "100002", "100003",
    ]  # fmt: skip
    assert data.bases.empty and set(data.border_bases["urn"]) == {"100001", "100002"}
    assert sorted(data.areas["area_code"]) == ["E01000001", "E01000002"]


def test_an_authority_missing_from_a_national_file_is_listed(tmp_path):
    with pytest.raises(DataError) as caught:
        load_inputs(load_scenario(_scenario(tmp_path, "Rutland")))
    found = caught.value.problems
    assert (
        f"{tmp_path / 'onspd.csv'}: no postcodes of authority Rutland (E06000017, LA 857) in"
        " column laua (check the top-level authority, or that the file covers it)" in found
    )
    assert any(
        p.startswith(f"{tmp_path / 'gias.csv'}: no establishments for authority Rutland")
        for p in found
    )
    assert any(
        p.startswith(f"{tmp_path / 'lsoa.geojson'}: no rows for authority Rutland") for p in found
    )


def test_a_county_is_cut_through_its_districts(tmp_path):
    # A county council's postcodes carry its districts' LAD codes and the county code (cty).
    onspd = tmp_path / "onspd.csv"
    onspd.write_text(
        "pcds,oseast1m,osnrth1m,lsoa21,laua,cty\n"
        "BB1 1AA,368000,428000,E01000011,E07000117,E10000017\n"  # Burnley, Lancashire
        "LA1 1AA,347000,461000,E01000012,E07000121,E10000017\n"  # Lancaster, Lancashire
        "CA1 1AA,340000,556000,E01000013,E06000063,E99999999\n",  # Cumberland (unitary)
        encoding="utf-8",
    )
    problems = Problems()
    notes: list[str] = []
    from sitefinder.readers.postcodes import read_postcodes

    lancashire = find_authority("Lancashire")
    assert lancashire is not None and lancashire.is_county and not lancashire.lad_codes
    lookup = read_postcodes(onspd, problems, authority=lancashire, notes=notes)
    assert problems.items == [] and lookup is not None
    assert lookup.districts == {"E07000117", "E07000121"}
    assert notes == [f"{onspd}: kept 2 of 3 postcodes (by cty)"]
    population = tmp_path / "population.csv"
    ages = ",".join(str(a) for a in range(91))
    population.write_text(
        f"lad21cd,lsoa21cd,{ages}\n"
        + "".join(f"{lad},{code}," + ",".join(["5"] * 91) + "\n" for code, lad in (
            ("E01000011", "E07000117"), ("E01000012", "E07000121"), ("E01000013", "E06000063")
        ))
    )  # fmt: skip
    from sitefinder.readers.population import read_population

    kept = read_population(
        population, problems, authority=lancashire.with_districts(lookup.districts), notes=notes
    )
    assert kept is not None and list(kept.index) == ["E01000011", "E01000012"]


def test_mapped_table_cut_by_a_mapped_authority_column(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text(
        "urn,name,la,easting,northing\n"
        "1,North Primary,Trafford,376000,389000\n"
        "2,South Primary,Wigan,358000,405000\n",
        encoding="utf-8",
    )
    columns = {"urn": "urn", "name": "name", "authority": "la", "easting": "easting",
               "northing": "northing"}  # fmt: skip
    problems = Problems()
    trafford = find_authority("E08000009")
    found = read_establishments(
        SchoolsInput(path=path, format="mapped", columns=columns), problems, authority=trafford
    )
    assert problems.items == [] and found is not None
    assert found.schools["urn"].tolist() == ["1"]
    # Without an authority column the table is taken as the authority's, and said so.
    del columns["authority"]
    found = read_establishments(
        SchoolsInput(path=path, format="mapped", columns=columns), problems, authority=trafford
    )
    assert found is not None and found.schools["urn"].tolist() == ["1", "2"]
    assert (
        f"{path}: no authority column, so every establishment is taken as Trafford (E08000009,"
        " LA 358)'s (map one onto 'authority' in [inputs.schools.columns] to cut a wider table)"
    ) in found.notes
    # ... but naming one for this file alone needs a column to match.
    problems = Problems()
    spec = SchoolsInput(path=path, format="mapped", columns=columns, authority="Trafford")
    assert read_establishments(spec, problems) is None
    assert problems.items == [
        f"{path}: inputs.schools.authority is 'Trafford' but no column says which authority each"
        " school is in (map one onto 'authority' in [inputs.schools.columns], or leave"
        " inputs.schools.authority out)"
    ]


def test_demand_authority_given_explicitly_is_kept(tmp_path):
    path = _scenario(tmp_path, "Trafford")
    path.write_text(
        path.read_text().replace(
            'method = "modelled"\n', 'method = "modelled"\nauthority = "England"\n'
        )
    )
    assert load_scenario(path).inputs.demand.authority == "England"


def test_authority_rows_of_the_population_lines_stay_the_files(tmp_path):
    # A bad cell in a kept row is reported at its line in the whole file.
    population = write_national_population(tmp_path / "population.csv")
    lines = population.read_text().splitlines()
    lines[2] = lines[2].replace(",30,30,", ",30,x,", 1)
    population.write_text("\n".join(lines) + "\n")
    from sitefinder.readers.population import read_population

    problems = Problems()
    read_population(population, problems, authority=find_authority("Trafford"), notes=[])
    assert len(problems.items) == 1 and "line 3" in problems.items[0]
