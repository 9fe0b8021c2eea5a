"""Alternative (correct): batches collected index by index in Python lists."""

import numpy as np


def minibatches(n_samples, batch_size, rng=None):
    if type(n_samples) is not int or type(batch_size) is not int:
        raise TypeError("n_samples and batch_size must be int")
    if n_samples < 0:
        raise ValueError("n_samples must not be negative")
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    order = list(range(n_samples))
    if rng is not None:
        order = [int(i) for i in rng.permutation(n_samples)]
    batches = []
    current = []
    for index in order:
        current.append(index)
        if len(current) == batch_size:
            batches.append(np.array(current, dtype=np.int64))
            current = []
    if current:
        batches.append(np.array(current, dtype=np.int64))
    return batches
