"""The 500-epoch verdict (grader/experiments/distribution.py) and its false-fail bound."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.experiments import distribution
from grader.experiments.distribution import band, false_fail_rate, judge, max_outside

MAX_OUTSIDE = max_outside(8)

REFERENCE = [0.05, 0.10, 0.20, 0.30]  # range 0.25: margin 0.025 on each side


def test_the_band_is_the_reference_range_widened_by_the_margin():
    low, high = band(REFERENCE)
    assert low == pytest.approx(0.025) and high == pytest.approx(0.325)
    assert band([0.2, 0.2]) == pytest.approx((0.2 - distribution.MIN_MARGIN,
                                              0.2 + distribution.MIN_MARGIN))


def test_a_majority_outside_fails_fewer_passes():
    inside, outside = 0.15, 0.9
    passing = [outside] * MAX_OUTSIDE + [inside] * (8 - MAX_OUTSIDE)
    failing = [outside] * (MAX_OUTSIDE + 1) + [inside] * (7 - MAX_OUTSIDE)
    assert judge(passing, REFERENCE).passed
    verdict = judge(failing, REFERENCE)
    assert not verdict.passed and verdict.outside == MAX_OUTSIDE + 1 and verdict.runs == 8


@pytest.mark.parametrize("runs", [1, 2, 3, 4, 5, 8, 12])
def test_every_run_outside_fails_whatever_the_seed_count(runs):
    """The allowance scales with the manifest's seed count: with a fixed 5, four
    seeds could never fail (all four far outside passed)."""
    assert not judge([9.0] * runs, REFERENCE).passed
    assert judge([0.15] * runs, REFERENCE).passed
    assert max_outside(runs) < runs and max_outside(8) == 5


def test_diverged_runs_are_outside_unless_the_reference_diverged_too():
    diverged = [None] * 8
    assert not judge(diverged, REFERENCE).passed
    assert not judge([math.nan] * 8, REFERENCE).passed
    assert judge(diverged, [*REFERENCE, None]).passed


def test_runs_that_follow_the_reference_to_rounding_are_inside():
    # A non-chaotic configuration: the student's run of a seed is the reference's,
    # off in the last digits, and may be the reference's extreme.
    assert judge([0.05 - 1e-12, 0.30 + 1e-12] * 4, REFERENCE).passed


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=64), st.integers(0, 8))
def test_every_run_inside_the_band_always_passes(reference, k):
    low, high = band(reference)
    assert judge([low, high, (low + high) / 2] + [reference[0]] * k, reference).passed


def test_the_false_fail_bound_is_the_beta_binomial_tail():
    # With max_outside 0, "some run outside": 1 - E[(1 - p)^K], p ~ Beta(2, N - 1),
    # which is 1 - (N - 1) N / ((N + K - 1)(N + K)).
    n, k = 64, 8
    assert false_fail_rate(k, n, 0) == pytest.approx(1 - (n - 1) * n / ((n + k - 1) * (n + k)))
    assert false_fail_rate(8, 256) < 1e-7 < false_fail_rate(8, 64)


def test_the_false_fail_bound_holds_for_fresh_draws():
    # Correct but chaotic: the student's runs are new draws from the reference's
    # distribution. Counted with max_outside 1, where failures are frequent enough
    # to measure (the bound for the real setting is too small to see).
    rng = np.random.default_rng(0)
    trials, failures = 4000, 0
    for _ in range(trials):
        draws = rng.lognormal(-2.5, 0.8, 64 + 8)
        low, high = draws[:64].min(), draws[:64].max()
        failures += ((draws[64:] < low) | (draws[64:] > high)).sum() > 1
    assert failures / trials == pytest.approx(false_fail_rate(8, 64, 1), abs=0.01)
