"""Demand calibrated to SEN2 and existing places checked against it, on small hand-made files.

The SEN2 files are written in the release's real layout (tests/layouts.py): Trafford has 120
plans at each age 3-19 and 10 under 3; by default 6 children at each age 4-15 are placed in
bases (5%). England has 1,000 plans at each age, 40 placed at each primary age (4%) and 60 at
each secondary age (6%).
"""

from __future__ import annotations

import math
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from layouts import write_population, write_sen2_caseload, write_sen2_needs

from sitefinder.config import DemandInput, load_scenario
from sitefinder.demand import (
    base_shares,
    demand_by_phase,
    low_demand_warning,
    modelled_demand,
    pooled_share,
)
from sitefinder.errors import ScenarioError
from sitefinder.existing_places import InBases, check_existing_places
from sitefinder.readers.population import read_population
from sitefinder.readers.sen2 import (
    Caseload,
    NeedsByAge,
    age_band,
    caseload_of,
    census_year,
    read_caseload,
    read_needs,
    read_sen2,
)
from sitefinder.validate import Problems

AGES = {"primary": (4, 10), "secondary": (11, 15)}


def _caseloads(path: Path) -> tuple[Caseload, Caseload]:
    problems = Problems()
    file = read_sen2(path, problems, kind="caseload")
    assert file is not None
    own, england = caseload_of(file, "358", problems), caseload_of(file, "England", problems)
    assert problems.items == [] and own is not None and england is not None
    return own, england


# --- reading the files as they are labelled ------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "band"),
    [
        ("under 3", (0, 2)),
        ("age 3", (3, 3)),
        ("Age 25", (25, 25)),
        ("age 10", (10, 10)),
        ("age 2 and under", (0, 2)),
        ("age 20 and over", (20, 25)),
        ("16-19", (16, 19)),
        ("Total", None),
    ],
)
def test_age_labels_read_as_they_say(label, band):
    assert age_band(label) == band


@pytest.mark.parametrize("label", ["unknown", "age", "under 0", "age 30", "age 12 months"])
def test_labels_that_are_not_ages(label):
    with pytest.raises(ValueError, match="not an age label"):
        age_band(label)


def test_census_years():
    assert census_year("202425") == 2025
    assert census_year("2025") == 2025
    for bad in ("202426", "2024/25", "abc", ""):
        with pytest.raises(ValueError, match="not a SEN2"):
            census_year(bad)


def test_under_3_is_its_own_band_not_a_second_age_3(tmp_path):
    problems = Problems()
    needs = read_needs(write_sen2_needs(tmp_path / "needs.csv"), problems, authority="358")
    assert problems.items == [] and needs is not None
    assert needs.plans.index.is_unique
    assert list(needs.plans.index[:3]) == [0, 3, 4]  # under 3, age 3, age 4
    assert needs.oldest[0] == 2 and needs.oldest[3] == 3
    assert needs.plans.loc[0, "ASD"] == 1 and needs.age_totals[0] == 12
    assert needs.missing_cells == 1  # VI at age 7: noted, never zero
    assert needs.name == "Trafford"


def test_bad_period_and_age_labels_name_file_line_and_label(tmp_path):
    path = write_sen2_needs(tmp_path / "needs.csv")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].replace("202425", "2024-25", 1)  # line 4 of the file
    lines[9] = lines[9].replace(",age 9,", ",age unknown,")  # line 10
    lines[10] = lines[10].replace(",age 10,", ",nine,")  # line 11
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = Problems()
    assert read_sen2(path, problems, kind="needs") is None
    expected = "(expected 'under 3', 'age 3' ... 'age 25', 'age 20 and over' or 'Total')"
    assert problems.items == [
        f"{path}: column time_period, line 4: '2024-25' is not a SEN2 period (an academic year"
        " such as 202425, for January 2025; use the release's file unedited)",
        f"{path}: column breakdown, line 10: unexpected age label 'age unknown' in the 'Child or"
        f" young persons age' rows {expected}",
        f"{path}: column breakdown, line 11: unexpected age label 'nine' in the 'Child or young"
        f" persons age' rows {expected}",
    ]


