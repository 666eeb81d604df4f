"""The sparse instance: only (area, school) pairs within ``journey.max_minutes`` are kept.

Each test compares the sparse structures with the dense areas x schools route they replace:
the sites every option and existing base is offered, the fallback of every row, and the
demand rows must be the same numbers, bit for bit, so the ranking, the plan and the metrics
(deterministic functions of them) are the same as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sitefinder.config import Journey, load_scenario, with_settings
from sitefinder.instance import build_instance, existing_sites, site_at
from sitefinder.journeys import RowJourneys, SchoolPairs
from sitefinder.load import load_inputs
from sitefinder.supply import assess, candidate_options
from sitefinder.travel import (
    area_school_drive_minutes,
    crowfly_drive_minutes,
    crowfly_journey_pairs,
    journey_minutes,
)

# --- the array cores ---------------------------------------------------------------------------


def test_pairs_hand_case():
    minutes = np.array([[10.0, np.inf, 130.0], [50.0, 5.0, 119.0]])
    pairs = SchoolPairs.from_dense(minutes, max_minutes=120)
    assert pairs.indptr.tolist() == [0, 2, 3, 4]  # school 2 keeps only the 119-minute pair
    assert pairs.origin.tolist() == [0, 1, 1, 1]
    assert pairs.minutes.tolist() == [10.0, 50.0, 5.0, 119.0]
    dense = pairs.dense()
    assert dense[0, 2] == np.inf and dense[1, 2] == 119.0
    # three demand rows on two areas: rows 0 and 2 share area 1's journeys
    rows = RowJourneys(pairs, np.array([1, 0, 1]))
    row, school, pair = rows.to_schools(np.array([2, 0]))
    assert row.tolist() == [0, 2, 0, 1, 2]  # school 2 first (as asked), rows ascending
    assert school.tolist() == [2, 2, 0, 0, 0]
    assert rows.minutes(pair).tolist() == [119.0, 119.0, 50.0, 10.0, 50.0]


finite = st.floats(0, 200, allow_nan=False, allow_infinity=False)


@settings(max_examples=80, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(0, 6), st.integers(0, 5)), elements=finite),
    st.data(),
)
def test_pairs_round_trip_a_dense_matrix(minutes, data):
    unreachable = data.draw(arrays(np.bool_, minutes.shape))
    minutes = np.where(unreachable, np.inf, minutes)
    pairs = SchoolPairs.from_dense(minutes, max_minutes=120.0)
    expected = np.where(minutes <= 120.0, minutes, np.inf)
    assert np.array_equal(pairs.dense(), expected)
    shuffled = np.random.default_rng(0).permutation(len(pairs))
    school = np.repeat(np.arange(pairs.n_schools), np.diff(pairs.indptr))
    again = SchoolPairs.from_triples(
        pairs.origin[shuffled],
        school[shuffled],
        pairs.minutes[shuffled],
        n_origins=minutes.shape[0],
        n_schools=minutes.shape[1],
    )
    assert np.array_equal(again.dense(), expected)
    assert np.array_equal(again.indptr, pairs.indptr)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(0, 40), st.just(2)), elements=st.floats(0, 90_000)),
    arrays(np.float64, st.tuples(st.integers(0, 12), st.just(2)), elements=st.floats(0, 90_000)),
    st.floats(6, 200),
    st.sampled_from([0, 4_000_000]),  # candidates from the KD-tree, or every pair
)
def test_crowfly_pairs_are_the_dense_journeys_within_reach(origins, destinations, cutoff, every):
    journey = Journey(max_minutes=cutoff)
    pairs = crowfly_journey_pairs(origins, destinations, journey=journey, chunk=5, all_pairs=every)
    dense = journey_minutes(
        crowfly_drive_minutes(origins, destinations, journey=journey), journey=journey
    )
    expected = np.where(dense <= cutoff, dense, np.inf)
    assert np.array_equal(pairs.dense(), expected)  # the same numbers, bit for bit


# --- the instance against the dense route ------------------------------------------------------


def _dense_reference(scenario, data, instance):
    """Journey minutes and harm per (row, school) as the dense route built them: the areas x
    schools drive matrix, each row given its area's line, journey minutes and harm by phase."""
    drive = area_school_drive_minutes(data.areas, data.schools, journey=scenario.journey)
    row_area = pd.Index(data.areas["area_code"]).get_indexer(instance.demand["area_code"])
    minutes = journey_minutes(drive.minutes[row_area], journey=scenario.journey)
    harm = np.full_like(minutes, np.inf)
    for phase in scenario.phases:
        mask = (instance.demand["phase"] == phase).to_numpy()
        reachable = np.isfinite(minutes[mask])
        part = np.full(reachable.shape, np.inf)
        part[reachable] = scenario.harm.curve(phase)(minutes[mask][reachable])
        harm[mask] = part
    return minutes, harm


