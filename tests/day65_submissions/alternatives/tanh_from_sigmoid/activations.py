"""An alternative correct solution: tanh written through sigmoid, tanh(z) = 2 sigmoid(2z) - 1.

Every function takes z, a NumPy float array of any shape (0-d and empty
included) or a Python float, and returns a new float64 array of z's shape;
z itself is never modified. Derivatives are taken at the pre-activation
input z, as TensorFlow Playground does (src/nn.ts, Activations).
"""

import numpy as np


def _as_float64(z):
    """z as a float64 array; no copy when it already is one (never written to)."""
    return np.asarray(z, dtype=np.float64)


def sigmoid(z):
    """1 / (1 + exp(-z)), stable for any finite z (|z| up to 1e300).

    exp is only ever taken of -|z| <= 0, so it cannot overflow: for z >= 0,
    1 / (1 + e); for z < 0, e / (1 + e) (the same value, rearranged), with
    e = exp(-|z|). Far out e underflows to exactly 0, which gives the exact
    limits 1.0 and 0.0.
    """
    z = _as_float64(z)
    with np.errstate(under="ignore"):  # exp(-1e300) is 0.0; that is the answer
        e = np.exp(-np.abs(z))
    return np.asarray(np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))


def sigmoid_derivative(z):
    """s * (1 - s) with s = sigmoid(z), at the input z (Playground's rule)."""
    s = sigmoid(z)
    return np.asarray(s * (1.0 - s))


def tanh(z):
    """tanh(z) = 2 * sigmoid(2z) - 1: the same function, rounded differently."""
    return np.asarray(2.0 * sigmoid(2.0 * _as_float64(z)) - 1.0)


def tanh_derivative(z):
    """1 - tanh(z)^2, from the tanh above."""
    t = tanh(z)
    return np.asarray(1.0 - t * t)


def relu(z):
    """max(0, z)."""
    return np.asarray(np.maximum(_as_float64(z), 0.0))


def relu_derivative(z):
    """1 where z > 0, else 0: Playground uses 0 at z == 0 (relu'(0) = 0)."""
    return np.asarray(np.greater(_as_float64(z), 0.0), dtype=np.float64)


def linear(z):
    """z itself, as a new float64 array (a copy: the caller may change it)."""
    return np.array(z, dtype=np.float64)


def linear_derivative(z):
    """1 everywhere: an array of ones of z's shape."""
    return np.ones_like(_as_float64(z))
