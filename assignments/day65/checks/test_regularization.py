"""Public checks of Day 65: L1 / L2 penalties, their derivatives, and the update rule.

Playground's update (regularized_update): the regularization derivative d is
taken at the weights as given; then the gradient step w = weights - lr * grad;
then the regularization step w_new = w - lr * rate * d; with L1, a weight that
the regularization step moves across zero (w * w_new < 0) becomes exactly 0.
"""

import numpy as np
import pytest
from day65_helpers import SHAPES, playground_steps
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import assert_close, describe, expect_array, fail
from grader.i18n import messages_near

msg = messages_near(__file__)  # assignments/day65/locale: titles, messages and hints



def weight_arrays(*, nonzero=False):
    elements = st.floats(-1000, 1000, allow_nan=False)
    if nonzero:
        elements = elements.filter(lambda x: x != 0)
    return hnp.arrays(np.float64, SHAPES, elements=elements)


SAMPLE = np.array([-1.5, 0.25, 2.0, -0.75, 3.0])


def expect_float(value, what):
    """A penalty: a Python float or a 0-d float64 array (what np.sum gives)."""
    return float(expect_array(value, shape=(),
                              hint=msg("regularization.penalty_one_number", name=what)))


def check_penalty(got, expected, call, hint):
    if not np.isclose(got, expected, rtol=1e-9, atol=1e-9):
        fail(msg("regularization.returned", call=call, got=repr(got)), expected=repr(expected),
             actual=repr(got), hint=hint)


