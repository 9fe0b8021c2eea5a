"""An alternative correct solution: the update's terms in another order.

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
    """The weights after one update step, by Playground's rule (src/nn.ts, updateWeights).

    1. d = regularization derivative at the weights as given (before the step);
    2. w = weights - learning_rate * gradient            (gradient step);
    3. w_new = w - learning_rate * rate * d              (regularization step);
    4. L1 only: where w and w_new have opposite signs (the regularization step
       pushed the weight across zero) the weight becomes exactly 0.
    kind is "L1", "L2" or None (the gradient step alone). Returns a new float64
    array of the weights' shape; weights and gradient are not modified.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be 'L1', 'L2' or None, not {kind!r}")
    w = np.asarray(weights, dtype=np.float64)
    stepped = w - learning_rate * np.asarray(gradient, dtype=np.float64)
    if kind is None:
        return np.asarray(stepped)
    d = l1_derivative(w) if kind == "L1" else l2_derivative(w)  # taken before the step
    new = stepped - (rate * d) * learning_rate  # the same product, rounded in another order
    if kind == "L1":
        # Playground: a weight the L1 step moves across zero is set to 0 (the link dies).
        new = np.where(stepped * new < 0, 0.0, new)
    return np.asarray(new)
