"""Train with a student's functions twice at once, and keep what both agree on.

Lockstep (lockstep.py) waits for the student's answers at every step: the
batch-size-1 configuration alone is 125,000 round trips, one after another.
A twin training gets lockstep's results with both cores busy and almost no
round trips:

1. the student's functions are probed once and each is matched with a correct
   implementation that answers the probe with the same numbers (guesses.py);
2. the worker trains every run itself with the student's functions, exactly as
   lockstep would (the same engine, the same calls and checks of what they
   return: grader/playground/calls.py), and sends back one digest per key of
   its runs' results (curves, final weights);
3. meanwhile the grader trains the same runs with the matched implementations
   and digests its results the same way;
4. a key whose digests agree trained, with the student's functions, to exactly
   the grader's numbers: those are used. Every other key (other rounding, an
   error, a worker that died or timed out, a reply that is not digests) trains
   again in lockstep, where each answer crosses over.

Trust: a digest is the worker's word about what the student's functions led
to, exactly as much as a lockstep answer is its word about what a function
returned; the grader takes no number from the worker, only an agreement with
numbers it computed itself. Results agree up to the sign of zeros (-0.0 and
0.0 digest alike).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from grader.experiments import guesses
from grader.experiments.lockstep import stack_runs, train_in_lockstep
from grader.playground import calls
from grader.playground.components import PLAYGROUND
from grader.playground.config import TrainConfig
from grader.playground.engine import RunResult, group_training
from grader.playground.rng import Seed


def train_twinned(
    submission: Any,
    groups: Mapping[Hashable, Sequence[tuple[TrainConfig, Seed]]],
    *,
    eval_epochs: Collection[int] | None = None,
) -> dict[Hashable, list[RunResult] | BaseException]:
    """train_in_lockstep's results for these groups (every component the student's).
    submission: a SubmissionProxy (call_many, train_ahead)."""
    guess = probe(submission, groups)  # first: the worker is busy once training
    return TwinTraining(submission, groups, eval_epochs).results(submission, guess)


def probe(submission: Any, groups: Mapping[Hashable, Sequence[tuple[TrainConfig, Seed]]]
          ) -> guesses.Guess:
    """The guesses for the student's functions in these groups' trainings."""
    configs = [config for runs in groups.values() for config, _ in runs]
    return guesses.probe(submission.call_many, {c.activation for c in configs},
                         {(c.learning_rate, c.regularization_rate, c.regularization)
                          for c in configs})


class TwinTraining:
    """A twin training whose worker side starts now, in `worker_side` (a
    SubmissionProxy: the grader's own, or a sibling so that other checks can use
    the grader's meanwhile); results() does the grader's side and waits."""

    def __init__(self, worker_side: Any,
                 groups: Mapping[Hashable, Sequence[tuple[TrainConfig, Seed]]],
                 eval_epochs: Collection[int] | None = None) -> None:
        self.groups = groups
        self.eval_epochs = eval_epochs
        self.label = {key: i for i, key in enumerate(groups)}
        self.stacks = list(stack_runs(groups).values())
        self.spec = [{"runs": [[groups[k][p][0].to_dict(), groups[k][p][1]]
                               for k, p in members],
                      "keys": [self.label[k] for k, _ in members]} for members in self.stacks]
        self.pending = worker_side.train_ahead(
            self.spec, None if eval_epochs is None else sorted(eval_epochs))

    def results(self, submission: Any, guess: guesses.Guess | None = None
                ) -> dict[Hashable, list[RunResult] | BaseException]:
        """The grader's side: train with the guesses (probed through `submission`
        unless given: only when the worker side is another worker), compare digests,
        and retrain in lockstep, through `submission`, what disagrees."""
        groups = self.groups
        try:
            if guess is None:
                guess = probe(submission, groups)
            done: dict[Hashable, Any] = {key: [None] * len(runs) for key, runs in groups.items()}
            mine = []
            answer = _answer_with(guess)
            with np.errstate(all="ignore"):  # as in the engine: divergence is detected
                for members, stack in zip(self.stacks, self.spec, strict=True):
                    training = group_training([groups[k][p] for k, p in members],
                                              vectorized_rates=False,
                                              eval_epochs=self.eval_epochs)
                    results, _ = calls.train_with(training, answer, len(members))
                    mine.append(calls.digests(results, stack["keys"]))
                    for (key, position), result in zip(members, results, strict=True):
                        done[key][position] = result
        finally:
            theirs = self.pending.result()  # also after an error: the worker must not be busy
        agreed = _agreed(mine, theirs)
        again = {key: runs for key, runs in groups.items() if self.label[key] not in agreed}
        if again:
            done.update(train_in_lockstep(submission.call_many, again,
                                          eval_epochs=self.eval_epochs))
        return done


def _answer_with(guess: guesses.Guess):
    """The engine's answers from the guess (as calls.answer_with from the student's)."""

    def answer(method: str, args: tuple) -> Any:
        if method == "activation":
            return guess.activation(*args)
        if method == "regularized_update":
            _, _, call_args = calls.update_call(*args)
            return calls.layers(guess.update(*call_args), args[0])
        return PLAYGROUND.minibatches(*args)

    return answer


def _agreed(mine: list[dict[int, str | None]], theirs: object) -> set[int]:
    """The keys whose digest the worker sent is the grader's (theirs is untrusted data:
    anything malformed agrees on nothing)."""
    if type(theirs) is not list or len(theirs) != len(mine):
        return set()
    agreed: set[int] = set()
    for ours, reply in zip(mine, theirs, strict=True):
        if type(reply) is not dict:
            continue
        agreed |= {key for key, digest in ours.items()
                   if digest is not None and reply.get(str(key)) == digest}
    return agreed - {key for ours in mine for key, d in ours.items() if d is None}