def _check_against_dense(scenario):
    data = load_inputs(scenario)
    instance = build_instance(scenario, data)
    minutes, harm = _dense_reference(scenario, data, instance)
    limit = scenario.journey.max_minutes
    assessed = assess(scenario, data.schools, data.bases).schools
    options = candidate_options(scenario, assessed)
    class_id = {c: i for i, c in enumerate(instance.classes)}
    first, last = instance.band_first, instance.band_last
    checked = 0
    for option in options.itertuples():
        classes = frozenset({class_id[(option.phase, option.need_group)]})
        site = site_at(instance, scenario, school=int(option.school), classes=classes, capacity=10)
        j = int(option.school)
        low, high = instance.school_ages[j]
        taught = (
            np.ones(len(first), bool)
            if np.isnan(low) or np.isnan(high)
            else (first >= low) & (last <= high)
        )
        rows = np.flatnonzero(
            np.isin(instance.rows.klass, list(classes)) & (minutes[:, j] <= limit) & taught
        )
        assert np.array_equal(site.rows, rows)
        assert np.array_equal(site.minutes, minutes[rows, j])
        assert np.array_equal(site.harm, harm[rows, j])
        checked += 1
    sites, _ = existing_sites(instance, scenario, data)
    assert checked > 0 and len(sites) > 0
    # the fallback: each used special school's places are offered the rows of its classes
    # within reach whose band it teaches, at the journey's harm + the mismatch
    used = instance.special.used.iloc[instance.places.offered_school]
    assert len(instance.places.offered) == len(instance.special.used)
    for school, site in zip(used.itertuples(), instance.places.offered, strict=True):
        j = int(school.position)
        phases = str(school.phases).split(";")
        codes = set(str(school.need_codes).split(";")) - {""}
        ids = [
            class_id[(p, g)]
            for p in phases
            for g, spec in scenario.need_groups.items()
            if (p, g) in class_id and (not codes or codes & set(spec.codes))
        ]
        low, high = school.first_age, school.last_age
        taught = (
            np.ones(len(first), bool)
            if np.isnan(low) or np.isnan(high)
            else (first >= low) & (last <= high)
        )
        rows = np.flatnonzero(np.isin(instance.rows.klass, ids) & (minutes[:, j] <= limit) & taught)
        assert site.fallback and site.capacity == school.places
        assert np.array_equal(site.rows, rows)
        assert np.array_equal(site.minutes, minutes[rows, j])
        assert np.array_equal(site.harm, harm[rows, j] + instance.rows.mismatch[rows])
    return instance


def test_demo_sites_and_fallback_are_those_of_the_dense_route(demo_config):
    instance = _check_against_dense(load_scenario(demo_config))
    assert instance.journeys.pairs.n_schools > 0


def test_a_short_cutoff_keeps_only_the_pairs_within_it(demo_config):
    scenario = with_settings(load_scenario(demo_config), {"journey.max_minutes": 20})
    instance = _check_against_dense(scenario)
    pairs = instance.journeys.pairs
    assert len(pairs) < pairs.n_origins * pairs.n_schools  # some pairs really were dropped
    assert pairs.minutes.max() <= 20


def test_trafford_sites_and_fallback_are_those_of_the_dense_route(real_data):
    from sitefinder.resources import bundled_root

    scenario = load_scenario(bundled_root() / "configs" / "examples" / "trafford.toml")
    instance = _check_against_dense(scenario)
    assert instance.travel.method == "crowfly"
    assert len(instance.rows) > 1000


@pytest.mark.parametrize("cutoff", [20.0, 120.0])
def test_crowfly_instance_on_the_demo_points(scenario_file, cutoff):
    scenario = load_scenario(scenario_file(f"[journey]\nmax_minutes = {cutoff}\n"))
    assert scenario.journey.method == "crowfly"
    _check_against_dense(scenario)
