"""Experiment checks: an assignment's [experiments] grid trained with the student's
functions, verified, and judged against the reference's calibration.

A check module builds one ExperimentChecks from its manifest and declares its checks
with it (assignments/day65/checks/test_experiments.py is the worked example):

    checks = ExperimentChecks(__file__, observed=observed)
    start_early = checks.start_early     # the 500-epoch training starts before the checks
    experiments = checks.fixture()       # the grid, trained once, shared by the checks

    @pytest.mark.points(5)
    def test_exercise5_first_epochs(experiments):
        checks.first_epochs(experiments, 5)

    @checks.long_training
    @pytest.mark.points(4)
    @pytest.mark.depends("exercise5_first_epochs")
    def test_exercise5_500_epochs(experiments):
        checks.distribution(experiments, 5)

- First epochs (the trainings' first block, verified before the rest, so that a wrong
  function fails fast): the losses must equal the reference run's with the same seed
  to 1e-9. Training on the spiral is chaotic: at learning rate 1 and above, rounding
  alone (np.tanh against a tanh built from exp) moves the loss by 1e-6 after two epochs
  and by 0.1 after three. So each epoch's tolerance is the larger of 1e-9 and 1000
  times the distance between two correct references that round differently; a wrong
  function shows up long before that.
- All epochs: the final test losses are judged as a distribution against the
  reference solution's calibration runs (reference.json, grader/experiments/
  distribution.py).

The exercise's title and the handout's observation are the assignment's messages
`experiments.exercise<N>` and `experiments.observation<N>`; whether the observation
holds is `observed(exercise, median)`, the assignment's rule, where median(**setting)
is the median final test loss of the exercise's configuration with that setting.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from grader.checks import fail
from grader.experiments import distribution, report
from grader.experiments.training import Experiments
from grader.i18n import GRADER, joined, messages_near
from grader.playground.engine import ComponentError, RunResult
from grader.worker.errors import StudentCodeError, Unverified

LONG_TIME_LIMIT = 600  # seconds: the training behind every long check runs in the first

Observed = Callable[[int, Callable[..., float]], "bool | None"]


def msg(message_id: str, **params):
    return GRADER(f"checks.experiments.{message_id}", **params)


class ExperimentChecks:
    """The experiment checks of one check module (its file locates the assignment's
    catalog); instance state carries the training from start_early to the fixture."""

    def __init__(self, module_file: str, *, observed: Observed | None = None) -> None:
        self._messages = messages_near(module_file)
        self._observed = observed
        self._long: set[str] = set()
        self._started: Experiments | None = None

    def long_training(self, check):
        """A check that needs the whole training: left out by --quick, and it starts the
        training early. The training runs once, in the first such check that runs."""
        self._long.add(check.__name__.removeprefix("test_"))
        return pytest.mark.long(pytest.mark.time_limit(LONG_TIME_LIMIT)(check))

    def start_early(self, submission, assignment, checks: list[str]):
        """Before the first check (grader/checks/plugin.py): when long checks will run,
        their training starts in second workers, beside the function checks."""
        if not self._long.intersection(checks):
            return None
        self._started = Experiments(submission, assignment)
        return self._started.start_student()

    def fixture(self):
        """The module-scoped `experiments` fixture; at its end each exercise's entry
        goes to the report."""

        @pytest.fixture(scope="module", name="experiments")
        def experiments(submission, assignment, record_experiment):
            found, self._started = self._started, None
            found = found or Experiments(submission, assignment)
            yield found
            for entry in self.report(found):
                record_experiment(entry)

        return experiments

    def first_epochs(self, experiments: Experiments, exercise: int) -> None:
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
            fail(msg("first_epochs_off", config=_describe(config),
                     seed=experiments.seeds[run], epoch=epoch + 1),
                 expected=msg("losses", train=repr(float(ref[0])), test=repr(float(ref[1]))),
                 actual=msg("losses", train=repr(float(mine[0])), test=repr(float(mine[1]))),
                 function=culprits[0] if len(culprits) == 1 else None,
                 hint=_culprit_hint(culprits))

    def distribution(self, experiments: Experiments, exercise: int) -> None:
        student = experiments.student()
        keys = experiments.keys(exercise)
        failing = []
        stopped = [key for key in keys if isinstance(student[key], BaseException)]
        for key in keys:
            if key in stopped:
                continue  # judged below, after the others (the report shows their verdicts)
            verdict = distribution.judge(_finals(student[key]),
                                         experiments.reference[key]["final_test_runs"])
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
        # largest batches): a whole training more per bound component each.
        suspects = sorted(failing, key=lambda k: -experiments.grid[k].config.batch_size)[:2]
        culprits = experiments.blame(
            suspects, lambda k: experiments.runs[k],
            lambda k, results: distribution.judge(
                _finals(results), experiments.reference[k]["final_test_runs"]).passed,
            verified=True)
        fail(msg("distribution_off", config=_describe(experiments.grid[key].config),
                 outside=verdict.outside, runs=verdict.runs, epochs=experiments.epochs,
                 reference_runs=len(experiments.reference[key]["final_test_runs"])),
             expected=msg("band", low=f"{max(verdict.low, 0):.3f}", high=f"{verdict.high:.3f}"),
             actual=msg("yours", median=_fmt(summary["median"]), p10=_fmt(summary["p10"]),
                        p90=_fmt(summary["p90"]), diverged=summary["diverged"]),
             function=culprits[0] if len(culprits) == 1 else None,
             hint=_culprit_hint(culprits))

    def report(self, experiments: Experiments) -> list[dict]:
        """result.experiments: one entry per exercise (see grader/experiments/report.py)."""
        if experiments.trained is None:  # no long training (--quick): nothing to compare
            return []
        student = experiments.trained
        entries = []
        for exercise in sorted({e.exercise for e in experiments.grid}):
            keys = experiments.keys(exercise)
            varied = experiments.varied[exercise]
            configs, trained = [], {}
            for key in keys:
                config = experiments.grid[key].config
                got = student.get(key)
                if got is not None and not isinstance(got, BaseException):
                    trained[key] = got
                verdict = experiments.verdicts.get(key)
                configs.append({
                    "label": report.config_label(config, varied),
                    "config": config.to_dict(),
                    "seeds": experiments.seeds,
                    "student": report.student_summary(got) if key in trained else None,
                    "reference": report.reference_summary(experiments.reference[key]),
                    "within": None if verdict is None else verdict.passed,
                })
            mine = {key: c["student"]["median"] for key, c in zip(keys, configs, strict=True)
                    if c["student"] is not None}
            theirs = {key: experiments.reference[key]["final_test"]["median"] for key in keys}
            entries.append({
                "exercise": exercise,
                "title": self._messages(f"experiments.exercise{exercise}"),
                "varied": varied[-1],
                "observation": {
                    "text": self._messages(f"experiments.observation{exercise}"),
                    "reproduced": self._holds(experiments, exercise, mine),
                    "reproduced_by_reference": self._holds(experiments, exercise, theirs),
                },
                "passed": experiments.passed.get(exercise),
                "configs": configs,
                "boundary": _boundary(trained, configs, keys),
            })
        return entries

    def _holds(self, experiments: Experiments, exercise: int,
               medians: dict[int, float | None]) -> bool | None:
        """Whether the handout's observation holds for these median final test losses
        (None: the assignment states no rule, or a configuration it reads did not train)."""
        if self._observed is None:
            return None
        keys = experiments.keys(exercise)

        def median(**setting) -> float:
            (key,) = [k for k in keys if all(getattr(experiments.grid[k].config, name) == value
                                             for name, value in setting.items())]
            if medians.get(key) is None:
                raise LookupError(key)
            return medians[key]

        try:
            return self._observed(exercise, median)
        except (LookupError, ValueError):
            return None


def _boundary(trained: dict[int, list[RunResult]], configs: list[dict], keys: list[int]):
    """The first seed's network of the configuration that ended best, as a heat map."""
    ranked = [(c["student"]["median"], key, c["label"])
              for key, c in zip(keys, configs, strict=True)
              if key in trained and c["student"]["median"] is not None]
    if not ranked:
        return None
    _, key, label = min(ranked)
    return report.boundary(trained[key][0], label)


