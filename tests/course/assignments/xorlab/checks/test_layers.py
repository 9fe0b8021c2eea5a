"""XOR lab: each function of layers.py against its formula, on generated inputs."""

import numpy as np
import pytest
from hypothesis import given
from xorlab_helpers import REFERENCE, z_arrays

from grader.checks import assert_close, expect_array
from grader.i18n import messages_near

msg = messages_near(__file__)


def layer_check(name):
    @pytest.mark.points(5)
    @pytest.mark.function(f"layers.{name}")
    @pytest.mark.title(msg("title.layer_values", name=name))
    @given(z=z_arrays(30))
    def check(submission, z):
        got = expect_array(getattr(submission.layers, name)(z), shape=np.shape(z))
        assert_close(got, REFERENCE[name](z), inputs=z)

    check.__doc__ = f"{name}(z) follows its formula, elementwise, for any shape"
    return check


test_act_relu_values = layer_check("act_relu")
test_d_relu_values = layer_check("d_relu")
test_act_sigmoid_values = layer_check("act_sigmoid")
test_d_sigmoid_values = layer_check("d_sigmoid")
