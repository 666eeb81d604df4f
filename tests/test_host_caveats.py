"""A chosen host's caveats travel with it: every plan row, the JSON, the GeoPackage and the
report say what the ranking's notes say of it (flags), and what its data cannot tell (unknown
spare places, gender, admissions policy), even where no school's data can and the ranking
leaves that to one warning."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pandas as pd
import pytest
from conftest import real_data_folder
from rich.console import Console
from test_broken_inputs import gias_baseline

from sitefinder import load_scenario, rank, with_settings, write_geopackage
from sitefinder.render import write_report
from sitefinder.report import ranking_table, to_json
from sitefinder.resources import bundled_root, default_scenario_path
from sitefinder.supply import RuleCheck, caveats

UNKNOWN_GENDER = "gender not recorded (single-sex rule not checked)"
UNKNOWN_ADMISSIONS = "admissions policy not recorded (selective rule not checked)"
HIGH_SEND = "already high-SEND (EHC plans above 6% of pupils; <5 pupils, share withheld)"


@pytest.fixture(scope="module")
def demo():
    return rank(load_scenario(default_scenario_path()))


@pytest.fixture(scope="module")
def gias_run(tmp_path_factory):
    """Invented GIAS files without gender or admissions columns; Meadow Primary (100005) has 3
    pupils with an EHC plan of 40 (high-SEND, its count withheld)."""
    base = gias_baseline(tmp_path_factory.mktemp("caveats"))
    gias = pd.read_csv(base.gias, dtype=str, encoding="cp1252", keep_default_na=False)
    gias.loc[gias["URN"] == "100005", ["NumberOfPupils", "SENStat"]] = ["40", "3"]
    gias.to_csv(base.gias, index=False, encoding="cp1252", lineterminator="\r\n")
    base.sections["inputs.demand"]["share"] = 0.01
    return rank(with_settings(load_scenario(base.scenario()), {"selection.min_occupancy": 0}))


def test_caveats_in_words():
    checks = [
        RuleCheck("single_sex", "candidates.exclude_single_sex", "unknown"),  # nobody's data
        RuleCheck("selective", "candidates.exclude_selective", "pass"),
        RuleCheck("spare_places", "candidates.min_spare_places", "flag", "tight on space (4"
                  " spare places)"),
        RuleCheck("high_send", "candidates.high_send_share", "unknown", "EHC-plan share not"
                  " recorded (high-SEND rule not checked)"),
        RuleCheck("existing_base", "candidates.exclude_existing_hosts", "pass"),
    ]  # fmt: skip
    assert caveats(checks) == (
        f"{UNKNOWN_GENDER}; tight on space (4 spare places); EHC-plan share not recorded"
        " (high-SEND rule not checked)"
    )
    assert caveats([RuleCheck("phase", "phases", "pass")]) == ""


def test_every_plan_row_carries_its_host_s_caveats(demo, tmp_path):
    document = json.loads(to_json(demo, top=10))
    assert [(row["name"], row["caveats"]) for row in document["plan"]["chosen"]] == [
        ("Castle Hill Academy", "hosts a base (secondary: Social, emotional and mental health)"),
        ("Victoria Primary School", ""),
        ("Millfield Primary School", "hosts a base (primary: Cognition and learning)"),
    ]
    planned = gpd.read_file(write_geopackage(demo, tmp_path / "d.gpkg"), layer="planned_bases")
    assert planned.sort_values("greedy_rank")["caveats"].fillna("").tolist() == [
        "hosts a base (secondary: Social, emotional and mental health)",
        "",
        "hosts a base (primary: Cognition and learning)",
    ]


def test_unknown_data_and_high_send_are_said_in_the_plan(gias_run, tmp_path):
    document = json.loads(to_json(gias_run, top=10))
    chosen = {row["urn"]: row["caveats"] for row in document["plan"]["chosen"]}
    assert chosen == {
        "100001": f"{UNKNOWN_GENDER}; {UNKNOWN_ADMISSIONS}; hosts a base (primary: Communication"
        " and interaction)",
        "100005": f"{UNKNOWN_GENDER}; {UNKNOWN_ADMISSIONS}; {HIGH_SEND}",
    }
    # The ranking's notes leave what no school's data can tell to one warning.
    notes = {row["urn"]: row["notes"] for row in document["ranking"]}
    assert notes["100005"] == HIGH_SEND
    report = write_report(gias_run, tmp_path / "r.html").read_text(encoding="utf-8")
    plan_section = report.split('<section id="plan">')[1].split("</section>")[0]
    assert "<th>Caveats</th>" in plan_section
    assert HIGH_SEND.replace("<", "&lt;") in plan_section
    console = Console(width=400, record=True, file=io.StringIO())
    console.print(ranking_table(gias_run, top=10))
    plan_text = console.export_text().split("The plan:")[1].split("Strongest candidates")[0]
    assert "Caveats" in plan_text and "already high-SEND (EHC plans above 6%" in plan_text


def test_rutland_s_hosts_say_what_their_data_cannot_tell():
    real_data_folder()
    result = rank(load_scenario(bundled_root() / "configs" / "examples" / "rutland.toml"))
    chosen = json.loads(to_json(result, top=3))["plan"]["chosen"]
    assert chosen and all(
        row["caveats"]
        == f"{UNKNOWN_GENDER}; {UNKNOWN_ADMISSIONS}; spare places unknown (no capacity or pupil"
        " numbers); EHC-plan share not recorded (high-SEND rule not checked)"
        for row in chosen
    ), [row["caveats"] for row in chosen]
