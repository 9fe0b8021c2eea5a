"""Hidden checks of Day 65 (instructor only): activations far out, and every
derivative against the slope of its activation (central finite differences)."""

import numpy as np
import pytest
from day65_helpers import SHAPES, ref_sigmoid
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import assert_close, describe, expect_array, fail
from grader.i18n import messages_near

msg = messages_near(__file__)  # hidden/locale: never shipped, like these checks

LARGE = np.array([-1e300, -1e10, -1000.0, -710.0, -40.0, 40.0, 710.0, 1000.0, 1e10, 1e300])


@pytest.mark.points(2)
@pytest.mark.function("activations.sigmoid_derivative")
@pytest.mark.hint(msg("activations.sigmoid_derivative_stable_hint"))
def test_sigmoid_derivative_stable_for_large_inputs(submission):
    """sigmoid_derivative is finite and about 0 for huge |z| (up to 1e300)"""
    got = expect_array(submission.activations.sigmoid_derivative(LARGE), shape=LARGE.shape)
    bad = ~np.isfinite(got) | (got < 0) | (got > 0.25)
    if bad.any():
        i = int(np.argmax(bad))
        fail(msg("activations.sigmoid_derivative_returned", z=f"{LARGE[i]:g}", got=got[i]),
             expected=msg("activations.about_zero"), actual=describe(got[i]))
    s = ref_sigmoid(LARGE)
    assert_close(got, s * (1 - s), atol=1e-15, inputs=LARGE)


@pytest.mark.points(1)
@pytest.mark.function("activations.tanh")
@pytest.mark.hint(msg("activations.tanh_large_hint"))
def test_tanh_large_inputs(submission):
    """tanh is -1 and +1 for huge |z|, never NaN, no overflow warning"""
    got, warned = submission.activations.tanh.returning_warnings(LARGE)
    got = expect_array(got, shape=LARGE.shape)
    assert_close(got, np.tanh(LARGE), atol=1e-15, inputs=LARGE)
    if warned:
        fail(msg("activations.warned", name="tanh", warning=warned[0]),
             expected=msg("activations.no_warning"), actual=warned[0])


# -- derivatives against the slope of the activation -------------------------------------
H = 1e-6
ACTIVATION = {
    "sigmoid_derivative": ref_sigmoid,
    "tanh_derivative": np.tanh,
    "relu_derivative": lambda z: np.maximum(z, 0.0),
    "linear_derivative": lambda z: z,
}


def slope(f, z):
    """Central finite difference: error about 1e-10 here (rounding), far below 1e-6."""
    return (f(z + H) - f(z - H)) / (2 * H)


# relu has a kink at 0: stay clear of it by more than H.
Z = hnp.arrays(np.float64, SHAPES, elements=st.floats(-20, 20).filter(lambda x: abs(x) > 1e-4))
GRID = np.linspace(-4.1, 4.1, 12).reshape(2, 3, 2)


def check_slope(submission, name, z):
    got = expect_array(getattr(submission.activations, name)(z), shape=z.shape)
    activation = name.removesuffix("_derivative")
    assert_close(got, slope(ACTIVATION[name], z), atol=1e-6, rtol=1e-6, inputs=z,
                 what=msg("activations.slopes"),
                 hint=msg("activations.slope_hint", name=name, activation=activation))


@pytest.mark.points(1)
@pytest.mark.function("activations.sigmoid_derivative")
@given(z=Z)
@example(z=GRID)
def test_sigmoid_derivative_slope(submission, z):
    """sigmoid_derivative matches the slope of sigmoid (finite differences)"""
    check_slope(submission, "sigmoid_derivative", z)


@pytest.mark.points(1)
@pytest.mark.function("activations.tanh_derivative")
@given(z=Z)
@example(z=GRID)
def test_tanh_derivative_slope(submission, z):
    """tanh_derivative matches the slope of tanh (finite differences)"""
    check_slope(submission, "tanh_derivative", z)


@pytest.mark.points(1)
@pytest.mark.function("activations.relu_derivative")
@given(z=Z)
@example(z=GRID)
def test_relu_derivative_slope(submission, z):
    """relu_derivative matches the slope of relu away from 0 (finite differences)"""
    check_slope(submission, "relu_derivative", z)


@pytest.mark.points(1)
@pytest.mark.function("activations.linear_derivative")
@given(z=Z)
@example(z=GRID)
def test_linear_derivative_slope(submission, z):
    """linear_derivative matches the slope of linear (finite differences)"""
    check_slope(submission, "linear_derivative", z)
