"""Alternative (correct): array_split at the batch boundaries; the count via math.ceil."""

import math

import numpy as np


def minibatches(n_samples, batch_size, rng=None):
    if not (isinstance(n_samples, int) and isinstance(batch_size, int)):
        raise TypeError("n_samples and batch_size must be integers")
    if batch_size < 1 or n_samples < 0:
        raise ValueError("batch_size must be >= 1 and n_samples >= 0")
    order = np.arange(n_samples) if rng is None else rng.permutation(n_samples)
    count = math.ceil(n_samples / batch_size)
    return [order[k * batch_size:min((k + 1) * batch_size, n_samples)] for k in range(count)]
