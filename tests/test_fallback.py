"""Where a child without a base place goes: special schools' places, out of authority, flat."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layouts import GiasSchool, write_gias

from sitefinder import load_scenario
from sitefinder.config import SchoolsInput
from sitefinder.errors import DataError, ScenarioError
from sitefinder.fallback import fallback_schools, where_unplaced
from sitefinder.instance import build_instance, existing_sites
from sitefinder.load import load_inputs
from sitefinder.model.network import DemandRows, Site, solve_network
from sitefinder.readers.establishments import read_establishments, special_kinds
from sitefinder.supply import taught_ages
from sitefinder.validate import Problems

# --- a hand case on sitefinder's own layout, crow-fly journeys --------------------------------

SCHOOLS = """urn,name,phase,establishment_group,capacity,pupils,easting,northing,need_codes,\
statutory_low_age,statutory_high_age
1,Near Primary,primary,mainstream,420,400,401000,300000,,4,11
2,Brook SEMH School,primary,special,60,50,404000,300000,SEMH,4,11
3,Hill Special School,all-through,special,120,110,408000,300000,,4,19
4,Sixth Form Special,other,special,40,30,400500,300000,,16,19
5,Vale Autism School,secondary,special,80,70,406000,300000,ASD;SLCN,11,19
"""
AREAS = """area_code,area_name,easting,northing
A,Town,400000,300000
B,Far away,400000,500000
"""
DEMAND = """area_code,phase,need_code,children
A,primary,ASD,3
A,primary,SEMH,2
A,secondary,ASD,4
A,secondary,SEMH,1
B,primary,ASD,1
"""


def _journey(metres: float) -> float:
    # crow-fly defaults: x 1.35 circuity at 40 km/h, x 1.3 ride factor, + 5 minutes overhead
    return metres * 1.35 / (40_000 / 60) * 1.3 + 5


def _primary(t: float) -> float:
    # curve from 15 to 45 minutes, exponent 1.5; travel term 0.01 per minute
    return max(t - 15, 0) ** 1.5 / 30**1.5 + 0.01 * t


def _secondary(t: float) -> float:
    return max(t - 15, 0) ** 1.5 / 60**1.5 + 0.01 * t


# 60 minutes out of authority, primary: (45/30)^1.5 + step 1 + 0.1 x 15 past the limit + 0.6
FAR_PRIMARY = 1.5**1.5 + 1 + 1.5 + 0.6


def _hand_case(tmp_path: Path, extra: str = "", schools: str = SCHOOLS) -> Path:
    for name, text in (("schools", schools), ("areas", AREAS), ("demand", DEMAND)):
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    (tmp_path / "bases.csv").write_text(
        "urn,base_type,phase,capacity,need_codes\n", encoding="utf-8"
    )
    path = tmp_path / "s.toml"
    path.write_text(
        extra + '\n[inputs]\nschools = "schools.csv"\nbases = "bases.csv"\n'
        'areas = "areas.csv"\ndemand = "demand.csv"\n',
        encoding="utf-8",
    )
    return path


def _today(path: Path):
    """Today's network of the hand case (no bases): where the children go, and its harm."""
    scenario = load_scenario(path)
    data = load_inputs(scenario)
    instance = build_instance(scenario, data)
    sites, table = existing_sites(instance, scenario, data)
    solution = solve_network(instance.rows, sites)
    where = where_unplaced(instance, solution, first_site=len(table), network="today")
    return where.set_index(["area_code", "phase", "need_group"]), solution, instance


