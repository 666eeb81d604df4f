"""``selection.objective = "cost"``: the plan with the least net annual cost, worked by hand.

Two need groups on one east-west line (kilometres; with circuity 1 at 60 km/h a journey's
minutes are its kilometres):

    Y (2 ASD)        P        Z (8 SEMH)  Q              E (SEMH base, 8 places)
    400             444       500        505             550

Y's two ASD children have no base: out of authority, 60 minutes. Z's eight SEMH children ride
50 minutes to E, past the 45-minute primary limit. One new base of 10 places: an ASD base at
P places Y's two (44 minutes); an SEMH base at Q brings Z's eight to 5 minutes.

On harm Q wins: eight journeys past the limit weigh more than two children out of authority.
On cost P wins: an out-of-authority place costs £64,000 a year, against £135 a journey minute.
"""

from __future__ import annotations

import pytest
from plan_checks import SmallAuthority

from sitefinder import load_scenario, rank
from sitefinder.config import with_settings
from sitefinder.errors import ScenarioError

P, Q, E = "990021", "990022", "990023"
KM = 1000
SCENARIO = """\
name = "Cost by hand"
bases = 1
base_size = 10
phases = ["primary"]

[selection]
min_occupancy = 0
objective = "{objective}"

[journey]
method = "crowfly"
circuity = 1.0
speed_kmh = 60
ride_factor = 1.0
overhead_minutes = 0

[harm]
free_minutes = 15
exponent = 1.0
over_limit_step = 1.0
over_limit_per_minute = 0.1
per_minute = 0.01

[fallback]
method = "out_of_authority"
out_of_authority_minutes = 60
mismatch = 1.0

[costs]
revenue_per_place = 6000   # place funding alone, so that a base can pay its way here
"""


def harm(minutes: float) -> float:
    """The harm curve by hand (as in test_hand_computed)."""
    curve = max(minutes - 15, 0) / (45 - 15)
    past = (1 + 0.1 * (minutes - 45)) if minutes > 45 else 0.0
    return curve + past + 0.01 * minutes


def transport(minutes: float) -> float:
    """A child's transport a year (£): the default £4,058 + £135 a one-way minute."""
    return 4058 + 135 * minutes


ANNUITY = (1 - 1.035**-10) / 0.035  # 3.5% over 10 years
BASE_A_YEAR = 10 * 19_559 / ANNUITY + 10 * 6000  # capital annuitised + revenue (£ a year)
OUT = 64_000 + transport(60)  # a child out of authority a year (£)
TODAY = 2 * OUT + 8 * transport(50)
WITH_P = 2 * transport(44) + 8 * transport(50) + BASE_A_YEAR
WITH_Q = 2 * OUT + 8 * transport(5) + BASE_A_YEAR
HARM_P = 2 * harm(44) + 8 * harm(50)
HARM_Q = 2 * (harm(60) + 1.0) + 8 * harm(5)


