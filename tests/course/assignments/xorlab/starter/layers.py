"""XOR lab: the hidden layer's activations and their derivatives.

XOR 練習：隱藏層的啟動函數與它們的導數。

Every function takes z, a float64 NumPy array of any shape, and returns a new
float64 array of z's shape. Check your work with:  hwgrade check xorlab
"""

import numpy as np  # noqa: F401 - you will need it


def act_relu(z):
    """max(z, 0), elementwise."""
    raise NotImplementedError


def d_relu(z):
    """ReLU's slope at z: 1 where z > 0, else 0."""
    raise NotImplementedError


def act_sigmoid(z):
    """1 / (1 + exp(-z)), without overflow for any finite z."""
    raise NotImplementedError


def d_sigmoid(z):
    """s * (1 - s) with s = act_sigmoid(z)."""
    raise NotImplementedError
