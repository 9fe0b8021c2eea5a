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
from hypothesis import example, given
from hypothesis import strategies as st

from grader.checks import fail, seeded_rng
from grader.worker.errors import StudentException

SLICE_HINT = ("Slice one array of indices: [order[i:i + batch_size] for i in "
              "range(0, n_samples, batch_size)].")


def expect_batches(value, call):
    """value as a list of 1-d integer arrays, or a failure saying what it is instead."""
    if not isinstance(value, list):
        fail(f"{call} returned a {type(value).__name__}, not a list of index arrays",
             expected="a list of 1-d integer numpy arrays", actual=value,
             hint="Return a list: " + SLICE_HINT)
    for i, batch in enumerate(value):
        if not isinstance(batch, np.ndarray):
            fail(f"{call}: batch {i} is a {type(batch).__name__}, not a numpy array",
                 expected="a 1-d integer numpy array", actual=batch,
                 hint="Each batch is a numpy array of indices: slice np.arange(n_samples) "
                      "or rng.permutation(n_samples) instead of building Python lists.")
        if batch.ndim != 1:
            fail(f"{call}: batch {i} has shape {batch.shape}, not a 1-d shape",
                 expected="a 1-d integer numpy array", actual=batch, hint=SLICE_HINT)
        if batch.dtype.kind not in "iu":
            fail(f"{call}: batch {i} holds {batch.dtype} values, not integers",
                 expected="an integer array (e.g. int64)", actual=batch,
                 hint="Indices are integers: use np.arange(n_samples) or "
                      "rng.permutation(n_samples), not floats.")
    return value


def expected_sizes(n, size):
    return [size] * (n // size) + ([n % size] if n % size else [])


def size_hint(got, want, n, size):
    if n and not got and want:
        return ("batch_size > n_samples gives ONE batch holding all n_samples indices; "
                "n_samples == 0 gives [].")
    if got and got[-1] == 0:
        return ("There is an empty batch: loop with range(0, n_samples, batch_size), "
                "without + 1.")
    if len(got) == len(want) - 1 and got == want[:-1]:
        return ("The last, smaller batch (the remainder) is missing: keep it, "
                "e.g. loop over range(0, n_samples, batch_size).")
    if len(got) == len(want) - 1 and got[:-1] == want[:-2] and got[-1] == want[-2] + want[-1]:
        return ("The remainder was merged into the batch before it: it must be a "
                "batch of its own, smaller than batch_size.")
    return ("Every batch holds batch_size indices, except the last one, which holds the "
            f"remainder ({n} % {size} = {n % size} here, when it is not 0).")


def check_partition(batches, n, size, call):
    """The batch sizes, then: every index of range(n) exactly once."""
    got = [len(b) for b in batches]
    want = expected_sizes(n, size)
    if got != want:
        fail(f"{call} gave {len(got)} batches of sizes {got}", expected=f"sizes {want}",
             actual=f"sizes {got}", hint=size_hint(got, want, n, size))
    flat = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    if not np.array_equal(np.sort(flat), np.arange(n)):
        missing = sorted(set(range(n)) - set(flat.tolist()))[:5]
        fail(f"{call}: the batches do not hold each index 0..{n - 1} exactly once",
             expected=f"each of 0..{n - 1} once", actual=np.sort(flat),
             hint=(f"Index {missing[0]} is missing. " if missing else "An index repeats. ")
             + "Draw ONE order (np.arange(n_samples), or rng.permutation(n_samples)) "
               "and cut it into consecutive slices.")
    return flat


def check_in_order(submission, n, size):
    call = f"minibatches({n}, {size})"
    batches = expect_batches(submission.minibatch.minibatches(n, size), call)
    flat = check_partition(batches, n, size, call)
    if not np.array_equal(flat, np.arange(n)):
        fail(f"{call} without rng is not in order 0..{n - 1}", expected=np.arange(n),
             actual=flat, hint="Without rng, do not shuffle: slice np.arange(n_samples).")


@pytest.mark.points(2)
@pytest.mark.function("minibatch.minibatches")
@given(n=st.integers(0, 120), size=st.integers(1, 130))
@example(n=10, size=1)
@example(n=7, size=3)
def test_minibatches_in_order(submission, n, size):
    """without rng: batches of batch_size indices, in order 0..n-1"""
    check_in_order(submission, n, size)


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
    want = " or ".join(allowed)
    try:
        value = submission.minibatch.minibatches(*args)
    except StudentException as error:
        if error.exc_type in allowed:
            return
        fail(f"{call} raised {error.exc_type}, not {want}", expected=f"{want} raised",
             actual=f"{error.exc_type}: {error.exc_message}", hint=hint)
    fail(f"{call} returned instead of raising {want}", expected=f"{want} raised",
         actual=value, hint=hint)


@pytest.mark.points(1)
@pytest.mark.function("minibatch.minibatches")
@pytest.mark.hint("Check the arguments before the loop: a loop that moves on by batch_size "
                  "never ends when batch_size is 0.")
def test_minibatches_invalid_arguments(submission):
    """batch_size < 1 and n_samples < 0 raise ValueError"""
    hint = ("Check the arguments first: if batch_size < 1 or n_samples < 0: "
            "raise ValueError(...).")
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
        fail(f"{call} is still in order 0..{n - 1}",
             expected=f"a shuffled order, e.g. rng.permutation({n}): "
                      f"{np.random.default_rng(123).permutation(n)}",
             actual=flat, hint="When rng is given, draw the order from it: "
                               "order = rng.permutation(n_samples), then slice it.")
    again = expect_batches(
        submission.minibatch.minibatches(n, size, rng=seeded_rng(123)), call)
    if not (len(again) == len(batches) and all(map(np.array_equal, again, batches))):
        fail("two calls with the same seed gave different batches", expected=flat,
             actual=np.concatenate(again) if again else again,
             hint="Draw random numbers only from the rng you were given: "
                  "np.random.shuffle and np.random.permutation use numpy's global "
                  "generator, which the seed does not control.")
    other = expect_batches(submission.minibatch.minibatches(n, size, rng=seeded_rng(124)),
                           call.replace("123", "124"))
    if len(other) == len(batches) and all(map(np.array_equal, other, batches)):
        fail("two different seeds gave the same batches", expected="a different order",
             actual=flat, hint="Draw the order from the rng argument; do not make your own "
                               "generator with a fixed seed.")