def test_counts_that_are_not_counts_name_their_lines(tmp_path):
    path = write_sen2_caseload(tmp_path / "c.csv")
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace(",1000,", ",inf,", 1)  # line 2: ehcplans
    lines[3] = lines[3].rsplit(",", 1)[0] + ",-3"  # line 4: the last base column
    lines[5] = lines[5].rsplit(",", 1)[0] + ",lots"  # line 6
    path.write_text("\n".join(lines) + "\n")
    problems = Problems()
    assert read_sen2(path, problems, kind="caseload") is None
    what = (
        "is not a count of plans (a number from 0 to 10,000,000, or a DfE marker such as x for"
        " unavailable or z for not applicable)"
    )
    assert problems.items == [
        f"{path}: column ehcplans, line 2: 'inf' {what}",
        f"{path}: column mainstream_free_school_senunit, line 4: '-3' {what}",
        f"{path}: column mainstream_free_school_senunit, line 6: 'lots' {what}",
    ]


def test_a_period_given_twice_is_an_error(tmp_path):
    path = write_sen2_caseload(tmp_path / "c.csv")
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")  # 2021 for Trafford again
    problems = Problems()
    file = read_sen2(path, problems, kind="caseload")
    assert file is not None and caseload_of(file, "358", problems) is None
    assert problems.items == [
        f"{path}: lines 2, {len(lines) + 1}: more than one 'All EHC plans' row for Trafford in"
        " 202021 (each period once: use the release's file unedited)"
    ]


def test_overlapping_age_labels_are_an_error(tmp_path):
    path = write_sen2_needs(tmp_path / "needs.csv")
    path.write_text(
        path.read_text(encoding="utf-8-sig").replace(",under 3,", ",age 3 and under,"),
        encoding="utf-8",
    )
    problems = Problems()
    assert read_needs(path, problems, authority="358") is None
    assert problems.items == [
        f"{path}: lines 3 and 4: age labels 'age 3 and under' and 'age 3' overlap for Trafford"
        " in 202425 (each age may be counted once)"
    ]


def test_caseload_by_age_and_unavailable_placements(tmp_path):
    own, england = _caseloads(write_sen2_caseload(tmp_path / "c.csv"))
    assert own.age_year == 2025 and own.name == "Trafford" and england.name == "England"
    assert math.isnan(own.in_bases[2021])  # an 'x' among the base columns: unknown, not 0
    assert own.in_bases[2025] == 60
    assert own.in_bases_at(4, 10) == 42 and own.in_bases_at(11, 15) == 30
    assert england.in_bases_at(4, 10) == 280
    assert pooled_share(own, 4, 10) == pytest.approx(0.05)
    assert pooled_share(england, 11, 15) == pytest.approx(0.06)
    assert own.shares_by_age()[0] == 0  # under 3: none placed


def test_latest_year_with_known_placements_by_age_is_used(tmp_path):
    path = write_sen2_caseload(tmp_path / "c.csv")
    lines = path.read_text().splitlines()
    # An older age breakdown, then the latest one made unavailable for Trafford (as SEN2 2025
    # does for Cambridgeshire).
    older = [
        line.replace("202425,", "202324,", 1).replace(",4,2,0,0,0,0", ",3,1,0,0,0,0")
        for line in lines
        if line.startswith("202425,") and "Trafford,Child" in line
    ]
    latest = [
        line.rsplit(",", 6)[0] + ",x,x,x,x,x,x"
        if line.startswith("202425,") and "Trafford,Child" in line
        else line
        for line in lines
    ]
    path.write_text("\n".join(latest + older) + "\n")
    own, _ = _caseloads(path)
    assert own.age_year == 2024
    assert own.in_bases_at(4, 10) == 7 * 4  # 3 + 1 placed per age in January 2024


# --- the share of plans needing a base place ----------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "primary", "secondary", "described"),
    [
        ("higher", 0.05, 0.06, "the higher of Trafford's and England's share at each age"),
        ("authority", 0.05, 0.05, "Trafford's share at each age (SEN2 January 2025)"),
        ("england", 0.04, 0.06, "England's share at each age (SEN2 January 2025)"),
        (0.03, 0.03, 0.03, "the scenario's share, 3.0% at every age"),
        (
            {"primary": 0.02, "secondary": 0.01},
            0.02,
            0.01,
            "the scenario's share by phase: primary 2.0%, secondary 1.0%",
        ),
    ],
)
def test_share_choices(tmp_path, choice, primary, secondary, described):
    own, england = _caseloads(write_sen2_caseload(tmp_path / "c.csv"))
    shares, problems = base_shares(choice, ages=AGES, authority=own, england=england)
    assert problems == [] and shares is not None
    assert shares.by_age.loc[4:10].tolist() == pytest.approx([primary] * 7)
    assert shares.by_age.loc[11:15].tolist() == pytest.approx([secondary] * 5)
    assert shares.described.startswith(described)
    assert shares.authority == pytest.approx({"primary": 0.05, "secondary": 0.05})
    assert shares.england == pytest.approx({"primary": 0.04, "secondary": 0.06})
    assert shares.warnings == []


