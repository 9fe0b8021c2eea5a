"""Exercises 5-8 of the handout, trained by the grader's engine with your functions.

Your activations, regularized_update and minibatches are plugged into the
engine (through the grading worker); the first epochs must give the same
losses as the reference run with the same seeds, to 1e-9.

Training on the spiral is chaotic: at learning rate 1 and above, rounding
alone (np.tanh against a tanh built from exp) moves the loss by 1e-6 after two
epochs and by 0.1 after three. So each epoch's tolerance is the larger of 1e-9
and 1000 times the distance between two correct references that round
differently; a wrong function shows up long before that, in the first epoch
or at the small learning rates.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from grader.checks import fail
from grader.experiments.run import ROUNDED_DIFFERENTLY, experiment_grid, train_with_submission
from grader.playground.engine import ComponentError, train
from grader.worker.errors import StudentCodeError

TOLERANCE = 1e-9  # absolute, on each epoch's train and test loss
CHAOS_FACTOR = 1000  # how much more than rounding alone a correct function may move a loss


class EarlyEpochs:
    """The grid's first epochs with the student's functions and with the
    reference, computed once (by the first check that asks)."""

    def __init__(self, submission, assignment) -> None:
        self._submission = submission
        settings = assignment.settings["experiments"]
        self.grid = experiment_grid(settings)
        self.groups = {
            i: [(dataclasses.replace(e.config, epochs=settings["early_epochs"]), seed)
                for seed in settings["seeds"]]
            for i, e in enumerate(self.grid)}
        self._student = None
        self._reference = None
        self._tolerance = None

    def results(self):
        if self._student is None:
            self._student = train_with_submission(self._submission.call_many, self.groups)
            self._reference = {i: train(runs) for i, runs in self.groups.items()}
            self._tolerance = {}
            for i, runs in self.groups.items():
                other = train(runs, components=ROUNDED_DIFFERENTLY)
                spread = np.abs(np.array([r.curve for r in self._reference[i]])
                                - np.array([r.curve for r in other]))
                self._tolerance[i] = np.maximum(TOLERANCE, CHAOS_FACTOR * np.nan_to_num(spread))
        return self._student, self._reference, self._tolerance

    def blame(self, key) -> list[str]:
        from grader.experiments.run import blame

        reference, tolerance = self._reference[key], self._tolerance[key]
        return blame(self._submission.call_many, self.groups[key],
                     lambda results: _first_difference(results, reference, tolerance) is None)


def _first_difference(results, reference, tolerance):
    """(run index, epoch, student curve row, reference row) of the first loss off
    by more than its tolerance, or None."""
    for index, (mine, ref) in enumerate(zip(results, reference, strict=True)):
        close = np.isclose(mine.curve, ref.curve, rtol=0, atol=0, equal_nan=True) | (
            np.abs(mine.curve - ref.curve) <= tolerance[index])
        if not close.all():
            epoch = int(np.argwhere(~close.all(axis=1))[0][0])
            return index, epoch, mine.curve[epoch], ref.curve[epoch]
    return None


def _describe(config) -> str:
    reg = (f", {config.regularization} at {config.regularization_rate:g}"
           if config.regularization else "")
    return (f"{config.activation}, learning rate {config.learning_rate:g}, "
            f"batch size {config.batch_size}{reg}")


@pytest.fixture(scope="module")
def early(submission, assignment):
    return EarlyEpochs(submission, assignment)


def check_exercise(early: EarlyEpochs, number: int) -> None:
    student, reference, tolerance = early.results()
    for key, experiment in enumerate(early.grid):
        if experiment.exercise != number:
            continue
        got = student[key]
        if isinstance(got, StudentCodeError):
            raise got
        if isinstance(got, ComponentError):
            fail(f"training with {_describe(experiment.config)} stopped: {got}",
                 hint="A function returned something of the wrong shape or type during "
                      "training; the function checks above say which.")
        difference = _first_difference(got, reference[key], tolerance[key])
        if difference is None:
            continue
        run, epoch, mine, ref = difference
        culprits = early.blame(key)
        seed = early.groups[key][run][1]
        fail(f"with {_describe(experiment.config)} (seed {seed}), the losses after epoch "
             f"{epoch + 1} differ from the reference run",
             expected=f"train {float(ref[0])!r}, test {float(ref[1])!r}",
             actual=f"train {float(mine[0])!r}, test {float(mine[1])!r}",
             function=culprits[0] if len(culprits) == 1 else None,
             hint=("the difference goes away when the grader uses the reference "
                   + " or ".join(culprits) + " instead of yours" if culprits else
                   "more than one of your functions differs from the reference"))


@pytest.mark.points(8)
@pytest.mark.depends("tanh_values", "tanh_derivative_values", "minibatches_in_order")
def test_exercise5_batch_size_first_epochs(early):
    """Exercise 5 (batch size): your functions train like the reference (first epochs)"""
    check_exercise(early, 5)


@pytest.mark.points(9)
@pytest.mark.depends("tanh_values", "tanh_derivative_values", "minibatches_in_order")
def test_exercise6_learning_rate_first_epochs(early):
    """Exercise 6 (learning rate): your functions train like the reference (first epochs)"""
    check_exercise(early, 6)


@pytest.mark.points(9)
@pytest.mark.depends("minibatches_in_order")
def test_exercise7_activation_first_epochs(early):
    """Exercise 7 (activation): your functions train like the reference (first epochs)"""
    check_exercise(early, 7)


@pytest.mark.points(9)
@pytest.mark.depends("regularized_update_l1", "regularized_update_l2", "minibatches_in_order")
def test_exercise8_regularization_first_epochs(early):
    """Exercise 8 (regularization): your functions train like the reference (first epochs)"""
    check_exercise(early, 8)
