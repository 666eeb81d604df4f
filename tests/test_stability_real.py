"""Rutland's stability statement against a sweep of the fallback's settings done by hand.

Issue 23: on Rutland (real roads), the default robustness runs vary the out-of-authority minutes
and the mismatch penalty, and what the statement says agrees with ranking Rutland again at
those settings, one :func:`sitefinder.rank` each. Real data: skips without
``SITEFINDER_REAL_DATA``. The sweep is the ends of both ranges and their four corners (eight
ranks, about 1 s of CPU each, the programme off), shared by the tests here.
"""

from __future__ import annotations

import math

import pytest
from conftest import real_data_folder

from sitefinder import load_scenario, rank, with_settings
from sitefinder.config import DEFAULT_MISMATCH_RANGE, DEFAULT_OUT_OF_AUTHORITY_RANGE
from sitefinder.resources import bundled_root
from sitefinder.stability.ranges import assumptions

RUNS = 10
MINUTES, MISMATCH = DEFAULT_OUT_OF_AUTHORITY_RANGE, DEFAULT_MISMATCH_RANGE
SETTING = (60.0, 1.0)  # fallback.out_of_authority_minutes and fallback.mismatch, the defaults
ENDS = [(MINUTES[0], 1.0), (MINUTES[1], 1.0), (60.0, MISMATCH[0]), (60.0, MISMATCH[1])]
CORNERS = [(m, p) for m in MINUTES for p in MISMATCH]
_QUICK = {"programme.bases": 0}  # the programme does not enter the plan or its runs


@pytest.fixture(scope="module")
def rutland():
    real_data_folder()
    return with_settings(
        load_scenario(bundled_root() / "configs" / "examples" / "rutland.toml"), _QUICK
    )


@pytest.fixture(scope="module")
def fallback_runs(rutland):
    """The runs with only the fallback's two default ranges varied (no noise, nothing else)."""
    only = {
        "robustness.runs": RUNS, "robustness.demand_noise": 0, "robustness.exponent": False,
        "robustness.existing_places": False, "robustness.growth": False,
        "robustness.share": False,
    }  # fmt: skip
    return rank(with_settings(rutland, only))


@pytest.fixture(scope="module")
def by_hand(rutland):
    """Each setting's plan (its bases) and the harm its bases avert (harm points)."""
    swept = {}
    for minutes, mismatch in [*ENDS, *CORNERS]:
        settings = {"fallback.out_of_authority_minutes": minutes, "fallback.mismatch": mismatch}
        result = rank(with_settings(rutland, settings))
        chosen = result.plan.chosen
        bases = frozenset(zip(chosen["urn"], chosen["phase"], chosen["need_group"], strict=True))
        swept[minutes, mismatch] = (bases, result.before.total_harm - result.after.total_harm)
    return swept


def _keys(table):
    return zip(table["urn"], table["phase"], table["need_group"], strict=True)


def test_default_runs_vary_the_fallback_assumptions(rutland):
    from sitefinder.load import load_inputs

    path = bundled_root() / "configs" / "examples" / "rutland.toml"
    assert "[robustness]" not in path.read_text(encoding="utf-8")  # the defaults, as given
    scenario = load_scenario(path)
    found = assumptions(scenario, load_inputs(scenario))
    varied = {a.key: (a.low, a.high, a.setting) for a in found}
    assert varied["out_of_authority_minutes"] == (*MINUTES, SETTING[0])
    assert varied["mismatch"] == (*MISMATCH, SETTING[1])


def test_each_end_is_the_plan_ranked_by_hand_there(fallback_runs, by_hand):
    # The one-at-a-time sensitivity re-derives every area's fallback at the end of a range;
    # ranking Rutland with the setting there gives the same bases and the same harm averted.
    plan = frozenset(_keys(fallback_runs.plan.chosen))
    sensitivity = fallback_runs.sensitivity.set_index(["assumption", "end"])
    for (minutes, mismatch), end in zip(ENDS, ["low", "high"] * 2, strict=True):
        key = "out_of_authority_minutes" if mismatch == SETTING[1] else "mismatch"
        row = sensitivity.loc[(key, end)]
        bases, averted = by_hand[minutes, mismatch]
        assert row["harm_averted"] == pytest.approx(averted, abs=1e-6), (key, end)
        assert bool(row["changed"]) == (bases != plan), (key, end)


def test_the_statement_agrees_with_the_sweep(fallback_runs, by_hand):
    plan = frozenset(_keys(fallback_runs.plan.chosen))
    statement = fallback_runs.stability
    # Each base's share of the runs against its share of the corners and ends swept by hand,
    # within sampling error (the runs draw both settings uniformly: three standard errors,
    # and a corner's worth for the grid's own coarseness).
    swept = [bases for bases, _ in by_hand.values()]
    for key, share in zip(_keys(statement), statement["share_of_runs"], strict=True):
        expected = sum(key in bases for bases in swept) / len(swept)
        error = 3 * math.sqrt(max(expected * (1 - expected), 1 / RUNS) / RUNS) + 1 / len(swept)
        assert abs(share - expected) <= error, (key, share, expected)
    for bases in swept:
        for key in bases - plan:
            assert key in set(_keys(statement)), f"{key} is chosen by hand but not in contention"
    # What flips each base of the plan, one setting at a time: the statement names the fallback
    # assumption exactly when an end swept by hand leaves the base out.
    words = {"out_of_authority_minutes": "out-of-authority journeys", "mismatch": "mismatch"}
    flipped = dict(zip(_keys(statement), statement["flipped_by"], strict=True))
    for key in plan:
        for assumption, ends in (("out_of_authority_minutes", ENDS[:2]), ("mismatch", ENDS[2:])):
            leaves = any(key not in by_hand[end][0] for end in ends)
            assert (words[assumption] in flipped[key]) == leaves, (key, assumption)
