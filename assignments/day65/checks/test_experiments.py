"""Exercises 5-8 of the handout, trained by the grader's engine with your functions.

Your activations, regularized_update and minibatches are plugged into the
engine and every configuration of the handout's grid trains from seeds 0-7.
The trainings run in two grading workers of their own; the grader believes
none of it until it has recomputed every epoch of every run with your
functions and found the same numbers (grader/experiments/verify.py).

- First epochs (the trainings' first block, verified before the rest, so that
  a wrong function fails fast):
  the losses must equal the reference run's with the same seed to 1e-9.
  Training on the spiral is chaotic: at learning rate 1 and above, rounding
  alone (np.tanh against a tanh built from exp) moves the loss by 1e-6
  after two epochs and by 0.1 after three. So each epoch's tolerance is the
  larger of 1e-9 and 1000 times the distance between two correct references
  that round differently; a wrong function shows up long before that.
- 500 epochs: the final test losses are judged as a distribution against the
  reference solution's calibration runs (grader/experiments/distribution.py).

The report beside the checks shows, per exercise, your results next to the
reference's and whether the handout's observation is reproduced.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import numpy as np
import pytest

from grader.checks import fail
from grader.experiments import distribution, report
from grader.experiments.lockstep import COMPONENTS
from grader.experiments.run import (
    ROUNDED_DIFFERENTLY,
    component_function,
    experiment_grid,
    train_with_submission,
)
from grader.experiments.verify import VerifiedTraining
from grader.i18n import joined, messages_near
from grader.playground.engine import ComponentError, RunResult, train
from grader.worker.errors import StudentCodeError, Unverified

msg = messages_near(__file__)

TOLERANCE = 1e-9  # absolute, on each epoch's train and test loss
CHAOS_FACTOR = 1000  # how much more than rounding alone a correct function may move a loss
VARIED = {5: ("batch_size",), 6: ("learning_rate",), 7: ("activation",),
          8: ("regularization", "regularization_rate")}


class Experiments:
    """The grid trained once with the student's functions (by the first check that
    asks), the reference data, and what the checks found, for the report."""

    def __init__(self, submission, assignment) -> None:
        self._submission = submission
        settings = assignment.settings["experiments"]
        self.seeds = list(settings["seeds"])
        self.early_epochs = int(settings["early_epochs"])
        self.epochs = int(settings["epochs"])
        self.grid = [dataclasses.replace(e, config=dataclasses.replace(
            e.config, epochs=int(settings["epochs"]))) for e in experiment_grid(settings)]
        self.runs = {key: [(e.config, seed) for seed in self.seeds]
                     for key, e in enumerate(self.grid)}
        self.reference = _reference_entries(assignment, self.grid)
        self.verdicts: dict[int, distribution.Verdict] = {}
        self.passed: dict[int, bool] = {}  # exercise -> its 500-epoch check passed
        # Losses where a check or the report reads them: the first epochs, every
        # report.CURVE_EVERY-th, and the last (the engine always adds it).
        self.evaluated = set(range(self.early_epochs)) | set(
            range(report.CURVE_EVERY - 1, self.epochs, report.CURVE_EVERY))
        self._training: VerifiedTraining | None = None
        self._student = None
        self._student_early = None
        self._early = None

    def keys(self, exercise: int) -> list[int]:
        return [key for key, e in enumerate(self.grid) if e.exercise == exercise]

    def start_student(self) -> Callable[[], None]:
        """Start the 500-epoch training's worker side now, in a second worker, so that
        it runs while the other checks use the first; returns what closes it. Its
        first block is the first epochs, which the first-epoch checks read."""
        # Two trainers: they use the second core while the checks run, and both cores
        # whenever the grader waits for their reports.
        self._training = VerifiedTraining([self._submission.sibling() for _ in range(2)],
                                          self.runs, eval_epochs=self.evaluated,
                                          first_block=self.early_epochs)
        return self._training.close

    def student(self) -> dict[int, list[RunResult] | BaseException]:
        if self._student is None:
            if self._training is None:
                self.start_student()
            with self._submission.fast_lane():
                self._student = self._training.results(self._submission)
        return self._student

    def student_early(self) -> dict[int, list[RunResult] | BaseException]:
        """The first epochs alone: the 500-epoch training's first block when it runs,
        else a training of the first epochs only."""
        if self._student_early is None:
            training = self._training
            if training is None:
                training = VerifiedTraining([self._submission.sibling()],
                                            {key: self.early_runs(key) for key in self.runs},
                                            first_block=self.early_epochs)
            try:
                with self._submission.fast_lane():
                    self._student_early = training.early(self._submission)
            finally:
                if training is not self._training:
                    training.close()
        return self._student_early

    def early_runs(self, key: int) -> list:
        return [(dataclasses.replace(config, epochs=self.early_epochs), seed)
                for config, seed in self.runs[key]]

    def early_reference(self):
        """Per key: the reference's first-epoch curves and each loss's tolerance."""
        if self._early is None:
            self._early = {}
            runs = [run for key in self.runs for run in self.early_runs(key)]  # one stacking
            reference = np.array([r.curve for r in train(runs)])
            other = np.array([r.curve for r in train(runs, components=ROUNDED_DIFFERENTLY)])
            spread = np.nan_to_num(np.abs(reference - other))
            tolerance = np.maximum(TOLERANCE, CHAOS_FACTOR * spread)
            start = 0
            for key in self.runs:
                end = start + len(self.runs[key])
                self._early[key] = reference[start:end], tolerance[start:end]
                start = end
        return self._early

    def blame(self, keys: list[int], runs: Callable[[int], list],
              matches: Callable[[int, list[RunResult]], bool], *, verified=False
              ) -> list[str]:
        """The student's functions whose replacement by the reference, one at a
        time, makes every key in `keys` match (all keys of one exercise at once).
        verified: trained in a worker and verified (500 epochs), else in lockstep."""
        groups = {(key, part): runs(key) for key in keys for part in COMPONENTS}
        reference = {g: [g[1]] for g in groups}
        with self._submission.fast_lane():
            if verified:
                training = VerifiedTraining([self._submission.sibling()], groups,
                                            reference=reference, eval_epochs=set())
                try:
                    trials = training.results(self._submission)
                finally:
                    training.close()
            else:
                trials = train_with_submission(self._submission.call_many, groups,
                                               reference=reference)
        found = []
        for part in COMPONENTS:
            results = [trials[(key, part)] for key in keys]
            if all(not isinstance(r, BaseException) and matches(key, r)
                   for key, r in zip(keys, results, strict=True)):
                # e.g. activations.relu and activations.sigmoid, when both were swapped
                found += sorted({component_function(part, self.grid[key].config)
                                 for key in keys})
        return found

    def report(self) -> list[dict]:
        """result.experiments: one entry per exercise (see grader/experiments/report.py)."""
        if self._student is None:  # no 500-epoch training (--quick): nothing to compare
            return []
        student = self._student
        entries = []
        for exercise in sorted({e.exercise for e in self.grid}):
            keys = self.keys(exercise)
            configs, trained = [], {}
            for key in keys:
                config = self.grid[key].config
                got = student.get(key)
                if got is not None and not isinstance(got, BaseException):
                    trained[key] = got
                verdict = self.verdicts.get(key)
                configs.append({
                    "label": report.config_label(config, VARIED[exercise]),
                    "config": config.to_dict(),
                    "seeds": self.seeds,
                    "student": report.student_summary(got) if key in trained else None,
                    "reference": report.reference_summary(self.reference[key]),
                    "within": None if verdict is None else verdict.passed,
                })
            entries.append({
                "exercise": exercise,
                "title": msg(f"experiments.exercise{exercise}"),
                "varied": VARIED[exercise][-1],
                "observation": {
                    "text": msg(f"experiments.observation{exercise}"),
                    "reproduced": _observed(exercise, self.grid, keys, {
                        key: c["student"]["median"] for key, c in zip(keys, configs, strict=True)
                        if c["student"] is not None}),
                    "reproduced_by_reference": _observed(exercise, self.grid, keys, {
                        key: self.reference[key]["final_test"]["median"] for key in keys}),
                },
                "passed": self.passed.get(exercise),
                "configs": configs,
                "boundary": _boundary(trained, configs, keys),
            })
        return entries


def _reference_entries(assignment, grid) -> list[dict]:
    """reference.json's entries in grid order; a stale file is the course's mistake."""
    data = json.loads((assignment.root / "reference.json").read_text(encoding="utf-8"))
    entries = data["experiments"]
    for entry, experiment in zip(entries, grid, strict=True):
        if entry["config"] != experiment.config.to_dict():
            raise RuntimeError(f"reference.json does not match the manifest's grid at "
                               f"{entry['config']}: run `hwgrade calibrate`")
    return entries


def _boundary(trained: dict[int, list[RunResult]], configs: list[dict], keys: list[int]):
    """The first seed's network of the configuration that ended best, as a heat map."""
    ranked = [(c["student"]["median"], key, c["label"]) for key, c in zip(keys, configs,
                                                                             strict=True)
              if key in trained and c["student"]["median"] is not None]
    if not ranked:
        return None
    _, key, label = min(ranked)
    return report.boundary(trained[key][0], label)


