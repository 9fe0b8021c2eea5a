"""XOR lab reference solution: Playground's update with L2 (weight decay)."""

import numpy as np


def step(weights, gradients, learning_rate, rate, kind):
    weights = np.asarray(weights, dtype=np.float64)
    stepped = weights - learning_rate * np.asarray(gradients, dtype=np.float64)
    if kind == "L2":
        return stepped - learning_rate * rate * weights
    return stepped
