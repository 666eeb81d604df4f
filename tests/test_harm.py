import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitefinder.model.harm import DEFAULT_PER_MINUTE, HarmCurve

# The curve alone (no travel term), then the same curve with 0.01 harm points per minute.
CURVE = HarmCurve(
    free_minutes=15,
    limit_minutes=45,
    exponent=2,
    over_limit_step=1,
    over_limit_per_minute=0.1,
    per_minute=0.0,
)
TRAVEL = HarmCurve(
    free_minutes=15,
    limit_minutes=45,
    exponent=2,
    over_limit_step=1,
    over_limit_per_minute=0.1,
    per_minute=0.01,
)


def test_the_curve_alone_scores_nothing_up_to_free_minutes():
    assert CURVE([0, 10, 15]).tolist() == [0, 0, 0]


def test_one_point_at_the_limit_and_power_in_between():
    # (30-15)/(45-15) = 0.5, squared = 0.25
    assert CURVE([30, 45]).tolist() == pytest.approx([0.25, 1.0])


def test_step_and_slope_past_the_limit():
    # at 55: ((55-15)/30)^2 = 16/9, + step 1, + 0.1 * 10
    assert CURVE(55.0) == pytest.approx(16 / 9 + 1 + 1.0)
    assert CURVE(45.0001) - CURVE(45.0) > 1.0  # the step is a jump, not a ramp


def test_every_minute_counts_hand_checked():
    # the travel term adds 0.01 per minute from the first minute
    assert TRAVEL([0, 5, 10, 15]).tolist() == pytest.approx([0.0, 0.05, 0.10, 0.15])
    # 30 minutes: curve 0.25 + 0.30; 45: 1 + 0.45; 55: 16/9 + 1 + 1.0 + 0.55
    assert TRAVEL([30, 45, 55]).tolist() == pytest.approx([0.55, 1.45, 16 / 9 + 1 + 1.0 + 0.55])


def test_a_shorter_journey_under_the_free_minutes_does_less_harm():
    # the point of the travel term: 5 minutes beats 12 though the curve scores both 0
    assert TRAVEL(5.0) < TRAVEL(12.0)
    assert CURVE(5.0) == CURVE(12.0)


def test_the_scenario_default_is_the_curve_default():
    from sitefinder.config import Harm

    assert Harm().per_minute == DEFAULT_PER_MINUTE > 0
    curve = Harm().curve("primary")
    assert curve.per_minute == DEFAULT_PER_MINUTE
    assert curve(45.0) == pytest.approx(1.0 + 45 * DEFAULT_PER_MINUTE)


def test_vectorised_shape_is_preserved():
    minutes = np.array([[10.0, 50.0], [20.0, 90.0]])
    assert CURVE(minutes).shape == (2, 2)


def curves(per_minute: st.SearchStrategy[float]) -> st.SearchStrategy[HarmCurve]:
    """Harm curves over the ranges a scenario allows (minutes, harm points)."""
    return st.builds(
        lambda free, span, exponent, step, slope, per: HarmCurve(
            free, free + span, exponent, step, slope, per
        ),
        st.floats(0, 60),
        st.floats(1, 90),
        st.floats(0.1, 4),
        st.floats(0, 5),
        st.floats(0, 1),
        per_minute,
    )


@given(curves(st.just(0.0)), st.lists(st.floats(0, 300), min_size=2, max_size=30))
def test_non_decreasing_in_minutes(curve, minutes):
    ordered = np.sort(np.array(minutes))
    values = curve(ordered)
    assert np.all(np.diff(values) >= -1e-12)
    assert np.all(values >= 0)


@given(
    curves(st.floats(0.001, 0.1)),
    st.lists(st.integers(0, 3000), min_size=2, max_size=30, unique=True),
)
def test_strictly_increasing_with_a_travel_term(curve, tenths):
    per = curve.per_minute
    ordered = np.sort(np.array(tenths, dtype=float)) / 10  # journeys at least 0.1 min apart
    assert np.all(np.diff(curve(ordered)) >= per * 0.1 * (1 - 1e-9))