def test_children_fill_the_nearest_special_school_serving_their_need_and_age(tmp_path):
    where, solution, _ = _today(_hand_case(tmp_path))
    # primary communication: Brook serves SEMH only and the sixth form teaches 16-19, so the
    # three go to Hill (8 km, every need); primary SEMH to Brook (4 km); secondary
    # communication to Vale (6 km, ASD and SLCN); secondary SEMH to Hill
    expected = {
        ("A", "primary", "communication_interaction"): ("3", 3, _journey(8000)),
        ("A", "primary", "semh"): ("2", 2, _journey(4000)),
        ("A", "secondary", "communication_interaction"): ("5", 4, _journey(6000)),
        ("A", "secondary", "semh"): ("3", 1, _journey(8000)),
        ("B", "primary", "communication_interaction"): ("", 1, 60.0),  # none within 120 min
    }
    assert len(where) == len(expected)
    for key, (urn, children, minutes) in expected.items():
        row = where.loc[key]
        assert (row["urn"], row["children"]) == (urn, pytest.approx(children))
        assert row["minutes"] == pytest.approx(minutes)
        assert row["kind"] == ("out_of_authority" if urn == "" else "special")
    total = (
        3 * _primary(_journey(8000))
        + 2 * _primary(_journey(4000))
        + 4 * _secondary(_journey(6000))
        + 1 * _secondary(_journey(8000))
        + FAR_PRIMARY
        + 11 * 1.0  # every child without a base place: the mismatch
    )
    assert solution.objective == pytest.approx(total)
    assert solution.unmet.sum() == pytest.approx(11)  # all without a base place


def test_the_notes_name_the_schools_the_model_used(tmp_path):
    where, _, instance = _today(_hand_case(tmp_path))
    notes = " ".join(instance.fallback.notes)
    assert "fill the places of 3 special school(s)" in notes
    assert "teach none of the planned phases' ages: Sixth Form Special (4)" in notes
    used = set(instance.special.used["urn"])
    went = set(where["urn"]) - {""}
    assert went <= used and used == {"2", "3", "5"}


def test_a_full_special_school_sends_its_next_children_to_the_next_one(tmp_path):
    # Brook has 1 place on the register: one SEMH child there, the other to Hill (8 km)
    schools = SCHOOLS.replace("statutory_high_age\n", "statutory_high_age,special_places\n")
    schools = schools.replace(",4,11\n2,", ",4,11,\n2,").replace("SEMH,4,11\n", "SEMH,4,11,1\n")
    schools = "\n".join(
        line if line.count(",") == 11 else line + "," for line in schools.strip().splitlines()
    )
    where, solution, _ = _today(_hand_case(tmp_path, schools=schools + "\n"))
    semh = where.loc[("A", "primary", "semh")].set_index("urn")
    assert semh.loc["2", "children"] == pytest.approx(1)
    assert semh.loc["3", "children"] == pytest.approx(1)
    flows = solution.fallback
    assert flows is not None
    assert flows.flow[flows.site == 0].sum() <= 1 + 1e-9  # Brook: never past its place


def test_spare_places_count_todays_pupils(tmp_path):
    # Hill is full (120 of 120), so primary communication has no special school left
    full = SCHOOLS.replace(",120,110,", ",120,120,")
    where, _, instance = _today(
        _hand_case(tmp_path, '[fallback]\nplaces = "spare"\n', schools=full)
    )
    row = where.loc[("A", "primary", "communication_interaction")]
    assert row["kind"] == "out_of_authority" and row["children"] == pytest.approx(3)
    assert "1 special school(s) have no places to offer" in " ".join(instance.fallback.notes)
    brook = instance.special.table.set_index("urn").loc["2"]
    assert (brook["places"], brook["places_source"]) == (10, "capacity - pupils")


INDEPENDENT = SCHOOLS.replace("statutory_high_age\n", "statutory_high_age,special_kind\n")
INDEPENDENT = "\n".join(line + "," for line in INDEPENDENT.strip().splitlines()[1:])
INDEPENDENT = (
    SCHOOLS.splitlines()[0]
    + ",special_kind\n"
    + INDEPENDENT
    + "\n6,Lea House,all-through,special,12,7,402000,300000,,4,19,independent\n"
)


def test_independent_places_are_a_kind_of_their_own(tmp_path):
    # by default a place is a place: Lea House (independent, 2 km, 12 places) is nearest and
    # takes all 10 children of area A
    where, _, instance = _today(_hand_case(tmp_path, schools=INDEPENDENT))
    lea = where[where["urn"] == "6"]
    assert lea["kind"].eq("independent").all() and lea["children"].sum() == pytest.approx(10)
    assert instance.special.table.set_index("urn").loc["6", "kind"] == "independent"
    # with 0.5 extra harm points an independent place comes after Hill (8 km) for primary
    assert _primary(_journey(8000)) < _primary(_journey(2000)) + 0.5
    where, _, instance = _today(
        _hand_case(tmp_path, "[fallback.independent]\nextra_harm = 0.5\n", schools=INDEPENDENT)
    )
    assert where.loc[("A", "primary", "communication_interaction"), "urn"] == "3"
    assert "adds 0.5 harm point(s) per child" in " ".join(instance.fallback.notes)
    # switched off, it takes none, and the notes say so
    where, _, instance = _today(
        _hand_case(tmp_path, "[fallback.independent]\nuse = false\n", schools=INDEPENDENT)
    )
    assert "6" not in set(where["urn"])
    assert "1 independent special school(s) not used" in " ".join(instance.fallback.notes)


