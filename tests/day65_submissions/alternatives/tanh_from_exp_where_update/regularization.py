"""An alternative correct solution: the update elementwise with np.where, in another order.

Penalties and derivatives per weight follow TensorFlow Playground
(src/nn.ts, RegularizationFunction): L1 is |w| with derivative sign(w)
(0 at 0), L2 is w^2 / 2 with derivative w. Biases are never regularized;
that is the caller's business, not this module's.
"""

import numpy as np

KINDS = ("L1", "L2", None)


def l1_penalty(weights):
    """sum of |w|, as a Python float (0.0 for no weights)."""
    return float(np.sum(np.abs(np.asarray(weights, dtype=np.float64))))


def l2_penalty(weights):
    """0.5 * sum of w^2, as a Python float (0.0 for no weights)."""
    w = np.asarray(weights, dtype=np.float64)
    return 0.5 * float(np.sum(w * w))


def l1_derivative(weights):
    """sign(w) elementwise: -1 for w < 0, 0 at w == 0 (Playground's choice), +1 for w > 0."""
    return np.asarray(np.sign(np.asarray(weights, dtype=np.float64)))


def l2_derivative(weights):
    """w elementwise, as a new float64 array."""
    return np.array(weights, dtype=np.float64)


def regularized_update(weights, gradient, learning_rate, rate, kind):
    """Playground's rule with the regularization step first computed as its own term
    and every case chosen with np.where (no Python branch on the weights)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be 'L1', 'L2' or None, not {kind!r}")
    w = np.asarray(weights, dtype=np.float64)
    g = np.asarray(gradient, dtype=np.float64)
    d = np.sign(w) if kind == "L1" else (w if kind == "L2" else np.zeros_like(w))
    stepped = w - learning_rate * g
    shrink = learning_rate * rate * d
    new = stepped - shrink
    crossed = (stepped * new < 0) if kind == "L1" else np.zeros(w.shape, dtype=bool)
    return np.asarray(np.where(crossed, 0.0, new))
