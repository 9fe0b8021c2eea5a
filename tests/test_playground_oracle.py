"""Tests of the Playground oracle itself (tests/playground_oracle.py), independent of grader.

The expected numbers are worked out by hand here, in the order nn.ts computes them, so a
failure points at the oracle and not at the engine it is used to check.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from playground_oracle import L1, RELU, SIGMOID, TANH, OracleResult, train_oracle

TIGHT = {"rel": 0.0, "abs": 1e-15}


def _train(x, y, xt, yt, w, b, **kw) -> OracleResult:
    params = {
        "activation": "tanh",
        "learning_rate": 0.1,
        "batch_size": 1,
        "regularization": None,
        "regularization_rate": 0.0,
        "epochs": 1,
    }
    params.update(kw)
    return train_oracle(x, y, xt, yt, w, b, **params)


def test_single_example_single_hidden_node_one_update_by_hand():
    # Network 1 -> 1 (tanh) -> 1 (tanh output), one training point, batch 1, L2: exactly one
    # updateWeights call, after one forwardProp/backProp.
    x, y = 0.5, 1.0
    w1, b1 = 0.2, 0.1  # input -> hidden
    w2, b2 = -0.3, 0.05  # hidden -> output
    lr, rr = 0.1, 0.01
    xt, yt = -1.0, -1.0  # one test point

    # forwardProp
    z1 = b1 + w1 * x
    h = math.tanh(z1)
    z2 = b2 + w2 * h
    o = math.tanh(z2)
    # backProp with the square error: dE/do = o - y, then through tanh' = 1 - tanh^2.
    d2 = (o - y) * (1 - o * o)  # dE/dz2 = dE/db2
    g_w2 = d2 * h
    d1 = (w2 * d2) * (1 - h * h)  # dE/dz1 = dE/db1 (uses w2 before the update)
    g_w1 = d1 * x
    # updateWeights, count = 1: gradient step, then the L2 step with der = weight before it.
    new_w1 = (w1 - (lr / 1) * g_w1) - (lr * rr) * w1
    new_w2 = (w2 - (lr / 1) * g_w2) - (lr * rr) * w2
    new_b1 = b1 - lr * d1 / 1  # biases are never regularized
    new_b2 = b2 - lr * d2 / 1

    def loss(xx, yy):
        out = math.tanh(new_b2 + new_w2 * math.tanh(new_b1 + new_w1 * xx))
        return 0.5 * (out - yy) ** 2

    res = _train(
        [[x]],
        [y],
        [[xt]],
        [yt],
        [[[w1]], [[w2]]],
        [[b1], [b2]],
        learning_rate=lr,
        regularization="L2",
        regularization_rate=rr,
    )
    assert res.weights[0][0][0] == pytest.approx(new_w1, **TIGHT)
    assert res.weights[1][0][0] == pytest.approx(new_w2, **TIGHT)
    assert res.biases[0][0] == pytest.approx(new_b1, **TIGHT)
    assert res.biases[1][0] == pytest.approx(new_b2, **TIGHT)
    assert len(res.curve) == 1
    assert res.curve[0][0] == pytest.approx(loss(x, y), **TIGHT)
    assert res.curve[0][1] == pytest.approx(loss(xt, yt), **TIGHT)
    assert res.dead == [[[False]], [[False]]]
    # The update really moved things (not a vacuous match).
    assert abs(new_w1 - w1) > 1e-4 and abs(new_w2 - w2) > 1e-3


def _grads(w, b, x, y):
    """dE/dw, dE/db of a no-hidden-layer net (inputs -> tanh output), square error."""
    z = b
    for wi, xi in zip(w, x, strict=True):
        z += wi * xi
    o = math.tanh(z)
    d = (o - y) * (1 - o * o)
    return [d * xi for xi in x], d


def _apply(w, b, acc_w, acc_b, n, lr):
    """updateWeights without regularization: w - (lr / n) * acc, b - lr * acc / n."""
    return [wi - (lr / n) * ai for wi, ai in zip(w, acc_w, strict=True)], b - lr * acc_b / n


def test_leftover_points_are_averaged_into_next_epochs_first_update():
    # n = 3, batch_size = 2: epoch 1 updates after points 0, 1 and leaves point 2's gradient
    # accumulated; epoch 2's first update (after its points 0, 1) averages 3 gradients.
    xs = [[1.0, -0.5], [-0.8, 0.3], [0.4, 0.9]]
    ys = [1.0, -1.0, 1.0]
    w0, b0, lr = [0.3, -0.2], 0.1, 0.5

    # Epoch 1.
    gw0, gb0 = _grads(w0, b0, xs[0], ys[0])
    gw1, gb1 = _grads(w0, b0, xs[1], ys[1])
    w1, b1 = _apply(w0, b0, [a + c for a, c in zip(gw0, gw1, strict=True)], gb0 + gb1, 2, lr)
    lw2, lb2 = _grads(w1, b1, xs[2], ys[2])  # the leftover, computed at the updated weights
    # Epoch 2: accumulate in visiting order (leftover first), divide by 3.
    hw0, hb0 = _grads(w1, b1, xs[0], ys[0])
    hw1, hb1 = _grads(w1, b1, xs[1], ys[1])
    acc_w = [(a + c) + d for a, c, d in zip(lw2, hw0, hw1, strict=True)]
    w2, b2 = _apply(w1, b1, acc_w, (lb2 + hb0) + hb1, 3, lr)
    # Epoch 2's own leftover (point 2) is accumulated but never applied.

    def loss(w, b):
        return (
            sum(
                0.5 * (math.tanh(b + w[0] * x[0] + w[1] * x[1]) - y) ** 2
                for x, y in zip(xs, ys, strict=True)
            )
            / 3
        )

    res = _train(xs, ys, xs, ys, [[w0]], [[b0]], learning_rate=lr, batch_size=2, epochs=2)
    assert res.weights[0][0] == pytest.approx(w2, **TIGHT)
    assert res.biases[0][0] == pytest.approx(b2, **TIGHT)
    assert res.curve[0][0] == pytest.approx(loss(w1, b1), **TIGHT)
    assert res.curve[1][0] == pytest.approx(loss(w2, b2), **TIGHT)
    assert res.curve[1][1] == res.curve[1][0]  # same data as test set

    # The test discriminates: dropping the leftover, or dividing by 2, gives other weights.
    dropped, _ = _apply(w1, b1, [a + c for a, c in zip(hw0, hw1, strict=True)], hb0 + hb1, 2, lr)
    by_two, _ = _apply(w1, b1, acc_w, (lb2 + hb0) + hb1, 2, lr)
    for other in (dropped, by_two):
        assert max(abs(a - c) for a, c in zip(res.weights[0][0], other, strict=True)) > 1e-3


def test_batch_larger_than_training_set_never_updates():
    # The batch counter is the point's index within the epoch, so with batch_size > n the
    # condition (i + 1) % batch_size == 0 never holds: Playground never updates.
    xs, ys = [[1.0], [-1.0], [0.5]], [1.0, -1.0, 1.0]
    res = _train(xs, ys, xs, ys, [[[0.3]]], [[0.1]], batch_size=4, epochs=3)
    assert res.weights == [[[0.3]]] and res.biases == [[0.1]]
    assert res.curve[0] == res.curve[1] == res.curve[2]


def test_l1_zero_crossing_kills_link_for_good_while_others_move():
    # Network 2 -> 1 (tanh) -> 1. Link a (input 0 -> hidden) starts at 0.0004; its input is
    # ~1e-3, so its gradient step is < 1.2e-4 while the L1 step is lr * rr = 0.001: the first
    # update crosses zero, so Playground sets it to exactly 0 and marks it dead.
    xs = [[1e-3, 0.3], [-2e-3, -0.4], [1.5e-3, 0.2], [-1e-3, -0.1]]
    ys = [1.0, -1.0, 1.0, -1.0]
    w = [[[0.0004, 0.5]], [[0.6]]]
    b = [[0.0], [0.0]]
    kw = {"learning_rate": 0.1, "regularization": "L1", "regularization_rate": 0.01}

    runs = [_train(xs, ys, xs, ys, w, b, epochs=e, **kw) for e in range(1, 5)]
    for res in runs:
        assert res.dead == [[[True, False]], [[False]]]
        assert res.weights[0][0][0] == 0.0  # exactly 0: no gradient, no L1 step once dead
    for before, after in zip(runs, runs[1:], strict=False):
        assert after.weights[0][0][1] != before.weights[0][0][1]
        assert after.weights[1][0][0] != before.weights[1][0][0]
        assert after.biases != before.biases

    # Without L1 the same link keeps moving (its gradient is not zero), so the exact 0.0
    # above is the dead-link rule and not a zero gradient.
    free = _train(xs, ys, xs, ys, w, b, epochs=4, learning_rate=0.1)
    assert free.dead == [[[False, False]], [[False]]]
    assert free.weights[0][0][0] != 0.0 and free.weights[0][0][0] != 0.0004


def test_inputs_are_not_mutated_and_outputs_are_fresh_python_floats():
    rng = np.random.default_rng(0)
    x_train = rng.uniform(-1, 1, size=(5, 3))
    y_train = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    x_test = rng.uniform(-1, 1, size=(4, 3)).tolist()
    y_test = [1, -1, -1, 1]
    weights = [rng.uniform(-0.5, 0.5, size=(2, 3)), rng.uniform(-0.5, 0.5, size=(1, 2)).tolist()]
    biases = [np.full(2, 0.1), [0.1]]
    snapshot = copy.deepcopy((x_train, y_train, x_test, y_test, weights, biases))

    res = train_oracle(
        x_train, y_train, x_test, y_test, weights, biases,
        activation="relu", learning_rate=0.3, batch_size=2,
        regularization="L1", regularization_rate=0.1, epochs=3,
    )  # fmt: skip

    for got, want in zip((x_train, y_train, x_test, y_test, weights, biases), snapshot,
                         strict=True):  # fmt: skip
        if isinstance(want, list):
            assert len(got) == len(want)
            for g, s in zip(got, want, strict=True):
                np.testing.assert_array_equal(np.asarray(g), np.asarray(s))
        else:
            np.testing.assert_array_equal(got, want)
    assert isinstance(weights[1], list) and isinstance(weights[0], np.ndarray)

    assert len(res.curve) == 3 and all(len(p) == 2 for p in res.curve)
    assert [[len(r) for r in layer] for layer in res.weights] == [[3, 3], [2]]
    assert [[len(r) for r in layer] for layer in res.dead] == [[3, 3], [2]]
    assert [len(layer) for layer in res.biases] == [2, 1]
    flat = [v for layer in res.weights for row in layer for v in row]
    flat += [v for layer in res.biases for v in layer]
    assert all(type(v) is float for v in flat)
    assert all(type(v) is bool for layer in res.dead for row in layer for v in row)
    # The result owns its lists: changing it leaves the caller's weights alone.
    res.weights[1][0][0] = 123.0
    assert weights[1][0][0] == snapshot[4][1][0][0]


def test_activation_and_l1_edge_values_match_nn_ts():
    assert SIGMOID.output(-1000.0) == 0.0  # JS: 1 / (1 + Infinity); math.exp would raise
    assert SIGMOID.der(-1000.0) == 0.0
    assert SIGMOID.output(1000.0) == 1.0
    assert RELU.der(0.0) == 0.0 and RELU.der(1e-300) == 1.0
    assert math.copysign(1.0, RELU.output(-0.0)) == 1.0  # Math.max(0, -0) is +0
    assert math.isnan(RELU.output(math.nan))  # Math.max(0, NaN) is NaN
    assert TANH.der(0.0) == 1.0
    assert (L1.der(-0.5), L1.der(0.0), L1.der(2.0)) == (-1.0, 0.0, 1.0)
    # A sigmoid network fed huge inputs trains without an OverflowError.
    res = _train([[1e6], [-1e6]], [1.0, -1.0], [[-1e6]], [-1.0], [[[1.0]], [[1.0]]],
                 [[0.1], [0.1]], activation="sigmoid", epochs=2)  # fmt: skip
    assert all(math.isfinite(v) for pair in res.curve for v in pair)


@pytest.mark.parametrize(
    "kw",
    [{"activation": "softplus"}, {"regularization": "l3"}, {"batch_size": 0}],
)
def test_rejects_bad_settings(kw):
    with pytest.raises(ValueError):
        _train([[1.0]], [1.0], [[1.0]], [1.0], [[[0.1]]], [[0.1]], **kw)
