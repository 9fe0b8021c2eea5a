"""XOR lab's experiments: Playground's XOR trained with the student's layers and step."""

import pytest

from grader.experiments.exercises import ExperimentChecks


def observed(exercise, median):
    if exercise == 1:  # ReLU learns XOR faster than sigmoid at this rate
        return median(activation="relu") < median(activation="sigmoid")
    if exercise == 2:  # strong weight decay holds the network back
        return median(regularization_rate=0.1) > median(regularization_rate=0.001)
    return None


checks = ExperimentChecks(__file__, observed=observed)
start_early = checks.start_early
experiments = checks.fixture()


@pytest.mark.points(4)
@pytest.mark.depends("act_relu_values", "d_relu_values", "act_sigmoid_values",
                     "d_sigmoid_values")
def test_exercise1_first_epochs(experiments):
    """Exercise 1 (activation): your functions train like the reference (first epochs)"""
    checks.first_epochs(experiments, 1)


@pytest.mark.points(4)
@pytest.mark.depends("step_l2")
def test_exercise2_first_epochs(experiments):
    """Exercise 2 (weight decay): your functions train like the reference (first epochs)"""
    checks.first_epochs(experiments, 2)


@checks.long_training
@pytest.mark.points(3)
@pytest.mark.depends("exercise1_first_epochs")
def test_exercise1_all_epochs(experiments):
    """Exercise 1 (activation): after 60 epochs your results match the reference's spread"""
    checks.distribution(experiments, 1)


@checks.long_training
@pytest.mark.points(3)
@pytest.mark.depends("exercise2_first_epochs")
def test_exercise2_all_epochs(experiments):
    """Exercise 2 (weight decay): after 60 epochs your results match the reference's spread"""
    checks.distribution(experiments, 2)