def _describe(config):
    if config.regularization:
        return msg("config_regularized", activation=config.activation,
                   learning_rate=f"{config.learning_rate:g}", batch_size=config.batch_size,
                   regularization=config.regularization, rate=f"{config.regularization_rate:g}")
    return msg("config", activation=config.activation,
               learning_rate=f"{config.learning_rate:g}", batch_size=config.batch_size)


def _training_failed(got: BaseException, config) -> None:
    if isinstance(got, Unverified):
        fail(got.message, function=got.function, hint=msg("unverified_hint"))
    if isinstance(got, StudentCodeError):
        raise got
    if isinstance(got, ComponentError):
        fail(msg("stopped", config=_describe(config), reason=str(got)), hint=msg("stopped_hint"))
    raise got


def _culprit_hint(culprits: list[str]):
    if culprits:
        return msg("culprits", functions=joined(culprits, " / "))
    return msg("no_single_culprit")


def _first_difference(curves, reference, tolerance):
    """(run index, epoch, student curve row, reference row) of the first loss off by more
    than its tolerance, or None."""
    for index, (mine, ref) in enumerate(zip(curves, reference, strict=True)):
        close = np.isclose(mine, ref, rtol=0, atol=0, equal_nan=True) | (
            np.abs(mine - ref) <= tolerance[index])
        if not close.all():
            epoch = int(np.argwhere(~close.all(axis=1))[0][0])
            return index, epoch, mine[epoch], ref[epoch]
    return None


def _finals(results: list[RunResult]) -> list[float | None]:
    return [None if r.diverged_at is not None else r.final[1] for r in results]


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
