"""How sure the plan is: the ranges the runs vary, the one-at-a-time sensitivity that finds
the value flipping a base, and the stability statement."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plan_checks import SmallAuthority

from sitefinder import load_scenario, rank, with_settings
from sitefinder.errors import ScenarioError
from sitefinder.stability.ranges import assumptions, settings_at
from sitefinder.stability.search import BISECTIONS


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
        ("mismatch = [0.5]", "robustness.mismatch: must be [low, high] (each a number or"),
        ("out_of_authority_minutes = 60", "robustness.out_of_authority_minutes: must be [low,"),
        ("exponent = 3", "robustness.exponent: must be [low, high] (two numbers), or false"),
        ("growth = [0, 0.05, 0.1]", "robustness.growth: must be [low, high] (two numbers)"),
        ("speed_kmh = true", "robustness.speed_kmh: must be [low, high] (two numbers)"),
        ("growth = [0.1, 0.0]", "robustness.growth: must be [low, high] with low <= high"),
        ("growth = [-inf, 0.1]", "robustness.growth.0: must be from -0.5 to 1 a year"),
        (
            "existing_places = [0.5, nan]",
            "robustness.existing_places.1: must be above 0 and at most 10",
        ),
        ("existing_places = [2, 1]", "robustness.existing_places: must be [low, high] with low"),
        ("share = ['england', 'regional']", "robustness.share.1: 'regional' is not a share"),
        ("share = ['england', 1.5]", "robustness.share.1: must be above 0 and at most 1"),
        ("share = ['england', 'England']", "robustness.share: each share once"),
        ("workers = 0", "robustness.workers: must be from 1 to 256 processes"),
    ],
)
def test_bad_ranges_name_the_key(scenario_file, text, expected):
    found = _problems(scenario_file(f"[robustness]\n{text}\n"))
    assert len(found) == 1 and expected in found[0], found


def test_every_bad_range_is_said_at_once(scenario_file):
    path = scenario_file(
        "[robustness]\ngrowth = [0.2, 0.1]\nshare = ['england', 2]\n"
        "existing_places = [0.5, inf]\nmismatch = [2, 1]\n"
    )
    found = "\n".join(_problems(path))
    for key in ("growth", "share.1", "existing_places.1", "mismatch"):
        assert f"robustness.{key}: must be" in found, key


def test_a_share_range_needs_modelled_demand(scenario_file):
    path = scenario_file("[robustness]\nshare = ['england', 'higher']\n")
    (problem,) = _problems(path)
    assert "robustness.share: varies inputs.demand.share, which only" in problem


def test_flat_fallback_has_no_fallback_ranges(scenario_file):
    path = scenario_file(
        "[fallback]\nmethod = 'flat'\n[robustness]\nout_of_authority_minutes = [30, 90]\n"
    )
    assert _problems(path) == [
        f"{path}: robustness.out_of_authority_minutes: fallback.method 'flat' has no fallback"
        " journey (vary harm.unmet with robustness.unmet instead)"
    ]
    flat = load_scenario(scenario_file("[fallback]\nmethod = 'flat'\n"))
    assert [a.key for a in assumptions(flat)] == ["existing_places", "growth"]


def test_default_runs_vary_the_deciding_assumptions_and_false_switches_a_range_off(
    scenario_file,
):
    default = load_scenario(scenario_file(""))
    varied = {a.key: (a.low, a.high) for a in assumptions(default)}
    assert varied == {  # the harm curve's exponent only when given a range (issue 23)
        "mismatch": (0.5, 2.0),
        "out_of_authority_minutes": (30.0, 90.0),
        "existing_places": (0.5, 1.5),
        "growth": (0.0, 0.1),
    }  # the demo's demand is a counts file: no share to vary
    off = load_scenario(
        scenario_file(
            # the exponent unset: not varied, as false
            "[robustness]\ndemand_noise = 0\nmismatch = false\n"
            "existing_places = false\ngrowth = false\n"
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
    from sitefinder.stability.perturb import perturb

    scenario = load_scenario(demo_config)
    instance = build_instance(scenario, load_inputs(scenario))
    far = {"primary": 30.0, "secondary": 100.0}
    run = settings_at(scenario, {"out_of_authority_minutes": far, "mismatch": 0.0})
    rows = perturb(instance, scenario, run).rows
    phases = np.array([p for p, _ in instance.classes])[instance.rows.klass]
    harm = scenario.harm
    # No row is worse off than out of authority at its phase's drawn minutes, no mismatch.
    out = np.array([float(harm.curve(p)(far[p])) for p in phases])
    assert np.all(rows.unmet_harm <= out + 1e-9)
    assert np.allclose(rows.mismatch, 0.0)
    assert not np.allclose(rows.unmet_harm, instance.rows.unmet_harm)


def test_growth_and_unrecorded_places_move_demand_and_only_assumed_places(tmp_path):
    from test_broken_inputs import gias_baseline

    from sitefinder.instance import build_instance, existing_sites
    from sitefinder.load import load_inputs
    from sitefinder.stability.perturb import perturb
    from sitefinder.stability.shifts import shifts_of

    scenario = load_scenario(gias_baseline(tmp_path).scenario())
    data = load_inputs(scenario)
    instance = build_instance(scenario, data)
    sites, table = existing_sites(instance, scenario, data)
    bases = sites[: len(table)]
    shifts = shifts_of(instance, scenario, data, bases=len(bases))
    # GIAS records one base's places and not the other's, which were assumed
    assert list(shifts.unrecorded) == list(data.bases["capacity_assumed"]) == [False, True]
    assert shifts.years == 5  # the programme's default horizon
    run = settings_at(scenario, {"growth": 0.1, "existing_places": 0.5})
    world = perturb(instance, scenario, run, bases=bases, shifts=shifts)
    assert np.allclose(world.rows.children, instance.rows.children * 1.1**5)
    assert [s.capacity for s in world.bases] == [bases[0].capacity, bases[1].capacity * 0.5]


def test_another_share_is_the_demand_that_share_models(tmp_path):
    # The share's factor on each demand row must give the children the demand model gives
    # with that share (each age reweighted), row by row.
    from test_broken_inputs import gias_baseline

    from sitefinder.instance import build_instance
    from sitefinder.load import load_inputs
    from sitefinder.stability.shifts import share_factors

    scenario = load_scenario(gias_baseline(tmp_path).scenario())
    data = load_inputs(scenario)
    instance = build_instance(scenario, data)
    (share,) = [a for a in assumptions(scenario, data) if a.key == "share"]
    assert share.setting == "higher" and share.choices == ("authority", "england", "higher")
    factors = share_factors(instance, scenario, data, share.choices)
    keys = ["area_code", "phase", "need_group", "first_age", "last_age"]
    for choice in ("authority", "england"):
        other = with_settings(scenario, {"inputs.demand.share": choice})
        moved = build_instance(other, load_inputs(other)).demand
        mine = instance.demand.assign(children=instance.demand["children"] * factors[choice])
        both = mine.merge(moved, on=keys, suffixes=("", "_model"), how="outer").fillna(0.0)
        assert np.allclose(both["children"], both["children_model"]), choice
        assert not np.allclose(factors[choice], 1.0), choice
    assert np.allclose(factors["higher"], 1.0)


# A hand-made authority: one new base, at Ash (8 children a kilometre away) or at Birch (10
# children 14.5 km away, a journey near the guidance limit), out-of-authority fallback only.
# A child left without a base place scores the far journey's harm plus the mismatch penalty
# m, so Birch averts 10 (h_far + m) - 10 h(Birch's journey) and Ash 8 (h_far + m) - 8 h(Ash's):
# Ash wins at m = 1 and Birch from m* = 1 + (Ash's - Birch's harm averted at m = 1) / 2.
_ASH, _BIRCH = "100001", "100002"
_ONLY_MISMATCH = (
    "bases = 1\nphases = ['primary']\n"
    "suppression_threshold = 0\nallow_small_counts = true\n"  # invented children
    "[fallback]\nmethod = 'out_of_authority'\n"
    "[journey]\nmethod = 'crowfly'\n[robustness]\ndemand_noise = 0\nexponent = false\n"
    "out_of_authority_minutes = false\ngrowth = false\nexisting_places = false\n"
    "mismatch = [0.5, 2.0]\n"
)


@pytest.fixture(scope="module")
def two_schools(tmp_path_factory) -> Path:
    return SmallAuthority(
        schools=[
            (_ASH, "Ash Primary", "primary", 400000, 300000),
            (_BIRCH, "Birch Primary", "primary", 500000, 300000),
        ],
        bases=[],
        areas=[
            ("E01000001", "Ash fields", 401000, 300000),
            ("E01000002", "Birch end", 514500, 300000),
        ],
        demand=[("E01000001", "primary", "ASD", 8), ("E01000002", "primary", "ASD", 10)],
    ).write(tmp_path_factory.mktemp("two_schools"), extra=_ONLY_MISMATCH)


@pytest.fixture(scope="module")
def flip_value(two_schools) -> float:
    """m*, from each school's harm averted alone at the setting (the ranking's figures)."""
    ranking = rank(load_scenario(two_schools)).ranking
    alone = ranking.groupby("urn")["harm_averted_standalone"].max()
    return 1.0 + (alone[_ASH] - alone[_BIRCH]) / (10 - 8)


@pytest.fixture(scope="module")
def two_schools_runs(two_schools):
    return rank(with_settings(load_scenario(two_schools), {"robustness.runs": 12}))


def test_the_flip_finder_finds_the_mismatch_at_which_the_plan_flips(two_schools_runs, flip_value):
    assert 1.2 < flip_value < 1.8  # the case is built for it
    result = two_schools_runs
    assert list(result.plan.chosen["urn"]) == [_ASH]
    table = result.stability.set_index("urn")
    text = "enters the plan when the mismatch penalty is over "
    assert table.loc[_BIRCH, "flipped_by"].startswith(text)
    found = float(table.loc[_BIRCH, "flipped_by"].removeprefix(text).split(" harm points")[0])
    # Bisection to 1/2**(BISECTIONS+1) of the way from the setting (1) to the end (2), the
    # value printed to three figures.
    assert abs(found - flip_value) <= 1.0 / 2 ** (BISECTIONS + 1) + 0.005, (found, flip_value)
    assert table.loc[_ASH, "flipped_by"].startswith("leaves the plan when the mismatch penalty")
    sensitivity = result.sensitivity.set_index("end")
    assert not sensitivity.loc["low", "changed"] and sensitivity.loc["high", "changed"]
    assert "Birch Primary" in sensitivity.loc["high", "enters"]
    # At m = 2, keeping Ash costs what Birch averts more there: (2 - m*) x 2 harm points.
    assert sensitivity.loc["high", "regret"] == pytest.approx(2 * (2.0 - flip_value), abs=1e-6)
    assert sensitivity.loc["low", "regret"] == 0.0


def test_the_statement_agrees_with_a_sweep_by_hand(two_schools, two_schools_runs, flip_value):
    # The runs draw the mismatch uniformly from [0.5, 2] with the scenario's seed; by hand:
    # the same draws, and the plan each gives (Birch above m*, else Ash), checked by ranking
    # the first four again at the drawn value.
    scenario = load_scenario(two_schools)
    rng = np.random.default_rng(scenario.robustness.seed)
    drawn = 0.5 + 1.5 * rng.uniform(size=12)
    assert np.abs(drawn - flip_value).min() > 0.01  # no draw sits on the flip
    for value in drawn[:4]:
        again = rank(with_settings(scenario, {"fallback.mismatch": float(value)}))
        assert list(again.plan.chosen["urn"]) == [_BIRCH if value > flip_value else _ASH]
    table = two_schools_runs.stability.set_index("urn")
    assert table.loc[_BIRCH, "share_of_runs"] == pytest.approx(np.mean(drawn > flip_value))
    assert table.loc[_ASH, "share_of_runs"] == pytest.approx(np.mean(drawn < flip_value))


def test_the_statement_is_the_same_on_any_number_of_workers(two_schools, two_schools_runs):
    scenario = with_settings(
        load_scenario(two_schools), {"robustness.runs": 12, "robustness.workers": 2}
    )
    shared = rank(scenario)
    pd.testing.assert_frame_equal(shared.stability, two_schools_runs.stability)
    pd.testing.assert_frame_equal(shared.sensitivity, two_schools_runs.sensitivity)


def test_stability_shares_are_runs_out_of_the_total_and_seeded(demo_config):
    scenario = with_settings(load_scenario(demo_config), {"robustness.runs": 5})
    first, second = rank(scenario), rank(scenario)
    shares = first.stability["share_of_runs"].to_numpy()
    assert np.allclose(shares * 5, np.round(shares * 5)) and shares.max() == 1.0
    assert first.stability.equals(second.stability)
    assert list(first.stability.columns[:4]) == ["urn", "name", "phase", "need_group"]
    assert rank(with_settings(scenario, {"robustness.runs": 0})).stability.empty


def test_every_output_carries_the_same_statement(two_schools_runs, tmp_path):
    import json
    import sqlite3
    from contextlib import closing

    from rich.console import Console

    from sitefinder import write_geopackage
    from sitefinder.disclosure import Withheld
    from sitefinder.published import publish
    from sitefinder.render.charts import tornado_png
    from sitefinder.render.html import write_report
    from sitefinder.report import ranking_table, to_json

    result = two_schools_runs
    document = json.loads(to_json(result, top=5))
    rows = document["stability"]
    assert rows and {"urn", "name", "phase", "need_group", "share_of_runs", "flipped_by"} <= set(
        rows[0]
    )
    expected = result.stability
    assert [r["urn"] for r in rows] == list(expected["urn"].astype(str))
    assert [r["share_of_runs"] for r in rows] == list(expected["share_of_runs"])
    assert [r["flipped_by"] for r in rows] == list(expected["flipped_by"])
    assert len(document["sensitivity"]) == len(result.sensitivity) > 0
    path = write_geopackage(result, tmp_path / "run.gpkg")
    with closing(sqlite3.connect(path)) as connection:
        stored = connection.execute(
            "SELECT urn, share_of_runs, flipped_by FROM stability"
        ).fetchall()
    assert stored == [(r["urn"], r["share_of_runs"], r["flipped_by"]) for r in rows]
    text = write_report(result, tmp_path / "report.html").read_text()
    assert "Stability of each base" in text and "One assumption at a time" in text
    assert "Tornado chart" in text and tornado_png(result) is not None
    assert expected["flipped_by"].iloc[0] in text
    console = Console(width=200, record=True)
    console.print(ranking_table(result, top=5))
    assert "How sure" in console.export_text()
    # Counted children under the suppression threshold: a change of total harm with the
    # mismatch penalty gives the count of children without a place back, so it is withheld,
    # and no tornado is drawn from withheld figures.
    counted = rank(with_settings(result.scenario, {"suppression_threshold": 10}))
    published = publish(counted)["sensitivity"]
    assert any(isinstance(v, Withheld) for v in published["change"])
    assert tornado_png(counted) is None


def _default_sigint() -> None:
    # A suite started in the background by a shell inherits SIGINT ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_stops_the_workers_with_one_line(two_schools):
    child = subprocess.Popen(
        [sys.executable, "-m", "sitefinder", "rank", "--config", str(two_schools), "--runs",
         "1000", "--workers", "2", "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while len(workers := _children(child.pid)) < 2 and child.poll() is None:
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.1)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert out == "" and "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        "error: interrupted (Ctrl-C); unfinished outputs were removed"
    )
    time.sleep(0.5)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_every_range_is_named_in_help_and_the_reference_and_switches_off(scenario_file, tmp_path):
    from test_broken_inputs import gias_baseline
    from typer.testing import CliRunner

    from sitefinder.cli import app
    from sitefinder.config import RANGE_KEYS, Robustness

    shown = CliRunner().invoke(app, ["rank", "--help"], env={"COLUMNS": "120"})
    assert shown.exit_code == 0, shown.output
    words = " ".join(shown.output.split())
    docs = Path(__file__).resolve().parent.parent / "docs"
    reference = (docs / "scenario.md").read_text(encoding="utf-8")
    rows = {
        line.split("`")[1]: line for line in reference.splitlines() if line.startswith("| `robust")
    }
    ranges = {*RANGE_KEYS, "share"}
    for key in Robustness.model_fields:
        assert f"robustness.{key}" in words, f"rank --help does not name robustness.{key}"
        assert f"robustness.{key}" in rows, f"docs/scenario.md has no row for robustness.{key}"
        off = "`false` switches" if key in ranges else "0 switches" if key == "demand_noise" else ""
        assert off in rows[f"robustness.{key}"], f"robustness.{key}: not how to switch it off"
    assert "[robustness]" in words and "to switch it off" in words

    # Every range on, then each one false: that one alone is no longer varied.
    every = (
        "[journey]\nmethod = 'crowfly'\n[robustness]\nexponent = [1, 2]\nfree_minutes = [0, 10]\n"
        "mismatch = [0.5, 2]\nout_of_authority_minutes = [30, 90]\nspeed_kmh = [32, 48]\n"
        "circuity = [1.2, 1.5]\nride_factor = [1.1, 1.6]\nexisting_places = [0.5, 1.5]\n"
        "growth = [0, 0.1]\n"
    )
    crowfly = load_scenario(scenario_file(every))
    flat = load_scenario(
        scenario_file("[fallback]\nmethod = 'flat'\n[robustness]\nunmet = [20, 30]\n")
    )
    modelled = load_scenario(gias_baseline(tmp_path).scenario())
    checked = set()
    for base in (crowfly, flat, modelled):
        keys = [a.key for a in assumptions(base)]
        for key in keys:
            left = [a.key for a in assumptions(with_settings(base, {f"robustness.{key}": False}))]
            assert left == [k for k in keys if k != key], key
        checked |= set(keys)
    assert checked == ranges


def _through_a_terminal(command: list[str]) -> tuple[int, str, str]:
    """Run ``command`` with its stderr on a pseudo-terminal (as a user at a terminal sees it)
    and its stdout on a pipe (as a pipe into a file): exit code, stdout, stderr's text."""
    import os
    import pty
    import re
    import select

    master, slave = pty.openpty()
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL
    )
    os.close(slave)
    seen, deadline = b"", time.monotonic() + 180
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        try:
            chunk = os.read(master, 1 << 16) if ready else b""
        except OSError:  # the terminal closed: the command ended
            break
        seen += chunk
        if not ready and child.poll() is not None:
            break
    os.close(master)
    out, _ = child.communicate(timeout=60)  # closes the pipe
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode(errors="replace"))
    return child.returncode, out.decode(), text


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_the_runs_show_a_progress_bar_on_a_terminal_and_never_in_the_output(two_schools):
    import json
    import re

    runs = 40
    command = [sys.executable, "-m", "sitefinder", "rank", "--config", str(two_schools)]
    code, out, err = _through_a_terminal([*command, "--runs", str(runs), "--format", "json"])
    assert code == 0, err
    # The bar counts the runs (and the searches for where a base flips) up to their total.
    counts = [(int(d), int(t)) for d, t in re.findall(r"Robustness runs\D*?(\d+)/(\d+)", err)]
    assert counts and all(t >= runs for _, t in counts), err
    assert max(counts) == (counts[0][1], counts[0][1])  # drawn at the end too
    assert "One assumption at a time" in err
    # stdout stays the JSON document, with nothing of the bar in it.
    assert "\x1b" not in out and "Robustness runs" not in out
    assert json.loads(out)["plan"]["robustness_runs"] == runs
    # Piped, stderr has no bar.
    piped = subprocess.run(
        [*command, "--runs", "2", "--format", "csv"], capture_output=True, text=True, check=True
    )
    assert "Robustness runs" not in piped.stderr and "\x1b" not in piped.stderr