@pytest.mark.parametrize(
    ("choice", "consequence"),
    [
        (
            "higher",
            "a share that low measures today's supply of base places, not need, so demand uses"
            ' England\'s share at those ages (share = "higher")',
        ),
        (
            "authority",
            "demand planned from it reproduces today's supply, not need (the default, share ="
            ' "higher", plans from the higher of the two at each age)',
        ),
        (0.05, "the scenario sets its own share"),
    ],
)
def test_warning_when_the_authority_share_is_under_half_englands(tmp_path, choice, consequence):
    # 1 of 120 plans placed at each primary age (0.8%) against England's 4%.
    own, england = _caseloads(write_sen2_caseload(tmp_path / "c.csv", primary=1))
    shares, _ = base_shares(choice, ages=AGES, authority=own, england=england)
    assert shares is not None
    assert shares.warnings == [
        "inputs.demand.share: Trafford's share of EHC plans placed in mainstream resourced"
        " provision or SEN units is under half England's (SEN2 January 2025): primary (ages"
        f" 4-10) 0.8% against 4.0%; {consequence}"
    ]


def test_a_share_just_over_half_of_englands_raises_no_warning(tmp_path):
    # 3 of 120 (2.5%) against England's 4% at primary ages: over half.
    own, england = _caseloads(write_sen2_caseload(tmp_path / "c.csv", primary=3))
    shares, _ = base_shares("authority", ages=AGES, authority=own, england=england)
    assert shares is not None and shares.warnings == []


def test_named_shares_need_their_rows(tmp_path):
    own, england = _caseloads(write_sen2_caseload(tmp_path / "c.csv"))
    shares, problems = base_shares("higher", ages=AGES, authority=own, england=None)
    assert shares is None
    assert problems[0].startswith("share = 'higher' needs England's rows (geographic_level")
    unknown = Caseload(own.plans, own.in_bases * np.nan, None, None, "Trafford")
    shares, problems = base_shares("authority", ages=AGES, authority=unknown, england=england)
    assert shares is None
    assert problems == [
        "share = 'authority': Trafford's placements in mainstream resourced provision or SEN"
        " units are not available in the caseload file (x) for any year: set"
        ' inputs.demand.share = "england" or a fraction'
    ]
    shares, problems = base_shares("higher", ages=AGES, authority=unknown, england=england)
    assert problems == [] and shares is not None
    assert shares.by_age.loc[11:15].tolist() == pytest.approx([0.06] * 5)  # England's
    assert "England's share is used" in shares.warnings[0]


def test_a_phase_with_no_known_share_is_a_problem(tmp_path):
    own, england = _caseloads(write_sen2_caseload(tmp_path / "c.csv"))
    assert own.by_age is not None
    by_age = own.by_age.copy()
    by_age.loc[11:15, "in_bases"] = np.nan  # secondary placements unavailable
    partial = Caseload(own.plans, own.in_bases, by_age, 2025, "Trafford")
    shares, problems = base_shares("authority", ages=AGES, authority=partial, england=england)
    assert shares is None
    assert problems == [
        "share = 'authority': the caseload file gives no share of plans in bases for secondary"
        " (ages 11-15): set inputs.demand.share to a fraction for that phase"
    ]
    shares, problems = base_shares("higher", ages=AGES, authority=partial, england=england)
    assert problems == [] and shares is not None
    assert shares.by_age.loc[11:15].tolist() == pytest.approx([0.06] * 5)


# --- modelled demand ------------------------------------------------------------------------------


def _modelled(tmp_path: Path, choice: object, **caseload: object) -> pd.DataFrame:
    problems = Problems()
    population = read_population(write_population(tmp_path / "pop.csv"), problems)
    needs = read_needs(write_sen2_needs(tmp_path / "needs.csv"), problems, authority="358")
    own, england = _caseloads(write_sen2_caseload(tmp_path / "c.csv", **caseload))
    shares, _ = base_shares(choice, ages=AGES, authority=own, england=england)
    assert population is not None and needs is not None and shares is not None
    table, _ = modelled_demand(population, needs, share=shares.by_age, ages=AGES)
    return table


