"""Train many configurations at once with a student's functions, in lockstep.

Each configuration trains in its own thread through the engine; whenever every
running training has reached its next component call, those calls go to the
worker together, in one round trip. A round trip costs far more than the
arithmetic of a step, so N configurations cost about the round trips of one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np


class Lockstep:
    """The meeting point of the trainings: collects calls, sends them together."""

    def __init__(self, call_many, participants: int) -> None:
        self._call_many = call_many  # SubmissionProxy.call_many
        self._cond = threading.Condition()
        self._active = participants
        self._waiting: list[dict[str, Any]] = []

    def submit(self, calls: list[tuple]) -> list[Any]:
        slot: dict[str, Any] = {"calls": calls, "outcomes": None}
        with self._cond:
            self._waiting.append(slot)
            self._maybe_send()
            while slot["outcomes"] is None:
                self._cond.wait()
        return slot["outcomes"]

    def leave(self) -> None:
        """A training finished (or failed): stop waiting for it."""
        with self._cond:
            self._active -= 1
            self._maybe_send()

    def _maybe_send(self) -> None:
        # Called with the lock held; the round trip happens under it, which is
        # fine: every other participant is waiting for it anyway.
        if not self._waiting or len(self._waiting) < self._active:
            return
        batch, self._waiting = self._waiting, []
        flat = [call for slot in batch for call in slot["calls"]]
        try:
            outcomes = self._call_many(flat)
        except BaseException as error:  # the grader's own failure: give it to everyone
            outcomes = [error] * len(flat)
        start = 0
        for slot in batch:
            slot["outcomes"] = outcomes[start:start + len(slot["calls"])]
            start += len(slot["calls"])
        self._cond.notify_all()


def _raise_first(outcomes: Sequence[Any]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


class StudentComponents:
    """The engine's Components, served by the student's functions via a Lockstep."""

    scalar_hyperparameters = True  # the contract's functions take plain numbers

    def __init__(self, lockstep: Lockstep) -> None:
        self._lockstep = lockstep

    def activation(self, name: str, z: np.ndarray, derivative: bool):
        calls = [("activations", name, (z,))]
        if derivative:
            calls.append(("activations", f"{name}_derivative", (z,)))
        outcomes = self._lockstep.submit(calls)
        _raise_first(outcomes)
        return outcomes[0], (outcomes[1] if derivative else None)

    def regularized_update(self, weights, gradients, learning_rate, rate, kind):
        calls = [("regularization", "regularized_update",
                  (w, g, float(learning_rate), float(rate), kind))
                 for w, g in zip(weights, gradients, strict=True)]
        outcomes = self._lockstep.submit(calls)
        _raise_first(outcomes)
        return list(outcomes)

    def minibatches(self, n_samples: int, batch_size: int):
        (outcome,) = self._lockstep.submit([("minibatch", "minibatches", (n_samples, batch_size))])
        _raise_first([outcome])
        if not isinstance(outcome, list):
            from grader.playground.engine import ComponentError

            raise ComponentError(f"minibatches returned a {type(outcome).__name__}, not a list")
        return outcome
