"""Demand and existing places against SEN2 on the real DfE files and Trafford.

Each DfE file is read once per run; every authority, region and England is then taken out of
it. These tests skip when SITEFINDER_REAL_DATA is unset (see /work/shared/data/README.md).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pytest

from sitefinder.config import Scenario, load_scenario
from sitefinder.demand import base_shares, demand_by_phase, pooled_share, shares_by_single_age
from sitefinder.load import AuthorityData, load_inputs
from sitefinder.readers.sen2 import AGE_TOPIC, Sen2File, caseload_of, needs_of, read_sen2
from sitefinder.validate import Problems

TRAFFORD_TOML = Path(__file__).resolve().parents[1] / "configs" / "examples" / "trafford.toml"
CASELOAD = "dfe/ehcp2025_caseload_all_LAs.csv"
NEEDS = "dfe/ehcp2025_sen_needs_all_plans_all_LAs.csv"
AGES = {"primary": (4, 10), "secondary": (11, 15)}


@functools.cache
def _file(folder: Path, name: str) -> Sen2File:
    problems = Problems()
    found = read_sen2(folder / name, problems, kind="needs" if name == NEEDS else "caseload")
    assert problems.items == [] and found is not None
    return found


def _labelled(label: str) -> tuple[int, int]:
    """What the DfE's label says, read independently of the reader."""
    if label == "under 3":
        return 0, 2
    match = re.fullmatch(r"age (\d+)", label)
    assert match, label
    return int(match.group(1)), int(match.group(1))


def test_every_authority_region_and_england_reads(real_data):
    needs_file, caseload_file = _file(real_data, NEEDS), _file(real_data, CASELOAD)
    authorities = needs_file.geographies("authority")
    regions = caseload_file.geographies("regional")
    assert len(authorities) == 153 and len(regions) == 9
    assert set(authorities) <= set(caseload_file.geographies("authority"))
    labels = needs_file.rows[needs_file.rows["breakdown_topic"] == AGE_TOPIC]
    with_under_3 = labels.loc[labels["breakdown"] == "under 3", "new_la_code"]
    assert with_under_3[with_under_3 != ""].nunique() == 114  # the authorities that crashed
    problems = Problems()
    missing_cells = {}
    for code in ["England", *regions, *authorities]:
        needs = needs_of(needs_file, code, problems)
        caseload = caseload_of(caseload_file, code, problems)
        assert problems.items == [], code
        assert needs is not None and caseload is not None
        assert needs.year == 2025 and caseload.latest_year == 2025
        # Ages as labelled: one row per label, indexed by its youngest age.
        rows = needs_file.rows_of(code, problems)
        assert rows is not None
        own = rows[rows["breakdown_topic"] == AGE_TOPIC]
        expected = sorted(_labelled(label) for label in own["breakdown"])
        assert list(zip(needs.plans.index, needs.oldest, strict=True)) == expected
        # Shares by age within [0, 1]: each need's share of the age's plans, and the share
        # placed in bases (where the DfE gives both numbers).
        need_share = needs.plans.div(needs.age_totals.where(needs.age_totals > 0), axis=0)
        assert ((need_share >= 0) & (need_share <= 1) | need_share.isna()).all().all(), code
        assert caseload.by_age is not None, code
        shares = caseload.shares_by_age()
        assert ((shares >= 0) & (shares <= 1) | shares.isna()).all(), code
        known = caseload.by_age.dropna()
        assert (known["in_bases"] <= known["plans"]).all(), code
        missing_cells[code] = needs.missing_cells
    # Suppressed or unavailable cells are noted, never read as zero.
    assert missing_cells["E10000030"] == 24 * 12  # Surrey: no need by age at all
    assert sum(v > 0 for v in missing_cells.values()) == 1