def test_authority_share_reproduces_sen2_children_in_bases_by_phase(tmp_path):
    # Population x plans per resident x share, summed over the authority's areas, is plans x
    # share at each age: 7 ages x 120 x 5% = 42 primary, 5 x 120 x 5% = 30 secondary.
    table = _modelled(tmp_path, "authority")
    assert demand_by_phase(table).to_dict() == pytest.approx({"primary": 42.0, "secondary": 30.0})
    by_age = table.groupby("age")["children"].sum()
    assert by_age.loc[4:15].tolist() == pytest.approx([6.0] * 12)
    higher = _modelled(tmp_path, "higher")
    assert demand_by_phase(higher).to_dict() == pytest.approx({"primary": 42.0, "secondary": 36.0})


def test_plans_with_no_recorded_need_are_spread_over_the_known_needs(tmp_path):
    problems = Problems()
    population = read_population(write_population(tmp_path / "pop.csv"), problems)
    path = write_sen2_needs(tmp_path / "needs.csv")
    text = path.read_text(encoding="utf-8-sig").splitlines()
    text[0] += ",number_need_unknown"
    # Age 5 (line 5 of the file): 132 plans, 12 of them with no recorded need.
    text = [text[0]] + [
        line.replace(",age 5,120,", ",age 5,132,") + (",12" if ",age 5," in line else ",0")
        for line in text[1:]
    ]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    needs = read_needs(path, problems, authority="358")
    assert problems.items == [] and needs is not None
    table, notes = modelled_demand(population, needs, share=0.5, ages={"primary": (5, 5)})
    assert table["children"].sum() == pytest.approx(132 * 0.5)  # all 132 counted
    assert table.groupby("need_code")["children"].sum()["ASD"] == pytest.approx(11 * 0.5)
    assert notes[-1] == (
        "12 plan(s) at the planned ages with no recorded primary need are spread over the"
        " recorded needs of their age"
    )


def test_an_age_band_spreads_its_rate_over_its_single_years(tmp_path):
    problems = Problems()
    population = read_population(write_population(tmp_path / "pop.csv"), problems)
    needs = read_needs(write_sen2_needs(tmp_path / "needs.csv"), problems, authority="358")
    assert population is not None and needs is not None
    table, _ = modelled_demand(population, needs, share=1.0, ages={"primary": (2, 2)})
    # under 3 = 12 plans over 3 x 80 residents aged 0-2; 80 residents aged 2: 4 plans.
    assert table["children"].sum() == pytest.approx(12 * 80 / 240)
    assert set(table["age"]) == {2}


@settings(max_examples=40, deadline=None)
@given(
    plans=st.lists(st.integers(1, 400), min_size=12, max_size=12),
    placed=st.lists(st.floats(0.0, 0.3), min_size=12, max_size=12),
    people=st.lists(st.integers(1, 500), min_size=24, max_size=24),
)
def test_authority_share_matches_sen2_on_random_authorities(plans, placed, people):
    """With the authority's share, modelled demand by phase is SEN2's children in bases."""
    ages = list(range(4, 16))
    in_bases = [round(p * s) for p, s in zip(plans, placed, strict=True)]
    index = pd.Index(ages, name="age")
    need_mix = np.array([0.3, 0.2, 0.2, 0.1, 0.05, 0.05, 0.02, 0.02, 0.02, 0.01, 0.02, 0.01])
    by_need = pd.DataFrame(np.outer(plans, need_mix), index=index, columns=NEED_ORDER)
    needs = NeedsByAge(
        plans=by_need,
        age_totals=pd.Series(plans, index=index, dtype=float),
        totals=by_need.sum(),
        all_plans=float(sum(plans)),
        year=2025,
        history=by_need.sum().to_frame(2025).T,
        oldest=pd.Series(ages, index=index),
        unknown_need=pd.Series(0.0, index=index),
        name="Anyshire",
    )
    by_age = pd.DataFrame(
        {"oldest": ages, "plans": plans, "in_bases": in_bases}, index=index, dtype=float
    )
    own = Caseload(pd.Series({2025: 1.0}), pd.Series({2025: 0.0}), by_age, 2025, "Anyshire")
    shares, _ = base_shares("authority", ages=AGES, authority=own, england=None)
    assert shares is not None
    population = pd.DataFrame(
        np.array(people, dtype=float).reshape(2, 12), index=["A", "B"], columns=ages
    )
    table, _ = modelled_demand(population, needs, share=shares.by_age, ages=AGES)
    totals = demand_by_phase(table)
    assert totals.get("primary", 0.0) == pytest.approx(sum(in_bases[:7]), abs=1e-9)
    assert totals.get("secondary", 0.0) == pytest.approx(sum(in_bases[7:]), abs=1e-9)