def expect_derivative(value, shape, what):
    """An elementwise derivative: float64 (or whole numbers, exactly), of the weights' shape."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        value = value.astype(np.float64)
    return expect_array(value, shape=shape,
                        hint=msg("regularization.derivative_elementwise", name=what))


# -- penalties --------------------------------------------------------------------------
@pytest.mark.points(1)
@pytest.mark.function("regularization.l1_penalty")
@given(w=weight_arrays())
@example(w=SAMPLE)
def test_l1_penalty_values(submission, w):
    """l1_penalty(w) = sum of |w|, one float"""
    got = expect_float(submission.regularization.l1_penalty(w), "l1_penalty")
    expected = float(np.sum(np.abs(w)))
    hint = msg("regularization.l1_penalty_hint")
    if w.size and abs(got - float(np.sum(w))) <= 1e-9 * max(1.0, abs(got)):
        hint = msg("regularization.l1_penalty_no_abs")
    check_penalty(got, expected, msg("regularization.penalty_call", name="l1_penalty",
                                     shape=w.shape), hint)


@pytest.mark.points(1)
@pytest.mark.function("regularization.l2_penalty")
@given(w=weight_arrays())
@example(w=SAMPLE)
def test_l2_penalty_values(submission, w):
    """l2_penalty(w) = 0.5 * sum of w^2, one float"""
    got = expect_float(submission.regularization.l2_penalty(w), "l2_penalty")
    expected = 0.5 * float(np.sum(w * w))
    hint = msg("regularization.l2_penalty_hint")
    if expected and abs(got - 2 * expected) <= 1e-9 * abs(expected):
        hint = msg("regularization.l2_penalty_twice")
    check_penalty(got, expected, msg("regularization.penalty_call", name="l2_penalty",
                                     shape=w.shape), hint)


# -- derivatives ------------------------------------------------------------------------
@pytest.mark.points(1)
@pytest.mark.function("regularization.l1_derivative")
@given(w=weight_arrays(nonzero=True))
@example(w=SAMPLE)
def test_l1_derivative_values(submission, w):
    """l1_derivative(w) is +1 where w > 0 and -1 where w < 0"""
    got = expect_derivative(submission.regularization.l1_derivative(w), w.shape,
                            "l1_derivative")
    assert_close(got, np.sign(w), inputs=w, hint=msg("regularization.l1_derivative_hint"))


@pytest.mark.points(1)
@pytest.mark.function("regularization.l1_derivative")
def test_l1_derivative_at_zero(submission):
    """l1_derivative(0) is 0, as in Playground"""
    w = np.array([-2.0, 0.0, 3.0, -0.0])
    got = expect_derivative(submission.regularization.l1_derivative(w), w.shape,
                            "l1_derivative")
    hint = msg("regularization.l1_derivative_zero_hint")
    if got[1] != 0 or got[3] != 0:
        fail(msg("regularization.l1_derivative_zero"),
             expected=msg("regularization.at_zero", value="0.0"),
             actual=msg("regularization.at_zero", value=repr(float(got[1]))), hint=hint)
    assert_close(got, np.array([-1.0, 0.0, 1.0, 0.0]), inputs=w, hint=hint)


@pytest.mark.points(1)
@pytest.mark.function("regularization.l2_derivative")
@given(w=weight_arrays())
@example(w=SAMPLE)
def test_l2_derivative_values(submission, w):
    """l2_derivative(w) = w, elementwise"""
    got = expect_derivative(submission.regularization.l2_derivative(w), w.shape,
                            "l2_derivative")
    hint = msg("regularization.l2_derivative_hint")
    if w.size and np.allclose(got, 2 * w) and np.any(w):
        hint = msg("regularization.l2_derivative_twice")
    assert_close(got, w, inputs=w, hint=hint)


# -- the update rule --------------------------------------------------------------------
W = np.array([0.5, -0.3, 0.0, 2.0])
G = np.array([0.1, -0.2, 0.3, -1.0])


def update(submission, weights, gradient, learning_rate, rate, kind):
    got = submission.regularization.regularized_update(weights, gradient, learning_rate,
                                                       rate, kind)
    return expect_array(got, shape=np.shape(weights), hint=msg("regularization.update_shape_hint"))


def call_text(weights, gradient, learning_rate, rate, kind):
    """How the call looks in Python, for messages."""
    w, g = (np.array2string(a, separator=", ") for a in (weights, gradient))
    return f"regularized_update({w}, {g}, {learning_rate}, {rate}, {kind!r})"


def weights_after(weights, gradient, learning_rate, rate, kind):
    """What assert_close compares: "weights after regularized_update(...)"."""
    return msg("regularization.weights_after",
               call=call_text(weights, gradient, learning_rate, rate, kind))


@pytest.mark.points(1)
@pytest.mark.function("regularization.regularized_update")
def test_regularized_update_plain_step(submission):
    """kind None is a plain gradient step: weights - learning_rate * gradient"""
    for lr, rate in ((0.3, 0.0), (0.3, 0.01), (1.0, 0.5)):
        got = update(submission, W, G, lr, rate, None)
        expected = W - lr * G
        if not np.allclose(got, expected, rtol=1e-9, atol=1e-12) and np.allclose(
                got, W + lr * G):
            fail(msg("regularization.uphill", call=call_text(W, G, lr, rate, None)),
                 expected=expected, actual=got, hint=msg("regularization.uphill_hint"))
        assert_close(got, expected, inputs=W, what=weights_after(W, G, lr, rate, None),
                     hint=msg("regularization.plain_step_hint"))


@pytest.mark.points(1)
@pytest.mark.function("regularization.regularized_update")
def test_regularized_update_l2(submission):
    """L2: weights - lr * gradient - lr * rate * weights"""
    hint = msg("regularization.l2_update_hint")
    for w, g, lr, rate in ((W, G, 0.1, 0.03), (W, G, 0.3, 0.001), (W, np.zeros(4), 1.0, 0.1)):
        got = update(submission, w, g, lr, rate, "L2")
        assert_close(got, playground_steps(w, g, lr, rate, "L2")[1], inputs=w, hint=hint,
                     what=weights_after(w, g, lr, rate, "L2"))
    # A big L2 step may flip a weight's sign: only L1 sets weights to 0.
    w, g = np.array([0.5, -0.25]), np.zeros(2)
    got = update(submission, w, g, 1.0, 3.0, "L2")
    assert_close(got, np.array([-1.0, 0.5]), inputs=w, what=weights_after(w, g, 1.0, 3.0, "L2"),
                 hint=msg("regularization.l2_no_zeroing_hint"))


@pytest.mark.points(1)
@pytest.mark.function("regularization.regularized_update")
def test_regularized_update_l1(submission):
    """L1: weights - lr * gradient - lr * rate * sign(weights), when no weight crosses zero"""
    hint = msg("regularization.l1_update_hint")
    for w, g, lr, rate in ((W, G, 0.1, 0.03), (W, G, 0.3, 0.001),
                           (np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]), 0.1, 0.3)):
        got = update(submission, w, g, lr, rate, "L1")
        assert_close(got, playground_steps(w, g, lr, rate, "L1")[1], inputs=w, hint=hint,
                     what=weights_after(w, g, lr, rate, "L1"))


@pytest.mark.points(2)
@pytest.mark.function("regularization.regularized_update")
def test_regularized_update_derivative_before_step(submission):
    """the regularization derivative is taken at the weights before the gradient step"""
    cases = [  # (weights, gradient, learning_rate, rate, kind)
        (np.array([0.5, -1.0]), np.array([2.0, 1.0]), 0.1, 1.0, "L2"),
        (np.array([0.05, -0.05, 0.3]), np.array([1.0, -1.0, 0.5]), 0.1, 1.0, "L1"),
    ]
    for w, g, lr, rate, kind in cases:
        got = update(submission, w, g, lr, rate, kind)
        expected = playground_steps(w, g, lr, rate, kind)[1]
        stepped = w - lr * g
        after = {"L1": np.sign(stepped), "L2": stepped}[kind]
        late = stepped - lr * rate * after
        if kind == "L1":
            late = np.where(stepped * late < 0, 0.0, late)
        hint = msg("regularization.derivative_first_hint")
        if np.allclose(got, late) and not np.allclose(got, expected):
            hint = msg("regularization.derivative_after_step")
            if kind == "L1":  # the same numbers come from a zero test on the wrong step
                hint = msg("regularization.derivative_after_step_l1")
        assert_close(got, expected, inputs=w, hint=hint, what=weights_after(w, g, lr, rate, kind))


@pytest.mark.points(2)
@pytest.mark.function("regularization.regularized_update")
def test_regularized_update_l1_zero_crossing(submission):
    """with L1, a weight the regularization step moves across 0 becomes exactly 0"""
    w, g = np.array([0.001, -0.001, 0.01, 0.3]), np.array([0.0, 0.0, 0.05, 0.0])
    got = update(submission, w, g, 0.1, 1.0, "L1")
    expected = playground_steps(w, g, 0.1, 1.0, "L1")[1]  # [0, 0, 0, 0.2]
    wrong = (got != 0) & (expected == 0)
    if wrong.any():
        i = int(np.argmax(wrong))
        fail(msg("regularization.crossed_not_zero", call=call_text(w, g, 0.1, 1.0, "L1"),
                 weight=w[i]), expected="0.0", actual=describe(got[i]),
             hint=msg("regularization.crossed_not_zero_hint"))
    assert_close(got, expected, inputs=w, what=weights_after(w, g, 0.1, 1.0, "L1"))
    # Only the regularization step's crossing counts, not the gradient step's.
    w, g = np.array([0.05, -0.05]), np.array([1.0, -1.0])
    got = update(submission, w, g, 0.1, 0.01, "L1")
    expected = playground_steps(w, g, 0.1, 0.01, "L1")[1]  # [-0.051, 0.051]
    if np.any((got == 0) & (expected != 0)):
        fail(msg("regularization.gradient_crossing_zeroed", call=call_text(w, g, 0.1, 0.01, "L1")),
             expected=expected, actual=got, hint=msg("regularization.gradient_crossing_hint"))
    assert_close(got, expected, inputs=w, what=weights_after(w, g, 0.1, 0.01, "L1"))


@pytest.mark.points(1)
@pytest.mark.function("regularization.regularized_update")
def test_regularized_update_leaves_inputs_alone(submission):
    """regularized_update returns new weights and changes neither weights nor gradient"""
    for kind in ("L1", "L2", None):
        w, g = W.copy(), G.copy()
        _, (w_after, g_after, *_) = submission.regularization.regularized_update.returning_args(
            w, g, 0.1, 0.01, kind)
        for name, before, after in (("weights", w, w_after), ("gradient", g, g_after)):
            if not (isinstance(after, np.ndarray) and np.array_equal(after, before)):
                fail(msg("regularization.changed_argument", kind=repr(kind), name=name),
                     expected=before, actual=after, hint=msg("regularization.in_place_hint"))