def _observed(exercise: int, grid, keys: list[int], medians: dict[int, float]) -> bool | None:
    """Whether the handout's observation holds for these median final test losses."""
    def m(**setting) -> float:
        (key,) = [k for k in keys if all(getattr(grid[k].config, name) == value
                                         for name, value in setting.items())]
        return medians[key]

    try:
        if exercise == 5:  # a very small batch: unstable, but better on average
            return min(m(batch_size=1), m(batch_size=5)) < m(batch_size=25)
        if exercise == 6:  # up to 0.3 it converges; above 1 it fails to
            return (min(m(learning_rate=lr) for lr in (0.03, 0.1, 0.3)) < 0.2
                    and m(learning_rate=3) > 0.4)
        if exercise == 7:  # at learning rate 1 only sigmoid still converges well
            return (m(activation="sigmoid") < 0.15 and m(activation="tanh") > 0.3
                    and m(activation="relu") > 0.3)
        if exercise == 8:  # a larger rate stops convergence, L1 more than L2
            return m(regularization="L1", regularization_rate=0.03) > 0.4 and all(
                m(regularization="L1", regularization_rate=r)
                > m(regularization="L2", regularization_rate=r) for r in (0.003, 0.01, 0.03))
    except (KeyError, ValueError):  # a configuration did not train
        return None
    return None