NEED_ORDER = ["ASD", "SLCN", "SEMH", "MLD", "SLD", "PMLD", "SpLD", "HI", "VI", "MSI", "PD", "OTH"]


def test_low_demand_warning_is_suppressed():
    table = pd.DataFrame({"phase": ["primary"], "children": [2.4]})
    assert low_demand_warning(table, threshold=5, source="pop.csv") == (
        "pop.csv: <5 children in total need a base place, under the suppression threshold (5);"
        " too few to plan bases for: check inputs.demand (the share, the ages, the authority)"
    )
    assert low_demand_warning(table.assign(children=5.0), threshold=5, source="x") is None


# --- existing places against SEN2 -----------------------------------------------------------------


def _bases(phases: list[str], capacity: list[float], assumed: list[bool]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "urn": [str(100 + i) for i in range(len(phases))],
            "phase": phases,
            "capacity": capacity,
            "capacity_assumed": assumed,
        }
    )


def _check(bases: pd.DataFrame, capacity_from: str = "default", **children: float):
    return check_existing_places(
        bases,
        in_bases=InBases(
            children={"primary": math.nan, "secondary": math.nan, **children},
            year=2025,
            authority="Trafford",
        ),
        capacity_from=capacity_from,
        default_capacity=10,
        threshold=5,
    )


TRAFFORD_BASES = _bases(["primary"] * 8 + ["secondary"] * 3, [10.0] * 11, [True] * 11)


def test_assumed_places_compared_with_sen2_by_phase():
    check = _check(TRAFFORD_BASES, primary=103, secondary=51)
    assert check.bases["capacity"].sum() == 110
    assert check.warnings == [
        "existing bases: 110 places assumed (11 bases x 10 places, no capacity recorded)"
        " against 154 of Trafford's children with an EHC plan in mainstream resourced"
        " provision or SEN units in SEN2 January 2025 (primary: 80 places for 103 children;"
        ' secondary: 30 places for 51 children); set inputs.schools.capacity_from = "sen2" to'
        " scale the assumed places to SEN2, or record their places in a bases register"
        " (inputs.bases)"
    ]


def test_capacity_from_sen2_scales_assumed_places_to_whole_places_by_phase():
    check = _check(TRAFFORD_BASES, "sen2", primary=103, secondary=51)
    capacity = check.bases["capacity"].tolist()
    assert capacity == [13.0] * 7 + [12.0] + [17.0] * 3  # 103 = 7 x 13 + 12; 51 = 3 x 17
    assert check.warnings == [
        "existing bases: 110 places assumed (11 bases x 10 places, no capacity recorded),"
        ' scaled to SEN2 (inputs.schools.capacity_from = "sen2") against 154 of'
        " Trafford's children with an EHC plan in mainstream resourced provision or SEN units in"
        " SEN2 January 2025: primary: 103 places for 103 children (8 bases with assumed places,"
        " 12-13 each); secondary: 51 places for 51 children (3 bases with assumed places, 17"
        " each); recorded places (a bases register, inputs.bases) would be better"
    ]


def test_recorded_places_are_kept_and_counted():
    bases = _bases(["primary", "primary", "primary"], [20.0, 10.0, 10.0], [False, True, True])
    check = _check(bases, "sen2", primary=50, secondary=0)
    assert check.bases["capacity"].tolist() == [20.0, 15.0, 15.0]
    check = _check(bases, "sen2", primary=12, secondary=0)
    assert check.bases["capacity"].tolist() == [20.0, 1.0, 1.0]  # a base keeps one place
    assert "primary: recorded places (20) already cover SEN2's children" in check.warnings[0]


