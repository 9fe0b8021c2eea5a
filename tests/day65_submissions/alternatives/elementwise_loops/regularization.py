"""Alternative (correct): regularized_update one weight at a time with np.nditer."""

import numpy as np


def l1_penalty(weights):
    total = 0.0
    for w in np.asarray(weights, dtype=np.float64).flat:
        total += abs(float(w))
    return total


def l2_penalty(weights):
    total = 0.0
    for w in np.asarray(weights, dtype=np.float64).flat:
        total += 0.5 * float(w) * float(w)
    return total


def _l1_der(w):
    if w > 0:
        return 1.0
    if w < 0:
        return -1.0
    return 0.0


def l1_derivative(weights):
    w = np.asarray(weights, dtype=np.float64)
    out = np.zeros(w.shape)
    for index in np.ndindex(w.shape):
        out[index] = _l1_der(w[index])
    return out


def l2_derivative(weights):
    w = np.asarray(weights, dtype=np.float64)
    out = np.empty(w.shape)
    for index in np.ndindex(w.shape):
        out[index] = w[index]
    return out


def regularized_update(weights, gradient, learning_rate, rate, kind):
    if kind not in ("L1", "L2", None):
        raise ValueError(f"kind must be 'L1', 'L2' or None, not {kind!r}")
    w_in = np.asarray(weights, dtype=np.float64)
    g_in = np.asarray(gradient, dtype=np.float64)
    out = np.empty(w_in.shape)
    flags = ["zerosize_ok"]  # empty weights are fine: nothing to update
    ops = [["readonly"], ["readonly"], ["writeonly"]]
    with np.nditer([w_in, g_in, out], flags=flags, op_flags=ops) as it:
        for w, g, new in it:
            w, g = float(w), float(g)
            if kind == "L1":
                der = _l1_der(w)
            elif kind == "L2":
                der = w
            else:
                der = 0.0
            w_step = w - learning_rate * g
            w_reg = w_step - learning_rate * rate * der
            if kind == "L1" and w_step * w_reg < 0:
                w_reg = 0.0
            new[...] = w_reg
    return out
