"""Correct ways students write the Day 65 functions, to guess a submission's rounding.

A twin training (twin.py) trains in the grader with functions that should
return exactly what the student's return, and compares the results with the
worker's training with the student's own. np.tanh and a tanh built from exp
differ in the last bits, and training is chaotic, so a wrong guess costs a
lockstep retraining (correct, but slow). So the student's functions are first
probed once, on arrays like those of a training (the update with the grid's
own rates), and each gets the first candidate here that answers the probe with
the same values (a call that loses the worker is remembered: its trainings
would end the same way). A guess only decides how fast the grading is: nothing
is trusted from it, the digests of both trainings are compared.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np

from grader.playground import components
from grader.worker.errors import StudentCodeError, StudentCrash, StudentExit, StudentTimeout

Function = Callable[..., np.ndarray]
LOST_WORKER = (StudentTimeout, StudentCrash, StudentExit)  # the call ended its process


def _naive_tanh(z):
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))


TANH: list[Function] = [np.tanh, components.tanh, _naive_tanh]


def _stable_sigmoid(z):
    # exp(-|z|) on both sides of 0 (the reference solution): the same numbers as
    # 1/(1+exp(-z)) for z >= 0 and as exp(z)/(1+exp(z)) below
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


SIGMOID: list[Function] = [
    _stable_sigmoid,
    lambda z: 1 / (1 + np.exp(-z)),  # Playground's nn.ts
    lambda z: 0.5 * (1 + np.tanh(0.5 * z)),
    lambda z: np.exp(-np.logaddexp(0.0, -z)),
]


def _stable_sigmoid_derivative(z):
    e = np.exp(-np.abs(z))  # s (1 - s) = e / (1 + e)^2, symmetric in z
    return e / (1 + e) ** 2


class FromOutput:
    """A derivative written from the function's output (1 - t**2 with t = tanh(z)):
    when `output` is also the guess for the function, its value is reused."""

    def __init__(self, output: Function, form: Callable) -> None:
        self.output, self.form = output, form

    def __call__(self, z):
        return self.form(self.output(z))


def _derivatives(outputs: Sequence[Function], forms: Sequence[Callable]) -> list[Function]:
    return [FromOutput(f, form) for f in outputs for form in forms]


CANDIDATES: dict[str, list[Function]] = {
    "tanh": TANH,
    "tanh_derivative": [*_derivatives(TANH, [lambda t: 1 - t**2, lambda t: (1 - t) * (1 + t)]),
                        lambda z: 1 / np.cosh(z) ** 2],
    "sigmoid": SIGMOID,
    "sigmoid_derivative": [
        *_derivatives(SIGMOID, [lambda s: s * (1 - s), lambda s: s - s * s]),
        _stable_sigmoid_derivative,
        lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2,
    ],
    "relu": [lambda z: np.maximum(z, 0.0)],
    "relu_derivative": [lambda z: (z > 0).astype(np.float64)],
    "linear": [lambda z: np.array(z, dtype=np.float64)],
    "linear_derivative": [np.ones_like],
}


def _update(order: Callable) -> Function:
    def update(w, g, learning_rate, rate, kind):
        d = np.sign(w) if kind == "L1" else w if kind == "L2" else 0.0
        stepped = w - learning_rate * g
        new = order(w, g, stepped, learning_rate, rate, d)
        if kind == "L1":  # the zero crossing
            new = np.where(stepped * new < 0, 0.0, new)
        return new
    return update


UPDATES: list[Function] = [
    _update(lambda w, g, stepped, lr, rate, d: stepped - lr * rate * d),  # nn.ts
    _update(lambda w, g, stepped, lr, rate, d: w - lr * (g + rate * d)),
    _update(lambda w, g, stepped, lr, rate, d: stepped - lr * (rate * d)),
    _update(lambda w, g, stepped, lr, rate, d: w - (lr * g + lr * rate * d)),
]

UPDATE = ("regularization", "regularized_update")


def same(got: Any, want: np.ndarray) -> bool:
    """Whether a student's value is the one the engine would train on in place of
    `want`: the same numbers (as float64; NaN matching NaN, -0.0 matching 0.0)."""
    return (type(got) is np.ndarray and got.shape == want.shape and got.dtype.kind in "fiub"
            and np.array_equal(got.astype(np.float64, copy=False), want, equal_nan=True))


class Guess:
    """For each student function, the candidate that answered the probe like it;
    `lost`: the probe calls that lost the worker (a function that did not return, or
    killed its process), by function name ("tanh") or update setting (lr, rate,
    kind), with the error: a training with them would only end the same way."""

    def __init__(self, activations: dict[str, Function], updates: dict[Any, Function],
                 lost: dict[Any, StudentCodeError] | None = None):
        self.activations = activations
        self.updates = updates
        self.lost = lost or {}

    def activation(self, name: str, z: np.ndarray, derivative: bool):
        """(output, derivative or None) for a layer's input z."""
        out = self.activations[name](z)
        if not derivative:
            return out, None
        der = self.activations[f"{name}_derivative"]
        if type(der) is FromOutput and der.output is self.activations[name]:
            return out, der.form(out)
        return out, der(z)

    def update(self, w, g, learning_rate, rate, kind):
        return self.updates[kind](w, g, learning_rate, rate, kind)


def probe(call_many: Callable[[list[tuple]], list[Any]], activations: Collection[str],
          settings: Collection[tuple[float, float, str | None]]) -> Guess:
    """The student's functions on probe inputs (the updates with each (learning rate,
    rate, kind) the training uses), each matched with the first candidate giving the
    same values everywhere (the first candidate when none does). A call each: a
    function that hangs then costs one call's time limit, not the batch's, and is
    named (Guess.lost)."""
    rng = np.random.default_rng(65)
    # Hidden-layer inputs of a training: mostly small, a few saturating.
    z = np.concatenate([rng.normal(0, 2, 1800), rng.uniform(-40, 40, 200)]).reshape(8, 25, 10)
    w, g = rng.normal(0, 0.5, 2000), rng.normal(0, 0.05, 2000)
    names = [n for a in sorted(activations) for n in (a, f"{a}_derivative")]
    settings = sorted({(float(lr), float(rate), kind) for lr, rate, kind in settings}, key=str)
    calls = [("activations", name, (z,)) for name in names]
    calls += [(*UPDATE, (w, g, *setting)) for setting in settings]
    outcomes = [call_many([c])[0] for c in calls]
    lost = {key: outcome for key, outcome in zip([*names, *settings], outcomes, strict=True)
            if isinstance(outcome, LOST_WORKER)}
    with np.errstate(all="ignore"):
        chosen = {name: _first(CANDIDATES[name], [(got, (z,))])
                  for name, got in zip(names, outcomes, strict=False)}
        answers = list(zip(settings, outcomes[len(names):], strict=True))
        updates = {kind: _first(UPDATES, [(got, (w, g, *setting))
                                          for setting, got in answers if setting[2] == kind])
                   for kind in {kind for _, _, kind in settings}}
    return Guess(chosen, updates, lost)


def _first(candidates: list[Function], answers: list[tuple[Any, tuple]]) -> Function:
    """The first candidate that gave every answer for its arguments."""
    for candidate in candidates:
        if all(same(got, candidate(*args)) for got, args in answers):
            return candidate
    return candidates[0]
