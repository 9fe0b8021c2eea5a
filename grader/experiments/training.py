"""An assignment's experiment grid trained with a student's functions, once, for the
experiment checks (grader/experiments/exercises.py), with the reference's data.

Every configuration of the manifest's grid trains from every seed in two grading
workers of their own; the grader believes none of it until it has recomputed every
epoch of every run with the student's functions and found the same numbers
(grader/experiments/verify.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from grader.experiments import distribution, report
from grader.experiments.run import (
    ROUNDED_DIFFERENTLY,
    component_function,
    experiment_binding,
    experiment_grid,
    suspects,
    train_with_submission,
)
from grader.experiments.verify import VerifiedTraining
from grader.playground.engine import RunResult, train

TOLERANCE = 1e-9  # absolute, on each epoch's train and test loss
CHAOS_FACTOR = 1000  # how much more than rounding alone a correct function may move a loss
TRAINERS = 2  # workers training the grid: the second core while the checks run, both after

Results = dict[int, "list[RunResult] | BaseException"]


class Experiments:
    """The grid trained once with the student's functions (by the first check that asks),
    the reference data, and what the checks found, for the report."""

    def __init__(self, submission, assignment) -> None:
        self._submission = submission
        settings = assignment.settings["experiments"]
        self.binding = experiment_binding(assignment)
        self.seeds = list(settings["seeds"])
        self.early_epochs = int(settings["early_epochs"])
        self.epochs = int(settings["epochs"])
        self.grid = [dataclasses.replace(e, config=dataclasses.replace(
            e.config, epochs=self.epochs)) for e in experiment_grid(settings)]
        # What each exercise varies, in the manifest's order: a configuration's label.
        self.varied = {int(number): tuple(spec.get("vary", {}))
                       for number, spec in settings.get("exercise", {}).items()}
        self.runs = {key: [(e.config, seed) for seed in self.seeds]
                     for key, e in enumerate(self.grid)}
        self.reference = reference_entries(assignment.root, self.grid)
        self.verdicts: dict[int, distribution.Verdict] = {}
        self.passed: dict[int, bool] = {}  # exercise -> its long check passed
        # Losses where a check or the report reads them: the first epochs, every
        # report.CURVE_EVERY-th, and the last (the engine always adds it).
        self.evaluated = set(range(self.early_epochs)) | set(
            range(report.CURVE_EVERY - 1, self.epochs, report.CURVE_EVERY))
        self.trained: Results | None = None  # the whole training, once a check asked
        self._training: VerifiedTraining | None = None
        self._early_trained: Results | None = None
        self._early = None

    def keys(self, exercise: int) -> list[int]:
        return [key for key, e in enumerate(self.grid) if e.exercise == exercise]

    def _verified(self, trainers: int, groups, **options) -> VerifiedTraining:
        return VerifiedTraining([self._submission.sibling() for _ in range(trainers)],
                                groups, binding=self.binding, **options)

    def start_student(self) -> Callable[[], None]:
        """Start the whole training's worker side now, in second workers, so that it
        runs while the other checks use the first; returns what closes it. Its first
        block is the first epochs, which the first-epoch checks read."""
        self._training = self._verified(TRAINERS, self.runs, eval_epochs=self.evaluated,
                                        first_block=self.early_epochs)
        return self._training.close

    def student(self) -> Results:
        if self.trained is None:
            if self._training is None:
                self.start_student()
            with self._submission.fast_lane():
                self.trained = self._training.results(self._submission)
        return self.trained

    def student_early(self) -> Results:
        """The first epochs alone: the whole training's first block when it runs, else a
        training of the first epochs only."""
        if self._early_trained is None:
            training = self._training or self._verified(
                1, {key: self.early_runs(key) for key in self.runs},
                first_block=self.early_epochs)
            try:
                with self._submission.fast_lane():
                    self._early_trained = training.early(self._submission)
            finally:
                if training is not self._training:
                    training.close()
        return self._early_trained

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
        """The student's functions whose replacement by the reference, one component at
        a time, makes every key in `keys` match (all keys of one exercise at once).
        verified: trained in a worker and verified (whole trainings), else in lockstep."""
        parts = suspects(self.binding)
        groups = {(key, part): runs(key) for key in keys for part in parts}
        reference = {g: [g[1]] for g in groups}
        with self._submission.fast_lane():
            if verified:
                training = self._verified(1, groups, reference=reference, eval_epochs=set())
                try:
                    trials = training.results(self._submission)
                finally:
                    training.close()
            else:
                trials = train_with_submission(self._submission.call_many, groups,
                                               binding=self.binding, reference=reference)
        found = []
        for part in parts:
            results = [trials[(key, part)] for key in keys]
            if all(not isinstance(r, BaseException) and matches(key, r)
                   for key, r in zip(keys, results, strict=True)):
                # e.g. activations.relu and activations.sigmoid, when both were swapped
                found += sorted({component_function(self.binding, part, self.grid[key].config)
                                 for key in keys})
        return found


def reference_entries(root: Path, grid) -> list[dict]:
    """reference.json's entries in grid order; a stale file is the course's mistake."""
    data = json.loads((root / "reference.json").read_text(encoding="utf-8"))
    entries = data["experiments"]
    for entry, experiment in zip(entries, grid, strict=True):
        if entry["config"] != experiment.config.to_dict():
            raise RuntimeError(f"reference.json does not match the manifest's grid at "
                               f"{entry['config']}: run `hwgrade calibrate`")
    return entries
