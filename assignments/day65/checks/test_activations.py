"""Public checks of Day 65: activation functions and their derivatives.

Every function takes z (a float array of any shape, or a Python float) and
returns a float64 array of z's shape without changing z. Derivatives are
taken at the pre-activation input z, as in TensorFlow Playground.
"""

import numpy as np
import pytest
from day65_helpers import SHAPES, ref_sigmoid, ref_sigmoid_derivative
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import assert_close, describe, expect_array, fail
from grader.i18n import messages_near

msg = messages_near(__file__)  # assignments/day65/locale: titles, messages and hints



def z_arrays(bound, *, nonzero=False):
    """float64 arrays of any shape (0-d and empty included), elements in [-bound, bound]."""
    elements = st.floats(-bound, bound, allow_nan=False)
    if nonzero:
        elements = elements.filter(lambda x: x != 0)
    return hnp.arrays(np.float64, SHAPES, elements=elements)


# A fixed input every property check also tries: it catches the usual slips at once.
SAMPLE = np.array([-3.0, -1.0, -0.25, 0.5, 1.0, 3.0])


REFERENCE = {
    "sigmoid": ref_sigmoid,
    "sigmoid_derivative": ref_sigmoid_derivative,
    "tanh": np.tanh,
    "tanh_derivative": lambda z: 1 - np.tanh(z) ** 2,
    "relu": lambda z: np.maximum(z, 0.0),
    "relu_derivative": lambda z: (z > 0).astype(np.float64),
    "linear": lambda z: np.array(z, dtype=np.float64),
    "linear_derivative": lambda z: np.ones_like(z, dtype=np.float64),
}


def call(submission, name, z):
    return getattr(submission.activations, name)(z)


# -- values ------------------------------------------------------------------------------
@pytest.mark.points(2)
@pytest.mark.function("activations.sigmoid")
@given(z=z_arrays(50))
@example(z=SAMPLE)
def test_sigmoid_values(submission, z):
    """sigmoid(z) = 1 / (1 + exp(-z)), elementwise"""
    got = expect_array(submission.activations.sigmoid(z), shape=z.shape)
    assert_close(got, ref_sigmoid(z), inputs=z, hint=msg("activations.sigmoid_hint"))


@pytest.mark.points(3)
@pytest.mark.function("activations.sigmoid")
@pytest.mark.hint(msg("activations.sigmoid_stable_hint"))
def test_sigmoid_stable_for_large_inputs(submission):
    """sigmoid is stable for huge |z| (up to 1e300): 0 and 1 at the ends, no NaN, no warning"""
    z = np.array([-1e300, -1e10, -1000.0, -745.0, -710.0, -40.0, 0.0,
                  40.0, 710.0, 745.0, 1000.0, 1e10, 1e300])
    got, warned = submission.activations.sigmoid.returning_warnings(z)
    got = expect_array(got, shape=z.shape)
    bad = ~np.isfinite(got)
    if bad.any():
        i = int(np.argmax(bad))
        fail(msg("activations.sigmoid_returned", z=f"{z[i]:g}", got=got[i]),
             expected=describe(ref_sigmoid(z)[i]), actual=describe(got[i]))
    outside = (got < 0) | (got > 1)
    if outside.any():
        i = int(np.argmax(outside))
        fail(msg("activations.sigmoid_outside", z=f"{z[i]:g}"),
             expected=msg("activations.in_unit_interval"), actual=describe(got[i]))
    assert_close(got, ref_sigmoid(z), atol=1e-15, inputs=z)
    if warned:  # the contract: no overflow warning (a naive 1 / (1 + np.exp(-z)) gives one)
        fail(msg("activations.warned", name="sigmoid", warning=warned[0]),
             expected=msg("activations.no_warning"), actual=warned[0])
    for end, limit in ((-1e300, 0.0), (1e300, 1.0)):  # 0-d inputs too
        got = expect_array(submission.activations.sigmoid(np.array(end)), shape=())
        assert_close(got, np.array(limit), atol=1e-15,
                     what=msg("activations.value_of", call=f"sigmoid({end:g})"))