def test_england_and_authority_shares_by_phase(real_data):
    caseload_file = _file(real_data, CASELOAD)
    problems = Problems()
    england = caseload_of(caseload_file, "England", problems)
    assert england is not None and england.in_bases[2025] == 24524
    shares = {}
    for name in ("Trafford", "Rutland", "Isle of Wight", "Cambridgeshire"):
        own = caseload_of(caseload_file, name, problems)
        assert own is not None
        shares[name] = {p: pooled_share(own, *AGES[p]) for p in AGES}
        if name == "Trafford":
            assert own.in_bases_at(4, 10) == 103 and own.in_bases_at(11, 15) == 51
        if name == "Cambridgeshire":  # 2025 placements unavailable: January 2024's are used
            assert own.age_year == 2024
    assert shares["Trafford"]["primary"] == pytest.approx(103 / 1084)
    assert shares["Isle of Wight"]["primary"] < 0.01 and shares["Rutland"]["secondary"] > 0.2
    isle = caseload_of(caseload_file, "Isle of Wight", problems)
    chosen, _ = base_shares("higher", ages=AGES, authority=isle, england=england)
    assert chosen is not None
    assert chosen.warnings[0].startswith(
        "inputs.demand.share: Isle of Wight's share of EHC plans placed in mainstream resourced"
        " provision or SEN units is under half England's (SEN2 January 2025): primary (ages"
        " 4-10) 0.2% against 6.3%; secondary (ages 11-15) 0.2% against 3.9%"
    )
    national = shares_by_single_age(england, AGES)
    assert chosen.by_age.tolist() == pytest.approx(national.tolist())  # England's at every age


def _with(scenario: Scenario, section: str, **changes: object) -> Scenario:
    data = scenario.model_dump()
    data["inputs"][section].update(changes)
    return Scenario.model_validate(data)


@functools.cache
def _trafford(folder: Path, section: str = "demand", **changes: object) -> AuthorityData:
    del folder  # the cache key: the scenario reads ${SITEFINDER_REAL_DATA}
    return load_inputs(_with(load_scenario(TRAFFORD_TOML), section, **changes))


@pytest.fixture
def trafford_env(real_data, monkeypatch):
    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    return real_data


def test_trafford_demand_with_its_own_share_matches_sen2_by_phase(trafford_env):
    data = _trafford(trafford_env, share="authority")
    totals = demand_by_phase(data.demand)
    assert totals["primary"] == pytest.approx(103, rel=0.05)
    assert totals["secondary"] == pytest.approx(51, rel=0.05)
    assert set(data.demand.columns) == {"area_code", "phase", "need_code", "age", "children"}
    ages = data.demand.groupby("phase")["age"].agg(["min", "max"])
    assert ages.loc["primary"].tolist() == [4, 10] and ages.loc["secondary"].tolist() == [11, 15]


def test_trafford_default_share_is_the_higher_at_each_age(trafford_env):
    default = demand_by_phase(_trafford(trafford_env).demand)
    own = demand_by_phase(_trafford(trafford_env, share="authority").demand)
    england = demand_by_phase(_trafford(trafford_env, share="england").demand)
    assert (default >= np.fmax(own, england) - 1e-9).all()
    # Trafford places more of its primary-age plans in bases than England (9.5% against 6.3%).
    assert england["primary"] == pytest.approx(68.0, abs=0.1)
    assert default.round(1).to_dict() == {"primary": 103.5, "secondary": 51.6}


def test_trafford_projection_to_a_planning_year(trafford_env):
    base = demand_by_phase(_trafford(trafford_env).demand)
    later = _trafford(trafford_env, planning_year=2030)
    assert (demand_by_phase(later.demand) > base * 1.05).all()
    assert any(n.startswith("projected 2025 -> 2030 with yearly growth") for n in later.notes)


def test_trafford_assumed_places_against_sen2(trafford_env):
    # The example scales its assumed places to SEN2; left at the default they are 10 each.
    data = _trafford(trafford_env, "schools", capacity_from="default")
    assert data.bases["capacity"].sum() == 110 and data.bases["capacity_assumed"].all()
    assert (
        "existing bases: 110 places assumed (11 bases x 10 places, no capacity recorded)"
        " against 154 of Trafford's children with an EHC plan in mainstream resourced"
        " provision or SEN units in SEN2 January 2025 (primary: 80 places for 103 children;"
        " secondary: 30 places for 51 children)"
    ) in " ".join(data.warnings)
    scaled = _trafford(trafford_env, "schools", capacity_from="sen2")
    by_phase = scaled.bases.groupby("phase")["capacity"].sum()
    assert by_phase.to_dict() == {"primary": 103, "secondary": 51}
    assert (scaled.bases["capacity"] == scaled.bases["capacity"].round()).all()


def test_validate_prints_the_places_warning(trafford_env):
    from typer.testing import CliRunner

    from sitefinder.cli import app

    result = CliRunner().invoke(app, ["validate", "--config", str(TRAFFORD_TOML)])
    assert result.exit_code == 0, result.output
    assert "warning: existing bases: 110 places assumed" in result.stderr
    assert "note: modelled demand by phase: primary" in result.stderr