def test_all_through_base_split_between_phases_as_sen2s_children():
    bases = _bases(["all-through", "secondary"], [10.0, 10.0], [True, True])
    check = _check(bases, "sen2", primary=30, secondary=10)
    # Weights 0.75 / 0.25: primary 7.5 assumed places -> factor 4; secondary 2.5 + 10 -> 0.8.
    assert check.bases["capacity"].tolist() == [32.0, 8.0]


def test_only_recorded_places_get_a_note():
    bases = _bases(["primary", "secondary"], [8.0, 12.0], [False, False])
    check = _check(bases, "sen2", primary=3, secondary=12)
    assert check.warnings == []
    assert check.notes == [
        "existing bases: 20 places recorded against 15 of Trafford's children with an EHC plan in"
        " mainstream resourced provision or SEN units in SEN2 January 2025 (primary: 8 places"
        " for <5 children; secondary: 12 places for 12 children)"
    ]


def test_no_bases_given_but_sen2_has_children_in_bases():
    empty = _bases([], [], [])
    assert _check(empty, primary=0, secondary=0).warnings == []
    assert _check(empty, primary=27, secondary=36).warnings == [
        "existing bases: none given, but there are 63 of Trafford's children with an EHC plan in"
        " mainstream resourced provision or SEN units in SEN2 January 2025 (27 primary, 36"
        " secondary): their places are missing from the model, so demand near them looks unmet;"
        " give the authority's bases (a bases register as inputs.bases, or a schools file with"
        " resourced provision and SEN unit flags)"
    ]


# --- the scenario keys ---------------------------------------------------------------------------


def _demand(**keys: object) -> DemandInput:
    return DemandInput.model_validate(
        {"method": "modelled", "population": "p.csv", "sen2_needs": "n.csv",
         "sen2_caseload": "c.csv", "authority": "358", **keys}
    )  # fmt: skip


def test_share_forms():
    assert _demand().share == "higher"
    assert _demand(share=" England ").share == "england"
    assert _demand(share=0.05).share == 0.05
    assert _demand(share={"primary": 0.05, "secondary": 0.03}).share == {
        "primary": 0.05, "secondary": 0.03,
    }  # fmt: skip
    assert not _demand(share=0.05, sen2_caseload=None).share_needs_caseload


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"share": "median"},
            "inputs.demand.share: 'median' is not a share: use \"higher\", \"authority\","
            ' "england", a fraction (e.g. 0.05) or fractions by phase ({ primary = 0.05,'
            " secondary = 0.03 })",
        ),
        ({"share": 0}, "inputs.demand.share: must be above 0 and at most 1 (got 0)"),
        ({"share": {"primary": 1.5, "secondary": 0.1}},
         "inputs.demand.share.primary: must be above 0 and at most 1 (got 1.5)"),
        ({"share": {"nursery": 0.1}}, "inputs.demand.share.nursery: unknown phase (use primary,"
         " secondary)"),
        ({"share": True}, 'inputs.demand.share: must be a fraction of EHC plans (e.g. 0.05) or'
         ' "higher", "authority", "england"'),
        ({"share": {"primary": 0.05}}, "inputs.demand.share: give a share for secondary too"
         " (every phase in inputs.demand.ages)"),
        ({"ages": {"primary": [4, 11], "secondary": [11, 15]}}, "inputs.demand.ages: primary and"
         " secondary overlap (each age belongs to one phase)"),
        ({"sen2_caseload": None}, "inputs.demand.sen2_caseload: required for method 'modelled'"
         " with share = 'higher'"),
    ],
)  # fmt: skip
def test_bad_share_and_ages(keys, message):
    with pytest.raises(ValueError, match=r"inputs\.demand") as caught:
        _demand(**keys)
    assert message in str(caught.value)


def test_capacity_from_sen2_needs_the_caseload(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[inputs]\nareas = "a.csv"\n[inputs.schools]\npath = "g.csv"\nformat = "gias"\n'
        'capacity_from = "sen2"\n[inputs.demand]\nmethod = "counts"\npath = "d.csv"\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == [
        f'{path}: inputs.schools.capacity_from: "sen2" needs inputs.demand.sen2_caseload and'
        " inputs.demand.authority (the SEN2 caseload file gives the children in bases)"
    ]


def test_read_caseload_keeps_its_signature(tmp_path):
    problems = Problems()
    caseload = read_caseload(write_sen2_caseload(tmp_path / "c.csv"), problems, authority="358")
    assert caseload is not None and caseload.base_share == pytest.approx(60 / 1464.1)


