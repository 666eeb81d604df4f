"""Suitable hosts, the authority named once, and the Rutland example, on the real public files.

Skipped unless ``SITEFINDER_REAL_DATA`` names the shared data folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sitefinder.authorities import all_authorities
from sitefinder.cli import app
from sitefinder.config import load_scenario
from sitefinder.load import load_inputs
from sitefinder.resources import bundled_root
from sitefinder.supply import assess

EXAMPLES = bundled_root() / "configs" / "examples"
runner = CliRunner()

# Trafford schools no base should go to, and the first words of the reason given.
UNSUITABLE = {
    "138464": "single-sex school (girls)",  # Loreto Grammar School
    "136378": "single-sex school (boys)",  # Wellacre Technology Academy
    "136965": "single-sex school (girls)",  # Flixton Girls School
    "138134": "single-sex school (boys)",  # Saint Ambrose College
    "136458": "single-sex school (boys)",  # Altrincham Grammar School for Boys
    "137289": "single-sex school (girls)",  # Altrincham Grammar School for Girls
    "106368": "selective admissions",  # Stretford Grammar School
    "136297": "selective admissions",  # Urmston Grammar Academy
    "136498": "selective admissions",  # Sale Grammar School
    "106375": "no spare space (1 spare place",  # Sale High School
    "106304": "no spare space (16 pupils over capacity",  # Wellfield Junior School
    "106313": "no spare space (47 pupils over capacity",  # Wellfield Infant and Nursery School
    "106327": "no spare space (1 spare place",  # Victoria Park Junior School
}
# Trafford's infant and junior schools: a base there serves the ages the school teaches.
PARTIAL = {
    "106304": "junior school: a primary base here serves ages 7-10 only",  # Wellfield Junior
    "106308": "junior school: a primary base here serves ages 7-10 only",  # Moorlands Junior
    "106327": "junior school: a primary base here serves ages 7-10 only",  # Victoria Park Junior
    "106312": "infant school: a primary base here serves ages 4-6 only",  # Templemoor Infant
    "106313": "infant school: a primary base here serves ages 4-6 only",  # Wellfield Infant
    "106328": "infant school: a primary base here serves ages 4-6 only",  # Victoria Park Infant
}


@pytest.fixture
def trafford(real_data, monkeypatch):
    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    scenario = load_scenario(EXAMPLES / "trafford.toml")
    data = load_inputs(scenario)
    return scenario, data, assess(scenario, data.schools, data.bases)


def test_trafford_unsuitable_hosts_are_out_with_their_reasons(trafford):
    _, _, assessment = trafford
    table = assessment.schools.set_index("urn")
    for urn, reason in UNSUITABLE.items():
        assert not table.loc[urn, "eligible"], table.loc[urn, "name"]
        assert reason in table.loc[urn, "notes"], (table.loc[urn, "name"], table.loc[urn, "notes"])
    assert table.loc["138464", "notes"] == (
        "single-sex school (girls): a base serves every child of its need group; selective"
        " admissions: a base serves every child of its need group, whatever their attainment"
    )
    assert table.loc["106328", ["first_age", "last_age"]].tolist() == [4, 6]  # GIAS 5-7


def test_trafford_infant_and_junior_schools_host_bases_for_their_ages(trafford):
    _, _, assessment = trafford
    table = assessment.schools.set_index("urn")
    for urn, note in PARTIAL.items():
        assert note in table.loc[urn, "notes"].split("; "), table.loc[urn, "name"]
    eligible = table.loc[list(PARTIAL), "eligible"]
    # Moorlands Junior, Templemoor Infant and Victoria Park Infant have room for a base.
    assert eligible[eligible].index.tolist() == ["106308", "106312", "106328"]


def test_trafford_eligible_hosts_are_mixed_non_selective_teaching_the_ages_with_room(trafford):
    scenario, _, assessment = trafford
    hosts = assessment.schools[assessment.schools["eligible"]]
    assert len(hosts) == 34
    assert (hosts["establishment_group"] == "mainstream").all()
    assert (hosts["gender"] == "mixed").all()
    assert (hosts["admissions_policy"] != "selective").all()
    spans = {"primary": (4, 10), "secondary": (11, 15)}
    for school in hosts.itertuples():
        for phase in school.host_phases.split(", "):  # every age of the phase, or flagged
            low, high = spans[phase]
            whole = school.first_age <= low and school.last_age >= high
            assert whole or f"a {phase} base here serves ages" in school.notes, school.name
    known = hosts["spare_places"].notna()
    assert (hosts.loc[known, "spare_places"] >= scenario.base_size).all()
    assert hosts.loc[~known, "name"].tolist() == ["Broadheath Primary School"]  # flagged
    assert assessment.warnings[-1] == (
        "candidates.high_send_share: no candidate school has its EHC-plan counts (GIAS SENStat)"
        " recorded, so the high-SEND (above 6% of pupils with an EHC plan) rule could not be"
        " checked"
    )


def test_authorities_table_is_the_dfe_files(real_data):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data" / "authorities"))
    try:
        from generate import authorities  # data/authorities/generate.py
    finally:
        sys.path.pop(0)
    table = authorities(real_data / "dfe" / "ehcp2025_caseload_all_LAs.csv")
    shipped = pd.DataFrame(
        [(a.name, a.gss_code, a.la_code, a.ons_code) for a in all_authorities()],
        columns=["name", "gss_code", "la_code", "ons_code"],
    )
    pd.testing.assert_frame_equal(table, shipped)


def test_rutland_register_read_as_published(real_data, monkeypatch):
    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    data = load_inputs(load_scenario(EXAMPLES / "rutland.toml"))
    bases = data.bases.set_index("urn")
    # Uppingham Community College's ERP ("10-15 places": places_min) and Oakham CofE Primary's
    # DSP (places not stated: the default 10); the nurture provision and the pilot left out.
    assert bases["capacity"].to_dict() == {"136629": 10.0, "148948": 10.0}
    assert bases["capacity_assumed"].to_dict() == {"136629": False, "148948": True}
    assert bases.loc["136629", "need_codes"] == ("ASD", "SLCN")
    register = real_data / "rutland" / "bases_rutland.csv"
    assert any(
        n.startswith(f"{register}: left out 2 row(s) whose base_type is none") for n in data.notes
    )
    assert len(data.schools) == 27 and len(data.areas) == 26
    # Area points: the mean of the postcodes inside each LSOA (the file names no LSOA).
    assert any(
        "mean of the postcodes inside each area's polygon for 26 of 26" in n for n in data.notes
    )


def test_rank_rutland_example_on_real_roads(real_data, monkeypatch):
    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    config = str(EXAMPLES / "rutland.toml")
    result = runner.invoke(app, ["validate", "--config", config])
    assert result.exit_code == 0, result.output
    assert f"{config}: valid. 27 schools (21 mainstream, 20 eligible to host)" in result.stdout
    assert "error:" not in result.output
    result = runner.invoke(app, ["rank", "--config", config, "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    scenario = load_scenario(config)
    data = load_inputs(scenario)
    schools = assess(scenario, data.schools, data.bases).schools.set_index("urn")
    chosen = out["plan"]["chosen"]
    assert len(chosen) == scenario.bases == 2
    for base in chosen:
        school = schools.loc[base["urn"]]
        assert school["eligible"], school["name"]
        assert base["phase"] in school["host_phases"].split(", "), school["name"]
        # A base serving fewer than 5 children has its harm withheld ("c").
        assert base["harm_averted"] == "c" or base["harm_averted"] > 0
    assert {r["urn"] for r in out["ranking"]} <= set(schools.index[schools["eligible"]])
    # Independent schools (Oakham, Uppingham, the special schools) and Harington (16-19)
    # never appear.
    assert not {"120320", "120322", "131018", "134938", "141965"} & {
        r["urn"] for r in out["ranking"]
    }


def test_trafford_example_uses_one_authority(real_data, monkeypatch):
    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    scenario = load_scenario(EXAMPLES / "trafford.toml")
    assert scenario.authority == "Trafford"
    assert scenario.inputs.schools.authority is None
    assert scenario.inputs.demand.authority is None
    assert scenario.sen2_authority == "Trafford"


def test_trafford_plan_sends_no_child_to_a_base_outside_its_schools_ages(
    real_data, monkeypatch, trafford_assumed
):
    # The plan on Trafford: every host suitable, and no child placed in a base (today's, at
    # Wellfield Infant, Wellfield Junior and Moorlands Junior, or a new one) of an age its
    # school does not teach.
    from sitefinder.instance import build_instance, existing_sites
    from sitefinder.model.network import solve_network

    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    result = trafford_assumed
    scenario = result.scenario
    schools = result.schools.set_index("urn")
    chosen = result.plan.chosen
    assert len(chosen) >= 3
    for urn in chosen["urn"]:
        assert schools.loc[urn, "eligible"] and schools.loc[urn, "gender"] == "mixed"
        assert schools.loc[urn, "admissions_policy"] != "selective"
    model = build_instance(scenario, result.data)
    existing, table = existing_sites(model, scenario, result.data)
    hosts = [*table["urn"], *chosen["urn"]]
    after = solve_network(model.rows, [*existing, *result.plan.sites])
    assert after.objective == pytest.approx(result.plan.objective)
    used = after.flow > 1e-9
    first = model.band_first[after.pair_row[used]]
    last = model.band_last[after.pair_row[used]]
    host = schools.loc[[hosts[s] for s in after.pair_site[used]]]
    assert (host["first_age"].to_numpy() <= first).all()
    assert (last <= host["last_age"].to_numpy()).all()
    # Today's infant base takes 4-6 year-olds only, the junior bases 7-10 year-olds only.
    served = pd.DataFrame({"urn": host.index, "first": first, "last": last})
    ages = served.groupby("urn").agg(first=("first", "min"), last=("last", "max"))
    assert ages.loc["106313"].tolist() == [4, 6]
    assert ages.loc["106304"].tolist() == [7, 10] and ages.loc["106308"].tolist() == [7, 10]
    assert set(result.sites.set_index("urn").loc[["106304", "106308"], "ages"]) == {"7-10"}


def test_trafford_ranking_says_which_base_the_plan_puts_at_a_ranked_school(trafford_assumed):
    # The set chosen together can give a ranked school another base than its greedy pick:
    # its row is marked in the plan and its notes name the planned base, never silently.
    result = trafford_assumed
    planned = {
        urn: (choice, phase, group)
        for choice, urn, phase, group in result.plan.chosen[
            ["choice", "urn", "phase", "need_group"]
        ].itertuples(index=False, name=None)
    }
    differing = 0
    for row in result.ranking.itertuples():
        plan = planned.get(row.urn)
        if plan is None or plan[1:] == (row.phase, row.need_group):
            assert "the plan's base here" not in row.notes
            continue
        differing += 1
        label = result.scenario.need_groups[plan[2]].label
        assert f"the plan's base here is {plan[1]}: {label} (choice #{plan[0]})" in row.notes
    assert differing >= 1  # Ashton-on-Mersey and Lostock High swap need groups


def test_trafford_warnings_count_bases_and_schools_apart(trafford_result):
    # Moorlands Junior hosts a resourced provision and a SEN unit: 11 bases at 10 schools,
    # every one without a recorded capacity, as the SEN2 comparison counts them.
    from sitefinder.published import publish

    warnings = publish(trafford_result).warnings
    assert any("11 base(s) at 10 schools have no recorded capacity" in w for w in warnings)
    assert any("110 places assumed (11 bases x 10 places" in w for w in warnings)


def test_trafford_words_name_need_groups_by_their_labels(trafford_assumed, trafford_result):
    # Planners read "Communication and interaction", never the key communication_interaction.
    keys = list(trafford_assumed.scenario.need_groups)
    texts = [
        *trafford_assumed.plan.chosen["alternatives"],
        *trafford_assumed.ranking["notes"],
        *trafford_assumed.plan.notes,
        *trafford_result.plan.notes,
        *(n for n in trafford_result.notes if n.startswith("programme ")),
    ]
    assert any("(138614, secondary Communication and interaction)" in t for t in texts)
    assert not [t for t in texts if any(key in t for key in keys)]
