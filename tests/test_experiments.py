"""Training with a student's functions: lockstep round trips, the grid, blame."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np

from grader.experiments.lockstep import Lockstep, StudentComponents
from grader.experiments.run import (
    ROUNDED_DIFFERENTLY,
    experiment_grid,
    train_with_submission,
)
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import train
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
    results = train_with_submission(worker.call_many, groups)
    # per epoch: 10 steps x (activation + update) + 1 loss evaluation; + 1 batching call
    assert worker.round_trips == 2 * (10 * 2 + 1) + 1
    for c in configs:
        expected = train(groups[c.activation])
        for got, want in zip(results[c.activation], expected, strict=True):
            np.testing.assert_allclose(got.curve, want.curve, rtol=0, atol=1e-12)


def test_a_failing_group_does_not_stop_the_others():
    worker = FakeWorker(broken="relu_derivative")
    groups = {a: [(dataclasses.replace(SPIRAL, activation=a), 0)] for a in ("tanh", "relu")}
    results = train_with_submission(worker.call_many, groups)
    assert isinstance(results["relu"], StudentException)
    assert not isinstance(results["tanh"], BaseException)


def test_lockstep_with_one_participant_is_a_plain_call():
    worker = FakeWorker()
    lockstep = Lockstep(worker.call_many, 1)
    (z,) = StudentComponents(lockstep).activation("tanh", np.zeros((1, 2, 3)), False)[:1]
    assert z.shape == (1, 2, 3) and worker.round_trips == 1


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