def test_per_phase_mismatch_and_out_of_authority_minutes(tmp_path):
    rows = _today(
        _hand_case(
            tmp_path,
            "[fallback]\nmethod = 'out_of_authority'\n"
            "out_of_authority_minutes = { primary = 30, secondary = 90 }\n"
            "mismatch = { primary = 2.5, secondary = 0.5 }\n",
        )
    )[2]
    phases = rows.demand["phase"].to_numpy()
    assert np.allclose(rows.rows.unmet_harm[phases == "primary"], _primary(30) + 2.5)
    secondary = 1.5**1.5 + 0.01 * 90  # 75 minutes at the limit: (75/60)^1.5 ... past it
    assert rows.fallback.minutes[phases == "secondary"].tolist() == [90.0, 90.0]
    assert np.all(rows.rows.unmet_harm[phases == "secondary"] > secondary)
    assert np.allclose(rows.rows.mismatch[phases == "secondary"], 0.5)


def test_a_per_phase_value_must_name_both_phases(tmp_path):
    with pytest.raises(ScenarioError, match=r"fallback.mismatch: unknown phase nursery"):
        load_scenario(_hand_case(tmp_path, "[fallback]\nmismatch = { nursery = 1 }\n"))
    with pytest.raises(ScenarioError, match=r"no value for secondary"):
        load_scenario(_hand_case(tmp_path, "[fallback]\nmismatch = { primary = 1 }\n"))


def test_out_of_authority_and_flat_methods(tmp_path):
    where, _, _ = _today(
        _hand_case(tmp_path, "[fallback]\nmethod = 'out_of_authority'\nmismatch = 2.5\n")
    )
    assert set(where["kind"]) == {"out_of_authority"} and (where["minutes"] == 60).all()
    where, solution, instance = _today(_hand_case(tmp_path, "[fallback]\nmethod = 'flat'\n"))
    assert set(where["kind"]) == {"flat"}
    assert solution.objective == pytest.approx(11 * 25.0)
    assert instance.fallback.notes[0].startswith("fallback: flat:")


def test_without_special_schools_everyone_goes_out_of_authority(tmp_path):
    path = _hand_case(tmp_path, schools=SCHOOLS.replace(",special,", ",independent,"))
    where, _, instance = _today(path)
    assert set(where["kind"]) == {"out_of_authority"}
    assert "no special school with places teaches" in instance.fallback.notes[0]


# --- bad input ---------------------------------------------------------------------------------


def test_bad_places_and_kinds_of_special_schools_are_reported_together(tmp_path):
    schools = INDEPENDENT.replace("special_kind\n", "special_kind,special_places\n")
    lines = schools.strip().splitlines()
    lines = [lines[0]] + [line + "," for line in lines[1:]]
    lines[2] = lines[2] + "-3"  # Brook: negative places
    lines[3] = lines[3] + "lots"  # Hill: not a number
    lines[6] = lines[6].replace(",independent,", ",private,")  # Lea House: unknown kind
    path = _hand_case(tmp_path, schools="\n".join(lines) + "\n")
    with pytest.raises(DataError) as caught:
        load_inputs(load_scenario(path))
    problems = "\n".join(caught.value.problems)
    file = tmp_path / "schools.csv"
    assert f"{file}: column special_kind, line 7: must be one of special, independent," in problems
    assert f"{file}: column special_places, line 3" in problems
    assert f"{file}: column special_places, line 4" in problems


