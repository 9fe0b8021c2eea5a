"""Train configurations with a student's functions, and find which one is to blame."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.experiments.lockstep import Lockstep, StudentComponents
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import RunResult, train
from grader.playground.features import ALL_FEATURES
from grader.playground.rng import Seed

# What can be swapped for the reference, one at a time, to find the culprit.
COMPONENTS = ("activation", "activation_derivative", "regularized_update", "minibatches")


def component_function(component: str, config: TrainConfig) -> str:
    """The student's function behind a component in this configuration."""
    return {
        "activation": f"activations.{config.activation}",
        "activation_derivative": f"activations.{config.activation}_derivative",
        "regularized_update": "regularization.regularized_update",
        "minibatches": "minibatch.minibatches",
    }[component]


@dataclass(frozen=True)
class Experiment:
    exercise: int
    config: TrainConfig


def experiment_grid(settings: Mapping[str, Any]) -> list[Experiment]:
    """The manifest's [experiments] table as configurations, exercise by exercise.

    [experiments.base] holds what every run shares; [experiments.exercise.N]
    has `fixed` settings and `vary`: {setting = [values]} swept as a product."""
    base = dict(settings.get("base", {}))
    if base.get("features") == "all":
        base["features"] = ALL_FEATURES
    for key in ("features", "hidden"):
        if key in base:
            base[key] = tuple(base[key])
    grid = []
    for number, spec in sorted(settings.get("exercise", {}).items(), key=lambda kv: int(kv[0])):
        vary = spec.get("vary", {})
        for combo in itertools.product(*vary.values()):
            values = {**base, **spec.get("fixed", {}), **dict(zip(vary, combo, strict=True))}
            if values.get("regularization") in ("none", ""):
                values["regularization"] = None
            grid.append(Experiment(int(number), TrainConfig(**values)))
    return grid


class MixedComponents:
    """The student's components, with some replaced by the engine's reference."""

    scalar_hyperparameters = True

    def __init__(self, student: StudentComponents, reference: Sequence[str] = ()) -> None:
        self._student = student
        self._reference = set(reference)

    def _pick(self, name: str):
        return PLAYGROUND if name in self._reference else self._student

    def activation(self, name, z, derivative):
        out, der = self._student.activation(name, z, derivative)
        if {"activation", "activation_derivative"} & self._reference:
            ref_out, ref_der = PLAYGROUND.activation(name, z, derivative)
            out = ref_out if "activation" in self._reference else out
            der = ref_der if "activation_derivative" in self._reference else der
        return out, der

    def regularized_update(self, weights, gradients, learning_rate, rate, kind):
        return self._pick("regularized_update").regularized_update(
            weights, gradients, learning_rate, rate, kind)

    def minibatches(self, n_samples, batch_size):
        return self._pick("minibatches").minibatches(n_samples, batch_size)


def train_with_submission(
    call_many, groups: Mapping[Any, Sequence[tuple[TrainConfig, Seed]]], *,
    reference: Mapping[Any, Sequence[str]] | None = None,
) -> dict[Any, list[RunResult] | BaseException]:
    """Train each group's runs with the student's functions, all groups in
    lockstep; reference[key] names components of that group served by the
    engine's reference instead. A group whose training hit a student error (or
    a result the engine cannot use) gets that error instead of results."""
    lockstep = Lockstep(call_many, len(groups))
    student = StudentComponents(lockstep)
    results: dict[Any, list[RunResult] | BaseException] = {}

    def run(key, runs) -> None:
        try:
            mixed = MixedComponents(student, (reference or {}).get(key, ()))
            results[key] = train(runs, components=mixed)
        except Exception as error:  # a student error or ComponentError: this group only
            results[key] = error
        finally:
            lockstep.leave()

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in groups.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def blame(call_many, runs: Sequence[tuple[TrainConfig, Seed]], matches) -> list[str]:
    """The student's functions responsible for a failed experiment: those whose
    replacement by the reference (one at a time) makes `matches(results)` true."""
    trials = train_with_submission(call_many, {name: runs for name in COMPONENTS},
                                   reference={name: [name] for name in COMPONENTS})
    return [component_function(name, runs[0][0]) for name, result in trials.items()
            if not isinstance(result, BaseException) and matches(result)]


class RoundedDifferently(type(PLAYGROUND)):
    """Playground's functions computed another correct way: np.tanh, sigmoid from
    tanh, the update's two steps in another order of operations. Training with
    them shows how far rounding alone moves the early losses of a config."""

    def activation(self, name, z, derivative):
        if name == "tanh":
            out = np.tanh(z)
            return out, (1 - out**2 if derivative else None)
        if name == "sigmoid":
            out = 0.5 * (1 + np.tanh(0.5 * z))
            return out, (out - out * out if derivative else None)
        return super().activation(name, z, derivative)

    def regularized_update(self, weights, gradients, learning_rate, rate, kind):
        updated = []
        for w, g in zip(weights, gradients, strict=True):
            d = np.sign(w) if kind == "L1" else w if kind == "L2" else 0.0
            stepped = w - g * learning_rate
            new = stepped - (rate * d) * learning_rate
            if kind == "L1":
                new = np.where(stepped * new < 0, 0.0, new)
            updated.append(new)
        return updated


ROUNDED_DIFFERENTLY = RoundedDifferently()
