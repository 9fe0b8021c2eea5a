"""Alternative (correct): np.split at multiples of batch_size; rng.permuted for the order."""

import operator

import numpy as np


def minibatches(n_samples, batch_size, rng=None):
    if isinstance(n_samples, bool) or isinstance(batch_size, bool):
        raise TypeError("booleans are not counts")
    n = operator.index(n_samples)
    b = operator.index(batch_size)
    if b <= 0 or n < 0:
        raise ValueError(f"invalid n_samples={n} or batch_size={b}")
    if n == 0:
        return []
    order = np.arange(n)
    if rng is not None:
        order = rng.permuted(order)
    return np.split(order, np.arange(b, n, b))
