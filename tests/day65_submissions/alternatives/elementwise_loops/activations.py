"""Alternative (correct): scalar math functions applied elementwise with np.vectorize."""

import math

import numpy as np


def _scalar_sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _elementwise(scalar_function, z):
    z = np.asarray(z, dtype=np.float64)
    return np.vectorize(scalar_function, otypes=[np.float64])(z)


def sigmoid(z):
    return _elementwise(_scalar_sigmoid, z)


def sigmoid_derivative(z):
    return _elementwise(lambda x: _scalar_sigmoid(x) * (1.0 - _scalar_sigmoid(x)), z)


def tanh(z):
    return _elementwise(math.tanh, z)


def tanh_derivative(z):
    return _elementwise(lambda x: 1.0 - math.tanh(x) ** 2, z)


def relu(z):
    return _elementwise(lambda x: x if x > 0 else 0.0, z)


def relu_derivative(z):
    return _elementwise(lambda x: 1.0 if x > 0 else 0.0, z)


def linear(z):
    return _elementwise(lambda x: x, z)


def linear_derivative(z):
    return _elementwise(lambda x: 1.0, z)
