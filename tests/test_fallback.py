"""Where a child without a base place goes: special schools, out of authority, or flat."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layouts import GiasSchool, write_gias

from sitefinder import load_scenario
from sitefinder.config import SchoolsInput
from sitefinder.fallback import build_fallback, nearest_within
from sitefinder.instance import build_instance
from sitefinder.load import load_inputs
from sitefinder.readers.establishments import read_establishments
from sitefinder.resources import default_scenario_path
from sitefinder.validate import Problems

# --- a hand case on sitefinder's own layout, crow-fly journeys --------------------------------

SCHOOLS = """urn,name,phase,establishment_group,capacity,pupils,easting,northing,need_codes
1,Near Primary,primary,mainstream,420,400,401000,300000,
2,Brook SEMH School,primary,special,60,50,404000,300000,SEMH
3,Hill Special School,all-through,special,120,110,408000,300000,
4,Sixth Form Special,other,special,40,30,400500,300000,
5,Vale Autism School,secondary,special,80,70,406000,300000,ASD;SLCN
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


def _hand_case(tmp_path: Path, extra: str = "") -> Path:
    for name, text in (("schools", SCHOOLS), ("areas", AREAS), ("demand", DEMAND)):
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


def _rows(path: Path):
    scenario = load_scenario(path)
    instance = build_instance(scenario, load_inputs(scenario))
    table = instance.demand[["area_code", "phase", "need_group"]].assign(
        minutes=instance.fallback.minutes,
        school=instance.fallback.school,
        unmet=instance.rows.unmet_harm,
        mismatch=instance.rows.mismatch,
    )
    return table.set_index(["area_code", "phase", "need_group"]), instance


def test_unmet_harm_is_the_curve_at_the_nearest_compatible_special_school_plus_mismatch(
    tmp_path,
):
    rows, instance = _rows(_hand_case(tmp_path))
    # primary communication: Brook serves SEMH only, the sixth form teaches neither phase, so
    # Hill (8 km, every need) is nearest
    asd = rows.loc[("A", "primary", "communication_interaction")]
    assert asd["minutes"] == pytest.approx(_journey(8000))  # 26.06 minutes
    assert asd["school"] == 2  # Hill, the third school
    assert asd["unmet"] == pytest.approx(_primary(_journey(8000)) + 1.0)
    # primary SEMH: Brook, 4 km
    semh = rows.loc[("A", "primary", "semh")]
    assert semh["minutes"] == pytest.approx(_journey(4000))  # 15.53 minutes
    assert semh["unmet"] == pytest.approx(_primary(_journey(4000)) + 1.0)
    # secondary communication: Vale (6 km, ASD and SLCN); secondary SEMH: Hill (8 km)
    vale = rows.loc[("A", "secondary", "communication_interaction")]
    assert vale["unmet"] == pytest.approx(_secondary(_journey(6000)) + 1.0)
    hill = rows.loc[("A", "secondary", "semh")]
    assert hill["unmet"] == pytest.approx(_secondary(_journey(8000)) + 1.0)
    # 200 km away no special school is within 120 minutes: an out-of-authority placement,
    # 60 minutes: (45/30)^1.5 + step 1 + 0.1 x 15 past the limit + 0.6 travel, + 1 mismatch
    far = rows.loc[("B", "primary", "communication_interaction")]
    assert far["school"] == -1 and far["minutes"] == 60
    assert far["unmet"] == pytest.approx(1.5**1.5 + 1 + 1.5 + 0.6 + 1.0)
    assert (rows["mismatch"] == 1.0).all()
    notes = " ".join(instance.fallback.notes)
    assert "nearest of 4 special school(s)" in notes
    assert "2 special school(s) record no type of SEN provision" in notes  # Hill, Sixth Form
    assert "for 1 of 5 demand row(s)" in notes


def test_fallback_settings_change_the_journey_and_the_penalty(tmp_path):
    rows, _ = _rows(
        _hand_case(
            tmp_path,
            "[fallback]\nmethod = 'out_of_authority'\nout_of_authority_minutes = 30\n"
            "mismatch = 2.5\n",
        )
    )
    assert (rows["minutes"] == 30).all() and (rows["school"] == -1).all()
    primary = rows.xs("primary", level="phase")["unmet"]
    assert np.allclose(primary, _primary(30) + 2.5)
    flat, instance = _rows(_hand_case(tmp_path, "[fallback]\nmethod = 'flat'\n"))
    assert (flat["unmet"] == 25.0).all() and (flat["mismatch"] == 25.0).all()
    assert flat["minutes"].isna().all()
    assert instance.fallback.notes[0].startswith("fallback: flat:")


def test_without_special_schools_everyone_gets_the_out_of_authority_journey(tmp_path):
    path = _hand_case(tmp_path)
    schools = tmp_path / "schools.csv"
    schools.write_text(SCHOOLS.replace(",special,", ",independent,"), encoding="utf-8")
    rows, instance = _rows(path)
    assert (rows["minutes"] == 60).all()
    assert "no special school is known" in instance.fallback.notes[0]


def test_bad_need_codes_of_a_special_school_are_reported(tmp_path):
    from sitefinder.errors import DataError

    path = _hand_case(tmp_path)
    (tmp_path / "schools.csv").write_text(
        SCHOOLS.replace("ASD;SLCN", "ASD;AUTISM"), encoding="utf-8"
    )
    with pytest.raises(DataError) as caught:
        load_inputs(load_scenario(path))
    assert caught.value.problems == [
        f"{tmp_path / 'schools.csv'}: column need_codes, line 6: need codes separated by ';',"
        " each one of ASD, SLCN, SEMH, MLD, SLD, PMLD, SpLD, HI, VI, MSI, PD, OTH (or blank)"
    ]


