"""Exercises 5-8 of the handout, trained by the grader's engine with your functions.

Your activations, regularized_update and minibatches (the manifest's
[experiments.components]) are plugged into the engine and every configuration of the
handout's grid ([experiments.exercise.N]) trains from seeds 0-7, in grading workers of
their own; the grader believes none of it until it has recomputed every epoch with
your functions (grader/experiments/exercises.py says how each check judges).

- First epochs: the losses must equal the reference run's with the same seed to 1e-9
  (more where rounding alone moves them, at learning rate 1 and above).
- 500 epochs: the final test losses are judged as a distribution against the
  reference solution's calibration runs (reference.json).

The report beside the checks shows, per exercise, your results next to the
reference's and whether the handout's observation (observed() below) is reproduced.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from grader.experiments.exercises import ExperimentChecks


def observed(exercise: int, median: Callable[..., float]) -> bool | None:
    """Whether the handout's observation holds; median(**setting) is the median final
    test loss of the exercise's configuration with that setting."""
    if exercise == 5:  # a very small batch: unstable, but better on average
        return min(median(batch_size=1), median(batch_size=5)) < median(batch_size=25)
    if exercise == 6:  # up to 0.3 it converges; above 1 it fails to
        return (min(median(learning_rate=lr) for lr in (0.03, 0.1, 0.3)) < 0.2
                and median(learning_rate=3) > 0.4)
    if exercise == 7:  # at learning rate 1 only sigmoid still converges well
        return (median(activation="sigmoid") < 0.15 and median(activation="tanh") > 0.3
                and median(activation="relu") > 0.3)
    if exercise == 8:  # a larger rate stops convergence, L1 more than L2
        return median(regularization="L1", regularization_rate=0.03) > 0.4 and all(
            median(regularization="L1", regularization_rate=r)
            > median(regularization="L2", regularization_rate=r) for r in (0.003, 0.01, 0.03))
    return None


checks = ExperimentChecks(__file__, observed=observed)
start_early = checks.start_early
experiments = checks.fixture()


@pytest.mark.points(5)
@pytest.mark.depends("tanh_values", "tanh_derivative_values", "minibatches_in_order")
def test_exercise5_batch_size_first_epochs(experiments):
    """Exercise 5 (batch size): your functions train like the reference (first epochs)"""
    checks.first_epochs(experiments, 5)


@pytest.mark.points(5)
@pytest.mark.depends("tanh_values", "tanh_derivative_values", "minibatches_in_order")
def test_exercise6_learning_rate_first_epochs(experiments):
    """Exercise 6 (learning rate): your functions train like the reference (first epochs)"""
    checks.first_epochs(experiments, 6)


@pytest.mark.points(5)
@pytest.mark.depends("minibatches_in_order")
def test_exercise7_activation_first_epochs(experiments):
    """Exercise 7 (activation): your functions train like the reference (first epochs)"""
    checks.first_epochs(experiments, 7)


@pytest.mark.points(5)
@pytest.mark.depends("regularized_update_l1", "regularized_update_l2", "minibatches_in_order")
def test_exercise8_regularization_first_epochs(experiments):
    """Exercise 8 (regularization): your functions train like the reference (first epochs)"""
    checks.first_epochs(experiments, 8)


@checks.long_training
@pytest.mark.points(4)
@pytest.mark.depends("exercise5_batch_size_first_epochs")
def test_exercise5_batch_size_500_epochs(experiments):
    """Exercise 5 (batch size): after 500 epochs your results match the reference's spread"""
    checks.distribution(experiments, 5)


@checks.long_training
@pytest.mark.points(4)
@pytest.mark.depends("exercise6_learning_rate_first_epochs")
def test_exercise6_learning_rate_500_epochs(experiments):
    """Exercise 6 (learning rate): after 500 epochs your results match the reference's spread"""
    checks.distribution(experiments, 6)


@checks.long_training
@pytest.mark.points(4)
@pytest.mark.depends("exercise7_activation_first_epochs")
def test_exercise7_activation_500_epochs(experiments):
    """Exercise 7 (activation): after 500 epochs your results match the reference's spread"""
    checks.distribution(experiments, 7)


@checks.long_training
@pytest.mark.points(3)
@pytest.mark.depends("exercise8_regularization_first_epochs")
def test_exercise8_regularization_500_epochs(experiments):
    """Exercise 8 (regularization): after 500 epochs your results match the reference's spread"""
    checks.distribution(experiments, 8)
