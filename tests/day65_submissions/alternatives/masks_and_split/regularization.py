"""Alternative (correct): the L1 zero clip with a boolean mask on a copy."""

import numpy as np


def l1_penalty(weights):
    return float(np.linalg.norm(np.ravel(weights), 1))


def l2_penalty(weights):
    return 0.5 * float(np.linalg.norm(np.ravel(weights))) ** 2


def l1_derivative(weights):
    return np.sign(weights).astype(np.float64)


def l2_derivative(weights):
    return np.copy(np.asarray(weights, dtype=np.float64))


def regularized_update(weights, gradient, learning_rate, rate, kind):
    if kind not in ("L1", "L2", None):
        raise ValueError(kind)
    before = np.array(weights, dtype=np.float64)  # a copy: safe to change
    if kind == "L1":
        d = l1_derivative(before)
    elif kind == "L2":
        d = l2_derivative(before)
    else:
        d = np.zeros_like(before)
    w = before - learning_rate * np.asarray(gradient, dtype=np.float64)
    w_new = np.array(w - learning_rate * rate * d, ndmin=0)
    if kind == "L1":
        crossed = w * w_new < 0
        w_new[crossed] = 0.0
    return w_new
