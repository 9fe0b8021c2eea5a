"""A training's calls to a student's functions, and the worker's trajectories.

The engine asks for components (engine.Request); a student's functions are
called for them as defined here, whether the call crosses to the worker
(grader/experiments/lockstep.py, verify.py) or the worker trains on its own
and reports its states (record_trajectory, run by worker/server.py). This file
therefore runs in the grader and, copied with the rest of grader.playground,
inside the student's worker: it imports only numpy, the standard library and
grader.playground.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import numpy as np

from grader.playground.binding import Binding
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import ComponentError
from grader.playground.problem import make_problem
from grader.playground.trajectories import trajectory_training

Call = tuple  # (module, function, args)


def activation_call(binding: Binding, part: str, name: str, z: np.ndarray) -> Call:
    """The call of a layer's activation (part "activation") or its derivative."""
    return (*binding.function(part, name), (z,))


def update_call(binding: Binding, weights, gradients, learning_rate, rate, kind) -> Call:
    """All layers in one call: the rule is elementwise, so one flat array of every
    weight gives the same numbers as a call per layer, for fewer bytes and calls."""
    return (*binding.function("regularized_update"),
            (_flat(weights), _flat(gradients), float(learning_rate), float(rate), kind))


def engine_steps(kind: str | None) -> bool:
    """Whether the engine takes the update step itself even when a student's functions
    train: without regularization it is the plain gradient step, w - lr * g. So the
    trainings of an exercise without regularization use no regularized_update, and
    their checks need none (its kind None case has function checks of its own)."""
    return kind is None


def _flat(arrays) -> np.ndarray:
    return arrays[0].ravel() if len(arrays) == 1 else np.concatenate([a.ravel() for a in arrays])


def minibatches_call(binding: Binding, n_samples: int, batch_size: int) -> Call:
    return (*binding.function("minibatches"), (n_samples, batch_size))


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


def batches_list(value: Any, function: str) -> list:
    if not isinstance(value, list):
        raise ComponentError(f"{function} returned a {type(value).__name__}, not a list")
    return value


class Failed(Exception):
    """A student's function raised (inside the worker: its rows' trajectories stop)."""


def answer_with(call: Callable[[str, str, tuple], Any], binding: Binding,
                reference: Collection[str] = ()):
    """The engine's answers from a student's functions, `call(module, function, args)`
    (raising Failed), checked as lockstep checks what comes back from the worker;
    the components named in `reference` (binding.COMPONENTS) and those the binding
    leaves out are the engine's own."""
    reference = frozenset(reference) | binding.unbound

    def answer(method: str, args: tuple) -> Any:
        if method == "activation":
            name, z, derivative = args
            if {"activation", "activation_derivative"} <= reference:
                return PLAYGROUND.activation(name, z, derivative)
            own_out, own_der = (PLAYGROUND.activation(name, z, derivative)
                                if reference else (None, None))
            # A copy per call, as across the worker: a function that changes its
            # input in place must not change what the next call gets.
            got = [own if part in reference else
                   float_array(call(*binding.function(part, name), (z.copy(),)), z.shape,
                               binding.function(part, name)[1])
                   for part, own in zip(("activation", "activation_derivative")[:1 + derivative],
                                        (own_out, own_der), strict=False)]
            return got[0], got[1] if derivative else None
        if method in reference or (method == "regularized_update" and engine_steps(args[4])):
            return getattr(PLAYGROUND, method)(*args)
        if method == "regularized_update":
            module, function, call_args = update_call(binding, *args)
            return layers(float_array(call(module, function, call_args), call_args[0].shape,
                                      function, UPDATE_NOTE), args[0])
        module, function, call_args = minibatches_call(binding, *args)
        return batches_list(call(module, function, call_args), function)

    return answer


def record_trajectory(spec: dict, call: Callable[[str, str, tuple], Any],
                      problems: dict | None = None) -> dict:
    """The worker's side of a verified training (grader/experiments/verify.py): train
    spec's runs, {"runs": [[config dict, seed], ...], "binding": Binding's table,
    "reference": [component, ...],
    "start": states or None, "first_epoch": e, "epochs": n}, with the student's
    functions, `call`, here, from boundary e for n epochs, and return every boundary's
    state, {"states": (n + 1, runs, size) array, "reached": [k per run]}: run r's
    states[:reached[r]] are its training's, a later one followed a failure of the
    student's function (the rows then went on with the engine's own answers, so that
    the other runs train on). {"states": None} when the batches were refused.
    problems: a cache of the runs' problems, kept between the blocks of a training."""
    runs = [(TrainConfig.from_dict(config), seed) for config, seed in spec["runs"]]
    reference = frozenset(spec.get("reference", ()))
    answer = answer_with(call, Binding.from_table(spec["binding"]), reference)
    epochs_done = [0]
    cache = {} if problems is None else problems
    if len(cache) > 4096:  # a few gradings' worth (about 40 kB each)
        cache.clear()
    made = [cache.get((repr(config), repr(seed))) for config, seed in runs]
    for r, (config, seed) in enumerate(runs):
        if made[r] is None:
            made[r] = cache[repr(config), repr(seed)] = make_problem(config, seed)
    epochs = int(spec["epochs"])
    training = trajectory_training(runs, start=spec.get("start"),
                                   first_epoch=int(spec.get("first_epoch", 0)), epochs=epochs,
                                   progress=lambda done: epochs_done.__setitem__(0, done),
                                   problems=made)
    reached = [epochs + 1] * len(runs)
    requests = next(training)
    while True:
        answers = []
        for method, args, rows in requests:
            try:
                value = answer(method, args)
            except (Failed, ComponentError):
                for r in range(len(runs))[rows] if isinstance(rows, slice) else rows:
                    reached[int(r)] = min(reached[int(r)], epochs_done[0] + 1)
                value = getattr(PLAYGROUND, method)(*args)
            answers.append(value)
        try:
            requests = training.send(answers)
        except StopIteration as finished:
            return {"states": finished.value, "reached": reached}
        except ComponentError:  # the engine's own check refused an answer (the batches)
            return {"states": None, "reached": [1] * len(runs)}
