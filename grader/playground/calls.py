"""A training's calls to a student's functions, and digests of its results.

The engine asks for components (engine.Request); a student's functions are
called for them as defined here, whether the call crosses to the worker
(grader/experiments/lockstep.py) or the worker trains on its own and only
digests come back (grader/experiments/twin.py, worker/server.py). This file
therefore runs in the grader and, copied with the rest of grader.playground,
inside the student's worker: it imports only numpy, the standard library and
grader.playground.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import ComponentError, RunResult, Training, group_training

Call = tuple  # (module, function, args)


def activation_calls(name: str, z: np.ndarray, derivative: bool) -> list[Call]:
    """A layer's calls: the activation, and its derivative when asked."""
    return [("activations", name, (z,)), ("activations", f"{name}_derivative", (z,))
            ][:1 + derivative]


def update_call(weights, gradients, learning_rate, rate, kind) -> Call:
    """All layers in one call: the rule is elementwise, so one flat array of every
    weight gives the same numbers as a call per layer, for fewer bytes and calls."""
    return ("regularization", "regularized_update",
            (np.concatenate([w.ravel() for w in weights]),
             np.concatenate([g.ravel() for g in gradients]),
             float(learning_rate), float(rate), kind))


def minibatches_call(n_samples: int, batch_size: int) -> Call:
    return ("minibatch", "minibatches", (n_samples, batch_size))


def layers(flat: np.ndarray, weights) -> list[np.ndarray]:
    """update_call's answer cut back into the layers' shapes."""
    out, start = [], 0
    for w in weights:
        out.append(flat[start:start + w.size].reshape(w.shape))
        start += w.size
    return out


def float_array(value: Any, shape: tuple, function: str, note: str = "") -> np.ndarray:
    """A student's array as the engine trains on it, or ComponentError."""
    if type(value) is np.ndarray and value.shape == shape:
        if value.dtype == np.float64:
            return value
        if value.dtype.kind in "fiub":
            return value.astype(np.float64)
    got = getattr(value, "shape", type(value).__name__)
    raise ComponentError(f"{function} returned {got} for an input of shape {shape}{note}")


UPDATE_NOTE = " (every weight of the network, as one flat array)"


def batches_list(value: Any) -> list:
    if not isinstance(value, list):
        raise ComponentError(f"minibatches returned a {type(value).__name__}, not a list")
    return value


class Failed(Exception):
    """A student's function raised (inside the worker: the digest of its rows fails)."""


def answer_with(call: Callable[[str, str, tuple], Any]):
    """The engine's answers from a student's functions, `call(module, function, args)`
    (raising Failed), checked as lockstep checks what comes back from the worker."""

    def answer(method: str, args: tuple) -> Any:
        if method == "activation":
            name, z, derivative = args
            # A copy per call, as across the worker: a function that changes its
            # input in place must not change what the next call gets.
            got = [float_array(call(module, function, (z.copy(),)), z.shape, function)
                   for module, function, _ in activation_calls(name, z, derivative)]
            return got[0], got[1] if derivative else None
        if method == "regularized_update":
            module, function, call_args = update_call(*args)
            return layers(float_array(call(module, function, call_args), call_args[0].shape,
                                      function, UPDATE_NOTE), args[0])
        module, function, call_args = minibatches_call(*args)
        return batches_list(call(module, function, call_args))

    return answer


def train_with(training: Training, answer, n_runs: int) -> tuple[list[RunResult], set[int]]:
    """Run a group's training of n_runs with answer(method, args) for every request.
    A request that fails (Failed, ComponentError) is answered by the engine's
    reference instead, so that the other runs go on; the positions of its runs
    come back."""
    failed: set[int] = set()
    requests = next(training)
    while True:
        answers = []
        for method, args, rows in requests:
            try:
                value = answer(method, args)
            except (Failed, ComponentError):
                failed.update(range(n_runs)[rows] if isinstance(rows, slice)
                              else (int(r) for r in rows))
                value = getattr(PLAYGROUND, method)(*args)
            answers.append(value)
        try:
            requests = training.send(answers)
        except StopIteration as finished:
            return finished.value, failed


def digests(results: list[RunResult], labels: list[int], failed: set[int] = frozenset()
            ) -> dict[int, str | None]:
    """One digest per key (labels: the key of each run) of its runs' results, in
    order: curves, divergence, final weights and biases; None for a key with a run
    whose training hit a failure. Equal digests: the same numbers (-0.0 as 0.0)."""
    hashes: dict[int, Any] = {}
    for position, (label, result) in enumerate(zip(labels, results, strict=True)):
        h = hashes.setdefault(label, hashlib.blake2b(digest_size=16))
        if h is None or position in failed:
            hashes[label] = None
            continue
        h.update(str(result.diverged_at).encode())
        for array in (result.curve, *result.weights, *result.biases):
            h.update(str(array.shape).encode())
            h.update(np.add(array, 0.0, dtype=np.float64))
    return {label: None if h is None else h.hexdigest() for label, h in hashes.items()}


def digest_stacks(stacks: list[dict], eval_epochs: list[int] | None,
                  call: Callable[[str, str, tuple], Any]) -> list[dict[str, str | None]]:
    """The worker's side of a twin training (grader/experiments/twin.py): train each
    stack {"runs": [[config dict, seed], ...], "keys": [key of each run]} with the
    student's functions, `call`, and digest its results per key (as a string)."""
    answer = answer_with(call)
    out = []
    for stack in stacks:
        runs = [(TrainConfig.from_dict(config), seed) for config, seed in stack["runs"]]
        training = group_training(runs, vectorized_rates=False, eval_epochs=eval_epochs)
        try:
            results, failed = train_with(training, answer, len(runs))
        except ComponentError:  # the engine's own check refused an answer (the batches)
            out.append({})
            continue
        out.append({str(k): v for k, v in digests(results, stack["keys"], failed).items()})
    return out
