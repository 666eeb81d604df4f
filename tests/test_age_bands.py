"""A base serves only the ages its school teaches: demand by age band, on hand-checkable cases
and as a property over random schools and ages."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitefinder.age_bands import banded_demand, phase_bands
from sitefinder.columns import PLAN, RANKING
from sitefinder.config import load_scenario
from sitefinder.instance import build_instance, existing_sites, site_at
from sitefinder.load import AuthorityData
from sitefinder.model.network import solve_network
from sitefinder.pipeline import rank
from sitefinder.published import publish
from sitefinder.report import people_table, plan_frame, ranking_frame, to_csv, to_json
from sitefinder.supply import taught_ages

AGES = {"primary": (4, 10), "secondary": (11, 15)}
SCHOOL_COLUMNS = (
    "urn,name,phase,establishment_group,gender,admissions_policy,statutory_low_age,"
    "statutory_high_age,capacity,pupils,ehcp_pupils,easting,northing"
)


# --- the bands -------------------------------------------------------------------------------


def test_bands_are_cut_at_every_first_age_and_last_age_plus_one():
    # An infant school (4-6), a junior (7-10), a primary (4-10), a special school from 8.
    ranges = [(4, 6), (7, 10), (4, 10), (8, 15)]
    assert phase_bands((4, 10), ranges) == [(4, 6), (7, 7), (8, 10)]
    assert phase_bands((4, 10), [(4, 10), (3, 12)]) == [(4, 10)]  # all-primary: one band
    assert phase_bands((11, 15), [(4, 10)]) == [(11, 15)]  # no age of the phase: no cut


@settings(max_examples=200, deadline=None)
@given(
    low=st.integers(0, 12),
    length=st.integers(0, 8),
    ranges=st.lists(st.tuples(st.integers(0, 22), st.integers(0, 22)), max_size=8),
)
def test_bands_are_the_fewest_in_which_every_range_is_whole(low, length, ranges):
    high = low + length
    ranges = [(min(a, b), max(a, b)) for a, b in ranges]
    bands = phase_bands((low, high), ranges)
    # A partition of the phase's ages, youngest first.
    assert bands[0][0] == low and bands[-1][1] == high
    assert all(a <= b for a, b in bands)
    assert all(b + 1 == c for (_, b), (c, _) in itertools.pairwise(bands))
    # Every range's ages within the phase are whole bands.
    for first, last in ranges:
        lo, hi = max(first, low), min(last, high)
        if lo > hi:
            continue
        inside = [band for band in bands if band[0] >= lo and band[1] <= hi]
        assert sum(b - a + 1 for a, b in inside) == hi - lo + 1
    # The fewest: every cut between two bands is where some range starts or ends.
    for (_, end), (start, _) in itertools.pairwise(bands):
        assert any(
            max(f, low) == start or min(t, high) == end for f, t in ranges if f <= high and t >= low
        )


# --- a small authority in files ----------------------------------------------------------------


def _authority(
    folder: Path,
    *,
    bases: str,
    demand: str,
    schools: str = "",
    extra: str = "",
) -> Path:
    """Area A lies next to an infant school (I), a junior school (J) and a primary (Q, 600 m);
    an all-primary school P is 10 km away, beside area B."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schools.csv").write_text(
        SCHOOL_COLUMNS + "\n"
        "1,Infant School,primary,mainstream,mixed,not applicable,3,7,270,200,2,400100,300000\n"
        "2,Junior School,primary,mainstream,mixed,not applicable,7,11,360,300,3,400150,300000\n"
        "3,Far Primary School,primary,mainstream,mixed,not applicable,4,11,420,300,4,410000,"
        "300000\n" + schools,
        encoding="utf-8",
    )
    (folder / "areas.csv").write_text(
        "area_code,area_name,easting,northing\nA,Area A,400000,300000\nB,Area B,410000,300100\n",
        encoding="utf-8",
    )
    (folder / "bases.csv").write_text(
        "urn,base_name,base_type,phase,capacity,need_codes\n" + bases, encoding="utf-8"
    )
    (folder / "demand.csv").write_text(demand, encoding="utf-8")
    path = folder / "s.toml"
    path.write_text(
        'phases = ["primary"]\nsuppression_threshold = 5\n' + extra + "\n[inputs]\n"
        'schools = "schools.csv"\nbases = "bases.csv"\nareas = "areas.csv"\n'
        'demand = "demand.csv"\n[fallback]\nmethod = "out_of_authority"\n'
        "[selection]\nmin_occupancy = 0\n",  # a handful of children: about ages, not fill
        encoding="utf-8",
    )
    return path


