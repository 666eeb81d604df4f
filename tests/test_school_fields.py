"""What the school readers take for the suitability rules, and what they say they assumed."""

from __future__ import annotations

from pathlib import Path

import pytest
from layouts import GIAS_HEADER, GiasSchool, write_gias

from sitefinder.config import SchoolsInput
from sitefinder.readers.establishments import read_establishments
from sitefinder.validate import Problems

EXTRA = ["Gender (name)", "AdmissionsPolicy (name)"]


def _gias_with_rules(path: Path) -> Path:
    """A GIAS extract with the Gender and AdmissionsPolicy columns, as the real one has."""
    grammar = GiasSchool(
        "1", "Girls Grammar", group="Academies", kind="Academy converter", phase="Secondary",
        ages=("11", "18"),
    )  # fmt: skip
    rows = [
        [*grammar.row(), "Girls", "Selective"],
        [*GiasSchool("2", "Town Primary", ages=("3", "11")).row(), "Mixed", "Not applicable"],
        [*GiasSchool("3", "Infant School", ages=("5", "7")).row(), "Mixed", ""],
        [*GiasSchool("4", "Oak High", phase="Secondary", ages=("11", "16")).row(), "",
         "Non-selective"],
    ]  # fmt: skip
    write_gias(path, [])
    lines = [",".join([*GIAS_HEADER, *EXTRA])] + [",".join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def test_gias_gender_admissions_and_statutory_ages(tmp_path):
    problems = Problems()
    spec = SchoolsInput(path=_gias_with_rules(tmp_path / "gias.csv"), format="gias")
    found = read_establishments(spec, problems)
    assert problems.items == [] and found is not None
    table = found.schools.set_index("urn")
    assert table["gender"].tolist() == ["girls", "mixed", "mixed", ""]
    assert table["admissions_policy"].tolist() == [
        "selective", "not applicable", "", "non-selective",
    ]  # fmt: skip
    assert table["statutory_low_age"].tolist() == [11, 3, 5, 11]
    assert table["statutory_high_age"].tolist() == [18, 11, 7, 16]


def test_mapped_fields_with_values_translated(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text(
        "id,school,sex,entry,lowest,highest,x,y\n"
        "1,North High,M,Comp,11,16,376000,389000\n"
        "2,South High,F,Grammar,11,18,377000,390000\n"
        "3,East High,,,11,16,378000,391000\n"
        "4,West High,Unisex,Comp,11,16,379000,392000\n",
        encoding="utf-8",
    )
    spec = SchoolsInput(
        path=path,
        format="mapped",
        columns={"urn": "id", "name": "school", "gender": "sex", "admissions_policy": "entry",
                 "statutory_low_age": "lowest", "statutory_high_age": "highest",
                 "easting": "x", "northing": "y"},
        values={"gender": {"M": "mixed", "F": "girls"},
                "admissions_policy": {"Comp": "non-selective", "Grammar": "selective"}},
    )  # fmt: skip
    problems = Problems()
    found = read_establishments(spec, problems)
    assert problems.items == [
        f"{path}: column sex, line 5: unknown value; map it in [inputs.schools.values.gender]"
        " to one of boys, girls, mixed (or to '' for unknown)"
    ]
    assert found is not None
    table = found.schools.set_index("urn")
    assert table.loc[["1", "2", "3"], "gender"].tolist() == ["mixed", "girls", ""]
    assert table.loc[["1", "2", "3"], "admissions_policy"].tolist() == [
        "non-selective", "selective", "",
    ]  # fmt: skip
    assert table.loc["2", "statutory_high_age"] == 18


def test_a_field_mapped_twice_is_an_error(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text("id,name,low\n1,A,4\n", encoding="utf-8")
    spec = SchoolsInput(
        path=path, format="mapped",
        columns={"urn": "id", "name": "name", "low_age": "low", "statutory_low_age": "low"},
    )  # fmt: skip
    problems = Problems()
    assert read_establishments(spec, problems) is None
    assert problems.items == [
        f"{path}: inputs.schools.columns: statutory_low_age and low_age are the same field; map"
        " only one"
    ]


def test_inferred_establishment_types_are_counted_with_examples(tmp_path):
    path = write_gias(
        tmp_path / "gias.csv",
        [
            GiasSchool("1", "Town Primary", kind="").row(),  # blank type: read from the group
            GiasSchool(
                "2",
                "Hill Academy",
                group="Academies",
                kind="",
                phase="Secondary",
                ages=("11", "16"),
            ).row(),
            GiasSchool("3", "Vale Primary", kind="Community school").row(),  # the type says so
        ],
    )
    problems = Problems()
    found = read_establishments(SchoolsInput(path=path, format="gias"), problems)
    assert found is not None
    assert found.notes[1] == (
        f"{path}: establishment type inferred for 2 school(s): TypeOfEstablishment is blank, so"
        " the type group is read as the type (Local authority maintained schools, Academies and"
        " Free Schools as mainstream), e.g. Town Primary (1), Hill Academy (2)"
    )


def test_establishment_numbers_are_counted_as_an_inference(tmp_path):
    path = write_gias(
        tmp_path / "gias.csv", [GiasSchool("1", "Brook Academy", group="Academies", kind="").row()]
    )
    raw = path.read_bytes().decode("cp1252").replace(",2000,", ",7001,")
    path.write_bytes(raw.encode("cp1252"))
    found = read_establishments(SchoolsInput(path=path, format="gias"), Problems())
    assert found is not None
    assert found.schools["establishment_group"].tolist() == ["special"]
    assert found.notes[1].startswith(
        f"{path}: establishment type inferred for 1 school(s): the type is blank and the LA"
        " establishment number tells (7000-7999 special schools"
    )


@pytest.mark.parametrize("typed", [False, True])
def test_a_table_without_a_group_column_warns_that_all_are_mainstream(tmp_path, typed):
    path = tmp_path / "schools.csv"
    path.write_text(
        "id,name,type,x,y\n"
        "1,North Primary,Community school,376000,389000\n"
        "2,Brook School,Community special school,377000,390000\n"
        "3,Vale Primary,Academy converter,378000,391000\n",
        encoding="utf-8",
    )
    columns = {"urn": "id", "name": "name", "easting": "x", "northing": "y"}
    if typed:
        columns["establishment_type"] = "type"
    found = read_establishments(
        SchoolsInput(path=path, format="mapped", columns=columns), Problems()
    )
    assert found is not None
    mainstream = 2 if typed else 3
    assert (found.schools["establishment_group"] == "mainstream").sum() == mainstream
    assert found.warnings[0].startswith(
        f"{path}: no establishment_group column is mapped, so {mainstream} school(s) are taken"
        " as mainstream"
    )
    assert found.warnings[0].endswith(
        "map establishment_group in [inputs.schools.columns] if the table holds special,"
        " independent or PRU establishments"
    )
