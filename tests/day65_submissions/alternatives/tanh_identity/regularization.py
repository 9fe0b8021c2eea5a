"""Alternative (correct): penalties with np.dot, the update in one expression."""

import numpy as np


def l1_penalty(weights):
    return float(np.abs(np.asarray(weights, dtype=np.float64)).sum())


def l2_penalty(weights):
    flat = np.asarray(weights, dtype=np.float64).ravel()
    return float(np.dot(flat, flat)) / 2


def l1_derivative(weights):
    return np.sign(np.asarray(weights, dtype=np.float64))


def l2_derivative(weights):
    return np.asarray(weights, dtype=np.float64) * 1.0


def regularized_update(weights, gradient, learning_rate, rate, kind):
    w = np.asarray(weights, dtype=np.float64)
    g = np.asarray(gradient, dtype=np.float64)
    if kind is None:
        return w - learning_rate * g
    if kind == "L1":
        der = l1_derivative(w)
    elif kind == "L2":
        der = l2_derivative(w)
    else:
        raise ValueError("unknown regularization " + repr(kind))
    after_gradient = w - learning_rate * g
    result = np.asarray(after_gradient - learning_rate * rate * der)  # 0-d: still an array
    if kind == "L1":
        result[after_gradient * result < 0] = 0.0
    return result
