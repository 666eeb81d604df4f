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