def _describe(config):
    if config.regularization:
        return msg("experiments.config_regularized", activation=config.activation,
                   learning_rate=f"{config.learning_rate:g}", batch_size=config.batch_size,
                   regularization=config.regularization,
                   rate=f"{config.regularization_rate:g}")
    return msg("experiments.config", activation=config.activation,
               learning_rate=f"{config.learning_rate:g}", batch_size=config.batch_size)


def _training_failed(got: BaseException, config) -> None:
    if isinstance(got, Unverified):
        fail(got.message, function=got.function, hint=msg("experiments.unverified_hint"))
    if isinstance(got, StudentCodeError):
        raise got
    if isinstance(got, ComponentError):
        fail(msg("experiments.stopped", config=_describe(config), reason=str(got)),
             hint=msg("experiments.stopped_hint"))
    raise got


def _culprit_hint(culprits: list[str]):
    if culprits:
        return msg("experiments.culprits", functions=joined(culprits, " / "))
    return msg("experiments.no_single_culprit")


_STARTED: dict[str, Experiments] = {}  # by start_early, for the fixture


def start_early(submission, assignment, checks: list[str]):
    """Before the first check (grader/checks/plugin.py): when 500-epoch checks will
    run, their training starts in a second worker, beside the function checks."""
    if not any(name.endswith("_500_epochs") for name in checks):
        return None
    _STARTED["experiments"] = found = Experiments(submission, assignment)
    return found.start_student()


@pytest.fixture(scope="module")
def experiments(submission, assignment, record_experiment):
    found = _STARTED.pop("experiments", None) or Experiments(submission, assignment)
    yield found
    for entry in found.report():
        record_experiment(entry)


def _first_difference(curves, reference, tolerance):
    """(run index, epoch, student curve row, reference row) of the first loss off
    by more than its tolerance, or None."""
    for index, (mine, ref) in enumerate(zip(curves, reference, strict=True)):
        close = np.isclose(mine, ref, rtol=0, atol=0, equal_nan=True) | (
            np.abs(mine - ref) <= tolerance[index])
        if not close.all():
            epoch = int(np.argwhere(~close.all(axis=1))[0][0])
            return index, epoch, mine[epoch], ref[epoch]
    return None


def check_first_epochs(experiments: Experiments, exercise: int) -> None:
    student = experiments.student_early()
    early = experiments.early_reference()
    for key in experiments.keys(exercise):
        config = experiments.grid[key].config
        got = student[key]
        if isinstance(got, BaseException):
            _training_failed(got, config)
        reference, tolerance = early[key]
        difference = _first_difference([r.curve for r in got], reference, tolerance)
        if difference is None:
            continue
        run, epoch, mine, ref = difference

        def matches(k, results):
            ref_k, tol_k = early[k]
            return _first_difference([r.curve for r in results], ref_k, tol_k) is None

        culprits = experiments.blame([key], experiments.early_runs, matches)
        fail(msg("experiments.first_epochs_off", config=_describe(config),
                 seed=experiments.seeds[run], epoch=epoch + 1),
             expected=msg("experiments.losses", train=repr(float(ref[0])),
                          test=repr(float(ref[1]))),
             actual=msg("experiments.losses", train=repr(float(mine[0])),
                        test=repr(float(mine[1]))),
             function=culprits[0] if len(culprits) == 1 else None,
             hint=_culprit_hint(culprits))


