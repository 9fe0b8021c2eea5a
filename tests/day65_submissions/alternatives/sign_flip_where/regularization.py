"""Alternative (correct): the L1 zero clip as np.where on a sign flip, no multiplication."""

import numpy as np


def l1_penalty(weights):
    return float(np.add.reduce(np.abs(np.asarray(weights, dtype=np.float64)), axis=None))


def l2_penalty(weights):
    w = np.asarray(weights, dtype=np.float64)
    return 0.5 * float(np.vdot(w, w))  # vdot flattens any shape


def l1_derivative(weights):
    w = np.asarray(weights, dtype=np.float64)
    return np.where(w > 0, 1.0, np.where(w < 0, -1.0, 0.0))


def l2_derivative(weights):
    return np.asarray(weights, dtype=np.float64).copy()


def regularized_update(weights, gradient, learning_rate, rate, kind):
    weights = np.asarray(weights, dtype=np.float64)
    if kind == "L1":
        reg = l1_derivative(weights)
    elif kind == "L2":
        reg = l2_derivative(weights)
    elif kind is None:
        reg = np.zeros_like(weights)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    moved = weights - learning_rate * np.asarray(gradient, dtype=np.float64)
    new = moved - learning_rate * rate * reg
    if kind == "L1":
        flipped = np.sign(moved) == -np.sign(new)
        new = np.where(flipped & (moved != 0), 0.0, new)
    return new