def test_gias_types_of_sen_provision_say_which_needs_a_special_school_serves(tmp_path):
    path = write_gias(
        tmp_path / "gias.csv",
        [
            GiasSchool("100001", "Oak Primary").row(),
            GiasSchool(
                "100002",
                "Elm SEMH School",
                group="Special schools",
                kind="Community special school",
                phase="Not applicable",
                ages=("5", "16"),
                needs=("SEMH - Social, Emotional and Mental Health",),
            ).row(),
            GiasSchool(
                "100003",
                "Ash Special School",
                group="Special schools",
                kind="Community special school",
                phase="Not applicable",
                ages=("2", "19"),
            ).row(),
        ],
    )
    problems = Problems()
    found = read_establishments(
        SchoolsInput(path=path, format="gias", authority="Trafford"), problems
    )
    assert problems.items == []
    schools = found.schools.set_index("urn")
    assert schools.loc["100002", "need_codes"] == "SEMH"
    assert schools.loc["100003", "need_codes"] == ""  # not recorded: serves every need
    assert schools.loc["100002", "phase"] == "all-through"  # from the statutory ages


# --- the array core and its properties ---------------------------------------------------------


def test_nearest_within_hand_case():
    minutes = np.array([[30.0, 10.0, 5.0], [200.0, np.inf, 130.0]])
    compatible = np.array([[True, True, False], [True, True, True]])
    found, column = nearest_within(minutes, compatible, max_minutes=120)
    assert found[0] == 10.0 and column[0] == 1  # the nearest one is not compatible
    assert np.isnan(found[1]) and column[1] == -1  # nothing within 120 minutes


SCENARIO = load_scenario(default_scenario_path())
CLASSES = [(p, g) for p in SCENARIO.phases for g in SCENARIO.need_groups]
GROUP_CODES = [code for group in SCENARIO.need_groups.values() for code in group.codes]


@st.composite
def special_schools(draw, n):
    return pd.DataFrame(
        {
            "urn": [str(i) for i in range(n)],
            "name": [f"School {i}" for i in range(n)],
            "establishment_group": draw(
                st.lists(st.sampled_from(["special", "mainstream"]), min_size=n, max_size=n)
            ),
            "phase": draw(
                st.lists(
                    st.sampled_from(["primary", "secondary", "all-through", "other"]),
                    min_size=n,
                    max_size=n,
                )
            ),
            "need_codes": [
                ";".join(codes)
                for codes in draw(
                    st.lists(
                        st.lists(st.sampled_from(GROUP_CODES), max_size=3, unique=True),
                        min_size=n,
                        max_size=n,
                    )
                )
            ],
        }
    )


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_nearer_special_school_never_raises_an_areas_unmet_harm(data):
    n_rows = data.draw(st.integers(1, 8))
    n_schools = data.draw(st.integers(0, 5))
    klass = np.array(
        data.draw(st.lists(st.integers(0, len(CLASSES) - 1), min_size=n_rows, max_size=n_rows)),
        dtype=np.intp,
    )
    phases = [CLASSES[k][0] for k in klass]
    minutes = np.array(
        data.draw(
            st.lists(
                st.lists(st.floats(1, 200), min_size=n_schools, max_size=n_schools),
                min_size=n_rows,
                max_size=n_rows,
            )
        ),
        dtype=float,
    ).reshape(n_rows, n_schools)
    schools = data.draw(special_schools(n_schools))
    before = build_fallback(
        SCENARIO, schools, classes=CLASSES, klass=klass, phases=phases, minutes=minutes
    )
    # open one more special school, at any distance from each area
    extra = data.draw(special_schools(1)).assign(urn="new", establishment_group="special")
    column = np.array(data.draw(st.lists(st.floats(1, 200), min_size=n_rows, max_size=n_rows)))
    after = build_fallback(
        SCENARIO,
        pd.concat([schools, extra], ignore_index=True),
        classes=CLASSES,
        klass=klass,
        phases=phases,
        minutes=np.column_stack([minutes, column]),
    )
    assert np.all(after.unmet_harm <= before.unmet_harm + 1e-12)
    # where the new school is used, it is nearer than the old fallback and within reach
    used = after.school == n_schools
    assert np.all(column[used] <= np.minimum(before.minutes[used], 120.0))
    assert np.all(after.unmet_harm[used] < before.unmet_harm[used] + 1e-12)


def test_demo_rows_fall_back_on_their_nearest_special_school(demo_config):
    scenario = load_scenario(demo_config)
    instance = build_instance(scenario, load_inputs(scenario))
    data = load_inputs(scenario)
    special = np.flatnonzero((data.schools["establishment_group"] == "special").to_numpy())
    phase_ok = {
        "primary": {"primary", "all-through"},
        "secondary": {"secondary", "all-through"},
    }
    minutes = instance.journeys.dense()  # inf past journey.max_minutes
    for row, phase in enumerate(instance.demand["phase"]):
        teaching = [
            j for j in special if data.schools["phase"].iloc[j] in phase_ok[phase]
        ]  # the demo's special schools record no needs: every need
        reach = [minutes[row, j] for j in teaching if minutes[row, j] <= 120]
        expected = min([*reach, 60.0])  # or out of authority, 60 minutes, when nearer
        assert instance.fallback.minutes[row] == pytest.approx(expected)
        curve = scenario.harm.curve(phase)
        assert instance.rows.unmet_harm[row] == pytest.approx(float(curve(expected)) + 1.0)