DEMAND = "area_code,phase,need_code,age,children\nA,primary,ASD,5,3\nA,primary,ASD,8,3\n"


def _to(result, urn: str) -> float:
    lines = result.assignments
    return float(lines.loc[lines["urn"] == urn, "children"].sum())


def test_an_infant_base_never_takes_a_junior_age_child_even_when_nearest(tmp_path):
    scenario = load_scenario(
        _authority(
            tmp_path,
            bases="1,Infant base,sen_unit,primary,10,ASD\n3,Far base,sen_unit,primary,10,ASD\n",
            demand=DEMAND,
            extra="bases = 0",
        )
    )
    result = rank(scenario)
    # The infant base, 100 m away with 10 places, takes the three 5-year-olds; the three
    # 8-year-olds ride 10 km to the far primary's base.
    assert _to(result, "1") == pytest.approx(3.0)
    assert _to(result, "3") == pytest.approx(3.0)
    assert result.sites.set_index("urn").loc["1", "ages"] == "4-6"
    assert result.sites.set_index("urn").loc["3", "ages"] == "4-10"
    assert any(
        "existing bases at schools teaching part of a phase serve only the ages their school"
        " teaches: Infant base (1): primary ages 4-6" in note
        for note in result.notes
    )


def test_a_junior_base_never_takes_an_infant_age_child(tmp_path):
    scenario = load_scenario(
        _authority(
            tmp_path,
            bases="2,Junior base,sen_unit,primary,10,ASD\n3,Far base,sen_unit,primary,10,ASD\n",
            demand=DEMAND,
            extra="bases = 0",
        )
    )
    result = rank(scenario)
    assert _to(result, "2") == pytest.approx(3.0)  # the 8-year-olds
    assert _to(result, "3") == pytest.approx(3.0)  # the 5-year-olds, 10 km away
    model = build_instance(scenario, result.data)
    sites, table = existing_sites(model, scenario, result.data)
    junior = sites[int(np.flatnonzero(table["urn"] == "2")[0])]
    assert set(model.band_first[junior.rows]) == {7}  # offered ages 7-10 only
    assert table.set_index("urn").loc["2", "ages"] == "7-10"


def test_an_all_primary_base_takes_both(tmp_path):
    school = (
        "4,Near Primary School,primary,mainstream,mixed,not applicable,4,11,420,300,4,400600,"
        "300000\n"
    )
    scenario = load_scenario(
        _authority(
            tmp_path,
            bases="4,Near base,sen_unit,primary,10,ASD\n1,Infant base,sen_unit,primary,10,ASD\n",
            demand=DEMAND,
            schools=school,
            extra="bases = 0",
        )
    )
    result = rank(scenario)
    # The infant base is nearer still, so it takes the 5-year-olds; the near primary the rest.
    assert _to(result, "1") == pytest.approx(3.0)
    assert _to(result, "4") == pytest.approx(3.0)
    without_infant = load_scenario(
        _authority(
            tmp_path / "b",
            bases="4,Near base,sen_unit,primary,10,ASD\n",
            demand=DEMAND,
            schools=school,
            extra="bases = 0",
        )
    )
    assert _to(rank(without_infant), "4") == pytest.approx(6.0)


def test_a_new_base_at_an_infant_school_is_offered_its_ages_only(tmp_path):
    demand = DEMAND + "A,primary,ASD,9,4\n"  # 3 infants and 7 juniors in area A
    extra = "bases = 1\ntop = 3\n[candidates]\nexclude_urns = [3]"
    scenario = load_scenario(_authority(tmp_path, bases="", demand=demand, extra=extra))
    result = rank(scenario)
    ranking = result.ranking.set_index("urn")
    assert ranking.index.tolist() == ["2", "1"]
    assert ranking.loc["1", "ages"] == "4-6" and ranking.loc["2", "ages"] == "7-10"
    # The junior base, next door to the 7 juniors, is the plan; the infant base serves 3.
    assert result.plan.chosen["urn"].tolist() == ["2"]
    assert ranking.loc["2", "children_served"] == pytest.approx(7.0)
    assert ranking.loc["1", "children_served"] == pytest.approx(3.0)
    notes = result.schools.set_index("urn")["notes"]
    assert notes["1"] == "infant school: a primary base here serves ages 4-6 only"
    # Published: the ages column, and the ages in the people's "new base" text.
    rows = json.loads(to_json(result, top=3))
    assert {r["urn"]: r["ages"] for r in rows["ranking"]} == {"2": "7-10", "1": "4-6"}
    assert rows["plan"]["chosen"][0]["ages"] == "7-10"
    run = publish(result, top=3)
    _, plan_rows = people_table(run, plan_frame(result), PLAN)
    assert "primary, ages 7-10: Communication and interaction, 10 places" in plan_rows[0]
    _, ranked = people_table(run, ranking_frame(result, top=3), RANKING)
    assert [row[3] for row in ranked] == [
        "primary, ages 7-10: Communication and interaction",
        "primary, ages 4-6: Communication and interaction",
    ]
    header = to_csv(result, top=3).splitlines()[0]
    assert header.split(",").index("ages") == header.split(",").index("need_group_label") + 1


