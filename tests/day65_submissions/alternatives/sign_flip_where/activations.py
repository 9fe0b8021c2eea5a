"""Alternative (correct): sigmoid with np.logaddexp, everything through np.where."""

import numpy as np


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    # log(sigmoid(z)) = -log(1 + exp(-z)) = -logaddexp(0, -z), exact for huge |z|
    return np.exp(-np.logaddexp(0.0, -z))


def sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1 - s)


def tanh(z):
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_derivative(z):
    th = tanh(z)
    return 1 - th * th


def relu(z):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z < 0, 0.0, z)


def relu_derivative(z):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z <= 0, 0.0, 1.0)


def linear(z):
    return np.where(True, np.asarray(z, dtype=np.float64), 0.0)


def linear_derivative(z):
    return np.where(True, 1.0, np.asarray(z, dtype=np.float64))
