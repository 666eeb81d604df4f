import numpy as np
import pytest

from sitefinder import load_scenario, rank, with_settings


@pytest.fixture(scope="module")
def demo(request):
    from sitefinder.resources import default_scenario_path

    return rank(with_settings(load_scenario(default_scenario_path()), {"top": 6}))


def test_greedy_marginals_add_up_and_the_plan_is_no_worse(demo):
    first = demo.ranking.head(demo.scenario.bases)
    assert demo.plan.greedy_objective == pytest.approx(
        demo.before.total_harm - first["harm_averted"].sum(), rel=1e-9
    )
    assert demo.after.total_harm == pytest.approx(demo.plan.objective, rel=1e-12)
    assert demo.plan.objective <= demo.plan.greedy_objective + 1e-9
    assert demo.plan.method == "optimal" and demo.plan.proven and demo.plan.gap == 0.0
    chosen = demo.plan.chosen
    assert len(chosen) == demo.scenario.bases
    assert list(chosen["choice"]) == [1, 2, 3]
    assert (np.diff(chosen["harm_averted"]) <= 1e-9).all()  # most harm averted first
    assert demo.after.unmet <= demo.before.unmet
    marked = demo.ranking[demo.ranking["in_plan"]]
    assert set(marked["urn"]) <= set(chosen["urn"])


def test_first_pick_is_the_best_standalone_option(demo):
    standalone = demo.schools.filter(like="standalone_").to_numpy(dtype=float)
    assert demo.ranking["harm_averted"].iloc[0] == pytest.approx(np.nanmax(standalone))
    assert demo.ranking["harm_averted_standalone"].iloc[0] == demo.ranking["harm_averted"].iloc[0]


def test_marginals_never_increase_down_the_order_of_a_component(demo):
    # The greedy picks the best option each time, so marginal values are non-increasing.
    averted = demo.ranking["harm_averted"].to_numpy()
    assert np.all(np.diff(averted) <= 1e-9)


def test_only_eligible_mainstream_schools_are_ranked(demo):
    ranked = demo.schools[demo.schools["rank"].notna()]
    assert set(ranked["establishment_group"]) == {"mainstream"}
    assert ranked["eligible"].all()
    excluded = demo.schools[demo.schools["establishment_group"] != "mainstream"]
    assert excluded["notes"].str.fullmatch("(special|independent) school: never a host").all()
    assert excluded.filter(like="standalone_").isna().all().all()


def test_area_table_adds_up(demo):
    assert demo.areas["children"].sum() == pytest.approx(demo.before.children)
    assert demo.areas["harm_before"].sum() == pytest.approx(demo.before.total_harm)
    assert demo.areas["harm_after"].sum() == pytest.approx(demo.after.total_harm)
    assert demo.assignments["children"].sum() == pytest.approx(demo.after.placed)


def test_excluded_urns_and_no_existing_bases(scenario_file, tmp_path):
    bases = tmp_path / "bases.csv"
    bases.write_text("urn,base_type,phase,capacity,need_codes\n")
    scenario = load_scenario(
        scenario_file("bases = 2\ntop = 2\n[candidates]\nexclude_urns = [990001]\n",
                      inputs={"bases": str(bases)})
    )  # fmt: skip
    result = rank(scenario)
    assert result.before.placed == 0
    assert result.before.unmet == pytest.approx(result.before.children)
    assert "990001" not in result.ranking["urn"].tolist()
    notes = result.schools.set_index("urn").loc["990001", "notes"]
    assert notes.startswith("excluded by the scenario")
    assert len(result.sites) == 2


def test_harm_averted_comes_in_two_parts_everywhere(demo):
    # placing = children newly placed x the mismatch penalty (1 harm point by default);
    # journeys = the rest of the change in total harm
    mismatch = demo.scenario.fallback.mismatch
    for table in (demo.ranking, demo.plan.chosen):
        assert np.allclose(
            table["harm_averted"], table["harm_averted_placing"] + table["harm_averted_journeys"]
        )
        assert np.allclose(table["harm_averted_placing"], table["newly_placed"] * mismatch)
    # the before/after metrics: total = journey + mismatch, and the areas add up to them
    for metrics in (demo.before, demo.after):
        assert metrics.total_harm == pytest.approx(metrics.journey_harm + metrics.mismatch_harm)
        assert metrics.mismatch_harm == pytest.approx(metrics.unmet * mismatch)
    areas = demo.areas
    assert areas["journey_harm_before"].sum() == pytest.approx(demo.before.journey_harm)
    assert areas["journey_harm_after"].sum() == pytest.approx(demo.after.journey_harm)
    assert areas["harm_averted_placing"].sum() == pytest.approx(
        demo.before.mismatch_harm - demo.after.mismatch_harm
    )
    assert areas["newly_placed"].sum() == pytest.approx(demo.before.unmet - demo.after.unmet)
    assert np.allclose(
        areas["harm_averted"], areas["harm_averted_placing"] + areas["harm_averted_journeys"]
    )
    # where each area's unplaced children go adds up to its children without a place
    unplaced = areas.filter(like="unplaced_").sum(axis=1)
    assert np.allclose(unplaced, areas["unmet_after"].fillna(0.0))
    some = areas["unmet_after"].fillna(0.0) > 1e-9
    assert (areas.loc[some, "fallback_minutes"] > 5).all()  # at least the overhead
    assert areas.loc[~some, "fallback_minutes"].isna().all()
    # the candidates carry their ranked pick's parts
    ranked = demo.schools.dropna(subset=["rank"]).set_index("urn")
    first = demo.ranking.drop_duplicates("urn").set_index("urn")
    assert np.allclose(
        ranked["harm_averted_journeys"], first.loc[ranked.index, "harm_averted_journeys"]
    )


def test_ties_in_children_placed_are_decided_by_journeys(demo):
    # Among options placing the same children, the greedy's choice is the one whose journeys
    # avert most: the placing parts tie, the journey parts decide.
    first = demo.ranking.iloc[0]
    same = demo.ranking[
        np.isclose(demo.ranking["harm_averted_placing"], first["harm_averted_placing"])
    ]
    assert len(same) >= 2
    assert first["harm_averted_journeys"] >= same["harm_averted_journeys"].max() - 1e-9


def test_no_child_rides_past_a_nearer_base_with_room(demo_config):
    from sitefinder.instance import build_instance, existing_sites
    from sitefinder.load import load_inputs
    from sitefinder.model.network import children_passing_nearer, solve_network

    scenario = load_scenario(demo_config)
    data = load_inputs(scenario)
    instance = build_instance(scenario, data)
    sites, _ = existing_sites(instance, scenario, data)
    assert children_passing_nearer(sites, solve_network(instance.rows, sites)) == 0


def test_a_flat_fallback_puts_all_unmet_harm_in_the_placing_part(scenario_file):
    scenario = load_scenario(scenario_file("bases = 1\ntop = 1\n[fallback]\nmethod = 'flat'\n"))
    result = rank(scenario)
    assert result.before.journey_harm == pytest.approx(
        result.before.total_harm - 25.0 * result.before.unmet
    )
    chosen = result.plan.chosen
    assert np.allclose(chosen["harm_averted_placing"], 25.0 * chosen["newly_placed"])
    assert "fallback_minutes" not in result.areas.columns
