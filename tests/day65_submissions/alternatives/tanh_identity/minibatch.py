"""Alternative (correct): the order drawn with rng.permutation, batches by a while loop."""

import numpy as np


def minibatches(n_samples, batch_size, rng=None):
    for value in (n_samples, batch_size):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError("n_samples and batch_size must be integers")
    if n_samples < 0 or batch_size < 1:
        raise ValueError("need n_samples >= 0 and batch_size >= 1")
    if rng is None:
        order = np.arange(n_samples)
    else:
        order = rng.permutation(n_samples)
    batches = []
    start = 0
    while start < n_samples:
        batches.append(order[start:start + batch_size].copy())
        start += batch_size
    return batches
