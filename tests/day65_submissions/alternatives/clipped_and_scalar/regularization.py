"""Alternative (correct): penalties with Python's sum; the update on float64 copies."""

import numpy as np


def l1_penalty(weights):
    return float(sum(abs(x) for x in np.ravel(weights).tolist()))


def l2_penalty(weights):
    return float(sum(x * x for x in np.ravel(weights).tolist())) / 2


def l1_derivative(weights):
    return np.sign(np.array(weights, dtype=np.float64))


def l2_derivative(weights):
    return np.array(weights, dtype=np.float64)


def regularized_update(weights, gradient, learning_rate, rate, kind):
    w = np.array(weights, dtype=np.float64)
    g = np.array(gradient, dtype=np.float64)
    d = {"L1": l1_derivative, "L2": l2_derivative}[kind](w) if kind else 0.0
    w = w - learning_rate * g
    w_new = w - learning_rate * rate * d
    if kind == "L1":
        w_new = np.where(w * w_new < 0, 0.0, w_new)
    return w_new
