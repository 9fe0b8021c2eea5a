"""XOR lab: optim.step follows Playground's update, with and without L2."""

import numpy as np
import pytest
from xorlab_helpers import l2_step

from grader.checks import assert_close, expect_array

W = np.array([0.5, -0.3, 0.0, 2.0])
G = np.array([0.1, -0.2, 0.3, -1.0])


@pytest.mark.points(4)
@pytest.mark.function("optim.step")
def test_step_l2(submission):
    """step(weights, gradients, learning_rate, rate, "L2") = w - lr * g - lr * rate * w"""
    for lr, rate in ((0.1, 0.01), (0.03, 0.3), (1.0, 0.0)):
        got = expect_array(submission.optim.step(W, G, lr, rate, "L2"), shape=W.shape)
        assert_close(got, l2_step(W, G, lr, rate, "L2"), inputs=W)


@pytest.mark.points(2)
@pytest.mark.function("optim.step")
def test_step_plain(submission):
    """step(weights, gradients, learning_rate, rate, None) = w - lr * g"""
    got = expect_array(submission.optim.step(W, G, 0.1, 0.5, None), shape=W.shape)
    assert_close(got, l2_step(W, G, 0.1, 0.5, None), inputs=W)
