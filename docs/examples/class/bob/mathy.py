"""A correct demo submission."""

import numpy as np


def square(x):
    x = np.asarray(x, dtype=np.float64)
    return x + x


def safe_div(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    safe = np.where(b == 0, 1.0, b)
    return np.where(b == 0, 0.0, a / safe)
