"""Hidden checks of Day 65 (instructor only): minibatches on many sizes, with
rng and a remainder, real shuffling across batches, and non-integer arguments."""

import numpy as np
import pytest
from day65_helpers import check_partition, expect_batches
from hypothesis import given
from hypothesis import strategies as st

from grader.checks import fail, seeded_rng
from grader.i18n import messages_near
from grader.worker.errors import StudentException

msg = messages_near(__file__)  # hidden/locale: never shipped, like these checks


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
        fail(msg("minibatch.not_in_order", call=call), expected=np.arange(n), actual=flat,
             hint=msg("minibatch.not_in_order_hint"))


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
        fail(msg("minibatch.not_mixed", call=call), expected=msg("minibatch.mixed"),
             actual=batches[0], hint=msg("minibatch.not_mixed_hint"))


@pytest.mark.points(1)
@pytest.mark.function("minibatch.minibatches")
@pytest.mark.hint(msg("minibatch.non_integer_hint"))
def test_minibatches_non_integer_arguments(submission):
    """n_samples or batch_size that is not an integer raises TypeError or ValueError"""
    for args in ((10, 2.5), (10.5, 2), ("10", 2), (10, "2")):
        call = f"minibatches({', '.join(repr(a) for a in args)})"
        try:
            value = submission.minibatch.minibatches(*args)
        except StudentException as error:
            if error.exc_type in ("TypeError", "ValueError"):
                continue
            fail(msg("minibatch.raised_other", call=call, exc_type=error.exc_type),
                 expected=msg("minibatch.type_or_value_error"),
                 actual=f"{error.exc_type}: {error.exc_message}")
        fail(msg("minibatch.returned_instead", call=call),
             expected=msg("minibatch.type_or_value_error_raised"), actual=value)