def test_children_without_an_age_are_spread_over_the_phase_with_a_note(tmp_path):
    demand = "area_code,phase,need_code,children\nA,primary,ASD,7\n"
    scenario = load_scenario(
        _authority(
            tmp_path,
            bases="1,Infant base,sen_unit,primary,10,ASD\n3,Far base,sen_unit,primary,10,ASD\n",
            demand=demand,
            extra="bases = 0",
        )
    )
    result = rank(scenario)
    # 3 of the 7 years of primary are infant ages: 3 children go to the infant base.
    assert _to(result, "1") == pytest.approx(3.0)
    assert _to(result, "3") == pytest.approx(4.0)
    spread = [n for n in result.notes if "have no age" in n]
    assert len(spread) == 1
    assert spread[0].endswith(
        "7 child(ren) have no age, so each is spread evenly over the single years of their"
        " phase (primary 4-10): a base at a school teaching part of the phase may take that"
        " share of them (give each child's age to do better)"
    )


def _special_school_fallback(path: Path) -> Path:
    path.write_text(path.read_text().replace("out_of_authority", "special_school"))
    return path


def test_a_special_school_takes_only_the_ages_it_teaches_as_a_fallback(tmp_path):
    # A special school next to area A teaching 8-19: the fallback of the 8-year-olds, not of
    # the 5-year-olds, who go out of authority.
    special = "5,Upper Special School,all-through,special,mixed,,8,19,100,90,90,400050,300000\n"
    path = _authority(tmp_path, bases="", demand=DEMAND, schools=special, extra="bases = 0")
    scenario = load_scenario(_special_school_fallback(path))
    data = rank(scenario).data
    model = build_instance(scenario, data)
    by_age = dict(zip(model.band_first.tolist(), model.fallback.minutes, strict=True))
    assert by_age[4] == pytest.approx(scenario.fallback.out_of_authority_minutes)
    assert by_age[8] < 10  # the special school next door
    bands = banded_demand(scenario, data.demand, data.schools).bands
    assert bands["primary"] == [(4, 6), (7, 7), (8, 10)]


def test_bands_only_the_fallback_tells_apart_merge_where_it_is_the_same(tmp_path):
    # One special school next to area A teaches 8-10, another next to area B all of primary.
    specials = (
        "5,Upper Special School,primary,special,mixed,,8,11,100,90,90,400050,300000\n"
        "6,Special Primary School,primary,special,mixed,,3,11,100,90,90,410050,300100\n"
    )
    demand = (
        "area_code,phase,need_code,age,children\n"
        "A,primary,ASD,7,2\nA,primary,ASD,8,3\nB,primary,ASD,7,2\nB,primary,ASD,8,3\n"
    )
    path = _authority(tmp_path, bases="", demand=demand, schools=specials, extra="bases = 0")
    scenario = load_scenario(_special_school_fallback(path))
    data = rank(scenario).data
    banded = banded_demand(scenario, data.demand, data.schools)
    assert banded.bands["primary"] == [(4, 6), (7, 7), (8, 10)]
    assert banded.host_bands["primary"] == [(4, 6), (7, 10)]
    model = build_instance(scenario, data)
    rows = model.demand[["area_code", "first_age", "last_age", "children"]]
    # In A a 7-year-old's fallback is 10 km away and an 8-year-old's next door: two rows. In
    # B both fall back on the school next door, so ages 7-10 are one row.
    assert rows.values.tolist() == [["A", 7, 7, 2.0], ["A", 8, 10, 3.0], ["B", 7, 10, 5.0]]


# --- the property --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def primary_scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("property")
    path = _authority(folder, bases="", demand=DEMAND, extra="base_size = 3")
    return load_scenario(_special_school_fallback(path))


_age = st.one_of(st.none(), st.integers(2, 12))


