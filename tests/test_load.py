from pathlib import Path

import pytest

from sitefinder.config import load_scenario
from sitefinder.errors import DataError
from sitefinder.load import load_inputs
from sitefinder.pipeline import check_inputs

SCHOOLS_HEADER = "urn,name,phase,establishment_group,capacity,pupils,easting,northing\n"


def problems(path: Path) -> list[str]:
    with pytest.raises(DataError) as caught:
        load_inputs(load_scenario(path))
    return caught.value.problems


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_inputs_load(demo_config):
    summary = check_inputs(load_scenario(demo_config))
    assert summary.schools == 81
    assert summary.mainstream == 74
    assert summary.existing_bases == 6
    assert summary.children == 104


def test_nonsense_values_are_listed_by_line(tmp_path, scenario_file):
    schools = write(
        tmp_path,
        "schools.csv",
        SCHOOLS_HEADER
        + "1,A,primary,mainstream,210,200,450000,300000\n"
        + "2,B,nursery,mainstream,-5,200,450000,300000\n"
        + "2,C,primary,academy,many,,450000,300000\n",
    )
    found = problems(scenario_file(inputs={"schools": str(schools)}))
    assert found[:6] == [
        f"{schools}: column urn, line 4: duplicate value (each must appear once)",
        f"{schools}: column phase, line 3: must be one of primary, secondary, all-through, other",
        f"{schools}: column establishment_group, line 4: must be one of mainstream, special,"
        " independent, pru, other",
        f"{schools}: column capacity, line 4: not a number (write digits only)",
        f"{schools}: column capacity, line 3: must be from 0 to 10,000",
        f"{schools}: column pupils, line 4: blank value (fill it in)",
    ]


def test_longitude_latitude_is_a_wrong_crs(tmp_path, scenario_file):
    schools = write(
        tmp_path,
        "schools.csv",
        SCHOOLS_HEADER + "1,A,primary,mainstream,210,200,-2.31,53.42\n",
    )
    found = problems(scenario_file(inputs={"schools": str(schools)}))
    assert (
        f"{schools}: columns easting/northing look like longitude/latitude; sitefinder needs"
        " British National Grid metres (EPSG:27700): convert them first"
    ) in found


def test_empty_and_header_only_files(tmp_path, scenario_file):
    empty = write(tmp_path, "empty.csv", "")
    header = write(tmp_path, "header.csv", "area_code,easting,northing\n")
    found = problems(scenario_file(inputs={"demand": str(empty), "areas": str(header)}))
    assert found == [
        f"{header}: has a header but no data rows",
        f"{empty}: file is empty (it needs a header row and data rows)",
    ]


def test_bases_must_sit_in_known_mainstream_schools(tmp_path, scenario_file):
    bases = write(
        tmp_path,
        "bases.csv",
        "urn,base_type,phase,capacity,need_codes\n"
        "123,sen_unit,primary,10,ASD\n"  # unknown school
        "990079,sen_unit,primary,10,ASD\n"  # a special school in the demo
        "990001,resourced_provision,secondary,10,ASD;XX\n",  # primary host, bad code
    )
    found = problems(scenario_file(inputs={"bases": str(bases)}))
    assert found == [
        f"{bases}: column need_codes, line 4: need codes separated by ';', each one of ASD,"
        " SLCN, SEMH, MLD, SLD, PMLD, SpLD, HI, VI, MSI, PD, OTH",
        f"{bases}: column urn, line 2: not a URN in the schools file (add the host school)",
        f"{bases}: column urn, line 3: host is not a mainstream school (inclusion bases sit in"
        " mainstream schools)",
        f"{bases}: column phase, line 4: does not match the host school's phase",
    ]


def test_demand_for_unknown_area(tmp_path, scenario_file):
    demand = write(
        tmp_path,
        "demand.csv",
        "area_code,phase,need_code,children\nE90000001,primary,ASD,2\nNOPE,primary,ASD,x\n",
    )
    found = problems(scenario_file(inputs={"demand": str(demand)}))
    assert found == [
        f"{demand}: column children, line 3: not a number (write digits only)",
        f"{demand}: column area_code, line 3: not an area_code in the areas file"
        " (add the area or fix the code)",
    ]


def test_windows_1252_text_is_read(tmp_path, scenario_file):
    schools = tmp_path / "schools.csv"
    row = "1,St Mary\u2019s,primary,mainstream,210,200,450000,317000\n"
    schools.write_bytes((SCHOOLS_HEADER + row).encode("cp1252"))
    bases = write(tmp_path, "bases.csv", "urn,base_type,phase,capacity,need_codes\n")
    scenario = load_scenario(scenario_file(inputs={"schools": str(schools), "bases": str(bases)}))
    data = load_inputs(scenario)
    assert data.schools["name"].tolist() == ["St Mary\u2019s"]
    assert data.bases.empty  # an authority with no bases yet is fine
