"""Public checks of the demo assignment."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import assert_close, expect_array, fail

finite = st.floats(-1e6, 1e6, allow_nan=False)
arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
                    elements=finite)


@pytest.mark.points(3)
@pytest.mark.function("mathy.square")
@given(x=arrays)
def test_square_values(submission, x):
    """square(x) is x * x, elementwise, as a float64 array of x's shape"""
    got = expect_array(submission.mathy.square(x), shape=x.shape)
    assert_close(got, x * x, inputs=x, hint="Multiply the array by itself: x * x.")


@pytest.mark.points(2)
@pytest.mark.function("mathy.square")
@pytest.mark.depends("square_values")
def test_square_leaves_input_alone(submission):
    """square does not change its input"""
    x = np.array([1.0, -2.0, 3.0])
    # The worker gets a copy of x: ask it for the arguments as they were after the call.
    got, (x_after,) = submission.mathy.square.returning_args(x)
    if not np.array_equal(x_after, x):
        fail("changed its input", expected=x, actual=x_after,
             hint="Do not use in-place operations such as x *= x.")
    expect_array(got, shape=(3,))


@pytest.mark.points(2)
@pytest.mark.function("mathy.safe_div")
@pytest.mark.hint("Use np.where(b != 0, ...), and keep a division by zero from warning.")
def test_safe_div(submission):
    """safe_div(a, b) is a / b, and 0 where b is 0"""
    a = np.array([1.0, 2.0, -3.0, 4.0])
    b = np.array([2.0, 0.0, 4.0, 0.0])
    got = expect_array(submission.mathy.safe_div(a, b), shape=(4,))
    assert_close(got, np.array([0.5, 0.0, -0.75, 0.0]), inputs=b)