# --- through `sitefinder validate` ---------------------------------------------------------------


@pytest.fixture
def base(tmp_path: Path):
    from test_broken_inputs import gias_baseline

    return gias_baseline(tmp_path)


def _validate(config: Path) -> tuple[str, list[str], list[str]]:
    from typer.testing import CliRunner

    from sitefinder.cli import app

    result = CliRunner().invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    notes = [line.removeprefix("note: ") for line in lines if line.startswith("note: ")]
    warnings = [line.removeprefix("warning: ") for line in lines if line.startswith("warning: ")]
    return result.stdout, notes, warnings


SEN2_TODAY = (
    "72 of Trafford's children with an EHC plan in mainstream resourced provision or SEN units"
    " in SEN2 January 2025"
)


def test_validate_reports_demand_by_phase_against_sen2_and_the_assumed_places(base):
    stdout, notes, warnings = _validate(base.scenario())
    assert "2 existing bases (18 places)" in stdout and "78 children" in stdout
    expected = [
        "demand modelled: population x Trafford's EHC-plan rates by need and age (January 2025,"
        " 1,200 plans) x the share of plans needing a base place: the higher of Trafford's and"
        " England's share at each age (SEN2 January 2025)",
        "share of EHC plans in mainstream resourced provision or SEN units, SEN2 January 2025:"
        " primary (ages 4-10) Trafford 5.0%, England 4.0%; secondary (ages 11-15) Trafford"
        " 5.0%, England 6.0%",
        "modelled demand by phase: primary 42, secondary 36 children (SEN2 January 2025,"
        " children in mainstream bases today: primary 42, secondary 30)",
    ]
    assert [note for note in notes if note in expected] == expected
    assert (
        "existing bases: 10 places assumed (1 base x 10 places, no capacity recorded)"
        f" and 8 recorded (1 base) against {SEN2_TODAY} (primary: 8 places for 42 children;"
        ' secondary: 10 places for 30 children); set inputs.schools.capacity_from = "sen2" to'
        " scale the assumed places to SEN2, or record their places in a bases register"
        " (inputs.bases)"
    ) in warnings


def test_validate_with_capacity_from_sen2(base):
    base.sections["inputs.schools"]["capacity_from"] = "sen2"
    stdout, _, warnings = _validate(base.scenario())
    assert "2 existing bases (38 places)" in stdout  # 8 recorded + 30 for SEN2's secondary
    assert (
        "existing bases: 10 places assumed (1 base x 10 places, no capacity recorded)"
        ' and 8 recorded (1 base), scaled to SEN2 (inputs.schools.capacity_from = "sen2") against'
        f" {SEN2_TODAY}: secondary: 30 places for 30 children (1 base with assumed places, 30"
        " each); recorded places (a bases register, inputs.bases) would be better"
    ) in warnings


def test_validate_warns_when_demand_is_under_the_suppression_threshold(base):
    base.sections["inputs.demand"]["share"] = 0.002
    _, _, warnings = _validate(base.scenario())
    assert (
        f"{base.population}: <5 children in total need a base place, under the suppression"
        " threshold (5); too few to plan bases for: check inputs.demand (the share, the ages,"
        " the authority)"
    ) in warnings


def test_counts_file_with_and_without_ages(base, tmp_path):
    counts = tmp_path / "demand.csv"
    counts.write_text(
        "area_code,phase,need_code,age,children\n"
        "E01000001,primary,ASD,7,3\n"
        "E01000002,secondary,SEMH,,4\n",
        encoding="utf-8",
    )
    base.sections["inputs.demand"] = {
        "method": "counts", "path": str(counts), "sen2_caseload": str(base.caseload),
        "authority": "358",
    }  # fmt: skip
    from sitefinder.config import load_scenario
    from sitefinder.load import load_inputs

    data = load_inputs(load_scenario(base.scenario()))
    assert data.demand["age"].tolist()[0] == 7 and data.demand["age"].isna().tolist()[1]
    assert any(w.startswith("existing bases: 10 places assumed") for w in data.warnings)
    counts.write_text(
        "area_code,phase,need_code,age,children\nE01000001,primary,ASD,12,3\n", encoding="utf-8"
    )
    from test_broken_inputs import errors

    assert errors(base.scenario()) == [
        f"error: {counts}: column age, line 2: outside the phase's ages (inputs.demand.ages)"
    ]
