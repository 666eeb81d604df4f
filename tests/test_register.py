"""A register of existing bases, read as published through a column mapping."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sitefinder.config import BasesInput, _default_need_groups, load_scenario
from sitefinder.errors import DataError
from sitefinder.load import load_inputs
from sitefinder.readers.bases import read_register
from sitefinder.validate import Problems

SCHOOLS = pd.DataFrame(
    {
        "urn": ["1", "2", "3", "4"],
        "name": ["Hill College", "Oak Primary", "Vale Primary", "Brook Special"],
        "phase": ["secondary", "primary", "primary", "all-through"],
        "establishment_group": ["mainstream", "mainstream", "mainstream", "special"],
        "easting": [380000.0, 381000.0, 382000.0, 383000.0],
        "northing": [300000.0, 301000.0, 302000.0, 303000.0],
    }
)


def write_register(path: Path) -> Path:
    """A register laid out as a council or data team publishes one (cf. bases_rutland.csv)."""
    path.write_text(
        "urn,name,phase,base_name,base_type,need_codes,places_min,places_max,on_roll,source\n"
        "1,Hill College,secondary,Enhanced Resourced Provision,resourced_provision,ASD;SLCN,"
        "10,15,12,https://example.org/a\n"
        "2,Oak Primary,primary,Designated Specialist Provision,resourced_provision,"
        "SpLD;MLD;asd,,,,https://example.org/b\n"
        "3,Vale Primary,primary,The Nest,other,SEMH,,,7,https://example.org/c\n"
        "1,Hill College,secondary,Mainstream plus,other,,,,,https://example.org/d\n",
        encoding="utf-8",
    )
    return path


def _read(spec: BasesInput):
    problems = Problems()
    groups = _default_need_groups()  # the Code of Practice's four broad areas
    found = read_register(spec, problems, schools=SCHOOLS, need_groups=groups, default_places=8)
    return found, problems


def test_published_register_through_a_mapping(tmp_path):
    path = write_register(tmp_path / "bases.csv")
    spec = BasesInput(
        path=path,
        columns={"places": "places_max"},
        values={"base_type": {"other": "none"}},
    )
    found, problems = _read(spec)
    assert problems.items == [] and found is not None
    bases = found.bases
    assert bases[["urn", "phase", "capacity", "capacity_assumed"]].values.tolist() == [
        ["1", "secondary", 15.0, False],
        ["2", "primary", 8.0, True],  # no places: the default, with a warning
    ]
    assert bases["need_codes"].tolist() == [("ASD", "SLCN"), ("SpLD", "MLD", "ASD")]
    assert bases["on_roll"].iloc[0] == 12 and math.isnan(bases["on_roll"].iloc[1])
    assert bases[["easting", "northing"]].iloc[0].tolist() == [380000.0, 300000.0]
    assert found.warnings == [
        f"{path}: 1 base(s) have no places in the register, so 8 places are assumed"
        " (inputs.schools.default_base_capacity): Oak Primary (2) 'Designated Specialist"
        " Provision'"
    ]
    assert found.notes == [
        f"{path}: left out 2 row(s) whose base_type is none (not an inclusion base): Vale"
        " Primary (3) 'The Nest', Hill College (1) 'Mainstream plus'",
        f"existing bases from the register {path}: 2 base(s), 23 places, 12 children on roll",
    ]


def test_register_by_need_groups_and_on_roll_over_places(tmp_path):
    path = tmp_path / "bases.csv"
    path.write_text(
        "urn,phase,need_groups,places,on_roll\n"
        "1,secondary,Communication and interaction,10,11\n"
        "2,primary,semh;sensory_physical,6,2\n",
        encoding="utf-8",
    )
    found, problems = _read(BasesInput(path=path))
    assert problems.items == [] and found is not None
    assert found.bases["need_codes"].tolist() == [
        ("ASD", "SLCN"),
        ("SEMH", "HI", "VI", "MSI", "PD"),
    ]
    assert found.warnings == [
        f"{path}: 1 base(s) have more children on roll than places: Hill College (1)"
    ]


def test_register_problems_are_listed_by_line(tmp_path):
    path = tmp_path / "bases.csv"
    path.write_text(
        "urn,phase,need_codes,places,base_type\n"
        "1,secondary,ASD;XYZ,10,resourced_provision\n"  # unknown code
        "4,all-through,SEMH,0,unit\n"  # special host, zero places, unknown type
        "9,tertiary,ASD,10,sen_unit\n"  # unknown school, unknown phase
        "3,secondary,SEMH,10,sen_unit\n",  # a primary school's base said to be secondary
        encoding="utf-8",
    )
    _, problems = _read(BasesInput(path=path))
    assert problems.items == [
        f"{path}: column base_type, line 3: must be one of resourced_provision, sen_unit, or"
        " none to leave the row out (translate other labels in"
        " [inputs.bases.values.base_type])",
        f"{path}: column phase, line 4: must be one of primary, secondary, all-through"
        " (translate other labels in [inputs.bases.values.phase])",
        f"{path}: column need_codes, line 2: need codes separated by ';', each one of ASD, SLCN,"
        " SEMH, MLD, SLD, PMLD, SpLD, HI, VI, MSI, PD, OTH",
        f"{path}: column places, line 3: must be from 1 to 500",
        f"{path}: column urn, line 4: not a URN in the schools file (add the host school)",
        f"{path}: column urn, line 3: host is not a mainstream school (inclusion bases sit in"
        " mainstream schools)",
        f"{path}: column phase, line 5: does not match the host school's phase",
    ]


def test_register_columns_must_exist(tmp_path):
    path = tmp_path / "bases.csv"
    path.write_text("school,stage\n1,secondary\n", encoding="utf-8")
    found, problems = _read(BasesInput(path=path, columns={"urn": "school", "places": "size"}))
    assert found is None
    assert problems.items == [
        f"{path}: missing columns size, phase, need_codes (or need_groups) (name them in"
        " [inputs.bases.columns]; the file has: school, stage)"
    ]
    found, problems = _read(BasesInput(path=path, columns={"school_urn": "school"}))
    assert problems.items[0].startswith(
        f"{path}: inputs.bases.columns: unknown field(s) school_urn"
    )


def test_register_overrides_the_bases_found_in_gias(tmp_path):
    from layouts import standard_gias, write_postcodes

    register = tmp_path / "register.csv"
    register.write_text(
        "urn,phase,need_codes,places,on_roll\n100002,secondary,SEMH,14,9\n", encoding="utf-8"
    )
    scenario = tmp_path / "s.toml"
    demand = tmp_path / "demand.csv"
    demand.write_text("area_code,phase,need_code,children\nE01000001,primary,ASD,3\n")
    areas = tmp_path / "areas.csv"
    areas.write_text("area_code,easting,northing\nE01000001,376000,389000\n")
    scenario.write_text(
        'authority = "Trafford"\n[inputs]\n'
        f'areas = "{areas}"\ndemand = "{demand}"\n'
        f'postcodes = "{write_postcodes(tmp_path / "onspd.csv")}"\n'
        f'bases = {{ path = "{register}" }}\n'
        f'[inputs.schools]\npath = "{standard_gias(tmp_path / "gias.csv")}"\nformat = "gias"\n',
        encoding="utf-8",
    )
    data = load_inputs(load_scenario(scenario))
    assert data.bases[["urn", "capacity", "on_roll"]].values.tolist() == [["100002", 14.0, 9.0]]
    assert (
        f"existing bases from the register {register}, not the schools file (2 found there)"
        in data.notes
    )
    # GIAS's own bases (and their assumed capacities) give way to the register, unwarned.
    assert not any("no recorded capacity" in w for w in data.warnings)


def test_sitefinder_layout_still_reads_and_blank_capacity_is_assumed(tmp_path, scenario_file):
    path = tmp_path / "bases.csv"
    path.write_text(
        "urn,base_name,base_type,phase,capacity,need_codes\n"
        "990002,Oakfield RP,resourced_provision,primary,,ASD;SLCN\n",
        encoding="utf-8",
    )
    data = load_inputs(load_scenario(scenario_file(inputs={"bases": str(path)})))
    assert data.bases[["urn", "capacity", "capacity_assumed"]].values.tolist() == [
        ["990002", 10.0, True]
    ]
    assert any("1 base(s) have no places in the register, so 10 places" in w for w in data.warnings)


def test_a_bad_register_stops_the_run_with_every_problem(tmp_path, scenario_file):
    path = tmp_path / "bases.csv"
    path.write_text("urn,phase,need_codes\n123,primary,ASD\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_inputs(load_scenario(scenario_file(inputs={"bases": str(path)})))
    assert caught.value.problems == [
        f"{path}: column urn, line 2: not a URN in the schools file (add the host school)"
    ]
