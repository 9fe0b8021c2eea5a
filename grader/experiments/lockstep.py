"""Train many groups of runs at once with a student's functions, in lockstep.

Each group's training is a generator of component calls (engine.group_training).
Every step, the calls of all groups still training are translated into calls
of the student's functions and sent to the worker together, in one round trip:
a round trip costs far more than the arithmetic of a step, so N groups cost
about the round trips of one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from grader.playground import calls as student_calls
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import ComponentError, RunResult, group_training, stack_order
from grader.playground.rng import Seed
from grader.worker.errors import StudentCodeError

# What can be served by the reference instead of the student, to find a culprit.
COMPONENTS = ("activation", "activation_derivative", "regularized_update", "minibatches")

Calls = list[tuple]  # (module, function, args) for SubmissionProxy.call_many
Assemble = Callable[[list[Any]], Any]


def _raise_first(outcomes: Sequence[Any]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


class StudentCalls:
    """Turns the engine's component calls into calls of the student's functions,
    except the components named in `reference`, computed by the engine itself."""

    def __init__(self, reference: Collection[str] = ()) -> None:
        unknown = set(reference) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}")
        self.reference = frozenset(reference)

    def translate(self, method: str, args: tuple) -> tuple[Calls, Assemble]:
        """The calls for one component call, and how their outcomes make its answer
        (raising the student's error, or a ComponentError for an unusable value)."""
        return getattr(self, f"_{method}")(*args)

    @staticmethod
    def fallback(method: str, args: tuple) -> Any:
        """The reference's answer: what the other runs of a group train on after a
        student's function failed for some of them."""
        return getattr(PLAYGROUND, method)(*args)

    def _activation(self, name: str, z: np.ndarray, derivative: bool):
        mine = [part for part in ("activation", "activation_derivative")
                if part not in self.reference and (derivative or part == "activation")]
        both = student_calls.activation_calls(name, z, True)
        chosen = [both[part != "activation"] for part in mine]

        def assemble(outcomes):
            _raise_first(outcomes)
            got = {part: student_calls.float_array(value, z.shape, function)
                   for part, value, (_, function, _) in zip(mine, outcomes, chosen,
                                                             strict=True)}
            if len(got) < 1 + derivative:
                ref_out, ref_der = PLAYGROUND.activation(name, z, derivative)
                got.setdefault("activation", ref_out)
                got.setdefault("activation_derivative", ref_der)
            return got["activation"], got.get("activation_derivative")

        return chosen, assemble

    def _regularized_update(self, weights, gradients, learning_rate, rate, kind):
        if "regularized_update" in self.reference:
            result = PLAYGROUND.regularized_update(weights, gradients, learning_rate, rate, kind)
            return [], lambda outcomes: result
        call = student_calls.update_call(weights, gradients, learning_rate, rate, kind)

        def assemble(outcomes):
            _raise_first(outcomes)
            new = student_calls.float_array(outcomes[0], call[2][0].shape,
                                            "regularized_update", student_calls.UPDATE_NOTE)
            return student_calls.layers(new, weights)

        return [call], assemble

    def _minibatches(self, n_samples: int, batch_size: int):
        if "minibatches" in self.reference:
            result = PLAYGROUND.minibatches(n_samples, batch_size)
            return [], lambda outcomes: result

        def assemble(outcomes):
            _raise_first(outcomes)
            return student_calls.batches_list(outcomes[0])

        return [student_calls.minibatches_call(n_samples, batch_size)], assemble


class _Training:
    """One stacked group: runs of several keys that train in the same arrays."""

    def __init__(self, members: list[tuple[Hashable, int]], training, translator) -> None:
        self.members = members  # row -> (key, position among the key's runs)
        self.training = training
        self.translator = translator
        self.requests: list[tuple] = []
        self.all_keys = frozenset(key for key, _ in members)  # asked every step: once

    def keys(self, rows=slice(None)) -> frozenset[Hashable]:
        if isinstance(rows, slice) and rows == slice(None):
            return self.all_keys
        picked = self.members[rows] if isinstance(rows, slice) else [
            self.members[r] for r in rows]
        return frozenset(key for key, _ in picked)


def stack_runs(groups: Mapping[Hashable, Sequence[tuple[TrainConfig, Seed]]],
               reference: Mapping[Hashable, Collection[str]] | None = None,
               ) -> dict[tuple, list[tuple[Hashable, int]]]:
    """The runs that can train in the same arrays, as (key, position) lists, by
    (components served by the reference, TrainConfig.stack_key)."""
    stacks: dict[tuple, list[tuple[Hashable, int]]] = {}
    for key, runs in groups.items():
        parts = frozenset((reference or {}).get(key, ()))
        for position, (config, _) in enumerate(runs):
            stacks.setdefault((parts, config.stack_key()), []).append((key, position))
    return {stack: sorted(members, key=lambda m: stack_order(groups[m[0]][m[1]][0]))
            for stack, members in stacks.items()}


def train_in_lockstep(
    call_many: Callable[[Calls], list[Any]],
    groups: Mapping[Hashable, Sequence[tuple[TrainConfig, Seed]]],
    *,
    reference: Mapping[Hashable, Collection[str]] | None = None,
    eval_epochs: Collection[int] | None = None,
) -> dict[Hashable, list[RunResult] | BaseException]:
    """Train each key's runs with the student's functions, every key in lockstep;
    reference[key] names components served by the engine's reference for that
    key. Runs of all keys that can share arrays train together. A key whose
    training hit a student error (or a value the engine cannot use) gets that
    error instead of results; the others go on (the failed rows of a shared
    call get the reference's answer, so that their neighbours keep training).
    Updates are speculated (engine._Network), which changes nothing but the
    number of round trips; eval_epochs as for engine.group_training."""
    stacks = stack_runs(groups, reference)
    trainings = [
        _Training(members, group_training([groups[k][p] for k, p in members],
                                          vectorized_rates=False, speculate=True,
                                          eval_epochs=eval_epochs), StudentCalls(parts))
        for (parts, _), members in stacks.items()]
    done: dict[Hashable, list[RunResult | None] | BaseException] = {
        key: [None] * len(runs) for key, runs in groups.items()}
    active = [t for t in trainings if _advance(t, None, done)]
    while active:
        calls: Calls = []
        plans = []
        for t in active:
            for method, args, rows in t.requests:
                batch, assemble = t.translator.translate(method, args)
                plans.append((t, method, args, rows, len(calls), len(batch), assemble))
                calls += batch
        outcomes = call_many(calls) if calls else []
        answers: dict[int, list] = {id(t): [] for t in active}
        for t, method, args, rows, start, n, assemble in plans:
            try:
                answer = assemble(outcomes[start:start + n])
            except (StudentCodeError, ComponentError) as error:
                _fail(t.keys(rows), error, done)
                answer = t.translator.fallback(method, args)
            answers[id(t)].append(answer)
        active = [t for t in active if _advance(t, answers[id(t)], done)]
    return {key: value if isinstance(value, BaseException) else list(value)
            for key, value in done.items()}


def _fail(keys, error: BaseException, done) -> None:
    for key in keys:
        if not isinstance(done[key], BaseException):
            done[key] = error  # the first error of a key is the one reported


def _advance(t: _Training, answers: list | None, done) -> bool:
    """Send the answers; True while the training goes on and still matters."""
    if all(isinstance(done[key], BaseException) for key in t.all_keys):
        t.training.close()  # every key of it already failed
        return False
    try:
        t.requests = next(t.training) if answers is None else t.training.send(answers)
    except StopIteration as finished:
        for (key, position), result in zip(t.members, finished.value, strict=True):
            if not isinstance(done[key], BaseException):
                done[key][position] = result
        return False
    except ComponentError as error:  # the engine's own checks (e.g. of the batches)
        _fail(t.all_keys, error, done)
        return False
    return True
