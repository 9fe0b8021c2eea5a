"""Train configurations with a student's functions, and find which one is to blame."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.experiments.lockstep import train_in_lockstep
from grader.playground.binding import COMPONENTS, Binding, BindingError
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import RunResult
from grader.playground.features import ALL_FEATURES
from grader.playground.rng import Seed


def component_function(binding: Binding, component: str, config: TrainConfig) -> str:
    """The student's function behind a component in this configuration."""
    return binding.qualname(component, config.activation)


def experiment_binding(assignment) -> Binding:
    """The manifest's [experiments.components], checked against its grid and the
    functions its submissions declare (a mistake is the course's: AssignmentError)."""
    from grader.assignment import AssignmentError

    settings = assignment.settings.get("experiments", {})
    try:
        binding = Binding.from_table(settings.get("components", {}))
    except BindingError as error:
        raise AssignmentError(f"{assignment.root / 'assignment.toml'}: {error}") from None
    missing = binding.missing_from(assignment.modules, {
        e.config.activation for e in experiment_grid(settings)})
    if missing:
        raise AssignmentError(
            f"{assignment.root / 'assignment.toml'}: [experiments.components] binds "
            f"{missing}, which [submission.modules] does not list")
    return binding


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


def train_with_submission(
    call_many, groups: Mapping[Any, Sequence[tuple[TrainConfig, Seed]]], *,
    binding: Binding,
    reference: Mapping[Any, Sequence[str]] | None = None,
    eval_epochs: Collection[int] | None = None,
) -> dict[Any, list[RunResult] | BaseException]:
    """Train each group's runs with the student's functions, all groups in
    lockstep; reference[key] names components of that group served by the
    engine's reference instead. A group whose training hit a student error (or
    a result the engine cannot use) gets that error instead of results.
    eval_epochs: the 0-based epochs whose losses are computed (None: all)."""
    return train_in_lockstep(call_many, groups, binding=binding, reference=reference,
                             eval_epochs=eval_epochs)


def suspects(binding: Binding) -> list[str]:
    """The components that can be to blame, in the engine's order: the bound ones."""
    return [name for name in COMPONENTS if name in binding.bound]


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
