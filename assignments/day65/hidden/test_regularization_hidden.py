"""Hidden checks of Day 65 (instructor only): regularization on edge inputs and
the update rule on many generated cases."""

import numpy as np
import pytest
from day65_helpers import SHAPES, playground_steps
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import assert_close, expect_array, fail
from grader.i18n import messages_near

msg = messages_near(__file__)  # hidden/locale: never shipped, like these checks

PENALTY = {
    "l1_penalty": lambda w: float(np.sum(np.abs(w))),
    "l2_penalty": lambda w: 0.5 * float(np.sum(w * w)),
}
DERIVATIVE = {"l1_derivative": np.sign, "l2_derivative": lambda w: w}


def check_penalty_edge_inputs(submission, name):
    cases = [np.zeros(0), np.zeros((3, 0)), np.array(-2.0),
             np.arange(-12.0, 12.0).reshape(2, 3, 4) / 4, np.array([1.5, -2.5], np.float32)]
    for w in cases:
        got, (w_after,) = getattr(submission.regularization, name).returning_args(w)
        if not (isinstance(w_after, np.ndarray) and np.array_equal(w_after, w)):
            fail(msg("regularization.changed_weights", name=name), expected=w, actual=w_after,
                 hint=msg("regularization.new_arrays_hint"))
        got = expect_array(got, shape=(), hint=msg("regularization.penalty_float_hint",
                                                    name=name))
        expected = PENALTY[name](w.astype(np.float64))
        tolerance = 1e-6 if w.dtype == np.float32 else 1e-9  # float32 sums may stay float32
        if not np.isclose(got, expected, rtol=tolerance, atol=1e-12):
            fail(msg("regularization.returned", call=f"{name}({w!r})", got=repr(float(got))),
                 expected=repr(expected), actual=repr(float(got)),
                 hint=msg("regularization.empty_weights_hint"))


@pytest.mark.points(1)
@pytest.mark.function("regularization.l1_penalty")
def test_l1_penalty_edge_inputs(submission):
    """l1_penalty is a float for empty, 0-d, 3-d and float32 weights, which stay unchanged"""
    check_penalty_edge_inputs(submission, "l1_penalty")


@pytest.mark.points(1)
@pytest.mark.function("regularization.l2_penalty")
def test_l2_penalty_edge_inputs(submission):
    """l2_penalty is a float for empty, 0-d, 3-d and float32 weights, which stay unchanged"""
    check_penalty_edge_inputs(submission, "l2_penalty")


def check_derivative_edge_inputs(submission, name):
    cases = [np.zeros(0), np.zeros((3, 0)), np.array(-2.0), np.array(0.0),
             np.arange(-12.0, 12.0).reshape(2, 3, 4) / 4, np.array([1.5, -2.5], np.float32)]
    for w in cases:
        got, (w_after,) = getattr(submission.regularization, name).returning_args(w)
        if not (isinstance(w_after, np.ndarray) and np.array_equal(w_after, w)):
            fail(msg("regularization.changed_weights", name=name), expected=w, actual=w_after,
                 hint=msg("regularization.new_arrays_hint"))
        if isinstance(got, np.ndarray) and got.dtype.kind in "iu":
            got = got.astype(np.float64)
        got = expect_array(got, shape=w.shape, hint=msg("regularization.derivative_shape_hint",
                                                        name=name))
        assert_close(got, DERIVATIVE[name](w.astype(np.float64)), inputs=w,
                     what=msg("regularization.values_of", name=name))


@pytest.mark.points(1)
@pytest.mark.function("regularization.l1_derivative")
def test_l1_derivative_edge_inputs(submission):
    """l1_derivative keeps the shape of empty, 0-d and 3-d weights; float32 in, float64 out"""
    check_derivative_edge_inputs(submission, "l1_derivative")


@pytest.mark.points(1)
@pytest.mark.function("regularization.l2_derivative")
def test_l2_derivative_edge_inputs(submission):
    """l2_derivative keeps the shape of empty, 0-d and 3-d weights; float32 in, float64 out"""
    check_derivative_edge_inputs(submission, "l2_derivative")


@pytest.mark.points(1)
@pytest.mark.function("regularization.regularized_update")
def test_regularized_update_any_shape(submission):
    """regularized_update works on 0-d, empty and 3-d weights and an integer learning rate"""
    w3 = np.linspace(-1.0, 1.0, 24).reshape(2, 3, 4)
    g3 = np.cos(np.arange(24.0)).reshape(2, 3, 4)
    cases = [(w3, g3, 0.3, 0.01), (np.array(0.4), np.array(-0.2), 0.1, 0.03),
             (np.zeros(0), np.zeros(0), 0.1, 0.1), (np.zeros((2, 0)), np.zeros((2, 0)), 1, 0.0),
             (w3, g3, 1, 0.001)]
    for w, g, lr, rate in cases:
        for kind in ("L1", "L2", None):
            got = submission.regularization.regularized_update(w, g, lr, rate, kind)
            got = expect_array(got, shape=w.shape, hint=msg("regularization.any_shape_hint"))
            assert_close(got, playground_steps(w, g, lr, rate, kind)[1], inputs=w,
                         what=msg("regularization.weights_after_update", kind=repr(kind),
                                  lr=repr(lr), rate=repr(rate)))


RATES = st.sampled_from([0.00001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10])
REG_RATES = st.sampled_from([0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10])


@st.composite
def updates(draw):
    shape = draw(SHAPES)
    elements = st.floats(-3, 3, allow_nan=False, allow_subnormal=False)
    w = draw(hnp.arrays(np.float64, shape, elements=elements))
    g = draw(hnp.arrays(np.float64, shape, elements=elements))
    return w, g, draw(RATES), draw(REG_RATES), draw(st.sampled_from(["L1", "L2", None]))


@pytest.mark.points(3)
@pytest.mark.function("regularization.regularized_update")
@given(case=updates())
def test_regularized_update_random_cases(submission, case):
    """regularized_update follows Playground's rule on generated weights, rates and kinds"""
    w, g, lr, rate, kind = case
    got = expect_array(submission.regularization.regularized_update(w, g, lr, rate, kind),
                       shape=w.shape)
    stepped, expected = playground_steps(w, g, lr, rate, kind)
    # A weight that the gradient step brings to (about) 0 has no sign to flip: implementations
    # that differ only in rounding may then keep w_new or set 0; both are right.
    unclear = np.abs(stepped) <= 1e-9 * (np.abs(w) + np.abs(lr * g) + 1e-300)
    if kind == "L1" and unclear.any():
        expected = np.where(unclear & (got == 0), 0.0, expected)
    assert_close(got, expected, atol=1e-10, rtol=1e-9, inputs=w,
                 what=msg("regularization.weights_with", lr=lr, rate=rate, kind=repr(kind)),
                 hint=msg("regularization.playground_order_hint"))
