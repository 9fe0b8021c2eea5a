"""Day 65 reference solution: splitting sample indices into minibatches."""

import operator

import numpy as np


def _whole_number(value, name):
    """value as an int; TypeError for anything that is not an integer (bool included)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not a bool")
    try:
        return operator.index(value)  # int and numpy integers; 2.5, 10.0 and "10" refuse
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}") from None


def minibatches(n_samples, batch_size, rng=None):
    """Index arrays that together hold each of 0 .. n_samples-1 exactly once.

    Without rng the indices come in order; with rng (a numpy.random.Generator)
    in the order of ONE permutation drawn with rng.permutation(n_samples).
    Every batch holds batch_size indices except possibly the last, which holds
    the remainder; batch_size > n_samples gives one batch, n_samples == 0 gives
    []. batch_size < 1 or n_samples < 0 raise ValueError; non-integers raise
    TypeError.
    """
    n = _whole_number(n_samples, "n_samples")
    size = _whole_number(batch_size, "batch_size")
    if n < 0:
        raise ValueError(f"n_samples must be at least 0, not {n}")
    if size < 1:
        raise ValueError(f"batch_size must be at least 1, not {size}")
    order = np.arange(n) if rng is None else rng.permutation(n)
    return [order[start:start + size] for start in range(0, n, size)]
