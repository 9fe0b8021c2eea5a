"""XOR lab's hidden checks: sigmoid far out."""

import numpy as np
import pytest
from xorlab_helpers import ref_sigmoid

from grader.checks import assert_close, expect_array

LARGE = np.array([-1e300, -1000.0, -710.0, 710.0, 1000.0, 1e300])


@pytest.mark.points(4)
@pytest.mark.function("layers.act_sigmoid")
def test_act_sigmoid_far_out(submission):
    """act_sigmoid is 0 and 1 at the ends (|z| up to 1e300), never NaN"""
    got = expect_array(submission.layers.act_sigmoid(LARGE), shape=LARGE.shape)
    assert_close(got, ref_sigmoid(LARGE), atol=0, inputs=LARGE)
