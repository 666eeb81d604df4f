"""England's new bases allocated across authorities (``[national]``), and England on the real
national files: hand-checked allocations, a property against brute force, the keys' errors,
and a handful of real authorities through the national run's own code path."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from conftest import real_data_folder
from hypothesis import given, settings
from hypothesis import strategies as st

from sitefinder.config import load_scenario, with_settings
from sitefinder.errors import ScenarioError
from sitefinder.national import Task, rank_national, split_national
from sitefinder.national.allocate import allocate, bases_allowed, is_convex
from sitefinder.national.outputs import (
    allocation_frame,
    gap_by_authority,
    to_national_json,
    write_national_geopackage,
)
from sitefinder.render.national import draw_national_map

# Marginal harm averted by each authority's 1st, 2nd, 3rd base (harm points).
A = [10.0, 6.0, 2.0]  # diminishing returns
B = [8.0, 7.0, 1.0]  # diminishing returns
C = [3.0, 20.0]  # not: a second base completes a pair (the first alone averts little)


@pytest.mark.parametrize(
    ("bases", "expected", "total"),
    [
        (0, [0, 0, 0], 0.0),
        (1, [1, 0, 0], 10.0),  # A's first
        (2, [0, 0, 2], 23.0),  # C's pair (23) beats A's first and B's first (18)
        (3, [1, 0, 2], 33.0),  # A1 + C2 = 33 beats A1 + B2 = 25
        (4, [1, 1, 2], 41.0),  # A1 + B1 + C2 = 41 beats A2 + C2 = 39
        (8, [3, 3, 2], 57.0),  # every base on every curve
        (20, [3, 3, 2], 57.0),  # no more to fund
    ],
)
def test_hand_checked_allocation(bases, expected, total):
    found = allocate([A, B, C], bases=bases)
    assert found.bases.tolist() == expected
    assert found.total == pytest.approx(total)
    assert found.limit == bases


def test_last_marginal_and_exhausted_curves():
    found = allocate([A, B, C], bases=4)
    assert found.last_marginal[:2].tolist() == [10.0, 8.0]
    assert found.last_marginal[2] == 20.0
    assert found.exhausted.tolist() == [False, False, True]
    assert np.isnan(allocate([A, B, C], bases=1).last_marginal[1])


def test_funding_the_largest_marginals_first_would_be_wrong_where_a_curve_rises():
    assert is_convex(A) and is_convex(B) and not is_convex(C)
    # By largest marginal first: A1 (10), B1 (8) = 18 for two bases; the exact answer is 23.
    assert allocate([A, B, C], bases=2).total == pytest.approx(23.0)
    # With diminishing returns everywhere, largest-first is exact and the programme agrees.
    marginals = sorted(A + B, reverse=True)
    for k in range(7):
        assert allocate([A, B], bases=k).total == pytest.approx(sum(marginals[:k]))


def test_a_base_averting_no_harm_is_not_funded():
    found = allocate([[5.0, 0.0, 0.0], [1.0]], bases=5)
    assert found.bases.tolist() == [1, 1]


def _brute(curves, bases):
    best = 0.0
    for counts in itertools.product(*(range(len(c) + 1) for c in curves)):
        if sum(counts) <= bases:
            best = max(best, sum(sum(c[:k]) for c, k in zip(curves, counts, strict=True)))
    return best


curve = st.lists(st.floats(0, 30, allow_nan=False).map(lambda v: round(v, 2)), max_size=4)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(curves=st.lists(curve, min_size=1, max_size=4), bases=st.integers(0, 10))
def test_the_allocation_is_exact_and_more_bases_never_avert_less(curves, bases):
    found = allocate(curves, bases=bases)
    assert found.total == pytest.approx(_brute(curves, bases), abs=1e-6)
    assert int(found.bases.sum()) <= bases
    assert allocate(curves, bases=bases + 1).total >= found.total - 1e-9


def test_places_and_budget_become_whole_bases():
    assert bases_allowed(places=10_000, bases=None, capital_budget=None, base_size=10,
                         base_capital=1.0) == 1_000  # fmt: skip
    assert bases_allowed(places=105, bases=None, capital_budget=None, base_size=10,
                         base_capital=1.0) == 10  # fmt: skip
    # £1m at £195,590 a base (10 places x £19,559): 5 bases; with places = 100, both hold.
    assert bases_allowed(places=None, bases=None, capital_budget=1_000_000, base_size=10,
                         base_capital=195_590.0) == 5  # fmt: skip
    assert bases_allowed(places=30, bases=None, capital_budget=1_000_000, base_size=10,
                         base_capital=195_590.0) == 3  # fmt: skip


def _write(tmp_path: Path, authority: str, national: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(
        f'authority = "{authority}"\n[inputs]\nschools = "schools.csv"\nbases = "bases.csv"\n'
        'areas = "areas.csv"\n'
        '[inputs.demand]\nmethod = "counts"\npath = "demand.csv"\n'
        f"[national]\n{national}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("national", "message"),
    [
        ("places = -5", "national.places: must be from 0 to 10,000,000 places (got -5)"),
        ("places = 2.5", "national.places: must be a whole number, 0 or more (got 2.5)"),
        ('bases = "ten"', "national.bases: must be a whole number, 0 or more (got 'ten')"),
        ("places = 100\nbases = 10", "national.places and national.bases: give one"),
        ("capital_budget = -1", "national.capital_budget"),
    ],
)
def test_bad_national_keys_are_field_errors(tmp_path, national, message):
    with pytest.raises(ScenarioError) as raised:
        load_scenario(_write(tmp_path, "England", national))
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


def test_national_keys_need_a_national_scenario(tmp_path):
    with pytest.raises(ScenarioError) as raised:
        load_scenario(_write(tmp_path, "Trafford", "places = 100"))
    expected = "national.places: allocates places across England's authorities, so it needs"
    assert any(expected in p for p in raised.value.problems), raised.value.problems


# England on the real national files, as `init --authority England` writes it: a handful of
# authorities through the same code path.
FEW = ("Rutland", "Hartlepool")


@pytest.fixture(scope="module")
def england_written(tmp_path_factory):
    from sitefinder.national.scaffold import england_scenario

    folder = real_data_folder()
    return england_scenario(
        data=str(folder), output=tmp_path_factory.mktemp("england") / "england.toml"
    )


@pytest.fixture(scope="module")
def england(england_written):
    scenario = with_settings(
        load_scenario(england_written.path),
        {"national.places": 50, "national.max_bases": 6, "top": 3},
    )
    split = split_national(scenario)
    few = dataclasses.replace(
        split, authorities=[a for a in split.authorities if a.authority.name in FEW]
    )
    return split, rank_national(scenario, task=Task(layers=True), split=few)


def test_england_on_the_real_files_finds_every_authority(england):
    split, _ = england
    assert len(split.authorities) == 153
    assert {a.authority.name for a in split.authorities} >= {"Kent", "Rutland", "Cornwall"}
    assert all(not a.slices for a in split.authorities)  # each task reads the files cut to it


def test_england_allocates_five_bases_from_each_authority_s_curve(england):
    _, result = england
    table = result.allocation
    assert table is not None
    assert table["authority"].tolist() == ["Hartlepool", "Rutland"]  # GSS code order
    # 50 places = 5 bases of 10, but only bases each authority's own stopping rule admits:
    # Rutland's 15 children needing a place spread over phases and need groups, so no base
    # would be 80% full (selection.min_occupancy), and its own plan adds none either.
    assert int(table["bases"].sum()) <= 5
    assert (table["places"] == table["bases"] * 10).all()
    assert (table["bases"] <= table["curve_bases"]).all()
    rutland = next(run for run in result.runs if run.authority.name == "Rutland")
    assert rutland.curve_stopped.endswith("would be filled under selection.min_occupancy")
    assert len(rutland.curve) == 0 and rutland.document["plan"]["chosen"] == []
    assert table.set_index("authority").at["Rutland", "bases"] == 0
    for run in result.runs:  # never more than the rule admits: as many as its own plan at most
        funded = table.set_index("authority").at[run.authority.name, "bases"]
        assert funded <= max(len(run.document["plan"]["chosen"]), len(run.curve))
    curves = [run.curve for run in result.runs]
    # national.max_bases greedy steps, or fewer where the stopping rule refuses the next base
    assert all(len(c) == 6 or run.curve_stopped for c, run in zip(curves, result.runs, strict=True))
    assert table["curve_stopped"].tolist() == [bool(run.curve_stopped) for run in result.runs]
    assert table["harm_averted"].sum() == pytest.approx(allocate(curves, bases=5).total)
    # The last base funded in each averts no less than any base left unfunded elsewhere
    # where the curves have diminishing returns.
    if table["convex"].all():
        funded = table["last_marginal"].dropna().min()
        left = [c[k] for c, k in zip(curves, table["bases"], strict=True) if k < len(c)]
        assert funded >= max(left, default=-np.inf) - 1e-9
    # Gaps are the children needing a base place (the national files record no bases).
    for run in result.runs:
        assert set(run.gap["phase"]) == {"primary", "secondary"}
        assert run.gap["children"].sum() > 10
        assert np.isfinite(run.point).all()


def test_england_outputs_carry_the_gap_and_the_allocation(england, tmp_path):
    _, result = england
    document = json.loads(to_national_json(result))
    assert {row["authority"] for row in document["gap"]} == set(FEW)
    funded = sum(row["bases"] for row in document["allocation"])
    assert funded == int(result.allocation["bases"].sum())
    assert any(
        f"national allocation: {funded} new bases ({funded * 10} places)" in n
        for n in document["notes"]
    )
    assert any("the stopping rule ended the curve of" in n for n in document["notes"])
    gpkg = write_national_geopackage(result, tmp_path / "england.gpkg")
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"national_gap", "national_allocation", "authorities"} <= layers
    written = pyogrio.read_dataframe(gpkg, layer="national_allocation")
    assert int(written["bases"].sum()) == funded
    assert "curve_stopped" in written.columns
    png = draw_national_map(
        gap_by_authority(result), allocation_frame(result), tmp_path / "england.png",
        title="England",
    )  # fmt: skip
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for suffix, magic in ((".svg", b"<?xml"), (".pdf", b"%PDF")):
        drawn = draw_national_map(
            gap_by_authority(result), allocation_frame(result), tmp_path / f"england{suffix}",
            title="England",
        )  # fmt: skip
        assert drawn.read_bytes().startswith(magic)


def test_the_command_line_allocates_and_draws_england(tmp_path):
    from typer.testing import CliRunner

    from sitefinder.cli import app
    from sitefinder.national.synthetic import Synthetic, write_synthetic_england

    spec = Synthetic(schools=30, areas=30, authorities=("Gateshead", "Ealing"), seed=5,
                     bases=1, top=2)  # fmt: skip
    england = write_synthetic_england(tmp_path, spec)
    path = england.scenario
    # Small made-up authorities: no base of theirs is 80% full, so the rule's occupancy is off.
    text = path.read_text(encoding="utf-8")
    text = text.replace("[selection]\n", "[selection]\nmin_occupancy = 0\n")
    path.write_text(text + "\n[national]\nbases = 3\nmax_bases = 3\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["rank", "--config", str(path), "--workers", "1", "--format", "json",
         "--map", str(tmp_path / "england.png")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert sum(row["bases"] for row in document["allocation"]) == 3
    assert {row["authority"] for row in document["allocation"]} == {"Gateshead", "Ealing"}
    assert (tmp_path / "england.png").read_bytes()[:4] == b"\x89PNG"
    report = CliRunner().invoke(
        app, ["rank", "--config", str(path), "--report", str(tmp_path / "r.html")]
    )
    assert report.exit_code == 2 and "--report draws one authority" in report.output


def _run(name: str, curve: list[float], children: float):
    from types import SimpleNamespace

    import pandas as pd

    from sitefinder.authorities import find_authority

    gap = pd.DataFrame(
        {"phase": ["primary"], "need_group": ["semh"], "children": [children], "places": [0.0]}
    )
    return SimpleNamespace(
        authority=find_authority(name), curve=np.array(curve), curve_stopped="", gap=gap,
        after=SimpleNamespace(mean_minutes=12.0), point=(400_000.0, 300_000.0),
    )  # fmt: skip


def test_the_allocation_table_of_three_made_up_authorities(tmp_path):
    from sitefinder.national.allocate import allocation_table

    runs = [_run("Rutland", A, 30.0), _run("Trafford", B, 25.0), _run("Kent", C, 40.0)]
    # 45 places: 4 bases of 10 (5 places left over), as in the hand-checked case above.
    scenario = load_scenario(_write(tmp_path, "England", "places = 45"))
    table, notes = allocation_table(runs, scenario)
    assert table["bases"].tolist() == [1, 1, 2]
    assert table["places"].tolist() == [10, 10, 20]
    assert table["last_marginal"].tolist() == [10.0, 8.0, 20.0]
    assert table["convex"].tolist() == [True, True, False]
    assert table["curve_exhausted"].tolist() == [False, False, True]
    assert "2 of 3 curves have diminishing returns" in notes[0]
    assert any("the last 5 places are not allocated" in n for n in notes)
    assert any("every base on the curve of 1 authorities is funded (Kent)" in n for n in notes)
    # A budget of 3 bases at the default £19,559 a place (£195,590 a base of 10) binds first.
    scenario = load_scenario(_write(tmp_path, "England", "places = 45\ncapital_budget = 600_000"))
    table, _ = allocation_table(runs, scenario)
    assert table["bases"].tolist() == [1, 0, 2]  # A1 + C2 = 33


def test_init_writes_england_from_the_national_files(england_written):
    written = england_written
    assert written.authorities == 153
    scenario = load_scenario(written.path)
    assert scenario.is_national and scenario.national.places == 10_000
    inputs = scenario.inputs
    # The national files, never one authority's (Trafford's GIAS, Rutland's polygons).
    assert inputs.schools.path.name == "gias_open_establishments_england_2025-05-24.csv"
    assert inputs.demand.population is not None
    assert inputs.demand.population.name == "lsoa2021_england.gpkg"
    assert inputs.boundaries is not None and inputs.boundaries.path.name == "lsoa2021_england.gpkg"
    assert inputs.districts is not None and inputs.schools.census is not None
    assert inputs.postcodes is None and inputs.bases is None


def test_init_england_without_national_files_is_a_clear_error(tmp_path):
    from typer.testing import CliRunner

    from sitefinder.cli import app

    (tmp_path / "data").mkdir()
    out = CliRunner().invoke(
        app,
        ["init", "--authority", "England", "--data", str(tmp_path / "data"),
         "--output", str(tmp_path / "england.toml")],
    )  # fmt: skip
    assert out.exit_code == 1, out.output
    assert "no national scenario can be written" in out.output
    assert "Traceback" not in out.output
    assert not (tmp_path / "england.toml").exists()
