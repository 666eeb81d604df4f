"""ONS population in the layouts ONS, Nomis and data teams publish, each read to the same persons.

Every layout is written from one invented table (tests/layouts.py: ``ons_count``), the sexes
different at every age; the persons each reader must return are added up here, by formula,
never by the reader. The errors are for files that cannot give persons.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from layouts import (
    ONS_AREAS,
    ons_count,
    ons_persons,
    write_ons_lsoa_code,
    write_ons_sexes_in_columns,
)

from sitefinder.authorities import find_authority
from sitefinder.readers.population import read_population
from sitefinder.validate import Problems

TRAFFORD = find_authority("Trafford")
AGES = range(26)


def _expected(areas: list[int]) -> dict[str, list[int]]:
    return {ONS_AREAS[a][0]: [ons_persons(a, age) for age in AGES] for a in areas}


def _read(path: Path, *, authority: bool = True) -> tuple[dict[str, list[int]], list[str]]:
    problems, notes = Problems(), list[str]()
    table = read_population(path, problems, authority=TRAFFORD if authority else None, notes=notes)
    assert problems.items == [], problems.items
    assert table is not None
    assert list(table.columns) == list(AGES)
    return {
        code: [int(v) for v in row] for code, row in zip(table.index, table.to_numpy(), strict=True)
    }, notes


def _rows_by_sex(path: Path, sexes: tuple[str, ...], *, persons: bool = False) -> Path:
    """The tidy layout (one row per area and sex, ages 0 .. 90+) with the given sex labels."""
    header = "area_code,area_name,sex," + ",".join(str(a) for a in range(90)) + ",90+"
    lines = [header]
    for area, (code, name, _, _) in enumerate(ONS_AREAS):
        if persons:
            lines.append(f"{code},{name},Persons," + ",".join(
                str(ons_persons(area, a)) for a in range(91)))  # fmt: skip
        for label in sexes:
            counts = [ons_count(area, label[0].upper(), a) for a in range(91)]
            lines.append(f"{code},{name},{label}," + ",".join(map(str, counts)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_NAMES = "the area names in area_name"


@pytest.mark.parametrize(
    ("write", "kept"),
    [
        (lambda p: write_ons_sexes_in_columns(p), "2 of 3 rows, Trafford's (by LAD 2023 Code)"),
        (
            lambda p: write_ons_sexes_in_columns(p, padded=False),
            "2 of 3 rows, Trafford's (by LAD 2023 Code)",
        ),
        (
            lambda p: write_ons_sexes_in_columns(p, titles=False),
            "2 of 3 rows, Trafford's (by LAD 2023 Code)",
        ),
        (
            lambda p: write_ons_lsoa_code(p),
            "2 of 3 rows, Trafford's (by LA Code (2021 boundaries))",
        ),
        (
            lambda p: write_ons_lsoa_code(p, titles=False),
            "2 of 3 rows, Trafford's (by LA Code (2021 boundaries))",
        ),
        (lambda p: _rows_by_sex(p, ("Female", "Male")), f"4 of 6 rows, Trafford's (by {_NAMES})"),
        (lambda p: _rows_by_sex(p, ("females", "MALES")), f"4 of 6 rows, Trafford's (by {_NAMES})"),
        (lambda p: _rows_by_sex(p, ("F", "M")), f"4 of 6 rows, Trafford's (by {_NAMES})"),
        (
            lambda p: _rows_by_sex(p, ("Female", "Male"), persons=True),
            f"6 of 9 rows, Trafford's (by {_NAMES})",
        ),
    ],
    ids=[
        "F0..M90 with titles padded by Excel",
        "F0..M90 with titles",
        "F0..M90",
        "LSOA Code persons sheet with titles",
        "LSOA Code persons sheet",
        "Female and Male rows",
        "females and MALES rows",
        "F and M rows",
        "Persons rows beside Female and Male",
    ],
)
def test_every_layout_gives_the_authoritys_persons(tmp_path, write, kept):
    path = write(tmp_path / "population.csv")
    read, notes = _read(path)
    assert read == _expected([0, 1])  # Trafford's two areas; Wigan's rows are cut
    assert f"{path}: kept {kept}" in notes


def test_a_workbook_sheets_titles_are_skipped_and_said(tmp_path):
    path = write_ons_sexes_in_columns(tmp_path / "population.csv")
    read, notes = _read(path, authority=False)
    assert read == _expected([0, 1, 2])
    assert notes[0] == (
        f"{path}: read from its header at line 4: the lines above are the titles of a workbook's"
        " sheet saved as CSV (Mid-2024 population estimates for Lower layer Super Output Areas"
        " (LSOAs) in ...)"
    )


def test_a_nomis_download_is_read_past_its_titles_and_notes(tmp_path):
    # Title lines, a blank line, the table, a blank line and a note, as Nomis gives them.
    table = _rows_by_sex(tmp_path / "table.csv", ("Female", "Male")).read_text(encoding="utf-8")
    path = tmp_path / "population.csv"
    path.write_text(
        '"Population estimates - small area based by single year of age"\n'
        '"ONS Crown Copyright Reserved [from Nomis on 7 December 2025]"\n'
        '"geography: 2021 super output areas - lower layer"\n\n'
        + table
        + '\n"Figures may not sum because of rounding"\n',
        encoding="utf-8",
    )
    read, notes = _read(path, authority=False)
    assert read == _expected([0, 1, 2])
    assert notes[0].startswith(
        f"{path}: read from its header at line 5: the lines above are the titles of a Nomis"
        " download (Population estimates - small area based by single year of age)"
    )


def test_a_bad_cell_below_the_titles_is_named_at_its_line_in_the_file(tmp_path):
    path = write_ons_sexes_in_columns(tmp_path / "population.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[5].split(",")  # line 6: Trafford 001B, after 3 titles, the header, 001A
    cells[5 + 91 + 7] = "x"  # M7
    lines[5] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = Problems()
    read_population(path, problems, authority=TRAFFORD, notes=[])
    assert problems.items == [
        f"{path}: column M7 (age 7), line 6: not a number (write digits only)"
    ]


def _problems(path: Path) -> list[str]:
    problems = Problems()
    assert read_population(path, problems, notes=[]) is None
    return problems.items


def test_a_sheet_of_one_sex_is_refused_by_its_title(tmp_path):
    path = write_ons_lsoa_code(tmp_path / "population.csv", sheet="Males")
    assert _problems(path) == [
        f"{path}: holds males only (a title line reads 'Males'); persons are needed: save the"
        " workbook's Persons sheet as CSV instead"
    ]


def test_one_sexs_columns_are_refused(tmp_path):
    path = write_ons_sexes_in_columns(tmp_path / "population.csv", titles=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [",".join(line.split(",")[: 5 + 91]) for line in lines]  # F0 .. F90 only
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _problems(path) == [
        f"{path}: has the females' columns (F0, F1, ...) but not the males' (M0, ...): persons"
        " are the two added together; use the whole table as ONS publish it"
    ]


def test_rows_of_one_sex_are_refused(tmp_path):
    path = _rows_by_sex(tmp_path / "population.csv", ("Female",))
    assert _problems(path) == [
        f"{path}: column sex has rows for females only: persons are needed (Persons rows, or"
        " both Females and Males rows to add together); use the file as ONS publish it"
    ]


def test_an_area_with_one_sexs_row_is_refused(tmp_path):
    path = _rows_by_sex(tmp_path / "population.csv", ("Female", "Male"))
    lines = path.read_text(encoding="utf-8").splitlines()
    del lines[4]  # Trafford 001B's males
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _problems(path) == [
        f"{path}: column sex: 1 area(s) have rows for one sex but not the other (E01000002);"
        " each area needs both Females and Males rows, or a Persons row"
    ]


def test_a_sex_the_estimates_do_not_give_is_named_at_its_line(tmp_path):
    path = _rows_by_sex(tmp_path / "population.csv", ("Female", "Male"))
    path.write_text(path.read_text(encoding="utf-8").replace(",Male,", ",Unknown,", 1))
    assert _problems(path) == [
        f"{path}: column sex, line 3: 'Unknown' is not a sex the estimates give (Persons,"
        " Females or Males)"
    ]


@pytest.mark.parametrize(
    ("write", "fact"),
    [
        (
            lambda p: write_ons_sexes_in_columns(p, titles=False),
            "single years of age 0-90 by sex in columns (F0 ..., M0 ...), added together; areas"
            " in LSOA 2021 Code",
        ),
        (
            lambda p: write_ons_lsoa_code(p, titles=False),
            "single years of age 0-90, areas in LSOA Code",
        ),
    ],
    ids=["F0..M90", "LSOA Code"],
)
def test_init_recognises_the_workbook_layouts(tmp_path, write, fact):
    from sitefinder.discover import Candidate, examine

    found = examine(write(tmp_path / "population.csv"))
    assert isinstance(found, Candidate) and found.role == "population"
    assert found.facts[0] == fact
