"""National scenarios: a synthetic England in the real layouts, ranked authority by authority.

A three-authority England (a metropolitan borough, a London borough and a county council with
invented districts) is written in tmp_path; each authority's result must be exactly what
``sitefinder rank`` gives for that authority alone on the same national files.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from sitefinder.cli import app
from sitefinder.columns import RANKING
from sitefinder.config import load_scenario, with_settings
from sitefinder.errors import DataError, ScenarioError
from sitefinder.load import load_inputs
from sitefinder.model.network import Metrics
from sitefinder.national import Task, rank_national, split_national
from sitefinder.national.outputs import (
    NATIONAL_COLUMNS,
    authority_documents,
    network_frames,
    to_national_csv,
    to_national_json,
    write_national_geopackage,
)
from sitefinder.national.run import AuthorityRun, Flows, NationalResult, check_national
from sitefinder.national.synthetic import (
    CASELOAD_COLUMNS,
    GIAS_ALL_COLUMNS,
    NEEDS_COLUMNS,
    Synthetic,
    write_synthetic_england,
)
from sitefinder.pipeline import rank
from sitefinder.readers.sen2 import caseload_of, needs_of, read_sen2
from sitefinder.report import to_json
from sitefinder.validate import Problems

runner = CliRunner()
AUTHORITIES = ["Gateshead", "Ealing", "Norfolk"]
SPEC = Synthetic(schools=45, areas=45, authorities=tuple(AUTHORITIES), seed=3, bases=2, top=3)


@pytest.fixture(scope="module")
def england(tmp_path_factory):
    folder = tmp_path_factory.mktemp("england")
    return write_synthetic_england(folder, SPEC)


@pytest.fixture(scope="module")
def national(england):
    return rank_national(_scenario(england), task=Task(layers=True))


def _scenario(england, **more):
    # A county council alone reads every area of the synthetic files (its districts are known
    # only from its schools), so special schools across the border would differ from its
    # slice's: the split is compared without them (test_fallback tests the border).
    return with_settings(
        load_scenario(england.scenario),
        # small synthetic authorities: the split is compared on plans of two bases each
        {"inputs.schools.cross_border_km": 0, "selection.min_occupancy": 0, **more},
    )


# --- the synthetic files -----------------------------------------------------------------------


def test_synthetic_england_is_written_in_the_real_layouts(england, tmp_path):
    raw = england.files["schools"].read_bytes()
    header = raw.split(b"\r\n", 1)[0].decode("cp1252").split(",")
    assert header == list(GIAS_ALL_COLUMNS) and len(header) == 135
    assert "\u2019".encode("cp1252") in raw or b"St " not in raw  # curly apostrophes, cp1252
    population = pd.read_csv(england.files["population"], nrows=1)
    assert list(population.columns[:5]) == [
        "LAD 2021 Code", "LAD 2021 Name", "LSOA 2021 Code", "LSOA 2021 Name", "Total",
    ]  # fmt: skip
    assert list(population.columns[-2:]) == ["89", "90+"]
    for key, columns in (("sen2_needs", NEEDS_COLUMNS), ("sen2_caseload", CASELOAD_COLUMNS)):
        assert england.files[key].read_bytes().startswith(b"\xef\xbb\xbf")  # as the DfE's
        assert list(pd.read_csv(england.files[key], nrows=0, encoding="utf-8-sig").columns) == [
            *columns
        ]
    problems = Problems()
    needs = read_sen2(england.files["sen2_needs"], problems, kind="needs")
    caseload = read_sen2(england.files["sen2_caseload"], problems, kind="caseload")
    assert problems.items == [] and needs is not None and caseload is not None
    for geography in ("England", "Norfolk", "E09000009", "390"):
        assert needs_of(needs, geography, problems) is not None
        found = caseload_of(caseload, geography, problems)
        assert found is not None and found.age_year == 2025 and found.in_bases_at(4, 10) >= 0
    assert problems.items == []
    england_plans = needs_of(needs, "England", problems).all_plans
    parts = sum(needs_of(needs, a, problems).all_plans for a in AUTHORITIES)
    assert england_plans == parts  # England is the sum of its authorities
    again = write_synthetic_england(tmp_path, SPEC)
    for key, path in england.files.items():
        assert path.read_bytes() == again.files[key].read_bytes(), key  # seeded


def test_a_county_councils_areas_carry_its_districts_codes(england):
    areas = pd.read_csv(england.files["areas"], dtype=str)
    norfolk = areas[areas["area_name"].str.startswith("Norfolk district")]
    assert len(norfolk) > 0 and norfolk["LAD21CD"].str.startswith("E07").all()
    gias = pd.read_csv(england.files["schools"], dtype=str, encoding="cp1252")
    county = gias[gias["LA (code)"] == "926"]
    assert set(county["DistrictAdministrative (code)"]) <= set(norfolk["LAD21CD"])


# --- each authority as if ranked alone ---------------------------------------------------------


def _alone(england, name):
    return rank(_scenario(england, authority=name))


@pytest.mark.parametrize("name", AUTHORITIES)
def test_each_authority_is_ranked_as_it_is_alone_on_the_national_files(england, national, name):
    alone = json.loads(to_json(_alone(england, name), top=3))
    run = next(r for r in national.runs if r.authority.name == name)
    assert run.document["ranking"] == alone["ranking"]
    assert run.document["plan"] == alone["plan"]
    assert run.document["network"] == alone["network"]
    assert run.document["warnings"] == alone["warnings"]  # about the national files
    assert len(run.document["plan"]["chosen"]) == 2


def test_national_totals_add_up_the_authorities(national):
    for when in ("before", "after"):
        total = getattr(national, when)
        parts = [getattr(r, when) for r in national.runs]
        assert total.children == pytest.approx(sum(p.children for p in parts))
        assert total.unmet == pytest.approx(sum(p.unmet for p in parts))
        assert total.total_harm == pytest.approx(sum(p.total_harm for p in parts))
        weighted = sum(p.mean_minutes * p.placed for p in parts if p.placed) / total.placed
        assert total.mean_minutes == pytest.approx(weighted)
        shown = [p.p95_minutes for p in parts if p.placed]
        assert min(shown) <= total.p95_minutes <= max(shown)
    assert national.after.total_harm < national.before.total_harm
    assert any("not modelled" in note for note in national.notes)


def test_national_outputs(national, tmp_path):
    table = pd.read_csv(pd.io.common.StringIO(to_national_csv(national)), dtype=str)
    assert list(table.columns) == NATIONAL_COLUMNS
    assert sorted(table["authority"].unique()) == sorted(AUTHORITIES)
    assert (table.groupby("authority").size() <= 3).all()
    document = json.loads(to_national_json(national))
    assert document["national"] is True and "crossing authority borders" in document["cross_border"]
    assert [a["authority"] for a in document["authorities"]] == [
        r.authority.name for r in national.runs
    ]
    assert set(document["network"]) == {"before", "after"}
    path = write_national_geopackage(national, tmp_path / "england.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert {"candidates", "planned_bases", "demand", "assignments", "authorities", "run_info"} <= (
        set(layers)
    )
    planned = pyogrio.read_dataframe(path, layer="planned_bases")
    assert sorted(planned["authority"].unique()) == sorted(AUTHORITIES)
    assert len(planned) == sum(len(a["plan"]["chosen"]) for a in document["authorities"])
    info = pyogrio.read_dataframe(path, layer="run_info").set_index("key")["value"]
    assert info["national"] == "true" and info["authorities"] == "3"
    assert "input_sha256_schools" in info.index


# --- disclosure control across the authorities -------------------------------------------------


def test_small_counts_are_withheld_in_the_national_csv(national):
    # The three synthetic authorities have few children: most candidates serve under 5.
    table = pd.read_csv(pd.io.common.StringIO(to_national_csv(national)), dtype=str)
    counts = table[[c.key for c in RANKING if c.kind == "count"]].stack()
    assert (counts == "<5").any()
    shown = pd.to_numeric(counts[~counts.isin(["<5", "c"])])  # c: withheld for a total
    assert not ((shown > 0) & (shown < 5)).any()  # no count of 1 to 4 children is written
    small = table[table["children_served"] == "<5"]
    harm = [c.key for c in RANKING if c.kind == "harm"]
    assert (small[harm] == "c").all().all()  # their harm would give the count back


def _metrics(children: float, unmet: float) -> Metrics:
    return Metrics(
        total_harm=2.0 * unmet + 0.1 * (children - unmet),
        children=children,
        placed=children - unmet,
        unmet=unmet,
        within_limit=children - unmet,
        mean_minutes=20.0,
        p95_minutes=30.0,
        journey_harm=unmet + 0.1 * (children - unmet),
        mismatch_harm=float(unmet),
    )


def test_a_withheld_authority_figure_cannot_be_worked_out_from_englands(national):
    # Three authorities: one leaves 2 children without a place after its plan (withheld),
    # England's total is shown, so another authority's figure must be withheld too.
    runs = []
    for run, unmet in zip(national.runs, (2.0, 40.0, 50.0), strict=True):
        metrics = _metrics(100.0, unmet)
        flows = Flows(np.array([20.0]), np.array([100.0 - unmet]))
        flows_by_stage = {"before": flows, "after": flows}
        runs.append(
            AuthorityRun(
                run.authority, run.document, metrics, metrics, flows_by_stage, 2.5, None, {}, 0.0
            )
        )
    totals = _metrics(300.0, 92.0)
    result = NationalResult(national.scenario, runs, totals, totals, {})
    after = network_frames(result)["after"]
    withheld = [str(v) for v in after["unmet"]]
    assert withheld[0] == "<5"
    # A second one (40, so "c": it is not under 5), so 92 - shown gives back no small count.
    assert withheld[1] == "c"
    assert after.at["England", "unmet"] == 92.0
    documents = authority_documents(result)
    assert documents[0]["network"]["after"]["unmet"] == "<5"
    assert documents[0]["plan"]["total_harm"] == "c"  # withheld with its row


# --- the command -------------------------------------------------------------------------------


def test_rank_runs_a_national_scenario_on_a_dask_scheduler(england, tmp_path):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            processes=False,
            dashboard_address=None,
            # Not dask's default port 8787, which another run may hold.
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster),
    ):
        result = runner.invoke(
            app,
            ["rank", "--config", str(england.scenario), "--scheduler", cluster.scheduler_address,
             "--format", "json", "--output", str(tmp_path / "e.gpkg")],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [a["authority"] for a in document["authorities"]] == ["Gateshead", "Ealing", "Norfolk"]
    assert "3 authorities ranked on inproc://" in result.stderr
    assert "peak memory: client" in result.stderr and "worker 2" in result.stderr
    assert "children crossing authority borders" in result.stderr
    assert (tmp_path / "e.gpkg").exists()


def test_rank_runs_a_national_scenario_on_two_local_worker_processes(england):
    result = runner.invoke(
        app, ["rank", "--config", str(england.scenario), "--workers", "2", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == ",".join(NATIONAL_COLUMNS)
    assert "local cluster of 2 worker process(es)" in result.stderr
    table = pd.read_csv(pd.io.common.StringIO(result.stdout), dtype=str)
    assert sorted(table["authority"].unique()) == sorted(AUTHORITIES)


def test_validate_checks_every_authority(england):
    result = runner.invoke(app, ["validate", "--config", str(england.scenario)])
    assert result.exit_code == 0, result.output
    assert "valid. " in result.stdout
    assert "3 authorities checked" in result.stderr


# --- bad input ---------------------------------------------------------------------------------


def test_a_bad_cell_is_named_by_authority_national_file_and_line(england, tmp_path):
    gias = pd.read_csv(england.files["schools"], dtype=str, encoding="cp1252",
                       keep_default_na=False)  # fmt: skip
    primary = gias["PhaseOfEducation (name)"] == "Primary"
    ealing = np.flatnonzero((gias["LA (code)"] == "307") & primary)
    row = int(ealing[-1])
    gias.loc[row, "SchoolCapacity"] = "lots"
    path = tmp_path / "establishments.csv"
    gias.to_csv(path, index=False, encoding="cp1252", lineterminator="\r\n")
    scenario = with_settings(load_scenario(england.scenario), {"inputs.schools.path": str(path)})
    with pytest.raises(DataError) as caught:
        check_national(scenario)
    problems = caught.value.problems
    assert len(problems) == 1
    assert problems[0] == (
        f"Ealing: {path}: column SchoolCapacity, line {row + 2}: not a number (write digits only)"
    )  # the national file's line, not the line in Ealing's slice
    assert (gias.loc[:row, "LA (code)"] == "307").sum() + 1 != row + 2


def test_national_scenarios_refuse_what_they_cannot_do(england):
    scenario = load_scenario(england.scenario)
    assert scenario.is_national and with_settings(scenario, {"authority": "england"}).is_national
    with pytest.raises(ScenarioError, match=r"inputs\.demand\.authority: leave it out"):
        with_settings(scenario, {"inputs.demand.authority": "Ealing"})
    with pytest.raises(ScenarioError, match='"network" cannot be used in a national'):
        with_settings(scenario, {"journey.method": "network", "journey.network": "x.osm.pbf"})
    with pytest.raises(ScenarioError, match="a national scenario is ranked authority by"):
        load_inputs(scenario)
    with pytest.raises(ScenarioError, match="not a national scenario"):
        rank_national(with_settings(scenario, {"authority": "Ealing"}))
    with pytest.raises(DataError, match="not a school of any authority"):
        split_national(with_settings(scenario, {"selection.required_urns": ["999999"]}))


def test_required_schools_go_to_their_own_authority(england):
    gias = pd.read_csv(england.files["schools"], dtype=str, encoding="cp1252")
    urn = gias.loc[gias["LA (code)"] == "390", "URN"].iloc[0]
    scenario = with_settings(load_scenario(england.scenario), {"candidates.exclude_urns": [urn]})
    found = {a.authority.name: a for a in split_national(scenario).authorities}
    assert found["Gateshead"].exclude_urns == (urn,)
    assert found["Ealing"].exclude_urns == () and found["Norfolk"].exclude_urns == ()


def test_counts_a_matrix_and_a_bases_register_are_cut_by_authority(england, tmp_path):
    """Demand counts and matrix rows go with their area, register rows with their school; a
    journey across an authority border is left out, and each authority's result is the
    same as alone."""
    areas = pd.read_csv(england.files["areas"], dtype=str)
    gias = pd.read_csv(england.files["schools"], dtype=str, encoding="cp1252")
    open_schools = gias[gias["EstablishmentStatus (name)"] == "Open"]
    rng = np.random.default_rng(0)
    xy = areas[["easting", "northing"]].astype(float).to_numpy()
    school_xy = open_schools[["Easting", "Northing"]].astype(float).to_numpy()
    metres = np.hypot(*(xy[:, None, :] - school_xy[None, :, :]).transpose(2, 0, 1))
    matrix = pd.DataFrame(
        {
            "origin_id": np.repeat(areas["area_code"], len(open_schools)),
            "destination_id": np.tile(open_schools["URN"], len(areas)),
            "minutes": (metres * 1.35 / 666.67).ravel().round(2),
        }
    )
    matrix.to_csv(tmp_path / "matrix.csv", index=False)
    counts = pd.DataFrame(
        {
            "area_code": areas["area_code"],
            "phase": rng.choice(["primary", "secondary"], len(areas)),
            "need_code": rng.choice(["ASD", "SEMH", "MLD"], len(areas)),
            "children": rng.integers(1, 4, len(areas)),
        }
    )
    counts.to_csv(tmp_path / "counts.csv", index=False)
    primary = open_schools[open_schools["PhaseOfEducation (name)"] == "Primary"]
    hosts = primary.groupby("LA (code)").head(1)["URN"]
    pd.DataFrame(
        {"urn": hosts, "base_type": "resourced_provision", "phase": "primary", "capacity": 8,
         "need_codes": "ASD"}
    ).to_csv(tmp_path / "bases.csv", index=False)  # fmt: skip
    scenario = with_settings(
        load_scenario(england.scenario),
        {
            "inputs.demand": {"method": "counts", "path": str(tmp_path / "counts.csv"),
                              "population": None},
            "inputs.bases": {"path": str(tmp_path / "bases.csv")},
            "journey.method": "matrix",
            "journey.matrix": str(tmp_path / "matrix.csv"),
        },
    )  # fmt: skip
    split = split_national(scenario)
    assert any("journeys cross an authority border and are left out" in n for n in split.notes)
    result = rank_national(scenario, split=split)
    # Alone: the authority's own counts, register and matrix rows, cut here by hand.
    la_of_urn = dict(zip(gias["URN"], gias["LA (code)"], strict=True))
    la_of_area = {}
    for run in result.runs:
        codes = {run.authority.gss_code, *run.authority.districts}
        la_of_area.update(dict.fromkeys(areas.loc[areas["LAD21CD"].isin(codes), "area_code"],
                                        run.authority.la_code))  # fmt: skip
    for run in result.runs:
        own = run.authority.la_code
        folder = tmp_path / own
        folder.mkdir()
        counts[counts["area_code"].map(la_of_area) == own].to_csv(folder / "c.csv", index=False)
        kept = (matrix["origin_id"].map(la_of_area) == own) & (
            matrix["destination_id"].map(la_of_urn) == own
        )
        matrix[kept].to_csv(folder / "m.csv", index=False)
        register = pd.read_csv(tmp_path / "bases.csv", dtype=str)
        register[register["urn"].map(la_of_urn) == own].to_csv(folder / "b.csv", index=False)
        settings = {
            "authority": run.authority.name,
            "inputs.demand.path": str(folder / "c.csv"),
            "inputs.bases.path": str(folder / "b.csv"),
            "journey.matrix": str(folder / "m.csv"),
        }
        alone = rank(with_settings(scenario, settings))
        expected = json.loads(to_json(alone, top=3))
        assert run.document["ranking"] == expected["ranking"]
        assert run.document["plan"]["chosen"] == expected["plan"]["chosen"]
        assert run.before.total_harm == pytest.approx(alone.before.total_harm, abs=1e-9)
    pd.DataFrame({"urn": ["123"], "base_type": "sen_unit", "phase": "primary", "capacity": 8,
                  "need_codes": "ASD"}).to_csv(tmp_path / "bases.csv", index=False)  # fmt: skip
    with pytest.raises(DataError, match=r"bases.csv: line 2: urn names no school of any"):
        split_national(scenario)
