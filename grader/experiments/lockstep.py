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
from grader.playground.binding import COMPONENTS, Binding
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import ComponentError, RunResult, group_training, stack_order
from grader.playground.rng import Seed
from grader.worker.errors import StudentCodeError

Calls = list[tuple]  # (module, function, args) for SubmissionProxy.call_many
Assemble = Callable[[list[Any]], Any]


def _raise_first(outcomes: Sequence[Any]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


class StudentCalls:
    """Turns the engine's component calls into calls of the student's functions bound
    to them, except the components named in `reference` and those the binding leaves
    out, computed by the engine itself."""

    def __init__(self, binding: Binding, reference: Collection[str] = ()) -> None:
        unknown = set(reference) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}")
        self.binding = binding
        self.reference = frozenset(reference) | binding.unbound

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
        chosen = [student_calls.activation_call(self.binding, part, name, z) for part in mine]

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
        if "regularized_update" in self.reference or student_calls.engine_steps(kind):
            result = PLAYGROUND.regularized_update(weights, gradients, learning_rate, rate, kind)
            return [], lambda outcomes: result
        call = student_calls.update_call(self.binding, weights, gradients, learning_rate, rate,
                                         kind)

        def assemble(outcomes):
            _raise_first(outcomes)
            new = student_calls.float_array(outcomes[0], call[2][0].shape,
                                            call[1], student_calls.UPDATE_NOTE)
            return student_calls.layers(new, weights)

        return [call], assemble

    def _minibatches(self, n_samples: int, batch_size: int):
        if "minibatches" in self.reference:
            result = PLAYGROUND.minibatches(n_samples, batch_size)
            return [], lambda outcomes: result

        call = student_calls.minibatches_call(self.binding, n_samples, batch_size)

        def assemble(outcomes):
            _raise_first(outcomes)
            return student_calls.batches_list(outcomes[0], call[1])

        return [call], assemble


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
    binding: Binding,
    reference: Mapping[Hashable, Collection[str]] | None = None,
    eval_epochs: Collection[int] | None = None,
) -> dict[Hashable, list[RunResult] | BaseException]:
    """Train each key's runs with the student's functions (as bound), every key in lockstep;
    reference[key] names components served by the engine's reference for that
    key. Runs of all keys that can share arrays train together. A key whose
    training hit a student error (or a value the engine cannot use) gets that
    error instead of results; the others go on (the failed rows of a shared
    call get the reference's answer, so that their neighbours keep training).
    Updates are speculated (engine._Network), which changes nothing but the
    number of round trips; eval_epochs as for engine.group_training."""
    stacks = stack_runs(groups, reference)
    members = list(stacks.values())
    served = serve_together(call_many, [
        (group_training([groups[k][p] for k, p in rows], vectorized_rates=False,
                        speculate=True, eval_epochs=eval_epochs), len(rows),
         StudentCalls(binding, parts))
        for (parts, _), rows in stacks.items()])
    done: dict[Hashable, list[RunResult | None] | BaseException] = {
        key: [None] * len(runs) for key, runs in groups.items()}
    for rows, (results, errors) in zip(members, served, strict=True):
        for row in sorted(errors):  # the first error of a key is the one reported
            key = rows[row][0]
            if not isinstance(done[key], BaseException):
                done[key] = errors[row]
        for (key, position), result in zip(rows, results or [], strict=True):
            if not isinstance(done[key], BaseException):
                done[key][position] = result
    return {key: value if isinstance(value, BaseException) else list(value)
            for key, value in done.items()}


def serve_together(call_many: Callable[[Calls], list[Any]],
                   trainings: Sequence[tuple[Any, int, StudentCalls]]
                   ) -> list[tuple[Any, dict[int, BaseException]]]:
    """Drive engine trainings (generator, its number of rows, its translator) at once:
    each round, the calls of every training still going cross in one round trip.
    Returns per training (its value, or None when it stopped on an error of its
    own, such as refused batches; {row: the first error of that row}). A row whose
    call failed gets the reference's answer, so that the rest of its training goes on."""
    values: list[Any] = [None] * len(trainings)
    errors: list[dict[int, BaseException]] = [{} for _ in trainings]
    requests: dict[int, list] = {}

    def advance(i: int, answers: list | None) -> None:
        training, n_rows, _ = trainings[i]
        try:
            requests[i] = next(training) if answers is None else training.send(answers)
        except StopIteration as finished:
            values[i] = finished.value
            requests.pop(i, None)
        except ComponentError as error:  # the engine's own checks (e.g. of the batches)
            for row in range(n_rows):
                errors[i].setdefault(row, error)
            requests.pop(i, None)

    # Interleaved generators would undo each other's errstate: one for all of them
    # (the engine detects divergence, it does not warn about it).
    with np.errstate(all="ignore"):
        for i in range(len(trainings)):
            advance(i, None)
        while requests:
            calls: Calls = []
            plans = []
            for i, asked in requests.items():
                for method, args, rows in asked:
                    batch, assemble = trainings[i][2].translate(method, args)
                    plans.append((i, method, args, rows, len(calls), len(batch), assemble))
                    calls += batch
            outcomes = call_many(calls) if calls else []
            answers: dict[int, list] = {i: [] for i in requests}
            for i, method, args, rows, start, n, assemble in plans:
                try:
                    answer = assemble(outcomes[start:start + n])
                except (StudentCodeError, ComponentError) as error:
                    every = range(trainings[i][1])
                    for row in every[rows] if isinstance(rows, slice) else rows:
                        errors[i].setdefault(int(row), error)
                    answer = StudentCalls.fallback(method, args)
                answers[i].append(answer)
            for i in list(requests):
                advance(i, answers[i])
    return list(zip(values, errors, strict=True))
