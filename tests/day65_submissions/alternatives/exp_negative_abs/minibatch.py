"""Alternative (correct): the order drawn with rng.choice(n, n, replace=False)."""

import numbers

import numpy as np


def minibatches(n_samples, batch_size, rng=None):
    if not isinstance(n_samples, numbers.Integral) or not isinstance(batch_size, numbers.Integral):
        raise TypeError("n_samples and batch_size must be integers")
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    if n_samples < 0:
        raise ValueError("n_samples must be >= 0")
    if rng is not None:
        order = rng.choice(n_samples, size=n_samples, replace=False)
    else:
        order = np.arange(n_samples)
    return [order[i:i + batch_size] for i in range(0, n_samples, batch_size)]
