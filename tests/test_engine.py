"""Engine behaviour beyond the oracle: vectorization, divergence, components, findings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from grader.playground.components import PLAYGROUND, PlaygroundComponents
from grader.playground.config import TrainConfig
from grader.playground.engine import ComponentError, _row_groups, stack_groups, train
from grader.playground.features import ALL_FEATURES

SPIRAL = TrainConfig(dataset="spiral", features=ALL_FEATURES, hidden=(8,), epochs=20)


def with_(config: TrainConfig, **changes) -> TrainConfig:
    return dataclasses.replace(config, **changes)


def test_a_run_is_the_same_alone_or_inside_a_vectorized_group():
    alone = train([(SPIRAL, 7)])[0]
    together = train([(SPIRAL, s) for s in range(12)])[7]
    np.testing.assert_array_equal(alone.curve, together.curve)


def test_configs_differing_in_rates_train_together_like_apart():
    configs = [with_(SPIRAL, learning_rate=lr, regularization="L2", regularization_rate=r)
               for lr, r in [(0.03, 0.001), (0.3, 0.01), (1, 0)]]
    together = train([(c, 1) for c in configs])
    for config, result in zip(configs, together, strict=True):
        assert result.config == config
        np.testing.assert_array_equal(result.curve, train([(config, 1)])[0].curve)


class OneSettingPerCall(PlaygroundComponents):
    """Rates as plain numbers, as a student's functions take them: one update call per
    distinct setting of a stack."""

    scalar_hyperparameters = True


def test_a_stack_orders_its_runs_so_that_each_update_setting_is_one_slice():
    settings = [("L2", 0.3, 0.01), (None, 1.0, 0.0), ("L1", 0.3, 0.003), (None, 0.3, 0.0)]
    runs = [(with_(SPIRAL, epochs=4, activation=a, regularization=kind, learning_rate=lr,
                   regularization_rate=rate), seed)
            for seed in (0, 1) for kind, lr, rate in settings for a in ("relu", "tanh")]
    (stack,) = stack_groups([config for config, _ in runs])
    ordered = [runs[i][0] for i in stack]
    groups = _row_groups([(c.learning_rate, c.regularization_rate, c.regularization)
                          for c in ordered])
    assert len(groups) == 4 and all(isinstance(rows, slice) for _, rows, _ in groups)
    # and the order changes no number: each run as it trains alone
    together = train(runs, components=OneSettingPerCall())
    for run, result in zip(runs, together, strict=True):
        alone = train([run], components=OneSettingPerCall())[0]
        assert result.config == run[0] and result.seed == run[1]
        np.testing.assert_array_equal(result.curve, alone.curve)
        for a, b in zip(result.weights + result.biases, alone.weights + alone.biases,
                        strict=True):
            np.testing.assert_array_equal(a, b)


def test_rows_are_a_slice_when_they_are_one_range_and_indices_otherwise():
    groups = _row_groups(["a", "a", "b", "a"])
    assert [(v, n) for v, _, n in groups] == [("a", 3), ("b", 1)]
    assert groups[0][1].tolist() == [0, 1, 3] and groups[1][1] == slice(2, 3)
    assert _row_groups(["x"] * 3) == [("x", slice(None), 3)]


def test_results_come_back_in_the_order_given_across_groups():
    runs = [(with_(SPIRAL, activation=a), s) for s in (1, 2) for a in ("relu", "tanh")]
    results = train(runs)
    assert [(r.config.activation, r.seed) for r in results] == [
        (c.activation, s) for c, s in runs]


def test_same_seed_same_curve():
    a, b = train([(SPIRAL, 3)])[0], train([(SPIRAL, 3)])[0]
    np.testing.assert_array_equal(a.curve, b.curve)


def test_divergence_is_reported_per_run_without_warnings_and_others_go_on():
    # pyproject turns warnings into errors: an overflow warning would fail this test.
    # lr * rate > 2 makes each L2 step multiply weights by |1 - 30|: inf, then NaN.
    # Both configs share a shape, so they train in the same arrays.
    blowing_up = with_(SPIRAL, learning_rate=10, regularization="L2", regularization_rate=3)
    calm = with_(SPIRAL, learning_rate=0.03, regularization="L2", regularization_rate=0.001)
    results = train([(blowing_up, 1), (calm, 1), (blowing_up, 2)])
    for r in (results[0], results[2]):
        assert r.diverged_at is not None and 1 <= r.diverged_at <= 20
        assert np.isnan(r.curve[r.diverged_at - 1:]).all()
        assert np.isfinite(r.curve[:r.diverged_at - 1]).all()
    assert results[1].diverged_at is None and np.isfinite(results[1].curve).all()
    np.testing.assert_array_equal(results[1].curve, train([(calm, 1)])[0].curve)


def test_zero_epochs_gives_an_empty_curve():
    result = train([(with_(SPIRAL, epochs=0), 1)])[0]
    assert result.curve.shape == (0, 2)


def test_no_hidden_layer_trains():
    result = train([(with_(SPIRAL, hidden=()), 1)])[0]
    assert np.isfinite(result.curve).all() and result.curve[-1, 0] < result.curve[0, 0] + 1


class CountingComponents(PlaygroundComponents):
    def __init__(self):
        self.calls = {"activation": 0, "regularized_update": 0, "minibatches": 0}

    def activation(self, name, z, derivative):
        self.calls["activation"] += 1
        return super().activation(name, z, derivative)

    def regularized_update(self, *args):
        self.calls["regularized_update"] += 1
        return super().regularized_update(*args)

    def minibatches(self, n, b):
        self.calls["minibatches"] += 1
        return super().minibatches(n, b)


def test_components_are_called_a_few_times_per_step_on_whole_arrays():
    counting = CountingComponents()
    config = with_(SPIRAL, epochs=2)
    train([(config, s) for s in range(16)], components=counting)
    steps = 2 * 250 // 10
    # one activation call per step (output and derivative together), one update
    # per step for all layers, one forward per epoch for the losses, one batching.
    assert counting.calls == {"activation": steps + 2, "regularized_update": steps,
                              "minibatches": 1}


class Broken(PlaygroundComponents):
    def __init__(self, what):
        self.what = what

    def activation(self, name, z, derivative):
        out, der = super().activation(name, z, derivative)
        return (out[..., :1], der) if self.what == "shape" else (out, der)

    def minibatches(self, n, b):
        if self.what == "batches":
            return [np.arange(0, n - 1)]
        return super().minibatches(n, b)

    def regularized_update(self, weights, *rest):
        if self.what == "update":
            return list(weights)[:1]
        return super().regularized_update(weights, *rest)


@pytest.mark.parametrize("what", ["shape", "batches", "update"])
def test_bad_component_results_raise_component_error(what):
    with pytest.raises(ComponentError):
        train([(SPIRAL, 1)], components=Broken(what))


def test_builtin_activation_derivatives():
    z = np.array([-1e300, -2.0, 0.0, 2.0, 1e300])
    with np.errstate(all="ignore"):  # the engine always trains under this
        for name in ("tanh", "relu", "sigmoid", "linear"):
            out, der = PLAYGROUND.activation(name, z, True)
            assert np.isfinite(out).all() and np.isfinite(der).all(), name
    assert PLAYGROUND.activation("relu", np.array([0.0]), True)[1][0] == 0  # relu'(0) = 0


def test_builtin_regularized_update_rules():
    w = np.array([0.5, -0.5, 0.001, 0.0])
    g = np.zeros(4)
    (l1,) = PLAYGROUND.regularized_update([w], [g], 0.1, 0.1, "L1")
    # 0.001 would cross zero: it becomes exactly 0; 0 stays 0 (derivative 0 at 0)
    np.testing.assert_array_equal(l1, [0.49, -0.49, 0.0, 0.0])
    (l2,) = PLAYGROUND.regularized_update([w], [g], 0.1, 0.1, "L2")
    np.testing.assert_allclose(l2, w * (1 - 0.01))
    # the derivative is taken before the gradient step
    (step,) = PLAYGROUND.regularized_update([np.array([0.05])], [np.array([1.0])], 0.1, 1, "L1")
    # 0.05 - 0.1 = -0.05, then the L1 step uses sign(0.05) = +1: -0.15, no flip.
    # (A derivative taken after the step, sign(-0.05), would have given 0.)
    assert step[0] == pytest.approx(-0.15)


def _median_test_loss(config, seeds=16):
    results = train([(config, s) for s in range(seeds)])
    return float(np.median([r.final[1] for r in results]))


HANDOUT = with_(SPIRAL, epochs=500, batch_size=10)


@pytest.mark.slow
def test_exercise7_only_sigmoid_converges_at_learning_rate_1():
    fast = with_(HANDOUT, learning_rate=1)
    assert _median_test_loss(with_(fast, activation="sigmoid")) < 0.15
    assert _median_test_loss(with_(fast, activation="tanh")) > 0.3
    assert _median_test_loss(with_(fast, activation="relu")) > 0.3


@pytest.mark.slow
def test_exercise6_learning_rate_3_does_not_converge():
    assert _median_test_loss(with_(HANDOUT, learning_rate=3)) > 0.4


@pytest.mark.slow
def test_exercise8_l1_at_003_fails_where_l2_at_0003_converges():
    base = with_(HANDOUT, learning_rate=0.3)
    assert _median_test_loss(with_(base, regularization="L1", regularization_rate=0.03)) > 0.4
    assert _median_test_loss(with_(base, regularization="L2", regularization_rate=0.003)) < 0.1


def test_jobs_spread_runs_over_processes_with_identical_results():
    runs = [(with_(SPIRAL, epochs=5, activation=a), s) for a in ("tanh", "relu") for s in range(3)]
    done = []
    serial = train(runs)
    parallel = train(runs, jobs=2, progress=done.append)
    for a, b in zip(serial, parallel, strict=True):
        assert (a.config, a.seed) == (b.config, b.seed)
        np.testing.assert_array_equal(a.curve, b.curve)
    assert sum(done) == 6 * 5
