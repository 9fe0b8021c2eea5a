"""Alternative (correct): sigmoid on a clipped input; Python floats in give Python floats out."""

import math

import numpy as np

CLIP = 500.0  # exp(500) is about 1.4e217: far from overflow, and sigmoid(500) == 1.0


def _is_number(z):
    return isinstance(z, float)


def sigmoid(z):
    if _is_number(z):
        z = min(max(z, -CLIP), CLIP)
        return 1.0 / (1.0 + math.exp(-z))
    z = np.clip(np.asarray(z, dtype=np.float64), -CLIP, CLIP)
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    if _is_number(z):
        return math.tanh(z)
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_derivative(z):
    t = tanh(z)
    return 1.0 - t ** 2


def relu(z):
    if _is_number(z):
        return z if z > 0 else 0.0
    return np.clip(np.asarray(z, dtype=np.float64), 0.0, None)


def relu_derivative(z):
    if _is_number(z):
        return 1.0 if z > 0 else 0.0
    return np.asarray(np.asarray(z, dtype=np.float64) > 0, dtype=np.float64)


def linear(z):
    if _is_number(z):
        return z
    return np.array(z, dtype=np.float64)


def linear_derivative(z):
    if _is_number(z):
        return 1.0
    return np.ones(np.shape(z), dtype=np.float64)
