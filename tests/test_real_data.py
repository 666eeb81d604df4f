"""The readers and the CLI on real public files (Trafford, DfE SEN2), with hand-checked counts.

The files live outside the repository; these tests skip when SITEFINDER_REAL_DATA is unset
(see /work/shared/data/README.md for what each file is).
"""

from __future__ import annotations

import csv
import functools
import io
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sitefinder.cli import app
from sitefinder.config import SchoolsInput
from sitefinder.readers.establishments import Establishments, read_establishments
from sitefinder.readers.postcodes import PostcodeLookup, read_postcodes
from sitefinder.readers.sen2 import Caseload, NeedsByAge, read_caseload, read_needs
from sitefinder.validate import Problems

TRAFFORD_TOML = Path(__file__).resolve().parents[1] / "configs" / "examples" / "trafford.toml"
GIAS_LAYOUT = "trafford/schools_gias_layout_cp1252.csv"
DATA_LAB = "trafford/schools_gias_2024-09-26.csv"
# Flagged special academies, told apart by their LA establishment numbers (7000-7999).
SPECIAL_URNS = ["142288", "147372"]  # Manor Academy Sale, Longford Park School
MOORLANDS_JUNIOR = "106308"  # resourced provision and SEN unit

runner = CliRunner()


# The files are read once per run (a few MB each), whichever test asks first.
@functools.cache
def _postcodes(folder: Path) -> PostcodeLookup:
    problems = Problems()
    lookup = read_postcodes(folder / "trafford" / "postcodes_lsoa21_2025.csv", problems)
    assert problems.items == [] and lookup is not None
    return lookup


@functools.cache
def _gias_layout(folder: Path) -> tuple[Establishments, list[str]]:
    problems = Problems()
    spec = SchoolsInput(path=folder / GIAS_LAYOUT, format="gias", authority="Trafford")
    found = read_establishments(spec, problems, postcodes=_postcodes(folder))
    assert found is not None
    return found, problems.items


@functools.cache
def _sen2(folder: Path, authority: str) -> tuple[NeedsByAge, Caseload]:
    problems = Problems()
    dfe = folder / "dfe"
    needs = read_needs(
        dfe / "ehcp2025_sen_needs_all_plans_all_LAs.csv", problems, authority=authority
    )
    caseload = read_caseload(dfe / "ehcp2025_caseload_all_LAs.csv", problems, authority=authority)
    assert problems.items == [] and needs is not None and caseload is not None
    return needs, caseload


def _raw_gias(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / GIAS_LAYOUT, encoding="cp1252", dtype=str, keep_default_na=False)


def _flagged(folder: Path) -> set[str]:
    """URNs of open schools whose TypeOfResourcedProvision is not 'Not applicable'."""
    raw = _raw_gias(folder)
    is_open = raw["EstablishmentStatus (name)"] == "Open"
    flagged = is_open & (raw["TypeOfResourcedProvision (name)"] != "Not applicable")
    return set(raw.loc[flagged, "URN"])


def test_example_scenario_reads_the_gias_layout():
    scenario = tomllib.loads(TRAFFORD_TOML.read_text(encoding="utf-8"))
    schools = scenario["inputs"]["schools"]
    assert (schools["format"], scenario["authority"]) == ("gias", "Trafford")
    assert "authority" not in schools and "authority" not in scenario["inputs"]["demand"]
    assert "special_urns" not in schools  # the establishment numbers tell special schools


def test_establishment_numbers_find_special_academies_and_the_pru(real_data):
    found, _ = _gias_layout(real_data)
    group = found.schools.set_index("urn")["establishment_group"]
    # Manor Academy Sale, Pictor Academy, The Orchards (free school), Longford Park School
    assert list(group[["142288", "142289", "142782", "147372"]]) == ["special"] * 4
    assert group["131134"] == "pru"  # Trafford Alternative Education Provision, 1103


def test_gias_layout_reads_103_open_establishments(real_data):
    found, problems = _gias_layout(real_data)
    assert problems == []
    assert len(found.schools) == 103
    assert found.schools["urn"].is_unique
    assert "999001" not in set(found.schools["urn"])  # the closed school
    assert found.notes[0] == (
        f"{real_data / GIAS_LAYOUT}: read 103 open establishment(s) of Trafford (1 closed"
        " skipped): 82 mainstream, 10 special, 8 independent, 2 other, 1 pru"
    )


def test_flagged_schools_become_bases_or_special_school_warnings(real_data):
    found, _ = _gias_layout(real_data)
    flagged = _flagged(real_data)
    assert len(flagged) == 12
    bases = found.bases
    assert len(bases) == 11  # Moorlands Junior has both a resourced provision and a SEN unit
    assert bases["urn"].nunique() == 10
    moorlands = bases[bases["urn"] == MOORLANDS_JUNIOR]
    assert sorted(moorlands["base_type"]) == ["resourced_provision", "sen_unit"]
    schools = found.schools.set_index("urn")
    assert set(schools.loc[list(bases["urn"]), "establishment_group"]) == {"mainstream"}
    assert set(bases["urn"]) | set(SPECIAL_URNS) == flagged
    assert found.warnings[0] == (
        f"{real_data / GIAS_LAYOUT}: 2 school(s) with a resourced provision or SEN unit flag are"
        " not mainstream: Manor Academy Sale (142288), Longford Park School (147372). Inclusion"
        " bases sit in mainstream schools, so these places count as the school's own specialist"
        " provision and are left out of the model"
    )
    assert (bases["capacity"] == 10).all()  # GIAS records none: the scenario's default


