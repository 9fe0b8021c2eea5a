"""Day 65's shared check code: what its public checks (checks/) and hidden checks
(hidden/) both use. The grader puts the assignment's folder on sys.path while its
checks run, so a check imports this as `from day65_helpers import ...`.

This module ships with the public checks (in the wheel and the released repository):
nothing in it may give a hidden check away. Its messages are the public catalog's
(locale/).
"""

from __future__ import annotations

import numpy as np
from hypothesis.extra import numpy as hnp

from grader.checks import fail
from grader.i18n import messages_near

msg = messages_near(__file__)

# Inputs of any shape a student's function must take: 0-d and empty included.
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)


# -- the formulas, computed here in float64 -------------------------------------------
def ref_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def ref_sigmoid_derivative(z):
    s = ref_sigmoid(z)
    return s * (1 - s)


def playground_steps(w, g, lr, rate, kind):
    """Playground's update, step by step: (the plain step w - lr * g, the new weights)."""
    d = {"L1": np.sign(w), "L2": w, None: np.zeros_like(w)}[kind]
    stepped = w - lr * g
    new = stepped - lr * rate * d
    if kind == "L1":
        new = np.where(stepped * new < 0, 0.0, new)
    return stepped, new


# -- minibatches ----------------------------------------------------------------------
SLICE_HINT = msg("minibatch.slice_hint")


def expect_batches(value, call):
    """value as a list of 1-d integer arrays, or a failure saying what it is instead."""
    if not isinstance(value, list):
        fail(msg("minibatch.not_a_list", call=call, type=type(value).__name__),
             expected=msg("minibatch.list_of_arrays"), actual=value,
             hint=msg("minibatch.return_a_list_hint"))
    for i, batch in enumerate(value):
        if not isinstance(batch, np.ndarray):
            fail(msg("minibatch.batch_not_array", call=call, i=i, type=type(batch).__name__),
                 expected=msg("minibatch.one_array"), actual=batch,
                 hint=msg("minibatch.batch_not_array_hint"))
        if batch.ndim != 1:
            fail(msg("minibatch.batch_not_1d", call=call, i=i, shape=batch.shape),
                 expected=msg("minibatch.one_array"), actual=batch, hint=SLICE_HINT)
        if batch.dtype.kind not in "iu":
            fail(msg("minibatch.batch_not_integers", call=call, i=i, dtype=str(batch.dtype)),
                 expected=msg("minibatch.integer_array"), actual=batch,
                 hint=msg("minibatch.integers_hint"))
    return value


def expected_sizes(n, size):
    return [size] * (n // size) + ([n % size] if n % size else [])


def size_hint(got, want, n, size):
    if n and not got and want:
        return msg("minibatch.one_batch_hint")
    if got and got[-1] == 0:
        return msg("minibatch.empty_batch_hint")
    if len(got) == len(want) - 1 and got == want[:-1]:
        return msg("minibatch.remainder_missing_hint")
    if len(got) == len(want) - 1 and got[:-1] == want[:-2] and got[-1] == want[-2] + want[-1]:
        return msg("minibatch.remainder_merged_hint")
    return msg("minibatch.sizes_hint", n=n, size=size, remainder=n % size)


def check_partition(batches, n, size, call):
    """The batch sizes, then: every index of range(n) exactly once."""
    got = [len(b) for b in batches]
    want = expected_sizes(n, size)
    if got != want:
        fail(msg("minibatch.wrong_sizes", call=call, count=len(got), sizes=got),
             expected=msg("minibatch.sizes", sizes=want), actual=msg("minibatch.sizes", sizes=got),
             hint=size_hint(got, want, n, size))
    flat = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    if not np.array_equal(np.sort(flat), np.arange(n)):
        missing = sorted(set(range(n)) - set(flat.tolist()))[:5]
        fail(msg("minibatch.not_a_partition", call=call, last=n - 1),
             expected=msg("minibatch.each_once", last=n - 1), actual=np.sort(flat),
             hint=msg("minibatch.index_missing_hint", index=missing[0]) if missing
             else msg("minibatch.index_repeats_hint"))
    return flat
