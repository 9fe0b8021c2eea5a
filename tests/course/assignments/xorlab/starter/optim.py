"""XOR lab: one update of the weights.

XOR 練習：權重的一次更新。
"""


def step(weights, gradients, learning_rate, rate, kind):
    """The weights after one step: w - learning_rate * gradients, then, with kind
    "L2", minus learning_rate * rate * w (w: the weights before the step).
    kind None: no regularization (rate means nothing)."""
    raise NotImplementedError