def test_curly_apostrophes_decode_from_windows_1252(real_data):
    found, _ = _gias_layout(real_data)
    names = set(found.schools["name"])
    assert "St Anne\u2019s CofE Primary School" in names
    assert "St Michael\u2019s CofE (Aided) Primary School" in names
    assert not any("\ufffd" in n or "\u00e2\u20ac" in n for n in names)  # no mojibake


def test_school_with_blank_grid_reference_is_located_by_postcode(real_data):
    raw = _raw_gias(real_data).set_index("URN")
    assert raw.loc["106284", ["Easting", "Northing"]].tolist() == ["", ""]
    found, _ = _gias_layout(real_data)
    school = found.schools.set_index("urn").loc["106284"]
    point = _postcodes(real_data).find(pd.Series([raw.loc["106284", "Postcode"]]))
    assert [school["easting"], school["northing"]] == pytest.approx(
        [point["easting"].iloc[0], point["northing"].iloc[0]]
    )
    assert 370_000 < school["easting"] < 385_000 and 385_000 < school["northing"] < 400_000
    assert f"{real_data / GIAS_LAYOUT}: located 1 school(s) with no coordinates" in found.notes[1]


@pytest.mark.parametrize(("authority", "plans"), [("England", 638745), ("E08000009", 3143)])
def test_sen2_needs_all_plans_january_2025(real_data, authority, plans):
    needs, _ = _sen2(real_data, authority)
    assert needs.year == 2025
    assert needs.all_plans == plans


@pytest.mark.parametrize(
    ("authority", "in_bases", "plans"), [("England", 24524, 638745), ("E08000009", 154, 3143)]
)
def test_sen2_caseload_base_share(real_data, authority, in_bases, plans):
    _, caseload = _sen2(real_data, authority)
    assert caseload.latest_year == 2025
    assert caseload.in_bases[2025] == in_bases
    assert caseload.plans[2025] == plans
    assert caseload.base_share == pytest.approx(in_bases / plans)


def test_trafford_data_lab_file_read_with_a_column_mapping(real_data):
    path = real_data / DATA_LAB
    spec = SchoolsInput(
        path=path,
        format="mapped",
        columns={
            "urn": "unique_reference_number", "name": "name", "establishment_group": "type",
            "low_age": "lowest_admission_age", "high_age": "highest_admission_age",
            "capacity": "capacity", "base_type": "resource_provision", "lon": "lon", "lat": "lat",
            "postcode": "postcode",
        },
    )  # fmt: skip
    problems = Problems()
    found = read_establishments(spec, problems)
    assert found is not None
    assert len(found.schools) == 103
    assert found.bases["urn"].nunique() == 12  # no special_urns: the special academies host too
    assert set(found.bases["urn"]) == _flagged(real_data)
    # The file is written by R: 'NA' marks an unknown capacity, read as blank.
    assert problems.items == []
    assert found.schools.set_index("urn")["capacity"].isna().sum() == 4


def test_rank_trafford_example(real_data, monkeypatch):
    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    result = runner.invoke(
        app, ["rank", "--config", str(TRAFFORD_TOML), "--format", "csv", "--top", "5"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4", "5"]
    found, _ = _gias_layout(real_data)
    mainstream = found.schools.loc[found.schools["establishment_group"] == "mainstream", "urn"]
    assert {r["urn"] for r in rows} <= set(mainstream)
    # No single-sex or selective host (Loreto Grammar, Wellacre, the grammar schools, ...):
    # the suitability rules leave them out. Infant and junior schools may host a base for
    # their own ages (tests/test_real_hosts.py).
    unsuitable = found.schools[
        (found.schools["gender"] != "mixed") | (found.schools["admissions_policy"] == "selective")
    ]
    assert {"138464", "136378", "136498"} <= set(unsuitable["urn"])
    assert not {r["urn"] for r in rows} & set(unsuitable["urn"])


def test_validate_trafford_example(real_data, monkeypatch):
    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    result = runner.invoke(app, ["validate", "--config", str(TRAFFORD_TOML)])
    assert result.exit_code == 0, result.output
    assert f"{TRAFFORD_TOML}: valid. 103 schools (82 mainstream" in result.stdout
    assert "error:" not in result.output


def test_trafford_children_go_to_the_nearest_base_with_room(real_data, monkeypatch):
    # Every minute counts: no child rides past a nearer base with room (the old model, with no
    # travel term under 15 minutes, sent 26 of Trafford's children past one). Children without
    # a base place fall back on the nearest of Trafford's special schools.
    from sitefinder import load_scenario
    from sitefinder.instance import build_instance, existing_sites
    from sitefinder.load import load_inputs
    from sitefinder.model.network import children_passing_nearer, solve_network

    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    scenario = load_scenario(TRAFFORD_TOML)
    data = load_inputs(scenario)
    instance = build_instance(scenario, data)
    sites, _ = existing_sites(instance, scenario, data)
    assert children_passing_nearer(sites, solve_network(instance.rows, sites)) == 0
    # Trafford's special schools have room for every child without a base place, so each
    # row's last resort is a special school within 60 minutes, of the kinds GIAS records
    assert instance.fallback_sites == [] and (instance.fallback.destination >= 0).all()
    used = instance.special.used.iloc[instance.fallback.destination]
    assert set(data.schools["establishment_group"].to_numpy()[used["position"]]) == {"special"}
    assert set(used["kind"]) <= {"special", "independent"}
    assert 5 < instance.fallback.minutes.mean() < 20  # an urban authority
    kinds = instance.special.table.set_index("name")["kind"]
    assert kinds["Fairfield House School"] == "independent"  # establishment number 6019
    assert kinds["Changing Lives"] == "independent"  # 6010
