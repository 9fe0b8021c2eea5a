"""Alternative (correct): rng.shuffle on a fresh index array; divmod for the batch count."""

import numpy as np


def minibatches(n_samples, batch_size, rng=None):
    if not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool):
        raise TypeError(f"n_samples must be an integer, got {n_samples!r}")
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool):
        raise TypeError(f"batch_size must be an integer, got {batch_size!r}")
    if n_samples < 0 or batch_size < 1:
        raise ValueError("n_samples must be >= 0 and batch_size >= 1")
    indices = np.arange(n_samples)
    if rng is not None:
        rng.shuffle(indices)
    full, rest = divmod(n_samples, batch_size)
    batches = [indices[k * batch_size:(k + 1) * batch_size] for k in range(full)]
    if rest:
        batches.append(indices[full * batch_size:])
    return batches
