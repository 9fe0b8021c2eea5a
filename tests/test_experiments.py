"""Training with a student's functions: lockstep round trips, the grid, blame."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from bindings import DAY65

from grader.experiments.lockstep import StudentCalls
from grader.experiments.run import (
    ROUNDED_DIFFERENTLY,
    experiment_grid,
    train_with_submission,
)
from grader.playground.calls import answer_with
from grader.playground.components import PLAYGROUND, PlaygroundComponents
from grader.playground.config import TrainConfig
from grader.playground.engine import ComponentError, train
from grader.playground.features import ALL_FEATURES
from grader.worker.errors import StudentException

SPIRAL = TrainConfig(dataset="spiral", features=ALL_FEATURES, hidden=(8,), epochs=2,
                     batch_size=25)

FUNCTIONS = {
    ("activations", name): (lambda n: lambda z: PLAYGROUND.activation(n, z, False)[0])(name)
    for name in ("tanh", "relu", "sigmoid", "linear")
} | {
    ("activations", f"{name}_derivative"):
        (lambda n: lambda z: PLAYGROUND.activation(n, z, True)[1])(name)
    for name in ("tanh", "relu", "sigmoid", "linear")
} | {
    ("regularization", "regularized_update"):
        lambda w, g, lr, rate, kind: PLAYGROUND.regularized_update([w], [g], lr, rate, kind)[0],
    ("minibatch", "minibatches"): lambda n, b: PLAYGROUND.minibatches(n, b),
}


class FakeWorker:
    """call_many served in-process, counting round trips."""

    def __init__(self, broken: str | None = None) -> None:
        self.round_trips = 0
        self.broken = broken
        self.lock = threading.Lock()

    def call_many(self, calls):
        with self.lock:
            self.round_trips += 1
        out = []
        for module, function, args, *_ in calls:
            if function == self.broken:
                out.append(StudentException("exception", function=f"{module}.{function}",
                                            exc_type="ValueError", exc_message="broken"))
            else:
                out.append(FUNCTIONS[(module, function)](*args))
        return out


def test_lockstep_sends_one_round_trip_per_step_for_all_trainings():
    worker = FakeWorker()
    configs = [dataclasses.replace(SPIRAL, activation=a) for a in ("tanh", "relu", "sigmoid")]
    groups = {c.activation: [(c, 1), (c, 2)] for c in configs}
    results = train_with_submission(worker.call_many, groups, binding=DAY65)
    # per epoch: 10 steps, each an activation with the previous step's update (checked
    # one round trip late), + 1 loss evaluation; + 1 batching call
    assert worker.round_trips == 2 * (10 + 1) + 1
    for c in configs:
        expected = train(groups[c.activation])
        for got, want in zip(results[c.activation], expected, strict=True):
            np.testing.assert_allclose(got.curve, want.curve, rtol=0, atol=1e-12)


def test_a_failing_group_does_not_stop_the_others():
    worker = FakeWorker(broken="relu_derivative")
    groups = {a: [(dataclasses.replace(SPIRAL, activation=a), 0)] for a in ("tanh", "relu")}
    results = train_with_submission(worker.call_many, groups, binding=DAY65)
    assert isinstance(results["relu"], StudentException)
    # Both trained in the same arrays; tanh's runs go on, unharmed.
    np.testing.assert_allclose(results["tanh"][0].curve, train(groups["tanh"])[0].curve,
                               rtol=0, atol=1e-12)


def test_one_update_call_carries_every_layer_as_one_flat_array():
    weights = [np.arange(6.0).reshape(1, 2, 3), np.arange(3.0).reshape(1, 3, 1)]
    grads = [np.ones((1, 2, 3)), np.ones((1, 3, 1))]
    calls, assemble = StudentCalls(DAY65).translate(
        "regularized_update", (weights, grads, 0.5, 0.0, "L2"))
    (call,) = calls
    assert call[:2] == ("regularization", "regularized_update")
    assert call[2][0].shape == (9,) and call[2][2:] == (0.5, 0.0, "L2")
    new = assemble([call[2][0] - 0.5 * call[2][1]])
    assert [n.shape for n in new] == [(1, 2, 3), (1, 3, 1)]
    np.testing.assert_array_equal(new[0], weights[0] - 0.5)


def test_an_update_of_the_wrong_shape_is_a_component_error_naming_the_flat_shape():
    weights, grads = [np.zeros((1, 2, 3))], [np.zeros((1, 2, 3))]
    _, assemble = StudentCalls(DAY65).translate("regularized_update", (weights, grads, 1, 0, "L1"))
    with pytest.raises(ComponentError, match=r"returned \(5,\) for an input of shape \(6,\)"):
        assemble([np.zeros(5)])


def test_without_regularization_the_engine_steps_and_asks_no_update():
    """Exercises without regularization need no regularized_update: a student who has
    not written it yet still trains them (their checks do not depend on it)."""
    worker = FakeWorker(broken="regularized_update")
    plain, l2 = SPIRAL, dataclasses.replace(SPIRAL, regularization="L2",
                                           regularization_rate=0.01)
    results = train_with_submission(worker.call_many, {0: [(plain, 1)], 1: [(l2, 1)]},
                                    binding=DAY65)
    np.testing.assert_array_equal(results[0][0].curve, train([(plain, 1)])[0].curve)
    assert isinstance(results[1], StudentException)
    assert StudentCalls(DAY65).translate("regularized_update", (
        [np.ones((1, 2))], [np.ones((1, 2))], 0.1, 0.0, None))[0] == []

    def call(module, function, args):  # the worker's side (record_trajectory)
        if function == "regularized_update":
            raise AssertionError("asked for the update without regularization")
        return FUNCTIONS[(module, function)](*args)

    (new,) = answer_with(call, DAY65)("regularized_update",
                               ([np.ones((1, 2))], [np.ones((1, 2))], 0.5, 0.0, None))
    np.testing.assert_array_equal(new, np.full((1, 2), 0.5))


def test_reference_components_are_not_asked_of_the_student():
    z = np.linspace(-2, 2, 6).reshape(1, 2, 3)
    calls, assemble = StudentCalls(DAY65, ["activation"]).translate("activation", ("tanh", z, True))
    assert [c[1] for c in calls] == ["tanh_derivative"]
    out, der = assemble([np.full(z.shape, 7.0)])
    np.testing.assert_array_equal(out, PLAYGROUND.activation("tanh", z, False)[0])
    assert (der == 7.0).all()


def test_configs_that_differ_in_activation_and_regularization_share_round_trips():
    worker = FakeWorker()
    configs = [dataclasses.replace(SPIRAL, activation="relu"),
               dataclasses.replace(SPIRAL, regularization="L1", regularization_rate=0.03),
               dataclasses.replace(SPIRAL, regularization="L2", regularization_rate=0.01,
                                   learning_rate=0.3)]
    groups = {i: [(c, 3)] for i, c in enumerate(configs)}
    results = train_with_submission(worker.call_many, groups, binding=DAY65)
    assert worker.round_trips == 2 * (10 + 1) + 1
    for i, c in enumerate(configs):
        np.testing.assert_allclose(results[i][0].curve, train([(c, 3)])[0].curve,
                                   rtol=0, atol=1e-12)


def test_experiment_grid_expands_exercises_in_order():
    grid = experiment_grid({
        "base": {"dataset": "spiral", "features": "all", "hidden": [8]},
        "exercise": {
            "7": {"fixed": {"learning_rate": 1}, "vary": {"activation": ["tanh", "relu"]}},
            "5": {"fixed": {"learning_rate": 0.03}, "vary": {"batch_size": [1, 5]}},
        },
    })
    assert [(e.exercise, e.config.activation, e.config.batch_size) for e in grid] == [
        (5, "tanh", 1), (5, "tanh", 5), (7, "tanh", 10), (7, "relu", 10)]
    assert grid[0].config.features == ALL_FEATURES and grid[0].config.hidden == (8,)


def test_rounded_differently_is_correct_but_not_bitwise_identical():
    runs = [(dataclasses.replace(SPIRAL, activation="sigmoid", learning_rate=1), 0)]
    a, b = train(runs)[0], train(runs, components=ROUNDED_DIFFERENTLY)[0]
    diff = np.abs(a.curve - b.curve).max()
    assert 0 < diff < 1e-9


class ScalarRoundedDifferently(type(ROUNDED_DIFFERENTLY)):
    scalar_hyperparameters = True


def test_an_update_that_rounds_differently_is_used_not_the_speculated_one():
    # The student's update replaces the engine's assumption whenever they differ in
    # a single bit; the training is then exactly the one with the student's update.
    other = ScalarRoundedDifferently()
    worker = FakeWorker()
    worker_update = FUNCTIONS[("regularization", "regularized_update")]
    try:
        FUNCTIONS[("regularization", "regularized_update")] = (
            lambda w, g, lr, rate, kind: other.regularized_update([w], [g], lr, rate, kind)[0])
        config = dataclasses.replace(SPIRAL, regularization="L2", regularization_rate=0.01,
                                     learning_rate=0.3)
        got = train_with_submission(worker.call_many, {0: [(config, 4)]}, binding=DAY65)[0][0]
    finally:
        FUNCTIONS[("regularization", "regularized_update")] = worker_update
    mixed = type("Mixed", (PlaygroundComponents,), {
        "scalar_hyperparameters": True, "regularized_update": other.regularized_update})()
    want = train([(config, 4)], components=mixed)[0]
    assert got.curve.tobytes() == want.curve.tobytes()
    assert all(a.tobytes() == b.tobytes() for a, b in zip(got.weights, want.weights,
                                                          strict=True))
    # and it differs from the engine's own training: the check had something to catch
    own = train([(config, 4)])[0]
    assert any(a.tobytes() != b.tobytes() for a, b in zip(got.weights, own.weights,
                                                          strict=True))
    assert worker.round_trips > 2 * (10 + 1) + 1  # mismatches cost a repeat each


def test_losses_are_computed_only_for_the_epochs_asked_and_the_last():
    config = dataclasses.replace(SPIRAL, epochs=5)
    (result,) = train_with_submission(FakeWorker().call_many, {0: [(config, 1)]}, binding=DAY65,
                                      eval_epochs={0, 2})[0]
    assert np.isfinite(result.curve[[0, 2, 4]]).all() and np.isnan(result.curve[[1, 3]]).all()
    np.testing.assert_allclose(result.curve[[0, 2, 4]], train([(config, 1)])[0].curve[[0, 2, 4]],
                               rtol=0, atol=1e-12)
