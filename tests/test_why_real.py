"""``sitefinder why`` on Trafford's real public files: Loreto Grammar School (single-sex and
selective), Sale High School (one spare place) and the plan's first choice.

Skipped unless ``SITEFINDER_REAL_DATA`` names the shared data folder. Trafford is ranked once
for the module (about 20 s).
"""

from __future__ import annotations

import pytest
from why_checks import check_claims, check_explanation, leaks, left_out_standalone_errors

from sitefinder.why import explain_school, why_document

LORETO, SALE_HIGH = "138464", "106375"


@pytest.fixture(scope="module")
def trafford(trafford_result):
    return trafford_result


def test_loreto_is_out_for_single_sex_and_selective(trafford):
    explanation = explain_school(trafford, LORETO)
    document = why_document(trafford, explanation)
    failed = {c.rule: c.key for c in explanation.rules if c.outcome == "fail"}
    assert failed == {
        "single_sex": "candidates.exclude_single_sex",
        "selective": "candidates.exclude_selective",
    }
    assert document["summary"].startswith(
        "Loreto Grammar School (138464) is not a candidate host: single-sex school (girls)"
    )
    lines = document["to_enter_the_plan"]
    assert lines[0].startswith("It fails the single-sex rule: it is a girls' school")
    assert lines[1].startswith("It fails the selective admissions rule")
    assert lines[2].startswith(
        "Were the single-sex and selective admissions rules relaxed, its secondary"
    )
    assert not explanation.options["candidate"].any()
    assert check_explanation(trafford, explanation) == []
    assert check_claims(trafford, document) == []
    assert leaks(trafford, explanation, document) == []


def test_sale_high_is_out_for_space_and_says_how_many_places(trafford):
    explanation = explain_school(trafford, SALE_HIGH)
    document = why_document(trafford, explanation)
    assert explanation.facts["spare_places"] == 1
    assert [c.rule for c in explanation.rules if c.outcome == "fail"] == ["spare_places"]
    assert document["to_enter_the_plan"][0] == (
        "It fails the spare places rule: it needs 10 spare places and has 1 (capacity 1,050,"
        " pupils 1,049; candidates.min_spare_places)."
    )
    assert check_explanation(trafford, explanation) == []
    assert check_claims(trafford, document) == []


def test_the_first_choice_is_in_the_plan(trafford):
    first = trafford.plan.chosen.iloc[0]
    explanation = explain_school(trafford, str(first["urn"]))
    document = why_document(trafford, explanation)
    assert document["in_plan"] and document["planned"]["choice"] == 1
    assert document["summary"].startswith(f"{first['name']} ({first['urn']}) is in the plan")
    assert check_explanation(trafford, explanation) == []
    assert leaks(trafford, explanation, document) == []


def test_trafford_left_out_figures_are_exact(trafford):
    # Trafford's bases serve every need: a class-by-class trial gave their places to each
    # class in full and valued Loreto's base at 0.09 harm points instead of 9.63.
    assert left_out_standalone_errors(trafford) == []
    left = trafford.plan.left_out
    assert (left["reason"].str.startswith("no spare space")).any()
