"""Which of a student's functions serve the engine's components: the
[experiments.components] table of an assignment's manifest.

    [experiments.components]
    activation = "activations.{activation}"
    activation_derivative = "activations.{activation}_derivative"
    regularized_update = "regularization.regularized_update"
    minibatches = "minibatch.minibatches"

Each value names a function, "module.function", where {activation} stands for the
configuration's activation (tanh, relu, sigmoid or linear). A component the table
leaves out is the engine's own (Playground's) in every training of the assignment.
The signatures are the engine's (components.py): activation(z) and its derivative
take the layer's total input; regularized_update(weights, gradients,
learning_rate, rate, kind) one flat array of every weight; minibatches(n_samples,
batch_size) returns a list of index arrays.

This file runs in the grader and, with the rest of grader.playground, inside the
student's worker (the binding crosses as its table): standard library only.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

COMPONENTS = ("activation", "activation_derivative", "regularized_update", "minibatches")
ACTIVATION = "activation"  # the one placeholder a name may use


class BindingError(ValueError):
    """The table is wrong: the course's mistake, said to the course author."""


@dataclass(frozen=True)
class Binding:
    targets: tuple[tuple[str, str], ...]  # (component, "module.function" template), sorted

    @classmethod
    def from_table(cls, table: Mapping[str, object]) -> Binding:
        if not isinstance(table, Mapping):
            raise BindingError("[experiments.components] must be a table")
        unknown = sorted(set(table) - set(COMPONENTS))
        if unknown:
            raise BindingError(f"[experiments.components] has unknown components {unknown}; "
                               f"the engine's are {list(COMPONENTS)}")
        for component, target in table.items():
            if not isinstance(target, str) or target.count(".") != 1 or not all(
                    part.replace("{activation}", "x").isidentifier()
                    for part in target.split(".")):
                raise BindingError(f"[experiments.components] {component} = {target!r}: "
                                   f"expected \"module.function\"")
            names = {name for _, name, _, _ in string.Formatter().parse(target) if name}
            if names - {ACTIVATION} or (ACTIVATION in names and not component.startswith(
                    "activation")):
                raise BindingError(f"[experiments.components] {component} = {target!r}: only "
                                   f"the activation's functions may use {{{ACTIVATION}}}")
        return cls(tuple(sorted((str(c), str(t)) for c, t in table.items())))

    def to_table(self) -> dict[str, str]:
        return dict(self.targets)

    @property
    def bound(self) -> frozenset[str]:
        """The components the student's functions serve."""
        return frozenset(component for component, _ in self.targets)

    @property
    def unbound(self) -> frozenset[str]:
        return frozenset(COMPONENTS) - self.bound

    def qualname(self, component: str, activation: str = "") -> str:
        """"module.function" of the student's function behind `component`."""
        return dict(self.targets)[component].format(activation=activation)

    def function(self, component: str, activation: str = "") -> tuple[str, str]:
        module, function = self.qualname(component, activation).split(".")
        return module, function

    def functions(self, activations: Iterable[str]) -> list[str]:
        """Every function the trainings of these activations call, "module.function"."""
        activations = sorted(set(activations))
        return sorted({self.qualname(component, activation)
                       for component in self.bound
                       for activation in (activations if component.startswith("activation")
                                          else [""])})

    def missing_from(self, modules: Mapping[str, Iterable[str]],
                     activations: Iterable[str]) -> list[str]:
        """The bound functions the submission's declared modules do not list."""
        declared = {f"{module}.{f}" for module, functions in modules.items() for f in functions}
        return [name for name in self.functions(activations) if name not in declared]
