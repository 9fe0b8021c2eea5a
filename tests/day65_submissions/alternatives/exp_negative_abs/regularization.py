"""Alternative (correct): the update as w - lr * (g + rate * d), zero test afterwards."""

import numpy as np


def l1_penalty(weights):
    return np.sum(np.abs(np.asarray(weights, dtype=np.float64)))


def l2_penalty(weights):
    w = np.asarray(weights, dtype=np.float64)
    return np.sum(w ** 2) / 2.0


def l1_derivative(weights):
    w = np.asarray(weights, dtype=np.float64)
    return (w > 0).astype(np.float64) - (w < 0).astype(np.float64)


def l2_derivative(weights):
    return np.array(weights, dtype=np.float64)


DERIVATIVES = {"L1": l1_derivative, "L2": l2_derivative}


def regularized_update(weights, gradient, learning_rate, rate, kind):
    w = np.asarray(weights, dtype=np.float64)
    g = np.asarray(gradient, dtype=np.float64)
    if kind is None:
        return w - learning_rate * g
    d = DERIVATIVES[kind](w)
    new = w - learning_rate * g - learning_rate * rate * d
    if kind == "L1":
        middle = w - learning_rate * g
        new = np.where(middle * new < 0, 0.0, new)
    return new