@settings(max_examples=40, deadline=None)
@given(
    schools=st.lists(
        st.tuples(_age, _age, st.booleans(), st.integers(0, 5), st.integers(0, 5)),
        min_size=1,
        max_size=6,
    ),
    demand=st.lists(
        st.tuples(st.integers(0, 2), st.one_of(st.none(), st.integers(4, 10)), st.integers(1, 6)),
        min_size=1,
        max_size=12,
    ),
    capacities=st.lists(st.integers(1, 6), min_size=6, max_size=6),
)
def test_no_flow_to_a_base_from_a_band_outside_its_schools_ages(
    primary_scenario, schools, demand, capacities
):
    scenario = primary_scenario
    rows = []
    for i, (low, high, special, x, y) in enumerate(schools):
        if low is not None and high is not None and low > high:
            low, high = high, low
        rows.append(
            {
                "urn": str(i + 1), "name": f"School {i + 1}", "phase": "primary",
                "establishment_group": "special" if special else "mainstream",
                "statutory_low_age": np.nan if low is None else float(low),
                "statutory_high_age": np.nan if high is None else float(high + 1),
                "easting": 400000.0 + 2000 * x, "northing": 300000.0 + 2000 * y,
            }
        )  # fmt: skip
    table = taught_ages(pd.DataFrame(rows), ages=AGES)
    mainstream = table.index[table["establishment_group"] == "mainstream"].tolist()
    bases = pd.DataFrame(
        {
            "urn": [table.loc[i, "urn"] for i in mainstream[:2]],
            "base_name": [f"Base {i}" for i in mainstream[:2]],
            "base_type": "sen_unit",
            "phase": "primary",
            "capacity": [float(c) for c in capacities[: len(mainstream[:2])]],
            "need_codes": [("ASD",)] * len(mainstream[:2]),
        }
    )
    areas = pd.DataFrame(
        {
            "area_code": ["A0", "A1", "A2"],
            "area_name": ["A0", "A1", "A2"],
            "easting": [400000.0, 404000.0, 408000.0],
            "northing": [300000.0, 304000.0, 308000.0],
        }
    )
    children = pd.DataFrame(
        [
            {
                "area_code": f"A{a}",
                "phase": "primary",
                "need_code": "ASD",
                "age": age,
                "children": float(n),
            }
            for a, age, n in demand
        ]
    )
    children["age"] = children["age"].astype("Int64")
    data = AuthorityData(table, bases, areas, children, None, {}, [], [])
    model = build_instance(scenario, data)
    existing, _ = existing_sites(model, scenario, data)
    klass = frozenset({model.classes.index(("primary", "communication_interaction"))})
    options = [
        site_at(model, scenario, school=i, classes=klass, capacity=c)
        for i, c in zip(mainstream, capacities, strict=False)
    ]
    sites = [*existing, *options]
    hosts = [int(table.index[table["urn"] == urn][0]) for urn in bases["urn"]]
    hosts += mainstream[: len(options)]
    solution = solve_network(model.rows, sites)
    first, last = model.band_first, model.band_last
    for row, site, flow in zip(solution.pair_row, solution.pair_site, solution.flow, strict=True):
        low, high = table.loc[hosts[site], ["first_age", "last_age"]]
        if flow > 1e-9 and not np.isnan(low):
            assert low <= first[row] and last[row] <= high
    # Every child is counted once: in the band holding their age, or spread over the years.
    assert model.rows.children.sum() == pytest.approx(children["children"].sum())
    for row, (area, low, high) in enumerate(
        zip(model.demand["area_code"], first, last, strict=True)
    ):
        mine = children[children["area_code"] == area]
        known = mine["age"].notna() & mine["age"].between(low, high).fillna(False)
        spread = mine.loc[mine["age"].isna(), "children"].sum() * (high - low + 1) / 7
        expected = mine.loc[known, "children"].sum() + spread
        assert model.rows.children[row] == pytest.approx(expected)
    # Children fall back only on special schools teaching their band.
    positions = model.special.used["position"].to_numpy()
    for row, school in enumerate(model.fallback.destination):
        if school >= 0:
            low, high = table.loc[positions[school], ["first_age", "last_age"]]
            assert np.isnan(low) or (low <= first[row] and last[row] <= high)
    places = solution.fallback
    assert places is not None
    n_bases = len(existing) - len(model.fallback_sites)
    for row, site in zip(places.row, places.site, strict=True):
        school = positions[model.places.school[site - n_bases]]
        low, high = table.loc[school, ["first_age", "last_age"]]
        assert np.isnan(low) or (low <= first[row] and last[row] <= high)
