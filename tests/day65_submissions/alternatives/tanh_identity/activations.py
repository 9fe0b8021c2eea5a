"""Alternative (correct): sigmoid through tanh, 0.5 * (1 + tanh(z / 2))."""

import numpy as np


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_derivative(z):
    t = tanh(z)
    return (1.0 - t) * (1.0 + t)


def relu(z):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z, 0.0)


def relu_derivative(z):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, 0.0)


def linear(z):
    return np.asarray(z, dtype=np.float64).copy()


def linear_derivative(z):
    return np.ones(np.shape(z))