@pytest.mark.points(2)
@pytest.mark.function("activations.sigmoid_derivative")
@given(z=z_arrays(50))
@example(z=SAMPLE)
def test_sigmoid_derivative_values(submission, z):
    """sigmoid_derivative(z) = s * (1 - s) with s = sigmoid(z), taken at the input z"""
    got = expect_array(submission.activations.sigmoid_derivative(z), shape=z.shape)
    expected = ref_sigmoid_derivative(z)
    hint = msg("activations.sigmoid_derivative_hint")
    if z.size and np.allclose(got, z * (1 - z), atol=1e-12):
        hint = msg("activations.sigmoid_derivative_used_z")
    elif z.size and np.allclose(got, -expected, atol=1e-12):
        hint = msg("activations.sigmoid_derivative_sign")
    assert_close(got, expected, inputs=z, hint=hint)


@pytest.mark.points(1)
@pytest.mark.function("activations.tanh")
@given(z=z_arrays(50))
@example(z=SAMPLE)
def test_tanh_values(submission, z):
    """tanh(z), elementwise"""
    got = expect_array(submission.activations.tanh(z), shape=z.shape)
    assert_close(got, np.tanh(z), inputs=z, hint=msg("activations.tanh_hint"))


@pytest.mark.points(2)
@pytest.mark.function("activations.tanh_derivative")
@given(z=z_arrays(50))
@example(z=SAMPLE)
def test_tanh_derivative_values(submission, z):
    """tanh_derivative(z) = 1 - tanh(z)^2, taken at the input z"""
    got = expect_array(submission.activations.tanh_derivative(z), shape=z.shape)
    expected = 1 - np.tanh(z) ** 2
    hint = msg("activations.tanh_derivative_hint")
    if z.size and np.allclose(got, 1 - np.tanh(z), atol=1e-12):
        hint = msg("activations.tanh_derivative_not_squared")
    elif z.size and np.allclose(got, 1 - z ** 2, atol=1e-12):
        hint = msg("activations.tanh_derivative_used_z")
    assert_close(got, expected, inputs=z, hint=hint)


@pytest.mark.points(1)
@pytest.mark.function("activations.relu")
@given(z=z_arrays(50))
@example(z=SAMPLE)
def test_relu_values(submission, z):
    """relu(z) = max(0, z), elementwise"""
    got = expect_array(submission.activations.relu(z), shape=z.shape)
    assert_close(got, np.maximum(z, 0.0), inputs=z, hint=msg("activations.relu_hint"))


@pytest.mark.points(1)
@pytest.mark.function("activations.relu_derivative")
@given(z=z_arrays(50, nonzero=True))
@example(z=SAMPLE)
def test_relu_derivative_values(submission, z):
    """relu_derivative(z) is 1 where z > 0 and 0 where z < 0"""
    got = expect_array(submission.activations.relu_derivative(z), shape=z.shape)
    assert_close(got, (z > 0).astype(np.float64), inputs=z,
                 hint=msg("activations.relu_derivative_hint"))


@pytest.mark.points(2)
@pytest.mark.function("activations.relu_derivative")
def test_relu_derivative_at_zero(submission):
    """relu_derivative(0) is 0, as in Playground"""
    hint = msg("activations.relu_derivative_zero_hint")
    z = np.array([-1.0, 0.0, 1.0, -0.0])
    got = expect_array(submission.activations.relu_derivative(z), shape=z.shape)
    if got[1] != 0 or got[3] != 0:
        fail(msg("activations.relu_derivative_zero"), expected=msg("activations.at_zero",
                                                                   value="0.0"),
             actual=msg("activations.at_zero", value=repr(float(got[1]))), hint=hint)
    assert_close(got, np.array([0.0, 0.0, 1.0, 0.0]), inputs=z, hint=hint)
    got = expect_array(submission.activations.relu_derivative(np.array(0.0)), shape=())
    assert_close(got, np.array(0.0), hint=hint,
                 what=msg("activations.value_of_0d", name="relu_derivative", z="0.0"))