def _finals(results: list[RunResult]) -> list[float | None]:
    return [None if r.diverged_at is not None else r.final[1] for r in results]


def check_distribution(experiments: Experiments, exercise: int) -> None:
    student = experiments.student()
    failing = []
    stopped = [key for key in experiments.keys(exercise)
               if isinstance(student[key], BaseException)]
    for key in experiments.keys(exercise):
        got = student[key]
        if key in stopped:
            continue  # judged below, after the others (the report shows their verdicts)
        reference = experiments.reference[key]["final_test_runs"]
        verdict = distribution.judge(_finals(got), reference)
        experiments.verdicts[key] = verdict
        if not verdict.passed:
            failing.append(key)
    experiments.passed[exercise] = not failing and not stopped
    if stopped:
        _training_failed(student[stopped[0]], experiments.grid[stopped[0]].config)
    if not failing:
        return
    key = failing[0]
    verdict = experiments.verdicts[key]
    summary = report.student_summary(student[key])
    # Blame on at most two failing configurations, those with the fewest steps (the
    # largest batches): four more 500-epoch trainings each.
    suspects = sorted(failing, key=lambda k: -experiments.grid[k].config.batch_size)[:2]
    culprits = experiments.blame(
        suspects, lambda k: experiments.runs[k],
        lambda k, results: distribution.judge(
            _finals(results), experiments.reference[k]["final_test_runs"]).passed,
        verified=True)
    fail(msg("experiments.distribution_off", config=_describe(experiments.grid[key].config),
             outside=verdict.outside, runs=verdict.runs,
             reference_runs=len(experiments.reference[key]["final_test_runs"])),
         expected=msg("experiments.band", low=f"{max(verdict.low, 0):.3f}",
                      high=f"{verdict.high:.3f}"),
         actual=msg("experiments.yours", median=_fmt(summary["median"]),
                    p10=_fmt(summary["p10"]), p90=_fmt(summary["p90"]),
                    diverged=summary["diverged"]),
         function=culprits[0] if len(culprits) == 1 else None,
         hint=_culprit_hint(culprits))


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def long_training(check):
    """A 500-epoch check: left out by --quick. The training behind the last four checks
    runs once, in the first of them to run: its time limit covers the whole grid."""
    return pytest.mark.long(pytest.mark.time_limit(600)(check))


@pytest.mark.points(5)
@pytest.mark.depends("tanh_values", "tanh_derivative_values", "minibatches_in_order")
def test_exercise5_batch_size_first_epochs(experiments):
    """Exercise 5 (batch size): your functions train like the reference (first epochs)"""
    check_first_epochs(experiments, 5)


@pytest.mark.points(5)
@pytest.mark.depends("tanh_values", "tanh_derivative_values", "minibatches_in_order")
def test_exercise6_learning_rate_first_epochs(experiments):
    """Exercise 6 (learning rate): your functions train like the reference (first epochs)"""
    check_first_epochs(experiments, 6)


@pytest.mark.points(5)
@pytest.mark.depends("minibatches_in_order")
def test_exercise7_activation_first_epochs(experiments):
    """Exercise 7 (activation): your functions train like the reference (first epochs)"""
    check_first_epochs(experiments, 7)


@pytest.mark.points(5)
@pytest.mark.depends("regularized_update_l1", "regularized_update_l2", "minibatches_in_order")
def test_exercise8_regularization_first_epochs(experiments):
    """Exercise 8 (regularization): your functions train like the reference (first epochs)"""
    check_first_epochs(experiments, 8)


@long_training
@pytest.mark.points(4)
@pytest.mark.depends("exercise5_batch_size_first_epochs")
def test_exercise5_batch_size_500_epochs(experiments):
    """Exercise 5 (batch size): after 500 epochs your results match the reference's spread"""
    check_distribution(experiments, 5)


@long_training
@pytest.mark.points(4)
@pytest.mark.depends("exercise6_learning_rate_first_epochs")
def test_exercise6_learning_rate_500_epochs(experiments):
    """Exercise 6 (learning rate): after 500 epochs your results match the reference's spread"""
    check_distribution(experiments, 6)


@long_training
@pytest.mark.points(4)
@pytest.mark.depends("exercise7_activation_first_epochs")
def test_exercise7_activation_500_epochs(experiments):
    """Exercise 7 (activation): after 500 epochs your results match the reference's spread"""
    check_distribution(experiments, 7)


@long_training
@pytest.mark.points(3)
@pytest.mark.depends("exercise8_regularization_first_epochs")
def test_exercise8_regularization_500_epochs(experiments):
    """Exercise 8 (regularization): after 500 epochs your results match the reference's spread"""
    check_distribution(experiments, 8)
