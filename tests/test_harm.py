import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitefinder.model.harm import HarmCurve

CURVE = HarmCurve(
    free_minutes=15, limit_minutes=45, exponent=2, over_limit_step=1, over_limit_per_minute=0.1
)


def test_no_harm_up_to_free_minutes():
    assert CURVE([0, 10, 15]).tolist() == [0, 0, 0]


def test_one_point_at_the_limit_and_power_in_between():
    # (30-15)/(45-15) = 0.5, squared = 0.25
    assert CURVE([30, 45]).tolist() == pytest.approx([0.25, 1.0])


def test_step_and_slope_past_the_limit():
    # at 55: ((55-15)/30)^2 = 16/9, + step 1, + 0.1 * 10
    assert CURVE(55.0) == pytest.approx(16 / 9 + 1 + 1.0)
    assert CURVE(45.0001) - CURVE(45.0) > 1.0  # the step is a jump, not a ramp


def test_vectorised_shape_is_preserved():
    minutes = np.array([[10.0, 50.0], [20.0, 90.0]])
    assert CURVE(minutes).shape == (2, 2)


@given(
    st.floats(0, 60),
    st.floats(1, 90),
    st.floats(0.1, 4),
    st.floats(0, 5),
    st.floats(0, 1),
    st.lists(st.floats(0, 300), min_size=2, max_size=30),
)
def test_non_decreasing_in_minutes(free, span, exponent, step, slope, minutes):
    curve = HarmCurve(free, free + span, exponent, step, slope)
    ordered = np.sort(np.array(minutes))
    values = curve(ordered)
    assert np.all(np.diff(values) >= -1e-12)
    assert np.all(values >= 0)