def test_bad_need_codes_of_a_special_school_are_reported(tmp_path):
    path = _hand_case(tmp_path, schools=SCHOOLS.replace("ASD;SLCN", "ASD;AUTISM"))
    with pytest.raises(DataError) as caught:
        load_inputs(load_scenario(path))
    assert caught.value.problems == [
        f"{tmp_path / 'schools.csv'}: column need_codes, line 6: need codes separated by ';',"
        " each one of ASD, SLCN, SEMH, MLD, SLD, PMLD, SpLD, HI, VI, MSI, PD, OTH (or blank)"
    ]


# --- GIAS: phase "Not applicable", no ages, and the kinds of special school --------------------


def _gias_special(tmp_path: Path) -> Path:
    special = {"group": "Special schools", "phase": "Not applicable", "capacity": "", "pupils": ""}
    return write_gias(
        tmp_path / "gias.csv",
        [
            GiasSchool("100001", "Oak Primary").row(),
            GiasSchool(
                "100002",
                "Elm SEMH School",
                kind="Community special school",
                ages=("5", "16"),
                needs=("SEMH - Social, Emotional and Mental Health",),
                **special,
            ).row(),
            GiasSchool(
                "100003",
                "Ash Special School",
                kind="Academy special converter",
                ages=("", ""),
                **special,
            ).row(),
            GiasSchool(
                "100004",
                "Yew House",
                kind="Other independent special school",
                ages=("", ""),
                **special,
            ).row(),
            GiasSchool(
                "100005",
                "Fir Trust School",
                kind="Non-maintained special school",
                ages=("11", "19"),
                **special,
            ).row(),
        ],
    )


def test_special_schools_with_no_phase_or_ages_are_used_and_named(tmp_path):
    problems = Problems()
    found = read_establishments(
        SchoolsInput(path=_gias_special(tmp_path), format="gias", authority="Trafford"),
        problems,
    )
    assert problems.items == []
    schools = found.schools.set_index("urn")
    assert schools.loc["100002", "need_codes"] == "SEMH"
    assert schools.loc["100003", "need_codes"] == ""  # not recorded: serves every need
    assert schools.loc["100002", "phase"] == "all-through"  # from the statutory ages
    assert schools["special_kind"].to_dict() == {
        "100001": "", "100002": "special", "100003": "special", "100004": "independent",
        "100005": "non_maintained",
    }  # fmt: skip
    scenario = load_scenario(_hand_case(tmp_path))
    special = fallback_schools(
        scenario, taught_ages(found.schools, ages=scenario.inputs.demand.ages)
    )
    table = special.table.set_index("urn")
    assert table["used"].all()  # nothing silently dropped
    assert table.loc["100003", "phases"] == "primary;secondary"  # no phase, no ages: every one
    assert table.loc["100005", "phases"] == "secondary"  # from its ages, 11-19
    assert (table["places_source"] == "assumed (fallback.default_places)").all()
    warnings = " ".join(special.warnings)
    assert (
        "2 special school(s) record neither a phase nor statutory ages, so each is taken to"
        " teach every planned phase at every age: Ash Special School (100003), Yew House"
        " (100004); give statutory_low_age and statutory_high_age" in warnings
    )
    assert "each is taken to have 100 places (fallback.default_places)" in warnings


def test_an_independent_schools_number_tells_its_kind_where_the_type_is_blank():
    table = pd.DataFrame(
        {
            "establishment_type": ["", "", "", "Foundation special school"],
            "establishment_number": ["6019", "7001", "6000", "6019"],
        }
    )
    groups = pd.Series(["special", "special", "independent", "special"])
    assert special_kinds(table, groups).tolist() == ["independent", "special", "", "special"]


# --- properties of the capacitated fallback ------------------------------------------------------


@st.composite
def fallback_networks(draw):
    """Demand rows of one class and special schools' places with random journeys' harm."""
    n_rows = draw(st.integers(1, 6))
    n_sites = draw(st.integers(1, 4))
    children = np.array(draw(st.lists(st.floats(0.5, 8), min_size=n_rows, max_size=n_rows)))
    unmet = np.array(draw(st.lists(st.floats(2, 4), min_size=n_rows, max_size=n_rows)))
    demand = DemandRows(
        children=children,
        klass=np.zeros(n_rows, dtype=np.intp),
        limit_minutes=np.full(n_rows, 45.0),
        unmet_harm=unmet,
        mismatch_harm=np.ones(n_rows),
    )
    sites = []
    for _ in range(n_sites):
        rows = np.array(
            sorted(draw(st.sets(st.integers(0, n_rows - 1), min_size=1))), dtype=np.intp
        )
        minutes = np.array(draw(st.lists(st.floats(1, 90), min_size=len(rows), max_size=len(rows))))
        sites.append(
            Site(
                capacity=draw(st.floats(0, 10)),
                classes=frozenset({0}),
                rows=rows,
                minutes=minutes,
                harm=1.0 + minutes / 60.0,
                fallback=True,
            )
        )
    return demand, sites