def test_the_hand_sums_disagree_for_a_stated_reason():
    assert HARM_Q < HARM_P  # harm: the eight journeys past the limit
    assert WITH_P < TODAY < WITH_Q  # cost: P pays its way, Q costs more than it saves
    assert round(BASE_A_YEAR) == 83_518
    assert round(WITH_P) == 189_978 and round(WITH_Q) == 273_698


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The authority written with a scenario for each objective (``harm/``, ``cost/``)."""
    on_line = 300_000
    authority = SmallAuthority(
        schools=[
            (P, "Pine Primary", "primary", 444 * KM, on_line),
            (Q, "Quince Primary", "primary", 505 * KM, on_line),
            (E, "Elm Primary", "primary", 550 * KM, on_line),
        ],
        bases=[(E, "primary", 8, "SEMH")],
        areas=[("E90000001", "Y", 400 * KM, on_line), ("E90000002", "Z", 500 * KM, on_line)],
        demand=[("E90000001", "primary", "ASD", 2), ("E90000002", "primary", "SEMH", 8)],
    )
    where = tmp_path_factory.mktemp("cost")
    for objective in ("harm", "cost"):
        authority.write(where / objective, extra=SCENARIO.format(objective=objective))
    return where


@pytest.fixture(scope="module")
def runs(folder):
    return {
        objective: rank(load_scenario(folder / objective / "scenario.toml"))
        for objective in ("harm", "cost")
    }


def test_harm_chooses_q_and_cost_chooses_p(runs):
    assert list(runs["harm"].plan.chosen["urn"]) == [Q]
    assert list(runs["cost"].plan.chosen["urn"]) == [P]
    assert runs["harm"].after.total_harm == pytest.approx(HARM_Q, abs=1e-6)
    # The cost plan's harm is still reported, and is the hand harm of P's network.
    assert runs["cost"].after.total_harm == pytest.approx(HARM_P, abs=1e-6)


def test_the_business_case_of_the_cost_plan_is_its_objective(runs):
    total = runs["cost"].costs.total
    # Net cost a year (annuitised capital - net saving) = the model's cost with P - today's.
    assert total["net_cost_per_year"] == pytest.approx(WITH_P - TODAY, abs=1)
    assert runs["harm"].costs.total["net_cost_per_year"] == pytest.approx(WITH_Q - TODAY, abs=1)


def test_the_notes_set_the_two_plans_side_by_side(runs):
    note = runs["cost"].plan.notes[0]
    assert note.startswith('Objective (selection.objective = "cost")')
    assert f"£{WITH_P:,.0f} a year with Pine Primary" in note
    assert f"harm {HARM_P:.2f} harm points" in note
    other = "The harm objective would choose Quince Primary (primary, 10 places): harm"
    other += f" {HARM_Q:.2f}"
    assert other in note
    assert f"at £{WITH_Q:,.0f} a year (-£{WITH_Q - WITH_P:,.0f} a year with this plan)" in note
    assert not any("selection.objective" in n for n in runs["harm"].plan.notes)


def test_a_base_that_does_not_pay_its_way_stays_out(tmp_path, folder):
    # Dearer places: P's saving (2 x (64,000 + 16 minutes x 135) = £132,320) is now under the
    # base's yearly cost, so the cost objective opens nothing and says why.
    text = (
        (folder / "cost" / "scenario.toml")
        .read_text(encoding="utf-8")
        .replace("revenue_per_place = 6000", "revenue_per_place = 12000")
    )
    path = tmp_path / "dear.toml"
    path.write_text(text, encoding="utf-8")
    result = rank(load_scenario(path))
    assert result.plan.chosen.empty
    assert any("would save £132,320 a year" in n for n in result.plan.notes)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"selection.objective": "cost", "selection.sizes": [6, 10]},
            'selection.objective: "cost" takes one base size, selection.sizes has 2 (6, 10)',
        ),
        ({"selection.objective": "money"}, "selection.objective: must be one of 'harm' or 'cost'"),
    ],
)
def test_a_bad_objective_is_named_by_key(demo_config, settings, message):
    with pytest.raises(ScenarioError) as caught:
        with_settings(load_scenario(demo_config), settings)
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def test_a_capital_budget_on_the_cost_objective_says_what_it_left_out_in_pounds(tmp_path, folder):
    # Cheaper places (£2,000 a year): Q now pays its way too (8 x 45 minutes x £135 = £48,600
    # a year against 10 x 19,559 / annuity + £20,000 = £43,518), so two bases are worth
    # opening; a budget of one base's capital keeps P (it saves more) and leaves Q out.
    text = (folder / "cost" / "scenario.toml").read_text(encoding="utf-8")
    text = text.replace("revenue_per_place = 6000", "revenue_per_place = 2000")
    text = text.replace("bases = 1", "bases = 2").replace(
        "[selection]", "[selection]\ncapital_budget = 195590"
    )
    path = tmp_path / "budget.toml"
    path.write_text(text, encoding="utf-8")
    result = rank(load_scenario(path))
    assert list(result.plan.chosen["urn"]) == [P]
    note = next(n for n in result.plan.notes if n.startswith("Capital budget"))
    q_saves = 8 * 135 * 45 - (10 * 19_559 / ANNUITY + 10 * 2000)
    assert f"cost £{q_saves:,.0f} a year less to run" in note
    assert "leaves out Quince Primary" in note


def test_the_programme_on_the_cost_objective_says_so_and_keeps_its_rules(demo_config):
    scenario = with_settings(
        load_scenario(demo_config),
        {
            "selection.objective": "cost",
            "programme.years": [2026, 2027],
            "programme.growth": 0.1,
            "programme.bases": 2,
        },
    )
    result = rank(scenario)
    assert result.projection is not None
    notes = result.projection.notes
    assert any('On selection.objective = "cost"' in n for n in notes)
    programme = result.programme
    assert (programme["children_expected"] >= 0.8 * programme["places"] - 1e-6).all()
    years = result.programme_years
    # harm is still what the years report and bound (the bound never above the harm)
    assert (years["harm_bound"] <= years["harm_with"] + 1e-9).all()
    assert (years["harm_with"] <= years["harm_without"] + 1e-9).all()
