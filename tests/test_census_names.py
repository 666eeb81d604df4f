"""Schools given a new URN since the census (academy conversions), found in the DfE
school-level census files by name within their authority, only when that is certain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sitefinder.cli import app
from sitefinder.config import load_scenario
from sitefinder.load import load_inputs
from sitefinder.readers.census import apply_census, school_name_key
from sitefinder.validate import Problems

INFANT = {4: 30, 5: 30, 6: 30}
JUNIOR = {7: 30, 8: 30, 9: 30, 10: 30}


def _schools(rows: list[tuple[str, str]]) -> pd.DataFrame:
    """Primary schools (URN, name) with what a GIAS subset lacks blank."""
    return pd.DataFrame(
        {
            "urn": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "phase": "primary",
            "establishment_group": "mainstream",
            "gender": "",
            "admissions_policy": "",
            "statutory_low_age": np.nan,
            "statutory_high_age": np.nan,
            "pupils": 100.0,
            "ehcp_pupils": np.nan,
            "cross_border": False,
        }
    )


Row = tuple[str, str, str, dict[int, int], int]


def _files(tmp_path: Path, rows: list[Row]) -> tuple[Path, Path]:
    """A school census and a SEN file in the published layouts: rows of (URN, la_name,
    school_name, pupils by age, pupils with EHC plans)."""
    header = [
        "time_period",
        "urn",
        "la_name",
        "school_name",
        "sex_of_school_description",
        "admissions_policy",
        "headcount of pupils",
        *(f"age_{a}" for a in range(20)),
    ]
    census = [",".join(header)]
    sen = ["urn,la_name,school_name,Total pupils,SEN support,EHC plan,Total Sen"]
    for urn, la, name, ages, ehc in rows:
        total = sum(ages.values())
        ages_ = [str(ages.get(a, 0)) for a in range(20)]
        cells = ["202223", urn, la, f'"{name}"', "Mixed", "Not applicable", str(total), *ages_]
        census.append(",".join(cells))
        sen.append(f'{urn},{la},"{name}",{total},10,{ehc},{10 + ehc}')
    spc = tmp_path / "spc_school_level_2022-23.csv"
    spc.write_text("\n".join(census) + "\n", encoding="utf-8")
    send = tmp_path / "sen_school_level_2022-23.csv"
    send.write_text("\n".join(sen) + "\n", encoding="utf-8")
    return spc, send


def _fill(tmp_path, schools, rows, authority_of):
    spc, sen = _files(tmp_path, rows)
    problems = Problems()
    filled = apply_census(schools, census=spc, sen=sen, problems=problems,
                          authority_of=authority_of)  # fmt: skip
    assert not problems.items and filled is not None
    return filled, filled.schools.set_index("urn")


def test_names_compare_without_case_or_punctuation():
    assert school_name_key("St. Mary's C of E  Primary-School") == "st mary s c of e primary school"


def test_a_school_with_a_new_urn_takes_its_predecessor_s_row_by_name(tmp_path):
    schools = _schools([("1", "Oak Infant School"), ("150659", "Valewood Primary School")])
    rows = [
        ("1", "Sefton", "Oak Infant School", INFANT, 9),
        ("104900", "Sefton", "Valewood Primary School.", JUNIOR, 12),  # the predecessor
    ]
    filled, out = _fill(tmp_path, schools, rows, {"1": "Sefton", "150659": "Sefton"})
    assert out.loc["150659", ["statutory_low_age", "statutory_high_age"]].tolist() == [7, 11]
    assert out.loc["150659", "gender"] == "mixed"
    assert out.loc["150659", "ehcp_pupils"] == pytest.approx(100 * 12 / 120)
    assert out.loc["1", ["statutory_low_age", "statutory_high_age"]].tolist() == [4, 7]
    for note in filled.notes:
        assert "1 of 2 schools found by URN, 1 more by name within the authority (a new URN" in note
    assert filled.warnings == []
    # by URN only when the schools' authorities are not known
    filled, out = _fill(tmp_path, schools, rows, None)
    assert np.isnan(out.loc["150659", "statutory_low_age"]) and out.loc["150659", "gender"] == ""
    assert all("1 of 2 schools found by URN;" in n for n in filled.notes)
    assert all("Valewood Primary School (150659)" in w for w in filled.warnings)


@pytest.mark.parametrize(
    ("case", "rows", "schools"),
    [
        (  # two census rows share the name in the authority: which one is not certain
            "two rows",
            [
                ("104900", "Sefton", "Valewood Primary School", JUNIOR, 12),
                ("104901", "Sefton", "Valewood Primary School", INFANT, 3),
            ],
            [("150659", "Valewood Primary School")],
        ),
        (  # the row of that name is another open school's (found by its own URN)
            "another open school",
            [("104900", "Sefton", "Valewood Primary School", JUNIOR, 12)],
            [("104900", "Valewood Academy"), ("150659", "Valewood Primary School")],
        ),
        (  # the name is another authority's school
            "another authority",
            [("104900", "Wirral", "Valewood Primary School", JUNIOR, 12)],
            [("150659", "Valewood Primary School")],
        ),
        (  # two schools missing by URN have the name: which one is not certain
            "two schools",
            [("104900", "Sefton", "Valewood Primary School", JUNIOR, 12)],
            [("150659", "Valewood Primary School"), ("150660", "Valewood Primary School")],
        ),
    ],
)
def test_a_name_that_is_not_certain_is_not_taken(tmp_path, case, rows, schools):
    table = _schools(schools)
    filled, out = _fill(tmp_path, table, rows, dict.fromkeys(table["urn"], "Sefton"))
    assert np.isnan(out.loc["150659", "statutory_low_age"]), case
    assert np.isnan(out.loc["150659", "ehcp_pupils"]) and out.loc["150659", "gender"] == ""
    assert not any("by name" in n for n in filled.notes)
    assert all("(150659)" in w for w in filled.warnings) and len(filled.warnings) == 2
    if case == "another open school":  # its own row is still its own
        assert out.loc["104900", ["statutory_low_age", "statutory_high_age"]].tolist() == [7, 11]


def test_the_indexed_copy_gives_the_same_match_on_a_later_run(tmp_path):
    schools = _schools([("150659", "Valewood Primary School")])
    rows = [("104900", "Sefton", "Valewood Primary School", JUNIOR, 12),
            ("104901", "Sefton", "Oak Infant School", INFANT, 3)]  # fmt: skip
    first, out1 = _fill(tmp_path, schools, rows, {"150659": "Sefton"})
    second, out2 = _fill(tmp_path, schools, rows, {"150659": "Sefton"})  # from the cached copy
    pd.testing.assert_frame_equal(out1, out2)
    assert first.notes == second.notes
    assert out2.loc["150659", "statutory_low_age"] == 7


def test_sefton_s_converted_academies_are_filled_from_the_shared_folder(real_data, tmp_path):
    output = tmp_path / "sefton.toml"
    result = CliRunner().invoke(
        app, ["init", "-a", "Sefton", "-d", str(real_data), "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    data = load_inputs(load_scenario(output))
    schools = data.schools.set_index("urn")
    valewood = schools.loc["150659"]
    assert valewood["name"] == "Valewood Primary School"
    assert valewood["gender"] == "mixed"
    assert (valewood["statutory_low_age"], valewood["statutory_high_age"]) == (4, 11)
    assert np.isfinite(valewood["ehcp_pupils"])
    census = [n for n in data.notes if "school census, January 2023" in n]
    assert len(census) == 1 and "more by name within the authority" in census[0]
    assert not any("Valewood Primary School (150659)" in w for w in data.warnings)