@settings(max_examples=60, deadline=None)
@given(fallback_networks(), st.data())
def test_more_places_at_a_special_school_never_raise_harm_and_none_is_overfilled(network, data):
    demand, sites = network
    before = solve_network(demand, sites)
    assert before.fallback is not None
    for index, site in enumerate(sites):  # at capacity it takes no more children
        assert before.fallback.flow[before.fallback.site == index].sum() <= site.capacity + 1e-7
    assert len(before.pair_row) == 0  # special schools' places are not base places
    assert np.allclose(before.unmet, demand.children)
    which = data.draw(st.integers(0, len(sites) - 1))
    more = data.draw(st.floats(0.5, 10))
    grown = list(sites)
    grown[which] = Site(
        sites[which].capacity + more,
        sites[which].classes,
        sites[which].rows,
        sites[which].minutes,
        sites[which].harm,
        fallback=True,
    )
    assert solve_network(demand, grown).objective <= before.objective + 1e-9


def _gias_case(
    tmp_path: Path,
    rows: list[list[str]],
    *,
    areas: str = "A,Town,377000,390000\n",
    demand: str = "A,primary,ASD,5\n",
    top: str = 'phases = ["primary"]\nbases = 0\n',
) -> Path:
    """A Trafford scenario on a GIAS extract of ``rows`` and areas and demand of its own."""
    gias = write_gias(tmp_path / "gias.csv", rows)
    (tmp_path / "areas.csv").write_text(
        "area_code,area_name,easting,northing\n" + areas, encoding="utf-8"
    )
    (tmp_path / "demand.csv").write_text(
        "area_code,phase,need_code,children\n" + demand, encoding="utf-8"
    )
    path = tmp_path / "s.toml"
    path.write_text(
        f'authority = "Trafford"\n{top}'
        f'[inputs.schools]\npath = "{gias.name}"\nformat = "gias"\n'
        '[inputs]\nareas = "areas.csv"\ndemand = "demand.csv"\n',
        encoding="utf-8",
    )
    return path


# --- across the border ---------------------------------------------------------------------------


def test_a_special_school_across_the_border_takes_children_and_is_flagged(tmp_path):
    # Trafford's own special school is 9 km from the area; Manchester's is 1 km away, across
    # the border: the children fill its places first, and every output says it is cross-border
    manchester = ("352", "Manchester", "E08000003")
    path = _gias_case(
        tmp_path,
        [
            GiasSchool("100001", "Oak Primary", xy=("377000", "390000")).row(),
            GiasSchool(
                "100002", "Home Special", group="Special schools",
                kind="Community special school", ages=("4", "11"), xy=("386000", "390000"),
                capacity="100", pupils="90",
            ).row(),
            GiasSchool(
                "200001", "Over The Border Special", group="Special schools",
                kind="Community special school", ages=("4", "11"), xy=("378000", "390000"),
                capacity="3", pupils="1", la=manchester,
            ).row(),
            GiasSchool(
                "200002", "Far Away Special", group="Special schools",
                kind="Community special school", ages=("4", "11"), xy=("450000", "390000"),
                la=manchester,
            ).row(),
            GiasSchool(
                "200003", "Manchester Primary", xy=("378500", "390000"), la=manchester
            ).row(),
        ],
    )  # fmt: skip
    scenario = load_scenario(path)
    data = load_inputs(scenario)
    urns = set(data.schools["urn"])
    assert "200001" in urns and "200002" not in urns  # 73 km away: beyond the 30 km reach
    assert "200003" not in urns  # another authority's mainstream school is no host
    assert any("1 special school(s) of other authorities" in n for n in data.notes)
    where, _, _ = _today(path)
    across = where[where["urn"] == "200001"]
    assert across["children"].sum() == pytest.approx(3)  # its capacity
    assert across["cross_border"].all()
    home = where[where["urn"] == "100002"]
    assert home["children"].sum() == pytest.approx(2) and not home["cross_border"].any()
    from sitefinder import rank
    from sitefinder.report import to_json

    result = rank(scenario)
    table = result.special_schools.set_index("urn")
    assert bool(table.loc["200001", "cross_border"]) and not table.loc["100002", "cross_border"]
    document = json.loads(to_json(result, top=3))
    flagged = {row["urn"] for row in document["fallback"] if row["cross_border"]}
    assert flagged == {"200001"}
    assert {row["urn"]: row["cross_border"] for row in document["special_schools"]} == {
        "100002": False,
        "200001": True,
    }


