"""Any English authority from the shared folder's national files (issue 26's "Done when").

A spread of authorities (every 17th by GSS code, and the awkward ones: a county council, the
Isles of Scilly, the City of London, Cumberland (Cumbria in the 2023 census), a unitary the
DfE files under a county code) is written by ``init`` from the whole shared folder and
validated; the folder is examined once for all of them. The full loop over all 153 is
``benchmarks/bench_any_authority.py`` (about 1-2 s of CPU each; see docs/benchmarks.md).
Rutland is ranked from the national files alone, its demand checked against SEN2 read here
with pandas. Bad inputs get one clear error each.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sitefinder import load_scenario, rank, with_settings
from sitefinder.authorities import all_authorities, find_authority
from sitefinder.cli import app
from sitefinder.errors import DataError
from sitefinder.load import load_inputs
from sitefinder.scaffold import Examined, examine_folder, init_scenario

FOLDER = os.environ.get("SITEFINDER_REAL_DATA", "")
AWKWARD = ["Kent", "Isles of Scilly", "City of London", "Cumberland", "Buckinghamshire"]
SPREAD = [a.name for a in all_authorities()[::17]]
IN_BASES = [f"mainstream_{kind}_{base}" for kind in ("la_maintained", "academy", "free_school")
            for base in ("resourced_provision", "senunit")]  # fmt: skip


@pytest.fixture(scope="module")
def shared() -> Path:
    if not FOLDER or not Path(FOLDER).is_dir():
        pytest.skip("SITEFINDER_REAL_DATA is not set")
    return Path(FOLDER)


@pytest.fixture(scope="module")
def examined(shared: Path) -> Examined:
    return examine_folder(shared)


@pytest.fixture(scope="module")
def national(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The national files alone (England's and the DfE's), linked, not copied."""
    folder = tmp_path_factory.mktemp("national")
    for sub in ("england", "dfe"):
        (folder / sub).mkdir()
        for file in sorted((shared / sub).iterdir()):
            (folder / sub / file.name).symlink_to(file)
    return folder


@pytest.mark.parametrize("name", sorted(set(SPREAD + AWKWARD)))
def test_an_authority_from_the_shared_folder_validates(shared, examined, tmp_path, name):
    authority = find_authority(name)
    assert authority is not None
    output = tmp_path / "x.toml"
    result = init_scenario(
        authority=authority.gss_code, data=str(shared), output=output, examined=examined
    )
    assert result.valid, result.errors
    assert result.summary is not None and result.summary.areas > 0
    own = {"trafford": "Trafford", "rutland": "Rutland"}
    for role, choice in result.chosen.items():
        top = choice.candidate.path.relative_to(shared).parts[0]
        # never another authority's file: its own, or a national one cut to it
        assert top in ("england", "dfe") or own.get(top) == authority.name, (role, top)
        assert choice.coverage.rows != 0, role
    text = output.read_text(encoding="utf-8")
    if authority.is_county:
        assert "districts = " in text  # the lookup that cuts its small areas
    assert load_scenario(output).authority == authority.name


def test_kent_takes_no_file_of_trafford_s(shared, examined, tmp_path):
    # the case: Kent took Trafford's postcodes and population from the whole folder
    result = init_scenario(
        authority="Kent", data=str(shared), output=tmp_path / "kent.toml", examined=examined
    )
    assert result.valid, result.errors
    assert {c.candidate.path.parent.name for c in result.chosen.values()} <= {"england", "dfe"}
    assert result.summary is not None and result.summary.areas == 938  # Kent's LSOAs
    skipped = {p.path.name: p.reason for p in result.passed}
    assert "covers Trafford, not Kent" in skipped["postcodes_lsoa21_2025.csv"]
    assert "covers Trafford, not Kent" in skipped["population_mye2024_lsoa_single_year_age.csv"]


def _expected(shared: Path, gss: str) -> dict[str, float]:
    """Plans at each phase's ages x England's share of plans in mainstream bases there."""
    needs = pd.read_csv(shared / "dfe" / "ehcp2025_sen_needs_all_plans_all_LAs.csv", dtype=str)
    case = pd.read_csv(shared / "dfe" / "ehcp2025_caseload_all_LAs.csv", dtype=str)
    ages = needs[(needs["breakdown_topic"] == "Child or young persons age")
                 & (needs["new_la_code"] == gss)]  # fmt: skip
    case = case[(case["breakdown_topic"] == "Child or young persons age")
                & (case["geographic_level"] == "National")]  # fmt: skip
    case = case[case["time_period"] == case["time_period"].max()]
    out = {}
    for phase, (low, high) in {"primary": (4, 10), "secondary": (11, 15)}.items():
        labels = [f"age {a}" for a in range(low, high + 1)]
        plans = pd.to_numeric(ages[ages["breakdown"].isin(labels)]["ehc_plans"]).sum()
        rows = case[case["breakdown"].isin(labels)]
        share = (
            rows[IN_BASES].apply(pd.to_numeric).sum().sum() / pd.to_numeric(rows["ehcplans"]).sum()
        )
        out[phase] = float(plans * share)
    return out