@pytest.mark.points(1)
@pytest.mark.function("activations.linear")
@given(z=z_arrays(1e6))
@example(z=SAMPLE)
def test_linear_values(submission, z):
    """linear(z) = z"""
    got = expect_array(submission.activations.linear(z), shape=z.shape)
    assert_close(got, z, atol=0, rtol=0, inputs=z, hint=msg("activations.linear_hint"))


@pytest.mark.points(1)
@pytest.mark.function("activations.linear_derivative")
@given(z=z_arrays(1e6))
@example(z=SAMPLE)
def test_linear_derivative_values(submission, z):
    """linear_derivative(z) is an array of ones of z's shape"""
    got = expect_array(submission.activations.linear_derivative(z), shape=z.shape,
                       hint=msg("activations.linear_derivative_shape_hint"))
    assert_close(got, np.ones(z.shape), inputs=z, hint=msg("activations.linear_derivative_hint"))


# -- inputs ------------------------------------------------------------------------------
def check_input_handling(submission, name):
    """float64 of z's shape for float32, 0-d, empty and Python-float z; z left unchanged."""
    ref = REFERENCE[name]
    z = np.array([[-2.0, -0.5, 0.25], [0.5, 1.5, 3.0]])
    got, (z_after,) = getattr(submission.activations, name).returning_args(z)
    if not (isinstance(z_after, np.ndarray) and z_after.dtype == z.dtype
            and np.array_equal(z_after, z)):
        fail(msg("activations.changed_input", name=name), expected=z, actual=z_after,
             hint=msg("activations.changed_input_hint"))
    assert_close(expect_array(got, shape=z.shape), ref(z), inputs=z)

    z32 = z.astype(np.float32)
    got = expect_array(call(submission, name, z32), shape=z.shape,
                       hint=msg("activations.float32_hint"))
    assert_close(got, ref(z32.astype(np.float64)), atol=1e-6, rtol=1e-6, inputs=z32)

    got = expect_array(call(submission, name, 0.5), shape=(),
                       hint=msg("activations.python_float_hint"))
    assert_close(got, ref(np.array(0.5)), what=msg("activations.value_of", call=f"{name}(0.5)"))

    for zero_d in (np.array(-1.5), np.array(2.0)):
        got = expect_array(call(submission, name, zero_d), shape=(),
                           hint=msg("activations.zero_d_hint"))
        assert_close(got, ref(zero_d),
                     what=msg("activations.value_of_0d", name=name, z=float(zero_d)))

    for empty in (np.zeros(0), np.zeros((2, 0))):
        expect_array(call(submission, name, empty), shape=empty.shape,
                     hint=msg("activations.empty_hint"))


def input_handling_check(name):
    """The input-handling check of one activation function (the eight are alike)."""

    @pytest.mark.points(1)
    @pytest.mark.function(f"activations.{name}")
    @pytest.mark.depends(f"{name}_values")
    @pytest.mark.title(msg("title.input_handling", name=name))
    def check(submission):
        check_input_handling(submission, name)

    check.__doc__ = (f"{name} takes float32, 0-d, empty and Python-float z, returns float64, "
                     "leaves z alone")
    return check


test_sigmoid_input_handling = input_handling_check("sigmoid")
test_sigmoid_derivative_input_handling = input_handling_check("sigmoid_derivative")
test_tanh_input_handling = input_handling_check("tanh")
test_tanh_derivative_input_handling = input_handling_check("tanh_derivative")
test_relu_input_handling = input_handling_check("relu")
test_relu_derivative_input_handling = input_handling_check("relu_derivative")
test_linear_input_handling = input_handling_check("linear")
test_linear_derivative_input_handling = input_handling_check("linear_derivative")