# --- the special schools register --------------------------------------------------------------


def _with_register(tmp_path: Path, register: str, schools: str = SCHOOLS) -> Path:
    path = _hand_case(tmp_path, schools=schools)
    (tmp_path / "special.csv").write_text(register, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    path.write_text(text + 'special_schools = "special.csv"\n', encoding="utf-8")
    return path


def test_a_register_gives_places_needs_kind_and_ages(tmp_path):
    # Near Primary is no special school in the schools file; the register says it is an
    # independent one for autism (ASD) with 2 places, and Hill has only 1 place
    register = (
        "urn,kind,places,need_codes,statutory_low_age,statutory_high_age\n"
        "1,independent,2,asd,4,11\n"
        "3,,1,,,\n"
    )
    schools = SCHOOLS + "7,Far Primary,primary,mainstream,420,400,430000,300000,,4,11\n"
    where, _, instance = _today(_with_register(tmp_path, register, schools=schools))
    table = instance.special.table.set_index("urn")
    assert table.loc["1", "kind"] == "independent" and table.loc["1", "need_codes"] == "ASD"
    assert table.loc["1", "places"] == 2 and table.loc["1", "places_source"] == "register"
    assert table.loc["3", "kind"] == "special" and table.loc["3", "places"] == 1
    asd = where.loc[("A", "primary", "communication_interaction")].set_index("urn")
    # 3 primary ASD children: 2 at Near Primary (1 km), 1 at Hill (8 km); none left over
    assert asd.loc["1", "children"] == pytest.approx(2)
    assert asd.loc["3", "children"] == pytest.approx(1)
    assert any("special schools register" in n for n in instance_notes(tmp_path))


def instance_notes(tmp_path: Path) -> list[str]:
    return load_inputs(load_scenario(tmp_path / "s.toml")).notes


def test_a_bad_register_is_reported_row_by_row(tmp_path):
    register = (
        "urn,kind,places,need_codes\n"
        "2,academy,3,SEMH\n"  # line 2: an unknown kind
        "3,special,-1,\n"  # line 3: negative places
        "5,special,4,ASD;AUTISM\n"  # line 4: a need code nobody knows
        "99,special,4,\n"  # line 5: not in the schools file
    )
    with pytest.raises(DataError) as caught:
        load_inputs(load_scenario(_with_register(tmp_path, register)))
    file = tmp_path / "special.csv"
    problems = caught.value.problems
    assert (
        f"{file}: column urn, line 5: not in the schools file (each special school needs its"
        " row there, with its location)" in problems
    )
    assert (
        f"{file}: column kind, line 2: must be one of special, independent,"
        " non_maintained, or blank" in problems
    )
    assert any(p.startswith(f"{file}: column places, line 3") for p in problems)
    assert any(p.startswith(f"{file}: column need_codes, line 4") for p in problems)


def test_an_island_whose_special_schools_record_no_phase_or_ages_uses_them(tmp_path):
    # The Isle of Wight's shape: special schools with phase "Not applicable" and no ages.
    # Before, each was dropped and every child went 60 minutes out of authority; now they take
    # the children (each, with no ages, every phase and age), and a warning names them.
    special = {"group": "Special schools", "phase": "Not applicable", "ages": ("", "")}
    path = _gias_case(
        tmp_path,
        [
            GiasSchool("100001", "Oak Primary", xy=("450000", "90000")).row(),
            GiasSchool(
                "100002", "Island Special", kind="Community special school",
                xy=("452000", "90000"), **special,
            ).row(),
            GiasSchool(
                "100003", "Harbour House", kind="Other independent special school",
                xy=("449000", "90000"), capacity="6", pupils="5", **special,
            ).row(),
        ],
        areas="A,Newport,450000,90000\n",
        demand="A,primary,SEMH,4\nA,secondary,ASD,5\n",
        top="bases = 0\n",
    )  # fmt: skip
    where, solution, instance = _today(path)
    assert set(where["kind"]) == {"special", "independent"}  # nobody out of authority
    # Harbour House (1 km, independent) is full at 6 places; the rest go to Island Special
    assert where.loc[where["urn"] == "100003", "children"].sum() == pytest.approx(6)
    assert where.loc[where["urn"] == "100002", "children"].sum() == pytest.approx(3)
    assert solution.objective < 9 * (FAR_PRIMARY + 1.0) / 2  # far below everyone at 60 min
    warnings = " ".join(instance.special.warnings)
    assert "Island Special (100002), Harbour House (100003)" in warnings


def test_a_base_across_the_border_is_a_place_with_no_mismatch(tmp_path):
    # Manchester's primary 1 km from the area has a 4-place resourced provision: 4 children
    # take it (a base place: no mismatch), the fifth goes to Trafford's special school; the
    # Manchester school is never a host for Trafford
    manchester = ("352", "Manchester", "E08000003")
    path = _gias_case(
        tmp_path,
        [
            GiasSchool("100001", "Oak Primary", xy=("390000", "390000")).row(),
            GiasSchool(
                "100002", "Home Special", group="Special schools",
                kind="Community special school", ages=("4", "11"), xy=("380000", "390000"),
            ).row(),
            GiasSchool(
                "200001", "Border Primary", xy=("378000", "390000"), la=manchester,
                provision="Resourced provision", rp_capacity="4",
            ).row(),
        ],
        top='phases = ["primary"]\nbases = 1\n',
    )  # fmt: skip
    scenario = load_scenario(path)
    data = load_inputs(scenario)
    assert data.bases.empty  # Trafford has no base of its own
    assert data.border_bases["urn"].tolist() == ["200001"]
    where, solution, instance = _today(path)
    border = where[where["kind"] == "base_cross_border"]
    assert border["urn"].tolist() == ["200001"] and border["cross_border"].all()
    assert border["children"].sum() == pytest.approx(4)
    assert where.loc[where["urn"] == "100002", "children"].sum() == pytest.approx(1)
    from sitefinder.model.network import metrics

    today = metrics(instance.rows, solution)
    assert today.unmet == pytest.approx(5)  # none has one of Trafford's base places
    assert today.mismatch_harm == pytest.approx(1.0)  # but only one has no base place at all
    from sitefinder import rank

    result = rank(scenario)
    hosts = set(result.schools.loc[result.schools["eligible"], "urn"])
    assert "200001" not in hosts and "100001" in hosts
    reasons = result.schools.set_index("urn").loc["200001", "notes"]
    assert "another authority's school (across the border)" in reasons


def test_per_phase_settings_reach_every_output(tmp_path, demo_config):
    from sitefinder import rank, with_settings
    from sitefinder.published import publish
    from sitefinder.render import write_report
    from sitefinder.report import to_json

    scenario = with_settings(
        load_scenario(demo_config),
        {
            "fallback.mismatch": {"primary": 1.5, "secondary": 0.5},
            "fallback.out_of_authority_minutes": {"primary": 40, "secondary": 80},
        },
    )
    result = rank(scenario)
    facts = publish(result).facts
    assert (
        "an out-of-authority placement 40 minutes (primary) and 80 minutes (secondary) away"
        in facts.harm_scale
    )
    assert "1.5 harm point(s) (primary) and 0.5 harm point(s) (secondary)" in facts.harm_scale
    assert json.loads(to_json(result, top=3))["fallback_totals"]
    assert write_report(result, tmp_path / "r.html").stat().st_size > 0
    phases = result.model.instance.demand["phase"].to_numpy()
    assert np.allclose(result.model.instance.rows.mismatch[phases == "primary"], 1.5)
