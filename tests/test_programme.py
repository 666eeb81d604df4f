"""The sufficiency statement: demand projected along a damped SEN2 trend, cohorts ageing."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitefinder import load_scenario, rank, with_settings
from sitefinder.config import Programme
from sitefinder.errors import CommandLineError
from sitefinder.programme import fit_trend, project_demand, statement
from sitefinder.programme.projection import Trend
from sitefinder.readers.sen2 import Caseload
from sitefinder.report import to_json

AGES = {"primary": (4, 10), "secondary": (11, 15)}


def _caseload(plans: dict[int, float], name: str = "Testshire") -> Caseload:
    series = pd.Series(plans, dtype=float)
    return Caseload(plans=series, in_bases=series * 0.05, name=name)


def test_a_damped_trend_by_hand():
    trend = Trend(0.10, 0.5, "test", pd.Series(dtype=float))
    assert trend.factor(2025, 2025) == 1.0
    assert trend.factor(2025, 2026) == pytest.approx(1.10)
    # the second year grows by half the first year's log-growth
    assert trend.factor(2025, 2027) == pytest.approx(1.10**1.5)
    assert trend.factor(2025, 2028) == pytest.approx(1.10**1.75)
    given_years = Trend(0.0, 0.8, "test", pd.Series(dtype=float), {2026: 0.2, 2027: -0.1})
    assert given_years.factor(2025, 2027) == pytest.approx(1.2 * 0.9)


def test_the_authority_s_own_trend_is_fitted_and_stated():
    plans = {y: 100 * 1.08 ** (y - 2019) for y in range(2019, 2026)}
    trend, notes = fit_trend(Programme(), authority=_caseload(plans), england=None)
    assert trend.rate == pytest.approx(0.08)
    assert trend.source == "Testshire's SEN2 series"
    assert "a fitted growth of +8.0% a year (R squared 1.00), damped by 0.8" in notes[0]


def test_a_short_or_erratic_series_falls_back_on_england():
    england = _caseload({y: 1000 * 1.05 ** (y - 2019) for y in range(2019, 2026)}, "England")
    short, notes = fit_trend(
        Programme(), authority=_caseload({2024: 10, 2025: 30}), england=england
    )
    assert short.rate == pytest.approx(0.05) and short.source == "England's SEN2 series"
    assert "has 2 census year(s), under 4" in notes[0]
    erratic = _caseload({2019: 50, 2020: 90, 2021: 40, 2022: 85, 2023: 45, 2024: 95, 2025: 50})
    jumpy, notes = fit_trend(Programme(), authority=erratic, england=england)
    assert jumpy.source == "England's SEN2 series" and "is erratic" in notes[0]
    with pytest.raises(
        ValueError, match=r"give inputs\.demand\.sen2_caseload, or programme\.growth"
    ):
        fit_trend(Programme(), authority=None, england=None)


def test_a_scenario_s_growth_replaces_the_trend():
    trend, notes = fit_trend(Programme(growth=0.2, damping=1.0), authority=None, england=None)
    assert trend.factor(2025, 2027) == pytest.approx(1.44)
    assert "programme.growth" in notes[0]


def _demand(rows):
    return pd.DataFrame(rows, columns=["area_code", "phase", "need_code", "age", "children"])


def test_cohorts_age_a_year_each_year_without_population():
    demand = _demand(
        [
            ("A", "primary", "ASD", 4, 1.0),
            ("A", "primary", "ASD", 10, 3.0),
            ("A", "secondary", "ASD", 15, 2.0),
            ("A", "primary", "SEMH", np.nan, 5.0),  # no age: grows, does not age
        ]
    )
    flat = Trend(0.0, 1.0, "test", pd.Series(dtype=float))
    out = project_demand(demand, years=[2026], base_year=2025, trend=flat, ages=AGES)
    asd = out[out["need_code"] == "ASD"].set_index("age")
    # the 10-year-olds are 11 and in secondary; the 15-year-olds have left; a new cohort of 4
    assert asd.loc[11, "children"] == 3.0 and asd.loc[11, "phase"] == "secondary"
    assert asd.loc[5, "children"] == 1.0 and asd.loc[4, "children"] == 1.0
    assert 16 not in asd.index and 15 not in asd.index
    assert out.loc[out["need_code"] == "SEMH", "children"].sum() == 5.0


def test_with_population_a_cohort_keeps_its_size_at_its_new_age():
    demand = _demand([("A", "secondary", "ASD", 11, 6.0), ("B", "secondary", "ASD", 11, 6.0)])
    # area A has 120 children aged 10 and 100 aged 11: next year's 11-year-olds are 20% more
    population = pd.DataFrame({10: [120.0, 50.0], 11: [100.0, 100.0]}, index=["A", "B"])
    trend = Trend(0.1, 1.0, "test", pd.Series(dtype=float))
    out = project_demand(
        demand, years=[2026], base_year=2025, trend=trend, ages=AGES, population=population
    )
    by_area = out.set_index("area_code")["children"]
    assert by_area["A"] == pytest.approx(6.0 * 1.2 * 1.1)
    assert by_area["B"] == pytest.approx(6.0 * 0.5 * 1.1)


def test_children_per_year_scale_the_projection():
    demand = _demand([("A", "primary", "ASD", 5, 2.0), ("B", "primary", "SEMH", 6, 6.0)])
    flat = Trend(0.0, 1.0, "test", pd.Series(dtype=float))
    out = project_demand(
        demand,
        years=[2026],
        base_year=2025,
        trend=flat,
        ages=AGES,
        children={2026: {"primary": 16.0}},
    )
    assert out["children"].sum() == pytest.approx(16.0)
    assert out.set_index("area_code")["children"]["A"] == pytest.approx(4.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.0, 50.0), min_size=3, max_size=3),
    st.lists(st.floats(0.0, 40.0), min_size=3, max_size=3),
    st.lists(st.floats(0.0, 20.0), min_size=3, max_size=3),
)
def test_every_statement_row_reconciles(children, today, added):
    scenario = load_scenario_default()
    groups = list(scenario.need_groups)[:3]
    codes = [scenario.need_groups[g].codes[0] for g in groups]
    projected = pd.DataFrame(
        {"year": 2026, "phase": "primary", "need_code": codes, "children": children}
    )
    places = pd.DataFrame(
        {"phase": "primary", "need_group": groups, "places": today, "places_source": "register"}
    )
    new = pd.DataFrame({"phase": "primary", "need_group": groups, "places": added})
    rows = statement(scenario, projected=projected, today=places, added=new, years=[2026])
    assert np.allclose(rows["gap"], rows["children"] - rows["places_today"] - rows["places_added"])
    mine = rows[rows["phase"] == "primary"].set_index("need_group").loc[groups]
    assert np.allclose(mine["children"], children)
    assert np.allclose(mine["places_added"], added)


def load_scenario_default():
    from sitefinder.resources import default_scenario_path

    return load_scenario(default_scenario_path())


def test_bad_programme_settings_are_named():
    scenario = load_scenario_default()
    for update, message in (
        ({"programme.years": [2028, 2027]}, "programme.years: must be in order"),
        ({"programme.growth": float("inf")}, "programme.growth: must be from -0.5 to 1"),
        ({"programme.growth": "fast"}, "programme.growth: must be a yearly rate"),
        ({"programme.damping": 1.5}, "programme.damping: must be from 0 to 1"),
        ({"programme.years": [1990, 2027]}, "programme.years.0: must be from 2,000 to 2,100"),
        ({"programme.years": [2027, 2027]}, "programme.years: must be in order"),
        ({"programme.growth": float("nan")}, "programme.growth: must be from -0.5 to 1"),
        ({"programme.growth": {2027: float("inf")}}, "programme.growth: must be from -0.5"),
        ({"selection.min_occupancy": 1.5}, "selection.min_occupancy: must be from 0 to 1"),
        ({"selection.min_occupancy": -0.1}, "selection.min_occupancy: must be from 0 to 1"),
        ({"programme.capital_budget": "lots"}, "programme.capital_budget: must be a sum in £"),
        (
            {"programme.capital_budget": {2027: -5}},
            r"programme.capital_budget: must be a sum from £0 for 2027 \(got -5\)",
        ),
    ):
        with pytest.raises(CommandLineError, match=message):
            with_settings(scenario, update)


def test_the_demo_statement_in_every_output(tmp_path):
    scenario = with_settings(
        load_scenario_default(),
        {"programme.years": [2026, 2027, 2028], "programme.growth": 0.1, "programme.bases": 2},
    )
    result = rank(scenario)
    table = result.sufficiency
    assert sorted(table["year"].unique()) == [2026, 2027, 2028]
    assert np.allclose(
        table["gap"], table["children"] - table["places_today"] - table["places_added"]
    )
    # places today are today's bases' (70 on the demo's register), added the programme's by
    # the year each opens
    first = table[table["year"] == 2026]
    assert first["places_today"].sum() == pytest.approx(result.data.bases["capacity"].sum())
    programme = result.programme
    for year in (2026, 2027, 2028):
        opened = programme.loc[programme["year"] <= year, "places"].sum()
        assert table.loc[table["year"] == year, "places_added"].sum() == pytest.approx(opened)
    # the children grow with the trend, the cohorts ageing (the demo's counts have ages)
    totals = table.groupby("year")["children"].sum()
    today = float(result.data.demand["children"].sum())
    assert totals[2026] == pytest.approx(today * 1.1, rel=0.15)
    document = json.loads(to_json(result, top=3))
    assert len(document["sufficiency"]) == len(table)
    from sitefinder.render import write_report

    report = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="sufficiency"' in report
    # the demo's counts are child-level: small cells are withheld, so no chart gives them back
    assert "&lt;5" in report and report.count("data:image/png;base64,") == 1
    assert set(document["sufficiency"][0]) >= {
        "year", "phase", "need_group", "children", "places_today", "places_added", "gap",
    }  # fmt: skip


def test_trafford_demand_grows_along_its_sen2_series(trafford_result, tmp_path):
    result = trafford_result
    table = result.sufficiency
    assert sorted(table["year"].unique()) == [2026, 2027, 2028, 2029, 2030]
    assert any("Trafford's EHC plans in January" in n for n in result.notes)
    totals = table.groupby("year")["children"].sum()
    today = float(result.data.demand.loc[
        result.data.demand["phase"].isin(result.scenario.phases), "children"
    ].sum())  # fmt: skip
    assert totals[2026] > today  # growing, about 10% a year in SEN2 2019-2025
    assert math.isclose(totals[2030], totals.max(), rel_tol=0.05)
    assert np.allclose(
        table["gap"], table["children"] - table["places_today"] - table["places_added"]
    )
    from sitefinder.render import write_report

    report = write_report(result, tmp_path / "t.html").read_text(encoding="utf-8")
    assert report.count("data:image/png;base64,") == 2  # the map and the sufficiency chart


@pytest.fixture(scope="module")
def demo_plan():
    """The demo ranked with 2 bases asked (its plan, and the arrays the programme reads)."""
    scenario = with_settings(load_scenario_default(), {"bases": 2, "programme.bases": 2})
    return rank(scenario)


def _schedule(result, projected, years):
    from sitefinder.programme.schedule import schedule

    inputs = result.model
    options = inputs.options.assign(
        name=inputs.schools["name"].to_numpy()[inputs.options["school"].to_numpy()]
    )
    return schedule(
        inputs.instance, result.scenario, years=years, projected=projected,
        existing=inputs.existing, options=options, option_sites=inputs.option_sites,
    )  # fmt: skip


def test_a_programme_of_one_year_on_today_s_children_equals_today_s_single_plan(demo_plan):
    from sitefinder.programme.schedule import rows_of_year

    result = demo_plan
    today = result.data.demand.assign(year=2026)
    instance = result.model.instance
    assert np.allclose(rows_of_year(instance, result.scenario, today), instance.rows.children)
    planned = _schedule(result, today, [2026])
    programme = planned.table
    key = ["urn", "phase", "need_groups", "places"]
    chosen = result.plan.chosen.rename(columns={"need_group": "need_groups"})
    assert len(chosen) >= 1

    def bases(table):
        columns = [table[k].astype(str) for k in key[:3]]
        return sorted(zip(*columns, table["places"].astype(int), strict=True))

    assert bases(programme) == bases(chosen)
    assert programme["harm_averted"].sum() == pytest.approx(chosen["harm_averted"].sum())
    # the year's own search bounds it: the plan is that year's optimum
    year = planned.years.iloc[0]
    assert year["harm_with"] == pytest.approx(result.after.total_harm)
    assert year["gap_to_bound"] <= 1e-3


def test_adding_a_year_of_demand_never_shrinks_the_places_the_programme_adds(demo_plan):
    result = demo_plan
    trend = Trend(0.15, 1.0, "test", pd.Series(dtype=float))
    demand = result.data.demand
    projected = project_demand(
        demand, years=[2026, 2027, 2028], base_year=2025, trend=trend, ages=AGES
    )
    two = _schedule(result, projected, [2026, 2027])
    three = _schedule(result, projected, [2026, 2027, 2028])
    # the years before are chosen as they were: a later year never moves an earlier base
    assert three.table[three.table["year"] <= 2027].equals(two.table)
    assert three.table["places"].sum() >= two.table["places"].sum()
    for table in (two.table, three.table):
        assert (table["children_expected"] >= 0.8 * table["places"] - 1e-6).all()
    years = three.years
    assert (years["harm_bound"] <= years["harm_with"] + 1e-9).all()
    assert np.allclose(years["gap_to_bound"], 1 - years["harm_bound"] / years["harm_with"])


def test_a_programme_budget_caps_the_capital_year_by_year(demo_plan):
    result = demo_plan
    one = 19_559 * 10
    scenario = with_settings(
        result.scenario, {"programme.capital_budget": {2026: one, 2027: 0, 2028: one}}
    )
    projected = project_demand(
        result.data.demand, years=[2026, 2027, 2028], base_year=2025,
        trend=Trend(0.15, 1.0, "test", pd.Series(dtype=float)), ages=AGES,
    )  # fmt: skip
    planned = _schedule(
        dataclasses.replace(result, scenario=scenario), projected, [2026, 2027, 2028]
    )
    spent = planned.table.groupby("year")["capital"].sum()
    assert spent.get(2026, 0) <= one and spent.get(2026, 0) + spent.get(2027, 0) <= one
    assert spent.sum() <= 2 * one
    assert any("capital budget" in note for note in planned.notes)


def test_rutland_s_programme_opens_no_base_under_its_occupancy(real_data, monkeypatch):
    monkeypatch.setenv("SITEFINDER_REAL_DATA", str(real_data))
    from sitefinder.resources import bundled_root

    result = rank(load_scenario(bundled_root() / "configs" / "examples" / "rutland.toml"))
    programme = result.programme
    assert len(programme) >= 2 and programme["year"].is_monotonic_increasing
    assert (programme["children_expected"] >= 0.8 * programme["places"] - 1e-9).all()
    table = result.sufficiency
    for (year, phase, group), places in (
        programme.groupby(["year", "phase", "need_groups"])["places"].sum().items()
    ):
        later = table[(table["year"] >= year) & (table["phase"] == phase)]
        assert later.loc[later["need_group"] == group, "places_added"].min() >= places
    document = json.loads(to_json(result, top=3))
    assert [row["urn"] for row in document["programme"]] == programme["urn"].astype(str).tolist()


def _with_additional(tmp_path, text: str):
    from sitefinder.resources import default_scenario_path

    extra = tmp_path / "additional.csv"
    extra.write_text(text, encoding="utf-8")
    return with_settings(
        load_scenario(default_scenario_path()),
        {
            "inputs.demand.additional": str(extra),
            "programme.years": [2026, 2027],
            "programme.growth": 0.0,
        },
    )


def test_children_the_authority_knows_of_join_today_s_demand_and_the_programme_s(tmp_path):
    from sitefinder.load import load_inputs

    scenario = _with_additional(
        tmp_path,
        "area_code,phase,need_code,children,year\n"
        "E90000001,primary,ASD,3,\n"  # waiting today
        "E90000002,secondary,SEMH,4,2027\n",  # returning from an independent school in 2027
    )
    plain = load_inputs(load_scenario_default())
    data = load_inputs(scenario)
    assert data.demand["children"].sum() == pytest.approx(plain.demand["children"].sum() + 3)
    assert data.additional["year"].tolist() == [2027]
    assert any("inputs.demand.additional" in n for n in data.notes)

    def semh(run):
        projected = run.projection.projected
        mine = projected[
            (projected["area_code"] == "E90000002") & (projected["need_code"] == "SEMH")
        ]
        return mine.groupby("year")["children"].sum().reindex([2026, 2027], fill_value=0.0)

    with_them = semh(rank(scenario))
    without = semh(
        rank(
            with_settings(
                load_scenario_default(),
                {"programme.years": [2026, 2027], "programme.growth": 0.0},
            )
        )
    )
    # the 4 returning in 2027 are there from 2027, not before
    assert (with_them - without).tolist() == pytest.approx([0.0, 4.0])
    assert not scenario.estimates  # counted children are child-level


def test_a_bad_additional_file_is_reported_row_by_row(tmp_path):
    from sitefinder.errors import DataError
    from sitefinder.load import load_inputs

    scenario = _with_additional(
        tmp_path,
        "area_code,phase,need_code,children,year\n"
        "E90000001,primary,AUTISM,3,\n"
        "NOWHERE,primary,ASD,2,\n"
        "E90000002,secondary,SEMH,4,next year\n",
    )
    with pytest.raises(DataError) as caught:
        load_inputs(scenario)
    problems = "\n".join(caught.value.problems)
    path = tmp_path / "additional.csv"
    assert f"{path}: column need_code, line 2" in problems
    assert f"{path}: column year, line 4" in problems
    assert "NOWHERE" in problems or f"{path}: column area_code, line 3" in problems


def test_each_primary_base_s_pathway_at_11(tmp_path):
    result = rank(load_scenario_default())
    pathway = result.pathway
    assert len(pathway) >= 3
    # leavers are the base's 10-year-olds: never more than its children; the shortfall is the
    # leavers beyond the spare secondary places within the limit of their homes
    assert (pathway["leaving_each_year"] <= pathway["children"] + 1e-9).all()
    assert np.allclose(
        pathway["shortfall"],
        np.maximum(pathway["leaving_each_year"] - pathway["secondary_spare"], 0.0),
    )
    assert (pathway["secondary_spare"] <= pathway["secondary_places"] + 1e-9).all()
    # the demo's counts give no ages, so each band's children are spread evenly over its years:
    # a seventh of a 4-10 base's children are 10 and leave each year
    assert result.data.demand["age"].isna().all()
    assert np.allclose(pathway["leaving_each_year"], pathway["children"] / 7)
    listed = set(pathway["kind"])
    assert listed <= {"existing", "new"} and "new" in listed  # the plan's bases too
    document = json.loads(to_json(result, top=3))
    assert len(document["pathway"]) == len(pathway)


def test_trafford_s_infant_base_sends_no_one_to_secondary(trafford_result):
    pathway = trafford_result.pathway.set_index(["name", "need_group"])
    infant = pathway.xs("Wellfield Infant and Nursery School SEN unit", level="name")
    assert (infant["leaving_each_year"] == 0).all()  # it teaches 4-6: its children go on at 7
    junior = pathway.xs("Wellfield Junior School SEN unit", level="name")
    assert (junior["leaving_each_year"] > 0).all()


def test_the_programme_is_a_point_layer_and_a_table_of_the_geopackage(trafford_result, tmp_path):
    import pyogrio

    from sitefinder.export import read_run, write_geopackage

    result = trafford_result
    path = write_geopackage(result, tmp_path / "t.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert layers["programme_bases"] == "Point" and layers["programme"] is None
    points = pyogrio.read_dataframe(path, layer="programme_bases")
    programme = result.programme
    assert len(points) >= 1 and len(points) == len(programme)
    assert points["urn"].tolist() == programme["urn"].astype(str).tolist()
    assert points["year"].tolist() == programme["year"].tolist()
    assert points["places"].tolist() == programme["places"].tolist()
    assert np.allclose(points["children_expected"], programme["children_expected"], atol=0.05)
    assert set(points["need_groups"]) <= set(result.scenario.need_groups)
    # each point is its school, where the candidates layer draws it
    schools = result.schools.assign(urn=result.schools["urn"].astype(str)).set_index("urn")
    xy = schools.loc[points["urn"], ["easting", "northing"]].to_numpy(dtype=float)
    assert np.allclose(np.c_[points.geometry.x, points.geometry.y], xy)
    assert pyogrio.read_info(path, layer="programme_bases")["crs"] == "EPSG:27700"
    back = read_run(path)
    assert back["programme_bases"]["urn"].tolist() == points["urn"].tolist()


def test_every_primary_base_today_in_the_plan_and_in_the_programme_has_its_pathway(
    trafford_result,
):
    result = trafford_result
    pathway = result.pathway
    programme = result.programme
    primary = programme[programme["phase"] == "primary"]
    assert len(primary) >= 1
    for row in primary.itertuples():
        mine = pathway[
            (pathway["urn"] == str(row.urn)) & (pathway["need_group"] == row.need_groups)
        ]
        assert len(mine) == 1, row.name  # once: the plan's own row, or the programme's
    later = pathway[pathway["kind"] == "programme"]
    assert set(later["urn"]) <= set(primary["urn"].astype(str))
    assert (later["shortfall"] >= 0).all()
    assert np.allclose(
        later["shortfall"],
        np.maximum(later["leaving_each_year"] - later["secondary_spare"], 0.0),
    )
    # the programme's secondary bases open by its last year are on its pathway
    secondary = set(programme.loc[programme["phase"] == "secondary", "name"])
    assert any(name in text for text in later["secondary_bases"] for name in secondary)
    today = {str(u) for u in result.data.bases.loc[result.data.bases["phase"] == "primary", "urn"]}
    assert today <= set(pathway.loc[pathway["kind"] == "existing", "urn"])


def test_the_pathway_s_spare_places_are_shown_to_a_tenth():
    from sitefinder.columns import PATHWAY, text_value

    spare = next(c for c in PATHWAY if c.key == "secondary_spare")
    # a sum of places that came to zero, and a share of one, as the report shows them
    assert text_value(1.7763568394002505e-15, spare) == "0"
    assert text_value(-1e-15, spare) == "0"
    assert text_value(1.02847, spare) == "1"
    assert text_value(3.46, spare) == "3.5"


def test_a_base_that_places_few_new_children_is_said_to_open_for_journeys(trafford_result):
    result = trafford_result
    said = "it opens to shorten journeys, not to add needed places"
    notes = {int(n.split(":")[0].split()[1]): n for n in result.notes
             if n.startswith("programme 20")}  # fmt: skip
    programme = result.programme
    assert len(programme)
    for base in programme.itertuples():
        note = notes[int(base.year)]
        own = note.split(f"{base.name} (", 1)[1].split(";", 1)[0]  # this base's words
        few = float(base.newly_placed) < float(base.places) / 4
        assert (said in own) == few, note
    # Trafford's 2028 primary base places almost no one who had no place (as shipped)
    assert said in notes[2028] and said not in notes[2026]
