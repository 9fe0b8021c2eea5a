"""Public checks of Day 65: minibatches(n_samples, batch_size, rng=None).

The batches are integer index arrays that together hold every index of
range(n_samples) exactly once: in order without rng, in the order of a
permutation drawn from rng with it. Each batch holds batch_size indices
except possibly the last one, which holds the remainder.

An rng argument reaches the student's function as a numpy.random.Generator:
the check passes seeded_rng(s) and the worker calls the function with
numpy.random.default_rng(s) in its place.
"""

import numpy as np
import pytest
from day65_helpers import check_partition, expect_batches
from hypothesis import example, given
from hypothesis import strategies as st

from grader.checks import fail, seeded_rng
from grader.i18n import joined, messages_near
from grader.worker.errors import StudentException

msg = messages_near(__file__)  # assignments/day65/locale: titles, messages and hints


def check_in_order(submission, n, size):
    call = f"minibatches({n}, {size})"
    batches = expect_batches(submission.minibatch.minibatches(n, size), call)
    flat = check_partition(batches, n, size, call)
    if not np.array_equal(flat, np.arange(n)):
        fail(msg("minibatch.not_in_order", call=call, last=n - 1), expected=np.arange(n),
             actual=flat, hint=msg("minibatch.not_in_order_hint"))


# Whole batches only: this is what the experiments' trainings use (their batch sizes
# divide the 250 training points), so a slip with the remainder, which the next two
# checks catch, costs their points and not every experiment's.
@pytest.mark.points(2)
@pytest.mark.function("minibatch.minibatches")
@given(batches=st.integers(0, 12), size=st.integers(1, 30))
@example(batches=10, size=1)
@example(batches=10, size=25)
def test_minibatches_in_order(submission, batches, size):
    """without rng: batches of batch_size indices, in order 0..n-1 (n a multiple of batch_size)"""
    check_in_order(submission, batches * size, size)


@pytest.mark.points(2)
@pytest.mark.function("minibatch.minibatches")
def test_minibatches_remainder(submission):
    """the last batch holds the remainder: minibatches(25, 10) has sizes 10, 10, 5"""
    for n, size in ((25, 10), (7, 3), (250, 30), (10, 5), (250, 25)):
        check_in_order(submission, n, size)


@pytest.mark.points(1)
@pytest.mark.function("minibatch.minibatches")
def test_minibatches_edge_sizes(submission):
    """batch_size > n_samples gives one batch; n_samples == 0 gives []"""
    for n, size in ((5, 10), (1, 1), (10, 10), (3, 250), (0, 10), (0, 1)):
        check_in_order(submission, n, size)


def expect_error(submission, args, allowed, hint):
    """minibatches(*args) must raise one of the allowed exception types."""
    call = f"minibatches({', '.join(repr(a) for a in args)})"
    want = joined(allowed, msg("minibatch.or"))
    try:
        value = submission.minibatch.minibatches(*args)
    except StudentException as error:
        if error.exc_type in allowed:
            return
        fail(msg("minibatch.raised_other", call=call, exc_type=error.exc_type, want=want),
             expected=msg("minibatch.raised", want=want),
             actual=f"{error.exc_type}: {error.exc_message}", hint=hint)
    fail(msg("minibatch.returned_instead", call=call, want=want),
         expected=msg("minibatch.raised", want=want), actual=value, hint=hint)


@pytest.mark.points(1)
@pytest.mark.function("minibatch.minibatches")
@pytest.mark.hint(msg("minibatch.invalid_loop_hint"))
def test_minibatches_invalid_arguments(submission):
    """batch_size < 1 and n_samples < 0 raise ValueError"""
    hint = msg("minibatch.invalid_hint")
    for args in ((10, 0), (10, -3), (-1, 5), (-10, 3)):
        expect_error(submission, args, ("ValueError",), hint)


@pytest.mark.points(2)
@pytest.mark.function("minibatch.minibatches")
@pytest.mark.depends("minibatches_in_order")
def test_minibatches_with_rng(submission):
    """with rng: the order of a permutation drawn from rng, the same for the same seed"""
    n, size = 50, 10
    call = f"minibatches({n}, {size}, rng=np.random.default_rng(123))"
    batches = expect_batches(
        submission.minibatch.minibatches(n, size, rng=seeded_rng(123)), call)
    flat = check_partition(batches, n, size, call)
    if np.array_equal(flat, np.arange(n)):
        fail(msg("minibatch.still_in_order", call=call, last=n - 1),
             expected=msg("minibatch.shuffled_order", n=n,
                          order=np.random.default_rng(123).permutation(n)),
             actual=flat, hint=msg("minibatch.draw_from_rng_hint"))
    again = expect_batches(
        submission.minibatch.minibatches(n, size, rng=seeded_rng(123)), call)
    if not (len(again) == len(batches) and all(map(np.array_equal, again, batches))):
        fail(msg("minibatch.same_seed_differs"), expected=flat,
             actual=np.concatenate(again) if again else again,
             hint=msg("minibatch.global_generator_hint"))
    other = expect_batches(submission.minibatch.minibatches(n, size, rng=seeded_rng(124)),
                           call.replace("123", "124"))
    if len(other) == len(batches) and all(map(np.array_equal, other, batches)):
        fail(msg("minibatch.seeds_same"), expected=msg("minibatch.different_order"),
             actual=flat, hint=msg("minibatch.fixed_seed_hint"))
