"""Hidden checks of the demo assignment (never shipped to students)."""

import numpy as np
import pytest

from grader.checks import assert_close, expect_array

SECRET = "demo-hidden-check-secret-7f3a"  # attack tests look for this string in results


@pytest.mark.points(3)
@pytest.mark.function("mathy.safe_div")
@pytest.mark.depends("safe_div")
def test_safe_div_empty_and_0d(submission):
    """safe_div works on empty and 0-d arrays"""
    empty = np.zeros(0)
    expect_array(submission.mathy.safe_div(empty, empty), shape=(0,))
    got = expect_array(submission.mathy.safe_div(np.array(3.0), np.array(0.0)), shape=())
    assert_close(got, np.array(0.0))
