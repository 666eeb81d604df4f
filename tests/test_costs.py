"""The business case: hand-checked sums, bad input named by key, the outputs that carry it, a
capital budget, and the real examples (with SITEFINDER_REAL_DATA)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import real_data_folder
from typer.testing import CliRunner

from sitefinder import rank
from sitefinder.cli import app
from sitefinder.config import Costs, load_scenario, with_settings
from sitefinder.costs import SOURCES, appraise, business_case
from sitefinder.errors import ScenarioError
from sitefinder.report import to_json

ROOT = Path(__file__).resolve().parent.parent

# A tiny authority worked by hand: one new base of 10 places; today 6 children in a special
# school 20 minutes away and 4 in an independent one 40 minutes away; with the base, 8 of them
# travel 15 minutes to it and 2 stay in the special school.
TINY = Costs(
    capital_per_place=20_000,
    capital_per_base=50_000,
    revenue_per_place=15_000,
    transport_per_child=1_000,
    transport_per_minute=100,
    special_place=25_000,
    independent_place=60_000,
    discount_rate=0.0,
    appraisal_years=5,
)


def _unplaced(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["network", "kind", "children", "minutes"])


def _tiny(costs: Costs = TINY, bases: pd.DataFrame | None = None):
    if bases is None:
        bases = pd.DataFrame(
            [{"choice": 1, "urn": "1", "name": "A", "phase": "primary", "need_group": "x",
              "places": 10, "children_served": 8.0, "newly_placed": 8.0, "harm_averted": 16.0}]
        )  # fmt: skip
    return business_case(
        costs,
        bases=bases,
        unplaced=_unplaced(
            [
                ("today", "special", 6, 20),
                ("today", "independent", 4, 40),
                ("plan", "special", 2, 20),
            ]
        ),
        in_bases={"today": (0.0, 0.0), "plan": (8.0, 120.0)},
        children_placed=8.0,
        harm_averted=16.0,
    )


def test_a_tiny_authority_worked_by_hand():
    case = _tiny()
    total = case.total
    # capital: 50,000 + 10 x 20,000; revenue: 10 x 15,000
    assert total["capital"] == 250_000
    assert total["revenue_per_year"] == 150_000
    # transport today: 10 children x 1,000 + (6 x 20 + 4 x 40 = 280 minutes) x 100 = 38,000;
    # with the base: 10 x 1,000 + (8 x 15 + 2 x 20 = 160 minutes) x 100 = 26,000
    assert case.transport["cost_per_year"].tolist() == [38_000, 26_000]
    assert total["transport_change_per_year"] == -12_000
    # placements: special (2 - 6) x 25,000 = -100,000; independent (0 - 4) x 60,000 = -240,000
    placed = case.placements.set_index("kind")["change_per_year"]
    assert placed["special"] == -100_000 and placed["independent"] == -240_000
    assert total["placement_change_per_year"] == -340_000
    # net saving = -(150,000 - 12,000 - 340,000) = 202,000; payback 250,000 / 202,000
    assert total["net_saving_per_year"] == 202_000
    assert total["payback_years"] == pytest.approx(250_000 / 202_000)
    # at a zero rate over 5 years: NPV = -250,000 + 5 x 202,000; capital a year 50,000
    assert total["net_present_value"] == pytest.approx(760_000)
    assert total["annual_capital"] == pytest.approx(50_000)
    assert total["net_cost_per_year"] == pytest.approx(-152_000)
    assert total["cost_per_child_placed"] == pytest.approx(-19_000)  # 8 children
    assert total["cost_per_harm_point"] == pytest.approx(-9_500)  # 16 harm points
    # the one base carries the whole plan
    base = case.bases.iloc[0]
    assert base["capital"] == 250_000 and base["net_saving_per_year"] == 202_000


def test_discounting_by_hand():
    # 10% over 2 years: annuity factor (1 - 1.1^-2) / 0.1 = 1.7355372
    found = appraise(250_000, 202_000, rate=0.1, years=2)
    assert found.net_present_value == pytest.approx(-250_000 + 202_000 * 1.7355372, abs=0.1)
    # discounted payback: (1.1)^-n = 1 - 250,000 x 0.1 / 202,000
    assert found.discounted_payback_years == pytest.approx(
        -math.log(1 - 25_000 / 202_000) / math.log(1.1)
    )
    assert found.annual_capital == pytest.approx(250_000 / 1.7355372, rel=1e-6)
    never = appraise(100, 5, rate=0.1, years=10)  # 5 a year at 10% never repays 100
    assert never.payback_years == 20 and never.discounted_payback_years is None
    assert appraise(100, -5, rate=0.0, years=3).payback_years is None  # costs money a year


def test_the_plan_changes_are_shared_by_the_children_each_base_newly_places():
    bases = pd.DataFrame(
        [
            {"choice": 1, "urn": "1", "name": "A", "phase": "primary", "need_group": "x",
             "places": 10, "children_served": 8.0, "newly_placed": 6.0, "harm_averted": 12.0},
            {"choice": 2, "urn": "2", "name": "B", "phase": "primary", "need_group": "x",
             "places": 5, "children_served": 4.0, "newly_placed": 2.0, "harm_averted": 4.0},
        ]
    )  # fmt: skip
    case = _tiny(bases=bases)
    table = case.bases.set_index("urn")
    assert table.loc["1", "capital"] == 250_000 and table.loc["2", "capital"] == 150_000
    assert table["share"].tolist() == [0.75, 0.25]
    assert table.loc["1", "placement_change_per_year"] == -255_000  # 0.75 x -340,000
    assert table.loc["2", "transport_change_per_year"] == -3_000  # 0.25 x -12,000
    assert table["net_saving_per_year"].sum() == pytest.approx(case.total["net_saving_per_year"])


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("costs.capital_per_place", -1, "costs.capital_per_place: must be a sum from £0"),
        ("costs.special_place", float("inf"), "costs.special_place: must be a sum from £0"),
        ("costs.transport_per_minute", float("nan"), "costs.transport_per_minute: must be"),
        ("costs.discount_rate", 1.5, "costs.discount_rate: must be from 0 to 1"),
        ("costs.discount_rate", -0.1, "costs.discount_rate: must be from 0 to 1"),
        ("costs.appraisal_years", 0, "costs.appraisal_years: must be from 1 to 100"),
        ("selection.capital_budget", "two million", "selection.capital_budget: input should be"),
        ("selection.capital_budget", -5, "selection.capital_budget: must be a sum from £0"),
    ],
)
def test_bad_costs_are_named_by_key(demo_config, key, value, message):
    with pytest.raises(ScenarioError) as caught:
        with_settings(load_scenario(demo_config), {key: value})
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def test_bad_costs_in_a_file_fail_the_command_in_one_line_each(scenario_file):
    path = scenario_file("[costs]\ncapital_per_place = -3\nspecial_place = inf\n")
    result = CliRunner().invoke(app, ["rank", "--config", str(path)])
    assert result.exit_code == 1
    assert "costs.capital_per_place: must be a sum from £0 to £10,000,000 a place (got -3)" in (
        result.stderr
    )
    assert "costs.special_place: must be" in result.stderr
    assert "Traceback" not in result.output


def test_every_default_names_its_source():
    for key in Costs.model_fields:
        assert key in SOURCES, key
        default = Costs.model_fields[key].default
        text = SOURCES[key]
        if key not in ("discount_rate", "appraisal_years"):
            assert f"£{default:,.0f}" in text, key  # the source gives the figure it sets
        assert (
            any(str(year) in text for year in range(2018, 2027))
            or "undated" in text
            or ("assumption" in text)
        ), key


@pytest.fixture(scope="module")
def demo():
    from sitefinder.resources import default_scenario_path

    return rank(load_scenario(default_scenario_path()))


def test_the_demo_business_case_adds_up_from_its_own_tables(demo):
    costs = demo.scenario.costs
    case = demo.costs
    chosen = demo.plan.chosen
    assert case.total["capital"] == pytest.approx(chosen["places"].sum() * costs.capital_per_place)
    # placements: the unplaced table, priced
    unplaced = demo.unplaced
    change = sum(
        (
            unplaced.loc[
                (unplaced["network"] == "plan") & (unplaced["kind"] == kind), "children"
            ].sum()
            - unplaced.loc[
                (unplaced["network"] == "today") & (unplaced["kind"] == kind), "children"
            ].sum()
        )
        * costs.place_cost(kind)
        for kind in set(unplaced["kind"])
    )
    assert case.total["placement_change_per_year"] == pytest.approx(change)
    # transport with the plan: the assignments (children in bases) + fallback journeys
    a = demo.assignments
    plan = unplaced[unplaced["network"] == "plan"]
    minutes = (a["children"] * a["minutes"]).sum() + (plan["children"] * plan["minutes"]).sum()
    children = a["children"].sum() + plan["children"].sum()
    cost = case.transport.set_index("network").loc["plan", "cost_per_year"]
    assert cost == pytest.approx(
        children * costs.transport_per_child + minutes * costs.transport_per_minute
    )
    assert case.total["net_saving_per_year"] == pytest.approx(
        -(
            case.total["revenue_per_year"]
            + case.total["transport_change_per_year"]
            + case.total["placement_change_per_year"]
        )
    )


def test_money_is_shown_as_money_and_never_withheld(demo_config):
    scenario = with_settings(load_scenario(demo_config), {"suppression_threshold": 200})
    result = rank(scenario)
    document = json.loads(to_json(result, top=3))
    total = document["costs"]["total"]
    assert set(total) >= {
        "capital", "revenue_per_year", "transport_change_per_year",
        "placement_change_per_year", "net_saving_per_year", "payback_years",
    }  # fmt: skip
    assert document["network"]["after"]["placed"] == "c" or "<" in str(
        document["network"]["after"]["placed"]
    )  # the children's counts are withheld ...
    assert isinstance(total["capital"], int) and total["capital"] > 0  # ... the money is not
    assert all(isinstance(b["capital"], int) for b in document["costs"]["bases"])
    assert [b["urn"] for b in document["costs"]["bases"]] == [
        str(u) for u in result.plan.chosen["urn"]
    ]
    assert set(document["costs"]["sources"]) == {f"costs.{k}" for k in Costs.model_fields}


def test_the_terminal_table_and_the_geopackage_carry_the_case(tmp_path):
    import pyogrio

    out = tmp_path / "run.gpkg"
    result = CliRunner().invoke(app, ["rank", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "The business case" in result.stdout
    assert "£" in result.stdout and "Payback = capital / net saving" in result.stdout
    table = pyogrio.read_dataframe(out, layer="costs", read_geometry=False)
    assert table["row"].tolist()[-1] == "total"
    bases = table[table["row"] == "base"]
    assert bases["capital"].sum() == pytest.approx(float(table["capital"].iloc[-1]))


def _budget(demo_config, budget: float):
    scenario = with_settings(load_scenario(demo_config), {"selection.capital_budget": budget})
    return rank(scenario)


def test_a_larger_budget_never_gives_a_worse_plan(demo_config):
    one = 19_559 * 10  # a 10-place base at the default capital per place
    harms = []
    for budget in (0, one - 1, one, 2.5 * one, 3 * one, 100 * one):
        result = _budget(demo_config, budget)
        harms.append(result.after.total_harm)
        assert result.costs.total["capital"] <= budget + 1e-6
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(harms))
    assert harms[0] > harms[-1]


def test_a_budget_below_one_base_gives_no_new_base_and_says_why(demo_config):
    result = _budget(demo_config, 100_000)
    assert result.plan.chosen.empty
    assert result.costs.total["capital"] == 0
    assert "below the capital of one new base, £195,590" in result.plan.notes[0]


def test_a_budget_with_several_sizes_is_exact_and_says_what_it_left_out(demo_config):
    ten, five = 19_559 * 10, 19_559 * 5
    scenario = with_settings(
        load_scenario(demo_config),
        {"selection.capital_budget": ten + five, "selection.sizes": [5, 10], "bases": 3},
    )
    result = rank(scenario)
    places = result.plan.chosen["places"].tolist()
    assert result.costs is not None
    capital = float(result.costs.total["capital"] or 0.0)
    assert capital <= ten + five + 1e-6
    assert capital == pytest.approx(19_559 * sum(places))
    note = result.plan.notes[0]
    assert note.startswith("Capital budget £293,385 (selection.capital_budget): the plan's")
    assert "Without it the best plan would cost" in note and "within the budget the plan" in note
    unlimited = rank(with_settings(scenario, {"selection.capital_budget": 10 * ten}))
    assert unlimited.after.total_harm <= result.after.total_harm + 1e-9


def test_compare_shows_capital_net_saving_and_payback(scenario_file, demo_config):
    other = scenario_file('name = "dear"\nbases = 1\n[costs]\ncapital_per_place = 74000\n')
    result = CliRunner().invoke(app, ["compare", str(demo_config), str(other)])
    assert result.exit_code == 0, result.output
    for label in ("Capital", "Net saving a year", "Payback (years)"):
        assert label in result.stdout
    assert "£740,000" in result.stdout  # 10 places x £74,000


# --- the real examples ------------------------------------------------------------------------


def _real(name: str):
    real_data_folder()
    return rank(load_scenario(ROOT / "configs" / "examples" / f"{name}.toml"))


@pytest.mark.parametrize("name", ["trafford", "rutland"])
def test_the_examples_show_a_case_a_planner_can_check(name, request):
    # Trafford is ranked once a session (the shared fixture); Rutland is quick
    result = request.getfixturevalue("trafford_result") if name == "trafford" else _real(name)
    case, costs = result.costs, result.scenario.costs
    bases = case.bases
    assert len(bases) == len(result.plan.chosen) > 0
    assert (bases["capital"] == bases["places"] * costs.capital_per_place).all()
    assert (bases["revenue_per_year"] == bases["places"] * costs.revenue_per_place).all()
    total = case.total
    assert total["capital"] == pytest.approx(bases["capital"].sum())
    # the plan places children who were in special or independent places: a saving
    assert total["placement_change_per_year"] < 0
    saving = total["net_saving_per_year"]
    if saving > 0:
        assert total["payback_years"] == pytest.approx(total["capital"] / saving)
    else:
        assert total["payback_years"] is None
    document = json.loads(to_json(result, top=3))
    notes = " ".join(document["costs"]["notes"])
    assert f"£{total['capital']:,.0f}" in notes


def test_a_case_resting_on_placements_says_what_it_is_without_them():
    from sitefinder.costs.words import cost_notes
    from sitefinder.resources import default_scenario_path

    scenario = load_scenario(default_scenario_path()).model_copy(update={"costs": TINY})
    notes = cost_notes(_tiny(), scenario, threshold=0)
    # the £202,000 saving counts £340,000 of placements left: without them -£138,000 a year
    (rests,) = [n for n in notes if n.startswith("What the saving rests on")]
    assert "net saving of £202,000 a year counts £340,000 a year of children leaving" in rests
    assert "special school (£100,000 a year at £25,000 a child, costs.special_place)" in rests
    assert "(£240,000 a year at £60,000 a child, costs.independent_place)" in rests
    assert rests.endswith(
        "the plan would cost £138,000 a year net and never pay back. Check them against your"
        " authority's placements before relying on the payback."
    )
    # a case that stands on its own is not qualified
    cheap = Costs(**{**TINY.model_dump(), "special_place": 0.0, "independent_place": 1_000.0})
    assert not [n for n in cost_notes(_tiny(cheap), scenario, threshold=0) if "rests on" in n]