def test_rutland_from_the_national_files_ranks_with_demand_from_sen2(shared, national, tmp_path):
    output = tmp_path / "rutland.toml"
    result = init_scenario(authority="Rutland", data=str(national), output=output)
    assert result.valid, result.errors
    assert result.chosen["population"].candidate.path.name == "lsoa2021_england.gpkg"
    scenario = with_settings(load_scenario(output), {"inputs.demand.share": "england"})
    ranked = rank(scenario)
    demand = ranked.data.demand.groupby("phase")["children"].sum()
    for phase, figure in _expected(shared, "E06000017").items():
        assert demand[phase] == pytest.approx(figure, rel=0.10), phase
    assert any("spread evenly" in n for n in ranked.data.notes)
    assert any("school census, January 2023" in n for n in ranked.data.notes)
    assert len(ranked.ranking) > 0


# --- bad input -----------------------------------------------------------------------------------


def test_an_authority_not_in_the_files_is_a_clear_error(shared, tmp_path):
    result = CliRunner().invoke(
        app, ["init", "--authority", "Narnia", "--data", str(shared), "--output",
              str(tmp_path / "x.toml")],
    )  # fmt: skip
    assert result.exit_code == 2  # a command-line mistake
    assert "Narnia: not an authority in the DfE files" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "x.toml").exists()


def _gias(shared: Path) -> pd.DataFrame:
    return pd.read_csv(
        shared / "england" / "gias_open_establishments_england_2025-05-24.csv",
        dtype=str, keep_default_na=False,
    )  # fmt: skip


def test_a_gias_file_holding_none_of_the_authority_is_never_taken(shared, national, tmp_path):
    folder = tmp_path / "data"
    (folder / "england").mkdir(parents=True)
    for file in (national / "england").iterdir():
        if not file.name.startswith("gias"):
            (folder / "england" / file.name).symlink_to(file.resolve())
    (folder / "dfe").symlink_to(national / "dfe", target_is_directory=True)
    gias = _gias(shared)
    gias[gias["LA (code)"] != "857"].to_csv(folder / "england" / "gias_no_rutland.csv", index=False)
    result = init_scenario(authority="Rutland", data=str(folder), output=tmp_path / "r.toml")
    assert not result.valid and result.written is None
    assert any(
        "no GIAS establishment extract for Rutland" in e and "not Rutland" in e
        for e in result.errors
    ), result.errors


def _scenario(tmp_path: Path, shared: Path, *, schools: str, extra: str = "") -> Path:
    england = shared / "england"
    path = tmp_path / "s.toml"
    path.write_text(
        f'authority = "Rutland"\n{extra}'
        f'[inputs.schools]\npath = "{schools}"\nformat = "mapped"\n'
        '[inputs.schools.columns]\nurn = "URN"\nname = "EstablishmentName"\n'
        'la_code = "LA (code)"\nestablishment_group = "EstablishmentTypeGroup (name)"\n'
        'phase = "PhaseOfEducation (name)"\neasting = "Easting"\nnorthing = "Northing"\n'
        f'[inputs.boundaries]\npath = "{england / "lsoa2021_england.gpkg"}"\n'
        'code_column = "LSOA21CD"\nname_column = "LSOA21NM"\n'
        '[inputs.demand]\nmethod = "modelled"\n'
        f'population = "{england / "lsoa2021_england.gpkg"}"\n'
        f'sen2_needs = "{shared / "dfe" / "ehcp2025_sen_needs_all_plans_all_LAs.csv"}"\n'
        f'sen2_caseload = "{shared / "dfe" / "ehcp2025_caseload_all_LAs.csv"}"\n',
        encoding="utf-8",
    )
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(DataError) as caught:
        load_inputs(load_scenario(path))
    return caught.value.problems


def test_a_cut_with_no_schools_is_an_error(shared, tmp_path):
    gias = _gias(shared)
    schools = tmp_path / "gias.csv"
    gias[gias["LA (code)"] != "857"].to_csv(schools, index=False)
    errors = _errors(_scenario(tmp_path, shared, schools=str(schools)))
    assert any("no establishments for authority Rutland" in e for e in errors), errors


def test_schools_and_areas_of_different_places_are_an_error(shared, tmp_path):
    gias = _gias(shared)
    schools = tmp_path / "gias.csv"
    trafford = gias[gias["LA (code)"] == "358"].assign(**{"LA (code)": "857"})
    trafford.to_csv(schools, index=False)  # Trafford's schools labelled Rutland's
    errors = _errors(_scenario(tmp_path, shared, schools=str(schools)))
    assert any(
        "none of its" in e and "the schools and the areas are of different places" in e
        for e in errors
    ), errors


def test_a_national_file_missing_a_column_is_an_error(shared, tmp_path):
    gias = _gias(shared)
    schools = tmp_path / "gias.csv"
    gias.drop(columns=["Northing"]).to_csv(schools, index=False)
    errors = _errors(_scenario(tmp_path, shared, schools=str(schools)))
    assert any("missing column Northing" in e for e in errors), errors
