"""Hidden checks of Day 65 (instructor only): minibatches on many sizes, with
rng and a remainder, real shuffling across batches, and non-integer arguments."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.checks import fail, seeded_rng
from grader.worker.errors import StudentException


def expect_batches(value, call):
    if not isinstance(value, list) or not all(
            isinstance(b, np.ndarray) and b.ndim == 1 and b.dtype.kind in "iu" for b in value):
        fail(f"{call} did not return a list of 1-d integer numpy arrays",
             expected="a list of 1-d integer numpy arrays", actual=value,
             hint="Slice one numpy array of indices: [order[i:i + batch_size] for i in "
                  "range(0, n_samples, batch_size)].")
    return value


def check_partition(batches, n, size, call):
    got = [len(b) for b in batches]
    want = [size] * (n // size) + ([n % size] if n % size else [])
    if got != want:
        fail(f"{call} gave batches of sizes {got}", expected=f"sizes {want}",
             actual=f"sizes {got}",
             hint="Every batch holds batch_size indices except the last, which holds the "
                  "remainder; with rng too.")
    flat = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    if not np.array_equal(np.sort(flat), np.arange(n)):
        fail(f"{call}: the batches do not hold each index 0..{n - 1} exactly once",
             expected=f"each of 0..{n - 1} once", actual=np.sort(flat),
             hint="Draw ONE permutation (rng.permutation(n_samples)) and cut it into "
                  "consecutive slices.")
    return flat


@pytest.mark.points(2)
@pytest.mark.function("minibatch.minibatches")
@given(n=st.integers(0, 300), size=st.integers(1, 320),
       seed=st.one_of(st.none(), st.integers(0, 2**32 - 1)))
def test_minibatches_random_sizes(submission, n, size, seed):
    """minibatches is a partition with the right batch sizes for many n, batch_size and seeds"""
    if seed is None:
        call = f"minibatches({n}, {size})"
        batches = submission.minibatch.minibatches(n, size)
    else:
        call = f"minibatches({n}, {size}, np.random.default_rng({seed}))"
        batches = submission.minibatch.minibatches(n, size, seeded_rng(seed))
    flat = check_partition(expect_batches(batches, call), n, size, call)
    if seed is None and not np.array_equal(flat, np.arange(n)):
        fail(f"{call} without rng is not in order", expected=np.arange(n), actual=flat,
             hint="Without rng, slice np.arange(n_samples) as it is.")


@pytest.mark.points(1)
@pytest.mark.function("minibatch.minibatches")
def test_minibatches_rng_with_remainder(submission):
    """with rng (passed by position): a remainder batch, one batch, and no batch"""
    for n, size, seed in ((23, 5, 0), (250, 30, 1), (7, 10, 2), (0, 4, 3), (1, 1, 4)):
        call = f"minibatches({n}, {size}, np.random.default_rng({seed}))"
        check_partition(expect_batches(
            submission.minibatch.minibatches(n, size, seeded_rng(seed)), call), n, size, call)


@pytest.mark.points(1)
@pytest.mark.function("minibatch.minibatches")
@pytest.mark.depends("minibatches_rng_with_remainder")
def test_minibatches_rng_mixes_batches(submission):
    """with rng the samples are shuffled across batches, not only within each batch"""
    n, size = 100, 10
    call = f"minibatches({n}, {size}, rng=np.random.default_rng(7))"
    batches = expect_batches(submission.minibatch.minibatches(n, size, rng=seeded_rng(7)), call)
    blocks = [set(range(start, start + size)) for start in range(0, n, size)]
    if all(set(b.tolist()) in blocks for b in batches):
        fail(f"{call}: every batch holds the same indices as without rng "
             "(only their order changed)", expected="batches mixing indices from all over",
             actual=batches[0],
             hint="Shuffle ALL the indices once (order = rng.permutation(n_samples)) and "
                  "then slice; do not shuffle inside each batch or only the batches' order.")


@pytest.mark.points(1)
@pytest.mark.function("minibatch.minibatches")
@pytest.mark.hint("Refuse arguments that are not integers: e.g. operator.index(batch_size) "
                  "raises TypeError for 2.5 or '10'.")
def test_minibatches_non_integer_arguments(submission):
    """n_samples or batch_size that is not an integer raises TypeError or ValueError"""
    for args in ((10, 2.5), (10.5, 2), ("10", 2), (10, "2")):
        call = f"minibatches({', '.join(repr(a) for a in args)})"
        try:
            value = submission.minibatch.minibatches(*args)
        except StudentException as error:
            if error.exc_type in ("TypeError", "ValueError"):
                continue
            fail(f"{call} raised {error.exc_type}", expected="TypeError or ValueError",
                 actual=f"{error.exc_type}: {error.exc_message}")
        fail(f"{call} returned instead of raising TypeError or ValueError",
             expected="TypeError or ValueError raised", actual=value)
