"""How sure the plan is: the ranges the runs vary, the one-at-a-time sensitivity that finds
the value flipping a base, and the stability statement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sitefinder import load_scenario, rank, with_settings
from sitefinder.errors import ScenarioError
from sitefinder.plan.ranges import assumptions, settings_at


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mismatch = [2.0, 0.5]", "robustness.mismatch: must be [low, high] with low <= high"),
        (
            "mismatch = [0.5, { primary = 1.0, secondary = 0.2 }]",
            "robustness.mismatch: must be [low, high] with low <= high",
        ),
        (
            "out_of_authority_minutes = [90, 30]",
            "robustness.out_of_authority_minutes: must be [low, high] with low <= high",
        ),
        (
            "ride_factor = [1.5, 1.1]",
            "robustness.ride_factor: must be [low, high] with low <= high",
        ),
        ("speed_kmh = [30, inf]", "robustness.speed_kmh.1: must be above 0 and at most 120 km/h"),
        ("circuity = [nan, 1.5]", "robustness.circuity.0: must be from 1 to 5"),
        (
            "out_of_authority_minutes = [30, { primary = 60 }]",
            "robustness.out_of_authority_minutes: no value for secondary",
        ),
        ("peak_factor = [1, 2]", "robustness.peak_factor: unknown key"),
    ],
)
def test_bad_ranges_name_the_key(scenario_file, text, expected):
    found = _problems(scenario_file(f"[robustness]\n{text}\n"))
    assert len(found) == 1 and expected in found[0], found


def test_flat_fallback_has_no_fallback_ranges(scenario_file):
    path = scenario_file(
        "[fallback]\nmethod = 'flat'\n[robustness]\nout_of_authority_minutes = [30, 90]\n"
    )
    assert _problems(path) == [
        f"{path}: robustness.out_of_authority_minutes: fallback.method 'flat' has no fallback"
        " journey (vary harm.unmet with robustness.unmet instead)"
    ]
    flat = load_scenario(scenario_file("[fallback]\nmethod = 'flat'\n"))
    assert [a.key for a in assumptions(flat)] == ["exponent"]


def test_default_runs_vary_the_fallback_and_false_switches_a_range_off(scenario_file):
    default = load_scenario(scenario_file(""))
    varied = {a.key: (a.low, a.high) for a in assumptions(default)}
    assert varied == {
        "exponent": (1.0, 2.0),
        "mismatch": (0.5, 2.0),
        "out_of_authority_minutes": (30.0, 90.0),
    }
    off = load_scenario(
        scenario_file(
            "[robustness]\ndemand_noise = 0\nexponent = false\nmismatch = false\n"
            "out_of_authority_minutes = [{ primary = 40, secondary = 60 }, 90]\n"
        )
    )
    (only,) = assumptions(off)
    assert only.key == "out_of_authority_minutes"
    assert only.at(0.5) == {"primary": 65.0, "secondary": 75.0}
    # survives a round trip through the command line's settings
    again = with_settings(off, {"robustness.runs": 3})
    assert [a.key for a in assumptions(again)] == ["out_of_authority_minutes"]


def test_journey_ranges_scale_the_minutes_beyond_the_overhead(scenario_file):
    scenario = load_scenario(
        scenario_file("[robustness]\nspeed_kmh = [20, 40]\nride_factor = [1.3, 2.6]\n")
    )
    # crow-fly at 40 km/h, ride 1.3: half the speed and twice the ride factor is 4x the drive
    run = settings_at(scenario, {"speed_kmh": 20.0, "ride_factor": 2.6})
    assert run.scale == pytest.approx(4.0)
    assert run.journey.speed_kmh == 20.0 and not run.far_moved


def test_drawn_out_of_authority_minutes_move_every_rows_fallback(demo_config):
    from sitefinder.instance import build_instance
    from sitefinder.load import load_inputs
    from sitefinder.plan.robustness import perturb

    scenario = load_scenario(demo_config)
    instance = build_instance(scenario, load_inputs(scenario))
    far = {"primary": 30.0, "secondary": 100.0}
    run = settings_at(scenario, {"out_of_authority_minutes": far, "mismatch": 0.0})
    rows, _, _ = perturb(instance, scenario, [], run)
    phases = np.array([p for p, _ in instance.classes])[instance.rows.klass]
    harm = scenario.harm
    # No row is worse off than out of authority at its phase's drawn minutes, no mismatch.
    out = np.array([float(harm.curve(p)(far[p])) for p in phases])
    assert np.all(rows.unmet_harm <= out + 1e-9)
    assert np.allclose(rows.mismatch, 0.0)
    assert not np.allclose(rows.unmet_harm, instance.rows.unmet_harm)


def _set(result) -> frozenset[tuple[str, str, str]]:
    chosen = result.plan.chosen
    return frozenset(
        zip(chosen["urn"].astype(str), chosen["phase"], chosen["need_group"], strict=True)
    )


def test_sensitivity_finds_the_value_that_flips_the_plan(demo_config):
    # The demo's primary base leaves the plan as the harm curve's exponent falls from its
    # setting (1.5) towards 1: a sweep of full plans finds where; the sensitivity must find
    # the same value.
    base = with_settings(
        load_scenario(demo_config),
        {"robustness.demand_noise": 0.0, "robustness.mismatch": (1.0, 1.0)},
    )
    plan = _set(rank(base))
    grid = np.round(np.arange(1.0, 1.11, 0.01), 2)
    sets = [_set(rank(with_settings(base, {"harm.exponent": float(e)}))) for e in grid]
    moving = [k for k in plan if k not in sets[0] and all(k in s for s in sets[-3:])]
    assert moving, "the demo no longer flips a base on the exponent"
    (urn, _, _) = key = moving[0]
    flip = float(grid[max(i for i, s in enumerate(sets) if key not in s)]) + 0.005  # +- 0.005
    result = rank(
        with_settings(
            base,
            {
                "robustness.runs": 2,
                "robustness.exponent": (1.0, 2.0),
                "robustness.out_of_authority_minutes": (60.0, 60.0),
            },
        )
    )
    sensitivity = result.sensitivity.set_index(["assumption", "end"])
    assert set(sensitivity.index) == {("exponent", "low"), ("exponent", "high")}
    assert sensitivity.loc[("exponent", "low"), "changed"]
    assert urn in sensitivity.loc[("exponent", "low"), "leaves"]
    row = result.stability.set_index("urn").loc[urn]
    assert row["in_plan"] and row["share_of_runs"] == 1.0
    text = "leaves the plan when the harm curve's exponent is under "
    assert text in row["flipped_by"]
    found = float(row["flipped_by"].split(text)[1].split(";")[0])
    # bisection to 0.5 / 2**6 of the way from 1.5 to 1.0, reported to 3 figures
    assert abs(found - flip) <= 0.005 + 0.5 / 64 + 0.005, (found, flip)


def test_stability_shares_are_runs_out_of_the_total_and_seeded(demo_config):
    scenario = with_settings(load_scenario(demo_config), {"robustness.runs": 5})
    first, second = rank(scenario), rank(scenario)
    shares = first.stability["share_of_runs"].to_numpy()
    assert np.allclose(shares * 5, np.round(shares * 5)) and shares.max() == 1.0
    assert first.stability.equals(second.stability)
    assert list(first.stability.columns[:4]) == ["urn", "name", "phase", "need_group"]
    assert rank(with_settings(scenario, {"robustness.runs": 0})).stability.empty


def test_every_output_carries_the_same_statement(demo_config, tmp_path):
    import json
    import sqlite3
    from contextlib import closing

    from sitefinder import write_geopackage
    from sitefinder.render.html import write_report
    from sitefinder.report import to_json

    result = rank(with_settings(load_scenario(demo_config), {"robustness.runs": 3}))
    document = json.loads(to_json(result, top=5))
    rows = document["stability"]
    assert rows and {"urn", "name", "phase", "need_group", "share_of_runs", "flipped_by"} <= set(
        rows[0]
    )
    expected = result.stability
    assert [r["urn"] for r in rows] == list(expected["urn"].astype(str))
    assert [r["share_of_runs"] for r in rows] == list(expected["share_of_runs"])
    assert len(document["sensitivity"]) == len(result.sensitivity) > 0
    path = write_geopackage(result, tmp_path / "run.gpkg")
    with closing(sqlite3.connect(path)) as connection:
        stored = connection.execute(
            "SELECT urn, share_of_runs, flipped_by FROM stability"
        ).fetchall()
    assert [(u, s) for u, s, _ in stored] == [(r["urn"], r["share_of_runs"]) for r in rows]
    text = write_report(result, tmp_path / "report.html").read_text()
    assert "Stability of each base" in text and "One assumption at a time" in text
